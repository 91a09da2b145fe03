"""Round states move by idempotent conditional transitions; rules freeze when round 1 opens."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from foresight.core.models import AuditLog
from foresight.delphi.models import Participant, Round, Study
from foresight.delphi.services.aggregation import round_aggregate
from foresight.delphi.services.responses import response_save, round_submit
from foresight.delphi.services.rounds import round_close, round_open, rounds_sweep
from foresight.delphi.services.studies import question_update, study_update_rules

pytestmark = pytest.mark.django_db


def test_opening_twice_is_a_no_op(round1: Round) -> None:
    assert round_open(rnd=round1) is True
    assert round_open(rnd=round1) is False
    assert AuditLog.objects.filter(action="round_open").count() == 1


def test_rules_freeze_when_round_1_opens(study: Study, round1: Round) -> None:
    study_update_rules(study=study, actor=None, k_threshold=7, min_respondents=12)
    round_open(rnd=round1)
    with pytest.raises(ValidationError, match="frozen"):
        study_update_rules(study=study, actor=None, k_threshold=3)
    with pytest.raises(ValidationError, match="frozen"):
        study_update_rules(study=study, actor=None, min_respondents=3, min_high_respondents=1)
    with pytest.raises(ValidationError, match="frozen"):
        question_update(question=study.questions.get(key="importance"), actor=None, label_en="Changed")
    study.refresh_from_db()
    assert (study.k_threshold, study.min_respondents, study.min_high_respondents) == (7, 12, 5)
    assert study.questions.get(key="importance").label_en != "Changed"
    assert AuditLog.objects.filter(action="study_rules_change_refused").exists()
    assert AuditLog.objects.filter(action="question_change_refused").exists()


def test_round_2_waits_for_round_1_aggregation(study: Study, round1: Round) -> None:
    round_open(rnd=round1)
    with pytest.raises(ValidationError, match="aggregated"):
        round_open(rnd=study.rounds.get(number=2))


def test_close_then_aggregate_is_idempotent(
    study: Study, round1: Round, alice: Participant, bob: Participant, django_capture_on_commit_callbacks: object
) -> None:
    round_open(rnd=round1)
    for who, value in ((alice, "4"), (bob, "5")):
        for topic in study.topics.all():
            response_save(participant=who, rnd=round1, topic=topic, answers={"expertise": "high", "importance": value})
        round_submit(participant=who, rnd=round1)
    assert round_close(rnd=round1) is True
    assert round_close(rnd=round1) is False
    assert round_aggregate(round_id=round1.pk) is True
    round1.refresh_from_db()
    first = round1.checksum
    assert round1.status == Round.Status.AGGREGATED and first
    assert round_aggregate(round_id=round1.pk) is False
    # Re-running from "closed" (as after a crash) gives the identical result.
    Round.objects.filter(pk=round1.pk).update(status=Round.Status.CLOSED)
    assert round_aggregate(round_id=round1.pk) is True
    round1.refresh_from_db()
    assert round1.checksum == first


def test_the_sweep_requeues_closed_rounds_after_a_grace_period(round1: Round, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from foresight.delphi import tasks

    queued: list[int] = []
    monkeypatch.setattr(tasks.round_aggregate, "delay", queued.append)
    now = timezone.now()
    Round.objects.filter(pk=round1.pk).update(status=Round.Status.CLOSED, closed_at=now)
    # Just closed: its own aggregation task is on the way.
    assert rounds_sweep(now=now) == [] and queued == []
    assert rounds_sweep(now=now + timedelta(minutes=2)) == [round1.pk]
    assert queued == [round1.pk]
    Round.objects.filter(pk=round1.pk).update(status=Round.Status.AGGREGATED)
    assert rounds_sweep(now=now + timedelta(minutes=5)) == []


def test_every_task_has_a_soft_limit_below_its_hard_limit() -> None:
    """Celery refuses to queue a task whose soft time limit exceeds its hard one (beat would queue nothing)."""
    from foresight.celery import app

    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert {"delphi.rounds_tick", "delphi.rounds_sweep", "delphi.reminders_send", "delphi.invitation_send"} <= set(ours)
    for name, task in ours.items():
        hard = task.time_limit or app.conf.task_time_limit
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        assert soft < hard, f"{name}: soft limit {soft} s is not below hard limit {hard} s"


def test_closing_times_must_follow_the_opening(round1: Round) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from foresight.delphi.services.rounds import round_extend, round_schedule

    now = timezone.now()
    round_schedule(rnd=round1, opens_at=now + timedelta(days=2), closes_at=now + timedelta(days=9))
    # Extending to before the scheduled opening is refused, not a database error.
    with pytest.raises(ValidationError, match="after the round opens"):
        round_extend(rnd=round1, closes_at=now + timedelta(days=1))
    # Opening early with a closing time before the scheduled opening: the round opens now.
    assert round_open(rnd=round1, closes_at=now + timedelta(days=1)) is True
    round1.refresh_from_db()
    assert round1.opens_at <= timezone.now() < round1.closes_at
