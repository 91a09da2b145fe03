from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate

from foresight.core import roles


class CoreConfig(AppConfig):
    name = "foresight.core"
    label = "core"
    verbose_name = "Foresight core"

    def ready(self) -> None:
        # Runs after django.contrib.auth's own handler (auth is installed before core) made the permissions.
        post_migrate.connect(roles.on_post_migrate, dispatch_uid="foresight.core.roles")
