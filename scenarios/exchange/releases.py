"""Releases of the scenario exchange: curators assemble a dated, numbered batch of accepted entries and
publish it atomically. A published release is immutable, with a fingerprint of exactly what it published (each
entry's snapshot); a correction is a new release that names the one it replaces.

An item says what the release changes since the previous one: a **new** entry (never published before), a
**changed** one (published before, accepted again after an edit), or a **withdrawn** one (published before,
withdrawn by its organisation since).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from foresight.catalog.models import PublicationStatus
from foresight.core.audit import audit_log
from foresight.core.cache import content_version_bump
from foresight.core.errors import Conflict
from foresight.core.text import clean_text
from scenarios.exchange.entries import FIELDS
from scenarios.exchange.matching import release_matches_queue as matches_queue
from scenarios.models import (
    RELEASE_IMMUTABLE_MESSAGE,
    Entry,
    EntryTopic,
    Release,
    ReleaseImmutable,
    ReleaseItem,
    Scenario,
    ScenarioTopic,
)

PUBLISH_PERMISSION = "scenarios.publish_release"
SNAPSHOT_FIELDS = ("code", "kind", *FIELDS)  # everything an entry says, as a release publishes it


def _require_publisher(user: Any) -> None:
    if not (
        getattr(user, "is_active", False) and getattr(user, "is_staff", False) and user.has_perm(PUBLISH_PERMISSION)
    ):
        raise PermissionDenied(_("Only curators assemble and publish releases."))


def _require_draft(release: Release) -> None:
    if release.status != Release.Status.DRAFT:
        raise ReleaseImmutable(RELEASE_IMMUTABLE_MESSAGE)


LINKS = Prefetch("entry__topic_links", queryset=EntryTopic.objects.select_related("topic__area__direction"))


def _links(entry: Entry) -> list[EntryTopic]:
    """The entry's topic links by topic code, with topic, area and direction (prefetched by a publication)."""
    prefetched = getattr(entry, "_prefetched_objects_cache", {}).get("topic_links")
    links = prefetched if prefetched is not None else entry.topic_links.select_related("topic__area__direction")
    return sorted(links, key=lambda link: link.topic.code)


def entry_snapshot(entry: Entry) -> dict[str, Any]:
    """The entry as a release publishes it (dates as ISO text, topics with roles, the organisation's name)."""
    data: dict[str, Any] = {}
    for name in SNAPSHOT_FIELDS:
        value = getattr(entry, name)
        data[name] = value.isoformat() if isinstance(value, date) else value
    data["organisation"] = {
        "code": entry.organisation.code,
        "name_en": entry.organisation.name_en,
        "name_zh": entry.organisation.name_zh,
        "kind": entry.organisation.kind,
    }
    links = _links(entry)
    data["topics"] = [{"code": link.topic.code, "role": link.role} for link in links]
    data["directions"] = sorted({link.topic.area.direction.slug for link in links})
    data["scenario"] = entry.scenario.code if entry.scenario_id else None  # type: ignore[union-attr]
    return data


# How an entry shows in the public scenario catalog once a release publishes it.
TRL_MATURITY = {
    1: "concept",
    2: "concept",
    3: "concept",
    4: "concept",
    5: "pilot",
    6: "pilot",
    7: "demonstration",
    8: "scale_up",
    9: "mainstream",
}


def _scenario_values(entry: Entry) -> dict[str, Any]:
    demand = entry.kind == Entry.Kind.DEMAND
    return {
        "title_en": entry.title_en,
        "title_zh": entry.title_zh,
        "summary_en": entry.summary_en,
        "summary_zh": entry.summary_zh,
        "scenario_type": Scenario.ScenarioType.SMALL_ENTRY,
        "list_kind": entry.kind,
        "setting": entry.setting,
        "sector_en": entry.organisation.sector_en,
        "sector_zh": entry.organisation.sector_zh,
        "problem_en": entry.why_now_en,
        "problem_zh": entry.why_now_zh,
        "requirements_en": entry.needs_en if demand else entry.conditions_en,
        "requirements_zh": entry.needs_zh if demand else entry.conditions_zh,
        "enablers_institutions_en": entry.constraints_en,
        "enablers_institutions_zh": entry.constraints_zh,
        "maturity": Scenario.Maturity.PILOT if demand else TRL_MATURITY.get(entry.trl or 0, "concept"),
        "target_year": entry.window_start.year if entry.window_start else None,
        "region_en": entry.region_en,
        "region_zh": entry.region_zh,
        "status": PublicationStatus.PUBLISHED,
        "origin": Scenario.Origin.EXCHANGE,
    }


SCENARIO_FIELDS = [  # the fields a sync writes
    "title_en", "title_zh", "summary_en", "summary_zh", "scenario_type", "list_kind", "setting", "sector_en",
    "sector_zh", "problem_en", "problem_zh", "requirements_en", "requirements_zh", "enablers_institutions_en",
    "enablers_institutions_zh", "maturity", "target_year", "region_en", "region_zh", "status", "origin",
]  # fmt: skip


def scenarios_sync(entries: list[Entry]) -> None:
    """Create or update the public catalog scenarios of the entries a release publishes (list kind = the
    entry's kind, topics with roles, directions), in a fixed number of queries with their history. A
    curated scenario (loaded from the catalog) is its own source and is left as it is."""
    entries = [e for e in entries if e.scenario is None or e.scenario.origin == Scenario.Origin.EXCHANGE]
    if not entries:
        return
    fresh = [e for e in entries if e.scenario is None]
    existing = [e for e in entries if e.scenario is not None]
    created = bulk_create_with_history(
        [Scenario(code=e.code, **_scenario_values(e)) for e in fresh], Scenario, default_change_reason="release"
    )
    by_code = {s.code: s for s in Scenario.objects.filter(code__in=[e.code for e in fresh])} if created else {}
    for entry in fresh:
        entry.scenario = by_code[entry.code]
    Entry.objects.bulk_update(fresh, ["scenario"])
    updated = []
    for entry in existing:
        scenario = entry.scenario
        assert scenario is not None
        for name, value in _scenario_values(entry).items():
            setattr(scenario, name, value)
        updated.append(scenario)
    if updated:
        bulk_update_with_history(updated, Scenario, SCENARIO_FIELDS, default_change_reason="release")
    ids = [e.scenario.pk for e in entries if e.scenario is not None]
    ScenarioTopic.objects.filter(scenario_id__in=ids).delete()
    directions = Scenario.directions.through
    directions.objects.filter(scenario_id__in=ids).delete()
    links, pairs = [], set()
    for entry in entries:
        assert entry.scenario is not None
        for link in _links(entry):
            links.append(ScenarioTopic(scenario=entry.scenario, topic=link.topic, role=link.role))
            pairs.add((entry.scenario.pk, link.topic.area.direction_id))
    ScenarioTopic.objects.bulk_create(links)
    directions.objects.bulk_create(directions(scenario_id=s, direction_id=d) for s, d in sorted(pairs))


def scenarios_unpublish(entries: list[Entry]) -> None:
    """Withdrawn entries' exchange scenarios leave the public catalog (their releases keep them)."""
    Scenario.objects.filter(entry__in=entries, origin=Scenario.Origin.EXCHANGE).update(status=PublicationStatus.DRAFT)


def release_fingerprint(items: list[dict[str, Any]]) -> str:
    """SHA-256 of the canonical JSON of the items (change and snapshot, in entry-code order)."""
    canonical = json.dumps(
        sorted(items, key=lambda i: i["snapshot"]["code"]), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def release_draft_create(
    *,
    actor: Any,
    title_en: str = "",
    title_zh: str = "",
    note_en: str = "",
    note_zh: str = "",
    replaces: Release | None = None,
) -> Release:
    """A new draft with the next number; a correction (``replaces``) starts from the items of the release it
    replaces."""
    _require_publisher(actor)
    title_en, title_zh = clean_text(title_en), clean_text(title_zh)
    if not (title_en or title_zh):
        raise ValidationError({"title_en": _("Give the release a title in English or Chinese.")})
    if replaces is not None and replaces.status != Release.Status.PUBLISHED:
        raise ValidationError({"replaces": _("Only a published release can be replaced.")})
    with transaction.atomic():
        number = (Release.objects.select_for_update().aggregate(n=Max("number"))["n"] or 0) + 1
        release = Release(
            code=f"r{number}",
            number=number,
            title_en=title_en,
            title_zh=title_zh,
            note_en=clean_text(note_en),
            note_zh=clean_text(note_zh),
            replaces=replaces,
            created_by=actor,
        )
        release.full_clean()
        release.save()
        if replaces is not None:
            ReleaseItem.objects.bulk_create(
                ReleaseItem(release=release, entry_id=item.entry_id, change=item.change)
                for item in replaces.items.all()
            )
        audit_log(action="release_create", actor=actor, release=release.code, replaces=getattr(replaces, "code", None))
    return release


def _history(entry_ids: list[int]) -> dict[int, list[str]]:
    """Each entry's changes in published releases, latest release first (one query for any number)."""
    history: dict[int, list[str]] = {}
    for entry_id, change in (
        ReleaseItem.objects.filter(entry_id__in=entry_ids, release__status=Release.Status.PUBLISHED)
        .order_by("entry_id", "-release__number")
        .values_list("entry_id", "change")
    ):
        history.setdefault(entry_id, []).append(change)
    return history


def _listed(changes: list[str]) -> bool:
    """Whether the latest published release that names the entry lists it (rather than its withdrawal)."""
    return bool(changes) and changes[0] != ReleaseItem.Change.WITHDRAWN


def _published_before(changes: list[str]) -> bool:
    return any(change != ReleaseItem.Change.WITHDRAWN for change in changes)


def release_add(*, release: Release, entry: Entry, actor: Any) -> ReleaseItem:
    """Put an accepted entry (new or changed) or a withdrawn, once-published entry into a draft release."""
    return release_add_many(release=release, entries=[entry], actor=actor)[0]


def release_add_many(*, release: Release, entries: Iterable[Entry], actor: Any) -> list[ReleaseItem]:
    """Put these entries into a draft release, each by the rules of an item: an accepted entry is **new** (never
    published) or **changed** (published before); a withdrawn entry whose latest published release still lists
    it is **withdrawn**. All or nothing: if any entry is refused (not ready, or in the release already), nothing
    is added and the conflict names every refused entry. A fixed number of queries whatever the number of
    entries: their states, their published history and the release's items are read once, the items written
    in one statement, and the addition audited in one line."""
    _require_publisher(actor)
    _require_draft(release)
    given = {entry.pk: entry for entry in entries}  # each entry once, in the order given
    if not given:
        return []
    ids = list(given)
    with transaction.atomic():
        locked = Release.objects.select_for_update().get(pk=release.pk)  # not published meanwhile
        _require_draft(locked)
        # The entries' states as they are now, not as the caller's copies last saw them.
        status = dict(Entry.objects.filter(pk__in=ids).values_list("pk", "status"))
        history = _history(ids)
        present = set(ReleaseItem.objects.filter(release=locked, entry_id__in=ids).values_list("entry_id", flat=True))
        changes: dict[int, str] = {}
        for pk in ids:
            past = history.get(pk, [])
            if status.get(pk) == Entry.Status.ACCEPTED:
                changes[pk] = ReleaseItem.Change.CHANGED if _published_before(past) else ReleaseItem.Change.NEW
            elif status.get(pk) == Entry.Status.WITHDRAWN and _listed(past):
                changes[pk] = ReleaseItem.Change.WITHDRAWN
        unready = sorted(given[pk].code for pk in ids if pk not in changes)
        already = sorted(given[pk].code for pk in ids if pk in present)
        problems: list[str] = []
        if unready:
            problems.append(
                _(
                    "Only accepted entries, or published entries withdrawn since (and not yet listed as withdrawn), go into a release: %(codes)s."
                )
                % {"codes": ", ".join(unready)}
            )
        if already:
            problems.append(_("In the release already: %(codes)s.") % {"codes": ", ".join(already)})
        if problems:
            if len(ids) > 1:
                problems.insert(0, _("Nothing was added."))
            raise Conflict(" ".join(problems))
        items = ReleaseItem.objects.bulk_create(
            ReleaseItem(release=locked, entry=given[pk], change=changes[pk]) for pk in ids
        )
        audit_log(
            action="release_add",
            actor=actor,
            release=locked.code,
            entries=[given[pk].code for pk in ids],
            changes={c: n for c in ReleaseItem.Change.values if (n := list(changes.values()).count(c))},
        )
    return items


def release_remove(*, release: Release, entry: Entry, actor: Any) -> None:
    _require_publisher(actor)
    _require_draft(release)
    with transaction.atomic():
        deleted, _rows = ReleaseItem.objects.filter(release=release, entry=entry).delete()
        if deleted:
            audit_log(action="release_remove", actor=actor, release=release.code, entry=entry.code)


def release_publish(*, release: Release, actor: Any, released_on: date | None = None) -> Release:
    """Publish atomically: every item's entry is still as the item says, each gets its snapshot, accepted
    entries become published, the release gets its fingerprint and becomes immutable."""
    _require_publisher(actor)
    with transaction.atomic():
        locked = Release.objects.select_for_update().get(pk=release.pk)
        _require_draft(locked)
        items = list(
            locked.items.select_related("entry__organisation", "entry__scenario")
            .prefetch_related(LINKS)
            .select_for_update(of=("self",))
            .order_by("entry__code")
        )
        if not items:
            raise Conflict(_("An empty release cannot be published: add accepted entries first."))
        # A correction carries over the items of the release it replaces: those entries are published already.
        carried = set(ReleaseItem.objects.filter(release__replaced_by=locked).values_list("entry_id", flat=True))
        ready = (Entry.Status.ACCEPTED,)
        stale = [
            i.entry.code
            for i in items
            if (i.change == ReleaseItem.Change.WITHDRAWN) != (i.entry.status == Entry.Status.WITHDRAWN)
            or (
                i.change != ReleaseItem.Change.WITHDRAWN
                and i.entry.status not in ready
                and not (i.entry_id in carried and i.entry.status == Entry.Status.PUBLISHED)
            )
        ]
        # A withdrawal is published once: another release may have listed it since this one took it.
        withdrawals = [i for i in items if i.change == ReleaseItem.Change.WITHDRAWN]
        history = _history([i.entry_id for i in withdrawals])
        stale += [
            i.entry.code for i in withdrawals if i.entry_id not in carried and not _listed(history.get(i.entry_id, []))
        ]
        if stale:
            raise Conflict(
                _("These entries changed state since they were added: %(codes)s. Remove them or add them again.")
                % {"codes": ", ".join(stale)}
            )
        scenarios_unpublish([i.entry for i in items if i.change == ReleaseItem.Change.WITHDRAWN])
        scenarios_sync([i.entry for i in items if i.change != ReleaseItem.Change.WITHDRAWN])
        payload = []
        for item in items:
            item.snapshot = entry_snapshot(item.entry)
            payload.append({"change": item.change, "snapshot": item.snapshot})
        ReleaseItem.objects.bulk_update(items, ["snapshot"])
        Entry.objects.filter(pk__in=[i.entry_id for i in items if i.change != ReleaseItem.Change.WITHDRAWN]).update(
            status=Entry.Status.PUBLISHED, updated_at=timezone.now()
        )
        fingerprint = release_fingerprint(payload)
        Release.objects.filter(pk=locked.pk).update(
            status=Release.Status.PUBLISHED,
            published_at=timezone.now(),
            released_on=released_on or timezone.localdate(),
            fingerprint=fingerprint,
        )
        transaction.on_commit(content_version_bump)  # the release pages and the scenario catalog
        matches_queue(release=locked)  # its entries' matches, recomputed once this commits
        audit_log(action="release_publish", actor=actor, release=locked.code, items=len(items), fingerprint=fingerprint)
    return Release.objects.get(pk=locked.pk)
