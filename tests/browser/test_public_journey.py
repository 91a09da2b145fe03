"""A visitor's journey through the public catalog in a real browser (Playwright + Debian's Chromium)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_browse_search_topic_language_scenario_and_back(
    page: Any, live_server: Any, transactional_catalog: Any
) -> None:
    base = live_server.url
    page.goto(base + "/")
    expect(page.get_by_role("heading", name="Directions", exact=True)).to_be_visible()

    # Browse a direction.
    page.get_by_role("link", name="Future manufacturing").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Future manufacturing")
    expect(page.get_by_role("link", name="Humanoid robots")).to_be_visible()

    # Search in Chinese: results swap in place (htmx), the URL follows.
    page.goto(base + "/topics/")
    marker = page.evaluate("() => { window.__sameDocument = true; return true; }")
    assert marker
    page.get_by_label("Search", exact=True).fill("人形机器人")
    expect(page.locator("#results .topic-name").first).to_have_text("Humanoid robots")
    assert page.evaluate("() => window.__sameDocument === true"), "results were not swapped in place"
    assert "q=" in page.url

    # Search in English, then a filter.
    page.get_by_label("Search", exact=True).fill("quantum")
    expect(page.locator("#results")).to_contain_text("Quantum computers")
    page.get_by_label("Direction", exact=True).select_option("future-information")
    expect(page.locator("#results")).to_contain_text("Quantum computers")
    assert page.evaluate("() => window.__sameDocument === true")

    # Open a topic.
    page.locator("#results").get_by_role("link", name="Quantum computers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Quantum computers")
    expect(page.get_by_role("heading", name="Sources")).to_be_visible()

    # Switch language.
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("量子计算机")
    assert "/zh-hans/topics/quantum-computing/" in page.url

    # Follow a linked scenario, then back to a topic.
    page.locator(".scenario-links a").first.click()
    expect(page.get_by_role("heading", name="本场景需要的课题")).to_be_visible()
    page.locator(".topic-list .topic-name").first.click()
    expect(page.locator("blockquote.statement-large")).to_be_visible()
    assert "/zh-hans/topics/" in page.url


def test_search_works_without_javascript(browser: Any, live_server: Any, transactional_catalog: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/topics/")
    page.get_by_label("Search", exact=True).fill("humanoid")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#results .topic-name").first).to_have_text("Humanoid robots")
    assert "q=humanoid" in page.url
    context.close()


def test_topic_page_on_a_phone(browser: Any, live_server: Any, transactional_catalog: Any) -> None:
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(live_server.url + "/topics/humanoid-robots/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Humanoid robots")
    # Nothing overflows the viewport horizontally.
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375, f"page is {width}px wide on a 375px phone"
    expect(page.get_by_role("link", name="中文")).to_be_visible()
    context.close()


def test_the_api_docs_work_under_the_content_security_policy(
    page: Any, live_server: Any, transactional_catalog: Any
) -> None:
    """Swagger UI renders every operation with no console error: its styles come from static/, and the
    page fixture fails the test on any Content-Security-Policy violation."""
    page.goto(live_server.url + "/api/docs/")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/topics/").first).to_be_visible()
    assert page.evaluate("() => getComputedStyle(document.body).margin") == "0px"  # api-docs.css applied
