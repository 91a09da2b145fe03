"""Public pages are cached, and a curator's change is visible at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from foresight.catalog.models import Topic

pytestmark = pytest.mark.django_db(transaction=True)


def test_cached_page_is_served_without_queries(transactional_catalog: Any, django_assert_num_queries: Any) -> None:
    visitor = Client()
    assert visitor.get("/topics/humanoid-robots/").status_code == 200
    with django_assert_num_queries(0):
        assert visitor.get("/topics/humanoid-robots/").status_code == 200


def test_no_stale_page_after_a_catalog_change(transactional_catalog: Any) -> None:
    visitor = Client()
    assert "Humanoid robots" in visitor.get("/topics/humanoid-robots/").content.decode()
    topic = Topic.objects.get(code="humanoid-robots")
    topic.name_en = "General-purpose humanoid robots"
    topic.save()
    assert "General-purpose humanoid robots" in visitor.get("/topics/humanoid-robots/").content.decode()
    topic.status = Topic.Status.DRAFT
    topic.save()
    assert visitor.get("/topics/humanoid-robots/").status_code == 404


def test_a_relation_change_also_invalidates(transactional_catalog: Any) -> None:
    visitor = Client()
    topic = Topic.objects.get(code="humanoid-robots")
    html = visitor.get("/topics/humanoid-robots/").content.decode()
    assert "/scenarios/smart-factory/" in html
    topic.scenario_links.filter(scenario__code="smart-factory").delete()
    assert "/scenarios/smart-factory/" not in visitor.get("/topics/humanoid-robots/").content.decode()
