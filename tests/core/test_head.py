"""HEAD is answered wherever GET is (pages, downloads, /health/, the API), for the public, an expert and
staff: the status and headers of the GET, no body, and no row changed (a HEAD is never a write)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from foresight.catalog.models import Topic
from foresight.delphi.models import Participant, Study
from foresight.delphi.services.panel import invitation_create
from foresight.delphi.services.responses import response_save
from foresight.delphi.services.rounds import round_open
from foresight.delphi.services.studies import study_create
from foresight.priorities.models import Edition
from tests.delphi.conftest import make_participant
from tests.priorities.conftest import queued  # noqa: F401 (the fixture)
from tests.priorities.test_get_is_safe import changed, snapshot
from tests.priorities.test_privacy_crawler import crawl, published_study  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def callers(edition: Edition, django_user_model: Any) -> dict[str, tuple[Client, list[str]]]:
    """Each kind of visitor with the URLs to start from (as in test_get_is_safe)."""
    topics = list(Topic.objects.filter(code__in=["bci", "6g"]))
    live: Study = study_create(title_en="Live", horizon_year=2045, topics=topics, code="live-head")
    round_open(rnd=live.rounds.get(number=1))
    wei: Participant = make_participant(live, "wei@example.org", topics=["bci", "6g"])
    response_save(participant=wei, rnd=live.rounds.get(number=1), topic=topics[0], answers={"expertise": "high"})
    expert = Client()
    assert expert.post(f"/delphi/{live.code}/join/", {"t": invitation_create(participant=wei)}).status_code == 302
    staff = Client()
    staff.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))
    run = edition.scoring_run
    return {
        "public": (
            Client(),
            [
                "/",
                "/zh-hans/",
                "/health/",
                "/topics/",
                "/topics/6g/",
                "/scenarios/",
                "/editions/",
                f"/editions/{edition.code}/",
                f"/editions/{edition.code}/entries.csv",
                f"/editions/{edition.code}/figures.csv",
                f"/editions/{edition.code}/edition.json",
                f"/editions/{edition.code}/radar.csv",
                "/api/v1/",
                "/api/v1/topics/",
                "/api/v1/topics/6g/",
                "/api/v1/topics/6g.json",
                "/api/v1/topics/similar/?text=6G移动通信",
                "/api/v1/scenarios/similar/?text=smart+port",
                f"/api/v1/editions/{edition.code}/",
                "/api/schema/",
                "/api/docs/",
            ],
        ),
        "expert": (
            expert,
            [
                f"/delphi/{live.code}/",
                f"/delphi/{live.code}/topics/",
                f"/delphi/{live.code}/round/1/bci/",
                f"/api/v1/expert/{live.code}/rounds/1/topics/",
                f"/api/v1/expert/{live.code}/rounds/1/topics/bci/",
            ],
        ),
        "staff": (
            staff,
            [
                "/staff/",
                "/staff/studies/new/",
                f"/staff/studies/{live.code}/panel/",
                "/staff/priorities/",
                f"/staff/priorities/studies/{run.study.code}/runs/new/",
                f"/staff/priorities/runs/{run.code}/editions/new/",
                f"/staff/priorities/editions/{edition.code}/",
                "/editions/",
            ],
        ),
    }


def head_differs(client: Client, url: str) -> str | None:
    got = client.get(url)
    if got.status_code >= 400:
        return None  # only what GET answers must HEAD answer
    head = client.head(url)
    if head.status_code != got.status_code:
        return f"{url}: HEAD {head.status_code}, GET {got.status_code}"
    if head.get("Content-Type") != got.get("Content-Type"):
        return f"{url}: HEAD {head.get('Content-Type')}, GET {got.get('Content-Type')}"
    if b"".join(head.streaming_content) if head.streaming else head.content:
        return f"{url}: HEAD has a body"
    return None


def test_head_is_answered_like_get_on_the_main_urls(published_study: Edition, django_user_model: Any) -> None:  # noqa: F811
    problems = []
    for who, (client, urls) in callers(published_study, django_user_model).items():
        before = snapshot()
        problems += [f"{who} {p}" for url in urls if (p := head_differs(client, url))]
        assert changed(before, snapshot()) == [], f"a HEAD by {who} changed these tables"
    assert problems == []


@pytest.mark.sweep
def test_head_is_answered_wherever_get_is(published_study: Edition, django_user_model: Any) -> None:  # noqa: F811
    problems = []
    for who, (client, start) in callers(published_study, django_user_model).items():
        pages = crawl(client, start, limit=1200)
        assert len(pages) > 10, (who, list(pages)[:5])
        before = snapshot()
        for url, page in pages.items():
            if page.status < 400:
                head = client.head(url)
                if head.status_code != page.status:
                    problems.append(f"{who} {url}: HEAD {head.status_code}, GET {page.status}")
        assert changed(before, snapshot()) == [], f"a HEAD by {who} changed these tables"
    assert problems == []
