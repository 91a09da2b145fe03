"""A small fixed-window rate limit on the cache (shared by all workers when the cache is Redis)."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.http import HttpRequest

from foresight.core.cache import CacheUnavailable, breaker

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def rate_limited(*, scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one attempt; True once more than ``limit`` attempts were made in the current window."""
    cache_key = f"ratelimit:{scope}:{key}"

    def count() -> int:
        cache.add(cache_key, 0, timeout=window_seconds)
        try:
            return int(cache.incr(cache_key))
        except ValueError:  # expired between add and incr
            cache.set(cache_key, 1, timeout=window_seconds)
            return 1

    try:
        return breaker.call(count) > limit
    except CacheUnavailable:
        # The cache (Redis) is unreachable, or failed a moment ago: let the attempt through rather than
        # lock every expert out; the tokens themselves (256 bits, single use) keep guessing useless.
        logger.warning("rate limit cache unreachable; allowing the attempt")
        return False
