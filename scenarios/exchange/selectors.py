"""Reads of the exchange's organisation pages."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Count,
    F,
    Func,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404
from django.utils import timezone

from foresight.catalog.models import Topic
from foresight.catalog.selectors import topic_similarity_documents
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
from scenarios.selectors import scenario_similarity_documents


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
    """Entries a draft release could take: accepted ones, and withdrawn ones whose latest published release
    still lists them (a withdrawal is published once), not in it yet."""
    last_change = (
        ReleaseItem.objects.filter(entry=OuterRef("pk"), release__status=Release.Status.PUBLISHED)
        .order_by("-release__number")
        .values("change")[:1]
    )
    listed = Entry.objects.annotate(last_change=Subquery(last_change)).filter(
        last_change__in=[ReleaseItem.Change.NEW, ReleaseItem.Change.CHANGED]
    )
    return (
        Entry.objects.filter(
            Q(status=Entry.Status.ACCEPTED) | Q(status=Entry.Status.WITHDRAWN, pk__in=listed.values("pk"))
        )
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


# --- The entries corpus of the similarity service (foresight.core.similarity) -----------------------------

ENTRY_CORPUS = "entries"
# The entries worth warning about: everything a proposer has sent in and that is still alive. Drafts are
# half-written noise; rejected, withdrawn and merged entries are settled.
ENTRY_CORPUS_STATUSES = (
    Entry.Status.SUBMITTED,
    Entry.Status.IN_REVIEW,
    Entry.Status.CHANGES_REQUESTED,
    Entry.Status.ACCEPTED,
    Entry.Status.PUBLISHED,
)
# An entry's text for the similarity service: what it is called and what it is about, in both languages
# (a demand entry's summary is the problem and ``needs`` the capabilities it needs; a capability entry's
# summary is what the technology does).
ENTRY_TEXT_FIELDS = ("title_en", "title_zh", "summary_en", "summary_zh", "needs_en", "needs_zh")


def entry_text(entry: Entry) -> str:
    """The text the similarity service reads for ``entry`` (the same for a document and for a query)."""
    return "\n".join(t for t in (getattr(entry, name) for name in ENTRY_TEXT_FIELDS) if t)


def _in_entry_corpus() -> QuerySet[Entry]:
    return Entry.objects.filter(status__in=ENTRY_CORPUS_STATUSES).order_by()


# The catalog's texts join the entries' as background, under codes no entry has (an entry's code is
# ``e-`` and hex digits): they are never results (only entries the viewer may see are, see
# scenarios.exchange.duplicates), they give the idf its weights. Without them a young exchange of a few
# entries weighs ``the`` and ``for`` as much as ``robot``, and two unrelated English entries score 0.27.
# They are read when the index is built and not versioned: a background a release old weighs the same.
BACKGROUND_PREFIX = "~"


def entry_similarity_documents() -> list[tuple[str, str]]:
    """Every entry of the corpus as ``(code, text)`` (one query), then the published scenarios and the
    public topics as background (``~scenario:…``, ``~topic:…``; two queries)."""
    rows = _in_entry_corpus().values_list("code", *ENTRY_TEXT_FIELDS)
    documents = [(code, "\n".join(t for t in texts if t)) for code, *texts in rows]
    documents += [(f"{BACKGROUND_PREFIX}scenario:{c}", t) for c, t in scenario_similarity_documents()]
    documents += [(f"{BACKGROUND_PREFIX}topic:{c}", t) for c, t in topic_similarity_documents()]
    return documents


def _text_hash() -> Func:
    """PostgreSQL's 64-bit hash of an entry's code and corpus text (``hashtextextended``)."""
    joined = Func(Value("\n"), F("code"), *(F(name) for name in ENTRY_TEXT_FIELDS), function="concat_ws")
    return Func(joined, Value(0), function="hashtextextended", output_field=BigIntegerField())


# The last text version this process computed, with the save version it was computed at (see below).
_last_text_version: tuple[Any, Any] | None = None


def entry_similarity_version() -> Any:
    """The version of the entries corpus. It moves only when the corpus's documents do — an entry joins or
    leaves the corpus (submitted, rejected, withdrawn, merged) or its corpus text is edited — not when an
    entry is saved for anything else (a budget, a date, a topic link, a move from submitted to in review),
    since one build at 10,000 entries takes seconds.

    First the *save version*, one aggregate query: how many entries, the sum of their ids, the latest
    ``updated_at`` (12 ms at 12,000 entries). While it stands, nothing was saved and the text version this
    process computed last is the answer. When it moves, on PostgreSQL, a second query computes the *text
    version*: how many entries and the sum (``numeric``: no overflow) of the 64-bit hashes of each one's code
    and corpus text (38 ms in all at 12,000 entries), which stays the same when a save changed no text. Elsewhere
    (the SQLite demo database) the save version is the version. Not seen, as for the topics: a text changed
    by a bulk ``update()`` that leaves ``updated_at`` alone, which the product never does."""
    global _last_text_version
    corpus = _in_entry_corpus()
    row = corpus.aggregate(n=Count("pk"), ids=Sum("pk"), updated=Max("updated_at"))
    saves = (row["n"], row["ids"] or 0, str(row["updated"]))
    if connection.vendor != "postgresql":
        return saves
    last = _last_text_version
    if last is not None and last[0] == saves:
        return last[1]
    # Read after the save version: a change in between is in the text version and moves the save version
    # too, so the next call computes it again rather than keep an old text under a new save version.
    text = corpus.aggregate(n=Count("pk"), text=Sum(_text_hash()))
    version = (text["n"], str(text["text"] or 0))
    _last_text_version = (saves, version)
    return version


def entries_visible_in_corpus(*, user: Any, curator: bool) -> QuerySet[Entry]:
    """The corpus's entries ``user`` may see: all of them for a curator; for anyone else, the published ones
    and those of her own organisations."""
    corpus = _in_entry_corpus()
    if curator:
        return corpus
    if not getattr(user, "is_authenticated", False):
        return corpus.filter(status=Entry.Status.PUBLISHED)
    mine = Membership.objects.filter(user=user).values("organisation_id")
    return corpus.filter(Q(status=Entry.Status.PUBLISHED) | Q(organisation_id__in=mine))


def entry_find(*, code: str) -> Entry | None:
    """The entry with ``code``, or None (for a form that names another entry)."""
    return Entry.objects.filter(code=code).select_related("organisation").first()


def entry_published_version(*, entry: Entry) -> tuple[Entry, list[EntryTopic], bool] | None:
    """The entry as its latest release published it (an unsaved copy built from the snapshot, with its topic
    links), and whether a later release listed it as withdrawn: what the public reads while the entry is being
    revised, or after it was withdrawn. None if no release published it."""
    items = list(
        ReleaseItem.objects.filter(entry=entry, release__status=Release.Status.PUBLISHED)
        .order_by("-release__number")
        .values_list("change", "snapshot")[:2]
    )
    withdrawn = bool(items) and items[0][0] == ReleaseItem.Change.WITHDRAWN
    published = [snapshot for change, snapshot in items if change != ReleaseItem.Change.WITHDRAWN]
    if not published:
        return None
    snap = published[0]
    fields = {f.name: f for f in Entry._meta.concrete_fields}
    values = {}
    for name, value in snap.items():
        field = fields.get(name)
        if field is None or name in ("organisation", "scenario"):
            continue
        values[name] = field.to_python(value)
    status = Entry.Status.WITHDRAWN if withdrawn else Entry.Status.PUBLISHED
    version = Entry(pk=entry.pk, organisation=entry.organisation, status=status, **values)
    topics = {t.code: t for t in Topic.objects.public().filter(code__in=[t["code"] for t in snap.get("topics", [])])}
    links = [
        EntryTopic(entry=version, topic=topics[t["code"]], role=t["role"])
        for t in snap.get("topics", [])
        if t["code"] in topics
    ]
    return version, sorted(links, key=lambda link: (link.role, link.topic.code)), withdrawn
