"""Organisations of the scenario exchange: accounts with a verified address (django-allauth), creating an
organisation, inviting, asking to join, roles, and that nobody acts on an organisation she does not run."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from foresight.core.models import AuditLog
from scenarios.exchange import organisations as svc
from scenarios.models import JoinRequest, Membership, Organisation, OrganisationInvitation

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "a-long-password-9"


def person(email: str, *, verified: bool = True) -> Any:
    user = User.objects.create_user(email.split("@")[0], email, PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_org(admin: Any, name: str = "Ruijin Hospital", **extra: Any) -> Organisation:
    return svc.organisation_create(user=admin, name_en=name, kind="public_service", **extra)


# --- Accounts --------------------------------------------------------------------------------------------


def test_sign_up_needs_a_verified_address_before_the_exchange_opens() -> None:
    browser = Client()
    response = browser.post(
        reverse("account_signup"), {"email": "ann@hospital.example", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and "ann@hospital.example" in mail.outbox[0].to
    # Not verified yet: the exchange sends her to sign in, and signing in asks for verification again.
    assert browser.get(reverse("exchange:home")).status_code == 302
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    assert browser.post("/" + path).status_code == 302
    assert EmailAddress.objects.get(email="ann@hospital.example").verified
    browser.post(reverse("account_login"), {"login": "ann@hospital.example", "password": PASSWORD})
    page = browser.get(reverse("exchange:home"))
    assert page.status_code == 200 and "Signed in as ann@hospital.example" in page.content.decode()


def test_the_chinese_sign_in_page_is_in_chinese_and_inside_the_site() -> None:
    page = Client().get("/zh-hans/accounts/login/").content.decode()
    assert "登录" in page and 'class="site-header"' in page


# --- Creating an organisation -----------------------------------------------------------------------------


def test_a_signed_in_person_creates_an_organisation_and_becomes_its_admin() -> None:
    ann = person("ann@hospital.example")
    client = signed_in(ann)
    response = client.post(
        reverse("exchange:organisation-create"),
        {"name_en": "", "name_zh": "瑞金医院", "kind": "public_service", "region_zh": "上海"},
    )
    assert response.status_code == 302
    org = Organisation.objects.get()
    assert org.code == "org" and org.name_zh == "瑞金医院" and org.verified_at is None
    assert Membership.objects.get(organisation=org).role == "admin"
    assert AuditLog.objects.filter(action="organisation_create", actor=ann).exists()
    public = Client().get(reverse("organisation-detail", args=[org.code])).content.decode()
    assert "瑞金医院" in public and "Not yet confirmed by a curator." in public
    assert "ann@hospital.example" not in public


@pytest.mark.parametrize(
    "data",
    [
        {"name_en": "", "name_zh": "", "kind": "enterprise"},  # no name
        {"name_en": "Acme", "kind": "spaceship"},  # unknown kind
        {"name_en": "Acme", "kind": "enterprise", "description_en": "x" * 4001},
        {"name_en": "Acme", "kind": "enterprise", "website": "javascript:alert(1)"},
    ],
)
def test_bad_profiles_are_refused_and_nothing_is_created(data: dict[str, str]) -> None:
    client = signed_in(person("ann@hospital.example"))
    assert client.post(reverse("exchange:organisation-create"), data).status_code == 400
    assert not Organisation.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in() -> None:
    for url in (reverse("exchange:home"), reverse("exchange:organisation-create")):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- Invitations --------------------------------------------------------------------------------------------


def test_an_invitation_is_accepted_once_by_the_invited_address_and_survives_a_mail_scanner() -> None:
    ann, bob, eve = person("ann@hospital.example"), person("bob@hospital.example"), person("eve@evil.example")
    org = make_org(ann)
    response = signed_in(ann).post(
        reverse("exchange:invite", args=[org.code]), {"email": "Bob@Hospital.example", "role": "editor"}
    )
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["bob@hospital.example"]
    path = re.search(r"/exchange/invitations/[^/\s]+/", mail.outbox[-1].body).group(0)
    invitation = OrganisationInvitation.objects.get()
    assert path.split("/")[-2] not in invitation.token_hash  # only the hash is stored
    # A scanner (or anyone) opening the link spends nothing.
    assert Client().get(path).status_code == 200
    # Someone else who got hold of the link cannot use it.
    refused = signed_in(eve).post(path)
    assert refused.status_code == 403 and "bob@hospital.example" in refused.content.decode()
    assert not Membership.objects.filter(user=eve).exists()
    # Bob accepts; a second use is refused.
    bob_client = signed_in(bob)
    assert bob_client.post(path).status_code == 302
    assert Membership.objects.get(user=bob, organisation=org).role == "editor"
    assert bob_client.post(path).status_code == 409
    assert Client().get("/exchange/invitations/not-a-token/").status_code == 404


def test_only_an_admin_invites_and_bad_invitations_change_nothing() -> None:
    ann, bob = person("ann@hospital.example"), person("bob@hospital.example")
    org = make_org(ann)
    Membership.objects.create(organisation=org, user=bob, role="editor")
    url = reverse("exchange:invite", args=[org.code])
    assert signed_in(bob).post(url, {"email": "x@example.org", "role": "admin"}).status_code == 403
    client = signed_in(ann)
    assert client.post(url, {"email": "not-an-address", "role": "editor"}).status_code == 400
    assert client.post(url, {"email": "x@example.org", "role": "owner"}).status_code == 400
    assert client.post(url, {"email": "bob@hospital.example", "role": "viewer"}).status_code == 400  # a member
    assert not OrganisationInvitation.objects.exists() and not mail.outbox


# --- Join requests ------------------------------------------------------------------------------------------


def test_a_join_request_is_approved_by_an_admin_with_a_role() -> None:
    ann, carol, bob = person("ann@hospital.example"), person("carol@hospital.example"), person("bob@example.org")
    org = make_org(ann)
    Membership.objects.create(organisation=org, user=bob, role="editor")
    carol_client = signed_in(carol)
    assert (
        carol_client.post(reverse("exchange:join", args=[org.code]), {"message": "I run the ward."}).status_code == 302
    )
    assert mail.outbox[-1].to == ["ann@hospital.example"] and "I run the ward." in mail.outbox[-1].body
    assert carol_client.post(reverse("exchange:join", args=[org.code]), {}).status_code == 409  # already waiting
    request = JoinRequest.objects.get()
    url = reverse("exchange:request-decide", args=[org.code, request.pk])
    assert signed_in(bob).post(url, {"decision": "approve", "role": "admin"}).status_code == 403  # not an admin
    assert signed_in(ann).post(url, {"decision": "maybe", "role": "editor"}).status_code == 400
    assert not Membership.objects.filter(user=carol).exists()
    assert signed_in(ann).post(url, {"decision": "approve", "role": "editor"}).status_code == 302
    assert Membership.objects.get(user=carol).role == "editor"
    assert signed_in(ann).post(url, {"decision": "decline", "role": "editor"}).status_code == 409  # decided
    assert carol_client.post(reverse("exchange:join", args=[org.code]), {}).status_code == 409  # a member now


# --- Roles and the last admin ---------------------------------------------------------------------------------


def test_an_organisation_keeps_an_admin() -> None:
    ann, bob = person("ann@hospital.example"), person("bob@hospital.example")
    org = make_org(ann)
    mine = Membership.objects.get(user=ann)
    client = signed_in(ann)
    assert client.post(reverse("exchange:member-role", args=[org.code, mine.pk]), {"role": "viewer"}).status_code == 409
    assert client.post(reverse("exchange:member-remove", args=[org.code, mine.pk])).status_code == 409
    assert Membership.objects.get(user=ann).role == "admin"
    bobs = Membership.objects.create(organisation=org, user=bob, role="viewer")
    assert client.post(reverse("exchange:member-role", args=[org.code, bobs.pk]), {"role": "admin"}).status_code == 302
    assert client.post(reverse("exchange:member-remove", args=[org.code, mine.pk])).status_code == 302  # she leaves
    assert list(Membership.objects.values_list("role", flat=True)) == ["admin"]


def test_a_member_of_one_organisation_can_do_nothing_in_another() -> None:
    """Object level: an admin of A is a stranger to B (403 on every member page and action of B)."""
    ann, zoe, bob = person("ann@a.example"), person("zoe@b.example"), person("bob@b.example")
    a, b = make_org(ann, "Org A"), make_org(zoe, "Org B")
    bobs = Membership.objects.create(organisation=b, user=bob, role="viewer")
    request = JoinRequest.objects.create(organisation=b, user=person("carol@c.example"))
    client = signed_in(ann)
    for method, url, data in [
        ("get", reverse("exchange:members", args=[b.code]), {}),
        ("get", reverse("exchange:organisation-edit", args=[b.code]), {}),
        ("post", reverse("exchange:organisation-edit", args=[b.code]), {"name_en": "Mine", "kind": "other"}),
        ("post", reverse("exchange:invite", args=[b.code]), {"email": "x@a.example", "role": "admin"}),
        ("post", reverse("exchange:member-role", args=[b.code, bobs.pk]), {"role": "admin"}),
        ("post", reverse("exchange:member-remove", args=[b.code, bobs.pk]), {}),
        (
            "post",
            reverse("exchange:request-decide", args=[b.code, request.pk]),
            {"decision": "approve", "role": "admin"},
        ),
    ]:
        assert getattr(client, method)(url, data).status_code == 403, url
    b.refresh_from_db()
    assert b.name_en == "Org B" and Membership.objects.get(pk=bobs.pk).role == "viewer"
    assert JoinRequest.objects.get(pk=request.pk).status == "pending"
    assert not OrganisationInvitation.objects.exists()
    # A viewer of B sees B's members but not their addresses, and none of the admin's forms.
    page = signed_in(bob).get(reverse("exchange:members", args=[b.code])).content.decode()
    assert "zoe@b.example" not in page and "Invite a colleague" not in page
    # Nor when a username is the address itself (as sign-up may make it).
    User.objects.filter(email="zoe@b.example").update(username="zoe@b.example")
    page = signed_in(bob).get(reverse("exchange:members", args=[b.code])).content.decode()
    assert "zoe@b.example" not in page and "A member without a name on record" in page
    assert a.code in signed_in(ann).get(reverse("exchange:home")).content.decode()


def test_the_public_list_shows_verified_organisations_first() -> None:
    from django.utils import timezone

    ann = person("ann@a.example")
    late = make_org(ann, "Alpha Clinic")
    make_org(ann, "Beta Works")
    Organisation.objects.filter(pk=late.pk).update(verified_at=timezone.now())
    page = Client().get(reverse("organisation-list")).content.decode()
    assert page.index("Alpha Clinic") < page.index("Beta Works")
    make_org(ann, "Aardvark Labs")  # unverified: after the verified one, whatever its name
    page = Client().get(reverse("organisation-list")).content.decode()
    assert page.index("Alpha Clinic") < page.index("Aardvark Labs") < page.index("Beta Works")
