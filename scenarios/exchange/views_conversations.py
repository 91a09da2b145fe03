"""Conversation pages of the scenario exchange: the list of one's organisations' conversations, a thread with
its reply, outcome, contact and report controls, the two ways to open one (an owner's invitation from the
shortlist, a supplier's interest from a demand entry's page), and the curators' queue of abuse reports.

A conversation is addressed by its unguessable code; to anyone who is not a party (nor a curator of a
reported one) it does not exist (404). Each view checks who is asking, validates a form, calls one service,
and redirects; a refusal re-renders the page with its reason and the typed text, with the error contract's
status (scenarios.exchange.conversations)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from foresight.core.access import role_required
from foresight.core.errors import error_message, error_status
from foresight.core.forms import apply_service_error
from scenarios.exchange import conversations as svc
from scenarios.exchange import selectors
from scenarios.exchange.entries import REVIEW_PERMISSION, require_read
from scenarios.exchange.forms_conversations import (
    InterestForm,
    InviteToRespondForm,
    MessageForm,
    OutcomeForm,
    ReportDecideForm,
    ReportForm,
)
from scenarios.models import AbuseReport, Conversation

PAGE_SIZE = 50


def _refused(request: HttpRequest, exc: Exception, *, back: str) -> HttpResponse:
    status = 403 if isinstance(exc, PermissionDenied) else error_status(exc)
    message = str(exc) if isinstance(exc, PermissionDenied) else error_message(exc)
    return render(request, "exchange/refused.html", {"message": message, "back": back}, status=status)


def _to(conversation: Conversation) -> HttpResponse:
    return redirect("exchange:conversation", code=conversation.code)


# --- The list and one thread ------------------------------------------------------------------------------


@require_safe
@never_cache
@login_required
def conversation_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(svc.conversation_list_for_user(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    mine = set(
        request.user.memberships.values_list("organisation_id", flat=True)  # type: ignore[union-attr]
    )
    rows = [{"c": c, "as_owner": c.demand.organisation_id in mine} for c in page]
    return render(request, "exchange/conversation_list.html", {"page": page, "rows": rows})


def _render_thread(
    request: HttpRequest,
    conversation: Conversation,
    access: svc.Access,
    *,
    message_form: MessageForm | None = None,
    report_form: ReportForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    side = access.side
    context: dict[str, Any] = {
        "conversation": conversation,
        "access": access,
        "side": side,
        "owner": conversation.demand.organisation,
        "supplier": conversation.supplier,
        "messages_": svc.conversation_messages(conversation=conversation),
        "closed": svc.is_closed(conversation),
        "contacts": svc.contacts_for(conversation=conversation, side=side) if side else None,
        "outcomes": [
            (v, label) for v, label in Conversation.Outcome.choices if v in svc.OUTCOMES_BY_SIDE.get(side, ())
        ],
        "message_form": message_form or MessageForm(),
        "report_form": report_form or ReportForm(),
        "reports": svc.conversation_reports(conversation=conversation) if access.curator else [],
        "reported": request.GET.get("message", ""),
        "error": error,
    }
    return render(request, "exchange/conversation_detail.html", context, status=status)


@require_safe
@never_cache
@login_required
def conversation_detail(request: HttpRequest, code: str) -> HttpResponse:
    conversation, access = svc.conversation_get_for_user(code=code, user=request.user)
    return _render_thread(request, conversation, access)


@require_POST
@login_required
def conversation_reply(request: HttpRequest, code: str) -> HttpResponse:
    conversation, access = svc.conversation_get_for_user(code=code, user=request.user)
    form = MessageForm(request.POST)
    if not form.is_valid():
        return _render_thread(request, conversation, access, message_form=form, status=400)
    try:
        svc.message_send(conversation=conversation, actor=request.user, body=form.cleaned_data["body"])
    except PermissionDenied as exc:
        return _render_thread(request, conversation, access, message_form=form, error=str(exc), status=403)
    except ValidationError as exc:
        apply_service_error(form, exc)
        return _render_thread(request, conversation, access, message_form=form, status=error_status(exc))
    messages.success(request, _("Message sent."))
    return _to(conversation)


@require_POST
@login_required
def conversation_outcome(request: HttpRequest, code: str) -> HttpResponse:
    conversation, access = svc.conversation_get_for_user(code=code, user=request.user)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        return _render_thread(
            request, conversation, access, error=_("Choose declined, in discussion or agreed to pilot."), status=400
        )
    try:
        svc.conversation_outcome_set(
            conversation=conversation, actor=request.user, outcome=form.cleaned_data["outcome"]
        )
    except PermissionDenied as exc:
        return _render_thread(request, conversation, access, error=str(exc), status=403)
    except ValidationError as exc:
        return _render_thread(request, conversation, access, error=error_message(exc), status=error_status(exc))
    messages.success(request, _("Outcome recorded."))
    return _to(conversation)


@require_POST
@login_required
def conversation_share(request: HttpRequest, code: str) -> HttpResponse:
    conversation, access = svc.conversation_get_for_user(code=code, user=request.user)
    try:
        svc.contact_share(conversation=conversation, actor=request.user)
    except PermissionDenied as exc:
        return _render_thread(request, conversation, access, error=str(exc), status=403)
    except ValidationError as exc:
        return _render_thread(request, conversation, access, error=error_message(exc), status=error_status(exc))
    messages.success(request, _("You agreed to share your address; it is shown once the other side agrees too."))
    return _to(conversation)


@require_POST
@login_required
def conversation_report(request: HttpRequest, code: str) -> HttpResponse:
    """A party reports the conversation, or one message in it (``message``: its number in the thread's form)."""
    conversation, access = svc.conversation_get_for_user(code=code, user=request.user)
    form = ReportForm(request.POST)
    if not form.is_valid():
        return _render_thread(request, conversation, access, report_form=form, status=400)
    message = None
    if form.cleaned_data["message"]:
        message = conversation.messages.filter(pk=form.cleaned_data["message"]).first()
        if message is None:
            form.add_error("reason", _("This message is not in the conversation."))
            return _render_thread(request, conversation, access, report_form=form, status=400)
    try:
        svc.abuse_report_create(
            conversation=conversation, actor=request.user, reason=form.cleaned_data["reason"], message=message
        )
    except PermissionDenied as exc:
        return _render_thread(request, conversation, access, report_form=form, error=str(exc), status=403)
    except ValidationError as exc:
        apply_service_error(form, exc)
        return _render_thread(request, conversation, access, report_form=form, status=error_status(exc))
    messages.success(request, _("Reported: the curators will look at it."))
    return _to(conversation)


# --- Opening a conversation from an entry ------------------------------------------------------------------


@require_POST
@login_required
def entry_interest(request: HttpRequest, code: str) -> HttpResponse:
    """A supplier's editor or admin writes to a published demand entry's owner."""
    demand = selectors.entry_get(code=code)
    require_read(entry=demand, user=request.user)
    back = reverse("exchange:entry", args=[code])
    form = InterestForm(request.POST)

    def again(status: int, error: str = "") -> HttpResponse:
        options = svc.interest_options(demand=demand, user=request.user)
        choices = [o for o in options if o["conversation"] is None]
        context = {"entry": demand, "form": form, "options": options, "choices": choices, "error": error}
        return render(request, "exchange/conversation_start.html", context, status=status)

    if not form.is_valid():
        return again(400)
    supplier = selectors.organisation_get(code=form.cleaned_data["supplier"])
    capability = None
    if form.cleaned_data["capability"]:
        capability = selectors.entry_find(code=form.cleaned_data["capability"])
        if capability is None:
            form.add_error("capability", _("Choose one of your organisation's published capability entries."))
            return again(400)
    try:
        conversation = svc.conversation_express_interest(
            actor=request.user,
            demand=demand,
            supplier=supplier,
            capability=capability,
            body=form.cleaned_data["body"],
        )
    except svc.ConversationExists as exc:
        messages.info(request, error_message(exc))
        return _to(exc.conversation)
    except PermissionDenied as exc:
        return _refused(request, exc, back=back)
    except ValidationError as exc:
        apply_service_error(form, exc)
        return again(error_status(exc))
    messages.success(request, _("Sent: the entry's owner is told by e-mail and answers here."))
    return _to(conversation)


@require_POST
@login_required
def entry_invite(request: HttpRequest, code: str, capability: str) -> HttpResponse:
    """The demand's owner invites the organisation of a capability on its shortlist to respond."""
    demand = selectors.entry_get(code=code)
    require_read(entry=demand, user=request.user)
    back = reverse("exchange:entry", args=[code])
    offered = selectors.entry_get(code=capability)
    form = InviteToRespondForm(request.POST)
    if not form.is_valid():
        return _refused(request, ValidationError(_("Keep the message under 4,000 characters.")), back=back)
    try:
        conversation = svc.conversation_invite(
            actor=request.user, demand=demand, capability=offered, body=form.cleaned_data["body"]
        )
    except svc.ConversationExists as exc:
        messages.info(request, error_message(exc))
        return _to(exc.conversation)
    except (PermissionDenied, ValidationError) as exc:
        return _refused(request, exc, back=back)
    messages.success(request, _("Invitation sent: the organisation is told by e-mail and answers here."))
    return _to(conversation)


# --- The curators' queue of reports ------------------------------------------------------------------------


@require_safe
@never_cache
@role_required(REVIEW_PERMISSION)
def report_queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or AbuseReport.Status.OPEN
    if status not in AbuseReport.Status.values:
        status = AbuseReport.Status.OPEN
    page = Paginator(svc.abuse_report_queue(status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "statuses": AbuseReport.Status.choices, "form": ReportDecideForm()}
    return render(request, "exchange/conversation_reports.html", context)


@require_POST
@role_required(REVIEW_PERMISSION)
def report_decide(request: HttpRequest, pk: int) -> HttpResponse:
    report = svc.abuse_report_get(pk=pk)
    back = reverse("exchange:conversation-reports")
    form = ReportDecideForm(request.POST)
    if not form.is_valid():
        return _refused(request, ValidationError(_("Uphold or dismiss, with an optional note.")), back=back)
    uphold = form.cleaned_data["decision"] == "uphold"
    try:
        svc.abuse_report_decide(report=report, actor=request.user, uphold=uphold, note=form.cleaned_data["note"])
    except (PermissionDenied, ValidationError) as exc:
        return _refused(request, exc, back=back)
    messages.success(request, _("Report upheld: the conversation is closed.") if uphold else _("Report dismissed."))
    return redirect("exchange:conversation-reports")
