"""The cache's circuit breaker: after a cache error the cache is skipped for a while (pages stay fast while
Redis is unhealthy), then tried again; one success closes it. Driven by an injected clock: no sleeps."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from foresight.core.cache import CacheUnavailable, CircuitBreaker, breaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Backend:
    """A cache operation that fails while ``down`` and counts how often it is really called."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.down:
            raise TimeoutError("Timeout reading from 127.0.0.1:6379")
        return "value"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cb(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(cooldown=lambda: 10.0, clock=clock)


def test_a_healthy_cache_is_always_used(cb: CircuitBreaker) -> None:
    backend = Backend()
    assert [cb.call(backend) for _ in range(3)] == ["value"] * 3
    assert backend.calls == 3 and not cb.is_open


def test_after_an_error_the_cache_is_skipped_for_the_cooldown(cb: CircuitBreaker, clock: Clock) -> None:
    backend = Backend()
    backend.down = True
    with pytest.raises(CacheUnavailable, match="Timeout reading"):
        cb.call(backend)
    assert cb.is_open and backend.calls == 1
    for _ in range(5):  # within the cooldown: no call reaches the cache, each fails at once
        clock.now += 1.9
        with pytest.raises(CacheUnavailable):
            cb.call(backend)
    assert backend.calls == 1


def test_after_the_cooldown_one_try_closes_it_again(cb: CircuitBreaker, clock: Clock) -> None:
    backend = Backend()
    backend.down = True
    with pytest.raises(CacheUnavailable):
        cb.call(backend)
    backend.down = False  # Redis recovers
    clock.now += 9.99
    with pytest.raises(CacheUnavailable):
        cb.call(backend)
    clock.now += 0.02
    assert cb.call(backend) == "value"
    assert not cb.is_open and backend.calls == 2
    assert cb.call(backend) == "value"


def test_a_failed_retry_skips_for_another_cooldown(cb: CircuitBreaker, clock: Clock) -> None:
    backend = Backend()
    backend.down = True
    with pytest.raises(CacheUnavailable):
        cb.call(backend)
    clock.now += 10
    with pytest.raises(CacheUnavailable):
        cb.call(backend)  # the retry, which fails
    assert backend.calls == 2
    clock.now += 9
    with pytest.raises(CacheUnavailable):
        cb.call(backend)
    assert backend.calls == 2


def test_while_one_request_retries_the_others_still_skip(cb: CircuitBreaker, clock: Clock) -> None:
    backend = Backend()
    backend.down = True
    with pytest.raises(CacheUnavailable):
        cb.call(backend)
    clock.now += 10
    seen: list[bool] = []

    def slow_retry() -> str:  # while this try is under way, another request asks
        seen.append(cb.is_open)
        return "value"

    assert cb.call(slow_retry) == "value"
    assert seen == [True]  # the retry is one request's, not every request's at once


def test_a_forced_call_always_reaches_the_cache_and_records_the_outcome(cb: CircuitBreaker) -> None:
    backend = Backend()
    backend.down = True
    with pytest.raises(CacheUnavailable):
        cb.call(backend)
    backend.down = False
    assert cb.call(backend, force=True) == "value"  # e.g. a version bump or the health probe
    assert not cb.is_open and backend.calls == 2


def test_the_cooldown_is_read_from_settings_at_each_failure(clock: Clock) -> None:
    from django.conf import settings

    live = CircuitBreaker(clock=clock)
    backend = Backend()
    backend.down = True
    with override_settings(CACHE_BREAKER_SECONDS=3):
        with pytest.raises(CacheUnavailable):
            live.call(backend)
    clock.now += 3
    assert not live.is_open
    assert settings.CACHE_BREAKER_SECONDS > 0


@pytest.mark.django_db
def test_pages_skip_a_failing_cache_until_the_cooldown_ends(catalog: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The site's breaker: one slow cache error, then pages are served without touching the cache."""
    from django.core.cache import cache

    calls: list[str] = []

    def broken(*args: Any, **kwargs: Any) -> Any:
        calls.append("x")
        raise TimeoutError("Timeout reading from socket")

    clock = Clock()
    monkeypatch.setattr(breaker, "_clock", clock)
    for name in ("get", "set", "add"):
        monkeypatch.setattr(cache, name, broken)
    visitor = Client()
    assert visitor.get("/topics/").status_code == 200
    assert len(calls) == 1  # the first failure opens the breaker: no second attempt in the same request
    for url in ("/", "/topics/", "/api/v1/topics/", "/topics/6g/"):
        assert visitor.get(url).status_code == 200
    assert len(calls) == 1
    clock.now += 3600
    assert visitor.get("/topics/").status_code == 200
    assert len(calls) == 2  # tried again after the cooldown
