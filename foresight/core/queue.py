"""Queueing Celery work after commit without ever failing the request that caused it.

Answers and state changes are committed first; the task is then sent. If the broker (Redis) cannot
be reached, the send is logged and dropped: every such task has a periodic sweep that finds the
work from the database state (a closed round not yet aggregated, a pending scoring run) and queues
it again once the broker is back. Errors raised by a task itself (eager mode) still propagate.

Services name the task they queue ("delphi.round_aggregate") rather than import it: a tasks module
imports the services it runs, so the services importing it back would be a cycle. Each app's
``AppConfig.ready`` imports its tasks module, so every task is registered wherever Django runs.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

BROKER_ERRORS = (BrokerError, RedisConnectionError, RedisTimeoutError, ConnectionRefusedError)


def task_get(name: str) -> Any:
    """The registered Celery task of that name."""
    return current_app.tasks[name]


def send(task: Any, *args: Any) -> bool:
    """Send now (a task, or the name it is registered under); False (and a warning) if the broker is unreachable."""
    if isinstance(task, str):
        task = task_get(task)
    try:
        task.delay(*args)
    except BROKER_ERRORS:
        logger.warning(
            "broker unreachable: %s%r not queued now; the sweep will queue it", task.name, args, exc_info=True
        )
        return False
    return True


def send_on_commit(task: Any, *args: Any) -> None:
    """Send after the current transaction commits (immediately outside one); ``task`` as for :func:`send`."""
    transaction.on_commit(lambda: send(task, *args))
