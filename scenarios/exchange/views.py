"""The scenario exchange's pages for organisation members (signed in through django-allauth) and the public
organisation profiles. Each view: check who is asking, validate a form, call one service or selector,
render. A bad value re-renders the page with its message and 400; a refused action answers 403 or 409 with
the reason; nothing changes in either case. State changes are POST-only and CSRF-protected."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from foresight.core.access import role_required
from foresight.core.errors import error_message, error_status
from foresight.core.forms import apply_service_error
from scenarios.exchange import duplicates, entries, exports, releases, selectors
from scenarios.exchange import organisations as svc
from scenarios.exchange.forms import (
    CommentForm,
    DecideForm,
    EntryForm,
    InviteForm,
    JoinForm,
    MergeForm,
    OrganisationForm,
    RejectForm,
    RoleForm,
)
from scenarios.models import Entry, Membership, Organisation, Release, Scenario

Role = Membership.Role
PAGE_SIZE = 50
RELEASE_PAGE_SIZE = 100  # entries of one list on a release's page and on the curators' workbench


def _shown(value: str) -> str:
    """A query value as an error message repeats it: short, without control characters."""
    return "".join(c for c in value[:40] if c.isprintable())


def _refused(request: HttpRequest, exc: Exception, *, back: str) -> HttpResponse:
    """A refusal no form field can correct, on its own page with the error contract's status."""
    status = 403 if isinstance(exc, PermissionDenied) else error_status(exc)
    message = str(exc) if isinstance(exc, PermissionDenied) else error_message(exc)
    return render(request, "exchange/refused.html", {"message": message, "back": back}, status=status)


# --- The member's home -----------------------------------------------------------------------------------


@require_safe
@never_cache
@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "memberships": selectors.memberships_of(user=user),
        "invitations": selectors.invitations_for(user=user),
        "join_requests": selectors.join_requests_of(user=user),
    }
    return render(request, "exchange/home.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def organisation_create(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None)
    if request.method != "POST":
        return render(request, "exchange/organisation_form.html", {"form": form})
    if not form.is_valid():
        return render(request, "exchange/organisation_form.html", {"form": form}, status=400)
    try:
        organisation = svc.organisation_create(user=request.user, **form.cleaned_data)
    except ValidationError as exc:
        apply_service_error(form, exc)
        return render(request, "exchange/organisation_form.html", {"form": form}, status=error_status(exc))
    messages.success(request, _("Organisation created: you are its admin. Invite your colleagues next."))
    return redirect("exchange:members", code=organisation.code)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def organisation_edit(request: HttpRequest, code: str) -> HttpResponse:
    organisation = selectors.organisation_get(code=code)
    svc.require_role(organisation=organisation, user=request.user, roles=(Role.ADMIN,))
    form = OrganisationForm(request.POST or None, instance=organisation if request.method != "POST" else None)
    context = {"form": form, "organisation": organisation}
    if request.method != "POST":
        return render(request, "exchange/organisation_form.html", context)
    if not form.is_valid():
        return render(request, "exchange/organisation_form.html", context, status=400)
    try:
        svc.organisation_update(organisation=organisation, actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        apply_service_error(form, exc)
        return render(request, "exchange/organisation_form.html", context, status=error_status(exc))
    messages.success(request, _("Profile saved."))
    return redirect("organisation-detail", code=organisation.code)


# --- Members, invitations, join requests ------------------------------------------------------------------


def _render_members(
    request: HttpRequest,
    organisation: Organisation,
    *,
    invite_form: InviteForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    role = svc.require_role(organisation=organisation, user=request.user, roles=tuple(Role.values))
    admin = role == Role.ADMIN
    context: dict[str, Any] = {
        "organisation": organisation,
        "my_role": role,
        "is_admin": admin,
        "members": selectors.members_of(organisation=organisation),
        "role_choices": Role.choices,
        "error": error,
    }
    if admin:
        context.update(
            {
                "invite_form": invite_form or InviteForm(),
                "requests": selectors.pending_requests(organisation=organisation),
                "invitations": selectors.pending_invitations(organisation=organisation),
            }
        )
    return render(request, "exchange/members.html", context, status=status)


@require_safe
@never_cache
@login_required
def members(request: HttpRequest, code: str) -> HttpResponse:
    """Members see who else is in; admins also see addresses, invite, decide requests and change roles."""
    return _render_members(request, selectors.organisation_get(code=code))


@require_POST
@login_required
def invite(request: HttpRequest, code: str) -> HttpResponse:
    organisation = selectors.organisation_get(code=code)
    svc.require_role(organisation=organisation, user=request.user, roles=(Role.ADMIN,))
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _render_members(request, organisation, invite_form=form, status=400)
    try:
        svc.invitation_send(organisation=organisation, actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        apply_service_error(form, exc)
        return _render_members(request, organisation, invite_form=form, status=error_status(exc))
    messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
    return redirect("exchange:members", code=organisation.code)


@require_POST
@login_required
def member_role(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    organisation = selectors.organisation_get(code=code)
    svc.require_role(organisation=organisation, user=request.user, roles=(Role.ADMIN,))
    membership = selectors.membership_get(organisation=organisation, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _render_members(request, organisation, error=_("Choose admin, editor or viewer."), status=400)
    try:
        svc.membership_change_role(membership=membership, actor=request.user, role=form.cleaned_data["role"])
    except ValidationError as exc:
        return _render_members(request, organisation, error=error_message(exc), status=error_status(exc))
    messages.success(request, _("Role changed."))
    return redirect("exchange:members", code=organisation.code)


@require_POST
@login_required
def member_remove(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """An admin removes a member; a member removes herself (leaves)."""
    organisation = selectors.organisation_get(code=code)
    svc.require_role(organisation=organisation, user=request.user, roles=tuple(Role.values))
    membership = selectors.membership_get(organisation=organisation, pk=pk)
    leaving = membership.user_id == request.user.pk
    try:
        svc.membership_remove(membership=membership, actor=request.user)
    except ValidationError as exc:
        return _render_members(request, organisation, error=error_message(exc), status=error_status(exc))
    if leaving:
        messages.success(request, _("You have left %(name)s.") % {"name": organisation.name})
        return redirect("exchange:home")
    messages.success(request, _("Member removed."))
    return redirect("exchange:members", code=organisation.code)


@require_POST
@login_required
def request_decide(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    organisation = selectors.organisation_get(code=code)
    svc.require_role(organisation=organisation, user=request.user, roles=(Role.ADMIN,))
    join_request = selectors.join_request_get(organisation=organisation, pk=pk)
    form = DecideForm(request.POST)
    if not form.is_valid():
        return _render_members(request, organisation, error=_("Approve or decline, with a role."), status=400)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        svc.join_request_decide(
            request=join_request, actor=request.user, approve=approve, role=form.cleaned_data["role"]
        )
    except ValidationError as exc:
        return _render_members(request, organisation, error=error_message(exc), status=error_status(exc))
    messages.success(request, _("Request approved.") if approve else _("Request declined."))
    return redirect("exchange:members", code=organisation.code)


@require_POST
@login_required
def join(request: HttpRequest, code: str) -> HttpResponse:
    organisation = selectors.organisation_get(code=code)
    back = reverse("organisation-detail", kwargs={"code": organisation.code})
    form = JoinForm(request.POST)
    if not form.is_valid():
        return _refused(request, ValidationError(_("Keep the message under 1,000 characters.")), back=back)
    try:
        svc.join_request_create(organisation=organisation, user=request.user, message=form.cleaned_data["message"])
    except ValidationError as exc:
        return _refused(request, exc, back=back)
    messages.success(request, _("Your request has been sent to the organisation's admins."))
    return redirect("exchange:home")


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """GET: what the invitation is, with a button (a mail scanner opening the link accepts nothing); POST:
    accept, signed in with the invited address."""
    found = svc.invitation_get(token=token)
    context: dict[str, Any] = {"found": found, "token": token}
    if found is None:
        return render(request, "exchange/invitation.html", context, status=404)
    if request.method != "POST":
        return render(request, "exchange/invitation.html", context, status=200 if found.usable else 409)
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?next={request.path}")
    try:
        membership = svc.invitation_accept(token=token, user=request.user)
    except (ValidationError, PermissionDenied) as exc:
        return _refused(request, exc, back=reverse("exchange:home"))
    messages.success(
        request,
        _("Welcome to %(name)s: you are a member as %(role)s.")
        % {"name": membership.organisation.name, "role": membership.get_role_display().lower()},
    )
    return redirect("exchange:members", code=membership.organisation.code)


# --- Public profiles ----------------------------------------------------------------------------------------


@require_safe
def organisation_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.organisation_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "exchange/organisation_list.html", {"page": page})


@require_safe
def organisation_detail(request: HttpRequest, code: str) -> HttpResponse:
    organisation = selectors.organisation_get(code=code)
    role = svc.role_of(organisation=organisation, user=request.user)
    context = {
        "organisation": organisation,
        "my_role": role,
        "my_role_label": Role(role).label if role else "",
        "join_form": JoinForm(),
        "takes_requests": organisation.memberships.filter(role=Membership.Role.ADMIN).exists(),
    }
    return render(request, "exchange/organisation_detail.html", context)


# --- Entries --------------------------------------------------------------------------------------------------


@require_safe
@never_cache
@login_required
def entry_list(request: HttpRequest, code: str) -> HttpResponse:
    """The organisation's entries in every state, for its members."""
    organisation = selectors.organisation_get(code=code)
    role = svc.require_role(organisation=organisation, user=request.user, roles=tuple(Role.values))
    context = {
        "organisation": organisation,
        "entries": selectors.entries_of(organisation=organisation),
        "can_write": role in entries.WRITERS,
        "kinds": Entry.Kind.choices,
    }
    return render(request, "exchange/entry_list.html", context)


def _render_entry_form(
    request: HttpRequest,
    form: EntryForm,
    *,
    organisation: Organisation,
    entry: Entry | None = None,
    similar: duplicates.Duplicates | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "organisation": organisation,
        "entry": entry,
        "kind": form.kind,
        "similar": similar,
        "warn_at": duplicates.WARN_AT,
    }
    return render(request, "exchange/entry_form.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def entry_create(request: HttpRequest, code: str) -> HttpResponse:
    organisation = selectors.organisation_get(code=code)
    svc.require_role(organisation=organisation, user=request.user, roles=entries.WRITERS)
    kind = request.POST.get("kind") or request.GET.get("kind") or ""
    if kind not in Entry.Kind.values:
        return _refused(
            request, ValidationError(_("Choose demand or capability.")), back=reverse("exchange:entries", args=[code])
        )
    form = EntryForm(request.POST or None, kind=kind)
    if request.method != "POST":
        return _render_entry_form(request, form, organisation=organisation)
    if not form.is_valid():
        return _render_entry_form(request, form, organisation=organisation, status=400)
    try:
        entry = entries.entry_create(organisation=organisation, actor=request.user, kind=kind, **form.service_values())
    except ValidationError as exc:
        apply_service_error(form, exc)
        return _render_entry_form(request, form, organisation=organisation, status=error_status(exc))
    messages.success(request, _("Draft saved. Submit it for review when it is complete."))
    return redirect("exchange:entry", code=entry.code)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def entry_edit(request: HttpRequest, code: str) -> HttpResponse:
    entry = selectors.entry_get(code=code)
    entries.require_read(entry=entry, user=request.user)
    back = reverse("exchange:entry", args=[code])
    writer = svc.role_of(organisation=entry.organisation, user=request.user) in entries.WRITERS
    if not (writer or entries.is_curator(request.user)):
        return _refused(
            request, PermissionDenied(_("Only the organisation's editors and admins edit its entries.")), back=back
        )
    if request.method != "POST":
        form = EntryForm(initial=EntryForm.initial_for(entry), kind=entry.kind)
        can = entries.entry_abilities(entry=entry, user=request.user)
        similar = _similar(request, entry, can)
        return _render_entry_form(request, form, organisation=entry.organisation, entry=entry, similar=similar)
    form = EntryForm(request.POST, kind=entry.kind)
    if not form.is_valid():
        return _render_entry_form(request, form, organisation=entry.organisation, entry=entry, status=400)
    try:
        entries.entry_update(entry=entry, actor=request.user, **form.service_values())
    except PermissionDenied as exc:
        return _refused(request, exc, back=reverse("exchange:entry", args=[code]))
    except ValidationError as exc:
        apply_service_error(form, exc)
        return _render_entry_form(request, form, organisation=entry.organisation, entry=entry, status=error_status(exc))
    messages.success(request, _("Entry saved."))
    return redirect("exchange:entry", code=entry.code)


def _similar(request: HttpRequest, entry: Entry, can: dict[str, bool]) -> duplicates.Duplicates | None:
    """What the entry is close to, for the proposer about to submit and for the curator reviewing it."""
    if can["can_submit"] or (can["curator"] and entry.status in duplicates.MERGEABLE):
        return duplicates.similar_to_entry(entry=entry, user=request.user)
    return None


def _render_entry(
    request: HttpRequest,
    entry: Entry,
    *,
    comment_form: CommentForm | None = None,
    merge_form: MergeForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    can = entries.entry_abilities(entry=entry, user=request.user)
    similar = _similar(request, entry, can)
    can_merge = can["curator"] and entry.status in duplicates.MERGEABLE
    if can_merge and merge_form is None:
        targets = [s.code for s in similar.entries if s.kind == entry.kind] if similar else []
        merge_form = MergeForm(initial={"into": targets[0] if targets else ""})
    context = {
        "similar": similar,
        "warn_at": duplicates.WARN_AT,
        "can_merge": can_merge,
        "merge_form": merge_form,
        "merged_into": duplicates.merged_into_for(entry=entry, user=request.user),
        "entry": entry,
        "organisation": entry.organisation,
        "topics": selectors.entry_topics(entry=entry),
        "comments": selectors.entry_comments(entry=entry) if can["sees_review"] else [],
        "comment_form": comment_form or CommentForm(),
        "reject_form": RejectForm(),
        "error": error,
        **can,
        "missing": entries.completeness_problems(entry) if can["can_submit"] else [],
    }
    return render(request, "exchange/entry_detail.html", context, status=status)


def _render_published_version(request: HttpRequest, entry: Entry, topics: list[Any], withdrawn: bool) -> HttpResponse:
    context = {
        "entry": entry,
        "organisation": entry.organisation,
        "topics": topics,
        "comments": [],
        "published_version": "withdrawn" if withdrawn else "revising",
        **{name: False for name in ("writer", "curator", "sees_review", "can_edit", "can_submit", "can_withdraw")},
    }
    return render(request, "exchange/entry_detail.html", context)


@require_safe
@never_cache
def entry_detail(request: HttpRequest, code: str) -> HttpResponse:
    """A published entry is public; any other state is for its organisation and the curators (sign in)."""
    entry = selectors.entry_get(code=code)
    if not entries.can_read(entry=entry, user=request.user):
        # Under revision, the public reads the version its last release published.
        published = selectors.entry_published_version(entry=entry)
        if published is not None:
            return _render_published_version(request, *published)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
    entries.require_read(entry=entry, user=request.user)
    return _render_entry(request, entry)


def _entry_action(request: HttpRequest, code: str, run: Any, done: str) -> HttpResponse:
    """The entry's buttons: call the service, back to the entry with a message, or the entry with the reason."""
    entry = selectors.entry_get(code=code)
    entries.require_read(entry=entry, user=request.user)
    try:
        run(entry)
    except PermissionDenied as exc:
        return _refused(request, exc, back=reverse("exchange:entry", args=[code]))
    except ValidationError as exc:
        entry.refresh_from_db()
        return _render_entry(request, entry, error=error_message(exc), status=error_status(exc))
    messages.success(request, done)
    return redirect("exchange:entry", code=code)


@require_POST
@login_required
def entry_submit(request: HttpRequest, code: str) -> HttpResponse:
    return _entry_action(
        request,
        code,
        lambda e: entries.entry_submit(entry=e, actor=request.user),
        _("Submitted: the curators review it next."),
    )


@require_POST
@login_required
def entry_withdraw(request: HttpRequest, code: str) -> HttpResponse:
    return _entry_action(
        request, code, lambda e: entries.entry_withdraw(entry=e, actor=request.user), _("Entry withdrawn.")
    )


@require_POST
@login_required
def entry_revise(request: HttpRequest, code: str) -> HttpResponse:
    return _entry_action(
        request,
        code,
        lambda e: entries.entry_revise(entry=e, actor=request.user),
        _("A new version is open as a draft; the published one stays public until the next release."),
    )


@require_POST
@login_required
def entry_comment(request: HttpRequest, code: str) -> HttpResponse:
    form = CommentForm(request.POST)
    if not form.is_valid():
        entry = selectors.entry_get(code=code)
        entries.require_read(entry=entry, user=request.user)
        return _render_entry(request, entry, comment_form=form, status=400)
    body = form.cleaned_data["body"]
    return _entry_action(
        request, code, lambda e: entries.entry_comment(entry=e, actor=request.user, body=body), _("Comment added.")
    )


@require_POST
@login_required
def entry_review(request: HttpRequest, code: str) -> HttpResponse:
    """A curator's decision: ``action`` = start, request_changes (with ``body``), accept, reject (with ``reason``)."""
    action = request.POST.get("action", "")
    body, reason = request.POST.get("body", ""), request.POST.get("reason", "")
    actor = request.user
    runs: dict[str, tuple[Any, str]] = {
        "start": (lambda e: entries.entry_review_start(entry=e, actor=actor), _("Review started.")),
        "request_changes": (
            lambda e: entries.entry_request_changes(entry=e, actor=actor, body=body),
            _("Changes requested: the proposer sees your comment."),
        ),
        "accept": (lambda e: entries.entry_accept(entry=e, actor=actor), _("Accepted: it can go into a release.")),
        "reject": (lambda e: entries.entry_reject(entry=e, actor=actor, reason=reason), _("Rejected.")),
    }
    if action not in runs:
        entry = selectors.entry_get(code=code)
        entries.require_read(entry=entry, user=request.user)
        return _render_entry(request, entry, error=_("Choose a review action."), status=400)
    run, done = runs[action]
    return _entry_action(request, code, run, done)


@require_POST
@login_required
def entry_merge(request: HttpRequest, code: str) -> HttpResponse:
    """A curator merges the entry into the one it repeats (``into``: its code; ``note``: optional)."""
    entry = selectors.entry_get(code=code)
    entries.require_read(entry=entry, user=request.user)
    back = reverse("exchange:entry", args=[code])
    if not entries.is_curator(request.user):  # before the target is looked up: no probing of codes
        return _refused(request, PermissionDenied(_("Only curators merge entries.")), back=back)
    form = MergeForm(request.POST)
    if not form.is_valid():
        return _render_entry(request, entry, merge_form=form, status=400)
    into = selectors.entry_find(code=form.cleaned_data["into"])
    if into is None:
        form.add_error("into", _("No entry has this code."))
        return _render_entry(request, entry, merge_form=form, status=400)
    try:
        duplicates.entry_merge(entry=entry, into=into, actor=request.user, note=form.cleaned_data["note"])
    except PermissionDenied as exc:
        return _refused(request, exc, back=back)
    except ValidationError as exc:
        entry.refresh_from_db()
        apply_service_error(form, exc)
        return _render_entry(request, entry, merge_form=form, error=error_message(exc), status=error_status(exc))
    done = (
        _("%(entry)s merged into %(into)s: its thread, topics and sources are here now.")
        if duplicates.merge_is_full(entry=entry, into=into)
        else _("%(entry)s merged into %(into)s: it points here now and keeps its own thread.")
    )
    messages.success(request, done % {"entry": entry.code, "into": into.code})
    return redirect("exchange:entry", code=into.code)


@require_safe
@never_cache
@role_required(entries.REVIEW_PERMISSION)
def review_queue(request: HttpRequest) -> HttpResponse:
    """The curators' queue: entries waiting for review or in review, oldest first; accepted ones below."""
    status = request.GET.get("status") or ""
    if status and (status not in Entry.Status.values or status == Entry.Status.DRAFT):
        return _refused(
            request,
            ValidationError(
                _("Unknown status: %(value)s.") % {"value": _shown(status)}
                if status != Entry.Status.DRAFT
                else _("Drafts are their organisation's own: the queue shows entries once they are submitted.")
            ),
            back=reverse("exchange:review-queue"),
        )
    statuses = [status] if status else [Entry.Status.SUBMITTED, Entry.Status.IN_REVIEW, Entry.Status.ACCEPTED]
    page = Paginator(selectors.review_queue(statuses=statuses), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "exchange/review_queue.html", {"page": page, "status": status, "statuses": Entry.Status.choices}
    )


# --- Releases: public pages and downloads -------------------------------------------------------------------------


def _download(body: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
def release_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.release_published_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "exchange/release_list.html", {"page": page})


@require_safe
def release_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The release's entries by list kind (demand, capability) and setting, with what is new, changed and
    withdrawn since the previous release; ``?kind=``, ``?setting=`` and ``?region=`` narrow the list."""
    release = selectors.release_public_get(code=code)
    filters = {k: request.GET.get(k, "") for k in ("kind", "setting", "region")}
    problems = []
    if filters["kind"] not in ("", *Entry.Kind.values):
        problems.append(_("Unknown list: %(value)s.") % {"value": _shown(filters["kind"])})
    if filters["setting"] not in ("", *Scenario.Setting.values):
        problems.append(_("Unknown setting: %(value)s.") % {"value": _shown(filters["setting"])})
    if len(filters["region"]) > 200:
        problems.append(_("The region is at most 200 characters."))
    context: dict[str, Any] = {
        "release": release,
        "filters": filters,
        "filter_error": " ".join(problems),
        **selectors.release_page(release=release, **filters),
    }
    # Each list pages on its own (``?dpage=``, ``?cpage=``): a release can hold thousands of entries; a bad
    # page number gets the nearest page, as on every list.
    for name, param in (("demand", "dpage"), ("capability", "cpage")):
        rows = [] if problems else context[name]
        context[name] = Paginator(rows, RELEASE_PAGE_SIZE).get_page(request.GET.get(param))
    return render(request, "exchange/release_detail.html", context, status=400 if problems else 200)


@require_safe
def release_csv(request: HttpRequest, code: str) -> HttpResponse:
    release = selectors.release_public_get(code=code)
    body = exports.release_csv(release, selectors.release_items(release=release))
    if request.GET.get("excel") == "1":  # UTF-8 with a byte-order mark, or spreadsheets garble the Chinese
        return _download("\ufeff" + body, "text/csv; charset=utf-8", f"release-{release.code}-excel.csv")
    return _download(body, "text/csv; charset=utf-8", f"release-{release.code}.csv")


@require_safe
def release_json(request: HttpRequest, code: str) -> HttpResponse:
    release = selectors.release_public_get(code=code)
    body = exports.release_json(release, selectors.release_items(release=release))
    return _download(body, "application/json; charset=utf-8", f"release-{release.code}.json")


# --- Releases: the curators' assembly ---------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@role_required(releases.PUBLISH_PERMISSION)
def release_admin_list(request: HttpRequest) -> HttpResponse:
    """Every release with its state; POST: a new draft (``title_en``/``title_zh``; ``replaces``: a correction)."""
    context: dict[str, Any] = {"releases": selectors.release_list_for_curator(), "error": ""}
    if request.method != "POST":
        return render(request, "exchange/release_admin_list.html", context)
    replaces_code = request.POST.get("replaces", "")
    replaces = selectors.release_public_get(code=replaces_code) if replaces_code else None
    try:
        release = releases.release_draft_create(
            actor=request.user,
            title_en=request.POST.get("title_en", "")[:300],
            title_zh=request.POST.get("title_zh", "")[:300],
            replaces=replaces,
        )
    except ValidationError as exc:
        context["error"] = error_message(exc)
        return render(request, "exchange/release_admin_list.html", context, status=error_status(exc))
    messages.success(request, _("Draft release created: add accepted entries, then publish."))
    return redirect("exchange:release-admin", code=release.code)


def _render_release_admin(
    request: HttpRequest, release: Release, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "release": release,
        "items": Paginator(selectors.release_items_for_curator(release=release), RELEASE_PAGE_SIZE).get_page(
            request.GET.get("page")
        ),
        "candidates": Paginator(selectors.release_candidates(release=release), RELEASE_PAGE_SIZE).get_page(
            request.GET.get("cpage")
        )
        if not release.is_published
        else None,
        "error": error,
    }
    return render(request, "exchange/release_admin.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@role_required(releases.PUBLISH_PERMISSION)
def release_admin(request: HttpRequest, code: str) -> HttpResponse:
    """A release being assembled. POST ``action``: add / remove (``entry``: its code), add_all (every entry
    ready to go in, in one addition) or publish."""
    release = selectors.release_get_for_curator(code=code)
    if request.method != "POST":
        return _render_release_admin(request, release)
    action = request.POST.get("action", "")
    try:
        if action in ("add", "remove"):
            entry = selectors.entry_get(code=request.POST.get("entry", ""))
            if action == "add":
                releases.release_add(release=release, entry=entry, actor=request.user)
            else:
                releases.release_remove(release=release, entry=entry, actor=request.user)
        elif action == "add_all":
            added = releases.release_add_many(
                release=release, entries=selectors.release_candidates(release=release), actor=request.user
            )
            if added:
                messages.success(
                    request,
                    ngettext(
                        "%(count)s entry added to the release.", "%(count)s entries added to the release.", len(added)
                    )
                    % {"count": len(added)},
                )
            else:
                messages.info(request, _("No accepted entry is waiting."))
        elif action == "publish":
            release = releases.release_publish(release=release, actor=request.user)
            messages.success(request, _("Release %(code)s published.") % {"code": release.code})
            return redirect("release-detail", code=release.code)
        else:
            return _render_release_admin(
                request, release, error=_("Choose add, add all, remove or publish."), status=400
            )
    except ValidationError as exc:
        release.refresh_from_db()
        return _render_release_admin(request, release, error=error_message(exc), status=error_status(exc))
    return redirect("exchange:release-admin", code=release.code)
