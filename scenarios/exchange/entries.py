"""Demand and capability entries and their review: the one place that decides who may write an entry, which
state it may move to, and what a complete entry is.

The workflow::

    draft ──submit──▶ submitted ──review──▶ in review ──accept──▶ accepted ──(a release)──▶ published
      ▲                  │                    │  │
      └── changes requested ◀─────────────────┘  └──reject (with a reason)──▶ rejected
    withdrawn: by the proposer, from any state (a published one is listed as withdrawn by the next release)
    published ──revise──▶ draft: a new version, reviewed again; the public keeps reading the published
    version (its release's snapshot) until the next release lists the entry as changed

Editors and admins of the proposing organisation write and submit; curators (``scenarios.review_entry``)
review. Curators may also complete a missing language while an entry is in their hands. Every transition
and every edit is audited (the audit log says who and when; the entry's history says what changed).
Refusals change nothing: ``PermissionDenied`` (403), ``ValidationError`` (400) or ``Conflict`` (409).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from foresight.catalog.models import Topic
from foresight.core.audit import audit_log
from foresight.core.errors import Conflict
from foresight.core.ratelimit import rate_limited
from foresight.core.text import clean_text
from scenarios.exchange.organisations import require_role, role_of
from scenarios.models import (
    Entry,
    EntryComment,
    EntryTopic,
    Membership,
    Organisation,
    Release,
    ReleaseItem,
    ScenarioTopic,
)

REVIEW_PERMISSION = "scenarios.review_entry"
Status = Entry.Status
WRITERS = (Membership.Role.ADMIN, Membership.Role.EDITOR)
MAX_TOPICS = 12
MAX_SOURCES = 10
PROGRAMME_ORG = "foresight-programme"  # the curated scenarios' own organisation (``catalog_release``)
SUBMISSION_LIMITS = {"user": (20, 24 * 3600), "organisation": (50, 24 * 3600)}

TEXT_FIELDS = (
    "title_en",
    "title_zh",
    "summary_en",
    "summary_zh",
    "region_en",
    "region_zh",
    "why_now_en",
    "why_now_zh",
    "location_en",
    "location_zh",
    "needs_en",
    "needs_zh",
    "constraints_en",
    "constraints_zh",
    "trl_evidence_en",
    "trl_evidence_zh",
    "deployments_en",
    "deployments_zh",
    "conditions_en",
    "conditions_zh",
)
OTHER_FIELDS = (
    "setting",
    "scale_sites",
    "scale_users",
    "offers",
    "budget_min",
    "budget_max",
    "window_start",
    "window_end",
    "trl",
    "trl_needed",
    "sources",
)
FIELDS = TEXT_FIELDS + OTHER_FIELDS
# The fields of one kind only: an entry of the other kind refuses them.
DEMAND_ONLY = (
    "why_now_en",
    "why_now_zh",
    "location_en",
    "location_zh",
    "scale_sites",
    "scale_users",
    "offers",
    "budget_min",
    "budget_max",
    "needs_en",
    "needs_zh",
    "window_start",
    "window_end",
    "constraints_en",
    "constraints_zh",
    "trl_needed",
)
CAPABILITY_ONLY = (
    "trl",
    "trl_evidence_en",
    "trl_evidence_zh",
    "deployments_en",
    "deployments_zh",
    "conditions_en",
    "conditions_zh",
)
KIND_ONLY = {"demand": DEMAND_ONLY, "capability": CAPABILITY_ONLY}
# States in which the proposer edits, and in which a curator may complete the other language.
PROPOSER_EDITS = (Status.DRAFT, Status.CHANGES_REQUESTED)
CURATOR_EDITS = (Status.SUBMITTED, Status.IN_REVIEW, Status.ACCEPTED)
OPEN = (Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.CHANGES_REQUESTED, Status.ACCEPTED)


def is_curator(user: Any) -> bool:
    return bool(
        getattr(user, "is_active", False) and getattr(user, "is_staff", False) and user.has_perm(REVIEW_PERMISSION)
    )


def can_read(*, entry: Entry, user: Any) -> bool:
    """Members of the proposing organisation read an entry in any state; curators once it is submitted (a
    draft is the organisation's own); the public, only once published (through a release)."""
    if entry.status == Status.PUBLISHED:
        return True
    if role_of(organisation=entry.organisation, user=user) is not None:
        return True
    return is_curator(user) and entry.status != Status.DRAFT


def is_listed(entry: Entry) -> bool:
    """Whether the latest published release that names the entry lists it (rather than its withdrawal)."""
    last = (
        ReleaseItem.objects.filter(entry=entry, release__status=Release.Status.PUBLISHED)
        .order_by("-release__number")
        .values_list("change", flat=True)
        .first()
    )
    return last is not None and last != ReleaseItem.Change.WITHDRAWN


def _after_publication(entry: Entry) -> tuple[str, ...]:
    """The states from which a published entry's organisation withdraws or revises it: published, and a
    rejected revision while its published version is still listed."""
    return (
        (Status.PUBLISHED, Status.REJECTED)
        if entry.status == Status.REJECTED and is_listed(entry)
        else (Status.PUBLISHED,)
    )


def require_read(*, entry: Entry, user: Any) -> None:
    if not can_read(entry=entry, user=user):
        raise PermissionDenied(_("Only the proposing organisation and the curators can see this entry."))


def _require_curator(user: Any) -> None:
    if not is_curator(user):
        raise PermissionDenied(_("Only curators review entries."))


def _cleaned(values: Mapping[str, Any], *, kind: str) -> dict[str, Any]:
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}")
    other = next((k for k in KIND_ONLY if k != kind), "")
    foreign = sorted(n for n in set(values) & set(KIND_ONLY.get(other, ())) if values[n] not in (None, "", []))
    if foreign:
        raise ValidationError(f"Not fields of a {kind} entry: {', '.join(foreign)}")
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if name in TEXT_FIELDS:
            out[name] = clean_text(value or "")
        elif name == "offers":
            offers = list(dict.fromkeys(value or []))
            bad = [o for o in offers if o not in Entry.Offer.values]
            if bad:
                errors[name] = [_("Unknown offer: %(value)s.") % {"value": ", ".join(map(str, bad))}]
            out[name] = offers
        elif name == "sources":
            out[name], problems = _sources(value or [])
            if problems:
                errors[name] = problems
        else:
            out[name] = value
    errors |= _contact_problems(out)
    if errors:
        raise ValidationError(errors)
    return out


def _sources(value: Iterable[Any]) -> tuple[list[dict[str, str]], list[str]]:
    """[{"url", "title"}] with http(s) links only; a bare string is a link without a title."""
    sources: list[dict[str, str]] = []
    problems: list[str] = []
    for item in value:
        url, title = (item, "") if isinstance(item, str) else (str(item.get("url", "")), str(item.get("title", "")))
        url = url.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
            problems.append(_("Not a web link: %(url)s") % {"url": url[:80]})
            continue
        sources.append({"url": url, "title": clean_text(title)[:200]})
    if len(sources) > MAX_SOURCES:
        problems.append(_("At most %(n)s sources.") % {"n": MAX_SOURCES})
    return sources, problems


def _topics(links: Iterable[tuple[str, str]]) -> list[tuple[Topic, str]]:
    """(topic code, role) pairs → public topics with a valid role; unknown codes are an error, not dropped."""
    pairs = list(dict(links).items())  # one role per topic, the last one given
    if len(pairs) > MAX_TOPICS:
        raise ValidationError({"topics": _("At most %(n)s topics.") % {"n": MAX_TOPICS}})
    roles = [role for _code, role in pairs if role not in ScenarioTopic.Role.values]
    if roles:
        raise ValidationError({"topics": _("Unknown role: %(role)s.") % {"role": roles[0]}})
    codes = [code for code, _role in pairs]
    found = {t.code: t for t in Topic.objects.public().filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError({"topics": _("Unknown topic: %(codes)s.") % {"codes": ", ".join(missing[:5])}})
    return [(found[code], role) for code, role in pairs]


# Contact goes through the product: an e-mail address or a telephone number in an entry's text is refused.
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_RE = re.compile(r"(?<![\d.])\+?\(?\d[\d \-().]{6,}\d(?![\d])")


def _has_phone(text: str) -> bool:
    """A telephone number: 8 to 15 digits, possibly with spaces, dashes, dots or brackets, that is written
    with a country code (+…), or reads as a Chinese number — a landline with its area code (from 0, 10 to 12
    digits), a mobile (11 digits from 1) or a service number (10 digits from 400 or 800). Dates, spans of
    years, standards' numbers and budgets do not read so."""
    for match in PHONE_RE.finditer(text):
        candidate = match.group().strip()
        digits = "".join(c for c in candidate if c.isdigit())
        if not 8 <= len(digits) <= 15:
            continue
        if (
            candidate.startswith("+")
            or (digits[0] == "0" and 10 <= len(digits) <= 12)
            or (digits[0] == "1" and len(digits) == 11)
            or (digits[:3] in ("400", "800") and len(digits) == 10)
        ):
            return True
    return False


def _contact_problems(values: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in TEXT_FIELDS:
        text = unicodedata.normalize("NFKC", values.get(name) or "")  # full-width digits and ＠ as plain ones
        if EMAIL_RE.search(text) or _has_phone(text):
            errors[name] = [
                _(
                    "Remove the e-mail address or telephone number: contact goes through the exchange, which "
                    "never publishes them."
                )
            ]
    return errors


def _save(entry: Entry, values: dict[str, Any], topics: list[tuple[Topic, str]] | None) -> list[str]:
    changed = [name for name, value in values.items() if getattr(entry, name) != value]
    for name, value in values.items():
        setattr(entry, name, value)
    errors: dict[str, list[str]] = {}
    if entry.budget_min is not None and entry.budget_max is not None and entry.budget_min > entry.budget_max:
        errors["budget_max"] = [_("The budget's upper end is below its lower end.")]
    if entry.window_start is not None and entry.window_end is not None and entry.window_start > entry.window_end:
        errors["window_end"] = [_("The window closes before it opens.")]
    if errors:
        raise ValidationError(errors)
    entry.full_clean()
    entry.save()
    if topics is not None:
        before = set(entry.topic_links.values_list("topic__code", "role"))
        after = {(t.code, role) for t, role in topics}
        if before != after:
            entry.topic_links.all().delete()
            EntryTopic.objects.bulk_create(EntryTopic(entry=entry, topic=t, role=role) for t, role in topics)
            changed.append("topics")
    return changed


def entry_create(
    *,
    organisation: Organisation,
    actor: Any,
    kind: str,
    topics: Iterable[tuple[str, str]] = (),
    **values: Any,
) -> Entry:
    """A new draft of the organisation (its editors and admins)."""
    require_role(organisation=organisation, user=actor, roles=WRITERS)
    if kind not in Entry.Kind.values:
        raise ValidationError({"kind": _("Choose demand or capability.")})
    cleaned = _cleaned(values, kind=kind)
    links = _topics(topics)
    with transaction.atomic():
        entry = Entry(organisation=organisation, kind=kind, created_by=actor)
        _save(entry, cleaned, links)
        audit_log(action="entry_create", actor=actor, entry=entry.code, organisation=organisation.code, kind=kind)
    return entry


def entry_update(*, entry: Entry, actor: Any, topics: Iterable[tuple[str, str]] | None = None, **values: Any) -> Entry:
    """The proposer edits a draft (or one sent back with changes requested); a curator may complete an entry
    in her hands (submitted, in review, accepted)."""
    curator = is_curator(actor) and role_of(organisation=entry.organisation, user=actor) not in WRITERS
    if curator:
        if entry.status not in CURATOR_EDITS:
            raise Conflict(_("Curators complete entries that are submitted, in review or accepted."))
    else:
        require_role(organisation=entry.organisation, user=actor, roles=WRITERS)
        if entry.status not in PROPOSER_EDITS:
            raise Conflict(
                _("This entry is %(status)s: it can be edited only as a draft or when changes are requested.")
                % {"status": entry.get_status_display().lower()}
            )
    cleaned = _cleaned(values, kind=entry.kind)
    links = _topics(topics) if topics is not None else None
    with transaction.atomic():
        locked = Entry.objects.select_for_update().get(pk=entry.pk)
        if locked.status != entry.status:
            raise Conflict(_("The entry changed state meanwhile; reload it."))
        changed = _save(locked, cleaned, links)
        if changed:
            audit_log(action="entry_update", actor=actor, entry=locked.code, changed=sorted(changed), curator=curator)
    return locked


def entry_abilities(*, entry: Entry, user: Any) -> dict[str, bool]:
    """What ``user`` may do with ``entry`` now (the pages show only these actions; the services check again)."""
    role = role_of(organisation=entry.organisation, user=user)
    writer = role in WRITERS
    after = _after_publication(entry) if writer else ()
    curator = is_curator(user)
    return {
        "writer": writer,
        "curator": curator,
        # The review thread is between the proposing organisation and the curators, published entry or not.
        "sees_review": curator or role is not None,
        "can_edit": (writer and entry.status in PROPOSER_EDITS) or (curator and entry.status in CURATOR_EDITS),
        "can_submit": writer and entry.status in PROPOSER_EDITS,
        "can_withdraw": writer and entry.status in (*OPEN, *after),
        "can_revise": writer and entry.status in after and entry.organisation.code != PROGRAMME_ORG,
    }


def completeness_problems(entry: Entry) -> list[str]:
    """What a submitted entry must have (either language counts; the other can follow)."""
    problems = []
    if not (entry.title_en or entry.title_zh):
        problems.append(_("a title"))
    if not (entry.summary_en or entry.summary_zh):
        problems.append(_("what the problem is") if entry.kind == Entry.Kind.DEMAND else _("what it does"))
    if not entry.topic_links.exists():
        problems.append(_("at least one catalog topic"))
    if entry.kind == Entry.Kind.DEMAND:
        if not entry.setting:
            problems.append(_("the setting"))
        if not entry.offers:
            problems.append(_("what the owner offers"))
    elif entry.trl is None:
        problems.append(_("the readiness (TRL)"))
    return problems


def _transition(
    entry: Entry,
    *,
    actor: Any,
    allowed_from: tuple[str, ...],
    to: str,
    action: str,
    **details: Any,
) -> Entry:
    with transaction.atomic():
        locked = Entry.objects.select_for_update().get(pk=entry.pk)
        if locked.status not in allowed_from:
            raise Conflict(
                _("This entry is %(status)s; that is not possible now.")
                % {"status": locked.get_status_display().lower()}
            )
        locked.status = to
        fields = ["status", "updated_at"]
        if to == Status.SUBMITTED:
            locked.submitted_at = timezone.now()
            fields.append("submitted_at")
        if to == Status.REJECTED:
            locked.rejection_reason = details.get("reason", "")
            fields.append("rejection_reason")
        locked.save(update_fields=fields)
        audit_log(action=action, actor=actor, entry=locked.code, before=entry.status, after=to, **details)
    return locked


def entry_submit(*, entry: Entry, actor: Any) -> Entry:
    require_role(organisation=entry.organisation, user=actor, roles=WRITERS)
    problems = completeness_problems(entry)
    if problems:
        raise ValidationError(_("Before submitting, add: %(missing)s.") % {"missing": "; ".join(problems)})
    for scope, key in (("user", actor.pk), ("organisation", entry.organisation_id)):
        limit, window = SUBMISSION_LIMITS[scope]
        if rate_limited(scope=f"exchange:submit:{scope}", key=str(key), limit=limit, window_seconds=window):
            raise Conflict(_("Too many submissions today; please try again tomorrow."))
    return _transition(entry, actor=actor, allowed_from=PROPOSER_EDITS, to=Status.SUBMITTED, action="entry_submit")


def entry_withdraw(*, entry: Entry, actor: Any) -> Entry:
    require_role(organisation=entry.organisation, user=actor, roles=WRITERS)
    # A published entry can be withdrawn too: the next release lists it as withdrawn (its releases keep it).
    allowed = (*OPEN, *_after_publication(entry))
    return _transition(entry, actor=actor, allowed_from=allowed, to=Status.WITHDRAWN, action="entry_withdraw")


def entry_revise(*, entry: Entry, actor: Any) -> Entry:
    """Open a published entry for a new version (back to draft). Its releases keep what they published, the
    public reads that version meanwhile, and the next release that takes it lists it as changed."""
    require_role(organisation=entry.organisation, user=actor, roles=WRITERS)
    if entry.organisation.code == PROGRAMME_ORG:
        raise Conflict(_("The curated scenarios are revised in the catalog, not here."))
    allowed = _after_publication(entry)
    return _transition(entry, actor=actor, allowed_from=allowed, to=Status.DRAFT, action="entry_revise")


def entry_review_start(*, entry: Entry, actor: Any) -> Entry:
    _require_curator(actor)
    return _transition(entry, actor=actor, allowed_from=(Status.SUBMITTED,), to=Status.IN_REVIEW, action="entry_review")


def _comment(entry: Entry, actor: Any, body: str, kind: str) -> EntryComment:
    text = clean_text(body)
    if not text:
        raise ValidationError({"body": _("Write the comment.")})
    if len(text) > 4000:
        raise ValidationError({"body": _("Keep the comment under 4,000 characters.")})
    return EntryComment.objects.create(entry=entry, author=actor, by_curator=is_curator(actor), kind=kind, body=text)


def entry_comment(*, entry: Entry, actor: Any, body: str) -> EntryComment:
    """A note in the review thread, by a curator or an editor or admin of the proposing organisation (its
    viewers read the thread; they do not write in it)."""
    if not (is_curator(actor) or role_of(organisation=entry.organisation, user=actor) in WRITERS):
        raise PermissionDenied(_("Only the proposing organisation's editors and admins and the curators comment."))
    with transaction.atomic():
        comment = _comment(entry, actor, body, EntryComment.Kind.COMMENT)
        audit_log(action="entry_comment", actor=actor, entry=entry.code)
    return comment


def entry_request_changes(*, entry: Entry, actor: Any, body: str) -> Entry:
    _require_curator(actor)
    with transaction.atomic():
        moved = _transition(
            entry,
            actor=actor,
            allowed_from=(Status.SUBMITTED, Status.IN_REVIEW),
            to=Status.CHANGES_REQUESTED,
            action="entry_request_changes",
        )
        _comment(moved, actor, body, EntryComment.Kind.CHANGES_REQUESTED)
    return moved


def entry_accept(*, entry: Entry, actor: Any) -> Entry:
    _require_curator(actor)
    return _transition(
        entry, actor=actor, allowed_from=(Status.SUBMITTED, Status.IN_REVIEW), to=Status.ACCEPTED, action="entry_accept"
    )


def entry_reject(*, entry: Entry, actor: Any, reason: str) -> Entry:
    _require_curator(actor)
    text = clean_text(reason)
    if not text:
        raise ValidationError({"reason": _("Give the proposer the reason.")})
    if len(text) > 2000:
        raise ValidationError({"reason": _("Keep the reason under 2,000 characters.")})
    with transaction.atomic():
        moved = _transition(
            entry,
            actor=actor,
            allowed_from=(Status.SUBMITTED, Status.IN_REVIEW, Status.ACCEPTED),
            to=Status.REJECTED,
            action="entry_reject",
            reason=text,
        )
        _comment(moved, actor, text, EntryComment.Kind.REJECTED)
    return moved
