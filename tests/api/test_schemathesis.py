"""Schemathesis over the public OpenAPI schema: no 5xx, conforming responses, 4xx for bad parameters."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, settings

from foresight.wsgi import application

schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def api_schema(db: None) -> Any:
    call_command("load_catalog", verbosity=0)
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_public_api_conforms(case: Any) -> None:
    case.call_and_validate()
