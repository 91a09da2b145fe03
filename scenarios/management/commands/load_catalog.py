"""``manage.py load_catalog``: the curated catalog, then the scenarios that link its topics, in one
transaction.  It lives in scenarios because scenarios build on the catalog (the catalog never imports
scenarios)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from foresight.catalog.services import CATALOG_PATH, LoadReport, catalog_load, yaml_read
from scenarios.exchange.catalog_release import catalog_release_sync
from scenarios.services import SCENARIOS_PATH, scenarios_load


class Command(BaseCommand):
    help = (
        "Load the curated catalog (directions, areas, topics, clusters, sources) and scenarios, and publish the "
        "curated scenarios that are new or changed as a scenario release. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--catalog", type=Path, default=CATALOG_PATH, help="catalog YAML file")
        parser.add_argument("--scenarios", type=Path, default=SCENARIOS_PATH, help="scenarios YAML file")

    def handle(self, *args: Any, **options: Any) -> None:
        report = LoadReport()
        try:
            with transaction.atomic():
                topics = catalog_load(data=yaml_read(options["catalog"]), report=report)
                scenarios_load(data=yaml_read(options["scenarios"]), topics=topics, report=report)
                release = catalog_release_sync()
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"catalog loaded: {report.summary()}")
        if release is not None:
            self.stdout.write(f"scenario release {release.code} published: {release.items.count()} entries")
