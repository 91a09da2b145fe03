"""Published pilots and the pipeline's figures as open data.

- ``pilots.json``: each published pilot exactly as ``GET /api/v1/pilots/`` shows it (one serializer);
- ``pilots.csv``: one row per verified stage change of a published pilot (every text cell guarded against
  spreadsheet formulas);
- ``pipeline.json``: the figures of ``pilot_selectors.pipeline_get``, as the page and the API show them;
- ``pipeline.csv``: the same figures in long form, one number a row (``figure, group, stage, value``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from foresight.core.spreadsheet import spreadsheet_text
from scenarios.exchange.pilot_api import PilotSerializer  # the one shape of a public pilot
from scenarios.models import Pilot

PILOT_COLUMNS = [
    "pilot",
    "verified_stage",
    "demand",
    "scenario",
    "setting",
    "site_en",
    "site_zh",
    "region_en",
    "region_zh",
    "organisations",
    "stage",
    "on",
    "evidence_kind",
    "evidence_url",
    "evidence_title",
    "sites_reached",
    "users_reached",
    "note_en",
    "note_zh",
]
PIPELINE_COLUMNS = ["figure", "group", "stage", "value"]


def pilots_document(pilots: Sequence[Pilot]) -> list[dict[str, Any]]:
    return list(PilotSerializer(pilots, many=True).data)


def _row(values: list[Any]) -> list[Any]:
    return [spreadsheet_text(v) if isinstance(v, str) else ("" if v is None else v) for v in values]


def pilots_csv(pilots: Sequence[Pilot]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PILOT_COLUMNS)
    for doc in pilots_document(pilots):
        head = [
            doc["code"],
            doc["verified_stage"],
            doc["demand"],
            doc["scenario"] or "",
            doc["setting"],
            doc["site_en"],
            doc["site_zh"],
            doc["region_en"],
            doc["region_zh"],
            ";".join(f"{o['code']}:{o['role']}" for o in doc["organisations"]),
        ]
        for change in doc["timeline"]:
            writer.writerow(
                _row(
                    head
                    + [
                        change["stage"],
                        change["on"],
                        change["evidence_kind"],
                        change["evidence_url"],
                        change["evidence_title"],
                        change["sites_reached"],
                        change["users_reached"],
                        change["note_en"],
                        change["note_zh"],
                    ]
                )
            )
    return out.getvalue()


def pipeline_document(figures: dict[str, Any]) -> dict[str, Any]:
    return figures


def pipeline_csv(figures: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PIPELINE_COLUMNS)
    for stage, value in figures["by_stage"].items():
        writer.writerow(_row(["by_stage", "", stage, value]))
    for name in ("by_direction", "by_setting", "by_region"):
        for group in figures[name]:
            for stage, value in group["stages"].items():
                writer.writerow(_row([name, group["key"], stage, value]))
    for row in figures["over_time"]:
        for stage, value in row["stages"].items():
            writer.writerow(_row([f"reached_per_{figures['period']}", row["period"], stage, value]))
    for row in figures["durations"]:
        writer.writerow(_row(["pilots_reaching", "", row["stage"], row["count"]]))
        writer.writerow(_row(["median_days_from_opening", "", row["stage"], row["median_days"]]))
    return out.getvalue()
