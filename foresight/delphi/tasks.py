"""Celery tasks: thin wrappers that take ids, re-fetch, and return quietly if there is nothing to do.

Idempotent first (every service they call is a conditional state change), then acks_late with
task_reject_on_worker_lost, so a task whose worker died is delivered again.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from foresight.delphi.models import Participant
from foresight.delphi.services import aggregation, panel, rounds
from foresight.delphi.services.console import reminders_queue_open_rounds

TASK_OPTIONS: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(
    name="delphi.round_aggregate",
    time_limit=settings.AGGREGATION_TIME_LIMIT,
    soft_time_limit=max(1, settings.AGGREGATION_TIME_LIMIT - 60)
    if settings.AGGREGATION_TIME_LIMIT > 120
    else max(1, settings.AGGREGATION_TIME_LIMIT - 2),
    **TASK_OPTIONS,
)
def round_aggregate(round_id: int) -> bool:
    return aggregation.round_aggregate(round_id=round_id)


@shared_task(name="delphi.rounds_tick", time_limit=300, soft_time_limit=280, **TASK_OPTIONS)
def rounds_tick() -> dict[str, int]:
    return rounds.rounds_tick()


@shared_task(name="delphi.rounds_sweep", time_limit=300, soft_time_limit=280, **TASK_OPTIONS)
def rounds_sweep() -> list[int]:
    return rounds.rounds_sweep()


@shared_task(name="delphi.invitation_send", time_limit=120, soft_time_limit=100, **TASK_OPTIONS)
def invitation_send(participant_id: int, base_url: str, kind: str = "invite") -> None:
    participant = Participant.objects.select_related("expert", "study").filter(pk=participant_id).first()
    if participant is None or participant.status == Participant.Status.DROPPED:
        return
    panel.invitation_send(participant=participant, base_url=base_url, kind=kind)


@shared_task(name="delphi.reminders_send", time_limit=600, soft_time_limit=570, **TASK_OPTIONS)
def reminders_send(base_url: str = "", every: int | None = None) -> int:
    """Remind everyone who has not finished an open round (scheduled by beat every ``every`` seconds),
    through the console's service: locked against a second run and audited like staff's reminders."""
    return reminders_queue_open_rounds(base_url=base_url or settings.SITE_URL, every=every)


@shared_task(name="delphi.invitation_reissue", time_limit=120, soft_time_limit=100, **TASK_OPTIONS)
def invitation_reissue(study_code: str, email: str, base_url: str) -> bool:
    """A new link for a panel member who asked for one on the study's page (nothing for anyone else)."""
    return panel.invitation_reissue(study_code=study_code, email=email, base_url=base_url)
