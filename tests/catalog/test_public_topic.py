"""One rule of a public topic (a public status, in a published area of a published direction), the same
on every page, count, link and list that shows topics."""

from __future__ import annotations

import pytest
from django.test import Client

from foresight.catalog.models import PublicationStatus, Topic
from foresight.delphi.staff.selectors import topic_choices_for_study
from scenarios.models import ScenarioTopic
from tests.factories import AreaFactory, DirectionFactory, ScenarioFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def topics() -> dict[str, Topic]:
    direction = DirectionFactory()
    shown = TopicFactory(area=AreaFactory(direction=direction))
    draft_area = TopicFactory(area=AreaFactory(direction=direction, status=PublicationStatus.DRAFT))
    draft_direction = TopicFactory(area=AreaFactory(direction=DirectionFactory(status=PublicationStatus.DRAFT)))
    draft = TopicFactory(area=shown.area, status=Topic.Status.DRAFT)
    scenario = ScenarioFactory()
    for topic in (shown, draft_area, draft_direction, draft):
        ScenarioTopic.objects.create(scenario=scenario, topic=topic, role="core")
    return {
        "shown": shown,
        "draft_area": draft_area,
        "draft_direction": draft_direction,
        "draft": draft,
        "scenario": scenario,  # type: ignore[dict-item]
    }


def test_only_a_topic_in_a_published_area_and_direction_is_public(topics: dict[str, Topic]) -> None:
    assert list(Topic.objects.public()) == [topics["shown"]]
    for name, topic in topics.items():
        if name != "scenario":
            assert topic.is_public == (name == "shown"), name
    assert list(topic_choices_for_study()) == [topics["shown"]]


def test_pages_counts_and_links_agree(topics: dict[str, Topic]) -> None:
    client = Client()
    assert client.get(f"/topics/{topics['shown'].code}/").status_code == 200
    for name in ("draft_area", "draft_direction", "draft"):
        assert client.get(f"/topics/{topics[name].code}/").status_code == 404, name
    listed = client.get("/api/v1/topics/").json()
    assert [t["code"] for t in listed["results"]] == [topics["shown"].code]
    # The scenario list counts the topics its detail page shows: the public ones.
    scenario = topics["scenario"]
    row = next(s for s in client.get("/api/v1/scenarios/").json()["results"] if s["code"] == scenario.code)
    detail = client.get(f"/api/v1/scenarios/{scenario.code}/").json()
    assert row["topic_count"] == len(detail["topics"]) == 1
    direction = client.get(f"/api/v1/directions/{topics['shown'].area.direction.slug}/").json()
    assert direction["topic_count"] == 1


def test_a_secondary_area_in_a_hidden_direction_is_neither_linked_nor_listed() -> None:
    """An area is public only in a published direction: a topic's secondary areas obey the same rule as
    the area pages (no link to a 404, no hidden slug in the API)."""
    topic = TopicFactory()
    hidden = AreaFactory(direction=DirectionFactory(status=PublicationStatus.DRAFT))
    shown = AreaFactory()
    topic.secondary_areas.add(hidden, shown)
    client = Client()
    page = client.get(f"/topics/{topic.code}/").content.decode()
    assert f'href="/areas/{shown.slug}/"' in page and f"/areas/{hidden.slug}/" not in page
    assert client.get(f"/areas/{hidden.slug}/").status_code == 404
    assert client.get(f"/api/v1/topics/{topic.code}/").json()["secondary_areas"] == [shown.slug]
