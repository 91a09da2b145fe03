"""Curation in Django admin: every change is kept with who, what and when (django-simple-history)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from foresight.catalog.models import Area, Cluster, Direction, SourceProgramme, SourceReference, Topic
from foresight.catalog.services import topic_status_set


class SourceReferenceInline(GenericTabularInline):
    model = SourceReference
    extra = 0
    autocomplete_fields = ["programme"]
    fields = ["programme", "label", "locator", "url"]


@admin.register(SourceProgramme)
class SourceProgrammeAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name_en", "name_zh", "country", "year"]
    search_fields = ["code", "name_en", "name_zh"]


@admin.register(Direction)
class DirectionAdmin(SimpleHistoryAdmin):
    list_display = ["slug", "name_en", "name_zh", "order", "status"]
    list_filter = ["status"]
    search_fields = ["slug", "name_en", "name_zh"]
    inlines = [SourceReferenceInline]


@admin.register(Area)
class AreaAdmin(SimpleHistoryAdmin):
    list_display = ["slug", "name_en", "name_zh", "direction", "order", "status"]
    list_filter = ["status", "direction"]
    list_select_related = ["direction"]
    search_fields = ["slug", "name_en", "name_zh"]
    inlines = [SourceReferenceInline]


@admin.register(Cluster)
class ClusterAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name_en", "name_zh", "kind"]
    list_filter = ["kind"]
    search_fields = ["code", "name_en", "name_zh"]
    inlines = [SourceReferenceInline]


@admin.register(Topic)
class TopicAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name_en", "name_zh", "area", "kind", "status", "updated_at"]
    list_filter = ["status", "kind", "area__direction", "clusters"]
    list_select_related = ["area"]
    search_fields = ["code", "name_en", "name_zh", "statement_en", "statement_zh"]
    autocomplete_fields = ["area", "secondary_areas", "clusters"]
    inlines = [SourceReferenceInline]
    actions = ["mark_candidate", "mark_draft"]
    fieldsets = [
        (None, {"fields": ["code", "area", "secondary_areas", "kind", "trl", "status", "clusters", "tags"]}),
        ("English", {"fields": ["name_en", "statement_en", "description_en"]}),
        ("中文", {"fields": ["name_zh", "statement_zh", "description_zh"]}),
    ]

    @admin.action(description="Publish to the catalog as candidate (review done)")
    def mark_candidate(self, request: HttpRequest, queryset: QuerySet[Topic]) -> None:
        changed = sum(
            topic_status_set(topic=t, status=Topic.Status.CANDIDATE) for t in queryset.filter(status=Topic.Status.DRAFT)
        )
        self.message_user(request, f"{changed} topic(s) are now public candidates.")

    @admin.action(description="Return to draft (hidden from the public)")
    def mark_draft(self, request: HttpRequest, queryset: QuerySet[Topic]) -> None:
        changed = sum(topic_status_set(topic=t, status=Topic.Status.DRAFT) for t in queryset)
        self.message_user(request, f"{changed} topic(s) returned to draft.")
