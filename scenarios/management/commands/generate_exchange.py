"""``manage.py generate_exchange``: organisations and demand and capability entries of the scenario exchange at
scale (the benchmark's 10,000 capability and 2,000 demand entries), deterministic from a seed; ``--publish``
publishes the accepted ones in releases through the release services. See ``scenarios.exchange.generate``."""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scenarios.exchange.generate import generate


class Command(BaseCommand):
    help = (
        "Generate organisations and demand and capability entries of the scenario exchange, deterministic from "
        "--seed; --publish publishes the accepted ones in releases. Refuses a second generation unless --append."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--capability", type=int, default=10_000, help="capability entries (default 10,000)")
        parser.add_argument("--demand", type=int, default=2_000, help="demand entries (default 2,000)")
        parser.add_argument("--organisations", type=int, default=500, help="organisations (default 500)")
        parser.add_argument("--seed", type=int, default=1, help="the generator's seed (default 1)")
        parser.add_argument(
            "--publish", action="store_true", help="publish the accepted entries in releases (through the services)"
        )
        parser.add_argument("--releases", type=int, default=1, help="releases to publish them in (default 1)")
        parser.add_argument(
            "--hold", type=int, default=0, help="accepted entries to leave out of the releases (default 0)"
        )
        parser.add_argument(
            "--append", action="store_true", help="add to a database that holds a generated exchange already"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        verbose = options["verbosity"] > 1
        try:
            report = generate(
                capability=options["capability"],
                demand=options["demand"],
                organisations=options["organisations"],
                seed=options["seed"],
                publish=options["publish"],
                releases_n=options["releases"],
                hold=options["hold"],
                append=options["append"],
                log=(lambda message: self.stdout.write(f"  {message}")) if verbose else None,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(f"generated in {time.perf_counter() - started:.1f} s")
