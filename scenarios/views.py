"""Public scenario pages."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from foresight.core.cache import cached_public_page
from foresight.core.htmx import wants_partial
from scenarios import selectors
from scenarios.forms import ScenarioFilterForm

PAGE_SIZE = 24


@require_GET
@cached_public_page
def scenario_list(request: HttpRequest) -> HttpResponse:
    form = ScenarioFilterForm(request.GET)
    status = 200
    if form.is_valid():
        scenarios = selectors.scenario_list(filters=form.filters())
    else:
        scenarios = selectors.scenario_list(filters=selectors.ScenarioFilters()).none()
        status = 400
    page = Paginator(scenarios, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    template = "scenarios/scenario_list.html#results" if wants_partial(request) else "scenarios/scenario_list.html"
    return render(request, template, context, status=status)


@require_GET
@cached_public_page
def scenario_detail(request: HttpRequest, code: str) -> HttpResponse:
    scenario = selectors.scenario_get(code=code)
    groups = selectors.scenario_topics_by_role(scenario=scenario)
    return render(request, "scenarios/scenario_detail.html", {"scenario": scenario, "groups": groups})
