"""A small fixed-window rate limit on the cache (shared by all workers when the cache is Redis)."""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from foresight.core.cache import CacheUnavailable, breaker

logger = logging.getLogger(__name__)


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The client's address. Behind a reverse proxy listed in ``TRUSTED_PROXIES`` (every request then comes
    from the proxy), the last address of ``X-Forwarded-For`` that is not itself a trusted proxy: the one the
    proxy saw; the addresses before it are whatever the client claimed, so they are never used."""
    remote = str(request.META.get("REMOTE_ADDR", "unknown"))
    trusted = set(settings.TRUSTED_PROXIES)
    if remote not in trusted:
        return remote
    for text in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _address(text)
        if address is None:
            break  # a malformed hop: stop at the last address a trusted proxy vouches for
        if address not in trusted:
            return address
    return remote


def limit_reached(*, scope: str, key: str, limit: int) -> bool:
    """True when ``limit`` attempts were already counted in the current window (counts nothing)."""
    try:
        return int(breaker.call(lambda: cache.get(f"ratelimit:{scope}:{key}") or 0)) >= limit
    except CacheUnavailable:
        return False  # as in rate_limited: the cache being down locks nobody out


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
