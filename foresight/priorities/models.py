"""Priorities: scoring runs (numbers that inform), editions and per-topic entries (decisions people publish).

A ``ScoringRun`` is computed once from an aggregated Delphi study and never changes afterwards: its
``fingerprint`` is the SHA-256 of every input that affects a number, so two runs with the same
fingerprint have the same results (eager SQLite or a worker on PostgreSQL alike).  An ``Edition``
is built on one scoring run and, once published, is immutable; its ``EditionEntry`` rows carry the
tier staff decided, with a written rationale.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from foresight.catalog.models import Bilingual, Topic
from foresight.core.errors import Conflict
from foresight.delphi.models import Round, Study

# Bounds of the number of bootstrap samples (SPEC §6 default 1,000).
BOOTSTRAP_MIN = 10
BOOTSTRAP_MAX = 100_000
BOOTSTRAP_DEFAULT = 1000


def new_run_code() -> str:
    """An unguessable public handle for a run (staff URLs use it, never the integer key)."""
    return secrets.token_hex(8)


class Tier(models.TextChoices):
    PRIORITY = "priority", _("Priority")
    KEY = "key", _("Key")
    WATCH = "watch", _("Watch")
    # Below the study's minimum evidence (SPEC §12): published, never ranked, explained on the page.
    INSUFFICIENT = "insufficient", _("Insufficient evidence")


# Inner to outer: the order of tiers everywhere (tables, the radar's rings, movement between editions).
TIER_ORDER: dict[str, int] = {Tier.PRIORITY: 0, Tier.KEY: 1, Tier.WATCH: 2, Tier.INSUFFICIENT: 3}


class ScoringRun(models.Model):
    """One computation of criteria, weighted scores and bootstrap rank intervals for a study."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    code = models.SlugField(max_length=32, unique=True, default=new_run_code, editable=False)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="scoring_runs")
    # The study's last aggregated round when the run was created; each topic is scored on the last
    # aggregated round that asked it (results["inputs"]["rounds"] lists every round used).
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="scoring_runs")
    # Criterion name -> weight as given (normalised to sum 1 when scoring).
    weights = models.JSONField()
    # {"criteria": [...], "matrix": [[...]], "weights": {...}, "lambda_max": ..., "ci": ..., "cr": ...} or null.
    ahp = models.JSONField(null=True, blank=True)
    seed = models.PositiveBigIntegerField()
    bootstrap_b = models.PositiveIntegerField(
        default=BOOTSTRAP_DEFAULT,
        validators=[MinValueValidator(BOOTSTRAP_MIN), MaxValueValidator(BOOTSTRAP_MAX)],
        verbose_name=_("bootstrap samples (B)"),
    )
    top_k = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    # {"importance": 50.0, "competitiveness": 50.0, "plan_end_year": 2030}: matrix cut points.
    thresholds = models.JSONField()
    # Codes of the clusters that count as policy lists for the policy_list criterion.
    policy_clusters = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    results = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("run_scoring", "Can start scoring runs")]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="scoringrun_progress_0_100"),
            models.CheckConstraint(
                condition=Q(bootstrap_b__gte=BOOTSTRAP_MIN, bootstrap_b__lte=BOOTSTRAP_MAX),
                name="scoringrun_bootstrap_b_range",
            ),
            models.CheckConstraint(condition=Q(top_k__gte=1), name="scoringrun_top_k_positive"),
            models.CheckConstraint(
                condition=~Q(status="done") | (Q(progress=100) & ~Q(fingerprint="")),
                name="scoringrun_done_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"scoring {self.code} ({self.status})"


class EditionImmutable(Conflict):
    """A published edition (and its entries) cannot be changed or deleted."""


# The one wording of the refusal, wherever a published edition is asked to change (models, services, views).
IMMUTABLE_MESSAGE = _("This edition is published and cannot be changed; publish a correction as a new edition.")


class Edition(Bilingual):
    """A release of priority directions; immutable once published, carrying the fingerprint of its data."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    code = models.SlugField(max_length=60, unique=True)
    title_en = models.CharField(max_length=300)
    title_zh = models.CharField(max_length=300, blank=True)
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="editions")
    scoring_run = models.ForeignKey(ScoringRun, on_delete=models.PROTECT, related_name="editions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    replaces = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")
    method_note_en = models.TextField(blank=True)
    method_note_zh = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-published_at", "-created_at"]
        permissions = [
            ("prepare_edition", "Can create draft editions, decide their entries and delete drafts"),
            ("publish_edition", "Can publish editions"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published") | (Q(published_at__isnull=False) & ~Q(fingerprint="")),
                name="edition_published_has_date_and_fingerprint",
            ),
        ]

    def __str__(self) -> str:
        return self.title_en

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._refuse_if_published()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse_if_published()
        return super().delete(*args, **kwargs)

    @property
    def title(self) -> str:
        return self.tr("title")

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def _refuse_if_published(self) -> None:
        if self.pk and Edition.objects.filter(pk=self.pk, status=self.Status.PUBLISHED).exists():
            raise EditionImmutable(IMMUTABLE_MESSAGE)

    @property
    def method_note(self) -> str:
        return self.tr("method_note")


class EditionEntry(models.Model):
    """The tier staff decided for one topic of an edition, with the numbers shown next to it."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="entries")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="edition_entries")
    tier = models.CharField(max_length=12, choices=Tier.choices)
    # Empty for a topic below the small-cell threshold: such topics are never ranked publicly.
    rank = models.PositiveIntegerField(null=True, blank=True)
    rank_low = models.FloatField(null=True, blank=True)
    rank_high = models.FloatField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    rationale_en = models.TextField(blank=True, help_text=_("Required when the edition is published."))
    rationale_zh = models.TextField(blank=True)
    # Published aggregates after small-cell suppression (indices, matrix coordinates, groups...).
    data = models.JSONField(default=dict, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["edition", "rank", "topic__code"]
        verbose_name_plural = "edition entries"
        constraints = [
            models.UniqueConstraint(fields=["edition", "topic"], name="editionentry_unique_topic"),
            models.CheckConstraint(
                condition=Q(rank_low__isnull=True) | Q(rank_high__isnull=True) | Q(rank_low__lte=models.F("rank_high")),
                name="editionentry_rank_interval_ordered",
            ),
            models.CheckConstraint(condition=Q(rank__isnull=True) | Q(rank__gte=1), name="editionentry_rank_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.edition_id}:{self.topic_id} ({self.tier})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._refuse_if_published()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse_if_published()
        return super().delete(*args, **kwargs)

    def _refuse_if_published(self) -> None:
        editions = {self.edition_id}
        if self.pk:
            editions |= set(EditionEntry.objects.filter(pk=self.pk).values_list("edition_id", flat=True))
        if Edition.objects.filter(pk__in=editions, status=Edition.Status.PUBLISHED).exists():
            raise EditionImmutable(IMMUTABLE_MESSAGE)
