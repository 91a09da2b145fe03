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
from foresight.delphi.models import Answer, Question, Response, Round, RoundStat, Study
from foresight.delphi.services.aggregation import results_checksum, round_aggregate, round_results_compute
from foresight.delphi.services.responses import response_save, round_submit
from foresight.delphi.services.rounds import round_close, round_open
from foresight.delphi.services.simulation import _answers, topic_truth
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
            answers = _answers(rng, truth[topic.pk], topic, own_areas, medians, study.horizon_year)
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
    assert round_aggregate(round_id=round2.pk) is True
    round2.refresh_from_db()
    assert round2.checksum == results_checksum(*reference.round_results_compute(rnd=round2))
    assert RoundStat.objects.filter(round=round2).count() == len(rows)


@pytest.mark.django_db
def test_kendall_w_over_experts_who_rated_every_topic(study: Study) -> None:
    """Four experts rate every topic, two rate some: W is over the four, and matches the reference."""
    codes = list(study.topics.values_list("code", flat=True))
    full = [make_participant(study, f"full{i}@example.org") for i in range(4)]
    part = [make_participant(study, f"part{i}@example.org", topics=codes[:2]) for i in range(2)]
    rnd = study.rounds.get(number=1)
    round_open(rnd=rnd)
    for i, participant in enumerate(full + part):
        for j, topic in enumerate(participant.topics.order_by("code")):
            response_save(
                participant=participant,
                rnd=rnd,
                topic=topic,
                answers={"expertise": "high", "importance": str(1 + (i + j) % 5)},
            )
    _compare(rnd)
    _, summary = round_results_compute(rnd=rnd)
    matrix = [[1 + (i + j) % 5 for j in range(len(codes))] for i in range(4)]
    assert summary["kendall_w_importance"]["w"] == pytest.approx(stats.kendall_w(matrix)["w"], abs=1e-9)
    assert summary["respondents"] == 6
    assert Response.objects.filter(round=rnd).count() == 4 * len(codes) + 2 * 2
    assert Question.objects.filter(study=study, key="importance").exists()


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
