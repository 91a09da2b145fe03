"""Chart geometry for the public edition and topic pages: pure functions, no Django import.

The site draws its charts as server-rendered inline ``<svg>``: the Content-Security-Policy forbids
inline script and inline ``style`` attributes, so every chart is plain SVG attributes (``x``,
``y``, ``d``, ``transform``, ``class``) that the templates print as they come from here.  All
coordinates are returned as short strings, so no template locale can reformat a number.

Every chart must be readable without colour: tiers and radar statuses each have their own symbol
(shape, not only fill), points carry a text label, and each chart is shown next to a table with
the same numbers (the templates' job).  Labels are passed in already translated; figures in
titles and labels are printed by ``foresight.numbers`` (``display``), axis ticks by ``numbers.plain``;
positions keep full precision.

Matrix labels never overlap (``place_labels``): each point's label (its rank) is tried at eight
positions around its symbol — right, left, above, below, then the four diagonals — in the order
the points are given (rank order), and takes the first position whose box stays inside the plot
and touches no label placed before it, no other point's symbol and no quadrant name.  Box sizes are
estimated from the text (``text_width``: 0.65 em per character, 1 em per CJK character, at the font
size the stylesheet gives the label, ``LABEL_FONT``), and the chart's viewBox scales text and
positions alike, so what does not overlap here does not overlap at phone width either.  A point
with no free position is drawn without a number and listed in ``crowded``, grouped by the nearest
labelled point, for the template to print under the chart ("Also at point 3: …").  The same inputs
always give the same placement.

Used by ``selectors.pages`` (the edition page: matrix, rank intervals, radar), ``selectors.workbench``
(the staff run's matrices) and ``selectors.editions.topic_history`` (a topic across editions and rounds).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from foresight import numbers

# Inner → outer ring of the radar; also the order of tiers everywhere.
TIERS = ("priority", "key", "watch")
STATUSES = ("new", "moved_in", "moved_out", "unchanged")
# Outer radius fractions of the radar rings (priority, key, watch): the inner ring gets the most room.
RING_BOUNDS = (0.45, 0.75, 1.0)
SYMBOL_SIZE = 6.0


def num(value: float) -> str:
    """An SVG coordinate: at most two decimals, no trailing zeros, never ``-0``."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def scale(domain: tuple[float, float], out: tuple[float, float]) -> Callable[[float], float]:
    """A linear map from ``domain`` onto ``out`` (a degenerate domain maps to the middle)."""
    d0, d1 = domain
    r0, r1 = out
    if d1 == d0:
        return lambda v: (r0 + r1) / 2
    ratio = (r1 - r0) / (d1 - d0)
    return lambda v: r0 + (v - d0) * ratio


def nice_step(span: float, max_ticks: int = 6, *, integer: bool = False) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k (no 2.5 for integers) giving at most ``max_ticks`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / max(1, max_ticks - 1)
    power = 10 ** math.floor(math.log10(raw))
    factors = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    for factor in factors:
        if factor * power >= raw:
            return float(factor * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def nice_ticks(low: float, high: float, *, max_ticks: int = 6, integer: bool = False) -> list[float]:
    """Round tick values from ``low`` to ``high`` inclusive of both ends' nearest ticks inside."""
    step = nice_step(high - low, max_ticks, integer=integer)
    if integer:
        step = max(1.0, float(round(step)))
    first = math.ceil(low / step - 1e-9) * step
    ticks: list[float] = []
    value = first
    while value <= high + 1e-9:
        ticks.append(round(value, 10))
        value += step
    if integer and ticks and ticks[0] > low:
        ticks.insert(0, float(low))
    return ticks


# ---------------------------------------------------------------------------
# Symbols
# ---------------------------------------------------------------------------


def _circle(cx: float, cy: float, r: float) -> str:
    return f"M{num(cx - r)} {num(cy)}a{num(r)} {num(r)} 0 1 0 {num(2 * r)} 0a{num(r)} {num(r)} 0 1 0 {num(-2 * r)} 0Z"


def _polygon(points: Sequence[tuple[float, float]]) -> str:
    head, *rest = points
    return f"M{num(head[0])} {num(head[1])}" + "".join(f"L{num(x)} {num(y)}" for x, y in rest) + "Z"


def symbol_extent(tier: str, r: float = SYMBOL_SIZE) -> float:
    """Half the width (and height) of a tier symbol of size ``r`` (``tier_symbol``)."""
    return r * 1.25 if tier == "priority" else r * 0.85 if tier == "key" else r


def tier_symbol(tier: str, cx: float, cy: float, r: float = SYMBOL_SIZE) -> str:
    """Path of a tier's symbol: priority a diamond, key a square, watch a circle (drawn hollow by CSS)."""
    if tier == "priority":
        s = r * 1.25
        return _polygon([(cx, cy - s), (cx + s, cy), (cx, cy + s), (cx - s, cy)])
    if tier == "key":
        s = r * 0.85
        return _polygon([(cx - s, cy - s), (cx + s, cy - s), (cx + s, cy + s), (cx - s, cy + s)])
    return _circle(cx, cy, r)


def _star(cx: float, cy: float, r: float) -> str:
    points = []
    for i in range(10):
        radius = r * 1.3 if i % 2 == 0 else r * 0.55
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return _polygon(points)


def status_symbol(status: str, cx: float, cy: float, *, towards_centre: float, r: float = SYMBOL_SIZE) -> str:
    """Path of a radar status symbol at (cx, cy).

    new: a star; moved in: a triangle pointing to the radar's centre; moved out: a triangle pointing
    away from it; unchanged: a circle.  ``towards_centre`` is the angle (radians, SVG axes) from the
    blip to the centre.
    """
    if status == "new":
        return _star(cx, cy, r)
    if status in ("moved_in", "moved_out"):
        angle = towards_centre if status == "moved_in" else towards_centre + math.pi
        ux, uy = math.cos(angle), math.sin(angle)
        px, py = -uy, ux
        apex = (cx + ux * r * 1.35, cy + uy * r * 1.35)
        base = (cx - ux * r * 0.8, cy - uy * r * 0.8)
        return _polygon(
            [
                apex,
                (base[0] + px * r * 1.05, base[1] + py * r * 1.05),
                (base[0] - px * r * 1.05, base[1] - py * r * 1.05),
            ]
        )
    return _circle(cx, cy, r)


def symbol_legend(kind: str, labels: Mapping[str, str], *, size: float = 22) -> list[dict[str, str]]:
    """Legend swatches: a small viewBox with the symbol of each tier (``kind="tier"``) or status."""
    keys = TIERS if kind == "tier" else STATUSES
    out = []
    for key in keys:
        c = size / 2
        if kind == "tier":
            d = tier_symbol(key, c, c)
        else:
            d = status_symbol(key, c, c, towards_centre=math.pi / 2)  # "in" points down, like the page's centre
        out.append({"key": key, "d": d, "label": labels.get(key, key), "view_box": f"0 0 {num(size)} {num(size)}"})
    return out


# ---------------------------------------------------------------------------
# Label placement
# ---------------------------------------------------------------------------

LABEL_FONT = 10.0  # font size of ``.point-label`` in static/css/editions.css (user units of the viewBox)
QUADRANT_FONT = 12.0  # ``.quadrant-label``
# Measured in Chromium at 390 px: a digit of the site's sans-serif is 0.636 em wide and a line box spans
# 0.93 em above the baseline and 0.27 em below; browsers snap boxes to whole pixels, hence the margins.
CHAR_EM = 0.65  # width of a Latin character or digit, in em
WIDE_CHAR_EM = 1.0  # a CJK character
ASCENT, DESCENT = 0.95, 0.3  # of a line of text around its baseline, in em
LABEL_GAP = 2.0  # between a symbol's edge and its label
LABEL_PAD = 1.0  # kept free around every label


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in chart coordinates (y down)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def intersects(self, other: Box) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1

    def within(self, other: Box) -> bool:
        return self.x0 >= other.x0 and self.y0 >= other.y0 and self.x1 <= other.x1 and self.y1 <= other.y1


def text_width(text: str, font_size: float) -> float:
    """Estimated width of ``text`` at ``font_size``: CJK characters 1 em, others ``CHAR_EM``."""
    ems = sum(WIDE_CHAR_EM if unicodedata.east_asian_width(ch) in ("W", "F") else CHAR_EM for ch in text)
    return ems * font_size


def text_box(text: str, x: float, y: float, *, anchor: str, font_size: float, pad: float = LABEL_PAD) -> Box:
    """The box of ``text`` drawn at (x, baseline y) with SVG ``text-anchor`` ``anchor``, padded by ``pad``."""
    width = text_width(text, font_size)
    x0 = x if anchor == "start" else x - width if anchor == "end" else x - width / 2
    return Box(x0 - pad, y - ASCENT * font_size - pad, x0 + width + pad, y + DESCENT * font_size + pad)


@dataclass(frozen=True)
class LabelSpot:
    """Where a point's label goes: the text's anchor point and ``text-anchor``."""

    x: float
    y: float
    anchor: str
    box: Box


def _candidates(cx: float, cy: float, extent: float, font_size: float) -> list[tuple[float, float, str]]:
    """(x, baseline y, text-anchor) around a symbol: right, left, above, below, then the diagonals."""
    side = extent + LABEL_GAP
    diagonal = extent * 0.75 + LABEL_GAP
    middle = cy + (ASCENT - DESCENT) / 2 * font_size  # baseline that centres the text on the point
    above = cy - side - DESCENT * font_size
    below = cy + side + ASCENT * font_size
    return [
        (cx + side, middle, "start"),
        (cx - side, middle, "end"),
        (cx, above, "middle"),
        (cx, below, "middle"),
        (cx + diagonal, cy - diagonal - DESCENT * font_size, "start"),
        (cx + diagonal, cy + diagonal + ASCENT * font_size, "start"),
        (cx - diagonal, cy - diagonal - DESCENT * font_size, "end"),
        (cx - diagonal, cy + diagonal + ASCENT * font_size, "end"),
    ]


def place_labels(
    points: Sequence[tuple[float, float, float, str]],
    *,
    bounds: Box,
    font_size: float = LABEL_FONT,
    obstacles: Sequence[Box] = (),
) -> list[LabelSpot | None]:
    """A label position for each point ``(cx, cy, symbol half-extent, text)``, in the order given.

    Each label takes the first candidate (``_candidates``) whose box lies within ``bounds`` and meets
    no label placed before it, no other point's symbol and none of ``obstacles``; ``None`` when no
    candidate is free (or the text is empty).  Deterministic: the same points give the same spots.
    """
    symbols = [Box(cx - e - 1, cy - e - 1, cx + e + 1, cy + e + 1) for cx, cy, e, _ in points]
    taken: list[Box] = list(obstacles)
    spots: list[LabelSpot | None] = []
    for i, (cx, cy, extent, text) in enumerate(points):
        spot = None
        if text:
            for x, y, anchor in _candidates(cx, cy, extent, font_size):
                box = text_box(text, x, y, anchor=anchor, font_size=font_size)
                if not box.within(bounds) or any(box.intersects(b) for b in taken):
                    continue
                if any(box.intersects(b) for j, b in enumerate(symbols) if j != i):
                    continue
                spot = LabelSpot(x=x, y=y, anchor=anchor, box=box)
                taken.append(box)
                break
        spots.append(spot)
    return spots


def crowded_groups(
    points: Sequence[tuple[float, float]], spots: Sequence[LabelSpot | None], labels: Sequence[str]
) -> list[tuple[int | None, list[int]]]:
    """The unlabelled points (indices), grouped by the nearest labelled point (its index; ``None`` if
    there is none), groups in the order of that point, members in the order given."""
    labelled = [i for i, spot in enumerate(spots) if spot is not None]
    groups: dict[int | None, list[int]] = {}
    for i, spot in enumerate(spots):
        if spot is not None or not labels[i]:
            continue
        x, y = points[i]
        near = min(labelled, key=lambda j: (math.dist((x, y), points[j]), j), default=None)
        groups.setdefault(near, []).append(i)
    return sorted(groups.items(), key=lambda item: (item[0] is None, item[0] or 0))


# ---------------------------------------------------------------------------
# Importance × competitiveness matrix
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MatrixPoint:
    key: str
    label: str  # short text beside the symbol (the rank)
    title: str  # tooltip
    x: float | None  # competitiveness index 0–100
    y: float | None  # importance index 0–100
    tier: str


QUADRANTS = (
    # key, corner (x side, y side): strengthen = important and weak, i.e. top left.
    ("strengthen", "left", "top"),
    ("lead_maintain", "right", "top"),
    ("watch", "right", "bottom"),
    ("deprioritise", "left", "bottom"),
)


def matrix_chart(
    points: Sequence[MatrixPoint],
    *,
    x_cut: float,
    y_cut: float,
    labels: Mapping[str, str],
    x_domain: tuple[float, float] = (0.0, 100.0),
    x_ticks: Sequence[float] | None = None,
    quadrants: Sequence[tuple[str, str, str]] = QUADRANTS,
    width: float = 520,
    height: float = 460,
) -> dict[str, Any]:
    """Geometry of an importance (y, index 0–100) matrix: every matrix of the site (the public
    importance × competitiveness matrix, the workbench's two matrices) is drawn from here.

    ``x_domain``: the x axis (default an index, 0–100; the workbench's timing matrix passes years),
    values outside it are drawn on its edge; ``x_ticks``: its tick values (default: round ones);
    ``quadrants``: ``(key, "left"|"right", "top"|"bottom")`` for each corner name.
    ``labels`` holds the translated texts: ``x_axis``, ``y_axis`` and one per quadrant key.
    Points without both indices are not drawn; their keys are returned in ``missing``.  Pass the
    points in rank order: labels are placed in that order (``place_labels``), so the best-ranked
    keep theirs; a drawn point whose label found no room has an empty ``label`` and is listed in
    ``crowded`` (``[{"near": label of the nearest labelled point, "points": [{key, label, title}]}]``).
    """
    left, right, top, bottom = 56.0, 16.0, 16.0, 52.0
    plot_w, plot_h = width - left - right, height - top - bottom
    x0, x1 = x_domain
    sx = scale((x0, x1), (left, left + plot_w))
    sy = scale((0, 100), (top + plot_h, top))

    def px(value: float) -> float:
        return sx(min(max(value, x0), x1))

    def py(value: float) -> float:
        return sy(min(max(value, 0), 100))

    ticks = nice_ticks(0, 100, max_ticks=5)
    along = list(x_ticks) if x_ticks is not None else nice_ticks(x0, x1, max_ticks=5)
    x_ticks_out = [{"x": num(px(t)), "y": num(top + plot_h + 16), "label": numbers.plain(t)} for t in along]
    y_ticks = [{"x": num(left - 6), "y": num(sy(t) + 4), "label": numbers.plain(t)} for t in ticks]
    grid_x = [num(px(t)) for t in along]
    grid_y = [num(sy(t)) for t in ticks]
    xc, yc = px(x_cut), py(y_cut)
    corners = []
    for key, xs, ys in quadrants:
        corners.append(
            {
                "key": key,
                "label": labels.get(key, key),
                "x": num(left + 6 if xs == "left" else left + plot_w - 6),
                "y": num(top + 14 if ys == "top" else top + plot_h - 8),
                "anchor": "start" if xs == "left" else "end",
            }
        )
    shown = [p for p in points if p.x is not None and p.y is not None]
    missing = [p.key for p in points if p.x is None or p.y is None]
    centres = [(px(p.x or 0), py(p.y or 0)) for p in shown]
    spots = place_labels(
        [(cx, cy, symbol_extent(p.tier), p.label) for p, (cx, cy) in zip(shown, centres, strict=True)],
        bounds=Box(left, top, left + plot_w, top + plot_h),
        obstacles=[
            text_box(q["label"], float(q["x"]), float(q["y"]), anchor=q["anchor"], font_size=QUADRANT_FONT, pad=2)
            for q in corners
        ],
    )
    drawn = []
    for p, (cx, cy), spot in zip(shown, centres, spots, strict=True):
        drawn.append(
            {
                "key": p.key,
                "x": num(cx),
                "y": num(cy),
                "d": tier_symbol(p.tier, cx, cy),
                "tier": p.tier,
                "label": p.label if spot else "",
                "label_x": num(spot.x) if spot else "",
                "label_y": num(spot.y) if spot else "",
                "anchor": spot.anchor if spot else "",
                "title": p.title,
            }
        )
    crowded = [
        {
            "near": shown[near].label if near is not None else "",
            "points": [{"key": shown[i].key, "label": shown[i].label, "title": shown[i].title} for i in members],
        }
        for near, members in crowded_groups(centres, spots, [p.label for p in shown])
    ]
    return {
        "width": num(width),
        "height": num(height),
        "view_box": f"0 0 {num(width)} {num(height)}",
        "plot": {"x": num(left), "y": num(top), "w": num(plot_w), "h": num(plot_h)},
        "x_ticks": x_ticks_out,
        "y_ticks": y_ticks,
        "grid_x": grid_x,
        "grid_y": grid_y,
        "plot_top": num(top),
        "plot_bottom": num(top + plot_h),
        "plot_left": num(left),
        "plot_right": num(left + plot_w),
        "x_cut": num(xc),
        "y_cut": num(yc),
        "x_axis": {"x": num(left + plot_w / 2), "y": num(height - 10), "label": labels.get("x_axis", "")},
        "y_axis": {
            "x": num(14),
            "y": num(top + plot_h / 2),
            "transform": f"rotate(-90 {num(14)} {num(top + plot_h / 2)})",
            "label": labels.get("y_axis", ""),
        },
        "quadrants": corners,
        "points": drawn,
        "crowded": crowded,
        "missing": missing,
    }


# ---------------------------------------------------------------------------
# Rank intervals
# ---------------------------------------------------------------------------

BAR_WIDTH = 240.0
BAR_HEIGHT = 18.0
BAR_PAD = 8.0


def interval_bar(
    *, value: float | None, low: float | None, high: float | None, domain_max: float, tier: str = "key"
) -> dict[str, str] | None:
    """A rank interval as a bar from ``low`` to ``high`` with the tier symbol at ``value`` (rank 1 at the left)."""
    if value is None or low is None or high is None:
        return None
    s = scale((1, max(domain_max, 1)), (BAR_PAD, BAR_WIDTH - BAR_PAD))
    cy = BAR_HEIGHT / 2
    x1, x2 = s(low), s(high)
    return {
        "view_box": f"0 0 {num(BAR_WIDTH)} {num(BAR_HEIGHT)}",
        "width": num(BAR_WIDTH),
        "height": num(BAR_HEIGHT),
        "x1": num(x1),
        "x2": num(x2),
        "bar_x": num(x1),
        "bar_w": num(max(x2 - x1, 1.5)),
        "bar_y": num(cy - 2.5),
        "bar_h": "5",
        "cx": num(s(value)),
        "cy": num(cy),
        "d": tier_symbol(tier, s(value), cy, 5),
        "track_x1": num(BAR_PAD),
        "track_x2": num(BAR_WIDTH - BAR_PAD),
    }


def rank_axis(domain_max: float) -> dict[str, Any]:
    """The scale drawn above a list of interval bars (same width and padding as ``interval_bar``)."""
    top = max(domain_max, 1)
    s = scale((1, top), (BAR_PAD, BAR_WIDTH - BAR_PAD))
    ticks = nice_ticks(1, top, max_ticks=6, integer=True)
    return {
        "view_box": f"0 0 {num(BAR_WIDTH)} 20",
        "width": num(BAR_WIDTH),
        "ticks": [{"x": num(s(t)), "label": numbers.plain(t)} for t in ticks],
        "x1": num(BAR_PAD),
        "x2": num(BAR_WIDTH - BAR_PAD),
    }


# ---------------------------------------------------------------------------
# Radar
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RadarBlip:
    key: str
    number: int
    title: str
    sector: str
    ring: str
    status: str


def _wrap(text: str, width: int = 16) -> list[str]:
    """Split a label into lines of about ``width`` characters at spaces (CJK text has none: kept whole)."""
    words = text.split()
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [text]


def _cell_positions(count: int, r0: float, r1: float, a0: float, a1: float) -> list[tuple[float, float]]:
    """``count`` (radius, angle) positions spread over one ring × sector cell, away from its edges."""
    pad = 11.0
    inner = max(r0, 22.0) + pad
    outer = max(r1 - pad, inner)
    band = outer - inner
    arc = (a1 - a0) * (inner + outer) / 2
    rows = max(1, min(count, math.ceil(math.sqrt(count * max(band, 1) / max(arc, 1)))))
    cols = math.ceil(count / rows)
    out = []
    for k in range(count):
        row, col = divmod(k, cols)
        in_row = cols if row < rows - 1 else count - cols * (rows - 1)
        radius = inner + (row + 0.5) / rows * band if rows > 1 else (inner + outer) / 2
        apad = min(pad / max(radius, 1), (a1 - a0) / 4)
        span = a1 - a0 - 2 * apad
        angle = a0 + apad + (col + 0.5) / max(in_row, 1) * span
        out.append((radius, angle))
    return out


def radar_chart(
    blips: Sequence[RadarBlip],
    *,
    sectors: Sequence[tuple[str, str]],
    ring_labels: Mapping[str, str],
    radius: float = 220,
) -> dict[str, Any]:
    """Geometry of the radar: one sector per (key, label) in ``sectors`` clockwise from the top,
    rings priority (inner) / key / watch (outer), and a status symbol per blip.

    Blips of one cell are spread over it in ``number`` order; each keeps its number as a text label
    so the table next to the chart can be read against it.
    """
    margin_x, margin_y = 120.0, 48.0
    width, height = 2 * radius + 2 * margin_x, 2 * radius + 2 * margin_y
    cx, cy = width / 2, height / 2
    n = max(len(sectors), 1)
    span = 2 * math.pi / n
    start = -math.pi / 2
    bounds = [0.0] + [radius * f for f in RING_BOUNDS]
    rings = []
    for i, tier in enumerate(TIERS):
        r_in, r_out = bounds[i], bounds[i + 1]
        rings.append(
            {
                "key": tier,
                "r": num(r_out),
                "label": ring_labels.get(tier, tier),
                "label_x": num(cx + 4),
                "label_y": num(cy - (r_in + r_out) / 2 + 4 if i else cy - r_out + 14),
            }
        )
    sector_out = []
    index = {key: i for i, (key, _) in enumerate(sectors)}
    for i, (key, label) in enumerate(sectors):
        a0 = start + i * span
        mid = a0 + span / 2
        lx, ly = cx + (radius + 14) * math.cos(mid), cy + (radius + 14) * math.sin(mid)
        cos_mid = math.cos(mid)
        anchor = "start" if cos_mid > 0.25 else "end" if cos_mid < -0.25 else "middle"
        lines = _wrap(label)
        # Labels above the centre grow upwards, below it downwards.
        first_y = ly - (len(lines) - 1) * 14 + 4 if math.sin(mid) < -0.25 else ly + (10 if math.sin(mid) > 0.25 else 4)
        sector_out.append(
            {
                "key": key,
                "label": label,
                "line_x1": num(cx),
                "line_y1": num(cy),
                "line_x2": num(cx + radius * math.cos(a0)),
                "line_y2": num(cy + radius * math.sin(a0)),
                "label_x": num(lx),
                "anchor": anchor,
                "lines": [{"text": t, "y": num(first_y + j * 14)} for j, t in enumerate(lines)],
            }
        )
    cells: dict[tuple[int, int], list[RadarBlip]] = {}
    for blip in sorted(blips, key=lambda b: b.number):
        if blip.sector not in index or blip.ring not in TIERS:
            continue
        cells.setdefault((index[blip.sector], TIERS.index(blip.ring)), []).append(blip)
    drawn = []
    for (s_i, r_i), members in sorted(cells.items()):
        a0 = start + s_i * span
        positions = _cell_positions(len(members), bounds[r_i], bounds[r_i + 1], a0, a0 + span)
        for blip, (rho, angle) in zip(members, positions, strict=True):
            x, y = cx + rho * math.cos(angle), cy + rho * math.sin(angle)
            drawn.append(
                {
                    "key": blip.key,
                    "number": blip.number,
                    "x": num(x),
                    "y": num(y),
                    "d": status_symbol(blip.status, x, y, towards_centre=angle + math.pi),
                    "status": blip.status,
                    "ring": blip.ring,
                    "title": blip.title,
                    "label_x": num(x + SYMBOL_SIZE + 2),
                    "label_y": num(y + 3.5),
                }
            )
    return {
        "view_box": f"0 0 {num(width)} {num(height)}",
        "width": num(width),
        "height": num(height),
        "cx": num(cx),
        "cy": num(cy),
        "rings": list(reversed(rings)),  # outermost first, so inner rings paint on top
        "sectors": sector_out if n > 1 else [dict(s, line_x2=s["line_x1"], line_y2=s["line_y1"]) for s in sector_out],
        "blips": drawn,
    }


# ---------------------------------------------------------------------------
# A value with an interval per category (a topic's history)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesPoint:
    label: str  # category label under the x axis (short)
    value: float | None
    low: float | None
    high: float | None
    title: str
    symbol: str = "watch"  # a tier name: its symbol marks the value


def interval_series(
    points: Sequence[SeriesPoint],
    *,
    domain: tuple[float, float],
    invert: bool = False,
    integer: bool = False,
    width: float = 480,
    height: float = 220,
) -> dict[str, Any]:
    """Categories along x, each with its value (a symbol) and interval (a vertical bar) on the y scale.

    ``invert`` puts the domain's low end at the top (ranks: 1 is best).  Points without a value are
    kept as empty categories so the x axis still shows every edition or round.
    """
    left, right, top, bottom = 44.0, 12.0, 12.0, 36.0
    plot_w, plot_h = width - left - right, height - top - bottom
    lo, hi = domain
    sy = scale((lo, hi), (top, top + plot_h) if invert else (top + plot_h, top))
    count = max(len(points), 1)
    step = plot_w / count
    ticks = nice_ticks(lo, hi, max_ticks=5, integer=integer)
    drawn = []
    for i, p in enumerate(points):
        x = left + step * (i + 0.5)
        item: dict[str, Any] = {
            "x": num(x),
            "label": p.label,
            "label_y": num(top + plot_h + 16),
            "title": p.title,
            "symbol": p.symbol,
        }
        if p.value is not None:
            y = sy(min(max(p.value, lo), hi))
            item.update({"y": num(y), "d": tier_symbol(p.symbol, x, y, 5)})
            if p.low is not None and p.high is not None:
                y1, y2 = sy(min(max(p.low, lo), hi)), sy(min(max(p.high, lo), hi))
                item.update({"bar_y1": num(min(y1, y2)), "bar_y2": num(max(y1, y2))})
        drawn.append(item)
    line = " ".join(f"{d['x']},{d['y']}" for d in drawn if "y" in d)
    return {
        "view_box": f"0 0 {num(width)} {num(height)}",
        "width": num(width),
        "height": num(height),
        "plot_left": num(left),
        "plot_right": num(left + plot_w),
        "plot_top": num(top),
        "plot_bottom": num(top + plot_h),
        "y_ticks": [{"y": num(sy(t)), "label_y": num(sy(t) + 4), "label": numbers.plain(t)} for t in ticks],
        "tick_x": num(left - 6),
        "points": drawn,
        "line": line if line.count(",") > 1 else "",
    }
