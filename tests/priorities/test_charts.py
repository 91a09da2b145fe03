"""Chart geometry (foresight.priorities.charts): plain data in, SVG numbers out, no database."""

from __future__ import annotations

import math
import re

import pytest

from foresight.priorities import charts
from foresight.priorities.charts import MatrixPoint, RadarBlip, SeriesPoint

LABELS = {
    "x_axis": "Competitiveness",
    "y_axis": "Importance",
    "strengthen": "Strengthen",
    "lead_maintain": "Lead",
    "watch": "Watch",
    "deprioritise": "Deprioritise",
}


def coords(d: str) -> list[tuple[float, float]]:
    """The absolute points of a path made of M/L commands."""
    return [(float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+) (-?[\d.]+)", d)]


def test_numbers_are_short_locale_free_strings() -> None:
    assert charts.num(1.0) == "1"
    assert charts.num(2.345) == "2.35" or charts.num(2.345) == "2.34"
    assert charts.num(-0.001) == "0"
    assert charts.num(120.5) == "120.5"


def test_ticks_are_round_and_cover_the_domain() -> None:
    assert charts.nice_ticks(0, 100, max_ticks=5) == [0, 25, 50, 75, 100]
    assert charts.nice_ticks(1, 5, max_ticks=5) == [1, 2, 3, 4, 5]
    assert charts.nice_ticks(1, 30, integer=True) == [1, 10, 20, 30]
    assert charts.nice_ticks(1, 1, integer=True) == [1]
    for ticks in (charts.nice_ticks(1, 8, integer=True), charts.nice_ticks(1, 1000, integer=True)):
        assert all(float(t).is_integer() for t in ticks) and len(ticks) <= 7


def test_each_tier_and_status_has_its_own_shape() -> None:
    tiers = {t: charts.tier_symbol(t, 10, 10) for t in charts.TIERS}
    assert len(set(tiers.values())) == 3
    assert len(coords(tiers["priority"])) == 4 and len(coords(tiers["key"])) == 4 and "a" in tiers["watch"]
    statuses = {s: charts.status_symbol(s, 10, 10, towards_centre=0) for s in charts.STATUSES}
    assert len(set(statuses.values())) == 4
    assert len(coords(statuses["new"])) == 10  # a star
    # Moved in points towards the centre (here: to the right, angle 0), moved out away from it.
    apex_in = max(coords(statuses["moved_in"]), key=lambda p: p[0])
    apex_out = min(coords(statuses["moved_out"]), key=lambda p: p[0])
    assert apex_in[0] > 10 + charts.SYMBOL_SIZE and apex_out[0] < 10 - charts.SYMBOL_SIZE
    legend = charts.symbol_legend("status", {"new": "New"})
    assert [item["key"] for item in legend] == list(charts.STATUSES) and legend[0]["label"] == "New"


def test_the_matrix_places_points_on_the_index_scales_with_cut_lines_and_quadrants() -> None:
    points = [
        MatrixPoint(key="a", label="1", title="A", x=0, y=100, tier="priority"),
        MatrixPoint(key="b", label="2", title="B", x=100, y=0, tier="watch"),
        MatrixPoint(key="c", label="3", title="C", x=50, y=50, tier="key"),
        MatrixPoint(key="d", label="4", title="D", x=None, y=70, tier="key"),
    ]
    chart = charts.matrix_chart(points, x_cut=50, y_cut=60, labels=LABELS)
    left, top = float(chart["plot"]["x"]), float(chart["plot"]["y"])
    right, bottom = left + float(chart["plot"]["w"]), top + float(chart["plot"]["h"])
    drawn = {p["key"]: p for p in chart["points"]}
    assert set(drawn) == {"a", "b", "c"} and chart["missing"] == ["d"]
    assert (float(drawn["a"]["x"]), float(drawn["a"]["y"])) == (left, top)  # weak and important: top left
    assert (float(drawn["b"]["x"]), float(drawn["b"]["y"])) == (right, bottom)
    assert float(drawn["c"]["x"]) == pytest.approx((left + right) / 2, abs=0.01)
    assert float(chart["x_cut"]) == pytest.approx((left + right) / 2, abs=0.01)
    assert float(chart["y_cut"]) == pytest.approx(bottom - 0.6 * (bottom - top), abs=0.01)
    quadrants = {q["key"]: q for q in chart["quadrants"]}
    assert quadrants["strengthen"]["anchor"] == "start" and float(quadrants["strengthen"]["y"]) < top + 20
    assert quadrants["watch"]["anchor"] == "end" and float(quadrants["watch"]["y"]) > bottom - 20
    assert [t["label"] for t in chart["x_ticks"]] == ["0", "25", "50", "75", "100"]
    assert drawn["a"]["d"] == charts.tier_symbol("priority", left, top)


def test_values_outside_0_100_are_kept_inside_the_plot() -> None:
    chart = charts.matrix_chart(
        [MatrixPoint(key="x", label="1", title="", x=120, y=-5, tier="key")], x_cut=50, y_cut=50, labels=LABELS
    )
    point = chart["points"][0]
    assert float(point["x"]) == float(chart["plot_right"]) and float(point["y"]) == float(chart["plot_bottom"])


def test_an_interval_bar_runs_from_low_to_high_with_the_rank_marked() -> None:
    bar = charts.interval_bar(value=3, low=2, high=5, domain_max=10)
    assert bar is not None
    step = (charts.BAR_WIDTH - 2 * charts.BAR_PAD) / 9
    assert float(bar["x1"]) == pytest.approx(charts.BAR_PAD + step, abs=0.01)
    assert float(bar["x2"]) == pytest.approx(charts.BAR_PAD + 4 * step, abs=0.01)
    assert float(bar["cx"]) == pytest.approx(charts.BAR_PAD + 2 * step, abs=0.01)
    assert float(bar["bar_w"]) == pytest.approx(3 * step, abs=0.02)
    assert charts.interval_bar(value=None, low=1, high=2, domain_max=3) is None
    # A point interval is still drawn (minimum width), and a one-topic edition does not divide by zero.
    assert float(charts.interval_bar(value=1, low=1, high=1, domain_max=1)["bar_w"]) > 0
    axis = charts.rank_axis(10)
    assert axis["ticks"][0]["label"] == "1" and axis["ticks"][-1]["label"] == "10"


def test_the_radar_has_one_sector_per_direction_rings_inside_out_and_every_blip_in_its_cell() -> None:
    sectors = [("manufacturing", "Future manufacturing"), ("energy", "Future energy"), ("health", "Future health")]
    blips = [
        RadarBlip(
            key=f"t{i}", number=i + 1, title=f"T{i}", sector=sectors[i % 3][0], ring=charts.TIERS[i % 3], status=s
        )
        for i, s in enumerate(["new", "moved_in", "moved_out", "unchanged"] * 6)
    ]
    chart = charts.radar_chart(blips, sectors=sectors, ring_labels={"priority": "Priority"}, radius=200)
    cx, cy = float(chart["cx"]), float(chart["cy"])
    assert [r["key"] for r in chart["rings"]] == ["watch", "key", "priority"]  # painted outermost first
    radii = {r["key"]: float(r["r"]) for r in chart["rings"]}
    assert radii["priority"] < radii["key"] < radii["watch"] == 200
    assert (
        len(chart["sectors"]) == 3
        and " ".join(line["text"] for line in chart["sectors"][0]["lines"]) == "Future manufacturing"
    )
    assert len(chart["blips"]) == len(blips)
    bounds = {
        "priority": (0, radii["priority"]),
        "key": (radii["priority"], radii["key"]),
        "watch": (radii["key"], 200),
    }
    order = [key for key, _ in sectors]
    positions = set()
    for drawn, blip in zip(sorted(chart["blips"], key=lambda b: b["number"]), blips, strict=True):
        x, y = float(drawn["x"]) - cx, float(drawn["y"]) - cy
        rho = math.hypot(x, y)
        low, high = bounds[blip.ring]
        assert low < rho < high, (blip, rho)
        # Sectors run clockwise from the top: angle measured from 12 o'clock.
        angle = (math.atan2(y, x) + math.pi / 2) % (2 * math.pi)
        assert int(angle // (2 * math.pi / 3)) == order.index(blip.sector), blip
        positions.add((drawn["x"], drawn["y"]))
        assert drawn["d"].startswith("M")
    assert len(positions) == len(blips)  # no two blips on the same spot


def test_a_blip_of_an_unknown_sector_or_ring_is_left_out_and_one_sector_has_no_dividers() -> None:
    chart = charts.radar_chart(
        [
            RadarBlip(key="a", number=1, title="", sector="x", ring="key", status="new"),
            RadarBlip(key="b", number=2, title="", sector="nowhere", ring="key", status="new"),
            RadarBlip(key="c", number=3, title="", sector="x", ring="urgent", status="new"),
        ],
        sectors=[("x", "Only")],
        ring_labels={},
    )
    assert [b["key"] for b in chart["blips"]] == ["a"]
    line = chart["sectors"][0]
    assert (line["line_x1"], line["line_y1"]) == (line["line_x2"], line["line_y2"])


def test_long_sector_labels_wrap_and_chinese_labels_stay_whole() -> None:
    assert charts._wrap("Future information and communication technology", 16) == [
        "Future",
        "information and",
        "communication",
        "technology",
    ]
    assert charts._wrap("未来信息", 16) == ["未来信息"]


def test_an_interval_series_puts_each_category_in_order_with_its_bar() -> None:
    chart = charts.interval_series(
        [
            SeriesPoint(label="E1", value=1, low=1, high=3, title="", symbol="priority"),
            SeriesPoint(label="E2", value=None, low=None, high=None, title=""),
            SeriesPoint(label="E3", value=4, low=2, high=6, title="", symbol="key"),
        ],
        domain=(1, 6),
        invert=True,
        integer=True,
    )
    first, missing, third = chart["points"]
    assert float(first["x"]) < float(missing["x"]) < float(third["x"])
    assert "y" not in missing and "d" not in missing
    assert float(first["y"]) == float(chart["plot_top"])  # rank 1 at the top
    assert float(third["bar_y1"]) < float(third["y"]) < float(third["bar_y2"])
    assert chart["line"] == f"{first['x']},{first['y']} {third['x']},{third['y']}"
    up = charts.interval_series([SeriesPoint(label="R1", value=5, low=4, high=5, title="")], domain=(1, 5))
    assert float(up["points"][0]["y"]) == float(up["plot_top"]) and up["line"] == ""


# --- matrix labels ---------------------------------------------------------------------------------


def label_box(point: dict[str, str]) -> tuple[float, float, float, float]:
    """The box of a drawn label as Chromium lays it out at 10 px: digits 6.36 wide, 9.3 above and 2.7 below the baseline."""
    x, y, width = float(point["label_x"]), float(point["label_y"]), len(point["label"]) * 6.36
    x0 = x if point["anchor"] == "start" else x - width if point["anchor"] == "end" else x - width / 2
    return (x0, y - 9.3, x0 + width, y + 2.7)


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def cluster(n: int = 40) -> list[MatrixPoint]:
    """``n`` topics ranked 1…n: most of them within a few index points of (55, 58), a few spread out."""
    points = []
    for i in range(n):
        if i % 5 == 4:
            x, y = 10 + 19 * (i % 5) + i, 90 - 2 * i
        else:
            x, y = 55 + 3 * math.cos(i * 2.4) * (i % 3), 58 + 3 * math.sin(i * 2.4) * (i % 4) / 2
        points.append(MatrixPoint(key=f"t{i}", label=str(i + 1), title=f"T{i}", x=x, y=y, tier=charts.TIERS[i % 3]))
    return points


def test_labels_in_a_tight_cluster_never_overlap_and_every_point_is_numbered_or_listed() -> None:
    points = cluster()
    chart = charts.matrix_chart(points, x_cut=50, y_cut=50, labels=LABELS)
    left, top = float(chart["plot"]["x"]), float(chart["plot"]["y"])
    right, bottom = left + float(chart["plot"]["w"]), top + float(chart["plot"]["h"])
    labelled = [p for p in chart["points"] if p["label"]]
    boxes = [label_box(p) for p in labelled]
    for i, a in enumerate(boxes):
        assert left <= a[0] and a[2] <= right and top <= a[1] and a[3] <= bottom, labelled[i]["label"]
        for j, b in enumerate(boxes[:i]):
            assert not overlap(a, b), (labelled[i]["label"], labelled[j]["label"])
        # ... nor over another topic's symbol (diamond 7.5, square 5.1, circle 6 from its centre, plus the stroke).
        for other in chart["points"]:
            if other["key"] != labelled[i]["key"]:
                cx, cy = float(other["x"]), float(other["y"])
                r = {"priority": 7.5, "key": 5.1, "watch": 6.0}[other["tier"]] + 0.6
                assert not overlap(a, (cx - r, cy - r, cx + r, cy + r)), (labelled[i]["label"], other["key"])
    crowded = [p["key"] for group in chart["crowded"] for p in group["points"]]
    assert crowded, "the cluster is tight enough that some labels must be left out"
    assert sorted(crowded + [p["key"] for p in labelled]) == sorted(p.key for p in points)  # each exactly once
    assert len(set(crowded)) == len(crowded)
    # Topics away from the cluster keep their numbers; each crowded group names a numbered neighbour.
    numbered = {p["label"] for p in labelled}
    assert {str(i + 1) for i in range(4, 40, 5)} <= numbered
    assert all(group["near"] in numbered for group in chart["crowded"])


def test_label_placement_is_deterministic() -> None:
    first = charts.matrix_chart(cluster(), x_cut=50, y_cut=50, labels=LABELS)
    assert charts.matrix_chart(cluster(), x_cut=50, y_cut=50, labels=LABELS) == first


def test_a_label_moves_to_the_free_side_and_stays_inside_the_plot() -> None:
    chart = charts.matrix_chart(
        [
            MatrixPoint(key="a", label="1", title="", x=50, y=50, tier="key"),
            MatrixPoint(key="b", label="2", title="", x=52, y=50, tier="key"),  # right of a: a's label goes left
            MatrixPoint(key="edge", label="10", title="", x=100, y=20, tier="watch"),
        ],
        x_cut=50,
        y_cut=50,
        labels=LABELS,
    )
    a, b, edge = chart["points"]
    assert a["anchor"] == "end" and float(a["label_x"]) < float(a["x"])
    assert b["anchor"] == "start" and float(b["label_x"]) > float(b["x"])
    assert edge["anchor"] == "end"  # no room on the right of the plot
    assert chart["crowded"] == []


def test_label_widths_count_wide_characters_double() -> None:
    assert charts.text_width("12", 10) == pytest.approx(13)
    assert charts.text_width("优先", 10) == pytest.approx(20)
    box = charts.text_box("12", 100, 50, anchor="middle", font_size=10, pad=0)
    assert (box.x0, box.x1) == pytest.approx((93.5, 106.5)) and (box.y0, box.y1) == pytest.approx((40.5, 53))
    spots = charts.place_labels(
        [(100, 100, 6, "1"), (100, 100, 6, "2")], bounds=charts.Box(0, 0, 200, 200), font_size=10
    )
    assert spots[0] is None or spots[1] is None or not spots[0].box.intersects(spots[1].box)
