from __future__ import annotations

from celery import shared_task
from django.core.cache import cache


@shared_task(name="core.ping", acks_late=True)
def ping(token: str) -> str:
    """Round-trip probe used by the health check and the worker tests."""
    cache.set(f"ping:{token}", "pong", timeout=60)
    return "pong"
