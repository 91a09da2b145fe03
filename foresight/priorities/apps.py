from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from foresight.core import roles
from foresight.priorities.roles import (
    PREPARE_EDITION,
    PUBLISH_EDITION,
    RUN_SCORING,
    VIEW_EDITIONS,
    VIEW_RUNS,
    WORKBENCH,
)


class PrioritiesConfig(AppConfig):
    name = "foresight.priorities"
    label = "priorities"
    verbose_name = "Priorities"

    def ready(self) -> None:
        # Imported here because these modules need the models loaded: the Celery tasks that services
        # queue by name (foresight.core.queue), and this app's part of a Delphi round package.
        from foresight.delphi.services import export
        from foresight.priorities import tasks  # noqa: F401
        from foresight.priorities.services import package

        export.package_part_register(package.round_package_documents)

        label = self.label
        roles.grant(label, "Analyst", "view_scoringrun", "run_scoring", "view_edition", "prepare_edition")
        roles.grant(label, "Publisher", "view_scoringrun", "view_edition", "publish_edition")
        roles.study_scoped(VIEW_RUNS, RUN_SCORING, VIEW_EDITIONS, PREPARE_EDITION, PUBLISH_EDITION)
        roles.nav_register("workbench", _("Priority workbench"), "workbench:index", WORKBENCH, order=20)
