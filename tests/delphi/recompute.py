"""An independent recomputation of stats.csv from responses.csv and round.json (standard library only).

Deliberately shares no code with foresight.stats: it is the check a methodologist would write.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
import zipfile
from collections import defaultdict


def type7(sorted_values: list[float], p: float) -> float:
    h = (len(sorted_values) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo])


def recompute(package: bytes) -> dict[tuple[str, str], dict[str, float | int | None]]:
    zf = zipfile.ZipFile(io.BytesIO(package))
    settings = json.loads(zf.read("round.json"))
    qtypes = {q["key"]: q["type"] for q in settings["questions"]}
    index_items = {q["key"] for q in settings["questions"] if q["index"]}
    weights = settings["settings"]["expertise_weights"]
    rows = list(csv.DictReader(io.StringIO(zf.read("responses.csv").decode())))
    expertise = {(r["respondent"], r["topic"]): r["value"] for r in rows if r["question"] == "expertise"}
    cells: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for r in rows:
        if qtypes[r["question"]] in ("scale", "year"):
            cells[(r["topic"], r["question"])].append((r["respondent"], r["value"]))
    out: dict[tuple[str, str], dict[str, float | int | None]] = {}
    for (topic, question), answers in cells.items():
        if qtypes[question] == "scale":
            pairs = [(who, float(v)) for who, v in answers if v != ""]
        else:
            pairs = [(who, float(v)) for who, v in answers if v not in ("", "already", "never")]
        values = sorted(v for _, v in pairs)
        n = len(values)
        fig: dict[str, float | int | None] = {"n": n}
        if n:
            fig["mean"] = statistics.fmean(values)
            fig["sd"] = statistics.stdev(values) if n > 1 else None
            fig["median"] = type7(values, 0.5)
            fig["q1"] = type7(values, 0.25)
            fig["q3"] = type7(values, 0.75)
            fig["iqr"] = fig["q3"] - fig["q1"]
        if question in index_items and n:
            fig["index"] = 25 * (statistics.fmean(values) - 3 + 2)
            w = [(v, weights.get(expertise.get((who, topic), ""), 0.0)) for who, v in pairs]
            total = sum(x for _, x in w)
            fig["index_weighted"] = 25 * (sum((v - 3) * x for v, x in w) / total + 2) if total else None
        out[(topic, question)] = fig
    return out


def published(package: bytes) -> dict[tuple[str, str], dict[str, str]]:
    zf = zipfile.ZipFile(io.BytesIO(package))
    return {(r["topic"], r["question"]): r for r in csv.DictReader(io.StringIO(zf.read("stats.csv").decode()))}
