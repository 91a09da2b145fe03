"""Pilots: a published demand entry that goes ahead, with the organisations involved, its site and its stage.

The course of a pilot::

    opened ──▶ pilot ──▶ demonstration ──▶ scaling ──▶ mainstream      (forward only; a stage may be skipped)
       └──────────┴────────────┴──────────────┴──▶ stopped (with a reason)

Every stage change is dated and carries evidence (a report or a link: a URL; a figure: sites or users
reached). A change is *claimed* by an editor or admin of a participating organisation and counts publicly
only once a curator (``scenarios.verify_pilot``) has verified its evidence: ``Pilot.stage`` is the latest
claim, ``Pilot.verified_stage`` the furthest verified stage (``stopped`` once a stop is verified), blank
until the opening is verified — and a pilot with a blank ``verified_stage`` is nobody's business but its
organisations' and the curators' (undisclosed negotiations stay undisclosed).

Verifying and rejecting are conditional updates of a pending change (a second curator's click is a
``Conflict``, nothing changes twice). Every write is audited; the participants are e-mailed when evidence
is verified or rejected. Stale pilots (no update for ``PILOT_STALE_DAYS``) are reminded by
``pilots_remind_stale`` (Celery beat), at most once per period.
Refusals change nothing: ``PermissionDenied`` (403), ``ValidationError`` (400) or ``Conflict`` (409).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from foresight.core.audit import audit_log
from foresight.core.errors import Conflict
from foresight.core.ratelimit import rate_limited
from foresight.core.text import clean_text
from scenarios.exchange.entries import WRITERS, _contact_problems
from scenarios.models import Conversation, Entry, Membership, Organisation, Pilot, PilotOrganisation, PilotStageChange

VERIFY_PERMISSION = "scenarios.verify_pilot"
Stage = Pilot.Stage
Evidence = PilotStageChange.Evidence
ChangeStatus = PilotStageChange.Status
STAGE_ORDER: tuple[str, ...] = Pilot.STAGE_ORDER
# No stage follows these: a stopped pilot is over, a mainstream one has arrived.
FINAL = (Stage.STOPPED, Stage.MAINSTREAM)
MAX_SUPPLIERS = 10
MAX_FIGURE = 1_000_000_000
# No stage is dated earlier: a typo such as year 1 or 0202 would otherwise stretch the public pipeline's
# chart over centuries (it shows every period from the first).
EARLIEST_DATE = dt.date(2000, 1, 1)


def stage_rank(stage: str) -> int:
    """The place of a stage in ``STAGE_ORDER`` (stopped: -1, it is not on the way)."""
    return STAGE_ORDER.index(stage) if stage in STAGE_ORDER else -1


def is_verifier(user: Any) -> bool:
    return bool(
        getattr(user, "is_active", False) and getattr(user, "is_staff", False) and user.has_perm(VERIFY_PERMISSION)
    )


def participant_role(*, pilot: Pilot, user: Any) -> str | None:
    """The user's membership role in any organisation taking part in the pilot (the strongest), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    roles = set(
        Membership.objects.filter(
            user=user, organisation_id__in=PilotOrganisation.objects.filter(pilot=pilot).values("organisation_id")
        ).values_list("role", flat=True)
    )
    for role in (Membership.Role.ADMIN, Membership.Role.EDITOR, Membership.Role.VIEWER):
        if role in roles:
            return str(role)
    return None


def can_read(*, pilot: Pilot, user: Any) -> bool:
    """The participating organisations' members and the curators see a pilot's page (every claim)."""
    return is_verifier(user) or participant_role(pilot=pilot, user=user) is not None


def pilot_abilities(*, pilot: Pilot, user: Any) -> dict[str, bool]:
    role = participant_role(pilot=pilot, user=user)
    return {
        "participant": role is not None,
        "writer": role in WRITERS,
        "verifier": is_verifier(user),
        "can_add_stage": role in WRITERS and pilot.stage not in FINAL,
    }


def can_open(*, demand: Entry, user: Any) -> bool:
    """An editor or admin of a published demand entry's owner may open a pilot on it."""
    if demand.kind != Entry.Kind.DEMAND or demand.status != Entry.Status.PUBLISHED:
        return False
    return _writes_for(organisation_id=demand.organisation_id, user=user)


def _writes_for(*, organisation_id: int, user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Membership.objects.filter(organisation_id=organisation_id, user=user, role__in=WRITERS).exists()


# --- Evidence ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceIn:
    """The evidence of a stage change as a person gives it (validated by :func:`_evidence`)."""

    kind: str
    url: str = ""
    title: str = ""
    note_en: str = ""
    note_zh: str = ""
    sites_reached: int | None = None
    users_reached: int | None = None


def plain_text(value: object) -> str:
    """Typed text as a pilot stores it (it is published in pages, CSV and JSON): NUL and the other control
    characters removed — an escape sequence would reach the terminal of whoever reads the CSV — line breaks
    and tabs kept, Windows line ends made plain, surrounding whitespace stripped."""
    text = clean_text(value).replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc").strip()


def _is_web_link(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and len(url) <= 500


def _evidence(evidence: EvidenceIn) -> dict[str, Any]:
    """The stage change's evidence fields, or a ``ValidationError`` naming each problem: a report or a link
    needs a web address; a figure needs the sites or the users reached (whole numbers)."""
    errors: dict[str, list[str]] = {}
    if evidence.kind not in Evidence.values:
        raise ValidationError({"evidence_kind": [_("Choose a report, a link or a figure.")]})
    url = (evidence.url or "").strip()
    if url and not _is_web_link(url):
        errors["evidence_url"] = [_("Not a web link: %(url)s") % {"url": url[:80]}]
    elif evidence.kind in (Evidence.REPORT, Evidence.LINK) and not url:
        errors["evidence_url"] = [_("A report or a link needs its web address.")]
    figures = {"sites_reached": evidence.sites_reached, "users_reached": evidence.users_reached}
    for name, value in figures.items():
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FIGURE
        ):
            errors[name] = [_("A whole number from 0 to 1,000,000,000.")]
    if evidence.kind == Evidence.FIGURE and all(v is None for v in figures.values()):
        errors["sites_reached"] = [_("A figure needs the number of sites or of users reached.")]
    values: dict[str, Any] = {
        "evidence_kind": evidence.kind,
        "evidence_url": url,
        "evidence_title": plain_text(evidence.title)[:300],
        "note_en": plain_text(evidence.note_en),
        "note_zh": plain_text(evidence.note_zh),
        **figures,
    }
    for name in ("note_en", "note_zh"):
        if len(values[name]) > 2000:
            errors[name] = [_("Keep the note under 2,000 characters.")]
    # Contact goes through the exchange: the notes are shown publicly once verified.
    contact = _contact_problems({"title_en": values["evidence_title"], "needs_en": values["note_en"]})
    contact |= _contact_problems({"needs_zh": values["note_zh"]})
    for field, messages in contact.items():
        target = {"title_en": "evidence_title", "needs_en": "note_en", "needs_zh": "note_zh"}[field]
        errors[target] = messages
    if errors:
        raise ValidationError(errors)
    return values


def _check_date(on: Any, *, after: dt.date | None) -> dt.date:
    if not isinstance(on, dt.date) or isinstance(on, dt.datetime):
        raise ValidationError({"on": [_("Give the date the stage was reached.")]})
    if on > timezone.localdate():
        raise ValidationError({"on": [_("The date is in the future: record a stage once it is reached.")]})
    if on < EARLIEST_DATE:
        raise ValidationError(
            {"on": [_("The date is too far back: give a date from %(date)s on.") % {"date": EARLIEST_DATE.isoformat()}]}
        )
    if after is not None and on < after:
        raise ValidationError(
            {"on": [_("The date is before the previous stage's (%(date)s).") % {"date": after.isoformat()}]}
        )
    return on


def _text_pair(en: str, zh: str, *, field: str, limit: int) -> tuple[str, str]:
    en, zh = plain_text(en), plain_text(zh)
    if len(en) > limit or len(zh) > limit:
        raise ValidationError({field: [_("At most %(n)s characters.") % {"n": limit}]})
    return en, zh


# --- Opening ----------------------------------------------------------------------------------------------------


@transaction.atomic
def pilot_open(
    *,
    actor: Any,
    demand: Entry,
    site_en: str = "",
    site_zh: str = "",
    region_en: str = "",
    region_zh: str = "",
    suppliers: Sequence[tuple[Organisation, Entry | None]] = (),
    conversation: Conversation | None = None,
    on: dt.date,
    evidence: EvidenceIn,
) -> Pilot:
    """Open a pilot on a published demand entry.

    1. The actor is an editor or admin of the demand's owner (403), the entry a published demand (409).
    2. The owner takes part as owner; the suppliers are those named, plus the supplier of ``conversation``
       (which must be about this demand and have the outcome "agreed") with its capability entry.
    3. A supplier's capability entry, when named, is a published capability entry of that supplier.
    4. The first stage change is "opened" with its evidence, pending a curator's verification: until then
       the pilot is not public.
    """
    if not _writes_for(organisation_id=demand.organisation_id, user=actor):
        raise PermissionDenied(_("Only the demand owner's editors and admins open a pilot on it."))
    if demand.kind != Entry.Kind.DEMAND or demand.status != Entry.Status.PUBLISHED:
        raise Conflict(_("A pilot is opened on a published demand entry."))
    site = _text_pair(site_en, site_zh, field="site_en", limit=300)
    region = _text_pair(region_en, region_zh, field="region_en", limit=200)
    if not (site[0] or site[1]):
        raise ValidationError({"site_en": [_("Name the site of the pilot.")]})
    contact = _contact_problems({"title_en": site[0], "title_zh": site[1]})
    if contact:
        raise ValidationError({"site_en": next(iter(contact.values()))})
    chosen: dict[int, tuple[Organisation, Entry | None]] = {}
    if conversation is not None:
        if conversation.demand_id != demand.pk:
            raise ValidationError({"conversation": [_("That conversation is about another demand entry.")]})
        if conversation.outcome != Conversation.Outcome.AGREED:
            raise Conflict(_("A conversation leads to a pilot once both sides have agreed to it."))
        chosen[conversation.supplier_id] = (conversation.supplier, conversation.capability)
    for organisation, capability in suppliers:
        if organisation.pk == demand.organisation_id:
            raise ValidationError({"suppliers": [_("The owner takes part already; name the suppliers.")]})
        if capability is not None and (
            capability.kind != Entry.Kind.CAPABILITY
            or capability.organisation_id != organisation.pk
            or capability.status != Entry.Status.PUBLISHED
        ):
            raise ValidationError(
                {"suppliers": [_("A supplier's capability must be its own published capability entry.")]}
            )
        chosen[organisation.pk] = (organisation, capability or chosen.get(organisation.pk, (None, None))[1])
    if len(chosen) > MAX_SUPPLIERS:
        raise ValidationError({"suppliers": [_("At most %(n)s suppliers.") % {"n": MAX_SUPPLIERS}]})
    fields = _evidence(evidence)
    day = _check_date(on, after=None)
    # One pilot under way per demand and site: a second click on "Open" (or a second tab) finds the first.
    Entry.objects.select_for_update().filter(pk=demand.pk).exists()
    same_site = Q(site_en__iexact=site[0]) if site[0] else Q()
    if site[1]:
        same_site |= Q(site_zh=site[1])
    twin = Pilot.objects.filter(same_site, demand=demand).exclude(stage=Stage.STOPPED).order_by("pk").first()
    if twin is not None:
        raise Conflict(
            _("This entry has a pilot at this site already (%(code)s): record its stages there.") % {"code": twin.code}
        )
    if rate_limited(
        scope="exchange:pilot_open",
        key=str(demand.organisation_id),
        limit=settings.EXCHANGE_PILOTS_PER_DAY,
        window_seconds=24 * 3600,
    ):
        raise Conflict(_("Your organisation has opened many pilots today; please try again tomorrow."))
    now = timezone.now()
    pilot = Pilot(
        demand=demand,
        conversation=conversation,
        site_en=site[0],
        site_zh=site[1],
        region_en=region[0],
        region_zh=region[1],
        stage=Stage.OPENED,
        created_by=actor,
        last_update_at=now,
    )
    pilot.full_clean(exclude=["code", "demand", "conversation"])
    pilot.save()
    PilotOrganisation.objects.create(pilot=pilot, organisation_id=demand.organisation_id, role="owner")
    PilotOrganisation.objects.bulk_create(
        PilotOrganisation(pilot=pilot, organisation=org, role="supplier", capability=capability)
        for org, capability in chosen.values()
    )
    change = PilotStageChange(pilot=pilot, stage=Stage.OPENED, on=day, submitted_by=actor, **fields)
    change.full_clean(exclude=["pilot"])
    change.save()
    audit_log(
        action="pilot_open",
        actor=actor,
        pilot=pilot.code,
        entry=demand.code,
        suppliers=sorted(org.code for org, _cap in chosen.values()),
        conversation=conversation.pk if conversation else None,
    )
    return pilot


# --- Stage changes ----------------------------------------------------------------------------------------------


def _live_changes(pilot: Pilot) -> list[PilotStageChange]:
    """The pilot's stage changes that were not rejected, in the order they were reached."""
    return list(pilot.stage_changes.exclude(status=ChangeStatus.REJECTED).order_by("on", "submitted_at", "pk"))


def _claimed_stage(live: Iterable[PilotStageChange]) -> str:
    """The stage the live claims put the pilot at: stopped if one says so, else the furthest one."""
    stages = [c.stage for c in live]
    if Stage.STOPPED in stages:
        return str(Stage.STOPPED)
    return max(stages, key=stage_rank, default="")


def next_stages(*, pilot: Pilot) -> list[str]:
    """The stages the next change may claim (for the form; the service checks again)."""
    current = _claimed_stage(_live_changes(pilot))
    if not current:
        return [str(Stage.OPENED)]
    if current in FINAL:
        return []
    return [s for s in STAGE_ORDER if stage_rank(s) > stage_rank(current)] + [str(Stage.STOPPED)]


@transaction.atomic
def pilot_stage_add(
    *,
    actor: Any,
    pilot: Pilot,
    stage: str,
    on: dt.date,
    evidence: EvidenceIn,
    stop_reason_en: str = "",
    stop_reason_zh: str = "",
) -> PilotStageChange:
    """An editor or admin of a participating organisation records the stage the pilot reached.

    Only forward in ``STAGE_ORDER`` from the latest claim that was not rejected (or "stopped", with its
    reason; nothing follows a stop or mainstream), dated no earlier than that claim and not in the future,
    with evidence. The change waits for a curator's verification; ``stage`` and ``last_update_at`` move now.
    """
    if participant_role(pilot=pilot, user=actor) not in WRITERS:
        raise PermissionDenied(_("Only the editors and admins of the pilot's organisations record its stages."))
    locked = Pilot.objects.select_for_update().get(pk=pilot.pk)
    if stage not in Stage.values:
        raise ValidationError({"stage": [_("Unknown stage: %(value)s.") % {"value": str(stage)[:40]}]})
    live = _live_changes(locked)
    allowed = next_stages(pilot=locked)
    if not allowed:
        raise Conflict(_("This pilot is %(stage)s: no stage follows.") % {"stage": locked.get_stage_display().lower()})
    if stage not in allowed:
        raise ValidationError(
            {
                "stage": [
                    _("A pilot moves forward only: the next stage is one of %(stages)s.")
                    % {"stages": ", ".join(str(Stage(s).label).lower() for s in allowed)}
                ]
            }
        )
    reason = _text_pair(stop_reason_en, stop_reason_zh, field="stop_reason_en", limit=2000)
    if stage == Stage.STOPPED and not (reason[0] or reason[1]):
        raise ValidationError({"stop_reason_en": [_("Say why the pilot stopped.")]})
    if stage != Stage.STOPPED and (reason[0] or reason[1]):
        raise ValidationError({"stop_reason_en": [_("A reason is given only when the pilot stops.")]})
    fields = _evidence(evidence)
    day = _check_date(on, after=max((c.on for c in live), default=None))
    change = PilotStageChange(pilot=locked, stage=stage, on=day, submitted_by=actor, **fields)
    change.full_clean(exclude=["pilot"])
    change.save()
    locked.stage = stage
    locked.last_update_at = timezone.now()
    update = ["stage", "last_update_at"]
    if stage == Stage.STOPPED:
        locked.stop_reason_en, locked.stop_reason_zh = reason
        update += ["stop_reason_en", "stop_reason_zh"]
    locked.save(update_fields=update)
    audit_log(action="pilot_stage_add", actor=actor, pilot=locked.code, stage=stage, on=day.isoformat())
    return change


def _verified_stage(pilot: Pilot) -> str:
    """The furthest verified stage (``stopped`` once a stop is verified); blank until the opening is."""
    verified = list(pilot.stage_changes.filter(status=ChangeStatus.VERIFIED).values_list("stage", flat=True))
    if Stage.OPENED not in verified:
        return ""
    if Stage.STOPPED in verified:
        return str(Stage.STOPPED)
    return max(verified, key=stage_rank)


def _decide(change: PilotStageChange, *, actor: Any, to: str, reason: str = "") -> PilotStageChange:
    """Move a pending change to verified or rejected with a conditional update (one row, or ``Conflict``),
    then bring the pilot's stages up to date (its ``save`` makes the public pages' cache stale)."""
    if not is_verifier(actor):
        raise PermissionDenied(_("Only curators verify the evidence of pilots."))
    now = timezone.now()
    with transaction.atomic():
        pilot = Pilot.objects.select_for_update().get(pk=change.pilot_id)
        if to == ChangeStatus.VERIFIED and change.stage != Stage.OPENED:
            if not pilot.stage_changes.filter(stage=Stage.OPENED, status=ChangeStatus.VERIFIED).exists():
                raise Conflict(_("Verify the pilot's opening first: until then the pilot is not public."))
        moved = PilotStageChange.objects.filter(pk=change.pk, status=ChangeStatus.PENDING).update(
            status=to, verified_by=actor, verified_at=now, rejection_reason=reason
        )
        if moved != 1:
            raise Conflict(_("This evidence has been decided already."))
        pilot.verified_stage = _verified_stage(pilot)
        update = ["verified_stage"]
        if to == ChangeStatus.REJECTED:
            # The claim no longer stands: the pilot is at the stage its other claims put it at.
            pilot.stage = _claimed_stage(_live_changes(pilot)) or Stage.OPENED
            update.append("stage")
            if pilot.stage != Stage.STOPPED:
                pilot.stop_reason_en = pilot.stop_reason_zh = ""
                update += ["stop_reason_en", "stop_reason_zh"]
        pilot.save(update_fields=update)
        audit_log(
            action="pilot_stage_verify" if to == ChangeStatus.VERIFIED else "pilot_stage_reject",
            actor=actor,
            pilot=pilot.code,
            stage=change.stage,
            change=change.pk,
            verified_stage=pilot.verified_stage,
            **({"reason": reason} if reason else {}),
        )
        decided = PilotStageChange.objects.select_related("pilot").get(pk=change.pk)
        transaction.on_commit(lambda: _mail_decision(decided))
    return decided


def pilot_stage_verify(*, actor: Any, change: PilotStageChange) -> PilotStageChange:
    """A curator verifies a pending change's evidence: it counts publicly from now on."""
    return _decide(change, actor=actor, to=ChangeStatus.VERIFIED)


def pilot_stage_reject(*, actor: Any, change: PilotStageChange, reason: str) -> PilotStageChange:
    """A curator does not accept a pending change's evidence, and says why; the claim no longer stands."""
    text = plain_text(reason)
    if not text:
        raise ValidationError({"reason": [_("Tell the pilot's organisations the reason.")]})
    if len(text) > 2000:
        raise ValidationError({"reason": [_("Keep the reason under 2,000 characters.")]})
    return _decide(change, actor=actor, to=ChangeStatus.REJECTED, reason=text)


# --- Mail -------------------------------------------------------------------------------------------------------


def _writer_addresses(pilot: Pilot) -> list[str]:
    """The addresses of the editors and admins of the pilot's organisations (each sent a mail of its own:
    nobody sees another's address)."""
    users = get_user_model().objects.filter(
        is_active=True,
        memberships__role__in=WRITERS,
        memberships__organisation_id__in=PilotOrganisation.objects.filter(pilot=pilot).values("organisation_id"),
    )
    return sorted({u.email for u in users if u.email})


def _send_each(pilot: Pilot, subject: str, template: str, context: dict[str, Any]) -> int:
    link = settings.SITE_URL + reverse("exchange:pilot", kwargs={"code": pilot.code})
    body = render_to_string(template, {**context, "pilot": pilot, "link": link})
    sent = 0
    for address in _writer_addresses(pilot):
        sent += send_mail(subject, body, None, [address])
    return sent


def _mail_decision(change: PilotStageChange) -> None:
    pilot = change.pilot
    with translation.override(settings.LANGUAGE_CODE):
        verified = change.status == ChangeStatus.VERIFIED
        subject = (
            _("Pilot %(code)s: the evidence of “%(stage)s” is verified")
            if verified
            else _("Pilot %(code)s: the evidence of “%(stage)s” was not accepted")
        ) % {"code": pilot.code, "stage": change.get_stage_display()}
        _send_each(pilot, subject, "exchange/mail/pilot_decision.txt", {"change": change, "verified": verified})


# --- Staleness --------------------------------------------------------------------------------------------------


def stale_before() -> dt.datetime:
    return timezone.now() - dt.timedelta(days=settings.PILOT_STALE_DAYS)


def pilots_stale_q(*, before: dt.datetime) -> Q:
    """Pilots still under way whose organisations sent nothing since ``before``."""
    return Q(last_update_at__lt=before) & ~Q(stage__in=FINAL)


def pilot_remind(*, pilot_id: int) -> bool:
    """Remind a stale pilot's organisations, at most once per period: the reminder is claimed by a
    conditional update of ``last_reminded_at`` (a second run in the period changes nothing and sends
    nothing). True if this call sent it."""
    before = stale_before()
    claimed = (
        Pilot.objects.filter(pilots_stale_q(before=before), pk=pilot_id)
        .filter(Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lt=before))
        .update(last_reminded_at=timezone.now())
    )
    if claimed != 1:
        return False
    pilot = Pilot.objects.select_related("demand").get(pk=pilot_id)
    audit_log(action="pilot_remind", pilot=pilot.code)
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Pilot %(code)s: how is it going?") % {"code": pilot.code}
        _send_each(pilot, subject, "exchange/mail/pilot_stale.txt", {"days": settings.PILOT_STALE_DAYS})
    return True


def pilots_remind_stale() -> int:
    """Remind every stale pilot not reminded within the period (the beat job); returns how many were."""
    before = stale_before()
    ids = list(
        Pilot.objects.filter(pilots_stale_q(before=before))
        .filter(Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lt=before))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(pilot_remind(pilot_id=pk) for pk in ids)
