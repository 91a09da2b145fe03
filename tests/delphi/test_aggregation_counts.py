"""The aggregation counts in the database and works on frequency tables; it must give exactly what the
per-answer reference (every answer in Python, one list per group) gives: same rows, summary and checksum."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foresight import stats
from foresight.catalog.models import Topic
from foresight.delphi.models import Answer, Response, Round, RoundStat, Study
from foresight.delphi.services.aggregation import results_checksum, round_aggregate, round_results_compute
from foresight.delphi.services.responses import response_save, round_submit
from foresight.delphi.services.rounds import round_close, round_open
from foresight.delphi.services.simulation import answers_draw, topic_truth
from tests.delphi import reference_aggregation as reference
from tests.delphi.conftest import make_participant

SECTORS = ["university", "company", "government", "public_research", "other"]


def _compare(rnd: Round) -> None:
    rows, summary = round_results_compute(rnd=rnd)
    ref_rows, ref_summary = reference.round_results_compute(rnd=rnd)
    assert len(rows) == len(ref_rows)
    for got, want in zip(rows, ref_rows, strict=True):
        assert got == want
    assert summary == ref_summary
    assert results_checksum(rows, summary) == results_checksum(ref_rows, ref_summary)


def _answer_round(study: Study, rnd: Round, participants: list[Any], rng: random.Random, medians: Any) -> None:
    round_open(rnd=rnd)
    truth = topic_truth(rng, list(rnd.topics.order_by("code")))
    for participant in participants:
        own_areas = set(participant.expert.areas.values_list("pk", flat=True))
        complete = True
        for topic in participant.topics.filter(pk__in=rnd.topics.all()).order_by("code"):
            answers = answers_draw(rng, truth[topic.pk], topic, own_areas, medians, study.horizon_year)
            if rng.random() < 0.1:
                answers.pop("expertise")  # an expert who left their expertise blank (and so cannot submit)
                complete = False
            if rng.random() < 0.1:
                answers["tech_year"] = "already"
            response_save(participant=participant, rnd=rnd, topic=topic, answers=answers)
        if complete:
            round_submit(participant=participant, rnd=rnd)
    round_close(rnd=rnd)


@pytest.mark.django_db
def test_counting_in_the_database_matches_the_per_answer_reference(study: Study) -> None:
    rng = random.Random(5)
    codes = list(study.topics.values_list("code", flat=True))
    panel = [
        make_participant(
            study,
            f"expert{i}@example.org",
            sector=SECTORS[i % len(SECTORS)],
            topics=rng.sample(codes, k=rng.randint(2, 4)),
        )
        for i in range(23)
    ]
    round1 = study.rounds.get(number=1)
    _answer_round(study, round1, panel, rng, None)
    # A cell in which everyone said "can't judge", and a topic answered by one expert only.
    lonely = Topic.objects.get(code=codes[0])
    Answer.objects.filter(response__round=round1, response__topic=lonely, question__key="competitiveness").update(
        cant_judge=True, value_num=None
    )
    _compare(round1)
    assert round_aggregate(round_id=round1.pk) is True

    round2 = study.rounds.get(number=2)
    _answer_round(study, round2, panel[:-4], rng, {"importance": 4.0, "tech_year": 2033})
    _compare(round2)
    rows, _ = round_results_compute(rnd=round2)
    paired = [r for r in rows if r["group"] == "all" and "stability" in r["data"]]
    assert paired and any(r["data"]["stability"]["n_paired"] > 0 for r in paired)
    assert any(r["data"]["stability"]["wilcoxon_p"] is not None for r in paired)
    # Four experts left after round 1, so some items have fewer pairs than round-1 answers; and some
    # experts left their expertise blank, counted under "none" (and weighted like medium).
    assert any(r["data"]["stability"]["n_before"] > r["data"]["stability"]["n_paired"] for r in paired)
    assert any(r["data"]["levels"].get("none") for r in rows if r["group"] == "all")
    assert round_aggregate(round_id=round2.pk) is True
    round2.refresh_from_db()
    assert round2.checksum == results_checksum(*reference.round_results_compute(rnd=round2))
    assert RoundStat.objects.filter(round=round2).count() == len(rows)


def _answer(participant: Any, rnd: Round, code: str, **answers: str) -> None:
    response_save(participant=participant, rnd=rnd, topic=Topic.objects.get(code=code), answers=answers)


def _row(rows: list[dict[str, Any]], topic: str, question: str, group: str = "all") -> dict[str, Any]:
    return next(r for r in rows if (r["topic"], r["question"], r["group"]) == (topic, question, group))


@pytest.mark.django_db
def test_a_respondent_without_an_expertise_answer_is_weighted_like_medium(study: Study) -> None:
    """Alice (high) says 5, Bob (no expertise answer) says 1, Carol (low) says 3, Dan (medium) says 2."""
    alice, bob, carol, dan = (
        make_participant(study, f"{name}@example.org") for name in ("alice", "bob", "carol", "dan")
    )
    rnd = study.rounds.get(number=1)
    round_open(rnd=rnd)
    _answer(alice, rnd, "bci", expertise="high", importance="5")
    _answer(bob, rnd, "bci", importance="1")
    _answer(carol, rnd, "bci", expertise="low", importance="3")
    _answer(dan, rnd, "bci", expertise="medium", importance="2")
    _compare(rnd)
    rows, summary = round_results_compute(rnd=rnd)
    importance = _row(rows, "bci", "importance")
    assert importance["data"]["levels"] == {"high": 1, "low": 1, "medium": 1, "none": 1}
    # Codes −2…+2: Alice +2 (w 1.0), Bob −2 (w 0.6, like medium), Carol 0 (w 0.3), Dan −1 (w 0.6).
    weighted = (1.0 * 2 + 0.6 * -2 + 0.3 * 0 + 0.6 * -1) / (1.0 + 0.6 + 0.3 + 0.6)
    assert importance["data"]["index_weighted"] == pytest.approx(25 * (weighted + 2), abs=1e-9)
    assert importance["data"]["index"] == pytest.approx(25 * ((2 - 2 + 0 - 1) / 4 + 2), abs=1e-9)
    assert _row(rows, "bci", "importance", "high")["n"] == 1
    assert summary["topics"]["bci"]["levels"] == {"high": 1, "low": 1, "medium": 1, "none": 1}
    # The expertise item's own row counts Bob nowhere: he gave no answer to it.
    assert _row(rows, "bci", "expertise")["n"] == 3
    assert _row(rows, "bci", "expertise")["data"]["levels"] == {"high": 1, "low": 1, "medium": 1}


@pytest.mark.django_db
def test_a_topics_n_counts_its_respondents_not_its_expertise_answers(study: Study) -> None:
    """On bci two experts give their expertise, two only rate importance, one only names a leader, and
    one types an importance and takes it back: the topic has five respondents, not two (nor six)."""
    panel = [make_participant(study, f"e{i}@example.org", sector=SECTORS[i % 5]) for i in range(6)]
    rnd = study.rounds.get(number=1)
    round_open(rnd=rnd)
    _answer(panel[0], rnd, "bci", expertise="high", importance="4")
    _answer(panel[1], rnd, "bci", expertise="low", importance="cant_judge")
    _answer(panel[2], rnd, "bci", importance="2")
    _answer(panel[3], rnd, "bci", importance="5")
    _answer(panel[4], rnd, "bci", leader="eu")
    _answer(panel[5], rnd, "bci", importance="3")
    _answer(panel[5], rnd, "bci", importance="")
    assert Response.objects.filter(round=rnd, topic__code="bci").count() == 6
    _compare(rnd)
    rows, summary = round_results_compute(rnd=rnd)
    bci = summary["topics"]["bci"]
    assert bci["n"] == 5
    assert bci["levels"] == {"high": 1, "low": 1, "none": 3}
    assert bci["sectors"] == {"company": 1, "government": 1, "other": 1, "public_research": 1, "university": 1}
    assert summary["respondents"] == 5
    importance = _row(rows, "bci", "importance")
    assert (importance["n"], importance["data"]["n_cant_judge"]) == (3, 1)
    assert importance["data"]["levels"] == {"high": 1, "none": 2}


@pytest.mark.django_db
def test_round_change_is_over_the_paired_respondents_with_a_leaver_and_a_joiner(study: Study) -> None:
    """Round 1: Ann 1, Ben 2, Cat 3, Dov 4.  Ann leaves; Eve joins in round 2: Ben 3, Cat 3, Dov 5, Eve 1."""
    ann, ben, cat, dov = (
        make_participant(study, f"{n}@example.org", topics=["bci"]) for n in ("ann", "ben", "cat", "dov")
    )
    round1 = study.rounds.get(number=1)
    round_open(rnd=round1)
    for who, value in ((ann, "1"), (ben, "2"), (cat, "3"), (dov, "4")):
        _answer(who, round1, "bci", expertise="high", importance=value)
    round_close(rnd=round1)
    assert round_aggregate(round_id=round1.pk) is True
    eve = make_participant(study, "eve@example.org", sector="company", topics=["bci"])
    round2 = study.rounds.get(number=2)
    round_open(rnd=round2)
    for who, value in ((ben, "3"), (cat, "3"), (dov, "5"), (eve, "1")):
        # Dov now states medium expertise: he moves from the high group to the rest.
        _answer(who, round2, "bci", expertise="medium" if who == dov else "high", importance=value)
    _compare(round2)
    rows, _ = round_results_compute(rnd=round2)
    change = _row(rows, "bci", "importance")["data"]["stability"]
    assert (change["from_round"], change["n_before"], change["n_paired"]) == (1, 4, 3)
    # Paired: before [2, 3, 4], after [3, 3, 5].
    assert (change["median_before"], change["q1_before"], change["q3_before"], change["iqr_before"]) == (3, 2.5, 3.5, 1)
    assert (change["median_after"], change["q1_after"], change["q3_after"], change["iqr_after"]) == (3, 3, 4, 1)
    assert change["delta_iqr"] == 0
    # All against all: [1, 2, 3, 4] (IQR 1.5) against [1, 3, 3, 5] (IQR 1).
    assert change["delta_iqr_all"] == -0.5
    assert change["share_changed"] == pytest.approx(2 / 3, abs=1e-9)
    assert change["n_nonzero"] == 2
    # Who moved between the groups: Ann (high, university) left, Eve (high, company) joined, Dov changed level.
    assert change["moves"] == {
        "levels": {">high": 1, "high>": 1, "high>medium": 1},
        "sectors": {">company": 1, "university>": 1},
    }
    test = stats.wilcoxon([2, 3, 4], [3, 3, 5])
    assert change["wilcoxon_statistic"] == test["statistic"] == 0
    assert change["wilcoxon_p"] == pytest.approx(test["p_value"], abs=1e-9)
    # Ann's round-1 answer and Eve's round-2 answer are in no pair: the unpaired figures differ.
    assert _row(rows, "bci", "importance")["data"]["median"] == 3
    assert _row(rows, "bci", "importance")["n"] == 4


@pytest.mark.django_db
def test_kendall_w_is_per_area_over_the_experts_who_rated_every_topic_of_the_area(catalog: Any) -> None:
    """Quantum information has three topics in the study, next-generation networks two answered ones (a
    third, satellite internet, was answered by nobody: Nina typed an importance there and took it back),
    neurotechnology one.

    Quinn, Quentin and Queenie rate all three quantum topics alike; Quade rates them the other way round but
    says "can't judge" on quantum sensing; Petra and Paul rate two quantum topics only.  On the networks
    Petra, Paul and Nina rate both topics."""
    from foresight.delphi.services.studies import study_create

    quantum = ["quantum-computing", "quantum-communication", "quantum-sensing"]
    networks = ["6g", "future-networks"]
    study = study_create(
        title_en="Areas",
        horizon_year=2045,
        topics=list(Topic.objects.filter(code__in=[*quantum, *networks, "satellite-internet", "bci"])),
        code="areas",
    )
    rnd = study.rounds.get(number=1)
    full = [
        make_participant(study, f"{n}@example.org", topics=[*quantum, "bci"]) for n in ("quinn", "quentin", "queenie")
    ]
    quade = make_participant(study, "quade@example.org", topics=quantum)
    petra, paul = (
        make_participant(study, f"{n}@example.org", topics=[*quantum[:2], *networks]) for n in ("petra", "paul")
    )
    nina = make_participant(study, "nina@example.org", topics=[*networks, "satellite-internet"])
    round_open(rnd=rnd)
    for who in full:
        for code, value in zip([*quantum, "bci"], ["5", "4", "2", "3"], strict=True):
            _answer(who, rnd, code, expertise="medium", importance=value)
    for code, value in zip(quantum, ["1", "4", "cant_judge"], strict=True):
        _answer(quade, rnd, code, expertise="low", importance=value)
    for who, values in ((petra, ["2", "3", "5", "1"]), (paul, ["4", "4", "1", "5"])):
        for code, value in zip([*quantum[:2], *networks], values, strict=True):
            _answer(who, rnd, code, expertise="high", importance=value)
    for code, value in zip(networks, ["4", "2"], strict=True):
        _answer(nina, rnd, code, expertise="high", importance=value)
    _answer(nina, rnd, "satellite-internet", importance="2")
    _answer(nina, rnd, "satellite-internet", importance="")
    assert Response.objects.filter(round=rnd, topic__code="satellite-internet").exists()
    _compare(rnd)
    _, summary = round_results_compute(rnd=rnd)
    by_area = summary["kendall_importance_by_area"]
    assert sorted(by_area) == ["next-generation-networks", "quantum-information"]  # bci's area has one topic
    assert (by_area["quantum-information"]["raters"], by_area["quantum-information"]["topics"]) == (3, 3)
    assert by_area["quantum-information"]["w"] == pytest.approx(1.0, abs=1e-9)  # Quade would have lowered it
    networks_w = stats.kendall_w([[5, 1], [1, 5], [4, 2]])  # columns: 6g, future-networks
    assert (by_area["next-generation-networks"]["raters"], by_area["next-generation-networks"]["topics"]) == (3, 2)
    assert by_area["next-generation-networks"]["w"] == pytest.approx(networks_w["w"], abs=1e-9)
    assert networks_w["w"] == pytest.approx(1 / 9, abs=1e-9)
    assert by_area["next-generation-networks"]["p_value"] == pytest.approx(networks_w["p_value"], abs=1e-9)
    assert summary["respondents"] == 7
    assert "satellite-internet" not in summary["topics"]
    assert "kendall_w_importance" not in summary


values = st.lists(st.one_of(st.integers(1, 5), st.floats(-1e6, 1e6, allow_nan=False), st.none()), max_size=60)


def _table(xs: list[Any]) -> Counter[Any]:
    return Counter(x for x in xs if x is not None)


@settings(max_examples=300, deadline=None)
@given(values)
def test_frequency_tables_give_exactly_the_list_figures(xs: list[Any]) -> None:
    assert stats.describe_counts(_table(xs)) == stats.describe(xs)
    assert stats.share_between_counts(_table(xs), 4, 5) == stats.share_between(xs, 4, 5)
    assert stats.rwg_counts(_table(xs), 5) == stats.rwg(xs, 5)
    table = stats.Frequencies(_table(xs))
    for p in (0.0, 0.1, 0.3, 0.5, 0.9, 1.0):
        assert table.quantile(p) == stats.quantile(xs, p)
        assert table.quantile(p, "type6") == stats.quantile(xs, p, "type6")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.sampled_from([1.0, 0.6, 0.3, 0.0])), max_size=60))
def test_weighted_index_is_the_exact_weighted_mean(pairs: list[tuple[int, float]]) -> None:
    got = stats.scale_index_counts(Counter(pairs), low=1, high=5)
    total = sum(w for _, w in pairs)
    if total == 0:
        assert got is None
    else:
        from fractions import Fraction

        exact = sum(Fraction(v - 3) * Fraction(w) for v, w in pairs) / sum(Fraction(w) for _, w in pairs)
        assert got == pytest.approx(25 * (float(exact) + 2), abs=1e-9)
        assert 0 <= got <= 100


def test_frequency_tables_reject_bad_counts() -> None:
    with pytest.raises(TypeError):
        stats.describe_counts({3: 1.5})
    with pytest.raises(ValueError):
        stats.describe_counts({3: -1})
    with pytest.raises(TypeError):
        stats.describe_counts([3, 4])
    with pytest.raises(ValueError):
        stats.scale_index_counts({(3, -1.0): 2}, low=1, high=5)
    assert stats.describe_counts({}) == stats.describe([])
    with pytest.raises(ValueError):
        stats.Frequencies({3: 1}).quantile(1.5)
    with pytest.raises(ValueError):
        stats.Frequencies({3: 1}).quantile(0.5, "type9")
    mixed = stats.describe_counts({Decimal("2.5"): 2, 4: 1, None: 7, 5: 0})
    assert (mixed["n"], mixed["mean"], mixed["median"]) == (3, 3.0, 2.5)


cells = st.lists(
    st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), max_size=70),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(cells)
def test_wilcoxon_many_is_wilcoxon_of_each_sample(samples: list[list[tuple[int, int]]]) -> None:
    pairs = [([b for b, _ in s], [a for _, a in s]) for s in samples]
    assert stats.wilcoxon_many(pairs) == [stats.wilcoxon(b, a) for b, a in pairs]
