"""Faults against a private stack (own PostgreSQL, Redis, worker, beat, gunicorn; see stack.py):

- kill -9 the worker's pool process inside the aggregation's write transaction, then the whole worker:
  nothing of the killed transaction is stored, and the round is aggregated again to the identical
  stored rows and checksum each time;
- a hung aggregation is stopped by its time limit and the next round still aggregates;
- Redis stopped: public pages are built from the database (a change the cache never heard of shows),
  ballots are still accepted and saved, health says "degraded", and the aggregation that staff closing
  the round from the console could not queue is done by the sweep once Redis is back;
- Redis hung (SIGSTOP: connections accepted, never answered): pages answer about as fast as usual
  (one short cache timeout, then the cache is skipped) and health says "degraded" at once;
- PostgreSQL restarted: health answers 503 while it is down, and the site recovers by itself;
- a study with a published edition, pg_dump → restore into a new database: the stored statistics,
  scoring results and fingerprints are the original's, and recomputing them gives them again.
"""

from __future__ import annotations

import http.cookiejar
import json
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.stack import Stack, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.timeout(900)]
CODES = ["bci", "humanoid-robots", "quantum-computing"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("faults")
    stack = Stack(
        workdir,
        ROUNDS_TICK_SECONDS="1",
        ROUNDS_SWEEP_SECONDS="2",
        ROUNDS_SWEEP_GRACE_SECONDS="3",
        REMINDER_SECONDS="86400",
        AGGREGATION_TIME_LIMIT="10",
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.close()


def simulated_round(stack: Stack, seed: int) -> tuple[int, str]:
    """A simulated one-round study aggregated by the stack's worker: (round id, checksum)."""
    out = stack.manage("simulate_study", "--experts", "60", "--topics", "12", "--seed", str(seed), "--rounds", "1")
    code = json.loads(out.strip().splitlines()[-1])["rounds"][0]
    ((pk, status, checksum),) = stack.pg.sql("SELECT id, status, checksum FROM delphi_round WHERE code = %s", [code])
    assert status == "aggregated" and len(checksum) == 64
    return pk, checksum


def reopen_for_aggregation(stack: Stack, round_id: int, closed_long_ago: bool = False) -> None:
    """Put an aggregated round back to "closed", as if its aggregation had never finished."""
    stack.pg.sql(
        "UPDATE delphi_round SET status = 'closed', checksum = '', summary = '{}', aggregated_at = NULL, "
        "aggregation_progress = 0, "
        f"closed_at = now() - interval '{'1 hour' if closed_long_ago else '0 seconds'}' WHERE id = %s",
        [round_id],
    )
    stack.pg.sql("DELETE FROM delphi_roundstat WHERE round_id = %s", [round_id])


def stored_aggregate(stack: Stack, round_id: int) -> dict[str, Any]:
    """What an aggregation stored for the round: its state, checksum and summary, and every RoundStat row."""
    ((status, checksum, summary),) = stack.pg.sql(
        "SELECT status, checksum, summary::text FROM delphi_round WHERE id = %s", [round_id]
    )
    rows = stack.pg.sql(
        'SELECT topic_id, question_id, "group", n, data::text FROM delphi_roundstat WHERE round_id = %s '
        'ORDER BY topic_id, question_id, "group"',
        [round_id],
    )
    return {"status": status, "checksum": checksum, "summary": summary, "stats": rows}


def round_state(stack: Stack, round_id: int) -> tuple[str, str, int]:
    ((status, checksum, progress),) = stack.pg.sql(
        "SELECT status, checksum, aggregation_progress FROM delphi_round WHERE id = %s", [round_id]
    )
    return status, checksum, progress


def queue_aggregation(stack: Stack, round_id: int) -> None:
    stack.shell(
        f"from foresight.delphi import tasks; import json; tasks.round_aggregate.delay({round_id}); print(json.dumps(1))"
    )


def wait_aggregated(stack: Stack, round_id: int, timeout: float = 30) -> str:
    def done() -> str | None:
        status, checksum, _ = round_state(stack, round_id)
        return checksum if status == "aggregated" else None

    try:
        return str(wait_for(done, f"round {round_id} aggregated", timeout=timeout, interval=0.25))
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nworker log:\n{stack.log('worker')}\nbeat log:\n{stack.log('beat')}") from None


# The aggregation's write transaction ends with its audit line: a session holding the audit table
# stops it there, after it has replaced the RoundStat rows and marked the round aggregated.
AUDIT_TABLE = "delphi_auditlog"
WRITER_AT_AUDIT = f"""
SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO "{AUDIT_TABLE}"%%'
"""


def kill_inside_the_write(stack: Stack, round_id: int, kill: Callable[[], None]) -> None:
    """Queue the round's aggregation, hold it inside its write transaction (RoundStat rows written, round
    row updated, audit line waiting), ``kill`` the worker there, and check nothing of it was stored.

    A second session queues for the audit table behind the held task: it is granted only once the killed
    task's transaction is over, and until it lets go no re-run can commit, so what is stored then is
    exactly what the killed transaction left behind.
    """
    reopen_for_aggregation(stack, round_id, closed_long_ago=True)
    before = stored_aggregate(stack, round_id)
    with stack.pg.connect(autocommit=False) as gate, stack.pg.connect(autocommit=False) as after:
        gate.execute(f"LOCK TABLE {AUDIT_TABLE} IN SHARE MODE")
        queue_aggregation(stack, round_id)
        wait_for(lambda: stack.pg.sql(WRITER_AT_AUDIT), "the aggregation inside its write transaction", timeout=60)
        granted = threading.Event()

        def lock_after() -> None:
            after.execute(f"LOCK TABLE {AUDIT_TABLE} IN EXCLUSIVE MODE")
            granted.set()

        waiter = threading.Thread(target=lock_after)
        waiter.start()
        after_pid = after.info.backend_pid
        wait_for(
            lambda: stack.pg.sql("SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted", [after_pid]),
            "the second session queued for the audit table",
        )
        kill()
        gate.rollback()
        try:
            assert granted.wait(60), "the killed aggregation's transaction never ended"
            # Nothing of the killed transaction is stored: no RoundStat row, the round still closed.
            assert stored_aggregate(stack, round_id) == before
        finally:
            waiter.join(60)
            after.rollback()


def test_killed_workers_give_the_identical_aggregate(stack: Stack) -> None:
    stack.start_worker()
    round_id, checksum = simulated_round(stack, seed=4)
    undisturbed = stored_aggregate(stack, round_id)
    assert undisturbed["stats"] and undisturbed["checksum"] == checksum

    # 1. The pool process dies inside the aggregation's write transaction: the message is rejected
    #    back to the queue, a new pool process takes it and stores the same rows and checksum.
    def kill_pool() -> None:
        children = stack.children("worker")
        assert children, "the worker has no pool process"
        for pid in children:
            subprocess.run(["kill", "-9", str(pid)], check=True)

    kill_inside_the_write(stack, round_id, kill_pool)
    wait_aggregated(stack, round_id)
    assert stored_aggregate(stack, round_id) == undisturbed

    # 2. The whole worker dies inside the write transaction; a new worker starts. The unacknowledged
    #    message waits for Redis' visibility timeout, so the beat-driven sweep re-queues the closed round.
    kill_inside_the_write(stack, round_id, lambda: stack.kill("worker"))
    stack.start_worker()
    stack.start_beat()
    try:
        wait_aggregated(stack, round_id, timeout=60)
        assert stored_aggregate(stack, round_id) == undisturbed
    finally:
        stack.kill("beat")


def test_a_hung_aggregation_is_stopped_and_the_next_round_still_aggregates(stack: Stack) -> None:
    if "worker" not in stack.procs:
        stack.start_worker()
    hung, hung_checksum = simulated_round(stack, seed=5)
    nxt, next_checksum = simulated_round(stack, seed=6)
    reopen_for_aggregation(stack, hung)
    reopen_for_aggregation(stack, nxt)
    with stack.pg.connect(autocommit=False) as blocker:
        # The hung round cannot finish: its row stays locked for longer than the 10 s time limit.
        blocker.execute("SELECT 1 FROM delphi_round WHERE id = %s FOR UPDATE", [hung])
        queue_aggregation(stack, hung)
        queue_aggregation(stack, nxt)  # one pool process: it waits behind the hung task
        assert wait_aggregated(stack, nxt, timeout=45) == next_checksum
        assert round_state(stack, hung)[0] == "closed"
        log = stack.log("worker")
        assert "TimeLimitExceeded" in log or "SoftTimeLimitExceeded" in log, log
        blocker.rollback()
    # Once the cause is gone the sweep (here run by hand) gets the hung round aggregated, identically.
    stack.shell(SWEEP_LATER)
    assert wait_aggregated(stack, hung) == hung_checksum


SWEEP_LATER = """
import json
from datetime import timedelta
from django.utils import timezone
from foresight.delphi.services.rounds import rounds_sweep
print(json.dumps(rounds_sweep(now=timezone.now() + timedelta(minutes=5))))
"""


class Browser:
    """An expert's browser against the stack's gunicorn: cookies and the CSRF token, like htmx sends."""

    def __init__(self, stack: Stack, token: str, study: str) -> None:
        self.stack = stack
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        join = f"{stack.base}/delphi/{study}/join/"
        self.opener.open(f"{join}?t={token}", timeout=20).read()  # the link's page, then its button
        csrf = next(c.value for c in self.jar if c.name == "csrftoken")
        body = urllib.parse.urlencode({"t": token, "csrfmiddlewaretoken": csrf}).encode()
        self.opener.open(urllib.request.Request(join, data=body, headers={"Referer": join}), timeout=20).read()
        self.opener.open(f"{stack.base}/delphi/{study}/round/1/{CODES[0]}/", timeout=20).read()
        self.csrf = next(c.value for c in self.jar if c.name == "csrftoken")

    def post(self, path: str, data: dict[str, str]) -> int:
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf}).encode()
        request = urllib.request.Request(
            self.stack.base + path, data=body, headers={"HX-Request": "true", "Referer": self.stack.base + path}
        )
        try:
            with self.opener.open(request, timeout=20) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)


SETUP = """
import json
from foresight.catalog.models import Topic
from foresight.delphi.models import Expert
from foresight.delphi.services.panel import invitation_create, participant_add, participant_choose_topics, participant_consent
from foresight.delphi.services.rounds import round_open
from foresight.delphi.services.studies import study_create
codes = {codes!r}
study = study_create(title_en="Faults", horizon_year=2045, topics=list(Topic.objects.filter(code__in=codes)), code={code!r})
rnd = study.rounds.get(number=1)
round_open(rnd=rnd)
tokens = []
for i in range({n}):
    expert = Expert.objects.create(email=f"x{{i}}@{code}.example.org", name=f"X{{i}}", sector="company")
    p = participant_add(study=study, expert=expert)
    participant_consent(participant=p)
    participant_choose_topics(participant=p, topics=Topic.objects.filter(code__in=codes))
    tokens.append(invitation_create(participant=p))
print(json.dumps({{"round": rnd.pk, "round_code": rnd.code, "tokens": tokens}}))
"""


def open_study(stack: Stack, code: str, n: int) -> dict[str, Any]:
    return dict(stack.shell(SETUP.format(codes=CODES, code=code, n=n)))


class StaffBrowser:
    """A staff member's browser against the stack's gunicorn, logged in through the admin login form."""

    def __init__(self, stack: Stack, username: str, password: str) -> None:
        self.stack = stack
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.open(f"{stack.base}/admin/login/", timeout=20).read()
        self.post("/admin/login/", {"username": username, "password": password, "next": "/staff/"})
        assert any(c.name == "sessionid" for c in self.jar), "the staff login failed"

    def post(self, path: str, data: dict[str, str]) -> tuple[int, bytes]:
        csrf = next(c.value for c in self.jar if c.name == "csrftoken")
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": csrf}).encode()
        request = urllib.request.Request(self.stack.base + path, data=body, headers={"Referer": self.stack.base + path})
        try:
            with self.opener.open(request, timeout=20) as response:  # redirects followed, like a browser
                return int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()


def topic_name(stack: Stack, code: str, name: str) -> str:
    """Rename a topic in the database only (no signal: the page cache does not hear of it); the old name."""
    ((old,),) = stack.pg.sql("SELECT name_en FROM catalog_topic WHERE code = %s", [code])
    stack.pg.sql("UPDATE catalog_topic SET name_en = %s WHERE code = %s", [name, code])
    return str(old)


def test_without_redis_ballots_are_saved_and_the_sweep_catches_up(stack: Stack) -> None:
    if "worker" not in stack.procs:
        stack.start_worker()
    stack.start_web()
    stack.start_beat()
    study = open_study(stack, "no-redis", n=6)
    stack.shell(
        "from django.contrib.auth.models import User; import json; "
        "User.objects.create_superuser('faults-staff', 'staff@faults.example.org', 'faults-staff-pw'); print(1)"
    )
    staff = StaffBrowser(stack, "faults-staff", "faults-staff-pw")
    experts = [Browser(stack, token, "no-redis") for token in study["tokens"][:3]]
    # The public topic page is cached in Redis: a rename made behind the cache's back is not seen ...
    page = "/topics/bci/"
    status, body = stack.get(page)
    renamed = "Renamed while the cache is down"
    original_name = topic_name(stack, "bci", renamed)
    assert status == 200 and original_name.encode() in body
    status, body = stack.get(page)
    assert status == 200 and original_name.encode() in body and renamed.encode() not in body
    stack.redis.stop()
    try:
        assert json.loads(stack.get("/health/")[1])["status"] == "degraded"
        # ... but with Redis down the page is built from the database: the new name, not a kept copy.
        status, body = stack.get(page)
        assert status == 200 and renamed.encode() in body, body[:2000]
        assert stack.get("/topics/")[0] == 200
        # Experts who log in and answer while Redis is down: everything is saved.
        experts += [Browser(stack, token, "no-redis") for token in study["tokens"][3:]]
        for i, expert in enumerate(experts):
            for code in CODES:
                status = expert.post(
                    f"/delphi/no-redis/round/1/{code}/save/", {"expertise": "high", "importance": str(1 + i % 5)}
                )
                assert status == 200
            assert expert.post("/delphi/no-redis/round/1/submit/", {}) in (200, 302)
        saved = stack.pg.sql(
            "SELECT count(*) FROM delphi_answer a JOIN delphi_response r ON r.id = a.response_id WHERE r.round_id = %s",
            [study["round"]],
        )[0][0]
        assert saved == 6 * 3 * 2
        # Staff close the round from the console: the aggregation cannot be queued, the close succeeds.
        status, body = staff.post(f"/staff/rounds/{study['round_code']}/close/", {})
        assert status == 200 and b"its aggregation is queued" in body, body[:2000]
        assert round_state(stack, study["round"])[0] == "closed"
    finally:
        stack.redis.start()
        topic_name(stack, "bci", original_name)
    # Redis is back (empty): the beat-driven sweep re-queues the round and the worker aggregates it.
    wait_aggregated(stack, study["round"], timeout=60)
    n = stack.pg.sql(
        "SELECT s.n FROM delphi_roundstat s JOIN delphi_question q ON q.id = s.question_id "
        "WHERE s.round_id = %s AND q.key = 'importance' AND s.group = 'all'",
        [study["round"]],
    )
    assert [row[0] for row in n] == [6, 6, 6]
    wait_for(lambda: json.loads(stack.get("/health/")[1])["status"] == "ok", "health ok once Redis is back")
    stack.kill("beat")


def timed_get(stack: Stack, path: str) -> tuple[int, bytes, float]:
    started = time.monotonic()
    status, body = stack.get(path)
    return status, body, time.monotonic() - started


def test_a_hung_redis_slows_no_page_and_health_says_so_at_once(stack: Stack) -> None:
    if "web" not in stack.procs:
        stack.start_web()
    wait_for(lambda: json.loads(stack.get("/health/")[1])["status"] == "ok", "health ok before the fault")
    # The normal case: pages rendered afresh (a new query each, so no cache hit), and the health check.
    normal = max(timed_get(stack, f"/topics/?q=normal{i}")[2] for i in range(4))
    normal_health = max(timed_get(stack, "/health/")[2] for _ in range(2))
    stack.redis.pause()
    try:
        status, body, took = timed_get(stack, "/health/")
        assert status == 200 and json.loads(body) == {"status": "degraded", "database": True, "broker": False}
        # One short socket timeout (0.5 s), not the ~9 s of a hung client; the margin absorbs a loaded machine.
        assert took < normal_health + 3.0, took
        timings = []
        for i in range(8):
            status, _, took = timed_get(stack, f"/topics/?q=hung{i}" if i % 2 else "/topics/")
            assert status == 200
            timings.append(took)
        # Each page within one cache timeout of normal, and together they paid at most a few timeouts:
        # after the first error the breaker skips the cache (one timeout per request would be 8 × 0.5 s).
        # Without the breaker every page pays at least one timeout per cache call (8 pages: 8 s and more).
        assert max(timings) < 2 * normal + 3.0, (normal, timings)
        assert sum(timings) < len(timings) * 2 * normal + 3.5, (normal, timings)
        status, body, took = timed_get(stack, "/health/")  # asked again: still probes, still quick
        assert json.loads(body)["status"] == "degraded" and took < normal_health + 3.0, took
    finally:
        stack.redis.resume()
    wait_for(lambda: json.loads(stack.get("/health/")[1])["status"] == "ok", "health ok once Redis answers", 30)
    assert stack.get("/topics/")[0] == 200


def test_a_postgres_restart_is_survived_without_manual_action(stack: Stack) -> None:
    if "web" not in stack.procs:
        stack.start_web()
    study = open_study(stack, "pg-restart", n=1)
    expert = Browser(stack, study["tokens"][0], "pg-restart")
    assert expert.post(f"/delphi/pg-restart/round/1/{CODES[0]}/save/", {"expertise": "high"}) == 200
    stack.pg.stop()
    try:
        status, body = stack.get("/health/")
        assert status == 503 and json.loads(body)["status"] == "down"
    finally:
        stack.pg.start()
    wait_for(lambda: stack.get("/health/")[0] == 200, "health back to 200 after the restart", timeout=30)
    assert stack.get("/topics/")[0] == 200
    assert expert.post(f"/delphi/pg-restart/round/1/{CODES[1]}/save/", {"expertise": "low"}) == 200
    rows = stack.pg.sql(
        "SELECT count(*) FROM delphi_answer a JOIN delphi_response r ON r.id = a.response_id WHERE r.round_id = %s",
        [study["round"]],
    )
    assert rows[0][0] == 2


RECOMPUTE = """
import hashlib, json
from foresight.catalog.models import Topic
from foresight.delphi.models import Question, Round, RoundStat
from foresight.delphi.services.aggregation import results_checksum, round_results_compute
from foresight.priorities.models import Edition, ScoringRun
from foresight.priorities.services.editions import edition_entry_record, edition_fingerprint
from foresight.priorities.services.runs import criteria_collect, scoring_fingerprint, scoring_results_compute

def digest(value):
    # As stored: through JSON (and jsonb), then canonical.
    return hashlib.sha256(json.dumps(json.loads(json.dumps(value)), sort_keys=True).encode()).hexdigest()

topics = dict(Topic.objects.values_list("pk", "code"))
questions = dict(Question.objects.values_list("pk", "key"))
out = {"rounds": {}, "runs": {}, "editions": {}}
for rnd in Round.objects.filter(status="aggregated").select_related("study").order_by("code"):
    rows, summary = round_results_compute(rnd=rnd)
    stored = RoundStat.objects.filter(round=rnd).values_list("topic_id", "question_id", "group", "n", "data")
    out["rounds"][rnd.code] = {
        "checksum": [rnd.checksum, results_checksum(rows, summary)],
        "summary": [digest(rnd.summary), digest(summary)],
        "stats": [
            digest(sorted([topics[t], questions[q], g, n, d] for t, q, g, n, d in stored)),
            digest(sorted([topics[r["topic_id"]], questions[r["question_id"]], r["group"], r["n"], r["data"]] for r in rows)),
        ],
        "count": len(stored),
    }
for run in ScoringRun.objects.filter(status="done").select_related("study", "round").order_by("code"):
    data = criteria_collect(rnd=run.round, policy_clusters=run.policy_clusters)
    out["runs"][run.code] = {
        "fingerprint": [run.fingerprint, scoring_fingerprint(run=run, data=data)],
        "results": [digest(run.results), digest(scoring_results_compute(run=run, data=data))],
    }
for edition in Edition.objects.filter(status="published").select_related("scoring_run", "replaces").order_by("code"):
    entries = [edition_entry_record(e) for e in edition.entries.select_related("topic").order_by("topic__code")]
    out["editions"][edition.code] = {
        "fingerprint": [edition.fingerprint, edition_fingerprint(edition=edition)],
        "entries": digest(entries),
        "run": edition.scoring_run.code,
    }
print(json.dumps(out))
"""


def test_dump_and_restore_recompute_identically(stack: Stack, tmp_path: Path) -> None:
    """A study with a published edition is dumped and restored into a new database: there the stored
    statistics (RoundStat rows, summaries, checksums), the scoring run's results and fingerprint and the
    edition's decisions and fingerprint are those of the original, and recomputing each gives them again."""
    if "worker" not in stack.procs:
        stack.start_worker()
    out = stack.manage(
        "simulate_study", "--experts", "60", "--topics", "12", "--seed", "8", "--rounds", "1", "--publish"
    )
    edition = json.loads(out.strip().splitlines()[-1])["edition"]
    dump = tmp_path / "foresight.dump"
    subprocess.run(
        ["pg_dump", "-Fc", "-h", "127.0.0.1", "-p", str(stack.pg.port), "-U", "postgres", "-f", str(dump), "foresight"],
        check=True,
    )
    stack.pg.sql("CREATE DATABASE restored", db="postgres")
    subprocess.run(
        ["pg_restore", "-h", "127.0.0.1", "-p", str(stack.pg.port), "-U", "postgres", "-d", "restored", str(dump)],
        check=True,
    )
    env = {**stack.env, "DATABASE_URL": stack.pg.url("restored")}
    original = stack.shell(RECOMPUTE)
    restored = stack.shell(RECOMPUTE, env=env)
    assert edition in restored["editions"] and restored["runs"] and restored["rounds"]
    assert all(r["count"] > 0 for r in restored["rounds"].values())
    assert original == restored
    # Stored and recomputed agree, figure for figure.
    for kind in ("rounds", "runs", "editions"):
        for code, figures in restored[kind].items():
            for name, value in figures.items():
                if isinstance(value, list):
                    stored, recomputed = value
                    assert stored == recomputed, (kind, code, name)
