"""Read-only public API of the catalog (/api/v1/): directions, areas, and the serializers of the catalog rows.

The topic endpoints show a topic's scenarios and filter topics by scenario setting, so they are composed one
layer up, in ``foresight.public.api``. Querysets come from selectors."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from rest_framework import serializers, viewsets

from foresight.catalog import selectors
from foresight.catalog.models import Area, Direction, SourceReference, Topic
from foresight.core.api import CachedPublicRead, StrictFilterSet, known_value


class SourceSerializer(serializers.ModelSerializer[SourceReference]):
    programme = serializers.CharField(source="programme.code")
    programme_name_en = serializers.CharField(source="programme.name_en")
    programme_name_zh = serializers.CharField(source="programme.name_zh")
    year = serializers.IntegerField(source="programme.year")

    class Meta:
        model = SourceReference
        fields = ["programme", "programme_name_en", "programme_name_zh", "year", "label", "locator", "url"]


class AreaBriefSerializer(serializers.ModelSerializer[Area]):
    class Meta:
        model = Area
        fields = ["slug", "name_en", "name_zh"]


class DirectionSerializer(serializers.ModelSerializer[Direction]):
    areas = AreaBriefSerializer(many=True, read_only=True)
    topic_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Direction
        fields = ["slug", "order", "name_en", "name_zh", "description_en", "description_zh", "topic_count", "areas"]


class AreaSerializer(serializers.ModelSerializer[Area]):
    direction: serializers.SlugRelatedField[Direction] = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Area
        fields = ["slug", "direction", "order", "name_en", "name_zh", "description_en", "description_zh"]


class TopicListSerializer(serializers.ModelSerializer[Topic]):
    direction = serializers.CharField(source="area.direction.slug", read_only=True)
    area = serializers.CharField(source="area.slug", read_only=True)

    class Meta:
        model = Topic
        fields = [
            "code",
            "name_en",
            "name_zh",
            "statement_en",
            "statement_zh",
            "kind",
            "status",
            "trl",
            "direction",
            "area",
        ]


class DirectionViewSet(CachedPublicRead, viewsets.ReadOnlyModelViewSet[Direction]):
    """The six future-industry directions with their areas."""

    serializer_class = DirectionSerializer
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Direction]:
        return selectors.direction_list()


class AreaFilter(StrictFilterSet):
    direction = django_filters.CharFilter(
        field_name="direction__slug", validators=[known_value(selectors.direction_options, "slug")]
    )

    class Meta:
        model = Area
        fields: list[str] = []


class AreaViewSet(CachedPublicRead, viewsets.ReadOnlyModelViewSet[Area]):
    """Technology areas (level 2)."""

    serializer_class = AreaSerializer
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    filterset_class = AreaFilter

    def get_queryset(self) -> QuerySet[Area]:
        return selectors.area_list()
