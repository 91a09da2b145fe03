"""Delphi studies: question sets, rounds, panels, invitations, responses, arguments and round statistics.

Identity and answers are kept apart: a ``Participant`` (an expert on one study's panel) carries a
per-study pseudonym, and every answer hangs off the participant, never off the expert directly.
Aggregate views and exports only ever show pseudonyms or nothing.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from foresight import disclosure
from foresight.catalog.models import Area, Bilingual, Topic
from foresight.delphi import stopping


def validate_time_zone(value: str) -> None:
    """An IANA time zone name that this system's zoneinfo knows ("Europe/Berlin", "Asia/Shanghai")."""
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("Unknown time zone %(zone)s; use a name such as Europe/Berlin."), params={"zone": value}
        )


def default_expertise_weights() -> dict[str, float]:
    return {"high": 1.0, "medium": 0.6, "low": 0.3}


def default_consensus_rule() -> dict[str, float]:
    # SPEC §5: IQR ≤ 1 on 5-point items, ≥ 70 % in the top-2 box, < 15 % in the bottom-2 box; years IQR ≤ 5.
    return {"scale_iqr_max": 1.0, "top2_min": 0.70, "bottom2_max": 0.15, "year_iqr_max": 5.0}


def default_stopping_rule() -> dict[str, float]:
    # Stop after the planned rounds, or earlier when every topic still asked reached consensus or is
    # stable (``foresight.delphi.stopping``; a key an older study lacks takes its default there).
    return dict(stopping.DEFAULTS)


class StudyQuerySet(models.QuerySet["Study"]):
    def for_staff(self, user: Any) -> StudyQuerySet:
        """The studies ``user`` may work on in the consoles (within the role's permissions): a study with
        named managers is theirs alone; one without is open to every staff member whose role fits. A
        superuser sees every study."""
        if getattr(user, "is_superuser", False):
            return self
        named = Study.managers.through.objects.filter(study=OuterRef("pk"))
        return self.filter(~Exists(named) | Exists(named.filter(user=getattr(user, "pk", None))))


class Study(Bilingual):
    class Mode(models.TextChoices):
        ROUNDS = "rounds", _("Fixed rounds")
        REALTIME = "realtime", _("Real-time")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")

    code = models.SlugField(max_length=40, unique=True)
    title_en = models.CharField(max_length=300)
    title_zh = models.CharField(max_length=300, blank=True)
    description_en = models.TextField(blank=True)
    description_zh = models.TextField(blank=True)
    horizon_year = models.PositiveSmallIntegerField(validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    planned_rounds = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.ROUNDS)
    realtime_feedback_after_own_answer = models.BooleanField(default=True)
    anonymous = models.BooleanField(
        default=True, help_text=_("Staff see participation status only, never an individual's answers.")
    )
    k_threshold = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(3)],
        help_text=_("Small-cell threshold: no statistic from fewer respondents is public."),
    )
    expertise_weights = models.JSONField(default=default_expertise_weights)
    min_respondents = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(10000)],
        help_text=_("Minimum evidence: a topic with fewer respondents is published as “insufficient evidence”."),
    )
    min_high_respondents = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(10000)],
        help_text=_("Minimum evidence: a figure labelled high-expertise needs this many high-expertise respondents."),
    )
    consensus_rule = models.JSONField(default=default_consensus_rule)
    stopping_rule = models.JSONField(default=default_stopping_rule)
    drop_consensus_topics = models.BooleanField(
        default=True, help_text=_("Round 2+ drops topics that reached consensus.")
    )
    organiser = models.CharField(
        max_length=300, blank=True, help_text=_("Who runs the study, as the consent page names them.")
    )
    contact_email = models.EmailField(
        blank=True, help_text=_("Where experts write with questions or to leave (empty: the site's sender address).")
    )
    session_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text=_("How long a link keeps an expert signed in on her device, in hours."),
    )
    prefill_previous = models.BooleanField(
        default=True,
        help_text=_("Round 2+ fills each answer in with the expert's answer of the previous round, to keep or revise."),
    )
    frozen_at = models.DateTimeField(null=True, blank=True, help_text=_("Rules are frozen when round 1 opens."))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    topics = models.ManyToManyField(Topic, related_name="studies", blank=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="managed_studies",
        verbose_name=_("named managers"),
        help_text=_(
            "Staff who alone may work on this study in the consoles, each within their role. "
            "Empty: everyone whose role fits."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StudyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "studies"
        permissions = [
            ("manage_study", "Can create studies, change their rules and questions, and run their rounds"),
            ("manage_panel", "Can import panels, send invitations and see experts' names and e-mail addresses"),
            ("view_results", "Can see the round results of a study"),
        ]
        constraints = [models.CheckConstraint(condition=Q(k_threshold__gte=3), name="study_k_at_least_3")]

    def __str__(self) -> str:
        return self.title_en

    @property
    def title(self) -> str:
        return self.tr("title")

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    @cached_property
    def has_aggregated_round(self) -> bool:
        """Whether the priority workbench can score it."""
        return self.rounds.filter(status=Round.Status.AGGREGATED).exists()

    def disclosure_rules(self) -> disclosure.Rules:
        """The study's disclosure and minimum-evidence rules, for ``foresight.disclosure``."""
        return disclosure.Rules(
            k=int(self.k_threshold),
            weights={str(k): float(v) for k, v in (self.expertise_weights or {}).items()},
            min_respondents=int(self.min_respondents),
            min_high=int(self.min_high_respondents),
        )

    def timing_years(self) -> tuple[int, int]:
        """(Y0, H): the year round 1 opened (the rules froze; this year while they have not) and the horizon
        year, the span of the timing criterion a scoring run computes and round.json states."""
        opened = self.frozen_at or timezone.now()
        return opened.year, int(self.horizon_year)

    def stopping_rules(self) -> stopping.Rule:
        """The study's stopping rule (``foresight.delphi.stopping``), defaults for keys it does not store."""
        return stopping.Rule.from_json(self.stopping_rule)


class Question(Bilingual):
    """One item of a study's question set (data-driven; editable until round 1 opens)."""

    class Type(models.TextChoices):
        SINGLE = "single", _("Single choice")
        SCALE = "scale", _("Scale")
        MULTI = "multi", _("Multiple choice")
        YEAR = "year", _("Year")
        TEXT = "text", _("Text")

    class AppliesTo(models.TextChoices):
        TOPIC = "topic", _("Topics")
        SCENARIO = "scenario", _("Scenarios")

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(max_length=40)
    order = models.PositiveSmallIntegerField(default=0)
    qtype = models.CharField(max_length=10, choices=Type.choices)
    label_en = models.CharField(max_length=300)
    label_zh = models.CharField(max_length=300, blank=True)
    help_en = models.TextField(blank=True)
    help_zh = models.TextField(blank=True)
    # [{"code": "1", "label_en": ..., "label_zh": ..., "value": 1}, ...] for single/scale/multi.
    options = models.JSONField(default=list, blank=True)
    max_choices = models.PositiveSmallIntegerField(null=True, blank=True)
    allow_cant_judge = models.BooleanField(default=True)
    required = models.BooleanField(default=False)
    # Scale items with an index (importance, competitiveness) are coded −2…+2 for the 0–100 index.
    index = models.BooleanField(default=False)
    applies_to = models.CharField(max_length=10, choices=AppliesTo.choices, default=AppliesTo.TOPIC)

    class Meta:
        ordering = ["study", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["study", "key"], name="question_key_unique_per_study")]

    def __str__(self) -> str:
        return f"{self.study.code}:{self.key}"

    @property
    def label(self) -> str:
        return self.tr("label")

    @property
    def is_numeric(self) -> bool:
        return self.qtype in (self.Type.SCALE, self.Type.YEAR)

    def option_values(self) -> list[str]:
        return [str(o["code"]) for o in self.options]


class Round(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        AGGREGATED = "aggregated", _("Aggregated")

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    code = models.SlugField(max_length=60, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    aggregated_at = models.DateTimeField(null=True, blank=True)
    topics = models.ManyToManyField(Topic, related_name="delphi_rounds", blank=True)
    # Progress of the aggregation task, shown in the staff console.
    aggregation_progress = models.PositiveSmallIntegerField(default=0)
    checksum = models.CharField(max_length=64, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["study", "number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="round_number_unique_per_study"),
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True) | Q(closes_at__isnull=True) | Q(closes_at__gt=F("opens_at")),
                name="round_closes_after_opens",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class Expert(models.Model):
    """A person who may sit on study panels. Identity lives here and nowhere near the answers."""

    class Sector(models.TextChoices):
        UNIVERSITY = "university", _("University")
        PUBLIC_RESEARCH = "public_research", _("Public research")
        COMPANY = "company", _("Company")
        GOVERNMENT = "government", _("Government")
        OTHER = "other", _("Other")

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    sector = models.CharField(max_length=20, choices=Sector.choices)
    country = models.CharField(max_length=2, blank=True)
    organisation = models.CharField(max_length=300, blank=True)
    areas = models.ManyToManyField(Area, blank=True, related_name="experts")
    nominated_by = models.CharField(max_length=200, blank=True)
    # The language and time zone of her e-mails; empty: the site's (settings.LANGUAGE_CODE, TIME_ZONE).
    language = models.CharField(max_length=10, blank=True, choices=settings.LANGUAGES)
    timezone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


class ParticipantQuerySet(models.QuerySet["Participant"]):
    def on_panel(self) -> ParticipantQuerySet:
        """Members who have not dropped out (invited or taking part)."""
        return self.exclude(status=Participant.Status.DROPPED)

    def taking_part(self) -> ParticipantQuerySet:
        """Members who take part: consented and not dropped out (``Participant.takes_part`` as a filter)."""
        return self.on_panel().filter(consent_at__isnull=False)


class Participant(models.Model):
    """An expert's membership of one study's panel, under a per-study pseudonym."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ACTIVE = "active", _("Active")
        DROPPED = "dropped", _("Dropped out")

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participants")
    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="participations")
    pseudonym = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INVITED)
    consent_at = models.DateTimeField(null=True, blank=True)
    areas = models.ManyToManyField(Area, blank=True, related_name="+")
    topics = models.ManyToManyField(Topic, blank=True, related_name="+", help_text=_("Topics this expert answers."))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        ordering = ["study", "pseudonym"]
        constraints = [
            models.UniqueConstraint(fields=["study", "expert"], name="participant_unique_per_study"),
            models.UniqueConstraint(fields=["study", "pseudonym"], name="pseudonym_unique_per_study"),
        ]

    def __str__(self) -> str:
        return f"{self.study.code}:{self.pseudonym}"

    @property
    def takes_part(self) -> bool:
        """Consented and not dropped out: may answer, argue and choose topics (``taking_part()`` as a filter)."""
        return self.consent_at is not None and self.status != self.Status.DROPPED


class RoundCompletion(models.Model):
    """A participant's submission of a round (answers are saved as they are typed; this marks 'done')."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="completions")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="completions")
    submitted_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "participant"], name="completion_unique")]

    def __str__(self) -> str:
        return f"{self.round_id}:{self.participant_id}"


class Invitation(models.Model):
    """A magic link: the token itself is never stored, only its SHA-256."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=10, default="invite")  # invite | reminder

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation {self.pk} ({self.kind})"


class Response(models.Model):
    """One participant's answers on one topic in one round."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="responses")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="responses")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="+")
    rationale = models.TextField(blank=True, max_length=1000)
    updated_at = models.DateTimeField(auto_now=True)

    # Set by ``response_save``: the response's answers as the save left them (not a database column).
    saved_answers: list[Answer]

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "participant", "topic"], name="response_unique")]

    def __str__(self) -> str:
        return f"response {self.pk}"


class Answer(models.Model):
    """One answer value: exactly one row per expert × topic × round × question (database-enforced)."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    cant_judge = models.BooleanField(default=False)
    value_num = models.FloatField(null=True, blank=True)  # scale code, or year
    value_code = models.CharField(max_length=40, blank=True)  # single choice code; "already" / "never" for years
    value_codes = models.JSONField(default=list, blank=True)  # multi-select codes
    value_text = models.TextField(blank=True, max_length=1000)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="answer_unique")]

    def __str__(self) -> str:
        return f"answer {self.pk}"


class Argument(models.Model):
    """An anonymous argument for or against, moderated before other experts see it."""

    class Stance(models.TextChoices):
        PRO = "pro", _("For")
        CONTRA = "contra", _("Against")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="arguments")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="+")
    question = models.ForeignKey(Question, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="arguments")
    stance = models.CharField(max_length=8, choices=Stance.choices)
    text = models.TextField(max_length=1000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["round", "topic", "created_at"]
        permissions = [("moderate_argument", "Can approve and reject experts' arguments")]

    def __str__(self) -> str:
        return f"{self.stance}: {self.text[:40]}"


class RoundStat(models.Model):
    """Cached statistics of one topic × question × group in one round (written by aggregation only)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="stats")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    group = models.CharField(max_length=30, default="all")  # all | high | sector:<name>
    n = models.PositiveIntegerField()
    data = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "topic", "question", "group"], name="roundstat_unique")]

    def __str__(self) -> str:
        return f"{self.round_id}:{self.topic_id}:{self.question_id}:{self.group}"


class FeedbackSnapshot(models.Model):
    """The real-time feedback last released for one topic × question of a round (``foresight.disclosure``,
    rule 5): experts see these figures until at least k + 1 respondents have answered or changed their
    answer since, so two successive views never differ by a smaller group.  ``members`` (respondent →
    a key of her answer at the snapshot) is kept only to count those changes; it is never shown."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="feedback_snapshots")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    members = models.JSONField(null=True, blank=True)
    n = models.PositiveIntegerField(default=0)
    figures = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "topic", "question"], name="feedback_snapshot_unique")]

    def __str__(self) -> str:
        return f"snapshot {self.round_id}:{self.topic_id}:{self.question_id}"
