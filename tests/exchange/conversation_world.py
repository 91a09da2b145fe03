"""The people and entries of the conversation tests: a hospital with a published demand entry, two suppliers
with published capability entries, a curator and an outsider. Built through the real services."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client

from scenarios.exchange import entries, releases
from scenarios.exchange.organisations import organisation_create
from scenarios.models import Entry, Membership, Organisation, Shortlist
from tests.factories import staff_user

User = get_user_model()


def person(username: str, email: str, *, first: str = "", last: str = "") -> Any:
    user = User.objects.create_user(username, email, "a-long-password-9", first_name=first, last_name=last)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _entry(org: Organisation, actor: Any, kind: str, title: str, curator: Any) -> Entry:
    extra: dict[str, Any] = (
        {"setting": "hospital", "offers": ["test_site"]} if kind == "demand" else {"trl": 6, "setting": "hospital"}
    )
    entry = entries.entry_create(
        organisation=org,
        actor=actor,
        kind=kind,
        title_en=title,
        summary_en=f"{title}: what it is about.",
        topics=[("humanoid-robots", "core")],
        **extra,
    )
    entry = entries.entry_submit(entry=entry, actor=actor)
    return entries.entry_accept(entry=entry, actor=curator)


def build() -> dict[str, Any]:
    """Ruijin Hospital (Ann admin, Ed editor, Vic viewer) owns the published demand "Night ward robots";
    Robots Inc (Zoe admin, Bea editor, Rita viewer) and Drone Works (Dan editor) each publish a capability;
    Cora is a curator; Olga belongs to no organisation."""
    ann = person("ann", "ann@ruijin.example", first="Annabel", last="Xuqiaofeng")
    ed = person("ed", "ed@ruijin.example", first="Edmund", last="Qianmoyu")
    vic = person("vic", "vic@ruijin.example")
    zoe = person("zoe", "zoe@robots.example", first="Zoltana", last="Wubeixing")
    bea = person("bea", "bea@robots.example", first="Beatrix", last="Linzhaoqi")
    rita = person("rita", "rita@robots.example")
    dan = person("dan", "dan@drones.example")
    olga = person("olga", "olga@nowhere.example")
    cora = staff_user("cora", "Curator")
    hospital = organisation_create(user=ann, name_en="Ruijin Hospital", name_zh="瑞金医院", kind="public_service")
    Membership.objects.create(organisation=hospital, user=ed, role="editor")
    Membership.objects.create(organisation=hospital, user=vic, role="viewer")
    robots = organisation_create(user=zoe, name_en="Robots Inc", kind="enterprise")
    Membership.objects.create(organisation=robots, user=bea, role="editor")
    Membership.objects.create(organisation=robots, user=rita, role="viewer")
    drones = organisation_create(user=dan, name_en="Drone Works", kind="enterprise")
    demand = _entry(hospital, ed, "demand", "Night ward robots", cora)
    capability = _entry(robots, bea, "capability", "Ward patrol robot", cora)
    drone_cap = _entry(drones, dan, "capability", "Medicine drone", cora)
    release = releases.release_draft_create(actor=cora, title_en="2027, first batch")
    for entry in (demand, capability, drone_cap):
        releases.release_add(release=release, entry=entry, actor=cora)
    releases.release_publish(release=release, actor=cora)
    for entry in (demand, capability, drone_cap):
        entry.refresh_from_db()
    Shortlist.objects.create(demand=demand, capability=capability, added_by=ed)
    Shortlist.objects.create(demand=demand, capability=drone_cap, added_by=ed)
    return {
        "ann": ann,
        "ed": ed,
        "vic": vic,
        "zoe": zoe,
        "bea": bea,
        "rita": rita,
        "dan": dan,
        "olga": olga,
        "cora": cora,
        "hospital": hospital,
        "robots": robots,
        "drones": drones,
        "demand": demand,
        "capability": capability,
        "drone_cap": drone_cap,
    }


# Every person's e-mail address and name: none may reach the other side before both share contacts.
def identities(w: dict[str, Any], *names: str) -> list[str]:
    found = []
    for name in names:
        user = w[name]
        found += [user.email, user.username + "@"]
        found += [n for n in (user.first_name, user.last_name) if n]
    return found
