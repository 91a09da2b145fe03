"""Celery tasks of the priorities app: thin wrappers that take ids and call one service."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from foresight.priorities.services import runs

TASK_OPTIONS: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="priorities.scoring_run", time_limit=3600, soft_time_limit=3540, **TASK_OPTIONS)
def scoring_run(run_id: int) -> bool:
    """Compute a scoring run (queued by scoring_run_create); a no-op if it is gone, running or done."""
    return runs.scoring_run_execute(run_id=run_id)


@shared_task(name="priorities.scoring_runs_sweep", time_limit=300, soft_time_limit=280, **TASK_OPTIONS)
def scoring_runs_sweep() -> list[int]:
    return runs.scoring_runs_sweep()
