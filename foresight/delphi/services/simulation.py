"""A synthetic panel answering a study through the same services as the web path (demos, tests, benchmarks).

Realistic in the ways that matter for the statistics: experts answer only topics in their areas,
with expertise high in their own area; some drop out between rounds; in later rounds answers move
towards the previous round's median, more so for experts far from it.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from foresight.catalog.models import Area, Topic
from foresight.delphi.models import Expert, FeedbackSnapshot, Participant, Round, RoundStat, Study
from foresight.delphi.services.panel import participant_add, participant_choose_topics, participant_consent
from foresight.delphi.services.responses import response_save, round_submit
from foresight.delphi.services.rounds import round_close, round_open
from foresight.delphi.services.studies import study_create

SECTORS = [("university", 0.35), ("public_research", 0.25), ("company", 0.25), ("government", 0.1), ("other", 0.05)]
LEADERS = ["us", "china", "eu", "japan", "korea", "other"]


@dataclass
class SimulationResult:
    study: str
    rounds: list[str] = field(default_factory=list)
    # With ``leave_open``: the panel member who has not answered the open last round yet (for a demo link).
    open_participant: int | None = None


def weighted_pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rng.choices([k for k, _ in weighted], weights=[w for _, w in weighted])[0]


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, int(round(value))))


def _wait_aggregated(rnd: Round, timeout: float) -> None:
    """In eager mode aggregation already ran; with a worker, wait for it (the sweep would re-queue a lost task)."""
    deadline = time.monotonic() + timeout
    while True:
        rnd.refresh_from_db()
        if rnd.status == Round.Status.AGGREGATED:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"round {rnd.code} was not aggregated within {timeout:.0f} s (is a Celery worker running?)"
            )
        time.sleep(0.25)


def study_simulate(
    *,
    experts: int,
    topics: int,
    seed: int,
    rounds: int = 2,
    timeout: float = 600.0,
    leave_open: bool = False,
    mode: str = Study.Mode.ROUNDS,
) -> SimulationResult:
    """Build a study over ``topics`` catalog topics with ``experts`` synthetic experts and run its rounds.

    ``leave_open``: the last round is opened and answered by everyone but one panel member, then left
    open (the demo gives that member a magic link to try the questionnaire with real feedback).
    ``mode="realtime"``: one round with live feedback; experts answer one after another and about a
    third of them later revise their importance answer towards the released feedback's median.
    """
    if experts < 1 or topics < 1 or rounds < 1:
        raise ValidationError("experts, topics and rounds must be positive")
    if mode not in Study.Mode.values:
        raise ValidationError(f"mode must be one of {', '.join(Study.Mode.values)}")
    if mode == Study.Mode.REALTIME:
        rounds = 1
    rng = random.Random(seed)
    pool = list(Topic.objects.public().order_by("code"))
    if len(pool) < topics:
        raise ValidationError(
            f"the catalog has {len(pool)} public topics; load it first (manage.py load_catalog) or ask for fewer"
        )
    chosen = sorted(rng.sample(pool, topics), key=lambda t: t.code)
    study = study_create(
        title_en=f"Simulated national foresight study (seed {seed})",
        title_zh=f"模拟国家技术预见调查（种子 {seed}）",
        horizon_year=2050,
        planned_rounds=rounds,
        topics=chosen,
        code=f"sim-{seed}-{rng.getrandbits(32):08x}",
        mode=mode,
    )
    areas = sorted({t.area_id for t in chosen})
    by_area: dict[int, list[Topic]] = {}
    for t in chosen:
        by_area.setdefault(t.area_id, []).append(t)
    truth = topic_truth(rng, chosen)
    participants: list[Participant] = []
    area_objs = {a.pk: a for a in Area.objects.filter(pk__in=areas)}
    for i in range(experts):
        own = rng.sample(areas, k=min(len(areas), rng.choice([1, 1, 2, 3])))
        expert, _ = Expert.objects.get_or_create(
            email=f"sim-expert-{seed}-{i}@example.org",
            defaults={"name": f"Simulated expert {i}", "sector": weighted_pick(rng, SECTORS), "country": "CN"},
        )
        expert.areas.set([area_objs[a] for a in own])
        participant = participant_add(study=study, expert=expert)
        participant_consent(participant=participant)
        mine = [t for a in own for t in by_area[a]]
        participant_choose_topics(participant=participant, topics=mine)
        participants.append(participant)

    result = SimulationResult(study=study.code)
    active = participants
    for number in range(1, rounds + 1):
        rnd = Round.objects.get(study=study, number=number)
        round_topics = set(rnd.topics.values_list("pk", flat=True))
        if not round_topics:
            break
        round_open(rnd=rnd)
        medians = previous_medians(study, number)
        if number > 1:
            # Attrition: roughly 45–60 % retention in national surveys; keep it milder for small panels.
            active = [p for p in active if rng.random() < 0.8]
            dropped = set(p.pk for p in participants) - set(p.pk for p in active)
            Participant.objects.filter(pk__in=dropped).update(status=Participant.Status.DROPPED)
        last_open = leave_open and number == rounds
        if last_open:
            result.open_participant = next(
                (p.pk for p in active if p.topics.filter(pk__in=round_topics).count() >= 2), None
            )
        revisions: list[tuple[Participant, Topic]] = []
        for participant in active:
            if last_open and participant.pk == result.open_participant:
                continue
            own_areas = set(participant.expert.areas.values_list("pk", flat=True))
            for topic in participant.topics.filter(pk__in=round_topics).order_by("code"):
                answers = answers_draw(
                    rng, truth[topic.pk], topic, own_areas, medians.get(topic.pk), study.horizon_year
                )
                response_save(participant=participant, rnd=rnd, topic=topic, answers=answers)
                if mode == Study.Mode.REALTIME and rng.random() < 0.35:
                    revisions.append((participant, topic))
            if mode == Study.Mode.REALTIME:
                _revise(rng, rnd, revisions)
            round_submit(participant=participant, rnd=rnd)
        if last_open:
            result.rounds.append(rnd.code)
            return result
        round_close(rnd=rnd)
        _wait_aggregated(rnd, timeout)
        result.rounds.append(rnd.code)
    Study.objects.filter(pk=study.pk).update(status=Study.Status.FINISHED)
    return result


def _revise(rng: random.Random, rnd: Round, pending: list[tuple[Participant, Topic]]) -> None:
    """Real-time mode: some earlier answers move towards the median the live feedback shows now."""
    keep = []
    for participant, topic in pending:
        if rng.random() < 0.5:
            keep.append((participant, topic))
            continue
        snapshot = FeedbackSnapshot.objects.filter(round=rnd, topic=topic, question__key="importance").first()
        median = (snapshot.figures or {}).get("median") if snapshot is not None else None
        if median is None:
            keep.append((participant, topic))
            continue
        response_save(participant=participant, rnd=rnd, topic=topic, answers={"importance": str(_clamp(median, 1, 5))})
    pending[:] = keep


def topic_truth(rng: random.Random, topics: list[Topic]) -> dict[int, dict[str, Any]]:
    """The latent "truth" per topic that simulated experts see with noise (one draw per topic, in order)."""
    return {
        t.pk: {
            "importance": rng.uniform(2.2, 4.8),
            "competitiveness": rng.uniform(1.5, 4.5),
            "tech_year": rng.randint(2027, 2040),
            "lag": rng.randint(2, 8),
            "leader": rng.choice(LEADERS),
        }
        for t in topics
    }


def previous_medians(study: Study, number: int) -> dict[int, dict[str, float]]:
    """The medians of the round before ``number``, by topic and question key (what a simulated expert sees)."""
    if number == 1:
        return {}
    out: dict[int, dict[str, float]] = {}
    for stat in RoundStat.objects.filter(round__study=study, round__number=number - 1, group="all").select_related(
        "question"
    ):
        median = stat.data.get("median")
        if median is not None:
            out.setdefault(stat.topic_id, {})[stat.question.key] = median
    return out


def answers_draw(
    rng: random.Random,
    truth: dict[str, Any],
    topic: Topic,
    own_areas: set[int],
    medians: dict[str, float] | None,
    horizon: int,
) -> dict[str, Any]:
    """One simulated expert's answers to a topic: around its ``truth``, pulled towards last round's ``medians``."""
    expertise = "high" if topic.area_id in own_areas and rng.random() < 0.6 else rng.choice(["medium", "medium", "low"])
    noise = {"high": 0.6, "medium": 0.9, "low": 1.3}[expertise]

    def scale(key: str, low: int = 1, high: int = 5) -> int | str:
        if expertise == "low" and rng.random() < 0.15:
            return "cant_judge"
        value = rng.gauss(truth.get(key, 3.0), noise)
        if medians and key in medians and rng.random() < 0.6:
            value = value + (medians[key] - value) * rng.uniform(0.4, 1.0)  # move towards the group
        return _clamp(value, low, high)

    current = timezone.now().year
    tech = truth["tech_year"] + rng.gauss(0, 3 * noise)
    if medians and "tech_year" in medians and rng.random() < 0.6:
        tech = tech + (medians["tech_year"] - tech) * rng.uniform(0.4, 1.0)
    tech_answer: int | str = _clamp(tech, current, horizon)
    if rng.random() < 0.04:
        tech_answer = "never"
    social = (tech_answer if isinstance(tech_answer, int) else truth["tech_year"]) + truth["lag"] + rng.gauss(0, 2)
    social_answer: int | str = _clamp(social, current, horizon) if tech_answer != "never" else "never"
    why = rng.sample(["science", "economy", "society", "environment", "security"], k=rng.choice([1, 2]))
    measures = rng.sample(
        [
            "human_resources",
            "rd_funding",
            "infrastructure_data",
            "domestic_collaboration",
            "international_collaboration",
            "standards",
        ],
        k=rng.choice([1, 2, 3]),
    )
    barriers = rng.sample(
        ["commercialisation", "regulation", "ethics", "acceptance", "standards", "infrastructure", "procurement"],
        k=rng.choice([1, 2, 3]),
    )
    return {
        "expertise": expertise,
        "importance": str(scale("importance")),
        "importance_why": why,
        "competitiveness": str(scale("competitiveness")),
        "leader": truth["leader"] if rng.random() < 0.7 else rng.choice(LEADERS),
        "tech_year": tech_answer,
        "social_year": social_answer,
        "policy_measures": measures,
        "implementation_barriers": barriers,
        "uncertainty": str(scale("uncertainty", 1, 4)),
        "discontinuity": str(scale("discontinuity", 1, 4)),
        "ethics": str(scale("ethics", 1, 4)),
    }
