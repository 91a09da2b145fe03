"""The entry pages over HTTP: an editor writes and submits through the form, a curator reviews through the
entry page and the queue, and nobody else reads or acts on a draft."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation

from scenarios.exchange.catalog_release import PROGRAMME_CODE
from scenarios.exchange.organisations import organisation_create
from scenarios.models import Entry, Membership
from tests.factories import staff_user

pytestmark = pytest.mark.django_db
User = get_user_model()


def person(email: str) -> Any:
    user = User.objects.create_user(email.split("@")[0], email, "a-long-password-9")
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def setup(catalog: Any) -> dict[str, Any]:
    ann, ed, zoe = person("ann@hospital.example"), person("ed@hospital.example"), person("zoe@robots.example")
    hospital = organisation_create(user=ann, name_en="Ruijin Hospital", kind="public_service")
    Membership.objects.create(organisation=hospital, user=ed, role="editor")
    robots = organisation_create(user=zoe, name_en="Robots Inc", kind="enterprise")
    return {"ed": ed, "zoe": zoe, "hospital": hospital, "robots": robots, "cora": staff_user("cora", "Curator")}


FORM = {
    "kind": "demand",
    "title_zh": "病房护理机器人试点",
    "summary_zh": "夜班护士人手不足。",
    "setting": "hospital",
    "offers": ["test_site", "data"],
    "core": ["humanoid-robots"],
    "enabling": ["6g"],
    "sources": "https://example.org/plan The ward plan",
    "window_start": "2027-03-01",
    "window_end": "2028-02-28",
}


def test_an_editor_proposes_and_a_curator_accepts(setup: dict[str, Any]) -> None:
    ed = signed_in(setup["ed"])
    hospital = setup["hospital"]
    form = ed.get(reverse("exchange:entry-create", args=[hospital.code]) + "?kind=demand").content.decode()
    assert 'name="offers"' in form and 'name="trl"' not in form  # demand fields only
    response = ed.post(reverse("exchange:entry-create", args=[hospital.code]), FORM)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = Entry.objects.exclude(organisation__code=PROGRAMME_CODE).get()
    assert sorted(entry.topic_links.values_list("topic__code", "role")) == [
        ("6g", "enabling"),
        ("humanoid-robots", "core"),
    ]
    assert entry.sources == [{"url": "https://example.org/plan", "title": "The ward plan"}]
    page = ed.get(reverse("exchange:entry", args=[entry.code])).content.decode()
    assert "(not yet translated)" in page and "Submit for review" in page
    assert ed.post(reverse("exchange:entry-submit", args=[entry.code])).status_code == 302
    # The curator finds it in the queue, asks for a change; the editor sees the comment and resubmits.
    cora = signed_in(setup["cora"])
    assert entry.code in cora.get(reverse("exchange:review-queue")).content.decode()
    review = reverse("exchange:entry-review", args=[entry.code])
    assert cora.post(review, {"action": "request_changes", "body": "How many wards?"}).status_code == 302
    assert "How many wards?" in ed.get(reverse("exchange:entry", args=[entry.code])).content.decode()
    edit = {**FORM, "scale_sites": "6"}
    assert ed.post(reverse("exchange:entry-edit", args=[entry.code]), edit).status_code == 302
    assert ed.post(reverse("exchange:entry-submit", args=[entry.code])).status_code == 302
    assert cora.post(review, {"action": "accept"}).status_code == 302
    entry.refresh_from_db()
    assert entry.status == "accepted" and entry.scale_sites == 6


def test_the_entry_page_names_the_offers_in_the_reader_s_language(setup: dict[str, Any]) -> None:
    ed = signed_in(setup["ed"])
    ed.post(reverse("exchange:entry-create", args=[setup["hospital"].code]), FORM)
    entry = Entry.objects.exclude(organisation__code=PROGRAMME_CODE).get()
    english = ed.get(reverse("exchange:entry", args=[entry.code])).content.decode()
    assert "Test site, Data" in english and "test_site" not in english
    with translation.override("zh-hans"):
        chinese = ed.get(reverse("exchange:entry", args=[entry.code])).content.decode()
    assert "测试场地, 数据" in chinese and "test_site" not in chinese


def test_bad_entry_forms_are_400_and_store_nothing(setup: dict[str, Any]) -> None:
    ed = signed_in(setup["ed"])
    url = reverse("exchange:entry-create", args=[setup["hospital"].code])
    for bad in (
        {**FORM, "core": ["no-such-topic"]},
        {**FORM, "core": ["6g"], "enabling": ["6g"]},
        {**FORM, "sources": "ftp://example.org/x"},
        {**FORM, "window_start": "2028-01-01", "window_end": "2027-01-01"},
        {**FORM, "title_zh": "x" * 201},
    ):
        assert ed.post(url, bad).status_code == 400, bad
    assert ed.post(url, {**FORM, "kind": "rumour"}).status_code == 400
    assert not Entry.objects.exclude(organisation__code=PROGRAMME_CODE).exists()  # the catalog's own stay


def test_nobody_else_reads_or_acts_on_a_draft(setup: dict[str, Any]) -> None:
    ed = signed_in(setup["ed"])
    ed.post(reverse("exchange:entry-create", args=[setup["hospital"].code]), FORM)
    entry = Entry.objects.exclude(organisation__code=PROGRAMME_CODE).get()
    zoe = signed_in(setup["zoe"])  # another organisation's admin
    analyst = signed_in(staff_user("al", "Analyst"))  # staff, not a curator
    for client in (zoe, analyst):
        assert client.get(reverse("exchange:entry", args=[entry.code])).status_code == 403
        assert client.get(reverse("exchange:entry-edit", args=[entry.code])).status_code == 403
        for action in ("entry-submit", "entry-withdraw"):
            assert client.post(reverse(f"exchange:{action}", args=[entry.code])).status_code == 403
        assert client.post(reverse("exchange:entry-comment", args=[entry.code]), {"body": "hi"}).status_code == 403
        assert client.post(reverse("exchange:entry-review", args=[entry.code]), {"action": "accept"}).status_code == 403
        assert client.get(reverse("exchange:entries", args=[setup["hospital"].code])).status_code == 403
    assert analyst.get(reverse("exchange:review-queue")).status_code == 403
    viewer = person("vic@hospital.example")  # a viewer of the proposing organisation reads, never edits
    Membership.objects.create(organisation=setup["hospital"], user=viewer, role="viewer")
    vic = signed_in(viewer)
    assert vic.get(reverse("exchange:entry", args=[entry.code])).status_code == 200
    assert vic.get(reverse("exchange:entry-edit", args=[entry.code])).status_code == 403
    assert vic.post(reverse("exchange:entry-edit", args=[entry.code]), FORM).status_code == 403
    assert zoe.get(reverse("exchange:review-queue")).status_code == 403
    entry.refresh_from_db()
    assert entry.status == "draft" and not entry.comments.exists()
    assert Client().get(reverse("exchange:entry", args=[entry.code])).status_code == 302  # to sign in
