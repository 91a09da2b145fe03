"""Complementary suppression of a partition (``disclosure.partition_shown``): sectors shown next to a total
are never a small cell themselves, and what they hide together is never one either."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from foresight.disclosure import partition_shown


def test_every_group_with_t_respondents_is_shown_when_nothing_is_hidden() -> None:
    counts = {"company": 6, "university": 9, "government": 5}
    assert partition_shown(counts, t=5, total=20) == ["company", "government", "university"]


def test_one_suppressed_group_takes_the_smallest_shown_group_with_it() -> None:
    # public_research (2) is below t; shown alone, it would be all − company − university − government.
    counts = {"company": 7, "university": 9, "government": 6, "public_research": 2}
    assert partition_shown(counts, t=5, total=24) == ["company", "university"]


def test_ties_for_the_smallest_shown_group_are_broken_by_name() -> None:
    counts = {"company": 5, "university": 5, "government": 5, "public_research": 2}
    assert partition_shown(counts, t=5, total=17) == ["government", "university"]


def test_two_small_groups_together_reaching_t_need_no_further_suppression() -> None:
    counts = {"company": 8, "university": 9, "government": 2, "public_research": 3}
    assert partition_shown(counts, t=5, total=22) == ["company", "university"]


def test_an_unpublished_group_counts_as_hidden() -> None:
    publishable = ["company", "university", "government", "public_research"]
    # "other" is never shown; with 6 ≥ t respondents nothing else needs to go.
    assert partition_shown({"company": 7, "university": 8, "other": 6}, t=5, total=21, publishable=publishable) == [
        "company",
        "university",
    ]
    # With 2 it could be recovered by subtraction, so the smallest shown group is hidden too.
    assert partition_shown({"company": 7, "university": 8, "other": 2}, t=5, total=17, publishable=publishable) == [
        "university"
    ]


def test_a_lone_group_is_never_shown_next_to_a_small_remainder() -> None:
    assert partition_shown({"company": 9, "university": 3}, t=5, total=12) == []


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "c", "d", "e"]), st.integers(1, 20), min_size=1), st.integers(3, 8))
def test_what_is_hidden_is_never_a_small_cell(counts: dict[str, int], k: int) -> None:
    total = sum(counts.values())
    shown = partition_shown(counts, t=k, total=total)
    hidden = total - sum(counts[g] for g in shown)
    assert all(counts[g] >= k for g in shown)
    assert hidden == 0 or hidden >= k or not shown
