"""The questionnaire on a phone (390 × 844), in English and in Chinese: the header and the sticky bar leave the
questions most of the screen, the header's links fold behind "Menu", and no label breaks inside a word. On a
desktop the header keeps its one row of links and the bar keeps all its buttons.

The study runs in real time, so round 1 already shows the panel's answers as bars: their labels are the longest
words of the page ("competitiveness", "Commercialisation") and sit in the narrowest cells."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from foresight.catalog.models import Topic
from foresight.delphi.models import Participant
from foresight.delphi.services.panel import invitation_create
from foresight.delphi.services.responses import response_save
from foresight.delphi.services.rounds import round_open
from foresight.delphi.services.studies import study_create
from tests.delphi.conftest import make_participant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# Every question with choices answered, so each shows its bars (the study releases them to those who answered).
ANSWERS = {
    "expertise": "high",
    "importance": "4",
    "importance_why": ["economy", "environment"],
    "competitiveness": "3",
    "leader": "eu",
    "policy_measures": ["infrastructure_data", "international_collaboration"],
    "implementation_barriers": ["commercialisation", "procurement", "standards"],
    "uncertainty": "2",
    "discontinuity": "3",
    "ethics": "2",
}

# The box of the sticky bar the save status sits in: the nearest ancestor of #save-result that is position: sticky.
STICKY_BAR = """() => {
  let bar = document.getElementById('save-result');
  while (bar && getComputedStyle(bar).position !== 'sticky') bar = bar.parentElement;
  if (!bar) return null;
  const box = bar.getBoundingClientRect();
  return {top: box.top, bottom: box.bottom, height: box.height};
}"""

# Every word of Latin letters or digits in the visible text of <main> (in Chinese text: "6G", "Q1", "n"), and
# those of them laid out on more than one line, i.e. broken inside the word.
WORDS = """() => {
  const checked = new Set(), broken = [];
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (!element.checkVisibility() || element.closest('.visually-hidden, option, textarea')) continue;
    for (const word of node.data.matchAll(/[\\p{Script=Latin}\\p{Nd}]+/gu)) {
      const range = document.createRange();
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      const lines = [...range.getClientRects()].filter(rect => rect.width > 0).length;
      if (lines === 0) continue;
      checked.add(word[0]);
      if (lines > 1) broken.push(`${word[0]} in <${element.tagName.toLowerCase()} class="${element.className}">`);
    }
  }
  return {checked: [...checked], broken};
}"""


def expert_on_a_live_panel(transactional_catalog: Any) -> Participant:
    topics = list(Topic.objects.filter(code__in=["6g", "bci"]))
    study = study_create(
        title_en="Networks 2045", horizon_year=2045, topics=topics, code="networks-2045", mode="realtime"
    )
    rnd = study.rounds.get(number=1)
    round_open(rnd=rnd)
    for i in range(6):  # one more than k = 5: the panel's answers are shown
        colleague = make_participant(study, f"colleague{i}@example.org")
        response_save(participant=colleague, rnd=rnd, topic=topics[0], answers=ANSWERS)
    wei = make_participant(study, "wei@example.org")
    response_save(participant=wei, rnd=rnd, topic=topics[0], answers=ANSWERS)
    return wei


def sign_in(page: Any, base: str, participant: Participant) -> None:
    token = invitation_create(participant=participant)
    page.goto(f"{base}/delphi/{participant.study.code}/join/?t={token}")
    page.get_by_role("button", name="Open the study").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Networks 2045")


def chrome_height(page: Any) -> float:
    """The height the header and the sticky bar take together, at the top of the page."""
    page.evaluate("window.scrollTo(0, 0)")
    header = page.locator(".site-header").bounding_box()
    bar = page.evaluate(STICKY_BAR)
    assert header is not None and bar is not None, "the page has no header or no sticky bar around the save status"
    return float(header["height"] + bar["height"])


def test_the_questionnaire_on_a_phone(page: Any, live_server: Any, transactional_catalog: Any) -> None:
    wei = expert_on_a_live_panel(transactional_catalog)
    base = live_server.url
    topic_url = f"/delphi/{wei.study.code}/round/1/6g/"
    page.set_viewport_size(PHONE)
    sign_in(page, base, wei)

    page.goto(base + topic_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("6G mobile communications")
    expect(page.locator("#q-competitiveness .bars")).to_be_visible()

    # The header and the sticky bar take at most a sixth of the screen.
    height = chrome_height(page)
    assert height <= PHONE["height"] / 6, f"the header and the sticky bar take {height:.0f} px of 844"

    # No word is broken across two lines, the long labels of the panel's bars included.
    words = page.evaluate(WORDS)
    assert words["broken"] == []
    assert {"competitiveness", "Commercialisation", "International", "certification"} <= set(words["checked"])

    # Further down the page the header has scrolled away; the bar stays in view, its save status with it.
    page.locator("#q-leader").get_by_label("China", exact=True).check()
    expect(page.locator("#save-result")).to_contain_text("Saved at")
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight / 2)")
    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["y"] + header["height"] <= 0, "the header is still on the screen"
    bar = page.evaluate(STICKY_BAR)
    assert bar is not None and bar["bottom"] == pytest.approx(PHONE["height"], abs=1), f"the bar is not pinned: {bar}"
    expect(page.locator("#save-result")).to_be_in_viewport()
    expect(page.locator("#save-result")).to_contain_text("Saved at")

    # The header's links wait behind "Menu", which opens without a script; they lead where they say.
    page.evaluate("window.scrollTo(0, 0)")
    nav = page.get_by_role("navigation", name="Main")
    search = page.get_by_role("searchbox", name="Search topics")
    expect(nav).to_be_hidden()
    expect(search).to_be_hidden()
    page.locator(".site-header summary", has_text="Menu").click()
    expect(nav).to_be_visible()
    expect(search).to_be_visible()
    nav.get_by_role("link", name="Topics").click()
    expect(page).to_have_url(f"{base}/topics/")

    # In Chinese too; there the words to keep whole are the Latin ones inside the Chinese text ("6G").
    page.goto(f"{base}/zh-hans{topic_url}")
    expect(page.get_by_role("heading", level=1)).to_have_text("6G移动通信")
    height = chrome_height(page)
    assert height <= PHONE["height"] / 6, f"the header and the sticky bar take {height:.0f} px of 844"
    words = page.evaluate(WORDS)
    assert words["broken"] == []
    assert "6G" in words["checked"]
    page.locator(".site-header summary", has_text="菜单").click()
    expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="课题")).to_be_visible()


def test_the_questionnaire_on_a_desktop_keeps_its_header_row_and_bar(
    page: Any, live_server: Any, transactional_catalog: Any
) -> None:
    wei = expert_on_a_live_panel(transactional_catalog)
    base = live_server.url
    page.set_viewport_size(DESKTOP)
    sign_in(page, base, wei)

    page.goto(f"{base}/delphi/{wei.study.code}/round/1/6g/")
    # The links and the search sit in the header's one row; there is no "Menu".
    expect(page.locator(".site-header summary")).to_be_hidden()
    brand = page.get_by_role("link", name="Foresight", exact=True).bounding_box()
    for link in ("Directions", "Topics", "Scenarios", "Priorities", "API"):
        box = page.get_by_role("navigation", name="Main").get_by_role("link", name=link).bounding_box()
        assert brand is not None and box is not None and abs(box["y"] - brand["y"]) < 10, f"{link} left the row"
    expect(page.get_by_role("searchbox", name="Search topics")).to_be_visible()
    # The sticky bar holds every action, in view from the top of the page.
    for action in (
        page.get_by_role("button", name="Save", exact=True),
        page.get_by_role("button", name="Save and next topic →"),
        page.get_by_role("link", name="Overview"),
    ):
        expect(action).to_be_in_viewport()
