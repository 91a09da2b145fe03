"""Reads of the exchange's organisation pages."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.db.models import Count, F, Q, QuerySet, TextField, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404
from django.utils import timezone

from scenarios.models import (
    Entry,
    EntryComment,
    EntryTopic,
    JoinRequest,
    Membership,
    Organisation,
    OrganisationInvitation,
    Release,
    ReleaseItem,
    Scenario,
)


def organisation_get(*, code: str) -> Organisation:
    organisation = Organisation.objects.filter(code=code).first()
    if organisation is None:
        raise Http404("No such organisation")
    return organisation


def organisation_list() -> QuerySet[Organisation]:
    """Every organisation for the public list, verified ones first, with its number of members."""
    return Organisation.objects.annotate(member_count=Count("memberships")).order_by(
        F("verified_at").asc(nulls_last=True), "name_en", "name_zh", "code"
    )


def memberships_of(*, user: Any) -> list[Membership]:
    return list(Membership.objects.filter(user=user).select_related("organisation").order_by("organisation__code"))


def invitations_for(*, user: Any) -> list[OrganisationInvitation]:
    """Open invitations to any of the user's verified addresses."""
    emails = [e.lower() for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)]
    return list(
        OrganisationInvitation.objects.filter(email__in=emails, accepted_at__isnull=True, expires_at__gt=timezone.now())
        .exclude(organisation__memberships__user=user)
        .select_related("organisation")
    )


def join_requests_of(*, user: Any) -> list[JoinRequest]:
    return list(JoinRequest.objects.filter(user=user).select_related("organisation")[:20])


def members_of(*, organisation: Organisation) -> list[Membership]:
    return list(
        Membership.objects.filter(organisation=organisation).select_related("user").order_by("role", "user__email")
    )


def pending_requests(*, organisation: Organisation) -> list[JoinRequest]:
    return list(
        JoinRequest.objects.filter(organisation=organisation, status=JoinRequest.Status.PENDING)
        .select_related("user")
        .order_by("created_at")
    )


def pending_invitations(*, organisation: Organisation) -> list[OrganisationInvitation]:
    return list(
        OrganisationInvitation.objects.filter(
            organisation=organisation, accepted_at__isnull=True, expires_at__gt=timezone.now()
        ).order_by("-created_at")
    )


def membership_get(*, organisation: Organisation, pk: int) -> Membership:
    membership = Membership.objects.filter(organisation=organisation, pk=pk).select_related("user").first()
    if membership is None:
        raise Http404("No such member")
    return membership


def join_request_get(*, organisation: Organisation, pk: int) -> JoinRequest:
    request = JoinRequest.objects.filter(organisation=organisation, pk=pk).select_related("user").first()
    if request is None:
        raise Http404("No such request")
    return request


def entries_of(*, organisation: Organisation) -> list[Entry]:
    return list(Entry.objects.filter(organisation=organisation).order_by("-updated_at", "code"))


def entry_get(*, code: str) -> Entry:
    entry = Entry.objects.filter(code=code).select_related("organisation").first()
    if entry is None:
        raise Http404("No such entry")
    return entry


def entry_topics(*, entry: Entry) -> list[EntryTopic]:
    return list(entry.topic_links.select_related("topic").order_by("role", "topic__code"))


def entry_comments(*, entry: Entry) -> list[EntryComment]:
    return list(entry.comments.select_related("author").order_by("created_at", "pk"))


def review_queue(*, statuses: list[str]) -> QuerySet[Entry]:
    return (
        Entry.objects.filter(status__in=statuses)
        .select_related("organisation")
        .order_by(F("submitted_at").asc(nulls_last=True), "code")
    )


# --- Releases --------------------------------------------------------------------------------------------------


def release_published_list() -> QuerySet[Release]:
    return (
        Release.objects.filter(status=Release.Status.PUBLISHED).annotate(item_count=Count("items")).order_by("-number")
    )


def release_public_get(*, code: str) -> Release:
    """A published release (a draft is nobody's business but the curators': 404)."""
    release = Release.objects.filter(code=code, status=Release.Status.PUBLISHED).select_related("replaces").first()
    if release is None:
        raise Http404("No such release")
    return release


def release_get_for_curator(*, code: str) -> Release:
    release = Release.objects.filter(code=code).select_related("replaces").first()
    if release is None:
        raise Http404("No such release")
    return release


def release_list_for_curator() -> QuerySet[Release]:
    return Release.objects.annotate(item_count=Count("items")).order_by("-number")


def release_items(*, release: Release) -> list[ReleaseItem]:
    """Every item of a release, for its downloads (one query; the public page pages through them instead)."""
    return list(release.items.select_related("entry__organisation").order_by("entry__kind", "entry__code"))


def release_items_for_curator(*, release: Release) -> QuerySet[ReleaseItem]:
    """A release's items on the curators' workbench (paged there)."""
    return release.items.select_related("entry__organisation").order_by("entry__kind", "entry__code")


def release_candidates(*, release: Release) -> QuerySet[Entry]:
    """Entries a draft release could take: accepted ones, and withdrawn ones once published, not in it yet."""
    published_once = ReleaseItem.objects.filter(release__status=Release.Status.PUBLISHED).values("entry_id")
    return (
        Entry.objects.filter(Q(status=Entry.Status.ACCEPTED) | Q(status=Entry.Status.WITHDRAWN, pk__in=published_once))
        .exclude(release_items__release=release)
        .select_related("organisation")
        .order_by("kind", "code")
    )


def releases_of_entry(*, entry: Entry) -> list[Release]:
    return list(
        Release.objects.filter(items__entry=entry, status=Release.Status.PUBLISHED).order_by("-number").distinct()
    )


def release_page(*, release: Release, kind: str = "", setting: str = "", region: str = "") -> dict[str, Any]:
    """A release's public page: its items narrowed by list kind, setting and region and split into the demand
    and capability lists (querysets, for the page to show one page of each), the counts of what is new,
    changed and withdrawn, and the filters' choices. A fixed number of queries whatever the release's size:
    the narrowing and counting happen in the database, on the items' snapshots."""
    items = release.items.all()
    shown = items.order_by("entry__code")
    if kind:
        shown = shown.filter(snapshot__kind=kind)
    if setting:
        shown = shown.filter(snapshot__setting=setting)
    if region:
        shown = shown.filter(Q(snapshot__region_en=region) | Q(snapshot__region_zh=region))
    counts = items.aggregate(**{c: Count("pk", filter=Q(change=c)) for c in ReleaseItem.Change.values})
    present = sorted(set(items.order_by().values_list(KT("snapshot__setting"), flat=True).distinct()) - {"", None})
    regions = items.order_by().annotate(
        shown_region=Coalesce(
            NullIf(KT("snapshot__region_en"), Value("")), KT("snapshot__region_zh"), output_field=TextField()
        )
    )
    return {
        "demand": shown.filter(snapshot__kind=Entry.Kind.DEMAND),
        "capability": shown.filter(snapshot__kind=Entry.Kind.CAPABILITY),
        "counts": counts,
        "total": sum(counts.values()),
        "settings": [(s, Scenario.Setting(s).label if s in Scenario.Setting.values else s) for s in present],
        "regions": sorted(set(regions.values_list("shown_region", flat=True).distinct()) - {"", None}),
    }
