"""The read-only public API under /api/v1/."""

from __future__ import annotations

import pytest
from django.test import Client

from foresight.catalog.models import Direction, Topic
from scenarios.models import Scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Client:
    return Client()


def test_directions_list_with_areas(api: Client, catalog: dict[str, int]) -> None:
    data = api.get("/api/v1/directions/").json()
    assert data["count"] == Direction.objects.count()
    first = data["results"][0]
    assert first["slug"] == "future-manufacturing"
    assert first["name_zh"]
    assert first["areas"] and first["topic_count"] > 0


def test_topics_are_paginated(api: Client, catalog: dict[str, int]) -> None:
    data = api.get("/api/v1/topics/", {"page_size": 10}).json()
    assert data["count"] == Topic.objects.exclude(status="draft").count()
    assert len(data["results"]) == 10
    assert data["next"]
    assert api.get("/api/v1/topics/", {"page": 999}).status_code == 404


def test_topic_by_code_with_sources_and_scenarios(api: Client, catalog: dict[str, int]) -> None:
    data = api.get("/api/v1/topics/humanoid-robots/").json()
    assert data["code"] == "humanoid-robots"
    assert data["name_zh"] == "人形机器人"
    assert data["direction"] == "future-manufacturing"
    assert any(s["label"] == "人形机器人" for s in data["sources"])
    assert {"scenario": "smart-factory", "role": "core"}.items() <= next(
        s for s in data["scenarios"] if s["scenario"] == "smart-factory"
    ).items()


def test_topics_search_in_both_languages(api: Client, catalog: dict[str, int]) -> None:
    codes_en = [t["code"] for t in api.get("/api/v1/topics/", {"q": "humanoid"}).json()["results"]]
    codes_zh = [t["code"] for t in api.get("/api/v1/topics/", {"q": "人形"}).json()["results"]]
    assert codes_en[0] == "humanoid-robots"
    assert "humanoid-robots" in codes_zh


def test_topics_filter(api: Client, catalog: dict[str, int]) -> None:
    results = api.get("/api/v1/topics/", {"direction": "future-energy", "page_size": 200}).json()["results"]
    assert results and all(t["direction"] == "future-energy" for t in results)
    results = api.get("/api/v1/topics/", {"kind": "product", "page_size": 200}).json()["results"]
    assert results and all(t["kind"] == "product" for t in results)


def test_bad_parameters_get_400(api: Client, catalog: dict[str, int]) -> None:
    assert api.get("/api/v1/topics/", {"kind": "spaceship"}).status_code == 400
    assert api.get("/api/v1/topics/", {"status": "draft"}).status_code == 400
    assert api.get("/api/v1/scenarios/", {"setting": "moon"}).status_code == 400
    assert api.get("/api/v1/topics/", {"status": ""}).status_code == 400
    assert api.get("/api/v1/topics/", {"page": "0"}).status_code == 400
    assert api.get("/api/v1/topics/", {"page": "abc"}).status_code == 400
    assert api.get("/api/v1/topics/", {"page_size": "1000"}).status_code == 400
    assert api.get("/api/v1/topics/", {"area": "a\x00b"}).status_code == 400
    # An unknown direction, area or list is named as the bad parameter, as on the topic list page.
    for path, name in (
        ("/api/v1/topics/", "direction"),
        ("/api/v1/topics/", "area"),
        ("/api/v1/topics/", "cluster"),
        ("/api/v1/areas/", "direction"),
    ):
        response = api.get(path, {name: "nowhere"})
        assert response.status_code == 400 and name in response.json(), (path, name)
    assert api.get("/api/v1/areas/", {"direction": "future-energy"}).json()["results"]
    area = api.get("/api/v1/areas/", {"direction": "future-energy"}).json()["results"][0]["slug"]
    results = api.get("/api/v1/topics/", {"area": area, "page_size": 200}).json()["results"]
    assert results and all(t["area"] == area for t in results)
    # Over-long text is not an error: it just matches nothing.
    response = api.get("/api/v1/topics/", {"q": "x" * 500})
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_scenarios_by_code_with_needed_topics(api: Client, catalog: dict[str, int]) -> None:
    data = api.get("/api/v1/scenarios/smart-factory/").json()
    assert data["title_zh"]
    roles = {t["topic"]: t["role"] for t in data["topics"]}
    assert roles["humanoid-robots"] == "core"
    listed = api.get("/api/v1/scenarios/", {"page_size": 200}).json()
    assert listed["count"] == Scenario.objects.filter(status="published").count()


def test_api_is_read_only(api: Client, catalog: dict[str, int]) -> None:
    assert api.post("/api/v1/topics/", {"code": "x"}).status_code in (403, 405)
    assert api.delete("/api/v1/topics/humanoid-robots/").status_code in (403, 405)
    assert Topic.objects.filter(code="humanoid-robots").exists()


def test_schema_and_docs_are_served(api: Client, db: None) -> None:
    schema = api.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    assert "/api/v1/topics/{code}/" in schema.json()["paths"]
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    assert "swagger" in docs.content.decode().lower()
