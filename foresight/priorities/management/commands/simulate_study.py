from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from foresight.delphi.models import Study
from foresight.delphi.services.simulation import study_simulate
from foresight.priorities.services.publishing import edition_publish_suggested


class Command(BaseCommand):
    help = (
        "Build a study with a synthetic panel, run its rounds through the Celery lifecycle, and print "
        'as the last line {"study": CODE, "rounds": [CODE, ...]} (with --publish also "edition": CODE).'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--experts", type=int, required=True)
        parser.add_argument("--topics", type=int, required=True)
        parser.add_argument("--seed", type=int, required=True)
        parser.add_argument("--rounds", type=int, default=2)
        parser.add_argument(
            "--mode",
            choices=["rounds", "realtime"],
            default="rounds",
            help="realtime: one round with live feedback that experts see and revise towards",
        )
        parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for each aggregation")
        parser.add_argument(
            "--publish",
            action="store_true",
            help="after the rounds, publish a priority edition at the suggested tiers with generated rationales",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = study_simulate(
                experts=options["experts"],
                topics=options["topics"],
                seed=options["seed"],
                rounds=options["rounds"],
                timeout=options["timeout"],
                mode=options["mode"],
            )
            line: dict[str, Any] = {"study": result.study, "rounds": result.rounds}
            if options["publish"]:
                edition = edition_publish_suggested(
                    study=Study.objects.get(code=result.study), seed=options["seed"], timeout=options["timeout"]
                )
                line["edition"] = edition.code
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(json.dumps(line))
