from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "foresight.core"
    label = "core"
    verbose_name = "Foresight core"
