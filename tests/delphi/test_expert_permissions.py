"""Every expert endpoint, as an outsider, as an expert of another study, and as an expert whose round is closed.

Outsiders and other studies' experts get 404 (nothing to learn, not even that the study exists);
a closed round's expert can read her answers but every write answers 409. Nothing changes in any case.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from foresight.catalog.models import Topic
from foresight.delphi.models import Answer, Argument, Participant, Response, Round, RoundCompletion, Study
from foresight.delphi.services.panel import invitation_create
from foresight.delphi.services.rounds import round_close, round_open
from foresight.delphi.services.studies import study_create
from tests.delphi.conftest import make_participant

pytestmark = pytest.mark.django_db


def endpoints(study: Study, topic: str = "bci") -> list[tuple[str, str, dict[str, Any]]]:
    base = f"/delphi/{study.code}"
    return [
        ("get", f"{base}/", {}),
        ("post", f"{base}/consent/", {"agree": "yes"}),
        ("get", f"{base}/topics/", {}),
        ("post", f"{base}/topics/", {"topics": [Topic.objects.get(code=topic).pk]}),
        ("get", f"{base}/round/1/{topic}/", {}),
        ("post", f"{base}/round/1/{topic}/save/", {"expertise": "high", "importance": "5"}),
        ("post", f"{base}/round/1/{topic}/argument/", {"stance": "pro", "text": "An argument."}),
        ("post", f"{base}/round/1/submit/", {}),
    ]


def state() -> tuple[Any, ...]:
    return (
        sorted(Answer.objects.values_list("response__participant_id", "question_id", "value_num", "value_code")),
        sorted(Response.objects.values_list("participant_id", "topic_id", "rationale")),
        sorted(Argument.objects.values_list("participant_id", "text")),
        sorted(RoundCompletion.objects.values_list("participant_id", "round_id")),
        sorted(Participant.objects.values_list("pk", "consent_at", "status")),
        sorted(Participant.topics.through.objects.values_list("participant_id", "topic_id")),
    )


def login(participant: Participant) -> Client:
    browser = Client()
    browser.post(f"/delphi/{participant.study.code}/join/", {"t": invitation_create(participant=participant)})
    return browser


@pytest.fixture
def open_round(round1: Round) -> Round:
    round_open(rnd=round1)
    return round1


def test_an_outsider_gets_404_everywhere_and_changes_nothing(
    study: Study, open_round: Round, alice: Participant
) -> None:
    before = state()
    for method, url, data in endpoints(study):
        response = getattr(Client(), method)(url, data)
        assert response.status_code == 404, (method, url, response.status_code)
    assert state() == before


def test_an_expert_of_another_study_gets_404_and_changes_nothing(
    study: Study, open_round: Round, alice: Participant, catalog: Any
) -> None:
    other = study_create(title_en="Other", horizon_year=2045, topics=[Topic.objects.get(code="bci")], code="other")
    round_open(rnd=other.rounds.get(number=1))
    stranger = make_participant(other, "stranger@example.org", topics=["bci"])
    browser = login(stranger)
    assert browser.get(f"/delphi/{other.code}/").status_code == 200  # her own study works
    before = state()
    for method, url, data in endpoints(study):
        response = getattr(browser, method)(url, data)
        assert response.status_code == 404, (method, url, response.status_code)
    assert state() == before


def test_a_closed_rounds_expert_reads_but_cannot_write(study: Study, open_round: Round, alice: Participant) -> None:
    browser = login(alice)
    browser.post(f"/delphi/{study.code}/round/1/bci/save/", {"expertise": "low", "importance": "2"})
    round_close(rnd=open_round)
    before = state()
    expected = {
        f"/delphi/{study.code}/": 200,
        f"/delphi/{study.code}/consent/": 302,  # already consented: a no-op
        f"/delphi/{study.code}/topics/": 200,
        f"/delphi/{study.code}/round/1/bci/": 200,
        f"/delphi/{study.code}/round/1/bci/save/": 409,
        f"/delphi/{study.code}/round/1/bci/argument/": 409,
        f"/delphi/{study.code}/round/1/submit/": 409,
    }
    for method, url, data in endpoints(study):
        if method == "post" and url.endswith("/topics/"):
            continue  # topic choice stays open in round 1 (covered in test_questionnaire)
        response = getattr(browser, method)(url, data)
        assert response.status_code == expected[url], (method, url, response.status_code)
    assert state() == before


def test_an_expert_without_consent_cannot_answer(study: Study, open_round: Round) -> None:
    from foresight.delphi.models import Expert
    from foresight.delphi.services.panel import participant_add

    eve = participant_add(
        study=study, expert=Expert.objects.create(email="eve@example.org", name="Eve", sector="other")
    )
    browser = login(eve)
    before = state()
    for method, url, data in endpoints(study):
        if url.endswith("/consent/") or url == f"/delphi/{study.code}/":
            continue
        response = getattr(browser, method)(url, data)
        assert response.status_code == 403, (method, url, response.status_code)
    assert state() == before


def test_expert_writes_need_post_and_csrf(study: Study, open_round: Round, alice: Participant) -> None:
    browser = login(alice)
    for url in ("round/1/bci/save/", "round/1/bci/argument/", "round/1/submit/", "consent/"):
        assert browser.get(f"/delphi/{study.code}/{url}").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    token = invitation_create(participant=alice)
    strict.get(f"/delphi/{study.code}/join/", {"t": token})  # the link's page sets the CSRF cookie
    csrf = strict.cookies["csrftoken"].value
    assert strict.post(f"/delphi/{study.code}/join/", {"t": token, "csrfmiddlewaretoken": csrf}).status_code == 302
    before = state()
    assert strict.post(f"/delphi/{study.code}/round/1/bci/save/", {"expertise": "high"}).status_code == 403
    assert state() == before
