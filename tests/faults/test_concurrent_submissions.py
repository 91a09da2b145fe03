"""Concurrent writes on the real HTTP path (Django's threaded live server on PostgreSQL).

- 20 identical submissions at once (a double click, retries): exactly one stored answer per question, no 5xx;
- a round closed while 8 experts keep submitting and one save is held inside its transaction: the close
  waits for it, so the aggregation run as the close commits counts every accepted answer, no answer is
  written after the close, and every refused save got a clear 409, nothing in between.
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

import psycopg
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


def _psql(**overrides: Any) -> psycopg.Connection[Any]:
    """A connection of its own to the test database, outside Django (to hold a lock while others run)."""
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        **overrides,
    )


def _wait(check: Callable[[], Any], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


# Rows of a round written by a transaction that was not yet committed when ``snapshot`` was taken
# (``xmin``: the transaction that wrote the row's current version; the epoch is the snapshot's).
WRITTEN_AFTER = """
SELECT count(*) FROM {table} t {join} WHERE {round_column} = %(round)s
AND NOT txid_visible_in_snapshot(
    ((txid_snapshot_xmax(%(snapshot)s::txid_snapshot) >> 32) << 32) + t.xmin::text::bigint, %(snapshot)s::txid_snapshot
)
"""


def test_a_round_closed_under_load_keeps_every_accepted_answer_and_refuses_the_rest(
    live_server: Any, study: Any
) -> None:
    """Eight experts keep saving while the round closes, and one save is held inside its transaction
    (after it found the round open, before it writes) while the close is asked for. The close must wait
    for it: the aggregation run the moment the close commits (as the worker does) counts every answer
    that got a 200, and no answer is stored by a transaction that commits after the close."""
    from foresight.delphi.services.rounds import ANSWERS_LOCK

    panel = [make_participant(study, f"e{i}@example.org", topics=CODES) for i in range(8)]
    experts = [Expert(live_server.url, p) for p in panel]
    slow = make_participant(study, "slow@example.org", topics=CODES)
    slow_expert = Expert(live_server.url, slow)
    rnd = study.rounds.get(number=1)
    save_url = f"/delphi/{study.code}/round/1/{{}}/save/"
    accepted: dict[tuple[int, str], str] = {}
    refused: list[int] = []
    saves = dict.fromkeys(range(len(panel)), 0)
    lock = threading.Lock()
    assert slow_expert.post(save_url.format(CODES[0]), {"expertise": "medium", "importance": "1"}) == 200
    accepted[(slow.pk, CODES[0])] = "1"
    slow_answer = Answer.objects.get(response__participant=slow, question__key="importance").pk

    def submit(i: int) -> None:
        try:
            participant, expert = panel[i], experts[i]
            deadline = time.monotonic() + 180
            attempt = 0
            while time.monotonic() < deadline:  # until the round is closed
                topic = CODES[attempt % len(CODES)]
                value = str(1 + (attempt + i) % 5)
                status = expert.post(save_url.format(topic), {"expertise": "medium", "importance": value})
                with lock:
                    if status == 200:
                        accepted[(participant.pk, topic)] = value
                        saves[i] += 1
                    else:
                        refused.append(status)
                if status == 409:
                    return
                attempt += 1
            raise AssertionError(f"expert {i} never met the closed round")
        finally:
            connection.close()

    slow_status: list[int] = []

    def slow_save() -> None:
        status = slow_expert.post(save_url.format(CODES[0]), {"expertise": "medium", "importance": "5"})
        slow_status.append(status)
        if status == 200:
            with lock:
                accepted[(slow.pk, CODES[0])] = "5"

    closed: list[bool] = []
    snapshot: list[str] = []

    def close_and_aggregate() -> None:
        try:
            closed.append(round_close(rnd=Round.objects.get(pk=rnd.pk)))
            with connection.cursor() as cursor:  # the transactions committed by the time the close was
                cursor.execute("SELECT txid_current_snapshot()::text")
                snapshot.append(cursor.fetchone()[0])
            # The worker aggregates the round as soon as the close is committed.
            round_aggregate(round_id=rnd.pk)
        finally:
            connection.close()

    with _psql(autocommit=True) as probe, ThreadPoolExecutor(max_workers=len(panel)) as pool:

        def count(query: str, *params: Any) -> int:
            return int(probe.execute(query, params).fetchone()[0])  # type: ignore[index]

        load = [pool.submit(submit, i) for i in range(len(panel))]
        _wait(lambda: min(saves.values()) >= 3 or any(f.done() for f in load), "every expert saving")
        with _psql(autocommit=False) as holder:
            # Hold the slow save inside its transaction: it has the round open and waits for its answer row.
            holder.execute("SELECT 1 FROM delphi_answer WHERE id = %s FOR UPDATE", [slow_answer])
            holder_pid = holder.info.backend_pid
            slow_thread = threading.Thread(target=slow_save)
            slow_thread.start()
            _wait(
                lambda: count(
                    "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", holder_pid
                ),
                "the slow save held inside its transaction",
            )
            closer = threading.Thread(target=close_and_aggregate)
            closer.start()
            # Either the close waits for the save in flight, or (were it not ordered against saves) it
            # commits, and the aggregation runs, while the save is still held.
            _wait(
                lambda: not closer.is_alive()
                or count(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND mode = 'ExclusiveLock' AND classid = %s AND objid = %s AND objsubid = 2"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                    ANSWERS_LOCK,
                    rnd.pk,
                ),
                "the close waiting for the save in flight (or done)",
            )
            holder.rollback()
        slow_thread.join(60)
        closer.join(120)
        for future in load:
            future.result(timeout=180)
        # No answer, and no response, was written by a transaction still open when the close committed.
        assert snapshot, "the close did not finish"
        late = {
            table: probe.execute(
                WRITTEN_AFTER.format(table=table, join=join, round_column=column),
                {"round": rnd.pk, "snapshot": snapshot[0]},
            ).fetchone()[0]  # type: ignore[index]
            for table, join, column in (
                ("delphi_answer", "JOIN delphi_response r ON r.id = t.response_id", "r.round_id"),
                ("delphi_response", "", "t.round_id"),
            )
        }
    assert closed == [True]
    assert slow_status == [200]  # it found the round open, so it must be kept
    assert late == {"delphi_answer": 0, "delphi_response": 0}, late
    assert set(refused) == {409}, refused  # every refusal is a clear 409; no 5xx, no other error
    assert len(refused) == len(panel)  # each expert met the closed round exactly once, then stopped
    # What was accepted is exactly what is stored, value for value ...
    stored = {
        (pid, code): str(int(v))
        for pid, code, v in Answer.objects.filter(response__round=rnd, question__key="importance").values_list(
            "response__participant_id", "response__topic__code", "value_num"
        )
    }
    assert stored == accepted
    # ... and exactly what the aggregation run at the close counted.
    rnd.refresh_from_db()
    assert rnd.status == Round.Status.AGGREGATED
    for code in CODES:
        values = sorted(int(v) for (pid, c), v in accepted.items() if c == code)
        stat = RoundStat.objects.get(round=rnd, topic__code=code, question__key="importance", group="all")
        assert (stat.n, stat.data["distribution"]) == (
            len(values),
            {str(k): values.count(k) for k in range(1, 6)},
        ), code


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
