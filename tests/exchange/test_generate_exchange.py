"""``manage.py generate_exchange``: organisations and entries at scale, the same for the same seed, published
through the release services, refusing bad arguments and a second run into the same database."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import QuerySet

from foresight.core.models import AuditLog
from scenarios.exchange.catalog_release import PROGRAMME_CODE
from scenarios.models import Entry, EntryComment, EntryTopic, Organisation, Release, ReleaseItem

pytestmark = pytest.mark.django_db


# The catalog's own organisation and its curated entries (release r1, from ``load_catalog``) are there too.
def orgs() -> QuerySet[Organisation]:
    return Organisation.objects.exclude(code=PROGRAMME_CODE)


def entries() -> QuerySet[Entry]:
    return Entry.objects.exclude(organisation__code=PROGRAMME_CODE)


def run(*args: str) -> str:
    out = StringIO()
    call_command("generate_exchange", *args, stdout=out)
    return out.getvalue()


def contents() -> list[tuple[Any, ...]]:
    """What a generation wrote, without database ids."""
    organisations = list(orgs().order_by("code").values_list("code", "kind", "name_en", "name_zh", "region_en"))
    rows = list(
        entries()
        .order_by("code")
        .values_list(
            "code",
            "organisation__code",
            "kind",
            "status",
            "title_en",
            "title_zh",
            "summary_zh",
            "setting",
            "trl",
            "offers",
            "window_start",
        )
    )
    links = list(
        EntryTopic.objects.exclude(entry__organisation__code=PROGRAMME_CODE)
        .order_by("entry__code", "topic__code")
        .values_list("entry__code", "topic__code", "role")
    )
    return [*organisations, *rows, *links]


def wipe() -> None:
    EntryComment.objects.all().delete()
    entries().all().delete()
    orgs().all().delete()


def test_it_generates_organisations_of_every_kind_and_entries_in_every_state(catalog: Any) -> None:
    out = run("--capability", "120", "--demand", "40", "--organisations", "16", "--seed", "7")
    assert orgs().count() == 16
    assert set(orgs().values_list("kind", flat=True)) == set(Organisation.Kind.values)
    assert not orgs().filter(name_en="").exists() and not orgs().filter(name_zh="").exists()
    assert entries().filter(kind="capability").count() == 120 and entries().filter(kind="demand").count() == 40
    statuses = set(entries().values_list("status", flat=True))
    assert statuses == set(Entry.Status.values) - {"published", "merged"}  # published only with --publish
    # Every entry has topics of the catalog, the first one core; demand and capability fields by kind.
    assert not entries().filter(topic_links__isnull=True).exists()
    assert (
        EntryTopic.objects.exclude(entry__organisation__code=PROGRAMME_CODE)
        .filter(role="core")
        .values("entry")
        .distinct()
        .count()
        == 160
    )
    assert not entries().filter(kind="capability", trl__isnull=True).exists()
    assert not entries().filter(kind="capability").exclude(offers=[]).exists()
    assert not entries().filter(kind="demand", trl__isnull=False).exists()
    assert not entries().filter(kind="demand", window_start__isnull=True).exists()
    # Titles come from the catalog's topics, in both languages (some entries in one language only).
    names = set(
        EntryTopic.objects.exclude(entry__organisation__code=PROGRAMME_CODE)
        .filter(role="core")
        .values_list("topic__name_zh", flat=True)
    )
    assert any(name in title for title in entries().values_list("title_zh", flat=True) for name in names)
    assert entries().exclude(title_en="").exclude(title_zh="").exists()
    assert entries().filter(title_en="").exists() and entries().filter(title_zh="").exists()
    assert EntryComment.objects.filter(entry__status="rejected").count() == entries().filter(status="rejected").count()
    assert "16 organisations; 120 capability, 40 demand entries" in out and "generated in" in out
    assert AuditLog.objects.filter(action="exchange_generate").count() == 1
    assert not Release.objects.exclude(number=1).exists()


def test_the_same_seed_gives_the_same_exchange_and_another_seed_another(catalog: Any) -> None:
    run("--capability", "30", "--demand", "10", "--organisations", "5", "--seed", "11")
    first = contents()
    wipe()
    run("--capability", "30", "--demand", "10", "--organisations", "5", "--seed", "11")
    assert contents() == first
    wipe()
    run("--capability", "30", "--demand", "10", "--organisations", "5", "--seed", "12")
    other = contents()
    assert [row[2:] for row in other] != [row[2:] for row in first]


def test_publish_puts_the_accepted_entries_in_releases_through_the_services(catalog: Any) -> None:
    out = run(
        "--capability",
        "60",
        "--demand",
        "20",
        "--organisations",
        "6",
        "--seed",
        "3",
        "--publish",
        "--releases",
        "2",
        "--hold",
        "4",
    )
    published = Release.objects.filter(status="published").exclude(number=1)
    assert published.count() == 2 and all(len(r.fingerprint) == 64 for r in published)
    items = ReleaseItem.objects.filter(release__in=published)
    assert items.count() == entries().filter(status="published").count() > 0
    assert entries().filter(status="accepted").count() == 4  # held back for the curators' workbench
    assert all(item.snapshot["code"] == item.entry.code for item in items.select_related("entry"))
    # Through the services: each release's additions (one line naming its entries) and publication are audited.
    added = AuditLog.objects.filter(action="release_add", details__release__in=[r.code for r in published])
    assert added.count() == 2
    assert sorted(code for line in added for code in line.details["entries"]) == sorted(
        items.values_list("entry__code", flat=True)
    )
    assert AuditLog.objects.filter(action="release_publish").exclude(details__has_key="curated").count() == 2
    assert "release r2:" in out and "release r3:" in out


def test_a_second_run_is_refused_unless_appended_with_another_seed(catalog: Any) -> None:
    run("--capability", "5", "--demand", "2", "--organisations", "2", "--seed", "1")
    before = contents()
    with pytest.raises(CommandError, match="--append"):
        run("--capability", "5", "--demand", "2", "--organisations", "2", "--seed", "2")
    with pytest.raises(CommandError, match="Seed 1 was generated"):
        run("--capability", "5", "--demand", "2", "--organisations", "2", "--seed", "1", "--append")
    assert contents() == before
    run("--capability", "5", "--demand", "2", "--organisations", "2", "--seed", "2", "--append")
    assert entries().count() == 14 and orgs().count() == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--capability", "0", "--demand", "0"], "at least one entry"),
        (["--capability", "-3"], "at least one entry"),
        (["--capability", "300000"], "At most"),
        (["--organisations", "0"], "--organisations must be"),
        (["--seed", "-1"], "--seed must be"),
        (["--releases", "0", "--publish"], "--releases must be"),
        (["--hold", "-1"], "--hold must be"),
    ],
)
def test_bad_arguments_are_refused_with_the_reason_and_change_nothing(
    catalog: Any, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not orgs().exists() and not entries().exists()


def test_without_a_catalog_it_says_to_load_one(db: Any) -> None:
    with pytest.raises(CommandError, match="load_catalog"):
        run("--capability", "5", "--demand", "2")
    assert not orgs().exists()
