"""The words for the priority concepts: criteria of the score, matrix quadrants, a criterion's stand-in,
a figure that is not shown, and an edition's default title.

One wording each, translated through gettext (locale/zh_Hans): the workbench, the public pages, the
exports and the rationales written from the numbers (``services.publishing``) all read them here.
The keys are those of ``services.runs.CRITERIA`` and ``scoring.quadrant_competitiveness`` /
``scoring.quadrant_timing``. Text written in both languages at once (a rationale, a default title)
renders each under ``translation.override(LOCALES[lang])``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from foresight.core.reasons import reason_label

# Texts written in both languages whatever the request's (rationales, default titles): the gettext locale of each.
LOCALES = {"en": "en", "zh": "zh-hans"}

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
# How scenario pull is computed (``scenarios.pull``), as the workbench, the edition page and its method note say it.
SCENARIO_PULL_FORMULA = _(
    "Scenario pull = D + P. D (published demand): for each published scenario that needs the topic and is not a "
    "capability listing, role weight (core 1, enabling 0.6, complementary 0.3) × (1 + log10(1 + the number of "
    "sites its released entry states)). P (pilots): for each pilot of those scenarios, role weight × the weight "
    "of its verified stage (opened 1, pilot 2, demonstration 3, scaling 4, mainstream 5; stopped 0); a stage "
    "counts only once a curator has verified its evidence. The panel's rating of how strongly the scenarios "
    "demand the topic is not part of it yet: experts do not rate scenarios yet."
)
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


# A stand-in as a rationale's sentence says it, e.g. "For timing, it counts as the lowest value (…)."
FALLBACK_SENTENCES: dict[str, Any] = {
    "importance_index": _("For %(criterion)s, the all-respondent importance index stands in (%(reason)s)."),
    "lowest": _("For %(criterion)s, it counts as the lowest value (%(reason)s)."),
}


def mid_sentence(text: str) -> str:
    """A label as it reads inside a sentence: "Strengthen" → "strengthen" (Chinese has no case: unchanged)."""
    return text[:1].lower() + text[1:]


def fallback_sentence(fallback: Mapping[str, Any]) -> str:
    """One stand-in of the score as a sentence of a rationale written from the numbers."""
    sentence = FALLBACK_SENTENCES["importance_index" if fallback.get("used") == "importance_index" else "lowest"]
    return str(sentence) % {
        "criterion": mid_sentence(criterion_label(str(fallback.get("criterion")))),
        "reason": reason_label(fallback.get("reason")),
    }


def fallback_count_label(criterion: str, count: int) -> str:
    """How many topics a criterion's stand-in served, e.g. "Timing: 3 topics use the all-respondent index or
    the lowest value instead" (``criterion``: its label, as it should read here)."""
    return gettext("%(name)s: %(n)s topics use the all-respondent index or the lowest value instead") % {
        "name": criterion,
        "n": count,
    }


def not_shown(reason: str | None) -> str:
    """A figure that is withheld, with why, e.g. "not shown (too few respondents)"."""
    return gettext("not shown (%(why)s)") % {"why": reason_label(reason)}


def edition_titles(*, title_en: str, title_zh: str = "") -> dict[str, str]:
    """The default titles of a study's edition ("Priority directions: …"), English and, when the study has a
    Chinese title, Chinese; as ``title_en`` / ``title_zh`` keyword arguments."""
    titles = {}
    for lang, study_title in (("en", title_en), ("zh", title_zh)):
        with translation.override(LOCALES[lang]):
            titles[f"title_{lang}"] = gettext("Priority directions: %(study)s") % {"study": study_title}
    if not title_zh:
        titles["title_zh"] = ""
    return titles
