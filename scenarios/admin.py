from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from foresight.catalog.admin import SourceReferenceInline
from scenarios.models import Scenario, ScenarioTopic


class ScenarioTopicInline(admin.TabularInline):
    model = ScenarioTopic
    extra = 0
    autocomplete_fields = ["topic"]


@admin.register(Scenario)
class ScenarioAdmin(SimpleHistoryAdmin):
    list_display = ["code", "title_en", "title_zh", "scenario_type", "setting", "maturity", "status"]
    list_filter = ["status", "scenario_type", "list_kind", "setting", "maturity"]
    search_fields = ["code", "title_en", "title_zh"]
    filter_horizontal = ["directions"]
    inlines = [ScenarioTopicInline, SourceReferenceInline]
