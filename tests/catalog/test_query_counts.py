"""Every public list and detail page costs a fixed number of queries, whatever the catalog size."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import generate_catalog

pytestmark = pytest.mark.django_db

# The same budgets hold for a 1,000-topic catalog and a tiny one.
PAGES = [
    ("/", 4),
    ("/zh-hans/", 4),
    ("/directions/gen-direction-0/", 5),
    ("/areas/gen-area-0/", 5),
    ("/topics/", 5),
    ("/topics/?q=quantum", 5),
    ("/topics/?q=量子", 5),
    ("/topics/?setting=factory&cluster=gen-cluster-1", 5),
    ("/topics/?page=3", 5),
    # + the topic across published editions and their rounds (2 queries), its scenario pull (up to 3)
    ("/topics/gen-topic-0/", 10),
    ("/scenarios/", 3),
    ("/scenarios/?setting=city&direction=gen-direction-1", 3),
    ("/scenarios/gen-scenario-0/", 8),  # + its entry and the releases that list it, its published pilots
    ("/api/v1/directions/", 3),
    ("/api/v1/areas/", 2),
    ("/api/v1/areas/?direction=gen-direction-2", 3),  # + the check that the direction exists (400 if not)
    ("/api/v1/topics/?direction=gen-direction-2&area=gen-area-2", 4),  # + one check per catalog filter given
    ("/api/v1/topics/", 2),
    ("/api/v1/topics/?q=quantum&page_size=200", 2),
    ("/api/v1/topics/?setting=factory", 2),
    ("/api/v1/topics/gen-topic-0/", 6),
    ("/api/v1/scenarios/", 2),
    ("/api/v1/scenarios/gen-scenario-0/", 6),
    # The corpus's version, its documents when the index is (re)built, the rows of the results.
    ("/api/v1/topics/similar/?text=quantum", 3),
    ("/api/v1/topics/similar/?text=量子课题&limit=50", 3),
    ("/api/v1/scenarios/similar/?text=city", 3),
]


@pytest.fixture
def big_catalog(db: None) -> dict[str, Any]:
    return generate_catalog(topics=1000, areas=50, scenarios=100)


def test_the_generated_catalog_is_large(big_catalog: dict[str, Any]) -> None:
    from foresight.catalog.models import Topic

    assert Topic.objects.count() >= 1000


@pytest.mark.parametrize(("url", "budget"), PAGES)
def test_page_query_budget_on_a_large_catalog(
    big_catalog: dict[str, Any], django_assert_max_num_queries: Any, url: str, budget: int
) -> None:
    client = Client()
    with django_assert_max_num_queries(budget):
        response = client.get(url)
    assert response.status_code == 200, url


@pytest.mark.parametrize(("url", "budget"), [p for p in PAGES if "gen-" not in p[0]])
def test_same_budget_on_a_small_catalog(db: None, django_assert_max_num_queries: Any, url: str, budget: int) -> None:
    generate_catalog(topics=10, areas=6, scenarios=3, links_per_scenario=2)
    client = Client()
    with django_assert_max_num_queries(budget):
        response = client.get(url)
    assert response.status_code == 200, url
