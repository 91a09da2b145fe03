"""Round lifecycle: draft → scheduled → open → closed → aggregated.

Every transition is a conditional UPDATE that must change exactly one row, so it is idempotent
and race-safe: a second call (a retried task, a double click, beat and a human at once) is a no-op.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from foresight.core import queue
from foresight.core.audit import audit_log
from foresight.core.errors import Conflict
from foresight.delphi.models import Round, Study

# Namespace of the PostgreSQL advisory locks that order answer writes against closing (key: round id).
ANSWERS_LOCK = 0x466F7265  # "Fore"


def round_answers_lock_shared(pk: int) -> Round:
    """Inside a transaction: hold the round open for a write of answers, and return its current state.

    Saves take a *shared* advisory lock on the round, so they run side by side; closing takes it
    *exclusively* (:func:`round_close`), so it waits for the saves in flight and an accepted answer is
    always in the round. PostgreSQL queues a new shared request behind a waiting exclusive one, so a
    steady stream of autosaves cannot starve the close (a row lock ``FOR SHARE`` could). SQLite runs
    one writer at a time anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", [ANSWERS_LOCK, pk])
    return Round.objects.get(pk=pk)


def _round_answers_lock_exclusive(pk: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ANSWERS_LOCK, pk])


def _transition(*, rnd: Round, from_states: tuple[str, ...], to_state: str, **fields: Any) -> bool:
    changed = Round.objects.filter(pk=rnd.pk, status__in=from_states).update(status=to_state, **fields)
    if changed:
        rnd.refresh_from_db()
    return changed == 1


@transaction.atomic
def round_schedule(*, rnd: Round, opens_at: datetime, closes_at: datetime, actor: Any = None) -> Round:
    if closes_at <= opens_at:
        raise ValidationError({"closes_at": ["A round must close after it opens."]})
    if not _transition(
        rnd=rnd,
        from_states=(Round.Status.DRAFT, Round.Status.SCHEDULED),
        to_state=Round.Status.SCHEDULED,
        opens_at=opens_at,
        closes_at=closes_at,
    ):
        raise Conflict(
            f"Round {rnd.number} is {rnd.get_status_display().lower()}; only a draft or scheduled round can be scheduled."
        )
    audit_log(
        action="round_schedule", actor=actor, round=rnd, opens_at=opens_at.isoformat(), closes_at=closes_at.isoformat()
    )
    return rnd


@transaction.atomic
def round_open(*, rnd: Round, actor: Any = None, closes_at: datetime | None = None) -> bool:
    """Open a round; returns False if it was already open (or past). Opening round 1 freezes the study's rules.

    1. round 2+ needs the previous round aggregated (its feedback is what experts see);
    2. the conditional update draft/scheduled → open;
    3. round 1: freeze the study's rules and questions, study → running.
    """
    rnd = Round.objects.select_related("study").get(pk=rnd.pk)
    if rnd.number > 1:
        previous = Round.objects.get(study=rnd.study_id, number=rnd.number - 1)
        if previous.status != Round.Status.AGGREGATED:
            raise Conflict(f"Round {rnd.number} can open only after round {previous.number} is aggregated.")
        if not rnd.topics.exists():
            raise Conflict("Every topic reached consensus in the previous round; there is nothing left to ask.")
    now = timezone.now()
    fields: dict[str, Any] = {"opened_at": now}
    if rnd.opens_at is None or rnd.opens_at > now:
        fields["opens_at"] = now  # opened early (or never scheduled): it opens now
    if closes_at is None and rnd.closes_at is not None and rnd.closes_at <= now:
        raise ValidationError({"closes_at": ["The scheduled closing time has passed; give a new one."]})
    if closes_at is not None:
        if closes_at <= now:
            raise ValidationError({"closes_at": ["The closing time must be in the future."]})
        fields["closes_at"] = closes_at
    if not _transition(
        rnd=rnd, from_states=(Round.Status.DRAFT, Round.Status.SCHEDULED), to_state=Round.Status.OPEN, **fields
    ):
        return False
    if rnd.number == 1:
        Study.objects.filter(pk=rnd.study_id, frozen_at__isnull=True).update(frozen_at=now, status=Study.Status.RUNNING)
    audit_log(action="round_open", actor=actor, round=rnd)
    return True


def round_close(*, rnd: Round, actor: Any = None) -> bool:
    """Close an open round and queue its aggregation after commit. False if it was not open."""
    with transaction.atomic():
        _round_answers_lock_exclusive(rnd.pk)  # waits for the saves in flight; later ones see it closed
        if not _transition(
            rnd=rnd, from_states=(Round.Status.OPEN,), to_state=Round.Status.CLOSED, closed_at=timezone.now()
        ):
            return False
        audit_log(action="round_close", actor=actor, round=rnd)
        queue.send_on_commit("delphi.round_aggregate", rnd.pk)
    return True


@transaction.atomic
def round_extend(*, rnd: Round, closes_at: datetime, actor: Any = None) -> Round:
    if closes_at <= timezone.now():
        raise ValidationError({"closes_at": ["The new closing time must be in the future."]})
    current = Round.objects.filter(pk=rnd.pk).values_list("opens_at", flat=True).first()
    if current is not None and closes_at <= current:
        raise ValidationError({"closes_at": ["The new closing time must be after the round opens."]})
    changed = Round.objects.filter(pk=rnd.pk, status__in=(Round.Status.OPEN, Round.Status.SCHEDULED)).update(
        closes_at=closes_at
    )
    if changed != 1:
        raise Conflict("Only a scheduled or open round can be extended.")
    rnd.refresh_from_db()
    audit_log(action="round_extend", actor=actor, round=rnd, closes_at=closes_at.isoformat())
    return rnd


def rounds_tick(*, now: datetime | None = None) -> dict[str, int]:
    """Open scheduled rounds whose time has come and close open rounds whose time is up (run by beat)."""
    now = now or timezone.now()
    opened = closed = 0
    for rnd in Round.objects.filter(status=Round.Status.SCHEDULED, opens_at__lte=now):
        try:
            opened += int(round_open(rnd=rnd))
        except ValidationError:
            continue  # e.g. previous round not aggregated yet: the next tick tries again
    for rnd in Round.objects.filter(status=Round.Status.OPEN, closes_at__lte=now):
        closed += int(round_close(rnd=rnd))
    return {"opened": opened, "closed": closed}


def _sweep_grace() -> timedelta:
    """A round closed less than this long ago has its aggregation task just queued: the sweep leaves it be."""
    return timedelta(seconds=settings.ROUNDS_SWEEP_GRACE_SECONDS)


def rounds_sweep(*, now: datetime | None = None) -> list[int]:
    """Re-queue aggregation of every closed round not yet aggregated (a lost or crashed task comes back).

    Rounds closed within the grace period (``ROUNDS_SWEEP_GRACE_SECONDS``) are skipped: their task is on its way. A duplicate that
    still slips through is harmless (aggregation is a conditional transition under a row lock).
    """
    now = now or timezone.now()
    ids = list(
        Round.objects.filter(status=Round.Status.CLOSED)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__lte=now - _sweep_grace()))
        .values_list("pk", flat=True)
    )
    for pk in ids:
        queue.send("delphi.round_aggregate", pk)
    return ids
