"""What the public edition page draws, built once for the public page and the staff preview of a draft:
the ranked list with rank intervals and per-topic figures, the matrix, the radar, the Build-Your-Own-
Radar blips, the tier counts, the summaries and the method.  Chart geometry comes from ``charts``;
every number is one the edition's entries carry after the disclosure layer (``editions``)."""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _

from foresight import numbers
from foresight.priorities import charts, exports
from foresight.priorities.labels import quadrant_labels
from foresight.priorities.models import Tier
from foresight.priorities.selectors.editions import (
    ItemSpec,
    PublicEdition,
    PublicEntry,
    edition_method,
    edition_previous_public,
    edition_radar_get,
    edition_summaries,
    entry_figures,
    study_item_specs,
)
from foresight.priorities.services.runs import DEFAULT_COMPETITIVENESS_CUT, DEFAULT_IMPORTANCE_CUT


def tier_labels() -> dict[str, str]:
    return {value: str(label) for value, label in Tier.choices}


def status_labels() -> dict[str, str]:
    return {
        "new": _("New"),
        "moved_in": _("Moved in"),
        "moved_out": _("Moved out"),
        "unchanged": _("Unchanged"),
    }


def matrix_quadrant(entry: PublicEntry) -> str | None:
    """The entry's importance × competitiveness quadrant key, or None when an index is withheld."""
    quadrant = (entry.data.get("quadrant") or {}).get("importance_competitiveness")
    return quadrant if isinstance(quadrant, str) else None


def edition_matrix(edition: PublicEdition, entries: list[PublicEntry]) -> dict[str, Any]:
    tiers = tier_labels()
    thresholds = edition.thresholds
    points = [
        charts.MatrixPoint(
            key=e.topic.code,
            label=str(e.entry.rank or ""),
            title=_("%(rank)s. %(name)s — importance %(importance)s, competitiveness %(competitiveness)s; %(tier)s")
            % {
                "rank": e.entry.rank or "–",
                "name": e.topic.name,
                "importance": numbers.display(e.index("importance"), "index"),
                "competitiveness": numbers.display(e.index("competitiveness"), "index"),
                "tier": tiers.get(e.entry.tier, e.entry.tier),
            },
            x=e.index("competitiveness"),
            y=e.index("importance"),
            tier=e.entry.tier,
        )
        for e in entries
    ]
    labels = {
        **quadrant_labels(),
        "x_axis": _("Competitiveness index (0–100)"),
        "y_axis": _("Importance index (0–100)"),
    }
    return charts.matrix_chart(
        points,
        x_cut=float(thresholds.get("competitiveness", DEFAULT_COMPETITIVENESS_CUT)),
        y_cut=float(thresholds.get("importance", DEFAULT_IMPORTANCE_CUT)),
        labels=labels,
    )


def _ranked(edition: PublicEdition, entries: list[PublicEntry], specs: list[ItemSpec]) -> list[dict[str, Any]]:
    tiers = tier_labels()
    quadrants = quadrant_labels()
    rows = []
    for e in entries:
        quadrant = matrix_quadrant(e)
        rows.append(
            {
                "item": e,
                "tier_label": tiers.get(e.entry.tier, e.entry.tier),
                "tier_symbol": charts.tier_symbol(e.entry.tier, 8, 8, 5.5),
                "quadrant": quadrants.get(quadrant or "", ""),
                "bar": charts.interval_bar(
                    value=e.entry.rank,
                    low=e.entry.rank_low,
                    high=e.entry.rank_high,
                    domain_max=edition.max_rank,
                    tier=e.entry.tier,
                ),
                "importance": e.index("importance"),
                "competitiveness": e.index("competitiveness"),
                "p_top_k": e.data.get("p_top_k"),
                "figures": entry_figures(data=e.data, specs=specs),
            }
        )
    return rows


def edition_radar_chart(edition: PublicEdition) -> dict[str, Any]:
    tiers = tier_labels()
    statuses = status_labels()
    rows, blips = [], []
    for i, blip in enumerate(edition_radar_get(edition=edition), start=1):
        topic = blip["topic"]
        number = blip["entry"].rank or i
        row = {
            "number": number,
            "topic": topic,
            "direction": blip["direction"],
            "ring": tiers.get(blip["ring"], blip["ring"]),
            "status": blip["status"],
            "status_label": statuses.get(blip["status"], blip["status"]),
            # In the table the triangles point down and up, like the legend's.
            "symbol": charts.status_symbol(blip["status"], 11, 11, towards_centre=math.pi / 2),
            "link": topic.is_public,
        }
        rows.append(row)
        blips.append(
            charts.RadarBlip(
                key=topic.code,
                number=number,
                title=f"{number}. {topic.name} — {row['ring']}, {row['status_label']}",
                sector=blip["direction"].slug,
                ring=blip["ring"],
                status=blip["status"],
            )
        )
    return {
        "chart": charts.radar_chart(blips, sectors=[(d.slug, d.name) for d in edition.directions], ring_labels=tiers),
        "rows": rows,
        "legend": charts.symbol_legend("status", statuses),
        "previous": edition_previous_public(edition=edition.edition),
    }


def edition_byor(edition: PublicEdition) -> exports.ByorRadar:
    """The edition's blips placed for Build-Your-Own-Radar: quadrant = matrix quadrant, ring = tier,
    the direction in the description (``exports.byor_radar``); in the language of the request."""
    published = {e.topic.code: e for e in edition.entries}
    blips = []
    for blip in edition_radar_get(edition=edition):
        topic = blip["topic"]
        entry = published[topic.code]
        blips.append(
            {
                "name": topic.name,
                "tier": blip["ring"],
                "quadrant": matrix_quadrant(entry),
                "status": blip["status"],
                "rank": entry.entry.rank,
                "direction": _("Direction: %(name)s") % {"name": blip["direction"].name},
                "statement": topic.statement,
                "rationale": entry.rationale,
            }
        )
    return exports.byor_radar(blips, rings=tier_labels(), quadrants=quadrant_labels())


def edition_entries_context(
    *,
    edition: PublicEdition,
    entries: list[PublicEntry],
    specs: list[ItemSpec],
    direction: str = "",
    error: str = "",
) -> dict[str, Any]:
    """What the filtered part of the page draws (the htmx partial and the full page alike): the ranked
    topics with their matrix, and the topics published as insufficient evidence."""
    tiered = [e for e in entries if e.entry.tier != Tier.INSUFFICIENT]
    insufficient = [e for e in entries if e.entry.tier == Tier.INSUFFICIENT]
    return {
        "edition": edition,
        "direction": direction,
        "error": error,
        "entries": entries,
        "ranked": _ranked(edition, tiered, specs),
        "insufficient": _ranked(edition, insufficient, specs),
        "matrix": edition_matrix(edition, tiered) if tiered else None,
        "axis": charts.rank_axis(edition.max_rank),
        "tier_legend": charts.symbol_legend("tier", tier_labels()),
        "quadrant_legend": quadrant_labels(),
    }


def edition_page_context(
    *, edition: PublicEdition, entries: list[PublicEntry], direction: str = "", error: str = ""
) -> dict[str, Any]:
    """Everything the edition page draws; the staff preview renders a draft through this too."""
    legend = charts.symbol_legend("tier", tier_labels())
    counts = edition.tier_counts()
    specs = study_item_specs(study_id=edition.edition.study_id)
    return {
        **edition_entries_context(edition=edition, entries=entries, specs=specs, direction=direction, error=error),
        "radar": edition_radar_chart(edition),
        "byor": edition_byor(edition),
        "counts": [{**item, "count": counts.get(item["key"], 0)} for item in legend],
        "insufficient_count": counts.get(Tier.INSUFFICIENT, 0),
        "summaries": edition_summaries(edition=edition, specs=specs),
        "method": edition_method(edition=edition),
    }
