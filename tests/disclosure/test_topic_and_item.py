"""Rule 3b: a topic's respondents are published by expertise level and by sector, an item's group figures
count only those who answered it — "can't judge" is an answer too.  No group figure of an item may tell
which group a few non-answering respondents belong to.

Found from outside on a simulated edition: a topic with 12 high, 9 medium and 1 low-expertise respondent,
whose importance item had 21 answers and 1 "can't judge", published the expertise-weighted index.  As the
weighted index is shown only when every weight class among the item's respondents is 0 or at least k + 1,
its being shown told everyone that the one low-expertise expert was the one who could not judge.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from foresight.disclosure import SMALL_OVERLAP, Rules, release_item
from tests.disclosure import builder as B

Member = tuple[str, str, int | None]  # (level, sector, answer 1..5; None: "can't judge")


def _release(panel: Sequence[Member], rules: Rules) -> dict[str, Any]:
    answered = [(level, sector, value) for level, sector, value in panel if value is not None]
    groups = B.item_groups(answered, weights=rules.weights, n_cant_judge=len(panel) - len(answered))
    topic = {
        "n": len(panel),
        "levels": dict(Counter(level for level, _, _ in panel)),
        "sectors": dict(Counter(sector for _, sector, _ in panel)),
    }
    return release_item(qtype="scale", index=True, groups=groups, rules=rules, topic=topic)


def test_the_weighted_index_no_longer_says_who_could_not_judge() -> None:
    rules = Rules(k=5)
    panel: list[Member] = [("high", "university", 4 + i % 2) for i in range(12)]
    panel += [("medium", "company", 3 + i % 3) for i in range(9)]
    panel += [("low", "government", None)]  # the one low-expertise expert could not judge
    released = _release(panel, rules)
    assert released["n"] == 21 and released["n_cant_judge"] == 1
    assert released["index_weighted"] is None and released["suppressed"]["index_weighted"] == SMALL_OVERLAP
    # Had she answered, the low class (1) would be too small itself: either way the figure is withheld,
    # so its absence says nothing about her.
    answered = [*panel[:-1], ("low", "government", 3)]
    assert _release(answered, rules)["index_weighted"] is None


def test_a_high_index_and_sectors_are_withheld_when_a_few_of_the_group_did_not_answer() -> None:
    rules = Rules(k=3, min_high=1)
    panel: list[Member] = [("high", "university", 5)] * 6 + [("high", "company", None)]
    panel += [("medium", "company", v) for v in (2, 3, 4, 2, 3)] + [("medium", "university", 4)] * 2
    released = _release(panel, rules)
    # 7 high at topic level, 6 answered: one high-expertise expert could not judge.
    assert released["index_high"] is None and released["suppressed"]["index_high"] == SMALL_OVERLAP
    # By sector: company has 6 at topic level and 5 answers, so its figure would place her there.
    assert released["sectors"] == {} and released["suppressed"]["sectors"] == SMALL_OVERLAP


PANELS = st.lists(
    st.tuples(
        st.sampled_from(("high", "medium", "low", "none")),
        st.sampled_from(("university", "company", "government", "other")),
        st.one_of(st.none(), st.integers(1, 5)),
    ),
    min_size=0,
    max_size=24,
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(panel=PANELS, k=st.sampled_from((3, 4, 5)), weights=st.sampled_from(((1.0, 0.6, 0.3), (1.0, 1.0, 0.5))))
def test_no_group_shown_for_an_item_leaves_out_a_few_of_its_topic_respondents(
    panel: list[Member], k: int, weights: tuple[float, float, float]
) -> None:
    """Counted here from the panel itself: for every group a figure of the item is shown for, the topic's
    respondents of that group who did not answer the item number 0 or at least k + 1."""
    rules = Rules(k=k, weights=dict(zip(("high", "medium", "low"), weights, strict=True)), min_high=1)
    t = rules.t
    released = _release(panel, rules)
    if released["n"] is None:
        return

    def unanswered(group: Callable[[Member], object]) -> Counter[object]:
        return Counter(group(m) for m in panel if m[2] is None)

    def ok(counts: Counter[object]) -> bool:
        return all(c == 0 or c >= t for c in counts.values())

    high = released["index_high"] is not None
    if high:
        assert ok(unanswered(lambda m: m[0] == "high")), panel
    if released["index_weighted"] is not None:
        weight = {"high": weights[0], "medium": weights[1], "low": weights[2], "none": weights[1]}
        assert ok(unanswered(lambda m: (weight[m[0]], m[0] == "high" if high else None))), panel
    shown = set(released["sectors"])
    if shown:
        assert ok(unanswered(lambda m: m[1] if m[1] in shown else "")), panel
