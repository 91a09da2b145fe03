"""How a rationale written from the numbers opens, and which tier a text so written argues for.

``services.publishing`` writes rationales from a topic's numbers (the demo and ``simulate_study --publish``
publish them; a correction may copy them into a draft). Each opens by naming its tier: "Priority, as the
numbers suggest: …", "依据数据建议列为“优先”：…", "Insufficient evidence: …". ``services.editions`` reads
that opening to refuse a decision whose tier differs from the one such a text argues for, in either language.
"""

from __future__ import annotations

from django.utils import translation

from foresight.priorities.labels import LOCALES
from foresight.priorities.models import Tier

__all__ = ["LOCALES", "generated_lead", "generated_tier", "tier_label"]


def tier_label(tier: str, lang: str) -> str:
    """A tier's name in a rationale's language ("en" or "zh"), whatever the active language."""
    with translation.override(LOCALES[lang]):
        return str(Tier(tier).label)


def generated_lead(tier: str, lang: str) -> str:
    """The opening of a rationale written from the numbers for ``tier`` (what follows it is the evidence)."""
    label = tier_label(tier, lang)
    if tier == Tier.INSUFFICIENT:
        return f"{label}: " if lang == "en" else f"{label}："
    return f"{label}, as the numbers suggest: " if lang == "en" else f"依据数据建议列为“{label}”："


def generated_tier(text: str) -> str | None:
    """The tier a rationale written from the numbers argues for (English or Chinese), or None for a text
    that does not open like one, i.e. one a person wrote."""
    text = text.strip()
    for tier in Tier.values:
        for lang in LOCALES:
            if text.startswith(generated_lead(tier, lang).strip()):
                return tier
    return None
