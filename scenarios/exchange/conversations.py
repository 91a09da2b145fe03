"""From a match to a conversation: a demand entry's owner invites a shortlisted capability's organisation to
respond, or a supplier expresses interest in a published demand entry; the two organisations then write to
each other through the product, record the outcome, agree to exchange contacts, and report abuse to the
curators.

Who may do what (``Membership.Role``): the **editors and admins** of the two organisations write, set the
outcome and share a contact; their **viewers** read; **curators** (``scenarios.review_entry``) read a
conversation once someone reported it, and decide the reports. Nobody else learns that a conversation
exists (404). The outcome::

    no reply ──(the invited side replies)──▶ in discussion
    the owner sets: declined / in discussion / agreed to pilot; the supplier may decline

Privacy: the other side is named by its organisation only. A person's e-mail address is shown to the other
side only once both sides have agreed to exchange contacts (``owner_contact`` and ``supplier_contact``),
never in a notification mail. A conversation with an upheld abuse report is closed: it takes no new message.

Every change is audited with its actor; refusals change nothing (``PermissionDenied`` 403,
``ValidationError`` 400, ``Conflict`` 409); writing is rate-limited (settings ``EXCHANGE_MESSAGES_PER_HOUR``,
``EXCHANGE_CONVERSATIONS_PER_DAY``, ``EXCHANGE_REPORTS_PER_DAY``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from foresight.core.audit import audit_log
from foresight.core.errors import Conflict
from foresight.core.ratelimit import rate_limited
from foresight.core.text import clean_text
from scenarios.exchange.entries import WRITERS, is_curator, is_listed
from scenarios.exchange.organisations import require_role
from scenarios.models import AbuseReport, Conversation, Entry, Membership, Message, Organisation, Shortlist

Side = Message.Side
Outcome = Conversation.Outcome
BODY_MAX = 4000
REASON_MAX = 2000
# What each side may set the outcome to ("no reply" is only ever the start).
OUTCOMES_BY_SIDE: dict[str, tuple[str, ...]] = {
    Side.OWNER: (Outcome.DECLINED, Outcome.IN_DISCUSSION, Outcome.AGREED),
    Side.SUPPLIER: (Outcome.DECLINED,),
}


class ConversationExists(Conflict):
    """One conversation per demand entry and supplier organisation: the existing one is ``conversation``."""

    def __init__(self, conversation: Conversation) -> None:
        super().__init__(
            _("Your organisations are already talking about this entry: the conversation continues there.")
        )
        self.conversation = conversation


# --- Rules -------------------------------------------------------------------------------------------------------


def is_open_entry(entry: Entry) -> bool:
    """Whether a conversation may start about the entry: it is published (also while a new version of it is
    being prepared, since the public still reads the published one), not withdrawn or merged."""
    if entry.status == Entry.Status.PUBLISHED:
        return True
    return entry.status not in (Entry.Status.WITHDRAWN, Entry.Status.MERGED) and is_listed(entry)


def clean_body(value: object, *, field: str, limit: int, empty: str) -> str:
    """Typed text as a message stores it: NUL and other control characters removed (line breaks and tabs
    kept, Windows line ends made plain), surrounding whitespace stripped, not empty, at most ``limit``."""
    text = clean_text(value).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc").strip()
    if not text:
        raise ValidationError({field: [empty]})
    if len(text) > limit:
        raise ValidationError({field: [_("At most %(n)s characters.") % {"n": f"{limit:,}"}]})
    return text


def _limit(scope: str, key: Any, limit: int, window: int, message: str) -> None:
    if rate_limited(scope=f"exchange:{scope}", key=str(key), limit=limit, window_seconds=window):
        raise Conflict(message)


def _limit_new_conversation(organisation: Organisation) -> None:
    _limit(
        "conversation_new",
        organisation.pk,
        settings.EXCHANGE_CONVERSATIONS_PER_DAY,
        24 * 3600,
        _("Your organisation has started many conversations today; please try again tomorrow."),
    )


@dataclass(frozen=True)
class Access:
    """What one person may do in one conversation. ``side``: owner, supplier or "" (a curator)."""

    side: str
    role: str
    curator: bool

    @property
    def writer(self) -> bool:
        return self.side != "" and self.role in WRITERS

    @property
    def member(self) -> bool:
        return self.side != ""


def access_of(*, conversation: Conversation, user: Any) -> Access | None:
    """The person's place in the conversation, or None if it is none of her business. A member of both
    organisations speaks for the demand's owner."""
    roles: dict[int, str] = {}
    if getattr(user, "is_authenticated", False):
        owner_id = conversation.demand.organisation_id
        rows = Membership.objects.filter(user=user, organisation_id__in=[owner_id, conversation.supplier_id])
        roles = dict(rows.values_list("organisation_id", "role"))
    curator = is_curator(user) and conversation.abuse_reports.exists()
    if conversation.demand.organisation_id in roles:
        return Access(Side.OWNER, roles[conversation.demand.organisation_id], curator)
    if conversation.supplier_id in roles:
        return Access(Side.SUPPLIER, roles[conversation.supplier_id], curator)
    return Access("", "", True) if curator else None


def _require_writer(conversation: Conversation, actor: Any) -> Access:
    access = access_of(conversation=conversation, user=actor)
    if access is None or not access.writer:
        raise PermissionDenied(_("Only the editors and admins of the two organisations write in a conversation."))
    return access


def is_closed(conversation: Conversation) -> bool:
    """Closed by the curators: a report on it was upheld."""
    return conversation.abuse_reports.filter(status=AbuseReport.Status.UPHELD).exists()


def _require_open(conversation: Conversation) -> None:
    if is_closed(conversation):
        raise Conflict(_("The curators have closed this conversation after a report: it takes no new message."))


def _organisation_of(conversation: Conversation, side: str) -> Organisation:
    return conversation.demand.organisation if side == Side.OWNER else conversation.supplier


def _other(side: str) -> str:
    return Side.SUPPLIER if side == Side.OWNER else Side.OWNER


# --- Notifications -------------------------------------------------------------------------------------------


def _notify(conversation: Conversation, *, to_side: str, event: str) -> None:
    """Tell the editors and admins of ``to_side`` by e-mail, one mail each (no recipient sees another's
    address). The mail names the entry and the other organisation and links to the conversation; it carries
    no message text and no person's name or address."""
    organisation = _organisation_of(conversation, to_side)
    other = _organisation_of(conversation, _other(to_side))
    addresses = sorted(
        set(
            Membership.objects.filter(organisation=organisation, role__in=WRITERS)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )
    link = settings.SITE_URL + reverse("exchange:conversation", kwargs={"code": conversation.code})
    entry = conversation.demand
    context = {"event": event, "entry": entry.title or entry.code, "other": other.name, "link": link}
    subjects = {
        "invite": _("%(other)s invites you to respond about “%(entry)s”"),
        "interest": _("%(other)s is interested in “%(entry)s”"),
        "message": _("New message from %(other)s about “%(entry)s”"),
        "outcome": _("%(other)s recorded an outcome for “%(entry)s”"),
        "contact": _("%(other)s agreed to exchange contacts about “%(entry)s”"),
    }
    subject = subjects[event] % {"other": other.name, "entry": context["entry"]}
    body = render_to_string("exchange/mail/conversation.txt", context)
    for address in addresses:
        send_mail(subject, body, None, [address])


# --- Opening a conversation ---------------------------------------------------------------------------------


def _open(
    *,
    actor: Any,
    demand: Entry,
    supplier: Organisation,
    capability: Entry | None,
    opened_by: str,
    body: str,
) -> Conversation:
    existing = Conversation.objects.filter(demand=demand, supplier=supplier).first()
    if existing is not None:
        raise ConversationExists(existing)
    _limit_new_conversation(demand.organisation if opened_by == Side.OWNER else supplier)
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                demand=demand, supplier=supplier, capability=capability, opened_by=opened_by, created_by=actor
            )
            Message.objects.create(conversation=conversation, author=actor, side=opened_by, body=body)
            audit_log(
                action="conversation_invite" if opened_by == Side.OWNER else "conversation_express_interest",
                actor=actor,
                conversation=conversation.code,
                entry=demand.code,
                supplier=supplier.code,
                capability=capability.code if capability else None,
            )
    except IntegrityError as exc:  # the other side opened it in the same instant
        raise ConversationExists(Conversation.objects.get(demand=demand, supplier=supplier)) from exc
    _notify(conversation, to_side=_other(opened_by), event="invite" if opened_by == Side.OWNER else "interest")
    return conversation


def conversation_invite(*, actor: Any, demand: Entry, capability: Entry, body: str = "") -> Conversation:
    """An editor or admin of the demand's owner invites the organisation of a capability on the demand's
    shortlist to respond. Both entries are published; the capability is another organisation's. ``body``:
    the first message (a standard invitation when empty). A second invitation to the same organisation about
    the same entry raises ``ConversationExists``, which names the conversation."""
    if demand.kind != Entry.Kind.DEMAND or capability.kind != Entry.Kind.CAPABILITY:
        raise ValidationError(_("An invitation goes from a demand entry to a capability entry."))
    require_role(organisation=demand.organisation, user=actor, roles=WRITERS)
    if capability.organisation_id == demand.organisation_id:
        raise ValidationError(_("This capability is your own organisation's: there is nobody to invite."))
    if not (is_open_entry(demand) and is_open_entry(capability)):
        raise Conflict(_("Only published entries take part in conversations."))
    if not Shortlist.objects.filter(demand=demand, capability=capability).exists():
        raise Conflict(_("Put the capability on the entry's shortlist before inviting its organisation."))
    supplier = capability.organisation
    if body.strip():
        text = clean_body(body, field="body", limit=BODY_MAX, empty="")
    else:
        text = _("%(owner)s invites %(supplier)s to respond about “%(entry)s”, given the capability “%(cap)s”.") % {
            "owner": demand.organisation.name,
            "supplier": supplier.name,
            "entry": demand.title or demand.code,
            "cap": capability.title or capability.code,
        }
    return _open(actor=actor, demand=demand, supplier=supplier, capability=capability, opened_by=Side.OWNER, body=text)


def conversation_express_interest(
    *, actor: Any, demand: Entry, supplier: Organisation, capability: Entry | None = None, body: str
) -> Conversation:
    """An editor or admin of a supplier organisation writes to the owner of a published demand entry,
    optionally naming one of its own published capability entries."""
    if demand.kind != Entry.Kind.DEMAND:
        raise ValidationError(_("Interest is expressed in a demand entry."))
    require_role(organisation=supplier, user=actor, roles=WRITERS)
    if supplier.pk == demand.organisation_id:
        raise ValidationError(_("This is your own organisation's entry."))
    if not is_open_entry(demand):
        raise Conflict(_("Only published entries take part in conversations."))
    if capability is not None and (
        capability.kind != Entry.Kind.CAPABILITY
        or capability.organisation_id != supplier.pk
        or not is_open_entry(capability)
    ):
        raise ValidationError({"capability": [_("Choose one of your organisation's published capability entries.")]})
    text = clean_body(body, field="body", limit=BODY_MAX, empty=_("Write what your organisation can bring."))
    return _open(
        actor=actor, demand=demand, supplier=supplier, capability=capability, opened_by=Side.SUPPLIER, body=text
    )


# --- In a conversation -------------------------------------------------------------------------------------


def message_send(*, conversation: Conversation, actor: Any, body: str) -> Message:
    """A message from one side to the other. The invited side's first reply moves "no reply" to "in
    discussion"."""
    access = _require_writer(conversation, actor)
    text = clean_body(body, field="body", limit=BODY_MAX, empty=_("Write the message."))
    _require_open(conversation)
    _limit(
        "conversation_message",
        actor.pk,
        settings.EXCHANGE_MESSAGES_PER_HOUR,
        3600,
        _("You have written many messages in the last hour; please wait a little."),
    )
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(conversation=conversation, author=actor, side=access.side, body=text)
        moved = 0
        if access.side != conversation.opened_by:
            moved = Conversation.objects.filter(pk=conversation.pk, outcome=Outcome.NO_REPLY).update(
                outcome=Outcome.IN_DISCUSSION, outcome_at=now, updated_at=now
            )
        if not moved:
            Conversation.objects.filter(pk=conversation.pk).update(updated_at=now)
        audit_log(action="message_send", actor=actor, conversation=conversation.code, side=access.side)
    _notify(conversation, to_side=_other(access.side), event="message")
    return message


def conversation_outcome_set(*, conversation: Conversation, actor: Any, outcome: str) -> Conversation:
    """The demand's owner records declined, in discussion or agreed to pilot; the supplier may decline."""
    if outcome not in Outcome.values or outcome == Outcome.NO_REPLY:
        raise ValidationError({"outcome": [_("Choose declined, in discussion or agreed to pilot.")]})
    access = _require_writer(conversation, actor)
    if outcome not in OUTCOMES_BY_SIDE[access.side]:
        raise PermissionDenied(_("Only the demand's owner records this outcome; a supplier may decline."))
    now = timezone.now()
    with transaction.atomic():
        changed = (
            Conversation.objects.filter(pk=conversation.pk)
            .exclude(outcome=outcome)
            .update(outcome=outcome, outcome_at=now, updated_at=now)
        )
        if not changed:
            raise Conflict(_("The conversation has this outcome already."))
        audit_log(
            action="conversation_outcome_set",
            actor=actor,
            conversation=conversation.code,
            before=conversation.outcome,
            after=outcome,
        )
    conversation.refresh_from_db()
    _notify(conversation, to_side=_other(access.side), event="outcome")
    return conversation


def contact_share(*, conversation: Conversation, actor: Any) -> Conversation:
    """A member of one side agrees to share her address with the other side. It is shown to the other side
    only once both sides have agreed; one person per side."""
    access = _require_writer(conversation, actor)
    field = "owner_contact" if access.side == Side.OWNER else "supplier_contact"
    with transaction.atomic():
        changed = Conversation.objects.filter(pk=conversation.pk, **{f"{field}__isnull": True}).update(
            **{field: actor, "updated_at": timezone.now()}
        )
        if not changed:
            raise Conflict(_("Someone of your organisation has agreed to share a contact already."))
        audit_log(action="contact_share", actor=actor, conversation=conversation.code, side=access.side)
    conversation.refresh_from_db()
    _notify(conversation, to_side=_other(access.side), event="contact")
    return conversation


@dataclass(frozen=True)
class Contacts:
    """What one side sees of the contact exchange."""

    mine: bool  # my side has agreed
    theirs: bool  # the other side has agreed
    address: str  # the other side's address: only once both have agreed


def contacts_for(*, conversation: Conversation, side: str) -> Contacts:
    mine_user = conversation.owner_contact if side == Side.OWNER else conversation.supplier_contact
    theirs_user = conversation.supplier_contact if side == Side.OWNER else conversation.owner_contact
    both = mine_user is not None and theirs_user is not None
    address = theirs_user.email if both and theirs_user is not None else ""
    return Contacts(mine=mine_user is not None, theirs=theirs_user is not None, address=address)


# --- Abuse reports -------------------------------------------------------------------------------------------


def abuse_report_create(
    *, conversation: Conversation, actor: Any, reason: str, message: Message | None = None
) -> AbuseReport:
    """A member of either organisation reports the conversation, or one message in it, to the curators."""
    access = access_of(conversation=conversation, user=actor)
    if access is None or not access.member:
        raise PermissionDenied(_("Only the two organisations report a conversation."))
    if message is not None and message.conversation_id != conversation.pk:
        raise ValidationError({"message": [_("This message is not in the conversation.")]})
    text = clean_body(reason, field="reason", limit=REASON_MAX, empty=_("Say what is wrong."))
    _limit(
        "abuse_report",
        actor.pk,
        settings.EXCHANGE_REPORTS_PER_DAY,
        24 * 3600,
        _("You have sent many reports today; the curators are looking at them."),
    )
    with transaction.atomic():
        report = AbuseReport.objects.create(conversation=conversation, message=message, reporter=actor, reason=text)
        audit_log(
            action="abuse_report_create",
            actor=actor,
            conversation=conversation.code,
            report=report.pk,
            message=message.pk if message else None,
        )
    return report


def abuse_report_decide(*, report: AbuseReport, actor: Any, uphold: bool, note: str = "") -> AbuseReport:
    """A curator upholds a report (the conversation is closed to new messages) or dismisses it, with a note."""
    if not is_curator(actor):
        raise PermissionDenied(_("Only curators decide reports."))
    text = clean_text(note)
    if text:
        text = clean_body(text, field="note", limit=REASON_MAX, empty="")
    status = AbuseReport.Status.UPHELD if uphold else AbuseReport.Status.DISMISSED
    with transaction.atomic():
        changed = AbuseReport.objects.filter(pk=report.pk, status=AbuseReport.Status.OPEN).update(
            status=status, decision_note=text, decided_by=actor, decided_at=timezone.now()
        )
        if not changed:
            raise Conflict(_("This report has been decided already."))
        audit_log(
            action="abuse_report_decide",
            actor=actor,
            report=report.pk,
            conversation=report.conversation.code,
            status=status,
        )
    report.refresh_from_db()
    return report


# --- Reads -------------------------------------------------------------------------------------------------------


def _with_facts(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    upheld = AbuseReport.objects.filter(conversation=OuterRef("pk"), status=AbuseReport.Status.UPHELD)
    return conversations.select_related("demand__organisation", "supplier", "capability").annotate(
        message_count=Count("messages", distinct=True),
        last_message_at=Max("messages__created_at"),
        closed=Exists(upheld),
    )


def conversation_list_for_user(*, user: Any) -> QuerySet[Conversation]:
    """The conversations of the user's organisations, on both sides, the latest first."""
    mine = Membership.objects.filter(user=user).values("organisation_id")
    visible = Conversation.objects.filter(Q(demand__organisation_id__in=mine) | Q(supplier_id__in=mine))
    return _with_facts(visible).order_by("-updated_at", "pk")


def conversation_get_for_user(*, code: str, user: Any) -> tuple[Conversation, Access]:
    """The conversation with ``code`` and the user's place in it; 404 for anyone who is not a party (nor a
    curator of a reported conversation): the product does not admit it exists."""
    conversation = (
        Conversation.objects.filter(code=code)
        .select_related("demand__organisation", "supplier", "capability", "owner_contact", "supplier_contact")
        .first()
    )
    if conversation is None:
        raise Http404("No such conversation")
    access = access_of(conversation=conversation, user=user)
    if access is None:
        raise Http404("No such conversation")
    return conversation, access


def conversation_messages(*, conversation: Conversation) -> list[Message]:
    return list(conversation.messages.order_by("created_at", "pk"))


def conversation_reports(*, conversation: Conversation) -> list[AbuseReport]:
    return list(conversation.abuse_reports.order_by("-created_at", "pk"))


def conversation_for_entries(*, demand: Entry, supplier: Organisation) -> Conversation | None:
    return Conversation.objects.filter(demand=demand, supplier=supplier).first()


def abuse_report_queue(*, status: str = AbuseReport.Status.OPEN) -> QuerySet[AbuseReport]:
    """The curators' queue: reports in ``status``, oldest first, with the reported message and its
    conversation."""
    return (
        AbuseReport.objects.filter(status=status)
        .select_related("conversation__demand__organisation", "conversation__supplier", "message")
        .order_by("created_at", "pk")
    )


def abuse_report_get(*, pk: int) -> AbuseReport:
    report = AbuseReport.objects.filter(pk=pk).select_related("conversation__demand__organisation").first()
    if report is None:
        raise Http404("No such report")
    return report


def interest_options(*, demand: Entry, user: Any) -> list[dict[str, Any]]:
    """For the "express interest" form on a demand entry's page: the user's organisations where she writes
    (not the owner), each with its published capability entries and its conversation about the entry, if
    any. Empty for anyone else, and for an entry that takes no conversation."""
    if demand.kind != Entry.Kind.DEMAND or not getattr(user, "is_authenticated", False):
        return []
    if not is_open_entry(demand):
        return []
    organisations = list(
        Organisation.objects.filter(memberships__user=user, memberships__role__in=WRITERS)
        .exclude(pk=demand.organisation_id)
        .order_by("code")
    )
    if not organisations:
        return []
    capabilities = Entry.objects.filter(
        organisation__in=organisations, kind=Entry.Kind.CAPABILITY, status=Entry.Status.PUBLISHED
    ).order_by("code")
    talking = {c.supplier_id: c for c in Conversation.objects.filter(demand_id=demand.pk, supplier__in=organisations)}
    by_org: dict[int, list[Entry]] = {}
    for capability in capabilities:
        by_org.setdefault(capability.organisation_id, []).append(capability)
    return [
        {"organisation": o, "capabilities": by_org.get(o.pk, []), "conversation": talking.get(o.pk)}
        for o in organisations
    ]
