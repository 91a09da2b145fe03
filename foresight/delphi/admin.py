"""Raw views for staff. Answers and pseudonyms are deliberately not exposed here: staff see who
takes part and how far they are, never whose answer is whose."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from foresight.core.admin import ReadOnlyAdmin
from foresight.delphi.models import Expert, Participant, Round, Study


class RoundInline(admin.TabularInline):
    model = Round
    extra = 0
    fields = readonly_fields = ("number", "code", "status", "opens_at", "closes_at", "aggregated_at", "checksum")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Study)
class StudyAdmin(ReadOnlyAdmin):
    list_display = ["code", "title_en", "status", "planned_rounds", "k_threshold", "frozen_at"]
    list_filter = ["status", "mode"]
    search_fields = ["code", "title_en", "title_zh"]
    inlines = [RoundInline]


@admin.register(Expert)
class ExpertAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "sector", "country", "organisation"]
    list_filter = ["sector", "country"]
    search_fields = ["email", "name", "organisation"]
    filter_horizontal = ["areas"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Expert]:
        """Staff other than superusers see the experts of the panels of studies open to them (named managers)."""
        experts = super().get_queryset(request)
        if request.user.is_superuser:
            return experts
        open_to_them = Participant.objects.filter(study__in=Study.objects.for_staff(request.user))
        return experts.filter(pk__in=open_to_them.values("expert_id"))
