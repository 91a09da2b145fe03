from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import translate_url
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from foresight.core import roles


def site(request: HttpRequest) -> dict[str, Any]:
    """Language-switch links for the current page (plain links, so they work without JavaScript), and the
    staff consoles the signed-in user's roles open (``staff_nav`` and ``staff_can``; lazily: public pages
    rarely need them)."""
    current = get_language() or "en"
    path = request.get_full_path()
    user = getattr(request, "user", None)
    return {
        "staff_nav": SimpleLazyObject(lambda: roles.staff_nav(user)) if user is not None else [],
        "staff_can": SimpleLazyObject(lambda: roles.staff_can(user)) if user is not None else {},
        "current_language": current,
        "language_links": [
            {"code": "en", "label": "English", "url": translate_url(path, "en"), "active": current == "en"},
            {"code": "zh-hans", "label": "中文", "url": translate_url(path, "zh-hans"), "active": current == "zh-hans"},
        ],
    }
