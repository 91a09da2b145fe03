"""Round aggregation: every figure of a closed round, from ``foresight.stats``, stored as ``RoundStat`` rows.

The result depends only on the stored answers and the study's frozen rules: values are sorted
before any statistic is taken, so eager mode on SQLite and a worker on PostgreSQL give identical
numbers, and a crashed run re-run gives the identical checksum.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from foresight import disclosure, stats
from foresight.catalog.models import Area, Topic
from foresight.core.audit import audit_log
from foresight.delphi.answers import option_value
from foresight.delphi.models import Answer, Expert, Participant, Question, Response, Round, RoundStat, Study
from foresight.delphi.selectors import ALL_RESPONDENTS, round_topic_reports

ALL = ALL_RESPONDENTS
HIGH = "high"


def _r(value: Any) -> Any:
    """Round floats for storage so that the checksum does not depend on the last bit of a platform's float sum."""
    kind = type(value)
    if kind is float:
        return round(value, 10)
    if kind is dict:
        return {k: round(v, 10) if type(v) is float else _r(v) for k, v in value.items()}
    if kind is list:
        return [round(v, 10) if type(v) is float else _r(v) for v in value]
    return value


def scale_index(values: list[float], *, low: float, high: float) -> float | None:
    """0–100 index: the mean answer coded −2…+2 on a 5-point scale, shifted and scaled: 25·(mean code + 2)."""
    return stats.scale_index_counts(Counter((v, 1.0) for v in values), low=low, high=high)


def weighted_index(pairs: list[tuple[float, float]], *, low: float, high: float) -> float | None:
    """Expertise-weighted 0–100 index from (value, weight) pairs."""
    return stats.scale_index_counts(Counter(pairs), low=low, high=high)


@dataclass
class Tally:
    """The answers of one group to one question of one topic, as frequency tables (no identities)."""

    rows: int = 0  # answers given (not "can't judge")
    nums: dict[float, int] = field(default_factory=dict)  # scale codes / years
    codes: dict[str, int] = field(default_factory=dict)  # single choice, or "already"/"never" for years
    multi: dict[str, int] = field(default_factory=dict)  # each ticked option of a multi-select answer

    def add(self, num: float | None, code: str, codes: list[str], count: int = 1) -> None:
        self.rows += count
        if num is not None:
            self.nums[num] = self.nums.get(num, 0) + count
        if code:
            self.codes[code] = self.codes.get(code, 0) + count
        for c in codes:
            self.multi[c] = self.multi.get(c, 0) + count


def _scale_codes(question: Question) -> list[int]:
    return [int(option_value(o)) for o in question.options]


def _scale_figures(question: Question, counts: dict[float, int], rule: dict[str, Any]) -> dict[str, Any]:
    codes = _scale_codes(question)
    low, high = min(codes), max(codes)
    table = stats.Frequencies(counts)
    figures: dict[str, Any] = _describe(table)
    figures["distribution"] = {str(c): counts.get(float(c), 0) for c in codes}
    figures["top2"] = table.share_between(high - 1, high)
    figures["bottom2"] = table.share_between(low, low + 1)
    figures["rwg"] = table.rwg(len(codes))
    if question.index:
        figures["index"] = stats.scale_index_counts({(v, 1.0): c for v, c in counts.items()}, low=low, high=high)
    if len(codes) == 5 and figures["n"]:
        figures["consensus"] = bool(
            figures["iqr"] is not None
            and figures["iqr"] <= float(rule.get("scale_iqr_max", 1.0))
            and figures["top2"] >= float(rule.get("top2_min", 0.7))
            and figures["bottom2"] < float(rule.get("bottom2_max", 0.15))
        )
    return figures


def _year_figures(tally: Tally, rule: dict[str, Any]) -> dict[str, Any]:
    """Year items: ``n`` counts every valid answer (years, "already", "never"); the quartiles are over the
    ``n_years`` numeric years; the shares of "already" and "never" are over ``n``."""
    years = _describe(stats.Frequencies(tally.nums))
    n_years = years.pop("n")
    valid = n_years + sum(tally.codes.values())
    figures: dict[str, Any] = {"n": valid, "n_years": n_years, **years}
    figures["share_already"] = tally.codes.get("already", 0) / valid if valid else None
    figures["share_never"] = tally.codes.get("never", 0) / valid if valid else None
    figures["consensus"] = bool(figures["iqr"] is not None and figures["iqr"] <= float(rule.get("year_iqr_max", 5.0)))
    return figures


def _describe(table: stats.Frequencies) -> dict[str, Any]:
    """``describe`` without the CV: on 1–5 codes and calendar years, scales with an arbitrary origin,
    SD / mean means nothing (README, statistics)."""
    figures: dict[str, Any] = dict(table.describe())
    figures.pop("cv", None)
    return figures


def _choice_figures(question: Question, n: int, chosen: dict[str, int]) -> dict[str, Any]:
    counts = {str(o["code"]): chosen.get(str(o["code"]), 0) for o in question.options}
    return {"n": n, "counts": counts, "shares": {c: (k / n if n else None) for c, k in counts.items()}}


def tally_figures(question: Question, tally: Tally, rule: dict[str, Any]) -> dict[str, Any]:
    """Figures of one question over one group's tally (SPEC §5)."""
    if question.qtype == Question.Type.SCALE:
        return _scale_figures(question, tally.nums, rule)
    if question.qtype == Question.Type.YEAR:
        return _year_figures(tally, rule)
    if question.qtype == Question.Type.SINGLE:
        return _choice_figures(question, sum(tally.codes.values()), tally.codes)
    if question.qtype == Question.Type.MULTI:
        return _choice_figures(question, tally.rows, tally.multi)
    return {"n": tally.rows}


def question_figures(question: Question, rows: list[tuple[int, Any]], rule: dict[str, Any]) -> dict[str, Any]:
    """Figures of one question over (participant, (cant_judge, num, code, codes)) rows of one group."""
    tally = Tally()
    for _, (cant_judge, num, code, codes) in rows:
        if not cant_judge:
            tally.add(num, code, codes or [])
    return tally_figures(question, tally, rule)


@dataclass
class _Cell:
    """One topic × question: a tally per group, the expertise-weighted pairs and the can't-judge count."""

    groups: dict[str, Tally] = field(default_factory=lambda: {ALL: Tally(), HIGH: Tally()})
    weighted: Counter[tuple[float, float]] = field(default_factory=Counter)
    levels: Counter[str] = field(default_factory=Counter)  # valid answers per expertise level ("none": no answer)
    cells: Counter[str] = field(default_factory=Counter)  # valid answers per "level|sector" (disclosure rule 3a)
    cant: int = 0
    answers: int = 0


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _placeholders(values: list[int]) -> str:
    return ", ".join(["%s"] * len(values))


def _topic_cells(
    *, rnd: Round, questions: dict[int, Question], expertise_q: Question | None, rules: disclosure.Rules
) -> Iterator[tuple[int, dict[tuple[int, int], _Cell]]]:
    """The round's answers as frequency tables, one topic at a time: (topic id, {(topic, question): cell}).

    The database does the counting (one grouped query per topic × question × value × sector × expertise,
    streamed in topic order through a server-side cursor), so memory holds one topic's tables at a time
    and the Python work grows with the number of distinct answers, not with the number of experts.
    On PostgreSQL the grouping goes through a temporary table (needs the default TEMPORARY privilege).
    """
    ids = sorted(questions)
    multi = sorted(pk for pk, q in questions.items() if q.qtype == Question.Type.MULTI)
    # Only multi-select answers need their list of codes as a grouping key.
    codes_key = f"CASE WHEN a.question_id IN ({_placeholders(multi)}) THEN a.value_codes END" if multi else "NULL"
    grouped = f"""
        SELECT r.topic_id, a.question_id, a.cant_judge, a.value_num, a.value_code, {codes_key} AS value_codes,
               e.sector, x.value_code AS level, COUNT(*) AS n
        FROM {_table(Answer)} a
        JOIN {_table(Response)} r ON r.id = a.response_id
        JOIN {_table(Participant)} p ON p.id = r.participant_id
        JOIN {_table(Expert)} e ON e.id = p.expert_id
        LEFT JOIN {_table(Answer)} x ON x.response_id = a.response_id AND x.question_id = %s
        WHERE r.round_id = %s AND a.question_id IN ({_placeholders(ids)})
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    """
    params = [*multi, expertise_q.pk if expertise_q else None, rnd.pk, *ids]
    decoded: dict[Any, list[str]] = {None: []}
    with transaction.atomic():  # a server-side cursor (and the temporary table) live in a transaction
        scratch = ""
        if connection.vendor == "postgresql":
            # Group in parallel into a temporary table with a hash table in memory, then stream it in topic
            # order: a cursor over the grouped query itself would run it serially and sort every answer.
            scratch = connection.ops.quote_name(f"round_cells_{uuid.uuid4().hex}")
            with connection.cursor() as setup:
                setup.execute("SET LOCAL work_mem = '256MB'")
                setup.execute(f"CREATE TEMPORARY TABLE {scratch} ON COMMIT DROP AS {grouped}", params)
            sql, params = f"SELECT * FROM {scratch} ORDER BY topic_id", []
        else:
            sql = f"{grouped} ORDER BY 1"
        cursor = connection.chunked_cursor()
        try:
            cursor.execute(sql, params)
            topic: list[tuple[Any, ...]] = []
            while batch := cursor.fetchmany(20000):
                for row in batch:
                    if topic and row[0] != topic[0][0]:
                        yield topic[0][0], _tally_topic(topic, rules, decoded)
                        topic = []
                    topic.append(row)
            if topic:
                yield topic[0][0], _tally_topic(topic, rules, decoded)
        finally:
            cursor.close()
            if scratch:
                with connection.cursor() as cleanup:
                    cleanup.execute(f"DROP TABLE IF EXISTS {scratch}")


def _tally_topic(
    rows: list[tuple[Any, ...]], rules: disclosure.Rules, decoded: dict[Any, list[str]]
) -> dict[tuple[int, int], _Cell]:
    """One topic's grouped rows as a cell per question: first added up per group with plain tuple keys
    (cheap), then a tally built once per key."""
    answers: Counter[tuple[int, int]] = Counter()
    cant: Counter[tuple[int, int]] = Counter()
    grouped: Counter[tuple[tuple[int, int], str, float | None, str, Any]] = Counter()
    weighted: Counter[tuple[tuple[int, int], float, str]] = Counter()
    levels: Counter[tuple[tuple[int, int], str]] = Counter()
    crossed: Counter[tuple[tuple[int, int], str]] = Counter()
    for topic_id, question_id, cant_judge, num, code, codes, sector, level, count in rows:
        key = (topic_id, question_id)
        answers[key] += count
        if cant_judge:
            cant[key] += count
            continue
        grouped[(key, ALL, num, code, codes)] += count
        if level == "high":
            grouped[(key, HIGH, num, code, codes)] += count
        grouped[(key, f"sector:{sector}", num, code, codes)] += count
        levels[(key, level or disclosure.NO_LEVEL)] += count
        crossed[(key, f"{level or disclosure.NO_LEVEL}|{sector}")] += count
        if num is not None:
            weighted[(key, num, level or disclosure.NO_LEVEL)] += count
    cells = {key: _Cell(cant=cant[key], answers=count) for key, count in answers.items()}
    for (key, group, num, code, codes), count in grouped.items():
        if codes not in decoded:
            decoded[codes] = _codes(codes)
        groups = cells[key].groups
        tally = groups.get(group)
        if tally is None:
            tally = groups[group] = Tally()
        tally.add(None if num is None else float(num), code or "", decoded[codes], count)
    for (key, num, level), count in weighted.items():
        cells[key].weighted[(float(num), rules.weight_of(level))] += count
    for (key, level), count in levels.items():
        cells[key].levels[level] += count
    for (key, cell), count in crossed.items():
        cells[key].cells[cell] += count
    return cells


def _codes(raw: Any) -> list[str]:
    """A multi-select answer's codes, whether the driver returns JSON text or decoded JSON."""
    value = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
    return [str(c) for c in value or []]


def _stability(
    *, rnd: Round, previous: Round, scale_ids: list[int]
) -> dict[tuple[int, int], Counter[tuple[float, float]]]:
    """(before, after) pairs per topic × scale question, paired on each expert's participant id, as counts."""
    if not scale_ids:
        return {}
    sql = f"""
        SELECT r.topic_id, a.question_id, pa.value_num, a.value_num, COUNT(*)
        FROM {_table(Answer)} a
        JOIN {_table(Response)} r ON r.id = a.response_id
        JOIN {_table(Response)} pr
          ON pr.participant_id = r.participant_id AND pr.topic_id = r.topic_id AND pr.round_id = %s
        JOIN {_table(Answer)} pa ON pa.response_id = pr.id AND pa.question_id = a.question_id
        WHERE r.round_id = %s AND a.question_id IN ({_placeholders(scale_ids)})
          AND a.cant_judge = %s AND a.value_num IS NOT NULL AND pa.cant_judge = %s AND pa.value_num IS NOT NULL
        GROUP BY r.topic_id, a.question_id, pa.value_num, a.value_num
    """
    pairs: dict[tuple[int, int], Counter[tuple[float, float]]] = defaultdict(Counter)
    with connection.cursor() as cursor:
        cursor.execute(sql, [previous.pk, rnd.pk, *scale_ids, False, False])
        for topic_id, question_id, before, after, count in cursor.fetchall():
            pairs[(topic_id, question_id)][(float(before), float(after))] += count
    return pairs


def _moves(
    *, rnd: Round, previous: Round, scale_ids: list[int], expertise_q: Question | None
) -> dict[tuple[int, int], dict[str, dict[str, int]]]:
    """Who moved between the groups of each topic × scale question from ``previous`` to ``rnd``: counts of
    expertise-level moves ``"before>after"`` (``"high>"``: left the item, ``">low"``: joined it,
    ``"high>medium"``: stated another level) and of sector moves (``"company>"``, ``">company"``), over the
    valid answers.  The disclosure layer needs them to keep a subgroup's leavers from showing through the
    round-to-round change (rule 4)."""
    if not scale_ids:
        return {}
    valid = f"""
        SELECT r.participant_id AS pid, r.topic_id AS tid, a.question_id AS qid, x.value_code AS lvl
        FROM {_table(Answer)} a
        JOIN {_table(Response)} r ON r.id = a.response_id
        LEFT JOIN {_table(Answer)} x ON x.response_id = a.response_id AND x.question_id = %s
        WHERE r.round_id = %s AND a.question_id IN ({_placeholders(scale_ids)})
          AND a.cant_judge = %s AND a.value_num IS NOT NULL
    """
    who = f"JOIN {_table(Participant)} pa ON pa.id = {{side}}.pid JOIN {_table(Expert)} e ON e.id = pa.expert_id"
    sql = f"""
        WITH cur AS ({valid}), prev AS ({valid})
        SELECT c.tid, c.qid, e.sector, CASE WHEN p.pid IS NULL THEN 0 ELSE 1 END, p.lvl, 1, c.lvl, COUNT(*)
        FROM cur c LEFT JOIN prev p ON p.pid = c.pid AND p.tid = c.tid AND p.qid = c.qid {who.format(side="c")}
        GROUP BY c.tid, c.qid, e.sector, CASE WHEN p.pid IS NULL THEN 0 ELSE 1 END, p.lvl, c.lvl
        UNION ALL
        SELECT p.tid, p.qid, e.sector, 1, p.lvl, 0, NULL, COUNT(*)
        FROM prev p LEFT JOIN cur c ON c.pid = p.pid AND c.tid = p.tid AND c.qid = p.qid {who.format(side="p")}
        WHERE c.pid IS NULL
        GROUP BY p.tid, p.qid, e.sector, p.lvl
    """
    level_id = expertise_q.pk if expertise_q else None
    params = [level_id, rnd.pk, *scale_ids, False, level_id, previous.pk, *scale_ids, False]
    out: dict[tuple[int, int], dict[str, dict[str, int]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for topic_id, question_id, sector, was, lvl_before, now, lvl_after, count in cursor.fetchall():
            moves = out.setdefault((topic_id, question_id), {"levels": {}, "sectors": {}})
            before = (lvl_before or disclosure.NO_LEVEL) if was else ""
            after = (lvl_after or disclosure.NO_LEVEL) if now else ""
            if before != after:
                key = f"{before}>{after}"
                moves["levels"][key] = moves["levels"].get(key, 0) + int(count)
            if not (was and now):
                key = f"{sector}>" if was else f">{sector}"
                moves["sectors"][key] = moves["sectors"].get(key, 0) + int(count)
    return {key: {kind: dict(sorted(counts.items())) for kind, counts in moves.items()} for key, moves in out.items()}


def _kendall_by_area(*, rnd: Round, importance: Question | None, topic_ids: list[int]) -> dict[str, Any]:
    """Kendall's W of importance within each area with at least two topics in the round, over the experts
    who rated every one of that area's topics (experts choose their areas, so such complete blocks exist
    where a W over all topics would have no rater at all).  ``raters`` and ``topics`` give its base."""
    if importance is None or len(topic_ids) < 2:
        return {}
    area_of = dict(Topic.objects.filter(pk__in=topic_ids).values_list("pk", "area_id"))
    area_codes = dict(Area.objects.filter(pk__in=set(area_of.values())).values_list("pk", "slug"))
    by_area: dict[int, list[int]] = defaultdict(list)
    for topic_id in sorted(area_of):
        by_area[area_of[topic_id]].append(topic_id)
    ratings: dict[int, dict[int, float]] = defaultdict(dict)
    valid = Answer.objects.filter(
        response__round=rnd, question=importance, cant_judge=False, value_num__isnull=False
    ).values_list("response__participant_id", "response__topic_id", "value_num")
    for participant_id, topic_id, num in valid.iterator(chunk_size=20000):
        ratings[participant_id][topic_id] = float(num)  # type: ignore[arg-type]  # value_num__isnull=False above
    out: dict[str, Any] = {}
    for area_id, topics in sorted(by_area.items(), key=lambda a: area_codes[a[0]]):
        if len(topics) < 2:
            continue
        matrix = [[ratings[p][t] for t in topics] for p in sorted(ratings) if all(t in ratings[p] for t in topics)]
        if len(matrix) < 2:
            continue
        try:
            result = dict(stats.kendall_w(matrix))
        except ValueError:
            continue
        out[area_codes[area_id]] = {**result, "raters": len(matrix), "topics": len(topics)}
    return out


def _topic_respondents(*, rnd: Round, expertise_q: Question | None) -> dict[int, dict[str, Any]]:
    """Respondents to each topic (anyone with at least one answer to it), by sector and expertise level."""
    level = (
        f"(SELECT x.value_code FROM {_table(Answer)} x WHERE x.response_id = r.id AND x.question_id = %s)"
        if expertise_q is not None
        else "NULL"
    )
    sql = f"""
        SELECT r.topic_id, e.sector, {level} AS level, COUNT(*)
        FROM {_table(Response)} r
        JOIN {_table(Participant)} p ON p.id = r.participant_id
        JOIN {_table(Expert)} e ON e.id = p.expert_id
        WHERE r.round_id = %s AND EXISTS (SELECT 1 FROM {_table(Answer)} a WHERE a.response_id = r.id)
        GROUP BY 1, 2, 3
    """
    params = ([expertise_q.pk] if expertise_q is not None else []) + [rnd.pk]
    out: dict[int, dict[str, Any]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for topic_id, sector, lvl, count in cursor.fetchall():
            entry = out.setdefault(topic_id, {"n": 0, "levels": Counter(), "sectors": Counter()})
            entry["n"] += count
            entry["levels"][lvl or disclosure.NO_LEVEL] += count
            entry["sectors"][sector] += count
    return out


def round_results_compute(*, rnd: Round) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Compute (without writing) every RoundStat row and the round summary. Deterministic."""
    study: Study = rnd.study
    questions = {q.pk: q for q in Question.objects.filter(study=study, applies_to=Question.AppliesTo.TOPIC)}
    if not questions:
        return [], _r({"kendall_importance_by_area": {}, "topics": {}, "respondents": 0})
    expertise_q = next((q for q in questions.values() if q.key == "expertise"), None)
    rules = study.disclosure_rules()
    rule = study.consensus_rule or {}
    previous = Round.objects.filter(study=study, number=rnd.number - 1).first() if rnd.number > 1 else None
    scale_ids = sorted(pk for pk, q in questions.items() if q.qtype == Question.Type.SCALE)
    pairs = _stability(rnd=rnd, previous=previous, scale_ids=scale_ids) if previous is not None else {}
    moves = (
        _moves(rnd=rnd, previous=previous, scale_ids=scale_ids, expertise_q=expertise_q) if previous is not None else {}
    )
    before = (
        {
            (s.topic_id, s.question_id): (s.n, s.data.get("iqr"))
            for s in RoundStat.objects.filter(round=previous, group=ALL, question_id__in=scale_ids)
        }
        if previous is not None
        else {}
    )
    topic_codes = dict(
        Topic.objects.filter(pk__in=Response.objects.filter(round=rnd).values("topic_id")).values_list("pk", "code")
    )

    rows: list[dict[str, Any]] = []
    consensus_items: dict[int, dict[str, bool]] = defaultdict(dict)
    medians: dict[tuple[int, str], float | None] = {}
    unstable: list[tuple[tuple[int, int], dict[str, Any]]] = []  # scale cells whose stability comes below
    for topic_id, cells in _topic_cells(rnd=rnd, questions=questions, expertise_q=expertise_q, rules=rules):
        for (_, question_id), cell in sorted(cells.items(), key=lambda c: (questions[c[0][1]].order, c[0][1])):
            question = questions[question_id]
            for group, tally in sorted(cell.groups.items()):
                figures = tally_figures(question, tally, rule)
                if group == ALL:
                    figures["n_cant_judge"] = cell.cant
                    figures["levels"] = {level: cell.levels[level] for level in sorted(cell.levels)}
                    figures["cells"] = {key: cell.cells[key] for key in sorted(cell.cells)}
                    if question.qtype == Question.Type.SCALE and question.index:
                        codes = _scale_codes(question)
                        figures["index_weighted"] = stats.scale_index_counts(
                            cell.weighted, low=min(codes), high=max(codes)
                        )
                    if question.qtype in (Question.Type.SCALE, Question.Type.YEAR):
                        medians[(topic_id, question.key)] = figures.get("median")
                    if question.qtype == Question.Type.SCALE and question.index:
                        consensus_items[topic_id][question.key] = bool(figures.get("consensus"))
                row = {
                    "topic_id": topic_id,
                    "question_id": question_id,
                    "topic": topic_codes[topic_id],
                    "question": question.key,
                    "group": group,
                    "n": int(figures.get("n") or 0),
                    "data": _r(figures),
                }
                rows.append(row)
                if group == ALL and previous is not None and question.qtype == Question.Type.SCALE:
                    unstable.append(((topic_id, question_id), row["data"]))

    # Change against the previous round, on the respondents who answered in both (paired on each
    # expert's participant id); all Wilcoxon tests in one go.
    tests = stats.wilcoxon_many(_expand(pairs.get(key, Counter())) for key, _ in unstable)
    for (key, data), test in zip(unstable, tests, strict=True):
        n_before, iqr_before_all = before.get(key, (0, None))
        data["stability"] = _r(
            _stability_figures(
                pairs.get(key, Counter()),
                test,
                from_round=rnd.number - 1,
                n_before=n_before,
                iqr_all=data.get("iqr"),
                iqr_before_all=iqr_before_all,
            )
        )
        data["stability"]["moves"] = moves.get(key, {"levels": {}, "sectors": {}})
    rows.sort(key=lambda r: (r["topic"], questions[r["question_id"]].order, r["question"], r["group"]))

    respondents = _topic_respondents(rnd=rnd, expertise_q=expertise_q)
    # W over the topics with respondents (those the summary lists): a response saved empty adds no topic.
    importance = next((q for q in questions.values() if q.key == "importance"), None)
    kendall = _kendall_by_area(rnd=rnd, importance=importance, topic_ids=sorted(respondents))
    topics_out = {}
    for topic_id in sorted(respondents, key=lambda t: topic_codes[t]):
        items = consensus_items.get(topic_id, {})
        tech = medians.get((topic_id, "tech_year"))
        social = medians.get((topic_id, "social_year"))
        who = respondents[topic_id]
        topics_out[topic_codes[topic_id]] = {
            "n": who["n"],
            "levels": dict(sorted(who["levels"].items())),
            "sectors": dict(sorted(who["sectors"].items())),
            "consensus": bool(items) and all(items.values()),
            "consensus_items": items,
            "social_lag": (social - tech) if tech is not None and social is not None else None,
        }
    summary_out = _r(
        {
            "kendall_importance_by_area": kendall,
            "topics": topics_out,
            "respondents": _respondents(rnd=rnd, question_ids=sorted(questions)),
        }
    )
    return rows, summary_out


def _expand(pairs: Counter[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """A table of (before, after) → count as the two paired lists."""
    ordered = sorted(pairs.items())
    return [b for (b, _), c in ordered for _ in range(c)], [a for (_, a), c in ordered for _ in range(c)]


def _stability_figures(
    pairs: Counter[tuple[float, float]],
    test: Mapping[str, Any],
    *,
    from_round: int,
    n_before: int,
    iqr_all: float | None,
    iqr_before_all: float | None,
) -> dict[str, Any]:
    """Round-to-round change of one topic × scale question (SPEC §5), on the paired respondents: the
    quartiles before and after, ΔIQR, the share who changed and the Wilcoxon signed-rank test.  The
    change of the all-respondent IQR (attrition and new respondents mixed in) is kept apart as
    ``delta_iqr_all``; ``n_before`` (valid answers in the previous round) lets the disclosure layer
    see how many left (``foresight.disclosure.stability_release``)."""
    n = sum(pairs.values())
    changed = sum(c for (b, a), c in pairs.items() if b != a)
    out: dict[str, Any] = {"from_round": from_round, "n_before": n_before, "n_paired": n}
    for side, index in (("before", 0), ("after", 1)):
        counts: Counter[float] = Counter()
        for pair, count in pairs.items():
            counts[pair[index]] += count
        figures = stats.Frequencies(counts).describe()
        for key in ("median", "q1", "q3", "iqr"):
            out[f"{key}_{side}"] = figures[key]
    out["delta_iqr"] = (
        out["iqr_after"] - out["iqr_before"] if out["iqr_after"] is not None and out["iqr_before"] is not None else None
    )
    out["delta_iqr_all"] = iqr_all - iqr_before_all if iqr_all is not None and iqr_before_all is not None else None
    out["share_changed"] = changed / n if n else None
    out["n_nonzero"] = test.get("n_nonzero", changed)
    out["wilcoxon_statistic"] = test["statistic"]
    out["wilcoxon_p"] = test["p_value"]
    out["wilcoxon_method"] = test.get("method")
    return out


def _respondents(*, rnd: Round, question_ids: list[int]) -> int:
    return (
        Response.objects.filter(round=rnd, answers__question_id__in=question_ids)
        .values("participant_id")
        .distinct()
        .count()
    )


def results_checksum(rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    """SHA-256 of the results keyed by codes (not database ids), so two databases can be compared."""
    portable = sorted(
        ({k: v for k, v in row.items() if k not in ("topic_id", "question_id")} for row in rows),
        key=lambda r: (r["topic"], r["question"], r["group"]),
    )
    canonical = json.dumps({"rows": portable, "summary": summary}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def round_aggregate(*, round_id: int) -> bool:
    """Aggregate a closed round: returns True if this call did it, False if there was nothing to do.

    1. compute every figure (outside any transaction: it may take a while);
    2. in one transaction, re-check the round is still closed (row lock), replace its RoundStat rows,
       store summary and checksum, move closed → aggregated;
    3. choose the next round's topics (dropping consensus topics if the study says so).
    A crash anywhere leaves the round closed; the sweep re-queues it and the re-run gives the same checksum.
    """
    rnd = Round.objects.select_related("study").filter(pk=round_id).first()
    if rnd is None or rnd.status != Round.Status.CLOSED:
        return False
    Round.objects.filter(pk=rnd.pk).update(aggregation_progress=10)
    rows, summary = round_results_compute(rnd=rnd)
    checksum = results_checksum(rows, summary)
    Round.objects.filter(pk=rnd.pk).update(aggregation_progress=70)
    with transaction.atomic():
        locked = Round.objects.select_for_update().get(pk=rnd.pk)
        if locked.status != Round.Status.CLOSED:
            return False
        RoundStat.objects.filter(round=locked).delete()
        _stats_store(rnd=locked, rows=rows)
        Round.objects.filter(pk=locked.pk).update(
            status=Round.Status.AGGREGATED,
            aggregated_at=timezone.now(),
            checksum=checksum,
            summary=summary,
            aggregation_progress=100,
        )
        _next_round_topics(rnd=locked, summary=summary)
        audit_log(action="round_aggregate", round=locked, checksum=checksum)
    return True


def _stats_store(*, rnd: Round, rows: list[dict[str, Any]]) -> None:
    """Insert the round's RoundStat rows (inside the caller's transaction).

    On PostgreSQL with ``COPY``: tens of thousands of JSON rows at national scale, which an ``INSERT``
    with every value quoted by the driver takes several times longer to send.
    """
    if connection.vendor != "postgresql":
        RoundStat.objects.bulk_create(
            [
                RoundStat(
                    round=rnd,
                    topic_id=r["topic_id"],
                    question_id=r["question_id"],
                    group=r["group"],
                    n=r["n"],
                    data=r["data"],
                )
                for r in rows
            ],
            batch_size=2000,
        )
        return
    column = {f.name: f.column for f in RoundStat._meta.concrete_fields}
    columns = ", ".join(
        connection.ops.quote_name(column[f]) for f in ("round", "topic", "question", "group", "n", "data")
    )
    with connection.cursor() as cursor, cursor.copy(f"COPY {_table(RoundStat)} ({columns}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row(
                (rnd.pk, r["topic_id"], r["question_id"], r["group"], r["n"], json.dumps(r["data"], allow_nan=False))
            )


def _next_round_topics(*, rnd: Round, summary: dict[str, Any]) -> None:
    nxt = Round.objects.filter(study=rnd.study_id, number=rnd.number + 1).first()
    if nxt is None or nxt.status not in (Round.Status.DRAFT, Round.Status.SCHEDULED):
        return
    topics = list(rnd.topics.all())
    if rnd.study.drop_consensus_topics:
        # Only a consensus the disclosure layer releases: a topic dropped on a verdict from fewer than
        # k + 1 answers would show everyone (it is missing from the next round) what the verdict was.
        index_keys = set(Question.objects.filter(study=rnd.study_id, index=True).values_list("key", flat=True))
        done = set()
        for topic_id, report in round_topic_reports(rnd=rnd).items():
            items = [report["items"].get(key) for key in sorted(index_keys)]
            if items and all(
                item is not None and item.get("n") is not None and item.get("consensus") for item in items
            ):
                done.add(topic_id)
        topics = [t for t in topics if t.pk not in done]
    nxt.topics.set(topics)
