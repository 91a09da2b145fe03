"""Organisations of the scenario exchange and their members: create, invite, ask to join, approve, change
roles, leave. Every refusal is a ``ValidationError`` (400), ``PermissionDenied`` (403) or ``Conflict`` (409)
raised before anything is written; every change is audited with its actor.

Who may do what inside an organisation (``Membership.Role``): an **admin** edits the profile, invites,
decides join requests and changes members' roles; an **editor** writes the organisation's entries; a
**viewer** reads them. An organisation always keeps at least one admin. Being an expert on a Delphi panel
is a different thing altogether: nothing here reads or links a person's expert answers.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from foresight.core.audit import audit_log
from foresight.core.errors import Conflict
from foresight.core.ratelimit import rate_limited
from foresight.core.text import clean_text
from scenarios.models import JoinRequest, Membership, Organisation, OrganisationInvitation

INVITATION_DAYS = 14
LIMITS = {  # (attempts, window in seconds)
    "organisation_create": (5, 24 * 3600),  # per person
    "invitation": (50, 24 * 3600),  # per organisation
    "join_request": (10, 24 * 3600),  # per person
}
PROFILE_FIELDS = (
    "name_en",
    "name_zh",
    "kind",
    "region_en",
    "region_zh",
    "sector_en",
    "sector_zh",
    "description_en",
    "description_zh",
    "website",
)
Role = Membership.Role


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _limit(scope: str, key: Any) -> None:
    limit, window = LIMITS[scope]
    if rate_limited(scope=f"exchange:{scope}", key=str(key), limit=limit, window_seconds=window):
        raise Conflict(_("Too many requests of this kind today; please try again tomorrow."))


def role_of(*, organisation: Organisation, user: Any) -> str | None:
    """The user's role in the organisation, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(organisation=organisation, user=user).values_list("role", flat=True).first()


def require_role(*, organisation: Organisation, user: Any, roles: tuple[str, ...]) -> str:
    """403 unless the user holds one of ``roles`` in the organisation; returns her role."""
    role = role_of(organisation=organisation, user=user)
    if role not in roles:
        raise PermissionDenied(_("Only the organisation's %(roles)s may do this.") % {"roles": _role_names(roles)})
    return role


def _role_names(roles: tuple[str, ...]) -> str:
    return " / ".join(str(Role(r).label).lower() for r in roles)


def _profile(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}")
    cleaned = {k: clean_text(v) if isinstance(v, str) and k != "website" else v for k, v in values.items()}
    return cleaned


def _code_for(name: str) -> str:
    base = slugify(name)[:50].strip("-") or "org"
    code, n = base, 2
    while Organisation.objects.filter(code=code).exists():
        code, n = f"{base}-{n}", n + 1
    return code


def organisation_create(*, user: Any, **values: Any) -> Organisation:
    """A new organisation with ``user`` as its first admin (unverified until a curator confirms it)."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_("Sign in first."))
    fields = _profile(values)
    organisation = Organisation(**fields, created_by=user)
    organisation.code = _code_for(fields.get("name_en") or "")
    organisation.full_clean(exclude=["code"])
    _limit("organisation_create", user.pk)
    with transaction.atomic():
        organisation.save()
        Membership.objects.create(organisation=organisation, user=user, role=Role.ADMIN)
        audit_log(action="organisation_create", actor=user, organisation=organisation.code)
    return organisation


def organisation_update(*, organisation: Organisation, actor: Any, **values: Any) -> Organisation:
    require_role(organisation=organisation, user=actor, roles=(Role.ADMIN,))
    fields = _profile(values)
    changed = sorted(k for k, v in fields.items() if getattr(organisation, k) != v)
    if not changed:
        return organisation
    for name, value in fields.items():
        setattr(organisation, name, value)
    organisation.full_clean()
    with transaction.atomic():
        organisation.save()
        audit_log(action="organisation_update", actor=actor, organisation=organisation.code, changed=changed)
    return organisation


# --- Invitations ---------------------------------------------------------------------------------------------


def invitation_send(*, organisation: Organisation, actor: Any, email: str, role: str) -> OrganisationInvitation:
    """An admin invites an address; the mail carries a single-use link (only its hash is stored)."""
    require_role(organisation=organisation, user=actor, roles=(Role.ADMIN,))
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": _("Choose admin, editor or viewer.")})
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise ValidationError({"email": _("This address already belongs to a member.")})
    _limit("invitation", organisation.pk)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = OrganisationInvitation.objects.create(
            organisation=organisation,
            email=email,
            role=role,
            token_hash=token_hash(token),
            invited_by=actor,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        audit_log(action="organisation_invite", actor=actor, organisation=organisation.code, role=role)
    link = settings.SITE_URL + reverse("exchange:invitation", kwargs={"token": token})
    context = {"organisation": organisation, "role": Role(role).label, "link": link, "days": INVITATION_DAYS}
    subject = _("Invitation to join %(name)s on Foresight") % {"name": organisation.name}
    send_mail(
        subject,
        render_to_string("exchange/mail/invitation.txt", context),
        None,
        [email],
    )
    return invitation


@dataclass(frozen=True)
class InvitationView:
    invitation: OrganisationInvitation
    usable: bool
    reason: str


def invitation_get(*, token: str) -> InvitationView | None:
    """The invitation a link carries (None for an unknown token), and whether it can still be accepted."""
    invitation = (
        OrganisationInvitation.objects.select_related("organisation").filter(token_hash=token_hash(token)).first()
    )
    if invitation is None:
        return None
    if invitation.accepted_at is not None:
        return InvitationView(invitation, False, _("This invitation has been accepted already."))
    if invitation.expires_at <= timezone.now():
        return InvitationView(invitation, False, _("This invitation has expired; ask the organisation for a new one."))
    return InvitationView(invitation, True, "")


def _verified_emails(user: Any) -> set[str]:
    return {e.lower() for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)}


def invitation_accept(*, token: str, user: Any) -> Membership:
    """The invited person, signed in with the invited address (verified), joins with the invited role."""
    found = invitation_get(token=token)
    if found is None:
        raise ValidationError(_("This invitation link is not valid."))
    if not found.usable:
        raise Conflict(found.reason)
    invitation = found.invitation
    if invitation.email not in _verified_emails(user):
        raise PermissionDenied(
            _("This invitation is for %(email)s: sign in with that address (verified) to accept it.")
            % {"email": invitation.email}
        )
    with transaction.atomic():
        updated = OrganisationInvitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
            accepted_at=timezone.now(), accepted_by=user
        )
        if not updated:
            raise Conflict(_("This invitation has been accepted already."))
        membership, created = Membership.objects.get_or_create(
            organisation=invitation.organisation, user=user, defaults={"role": invitation.role}
        )
        audit_log(
            action="organisation_join",
            actor=user,
            organisation=invitation.organisation.code,
            role=membership.role,
            via="invitation",
            new=created,
        )
    return membership


# --- Join requests -------------------------------------------------------------------------------------------


def join_request_create(*, organisation: Organisation, user: Any, message: str = "") -> JoinRequest:
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_("Sign in first."))
    if role_of(organisation=organisation, user=user):
        raise Conflict(_("You are a member of this organisation already."))
    message = clean_text(message)
    if len(message) > 1000:
        raise ValidationError({"message": _("Keep the message under 1,000 characters.")})
    if not organisation.memberships.filter(role=Role.ADMIN).exists():
        raise Conflict(_("This organisation has no admin who could decide on a request to join."))
    if JoinRequest.objects.filter(organisation=organisation, user=user, status=JoinRequest.Status.PENDING).exists():
        raise Conflict(_("Your request is waiting for the organisation's admins already."))
    _limit("join_request", user.pk)
    try:
        with transaction.atomic():
            request = JoinRequest.objects.create(organisation=organisation, user=user, message=message)
            audit_log(action="organisation_join_request", actor=user, organisation=organisation.code)
    except IntegrityError as exc:  # a second request in the same instant
        raise Conflict(_("Your request is waiting for the organisation's admins already.")) from exc
    admins = list(
        Membership.objects.filter(organisation=organisation, role=Role.ADMIN).values_list("user__email", flat=True)
    )
    if admins:
        send_mail(
            _("Someone asks to join %(name)s on Foresight") % {"name": organisation.name},
            render_to_string(
                "exchange/mail/join_request.txt",
                {
                    "organisation": organisation,
                    "message": message,
                    "link": settings.SITE_URL + reverse("exchange:members", kwargs={"code": organisation.code}),
                },
            ),
            None,
            admins,
        )
    return request


def join_request_decide(*, request: JoinRequest, actor: Any, approve: bool, role: str = Role.VIEWER) -> JoinRequest:
    organisation = request.organisation
    require_role(organisation=organisation, user=actor, roles=(Role.ADMIN,))
    if role not in Role.values:
        raise ValidationError({"role": _("Choose admin, editor or viewer.")})
    with transaction.atomic():
        locked = JoinRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != JoinRequest.Status.PENDING:
            raise Conflict(_("This request has been decided already."))
        locked.status = JoinRequest.Status.APPROVED if approve else JoinRequest.Status.DECLINED
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        if approve:
            Membership.objects.get_or_create(organisation=organisation, user=locked.user, defaults={"role": role})
        audit_log(
            action="organisation_join_request_decide",
            actor=actor,
            organisation=organisation.code,
            approved=approve,
            role=role if approve else None,
        )
    return locked


# --- Members -------------------------------------------------------------------------------------------------


def _keep_an_admin(membership: Membership, *, new_role: str | None) -> None:
    if membership.role != Role.ADMIN or new_role == Role.ADMIN:
        return
    others = Membership.objects.filter(organisation=membership.organisation, role=Role.ADMIN).exclude(pk=membership.pk)
    if not others.exists():
        raise Conflict(_("An organisation keeps at least one admin: make someone else admin first."))


def membership_change_role(*, membership: Membership, actor: Any, role: str) -> Membership:
    require_role(organisation=membership.organisation, user=actor, roles=(Role.ADMIN,))
    if role not in Role.values:
        raise ValidationError({"role": _("Choose admin, editor or viewer.")})
    with transaction.atomic():
        membership = Membership.objects.select_for_update().select_related("organisation").get(pk=membership.pk)
        list(Membership.objects.select_for_update().filter(organisation=membership.organisation, role=Role.ADMIN))
        _keep_an_admin(membership, new_role=role)
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit_log(
            action="organisation_role_change",
            actor=actor,
            organisation=membership.organisation.code,
            member=membership.user_id,
            before=before,
            after=role,
        )
    return membership


def membership_remove(*, membership: Membership, actor: Any) -> None:
    """An admin removes a member, or a member leaves (``actor`` is the member)."""
    if membership.user_id != getattr(actor, "pk", None):
        require_role(organisation=membership.organisation, user=actor, roles=(Role.ADMIN,))
    with transaction.atomic():
        # Lock the organisation's admins so that two admins leaving at once cannot both succeed.
        list(Membership.objects.select_for_update().filter(organisation=membership.organisation, role=Role.ADMIN))
        membership = Membership.objects.select_related("organisation").get(pk=membership.pk)
        _keep_an_admin(membership, new_role=None)
        membership.delete()
        audit_log(
            action="organisation_member_remove",
            actor=actor,
            organisation=membership.organisation.code,
            member=membership.user_id,
        )
