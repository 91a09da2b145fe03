from __future__ import annotations

from django.apps import AppConfig


class PrioritiesConfig(AppConfig):
    name = "foresight.priorities"
    label = "priorities"
    verbose_name = "Priorities"
