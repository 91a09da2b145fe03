"""Reads of the Delphi app. Permission-checked fetchers raise Http404/PermissionDenied."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from foresight import disclosure
from foresight.catalog.models import Area, Topic
from foresight.delphi import stopping
from foresight.delphi.answers import CANT_JUDGE, option_value
from foresight.delphi.models import Answer, FeedbackSnapshot, Participant, Question, Response, Round, RoundStat, Study

SESSION_KEY = "delphi_participant"
# The RoundStat group of every respondent (aggregation.ALL).
ALL_RESPONDENTS = "all"


def participant_get_for_session(*, request: HttpRequest, study_code: str) -> Participant:
    """The participant this browser session was given by a magic link, for this study only."""
    ids: dict[str, int] = request.session.get(SESSION_KEY, {})
    pk = ids.get(study_code)
    participant = (
        Participant.objects.select_related("study", "expert").filter(pk=pk, study__code=study_code).first()
        if pk
        else None
    )
    if participant is None:
        raise Http404("No such study for this session")
    return participant


def round_current(*, study: Study) -> Round | None:
    """The round an expert works on: the open one, else the latest that has opened, else the next scheduled."""
    rounds = list(study.rounds.all())
    for rnd in rounds:
        if rnd.status == Round.Status.OPEN:
            return rnd
    started = [r for r in rounds if r.status in (Round.Status.CLOSED, Round.Status.AGGREGATED)]
    if started:
        return max(started, key=lambda r: r.number)
    return next((r for r in rounds if r.status == Round.Status.SCHEDULED), None)


def round_get_for_participant(*, participant: Participant, number: int) -> Round:
    """A round of the participant's study that has opened (drafts and scheduled rounds are 404)."""
    rnd = (
        Round.objects.select_related("study")
        .filter(
            study_id=participant.study_id,
            number=number,
            status__in=(Round.Status.OPEN, Round.Status.CLOSED, Round.Status.AGGREGATED),
        )
        .first()
    )
    if rnd is None:
        raise Http404("No such round")
    return rnd


def participant_round_topics(*, participant: Participant, rnd: Round) -> list[Topic]:
    """The topics this expert answers in this round, in catalog order."""
    return list(
        Topic.objects.filter(pk__in=rnd.topics.values("pk"))
        .filter(pk__in=participant.topics.values("pk"))
        .select_related("area__direction")
        .order_by("area__direction__order", "area__order", "code")
    )


def topics_with_answer(*, participant: Participant, rnd: Round, question_id: int | None = None) -> set[int]:
    """Topics of ``rnd`` on which the participant has an answer (to ``question_id``, if given).

    Goes through the participant's own responses first (the unique index on round × participant × topic),
    then their answers (the unique index on response × question): a join the planner could start from
    the answers of a question would scan a whole round's answers while the statistics of a new round's
    rows are not yet analysed — seconds to minutes per call on a database holding a national study.
    """
    responses = dict(Response.objects.filter(round=rnd, participant=participant).values_list("pk", "topic_id"))
    if not responses:
        return set()
    answers = Answer.objects.filter(response_id__in=list(responses))
    if question_id is not None:
        answers = answers.filter(question_id=question_id)
    return {responses[pk] for pk in answers.values_list("response_id", flat=True)}


def answered_topic_ids(*, participant: Participant, rnd: Round, questions: list[Question] | None = None) -> set[int]:
    """Topics with at least the (required) expertise answer: what counts as answered for progress.

    ``questions``: the study's topic questions when the caller already has them (saves a query).
    """
    if questions is not None:
        expertise = _expertise_id(questions)
    else:
        expertise = (
            Question.objects.filter(study_id=participant.study_id, key="expertise").values_list("pk", flat=True).first()
        )
    return topics_with_answer(participant=participant, rnd=rnd, question_id=expertise)


def _expertise_id(questions: list[Question]) -> int | None:
    return next((q.pk for q in questions if q.key == "expertise"), None)


def answered_after_save(
    *, answered: set[int], topic_id: int, answers: list[Answer], questions: list[Question]
) -> set[int]:
    """``answered`` (from ``answered_topic_ids``) with one topic counted as its stored ``answers`` now decide."""
    expertise = _expertise_id(questions)
    now = any(expertise is None or a.question_id == expertise for a in answers)
    return (answered - {topic_id}) | ({topic_id} if now else set())


def _own_response(*, participant: Participant, rnd: Round, topic: Topic) -> Response | None:
    return Response.objects.filter(round=rnd, participant=participant, topic=topic).first()


def own_answers(*, participant: Participant, rnd: Round, topic: Topic) -> list[Answer]:
    """The participant's answers on one topic of one round (through the response: see ``topics_with_answer``)."""
    response = _own_response(participant=participant, rnd=rnd, topic=topic)
    return list(response.answers.all()) if response is not None else []


def response_values(
    *, participant: Participant, rnd: Round, topic: Topic, questions: list[Question] | None = None
) -> tuple[dict[str, Any], str]:
    """The expert's stored answers on a topic as form values (the inverse of the form parsing), and her rationale.

    ``questions``: the study's topic questions when the caller already has them (saves a query).
    """
    response = _own_response(participant=participant, rnd=rnd, topic=topic)
    if response is None:
        return {}, ""
    return answers_form_values(list(response.answers.all()), questions), response.rationale


def previous_round_values(
    *, participant: Participant, rnd: Round, topic: Topic, questions: list[Question] | None = None
) -> dict[str, Any]:
    """Round 2+: the expert's answers on this topic in the round before, as form values, to keep or revise
    (empty in round 1, when the study does not pre-fill, or when she did not answer it then)."""
    if rnd.number < 2 or not rnd.study.prefill_previous:
        return {}
    previous = Round.objects.filter(study_id=rnd.study_id, number=rnd.number - 1).first()
    if previous is None:
        return {}
    return response_values(participant=participant, rnd=previous, topic=topic, questions=questions)[0]


def answers_form_values(answers: list[Answer], questions: list[Question] | None = None) -> dict[str, Any]:
    """Stored answers as form values, by question key."""
    by_id = {q.pk: q for q in questions or []}
    if any(a.question_id not in by_id for a in answers):
        by_id.update(Question.objects.in_bulk({a.question_id for a in answers}))
    values: dict[str, Any] = {}
    for answer in answers:
        answer.question = by_id[answer.question_id]
        values[answer.question.key] = answer_form_value(answer)
    return values


def answer_form_value(answer: Answer) -> Any:
    qtype = answer.question.qtype
    if answer.cant_judge:
        return [CANT_JUDGE] if qtype == Question.Type.MULTI else CANT_JUDGE
    if qtype == Question.Type.MULTI:
        return list(answer.value_codes)
    if qtype == Question.Type.YEAR:
        return answer.value_code or str(int(answer.value_num or 0))
    if qtype == Question.Type.TEXT:
        return answer.value_text
    return answer.value_code


# --- Released results of a round (through the disclosure layer) -------------------------------------


def answer_key(*, num: float | None, code: str, codes: list[str] | None) -> str:
    """A valid answer as one string, to tell whether a respondent's answer changed (real-time feedback)."""
    return f"{num!r}|{code}|{','.join(sorted(str(c) for c in codes or []))}"


def realtime_members(*, rnd: Round, topic_ids: list[int] | None = None) -> dict[tuple[int, int], dict[str, str]]:
    """(topic, question) → respondent → her valid answer's key, for every answer of ``rnd`` (one query)."""
    answers = Answer.objects.filter(response__round=rnd, cant_judge=False)
    if topic_ids is not None:
        answers = answers.filter(response__topic_id__in=topic_ids)
    out: dict[tuple[int, int], dict[str, str]] = {}
    for topic_id, question_id, participant_id, num, code, codes in answers.values_list(
        "response__topic_id", "question_id", "response__participant_id", "value_num", "value_code", "value_codes"
    ):
        out.setdefault((topic_id, question_id), {})[str(participant_id)] = answer_key(num=num, code=code, codes=codes)
    return out


def round_topic_reports(
    *, rnd: Round, topic_ids: list[int] | None = None, questions: list[Question] | None = None
) -> dict[int, dict[str, Any]]:
    """Per topic of an aggregated round, everything of its results that may leave the statistics.

    One report per topic: ``respondents`` (``disclosure.release_topic``), ``items`` (question key →
    ``disclosure.release_item``, in question order; the expertise item is part of ``respondents``,
    free text is never summarised) and ``social_lag`` when both median years are released.  Two
    queries (plus one for the questions when not given); used by scoring, the topic page, the staff
    console and the exports, so all of them show the same figures and hide the same ones.
    """
    study = rnd.study
    rules = study.disclosure_rules()
    if questions is None:
        questions = list(Question.objects.filter(study=study, applies_to=Question.AppliesTo.TOPIC))
    items = [q for q in questions if q.qtype != Question.Type.TEXT and q.key != "expertise"]
    expertise = next((q for q in questions if q.key == "expertise"), None)
    by_id = {q.pk: q for q in items}
    stats = RoundStat.objects.filter(round=rnd, question_id__in=list(by_id)).values_list(
        "topic_id", "question_id", "group", "data"
    )
    if topic_ids is not None:
        stats = stats.filter(topic_id__in=topic_ids)
    groups: dict[int, dict[int, dict[str, dict[str, Any]]]] = {}
    for topic_id, question_id, group, data in stats:
        groups.setdefault(topic_id, {}).setdefault(question_id, {})[group] = data or {}
    codes = dict(Topic.objects.filter(pk__in=list(groups)).values_list("pk", "code"))
    summaries = (rnd.summary or {}).get("topics", {})
    # Real-time studies: experts saw snapshots of the live figures; the round's own figures must not differ
    # from the last snapshot by a small group (disclosure rule 5), or that group's answers would show.
    live: dict[tuple[int, int], dict[str, str]] = {}
    seen: dict[tuple[int, int], dict[str, str]] = {}
    if study.mode != Study.Mode.REALTIME:
        expertise = None
    else:
        live = realtime_members(rnd=rnd, topic_ids=list(groups))
        seen = {
            (s.topic_id, s.question_id): s.members
            for s in FeedbackSnapshot.objects.filter(round=rnd, topic_id__in=list(groups)).only(
                "topic_id", "question_id", "members"
            )
            if s.members is not None
        }
    reports: dict[int, dict[str, Any]] = {}
    for topic_id, cells in groups.items():
        summary = summaries.get(codes[topic_id], {})
        released = {
            q.key: disclosure.release_item(qtype=q.qtype, index=q.index, groups=cells[q.pk], rules=rules, topic=summary)
            for q in items
            if q.pk in cells
        }
        for q in items:
            before = seen.get((topic_id, q.pk))
            now = live.get((topic_id, q.pk), {})
            if (
                q.key in released
                and before is not None
                and not disclosure.since_snapshot_releasable(previous=before, current=now, rules=rules)
            ):
                released[q.key] = {"n": None, "suppressed": {"all": disclosure.SINCE_FEEDBACK}}
        respondents = disclosure.release_topic(summary=summary, rules=rules)
        if expertise is not None and respondents.get("n") is not None:
            # The expertise item's live distribution was fed back too: its counts by level obey rule 5.
            before = seen.get((topic_id, expertise.pk))
            now = live.get((topic_id, expertise.pk), {})
            if before is not None and not disclosure.since_snapshot_releasable(
                previous=before, current=now, rules=rules
            ):
                respondents["by_expertise"] = {}
                respondents["suppressed"]["by_expertise"] = disclosure.SINCE_FEEDBACK
        tech = (released.get("tech_year") or {}).get("median")
        social = (released.get("social_year") or {}).get("median")
        reports[topic_id] = {
            "round": rnd.number,
            "respondents": respondents,
            "items": released,
            "social_lag": (social - tech) if tech is not None and social is not None else None,
        }
    return reports


def index_question_keys(questions: list[Question]) -> list[str]:
    """The index items (5-point items with a 0–100 index) in question order: what consensus and the
    stopping rule are judged on."""
    ordered = sorted(questions, key=lambda q: (q.order, q.pk))
    return [q.key for q in ordered if q.qtype == Question.Type.SCALE and q.index]


def round_stopping(
    *,
    rnd: Round,
    reports: dict[int, dict[str, Any]] | None = None,
    questions: list[Question] | None = None,
    topic_ids: list[int] | None = None,
) -> stopping.StudyStopping:
    """The stopping rule after an aggregated round, per topic still asked (by topic id) and for the study.

    Judged on the released results only (``round_topic_reports``); ``reports`` (holding at least the
    index items), ``questions`` and ``topic_ids`` (the round's topics) may be passed by a caller that
    has them already, as the staff console does.  Three queries otherwise.
    """
    study = rnd.study
    if questions is None:
        questions = list(Question.objects.filter(study=study, applies_to=Question.AppliesTo.TOPIC))
    index_keys = index_question_keys(questions)
    if reports is None:
        reports = round_topic_reports(rnd=rnd, questions=[q for q in questions if q.key in index_keys])
    if topic_ids is None:
        topic_ids = list(rnd.topics.values_list("pk", flat=True))
    rule = study.stopping_rules()
    topics = {
        topic_id: stopping.topic_stopping(
            reports.get(topic_id), index_keys=index_keys, later_round=rnd.number > 1, rule=rule
        )
        for topic_id in topic_ids
    }
    planned = 1 if study.mode == Study.Mode.REALTIME else study.planned_rounds
    return stopping.study_stopping(topics, round_number=rnd.number, planned_rounds=planned, rule=rule)


def round_stopping_note(*, rnd: Round) -> dict[str, str]:
    """One sentence per language on the stopping rule after ``rnd``, for an edition's method note
    (``priorities.publish``): how many of the topics asked met it, by consensus or stability, and how
    many were undetermined because a figure it needs is withheld."""
    result = round_stopping(rnd=rnd)
    rule = result.rule
    total = len(result.topics)
    changed = f"{rule.stable_share_changed_max * 100:g}"
    p_min = f"{rule.stable_p_min:g}"
    en = (
        f"Stopping rule (consensus, or stability: at most {changed} % of the respondents in both rounds changed "
        f"their answer and Wilcoxon p ≥ {p_min}): met for {result.met_count} of the {total} topics asked in round "
        f"{rnd.number} ({result.consensus_count} by consensus, {result.stable_count} stable)"
    )
    zh = (
        f"停止规则（达成共识，或趋于稳定：两轮均作答者中改变答案的比例不超过 {changed}% 且 Wilcoxon 检验 p ≥ {p_min}）："
        f"第 {rnd.number} 轮所问的 {total} 个主题中 {result.met_count} 个满足（{result.consensus_count} 个达成共识，"
        f"{result.stable_count} 个趋于稳定）"
    )
    if result.moving_count:
        en += f"; {result.moving_count} still moving"
        zh += f"；{result.moving_count} 个仍在变化"
    if result.undetermined_count:
        en += f"; {result.undetermined_count} undetermined (figures withheld by the disclosure rules)"
        zh += f"；{result.undetermined_count} 个因数据按披露规则不予公布而无法判定"
    if result.why == stopping.ALL_MET:
        en += ". No further round was needed."
        zh += "。无需再进行一轮。"
    elif result.why == stopping.PLANNED_ROUNDS_DONE:
        en += ". The planned rounds were done."
        zh += "。计划轮次已完成。"
    else:
        en += ". The rule was not met for the study."
        zh += "。本调查尚未满足停止规则。"
    return {"en": en, "zh": zh}


def round_kendall_by_area(*, rnd: Round) -> list[dict[str, Any]]:
    """Kendall's W of importance per area of an aggregated round, as far as it may leave the statistics.

    One row per area with at least two topics in the round (in slug order), so an area's row exists
    whatever its raters: the figures (``w``, ``chi2``, ``df``, ``p_value``, ``raters``) only when at
    least t = k + 1 experts rated every topic of the area, else ``suppressed`` (a reason code) —
    also where aggregation had fewer than two raters and stored nothing.  Two queries.
    """
    rules = rnd.study.disclosure_rules()
    stored = (rnd.summary or {}).get("kendall_importance_by_area") or {}
    per_area: dict[int, int] = {}
    for area_id in rnd.topics.values_list("area_id", flat=True):
        per_area[area_id] = per_area.get(area_id, 0) + 1
    areas = Area.objects.filter(pk__in=[a for a, n in per_area.items() if n >= 2]).order_by("slug")
    rows = []
    for area in areas:
        figures = stored.get(area.slug) or {}
        row: dict[str, Any] = {"area": area, "topics": int(figures.get("topics") or per_area[area.pk])}
        if int(figures.get("raters") or 0) >= rules.t:
            row.update({key: figures.get(key) for key in ("w", "chi2", "df", "p_value", "raters")})
            row["suppressed"] = None
        else:
            row["suppressed"] = disclosure.SMALL_GROUP
        rows.append(row)
    return rows


# --- for scoring (foresight.priorities): answers by cell, with their coding -------------------------------

AnswerRow = tuple[int, int, str, bool, float | None, str]


@dataclass(frozen=True)
class AnswerMatrix:
    """The answers to some questions in chosen topic × round cells, as scoring reads them.

    ``respondents``: the participant ids with at least one such answer, ascending (pseudonymous ids,
    never an expert).  ``rows()`` streams (participant id, topic id, question key, can't judge,
    numeric value, code) per answer, in no particular order; a scale answer's numeric value is its
    option's value, a year answer's the year (its code is 'already' / 'never' otherwise).
    ``scale_mid`` gives each scale question's midpoint, (min + max) / 2 of its option values (3 where
    the study has no such question)."""

    respondents: list[int]
    scale_mid: dict[str, float]
    _answers: QuerySet[Answer] = field(repr=False)

    def rows(self) -> Iterator[AnswerRow]:
        values = self._answers.values_list(
            "response__participant_id", "response__topic_id", "question__key", "cant_judge", "value_num", "value_code"
        )
        for participant_id, topic_id, key, cant_judge, num, code in values.iterator(chunk_size=20000):
            yield participant_id, topic_id, key, cant_judge, num, code or ""


def answer_matrix(*, study: Study, cells: Mapping[int, Round], keys: Collection[str]) -> AnswerMatrix:
    """The answers to the questions ``keys`` of ``study`` where ``cells`` maps a topic id to the round
    whose answers count for it. Two queries (questions, respondents); ``rows()`` is a third."""
    where = Q(pk__in=[])
    by_round: dict[int, list[int]] = {}
    for topic_id, rnd in cells.items():
        by_round.setdefault(rnd.pk, []).append(topic_id)
    for round_id, topic_ids in by_round.items():
        where |= Q(response__round_id=round_id, response__topic_id__in=topic_ids)
    answers = Answer.objects.filter(where, question__study=study, question__key__in=list(keys)).order_by()
    scale_mid = {key: 3.0 for key in keys}
    for q in Question.objects.filter(study=study, key__in=list(keys), qtype=Question.Type.SCALE):
        values = [option_value(o) for o in q.options or []]
        if values:
            scale_mid[q.key] = (min(values) + max(values)) / 2
    respondents = sorted(answers.values_list("response__participant_id", flat=True).distinct())
    return AnswerMatrix(respondents=respondents, scale_mid=scale_mid, _answers=answers)


@dataclass(frozen=True)
class TopicRoundFigure:
    """One question's released all-respondent figures of a topic in one aggregated round."""

    round: Round
    question: Question
    released: dict[str, Any]  # n, median, q1, q3, iqr, index as the disclosure layer releases them


def topic_round_figures(*, topic: Topic, keys: Collection[str], rounds: QuerySet[Round]) -> Iterator[TopicRoundFigure]:
    """The released all-respondent figures of the questions ``keys`` for ``topic`` in every aggregated round
    of ``rounds``, by study (oldest first) and round number.  A fixed-rounds round's figures are those
    ``disclosure.release_item`` lets out; a real-time round's those of ``round_topic_reports`` (they also
    obey rule 5 against the last snapshot its experts saw).  One query, and one more per real-time round."""
    stats = (
        RoundStat.objects.filter(
            topic=topic,
            group=ALL_RESPONDENTS,
            question__key__in=list(keys),
            round__status=Round.Status.AGGREGATED,
            round__in=rounds,
        )
        .select_related("round__study", "question")
        .order_by("round__study__created_at", "round__study__code", "round__number")
    )
    live: dict[int, dict[str, Any]] = {}  # real-time rounds: their released items (rule 5), one report each
    for stat in stats:
        rnd = stat.round
        if rnd.study.mode == Study.Mode.REALTIME:
            if rnd.pk not in live:
                live[rnd.pk] = (round_topic_reports(rnd=rnd, topic_ids=[topic.pk]).get(topic.pk) or {}).get("items", {})
            report = live[rnd.pk].get(stat.question.key) or {"n": None}
            released = {key: report.get(key) for key in ("n", "median", "q1", "q3", "iqr", "index")}
        else:
            released = disclosure.release_item(
                qtype=stat.question.qtype,
                index=stat.question.index,
                groups={ALL_RESPONDENTS: stat.data or {}},
                rules=rnd.study.disclosure_rules(),
            )
        yield TopicRoundFigure(round=rnd, question=stat.question, released=released)
