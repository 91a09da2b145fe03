"""``{% matching_panel entry %}``: an entry's matches and shortlist on its page, for those who may see them."""

from __future__ import annotations

from typing import Any

from django import template

from scenarios.exchange.views_matching import matching_panel_context

register = template.Library()


@register.inclusion_tag("exchange/_matching_panel.html", takes_context=True)
def matching_panel(context: Any, entry: Any) -> dict[str, Any]:
    request = context.get("request")
    if request is None:
        return {"show": False}
    panel = matching_panel_context(request=request, entry=entry)
    panel["request"] = request
    panel["csrf_token"] = context.get("csrf_token")
    return panel
