"""Public pages of priority editions: the list, an edition (matrix, ranked list with rank intervals,
radar, downloads), and the open-data downloads.  Drafts are 404; a bad filter is a 400 with a message.

Charts are server-rendered SVG whose geometry comes from ``charts``; each sits next to a table of
the same numbers.  The direction filter swaps the ``entries`` partial under htmx and is a plain
GET form without JavaScript.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from foresight import numbers
from foresight.catalog.selectors import clean_param
from foresight.core.cache import cached_public_page
from foresight.core.htmx import wants_partial
from foresight.priorities import charts, exports, selectors
from foresight.priorities.api import EditionDetailSerializer
from foresight.priorities.editions import edition_previous_public
from foresight.priorities.models import Tier
from foresight.priorities.selectors import PublicEdition, PublicEntry


def tier_labels() -> dict[str, str]:
    return {value: str(label) for value, label in Tier.choices}


def status_labels() -> dict[str, str]:
    return {
        "new": _("New"),
        "moved_in": _("Moved in"),
        "moved_out": _("Moved out"),
        "unchanged": _("Unchanged"),
    }


def quadrant_labels() -> dict[str, str]:
    return {
        "strengthen": _("Strengthen"),
        "lead_maintain": _("Lead / maintain"),
        "watch": _("Hold"),
        "deprioritise": _("Deprioritise"),
    }


def matrix_quadrant(entry: PublicEntry) -> str | None:
    """The entry's importance × competitiveness quadrant key, or None when an index is withheld."""
    quadrant = (entry.data.get("quadrant") or {}).get("importance_competitiveness")
    return quadrant if isinstance(quadrant, str) else None


def _matrix(edition: PublicEdition, entries: list[PublicEntry]) -> dict[str, Any]:
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
        x_cut=float(thresholds.get("competitiveness", 50)),
        y_cut=float(thresholds.get("importance", 50)),
        labels=labels,
    )


def _ranked(
    edition: PublicEdition, entries: list[PublicEntry], specs: list[selectors.ItemSpec]
) -> list[dict[str, Any]]:
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
                "figures": selectors.entry_figures(data=e.data, specs=specs),
            }
        )
    return rows


def _radar(edition: PublicEdition) -> dict[str, Any]:
    tiers = tier_labels()
    statuses = status_labels()
    rows, blips = [], []
    for i, blip in enumerate(selectors.edition_radar_get(edition=edition), start=1):
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


def _byor(edition: PublicEdition) -> exports.ByorRadar:
    """The edition's blips placed for Build-Your-Own-Radar: quadrant = matrix quadrant, ring = tier,
    the direction in the description (``exports.byor_radar``); in the language of the request."""
    published = {e.topic.code: e for e in edition.entries}
    blips = []
    for blip in selectors.edition_radar_get(edition=edition):
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


@require_GET
@cached_public_page
def edition_list(request: HttpRequest) -> HttpResponse:
    editions = [{"edition": e, "successors": selectors.published_successors(e)} for e in selectors.edition_list()]
    return render(request, "priorities/edition_list.html", {"editions": editions})


def _entries_context(
    *,
    edition: PublicEdition,
    entries: list[PublicEntry],
    specs: list[selectors.ItemSpec],
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
        "matrix": _matrix(edition, tiered) if tiered else None,
        "axis": charts.rank_axis(edition.max_rank),
        "tier_legend": charts.symbol_legend("tier", tier_labels()),
        "quadrant_legend": quadrant_labels(),
    }


def edition_context(
    *, edition: PublicEdition, entries: list[PublicEntry], direction: str = "", error: str = ""
) -> dict[str, Any]:
    """Everything the edition page draws; the staff preview renders a draft through this too."""
    legend = charts.symbol_legend("tier", tier_labels())
    counts = edition.tier_counts()
    specs = selectors.study_item_specs(study_id=edition.edition.study_id)
    return {
        **_entries_context(edition=edition, entries=entries, specs=specs, direction=direction, error=error),
        "radar": _radar(edition),
        "byor": _byor(edition),
        "counts": [{**item, "count": counts.get(item["key"], 0)} for item in legend],
        "insufficient_count": counts.get(Tier.INSUFFICIENT, 0),
        "summaries": selectors.edition_summaries(edition=edition, specs=specs),
        "method": selectors.edition_method(edition=edition),
    }


@require_GET
@cached_public_page
def edition_detail(request: HttpRequest, code: str) -> HttpResponse:
    edition = selectors.edition_get(code=code)
    direction = clean_param(request.GET.get("direction", ""), 80)
    error = ""
    status = 200
    try:
        entries = selectors.edition_entries(edition=edition, direction=direction)
    except ValidationError as exc:
        entries, status, error = [], 400, " ".join(exc.message_dict.get("direction", exc.messages))
    if wants_partial(request):
        specs = selectors.study_item_specs(study_id=edition.edition.study_id)
        context = _entries_context(edition=edition, entries=entries, specs=specs, direction=direction, error=error)
        return render(request, "priorities/edition_detail.html#entries", context, status=status)
    context = edition_context(edition=edition, entries=entries, direction=direction, error=error)
    return render(request, "priorities/edition_detail.html", context, status=status)


def _download(body: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_download(request: HttpRequest, body: str, filename: str) -> HttpResponse:
    """A CSV download; ``?excel=1`` gives the Excel-friendly variant (UTF-8 with a byte-order mark, without
    which spreadsheet programs garble the Chinese columns)."""
    if request.GET.get("excel") == "1":
        return _download(
            exports.excel_friendly(body), "text/csv; charset=utf-8", filename.replace(".csv", "-excel.csv")
        )
    return _download(body, "text/csv; charset=utf-8", filename)


@require_GET
def edition_entries_csv(request: HttpRequest, code: str) -> HttpResponse:
    edition = selectors.edition_get(code=code)
    body = exports.entries_csv(edition.code, selectors.edition_export_rows(edition=edition))
    return _csv_download(request, body, f"{edition.code}-entries.csv")


@require_GET
def edition_figures_csv(request: HttpRequest, code: str) -> HttpResponse:
    """Every published figure of every topic in long form (``exports.figures_csv``)."""
    edition = selectors.edition_get(code=code)
    body = exports.figures_csv(edition.code, selectors.edition_export_rows(edition=edition))
    return _csv_download(request, body, f"{edition.code}-figures.csv")


@require_GET
def edition_json(request: HttpRequest, code: str) -> HttpResponse:
    edition = selectors.edition_get(code=code)
    body = exports.edition_json(EditionDetailSerializer(edition).data)
    return _download(body, "application/json; charset=utf-8", f"{edition.code}.json")


@require_GET
def edition_radar_csv(request: HttpRequest, code: str) -> HttpResponse:
    """The Build-Your-Own-Radar CSV, in the language of the URL (quadrant = matrix quadrant, ring = tier).

    BYOR refuses a file with fewer than four quadrants; when the edition's topics leave a quadrant
    empty there is no file to give, and the answer is 409 with a page that says why.
    """
    edition = selectors.edition_get(code=code)
    radar = _byor(edition)
    if not radar.loadable:
        context = {"edition": edition, "byor": radar}
        return render(request, "priorities/radar_unavailable.html", context, status=409)
    return _download(exports.byor_csv(radar), "text/csv; charset=utf-8", f"{edition.code}-radar.csv")
