"""Editions: a draft built from a finished scoring run, staff decisions (tier + written rationale),
and an atomic, one-way publication. A published edition never changes again (services refuse, the
models refuse, and database triggers refuse); a correction is a new edition that names the one it
replaces.

An entry's ``data`` holds only numbers that passed the disclosure layer in the scoring run; the public
reads are in ``selectors.editions``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from foresight.catalog.models import Topic
from foresight.core.audit import audit_log
from foresight.core.cache import content_version_bump
from foresight.core.errors import Conflict
from foresight.core.text import clean_text
from foresight.priorities.models import IMMUTABLE_MESSAGE, Edition, EditionEntry, EditionImmutable, ScoringRun, Tier
from foresight.priorities.rationales import generated_tier

MAX_RATIONALE = 4000


def _published_data(result: dict[str, Any]) -> dict[str, Any]:
    """What of a topic's scoring result is published: only figures the disclosure layer released
    (the run computed them through ``foresight.disclosure``), the score's inputs and every stand-in."""
    return {
        "n": result.get("n"),
        "round": result.get("round"),
        "ranked": bool(result.get("ranked")),
        "evidence": result.get("evidence") or {},
        "median_rank": result.get("median_rank"),
        "p_top_k": result.get("p_top_k"),
        "suggested_tier": result.get("tier"),
        "criteria": result.get("criteria") or {},
        "normalised": result.get("normalised") or {},
        "fallbacks": result.get("fallbacks") or [],
        "report": result.get("report") or {},
        "indices": result.get("indices") or {},
        "timing": result.get("timing") or {},
        "quadrant": result.get("quadrant") or {},
        "groups": {
            key: {"shown": value.get("shown", {}), "gap": value.get("gap"), "divergent": value.get("divergent", False)}
            for key, value in (result.get("groups") or {}).items()
            if isinstance(value, dict)
        },
        "divergent": bool((result.get("groups") or {}).get("divergent")),
    }


def edition_entry_record(entry: EditionEntry) -> dict[str, Any]:
    """One decision of an edition by codes, not ids: what its fingerprint covers and the package exports."""
    return {
        "topic": entry.topic.code,
        "tier": entry.tier,
        "rank": entry.rank,
        "rank_low": entry.rank_low,
        "rank_high": entry.rank_high,
        "score": entry.score,
        "rationale_en": entry.rationale_en,
        "rationale_zh": entry.rationale_zh,
    }


def edition_fingerprint(*, edition: Edition) -> str:
    """SHA-256 of the scoring run's data fingerprint and every decision of the edition (codes, not ids)."""
    entries = [edition_entry_record(e) for e in edition.entries.select_related("topic").order_by("topic__code")]
    canonical = json.dumps(
        {
            "data": edition.scoring_run.fingerprint,
            "code": edition.code,
            "replaces": edition.replaces.code if edition.replaces is not None else None,
            "entries": entries,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def edition_draft_create(
    *,
    run: ScoringRun,
    code: str,
    title_en: str,
    title_zh: str = "",
    method_note_en: str = "",
    method_note_zh: str = "",
    replaces: Edition | None = None,
    copy_decisions: bool = False,
    actor: Any = None,
) -> Edition:
    """A draft edition with one entry per topic of a finished run, at its suggested tier.

    Ranked topics come first, in rank order; topics below the study's minimum evidence follow with
    the tier "insufficient evidence", no rank and no score (their released figures are still shown).

    A correction (``replaces``) may start from the published decisions (``copy_decisions``): the tier
    and rationale of every topic both editions rank.
    """
    if run.status != ScoringRun.Status.DONE:
        raise Conflict({"scoring_run": ["The scoring run has not finished."]})
    if replaces is not None and replaces.status != Edition.Status.PUBLISHED:
        raise ValidationError({"replaces": ["Only a published edition can be replaced."]})
    if replaces is not None and replaces.study_id != run.study_id:
        raise ValidationError({"replaces": ["A correction replaces an edition of the same study."]})
    edition = Edition(
        code=code,
        title_en=title_en.strip(),
        title_zh=title_zh.strip(),
        study=run.study,
        scoring_run=run,
        method_note_en=method_note_en.strip(),
        method_note_zh=method_note_zh.strip(),
        replaces=replaces,
    )
    edition.full_clean()
    edition.save()
    topics = run.results.get("topics", {})
    by_code = {t.code: t for t in Topic.objects.filter(code__in=list(topics))}
    entries = []
    ranking = list(run.results.get("ranking", []))
    unranked = sorted(code for code in topics if code not in set(ranking))
    for topic_code in ranking + unranked:
        result = topics[topic_code]
        ranked = topic_code in ranking
        entries.append(
            EditionEntry(
                edition=edition,
                topic=by_code[topic_code],
                tier=result["tier"] if ranked else Tier.INSUFFICIENT,
                rank=int(result["rank"]) if ranked else None,
                rank_low=result["rank_low"] if ranked else None,
                rank_high=result["rank_high"] if ranked else None,
                score=result["score"] if ranked else None,
                data=_published_data(result),
            )
        )
    EditionEntry.objects.bulk_create(entries)
    audit_log(action="edition_draft_create", actor=actor, study=run.study, edition=edition.code, run=run.code)
    if replaces is not None and copy_decisions:
        before = {e.topic_id: e for e in replaces.entries.all()}
        for entry in edition.entries.all():
            old = before.get(entry.topic_id)
            if old is not None and old.rationale_en:
                edition_entry_decide(
                    entry=entry,
                    tier=old.tier,
                    rationale_en=old.rationale_en,
                    rationale_zh=old.rationale_zh,
                    actor=actor,
                )
    return edition


def edition_check_draft(*, edition: Edition) -> None:
    """Refuse (``EditionImmutable``, a 409) unless the edition is still a draft in the database."""
    if Edition.objects.filter(pk=edition.pk, status=Edition.Status.PUBLISHED).exists():
        raise EditionImmutable(IMMUTABLE_MESSAGE)


@transaction.atomic
def edition_entry_decide(
    *, entry: EditionEntry, tier: str, rationale_en: str, rationale_zh: str = "", actor: Any = None
) -> EditionEntry:
    """Set a topic's final tier with its written rationale (required).

    A topic below the study's minimum evidence (no rank) can only be "insufficient evidence"; any
    ranked topic may also be put there by staff judgement.

    A rationale generated from the numbers (``services.publishing``; a correction may copy them) argues
    for the tier it was written for: with another tier it is refused on its field, in either language,
    so a tier change never keeps a text contradicting it. The curator rewrites it, or leaves the
    optional Chinese one empty (the Chinese page then shows the English one, marked as English).
    """
    edition = Edition.objects.select_for_update().get(pk=entry.edition_id)
    edition_check_draft(edition=edition)
    errors: dict[str, list[str]] = {}
    if tier not in Tier.values:
        errors["tier"] = ["Choose priority, key, watch or insufficient evidence."]
    elif entry.rank is None and tier != Tier.INSUFFICIENT:
        minimum = ((entry.data or {}).get("evidence") or {}).get("min_respondents")
        errors["tier"] = [
            "This topic has fewer respondents than the study's minimum evidence"
            + (f" ({minimum})" if minimum else "")
            + ", so it can only be published as insufficient evidence."
        ]
    rationales: dict[str, str] = {}
    for name, text in (("rationale_en", rationale_en), ("rationale_zh", rationale_zh)):
        try:
            rationales[name] = clean_text(text, limit=MAX_RATIONALE, field=name)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if rationales.get("rationale_en") == "":
        errors["rationale_en"] = ["Write the rationale for this decision."]
    if tier in Tier.values:
        for name, text in rationales.items():
            written_for = generated_tier(text)
            if written_for is None or written_for == tier:
                continue
            message = gettext(
                "This rationale was generated from the numbers for the tier “%(written)s”, not “%(tier)s”: "
                "rewrite it for the new tier."
            ) % {"written": Tier(written_for).label, "tier": Tier(tier).label}
            if name == "rationale_zh":  # optional: may be left empty instead
                message += " " + gettext("Or leave it empty: the Chinese page then shows the English rationale.")
            errors[name] = [message]
    if errors:
        raise ValidationError(errors)
    EditionEntry.objects.filter(pk=entry.pk).update(
        tier=tier,
        rationale_en=rationales["rationale_en"],
        rationale_zh=rationales["rationale_zh"],
        decided_by=actor if getattr(actor, "is_authenticated", False) else None,
        decided_at=timezone.now(),
    )
    entry.refresh_from_db()
    return entry


def edition_publish(*, edition: Edition, actor: Any = None) -> Edition:
    """Publish a draft in one transaction: every entry needs a rationale; readers see the old state or the new.

    1. lock the edition row and re-check it is a draft;
    2. refuse when any entry lacks a rationale (listing them);
    3. fingerprint, status → published, audit; the public page cache is invalidated after commit.
    """
    with transaction.atomic():
        locked = (
            Edition.objects.select_for_update(of=("self",)).select_related("scoring_run", "replaces").get(pk=edition.pk)
        )
        edition_check_draft(edition=locked)
        missing = list(
            locked.entries.filter(rationale_en="")
            .select_related("topic")
            .order_by(F("rank").asc(nulls_last=True))
            .values_list("topic__code", flat=True)
        )
        if missing:
            shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
            raise Conflict({"entries": [f"{len(missing)} topics still need a rationale: {shown}."]})
        if not locked.entries.exists():
            raise Conflict({"entries": ["An edition needs at least one topic."]})
        fingerprint = edition_fingerprint(edition=locked)
        Edition.objects.filter(pk=locked.pk, status=Edition.Status.DRAFT).update(
            status=Edition.Status.PUBLISHED, published_at=timezone.now(), fingerprint=fingerprint
        )
        audit_log(
            action="edition_publish", actor=actor, study=locked.study, edition=locked.code, fingerprint=fingerprint
        )
        transaction.on_commit(content_version_bump)
    edition.refresh_from_db()
    return edition


@transaction.atomic
def edition_draft_delete(*, edition: Edition, actor: Any = None) -> None:
    locked = Edition.objects.select_for_update().get(pk=edition.pk)
    edition_check_draft(edition=locked)
    code = locked.code
    locked.entries.all().delete()
    locked.delete()
    audit_log(action="edition_draft_delete", actor=actor, edition=code)
