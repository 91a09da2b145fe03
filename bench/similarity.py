"""Workload 5: the similarity service (``foresight.core.similarity``).

* Quality: the labelled paraphrases (``tests/data/similarity_pairs.yaml``, the set the tests hold to a
  floor) against the product's corpora of the curated catalog — public topics and published scenarios —
  through ``corpus_search``, as the API ranks them: recall@3 and mean reciprocal rank (over the first 10).
  **Baseline:** the keyword search of the list pages on the same queries (``/topics/?q=``: PostgreSQL
  full-text search with Chinese matched as substrings; ``/scenarios/?q=``: every word a substring), in
  the order those pages show.
* Speed at the exchange's scale: an index of 10,000 generated bilingual entries (with the curated
  topics and scenarios among them when the catalog is loaded), built by the product's ``Index``; the
  time of one search for two kinds of query — the labelled paraphrases (a sentence) and a whole new
  entry checked for near-duplicates at submission (a paragraph or two). **Baselines:** the same sparse
  product on query vectors computed beforehand (the floor of any TF-IDF search: what the product adds is
  vectorising the query, ranking and rounding), and a substring scan of every entry's text (the cost of
  reading each entry once). Product and baselines alternate within each repeat.

The generated entries are drawn from bilingual templates (organisation, need, technology, use, place,
constraint) with a fixed seed, so every run indexes the same text: a third in English only, a third in
Chinese only, a third in both, like a mixed exchange.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bench.procs import rss_mb
from foresight.core import similarity
from foresight.core.similarity import Index, mean_reciprocal_rank, recall_at

PAIRS = Path(__file__).resolve().parent.parent / "tests" / "data" / "similarity_pairs.yaml"
K = 3
DEPTH = 10  # results asked for, as the API's default: the MRR counts ranks up to 10

# (English, Chinese) pairs for each slot of an entry.
ORGS = [
    ("A provincial hospital", "某省级医院"),
    ("A container port operator", "某集装箱港口运营商"),
    ("A county farming cooperative", "某县农业合作社"),
    ("A city water utility", "某市自来水公司"),
    ("A steel maker", "某钢铁企业"),
    ("A logistics park", "某物流园区"),
    ("A coal mining group", "某煤矿集团"),
    ("A district education bureau", "某区教育局"),
    ("A wind farm developer", "某风电场开发商"),
    ("A high-speed rail depot", "某高铁动车段"),
    ("An elderly care chain", "某连锁养老机构"),
    ("A battery start-up", "某电池初创企业"),
    ("A university laboratory", "某高校实验室"),
    ("A municipal traffic police unit", "某市交警支队"),
    ("A chemical industrial park", "某化工园区"),
]
ASKS = [
    ("seeks a partner for", "寻求合作开发"),
    ("offers", "可以提供"),
    ("wants to pilot", "计划试点"),
    ("needs a supplier of", "需要采购"),
    ("has deployed and can replicate", "已部署并可复制推广"),
]
TECHS = [
    ("computer vision inspection", "机器视觉检测"),
    ("predictive maintenance models", "预测性维护模型"),
    ("autonomous forklifts", "无人叉车"),
    ("battery energy storage", "电池储能系统"),
    ("hydrogen fuel cells", "氢燃料电池"),
    ("digital twin simulation", "数字孪生仿真"),
    ("edge AI cameras", "边缘智能摄像头"),
    ("drone surveying", "无人机测绘"),
    ("private 5G networks", "5G专网"),
    ("collaborative robot arms", "协作机械臂"),
    ("genome sequencing", "基因测序"),
    ("satellite imagery analytics", "卫星遥感影像分析"),
    ("blockchain traceability", "区块链溯源"),
    ("quantum-safe encryption", "抗量子加密"),
    ("wearable health monitors", "可穿戴健康监测设备"),
    ("smart electricity meters", "智能电表"),
    ("LiDAR mapping", "激光雷达建图"),
    ("speech recognition", "语音识别"),
    ("large language model assistants", "大模型智能助手"),
    ("3D printing of spare parts", "备件3D打印"),
    ("underwater inspection robots", "水下巡检机器人"),
    ("heat pumps", "热泵"),
    ("exoskeleton suits", "外骨骼装备"),
    ("low-code industrial apps", "低代码工业应用"),
]
USES = [
    ("defect detection on the line", "产线缺陷检测"),
    ("cutting energy use", "节能降耗"),
    ("route planning", "路径规划"),
    ("early warning of equipment failures", "设备故障预警"),
    ("remote monitoring", "远程监控"),
    ("patient follow-up at home", "居家患者随访"),
    ("crop yield forecasting", "作物产量预测"),
    ("pipe leak detection", "管网漏损检测"),
    ("inventory tracking", "库存追踪"),
    ("carbon emission reporting", "碳排放核算"),
    ("safety patrols", "安全巡检"),
    ("personalised teaching", "个性化教学"),
    ("peak load shaving", "削峰填谷"),
    ("customs clearance", "通关查验"),
]
PLACES = [
    ("steel plants", "钢铁厂"),
    ("container terminals", "集装箱码头"),
    ("rural clinics", "乡村卫生院"),
    ("rice paddies", "水稻田"),
    ("underground mines", "井下矿区"),
    ("office towers", "写字楼"),
    ("cold-chain warehouses", "冷链仓库"),
    ("railway lines", "铁路沿线"),
    ("primary schools", "小学"),
    ("offshore wind farms", "海上风电场"),
    ("care homes", "养老院"),
    ("industrial parks", "工业园区"),
]
TERMS = [
    ("Budget around {n} million yuan.", "预算约{n}百万元。"),
    ("A pilot should start within {n} months.", "希望{n}个月内启动试点。"),
    ("The system must work offline.", "系统需支持离线运行。"),
    ("Data must stay on site.", "数据不得出厂。"),
    ("Open to joint development and revenue sharing.", "可联合开发、收益共享。"),
    ("Integration with existing ERP is required.", "需与现有ERP系统集成。"),
    ("Looking for a team with at least {n} similar projects.", "要求团队有至少{n}个同类项目经验。"),
]


def _sentence(rng: random.Random) -> tuple[str, str]:
    org, ask, tech, use, place = (rng.choice(slot) for slot in (ORGS, ASKS, TECHS, USES, PLACES))
    n = rng.randint(2, 30)
    term = rng.choice(TERMS)
    en = f"{org[0]} {ask[0]} {tech[0]} for {use[0]} in {place[0]}. {term[0].format(n=n)}"
    zh = f"{org[1]}{ask[1]}{tech[1]}，用于{place[1]}的{use[1]}。{term[1].format(n=n)}"
    return en, zh


def entry_text(rng: random.Random) -> str:
    """One generated entry: two to five sentences, in English, Chinese or both."""
    sentences = [_sentence(rng) for _ in range(rng.randint(2, 5))]
    languages = rng.choice(("en", "zh", "both"))
    parts = []
    if languages in ("en", "both"):
        parts.append(" ".join(en for en, _ in sentences))
    if languages in ("zh", "both"):
        parts.append("".join(zh for _, zh in sentences))
    return "\n".join(parts)


def entries(n: int, *, seed: int = 11) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [(f"entry-{i:05d}", entry_text(rng)) for i in range(n)]


def labelled() -> dict[str, list[dict[str, str]]]:
    data: dict[str, list[dict[str, str]]] = yaml.safe_load(PAIRS.read_text(encoding="utf-8"))
    return data


def _quality(ranked: list[list[str]], pairs: Sequence[dict[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {"queries": len(pairs)}
    for lang in ("all", "en", "zh", "mixed"):
        chosen = [(r, p["expected"]) for r, p in zip(ranked, pairs, strict=True) if lang in ("all", p["lang"])]
        if chosen:
            got, expected = [r for r, _ in chosen], [e for _, e in chosen]
            out[lang] = {
                "n": len(chosen),
                "recall": recall_at(got, expected, k=K),
                "mrr": mean_reciprocal_rank(got, expected),
            }
    return out


def quality(*, keyword: dict[str, Callable[[str], list[str]]]) -> dict[str, Any]:
    """Recall@3 and MRR of the product's corpora on the labelled set, and of the keyword searches given
    (corpus name → the codes a list page shows for a query, in its order)."""
    pairs = labelled()
    result: dict[str, Any] = {}
    for corpus, queries in pairs.items():
        index = similarity.corpus_index(corpus)
        ranked = [[m.code for m in index.search(p["query"], limit=DEPTH)] for p in queries]
        result[corpus] = {
            "documents": len(index),
            "product": _quality(ranked, queries),
            "keyword": _quality([keyword[corpus](p["query"])[:DEPTH] for p in queries], queries),
            "misses": [
                {"query": p["query"], "expected": p["expected"], "top": r[:K]}
                for r, p in zip(ranked, queries, strict=True)
                if p["expected"] not in r[:K]
            ],
        }
    return result


def _percentiles(seconds: list[float]) -> dict[str, float]:
    return {"p50": float(np.percentile(seconds, 50)), "p99": float(np.percentile(seconds, 99))}


def _summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "min": None, "max": None}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def speed(
    *, n: int, curated: dict[str, list[tuple[str, str]]], repeat: int, new_entries: int = 200, log: Any
) -> dict[str, Any]:
    """Build an index of ``n`` generated entries (plus the curated documents given) ``repeat`` times, and
    time one search per query against it, product and baselines alternately."""
    documents = entries(n)
    for corpus, docs in curated.items():
        documents += [(f"{corpus}:{code}", text) for code, text in docs]
    texts = [text.lower() for _, text in sorted(documents)]  # the substring scan's haystacks
    pairs = labelled()
    short = [p["query"] for queries in pairs.values() for p in queries]
    rng = random.Random(12)
    long = [entry_text(rng) for _ in range(new_entries)]  # new entries, not in the index
    kinds = {"sentence": short, "entry": long}
    builds: list[float] = []
    times: dict[str, dict[str, list[dict[str, float]]]] = {
        kind: {"product": [], "vectors": [], "substring": []} for kind in kinds
    }
    index = None
    grew: list[float] = []
    for i in range(repeat):
        index = None  # the previous index is freed before the next is built
        gc.collect()
        before = rss_mb(os.getpid())
        started = time.perf_counter()
        index = Index(documents)
        builds.append(time.perf_counter() - started)
        grew.append(rss_mb(os.getpid()) - before)
        log(f"  similarity index of {len(index):,} entries built in {builds[-1]:.1f} s")
        for kind, queries in kinds.items():
            vectors = [index.vector(q) for q in queries]
            for impl in ("product", "vectors", "substring"):
                seconds = []
                for q, v in zip(queries, vectors, strict=True):
                    started = time.perf_counter()
                    if impl == "product":
                        index.search(q, limit=DEPTH)
                    elif impl == "vectors":
                        np.argmax(index.scores(v))
                    else:
                        needle = q.lower()
                        sum(needle in text for text in texts)
                    seconds.append(time.perf_counter() - started)
                times[kind][impl].append(_percentiles(seconds))
                log(f"  {kind} queries, {impl} run {i + 1}: p50 {times[kind][impl][-1]['p50'] * 1000:.2f} ms")
    assert index is not None
    # The weights of a large corpus: each labelled query ranked among its own corpus's curated documents
    # (their codes carry the corpus's name), in the index that holds the generated entries too.
    crowded: dict[str, Any] = {}
    for corpus, docs in curated.items():
        if docs:
            own = np.array([i for i, code in enumerate(index.codes) if code.startswith(f"{corpus}:")])
            ranked = []
            for p in pairs[corpus]:
                scores = index.scores(index.vector(p["query"]))[own]
                best = own[np.argsort(-scores, kind="stable")[:DEPTH]]
                ranked.append([index.codes[i] for i in best])
            expected = [f"{corpus}:{p['expected']}" for p in pairs[corpus]]
            crowded[corpus] = {
                "recall": recall_at(ranked, expected, k=K),
                "mrr": mean_reciprocal_rank(ranked, expected),
            }
    return {
        "entries": n,
        "documents": len(index),
        "features": index.features,
        "matrix_mb": index.nbytes / 2**20,
        "mean_chars": statistics.mean(len(t) for t in texts),
        "queries": {kind: len(queries) for kind, queries in kinds.items()},
        "query_chars": {kind: statistics.mean(len(q) for q in queries) for kind, queries in kinds.items()},
        "build": _summary(builds),
        # The process's resident memory after the first build less before it: the whole index with its
        # vocabulary (later builds reuse memory the previous index freed).
        "rss_mb": grew[0],
        "times": {
            kind: {
                impl: {pct: _summary([r[pct] for r in runs]) for pct in ("p50", "p99")}
                for impl, runs in by_impl.items()
            }
            for kind, by_impl in times.items()
        },
        "crowded": crowded,
    }
