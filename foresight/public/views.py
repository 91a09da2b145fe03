"""The public pages that compose apps: the home page (directions, scenarios, the latest edition), the topic
list (filtered by scenario setting too) and the topic page (its scenarios and its history across editions)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from foresight.catalog import selectors as catalog_selectors
from foresight.core.cache import cached_public_page
from foresight.core.listing import filtered_list
from foresight.priorities.selectors import editions as priority_selectors
from foresight.public import selectors
from foresight.public.forms import TopicFilterForm
from scenarios import selectors as scenario_selectors
from scenarios.models import Pilot
from scenarios.selectors import ScenarioFilters

PAGE_SIZE = 24


@require_safe
@cached_public_page
def home(request: HttpRequest) -> HttpResponse:
    directions = catalog_selectors.direction_list()
    scenarios = scenario_selectors.scenario_list(filters=ScenarioFilters())[:6]
    latest_edition = priority_selectors.edition_latest()  # SPEC §7: the home shows the latest edition
    return render(
        request,
        "public/home.html",
        {"directions": directions, "scenarios": scenarios, "latest_edition": latest_edition},
    )


@require_safe
@cached_public_page
def topic_list(request: HttpRequest) -> HttpResponse:
    form = TopicFilterForm(request.GET)
    return filtered_list(
        request,
        form=form,
        results=lambda: selectors.topic_list(filters=form.filters()),
        template="public/topic_list.html",
        page_size=PAGE_SIZE,
    )


@require_safe
@cached_public_page
def topic_detail(request: HttpRequest, code: str) -> HttpResponse:
    topic = selectors.topic_get(code=code)
    # The topic across published editions and their studies' rounds (two queries; see priorities.selectors).
    history = priority_selectors.topic_history(topic=topic)
    # Scenario pull as the next scoring run counts it: published demand and verified pilots (three queries).
    pull = scenario_selectors.scenario_pull_evidence(topic_ids=[topic.pk])[topic.pk]
    stages = dict(Pilot.Stage.choices)
    pull["pilots"] = [{**p, "stage_label": stages.get(p["stage"], p["stage"])} for p in pull["pilots"]]
    return render(request, "public/topic_detail.html", {"topic": topic, "history": history, "pull": pull})
