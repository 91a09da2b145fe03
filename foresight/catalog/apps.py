from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from foresight.core import cache, roles, similarity


class CatalogConfig(AppConfig):
    name = "foresight.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        cache.invalidate_on_change(self)  # the public pages show the catalog
        roles.grant_models(self, "Curator")  # curation happens in the admin
        roles.nav_register("catalog", _("Catalog admin"), "admin:index", ["catalog.change_topic"], order=30)
        # Imported here because the selectors need the models loaded.
        from foresight.catalog import selectors

        similarity.corpus_register(
            similarity.Corpus(
                selectors.TOPIC_CORPUS,
                documents=selectors.topic_similarity_documents,
                version=selectors.topic_similarity_version,
            )
        )
