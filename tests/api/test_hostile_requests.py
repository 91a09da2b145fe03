"""Odd request lines against the public API and pages: a page number that is a digit to Unicode but not
an integer, a NUL byte in a lookup path or a query, an unmatched /api/ URL in DEBUG mode. Each is a
client error (JSON under /api/), never a 500 and never an HTML page from the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

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


DETAILS = [
    "/api/v1/directions/future-manufacturing{}/",
    "/api/v1/areas/humanoid{}/",
    "/api/v1/topics/6g{}/",
    "/api/v1/scenarios/smart-factory{}/",
    "/api/v1/editions/2025{}/",
]


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("template", DETAILS)
@pytest.mark.parametrize("nul", ["%00", "%00.json", "%00x", ".json%00"])
def test_a_nul_in_an_api_lookup_is_a_json_404(template: str, nul: str, debug: bool, catalog: Any) -> None:
    url = template.format(nul)
    if nul.endswith(".json"):  # the format suffix: /api/v1/topics/6g%00.json
        url = template.format(nul).rstrip("/")
    with override_settings(DEBUG=debug):
        response = Client().get(url)
    assert response.status_code == 404, (url, response.content[:200])
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."} or "detail" in response.json()


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "url", ["/api/nothing-here/", "/api/v1/nothing-here/", "/api/v1/topics/6g/extra/", "/api/v1/expert/x/"]
)
def test_an_unmatched_api_url_is_a_json_404_in_both_modes(url: str, debug: bool) -> None:
    with override_settings(DEBUG=debug):
        response = Client().get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "url",
    [
        "/topics/6g%00/",
        "/directions/future-manufacturing%00/",
        "/areas/humanoid%00/",
        "/scenarios/smart-factory%00/",
        "/editions/2025%00/",
        "/zh-hans/topics/6g%00/",
        "/topics/?q=%00",
        "/topics/?q=6g%00",
        "/topics/?direction=%00",
        "/scenarios/?q=%00",
        "/topics/?page=%00",
        "/topics/?page=%C2%B2",
        "/editions/?direction=%00",
        "/api/v1/topics/?q=%00",
        "/api/v1/topics/?direction=%00",
        "/api/v1/scenarios/?q=%00",
    ],
)
def test_a_nul_on_a_page_is_a_client_error(url: str, debug: bool, catalog: Any) -> None:
    with override_settings(DEBUG=debug):
        status = Client().get(url).status_code
    assert status in (200, 400, 404), (url, status)
