from __future__ import annotations

from django.apps import AppConfig


class PrioritiesConfig(AppConfig):
    name = "foresight.priorities"
    label = "priorities"
    verbose_name = "Priorities"

    def ready(self) -> None:
        # Registers the Celery tasks that services queue by name (foresight.core.queue); imported here
        # because the tasks' services need the models loaded.
        from foresight.priorities import tasks  # noqa: F401
