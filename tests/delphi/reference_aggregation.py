"""The round aggregation as first written: every answer read into Python, one list per group.

Kept as an independent reference for ``foresight.delphi.services.aggregation``, which counts in the
database and computes from frequency tables: both must give identical rows, summary and checksum.
(Only change from the original: the 0–100 indices sum with ``math.fsum``, as the product does.)
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from foresight import stats
from foresight.catalog.models import Topic
from foresight.delphi.models import Answer, Participant, Question, Round, RoundStat, Study
from foresight.delphi.services.aggregation import ALL, HIGH, _r


def scale_index(values: list[float], *, low: float, high: float) -> float | None:
    """0–100 index: the mean answer coded −2…+2 on a 5-point scale, shifted and scaled: 25·(mean code + 2)."""
    if not values:
        return None
    mid = (low + high) / 2
    mean_code = math.fsum(v - mid for v in values) / len(values)
    return 25.0 * (mean_code + 2.0)


def weighted_index(pairs: list[tuple[float, float]], *, low: float, high: float) -> float | None:
    """Expertise-weighted 0–100 index from (value, weight) pairs."""
    total = math.fsum(w for _, w in pairs)
    if not pairs or total <= 0:
        return None
    mid = (low + high) / 2
    mean_code = math.fsum((v - mid) * w for v, w in pairs) / total
    return 25.0 * (mean_code + 2.0)


def _scale_figures(question: Question, values: list[float], rule: dict[str, Any]) -> dict[str, Any]:
    codes = [int(o.get("value", o["code"])) for o in question.options]
    low, high = min(codes), max(codes)
    values = sorted(values)
    figures: dict[str, Any] = dict(stats.describe(values))
    figures["distribution"] = {str(c): sum(1 for v in values if v == c) for c in codes}
    top = (high - 1, high)
    bottom = (low, low + 1)
    figures["top2"] = stats.share_between(values, *top)
    figures["bottom2"] = stats.share_between(values, *bottom)
    figures["rwg"] = stats.rwg(values, len(codes))
    if question.index:
        figures["index"] = scale_index(values, low=low, high=high)
    if len(codes) == 5 and figures["n"]:
        figures["consensus"] = bool(
            figures["iqr"] is not None
            and figures["iqr"] <= float(rule.get("scale_iqr_max", 1.0))
            and figures["top2"] >= float(rule.get("top2_min", 0.7))
            and figures["bottom2"] < float(rule.get("bottom2_max", 0.15))
        )
    return figures


def _year_figures(values: list[float], codes: list[str], rule: dict[str, Any]) -> dict[str, Any]:
    years = sorted(values)
    valid = len(years) + len(codes)
    figures: dict[str, Any] = dict(stats.describe(years))
    figures["n_valid"] = valid
    figures["share_already"] = codes.count("already") / valid if valid else None
    figures["share_never"] = codes.count("never") / valid if valid else None
    figures["consensus"] = bool(figures["iqr"] is not None and figures["iqr"] <= float(rule.get("year_iqr_max", 5.0)))
    return figures


def _choice_figures(question: Question, chosen: list[list[str]]) -> dict[str, Any]:
    n = len(chosen)
    counts = {str(o["code"]): 0 for o in question.options}
    for codes in chosen:
        for code in codes:
            if code in counts:
                counts[code] += 1
    return {"n": n, "counts": counts, "shares": {c: (k / n if n else None) for c, k in counts.items()}}


def question_figures(question: Question, rows: list[tuple[int, Any]], rule: dict[str, Any]) -> dict[str, Any]:
    """Figures of one question over (participant, answer) rows of one group."""
    if question.qtype == Question.Type.SCALE:
        return _scale_figures(question, [a[1] for _, a in rows if a[1] is not None], rule)
    if question.qtype == Question.Type.YEAR:
        return _year_figures([a[1] for _, a in rows if a[1] is not None], [a[2] for _, a in rows if a[2]], rule)
    if question.qtype == Question.Type.SINGLE:
        return _choice_figures(question, [[a[2]] for _, a in rows if a[2]])
    if question.qtype == Question.Type.MULTI:
        return _choice_figures(question, [list(a[3]) for _, a in rows])
    return {"n": len(rows)}


def round_results_compute(*, rnd: Round) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Compute (without writing) every RoundStat row and the round summary. Deterministic."""
    study: Study = rnd.study
    questions = {q.pk: q for q in Question.objects.filter(study=study, applies_to=Question.AppliesTo.TOPIC)}
    expertise_q = next((q for q in questions.values() if q.key == "expertise"), None)
    weights = {str(k): float(v) for k, v in (study.expertise_weights or {}).items()}
    rule = study.consensus_rule or {}
    sectors = dict(Participant.objects.filter(study=study).values_list("pk", "expert__sector"))

    # (topic, question) -> [(participant, (cant_judge, num, code, codes))]
    cells: dict[tuple[int, int], list[tuple[int, tuple[bool, float | None, str, list[str]]]]] = defaultdict(list)
    expertise: dict[tuple[int, int], str] = {}
    answers = Answer.objects.filter(response__round=rnd).values_list(
        "response__topic_id",
        "question_id",
        "response__participant_id",
        "cant_judge",
        "value_num",
        "value_code",
        "value_codes",
    )
    for topic_id, question_id, participant_id, cant_judge, num, code, codes in answers.iterator(chunk_size=20000):
        if question_id not in questions:
            continue
        if expertise_q is not None and question_id == expertise_q.pk and code:
            expertise[(topic_id, participant_id)] = code
        cells[(topic_id, question_id)].append((participant_id, (cant_judge, num, code, codes or [])))

    topic_codes = dict(Topic.objects.filter(pk__in={t for t, _ in cells}).values_list("pk", "code"))
    rows: list[dict[str, Any]] = []
    topic_summary: dict[int, dict[str, Any]] = {}
    medians: dict[tuple[int, str], float | None] = {}
    for topic_id, question_id in sorted(
        cells, key=lambda c: (topic_codes[c[0]], questions[c[1]].order, questions[c[1]].key)
    ):
        question = questions[question_id]
        entries = sorted(cells[(topic_id, question_id)], key=lambda e: e[0])
        valid = [(p, a) for p, a in entries if not a[0]]
        cant = len(entries) - len(valid)
        groups: dict[str, list[tuple[int, Any]]] = {ALL: valid}
        groups[HIGH] = [(p, a) for p, a in valid if expertise.get((topic_id, p)) == "high"]
        for p, a in valid:
            groups.setdefault(f"sector:{sectors.get(p, 'other')}", []).append((p, a))
        for group, members in sorted(groups.items()):
            figures = question_figures(question, members, rule)
            if group == ALL:
                figures["n_cant_judge"] = cant
                if question.qtype == Question.Type.SCALE and question.index:
                    codes = [int(o.get("value", o["code"])) for o in question.options]
                    pairs = [
                        (a[1], weights.get(expertise.get((topic_id, p), ""), 0.0))
                        for p, a in members
                        if a[1] is not None
                    ]
                    figures["index_weighted"] = weighted_index(sorted(pairs), low=min(codes), high=max(codes))
                if question.qtype in (Question.Type.SCALE, Question.Type.YEAR):
                    medians[(topic_id, question.key)] = figures.get("median")
            rows.append(
                {
                    "topic_id": topic_id,
                    "question_id": question_id,
                    "topic": topic_codes[topic_id],
                    "question": question.key,
                    "group": group,
                    "n": int(figures.get("n") or 0),
                    "data": _r(figures),
                }
            )
        if question.qtype == Question.Type.SCALE and question.index:
            summary = topic_summary.setdefault(topic_id, {"consensus_items": {}, "n": 0})
            all_row = next(r for r in reversed(rows) if r["group"] == ALL and r["question_id"] == question_id)
            summary["consensus_items"][question.key] = bool(all_row["data"].get("consensus"))
        if expertise_q is not None and question_id == expertise_q.pk:
            topic_summary.setdefault(topic_id, {"consensus_items": {}, "n": 0})["n"] = len(entries)

    # Stability against the previous round (paired on each expert's pseudonymous participant id).
    previous = Round.objects.filter(study=study, number=rnd.number - 1).first() if rnd.number > 1 else None
    if previous is not None:
        prev_values: dict[tuple[int, int, int], float] = {}
        for topic_id, question_id, participant_id, num in Answer.objects.filter(
            response__round=previous, cant_judge=False, value_num__isnull=False, question__qtype=Question.Type.SCALE
        ).values_list("response__topic_id", "question_id", "response__participant_id", "value_num"):
            prev_values[(topic_id, question_id, participant_id)] = num
        prev_iqr = {
            (s.topic_id, s.question_id): s.data.get("iqr") for s in RoundStat.objects.filter(round=previous, group=ALL)
        }
        for row in rows:
            question = questions[row["question_id"]]
            if row["group"] != ALL or question.qtype != Question.Type.SCALE:
                continue
            now_vals = {
                p: a[1] for p, a in cells[(row["topic_id"], row["question_id"])] if not a[0] and a[1] is not None
            }
            paired = sorted(
                (p, prev_values[(row["topic_id"], row["question_id"], p)], v)
                for p, v in now_vals.items()
                if (row["topic_id"], row["question_id"], p) in prev_values
            )
            before = [b for _, b, _ in paired]
            after = [a for _, _, a in paired]
            test = stats.wilcoxon(before, after) if paired else {"statistic": None, "p_value": None}
            old_iqr = prev_iqr.get((row["topic_id"], row["question_id"]))
            row["data"]["stability"] = _r(
                {
                    "n_paired": len(paired),
                    "wilcoxon_statistic": test["statistic"],
                    "wilcoxon_p": test["p_value"],
                    "share_changed": (sum(1 for b, a in zip(before, after, strict=True) if b != a) / len(paired))
                    if paired
                    else None,
                    "delta_iqr": (row["data"]["iqr"] - old_iqr)
                    if old_iqr is not None and row["data"].get("iqr") is not None
                    else None,
                }
            )

    # Kendall's W of importance across topics, over experts who rated every topic of the round.
    kendall = None
    importance = next((q for q in questions.values() if q.key == "importance"), None)
    topic_ids = sorted({t for t, _ in cells})
    if importance is not None and len(topic_ids) >= 2:
        by_expert: dict[int, dict[int, float]] = defaultdict(dict)
        for topic_id in topic_ids:
            for p, a in cells.get((topic_id, importance.pk), []):
                if not a[0] and a[1] is not None:
                    by_expert[p][topic_id] = a[1]
        matrix = [
            [by_expert[p][t] for t in topic_ids] for p in sorted(by_expert) if len(by_expert[p]) == len(topic_ids)
        ]
        if len(matrix) >= 2:
            try:
                kendall = stats.kendall_w(matrix)
            except ValueError:
                kendall = None

    topics_out = {}
    for topic_id, summary in sorted(topic_summary.items()):
        items = summary["consensus_items"]
        tech = medians.get((topic_id, "tech_year"))
        social = medians.get((topic_id, "social_year"))
        topics_out[topic_codes[topic_id]] = {
            "n": summary["n"],
            "consensus": bool(items) and all(items.values()),
            "consensus_items": items,
            "social_lag": (social - tech) if tech is not None and social is not None else None,
        }
    summary_out = _r(
        {
            "kendall_w_importance": kendall,
            "topics": topics_out,
            "respondents": len({p for v in cells.values() for p, _ in v}),
        }
    )
    return rows, summary_out
