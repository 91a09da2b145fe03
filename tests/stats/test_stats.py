"""Tests for foresight.stats (pure Python; no Django needed).

Four layers:
1. published / hand-verified worked examples (with citations),
2. hypothesis property tests against independent computations
   (NumPy, the ``statistics`` module, SciPy, exact ``Fraction`` arithmetic),
3. edge cases and input validation,
4. the exact (conditional) Wilcoxon signed-rank test against enumeration of
   every sign pattern.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
import warnings
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Literal, SupportsFloat

import numpy as np
import pytest
import scipy.stats  # type: ignore[import-untyped,unused-ignore]
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import foresight.stats as stats

NAN = float("nan")
FAST = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
small_ints = st.integers(min_value=-20, max_value=20)
numbers_ = st.one_of(finite, small_ints)
samples = st.lists(numbers_, min_size=1, max_size=40)
probabilities = st.one_of(
    st.floats(min_value=0.0, max_value=1.0),
    st.sampled_from([0.0, 0.1, 0.25, 0.3, 0.5, 0.7, 0.75, 0.9, 1.0]),
)


def close(a: float | None, b: float, *, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def with_missing(data: st.DataObject, xs: Sequence[object]) -> list[object]:
    """Interleave None/NaN (missing values) at random positions."""
    out = list(xs)
    for _ in range(data.draw(st.integers(0, 5))):
        pos = data.draw(st.integers(0, len(out)))
        out.insert(pos, data.draw(st.sampled_from([None, NAN, np.nan, Decimal("NaN")])))
    return out


# ===========================================================================
# 1. Worked examples
# ===========================================================================


class TestQuantileWorkedExamples:
    # Hyndman, R. J. & Fan, Y. (1996) "Sample quantiles in statistical
    # packages", The American Statistician 50(4), 361-365.
    # Type 7: h = 1 + (n-1)p; type 6: h = (n+1)p clamped to [1, n];
    # Q = x(floor h) + (h - floor h)(x(floor h + 1) - x(floor h)).

    def test_one_to_ten(self) -> None:
        # R: quantile(1:10, c(.1, .25, .5, .9), type = 7) -> 1.90 3.25 5.50 9.10
        #    type 7: h = 1 + 9p = 1.9, 3.25, 5.5, 9.1 and x(k) = k.
        # R: quantile(1:10, c(.1, .25, .5, .9), type = 6) -> 1.10 2.75 5.50 9.90
        #    type 6: h = 11p = 1.1, 2.75, 5.5, 9.9.
        x = list(range(1, 11))
        ps = [0.1, 0.25, 0.5, 0.9]
        assert [stats.quantile(x, p) for p in ps] == pytest.approx([1.9, 3.25, 5.5, 9.1])
        assert [stats.quantile(x, p, method="type6") for p in ps] == pytest.approx([1.1, 2.75, 5.5, 9.9])

    def test_uneven_vector(self) -> None:
        # x = (2, 4, 4, 5, 7, 9, 10), n = 7, computed by hand:
        # type 7, h = 1 + 6p:
        #   p=.10: h=1.6 -> 2 + .6(4-2)  = 3.2
        #   p=.25: h=2.5 -> 4 + .5(4-4)  = 4.0
        #   p=.50: h=4   -> x(4)         = 5.0
        #   p=.60: h=4.6 -> 5 + .6(7-5)  = 6.2
        #   p=.90: h=6.4 -> 9 + .4(10-9) = 9.4
        # type 6, h = 8p:
        #   p=.10: h=0.8 < 1 -> x(1)     = 2.0
        #   p=.25: h=2   -> x(2)         = 4.0
        #   p=.50: h=4   -> x(4)         = 5.0
        #   p=.60: h=4.8 -> 5 + .8(7-5)  = 6.6
        #   p=.90: h=7.2 > n -> x(7)     = 10.0
        # (R's quantile(x, p, type = 7 / 6) gives the same numbers.)
        x = [9, 2, 10, 4, 7, 4, 5]  # deliberately unsorted
        ps = [0.1, 0.25, 0.5, 0.6, 0.9]
        assert [stats.quantile(x, p) for p in ps] == pytest.approx([3.2, 4.0, 5.0, 6.2, 9.4])
        assert [stats.quantile(x, p, "type6") for p in ps] == pytest.approx([2.0, 4.0, 5.0, 6.6, 10.0])


class TestKendallWWorkedExamples:
    def test_strawberries_no_ties(self) -> None:
        # InfluentialPoints, "Kendall coefficient of concordance", worked
        # example I (https://influentialpoints.com/Training/coefficient_of_concordance.htm):
        # 4 raters rank the strawberries of 8 farms.
        # Rank sums R = 31 12 12 15 22 5 22 25, mean 18,
        # S = 169+36+36+9+16+169+16+49 = 500,
        # W = 12 S / (m^2 (n^3 - n)) = 6000 / (16 * 504) = 0.744,
        # chi2 = m (n-1) W = 4 * 7 * 0.744 = 20.83, P = 0.004 (df = 7).
        raters = [
            [8, 4, 2, 3, 5, 1, 6, 7],
            [7, 3, 1, 4, 5, 2, 6, 8],
            [8, 2, 5, 6, 7, 1, 4, 3],
            [8, 3, 4, 2, 5, 1, 6, 7],
        ]
        res = stats.kendall_w(raters)
        assert res["w"] == pytest.approx(500 / 672)
        assert res["chi2"] == pytest.approx(20.833333333)
        assert res["df"] == 7
        assert res["p_value"] == pytest.approx(0.004, abs=5e-4)

    def test_with_ties_by_hand(self) -> None:
        # Tie-corrected W (Kendall & Babington Smith 1939; Siegel & Castellan
        # 1988, Nonparametric Statistics, sec. 9.4 formula with T = sum(t^3 - t)).
        # m = 3 raters, n = 4 items; scores -> mid-ranks:
        #   [1, 2, 3, 4] -> 1,   2,   3,   4     T = 0
        #   [1, 1, 3, 4] -> 1.5, 1.5, 3,   4     T = 2^3 - 2 = 6
        #   [2, 1, 4, 4] -> 2,   1,   3.5, 3.5   T = 6
        # R = 4.5, 4.5, 9.5, 11.5 (sum 30), mean 7.5, S = 9 + 9 + 4 + 16 = 38
        # W = 12 * 38 / (9 * 60 - 3 * 12) = 456 / 504 = 19/21 = 0.904762
        # (uncorrected it would be 456 / 540 = 0.8444)
        # chi2 = m (n-1) W = 9 * 19/21 = 8.142857, df = 3, P = 0.0431
        res = stats.kendall_w([[1, 2, 3, 4], [1, 1, 3, 4], [2, 1, 4, 4]])
        assert res["w"] == pytest.approx(19 / 21)
        assert res["chi2"] == pytest.approx(171 / 21)
        assert res["df"] == 3
        assert res["p_value"] == pytest.approx(0.04315, abs=5e-5)

    def test_perfect_agreement_and_reversal(self) -> None:
        assert stats.kendall_w([[1, 2, 3], [1, 2, 3], [10, 20, 30]])["w"] == pytest.approx(1.0)
        # Two raters with opposite orders: R_j all equal -> S = 0 -> W = 0, P = 1.
        res = stats.kendall_w([[1, 2, 3, 4], [4, 3, 2, 1]])
        assert res["w"] == 0.0
        assert res["chi2"] == 0.0
        assert res["p_value"] == pytest.approx(1.0)


class TestRandUclaWorkedExamples:
    # Fitch K. et al. (2001) The RAND/UCLA Appropriateness Method User's
    # Manual, RAND MR-1269, ch. 8: IPRAS = IPRr + AI * CFA with IPRr = 2.35,
    # CFA = 1.5, AI = |5 - IPRCP|; disagreement if IPR > IPRAS.

    def test_published_panel_of_15(self) -> None:
        # BMJ Open 2012;2:e001431 (doi:10.1136/bmjopen-2012-001431), Table 1:
        # 15 panellists; counts 1, 1, 1 below 7, five 7s, five 8s, two 9s.
        # Reported: median 7.0, P30 7.0, P70 8.0, IPR 1.0, IPRCP 7.5, AI 2.5,
        # IPRAS 6.1 (= 2.35 + 1.5 * 2.5; the table's text misprints 2.35 as
        # 2.5 but its 6.1 uses 2.35), IPR < IPRAS -> no disagreement,
        # median 7 -> appropriate.
        # Type 7 by hand: P30 h = 1 + 14*.3 = 5.2 -> x(5)=x(6)=7;
        # median h = 8 -> 7; P70 h = 10.8 -> x(10)=x(11)=8.
        ratings = [4, 5, 6] + [7] * 5 + [8] * 5 + [9] * 2
        res = stats.rand_ucla(ratings)
        assert res["median"] == 7.0
        assert res["p30"] == pytest.approx(7.0)
        assert res["p70"] == pytest.approx(8.0)
        assert res["ipr"] == pytest.approx(1.0)
        assert res["iprcp"] == pytest.approx(7.5)
        assert res["asymmetry"] == pytest.approx(2.5)
        assert res["ipras"] == pytest.approx(6.1)
        assert res["disagreement"] is False
        assert res["classification"] == "appropriate"

    def test_symmetric_polarised_panel_is_disagreement(self) -> None:
        # Hand-computed, n = 9: ratings 1 1 1 2 5 8 9 9 9.
        # P30 h = 1 + 8*.3 = 3.4 -> 1 + .4(2-1) = 1.4; P70 h = 6.6 -> 8 + .6 = 8.6
        # IPR = 7.2, IPRCP = 5.0, AI = 0 -> IPRAS = 2.35 (the manual's value for
        # a perfectly symmetric distribution); 7.2 > 2.35 -> disagreement,
        # hence "uncertain" whatever the median (5).
        res = stats.rand_ucla([1, 1, 1, 2, 5, 8, 9, 9, 9])
        assert res["p30"] == pytest.approx(1.4)
        assert res["p70"] == pytest.approx(8.6)
        assert res["ipr"] == pytest.approx(7.2)
        assert res["asymmetry"] == pytest.approx(0.0)
        assert res["ipras"] == pytest.approx(2.35)
        assert res["disagreement"] is True
        assert res["classification"] == "uncertain"

    def test_exact_tie_is_not_disagreement(self) -> None:
        # n = 12: 1 1 1 3 6 6 6 6 7 7 7 7.
        # P30: h = 1 + 11*.3 = 4.3 -> 3 + .3(6-3) = 3.9; P70: h = 8.7 -> 6 + .7 = 6.7
        # IPR = 2.8; IPRCP = 5.3; AI = 0.3; IPRAS = 2.35 + 0.45 = 2.8.
        # IPR == IPRAS exactly, which is NOT "IPR > IPRAS"; naive float
        # arithmetic gives IPRAS = 2.7999999999999985 and would flag it.
        res = stats.rand_ucla([1, 1, 1, 3, 6, 6, 6, 6, 7, 7, 7, 7])
        assert res["ipr"] == pytest.approx(2.8)
        assert res["ipras"] == pytest.approx(2.8)
        assert res["disagreement"] is False
        assert res["classification"] == "uncertain"  # median 6

    @pytest.mark.parametrize(
        ("ratings", "expected"),
        [
            ([7, 7, 7, 7], "appropriate"),  # median 7
            ([6, 6, 7, 7], "uncertain"),  # median 6.5
            ([4, 4, 4], "uncertain"),
            ([6, 6, 6], "uncertain"),
            ([3, 3, 3], "inappropriate"),
            ([3, 3, 4, 4], "uncertain"),  # median 3.5
            ([1, 2, 2, 3], "inappropriate"),
            ([9], "appropriate"),
            ([1], "inappropriate"),
        ],
    )
    def test_median_classification(self, ratings: list[int], expected: str) -> None:
        res = stats.rand_ucla(ratings)
        assert res["disagreement"] is False
        assert res["classification"] == expected


class TestRwgWorkedExamples:
    # James, L. R., Demaree, R. G. & Wolf, G. (1984) J. Appl. Psychol. 69(1),
    # 85-98: r_wg = 1 - s^2 / sigma^2_EU, sigma^2_EU = (A^2 - 1) / 12.
    # For A = 5 options sigma^2_EU = 24/12 = 2.0 (A = 7: 4.0; A = 9: 6.67).

    def test_five_point_scale(self) -> None:
        # ratings 3 4 4 4 5: mean 4, s^2 = (1 + 0 + 0 + 0 + 1) / 4 = 0.5
        # r_wg = 1 - 0.5 / 2 = 0.75
        assert stats.rwg([3, 4, 4, 4, 5], 5) == pytest.approx(0.75)

    def test_seven_point_scale(self) -> None:
        # ratings 5 6 7 6: mean 6, s^2 = 2/3; sigma^2_EU = 48/12 = 4
        # r_wg = 1 - (2/3)/4 = 5/6
        assert stats.rwg([5, 6, 7, 6], 7) == pytest.approx(5 / 6)

    def test_perfect_agreement_and_truncation(self) -> None:
        assert stats.rwg([4, 4, 4], 5) == 1.0
        # Bimodal 1 5 1 5: s^2 = 16/3 > 2 -> 1 - 2.67 < 0 -> truncated to 0.
        assert stats.rwg([1, 5, 1, 5], 5) == 0.0


class TestWilcoxonWorkedExample:
    # scipy.stats.wilcoxon documentation example: differences in height of
    # cross- and self-fertilised corn plants (Fisher, The Design of
    # Experiments): wilcoxon(d) -> statistic 24.0, pvalue 0.041259765625.
    # W- = rank(|-48|) + rank(|-67|) = 10 + 14 = 24 = min(W+, W-).
    D = [6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75]

    def test_docs_example(self) -> None:
        after = [100] * len(self.D)
        before = [100 + d for d in self.D]
        res = stats.wilcoxon(before, after)
        assert res["statistic"] == 24.0
        assert res["p_value"] == pytest.approx(0.041259765625)

    def test_two_sided_is_symmetric_in_order(self) -> None:
        zeros = [0] * len(self.D)
        assert stats.wilcoxon(self.D, zeros) == stats.wilcoxon(zeros, self.D)


class TestDescribeWorkedExample:
    def test_small_vector(self) -> None:
        # 2 4 4 4 5 5 7 9: mean 5, sum of squares 32, s^2 = 32/7, sd = 2.138,
        # type-7 q1 (h=2.75) = 4, median (h=4.5) = 4.5, q3 (h=6.25) = 5.5
        res = stats.describe([2, 4, 4, 4, 5, 5, 7, 9])
        assert res["n"] == 8
        assert res["mean"] == 5.0
        assert res["sd"] == pytest.approx(math.sqrt(32 / 7))
        assert res["median"] == 4.5
        assert res["q1"] == pytest.approx(4.0)
        assert res["q3"] == pytest.approx(5.5)
        assert res["iqr"] == pytest.approx(1.5)
        assert res["cv"] == pytest.approx(math.sqrt(32 / 7) / 5)


# ===========================================================================
# 2. Property tests
# ===========================================================================


@FAST
@given(xs=samples, p=probabilities, method=st.sampled_from(["type7", "type6"]))
def test_quantile_matches_numpy(xs: list[float], p: float, method: str) -> None:
    np_methods: dict[str, Literal["linear", "weibull"]] = {"type7": "linear", "type6": "weibull"}
    np_method = np_methods[method]
    expected = float(np.quantile(np.asarray(xs, dtype=float), p, method=np_method))
    got = stats.quantile(xs, p, method)
    assert type(got) is float
    assert close(got, expected)
    assert min(xs) <= got <= max(xs)


@FAST
@given(xs=samples, p=probabilities, data=st.data())
def test_quantile_ignores_missing(xs: list[float], p: float, data: st.DataObject) -> None:
    assert stats.quantile(with_missing(data, xs), p) == stats.quantile(xs, p)  # type: ignore[arg-type]


@FAST
@given(xs=samples)
def test_describe_matches_reference(xs: list[float]) -> None:
    res = stats.describe(xs)
    arr = np.asarray(xs, dtype=float)
    assert res["n"] == len(xs)
    assert close(res["mean"], statistics.fmean(xs), abs_=1e-6)
    assert close(res["median"], statistics.median(xs), abs_=1e-6)
    q1 = float(np.quantile(arr, 0.25))
    q3 = float(np.quantile(arr, 0.75))
    assert close(res["q1"], q1)
    assert close(res["q3"], q3)
    assert close(res["iqr"], q3 - q1, abs_=1e-6)
    if len(xs) >= 2:
        sd = statistics.stdev(xs)
        assert close(res["sd"], sd, rel=1e-7, abs_=1e-6)
        assert close(res["sd"], float(np.std(arr, ddof=1)), rel=1e-7, abs_=1e-6)
        mean = statistics.mean(xs)
        if abs(mean) > 1e-3:
            assert close(res["cv"], sd / mean, rel=1e-6)
    else:
        assert res["sd"] is None
        assert res["cv"] is None
    for key, value in res.items():
        if key != "n":
            assert value is None or type(value) is float
    json.dumps(res)


@FAST
@given(xs=samples, data=st.data())
def test_describe_ignores_missing(xs: list[float], data: st.DataObject) -> None:
    assert stats.describe(with_missing(data, xs)) == stats.describe(xs)  # type: ignore[arg-type]


@FAST
@given(
    xs=st.lists(st.one_of(small_ints, finite), max_size=40),
    bounds=st.lists(st.one_of(small_ints, finite), min_size=2, max_size=2),
    data=st.data(),
)
def test_share_between_matches_count(xs: list[float], bounds: list[float], data: st.DataObject) -> None:
    low, high = sorted(bounds)
    got = stats.share_between(with_missing(data, xs), low, high)  # type: ignore[arg-type]
    if not xs:
        assert got is None
    else:
        count = sum(1 for x in xs if low <= x <= high)
        assert got == count / len(xs)
        assert got is not None and 0.0 <= got <= 1.0


@FAST
@given(options=st.integers(2, 11), data=st.data())
def test_rwg_matches_formula(options: int, data: st.DataObject) -> None:
    ratings = data.draw(st.lists(st.integers(1, options), min_size=2, max_size=30))
    sigma2_eu = (options**2 - 1) / 12
    expected = min(max(1 - float(np.var(ratings, ddof=1)) / sigma2_eu, 0.0), 1.0)
    got = stats.rwg(with_missing(data, ratings), options)  # type: ignore[arg-type]
    assert close(got, expected, abs_=1e-12)


def reference_kendall_w(matrix: list[list[int]]) -> float | None:
    """Independent textbook implementation (Siegel & Castellan eq. 9.16)."""
    m, n = len(matrix), len(matrix[0])
    ranks = [scipy.stats.rankdata(row) for row in matrix]
    rank_sums = [sum(Fraction(float(r[j])) for r in ranks) for j in range(n)]
    mean = Fraction(sum(rank_sums), n)
    s = sum((r - mean) ** 2 for r in rank_sums)
    ties = sum(t**3 - t for row in matrix for t in Counter(row).values())
    denominator = m * m * (n**3 - n) - m * ties
    if denominator == 0:
        return None
    return float(12 * s / denominator)


matrices = st.integers(2, 6).flatmap(
    lambda m: st.integers(2, 7).flatmap(
        lambda n: st.lists(st.lists(st.integers(1, 4), min_size=n, max_size=n), min_size=m, max_size=m)
    )
)


@FAST
@given(matrix=matrices)
def test_kendall_w_matches_reference(matrix: list[list[int]]) -> None:
    expected = reference_kendall_w(matrix)
    res = stats.kendall_w(matrix)
    m, n = len(matrix), len(matrix[0])
    assert res["df"] == n - 1
    if expected is None:
        assert res == {"w": None, "chi2": None, "df": n - 1, "p_value": None}
        return
    assert close(res["w"], expected, abs_=1e-12)
    assert close(res["chi2"], m * (n - 1) * expected, abs_=1e-9)
    assert res["w"] is not None and 0.0 <= res["w"] <= 1.0
    assert close(res["p_value"], float(scipy.stats.chi2.sf(m * (n - 1) * expected, n - 1)))
    # A numpy array gives the same result as the list of lists.
    assert stats.kendall_w(np.asarray(matrix)) == res
    json.dumps(res)


permutation_matrices = st.integers(2, 6).flatmap(
    lambda m: st.integers(3, 8).flatmap(
        lambda n: st.lists(st.permutations(list(range(1, n + 1))), min_size=m, max_size=m)
    )
)


@FAST
@given(matrix=permutation_matrices)
def test_kendall_w_friedman_relation_without_ties(matrix: list[list[int]]) -> None:
    # chi2_Friedman = m (n - 1) W (Siegel & Castellan 1988, sec. 9.4).
    m, n = len(matrix), len(matrix[0])
    friedman = scipy.stats.friedmanchisquare(*np.asarray(matrix, dtype=float).T)
    res = stats.kendall_w(matrix)
    assert close(res["chi2"], float(friedman.statistic), abs_=1e-9)
    assert close(res["w"], float(friedman.statistic) / (m * (n - 1)), abs_=1e-12)
    assert close(res["p_value"], float(friedman.pvalue), abs_=1e-12)


@FAST
@given(matrix=matrices)
def test_kendall_w_friedman_relation_with_ties(matrix: list[list[int]]) -> None:
    # The tie-corrected W and SciPy's tie-corrected Friedman statistic obey
    # the same relation.
    n = len(matrix[0])
    assume(n >= 3)
    assume(any(len(set(row)) > 1 for row in matrix))
    friedman = scipy.stats.friedmanchisquare(*np.asarray(matrix, dtype=float).T)
    res = stats.kendall_w(matrix)
    assert close(res["chi2"], float(friedman.statistic), abs_=1e-9)
    assert close(res["p_value"], float(friedman.pvalue), abs_=1e-12)


def scipy_wilcoxon(x: list[float], y: list[float]) -> tuple[float, float]:
    """The rule on SciPy: drop zero differences; exact up to 50 pairs, else normal.

    Untied samples use SciPy's exact test; tied samples have no SciPy counterpart fast
    enough for a property test (its permutation method evaluates the statistic once per
    sign pattern), so their p is ``reference_conditional_p`` (section 4), itself checked
    against SciPy's permutation method on small samples.
    """
    d = [a - b for a, b in zip(x, y, strict=True) if a != b]
    xs = [a for a, b in zip(x, y, strict=True) if a != b]
    ys = [b for a, b in zip(x, y, strict=True) if a != b]
    untied = len({abs(v) for v in d}) == len(d)
    method = "exact" if untied and len(d) <= 50 else "asymptotic"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = scipy.stats.wilcoxon(xs, ys, correction=False, method=method)
    if method == "asymptotic" and len(d) <= 50:
        return float(res.statistic), reference_conditional_p(d)
    return float(res.statistic), float(res.pvalue)


paired = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.one_of(st.integers(0, 6), finite), min_size=n, max_size=n),
        st.lists(st.one_of(st.integers(0, 6), finite), min_size=n, max_size=n),
    )
)
paired_untied = st.integers(1, 30).flatmap(
    lambda n: st.tuples(
        st.lists(finite, min_size=n, max_size=n, unique=True),
        st.lists(finite, min_size=n, max_size=n, unique=True),
    )
)


@FAST
@given(pair=paired)
def test_wilcoxon_matches_scipy(pair: tuple[list[float], list[float]]) -> None:
    before, after = pair
    res = stats.wilcoxon(before, after)
    if all(b == a for b, a in zip(before, after, strict=True)):
        assert res == {"statistic": None, "p_value": None, "method": None, "n_nonzero": 0}
        return
    statistic, p_value = scipy_wilcoxon(before, after)
    assert res["statistic"] == pytest.approx(statistic)
    assert res["p_value"] == pytest.approx(p_value)
    assert type(res["statistic"]) is float
    assert type(res["p_value"]) is float
    assert res["n_nonzero"] == sum(b != a for b, a in zip(before, after, strict=True))


@FAST
@given(pair=paired_untied, data=st.data())
def test_wilcoxon_drops_incomplete_pairs(pair: tuple[list[float], list[float]], data: st.DataObject) -> None:
    before, after = pair
    b: list[float | None] = list(before)
    a: list[float | None] = list(after)
    for _ in range(data.draw(st.integers(0, 3))):
        pos = data.draw(st.integers(0, len(b)))
        b.insert(pos, data.draw(st.sampled_from([None, NAN, 1.0])))
        a.insert(pos, data.draw(st.sampled_from([None, NAN])) if b[pos] == 1.0 else 2.0)
    assert stats.wilcoxon(b, a) == stats.wilcoxon(before, after)


def exact_rand(ratings: list[int]) -> tuple[bool, Fraction, Fraction]:
    """Exact-arithmetic RAND/UCLA reference: (disagreement, p30, p70)."""
    xs = sorted(ratings)
    n = len(xs)

    def q(p: Fraction) -> Fraction:
        g = (n - 1) * p
        lo = math.floor(g)
        hi = min(lo + 1, n - 1)
        return xs[lo] + (g - lo) * (xs[hi] - xs[lo])

    p30, p70 = q(Fraction(3, 10)), q(Fraction(7, 10))
    ai = abs(5 - (p30 + p70) / 2)
    ipras = Fraction(235, 100) + Fraction(3, 2) * ai
    return p70 - p30 > ipras, p30, p70


@FAST
@given(ratings=st.lists(st.integers(1, 9), min_size=1, max_size=30))
def test_rand_ucla_matches_exact_arithmetic(ratings: list[int]) -> None:
    disagreement, p30, p70 = exact_rand(ratings)
    res = stats.rand_ucla(ratings)
    assert res["disagreement"] is disagreement
    assert close(res["p30"], float(p30))
    assert close(res["p70"], float(p70))
    median = statistics.median(ratings)
    assert res["median"] == median
    if disagreement:
        expected = "uncertain"
    elif median >= 7:
        expected = "appropriate"
    elif median <= 3:
        expected = "inappropriate"
    else:
        expected = "uncertain"
    assert res["classification"] == expected
    json.dumps(res)


# ===========================================================================
# 3. Edge cases and validation
# ===========================================================================


class TestInputHandling:
    def test_accepts_assorted_numeric_types_and_iterables(self) -> None:
        mixed: list[SupportsFloat] = [1, 2.0, Decimal("3"), Fraction(4), np.int64(5), np.float32(6.0)]
        assert stats.quantile(mixed, 0.5) == 3.5
        assert stats.quantile(iter(mixed), 0.5) == 3.5
        assert stats.quantile((x for x in range(1, 7)), 0.5) == 3.5
        assert stats.quantile(np.array([1.0, np.nan, 6.0]), 0.5) == 3.5

    def test_results_are_builtin_floats(self) -> None:
        res = stats.describe(np.array([1.0, 2.0, 4.0], dtype=np.float32))
        assert all(type(v) is float for k, v in res.items() if k != "n")
        assert type(res["n"]) is int
        assert type(stats.quantile(np.arange(5), 0.3)) is float
        assert type(stats.share_between(np.arange(5), 1, 2)) is float
        assert type(stats.rwg(np.array([1, 2, 3]), np.int64(5))) is float  # type: ignore[arg-type]

    @pytest.mark.parametrize("bad", [[1, True], [1, "2"], [1, b"2"], [1, 2j], [1, [2]]])
    def test_rejects_non_numbers(self, bad: list[object]) -> None:
        for call in (
            lambda: stats.quantile(bad, 0.5),  # type: ignore[arg-type]
            lambda: stats.describe(bad),  # type: ignore[arg-type]
            lambda: stats.share_between(bad, 0, 1),  # type: ignore[arg-type]
            lambda: stats.rwg(bad, 5),  # type: ignore[arg-type]
            lambda: stats.rand_ucla(bad),  # type: ignore[arg-type]
            lambda: stats.wilcoxon(bad, [1, 2]),  # type: ignore[arg-type]
        ):
            with pytest.raises(TypeError):
                call()

    @pytest.mark.parametrize("bad", ["123", b"12", 5, None])
    def test_rejects_non_iterables_and_strings(self, bad: object) -> None:
        with pytest.raises(TypeError):
            stats.describe(bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            stats.quantile(bad, 0.5)  # type: ignore[arg-type]

    def test_rejects_infinity(self) -> None:
        with pytest.raises(ValueError, match="infinite"):
            stats.describe([1.0, math.inf])
        with pytest.raises(ValueError, match="infinite"):
            stats.quantile([-math.inf], 0.5)

    def test_all_missing_is_empty(self) -> None:
        missing = [None, NAN, np.nan, Decimal("NaN")]
        assert stats.quantile(missing, 0.5) is None
        assert stats.describe(missing)["n"] == 0
        assert stats.share_between(missing, 0, 1) is None
        assert stats.rwg(missing, 5) is None
        assert stats.rand_ucla(missing)["classification"] is None


class TestQuantileEdges:
    def test_empty(self) -> None:
        assert stats.quantile([], 0.5) is None
        assert stats.quantile([], 0.5, "type6") is None

    @pytest.mark.parametrize("method", ["type6", "type7"])
    def test_single_value_and_extremes(self, method: str) -> None:
        for p in (0.0, 0.3, 1.0):
            assert stats.quantile([4.5], p, method) == 4.5
        assert stats.quantile([3, 1, 2], 0.0, method) == 1.0
        assert stats.quantile([3, 1, 2], 1.0, method) == 3.0

    @pytest.mark.parametrize("p", [-0.01, 1.01, NAN, math.inf])
    def test_bad_p(self, p: float) -> None:
        with pytest.raises(ValueError):
            stats.quantile([1, 2], p)
        with pytest.raises(ValueError):
            stats.quantile([], p)  # validated even without data

    @pytest.mark.parametrize("p", [None, True, "0.5"])
    def test_p_wrong_type(self, p: object) -> None:
        with pytest.raises(TypeError):
            stats.quantile([1, 2], p)  # type: ignore[arg-type]

    @pytest.mark.parametrize("method", ["linear", "type5", "", "TYPE7"])
    def test_unknown_method(self, method: str) -> None:
        with pytest.raises(ValueError, match="method"):
            stats.quantile([1, 2], 0.5, method)
        with pytest.raises(ValueError, match="method"):
            stats.quantile([], 0.5, method)


class TestDescribeEdges:
    def test_empty(self) -> None:
        assert stats.describe([]) == {
            "n": 0,
            "mean": None,
            "sd": None,
            "median": None,
            "q1": None,
            "q3": None,
            "iqr": None,
            "cv": None,
        }

    def test_single_value(self) -> None:
        assert stats.describe([None, 3, NAN]) == {
            "n": 1,
            "mean": 3.0,
            "sd": None,
            "median": 3.0,
            "q1": 3.0,
            "q3": 3.0,
            "iqr": 0.0,
            "cv": None,
        }

    def test_constant_data_is_exact(self) -> None:
        res = stats.describe([0.1, 0.1, 0.1])
        assert res["mean"] == 0.1
        assert res["sd"] == 0.0
        assert res["cv"] == 0.0

    def test_zero_mean_has_no_cv(self) -> None:
        res = stats.describe([-1, 1])
        assert res["mean"] == 0.0
        assert res["sd"] == pytest.approx(math.sqrt(2))
        assert res["cv"] is None

    def test_negative_mean_gives_signed_cv(self) -> None:
        res = stats.describe([-1, -3])
        assert res["cv"] == pytest.approx(-math.sqrt(2) / 2)


class TestShareBetweenEdges:
    def test_inclusive_bounds(self) -> None:
        assert stats.share_between([1, 2, 3, 4], 2, 3) == 0.5
        assert stats.share_between([7, 8, 9, 6, None], 7, math.inf) == 0.75
        assert stats.share_between([5], 5, 5) == 1.0

    def test_empty(self) -> None:
        assert stats.share_between([], 0, 1) is None

    def test_bad_bounds(self) -> None:
        with pytest.raises(ValueError):
            stats.share_between([1], 3, 2)
        with pytest.raises(ValueError):
            stats.share_between([1], NAN, 2)
        with pytest.raises(TypeError):
            stats.share_between([1], None, 2)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            stats.share_between([1], "0", 2)  # type: ignore[arg-type]


class TestRwgEdges:
    def test_fewer_than_two(self) -> None:
        assert stats.rwg([], 5) is None
        assert stats.rwg([3, None, NAN], 5) is None

    @pytest.mark.parametrize("options", [1, 0, -5])
    def test_too_few_options(self, options: int) -> None:
        with pytest.raises(ValueError):
            stats.rwg([1, 2], options)

    @pytest.mark.parametrize("options", [5.0, True, "5", None])
    def test_options_must_be_int(self, options: object) -> None:
        with pytest.raises(TypeError):
            stats.rwg([1, 2], options)  # type: ignore[arg-type]


class TestKendallWEdges:
    @pytest.mark.parametrize("matrix", [[], [[1, 2, 3]], [[1], [2]], [[], []], np.zeros((1, 4)), np.zeros((4, 1))])
    def test_degenerate_shapes(self, matrix: list[list[int]]) -> None:
        with pytest.raises(ValueError, match="at least 2"):
            stats.kendall_w(matrix)

    def test_all_rows_fully_tied(self) -> None:
        assert stats.kendall_w([[1, 1, 1], [2, 2, 2]]) == {
            "w": None,
            "chi2": None,
            "df": 2,
            "p_value": None,
        }

    def test_one_fully_tied_row_is_fine(self) -> None:
        res = stats.kendall_w([[1, 1, 1], [1, 2, 3]])
        # ranks: [2,2,2] and [1,2,3]; R = 3,4,5; S = 2; T = 24 and 0
        # W = 24 / (4 * 24 - 2 * 24) = 0.5
        assert res["w"] == pytest.approx(0.5)

    @pytest.mark.parametrize("missing", [None, NAN, np.nan])
    def test_missing_values_rejected(self, missing: object) -> None:
        with pytest.raises(ValueError, match=r"row 1 has a missing value.*column 2"):
            stats.kendall_w([[1, 2, 3], [1, 2, missing]])  # type: ignore[list-item]
        with pytest.raises(ValueError, match="missing"):
            stats.kendall_w(np.array([[1.0, 2.0, 3.0], [1.0, np.nan, 3.0]]))

    def test_ragged_rows_rejected(self) -> None:
        with pytest.raises(ValueError, match="different lengths"):
            stats.kendall_w([[1, 2, 3], [1, 2]])

    @pytest.mark.parametrize(
        "matrix", [[1, 2, 3], np.array([1, 2, 3]), ["abc", "def"], [[1, "2"], [1, 2]], [[True, False], [1, 2]]]
    )
    def test_non_numeric_or_1d_rejected(self, matrix: object) -> None:
        with pytest.raises(TypeError):
            stats.kendall_w(matrix)  # type: ignore[arg-type]

    def test_infinite_rejected(self) -> None:
        with pytest.raises(ValueError, match="infinite"):
            stats.kendall_w([[1, 2], [1, math.inf]])


class TestWilcoxonEdges:
    def test_length_mismatch(self) -> None:
        with pytest.raises(ValueError, match="same length"):
            stats.wilcoxon([1, 2, 3], [1, 2])
        # Length is checked before missing values are dropped.
        with pytest.raises(ValueError, match="same length"):
            stats.wilcoxon([1, 2, None], [1, 2])

    @pytest.mark.parametrize(
        ("before", "after"),
        [([], []), ([1, 2, 3], [1, 2, 3]), ([None, 1], [5, 1]), ([NAN], [NAN])],
    )
    def test_no_nonzero_difference(self, before: list[float], after: list[float]) -> None:
        assert stats.wilcoxon(before, after) == {"statistic": None, "p_value": None, "method": None, "n_nonzero": 0}

    def test_single_nonzero_pair(self) -> None:
        # One non-zero difference: W+ = 1 or W- = 1, min = 0; exact two-sided P = 1.
        assert stats.wilcoxon([1, 2, 3], [1, 2, 4]) == {
            "statistic": 0.0,
            "p_value": 1.0,
            "method": "exact",
            "n_nonzero": 1,
        }

    def test_small_samples_do_not_warn(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for before, after in [([1, 2], [2, 1]), ([1, 1, 2], [2, 3, 2]), ([1], [3])]:
                stats.wilcoxon(before, after)


class TestRandUclaEdges:
    def test_empty(self) -> None:
        res = stats.rand_ucla([None, NAN])
        assert set(res) == {
            "median",
            "p30",
            "p70",
            "ipr",
            "iprcp",
            "asymmetry",
            "ipras",
            "disagreement",
            "classification",
        }
        assert all(v is None for v in res.values())

    @pytest.mark.parametrize("bad", [0, 10, 9.5, 0.99, -3])
    def test_out_of_scale(self, bad: float) -> None:
        with pytest.raises(ValueError, match="1-9"):
            stats.rand_ucla([5, 5, bad])

    def test_missing_ignored(self) -> None:
        assert stats.rand_ucla([7, None, 8, NAN, 9]) == stats.rand_ucla([7, 8, 9])


def test_the_0_to_100_index_formula_has_one_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """``index_from_mean_code``: 25 · (mean code + 2); the round statistics and the bootstrap both use it."""
    from foresight.priorities.scoring import IndexCriterion, bootstrap_ranks

    assert [stats.index_from_mean_code(m) for m in (-2.0, -1.0, 0.0, 0.5, 2.0)] == [0.0, 25.0, 50.0, 62.5, 100.0]
    assert stats.index_from_mean_code(np.array([-2.0, 0.0, 2.0])).tolist() == [0.0, 50.0, 100.0]
    codes = np.array([[2.0, -1.0], [1.0, -2.0]])  # two respondents × two topics, coded −2…+2
    answers = {(5.0, 1.0): 1, (4.0, 1.0): 1}  # topic 0 on the 1–5 scale
    assert stats.scale_index_counts(answers, low=1, high=5) == 87.5
    point = bootstrap_ranks({"i": IndexCriterion(codes)}, {"i": 1}, top_k=1, seed=1, B=2).criteria["i"]
    assert point == [87.5, 12.5]
    # Another formula here changes every index: nothing computes it on its own.
    monkeypatch.setattr(stats, "index_from_mean_code", lambda mean: mean)
    assert stats.scale_index_counts(answers, low=1, high=5) == 1.5
    point = bootstrap_ranks({"i": IndexCriterion(codes)}, {"i": 1}, top_k=1, seed=1, B=2).criteria["i"]
    assert point == [1.5, -1.5]


def test_public_api() -> None:
    assert sorted(stats.__all__) == [
        "Frequencies",
        "describe",
        "describe_counts",
        "index_from_mean_code",
        "kendall_w",
        "quantile",
        "rand_ucla",
        "rwg",
        "rwg_counts",
        "scale_index_counts",
        "share_between",
        "share_between_counts",
        "wilcoxon",
        "wilcoxon_many",
    ]
    public = {
        name
        for name, obj in vars(stats).items()
        if not name.startswith("_") and callable(obj) and getattr(obj, "__module__", None) == stats.__name__
    }
    assert public == set(stats.__all__)


# ===========================================================================
# 4. Wilcoxon signed-rank: exact conditional null distribution for ties
# ===========================================================================


def brute_force_w_plus2(differences: Sequence[float]) -> np.ndarray:
    """2·W+ of each of the 2^n sign patterns of ``|differences|``, enumerated outright.

    Ranks come from SciPy's ``rankdata`` (mid-ranks for ties), doubled to exact integers;
    row ``k`` makes difference ``j`` positive when bit ``j`` of ``k`` is set.
    """
    rank2 = np.rint(2 * scipy.stats.rankdata(np.abs(differences))).astype(np.int64)
    n = len(rank2)
    positive = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    return np.asarray(positive @ rank2)


def brute_force_p(all_w_plus2: np.ndarray, observed: int) -> Fraction:
    """The definition itself, over equally likely sign patterns: min(1, 2·min(P(W+ ≤ w), P(W+ ≥ w)))."""
    below = int(np.count_nonzero(all_w_plus2 <= observed))
    above = int(np.count_nonzero(all_w_plus2 >= observed))
    return min(Fraction(1), Fraction(2 * min(below, above), len(all_w_plus2)))


def observed_w_plus2(differences: Sequence[float]) -> int:
    rank2 = np.rint(2 * scipy.stats.rankdata(np.abs(differences))).astype(np.int64)
    return int(rank2[np.asarray(differences) > 0].sum())


def reference_conditional_p(differences: Sequence[float]) -> float:
    """The exact conditional p for any n: W+'s null distribution convolved one rank at a time
    in a dict of exact integer counts (no symmetry shortcut, no tie groups), then the definition."""
    rank2 = np.rint(2 * scipy.stats.rankdata(np.abs(differences))).astype(np.int64).tolist()
    counts: Counter[int] = Counter({0: 1})
    for r in rank2:
        with_r = Counter(counts)
        for w, c in counts.items():
            with_r[w + r] += c
        counts = with_r
    w = observed_w_plus2(differences)
    below = sum(c for v, c in counts.items() if v <= w)
    above = sum(c for v, c in counts.items() if v >= w)
    return float(min(Fraction(1), Fraction(2 * min(below, above), 2 ** len(rank2))))


def tie_patterns(n: int) -> list[tuple[int, ...]]:
    """Every tie pattern of n magnitudes (group sizes, smallest |d| first): the 2^(n-1) compositions of n."""
    patterns = []
    for cuts in itertools.product([False, True], repeat=n - 1):
        sizes = [1]
        for cut in cuts:
            if cut:
                sizes.append(1)
            else:
                sizes[-1] += 1
        patterns.append(tuple(sizes))
    return patterns


@pytest.mark.parametrize("n", range(1, 13))
def test_exact_p_equals_brute_force_for_every_tie_pattern(n: int) -> None:
    """All 2^(n-1) tie patterns of n non-zero differences (untied, all tied and everything
    between), each at up to 8 attainable values of W+ from the smallest to the largest, in
    shuffled order, through ``wilcoxon_many`` (and one per pattern through ``wilcoxon``)."""
    rng = np.random.default_rng(n)
    batch: list[tuple[list[float], list[float]]] = []
    expected: list[tuple[float, Fraction, str]] = []
    for pattern in tie_patterns(n):
        magnitudes = np.repeat(0.75 * np.arange(1, len(pattern) + 1), pattern)
        all_w_plus2 = brute_force_w_plus2(magnitudes)
        values, first_row = np.unique(all_w_plus2, return_index=True)
        picks = np.unique(np.linspace(0, len(values) - 1, min(len(values), 8)).round().astype(int))
        for w_plus2, row in zip(values[picks].tolist(), first_row[picks].tolist(), strict=True):
            positive = (row >> np.arange(n)) & 1
            order = rng.permutation(n)
            batch.append(((magnitudes * np.where(positive, 1, -1))[order].tolist(), [0.0] * n))
            expected.append(
                (
                    min(w_plus2, n * (n + 1) - w_plus2) / 2,
                    brute_force_p(all_w_plus2, w_plus2),
                    "exact" if len(pattern) == n else "exact_conditional",
                )
            )
        assert observed_w_plus2(batch[-1][0]) == w_plus2  # the sample is the pattern it stands for
        assert stats.wilcoxon(*batch[-1])["p_value"] == pytest.approx(float(expected[-1][1]), abs=1e-12)
    results = stats.wilcoxon_many(batch)
    for res, (statistic, p_value, method) in zip(results, expected, strict=True):
        assert res["statistic"] == statistic
        assert res["p_value"] == pytest.approx(float(p_value), abs=1e-12)
        assert res["method"] == method
        assert res["n_nonzero"] == n


tied_pairs = st.integers(1, 12).flatmap(
    lambda n: st.tuples(
        st.lists(st.sampled_from([1, 2, 3, 4, 5, 2.5, 0.1, 0.2, 0.30000000000000004]), min_size=n, max_size=n),
        st.lists(st.sampled_from([1, 2, 3, 4, 5, 0.3, 0.0]), min_size=n, max_size=n),
    )
)


@FAST
@given(pair=tied_pairs)
def test_exact_p_equals_brute_force_on_scale_answers(pair: tuple[list[float], list[float]]) -> None:
    before, after = pair
    d = [b - a for b, a in zip(before, after, strict=True) if b != a]
    res = stats.wilcoxon(before, after)
    assume(d)
    assert res["p_value"] == pytest.approx(float(brute_force_p(brute_force_w_plus2(d), observed_w_plus2(d))), abs=1e-12)
    assert res["n_nonzero"] == len(d)


@pytest.mark.parametrize("n", range(1, 51))
def test_untied_exact_p_equals_scipy(n: int) -> None:
    """Without ties the conditional null is the classical one: SciPy's exact p, including both extremes."""
    rng = np.random.default_rng(100 + n)
    signs = [np.ones(n), -np.ones(n)] + [rng.choice([-1.0, 1.0], n) for _ in range(20)]
    for sign in signs:
        d = sign * rng.permutation(rng.uniform(0.01, 9.0, n))
        res = stats.wilcoxon(d, np.zeros(n))
        expected = scipy.stats.wilcoxon(d, method="exact")
        assert res["method"] == "exact"
        assert res["statistic"] == float(expected.statistic)
        assert res["p_value"] == pytest.approx(float(expected.pvalue), abs=1e-12)


@FAST
@given(pair=paired_untied)
def test_untied_exact_p_equals_scipy_property(pair: tuple[list[float], list[float]]) -> None:
    before, after = pair
    d = [b - a for b, a in zip(before, after, strict=True) if b != a]
    assume(d and len({abs(v) for v in d}) == len(d))
    res = stats.wilcoxon(before, after)
    assert res["method"] == "exact"
    assert res["p_value"] == pytest.approx(float(scipy.stats.wilcoxon(d, method="exact").pvalue), abs=1e-12)


@FAST
@given(n=st.integers(13, 50), data=st.data())
def test_tied_exact_p_equals_reference_up_to_50_pairs(n: int, data: st.DataObject) -> None:
    """Beyond brute force: the tied samples of a 5-point scale (|d| ≤ 4) up to the 50-pair limit."""
    d = data.draw(st.lists(st.sampled_from([-4, -3, -2, -1, 1, 2, 3, 4]), min_size=n, max_size=n))
    res = stats.wilcoxon(d, [0] * n)
    assert res["method"] == "exact_conditional"
    assert res["p_value"] == pytest.approx(reference_conditional_p(d), abs=1e-12)


@pytest.mark.parametrize(
    "d",
    [
        [1, 1, 2],
        [1, -1, 2, 2, -3],
        [0.5, 0.5, -0.5, 1.5, 1.5, -1.5, 2.5],
        [-1, -1, -1, -1, 2, 2, 3, 4, -4, 1],
        [2, 2, 2, 2, 2, 2, -2, -2],
    ],
)
def test_tied_p_equals_scipy_permutation_method(d: list[float]) -> None:
    """SciPy's permutation method enumerates all 2^n sign patterns of a small sample (too slow for
    a property test): the reference helpers above and the module agree with it."""
    expected = float(scipy.stats.wilcoxon(d, method=scipy.stats.PermutationMethod()).pvalue)
    assert stats.wilcoxon(d, [0] * len(d))["p_value"] == pytest.approx(expected, abs=1e-12)
    assert reference_conditional_p(d) == pytest.approx(expected, abs=1e-12)
    assert float(brute_force_p(brute_force_w_plus2(d), observed_w_plus2(d))) == pytest.approx(expected, abs=1e-12)


class TestWilcoxonExactConditionalWorkedExamples:
    def test_four_ties_and_one(self) -> None:
        # d = [1, 1, 1, 2, -1]: |d| = 1 four times (ranks 1-4, mid-rank 2.5), |d| = 2 once (rank 5).
        # W+ = 2.5 + 2.5 + 2.5 + 5 = 12.5, W- = 2.5, statistic = 2.5.
        # Under H0 the 2^5 = 32 sign patterns are equally likely; with k of the four tied
        # differences positive (C(4, k) ways) and the 2 positive (s = 1) or not (s = 0):
        #   W+ = 2.5 k + 5 s
        #   k: 0    1    2    3    4
        #   s=0: 0  2.5  5   7.5  10     patterns: 1 4 6 4 1
        #   s=1: 5  7.5 10  12.5  15     patterns: 1 4 6 4 1
        # P(W+ >= 12.5) = (4 + 1) / 32 (k = 3, 4 with s = 1);
        # P(W+ <= 12.5) = 1 - 1/32 = 31/32 (all but W+ = 15);
        # p = min(1, 2 * min(5/32, 31/32)) = 10/32 = 0.3125.
        res = stats.wilcoxon([1, 1, 1, 2, -1], [0, 0, 0, 0, 0])
        assert res == {"statistic": 2.5, "p_value": 0.3125, "method": "exact_conditional", "n_nonzero": 5}

    def test_all_tied_is_the_sign_test(self) -> None:
        # Thirteen experts on a 5-point scale, nine changed by one step: two up, seven down.
        # All |d| tie (mid-rank 5), so W+ = 5 k with k ~ Binomial(9, 1/2) under H0: the
        # conditional test is the two-sided sign test, p = 2 (1 + 9 + 36) / 512 = 92/512.
        before = [3, 4, 2, 5, 3, 3, 4, 2, 1, 4, 5, 3, 2]
        after = [4, 4, 3, 4, 3, 4, 4, 3, 2, 4, 4, 4, 3]
        res = stats.wilcoxon(before, after)
        assert res == {"statistic": 10.0, "p_value": 92 / 512, "method": "exact_conditional", "n_nonzero": 9}
        assert res["p_value"] == pytest.approx(scipy.stats.binomtest(2, 9).pvalue, abs=1e-12)


class TestWilcoxonMethod:
    def test_exact_without_ties(self) -> None:
        res = stats.wilcoxon([1, 2, 3, None, 5], [2, 4, 6, 1, 5])
        assert (res["method"], res["n_nonzero"]) == ("exact", 3)

    def test_exact_conditional_with_ties(self) -> None:
        res = stats.wilcoxon([1, 2, 3, NAN, 5], [2, 3, 5, 1, 5])
        assert (res["method"], res["n_nonzero"]) == ("exact_conditional", 3)

    @pytest.mark.parametrize(("n", "method"), [(50, "exact_conditional"), (51, "normal"), (120, "normal")])
    def test_normal_above_50_nonzero_differences(self, n: int, method: str) -> None:
        # Zero differences do not count towards the limit.
        before = [1, 2, 3, 4, 5] * 30
        after = [b + (1 if i < n else 0) for i, b in enumerate(before)]
        res = stats.wilcoxon(before, after)
        assert (res["method"], res["n_nonzero"]) == (method, n)

    def test_normal_matches_scipy_asymptotic(self) -> None:
        d = [1.0, -2.0, 3.0] * 20
        res = stats.wilcoxon(d, [0.0] * 60)
        expected = scipy.stats.wilcoxon(d, correction=False, method="asymptotic")
        assert res["statistic"] == float(expected.statistic)
        assert res["p_value"] == pytest.approx(float(expected.pvalue))

    def test_untied_above_50_is_normal(self) -> None:
        d = list(range(1, 52))
        res = stats.wilcoxon(d, [0] * 51)
        assert (res["method"], res["n_nonzero"]) == ("normal", 51)

    def test_built_in_types(self) -> None:
        for before, after in [([1, 2, 3], [2, 4, 6]), ([1, 2, 3], [2, 3, 5]), (list(range(60)), [0] * 60)]:
            for res in [stats.wilcoxon(before, after), *stats.wilcoxon_many([(before, after)])]:
                assert type(res["statistic"]) is float
                assert type(res["p_value"]) is float
                assert type(res["method"]) is str
                assert type(res["n_nonzero"]) is int
                assert json.loads(json.dumps(res)) == res


def mixed_batch() -> list[tuple[list[float | None], list[float | None]]]:
    rng = np.random.default_rng(7)
    batch: list[tuple[list[float | None], list[float | None]]] = [
        ([], []),
        ([1, 2, 3], [1, 2, 3]),
        ([None, 1], [5, 1]),
        ([1, 2, 3], [2, 4, 6]),  # exact
        ([1, 1, 1, 2, -1], [0, 0, 0, 0, 0]),  # exact conditional
        (list(range(1, 61)), [0] * 60),  # normal, untied
        ([1, 2, 3, 4, 5] * 14, [2, 2, 2, 2, 2] * 14),  # normal, tied
    ]
    for _ in range(300):
        n = int(rng.integers(0, 70))
        before: list[float | None] = rng.integers(1, 6, n).tolist()
        after: list[float | None] = np.clip(np.array(before) + rng.integers(-2, 3, n), 1, 5).tolist()
        if n and rng.random() < 0.3:
            before[int(rng.integers(n))] = None
        batch.append((before, after))
    return batch


def test_wilcoxon_many_equals_wilcoxon_on_a_mixed_batch() -> None:
    batch = mixed_batch()
    results = stats.wilcoxon_many(batch)
    assert results == [stats.wilcoxon(before, after) for before, after in batch]
    assert {res["method"] for res in results} == {None, "exact", "exact_conditional", "normal"}
    assert stats.wilcoxon_many([]) == []


scale_pairs = st.integers(0, 60).flatmap(
    lambda n: st.tuples(
        st.lists(st.sampled_from([1, 2, 3, 4, 5, None]), min_size=n, max_size=n),
        st.lists(st.sampled_from([1, 2, 3, 4, 5, None]), min_size=n, max_size=n),
    )
)


@FAST
@given(batch=st.lists(st.one_of(scale_pairs, paired), max_size=6))
def test_wilcoxon_many_equals_wilcoxon_property(batch: list[tuple[list[float], list[float]]]) -> None:
    assert stats.wilcoxon_many(batch) == [stats.wilcoxon(before, after) for before, after in batch]
