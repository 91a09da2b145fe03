"""Scoring runs on PostgreSQL: a staff member scores a finished study; the numbers match the round statistics,
small cells stay hidden, bad input changes nothing, and a worker computes exactly what eager mode computes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from foresight.catalog.models import Topic
from foresight.core.models import AuditLog
from foresight.delphi.models import Answer, Round, RoundStat, Study
from foresight.delphi.services.simulation import study_simulate
from foresight.delphi.services.studies import study_create
from foresight.priorities.models import ScoringRun
from foresight.priorities.services import runs as services
from foresight.priorities.services.publishing import suggested_rationale
from foresight.priorities.services.runs import CRITERIA, scoring_run_create, scoring_run_execute
from scenarios.models import ScenarioTopic
from tests.factories import ScenarioFactory
from tests.priorities.conftest import answers, expected_scenario_pull, panelist, run_round

ROOT = Path(__file__).resolve().parents[2]
INCONSISTENT = {
    "criteria": ["importance_index", "competitiveness_gap", "scenario_pull"],
    "matrix": [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]],
}


def _simulated(experts: int = 60, topics: int = 6, seed: int = 5, rounds: int = 2) -> Study:
    result = study_simulate(experts=experts, topics=topics, seed=seed, rounds=rounds, timeout=120)
    return Study.objects.get(code=result.study)


def _stat(rnd: Round, topic: str, key: str, group: str = "all") -> RoundStat:
    return RoundStat.objects.get(round=rnd, topic__code=topic, question__key=key, group=group)


# --- a simulated national study ------------------------------------------------------------------


def test_a_run_scores_every_topic_with_the_round_statistics(catalog: Any, queued: list[int]) -> None:
    study = _simulated()
    run = scoring_run_create(study=study, seed=20261, top_k=2, B=400)
    assert queued == [run.pk]  # queued after commit, computed by the task
    assert run.status == ScoringRun.Status.PENDING and run.thresholds["plan_end_year"] % 5 == 0

    assert scoring_run_execute(run_id=run.pk) is True
    run.refresh_from_db()
    assert run.status == ScoringRun.Status.DONE and run.progress == 100 and run.error == ""
    assert len(run.fingerprint) == 64 and run.finished_at is not None

    results = run.results
    codes = set(study.topics.values_list("code", flat=True))
    assert set(results["topics"]) == codes
    final = study.rounds.get(number=2)
    t = study.k_threshold + 1
    ranked = [c for c in results["ranking"]]
    assert ranked and len(ranked) == results["summary"]["ranked"]
    assert sum(results["topics"][c]["p_top_k"] for c in ranked) == pytest.approx(2.0)
    start, horizon = (study.frozen_at.year, study.horizon_year)
    fallbacks_seen = set()
    for code, topic in results["topics"].items():
        rnd = study.rounds.get(number=topic["round"])
        respondents = rnd.summary["topics"][code]["n"]
        assert topic["suppressed"] is (respondents < t)
        assert topic["ranked"] is (respondents >= max(t, study.min_respondents)), code
        if not topic["ranked"]:
            assert topic["tier"] == "insufficient" and "rank" not in topic and "criteria" not in topic
            continue
        assert topic["n"] == respondents
        assert topic["rank_low"] <= topic["rank"] <= topic["rank_high"], code
        assert 0 <= topic["p_top_k"] <= 1 and topic["tier"] in {"priority", "key", "watch"}
        assert set(topic["criteria"]) == set(CRITERIA)
        # The criteria are the round's own statistics where the disclosure layer releases them, and the
        # all-respondent index (recorded as a fallback) where it does not.
        importance = _stat(rnd, code, "importance")
        competitiveness = _stat(rnd, code, "competitiveness")
        high = _stat(rnd, code, "importance", "high")
        levels = importance.data["levels"]
        weights = study.expertise_weights
        assert topic["criteria"]["importance_index"] == pytest.approx(importance.data["index"], abs=1e-9)
        classes: dict[float, int] = {}
        for level, count in levels.items():
            w = weights.get(level, weights["medium"])
            classes[w] = classes.get(w, 0) + count
        weighted_shown = all(c == 0 or c >= t for c in classes.values())
        expected_weighted = importance.data["index_weighted"] if weighted_shown else importance.data["index"]
        assert topic["criteria"]["importance_index_weighted"] == pytest.approx(expected_weighted, abs=1e-9), code
        rest = importance.n - high.n
        high_shown = high.n >= max(t, study.min_high_respondents) and (rest == 0 or rest >= t)
        expected_high = high.data["index"] if high_shown else importance.data["index"]
        assert topic["criteria"]["importance_index_high"] == pytest.approx(expected_high, abs=1e-9), code
        assert topic["high_fallback"] is (not high_shown)
        recorded = {f["criterion"] for f in topic["fallbacks"] if f["used"] == "importance_index"}
        assert ("importance_index_high" in recorded) is (not high_shown)
        assert ("importance_index_weighted" in recorded) is (not weighted_shown)
        fallbacks_seen |= recorded
        assert topic["criteria"]["competitiveness_gap"] == pytest.approx(100 - competitiveness.data["index"], abs=1e-9)
        # Timing: 100 × mean u over the valid tech_year answers, computed here from the answers themselves.
        us = []
        for answer in Answer.objects.filter(
            response__round=rnd, response__topic__code=code, question__key="tech_year", cant_judge=False
        ):
            if answer.value_code == "already":
                us.append(1.0)
            elif answer.value_code == "never":
                us.append(0.0)
            else:
                us.append(min(1.0, max(0.0, (horizon - answer.value_num) / (horizon - start))))
        tech = _stat(rnd, code, "tech_year")
        if tech.data["n_years"] == 0 or tech.data["n_years"] >= t:
            assert topic["criteria"]["timing"] == pytest.approx(100 * sum(us) / len(us), abs=1e-9)
        else:
            assert topic["criteria"]["timing"] is None, code
        assert topic["indices"]["importance"]["index"] == importance.data["index"]
        demand, pilots = expected_scenario_pull(code)
        assert topic["criteria"]["scenario_pull"] == pytest.approx(demand + pilots, abs=1e-9)
        assert topic["scenario_pull"]["components"] == pytest.approx({"demand": demand, "pilots": pilots}, abs=1e-9)
        on_list = Topic.objects.filter(code=code, clusters__code__in=run.policy_clusters).exists()
        assert topic["criteria"]["policy_list"] == (1.0 if on_list else 0.0)
        assert topic["quadrant"]["importance_competitiveness"] in {
            "strengthen",
            "lead_maintain",
            "watch",
            "deprioritise",
        }
    # The simulation is chosen so that stand-ins happen: the test would pass vacuously otherwise.
    assert fallbacks_seen
    assert results["summary"]["insufficient"] == sorted(c for c in codes if not results["topics"][c]["ranked"])
    assert results["inputs"]["rounds"][final.code] == final.checksum
    assert AuditLog.objects.filter(action="scoring_run_done", details__run=run.code).count() == 1

    # A second execution (a redelivered task) does nothing and changes nothing.
    assert scoring_run_execute(run_id=run.pk) is False
    again = ScoringRun.objects.get(pk=run.pk)
    assert again.results == results and again.fingerprint == run.fingerprint


def test_the_same_inputs_give_the_same_fingerprint_and_results(mini_catalog: list[Topic], queued: list[int]) -> None:
    study = _simulated(experts=30, topics=6, seed=8)
    first = scoring_run_create(study=study, seed=7, top_k=2, B=200)
    second = scoring_run_create(study=study, seed=7, top_k=2, B=200)
    other_seed = scoring_run_create(study=study, seed=8, top_k=2, B=200)
    other_weights = scoring_run_create(study=study, seed=7, top_k=2, B=200, weights={"importance_index": 1})
    for run in (first, second, other_seed, other_weights):
        assert scoring_run_execute(run_id=run.pk)
        run.refresh_from_db()
    assert second.fingerprint == first.fingerprint and second.results == first.results
    assert other_seed.fingerprint != first.fingerprint
    assert other_weights.fingerprint != first.fingerprint
    # A scenario published later changes the inputs, so the fingerprint too.
    newly_needed = mini_catalog[5]
    ScenarioTopic.objects.create(scenario=ScenarioFactory(), topic=newly_needed, role="core")
    later = scoring_run_create(study=study, seed=7, top_k=2, B=200)
    scoring_run_execute(run_id=later.pk)
    later.refresh_from_db()
    assert later.fingerprint != first.fingerprint
    assert later.results["topics"][newly_needed.code]["criteria"]["scenario_pull"] == 1.0
    assert first.results["topics"][newly_needed.code]["criteria"]["scenario_pull"] == 0.0


def test_scenario_pull_and_policy_lists_come_from_the_catalog(mini_catalog: list[Topic], queued: list[int]) -> None:
    study = _simulated(experts=30, topics=6, seed=8)
    run = scoring_run_create(study=study, seed=1, top_k=1, B=20)
    assert run.policy_clusters == ["test-policy"]  # policy lists only, not themes
    scoring_run_execute(run_id=run.pk)
    run.refresh_from_db()
    criteria = [run.results["topics"][t.code]["criteria"] for t in mini_catalog]
    # A draft scenario and a capability listing count not; a published demonstration does, whatever its origin.
    assert [c["scenario_pull"] for c in criteria] == [1.0, 0.6, 0.0, 1.0, 0.0, 0.0]
    assert [c["policy_list"] for c in criteria] == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    themed = scoring_run_create(study=study, seed=1, top_k=1, B=20, policy_clusters=["test-theme"])
    scoring_run_execute(run_id=themed.pk)
    themed.refresh_from_db()
    assert [themed.results["topics"][t.code]["criteria"]["policy_list"] for t in mini_catalog] == [0, 0, 1, 0, 0, 0]


def test_topics_dropped_after_consensus_are_scored_on_their_last_round(
    mini_catalog: list[Topic], queued: list[int]
) -> None:
    agreed, disputed = mini_catalog[0], mini_catalog[1]
    study = study_create(title_en="Two rounds", horizon_year=2050, topics=[agreed, disputed], planned_rounds=2)
    Study.objects.filter(pk=study.pk).update(min_respondents=6)  # a small panel's own minimum evidence
    people = [panelist(study, f"expert{i}@example.org", "university", [agreed.code, disputed.code]) for i in range(7)]
    spread = [1, 5, 1, 5, 2, 4, 3]
    run_round(
        study.rounds.get(number=1),
        [(p, {agreed.code: answers(5, 5), disputed.code: answers(v, v)}) for p, v in zip(people, spread, strict=True)],
    )
    second = study.rounds.get(number=2)
    assert list(second.topics.all()) == [disputed]  # the agreed topic reached consensus and was dropped
    run_round(second, [(p, {disputed.code: answers(3, 3)}) for p in people[:6]])

    run = scoring_run_create(study=study, seed=1, top_k=1, B=50)
    assert run.round == second
    scoring_run_execute(run_id=run.pk)
    run.refresh_from_db()
    topics = run.results["topics"]
    assert topics[agreed.code]["round"] == 1 and topics[agreed.code]["n"] == 7
    assert topics[agreed.code]["criteria"]["importance_index"] == 100.0
    assert topics[disputed.code]["round"] == 2 and topics[disputed.code]["n"] == 6
    assert topics[disputed.code]["criteria"]["importance_index"] == 50.0
    first = study.rounds.get(number=1)
    assert run.results["inputs"]["rounds"] == {first.code: first.checksum, second.code: second.checksum}


# --- small cells ------------------------------------------------------------------------------------


@pytest.fixture
def small_cells_study(mini_catalog: list[Topic], queued: list[int]) -> Study:
    """Four topics answered by a hand-built panel, k = 5, so no group of fewer than t = 6 is shown.

    humanoid-robots: 6 company, 6 university, 6 government, 2 public research (4 of them medium expertise),
    only the 2 public-research experts give a year (the others: "already" or "never");
    quantum-computing: 6 company (all 5), 6 university (all 2), 6 other — high expertise throughout;
    bci: 3 university experts only; edge-ai: 8 university experts (released figures, below the minimum
    evidence of 10 respondents).
    """
    for topic, code in zip(mini_catalog, ["humanoid-robots", "quantum-computing", "bci", "edge-ai"], strict=False):
        Topic.objects.filter(pk=topic.pk).update(code=code)
    codes = ["humanoid-robots", "quantum-computing", "bci", "edge-ai"]
    study = study_create(
        title_en="Small cells", horizon_year=2050, topics=Topic.objects.filter(code__in=codes), planned_rounds=1
    )
    panel = []
    for i in range(6):
        topics = {"quantum-computing": answers(5, 2), "humanoid-robots": answers(4, 2, "never")}
        panel.append((panelist(study, f"company{i}@example.org", "company", list(topics)), topics))
        topics = {"quantum-computing": answers(2, 2), "humanoid-robots": answers(4, 3, "already")}
        panel.append((panelist(study, f"university{i}@example.org", "university", list(topics)), topics))
        level = "medium" if i < 2 else "high"
        topics = {"humanoid-robots": answers(4, 3, "never", expertise=level)}
        panel.append((panelist(study, f"government{i}@example.org", "government", list(topics)), topics))
        topics = {"quantum-computing": answers(3, 2)}
        panel.append((panelist(study, f"other{i}@example.org", "other", list(topics)), topics))
    for i in range(2):
        topics = {"humanoid-robots": answers(5, 1, expertise="medium")}
        panel.append((panelist(study, f"research{i}@example.org", "public_research", list(topics)), topics))
    for i in range(3):
        topics = {"bci": answers(5, 1, 2027)}
        panel.append((panelist(study, f"lone{i}@example.org", "university", list(topics)), topics))
    for i in range(8):
        topics = {"edge-ai": answers(5 if i % 2 else 4, 3, 2030)}
        panel.append((panelist(study, f"edge{i}@example.org", "university", list(topics)), topics))
    run_round(study.rounds.get(number=1), panel)
    return study


def test_a_topic_whose_importance_index_is_withheld_is_not_ranked(mini_catalog: list[Topic], queued: list[int]) -> None:
    """12 respondents each (above the minimum evidence of 10); on the second topic 9 of them cannot judge
    importance, so its index rests on 3 answers and is withheld: ranked on stand-ins and curated links
    alone it would be ranked on no survey evidence, so it is "insufficient evidence" and says why."""
    clear, opaque = mini_catalog[2], mini_catalog[3]
    study = study_create(title_en="Opaque", horizon_year=2050, topics=[clear, opaque], planned_rounds=1)
    panel = []
    for i in range(12):
        opinion = answers(4 + i % 2, 3, 2030)
        topics = {clear.code: opinion, opaque.code: {**opinion, "importance": "cant_judge" if i < 9 else "5"}}
        panel.append((panelist(study, f"expert{i}@example.org", "university", list(topics)), topics))
    run_round(study.rounds.get(number=1), panel)
    run = scoring_run_create(study=study, seed=1, top_k=1, B=50)
    assert scoring_run_execute(run_id=run.pk)
    run.refresh_from_db()
    withheld = run.results["topics"][opaque.code]
    assert withheld["n"] == 12 and withheld["indices"]["importance"]["index"] is None
    assert withheld["ranked"] is False and withheld["tier"] == "insufficient" and "rank" not in withheld
    assert withheld["evidence"]["importance_withheld"] == "small_group"
    assert run.results["ranking"] == [clear.code]
    assert "importance_withheld" not in run.results["topics"][clear.code]["evidence"]
    text = suggested_rationale(result=withheld, run=run, lang="en")
    assert "importance index is not shown" in text and "12 respondents" in text


def test_topics_below_the_minimum_evidence_are_never_ranked(small_cells_study: Study) -> None:
    run = scoring_run_create(study=small_cells_study, seed=3, top_k=1, B=100)
    assert scoring_run_execute(run_id=run.pk)
    run.refresh_from_db()
    topics = run.results["topics"]
    bci, edge = topics["bci"], topics["edge-ai"]
    # 3 respondents: nothing is released, not even the count.
    assert bci["suppressed"] is True and bci["ranked"] is False and bci["tier"] == "insufficient"
    assert bci["n"] is None and "3" not in json.dumps(bci["report"])
    assert "rank" not in bci and "criteria" not in bci and "score" not in bci
    # 8 respondents: the figures are released (8 ≥ t) but the topic is below the minimum evidence of 10.
    assert edge["suppressed"] is False and edge["ranked"] is False and edge["tier"] == "insufficient"
    assert edge["n"] == 8 and edge["indices"]["importance"]["index"] == 87.5
    assert edge["evidence"] == {"sufficient": False, "min_respondents": 10, "min_high": 5}
    assert sorted(run.results["ranking"]) == ["humanoid-robots", "quantum-computing"]
    assert run.results["summary"]["suppressed"] == ["bci"]
    assert run.results["summary"]["insufficient"] == ["bci", "edge-ai"]
    assert {topics[c]["rank"] for c in run.results["ranking"]} == {1, 2}
    # Neither took part in anybody's normalisation: their importance indices would be the maximum.
    assert max(topics[c]["criteria"]["importance_index"] for c in run.results["ranking"]) < 87.5


def test_one_suppressed_group_suppresses_the_smallest_shown_group_too(small_cells_study: Study) -> None:
    run = scoring_run_create(study=small_cells_study, seed=3, top_k=1, B=100)
    scoring_run_execute(run_id=run.pk)
    run.refresh_from_db()
    humanoid = run.results["topics"]["humanoid-robots"]["groups"]["importance"]
    # public_research (2) is below t; company, tied smallest with 6, goes with it.
    assert set(humanoid["shown"]) == {"government", "university"}
    assert humanoid["reason"] == "small_complement"
    assert humanoid["shown"]["university"] == {"n": 6, "index": 75.0}
    assert "company" not in json.dumps(humanoid["shown"])
    quantum = run.results["topics"]["quantum-computing"]["groups"]
    # "other" (6 ≥ t) is hidden by rule but is not a small cell: both big groups stay, and they diverge.
    assert set(quantum["importance"]["shown"]) == {"company", "university"}
    assert quantum["importance"]["gap"] == 75.0 and quantum["divergent"] is True
    assert run.results["summary"]["divergent"] == ["quantum-computing"]


def test_a_high_expertise_index_with_a_small_remainder_is_hidden_and_replaced(small_cells_study: Study) -> None:
    run = scoring_run_create(study=small_cells_study, seed=3, top_k=1, B=100)
    scoring_run_execute(run_id=run.pk)
    run.refresh_from_db()
    humanoid = run.results["topics"]["humanoid-robots"]
    # 16 high-expertise answers next to 4 others: showing both would expose the 4 by subtraction.
    importance = humanoid["indices"]["importance"]
    assert importance["index_high"] is None and importance["n_high"] is None
    assert humanoid["report"]["items"]["importance"]["suppressed"]["index_high"] == "small_complement"
    assert humanoid["high_fallback"] is True
    assert humanoid["criteria"]["importance_index_high"] == humanoid["criteria"]["importance_index"]
    # The 4 medium answers are one weight class of 1 … t−1: the weighted index would pin them down too.
    assert importance["index_weighted"] is None
    assert humanoid["criteria"]["importance_index_weighted"] == humanoid["criteria"]["importance_index"]
    assert {(f["criterion"], f["used"], f["reason"]) for f in humanoid["fallbacks"]} == {
        ("importance_index_high", "importance_index", "small_complement"),
        ("importance_index_weighted", "importance_index", "small_weight_class"),
        ("timing", "worst", "small_group"),
    }
    quantum = run.results["topics"]["quantum-computing"]
    assert quantum["high_fallback"] is False and quantum["indices"]["importance"]["n_high"] == 18
    assert quantum["indices"]["importance"]["index_weighted"] == quantum["indices"]["importance"]["index"]
    assert quantum["fallbacks"] == []


def test_a_year_median_from_fewer_than_t_years_is_hidden(small_cells_study: Study) -> None:
    run = scoring_run_create(study=small_cells_study, seed=3, top_k=1, B=100)
    scoring_run_execute(run_id=run.pk)
    run.refresh_from_db()
    humanoid = run.results["topics"]["humanoid-robots"]
    tech = humanoid["timing"]["tech_year"]
    assert tech["n"] == 20 and tech["share_never"] == pytest.approx(12 / 20)  # shares rest on 20 answers
    assert tech["median"] is None and tech["n_years"] is None  # the median would rest on 2 years
    assert humanoid["report"]["items"]["tech_year"]["suppressed"] == {"years": "small_group"}
    # Timing would count every answer (6 "already", 12 "never", 2 × 2029) and with the released shares
    # pin down the two years: it is missing (the lowest value), and the entry says so.
    assert humanoid["criteria"]["timing"] is None and humanoid["normalised"]["timing"] is None
    assert ("timing", "worst", "small_group") in {
        (f["criterion"], f["used"], f["reason"]) for f in humanoid["fallbacks"]
    }
    assert humanoid["quadrant"]["importance_timing"] is None
    assert run.results["topics"]["quantum-computing"]["timing"]["tech_year"]["median"] == 2029.0


# --- bad input ----------------------------------------------------------------------------------------


@pytest.fixture
def scored_study(mini_catalog: list[Topic], queued: list[int]) -> Study:
    return _simulated(experts=12, topics=4, seed=2, rounds=1)


def test_an_inconsistent_ahp_matrix_is_refused_and_nothing_is_stored(scored_study: Study, queued: list[int]) -> None:
    study = scored_study
    audits = AuditLog.objects.count()
    with pytest.raises(ValidationError, match="consistency ratio") as caught:
        scoring_run_create(study=study, seed=1, top_k=1, ahp_matrix=INCONSISTENT)
    assert "above 0.10" in str(caught.value)
    assert ScoringRun.objects.count() == 0 and queued == [] and AuditLog.objects.count() == audits


def test_a_consistent_ahp_matrix_sets_the_weights(scored_study: Study, queued: list[int]) -> None:
    study = scored_study
    matrix = {
        "criteria": ["importance_index", "competitiveness_gap", "scenario_pull"],
        "matrix": [[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]],
    }
    run = scoring_run_create(study=study, seed=1, top_k=1, ahp_matrix=matrix, B=50)
    assert run.weights == pytest.approx(
        {"importance_index": 4 / 7, "competitiveness_gap": 2 / 7, "scenario_pull": 1 / 7}
    )
    assert run.ahp is not None and run.ahp["cr"] == pytest.approx(0.0, abs=1e-9) and run.ahp["matrix"][0] == [1, 2, 4]
    assert scoring_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.results["summary"]["weights"]["timing"] == 0.0


BAD_INPUT: list[tuple[dict[str, Any], str, str]] = [
    ({"weights": {"importance_index": 1, "hype": 2}}, "weights", "Unknown criteria: hype"),
    ({"weights": {"importance_index": -1}}, "weights", "must not be negative"),
    ({"weights": {"importance_index": 0}}, "weights", "positive weight"),
    ({"weights": {"importance_index": "1"}}, "weights", "must be a number"),
    ({"weights": {}}, "weights", "at least one criterion"),
    ({"B": 5}, "bootstrap_b", "from 10 to 100000"),
    ({"B": 10**6}, "bootstrap_b", "from 10 to 100000"),
    ({"top_k": 0}, "top_k", "from 1 to the number of topics"),
    ({"top_k": 99}, "top_k", "from 1 to the number of topics"),
    ({"seed": -4}, "seed", "whole number"),
    ({"seed": 2**63}, "seed", "whole number"),
    ({"seed": 1.5}, "seed", "whole number"),
    ({"policy_clusters": ["no-such-list"]}, "policy_clusters", "Unknown clusters: no-such-list"),
    ({"thresholds": {"importance": 120}}, "thresholds", "between 0 and 100"),
    ({"thresholds": {"plan_end_year": 1999}}, "thresholds", "between 2000 and 2100"),
    ({"thresholds": {"tea": 1}}, "thresholds", "Unknown thresholds: tea"),
    ({"ahp_matrix": {"criteria": ["importance_index", "hype"], "matrix": [[1, 2], [0.5, 1]]}}, "ahp", "hype"),
    ({"ahp_matrix": {"criteria": ["importance_index", "timing"], "matrix": [[1, 2], [2, 1]]}}, "ahp", "reciprocal"),
    ({"ahp_matrix": {"criteria": ["importance_index", "timing"], "matrix": [[1, 2]]}}, "ahp", "one row per"),
    ({"ahp_matrix": [[1, 2], [0.5, 1]]}, "ahp", "criteria"),
]


def test_bad_input_gets_a_clear_error_and_stores_nothing(scored_study: Study, queued: list[int]) -> None:
    audits = AuditLog.objects.count()
    for kwargs, field, message in BAD_INPUT:
        args: dict[str, Any] = {"study": scored_study, "seed": 1, "top_k": 1} | kwargs
        with pytest.raises(ValidationError) as caught:
            scoring_run_create(**args)
        assert field in caught.value.message_dict, kwargs
        assert message in " ".join(caught.value.message_dict[field]), (kwargs, caught.value.message_dict)
    with pytest.raises(ValidationError, match="either weights or an AHP matrix"):
        scoring_run_create(study=scored_study, seed=1, top_k=1, weights={"timing": 1}, ahp_matrix=INCONSISTENT)
    assert ScoringRun.objects.count() == 0 and queued == [] and AuditLog.objects.count() == audits


def test_a_study_without_an_aggregated_round_cannot_be_scored(mini_catalog: list[Topic], queued: list[int]) -> None:
    study = study_create(title_en="Not yet", horizon_year=2050, topics=mini_catalog[:2])
    with pytest.raises(ValidationError, match="no aggregated round"):
        scoring_run_create(study=study, seed=1, top_k=1)
    assert ScoringRun.objects.count() == 0


# --- execution states ------------------------------------------------------------------------------


def test_a_failing_run_is_marked_failed_with_its_message(
    scored_study: Study, queued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = scoring_run_create(study=scored_study, seed=1, top_k=1, B=20)

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(services, "criteria_collect", broken)
    assert scoring_run_execute(run_id=run.pk) is False
    run.refresh_from_db()
    assert run.status == ScoringRun.Status.FAILED and run.error == "the disk is on fire" and run.results == {}
    monkeypatch.undo()
    assert scoring_run_execute(run_id=run.pk) is False  # failed stays failed: staff start a new run


def test_a_run_lost_with_its_worker_is_taken_up_again(scored_study: Study, queued: list[int]) -> None:
    run = scoring_run_create(study=scored_study, seed=1, top_k=1, B=20)
    ScoringRun.objects.filter(pk=run.pk).update(status="running", started_at=timezone.now(), progress=40)
    assert scoring_run_execute(run_id=run.pk) is False  # still running somewhere
    ScoringRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=2))
    assert scoring_run_execute(run_id=run.pk) is True
    assert ScoringRun.objects.get(pk=run.pk).status == ScoringRun.Status.DONE
    assert scoring_run_execute(run_id=123456789) is False  # gone: nothing to do


# --- eager vs worker, PostgreSQL vs SQLite -----------------------------------------------------------

SIM = ["--experts", "40", "--topics", "8", "--seed", "7"]
RUN = {"seed": 424242, "top_k": 3, "B": 500}


def _embedded_run(tmp_path: Path, study_code: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["SQLITE_PATH"] = str(tmp_path / "embedded.sqlite3")

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    manage("migrate", "-v0")
    manage("load_catalog", "-v0")
    assert json.loads(manage("simulate_study", *SIM))["study"] == study_code
    script = (
        "import json; from foresight.delphi.models import Study; "
        "from foresight.priorities.services.runs import scoring_run_create; "
        f"run = scoring_run_create(study=Study.objects.get(code={study_code!r}), **{RUN!r}); run.refresh_from_db(); "
        "print(json.dumps({'status': run.status, 'fingerprint': run.fingerprint, 'results': run.results}))"
    )
    return json.loads(manage("shell", "-c", script))


@pytest.mark.worker
def test_a_worker_on_postgresql_and_eager_mode_on_sqlite_give_identical_runs(
    celery_worker_process: dict[str, str], transactional_catalog: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    study = _simulated(experts=40, topics=8, seed=7)

    # 1. Through Redis and the worker process.
    on_worker = scoring_run_create(study=study, **RUN)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        on_worker.refresh_from_db()
        if on_worker.status in (ScoringRun.Status.DONE, ScoringRun.Status.FAILED):
            break
        time.sleep(0.25)
    assert on_worker.status == ScoringRun.Status.DONE, on_worker.error or "not done within 120 s"

    # 2. Eager, in this process, on the same PostgreSQL database.
    from foresight.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", True)
    eager = scoring_run_create(study=study, **RUN)
    eager.refresh_from_db()
    assert eager.status == ScoringRun.Status.DONE
    assert eager.fingerprint == on_worker.fingerprint
    assert eager.results == on_worker.results

    # 3. The embedded default (SQLite, eager Celery) in a fresh process, from the same simulation.
    embedded = _embedded_run(tmp_path, study.code)
    assert embedded["status"] == "done"
    assert embedded["fingerprint"] == on_worker.fingerprint
    assert embedded["results"] == on_worker.results
