"""GET /api/v1/topics/similar/ and /api/v1/scenarios/similar/: a proposer types an idea in her own words,
in English, Chinese or both, and sees the public topics or published scenarios most like it. The index
follows the catalog (a topic published or made draft is seen by the next request), bad input is a 400 with
the field's message, and a request costs the same few queries whatever the catalog's size."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from foresight.catalog.models import Area, Topic
from foresight.catalog.services import topic_status_set
from foresight.core.api import SimilarQuerySerializer
from scenarios.models import Scenario
from tests.factories import generate_catalog

pytestmark = pytest.mark.django_db

TOPICS = "/api/v1/topics/similar/"
SCENARIOS = "/api/v1/scenarios/similar/"


def similar(url: str, text: str, **params: str) -> list[dict[str, Any]]:
    response = Client().get(url, {"text": text, **params})
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert body["query"] == text.strip()
    results: list[dict[str, Any]] = body["results"]
    return results


def test_a_chinese_paraphrase_finds_the_topic_with_its_names_score_and_address(catalog: Any) -> None:
    results = similar(TOPICS, "  用风电光伏电解水制氢，供给钢铁厂 ", limit="3")
    assert len(results) == 3
    best = results[0]
    assert best["code"] == "hydrogen-energy"
    assert best["name_en"] == "Hydrogen energy" and best["name_zh"] == "氢能"
    assert 0 < results[-1]["score"] <= results[0]["score"] <= 1
    assert best["url"] == "http://testserver/api/v1/topics/hydrogen-energy/"
    assert Client().get(best["url"]).json()["code"] == "hydrogen-energy"


def test_english_and_mixed_queries_find_their_topics(catalog: Any) -> None:
    assert similar(TOPICS, "rockets that land and fly again")[0]["code"] == "reusable-launch-vehicles"
    assert similar(TOPICS, "Micro-LED 屏幕 for cars")[0]["code"] == "new-displays"


def test_a_topic_s_own_words_find_it_far_ahead_of_the_next(catalog: Any) -> None:
    topic = Topic.objects.get(code="bci")
    results = similar(TOPICS, f"{topic.name_en}\n{topic.name_zh}\n{topic.statement_en}\n{topic.statement_zh}")
    assert results[0]["code"] == "bci"
    assert results[0]["score"] > 0.5 > 2 * results[1]["score"], results[:2]
    # All of its text, as the index holds it: the same vector.
    text = "\n".join(
        getattr(topic, f)
        for f in ("name_en", "name_zh", "statement_en", "statement_zh", "description_en", "description_zh")
    )
    assert similar(TOPICS, text)[0] == {**results[0], "score": 1.0}


def test_scenarios_answer_with_their_titles_and_only_published_ones(catalog: Any) -> None:
    results = similar(SCENARIOS, "无人驾驶出租车和末端无人配送车", limit="2")
    assert [r["code"] for r in results][:1] == ["autonomous-driving"]
    assert set(results[0]) == {"code", "title_en", "title_zh", "score", "url"}
    assert results[0]["url"] == "http://testserver/api/v1/scenarios/autonomous-driving/"
    # The lunar research station is a draft: however closely one describes it, it is not shown.
    station = "月球南极长期运行的科研前哨站，机器人和航天员利用水冰和月壤"
    assert "lunar-research-station" not in [r["code"] for r in similar(SCENARIOS, station, limit="50")]

    # Published, it is found at once (the index follows the corpus's version).
    scenario = Scenario.objects.get(code="lunar-research-station")
    scenario.status = "published"
    scenario.save(update_fields=["status", "updated_at"])
    assert similar(SCENARIOS, station)[0]["code"] == "lunar-research-station"


def test_a_topic_made_draft_disappears_and_a_topic_published_appears(catalog: Any) -> None:
    hydrogen = "green hydrogen from electrolysis for steel mills"
    assert similar(TOPICS, hydrogen)[0]["code"] == "hydrogen-energy"  # the index is built now

    topic_status_set(topic=Topic.objects.get(code="hydrogen-energy"), status="draft")
    assert "hydrogen-energy" not in [r["code"] for r in similar(TOPICS, hydrogen, limit="50")]

    kelp = Topic.objects.create(
        area=Area.objects.get(slug="hydrogen-and-fuels"),
        code="kelp-biofuel",
        name_en="Kelp biofuel",
        name_zh="海带生物燃料",
        statement_en="Farmed kelp is fermented into transport fuel at scale.",
        statement_zh="养殖海带被规模化发酵为交通燃料。",
    )  # a draft: not public yet
    query = "海带发酵做燃料"
    assert "kelp-biofuel" not in [r["code"] for r in similar(TOPICS, query, limit="50")]
    topic_status_set(topic=kelp, status="candidate")
    assert similar(TOPICS, query)[0]["code"] == "kelp-biofuel"


def test_an_edited_topic_is_found_by_its_new_words(catalog: Any) -> None:
    query = "robotic lawn mowers for city parks"
    assert similar(TOPICS, query)[0]["code"] != "exoskeletons"
    topic = Topic.objects.get(code="exoskeletons")
    topic.description_en = "Also robotic lawn mowers that keep city parks trimmed."
    topic.save()
    assert similar(TOPICS, query)[0]["code"] == "exoskeletons"


def test_the_limit_bounds_the_results(catalog: Any) -> None:
    assert len(similar(TOPICS, "robot")) == 10  # the default
    assert len(similar(TOPICS, "robot", limit="1")) == 1
    assert len(similar(TOPICS, "robot", limit="50")) > 10
    assert len(similar(TOPICS, "robot", limit="0050")) > 10  # ASCII digits, as for a page number


@pytest.mark.parametrize("url", [TOPICS, SCENARIOS])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": "   \n "}, "text"),
        ({"text": "quantum\x00"}, "text"),
        ({"text": "量" * 2001}, "text"),
        ({"text": "quantum", "limit": "0"}, "limit"),
        ({"text": "quantum", "limit": "51"}, "limit"),
        ({"text": "quantum", "limit": "²"}, "limit"),
        ({"text": "quantum", "limit": "３"}, "limit"),
        ({"text": "quantum", "limit": "-3"}, "limit"),
        ({"text": "quantum", "limit": ""}, "limit"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(url: str, params: dict[str, str], field: str) -> None:
    response = Client().get(url, params)
    assert response.status_code == 400, (params, response.content[:200])
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == [field]


def test_the_longest_text_is_accepted(catalog: Any) -> None:
    assert similar(TOPICS, " " + "量子" * 1000 + " ")[0]["code"].startswith("quantum")


def test_the_limit_message_is_translated() -> None:
    # The API answers in English (its addresses have no language prefix); the message has its Chinese too.
    assert Client().get(TOPICS, {"text": "x", "limit": "99"}).json() == {"limit": ["An integer from 1 to 50."]}
    with translation.override("zh-hans"):
        query = SimilarQuerySerializer(data={"text": "x", "limit": "99"})
        assert not query.is_valid()
        assert query.errors == {"limit": ["须为 1 到 50 之间的整数。"]}


def test_answers_are_cached_and_revalidated_like_the_other_public_api_reads(catalog: Any) -> None:
    client = Client()
    first = client.get(TOPICS, {"text": "量子计算"})
    assert first["Cache-Control"] == "no-cache" and first["ETag"].startswith('W/"')
    assert "Accept" in first["Vary"]
    again = client.get(TOPICS, {"text": "量子计算"}, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304
    head = client.head(TOPICS, {"text": "量子计算"})
    assert head.status_code == 200 and head.content == b""
    # A catalog change makes the cached answer stale.
    topic_status_set(topic=Topic.objects.get(code="quantum-computing"), status="draft")
    fresh = client.get(TOPICS, {"text": "量子计算"}, headers={"if-none-match": first["ETag"]})
    assert fresh.status_code == 200
    assert "quantum-computing" not in [r["code"] for r in fresh.json()["results"]]


@pytest.mark.parametrize("size", ["large", "small"])
def test_a_request_costs_two_queries_once_the_index_is_built(
    db: None, django_assert_max_num_queries: Any, size: str
) -> None:
    if size == "large":
        generate_catalog(topics=1000, areas=50, scenarios=100)
    else:
        generate_catalog(topics=10, areas=6, scenarios=3, links_per_scenario=2)
    client = Client()
    for url in (TOPICS, SCENARIOS):
        assert client.get(url, {"text": "warm up"}).status_code == 200  # builds the index: one more query
        # The corpus's version and the rows of the results; other texts, so the page cache does not answer.
        for text in ("generated quantum topic 7", "生成量子课题"):
            with django_assert_max_num_queries(2):
                response = client.get(url, {"text": text})
            assert response.status_code == 200
            assert response.json()["results"]
