"""Figures stored before the disclosure layer counted what it checks fail closed.

Round statistics aggregated before answers were counted by expertise level (``levels``) and by level and
sector (``cells``), round summaries without the topic's counts, and editions published without a released
report cannot be checked against differencing: the layer withholds every figure that rests on what it
cannot count, and keeps the all-respondent figures, which need nothing more than ``n``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from foresight.disclosure import SMALL_OVERLAP, SMALL_WEIGHT_CLASS, Rules, release_item, since_snapshot_releasable
from foresight.priorities import exports
from tests.disclosure import builder as B

RULES = Rules(k=3, min_high=1)

# 8 high (university), 8 medium (company), 8 low (government): every group and every cell has 8 ≥ t = 4.
PANEL: list[B.Respondent] = (
    [("high", "university", 4 + i % 2) for i in range(8)]
    + [("medium", "company", 2 + i % 3) for i in range(8)]
    + [("low", "government", 1 + i % 5) for i in range(8)]
)


def _topic() -> dict[str, Any]:
    return {
        "n": len(PANEL),
        "levels": dict(Counter(level for level, _, _ in PANEL)),
        "sectors": dict(Counter(sector for _, sector, _ in PANEL)),
    }


def test_a_complete_item_releases_every_figure() -> None:
    # The baseline the legacy cases below differ from in one stored count each.
    out = release_item(qtype="scale", index=True, groups=B.item_groups(PANEL), rules=RULES, topic=_topic())
    assert out["n"] == 24 and out["index_high"] is not None and out["index_weighted"] is not None
    assert set(out["sectors"]) == {"university", "company", "government"}


def test_without_the_levels_of_its_answers_no_expertise_weighted_figure_and_no_sector_beside_high() -> None:
    groups = B.item_groups(PANEL)
    del groups["all"]["levels"]
    out = release_item(qtype="scale", index=True, groups=groups, rules=RULES, topic=_topic())
    assert out["n"] == 24 and out["index"] == groups["all"]["index"]
    assert out["index_weighted"] is None and out["suppressed"]["index_weighted"] == SMALL_WEIGHT_CLASS
    # The high index is still checked against the topic's split; a sector beside it cannot be (no levels).
    assert out["index_high"] is not None
    assert out["sectors"] == {} and out["suppressed"]["sectors"] == SMALL_OVERLAP


def test_levels_that_do_not_add_up_to_n_count_as_unknown() -> None:
    groups = B.item_groups(PANEL)
    groups["all"]["levels"] = {"high": 8, "medium": 8}  # 8 answers of unknown level
    out = release_item(qtype="scale", index=True, groups=groups, rules=RULES, topic=_topic())
    assert out["index_weighted"] is None and out["suppressed"]["index_weighted"] == SMALL_WEIGHT_CLASS


def test_without_cells_no_sector_is_shown_beside_an_expertise_figure() -> None:
    groups = B.item_groups(PANEL)
    del groups["all"]["cells"]
    out = release_item(qtype="scale", index=True, groups=groups, rules=RULES, topic=_topic())
    assert out["index_high"] is not None
    assert out["sectors"] == {} and out["suppressed"]["sectors"] == SMALL_OVERLAP


def test_a_topic_summary_without_its_counts_withholds_every_subgroup_figure() -> None:
    out = release_item(qtype="scale", index=True, groups=B.item_groups(PANEL), rules=RULES, topic={"n": 24})
    assert out["n"] == 24 and out["index"] is not None
    assert out["index_high"] is None and out["suppressed"]["index_high"] == SMALL_OVERLAP
    assert out["index_weighted"] is None and out["suppressed"]["index_weighted"] == SMALL_OVERLAP
    assert out["sectors"] == {} and out["suppressed"]["sectors"] == SMALL_OVERLAP


def test_a_topic_summary_missing_a_group_the_item_has_withholds_that_figure() -> None:
    topic = _topic()
    del topic["sectors"]["government"]  # the item has 8 government answers the topic does not know of
    out = release_item(qtype="scale", index=True, groups=B.item_groups(PANEL), rules=RULES, topic=topic)
    assert out["sectors"] == {} and out["suppressed"]["sectors"] == SMALL_OVERLAP
    assert out["index_high"] is not None  # the expertise counts are complete


def test_an_edition_published_without_a_released_report_loses_its_subgroup_figures() -> None:
    data = {
        "n": 30,
        "indices": {
            "importance": {"n": 30, "index": 61.0, "index_weighted": 63.0, "n_high": 12, "index_high": 70.0},
        },
        "groups": {"importance": {"shown": {"company": {"n": 12, "index": 58.0}}}},
    }
    out = exports.published_aggregates(data, k=5)
    assert out["indices"]["importance"] == {
        "n": 30,
        "index": 61.0,
        "index_weighted": None,
        "n_high": None,
        "index_high": None,
    }
    assert out["groups"]["importance"]["shown"] == {}
    # With a released report the same figures stand (they passed the layer when it was written).
    out = exports.published_aggregates({**data, "report": {"items": {}}}, k=5)
    assert out["indices"]["importance"]["index_high"] == 70.0
    assert out["groups"]["importance"]["shown"] == {"company": {"n": 12, "index": 58.0}}


def test_a_real_time_round_releases_its_own_figures_only_a_refresh_away_from_the_last_snapshot() -> None:
    rules = Rules(k=3)  # t = 4
    seen = {str(i): "3" for i in range(10)}
    assert since_snapshot_releasable(previous=seen, current=dict(seen), rules=rules)
    one_more = {**seen, "10": "4"}
    assert not since_snapshot_releasable(previous=seen, current=one_more, rules=rules)
    one_changed = {**seen, "0": "5"}
    assert not since_snapshot_releasable(previous=seen, current=one_changed, rules=rules)
    one_withdrawn = {k: v for k, v in seen.items() if k != "0"}
    assert not since_snapshot_releasable(previous=seen, current=one_withdrawn, rules=rules)
    four_more = {**seen, **{str(10 + i): "4" for i in range(4)}}
    assert since_snapshot_releasable(previous=seen, current=four_more, rules=rules)
