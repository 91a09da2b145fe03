"""The API root (/api/v1/) as a client follows it: every link is an API URL that answers JSON, never one of
the site's HTML pages (the site owns the plain URL names such as "topic-list")."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

LISTS = {
    "directions": "/api/v1/directions/",
    "areas": "/api/v1/areas/",
    "topics": "/api/v1/topics/",
    "scenarios": "/api/v1/scenarios/",
    "editions": "/api/v1/editions/",
    "releases": "/api/v1/releases/",
    "pilots": "/api/v1/pilots/",
}


def test_every_link_of_the_api_root_is_an_api_url_answering_json(catalog: dict[str, Any]) -> None:
    client = Client()
    root = client.get("/api/v1/", headers={"Accept": "application/json"})
    assert root.status_code == 200
    links = root.json()
    assert {name: urlsplit(url).path for name, url in links.items()} == LISTS
    for name, url in links.items():
        path = urlsplit(url).path
        assert path.startswith("/api/v1/"), (name, url)
        response = client.get(path)
        assert response.status_code == 200, (name, url)
        assert response["Content-Type"].startswith("application/json"), (name, response["Content-Type"])
        assert "results" in response.json(), name


def test_the_site_keeps_its_url_names_and_the_api_has_its_own() -> None:
    assert reverse("topic-list") == "/topics/" and reverse("scenario-list") == "/scenarios/"
    assert reverse("topic-detail", args=["bci"]) == "/topics/bci/"
    assert reverse("direction-detail", args=["future-health"]) == "/directions/future-health/"
    assert reverse("api-topic-list") == "/api/v1/topics/"
    assert reverse("api-edition-detail", kwargs={"code": "ed"}) == "/api/v1/editions/ed/"
