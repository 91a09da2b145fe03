"""Schemathesis over the whole OpenAPI schema as anonymous, expert and staff callers: no 5xx,
conforming responses, 4xx for bad input."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from foresight.wsgi import application

schema = schemathesis.pytest.from_fixture("api_schema")


pytestmark = pytest.mark.sweep


@pytest.fixture
def api_schema(catalog: dict[str, int]) -> Iterator[Any]:
    # The WSGI handler would close the test's database connection at the end of each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _identity(kind: str, django_user_model: Any) -> dict[str, Any]:
    """Who calls: nobody, an expert with an open round (session from her magic link), or a staff member."""
    from django.test import Client

    from foresight.catalog.models import Topic
    from foresight.delphi.services.panel import invitation_create
    from foresight.delphi.services.rounds import round_open
    from foresight.delphi.services.studies import study_create
    from tests.delphi.conftest import make_participant

    if kind == "anonymous":
        return {"headers": {}, "study": None}
    browser = Client()
    study = None
    if kind == "expert":
        topics = list(Topic.objects.filter(code__in=["bci", "6g"]))
        study = study_create(title_en="API", horizon_year=2045, topics=topics, code="api-study")
        round_open(rnd=study.rounds.get(number=1))
        expert = make_participant(study, "api@example.org", topics=["bci", "6g"])
        browser.post(f"/delphi/{study.code}/join/", {"t": invitation_create(participant=expert)})
        browser.get(f"/delphi/{study.code}/round/1/bci/")
    else:
        browser.force_login(django_user_model.objects.create_user("staff", is_staff=True))
        browser.get("/admin/")
    # Django's test client reconnects these on every request; the WSGI calls below must not close
    # the test's database connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    cookies = {name: morsel.value for name, morsel in browser.cookies.items()}
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if "csrftoken" in cookies:
        headers["X-CSRFToken"] = cookies["csrftoken"]
    return {"headers": headers, "study": study}


@pytest.fixture
def expert_identity(api_schema: Any, django_user_model: Any) -> dict[str, Any]:
    return _identity("expert", django_user_model)


@pytest.fixture
def staff_identity(api_schema: Any, django_user_model: Any) -> dict[str, Any]:
    return _identity("staff", django_user_model)


def _stable_hash(value: Any) -> int:
    """The same number for the same generated value in every process (``hash`` of a str is salted per process,
    so the calls a run makes would differ from one run to the next)."""
    return zlib.crc32(repr(value).encode())


def _call(case: Any, identity: dict[str, Any]) -> None:
    study = identity["study"]
    if study is not None and case.path_parameters and "study_code" in case.path_parameters:
        # Point most generated calls at the expert's own study so the real paths are exercised.
        if _stable_hash(case.body) % 4:
            case.path_parameters["study_code"] = study.code
            case.path_parameters["number"] = 1
            if "topic_code" in case.path_parameters:
                case.path_parameters["topic_code"] = "bci" if _stable_hash(case.query) % 2 else "6g"
    # Schemathesis's WSGI transport sends `Accept-Encoding: gzip` but does not decompress what comes back.
    case.call_and_validate(headers={**identity["headers"], "Accept-Encoding": "identity"})


SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@schema.parametrize()
@SETTINGS
def test_api_conforms_for_the_public(case: Any) -> None:
    _call(case, {"headers": {}, "study": None})


@schema.parametrize()
@SETTINGS
def test_api_conforms_for_an_expert(case: Any, expert_identity: dict[str, Any]) -> None:
    _call(case, expert_identity)


@schema.parametrize()
@SETTINGS
def test_api_conforms_for_staff(case: Any, staff_identity: dict[str, Any]) -> None:
    _call(case, staff_identity)
