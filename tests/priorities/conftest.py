from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from foresight.catalog.models import Cluster, Topic
from foresight.delphi.models import Expert, Participant, Round, Study
from foresight.delphi.services.aggregation import round_aggregate
from foresight.delphi.services.panel import participant_add, participant_choose_topics, participant_consent
from foresight.delphi.services.responses import response_save, round_submit
from foresight.delphi.services.rounds import round_close, round_open
from scenarios.models import ScenarioTopic
from tests.factories import AreaFactory, ScenarioFactory, TopicFactory


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Inside a test transaction nothing is ever committed, so work queued on commit is done here instead:
    round aggregation runs at once (the real service), scoring runs are only recorded for the test to run."""
    from foresight.core import queue
    from foresight.delphi import tasks as delphi_tasks
    from foresight.priorities import tasks as priority_tasks

    runs: list[int] = []

    def send_on_commit(task: Any, *args: Any) -> None:
        if task is delphi_tasks.round_aggregate:
            round_aggregate(round_id=args[0])
        elif task is priority_tasks.scoring_run:
            runs.append(args[0])
        else:
            raise AssertionError(f"unexpected task {task.name}")

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
    a published scenario needs topic 0 (core) and topic 1 (enabling), a draft one needs topic 2."""
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
    return topics
