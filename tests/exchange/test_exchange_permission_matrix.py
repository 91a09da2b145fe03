"""Every page, action and API endpoint of the scenario exchange, for every kind of caller, on every kind of
object: who may read or change what.

The matrix below is written by hand from the exchange's rules (README, "The scenario exchange"; issue 11,
item 7), not read from the code: members see and edit only their own organisation's entries, members and
invitations; a viewer reads and never writes; curators (``scenarios.review_entry`` /
``scenarios.publish_release``, not every staff account) review, merge and publish; the public sees only
what a release published, and a draft release does not exist for it (404). A URL added without a row fails
``test_the_matrix_covers_every_exchange_url``; a method a view accepts without a row fails
``test_the_matrix_covers_every_method_a_view_accepts``.

Every request runs in a savepoint that is rolled back, so each caller meets the same objects. An allowed
change is checked to have happened (``effect``); a refused one to have changed nothing (a snapshot of the
exchange's rows and the audit log); a page a caller may open is checked not to show anything of another
organisation's unpublished entries, join requests or invitations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from foresight.core.models import AuditLog
from scenarios.exchange import conversations, duplicates, entries, pilots, releases
from scenarios.exchange.organisations import organisation_create, token_hash
from scenarios.models import (
    AbuseReport,
    Conversation,
    Entry,
    EntryComment,
    EntryTopic,
    JoinRequest,
    MatchRun,
    Membership,
    Message,
    Organisation,
    OrganisationInvitation,
    Pilot,
    PilotStageChange,
    Release,
    ReleaseItem,
    Scenario,
    Shortlist,
)
from tests.factories import staff_user

pytestmark = pytest.mark.django_db
User = get_user_model()

# --- The callers ------------------------------------------------------------------------------------------------

ANON = "anonymous"
NOORG = "signed in, no organisation"
A_ADMIN, A_EDITOR, A_VIEWER = "A's admin", "A's editor", "A's viewer"
B_ADMIN, B_EDITOR = "B's admin", "B's editor"  # B's editor is the attacker; B's admin tries A's ids on B's URLs
ANALYST = "staff, Analyst (not a curator)"
CURATOR = "curator"
SUPER = "superuser"
CALLERS = (ANON, NOORG, A_ADMIN, A_EDITOR, A_VIEWER, B_ADMIN, B_EDITOR, ANALYST, CURATOR, SUPER)

EVERYONE = frozenset(CALLERS)
SIGNED = EVERYONE - {ANON}
A_MEMBERS = frozenset({A_ADMIN, A_EDITOR, A_VIEWER})
A_WRITERS = frozenset({A_ADMIN, A_EDITOR})
B_MEMBERS = frozenset({B_ADMIN, B_EDITOR})
CURATORS = frozenset({CURATOR, SUPER})  # a superuser holds every permission; she is a member of no organisation
NOBODY: frozenset[str] = frozenset()

# Words that appear only in what a caller outside the exempt set must never see.
A_PRIVATE = ("zqxdraft", "zqxsubmitted", "zqxaccepted", "zqxduplicate", "zqxmerged")  # A's unpublished entries
B_PRIVATE = ("zqbdraft",)  # B's draft
ADMIN_PRIVATE = ("zqxjoinplea", "carol@nowhere.example", "olga@newcomer.example")  # A's requests, invitations
MARKERS: dict[str, frozenset[str]] = {
    **{m: A_MEMBERS | CURATORS for m in A_PRIVATE},
    "zqxdraft": A_MEMBERS,  # a draft is the organisation's own, curators included out
    **{m: B_MEMBERS for m in B_PRIVATE},
    "zqxjoinplea": frozenset({A_ADMIN}),
    "carol@nowhere.example": frozenset({A_ADMIN}),
    "olga@newcomer.example": frozenset({A_ADMIN, NOORG}),  # the invitation is hers: her home page lists it
    "zqxpilotsite": A_MEMBERS | CURATORS,  # A's pilot, its opening not verified yet: nobody else's business
    # A's conversation with B: the two organisations', and the curators' once it is reported (it is).
    "zqconvsecret": A_MEMBERS | B_MEMBERS | CURATORS,
}

World = dict[str, Any]

# --- The matrix -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One URL on one object with one method. ``args``: keys of the world (codes, pks, the token) for the URL;
    ``allowed``: who succeeds (200 for a GET, a redirect for a POST); everyone else is refused: 403 when signed
    in, the sign-in page when anonymous (the admin's for the curators' pages, ``staff``), or what ``refused``
    says (409: the state refuses; 404: the URL names an object of another organisation); ``hidden``: 404 for
    everybody outside ``allowed`` (what the product does not admit exists). ``effect`` holds after an allowed
    POST; ``reveals``: private words this page may show to whoever may open it."""

    name: str
    args: tuple[str, ...]
    method: str
    allowed: frozenset[str]
    data: dict[str, Any] = field(default_factory=dict)
    query: str = ""
    refused: dict[str, int] = field(default_factory=dict)
    effect: Callable[[World], bool] | None = None
    staff: bool = False
    hidden: bool = False
    reveals: tuple[str, ...] = ()


def _entry(w: World, key: str) -> Entry:
    return Entry.objects.get(code=w[key])


def _status(key: str, status: str) -> Callable[[World], bool]:
    return lambda w: _entry(w, key).status == status


ENTRY_FORM = {
    "title_en": "Ward robots, edited",
    "title_zh": "病房护理机器人试点",
    "summary_zh": "夜班护士人手不足。",
    "setting": "hospital",
    "offers": ["test_site", "data"],
    "core": ["humanoid-robots"],
    "sources": "https://example.org/plan The ward plan",
    "window_start": "2027-03-01",
    "window_end": "2028-02-28",
}
CONFLICT = 409
CONV_404 = {NOORG: 404, ANALYST: 404}  # signed in, not a party: no such conversation

MATRIX: list[Row] = [
    # The member's home and new organisations: anyone signed in.
    Row("exchange:home", (), "get", SIGNED),
    Row("exchange:organisation-create", (), "get", SIGNED),
    Row(
        "exchange:organisation-create",
        (),
        "post",
        SIGNED,
        data={"name_en": "Matrix Made Org", "kind": "enterprise"},
        effect=lambda w: Organisation.objects.filter(name_en="Matrix Made Org").exists(),
    ),
    # A's profile, members, invitations and join requests: its admin (a member leaves by herself).
    Row("exchange:organisation-edit", ("a",), "get", frozenset({A_ADMIN})),
    Row(
        "exchange:organisation-edit",
        ("a",),
        "post",
        frozenset({A_ADMIN}),
        data={"name_en": "Ruijin Hospital, renamed", "kind": "public_service"},
        effect=lambda w: Organisation.objects.get(code=w["a"]).name_en == "Ruijin Hospital, renamed",
    ),
    Row("exchange:members", ("a",), "get", A_MEMBERS),
    Row("exchange:members", ("b",), "get", B_MEMBERS),
    Row(
        "exchange:invite",
        ("a",),
        "post",
        frozenset({A_ADMIN}),
        data={"email": "newbie@ruijin.example", "role": "editor"},
        effect=lambda w: OrganisationInvitation.objects.filter(email="newbie@ruijin.example").exists(),
    ),
    Row(
        "exchange:member-role",
        ("a", "vic_m"),
        "post",
        frozenset({A_ADMIN}),
        data={"role": "editor"},
        effect=lambda w: Membership.objects.get(pk=w["vic_m"]).role == "editor",
    ),
    # A's member through B's URL: not B's member (404), whoever asks in B.
    Row(
        "exchange:member-role",
        ("b", "vic_m"),
        "post",
        NOBODY,
        data={"role": "editor"},
        refused={B_ADMIN: 404},
    ),
    Row(
        "exchange:member-remove",
        ("a", "vic_m"),
        "post",
        frozenset({A_ADMIN, A_VIEWER}),  # the viewer leaves
        effect=lambda w: not Membership.objects.filter(pk=w["vic_m"]).exists(),
    ),
    Row("exchange:member-remove", ("b", "vic_m"), "post", NOBODY, refused={B_ADMIN: 404, B_EDITOR: 404}),
    Row(
        "exchange:request-decide",
        ("a", "carol_req"),
        "post",
        frozenset({A_ADMIN}),
        data={"decision": "approve", "role": "editor"},
        effect=lambda w: JoinRequest.objects.get(pk=w["carol_req"]).status == "approved",
    ),
    Row(
        "exchange:request-decide",
        ("b", "carol_req"),
        "post",
        NOBODY,
        data={"decision": "approve", "role": "editor"},
        refused={B_ADMIN: 404},
    ),
    # Anyone signed in asks to join; a member already is one (409).
    Row(
        "exchange:join",
        ("a",),
        "post",
        frozenset({NOORG, B_ADMIN, B_EDITOR, ANALYST, CURATOR, SUPER}),
        data={"message": "Let me in."},
        refused={A_ADMIN: CONFLICT, A_EDITOR: CONFLICT, A_VIEWER: CONFLICT},
        effect=lambda w: JoinRequest.objects.filter(organisation__code=w["a"], status="pending").count() == 2,
    ),
    # The link is the secret: anyone holding it reads what it is; only the invited address accepts.
    Row("exchange:invitation", ("token",), "get", EVERYONE, reveals=("olga@newcomer.example",)),
    Row(
        "exchange:invitation",
        ("token",),
        "post",
        frozenset({NOORG}),
        effect=lambda w: Membership.objects.filter(organisation__code=w["a"], user__username="olga").exists(),
    ),
    # Entries: the organisation's list and new drafts.
    Row("exchange:entries", ("a",), "get", A_MEMBERS),
    Row("exchange:entries", ("b",), "get", B_MEMBERS),
    Row("exchange:entry-create", ("a",), "get", A_WRITERS, query="?kind=demand"),
    Row(
        "exchange:entry-create",
        ("a",),
        "post",
        A_WRITERS,
        data={**ENTRY_FORM, "kind": "demand"},
        effect=lambda w: Entry.objects.filter(organisation__code=w["a"], title_en="Ward robots, edited").exists(),
    ),
    Row("exchange:entry-create", ("b",), "post", B_MEMBERS, data={**ENTRY_FORM, "kind": "demand"}),
    # One entry: the draft, submitted, accepted, merged and published ones of A, and B's draft.
    Row("exchange:entry", ("draft",), "get", A_MEMBERS),
    Row("exchange:entry", ("submitted",), "get", A_MEMBERS | CURATORS),
    Row("exchange:entry", ("merged",), "get", A_MEMBERS | CURATORS),
    Row("exchange:entry", ("published",), "get", EVERYONE),
    Row("exchange:entry", ("b_draft",), "get", B_MEMBERS),
    Row("exchange:entry-edit", ("draft",), "get", A_WRITERS),
    Row("exchange:entry-edit", ("published",), "get", A_WRITERS | CURATORS),
    Row("exchange:entry-edit", ("b_draft",), "get", B_MEMBERS),
    Row(
        "exchange:entry-edit",
        ("draft",),
        "post",
        A_WRITERS,  # a draft is the proposer's: curators do not even read it
        data=ENTRY_FORM,
        effect=lambda w: _entry(w, "draft").title_en == "Ward robots, edited",
    ),
    Row(
        "exchange:entry-edit",
        ("submitted",),
        "post",
        CURATORS,  # in the curators' hands: they complete it
        data=ENTRY_FORM,
        refused={A_ADMIN: CONFLICT, A_EDITOR: CONFLICT},
        effect=lambda w: _entry(w, "submitted").title_en == "Ward robots, edited",
    ),
    Row(
        "exchange:entry-edit",
        ("published",),
        "post",
        NOBODY,  # a published entry changes through a revision and a release only
        data=ENTRY_FORM,
        refused={A_ADMIN: CONFLICT, A_EDITOR: CONFLICT, CURATOR: CONFLICT, SUPER: CONFLICT},
    ),
    Row(
        "exchange:entry-edit",
        ("b_draft",),
        "post",
        B_MEMBERS,
        data=ENTRY_FORM,
        effect=lambda w: _entry(w, "b_draft").title_en == "Ward robots, edited",
    ),
    Row("exchange:entry-submit", ("draft",), "post", A_WRITERS, effect=_status("draft", "submitted")),
    Row("exchange:entry-submit", ("b_draft",), "post", B_MEMBERS, effect=_status("b_draft", "submitted")),
    Row("exchange:entry-withdraw", ("draft",), "post", A_WRITERS, effect=_status("draft", "withdrawn")),
    Row("exchange:entry-withdraw", ("submitted",), "post", A_WRITERS, effect=_status("submitted", "withdrawn")),
    Row("exchange:entry-withdraw", ("published",), "post", A_WRITERS, effect=_status("published", "withdrawn")),
    Row("exchange:entry-withdraw", ("b_draft",), "post", B_MEMBERS, effect=_status("b_draft", "withdrawn")),
    Row("exchange:entry-revise", ("published",), "post", A_WRITERS, effect=_status("published", "draft")),
    Row(
        "exchange:entry-revise",
        ("draft",),
        "post",
        NOBODY,
        refused={A_ADMIN: CONFLICT, A_EDITOR: CONFLICT},
    ),
    # The review thread: the organisation's writers and the curators (a viewer reads it).
    Row(
        "exchange:entry-comment",
        ("draft",),
        "post",
        A_WRITERS,
        data={"body": "A note."},
        effect=lambda w: EntryComment.objects.filter(entry__code=w["draft"], body="A note.").exists(),
    ),
    Row(
        "exchange:entry-comment",
        ("published",),
        "post",
        A_WRITERS | CURATORS,
        data={"body": "A note."},
        effect=lambda w: EntryComment.objects.filter(entry__code=w["published"], body="A note.").exists(),
    ),
    Row(
        "exchange:entry-comment",
        ("b_draft",),
        "post",
        B_MEMBERS,
        data={"body": "A note."},
        effect=lambda w: EntryComment.objects.filter(entry__code=w["b_draft"], body="A note.").exists(),
    ),
    # Review and merge: curators only.
    Row(
        "exchange:entry-review",
        ("submitted",),
        "post",
        CURATORS,
        data={"action": "accept"},
        effect=_status("submitted", "accepted"),
    ),
    Row(
        "exchange:entry-review",
        ("submitted",),
        "post",
        CURATORS,
        data={"action": "reject", "reason": "Out of scope."},
        effect=_status("submitted", "rejected"),
    ),
    Row(
        "exchange:entry-review",
        ("b_draft",),
        "post",
        NOBODY,
        data={"action": "accept"},  # a draft is not the curators' to see
    ),
    Row(
        "exchange:entry-merge",
        ("duplicate",),
        "post",
        CURATORS,
        data={"into": "@submitted"},
        effect=_status("duplicate", "merged"),
    ),
    Row(
        "exchange:entry-merge",
        ("merged",),
        "post",
        NOBODY,
        data={"into": "@submitted"},
        refused={CURATOR: CONFLICT, SUPER: CONFLICT},
    ),
    Row(
        "exchange:entry-merge",
        ("b_draft",),
        "post",
        NOBODY,
        data={"into": "@submitted"},  # a draft is not the curators' to see
    ),
    Row("exchange:review-queue", (), "get", CURATORS, staff=True),
    # The curators' release workbench: the publishing permission.
    Row("exchange:release-admin-list", (), "get", CURATORS, staff=True),
    Row(
        "exchange:release-admin-list",
        (),
        "post",
        CURATORS,
        data={"title_en": "Matrix batch"},
        effect=lambda w: Release.objects.filter(title_en="Matrix batch", status="draft").exists(),
        staff=True,
    ),
    Row("exchange:release-admin", ("r_draft",), "get", CURATORS, staff=True),
    Row("exchange:release-admin", ("r_published",), "get", CURATORS, staff=True),
    Row(
        "exchange:release-admin",
        ("r_draft",),
        "post",
        CURATORS,
        data={"action": "add", "entry": "@accepted2"},
        effect=lambda w: ReleaseItem.objects.filter(release__code=w["r_draft"], entry__code=w["accepted2"]).exists(),
        staff=True,
    ),
    Row(
        "exchange:release-admin",
        ("r_draft",),
        "post",
        CURATORS,
        data={"action": "remove", "entry": "@accepted"},
        effect=lambda w: not ReleaseItem.objects.filter(release__code=w["r_draft"]).exists(),
        staff=True,
    ),
    Row(
        "exchange:release-admin",
        ("r_draft",),
        "post",
        CURATORS,
        data={"action": "publish"},
        effect=lambda w: Release.objects.get(code=w["r_draft"]).status == "published"
        and _entry(w, "accepted").status == "published",
        staff=True,
    ),
    Row(
        "exchange:release-admin",
        ("r_published",),
        "post",
        NOBODY,
        data={"action": "add", "entry": "@accepted2"},
        refused={CURATOR: CONFLICT, SUPER: CONFLICT},  # published: immutable
        staff=True,
    ),
    # Public pages: organisations' profiles, published releases and their downloads; a draft release is 404.
    Row("organisation-list", (), "get", EVERYONE),
    Row("organisation-detail", ("a",), "get", EVERYONE),
    Row("organisation-detail", ("b",), "get", EVERYONE),
    Row("release-list", (), "get", EVERYONE),
    Row("release-detail", ("r_published",), "get", EVERYONE),
    Row("release-detail", ("r_draft",), "get", NOBODY, hidden=True),
    Row("release-csv", ("r_published",), "get", EVERYONE),
    Row("release-csv", ("r_draft",), "get", NOBODY, hidden=True),
    Row("release-json", ("r_published",), "get", EVERYONE),
    Row("release-json", ("r_draft",), "get", NOBODY, hidden=True),
    # The API: read-only, published releases only.
    Row("api-release-list", (), "get", EVERYONE),
    Row("api-release-detail", ("r_published",), "get", EVERYONE),
    Row("api-release-detail", ("r_draft",), "get", NOBODY, hidden=True),
    Row("api-release-item-list", ("r_published",), "get", EVERYONE),
    Row("api-release-item-list", ("r_draft",), "get", NOBODY, hidden=True),
    # Matching: an entry's matches are its organisation's and the curators'; other signed-in callers get 404
    # (the list does not exist for them); the shortlist is the demand entry's writers'; recomputation, curators'.
    Row(
        "exchange:entry-matches",
        ("published",),
        "get",
        A_MEMBERS | CURATORS,
        refused={NOORG: 404, B_ADMIN: 404, B_EDITOR: 404, ANALYST: 404},
    ),
    Row(
        "exchange:shortlist-toggle",
        ("published", "published"),
        "post",
        A_WRITERS,
        data={"action": "remove"},
        refused={NOORG: 404, B_ADMIN: 404, B_EDITOR: 404, ANALYST: 404},
    ),
    Row("exchange:matching-runs", (), "get", CURATORS),
    Row(
        "exchange:matching-runs",
        (),
        "post",
        CURATORS,
        effect=lambda w: MatchRun.objects.filter(status="queued").exists(),
    ),
    Row("exchange:matching-run", ("match_run",), "get", CURATORS),
    # Pilots: A opened one on its published entry (the opening not verified yet). Its page is its members' and
    # the curators'; the owner's editors and admins open pilots and record stages; curators verify evidence.
    Row("exchange:pilot", ("pilot",), "get", A_MEMBERS | CURATORS, hidden=True, reveals=("zqxpilotsite",)),
    Row(
        "exchange:pilot-stage-add",
        ("pilot",),
        "post",
        A_WRITERS,
        data={"stage": "pilot", "on": str(timezone.localdate()), "evidence_kind": "figure", "users_reached": "30"},
        refused={A_VIEWER: 403, CURATOR: 403, SUPER: 403},
        hidden=True,
        effect=lambda w: Pilot.objects.get(code=w["pilot"]).stage == "pilot",
    ),
    Row("exchange:pilot-open", ("published",), "get", A_WRITERS, hidden=True, refused={ANON: 302}),
    Row(
        "exchange:pilot-open",
        ("published",),
        "post",
        A_WRITERS,
        data={
            "site_en": "Ward 9",
            "on": "2026-01-05",
            "evidence_kind": "link",
            "evidence_url": "https://example.org/ward-9",
        },
        hidden=True,
        refused={ANON: 302},
        effect=lambda w: Pilot.objects.filter(site_en="Ward 9").exists(),
    ),
    Row("exchange:pilot-review", (), "get", CURATORS, staff=True, reveals=("zqxpilotsite",)),
    Row(
        "exchange:pilot-stage-decide",
        ("pilot_opening",),
        "post",
        CURATORS,
        data={"action": "verify"},
        staff=True,
        effect=lambda w: Pilot.objects.get(code=w["pilot"]).verified_stage == "opened",
    ),
    # Conversations: A (the demand's owner) and B (the supplier); a curator reads a reported one (it is);
    # anyone else is told it does not exist (404). A's viewer reads and reports; only writers write.
    Row("exchange:conversations", (), "get", SIGNED),
    Row("exchange:conversation", ("conv",), "get", A_MEMBERS | B_MEMBERS | CURATORS, refused=CONV_404),
    Row(
        "exchange:conversation-reply",
        ("conv",),
        "post",
        A_WRITERS | B_MEMBERS,
        data={"body": "Matrix reply"},
        refused=CONV_404,
        effect=lambda w: Message.objects.filter(body="Matrix reply").exists(),
    ),
    Row(
        "exchange:conversation-outcome",
        ("conv",),
        "post",
        A_WRITERS | B_MEMBERS,  # the supplier may decline
        data={"outcome": "declined"},
        refused=CONV_404,
        effect=lambda w: Conversation.objects.get(code=w["conv"]).outcome == "declined",
    ),
    Row(
        "exchange:conversation-share",
        ("conv",),
        "post",
        A_WRITERS | B_MEMBERS,
        refused=CONV_404,
        effect=lambda w: Conversation.objects.filter(code=w["conv"])
        .exclude(owner_contact=None, supplier_contact=None)
        .exists(),
    ),
    Row(
        "exchange:conversation-report",
        ("conv",),
        "post",
        A_MEMBERS | B_MEMBERS,
        data={"reason": "Matrix report"},
        refused=CONV_404,
        effect=lambda w: AbuseReport.objects.filter(reason="Matrix report").exists(),
    ),
    # Express interest: B's writers in A's published entry (they talk already: back to that conversation).
    Row(
        "exchange:entry-interest",
        ("published",),
        "post",
        B_MEMBERS,
        data={"supplier": "@b", "body": "We can help."},
        effect=lambda w: Conversation.objects.filter(demand__code=w["published"]).count() == 1,
    ),
    Row("exchange:entry-interest", ("draft",), "post", NOBODY, data={"supplier": "@b", "body": "We can help."}),
    # Invite to respond: A's writers, about the capability on the entry's shortlist.
    Row(
        "exchange:entry-invite",
        ("published", "b_cap"),
        "post",
        A_WRITERS,
        effect=lambda w: Conversation.objects.filter(demand__code=w["published"]).count() == 1,
    ),
    Row("exchange:conversation-reports", (), "get", CURATORS, staff=True),
    Row(
        "exchange:conversation-report-decide",
        ("report",),
        "post",
        CURATORS,
        data={"decision": "dismiss", "note": "Fine."},
        effect=lambda w: AbuseReport.objects.get(pk=w["report"]).status == "dismissed",
        staff=True,
    ),
]

PUBLIC_NAMES = {
    "organisation-list",
    "organisation-detail",
    "release-list",
    "release-detail",
    "release-csv",
    "release-json",
    "api-release-list",
    "api-release-detail",
    "api-release-item-list",
}


def _names(patterns: list[Any], namespace: str = "") -> set[str]:
    found: set[str] = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found |= _names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            found.add(f"{namespace}{entry.name}")
    return found


def test_the_matrix_covers_every_exchange_url() -> None:
    names = _names(get_resolver().url_patterns)
    exchange = {n for n in names if n.startswith("exchange:")}
    # The public side of the exchange: its organisations and releases, on the site and in the API.
    public = {n for n in names if ":" not in n and ("organisation" in n or "release" in n)}
    assert exchange | public == {row.name for row in MATRIX}
    assert public == PUBLIC_NAMES


# --- The world ---------------------------------------------------------------------------------------------------

DEMAND = {
    "summary_en": "Night nurses are too few; robots could patrol the ward and bring medicines.",
    "setting": "hospital",
    "offers": ["test_site", "data"],
    "sources": ["https://example.org/plan"],
}


def _person(username: str, email: str) -> Any:
    user = User.objects.create_user(username, email, "a-long-password-9")
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture
def world(catalog: Any) -> World:
    """Organisation A (admin, editor, viewer) with a draft, a submitted, an accepted, a duplicate, a merged and a
    published entry, a pending join request and a pending invitation; organisation B (admin, editor) with a
    draft much like A's; a published release (A's published entry) and a draft one (A's accepted entry)."""
    ann, ed, vic = _person("ann", "ann@ruijin.example"), _person("ed", "ed@ruijin.example"), _person("vic", "vic@r.ex")
    zoe, bea = _person("zoe", "zoe@robots.example"), _person("bea", "bea@robots.example")
    olga, carol = _person("olga", "olga@newcomer.example"), _person("carol", "carol@nowhere.example")
    a = organisation_create(user=ann, name_en="Ruijin Hospital", kind="public_service")
    Membership.objects.create(organisation=a, user=ed, role="editor")
    vic_m = Membership.objects.create(organisation=a, user=vic, role="viewer")
    b = organisation_create(user=zoe, name_en="Robots Inc", kind="enterprise")
    Membership.objects.create(organisation=b, user=bea, role="editor")
    cora = staff_user("cora", "Curator")
    people = {
        ANON: None,
        NOORG: olga,
        A_ADMIN: ann,
        A_EDITOR: ed,
        A_VIEWER: vic,
        B_ADMIN: zoe,
        B_EDITOR: bea,
        ANALYST: staff_user("al", "Analyst"),
        CURATOR: cora,
        SUPER: User.objects.create_superuser("root", "root@example.org", "a-long-password-9"),
    }

    def entry(org: Any, actor: Any, marker: str) -> Entry:
        return entries.entry_create(
            organisation=org,
            actor=actor,
            kind="demand",
            title_en=f"Night ward robots {marker}",
            topics=[("humanoid-robots", "core")],
            **DEMAND,
        )

    draft = entry(a, ed, "zqxdraft")
    submitted = entries.entry_submit(entry=entry(a, ed, "zqxsubmitted"), actor=ed)
    duplicate = entries.entry_submit(entry=entry(a, ed, "zqxduplicate"), actor=ed)
    merged = entries.entry_submit(entry=entry(a, ed, "zqxmerged"), actor=ed)
    duplicates.entry_merge(entry=merged, into=submitted, actor=cora)

    def accepted(marker: str) -> Entry:
        return entries.entry_accept(entry=entries.entry_submit(entry=entry(a, ed, marker), actor=ed), actor=cora)

    published = accepted("in public")
    b_cap = entries.entry_create(
        organisation=b,
        actor=bea,
        kind="capability",
        title_en="Ward patrol robot",
        summary_en="Patrols wards at night.",
        trl=6,
        topics=[("humanoid-robots", "core")],
    )
    b_cap = entries.entry_accept(entry=entries.entry_submit(entry=b_cap, actor=bea), actor=cora)
    r_published = releases.release_draft_create(actor=cora, title_en="2027, first batch")
    releases.release_add(release=r_published, entry=published, actor=cora)
    releases.release_add(release=r_published, entry=b_cap, actor=cora)
    r_published = releases.release_publish(release=r_published, actor=cora)
    accepted_one, accepted_two = accepted("zqxaccepted"), accepted("zqxaccepted too")
    r_draft = releases.release_draft_create(actor=cora, title_en="2027, second batch")
    releases.release_add(release=r_draft, entry=accepted_one, actor=cora)
    b_draft = entry(b, bea, "zqbdraft")
    published.refresh_from_db()
    pilot = pilots.pilot_open(
        actor=ann,
        demand=published,
        site_en="Ward zqxpilotsite",
        on=timezone.localdate() - timedelta(days=30),
        evidence=pilots.EvidenceIn(kind="link", url="https://example.org/opening"),
    )
    b_cap.refresh_from_db()
    Shortlist.objects.create(demand=published, capability=b_cap, added_by=ed)
    conv = conversations.conversation_invite(actor=ed, demand=published, capability=b_cap, body="zqconvsecret")
    report = conversations.abuse_report_create(conversation=conv, actor=bea, reason="A matrix report")

    carol_req = JoinRequest.objects.create(organisation=a, user=carol, message="zqxjoinplea")
    token = "matrix-invitation-token"
    OrganisationInvitation.objects.create(
        organisation=a,
        email="olga@newcomer.example",
        role="editor",
        token_hash=token_hash(token),
        invited_by=ann,
        expires_at=timezone.now() + timedelta(days=14),
    )
    return {
        "people": people,
        "a": a.code,
        "b": b.code,
        "vic_m": vic_m.pk,
        "carol_req": carol_req.pk,
        "token": token,
        "draft": draft.code,
        "submitted": submitted.code,
        "duplicate": duplicate.code,
        "merged": merged.code,
        "published": published.code,
        "accepted": accepted_one.code,
        "accepted2": accepted_two.code,
        "b_draft": b_draft.code,
        "r_published": r_published.code,
        "r_draft": r_draft.code,
        "match_run": MatchRun.objects.create(status="done").pk,
        "pilot": pilot.code,
        "pilot_opening": pilot.stage_changes.get().pk,
        "b_cap": b_cap.code,
        "conv": conv.code,
        "report": report.pk,
    }


# --- Running it --------------------------------------------------------------------------------------------------

SNAPSHOT_MODELS = (
    Organisation,
    Membership,
    OrganisationInvitation,
    JoinRequest,
    Entry,
    EntryTopic,
    EntryComment,
    Release,
    ReleaseItem,
    Scenario,
    Pilot,
    PilotStageChange,
    Shortlist,
    Conversation,
    Message,
    AbuseReport,
)


def _snapshot() -> dict[str, Any]:
    rows: dict[str, Any] = {m.__name__: list(m.objects.order_by("pk").values()) for m in SNAPSHOT_MODELS}
    rows["audit"] = AuditLog.objects.count()
    return rows


def _url(row: Row, w: World) -> str:
    return reverse(row.name, args=[w[key] for key in row.args]) + row.query


def _data(row: Row, w: World) -> dict[str, Any]:
    """The form's values, with ``@key`` standing for a code of the world."""
    return {k: w[v[1:]] if isinstance(v, str) and v.startswith("@") else v for k, v in row.data.items()}


def _client(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _login_redirect(response: Any, *, staff: bool) -> bool:
    login = "/admin/login/" if staff else reverse("account_login")
    return response.status_code == 302 and response["Location"].startswith(login)


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _cell(row: Row, who: str, client: Client, w: World) -> list[str]:
    """Run one cell in a rolled-back savepoint; what is wrong with it (nothing: an empty list)."""
    wrong: list[str] = []
    label = f"{row.method.upper()} {row.name} {'/'.join(row.args)}{row.query} as {who}"
    with transaction.atomic():
        before = _snapshot()
        response = getattr(client, row.method)(_url(row, w), _data(row, w))
        status = response.status_code
        after = _snapshot()
        if who in row.allowed:
            if row.method == "get":
                ok = status == 200
            else:
                ok = status in (301, 302, 303) and not _login_redirect(response, staff=row.staff)
            if not ok:
                wrong.append(f"{label}: {status}, expected success")
            elif row.effect is not None and not row.effect(w):
                wrong.append(f"{label}: {status} but the change did not happen")
        else:
            expected = row.refused.get(who)
            if expected is not None:
                ok = status == expected
            elif row.hidden:
                ok = status == 404
            elif who == ANON:
                ok = _login_redirect(response, staff=row.staff)
            else:
                ok = status == 403
            if not ok:
                where = f" → {response['Location']}" if status in (301, 302) else ""
                wrong.append(f"{label}: {status}{where}, expected refusal ({expected or 'the default'})")
        if (row.method == "get" or who not in row.allowed) and after != before:
            changed = [k for k in before if before[k] != after[k]]
            wrong.append(f"{label}: {status} and changed {changed}")
        if status == 200:
            body = _body(response)
            leaked = [m for m, exempt in MARKERS.items() if who not in exempt and m not in row.reveals and m in body]
            if leaked:
                wrong.append(f"{label}: shows {leaked}")
        transaction.set_rollback(True)
    return wrong


def test_every_exchange_url_for_every_caller_on_every_object(world: World) -> None:
    clients = {who: _client(user) for who, user in world["people"].items()}
    wrong: list[str] = []
    for row in MATRIX:
        for who in CALLERS:
            wrong += _cell(row, who, clients[who], world)
    assert not wrong, f"{len(wrong)} cells wrong:\n" + "\n".join(wrong)


def test_the_matrix_covers_every_method_a_view_accepts(world: World) -> None:
    """GET and POST are the methods the exchange's views use (HEAD follows GET): the one a name has no row for
    is refused with 405, so no view accepts a method the matrix does not try."""
    root = _client(world["people"][SUPER])
    wrong = []
    for name in {row.name for row in MATRIX}:
        rows = [row for row in MATRIX if row.name == name]
        methods = {row.method for row in rows}
        for method in {"get", "post"} - methods:
            with transaction.atomic():
                status = getattr(root, method)(_url(rows[0], world)).status_code
                transaction.set_rollback(True)
            if status != 405:
                wrong.append(f"{method.upper()} {name}: {status}, but the matrix has no row for it")
    assert not wrong, "\n".join(wrong)
