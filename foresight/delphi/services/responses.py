"""Saving answers: the autosave of the questionnaire, the expert API and ``simulate_study`` all come here.

Answers are written to the database (one row per expert × topic × round × question, enforced by a
unique constraint) before anything else happens; saving twice with the same values changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from foresight.catalog.models import Topic
from foresight.core.errors import Conflict
from foresight.core.text import clean_text
from foresight.delphi.answers import Coded, parse_answer
from foresight.delphi.models import Answer, Participant, Question, Response, Round, RoundCompletion, Study
from foresight.delphi.selectors import topics_with_answer
from foresight.delphi.services.feedback import realtime_snapshot
from foresight.delphi.services.panel import participant_require_taking_part
from foresight.delphi.services.rounds import round_answers_lock_shared

MAX_RATIONALE = 1000


class RoundClosed(Conflict):
    """The round is not open: answers are refused (HTTP 409)."""


def _check_can_answer(*, participant: Participant, rnd: Round, topic: Topic) -> None:
    if rnd.study_id != participant.study_id:
        raise PermissionDenied("This round belongs to another study.")
    participant_require_taking_part(participant)
    if rnd.status != Round.Status.OPEN:
        raise RoundClosed("This round is closed; answers can no longer be changed.")
    chosen = Participant.topics.through.objects.filter(participant_id=participant.pk, topic_id=OuterRef("pk"))
    if rnd.topics.filter(pk=topic.pk).filter(Exists(chosen)).exists():
        return  # one query for the common case; the two below only to say which condition failed
    if not rnd.topics.filter(pk=topic.pk).exists():
        raise ValidationError({"topic": ["This topic is not part of the round."]})
    raise ValidationError({"topic": ["This topic is not among the topics you chose or were assigned."]})


def response_save(
    *,
    participant: Participant,
    rnd: Round,
    topic: Topic,
    answers: Mapping[str, Any] | None = None,
    coded: Mapping[str, Coded | None] | None = None,
    rationale: str | None = None,
    questions: list[Question] | None = None,
) -> Response:
    """Validate and store answers for one topic (a partial set is fine: autosave sends one field at a time).

    1. permission: own study, consented, round open, topic in round and chosen;
    2. every value is checked first, so one bad value stores nothing;
    3. upsert one ``Answer`` per question under the round row's lock (the round cannot close mid-save);
       an answer set back to empty is deleted.

    Answers come either raw (``answers``: as typed or sent by the API, parsed here) or already parsed
    with ``parse_answer`` (``coded``: the questionnaire form parses each field once to report it on its own).

    ``questions``: the study's topic questions when the caller already has them (saves a query).
    The returned response carries ``saved_answers``: its answers as stored by this call, so the caller
    can show them without reading them back.
    """
    if (answers is None) == (coded is None):
        raise TypeError("response_save: give either answers or coded")
    if questions is None:
        questions = list(Question.objects.filter(study_id=participant.study_id, applies_to=Question.AppliesTo.TOPIC))
    by_key = {q.key: q for q in questions if q.study_id == participant.study_id}
    unknown = sorted(set(coded if coded is not None else answers or {}) - set(by_key))
    if unknown:
        raise ValidationError({"answers": [f"Unknown question: {', '.join(unknown)}"]})
    if rationale is not None:
        rationale = clean_text(rationale, limit=MAX_RATIONALE, field="rationale")
    study = participant.study
    if coded is None:
        current_year = timezone.now().year
        coded = {
            key: parse_answer(by_key[key], raw, current_year=current_year, horizon_year=study.horizon_year)
            for key, raw in (answers or {}).items()
        }
    for attempt in range(2):
        try:
            with transaction.atomic():
                # A shared lock: saves run side by side, but round_close waits for them,
                # so an accepted answer is always in the round.
                locked = round_answers_lock_shared(rnd.pk)
                _check_can_answer(participant=participant, rnd=locked, topic=topic)
                response, _ = Response.objects.get_or_create(round=locked, participant=participant, topic=topic)
                if rationale is not None and response.rationale != rationale:
                    response.rationale = rationale
                    response.save(update_fields=["rationale", "updated_at"])
                # Locked, in one order: a concurrent save of the same topic (another tab, the API) waits,
                # so the comparison below and the answers handed back are what is stored.
                existing = {a.question_id: a for a in response.answers.select_for_update().order_by("question_id")}
                for key, value in coded.items():
                    question = by_key[key]
                    current = existing.get(question.pk)
                    if value is None:
                        if current is not None:
                            current.delete()
                            del existing[question.pk]
                        continue
                    fields = {
                        "cant_judge": value.cant_judge,
                        "value_num": value.value_num,
                        "value_code": value.value_code,
                        "value_codes": value.value_codes,
                        "value_text": value.value_text,
                    }
                    if current is None:
                        existing[question.pk] = Answer.objects.create(response=response, question=question, **fields)
                    elif any(getattr(current, k) != v for k, v in fields.items()):
                        for k, v in fields.items():
                            setattr(current, k, v)
                        current.save(update_fields=list(fields))
                response.saved_answers = list(existing.values())
            break
        except IntegrityError:
            # Two identical submissions raced to create the same row: the second pass updates it.
            if attempt:
                raise
    else:
        raise AssertionError("unreachable")
    if study.mode == Study.Mode.REALTIME:
        # Real-time feedback is refreshed here, on a write, never on a page view (GET stays safe).
        rules = study.disclosure_rules()
        for key in sorted(coded):
            if by_key[key].qtype != Question.Type.TEXT:
                realtime_snapshot(rnd=rnd, topic=topic, question=by_key[key], rules=rules)
    return response


def round_submit(*, participant: Participant, rnd: Round) -> RoundCompletion:
    """Mark the participant's round as done (answers stay editable while the round is open)."""
    with transaction.atomic():
        locked = round_answers_lock_shared(rnd.pk)  # like autosave: side by side, and closing waits for it
        if locked.study_id != participant.study_id:
            raise PermissionDenied("This round belongs to another study.")
        if locked.status != Round.Status.OPEN:
            raise RoundClosed("This round is closed.")
        expertise = Question.objects.filter(study_id=participant.study_id, key="expertise").first()
        if expertise is not None:
            chosen = set(participant.topics.filter(pk__in=locked.topics.all()).values_list("pk", flat=True))
            answered = topics_with_answer(participant=participant, rnd=locked, question_id=expertise.pk)
            missing = chosen - answered
            if missing:
                names = ", ".join(sorted(Topic.objects.filter(pk__in=missing).values_list("name_en", flat=True))[:5])
                raise ValidationError(
                    f"Please answer at least your expertise on every topic ({len(missing)} left: {names})."
                )
        completion, _ = RoundCompletion.objects.get_or_create(
            round=locked, participant=participant, defaults={"submitted_at": timezone.now()}
        )
        if participant.status != Participant.Status.ACTIVE:
            Participant.objects.filter(pk=participant.pk).update(status=Participant.Status.ACTIVE)
    return completion
