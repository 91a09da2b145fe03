"""Public catalog pages: home, direction, area, topic list with search and filters, topic."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from foresight.catalog import selectors
from foresight.catalog.forms import TopicFilterForm
from foresight.core.cache import cached_public_page
from foresight.core.htmx import wants_partial
from scenarios import selectors as scenario_selectors
from scenarios.selectors import ScenarioFilters

PAGE_SIZE = 24


@require_GET
@cached_public_page
def home(request: HttpRequest) -> HttpResponse:
    directions = selectors.direction_list()
    scenarios = scenario_selectors.scenario_list(filters=ScenarioFilters())[:6]
    return render(request, "catalog/home.html", {"directions": directions, "scenarios": scenarios})


@require_GET
@cached_public_page
def direction_detail(request: HttpRequest, slug: str) -> HttpResponse:
    direction = selectors.direction_get(slug=slug)
    return render(request, "catalog/direction_detail.html", {"direction": direction})


@require_GET
@cached_public_page
def area_detail(request: HttpRequest, slug: str) -> HttpResponse:
    area = selectors.area_get(slug=slug)
    return render(request, "catalog/area_detail.html", {"area": area})


@require_GET
@cached_public_page
def topic_list(request: HttpRequest) -> HttpResponse:
    form = TopicFilterForm(request.GET)
    status = 200
    if form.is_valid():
        topics = selectors.topic_list(filters=form.filters())
    else:
        topics = selectors.topic_list(filters=selectors.TopicFilters()).none()
        status = 400
    page = Paginator(topics, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    template = "catalog/topic_list.html#results" if wants_partial(request) else "catalog/topic_list.html"
    return render(request, template, context, status=status)


@require_GET
@cached_public_page
def topic_detail(request: HttpRequest, code: str) -> HttpResponse:
    topic = selectors.topic_get(code=code)
    return render(request, "catalog/topic_detail.html", {"topic": topic})
