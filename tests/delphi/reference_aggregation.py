"""The round aggregation as first written: every answer read into Python, one list per group.

Kept as an independent reference for ``foresight.delphi.services.aggregation``, which counts in the
database and computes from frequency tables: both must give identical rows, summary and checksum.
Written from the definitions of the README ("Statistics"), not from the product's code: per-answer
loops, its own pairing of respondents between rounds, its own Kendall's W per area.  (The 0–100
indices sum with ``math.fsum``, as the product's exact sums do.)
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from foresight import stats
from foresight.catalog.models import Topic
from foresight.delphi.models import Answer, Participant, Question, Round, Study
from foresight.delphi.services.aggregation import ALL, HIGH, _r

NONE = "none"  # the level of a respondent who gave no expertise answer

# One answer: (participant, (cant_judge, value_num, value_code, value_codes)).
_Entry = tuple[int, tuple[bool, float | None, str, list[str]]]


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


def _without_cv(values: list[float]) -> dict[str, Any]:
    figures: dict[str, Any] = dict(stats.describe(values))
    del figures["cv"]  # README: no CV on codes and calendar years
    return figures


def _scale_codes(question: Question) -> list[int]:
    return [int(o.get("value", o["code"])) for o in question.options]


def _scale_figures(question: Question, values: list[float], rule: dict[str, Any]) -> dict[str, Any]:
    codes = _scale_codes(question)
    low, high = min(codes), max(codes)
    values = sorted(values)
    figures = _without_cv(values)
    figures["distribution"] = {str(c): sum(1 for v in values if v == c) for c in codes}
    figures["top2"] = stats.share_between(values, high - 1, high)
    figures["bottom2"] = stats.share_between(values, low, low + 1)
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
    """n = every valid answer (years, "already", "never"); quartiles over the n_years numeric years."""
    years = sorted(values)
    figures = _without_cv(years)
    figures["n_years"] = figures.pop("n")
    valid = len(years) + len(codes)
    figures["n"] = valid
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


def question_figures(question: Question, rows: list[_Entry], rule: dict[str, Any]) -> dict[str, Any]:
    """Figures of one question over the valid (participant, answer) rows of one group."""
    if question.qtype == Question.Type.SCALE:
        return _scale_figures(question, [a[1] for _, a in rows if a[1] is not None], rule)
    if question.qtype == Question.Type.YEAR:
        return _year_figures([a[1] for _, a in rows if a[1] is not None], [a[2] for _, a in rows if a[2]], rule)
    if question.qtype == Question.Type.SINGLE:
        return _choice_figures(question, [[a[2]] for _, a in rows if a[2]])
    if question.qtype == Question.Type.MULTI:
        return _choice_figures(question, [list(a[3]) for _, a in rows])
    return {"n": len(rows)}


def _valid_numbers(rnd: Round, question_ids: list[int]) -> dict[tuple[int, int], dict[int, float]]:
    """(topic, question) → {participant: numeric answer} of one round, "can't judge" left out."""
    out: dict[tuple[int, int], dict[int, float]] = defaultdict(dict)
    for topic_id, question_id, participant_id, cant_judge, num in Answer.objects.filter(
        response__round=rnd, question_id__in=question_ids
    ).values_list("response__topic_id", "question_id", "response__participant_id", "cant_judge", "value_num"):
        if not cant_judge and num is not None:
            out[(topic_id, question_id)][participant_id] = num
    return out


def _change(before: dict[int, float], after: dict[int, float], *, from_round: int) -> dict[str, Any]:
    """Round-to-round change of one item: over the respondents with a valid answer in both rounds."""
    paired = sorted(set(before) & set(after))
    old = [before[p] for p in paired]
    new = [after[p] for p in paired]
    out: dict[str, Any] = {"from_round": from_round, "n_before": len(before), "n_paired": len(paired)}
    for side, values in (("before", old), ("after", new)):
        figures = stats.describe(values)
        out[f"median_{side}"] = figures["median"]
        out[f"q1_{side}"] = figures["q1"]
        out[f"q3_{side}"] = figures["q3"]
        out[f"iqr_{side}"] = figures["iqr"]
    if out["iqr_before"] is None or out["iqr_after"] is None:
        out["delta_iqr"] = None
    else:
        out["delta_iqr"] = out["iqr_after"] - out["iqr_before"]
    iqr_all_before = stats.describe(list(before.values()))["iqr"]
    iqr_all_after = stats.describe(list(after.values()))["iqr"]
    if iqr_all_before is None or iqr_all_after is None:
        out["delta_iqr_all"] = None
    else:
        out["delta_iqr_all"] = iqr_all_after - iqr_all_before
    changed = [p for p in paired if before[p] != after[p]]
    out["share_changed"] = len(changed) / len(paired) if paired else None
    out["n_nonzero"] = len(changed)
    test = stats.wilcoxon(old, new)
    out["wilcoxon_statistic"] = test["statistic"]
    out["wilcoxon_p"] = test["p_value"]
    out["wilcoxon_method"] = dict(test).get("method")
    return out


def _levels(rnd: Round, expertise_q: Question | None) -> dict[tuple[int, int], str]:
    """(topic, participant) → stated expertise level in one round (no entry: none stated)."""
    if expertise_q is None:
        return {}
    return {
        (t, p): code
        for t, p, code in Answer.objects.filter(response__round=rnd, question=expertise_q).values_list(
            "response__topic_id", "response__participant_id", "value_code"
        )
        if code
    }


def _moves(
    before: dict[int, float],
    after: dict[int, float],
    *,
    level_before: Any,
    level_after: Any,
    sectors: dict[int, str],
) -> dict[str, dict[str, int]]:
    """Per respondent: her level before and after ("" when she gave no valid answer that round); counted
    where it differs, and her sector where she left or joined."""
    levels: dict[str, int] = {}
    moved: dict[str, int] = {}
    for p in sorted(set(before) | set(after)):
        was = level_before(p) if p in before else ""
        now = level_after(p) if p in after else ""
        if was != now:
            levels[f"{was}>{now}"] = levels.get(f"{was}>{now}", 0) + 1
        if (p in before) != (p in after):
            key = f"{sectors.get(p, 'other')}>" if p in before else f">{sectors.get(p, 'other')}"
            moved[key] = moved.get(key, 0) + 1
    return {"levels": dict(sorted(levels.items())), "sectors": dict(sorted(moved.items()))}


def _kendall_per_area(importance: dict[int, dict[int, float]], topic_ids: set[int]) -> dict[str, dict[str, Any]]:
    """Kendall's W of importance in each area with two or more answered topics, over the experts who
    rated every one of that area's topics."""
    area: dict[int, str] = dict(Topic.objects.filter(pk__in=topic_ids).values_list("pk", "area__slug"))
    out: dict[str, dict[str, Any]] = {}
    for slug in sorted(set(area.values())):
        topics = sorted(t for t in topic_ids if area[t] == slug)
        if len(topics) < 2:
            continue
        experts = set.intersection(*(set(importance.get(t, {})) for t in topics))
        matrix = [[importance[t][p] for t in topics] for p in sorted(experts)]
        if len(matrix) < 2:
            continue
        try:
            result = dict(stats.kendall_w(matrix))
        except ValueError:
            continue
        out[slug] = {**result, "raters": len(matrix), "topics": len(topics)}
    return out


def round_results_compute(*, rnd: Round) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Compute (without writing) every RoundStat row and the round summary. Deterministic."""
    study: Study = rnd.study
    questions = {q.pk: q for q in Question.objects.filter(study=study, applies_to=Question.AppliesTo.TOPIC)}
    expertise_q = next((q for q in questions.values() if q.key == "expertise"), None)
    weights = {str(k): float(v) for k, v in (study.expertise_weights or {}).items()}
    rule = study.consensus_rule or {}
    sectors = dict(Participant.objects.filter(study=study).values_list("pk", "expert__sector"))

    def weight(level: str) -> float:
        # No expertise answer (or a level without a weight of its own) weighs like "medium".
        return weights[level] if level in weights else weights.get("medium", 0.0)

    cells: dict[tuple[int, int], list[_Entry]] = defaultdict(list)
    expertise: dict[tuple[int, int], str] = {}
    respondents: dict[int, set[int]] = defaultdict(set)  # topic → anyone with an answer to it
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
        respondents[topic_id].add(participant_id)

    def level_of(topic_id: int, participant_id: int) -> str:
        return expertise.get((topic_id, participant_id), NONE)

    previous = Round.objects.filter(study=study, number=rnd.number - 1).first() if rnd.number > 1 else None
    scale_ids = sorted(pk for pk, q in questions.items() if q.qtype == Question.Type.SCALE)
    before = _valid_numbers(previous, scale_ids) if previous is not None else {}
    expertise_before = _levels(previous, expertise_q) if previous is not None else {}

    topic_codes = dict(Topic.objects.filter(pk__in=respondents).values_list("pk", "code"))
    rows: list[dict[str, Any]] = []
    consensus_items: dict[int, dict[str, bool]] = defaultdict(dict)
    medians: dict[tuple[int, str], float | None] = {}
    importance: dict[int, dict[int, float]] = {}  # topic → {participant: valid importance rating}
    for topic_id, question_id in sorted(
        cells, key=lambda c: (topic_codes[c[0]], questions[c[1]].order, questions[c[1]].key)
    ):
        question = questions[question_id]
        entries = sorted(cells[(topic_id, question_id)], key=lambda e: e[0])
        valid = [(p, a) for p, a in entries if not a[0]]
        groups: dict[str, list[_Entry]] = {ALL: valid}
        groups[HIGH] = [(p, a) for p, a in valid if level_of(topic_id, p) == "high"]
        for p, a in valid:
            groups.setdefault(f"sector:{sectors.get(p, 'other')}", []).append((p, a))
        for group, members in sorted(groups.items()):
            figures = question_figures(question, members, rule)
            if group == ALL:
                figures["n_cant_judge"] = len(entries) - len(valid)
                levels: dict[str, int] = {}
                for p, _ in members:
                    levels[level_of(topic_id, p)] = levels.get(level_of(topic_id, p), 0) + 1
                figures["levels"] = dict(sorted(levels.items()))
                crossed: dict[str, int] = {}
                for p, _ in members:
                    key = f"{level_of(topic_id, p)}|{sectors.get(p, 'other')}"
                    crossed[key] = crossed.get(key, 0) + 1
                figures["cells"] = dict(sorted(crossed.items()))
                if question.qtype == Question.Type.SCALE and question.index:
                    codes = _scale_codes(question)
                    pairs = [(a[1], weight(level_of(topic_id, p))) for p, a in members if a[1] is not None]
                    figures["index_weighted"] = weighted_index(sorted(pairs), low=min(codes), high=max(codes))
                    consensus_items[topic_id][question.key] = bool(figures.get("consensus"))
                if question.qtype in (Question.Type.SCALE, Question.Type.YEAR):
                    medians[(topic_id, question.key)] = figures.get("median")
                if question.qtype == Question.Type.SCALE and previous is not None:
                    after = {p: a[1] for p, a in members if a[1] is not None}
                    figures["stability"] = _change(
                        before.get((topic_id, question_id), {}), after, from_round=rnd.number - 1
                    )
                    figures["stability"]["moves"] = _moves(
                        before.get((topic_id, question_id), {}),
                        after,
                        level_before=lambda p, t=topic_id: expertise_before.get((t, p), NONE),
                        level_after=lambda p, t=topic_id: level_of(t, p),
                        sectors=sectors,
                    )
                if question.key == "importance" and question.qtype == Question.Type.SCALE:
                    importance[topic_id] = {p: a[1] for p, a in members if a[1] is not None}
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

    kendall = _kendall_per_area(importance, set(respondents)) if importance else {}

    topics_out = {}
    for topic_id in sorted(respondents, key=lambda t: topic_codes[t]):
        people = sorted(respondents[topic_id])
        by_level: dict[str, int] = {}
        by_sector: dict[str, int] = {}
        for p in people:
            by_level[level_of(topic_id, p)] = by_level.get(level_of(topic_id, p), 0) + 1
            by_sector[sectors.get(p, "other")] = by_sector.get(sectors.get(p, "other"), 0) + 1
        items = consensus_items.get(topic_id, {})
        tech = medians.get((topic_id, "tech_year"))
        social = medians.get((topic_id, "social_year"))
        topics_out[topic_codes[topic_id]] = {
            "n": len(people),
            "levels": dict(sorted(by_level.items())),
            "sectors": dict(sorted(by_sector.items())),
            "consensus": bool(items) and all(items.values()),
            "consensus_items": items,
            "social_lag": (social - tech) if tech is not None and social is not None else None,
        }
    summary_out = _r(
        {
            "kendall_importance_by_area": kendall,
            "topics": topics_out,
            "respondents": len({p for people in respondents.values() for p in people}),
        }
    )
    return rows, summary_out
