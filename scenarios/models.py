"""Application scenarios ("scenario pull") and the topics each one needs."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from foresight.catalog.models import Bilingual, Direction, PublicationStatus, SourceReference, Topic
from foresight.core.errors import Conflict


class Scenario(Bilingual):
    """A concrete setting that combines new technologies with the infrastructure, business model and rules they need."""

    class ScenarioType(models.TextChoices):
        COMPREHENSIVE_MAJOR = "comprehensive_major", _("Comprehensive major scenario")
        SECTOR_INTEGRATED = "sector_integrated", _("Sector-integrated scenario")
        SMALL_ENTRY = "small_entry", _("Small-entry scenario")

    class ListKind(models.TextChoices):
        DEMAND = "demand", _("Demand list")
        CAPABILITY = "capability", _("Capability list")
        DEMONSTRATION = "demonstration", _("Demonstration")
        VISION = "vision", _("Vision")

    class Setting(models.TextChoices):
        HOME = "home", _("Home")
        SCHOOL = "school", _("School")
        HOSPITAL = "hospital", _("Hospital")
        OFFICE = "office", _("Office")
        FACTORY = "factory", _("Factory")
        FARM = "farm", _("Farm")
        MINE = "mine", _("Mine")
        PORT = "port", _("Port")
        ROAD_TRANSPORT = "road_transport", _("Road transport")
        CITY = "city", _("City")
        COURT = "court", _("Court")
        SUPPLY_CHAIN = "supply_chain", _("Supply chain")
        LAB_SCIENCE = "lab_science", _("Laboratory and science")
        SPACE = "space", _("Space")
        OCEAN = "ocean", _("Ocean")
        ENERGY_GRID = "energy_grid", _("Energy grid")
        ELDERLY_CARE = "elderly_care", _("Elderly care")

    class Maturity(models.TextChoices):
        CONCEPT = "concept", _("Concept")
        PILOT = "pilot", _("Pilot")
        DEMONSTRATION = "demonstration", _("Demonstration")
        SCALE_UP = "scale_up", _("Scale-up")
        MAINSTREAM = "mainstream", _("Mainstream")

    class Origin(models.TextChoices):
        CURATED = "curated", _("Curated by the programme")
        EXCHANGE = "exchange", _("Proposed through the exchange")

    code = models.SlugField(max_length=80, unique=True)
    title_en = models.CharField(max_length=200)
    title_zh = models.CharField(max_length=200)
    summary_en = models.TextField()
    summary_zh = models.TextField()
    scenario_type = models.CharField(max_length=24, choices=ScenarioType.choices)
    list_kind = models.CharField(max_length=16, choices=ListKind.choices)
    setting = models.CharField(max_length=20, choices=Setting.choices)
    sector_en = models.CharField(max_length=200, blank=True)
    sector_zh = models.CharField(max_length=200, blank=True)
    problem_en = models.TextField(blank=True)
    problem_zh = models.TextField(blank=True)
    requirements_en = models.TextField(blank=True)
    requirements_zh = models.TextField(blank=True)
    enablers_infrastructure_en = models.TextField(blank=True)
    enablers_infrastructure_zh = models.TextField(blank=True)
    enablers_business_model_en = models.TextField(blank=True)
    enablers_business_model_zh = models.TextField(blank=True)
    enablers_institutions_en = models.TextField(blank=True)
    enablers_institutions_zh = models.TextField(blank=True)
    maturity = models.CharField(max_length=16, choices=Maturity.choices)
    target_year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    region_en = models.CharField(max_length=200, blank=True)
    region_zh = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=PublicationStatus.choices, default=PublicationStatus.DRAFT)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.CURATED)
    directions = models.ManyToManyField(Direction, blank=True, related_name="scenarios")
    topics: models.ManyToManyField[Topic, ScenarioTopic] = models.ManyToManyField(
        Topic, through="ScenarioTopic", related_name="scenarios"
    )
    sources = GenericRelation(SourceReference, related_query_name="scenario")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(m2m_fields=[directions])

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(target_year__isnull=True) | models.Q(target_year__gte=2000, target_year__lte=2100),
                name="scenario_target_year_range",
            )
        ]

    def __str__(self) -> str:
        return self.title_en

    # A scenario that came through the exchange may be written in one language only: show the other one.
    @property
    def title(self) -> str:
        return self.tr("title") or self.title_en or self.title_zh

    @property
    def name(self) -> str:
        return self.title

    @property
    def summary(self) -> str:
        return self.tr("summary") or self.summary_en or self.summary_zh

    @property
    def title_untranslated(self) -> bool:
        """The title is shown in the other language: this one is not written yet."""
        return self.tr("title") == "" or ((get_language() or "en").startswith("zh") and not self.title_zh)


class ScenarioTopic(models.Model):
    """A topic a scenario needs, and how much it needs it."""

    class Role(models.TextChoices):
        CORE = "core", _("Core")
        ENABLING = "enabling", _("Enabling")
        COMPLEMENTARY = "complementary", _("Complementary")

    # Weight of each role in "scenario pull" (used by priorities scoring).
    ROLE_WEIGHTS = {"core": 1.0, "enabling": 0.6, "complementary": 0.3}

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="topic_links")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="scenario_links")
    role = models.CharField(max_length=16, choices=Role.choices)

    history = HistoricalRecords()

    class Meta:
        ordering = ["scenario__code", "role", "topic__code"]
        constraints = [models.UniqueConstraint(fields=["scenario", "topic"], name="scenariotopic_unique")]

    def __str__(self) -> str:
        return f"{self.scenario.code} → {self.topic.code} ({self.role})"


# --- The scenario exchange: organisations and their members ------------------------------------------------


class Organisation(Bilingual):
    """An organisation that owns scenarios or supplies technologies, with a public profile page."""

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("Enterprise")
        ASSOCIATION = "association", _("Industry association")
        UNIVERSITY = "university", _("University")
        RESEARCH_INSTITUTE = "research_institute", _("Research institute")
        PUBLIC_SERVICE = "public_service", _("Hospital or public service provider")
        GOVERNMENT = "government", _("Government body")
        INVESTOR = "investor", _("Investor")
        OTHER = "other", _("Other")

    code = models.SlugField(max_length=60, unique=True)
    name_en = models.CharField(max_length=200, blank=True)
    name_zh = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    region_en = models.CharField(max_length=200, blank=True)
    region_zh = models.CharField(max_length=200, blank=True)
    sector_en = models.CharField(max_length=200, blank=True)
    sector_zh = models.CharField(max_length=200, blank=True)
    description_en = models.TextField(max_length=4000, blank=True)
    description_zh = models.TextField(max_length=4000, blank=True)
    website = models.URLField(max_length=300, blank=True)
    verified_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When a curator confirmed that the organisation is who it says it is.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    members: models.ManyToManyField[Any, Membership] = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="organisations"
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=~Q(name_en="", name_zh=""), name="organisation_has_a_name"),
        ]

    def __str__(self) -> str:
        return self.name_en or self.name_zh

    @property
    def name(self) -> str:
        return self.tr("name") or self.name_en or self.name_zh


class Membership(models.Model):
    """A person's place in an organisation: admins manage members, editors write entries, viewers read them."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        EDITOR = "editor", _("Editor")
        VIEWER = "viewer", _("Viewer")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation", "role", "user"]
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation.code} ({self.role})"


class OrganisationInvitation(models.Model):
    """An organisation admin's invitation to an e-mail address; the link's token is stored only as a hash."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=8, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation to {self.organisation.code} ({self.role})"


class JoinRequest(models.Model):
    """A signed-in person asks to join an organisation; one of its admins approves or declines."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="join_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_requests")
    message = models.TextField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"], condition=Q(status="pending"), name="joinrequest_one_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.organisation.code} ({self.status})"


# --- The scenario exchange: demand and capability entries -----------------------------------------------------


def new_entry_code() -> str:
    return "e-" + secrets.token_hex(4)


class Entry(Bilingual):
    """What an organisation proposes: a **demand** entry (a scenario it will open) or a **capability** entry (a
    technology it can bring). Reviewed by curators, then published in a release.

    Either language may be filled first; the other is completed by the proposer or a curator, and a missing
    one is shown as missing, never as an empty field. Contact goes through the product only: there is no
    e-mail or telephone field."""

    class Kind(models.TextChoices):
        DEMAND = "demand", _("Demand (a scenario we will open)")
        CAPABILITY = "capability", _("Capability (a technology we can bring)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        IN_REVIEW = "in_review", _("In review")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        ACCEPTED = "accepted", _("Accepted")
        PUBLISHED = "published", _("Published")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        MERGED = "merged", _("Merged into another entry")

    class Offer(models.TextChoices):
        TEST_SITE = "test_site", _("Test site")
        DATA = "data", _("Data")
        PROCUREMENT = "procurement", _("Procurement")
        CO_FUNDING = "co_funding", _("Co-funding")
        SANDBOX = "sandbox", _("Regulatory sandbox")

    code = models.SlugField(max_length=20, unique=True, default=new_entry_code, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    title_en = models.CharField(max_length=200, blank=True)
    title_zh = models.CharField(max_length=200, blank=True)
    # Demand: the problem and why it matters now. Capability: what the technology does.
    summary_en = models.TextField(max_length=4000, blank=True)
    summary_zh = models.TextField(max_length=4000, blank=True)
    setting = models.CharField(max_length=20, choices=Scenario.Setting.choices, blank=True)
    region_en = models.CharField(max_length=200, blank=True)
    region_zh = models.CharField(max_length=200, blank=True)
    # Demand only.
    why_now_en = models.TextField(max_length=2000, blank=True)
    why_now_zh = models.TextField(max_length=2000, blank=True)
    location_en = models.CharField(max_length=300, blank=True)
    location_zh = models.CharField(max_length=300, blank=True)
    scale_sites = models.PositiveIntegerField(null=True, blank=True)
    scale_users = models.PositiveIntegerField(null=True, blank=True)
    offers = models.JSONField(default=list, blank=True)  # codes of ``Offer``
    budget_min = models.PositiveBigIntegerField(null=True, blank=True, help_text=_("Procurement budget, yuan."))
    budget_max = models.PositiveBigIntegerField(null=True, blank=True)
    needs_en = models.TextField(max_length=2000, blank=True)
    needs_zh = models.TextField(max_length=2000, blank=True)
    window_start = models.DateField(null=True, blank=True)
    window_end = models.DateField(null=True, blank=True)
    constraints_en = models.TextField(max_length=2000, blank=True)
    constraints_zh = models.TextField(max_length=2000, blank=True)
    # Capability only.
    trl = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(9)], verbose_name="TRL"
    )
    # Demand only: the readiness the owner asks of a capability (matching compares a capability's TRL with it).
    trl_needed = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(9)],
        verbose_name=_("TRL needed"),
        help_text=_("The lowest technology readiness level (1–9) a capability should have to be tried here."),
    )
    trl_evidence_en = models.TextField(max_length=2000, blank=True)
    trl_evidence_zh = models.TextField(max_length=2000, blank=True)
    deployments_en = models.TextField(max_length=2000, blank=True)
    deployments_zh = models.TextField(max_length=2000, blank=True)
    conditions_en = models.TextField(max_length=2000, blank=True)
    conditions_zh = models.TextField(max_length=2000, blank=True)
    # Sources and evidence: [{"url": "https://…", "title": "…"}].
    sources = models.JSONField(default=list, blank=True)
    topics: models.ManyToManyField[Topic, EntryTopic] = models.ManyToManyField(
        Topic, through="EntryTopic", related_name="+"
    )
    rejection_reason = models.TextField(max_length=2000, blank=True)
    # A duplicate merged by a curator points to the entry it was merged into (its comments and links moved there).
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from", editable=False
    )
    # The public catalog scenario the entry is published as (made by its first release; a curated scenario's
    # entry points to it from the start).
    scenario = models.OneToOneField(
        Scenario, null=True, blank=True, on_delete=models.PROTECT, related_name="entry", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-updated_at", "code"]
        permissions = [("review_entry", "Can review exchange entries: comment, request changes, accept, reject")]
        constraints = [
            models.CheckConstraint(condition=Q(trl__isnull=True) | Q(trl__gte=1, trl__lte=9), name="entry_trl_1_9"),
            models.CheckConstraint(
                condition=Q(trl_needed__isnull=True) | Q(trl_needed__gte=1, trl_needed__lte=9),
                name="entry_trl_needed_1_9",
            ),
            models.CheckConstraint(
                condition=Q(budget_min__isnull=True) | Q(budget_max__isnull=True) | Q(budget_min__lte=F("budget_max")),
                name="entry_budget_ordered",
            ),
            models.CheckConstraint(
                condition=Q(window_start__isnull=True)
                | Q(window_end__isnull=True)
                | Q(window_start__lte=F("window_end")),
                name="entry_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.title_en or self.title_zh}"

    @property
    def title(self) -> str:
        return self.tr("title") or self.title_en or self.title_zh

    @property
    def offer_labels(self) -> list[str]:
        """What the owner offers, in the active language (``offers`` holds the codes)."""
        return [str(self.Offer(code).label) for code in self.offers if code in self.Offer.values]


class EntryTopic(models.Model):
    """A catalog topic an entry involves (demand: needs; capability: delivers), with its role."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="topic_links")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=16, choices=ScenarioTopic.Role.choices)

    class Meta:
        ordering = ["entry", "role", "topic__code"]
        constraints = [models.UniqueConstraint(fields=["entry", "topic"], name="entrytopic_unique")]

    def __str__(self) -> str:
        return f"{self.entry.code} → {self.topic.code} ({self.role})"


class EntryComment(models.Model):
    """A note in an entry's review thread, from a curator or a member of the proposing organisation."""

    class Kind(models.TextChoices):
        COMMENT = "comment", _("Comment")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        REJECTED = "rejected", _("Rejected")

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    by_curator = models.BooleanField(default=False)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.COMMENT)
    body = models.TextField(max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entry", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.entry.code}: {self.kind}"


# --- The scenario exchange: releases ----------------------------------------------------------------------------


class ReleaseImmutable(Conflict):
    """A published release (and its items) cannot change; a correction is a new release that replaces it."""


RELEASE_IMMUTABLE_MESSAGE = _("This release is published and cannot be changed; publish a correction as a new release.")


class Release(Bilingual):
    """A dated, numbered batch of entries ("2027, first batch"), published atomically and then immutable,
    with the fingerprint of what it published."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    code = models.SlugField(max_length=40, unique=True)
    number = models.PositiveIntegerField(unique=True)
    title_en = models.CharField(max_length=300, blank=True)
    title_zh = models.CharField(max_length=300, blank=True)
    note_en = models.TextField(max_length=4000, blank=True)
    note_zh = models.TextField(max_length=4000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    released_on = models.DateField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    replaces = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        permissions = [("publish_release", "Can assemble and publish releases of the scenario exchange")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published")
                | (Q(published_at__isnull=False) & Q(released_on__isnull=False) & ~Q(fingerprint="")),
                name="release_published_is_complete",
            ),
            models.CheckConstraint(condition=~Q(title_en="", title_zh=""), name="release_has_a_title"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.title_en or self.title_zh}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._refuse_if_published()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse_if_published()
        return super().delete(*args, **kwargs)

    @property
    def title(self) -> str:
        return self.tr("title") or self.title_en or self.title_zh

    @property
    def note(self) -> str:
        return self.tr("note")

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def _refuse_if_published(self) -> None:
        if self.pk and Release.objects.filter(pk=self.pk, status=self.Status.PUBLISHED).exists():
            raise ReleaseImmutable(RELEASE_IMMUTABLE_MESSAGE)


class ReleaseItem(models.Model):
    """An entry in a release: new, changed or withdrawn since the previous release, with the entry as it was
    published (``snapshot``: what the public pages and downloads show, whatever the entry becomes later)."""

    class Change(models.TextChoices):
        NEW = "new", _("New")
        CHANGED = "changed", _("Changed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="items")
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="release_items")
    change = models.CharField(max_length=10, choices=Change.choices)
    snapshot = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["release", "entry__kind", "entry__code"]
        constraints = [models.UniqueConstraint(fields=["release", "entry"], name="releaseitem_unique")]

    def __str__(self) -> str:
        return f"{self.release.code}: {self.entry.code} ({self.change})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._refuse_if_published()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse_if_published()
        return super().delete(*args, **kwargs)

    def _refuse_if_published(self) -> None:
        if Release.objects.filter(pk=self.release_id, status=Release.Status.PUBLISHED).exists():
            raise ReleaseImmutable(RELEASE_IMMUTABLE_MESSAGE)


# --- The scenario exchange: matching demand to capability -------------------------------------------------------


class Match(models.Model):
    """A capability entry ranked for a published demand entry, with the components of its score and the facts
    behind them (``reasons``: shared topics by role, text similarity, TRL against the TRL needed, region, time
    window), so every match can say why. Recomputed when entries are published or change; only the best
    matches of each entry are kept (``scenarios.exchange.matching``)."""

    demand = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="capability_matches")
    capability = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="demand_matches")
    score = models.FloatField()  # 0–1, the weighted sum of the components
    components = models.JSONField(default=dict)  # component -> value in [0, 1]
    reasons = models.JSONField(default=dict)  # the facts each component was computed from
    method = models.CharField(max_length=24)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["demand", "-score", "capability__code"]
        constraints = [
            models.UniqueConstraint(fields=["demand", "capability"], name="match_unique"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=1), name="match_score_0_1"),
        ]
        indexes = [
            models.Index(fields=["demand", "-score"], name="match_by_demand"),
            models.Index(fields=["capability", "-score"], name="match_by_capability"),
        ]

    def __str__(self) -> str:
        return f"{self.demand_id} ← {self.capability_id} ({self.score:.3f})"


class MatchRun(models.Model):
    """A full recomputation of the matches (started by a curator or the publication of a release), with its
    progress for the page that follows it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)  # demand entries to score
    done = models.PositiveIntegerField(default=0)
    matches = models.PositiveIntegerField(default=0)  # match rows written
    method = models.CharField(max_length=24, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("run_matching", "Can recompute the matches of the scenario exchange")]

    def __str__(self) -> str:
        return f"match run {self.pk} ({self.status} {self.done}/{self.total})"


class Shortlist(models.Model):
    """A capability a demand entry's owner keeps for a closer look (private to the owner's organisation)."""

    demand = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="shortlist")
    capability = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["demand", "added_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["demand", "capability"], name="shortlist_unique")]

    def __str__(self) -> str:
        return f"{self.demand_id} ☆ {self.capability_id}"


def new_conversation_code() -> str:
    return "c-" + secrets.token_hex(12)


class Conversation(models.Model):
    """A demand entry's owner and a supplier organisation talking through the product: opened by the owner's
    invitation (from the shortlist) or by the supplier's expression of interest. Private to the two
    organisations and to curators; contacts are shown to the other side only when both have agreed."""

    class OpenedBy(models.TextChoices):
        OWNER = "owner", _("Invitation from the demand's owner")
        SUPPLIER = "supplier", _("Interest from the supplier")

    class Outcome(models.TextChoices):
        NO_REPLY = "no_reply", _("No reply yet")
        DECLINED = "declined", _("Declined")
        IN_DISCUSSION = "in_discussion", _("In discussion")
        AGREED = "agreed", _("Agreed to pilot")

    # Its address in URLs: unguessable, since a conversation is private to its two parties.
    code = models.SlugField(max_length=30, unique=True, default=new_conversation_code, editable=False)
    demand = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="conversations")
    supplier = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="supplier_conversations")
    # The supplier's capability entry the conversation is about (none when a supplier writes without one).
    capability = models.ForeignKey(
        Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="supplier_conversations"
    )
    opened_by = models.CharField(max_length=10, choices=OpenedBy.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.NO_REPLY)
    outcome_at = models.DateTimeField(null=True, blank=True)
    # Contact exchange: the member of each side who agreed to share their address (shown once both have).
    owner_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    supplier_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["demand", "supplier"], name="conversation_unique")]

    def __str__(self) -> str:
        return f"{self.demand_id} ↔ {self.supplier_id} ({self.outcome})"

    @property
    def contacts_exchanged(self) -> bool:
        return self.owner_contact_id is not None and self.supplier_contact_id is not None


class Message(models.Model):
    """A message in a conversation; the other side is told by e-mail (without the author's address)."""

    class Side(models.TextChoices):
        OWNER = "owner", _("Demand owner")
        SUPPLIER = "supplier", _("Supplier")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    side = models.CharField(max_length=10, choices=Side.choices)
    body = models.TextField(max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["conversation", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.side} {self.created_at:%Y-%m-%d}"


class AbuseReport(models.Model):
    """A party's report of a conversation (or one message in it) to the curators."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        UPHELD = "upheld", _("Upheld")
        DISMISSED = "dismissed", _("Dismissed")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="abuse_reports")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    decision_note = models.TextField(max_length=2000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status", "-created_at", "pk"]

    def __str__(self) -> str:
        return f"report {self.pk} on conversation {self.conversation_id} ({self.status})"


# --- The scenario exchange: pilots -------------------------------------------------------------------------------


def new_pilot_code() -> str:
    return "p-" + secrets.token_hex(4)


class Pilot(Bilingual):
    """A demand entry that goes ahead: the organisations involved, the site, and its stage from opened to
    mainstream (or stopped). The stage the public sees is the furthest one a curator verified the evidence of
    (``PilotStageChange``); ``stage`` is the latest one claimed."""

    class Stage(models.TextChoices):
        OPENED = "opened", _("Opened")
        PILOT = "pilot", _("Pilot")
        DEMONSTRATION = "demonstration", _("Demonstration")
        SCALING = "scaling", _("Scaling")
        MAINSTREAM = "mainstream", _("Mainstream")
        STOPPED = "stopped", _("Stopped")

    # The order of the stages a pilot goes through (stopped ends it at any point).
    STAGE_ORDER = ("opened", "pilot", "demonstration", "scaling", "mainstream")

    code = models.SlugField(max_length=20, unique=True, default=new_pilot_code, editable=False)
    demand = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="pilots")
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="pilots"
    )
    organisations: models.ManyToManyField[Organisation, PilotOrganisation] = models.ManyToManyField(
        Organisation, through="PilotOrganisation", related_name="pilots"
    )
    site_en = models.CharField(max_length=300, blank=True)
    site_zh = models.CharField(max_length=300, blank=True)
    region_en = models.CharField(max_length=200, blank=True)
    region_zh = models.CharField(max_length=200, blank=True)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.OPENED)
    # The furthest stage with verified evidence (blank until the opening is verified): what counts publicly.
    verified_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    stop_reason_en = models.TextField(max_length=2000, blank=True)
    stop_reason_zh = models.TextField(max_length=2000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The last stage change or evidence the pilot's organisations sent (staleness counts from here).
    last_update_at = models.DateTimeField()
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-last_update_at", "code"]
        permissions = [("verify_pilot", "Can verify the evidence of pilot stages")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(stage="stopped") | ~Q(stop_reason_en="", stop_reason_zh=""), name="pilot_stop_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.stage})"

    @property
    def site(self) -> str:
        return self.tr("site") or self.site_en or self.site_zh

    @property
    def is_public(self) -> bool:
        return bool(self.verified_stage)


class PilotOrganisation(models.Model):
    """An organisation taking part in a pilot: the demand's owner, or a supplier (with the capability it brings)."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        SUPPLIER = "supplier", _("Supplier")

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="participants")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=10, choices=Role.choices)
    capability = models.ForeignKey(Entry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["pilot", "role", "organisation__code"]
        constraints = [models.UniqueConstraint(fields=["pilot", "organisation"], name="pilotorganisation_unique")]

    def __str__(self) -> str:
        return f"{self.pilot_id}: {self.organisation_id} ({self.role})"


class PilotStageChange(models.Model):
    """A dated stage change of a pilot with its evidence (a report, a link, a figure such as sites or users
    reached). It counts publicly once a curator has verified the evidence."""

    class Evidence(models.TextChoices):
        REPORT = "report", _("Report")
        LINK = "link", _("Link")
        FIGURE = "figure", _("Figure")

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting verification")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Not accepted")

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="stage_changes")
    stage = models.CharField(max_length=16, choices=Pilot.Stage.choices)
    on = models.DateField()  # when the stage was reached
    evidence_kind = models.CharField(max_length=10, choices=Evidence.choices)
    evidence_url = models.URLField(max_length=500, blank=True)
    evidence_title = models.CharField(max_length=300, blank=True)
    note_en = models.TextField(max_length=2000, blank=True)
    note_zh = models.TextField(max_length=2000, blank=True)
    sites_reached = models.PositiveIntegerField(null=True, blank=True)
    users_reached = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["pilot", "on", "submitted_at", "pk"]
        indexes = [models.Index(fields=["status", "submitted_at"], name="pilotstage_queue")]

    def __str__(self) -> str:
        return f"{self.pilot_id}: {self.stage} on {self.on} ({self.status})"
