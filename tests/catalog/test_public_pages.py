"""The public site, read as an anonymous visitor."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from foresight.catalog.models import Direction, Topic
from scenarios.models import Scenario
from tests.factories import TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def visitor() -> Client:
    return Client()


def test_home_lists_the_six_directions(visitor: Client, catalog: dict[str, int]) -> None:
    response = visitor.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for direction in Direction.objects.all():
        assert direction.name_en in html


def test_home_in_chinese(visitor: Client, catalog: dict[str, int]) -> None:
    response = visitor.get("/zh-hans/")
    assert response.status_code == 200
    html = response.content.decode()
    assert Direction.objects.get(slug="future-manufacturing").name_zh in html
    assert 'lang="zh-Hans"' in html


def test_direction_page_shows_its_areas_and_topics(visitor: Client, catalog: dict[str, int]) -> None:
    response = visitor.get("/directions/future-manufacturing/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Humanoid robots" in html
    assert Topic.objects.get(code="humanoid-robots").area.name_en in html


def test_topic_page_shows_statement_sources_clusters_and_scenarios(visitor: Client, catalog: dict[str, int]) -> None:
    topic = Topic.objects.get(code="humanoid-robots")
    response = visitor.get("/topics/humanoid-robots/")
    assert response.status_code == 200
    html = response.content.decode()
    assert topic.statement_en in html
    assert "人形机器人" in html  # the original-language source label
    assert "/scenarios/smart-factory/" in html
    for cluster in topic.clusters.all():
        assert cluster.name_en in html


def test_topic_page_in_chinese(visitor: Client, catalog: dict[str, int]) -> None:
    topic = Topic.objects.get(code="humanoid-robots")
    html = visitor.get("/zh-hans/topics/humanoid-robots/").content.decode()
    assert topic.statement_zh in html
    assert topic.statement_en not in html


def test_scenario_page_groups_needed_topics_by_role(visitor: Client, catalog: dict[str, int]) -> None:
    scenario = Scenario.objects.get(code="smart-factory")
    response = visitor.get("/scenarios/smart-factory/")
    assert response.status_code == 200
    html = response.content.decode()
    assert scenario.title_en in html
    assert scenario.problem_en in html
    assert "/topics/humanoid-robots/" in html
    assert html.index("Core") < html.index("/topics/humanoid-robots/")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("humanoid", "humanoid-robots"),
        ("人形机器人", "humanoid-robots"),
        ("量子", "quantum-computing"),
        ("quantum computers", "quantum-computing"),
    ],
)
def test_search_finds_english_and_chinese(visitor: Client, catalog: dict[str, int], query: str, expected: str) -> None:
    response = visitor.get("/topics/", {"q": query})
    assert response.status_code == 200
    assert f"/topics/{expected}/" in response.content.decode()


def test_search_ranks_a_name_match_first(visitor: Client, catalog: dict[str, int]) -> None:
    html = visitor.get("/topics/", {"q": "humanoid robots"}).content.decode()
    first = html.index('class="topic-name"')
    assert html.index("/topics/humanoid-robots/") == html.index('href="', first) + len('href="')


def test_search_with_no_match_says_so(visitor: Client, catalog: dict[str, int]) -> None:
    html = visitor.get("/topics/", {"q": "zzzz-no-such-thing"}).content.decode()
    assert "No topics match" in html


def test_filters_narrow_the_list(visitor: Client, catalog: dict[str, int]) -> None:
    html = visitor.get("/topics/", {"direction": "future-health"}).content.decode()
    assert "/topics/bci/" in html
    assert "/topics/humanoid-robots/" not in html
    html = visitor.get("/topics/", {"setting": "factory"}).content.decode()
    assert "/topics/humanoid-robots/" in html
    html = visitor.get("/topics/", {"kind": "product"}).content.decode()
    listed = set(re.findall(r'class="topic-name" href="/topics/([\w-]+)/"', html))
    expected = set(Topic.objects.filter(kind="product").values_list("code", flat=True)[:24])
    assert listed and listed <= set(Topic.objects.filter(kind="product").values_list("code", flat=True))
    assert len(listed) == len(expected)


def test_an_invalid_filter_gets_a_clear_400(visitor: Client, catalog: dict[str, int]) -> None:
    response = visitor.get("/topics/", {"kind": "spaceship"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_htmx_request_gets_only_the_results(visitor: Client, catalog: dict[str, int]) -> None:
    response = visitor.get("/topics/", {"q": "robot"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_every_htmx_link_keeps_its_href(visitor: Client, catalog: dict[str, int]) -> None:
    html = visitor.get("/topics/").content.decode()
    tags = re.findall(r"<a [^>]*hx-get=[^>]*>", html)
    assert tags, "the list page has no htmx links to check"
    for tag in tags:
        assert 'href="' in tag


def test_drafts_are_404_to_the_public(visitor: Client, catalog: dict[str, int]) -> None:
    draft = TopicFactory(area=Topic.objects.get(code="humanoid-robots").area, code="secret-draft", status="draft")
    assert visitor.get(f"/topics/{draft.code}/").status_code == 404
    assert "secret-draft" not in visitor.get("/topics/", {"q": "Topic"}).content.decode()
    assert visitor.get("/api/v1/topics/secret-draft/").status_code == 404
    draft_scenario = Scenario.objects.filter(status="draft").first()
    assert draft_scenario is not None
    assert visitor.get(f"/scenarios/{draft_scenario.code}/").status_code == 404
    assert visitor.get(f"/api/v1/scenarios/{draft_scenario.code}/").status_code == 404


def test_unknown_pages_are_404(visitor: Client, catalog: dict[str, int]) -> None:
    assert visitor.get("/topics/no-such-topic/").status_code == 404
    assert visitor.get("/directions/no-such/").status_code == 404
    assert visitor.get("/areas/no-such/").status_code == 404


def test_language_links_point_to_the_same_page(visitor: Client, catalog: dict[str, int]) -> None:
    html = visitor.get("/topics/humanoid-robots/").content.decode()
    assert 'href="/zh-hans/topics/humanoid-robots/"' in html
    html = visitor.get("/zh-hans/topics/humanoid-robots/").content.decode()
    assert 'href="/topics/humanoid-robots/"' in html


def test_scenario_list_filters(visitor: Client, catalog: dict[str, int]) -> None:
    html = visitor.get("/scenarios/", {"setting": "port"}).content.decode()
    assert "/scenarios/smart-port/" in html
    assert "/scenarios/smart-farm/" not in html
    assert visitor.get("/scenarios/", {"maturity": "bogus"}).status_code == 400


def test_security_headers_are_set(visitor: Client, catalog: dict[str, int]) -> None:
    response = visitor.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.content.decode()


def test_every_public_page_answers_head_like_get_without_a_body(visitor: Client, catalog: dict[str, int]) -> None:
    """Uptime monitors and link checkers ask with HEAD: the same status and headers as GET, no body."""
    topic = Topic.objects.filter(status="published").first() or Topic.objects.first()
    for path in ("/", "/topics/", f"/topics/{topic.code}/", "/scenarios/", "/editions/", "/health/", "/api/v1/"):
        get = visitor.get(path)
        head = visitor.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head["Content-Type"] == get["Content-Type"] and head.content == b"", path
    assert visitor.post("/topics/").status_code == 405
