from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from foresight.delphi.models import Round
from foresight.delphi.services.export import round_export_package


class Command(BaseCommand):
    help = (
        "Write a round's reproducibility package as a zip: responses (this round's and earlier rounds'), "
        "stats.csv, round.json, codebook.md, and the round's scoring runs and published editions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("round_code")
        parser.add_argument("--out", type=Path, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        rnd = Round.objects.select_related("study").filter(code=options["round_code"]).first()
        if rnd is None:
            raise CommandError(f"No round with code {options['round_code']!r}")
        if rnd.status != Round.Status.AGGREGATED:
            raise CommandError(f"Round {rnd.code} is {rnd.status}; only an aggregated round can be exported")
        out: Path = options["out"]
        out.write_bytes(round_export_package(rnd=rnd))
        self.stdout.write(f"wrote {out}")
