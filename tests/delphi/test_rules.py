"""Rules of the Delphi app that have one home each: the test here is the one that fails when the rule breaks."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from foresight.catalog.models import Topic
from foresight.core.errors import Conflict, error_status
from foresight.delphi import answers, forms
from foresight.delphi.models import Answer, Expert, Participant, Question, Round, Study
from foresight.delphi.services import responses
from foresight.delphi.services.panel import invitation_create, participant_add, participant_choose_topics
from foresight.delphi.services.rounds import round_open

pytestmark = pytest.mark.django_db


def test_taking_part_means_consented_and_not_dropped(study: Study) -> None:
    """``Participant.takes_part`` and ``Participant.objects.taking_part()`` say the same: consented, not dropped."""
    cases: dict[Any, bool] = {}
    for consented in (False, True):
        for status in Participant.Status.values:
            expert = Expert.objects.create(email=f"{status}-{consented}@example.org", name="X", sector="university")
            participant = participant_add(study=study, expert=expert)
            participant.status = status
            participant.consent_at = timezone.now() if consented else None
            participant.save()
            cases[participant.pk] = consented and status != Participant.Status.DROPPED
            assert participant.takes_part is cases[participant.pk], (consented, status)
    taking_part = set(Participant.objects.filter(study=study).taking_part().values_list("pk", flat=True))
    assert taking_part == {pk for pk, takes in cases.items() if takes}
    on_panel = set(Participant.objects.filter(study=study).on_panel().values_list("pk", flat=True))
    assert on_panel == set(Participant.objects.exclude(status=Participant.Status.DROPPED).values_list("pk", flat=True))


@pytest.mark.parametrize("second_round", [Round.Status.OPEN, Round.Status.CLOSED, Round.Status.AGGREGATED])
def test_topics_are_fixed_once_a_second_round_has_started(study: Study, alice: Participant, second_round: str) -> None:
    """The service refuses (409) whoever calls it; the page shows the service's refusal and changes nothing."""
    bci = Topic.objects.filter(code="bci")
    before = set(alice.topics.values_list("pk", flat=True))
    participant_choose_topics(participant=alice, topics=bci)  # round 1 (open or not): free to change
    participant_choose_topics(participant=alice, topics=Topic.objects.filter(pk__in=before))
    Round.objects.filter(study=study, number=1).update(status=Round.Status.AGGREGATED)
    Round.objects.update_or_create(study=study, number=2, defaults={"code": f"{study.code}-r2", "status": second_round})
    with pytest.raises(Conflict) as caught:
        participant_choose_topics(participant=alice, topics=bci)
    assert error_status(caught.value) == 409
    browser = Client()
    browser.post(f"/delphi/{study.code}/join/", {"t": invitation_create(participant=alice)})
    page = browser.post(f"/delphi/{study.code}/topics/", {"topics": [bci.get().pk]})
    assert page.status_code == 409
    assert "fixed once the second round has started" in page.content.decode()
    assert set(alice.topics.values_list("pk", flat=True)) == before


def test_the_questionnaire_parses_each_posted_answer_once_and_stores_it_as_parsed(
    study: Study, round1: Round, alice: Participant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The form parses every field on its own (a bad one is reported, the others saved) and the service
    stores those parsed values: no second parse."""
    round_open(rnd=round1)
    parsed: list[str] = []

    def counting(question: Question, raw: Any, **kwargs: Any) -> Any:
        parsed.append(question.key)
        return answers.parse_answer(question, raw, **kwargs)

    monkeypatch.setattr(forms, "parse_answer", counting)
    monkeypatch.setattr(responses, "parse_answer", counting)
    browser = Client()
    browser.post(f"/delphi/{study.code}/join/", {"t": invitation_create(participant=alice)})
    page = browser.post(
        f"/delphi/{study.code}/round/1/bci/save/",
        {"expertise": "high", "importance": "4", "tech_year": "soon"},
        HTTP_HX_REQUEST="true",
    )
    assert page.status_code == 400 and 'id="error-tech_year"' in page.content.decode()
    assert sorted(parsed) == ["expertise", "importance", "tech_year"]
    stored = {a.question.key: (a.value_code, a.value_num) for a in Answer.objects.filter(response__participant=alice)}
    assert stored == {"expertise": ("high", None), "importance": ("4", 4.0)}


def test_beats_reminders_go_through_the_console_service_to_those_who_have_not_finished_once(
    study: Study,
    round1: Round,
    alice: Participant,
    bob: Participant,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``tasks.reminders_send`` (beat) queues through ``reminders_queue``: only the panel members who have
    not submitted the open round, audited as the system, and a second run within the lock sends nothing."""
    from django.core import mail

    from foresight.celery import app
    from foresight.core.models import AuditLog
    from foresight.delphi import tasks
    from foresight.delphi.services.console import reminders_queue
    from foresight.delphi.services.responses import response_save, round_submit

    participant_add(
        study=study, expert=Expert.objects.create(email="carol@example.org", name="Carol", sector="company")
    )  # invited, not yet consented: reminded
    dan = participant_add(
        study=study, expert=Expert.objects.create(email="dan@example.org", name="Dan", sector="other")
    )
    Participant.objects.filter(pk=dan.pk).update(status=Participant.Status.DROPPED)
    monkeypatch.setattr(app.conf, "task_always_eager", True)  # the e-mails go out in-process, never to a broker
    round_open(rnd=round1)
    for topic in alice.topics.all():
        response_save(participant=alice, rnd=round1, topic=topic, answers={"expertise": "high"})
    round_submit(participant=alice, rnd=round1)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.reminders_send(every=3 * 24 * 3600) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["bob@example.org", "carol@example.org"]
    line = AuditLog.objects.get(action="reminders_queue")
    assert line.actor is None and line.round_id == round1.pk and line.details["count"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.reminders_send(every=3 * 24 * 3600) == 0  # the next run within the lock: nobody twice
    with pytest.raises(Conflict):
        reminders_queue(rnd=round1, actor=None, base_url="http://testserver")
    assert len(mail.outbox) == 2 and AuditLog.objects.filter(action="reminders_queue").count() == 1
