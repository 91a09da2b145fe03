"""The words for the priority concepts: criteria of the score, matrix quadrants, and a criterion's stand-in.

One wording each, translated through gettext (locale/zh_Hans): the workbench, the public pages, the
exports and the rationales written from the numbers (``services.publishing``) all read them here.
The keys are those of ``services.runs.CRITERIA`` and ``scoring.quadrant_competitiveness`` /
``scoring.quadrant_timing``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from foresight.core.reasons import reason_label

CRITERION_LABELS: dict[str, Any] = {
    "importance_index": _("Importance index"),
    "importance_index_high": _("Importance among high-expertise respondents"),
    "importance_index_weighted": _("Expertise-weighted importance"),
    "competitiveness_gap": _("Competitiveness gap"),
    "timing": _("Earliness of realisation within the horizon"),
    "scenario_pull": _("Scenario pull"),
    "policy_list": _("Policy-list membership"),
}

# Importance × competitiveness, then importance × time to realisation (scoring.quadrant_*).
QUADRANT_LABELS: dict[str, Any] = {
    "strengthen": _("Strengthen"),
    "lead_maintain": _("Lead / maintain"),
    "watch": _("Hold"),
    "deprioritise": _("Deprioritise"),
    "act_now": _("Act now"),
    "build_up": _("Build up"),
    "adopt": _("Adopt"),
    "monitor": _("Monitor"),
}
QUADRANT_MEANINGS: dict[str, Any] = {
    "strengthen": _("important, current position weak"),
    "lead_maintain": _("important, current position strong"),
    "watch": _("less important, current position strong"),
    "deprioritise": _("less important, current position weak"),
    "act_now": _("important, realised within the plan period"),
    "build_up": _("important, realised after the plan period"),
    "adopt": _("less important, realised within the plan period"),
    "monitor": _("less important, realised after the plan period"),
}
COMPETITIVENESS_QUADRANTS = ("strengthen", "lead_maintain", "watch", "deprioritise")
TIMING_QUADRANTS = ("act_now", "build_up", "adopt", "monitor")


def criterion_label(name: str) -> str:
    """A criterion of the score in the active language (an unknown name as it is)."""
    return str(CRITERION_LABELS.get(name, name))


def quadrant_label(key: str) -> str:
    """A quadrant's name in the active language, e.g. "Strengthen" (an unknown key as it is)."""
    return str(QUADRANT_LABELS.get(key, key))


def quadrant_labels(keys: tuple[str, ...] = COMPETITIVENESS_QUADRANTS) -> dict[str, str]:
    """Key → name of the quadrants of one matrix (importance × competitiveness unless told), in order."""
    return {key: quadrant_label(key) for key in keys}


def quadrant_explained(key: str) -> str:
    """A quadrant's name with what it means, e.g. "Strengthen (important, current position weak)"."""
    return gettext("%(quadrant)s (%(meaning)s)") % {"quadrant": quadrant_label(key), "meaning": QUADRANT_MEANINGS[key]}


def fallback_label(fallback: Mapping[str, Any]) -> str:
    """One stand-in of the score, e.g. "Importance among high-expertise respondents: the all-respondent
    index stands in (too few respondents)"."""
    name = criterion_label(str(fallback.get("criterion")))
    if fallback.get("used") == "importance_index":
        used = gettext("the all-respondent index stands in")
    else:
        used = gettext("counts as the lowest value")
    return f"{name}: {used} ({reason_label(fallback.get('reason'))})"
