"""Rule 4 for subgroups.  Found from outside with the layer: an interim edition after round 1 shows the
high-expertise index of 10; the final one shows round 2's of 9 and the change with no paired respondent
changing — so the one high-expertise expert who left is the difference of the two sums.  The change is
now released beside a subgroup figure only when every group shown lost and gained 0 or at least t."""

from __future__ import annotations

from typing import Any

from foresight.disclosure import ATTRITION, Rules, release_item
from tests.disclosure import builder as B

RULES = Rules(k=3, min_high=1)  # t = 4

# Round 2: 9 high (university), 6 medium (company); every one of them answered the same in round 1.
PANEL: list[B.Respondent] = [("high", "university", 4)] * 9 + [("medium", "company", 3)] * 6


def _release(moves: Any, panel: list[B.Respondent] = PANEL) -> dict[str, Any]:
    stability: dict[str, Any] = {
        "from_round": 1,
        "n_before": len(panel) + 6,
        "n_paired": len(panel),
        "median_before": 4.0,
        "median_after": 4.0,
        "share_changed": 0.0,
        "n_nonzero": 0,
    }
    if moves is not None:
        stability["moves"] = moves
    groups = B.item_groups(panel, stability=stability)
    return release_item(qtype="scale", index=True, groups=groups, rules=RULES)


def test_one_high_expertise_leaver_withholds_the_change_beside_the_high_index() -> None:
    out = _release({"levels": {"high>": 1, "medium>": 5}, "sectors": {"university>": 1, "company>": 5}})
    assert out["index_high"] is not None  # the round's own figure stands
    assert out["change"] is None and out["suppressed"]["change"] == ATTRITION


def test_leavers_all_of_one_group_of_t_or_more_release_the_change() -> None:
    out = _release({"levels": {"medium>": 6}, "sectors": {"company>": 6}})
    assert out["index_high"] is not None and out["change"] is not None
    assert out["change"]["n_paired"] == 15 and out["change"]["share_changed"] == 0.0


def test_a_few_experts_changing_their_stated_level_count_as_leaving_and_joining() -> None:
    # No one left the item, but two stated high before and medium now: both groups moved by 2.
    out = _release({"levels": {"high>medium": 2, "medium>": 6}, "sectors": {"company>": 6}})
    assert out["change"] is None and out["suppressed"]["change"] == ATTRITION


def test_a_few_leavers_of_a_shown_sector_withhold_the_change() -> None:
    panel: list[B.Respondent] = [("medium", "university", 4)] * 8 + [("medium", "company", 3)] * 8
    moves = {"levels": {"medium>": 6}, "sectors": {"university>": 2, "government>": 4}}
    out = _release(moves, panel)
    assert set(out["sectors"]) == {"university", "company"} and out["index_high"] is None
    assert out["change"] is None and out["suppressed"]["change"] == ATTRITION


def test_without_recorded_moves_no_change_is_released_beside_a_subgroup_figure() -> None:
    out = _release(None)
    assert out["index_high"] is not None and out["change"] is None
    # With no subgroup figure shown, the all-respondent rule alone decides.
    alone: list[B.Respondent] = [("medium", "other", 4)] * 15  # "other" is never shown on its own
    out = _release(None, alone)
    assert out["index_high"] is None and out["sectors"] == {} and out["change"] is not None
