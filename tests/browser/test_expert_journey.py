"""An expert's whole journey in a real browser: invitation link → consent → topics → three answered
topics with autosave → reload → submit → round 2 feedback (aggregated by the real worker) → revise
with a rationale. Then the questionnaire on a phone."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from foresight.catalog.models import Topic
from foresight.delphi.models import Expert, Round
from foresight.delphi.services.panel import invitation_create, participant_add
from foresight.delphi.services.responses import response_save, round_submit
from foresight.delphi.services.rounds import round_close, round_open
from foresight.delphi.services.studies import study_create
from tests.delphi.conftest import make_participant

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
CODES = ["bci", "humanoid-robots", "quantum-computing"]


def wait_for_status(rnd: Round, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rnd.refresh_from_db()
        if rnd.status == status:
            return
        time.sleep(0.3)
    raise AssertionError(f"round {rnd.code} is {rnd.status}, expected {status} within {timeout} s")


def test_expert_journey(
    page: Any, live_server: Any, transactional_catalog: Any, celery_worker_process: dict[str, str]
) -> None:
    topics = list(Topic.objects.filter(code__in=CODES))
    study = study_create(title_en="Future industries 2040", horizon_year=2040, topics=topics, code="fi-2040")
    round1 = study.rounds.get(number=1)
    round_open(rnd=round1)
    # Five colleagues answer through the same service as the web path, spread so no topic reaches consensus.
    for i, value in enumerate(["1", "2", "3", "4", "5"]):
        colleague = make_participant(study, f"colleague{i}@example.org", topics=CODES)
        for topic in topics:
            response_save(
                participant=colleague, rnd=round1, topic=topic, answers={"expertise": "high", "importance": value}
            )
        round_submit(participant=colleague, rnd=round1)
    expert = Expert.objects.create(email="wei@example.org", name="Wei", sector="public_research")
    wei = participant_add(study=study, expert=expert)
    base = live_server.url

    # The link opens a session; the token leaves the address bar.
    token = invitation_create(participant=wei)
    page.goto(f"{base}/delphi/{study.code}/join/?t={token}")
    page.get_by_role("button", name="Open the study").click()
    expect(page).to_have_url(f"{base}/delphi/{study.code}/")
    assert token not in page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Future industries 2040")
    page.get_by_label("I agree to take part on these terms.").check()
    page.get_by_role("button", name="Continue").click()

    # Choose the three topics.
    expect(page.get_by_role("heading", level=1)).to_have_text("Your topics")
    for topic in topics:
        page.get_by_label(topic.name_en, exact=True).check()
    page.get_by_role("button", name="Confirm my topics").click()
    expect(page.get_by_text("0 of 3 topics answered")).to_be_visible()
    page.get_by_role("link", name="Start").click()

    # Three topics: answers autosave as they are given (htmx), then "save and next".
    for position in range(3):
        expect(page.get_by_text(f"Topic {position + 1} of 3")).to_be_visible()
        page.locator("#q-expertise").get_by_label("High", exact=True).check()
        expect(page.locator("#save-result")).to_contain_text("Saved at")
        # The very save that answered the topic counts it.
        expect(page.locator("#progress-line")).to_contain_text(f"{position + 1} answered")
        page.locator("#q-importance").get_by_text("Very high").click()
        page.locator("#input-tech_year").select_option("2032")
        expect(page.locator("#progress-line")).to_contain_text(f"{position + 1} answered")
        if position < 2:
            page.get_by_role("button", name="Save and next topic →").click()
        else:
            page.get_by_role("button", name="Save and finish").click()

    # Reload a topic: every answer is still there (it was saved, not just kept in the page).
    first = page.url
    page.goto(f"{base}/delphi/{study.code}/round/1/{CODES[0]}/")
    page.reload()
    expect(page.locator("#q-expertise").get_by_label("High", exact=True)).to_be_checked()
    expect(page.locator("#q-importance").get_by_label("5 Very high")).to_be_checked()
    expect(page.locator("#input-tech_year")).to_have_value("2032")

    # Submit.
    page.goto(first)
    expect(page.get_by_text("3 of 3 topics answered")).to_be_visible()
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_text("Submitted on")).to_be_visible()

    # Staff close round 1; the real worker aggregates it; round 2 opens.
    round_close(rnd=round1)
    wait_for_status(round1, Round.Status.AGGREGATED)
    round2 = study.rounds.get(number=2)
    assert round2.topics.count() == 3
    round_open(rnd=round2)

    # Round 2: the panel's distribution, median and IQR next to her own previous answer.
    page.goto(f"{base}/delphi/{study.code}/")
    expect(page.get_by_role("heading", name="Round 2")).to_be_visible()
    page.get_by_role("link", name="Start").click()
    importance = page.locator("#q-importance")
    expect(importance).to_contain_text("Panel in round 1")
    expect(importance).to_contain_text("median 3.5")  # 1, 2, 3, 4, 5 and her 5
    expect(importance.locator(".own-previous")).to_contain_text("Very high")
    expect(importance.locator("tr.own")).to_contain_text("◀ you")
    # Her round-1 answer is filled in, marked as kept until she changes it.
    expect(importance.get_by_label("5 Very high")).to_be_checked()
    expect(page.locator("#kept-importance")).to_contain_text("kept unless you change it")
    # She revises it to an answer outside the middle half: she is asked for a reason, and gives it.
    page.locator("#q-expertise").get_by_label("High", exact=True).check()
    importance.get_by_label("1 Very low").check()
    expect(page.locator("#prompt-importance")).to_contain_text("outside the middle half")
    expect(page.locator("#kept-importance")).to_be_empty()  # saved in round 2 now

    def saves_the_reason(r: Any) -> bool:
        return (
            r.url.endswith("/save/") and r.request.method == "POST" and "rationale=Cost" in (r.request.post_data or "")
        )

    with page.expect_response(saves_the_reason) as saved:
        page.get_by_label("Reason for your answers").fill("Cost curves make early adoption unlikely.")
    assert saved.value.status == 200
    # The save status is in the sticky bar: in view at the top of the page too, not only at its end.
    page.evaluate("window.scrollTo(0, 0)")
    expect(page.locator(".form-actions #save-result")).to_contain_text("Saved at")
    expect(page.locator(".form-actions #save-result")).to_be_in_viewport()
    page.reload()
    expect(page.get_by_label("Reason for your answers")).to_have_value("Cost curves make early adoption unlikely.")
    expect(page.locator("#q-importance").get_by_label("1 Very low")).to_be_checked()

    # On a phone: nothing overflows, the choices are large enough to tap.
    page.set_viewport_size({"width": 375, "height": 740})
    page.reload()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375, f"the questionnaire overflows a phone screen ({width}px)"
    box = page.locator("#q-importance .choice").first.bounding_box()
    assert box is not None and box["height"] >= 40
