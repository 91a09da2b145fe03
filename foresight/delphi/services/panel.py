"""Panels: experts, study membership under a pseudonym, CSV import, consent, topic choice, magic links."""

from __future__ import annotations

import csv
import hashlib
import io
import math
import secrets
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, gettext_lazy

from foresight.catalog.models import Area, Topic
from foresight.core import queue
from foresight.core.audit import audit_log
from foresight.core.errors import Conflict
from foresight.core.text import clean_text, is_ascii_digits
from foresight.delphi.models import (
    Expert,
    Invitation,
    Participant,
    Question,
    Response,
    Round,
    RoundCompletion,
    Study,
    validate_time_zone,
)
from foresight.delphi.services.rounds import round_answers_lock_shared

INVITATION_DAYS = 30
CSV_COLUMNS = ["email", "name", "sector", "country", "organisation", "areas"]
# Optional columns: the language and time zone of the expert's e-mails (empty: the site's).
CSV_OPTIONAL_COLUMNS = ["language", "timezone"]
LANGUAGE_ALIASES = {"zh": "zh-hans", "zh-cn": "zh-hans", "zh-sg": "zh-hans", "en-gb": "en", "en-us": "en"}
MAX_CSV_BYTES = 2_000_000


def _pseudonym() -> str:
    return "P-" + secrets.token_hex(4).upper()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def participant_add(*, study: Study, expert: Expert) -> Participant:
    """Put an expert on a study's panel under a fresh pseudonym (idempotent)."""
    existing = Participant.objects.filter(study=study, expert=expert).first()
    if existing is not None:
        return existing
    for _ in range(5):
        pseudonym = _pseudonym()
        if not Participant.objects.filter(study=study, pseudonym=pseudonym).exists():
            break
    participant = Participant.objects.create(study=study, expert=expert, pseudonym=pseudonym)
    areas = list(expert.areas.all())
    if areas:
        participant.areas.set(areas)
    return participant


@dataclass
class ImportReport:
    created: int = 0
    existing: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _clean_cell(value: str | None) -> str:
    text = clean_text(value)
    # A cell that a spreadsheet would run as a formula is refused rather than stored.
    if text[:1] in ("=", "+", "-", "@") and not is_ascii_digits(text[1:].replace(".", "")):
        raise ValueError("looks like a spreadsheet formula")
    return text


def panel_import_csv(*, study: Study, data: bytes, actor: Any = None) -> ImportReport:
    """Import a panel from CSV (columns: email,name,sector,country,organisation,areas with areas ``;``-separated slugs;
    optional: language (en, zh-hans) and timezone (an IANA name), for the expert's e-mails).

    All or nothing: with any bad row nothing is stored, and the report lists every bad row.
    """
    report = ImportReport()
    if len(data) > MAX_CSV_BYTES:
        report.errors.append((0, f"The file is larger than {MAX_CSV_BYTES // 1_000_000} MB."))
        return report
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.errors.append((0, "The file is not UTF-8 text; save it as “CSV UTF-8”."))
        return report
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("email", "name", "sector") if c not in header]
    if missing:
        report.errors.append((1, f"Missing column(s): {', '.join(missing)}. Expected: {','.join(CSV_COLUMNS)}"))
        return report
    reader.fieldnames = header
    areas = {a.slug: a for a in Area.objects.all()}
    sectors = set(Expert.Sector.values)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        try:
            cells = {k: _clean_cell(v if isinstance(v, str) else None) for k, v in row.items() if k}
        except ValueError as exc:
            report.errors.append((line, f"a cell {exc}"))
            continue
        email = cells.get("email", "").lower()
        try:
            validate_email(email)
        except ValidationError:
            report.errors.append((line, f"invalid e-mail address {email!r}"))
            continue
        if email in seen:
            report.errors.append((line, f"{email} appears twice"))
            continue
        seen.add(email)
        if not cells.get("name") or len(cells["name"]) > 200:
            report.errors.append((line, "a name of 1–200 characters is required"))
            continue
        sector = cells.get("sector", "").lower().replace(" ", "_")
        if sector not in sectors:
            report.errors.append((line, f"sector must be one of {', '.join(sorted(sectors))}"))
            continue
        country = cells.get("country", "").upper()
        if country and (len(country) != 2 or not country.isalpha()):
            report.errors.append((line, "country must be a two-letter code such as CN or DE"))
            continue
        language = cells.get("language", "").lower().replace("_", "-")
        language = LANGUAGE_ALIASES.get(language, language)
        if language and language not in {code for code, _ in settings.LANGUAGES}:
            report.errors.append((line, f"language must be one of {', '.join(c for c, _ in settings.LANGUAGES)}"))
            continue
        zone = cells.get("timezone", "")
        try:
            validate_time_zone(zone)
        except ValidationError:
            report.errors.append((line, f"unknown time zone {zone!r}; use a name such as Europe/Berlin"))
            continue
        slugs = [s.strip() for s in cells.get("areas", "").split(";") if s.strip()]
        unknown = [s for s in slugs if s not in areas]
        if unknown:
            report.errors.append((line, f"unknown area(s): {', '.join(unknown)}"))
            continue
        rows.append(
            {
                "email": email,
                "name": cells["name"],
                "sector": sector,
                "country": country,
                "organisation": cells.get("organisation", "")[:300],
                "language": language,
                "timezone": zone,
                "areas": [areas[s] for s in slugs],
            }
        )
    if report.errors:
        return report
    if not rows:
        report.errors.append((0, "The file has no rows."))
        return report
    with transaction.atomic():
        for row in rows:
            expert, created = Expert.objects.get_or_create(
                email=row["email"],
                defaults={k: row[k] for k in ("name", "sector", "country", "organisation", "language", "timezone")},
            )
            if created:
                expert.areas.set(row["areas"])
                report.created += 1
            else:
                report.existing += 1
                # A language or time zone the file gives fills one the expert does not have yet.
                fill = {k: row[k] for k in ("language", "timezone") if row[k] and not getattr(expert, k)}
                if fill:
                    Expert.objects.filter(pk=expert.pk).update(**fill)
            participant_add(study=study, expert=expert)
        audit_log(action="panel_import", actor=actor, study=study, created=report.created, existing=report.existing)
    return report


def invitation_create(*, participant: Participant, kind: str = "invite", days: int = INVITATION_DAYS) -> str:
    """A new magic-link token (256 bits from the OS CSPRNG). Only its hash is stored; the token is returned once."""
    token = secrets.token_urlsafe(32)
    Invitation.objects.create(
        participant=participant,
        token_hash=token_hash(token),
        expires_at=timezone.now() + timedelta(days=days),
        kind=kind,
    )
    return token


LINK_INVALID = gettext_lazy("This link is not valid any more. You can ask for a new one on this page.")
# How long one question takes, for the time an e-mail says the questionnaire takes (rounded up per topic).
SECONDS_PER_QUESTION = 30
MAIL_KINDS = ("invite", "reminder", "reissue")


def expert_language(expert: Expert) -> str:
    """The language of her e-mails: her own if set, else the site's default."""
    codes = {code for code, _ in settings.LANGUAGES}
    return expert.language if expert.language in codes else settings.LANGUAGE_CODE


def expert_zone(expert: Expert) -> zoneinfo.ZoneInfo:
    """The time zone her e-mails state times in: her own if set and known, else the site's."""
    try:
        return zoneinfo.ZoneInfo(expert.timezone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def minutes_per_topic(study: Study) -> int:
    """The minutes one topic takes: its questions at ``SECONDS_PER_QUESTION`` each, at least one minute."""
    count = Question.objects.filter(study=study, applies_to=Question.AppliesTo.TOPIC).count()
    return max(1, math.ceil(count * SECONDS_PER_QUESTION / 60))


def consent_facts(*, participant: Participant) -> dict[str, Any]:
    """What the consent page tells an expert before she agrees: the time it takes, the rounds, who runs the
    study and whom to write to, and the smallest group any published figure describes."""
    study = participant.study
    topics = participant.topics.count() or study.topics.count()
    per_topic = minutes_per_topic(study)
    return {
        "rounds": 1 if study.mode == Study.Mode.REALTIME else study.planned_rounds,
        "per_topic": per_topic,
        "topics": topics,
        "minutes": per_topic * topics,
        "organiser": study.organiser,
        "contact": study.contact_email or settings.DEFAULT_FROM_EMAIL,
        "smallest_group": study.disclosure_rules().t,
    }


def _mail_round(study: Study, kind: str) -> Round | None:
    """The round an e-mail is about: the open one, else the next that is scheduled (none for a draft)."""
    rounds = list(study.rounds.filter(status__in=(Round.Status.OPEN, Round.Status.SCHEDULED)).order_by("number"))
    return next((r for r in rounds if r.status == Round.Status.OPEN), rounds[0] if rounds else None)


def invitation_message(*, participant: Participant, link: str, kind: str = "invite") -> tuple[str, str]:
    """The subject and plain-text body of an invitation, reminder or new link, in the expert's language,
    with the round's closing time in her time zone, the time the questionnaire takes and the rounds."""
    study = participant.study
    expert = participant.expert
    zone = expert_zone(expert)
    with translation.override(expert_language(expert)):
        title = study.title
        rnd = _mail_round(study, kind)
        closes = None
        if rnd is not None and rnd.closes_at is not None:
            closes = formats.date_format(timezone.localtime(rnd.closes_at, zone), "DATETIME_FORMAT")
        round_topics = set(rnd.topics.values_list("pk", flat=True)) if rnd is not None else set()
        chosen = set(participant.topics.values_list("pk", flat=True))
        if round_topics and chosen:
            chosen &= round_topics
        context: dict[str, Any] = {
            "kind": kind,
            "name": expert.name,
            "title": title,
            "link": link,
            "days": INVITATION_DAYS,
            "round": rnd,
            "closes": closes,
            "zone": str(zone.key),
            "rounds": 1 if study.mode == Study.Mode.REALTIME else study.planned_rounds,
            "per_topic": minutes_per_topic(study),
            "my_topics": len(chosen),
            "all_topics": len(round_topics) or study.topics.count(),
        }
        context["total"] = context["per_topic"] * context["my_topics"]
        if kind == "reminder":
            subject = gettext("Reminder: your answers to “%(title)s” are still open") % {"title": title}
        elif kind == "reissue":
            subject = gettext("Your new link to the Delphi study “%(title)s”") % {"title": title}
        else:
            subject = gettext("Invitation to the Delphi study “%(title)s”") % {"title": title}
        body = render_to_string("delphi/email/invitation.txt", context)
    return subject, body


def invitation_send(*, participant: Participant, base_url: str, kind: str = "invite") -> None:
    """E-mail a fresh magic link through Django's mail API (run by a Celery task), in the expert's language."""
    token = invitation_create(participant=participant, kind=kind)
    study = participant.study
    with translation.override(expert_language(participant.expert)):  # the pages it opens speak her language too
        path = reverse("delphi:redeem", kwargs={"study_code": study.code})
    link = base_url.rstrip("/") + path + f"?t={token}"
    subject, body = invitation_message(participant=participant, link=link, kind=kind)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [participant.expert.email])
    Invitation.objects.filter(token_hash=token_hash(token)).update(sent_at=timezone.now())


def _usable(study_code: str, token: str) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        token_hash=token_hash(token),
        participant__study__code=study_code,
        used_at__isnull=True,
        expires_at__gt=timezone.now(),
    )


def invitation_check(*, study_code: str, token: str) -> bool:
    """Whether the link would open the study now, read only: nothing is written and the token stays
    usable (a mail scanner that opens every link in a message must not spend it)."""
    if not token or len(token) > 200:
        return False
    return _usable(study_code, token).exists()


def invitation_redeem(*, study_code: str, token: str) -> Participant:
    """Exchange a magic link for a participant, once. Wrong, used, expired or foreign tokens all get the same answer."""
    if not token or len(token) > 200:
        raise PermissionDenied(LINK_INVALID)
    with transaction.atomic():
        invitation = _usable(study_code, token).select_for_update().select_related("participant__study").first()
        if invitation is None:
            raise PermissionDenied(LINK_INVALID)
        invitation.used_at = timezone.now()
        invitation.save(update_fields=["used_at"])
        return invitation.participant


def reissue_email(value: str) -> str:
    """The address a request for a new link gives, normalised; ``ValidationError`` (400) if it is not one."""
    email = clean_text(value).strip().lower()
    try:
        if len(email) > 254:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": [gettext("Enter your e-mail address.")]}) from None
    return email


def invitation_reissue_request(*, study_code: str, email: str, base_url: str) -> None:
    """Ask for a new link to a study for this address. The request does the same work whether or not the
    address is on the study's panel (it queues one task); the task decides, so neither the answer nor its
    time tells anyone who is on a panel."""
    queue.send_on_commit("delphi.invitation_reissue", study_code, reissue_email(email), base_url)


def invitation_reissue(*, study_code: str, email: str, base_url: str) -> bool:
    """E-mail a new link to the panel member of this study with this address (not one who has left), audited.

    Her earlier unused links are left to expire: cancelling them would let anyone who knows her address
    spend the link she is about to use. Returns whether a link was sent."""
    participant = (
        Participant.objects.on_panel()
        .select_related("expert", "study")
        .filter(study__code=study_code, expert__email__iexact=email)
        .first()
    )
    if participant is None:
        return False
    invitation_send(participant=participant, base_url=base_url, kind="reissue")
    audit_log(action="invitation_reissue", study=participant.study, pseudonym=participant.pseudonym)
    return True


def participant_require_taking_part(participant: Participant) -> None:
    """Refuse (403) a participant who does not take part (``Participant.takes_part``), saying why."""
    if participant.takes_part:
        return
    if participant.status == Participant.Status.DROPPED:
        raise PermissionDenied("You have left this study.")
    raise PermissionDenied("Please give your consent first.")


@transaction.atomic
def participant_consent(*, participant: Participant) -> Participant:
    if participant.consent_at is None:
        participant.consent_at = timezone.now()
        participant.status = Participant.Status.ACTIVE
        participant.save(update_fields=["consent_at", "status"])
    return participant


class TopicsLocked(Conflict):
    """The expert's topics are fixed: a round after the first has started (HTTP 409)."""


def participant_topics_locked(participant: Participant) -> bool:
    """Topic choice is open until a second round has started (round 2 pairs answers with round 1)."""
    return participant.study.rounds.filter(
        number__gt=1, status__in=(Round.Status.OPEN, Round.Status.CLOSED, Round.Status.AGGREGATED)
    ).exists()


@transaction.atomic
def participant_choose_topics(*, participant: Participant, topics: Iterable[Topic]) -> Participant:
    """The topics an expert answers: must belong to the study. Chosen before or during round 1;
    refused (``TopicsLocked``, 409) once a second round has started."""
    if participant_topics_locked(participant):
        raise TopicsLocked(gettext("Your topics are fixed once the second round has started."))
    chosen = list(topics)
    if not chosen:
        raise ValidationError({"topics": ["Choose at least one topic."]})
    allowed = set(participant.study.topics.values_list("pk", flat=True))
    if any(t.pk not in allowed for t in chosen):
        raise ValidationError({"topics": ["Some topics are not part of this study."]})
    participant.topics.set(chosen)
    return participant


def participants_to_remind(*, rnd: Round) -> list[Participant]:
    """Panel members who have not finished this open round (and have not left)."""
    done = RoundCompletion.objects.filter(round=rnd).values("participant_id")
    invited = Participant.objects.on_panel().filter(status=Participant.Status.INVITED)
    return list(
        (Participant.objects.taking_part() | invited)
        .filter(study_id=rnd.study_id)
        .exclude(pk__in=done)
        .select_related("expert", "study")
    )


def participant_withdraw(*, participant: Participant) -> int:
    """The expert leaves the study: she is off the panel (no more mail, no more answers), and her answers
    in a round still open are deleted; rounds already closed keep them in their anonymous statistics, as the
    consent page says. Returns how many responses were deleted; a second call changes nothing."""
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.status == Participant.Status.DROPPED:
            return 0
        deleted = 0
        for rnd in Round.objects.filter(study_id=locked.study_id, status=Round.Status.OPEN).order_by("number"):
            round_answers_lock_shared(rnd.pk)  # as a save does: a close waits for this, or this sees it closed
            current = Round.objects.filter(pk=rnd.pk).values_list("status", flat=True).first()
            if current != Round.Status.OPEN:
                continue
            deleted += Response.objects.filter(round=rnd, participant=locked).delete()[1].get("delphi.Response", 0)
            RoundCompletion.objects.filter(round=rnd, participant=locked).delete()
        locked.status = Participant.Status.DROPPED
        locked.save(update_fields=["status"])
        audit_log(action="participant_withdraw", actor=None, study=locked.study, participant=locked.pseudonym)
    participant.status = Participant.Status.DROPPED
    return deleted
