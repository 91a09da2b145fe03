"""Celery tasks of the scenario exchange: thin wrappers that take ids and call a service (see
foresight/delphi/tasks.py for the conventions)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from scenarios.exchange import pilots

TASK_OPTIONS: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="scenarios.pilots_remind_stale", time_limit=600, soft_time_limit=570, **TASK_OPTIONS)
def pilots_remind_stale() -> int:
    """The daily job (beat): remind the organisations of stale pilots, at most once per period each."""
    return pilots.pilots_remind_stale()
