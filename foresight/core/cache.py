"""Public page cache, invalidated as a whole whenever curated content changes.

Every cached public response is keyed by a content *version*; any save, delete or relation
change on a model of an app that registered with :func:`invalidate_on_change` (the catalog and the
scenarios), and every edition published, bumps the version (``content_version_bump``), so the next
request renders afresh.

A cached page is stored gzip-compressed (served so to clients that accept it) and answered with a
weak ``ETag`` naming its content and ``Cache-Control: no-cache``: a browser revalidates each time and
gets a bodiless 304 until the content changes.

Every cache call of a page goes through one circuit breaker (:data:`breaker`): after a cache error
(Redis down, or hung: each call then costs the socket timeout) the cache is skipped for
``CACHE_BREAKER_SECONDS`` and pages are rendered from the database at full speed; then one request tries
the cache again, and a success closes the breaker.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.apps import AppConfig
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.middleware.gzip import re_accepts_gzip as accepts_gzip
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.text import compress_string
from django.utils.translation import get_language

from foresight.core.htmx import wants_partial

logger = logging.getLogger(__name__)

VERSION_KEY = "public-content-version"
# Part of every key: entries stored in an earlier layout by an older release are never read.
ENTRY_FORMAT = 3
# Headers that describe one rendering of a page, set afresh on every answer from the cache.
ENTITY_HEADERS = frozenset({"content-length", "content-encoding", "etag", "cache-control"})
# Smaller pages are not worth compressing (the gzip header and the extra header cost about as much).
COMPRESS_MIN_BYTES = 1024

View = Callable[..., HttpResponse]
T = TypeVar("T")


class CacheUnavailable(Exception):
    """The cache (Redis) cannot be reached, or failed a moment ago: pages are rendered without it."""


class CircuitBreaker:
    """Skips the cache for ``cooldown()`` seconds after it failed, so that an unhealthy Redis costs one
    timeout per cooldown instead of one per request.

    Closed (the cache is used) until a call fails; then open (every call fails at once with
    :class:`CacheUnavailable`, the cache untouched) until the cooldown has passed; then the next call
    tries the cache (pushing the retry time on, so concurrent requests keep skipping meanwhile): a success
    closes the breaker, a failure opens it for another cooldown. ``clock`` is injectable for tests.
    """

    def __init__(
        self, cooldown: Callable[[], float] | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._cooldown = cooldown or (lambda: float(settings.CACHE_BREAKER_SECONDS))
        self._clock = clock
        self._retry_at: float | None = None  # None: closed
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        retry_at = self._retry_at
        return retry_at is not None and self._clock() < retry_at

    def call(self, operation: Callable[[], T], *, force: bool = False) -> T:
        """The result of ``operation`` (a cache call), or :class:`CacheUnavailable` if it failed or was
        skipped. ``force``: call the cache even when open (a version bump, the health probe)."""
        if not force:
            with self._lock:
                if self._retry_at is not None:
                    if self._clock() < self._retry_at:
                        raise CacheUnavailable("the cache failed a moment ago: skipped")
                    self._retry_at = self._clock() + self._cooldown()  # this request tries; others skip
        try:
            result = operation()
        except Exception as exc:
            self.failed(exc)
            raise CacheUnavailable(str(exc)) from exc
        self.reset()
        return result

    def failed(self, exc: BaseException | None = None) -> None:
        cooldown = self._cooldown()
        with self._lock:
            was_closed = self._retry_at is None
            self._retry_at = self._clock() + cooldown
        if was_closed:
            logger.warning("cache unreachable: skipped for %s s", cooldown, exc_info=exc)

    def reset(self) -> None:
        with self._lock:
            self._retry_at = None


# One per process: the state of the cache as this process last saw it.
breaker = CircuitBreaker()


def _breaker_reset(*, setting: str, **kwargs: Any) -> None:
    if setting in ("CACHES", "CACHE_BREAKER_SECONDS"):  # another cache (tests): start afresh
        breaker.reset()


setting_changed.connect(_breaker_reset, dispatch_uid="foresight-cache-breaker-reset")


def _read_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = str(time.time_ns())
        cache.add(VERSION_KEY, version, timeout=None)
        version = cache.get(VERSION_KEY, version)
    return str(version)


def content_version() -> str:
    """The current content version; :class:`CacheUnavailable` when the cache is down (or skipped)."""
    return breaker.call(_read_version)


def content_version_bump() -> None:
    """Make every cached public page stale. Runs after commit so readers never cache old data as new.

    Always tried, even while the breaker skips the cache for pages: a bump that is lost while Redis
    is in fact back would leave stale pages. With the cache unreachable there is nothing to make stale
    now; cached pages expire after ``PUBLIC_CACHE_SECONDS`` at the latest, and a Redis that restarts
    empty starts a new version.
    """
    try:
        breaker.call(lambda: cache.set(VERSION_KEY, str(time.time_ns()), timeout=None), force=True)
    except CacheUnavailable:
        logger.warning("public page cache unreachable: version not bumped")


def _on_change(sender: type, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    # Now, so this transaction's own later reads are fresh; and after commit, so a page cached by
    # another reader between the two cannot outlive the change.
    content_version_bump()
    transaction.on_commit(content_version_bump)


def invalidate_on_change(app_config: AppConfig) -> None:
    """Make every cached public page stale whenever a model of this app changes (save, delete, relation).

    Each app whose content the public pages show calls this from its ``AppConfig.ready``, so the cache
    names no app.
    """
    for model in app_config.get_models():
        if model.__name__.startswith("Historical"):
            continue
        uid = f"content-cache-{model._meta.label}"
        post_save.connect(_on_change, sender=model, dispatch_uid=uid + "-save")
        post_delete.connect(_on_change, sender=model, dispatch_uid=uid + "-delete")
        for field in model._meta.local_many_to_many:
            m2m_changed.connect(_on_change, sender=field.remote_field.through, dispatch_uid=f"{uid}-{field.name}")


def _cached(view: View, *, api: bool) -> View:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "GET" or request.user.is_authenticated:
            response = view(request, *args, **kwargs)
            patch_vary_headers(response, ("HX-Request",))
            return response
        is_htmx = wants_partial(request)
        # The API negotiates its format from the Accept header (JSON or the browsable HTML).
        accept = request.headers.get("Accept", "") if api else ""
        try:
            raw = (
                f"{ENTRY_FORMAT}|{content_version()}|{get_language()}|{int(is_htmx)}|{accept}|{request.get_full_path()}"
            )
            key = ("api:" if api else "page:") + hashlib.sha256(raw.encode()).hexdigest()
            cached = breaker.call(lambda: cache.get(key))
        except CacheUnavailable:  # the cache is unreachable (logged by the breaker): serve from the database
            key, cached = "", None
        gzip_ok = bool(accepts_gzip.search(request.headers.get("Accept-Encoding", "")))
        if cached is not None:
            status, headers, body, compressed, digest = cached
            if compressed and not gzip_ok:
                body = gzip.decompress(body)
            response = HttpResponse(body, status=status, headers=headers)
            if compressed and gzip_ok:
                response["Content-Encoding"] = "gzip"
        else:
            response = view(request, *args, **kwargs)
            render = getattr(response, "render", None)
            if render is not None and not getattr(response, "is_rendered", True):
                response = render() or response
            if not key or response.status_code != 200 or response.streaming:
                patch_vary_headers(response, _vary(api))
                return response
            # Stored compressed (once, here: not on every request), so a hit moves a tenth of the bytes
            # through the cache; the rare client that does not accept gzip gets it decompressed.
            # Pages for anonymous visitors hold no secret to leak through compression.
            compressed = len(response.content) >= COMPRESS_MIN_BYTES
            body = compress_string(response.content) if compressed else response.content
            digest = hashlib.sha256(response.content).hexdigest()[:32]
            # The view's own headers (type, Allow, Vary, language) come back with every hit.
            headers = {k: v for k, v in response.items() if k.lower() not in ENTITY_HEADERS}
            entry = (response.status_code, headers, body, compressed, digest)
            try:
                breaker.call(lambda: cache.set(key, entry, timeout=settings.PUBLIC_CACHE_SECONDS))
            except CacheUnavailable:
                pass  # logged by the breaker; the page is served all the same
            if compressed and gzip_ok:
                response.content = body
                response["Content-Length"] = str(len(body))
                response["Content-Encoding"] = "gzip"
        # Named by the page's bytes (not by the content version, which a new release of the templates
        # or a lost version bump would leave unchanged): browsers and proxies revalidate every time (a
        # 304 costs no rendering) and see any change at once.
        response["ETag"] = f'W/"{digest}"'
        patch_cache_control(response, no_cache=True)
        patch_vary_headers(response, (*_vary(api), "Accept-Encoding"))
        # A 304 when the browser's copy is current, else the page itself.
        return get_conditional_response(request, etag=response["ETag"], response=response) or response

    return wrapper


def _vary(api: bool) -> tuple[str, ...]:
    return ("HX-Request", "Accept-Language", "Cookie", *(("Accept",) if api else ()))


def cached_public_page(view: View) -> View:
    """Cache a GET page for anonymous visitors, per language, URL and htmx-ness."""
    return _cached(view, api=False)


def cached_public_api(view: View) -> View:
    """Cache a public API GET for anonymous visitors, per language, URL and ``Accept`` header.

    Only for the public, read-only catalog and edition endpoints: never for the expert API, whose
    sessions are not Django logins.
    """
    return _cached(view, api=True)
