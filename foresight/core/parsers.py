"""The API's request parsers: DRF's, with limits on what a body may hold.

Kept apart from ``foresight.core.api``: DRF reads ``DEFAULT_PARSER_CLASSES`` while its views module is
being imported, so this module must not import the views.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers
from rest_framework.utils import json

from foresight.core.middleware import TOO_LARGE


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = TOO_LARGE
    default_code = "too_large"


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with two limits: the body is read up to ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes
    (413 beyond), and arrays and objects nest at most ``max_depth`` levels (400 deeper: a body nested
    thousands of levels deep would exhaust the parser's recursion)."""

    max_depth = 20

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]  # not in the stubs
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise BodyTooLarge()
        try:
            text = raw.decode(encoding)
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except RecursionError:
            raise exceptions.ParseError(self.too_deep()) from None
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        if _depth(data) > self.max_depth:
            raise exceptions.ParseError(self.too_deep())
        return data

    def too_deep(self) -> str:
        return f"JSON nested more than {self.max_depth} levels deep."


def _depth(data: Any) -> int:
    """How deep arrays and objects nest in ``data`` (0 for a scalar), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in node)
    return deepest
