"""A small fixed-window rate limit on the cache (shared by all workers when the cache is Redis)."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def rate_limited(*, scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one attempt; True once more than ``limit`` attempts were made in the current window."""
    cache_key = f"ratelimit:{scope}:{key}"
    cache.add(cache_key, 0, timeout=window_seconds)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window_seconds)
        count = 1
    return count > limit
