"""Read-only public API of application scenarios."""

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

from foresight.catalog.api import SourceSerializer
from foresight.catalog.models import Direction
from foresight.core.api import SIMILAR_PARAMETERS, CachedPublicRead, StrictFilterSet, similar_response
from scenarios import selectors
from scenarios.models import Scenario, ScenarioTopic
from scenarios.selectors import ScenarioFilters


class ScenarioListSerializer(serializers.ModelSerializer[Scenario]):
    topic_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Scenario
        fields = [
            "code",
            "title_en",
            "title_zh",
            "summary_en",
            "summary_zh",
            "scenario_type",
            "list_kind",
            "setting",
            "maturity",
            "target_year",
            "origin",
            "topic_count",
        ]


class NeededTopicSerializer(serializers.ModelSerializer[ScenarioTopic]):
    topic = serializers.CharField(source="topic.code")
    name_en = serializers.CharField(source="topic.name_en")
    name_zh = serializers.CharField(source="topic.name_zh")

    class Meta:
        model = ScenarioTopic
        fields = ["topic", "name_en", "name_zh", "role"]


class ScenarioDetailSerializer(serializers.ModelSerializer[Scenario]):
    directions: serializers.SlugRelatedField[Direction] = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    topics = NeededTopicSerializer(source="topic_links", many=True, read_only=True)
    sources = SourceSerializer(many=True, read_only=True)
    entry = serializers.SerializerMethodField(help_text="Code of the exchange entry it is published as")
    releases = serializers.SerializerMethodField(
        help_text="The published releases that list it, newest first: code, date and what the release changed"
    )

    class Meta:
        model = Scenario
        fields = [
            "code",
            "title_en",
            "title_zh",
            "summary_en",
            "summary_zh",
            "scenario_type",
            "list_kind",
            "setting",
            "sector_en",
            "sector_zh",
            "problem_en",
            "problem_zh",
            "requirements_en",
            "requirements_zh",
            "enablers_infrastructure_en",
            "enablers_infrastructure_zh",
            "enablers_business_model_en",
            "enablers_business_model_zh",
            "enablers_institutions_en",
            "enablers_institutions_zh",
            "maturity",
            "target_year",
            "region_en",
            "region_zh",
            "origin",
            "entry",
            "releases",
            "directions",
            "topics",
            "sources",
        ]

    def get_entry(self, scenario: Scenario) -> str | None:
        entry = selectors.scenario_entry(scenario=scenario)
        return entry.code if entry else None

    def get_releases(self, scenario: Scenario) -> list[dict[str, Any]]:
        return [
            {"release": item.release.code, "released_on": item.release.released_on, "change": item.change}
            for item in selectors.scenario_releases(scenario=scenario)
        ]


class ScenarioFilter(StrictFilterSet):
    q = django_filters.CharFilter(method="noop", help_text="Search in titles and summaries")
    setting = django_filters.ChoiceFilter(method="noop", choices=Scenario.Setting.choices)
    scenario_type = django_filters.ChoiceFilter(method="noop", choices=Scenario.ScenarioType.choices)
    list_kind = django_filters.ChoiceFilter(method="noop", choices=Scenario.ListKind.choices)
    maturity = django_filters.ChoiceFilter(method="noop", choices=Scenario.Maturity.choices)
    direction = django_filters.CharFilter(method="noop", help_text="Direction slug")
    topic = django_filters.CharFilter(method="noop", help_text="Code of a needed topic")

    class Meta:
        model = Scenario
        fields: list[str] = []

    def noop(self, queryset: QuerySet[Scenario], name: str, value: Any) -> QuerySet[Scenario]:
        return queryset

    def filter_queryset(self, queryset: QuerySet[Scenario]) -> QuerySet[Scenario]:
        data = {name: self.form.cleaned_data.get(name) or "" for name in ScenarioFilters.__dataclass_fields__}
        return selectors.scenario_list(filters=ScenarioFilters(**data))


class SimilarScenarioSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    title_en = serializers.CharField()
    title_zh = serializers.CharField()
    score = serializers.FloatField(
        min_value=0, max_value=1, help_text="Cosine similarity of character n-grams, 0 to 1, 3 decimals"
    )
    url = serializers.URLField(help_text="The scenario in this API")


class SimilarScenariosSerializer(serializers.Serializer[Any]):
    query = serializers.CharField(help_text="The text compared, surrounding spaces stripped")
    results = SimilarScenarioSerializer(many=True, help_text="Most similar first; ties by code")


class ScenarioViewSet(CachedPublicRead, viewsets.ReadOnlyModelViewSet[Scenario]):
    """Published application scenarios, addressed by code, with the topics they need."""

    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filterset_class = ScenarioFilter

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Scenario]]:
        return ScenarioDetailSerializer if self.action == "retrieve" else ScenarioListSerializer

    def get_queryset(self) -> QuerySet[Scenario]:
        return selectors.scenario_list(filters=ScenarioFilters())

    def get_object(self) -> Scenario:
        return selectors.scenario_get(code=self.kwargs["code"])

    @extend_schema(
        operation_id="scenarios_similar",
        summary="The published scenarios most similar to a text",
        description="Near-duplicate search in English, Chinese or both (character n-gram TF-IDF, cosine "
        "similarity): the scenarios whose text fields are most like the text.",
        parameters=SIMILAR_PARAMETERS,
        responses={200: SimilarScenariosSerializer},
    )
    @action(detail=False, methods=["get"], url_path="similar", filter_backends=[], pagination_class=None)
    def similar(self, request: Request) -> Response:
        return similar_response(
            request,
            search=lambda text, limit: selectors.scenario_similar(text=text, limit=limit),
            row=lambda scenario: {
                "code": scenario.code,
                "title_en": scenario.title_en,
                "title_zh": scenario.title_zh,
                "url": reverse("api-scenario-detail", kwargs={"code": scenario.code}, request=request),
            },
            serializer=SimilarScenariosSerializer,
        )
