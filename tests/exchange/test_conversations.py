"""Conversations between a demand entry's owner and a supplier: who opens one and how, one per entry and
supplier, messages and the outcome they move, contacts shown only when both sides agree, abuse reports that
curators uphold (closing the conversation) or dismiss, notification mails that name organisations and never
people, and the rate limits."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from foresight.core.errors import Conflict
from foresight.core.models import AuditLog
from scenarios.exchange import conversations as svc
from scenarios.exchange import entries
from scenarios.models import AbuseReport, Conversation, Message, Shortlist
from tests.exchange.conversation_world import build, identities

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(catalog: Any) -> dict[str, Any]:
    return build()


def invite(w: dict[str, Any], **extra: Any) -> Conversation:
    return svc.conversation_invite(actor=w["ed"], demand=w["demand"], capability=w["capability"], **extra)


def test_the_owner_invites_a_shortlisted_capability_and_its_organisation_is_told(
    w: dict[str, Any], mailoutbox: list[Any]
) -> None:
    conversation = invite(w)
    assert conversation.opened_by == "owner" and conversation.supplier == w["robots"]
    assert conversation.capability == w["capability"] and conversation.outcome == "no_reply"
    first = conversation.messages.get()
    assert first.side == "owner" and first.author == w["ed"] and "Robots Inc" in first.body
    assert AuditLog.objects.filter(action="conversation_invite", actor=w["ed"]).exists()
    # Robots Inc's admin and editor are told, one mail each; its viewer and the hospital are not.
    assert sorted(m.to[0] for m in mailoutbox) == ["bea@robots.example", "zoe@robots.example"]
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in mailoutbox)
    mail = mailoutbox[0]
    text = mail.subject + mail.body
    assert "Ruijin Hospital" in text and "Night ward robots" in text
    assert f"/exchange/conversations/{conversation.code}/" in mail.body
    leaked = [s for s in identities(w, "ann", "ed", "vic", "zoe", "bea") if s in text]
    assert leaked == []


def test_only_the_owner_s_writers_invite_and_only_from_the_shortlist(w: dict[str, Any]) -> None:
    for someone in (w["vic"], w["bea"], w["olga"], w["cora"]):
        with pytest.raises(PermissionDenied):
            svc.conversation_invite(actor=someone, demand=w["demand"], capability=w["capability"])
    Shortlist.objects.filter(capability=w["capability"]).delete()
    with pytest.raises(Conflict):
        invite(w)
    assert not Conversation.objects.exists()


def test_only_published_entries_and_never_one_s_own_organisation(w: dict[str, Any]) -> None:
    own = entries.entry_create(
        organisation=w["hospital"], actor=w["ed"], kind="capability", title_en="Our own robot", trl=5
    )
    Shortlist.objects.create(demand=w["demand"], capability=own)
    with pytest.raises(ValidationError):
        svc.conversation_invite(actor=w["ed"], demand=w["demand"], capability=own)
    entries.entry_withdraw(entry=w["capability"], actor=w["bea"])
    w["capability"].refresh_from_db()
    with pytest.raises(Conflict):
        invite(w)
    with pytest.raises(ValidationError):  # to a capability entry, not from one
        svc.conversation_express_interest(actor=w["ed"], demand=w["drone_cap"], supplier=w["hospital"], body="Hi")
    assert not Conversation.objects.exists()


def test_a_second_invitation_names_the_conversation_that_exists(w: dict[str, Any], mailoutbox: list[Any]) -> None:
    first = invite(w)
    with pytest.raises(svc.ConversationExists) as refused:
        svc.conversation_invite(actor=w["ann"], demand=w["demand"], capability=w["capability"])
    assert refused.value.conversation == first
    # The supplier writing in as well lands in the same conversation.
    with pytest.raises(svc.ConversationExists):
        svc.conversation_express_interest(actor=w["bea"], demand=w["demand"], supplier=w["robots"], body="Us too")
    assert Conversation.objects.count() == 1 and Message.objects.count() == 1 and len(mailoutbox) == 2


def test_a_supplier_expresses_interest_and_the_owner_s_writers_are_told(
    w: dict[str, Any], mailoutbox: list[Any]
) -> None:
    conversation = svc.conversation_express_interest(
        actor=w["bea"],
        demand=w["demand"],
        supplier=w["robots"],
        capability=w["capability"],
        body="We patrol\x07 wards\x00 at night.\r\nCall us.",
    )
    assert conversation.opened_by == "supplier"
    assert conversation.messages.get().body == "We patrol wards at night.\nCall us."  # control characters out
    assert sorted(m.to[0] for m in mailoutbox) == ["ann@ruijin.example", "ed@ruijin.example"]
    text = mailoutbox[0].subject + mailoutbox[0].body
    assert "Robots Inc" in text and "Night ward robots" in text and "We patrol" not in text
    assert [s for s in identities(w, "zoe", "bea", "ann", "ed") if s in text] == []


@pytest.mark.parametrize(
    "bad",
    [
        {"body": "   \x00 "},
        {"body": "x" * 4001},
        {"capability": "drone_cap"},  # another organisation's capability
        {"capability": "demand"},  # not a capability
    ],
)
def test_bad_interest_is_refused_and_stores_nothing(w: dict[str, Any], bad: dict[str, Any]) -> None:
    values: dict[str, Any] = {"body": "We can help."} | bad
    if "capability" in bad:
        values["capability"] = w[bad["capability"]]
    with pytest.raises(ValidationError):
        svc.conversation_express_interest(actor=w["bea"], demand=w["demand"], supplier=w["robots"], **values)
    assert not Conversation.objects.exists()


def test_a_viewer_or_an_outsider_cannot_express_interest(w: dict[str, Any]) -> None:
    for someone in (w["rita"], w["dan"], w["olga"]):
        with pytest.raises(PermissionDenied):
            svc.conversation_express_interest(actor=someone, demand=w["demand"], supplier=w["robots"], body="Hi")
    with pytest.raises(ValidationError):  # the owner cannot be its own supplier
        svc.conversation_express_interest(actor=w["ed"], demand=w["demand"], supplier=w["hospital"], body="Hi")
    assert not Conversation.objects.exists()


def test_the_invited_side_s_reply_moves_no_reply_to_in_discussion(w: dict[str, Any], mailoutbox: list[Any]) -> None:
    conversation = invite(w)
    svc.message_send(conversation=conversation, actor=w["ann"], body="Any news?")  # the inviter again
    conversation.refresh_from_db()
    assert conversation.outcome == "no_reply"
    mailoutbox.clear()
    svc.message_send(conversation=conversation, actor=w["bea"], body="Yes, gladly.")
    conversation.refresh_from_db()
    assert conversation.outcome == "in_discussion" and conversation.outcome_at is not None
    assert sorted(m.to[0] for m in mailoutbox) == ["ann@ruijin.example", "ed@ruijin.example"]
    assert "Robots Inc" in mailoutbox[0].subject and "Yes, gladly" not in mailoutbox[0].body
    assert list(conversation.messages.values_list("side", flat=True)) == ["owner", "owner", "supplier"]


def test_viewers_and_outsiders_do_not_write(w: dict[str, Any]) -> None:
    conversation = invite(w)
    for someone in (w["vic"], w["rita"], w["dan"], w["olga"], w["cora"]):
        with pytest.raises(PermissionDenied):
            svc.message_send(conversation=conversation, actor=someone, body="Hello")
        with pytest.raises(PermissionDenied):
            svc.contact_share(conversation=conversation, actor=someone)
        with pytest.raises(PermissionDenied):
            svc.conversation_outcome_set(conversation=conversation, actor=someone, outcome="declined")
    assert conversation.messages.count() == 1


def test_the_owner_records_the_outcome_and_the_supplier_may_only_decline(w: dict[str, Any]) -> None:
    conversation = invite(w)
    with pytest.raises(PermissionDenied):
        svc.conversation_outcome_set(conversation=conversation, actor=w["bea"], outcome="agreed")
    with pytest.raises(ValidationError):
        svc.conversation_outcome_set(conversation=conversation, actor=w["ed"], outcome="no_reply")
    svc.conversation_outcome_set(conversation=conversation, actor=w["ed"], outcome="agreed")
    with pytest.raises(Conflict):  # a transition happens once
        svc.conversation_outcome_set(conversation=conversation, actor=w["ann"], outcome="agreed")
    conversation = svc.conversation_outcome_set(conversation=conversation, actor=w["zoe"], outcome="declined")
    assert conversation.outcome == "declined"
    log = AuditLog.objects.filter(action="conversation_outcome_set").order_by("pk")
    assert [(e.details["before"], e.details["after"]) for e in log] == [("no_reply", "agreed"), ("agreed", "declined")]


def test_addresses_are_shown_only_once_both_sides_agree(w: dict[str, Any], mailoutbox: list[Any]) -> None:
    conversation = invite(w)
    conversation = svc.contact_share(conversation=conversation, actor=w["ed"])
    owner_view = svc.contacts_for(conversation=conversation, side="owner")
    supplier_view = svc.contacts_for(conversation=conversation, side="supplier")
    assert (owner_view.mine, owner_view.theirs, owner_view.address) == (True, False, "")
    assert (supplier_view.mine, supplier_view.theirs, supplier_view.address) == (False, True, "")
    with pytest.raises(Conflict):  # one contact per side
        svc.contact_share(conversation=conversation, actor=w["ann"])
    conversation = svc.contact_share(conversation=conversation, actor=w["bea"])
    assert svc.contacts_for(conversation=conversation, side="owner").address == "bea@robots.example"
    assert svc.contacts_for(conversation=conversation, side="supplier").address == "ed@ruijin.example"
    # The mails say who agreed by organisation, never by address.
    for mail in mailoutbox:
        assert [s for s in identities(w, "ann", "ed", "zoe", "bea") if s in mail.subject + mail.body] == []


def test_an_upheld_report_closes_the_conversation_and_a_dismissed_one_does_not(w: dict[str, Any]) -> None:
    conversation = invite(w)
    rude = svc.message_send(conversation=conversation, actor=w["bea"], body="Something rude")
    with pytest.raises(PermissionDenied):
        svc.abuse_report_create(conversation=conversation, actor=w["dan"], reason="Not mine")
    first = svc.abuse_report_create(conversation=conversation, actor=w["vic"], reason="Rude", message=rude)
    with pytest.raises(PermissionDenied):
        svc.abuse_report_decide(report=first, actor=w["ann"], uphold=True)
    svc.abuse_report_decide(report=first, actor=w["cora"], uphold=False, note="Blunt, not abusive.")
    svc.message_send(conversation=conversation, actor=w["ed"], body="Let us stay polite.")
    second = svc.abuse_report_create(conversation=conversation, actor=w["ed"], reason="Again")
    svc.abuse_report_decide(report=second, actor=w["cora"], uphold=True, note="Closed.")
    with pytest.raises(Conflict):
        svc.abuse_report_decide(report=second, actor=w["cora"], uphold=False)
    assert svc.is_closed(conversation)
    with pytest.raises(Conflict):
        svc.message_send(conversation=conversation, actor=w["bea"], body="One more")
    assert list(AbuseReport.objects.order_by("pk").values_list("status", "decided_by__username")) == [
        ("dismissed", "cora"),
        ("upheld", "cora"),
    ]


def test_a_message_of_another_conversation_cannot_be_reported_here(w: dict[str, Any]) -> None:
    conversation = invite(w)
    other = svc.conversation_invite(actor=w["ed"], demand=w["demand"], capability=w["drone_cap"])
    with pytest.raises(ValidationError):
        svc.abuse_report_create(conversation=conversation, actor=w["ed"], reason="x", message=other.messages.get())


@override_settings(EXCHANGE_MESSAGES_PER_HOUR=3)
def test_a_person_s_messages_are_rate_limited(w: dict[str, Any]) -> None:
    conversation = invite(w)
    for i in range(3):
        svc.message_send(conversation=conversation, actor=w["bea"], body=f"Message {i}")
    with pytest.raises(Conflict):
        svc.message_send(conversation=conversation, actor=w["bea"], body="One too many")
    svc.message_send(conversation=conversation, actor=w["zoe"], body="Her colleague still writes")
    assert conversation.messages.count() == 5


@override_settings(EXCHANGE_CONVERSATIONS_PER_DAY=1)
def test_an_organisation_s_new_conversations_are_rate_limited(w: dict[str, Any]) -> None:
    invite(w)
    with pytest.raises(Conflict):
        svc.conversation_invite(actor=w["ann"], demand=w["demand"], capability=w["drone_cap"])
    assert Conversation.objects.count() == 1
    # Another organisation has its own allowance.
    svc.conversation_express_interest(actor=w["dan"], demand=w["demand"], supplier=w["drones"], body="Drones?")


@override_settings(EXCHANGE_REPORTS_PER_DAY=1)
def test_reports_are_rate_limited(w: dict[str, Any]) -> None:
    conversation = invite(w)
    svc.abuse_report_create(conversation=conversation, actor=w["bea"], reason="One")
    with pytest.raises(Conflict):
        svc.abuse_report_create(conversation=conversation, actor=w["bea"], reason="Two")
    assert AbuseReport.objects.count() == 1
