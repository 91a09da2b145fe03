"""The staff console (HTML + htmx). Each view: check access, validate a form, call one service or selector, render.

Access: logged-in staff whose role holds the section's permission (``foresight.delphi.roles``; anonymous →
the admin login, others → 403), on studies open to them (a study with named managers is theirs alone). State changes are POST-only and CSRF-protected. A bad value
re-renders the page with the form's message and HTTP 400; an action the object's state does not allow
(closing a round that is not open, changing frozen rules) gets HTTP 409. Nothing changes in either case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from foresight.core.access import role_required
from foresight.core.errors import Conflict, error_message, error_status
from foresight.core.forms import apply_service_error
from foresight.core.htmx import wants_partial
from foresight.delphi.models import Argument, Round, Study
from foresight.delphi.roles import CONSOLE, MANAGE_PANEL, MANAGE_STUDY, MODERATE, VIEW_RESULTS
from foresight.delphi.services import console
from foresight.delphi.services.arguments import argument_moderate
from foresight.delphi.services.panel import panel_import_csv
from foresight.delphi.services.rounds import round_close, round_schedule
from foresight.delphi.services.studies import question_remove, question_update, study_managers_set
from foresight.delphi.staff import selectors
from foresight.delphi.staff.forms import (
    ArgumentFilterForm,
    ModerateForm,
    PanelFilterForm,
    PanelImportForm,
    QuestionForm,
    ResultsRoundForm,
    RoundExtendForm,
    RoundOpenForm,
    RoundScheduleForm,
    StudyCreateForm,
    StudyManagersForm,
    StudyRulesForm,
)

PANEL_PAGE_SIZE = 100
ARGUMENT_PAGE_SIZE = 50
STUDY_PAGE_SIZE = 50


# --- Studies -----------------------------------------------------------------------------------------


@require_safe
@never_cache
@role_required(*CONSOLE)
def study_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.study_list_for_staff(user=request.user), STUDY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "delphi/staff/study_list.html", {"page": page, "query": ""})


def _render_create(request: HttpRequest, form: StudyCreateForm, status: int = 200) -> HttpResponse:
    field = form.fields["topics"]
    assert isinstance(field, forms.ModelMultipleChoiceField) and field.queryset is not None
    topics = field.queryset
    selected = {str(v) for v in (form["topics"].value() or [])}
    return render(
        request,
        "delphi/staff/study_create.html",
        {"form": form, "groups": selectors.topics_grouped(topics), "selected": selected},
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@role_required(MANAGE_STUDY)
def study_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render_create(request, StudyCreateForm())
    form = StudyCreateForm(request.POST)
    if not form.is_valid():
        return _render_create(request, form, status=400)
    data = form.cleaned_data
    try:
        study = console.study_setup(
            actor=request.user,
            title_en=data["title_en"],
            title_zh=data["title_zh"],
            description_en=data["description_en"],
            organiser=data["organiser"],
            contact_email=data["contact_email"],
            code=data["code"] or None,
            horizon_year=data["horizon_year"],
            planned_rounds=data["planned_rounds"],
            mode=data["mode"],
            anonymous=data["anonymous"],
            k_threshold=data["k_threshold"],
            min_respondents=data["min_respondents"],
            min_high_respondents=data["min_high_respondents"],
            drop_consensus_topics=data["drop_consensus_topics"],
            topics=data["topics"],
        )
    except ValidationError as exc:
        apply_service_error(form, exc)
        return _render_create(request, form, status=400)
    if request.user.has_perm(MANAGE_PANEL):
        messages.success(request, _("Study created. Import the panel and schedule round 1 next."))
    else:
        messages.success(request, _("Study created. Schedule round 1 next; a panel manager imports the panel."))
    return redirect("staff:study", code=study.code)


# --- Overview: rounds, participation, audit ------------------------------------------------------------


@dataclass
class Failed:
    """A round action that was refused, to show its message beside the round it concerns."""

    round_pk: int
    action: str
    form: forms.Form


def _round_row(rnd: Round, failed: Failed | None = None, previous: Round | None = None) -> dict[str, Any]:
    n = rnd.number
    row_forms: dict[str, forms.Form] = {
        "schedule": RoundScheduleForm(
            initial={"opens_at": rnd.opens_at, "closes_at": rnd.closes_at}, auto_id=f"r{n}-schedule-%s"
        ),
        "open": RoundOpenForm(initial={"closes_at": rnd.closes_at}, auto_id=f"r{n}-open-%s"),
        "extend": RoundExtendForm(initial={"closes_at": rnd.closes_at}, auto_id=f"r{n}-extend-%s"),
    }
    error: forms.Form | None = None
    if failed is not None and failed.round_pk == rnd.pk:
        error = failed.form
        if failed.action in row_forms:
            row_forms[failed.action] = failed.form
    polling = rnd.status == Round.Status.CLOSED or 0 < rnd.aggregation_progress < 100
    # Round 2+ shows the previous round's feedback, so it opens only once that round is aggregated.
    can_open = previous is None or previous.status == Round.Status.AGGREGATED
    return {"round": rnd, "forms": row_forms, "error": error, "polling": polling, "can_open": can_open}


def _render_overview(
    request: HttpRequest, study: Study, *, failed: Failed | None = None, status: int = 200
) -> HttpResponse:
    rounds = selectors.round_list_for_study(study=study)
    participation = selectors.study_participation(study=study, rounds=rounds)
    context: dict[str, Any] = {
        "study": study,
        "section": "overview",
        "participation": participation,
        "live": any(r.status == Round.Status.OPEN for r in rounds),
    }
    template = "delphi/staff/study_overview.html"
    if status == 200 and wants_partial(request):
        # The poll renders the participation region only: nothing else is read.
        return render(request, template + "#participation", context)
    context.update(
        {
            "rows": [_round_row(rnd, failed, previous) for previous, rnd in zip([None, *rounds], rounds, strict=False)],
            "audit": selectors.audit_recent(study=study),
            "pending_invitations": selectors.panel_pending_invitations(study=study),
            "stopping": selectors.study_stopping_latest(study=study, rounds=rounds),
            "TIME_ZONE": settings.TIME_ZONE,
        }
    )
    return render(request, template, context, status=status)


@require_safe
@never_cache
@vary_on_headers("HX-Request")
@role_required(*CONSOLE)
def study_overview(request: HttpRequest, code: str) -> HttpResponse:
    """The study dashboard; an htmx request gets only the participation region (polled while a round is open)."""
    study = selectors.study_get_for_staff(code=code, user=request.user)
    return _render_overview(request, study)


def _round_action(
    request: HttpRequest,
    code: str,
    action: str,
    form_class: type[forms.Form],
    run: Callable[[Round, dict[str, Any]], str],
) -> HttpResponse:
    """Shared shape of the round buttons: validate, call the service, redirect with a message or re-render."""
    rnd = selectors.round_get_for_staff(code=code, user=request.user)
    n = rnd.number
    form = form_class(request.POST, auto_id=f"r{n}-{action}-%s")
    if not form.is_valid():
        return _render_overview(request, rnd.study, failed=Failed(rnd.pk, action, form), status=400)
    try:
        message = run(rnd, form.cleaned_data)
    except ValidationError as exc:
        apply_service_error(form, exc)
        return _render_overview(request, rnd.study, failed=Failed(rnd.pk, action, form), status=error_status(exc))
    messages.success(request, message)
    return redirect(reverse("staff:study", kwargs={"code": rnd.study.code}) + f"#round-{n}")


class _EmptyForm(forms.Form):
    pass


@require_POST
@role_required(MANAGE_STUDY)
def round_schedule_view(request: HttpRequest, code: str) -> HttpResponse:
    def run(rnd: Round, data: dict[str, Any]) -> str:
        round_schedule(rnd=rnd, opens_at=data["opens_at"], closes_at=data["closes_at"], actor=request.user)
        return _("Round %(n)s is scheduled.") % {"n": rnd.number}

    return _round_action(request, code, "schedule", RoundScheduleForm, run)


@require_POST
@role_required(MANAGE_STUDY)
def round_open_view(request: HttpRequest, code: str) -> HttpResponse:
    def run(rnd: Round, data: dict[str, Any]) -> str:
        if not console.round_open_now(rnd=rnd, actor=request.user, closes_at=data.get("closes_at")):
            rnd.refresh_from_db()
            raise Conflict(
                _("Round %(n)s is %(status)s; only a draft or scheduled round can be opened.")
                % {"n": rnd.number, "status": rnd.get_status_display().lower()}
            )
        return _("Round %(n)s is open.") % {"n": rnd.number}

    return _round_action(request, code, "open", RoundOpenForm, run)


@require_POST
@role_required(MANAGE_STUDY)
def round_close_view(request: HttpRequest, code: str) -> HttpResponse:
    def run(rnd: Round, data: dict[str, Any]) -> str:
        if not round_close(rnd=rnd, actor=request.user):
            rnd.refresh_from_db()
            raise Conflict(
                _("Round %(n)s is %(status)s; only an open round can be closed.")
                % {"n": rnd.number, "status": rnd.get_status_display().lower()}
            )
        return _("Round %(n)s is closed; its aggregation is queued.") % {"n": rnd.number}

    return _round_action(request, code, "close", _EmptyForm, run)


@require_POST
@role_required(MANAGE_STUDY)
def round_extend_view(request: HttpRequest, code: str) -> HttpResponse:
    def run(rnd: Round, data: dict[str, Any]) -> str:
        console.round_extend_checked(rnd=rnd, closes_at=data["closes_at"], actor=request.user)
        return _("Round %(n)s now closes later.") % {"n": rnd.number}

    return _round_action(request, code, "extend", RoundExtendForm, run)


@require_POST
@role_required(MANAGE_STUDY)
def reminders_send(request: HttpRequest, code: str) -> HttpResponse:
    def run(rnd: Round, data: dict[str, Any]) -> str:
        count = console.reminders_queue(rnd=rnd, actor=request.user, base_url=settings.SITE_URL)
        return _("%(count)s reminder(s) queued.") % {"count": count}

    return _round_action(request, code, "reminders", _EmptyForm, run)


@require_POST
@role_required(MANAGE_STUDY)
def round_aggregate_view(request: HttpRequest, code: str) -> HttpResponse:
    def run(rnd: Round, data: dict[str, Any]) -> str:
        console.round_aggregate_queue(rnd=rnd, actor=request.user)
        return _("Aggregation of round %(n)s is queued.") % {"n": rnd.number}

    return _round_action(request, code, "aggregate", _EmptyForm, run)


@require_safe
@never_cache
@role_required(*CONSOLE)
def round_progress(request: HttpRequest, code: str) -> HttpResponse:
    """The round's card with its aggregation progress; polled by htmx every 2 s until the round is aggregated."""
    rnd = selectors.round_get_for_staff(code=code, user=request.user)
    if not wants_partial(request):
        return redirect(reverse("staff:study", kwargs={"code": rnd.study.code}) + f"#round-{rnd.number}")
    return render(
        request,
        "delphi/staff/study_overview.html#round_card",
        {"row": _round_row(rnd), "study": rnd.study, "TIME_ZONE": settings.TIME_ZONE},
    )


# --- Settings: rules and questions ---------------------------------------------------------------------


def _render_settings(
    request: HttpRequest,
    study: Study,
    *,
    rules_form: StudyRulesForm | None = None,
    managers_form: StudyManagersForm | None = None,
    failed_question: tuple[str, QuestionForm] | None = None,
    question_error: str | None = None,
    status: int = 200,
) -> HttpResponse:
    questions = selectors.question_list_for_study(study=study)
    question_rows = []
    for question in questions:
        form = QuestionForm.for_question(question)
        failed = failed_question is not None and failed_question[0] == question.key
        if failed and failed_question is not None:
            form = failed_question[1]
        question_rows.append({"question": question, "form": form, "failed": failed})
    context = {
        "study": study,
        "section": "settings",
        "rules_form": rules_form or StudyRulesForm(initial=StudyRulesForm.initial_for(study), auto_id="rules-%s"),
        "questions": question_rows,
        "question_error": question_error,
        "managers_form": managers_form or _managers_form(study),
        "managers": selectors.study_managers(study=study),
        # As it applies: an older study's rule shown with the defaults of the keys it lacks.
        "stopping_rule": study.stopping_rules().as_dict(),
    }
    return render(request, "delphi/staff/study_settings.html", context, status=status)


@require_safe
@never_cache
@role_required(MANAGE_STUDY)
def study_settings(request: HttpRequest, code: str) -> HttpResponse:
    study = selectors.study_get_for_staff(code=code, user=request.user)
    return _render_settings(request, study)


def _managers_form(study: Study, data: Any = None) -> StudyManagersForm:
    initial = {"study_code": study.code, "managers": selectors.study_managers(study=study)}
    return StudyManagersForm(data, initial=initial, auto_id="managers-%s")


@require_POST
@role_required(MANAGE_STUDY)
def study_managers(request: HttpRequest, code: str) -> HttpResponse:
    study = selectors.study_get_for_staff(code=code, user=request.user)
    form = _managers_form(study, request.POST)
    if not form.is_valid():
        return _render_settings(request, study, managers_form=form, status=400)
    try:
        study_managers_set(study=study, managers=form.cleaned_data["managers"], actor=request.user)
    except ValidationError as exc:
        apply_service_error(form, exc)
        return _render_settings(request, study, managers_form=form, status=error_status(exc))
    messages.success(request, _("Named managers saved."))
    return redirect(reverse("staff:study-settings", kwargs={"code": study.code}) + "#managers")


@require_POST
@role_required(MANAGE_STUDY)
def study_rules(request: HttpRequest, code: str) -> HttpResponse:
    study = selectors.study_get_for_staff(code=code, user=request.user)
    form = StudyRulesForm(request.POST, auto_id="rules-%s")
    if not form.is_valid():
        return _render_settings(request, study, rules_form=form, status=400)
    changes = form.changes(study)
    if not changes and not study.is_frozen:
        messages.info(request, _("Nothing changed."))
        return redirect("staff:study-settings", code=study.code)
    try:
        # After freeze the service refuses (and audits the attempt); its message is shown with the settings.
        console.study_rules_change(study=study, actor=request.user, **changes)
    except ValidationError as exc:
        apply_service_error(form, exc)
        study.refresh_from_db()
        return _render_settings(request, study, rules_form=form, status=error_status(exc))
    messages.success(request, _("Settings saved."))
    return redirect("staff:study-settings", code=study.code)


@require_POST
@role_required(MANAGE_STUDY)
def question_update_view(request: HttpRequest, code: str, key: str) -> HttpResponse:
    study = selectors.study_get_for_staff(code=code, user=request.user)
    question = selectors.question_get_for_staff(study=study, key=key)
    form = QuestionForm.for_question(question, data=request.POST)
    if not form.is_valid():
        return _render_settings(request, study, failed_question=(key, form), status=400)
    changes = form.changes(question)
    if not changes and not study.is_frozen:
        messages.info(request, _("Nothing changed."))
        return redirect(reverse("staff:study-settings", kwargs={"code": study.code}) + f"#q-{key}")
    try:
        question_update(question=question, actor=request.user, **changes)
    except ValidationError as exc:
        apply_service_error(form, exc)
        return _render_settings(request, study, failed_question=(key, form), status=error_status(exc))
    messages.success(request, _("Question “%(key)s” saved.") % {"key": key})
    return redirect(reverse("staff:study-settings", kwargs={"code": study.code}) + f"#q-{key}")


@require_POST
@role_required(MANAGE_STUDY)
def question_remove_view(request: HttpRequest, code: str, key: str) -> HttpResponse:
    study = selectors.study_get_for_staff(code=code, user=request.user)
    question = selectors.question_get_for_staff(study=study, key=key)
    try:
        question_remove(question=question, actor=request.user)
    except ValidationError as exc:
        study.refresh_from_db()
        return _render_settings(request, study, question_error=error_message(exc), status=error_status(exc))
    messages.success(request, _("Question “%(key)s” removed.") % {"key": key})
    return redirect("staff:study-settings", code=study.code)


# --- Panel: import, invitations, list --------------------------------------------------------------------


def _render_panel(
    request: HttpRequest,
    study: Study,
    *,
    import_form: PanelImportForm | None = None,
    report: Any = None,
    invite_error: str | None = None,
    status: int = 200,
) -> HttpResponse:
    filters = PanelFilterForm(request.GET or None)
    rounds = selectors.round_list_for_study(study=study)
    if filters.is_bound and not filters.is_valid():
        participants: Any = []
        status = 400 if status == 200 else status
    else:
        data = filters.cleaned_data if filters.is_bound else {}
        participants = selectors.panel_list(study=study, q=data.get("q", ""), sector=data.get("sector", ""))
    page = Paginator(participants, PANEL_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "study": study,
        "section": "panel",
        "rounds": rounds,
        "filters": filters,
        "page": page,
        "rows": selectors.panel_rows(page.object_list, rounds),
        "query": query.urlencode(),
        "import_form": import_form or PanelImportForm(),
        "report": report,
        "invite_error": invite_error,
        "pending_invitations": selectors.panel_pending_invitations(study=study),
    }
    template = "delphi/staff/study_panel.html"
    if wants_partial(request) and request.method != "POST":
        template += "#results"
    return render(request, template, context, status=status)


@require_safe
@never_cache
@vary_on_headers("HX-Request")
@role_required(MANAGE_PANEL)
def study_panel(request: HttpRequest, code: str) -> HttpResponse:
    study = selectors.study_get_for_staff(code=code, user=request.user)
    return _render_panel(request, study)


@require_POST
@role_required(MANAGE_PANEL)
def panel_import(request: HttpRequest, code: str) -> HttpResponse:
    study = selectors.study_get_for_staff(code=code, user=request.user)
    form = PanelImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_panel(request, study, import_form=form, status=400)
    report = panel_import_csv(study=study, data=form.cleaned_data["file"].read(), actor=request.user)
    if not report.ok:
        return _render_panel(request, study, import_form=form, report=report, status=400)
    messages.success(
        request,
        _("Panel imported: %(created)s new expert(s), %(existing)s already known.")
        % {"created": report.created, "existing": report.existing},
    )
    return redirect("staff:study-panel", code=study.code)


@require_POST
@role_required(MANAGE_PANEL)
def invitations_send(request: HttpRequest, code: str) -> HttpResponse:
    study = selectors.study_get_for_staff(code=code, user=request.user)
    try:
        count = console.invitations_queue(study=study, actor=request.user, base_url=settings.SITE_URL)
    except ValidationError as exc:
        return _render_panel(request, study, invite_error=error_message(exc), status=error_status(exc))
    if count:
        messages.success(request, _("%(count)s invitation(s) queued.") % {"count": count})
    else:
        messages.info(request, _("Everyone on the panel has been sent an invitation already."))
    return redirect("staff:study-panel", code=study.code)


# --- Results: consensus and stability ---------------------------------------------------------------------


@require_safe
@never_cache
@role_required(VIEW_RESULTS)
def study_results(request: HttpRequest, code: str) -> HttpResponse:
    study = selectors.study_get_for_staff(code=code, user=request.user)
    rounds = [r for r in selectors.round_list_for_study(study=study) if r.status == Round.Status.AGGREGATED]
    form = ResultsRoundForm(request.GET)
    context: dict[str, Any] = {"study": study, "section": "results", "rounds": rounds, "form": form, "overview": None}
    if not form.is_valid():
        return render(request, "delphi/staff/study_results.html", context, status=400)
    number = form.cleaned_data.get("round")
    if rounds:
        chosen = next((r for r in rounds if r.number == number), None) if number else rounds[-1]
        if chosen is None:
            raise Http404("That round is not aggregated")
        chosen.study = study
        context["overview"] = selectors.round_consensus_overview(rnd=chosen)
    elif number:
        raise Http404("That round is not aggregated")
    return render(request, "delphi/staff/study_results.html", context)


# --- Argument moderation ----------------------------------------------------------------------------------


def _render_arguments(
    request: HttpRequest, study: Study, *, error: str | None = None, status: int = 200
) -> HttpResponse:
    filters = ArgumentFilterForm(request.GET)
    current = filters.cleaned_data.get("status") if filters.is_valid() else ""
    current = current or Argument.Status.PENDING
    if filters.errors:
        status = 400
    page = Paginator(selectors.argument_queue(study=study, status=current), ARGUMENT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "study": study,
        "section": "arguments",
        "filters": filters,
        "current": current,
        "counts": selectors.argument_counts(study=study),
        "page": page,
        "query": f"status={current}",
        "error": error,
    }
    return render(request, "delphi/staff/study_arguments.html", context, status=status)


@require_safe
@never_cache
@role_required(MODERATE)
def study_arguments(request: HttpRequest, code: str) -> HttpResponse:
    study = selectors.study_get_for_staff(code=code, user=request.user)
    return _render_arguments(request, study)


@require_POST
@role_required(MODERATE)
def argument_moderate_view(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    study = selectors.study_get_for_staff(code=code, user=request.user)
    argument = selectors.argument_get_for_staff(study=study, pk=pk)
    form = ModerateForm(request.POST)
    if not form.is_valid():
        message = " ".join(str(e) for e in form.errors.get("status", [])) or _("Approve or reject.")
        if wants_partial(request):
            return render(
                request,
                "delphi/staff/study_arguments.html#argument_row",
                {"argument": argument, "study": study, "row_error": message},
                status=400,
            )
        return _render_arguments(request, study, error=message, status=400)
    argument = argument_moderate(argument=argument, status=form.cleaned_data["status"], actor=request.user)
    if wants_partial(request):
        return render(request, "delphi/staff/study_arguments.html#argument_row", {"argument": argument, "study": study})
    messages.success(
        request,
        _("Argument approved.") if argument.status == Argument.Status.APPROVED else _("Argument rejected."),
    )
    back = request.POST.get("back", "")
    url = reverse("staff:study-arguments", kwargs={"code": study.code})
    if back in Argument.Status.values:
        url += f"?status={back}"
    return redirect(url)
