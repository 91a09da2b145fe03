"""The expert's way in: a magic link becomes a session, and the token leaves the address bar."""

from __future__ import annotations

import pytest
from django.test import Client

from foresight.delphi.models import Participant, Study
from foresight.delphi.services.panel import invitation_create

pytestmark = pytest.mark.django_db


def test_a_link_opens_a_session_and_the_token_leaves_the_url(study: Study, alice: Participant) -> None:
    token = invitation_create(participant=alice)
    browser = Client()
    response = browser.get(f"/delphi/{study.code}/join/", {"t": token})
    assert response.status_code == 302
    assert response["Location"] == f"/delphi/{study.code}/"
    assert token not in response["Location"]
    page = browser.get(response["Location"])
    assert page.status_code == 200
    assert alice.pseudonym in page.content.decode()
    assert alice.expert.email not in page.content.decode()


def test_a_used_link_is_refused_in_another_browser(study: Study, alice: Participant) -> None:
    token = invitation_create(participant=alice)
    Client().get(f"/delphi/{study.code}/join/", {"t": token})
    response = Client().get(f"/delphi/{study.code}/join/", {"t": token})
    assert response.status_code == 403
    assert "not valid" in response.content.decode()


def test_an_outsider_sees_nothing(study: Study) -> None:
    assert Client().get(f"/delphi/{study.code}/").status_code == 404
    assert Client().post(f"/delphi/{study.code}/consent/", {"agree": "yes"}).status_code in (403, 404)


def test_a_session_is_bound_to_its_study(study: Study, alice: Participant, catalog: object) -> None:
    from foresight.catalog.models import Topic
    from foresight.delphi.services.studies import study_create

    other = study_create(title_en="Other", horizon_year=2045, topics=[Topic.objects.get(code="bci")])
    browser = Client()
    browser.get(f"/delphi/{study.code}/join/", {"t": invitation_create(participant=alice)})
    assert browser.get(f"/delphi/{study.code}/").status_code == 200
    assert browser.get(f"/delphi/{other.code}/").status_code == 404


def test_guessing_links_is_rate_limited(study: Study, alice: Participant) -> None:
    browser = Client()
    statuses = [browser.get(f"/delphi/{study.code}/join/", {"t": f"guess-{i}"}).status_code for i in range(25)]
    assert statuses[:20] == [403] * 20
    assert statuses[20:] == [429] * 5
    # Even a valid link waits out the window: nothing to learn from timing or status.
    assert browser.get(f"/delphi/{study.code}/join/", {"t": invitation_create(participant=alice)}).status_code == 429
