"""Public pages are cached, and a curator's change is visible at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

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


def test_public_api_is_cached_per_format_and_never_stale(
    transactional_catalog: Any, django_assert_num_queries: Any
) -> None:
    visitor = Client()
    first = visitor.get("/api/v1/topics/humanoid-robots/")
    assert first.status_code == 200 and first["Content-Type"] == "application/json"
    assert "Accept" in first["Vary"]
    with django_assert_num_queries(0):
        again = visitor.get("/api/v1/topics/humanoid-robots/")
        assert again.content == first.content and again["Content-Type"] == "application/json"
    # The browsable API is a different representation of the same URL: not served from the JSON entry.
    html = visitor.get("/api/v1/topics/humanoid-robots/", HTTP_ACCEPT="text/html")
    assert html["Content-Type"].startswith("text/html")
    assert visitor.get("/api/v1/topics/humanoid-robots/")["Content-Type"] == "application/json"
    listed = visitor.get("/api/v1/topics/?q=humanoid").json()
    assert "humanoid-robots" in [t["code"] for t in listed["results"]]

    topic = Topic.objects.get(code="humanoid-robots")
    topic.name_en = "General-purpose humanoid robots"
    topic.save()
    assert visitor.get("/api/v1/topics/humanoid-robots/").json()["name_en"] == "General-purpose humanoid robots"
    topic.status = Topic.Status.DRAFT
    topic.save()
    assert visitor.get("/api/v1/topics/humanoid-robots/").status_code == 404
    assert "humanoid-robots" not in [t["code"] for t in visitor.get("/api/v1/topics/?q=humanoid").json()["results"]]


def test_errors_are_not_cached(transactional_catalog: Any) -> None:
    visitor = Client()
    assert visitor.get("/api/v1/topics/?page=999").status_code == 404
    with CaptureQueriesContext(connection) as queries:
        assert visitor.get("/api/v1/topics/?page=999").status_code == 404
    assert len(queries) > 0  # computed afresh, not served from the cache


def test_a_cached_page_is_served_compressed_to_browsers_that_accept_it(transactional_catalog: Any) -> None:
    import gzip

    visitor = Client()
    for page in ("/topics/humanoid-robots/", "/topics/quantum-computing/"):
        packed = [  # the render that stores the page, then the stored entry
            visitor.get(page, HTTP_ACCEPT_ENCODING="gzip, deflate, br") for _ in range(2)
        ]
        plain = visitor.get(page)  # a client that does not accept gzip: the stored page decompressed
        assert "Content-Encoding" not in plain
        for response in packed:
            assert response["Content-Encoding"] == "gzip"
            assert int(response["Content-Length"]) == len(response.content) < len(plain.content)
            assert gzip.decompress(response.content) == plain.content
            assert "Accept-Encoding" in response["Vary"]
            assert response["ETag"] == plain["ETag"]  # one content, one tag, whatever the encoding
    # A small answer is not worth compressing.
    small = visitor.get("/api/v1/topics/?q=no-such-topic-anywhere", HTTP_ACCEPT_ENCODING="gzip")
    assert small.status_code == 200 and small.json()["results"] == []
    assert "Content-Encoding" not in small
    api = visitor.get("/api/v1/topics/", HTTP_ACCEPT_ENCODING="gzip")
    assert api["Content-Encoding"] == "gzip"
    again = visitor.get("/api/v1/topics/")
    assert gzip.decompress(api.content) == again.content
    # The view's own headers come back from the cache too.
    assert again["Allow"] == api["Allow"] and "Accept" in again["Vary"]


def test_a_browser_revalidates_with_the_etag_until_the_catalog_changes(transactional_catalog: Any) -> None:
    visitor = Client()
    first = visitor.get("/topics/humanoid-robots/")
    etag = first["ETag"]
    assert etag.startswith('W/"') and "no-cache" in first["Cache-Control"]
    same = visitor.get("/topics/humanoid-robots/", HTTP_IF_NONE_MATCH=etag)
    assert same.status_code == 304 and same.content == b""
    assert visitor.get("/topics/quantum-computing/", HTTP_IF_NONE_MATCH=etag).status_code == 200  # per URL
    # The tag names the page's content, not the cache generation: a change elsewhere that leaves this
    # page as it was (the whole cache made stale, the page rendered again) still answers 304.
    from foresight.core.cache import content_version_bump

    content_version_bump()
    assert visitor.get("/topics/humanoid-robots/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    topic = Topic.objects.get(code="humanoid-robots")
    topic.name_en = "General-purpose humanoid robots"
    topic.save()
    changed = visitor.get("/topics/humanoid-robots/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert "General-purpose humanoid robots" in changed.content.decode()
