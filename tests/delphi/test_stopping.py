"""The stopping rule: per topic from its released figures, and for the study (``foresight.delphi.stopping``),
with plain data shaped as ``round_topic_reports`` releases it."""

from __future__ import annotations

from typing import Any

import pytest

from foresight.delphi import stopping

RULE = stopping.Rule()
KEYS = ["importance", "competitiveness"]


def item(*, consensus: bool = False, share: float | None = None, p: float | None = None, change: Any = ...) -> Any:
    """A released index item; ``change`` None: its change is withheld (attrition)."""
    out: dict[str, Any] = {"n": 12, "consensus": consensus, "suppressed": {}}
    if change is None:
        out["change"] = None
        out["suppressed"]["change"] = "attrition"
    elif share is not None:
        out["change"] = {"n_paired": 12, "share_changed": share, "wilcoxon_p": p}
    return out


WITHHELD = {"n": None, "suppressed": {"all": "small_group"}}


def report(**items: Any) -> dict[str, Any]:
    return {"items": items}


def verdict(rep: dict[str, Any] | None, *, later_round: bool = True, rule: stopping.Rule = RULE) -> str:
    return stopping.topic_stopping(rep, index_keys=KEYS, later_round=later_round, rule=rule).verdict


# --- The rule, read from the study's JSON ------------------------------------------------------------------------


def test_an_older_study_without_the_stability_keys_gets_the_defaults() -> None:
    rule = stopping.Rule.from_json({"stop_when_all_consensus": 1.0})
    assert rule.as_dict() == {"stable_share_changed_max": 0.15, "stable_p_min": 0.05}
    assert stopping.Rule.from_json(None) == rule
    assert stopping.Rule.from_json({"stable_p_min": 0.1}).stable_p_min == 0.1


@pytest.mark.parametrize("bad", [-0.01, 1.5, "0.1", True, None, float("nan")])
def test_a_stability_threshold_outside_0_to_1_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match="from 0 to 1"):
        stopping.Rule.from_json({"stable_p_min": bad})
    assert set(stopping.rule_errors({"stable_share_changed_max": bad})) == {"stable_share_changed_max"}
    assert stopping.rule_errors({"stable_share_changed_max": 0.2, "stable_p_min": 0}) == {}
    assert stopping.rule_errors([0.1]) == {"stopping_rule": "The stopping rule must be a mapping of settings."}


# --- One topic ----------------------------------------------------------------------------------------------------


def test_a_topic_meets_the_rule_by_consensus_of_every_index_item() -> None:
    assert verdict(report(importance=item(consensus=True), competitiveness=item(consensus=True))) == "consensus"
    # Consensus needs no change block: in round 1, and when the change is withheld.
    both = report(importance=item(consensus=True), competitiveness=item(consensus=True, change=None))
    assert verdict(both, later_round=False) == verdict(both) == "consensus"
    # One item without consensus, the other withheld: not consensus, and not shown as such.
    result = stopping.topic_stopping(
        report(importance=item(consensus=True), competitiveness=WITHHELD), index_keys=KEYS, later_round=False, rule=RULE
    )
    assert result.verdict == "undetermined" and result.reasons == ("small_group",) and not result.met


def test_a_topic_is_stable_when_few_changed_and_the_test_finds_no_shift_on_every_item() -> None:
    steady = report(importance=item(share=0.10, p=0.32), competitiveness=item(share=0.15, p=0.05))
    assert verdict(steady) == "stable"
    # Nobody changed: there is no p, and the topic is stable.
    assert verdict(report(importance=item(share=0.0, p=None), competitiveness=item(share=0.0, p=None))) == "stable"
    # Just over either threshold on one item: it still moves.
    assert verdict(report(importance=item(share=0.16, p=0.5), competitiveness=item(share=0.0, p=None))) == "not_met"
    assert verdict(report(importance=item(share=0.10, p=0.049), competitiveness=item(share=0.0, p=None))) == "not_met"
    # The thresholds are the study's.
    loose = stopping.Rule(stable_share_changed_max=0.2, stable_p_min=0.01)
    assert verdict(report(importance=item(share=0.16, p=0.02), competitiveness=item(share=0.0)), rule=loose) == (
        "stable"
    )


def test_round_1_is_never_stable() -> None:
    rep = report(importance=item(), competitiveness=item())
    assert verdict(rep, later_round=False) == "not_met"
    # One item withheld: consensus is open while the other is in consensus, decided when it is not.
    open_ = report(importance=WITHHELD, competitiveness=item(consensus=True))
    assert verdict(open_, later_round=False) == "undetermined"
    assert verdict(report(importance=WITHHELD, competitiveness=item()), later_round=False) == "not_met"


def test_a_topic_whose_figures_are_withheld_is_undetermined_and_says_why() -> None:
    # The change is withheld (people left between rounds) and there is no consensus: undetermined.
    result = stopping.topic_stopping(
        report(importance=item(change=None), competitiveness=item(share=0.0, p=None)),
        index_keys=KEYS,
        later_round=True,
        rule=RULE,
    )
    assert (result.verdict, result.reasons) == ("undetermined", ("attrition",))
    # Nobody answered the topic at all (no report): undetermined, too few respondents.
    nobody = stopping.topic_stopping(None, index_keys=KEYS, later_round=True, rule=RULE)
    assert (nobody.verdict, nobody.reasons) == ("undetermined", ("small_group",))
    # But what is released already decides it when one released item has no consensus and still moves.
    assert verdict(report(importance=item(share=0.5, p=0.001), competitiveness=WITHHELD)) == "not_met"
    # … and a stable released item is not enough while another is withheld.
    assert verdict(report(importance=item(share=0.0, p=None), competitiveness=WITHHELD)) == "undetermined"


# --- The study ----------------------------------------------------------------------------------------------------


def _topics(*verdicts: str) -> dict[str, stopping.TopicStopping]:
    return {f"t{i}": stopping.TopicStopping(verdict=v) for i, v in enumerate(verdicts)}


def test_the_study_meets_the_rule_when_every_topic_does_or_the_planned_rounds_are_done() -> None:
    done = stopping.study_stopping(_topics("consensus", "stable"), round_number=2, planned_rounds=3, rule=RULE)
    assert (done.met, done.why, done.met_count) == (True, "all_met", 2)
    moving = stopping.study_stopping(
        _topics("consensus", "not_met", "undetermined"), round_number=2, planned_rounds=3, rule=RULE
    )
    assert (moving.met, moving.why, moving.moving_count, moving.undetermined_count) == (False, "topics_move", 1, 1)
    unknown = stopping.study_stopping(_topics("stable", "undetermined"), round_number=1, planned_rounds=2, rule=RULE)
    assert (unknown.met, unknown.why) == (False, "topics_undetermined")
    last = stopping.study_stopping(_topics("not_met"), round_number=3, planned_rounds=3, rule=RULE)
    assert (last.met, last.why) == (True, "planned_rounds_done")
