"""The seeded bootstrap of ranks: reproducible, chunk-independent, and equal to a plain loop-by-loop version."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from foresight import stats
from foresight.delphi.services.aggregation import scale_index, weighted_index
from foresight.priorities.scoring import (
    IndexCriterion,
    YearCriterion,
    bootstrap_ranks,
    minmax,
    ranks,
    suggest_tier,
    weighted_score,
)

WEIGHTS = {
    "importance_index": 0.3,
    "importance_index_high": 0.15,
    "importance_index_weighted": 0.1,
    "competitiveness_gap": 0.15,
    "timing": 0.15,
    "scenario_pull": 0.1,
    "policy_list": 0.05,
}


def panel(respondents: int, topics: int, per: int, seed: int) -> dict[str, Any]:
    """A synthetic panel like a national survey: each respondent answers ``per`` topics around a latent truth."""
    rng = np.random.default_rng(seed)
    shape = (respondents, topics)
    importance, competitiveness, years = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    expertise, high = np.zeros(shape), np.zeros(shape)
    true_imp = rng.uniform(-1.5, 1.5, topics)
    true_comp = rng.uniform(-1.5, 1.5, topics)
    true_year = rng.integers(2027, 2042, topics)
    for r in range(respondents):
        cols = rng.choice(topics, size=per, replace=False)
        importance[r, cols] = np.clip(np.rint(true_imp[cols] + rng.normal(0, 0.9, per)), -2, 2)
        competitiveness[r, cols] = np.clip(np.rint(true_comp[cols] + rng.normal(0, 0.9, per)), -2, 2)
        years[r, cols] = np.clip(np.rint(true_year[cols] + rng.normal(0, 3, per)), 2026, 2050)
        level = rng.choice([1.0, 0.6, 0.3], size=per, p=[0.3, 0.4, 0.3])
        expertise[r, cols] = level
        high[r, cols] = level == 1.0
        # Some "can't judge": a missing code, the expertise still stated.
        skip = cols[rng.random(per) < 0.08]
        importance[r, skip] = np.nan
    return {
        "importance": importance,
        "competitiveness": competitiveness,
        "years": years,
        "expertise": expertise,
        "high": high,
        "pull": np.round(rng.uniform(0, 3, topics), 1),
        "policy": rng.integers(0, 2, topics).astype(float),
    }


def criteria(p: dict[str, Any], cut: float = 2032.0) -> dict[str, Any]:
    return {
        "importance_index": IndexCriterion(p["importance"]),
        "importance_index_high": IndexCriterion(p["importance"], p["high"]),
        "importance_index_weighted": IndexCriterion(p["importance"], p["expertise"]),
        "competitiveness_gap": IndexCriterion(p["competitiveness"], reverse=True),
        "timing": YearCriterion(p["years"], cut=cut),
        "scenario_pull": p["pull"],
        "policy_list": p["policy"],
    }


@pytest.fixture(scope="module")
def realistic() -> dict[str, Any]:
    return panel(respondents=400, topics=30, per=12, seed=11)


def _as_dict(result: Any) -> dict[str, Any]:
    return dict(vars(result))


def test_the_same_seed_gives_the_same_result(realistic: dict[str, Any]) -> None:
    first = bootstrap_ranks(criteria(realistic), WEIGHTS, top_k=5, seed=42, B=300)
    second = bootstrap_ranks(criteria(realistic), WEIGHTS, top_k=5, seed=42, B=300)
    assert _as_dict(first) == _as_dict(second)


def test_another_seed_gives_other_intervals_but_the_same_point_ranks(realistic: dict[str, Any]) -> None:
    first = bootstrap_ranks(criteria(realistic), WEIGHTS, top_k=5, seed=42, B=300)
    other = bootstrap_ranks(criteria(realistic), WEIGHTS, top_k=5, seed=43, B=300)
    assert other.rank == first.rank and other.score == first.score
    assert other.p_top_k != first.p_top_k
    assert (other.rank_low, other.rank_high) != (first.rank_low, first.rank_high)


def test_the_chunk_size_does_not_change_the_result(realistic: dict[str, Any]) -> None:
    whole = bootstrap_ranks(criteria(realistic), WEIGHTS, top_k=5, seed=3, B=120)
    for chunk in (1, 7, 120, 1000):
        assert _as_dict(bootstrap_ranks(criteria(realistic), WEIGHTS, top_k=5, seed=3, B=120, chunk=chunk)) == _as_dict(
            whole
        )


def test_point_ranks_lie_within_their_rank_intervals(realistic: dict[str, Any]) -> None:
    result = bootstrap_ranks(criteria(realistic), WEIGHTS, top_k=5, seed=2024, B=1000)
    for rank, low, median, high in zip(result.rank, result.rank_low, result.median_rank, result.rank_high, strict=True):
        assert low <= rank <= high
        assert low <= median <= high
    assert sorted(result.rank) == list(range(1, 31))  # no ties on realistic data


def test_the_probabilities_of_the_top_k_sum_to_k_without_ties(realistic: dict[str, Any]) -> None:
    result = bootstrap_ranks(criteria(realistic), WEIGHTS, top_k=5, seed=9, B=400)
    assert sum(result.p_top_k) == pytest.approx(5.0, abs=1e-9)
    assert all(0.0 <= p <= 1.0 for p in result.p_top_k)
    assert result.tier == [suggest_tier(p) for p in result.p_top_k]


def test_ties_share_the_best_rank_so_the_top_k_can_hold_more_than_k() -> None:
    # Four identical topics: every sample ties them at rank 1, so each is in the top 2 every time.
    codes = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [2.0, 2.0, 2.0, 2.0]])
    result = bootstrap_ranks(
        {"importance_index": IndexCriterion(codes)}, {"importance_index": 1}, top_k=2, seed=1, B=50
    )
    assert result.rank == [1, 1, 1, 1]
    assert result.p_top_k == [1.0, 1.0, 1.0, 1.0]


def test_point_figures_are_the_full_sample_figures(realistic: dict[str, Any]) -> None:
    result = bootstrap_ranks(criteria(realistic), WEIGHTS, top_k=5, seed=1, B=10)
    imp = realistic["importance"]
    for t in range(imp.shape[1]):
        answered = ~np.isnan(imp[:, t])
        values = list(imp[answered, t] + 3)  # back on the 1–5 scale the round statistics use
        assert result.criteria["importance_index"][t] == pytest.approx(scale_index(values, low=1, high=5), abs=1e-9)
        pairs = list(zip(values, realistic["expertise"][answered, t], strict=True))
        assert result.criteria["importance_index_weighted"][t] == pytest.approx(
            weighted_index(pairs, low=1, high=5), abs=1e-9
        )
        median = stats.quantile(realistic["years"][:, t], 0.5)
        assert result.criteria["timing"][t] == max(0.0, 2032.0 - median)
    # ... and the scores are weighted_score of those criteria, ranked by ranks().
    assert result.score == pytest.approx(weighted_score(result.criteria, WEIGHTS), abs=1e-12)
    assert result.rank == ranks(result.score)


# --- an independent, loop-by-loop reimplementation ------------------------------------------------


def _loop_index(idx: list[int], codes: np.ndarray, weights: np.ndarray | None, t: int, reverse: bool) -> float | None:
    pairs = [
        (float(codes[r, t]) + 3, 1.0 if weights is None else float(weights[r, t]))
        for r in idx
        if not math.isnan(codes[r, t])
    ]
    value = weighted_index(pairs, low=1, high=5)  # the round statistics' own formula
    if value is None:
        return None
    value = round(value, 10)
    return round(100.0 - value, 10) if reverse else value


def _loop_timing(idx: list[int], years: np.ndarray, t: int, cut: float) -> float | None:
    median = stats.quantile([years[r, t] for r in idx], 0.5)
    return None if median is None else max(0.0, cut - median)


def _loop_sample(idx: list[int], p: dict[str, Any], cut: float) -> dict[str, list[float | None]]:
    topics = p["importance"].shape[1]
    out: dict[str, list[float | None]] = {
        "importance_index": [_loop_index(idx, p["importance"], None, t, False) for t in range(topics)],
        "importance_index_high": [_loop_index(idx, p["importance"], p["high"], t, False) for t in range(topics)],
        "importance_index_weighted": [
            _loop_index(idx, p["importance"], p["expertise"], t, False) for t in range(topics)
        ],
        "competitiveness_gap": [_loop_index(idx, p["competitiveness"], None, t, True) for t in range(topics)],
        "timing": [_loop_timing(idx, p["years"], t, cut) for t in range(topics)],
        "scenario_pull": [float(v) for v in p["pull"]],
        "policy_list": [float(v) for v in p["policy"]],
    }
    return out


def _loop_score(values: dict[str, list[float | None]]) -> list[float]:
    total = sum(WEIGHTS.values())
    names = sorted(values)
    normalised = {name: minmax(values[name]) for name in names}
    scores = []
    for t in range(len(values[names[0]])):
        score = 0.0
        first = True
        for name in names:
            w = WEIGHTS[name] / total
            term = w * (normalised[name][t] or 0.0)
            score = term if first else score + term
            first = False
        scores.append(score)
    return scores


def _loop_rank(scores: list[float]) -> list[int]:
    return [1 + sum(1 for other in scores if other > s) for s in scores]


def test_a_plain_loop_over_samples_gives_the_same_result() -> None:
    p = panel(respondents=35, topics=7, per=5, seed=5)
    # Topic 6: no high-expertise answer at all, so that criterion is missing there.
    p["high"][:, 6] = 0.0
    cut, top_k, seed, b = 2031.0, 2, 77, 60
    result = bootstrap_ranks(criteria(p, cut), WEIGHTS, top_k=top_k, seed=seed, B=b)

    everyone = list(range(35))
    point = _loop_sample(everyone, p, cut)
    assert set(result.criteria) == set(point)
    for name, values in point.items():
        assert result.criteria[name] == [None if v is None else pytest.approx(v, abs=1e-12) for v in values], name
    assert result.criteria["importance_index_high"][6] is None
    assert result.score == pytest.approx(_loop_score(point), abs=1e-12)
    assert result.rank == _loop_rank(_loop_score(point))

    rng = np.random.default_rng(seed)
    sample_ranks = []
    for _ in range(b):
        idx = [int(i) for i in rng.integers(0, 35, size=35)]  # 35 respondents drawn with replacement
        sample_ranks.append(_loop_rank(_loop_score(_loop_sample(idx, p, cut))))
    for t in range(7):
        mine = [r[t] for r in sample_ranks]
        assert result.median_rank[t] == pytest.approx(stats.quantile(mine, 0.5), abs=1e-12)
        assert result.rank_low[t] == pytest.approx(stats.quantile(mine, 0.05), abs=1e-12)
        assert result.rank_high[t] == pytest.approx(stats.quantile(mine, 0.95), abs=1e-12)
        assert result.p_top_k[t] == pytest.approx(sum(1 for r in mine if r <= top_k) / b, abs=1e-12)


# --- the edges ----------------------------------------------------------------------------------


def test_timing_is_the_type_7_median_year_within_the_plan_period() -> None:
    # Four years: the median is the mean of the two middle ones, 2032.5, so 2.5 years before 2035.
    # A topic realised after the cut scores 0; one without any year has no value.
    years = np.array(
        [[2030.0, 2040.0, np.nan], [2031.0, 2041.0, np.nan], [2034.0, 2042.0, np.nan], [2040.0, 2043.0, np.nan]]
    )
    result = bootstrap_ranks({"timing": YearCriterion(years, cut=2035)}, {"timing": 1}, top_k=1, seed=0, B=10)
    assert result.criteria["timing"] == [2.5, 0.0, None]
    odd = bootstrap_ranks({"timing": YearCriterion(years[:3], cut=2035)}, {"timing": 1}, top_k=1, seed=0, B=10)
    assert odd.criteria["timing"] == [4.0, 0.0, None]


def test_progress_is_reported_after_every_chunk(realistic: dict[str, Any]) -> None:
    seen: list[tuple[int, int]] = []
    bootstrap_ranks(
        criteria(realistic), WEIGHTS, top_k=5, seed=1, B=50, chunk=16, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(16, 50), (32, 50), (48, 50), (50, 50)]


def test_criteria_without_weight_are_reported_but_do_not_count(realistic: dict[str, Any]) -> None:
    only = {"importance_index": 1.0}
    result = bootstrap_ranks(criteria(realistic), only, top_k=3, seed=1, B=30)
    assert result.rank == ranks(result.criteria["importance_index"])
    assert result.criteria["timing"] and all(v is not None for v in result.criteria["timing"])
    assert result.weights["timing"] == 0.0 and result.weights["importance_index"] == 1.0


def test_fixed_criteria_alone_give_degenerate_intervals() -> None:
    result = bootstrap_ranks({"scenario_pull": [3.0, 1.0, 2.0]}, {"scenario_pull": 1}, top_k=1, seed=0, B=20)
    assert result.rank == [1, 3, 2]
    assert result.rank_low == result.rank_high == result.median_rank == [1.0, 3.0, 2.0]
    assert result.p_top_k == [1.0, 0.0, 0.0]


def test_no_topics_gives_an_empty_result() -> None:
    result = bootstrap_ranks({"scenario_pull": []}, {"scenario_pull": 1}, top_k=1, seed=0, B=20)
    assert result.rank == [] and result.p_top_k == []


def test_dense_and_sparse_products_agree() -> None:
    # Everybody answers everything: the dense (BLAS) path; a sparse panel: the sparse path.
    dense = panel(respondents=60, topics=8, per=8, seed=4)
    sparse_like = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in dense.items()}
    one = bootstrap_ranks(criteria(dense), WEIGHTS, top_k=3, seed=5, B=80)
    import foresight.priorities.scoring as scoring

    original = scoring.SPARSE_DENSITY
    scoring.SPARSE_DENSITY = 2.0  # force the sparse path on the same data
    try:
        two = bootstrap_ranks(criteria(sparse_like), WEIGHTS, top_k=3, seed=5, B=80)
    finally:
        scoring.SPARSE_DENSITY = original
    assert _as_dict(one) == _as_dict(two)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"B": 0}, "B must be"),
        ({"top_k": 0}, "top_k must be"),
        ({"seed": -1}, "seed must be"),
        ({"weights": {"importance_index": 0}}, "positive weight"),
        ({"weights": {"nope": 1}}, "unknown criteria"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], message: str) -> None:
    p = panel(respondents=10, topics=3, per=2, seed=1)
    args: dict[str, Any] = {"top_k": 1, "seed": 1, "B": 10}
    weights = kwargs.pop("weights", {"importance_index": 1})
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        bootstrap_ranks({"importance_index": IndexCriterion(p["importance"])}, weights, **args)


def test_criteria_over_different_respondents_are_refused() -> None:
    with pytest.raises(ValueError, match="same respondents"):
        bootstrap_ranks(
            {"a": IndexCriterion(np.zeros((3, 2))), "b": IndexCriterion(np.zeros((4, 2)))},
            {"a": 1, "b": 1},
            top_k=1,
            seed=1,
            B=10,
        )
    with pytest.raises(ValueError, match="different numbers of topics"):
        bootstrap_ranks(
            {"a": IndexCriterion(np.zeros((3, 2))), "b": [1.0, 2.0, 3.0]}, {"a": 1, "b": 1}, top_k=1, seed=1, B=10
        )
