"""Requests refused before any view runs, answered in the API's own error format under ``/api/``."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework.response import Response as ApiResponse

from foresight.core.text import positive_int

API_PREFIX = "/api/"
TOO_LARGE = "The request body is too large."


def api_not_found() -> JsonResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def too_large() -> JsonResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    detail = f"{TOO_LARGE[:-1]}: at most {limit:,} bytes." if limit is not None else TOO_LARGE
    return JsonResponse({"detail": detail}, status=413)


class RequestGuardMiddleware:
    """* A NUL byte in the path names nothing on this site: 404 (before a lookup sends it to the database,
      which refuses NUL in text).
    * A body declared larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused under ``/api/`` with 413 and
      a JSON body, before anything reads it.
    * Under ``/api/`` every 404 that the API itself did not answer (no URL matched, in either DEBUG mode)
      is the API's JSON 404, never Django's HTML page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        api = request.path.startswith(API_PREFIX)
        if "\x00" in request.path:
            if api:
                return api_not_found()
            raise Http404("No page has a NUL in its address.")
        if api and _declared_length(request) > _limit():
            return too_large()
        response = self.get_response(request)
        if api and response.status_code == 404 and not isinstance(response, ApiResponse):
            if not response.get("Content-Type", "").startswith("application/json"):
                return api_not_found()
        return response


def _limit() -> float:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return float("inf") if limit is None else limit


def _declared_length(request: HttpRequest) -> int:
    return positive_int(request.META.get("CONTENT_LENGTH") or "") or 0
