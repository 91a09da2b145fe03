"""Workload 4: the bootstrap of rank intervals, product against plain numpy, on arrays in memory.

Run as ``python -m bench.bootstrap --impl product|numpy ...`` (one fresh process per measurement,
so its peak memory is its own); it prints one JSON line. No Django in here.

* ``product``: ``foresight.priorities.scoring.bootstrap_ranks`` with the criteria a scoring run
  builds (``priorities.services.scoring_results_compute``) and the default weights.
* ``numpy``: the same resampling written directly: the answers as long arrays (respondent, topic,
  value), and per sample ``bincount`` for the weighted index sums and a cumulative-count search
  for the median year; the same draws (``default_rng(seed).integers``, one row of R per sample),
  so both must give the same rank intervals — the harness checks that they do.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import sys
import time
from typing import Any

import numpy as np

# The product's default weights (priorities.services.DEFAULT_WEIGHTS; bench.run checks they agree).
WEIGHTS: dict[str, float] = {
    "importance_index": 0.30,
    "importance_index_high": 0.15,
    "competitiveness_gap": 0.15,
    "timing": 0.15,
    "scenario_pull": 0.15,
    "policy_list": 0.10,
}
INDEX_DECIMALS = 10
PLAN_END = 2030.0


def inputs(*, respondents: int, topics: int, per: int, seed: int) -> dict[str, np.ndarray]:
    """Respondents × topics arrays as ``criteria_collect`` returns them (NaN = no answer)."""
    rng = np.random.default_rng(seed)
    shape = (respondents, topics)
    answered = np.zeros(shape, dtype=bool)
    for r in range(respondents):
        answered[r, rng.choice(topics, size=min(per, topics), replace=False)] = True
    truth_imp = rng.uniform(2.2, 4.8, topics)
    truth_comp = rng.uniform(1.5, 4.5, topics)
    truth_year = rng.integers(2027, 2040, topics)

    def scale(truth: np.ndarray) -> np.ndarray:
        values = np.clip(np.rint(truth[None, :] + rng.normal(0, 0.9, shape)), 1, 5) - 3.0  # coded −2…+2
        values[~answered | (rng.random(shape) < 0.05)] = np.nan  # no answer, or "can't judge"
        return values

    importance = scale(truth_imp)
    competitiveness = scale(truth_comp)
    level = rng.choice(3, size=shape, p=[0.4, 0.4, 0.2])  # high / medium / low
    expertise_weight = np.where(answered, np.array([1.0, 0.6, 0.3])[level], 0.0)
    high = np.where(answered & (level == 0), 1.0, 0.0)
    years = np.rint(truth_year[None, :] + rng.normal(0, 3, shape))
    years[~answered | (rng.random(shape) < 0.08)] = np.nan  # "already", "never", "can't judge"
    return {
        "importance": importance,
        "competitiveness": competitiveness,
        "expertise_weight": expertise_weight,
        "high": high * ~np.isnan(importance),
        "tech_year": years,
        "scenario_pull": rng.integers(0, 4, topics).astype(float),
        "policy_list": (rng.random(topics) < 0.3).astype(float),
    }


def product(data: dict[str, np.ndarray], *, B: int, seed: int, top_k: int) -> dict[str, list[float]]:  # noqa: N803
    # Here, not at the top: the numpy baseline runs without the product loaded (its memory is its own);
    # main() imports scoring before the clock starts, so this costs nothing.
    from foresight.priorities import scoring

    criteria: dict[str, Any] = {
        "importance_index": scoring.IndexCriterion(data["importance"]),
        "importance_index_high": scoring.IndexCriterion(data["importance"], data["high"]),
        "importance_index_weighted": scoring.IndexCriterion(data["importance"], data["expertise_weight"]),
        "competitiveness_gap": scoring.IndexCriterion(data["competitiveness"], reverse=True),
        "timing": scoring.YearCriterion(data["tech_year"], cut=PLAN_END),
        "scenario_pull": data["scenario_pull"],
        "policy_list": data["policy_list"],
    }
    result = scoring.bootstrap_ranks(criteria, WEIGHTS, top_k=top_k, seed=seed, B=B)
    return {
        "median_rank": result.median_rank,
        "rank_low": result.rank_low,
        "rank_high": result.rank_high,
        "p_top_k": result.p_top_k,
    }


def _minmax(x: np.ndarray) -> np.ndarray:
    present = ~np.isnan(x)
    if not present.any():
        return x
    lo, hi = x[present].min(), x[present].max()
    if hi == lo:
        return np.where(present, 0.5, np.nan)
    return (x - lo) / (hi - lo)


def baseline(data: dict[str, np.ndarray], *, B: int, seed: int, top_k: int) -> dict[str, list[float]]:  # noqa: N803
    """The same statistic, written directly: long arrays and ``bincount`` per sample."""
    r_count, t_count = data["importance"].shape
    total = math.fsum(WEIGHTS.values())
    weights = {name: w / total for name, w in WEIGHTS.items()}
    names = sorted(weights)

    def long(codes: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        rows, cols = np.nonzero(~np.isnan(codes))
        return rows, cols, codes[rows, cols], (np.ones(rows.size) if w is None else w[rows, cols])

    indices = {
        "importance_index": (long(data["importance"], None), False),
        "importance_index_high": (long(data["importance"], data["high"]), False),
        "competitiveness_gap": (long(data["competitiveness"], None), True),
    }
    yr, yt = np.nonzero(~np.isnan(data["tech_year"]))
    yv = data["tech_year"][yr, yt]
    order = np.lexsort((yv, yt))  # by topic, then year
    yr, yt, yv = yr[order], yt[order], yv[order]
    fixed = {name: np.nan_to_num(_minmax(data[name]), nan=0.0) for name in ("scenario_pull", "policy_list")}

    rng = np.random.default_rng(seed)
    ranks = np.empty((B, t_count), dtype=np.int32)
    for b in range(B):
        counts = np.bincount(rng.integers(0, r_count, size=r_count), minlength=r_count).astype(float)
        values: dict[str, np.ndarray] = {}
        for name, ((rows, cols, codes, w), reverse) in indices.items():
            weight = counts[rows] * w
            num = np.bincount(cols, weights=weight * codes, minlength=t_count)
            den = np.bincount(cols, weights=weight, minlength=t_count)
            index = np.where(den > 0, 25.0 * (num / np.where(den > 0, den, 1.0) + 2.0), np.nan)
            values[name] = np.round(100.0 - index if reverse else index, INDEX_DECIMALS)
        c = counts[yr]
        cum = np.cumsum(c)
        m = np.bincount(yt, weights=c, minlength=t_count)
        base = np.concatenate([[0.0], np.cumsum(m)[:-1]])
        last = max(0, yv.size - 1)
        lo = np.minimum(np.searchsorted(cum, base + np.floor((m - 1) / 2), side="right"), last)
        hi = np.minimum(np.searchsorted(cum, base + np.floor(m / 2), side="right"), last)
        median = (yv[lo] + yv[hi]) / 2.0 if yv.size else np.zeros(t_count)
        values["timing"] = np.where(m > 0, np.maximum(0.0, PLAN_END - median), np.nan)
        score: np.ndarray | None = None
        for name in names:
            term = weights[name] * (fixed[name] if name in fixed else np.nan_to_num(_minmax(values[name]), nan=0.0))
            score = term if score is None else score + term
        assert score is not None
        ranks[b] = np.searchsorted(np.sort(-score), -score, side="left") + 1
    q = np.quantile(ranks, [0.5, 0.05, 0.95], axis=0, method="linear")
    return {
        "median_rank": q[0].tolist(),
        "rank_low": q[1].tolist(),
        "rank_high": q[2].tolist(),
        "p_top_k": (ranks <= top_k).mean(axis=0).tolist(),
    }


def _kb(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--impl", choices=["product", "numpy"], required=True)
    parser.add_argument("--respondents", type=int, required=True)
    parser.add_argument("--topics", type=int, default=700)
    parser.add_argument("--per", type=int, default=40)
    parser.add_argument("--B", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--top-k", type=int, default=50)
    args = parser.parse_args(argv)
    data = inputs(respondents=args.respondents, topics=args.topics, per=args.per, seed=args.seed)
    if args.impl == "product":
        from foresight.priorities import scoring  # noqa: F401 - imported before the clock starts
    gc.collect()
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # the peak from here on
    before = _kb("VmRSS")
    started = time.perf_counter()
    run = product if args.impl == "product" else baseline
    result = run(data, B=args.B, seed=args.seed, top_k=args.top_k)
    seconds = time.perf_counter() - started
    peak = _kb("VmHWM")
    answers = int(sum(np.count_nonzero(~np.isnan(data[k])) for k in ("importance", "competitiveness", "tech_year")))
    json.dump(
        {
            "impl": args.impl,
            "seconds": seconds,
            "rss_before_mb": before,
            "peak_mb": peak,
            "peak_above_inputs_mb": peak - before,
            "respondents": args.respondents,
            "topics": args.topics,
            "values": answers,
            "B": args.B,
            "result": result,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
