"""The scenario catalog and the exchange are one list: ``load_catalog`` publishes the curated scenarios as a
release of the programme's own entries (idempotently), and a release that publishes an organisation's entry
puts it into the public scenario catalog, where its page names the releases that list it."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from foresight.catalog.models import PublicationStatus
from foresight.core.errors import Conflict
from foresight.core.models import AuditLog
from scenarios.exchange import entries as entry_svc
from scenarios.exchange import releases as svc
from scenarios.exchange.catalog_release import PROGRAMME_CODE, catalog_release_sync, entry_code_for
from scenarios.exchange.organisations import join_request_create, organisation_create
from scenarios.models import Entry, Release, ReleaseItem, Scenario
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


def test_load_catalog_publishes_the_curated_scenarios_as_the_first_release(catalog: Any) -> None:
    release = Release.objects.get(number=1)
    published = Scenario.objects.filter(origin="curated", status=PublicationStatus.PUBLISHED)
    assert release.status == "published" and release.code == "r1" and len(release.fingerprint) == 64
    items = list(release.items.select_related("entry__scenario"))
    assert {i.entry.scenario.code for i in items} == set(published.values_list("code", flat=True))
    assert {i.change for i in items} == {"new"}
    assert all(i.entry.organisation.code == PROGRAMME_CODE and i.entry.status == "published" for i in items)
    payload = [{"change": i.change, "snapshot": i.snapshot} for i in items]
    assert svc.release_fingerprint(payload) == release.fingerprint
    # A curated capability stays a capability; the others are scenarios to open (demand).
    for item in items:
        assert item.snapshot["kind"] == ("capability" if item.entry.scenario.list_kind == "capability" else "demand")
        assert item.snapshot["scenario"] == item.entry.scenario.code
        assert item.entry.code == entry_code_for(item.entry.scenario.code)  # the same on every machine
        assert {t["code"] for t in item.snapshot["topics"]} == set(
            item.entry.scenario.topic_links.values_list("topic__code", flat=True)
        )
    # The draft curated scenarios are not in it.
    assert not Entry.objects.filter(scenario__status=PublicationStatus.DRAFT).exists()


def test_loading_again_publishes_nothing_and_a_change_is_the_next_release(catalog: Any) -> None:
    entries, history = Entry.objects.count(), Entry.history.count()
    call_command("load_catalog", verbosity=0)
    assert Release.objects.count() == 1 and Entry.objects.count() == entries and Entry.history.count() == history

    changed, gone = Scenario.objects.filter(origin="curated", status="published").order_by("code")[:2]
    changed.title_en = "A clearer title"
    changed.save()
    gone.status = PublicationStatus.DRAFT
    gone.save()
    release = catalog_release_sync()
    assert release is not None and release.number == 2 and release.status == "published"
    assert dict(release.items.values_list("entry__scenario__code", "change")) == {
        changed.code: "changed",
        gone.code: "withdrawn",
    }
    assert release.items.get(change="changed").snapshot["title_en"] == "A clearer title"
    assert Entry.objects.get(scenario=gone).status == "withdrawn"
    assert catalog_release_sync() is None  # nothing new since
    gone.status = PublicationStatus.PUBLISHED
    gone.save()
    back = catalog_release_sync()
    assert back is not None and list(back.items.values_list("change", flat=True)) == ["changed"]


@pytest.fixture
def hospital(catalog: Any) -> dict[str, Any]:
    ann = get_user_model().objects.create_user("ann", "ann@hospital.example", "pw-long-enough-1")
    EmailAddress.objects.create(user=ann, email=ann.email, verified=True, primary=True)
    org = organisation_create(user=ann, name_en="Ruijin Hospital", name_zh="瑞金医院", kind="public_service")
    return {"ann": ann, "org": org, "cora": staff_user("cora", "Curator")}


def _accepted(world: dict[str, Any], **values: Any) -> Entry:
    entry = entry_svc.entry_create(
        organisation=world["org"],
        actor=world["ann"],
        kind="demand",
        title_zh="病房物流机器人",
        summary_zh="病房之间的药品和标本运送。",
        setting="hospital",
        region_en="Shanghai",
        offers=["test_site"],
        topics=[("humanoid-robots", "core"), ("embodied-ai", "enabling")],
        **values,
    )
    entry = entry_svc.entry_submit(entry=entry, actor=world["ann"])
    return entry_svc.entry_accept(entry=entry, actor=world["cora"])


def _publish(world: dict[str, Any], *entries: Entry) -> Release:
    release = svc.release_draft_create(actor=world["cora"], title_en="2027, first batch")
    for entry in entries:
        svc.release_add(release=release, entry=Entry.objects.get(pk=entry.pk), actor=world["cora"])
    return svc.release_publish(release=release, actor=world["cora"])


def test_a_published_entry_is_public_but_its_review_thread_is_not(hospital: dict[str, Any]) -> None:
    entry = _accepted(hospital)
    entry_svc.entry_comment(entry=entry, actor=hospital["cora"], body="Internal: budget looks thin")
    url = reverse("exchange:entry", args=[entry.code])
    anonymous, outsider, member = Client(), Client(), Client()
    response = anonymous.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))  # accepted
    outsider.force_login(get_user_model().objects.create_user("olga", "olga@elsewhere.example", "pw-long-enough-1"))
    assert outsider.get(url).status_code == 403
    _publish(hospital, entry)
    member.force_login(hospital["ann"])
    for client in (anonymous, outsider):
        page = client.get(url)
        assert page.status_code == 200 and "病房物流机器人" in page.content.decode()
        assert "budget looks thin" not in page.content.decode()
    assert "budget looks thin" in member.get(url).content.decode()


def test_a_published_entry_joins_the_scenario_catalog_and_leaves_it_when_withdrawn(hospital: dict[str, Any]) -> None:
    entry = _accepted(hospital, sources=["https://example.org/ward-plan"])
    release = _publish(hospital, entry)
    scenario = Entry.objects.get(pk=entry.pk).scenario
    assert scenario is not None and scenario.code == entry.code
    assert (scenario.origin, scenario.list_kind, scenario.status, scenario.setting) == (
        "exchange",
        "demand",
        "published",
        "hospital",
    )
    assert dict(scenario.topic_links.values_list("topic__code", "role")) == {
        "humanoid-robots": "core",
        "embodied-ai": "enabling",
    }
    assert (
        set(scenario.directions.values_list("slug", flat=True))
        == set(release.items.get().snapshot["directions"])
        != set()
    )

    public = Client()
    listing = public.get(reverse("scenario-list"), {"list_kind": "demand", "q": "病房"}).content.decode()
    assert reverse("scenario-detail", args=[scenario.code]) in listing
    # Written in Chinese only: the English page shows the Chinese title rather than nothing.
    page = public.get(reverse("scenario-detail", args=[scenario.code])).content.decode()
    assert "病房物流机器人" in page and reverse("release-detail", args=[release.code]) in page
    assert "(not yet translated)" in page and "https://example.org/ward-plan" in page
    release_page = public.get(reverse("release-detail", args=[release.code])).content.decode()
    assert (
        f'href="{reverse("exchange:entry", args=[entry.code])}"' in release_page
        and "(not yet translated)" in release_page
    )
    assert "(not yet translated)" not in public.get(f"/zh-hans/scenarios/{scenario.code}/").content.decode()
    translation.activate("en")  # the request above left Chinese active for the rest of this test
    assert "Ruijin Hospital" in page and reverse("exchange:entry", args=[entry.code]) in page
    api = public.get(f"/api/v1/scenarios/{scenario.code}/").json()
    assert api["origin"] == "exchange" and api["entry"] == entry.code
    assert [r["release"] for r in api["releases"]] == [release.code]

    entry_svc.entry_withdraw(entry=Entry.objects.get(pk=entry.pk), actor=hospital["ann"])
    assert public.get(reverse("scenario-detail", args=[scenario.code])).status_code == 200  # until released
    second = _publish(hospital, entry)
    assert second.items.get().change == "withdrawn"
    assert public.get(reverse("scenario-detail", args=[scenario.code])).status_code == 404
    assert entry.code in public.get(reverse("release-detail", args=[release.code])).content.decode()  # kept
    assert AuditLog.objects.filter(action="release_publish", details__release=second.code).exists()


def test_a_curated_scenario_page_names_its_release(catalog: Any) -> None:
    scenario = Scenario.objects.filter(origin="curated", status="published").order_by("code").first()
    assert scenario is not None
    page = Client().get(reverse("scenario-detail", args=[scenario.code])).content.decode()
    assert reverse("release-detail", args=["r1"]) in page and "Curated catalog scenarios" in page


def test_the_releases_api_lists_releases_and_their_items(hospital: dict[str, Any]) -> None:
    entry = _accepted(hospital)
    release = _publish(hospital, entry)
    draft = svc.release_draft_create(actor=hospital["cora"], title_en="In preparation")
    api = Client()
    listed = api.get("/api/v1/releases/").json()
    assert [r["code"] for r in listed["results"]] == [release.code, "r1"]  # newest first; no draft
    first = listed["results"][0]
    assert first["counts"] == {"new": 1, "changed": 0, "withdrawn": 0} and first["fingerprint"] == release.fingerprint
    items = api.get(first["items_url"]).json()
    assert items["count"] == 1 and items["results"][0]["snapshot"]["code"] == entry.code
    curated = api.get("/api/v1/releases/r1/items/", {"kind": "capability", "page_size": 200}).json()
    expected = ReleaseItem.objects.filter(release__code="r1", entry__kind="capability").count()
    assert curated["count"] == expected > 0
    assert {i["snapshot"]["kind"] for i in curated["results"]} == {"capability"}
    assert api.get(f"/api/v1/releases/{draft.code}/").status_code == 404
    assert api.get(f"/api/v1/releases/{draft.code}/items/").status_code == 404
    assert api.get("/api/v1/releases/r1/items/", {"kind": "rumour"}).status_code == 400


def test_a_revised_entry_stays_public_as_published_until_the_next_release(hospital: dict[str, Any]) -> None:
    entry = _accepted(hospital)
    first = _publish(hospital, entry)
    ann, cora = hospital["ann"], hospital["cora"]
    editor = Client()
    editor.force_login(ann)
    assert editor.post(reverse("exchange:entry-revise", args=[entry.code])).status_code == 302
    entry = Entry.objects.get(pk=entry.pk)
    assert entry.status == "draft"
    entry = entry_svc.entry_update(entry=entry, actor=ann, title_zh="病房物流机器人（第二版）")
    url = reverse("exchange:entry", args=[entry.code])
    public = Client().get(url).content.decode()
    assert "第二版" not in public and "病房物流机器人" in public and "last release published" in public
    assert "第二版" in editor.get(url).content.decode()  # the organisation works on the new version
    # The catalog scenario keeps the published version too, until the next release.
    scenario_url = reverse("scenario-detail", args=[entry.code])
    assert "第二版" not in Client().get(scenario_url).content.decode()
    entry = entry_svc.entry_accept(entry=entry_svc.entry_submit(entry=entry, actor=ann), actor=cora)
    second = _publish(hospital, entry)
    assert second.items.get().change == "changed" and first.items.get().snapshot["title_zh"] == "病房物流机器人"
    assert "第二版" in Client().get(scenario_url).content.decode()
    assert "第二版" in Client().get(url).content.decode()
    # Only a published entry is revised, only by its organisation's writers.
    draft = entry_svc.entry_revise(entry=Entry.objects.get(pk=entry.pk), actor=ann)
    with pytest.raises(Conflict):
        entry_svc.entry_revise(entry=draft, actor=ann)
    with pytest.raises(PermissionDenied):
        entry_svc.entry_revise(entry=Entry.objects.get(pk=entry.pk), actor=cora)


def test_the_curated_entries_are_not_revised_through_the_exchange(catalog: Any) -> None:
    entry = Entry.objects.filter(organisation__code=PROGRAMME_CODE).first()
    assert entry is not None
    admin = get_user_model().objects.create_user("pat", "pat@programme.example", "pw-long-enough-1")
    entry.organisation.memberships.create(user=admin, role="admin")
    with pytest.raises(Conflict):
        entry_svc.entry_revise(entry=entry, actor=admin)
    assert Entry.objects.get(pk=entry.pk).status == "published"


def test_bad_filters_are_400_with_the_reason_and_a_bad_page_is_the_nearest(hospital: dict[str, Any]) -> None:
    public = Client()
    url = reverse("release-detail", args=["r1"])
    for bad, reason in (({"kind": "rumour"}, "Unknown list"), ({"setting": "moon"}, "Unknown setting")):
        response = public.get(url, bad)
        assert response.status_code == 400 and reason in response.content.decode()
        assert "release-item change-" not in response.content.decode()
    assert public.get(url, {"kind": "demand", "dpage": "abc"}).status_code == 200
    curator = Client()
    curator.force_login(hospital["cora"])
    response = curator.get(reverse("exchange:review-queue"), {"status": "lost"})
    assert response.status_code == 400 and "Unknown status" in response.content.decode()
    assert curator.get(reverse("exchange:review-queue"), {"status": "submitted"}).status_code == 200


def test_nobody_asks_to_join_an_organisation_without_an_admin(hospital: dict[str, Any]) -> None:
    programme = Entry.objects.filter(organisation__code=PROGRAMME_CODE).first().organisation  # type: ignore[union-attr]
    assert programme.verified_at is not None
    with pytest.raises(Conflict):
        join_request_create(organisation=programme, user=hospital["ann"], message="hello")
    assert not programme.join_requests.exists()
    page = Client()
    page.force_login(hospital["ann"])
    assert "Ask to join" not in page.get(reverse("organisation-detail", args=[PROGRAMME_CODE])).content.decode()


def test_the_entry_page_shows_every_field_the_entry_has(hospital: dict[str, Any]) -> None:
    entry = _accepted(
        hospital,
        why_now_en="Night shifts are short of nurses.",
        needs_zh="自主导航与电梯联动",
        constraints_en="Patient data stays in the hospital.",
        budget_min=1000000,
        budget_max=3000000,
    )
    _publish(hospital, entry)
    page = Client().get(reverse("exchange:entry", args=[entry.code])).content.decode()
    for text in ("Night shifts are short of nurses.", "自主导航与电梯联动", "Patient data stays", "3000000"):
        assert text in page, text
    assert page.count("(not yet translated)") >= 4  # the titles', summaries' and these fields' other language


def test_a_rejected_revision_leaves_the_published_entry_withdrawable_and_revisable(hospital: dict[str, Any]) -> None:
    ann, cora = hospital["ann"], hospital["cora"]
    entry = _accepted(hospital)
    _publish(hospital, entry)
    draft = entry_svc.entry_revise(entry=Entry.objects.get(pk=entry.pk), actor=ann)
    rejected = entry_svc.entry_reject(entry=entry_svc.entry_submit(entry=draft, actor=ann), actor=cora, reason="No.")
    assert entry_svc.entry_abilities(entry=rejected, user=ann)["can_revise"]
    again = entry_svc.entry_revise(entry=rejected, actor=ann)
    assert again.status == "draft"
    rejected = entry_svc.entry_reject(entry=entry_svc.entry_submit(entry=again, actor=ann), actor=cora, reason="No.")
    assert entry_svc.entry_withdraw(entry=rejected, actor=ann).status == "withdrawn"
    # A rejected entry never published stays rejected.
    never = entry_svc.entry_reject(
        entry=entry_svc.entry_submit(
            entry=entry_svc.entry_create(
                organisation=hospital["org"],
                actor=ann,
                kind="demand",
                title_en="Other",
                summary_en="x",
                setting="hospital",
                offers=["test_site"],
                topics=[("humanoid-robots", "core")],
            ),
            actor=ann,
        ),
        actor=cora,
        reason="No.",
    )
    with pytest.raises(Conflict):
        entry_svc.entry_withdraw(entry=never, actor=ann)


def test_a_withdrawal_is_published_in_one_release_only(hospital: dict[str, Any]) -> None:
    cora = hospital["cora"]
    entry = _accepted(hospital)
    _publish(hospital, entry)
    entry_svc.entry_withdraw(entry=Entry.objects.get(pk=entry.pk), actor=hospital["ann"])
    first = svc.release_draft_create(actor=cora, title_en="Fifth")
    second = svc.release_draft_create(actor=cora, title_en="Sixth")
    for release in (first, second):
        svc.release_add(release=release, entry=Entry.objects.get(pk=entry.pk), actor=cora)
    svc.release_publish(release=first, actor=cora)
    with pytest.raises(Conflict):
        svc.release_publish(release=second, actor=cora)
    assert Release.objects.get(pk=second.pk).status == "draft"


def test_a_withdrawn_entry_s_page_shows_the_public_what_its_releases_published(hospital: dict[str, Any]) -> None:
    entry = _accepted(hospital)
    _publish(hospital, entry)
    entry_svc.entry_withdraw(entry=Entry.objects.get(pk=entry.pk), actor=hospital["ann"])
    _publish(hospital, entry)
    page = Client().get(reverse("exchange:entry", args=[entry.code]))
    assert page.status_code == 200
    assert "病房物流机器人" in page.content.decode() and "Withdrawn by its organisation" in page.content.decode()
