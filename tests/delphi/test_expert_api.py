"""The expert API: own answers only, the same validation and closed-round rule as the web form, CSRF."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from foresight.catalog.models import Topic
from foresight.delphi.models import Answer, Participant, Round, Study
from foresight.delphi.services.rounds import round_close, round_open
from foresight.delphi.services.studies import study_create
from tests.delphi.conftest import join, make_participant

pytestmark = pytest.mark.django_db


def login(participant: Participant, **kwargs: Any) -> Client:
    browser = Client(**kwargs)
    assert join(browser, participant).status_code == 302
    return browser


def api(study: Study, rest: str = "topics/") -> str:
    return f"/api/v1/expert/{study.code}/rounds/1/{rest}"


def patch(browser: Client, url: str, body: dict[str, Any]) -> Any:
    return browser.patch(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def open_round(round1: Round) -> Round:
    round_open(rnd=round1)
    return round1


def stored() -> list[tuple[Any, ...]]:
    return sorted(Answer.objects.values_list("response__participant_id", "question__key", "value_code", "value_num"))


def test_an_expert_reads_and_writes_her_own_answers(study: Study, open_round: Round, alice: Participant) -> None:
    browser = login(alice)
    listing = browser.get(api(study))
    assert listing.status_code == 200
    assert {t["code"] for t in listing.json()} == set(study.topics.values_list("code", flat=True))
    assert not any(t["answered"] for t in listing.json())
    saved = patch(
        browser,
        api(study, "topics/bci/"),
        {"answers": {"expertise": "high", "importance": "5", "policy_measures": ["rd_funding"]}, "rationale": "Why."},
    )
    assert saved.status_code == 200, saved.content
    assert saved.json()["answers"] == {"expertise": "high", "importance": "5", "policy_measures": ["rd_funding"]}
    assert browser.get(api(study, "topics/bci/")).json()["rationale"] == "Why."
    assert [t["answered"] for t in browser.get(api(study)).json() if t["code"] == "bci"] == [True]
    # null clears an answer.
    assert patch(browser, api(study, "topics/bci/"), {"answers": {"policy_measures": None}}).status_code == 200
    assert "policy_measures" not in browser.get(api(study, "topics/bci/")).json()["answers"]
    submitted = browser.post(api(study, "submit/"))
    assert submitted.status_code == 400  # three topics still lack the expertise answer
    assert "3 left" in json.dumps(submitted.json())


@pytest.mark.parametrize(
    "body",
    [
        {"answers": {"expertise": "high", "importance": "7"}},
        {"answers": {"expertise": "high", "tech_year": "someday"}},
        {"answers": {"importance_why": ["science", "economy", "society"]}},
        {"answers": {"nonsense": "1"}},
        {"answers": ["not", "a", "dict"]},
        {"answers": {"expertise": "high"}, "rationale": "x" * 1001},
        {"answers": {"importance": {"nested": True}}},
    ],
)
def test_bad_answers_are_400_and_store_nothing(
    study: Study, open_round: Round, alice: Participant, body: dict[str, Any]
) -> None:
    browser = login(alice)
    response = patch(browser, api(study, "topics/bci/"), body)
    assert response.status_code == 400, response.content
    assert stored() == []


def test_closed_round_is_409_and_others_are_404(
    study: Study, open_round: Round, alice: Participant, catalog: Any
) -> None:
    browser = login(alice)
    other = study_create(title_en="Other", horizon_year=2045, topics=[Topic.objects.get(code="bci")], code="other-api")
    round_open(rnd=other.rounds.get(number=1))
    stranger = make_participant(other, "s@example.org", topics=["bci"])
    for client in (Client(), login(stranger)):
        assert client.get(api(study)).status_code == 404
        assert client.get(api(study, "topics/bci/")).status_code == 404
        assert patch(client, api(study, "topics/bci/"), {"answers": {"expertise": "high"}}).status_code == 404
        assert client.post(api(study, "submit/")).status_code == 404
    outside = Topic.objects.exclude(pk__in=study.topics.all()).first()
    assert browser.get(api(study, f"topics/{outside.code}/")).status_code == 404
    round_close(rnd=open_round)
    assert patch(browser, api(study, "topics/bci/"), {"answers": {"expertise": "high"}}).status_code == 409
    assert browser.post(api(study, "submit/")).status_code == 409
    assert browser.get(api(study, "topics/bci/")).json()["editable"] is False
    assert stored() == []


def test_writes_need_the_csrf_token(study: Study, open_round: Round, alice: Participant) -> None:
    browser = login(alice, enforce_csrf_checks=True)
    response = patch(browser, api(study, "topics/bci/"), {"answers": {"expertise": "high"}})
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    token = browser.cookies["csrftoken"].value if "csrftoken" in browser.cookies else None
    if token is None:
        browser.get(f"/delphi/{study.code}/round/1/bci/")
        token = browser.cookies["csrftoken"].value
    ok = browser.patch(
        api(study, "topics/bci/"),
        json.dumps({"answers": {"expertise": "high"}}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert ok.status_code == 200
    assert stored() == [(alice.pk, "expertise", "high", None)]
