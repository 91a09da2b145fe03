"""Concurrent writes on the real HTTP path (Django's threaded live server on PostgreSQL).

- 20 identical submissions at once (a double click, retries): exactly one stored answer per question, no 5xx;
- a round closed while 8 experts keep submitting: every accepted answer is in the aggregate, every
  refused one got a clear 409, nothing in between.
"""

from __future__ import annotations

import http.cookiejar
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from foresight.catalog.models import Topic
from foresight.delphi.models import Answer, Participant, Round, RoundStat
from foresight.delphi.services.aggregation import round_aggregate
from foresight.delphi.services.panel import invitation_create
from foresight.delphi.services.rounds import round_close, round_open
from foresight.delphi.services.studies import study_create
from tests.delphi.conftest import make_participant

pytestmark = pytest.mark.django_db(transaction=True)
CODES = ["bci", "humanoid-robots", "quantum-computing"]


class Expert:
    """One expert's browser: a cookie jar with the session from her magic link and the CSRF token."""

    def __init__(self, base: str, participant: Participant) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        token = invitation_create(participant=participant)
        join = f"{base}/delphi/{participant.study.code}/join/"
        self.opener.open(f"{join}?t={token}").read()  # the link's page, then its button
        body = urllib.parse.urlencode({"t": token, "csrfmiddlewaretoken": self.csrf_cookie()}).encode()
        self.opener.open(urllib.request.Request(join, data=body, headers={"Referer": join})).read()
        self.csrf = self.csrf_token(f"{base}/delphi/{participant.study.code}/round/1/{CODES[0]}/")

    def csrf_cookie(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def csrf_token(self, url: str) -> str:
        self.opener.open(url).read()
        return self.csrf_cookie()

    def post(self, path: str, data: dict[str, str]) -> int:
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf}).encode()
        request = urllib.request.Request(
            self.base + path, data=body, headers={"HX-Request": "true", "Referer": self.base + path}
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as exc:
            exc.read()
            return int(exc.code)


def in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        barrier.wait()
        try:
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


@pytest.fixture
def study(transactional_catalog: Any) -> Any:
    study = study_create(
        title_en="Concurrency", horizon_year=2045, topics=list(Topic.objects.filter(code__in=CODES)), code="conc"
    )
    round_open(rnd=study.rounds.get(number=1))
    return study


def test_twenty_identical_submissions_store_one_answer_each(live_server: Any, study: Any) -> None:
    alice = make_participant(study, "alice@example.org", topics=CODES)
    expert = Expert(live_server.url, alice)
    form = {
        "expertise": "high",
        "importance": "4",
        "competitiveness": "2",
        "importance_why": "economy",
        "importance_why__present": "1",
        "tech_year": "2031",
        "rationale": "Same words every time.",
    }
    statuses = in_threads(20, lambda i: expert.post(f"/delphi/{study.code}/round/1/bci/save/", form))
    assert statuses == [200] * 20, statuses
    stored = list(
        Answer.objects.filter(response__participant=alice, response__topic__code="bci").values_list(
            "question__key", flat=True
        )
    )
    assert sorted(stored) == sorted(["expertise", "importance", "competitiveness", "importance_why", "tech_year"])
    assert alice.responses.count() == 1


def test_a_round_closed_under_load_keeps_every_accepted_answer_and_refuses_the_rest(
    live_server: Any, study: Any
) -> None:
    panel = [make_participant(study, f"e{i}@example.org", topics=CODES) for i in range(8)]
    experts = [Expert(live_server.url, p) for p in panel]
    rnd = study.rounds.get(number=1)
    accepted: dict[tuple[int, str], str] = {}
    refused: list[int] = []
    lock = threading.Lock()
    closing = threading.Event()

    def submit(i: int) -> None:
        participant, expert = panel[i], experts[i]
        attempt = 0
        while attempt < 400:
            topic = CODES[attempt % len(CODES)]
            value = str(1 + (attempt + i) % 5)
            status = expert.post(
                f"/delphi/{study.code}/round/1/{topic}/save/", {"expertise": "medium", "importance": value}
            )
            with lock:
                if status == 200:
                    accepted[(participant.pk, topic)] = value
                else:
                    refused.append(status)
            if status == 409:
                return
            attempt += 1
            if attempt == 6:
                closing.set()

    closed: list[bool] = []

    def close_soon() -> None:
        try:
            closing.wait(timeout=60)
            time.sleep(0.2)
            closed.append(round_close(rnd=rnd))
        finally:
            connection.close()

    closer = threading.Thread(target=close_soon)
    closer.start()
    in_threads(8, submit)
    closer.join()
    assert closed == [True]
    assert set(refused) == {409}, refused  # every refusal is a clear 409; no 5xx, no other error
    assert len(refused) == 8  # each expert met the closed round exactly once, then stopped
    # What was accepted is exactly what is stored, value for value ...
    stored = {
        (pid, code): str(int(v))
        for pid, code, v in Answer.objects.filter(response__round=rnd, question__key="importance").values_list(
            "response__participant_id", "response__topic__code", "value_num"
        )
    }
    assert stored == accepted
    # ... and exactly what the aggregate counts.
    round_aggregate(round_id=rnd.pk)
    rnd.refresh_from_db()
    assert rnd.status == Round.Status.AGGREGATED
    for code in CODES:
        values = sorted(int(v) for (pid, c), v in accepted.items() if c == code)
        stat = RoundStat.objects.get(round=rnd, topic__code=code, question__key="importance", group="all")
        assert stat.n == len(values)
        assert stat.data["distribution"] == {str(k): values.count(k) for k in range(1, 6)}


def test_a_close_is_not_starved_by_a_stream_of_saves(study: Any) -> None:
    """A save in flight holds the close back; a save that starts while the close waits queues behind it
    (and then finds the round closed) instead of joining the first one and starving the close."""
    from django.db import close_old_connections, transaction

    from foresight.delphi.services.rounds import ANSWERS_LOCK, round_answers_lock_shared

    rnd = study.rounds.get(number=1)
    round_open(rnd=rnd)
    first_holds, release_first = threading.Event(), threading.Event()
    events: list[str] = []

    def first_save() -> None:
        try:
            with transaction.atomic():
                round_answers_lock_shared(rnd.pk)
                first_holds.set()
                release_first.wait(20)
                events.append("first save done")
        finally:
            close_old_connections()

    def close() -> None:
        try:
            assert round_close(rnd=Round.objects.get(pk=rnd.pk)) is True
            events.append("closed")
        finally:
            close_old_connections()

    def later_save() -> None:
        try:
            with transaction.atomic():
                seen = round_answers_lock_shared(rnd.pk).status
                events.append(f"later save saw {seen}")
        finally:
            close_old_connections()

    def waiting(kind: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND mode = %s"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND classid = %s AND objid = %s AND objsubid = 2",
                [kind, ANSWERS_LOCK, rnd.pk],
            )
            return int(cursor.fetchone()[0])

    threads = [threading.Thread(target=first_save)]
    threads[0].start()
    assert first_holds.wait(10)
    threads.append(threading.Thread(target=close))
    threads[1].start()
    deadline = time.monotonic() + 10
    while waiting("ExclusiveLock") != 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert waiting("ExclusiveLock") == 1  # the close waits for the save in flight
    threads.append(threading.Thread(target=later_save))
    threads[2].start()
    while waiting("ShareLock") != 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert waiting("ShareLock") == 1  # the later save queues behind the waiting close
    assert events == []
    release_first.set()
    for thread in threads:
        thread.join(20)
    # The close commits before the later save can read the round, so that save sees it closed; the two
    # threads record their events after the lock is released, so their order in the list is not fixed.
    assert events[0] == "first save done"
    assert sorted(events[1:]) == ["closed", "later save saw closed"]
