"""Reads of published application scenarios."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Prefetch, Q, QuerySet, Sum, prefetch_related_objects
from django.http import Http404

from foresight.catalog.models import Direction, PublicationStatus, SourceReference, Topic, public_topic_q
from foresight.catalog.selectors import CleanedFilters
from foresight.core import similarity
from scenarios import pull
from scenarios.models import Entry, Pilot, Release, ReleaseItem, Scenario, ScenarioTopic

ROLE_ORDER = {"core": 0, "enabling": 1, "complementary": 2}


@dataclass(frozen=True)
class ScenarioFilters(CleanedFilters):
    q: str = ""
    setting: str = ""
    scenario_type: str = ""
    list_kind: str = ""
    maturity: str = ""
    direction: str = ""
    topic: str = ""


def _published() -> QuerySet[Scenario]:
    """The scenarios the public may see."""
    return Scenario.objects.filter(status=PublicationStatus.PUBLISHED)


def _public_links() -> QuerySet[ScenarioTopic]:
    return ScenarioTopic.objects.filter(public_topic_q("topic__"))


def scenario_list(*, filters: ScenarioFilters) -> QuerySet[Scenario]:
    qs = _published().annotate(
        topic_count=Count("topic_links", filter=public_topic_q("topic_links__topic__"), distinct=True)
    )
    if filters.setting:
        qs = qs.filter(setting=filters.setting)
    if filters.scenario_type:
        qs = qs.filter(scenario_type=filters.scenario_type)
    if filters.list_kind:
        qs = qs.filter(list_kind=filters.list_kind)
    if filters.maturity:
        qs = qs.filter(maturity=filters.maturity)
    if filters.direction:
        qs = qs.filter(directions__slug=filters.direction)
    if filters.topic:
        qs = qs.filter(topic_links__topic__code=filters.topic)
    q = filters.q.strip()[:200]
    for word in [w for w in re.split(r"\s+", q) if w]:
        qs = qs.filter(
            Q(title_en__icontains=word)
            | Q(title_zh__icontains=word)
            | Q(summary_en__icontains=word)
            | Q(summary_zh__icontains=word)
            | Q(code__icontains=word)
        )
    if filters.direction or filters.topic:
        qs = qs.distinct()
    return qs.order_by("code")


def scenario_get(*, code: str) -> Scenario:
    """A published scenario with its public needed topics (ordered core → enabling → complementary)."""
    scenario = (
        _published()
        .filter(code=code)
        .prefetch_related(
            Prefetch("topic_links", queryset=_public_links().select_related("topic__area__direction")),
            Prefetch("directions", queryset=Direction.objects.filter(status=PublicationStatus.PUBLISHED)),
            Prefetch("sources", queryset=SourceReference.objects.select_related("programme")),
        )
        .first()
    )
    if scenario is None:
        raise Http404("No such scenario")
    return scenario


def scenario_topics_by_role(*, scenario: Scenario) -> list[tuple[str, list[ScenarioTopic]]]:
    """The prefetched links grouped by role, in role order (no extra query)."""
    groups: dict[str, list[ScenarioTopic]] = {}
    for link in sorted(scenario.topic_links.all(), key=lambda lk: (ROLE_ORDER[lk.role], lk.topic.code)):
        groups.setdefault(link.role, []).append(link)
    return [(role, groups[role]) for role in sorted(groups, key=lambda r: ROLE_ORDER[r])]


def topics_in_setting(topics: QuerySet[Topic], setting: str) -> QuerySet[Topic]:
    """The topics a published scenario of this setting needs (each topic once, the order kept)."""
    return topics.filter(
        scenario_links__scenario__setting=setting,
        scenario_links__scenario__status=PublicationStatus.PUBLISHED,
    ).distinct()


def with_published_scenarios(topic: Topic) -> Topic:
    """The topic with ``topic.scenario_links`` holding its links to published scenarios, the scenario joined
    in, by scenario code (one query)."""
    links = (
        ScenarioTopic.objects.filter(scenario__status=PublicationStatus.PUBLISHED)
        .select_related("scenario")
        .order_by("scenario__code")
    )
    prefetch_related_objects([topic], Prefetch("scenario_links", queryset=links))
    return topic


# --- Similar scenarios (the similarity service, foresight.core.similarity) ------------------------

SCENARIO_CORPUS = "scenarios"
# A scenario's text for the similarity service: every text field, in both languages.
SCENARIO_TEXT_FIELDS = tuple(
    f"{name}_{lang}"
    for name in (
        "title",
        "summary",
        "sector",
        "problem",
        "requirements",
        "enablers_infrastructure",
        "enablers_business_model",
        "enablers_institutions",
        "region",
    )
    for lang in ("en", "zh")
)


def scenario_similarity_documents() -> list[tuple[str, str]]:
    """Every published scenario as ``(code, text)``: its text fields joined (one query)."""
    rows = _published().order_by().values_list("code", *SCENARIO_TEXT_FIELDS)
    return [(code, "\n".join(text for text in texts if text)) for code, *texts in rows]


def scenario_similarity_version() -> tuple[int, int, str]:
    """The version of the published scenarios' texts, in one aggregate query: how many, the sum of their ids
    and the latest ``updated_at`` (see ``catalog.selectors.topic_similarity_version``)."""
    row = _published().order_by().aggregate(n=Count("pk"), ids=Sum("pk"), updated=Max("updated_at"))
    return (row["n"], row["ids"] or 0, str(row["updated"]))


def scenario_similar(*, text: str, limit: int) -> list[tuple[Scenario, float]]:
    """The published scenarios most similar to ``text``, best first, with their scores (two queries in all
    once the index is built)."""
    matches = similarity.corpus_search(SCENARIO_CORPUS, text, limit=limit)
    found = _published().only("code", "title_en", "title_zh").in_bulk([m.code for m in matches], field_name="code")
    return [(found[m.code], m.score) for m in matches if m.code in found]


def scenario_entry(*, scenario: Scenario) -> Entry | None:
    """The exchange entry a scenario is published as (curated scenarios have one too)."""
    return Entry.objects.filter(scenario=scenario).select_related("organisation").first()


def scenario_published_sources(*, scenario: Scenario) -> list[dict[str, str]]:
    """The sources of the scenario's entry as its latest release published them (not a revision in progress)."""
    snapshot = (
        ReleaseItem.objects.filter(entry__scenario=scenario, release__status=Release.Status.PUBLISHED)
        .exclude(change=ReleaseItem.Change.WITHDRAWN)
        .order_by("-release__number")
        .values_list("snapshot", flat=True)
        .first()
    )
    return list((snapshot or {}).get("sources", []))


def scenario_releases(*, scenario: Scenario) -> list[ReleaseItem]:
    """The published releases that list the scenario's entry (newest first), each with what it changed."""
    return list(
        ReleaseItem.objects.filter(entry__scenario=scenario, release__status=Release.Status.PUBLISHED)
        .select_related("release")
        .order_by("-release__number")
    )


# --- Scenario pull: the evidence behind a topic's criterion in priority scoring ----------------------------


def scenario_pull_evidence(*, topic_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each topic's scenario pull (``scenarios.pull``: the formula) and the evidence it comes from, in three
    queries whatever the number of topics:

    1. the links of published scenarios whose list kind is not capability (supply is not pull), with the
       entry each scenario is published as;
    2. the scale (sites) of those entries as their latest release published them (a revision in progress does
       not count until it is released: ``entry_published_version`` reads the same snapshot);
    3. the pilots of those entries with a verified stage (never the stage a pilot only claims).

    Only published figures count: a scenario's code, an entry's published scale and a pilot's verified stage.
    Conversations and matches are never read."""
    links = list(
        ScenarioTopic.objects.filter(topic_id__in=list(topic_ids), scenario__status=PublicationStatus.PUBLISHED)
        .exclude(scenario__list_kind=Scenario.ListKind.CAPABILITY)
        .values_list("topic_id", "role", "scenario_id", "scenario__code", "scenario__entry__id")
        .order_by("topic_id", "scenario__code")
    )
    entry_ids = sorted({entry_id for *_, entry_id in links if entry_id is not None})
    sites: dict[int, int | None] = {}
    if entry_ids:
        published = (
            ReleaseItem.objects.filter(entry_id__in=entry_ids, release__status=Release.Status.PUBLISHED)
            .exclude(change=ReleaseItem.Change.WITHDRAWN)
            .order_by("entry_id", "-release__number")
            .values_list("entry_id", "snapshot__scale_sites")
        )
        for entry_id, value in published:  # the latest release first: keep its figure (any database)
            sites.setdefault(entry_id, value if isinstance(value, int) else None)
    scenario_ids = sorted({scenario_id for _, _, scenario_id, _, _ in links})
    pilots: dict[int, list[tuple[str, str]]] = {}
    if scenario_ids:
        verified = (
            Pilot.objects.filter(demand__scenario_id__in=scenario_ids, demand__kind=Entry.Kind.DEMAND)
            .exclude(verified_stage__in=["", Pilot.Stage.STOPPED])
            .values_list("demand__scenario_id", "code", "verified_stage")
            .order_by("code")
        )
        for scenario_id, code, stage in verified:
            pilots.setdefault(scenario_id, []).append((code, stage))
    scenario_rows = [
        pull.ScenarioRow(
            topic=topic_id, scenario=code, role=role, sites=sites.get(entry_id) if entry_id is not None else None
        )
        for topic_id, role, _, code, entry_id in links
    ]
    pilot_rows = [
        pull.PilotRow(topic=topic_id, pilot=pilot, scenario=code, role=role, stage=stage)
        for topic_id, role, scenario_id, code, _ in links
        for pilot, stage in pilots.get(scenario_id, [])
    ]
    evidence = pull.topic_pull(
        topics=topic_ids, scenarios=scenario_rows, pilots=pilot_rows, role_weights=ScenarioTopic.ROLE_WEIGHTS
    )
    return {t: evidence[t] for t in topic_ids}
