"""Operational endpoints: health, and the JSON 404 of the API."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.defaults import page_not_found

from foresight.core.cache import CacheUnavailable, breaker


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except Exception:  # any driver error means "down" here
        connection.close_if_unusable_or_obsolete()
        return False


def _broker_ok() -> bool:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return True

    def probe() -> bool:
        cache.set("health:probe", "1", timeout=10)
        return bool(cache.get("health:probe") == "1")

    # Always asked (never skipped by the breaker), at most the cache's socket timeout per call; the
    # outcome opens or closes the breaker that the pages follow.
    try:
        return breaker.call(probe, force=True)
    except CacheUnavailable:  # Redis down, unreachable or not answering
        return False


@require_safe
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """200 "ok" when all is well, 200 "degraded" without Redis (answers are still saved), 503 without the database."""
    db = _database_ok()
    broker = _broker_ok()
    if not db:
        status, code = "down", 503
    elif not broker:
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, "database": db, "broker": broker}, status=code)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 as JSON under ``/api/`` (the API's one error contract), Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """The site's icon, resolved when asked (the static manifest may not exist when the URLs load)."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
