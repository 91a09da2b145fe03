"""Staff curate in Django admin; every change is kept with who, what and when."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from foresight.catalog.models import Topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator(db: None) -> Client:
    user = User.objects.create_superuser("carol", "carol@example.org", "a-long-password-1")
    client = Client()
    client.force_login(user)
    return client


def _form(topic: Topic, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "code": topic.code,
        "area": topic.area_id,
        "kind": topic.kind,
        "trl": topic.trl or "",
        "status": topic.status,
        "tags": "[]",
        "name_en": topic.name_en,
        "name_zh": topic.name_zh,
        "statement_en": topic.statement_en,
        "statement_zh": topic.statement_zh,
        "description_en": topic.description_en,
        "description_zh": topic.description_zh,
        "clusters": [c.pk for c in topic.clusters.all()],
        "secondary_areas": [a.pk for a in topic.secondary_areas.all()],
        "catalog-sourcereference-content_type-object_id-TOTAL_FORMS": "0",
        "catalog-sourcereference-content_type-object_id-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_a_staff_edit_is_recorded_with_who_what_when(curator: Client, catalog: dict[str, int]) -> None:
    topic = Topic.objects.get(code="humanoid-robots")
    response = curator.post(
        f"/admin/catalog/topic/{topic.pk}/change/", _form(topic, statement_en="Humanoid robots are common.")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    latest = Topic.history.filter(id=topic.pk).latest()
    assert latest.history_user.username == "carol"
    assert latest.statement_en == "Humanoid robots are common."
    assert latest.history_date is not None
    history_page = curator.get(f"/admin/catalog/topic/{topic.pk}/history/")
    assert "carol" in history_page.content.decode()


def test_draft_to_published_review_step(curator: Client, catalog: dict[str, int]) -> None:
    topic = Topic.objects.get(code="bci")
    curator.post(f"/admin/catalog/topic/{topic.pk}/change/", _form(topic, status="draft"))
    assert Client().get("/topics/bci/").status_code == 404
    topic.refresh_from_db()
    curator.post(f"/admin/catalog/topic/{topic.pk}/change/", _form(topic, status="published"))
    assert Client().get("/topics/bci/").status_code == 200


def test_the_public_cannot_reach_admin(catalog: dict[str, int]) -> None:
    response = Client().get("/admin/catalog/topic/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_review_actions_publish_and_hide_topics(curator: Client, catalog: dict[str, int]) -> None:
    topic = Topic.objects.get(code="graphene-2d")
    url = "/admin/catalog/topic/"
    curator.post(url, {"action": "mark_draft", "_selected_action": [topic.pk]})
    assert Client().get("/topics/graphene-2d/").status_code == 404
    curator.post(url, {"action": "mark_candidate", "_selected_action": [topic.pk]})
    assert Client().get("/topics/graphene-2d/").status_code == 200
    statuses = list(
        Topic.history.filter(id=topic.pk).order_by("history_date").values_list("status", "history_user__username")
    )
    assert statuses[-2:] == [("draft", "carol"), ("candidate", "carol")]
