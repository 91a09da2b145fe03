"""Organisations and entries of the scenario exchange at scale, for the benchmark and for trying the pages with
a realistic load (``manage.py generate_exchange``).

Everything is drawn from one seeded generator, so the same seed gives the same organisations and entries
(codes, texts, topics, states). Titles and summaries are composed from the catalog's public topics (their
names and statements in both languages), so the similarity corpus looks like a real exchange. A fifth of the
entries are in one language only, as the exchange allows.

Organisations, entries, their topic links and review comments are inserted in bulk: the per-entry services
audit every transition, which would take hours at 12,000 entries. One audit line records the generation.
Publishing goes through the release services (``release_draft_create``, ``release_add_many``, ``release_publish``),
so a generated release is exactly what curators would publish.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from foresight.catalog.models import Topic
from foresight.core.audit import audit_log
from foresight.core.roles import roles_sync
from scenarios.exchange import releases
from scenarios.models import Entry, EntryComment, EntryTopic, Organisation, Release, Scenario, ScenarioTopic

GENERATOR_USERNAME = "exchange-generator"
MAX_ENTRIES = 200_000
MAX_ORGANISATIONS = 20_000
BATCH = 1000

# How the entries spread over the review workflow (weights); with ``publish`` the accepted ones are published.
STATUS_WEIGHTS: list[tuple[str, int]] = [
    (Entry.Status.DRAFT, 12),
    (Entry.Status.SUBMITTED, 8),
    (Entry.Status.IN_REVIEW, 8),
    (Entry.Status.CHANGES_REQUESTED, 5),
    (Entry.Status.ACCEPTED, 55),
    (Entry.Status.REJECTED, 7),
    (Entry.Status.WITHDRAWN, 5),
]

REGIONS = [
    ("Beijing", "北京"),
    ("Shanghai", "上海"),
    ("Guangdong", "广东"),
    ("Shenzhen", "深圳"),
    ("Zhejiang", "浙江"),
    ("Jiangsu", "江苏"),
    ("Sichuan", "四川"),
    ("Hubei", "湖北"),
    ("Shandong", "山东"),
    ("Anhui", "安徽"),
    ("Tianjin", "天津"),
    ("Chongqing", "重庆"),
    ("Shaanxi", "陕西"),
    ("Fujian", "福建"),
    ("Hunan", "湖南"),
    ("Inner Mongolia", "内蒙古"),
    ("Hainan", "海南"),
    ("Yunnan", "云南"),
]
SECTORS = [
    ("Health care", "医疗卫生"),
    ("Manufacturing", "制造业"),
    ("Logistics", "物流"),
    ("Energy", "能源"),
    ("Agriculture", "农业"),
    ("Mining", "矿业"),
    ("Urban services", "城市服务"),
    ("Education", "教育"),
    ("Transport", "交通运输"),
    ("Finance", "金融"),
]
WORDS = [
    ("Bright", "明辉"),
    ("Star", "星辰"),
    ("Great Wall", "长城"),
    ("Pearl River", "珠江"),
    ("Blue Ocean", "蓝海"),
    ("Pioneer", "先锋"),
    ("Harmony", "和谐"),
    ("Summit", "峰顶"),
    ("Jade", "翡翠"),
    ("New Horizon", "新视界"),
    ("Eastern", "东方"),
    ("Northern Light", "北极光"),
]
# Organisation names by kind: (English, Chinese) with {region}, {word} and {sector}.
NAMES: dict[str, tuple[str, str]] = {
    Organisation.Kind.ENTERPRISE: ("{word} {sector} Technology Co., {region}", "{region}{word}{sector}科技有限公司"),
    Organisation.Kind.ASSOCIATION: ("{region} {sector} Industry Association", "{region}{sector}产业协会"),
    Organisation.Kind.UNIVERSITY: ("{region} {word} University", "{region}{word}大学"),
    Organisation.Kind.RESEARCH_INSTITUTE: ("{region} Institute of {sector} Technology", "{region}{sector}技术研究院"),
    Organisation.Kind.PUBLIC_SERVICE: ("{region} {word} People's Hospital", "{region}{word}人民医院"),
    Organisation.Kind.GOVERNMENT: ("{region} {sector} Bureau", "{region}{sector}局"),
    Organisation.Kind.INVESTOR: ("{word} {sector} Capital, {region}", "{region}{word}{sector}创投"),
    Organisation.Kind.OTHER: ("{word} {sector} Alliance, {region}", "{region}{word}{sector}联盟"),
}
USES = [
    ("for defect detection on production lines", "用于产线缺陷检测"),
    ("to cut energy use", "用于节能降耗"),
    ("for early warning of equipment failures", "用于设备故障预警"),
    ("for remote monitoring", "用于远程监控"),
    ("for patient follow-up at home", "用于居家患者随访"),
    ("for crop yield forecasting", "用于作物产量预测"),
    ("for pipe leak detection", "用于管网漏损检测"),
    ("for safety patrols", "用于安全巡检"),
    ("for peak load shaving", "用于削峰填谷"),
    ("for carbon emission reporting", "用于碳排放核算"),
    ("for route planning", "用于路径规划"),
    ("for personalised teaching", "用于个性化教学"),
]
SETTING_PLACES: dict[str, tuple[str, str]] = {
    "home": ("homes", "家庭"),
    "school": ("schools", "学校"),
    "hospital": ("hospital wards", "医院病房"),
    "office": ("office towers", "写字楼"),
    "factory": ("factories", "工厂"),
    "farm": ("farms", "农场"),
    "mine": ("underground mines", "井下矿区"),
    "port": ("container terminals", "集装箱码头"),
    "road_transport": ("highways", "高速公路"),
    "city": ("city districts", "城区"),
    "court": ("courts", "法院"),
    "supply_chain": ("cold-chain warehouses", "冷链仓库"),
    "lab_science": ("laboratories", "实验室"),
    "space": ("satellite ground stations", "卫星地面站"),
    "ocean": ("offshore platforms", "海上平台"),
    "energy_grid": ("substations", "变电站"),
    "elderly_care": ("care homes", "养老院"),
}
WHY_NOW = [
    ("Staff shortages grow every year and the current process cannot keep up.", "人手逐年紧张，现有流程难以为继。"),
    ("A new regulation takes effect next year.", "新的监管要求将于明年生效。"),
    ("Costs rose by a third in two years.", "两年内成本上升了三分之一。"),
    ("Accidents in the last year showed the limits of manual work.", "去年的事故暴露了人工作业的局限。"),
]
CONSTRAINTS = [
    ("Data must stay on site.", "数据不得出园区。"),
    ("The system must work offline.", "系统需支持离线运行。"),
    ("Safety certification is required before any trial.", "试用前须通过安全认证。"),
    ("Integration with the existing systems is required.", "需与现有系统集成。"),
]
CONDITIONS = [
    ("Needs a stable network and a power supply.", "需要稳定的网络和供电。"),
    ("Needs three months of historical data.", "需要三个月的历史数据。"),
    ("Needs an on-site operator during the pilot.", "试点期间需现场操作人员配合。"),
]
COMMENTS = [
    ("Please describe the scale in numbers.", "请用数字说明规模。"),
    ("Which topic is core here? Please check the roles.", "哪个课题是核心？请核对角色。"),
    ("Add evidence for the readiness level.", "请补充成熟度证据。"),
]
REJECTIONS = [
    ("Out of the programme's scope.", "不在本计划范围内。"),
    ("A duplicate of an entry already published.", "与已发布条目重复。"),
]


@dataclass
class Report:
    """What a generation made and how long each phase took (seconds)."""

    seed: int
    organisations: int = 0
    entries: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    topic_links: int = 0
    comments: int = 0
    releases: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        total = sum(self.seconds.values())
        out = [
            f"seed {self.seed}: {self.organisations:,} organisations; "
            + ", ".join(f"{n:,} {kind}" for kind, n in self.entries.items())
            + f" entries; {self.topic_links:,} topic links; {self.comments:,} review comments",
            "states: " + ", ".join(f"{s} {n:,}" for s, n in self.statuses.items() if n),
        ]
        for r in self.releases:
            out.append(
                f"release {r['code']}: {r['items']:,} entries published "
                f"(add {r['add_seconds']:.1f} s, publish {r['publish_seconds']:.1f} s)"
            )
        out.append(
            "time: " + ", ".join(f"{phase} {s:.1f} s" for phase, s in self.seconds.items()) + f"; total {total:.1f} s"
        )
        return out


def prefix_for(seed: int) -> str:
    """The code prefix of a generation: organisations ``g<seed>-o00001``, entries ``g<seed>-d00001`` (demand)
    and ``g<seed>-c00001`` (capability)."""
    return f"g{seed}-"


def generated_before() -> bool:
    return Organisation.objects.filter(code__regex=r"^g[0-9]+-o").exists()


def curator_for_generation() -> Any:
    """The staff account that publishes generated releases: a curator (``scenarios.publish_release``)."""
    user, created = get_user_model().objects.get_or_create(
        username=GENERATOR_USERNAME,
        defaults={"email": f"{GENERATOR_USERNAME}@example.org", "is_staff": True, "is_active": True},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if not Group.objects.filter(name="Curator").exists():
        roles_sync()
    user.groups.add(Group.objects.get(name="Curator"))
    return get_user_model().objects.get(pk=user.pk)  # a fresh instance: no stale permission cache


def _check(*, capability: int, demand: int, organisations: int, seed: int, releases_n: int, hold: int) -> None:
    errors: dict[str, str] = {}
    if capability < 0 or demand < 0 or capability + demand == 0:
        errors["capability"] = "Ask for at least one entry (--capability and --demand are zero or more)."
    elif capability + demand > MAX_ENTRIES:
        errors["capability"] = f"At most {MAX_ENTRIES:,} entries in one run."
    if not 1 <= organisations <= MAX_ORGANISATIONS:
        errors["organisations"] = f"--organisations must be between 1 and {MAX_ORGANISATIONS:,}."
    if seed < 0:
        errors["seed"] = "--seed must be zero or more."
    if releases_n < 1:
        errors["releases"] = "--releases must be at least 1."
    if hold < 0:
        errors["hold"] = "--hold must be zero or more."
    if errors:
        raise ValidationError(errors)


def _pair(rng: random.Random, options: list[tuple[str, str]]) -> tuple[str, str]:
    return rng.choice(options)


def _organisations(rng: random.Random, n: int, prefix: str) -> list[Organisation]:
    kinds = list(Organisation.Kind.values)
    now = timezone.now()
    rows = []
    for i in range(n):
        kind = kinds[i % len(kinds)]  # every kind, evenly
        region, sector, word = _pair(rng, REGIONS), _pair(rng, SECTORS), _pair(rng, WORDS)
        en, zh = NAMES[kind]
        rows.append(
            Organisation(
                code=f"{prefix}o{i + 1:05d}",
                name_en=en.format(region=region[0], sector=sector[0], word=word[0]),
                name_zh=zh.format(region=region[1], sector=sector[1], word=word[1]),
                kind=kind,
                region_en=region[0],
                region_zh=region[1],
                sector_en=sector[0],
                sector_zh=sector[1],
                description_en=f"A {Organisation.Kind(kind).label.lower()} in {region[0]} working in {sector[0].lower()}.",
                description_zh=f"{region[1]}的{sector[1]}领域机构。",
                verified_at=now if rng.random() < 0.7 else None,
            )
        )
    return Organisation.objects.bulk_create(rows, batch_size=BATCH)


def _topics() -> list[tuple[int, str, str, str, str, str]]:
    """The public topics: (id, code, name_en, name_zh, statement_en, statement_zh), in code order."""
    return list(
        Topic.objects.filter(status__in=Topic.PUBLIC_STATUSES)
        .order_by("code")
        .values_list("id", "code", "name_en", "name_zh", "statement_en", "statement_zh")
    )


def _settings_of_topics() -> dict[int, list[str]]:
    """The settings in which published catalog scenarios need each topic (so a generated entry's setting fits
    its topics where the catalog says something)."""
    out: dict[int, list[str]] = {}
    for topic_id, setting in (
        ScenarioTopic.objects.order_by("topic_id", "scenario__setting")
        .values_list("topic_id", "scenario__setting")
        .distinct()
    ):
        out.setdefault(topic_id, []).append(setting)
    return out


def _entry(
    rng: random.Random,
    *,
    code: str,
    kind: str,
    organisation: Organisation,
    status: str,
    topics: list[tuple[int, str, str, str, str, str]],
    settings_by_topic: dict[int, list[str]],
    today: date,
) -> tuple[Entry, list[tuple[int, str]]]:
    chosen = rng.sample(topics, k=min(len(topics), rng.randint(1, 4)))
    main = chosen[0]
    setting = rng.choice(settings_by_topic.get(main[0]) or list(Scenario.Setting.values))
    place = SETTING_PLACES.get(setting, ("sites", "现场"))
    use = _pair(rng, USES)
    region = _pair(rng, REGIONS)
    others_en = ", ".join(t[2] for t in chosen[1:])
    others_zh = "、".join(t[3] for t in chosen[1:])
    if kind == Entry.Kind.DEMAND:
        title_en = f"{main[2]} {use[0]} in {place[0]} of {region[0]}"
        title_zh = f"{region[1]}{place[1]}{use[1][2:]}的{main[3]}应用"
        summary_en = f"We will open {place[0]} to try {main[2].lower()} {use[0]}. {main[4]}"
        summary_zh = f"我们将开放{place[1]}试用{main[3]}，{use[1]}。{main[5]}"
    else:
        title_en = f"{main[2]} {use[0]}, ready for {place[0]}"
        title_zh = f"面向{place[1]}的{main[3]}（{use[1]}）"
        summary_en = f"Our {main[2].lower()} works {use[0]} in {place[0]}. {main[4]}"
        summary_zh = f"我们的{main[3]}可在{place[1]}{use[1]}。{main[5]}"
    if others_en:
        summary_en += f" It builds on {others_en}."
        summary_zh += f"并结合{others_zh}。"
    language = rng.random()
    english, chinese = language >= 0.1, language < 0.1 or language >= 0.2  # a tenth each in one language only
    entry = Entry(
        code=code,
        organisation=organisation,
        kind=kind,
        status=status,
        title_en=title_en[:200] if english else "",
        title_zh=title_zh[:200] if chinese else "",
        summary_en=summary_en[:4000] if english else "",
        summary_zh=summary_zh[:4000] if chinese else "",
        setting=setting,
        region_en=region[0] if english else "",
        region_zh=region[1] if chinese else "",
        sources=[{"url": f"https://example.org/evidence/{code}", "title": f"Evidence for {code}"}]
        if rng.random() < 0.6
        else [],
    )
    if kind == Entry.Kind.DEMAND:
        why, constraint = _pair(rng, WHY_NOW), _pair(rng, CONSTRAINTS)
        start = today + timedelta(days=rng.randint(30, 365))
        budget = rng.choice([None, 1, 2, 5, 10, 50])
        entry.why_now_en, entry.why_now_zh = (why[0] if english else ""), (why[1] if chinese else "")
        entry.location_en = f"{place[0].capitalize()} in {region[0]}" if english else ""
        entry.location_zh = f"{region[1]}{place[1]}" if chinese else ""
        entry.scale_sites = rng.randint(1, 50)
        entry.scale_users = rng.choice([None, 100, 1000, 20000])
        entry.offers = sorted(rng.sample(list(Entry.Offer.values), k=rng.randint(1, 3)))
        entry.budget_min = budget * 1_000_000 if budget else None
        entry.budget_max = budget * 3_000_000 if budget else None
        entry.needs_en = f"A supplier of {main[2].lower()}." if english else ""
        entry.needs_zh = f"{main[3]}供应方。" if chinese else ""
        entry.window_start = start
        entry.window_end = start + timedelta(days=rng.choice([180, 365, 730]))
        entry.constraints_en, entry.constraints_zh = (
            (constraint[0] if english else ""),
            (constraint[1] if chinese else ""),
        )
    else:
        trl = rng.randint(3, 9)
        condition = _pair(rng, CONDITIONS)
        entry.trl = trl
        entry.trl_evidence_en = f"Tested at TRL {trl} in {rng.randint(1, 12)} sites." if english else ""
        entry.trl_evidence_zh = f"已在{rng.randint(1, 12)}个现场达到TRL {trl}。" if chinese else ""
        entry.deployments_en = f"Deployed in {place[0]} in {region[0]}." if english else ""
        entry.deployments_zh = f"已在{region[1]}{place[1]}部署。" if chinese else ""
        entry.conditions_en, entry.conditions_zh = (
            (condition[0] if english else ""),
            (condition[1] if chinese else ""),
        )
    roles = ["core"] + [rng.choice(["enabling", "complementary", "core"]) for _ in chosen[1:]]
    return entry, [(t[0], role) for t, role in zip(chosen, roles, strict=True)]


def generate(
    *,
    capability: int,
    demand: int,
    organisations: int,
    seed: int,
    publish: bool = False,
    releases_n: int = 1,
    hold: int = 0,
    append: bool = False,
    log: Any = None,
) -> Report:
    """Generate the organisations and entries; with ``publish``, put the accepted entries (less ``hold`` of
    them, left accepted for the curators' workbench) into ``releases_n`` releases and publish them through the
    release services. Refuses (``ValidationError``) bad sizes, a database without public topics, a second
    generation unless ``append``, and a seed generated before."""
    _check(
        capability=capability, demand=demand, organisations=organisations, seed=seed, releases_n=releases_n, hold=hold
    )
    prefix = prefix_for(seed)
    if Organisation.objects.filter(code__startswith=prefix).exists():
        raise ValidationError({"seed": f"Seed {seed} was generated into this database already: choose another."})
    if not append and generated_before():
        raise ValidationError(
            {"append": "This database holds a generated exchange already: add --append (with another seed)."}
        )
    topics = _topics()
    if not topics:
        raise ValidationError({"topics": "No public catalog topic: load the catalog first (manage.py load_catalog)."})
    rng = random.Random(seed)
    report = Report(seed=seed)
    say = log or (lambda message: None)
    actor = curator_for_generation() if publish else None

    started = time.perf_counter()
    with transaction.atomic():
        orgs = _organisations(rng, organisations, prefix)
        report.organisations = len(orgs)
        report.seconds["organisations"] = time.perf_counter() - started
        say(f"{len(orgs):,} organisations")

        started = time.perf_counter()
        settings_by_topic = _settings_of_topics()
        statuses, weights = zip(*STATUS_WEIGHTS, strict=True)
        today = timezone.localdate()
        now = timezone.now()
        entries: list[Entry] = []
        links: list[list[tuple[int, str]]] = []
        plan = [(Entry.Kind.CAPABILITY, "c", i) for i in range(capability)]
        plan += [(Entry.Kind.DEMAND, "d", i) for i in range(demand)]
        for kind, letter, i in plan:
            status = rng.choices(statuses, weights=weights)[0]
            entry, topic_links = _entry(
                rng,
                code=f"{prefix}{letter}{i + 1:05d}",
                kind=kind,
                organisation=orgs[rng.randrange(len(orgs))],
                status=status,
                topics=topics,
                settings_by_topic=settings_by_topic,
                today=today,
            )
            if status != Entry.Status.DRAFT:
                entry.submitted_at = now - timedelta(minutes=rng.randint(1, 60 * 24 * 90))
            if status == Entry.Status.REJECTED:
                entry.rejection_reason = _pair(rng, REJECTIONS)[0]
            entries.append(entry)
            links.append(topic_links)
        report.seconds["compose"] = time.perf_counter() - started

        started = time.perf_counter()
        entries = bulk_create_with_history(entries, Entry, batch_size=BATCH, default_user=actor)
        # The history helper may hand back objects without primary keys on some databases: read them back.
        ids = dict(Entry.objects.filter(code__startswith=prefix).values_list("code", "pk"))
        EntryTopic.objects.bulk_create(
            (
                EntryTopic(entry_id=ids[e.code], topic_id=topic_id, role=role)
                for e, entry_links in zip(entries, links, strict=True)
                for topic_id, role in entry_links
            ),
            batch_size=BATCH,
        )
        report.topic_links = sum(len(lk) for lk in links)
        comments = [
            EntryComment(
                entry_id=ids[e.code],
                author=actor,
                by_curator=True,
                kind=EntryComment.Kind.CHANGES_REQUESTED
                if e.status == Entry.Status.CHANGES_REQUESTED
                else EntryComment.Kind.REJECTED,
                body=_pair(rng, COMMENTS)[0] if e.status == Entry.Status.CHANGES_REQUESTED else e.rejection_reason,
            )
            for e in entries
            if e.status in (Entry.Status.CHANGES_REQUESTED, Entry.Status.REJECTED)
        ]
        EntryComment.objects.bulk_create(comments, batch_size=BATCH)
        report.comments = len(comments)
        report.entries = {"capability": capability, "demand": demand}
        audit_log(
            action="exchange_generate",
            actor=actor,
            seed=seed,
            organisations=organisations,
            capability=capability,
            demand=demand,
        )
        report.seconds["insert"] = time.perf_counter() - started
        say(f"{len(entries):,} entries with {report.topic_links:,} topic links")

    if publish:
        accepted = [ids[e.code] for e in entries if e.status == Entry.Status.ACCEPTED]
        held = set(rng.sample(accepted, k=min(hold, len(accepted))))  # of both kinds, drawn like the rest
        to_publish = [pk for pk in accepted if pk not in held]
        size = -(-len(to_publish) // releases_n) if to_publish else 0
        started = time.perf_counter()
        for n in range(releases_n):
            batch = to_publish[n * size : (n + 1) * size]
            if not batch:
                break
            report.releases.append(publish_release(batch, actor=actor, seed=seed, part=n + 1, log=say))
        report.seconds["publish"] = time.perf_counter() - started
    counts = dict(
        Entry.objects.filter(code__startswith=prefix).order_by().values_list("status").annotate(n=Count("pk"))
    )
    report.statuses = {s: counts.get(s, 0) for s in Entry.Status.values}
    return report


def publish_release(entry_ids: list[int], *, actor: Any, seed: int, part: int, log: Any = None) -> dict[str, Any]:
    """A release of these accepted entries, assembled and published through the release services, with the
    time of each step."""
    started = time.perf_counter()
    release = releases.release_draft_create(
        actor=actor,
        title_en=f"Generated batch {part} (seed {seed})",
        title_zh=f"生成的第{part}批（种子{seed}）",
    )
    releases.release_add_many(
        release=release, entries=Entry.objects.filter(pk__in=entry_ids).only("code").order_by("code"), actor=actor
    )
    added = time.perf_counter()
    published: Release = releases.release_publish(release=release, actor=actor)
    done = time.perf_counter()
    if log:
        log(f"release {published.code}: {len(entry_ids):,} entries published")
    return {
        "code": published.code,
        "items": len(entry_ids),
        "add_seconds": added - started,
        "publish_seconds": done - added,
    }


def entries_compose(*, seed: int, demand: int, capability: int) -> list[tuple[Entry, list[tuple[str, str]]]]:
    """Demand then capability entries as a generation composes them (the same composer, in memory, nothing
    saved: for benchmarks of what works on entries), each with its topic links as (topic code, role)."""
    rng = random.Random(seed)
    topics = _topics()
    codes = {t[0]: t[1] for t in topics}
    settings_by_topic = _settings_of_topics()
    organisation = Organisation(code=f"{prefix_for(seed)}compose", name_en="Composed", kind="enterprise")
    today = timezone.localdate()
    out = []
    for kind, n in ((Entry.Kind.DEMAND, demand), (Entry.Kind.CAPABILITY, capability)):
        for i in range(n):
            entry, links = _entry(
                rng,
                code=f"{prefix_for(seed)}{kind[0]}{i:05d}",
                kind=kind,
                organisation=organisation,
                status=Entry.Status.PUBLISHED,
                topics=topics,
                settings_by_topic=settings_by_topic,
                today=today,
            )
            out.append((entry, [(codes[t], role) for t, role in links]))
    return out
