"""The topic endpoints of the public API (/api/v1/topics/): a topic with the scenarios that need it, the
topic list filtered by scenario setting too, and the topics most similar to a text. Directions and areas are
the catalog's own (catalog.api)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from foresight.catalog import selectors as catalog_selectors
from foresight.catalog.api import SourceSerializer, TopicListSerializer
from foresight.catalog.models import Area, Cluster, Topic
from foresight.core.api import (
    SIMILAR_PARAMETERS,
    CachedPublicRead,
    StrictFilterSet,
    known_value,
    similar_response,
)
from foresight.public import selectors
from foresight.public.selectors import PublicTopicFilters
from scenarios.models import Scenario


class ScenarioLinkSerializer(serializers.Serializer[Any]):
    scenario = serializers.CharField(source="scenario.code")
    title_en = serializers.CharField(source="scenario.title_en")
    title_zh = serializers.CharField(source="scenario.title_zh")
    role = serializers.CharField()


class TopicDetailSerializer(TopicListSerializer):
    clusters: serializers.SlugRelatedField[Cluster] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    secondary_areas: serializers.SlugRelatedField[Area] = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    sources = SourceSerializer(many=True, read_only=True)
    scenarios = ScenarioLinkSerializer(source="scenario_links", many=True, read_only=True)
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(TopicListSerializer.Meta):
        fields = TopicListSerializer.Meta.fields + [
            "description_en",
            "description_zh",
            "tags",
            "clusters",
            "secondary_areas",
            "sources",
            "scenarios",
        ]


class TopicFilter(StrictFilterSet):
    q = django_filters.CharFilter(method="noop", help_text="Full-text search (English or Chinese)")
    # An unknown slug or code is a 400 with a message, as on the topic list page (not an empty 200); the
    # schema lists the allowed values (catalog.openapi); a value is checked only when it is given.
    direction = django_filters.CharFilter(
        method="noop", validators=[known_value(catalog_selectors.direction_options, "slug")], help_text="Direction slug"
    )
    area = django_filters.CharFilter(
        method="noop", validators=[known_value(catalog_selectors.area_list, "slug")], help_text="Area slug"
    )
    kind = django_filters.ChoiceFilter(method="noop", choices=Topic.Kind.choices)
    status = django_filters.ChoiceFilter(method="noop", choices=[(s.value, s.label) for s in Topic.PUBLIC_STATUSES])
    setting = django_filters.ChoiceFilter(method="noop", choices=Scenario.Setting.choices, help_text="Scenario setting")
    cluster = django_filters.CharFilter(
        method="noop", validators=[known_value(catalog_selectors.cluster_list, "code")], help_text="Cluster code"
    )

    class Meta:
        model = Topic
        fields: list[str] = []

    def noop(self, queryset: QuerySet[Topic], name: str, value: Any) -> QuerySet[Topic]:
        return queryset

    def filter_queryset(self, queryset: QuerySet[Topic]) -> QuerySet[Topic]:
        # The selector applies every filter; validation is django-filter's.
        data = {name: self.form.cleaned_data.get(name) or "" for name in PublicTopicFilters.__dataclass_fields__}
        return selectors.topic_list(filters=PublicTopicFilters(**data))


class SimilarTopicSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name_en = serializers.CharField()
    name_zh = serializers.CharField()
    score = serializers.FloatField(
        min_value=0, max_value=1, help_text="Cosine similarity of character n-grams, 0 to 1, 3 decimals"
    )
    url = serializers.URLField(help_text="The topic in this API")


class SimilarTopicsSerializer(serializers.Serializer[Any]):
    query = serializers.CharField(help_text="The text compared, surrounding spaces stripped")
    results = SimilarTopicSerializer(many=True, help_text="Most similar first; ties by code")


class TopicViewSet(CachedPublicRead, viewsets.ReadOnlyModelViewSet[Topic]):
    """Topics (level 3), addressed by code; searchable with `q` and filterable."""

    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filterset_class = TopicFilter

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Topic]]:
        return TopicDetailSerializer if self.action == "retrieve" else TopicListSerializer

    def get_queryset(self) -> QuerySet[Topic]:
        return selectors.topic_list(filters=PublicTopicFilters())

    def get_object(self) -> Topic:
        return selectors.topic_get(code=self.kwargs["code"])

    @extend_schema(
        operation_id="topics_similar",
        summary="The public topics most similar to a text",
        description="Near-duplicate search in English, Chinese or both (character n-gram TF-IDF, cosine "
        "similarity): the topics whose names, statements and descriptions are most like the text.",
        parameters=SIMILAR_PARAMETERS,
        responses={200: SimilarTopicsSerializer},
    )
    @action(detail=False, methods=["get"], url_path="similar", filter_backends=[], pagination_class=None)
    def similar(self, request: Request) -> Response:
        return similar_response(
            request,
            search=lambda text, limit: catalog_selectors.topic_similar(text=text, limit=limit),
            row=lambda topic: {
                "code": topic.code,
                "name_en": topic.name_en,
                "name_zh": topic.name_zh,
                "url": reverse("api-topic-detail", kwargs={"code": topic.code}, request=request),
            },
            serializer=SimilarTopicsSerializer,
        )
