"""The group's view shown to an expert goes through the disclosure layer.

Fixed rounds: nothing from fewer than k + 1 respondents.  Real-time: a stored snapshot, first released
at k + 1 answers and refreshed only after k + 1 answers or changes since the last one, on a save (never
on a page view), one save at a time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.db.models.signals import post_save
from django.test import Client
from django.test.utils import CaptureQueriesContext

from foresight import disclosure
from foresight.catalog.models import Topic
from foresight.delphi.models import Answer, FeedbackSnapshot, Participant, Question, Response, Round, RoundStat, Study
from foresight.delphi.services.aggregation import round_aggregate
from foresight.delphi.services.feedback import topic_feedback
from foresight.delphi.services.panel import invitation_create
from foresight.delphi.services.responses import response_save
from foresight.delphi.services.rounds import round_close, round_open
from foresight.delphi.services.studies import study_create
from tests.delphi.conftest import make_participant


def _live_study(code: str) -> tuple[Study, Round, Topic]:
    """A real-time study on one topic with the smallest allowed k = 3, so the smallest group is t = 4."""
    bci = Topic.objects.get(code="bci")
    study = study_create(
        title_en="Live", horizon_year=2045, topics=[bci], code=code, mode=Study.Mode.REALTIME, k_threshold=3
    )
    rnd = study.rounds.get(number=1)
    round_open(rnd=rnd)
    return study, rnd, bci


def _rate(participant: Participant, rnd: Round, topic: Topic, importance: str) -> None:
    response_save(participant=participant, rnd=rnd, topic=topic, answers={"importance": importance})


def _seen(participant: Participant, rnd: Round, topic: Topic) -> tuple[bool, int, dict[str, Any] | None]:
    """What an expert's importance box shows: suppressed or not, n and the distribution."""
    fb = topic_feedback(participant=participant, rnd=rnd, topic=topic)["importance"]
    return fb.suppressed, fb.n, fb.figures.get("distribution")


@pytest.mark.django_db
def test_fixed_round_feedback_shows_nothing_at_k_and_shows_at_k_plus_one(study: Study) -> None:
    """k = 5.  In round 1 five experts rate bci's importance and six its competitiveness."""
    assert study.k_threshold == 5
    bci = Topic.objects.get(code="bci")
    panel = [make_participant(study, f"e{i}@example.org", topics=["bci"]) for i in range(6)]
    round1 = study.rounds.get(number=1)
    round_open(rnd=round1)
    for i, p in enumerate(panel):
        answers = {"expertise": "high", "competitiveness": str(1 + i % 5)}
        if i < 5:
            answers["importance"] = str(1 + i)
        response_save(participant=p, rnd=round1, topic=bci, answers=answers)
    round_close(rnd=round1)
    assert round_aggregate(round_id=round1.pk) is True
    assert RoundStat.objects.get(round=round1, topic=bci, question__key="importance", group="all").n == 5
    round2 = study.rounds.get(number=2)
    round_open(rnd=round2)

    feedback = topic_feedback(participant=panel[0], rnd=round2, topic=bci)
    importance = feedback["importance"]
    assert (importance.suppressed, importance.n, importance.figures) == (True, 0, {})
    assert importance.own_previous is not None and importance.own_previous.value_num == 1  # her own answer
    competitiveness = feedback["competitiveness"]
    assert (competitiveness.suppressed, competitiveness.n) == (False, 6)
    assert competitiveness.figures["distribution"] == {"1": 2, "2": 1, "3": 1, "4": 1, "5": 1}
    assert competitiveness.figures["median"] == 2.5
    # The expertise item, answered by all six, is released too.
    assert feedback["expertise"].n == 6 and feedback["expertise"].figures["counts"]["high"] == 6


@pytest.mark.django_db
def test_realtime_snapshot_appears_at_t_answers_and_holds_until_t_answers_or_changes(catalog: Any) -> None:
    """t = 4.  Olga answers first and polls; the snapshot appears with the fourth answer, stays the same
    when a fifth expert answers or experts re-send the same answer, and is refreshed once four newcomers
    have answered.  Then changes of mixed kinds (two changed, one withdrew, one newcomer) refresh nothing —
    the change in n would tell the kinds apart — until four have changed and nothing else is pending."""
    study, rnd, bci = _live_study("live-snap")
    olga, *others = [make_participant(study, f"e{i}@example.org", topics=["bci"]) for i in range(9)]
    assert study.disclosure_rules().t == 4
    _rate(olga, rnd, bci, "4")
    for p in others[:2]:
        _rate(p, rnd, bci, "4")
        assert _seen(olga, rnd, bci) == (True, 0, None)
    _rate(others[2], rnd, bci, "2")
    released = _seen(olga, rnd, bci)
    assert released == (False, 4, {"1": 0, "2": 1, "3": 0, "4": 3, "5": 0})

    _rate(others[3], rnd, bci, "5")  # one more expert: Olga polls and sees the same counts
    assert _seen(olga, rnd, bci) == released
    for p in others[:2]:
        _rate(p, rnd, bci, "4")  # the same answer again is no change
    assert _seen(olga, rnd, bci) == released
    for p, value in zip(others[4:7], ("3", "3", "1"), strict=True):
        _rate(p, rnd, bci, value)  # the fourth newcomer: refreshed
    released = _seen(olga, rnd, bci)
    assert released == (False, 8, {"1": 1, "2": 1, "3": 2, "4": 3, "5": 1})

    _rate(others[0], rnd, bci, "1")
    _rate(others[1], rnd, bci, "1")
    _rate(others[2], rnd, bci, "")
    _rate(others[7], rnd, bci, "5")  # four since the snapshot, but of three kinds, each below t: the same
    assert _seen(olga, rnd, bci) == released
    _rate(others[3], rnd, bci, "2")
    _rate(others[4], rnd, bci, "2")  # four changed now, but one withdrawal and one newcomer still pending
    assert _seen(olga, rnd, bci) == released
    _rate(others[2], rnd, bci, "2")  # back to her answer at the snapshot: no longer a withdrawal
    _rate(others[7], rnd, bci, "")  # the newcomer withdraws: only the four changes remain, refreshed
    assert _seen(olga, rnd, bci) == (False, 8, {"1": 3, "2": 3, "3": 1, "4": 1, "5": 0})
    snapshot = FeedbackSnapshot.objects.get(round=rnd, topic=bci, question__key="importance")
    assert sorted(snapshot.members) == sorted(str(p.pk) for p in (olga, *others[:7]))


@pytest.mark.django_db
def test_a_page_view_never_writes_a_snapshot(catalog: Any) -> None:
    """Four answers are in the table but no save has refreshed the snapshot since (the fourth was written
    straight into it): views of the page, the poll and the API change nothing and show nothing."""
    study, rnd, bci = _live_study("live-get")
    panel = [make_participant(study, f"e{i}@example.org", topics=["bci"]) for i in range(5)]
    for p in panel[:3]:
        response_save(participant=p, rnd=rnd, topic=bci, answers={"expertise": "high", "importance": "4"})
    importance = Question.objects.get(study=study, key="importance")
    response = Response.objects.create(round=rnd, participant=panel[3], topic=bci)
    Answer.objects.create(response=response, question=importance, value_num=2.0, value_code="2")
    before = list(FeedbackSnapshot.objects.order_by("pk").values())
    browser = Client()
    assert (
        browser.post(f"/delphi/{study.code}/join/", {"t": invitation_create(participant=panel[0])}).status_code == 302
    )
    page = f"/delphi/{study.code}/round/1/bci/"
    with CaptureQueriesContext(connection) as queries:
        for path, params, headers in (
            (page, {}, {}),
            (page, {"part": "feedback"}, {"HTTP_HX_REQUEST": "true"}),
            (f"/delphi/{study.code}/", {}, {}),
            (f"/api/v1/expert/{study.code}/rounds/1/topics/", {}, {}),
        ):
            assert browser.get(path, params, **headers).status_code == 200, path
    writes = [q["sql"] for q in queries.captured_queries if _is_write(q["sql"])]
    assert writes == []
    assert list(FeedbackSnapshot.objects.order_by("pk").values()) == before
    assert _seen(panel[0], rnd, bci) == (True, 0, None)
    # The next save refreshes it: the state was due, only a write may act on it.
    _rate(panel[4], rnd, bci, "3")
    assert _seen(panel[0], rnd, bci) == (False, 5, {"1": 0, "2": 1, "3": 1, "4": 3, "5": 0})


def _is_write(sql: str) -> bool:
    head = sql.lstrip().split(None, 1)[0].upper()
    return head in ("INSERT", "UPDATE", "DELETE", "COPY") or "FOR UPDATE" in sql.upper()


@pytest.fixture
def releases() -> Iterator[list[dict[str, str]]]:
    """The members of every snapshot released while the test runs (any thread)."""
    released: list[dict[str, str]] = []

    def record(sender: Any, instance: FeedbackSnapshot, update_fields: Any = None, **kwargs: Any) -> None:
        if update_fields and "members" in update_fields:
            released.append(dict(instance.members or {}))

    post_save.connect(record, sender=FeedbackSnapshot, weak=False, dispatch_uid="test-feedback-releases")
    yield released
    post_save.disconnect(sender=FeedbackSnapshot, dispatch_uid="test-feedback-releases")


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.02)


def _waiting_for_the_snapshot_lock() -> int:
    """Backends of this database blocked on a lock while reading a snapshot row (a fresh view per call:
    the main connection is in autocommit)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND wait_event_type = 'Lock' AND position('feedbacksnapshot' in query) > 0"
        )
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_saves_cannot_release_snapshots_closer_than_t(
    transactional_catalog: Any, releases: list[dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """t = 4; three experts have answered.  Rosa's save (the fourth answer) holds the snapshot row while
    Sam's save (the fifth) arrives: Sam waits for the row, then finds one change since Rosa's snapshot
    and releases nothing.  Without the row lock both would compare with "no snapshot yet" and release
    four and five respondents, one apart."""
    study, rnd, bci = _live_study("live-race")
    panel = [make_participant(study, f"e{i}@example.org", topics=["bci"]) for i in range(5)]
    for p in panel[:3]:
        _rate(p, rnd, bci, "4")
    assert releases == []
    rosa, sam = panel[3], panel[4]
    rosa_holds, release_rosa = threading.Event(), threading.Event()
    real_due = disclosure.snapshot_due

    def due_after_sam_waits(**kwargs: Any) -> bool:
        # Called with the snapshot row locked and the answers read: Rosa pauses here until Sam waits.
        if threading.current_thread().name == "rosa" and not rosa_holds.is_set():
            rosa_holds.set()
            if not release_rosa.wait(180):
                raise AssertionError("never released")
        return real_due(**kwargs)

    monkeypatch.setattr(disclosure, "snapshot_due", due_after_sam_waits)
    errors: list[BaseException] = []

    def save(participant: Participant, value: str) -> None:
        try:
            _rate(participant, rnd, bci, value)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=save, args=(rosa, "2"), name="rosa")]
    threads[0].start()
    _wait_for(rosa_holds.is_set, "Rosa's save holds the snapshot row")
    threads.append(threading.Thread(target=save, args=(sam, "5"), name="sam"))
    threads[1].start()
    try:
        _wait_for(lambda: _waiting_for_the_snapshot_lock() == 1, "Sam's save waits for the snapshot row")
    finally:
        release_rosa.set()
        for thread in threads:
            thread.join(180)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert Answer.objects.filter(response__round=rnd, question__key="importance").count() == 5
    assert len(releases) == 1  # Rosa's snapshot, over the first four; Sam's save released nothing
    assert sorted(releases[0]) == sorted(str(p.pk) for p in panel[:4])
    assert _seen(panel[0], rnd, bci) == (False, 4, {"1": 0, "2": 1, "3": 0, "4": 3, "5": 0})
