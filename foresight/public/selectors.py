"""Reads of the public pages that compose apps: the topic list filtered by scenario setting, a topic with its
published scenarios. The catalog, scenarios and priorities each query their own rows."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from foresight.catalog import selectors as catalog_selectors
from foresight.catalog.models import Topic
from foresight.catalog.selectors import TopicFilters
from scenarios import selectors as scenario_selectors


@dataclass(frozen=True)
class PublicTopicFilters(TopicFilters):
    """Validated public filters for the topic list (see forms.TopicFilterForm and api.TopicFilter): the catalog's
    and the setting of a scenario that needs the topic."""

    setting: str = ""


def topic_list(*, filters: PublicTopicFilters) -> QuerySet[Topic]:
    """Public topics matching the filters, with what a list row shows joined in (one query)."""
    topics = catalog_selectors.topic_list(filters=filters)
    if filters.setting:
        topics = scenario_selectors.topics_in_setting(topics, filters.setting)
    return topics


def topic_get(*, code: str) -> Topic:
    """A public topic with its sources, clusters, secondary areas and published linked scenarios."""
    return scenario_selectors.with_published_scenarios(catalog_selectors.topic_get(code=code))
