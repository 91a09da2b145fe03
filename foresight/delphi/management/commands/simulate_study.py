from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from foresight.delphi.services.simulation import study_simulate


class Command(BaseCommand):
    help = (
        "Build a study with a synthetic panel, run its rounds through the Celery lifecycle, and print "
        'as the last line {"study": CODE, "rounds": [CODE, ...]}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--experts", type=int, required=True)
        parser.add_argument("--topics", type=int, required=True)
        parser.add_argument("--seed", type=int, required=True)
        parser.add_argument("--rounds", type=int, default=2)
        parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for each aggregation")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = study_simulate(
                experts=options["experts"],
                topics=options["topics"],
                seed=options["seed"],
                rounds=options["rounds"],
                timeout=options["timeout"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(json.dumps({"study": result.study, "rounds": result.rounds}))
