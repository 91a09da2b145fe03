"""Reads of the Delphi app. Permission-checked fetchers raise Http404/PermissionDenied."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from foresight.catalog.models import Topic
from foresight.delphi.answers import CANT_JUDGE
from foresight.delphi.models import Answer, Participant, Question, Response, Round, Study

SESSION_KEY = "delphi_participant"


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


def answered_topic_ids(*, participant: Participant, rnd: Round) -> set[int]:
    """Topics with at least the (required) expertise answer: what counts as answered for progress."""
    qs = Answer.objects.filter(response__round=rnd, response__participant=participant)
    if Question.objects.filter(study_id=participant.study_id, key="expertise").exists():
        qs = qs.filter(question__key="expertise")
    return set(qs.values_list("response__topic_id", flat=True))


def response_values(*, participant: Participant, rnd: Round, topic: Topic) -> tuple[dict[str, Any], str]:
    """The expert's stored answers on a topic as form values (the inverse of the form parsing), and her rationale."""
    response = (
        Response.objects.filter(round=rnd, participant=participant, topic=topic)
        .prefetch_related("answers__question")
        .first()
    )
    if response is None:
        return {}, ""
    values: dict[str, Any] = {}
    for answer in response.answers.all():
        values[answer.question.key] = answer_form_value(answer)
    return values, response.rationale


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
