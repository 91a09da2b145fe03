"""Beat drives the Delphi round lifecycle: a real ``celery beat`` and a real worker on PostgreSQL and Redis.

The tests never call ``rounds_tick``, ``round_close``, ``rounds_sweep``, ``round_aggregate`` or
``reminders_send``: beat queues the periodic jobs of ``CELERY_BEAT_SCHEDULE`` (every 1–2 s here
instead of minutes and days), the worker runs them against the test database, and the test only
watches the rows change. Reminders are observed as ``Invitation`` rows of kind ``reminder`` with
``sent_at`` set: the shared worker fixture sends mail with the environment's default backend,
which the test process cannot read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from foresight.catalog.models import Topic
from foresight.delphi.models import Invitation, Participant, Round, RoundStat, Study
from foresight.delphi.services.responses import response_save, round_submit
from foresight.delphi.services.rounds import round_open, round_schedule
from foresight.delphi.services.studies import study_create
from tests.delphi.conftest import make_participant
from tests.factories import AreaFactory, TopicFactory

ROOT = Path(__file__).resolve().parents[2]
BEAT_LOG = ROOT / "test-results" / "celery-beat.log"
TOPICS = ["humanoid-robots", "quantum-computing", "bci", "6g"]
DEADLINE = 45.0  # seconds; a healthy run needs a few

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _tail(path: Path | str, *, start: int = 0, lines: int = 40) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            text = fh.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


class Beat:
    """A running ``celery beat`` process; ``wait_until`` polls the database while checking it is alive."""

    def __init__(self, proc: subprocess.Popen[bytes], log_start: int, worker_log: str) -> None:
        self.proc = proc
        self.log_start = log_start
        self.worker_log = worker_log

    def log(self) -> str:
        return _tail(BEAT_LOG, start=self.log_start, lines=10_000)

    def logs(self) -> str:
        return (
            f"\n--- celery beat ({BEAT_LOG}) ---\n{_tail(BEAT_LOG, start=self.log_start)}"
            f"\n--- celery worker ({self.worker_log}) ---\n{_tail(self.worker_log)}"
        )

    def check_alive(self) -> None:
        """Fail at once if beat died or could not send a periodic task (the worker would never see it)."""
        if self.proc.poll() is not None:
            pytest.fail(f"celery beat exited with {self.proc.returncode}{self.logs()}")
        refused = [line for line in self.log().splitlines() if "Couldn't apply scheduled task" in line]
        if refused:
            pytest.fail("celery beat could not queue a periodic task:\n" + "\n".join(refused[:3]) + self.logs())

    def wait_until(self, condition: Callable[[], bool], *, what: str, state: Callable[[], str]) -> None:
        deadline = time.monotonic() + DEADLINE
        while True:
            self.check_alive()
            if condition():
                return
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not happen within {DEADLINE:.0f} s; {state()}{self.logs()}")
            time.sleep(0.2)


def _drain(worker: str) -> None:
    """Wait until the worker has run what beat queued, so no stray tick or reminder reaches a later test."""
    from foresight.celery import app

    queue = worker.split("@", 1)[0]
    deadline = time.monotonic() + 20
    with app.connection_for_write() as conn:
        client = conn.default_channel.client
        while time.monotonic() < deadline:
            waiting = sum(client.llen(key) for key in client.scan_iter(f"{queue}*"))
            inspect = app.control.inspect(destination=[worker], timeout=1.0)
            busy = [t for replies in (inspect.active(), inspect.reserved()) for t in (replies or {}).get(worker, [])]
            if not waiting and not busy:
                return
            time.sleep(0.2)


@pytest.fixture(scope="module")
def beat_log() -> Path:
    """One log per run of this module, each test's part headed by its name."""
    BEAT_LOG.parent.mkdir(exist_ok=True)
    BEAT_LOG.write_text("")
    return BEAT_LOG


@pytest.fixture
def start_beat(
    celery_worker_process: dict[str, str], transactional_db: Any, tmp_path: Path, beat_log: Path
) -> Iterator[Callable[[], Beat]]:
    """Start ``celery beat`` on demand (after the test has set up what must exist before the first run).

    Depends on ``transactional_db`` so that beat stops, and the worker drains, before the database is flushed.
    """
    queue = celery_worker_process["queue"]
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_QUEUE": queue,
            "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
            "DJANGO_SETTINGS_MODULE": "foresight.settings",
            "ROUNDS_TICK_SECONDS": "1",
            "ROUNDS_SWEEP_SECONDS": "2",
            "REMINDER_SECONDS": "2",
        }
    )
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    started: list[Beat] = []

    def start() -> Beat:
        assert not started, "one beat per test"
        with beat_log.open("a") as fh:
            fh.write(f"\n===== {os.environ.get('PYTEST_CURRENT_TEST', '').split(' ')[0]} =====\n")
            fh.flush()
            log_start = fh.tell()
            proc = subprocess.Popen(
                [celery, "-A", "foresight", "beat", "-s", str(tmp_path / "celerybeat-schedule")]
                + ["--loglevel", "INFO", "--max-interval", "1"],
                cwd=ROOT,
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        beat = Beat(proc, log_start, celery_worker_process["log"])
        started.append(beat)
        deadline = time.monotonic() + 30
        while "beat: Starting" not in beat.log():
            beat.check_alive()
            if time.monotonic() > deadline:
                pytest.fail(f"celery beat did not start within 30 s{beat.logs()}")
            time.sleep(0.1)
        return beat

    yield start
    for beat in started:
        beat.proc.terminate()
        try:
            beat.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            beat.proc.kill()
            beat.proc.wait()
        _drain(f"{queue}@{os.uname().nodename}")


@pytest.fixture
def topics(transactional_db: Any) -> list[Topic]:
    """Four committed topics the worker can see (the full catalog takes longer to load than beat needs to run)."""
    area = AreaFactory()
    return [TopicFactory(area=area, code=code) for code in TOPICS]


def _study(topics: list[Topic], planned_rounds: int = 2) -> Study:
    return study_create(
        title_en="National foresight 2050",
        horizon_year=2050,
        topics=topics,
        planned_rounds=planned_rounds,
        code=f"beat-{uuid.uuid4().hex[:8]}",
    )


def _round_state(rnd: Round) -> Callable[[], str]:
    def state() -> str:
        row = Round.objects.filter(pk=rnd.pk).values(
            "code", "status", "opens_at", "opened_at", "closes_at", "closed_at", "aggregated_at", "checksum"
        )
        return f"round now: {row.first()}, server time {timezone.now().isoformat()}"

    return state


def _status(rnd: Round, *statuses: str) -> Callable[[], bool]:
    return lambda: Round.objects.filter(pk=rnd.pk, status__in=statuses).exists()


# Importance and competitiveness are the index items whose agreement makes a topic's consensus:
# everyone agrees on humanoid robots, nobody agrees on the others.
def _answers(topic: str, spread: str) -> dict[str, str]:
    if topic == "humanoid-robots":
        return {"expertise": "high", "importance": "5", "competitiveness": "5"}
    return {"expertise": "high", "importance": spread, "competitiveness": spread}


def test_beat_opens_closes_and_the_worker_aggregates_round_1(
    topics: list[Topic], start_beat: Callable[[], Beat]
) -> None:
    study = _study(topics)
    round1 = study.rounds.get(number=1)
    round2 = study.rounds.get(number=2)
    panel = {
        "1": make_participant(study, "alice@example.org"),
        "3": make_participant(study, "bob@example.org", sector="company"),
        "5": make_participant(study, "carol@example.org", sector="government"),
    }
    beat = start_beat()

    opens_at = timezone.now() + timedelta(seconds=2)
    closes_at = opens_at + timedelta(seconds=5)
    round_schedule(rnd=round1, opens_at=opens_at, closes_at=closes_at)

    beat.wait_until(_status(round1, "open"), what="beat opening round 1", state=_round_state(round1))
    round1.refresh_from_db()
    assert round1.opened_at is not None and round1.opened_at >= opens_at
    study.refresh_from_db()
    assert study.frozen_at is not None and study.status == Study.Status.RUNNING

    # The panel answers while the round is open; response_save refuses (RoundClosed) once it is not.
    for spread, participant in panel.items():
        for topic in study.topics.all():
            response_save(participant=participant, rnd=round1, topic=topic, answers=_answers(topic.code, spread))
        round_submit(participant=participant, rnd=round1)

    beat.wait_until(
        _status(round1, "closed", "aggregated"), what="beat closing round 1 at closes_at", state=_round_state(round1)
    )
    round1.refresh_from_db()
    assert round1.closed_at is not None and round1.closed_at >= closes_at, "closed before its time"

    beat.wait_until(_status(round1, "aggregated"), what="the worker aggregating round 1", state=_round_state(round1))
    round1.refresh_from_db()
    assert len(round1.checksum) == 64
    assert round1.summary["respondents"] == 3
    importance = RoundStat.objects.filter(round=round1, group="all", question__key="importance")
    assert {s.topic.code: s.n for s in importance.select_related("topic")} == dict.fromkeys(TOPICS, 3)
    assert round1.summary["topics"]["humanoid-robots"]["consensus"] is True
    assert not any(round1.summary["topics"][code]["consensus"] for code in TOPICS[1:])

    # Round 2 asks again about every topic: humanoid robots reached consensus, but among 3 < k + 1
    # respondents, so the verdict is not released — and dropping the topic would publish it.
    assert set(round2.topics.values_list("code", flat=True)) == set(TOPICS)
    round2.refresh_from_db()
    assert round2.status == Round.Status.DRAFT


def test_the_sweep_aggregates_a_closed_round_nobody_queued(topics: list[Topic], start_beat: Callable[[], Beat]) -> None:
    study = _study(topics, planned_rounds=1)
    round1 = study.rounds.get(number=1)
    alice = make_participant(study, "alice@example.org")
    round_open(rnd=round1)
    for topic in study.topics.all():
        response_save(participant=alice, rnd=round1, topic=topic, answers=_answers(topic.code, "4"))
    # As if the worker died with the aggregation task minutes ago: the round is closed and nothing is queued.
    Round.objects.filter(pk=round1.pk).update(
        status=Round.Status.CLOSED, closed_at=timezone.now() - timedelta(minutes=5)
    )

    beat = start_beat()
    beat.wait_until(
        _status(round1, "aggregated"), what="the beat-driven sweep aggregating round 1", state=_round_state(round1)
    )
    round1.refresh_from_db()
    assert len(round1.checksum) == 64
    assert RoundStat.objects.filter(round=round1, question__key="importance", group="all", n=1).count() == len(TOPICS)
    assert "Sending due task rounds-sweep (delphi.rounds_sweep)" in beat.log()


def test_beat_reminds_only_those_who_have_not_finished(topics: list[Topic], start_beat: Callable[[], Beat]) -> None:
    study = _study(topics)
    round1 = study.rounds.get(number=1)
    alice = make_participant(study, "alice@example.org")
    bob = make_participant(study, "bob@example.org", sector="company")
    carol = make_participant(study, "carol@example.org", sector="government")
    round_open(rnd=round1)
    # Alice answered and submitted; Bob started but has not submitted; Carol left the study.
    for topic in study.topics.all():
        response_save(participant=alice, rnd=round1, topic=topic, answers=_answers(topic.code, "4"))
    round_submit(participant=alice, rnd=round1)
    topic = study.topics.get(code="bci")
    response_save(participant=bob, rnd=round1, topic=topic, answers=_answers(topic.code, "2"))
    Participant.objects.filter(pk=carol.pk).update(status=Participant.Status.DROPPED)

    def reminders(participant: Participant) -> int:
        return Invitation.objects.filter(participant=participant, kind="reminder", sent_at__isnull=False).count()

    def state() -> str:
        counts = {p.expert.email: reminders(p) for p in (alice, bob, carol)}
        return f"sent reminders: {counts}; all invitations: {list(Invitation.objects.values('participant__expert__email', 'kind', 'sent_at'))}"

    beat = start_beat()
    # Two reminder runs: each of them would have reached Alice or Carol had the rule been wrong.
    beat.wait_until(lambda: reminders(bob) >= 2, what="two reminders to Bob", state=state)
    assert reminders(alice) == 0, state()
    assert reminders(carol) == 0, state()
    assert not Invitation.objects.filter(participant__in=[alice, carol]).exists(), state()
    assert Round.objects.get(pk=round1.pk).status == Round.Status.OPEN
