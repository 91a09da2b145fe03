"""Public pages of priority editions: the list, an edition (matrix, ranked list with rank intervals,
radar, downloads), and the open-data downloads.  Drafts are 404; a bad filter is a 400 with a message.

What the page draws is built in ``selectors.pages`` (shared with the staff preview of a draft); charts
are server-rendered SVG, each next to a table of the same numbers.  The direction filter swaps the ``entries`` partial under htmx and is a plain
GET form without JavaScript.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from foresight.catalog.selectors import clean_param
from foresight.core.cache import cached_public_page
from foresight.core.errors import error_message, error_status
from foresight.core.htmx import wants_partial
from foresight.priorities import exports
from foresight.priorities.api import EditionDetailSerializer
from foresight.priorities.selectors import editions as edition_selectors
from foresight.priorities.selectors import pages


@require_safe
@cached_public_page
def edition_list(request: HttpRequest) -> HttpResponse:
    editions = [
        {"edition": e, "successors": edition_selectors.published_successors(e)}
        for e in edition_selectors.edition_list()
    ]
    return render(request, "priorities/edition_list.html", {"editions": editions})


@require_safe
@cached_public_page
def edition_detail(request: HttpRequest, code: str) -> HttpResponse:
    edition = edition_selectors.edition_get(code=code)
    direction = clean_param(request.GET.get("direction", ""), 80)
    error = ""
    status = 200
    try:
        entries = edition_selectors.edition_entries(edition=edition, direction=direction)
    except ValidationError as exc:
        entries, status, error = [], error_status(exc), error_message(exc)
    if wants_partial(request):
        specs = edition_selectors.study_item_specs(study_id=edition.edition.study_id)
        context = pages.edition_entries_context(
            edition=edition, entries=entries, specs=specs, direction=direction, error=error
        )
        return render(request, "priorities/edition_detail.html#entries", context, status=status)
    context = pages.edition_page_context(edition=edition, entries=entries, direction=direction, error=error)
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


@require_safe
def edition_entries_csv(request: HttpRequest, code: str) -> HttpResponse:
    edition = edition_selectors.edition_get(code=code)
    body = exports.entries_csv(edition.code, edition_selectors.edition_export_rows(edition=edition))
    return _csv_download(request, body, f"{edition.code}-entries.csv")


@require_safe
def edition_figures_csv(request: HttpRequest, code: str) -> HttpResponse:
    """Every published figure of every topic in long form (``exports.figures_csv``)."""
    edition = edition_selectors.edition_get(code=code)
    body = exports.figures_csv(edition.code, edition_selectors.edition_export_rows(edition=edition))
    return _csv_download(request, body, f"{edition.code}-figures.csv")


@require_safe
def edition_json(request: HttpRequest, code: str) -> HttpResponse:
    edition = edition_selectors.edition_get(code=code)
    body = exports.edition_json(EditionDetailSerializer(edition).data)
    return _download(body, "application/json; charset=utf-8", f"{edition.code}.json")


@require_safe
def edition_radar_csv(request: HttpRequest, code: str) -> HttpResponse:
    """The Build-Your-Own-Radar CSV, in the language of the URL (quadrant = matrix quadrant, ring = tier).

    BYOR refuses a file with fewer than four quadrants; when the edition's topics leave a quadrant
    empty there is no file to give, and the answer is 409 with a page that says why.
    """
    edition = edition_selectors.edition_get(code=code)
    radar = pages.edition_byor(edition)
    if not radar.loadable:
        context = {"edition": edition, "byor": radar}
        return render(request, "priorities/radar_unavailable.html", context, status=409)
    return _download(exports.byor_csv(radar), "text/csv; charset=utf-8", f"{edition.code}-radar.csv")
