"""The pure match scorer against an independent recomputation: plain Python loops over every pair."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from scenarios.exchange import match_scoring as ms

ROLES = {"core": 1.0, "enabling": 0.6, "complementary": 0.3}


def _instance(seed: int, n_d: int, n_c: int, topics: int = 12, features: int = 40) -> tuple[ms.Side, ms.Side]:
    rng = np.random.default_rng(seed)

    def side(n: int, demand: bool) -> ms.Side:
        t = np.zeros((n, topics))
        for i in range(n):
            for j in rng.choice(topics, size=rng.integers(0, 4), replace=False):
                t[i, j] = rng.choice(list(ROLES.values()))
        x = np.where(rng.random((n, features)) < 0.15, rng.random((n, features)), 0.0)
        norms = np.linalg.norm(x, axis=1)
        x[norms > 0] /= norms[norms > 0, None]
        en, zh = ms.region_codes(
            rng.choice(["", "Beijing", " beijing ", "Shanghai"], n).tolist(),
            rng.choice(["", "北京", "上海"], n).tolist(),
        )
        return ms.Side(
            topics=sp.csr_matrix(t),
            text=sp.csr_matrix(x.astype(np.float32)),
            trl=rng.integers(0, 10, n),
            region_en=en,
            region_zh=zh,
            window_open=(rng.random(n) > 0.25) if demand else None,
        )

    return side(n_d, True), side(n_c, False)


def _brute(demand: ms.Side, capability: ms.Side, demand_top: int, capability_top: int) -> dict[tuple[int, int], float]:
    """Every pair's score from its definition, then each side's best lists, all in plain Python."""
    dt, ct = demand.topics.toarray().tolist(), capability.topics.toarray().tolist()
    dx = demand.text.toarray().astype(float).tolist()
    cx = capability.text.toarray().astype(float).tolist()
    scores: dict[tuple[int, int], float] = {}
    for i in range(len(dt)):
        for j in range(len(ct)):
            dot = sum(a * b for a, b in zip(dt[i], ct[j], strict=True))
            nd, nc = math.sqrt(sum(a * a for a in dt[i])), math.sqrt(sum(b * b for b in ct[j]))
            topics = dot / (nd * nc) if nd and nc else 0.0
            text = max(0.0, min(1.0, sum(a * b for a, b in zip(dx[i], cx[j], strict=True))))
            needed, trl = int(demand.trl[i]), int(capability.trl[j])
            if needed == 0 or (trl and trl >= needed):
                readiness = 1.0
            elif trl == 0:
                readiness = 0.5
            else:
                readiness = max(0.0, 1 - (needed - trl) / 3)
            den, dzh = int(demand.region_en[i]), int(demand.region_zh[i])
            cen, czh = int(capability.region_en[j]), int(capability.region_zh[j])
            if (den and den == cen) or (dzh and dzh == czh):
                region = 1.0
            elif not (den or dzh) or not (cen or czh):
                region = 0.5
            else:
                region = 0.0
            assert demand.window_open is not None
            window = 1.0 if demand.window_open[i] else 0.0
            score = round(0.45 * topics + 0.30 * text + 0.15 * readiness + 0.05 * region + 0.05 * window, 6)
            if (topics > 0 or text >= 0.10) and score >= 0.30:
                scores[(i, j)] = score
    kept: set[tuple[int, int]] = set()
    for i in range(len(dt)):
        mine = sorted((p for p in scores if p[0] == i), key=lambda p: (-scores[p], p[1]))
        kept.update(mine[:demand_top])
    for j in range(len(ct)):
        mine = sorted((p for p in scores if p[1] == j), key=lambda p: (-scores[p], p[0]))
        kept.update(mine[:capability_top])
    return {p: scores[p] for p in kept}


@pytest.mark.parametrize(("seed", "block"), [(1, 7), (2, 64), (3, 1)])
def test_scorer_keeps_the_same_pairs_and_scores_as_a_brute_force_recomputation(seed: int, block: int) -> None:
    demand, capability = _instance(seed, 23, 41)
    pairs = ms.score_pairs(demand, capability, demand_top=4, capability_top=3, block=block)
    expected = _brute(demand, capability, 4, 3)
    got = {(int(d), int(c)): float(s) for d, c, s in zip(pairs.demand, pairs.capability, pairs.score, strict=True)}
    assert got.keys() == expected.keys()
    for pair, score in expected.items():
        assert got[pair] == pytest.approx(score, abs=1e-9)
    assert len(got) > 20  # the instance is not trivially empty


def test_weights_sum_to_one_and_the_table_follows_the_documented_rule() -> None:
    assert sum(ms.WEIGHTS.values()) == pytest.approx(1.0)
    table = ms.readiness_table()
    assert table[0, 0] == 1.0 and table[6, 7] == 1.0 and table[6, 6] == 1.0
    assert table[6, 5] == pytest.approx(2 / 3) and table[6, 3] == 0.0 and table[6, 0] == 0.5


def test_shared_topics_carry_both_roles_in_the_pair_order() -> None:
    demand = ms.Side(
        topics=sp.csr_matrix(np.array([[1.0, 0.6, 0.0, 0.3]])),
        text=sp.csr_matrix(np.array([[1.0, 0.0]], dtype=np.float32)),
        trl=np.array([6]),
        region_en=np.array([1]),
        region_zh=np.array([0]),
        window_open=np.array([True]),
    )
    capability = ms.Side(
        topics=sp.csr_matrix(np.array([[0.3, 1.0, 1.0, 0.0], [0.0, 0.0, 1.0, 0.0]])),
        text=sp.csr_matrix(np.array([[0.6, 0.8], [0.0, 1.0]], dtype=np.float32)),
        trl=np.array([7, 2]),
        region_en=np.array([1, 2]),
        region_zh=np.array([0, 0]),
    )
    pairs = ms.score_pairs(demand, capability)
    assert pairs.capability.tolist() == [0]  # the second shares nothing and its text is orthogonal
    row = slice(pairs.shared.indptr[0], pairs.shared.indptr[1])
    assert pairs.shared.indices[row].tolist() == [0, 1]
    assert pairs.shared.data[row].tolist() == [1.0, 0.6]
    assert pairs.shared_capability.data[row].tolist() == [0.3, 1.0]
    assert pairs.components["text"][0] == pytest.approx(0.6)
    assert pairs.components["readiness"][0] == 1.0 and pairs.components["region"][0] == 1.0
