"""The priority workbench (staff): scoring runs with their matrices and rank movement, draft editions,
per-topic decisions with a written rationale, the preview the public will see, and publication.

Access: logged-in staff only (anonymous → the admin login, others → 403). State changes are POST-only
and CSRF-protected (the token travels in ``hx-headers`` on ``<body>`` for htmx). A bad value gets the
form back with its message and HTTP 400; an action the object's state does not allow (deciding on a
published edition, publishing with missing rationales, a draft from an unfinished run) gets HTTP 409.
Nothing changes in either case. Every write goes through one service, which audits it with the actor.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, F, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRefresh

from foresight import numbers
from foresight.catalog.models import Topic
from foresight.core.access import staff_required
from foresight.core.forms import apply_service_error
from foresight.core.htmx import wants_partial
from foresight.core.reasons import fallback_label
from foresight.delphi.models import Round, Study
from foresight.priorities import charts, scoring
from foresight.priorities.editions import (
    TIER_ORDER,
    edition_draft_create,
    edition_draft_delete,
    edition_entry_decide,
    edition_publish,
)
from foresight.priorities.forms import (
    COMPETITIVENESS_QUADRANTS,
    CRITERION_LABELS,
    QUADRANT_LABELS,
    SORT_DESC_FIRST,
    TIMING_QUADRANTS,
    EditionCreateForm,
    EntryDecideForm,
    PublishForm,
    RunCreateForm,
    RunTableForm,
)
from foresight.priorities.models import Edition, EditionEntry, EditionImmutable, ScoringRun, Tier
from foresight.priorities.publish import edition_public_path, scored_topic_count
from foresight.priorities.services import CRITERIA, scoring_run_create

STUDY_PAGE_SIZE = 25
TEMPLATES = "priorities/workbench"
# The kind of figure (``foresight.numbers``) of each criterion's value in the run table: an index there
# prints as it does on the public page.
CRITERION_KINDS = {
    "importance_index": "index",
    "importance_index_high": "index",
    "importance_index_weighted": "index",
    "competitiveness_gap": "index",
    "timing": "year",
    "scenario_pull": "value",
    "policy_list": "value",
}


# --- Access --------------------------------------------------------------------------------------------


# --- Fetchers (the decorator has checked access; unknown codes are 404) ----------------------------------


def _study(code: str) -> Study:
    study = Study.objects.filter(code=code).first()
    if study is None:
        raise Http404("No such study")
    return study


def _run(code: str, *, results: bool = True) -> ScoringRun:
    runs = ScoringRun.objects.select_related("study", "round")
    if not results:
        runs = runs.defer("results")
    run = runs.filter(code=code).first()
    if run is None:
        raise Http404("No such scoring run")
    return run


def _edition(code: str, *, entries: bool = False) -> Edition:
    # The run's results can be large and the editor reads the entries' own copies of the numbers.
    editions = Edition.objects.select_related("study", "replaces", "scoring_run").defer("scoring_run__results")
    if entries:
        editions = editions.prefetch_related(
            Prefetch(
                "entries",
                queryset=EditionEntry.objects.select_related("topic__area__direction").order_by(
                    F("rank").asc(nulls_last=True), "topic__code"
                ),
            )
        )
    edition = editions.filter(code=code).first()
    if edition is None:
        raise Http404("No such edition")
    return edition


def _conflict(request: HttpRequest, message: str, *, back: str) -> HttpResponse:
    return render(request, f"{TEMPLATES}/conflict.html", {"message": message, "back": back}, status=409)


# --- Index ---------------------------------------------------------------------------------------------


@require_GET
@never_cache
@staff_required
def index(request: HttpRequest) -> HttpResponse:
    """Studies with an aggregated round, each with its scoring runs and editions."""
    studies = (
        Study.objects.filter(rounds__status=Round.Status.AGGREGATED)
        .distinct()
        .order_by("-created_at", "-pk")
        .prefetch_related(
            Prefetch("scoring_runs", queryset=ScoringRun.objects.defer("results").order_by("-created_at", "-pk")),
            Prefetch("editions", queryset=Edition.objects.select_related(None).order_by("-created_at", "-pk")),
        )
    )
    page = Paginator(studies, STUDY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, f"{TEMPLATES}/index.html", {"page": page})


# --- New scoring run -----------------------------------------------------------------------------------


def _ahp_figures(form: RunCreateForm) -> dict[str, Any]:
    """Weights and consistency ratio of the grid as it stands (nothing stored), for the AHP panel."""
    names = form.chosen_criteria()
    if len(names) < 2:
        return {"ok": False, "message": _("Choose at least two criteria to compare.")}
    try:
        result = scoring.ahp_weights(form.ahp_matrix()["matrix"], max_cr=None)
    except ValueError as exc:
        return {"ok": False, "message": str(exc)}
    return {
        "ok": result["cr"] <= scoring.AHP_CR_MAX,
        "cr": result["cr"],
        "limit": scoring.AHP_CR_MAX,
        "weights": [
            {"label": CRITERION_LABELS[n], "weight": w, "percent": w * 100}
            for n, w in zip(names, result["weights"], strict=True)
        ],
    }


def _render_run_create(
    request: HttpRequest, study: Study, form: RunCreateForm, *, status: int = 200, partial: bool = False
) -> HttpResponse:
    context = {
        "study": study,
        "form": form,
        "ahp": _ahp_figures(form),
        "ahp_grid": form.ahp_grid(),
        "criterion_labels": CRITERION_LABELS,
    }
    template = f"{TEMPLATES}/run_create.html" + ("#ahp" if partial else "")
    return render(request, template, context, status=status)


_SERVICE_FIELDS = {"ahp": "ahp_criteria", "seed": "seed", "top_k": "top_k", "bootstrap_b": "bootstrap_b"}


@require_http_methods(["GET", "POST"])
@never_cache
@staff_required
def run_create(request: HttpRequest, code: str) -> HttpResponse:
    """GET: the form (``?from=RUN`` starts from that run's settings and compares with it; ``?ahp_check=1``:
    the AHP panel with the consistency ratio of the grid, for htmx). POST: validate, create and queue the
    run, then show its page (``compare`` carried over); POST with ``ahp_check``: the CR, nothing stored."""
    study = _study(code)
    topic_count = scored_topic_count(study=study)
    if not topic_count:
        return _conflict(
            request,
            _("This study has no aggregated round yet: close and aggregate a round first."),
            back=reverse("workbench:index"),
        )
    if request.method == "GET":
        if "ahp_check" in request.GET:
            form = RunCreateForm(request.GET, topic_count=topic_count)
            return _render_run_create(request, study, form, partial=wants_partial(request))
        source_code = request.GET.get("from")
        initial: dict[str, Any]
        if source_code:
            source = ScoringRun.objects.defer("results").filter(code=source_code, study=study).first()
            if source is None:
                raise Http404("No such scoring run of this study")
            initial = RunCreateForm.initial_for(
                topic_count=topic_count,
                weights=source.weights,
                seed=source.seed,
                top_k=source.top_k,
                bootstrap_b=source.bootstrap_b,
                thresholds=source.thresholds,
                ahp=source.ahp,
            )
            initial["compare"] = source.code
        else:
            initial = RunCreateForm.initial_for(topic_count=topic_count)
        return _render_run_create(request, study, RunCreateForm(initial=initial, topic_count=topic_count))

    form = RunCreateForm(request.POST, topic_count=topic_count)
    if "ahp_check" in request.POST:  # "Check consistency" without JavaScript: show the CR, store nothing
        return _render_run_create(request, study, form)
    if not form.is_valid():
        return _render_run_create(request, study, form, status=400)
    compare = form.cleaned_data.get("compare")
    if compare and not ScoringRun.objects.filter(code=compare, study=study).exists():
        form.add_error("compare", _("The run to compare with is not a run of this study."))
        return _render_run_create(request, study, form, status=400)
    try:
        run = scoring_run_create(study=study, actor=request.user, **form.service_kwargs())
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            return _conflict(request, " ".join(exc.messages), back=reverse("workbench:index"))
        for name, errors in exc.error_dict.items():
            form.add_error(_SERVICE_FIELDS.get(name), errors)
        return _render_run_create(request, study, form, status=400)
    messages.success(request, _("Scoring run queued."))
    url = reverse("workbench:run", kwargs={"code": run.code})
    return redirect(f"{url}?{urlencode({'compare': compare})}" if compare else url)


# --- A run: progress, table, matrices, movement ----------------------------------------------------------


def _tick_values(low: float, high: float, count: int = 5) -> list[float]:
    step = (high - low) / (count - 1)
    return [low + i * step for i in range(count)]


CHART_W, CHART_H = 520, 380
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 16, 16, 48
POINT_R = 5.0  # the circle of a topic; its rank is placed beside it by charts.place_labels
CORNER_FONT = 12.0  # .wb-corner in static/css/workbench.css (.wb-point text is charts.LABEL_FONT)


def _c(value: float) -> str:
    """An SVG coordinate as text, so no template localisation can turn its decimal point into a comma."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _matrix_chart(
    rows: Iterable[Mapping[str, Any]],
    *,
    x_key: str,
    x_domain: tuple[float, float],
    x_cut: float,
    x_ticks: list[float],
    x_label: str,
    y_cut: float,
    quadrants: tuple[str, str, str, str],
    quadrant_key: str,
    title: str,
    slug: str,
) -> dict[str, Any]:
    """An importance (y, 0–100) × ``x_key`` scatter as SVG coordinates, with the cut lines; ``quadrants`` =
    top-left, top-right, bottom-left, bottom-right. Topics with a missing coordinate are listed as not plotted.

    Rank labels are placed like the public matrix's (``charts.place_labels``, in rank order): never on
    another label, point or corner name; a topic whose label finds no room is listed in ``crowded``."""
    plot_w = CHART_W - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = CHART_H - MARGIN_TOP - MARGIN_BOTTOM
    x0, x1 = x_domain
    left, right, top, bottom = MARGIN_LEFT, CHART_W - MARGIN_RIGHT, MARGIN_TOP, CHART_H - MARGIN_BOTTOM

    def sx(x: float) -> float:
        return left + (min(max(x, x0), x1) - x0) / (x1 - x0) * plot_w

    def sy(y: float) -> float:
        return top + (1 - min(max(y, 0.0), 100.0) / 100) * plot_h

    corners = [
        {"label": QUADRANT_LABELS[quadrants[0]], "x": left + 6, "y": top + 14, "anchor": "start"},
        {"label": QUADRANT_LABELS[quadrants[1]], "x": right - 6, "y": top + 14, "anchor": "end"},
        {"label": QUADRANT_LABELS[quadrants[2]], "x": left + 6, "y": bottom - 8, "anchor": "start"},
        {"label": QUADRANT_LABELS[quadrants[3]], "x": right - 6, "y": bottom - 8, "anchor": "end"},
    ]
    plotted = sorted(
        (row for row in rows if row[x_key] is not None and row["importance"] is not None), key=lambda r: r["rank"]
    )
    missing = [row for row in rows if row[x_key] is None or row["importance"] is None]
    by_quadrant: dict[str, list[Mapping[str, Any]]] = {q: [] for q in quadrants}
    for row in plotted:
        if row[quadrant_key] in by_quadrant:
            by_quadrant[row[quadrant_key]].append(row)
    centres = [(sx(row[x_key]), sy(row["importance"])) for row in plotted]
    labels = [str(row["rank"]) for row in plotted]
    spots = charts.place_labels(
        [(cx, cy, POINT_R, label) for (cx, cy), label in zip(centres, labels, strict=True)],
        bounds=charts.Box(left, top, right, bottom),
        obstacles=[
            charts.text_box(str(c["label"]), c["x"], c["y"], anchor=c["anchor"], font_size=CORNER_FONT, pad=2)
            for c in corners
        ],
    )
    points = [
        {
            "cx": _c(cx),
            "cy": _c(cy),
            "r": _c(POINT_R),
            "lx": _c(spot.x) if spot else "",
            "ly": _c(spot.y) if spot else "",
            "anchor": spot.anchor if spot else "",
            "row": row,
        }
        for row, (cx, cy), spot in zip(plotted, centres, spots, strict=True)
    ]
    crowded = [
        {"near": labels[near] if near is not None else "", "rows": [plotted[i] for i in members]}
        for near, members in charts.crowded_groups(centres, spots, labels)
    ]
    return {
        "slug": slug,
        "title": title,
        "width": CHART_W,
        "height": CHART_H,
        "plot": {"x": left, "y": top, "w": plot_w, "h": plot_h, "right": right, "bottom": bottom},
        "cut_x": _c(sx(x_cut)),
        "cut_y": _c(sy(y_cut)),
        "x_cut": x_cut,
        "y_cut": y_cut,
        "x_ticks": [{"at": _c(sx(t)), "label": numbers.plain(t)} for t in x_ticks],
        "y_ticks": [{"at": _c(sy(t)), "ty": _c(sy(t) + 4), "label": numbers.plain(t)} for t in _tick_values(0, 100)],
        "tick_label_y": bottom + 16,
        "x_label": x_label,
        "x_label_x": _c(left + plot_w / 2),
        "x_label_y": CHART_H - 8,
        "y_label_y": _c(top + plot_h / 2),
        "corners": corners,
        "points": points,
        "crowded": crowded,
        "missing": missing,
        "quadrants": [{"key": q, "label": QUADRANT_LABELS[q], "rows": by_quadrant[q]} for q in quadrants],
    }


def _matrices(rows: list[dict[str, Any]], thresholds: Mapping[str, Any]) -> list[dict[str, Any]]:
    importance_cut = float(thresholds["importance"])
    plan_end = float(thresholds["plan_end_year"])
    years = [r["year"] for r in rows if r["year"] is not None] + [plan_end]
    low, high = math.floor(min(years)) - 1, math.ceil(max(years)) + 1
    step = max(1, math.ceil((high - low) / 6))
    year_ticks = [float(y) for y in range(int(low), int(high) + 1, step)]
    return [
        _matrix_chart(
            rows,
            x_key="competitiveness",
            x_domain=(0.0, 100.0),
            x_cut=float(thresholds["competitiveness"]),
            x_ticks=_tick_values(0, 100),
            x_label=_("Competitiveness index (current position)"),
            y_cut=importance_cut,
            quadrants=("strengthen", "lead_maintain", "deprioritise", "watch"),
            quadrant_key="quadrant",
            title=_("Importance × competitiveness"),
            slug="competitiveness",
        ),
        _matrix_chart(
            rows,
            x_key="year",
            x_domain=(float(low), float(high)),
            x_cut=plan_end,
            x_ticks=year_ticks,
            x_label=_("Median year of technical realisation"),
            y_cut=importance_cut,
            quadrants=("act_now", "build_up", "adopt", "monitor"),
            quadrant_key="timing_quadrant",
            title=_("Importance × time to realisation"),
            slug="timing",
        ),
    ]


def _topic_rows(run: ScoringRun, topics: Mapping[str, Topic], previous: ScoringRun | None) -> list[dict[str, Any]]:
    """One row per ranked topic of a finished run (rank order), with its movement against ``previous``."""
    results = run.results["topics"]
    before = previous.results["topics"] if previous is not None else {}
    rows = []
    for code in run.results["ranking"]:
        result = results[code]
        stand_ins = {f["criterion"]: fallback_label(f) for f in result.get("fallbacks") or []}
        topic = topics[code]
        indices = result.get("indices") or {}
        tech = (result.get("timing") or {}).get("tech_year") or {}
        was = before.get(code)
        movement: int | None = None
        if previous is not None and was is not None and was.get("rank") is not None:
            movement = int(was["rank"]) - int(result["rank"])
        rows.append(
            {
                "code": code,
                "topic": topic,
                "direction": topic.area.direction,
                "n": result["n"],
                "score": result["score"],
                "rank": result["rank"],
                "median_rank": result["median_rank"],
                "rank_low": result["rank_low"],
                "rank_high": result["rank_high"],
                "p_top_k": result["p_top_k"],
                "tier": result["tier"],
                "quadrant": (result.get("quadrant") or {}).get("importance_competitiveness"),
                "timing_quadrant": (result.get("quadrant") or {}).get("importance_timing"),
                "importance": (indices.get("importance") or {}).get("index"),
                "competitiveness": (indices.get("competitiveness") or {}).get("index"),
                "year": tech.get("median"),
                "criteria": [
                    {
                        "value": result["criteria"][name],
                        "kind": CRITERION_KINDS[name],
                        "stand_in": stand_ins.get(name, ""),
                    }
                    for name in CRITERIA
                ],
                "criterion": result["criteria"],
                "movement": movement,
                "movement_abs": abs(movement) if movement is not None else None,
                "tier_label": Tier(result["tier"]).label,
                "quadrant_label": QUADRANT_LABELS.get(
                    (result.get("quadrant") or {}).get("importance_competitiveness") or ""
                ),
                "timing_label": QUADRANT_LABELS.get((result.get("quadrant") or {}).get("importance_timing") or ""),
                "was_rank": was.get("rank") if was else None,
                "is_new": previous is not None and (was is None or was.get("rank") is None),
                "divergent": bool((result.get("groups") or {}).get("divergent")),
            }
        )
    return rows


def _sort_value(row: Mapping[str, Any], key: str) -> Any:
    if key in CRITERIA:
        return row["criterion"][key]
    if key == "topic":
        return str(row["topic"].name).lower()
    if key == "direction":
        return (row["direction"].order, str(row["direction"].name))
    if key == "interval":
        return (row["rank_low"], row["rank_high"])
    if key == "tier":
        return TIER_ORDER[Tier(row["tier"])]
    if key == "quadrant":
        value = row["quadrant"]
        return None if value is None else COMPETITIVENESS_QUADRANTS.index(value)
    if key == "timing_quadrant":
        value = row["timing_quadrant"]
        return None if value is None else TIMING_QUADRANTS.index(value)
    return row[key]


def _sorted(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    """Stable sort by one column (ties keep rank order); missing values always last."""
    present = [r for r in rows if _sort_value(r, key) is not None]
    missing = [r for r in rows if _sort_value(r, key) is None]
    present.sort(key=lambda r: _sort_value(r, key), reverse=descending)
    return present + missing


def _filtered(rows: list[dict[str, Any]], data: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = rows
    if data.get("direction"):
        out = [r for r in out if r["direction"].slug == data["direction"]]
    if data.get("tier"):
        out = [r for r in out if r["tier"] == data["tier"]]
    if data.get("quadrant"):
        out = [r for r in out if data["quadrant"] in (r["quadrant"], r["timing_quadrant"])]
    return out


def _columns(data: Mapping[str, Any], comparing: bool) -> list[dict[str, Any]]:
    """Sortable column headers, each with the link that sorts by it (toggling the order when it is active)."""
    columns: list[tuple[str, Any, bool]] = [
        ("rank", _("Rank"), True),
        ("topic", _("Topic"), False),
        ("direction", _("Direction"), False),
        ("n", _("n"), True),
        ("score", _("Score"), True),
        ("median_rank", _("Median rank"), True),
        ("interval", _("Rank interval (5–95 %)"), True),
        ("p_top_k", _("P(top-k)"), True),
        ("tier", _("Suggested tier"), False),
        ("quadrant", _("Importance × competitiveness"), False),
        ("timing_quadrant", _("Importance × timing"), False),
    ]
    if comparing:
        columns.insert(1, ("movement", _("Movement"), True))
    columns += [(name, CRITERION_LABELS[name], True) for name in CRITERIA]
    active, order = data.get("sort") or "rank", data.get("order") or ""
    keep = {k: data[k] for k in ("direction", "tier", "quadrant", "compare") if data.get(k)}
    out = []
    for key, label, numeric in columns:
        first = "desc" if key in SORT_DESC_FIRST else "asc"
        is_active = key == active
        current = order or first
        next_order = ("asc" if current == "desc" else "desc") if is_active else first
        query = urlencode({**keep, "sort": key, "order": next_order})
        out.append(
            {
                "key": key,
                "label": label,
                "numeric": numeric,
                "active": is_active,
                "aria_sort": ("descending" if current == "desc" else "ascending") if is_active else None,
                "query": f"?{query}",
            }
        )
    return out


def _render_run(
    request: HttpRequest, run: ScoringRun, *, form: RunTableForm | None = None, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {"run": run, "study": run.study, "criterion_labels": CRITERION_LABELS}
    weights = run.results.get("summary", {}).get("weights") or {}
    context["weights"] = [
        {"name": n, "label": CRITERION_LABELS[n], "weight": weights.get(n, 0.0), "percent": weights.get(n, 0.0) * 100}
        for n in CRITERIA
    ]
    context["editions"] = list(run.editions.order_by("-created_at"))
    if run.status != ScoringRun.Status.DONE:
        return render(request, f"{TEMPLATES}/run.html", context, status=status)

    results = run.results["topics"]
    topics = {t.code: t for t in Topic.objects.filter(code__in=list(results)).select_related("area__direction")}
    ranked_directions = {topics[c].area.direction for c in run.results["ranking"]}
    directions = [(d.slug, d.name) for d in sorted(ranked_directions, key=lambda d: (d.order, d.slug))]
    form = form or RunTableForm(request.GET or None, directions=directions)
    if form.is_bound and not form.is_valid():
        status = 400
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    previous: ScoringRun | None = None
    if data.get("compare"):
        previous = (
            ScoringRun.objects.filter(code=data["compare"], study=run.study, status=ScoringRun.Status.DONE)
            .exclude(pk=run.pk)
            .first()
        )
        if previous is None:
            form.add_error("compare", _("There is no finished run of this study with that code to compare with."))
            status, data = 400, {}
    rows = _topic_rows(run, topics, previous)
    shown = _filtered(rows, data)
    key = data.get("sort") or "rank"
    descending = (data.get("order") or ("desc" if key in SORT_DESC_FIRST else "asc")) == "desc"
    shown = _sorted(shown, key, descending)
    context.update(
        {
            "form": form,
            "rows": shown,
            "total": len(rows),
            "columns": _columns(data, previous is not None),
            "previous": previous,
            "moved_up": sum(1 for r in rows if (r["movement"] or 0) > 0),
            "moved_down": sum(1 for r in rows if (r["movement"] or 0) < 0),
            "matrices": _matrices(rows, run.thresholds),
            "suppressed": [
                {"topic": topics[c], "n": results[c]["n"]}
                for c in sorted(results)
                if not results[c].get("ranked", not results[c].get("suppressed"))
            ],
            "other_runs": list(
                ScoringRun.objects.filter(study=run.study, status=ScoringRun.Status.DONE)
                .exclude(pk=run.pk)
                .defer("results")
                .order_by("-created_at")[:20]
            ),
            "top_k": run.top_k,
            "state": data,
            "compare_weights": [
                {"name": n, "label": CRITERION_LABELS[n], "weight": float(run.weights.get(n, 0.0))} for n in CRITERIA
            ],
        }
    )
    template = f"{TEMPLATES}/run.html" + ("#table" if wants_partial(request) else "")
    return render(request, template, context, status=status)


@require_GET
@never_cache
@vary_on_headers("HX-Request")
@staff_required
def run_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The run: progress while it computes; then the sortable, filterable table, matrices and movement."""
    return _render_run(request, _run(code))


@require_GET
@never_cache
@staff_required
def run_progress(request: HttpRequest, code: str) -> HttpResponse:
    """Polled every 2 s by the run page while the run computes; reloads the page once it is done."""
    run = _run(code, results=False)
    if run.status == ScoringRun.Status.DONE:
        if getattr(request, "htmx", None):
            return HttpResponseClientRefresh()
        return redirect("workbench:run", code=run.code)
    return render(request, f"{TEMPLATES}/run.html#status", {"run": run})


# --- Editions ------------------------------------------------------------------------------------------


def _suggested_code(base: str) -> str:
    taken = set(Edition.objects.filter(code__startswith=base).values_list("code", flat=True))
    n = 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


@require_http_methods(["GET", "POST"])
@never_cache
@staff_required
def edition_create(request: HttpRequest, code: str) -> HttpResponse:
    """A draft edition from a finished run (``?replaces=CODE``: a correction of a published edition)."""
    run = _run(code, results=False)
    back = reverse("workbench:run", kwargs={"code": run.code})
    if run.status != ScoringRun.Status.DONE:
        return _conflict(request, _("The scoring run has not finished: a draft needs its results."), back=back)
    if request.method == "GET":
        initial: dict[str, Any] = {
            "code": _suggested_code(f"{run.study.code}-edition"),
            "title_en": f"Priority directions: {run.study.title_en}",
            "title_zh": f"优先方向：{run.study.title_zh}" if run.study.title_zh else "",
        }
        replaced = Edition.objects.filter(code=request.GET.get("replaces", ""), status=Edition.Status.PUBLISHED).first()
        if replaced is not None:
            initial.update(
                {
                    "code": _suggested_code(f"{replaced.code}-correction"),
                    "title_en": replaced.title_en,
                    "title_zh": replaced.title_zh,
                    "method_note_en": replaced.method_note_en,
                    "method_note_zh": replaced.method_note_zh,
                    "replaces": replaced.code,
                }
            )
        form = EditionCreateForm(initial=initial)
        return render(request, f"{TEMPLATES}/edition_create.html", {"run": run, "study": run.study, "form": form})
    form = EditionCreateForm(request.POST)
    if not form.is_valid():
        return render(
            request, f"{TEMPLATES}/edition_create.html", {"run": run, "study": run.study, "form": form}, status=400
        )
    data = form.cleaned_data
    replaces: Edition | None = data["replaces"]
    try:
        with transaction.atomic():
            edition = edition_draft_create(
                run=ScoringRun.objects.get(pk=run.pk),
                code=data["code"],
                title_en=data["title_en"],
                title_zh=data["title_zh"],
                method_note_en=data["method_note_en"],
                method_note_zh=data["method_note_zh"],
                replaces=replaces,
                copy_decisions=data["copy_decisions"],
                actor=request.user,
            )
    except ValidationError as exc:
        apply_service_error(form, exc)
        return render(
            request, f"{TEMPLATES}/edition_create.html", {"run": run, "study": run.study, "form": form}, status=400
        )
    messages.success(request, _("Draft edition created: decide each topic's tier and write its rationale."))
    return redirect("workbench:edition", code=edition.code)


def _entry_form(entry: EditionEntry, data: Any = None) -> EntryDecideForm:
    return EntryDecideForm(
        data,
        initial={"tier": entry.tier, "rationale_en": entry.rationale_en, "rationale_zh": entry.rationale_zh},
        auto_id=f"{entry.topic.code}-%s",
    )


def _entry_context(entry: EditionEntry, form: EntryDecideForm | None = None, **extra: Any) -> dict[str, Any]:
    data = entry.data or {}
    indices = data.get("indices") or {}
    tech = (data.get("timing") or {}).get("tech_year") or {}
    quadrant = data.get("quadrant") or {}
    return {
        "entry": entry,
        "form": form or _entry_form(entry),
        "suggested": data.get("suggested_tier"),
        "suggested_label": Tier(data["suggested_tier"]).label if data.get("suggested_tier") in Tier.values else "",
        "importance": (indices.get("importance") or {}).get("index"),
        "competitiveness": (indices.get("competitiveness") or {}).get("index"),
        "year": tech.get("median"),
        "quadrant": QUADRANT_LABELS.get(quadrant.get("importance_competitiveness") or ""),
        "timing_quadrant": QUADRANT_LABELS.get(quadrant.get("importance_timing") or ""),
        "p_top_k": data.get("p_top_k"),
        "fallbacks": [fallback_label(f) for f in data.get("fallbacks") or [] if f.get("in_score")],
        "insufficient": entry.rank is None,
        "min_respondents": (data.get("evidence") or {}).get("min_respondents"),
        "decided": bool(entry.rationale_en),
        **extra,
    }


def _decided_count(edition: Edition) -> dict[str, int]:
    counts = EditionEntry.objects.filter(edition=edition).aggregate(
        total=Count("pk"), decided=Count("pk", filter=~Q(rationale_en=""))
    )
    return {"decided": counts["decided"], "total": counts["total"]}


@require_GET
@never_cache
@staff_required
def edition_detail(request: HttpRequest, code: str) -> HttpResponse:
    """A draft: every entry with its numbers, a tier select and rationale fields. Published: read-only."""
    edition = _edition(code, entries=True)
    entries = list(edition.entries.all())
    context = {
        "edition": edition,
        "study": edition.study,
        "run": edition.scoring_run,
        "entries": [_entry_context(e) for e in entries],
        "count": {"decided": sum(1 for e in entries if e.rationale_en), "total": len(entries)},
        "public_url": edition_public_path(edition.code) if edition.is_published else None,
    }
    return render(request, f"{TEMPLATES}/edition.html", context)


@require_POST
@staff_required
def entry_decide(request: HttpRequest, code: str, topic: str) -> HttpResponse:
    """Save one topic's tier and rationale (htmx: the entry comes back, with the decided count out of band)."""
    edition = _edition(code)
    entry = (
        EditionEntry.objects.filter(edition=edition, topic__code=topic).select_related("topic__area__direction").first()
    )
    if entry is None:
        raise Http404("No such topic in this edition")
    form = _entry_form(entry, request.POST)
    status = 200
    error = ""
    if edition.is_published:
        status, error = 409, _("This edition is published and cannot be changed; publish a correction instead.")
    elif not form.is_valid():
        status = 400
    else:
        data = form.cleaned_data
        try:
            entry = edition_entry_decide(
                entry=entry,
                tier=data["tier"],
                rationale_en=data["rationale_en"],
                rationale_zh=data["rationale_zh"],
                actor=request.user,
            )
        except EditionImmutable as exc:
            status, error = 409, " ".join(exc.messages)
        except ValidationError as exc:
            apply_service_error(form, exc)
            status = 400
        else:
            form = _entry_form(entry)
    if not getattr(request, "htmx", None):
        if status == 200:
            messages.success(request, _("Decision saved for %(topic)s.") % {"topic": entry.topic.name})
            return redirect(reverse("workbench:edition", kwargs={"code": edition.code}) + f"#entry-{topic}")
        if status == 409:
            return _conflict(request, error, back=reverse("workbench:edition", kwargs={"code": edition.code}))
    context = {
        "item": _entry_context(entry, form, saved=status == 200, error=error),
        "edition": edition,
        "count": _decided_count(edition),
    }
    return render(request, f"{TEMPLATES}/entry_saved.html", context, status=status)


def _preview_context(request: HttpRequest, edition: Edition) -> dict[str, Any]:
    """The context of the public edition page (``priorities.views.edition_detail``), built for a draft.

    The public page reads published editions only, so the same steps are taken here on the draft:
    its entries after small-cell suppression (``exports.published_aggregates``), then the public
    view's own matrix, ranked-list and radar builders, rendered by the public template itself.
    The draft gets today's date in memory (never saved) so the radar compares it with the edition
    the public will see it compared with.
    """
    from foresight.priorities import selectors
    from foresight.priorities import views as public_views
    from foresight.priorities.exports import published_aggregates

    k = edition.study.k_threshold
    edition.published_at = timezone.now()
    entries = [
        selectors.PublicEntry(entry=e, data=published_aggregates(e.data or {}, k=k)) for e in edition.entries.all()
    ]
    directions = {e.direction.pk: e.direction for e in entries}
    public = selectors.PublicEdition(
        edition=edition,
        entries=entries,
        successors=[],
        directions=sorted(directions.values(), key=lambda d: (d.order, d.slug)),
        k=k,
    )
    return public_views.edition_context(edition=public, entries=entries)


@require_GET
@never_cache
@staff_required
def edition_preview(request: HttpRequest, code: str) -> HttpResponse:
    """The edition exactly as the public page will show it (the public template), under a preview banner."""
    edition = _edition(code, entries=True)
    if edition.is_published:
        return redirect(edition_public_path(edition.code))
    context = _preview_context(request, edition)
    context["preview_back"] = reverse("workbench:edition", kwargs={"code": edition.code})
    context["preview_publish"] = reverse("workbench:edition-publish", kwargs={"code": edition.code})
    return render(request, f"{TEMPLATES}/preview.html", context)


@require_http_methods(["GET", "POST"])
@never_cache
@staff_required
def edition_publish_view(request: HttpRequest, code: str) -> HttpResponse:
    """GET: the confirmation step. POST: publish atomically, then show the public page."""
    edition = _edition(code)
    back = reverse("workbench:edition", kwargs={"code": edition.code})
    if edition.is_published:
        if request.method == "GET":
            return redirect(back)
        return _conflict(request, _("This edition is already published and cannot be changed."), back=back)
    count = _decided_count(edition)
    context: dict[str, Any] = {"edition": edition, "study": edition.study, "count": count}
    if request.method == "GET":
        context["form"] = PublishForm()
        return render(request, f"{TEMPLATES}/publish.html", context)
    form = PublishForm(request.POST)
    context["form"] = form
    if not form.is_valid():
        return render(request, f"{TEMPLATES}/publish.html", context, status=400)
    try:
        edition = edition_publish(edition=edition, actor=request.user)
    except EditionImmutable as exc:
        return _conflict(request, " ".join(exc.messages), back=back)
    except ValidationError as exc:
        # Missing rationales: the edition is not ready (a state conflict, not a bad value).
        apply_service_error(form, exc)
        return render(request, f"{TEMPLATES}/publish.html", context, status=409)
    messages.success(request, _("Edition %(code)s published.") % {"code": edition.code})
    return redirect(edition_public_path(edition.code))


@require_POST
@staff_required
def edition_delete(request: HttpRequest, code: str) -> HttpResponse:
    edition = _edition(code)
    try:
        edition_draft_delete(edition=edition, actor=request.user)
    except EditionImmutable as exc:
        return _conflict(request, " ".join(exc.messages), back=reverse("workbench:edition", kwargs={"code": code}))
    messages.success(request, _("Draft edition %(code)s deleted.") % {"code": code})
    return redirect("workbench:index")
