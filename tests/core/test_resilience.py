"""Without Redis the site keeps serving (uncached) and reports itself degraded; queued work that
cannot be sent is left for the sweeps instead of failing the request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from foresight.core import queue

pytestmark = pytest.mark.django_db
UNREACHABLE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


def test_public_pages_and_magic_links_work_without_the_cache(catalog: Any) -> None:
    from foresight.catalog.models import Topic
    from foresight.delphi.models import Participant
    from foresight.delphi.services.panel import invitation_create
    from foresight.delphi.services.studies import study_create
    from tests.delphi.conftest import make_participant

    study = study_create(title_en="S", horizon_year=2040, topics=list(Topic.objects.all()[:2]), code="s")
    alice: Participant = make_participant(study, "alice@example.org")
    token = invitation_create(participant=alice)
    with override_settings(CACHES=UNREACHABLE, CELERY_TASK_ALWAYS_EAGER=False):
        browser = Client()
        for url in ("/", "/topics/", "/topics/?q=quantum", "/api/v1/topics/"):
            assert browser.get(url).status_code == 200, url
        assert browser.post(f"/delphi/{study.code}/join/", {"t": token}).status_code == 302
        health = browser.get("/health/")
        assert health.status_code == 200 and health.json()["status"] == "degraded"


def test_a_task_that_cannot_be_sent_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    class Unreachable:
        name = "delphi.round_aggregate"

        def delay(self, *args: Any) -> None:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    class Broken:
        name = "delphi.round_aggregate"

        def delay(self, *args: Any) -> None:
            raise ValueError("a bug in the task itself")

    assert queue.send(Unreachable(), 7) is False
    assert "the sweep will queue it" in caplog.text
    with pytest.raises(ValueError):
        queue.send(Broken(), 7)  # only broker errors are absorbed


def test_the_scoring_sweep_requeues_lost_runs(catalog: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from foresight.catalog.models import Topic
    from foresight.delphi.services.studies import study_create
    from foresight.priorities.models import ScoringRun
    from foresight.priorities.services.runs import RUN_STALE_AFTER, scoring_runs_sweep

    sent: list[int] = []
    monkeypatch.setattr(queue, "send", lambda task, *args: sent.append(args[0]) or True)
    study = study_create(title_en="S", horizon_year=2040, topics=list(Topic.objects.all()[:2]), code="s")
    rnd = study.rounds.get(number=1)
    now = timezone.now()

    def run(status: str, **times: Any) -> int:
        made = ScoringRun.objects.create(
            study=study, round=rnd, weights={"importance_index": 1}, seed=1, top_k=1, thresholds={}, status=status
        )
        ScoringRun.objects.filter(pk=made.pk).update(**times)
        return made.pk

    lost_pending = run("pending", created_at=now - timedelta(minutes=5))
    run("pending", created_at=now)  # just created: its task is on the way
    dead_running = run("running", started_at=now - RUN_STALE_AFTER - timedelta(minutes=1))
    run("running", started_at=now)
    run("failed", created_at=now - timedelta(hours=1))
    assert sorted(scoring_runs_sweep(now=now)) == sorted([lost_pending, dead_running])
    assert sorted(sent) == sorted([lost_pending, dead_running])
