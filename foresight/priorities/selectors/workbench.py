"""Reads of the priority workbench (staff): the fetchers behind its URLs (unknown codes are 404), the
studies it lists, a finished run's table (rows in rank order with their movement against another run,
sorting, filtering, sortable headers) and matrices, and the edition editor's entries.

Every query of the workbench is here; its views only validate forms, call these and the services,
and render.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from foresight.catalog.models import Topic
from foresight.core.reasons import reason_label
from foresight.delphi.models import Round, Study
from foresight.priorities import charts
from foresight.priorities.forms import SORT_DESC_FIRST
from foresight.priorities.labels import (
    COMPETITIVENESS_QUADRANTS,
    CRITERION_LABELS,
    QUADRANT_LABELS,
    TIMING_QUADRANTS,
    fallback_label,
)
from foresight.priorities.models import TIER_ORDER, Edition, EditionEntry, ScoringRun, Tier
from foresight.priorities.services.runs import CRITERIA, pull_from_evidence
from scenarios.models import Pilot, ScenarioTopic

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
OTHER_RUNS = 20  # runs offered to compare with


# --- Fetchers ------------------------------------------------------------------------------------------


def study_list_for_workbench(*, user: Any) -> QuerySet[Study]:
    """Studies ``user`` may work on with an aggregated round, newest first, each with its runs and editions."""
    return (
        Study.objects.for_staff(user)
        .filter(rounds__status=Round.Status.AGGREGATED)
        .distinct()
        .order_by("-created_at", "-pk")
        .prefetch_related(
            Prefetch("scoring_runs", queryset=ScoringRun.objects.defer("results").order_by("-created_at", "-pk")),
            Prefetch("editions", queryset=Edition.objects.select_related(None).order_by("-created_at", "-pk")),
        )
    )


def _open_to(user: Any, study: Study) -> None:
    """403 unless ``user`` may work on ``study`` (a study with named managers is theirs alone)."""
    if not Study.objects.for_staff(user).filter(pk=study.pk).exists():
        raise PermissionDenied(_("Study %(code)s is open only to its named managers.") % {"code": study.code})


def study_get_for_staff(*, code: str, user: Any) -> Study:
    study = Study.objects.filter(code=code).first()
    if study is None:
        raise Http404("No such study")
    _open_to(user, study)
    return study


def run_get_for_staff(*, code: str, user: Any, results: bool = True, study: Study | None = None) -> ScoringRun:
    """A scoring run of a study ``user`` may work on (``results=False``: without its possibly large results;
    ``study``: only one of its)."""
    runs = ScoringRun.objects.select_related("study", "round")
    if not results:
        runs = runs.defer("results")
    if study is not None:
        runs = runs.filter(study=study)
    run = runs.filter(code=code).first()
    if run is None:
        raise Http404("No such scoring run" + (" of this study" if study is not None else ""))
    if study is None:
        _open_to(user, run.study)
    return run


def run_exists(*, code: str, study: Study) -> bool:
    return ScoringRun.objects.filter(code=code, study=study).exists()


def run_compare_get(*, run: ScoringRun, code: str) -> ScoringRun | None:
    """Another finished run of the same study to compare ``run`` with, or None."""
    return (
        ScoringRun.objects.filter(code=code, study=run.study, status=ScoringRun.Status.DONE).exclude(pk=run.pk).first()
    )


def run_others(*, run: ScoringRun) -> list[ScoringRun]:
    """The study's other finished runs, newest first (the "compare with" choices)."""
    return list(
        ScoringRun.objects.filter(study=run.study, status=ScoringRun.Status.DONE)
        .exclude(pk=run.pk)
        .defer("results")
        .order_by("-created_at")[:OTHER_RUNS]
    )


def run_editions(*, run: ScoringRun) -> list[Edition]:
    return list(run.editions.order_by("-created_at"))


def edition_get_for_staff(*, code: str, user: Any, entries: bool = False) -> Edition:
    """An edition in any state of a study ``user`` may work on (``entries``: with its entries in rank order,
    topics to directions)."""
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
    _open_to(user, edition.study)
    return edition


def edition_published_get(*, code: str, study: Study) -> Edition | None:
    """A published edition of ``study`` a draft may replace (None for an unknown or unpublished code, or an
    edition of another study)."""
    if not code:
        return None
    return Edition.objects.filter(code=code, status=Edition.Status.PUBLISHED, study=study).first()


def entry_get_for_staff(*, edition: Edition, topic: str) -> EditionEntry:
    entry = (
        EditionEntry.objects.filter(edition=edition, topic__code=topic).select_related("topic__area__direction").first()
    )
    if entry is None:
        raise Http404("No such topic in this edition")
    return entry


def edition_code_suggested(*, base: str) -> str:
    """``base-N`` with the smallest N no edition uses."""
    taken = set(Edition.objects.filter(code__startswith=base).values_list("code", flat=True))
    n = 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def edition_decided_count(*, edition: Edition) -> dict[str, int]:
    """Entries with a written rationale, out of all (one query)."""
    counts = EditionEntry.objects.filter(edition=edition).aggregate(
        total=Count("pk"), decided=Count("pk", filter=~Q(rationale_en=""))
    )
    return {"decided": counts["decided"], "total": counts["total"]}


# --- A finished run's table ------------------------------------------------------------------------------


def run_topics(*, run: ScoringRun) -> dict[str, Topic]:
    """The run's topics by code, with area and direction."""
    codes = list((run.results or {}).get("topics") or {})
    return {t.code: t for t in Topic.objects.filter(code__in=codes).select_related("area__direction")}


def run_directions(*, run: ScoringRun, topics: Mapping[str, Topic]) -> list[tuple[str, str]]:
    """(slug, name) of the directions of the ranked topics, in catalog order (the table's filter)."""
    ranked = {topics[c].area.direction for c in run.results["ranking"]}
    return [(d.slug, d.name) for d in sorted(ranked, key=lambda d: (d.order, d.slug))]


def run_rows(*, run: ScoringRun, topics: Mapping[str, Topic], previous: ScoringRun | None) -> list[dict[str, Any]]:
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
        quadrant = result.get("quadrant") or {}
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
                "quadrant": quadrant.get("importance_competitiveness"),
                "timing_quadrant": quadrant.get("importance_timing"),
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
                "quadrant_label": QUADRANT_LABELS.get(quadrant.get("importance_competitiveness") or ""),
                "timing_label": QUADRANT_LABELS.get(quadrant.get("importance_timing") or ""),
                "was_rank": was.get("rank") if was else None,
                "is_new": previous is not None and (was is None or was.get("rank") is None),
                "divergent": bool((result.get("groups") or {}).get("divergent")),
            }
        )
    return rows


def run_pull_rows(*, run: ScoringRun, topics: Mapping[str, Topic]) -> list[dict[str, Any]]:
    """Each ranked topic's scenario pull (rank order): the components D (published demand) and P (verified
    pilots) and the scenarios and pilots they come from, as the run recorded them. Empty for a run whose method
    computed scenario pull from curated links only (it recorded no evidence)."""
    results = run.results["topics"]
    if not pull_from_evidence((run.results.get("inputs") or {}).get("method")):
        return []
    rows = []
    for code in run.results["ranking"]:
        evidence = results[code].get("scenario_pull") or {}
        components = evidence.get("components") or {}
        rows.append(
            {
                "code": code,
                "topic": topics[code],
                "total": results[code]["criteria"]["scenario_pull"],
                "demand": components.get("demand", 0.0),
                "pilots": components.get("pilots", 0.0),
                "scenarios": [
                    {**s, "role_label": ScenarioTopic.Role(s["role"]).label} for s in evidence.get("scenarios") or []
                ],
                "pilot_list": [
                    {
                        **p,
                        "role_label": ScenarioTopic.Role(p["role"]).label,
                        "stage_label": Pilot.Stage(p["stage"]).label,
                    }
                    for p in evidence.get("pilots") or []
                ],
            }
        )
    return rows


def run_unranked(*, run: ScoringRun, topics: Mapping[str, Topic]) -> list[dict[str, Any]]:
    """Topics of the run below the minimum evidence (never ranked), by code, with their n."""
    results = run.results["topics"]
    return [
        {"topic": topics[c], "n": results[c]["n"]}
        for c in sorted(results)
        if not results[c].get("ranked", not results[c].get("suppressed"))
    ]


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


def rows_sorted(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    """Stable sort by one column (ties keep rank order); missing values always last."""
    present = [r for r in rows if _sort_value(r, key) is not None]
    missing = [r for r in rows if _sort_value(r, key) is None]
    present.sort(key=lambda r: _sort_value(r, key), reverse=descending)
    return present + missing


def rows_filtered(rows: list[dict[str, Any]], data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows of one direction, one tier and one quadrant (of either matrix), each when asked for."""
    out = rows
    if data.get("direction"):
        out = [r for r in out if r["direction"].slug == data["direction"]]
    if data.get("tier"):
        out = [r for r in out if r["tier"] == data["tier"]]
    if data.get("quadrant"):
        out = [r for r in out if data["quadrant"] in (r["quadrant"], r["timing_quadrant"])]
    return out


def table_columns(data: Mapping[str, Any], comparing: bool) -> list[dict[str, Any]]:
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


# --- A finished run's matrices ---------------------------------------------------------------------------


def _matrix(
    rows: list[dict[str, Any]],
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
    """One matrix of the run (``charts.matrix_chart``, like the public page's), with the run's rows
    attached: ``quadrants`` = top-left, top-right, bottom-left, bottom-right."""
    by_code = {row["code"]: row for row in rows}
    points = [
        charts.MatrixPoint(
            key=row["code"],
            label=str(row["rank"]),
            title=f"{row['rank']}. {row['topic'].name}",
            x=row[x_key],
            y=row["importance"],
            tier=row["tier"],
        )
        for row in sorted(rows, key=lambda r: r["rank"])
    ]
    corners = tuple(zip(quadrants, ("left", "right", "left", "right"), ("top", "top", "bottom", "bottom"), strict=True))
    chart = charts.matrix_chart(
        points,
        x_cut=x_cut,
        y_cut=y_cut,
        labels={**{q: str(QUADRANT_LABELS[q]) for q in quadrants}, "x_axis": x_label, "y_axis": _("Importance index")},
        x_domain=x_domain,
        x_ticks=x_ticks,
        quadrants=corners,
        height=380,
    )
    by_quadrant: dict[str, list[dict[str, Any]]] = {q: [] for q in quadrants}
    for row in sorted(rows, key=lambda r: r["rank"]):
        if row[x_key] is not None and row["importance"] is not None and row[quadrant_key] in by_quadrant:
            by_quadrant[row[quadrant_key]].append(row)
    for point in chart["points"]:
        point["row"] = by_code[point["key"]]
    for group in chart["crowded"]:
        group["rows"] = [by_code[p["key"]] for p in group["points"]]
    chart.update(
        {
            "slug": slug,
            "title": title,
            "x_cut_value": x_cut,
            "y_cut_value": y_cut,
            "missing_rows": [by_code[code] for code in chart["missing"]],
            "by_quadrant": [{"key": q, "label": QUADRANT_LABELS[q], "rows": by_quadrant[q]} for q in quadrants],
        }
    )
    return chart


def run_matrices(rows: list[dict[str, Any]], thresholds: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The run's importance × competitiveness and importance × time-to-realisation matrices."""
    importance_cut = float(thresholds["importance"])
    plan_end = float(thresholds["plan_end_year"])
    years = [r["year"] for r in rows if r["year"] is not None] + [plan_end]
    low, high = math.floor(min(years)) - 1, math.ceil(max(years)) + 1
    step = max(1, math.ceil((high - low) / 6))
    year_ticks = [float(y) for y in range(int(low), int(high) + 1, step)]
    return [
        _matrix(
            rows,
            x_key="competitiveness",
            x_domain=(0.0, 100.0),
            x_cut=float(thresholds["competitiveness"]),
            x_ticks=charts.nice_ticks(0, 100, max_ticks=5),
            x_label=_("Competitiveness index (current position)"),
            y_cut=importance_cut,
            quadrants=("strengthen", "lead_maintain", "deprioritise", "watch"),
            quadrant_key="quadrant",
            title=_("Importance × competitiveness"),
            slug="competitiveness",
        ),
        _matrix(
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


# --- The edition editor ----------------------------------------------------------------------------------


def entry_context(entry: EditionEntry) -> dict[str, Any]:
    """What the editor shows of one entry beside its form: the suggested tier, the numbers the entry
    carries, the stand-ins in its score and whether it is decided."""
    data = entry.data or {}
    indices = data.get("indices") or {}
    tech = (data.get("timing") or {}).get("tech_year") or {}
    quadrant = data.get("quadrant") or {}
    return {
        "entry": entry,
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
        "importance_withheld": reason_label((data.get("evidence") or {}).get("importance_withheld")),
        "decided": bool(entry.rationale_en),
    }
