"""Descriptive statistics and consensus measures for expert panels.

Pure Python / NumPy / SciPy, deliberately free of any Django import so that
it can be unit-tested and reused outside the web application.

Conventions shared by every public function
-------------------------------------------
* Inputs may be any iterable of real numbers (``int``, ``float``,
  ``decimal.Decimal``, ``fractions.Fraction``, NumPy scalars, 1-D NumPy
  arrays, ...).
* ``None`` and NaN are treated as *missing* ("can't judge") and are silently
  dropped, unless a function's docstring says otherwise (``kendall_w``
  rejects them; ``wilcoxon`` drops incomplete *pairs*).
* Booleans, strings, bytes and other non-numbers raise ``TypeError``; plus or
  minus infinity raises ``ValueError`` (it is never a legitimate rating and
  would silently poison means and variances).
* Every number returned is a built-in Python ``float`` / ``int`` / ``bool``
  (never a NumPy scalar) so results serialise to JSON unchanged.
* Quantiles are Hyndman & Fan (1996) type 7 unless stated otherwise -- the
  default of R's ``quantile()``, NumPy's ``method="linear"`` and
  PostgreSQL's ``percentile_cont``, so values computed here agree with values
  computed in SQL.
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal, SupportsFloat, TypedDict, TypeVar

import numpy as np
from scipy import stats as _sps

__all__ = [
    "describe",
    "Frequencies",
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

_Value = SupportsFloat | None
"""One observation: a real number, or ``None`` for a missing value."""

_Classification = Literal["appropriate", "uncertain", "inappropriate"]
_WilcoxonMethod = Literal["exact", "exact_conditional", "normal"]

# RAND/UCLA Appropriateness Method constants (Fitch et al. 2001, ch. 8).
_RAND_IPRR = 2.35  # IPR required for disagreement when perfectly symmetric
_RAND_CFA = 1.5  # correction factor for asymmetry
_RAND_CENTRE = 5.0  # centre of the 1-9 scale
_RAND_MIN = 1.0
_RAND_MAX = 9.0
# Absolute tolerance for the IPR > IPRAS comparison, so that floating-point
# noise in interpolated percentiles cannot flip a mathematically exact tie
# (IPR == IPRAS, which is *not* disagreement) into disagreement.
_RAND_TOLERANCE = 1e-9
# Largest number of non-zero differences for the exact Wilcoxon signed-rank
# test (normal approximation above): 2^50 sign patterns still count exactly
# in int64 and in a float's 53 bits, and the null distribution takes at most
# 1,276 integers.
_WILCOXON_EXACT_MAX = 50


class _Description(TypedDict):
    n: int
    mean: float | None
    sd: float | None
    median: float | None
    q1: float | None
    q3: float | None
    iqr: float | None
    cv: float | None


class _KendallW(TypedDict):
    w: float | None
    chi2: float | None
    df: int
    p_value: float | None


class _Wilcoxon(TypedDict):
    statistic: float | None
    p_value: float | None
    method: _WilcoxonMethod | None
    n_nonzero: int


class _RandUcla(TypedDict):
    median: float | None
    p30: float | None
    p70: float | None
    ipr: float | None
    iprcp: float | None
    asymmetry: float | None
    ipras: float | None
    disagreement: bool | None
    classification: _Classification | None


# ---------------------------------------------------------------------------
# Input coercion (private)
# ---------------------------------------------------------------------------


def _coerce(x: object, what: str) -> float | None:
    """Return ``x`` as a finite float, or ``None`` if it is None/NaN."""
    if x is None:
        return None
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{what}: booleans are not numbers, got {x!r}")
    if isinstance(x, Decimal):
        if x.is_nan():
            return None
    elif not isinstance(x, numbers.Real):
        raise TypeError(f"{what}: expected a real number, got {type(x).__name__} {x!r}")
    try:
        f = float(x)
    except OverflowError as exc:
        raise ValueError(f"{what}: {x!r} is too large for a float") from exc
    if math.isnan(f):
        return None
    if math.isinf(f):
        raise ValueError(f"{what}: infinite values are not allowed, got {x!r}")
    return f


def _iterate(values: object, what: str) -> Iterable[object]:
    if isinstance(values, (str, bytes, bytearray)):
        raise TypeError(f"{what}: expected an iterable of numbers, got a string")
    if not isinstance(values, Iterable):
        raise TypeError(f"{what}: expected an iterable of numbers, got {type(values).__name__}")
    return values


def _coerce_all(values: Iterable[_Value], what: str = "values") -> list[float | None]:
    """Coerce every element, keeping ``None`` placeholders for missing ones."""
    return [_coerce(v, what) for v in _iterate(values, what)]


def _clean(values: Iterable[_Value], what: str = "values") -> list[float]:
    """Coerce and drop missing values (None/NaN)."""
    return [v for v in _coerce_all(values, what) if v is not None]


def _scalar(x: object, what: str) -> float:
    """Validate a scalar parameter: a real number, not NaN (inf allowed)."""
    if x is None or isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{what} must be a real number, got {x!r}")
    if not isinstance(x, (numbers.Real, Decimal)):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__} {x!r}")
    f = float(x)
    if math.isnan(f):
        raise ValueError(f"{what} must not be NaN")
    return f


# ---------------------------------------------------------------------------
# Numerical kernels (private, operate on cleaned data)
# ---------------------------------------------------------------------------


def _lerp(a: float, b: float, t: float) -> float:
    """``a + t (b - a)``, evaluated like NumPy's quantile interpolation."""
    if t == 0.0 or a == b:
        return a
    if t < 0.5:
        return a + (b - a) * t
    return b - (b - a) * (1.0 - t)


def _sorted_quantile(xs: list[float], p: float, method: str) -> float:
    """Quantile of a non-empty *sorted* list (p and method already valid)."""
    n = len(xs)
    # g = h - 1 is the 0-based fractional order statistic, where h is the
    # 1-based one of Hyndman & Fan (1996); computed the way NumPy does so the
    # two agree to the last bit in practice.
    g = (n - 1) * p if method == "type7" else n * p + p - 1.0
    g = min(max(g, 0.0), float(n - 1))
    lo = math.floor(g)
    hi = min(lo + 1, n - 1)
    return _lerp(xs[lo], xs[hi], g - lo)


def _check_quantile_args(p: object, method: object) -> float:
    p_f = _scalar(p, "p")
    if not 0.0 <= p_f <= 1.0:
        raise ValueError(f"p must be within [0, 1], got {p!r}")
    if method not in ("type6", "type7"):
        raise ValueError(f"unknown quantile method {method!r}; use 'type6' or 'type7'")
    return p_f


def _mean(xs: list[float]) -> float:
    """Arithmetic mean of a non-empty list, exact for constant data."""
    lo, hi = min(xs), max(xs)
    if lo == hi:
        return lo
    return min(max(math.fsum(xs) / len(xs), lo), hi)


def _variance(xs: list[float]) -> float:
    """Sample variance (n - 1 divisor) of a list with at least two values."""
    if min(xs) == max(xs):
        return 0.0
    m = _mean(xs)
    return math.fsum((x - m) ** 2 for x in xs) / (len(xs) - 1)


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def quantile(values: Iterable[_Value], p: float, method: str = "type7") -> float | None:
    """Sample quantile after Hyndman & Fan (1996), types 6 and 7.

    Let ``x(1) <= ... <= x(n)`` be the sorted non-missing values and ``h`` the
    fractional order statistic; the result is linear interpolation between
    ``x(floor(h))`` and ``x(floor(h) + 1)``::

        Q(p) = x(j) + (h - j) * (x(j+1) - x(j)),   j = floor(h)

    * ``"type7"`` (default): ``h = 1 + (n - 1) p``.  This is R's default,
      NumPy ``method="linear"``, PostgreSQL ``percentile_cont`` and Excel
      ``PERCENTILE.INC``.
    * ``"type6"``: ``h = (n + 1) p``, clamped to ``[1, n]`` (so ``x(1)`` for
      ``p <= 1/(n+1)`` and ``x(n)`` for ``p >= n/(n+1)``).  This is NumPy
      ``method="weibull"``, Minitab/SPSS and Excel ``PERCENTILE.EXC`` inside
      its domain.

    Returns ``None`` if there are no non-missing values.  Raises
    ``ValueError`` if ``p`` is outside ``[0, 1]`` (or NaN) or ``method`` is
    not ``"type6"``/``"type7"`` -- checked even when the data are empty.
    """
    p_f = _check_quantile_args(p, method)
    xs = sorted(_clean(values))
    if not xs:
        return None
    return _sorted_quantile(xs, p_f, method)


def describe(values: Iterable[_Value]) -> _Description:
    """Summary statistics of the non-missing values.

    Keys of the returned dict:

    * ``n``: number of non-missing values (``int``).
    * ``mean``: arithmetic mean ``sum(x) / n``.
    * ``sd``: sample standard deviation ``sqrt(sum((x - mean)^2) / (n - 1))``;
      ``None`` when ``n < 2``.
    * ``median``, ``q1``, ``q3``: type-7 quantiles at 0.5, 0.25 and 0.75
      (see :func:`quantile`).
    * ``iqr``: ``q3 - q1``.
    * ``cv``: coefficient of variation ``sd / mean`` (signed, not a
      percentage); ``None`` when ``sd`` is ``None`` or ``mean == 0``.

    With ``n == 0`` every key except ``n`` is ``None``; with ``n == 1`` the
    location keys equal the value, ``iqr`` is ``0.0`` and ``sd``/``cv`` are
    ``None``.
    """
    xs = sorted(_clean(values))
    n = len(xs)
    if n == 0:
        return {
            "n": 0,
            "mean": None,
            "sd": None,
            "median": None,
            "q1": None,
            "q3": None,
            "iqr": None,
            "cv": None,
        }
    mean = _mean(xs)
    sd = math.sqrt(_variance(xs)) if n >= 2 else None
    q1 = _sorted_quantile(xs, 0.25, "type7")
    q3 = _sorted_quantile(xs, 0.75, "type7")
    cv = sd / mean if sd is not None and mean != 0.0 else None
    return {
        "n": n,
        "mean": mean,
        "sd": sd,
        "median": _sorted_quantile(xs, 0.5, "type7"),
        "q1": q1,
        "q3": q3,
        "iqr": q3 - q1,
        "cv": cv,
    }


def share_between(values: Iterable[_Value], low: float, high: float) -> float | None:
    """Share (0-1) of the non-missing values ``v`` with ``low <= v <= high``.

    Both bounds are inclusive; infinite bounds are allowed (e.g.
    ``share_between(xs, 7, math.inf)``).  Returns ``None`` when there are no
    non-missing values.  Raises ``ValueError`` if a bound is NaN or
    ``low > high``.
    """
    lo = _scalar(low, "low")
    hi = _scalar(high, "high")
    if lo > hi:
        raise ValueError(f"low ({low!r}) must not exceed high ({high!r})")
    xs = _clean(values)
    if not xs:
        return None
    return sum(1 for x in xs if lo <= x <= hi) / len(xs)


def rwg(values: Iterable[_Value], options: int) -> float | None:
    """Within-group agreement r_wg of James, Demaree & Wolf (1984).

    ``r_wg = 1 - s^2 / sigma^2_EU`` where ``s^2`` is the sample variance
    (``n - 1`` divisor) of the non-missing ratings and
    ``sigma^2_EU = (A^2 - 1) / 12`` is the variance of the discrete uniform
    ("no agreement") null distribution over ``A = options`` response options
    (e.g. 2.0 for a 5-point scale).  The result is truncated to ``[0, 1]``:
    observed variance above the null variance gives 0, as recommended by
    James et al.  Ratings are not checked against the scale range.

    Returns ``None`` when fewer than two values are present.  Raises
    ``ValueError`` if ``options < 2`` and ``TypeError`` if it is not an
    integer.
    """
    if isinstance(options, (bool, np.bool_)) or not isinstance(options, numbers.Integral):
        raise TypeError(f"options must be an integer, got {options!r}")
    a = int(options)
    if a < 2:
        raise ValueError(f"options must be at least 2, got {a}")
    xs = _clean(values)
    if len(xs) < 2:
        return None
    sigma2_eu = (a * a - 1) / 12.0
    r = 1.0 - _variance(xs) / sigma2_eu
    return min(max(r, 0.0), 1.0)


def _matrix(matrix: Iterable[Iterable[SupportsFloat]]) -> list[list[float]]:
    """Coerce a complete, rectangular 2-D matrix of finite numbers."""
    rows: list[list[float]] = []
    for i, row in enumerate(_iterate(matrix, "matrix")):
        if isinstance(row, (str, bytes, bytearray)) or not isinstance(row, Iterable):
            raise TypeError(
                f"matrix: row {i} is {type(row).__name__}, expected a sequence of numbers "
                "(the matrix must be 2-D: one row per rater)"
            )
        out: list[float] = []
        for j, v in enumerate(row):
            f = _coerce(v, f"matrix[{i}][{j}]")
            if f is None:
                raise ValueError(
                    f"matrix: row {i} has a missing value (None/NaN) at column {j}; "
                    "Kendall's W needs complete rankings -- drop that rater or that item first"
                )
            out.append(f)
        rows.append(out)
    if rows and any(len(r) != len(rows[0]) for r in rows):
        lengths = sorted({len(r) for r in rows})
        raise ValueError(f"matrix: rows have different lengths {lengths}; every rater must rate every item")
    return rows


def kendall_w(matrix: Iterable[Iterable[SupportsFloat]]) -> _KendallW:
    """Kendall's coefficient of concordance W, corrected for ties.

    ``matrix`` has one row per rater (``m`` rows) and one column per item
    (``n`` columns), as a list of lists or a 2-D NumPy array.  Each row is
    converted to ranks 1..n, tied scores receiving their mid-rank (average
    rank, ``scipy.stats.rankdata(method="average")``).  With ``R_j`` the rank
    sum of item ``j`` and ``S = sum_j (R_j - mean(R))^2``::

        W = 12 S / (m^2 (n^3 - n) - m * sum_i T_i)

    where ``T_i = sum(t^3 - t)`` over the groups of ``t`` tied values in row
    ``i`` (Kendall & Babington Smith 1939; Siegel & Castellan 1988, 10.3).
    ``chi2 = m (n - 1) W`` (equal to the tie-corrected Friedman statistic),
    ``df = n - 1`` and ``p_value`` is the chi-square upper tail probability.

    If every row is completely tied the denominator is 0 and ``w``,
    ``chi2`` and ``p_value`` are ``None``.  Raises ``ValueError`` for fewer
    than 2 raters or 2 items, ragged rows, or any missing value (None/NaN is
    *not* dropped here, because that would silently change ``n`` for one
    rater only) and ``TypeError`` for non-numeric entries.
    """
    rows = _matrix(matrix)
    m = len(rows)
    n = len(rows[0]) if rows else 0
    if m < 2 or n < 2:
        raise ValueError(f"Kendall's W needs at least 2 raters and 2 items, got {m} x {n}")
    data = np.asarray(rows, dtype=float)
    ranks = np.asarray(_sps.rankdata(data, method="average", axis=1), dtype=float)
    ties = 0
    for row in data:
        _, counts = np.unique(row, return_counts=True)
        ties += sum(int(t) ** 3 - int(t) for t in counts)
    denominator = m * m * (n**3 - n) - m * ties
    df = n - 1
    if denominator <= 0:
        return {"w": None, "chi2": None, "df": df, "p_value": None}
    rank_sums = ranks.sum(axis=0)
    s = float(np.sum((rank_sums - m * (n + 1) / 2.0) ** 2))
    w = min(max(12.0 * s / denominator, 0.0), 1.0)
    chi2 = m * (n - 1) * w
    p_value = float(_sps.chi2.sf(chi2, df))
    return {"w": w, "chi2": chi2, "df": df, "p_value": p_value}


def _wilcoxon_differences(before: Iterable[_Value], after: Iterable[_Value]) -> np.ndarray:
    """The non-zero differences of the complete pairs (validated as :func:`wilcoxon` documents)."""
    xs = _coerce_all(before, "before")
    ys = _coerce_all(after, "after")
    if len(xs) != len(ys):
        raise ValueError(f"before and after must have the same length, got {len(xs)} and {len(ys)}")
    return np.array([x - y for x, y in zip(xs, ys, strict=True) if x is not None and y is not None and x != y])


def _signed_ranks(samples: list[np.ndarray]) -> list[tuple[tuple[int, ...], int]]:
    """The tie pattern of ``|d|`` and the observed ``2·W+`` of each non-empty sample, in integers.

    The tie pattern is the sizes of the groups of equal ``|d|`` by increasing
    ``|d|``; it fixes every mid-rank, so it is all the null distribution
    depends on (and a compact key to cache it by).  A group of ``t`` equal
    magnitudes after ``s`` smaller ones holds ranks ``s+1 … s+t``: mid-rank
    ``s + (t+1)/2``, doubled ``2s + t + 1`` — always an integer, so sums of
    doubled ranks are exact.  All samples are ranked in one sort (by sample,
    then ``|d|``): per-sample NumPy calls would cost more than the test.
    """
    lengths = np.array([len(d) for d in samples])
    first = np.cumsum(lengths) - lengths  # where each sample starts, in the sorted order too
    differences = np.concatenate(samples)
    owner = np.repeat(np.arange(len(samples)), lengths)
    order = np.lexsort((np.abs(differences), owner))
    differences, owner = differences[order], owner[order]
    magnitudes = np.abs(differences)
    opens_group = np.ones(len(order), dtype=bool)
    opens_group[1:] = (magnitudes[1:] != magnitudes[:-1]) | (owner[1:] != owner[:-1])
    group_start = np.flatnonzero(opens_group)
    sizes = np.diff(group_start, append=len(order))
    group_rank2 = 2 * (group_start - first[owner[group_start]]) + sizes + 1
    rank2 = group_rank2[np.cumsum(opens_group) - 1]
    w_plus2 = np.bincount(owner, weights=rank2 * (differences > 0), minlength=len(samples))
    groups = np.bincount(owner[group_start], minlength=len(samples))
    sizes_list = sizes.tolist()
    bounds = np.cumsum(groups).tolist()
    return [
        (tuple(sizes_list[end - count : end]), int(w))
        for end, count, w in zip(bounds, groups.tolist(), w_plus2.tolist(), strict=True)
    ]


@functools.lru_cache(maxsize=1024)
def _signed_rank_lower_tail(pattern: tuple[int, ...]) -> np.ndarray:
    """``tail[k]``: how many of the 2ⁿ sign patterns give ``2·W+ ≤ k``, for ``k = 0 … n(n+1)/2``.

    Dynamic programming over the doubled mid-ranks of ``pattern`` (see
    :func:`_signed_ranks`): ``counts[j]`` is the number of sign patterns of
    the ranks seen so far with ``2·W+ = j``, and one more rank ``r`` (either
    sign) makes it ``counts[j] + counts[j - r]`` — ``O(n × n(n+1))`` integer
    additions in NumPy instead of enumerating 2ⁿ patterns.  Only the lower
    half of the support is kept: the null distribution is symmetric (flipping
    every sign swaps ``W+`` and ``W-``), which is all the two-sided p-value
    needs, and the lower half of ``counts`` never reads the upper half.
    Counts are exact in int64 (at most 2⁵⁰ for 50 pairs).

    Cached by tie pattern, because cells on a 4- or 5-point scale (at most
    four distinct ``|d|``) often share one: at most 1,024 patterns × 1,276
    int64 ≈ 10 MB.
    """
    n = sum(pattern)
    half = n * (n + 1) // 2
    counts = np.zeros(half + 1, dtype=np.int64)
    counts[0] = 1
    smaller = 0
    for size in pattern:
        rank2 = 2 * smaller + size + 1
        if rank2 <= half:  # a larger rank only moves patterns into the upper half
            for _ in range(size):
                counts[rank2:] = counts[rank2:] + counts[: half + 1 - rank2]
        smaller += size
    tail = np.cumsum(counts)
    tail.setflags(write=False)
    return tail


def _wilcoxon_exact(pattern: tuple[int, ...], w_plus2: int, tail: np.ndarray) -> _Wilcoxon:
    """The exact (conditional, if tied) test from the tie pattern, ``2·W+`` and the pattern's null tail."""
    n = sum(pattern)
    lower2 = min(w_plus2, n * (n + 1) - w_plus2)  # 2·min(W+, W-)
    return {
        "statistic": lower2 / 2,
        "p_value": min(2 * int(tail[lower2]), 2**n) / 2**n,
        "method": "exact" if len(pattern) == n else "exact_conditional",
        "n_nonzero": n,
    }


def _wilcoxon_normal(statistic: float, p_value: float, n_nonzero: int) -> _Wilcoxon:
    statistic = float(statistic)
    p_value = float(p_value)
    return {
        "statistic": None if math.isnan(statistic) else statistic,
        "p_value": None if math.isnan(p_value) else p_value,
        "method": "normal",
        "n_nonzero": n_nonzero,
    }


def _wilcoxon_empty() -> _Wilcoxon:
    return {"statistic": None, "p_value": None, "method": None, "n_nonzero": 0}


def _scipy_wilcoxon_normal(differences: np.ndarray) -> Any:
    """The normal approximation without continuity correction, along the last axis (zeros dropped)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _sps.wilcoxon(
            differences,
            zero_method="wilcox",
            correction=False,
            alternative="two-sided",
            method="asymptotic",
            axis=-1,
        )


def wilcoxon(before: Iterable[_Value], after: Iterable[_Value]) -> _Wilcoxon:
    """Wilcoxon signed-rank test for paired samples, two-sided.

    Zero differences are dropped and the ``n`` remaining ones ranked by
    ``|d|``, tied magnitudes sharing their mid-rank; ``W+`` and ``W-`` are
    the rank sums of the positive and negative differences, and
    ``statistic`` is ``min(W+, W-)``.

    The p-value is exact for ``1 ≤ n ≤ 50``.  Under the null hypothesis each
    difference is positive or negative with probability 1/2 independently,
    *given* the observed ranks, so the 2ⁿ sign patterns are equally likely.
    With ``w`` the observed ``W+``::

        p = min(1, 2 · min(P(W+ ≤ w), P(W+ ≥ w)))

    which, the null being symmetric, is ``min(1, 2 · P(W+ ≤ statistic))``.
    Without ties this is the classical exact test, equal to
    ``scipy.stats.wilcoxon(method="exact")``; with ties — the rule on 4- and
    5-point scales, where most cells have fewer than ten changed answers and
    the normal approximation is rough — it is the exact *conditional* test on
    the mid-ranks, computed by dynamic programming over the doubled
    mid-ranks (SciPy's ``method="auto"`` would enumerate all 2ⁿ patterns for
    up to 13 tied pairs, seconds per cell, and approximate above).  Above 50
    pairs the normal approximation (tie-corrected variance, no continuity
    correction) is used, as ``scipy.stats.wilcoxon(method="asymptotic")``.

    ``method`` says which: ``"exact"`` (no ties), ``"exact_conditional"``
    (ties) or ``"normal"``; ``n_nonzero`` is ``n``.

    ``before`` and ``after`` must have the same length (``ValueError``
    otherwise, counted *before* dropping missing values); a pair is dropped
    if either member is None/NaN.  If no non-zero difference remains,
    ``statistic``, ``p_value`` and ``method`` are ``None`` and ``n_nonzero``
    is 0.
    """
    differences = _wilcoxon_differences(before, after)
    n = len(differences)
    if n == 0:
        return _wilcoxon_empty()
    if n > _WILCOXON_EXACT_MAX:
        res = _scipy_wilcoxon_normal(differences)
        return _wilcoxon_normal(res.statistic, res.pvalue, n)
    [(pattern, w_plus2)] = _signed_ranks([differences])
    return _wilcoxon_exact(pattern, w_plus2, _signed_rank_lower_tail(pattern))


def wilcoxon_many(samples: Iterable[tuple[Iterable[_Value], Iterable[_Value]]]) -> list[_Wilcoxon]:
    """:func:`wilcoxon` of many (before, after) samples at once, with identical results.

    A round has one test per topic × scale question — thousands at national
    scale.  Exact samples are grouped by tie pattern, so each pattern's null
    distribution is looked up once per call (and a batch with more patterns
    than the cache holds cannot evict a pattern it still needs).  Samples on
    the normal approximation are tested in one vectorised SciPy call, each
    padded with zero differences (which the test drops, as it drops them in a
    single call), since SciPy's per-call overhead (~1 ms) would dominate.
    """
    differences = [_wilcoxon_differences(before, after) for before, after in samples]
    results = [_wilcoxon_empty() for _ in differences]
    exact = [i for i, d in enumerate(differences) if 0 < len(d) <= _WILCOXON_EXACT_MAX]
    normal = [i for i, d in enumerate(differences) if len(d) > _WILCOXON_EXACT_MAX]
    by_pattern: dict[tuple[int, ...], list[tuple[int, int]]] = {}
    if exact:
        for i, (pattern, w_plus2) in zip(exact, _signed_ranks([differences[i] for i in exact]), strict=True):
            by_pattern.setdefault(pattern, []).append((i, w_plus2))
    for pattern, observed in by_pattern.items():
        tail = _signed_rank_lower_tail(pattern)
        for i, w_plus2 in observed:
            results[i] = _wilcoxon_exact(pattern, w_plus2, tail)
    for start in range(0, len(normal), 1000):
        chunk = normal[start : start + 1000]
        width = max(len(differences[i]) for i in chunk)
        padded = np.zeros((len(chunk), width))
        for row, i in enumerate(chunk):
            padded[row, : len(differences[i])] = differences[i]
        res = _scipy_wilcoxon_normal(padded)
        for row, i in enumerate(chunk):
            results[i] = _wilcoxon_normal(res.statistic[row], res.pvalue[row], len(differences[i]))
    return results


# ---------------------------------------------------------------------------
# Frequency tables
# ---------------------------------------------------------------------------


def _counts(counts: Mapping[Any, int], what: str = "counts") -> list[tuple[float, int]]:
    """Validate a frequency table, returning sorted (value, count) pairs with missing values and zero counts dropped."""
    if not isinstance(counts, Mapping):
        raise TypeError(f"{what}: expected a mapping of value -> count, got {type(counts).__name__}")
    out: dict[float, int] = {}
    for value, count in counts.items():
        if type(count) is not int:  # noqa: E721 - the fast path; subclasses (bool) are checked below
            if isinstance(count, (bool, np.bool_)) or not isinstance(count, numbers.Integral):
                raise TypeError(f"{what}: counts must be integers, got {count!r} for {value!r}")
            count = int(count)
        if count < 0:
            raise ValueError(f"{what}: counts must not be negative, got {count!r} for {value!r}")
        if type(value) is float and math.isfinite(value):  # noqa: E721 - the common case, already clean
            x: float | None = value
        else:
            x = _coerce(value, what)
        if x is None or count == 0:
            continue
        out[x] = out.get(x, 0) + count
    return sorted(out.items())


def _exact_sum(terms: Iterable[tuple[float, int]]) -> float:
    """``sum(count * value)`` computed exactly and rounded once (what ``math.fsum`` gives on the expanded list)."""
    ratios = [(value.as_integer_ratio(), count) for value, count in terms]
    if not ratios:
        return 0.0
    denominator = max(d for (_, d), _ in ratios)  # powers of two: the largest is a multiple of the others
    return sum(n * (denominator // d) * c for (n, d), c in ratios) / denominator


class Frequencies:
    """A validated frequency table ``{value: number of answers}`` and its figures.

    A round's answers are codes on a small scale (or calendar years), so such a
    table holds everything the figures need; the aggregation reads the tables
    from the database instead of every single answer.  Every figure here is
    exactly (to the last bit) the figure of the list functions on the expanded
    values: sums are taken exactly in integer arithmetic and rounded once, as
    ``math.fsum`` rounds the sum of the expanded list.  ``None``/NaN keys are
    missing values and are dropped; counts must be non-negative integers.
    """

    __slots__ = ("_mean", "_variance", "n", "pairs")

    def __init__(self, counts: Mapping[float, int]) -> None:
        self.pairs = _counts(counts)
        self.n = sum(c for _, c in self.pairs)
        self._mean: float | None = None
        self._variance: float | None = None

    def mean(self) -> float:
        """Arithmetic mean; needs n >= 1."""
        if self._mean is None:
            lo, hi = self.pairs[0][0], self.pairs[-1][0]
            self._mean = lo if lo == hi else min(max(_exact_sum(self.pairs) / self.n, lo), hi)
        return self._mean

    def variance(self) -> float:
        """Sample variance (n - 1 divisor); needs n >= 2."""
        if self._variance is None:
            if self.pairs[0][0] == self.pairs[-1][0]:
                self._variance = 0.0
            else:
                m = self.mean()
                self._variance = _exact_sum(((x - m) ** 2, c) for x, c in self.pairs) / (self.n - 1)
        return self._variance

    def _order_statistic(self, index: int) -> float:
        seen = 0
        for value, count in self.pairs:
            seen += count
            if index < seen:
                return value
        raise IndexError(index)  # pragma: no cover - callers pass 0 <= index < n

    def quantile(self, p: float, method: str = "type7") -> float | None:
        """:func:`quantile` of the expanded values (``None`` for an empty table; ``p`` and ``method`` checked)."""
        p_f = _check_quantile_args(p, method)
        if self.n == 0:
            return None
        if method == "type7":
            return self._quantile7(p_f)
        g = min(max(self.n * p_f + p_f - 1.0, 0.0), float(self.n - 1))
        lo = math.floor(g)
        return _lerp(self._order_statistic(lo), self._order_statistic(min(lo + 1, self.n - 1)), g - lo)

    def _quantile7(self, p: float) -> float:
        g = min(max((self.n - 1) * p, 0.0), float(self.n - 1))
        lo = math.floor(g)
        hi = min(lo + 1, self.n - 1)
        return _lerp(self._order_statistic(lo), self._order_statistic(hi), g - lo)

    def describe(self) -> _Description:
        """:func:`describe` of the expanded values."""
        if self.n == 0:
            return describe([])
        mean = self.mean()
        sd = math.sqrt(self.variance()) if self.n >= 2 else None
        q1 = self._quantile7(0.25)
        q3 = self._quantile7(0.75)
        return {
            "n": self.n,
            "mean": mean,
            "sd": sd,
            "median": self._quantile7(0.5),
            "q1": q1,
            "q3": q3,
            "iqr": q3 - q1,
            "cv": sd / mean if sd is not None and mean != 0.0 else None,
        }

    def share_between(self, low: float, high: float) -> float | None:
        """:func:`share_between` of the expanded values."""
        lo = _scalar(low, "low")
        hi = _scalar(high, "high")
        if lo > hi:
            raise ValueError(f"low ({low!r}) must not exceed high ({high!r})")
        if self.n == 0:
            return None
        return sum(c for x, c in self.pairs if lo <= x <= hi) / self.n

    def rwg(self, options: int) -> float | None:
        """:func:`rwg` of the expanded values."""
        if isinstance(options, (bool, np.bool_)) or not isinstance(options, numbers.Integral):
            raise TypeError(f"options must be an integer, got {options!r}")
        a = int(options)
        if a < 2:
            raise ValueError(f"options must be at least 2, got {a}")
        if self.n < 2:
            return None
        r = 1.0 - self.variance() / ((a * a - 1) / 12.0)
        return min(max(r, 0.0), 1.0)


def describe_counts(counts: Mapping[float, int]) -> _Description:
    """:func:`describe` of a frequency table ``{value: number of answers}`` (see :class:`Frequencies`)."""
    return Frequencies(counts).describe()


def share_between_counts(counts: Mapping[float, int], low: float, high: float) -> float | None:
    """:func:`share_between` of a frequency table ``{value: number of answers}``."""
    return Frequencies(counts).share_between(low, high)


def rwg_counts(counts: Mapping[float, int], options: int) -> float | None:
    """:func:`rwg` of a frequency table ``{value: number of answers}``."""
    return Frequencies(counts).rwg(options)


_MeanCode = TypeVar("_MeanCode", float, np.ndarray)


def index_from_mean_code(mean: _MeanCode) -> _MeanCode:
    """The 0–100 index of a mean answer coded −2…+2: ``25 · (mean + 2)``, 0 at −2, 50 at 0, 100 at +2.

    The one formula of every importance or competitiveness index: :func:`scale_index_counts` and the
    bootstrap of ``foresight.priorities.scoring`` (element-wise on a NumPy array) both use it.
    """
    return 25.0 * (mean + 2.0)


def scale_index_counts(counts: Mapping[tuple[float, float], int], *, low: float, high: float) -> float | None:
    """0–100 index of answers on a ``low``…``high`` scale, optionally weighted.

    ``counts`` maps ``(value, weight)`` to the number of answers with that value
    and weight (weight 1 for the plain index, the expertise weight for the
    weighted one).  With codes ``c = value - (low + high) / 2`` (−2…+2 on a
    5-point scale) the index is ``25 · (Σ w·c / Σ w + 2)``: 0 when everyone
    answered ``low``, 100 when everyone answered ``high``, 50 at the middle.
    Every sum is exact and rounded once.  ``None`` when there are no answers or
    the weights sum to 0; negative weights raise ``ValueError``.
    """
    lo = _scalar(low, "low")
    hi = _scalar(high, "high")
    if not isinstance(counts, Mapping):
        raise TypeError(f"counts: expected a mapping of (value, weight) -> count, got {type(counts).__name__}")
    mid = (lo + hi) / 2
    terms: list[tuple[float, int]] = []
    weights: list[tuple[float, int]] = []
    for key, count in counts.items():
        if not isinstance(key, tuple) or len(key) != 2:
            raise TypeError(f"counts: keys must be (value, weight) pairs, got {key!r}")
        if isinstance(count, (bool, np.bool_)) or not isinstance(count, numbers.Integral) or count < 0:
            raise TypeError(f"counts: counts must be non-negative integers, got {count!r}")
        value = _coerce(key[0], "value")
        weight = _coerce(key[1], "weight")
        if value is None or weight is None or count == 0:
            continue
        if weight < 0:
            raise ValueError(f"weights must not be negative, got {weight!r}")
        terms.append(((value - mid) * weight, int(count)))
        weights.append((weight, int(count)))
    total = _exact_sum(weights)
    if not terms or total <= 0:
        return None
    return index_from_mean_code(_exact_sum(terms) / total)


def rand_ucla(values: Iterable[_Value]) -> _RandUcla:
    """RAND/UCLA Appropriateness Method summary of 1-9 panel ratings.

    Definitions (Fitch et al. 2001, *The RAND/UCLA Appropriateness Method
    User's Manual*, ch. 8), all percentiles type 7 (see :func:`quantile`):

    * ``median``; ``p30``, ``p70``: 30th and 70th percentiles.
    * ``ipr = p70 - p30`` (interpercentile range).
    * ``iprcp = (p30 + p70) / 2`` (IPR central point).
    * ``asymmetry = |5 - iprcp|`` (asymmetry index, AI).
    * ``ipras = 2.35 + 1.5 * asymmetry`` (IPR adjusted for symmetry).
    * ``disagreement = ipr > ipras`` (compared with a 1e-9 tolerance so that
      float rounding cannot turn an exact tie into disagreement).
    * ``classification``: ``"uncertain"`` when there is disagreement;
      otherwise ``"appropriate"`` if ``median >= 7``, ``"inappropriate"`` if
      ``median <= 3`` and ``"uncertain"`` in between (so interpolated
      medians such as 6.5 or 3.5 are uncertain).

    With no non-missing ratings every key is ``None``.  Raises
    ``ValueError`` for any rating outside ``[1, 9]``.
    """
    xs = sorted(_clean(values))
    if not xs:
        return {
            "median": None,
            "p30": None,
            "p70": None,
            "ipr": None,
            "iprcp": None,
            "asymmetry": None,
            "ipras": None,
            "disagreement": None,
            "classification": None,
        }
    if xs[0] < _RAND_MIN or xs[-1] > _RAND_MAX:
        bad = xs[0] if xs[0] < _RAND_MIN else xs[-1]
        raise ValueError(f"RAND/UCLA ratings must be on the 1-9 scale, got {bad!r}")
    median = _sorted_quantile(xs, 0.5, "type7")
    p30 = _sorted_quantile(xs, 0.3, "type7")
    p70 = _sorted_quantile(xs, 0.7, "type7")
    ipr = p70 - p30
    iprcp = (p30 + p70) / 2.0
    asymmetry = abs(_RAND_CENTRE - iprcp)
    ipras = _RAND_IPRR + _RAND_CFA * asymmetry
    disagreement = ipr - ipras > _RAND_TOLERANCE
    classification: _Classification
    if disagreement:
        classification = "uncertain"
    elif median >= 7.0:
        classification = "appropriate"
    elif median <= 3.0:
        classification = "inappropriate"
    else:
        classification = "uncertain"
    return {
        "median": median,
        "p30": p30,
        "p70": p70,
        "ipr": ipr,
        "iprcp": iprcp,
        "asymmetry": asymmetry,
        "ipras": ipras,
        "disagreement": disagreement,
        "classification": classification,
    }
