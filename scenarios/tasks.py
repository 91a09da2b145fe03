"""Celery tasks of the scenarios app: thin wrappers that take ids and call one service (see
foresight/delphi/tasks.py for the conventions)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from scenarios.exchange import matching, pilots

MATCH_OPTIONS: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="scenarios.matches_for_entries", time_limit=600, soft_time_limit=580, **MATCH_OPTIONS)
def matches_for_entries(entry_ids: list[int]) -> int:
    return matching.matches_for_entries(entry_ids=entry_ids)


@shared_task(
    name="scenarios.match_run",
    time_limit=matching.RUN_TIME_LIMIT,
    soft_time_limit=matching.RUN_TIME_LIMIT - 30,
    **MATCH_OPTIONS,
)
def match_run(run_id: int) -> bool:
    return matching.match_run_execute(run_id=run_id)


@shared_task(name="scenarios.match_runs_sweep", time_limit=300, soft_time_limit=280, **MATCH_OPTIONS)
def match_runs_sweep() -> list[int]:
    return matching.match_runs_sweep()


@shared_task(name="scenarios.pilots_remind_stale", time_limit=600, soft_time_limit=570, **MATCH_OPTIONS)
def pilots_remind_stale() -> int:
    """The daily job (beat): remind the organisations of stale pilots, at most once per period each."""
    return pilots.pilots_remind_stale()
