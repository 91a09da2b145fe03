from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import translate_url
from django.utils.translation import get_language


def site(request: HttpRequest) -> dict[str, Any]:
    """Language-switch links for the current page (plain links, so they work without JavaScript)."""
    current = get_language() or "en"
    path = request.get_full_path()
    return {
        "current_language": current,
        "language_links": [
            {"code": "en", "label": "English", "url": translate_url(path, "en"), "active": current == "en"},
            {"code": "zh-hans", "label": "中文", "url": translate_url(path, "zh-hans"), "active": current == "zh-hans"},
        ],
    }
