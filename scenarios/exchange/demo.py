"""The scenario exchange in the embedded demo: organisations of every kind with members, and demand and
capability entries in every review state, made through the real services (so the audit log and histories
are real); then the matches of the first release, conversations and pilots at several stages. Idempotent: does nothing once the demo organisations exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from scenarios.exchange import conversations, pilots, releases
from scenarios.exchange import entries as svc
from scenarios.exchange.matching import shortlist_add
from scenarios.exchange.organisations import organisation_create
from scenarios.models import Entry, Membership, Organisation, Pilot

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
        "city",
        "demand",
        "accepted",
        {
            "title_en": "Roadside units for connected buses",
            "title_zh": "网联公交路侧单元",
            "summary_en": "Buses on two trunk lines should see the junctions ahead: roadside units that share signal"
            " phases and hazards with every bus.",
            "summary_zh": "两条干线公交需要提前感知前方路口：路侧单元向每辆公交车共享信号相位和危险信息。",
            "setting": "road_transport",
            "region_en": "Hangzhou",
            "region_zh": "杭州",
            "offers": ["test_site", "procurement"],
            "scale_sites": 40,
            "trl_needed": 6,
        },
        [("6g", "core"), ("autonomous-aerial-vehicles", "complementary")],
    ),
    (
        "port",
        "demand",
        "accepted",
        {
            "title_en": "Remote-controlled quay cranes",
            "title_zh": "远程操控岸桥",
            "summary_en": "Crane drivers in a control room instead of the cabin: the video and control links must hold"
            " in any weather.",
            "summary_zh": "司机在控制室而非驾驶室操控岸桥：视频和控制链路须在任何天气下保持稳定。",
            "setting": "port",
            "region_en": "Ningbo",
            "region_zh": "宁波",
            "offers": ["test_site", "co_funding"],
            "scale_sites": 12,
            "trl_needed": 7,
        },
        [("6g", "core"), ("industrial-digital-twins", "enabling")],
    ),
    (
        "university",
        "capability",
        "accepted",
        {
            "title_en": "Integrated sensing and communication base station",
            "title_zh": "通感一体化基站",
            "summary_en": "One base station that both connects vehicles and senses the traffic around it, for roads"
            " and ports.",
            "summary_zh": "一个基站既为车辆提供连接，又感知周边交通，适用于道路和港口。",
            "region_en": "Beijing",
            "region_zh": "北京",
            "trl": 6,
            "trl_evidence_en": "A 3 km test road on campus for a year.",
        },
        [("6g", "core")],
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


def _ago(days: int) -> date:
    return timezone.localdate() - timedelta(days=days)


def _stage(
    pilot: Pilot,
    *,
    actor: Any,
    curator: Any,
    stage: str,
    days_ago: int,
    evidence: pilots.EvidenceIn,
    verify: bool = True,
    stop_reason_en: str = "",
    stop_reason_zh: str = "",
) -> None:
    pilots.pilot_stage_add(
        actor=actor,
        pilot=pilot,
        stage=stage,
        on=_ago(days_ago),
        evidence=evidence,
        stop_reason_en=stop_reason_en,
        stop_reason_zh=stop_reason_zh,
    )
    if verify:
        change = pilot.stage_changes.get(stage=stage)
        pilots.pilot_stage_verify(actor=curator, change=change)


def matchmaking_demo_load(*, curator: Any) -> int:
    """After the first release: the matches it queued, a conversation from a shortlist to an agreed pilot with
    contacts exchanged, one that is still under discussion, and pilots at several stages (demonstration,
    a pilot whose latest stage awaits verification, one stopped), made through the real services. Returns the
    number of pilots."""
    users = get_user_model().objects
    hospital, robots = users.get(email="editor@hospital.example"), users.get(email="editor@robots.example")
    city, port = users.get(email="editor@city.example"), users.get(email="editor@port.example")
    university = users.get(email="editor@university.example")
    entry = Entry.objects.get
    ward, ward_robot = entry(title_en="Night-shift ward robots"), entry(title_en="Ward-round service robot")
    roadside, cranes = (
        entry(title_en="Roadside units for connected buses"),
        entry(title_en="Remote-controlled quay cranes"),
    )
    isac = entry(title_en="Integrated sensing and communication base station")

    # The hospital shortlists the robot its matches rank, invites Nimble Robotics, and they agree to pilot.
    shortlist_add(demand=ward, capability=ward_robot, actor=hospital)
    talk = conversations.conversation_invite(
        actor=hospital,
        demand=ward,
        capability=ward_robot,
        body="Could your robot round two wards at night from next month? We offer the wards and the call data.",
    )
    conversations.message_send(
        conversation=talk,
        actor=robots,
        body="Yes: two robots for ward 5 and ward 6, with the nurse-call integration. When can we visit?",
    )
    conversations.message_send(conversation=talk, actor=hospital, body="Next Tuesday at 10; the night matron joins.")
    conversations.contact_share(conversation=talk, actor=hospital)
    conversations.contact_share(conversation=talk, actor=robots)
    conversations.conversation_outcome_set(conversation=talk, actor=hospital, outcome="agreed")
    # The university writes to the port about its cranes: still under discussion.
    conversations.conversation_express_interest(
        actor=university,
        demand=cranes,
        supplier=isac.organisation,
        capability=isac,
        body="Our sensing base station keeps the crane video link under 20 ms on our test road; shall we measure"
        " on your quay?",
    )

    # Pilots: the wards reach demonstration; the buses' pilot stage awaits verification; the cranes stopped.
    ward_pilot = pilots.pilot_open(
        actor=hospital,
        demand=ward,
        conversation=talk,
        site_en="Wards 5 and 6, Riverside University Hospital",
        site_zh="滨江大学附属医院5号和6号病房",
        region_en="Shanghai",
        region_zh="上海",
        on=_ago(300),
        evidence=pilots.EvidenceIn(kind="link", url="https://example.org/riverside/ward-robots-agreement"),
    )
    pilots.pilot_stage_verify(actor=curator, change=ward_pilot.stage_changes.get())
    _stage(
        ward_pilot,
        actor=hospital,
        curator=curator,
        stage="pilot",
        days_ago=200,
        evidence=pilots.EvidenceIn(kind="figure", sites_reached=2, users_reached=60),
    )
    _stage(
        ward_pilot,
        actor=robots,
        curator=curator,
        stage="demonstration",
        days_ago=45,
        evidence=pilots.EvidenceIn(
            kind="report", url="https://example.org/riverside/ward-robots-report", title="Six months of night rounds"
        ),
    )
    bus_pilot = pilots.pilot_open(
        actor=city,
        demand=roadside,
        suppliers=[(isac.organisation, isac)],
        site_en="Bus lines 7 and 12",
        site_zh="7路和12路公交",
        region_en="Hangzhou",
        region_zh="杭州",
        on=_ago(160),
        evidence=pilots.EvidenceIn(kind="link", url="https://example.org/lakeside/roadside-units"),
    )
    pilots.pilot_stage_verify(actor=curator, change=bus_pilot.stage_changes.get())
    _stage(
        bus_pilot,
        actor=city,
        curator=curator,
        stage="pilot",
        days_ago=20,
        verify=False,
        evidence=pilots.EvidenceIn(kind="figure", sites_reached=14, users_reached=52000),
    )
    crane_pilot = pilots.pilot_open(
        actor=port,
        demand=cranes,
        site_en="Berth 3, Eastern Harbour",
        site_zh="东港3号泊位",
        region_en="Ningbo",
        region_zh="宁波",
        on=_ago(260),
        evidence=pilots.EvidenceIn(kind="link", url="https://example.org/eastern-harbour/remote-cranes"),
    )
    pilots.pilot_stage_verify(actor=curator, change=crane_pilot.stage_changes.get())
    _stage(
        crane_pilot,
        actor=port,
        curator=curator,
        stage="stopped",
        days_ago=90,
        evidence=pilots.EvidenceIn(kind="report", url="https://example.org/eastern-harbour/remote-cranes-review"),
        stop_reason_en="The video link dropped in heavy rain more often than crane safety allows.",
        stop_reason_zh="大雨时视频链路中断的频率超出岸桥安全要求。",
    )
    return Pilot.objects.count()


@dataclass(frozen=True)
class DemoExchange:
    editor_email: str
    organisations: int
    entries: int
    pilots: int


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
    pilot_count = matchmaking_demo_load(curator=curator)
    second = releases.release_draft_create(actor=curator, title_en="2027, second batch", title_zh="2027年第二批")
    releases.release_add(release=second, entry=Entry.objects.get(title_en=ENTRIES_NEXT), actor=curator)
    return DemoExchange(
        editor_email="editor@hospital.example", organisations=len(orgs), entries=len(ENTRIES), pilots=pilot_count
    )
