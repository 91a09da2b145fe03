"""Priority scoring: min–max normalisation, weighted scores, AHP weights and a seeded bootstrap of ranks.

Pure NumPy/SciPy, no Django import (STYLE §3), so every number can be checked with plain data.
The service layer (``foresight/priorities/services/runs.py``) turns a Delphi round into the arrays used
here; the 0–100 indices are those of ``foresight.delphi.services.aggregation`` (``scale_index`` /
``weighted_index``), their sums written in matrix form so a bootstrap sample costs one matrix product
instead of one Python loop per topic, and their formula the one of ``foresight.stats.index_from_mean_code``.

Conventions
-----------
* ``None`` (or NaN in arrays) is a missing value.  Every list returned holds built-in ``float`` /
  ``int`` / ``None`` so results serialise to JSON unchanged.
* **Ranks**: rank 1 is the best (highest score).  Ties get the *minimum* rank of the tied block
  (competition ranking "1224"): a topic tied with the k-th is in the top k.  Consequently the
  P(top-k) of all topics sums to exactly k when no bootstrap sample has a tie across the k-th
  place, and to more than k otherwise.
* **Missing criterion values** count as 0 after normalisation, i.e. as the worst value of that
  criterion (a topic is never rewarded for missing data).  The service avoids creating them where
  it can (see ``criteria_collect``).
* **Determinism**: the same inputs and seed give the same output on every platform run with the
  same NumPy: resampling draws come from ``numpy.random.default_rng(seed)`` in a fixed order that
  does not depend on the chunk size, sums of integer-coded answers are exact in float64, and the
  0–100 indices are rounded to ``INDEX_DECIMALS`` decimals (as ``RoundStat`` stores them) so that
  the summation order of a weighted mean can never flip a tie.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np
from scipy import sparse as _sparse
from scipy import stats as _sps

from foresight import numbers, stats

__all__ = [
    "AHP_CR_MAX",
    "DIVERGENCE_GAP",
    "RANDOM_INDEX",
    "TIER_KEY_MIN",
    "TIER_PRIORITY_MIN",
    "BootstrapResult",
    "IndexCriterion",
    "InconsistentMatrix",
    "ahp_consistent",
    "ahp_inconsistent_message",
    "YearCriterion",
    "ahp_weights",
    "bootstrap_ranks",
    "divergence",
    "minmax",
    "quadrant_competitiveness",
    "quadrant_timing",
    "ranks",
    "suggest_tier",
    "weighted_score",
]

# Saaty's random consistency index RI for n = 1..10 (Saaty 1980, The Analytic Hierarchy Process, table 1.7).
RANDOM_INDEX: tuple[float, ...] = (0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49)
# SPEC §6: AHP weights are accepted only with a consistency ratio ≤ 0.10.
AHP_CR_MAX = 0.10
# |a_ij · a_ji − 1| allowed for a "reciprocal" matrix: judgements typed as 0.333 or 0.111 are fine.
AHP_RECIPROCAL_TOLERANCE = 0.01

# Suggested tiers from the bootstrap probability of being in the top k (numbers inform, people decide):
# priority when the topic is in the top k in at least half of the resamples, key when in at least 10 %.
TIER_PRIORITY_MIN = 0.5
TIER_KEY_MIN = 0.1
TIER_PRIORITY = "priority"
TIER_KEY = "key"
TIER_WATCH = "watch"

# Stakeholder groups whose indices differ by at least this many index points are flagged divergent.
DIVERGENCE_GAP = 15.0

# 0–100 indices are rounded like RoundStat stores them (aggregation._r), see "Determinism" above.
INDEX_DECIMALS = 10

# Working memory of one bootstrap chunk (counts and products); bounds memory at any B.
CHUNK_BYTES = 32 * 1024 * 1024
# Below this share of answered respondent × topic cells the products use sparse matrices.
SPARSE_DENSITY = 0.25


# ---------------------------------------------------------------------------
# Normalisation, scores, ranks
# ---------------------------------------------------------------------------


def _as_float_array(values: Sequence[float | None] | np.ndarray, what: str) -> np.ndarray:
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{what}: expected a sequence of numbers, got a string")
    out = np.array([np.nan if v is None else v for v in values], dtype=float)
    if out.ndim != 1:
        raise ValueError(f"{what}: expected a flat sequence of numbers")
    if np.isinf(out).any():
        raise ValueError(f"{what}: infinite values are not allowed")
    return out


def _minmax_rows(x: np.ndarray) -> np.ndarray:
    """Min–max normalise every row of ``x`` ignoring NaN; a constant row becomes 0.5; NaN stays NaN."""
    present = ~np.isnan(x)
    has_any = present.any(axis=1)
    lo = np.where(present, x, np.inf).min(axis=1)
    hi = np.where(present, x, -np.inf).max(axis=1)
    lo = np.where(has_any, lo, 0.0)
    hi = np.where(has_any, hi, 0.0)
    span = hi - lo
    constant = span == 0
    safe = np.where(constant, 1.0, span)
    out = (x - lo[:, None]) / safe[:, None]
    out = np.where(constant[:, None], 0.5, out)
    return np.where(present, out, np.nan)


def _normalised_weights(weights: Mapping[str, float], names: Sequence[str]) -> dict[str, float]:
    unknown = sorted(set(weights) - set(names))
    if unknown:
        raise ValueError(f"weights for unknown criteria: {', '.join(unknown)}")
    clean: dict[str, float] = {}
    for name in names:
        w = weights.get(name, 0.0)
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(float(w)):
            raise ValueError(f"weight of {name!r} must be a finite number, got {w!r}")
        if w < 0:
            raise ValueError(f"weight of {name!r} must not be negative, got {w!r}")
        clean[name] = float(w)
    total = math.fsum(clean.values())
    if total <= 0:
        raise ValueError("at least one criterion needs a positive weight")
    return {name: w / total for name, w in clean.items()}


def _score_rows(normalised: Mapping[str, np.ndarray], weights: Mapping[str, float], names: Sequence[str]) -> np.ndarray:
    """Σ w_i · norm_i over criteria in the fixed order ``names``; a missing (NaN) value counts as 0."""
    score: np.ndarray | None = None
    for name in names:
        w = weights[name]
        if w == 0:
            continue
        term = w * np.nan_to_num(normalised[name], nan=0.0)
        score = term if score is None else score + term
    assert score is not None  # _normalised_weights guarantees a positive weight
    return score


def _rank_rows(scores: np.ndarray) -> np.ndarray:
    """Competition ranks ("min", rank 1 = highest score) of every row."""
    return np.asarray(_sps.rankdata(-scores, method="min", axis=1), dtype=np.int32)


def _to_list(x: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in x.tolist()]


def minmax(values: Sequence[float | None]) -> list[float | None]:
    """Min–max normalise to [0, 1]: ``(x − min) / (max − min)`` over the non-missing values.

    ``None``/NaN stays ``None``.  A constant column (max = min) gives 0.5 for every non-missing value,
    so a criterion that does not discriminate moves no topic up or down.
    """
    x = _as_float_array(values, "values")
    if x.size == 0:
        return []
    return _to_list(_minmax_rows(x[None, :])[0])


def weighted_score(criteria: Mapping[str, Sequence[float | None]], weights: Mapping[str, float]) -> list[float]:
    """Weighted multi-criteria score of each item, in [0, 1].

    Every criterion is min–max normalised (:func:`minmax`); weights are normalised to sum to 1
    (non-negative, finite, at least one positive; a weight for an unknown criterion is an error and a
    criterion without a weight gets 0).  ``score = Σ w_i · norm_i`` where a missing value counts as 0
    after normalisation — the worst value of that criterion.
    """
    names = sorted(criteria)
    w = _normalised_weights(weights, names)
    lengths = {len(v) for v in criteria.values()}
    if len(lengths) > 1:
        raise ValueError(f"criteria have different lengths {sorted(lengths)}")
    size = lengths.pop() if lengths else 0
    if size == 0:
        return []
    normalised = {name: _minmax_rows(_as_float_array(criteria[name], name)[None, :]) for name in names}
    return [float(v) for v in _score_rows(normalised, w, names)[0]]


def ranks(scores: Sequence[float | None]) -> list[int | None]:
    """Rank 1 = highest score; ties share the minimum rank ("1224"); ``None`` scores get no rank."""
    x = _as_float_array(scores, "scores")
    out: list[int | None] = [None] * len(x)
    present = np.flatnonzero(~np.isnan(x))
    if present.size:
        r = _rank_rows(x[present][None, :])[0]
        for i, rank in zip(present.tolist(), r.tolist(), strict=True):
            out[i] = int(rank)
    return out


def suggest_tier(p_top_k: float) -> str:
    """``priority`` if P(top-k) ≥ 0.5, ``key`` if ≥ 0.1, otherwise ``watch``."""
    if not 0.0 <= p_top_k <= 1.0:
        raise ValueError(f"p_top_k must be a probability, got {p_top_k!r}")
    if p_top_k >= TIER_PRIORITY_MIN:
        return TIER_PRIORITY
    if p_top_k >= TIER_KEY_MIN:
        return TIER_KEY
    return TIER_WATCH


# ---------------------------------------------------------------------------
# Matrices (SPEC §6) and stakeholder groups
# ---------------------------------------------------------------------------


def quadrant_competitiveness(
    importance: float | None, competitiveness: float | None, *, importance_cut: float, competitiveness_cut: float
) -> str | None:
    """Importance × competitiveness quadrant; a value equal to its cut counts as high.

    ``strengthen`` (important, weak), ``lead_maintain`` (important, strong), ``watch`` (less important,
    strong), ``deprioritise`` (less important, weak); ``None`` when either index is missing.
    """
    if importance is None or competitiveness is None:
        return None
    important = importance >= importance_cut
    strong = competitiveness >= competitiveness_cut
    if important:
        return "lead_maintain" if strong else "strengthen"
    return "watch" if strong else "deprioritise"


def quadrant_timing(
    importance: float | None, year: float | None, *, importance_cut: float, year_cut: float
) -> str | None:
    """Importance × time-to-realisation quadrant; realisation in the cut year counts as within the period.

    ``act_now`` (important, realised within the plan period), ``build_up`` (important, later),
    ``adopt`` (less important, soon), ``monitor`` (less important, later); ``None`` when a value is missing.
    """
    if importance is None or year is None:
        return None
    important = importance >= importance_cut
    soon = year <= year_cut
    if important:
        return "act_now" if soon else "build_up"
    return "adopt" if soon else "monitor"


def divergence(indices: Mapping[str, float | None]) -> dict[str, Any]:
    """Spread of an index across the shown groups: ``gap`` = max − min, ``divergent`` if gap ≥ 15 points."""
    present = {g: v for g, v in indices.items() if v is not None}
    if len(present) < 2:
        return {"gap": None, "divergent": False, "highest": None, "lowest": None}
    highest = max(sorted(present), key=lambda g: present[g])
    lowest = min(sorted(present), key=lambda g: present[g])
    gap = round(present[highest] - present[lowest], INDEX_DECIMALS)
    return {"gap": gap, "divergent": gap >= DIVERGENCE_GAP, "highest": highest, "lowest": lowest}


# ---------------------------------------------------------------------------
# AHP
# ---------------------------------------------------------------------------


class AhpResult(TypedDict):
    weights: list[float]
    lambda_max: float
    ci: float
    cr: float


def ahp_consistent(cr: float, limit: float = AHP_CR_MAX) -> bool:
    """Saaty's rule: a pairwise comparison matrix is consistent enough when its CR is at most ``limit``."""
    return cr <= limit


def ahp_inconsistent_message(cr: float, limit: float = AHP_CR_MAX) -> str:
    """Why a matrix is refused, with its CR and the limit as the pages print them (``numbers``, a coefficient)."""
    return (
        f"The pairwise comparisons are too inconsistent: consistency ratio {numbers.display(cr, 'coefficient')} "
        f"is above {numbers.display(limit, 'coefficient')}. Revise the judgements that contradict each other."
    )


class InconsistentMatrix(ValueError):
    """A pairwise comparison matrix whose consistency ratio exceeds ``AHP_CR_MAX``; carries the figures."""

    def __init__(self, result: AhpResult, limit: float = AHP_CR_MAX) -> None:
        self.result = result
        self.cr = result["cr"]
        self.limit = limit
        super().__init__(ahp_inconsistent_message(self.cr, limit))


def ahp_weights(matrix: Sequence[Sequence[float]], *, max_cr: float | None = AHP_CR_MAX) -> AhpResult:
    """Criteria weights from a positive reciprocal pairwise comparison matrix (Saaty's eigenvector method).

    ``matrix[i][j]`` says how many times criterion i matters more than criterion j (Saaty's 1–9 scale).
    The weights are the principal right eigenvector (``numpy.linalg.eig``), normalised to sum 1;
    ``lambda_max`` its eigenvalue, ``ci = (lambda_max − n) / (n − 1)`` and ``cr = ci / RI(n)`` with
    Saaty's random index ``RANDOM_INDEX`` (``cr = 0`` for n ≤ 2, where RI = 0 and any reciprocal
    matrix is consistent).

    Raises ``ValueError`` unless the matrix is square with 2 ≤ n ≤ 10, every entry is finite and
    positive, the diagonal is 1 and ``a_ij · a_ji = 1`` within 1 %; raises :class:`InconsistentMatrix`
    (a ``ValueError`` carrying ``cr`` and the full result) when ``cr > max_cr`` (pass ``max_cr=None``
    to get the figures of any matrix).
    """
    if isinstance(matrix, (str, bytes)) or not isinstance(matrix, Sequence | np.ndarray):
        raise ValueError("The pairwise comparison matrix must be a list of rows.")
    rows = [list(r) if isinstance(r, Sequence | np.ndarray) and not isinstance(r, str) else None for r in matrix]
    n = len(rows)
    if n < 2:
        raise ValueError("Compare at least two criteria: the matrix needs at least 2 rows.")
    if n > len(RANDOM_INDEX):
        raise ValueError(
            f"At most {len(RANDOM_INDEX)} criteria can be compared (Saaty's random index table ends there)."
        )
    if any(r is None or len(r) != n for r in rows):
        raise ValueError(f"The pairwise comparison matrix must be square: {n} rows of {n} numbers.")
    try:
        a = np.array(rows, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError("Every entry of the pairwise comparison matrix must be a number.") from exc
    if not np.isfinite(a).all() or (a <= 0).any():
        raise ValueError("Every entry of the pairwise comparison matrix must be a positive number.")
    for i in range(n):
        if not math.isclose(a[i, i], 1.0, rel_tol=AHP_RECIPROCAL_TOLERANCE):
            raise ValueError(f"The diagonal must be 1 (a criterion compared with itself); row {i + 1} has {a[i, i]:g}.")
        for j in range(i + 1, n):
            if not math.isclose(a[i, j] * a[j, i], 1.0, rel_tol=AHP_RECIPROCAL_TOLERANCE):
                raise ValueError(
                    f"The matrix must be reciprocal: entry ({i + 1}, {j + 1}) is {a[i, j]:g}, so entry "
                    f"({j + 1}, {i + 1}) must be {1 / a[i, j]:g}, not {a[j, i]:g}."
                )
    eigenvalues, eigenvectors = np.linalg.eig(a)
    principal = int(np.argmax(eigenvalues.real))
    lambda_max = float(eigenvalues[principal].real)
    vector = np.abs(eigenvectors[:, principal].real)
    weights = vector / vector.sum()
    ci = max(0.0, (lambda_max - n) / (n - 1))
    ri = RANDOM_INDEX[n - 1]
    cr = ci / ri if ri > 0 else 0.0
    result: AhpResult = {"weights": [float(w) for w in weights], "lambda_max": lambda_max, "ci": ci, "cr": cr}
    if max_cr is not None and not ahp_consistent(cr, max_cr):
        raise InconsistentMatrix(result, max_cr)
    return result


# ---------------------------------------------------------------------------
# Bootstrap of ranks over respondents
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexCriterion:
    """A 0–100 index resampled with the respondents: ``stats.index_from_mean_code`` of the weighted mean code.

    ``codes``: respondents × topics, answers coded −2…+2 (NaN where the respondent gave none);
    ``weights``: respondents × topics, non-negative (expertise weights, or 1/0 to select e.g.
    high-expertise answers); ``None`` means 1 for every answer.  A cell with a NaN code never counts.
    ``reverse`` gives ``100 − index`` (e.g. a competitiveness *gap*).  A topic whose weights sum to 0
    has no value (NaN) — the same rule as ``aggregation.weighted_index``.
    """

    codes: np.ndarray
    weights: np.ndarray | None = None
    reverse: bool = False


@dataclass(frozen=True)
class YearCriterion:
    """Realisation timing resampled with the respondents: ``max(0, cut − median year)``.

    ``years``: respondents × topics, NaN where no year was given ("already", "never" and "can't judge"
    are excluded, as in the round statistics).  The median is type 7 (``foresight.stats.quantile``).
    An earlier median within the plan period ending in ``cut`` scores higher; later is 0.
    """

    years: np.ndarray
    cut: float


Criterion = IndexCriterion | YearCriterion | Sequence[float | None] | np.ndarray


@dataclass
class BootstrapResult:
    """Per topic (same order as the input columns). Point figures are from the full sample."""

    criteria: dict[str, list[float | None]]
    normalised: dict[str, list[float | None]]
    score: list[float]
    rank: list[int]
    median_rank: list[float]
    rank_low: list[float]
    rank_high: list[float]
    p_top_k: list[float]
    tier: list[str]
    samples: int = 0
    top_k: int = 0
    weights: dict[str, float] = field(default_factory=dict)


class _Plan:
    """The resampled criteria compiled into two matrices, so each bootstrap chunk costs two products.

    ``index_matrix`` (respondents × 2T per index criterion: weighted code sums, weight sums) is dense
    (BLAS) when most respondents answer most topics and sparse otherwise; ``year_matrix``
    (respondents × T·Y per year criterion: one column per topic and distinct year value) is always
    sparse, having at most one non-zero per respondent and topic.
    """

    def __init__(self, criteria: Mapping[str, Criterion], names: Sequence[str]) -> None:
        self.fixed: dict[str, np.ndarray] = {}
        self.index: dict[str, tuple[int, bool]] = {}  # name -> (column offset in index_matrix, reverse)
        self.year: dict[str, tuple[int, np.ndarray, float]] = {}  # name -> (offset in year_matrix, years, cut)
        index_names: list[str] = []
        index_criteria: dict[str, IndexCriterion] = {}
        year_blocks: list[Any] = []
        year_cols = 0
        shape: tuple[int, int] | None = None
        answered_cells = 0
        for name in names:  # pass 1: shapes, fixed vectors, year histograms, density of the index blocks
            crit = criteria[name]
            if isinstance(crit, IndexCriterion):
                shape = self._check_shape(shape, np.shape(crit.codes), name)
                answered_cells += int(np.count_nonzero(~np.isnan(np.asarray(crit.codes, dtype=float))))
                self.index[name] = (2 * shape[1] * len(index_names), crit.reverse)
                index_names.append(name)
                index_criteria[name] = crit
            elif isinstance(crit, YearCriterion):
                years = np.asarray(crit.years, dtype=float)
                shape = self._check_shape(shape, years.shape, name)
                block, distinct = self._year_block(years)
                year_blocks.append(block)
                self.year[name] = (year_cols, distinct, float(crit.cut))
                year_cols += block.shape[1]
            else:
                self.fixed[name] = _as_float_array(crit, name)
        self.respondents = shape[0] if shape else 0
        topics = {v.size for v in self.fixed.values()} | ({shape[1]} if shape else set())
        if len(topics) > 1:
            raise ValueError(f"criteria cover different numbers of topics: {sorted(topics)}")
        self.topics = t = topics.pop() if topics else 0
        self.columns = 2 * t * len(index_names) + year_cols
        self.index_matrix: Any = None
        self.year_matrix: Any = None
        if index_names:  # pass 2: one criterion at a time, so temporaries stay at a few R × T arrays
            cells = self.respondents * t * len(index_names)
            sparse = bool(cells) and answered_cells / cells < SPARSE_DENSITY
            blocks: list[Any] = []
            dense = None if sparse else np.empty((self.respondents, 2 * t * len(index_names)))
            for i, name in enumerate(index_names):
                wv, w = self._index_block(name, index_criteria[name])
                if dense is not None:
                    dense[:, 2 * t * i : 2 * t * i + t] = wv
                    dense[:, 2 * t * i + t : 2 * t * (i + 1)] = w
                else:
                    # Sparse: a chunk's product costs nnz × chunk, in a fixed summation order.
                    blocks.extend([_sparse.csc_matrix(wv), _sparse.csc_matrix(w)])
                del wv, w
            self.index_matrix = dense if dense is not None else _sparse.hstack(blocks, format="csc")
        if year_blocks:
            self.year_matrix = _sparse.hstack(year_blocks, format="csc")

    @staticmethod
    def _year_block(years: np.ndarray, step: int = 64) -> tuple[Any, np.ndarray]:
        """Sparse respondents × (topic, distinct year) indicator matrix, built a few topics at a time."""
        r_count, t_count = years.shape
        distinct = np.unique(years[~np.isnan(years)])
        y = max(1, distinct.size)
        rows: list[np.ndarray] = []
        per_column = np.zeros(t_count * y, dtype=np.int64)
        for t0 in range(0, t_count, step):
            part = years[:, t0 : t0 + step].T  # topics × respondents
            t_idx, r_idx = np.nonzero(~np.isnan(part))  # sorted by topic, then respondent
            column = (t0 + t_idx) * y + np.searchsorted(distinct, part[t_idx, r_idx])
            order = np.argsort(column, kind="stable")  # by column; respondents stay ascending within one
            rows.append(r_idx[order].astype(np.int32))
            per_column += np.bincount(column, minlength=t_count * y)
        indices = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32)
        indptr = np.concatenate([[0], np.cumsum(per_column)])
        matrix = _sparse.csc_matrix((np.ones(indices.size), indices, indptr), shape=(r_count, t_count * y))
        return matrix, distinct

    @staticmethod
    def _index_block(name: str, crit: IndexCriterion) -> tuple[np.ndarray, np.ndarray]:
        """(weight × code, weight) with 0 wherever the respondent gave no answer."""
        codes = np.asarray(crit.codes, dtype=float)
        answered = ~np.isnan(codes)
        if crit.weights is None:
            w = answered.astype(float)
        else:
            w = np.asarray(crit.weights, dtype=float)
            if w.shape != codes.shape:
                raise ValueError(f"{name}: weights shape {w.shape} differs from codes shape {codes.shape}")
            if np.isnan(w[answered]).any() or (w[answered] < 0).any():
                raise ValueError(f"{name}: weights must be non-negative numbers")
            w = np.where(answered, w, 0.0)
        return w * np.where(answered, codes, 0.0), w

    @staticmethod
    def _check_shape(shape: tuple[int, int] | None, new: tuple[int, ...], name: str) -> tuple[int, int]:
        if len(new) != 2:
            raise ValueError(f"{name}: expected a respondents × topics matrix, got shape {new}")
        if shape is not None and new != shape:
            raise ValueError(f"{name}: shape {new} differs from {shape}; every criterion must use the same respondents")
        return (int(new[0]), int(new[1]))

    def raw(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        """Criterion values (chunk × topics) for respondent ``counts`` (chunk × respondents)."""
        c = counts.shape[0]
        t = self.topics
        out: dict[str, np.ndarray] = {}
        if self.index_matrix is not None:
            product = np.asarray(counts @ self.index_matrix)
            for name, (off, reverse) in self.index.items():
                num = product[:, off : off + t]
                den = product[:, off + t : off + 2 * t]
                positive = den > 0
                index = np.where(positive, stats.index_from_mean_code(num / np.where(positive, den, 1.0)), np.nan)
                if reverse:
                    index = 100.0 - index
                out[name] = np.round(index, INDEX_DECIMALS)
        if self.year_matrix is not None:
            product = np.asarray(counts @ self.year_matrix)
            for name, (off, distinct, cut) in self.year.items():
                y = max(1, distinct.size)
                out[name] = self._year_value(product[:, off : off + t * y].reshape(c, t, y), distinct, cut)
        for name, vector in self.fixed.items():
            out[name] = np.broadcast_to(vector, (c, t))
        return out

    @staticmethod
    def _year_value(hist: np.ndarray, distinct: np.ndarray, cut: float) -> np.ndarray:
        # hist[b, t, y]: how many (resampled) answers gave the y-th distinct year. The type-7 median of
        # m sorted values is the mean of the values at 0-based positions floor((m−1)/2) and floor(m/2);
        # the value at position p is the first distinct year whose cumulative count exceeds p.
        # Counts are whole numbers, exact in float64, so the cumulative sums and halvings below are exact.
        cum = np.cumsum(hist, axis=2)
        m = cum[:, :, -1]
        lo = (m - 1) // 2
        hi = m // 2
        last = max(0, distinct.size - 1)
        i_lo = np.minimum((cum <= lo[:, :, None]).sum(axis=2), last)
        i_hi = np.minimum((cum <= hi[:, :, None]).sum(axis=2), last)
        values = distinct if distinct.size else np.zeros(1)
        median = (values[i_lo] + values[i_hi]) / 2.0
        return np.where(m > 0, np.maximum(0.0, cut - median), np.nan)


def _evaluate(
    plan: _Plan, counts: np.ndarray, weights: Mapping[str, float], names: Sequence[str]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray, np.ndarray]:
    raw = plan.raw(counts)
    normalised = {name: _minmax_rows(raw[name]) for name in names}
    score = _score_rows(normalised, weights, names)
    return raw, normalised, score, _rank_rows(score)


def bootstrap_ranks(
    criteria: Mapping[str, Criterion],
    weights: Mapping[str, float],
    *,
    top_k: int,
    seed: int,
    B: int = 1000,  # noqa: N803 - the usual name of the number of bootstrap samples
    chunk: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BootstrapResult:
    """Weighted scores, ranks and their bootstrap uncertainty over respondents.

    ``criteria`` maps a name to an :class:`IndexCriterion` or :class:`YearCriterion` (resampled: all
    must share the same respondents × topics shape) or to a vector with one value per topic (fixed,
    e.g. scenario pull or policy-list membership).  Only criteria with a positive weight are
    computed; ``weights`` follow :func:`weighted_score`.

    Point figures use the full sample.  Then ``B`` times: draw the respondents with replacement
    (``numpy.random.default_rng(seed).integers``, one row of R draws per sample, so the result does
    not depend on ``chunk``), recompute every resampled criterion as a count-weighted statistic,
    min–max normalise across topics, score and rank ("min" ties).  Per topic: ``median_rank``,
    ``rank_low``/``rank_high`` = 5 % / 95 % quantiles (type 7) of the B ranks, ``p_top_k`` = share of
    samples with rank ≤ ``top_k``, and the tier of :func:`suggest_tier`.  ``progress(done, B)`` is
    called after every chunk; chunks are sized to keep the working memory near ``CHUNK_BYTES``.
    """
    if isinstance(B, bool) or not isinstance(B, int) or B < 1:
        raise ValueError(f"B must be a positive integer, got {B!r}")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    all_names = sorted(criteria)
    w_all = _normalised_weights(weights, all_names)
    names = [n for n in all_names if w_all[n] > 0]
    w = {n: w_all[n] for n in names}
    plan = _Plan(criteria, names)
    # Criteria with zero weight are still reported (point values) but never resampled.
    idle = [n for n in all_names if n not in w]
    idle_plan = _Plan(criteria, idle) if idle else None
    t = plan.topics
    if idle_plan is not None and t and idle_plan.topics and idle_plan.topics != t:
        raise ValueError("criteria cover different numbers of topics")
    r = plan.respondents
    if t == 0:
        empty: list[Any] = []
        return BootstrapResult(
            criteria={n: [] for n in all_names},
            normalised={n: [] for n in all_names},
            score=empty,
            rank=[],
            median_rank=[],
            rank_low=[],
            rank_high=[],
            p_top_k=[],
            tier=[],
            samples=B,
            top_k=top_k,
            weights=w_all,
        )

    point_raw, point_norm, point_score, point_rank = _evaluate(plan, np.ones((1, r)), w, names)
    criteria_out = {n: _to_list(point_raw[n][0]) for n in names}
    normalised_out = {n: _to_list(point_norm[n][0]) for n in names}
    if idle_plan is not None:
        idle_raw = idle_plan.raw(np.ones((1, idle_plan.respondents)))
        for n in idle:
            criteria_out[n] = _to_list(idle_raw[n][0])
            normalised_out[n] = _to_list(_minmax_rows(idle_raw[n])[0])

    if chunk is None:
        # Bytes one sample needs: draws and counts, the products (and the year histogram's cumulative
        # copy), and a few topic-length rows per criterion for normalising and ranking.
        per_sample = 8 * (3 * r + 2 * plan.columns + 4 * t * (len(names) + 2))
        chunk = max(1, min(B, CHUNK_BYTES // per_sample))
    rng = np.random.default_rng(seed)
    all_ranks = np.empty((B, t), dtype=np.int32)
    done = 0
    while done < B:
        c = min(chunk, B - done)
        if r:
            draws = rng.integers(0, r, size=(c, r))
            flat = (draws + (np.arange(c) * r)[:, None]).ravel()
            counts = np.bincount(flat, minlength=c * r).reshape(c, r).astype(float)
        else:
            counts = np.zeros((c, 0))
        _, _, _, sample_ranks = _evaluate(plan, counts, w, names)
        all_ranks[done : done + c] = sample_ranks
        done += c
        if progress is not None:
            progress(done, B)

    quantiles = np.quantile(all_ranks, [0.5, 0.05, 0.95], axis=0, method="linear")
    p_top = (all_ranks <= top_k).mean(axis=0)
    p_list = [float(p) for p in p_top]
    return BootstrapResult(
        criteria=criteria_out,
        normalised=normalised_out,
        score=[float(s) for s in point_score[0]],
        rank=[int(x) for x in point_rank[0]],
        median_rank=[float(x) for x in quantiles[0]],
        rank_low=[float(x) for x in quantiles[1]],
        rank_high=[float(x) for x in quantiles[2]],
        p_top_k=p_list,
        tier=[suggest_tier(p) for p in p_list],
        samples=B,
        top_k=top_k,
        weights=w_all,
    )
