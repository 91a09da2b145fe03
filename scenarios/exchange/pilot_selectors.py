"""Reads of pilots: the permission-checked fetcher of the member page, the curators' queues, the public
timelines (published pilots, verified changes only) and the rows of the public pipeline.

Public means ``verified_stage`` is set (a curator verified the opening); of a public pilot only its
verified stage changes are shown. Everything else — pending or rejected evidence, a pilot whose opening is
not verified, the conversation it came from — is for the participating organisations and the curators.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Exists, Min, OuterRef, Prefetch, Q, QuerySet, TextField, Value
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404
from django.utils.translation import get_language

from foresight.catalog.models import Direction
from scenarios.exchange import pilots as svc
from scenarios.exchange.pipeline import PilotFacts, pipeline_figures
from scenarios.models import Conversation, Entry, Organisation, Pilot, PilotOrganisation, PilotStageChange, Scenario

Verified = PilotStageChange.Status.VERIFIED


def _participants() -> Prefetch[Any]:
    return Prefetch(
        "participants",
        queryset=PilotOrganisation.objects.select_related("organisation", "capability").order_by(
            "-role", "organisation__code"
        ),
    )


# --- Members and curators ---------------------------------------------------------------------------------------


def pilot_get_for_member(*, code: str, user: Any) -> Pilot:
    """A pilot for its organisations' members and the curators; 404 for anyone else (the pilot's existence
    is not disclosed)."""
    pilot = Pilot.objects.filter(code=code).select_related("demand__organisation", "demand__scenario").first()
    if pilot is None or not svc.can_read(pilot=pilot, user=user):
        raise Http404("No such pilot")
    return pilot


def pilot_participants(*, pilot: Pilot) -> list[PilotOrganisation]:
    return list(pilot.participants.select_related("organisation", "capability").order_by("-role", "organisation__code"))


def pilot_changes(*, pilot: Pilot) -> list[PilotStageChange]:
    """Every stage change of the pilot, pending and rejected ones included (the member page)."""
    return list(pilot.stage_changes.order_by("on", "submitted_at", "pk"))


def stage_change_get_for_verifier(*, pk: int) -> PilotStageChange:
    change = PilotStageChange.objects.filter(pk=pk).select_related("pilot").first()
    if change is None:
        raise Http404("No such stage change")
    return change


def pilots_of_entry_for_user(*, entry: Entry, user: Any) -> list[Pilot]:
    """The pilots of a demand entry the user may see: all of them for the curators and the owner's members,
    those she takes part in, and the published ones."""
    pilots = Pilot.objects.filter(demand=entry)
    if not svc.is_verifier(user):
        visible = Q(verified_stage__gt="")
        if getattr(user, "is_authenticated", False):
            visible |= Q(participants__organisation__memberships__user=user)
        pilots = pilots.filter(visible).distinct()
    return list(pilots.order_by("-created_at", "code"))


def evidence_queue() -> QuerySet[PilotStageChange]:
    """Stage changes awaiting verification, oldest first."""
    return (
        PilotStageChange.objects.filter(status=PilotStageChange.Status.PENDING)
        .select_related("pilot__demand__organisation")
        .order_by("submitted_at", "pk")
    )


def suppliers_without_agreement(*, pilot_ids: list[int]) -> dict[int, list[str]]:
    """For the curators who verify an opening: per pilot, the names of the suppliers its owner named that
    have no conversation about the demand with the outcome "agreed to pilot" (one query). The owner may name
    any organisation; until the curator checks, nothing says that organisation takes part."""
    agreed = Conversation.objects.filter(
        demand_id=OuterRef("pilot__demand_id"),
        supplier_id=OuterRef("organisation_id"),
        outcome=Conversation.Outcome.AGREED,
    )
    rows = (
        PilotOrganisation.objects.filter(pilot_id__in=pilot_ids, role="supplier")
        .exclude(Exists(agreed))
        .order_by("pilot_id", "organisation__code")
        .values_list("pilot_id", "organisation__name_en", "organisation__name_zh")
    )
    zh = (get_language() or "").lower().startswith("zh")
    named: dict[int, list[str]] = defaultdict(list)
    for pilot_id, name_en, name_zh in rows:
        named[pilot_id].append((name_zh or name_en) if zh else (name_en or name_zh))
    return dict(named)


def stale_pilots() -> QuerySet[Pilot]:
    """Pilots under way with no update for ``PILOT_STALE_DAYS``, the longest silent first."""
    return (
        Pilot.objects.filter(svc.pilots_stale_q(before=svc.stale_before()))
        .select_related("demand__organisation")
        .order_by("last_update_at", "code")
    )


# --- Public -----------------------------------------------------------------------------------------------------


def _setting() -> Coalesce:
    """A pilot's setting: its demand's public scenario's, else the demand entry's."""
    return Coalesce(NullIf("demand__scenario__setting", Value("")), "demand__setting", output_field=TextField())


def _region() -> Coalesce:
    return Coalesce(NullIf("region_en", Value("")), "region_zh", output_field=TextField())


def pilots_public(*, stage: str = "", setting: str = "", region: str = "", direction: str = "") -> QuerySet[Pilot]:
    """Published pilots with their organisations and verified timeline (``public_changes``), newest
    first; narrowed by verified stage, setting, region (either language) and catalog direction (slug)."""
    pilots = Pilot.objects.filter(verified_stage__gt="").annotate(shown_setting=_setting())
    if stage:
        pilots = pilots.filter(verified_stage=stage)
    if setting:
        pilots = pilots.filter(shown_setting=setting)
    if region:
        pilots = pilots.filter(Q(region_en=region) | Q(region_zh=region))
    if direction:
        pilots = pilots.filter(demand__scenario__directions__slug=direction)
    return (
        pilots.select_related("demand__scenario", "demand__organisation")
        .prefetch_related(
            _participants(),
            Prefetch(
                "stage_changes",
                queryset=PilotStageChange.objects.filter(status=Verified).order_by("on", "pk"),
                to_attr="public_changes",
            ),
        )
        .order_by("-created_at", "code")
    )


def pilots_public_for_entry(*, entry: Entry) -> list[Pilot]:
    return list(pilots_public().filter(demand=entry))


def pilots_public_for_scenario(*, scenario: Scenario) -> list[Pilot]:
    return list(pilots_public().filter(demand__scenario=scenario))


def pilots_public_for_organisation(*, organisation: Organisation) -> list[Pilot]:
    return list(pilots_public().filter(participants__organisation=organisation).distinct())


def pipeline_rows() -> list[PilotFacts]:
    """Every published pilot as the pipeline's figures read it: three queries whatever their number."""
    pilots = list(
        Pilot.objects.filter(verified_stage__gt="")
        .annotate(shown_setting=_setting(), shown_region=_region())
        .order_by("code")
        .values_list("pk", "code", "verified_stage", "shown_setting", "shown_region")
    )
    ids = [row[0] for row in pilots]
    reached: dict[int, dict[str, dt.date]] = defaultdict(dict)
    for pilot_id, stage, on in (
        PilotStageChange.objects.filter(pilot_id__in=ids, status=Verified)
        .values("pilot_id", "stage")
        .annotate(on=Min("on"))
        .values_list("pilot_id", "stage", "on")
    ):
        reached[pilot_id][stage] = on
    directions: dict[int, list[str]] = defaultdict(list)
    for pilot_id, slug in (
        Pilot.objects.filter(pk__in=ids, demand__scenario__directions__isnull=False)
        .order_by("pk", "demand__scenario__directions__slug")
        .values_list("pk", "demand__scenario__directions__slug")
    ):
        directions[pilot_id].append(slug)
    return [
        PilotFacts(
            code=code,
            verified_stage=stage,
            setting=setting or "",
            region=region or "",
            directions=tuple(directions[pk]),
            reached=dict(reached[pk]),
        )
        for pk, code, stage, setting, region in pilots
    ]


def pipeline_get(*, period: str = "year") -> dict[str, Any]:
    """The public pipeline's figures (``pipeline.pipeline_figures`` over ``pipeline_rows``) with the labels
    the page needs: the one source of the page, the API and the downloads."""
    figures = pipeline_figures(pipeline_rows(), period=period)
    names = {d.slug: d.name for d in Direction.objects.filter(slug__in=[r["key"] for r in figures["by_direction"]])}
    zh = (get_language() or "").lower().startswith("zh")
    regions: dict[str, str] = {}
    if zh:
        for en, cn in (
            Pilot.objects.filter(verified_stage__gt="", region_en__gt="")
            .exclude(region_zh="")
            .values_list("region_en", "region_zh")
        ):
            regions.setdefault(en, cn)
    settings = dict(Scenario.Setting.choices)
    for row in figures["by_direction"]:
        row["label"] = names.get(row["key"], row["key"])
    for row in figures["by_setting"]:
        row["label"] = str(settings.get(row["key"], row["key"]))
    for row in figures["by_region"]:
        row["label"] = regions.get(row["key"], row["key"])
    return figures
