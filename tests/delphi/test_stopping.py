"""The stopping rule: per topic from its released figures, and for the study (``foresight.delphi.stopping``).

The first tests use plain data shaped as ``round_topic_reports`` releases it; the last runs a two-round
study through the real services (Sam, the staff member, reads the console) with four topics: one that
reaches consensus, one that stays put without consensus, one that still moves and one too few people
answered; an edition published from it reports the rule in its method note.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from foresight.catalog.models import Topic
from foresight.delphi import stopping
from foresight.delphi.models import Participant, Question, Round, Study
from foresight.delphi.selectors import round_stopping, round_stopping_note, round_topic_reports
from foresight.delphi.services.aggregation import round_aggregate
from foresight.delphi.services.console import study_rules_change
from foresight.delphi.services.responses import response_save, round_submit
from foresight.delphi.services.rounds import round_close, round_open
from foresight.delphi.staff import selectors as staff_selectors
from foresight.priorities.services.publishing import edition_publish_suggested
from tests.delphi.conftest import cell, make_participant

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


# --- A two-round study through the real services ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _eager_celery(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tasks queued on commit run in-process here: nothing in this module ever reaches a shared broker."""
    from foresight.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", True)
    monkeypatch.setattr(app.conf, "task_eager_propagates", True)
    yield


def _answer(participant: Participant, rnd: Round, answers: dict[str, dict[str, str]]) -> None:
    for code, values in answers.items():
        response_save(participant=participant, rnd=rnd, topic=Topic.objects.get(code=code), answers=values)
    round_submit(participant=participant, rnd=rnd)


# Round 1 → round 2 importance and competitiveness of the eight panel members (k = 3, so t = 4):
# humanoid robots: everyone "5" twice → consensus in both rounds;
# quantum computing: spread 1…5, nobody changes → no consensus, stable in round 2;
# bci: spread, and six of eight move up by two → no consensus, still moving;
# 6g: only three answer (= k < t) → withheld, undetermined.
R1 = {
    "humanoid-robots": ["5"] * 8,
    "quantum-computing": ["1", "2", "3", "4", "5", "1", "3", "5"],
    "bci": ["1", "1", "2", "2", "3", "3", "1", "2"],
}
R2 = {
    "humanoid-robots": ["5"] * 8,
    "quantum-computing": ["1", "2", "3", "4", "5", "1", "3", "5"],
    "bci": ["3", "3", "4", "4", "5", "5", "1", "2"],
}


@pytest.mark.django_db
def test_two_rounds_give_a_consensus_a_stable_a_moving_and_an_undetermined_topic(
    study: Study, round1: Round, django_assert_max_num_queries: Any
) -> None:
    # k = 3 (t = 4); three planned rounds, so that after round 2 only the topics can stop the study; a
    # minimum evidence of 5 respondents, so that an edition can rank the topics eight experts answered.
    study_rules_change(
        study=study, actor=None, k_threshold=3, min_respondents=5, drop_consensus_topics=False, planned_rounds=3
    )
    panel = [
        make_participant(
            study,
            f"e{i}@example.org",
            sector=["university", "company"][i % 2],
            topics=[*R1, "6g"] if i < 3 else list(R1),
        )
        for i in range(8)
    ]

    def ballot(figures: dict[str, list[str]], i: int) -> dict[str, dict[str, str]]:
        out = {code: {"expertise": "high", "importance": v[i], "competitiveness": v[i]} for code, v in figures.items()}
        if i < 3:
            out["6g"] = {"expertise": "high", "importance": "4", "competitiveness": "4"}
        return out

    rounds = []
    for number, figures in ((1, R1), (2, R2)):
        rnd = study.rounds.get(number=number)
        round_open(rnd=rnd)
        rnd.refresh_from_db()
        for i, participant in enumerate(panel):
            _answer(participant, rnd, ballot(figures, i))
        round_close(rnd=rnd)
        assert round_aggregate(round_id=rnd.pk)
        rnd.refresh_from_db()
        rounds.append(rnd)
    first, second = rounds
    ids = dict(Topic.objects.filter(code__in=R1.keys() | {"6g"}).values_list("code", "pk"))

    after1 = round_stopping(rnd=first)
    assert {code: after1.topics[pk].verdict for code, pk in ids.items()} == {
        "humanoid-robots": "consensus",
        "quantum-computing": "not_met",
        "bci": "not_met",
        "6g": "undetermined",
    }
    assert (after1.met, after1.why) == (False, "topics_move")

    after2 = round_stopping(rnd=second)
    verdicts = {code: after2.topics[pk] for code, pk in ids.items()}
    assert {code: v.verdict for code, v in verdicts.items()} == {
        "humanoid-robots": "consensus",
        "quantum-computing": "stable",
        "bci": "not_met",
        "6g": "undetermined",
    }
    assert verdicts["6g"].reasons == ("small_group",)
    bci = {i.key: i for i in verdicts["bci"].items}
    assert bci["importance"].share_changed == 0.75 and bci["importance"].stable is False
    assert (after2.met, after2.why, after2.moving_count, after2.undetermined_count) == (False, "topics_move", 1, 1)
    # The verdicts rest on the released figures: 6g's three answers are withheld (3 = k < t = 4).
    reports = round_topic_reports(rnd=second)
    assert reports[ids["6g"]]["items"]["importance"]["n"] is None
    assert reports[ids["quantum-computing"]]["items"]["importance"]["change"]["share_changed"] == 0

    # The method note of an edition says it, in both languages.
    note = round_stopping_note(rnd=second)
    assert note["en"].startswith("Stopping rule (consensus, or stability: at most 15 % of the respondents")
    assert (
        "met for 2 of the 4 topics asked in round 2 (1 by consensus, 1 stable); 1 still moving; 1 undetermined"
        in (note["en"])
    )
    assert "第 2 轮所问的 4 个主题中 2 个满足（1 个达成共识，1 个趋于稳定）；1 个仍在变化；1 个" in note["zh"]
    edition = edition_publish_suggested(study=study, B=10, top_k=1)
    assert edition.scoring_run.round_id == second.pk
    assert edition.method_note_en.endswith(" " + note["en"]) and edition.method_note_zh.endswith(note["zh"])

    # Sam reads it in the console: per topic on the results page, for the study on both pages.
    sam = Client()
    sam.force_login(User.objects.create_superuser("sam", "sam@example.org", "a-long-password-1"))
    # Both pages cost a fixed number of queries, however many topics (the list pages' budget).
    with django_assert_max_num_queries(14):
        page = sam.get(reverse("staff:study-results", args=[study.code]), {"round": 2}).content.decode()
    assert cell(page, "humanoid-robots:stopping") == "met: consensus"
    assert cell(page, "quantum-computing:stopping") == "met: stable"
    assert cell(page, "bci:stopping") == "not met"
    assert cell(page, "6g:stopping") == "undetermined"
    assert cell(page, "6g:stopping-reason") == "too few respondents"
    assert cell(page, "stopping") == (
        "After round 2 the stopping rule is not met: 1 topic still moves, so another round is needed."
    )
    assert [cell(page, f"stopping:{v}") for v in ("consensus", "stable", "not_met", "undetermined")] == [
        "1",
        "1",
        "1",
        "1",
    ]
    with django_assert_max_num_queries(14):
        overview = sam.get(reverse("staff:study", args=[study.code])).content.decode()
    assert cell(overview, "stopping") == cell(page, "stopping")

    # With a looser rule (before round 1 it could have been set so) bci would be "stable" too: the
    # study meets the rule after round 2, and the console says no further round is needed.
    Study.objects.filter(pk=study.pk).update(stopping_rule={"stable_share_changed_max": 0.8, "stable_p_min": 0.0})
    second.study.refresh_from_db()
    loose = round_stopping(rnd=second)
    assert loose.topics[ids["bci"]].verdict == "stable" and (loose.met, loose.why) == (False, "topics_undetermined")
    # Without 6g in round 2 (say nobody had chosen it), every topic still asked is met.
    second.topics.remove(ids["6g"])
    without = round_stopping(rnd=second)
    assert (without.met, without.why) == (True, "all_met")
    page = sam.get(reverse("staff:study-results", args=[study.code]), {"round": 2}).content.decode()
    assert cell(page, "stopping") == "After round 2 the stopping rule is met: no further round is needed."
    assert staff_selectors.round_consensus_overview(rnd=second).stopping.met is True
    assert Question.objects.filter(study=study, index=True).count() == 2
