from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from foresight.core import cache, roles, similarity


class ScenariosConfig(AppConfig):
    name = "scenarios"
    verbose_name = "Application scenarios"

    def ready(self) -> None:
        cache.invalidate_on_change(self)  # the public pages show the scenarios
        roles.grant_models(self, "Curator", only=["scenario", "scenariotopic"])  # curation happens in the admin
        # Curators confirm organisations (``verified_at``); members and invitations are the organisations' own.
        roles.grant(
            self.label,
            "Curator",
            "view_organisation",
            "change_organisation",
            "review_entry",
            "publish_release",
            "run_matching",
            "verify_pilot",
        )
        roles.nav_register("review", _("Entry review"), "exchange:review-queue", ["scenarios.review_entry"], order=40)
        roles.nav_register(
            "releases", _("Releases"), "exchange:release-admin-list", ["scenarios.publish_release"], order=41
        )
        roles.nav_register("matching", _("Matching"), "exchange:matching-runs", ["scenarios.run_matching"], order=42)
        roles.nav_register("pilots", _("Pilot evidence"), "exchange:pilot-review", ["scenarios.verify_pilot"], order=43)
        roles.nav_register(
            "conversation-reports",
            _("Conversation reports"),
            "exchange:conversation-reports",
            ["scenarios.review_entry"],
            order=44,
        )
        # Imported here because the selectors need the models loaded.
        from scenarios import selectors
        from scenarios.exchange import selectors as exchange_selectors

        similarity.corpus_register(
            similarity.Corpus(
                selectors.SCENARIO_CORPUS,
                documents=selectors.scenario_similarity_documents,
                version=selectors.scenario_similarity_version,
            )
        )
        similarity.corpus_register(
            similarity.Corpus(
                exchange_selectors.ENTRY_CORPUS,
                documents=exchange_selectors.entry_similarity_documents,
                version=exchange_selectors.entry_similarity_version,
            )
        )
        # Registers the Celery tasks that services queue by name (foresight.core.queue).
        from scenarios import tasks  # noqa: F401
