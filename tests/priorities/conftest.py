from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from foresight.catalog.models import Cluster, Topic
from foresight.delphi.models import Expert, Participant, Round, Study
from foresight.delphi.services.aggregation import round_aggregate
from foresight.delphi.services.panel import participant_add, participant_choose_topics, participant_consent
from foresight.delphi.services.responses import response_save, round_submit
from foresight.delphi.services.rounds import round_close, round_open
from foresight.priorities.models import Edition, ScoringRun
from foresight.priorities.services.editions import edition_draft_create, edition_entry_decide, edition_publish
from foresight.priorities.services.runs import scoring_run_create, scoring_run_execute
from scenarios.exchange.matching import matches_for_entries
from scenarios.models import Entry, Pilot, ReleaseItem, ScenarioTopic
from tests.factories import AreaFactory, ScenarioFactory, TopicFactory


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Inside a test transaction nothing is ever committed, so work queued on commit is done here instead:
    round aggregation and matching run at once (the real services), scoring runs are only recorded for the test to run."""
    from foresight.core import queue

    runs: list[int] = []

    def send_on_commit(task: Any, *args: Any) -> None:
        name = getattr(task, "name", task)  # services queue by name
        if name == "delphi.round_aggregate":
            round_aggregate(round_id=args[0])
        elif name == "priorities.scoring_run":
            runs.append(args[0])
        elif name == "scenarios.matches_for_entries":  # a release published by a test: its matches, at once
            matches_for_entries(entry_ids=args[0])
        else:
            raise AssertionError(f"unexpected task {name}")

    monkeypatch.setattr(queue, "send_on_commit", send_on_commit)
    return runs


Answers = dict[str, Any]


def run_round(rnd: Round, panel: list[tuple[Participant, dict[str, Answers]]]) -> None:
    """Open the round, let every panelist answer her topics, close it and aggregate it."""
    round_open(rnd=rnd)
    rnd.refresh_from_db()
    for participant, answers in panel:
        for code, values in answers.items():
            response_save(participant=participant, rnd=rnd, topic=Topic.objects.get(code=code), answers=values)
        round_submit(participant=participant, rnd=rnd)
    round_close(rnd=rnd)
    rnd.refresh_from_db()
    assert rnd.status == Round.Status.AGGREGATED


def panelist(study: Study, email: str, sector: str, topics: list[str]) -> Participant:
    expert = Expert.objects.create(email=email, name=email.split("@")[0].title(), sector=sector)
    participant = participant_add(study=study, expert=expert)
    participant_consent(participant=participant)
    participant_choose_topics(participant=participant, topics=Topic.objects.filter(code__in=topics))
    return participant


def answers(importance: int, competitiveness: int = 3, year: int | str = 2029, expertise: str = "high") -> Answers:
    return {
        "expertise": expertise,
        "importance": str(importance),
        "competitiveness": str(competitiveness),
        "tech_year": year,
        "social_year": "never" if year == "never" else (year + 4 if isinstance(year, int) else year),
    }


@pytest.fixture
def make_panelist() -> Callable[..., Participant]:
    return panelist


@pytest.fixture
def mini_catalog(db: Any) -> list[Topic]:
    """Six public topics in two areas; the first two on a policy list, the third on a mere theme list;
    a published scenario needs topic 0 (core) and topic 1 (enabling), a draft one needs topic 2, and a
    published one that came through the exchange needs topic 3 (demand counts whatever its origin), and a
    published capability listing needs topic 4 (supply, not pull)."""
    areas = [AreaFactory(), AreaFactory()]
    topics = [TopicFactory(area=areas[i % 2]) for i in range(6)]
    policy = Cluster.objects.create(code="test-policy", kind="policy_list", name_en="Policy list", name_zh="政策清单")
    policy.topics.add(*topics[:2])
    theme = Cluster.objects.create(code="test-theme", kind="theme", name_en="Theme", name_zh="主题")
    theme.topics.add(topics[2])
    published = ScenarioFactory()
    ScenarioTopic.objects.create(scenario=published, topic=topics[0], role="core")
    ScenarioTopic.objects.create(scenario=published, topic=topics[1], role="enabling")
    ScenarioTopic.objects.create(scenario=ScenarioFactory(status="draft"), topic=topics[2], role="core")
    ScenarioTopic.objects.create(scenario=ScenarioFactory(origin="exchange"), topic=topics[3], role="core")
    ScenarioTopic.objects.create(scenario=ScenarioFactory(list_kind="capability"), topic=topics[4], role="core")
    return topics


# --- published editions, built through the real services -----------------------------------------

FORMULA = '=HYPERLINK("http://evil.example","click")'


def scored(study: Study, seed: int = 11, top_k: int = 2) -> ScoringRun:
    run = scoring_run_create(study=study, seed=seed, top_k=top_k, B=200)
    scoring_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ScoringRun.Status.DONE
    return run


def publish(
    run: ScoringRun,
    code: str,
    title: str,
    *,
    tiers: dict[str, str] | None = None,
    replaces: Edition | None = None,
    rationale_zh: bool = True,
    first_rationale: str | None = None,
) -> Edition:
    """Decide every entry (its suggested tier unless ``tiers`` says otherwise) and publish."""
    edition = edition_draft_create(
        run=run,
        code=code,
        title_en=title,
        title_zh=f"{title}（中文）",
        method_note_en="Weighted score; bootstrap rank intervals.",
        method_note_zh="加权评分；自助法排名区间。",
        replaces=replaces,
    )
    for i, entry in enumerate(edition.entries.select_related("topic").order_by("rank")):
        edition_entry_decide(
            entry=entry,
            tier=(tiers or {}).get(entry.topic.code, entry.tier),
            rationale_en=first_rationale if (i == 0 and first_rationale) else f"Because {entry.topic.code} matters.",
            rationale_zh=f"因为{entry.topic.code}重要。" if rationale_zh else "",
        )
    return edition_publish(edition=edition)


# --- scenario pull, recomputed from the stored rows ----------------------------------------------------

ROLE = {"core": 1.0, "enabling": 0.6, "complementary": 0.3}
STAGE = {"opened": 1, "pilot": 2, "demonstration": 3, "scaling": 4, "mainstream": 5}


def expected_scenario_pull(code: str) -> tuple[float, float]:
    """(D, P) of a topic written out with plain loops over the rows (README "Priority scoring"), not with the
    product's formula: D sums, over published non-capability scenarios that link the topic, role weight ×
    (1 + log10(1 + sites of the entry's latest published, non-withdrawn release item)); P sums, over their
    entries' pilots, role weight × the weight of the verified stage (stopped or unverified: 0)."""
    demand = pilots = 0.0
    for link in ScenarioTopic.objects.filter(topic__code=code).select_related("scenario"):
        scenario = link.scenario
        if scenario.status != "published" or scenario.list_kind == "capability":
            continue
        weight = ROLE[link.role]
        sites = 0
        entry = Entry.objects.filter(scenario=scenario).first()
        if entry is not None:
            for item in ReleaseItem.objects.filter(entry=entry, release__status="published").order_by(
                "-release__number"
            ):
                if item.change != "withdrawn":
                    sites = item.snapshot.get("scale_sites") or 0
                    break
            for pilot in Pilot.objects.filter(demand=entry):
                pilots += weight * STAGE.get(pilot.verified_stage, 0)
        demand += weight * (1 + math.log10(1 + sites))
    return demand, pilots
