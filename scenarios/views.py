"""Public scenario pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from foresight.core.cache import cached_public_page
from foresight.core.listing import filtered_list
from scenarios import selectors
from scenarios.exchange.catalog_release import PROGRAMME_CODE
from scenarios.forms import ScenarioFilterForm

PAGE_SIZE = 24


@require_safe
@cached_public_page
def scenario_list(request: HttpRequest) -> HttpResponse:
    form = ScenarioFilterForm(request.GET)
    return filtered_list(
        request,
        form=form,
        results=lambda: selectors.scenario_list(filters=form.filters()),
        template="scenarios/scenario_list.html",
        page_size=PAGE_SIZE,
    )


@require_safe
@cached_public_page
def scenario_detail(request: HttpRequest, code: str) -> HttpResponse:
    scenario = selectors.scenario_get(code=code)
    groups = selectors.scenario_topics_by_role(scenario=scenario)
    context = {
        "scenario": scenario,
        "groups": groups,
        "entry": selectors.scenario_entry(scenario=scenario),
        "releases": selectors.scenario_releases(scenario=scenario),
        "published_sources": selectors.scenario_published_sources(scenario=scenario)
        if scenario.origin == scenario.Origin.EXCHANGE
        else [],
        "programme_code": PROGRAMME_CODE,
    }
    return render(request, "scenarios/scenario_detail.html", context)
