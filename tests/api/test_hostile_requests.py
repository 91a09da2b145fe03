"""Odd request lines against the public API and pages: a page number that is a digit to Unicode but not
an integer. Each is a client error (JSON under /api/), never a 500 and never an HTML page from the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

LISTS = ["/api/v1/directions/", "/api/v1/areas/", "/api/v1/topics/", "/api/v1/scenarios/", "/api/v1/editions/"]
# Digits to str.isdigit() that int() refuses, digits of other scripts int() would take, and the rest.
NOT_A_NUMBER = ["²", "①", "٣", "３", " 3", "3 ", "+3", "-3", "3.0", "0x3", "1_0", "", "\x00", "3\x00"]


@pytest.mark.parametrize("raw", ["1", "7", "0042", "200"])
def test_positive_int_reads_ascii_digits(raw: str) -> None:
    from foresight.core.text import positive_int

    assert positive_int(raw) == int(raw)


@pytest.mark.parametrize("raw", [*NOT_A_NUMBER, "0", "000", None, "9" * 30])
def test_positive_int_refuses_anything_else(raw: str | None) -> None:
    from foresight.core.text import positive_int

    assert positive_int(raw, maximum=10**6) is None


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("param", ["page", "page_size"])
@pytest.mark.parametrize("raw", NOT_A_NUMBER)
def test_a_page_that_is_not_a_plain_number_is_a_400(url: str, param: str, raw: str) -> None:
    response = Client().get(url, {param: raw})
    assert response.status_code == 400, (url, param, raw, response.content[:200])
    assert response["Content-Type"] == "application/json"
    assert param in response.json()


@pytest.mark.parametrize("url", LISTS)
def test_plain_page_numbers_still_work(url: str, catalog: Any) -> None:
    assert Client().get(url, {"page": "1", "page_size": "200"}).status_code == 200
