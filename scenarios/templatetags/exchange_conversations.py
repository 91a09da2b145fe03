"""Hooks of the conversations on other pages: ``{% interest_form entry %}`` on a demand entry's page (a
supplier's editor writes to its owner) and ``{% invite_action demand capability %}`` on a shortlist row (the
owner invites the capability's organisation to respond). Each renders nothing for anyone who may not act."""

from __future__ import annotations

from typing import Any

from django import template

from scenarios.exchange import conversations
from scenarios.exchange.entries import WRITERS
from scenarios.exchange.forms_conversations import InterestForm, InviteToRespondForm
from scenarios.exchange.organisations import role_of
from scenarios.models import Entry

register = template.Library()


@register.inclusion_tag("exchange/_interest_form.html", takes_context=True)
def interest_form(context: template.Context, entry: Entry) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    options = conversations.interest_options(demand=entry, user=user) if entry.pk else []
    return {
        "entry": entry,
        "options": options,
        "choices": [o for o in options if o["conversation"] is None],
        "form": InterestForm(),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("exchange/_invite_action.html", takes_context=True)
def invite_action(context: template.Context, demand: Entry, capability: Entry) -> dict[str, Any]:
    """One query for the role, one for an existing conversation (a shortlist is a handful of rows)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    can = role_of(organisation=demand.organisation, user=user) in WRITERS and capability.organisation_id != (
        demand.organisation_id
    )
    existing = conversations.conversation_for_entries(demand=demand, supplier=capability.organisation) if can else None
    return {
        "can": can,
        "demand": demand,
        "capability": capability,
        "conversation": existing,
        "form": InviteToRespondForm(),
        "csrf_token": context.get("csrf_token"),
    }
