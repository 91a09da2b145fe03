"""The curated catalog: directions → areas → topics, clusters and where every entry comes from.

Text is bilingual: every translatable field has an ``_en`` and a ``_zh`` column; ``Bilingual.tr``
picks the one for the active language, falling back to English.
"""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Bilingual(models.Model):
    """Mixin for models with ``<field>_en`` / ``<field>_zh`` pairs."""

    class Meta:
        abstract = True

    def __getattr__(self, name: str) -> str:
        # ``obj.tr_<field>`` in templates: the field in the active language.
        if name.startswith("tr_"):
            return self.tr(name[3:])
        raise AttributeError(name)

    def tr(self, field: str) -> str:
        lang = (get_language() or "en").lower()
        if lang.startswith("zh"):
            value = getattr(self, f"{field}_zh", "")
            if value:
                return str(value)
        return str(getattr(self, f"{field}_en", ""))

    @property
    def name(self) -> str:
        return self.tr("name")

    @property
    def description(self) -> str:
        return self.tr("description")


class PublicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class SourceProgramme(Bilingual):
    """A public foresight programme, policy document or list that catalog entries come from."""

    code = models.SlugField(max_length=40, unique=True)
    name_en = models.CharField(max_length=300)
    name_zh = models.CharField(max_length=300)
    publisher_en = models.CharField(max_length=300, blank=True)
    publisher_zh = models.CharField(max_length=300, blank=True)
    country = models.CharField(max_length=8, blank=True)
    year = models.PositiveSmallIntegerField(validators=[MinValueValidator(1950), MaxValueValidator(2100)])
    url = models.URLField(max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.year})"


class SourceReference(models.Model):
    """Where one catalog entry (direction, area, topic, cluster or scenario) comes from."""

    programme = models.ForeignKey(SourceProgramme, on_delete=models.PROTECT, related_name="references")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    entry = GenericForeignKey("content_type", "object_id")
    label = models.CharField(max_length=300, help_text=_("The entry's label in the source's original language."))
    locator = models.CharField(max_length=300, blank=True, help_text=_("Section, table or page in the source."))
    url = models.URLField(max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["programme__code", "pk"]
        indexes = [models.Index(fields=["content_type", "object_id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "content_type", "object_id", "label"], name="sourceref_unique_per_entry"
            )
        ]

    def __str__(self) -> str:
        return f"{self.programme.code}: {self.label}"


class Direction(Bilingual):
    """Level 1: one of the six MIIT 2024 future-industry directions."""

    slug = models.SlugField(max_length=80, unique=True)
    order = models.PositiveSmallIntegerField(default=0)
    name_en = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200)
    description_en = models.TextField(blank=True)
    description_zh = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=PublicationStatus.choices, default=PublicationStatus.DRAFT)
    sources = GenericRelation(SourceReference, related_query_name="direction")

    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "slug"]

    def __str__(self) -> str:
        return self.name_en


class AreaQuerySet(models.QuerySet["Area"]):
    def public(self) -> AreaQuerySet:
        """Areas the public may see: published, in a published direction (their pages exist)."""
        return self.filter(status=PublicationStatus.PUBLISHED, direction__status=PublicationStatus.PUBLISHED)


class Area(Bilingual):
    """Level 2: a technology area within a direction."""

    direction = models.ForeignKey(Direction, on_delete=models.PROTECT, related_name="areas")
    slug = models.SlugField(max_length=80, unique=True)
    order = models.PositiveSmallIntegerField(default=0)
    name_en = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200)
    description_en = models.TextField(blank=True)
    description_zh = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=PublicationStatus.choices, default=PublicationStatus.DRAFT)
    sources = GenericRelation(SourceReference, related_query_name="area")

    objects = AreaQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["direction__order", "order", "slug"]

    def __str__(self) -> str:
        return self.name_en


class Cluster(Bilingual):
    """A cross-cutting grouping of topics, e.g. a national policy list."""

    class Kind(models.TextChoices):
        POLICY_LIST = "policy_list", _("Policy list")
        FORESIGHT_LIST = "foresight_list", _("Foresight list")
        THEME = "theme", _("Theme")

    code = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.THEME)
    name_en = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200)
    description_en = models.TextField(blank=True)
    description_zh = models.TextField(blank=True)
    sources = GenericRelation(SourceReference, related_query_name="cluster")

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_en


def public_topic_q(prefix: str = "") -> models.Q:
    """The one rule of a public topic, as a filter: a public status, in a published area of a published
    direction. ``prefix`` is the path to the topic from the model filtered (``"topic__"``, ``"topics__"``)."""
    return models.Q(
        **{
            f"{prefix}status__in": Topic.PUBLIC_STATUSES,
            f"{prefix}area__status": PublicationStatus.PUBLISHED,
            f"{prefix}area__direction__status": PublicationStatus.PUBLISHED,
        }
    )


class TopicQuerySet(models.QuerySet["Topic"]):
    def public(self) -> TopicQuerySet:
        """Topics the public may see (``public_topic_q``)."""
        return self.filter(public_topic_q())


class Topic(Bilingual):
    """Level 3: the unit experts rate in a Delphi study."""

    class Kind(models.TextChoices):
        TECHNOLOGY = "technology", _("Technology")
        PRODUCT = "product", _("Product")
        SYSTEM = "system", _("System")
        SERVICE = "service", _("Service")
        SOCIAL_INNOVATION = "social_innovation", _("Social innovation")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CANDIDATE = "candidate", _("Candidate")
        IN_SURVEY = "in_survey", _("In survey")
        PUBLISHED = "published", _("Published")
        RETIRED = "retired", _("Retired")

    # Statuses the public may see; drafts are 404 to the public. A public topic also needs a published
    # area in a published direction: ``public_topic_q`` / ``Topic.objects.public()`` / ``is_public``.
    PUBLIC_STATUSES = (Status.CANDIDATE, Status.IN_SURVEY, Status.PUBLISHED, Status.RETIRED)

    code = models.SlugField(max_length=80, unique=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="topics")
    secondary_areas = models.ManyToManyField(Area, blank=True, related_name="secondary_topics")
    name_en = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200)
    statement_en = models.TextField(
        help_text=_("One sentence describing a future state to which a year can be attached.")
    )
    statement_zh = models.TextField()
    description_en = models.TextField(blank=True)
    description_zh = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TECHNOLOGY)
    trl = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(9)], verbose_name=_("current TRL")
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    clusters = models.ManyToManyField(Cluster, blank=True, related_name="topics")
    tags = models.JSONField(default=list, blank=True)
    sources = GenericRelation(SourceReference, related_query_name="topic")
    updated_at = models.DateTimeField(auto_now=True)

    objects = TopicQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[clusters, secondary_areas])

    class Meta:
        ordering = ["area__direction__order", "area__order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(trl__isnull=True) | models.Q(trl__gte=1, trl__lte=9), name="topic_trl_range"
            )
        ]

    def __str__(self) -> str:
        return self.name_en

    @property
    def statement(self) -> str:
        return self.tr("statement")

    @property
    def is_public(self) -> bool:
        """The public may see this topic (its page exists): the rule of ``public_topic_q``."""
        return (
            self.status in self.PUBLIC_STATUSES
            and self.area.status == PublicationStatus.PUBLISHED
            and self.area.direction.status == PublicationStatus.PUBLISHED
        )
