from __future__ import annotations

from celery import shared_task


@shared_task(name="core.ping", acks_late=True)
def ping(token: str) -> str:
    """Round-trip probe used by the health check and the worker tests."""
    from django.core.cache import cache

    cache.set(f"ping:{token}", "pong", timeout=60)
    return "pong"
