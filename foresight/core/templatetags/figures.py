"""Template filters that print published figures by the one rule of ``foresight.numbers``.

``{{ value|figure:"index" }}`` → ``56.3``; ``{{ share|percent }}`` → ``34.7 %``; a missing figure → ``–``.
The text never depends on the interface language (no localisation of the decimal point), so the
page says what the CSV, the JSON and the chart say.
"""

from __future__ import annotations

from typing import Any

from django import template

from foresight import numbers

register = template.Library()


def _missing(value: Any) -> bool:
    # A variable the template cannot resolve arrives as "" (string_if_invalid).
    return value is None or value == ""


@register.filter
def figure(value: Any, kind: str) -> str:
    """A figure of ``kind`` (see ``foresight.numbers.PRECISION``) at its published precision."""
    return numbers.MISSING if _missing(value) else numbers.display(value, kind)


@register.filter
def percent(value: Any, kind: str = "share") -> str:
    """A 0–1 figure as a percent (a share by default: 1 decimal; ``percent:"probability"``: none)."""
    return numbers.MISSING if _missing(value) else numbers.display(value, kind, percent=True)


@register.filter
def plain(value: Any) -> str:
    """A number that is not a figure (a cut point, an axis tick) in its shortest form: 50.0 → 50."""
    return numbers.MISSING if _missing(value) else numbers.plain(value)
