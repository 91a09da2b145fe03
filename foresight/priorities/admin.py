"""Read-only admin for scoring runs and editions: they change only through services (publishing is immutable)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from foresight.core.admin import ReadOnlyAdmin
from foresight.priorities.models import Edition, EditionEntry, ScoringRun


@admin.register(ScoringRun)
class ScoringRunAdmin(ReadOnlyAdmin):
    list_display = ["code", "study", "round", "status", "progress", "seed", "bootstrap_b", "top_k", "created_at"]
    list_filter = ["status"]
    search_fields = ["code", "study__code", "fingerprint"]
    list_select_related = ["study", "round"]


class EditionEntryInline(admin.TabularInline):
    model = EditionEntry
    extra = 0
    fields = readonly_fields = ("topic", "tier", "rank", "rank_low", "rank_high", "score", "decided_by", "decided_at")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Edition)
class EditionAdmin(ReadOnlyAdmin):
    list_display = ["code", "title_en", "study", "status", "published_at"]
    list_filter = ["status"]
    search_fields = ["code", "title_en", "title_zh"]
    inlines = [EditionEntryInline]


@admin.register(EditionEntry)
class EditionEntryAdmin(ReadOnlyAdmin):
    list_display = ["edition", "topic", "tier", "rank", "score", "decided_at"]
    list_filter = ["tier", "edition"]
    list_select_related = ["edition", "topic"]
