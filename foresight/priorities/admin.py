"""Read-only admin for scoring runs and editions: they change only through services (publishing is immutable)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from foresight.core.admin import ReadOnlyAdmin
from foresight.delphi.models import Study
from foresight.priorities.models import Edition, EditionEntry, ScoringRun


class OfOpenStudies(ReadOnlyAdmin):
    """Rows of studies open to the viewer: a study with named managers is theirs alone, in the admin too."""

    study_path = "study"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(**{f"{self.study_path}__in": Study.objects.for_staff(request.user)})


@admin.register(ScoringRun)
class ScoringRunAdmin(OfOpenStudies):
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
class EditionAdmin(OfOpenStudies):
    list_display = ["code", "title_en", "study", "status", "published_at"]
    list_filter = ["status"]
    search_fields = ["code", "title_en", "title_zh"]
    inlines = [EditionEntryInline]


@admin.register(EditionEntry)
class EditionEntryAdmin(OfOpenStudies):
    study_path = "edition__study"

    list_display = ["edition", "topic", "tier", "rank", "score", "decided_at"]
    list_filter = ["tier", "edition"]
    list_select_related = ["edition", "topic"]
