"""Writes the staff console needs beyond the other services: setting a study up, rule changes that keep
the draft rounds in step with the planned number, and queueing invitations, reminders and aggregation.

Queued work goes out after the audit line is committed (``foresight.core.queue``). The queueing services
are guarded by a short cache lock so that a double click (or two staff members at once) does not
e-mail a panel twice; a lock that is still held is a state conflict, reported as a ``ValidationError``
without a field (HTTP 409 in the console).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from foresight.catalog.models import Topic
from foresight.core import queue
from foresight.core.audit import audit_log
from foresight.core.errors import Conflict, error_message
from foresight.delphi.models import Participant, Round, Study
from foresight.delphi.services.panel import participants_to_remind
from foresight.delphi.services.rounds import round_extend, round_open
from foresight.delphi.services.studies import study_create, study_update_rules

logger = logging.getLogger(__name__)

# How long a "send" is remembered, so that a second click does not queue the same e-mails again.
INVITATIONS_LOCK_SECONDS = 300
REMINDERS_LOCK_SECONDS = 3600
AGGREGATION_LOCK_SECONDS = 60


def _lock(key: str, seconds: int, message: str) -> None:
    try:
        added = cache.add(key, 1, seconds)
    except Exception:  # the cache (Redis) is unreachable: go ahead without the double-click guard
        logger.warning("console lock unavailable for %s", key, exc_info=True)
        return
    if not added:
        raise Conflict(message)


def _unlock(key: str) -> None:
    try:
        cache.delete(key)
    except Exception:
        logger.warning("console lock unavailable for %s", key, exc_info=True)


@transaction.atomic
def study_setup(
    *,
    actor: Any,
    title_en: str,
    horizon_year: int,
    topics: Iterable[Topic],
    title_zh: str = "",
    description_en: str = "",
    organiser: str = "",
    contact_email: str = "",
    code: str | None = None,
    planned_rounds: int = 2,
    mode: str = Study.Mode.ROUNDS,
    anonymous: bool = True,
    k_threshold: int = 5,
    min_respondents: int = 10,
    min_high_respondents: int = 5,
    drop_consensus_topics: bool = True,
) -> Study:
    """Create a study from the console form: ``study_create`` plus the one rule it does not take."""
    study = study_create(
        title_en=title_en,
        title_zh=title_zh,
        description_en=description_en,
        organiser=organiser,
        contact_email=contact_email,
        horizon_year=horizon_year,
        topics=topics,
        planned_rounds=planned_rounds,
        mode=mode,
        k_threshold=k_threshold,
        min_respondents=min_respondents,
        min_high_respondents=min_high_respondents,
        anonymous=anonymous,
        created_by=actor,
        code=code or None,
    )
    if drop_consensus_topics != study.drop_consensus_topics:
        study = study_update_rules(study=study, actor=actor, drop_consensus_topics=drop_consensus_topics)
    return study


def study_rules_change(*, study: Study, actor: Any, **changes: Any) -> Study:
    """Change a study's rules and keep its draft rounds in step.

    1. ``study_update_rules`` (outside any outer transaction, so that a refusal after freeze stays audited);
    2. if the number of rounds or the mode changed, add the missing draft rounds and remove draft or
       scheduled rounds beyond the plan (real-time studies have one round).
    """
    study = study_update_rules(study=study, actor=actor, **changes)
    if {"planned_rounds", "mode"} & set(changes):
        _rounds_sync(study=study, actor=actor)
    return study


@transaction.atomic
def _rounds_sync(*, study: Study, actor: Any) -> None:
    # The study row lock serialises this with round_open's freeze: once frozen, rounds are left alone.
    locked = Study.objects.select_for_update().get(pk=study.pk)
    if locked.is_frozen:
        return
    target = 1 if locked.mode == Study.Mode.REALTIME else locked.planned_rounds
    numbers = set(Round.objects.filter(study=locked).values_list("number", flat=True))
    created = []
    for number in range(1, target + 1):
        if number in numbers:
            continue
        rnd = Round(study=locked, number=number, code=f"{locked.code}-r{number}")
        rnd.full_clean()
        rnd.save()
        if number == 1:
            rnd.topics.set(locked.topics.all())
        created.append(number)
    extra = Round.objects.filter(
        study=locked, number__gt=target, status__in=(Round.Status.DRAFT, Round.Status.SCHEDULED)
    )
    removed = sorted(extra.values_list("number", flat=True))
    if removed:
        extra.delete()
    if created or removed:
        audit_log(action="study_rounds_sync", actor=actor, study=locked, created=created, removed=removed)


def _check_after_scheduled_opening(*, rnd: Round, closes_at: datetime | None) -> None:
    """The database requires closes_at > opens_at; say so in words instead of failing on the constraint.

    Needed because round_open (opening early) and round_extend only compare the new closing time with now,
    while a scheduled round keeps its planned opening time.
    """
    opens_at = Round.objects.filter(pk=rnd.pk).values_list("opens_at", flat=True).first()
    if closes_at is not None and opens_at is not None and closes_at <= opens_at:
        when = timezone.localtime(opens_at).strftime("%Y-%m-%d %H:%M")
        raise ValidationError(
            {
                "closes_at": [
                    f"The closing time must be after the round's scheduled opening time ({when}); "
                    "reschedule the round first."
                ]
            }
        )


def round_open_now(*, rnd: Round, actor: Any, closes_at: datetime | None = None) -> bool:
    """``round_open`` from the console: a closing time before the scheduled opening is a clear error."""
    _check_after_scheduled_opening(rnd=rnd, closes_at=closes_at)
    return round_open(rnd=rnd, actor=actor, closes_at=closes_at)


def round_extend_checked(*, rnd: Round, actor: Any, closes_at: datetime) -> Round:
    """``round_extend`` from the console: a closing time before the scheduled opening is a clear error."""
    if closes_at <= timezone.now():
        raise ValidationError({"closes_at": ["The new closing time must be in the future."]})
    _check_after_scheduled_opening(rnd=rnd, closes_at=closes_at)
    return round_extend(rnd=rnd, closes_at=closes_at, actor=actor)


def _mail_batch(
    *,
    key: str,
    seconds: int,
    busy: str,
    select: Callable[[], list[int]],
    kind: str,
    action: str,
    actor: Any,
    base_url: str,
    **audit: Any,
) -> int:
    """Queue one e-mail of ``kind`` per selected participant after commit, audited, under a short-lived lock
    (``busy`` is the refusal while it holds) that is released at once if nothing was queued or on error."""
    _lock(key, seconds, busy)
    try:
        with transaction.atomic():
            ids = select()
            if ids:
                audit_log(action=action, actor=actor, count=len(ids), **audit)
            for pk in ids:
                queue.send_on_commit("delphi.invitation_send", pk, base_url, kind)
    except BaseException:
        _unlock(key)
        raise
    if not ids:
        _unlock(key)
    return len(ids)


def invitations_queue(*, study: Study, actor: Any, base_url: str) -> int:
    """Queue an invitation e-mail for every panel member never sent one (dropped-out members excepted).

    Returns how many were queued. Refused for a few minutes after a previous run, so a double click
    does not e-mail the panel twice while the first batch is still going out.
    """
    return _mail_batch(
        key=f"delphi:console:invitations:{study.pk}",
        seconds=INVITATIONS_LOCK_SECONDS,
        busy="Invitations for this study were queued less than five minutes ago; wait for them to go out.",
        select=lambda: list(
            Participant.objects.on_panel()
            .filter(study=study)
            .exclude(invitations__sent_at__isnull=False)
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
        kind="invite",
        action="invitations_queue",
        actor=actor,
        base_url=base_url,
        study=study,
    )


def reminders_queue(*, rnd: Round, actor: Any, base_url: str, lock_seconds: int = REMINDERS_LOCK_SECONDS) -> int:
    """Queue a reminder for everyone on the panel who has not submitted this open round (``participants_to_remind``).

    Refused while an earlier run's lock holds (``lock_seconds``, at most an hour), so one round's panel is
    never reminded twice in a row, whether by staff or by beat. ``actor`` None is the system (beat).
    """
    current = Round.objects.filter(pk=rnd.pk).values_list("status", flat=True).first()
    if current != Round.Status.OPEN:
        raise Conflict(f"Reminders go out only while a round is open; round {rnd.number} is {current}.")
    return _mail_batch(
        key=f"delphi:console:reminders:{rnd.pk}",
        seconds=max(1, min(lock_seconds, REMINDERS_LOCK_SECONDS)),
        busy="Reminders for this round were sent less than an hour ago.",
        select=lambda: [p.pk for p in participants_to_remind(rnd=rnd)],
        kind="reminder",
        action="reminders_queue",
        actor=actor,
        base_url=base_url,
        round=rnd,
    )


def reminders_queue_open_rounds(*, base_url: str, every: int | None = None) -> int:
    """Beat's reminders: ``reminders_queue`` for every open round, as the system (no actor).

    ``every``: beat's interval in seconds; the lock lasts at most half of it, so the next scheduled run
    is never refused by this one. A round whose reminders staff sent within the lock, or that closed
    meanwhile, is skipped. Returns how many reminders were queued.
    """
    lock_seconds = REMINDERS_LOCK_SECONDS if every is None else every // 2
    queued = 0
    for rnd in Round.objects.filter(status=Round.Status.OPEN).order_by("pk"):
        try:
            queued += reminders_queue(rnd=rnd, actor=None, base_url=base_url, lock_seconds=lock_seconds)
        except Conflict as exc:
            logger.info("reminders for round %s skipped: %s", rnd.pk, error_message(exc))
    return queued


def round_aggregate_queue(*, rnd: Round, actor: Any) -> None:
    """Queue the aggregation of a closed round (closing queues it already; this restarts a lost or stuck run)."""
    key = f"delphi:console:aggregate:{rnd.pk}"
    with transaction.atomic():
        locked = Round.objects.select_for_update().get(pk=rnd.pk)
        if locked.status != Round.Status.CLOSED:
            raise Conflict(
                f"Round {locked.number} is {locked.get_status_display().lower()}; only a closed round can be aggregated."
            )
        _lock(key, AGGREGATION_LOCK_SECONDS, "Aggregation of this round was started less than a minute ago.")
        audit_log(action="round_aggregate_queue", actor=actor, round=locked)
        queue.send_on_commit("delphi.round_aggregate", locked.pk)
