from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from foresight.core import roles
from foresight.delphi.roles import CONSOLE


class DelphiConfig(AppConfig):
    name = "foresight.delphi"
    label = "delphi"
    verbose_name = "Delphi studies"

    def ready(self) -> None:
        # Registers the Celery tasks that services queue by name (foresight.core.queue); imported here
        # because the tasks' services need the models loaded.
        from foresight.delphi import tasks  # noqa: F401

        label = self.label
        roles.grant(label, "Study manager", "manage_study", "view_results")
        # The admin's expert list (read-only for her: an address change would redirect an expert's links).
        roles.grant(label, "Panel manager", "manage_panel", "view_expert")
        roles.grant(label, "Moderator", "moderate_argument")
        roles.grant(label, "Analyst", "view_results")
        roles.study_scoped(*CONSOLE)
        roles.nav_register("console", _("Delphi console"), "staff:study-list", CONSOLE, order=10)
