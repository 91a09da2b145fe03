"""Matching demand entries to capability entries (the scores: ``scenarios.exchange.match_scoring``).

Matches are computed from what the public reads: each entry's latest published release snapshot. An entry
being revised keeps matching on its published version until the next release; a withdrawn or merged entry,
or one whose latest release lists its withdrawal, has no matches.

* ``matches_for_entries`` recomputes the pairs of some entries against the whole other side and replaces
  their stored rows in one transaction (queued on commit when a release is published). Another entry's list
  may then hold more than its ``CAPABILITY_TOP`` / ``DEMAND_TOP`` rows until the next full run trims it.
* ``match_run_start`` queues a full recomputation (a ``MatchRun``) that moves ``done``/``total`` as demand
  blocks are scored and replaces every match at the end; ``match_runs_sweep`` re-queues a run whose task was
  lost (queued for over a minute, or running past the task's time limit).
* ``shortlist_add`` / ``shortlist_remove``: a demand entry's editors keep capabilities for a closer look.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import scipy.sparse as sp
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from foresight.catalog.selectors import topic_similarity_documents
from foresight.core import queue, similarity
from foresight.core.audit import audit_log
from foresight.core.errors import Conflict
from scenarios.exchange import match_scoring as ms
from scenarios.exchange.entries import WRITERS, is_curator
from scenarios.exchange.organisations import role_of
from scenarios.exchange.selectors import ENTRY_TEXT_FIELDS
from scenarios.models import Entry, Match, MatchRun, Release, ReleaseItem, ScenarioTopic, Shortlist

logger = logging.getLogger(__name__)

METHOD = "match-v1"
RUN_PERMISSION = "scenarios.run_matching"
RUN_TIME_LIMIT = 1800  # seconds: the task's hard limit
RUN_STALE_AFTER = timedelta(seconds=RUN_TIME_LIMIT + 60)
RUN_QUEUED_STALE_AFTER = timedelta(seconds=60)
# Statuses whose entries never match (even while a release still lists them).
GONE = (Entry.Status.WITHDRAWN, Entry.Status.MERGED)


@dataclass
class Version:
    """An entry as its latest release published it: what the scorer reads."""

    pk: int
    code: str
    kind: str
    text: str
    topics: list[tuple[str, str]]  # (code, role)
    trl: int | None
    trl_needed: int | None
    region_en: str
    region_zh: str
    window_end: date | None


def snapshot_text(snapshot: dict[str, Any]) -> str:
    """The similarity text of a published snapshot: the same fields, in the same order, as ``entry_text``."""
    return "\n".join(t for t in (snapshot.get(name) for name in ENTRY_TEXT_FIELDS) if t)


def published_versions(*, kind: str | None = None, entry_ids: Iterable[int] | None = None) -> list[Version]:
    """The published versions of the entries that match (one query), by code: the latest published release
    item of each, left out when it is a withdrawal or the entry is withdrawn or merged now."""
    items = ReleaseItem.objects.filter(release__status=Release.Status.PUBLISHED).exclude(entry__status__in=GONE)
    if kind is not None:
        items = items.filter(entry__kind=kind)
    if entry_ids is not None:
        items = items.filter(entry_id__in=list(entry_ids))
    rows = items.order_by("entry_id", "-release__number").values_list(
        "entry_id", "entry__code", "entry__kind", "change", "snapshot"
    )
    versions = []
    seen: set[int] = set()
    for pk, code, entry_kind, change, snap in rows.iterator(chunk_size=2000):
        if pk in seen:
            continue  # an older release of the same entry (no DISTINCT ON: the demo runs on SQLite)
        seen.add(pk)
        if change == ReleaseItem.Change.WITHDRAWN:
            continue
        window_end = snap.get("window_end")
        versions.append(
            Version(
                pk=pk,
                code=code,
                kind=entry_kind,
                text=snapshot_text(snap),
                topics=[(t["code"], t["role"]) for t in snap.get("topics", [])],
                trl=snap.get("trl"),
                trl_needed=snap.get("trl_needed"),
                region_en=snap.get("region_en") or "",
                region_zh=snap.get("region_zh") or "",
                window_end=date.fromisoformat(window_end) if window_end else None,
            )
        )
    return sorted(versions, key=lambda v: v.code)


def matches_arrays(
    demands: list[Version], capabilities: list[Version], *, today: date
) -> tuple[ms.Side, ms.Side, list[str]]:
    """The scorer's arrays for both sides (one text space, one topic space) and the topic codes by column."""
    topic_codes = sorted({code for v in (*demands, *capabilities) for code, _role in v.topics})
    column = {code: i for i, code in enumerate(topic_codes)}

    def topics(versions: list[Version]) -> Any:
        rows, cols, vals = [], [], []
        for i, v in enumerate(versions):
            for code, role in v.topics:
                rows.append(i)
                cols.append(column[code])
                vals.append(ScenarioTopic.ROLE_WEIGHTS.get(role, 0.0))
        return sp.csr_matrix((vals, (rows, cols)), shape=(len(versions), max(len(topic_codes), 1)))

    background = [text for _code, text in topic_similarity_documents()]
    text = similarity.unit_vectors([v.text for v in (*demands, *capabilities)], background=background)
    d_en, d_zh, c_en, c_zh = ms.region_codes(
        [v.region_en for v in demands],
        [v.region_zh for v in demands],
        [v.region_en for v in capabilities],
        [v.region_zh for v in capabilities],
    )
    demand = ms.Side(
        topics=topics(demands),
        text=text[: len(demands)],
        trl=np.array([v.trl_needed or 0 for v in demands], dtype=np.int64),
        region_en=d_en,
        region_zh=d_zh,
        window_open=np.array([v.window_end is None or v.window_end >= today for v in demands], dtype=bool),
    )
    capability = ms.Side(
        topics=topics(capabilities),
        text=text[len(demands) :],
        trl=np.array([v.trl or 0 for v in capabilities], dtype=np.int64),
        region_en=c_en,
        region_zh=c_zh,
    )
    return demand, capability, topic_codes


ROLE_OF_WEIGHT = {weight: role for role, weight in ScenarioTopic.ROLE_WEIGHTS.items()}


def matches_build(
    pairs: ms.Pairs, demands: list[Version], capabilities: list[Version], topic_codes: list[str], *, now: Any
) -> list[Match]:
    """Unsaved ``Match`` rows of the kept pairs, with their components and the facts behind them."""
    matches = []
    for k in range(len(pairs)):
        d, c = demands[int(pairs.demand[k])], capabilities[int(pairs.capability[k])]
        lo, hi = pairs.shared.indptr[k], pairs.shared.indptr[k + 1]
        shared = [
            {
                "code": topic_codes[int(t)],
                "demand_role": ROLE_OF_WEIGHT.get(float(wd), ""),
                "capability_role": ROLE_OF_WEIGHT.get(float(wc), ""),
            }
            for t, wd, wc in zip(
                pairs.shared.indices[lo:hi], pairs.shared.data[lo:hi], pairs.shared_capability.data[lo:hi], strict=True
            )
        ]
        shared.sort(key=lambda s: (list(ScenarioTopic.ROLE_WEIGHTS).index(s["demand_role"]), s["code"]))
        components = {name: round(float(pairs.components[name][k]), 6) for name in ms.COMPONENTS}
        matches.append(
            Match(
                demand_id=d.pk,
                capability_id=c.pk,
                score=min(1.0, max(0.0, float(pairs.score[k]))),
                components=components,
                reasons={
                    "topics": shared,
                    "text": components["text"],
                    "trl": c.trl,
                    "trl_needed": d.trl_needed,
                    "region": {
                        "demand": d.region_en or d.region_zh,
                        "capability": c.region_en or c.region_zh,
                        "same": components["region"] == 1.0,
                    },
                    "window_end": d.window_end.isoformat() if d.window_end else None,
                    "window_open": components["window"] == 1.0,
                },
                method=METHOD,
                computed_at=now,
            )
        )
    return matches


def _score(
    demands: list[Version],
    capabilities: list[Version],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[Match]:
    if not demands or not capabilities:
        return []
    now = timezone.now()
    demand, capability, topic_codes = matches_arrays(demands, capabilities, today=timezone.localdate())
    pairs = ms.score_pairs(demand, capability, progress=progress)
    return matches_build(pairs, demands, capabilities, topic_codes, now=now)


def _lock_matches() -> None:
    """One writer of the matches at a time (a release's recomputation and a full run may overlap): each waits
    for the other's commit, then deletes what it replaces as committed. PostgreSQL only (the SQLite demo has
    one writer anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f'LOCK TABLE "{Match._meta.db_table}" IN SHARE ROW EXCLUSIVE MODE')


def matches_for_entries(*, entry_ids: Iterable[int]) -> int:
    """Recompute the matches of these entries (each against every published entry of the other kind) and
    replace their stored rows in one transaction; entries without a published version lose theirs. Returns
    the number of rows written."""
    ids = sorted(set(entry_ids))
    if not ids:
        return 0
    changed = published_versions(entry_ids=ids)
    demands = [v for v in changed if v.kind == Entry.Kind.DEMAND]
    capabilities = [v for v in changed if v.kind == Entry.Kind.CAPABILITY]
    rows: list[Match] = []
    if demands:
        rows += _score(demands, published_versions(kind=Entry.Kind.CAPABILITY))
    if capabilities:
        changed_demands = {v.pk for v in demands}
        rows += [
            m
            for m in _score(published_versions(kind=Entry.Kind.DEMAND), capabilities)
            if m.demand_id not in changed_demands  # scored above against every capability
        ]
    with transaction.atomic():
        _lock_matches()
        Match.objects.filter(Q(demand_id__in=ids) | Q(capability_id__in=ids)).delete()
        Match.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def release_matches_queue(*, release: Release) -> None:
    """After a release is published: recompute the matches of its entries once the publication commits."""
    ids = list(release.items.values_list("entry_id", flat=True))
    if ids:
        queue.send_on_commit("scenarios.matches_for_entries", ids)


# --- Full runs ----------------------------------------------------------------------------------------------


def _require_runner(user: Any) -> None:
    if not (getattr(user, "is_active", False) and getattr(user, "is_staff", False) and user.has_perm(RUN_PERMISSION)):
        raise PermissionDenied(_("Only curators recompute the matches."))


def match_run_start(*, actor: Any) -> MatchRun:
    """Queue a full recomputation; refused while another one is queued or running."""
    _require_runner(actor)
    with transaction.atomic():
        busy = (
            MatchRun.objects.select_for_update()
            .filter(status__in=[MatchRun.Status.QUEUED, MatchRun.Status.RUNNING])
            .exists()
        )
        if busy:
            raise Conflict(_("A recomputation is already under way: follow it below."))
        run = MatchRun.objects.create(requested_by=actor, method=METHOD)
        audit_log(action="match_run_start", actor=actor, run=run.pk)
        queue.send_on_commit("scenarios.match_run", run.pk)
    return run


def match_run_execute(*, run_id: int) -> bool:
    """Compute a queued run; True if this call finished it. Claimed queued → running by a conditional update
    (or re-claimed when its worker died: running past the time limit); ``done`` moves block by block; every
    match replaced and running → done in one transaction; any error → failed with the message."""
    now = timezone.now()
    claimed = (
        MatchRun.objects.filter(pk=run_id)
        .filter(
            Q(status=MatchRun.Status.QUEUED) | Q(status=MatchRun.Status.RUNNING, started_at__lt=now - RUN_STALE_AFTER)
        )
        .update(status=MatchRun.Status.RUNNING, started_at=now, done=0, matches=0, error="", method=METHOD)
    )
    if claimed != 1:
        return False
    mine = MatchRun.objects.filter(pk=run_id, status=MatchRun.Status.RUNNING, started_at=now)
    try:
        demands = published_versions(kind=Entry.Kind.DEMAND)
        capabilities = published_versions(kind=Entry.Kind.CAPABILITY)
        mine.update(total=len(demands))

        def progress(done: int, total: int) -> None:
            mine.update(done=done)

        rows = _score(demands, capabilities, progress=progress)
        with transaction.atomic():
            if not mine.select_for_update().exists():
                return False  # re-claimed by another worker meanwhile
            _lock_matches()
            Match.objects.all().delete()
            Match.objects.bulk_create(rows, batch_size=2000)
            mine.update(status=MatchRun.Status.DONE, done=len(demands), matches=len(rows), finished_at=timezone.now())
            audit_log(action="match_run_done", run=run_id, matches=len(rows))
    except Exception as exc:
        logger.exception("match run %s failed", run_id)
        mine.update(
            status=MatchRun.Status.FAILED, error=str(exc)[:2000] or type(exc).__name__, finished_at=timezone.now()
        )
        return False
    return True


def match_runs_sweep(*, now: Any = None) -> list[int]:
    """Re-queue runs whose task was lost: queued for over a minute (the broker was down), or running past the
    task's time limit (its worker died). Run by beat."""
    now = now or timezone.now()
    ids = list(
        MatchRun.objects.filter(
            Q(status=MatchRun.Status.QUEUED, created_at__lt=now - RUN_QUEUED_STALE_AFTER)
            | Q(status=MatchRun.Status.RUNNING, started_at__lt=now - RUN_STALE_AFTER)
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        queue.send("scenarios.match_run", pk)
    return ids


# --- Who sees what, and the shortlist -----------------------------------------------------------------------


def can_see_matches(*, entry: Entry, user: Any) -> bool:
    """The entry's organisation's members and the curators; nobody else."""
    if is_curator(user):
        return True
    return role_of(organisation=entry.organisation, user=user) is not None


def can_shortlist(*, entry: Entry, user: Any) -> bool:
    """A demand entry's editors and admins."""
    return entry.kind == Entry.Kind.DEMAND and role_of(organisation=entry.organisation, user=user) in WRITERS


def _require_shortlister(entry: Entry, actor: Any) -> None:
    if not can_shortlist(entry=entry, user=actor):
        raise PermissionDenied(_("Only the demand entry's editors and admins keep a shortlist."))


def shortlist_add(*, demand: Entry, capability: Entry, actor: Any) -> Shortlist:
    """Keep a capability matched to this demand entry on its shortlist (once)."""
    _require_shortlister(demand, actor)
    if (
        capability.kind != Entry.Kind.CAPABILITY
        or not Match.objects.filter(demand=demand, capability=capability).exists()
    ):
        raise ValidationError(_("Only a capability matched to this entry can be shortlisted."))
    with transaction.atomic():
        row, created = Shortlist.objects.get_or_create(
            demand=demand, capability=capability, defaults={"added_by": actor}
        )
        if created:
            audit_log(action="shortlist_add", actor=actor, demand=demand.code, capability=capability.code)
    return row


def shortlist_remove(*, demand: Entry, capability: Entry, actor: Any) -> None:
    _require_shortlister(demand, actor)
    with transaction.atomic():
        deleted, _rows = Shortlist.objects.filter(demand=demand, capability=capability).delete()
        if deleted:
            audit_log(action="shortlist_remove", actor=actor, demand=demand.code, capability=capability.code)
