"""The audit log in admin, read-only, and the read-only base the apps' admins share."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from foresight.core.models import AuditLog


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows that change only through services: admin shows them and never adds, edits or deletes."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "actor", "study", "round"]
    list_filter = ["action"]
    date_hierarchy = "at"
