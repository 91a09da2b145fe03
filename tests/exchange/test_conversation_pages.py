"""The conversation pages: a conversation exists only for its two organisations (and the curators, once it is
reported); a viewer reads and does not write; nobody's address shows on the other side until both sides agree;
the entry page's "express interest" form and the shortlist's "invite to respond" action; the curators'
report queue; both languages; a fixed number of queries for the list."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory

from scenarios.exchange import conversations as svc
from scenarios.models import AbuseReport, Conversation, Message
from tests.exchange.conversation_world import build, identities, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(catalog: Any) -> dict[str, Any]:
    world = build()
    world["conversation"] = svc.conversation_invite(
        actor=world["ed"], demand=world["demand"], capability=world["capability"], body="Would you respond?"
    )
    world["url"] = f"/exchange/conversations/{world['conversation'].code}/"
    return world


def test_the_two_organisations_read_the_thread_and_nobody_else_knows_it_exists(w: dict[str, Any]) -> None:
    url = w["url"]
    for name in ("ann", "ed", "vic", "zoe", "bea", "rita"):
        response = signed_in(w[name]).get(url)
        assert response.status_code == 200, name
        assert "Would you respond?" in response.content.decode()
    for name in ("dan", "olga", "cora"):  # a third organisation, no organisation, a curator before any report
        assert signed_in(w[name]).get(url).status_code == 404, name
        assert signed_in(w[name]).get("/exchange/conversations/").content.decode().count(w["conversation"].code) == 0
    # The public is asked to sign in, the same way for a conversation that exists and one that does not.
    public = Client()
    here, nowhere = public.get(url), public.get("/exchange/conversations/c-000000000000000000000000/")
    assert here.status_code == nowhere.status_code == 302
    assert here["Location"].split("?")[0] == nowhere["Location"].split("?")[0]
    assert "Would you respond?" not in here.content.decode()
    # The integer id does not address it.
    assert signed_in(w["ed"]).get(f"/exchange/conversations/{w['conversation'].pk}/").status_code == 404


def test_outsiders_get_404_on_every_action(w: dict[str, Any]) -> None:
    code = w["conversation"].code
    actions = {
        "reply": {"body": "Let me in"},
        "outcome": {"outcome": "declined"},
        "share-contact": {},
        "report": {"reason": "Nosy"},
    }
    for name in ("dan", "olga", "cora"):
        client = signed_in(w[name])
        for action, data in actions.items():
            assert client.post(f"/exchange/conversations/{code}/{action}/", data).status_code == 404, (name, action)
    conversation = Conversation.objects.get()
    assert conversation.messages.count() == 1 and conversation.outcome == "no_reply"
    assert conversation.supplier_contact is None and not AbuseReport.objects.exists()


def test_a_viewer_reads_but_does_not_write(w: dict[str, Any]) -> None:
    rita = signed_in(w["rita"])
    page = rita.get(w["url"]).content.decode()
    assert 'name="body"' not in page and "share-contact" not in page and 'name="outcome"' not in page
    response = rita.post(w["url"] + "reply/", {"body": "Hello from a viewer"})
    assert response.status_code == 403
    assert rita.post(w["url"] + "share-contact/").status_code == 403
    assert rita.post(w["url"] + "outcome/", {"outcome": "declined"}).status_code == 403
    assert Message.objects.count() == 1
    # She may still report it to the curators.
    assert rita.post(w["url"] + "report/", {"reason": "Spam"}).status_code == 302


def test_a_reply_through_the_page_tells_the_other_side_by_mail(w: dict[str, Any], mailoutbox: list[Any]) -> None:
    mailoutbox.clear()
    bea = signed_in(w["bea"])
    response = bea.post(w["url"] + "reply/", {"body": "Gladly. Let us talk."})
    assert response.status_code == 302 and response["Location"] == w["url"]
    assert Conversation.objects.get().outcome == "in_discussion"
    assert sorted(m.to[0] for m in mailoutbox) == ["ann@ruijin.example", "ed@ruijin.example"]
    assert w["url"] in mailoutbox[0].body
    empty = bea.post(w["url"] + "reply/", {"body": "   "})
    assert empty.status_code == 400 and Message.objects.count() == 2


def test_no_address_or_name_crosses_over_until_both_share_then_each_sees_the_other_s(w: dict[str, Any]) -> None:
    ed, bea = signed_in(w["ed"]), signed_in(w["bea"])
    bea.post(w["url"] + "reply/", {"body": "Hello"})
    owner_people, supplier_people = identities(w, "ann", "ed", "vic"), identities(w, "zoe", "bea", "rita")

    def seen(client: Client, secrets: list[str]) -> list[str]:
        pages = [client.get(w["url"]), client.get("/exchange/conversations/")]
        return [s for s in secrets for p in pages if s in p.content.decode()]

    assert seen(ed, supplier_people) == [] and seen(bea, owner_people) == []
    assert ed.post(w["url"] + "share-contact/").status_code == 302
    assert seen(ed, supplier_people) == [] and seen(bea, owner_people) == []
    assert "The other side has agreed." in bea.get(w["url"]).content.decode()
    assert "Your organisation has agreed to share a contact." in ed.get(w["url"]).content.decode()
    assert bea.post(w["url"] + "share-contact/").status_code == 302
    assert "bea@robots.example" in ed.get(w["url"]).content.decode()
    assert "ed@ruijin.example" in bea.get(w["url"]).content.decode()
    # Only the two who agreed: their colleagues' addresses and everybody's names stay out.
    assert seen(ed, [s for s in supplier_people if s not in "bea@robots.example"]) == []
    assert seen(bea, [s for s in owner_people if s not in "ed@ruijin.example"]) == []


def test_the_owner_records_an_outcome_and_the_supplier_may_only_decline(w: dict[str, Any]) -> None:
    assert signed_in(w["bea"]).post(w["url"] + "outcome/", {"outcome": "agreed"}).status_code == 403
    assert signed_in(w["ed"]).post(w["url"] + "outcome/", {"outcome": "agreed"}).status_code == 302
    assert Conversation.objects.get().outcome == "agreed"
    assert signed_in(w["ed"]).post(w["url"] + "outcome/", {"outcome": "nonsense"}).status_code == 400
    assert signed_in(w["zoe"]).post(w["url"] + "outcome/", {"outcome": "declined"}).status_code == 302
    assert Conversation.objects.get().outcome == "declined"


def test_a_supplier_expresses_interest_from_the_entry_page(w: dict[str, Any], mailoutbox: list[Any]) -> None:
    entry_url = f"/exchange/entries/{w['demand'].code}/"
    dan = signed_in(w["dan"])
    page = dan.get(entry_url).content.decode()
    assert "Express interest" in page and w["drone_cap"].code in page
    # Not for the owner, a viewer, the public, or a supplier already talking about it (a link instead).
    for client in (signed_in(w["ed"]), signed_in(w["rita"]), Client()):
        assert (
            'action="/exchange/entries/' + w["demand"].code + '/interest/"'
            not in client.get(entry_url).content.decode()
        )
    bea_page = signed_in(w["bea"]).get(entry_url).content.decode()
    assert w["url"] in bea_page and "/interest/" not in bea_page
    # A bad form keeps what was typed.
    typed = {"supplier": w["drones"].code, "capability": w["capability"].code, "body": "Our drones fly medicine."}
    refused = dan.post(entry_url + "interest/", typed)
    assert refused.status_code == 400 and "Our drones fly medicine." in refused.content.decode()
    mailoutbox.clear()
    response = dan.post(entry_url + "interest/", {**typed, "capability": w["drone_cap"].code})
    conversation = Conversation.objects.get(supplier=w["drones"])
    assert response.status_code == 302 and response["Location"] == f"/exchange/conversations/{conversation.code}/"
    assert conversation.opened_by == "supplier" and conversation.capability == w["drone_cap"]
    assert sorted(m.to[0] for m in mailoutbox) == ["ann@ruijin.example", "ed@ruijin.example"]
    # Again: back to the conversation that exists.
    again = dan.post(entry_url + "interest/", {**typed, "capability": ""})
    assert again["Location"] == f"/exchange/conversations/{conversation.code}/"
    assert Conversation.objects.filter(supplier=w["drones"]).count() == 1


def test_the_shortlist_row_invites_to_respond(w: dict[str, Any]) -> None:
    template = Template("{% load exchange_conversations %}{% invite_action demand capability %}")

    def row(user: Any, capability: Any) -> str:
        request = RequestFactory().get("/")
        request.user = user
        return template.render(Context({"request": request, "demand": w["demand"], "capability": capability}))

    invite_url = f"/exchange/entries/{w['demand'].code}/invite/{w['drone_cap'].code}/"
    assert "Invite to respond" in row(w["ed"], w["drone_cap"]) and invite_url in row(w["ed"], w["drone_cap"])
    assert w["url"] in row(w["ed"], w["capability"])  # invited already: the conversation
    assert row(w["vic"], w["drone_cap"]).strip() == "" and row(w["dan"], w["drone_cap"]).strip() == ""
    assert signed_in(w["vic"]).post(invite_url).status_code == 403
    response = signed_in(w["ed"]).post(invite_url)
    conversation = Conversation.objects.get(supplier=w["drones"])
    assert response["Location"] == f"/exchange/conversations/{conversation.code}/"
    assert signed_in(w["ed"]).post(invite_url)["Location"] == response["Location"]


def test_curators_read_reported_conversations_and_decide_in_the_queue(w: dict[str, Any]) -> None:
    bea = signed_in(w["bea"])
    bea.post(w["url"] + "reply/", {"body": "zqrude words"})
    rude = Message.objects.get(body="zqrude words")
    assert bea.post(w["url"] + "report/", {"reason": "Wrong message", "message": 999999}).status_code == 400
    assert signed_in(w["ed"]).post(w["url"] + "report/", {"reason": "Rude", "message": rude.pk}).status_code == 302
    cora = signed_in(w["cora"])
    queue = cora.get("/exchange/reports/").content.decode()
    assert "zqrude words" in queue and "Rude" in queue and w["conversation"].code in queue
    assert "zqrude words" in cora.get(w["url"]).content.decode()  # the whole thread, in context
    assert cora.post(w["url"] + "reply/", {"body": "A curator does not write"}).status_code == 403
    for name in ("ed", "bea", "dan"):
        assert signed_in(w[name]).get("/exchange/reports/").status_code in (302, 403), name
    report = AbuseReport.objects.get()
    assert signed_in(w["ed"]).post(f"/exchange/reports/{report.pk}/", {"decision": "uphold"}).status_code in (302, 403)
    assert AbuseReport.objects.get().status == "open"
    assert cora.post(f"/exchange/reports/{report.pk}/", {"decision": "uphold", "note": "Abusive."}).status_code == 302
    assert AbuseReport.objects.get().status == "upheld"
    page = bea.get(w["url"]).content.decode()
    assert "closed this conversation" in page and 'name="body"' not in page
    assert bea.post(w["url"] + "reply/", {"body": "Still here"}).status_code == 409
    # The staff navigation leads curators to the queue, and nobody else.
    assert 'href="/exchange/reports/"' in cora.get("/exchange/").content.decode()
    assert 'href="/exchange/reports/"' not in signed_in(w["ed"]).get("/exchange/").content.decode()


def test_the_pages_speak_chinese(w: dict[str, Any]) -> None:
    ed = signed_in(w["ed"])
    page = ed.get("/zh-hans" + w["url"]).content.decode()
    assert "对话" in page and "交换联系方式" in page
    assert "对话" in ed.get("/zh-hans/exchange/conversations/").content.decode()


def test_the_list_costs_the_same_queries_with_many_conversations(
    w: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    ed = signed_in(w["ed"])
    ed.get("/exchange/conversations/")  # the session and the language, once
    with django_assert_max_num_queries(12) as few:
        response = ed.get("/exchange/conversations/")
    assert response.status_code == 200
    svc.conversation_invite(actor=w["ed"], demand=w["demand"], capability=w["drone_cap"])
    for i in range(5):
        svc.message_send(conversation=w["conversation"], actor=w["bea"], body=f"Reply {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = ed.get("/exchange/conversations/").content.decode()
    assert "Drone Works" in page and "Robots Inc" in page


def test_the_report_queue_costs_the_same_queries_with_many_reports(
    w: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    cora = signed_in(w["cora"])

    def report(n: int) -> None:
        message = svc.message_send(conversation=w["conversation"], actor=w["bea"], body=f"zqmessage {n}")
        svc.abuse_report_create(conversation=w["conversation"], actor=w["ed"], reason=f"Reason {n}", message=message)

    report(0)
    cora.get("/exchange/reports/")
    with django_assert_max_num_queries(15) as few:
        assert cora.get("/exchange/reports/").status_code == 200
    for n in range(1, 5):
        report(n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = cora.get("/exchange/reports/").content.decode()
    assert all(f"zqmessage {n}" in page for n in range(5))
