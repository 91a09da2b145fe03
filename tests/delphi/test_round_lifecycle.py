"""Round states move by idempotent conditional transitions; rules freeze when round 1 opens."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from foresight.delphi.models import AuditLog, Participant, Round, Study
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
    study_update_rules(study=study, actor=None, k_threshold=7)
    round_open(rnd=round1)
    with pytest.raises(ValidationError, match="frozen"):
        study_update_rules(study=study, actor=None, k_threshold=3)
    with pytest.raises(ValidationError, match="frozen"):
        question_update(question=study.questions.get(key="importance"), actor=None, label_en="Changed")
    study.refresh_from_db()
    assert study.k_threshold == 7
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


def test_the_sweep_finds_closed_rounds(round1: Round) -> None:
    Round.objects.filter(pk=round1.pk).update(status=Round.Status.CLOSED)
    assert rounds_sweep() == [round1.pk]
