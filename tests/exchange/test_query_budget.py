"""Query budgets: the public scenario, release, entry and organisation pages, and the curators' review queue
and release workbench, cost the same number of queries with a few entries as with ten times as many (the
exchange must hold 12,000), and the release pages show one page of a list at a time."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from foresight.catalog.models import Direction, Topic
from scenarios.exchange import releases, views
from scenarios.exchange.generate import curator_for_generation, generate, prefix_for
from scenarios.models import Entry, Release, ReleaseItem, Scenario, ScenarioTopic
from tests.conftest import cache_clear
from tests.factories import ScenarioFactory, staff_user

pytestmark = pytest.mark.django_db
PAGE = 5  # entries of one release list per page in these tests, so that the larger set spans pages


def grow(*, seed: int, capability: int, demand: int, hold: int, scenarios: int) -> dict[str, str]:
    """Generated entries, the accepted ones published in a release through the services (``hold`` of them
    left accepted, half of those in a draft release), and ``scenarios`` more published catalog scenarios with
    topics and a direction. Returns the codes of the pages to measure."""
    report = generate(
        capability=capability, demand=demand, organisations=4, seed=seed, publish=True, hold=hold, append=True
    )
    prefix = prefix_for(seed)
    curator = curator_for_generation()
    draft = releases.release_draft_create(actor=curator, title_en=f"Next batch {seed}")
    held = list(Entry.objects.filter(code__startswith=prefix, status="accepted").order_by("code"))
    for entry in held[: len(held) // 2]:
        releases.release_add(release=draft, entry=entry, actor=curator)
    topics = list(Topic.objects.filter(status__in=Topic.PUBLIC_STATUSES).order_by("code")[:6])
    direction = Direction.objects.order_by("order").first()
    for i in range(scenarios):
        scenario = ScenarioFactory(code=f"{prefix}s{i:03d}", setting="hospital", list_kind="demand")
        scenario.directions.add(direction)
        for j, role in enumerate(("core", "enabling", "complementary")):
            ScenarioTopic.objects.create(scenario=scenario, topic=topics[(i + j) % len(topics)], role=role)
    published = ReleaseItem.objects.filter(release__code=report.releases[-1]["code"]).select_related("entry")
    demand_item = published.filter(entry__kind="demand").order_by("entry__code").first()
    assert demand_item is not None and published.filter(entry__kind="capability").exists()
    snap = demand_item.snapshot
    return {
        "release": report.releases[-1]["code"],
        "draft": draft.code,
        "organisation": f"{prefix}o00001",
        "entry": demand_item.entry.code,
        "scenario": f"{prefix}s000",
        "setting": snap["setting"],
        "region": snap["region_en"] or snap["region_zh"],
    }


def pages(codes: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Page name → (who asks, path)."""
    r, setting, region = codes["release"], codes["setting"], codes["region"]
    return {
        "scenario list": ("public", "/scenarios/"),
        "scenario list, filtered": ("public", "/scenarios/?setting=hospital&list_kind=demand&q=scenario"),
        "scenario list, by topic and direction": (
            "public",
            f"/scenarios/?topic={Topic.objects.order_by('code')[0].code}&direction={Direction.objects.order_by('order')[0].slug}",
        ),
        "scenario list, page 2": ("public", "/scenarios/?page=2"),
        "scenario detail": ("public", f"/scenarios/{codes['scenario']}/"),
        "release list": ("public", "/releases/"),
        "release detail": ("public", f"/releases/{r}/"),
        "release detail, filtered": ("public", f"/releases/{r}/?kind=demand&setting={setting}&region={region}"),
        "release detail, later pages": ("public", f"/releases/{r}/?cpage=2&dpage=2"),
        "release.csv": ("public", f"/releases/{r}/release.csv"),
        "release.json": ("public", f"/releases/{r}/release.json"),
        "organisation": ("public", f"/organisations/{codes['organisation']}/"),
        "published entry": ("outsider", f"/exchange/entries/{codes['entry']}/"),
        "review queue": ("curator", "/exchange/review/"),
        "review queue, accepted": ("curator", "/exchange/review/?status=accepted"),
        "release workbench": ("curator", f"/exchange/releases/{codes['draft']}/"),
        "release workbench, later pages": ("curator", f"/exchange/releases/{codes['draft']}/?page=2&cpage=2"),
        "releases for curators": ("curator", "/exchange/releases/"),
    }


def measure(clients: dict[str, Client], codes: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, (who, path) in pages(codes).items():
        cache_clear()  # the cost of rendering, not of the cache
        with CaptureQueriesContext(connection) as queries:
            response = clients[who].get(path)
        assert response.status_code == 200, (name, path, response.status_code)
        counts[name] = len(queries)
    return counts


@pytest.fixture
def clients(catalog: Any) -> dict[str, Client]:
    outsider = get_user_model().objects.create_user("olga", "olga@example.org", "a-long-password-9")
    curator, reader = Client(), Client()
    curator.force_login(staff_user("cora", "Curator"))
    reader.force_login(outsider)
    return {"public": Client(), "outsider": reader, "curator": curator}


def test_every_page_costs_the_same_queries_with_ten_times_the_entries(
    clients: dict[str, Client], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(views, "RELEASE_PAGE_SIZE", PAGE)
    small = measure(clients, grow(seed=1, capability=10, demand=8, hold=2, scenarios=3))
    large_codes = grow(seed=2, capability=100, demand=80, hold=20, scenarios=30)
    assert ReleaseItem.objects.filter(release__code=large_codes["release"]).count() > 10 * PAGE
    large = measure(clients, large_codes)
    with capsys.disabled():
        print("\nqueries per page (small → ten times larger):")
        for name in small:
            print(f"  {name}: {small[name]} → {large[name]}")
    assert large == small


def test_a_release_page_shows_one_page_of_each_list_and_links_the_next(
    clients: dict[str, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "RELEASE_PAGE_SIZE", PAGE)
    codes = grow(seed=3, capability=30, demand=20, hold=0, scenarios=0)
    items = ReleaseItem.objects.filter(release__code=codes["release"])
    capability = sorted(items.filter(entry__kind="capability").values_list("entry__code", flat=True))
    demand = sorted(items.filter(entry__kind="demand").values_list("entry__code", flat=True))
    assert len(capability) > 2 * PAGE and len(demand) > PAGE

    first = clients["public"].get(f"/releases/{codes['release']}/").content.decode()
    assert first.count('class="release-item change-') == 2 * PAGE
    assert all(f'id="item-{code}"' in first for code in capability[:PAGE] + demand[:PAGE])
    assert f'id="item-{capability[PAGE]}"' not in first
    assert "cpage=2" in first and "dpage=2" in first

    second = clients["public"].get(f"/releases/{codes['release']}/?kind=capability&cpage=2").content.decode()
    shown = [code for code in capability if f'id="item-{code}"' in second]
    assert shown == capability[PAGE : 2 * PAGE]
    assert "kind=capability&amp;cpage=3" in second and "kind=capability&amp;cpage=1" in second  # filters kept
    # The counts and the downloads still cover the whole release.
    assert f"{len(capability) + len(demand)} new" in first
    csv_rows = clients["public"].get(f"/releases/{codes['release']}/release.csv").content.decode().splitlines()
    assert len(csv_rows) == 1 + len(capability) + len(demand)


def test_the_release_filters_narrow_in_the_database_as_they_did_in_python(
    clients: dict[str, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "RELEASE_PAGE_SIZE", 1000)
    codes = grow(seed=4, capability=30, demand=20, hold=0, scenarios=0)
    release = Release.objects.get(code=codes["release"])
    snaps = [i.snapshot for i in release.items.all()]
    for setting in {s["setting"] for s in snaps}:
        for region in {s["region_en"] or s["region_zh"] for s in snaps}:
            page = clients["public"].get(f"/releases/{release.code}/?setting={setting}&region={region}")
            expected = {
                s["code"] for s in snaps if s["setting"] == setting and region in (s["region_en"], s["region_zh"])
            }
            shown = {s["code"] for s in snaps if f'id="item-{s["code"]}"' in page.content.decode()}
            assert shown == expected, (setting, region)
    body = clients["public"].get(f"/releases/{release.code}/").content.decode()
    for region in {s["region_en"] or s["region_zh"] for s in snaps}:
        assert f'<option value="{region}"' in body
    assert set(Scenario.Setting.values) >= {s["setting"] for s in snaps}
