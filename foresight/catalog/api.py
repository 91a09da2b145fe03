"""Read-only public API of the catalog (/api/v1/). Querysets come from selectors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from rest_framework import serializers, viewsets

from foresight.catalog import selectors
from foresight.catalog.models import Area, Cluster, Direction, SourceReference, Topic
from foresight.catalog.selectors import TopicFilters
from foresight.core.api import CachedPublicRead, StrictFilterSet
from scenarios.models import Scenario


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


def _known(rows: Callable[[], QuerySet[Any]], key: str) -> Callable[[str], None]:
    """A validator: the value names a row of ``rows()`` by ``key`` (one query, only when the parameter is given)."""

    def check(value: str) -> None:
        # Text no slug can hold is refused before it reaches the database (which refuses NUL outright).
        if "\x00" in value or len(value) > 200 or not rows().filter(**{key: value}).exists():
            raise ValidationError(
                "Choose one of the allowed values, or leave the parameter out.", code="invalid_choice"
            )

    return check


class TopicFilter(StrictFilterSet):
    q = django_filters.CharFilter(method="noop", help_text="Full-text search (English or Chinese)")
    # An unknown slug or code is a 400 with a message, as on the topic list page (not an empty 200); the
    # schema lists the allowed values (catalog.openapi); a value is checked only when it is given.
    direction = django_filters.CharFilter(
        method="noop", validators=[_known(selectors.direction_options, "slug")], help_text="Direction slug"
    )
    area = django_filters.CharFilter(
        method="noop", validators=[_known(selectors.area_list, "slug")], help_text="Area slug"
    )
    kind = django_filters.ChoiceFilter(method="noop", choices=Topic.Kind.choices)
    status = django_filters.ChoiceFilter(method="noop", choices=[(s.value, s.label) for s in Topic.PUBLIC_STATUSES])
    setting = django_filters.ChoiceFilter(method="noop", choices=Scenario.Setting.choices, help_text="Scenario setting")
    cluster = django_filters.CharFilter(
        method="noop", validators=[_known(selectors.cluster_list, "code")], help_text="Cluster code"
    )

    class Meta:
        model = Topic
        fields: list[str] = []

    def noop(self, queryset: QuerySet[Topic], name: str, value: Any) -> QuerySet[Topic]:
        return queryset

    def filter_queryset(self, queryset: QuerySet[Topic]) -> QuerySet[Topic]:
        # The selector applies every filter; validation is django-filter's.
        data = {name: self.form.cleaned_data.get(name) or "" for name in TopicFilters.__dataclass_fields__}
        return selectors.topic_list(filters=TopicFilters(**data))


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
        field_name="direction__slug", validators=[_known(selectors.direction_options, "slug")]
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


class TopicViewSet(CachedPublicRead, viewsets.ReadOnlyModelViewSet[Topic]):
    """Topics (level 3), addressed by code; searchable with `q` and filterable."""

    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filterset_class = TopicFilter

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Topic]]:
        return TopicDetailSerializer if self.action == "retrieve" else TopicListSerializer

    def get_queryset(self) -> QuerySet[Topic]:
        return selectors.topic_list(filters=TopicFilters())

    def get_object(self) -> Topic:
        return selectors.topic_get(code=self.kwargs["code"])
