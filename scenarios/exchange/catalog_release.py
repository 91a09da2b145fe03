"""The curated scenarios as entries of the exchange: ``load_catalog`` makes each published curated scenario an
entry of the programme's own organisation and publishes what is new, changed or withdrawn since the last
release as a release of its own, so the catalog and the exchange are one list with one history.

Idempotent: a second load that changes nothing publishes nothing. A curated scenario is the source of its
entry (the entry mirrors it; nobody edits it through the exchange), and the entry's code is derived from the
scenario's, so every machine that loads the catalog gets the same codes.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from foresight.catalog.models import PublicationStatus
from foresight.core.audit import audit_log
from foresight.core.cache import content_version_bump
from scenarios.exchange.entries import PROGRAMME_ORG
from scenarios.exchange.releases import entry_snapshot, release_fingerprint
from scenarios.models import Entry, EntryTopic, Organisation, Release, ReleaseItem, Scenario

PROGRAMME_CODE = PROGRAMME_ORG
PROGRAMME = {
    "name_en": "Foresight programme (curated catalog)",
    "name_zh": "技术预见项目（编选目录）",
    "kind": Organisation.Kind.OTHER,
    "description_en": "The programme's own curated scenarios, taken from published national and local scenario lists.",
    "description_zh": "项目自行编选的场景，取自已公开的国家和地方场景清单。",
}
MATURITY_TRL = {"concept": 3, "pilot": 6, "demonstration": 7, "scale_up": 8, "mainstream": 9}


def entry_code_for(scenario_code: str) -> str:
    return "c-" + hashlib.sha256(scenario_code.encode("utf-8")).hexdigest()[:10]


def _values(scenario: Scenario) -> dict[str, Any]:
    capability = scenario.list_kind == Scenario.ListKind.CAPABILITY
    sources = [{"url": ref.url, "title": ref.label[:200]} for ref in scenario.sources.all().order_by("pk") if ref.url][
        :10
    ]
    values: dict[str, Any] = {
        "kind": Entry.Kind.CAPABILITY if capability else Entry.Kind.DEMAND,
        "title_en": scenario.title_en,
        "title_zh": scenario.title_zh,
        "summary_en": scenario.summary_en,
        "summary_zh": scenario.summary_zh,
        "setting": scenario.setting,
        "region_en": scenario.region_en,
        "region_zh": scenario.region_zh,
        "sources": sources,
    }
    if capability:
        values |= {
            "trl": MATURITY_TRL.get(scenario.maturity),
            "conditions_en": scenario.requirements_en,
            "conditions_zh": scenario.requirements_zh,
        }
    else:
        values |= {
            "why_now_en": scenario.problem_en,
            "why_now_zh": scenario.problem_zh,
            "needs_en": scenario.requirements_en,
            "needs_zh": scenario.requirements_zh,
            "constraints_en": scenario.enablers_institutions_en,
            "constraints_zh": scenario.enablers_institutions_zh,
        }
    return values


def _last_snapshots(entries: list[Entry]) -> dict[int, dict[str, Any]]:
    """Each entry's snapshot in the latest published release that lists it (withdrawn ones included)."""
    last: dict[int, dict[str, Any]] = {}
    items = ReleaseItem.objects.filter(entry__in=entries, release__status=Release.Status.PUBLISHED).order_by(
        "release__number"
    )
    for entry_id, change, snapshot in items.values_list("entry_id", "change", "snapshot"):
        last[entry_id] = {"change": change, "snapshot": snapshot}
    return last


@transaction.atomic
def catalog_release_sync(*, released_on: date | None = None) -> Release | None:
    """Mirror the curated scenarios into entries and publish what changed as a release (None: nothing did)."""
    programme, _created = Organisation.objects.get_or_create(
        code=PROGRAMME_CODE, defaults={**PROGRAMME, "verified_at": timezone.now()}
    )
    curated = list(
        Scenario.objects.filter(origin=Scenario.Origin.CURATED)
        .prefetch_related("sources", "topic_links")
        .order_by("code")
    )
    entries = {e.scenario_id: e for e in Entry.objects.filter(scenario__in=curated).select_related("organisation")}
    last = _last_snapshots(list(entries.values()))
    changes: list[tuple[Entry, str]] = []
    for scenario in curated:
        entry = entries.get(scenario.pk)
        published = scenario.status == PublicationStatus.PUBLISHED
        if entry is None and not published:
            continue
        if entry is None:
            entry = Entry(code=entry_code_for(scenario.code), organisation=programme, scenario=scenario)
        values = _values(scenario) | {"status": Entry.Status.PUBLISHED if published else Entry.Status.WITHDRAWN}
        if entry.pk is None or any(getattr(entry, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(entry, name, value)
            entry.save()
        links = {(link.topic_id, link.role) for link in scenario.topic_links.all()}
        if set(entry.topic_links.values_list("topic_id", "role")) != links:
            entry.topic_links.all().delete()
            EntryTopic.objects.bulk_create(EntryTopic(entry=entry, topic_id=t, role=r) for t, r in links)
        before = last.get(entry.pk)
        if not published:
            if before and before["change"] != ReleaseItem.Change.WITHDRAWN:
                changes.append((entry, ReleaseItem.Change.WITHDRAWN))
        elif before is None or before["change"] == ReleaseItem.Change.WITHDRAWN:
            changes.append((entry, ReleaseItem.Change.NEW if before is None else ReleaseItem.Change.CHANGED))
        elif before["snapshot"] != entry_snapshot(entry):
            changes.append((entry, ReleaseItem.Change.CHANGED))
    if not changes:
        return None
    number = (Release.objects.select_for_update().aggregate(n=Max("number"))["n"] or 0) + 1
    first = not Release.objects.filter(status=Release.Status.PUBLISHED).exists()
    release = Release.objects.create(
        code=f"r{number}",
        number=number,
        title_en="Curated catalog scenarios" if first else "Curated catalog scenarios: update",
        title_zh="编选目录场景" if first else "编选目录场景：更新",
        note_en="The scenarios the programme curated from published lists, as loaded from the catalog.",
        note_zh="项目从已公开清单中编选的场景，随目录载入。",
    )
    items = [
        ReleaseItem(release=release, entry=entry, change=change, snapshot=entry_snapshot(entry))
        for entry, change in changes
    ]
    ReleaseItem.objects.bulk_create(items)
    fingerprint = release_fingerprint([{"change": i.change, "snapshot": i.snapshot} for i in items])
    Release.objects.filter(pk=release.pk).update(
        status=Release.Status.PUBLISHED,
        published_at=timezone.now(),
        released_on=released_on or timezone.localdate(),
        fingerprint=fingerprint,
    )
    transaction.on_commit(content_version_bump)  # the release pages and the scenario catalog
    audit_log(action="release_publish", release=release.code, items=len(items), fingerprint=fingerprint, curated=True)
    return Release.objects.get(pk=release.pk)
