"""Pilots: Ruijin Hospital opens a pilot of its published demand with Unitree; both record its stages with
evidence; Cora the curator verifies or rejects the evidence; only verified stages ever show publicly; stale
pilots are reminded once per period."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from foresight.core.errors import Conflict
from foresight.core.models import AuditLog
from scenarios.exchange import pilots as svc
from scenarios.models import Entry, Pilot, PilotStageChange
from tests.exchange.pilot_world import agreed_conversation, build_world, change_of, days_ago, open_pilot, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(catalog: Any) -> dict[str, Any]:
    return build_world()


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


# --- Opening -----------------------------------------------------------------------------------------------------


def test_ann_opens_a_pilot_from_an_agreed_conversation_and_it_waits_for_verification(world: dict[str, Any]) -> None:
    conversation = agreed_conversation(world)
    pilot = svc.pilot_open(
        actor=world["ann"],
        demand=world["demand"],
        site_en="Ward 3",
        region_en="Shanghai",
        conversation=conversation,
        on=days_ago(10),
        evidence=report(),
    )
    roles = {p.organisation.code: (p.role, p.capability_id) for p in pilot.participants.select_related("organisation")}
    assert roles == {
        world["hospital"].code: ("owner", None),
        world["unitree"].code: ("supplier", world["capability"].pk),
    }
    (change,) = pilot.stage_changes.all()
    assert (change.stage, change.status, change.on) == ("opened", "pending", days_ago(10))
    assert pilot.stage == "opened" and pilot.verified_stage == "" and not pilot.is_public
    assert AuditLog.objects.filter(action="pilot_open", details__pilot=pilot.code).exists()


def test_only_the_owners_editors_open_a_pilot_and_only_on_a_published_demand(world: dict[str, Any]) -> None:
    for outsider in (world["vic"], world["ben"], world["olga"], world["cora"]):
        with pytest.raises(PermissionDenied):
            svc.pilot_open(actor=outsider, demand=world["demand"], site_en="x", on=days_ago(1), evidence=report())
    Entry.objects.filter(pk=world["demand"].pk).update(status=Entry.Status.WITHDRAWN)
    world["demand"].refresh_from_db()
    with pytest.raises(Conflict):
        open_pilot(world)
    assert not Pilot.objects.exists()


def test_a_conversation_must_be_agreed_and_about_this_demand(world: dict[str, Any]) -> None:
    conversation = agreed_conversation(world)
    conversation.outcome = "in_discussion"
    conversation.save()
    with pytest.raises(Conflict):
        open_pilot(world, conversation=conversation)
    assert not Pilot.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"evidence": svc.EvidenceIn(kind="report")}, "evidence_url"),
        ({"evidence": svc.EvidenceIn(kind="link", url="ftp://files.example/x")}, "evidence_url"),
        ({"evidence": svc.EvidenceIn(kind="figure")}, "sites_reached"),
        ({"evidence": svc.EvidenceIn(kind="figure", sites_reached=-1)}, "sites_reached"),
        ({"evidence": svc.EvidenceIn(kind="poster", url="https://x.example")}, "evidence_kind"),
        ({"evidence": report(note_en="Call 13812345678 for the report")}, "note_en"),
        ({"on": dt.date.today() + dt.timedelta(days=3)}, "on"),
        ({"site_en": "", "site_zh": ""}, "site_en"),
    ],
)
def test_bad_opening_input_is_refused_with_a_clear_error_and_nothing_is_written(
    world: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    values: dict[str, Any] = {
        "actor": world["ann"],
        "demand": world["demand"],
        "site_en": "Ward 3",
        "on": days_ago(5),
        "evidence": report(),
        **change,
    }
    with pytest.raises(ValidationError) as caught:
        svc.pilot_open(**values)
    assert field in caught.value.message_dict
    assert not Pilot.objects.exists() and not PilotStageChange.objects.exists()


# --- Stages --------------------------------------------------------------------------------------------------------


def test_stages_move_forward_only_dated_in_order_and_not_in_the_future(world: dict[str, Any]) -> None:
    pilot = open_pilot(world, on=days_ago(300))
    ben = world["ben"]  # the supplier's editor records stages too
    svc.pilot_stage_add(actor=ben, pilot=pilot, stage="pilot", on=days_ago(200), evidence=report())
    pilot.refresh_from_db()
    assert pilot.stage == "pilot"
    refusals = [
        ({"stage": "opened", "on": days_ago(100)}, "stage"),  # backwards
        ({"stage": "pilot", "on": days_ago(100)}, "stage"),  # the same stage again
        ({"stage": "scaling", "on": days_ago(250)}, "on"),  # before the previous stage's date
        ({"stage": "scaling", "on": timezone.localdate() + dt.timedelta(days=1)}, "on"),
        ({"stage": "nirvana", "on": days_ago(10)}, "stage"),
        ({"stage": "stopped", "on": days_ago(10)}, "stop_reason_en"),  # a stop needs its reason
    ]
    before = list(pilot.stage_changes.values_list("pk", flat=True))
    for values, field in refusals:
        with pytest.raises(ValidationError) as caught:
            svc.pilot_stage_add(actor=ben, pilot=pilot, evidence=report(), **values)
        assert field in caught.value.message_dict, values
    pilot.refresh_from_db()
    assert pilot.stage == "pilot" and list(pilot.stage_changes.values_list("pk", flat=True)) == before
    # Skipping ahead is forward; then a stop ends it and nothing follows.
    svc.pilot_stage_add(actor=ben, pilot=pilot, stage="scaling", on=days_ago(100), evidence=report())
    svc.pilot_stage_add(
        actor=world["ann"],
        pilot=pilot,
        stage="stopped",
        on=days_ago(50),
        evidence=svc.EvidenceIn(kind="figure", users_reached=40),
        stop_reason_en="The ward closed for renovation.",
    )
    pilot.refresh_from_db()
    assert pilot.stage == "stopped" and pilot.stop_reason_en.startswith("The ward")
    with pytest.raises(Conflict):
        svc.pilot_stage_add(actor=ben, pilot=pilot, stage="mainstream", on=days_ago(1), evidence=report())


def test_viewers_and_other_organisations_record_no_stage(world: dict[str, Any]) -> None:
    pilot = open_pilot(world)
    for person in (world["vic"], world["olga"], world["cora"]):
        with pytest.raises(PermissionDenied):
            svc.pilot_stage_add(actor=person, pilot=pilot, stage="pilot", on=days_ago(1), evidence=report())
    assert pilot.stage_changes.count() == 1


# --- Verification ----------------------------------------------------------------------------------------------------


def test_curators_verify_the_opening_first_and_the_public_stage_is_the_furthest_verified(
    world: dict[str, Any], mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    pilot = open_pilot(world, on=days_ago(300))
    svc.pilot_stage_add(actor=world["ann"], pilot=pilot, stage="pilot", on=days_ago(200), evidence=report())
    cora = world["cora"]
    for somebody in (world["ann"], world["ben"], world["olga"]):
        with pytest.raises(PermissionDenied):
            svc.pilot_stage_verify(actor=somebody, change=change_of(pilot, "opened"))
    with pytest.raises(Conflict):  # the opening first
        svc.pilot_stage_verify(actor=cora, change=change_of(pilot, "pilot"))
    assert not PilotStageChange.objects.filter(status="verified").exists()
    with django_capture_on_commit_callbacks(execute=True):  # the mail goes once the decision is committed
        svc.pilot_stage_verify(actor=cora, change=change_of(pilot, "opened"))
    pilot.refresh_from_db()
    assert pilot.verified_stage == "opened" and pilot.stage == "pilot"
    with pytest.raises(Conflict):  # decided once
        svc.pilot_stage_verify(actor=cora, change=change_of(pilot, "opened"))
    with django_capture_on_commit_callbacks(execute=True):
        svc.pilot_stage_verify(actor=cora, change=change_of(pilot, "pilot"))
    pilot.refresh_from_db()
    assert pilot.verified_stage == "pilot"
    assert AuditLog.objects.filter(action="pilot_stage_verify", details__pilot=pilot.code).count() == 2
    # Each editor and admin of both organisations is told, each in a mail of their own; Vic (a viewer) is not.
    recipients = sorted(a for m in mailoutbox for a in m.to)
    assert all(len(m.to) == 1 for m in mailoutbox)
    assert recipients == sorted(["ann@hospital.example", "ben@unitree.example", "uma@unitree.example"] * 2)
    assert "verified" in mailoutbox[0].subject and reverse("exchange:pilot", args=[pilot.code]) in mailoutbox[0].body


def test_rejected_evidence_says_why_and_the_claim_no_longer_stands(
    world: dict[str, Any], mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    pilot = open_pilot(world, on=days_ago(300))
    cora = world["cora"]
    svc.pilot_stage_verify(actor=cora, change=change_of(pilot, "opened"))
    svc.pilot_stage_add(
        actor=world["ann"],
        pilot=pilot,
        stage="stopped",
        on=days_ago(20),
        evidence=report(),
        stop_reason_en="Budget cut.",
    )
    with pytest.raises(ValidationError):
        svc.pilot_stage_reject(actor=cora, change=change_of(pilot, "stopped"), reason="  ")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        svc.pilot_stage_reject(
            actor=cora, change=change_of(pilot, "stopped"), reason="The report is about another ward."
        )
    pilot.refresh_from_db()
    assert (pilot.stage, pilot.verified_stage, pilot.stop_reason_en) == ("opened", "opened", "")
    assert change_of(pilot, "stopped").status == "rejected"
    assert "another ward" in mailoutbox[0].body and "not accepted" in mailoutbox[0].subject
    # The stage can be recorded again with other evidence.
    svc.pilot_stage_add(actor=world["ann"], pilot=pilot, stage="pilot", on=days_ago(10), evidence=report())


# --- Staleness -------------------------------------------------------------------------------------------------------


def test_stale_pilots_are_reminded_once_per_period_without_anyone_s_address_in_the_mail(
    world: dict[str, Any], mailoutbox: list[Any], settings: Any
) -> None:
    settings.PILOT_STALE_DAYS = 30
    stale, fresh, stopped = open_pilot(world), open_pilot(world), open_pilot(world)
    svc.pilot_stage_add(
        actor=world["ann"], pilot=stopped, stage="stopped", on=days_ago(1), evidence=report(), stop_reason_en="Over."
    )
    long_ago = timezone.now() - dt.timedelta(days=31)
    Pilot.objects.filter(pk__in=[stale.pk, stopped.pk]).update(last_update_at=long_ago)
    assert svc.pilots_remind_stale() == 1
    assert sorted(m.to[0] for m in mailoutbox) == ["ann@hospital.example", "ben@unitree.example", "uma@unitree.example"]
    for mail in mailoutbox:
        assert len(mail.to) == 1 and "@" not in mail.body and stale.code in mail.subject
    # Idempotent: a second run in the period sends nothing, also for a single pilot.
    assert svc.pilots_remind_stale() == 0 and not svc.pilot_remind(pilot_id=stale.pk) and len(mailoutbox) == 3
    assert fresh.pk not in Pilot.objects.filter(last_reminded_at__isnull=False).values_list("pk", flat=True)
    # A period later, still silent: reminded again.
    Pilot.objects.filter(pk=stale.pk).update(last_reminded_at=long_ago)
    assert svc.pilots_remind_stale() == 1 and len(mailoutbox) == 6


def test_the_beat_schedule_runs_the_stale_reminder_task(world: dict[str, Any], settings: Any) -> None:
    from scenarios import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["pilots-stale"]
    assert entry["task"] == tasks.pilots_remind_stale.name
    assert tasks.pilots_remind_stale() == 0


# --- Pages -----------------------------------------------------------------------------------------------------------


def test_the_pilot_page_is_for_participants_and_curators_only(world: dict[str, Any]) -> None:
    pilot = open_pilot(world)
    url = reverse("exchange:pilot", args=[pilot.code])
    for user in (None, world["olga"]):
        assert client_for(user).get(url).status_code == 404
        assert client_for(user).post(reverse("exchange:pilot-stage-add", args=[pilot.code])).status_code == 404
    for user in (world["ann"], world["vic"], world["ben"], world["cora"]):
        page = client_for(user).get(url)
        assert page.status_code == 200 and "Awaiting verification" in page.content.decode()
    assert "Record the next stage" in client_for(world["ben"]).get(url).content.decode()
    assert "Record the next stage" not in client_for(world["vic"]).get(url).content.decode()
    assert 'value="verify"' in client_for(world["cora"]).get(url).content.decode()


def test_a_stage_is_recorded_from_the_page_and_bad_input_keeps_what_was_typed(world: dict[str, Any]) -> None:
    pilot = open_pilot(world, on=days_ago(30))
    ann = client_for(world["ann"])
    url = reverse("exchange:pilot-stage-add", args=[pilot.code])
    bad = ann.post(
        url,
        {
            "stage": "pilot",
            "on": days_ago(5).isoformat(),
            "evidence_kind": "report",
            "evidence_title": "Ward report typed by Ann",
        },
    )
    assert bad.status_code == 400
    assert "Ward report typed by Ann" in bad.content.decode() and "web address" in bad.content.decode()
    assert pilot.stage_changes.count() == 1
    good = ann.post(
        url, {"stage": "pilot", "on": days_ago(5).isoformat(), "evidence_kind": "figure", "users_reached": "120"}
    )
    assert good.status_code == 302 and change_of(pilot, "pilot").users_reached == 120


def test_curators_decide_evidence_from_their_review_page(world: dict[str, Any], settings: Any) -> None:
    pilot = open_pilot(world)
    review = reverse("exchange:pilot-review")
    assert client_for(world["ann"]).get(review).status_code == 403
    cora = client_for(world["cora"])
    page = cora.get(review).content.decode()
    assert pilot.code in page and "No stale pilot." in page
    decide = reverse("exchange:pilot-stage-decide", args=[change_of(pilot, "opened").pk])
    assert client_for(world["ann"]).post(decide, {"action": "verify"}).status_code == 403
    assert cora.post(decide, {"action": "reject", "reason": ""}).status_code == 400
    assert cora.post(decide, {"action": "verify", "next": "review"})["Location"] == review
    assert cora.post(decide, {"action": "verify"}).status_code == 409
    Pilot.objects.filter(pk=pilot.pk).update(last_update_at=timezone.now() - dt.timedelta(days=400))
    assert "No stale pilot." not in cora.get(review).content.decode()


def test_the_entry_page_offers_open_a_pilot_to_the_owner_s_editors_only(world: dict[str, Any]) -> None:
    url = reverse("exchange:entry", args=[world["demand"].code])
    assert "Open a pilot" in client_for(world["ann"]).get(url).content.decode()
    for user in (None, world["vic"], world["ben"], world["olga"]):
        assert "Open a pilot" not in client_for(user).get(url).content.decode()
    open_url = reverse("exchange:pilot-open", args=[world["demand"].code])
    assert client_for(world["olga"]).get(open_url).status_code == 404
    form = {
        "site_en": "Ward 5",
        "suppliers": f"{world['unitree'].code} {world['capability'].code}",
        "on": days_ago(3).isoformat(),
        "evidence_kind": "link",
        "evidence_url": "https://news.example/ward-5",
    }
    assert client_for(world["ann"]).post(open_url, {**form, "suppliers": "nobody-here"}).status_code == 400
    made = client_for(world["ann"]).post(open_url, form)
    assert made.status_code == 302
    pilot = Pilot.objects.get()
    assert pilot.participants.get(role="supplier").capability == world["capability"]
    assert pilot.code in client_for(world["ann"]).get(url).content.decode()


# --- What the public sees ---------------------------------------------------------------------------------------------


def public_outputs(world: dict[str, Any]) -> str:
    """Everything public that could show a pilot: the scenario, entry and organisation pages, the pipeline
    and pilot list pages, the API and the downloads."""
    anon = Client()
    urls = [
        reverse("scenario-detail", args=[world["demand"].scenario.code]),
        reverse("exchange:entry", args=[world["demand"].code]),
        reverse("organisation-detail", args=[world["hospital"].code]),
        reverse("organisation-detail", args=[world["unitree"].code]),
        reverse("pipeline"),
        reverse("pilot-list"),
        "/api/v1/pilots/",
        "/api/v1/pipeline/",
        reverse("pilots-csv"),
        reverse("pilots-json"),
        reverse("pipeline-csv"),
        reverse("pipeline-json"),
    ]
    out = []
    for url in urls:
        response = anon.get(url)
        assert response.status_code == 200, url
        out.append(response.content.decode())
    return "\n".join(out)


def test_an_unverified_stage_never_shows_publicly(world: dict[str, Any]) -> None:
    pilot = open_pilot(world, on=days_ago(300))
    svc.pilot_stage_add(
        actor=world["ben"],
        pilot=pilot,
        stage="demonstration",
        on=days_ago(100),
        evidence=report(url="https://secret.example/demo-claim"),
    )
    seen = public_outputs(world)
    assert pilot.code not in seen and "opening.pdf" not in seen
    assert json.loads(Client().get("/api/v1/pipeline/").content)["total"] == 0
    svc.pilot_stage_verify(actor=world["cora"], change=change_of(pilot, "opened"))
    seen = public_outputs(world)
    assert pilot.code in seen and "opening.pdf" in seen
    assert "secret.example" not in seen and "Demonstration</strong>" not in seen
    listed = json.loads(Client().get("/api/v1/pilots/").content)["results"]
    assert [p["verified_stage"] for p in listed] == ["opened"]
    assert [c["stage"] for c in listed[0]["timeline"]] == ["opened"]
    assert "conversation" not in listed[0]
    svc.pilot_stage_verify(actor=world["cora"], change=change_of(pilot, "demonstration"))
    assert "secret.example" in public_outputs(world)


def test_a_stop_reason_shows_only_once_the_stop_is_verified(world: dict[str, Any]) -> None:
    pilot = open_pilot(world)
    svc.pilot_stage_verify(actor=world["cora"], change=change_of(pilot, "opened"))
    svc.pilot_stage_add(
        actor=world["ann"],
        pilot=pilot,
        stage="stopped",
        on=days_ago(1),
        evidence=report(),
        stop_reason_en="Negotiations with the insurer failed.",
    )
    assert "insurer" not in public_outputs(world)
    svc.pilot_stage_verify(actor=world["cora"], change=change_of(pilot, "stopped"))
    assert "insurer" in public_outputs(world)


def test_the_pilot_pages_speak_chinese(world: dict[str, Any]) -> None:
    pilot = open_pilot(world)
    svc.pilot_stage_verify(actor=world["cora"], change=change_of(pilot, "opened"))
    with translation.override("zh-hans"):
        urls = [reverse("pipeline"), reverse("pilot-list"), reverse("exchange:pilot", args=[pilot.code])]
    assert all(url.startswith("/zh-hans/") for url in urls)
    assert "试点管线" in Client().get(urls[0]).content.decode()
    assert "瑞金医院三病区" in Client().get(urls[1]).content.decode()
    assert "时间线" in client_for(world["ann"]).get(urls[2]).content.decode()
