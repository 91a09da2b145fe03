"""The expert's way in: a magic link becomes a session, and the token leaves the address bar."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from foresight.delphi.models import Invitation, Participant, Study
from foresight.delphi.services.panel import invitation_create
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


def test_a_link_opens_a_session_and_the_token_leaves_the_url(study: Study, alice: Participant) -> None:
    token = invitation_create(participant=alice)
    browser = Client()
    response = browser.post(f"/delphi/{study.code}/join/", {"t": token})
    assert response.status_code == 302
    assert response["Location"] == f"/delphi/{study.code}/"
    assert token not in response["Location"]
    page = browser.get(response["Location"])
    assert page.status_code == 200
    assert alice.pseudonym in page.content.decode()
    assert alice.expert.email not in page.content.decode()


def test_a_used_link_is_refused_in_another_browser(study: Study, alice: Participant) -> None:
    token = invitation_create(participant=alice)
    Client().post(f"/delphi/{study.code}/join/", {"t": token})
    response = Client().post(f"/delphi/{study.code}/join/", {"t": token})
    assert response.status_code == 403
    assert "not valid" in response.content.decode()


def test_a_mail_scanner_opening_the_link_does_not_spend_it(study: Study, alice: Participant) -> None:
    """GETs (a scanner, a preview, a prefetch) only show the button and write nothing; the button's POST,
    CSRF-protected, spends the token once, and a second POST is refused."""
    token = invitation_create(participant=alice)
    url = f"/delphi/{study.code}/join/"
    scanner = Client()
    for _ in range(5):
        page = scanner.get(url, {"t": token})
        assert page.status_code == 200
        assert "Open the study" in page.content.decode()
        assert scanner.head(url, {"t": token}).status_code == 200
    assert Invitation.objects.get(participant=alice).used_at is None
    assert "delphi_participant" not in scanner.session
    # Without the CSRF token the button's POST is refused and the token stays usable.
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(url, {"t": token}).status_code == 403
    assert Invitation.objects.get(participant=alice).used_at is None
    # The expert's browser: the page, then the button.
    page = strict.get(url, {"t": token})
    assert f'name="t" value="{token}"' in page.content.decode()
    csrf = strict.cookies["csrftoken"].value
    response = strict.post(url, {"t": token, "csrfmiddlewaretoken": csrf})
    assert response.status_code == 302 and response["Location"] == f"/delphi/{study.code}/"
    assert strict.get(response["Location"]).status_code == 200
    assert Invitation.objects.get(participant=alice).used_at is not None
    # Spent: a second POST is refused, and the link's page now says so before any button.
    again = Client().post(url, {"t": token})
    assert again.status_code == 403 and "not valid" in again.content.decode()
    spent = Client().get(url, {"t": token})
    assert spent.status_code == 200 and "not valid" in spent.content.decode()
    assert "Open the study" not in spent.content.decode()
    assert "E-mail me a new link" in spent.content.decode()


def test_a_session_key_is_cycled_when_the_link_is_spent(study: Study, alice: Participant) -> None:
    browser = Client()
    browser.get(f"/delphi/{study.code}/join/", {"t": invitation_create(participant=alice)})
    browser.session.save()
    before = browser.session.session_key
    browser.post(f"/delphi/{study.code}/join/", {"t": invitation_create(participant=alice)})
    assert browser.session.session_key != before


def test_an_outsider_sees_nothing(study: Study) -> None:
    assert Client().get(f"/delphi/{study.code}/").status_code == 404
    assert Client().post(f"/delphi/{study.code}/consent/", {"agree": "yes"}).status_code in (403, 404)


def test_a_session_is_bound_to_its_study(study: Study, alice: Participant, catalog: object) -> None:
    from foresight.catalog.models import Topic
    from foresight.delphi.services.studies import study_create

    other = study_create(title_en="Other", horizon_year=2045, topics=[Topic.objects.get(code="bci")])
    browser = Client()
    browser.post(f"/delphi/{study.code}/join/", {"t": invitation_create(participant=alice)})
    assert browser.get(f"/delphi/{study.code}/").status_code == 200
    assert browser.get(f"/delphi/{other.code}/").status_code == 404


def test_guessing_links_is_rate_limited(study: Study, alice: Participant) -> None:
    browser = Client()
    statuses = [browser.get(f"/delphi/{study.code}/join/", {"t": f"guess-{i}"}).status_code for i in range(25)]
    assert statuses[:20] == [200] * 20  # each says the link is not valid
    assert statuses[20:] == [429] * 5
    # Even a valid link waits out the window: nothing to learn from timing or status.
    assert browser.post(f"/delphi/{study.code}/join/", {"t": invitation_create(participant=alice)}).status_code == 429


def test_behind_a_trusted_proxy_the_limit_keys_on_the_forwarded_client(
    study: Study, alice: Participant, settings: Any
) -> None:
    """Every request comes from the proxy's address: one guesser is limited, the rest of the panel is not,
    and a forged X-Forwarded-For entry before the proxy's own cannot pick another client's bucket."""
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    via = {"REMOTE_ADDR": "10.0.0.1"}
    guesser = Client(**via, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert [guesser.get(f"/delphi/{study.code}/join/", {"t": f"g{i}"}).status_code for i in range(21)][-1] == 429
    # A forged first entry does not move the guesser out of her bucket: the proxy's entry is the last one.
    forged = Client(**via, HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.7")
    assert forged.get(f"/delphi/{study.code}/join/", {"t": "g"}).status_code == 429
    # Another expert behind the same proxy opens her valid link.
    colleague = Client(**via, HTTP_X_FORWARDED_FOR="203.0.113.8")
    token = invitation_create(participant=alice)
    assert colleague.get(f"/delphi/{study.code}/join/", {"t": token}).status_code == 200
    assert colleague.post(f"/delphi/{study.code}/join/", {"t": token}).status_code == 302


def test_valid_links_never_count_towards_the_limit(study: Study) -> None:
    """A whole panel may open its links from one address (an office behind NAT)."""
    from tests.delphi.conftest import make_participant

    office = Client()
    for i in range(25):
        expert = make_participant(study, f"office{i}@example.org")
        token = invitation_create(participant=expert)
        assert office.get(f"/delphi/{study.code}/join/", {"t": token}).status_code == 200, i
        assert office.post(f"/delphi/{study.code}/join/", {"t": token}).status_code == 302, i


def test_a_link_opens_one_study_per_session_unless_she_keeps_the_others(
    study: Study, alice: Participant, catalog: object
) -> None:
    from foresight.catalog.models import Topic
    from foresight.delphi.services.panel import participant_add, participant_choose_topics, participant_consent
    from foresight.delphi.services.studies import study_create

    other = study_create(title_en="Other", horizon_year=2045, topics=[Topic.objects.get(code="bci")], code="other")
    alice_other = participant_add(study=other, expert=alice.expert)  # the same expert on a second panel
    participant_consent(participant=alice_other)
    participant_choose_topics(participant=alice_other, topics=Topic.objects.filter(code="bci"))
    browser = Client()
    browser.post(f"/delphi/{study.code}/join/", {"t": invitation_create(participant=alice)})
    # The second study's link page offers to keep the first; without it, the first study is forgotten.
    token = invitation_create(participant=alice_other)
    assert (
        "Stay signed in to my other studies"
        in browser.get(f"/delphi/{other.code}/join/", {"t": token}).content.decode()
    )
    browser.post(f"/delphi/{other.code}/join/", {"t": token})
    assert browser.get(f"/delphi/{other.code}/").status_code == 200
    assert browser.get(f"/delphi/{study.code}/").status_code == 404
    # With it, both stay open.
    browser.post(f"/delphi/{study.code}/join/", {"t": invitation_create(participant=alice)})
    browser.post(f"/delphi/{other.code}/join/", {"t": invitation_create(participant=alice_other), "keep_others": "1"})
    assert browser.get(f"/delphi/{other.code}/").status_code == 200
    assert browser.get(f"/delphi/{study.code}/").status_code == 200


def test_an_expert_session_lasts_as_long_as_the_study_says_and_she_can_sign_out(
    study: Study, alice: Participant
) -> None:
    Study.objects.filter(pk=study.pk).update(session_hours=8)
    browser = Client()
    browser.post(f"/delphi/{study.code}/join/", {"t": invitation_create(participant=alice)})
    assert browser.session.get_expiry_age() == 8 * 3600
    page = browser.get(f"/delphi/{study.code}/").content.decode()
    assert f'action="/delphi/{study.code}/sign-out/"' in page
    assert browser.get(f"/delphi/{study.code}/sign-out/").status_code == 405  # a link cannot sign her out
    response = browser.post(f"/delphi/{study.code}/sign-out/")
    assert response.status_code == 200 and "Your answers are saved." in response.content.decode()
    assert browser.get(f"/delphi/{study.code}/").status_code == 404


def test_staff_sign_out_from_the_header(django_user_model: Any) -> None:
    staff = Client()
    staff.force_login(staff_user("kim", "Study manager"))
    page = staff.get("/staff/").content.decode()
    assert 'action="/sign-out/"' in page
    assert staff.post("/sign-out/").status_code == 302
    assert staff.get("/staff/").status_code in (302, 403)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_consent_page_says_what_she_agrees_to(study: Study, language: str) -> None:
    """Purpose, time, rounds, who runs it (and whom to write to), how answers are published (the smallest
    group), and how to leave, in both languages, before she agrees."""
    from django.utils import translation

    from foresight.delphi.models import Expert
    from foresight.delphi.services.panel import consent_facts, participant_add

    Study.objects.filter(pk=study.pk).update(organiser="Institute of Foresight", contact_email="team@example.org")
    expert = Expert.objects.create(email="new@example.org", name="New")
    participant = participant_add(study=study, expert=expert)
    browser = Client()
    prefix = "" if language == "en" else "/zh-hans"
    token = invitation_create(participant=participant)
    browser.post(f"/delphi/{study.code}/join/", {"t": token})
    page = browser.get(f"{prefix}/delphi/{study.code}/").content.decode()
    facts = consent_facts(participant=participant)
    assert facts["rounds"] == study.planned_rounds and facts["smallest_group"] == study.k_threshold + 1
    assert "Institute of Foresight" in page and "mailto:team@example.org" in page
    with translation.override(language):
        for words in ("What the study is for", "How long it takes", "How your answers are used", "How to leave"):
            assert translation.gettext(words) in page, words
    assert f">{facts['smallest_group']}<" in page or f" {facts['smallest_group']} " in page
    assert str(facts["minutes"]) in page


def test_leaving_deletes_the_open_rounds_answers_and_keeps_the_closed_ones(
    study: Study, alice: Participant, bob: Participant
) -> None:
    from foresight.catalog.models import Topic
    from foresight.core.models import AuditLog
    from foresight.delphi.models import Answer, Response
    from foresight.delphi.services.aggregation import round_aggregate
    from foresight.delphi.services.responses import response_save
    from foresight.delphi.services.rounds import round_close, round_open

    bci = Topic.objects.get(code="bci")
    Study.objects.filter(pk=study.pk).update(drop_consensus_topics=False)
    round1, round2 = study.rounds.get(number=1), study.rounds.get(number=2)
    round_open(rnd=round1)
    response_save(participant=alice, rnd=round1, topic=bci, answers={"importance": "4"})
    round_close(rnd=round1)
    round_aggregate(round_id=round1.pk)
    round_open(rnd=round2)
    response_save(participant=alice, rnd=round2, topic=bci, answers={"importance": "2"})
    response_save(participant=bob, rnd=round2, topic=bci, answers={"importance": "3"})
    browser = Client()
    browser.post(f"/delphi/{study.code}/join/", {"t": invitation_create(participant=alice)})
    # The button first says what happens; nothing changes until she confirms.
    first = browser.post(f"/delphi/{study.code}/withdraw/")
    assert first.status_code == 200 and "Yes, leave the study" in first.content.decode()
    assert Response.objects.filter(participant=alice, round=round2).exists()
    assert browser.post(f"/delphi/{study.code}/withdraw/", {"confirm": "yes"}).status_code == 200
    alice.refresh_from_db()
    assert alice.status == Participant.Status.DROPPED
    assert not Response.objects.filter(participant=alice, round=round2).exists()  # the open round forgets her
    assert Answer.objects.filter(response__participant=alice, response__round=round1).exists()  # closed: kept
    assert Response.objects.filter(participant=bob, round=round2).exists()
    assert AuditLog.objects.filter(action="participant_withdraw").count() == 1
    assert browser.get(f"/delphi/{study.code}/").status_code == 404  # and this device is signed out
    assert browser.get("/delphi/x/withdraw/").status_code == 405
