"""Shared REST plumbing: pagination and the one error contract of the API."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, pagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map service-layer Django errors onto DRF responses (services raise Django exceptions)."""
    if isinstance(exc, DjangoValidationError):
        detail: Any
        if hasattr(exc, "message_dict"):
            detail = exc.message_dict
        else:
            detail = {"detail": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)
