"""Public catalog pages: a direction with its areas and topics, an area with its topics.

The home page, the topic list and the topic page show scenarios and editions too, so they live one layer up,
in ``foresight.public.views``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from foresight.catalog import selectors
from foresight.core.cache import cached_public_page


@require_safe
@cached_public_page
def direction_detail(request: HttpRequest, slug: str) -> HttpResponse:
    direction = selectors.direction_get(slug=slug)
    return render(request, "catalog/direction_detail.html", {"direction": direction})


@require_safe
@cached_public_page
def area_detail(request: HttpRequest, slug: str) -> HttpResponse:
    area = selectors.area_get(slug=slug)
    return render(request, "catalog/area_detail.html", {"area": area})
