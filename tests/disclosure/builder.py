"""Stored group figures of one scale index item, built from a list of respondents as aggregation writes them.

A respondent is ``(level, sector, value)``: expertise level (``high``/``medium``/``low``, ``none``
for no expertise answer), stakeholder sector, answer 1..5.  Every float is rounded with
``round(x, 10)`` as aggregation stores it.  Uses ``foresight.stats`` for the figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from foresight import stats

VALUES = (1, 2, 3, 4, 5)
LEVELS = ("high", "medium", "low", "none")
DEFAULT_WEIGHTS = {"high": 1.0, "medium": 0.6, "low": 0.3}

Respondent = tuple[str, str, int]


def _r(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 10)
    if isinstance(value, dict):
        return {k: _r(v) for k, v in value.items()}
    return value


def weight_of(level: str, weights: Mapping[str, float]) -> float:
    """A respondent without an expertise answer (or of a level without a weight) weighs like "medium"."""
    return float(weights[level] if level in weights else weights["medium"])


def scale_figures(values: Sequence[int]) -> dict[str, Any]:
    """The figures of one group's answers (what ``tally_figures`` stores for a 5-point index item)."""
    counts = Counter(float(v) for v in values)
    table = stats.Frequencies(counts)
    figures: dict[str, Any] = dict(table.describe())
    figures["distribution"] = {str(c): counts.get(float(c), 0) for c in VALUES}
    figures["top2"] = table.share_between(4, 5)
    figures["bottom2"] = table.share_between(1, 2)
    figures["rwg"] = table.rwg(5)
    figures["index"] = stats.scale_index_counts({(v, 1.0): c for v, c in counts.items()}, low=1, high=5)
    if figures["n"]:
        figures["consensus"] = bool(
            figures["iqr"] is not None
            and figures["iqr"] <= 1.0
            and figures["top2"] >= 0.7
            and figures["bottom2"] < 0.15
        )
    return figures


def item_groups(
    panel: Sequence[Respondent],
    *,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    n_cant_judge: int = 0,
    stability: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """``groups`` for ``release_item``: ``all`` (with ``levels`` and ``index_weighted``), ``high``, ``sector:<name>``."""
    values = [v for _, _, v in panel]
    whole = scale_figures(values)
    whole["n_cant_judge"] = n_cant_judge
    pairs = Counter((float(v), weight_of(level, weights)) for level, _, v in panel)
    whole["index_weighted"] = stats.scale_index_counts(pairs, low=1, high=5)
    whole["levels"] = {level: sum(1 for lv, _, _ in panel if lv == level) for level in LEVELS}
    whole["cells"] = {f"{lv}|{s}": n for (lv, s), n in sorted(Counter((lv, s) for lv, s, _ in panel).items())}
    if stability is not None:
        whole["stability"] = dict(stability)
    groups = {"all": whole, "high": scale_figures([v for lv, _, v in panel if lv == "high"])}
    for sector in sorted({s for _, s, _ in panel}):
        groups["sector:" + sector] = scale_figures([v for _, s, v in panel if s == sector])
    return {name: _r(figures) for name, figures in groups.items()}


def level_sizes(panel: Sequence[Respondent]) -> dict[str, int]:
    return {level: sum(1 for lv, _, _ in panel if lv == level) for level in LEVELS}


def sector_sizes(panel: Sequence[Respondent], sectors: Sequence[str]) -> dict[str, int]:
    return {s: sum(1 for _, sec, _ in panel if sec == s) for s in sectors}


def cell_sizes(panel: Sequence[Respondent]) -> dict[tuple[str, str], int]:
    return dict(Counter((lv, s) for lv, s, _ in panel))


def true_sum(
    panel: Sequence[Respondent], *, levels: Sequence[str] = LEVELS, sectors: Sequence[str] | None = None
) -> tuple[int, int]:
    """(size, value sum) of the respondents of the given levels (and sectors)."""
    chosen = [v for lv, s, v in panel if lv in levels and (sectors is None or s in sectors)]
    return len(chosen), sum(chosen)


def release_everything(groups: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """What a product without disclosure control would publish: every figure of every group."""
    whole = groups["all"]
    high = groups.get("high") or {}
    keys = ("distribution", "mean", "sd", "median", "q1", "q3", "iqr", "top2", "bottom2", "rwg", "consensus", "index")
    out: dict[str, Any] = {"n": whole["n"], "n_cant_judge": whole.get("n_cant_judge", 0)}
    out.update({key: whole.get(key) for key in keys if key in whole})
    out["index_weighted"] = whole.get("index_weighted")
    out["n_high"] = high.get("n") or None
    out["index_high"] = high.get("index") if high.get("n") else None
    out["sectors"] = {
        name.split(":", 1)[1]: {"n": g["n"], "index": g["index"]}
        for name, g in groups.items()
        if name.startswith("sector:")
    }
    out["suppressed"] = {}
    return out
