"""The staff console: Sam (a superuser) runs a study from the browser; Stella is staff without the right to
moderate; Olivia is a logged-in user who is not staff. Experts Alice and Bob (and friends) are on the panel.

Pages never show a pseudonym, an individual answer or an argument's author; every number on them is a count
or a figure aggregation stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from foresight.catalog.models import Topic
from foresight.core.models import AuditLog
from foresight.delphi.models import (
    Argument,
    Expert,
    Invitation,
    Participant,
    Question,
    Round,
    RoundStat,
    Study,
)
from foresight.delphi.selectors import round_kendall_by_area
from foresight.delphi.services.aggregation import round_aggregate
from foresight.delphi.services.arguments import argument_add
from foresight.delphi.services.panel import invitation_create, participant_add
from foresight.delphi.services.responses import response_save, round_submit
from foresight.delphi.services.rounds import round_close, round_open
from foresight.delphi.services.studies import study_create, study_update_rules
from foresight.delphi.staff import selectors
from foresight.numbers import display
from tests.conftest import cache_clear
from tests.delphi.conftest import cell, make_participant

pytestmark = pytest.mark.django_db

TOPICS = ["humanoid-robots", "quantum-computing", "bci", "6g"]


# --- People and plumbing -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _eager_celery(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tasks queued on commit run in-process here: nothing in this module ever reaches a shared broker."""
    from foresight.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", True)
    monkeypatch.setattr(app.conf, "task_eager_propagates", True)
    yield


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """reverse() follows the thread's active language, which a request to /zh-hans/ leaves behind."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def sam(db: Any) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("sam", "sam@example.org", "a-long-password-1"))
    return client


@pytest.fixture
def sam_user(sam: Client) -> User:
    return User.objects.get(username="sam")


@pytest.fixture
def stella(db: Any) -> Client:
    client = Client()
    client.force_login(User.objects.create_user("stella", "stella@example.org", "a-long-password-2", is_staff=True))
    return client


@pytest.fixture
def olivia(db: Any) -> Client:
    client = Client()
    client.force_login(User.objects.create_user("olivia", "olivia@example.org", "a-long-password-3"))
    return client


def html(response: Any) -> str:
    return response.content.decode()


def answer_all(
    participant: Participant, rnd: Round, importance: str, submit: bool = True, competitiveness: str | None = None
) -> None:
    """Expertise, importance and competitiveness (the same as importance unless given) on each of her topics."""
    rnd.refresh_from_db()
    answers = {"expertise": "high", "importance": importance, "competitiveness": competitiveness or importance}
    for topic in participant.topics.filter(pk__in=rnd.topics.all()):
        response_save(participant=participant, rnd=rnd, topic=topic, answers=answers)
    if submit:
        round_submit(participant=participant, rnd=rnd)


def local(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def argument(study: Study, round1: Round, alice: Participant) -> Argument:
    round_open(rnd=round1)
    return argument_add(
        participant=alice,
        rnd=round1,
        topic=Topic.objects.get(code="bci"),
        stance="pro",
        text="Clinical trials are already under way.",
    )


def every_url(study: Study, rnd: Round, argument: Argument) -> tuple[list[str], list[str]]:
    """(GET pages, POST actions) of the console."""
    code, rcode = study.code, rnd.code
    gets = [
        reverse("staff:study-list"),
        reverse("staff:study-create"),
        reverse("staff:study", args=[code]),
        reverse("staff:study-settings", args=[code]),
        reverse("staff:study-panel", args=[code]),
        reverse("staff:study-results", args=[code]),
        reverse("staff:study-arguments", args=[code]),
        reverse("staff:round-progress", args=[rcode]),
    ]
    posts = [
        reverse("staff:study-create"),
        reverse("staff:study-rules", args=[code]),
        reverse("staff:question-update", args=[code, "importance"]),
        reverse("staff:question-remove", args=[code, "importance"]),
        reverse("staff:panel-import", args=[code]),
        reverse("staff:invitations-send", args=[code]),
        reverse("staff:argument-moderate", args=[code, argument.pk]),
        reverse("staff:round-schedule", args=[rcode]),
        reverse("staff:round-open", args=[rcode]),
        reverse("staff:round-close", args=[rcode]),
        reverse("staff:round-extend", args=[rcode]),
        reverse("staff:reminders-send", args=[rcode]),
        reverse("staff:round-aggregate", args=[rcode]),
    ]
    return gets, posts


# --- Access -------------------------------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_the_admin_login(study: Study, round1: Round, argument: Argument) -> None:
    gets, posts = every_url(study, round1, argument)
    visitor = Client()
    for url in gets:
        response = visitor.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/?next="), url
    for url in posts:
        response = visitor.post(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url
    # An expired session polling by htmx is sent to the login as a whole page, not swapped into the card.
    polled = visitor.get(reverse("staff:round-progress", args=[round1.code]), HTTP_HX_REQUEST="true")
    assert polled["HX-Redirect"].startswith("/admin/login/")
    round1.refresh_from_db()
    assert round1.status == Round.Status.OPEN


def test_a_logged_in_user_who_is_not_staff_gets_403(
    olivia: Client, study: Study, round1: Round, argument: Argument
) -> None:
    gets, posts = every_url(study, round1, argument)
    for url in gets:
        assert olivia.get(url).status_code == 403, url
    for url in posts:
        assert olivia.post(url).status_code == 403, url
    round1.refresh_from_db()
    assert round1.status == Round.Status.OPEN


def test_staff_read_every_page_and_no_page_shows_a_pseudonym(
    sam: Client, study: Study, round1: Round, alice: Participant, bob: Participant, argument: Argument
) -> None:
    answer_all(alice, round1, "4")
    gets, _ = every_url(study, round1, argument)
    for url in gets:
        headers = {"HTTP_HX_REQUEST": "true"} if "progress" in url else {}
        response = sam.get(url, **headers)
        assert response.status_code == 200, url
        for person in (alice, bob):
            assert person.pseudonym not in html(response), url
    assert "Clinical trials are already under way." in html(sam.get(gets[6]))
    # The Chinese console is the same console.
    assert sam.get(f"/zh-hans{reverse('staff:study', args=[study.code])}").status_code == 200


def test_state_changing_views_are_post_only(sam: Client, study: Study, round1: Round, argument: Argument) -> None:
    _, posts = every_url(study, round1, argument)
    for url in posts:
        if url == reverse("staff:study-create"):
            continue  # the create page is also its form (GET shows it)
        assert sam.get(url).status_code == 405, url


def test_every_post_needs_the_csrf_token(study: Study, round1: Round) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(User.objects.create_superuser("sam", "sam@example.org", "a-long-password-1"))
    response = strict.post(reverse("staff:round-open", args=[round1.code]))
    assert response.status_code == 403
    round1.refresh_from_db()
    assert round1.status == Round.Status.DRAFT
    # The pages carry the token for forms and for htmx (hx-headers on <body>).
    page = html(strict.get(reverse("staff:study", args=[study.code])))
    assert "csrfmiddlewaretoken" in page and "X-CSRFToken" in page


def test_moderation_needs_the_moderator_role(stella: Client, study: Study, round1: Round, argument: Argument) -> None:
    # Staff status alone opens nothing: not the study, not its arguments.
    assert stella.get(reverse("staff:study", args=[study.code])).status_code == 403
    assert stella.get(reverse("staff:study-arguments", args=[study.code])).status_code == 403
    url = reverse("staff:argument-moderate", args=[study.code, argument.pk])
    assert stella.post(url, {"status": "approved"}).status_code == 403
    argument.refresh_from_db()
    assert argument.status == Argument.Status.PENDING
    # As a moderator she sees the study and its arguments, and moderates; nothing else opens.
    User.objects.get(username="stella").groups.add(Group.objects.get(name="Moderator"))
    page = html(stella.get(reverse("staff:study", args=[study.code])))
    assert reverse("staff:study-arguments", args=[study.code]) in page
    assert reverse("staff:study-panel", args=[study.code]) not in page
    assert stella.get(reverse("staff:study-panel", args=[study.code])).status_code == 403
    assert stella.post(url, {"status": "approved"}).status_code == 302
    argument.refresh_from_db()
    assert argument.status == Argument.Status.APPROVED


# --- Creating and configuring a study --------------------------------------------------------------------------


def test_sam_creates_a_study_through_the_form(sam: Client, sam_user: User, catalog: Any) -> None:
    page = sam.get(reverse("staff:study-create"))
    assert 'name="topics" value="humanoid-robots"' in html(page)
    response = sam.post(
        reverse("staff:study-create"),
        {
            "title_en": "Future industries 2040",
            "title_zh": "未来产业2040",
            "code": "fi-2040",
            "horizon_year": "2040",
            "planned_rounds": "3",
            "mode": "rounds",
            "anonymous": "on",
            "k_threshold": "4",
            "min_respondents": "12",
            "min_high_respondents": "6",
            # drop_consensus_topics unticked
            "topics": ["humanoid-robots", "6g"],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:study", args=["fi-2040"])
    study = Study.objects.get(code="fi-2040")
    assert study.title_zh == "未来产业2040"
    assert (study.horizon_year, study.planned_rounds, study.k_threshold) == (2040, 3, 4)
    assert (study.min_respondents, study.min_high_respondents) == (12, 6)
    assert study.anonymous is True and study.drop_consensus_topics is False
    assert study.created_by == sam_user
    assert sorted(study.topics.values_list("code", flat=True)) == ["6g", "humanoid-robots"]
    assert list(study.rounds.values_list("number", flat=True)) == [1, 2, 3]
    assert study.questions.filter(key="importance").exists()
    assert AuditLog.objects.filter(action="study_create", study=study, actor=sam_user).exists()
    assert "Study created" in html(sam.get(response["Location"]))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"k_threshold": "2"}, "greater than or equal to 3"),
        ({"min_respondents": "0"}, "greater than or equal to 1"),
        ({"min_high_respondents": ""}, "This field is required"),
        ({"topics": []}, "Choose at least one topic"),
        ({"topics": ["no-such-topic"]}, "not a topic that can be surveyed"),
        ({"horizon_year": "twenty-forty"}, "Enter a whole number"),
        ({"code": "nf-2050"}, "already exists"),
    ],
)
def test_a_bad_study_form_is_400_and_creates_nothing(
    sam: Client, study: Study, change: dict[str, Any], message: str
) -> None:
    data = {
        "title_en": "Another",
        "horizon_year": "2040",
        "planned_rounds": "2",
        "mode": "rounds",
        "k_threshold": "5",
        "min_respondents": "10",
        "min_high_respondents": "5",
        "topics": ["bci"],
        **change,
    }
    before = Study.objects.count()
    response = sam.post(reverse("staff:study-create"), data)
    assert response.status_code == 400
    assert message in html(response)
    assert Study.objects.count() == before


def test_rules_change_before_round_1_and_rounds_follow_the_plan(sam: Client, sam_user: User, study: Study) -> None:
    data = {
        "horizon_year": "2050",
        "planned_rounds": "3",
        "mode": "rounds",
        "anonymous": "on",
        "k_threshold": "7",
        "drop_consensus_topics": "on",
        "prefill_previous": "on",
        "session_hours": "24",
        "scale_iqr_max": "1.0",
        "top2_min": "0.75",
        "bottom2_max": "0.15",
        "year_iqr_max": "5",
        "weight_high": "1",
        "weight_medium": "0.6",
        "weight_low": "0.3",
        "min_respondents": "10",
        "min_high_respondents": "5",
        "stable_share_changed_max": "0.15",
        "stable_p_min": "0.05",
    }
    response = sam.post(reverse("staff:study-rules", args=[study.code]), data)
    assert response.status_code == 302
    study.refresh_from_db()
    assert study.k_threshold == 7 and study.planned_rounds == 3
    assert study.consensus_rule["top2_min"] == 0.75
    assert list(study.rounds.values_list("number", flat=True)) == [1, 2, 3]
    change = AuditLog.objects.get(action="study_rules_change", study=study)
    assert change.actor == sam_user and change.details["after"]["k_threshold"] == 7
    # Back to two rounds: the extra draft round goes.
    sam.post(reverse("staff:study-rules", args=[study.code]), {**data, "planned_rounds": "2"})
    assert list(study.rounds.values_list("number", flat=True)) == [1, 2]
    # A bad value: 400 and nothing changes.
    response = sam.post(reverse("staff:study-rules", args=[study.code]), {**data, "top2_min": "1.5"})
    assert response.status_code == 400
    assert "less than or equal to 1" in html(response)
    study.refresh_from_db()
    assert study.consensus_rule["top2_min"] == 0.75


def test_rule_change_is_refused_after_round_1_opens_and_audited(sam: Client, study: Study, round1: Round) -> None:
    assert sam.post(reverse("staff:round-open", args=[round1.code])).status_code == 302
    settings_page = html(sam.get(reverse("staff:study-settings", args=[study.code])))
    assert "frozen" in settings_page and 'name="k_threshold"' not in settings_page
    data = {
        "horizon_year": "2050",
        "planned_rounds": "2",
        "mode": "rounds",
        "anonymous": "on",
        "k_threshold": "3",
        "drop_consensus_topics": "on",
        "prefill_previous": "on",
        "session_hours": "24",
        "scale_iqr_max": "1",
        "top2_min": "0.7",
        "bottom2_max": "0.15",
        "year_iqr_max": "5",
        "weight_high": "1",
        "weight_medium": "0.6",
        "weight_low": "0.3",
        "min_respondents": "10",
        "min_high_respondents": "5",
        "stable_share_changed_max": "0.15",
        "stable_p_min": "0.05",
    }
    response = sam.post(reverse("staff:study-rules", args=[study.code]), data)
    assert response.status_code == 409
    assert "frozen when round 1 opened" in html(response)
    study.refresh_from_db()
    assert study.k_threshold == 5
    refused = AuditLog.objects.get(action="study_rules_change_refused", study=study)
    assert refused.actor.username == "sam"
    # Questions are frozen too.
    response = sam.post(
        reverse("staff:question-update", args=[study.code, "importance"]), {"label_en": "Changed after freeze"}
    )
    assert response.status_code == 409
    assert study.questions.get(key="importance").label_en != "Changed after freeze"
    assert AuditLog.objects.filter(action="question_change_refused").exists()
    assert sam.post(reverse("staff:question-remove", args=[study.code, "uncertainty"])).status_code == 409
    assert study.questions.filter(key="uncertainty").exists()


RULES = {
    "horizon_year": "2050",
    "planned_rounds": "2",
    "mode": "rounds",
    "realtime_feedback_after_own_answer": "on",
    "anonymous": "on",
    "k_threshold": "5",
    "drop_consensus_topics": "on",
    "prefill_previous": "on",
    "session_hours": "24",
    "scale_iqr_max": "1",
    "top2_min": "0.7",
    "bottom2_max": "0.15",
    "year_iqr_max": "5",
    "weight_high": "1",
    "weight_medium": "0.6",
    "weight_low": "0.3",
    "min_respondents": "10",
    "min_high_respondents": "5",
    "stable_share_changed_max": "0.15",
    "stable_p_min": "0.05",
}


def test_sam_sets_minimum_evidence_and_the_stopping_rule_before_round_1(
    sam: Client, sam_user: User, study: Study
) -> None:
    # An older study stored only the first stopping key: the form shows the defaults of the others.
    Study.objects.filter(pk=study.pk).update(stopping_rule={"stop_when_all_consensus": 1.0})
    page = html(sam.get(reverse("staff:study-settings", args=[study.code])))
    assert 'name="stable_share_changed_max" value="0.15"' in page and 'name="stable_p_min" value="0.05"' in page
    assert 'name="min_respondents" value="10"' in page and 'name="min_high_respondents" value="5"' in page
    assert "insufficient evidence" in page and "needs no further round" in page  # the help texts
    data = {**RULES, "min_respondents": "15", "min_high_respondents": "7", "stable_share_changed_max": "0.2"}
    data["stable_p_min"] = "0.1"
    response = sam.post(reverse("staff:study-rules", args=[study.code]), data)
    assert response.status_code == 302
    study.refresh_from_db()
    assert (study.min_respondents, study.min_high_respondents) == (15, 7)
    assert study.stopping_rule == {"stop_when_all_consensus": 1.0, "stable_share_changed_max": 0.2, "stable_p_min": 0.1}
    assert study.disclosure_rules().min_high == 7
    change = AuditLog.objects.get(action="study_rules_change", study=study)
    assert change.actor == sam_user and change.details["after"]["min_respondents"] == 15
    assert change.details["after"]["stopping_rule"]["stable_p_min"] == 0.1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"min_respondents": "0"}, "greater than or equal to 1"),
        ({"min_high_respondents": "many"}, "Enter a whole number"),
        ({"min_high_respondents": "10001"}, "less than or equal to 10000"),
        ({"stable_share_changed_max": "1.5"}, "less than or equal to 1"),
        ({"stable_p_min": "-0.01"}, "greater than or equal to 0"),
        ({"stable_p_min": "nan"}, "Enter a number"),
        ({"stable_share_changed_max": ""}, "This field is required"),
    ],
)
def test_bad_minimum_evidence_or_stopping_values_are_400_and_change_nothing(
    sam: Client, study: Study, change: dict[str, str], message: str
) -> None:
    before = (study.min_respondents, study.min_high_respondents, dict(study.stopping_rule))
    response = sam.post(reverse("staff:study-rules", args=[study.code]), {**RULES, **change})
    assert response.status_code == 400
    assert message in html(response)
    study.refresh_from_db()
    assert (study.min_respondents, study.min_high_respondents, study.stopping_rule) == before
    assert not AuditLog.objects.filter(action="study_rules_change").exists()


def test_the_service_refuses_a_stopping_rule_outside_0_to_1(study: Study) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="from 0 to 1"):
        study_update_rules(study=study, actor=None, stopping_rule={"stable_share_changed_max": 2})
    study.refresh_from_db()
    assert study.stopping_rule == {"stable_share_changed_max": 0.15, "stable_p_min": 0.05}


def test_minimum_evidence_and_the_stopping_rule_freeze_when_round_1_opens(
    sam: Client, study: Study, round1: Round
) -> None:
    assert sam.post(reverse("staff:round-open", args=[round1.code])).status_code == 302
    page = html(sam.get(reverse("staff:study-settings", args=[study.code])))
    assert 'name="min_respondents"' not in page and 'name="stable_p_min"' not in page
    assert 'data-rule="min_respondents">10<' in page and 'data-rule="min_high_respondents">5<' in page
    assert "<code>stable_share_changed_max</code> = 0.15 · <code>stable_p_min</code> = 0.05" in page
    for change in ({"min_respondents": "3"}, {"min_high_respondents": "2"}, {"stable_p_min": "0.2"}):
        response = sam.post(reverse("staff:study-rules", args=[study.code]), {**RULES, **change})
        assert response.status_code == 409, change
        assert "frozen when round 1 opened" in html(response)
    study.refresh_from_db()
    assert (study.min_respondents, study.min_high_respondents) == (10, 5)
    assert study.stopping_rule == {"stable_share_changed_max": 0.15, "stable_p_min": 0.05}
    refused = AuditLog.objects.filter(action="study_rules_change_refused", study=study)
    assert refused.count() == 3
    assert sorted(refused.order_by("pk").first().details["changes"]) == ["min_respondents"]


def test_questions_are_reworded_and_removed_before_freeze(sam: Client, study: Study) -> None:
    url = reverse("staff:question-update", args=[study.code, "importance"])
    response = sam.post(url, {"label_en": "Importance for the nation", "label_zh": "对国家的重要性", "help_en": "1–5"})
    assert response.status_code == 302
    question = study.questions.get(key="importance")
    assert (question.label_en, question.label_zh, question.help_en) == (
        "Importance for the nation",
        "对国家的重要性",
        "1–5",
    )
    assert AuditLog.objects.filter(action="question_change", details__question="importance").exists()
    # An empty label is refused and changes nothing.
    response = sam.post(url, {"label_en": ""})
    assert response.status_code == 400
    assert Question.objects.get(pk=question.pk).label_en == "Importance for the nation"
    # Remove an optional question; the required expertise question cannot go.
    assert sam.post(reverse("staff:question-remove", args=[study.code, "ethics"])).status_code == 302
    assert not study.questions.filter(key="ethics").exists()
    response = sam.post(reverse("staff:question-remove", args=[study.code, "expertise"]))
    assert response.status_code == 400
    assert "expertise question is required" in html(response)
    assert sam.post(reverse("staff:question-remove", args=[study.code, "no-such-key"])).status_code == 404


# --- Rounds -----------------------------------------------------------------------------------------------------


def test_sam_schedules_opens_extends_and_closes_a_round(
    sam: Client, sam_user: User, study: Study, round1: Round
) -> None:
    response = sam.post(
        reverse("staff:round-schedule", args=[round1.code]),
        {"opens_at": "2031-03-01T09:00", "closes_at": "2031-03-15T18:30"},
    )
    assert response.status_code == 302
    round1.refresh_from_db()
    assert round1.status == Round.Status.SCHEDULED
    assert round1.opens_at == datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
    assert round1.closes_at == datetime(2031, 3, 15, 18, 30, tzinfo=UTC)
    assert AuditLog.objects.filter(action="round_schedule").get().actor == sam_user
    page = html(sam.get(reverse("staff:study", args=[study.code])))
    assert "2031-03-15 18:30" in page and 'value="2031-03-01T09:00"' in page

    # Opening early with a closing time before the scheduled opening would break the round's dates: 400.
    closes = timezone.now() + timedelta(days=10)
    response = sam.post(reverse("staff:round-open", args=[round1.code]), {"closes_at": local(closes)})
    assert response.status_code == 400
    assert "scheduled opening time (2031-03-01 09:00)" in html(response)
    assert Round.objects.get(pk=round1.pk).status == Round.Status.SCHEDULED

    soon = timezone.now() + timedelta(days=1)
    response = sam.post(
        reverse("staff:round-schedule", args=[round1.code]),
        {"opens_at": local(soon), "closes_at": local(soon + timedelta(days=3))},
    )
    assert response.status_code == 302
    response = sam.post(reverse("staff:round-open", args=[round1.code]), {"closes_at": local(closes)})
    assert response.status_code == 302
    round1.refresh_from_db()
    study.refresh_from_db()
    assert round1.status == Round.Status.OPEN and study.is_frozen
    assert round1.closes_at == closes.replace(second=0, microsecond=0)
    assert AuditLog.objects.get(action="round_open").actor == sam_user

    later = timezone.now() + timedelta(days=20)
    response = sam.post(reverse("staff:round-extend", args=[round1.code]), {"closes_at": local(later)})
    assert response.status_code == 302
    round1.refresh_from_db()
    assert round1.closes_at == later.replace(second=0, microsecond=0)
    assert AuditLog.objects.get(action="round_extend").actor == sam_user

    response = sam.post(reverse("staff:round-close", args=[round1.code]))
    assert response.status_code == 302
    round1.refresh_from_db()
    assert round1.status == Round.Status.CLOSED
    assert AuditLog.objects.get(action="round_close").actor == sam_user
    assert "Round 1 is closed" in html(sam.get(response["Location"]))


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("round-schedule", {"opens_at": "not a date", "closes_at": "2031-03-15T18:30"}, "Enter a date and time"),
        ("round-schedule", {"opens_at": "2031-03-15T18:30", "closes_at": "2031-03-01T09:00"}, "close after it opens"),
        ("round-schedule", {"opens_at": "2031-13-40T25:99", "closes_at": "2031-03-01T09:00"}, "Enter a date and time"),
        ("round-schedule", {"closes_at": "2031-03-01T09:00"}, "This field is required"),
        ("round-open", {"closes_at": "2020-01-01T00:00"}, "must be in the future"),
        ("round-open", {"closes_at": "31/12/2031"}, "Enter a date and time"),
    ],
)
def test_bad_datetimes_are_400_and_change_nothing(
    sam: Client, round1: Round, action: str, data: dict[str, str], message: str
) -> None:
    response = sam.post(reverse(f"staff:{action}", args=[round1.code]), data)
    assert response.status_code == 400
    assert message in html(response)
    round1.refresh_from_db()
    assert round1.status == Round.Status.DRAFT and round1.opens_at is None and round1.closes_at is None
    assert not AuditLog.objects.filter(action__startswith="round_").exists()


def test_extending_into_the_past_is_400(sam: Client, round1: Round) -> None:
    round_open(rnd=round1)
    round1.refresh_from_db()
    response = sam.post(reverse("staff:round-extend", args=[round1.code]), {"closes_at": "2001-01-01T00:00"})
    assert response.status_code == 400
    assert "must be in the future" in html(response)
    assert sam.post(reverse("staff:round-extend", args=[round1.code]), {"closes_at": ""}).status_code == 400
    assert Round.objects.get(pk=round1.pk).closes_at == round1.closes_at
    assert not AuditLog.objects.filter(action="round_extend").exists()


def test_state_conflicts_are_409(sam: Client, study: Study, round1: Round) -> None:
    # Closing a round that is not open.
    response = sam.post(reverse("staff:round-close", args=[round1.code]))
    assert response.status_code == 409
    assert "only an open round can be closed" in html(response)
    assert Round.objects.get(pk=round1.pk).status == Round.Status.DRAFT
    # Round 2 cannot open before round 1 is aggregated.
    round2 = study.rounds.get(number=2)
    response = sam.post(reverse("staff:round-open", args=[round2.code]))
    assert response.status_code == 409
    assert "after round 1 is aggregated" in html(response)
    # Opening twice, extending a closed round, reminding for a closed round, aggregating an open round.
    assert sam.post(reverse("staff:round-open", args=[round1.code])).status_code == 302
    assert sam.post(reverse("staff:round-open", args=[round1.code])).status_code == 409
    assert sam.post(reverse("staff:round-aggregate", args=[round1.code])).status_code == 409
    assert sam.post(reverse("staff:round-close", args=[round1.code])).status_code == 302
    future = local(timezone.now() + timedelta(days=3))
    assert sam.post(reverse("staff:round-extend", args=[round1.code]), {"closes_at": future}).status_code == 409
    assert sam.post(reverse("staff:reminders-send", args=[round1.code])).status_code == 409
    assert (
        sam.post(
            reverse("staff:round-schedule", args=[round1.code]), {"opens_at": future, "closes_at": future}
        ).status_code
        == 400
    )
    assert AuditLog.objects.filter(action="round_open").count() == 1
    assert sam.post(reverse("staff:round-close", args=["no-such-round"])).status_code == 404


# --- Panel ---------------------------------------------------------------------------------------------------------


GOOD_CSV = (
    b"email,name,sector,country,organisation,areas\n"
    b"carol@example.org,Carol Chen,company,CN,Robotics Ltd,\n"
    b"dan@example.org,Dan Diaz,government,DE,,\n"
)


def upload(content: bytes, name: str = "panel.csv") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_a_good_csv_puts_experts_on_the_panel(sam: Client, study: Study) -> None:
    response = sam.post(reverse("staff:panel-import", args=[study.code]), {"file": upload(GOOD_CSV)})
    assert response.status_code == 302
    assert set(Participant.objects.filter(study=study).values_list("expert__email", flat=True)) == {
        "carol@example.org",
        "dan@example.org",
    }
    page = html(sam.get(response["Location"]))
    assert "2 new expert(s)" in page
    assert "Carol Chen" in page and "dan@example.org" in page
    for participant in Participant.objects.filter(study=study):
        assert participant.pseudonym not in page
    assert AuditLog.objects.filter(action="panel_import", actor__username="sam").exists()


def test_a_csv_with_one_bad_row_stores_nothing_and_names_the_row(sam: Client, study: Study) -> None:
    bad = GOOD_CSV + b"erin@example.org,Erin,astrologer,FR,,\n"
    response = sam.post(reverse("staff:panel-import", args=[study.code]), {"file": upload(bad)})
    assert response.status_code == 400
    page = html(response)
    assert 'data-line="4"' in page and "sector must be one of" in page
    assert "nothing was imported" in page
    assert not Expert.objects.exists() and not Participant.objects.exists()
    # No file at all, or a file that is not UTF-8 text.
    assert sam.post(reverse("staff:panel-import", args=[study.code]), {}).status_code == 400
    response = sam.post(reverse("staff:panel-import", args=[study.code]), {"file": upload("é".encode("latin-1"))})
    assert response.status_code == 400 and "not UTF-8" in html(response)
    assert not Participant.objects.exists()


def test_invitations_go_to_everyone_never_sent_one(
    sam: Client, study: Study, alice: Participant, bob: Participant, django_capture_on_commit_callbacks: Any
) -> None:
    # Alice already has a sent invitation; Bob and Carol do not.
    invitation_create(participant=alice)
    Invitation.objects.filter(participant=alice).update(sent_at=timezone.now())
    carol = participant_add(
        study=study, expert=Expert.objects.create(email="carol@example.org", name="Carol", sector="company")
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = sam.post(reverse("staff:invitations-send", args=[study.code]))
    assert response.status_code == 302
    assert len(callbacks) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["bob@example.org", "carol@example.org"]
    assert Invitation.objects.filter(participant=carol, sent_at__isnull=False).count() == 1
    assert AuditLog.objects.get(action="invitations_queue").details["count"] == 2
    # A second click within minutes queues nothing and says why.
    response = sam.post(reverse("staff:invitations-send", args=[study.code]))
    assert response.status_code == 409
    assert "less than five minutes ago" in html(response)
    # Later, there is nobody left to invite.
    cache_clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = sam.post(reverse("staff:invitations-send", args=[study.code]))
    assert response.status_code == 302 and not callbacks
    assert len(mail.outbox) == 2
    page = html(sam.get(reverse("staff:study-panel", args=[study.code])))
    assert "0 panel members have never been sent an invitation" in page
    for person in (alice, bob, carol):
        assert person.pseudonym not in page


def test_reminders_go_to_those_who_have_not_submitted_an_open_round(
    sam: Client,
    study: Study,
    round1: Round,
    alice: Participant,
    bob: Participant,
    django_capture_on_commit_callbacks: Any,
) -> None:
    round_open(rnd=round1)
    answer_all(alice, round1, "4")
    with django_capture_on_commit_callbacks(execute=True):
        response = sam.post(reverse("staff:reminders-send", args=[round1.code]))
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["bob@example.org"]]
    assert "Reminder" in mail.outbox[0].subject
    assert Invitation.objects.get(participant=bob).kind == "reminder"
    assert AuditLog.objects.get(action="reminders_queue").actor.username == "sam"
    assert sam.post(reverse("staff:reminders-send", args=[round1.code])).status_code == 409
    assert len(mail.outbox) == 1


# --- Participation --------------------------------------------------------------------------------------------------


def test_response_rate_per_round_and_sector_matches_the_panel(
    sam: Client, study: Study, round1: Round, alice: Participant, bob: Participant
) -> None:
    """Alice (university) submits; Bob (company) answers one topic; Carol (company) never consents;
    Dan (government) consents and does nothing. Only Alice's invitation e-mail has gone out."""
    carol = participant_add(
        study=study, expert=Expert.objects.create(email="carol@example.org", name="Carol", sector="company")
    )
    dan = make_participant(study, "dan@example.org", sector="government")
    invitation_create(participant=alice)
    Invitation.objects.filter(participant=alice).update(sent_at=timezone.now())
    round_open(rnd=round1)
    answer_all(alice, round1, "4")
    response_save(participant=bob, rnd=round1, topic=Topic.objects.get(code="bci"), answers={"expertise": "low"})

    page = html(sam.get(reverse("staff:study", args=[study.code])))
    expected = {
        "university": {"invited": 1, "emailed": 1, "consented": 1, "answered": 1, "submitted": 1, "rate": "100.0 %"},
        "company": {"invited": 2, "emailed": 0, "consented": 1, "answered": 1, "submitted": 0, "rate": "0.0 %"},
        "government": {"invited": 1, "emailed": 0, "consented": 1, "answered": 0, "submitted": 0, "rate": "0.0 %"},
        "all": {"invited": 4, "emailed": 1, "consented": 3, "answered": 2, "submitted": 1, "rate": "25.0 %"},
    }
    for sector, figures in expected.items():
        for name, value in figures.items():
            assert cell(page, f"r1:{sector}:{name}") == str(value), (sector, name)
    assert 'data-cell="r1:public_research:invited"' not in page  # sectors nobody is in are not listed
    assert 'hx-trigger="every 30s"' in page  # live while the round is open
    # The htmx poll gets only the participation region.
    partial = html(sam.get(reverse("staff:study", args=[study.code]), HTTP_HX_REQUEST="true"))
    assert partial.lstrip().startswith('<section id="participation"') and "<html" not in partial
    for person in (alice, bob, carol, dan):
        assert person.pseudonym not in page and person.pseudonym not in partial


def test_attrition_counts_who_submitted_round_1_but_not_round_2(
    sam: Client, study: Study, round1: Round, alice: Participant, bob: Participant
) -> None:
    study_update_rules(study=study, actor=None, drop_consensus_topics=False)
    round_open(rnd=round1)
    answer_all(alice, round1, "4")
    answer_all(bob, round1, "5")
    round_close(rnd=round1)
    round_aggregate(round_id=round1.pk)
    round2 = study.rounds.get(number=2)
    round_open(rnd=round2)
    answer_all(alice, round2, "4")

    page = html(sam.get(reverse("staff:study", args=[study.code])))
    assert cell(page, "r2:all:previous") == "2"
    assert cell(page, "r2:all:lost") == "1"
    assert cell(page, "r2:all:attrition") == "50.0 %"
    assert cell(page, "r2:company:lost") == "1"
    assert cell(page, "r2:university:lost") == "0"
    assert cell(page, "r2:university:attrition") == "0.0 %"
    assert cell(page, "r1:all:submitted") == "2"
    rounds = selectors.round_list_for_study(study=study)
    by_round = {rp.round.number: rp for rp in selectors.study_participation(study=study, rounds=rounds)}
    assert by_round[2].total.lost == 1 and by_round[2].total.previous_submitted == 2


def test_submitted_counts_only_experts_with_a_topic_in_the_round(
    sam: Client, study: Study, round1: Round, alice: Participant
) -> None:
    """Carol chose only BCI, which reached consensus and left round 2: with nothing to answer there, her
    "submission" of round 2 (the API accepts it) is no response, and the count says whom it is out of."""
    carol = make_participant(study, "carol@example.org", topics=["bci"])
    round_open(rnd=round1)
    answer_all(alice, round1, "4")
    answer_all(carol, round1, "4")
    round_close(rnd=round1)
    round_aggregate(round_id=round1.pk)
    round2 = study.rounds.get(number=2)
    round2.topics.remove(Topic.objects.get(code="bci"))  # as if it had reached consensus (drop_consensus_topics)
    round_open(rnd=round2)
    answer_all(alice, round2, "4")
    round_submit(participant=carol, rnd=round2)

    page = html(sam.get(reverse("staff:study", args=[study.code])))
    assert cell(page, "r2:all:submitted") == "1"
    assert cell(page, "r1:all:submitted") == "2"
    assert cell(page, "r1:all:with_topics") == "of 2 with topics in this round"
    assert cell(page, "r2:all:with_topics") == "of 1 with topics in this round"
    assert cell(page, "r2:university:submitted") == "1"
    rounds = selectors.round_list_for_study(study=study)
    by_round = {rp.round.number: rp for rp in selectors.study_participation(study=study, rounds=rounds)}
    assert (by_round[2].total.submitted, by_round[2].total.with_topics) == (1, 1)
    chinese = html(sam.get("/zh-hans" + reverse("staff:study", args=[study.code])))
    assert "with topics in this round" not in chinese


# --- Consensus and stability -----------------------------------------------------------------------------------------


def test_the_consensus_overview_shows_the_released_figures_and_suppresses_small_cells(
    sam: Client, study: Study, round1: Round
) -> None:
    """k = 3, so no figure rests on fewer than t = 4 respondents. Four experts rate humanoid robots and 6G in
    two rounds; only three (= k) rate quantum computing; a fifth expert joins 6G in round 2 alone."""
    study_update_rules(study=study, actor=None, k_threshold=3, drop_consensus_topics=False)
    experts = [
        make_participant(
            study,
            f"e{i}@example.org",
            sector=sector,
            topics=["humanoid-robots", "6g"] + (["quantum-computing"] if i < 3 else []),
        )
        for i, sector in enumerate(["university", "company", "government", "company"])
    ]
    newcomer = make_participant(study, "e4@example.org", sector="university", topics=["6g"])
    round_open(rnd=round1)
    for participant, value in zip(experts, ["3", "4", "5", "5"], strict=True):
        answer_all(participant, round1, value)
    round_close(rnd=round1)
    assert round_aggregate(round_id=round1.pk)
    round2 = study.rounds.get(number=2)
    round_open(rnd=round2)
    for participant, value in zip([*experts, newcomer], ["4", "4", "5", "5", "5"], strict=True):
        answer_all(participant, round2, value)
    round_close(rnd=round2)
    assert round_aggregate(round_id=round2.pk)

    pages = {}
    for rnd in (round1, round2):
        rnd.refresh_from_db()
        response = sam.get(reverse("staff:study-results", args=[study.code]), {"round": rnd.number})
        assert response.status_code == 200
        page = pages[rnd.number] = html(response)
        stat = RoundStat.objects.get(round=rnd, topic__code="humanoid-robots", question__key="importance", group="all")
        assert cell(page, "humanoid-robots:n") == str(rnd.summary["topics"]["humanoid-robots"]["n"]) == "4"
        assert cell(page, "humanoid-robots:median") == display(stat.data["median"], "quantile")
        assert cell(page, "humanoid-robots:iqr") == display(stat.data["iqr"], "quantile")
        assert (
            cell(page, "humanoid-robots:quartiles")
            == f"{display(stat.data['q1'], 'quantile')}–{display(stat.data['q3'], 'quantile')}"
        )
        assert cell(page, "humanoid-robots:index") == display(stat.data["index"], "index")
        assert cell(page, "humanoid-robots:top2") == display(stat.data["top2"], "share", percent=True)
        # Both index items are released, so the verdicts are shown: per item and for the topic.
        consensus = rnd.summary["topics"]["humanoid-robots"]["consensus"]
        assert rnd.summary["topics"]["humanoid-robots"]["consensus_items"] == {
            "importance": consensus,
            "competitiveness": consensus,
        }
        assert cell(page, "humanoid-robots:consensus") == ("consensus" if consensus else "no consensus")
        assert cell(page, "humanoid-robots:consensus:importance") == ("✓" if stat.data["consensus"] else "✗")
        # Three respondents (= k) on quantum computing, none on BCI: suppressed, no figure and no verdict at all.
        assert RoundStat.objects.filter(
            round=rnd, topic__code="quantum-computing", question__key="importance", group="all", n=3
        ).exists()
        for code in ("quantum-computing", "bci"):
            assert cell(page, f"{code}:suppressed") == "suppressed: too few respondents"
            assert cell(page, f"{code}:n") == "&lt; 4"
            for figure in ("median", "consensus", "change", "social_lag"):
                assert f'data-cell="{code}:{figure}"' not in page
            assert cell(page, f"{code}:stopping") == "undetermined"
        for participant in [*experts, newcomer]:
            assert participant.pseudonym not in page
    assert (
        round1.summary["topics"]["humanoid-robots"]["consensus"],
        round2.summary["topics"]["humanoid-robots"]["consensus"],
    ) == (False, True)

    # Round 1 has nothing to compare with; round 2 shows the change aggregation stored, on the paired respondents.
    assert cell(pages[1], "humanoid-robots:first-round") == "first round"
    stability = RoundStat.objects.get(
        round=round2, topic__code="humanoid-robots", question__key="importance", group="all"
    ).data["stability"]
    assert stability["n_paired"] == 4 and stability["share_changed"] == 0.25
    page = pages[2]
    assert cell(page, "humanoid-robots:share_changed") == "25.0 %"
    assert cell(page, "humanoid-robots:delta_iqr") == display(stability["delta_iqr"], "quantile")
    assert cell(page, "humanoid-robots:change") == (
        f"{display(stability['median_before'], 'quantile')} ({display(stability['iqr_before'], 'quantile')}) → "
        f"{display(stability['median_after'], 'quantile')} ({display(stability['iqr_after'], 'quantile')}), n = 4"
    )
    assert cell(page, "humanoid-robots:wilcoxon_p") == display(stability["wilcoxon_p"], "p_value")
    method = {"exact": "exact", "exact_conditional": "exact (ties)", "normal": "normal approx."}
    assert cell(page, "humanoid-robots:wilcoxon_method") == method.get(stability.get("wilcoxon_method"), "–")
    # On 6G the newcomer alone joined in round 2 (1 < t): its figures are shown, its change is not.
    sixg = RoundStat.objects.get(round=round2, topic__code="6g", question__key="importance", group="all")
    assert sixg.n == 5 and sixg.data["stability"]["n_paired"] == 4
    assert cell(page, "6g:median") == display(sixg.data["median"], "quantile")
    assert cell(page, "6g:stability-suppressed") == "suppressed: too few respondents left or joined between rounds"
    assert 'data-cell="6g:share_changed"' not in page
    # The stopping rule: humanoid robots and 6G reached consensus in round 2; round 2 was the last planned.
    assert [cell(page, f"{code}:stopping") for code in ("humanoid-robots", "6g")] == ["met: consensus"] * 2
    assert cell(page, "stopping") == "After round 2 the stopping rule is met: the planned rounds are done."
    assert cell(pages[1], "humanoid-robots:stopping") == "not met"
    assert cell(pages[1], "stopping") == (
        "After round 1 the stopping rule is not met: 2 topics still move, so another round is needed."
    )
    # No area has two topics in this study: no Kendall's W.
    assert cell(pages[1], "kendall:none") == "No area has two topics in this round."
    # The latest aggregated round is the default; a round that is not aggregated is 404; a bad value 400.
    assert 'aria-current="page">Round 2' in html(sam.get(reverse("staff:study-results", args=[study.code])))
    assert sam.get(reverse("staff:study-results", args=[study.code]), {"round": 7}).status_code == 404
    assert sam.get(reverse("staff:study-results", args=[study.code]), {"round": "x"}).status_code == 400


def test_a_consensus_verdict_is_not_shown_when_the_figures_it_comes_from_are_withheld(
    sam: Client, study: Study, round1: Round
) -> None:
    """Four experts (t = 4 with k = 3) answer on BCI, one of them "can't judge" its importance: importance rests
    on three answers (= k) and is withheld, and so is every verdict computed from it."""
    study_update_rules(study=study, actor=None, k_threshold=3)
    experts = [make_participant(study, f"n{i}@example.org", topics=["bci"]) for i in range(4)]
    bci = Topic.objects.get(code="bci")
    round_open(rnd=round1)
    for i, participant in enumerate(experts):
        importance = "cant_judge" if i == 3 else "5"
        answers = {"expertise": "high", "importance": importance, "competitiveness": "5"}
        response_save(participant=participant, rnd=round1, topic=bci, answers=answers)
        round_submit(participant=participant, rnd=round1)
    round_close(rnd=round1)
    assert round_aggregate(round_id=round1.pk)
    round1.refresh_from_db()
    # Aggregation's own verdict, from the three answers of 5, would say "consensus".
    assert round1.summary["topics"]["bci"]["consensus_items"] == {"importance": True, "competitiveness": True}
    assert RoundStat.objects.get(round=round1, topic=bci, question__key="importance", group="all").n == 3

    page = html(sam.get(reverse("staff:study-results", args=[study.code])))
    assert cell(page, "bci:n") == "4"
    assert cell(page, "bci:importance-suppressed") == "suppressed: too few respondents"
    assert cell(page, "bci:consensus") == "not shown"
    assert cell(page, "bci:consensus-reason") == "too few respondents"
    assert cell(page, "bci:consensus:importance") == "not shown (too few respondents)"
    assert cell(page, "bci:consensus:competitiveness") == "✓"
    assert cell(page, "bci:stopping") == "undetermined"
    assert "0 topics reached consensus." in page
    overview = selectors.round_consensus_overview(rnd=round1)
    row = next(t for t in overview.topics if t.topic.code == "bci")
    assert (row.n, row.importance, row.consensus, row.consensus_reason) == (4, None, None, "small_group")


def test_kendall_w_per_area_is_shown_over_k_plus_1_raters_and_suppressed_over_k(
    sam: Client, catalog: Any, django_assert_max_num_queries: Any
) -> None:
    """Two areas with two topics each (k = 3, so t = 4): four experts rate both intelligent-robot topics,
    three (= k) rate both quantum topics."""
    study = study_create(
        title_en="Robots and qubits",
        horizon_year=2045,
        code="rq-2045",
        k_threshold=3,
        topics=Topic.objects.filter(
            code__in=["humanoid-robots", "embodied-ai", "quantum-computing", "quantum-communication"]
        ),
    )
    robots = [make_participant(study, f"r{i}@example.org", topics=["humanoid-robots", "embodied-ai"]) for i in range(4)]
    qubits = [
        make_participant(study, f"q{i}@example.org", topics=["quantum-computing", "quantum-communication"])
        for i in range(3)
    ]
    rnd = study.rounds.get(number=1)
    round_open(rnd=rnd)
    rated = [
        *zip(robots, [("5", "2"), ("4", "2"), ("5", "3"), ("3", "4")], strict=True),
        *zip(qubits, [("5", "1"), ("4", "2"), ("2", "5")], strict=True),
    ]
    for participant, (first, second) in rated:
        pair = (
            ("humanoid-robots", "embodied-ai")
            if participant in robots
            else ("quantum-computing", "quantum-communication")
        )
        for code, value in zip(pair, (first, second), strict=True):
            response_save(
                participant=participant,
                rnd=rnd,
                topic=Topic.objects.get(code=code),
                answers={"expertise": "medium", "importance": value},
            )
        round_submit(participant=participant, rnd=rnd)
    round_close(rnd=rnd)
    assert round_aggregate(round_id=rnd.pk)
    rnd.refresh_from_db()
    stored = rnd.summary["kendall_importance_by_area"]
    assert (stored["intelligent-robots"]["raters"], stored["quantum-information"]["raters"]) == (4, 3)
    assert stored["quantum-information"]["w"] is not None

    url = reverse("staff:study-results", args=[study.code])
    with django_assert_max_num_queries(16):
        page = html(sam.get(url))
    robots_w = stored["intelligent-robots"]
    assert cell(page, "kendall:intelligent-robots") == display(robots_w["w"], "coefficient")
    assert cell(page, "kendall:intelligent-robots:chi2") == display(robots_w["chi2"], "statistic")
    assert cell(page, "kendall:intelligent-robots:df") == str(robots_w["df"]) == "1"
    assert cell(page, "kendall:intelligent-robots:p") == display(robots_w["p_value"], "p_value")
    assert cell(page, "kendall:intelligent-robots:raters") == "4"
    assert cell(page, "kendall:intelligent-robots:topics") == "2"
    assert cell(page, "kendall:quantum-information") == "suppressed: too few experts rated every topic of the area"
    assert cell(page, "kendall:quantum-information:topics") == "2"
    for figure in ("chi2", "df", "p", "raters"):
        assert f'data-cell="kendall:quantum-information:{figure}"' not in page
    rows = {row["area"].slug: row for row in round_kendall_by_area(rnd=rnd)}
    assert rows["quantum-information"]["suppressed"] == "small_group" and "w" not in rows["quantum-information"]
    assert rows["intelligent-robots"]["w"] == robots_w["w"]


# --- Moderation ---------------------------------------------------------------------------------------------------


def test_moderators_approve_and_reject_arguments_by_htmx_without_seeing_authors(
    sam: Client, sam_user: User, study: Study, argument: Argument, alice: Participant
) -> None:
    page = html(sam.get(reverse("staff:study-arguments", args=[study.code])))
    assert argument.text in page and alice.pseudonym not in page
    assert alice.expert.name not in page and alice.expert.email not in page
    url = reverse("staff:argument-moderate", args=[study.code, argument.pk])
    row = html(sam.post(url, {"status": "approved"}, HTTP_HX_REQUEST="true"))
    assert row.lstrip().startswith(f'<tr id="argument-{argument.pk}"')
    assert 'data-status="approved"' in row and alice.pseudonym not in row
    argument.refresh_from_db()
    assert argument.status == Argument.Status.APPROVED and argument.moderated_by == sam_user
    assert AuditLog.objects.filter(action="argument_approved", actor=sam_user).exists()
    # Without htmx: a redirect back to the queue.
    response = sam.post(url, {"status": "rejected", "back": "approved"})
    assert response.status_code == 302 and response["Location"].endswith("?status=approved")
    argument.refresh_from_db()
    assert argument.status == Argument.Status.REJECTED
    assert AuditLog.objects.filter(action="argument_rejected").exists()
    rejected = html(sam.get(reverse("staff:study-arguments", args=[study.code]), {"status": "rejected"}))
    assert argument.text in rejected and alice.pseudonym not in rejected
    # A decision that is neither: 400 and nothing changes. An argument of another study: 404.
    assert sam.post(url, {"status": "published"}).status_code == 400
    assert Argument.objects.get(pk=argument.pk).status == Argument.Status.REJECTED
    assert (
        sam.post(reverse("staff:argument-moderate", args=[study.code, 999999]), {"status": "approved"}).status_code
        == 404
    )


# --- Aggregation ---------------------------------------------------------------------------------------------------


def test_start_aggregation_queues_the_task_and_progress_polls_until_done(
    sam: Client,
    study: Study,
    round1: Round,
    alice: Participant,
    bob: Participant,
    django_capture_on_commit_callbacks: Any,
) -> None:
    round_open(rnd=round1)
    answer_all(alice, round1, "4")
    answer_all(bob, round1, "5")
    round_close(rnd=round1)  # its own queued aggregation is dropped with the test transaction: a "lost" task
    Round.objects.filter(pk=round1.pk).update(aggregation_progress=40)
    progress_url = reverse("staff:round-progress", args=[round1.code])
    card = html(sam.get(progress_url, HTTP_HX_REQUEST="true"))
    assert card.lstrip().startswith('<article id="round-1"')
    assert 'hx-trigger="every 2s"' in card and 'value="40"' in card
    assert "Start aggregation" in card
    overview = html(sam.get(reverse("staff:study", args=[study.code])))
    assert f'hx-get="{progress_url}"' in overview and f'href="{progress_url}"' not in overview
    # Without htmx the progress address leads to the dashboard.
    assert sam.get(progress_url).status_code == 302

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = sam.post(reverse("staff:round-aggregate", args=[round1.code]))
    assert response.status_code == 302 and len(callbacks) == 1
    round1.refresh_from_db()
    assert round1.status == Round.Status.AGGREGATED and round1.aggregation_progress == 100
    assert AuditLog.objects.get(action="round_aggregate_queue").actor.username == "sam"
    card = html(sam.get(progress_url, HTTP_HX_REQUEST="true"))
    assert "hx-trigger" not in card and 'value="100"' in card and "Done." in card
    for person in (alice, bob):
        assert person.pseudonym not in card
    # Aggregated: starting again is a conflict.
    assert sam.post(reverse("staff:round-aggregate", args=[round1.code])).status_code == 409


def test_closing_through_the_console_aggregates_once_the_close_commits(
    sam: Client, round1: Round, alice: Participant, django_capture_on_commit_callbacks: Any
) -> None:
    round_open(rnd=round1)
    answer_all(alice, round1, "4")
    with django_capture_on_commit_callbacks(execute=True):
        assert sam.post(reverse("staff:round-close", args=[round1.code])).status_code == 302
    round1.refresh_from_db()
    assert round1.status == Round.Status.AGGREGATED


# --- Query budgets ------------------------------------------------------------------------------------------------


def test_list_pages_cost_a_fixed_number_of_queries(
    sam: Client, study: Study, round1: Round, django_assert_max_num_queries: Any
) -> None:
    round_open(rnd=round1)
    for i in range(30):
        participant = make_participant(study, f"x{i}@example.org", sector=["university", "company"][i % 2])
        answer_all(participant, round1, "4")
        argument_add(
            participant=participant, rnd=round1, topic=Topic.objects.get(code="6g"), stance="pro", text=f"Reason {i}"
        )
    for url in (
        reverse("staff:study-list"),
        reverse("staff:study", args=[study.code]),
        reverse("staff:study-panel", args=[study.code]),
        reverse("staff:study-arguments", args=[study.code]),
        reverse("staff:study-settings", args=[study.code]),
    ):
        with django_assert_max_num_queries(14):
            assert sam.get(url).status_code == 200


def test_the_panel_list_filters_by_sector_and_name(
    sam: Client, study: Study, alice: Participant, bob: Participant
) -> None:
    url = reverse("staff:study-panel", args=[study.code])
    page = html(sam.get(url, {"sector": "company"}, HTTP_HX_REQUEST="true"))
    assert "bob@example.org" in page and "alice@example.org" not in page
    assert "<html" not in page
    page = html(sam.get(url, {"q": "alice"}))
    assert "alice@example.org" in page and "bob@example.org" not in page
    assert sam.get(url, {"sector": "astrology"}).status_code == 400


# --- Named managers -------------------------------------------------------------------------------------------


def test_a_study_manager_names_the_managers_and_cannot_lock_herself_out(study: Study) -> None:
    from foresight.core.models import AuditLog
    from tests.factories import staff_user

    mia, max_ = staff_user("mia", "Study manager"), staff_user("max", "Study manager")
    ana, cu = staff_user("ana", "Analyst"), staff_user("cu", "Curator")
    client = Client()
    client.force_login(mia)
    url = reverse("staff:study-managers", args=[study.code])
    page = html(client.get(reverse("staff:study-settings", args=[study.code])))
    assert "Open to every staff member whose role fits." in page
    # Offered: whoever has a role that works on studies (not a curator of the catalog).
    assert f'value="{max_.pk}"' in page and f'value="{ana.pk}"' in page and f'value="{cu.pk}"' not in page
    # Naming others but not herself, someone whose role does not work on studies, or values that cannot be
    # staff: 400, nothing changes.
    response = client.post(url, {"managers": [max_.pk]})
    assert response.status_code == 400 and "Name yourself too" in html(response)
    for bad in ([mia.pk, cu.pk], [mia.pk, "9223372036854775808"], [mia.pk, "x"], [mia.pk, "٣"]):
        response = client.post(url, {"managers": bad})
        assert response.status_code == 400, bad
        assert "is not a staff member whose role works on studies" in html(response)
    assert not study.managers.exists()
    # Someone must run the rounds: a list without a study manager is refused (here, from a superuser).
    root = Client()
    root.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    response = root.post(url, {"managers": [ana.pk]})
    assert response.status_code == 400 and "Name at least one study manager" in html(response)
    # Naming herself, max and the analyst: saved and audited; the study is then closed to everyone else.
    assert client.post(url, {"managers": [mia.pk, max_.pk, ana.pk]}).status_code == 302
    assert set(study.managers.values_list("username", flat=True)) == {"mia", "max", "ana"}
    entry = AuditLog.objects.filter(action="study_managers_change", study=study).get()
    assert entry.actor == mia and entry.details == {"before": [], "after": ["ana", "max", "mia"]}
    other = Client()
    other.force_login(staff_user("zoe", "Study manager"))
    assert other.get(reverse("staff:study", args=[study.code])).status_code == 403
    assert "Open only to: ana, max, mia." in html(client.get(reverse("staff:study-settings", args=[study.code])))
    # Naming nobody opens it to every study manager again.
    assert client.post(url, {}).status_code == 302
    assert other.get(reverse("staff:study", args=[study.code])).status_code == 200
