"""How people read a withheld figure: the disclosure layer's codes as translated text.

``foresight.disclosure`` (pure) gives every figure it withholds a reason code; the pages, the staff
console and the workbench show these words, the exports write the codes as they are. (A criterion's
stand-in is worded by ``foresight.priorities.labels.fallback_label``.)
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from foresight import disclosure

REASON_LABELS = {
    disclosure.SMALL_GROUP: _("too few respondents"),
    disclosure.SMALL_COMPLEMENT: _("the other respondents would form too small a group"),
    disclosure.SMALL_WEIGHT_CLASS: _("an expertise group is too small"),
    disclosure.SMALL_OVERLAP: _("it overlaps another figure shown in too few respondents"),
    disclosure.ATTRITION: _("too few respondents left or joined between rounds"),
    disclosure.SINCE_FEEDBACK: _("too few answers changed since the last live feedback"),
    disclosure.MIN_EVIDENCE: _("fewer high-expertise respondents than the study's minimum"),
    disclosure.NOT_ASKED: _("not asked"),
}


def reason_label(code: str | None) -> str:
    """The words for a reason code ("" for none; an unknown code as it is)."""
    if not code:
        return ""
    return str(REASON_LABELS.get(code, code))
