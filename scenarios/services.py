"""Writes to application scenarios; ``scenarios_load`` loads the curated scenario list (idempotently)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from foresight.catalog.models import Direction, PublicationStatus, SourceProgramme, Topic
from foresight.catalog.services import LoadReport, bilingual_values, m2m_sync, require_keys, sources_sync, upsert
from scenarios.models import Scenario, ScenarioTopic

SCENARIOS_PATH = Path(__file__).resolve().parent / "data" / "scenarios.yaml"

TEXT_FIELDS = ["title", "summary"]
OPTIONAL_TEXT_FIELDS = [
    "sector",
    "problem",
    "requirements",
    "enablers_infrastructure",
    "enablers_business_model",
    "enablers_institutions",
    "region",
]


@transaction.atomic
def scenarios_load(*, data: dict[str, Any], topics: dict[str, Topic], report: LoadReport) -> None:
    """Load scenarios with their sources, directions and needed topics (roles)."""
    programmes = {p.code: p for p in SourceProgramme.objects.all()}
    directions = {d.slug: d for d in Direction.objects.all()}
    for s in data.get("scenarios") or []:
        where = f"scenario {s.get('code', '?')}"
        require_keys(s, ["code", "scenario_type", "list_kind", "setting", "maturity"], where)
        target_year = s.get("target_year")
        values = {
            **bilingual_values(s, TEXT_FIELDS, where),
            **bilingual_values(s, OPTIONAL_TEXT_FIELDS, where, required=False),
            "scenario_type": str(s["scenario_type"]),
            "list_kind": str(s["list_kind"]),
            "setting": str(s["setting"]),
            "maturity": str(s["maturity"]),
            "target_year": int(target_year) if target_year is not None else None,
            "status": str(s.get("status") or PublicationStatus.PUBLISHED),
        }
        scenario = upsert(Scenario, lookup={"code": str(s["code"])}, values=values, report=report, where=where)
        sources_sync(entry=scenario, sources=s.get("sources"), programmes=programmes, report=report, where=where)
        try:
            wanted = [directions[str(slug)] for slug in s.get("directions") or []]
        except KeyError as exc:
            raise ValidationError(f"{where}: unknown direction {exc.args[0]!r}") from None
        m2m_sync(scenario.directions, wanted, report, "scenario_directions")

        existing = {link.topic_id: link for link in ScenarioTopic.objects.filter(scenario=scenario)}
        keep: set[int] = set()
        for link in s.get("topics") or []:
            link_where = f"{where} topic {link.get('topic', '?')}"
            require_keys(link, ["topic", "role"], link_where)
            topic = topics.get(str(link["topic"])) or Topic.objects.filter(code=str(link["topic"])).first()
            if topic is None:
                raise ValidationError(f"{link_where}: unknown topic")
            if topic.pk in keep:
                raise ValidationError(f"{link_where}: listed twice")
            keep.add(topic.pk)
            upsert(
                ScenarioTopic,
                lookup={"scenario": scenario, "topic": topic},
                values={"role": str(link["role"])},
                report=report,
                where=link_where,
            )
        for topic_id, old in existing.items():
            if topic_id not in keep:
                old.delete()
                report.deleted["scenariotopic"] += 1
