"""Pilot pieces other pages show with one line: ``{% load pilot_tags %}{% entry_pilots entry %}`` on an
entry's page (its pilots for whoever may see them, and "Open a pilot" for the owner's editors),
``{% scenario_pilots scenario %}`` and ``{% organisation_pilots organisation %}`` on the public pages
(published pilots, verified stage changes only)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from scenarios.exchange import pilot_selectors as selectors
from scenarios.exchange import pilots as svc
from scenarios.models import Entry, Organisation, PilotStageChange, Scenario

register = template.Library()


def _user(context: template.Context) -> Any:
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


@register.inclusion_tag("exchange/_entry_pilots.html", takes_context=True)
def entry_pilots(context: template.Context, entry: Entry) -> dict[str, Any]:
    user = _user(context)
    if entry.kind != Entry.Kind.DEMAND or entry.pk is None:
        return {"entry": entry, "pilots": [], "public": [], "can_open": False}
    visible = selectors.pilots_of_entry_for_user(entry=entry, user=user)
    readable = [p for p in visible if svc.can_read(pilot=p, user=user)]
    return {
        "entry": entry,
        "pilots": readable,
        "public": selectors.pilots_public_for_entry(entry=entry),
        "can_open": svc.can_open(demand=entry, user=user),
    }


@register.inclusion_tag("exchange/_pilot_timelines.html")
def scenario_pilots(scenario: Scenario) -> dict[str, Any]:
    return {"pilots": selectors.pilots_public_for_scenario(scenario=scenario)}


@register.inclusion_tag("exchange/_pilot_timelines.html")
def organisation_pilots(organisation: Organisation) -> dict[str, Any]:
    return {"pilots": selectors.pilots_public_for_organisation(organisation=organisation)}


@register.filter
def note(change: PilotStageChange) -> str:
    """A stage change's note in the active language (the other one when it has none)."""
    zh = (get_language() or "").lower().startswith("zh")
    first, second = (change.note_zh, change.note_en) if zh else (change.note_en, change.note_zh)
    return first or second
