"""Releases: curators assemble accepted entries and publish them atomically; a published release is immutable
with a fingerprint of what it published, and the next release says what is new, changed and withdrawn."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from foresight.core.errors import Conflict
from foresight.core.models import AuditLog
from scenarios.exchange import entries as entry_svc
from scenarios.exchange import releases as svc
from scenarios.exchange import selectors
from scenarios.exchange.organisations import organisation_create
from scenarios.models import Entry, Release, ReleaseImmutable, ReleaseItem
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(catalog: Any) -> dict[str, Any]:
    ann = get_user_model().objects.create_user("ann", "ann@hospital.example", "pw-long-enough-1")
    EmailAddress.objects.create(user=ann, email=ann.email, verified=True, primary=True)
    hospital = organisation_create(user=ann, name_en="Ruijin Hospital", name_zh="瑞金医院", kind="public_service")
    cora = staff_user("cora", "Curator")

    def accepted(title: str) -> Entry:
        entry = entry_svc.entry_create(
            organisation=hospital,
            actor=ann,
            kind="demand",
            title_en=title,
            summary_en="A problem.",
            setting="hospital",
            offers=["test_site"],
            topics=[("humanoid-robots", "core")],
        )
        entry = entry_svc.entry_submit(entry=entry, actor=ann)
        return entry_svc.entry_accept(entry=entry, actor=cora)

    return {"ann": ann, "cora": cora, "hospital": hospital, "accepted": accepted}


def test_a_release_publishes_its_accepted_entries_atomically_and_then_never_changes(world: dict[str, Any]) -> None:
    cora = world["cora"]
    first, second = world["accepted"]("Ward robots"), world["accepted"]("Operating-room imaging")
    release = svc.release_draft_create(actor=cora, title_en="2027, first batch", title_zh="2027年第一批")
    # The catalog's curated scenarios are release r1 (``load_catalog``): this is the next one.
    assert release.number == 2 and release.code == "r2"
    for entry in (first, second):
        assert svc.release_add(release=release, entry=entry, actor=cora).change == "new"
    with pytest.raises(Conflict):
        svc.release_add(release=release, entry=first, actor=cora)  # once
    published = svc.release_publish(release=release, actor=cora)
    assert published.status == "published" and len(published.fingerprint) == 64 and published.released_on
    assert set(Entry.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {"published"}
    snap = ReleaseItem.objects.get(release=published, entry=first).snapshot
    assert snap["title_en"] == "Ward robots" and snap["organisation"]["name_zh"] == "瑞金医院"
    assert snap["topics"] == [{"code": "humanoid-robots", "role": "core"}]
    # The fingerprint is of exactly what was published.
    payload = [{"change": i.change, "snapshot": i.snapshot} for i in published.items.all()]
    assert svc.release_fingerprint(payload) == published.fingerprint
    # Immutable: no second publication, no item added or removed, no edit, no deletion.
    with pytest.raises(ReleaseImmutable):
        svc.release_publish(release=published, actor=cora)
    with pytest.raises(ReleaseImmutable):
        svc.release_remove(release=published, entry=first, actor=cora)
    published.title_en = "Changed"
    with pytest.raises(ReleaseImmutable):
        published.save()
    with pytest.raises(ReleaseImmutable):
        ReleaseItem.objects.filter(release=published).first().delete()
    assert AuditLog.objects.filter(action="release_publish", details__release="r2").exists()


def test_the_next_release_lists_what_was_withdrawn_and_a_correction_replaces_one(world: dict[str, Any]) -> None:
    cora, ann = world["cora"], world["ann"]
    first = world["accepted"]("Ward robots")
    r1 = svc.release_draft_create(actor=cora, title_en="First")
    svc.release_add(release=r1, entry=first, actor=cora)
    r1 = svc.release_publish(release=r1, actor=cora)
    entry_svc.entry_withdraw(entry=Entry.objects.get(pk=first.pk), actor=ann)
    second = world["accepted"]("Drone deliveries")
    r2 = svc.release_draft_create(actor=cora, title_en="Second")
    assert svc.release_add(release=r2, entry=Entry.objects.get(pk=first.pk), actor=cora).change == "withdrawn"
    assert svc.release_add(release=r2, entry=second, actor=cora).change == "new"
    r2 = svc.release_publish(release=r2, actor=cora)
    assert Entry.objects.get(pk=first.pk).status == "withdrawn"  # a withdrawn entry stays withdrawn
    correction = svc.release_draft_create(actor=cora, title_en="Second, corrected", replaces=r2)
    assert correction.number == r2.number + 1 and set(correction.items.values_list("change", flat=True)) == {
        "withdrawn",
        "new",
    }
    with pytest.raises(ValidationError):
        svc.release_draft_create(actor=cora, title_en="Bad", replaces=correction)  # a draft cannot be replaced
    # The correction publishes with the items it carried over (their entries are published already).
    third = world["accepted"]("Night nursing robots")
    svc.release_add(release=correction, entry=third, actor=cora)
    correction = svc.release_publish(release=correction, actor=cora)
    assert correction.status == "published" and correction.items.count() == 3
    assert (
        Entry.objects.get(pk=second.pk).status == "published" and Entry.objects.get(pk=third.pk).status == "published"
    )
    # A withdrawal is published once: the next release is not offered it again and refuses it.
    r4 = svc.release_draft_create(actor=cora, title_en="Fourth")
    assert first.pk not in {e.pk for e in selectors.release_candidates(release=r4)}
    with pytest.raises(Conflict):
        svc.release_add(release=r4, entry=Entry.objects.get(pk=first.pk), actor=cora)


def test_only_curators_publish_and_stale_or_unready_entries_are_refused(world: dict[str, Any]) -> None:
    cora, ann = world["cora"], world["ann"]
    for outsider in (ann, staff_user("pat", "Publisher")):
        with pytest.raises(PermissionDenied):
            svc.release_draft_create(actor=outsider, title_en="Mine")
    with pytest.raises(ValidationError):
        svc.release_draft_create(actor=cora, title_en="", title_zh=" ")
    release = svc.release_draft_create(actor=cora, title_en="Batch")
    with pytest.raises(Conflict):
        svc.release_publish(release=release, actor=cora)  # empty
    draft = entry_svc.entry_create(organisation=world["hospital"], actor=ann, kind="demand", title_en="Not yet")
    with pytest.raises(Conflict):
        svc.release_add(release=release, entry=draft, actor=cora)
    entry = world["accepted"]("Ward robots")
    svc.release_add(release=release, entry=entry, actor=cora)
    entry_svc.entry_withdraw(entry=entry, actor=ann)  # the organisation withdraws it meanwhile
    with pytest.raises(Conflict, match=entry.code):
        svc.release_publish(release=release, actor=cora)
    release.refresh_from_db()
    assert release.status == "draft" and Entry.objects.get(pk=entry.pk).status == "withdrawn"
    assert not Release.objects.filter(status="published", items__entry__organisation=world["hospital"]).exists()


def test_a_published_release_is_a_public_page_with_downloads(world: dict[str, Any]) -> None:
    from django.test import Client
    from django.urls import reverse

    cora = world["cora"]
    hostile = world["accepted"]('=HYPERLINK("http://evil.example","x")')
    plain = world["accepted"]("Ward robots")
    draft = svc.release_draft_create(actor=cora, title_en="2027, first batch", title_zh="2027年第一批")
    curator = Client()
    curator.force_login(cora)
    admin_url = reverse("exchange:release-admin", args=[draft.code])
    assert plain.code in curator.get(admin_url).content.decode()  # offered
    for entry in (hostile, plain):
        assert curator.post(admin_url, {"action": "add", "entry": entry.code}).status_code == 302
    public = Client()
    assert public.get(reverse("release-detail", args=[draft.code])).status_code == 404  # a draft is not public
    assert curator.post(admin_url, {"action": "sing"}).status_code == 400
    assert curator.post(admin_url, {"action": "publish"}).status_code == 302
    release = Release.objects.get(code=draft.code)
    page = public.get(reverse("release-detail", args=[release.code])).content.decode()
    assert "Ward robots" in page and "2 new, 0 changed, 0 withdrawn" in page
    zh = public.get("/zh-hans" + reverse("release-detail", args=[release.code])).content.decode()
    assert "2027年第一批" in zh and "瑞金医院" in zh
    body = public.get(reverse("release-csv", args=[release.code])).content.decode()
    assert "'=HYPERLINK" in body and '\n"=HYPERLINK' not in body and ",=HYPERLINK" not in body
    document = public.get(reverse("release-json", args=[release.code])).json()
    assert svc.release_fingerprint(document["items"]) == release.fingerprint == document["fingerprint"]
    assert release.code in public.get(reverse("release-list")).content.decode()
    # Only curators assemble: an organisation member and other staff get 403 and change nothing.
    outsider = Client()
    outsider.force_login(world["ann"])
    assert outsider.get(reverse("exchange:release-admin-list")).status_code == 403
    analyst = Client()
    analyst.force_login(staff_user("al", "Analyst"))
    second = svc.release_draft_create(actor=cora, title_en="Second")
    url = reverse("exchange:release-admin", args=[second.code])
    assert analyst.post(url, {"action": "publish"}).status_code == 403
    assert Release.objects.get(pk=second.pk).status == "draft"


def test_many_entries_are_added_by_the_same_rules_in_one_go_or_not_at_all(world: dict[str, Any]) -> None:
    cora, ann = world["cora"], world["ann"]
    gone = world["accepted"]("Ward robots")
    edited = world["accepted"]("Operating-room imaging")
    r1 = svc.release_draft_create(actor=cora, title_en="First")
    svc.release_add_many(release=r1, entries=[gone, edited], actor=cora)
    svc.release_publish(release=r1, actor=cora)
    entry_svc.entry_withdraw(entry=Entry.objects.get(pk=gone.pk), actor=ann)
    # Published, then edited and accepted again: a changed entry.
    Entry.objects.filter(pk=edited.pk).update(status=Entry.Status.ACCEPTED)
    fresh = world["accepted"]("Drone deliveries")
    draft = entry_svc.entry_create(organisation=world["hospital"], actor=ann, kind="demand", title_en="Not yet")
    r2 = svc.release_draft_create(actor=cora, title_en="Second")
    audits = AuditLog.objects.filter(action="release_add").count()

    # One refused entry refuses them all, and the conflict names it; nothing is added or audited.
    with pytest.raises(Conflict, match=draft.code) as refused:
        svc.release_add_many(release=r2, entries=[gone, edited, fresh, draft], actor=cora)
    assert "Nothing was added" in str(refused.value)
    assert not r2.items.exists() and AuditLog.objects.filter(action="release_add").count() == audits

    # The caller's copies are stale (``gone`` still says accepted): the entries' states now decide.
    items = svc.release_add_many(release=r2, entries=[gone, edited, fresh], actor=cora)
    assert {i.entry.code: i.change for i in items} == {
        gone.code: "withdrawn",
        edited.code: "changed",
        fresh.code: "new",
    }
    assert {(i.entry_id, i.change) for i in r2.items.all()} == {
        (gone.pk, "withdrawn"),
        (edited.pk, "changed"),
        (fresh.pk, "new"),
    }
    line = AuditLog.objects.filter(action="release_add").latest("pk")
    assert AuditLog.objects.filter(action="release_add").count() == audits + 1  # one line for the three
    assert line.details["release"] == r2.code and line.details["entries"] == [gone.code, edited.code, fresh.code]
    assert line.details["changes"] == {"new": 1, "changed": 1, "withdrawn": 1}

    # Adding again: every entry already in the release is named, and nothing changes.
    later = world["accepted"]("Night nursing robots")
    with pytest.raises(Conflict) as twice:
        svc.release_add_many(release=r2, entries=[later, fresh, edited], actor=cora)
    assert fresh.code in str(twice.value) and edited.code in str(twice.value) and later.code not in str(twice.value)
    assert not r2.items.filter(entry=later).exists()
    assert svc.release_add_many(release=r2, entries=[], actor=cora) == []

    # Only curators, only drafts.
    with pytest.raises(PermissionDenied):
        svc.release_add_many(release=r2, entries=[later], actor=staff_user("pat", "Publisher"))
    r2 = svc.release_publish(release=r2, actor=cora)
    with pytest.raises(ReleaseImmutable):
        svc.release_add_many(release=r2, entries=[later], actor=cora)
    stale_copy = Release.objects.get(pk=r2.pk)
    stale_copy.status = Release.Status.DRAFT  # a copy read before the publication: the release row decides
    with pytest.raises(ReleaseImmutable):
        svc.release_add_many(release=stale_copy, entries=[later], actor=cora)
    assert not ReleaseItem.objects.filter(entry=later).exists()


def test_adding_thirty_entries_costs_the_same_queries_as_three(world: dict[str, Any]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cora, ann = world["cora"], world["ann"]

    def accepted(title: str) -> Entry:  # accepted directly: the submission rate limit allows fewer a day
        entry = entry_svc.entry_create(organisation=world["hospital"], actor=ann, kind="demand", title_en=title)
        Entry.objects.filter(pk=entry.pk).update(status=Entry.Status.ACCEPTED)
        return entry

    few = [accepted(f"Small batch {i}") for i in range(3)]
    many = [accepted(f"Large batch {i}") for i in range(30)]
    counts = []
    for batch in (few, many):
        release = svc.release_draft_create(actor=cora, title_en="Batch")
        actor = get_user_model().objects.get(pk=cora.pk)  # permissions read afresh each time
        with CaptureQueriesContext(connection) as queries:
            svc.release_add_many(release=release, entries=batch, actor=actor)
        counts.append(len(queries))
        assert release.items.count() == len(batch)
    assert counts[0] == counts[1], counts


def test_a_curator_adds_every_ready_entry_with_one_button(world: dict[str, Any]) -> None:
    from django.test import Client
    from django.urls import reverse

    cora = world["cora"]
    ready = [world["accepted"](f"Ward robots {i}") for i in range(3)]
    draft = svc.release_draft_create(actor=cora, title_en="Batch")
    url = reverse("exchange:release-admin", args=[draft.code])
    curator = Client()
    curator.force_login(cora)
    assert "Add every ready entry" in curator.get(url).content.decode()
    # Someone who is not a curator gets 403 and adds nothing.
    analyst = Client()
    analyst.force_login(staff_user("al", "Analyst"))
    assert analyst.post(url, {"action": "add_all"}).status_code == 403
    assert not draft.items.exists()

    response = curator.post(url, {"action": "add_all"}, follow=True)
    assert response.redirect_chain[-1] == (url, 302)
    assert "3 entries added to the release." in response.content.decode()
    assert set(draft.items.values_list("entry_id", flat=True)) == {e.pk for e in ready}
    assert "Add every ready entry" not in response.content.decode()  # nothing is waiting now
    zh = Client()
    zh.force_login(cora)
    ready.append(world["accepted"]("Night nursing robots"))
    assert "已向本批次添加 1 个条目" in zh.post("/zh-hans" + url, {"action": "add_all"}, follow=True).content.decode()
    assert draft.items.count() == 4

    # A published release takes nothing more: 409, and nothing changes.
    world["accepted"]("Drone deliveries")
    svc.release_publish(release=draft, actor=cora)
    assert curator.post(url, {"action": "add_all"}).status_code == 409
    assert draft.items.count() == 4


def test_a_correction_is_made_from_the_workbench_and_the_replaced_release_says_so(world: dict[str, Any]) -> None:
    cora = world["cora"]
    first = world["accepted"]("Ward robots")
    original = svc.release_draft_create(actor=cora, title_en="First")
    svc.release_add(release=original, entry=first, actor=cora)
    original = svc.release_publish(release=original, actor=cora)
    curator = Client()
    curator.force_login(cora)
    form = curator.get(reverse("exchange:release-admin-list")).content.decode()
    assert f'<option value="{original.code}">' in form
    response = curator.post(
        reverse("exchange:release-admin-list"), {"title_en": "First, corrected", "replaces": original.code}
    )
    correction = Release.objects.get(title_en="First, corrected")
    assert response.status_code == 302 and correction.replaces == original
    assert f"Corrects release {original.code}" in curator.get(response["Location"]).content.decode()
    assert (
        curator.post(reverse("exchange:release-admin", args=[correction.code]), {"action": "publish"}).status_code
        == 302
    )
    public = Client().get(reverse("release-detail", args=[original.code])).content.decode()
    assert f"corrected by release {correction.code}" in public
