"""Matching: a hospital's demand entry meets the robot makers' capability entries once a release publishes
them; the owner sees why each one matched, shortlists some, and the curators recompute everything."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from celery import current_app
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from foresight.core.errors import Conflict
from foresight.core.models import AuditLog
from scenarios.exchange import entries as entry_svc
from scenarios.exchange import matching
from scenarios.exchange import releases as release_svc
from scenarios.exchange.organisations import organisation_create
from scenarios.exchange.selectors import entry_text
from scenarios.models import Entry, Match, MatchRun, Membership, Shortlist
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


def _user(name: str, email: str) -> Any:
    user = get_user_model().objects.create_user(name, email, "pw-long-enough-1")
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture
def eager(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(current_app.conf, "task_always_eager", True)  # queued tasks run in-process


@pytest.fixture
def world(catalog: Any, eager: None, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    ann = _user("ann", "ann@hospital.example")  # admin of the hospital
    vic = _user("vic", "vic@hospital.example")  # a viewer at the hospital
    bob = _user("bob", "bob@robots.example")  # admin of the robot maker
    hospital = organisation_create(user=ann, name_en="Ruijin Hospital", name_zh="瑞金医院", kind="public_service")
    Membership.objects.create(organisation=hospital, user=vic, role=Membership.Role.VIEWER)
    robots = organisation_create(user=bob, name_en="Shanghai Robots", name_zh="上海机器人", kind="enterprise")
    cora = staff_user("cora", "Curator")

    def accepted(org: Any, actor: Any, kind: str, title: str, **values: Any) -> Entry:
        extra = {"setting": "hospital", "offers": ["test_site"]} if kind == "demand" else {"trl": values.pop("trl", 7)}
        entry = entry_svc.entry_create(
            organisation=org, actor=actor, kind=kind, title_en=title, **{"summary_en": title, **extra, **values}
        )
        entry = entry_svc.entry_submit(entry=entry, actor=actor)
        return entry_svc.entry_accept(entry=entry, actor=cora)

    def publish(*entries: Entry) -> None:
        release = release_svc.release_draft_create(actor=cora, title_en="Batch")
        for entry in entries:
            release_svc.release_add(release=release, entry=Entry.objects.get(pk=entry.pk), actor=cora)
        with django_capture_on_commit_callbacks(execute=True):
            release_svc.release_publish(release=release, actor=cora)

    return {
        "ann": ann,
        "vic": vic,
        "bob": bob,
        "cora": cora,
        "hospital": hospital,
        "robots": robots,
        "accepted": accepted,
        "publish": publish,
    }


def _published_pair(world: dict[str, Any]) -> tuple[Entry, Entry, Entry]:
    accepted: Callable[..., Entry] = world["accepted"]
    window_end = timezone.localdate() + timedelta(days=200)
    ward = accepted(
        world["hospital"],
        world["ann"],
        "demand",
        "Ward robots that carry medicine at night",
        region_en="Shanghai",
        trl_needed=6,
        window_end=window_end,
        needs_en="Autonomous robots that carry medicine between wards",
        topics=[("humanoid-robots", "core"), ("embodied-ai", "enabling")],
    )
    carrier = accepted(
        world["robots"],
        world["bob"],
        "capability",
        "Autonomous robots that carry medicine in hospitals",
        region_en=" shanghai ",
        trl=7,
        topics=[("humanoid-robots", "core"), ("6g", "complementary")],
    )
    radio = accepted(world["robots"], world["bob"], "capability", "6G radio modules", trl=4, topics=[("6g", "core")])
    world["publish"](ward, carrier, radio)
    return ward, carrier, radio


def test_publishing_a_release_matches_its_entries_with_components_and_reasons(world: dict[str, Any]) -> None:
    ward, carrier, radio = _published_pair(world)
    match = Match.objects.get(demand=ward, capability=carrier)
    assert set(match.components) == {"topics", "text", "readiness", "region", "window"}
    assert match.components["readiness"] == 1.0 and match.components["region"] == 1.0
    assert match.components["window"] == 1.0 and 0 < match.components["topics"] < 1
    expected = sum(matching.ms.WEIGHTS[k] * v for k, v in match.components.items())
    assert match.score == pytest.approx(expected, abs=1e-6)
    reasons = match.reasons
    assert reasons["topics"] == [{"code": "humanoid-robots", "demand_role": "core", "capability_role": "core"}]
    assert reasons["trl"] == 7 and reasons["trl_needed"] == 6 and reasons["region"]["same"]
    assert reasons["window_end"] == (timezone.localdate() + timedelta(days=200)).isoformat()
    # The radio module shares no topic with the ward robots: no match, or one ranked below.
    other = Match.objects.filter(demand=ward, capability=radio).first()
    assert other is None or other.score < match.score
    # The similarity text is the public text of the entry.
    version = matching.published_versions(entry_ids=[ward.pk])[0]
    assert version.text == entry_text(Entry.objects.get(pk=ward.pk))


def test_a_revision_keeps_the_published_matches_until_the_next_release_and_a_withdrawal_removes_them(
    world: dict[str, Any],
) -> None:
    ward, carrier, _radio = _published_pair(world)
    before = Match.objects.get(demand=ward, capability=carrier)
    ann = world["ann"]
    draft = entry_svc.entry_revise(entry=Entry.objects.get(pk=ward.pk), actor=ann)
    entry_svc.entry_update(entry=draft, actor=ann, title_en="Something else entirely", topics=[("6g", "core")])
    matching.matches_for_entries(entry_ids=[ward.pk])  # a recomputation reads the published version
    after = Match.objects.get(demand=ward, capability=carrier)
    assert after.score == before.score and after.reasons == before.reasons
    # Withdrawn: its matches go, and come back on no recomputation.
    entry_svc.entry_withdraw(entry=Entry.objects.get(pk=ward.pk), actor=ann)
    matching.matches_for_entries(entry_ids=[ward.pk])
    assert not Match.objects.filter(demand=ward).exists()
    assert matching.published_versions(entry_ids=[ward.pk]) == []


def test_a_full_run_reaches_its_total_and_replaces_stale_rows(world: dict[str, Any]) -> None:
    ward, carrier, radio = _published_pair(world)
    stale = Match.objects.get(demand=ward, capability=carrier)
    Match.objects.filter(pk=stale.pk).update(score=0.01, reasons={})
    fake = Match.objects.create(
        demand=ward,
        capability=Entry.objects.get(pk=ward.pk),
        score=0.9,
        components={},
        method="x",
        computed_at=timezone.now(),
    )
    cora = world["cora"]
    with pytest.raises(PermissionDenied):
        matching.match_run_start(actor=world["ann"])
    run = matching.match_run_start(actor=cora)
    with pytest.raises(Conflict):
        matching.match_run_start(actor=cora)  # one at a time
    assert matching.match_run_execute(run_id=run.pk)
    run.refresh_from_db()
    demands = len(matching.published_versions(kind="demand"))  # the catalog's programme entries too
    assert run.status == "done" and run.total == demands and run.done == run.total
    assert run.matches == Match.objects.count()
    assert not Match.objects.filter(pk=fake.pk).exists()
    assert Match.objects.get(demand=ward, capability=carrier).score > 0.3
    assert not matching.match_run_execute(run_id=run.pk)  # done: nothing to do
    assert AuditLog.objects.filter(action="match_run_done").exists()


def test_the_sweep_requeues_a_lost_run(world: dict[str, Any]) -> None:
    run = MatchRun.objects.create(method=matching.METHOD)
    MatchRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    lost = MatchRun.objects.create(status="running", started_at=timezone.now() - timedelta(hours=2))
    fresh = MatchRun.objects.create(status="running", started_at=timezone.now())
    ids = matching.match_runs_sweep()
    assert set(ids) == {run.pk, lost.pk} and fresh.pk not in ids
    assert MatchRun.objects.get(pk=lost.pk).status == "done"  # eager: the re-queued run completed


def _client(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_only_the_owners_and_the_curators_see_the_matches(world: dict[str, Any]) -> None:
    ward, carrier, _radio = _published_pair(world)
    matches_url = reverse("exchange:entry-matches", args=[ward.code])
    entry_url = reverse("exchange:entry", args=[ward.code])
    for user in (world["ann"], world["vic"], world["cora"]):
        page = _client(user).get(matches_url)
        assert page.status_code == 200
        body = page.content.decode()
        assert "Autonomous robots that carry medicine in hospitals" in body
        assert "1 shared topic:" in body and "TRL 7 meets the TRL 6 asked" in body and "same region" in body
        assert "Matching capabilities" in _client(user).get(entry_url).content.decode()
    # Another organisation's member, and the public, see no match list.
    assert _client(world["bob"]).get(matches_url).status_code == 404
    assert "Matching capabilities" not in _client(world["bob"]).get(entry_url).content.decode()
    assert _client(None).get(matches_url).status_code == 302
    assert "Matching capabilities" not in _client(None).get(entry_url).content.decode()
    # The capability's owner sees the demand entries it could serve; the hospital does not see that list.
    cap_url = reverse("exchange:entry-matches", args=[carrier.code])
    assert "Ward robots that carry medicine at night" in _client(world["bob"]).get(cap_url).content.decode()
    assert _client(world["ann"]).get(cap_url).status_code == 404


def test_the_reasons_read_in_chinese(world: dict[str, Any]) -> None:
    ward, _carrier, _radio = _published_pair(world)
    client = _client(world["ann"])
    with translation.override("zh-hans"):
        url = reverse("exchange:entry-matches", args=[ward.code])
    body = client.get(url).content.decode()
    assert "文本相似度" in body and "个共同主题" in body and "同一地区" in body


def test_the_demand_owner_editors_shortlist_a_matched_capability(world: dict[str, Any]) -> None:
    ward, carrier, _radio = _published_pair(world)
    url = reverse("exchange:shortlist-toggle", args=[ward.code, carrier.code])
    # A viewer of the hospital and the robot maker cannot.
    assert _client(world["vic"]).post(url, {"action": "add"}).status_code == 403
    assert _client(world["bob"]).post(url, {"action": "add"}).status_code == 404
    with pytest.raises(PermissionDenied):
        matching.shortlist_add(demand=ward, capability=carrier, actor=world["cora"])
    ann = _client(world["ann"])
    response = ann.post(url, {"action": "add"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "On the shortlist" in response.content.decode()
    assert Shortlist.objects.filter(demand=ward, capability=carrier).count() == 1
    page = ann.get(reverse("exchange:entry", args=[ward.code])).content.decode()
    assert 'class="shortlist-row"' in page
    assert ann.post(url, {"action": "remove"}).status_code == 302
    assert not Shortlist.objects.filter(demand=ward).exists()
    assert AuditLog.objects.filter(action__in=["shortlist_add", "shortlist_remove"]).count() == 2
    # Only a matched capability.
    with pytest.raises(ValidationError):
        matching.shortlist_add(demand=ward, capability=ward, actor=world["ann"])


def test_the_curators_page_starts_a_run_and_shows_its_progress(world: dict[str, Any]) -> None:
    _published_pair(world)
    url = reverse("exchange:matching-runs")
    assert _client(world["ann"]).get(url).status_code == 403
    cora = _client(world["cora"])
    assert "Recompute all matches" in cora.get(url).content.decode()
    response = cora.post(url)
    assert response.status_code == 302
    run = MatchRun.objects.get()
    progress = cora.get(reverse("exchange:matching-run", args=[run.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="queued"' in progress and "hx-get" in progress  # on commit has not run in this test
    matching.match_run_execute(run_id=run.pk)
    progress = cora.get(reverse("exchange:matching-run", args=[run.pk])).content.decode()
    run.refresh_from_db()
    assert f"{run.total} of {run.total} demand entries" in progress and "hx-get" not in progress


def test_the_match_list_has_a_query_budget(world: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    ward, _carrier, _radio = _published_pair(world)
    accepted = world["accepted"]
    more = [
        accepted(
            world["robots"],
            world["bob"],
            "capability",
            f"Hospital robot model {i}",
            topics=[("humanoid-robots", "core")],
        )
        for i in range(12)
    ]
    world["publish"](*more)
    assert Match.objects.filter(demand=ward).count() >= 10
    client = _client(world["ann"])
    with django_assert_max_num_queries(16):
        page = client.get(reverse("exchange:entry-matches", args=[ward.code]))
    assert page.status_code == 200 and page.content.decode().count('class="match"') >= 10


def test_the_demand_form_asks_for_the_trl_needed_and_the_page_shows_it(world: dict[str, Any]) -> None:
    ward, carrier, _radio = _published_pair(world)
    assert Entry.objects.get(pk=ward.pk).trl_needed == 6
    page = _client(world["ann"]).get(reverse("exchange:entry", args=[ward.code])).content.decode()
    assert "TRL needed" in page
    with pytest.raises(ValidationError):
        entry_svc.entry_create(
            organisation=world["robots"], actor=world["bob"], kind="capability", title_en="x", trl_needed=5
        )


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_full_run_completes_through_the_real_worker(
    celery_worker_process: dict[str, str], transactional_catalog: Any
) -> None:
    ann = _user("ann", "ann@hospital.example")
    bob = _user("bob", "bob@robots.example")
    hospital = organisation_create(user=ann, name_en="Ruijin Hospital", name_zh="瑞金医院", kind="public_service")
    robots = organisation_create(user=bob, name_en="Shanghai Robots", name_zh="上海机器人", kind="enterprise")
    cora = staff_user("cora", "Curator")
    made = []
    for org, actor, kind, extra in (
        (hospital, ann, "demand", {"setting": "hospital", "offers": ["test_site"]}),
        (robots, bob, "capability", {"trl": 7}),
    ):
        entry = entry_svc.entry_create(
            organisation=org,
            actor=actor,
            kind=kind,
            title_en="Ward robots",
            summary_en="Robots for wards",
            topics=[("humanoid-robots", "core")],
            **extra,
        )
        entry = entry_svc.entry_submit(entry=entry, actor=actor)
        made.append(entry_svc.entry_accept(entry=entry, actor=cora))
    release = release_svc.release_draft_create(actor=cora, title_en="Batch")
    release_svc.release_add_many(release=release, entries=made, actor=cora)
    release_svc.release_publish(release=release, actor=cora)
    run = matching.match_run_start(actor=cora)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in ("done", "failed"):
            break
        time.sleep(0.2)
    assert run.status == "done" and run.done == run.total == len(matching.published_versions(kind="demand"))
    assert Match.objects.filter(demand=made[0], capability=made[1]).exists()
    assert date.today().year > 2000
