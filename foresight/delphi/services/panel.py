"""Panels: experts, study membership under a pseudonym, CSV import, consent, topic choice, magic links."""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from foresight.catalog.models import Area, Topic
from foresight.core.audit import audit_log
from foresight.core.errors import Conflict
from foresight.core.text import clean_text, is_ascii_digits
from foresight.delphi.models import Expert, Invitation, Participant, Round, RoundCompletion, Study

INVITATION_DAYS = 30
CSV_COLUMNS = ["email", "name", "sector", "country", "organisation", "areas"]
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
    """Import a panel from CSV (columns: email,name,sector,country,organisation,areas with areas ``;``-separated slugs).

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
                defaults={k: row[k] for k in ("name", "sector", "country", "organisation")},
            )
            if created:
                expert.areas.set(row["areas"])
                report.created += 1
            else:
                report.existing += 1
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


def invitation_send(*, participant: Participant, base_url: str, kind: str = "invite") -> None:
    """E-mail a fresh magic link through Django's mail API (run by a Celery task)."""
    token = invitation_create(participant=participant, kind=kind)
    study = participant.study
    link = base_url.rstrip("/") + reverse("delphi:redeem", kwargs={"study_code": study.code}) + f"?t={token}"
    subject = (
        f"Invitation to the Delphi study “{study.title_en}”"
        if kind == "invite"
        else f"Reminder: your answers to “{study.title_en}” are still open"
    )
    body = (
        f"Dear {participant.expert.name},\n\n"
        f"You are invited to give your expert judgement in the study “{study.title_en}”.\n"
        f"Your personal link (valid {INVITATION_DAYS} days, for you only):\n\n{link}\n\n"
        "Your answers are shown to others only as anonymous group statistics.\n"
    )
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [participant.expert.email])
    Invitation.objects.filter(token_hash=token_hash(token)).update(sent_at=timezone.now())


def invitation_redeem(*, study_code: str, token: str) -> Participant:
    """Exchange a magic link for a participant, once. Wrong, used, expired or foreign tokens all get the same answer."""
    if not token or len(token) > 200:
        raise PermissionDenied("This link is not valid any more. Ask the study team for a new one.")
    now = timezone.now()
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("participant__study")
            .filter(token_hash=token_hash(token), participant__study__code=study_code)
            .first()
        )
        if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
            raise PermissionDenied("This link is not valid any more. Ask the study team for a new one.")
        invitation.used_at = now
        invitation.save(update_fields=["used_at"])
        return invitation.participant


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
