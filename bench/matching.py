"""Workload 6b: a full match recomputation of the scenario exchange at its national scale (2,000 demand ×
10,000 capability entries).

The entries are made by ``manage.py generate_exchange``'s own composer (``scenarios.exchange.generate.entries_compose``,
seed 1, in memory: nothing is written), each demand given a TRL needed by a second seeded generator (the
generator leaves it blank). Then, as ``scenarios.exchange.matching`` does for a ``MatchRun``:

* **prepare**: the published versions as the scorer's arrays — one TF-IDF space fitted on both sides and the
  catalog's topic texts (``foresight.core.similarity.unit_vectors``), role-weighted topic vectors, TRL, regions,
  windows (``matching.matches_arrays``);
* **score**: ``match_scoring.score_pairs`` — every pair, in blocks of 256 demand entries, each demand's top 50
  and each capability's top 20;
* **rows**: the kept pairs as ``Match`` rows with their reasons (``matching.matches_build``), and their insertion
  (``bulk_create``) in a transaction that is rolled back.

**Baseline:** the same scoring written plainly with numpy/scipy, independently of the product's code: every
component as a full demands × capabilities matrix at once, the score matrix, and the top lists by a stable
full sort of each row and each column. Run alternately with the product's *score* step on the same arrays;
time per repeat, and peak memory of each by ``tracemalloc`` (numpy and scipy allocate through it) in a
separate, untimed pass. The two must keep the same pairs with the same scores (checked every run).
"""

from __future__ import annotations

import random
import statistics
import time
import tracemalloc
from typing import Any

import numpy as np
import scipy.sparse as sp
from django.db import transaction
from django.utils import timezone

from scenarios.exchange import match_scoring as ms
from scenarios.exchange import matching
from scenarios.exchange.generate import entries_compose
from scenarios.exchange.selectors import entry_text
from scenarios.models import Match

SEED = 1


def _summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def versions(*, demand: int, capability: int) -> tuple[list[matching.Version], list[matching.Version]]:
    """The entries as the generator composes them, as published versions (in memory)."""
    needs = random.Random(SEED + 1)
    out: dict[str, list[matching.Version]] = {"demand": [], "capability": []}
    for pk, (entry, links) in enumerate(entries_compose(seed=SEED, demand=demand, capability=capability), start=1):
        out[entry.kind].append(
            matching.Version(
                pk=pk,
                code=entry.code,
                kind=entry.kind,
                text=entry_text(entry),
                topics=links,
                trl=entry.trl,
                trl_needed=needs.choice([None, 4, 5, 6, 7, 8]) if entry.kind == "demand" else None,
                region_en=entry.region_en,
                region_zh=entry.region_zh,
                window_end=entry.window_end,
            )
        )
    return out["demand"], out["capability"]


def baseline(
    demand: ms.Side, capability: ms.Side, *, demand_top: int, capability_top: int
) -> set[tuple[int, int, float]]:
    """The same scoring, plainly: full matrices, full sorts."""
    w = ms.WEIGHTS

    def unit(m: Any) -> Any:
        m = sp.csr_matrix(m, dtype=np.float64)
        n = np.sqrt(np.asarray(m.power(2).sum(axis=1)).ravel())
        n[n == 0] = 1
        return sp.csr_matrix(m.multiply(1 / n[:, None]))

    topics = np.minimum((unit(demand.topics) @ unit(capability.topics).T).toarray(), 1.0)
    text = np.clip(
        (sp.csr_matrix(demand.text, dtype=np.float64) @ sp.csr_matrix(capability.text, dtype=np.float64).T).toarray(),
        0,
        1,
    )
    needed, trl = demand.trl[:, None], capability.trl[None, :]
    readiness = np.where(
        needed == 0,
        1.0,
        np.where(trl == 0, 0.5, np.where(trl >= needed, 1.0, np.maximum(0.0, 1 - (needed - trl) / 3))),
    )
    de, dz, ce, cz = demand.region_en[:, None], demand.region_zh[:, None], capability.region_en, capability.region_zh
    region = np.where(
        ((de > 0) & (de == ce)) | ((dz > 0) & (dz == cz)),
        1.0,
        np.where(((de == 0) & (dz == 0)) | ((ce == 0) & (cz == 0)), 0.5, 0.0),
    )
    assert demand.window_open is not None
    window = demand.window_open.astype(float)[:, None]
    score = np.round(
        w["topics"] * topics
        + w["text"] * text
        + w["readiness"] * readiness
        + w["region"] * region
        + w["window"] * window,
        6,
    )
    keep = ((topics > 0) | (text >= 0.10)) & (score >= 0.30)
    score = np.where(keep, score, -1.0)
    by_row = np.argsort(-score, axis=1, kind="stable")[:, :demand_top]
    by_col = np.argsort(-score, axis=0, kind="stable")[:capability_top, :]
    pairs: set[tuple[int, int]] = set()
    for i in range(score.shape[0]):
        pairs.update((i, int(j)) for j in by_row[i] if score[i, j] >= 0)
    for j in range(score.shape[1]):
        pairs.update((int(i), j) for i in by_col[:, j] if score[i, j] >= 0)
    return {(i, j, float(score[i, j])) for i, j in pairs}


class _Rollback(Exception):
    pass


def _write(rows: list[Match]) -> float:
    started = time.perf_counter()
    try:
        with transaction.atomic():
            Match.objects.all().delete()
            Match.objects.bulk_create(rows, batch_size=2000)  # the foreign keys are checked at commit: none here
            raise _Rollback
    except _Rollback:
        pass
    return time.perf_counter() - started


def _peak(fn: Any) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def matching_recompute(*, demand: int, capability: int, repeat: int, log: Any) -> dict[str, Any]:
    started = time.perf_counter()
    demands, capabilities = versions(demand=demand, capability=capability)
    compose = time.perf_counter() - started
    log(f"  composed {len(demands):,} demand and {len(capabilities):,} capability entries in {compose:.1f} s")
    times: dict[str, list[float]] = {"prepare": [], "score": [], "rows": [], "write": [], "baseline": []}
    kept = 0
    today = timezone.localdate()
    for i in range(repeat):
        t0 = time.perf_counter()
        d_side, c_side, topic_codes = matching.matches_arrays(demands, capabilities, today=today)
        t1 = time.perf_counter()
        pairs = ms.score_pairs(d_side, c_side)
        t2 = time.perf_counter()
        rows = matching.matches_build(pairs, demands, capabilities, topic_codes, now=timezone.now())
        t3 = time.perf_counter()
        times["prepare"].append(t1 - t0)
        times["score"].append(t2 - t1)
        times["rows"].append(t3 - t2)
        times["write"].append(_write(rows))
        b0 = time.perf_counter()
        expected = baseline(d_side, c_side, demand_top=ms.DEMAND_TOP, capability_top=ms.CAPABILITY_TOP)
        times["baseline"].append(time.perf_counter() - b0)
        got = {(int(a), int(b)) for a, b in zip(pairs.demand, pairs.capability, strict=True)}
        assert got == {(a, b) for a, b, _s in expected}, "the product and the baseline keep different pairs"
        scores = dict(
            ((int(a), int(b)), float(s)) for a, b, s in zip(pairs.demand, pairs.capability, pairs.score, strict=True)
        )
        assert all(abs(scores[(a, b)] - s) < 1e-9 for a, b, s in expected), "different scores"
        kept = len(rows)
        log(
            f"  run {i + 1}: prepare {times['prepare'][-1]:.1f} s, score {times['score'][-1]:.1f} s, rows "
            f"{times['rows'][-1]:.1f} s, write {times['write'][-1]:.1f} s; baseline {times['baseline'][-1]:.1f} s; "
            f"{kept:,} matches, same as the baseline"
        )
    d_side, c_side, _codes = matching.matches_arrays(demands, capabilities, today=today)
    _r, product_peak = _peak(lambda: ms.score_pairs(d_side, c_side))
    _b, baseline_peak = _peak(
        lambda: baseline(d_side, c_side, demand_top=ms.DEMAND_TOP, capability_top=ms.CAPABILITY_TOP)
    )
    log(f"  peak memory: product {product_peak / 2**20:.0f} MiB, baseline {baseline_peak / 2**20:.0f} MiB")
    return {
        "demand": len(demands),
        "capability": len(capabilities),
        "features": int(d_side.text.shape[1]),
        "topics": int(d_side.topics.shape[1]),
        "matches": kept,
        "times": {k: _summary(v) for k, v in times.items()},
        "peak": {"product": product_peak, "baseline": baseline_peak},
        "block": ms.BLOCK,
        "demand_top": ms.DEMAND_TOP,
        "capability_top": ms.CAPABILITY_TOP,
    }
