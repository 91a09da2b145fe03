"""Pure scoring functions: normalisation, weighted scores, ranks, tiers, matrices, groups and AHP."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foresight.priorities.scoring import (
    AHP_CR_MAX,
    DIVERGENCE_GAP,
    RANDOM_INDEX,
    InconsistentMatrix,
    ahp_weights,
    divergence,
    minmax,
    quadrant_competitiveness,
    quadrant_timing,
    ranks,
    suggest_tier,
    weighted_score,
)

# --- minmax -------------------------------------------------------------------------------------


def test_minmax_scales_to_the_unit_interval_and_keeps_missing_values() -> None:
    assert minmax([1, 3, None, 5]) == [0.0, 0.5, None, 1.0]
    assert minmax([10.0, 2.5, 7.0]) == [1.0, 0.0, pytest.approx(4.5 / 7.5)]


def test_a_constant_column_gives_one_half_to_every_present_value() -> None:
    assert minmax([2, 2, None, 2]) == [0.5, 0.5, None, 0.5]
    assert minmax([7]) == [0.5]


def test_minmax_of_nothing() -> None:
    assert minmax([]) == []
    assert minmax([None, None]) == [None, None]
    assert minmax([float("nan"), 1.0]) == [None, 0.5]


def test_minmax_refuses_infinity() -> None:
    with pytest.raises(ValueError, match="infinite"):
        minmax([1.0, math.inf])


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), finite), max_size=30))
def test_minmax_is_monotone_bounded_and_keeps_gaps(values: list[float | None]) -> None:
    out = minmax(values)
    assert [v is None for v in out] == [v is None for v in values]
    present = [(v, o) for v, o in zip(values, out, strict=True) if v is not None]
    assert all(o is not None and 0.0 <= o <= 1.0 for _, o in present)
    for a, oa in present:
        for b, ob in present:
            if a < b:
                assert oa <= ob  # type: ignore[operator]
    if present and min(v for v, _ in present) < max(v for v, _ in present):
        assert min(o for _, o in present) == 0.0  # type: ignore[type-var]
        assert max(o for _, o in present) == 1.0  # type: ignore[type-var]


# --- weighted_score -----------------------------------------------------------------------------


def test_weighted_score_by_hand() -> None:
    # a normalises to 0, .5, 1; b to 0, (missing → 0), 1; weights 3:1 → .75 and .25.
    scores = weighted_score({"a": [0, 5, 10], "b": [1, None, 3]}, {"a": 3, "b": 1})
    assert scores == [0.0, pytest.approx(0.375), 1.0]


def test_a_missing_value_counts_as_the_worst_after_normalisation() -> None:
    # Topic 2 has no value for b; it scores as if it had b's minimum.
    with_gap = weighted_score({"a": [1, 1, 1], "b": [2, 4, None]}, {"a": 1, "b": 1})
    at_min = weighted_score({"a": [1, 1, 1], "b": [2, 4, 2]}, {"a": 1, "b": 1})
    assert with_gap == at_min == [0.25, 0.75, 0.25]


def test_a_criterion_without_weight_does_not_count() -> None:
    assert weighted_score({"a": [1, 2], "b": [9, 0]}, {"a": 2}) == [0.0, 1.0]


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"a": 1, "zzz": 1}, "unknown criteria: zzz"),
        ({"a": -1, "b": 2}, "must not be negative"),
        ({"a": 0, "b": 0}, "positive weight"),
        ({}, "positive weight"),
        ({"a": math.nan}, "finite number"),
        ({"a": True}, "finite number"),
    ],
)
def test_weighted_score_refuses_bad_weights(weights: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        weighted_score({"a": [1, 2], "b": [3, 4]}, weights)


def test_weighted_score_refuses_ragged_criteria() -> None:
    with pytest.raises(ValueError, match="different lengths"):
        weighted_score({"a": [1, 2], "b": [3]}, {"a": 1})


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=1, max_value=12).flatmap(
        lambda n: st.tuples(
            st.lists(st.one_of(st.none(), finite), min_size=n, max_size=n),
            st.lists(st.one_of(st.none(), finite), min_size=n, max_size=n),
            st.floats(min_value=0.01, max_value=100),
            st.floats(min_value=0, max_value=100),
        )
    )
)
def test_weighted_scores_lie_in_the_unit_interval(
    case: tuple[list[float | None], list[float | None], float, float],
) -> None:
    a, b, wa, wb = case
    scores = weighted_score({"a": a, "b": b}, {"a": wa, "b": wb})
    assert all(-1e-12 <= s <= 1 + 1e-12 for s in scores)


# --- ranks and tiers ----------------------------------------------------------------------------


def test_rank_one_is_the_best_and_ties_share_the_minimum_rank() -> None:
    assert ranks([0.2, 0.9, 0.5, 0.9, None]) == [4, 1, 3, 1, None]
    assert ranks([]) == []
    assert ranks([0.3, 0.3, 0.3]) == [1, 1, 1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-5, 5).map(float)), max_size=25))
def test_a_rank_is_one_plus_the_number_of_strictly_better_scores(scores: list[float | None]) -> None:
    out = ranks(scores)
    present = [s for s in scores if s is not None]
    for s, r in zip(scores, out, strict=True):
        if s is None:
            assert r is None
        else:
            assert r == 1 + sum(1 for t in present if t > s)


@pytest.mark.parametrize(
    ("p", "tier"),
    [(1.0, "priority"), (0.5, "priority"), (0.4999, "key"), (0.1, "key"), (0.0999, "watch"), (0.0, "watch")],
)
def test_suggested_tiers_follow_the_probability_of_the_top_k(p: float, tier: str) -> None:
    assert suggest_tier(p) == tier


def test_a_tier_needs_a_probability() -> None:
    with pytest.raises(ValueError):
        suggest_tier(1.5)


# --- matrices and groups ------------------------------------------------------------------------


def test_quadrants_of_importance_and_competitiveness() -> None:
    cut = {"importance_cut": 50.0, "competitiveness_cut": 50.0}
    assert quadrant_competitiveness(80, 20, **cut) == "strengthen"
    assert quadrant_competitiveness(80, 70, **cut) == "lead_maintain"
    assert quadrant_competitiveness(30, 70, **cut) == "watch"
    assert quadrant_competitiveness(30, 20, **cut) == "deprioritise"
    assert quadrant_competitiveness(50, 50, **cut) == "lead_maintain"  # a value on the cut counts as high
    assert quadrant_competitiveness(None, 50, **cut) is None


def test_quadrants_of_importance_and_time_to_realisation() -> None:
    cut = {"importance_cut": 50.0, "year_cut": 2030.0}
    assert quadrant_timing(80, 2028, **cut) == "act_now"
    assert quadrant_timing(80, 2030, **cut) == "act_now"  # realised in the last year of the period
    assert quadrant_timing(80, 2035, **cut) == "build_up"
    assert quadrant_timing(20, 2027, **cut) == "adopt"
    assert quadrant_timing(20, 2040, **cut) == "monitor"
    assert quadrant_timing(80, None, **cut) is None


def test_divergence_flags_a_gap_of_fifteen_points_or_more() -> None:
    assert divergence({"company": 80.0, "university": 65.0, "government": 70.0}) == {
        "gap": 15.0,
        "divergent": True,
        "highest": "company",
        "lowest": "university",
    }
    assert divergence({"company": 80.0, "university": 66.0})["divergent"] is False
    assert divergence({"company": 80.0, "university": None}) == {
        "gap": None,
        "divergent": False,
        "highest": None,
        "lowest": None,
    }
    assert DIVERGENCE_GAP == 15.0


# --- AHP ----------------------------------------------------------------------------------------

# Saaty, T.L. (2008) 'Decision making with the analytic hierarchy process', Int. J. Services Sciences
# 1(1), 83–98, table 3: "Which drink is consumed more in the US?" Rows/columns: coffee, wine, tea,
# beer, sodas, milk, water. Saaty reports the derived scale .177 .019 .042 .116 .190 .129 .327 (actual
# consumption .180 .010 .040 .120 .180 .140 .330) and C.R. = 0.022 with RI(7) = 1.32.
DRINKS = [
    [1, 9, 5, 2, 1, 1, 1 / 2],
    [1 / 9, 1, 1 / 3, 1 / 9, 1 / 9, 1 / 9, 1 / 9],
    [1 / 5, 3, 1, 1 / 3, 1 / 4, 1 / 3, 1 / 9],
    [1 / 2, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [1, 9, 4, 2, 1, 2, 1 / 2],
    [1, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [2, 9, 9, 3, 2, 3, 1],
]
DRINKS_WEIGHTS = [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327]


def _power_iteration(matrix: list[list[float]], steps: int = 200) -> tuple[list[float], float]:
    """The hand method: multiply a vector by the matrix until it settles, normalising to sum 1 each time."""
    n = len(matrix)
    w = [1.0 / n] * n
    for _ in range(steps):
        v = [sum(matrix[i][j] * w[j] for j in range(n)) for i in range(n)]
        total = sum(v)
        w = [x / total for x in v]
    aw = [sum(matrix[i][j] * w[j] for j in range(n)) for i in range(n)]
    lambda_max = sum(aw[i] / w[i] for i in range(n)) / n
    return w, lambda_max


def test_ahp_reproduces_saatys_drink_consumption_example() -> None:
    result = ahp_weights(DRINKS)
    assert [round(w, 3) for w in result["weights"]] == DRINKS_WEIGHTS
    assert round(result["cr"], 3) == 0.022
    # Independent check by power iteration, and CR = ((λ − n)/(n − 1))/RI(7) by hand.
    w, lambda_max = _power_iteration(DRINKS)
    assert result["weights"] == pytest.approx(w, abs=1e-9)
    assert result["lambda_max"] == pytest.approx(lambda_max, abs=1e-9)
    assert result["ci"] == pytest.approx((lambda_max - 7) / 6, abs=1e-9)
    assert result["cr"] == pytest.approx((lambda_max - 7) / 6 / 1.32, abs=1e-9)
    assert 7.17 < result["lambda_max"] < 7.18  # 7 + 0.022 · 6 · 1.32 = 7.174


def test_ahp_of_a_consistent_matrix_by_hand() -> None:
    # a_ij = w_i / w_j with w = 4:2:1, so the weights are 4/7, 2/7, 1/7, λmax = n = 3 and CR = 0.
    result = ahp_weights([[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]])
    assert result["weights"] == pytest.approx([4 / 7, 2 / 7, 1 / 7], abs=1e-12)
    assert result["lambda_max"] == pytest.approx(3.0, abs=1e-12)
    assert result["cr"] == pytest.approx(0.0, abs=1e-12)


def test_two_criteria_are_always_consistent() -> None:
    result = ahp_weights([[1, 3], [1 / 3, 1]])
    assert result["weights"] == pytest.approx([0.75, 0.25])
    assert result["cr"] == 0.0


def test_an_inconsistent_matrix_is_refused_with_its_consistency_ratio() -> None:
    # A prefers B strongly, B prefers C strongly, yet C prefers A strongly: a cycle.
    cyclic = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]
    with pytest.raises(InconsistentMatrix) as caught:
        ahp_weights(cyclic)
    assert isinstance(caught.value, ValueError)
    assert caught.value.cr > AHP_CR_MAX
    assert caught.value.cr == pytest.approx(caught.value.result["ci"] / RANDOM_INDEX[2])
    assert "consistency ratio" in str(caught.value)
    # The figures stay available for showing the CR to staff.
    assert ahp_weights(cyclic, max_cr=None)["cr"] == pytest.approx(caught.value.cr)


def test_a_mildly_inconsistent_matrix_just_above_the_limit_is_refused() -> None:
    # A > B (3), B > C (3), A vs C only 1: CR ≈ 0.137 for n = 3.
    with pytest.raises(InconsistentMatrix) as caught:
        ahp_weights([[1, 3, 1], [1 / 3, 1, 3], [1, 1 / 3, 1]])
    assert 0.10 < caught.value.cr < 1.0


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[1, 3], [3, 1]], "reciprocal"),
        ([[1, 2, 3], [1 / 2, 1, 2]], "square"),
        ([[1]], "at least two"),
        ([], "at least two"),
        ([[1, -2], [-1 / 2, 1]], "positive"),
        ([[1, 0], [0, 1]], "positive"),
        ([[2, 1], [1, 1]], "diagonal"),
        ([[1, math.inf], [0, 1]], "positive"),
        ([[1, "x"], [1, 1]], "number"),
        ("not a matrix", "list of rows"),
        ([[1.0] * 11 for _ in range(11)], "At most 10"),
    ],
)
def test_a_matrix_that_is_not_positive_reciprocal_is_refused(matrix: object, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        ahp_weights(matrix)  # type: ignore[arg-type]
    assert not isinstance(caught.value, InconsistentMatrix)


def test_judgements_typed_with_three_decimals_count_as_reciprocal() -> None:
    result = ahp_weights([[1, 3, 9], [0.333, 1, 3], [0.111, 0.333, 1]])
    assert result["weights"] == pytest.approx([9 / 13, 3 / 13, 1 / 13], abs=1e-3)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=0.1, max_value=10), min_size=2, max_size=10))
def test_a_consistent_matrix_gives_back_its_weights(raw: list[float]) -> None:
    w = np.array(raw) / sum(raw)
    matrix = [[w[i] / w[j] for j in range(len(w))] for i in range(len(w))]
    result = ahp_weights(matrix)
    assert result["weights"] == pytest.approx(list(w), abs=1e-9)
    assert result["cr"] == pytest.approx(0.0, abs=1e-9)
    assert sum(result["weights"]) == pytest.approx(1.0)
