"""Small formatting filters for the questionnaire and the staff console (numbers come from ``foresight.stats``
through ``foresight.disclosure``; this only prints them, and says in words why one is not shown)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from foresight import disclosure, numbers
from foresight.core.reasons import REASON_LABELS

register = template.Library()


@register.filter
def zoned(moment: Any, fmt: str = "DATETIME_FORMAT") -> str:
    """A time as experts see it: in the site's time zone (``TIME_ZONE``), formatted for the active language,
    followed by the zone's abbreviation: "March 5, 2027, 5 p.m. UTC", "2027年3月5日 17:00 UTC".
    ``fmt`` is a format name or a ``date`` format (``{{ saved_at|zoned:"H:i:s" }}``); None → ""."""
    if moment is None or moment == "":
        return ""
    local = timezone.localtime(moment)
    return f"{formats.date_format(local, fmt)} {local.tzname()}"


@register.filter
def percent(share: Any) -> str:
    """0.375 → "37.5 %"; None → "–" (``foresight.numbers``: the one rule for every number shown)."""
    if share is None or share == "":
        return "–"
    return numbers.display(float(share), "share", percent=True)


# Why a figure is not shown (``foresight.disclosure`` reason codes), in the interface's language.
REASONS = REASON_LABELS  # one wording of the disclosure layer's codes (foresight.core.reasons)
# The same code said more precisely where the figure is a round-to-round change or Kendall's W.
REASONS_OF = {
    "change": {disclosure.SMALL_GROUP: _("too few respondents answered both rounds")},
    "kendall": {disclosure.SMALL_GROUP: _("too few experts rated every topic of the area")},
}


@register.filter
def reason(code: Any, figure: str = "") -> str:
    """A withheld figure's reason code in words: ``{{ row.change_reason|reason:"change" }}``."""
    if not code:
        return ""
    text = REASONS_OF.get(figure, {}).get(code) or REASONS.get(code)
    return str(text) if text is not None else str(code)


@register.filter
def reasons(codes: Any) -> str:
    """Several reason codes in words, joined: ``{{ verdict.reasons|reasons }}``."""
    return "; ".join(reason(code) for code in codes or ())
