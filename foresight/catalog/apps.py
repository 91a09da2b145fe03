from __future__ import annotations

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "foresight.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from foresight.core import cache

        cache.connect_invalidation()
