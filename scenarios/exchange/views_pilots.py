"""Pilot pages: opening a pilot on a published demand entry, the pilot's page for its organisations and the
curators (every stage change, pending ones marked, the form for the next), the curators' evidence queue and
stale list, and the public pipeline with its pilot list and downloads.

A pilot's page is 404 to anyone but its organisations' members and the curators; the public pages show
published pilots only (a verified opening) and only their verified stage changes."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from foresight.core.access import role_required
from foresight.core.cache import cached_public_page
from foresight.core.errors import error_message, error_status
from foresight.core.forms import apply_service_error
from foresight.core.listing import filtered_list
from scenarios.exchange import pilot_selectors as selectors
from scenarios.exchange import pilots as svc
from scenarios.exchange import selectors as exchange_selectors
from scenarios.exchange.pilot_exports import pilots_csv, pilots_document, pipeline_csv, pipeline_document
from scenarios.exchange.pilot_forms import EvidenceRejectForm, PeriodForm, PilotFilterForm, PilotOpenForm, StageForm
from scenarios.exchange.pipeline import STAGES, columns_chart
from scenarios.models import Conversation, Entry, Organisation, Pilot

PAGE_SIZE = 50


def _refused(request: HttpRequest, exc: Exception, *, back: str) -> HttpResponse:
    status = 403 if isinstance(exc, PermissionDenied) else error_status(exc)
    message = str(exc) if isinstance(exc, PermissionDenied) else error_message(exc)
    return render(request, "exchange/refused.html", {"message": message, "back": back}, status=status)


# --- Opening ----------------------------------------------------------------------------------------------------


def _agreed_conversations(entry: Entry) -> list[Conversation]:
    return list(
        Conversation.objects.filter(demand=entry, outcome=Conversation.Outcome.AGREED)
        .select_related("supplier", "capability")
        .order_by("supplier__code")
    )


def _suppliers(pairs: list[tuple[str, str]]) -> list[tuple[Organisation, Entry | None]]:
    """Organisation and entry codes → rows; an unknown code is an error naming it, not dropped."""
    out: list[tuple[Organisation, Entry | None]] = []
    for org_code, entry_code in pairs:
        organisation = Organisation.objects.filter(code=org_code).first()
        if organisation is None:
            raise ValidationError({"suppliers": [_("Unknown organisation: %(code)s.") % {"code": org_code[:40]}]})
        capability = None
        if entry_code:
            # Published capability entries only: whether an unpublished entry has this code is nobody's business.
            capability = Entry.objects.filter(
                code=entry_code, kind=Entry.Kind.CAPABILITY, status=Entry.Status.PUBLISHED
            ).first()
            if capability is None:
                raise ValidationError(
                    {"suppliers": [_("No published capability entry: %(code)s.") % {"code": entry_code[:40]}]}
                )
        out.append((organisation, capability))
    return out


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def pilot_open(request: HttpRequest, code: str) -> HttpResponse:
    entry = exchange_selectors.entry_get(code=code)
    if not svc.can_open(demand=entry, user=request.user):
        raise Http404("No such entry")  # nobody else learns whether a pilot could be opened here
    conversations = _agreed_conversations(entry)
    choices = [
        (c.pk, f"{c.supplier.name}" + (f" · {c.capability.title}" if c.capability else "")) for c in conversations
    ]
    form = PilotOpenForm(request.POST or None, conversations=choices)
    context = {"form": form, "entry": entry}
    if request.method != "POST":
        return render(request, "exchange/pilot_open.html", context)
    if not form.is_valid():
        return render(request, "exchange/pilot_open.html", context, status=400)
    data = form.cleaned_data
    try:
        conversation = next((c for c in conversations if c.pk == data["conversation"]), None)
        pilot = svc.pilot_open(
            actor=request.user,
            demand=entry,
            site_en=data["site_en"],
            site_zh=data["site_zh"],
            region_en=data["region_en"],
            region_zh=data["region_zh"],
            suppliers=_suppliers(data["suppliers"]),
            conversation=conversation,
            on=data["on"],
            evidence=form.evidence(),
        )
    except PermissionDenied as exc:
        return _refused(request, exc, back=reverse("exchange:entry", args=[code]))
    except ValidationError as exc:
        apply_service_error(form, exc)
        return render(request, "exchange/pilot_open.html", context, status=error_status(exc))
    messages.success(request, _("Pilot opened. A curator verifies its evidence before it shows publicly."))
    return redirect("exchange:pilot", code=pilot.code)


# --- The pilot's page -------------------------------------------------------------------------------------------


def _render_pilot(
    request: HttpRequest, pilot: Pilot, *, stage_form: StageForm | None = None, status: int = 200
) -> HttpResponse:
    can = svc.pilot_abilities(pilot=pilot, user=request.user)
    stages = svc.next_stages(pilot=pilot) if can["can_add_stage"] else []
    context = {
        "pilot": pilot,
        "participants": selectors.pilot_participants(pilot=pilot),
        "changes": selectors.pilot_changes(pilot=pilot),
        "stage_form": stage_form or StageForm(stages=stages),
        "reject_form": EvidenceRejectForm(),
        "stages": stages,
        **can,
    }
    return render(request, "exchange/pilot_detail.html", context, status=status)


@require_safe
@never_cache
def pilot_detail(request: HttpRequest, code: str) -> HttpResponse:
    """For the pilot's organisations and the curators; 404 to anyone else, signed in or not."""
    return _render_pilot(request, selectors.pilot_get_for_member(code=code, user=request.user))


@require_POST
def pilot_stage_add(request: HttpRequest, code: str) -> HttpResponse:
    pilot = selectors.pilot_get_for_member(code=code, user=request.user)
    form = StageForm(request.POST, stages=svc.next_stages(pilot=pilot))
    if not form.is_valid():
        return _render_pilot(request, pilot, stage_form=form, status=400)
    data = form.cleaned_data
    try:
        svc.pilot_stage_add(
            actor=request.user,
            pilot=pilot,
            stage=data["stage"],
            on=data["on"],
            evidence=form.evidence(),
            stop_reason_en=data["stop_reason_en"],
            stop_reason_zh=data["stop_reason_zh"],
        )
    except PermissionDenied as exc:
        return _refused(request, exc, back=reverse("exchange:pilot", args=[code]))
    except ValidationError as exc:
        apply_service_error(form, exc)
        pilot.refresh_from_db()
        return _render_pilot(request, pilot, stage_form=form, status=error_status(exc))
    messages.success(request, _("Stage recorded. It counts publicly once a curator has verified its evidence."))
    return redirect("exchange:pilot", code=code)


@require_POST
@role_required(svc.VERIFY_PERMISSION)
def stage_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """A curator verifies or rejects a stage change's evidence (``action`` = verify / reject)."""
    change = selectors.stage_change_get_for_verifier(pk=pk)
    back = request.POST.get("next") == "review"
    target = reverse("exchange:pilot-review") if back else reverse("exchange:pilot", args=[change.pilot.code])
    action = request.POST.get("action")
    try:
        if action == "verify":
            svc.pilot_stage_verify(actor=request.user, change=change)
            messages.success(request, _("Evidence verified: the stage counts publicly."))
        elif action == "reject":
            form = EvidenceRejectForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Tell the pilot's organisations the reason."))
            svc.pilot_stage_reject(actor=request.user, change=change, reason=form.cleaned_data["reason"])
            messages.success(request, _("Evidence not accepted; the pilot's organisations are told why."))
        else:
            raise ValidationError(_("Choose verify or reject."))
    except (PermissionDenied, ValidationError) as exc:
        return _refused(request, exc, back=target)
    return redirect(target)


@require_safe
@never_cache
@role_required(svc.VERIFY_PERMISSION)
def pilot_review(request: HttpRequest) -> HttpResponse:
    """The curators' page: evidence awaiting verification (oldest first) and the stale pilots."""
    queue = Paginator(selectors.evidence_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    unagreed = selectors.suppliers_without_agreement(pilot_ids=[c.pilot_id for c in queue.object_list])
    for change in queue.object_list:
        change.unagreed = unagreed.get(change.pilot_id, []) if change.stage == Pilot.Stage.OPENED else []
    stale = Paginator(selectors.stale_pilots(), PAGE_SIZE).get_page(request.GET.get("spage"))
    context = {"page": queue, "stale": stale, "stale_days": settings.PILOT_STALE_DAYS}
    return render(request, "exchange/pilot_review.html", context)


# --- Public: the pipeline, the pilot list, the downloads ------------------------------------------------------------


def _stage_labels() -> list[tuple[str, str]]:
    return [(s, str(Pilot.Stage(s).label)) for s in STAGES]


def _period(request: HttpRequest) -> tuple[str, PeriodForm]:
    form = PeriodForm(request.GET)
    period = (form.cleaned_data.get("period") if form.is_valid() else "") or "year"
    return period, form


@require_safe
@cached_public_page
def pipeline(request: HttpRequest) -> HttpResponse:
    """Published pilots counted by verified stage, direction, setting and region, over time (a chart and its
    table) and how long they take from the opening to each stage."""
    period, form = _period(request)
    figures = selectors.pipeline_get(period=period)
    labels = _stage_labels()
    context = {
        "form": form,
        "figures": figures,
        "stages": labels,
        "stage_rows": [(s, label, figures["by_stage"][s]) for s, label in labels],
        "chart": columns_chart(figures["over_time"], series=labels) if figures["over_time"] else None,
        "durations": [(row, dict(labels)[row["stage"]]) for row in figures["durations"]],
    }
    return render(request, "exchange/pipeline.html", context, status=200 if form.is_valid() else 400)


@require_safe
@cached_public_page
def pilot_public_list(request: HttpRequest) -> HttpResponse:
    form = PilotFilterForm(request.GET)
    return filtered_list(
        request,
        form=form,
        results=lambda: selectors.pilots_public(**{k: v for k, v in form.cleaned_data.items() if v}),
        template="exchange/pilot_public_list.html",
        page_size=PAGE_SIZE,
    )


def _download(body: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
def pilots_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """Every published pilot with its verified timeline, as CSV (one row per verified stage change) or JSON."""
    rows = list(selectors.pilots_public())
    if fmt == "json":
        body = json.dumps(pilots_document(rows), ensure_ascii=False, indent=2, sort_keys=True)
        return _download(body, "application/json; charset=utf-8", "pilots.json")
    return _download(pilots_csv(rows), "text/csv; charset=utf-8", "pilots.csv")


@require_safe
def pipeline_download(request: HttpRequest, fmt: str) -> HttpResponse:
    period, form = _period(request)
    if not form.is_valid():
        return _refused(request, ValidationError(_("Choose a year or a quarter.")), back=reverse("pipeline"))
    figures = selectors.pipeline_get(period=period)
    if fmt == "json":
        body = json.dumps(pipeline_document(figures), ensure_ascii=False, indent=2, sort_keys=True)
        return _download(body, "application/json; charset=utf-8", f"pipeline-{period}.json")
    return _download(pipeline_csv(figures), "text/csv; charset=utf-8", f"pipeline-{period}.csv")
