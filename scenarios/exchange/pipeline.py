"""The pilot pipeline's figures and its chart: pure functions over plain rows, no Django import.

Every public figure about pilots is computed here, from the rows ``pilot_selectors.pipeline_rows`` reads
(published pilots only: a verified opening; only verified stage changes): the page, the API and the
downloads all show what :func:`pipeline_figures` returns, and the tests recompute it independently.

The figures are counts over published pilots — no figure names a pilot's organisations, and a pilot whose
opening is not verified is in none of them:

- ``by_stage``: pilots by the stage they verifiably reached (``stopped`` for a verified stop);
- ``by_direction``, ``by_setting``, ``by_region``: the same counts split by the demand's catalog directions
  (a pilot counts once in each direction of its scenario), its setting and the pilot's region;
- ``over_time``: pilots reaching each stage in each period (year or quarter), every period from the first
  to the last, empty ones included;
- ``durations``: for each stage after the opening, how many pilots reached it and the median number of
  days they took from the opening (the verified dates).

The chart (:func:`columns_chart`) is drawn as the product's other charts are (``foresight.priorities.charts``):
server-rendered SVG attributes as short strings, classes for the stylesheet, no inline style or script,
and a table with the same numbers next to it (the template's job).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from foresight import numbers

STAGES = ("opened", "pilot", "demonstration", "scaling", "mainstream", "stopped")
ON_THE_WAY = STAGES[:-1]  # the order a pilot moves in; "stopped" ends it anywhere
PERIODS = ("year", "quarter")


@dataclass(frozen=True)
class PilotFacts:
    """One published pilot as the pipeline reads it."""

    code: str
    verified_stage: str
    setting: str
    region: str
    directions: tuple[str, ...]
    # The verified date of each stage it reached (the earliest verified change of that stage).
    reached: Mapping[str, dt.date] = field(default_factory=dict)


def period_of(day: dt.date, period: str) -> str:
    """``2027`` for a year, ``2027-Q3`` for a quarter."""
    if period == "year":
        return f"{day.year}"
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _periods_between(first: dt.date, last: dt.date, period: str) -> list[str]:
    """Every period from the one of ``first`` to the one of ``last``, both included."""
    if period == "year":
        return [f"{year}" for year in range(first.year, last.year + 1)]
    start, end = first.year * 4 + (first.month - 1) // 3, last.year * 4 + (last.month - 1) // 3
    return [f"{i // 4}-Q{i % 4 + 1}" for i in range(start, end + 1)]


def _counts(pilots: Sequence[PilotFacts]) -> dict[str, int]:
    counts = dict.fromkeys(STAGES, 0)
    for p in pilots:
        counts[p.verified_stage] += 1
    return counts


def _split(pilots: Sequence[PilotFacts], keys: Any) -> list[dict[str, Any]]:
    groups: dict[str, list[PilotFacts]] = {}
    for p in pilots:
        for key in keys(p):
            groups.setdefault(key, []).append(p)
    return [
        {"key": key, "total": len(members), "stages": _counts(members)}
        for key, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]


def _median(values: Sequence[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def pipeline_figures(pilots: Sequence[PilotFacts], *, period: str = "year") -> dict[str, Any]:
    """Every public figure of the pipeline (see the module's docstring), as plain data."""
    if period not in PERIODS:
        raise ValueError(f"unknown period: {period}")
    dates = [d for p in pilots for d in p.reached.values()]
    over_time: list[dict[str, Any]] = []
    if dates:
        rows = {key: dict.fromkeys(STAGES, 0) for key in _periods_between(min(dates), max(dates), period)}
        for p in pilots:
            for stage, day in p.reached.items():
                rows[period_of(day, period)][stage] += 1
        over_time = [{"period": key, "stages": counts} for key, counts in rows.items()]
    durations = []
    for stage in STAGES[1:]:
        days = [
            (p.reached[stage] - p.reached["opened"]).days
            for p in pilots
            if stage in p.reached and "opened" in p.reached
        ]
        durations.append({"stage": stage, "count": len(days), "median_days": _median(days)})
    return {
        "total": len(pilots),
        "by_stage": _counts(pilots),
        "by_direction": _split(pilots, lambda p: p.directions),
        "by_setting": _split(pilots, lambda p: (p.setting,) if p.setting else ()),
        "by_region": _split(pilots, lambda p: (p.region,) if p.region else ()),
        "period": period,
        "over_time": over_time,
        "durations": durations,
    }


# --- The chart --------------------------------------------------------------------------------------------------


def num(value: float) -> str:
    """An SVG coordinate: at most two decimals, no trailing zeros, never ``-0``."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _tick_step(top: int) -> int:
    """1, 2 or 5 × 10^k: at most five steps up to ``top``."""
    if top <= 5:
        return 1
    power = 10 ** math.floor(math.log10(top / 5))
    for factor in (1, 2, 5, 10):
        if factor * power * 5 >= top:
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


def columns_chart(
    rows: Sequence[Mapping[str, Any]],
    *,
    series: Sequence[tuple[str, str]],
    width: float = 640,
    height: float = 260,
) -> dict[str, Any]:
    """Grouped columns: one group per row (``row["period"]``), one column per series (``(stage, label)``),
    the height of ``row["stages"][stage]``. Each column has a class of its series (``series-<stage>``, a
    fill and a hatch of its own in the stylesheet) and a title with its label and number; the legend repeats
    the classes. Labels are passed in translated."""
    left, right, top, bottom = 40.0, 8.0, 10.0, 40.0
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((int(r["stages"].get(s, 0)) for r in rows for s, _label in series), default=0)
    step = _tick_step(max(peak, 1))
    ceiling = max(step, math.ceil(max(peak, 1) / step) * step)
    group_w = plot_w / max(len(rows), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    groups = []
    for i, row in enumerate(rows):
        x0 = left + group_w * i + group_w * 0.1
        bars = []
        for j, (stage, label) in enumerate(series):
            value = int(row["stages"].get(stage, 0))
            h = plot_h * value / ceiling
            bars.append(
                {
                    "x": num(x0 + bar_w * j),
                    "y": num(top + plot_h - h),
                    "width": num(max(bar_w - 1, 1)),
                    "height": num(h),
                    "css": f"series-{stage}",
                    "title": f"{row['period']} · {label}: {value}",
                }
            )
        groups.append({"label": row["period"], "label_x": num(left + group_w * (i + 0.5)), "bars": bars})
    ticks = [
        {
            "y": num(top + plot_h - plot_h * t / ceiling),
            "label_y": num(top + plot_h - plot_h * t / ceiling + 4),
            "label": numbers.plain(t),
        }
        for t in range(0, ceiling + 1, step)
    ]
    return {
        "view_box": f"0 0 {num(width)} {num(height)}",
        "plot_left": num(left),
        "plot_right": num(left + plot_w),
        "plot_bottom": num(top + plot_h),
        "label_y": num(top + plot_h + 16),
        "tick_x": num(left - 6),
        "y_ticks": ticks,
        "groups": groups,
        "legend": [
            {
                "css": f"series-{stage}",
                "label": label,
                "x": num(left + 100 * k),
                "text_x": num(left + 100 * k + 14),
                "y": num(height - 14),
                "text_y": num(height - 4),
            }
            for k, (stage, label) in enumerate(series)
        ],
    }
