"""Read-only public API of published priority editions (/api/v1/editions/).  Drafts are 404.

Entries carry only published aggregates: ``data`` is an entry's published data after small-cell
suppression (``exports.published_aggregates``) — never a pseudonym, a single answer or the size of
a suppressed group.  The JSON download of an edition (``edition.json``) is this API's detail
document, so the two never disagree.  Every figure of an entry is published at the precision the
pages print it with (``foresight.numbers``; ``exports.published_figures`` for ``data``) and stays a
JSON number: counts integers, the others floats.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from foresight import numbers
from foresight.core.api import CachedPublicRead
from foresight.priorities import exports
from foresight.priorities.models import Edition, Tier
from foresight.priorities.selectors import editions as edition_selectors

INDEX_SCHEMA: dict[str, Any] = {
    "type": "object",
    "nullable": True,
    "properties": {
        "n": {"type": "integer", "nullable": True, "description": "Answers behind the index (≥ k, else null)."},
        "index": {"type": "number", "nullable": True, "description": "Index 0–100 over all respondents."},
        "index_weighted": {"type": "number", "nullable": True, "description": "Expertise-weighted index."},
        "n_high": {"type": "integer", "nullable": True},
        "index_high": {"type": "number", "nullable": True, "description": "Over high-expertise respondents."},
    },
}
YEAR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "nullable": True,
    "properties": {
        "n": {"type": "integer", "nullable": True},
        "n_years": {"type": "integer", "nullable": True},
        "median": {"type": "number", "nullable": True},
        "q1": {"type": "number", "nullable": True},
        "q3": {"type": "number", "nullable": True},
        "share_already": {"type": "number", "nullable": True},
        "share_never": {"type": "number", "nullable": True},
    },
}
GROUPS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "shown": {
            "type": "object",
            "description": "Stakeholder sectors with at least k answers (after complementary suppression).",
            "additionalProperties": {
                "type": "object",
                "properties": {"n": {"type": "integer"}, "index": {"type": "number", "nullable": True}},
            },
        },
        "gap": {"type": "number", "nullable": True},
        "divergent": {"type": "boolean"},
    },
}
_NUMBER = {"type": "number", "nullable": True}
_COUNT = {"type": "integer", "nullable": True}
_WITHHELD = {
    "type": "object",
    "description": "Every figure withheld and why: small_group, small_complement, small_weight_class, attrition, "
    "min_evidence (README, Disclosure control).",
    "additionalProperties": {"type": "string"},
}
ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One question's released figures over the respondents to it (n: valid answers; null when the "
    "item is withheld). Scale items: distribution, quartiles, index (all / high / weighted), sectors, change "
    "from the previous round on the paired respondents; year items: quartiles over n_years, shares already / "
    "never; choice items: counts and shares per option.",
    "additionalProperties": True,
    "properties": {
        "n": _COUNT,
        "n_cant_judge": _COUNT,
        "distribution": {"type": "object", "additionalProperties": {"type": "integer"}},
        "median": _NUMBER,
        "q1": _NUMBER,
        "q3": _NUMBER,
        "iqr": _NUMBER,
        "index": _NUMBER,
        "n_high": _COUNT,
        "index_high": _NUMBER,
        "index_weighted": _NUMBER,
        "n_years": _COUNT,
        "share_already": _NUMBER,
        "share_never": _NUMBER,
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "shares": {"type": "object", "additionalProperties": _NUMBER},
        "sectors": {
            "type": "object",
            "additionalProperties": {"type": "object", "properties": {"n": {"type": "integer"}, "index": _NUMBER}},
        },
        "change": {"type": "object", "nullable": True, "additionalProperties": True},
        "suppressed": _WITHHELD,
    },
}
REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Everything of the topic's Delphi results the disclosure layer releases (foresight.disclosure).",
    "properties": {
        "round": _COUNT,
        "respondents": {
            "type": "object",
            "properties": {
                "n": _COUNT,
                "by_expertise": {"type": "object", "additionalProperties": {"type": "integer"}},
                "by_sector": {"type": "object", "additionalProperties": {"type": "integer"}},
                "other_sectors": _COUNT,
                "suppressed": _WITHHELD,
            },
        },
        "items": {"type": "object", "additionalProperties": ITEM_SCHEMA},
        "social_lag": _NUMBER,
    },
}
DATA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Published aggregates of the topic: only figures over at least k + 1 respondents that no "
    "combination with other figures can subtract around (README, Disclosure control).",
    "additionalProperties": True,
    "properties": {
        "round": _COUNT,
        "ranked": {"type": "boolean", "description": "False for a topic below the study's minimum evidence."},
        "evidence": {
            "type": "object",
            "properties": {
                "sufficient": {"type": "boolean"},
                "min_respondents": {"type": "integer"},
                "min_high": {"type": "integer"},
            },
        },
        "report": REPORT_SCHEMA,
        "criteria": {"type": "object", "additionalProperties": _NUMBER, "description": "Criteria of the score."},
        "normalised": {"type": "object", "additionalProperties": _NUMBER},
        "fallbacks": {
            "type": "array",
            "description": "Every criterion computed from a stand-in, and why.",
            "items": {
                "type": "object",
                "properties": {
                    "criterion": {"type": "string"},
                    "used": {"type": "string", "enum": ["importance_index", "worst"]},
                    "reason": {"type": "string"},
                    "in_score": {"type": "boolean"},
                },
            },
        },
        "n": {"type": "integer", "nullable": True, "description": "Respondents who answered the topic."},
        "median_rank": {"type": "number", "nullable": True},
        "p_top_k": {"type": "number", "nullable": True, "description": "Bootstrap probability of a top-k rank."},
        "suggested_tier": {"type": "string", "nullable": True},
        "indices": {
            "type": "object",
            "properties": {"importance": INDEX_SCHEMA, "competitiveness": INDEX_SCHEMA},
        },
        "timing": {"type": "object", "properties": {"tech_year": YEAR_SCHEMA, "social_year": YEAR_SCHEMA}},
        "quadrant": {
            "type": "object",
            "properties": {
                "importance_competitiveness": {"type": "string", "nullable": True},
                "importance_timing": {"type": "string", "nullable": True},
            },
        },
        "groups": {"type": "object", "additionalProperties": GROUPS_SCHEMA},
        "divergent": {"type": "boolean"},
    },
}


class TierCountsSerializer(serializers.Serializer[Any]):
    total = serializers.IntegerField(source="n_topics")
    priority = serializers.IntegerField(source="n_priority")
    key = serializers.IntegerField(source="n_key")
    watch = serializers.IntegerField(source="n_watch")
    insufficient = serializers.IntegerField(source="n_insufficient", help_text="Topics below the minimum evidence.")


class EditionListSerializer(serializers.ModelSerializer[Edition]):
    url = serializers.HyperlinkedIdentityField(view_name="api-edition-detail", lookup_field="code")
    replaces: serializers.SlugRelatedField[Edition] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text="Code of the edition this one replaces, or null."
    )
    replaced_by = serializers.SerializerMethodField(help_text="Codes of the published editions that replace this one.")
    counts = TierCountsSerializer(source="*", read_only=True)

    class Meta:
        model = Edition
        fields = [
            "code",
            "url",
            "title_en",
            "title_zh",
            "published_at",
            "replaces",
            "replaced_by",
            "fingerprint",
            "counts",
        ]

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_replaced_by(self, obj: Edition) -> list[str]:
        return [e.code for e in edition_selectors.published_successors(obj)]


@extend_schema_field(DATA_SCHEMA)
class PublishedDataField(serializers.DictField):
    def to_representation(self, value: Any) -> dict[str, Any]:
        return exports.published_figures(value)


class FigureField(serializers.FloatField):
    """A float published at the precision of its kind of figure (``foresight.numbers.PRECISION``)."""

    def __init__(self, *, kind: str, **kwargs: Any) -> None:
        self.kind = kind
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        return numbers.publish(value, self.kind)


class EntrySerializer(serializers.Serializer[Any]):
    topic = serializers.CharField(source="topic.code")
    topic_name_en = serializers.CharField(source="topic.name_en")
    topic_name_zh = serializers.CharField(source="topic.name_zh")
    direction = serializers.CharField(source="direction.slug")
    tier = serializers.ChoiceField(source="entry.tier", choices=Tier.choices)
    rank = serializers.IntegerField(source="entry.rank", allow_null=True)
    rank_low = FigureField(kind="rank", source="entry.rank_low", allow_null=True, help_text="5 % bootstrap rank.")
    rank_high = FigureField(kind="rank", source="entry.rank_high", allow_null=True, help_text="95 % bootstrap rank.")
    score = FigureField(kind="score", source="entry.score", allow_null=True)
    rationale_en = serializers.CharField(source="entry.rationale_en")
    rationale_zh = serializers.CharField(source="entry.rationale_zh")
    # The body's "data" key (the published figures) shadows Serializer.data only in the type checker's eyes:
    # DRF collects declared fields before the class is built, so the serializer's .data property still works.
    data = PublishedDataField()  # type: ignore[assignment]  # a declared field named "data", not Serializer.data


class MethodSerializer(serializers.Serializer[Any]):
    k_threshold = serializers.IntegerField(source="study.k_threshold", help_text="Small-cell threshold k.")
    thresholds = serializers.DictField(source="scoring_run.thresholds", help_text="Matrix cut points.")
    weights = serializers.DictField(source="scoring_run.weights", child=serializers.FloatField())
    top_k = serializers.IntegerField(source="scoring_run.top_k")
    bootstrap_samples = serializers.IntegerField(source="scoring_run.bootstrap_b")
    seed = serializers.IntegerField(source="scoring_run.seed")
    data_fingerprint = serializers.CharField(source="scoring_run.fingerprint")


class EditionDetailSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(source="edition.code")
    title_en = serializers.CharField(source="edition.title_en")
    title_zh = serializers.CharField(source="edition.title_zh")
    published_at = serializers.DateTimeField(source="edition.published_at")
    replaces = serializers.CharField(source="edition.replaces.code", allow_null=True, default=None)
    replaced_by = serializers.SerializerMethodField()
    fingerprint = serializers.CharField(source="edition.fingerprint")
    method_note_en = serializers.CharField(source="edition.method_note_en")
    method_note_zh = serializers.CharField(source="edition.method_note_zh")
    method = MethodSerializer(source="edition")
    counts = serializers.SerializerMethodField()
    entries = EntrySerializer(many=True)

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_replaced_by(self, obj: edition_selectors.PublicEdition) -> list[str]:
        return [e.code for e in obj.successors]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {name: {"type": "integer"} for name in ("total", "priority", "key", "watch", "insufficient")},
        }
    )
    def get_counts(self, obj: edition_selectors.PublicEdition) -> dict[str, int]:
        return {"total": len(obj.entries), **obj.tier_counts()}


class EditionViewSet(CachedPublicRead, viewsets.ReadOnlyModelViewSet[Edition]):
    """Published priority editions, newest first; each with its ranked entries and published aggregates."""

    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    serializer_class = EditionListSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Edition]:
        return edition_selectors.edition_list()

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return EditionDetailSerializer if self.action == "retrieve" else EditionListSerializer

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        edition = edition_selectors.edition_get(code=self.kwargs["code"])
        return Response(EditionDetailSerializer(edition, context=self.get_serializer_context()).data)
