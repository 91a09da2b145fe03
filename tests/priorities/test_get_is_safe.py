"""Every GET URL of the site and API, crawled as the public, an expert and staff, changes no row in
any table (a GET is never a write, whoever sends it)."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test import Client

from foresight.catalog.models import Topic
from foresight.delphi.services.panel import invitation_create
from foresight.delphi.services.responses import response_save
from foresight.delphi.services.rounds import round_open
from foresight.delphi.services.studies import study_create
from foresight.priorities.models import Edition
from tests.delphi.conftest import make_participant
from tests.priorities.test_privacy_crawler import crawl, published_study  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.sweep]


def snapshot() -> dict[str, str]:
    """A digest of every row of every table."""
    digests = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {quoted} t")
            digests[table] = cursor.fetchone()[0]
    return digests


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))


def test_get_changes_nothing_for_anyone(published_study: Edition, django_user_model: Any) -> None:  # noqa: F811
    # An expert with an open round and some answers, so her pages have something to show.
    topics = list(Topic.objects.filter(code__in=["bci", "6g"]))
    live = study_create(title_en="Live", horizon_year=2045, topics=topics, code="live-get")
    round_open(rnd=live.rounds.get(number=1))
    wei = make_participant(live, "wei@example.org", topics=["bci", "6g"])
    response_save(participant=wei, rnd=live.rounds.get(number=1), topic=topics[0], answers={"expertise": "high"})
    expert = Client()
    assert expert.post(f"/delphi/{live.code}/join/", {"t": invitation_create(participant=wei)}).status_code == 302
    staff = Client()
    root = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    # Recorded as django-allauth records every account's address at sign-up; an account made with
    # createsuperuser has none, and allauth's own e-mail page fills it in on its first visit.
    EmailAddress.objects.create(user=root, email=root.email, verified=True, primary=True)
    staff.force_login(root)

    callers = {
        "public": (Client(), ["/", "/zh-hans/", "/api/v1/", "/api/schema/"]),
        "expert": (expert, [f"/delphi/{live.code}/", f"/api/v1/expert/{live.code}/rounds/1/topics/"]),
        "staff": (staff, ["/staff/", "/staff/priorities/", "/editions/"]),
    }
    for who, (client, start) in callers.items():
        before = snapshot()
        pages = crawl(client, start, limit=1200)
        assert len(pages) > 10, (who, list(pages)[:5])
        assert not [p.url for p in pages.values() if p.status >= 500], who
        assert changed(before, snapshot()) == [], f"a GET by {who} changed these tables"
