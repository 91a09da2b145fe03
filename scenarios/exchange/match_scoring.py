"""Scoring every demand × capability pair of the scenario exchange (numbers only: numpy and scipy, no Django).

A pair's **score** is a weighted sum of five components, each in [0, 1]::

    score = 0.45·topics + 0.30·text + 0.15·readiness + 0.05·region + 0.05·window

* **topics** — the catalog topics both entries name, weighted by role (core 1.0, enabling 0.6,
  complementary 0.3: ``ScenarioTopic.ROLE_WEIGHTS``, passed in). Each entry is a vector over the topics whose
  value is the weight of the topic's role; the component is the cosine of the two vectors,
  ``Σ_t d_t·c_t / (‖d‖·‖c‖)``: 1 when both name the same topics in the same roles, higher when a shared
  topic is core on both sides than when it is complementary on one, and diluted by topics the other side
  does not name.
* **text** — the cosine of the two entries' TF-IDF vectors in one fitted space (the similarity service's
  character n-gram vectoriser, ``foresight.core.similarity``: English, Chinese or both), L2-normalised, so
  the cosine is a dot product; clipped to [0, 1].
* **readiness** — the capability's TRL against the demand's ``trl_needed``: 1 when nothing is asked or the TRL
  meets it; ``max(0, 1 − shortfall / 3)`` when it falls short (each level short costs a third: three levels
  short is 0); ``READINESS_UNKNOWN`` (0.5) when a TRL is asked and the capability gives none.
* **region** — 1 when both name the same region (after normalisation: NFKC, lower case, spaces collapsed; in
  English or in Chinese), ``REGION_UNKNOWN`` (0.5) when either side names none, 0 when they differ.
* **window** — 1 when the demand's time window is still open on the day of the computation (or it has none), 0
  once it has closed.

Why these weights: what the two sides are about decides a match — the topics (curated, precise, 0.45) first,
then the words (broader but noisier, 0.30); readiness is the first question a demand owner asks (0.15); the
region and the window refine a ranking rather than make one (0.05 each), and a different region or a
closed window still leaves a match that a later window or a travelling supplier can use.

A pair is a **candidate** only when it shares at least one topic or its text similarity is at least
``TEXT_MIN`` (without either, readiness, region and window alone would rank unrelated entries); a candidate is
kept when its score is at least ``SCORE_FLOOR``. Each demand keeps its best ``DEMAND_TOP`` capabilities and
each capability its best ``CAPABILITY_TOP`` demands; the union is stored. Scores are rounded to 6 decimals
before ranking and ties go to the lower index (the caller orders entries by code), so the lists are the same
whatever computes them.

Memory: demands are scored in blocks of ``block`` rows: one block's topic and text products (sparse × sparse,
then dense ``block × capabilities``) at a time, the demand's top list by ``argpartition`` and a running top
list per capability merged block by block; nothing of size demands × capabilities is ever held.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

WEIGHTS = {"topics": 0.45, "text": 0.30, "readiness": 0.15, "region": 0.05, "window": 0.05}
COMPONENTS = tuple(WEIGHTS)
READINESS_UNKNOWN = 0.5
READINESS_STEP = 3  # levels short at which readiness reaches 0
REGION_UNKNOWN = 0.5
TEXT_MIN = 0.10
SCORE_FLOOR = 0.30
DEMAND_TOP = 50
CAPABILITY_TOP = 20
PLACES = 6
BLOCK = 256

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


def region_key(text: str) -> str:
    """A region as compared: NFKC, lower case, spaces collapsed ("" for none)."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "").lower()).strip()


def region_codes(*columns: Sequence[str]) -> list[IntArray]:
    """Each column of region texts as integers (0 for blank), the same text the same integer across columns."""
    codes: dict[str, int] = {}
    out = []
    for column in columns:
        keys = [region_key(t) for t in column]
        out.append(np.array([codes.setdefault(k, len(codes) + 1) if k else 0 for k in keys], dtype=np.int64))
    return out


def readiness_table() -> FloatArray:
    """``table[needed, trl]`` for needed and trl in 0–9 (0: not given)."""
    table = np.ones((10, 10))
    for needed in range(1, 10):
        table[needed, 0] = READINESS_UNKNOWN
        for trl in range(1, 10):
            short = needed - trl
            table[needed, trl] = 1.0 if short <= 0 else max(0.0, 1.0 - short / READINESS_STEP)
    return table


@dataclass(frozen=True)
class Side:
    """One side's entries in a fixed order (by code): role-weight topic vectors (entries × topics, CSR), unit
    text vectors (entries × features, CSR, in the same fitted space as the other side's), TRL (capability;
    0 when none) or TRL needed (demand; 0 when none), region codes in English and Chinese (``region_codes``,
    0 for blank) and, for demands, whether the time window is open."""

    topics: Any
    text: Any
    trl: IntArray
    region_en: IntArray
    region_zh: IntArray
    window_open: np.ndarray[Any, np.dtype[np.bool_]] | None = None

    def __len__(self) -> int:
        return int(self.topics.shape[0])


@dataclass
class Pairs:
    """The kept pairs (demand index, capability index) in (demand, −score, capability) order, their scores and
    components, and the facts behind them: the shared topics of pair ``k`` are
    ``shared.indices[shared.indptr[k]:shared.indptr[k+1]]`` with the demand's role weights in ``shared.data``
    and the capability's in ``shared_capability.data`` (same positions)."""

    demand: IntArray
    capability: IntArray
    score: FloatArray
    components: dict[str, FloatArray]
    shared: Any
    shared_capability: Any

    def __len__(self) -> int:
        return int(self.demand.size)


def _unit_rows(matrix: Any) -> Any:
    m = sp.csr_matrix(matrix, dtype=np.float64)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ m)


# A tie breaker far below the rounding step: a lower position wins a tie (positions below 10⁵).
TIE = 1e-12


def _top(scores: FloatArray, k: int, axis: int) -> tuple[IntArray, FloatArray]:
    """The ``k`` best positions along ``axis`` of a rounded score block (−inf for no candidate), best first,
    ties to the lower position: (positions, scores), shaped (rows, k) for axis 1 or (k, columns) for axis 0."""
    s = scores if axis == 1 else scores.T
    n = s.shape[1]
    k = min(k, n)
    key = s - np.arange(n) * TIE
    if k < n:
        part = np.argpartition(-key, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(n), s.shape).copy()
    order = np.argsort(-np.take_along_axis(key, part, axis=1), axis=1, kind="stable")
    pos = np.take_along_axis(part, order, axis=1).astype(np.int64)
    val = np.take_along_axis(s, pos, axis=1)
    return (pos, val) if axis == 1 else (pos.T, val.T)


def _float_text(matrix: Any) -> Any:
    return sp.csr_matrix(matrix, dtype=np.float64)


def _block_components(
    demand: Side, capability: Side, rows: slice, *, dt: Any, ct: Any, table: FloatArray
) -> dict[str, FloatArray]:
    d_window = demand.window_open if demand.window_open is not None else np.ones(len(demand), dtype=bool)
    topics = (dt[rows] @ ct.T).toarray()
    text = np.clip((demand.text[rows] @ capability.text.T).toarray(), 0.0, 1.0)
    readiness = table[demand.trl[rows][:, None], capability.trl[None, :]]
    den, dzh = demand.region_en[rows][:, None], demand.region_zh[rows][:, None]
    cen, czh = capability.region_en[None, :], capability.region_zh[None, :]
    same = ((den > 0) & (den == cen)) | ((dzh > 0) & (dzh == czh))
    blank = ((den == 0) & (dzh == 0)) | ((cen == 0) & (czh == 0))
    region = np.where(same, 1.0, np.where(blank, REGION_UNKNOWN, 0.0))
    window = np.broadcast_to(d_window[rows].astype(np.float64)[:, None], topics.shape)
    return {
        "topics": np.clip(topics, 0.0, 1.0),
        "text": text,
        "readiness": readiness,
        "region": region,
        "window": window,
    }


def score_pairs(
    demand: Side,
    capability: Side,
    *,
    demand_top: int = DEMAND_TOP,
    capability_top: int = CAPABILITY_TOP,
    block: int = BLOCK,
    progress: Callable[[int, int], None] | None = None,
) -> Pairs:
    """Score every pair block by block and keep each demand's and each capability's best (see the module)."""
    n_d, n_c = len(demand), len(capability)
    demand = replace(demand, text=_float_text(demand.text))
    capability = replace(capability, text=_float_text(capability.text))
    dt, ct = _unit_rows(demand.topics), _unit_rows(capability.topics)
    table = readiness_table()
    kept_d: list[IntArray] = []
    kept_c: list[IntArray] = []
    # The topic and text components of every pair that entered a top list, by key d·n_c + c: the final pairs
    # are among them, and their text is not computed again (a text vector has hundreds of n-grams).
    seen_keys: list[IntArray] = []
    seen_topics: list[FloatArray] = []
    seen_text: list[FloatArray] = []
    # Running top lists of each capability: demand positions and scores, shape (capability_top, n_c).
    cap_pos = np.full((0, n_c), -1, dtype=np.int64)
    cap_val = np.full((0, n_c), -np.inf)
    for start in range(0, n_d, block):
        rows = slice(start, min(start + block, n_d))
        comp = _block_components(demand, capability, rows, dt=dt, ct=ct, table=table)
        score = np.round(sum(WEIGHTS[name] * comp[name] for name in COMPONENTS), PLACES)
        candidate = (comp["topics"] > 0) | (comp["text"] >= TEXT_MIN)
        score = np.where(candidate & (score >= SCORE_FLOOR), score, -np.inf)
        pos, val = _top(score, demand_top, axis=1)
        r, j = np.nonzero(np.isfinite(val))
        kept_d.append(r.astype(np.int64) + start)
        kept_c.append(pos[r, j])
        bpos, bval = _top(score, capability_top, axis=0)
        bi, bc = np.nonzero(np.isfinite(bval))
        rr = np.concatenate([r, bpos[bi, bc]])
        cc = np.concatenate([pos[r, j], bc])
        seen_keys.append((rr + start) * n_c + cc)
        seen_topics.append(comp["topics"][rr, cc])
        seen_text.append(comp["text"][rr, cc])
        merged_pos = np.concatenate([cap_pos, bpos + start])
        merged_val = np.concatenate([cap_val, bval])
        order = np.argsort(-(merged_val - merged_pos * TIE), axis=0, kind="stable")[:capability_top]
        cap_pos = np.take_along_axis(merged_pos, order, axis=0)
        cap_val = np.take_along_axis(merged_val, order, axis=0)
        if progress is not None:
            progress(rows.stop, n_d)
    i, c = np.nonzero(np.isfinite(cap_val))
    all_d = np.concatenate([*kept_d, cap_pos[i, c]]) if n_d and n_c else np.empty(0, dtype=np.int64)
    all_c = np.concatenate([*kept_c, c.astype(np.int64)]) if n_d and n_c else np.empty(0, dtype=np.int64)
    pairs = np.unique(np.stack([all_d, all_c], axis=1), axis=0) if all_d.size else np.empty((0, 2), dtype=np.int64)
    known: dict[str, FloatArray] = {}
    if pairs.size:
        keys, first = np.unique(np.concatenate(seen_keys), return_index=True)
        at = first[np.searchsorted(keys, pairs[:, 0] * n_c + pairs[:, 1])]
        known = {"topics": np.concatenate(seen_topics)[at], "text": np.concatenate(seen_text)[at]}
    return pair_details(demand, capability, pairs[:, 0], pairs[:, 1], known=known)


def pair_details(
    demand: Side, capability: Side, d: IntArray, c: IntArray, *, known: dict[str, FloatArray] | None = None
) -> Pairs:
    """The score, components and shared topics of the given pairs, ordered by demand, −score, capability
    (``known``: their topic and text components, already computed)."""
    known = known or {}
    if "topics" in known:
        topics = known["topics"]
    else:
        dt, ct = _unit_rows(demand.topics), _unit_rows(capability.topics)
        topics = np.clip(np.asarray(dt[d].multiply(ct[c]).sum(axis=1)).ravel(), 0.0, 1.0)
    if "text" in known:
        text = known["text"]
    else:
        dx, cx = _float_text(demand.text), _float_text(capability.text)
        text = np.clip(np.asarray(dx[d].multiply(cx[c]).sum(axis=1)).ravel(), 0.0, 1.0)
    table = readiness_table()
    readiness = table[demand.trl[d], capability.trl[c]]
    den, dzh, cen, czh = demand.region_en[d], demand.region_zh[d], capability.region_en[c], capability.region_zh[c]
    same = ((den > 0) & (den == cen)) | ((dzh > 0) & (dzh == czh))
    blank = ((den == 0) & (dzh == 0)) | ((cen == 0) & (czh == 0))
    region = np.where(same, 1.0, np.where(blank, REGION_UNKNOWN, 0.0))
    d_window = demand.window_open if demand.window_open is not None else np.ones(len(demand), dtype=bool)
    window = d_window[d].astype(np.float64)
    comp = {
        "topics": topics,
        "text": text.astype(np.float64),
        "readiness": readiness,
        "region": region,
        "window": window,
    }
    score = np.round(sum(WEIGHTS[name] * comp[name] for name in COMPONENTS), PLACES)
    order = np.lexsort((c, -score, d))
    d, c = d[order], c[order]
    raw_d, raw_c = sp.csr_matrix(demand.topics, dtype=np.float64), sp.csr_matrix(capability.topics, dtype=np.float64)
    on_c = raw_c[c].copy()
    on_c.data[:] = 1.0
    shared = sp.csr_matrix(raw_d[d].multiply(on_c))
    shared.sort_indices()
    on_d = shared.copy()
    on_d.data[:] = 1.0
    shared_c = sp.csr_matrix(raw_c[c].multiply(on_d))
    shared_c.sort_indices()
    return Pairs(
        demand=d.astype(np.int64),
        capability=c.astype(np.int64),
        score=score[order],
        components={name: np.asarray(comp[name])[order] for name in COMPONENTS},
        shared=shared,
        shared_capability=shared_c,
    )
