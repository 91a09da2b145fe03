"""Building the benchmark's data on PostgreSQL.

* ``catalog_generate``: the curated catalog (``load_catalog``) is 74 topics; national scale needs
  700, so generated areas and topics are added under the curated directions in a few bulk inserts.
* ``AggregationStudy``: a national-scale study. The study, its question set and rounds, opening,
  closing and aggregating go through the product's services; the panel and its answers are
  inserted in bulk (``COPY``), because ``simulate_study`` saves one topic at a time through
  ``response_save`` (see ``simulate_rate`` for how long that would take at national scale).
  Answers are drawn by the simulation's own generator (``simulation.answers_draw``: expertise, noise,
  movement towards the previous round's median) and coded by the product's ``parse_answer``, so
  the stored rows are those the web path would store.
* ``BallotStudy``: a study with round 1 open and a pool of invited panel members for the submit
  path, each with a magic-link token and a pre-drawn ballot of 20 topics.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.db import connection
from django.utils import timezone

from foresight.catalog.models import Area, Direction, PublicationStatus, Topic
from foresight.core.cache import content_version_bump
from foresight.delphi.answers import parse_answer
from foresight.delphi.models import (
    Answer,
    Expert,
    Invitation,
    Participant,
    Question,
    Response,
    Round,
    RoundCompletion,
    Study,
)
from foresight.delphi.services.panel import token_hash
from foresight.delphi.services.rounds import round_open
from foresight.delphi.services.simulation import (
    SECTORS,
    answers_draw,
    previous_medians,
    study_simulate,
    topic_truth,
    weighted_pick,
)
from foresight.delphi.services.studies import study_create

HORIZON = 2050
# Round-2 retention of the simulation (``study_simulate``): 80 % of the panel answers again.
RETENTION = 0.8


def catalog_generate(*, topics: int, areas: int = 50) -> list[Topic]:
    """``topics`` generated public topics in ``areas`` generated areas under the curated directions."""
    directions = list(Direction.objects.filter(status=PublicationStatus.PUBLISHED).order_by("order"))
    if not directions:
        directions = [
            Direction.objects.create(
                slug="bench-direction", name_en="Bench direction", name_zh="基准方向", status="published"
            )
        ]
    area_objs = Area.objects.bulk_create(
        [
            Area(
                direction=directions[i % len(directions)],
                slug=f"bench-area-{i}",
                order=100 + i,
                name_en=f"Bench area {i}",
                name_zh=f"基准领域{i}",
                status=PublicationStatus.PUBLISHED,
            )
            for i in range(areas)
        ]
    )
    topic_objs = Topic.objects.bulk_create(
        [
            Topic(
                area=area_objs[i % areas],
                code=f"bench-topic-{i:04d}",
                name_en=f"Bench quantum topic {i}" if i % 10 == 0 else f"Bench topic {i}",
                name_zh=f"基准量子课题{i}" if i % 10 == 0 else f"基准课题{i}",
                statement_en=f"Bench technology {i} is in routine use.",
                statement_zh=f"基准技术{i}得到常规应用。",
                description_en="Generated for the benchmark.",
                description_zh="为基准测试生成。",
                kind=Topic.Kind.TECHNOLOGY,
                status=Topic.Status.CANDIDATE,
                tags=["bench"],
            )
            for i in range(topics)
        ]
    )
    content_version_bump()
    return topic_objs


def _copy(sql: str, lines: list[str]) -> None:
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for start in range(0, len(lines), 50_000):
            copy.write("".join(lines[start : start + 50_000]))


def _next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        return int(cursor.fetchone()[0])


def _sync_sequence(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")


def _vacuum(*tables: str) -> None:
    # What autovacuum would have done long before a real round closes: statistics and visibility map.
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def _experts(study: Study, count: int, rng: random.Random, *, offset: int = 0) -> list[Expert]:
    return Expert.objects.bulk_create(
        [
            Expert(
                email=f"{study.code}-{offset + i}@example.org",
                name=f"Bench expert {offset + i}",
                sector=weighted_pick(rng, SECTORS),
                country="CN",
            )
            for i in range(count)
        ],
        batch_size=5000,
    )


def _participants(study: Study, experts: list[Expert], *, consented: bool, offset: int = 0) -> list[Participant]:
    now = timezone.now()
    return Participant.objects.bulk_create(
        [
            Participant(
                study=study,
                expert=e,
                pseudonym=f"P-{offset + i:08X}",
                status=Participant.Status.ACTIVE if consented else Participant.Status.INVITED,
                consent_at=now if consented else None,
            )
            for i, e in enumerate(experts)
        ],
        batch_size=5000,
    )


def _choose(participant_topics: dict[int, list[Topic]]) -> None:
    table = Participant.topics.through._meta.db_table
    lines = [f"{p}\t{t.pk}\n" for p, topics in participant_topics.items() for t in topics]
    _copy(f"COPY {table} (participant_id, topic_id) FROM STDIN", lines)


def _answer_line(response_id: int, question_id: int, coded: Any) -> str:
    num = "\\N" if coded.value_num is None else repr(coded.value_num)
    return (
        f"{response_id}\t{question_id}\t{'t' if coded.cant_judge else 'f'}\t{num}\t{coded.value_code}\t"
        f"{json.dumps(coded.value_codes)}\t\n"
    )


@dataclass
class RoundBuild:
    number: int
    responses: int
    answers: int
    respondents: int
    seconds: float


@dataclass
class AggregationStudy:
    """A study at national scale (or a fraction of it), built round by round."""

    study: Study
    rng: random.Random
    truth: dict[int, dict[str, Any]]
    own_areas: dict[int, set[int]]
    topics_of: dict[int, list[Topic]]
    active: list[int]
    builds: list[RoundBuild] = field(default_factory=list)

    @classmethod
    def create(
        cls, *, code: str, respondents: int, topics: list[Topic], per_respondent: int = 40, seed: int = 1
    ) -> AggregationStudy:
        rng = random.Random(seed)
        study = study_create(
            title_en=f"Bench national study {code}", horizon_year=HORIZON, planned_rounds=2, topics=topics, code=code
        )
        by_area: dict[int, list[Topic]] = defaultdict(list)
        for t in topics:
            by_area[t.area_id].append(t)
        area_ids = sorted(by_area)
        truth = topic_truth(rng, topics)
        participants = _participants(study, _experts(study, respondents, rng), consented=True)
        own_areas: dict[int, set[int]] = {}
        topics_of: dict[int, list[Topic]] = {}
        for p in participants:
            # Experts answer the topics of their own areas (three of them), ~40 topics each.
            own = rng.sample(area_ids, k=min(3, len(area_ids)))
            mine = [t for a in own for t in by_area[a]]
            if len(mine) > per_respondent:
                mine = rng.sample(mine, per_respondent)
            elif len(mine) < per_respondent:
                rest = [t for t in topics if t.area_id not in own]
                mine += rng.sample(rest, min(len(rest), per_respondent - len(mine)))
            own_areas[p.pk] = set(own)
            topics_of[p.pk] = sorted(mine, key=lambda t: t.code)
        _choose(topics_of)
        return cls(
            study=study,
            rng=rng,
            truth=truth,
            own_areas=own_areas,
            topics_of=topics_of,
            active=[p.pk for p in participants],
        )

    def round(self, number: int) -> Round:
        return Round.objects.select_related("study").get(study=self.study, number=number)

    def fill(self, number: int) -> RoundBuild:
        """Open round ``number`` (service), insert every active panel member's answers, mark them submitted."""
        started = time.perf_counter()
        rnd = self.round(number)
        round_open(rnd=rnd)
        rnd = self.round(number)
        round_topics = set(rnd.topics.values_list("pk", flat=True))
        medians = previous_medians(self.study, number)
        rng = self.rng
        if number > 1:
            kept = [p for p in self.active if rng.random() < RETENTION]
            dropped = set(self.active) - set(kept)
            Participant.objects.filter(pk__in=dropped).update(status=Participant.Status.DROPPED)
            self.active = kept
        questions = {q.key: q for q in Question.objects.filter(study=self.study, applies_to="topic")}
        current_year = timezone.now().year
        pairs = [(p, t) for p in self.active for t in self.topics_of[p] if t.pk in round_topics]
        first = _next_id(Response._meta.db_table)
        now = timezone.now().isoformat()
        _copy(
            f"COPY {Response._meta.db_table} (id, round_id, participant_id, topic_id, rationale, updated_at) FROM STDIN",
            [f"{first + i}\t{rnd.pk}\t{p}\t{t.pk}\t\t{now}\n" for i, (p, t) in enumerate(pairs)],
        )
        _sync_sequence(Response._meta.db_table)
        lines: list[str] = []
        for i, (p, t) in enumerate(pairs):
            raw = answers_draw(rng, self.truth[t.pk], t, self.own_areas[p], medians.get(t.pk), HORIZON)
            for key, value in raw.items():
                question = questions[key]
                coded = parse_answer(question, value, current_year=current_year, horizon_year=HORIZON)
                if coded is not None:
                    lines.append(_answer_line(first + i, question.pk, coded))
        _copy(
            f"COPY {Answer._meta.db_table} "
            "(response_id, question_id, cant_judge, value_num, value_code, value_codes, value_text) FROM STDIN",
            lines,
        )
        answers = len(lines)
        del lines
        submitted = timezone.now()
        RoundCompletion.objects.bulk_create(
            [RoundCompletion(round=rnd, participant_id=p, submitted_at=submitted) for p in self.active],
            batch_size=5000,
        )
        _vacuum(Response._meta.db_table, Answer._meta.db_table)
        build = RoundBuild(
            number=number,
            responses=len(pairs),
            answers=answers,
            respondents=len(self.active),
            seconds=time.perf_counter() - started,
        )
        self.builds.append(build)
        return build


# --- The submit path ------------------------------------------------------------------------------


def _form_pairs(questions: list[Question], answers: dict[str, Any], rationale: str) -> list[tuple[str, str]]:
    """The questionnaire form as the browser posts it: document order, a ``__present`` marker before checkboxes."""
    pairs: list[tuple[str, str]] = []
    for q in questions:
        value = answers.get(q.key)
        if q.qtype == Question.Type.MULTI:
            pairs.append((f"{q.key}__present", "1"))
            pairs.extend((q.key, str(v)) for v in (value or []))
        elif value is not None:
            pairs.append((q.key, str(value)))
        elif q.qtype == Question.Type.YEAR:
            pairs.append((q.key, ""))
    pairs.append(("rationale", rationale))
    return pairs


@dataclass
class Ballot:
    participant: int
    token: str  # empty for the baseline pool
    source_ip: str
    topics: list[tuple[str, int, str]]  # (topic code, topic id, urlencoded form without the CSRF token)


@dataclass
class BallotStudy:
    study: Study
    rnd: Round
    topics: list[Topic]  # in the order the expert area lists them
    rng: random.Random
    truth: dict[int, dict[str, Any]]
    made: int = 0
    ips: int = 0

    @classmethod
    def create(cls, *, code: str, topics: list[Topic], seed: int = 2) -> BallotStudy:
        rng = random.Random(seed)
        study = study_create(title_en="Bench ballots", horizon_year=HORIZON, planned_rounds=1, topics=topics, code=code)
        rnd = Round.objects.get(study=study, number=1)
        round_open(rnd=rnd, closes_at=timezone.now() + timedelta(days=30))
        ordered = list(
            Topic.objects.filter(pk__in=[t.pk for t in topics])
            .select_related("area__direction")
            .order_by("area__direction__order", "area__order", "code")
        )
        return cls(study=study, rnd=rnd, topics=ordered, rng=rng, truth=topic_truth(rng, ordered))

    def _source_ip(self) -> str:
        # One client address per ballot, as real experts have: the magic-link rate limit is per address.
        self.ips += 1
        n = self.ips
        return f"127.{10 + n // 62500}.{(n // 250) % 250}.{n % 250 + 1}"

    def pool(self, count: int, *, invited: bool) -> list[Ballot]:
        """``count`` new panel members with their ballots; ``invited``: with a magic link and no consent yet
        (the product path), otherwise consented (the baseline writes rows for them directly)."""
        rng = self.rng
        experts = _experts(self.study, count, rng, offset=self.made)
        participants = _participants(self.study, experts, consented=not invited, offset=self.made)
        self.made += count
        _choose({p.pk: self.topics for p in participants})
        questions = list(Question.objects.filter(study=self.study, applies_to="topic").order_by("order", "pk"))
        ballots: list[Ballot] = []
        invitations: list[Invitation] = []
        expires = timezone.now() + timedelta(days=30)
        areas = {t.area_id for t in self.topics}
        for p in participants:
            token = secrets.token_urlsafe(32) if invited else ""
            if invited:
                invitations.append(Invitation(participant=p, token_hash=token_hash(token), expires_at=expires))
            own = set(rng.sample(sorted(areas), k=min(2, len(areas))))
            forms = []
            for t in self.topics:
                answers = answers_draw(rng, self.truth[t.pk], t, own, None, HORIZON)
                body = urlencode(_form_pairs(questions, answers, "Benchmark ballot: reasons for my answers."))
                forms.append((t.code, t.pk, body))
            ballots.append(Ballot(participant=p.pk, token=token, source_ip=self._source_ip(), topics=forms))
        Invitation.objects.bulk_create(invitations, batch_size=5000)
        return ballots

    def stored(self, participants: list[int]) -> tuple[int, int]:
        """(answers stored, completions) for these panel members: what the ballots left in the database."""
        answers = Answer.objects.filter(response__round=self.rnd, response__participant_id__in=participants).count()
        done = RoundCompletion.objects.filter(round=self.rnd, participant_id__in=participants).count()
        return answers, done


# --- simulate_study's own speed -----------------------------------------------------------------


def simulate_rate(*, experts: int, topics: int, seed: int) -> dict[str, Any]:
    """Run ``study_simulate`` (one round, aggregated by the worker) and measure its answers per second."""
    started = time.perf_counter()
    result = study_simulate(experts=experts, topics=topics, seed=seed, rounds=1)
    seconds = time.perf_counter() - started
    study = Study.objects.get(code=result.study)
    responses = Response.objects.filter(round__study=study).count()
    answers = Answer.objects.filter(response__round__study=study).count()
    return {
        "experts": experts,
        "topics": topics,
        "responses": responses,
        "answers": answers,
        "seconds": seconds,
        "answers_per_second": answers / seconds if seconds else 0.0,
    }
