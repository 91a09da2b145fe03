"""Small formatting filters for the questionnaire (numbers come from ``foresight.stats``; this only prints them)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def percent(share: Any) -> str:
    """0.375 → "38 %"; None → "–"."""
    if share is None or share == "":
        return "–"
    return f"{number_format(round(float(share) * 100))} %"


@register.filter
def num(value: Any) -> str:
    """A statistic for display: integers without decimals, others to one decimal; None → "–"."""
    if value is None or value == "":
        return "–"
    value = float(value)
    if value.is_integer():
        return str(int(value))
    return number_format(round(value, 1), decimal_pos=1)
