"""The topic endpoints of the public API (/api/v1/topics/): a topic with the scenarios that need it, and the
topic list filtered by scenario setting too. Directions and areas are the catalog's own (catalog.api)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from rest_framework import serializers, viewsets

from foresight.catalog import selectors as catalog_selectors
from foresight.catalog.api import SourceSerializer, TopicListSerializer
from foresight.catalog.models import Area, Cluster, Topic
from foresight.core.api import CachedPublicRead, StrictFilterSet, known_value
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
