from __future__ import annotations

from django.apps import AppConfig


class DelphiConfig(AppConfig):
    name = "foresight.delphi"
    label = "delphi"
    verbose_name = "Delphi studies"

    def ready(self) -> None:
        # Registers the Celery tasks that services queue by name (foresight.core.queue); imported here
        # because the tasks' services need the models loaded.
        from foresight.delphi import tasks  # noqa: F401
