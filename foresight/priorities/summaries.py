"""Per-direction and per-area summaries of an edition, as national foresight reports print them.

Pure Python (no Django): the selectors hand in each entry's group key, tier and released report
(``EditionEntry.data["report"]``), and get back, per group, the number of topics by tier, the median
of the topics' median years of technical and social realisation, and the most cited policy measures
and implementation barriers.  Everything here is computed from figures the disclosure layer already
released for each topic (medians of released medians, sums of released counts), so a summary can
never reveal more than the topic figures it is built from.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

TIERS = ("priority", "key", "watch", "insufficient")
YEAR_ITEMS = ("tech_year", "social_year")
CITED_ITEMS = ("policy_measures", "implementation_barriers")
MOST_CITED = 3


@dataclass
class GroupSummary:
    key: str
    topics: int = 0
    tiers: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TIERS, 0))
    # Item → (median of the released topic medians, how many topics have one).
    years: dict[str, tuple[float | None, int]] = field(default_factory=dict)
    # Item → the most cited options: (code, mentions, share of the respondents to the item in these topics).
    cited: dict[str, list[tuple[str, int, float]]] = field(default_factory=dict)


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def summarise(entries: Iterable[tuple[str, str, Mapping[str, Any]]]) -> list[GroupSummary]:
    """Summaries per group key, in order of first appearance.

    ``entries``: (group key, tier, report) per topic.  Cited options: over the topics whose item is
    released, the summed counts of each option and their share of the summed respondents to the
    item; ties are broken by option code; options never cited are left out.
    """
    groups: dict[str, GroupSummary] = {}
    medians: dict[str, dict[str, list[float]]] = {}
    counts: dict[str, dict[str, dict[str, int]]] = {}
    respondents: dict[str, dict[str, int]] = {}
    for key, tier, report in entries:
        summary = groups.setdefault(key, GroupSummary(key=key))
        summary.topics += 1
        summary.tiers[tier] = summary.tiers.get(tier, 0) + 1
        items = (report or {}).get("items") or {}
        for item in YEAR_ITEMS:
            median = (items.get(item) or {}).get("median")
            if median is not None:
                medians.setdefault(key, {}).setdefault(item, []).append(float(median))
        for item in CITED_ITEMS:
            released = items.get(item) or {}
            if released.get("n") is None:
                continue
            respondents.setdefault(key, {})[item] = respondents.get(key, {}).get(item, 0) + int(released["n"])
            mine = counts.setdefault(key, {}).setdefault(item, {})
            for code, count in (released.get("counts") or {}).items():
                mine[code] = mine.get(code, 0) + int(count)
    for key, summary in groups.items():
        for item in YEAR_ITEMS:
            values = medians.get(key, {}).get(item, [])
            summary.years[item] = (_median(values), len(values))
        for item in CITED_ITEMS:
            total = respondents.get(key, {}).get(item, 0)
            ranked = sorted(
                ((code, count) for code, count in counts.get(key, {}).get(item, {}).items() if count > 0),
                key=lambda c: (-c[1], c[0]),
            )
            summary.cited[item] = [(code, count, count / total) for code, count in ranked[:MOST_CITED] if total]
    return list(groups.values())
