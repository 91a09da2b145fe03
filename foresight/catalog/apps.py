from __future__ import annotations

from django.apps import AppConfig

from foresight.core import cache


class CatalogConfig(AppConfig):
    name = "foresight.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        cache.invalidate_on_change(self)  # the public pages show the catalog
