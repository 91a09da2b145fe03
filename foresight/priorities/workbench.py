"""The priority workbench (staff): scoring runs with their matrices and rank movement, draft editions,
per-topic decisions with a written rationale, the preview the public will see, and publication.

Access: logged-in staff whose role holds the page's permission (``foresight.priorities.roles``; anonymous →
the admin login, others → 403), on studies open to them (a study with named managers is theirs alone). State changes are POST-only
and CSRF-protected (the token travels in ``hx-headers`` on ``<body>`` for htmx). A bad value gets the
form back with its message and HTTP 400; an action the object's state does not allow (deciding on a
published edition, publishing with missing rationales, a draft from an unfinished run) gets HTTP 409.
Nothing changes in either case. Every write goes through one service, which audits it with the actor.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRefresh

from foresight.core.access import role_required
from foresight.core.errors import Conflict, error_message, error_status
from foresight.core.forms import apply_service_error
from foresight.core.htmx import wants_partial
from foresight.delphi.models import Study
from foresight.priorities.forms import (
    SORT_DESC_FIRST,
    EditionCreateForm,
    EntryDecideForm,
    PublishForm,
    RunCreateForm,
    RunTableForm,
)
from foresight.priorities.labels import CRITERION_LABELS, SCENARIO_PULL_FORMULA, edition_titles
from foresight.priorities.models import Edition, EditionEntry, EditionImmutable, ScoringRun
from foresight.priorities.roles import (
    PREPARE_EDITION,
    PUBLISH_EDITION,
    RUN_SCORING,
    VIEW_EDITIONS,
    VIEW_RUNS,
    WORKBENCH,
)
from foresight.priorities.selectors import pages
from foresight.priorities.selectors import workbench as wb
from foresight.priorities.selectors.editions import edition_preview_get, edition_public_path, scored_topic_count
from foresight.priorities.services.editions import (
    edition_check_draft,
    edition_draft_create,
    edition_draft_delete,
    edition_entry_decide,
    edition_publish,
)
from foresight.priorities.services.runs import CRITERIA, ahp_assess, scoring_run_create

STUDY_PAGE_SIZE = 25
TEMPLATES = "priorities/workbench"


def _conflict(request: HttpRequest, message: str, *, back: str) -> HttpResponse:
    return render(request, f"{TEMPLATES}/conflict.html", {"message": message, "back": back}, status=409)


def _refusal(request: HttpRequest, exc: Exception, *, back: str) -> HttpResponse:
    """A service's refusal that no form field can correct, on its own page with the contract's status."""
    context = {"message": error_message(exc), "back": back}
    return render(request, f"{TEMPLATES}/conflict.html", context, status=error_status(exc))


# --- Index ---------------------------------------------------------------------------------------------


@require_safe
@never_cache
@role_required(*WORKBENCH)
def index(request: HttpRequest) -> HttpResponse:
    """Studies with an aggregated round, each with its scoring runs and editions."""
    studies = wb.study_list_for_workbench(user=request.user)
    page = Paginator(studies, STUDY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, f"{TEMPLATES}/index.html", {"page": page})


# --- New scoring run -----------------------------------------------------------------------------------


def _ahp_figures(form: RunCreateForm) -> dict[str, Any]:
    """Weights and consistency ratio of the grid as it stands (nothing stored), for the AHP panel."""
    names = form.chosen_criteria()
    if len(names) < 2:
        return {"ok": False, "message": _("Choose at least two criteria to compare.")}
    try:
        assessed = ahp_assess(form.ahp_matrix())
    except ValidationError as exc:
        return {"ok": False, "message": error_message(exc)}
    return {
        "ok": assessed["consistent"],
        "cr": assessed["cr"],
        "limit": assessed["limit"],
        "weights": [
            {"label": CRITERION_LABELS[n], "weight": w, "percent": w * 100} for n, w in assessed["weights"].items()
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


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@role_required(RUN_SCORING)
def run_create(request: HttpRequest, code: str) -> HttpResponse:
    """GET: the form (``?from=RUN`` starts from that run's settings and compares with it; ``?ahp_check=1``:
    the AHP panel with the consistency ratio of the grid, for htmx). POST: validate, create and queue the
    run, then show its page (``compare`` carried over); POST with ``ahp_check``: the CR, nothing stored."""
    study = wb.study_get_for_staff(code=code, user=request.user)
    topic_count = scored_topic_count(study=study)
    if not topic_count:
        return _conflict(
            request,
            _("This study has no aggregated round yet: close and aggregate a round first."),
            back=reverse("workbench:index"),
        )
    if request.method != "POST":
        if "ahp_check" in request.GET:
            form = RunCreateForm(request.GET, topic_count=topic_count)
            return _render_run_create(request, study, form, partial=wants_partial(request))
        source_code = request.GET.get("from")
        initial: dict[str, Any]
        if source_code:
            source = wb.run_get_for_staff(user=request.user, code=source_code, results=False, study=study)
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
    if compare and not wb.run_exists(code=compare, study=study):
        form.add_error("compare", _("The run to compare with is not a run of this study."))
        return _render_run_create(request, study, form, status=400)
    try:
        run = scoring_run_create(study=study, actor=request.user, **form.service_kwargs())
    except ValidationError as exc:
        if isinstance(exc, Conflict):  # the study's state refuses the run: nothing on the form to correct
            return _refusal(request, exc, back=reverse("workbench:index"))
        by_field = exc.error_dict if hasattr(exc, "error_dict") else {"__all__": exc.error_list}
        for name, errors in by_field.items():
            form.add_error(_SERVICE_FIELDS.get(name), errors)
        return _render_run_create(request, study, form, status=error_status(exc))
    messages.success(request, _("Scoring run queued."))
    url = reverse("workbench:run", kwargs={"code": run.code})
    return redirect(f"{url}?{urlencode({'compare': compare})}" if compare else url)


# --- A run: progress, table, matrices, movement ----------------------------------------------------------


def _render_run(
    request: HttpRequest, run: ScoringRun, *, form: RunTableForm | None = None, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {"run": run, "study": run.study, "criterion_labels": CRITERION_LABELS}
    weights = run.results.get("summary", {}).get("weights") or {}
    context["weights"] = [
        {"name": n, "label": CRITERION_LABELS[n], "weight": weights.get(n, 0.0), "percent": weights.get(n, 0.0) * 100}
        for n in CRITERIA
    ]
    context["editions"] = wb.run_editions(run=run)
    if run.status != ScoringRun.Status.DONE:
        return render(request, f"{TEMPLATES}/run.html", context, status=status)

    topics = wb.run_topics(run=run)
    form = form or RunTableForm(request.GET or None, directions=wb.run_directions(run=run, topics=topics))
    if form.is_bound and not form.is_valid():
        status = 400
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    previous: ScoringRun | None = None
    if data.get("compare"):
        previous = wb.run_compare_get(run=run, code=data["compare"])
        if previous is None:
            form.add_error("compare", _("There is no finished run of this study with that code to compare with."))
            status, data = 400, {}
    rows = wb.run_rows(run=run, topics=topics, previous=previous)
    shown = wb.rows_filtered(rows, data)
    key = data.get("sort") or "rank"
    descending = (data.get("order") or ("desc" if key in SORT_DESC_FIRST else "asc")) == "desc"
    shown = wb.rows_sorted(shown, key, descending)
    context.update(
        {
            "form": form,
            "rows": shown,
            "total": len(rows),
            "columns": wb.table_columns(data, previous is not None),
            "previous": previous,
            "moved_up": sum(1 for r in rows if (r["movement"] or 0) > 0),
            "moved_down": sum(1 for r in rows if (r["movement"] or 0) < 0),
            "matrices": wb.run_matrices(rows, run.thresholds),
            "suppressed": wb.run_unranked(run=run, topics=topics),
            "pull_rows": wb.run_pull_rows(run=run, topics=topics),
            "pull_formula": SCENARIO_PULL_FORMULA,
            "other_runs": wb.run_others(run=run),
            "top_k": run.top_k,
            "state": data,
            "compare_weights": [
                {"name": n, "label": CRITERION_LABELS[n], "weight": float(run.weights.get(n, 0.0))} for n in CRITERIA
            ],
        }
    )
    template = f"{TEMPLATES}/run.html" + ("#table" if wants_partial(request) else "")
    return render(request, template, context, status=status)


@require_safe
@never_cache
@vary_on_headers("HX-Request")
@role_required(VIEW_RUNS)
def run_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The run: progress while it computes; then the sortable, filterable table, matrices and movement."""
    return _render_run(request, wb.run_get_for_staff(user=request.user, code=code))


@require_safe
@never_cache
@role_required(VIEW_RUNS)
def run_progress(request: HttpRequest, code: str) -> HttpResponse:
    """Polled every 2 s by the run page while the run computes; reloads the page once it is done."""
    run = wb.run_get_for_staff(user=request.user, code=code, results=False)
    if run.status == ScoringRun.Status.DONE:
        if getattr(request, "htmx", None):
            return HttpResponseClientRefresh()
        return redirect("workbench:run", code=run.code)
    return render(request, f"{TEMPLATES}/run.html#status", {"run": run})


# --- Editions ------------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@role_required(PREPARE_EDITION)
def edition_create(request: HttpRequest, code: str) -> HttpResponse:
    """A draft edition from a finished run (``?replaces=CODE``: a correction of a published edition)."""
    run = wb.run_get_for_staff(
        user=request.user, code=code, results=request.method == "POST"
    )  # the draft is built from the results
    back = reverse("workbench:run", kwargs={"code": run.code})
    if run.status != ScoringRun.Status.DONE:
        return _conflict(request, _("The scoring run has not finished: a draft needs its results."), back=back)
    if request.method != "POST":
        initial: dict[str, Any] = {
            "code": wb.edition_code_suggested(base=f"{run.study.code}-edition"),
            **edition_titles(title_en=run.study.title_en, title_zh=run.study.title_zh),
        }
        replaced = wb.edition_published_get(code=request.GET.get("replaces", ""), study=run.study)
        if replaced is not None:
            initial.update(
                {
                    "code": wb.edition_code_suggested(base=f"{replaced.code}-correction"),
                    "title_en": replaced.title_en,
                    "title_zh": replaced.title_zh,
                    "method_note_en": replaced.method_note_en,
                    "method_note_zh": replaced.method_note_zh,
                    "replaces": replaced.code,
                }
            )
        form = EditionCreateForm(initial=initial, study=run.study)
        return render(request, f"{TEMPLATES}/edition_create.html", {"run": run, "study": run.study, "form": form})
    form = EditionCreateForm(request.POST, study=run.study)
    if not form.is_valid():
        return render(
            request, f"{TEMPLATES}/edition_create.html", {"run": run, "study": run.study, "form": form}, status=400
        )
    data = form.cleaned_data
    replaces: Edition | None = data["replaces"]
    try:
        edition = edition_draft_create(
            run=run,
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
        context = {"run": run, "study": run.study, "form": form}
        return render(request, f"{TEMPLATES}/edition_create.html", context, status=error_status(exc))
    messages.success(request, _("Draft edition created: decide each topic's tier and write its rationale."))
    return redirect("workbench:edition", code=edition.code)


def _entry_form(entry: EditionEntry, data: Any = None) -> EntryDecideForm:
    return EntryDecideForm(
        data,
        initial={"tier": entry.tier, "rationale_en": entry.rationale_en, "rationale_zh": entry.rationale_zh},
        auto_id=f"{entry.topic.code}-%s",
    )


def _entry_context(entry: EditionEntry, form: EntryDecideForm | None = None, **extra: Any) -> dict[str, Any]:
    return {**wb.entry_context(entry), "form": form or _entry_form(entry), **extra}


@require_safe
@never_cache
@role_required(VIEW_EDITIONS)
def edition_detail(request: HttpRequest, code: str) -> HttpResponse:
    """A draft: every entry with its numbers, a tier select and rationale fields. Published: read-only."""
    edition = wb.edition_get_for_staff(user=request.user, code=code, entries=True)
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
@role_required(PREPARE_EDITION)
def entry_decide(request: HttpRequest, code: str, topic: str) -> HttpResponse:
    """Save one topic's tier and rationale (htmx: the entry comes back, with the decided count out of band)."""
    edition = wb.edition_get_for_staff(user=request.user, code=code)
    entry = wb.entry_get_for_staff(edition=edition, topic=topic)
    form = _entry_form(entry, request.POST)
    status = 200
    error = ""
    try:
        edition_check_draft(edition=edition)  # a published edition refuses before its values are judged
        if not form.is_valid():
            status = 400
        else:
            data = form.cleaned_data
            entry = edition_entry_decide(
                entry=entry,
                tier=data["tier"],
                rationale_en=data["rationale_en"],
                rationale_zh=data["rationale_zh"],
                actor=request.user,
            )
            form = _entry_form(entry)
    except ValidationError as exc:
        status = error_status(exc)
        if isinstance(exc, Conflict):
            error = error_message(exc)
        else:
            apply_service_error(form, exc)
    if not getattr(request, "htmx", None):
        if status == 200:
            messages.success(request, _("Decision saved for %(topic)s.") % {"topic": entry.topic.name})
            return redirect(reverse("workbench:edition", kwargs={"code": edition.code}) + f"#entry-{topic}")
        if status == 409:
            return _conflict(request, error, back=reverse("workbench:edition", kwargs={"code": edition.code}))
    context = {
        "item": _entry_context(entry, form, saved=status == 200, error=error),
        "edition": edition,
        "count": wb.edition_decided_count(edition=edition),
    }
    return render(request, f"{TEMPLATES}/entry_saved.html", context, status=status)


@require_safe
@never_cache
@role_required(VIEW_EDITIONS)
def edition_preview(request: HttpRequest, code: str) -> HttpResponse:
    """The edition exactly as the public page will show it (the public template), under a preview banner."""
    edition = wb.edition_get_for_staff(user=request.user, code=code, entries=True)
    if edition.is_published:
        return redirect(edition_public_path(edition.code))
    public = edition_preview_get(edition=edition)
    context = pages.edition_page_context(edition=public, entries=public.entries)
    context["preview_back"] = reverse("workbench:edition", kwargs={"code": edition.code})
    context["preview_publish"] = reverse("workbench:edition-publish", kwargs={"code": edition.code})
    return render(request, f"{TEMPLATES}/preview.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@role_required(PUBLISH_EDITION)
def edition_publish_view(request: HttpRequest, code: str) -> HttpResponse:
    """GET: the confirmation step. POST: publish atomically, then show the public page."""
    edition = wb.edition_get_for_staff(user=request.user, code=code)
    back = reverse("workbench:edition", kwargs={"code": edition.code})
    if request.method != "POST" and edition.is_published:
        return redirect(back)  # nothing left to confirm
    count = wb.edition_decided_count(edition=edition)
    context: dict[str, Any] = {"edition": edition, "study": edition.study, "count": count}
    if request.method != "POST":
        context["form"] = PublishForm()
        return render(request, f"{TEMPLATES}/publish.html", context)
    form = PublishForm(request.POST)
    context["form"] = form
    try:
        edition_check_draft(edition=edition)  # a published edition refuses before the confirmation is judged
        if not form.is_valid():
            return render(request, f"{TEMPLATES}/publish.html", context, status=400)
        edition = edition_publish(edition=edition, actor=request.user)
    except EditionImmutable as exc:
        return _refusal(request, exc, back=back)
    except ValidationError as exc:
        # Missing rationales or no topic: the edition is not ready yet (409), shown with the form.
        apply_service_error(form, exc)
        return render(request, f"{TEMPLATES}/publish.html", context, status=error_status(exc))
    messages.success(request, _("Edition %(code)s published.") % {"code": edition.code})
    return redirect(edition_public_path(edition.code))


@require_POST
@role_required(PREPARE_EDITION)
def edition_delete(request: HttpRequest, code: str) -> HttpResponse:
    edition = wb.edition_get_for_staff(user=request.user, code=code)
    try:
        edition_draft_delete(edition=edition, actor=request.user)
    except ValidationError as exc:
        return _refusal(request, exc, back=reverse("workbench:edition", kwargs={"code": code}))
    messages.success(request, _("Draft edition %(code)s deleted.") % {"code": code})
    return redirect("workbench:index")
