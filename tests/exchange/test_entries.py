"""Demand and capability entries: who writes them, what a complete entry is, and the review workflow
(draft → submitted → in review → changes requested / accepted / rejected; withdrawn), each step audited."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from foresight.core.errors import Conflict
from foresight.core.models import AuditLog
from scenarios.exchange import entries as svc
from scenarios.exchange.catalog_release import PROGRAMME_CODE
from scenarios.exchange.organisations import organisation_create
from scenarios.models import Entry, EntryComment, Membership
from tests.factories import staff_user

pytestmark = pytest.mark.django_db
User = get_user_model()


def person(email: str) -> Any:
    user = User.objects.create_user(email.split("@")[0], email, "a-long-password-9")
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture
def people(catalog: Any) -> dict[str, Any]:
    ann, ed, vic = person("ann@hospital.example"), person("ed@hospital.example"), person("vic@hospital.example")
    hospital = organisation_create(user=ann, name_en="Ruijin Hospital", kind="public_service")
    Membership.objects.create(organisation=hospital, user=ed, role="editor")
    Membership.objects.create(organisation=hospital, user=vic, role="viewer")
    zoe = person("zoe@robots.example")
    robots = organisation_create(user=zoe, name_en="Robots Inc", kind="enterprise")
    return {
        "ann": ann,
        "ed": ed,
        "vic": vic,
        "zoe": zoe,
        "hospital": hospital,
        "robots": robots,
        "curator": staff_user("cora", "Curator"),
        "analyst": staff_user("al", "Analyst"),
    }


DEMAND = {
    "title_zh": "病房护理机器人试点",
    "summary_zh": "夜班护士人手不足，需要机器人协助巡视和送药。",
    "setting": "hospital",
    "offers": ["test_site", "data"],
    "window_start": "2027-03-01",
    "window_end": "2028-02-28",
    "sources": ["https://example.org/plan"],
}


def draft(people: dict[str, Any], **extra: Any) -> Entry:
    values = {**DEMAND, **extra}
    topics = values.pop("topics", [("humanoid-robots", "core")])
    return svc.entry_create(organisation=people["hospital"], actor=people["ed"], kind="demand", topics=topics, **values)


def test_an_editor_writes_a_demand_entry_in_chinese_first(people: dict[str, Any]) -> None:
    entry = draft(people)
    assert entry.status == "draft" and entry.title_zh and not entry.title_en
    assert list(entry.topic_links.values_list("topic__code", "role")) == [("humanoid-robots", "core")]
    assert entry.sources == [{"url": "https://example.org/plan", "title": ""}]
    assert AuditLog.objects.filter(action="entry_create", actor=people["ed"]).exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"topics": [("no-such-topic", "core")]},
        {"topics": [("humanoid-robots", "central")]},
        {"offers": ["free-lunch"]},
        {"sources": ["javascript:alert(1)"]},
        {"sources": [f"https://example.org/{i}" for i in range(11)]},
        {"trl": 10},
        {"trl": 7},  # a capability's field on a demand entry
        {"budget_min": 10, "budget_max": 5},
        {"window_start": "2028-01-01", "window_end": "2027-01-01"},
        {"title_zh": "x" * 201},
        {"telephone": "123"},
        {"summary_en": "Call 138-0013-8000 or write to us"},
        {"summary_zh": "联系电话：021-64370045"},
        {"constraints_en": "Questions to boss@hospital.example"},
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(people: dict[str, Any], bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        draft(people, **bad)
    assert not Entry.objects.exclude(organisation__code=PROGRAMME_CODE).exists()  # the catalog's own stay


def test_only_writers_of_the_organisation_write(people: dict[str, Any]) -> None:
    for outsider in (people["vic"], people["zoe"], people["curator"]):
        with pytest.raises(PermissionDenied):
            svc.entry_create(organisation=people["hospital"], actor=outsider, kind="demand", **DEMAND)
    entry = draft(people)
    for outsider in (people["vic"], people["zoe"], people["analyst"]):
        with pytest.raises(PermissionDenied):
            svc.entry_update(entry=entry, actor=outsider, title_en="Mine")
        with pytest.raises(PermissionDenied):
            svc.entry_submit(entry=entry, actor=outsider)
        with pytest.raises(PermissionDenied):  # a viewer reads the review thread; she does not write in it
            svc.entry_comment(entry=entry, actor=outsider, body="Mine")
    assert not svc.can_read(entry=entry, user=people["zoe"])
    # A viewer reads her organisation's draft; curators see it once it is submitted.
    assert svc.can_read(entry=entry, user=people["vic"]) and not svc.can_read(entry=entry, user=people["curator"])
    entry.refresh_from_db()
    assert entry.title_en == "" and entry.status == "draft"


def test_an_incomplete_entry_cannot_be_submitted(people: dict[str, Any]) -> None:
    entry = draft(people, offers=[], topics=[])
    with pytest.raises(ValidationError, match="catalog topic.*offers|offers.*catalog topic"):
        svc.entry_submit(entry=entry, actor=people["ed"])
    entry.refresh_from_db()
    assert entry.status == "draft"
    capability = svc.entry_create(
        organisation=people["robots"],
        actor=people["zoe"],
        kind="capability",
        title_en="Ward robot",
        summary_en="Autonomous rounds.",
        topics=[("humanoid-robots", "core")],
    )
    with pytest.raises(ValidationError, match="TRL"):
        svc.entry_submit(entry=capability, actor=people["zoe"])


def test_the_review_round_trip(people: dict[str, Any]) -> None:
    ed, cora = people["ed"], people["curator"]
    entry = svc.entry_submit(entry=draft(people), actor=ed)
    assert entry.status == "submitted" and entry.submitted_at
    # Submitted: the proposer can no longer edit; a curator completes the English and starts the review.
    with pytest.raises(Conflict):
        svc.entry_update(entry=entry, actor=ed, title_zh="改")
    entry = svc.entry_update(entry=entry, actor=cora, title_en="Ward-care robot pilot")
    entry = svc.entry_review_start(entry=entry, actor=cora)
    with pytest.raises(PermissionDenied):
        svc.entry_accept(entry=entry, actor=ed)  # not the proposer's call
    with pytest.raises(ValidationError):
        svc.entry_request_changes(entry=entry, actor=cora, body="  ")  # a request needs its reason
    assert Entry.objects.get(pk=entry.pk).status == "in_review"
    entry = svc.entry_request_changes(entry=entry, actor=cora, body="Say how many wards.")
    assert entry.status == "changes_requested"
    assert EntryComment.objects.get(entry=entry).kind == "changes_requested"
    # The proposer sees the comment, answers, edits and resubmits.
    svc.entry_comment(entry=entry, actor=ed, body="Six wards, 300 beds.")
    entry = svc.entry_update(entry=entry, actor=ed, scale_sites=6, scale_users=300)
    entry = svc.entry_submit(entry=entry, actor=ed)
    entry = svc.entry_accept(entry=svc.entry_review_start(entry=entry, actor=cora), actor=cora)
    assert entry.status == "accepted"
    with pytest.raises(Conflict):
        svc.entry_submit(entry=entry, actor=ed)
    actions = list(AuditLog.objects.filter(details__entry=entry.code).order_by("pk").values_list("action", flat=True))
    assert actions == [
        "entry_create",
        "entry_submit",
        "entry_update",
        "entry_review",
        "entry_request_changes",
        "entry_comment",
        "entry_update",
        "entry_submit",
        "entry_review",
        "entry_accept",
    ]
    # What changed is kept too (the entry's history).
    assert entry.history.count() >= 6


def test_reject_needs_a_reason_and_withdraw_ends_it(people: dict[str, Any]) -> None:
    cora, ed = people["curator"], people["ed"]
    entry = svc.entry_submit(entry=draft(people), actor=ed)
    with pytest.raises(ValidationError):
        svc.entry_reject(entry=entry, actor=cora, reason="")
    with pytest.raises(ValidationError):
        svc.entry_reject(entry=entry, actor=cora, reason="x" * 2001)
    assert Entry.objects.get(pk=entry.pk).status == "submitted"
    entry = svc.entry_reject(entry=entry, actor=cora, reason="A duplicate of an entry already published.")
    assert entry.status == "rejected" and entry.rejection_reason.startswith("A duplicate")
    with pytest.raises(Conflict):
        svc.entry_withdraw(entry=entry, actor=ed)
    other = draft(people, title_zh="另一个")
    assert svc.entry_withdraw(entry=other, actor=ed).status == "withdrawn"
    with pytest.raises(Conflict):
        svc.entry_submit(entry=other, actor=ed)
    with pytest.raises(PermissionDenied):
        svc.entry_withdraw(entry=draft(people), actor=people["vic"])  # a viewer reads, nothing more


def test_contact_details_are_refused_with_the_reason_but_years_and_numbers_are_not(people: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as refused:
        draft(people, summary_zh="请拨打13800138000联系我们")
    assert "contact goes through the exchange" in str(refused.value.message_dict["summary_zh"])
    with pytest.raises(ValidationError) as refused:
        draft(people, budget_min=500, budget_max=100)
    assert refused.value.message_dict == {"budget_max": ["The budget's upper end is below its lower end."]}
    entry = draft(
        people,
        summary_en="From 2027-2030 (opening 2027-01-15), 12 sites serve 1 000 000 patients on a 5000000-8000000 "
        "yuan budget, under GB/T 22239-2019 and GB/T 20000.1-2014.",
    )
    assert entry.summary_en.startswith("From 2027-2030")
    # Written in full-width forms, with dots, or as a service number, it is still a contact.
    for text in ("１３８００１３８０００", "138.0013.8000", "热线 4008208820", "user＠example.com"):
        with pytest.raises(ValidationError):
            draft(people, summary_zh=text)
