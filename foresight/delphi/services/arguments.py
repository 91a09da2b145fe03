"""Anonymous arguments: experts propose them while answering, moderators approve or reject them.

Only approved arguments are shown to other experts (in later rounds, or live in real-time mode),
and never with the author's pseudonym.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from foresight.catalog.models import Topic
from foresight.core.audit import audit_log
from foresight.core.text import clean_text
from foresight.delphi.models import Argument, Participant, Question, Round, Study
from foresight.delphi.services.panel import participant_require_taking_part
from foresight.delphi.services.responses import RoundClosed

MAX_ARGUMENT = 1000
# An expert may add at most this many arguments per topic and round (keeps moderation manageable).
MAX_PER_TOPIC = 5


def argument_add(
    *,
    participant: Participant,
    rnd: Round,
    topic: Topic,
    stance: str,
    text: str,
    question: Question | None = None,
) -> Argument:
    """Store a pending argument by an expert on a topic of an open round she answers."""
    errors: dict[str, list[str]] = {}
    if stance not in Argument.Stance.values:
        errors["stance"] = ["Choose “for” or “against”."]
    try:
        text = clean_text(text, limit=MAX_ARGUMENT, field="text")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    else:
        if not text:
            errors["text"] = ["Write the argument."]
    if question is not None and question.study_id != participant.study_id:
        errors["question"] = ["Unknown question."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Round.objects.select_for_update().get(pk=rnd.pk)
        if locked.study_id != participant.study_id:
            raise PermissionDenied("This round belongs to another study.")
        participant_require_taking_part(participant)
        if locked.status != Round.Status.OPEN:
            raise RoundClosed("This round is closed.")
        if not locked.topics.filter(pk=topic.pk).exists() or not participant.topics.filter(pk=topic.pk).exists():
            raise ValidationError({"topic": ["This topic is not among your topics in this round."]})
        if Argument.objects.filter(round=locked, topic=topic, participant=participant).count() >= MAX_PER_TOPIC:
            raise ValidationError({"text": [f"At most {MAX_PER_TOPIC} arguments per topic and round."]})
        return Argument.objects.create(
            round=locked, topic=topic, participant=participant, stance=stance, text=text, question=question
        )


def argument_moderate(*, argument: Argument, status: str, actor: Any) -> Argument:
    """Approve or reject an argument (staff). Idempotent; every decision is audited."""
    if status not in (Argument.Status.APPROVED, Argument.Status.REJECTED):
        raise ValidationError({"status": ["Approve or reject."]})
    with transaction.atomic():
        changed = (
            Argument.objects.filter(pk=argument.pk)
            .exclude(status=status)
            .update(status=status, moderated_by=actor if getattr(actor, "is_authenticated", False) else None)
        )
        argument.refresh_from_db()
        if changed:
            audit_log(
                action=f"argument_{status}",
                actor=actor,
                round=argument.round,
                argument=argument.pk,
                at=timezone.now().isoformat(),
            )
    return argument


def arguments_visible(*, rnd: Round, topic: Topic) -> list[Argument]:
    """Approved arguments an expert sees on a topic in ``rnd``: those of earlier rounds, plus this
    round's own in real-time mode (where there is only one round)."""
    qs = Argument.objects.filter(
        round__study_id=rnd.study_id, topic=topic, status=Argument.Status.APPROVED
    ).select_related("question")
    if rnd.study.mode == Study.Mode.REALTIME:
        qs = qs.filter(round__number__lte=rnd.number)
    else:
        qs = qs.filter(round__number__lt=rnd.number)
    return list(qs.order_by("stance", "created_at"))
