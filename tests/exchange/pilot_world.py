"""The people and entries the pilot stories share: Ruijin Hospital (Ann its admin, Vic a viewer) publishes a
demand entry for ward robots; Unitree (Ben its editor) publishes a capability; Olga edits an unrelated
organisation; Cora is a curator. Built by the real services (entries, releases, organisations)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from scenarios.exchange import entries as entry_svc
from scenarios.exchange import pilots as svc
from scenarios.exchange import releases
from scenarios.exchange.organisations import organisation_create
from scenarios.models import Conversation, Entry, Membership, Organisation, Pilot, PilotStageChange
from tests.factories import staff_user


def person(username: str, email: str) -> Any:
    user = get_user_model().objects.create_user(username, email, "pw-long-enough-1")
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def entry(organisation: Organisation, actor: Any, cora: Any, kind: str, title: str, **values: Any) -> Entry:
    extra = {"setting": "hospital", "offers": ["test_site"]} if kind == "demand" else {"trl": 6, "setting": "hospital"}
    created = entry_svc.entry_create(
        organisation=organisation,
        actor=actor,
        kind=kind,
        title_en=title,
        summary_en="What it is about.",
        topics=[("humanoid-robots", "core")],
        **{**extra, **values},
    )
    created = entry_svc.entry_submit(entry=created, actor=actor)
    return entry_svc.entry_accept(entry=created, actor=cora)


def publish(cora: Any, *accepted: Entry) -> None:
    release = releases.release_draft_create(actor=cora, title_en="A batch", title_zh="一批")
    for item in accepted:
        releases.release_add(release=release, entry=item, actor=cora)
    releases.release_publish(release=release, actor=cora)


def build_world() -> dict[str, Any]:
    ann = person("ann", "ann@hospital.example")
    vic = person("vic", "vic@hospital.example")
    ben = person("ben", "ben@unitree.example")
    olga = person("olga", "olga@other.example")
    cora = staff_user("cora", "Curator")
    hospital = organisation_create(user=ann, name_en="Ruijin Hospital", name_zh="瑞金医院", kind="public_service")
    Membership.objects.create(organisation=hospital, user=vic, role=Membership.Role.VIEWER)
    unitree = organisation_create(user=ben, name_en="Unitree Robotics", name_zh="宇树科技", kind="enterprise")
    Membership.objects.filter(organisation=unitree, user=ben).update(role=Membership.Role.EDITOR)
    Membership.objects.create(organisation=unitree, user=person("uma", "uma@unitree.example"), role="admin")
    other = organisation_create(user=olga, name_en="Other Works", name_zh="其他公司", kind="enterprise")
    demand = entry(hospital, ann, cora, "demand", "Ward robots", region_en="Shanghai", region_zh="上海")
    capability = entry(unitree, ben, cora, "capability", "Humanoid carrier")
    publish(cora, demand, capability)
    demand.refresh_from_db()
    capability.refresh_from_db()
    return {
        "ann": ann,
        "vic": vic,
        "ben": ben,
        "olga": olga,
        "cora": cora,
        "hospital": hospital,
        "unitree": unitree,
        "other": other,
        "demand": demand,
        "capability": capability,
    }


def agreed_conversation(world: dict[str, Any]) -> Conversation:
    """The conversations part is built elsewhere: here only its row, as it is once both sides agreed."""
    return Conversation.objects.create(
        demand=world["demand"],
        supplier=world["unitree"],
        capability=world["capability"],
        opened_by=Conversation.OpenedBy.OWNER,
        outcome=Conversation.Outcome.AGREED,
        outcome_at=timezone.now(),
    )


def report(url: str = "https://reports.example/opening.pdf", **more: Any) -> svc.EvidenceIn:
    return svc.EvidenceIn(kind="report", url=url, title="Report", **more)


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


def open_pilot(world: dict[str, Any], *, on: dt.date | None = None, **values: Any) -> Pilot:
    number = world["pilots_opened"] = world.get("pilots_opened", 0) + 1
    suffix = "" if number == 1 else f" #{number}"  # one pilot under way per demand and site
    given: dict[str, Any] = {
        "site_en": "Ruijin Hospital, ward 3" + suffix,
        "site_zh": "瑞金医院三病区" + suffix,
        "region_en": "Shanghai",
        "region_zh": "上海",
        "suppliers": [(world["unitree"], world["capability"])],
        "evidence": report(),
        **values,
    }
    return svc.pilot_open(actor=world["ann"], demand=world["demand"], on=on or days_ago(400), **given)


def change_of(pilot: Pilot, stage: str) -> PilotStageChange:
    return pilot.stage_changes.filter(stage=stage).latest("pk")
