"""Shared REST plumbing: pagination, the one error contract of the API and the query of the similarity
endpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, pagination, serializers
from rest_framework.fields import empty
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from foresight.core import errors
from foresight.core.cache import cached_public_api
from foresight.core.parsers import BodyTooLarge
from foresight.core.text import positive_int


class CachedPublicRead:
    """Mixin for the public read-only viewsets: anonymous GETs are served from the page cache, keyed by
    the content version (bumped when curators change the catalog or an edition is published)."""

    @classmethod
    def as_view(cls, *args: Any, **kwargs: Any) -> Any:
        # A mixin: super() is the DRF view class it is mixed into, which the checker cannot see here.
        return cached_public_api(super().as_view(*args, **kwargs))  # type: ignore[misc]  # super() of a mixin


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        _validated_page(request, self.page_query_param)
        raw_size = request.query_params.get(self.page_size_query_param)
        if raw_size is not None and positive_int(raw_size, maximum=self.max_page_size) is None:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"An integer from 1 to {self.max_page_size}."]}
            )
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.page_query_param:
                param["schema"]["minimum"] = 1
                param["schema"]["maximum"] = 10**18 - 1  # positive_int reads at most 18 digits
            if param["name"] == self.page_size_query_param:
                param["schema"].update({"minimum": 1, "maximum": self.max_page_size})
        return params


class ConflictError(exceptions.APIException):
    status_code = 409
    default_detail = "The object's state refuses this request."
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Service errors (``foresight.core.errors``) become API errors with the status and the message
    the HTML views give: 400 with the field messages, 409 for a conflict, 403 with the reason."""
    if isinstance(exc, DjangoValidationError):
        status = errors.error_status(exc)
        if status == 409:
            exc = ConflictError(
                detail=errors.field_errors(exc) if hasattr(exc, "error_dict") else errors.error_message(exc)
            )
        else:
            exc = exceptions.ValidationError(detail=errors.field_errors(exc))
    elif isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(errors.error_message(exc) or None)
    return drf_exception_handler(exc, context)


def _validated_page(request: Any, param: str) -> None:
    raw = request.query_params.get(param)
    if raw is None:
        return
    if positive_int(raw) is None:
        raise exceptions.ValidationError({param: ["A page number is a positive integer."]})


class StrictFilterSet(django_filters.FilterSet):
    """A filter set that refuses an empty value for a choice or a catalog slug (``?status=``, ``?direction=``)
    instead of ignoring it."""

    def is_valid(self) -> bool:
        valid = bool(super().is_valid())
        for name, flt in self.filters.items():
            # A choice, or a value checked against the catalog (a filter with validators): "" names nothing.
            named = isinstance(flt, django_filters.ChoiceFilter) or bool(flt.extra.get("validators"))
            if named and name in self.data and self.data.get(name) == "":
                self.form.add_error(name, "Choose one of the allowed values, or leave the parameter out.")
                valid = False
        return valid


def known_value(rows: Callable[[], QuerySet[Any]], key: str) -> Callable[[str], None]:
    """A filter validator: the value names a row of ``rows()`` by ``key`` (one query, only when the parameter
    is given), so an unknown slug or code is a 400 with a message rather than an empty list."""

    def check(value: str) -> None:
        # Text no slug can hold is refused before it reaches the database (which refuses NUL outright).
        if "\x00" in value or len(value) > 200 or not rows().filter(**{key: value}).exists():
            raise DjangoValidationError(
                "Choose one of the allowed values, or leave the parameter out.", code="invalid_choice"
            )

    return check


class PositiveIntField(serializers.Field[int, int, int, Any]):
    """A whole number from 1 to ``maximum`` in a query string, read by the one rule of ``positive_int``
    (ASCII digits only: ``²`` or ``３`` is refused, not read as a number)."""

    default_error_messages = {"invalid": _("An integer from 1 to {maximum}.")}

    def __init__(self, *, maximum: int, **kwargs: Any) -> None:
        self.maximum = maximum
        super().__init__(**kwargs)

    def get_value(self, dictionary: Any) -> Any:
        # Given empty (``?limit=``), it is refused like ``?page=``: DRF would read an empty form value as absent.
        return dictionary.get(self.field_name, empty)

    def to_internal_value(self, data: Any) -> int:
        value = positive_int(data if isinstance(data, str) else None, maximum=self.maximum)
        if value is None:
            self.fail("invalid", maximum=self.maximum)
        return value

    def to_representation(self, value: int) -> int:
        return value


SIMILAR_TEXT_MAX = 2000
SIMILAR_LIMIT_MAX = 50


class SimilarQuerySerializer(serializers.Serializer[Any]):
    """The query of a similarity endpoint (``/api/v1/topics/similar/``, ``/api/v1/scenarios/similar/``):
    a text of 1 to 2,000 characters once surrounding spaces are stripped, without NUL (DRF's ``CharField``
    refuses it), and how many results, 1 to 50."""

    text = serializers.CharField(max_length=SIMILAR_TEXT_MAX)
    limit = PositiveIntField(maximum=SIMILAR_LIMIT_MAX, required=False, default=10)


def similar_response(
    request: Any,
    *,
    search: Callable[[str, int], list[tuple[Any, float]]],
    row: Callable[[Any], dict[str, Any]],
    serializer: type[serializers.Serializer[Any]],
) -> Response:
    """A similarity endpoint's answer: the query checked (400 naming the field), ``search(text, limit)``'s
    ``(object, score)`` pairs, each as ``row(object)`` with its score, in the endpoint's own serializer."""
    query = SimilarQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    text = query.validated_data["text"]
    results = [{**row(found), "score": score} for found, score in search(text, query.validated_data["limit"])]
    return Response(serializer({"query": text, "results": results}).data)


SIMILAR_PARAMETERS = [
    OpenApiParameter(
        "text",
        {"type": "string", "minLength": 1, "maxLength": SIMILAR_TEXT_MAX},
        required=True,
        description="The text to compare: English, Chinese or both; surrounding spaces are ignored.",
    ),
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": SIMILAR_LIMIT_MAX, "default": 10},
        description="How many results at most.",
    ),
]
