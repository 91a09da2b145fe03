"""The matching pages: an entry's matches (its organisation and the curators only), the demand entry's
shortlist, and the curators' full recomputation with its progress."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from foresight.catalog.models import Topic
from foresight.core.access import role_required
from foresight.core.errors import Conflict, error_message, error_status
from scenarios.exchange import matching, selectors
from scenarios.models import Entry, Match, MatchRun, Release, ReleaseItem, ScenarioTopic, Shortlist

MATCH_PAGE_SIZE = 20
PANEL_SIZE = 5  # matches shown on the entry page itself
RUN_LIST_SIZE = 10
ROLE_LABELS = dict(ScenarioTopic.Role.choices)


def _pick(snapshot: dict[str, Any], field: str, zh: bool) -> str:
    first, second = (f"{field}_zh", f"{field}_en") if zh else (f"{field}_en", f"{field}_zh")
    return str(snapshot.get(first) or snapshot.get(second) or "")


def reason_sentence(reasons: dict[str, Any], topic_names: dict[str, str]) -> str:
    """Why a pair matched, in the active language: "3 shared topics: A (core), B (enabling), C (complementary);
    text similarity 0.41; TRL 7 meets the TRL 6 asked; same region; window open until 2027-06-30"."""
    parts = []
    shared = reasons.get("topics") or []
    if shared:
        names = ", ".join(
            f"{topic_names.get(t['code'], t['code'])} ({ROLE_LABELS.get(t['demand_role'], t['demand_role']).lower()})"
            for t in shared
        )
        parts.append(
            ngettext("%(n)d shared topic: %(names)s", "%(n)d shared topics: %(names)s", len(shared))
            % {"n": len(shared), "names": names}
        )
    else:
        parts.append(_("no shared topic"))
    parts.append(_("text similarity %(value).2f") % {"value": float(reasons.get("text") or 0.0)})
    trl, needed = reasons.get("trl"), reasons.get("trl_needed")
    if needed and trl:
        if trl >= needed:
            parts.append(_("TRL %(trl)s meets the TRL %(needed)s asked") % {"trl": trl, "needed": needed})
        else:
            parts.append(_("TRL %(trl)s is below the TRL %(needed)s asked") % {"trl": trl, "needed": needed})
    elif needed:
        parts.append(_("no TRL given (TRL %(needed)s asked)") % {"needed": needed})
    elif trl:
        parts.append(_("TRL %(trl)s; no TRL asked") % {"trl": trl})
    region = reasons.get("region") or {}
    if region.get("same"):
        parts.append(_("same region"))
    elif region.get("demand") and region.get("capability"):
        parts.append(
            _("different region (%(demand)s, %(capability)s)")
            % {"demand": region["demand"], "capability": region["capability"]}
        )
    else:
        parts.append(_("region not given"))
    end = reasons.get("window_end")
    if not end:
        parts.append(_("no closing date"))
    elif reasons.get("window_open"):
        parts.append(_("window open until %(date)s") % {"date": end})
    else:
        parts.append(_("window closed on %(date)s") % {"date": end})
    return "; ".join(parts)


def _matches(entry: Entry) -> Any:
    if entry.kind == Entry.Kind.DEMAND:
        return Match.objects.filter(demand=entry).order_by("-score", "capability__code")
    return Match.objects.filter(capability=entry).order_by("-score", "demand__code")


def _latest_snapshots(ids: list[int]) -> list[tuple[int, str, dict[str, Any]]]:
    """(entry id, code, snapshot) of each entry's latest published version, left out when that release listed
    its withdrawal (one query)."""
    rows = (
        ReleaseItem.objects.filter(entry_id__in=ids, release__status=Release.Status.PUBLISHED)
        .order_by("entry_id", "-release__number")
        .values_list("entry_id", "entry__code", "change", "snapshot")
    )
    latest: dict[int, tuple[int, str, str, dict[str, Any]]] = {}
    for pk, code, change, snap in rows:
        latest.setdefault(pk, (pk, code, change, snap))
    return [(pk, code, snap) for pk, code, change, snap in latest.values() if change != ReleaseItem.Change.WITHDRAWN]


def match_rows(*, entry: Entry, matches: list[Match], zh: bool) -> list[dict[str, Any]]:
    """The page's matches as shown: the other entry's published title and organisation (from its latest
    published snapshot: a draft under revision stays private), the score and the reasons; three queries."""
    demand = entry.kind == Entry.Kind.DEMAND
    other_ids = [m.capability_id if demand else m.demand_id for m in matches]
    snaps = {pk: (code, snap) for pk, code, snap in _latest_snapshots(other_ids)}
    codes = {t["code"] for m in matches for t in (m.reasons.get("topics") or [])}
    names = {t.code: t.name for t in Topic.objects.filter(code__in=codes)}
    shortlisted = (
        set(Shortlist.objects.filter(demand=entry, capability_id__in=other_ids).values_list("capability_id", flat=True))
        if demand
        else set()
    )
    rows = []
    for m, other in zip(matches, other_ids, strict=True):
        code, snap = snaps.get(other, ("", {}))
        if not code:
            continue  # no published version any more: recomputed shortly
        rows.append(
            {
                "match": m,
                "code": code,
                "title": _pick(snap, "title", zh) or code,
                "organisation": _pick(snap.get("organisation") or {}, "name", zh),
                "score": f"{m.score:.2f}",
                "reasons": reason_sentence(m.reasons, names),
                "shortlisted": other in shortlisted,
            }
        )
    return rows


def _is_zh(request: HttpRequest) -> bool:
    return (getattr(request, "LANGUAGE_CODE", "") or "").startswith("zh")


def _entry_for_matches(request: HttpRequest, code: str) -> Entry:
    entry = selectors.entry_get(code=code)
    if not matching.can_see_matches(entry=entry, user=request.user):
        raise Http404("No such match list")
    return entry


def shortlist_rows(*, demand: Entry, zh: bool) -> list[dict[str, Any]]:
    """A demand entry's shortlist with each capability's published title and organisation (two queries)."""
    rows = list(Shortlist.objects.filter(demand=demand).select_related("capability__organisation"))
    snaps = {pk: snap for pk, _code, snap in _latest_snapshots([r.capability_id for r in rows])}
    return [
        {
            "row": r,
            "code": r.capability.code,
            "title": _pick(snaps.get(r.capability_id, {}), "title", zh) or r.capability.code,
            "organisation": _pick(snaps.get(r.capability_id, {}).get("organisation") or {}, "name", zh),
        }
        for r in rows
    ]


def matching_panel_context(*, request: HttpRequest, entry: Entry) -> dict[str, Any]:
    """What the entry page shows of the matches (nothing for those who may not see them)."""
    if entry.pk is None or not matching.can_see_matches(entry=entry, user=request.user):
        return {"show": False}
    zh = _is_zh(request)
    total = _matches(entry).count()
    demand = entry.kind == Entry.Kind.DEMAND
    return {
        "show": True,
        "entry": entry,
        "demand": demand,
        "total": total,
        "rows": match_rows(entry=entry, matches=list(_matches(entry)[:PANEL_SIZE]), zh=zh) if total else [],
        "shortlist": shortlist_rows(demand=entry, zh=zh) if demand else [],
        "can_shortlist": matching.can_shortlist(entry=entry, user=request.user),
    }


@require_safe
@never_cache
def entry_matches(request: HttpRequest, code: str) -> HttpResponse:
    """An entry's ranked matches, paged (its organisation's members and the curators only)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    entry = _entry_for_matches(request, code)
    page = Paginator(_matches(entry), MATCH_PAGE_SIZE).get_page(request.GET.get("page"))
    zh = _is_zh(request)
    context = {
        "entry": entry,
        "organisation": entry.organisation,
        "demand": entry.kind == Entry.Kind.DEMAND,
        "page": page,
        "rows": match_rows(entry=entry, matches=list(page.object_list), zh=zh),
        "can_shortlist": matching.can_shortlist(entry=entry, user=request.user),
        "shortlist": shortlist_rows(demand=entry, zh=zh) if entry.kind == Entry.Kind.DEMAND else [],
    }
    return render(request, "exchange/entry_matches.html", context)


@require_POST
@login_required
def shortlist_toggle(request: HttpRequest, code: str, capability: str) -> HttpResponse:
    """Add (``action=add``) or remove a matched capability on the demand entry's shortlist; htmx gets the
    button back, a plain form the match list."""
    entry = _entry_for_matches(request, code)
    other = selectors.entry_get(code=capability)
    adding = request.POST.get("action") == "add"
    back = request.POST.get("next") or ""
    if not back.startswith("/exchange/"):
        back = reverse("exchange:entry-matches", args=[code])
    try:
        if adding:
            matching.shortlist_add(demand=entry, capability=other, actor=request.user)
        else:
            matching.shortlist_remove(demand=entry, capability=other, actor=request.user)
    except PermissionDenied as exc:
        return render(request, "exchange/refused.html", {"message": str(exc), "back": back}, status=403)
    except ValidationError as exc:
        return render(
            request, "exchange/refused.html", {"message": error_message(exc), "back": back}, status=error_status(exc)
        )
    if request.headers.get("HX-Request"):
        context = {"entry": entry, "code": other.code, "shortlisted": adding, "can_shortlist": True, "next": back}
        return render(request, "exchange/_shortlist_button.html", context)
    messages.success(request, _("Added to the shortlist.") if adding else _("Removed from the shortlist."))
    return redirect(back)


# --- The curators' recomputation -----------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
@role_required(matching.RUN_PERMISSION)
def matching_runs(request: HttpRequest) -> HttpResponse:
    """The latest runs and a button that starts a full recomputation."""
    error = ""
    status = 200
    if request.method == "POST":
        try:
            matching.match_run_start(actor=request.user)
        except (PermissionDenied, Conflict) as exc:
            error = str(exc) if isinstance(exc, PermissionDenied) else error_message(exc)
            status = 403 if isinstance(exc, PermissionDenied) else error_status(exc)
        else:
            messages.success(request, _("Recomputation queued: its progress shows below."))
            return redirect("exchange:matching-runs")
    runs = list(MatchRun.objects.select_related("requested_by")[:RUN_LIST_SIZE])
    context = {"runs": runs, "error": error, "match_count": Match.objects.count(), "active": _active(runs)}
    return render(request, "exchange/matching_runs.html", context, status=status)


def _active(runs: list[MatchRun]) -> bool:
    return any(r.status in (MatchRun.Status.QUEUED, MatchRun.Status.RUNNING) for r in runs)


@require_safe
@never_cache
@login_required
@role_required(matching.RUN_PERMISSION)
def matching_run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """One run's progress (the page polls it while the run is queued or running; also a page of its own)."""
    run = MatchRun.objects.filter(pk=pk).first()
    if run is None:
        raise Http404("No such run")
    template = "exchange/_matching_run.html" if request.headers.get("HX-Request") else "exchange/matching_run.html"
    return render(request, template, {"run": run})
