"""Scenario pull of a topic from published evidence: the formula, with no Django import (STYLE §3).

The selector ``scenarios.selectors.scenario_pull_evidence`` reads the rows (published scenarios that link the
topic, the scale of the entry each is published as, the pilots of those entries with a verified stage); this
module turns them into numbers, and a test recomputes them independently from the stored rows.

For a topic t, with w(role) the role weight (core 1.0, enabling 0.6, complementary 0.3):

* **demand** D(t) = Σ over published scenarios s that link t and whose list kind is not *capability*
  (demand, demonstration, vision; curated or from the exchange: a capability listing is supply, not pull)
  of w(role) × (1 + log10(1 + sites(s))), where sites(s) is the number of sites (``scale_sites``) of the
  published version of the exchange entry s is published as; 0 (a factor of 1) without an entry or a scale.
* **pilots** P(t) = Σ over pilots p of those scenarios' demand entries whose *verified* stage is set and not
  stopped of w(role) × stage weight: opened 1, pilot 2, demonstration 3, scaling 4, mainstream 5. The stage a
  pilot only claims never counts, and a stopped pilot counts 0.
* **panel** R(t), the Delphi panel's rating of how strongly the scenarios that need t demand it, is not
  measurable yet (experts do not rate scenarios); it will be a third entry of ``COMPONENTS``.

scenario_pull(t) = D(t) + P(t), rounded to ``DECIMALS`` decimals. Sums are exact-rounded (``math.fsum``), so
the order of the rows changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "COMPONENTS",
    "DECIMALS",
    "STAGE_WEIGHTS",
    "PilotRow",
    "ScenarioRow",
    "scale_factor",
    "stage_weight",
    "topic_pull",
]

# Verified pilot stages, the further the more weight; "stopped" (or no verified stage) weighs 0.
STAGE_WEIGHTS: dict[str, float] = {"opened": 1.0, "pilot": 2.0, "demonstration": 3.0, "scaling": 4.0, "mainstream": 5.0}
# The components of scenario pull, in the order they are added. The panel's rating joins when it exists.
COMPONENTS = ("demand", "pilots")
# Like the 0–100 indices of a scoring run (``foresight.priorities.scoring.INDEX_DECIMALS``).
DECIMALS = 10


@dataclass(frozen=True)
class ScenarioRow:
    """A published, non-capability scenario linking a topic, with the role and its entry's published sites."""

    topic: Hashable
    scenario: str  # code
    role: str
    sites: int | None


@dataclass(frozen=True)
class PilotRow:
    """A pilot of the demand entry a scenario linking a topic is published as, with its verified stage."""

    topic: Hashable
    pilot: str  # code
    scenario: str  # code
    role: str
    stage: str  # the verified stage ("" when none is verified yet)


def scale_factor(sites: int | None) -> float:
    """1 + log10(1 + sites): 1 without a scale, 2 for 9 sites, 3 for 99."""
    return 1.0 + math.log10(1.0 + max(0, sites or 0))


def stage_weight(stage: str) -> float:
    """Weight of a verified stage (0 for stopped or none)."""
    return STAGE_WEIGHTS.get(stage, 0.0)


def _round(value: float) -> float:
    return round(value, DECIMALS)


def topic_pull(
    *,
    topics: Iterable[Hashable],
    scenarios: Iterable[ScenarioRow],
    pilots: Iterable[PilotRow],
    role_weights: Mapping[str, float],
) -> dict[Hashable, dict[str, Any]]:
    """Per topic: ``total`` (the criterion), ``components`` {demand: D, pilots: P}, and what they come from:
    ``scenarios`` [{code, role, sites, value}] and ``pilots`` [{code, scenario, role, stage, value}] (code order;
    a pilot whose stage weighs 0 is not listed). Every topic of ``topics`` is in the answer, with zeros if need be.
    """
    out: dict[Hashable, dict[str, Any]] = {
        t: {"total": 0.0, "components": dict.fromkeys(COMPONENTS, 0.0), "scenarios": [], "pilots": []} for t in topics
    }
    for row in scenarios:
        value = role_weights.get(row.role, 0.0) * scale_factor(row.sites)
        out[row.topic]["scenarios"].append(
            {"code": row.scenario, "role": row.role, "sites": row.sites, "value": _round(value)}
        )
    for p in pilots:
        weight = stage_weight(p.stage)
        if weight == 0:
            continue
        value = role_weights.get(p.role, 0.0) * weight
        out[p.topic]["pilots"].append(
            {"code": p.pilot, "scenario": p.scenario, "role": p.role, "stage": p.stage, "value": _round(value)}
        )
    for item in out.values():
        item["scenarios"].sort(key=lambda s: s["code"])
        item["pilots"].sort(key=lambda p: (p["code"], p["scenario"]))
        demand = math.fsum(role_weights.get(s["role"], 0.0) * scale_factor(s["sites"]) for s in item["scenarios"])
        piloted = math.fsum(role_weights.get(p["role"], 0.0) * stage_weight(p["stage"]) for p in item["pilots"])
        item["components"] = {"demand": _round(demand), "pilots": _round(piloted)}
        item["total"] = _round(math.fsum([demand, piloted]))
    return out
