"""How people read a withheld figure or a stand-in: the disclosure layer's codes as translated text.

``foresight.disclosure`` (pure) gives every figure it withholds a reason code; the pages, the staff
console and the workbench show these words, the exports write the codes as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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

CRITERION_LABELS = {
    "importance_index": _("Importance index"),
    "importance_index_high": _("Importance among high-expertise respondents"),
    "importance_index_weighted": _("Expertise-weighted importance"),
    "competitiveness_gap": _("Competitiveness gap"),
    "timing": _("Earliness of realisation within the horizon"),
    "scenario_pull": _("Scenario pull"),
    "policy_list": _("Policy-list membership"),
}


def reason_label(code: str | None) -> str:
    """The words for a reason code ("" for none; an unknown code as it is)."""
    if not code:
        return ""
    return str(REASON_LABELS.get(code, code))


def fallback_label(fallback: Mapping[str, Any]) -> str:
    """One stand-in of the score, e.g. "Importance among high-expertise respondents: the all-respondent
    index stands in (too few respondents)"."""
    name = CRITERION_LABELS.get(str(fallback.get("criterion")), str(fallback.get("criterion")))
    if fallback.get("used") == "importance_index":
        used = _("the all-respondent index stands in")
    else:
        used = _("counts as the lowest value")
    return f"{name}: {used} ({reason_label(fallback.get('reason'))})"
