"""The scenario exchange in the embedded demo: organisations of every kind with members, and demand and
capability entries in every review state, made through the real services (so the audit log and histories
are real). Idempotent: does nothing once the demo organisations exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from scenarios.exchange import entries as svc
from scenarios.exchange import releases
from scenarios.exchange.organisations import organisation_create
from scenarios.models import Entry, Membership, Organisation

ORGANISATIONS: list[dict[str, Any]] = [
    {
        "key": "hospital",
        "name_en": "Riverside University Hospital",
        "name_zh": "滨江大学附属医院",
        "kind": "public_service",
        "region_en": "Shanghai",
        "region_zh": "上海",
    },
    {
        "key": "city",
        "name_en": "Lakeside District Government",
        "name_zh": "湖滨区人民政府",
        "kind": "government",
        "region_en": "Hangzhou",
        "region_zh": "杭州",
    },
    {
        "key": "port",
        "name_en": "Eastern Harbour Port Group",
        "name_zh": "东港港口集团",
        "kind": "enterprise",
        "region_en": "Ningbo",
        "region_zh": "宁波",
    },
    {
        "key": "robots",
        "name_en": "Nimble Robotics",
        "name_zh": "灵动机器人",
        "kind": "enterprise",
        "region_en": "Shenzhen",
        "region_zh": "深圳",
    },
    {
        "key": "university",
        "name_en": "Northern Polytechnic University",
        "name_zh": "北方理工大学",
        "kind": "university",
        "region_en": "Beijing",
        "region_zh": "北京",
    },
    {
        "key": "association",
        "name_en": "Low-Altitude Economy Alliance",
        "name_zh": "低空经济产业联盟",
        "kind": "association",
    },
    {
        "key": "institute",
        "name_en": "Institute of Quantum Sensing",
        "name_zh": "量子传感研究所",
        "kind": "research_institute",
    },
    {"key": "fund", "name_en": "Frontier Industries Fund", "name_zh": "前沿产业基金", "kind": "investor"},
]

# (organisation, kind, the state to leave it in, fields, topics)
ENTRIES: list[tuple[str, str, str, dict[str, Any], list[tuple[str, str]]]] = [
    (
        "hospital",
        "demand",
        "accepted",
        {
            "title_en": "Night-shift ward robots",
            "title_zh": "夜班病房机器人",
            "summary_en": "Night nurses are too few to round every bed; robots that patrol, fetch and alert would let them care.",
            "summary_zh": "夜班护士人手不足，无法巡视每张病床；能巡视、取送物品和报警的机器人可让护士专注护理。",
            "setting": "hospital",
            "offers": ["test_site", "data"],
            "scale_sites": 6,
            "scale_users": 300,
        },
        [("humanoid-robots", "core")],
    ),
    (
        "hospital",
        "demand",
        "changes_requested",
        {
            "title_zh": "手术室影像智能辅助",
            "summary_zh": "术中影像判读耗时，希望试点人工智能辅助。",
            "setting": "hospital",
            "offers": ["test_site"],
        },
        [("humanoid-robots", "enabling")],
    ),
    (
        "city",
        "demand",
        "in_review",
        {
            "title_en": "Drone deliveries across the lake",
            "title_zh": "跨湖无人机配送",
            "summary_en": "Parcels and medicines take an hour by road around the lake; drones could take ten minutes.",
            "setting": "city",
            "offers": ["sandbox", "procurement"],
            "budget_min": 2_000_000,
            "budget_max": 5_000_000,
        },
        [("6g", "enabling")],
    ),
    (
        "port",
        "demand",
        "submitted",
        {
            "title_en": "Autonomous container yard",
            "summary_en": "Unmanned trucks and cranes in one yard, night and day.",
            "setting": "port",
            "offers": ["test_site", "co_funding"],
        },
        [("6g", "core")],
    ),
    ("port", "demand", "draft", {"title_en": "Hull inspection by underwater robots", "setting": "port"}, []),
    (
        "robots",
        "capability",
        "accepted",
        {
            "title_en": "Ward-round service robot",
            "title_zh": "病房巡视服务机器人",
            "summary_en": "Navigates wards at night, carries up to 20 kg, calls the nurse on anomalies.",
            "trl": 7,
            "trl_evidence_en": "Six months in two hospitals.",
        },
        [("humanoid-robots", "core")],
    ),
    (
        "association",
        "demand",
        "next_release",
        {
            "title_en": "Low-altitude logistics corridor",
            "title_zh": "低空物流走廊",
            "summary_en": "A 30 km corridor for cargo drones between two industrial parks.",
            "setting": "supply_chain",
            "offers": ["sandbox", "co_funding"],
        },
        [("6g", "core")],
    ),
    (
        "university",
        "capability",
        "rejected",
        {
            "title_en": "Campus delivery robot",
            "summary_en": "A delivery robot for campuses.",
            "trl": 4,
        },
        [("humanoid-robots", "complementary")],
    ),
    (
        "institute",
        "capability",
        "withdrawn",
        {
            "title_en": "Quantum magnetometer for mines",
            "summary_en": "Finds voids behind mine walls.",
            "trl": 5,
        },
        [("6g", "complementary")],
    ),
]


ENTRIES_NEXT = "Low-altitude logistics corridor"  # accepted after the first release: in the second, a draft


@dataclass(frozen=True)
class DemoExchange:
    editor_email: str
    organisations: int
    entries: int


def _person(email: str, password: str) -> Any:
    user = get_user_model().objects.filter(email__iexact=email).first()
    if user is None:
        user = get_user_model().objects.create_user(email, email, password)
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def exchange_demo_load(*, password: str, curator: Any) -> DemoExchange | None:
    """Organisations, members and entries for the demo (None if they exist already). ``curator``: a staff
    account with the Curator role, who reviews the entries."""
    if Organisation.objects.filter(name_en=ORGANISATIONS[0]["name_en"]).exists():
        return None
    orgs = {}
    for spec in ORGANISATIONS:
        values = {k: v for k, v in spec.items() if k != "key"}
        admin = _person(f"admin@{spec['key']}.example", password)
        orgs[spec["key"]] = organisation_create(user=admin, **values)
        editor = _person(f"editor@{spec['key']}.example", password)
        Membership.objects.create(organisation=orgs[spec["key"]], user=editor, role=Membership.Role.EDITOR)
    for key, kind, state, fields, topics in ENTRIES:
        editor = get_user_model().objects.get(email=f"editor@{key}.example")
        entry = svc.entry_create(organisation=orgs[key], actor=editor, kind=kind, topics=topics, **fields)
        if state == "draft":
            continue
        if state == "withdrawn":
            svc.entry_withdraw(entry=entry, actor=editor)
            continue
        entry = svc.entry_submit(entry=entry, actor=editor)
        if state == "submitted":
            continue
        entry = svc.entry_review_start(entry=entry, actor=curator)
        if state == "changes_requested":
            svc.entry_request_changes(entry=entry, actor=curator, body="Please add the number of operating rooms.")
        elif state in ("accepted", "next_release"):
            svc.entry_accept(entry=entry, actor=curator)
        elif state == "rejected":
            svc.entry_reject(entry=entry, actor=curator, reason="Too general: name the campus and the route.")
    # One release published with the entries accepted first, one in preparation with the later one.
    first = releases.release_draft_create(actor=curator, title_en="2027, first batch", title_zh="2027年第一批")
    for entry in Entry.objects.filter(status=Entry.Status.ACCEPTED).exclude(title_en=ENTRIES_NEXT):
        releases.release_add(release=first, entry=entry, actor=curator)
    releases.release_publish(release=first, actor=curator)
    second = releases.release_draft_create(actor=curator, title_en="2027, second batch", title_zh="2027年第二批")
    releases.release_add(release=second, entry=Entry.objects.get(title_en=ENTRIES_NEXT), actor=curator)
    return DemoExchange(editor_email="editor@hospital.example", organisations=len(orgs), entries=len(ENTRIES))
