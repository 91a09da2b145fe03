"""A new link for an expert whose link is spent or expired: asked for by e-mail address on the study's
pages, sent only to a panel member who has not left, with the same answer for anyone else."""

from __future__ import annotations

from typing import Any

import pytest
from celery import current_app
from django.core import mail
from django.test import Client

from foresight.core.models import AuditLog
from foresight.delphi.models import Expert, Invitation, Participant, Study
from foresight.delphi.services.panel import invitation_create, participant_add

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setattr(current_app.conf, "task_always_eager", True)  # the e-mail goes out in-process
    settings.SITE_URL = "https://foresight.example.org"


def ask(client: Client, study_code: str, email: str, **extra: Any) -> Any:
    return client.post(f"/delphi/{study_code}/new-link/", {"email": email}, **extra)


def link_in(message: Any) -> str:
    return next(line for line in message.body.splitlines() if line.startswith("https://"))


def test_the_invalid_link_page_and_the_landing_page_offer_a_new_link(study: Study, alice: Participant) -> None:
    token = invitation_create(participant=alice)
    Client().post(f"/delphi/{study.code}/join/", {"t": token})
    spent = Client().get(f"/delphi/{study.code}/join/", {"t": token}).content.decode()
    assert f'action="/delphi/{study.code}/new-link/"' in spent
    landing = Client().get(f"/delphi/{study.code}/")
    assert landing.status_code == 404  # nothing of the study without a session, as for one that does not exist
    assert f'action="/delphi/{study.code}/new-link/"' in landing.content.decode()
    assert study.title_en not in landing.content.decode()
    unknown = Client().get("/delphi/no-such-study/")
    assert unknown.status_code == 404 and 'name="email"' in unknown.content.decode()


def test_a_panel_member_gets_a_working_new_link(
    study: Study, alice: Participant, django_capture_on_commit_callbacks: Any
) -> None:
    spent = invitation_create(participant=alice)
    Client().post(f"/delphi/{study.code}/join/", {"t": spent})
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(Client(), study.code, " Alice@Example.org ")
    assert response.status_code == 200
    assert "If this address is on the study's panel" in response.content.decode()
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    link = link_in(mail.outbox[0])
    assert link.startswith(f"https://foresight.example.org/delphi/{study.code}/join/?t=")
    new = Invitation.objects.get(participant=alice, kind="reissue")
    assert new.sent_at is not None and new.used_at is None
    browser = Client()
    assert browser.post(f"/delphi/{study.code}/join/", {"t": link.split("t=")[1]}).status_code == 302
    assert browser.get(f"/delphi/{study.code}/").status_code == 200
    line = AuditLog.objects.get(action="invitation_reissue")
    assert line.study_id == study.pk and line.details == {"pseudonym": alice.pseudonym}
    assert "alice@example.org" not in str(line.details)


def test_earlier_unused_links_are_left_to_expire(
    study: Study, alice: Participant, django_capture_on_commit_callbacks: Any
) -> None:
    unused = invitation_create(participant=alice)
    with django_capture_on_commit_callbacks(execute=True):
        ask(Client(), study.code, "alice@example.org")
    assert len(mail.outbox) == 1
    assert Client().post(f"/delphi/{study.code}/join/", {"t": unused}).status_code == 302


def test_the_answer_is_the_same_for_anyone(
    study: Study, alice: Participant, django_capture_on_commit_callbacks: Any
) -> None:
    from foresight.delphi.services.studies import study_create

    dropped = participant_add(
        study=study, expert=Expert.objects.create(email="dan@example.org", name="Dan", sector="other")
    )
    Participant.objects.filter(pk=dropped.pk).update(status=Participant.Status.DROPPED)
    Expert.objects.create(email="eve@example.org", name="Eve", sector="other")  # an expert, on no panel
    other = study_create(title_en="Other", horizon_year=2045, topics=list(study.topics.all()[:1]), code="other")
    pages = {}
    for code, email in [
        (study.code, "alice@example.org"),  # on the panel
        (study.code, "dan@example.org"),  # left the study
        (study.code, "eve@example.org"),  # an expert, but not on this panel
        (study.code, "nobody@example.org"),  # unknown
        (other.code, "alice@example.org"),  # on another study's panel
        ("no-such-study", "alice@example.org"),
    ]:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = ask(Client(), code, email, REMOTE_ADDR=f"10.0.0.{len(pages)}")
        assert len(callbacks) == 1  # the same work: one task queued, which decides
        pages[(code, email)] = (response.status_code, response.content.decode().replace(code, "CODE"))
    assert len(set(pages.values())) == 1, {k: v[0] for k, v in pages.items()}
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    assert AuditLog.objects.filter(action="invitation_reissue").count() == 1


def test_a_bad_address_is_refused_whoever_asks(study: Study) -> None:
    response = ask(Client(), study.code, "not an address")
    assert response.status_code == 400 and "Enter your e-mail address." in response.content.decode()
    assert Client().get(f"/delphi/{study.code}/new-link/").status_code == 405


def test_new_links_are_rate_limited_per_address_and_per_client(
    study: Study, alice: Participant, django_capture_on_commit_callbacks: Any
) -> None:
    from foresight.delphi.views import REISSUE_CLIENT_LIMIT, REISSUE_EMAIL_LIMIT

    with django_capture_on_commit_callbacks(execute=True):
        statuses = [
            ask(Client(), study.code, "alice@example.org", REMOTE_ADDR=f"10.0.1.{i}").status_code
            for i in range(REISSUE_EMAIL_LIMIT + 2)
        ]
    assert statuses == [200] * REISSUE_EMAIL_LIMIT + [429, 429]
    assert len(mail.outbox) == REISSUE_EMAIL_LIMIT
    # The limit of an address on a study is its own: the same address on no panel counts the same way.
    statuses = [
        ask(Client(), study.code, "nobody@example.org", REMOTE_ADDR=f"10.0.2.{i}").status_code
        for i in range(REISSUE_EMAIL_LIMIT + 1)
    ]
    assert statuses == [200] * REISSUE_EMAIL_LIMIT + [429]
    # One client asking for many addresses.
    statuses = [
        ask(Client(), study.code, f"guess{i}@example.org", REMOTE_ADDR="10.0.3.1").status_code
        for i in range(REISSUE_CLIENT_LIMIT + 1)
    ]
    assert statuses == [200] * REISSUE_CLIENT_LIMIT + [429]
    assert "Please wait an hour" in ask(Client(), study.code, "x@example.org", REMOTE_ADDR="10.0.3.1").content.decode()
