"""Links that survive real mail, in a real browser: a mail scanner opens the link first and the expert
still gets in; an expert whose link is spent asks for a new one on the page and gets in with it."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest
from celery import current_app
from django.core import mail
from playwright.sync_api import expect

from foresight.catalog.models import Topic
from foresight.delphi.models import Expert, Invitation, Participant
from foresight.delphi.services.panel import invitation_create, invitation_redeem, participant_add
from foresight.delphi.services.studies import study_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def panel_member(transactional_catalog: Any) -> Participant:
    topics = list(Topic.objects.filter(code__in=["bci", "6g"]))
    study = study_create(title_en="Links 2045", horizon_year=2045, topics=topics, code="links-2045")
    expert = Expert.objects.create(email="wei@example.org", name="Wei", sector="public_research")
    return participant_add(study=study, expert=expert)


def test_a_mail_scanner_opens_the_link_first(page: Any, live_server: Any, transactional_catalog: Any) -> None:
    wei = panel_member(transactional_catalog)
    token = invitation_create(participant=wei)
    link = f"{live_server.url}/delphi/{wei.study.code}/join/?t={token}"

    # The scanner: plain HTTP GETs (and a HEAD) of the link, no cookies kept, no button pressed.
    for method in ("GET", "HEAD", "GET"):
        with urllib.request.urlopen(urllib.request.Request(link, method=method), timeout=20) as response:
            assert response.status == 200
            response.read()
    assert Invitation.objects.get(participant=wei).used_at is None

    # Then the expert opens it and presses the button.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your invitation")
    page.get_by_role("button", name="Open the study").click()
    expect(page).to_have_url(f"{live_server.url}/delphi/{wei.study.code}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Links 2045")
    expect(page.get_by_text(wei.pseudonym)).to_be_visible()
    assert Invitation.objects.get(participant=wei).used_at is not None


def test_a_spent_link_leads_to_a_new_one(
    page: Any, live_server: Any, transactional_catalog: Any, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.setattr(current_app.conf, "task_always_eager", True)  # the e-mail goes out in-process
    settings.SITE_URL = live_server.url
    wei = panel_member(transactional_catalog)
    spent = invitation_create(participant=wei)
    invitation_redeem(study_code=wei.study.code, token=spent)  # opened once, on another computer

    page.goto(f"{live_server.url}/delphi/{wei.study.code}/join/?t={spent}")
    expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
    expect(page.get_by_role("button", name="Open the study")).to_have_count(0)
    page.get_by_label("Your e-mail address").fill("wei@example.org")
    page.get_by_role("button", name="E-mail me a new link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    assert [m.to for m in mail.outbox] == [["wei@example.org"]]
    link = next(line for line in mail.outbox[0].body.splitlines() if line.startswith(live_server.url))

    page.goto(link)
    page.get_by_role("button", name="Open the study").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Links 2045")
    expect(page.get_by_text(wei.pseudonym)).to_be_visible()
