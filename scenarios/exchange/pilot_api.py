"""Read-only public API of the pilots: published pilots (a verified opening) with their verified timeline,
and the pipeline's figures (the same ``pilot_selectors.pipeline_get`` the page and the downloads show)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, views, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from foresight.catalog import selectors as catalog_selectors
from foresight.core.api import CachedPublicRead, StrictFilterSet, known_value
from scenarios.exchange import pilot_selectors as selectors
from scenarios.exchange.pipeline import PERIODS, STAGES
from scenarios.models import Entry, Pilot, PilotOrganisation, PilotStageChange, Scenario

# The stages as text (their list in the help): one enum named in several places confuses the schema's names.
STAGE_HELP = "One of " + ", ".join(STAGES)


class StageChangeSerializer(serializers.ModelSerializer[PilotStageChange]):
    stage = serializers.CharField(help_text=STAGE_HELP)

    class Meta:
        model = PilotStageChange
        fields = [
            "stage",
            "on",
            "evidence_kind",
            "evidence_url",
            "evidence_title",
            "note_en",
            "note_zh",
            "sites_reached",
            "users_reached",
        ]


class ParticipantSerializer(serializers.ModelSerializer[PilotOrganisation]):
    code = serializers.CharField(source="organisation.code")
    name_en = serializers.CharField(source="organisation.name_en")
    name_zh = serializers.CharField(source="organisation.name_zh")
    capability = serializers.SerializerMethodField(help_text="Code of the published capability entry it brings")

    class Meta:
        model = PilotOrganisation
        fields = ["code", "name_en", "name_zh", "role", "capability"]

    def get_capability(self, link: PilotOrganisation) -> str | None:
        capability = link.capability
        return capability.code if capability and capability.status == Entry.Status.PUBLISHED else None


class PilotSerializer(serializers.ModelSerializer[Pilot]):
    verified_stage = serializers.CharField(help_text="The furthest verified stage. " + STAGE_HELP)
    demand = serializers.CharField(source="demand.code", help_text="Code of the demand entry")
    scenario = serializers.SerializerMethodField(help_text="Code of the public scenario of the demand entry")
    setting = serializers.CharField(source="shown_setting", help_text="The setting of the demand's scenario")
    stop_reason_en = serializers.SerializerMethodField(help_text="Why it stopped, once the stop is verified")
    stop_reason_zh = serializers.SerializerMethodField(help_text="Why it stopped, once the stop is verified")
    organisations = ParticipantSerializer(source="participants", many=True, read_only=True)
    timeline = StageChangeSerializer(
        source="public_changes", many=True, read_only=True, help_text="The verified stage changes, in date order"
    )

    class Meta:
        model = Pilot
        fields = [
            "code",
            "verified_stage",
            "demand",
            "scenario",
            "setting",
            "site_en",
            "site_zh",
            "region_en",
            "region_zh",
            "stop_reason_en",
            "stop_reason_zh",
            "organisations",
            "timeline",
        ]

    def get_scenario(self, pilot: Pilot) -> str | None:
        scenario = pilot.demand.scenario
        return scenario.code if scenario else None

    def get_stop_reason_en(self, pilot: Pilot) -> str:
        return pilot.stop_reason_en if pilot.verified_stage == Pilot.Stage.STOPPED else ""

    def get_stop_reason_zh(self, pilot: Pilot) -> str:
        return pilot.stop_reason_zh if pilot.verified_stage == Pilot.Stage.STOPPED else ""


class PilotFilter(StrictFilterSet):
    stage = django_filters.ChoiceFilter(method="noop", choices=Pilot.Stage.choices, help_text="The verified stage")
    setting = django_filters.ChoiceFilter(method="noop", choices=Scenario.Setting.choices)
    region = django_filters.CharFilter(method="noop", help_text="Region, in English or Chinese")
    direction = django_filters.CharFilter(
        method="noop", help_text="Direction slug", validators=[known_value(catalog_selectors.direction_options, "slug")]
    )

    class Meta:
        model = Pilot
        fields: list[str] = []

    def noop(self, queryset: QuerySet[Pilot], name: str, value: Any) -> QuerySet[Pilot]:
        return queryset

    def filter_queryset(self, queryset: QuerySet[Pilot]) -> QuerySet[Pilot]:
        data = {k: self.form.cleaned_data.get(k) or "" for k in ("stage", "setting", "region", "direction")}
        return selectors.pilots_public(**data)


class PilotViewSet(CachedPublicRead, viewsets.ReadOnlyModelViewSet[Pilot]):
    """Published pilots (a curator verified their opening), newest first, addressed by code, each with its
    organisations and its verified stage changes; evidence awaiting verification is never shown."""

    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    serializer_class = PilotSerializer
    filterset_class = PilotFilter

    def get_queryset(self) -> QuerySet[Pilot]:
        return selectors.pilots_public()


class GroupSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(help_text="Direction slug, setting or region")
    label = serializers.CharField(help_text="The key as shown, in the request's language")  # type: ignore[assignment]  # a field named "label", as the figures name it
    total = serializers.IntegerField()
    stages = serializers.DictField(child=serializers.IntegerField(), help_text="Pilots by verified stage")


class PeriodRowSerializer(serializers.Serializer[Any]):
    period = serializers.CharField(help_text="A year (2027) or a quarter (2027-Q3)")
    stages = serializers.DictField(child=serializers.IntegerField(), help_text="Pilots reaching each stage in it")


class DurationSerializer(serializers.Serializer[Any]):
    stage = serializers.CharField(help_text=STAGE_HELP + " (not opened)")
    count = serializers.IntegerField(help_text="Published pilots that reached the stage")
    median_days = serializers.FloatField(allow_null=True, help_text="Median days from the opening (verified dates)")


class PipelineSerializer(serializers.Serializer[Any]):
    total = serializers.IntegerField(help_text="Published pilots")
    by_stage = serializers.DictField(child=serializers.IntegerField(), help_text="Pilots by verified stage")
    by_direction = GroupSerializer(many=True)
    by_setting = GroupSerializer(many=True)
    by_region = GroupSerializer(many=True)
    period = serializers.ChoiceField(choices=PERIODS)
    over_time = PeriodRowSerializer(many=True)
    durations = DurationSerializer(many=True)


class PipelineView(CachedPublicRead, views.APIView):
    """The pipeline of published pilots: counts by verified stage, direction, setting and region, over time,
    and how long pilots take from the opening to each stage."""

    @extend_schema(
        operation_id="pipeline",
        summary="The pilot pipeline's figures",
        parameters=[OpenApiParameter("period", str, enum=list(PERIODS), description="Year (default) or quarter")],
        responses={200: PipelineSerializer},
    )
    def get(self, request: Request) -> Response:
        period = request.query_params.get("period", "year")
        if period not in PERIODS:  # given empty, too: "?period=" names no period
            raise exceptions.ValidationError({"period": ["Choose year or quarter, or leave the parameter out."]})
        return Response(PipelineSerializer(selectors.pipeline_get(period=period)).data)
