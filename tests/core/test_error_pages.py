"""The site's own 404 and 500 pages (with the header and a way back, in both languages) and its icon."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.test import Client, RequestFactory
from django.utils import translation
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "title", "back"),
    [
        ("/no-such-page/", "Page not found", "Back to the directions"),
        ("/zh-hans/no-such-page/", "页面不存在", "返回方向列表"),
    ],
)
def test_a_missing_page_is_the_sites_404_with_the_header_and_a_way_back(path: str, title: str, back: str) -> None:
    response = Client().get(path)
    body = response.content.decode()
    assert response.status_code == 404
    assert 'class="site-header"' in body and 'href="/topics/"' in body.replace("/zh-hans", "")
    assert f"<h1>{title}</h1>" in body and back in body


def test_an_api_miss_stays_json() -> None:
    response = Client().get("/api/v1/no-such-list/")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("language", "title"), [("en", "Something went wrong on our side"), ("zh-hans", "我们这边出了问题")]
)
def test_a_server_error_is_the_sites_500_page(language: str, title: str) -> None:
    with translation.override(language):
        response = server_error(RequestFactory().get("/"))  # rendered with no request context, as Django does
    body = response.content.decode()
    assert response.status_code == 500
    assert 'class="site-header"' in body and f"<h1>{title}</h1>" in body


def test_the_icon_is_found_where_browsers_look_for_it() -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("img/favicon.svg")
    assert finders.find("img/favicon.svg")
    assert Client().head("/favicon.ico").status_code == 301


@pytest.mark.parametrize(
    ("prefix", "title", "reason"),
    [("", "Not allowed", "Your role does not allow this page."), ("/zh-hans", "无权访问", "您的角色无权打开此页面。")],
)
def test_a_refusal_is_the_sites_403_with_the_reason_and_the_consoles_she_may_open(
    prefix: str, title: str, reason: str
) -> None:
    from tests.factories import staff_user

    publisher = Client()
    publisher.force_login(staff_user("pat", "Publisher"))
    response = publisher.get(f"{prefix}/staff/")  # the Delphi console: not a publisher's
    body = response.content.decode()
    assert response.status_code == 403
    assert 'class="site-header"' in body and f"<h1>{title}</h1>" in body and reason in body
    assert "/staff/priorities/" in body  # the workbench, which she may open
