"""A real Celery worker process picks up work queued through Redis."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from django.core.cache import cache

from foresight.core.tasks import ping


@pytest.mark.worker
def test_the_worker_runs_queued_tasks(celery_worker_process: dict[str, str], transactional_db: Any) -> None:
    token = uuid.uuid4().hex
    ping.delay(token)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and cache.get(f"ping:{token}") is None:
        time.sleep(0.2)
    assert cache.get(f"ping:{token}") == "pong"


def test_health_reports_ok_with_services(client: Any, db: None) -> None:
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "broker": True}
