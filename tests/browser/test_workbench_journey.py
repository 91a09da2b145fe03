"""Sam, a staff member, in a real browser: logs in, scores a finished study (the real worker computes the
run while the page shows its progress), changes the weights and watches the ranks move, decides every
topic's tier with a rationale, previews the edition, publishes it; the public edition page then shows
the matrix, the ranks with their intervals and the radar, and its Build-Your-Own-Radar CSV loads in BYOR
(or, when the topics leave a matrix quadrant empty, the page says why there is none)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from foresight.delphi.models import Study
from foresight.delphi.services.simulation import study_simulate
from foresight.priorities import exports
from foresight.priorities.models import Edition, ScoringRun
from tests.factories import staff_user

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"
BYOR_HEADER = ["name", "ring", "quadrant", "isNew", "status", "description"]


def test_staff_decide_preview_and_publish_an_edition(
    page: Any,
    live_server: Any,
    transactional_catalog: Any,
    celery_worker_process: dict[str, str],
    django_user_model: Any,
) -> None:
    result = study_simulate(experts=40, topics=8, seed=7, rounds=1, timeout=120)  # aggregated by the worker
    study = Study.objects.get(code=result.study)
    staff_user("sam", password=PASSWORD)
    base = live_server.url
    # Django admin's login page links no icon, so the browser asks for /favicon.ico (a 404 the page fixture
    # would report as a console error); answer it here, it is not what this journey tests.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))

    # Anonymous → the admin login, then back to the workbench.
    page.goto(f"{base}/staff/priorities/")
    assert "/admin/login/" in page.url
    page.locator("#id_username").fill("sam")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Priority workbench")
    expect(page.get_by_role("heading", level=2, name=re.compile(re.escape(study.title_en)))).to_be_visible()

    # A run with the default weights: queued, computed by the worker, the page polls and reloads itself.
    page.get_by_role("link", name="New scoring run").click()
    page.get_by_label("Seed").fill("7")
    page.get_by_label("Top k").fill("3")
    page.get_by_label("Bootstrap samples (B)").fill("200")
    page.get_by_role("button", name="Create the run").click()
    expect(page.locator("#run-table")).to_be_visible(timeout=60_000)
    first = ScoringRun.objects.get(study=study)
    expect(page.locator("#matrix-competitiveness svg")).to_be_visible()
    expect(page.locator("#matrix-timing svg")).to_be_visible()
    ranked = first.results["ranking"]
    expect(page.locator("#run-table tbody tr")).to_have_count(len(ranked))

    # Sorting is a click on a column header (htmx swaps the table and the address keeps the state).
    page.locator('th a[data-sort="score"]').click()
    expect(page).to_have_url(re.compile(r"sort=score"))
    expect(page.locator('th[aria-sort="descending"] a[data-sort="score"]')).to_be_visible()

    # Compare weights: the policy list and scenario pull instead of importance; the ranks move.
    page.locator("#cw-importance_index").fill("0")
    page.locator("#cw-importance_index_high").fill("0")
    page.locator("#cw-policy_list").fill("1")
    page.locator("#cw-scenario_pull").fill("1")
    page.get_by_role("button", name="Run with these weights").click()
    expect(page.locator("#movement-summary")).to_be_visible(timeout=60_000)
    second = ScoringRun.objects.exclude(pk=first.pk).get(study=study)
    before = {c: first.results["topics"][c]["rank"] for c in ranked}
    after = {c: second.results["topics"][c]["rank"] for c in second.results["ranking"]}
    moved = [c for c in after if before[c] != after[c]]
    assert moved, "the new weights should reorder some topics"
    expect(page.locator(".wb-move .wb-up, .wb-move .wb-down")).to_have_count(len(moved))
    climber = max(after, key=lambda c: before[c] - after[c])
    if before[climber] > after[climber]:
        expect(page.locator(f'tr[data-topic="{climber}"] .wb-up')).to_have_text(f"↑{before[climber] - after[climber]}")

    # A draft edition from the second run.
    page.get_by_role("link", name="Create draft edition").click()
    page.get_by_label("Code:", exact=True).fill("future-2040")
    page.get_by_label("Title (English)").fill("Priority directions 2040")
    page.get_by_role("button", name="Create the draft").click()
    entries = page.locator("article.wb-entry")
    ranked_total = len(after)
    total = len(second.results["topics"])  # the topics below the minimum evidence too, in their own tier
    assert total > ranked_total, "the simulation is chosen so that some topics lack the minimum evidence"
    expect(entries).to_have_count(total)
    expect(page.locator("#decided-count")).to_contain_text(f"0 of {total} decided")

    # Each decision saves in place (a missing rationale is a 400 shown inline: tests/priorities/test_workbench.py).
    for i in range(total):
        entry = entries.nth(i)
        if i == 0:
            entry.get_by_label("Final tier").select_option("watch")
        entry.get_by_label("Rationale (English)").fill(f"Decided in the browser, entry {i + 1}.")
        entry.get_by_role("button", name="Save decision").click()
        expect(entries.nth(i)).to_contain_text("Saved.")
        expect(page.locator("#decided-count")).to_contain_text(f"{i + 1} of {total} decided")

    # The preview is the public page of the draft.
    page.get_by_role("link", name="Preview").click()
    expect(page.locator("#preview-banner")).to_be_visible()
    expect(page.locator("svg.matrix-chart")).to_be_visible()
    expect(page.locator("svg.radar-chart")).to_be_visible()
    expect(page.locator(".ranked-list")).to_contain_text("Decided in the browser, entry 1.")
    assert Edition.objects.get(code="future-2040").status == Edition.Status.DRAFT

    # Publish, after ticking the confirmation.
    page.locator("#preview-banner").get_by_role("link", name="Publish…").click()
    page.get_by_label(re.compile("I have checked the preview")).check()
    page.get_by_role("button", name="Publish now").click()
    expect(page).to_have_url(f"{base}/editions/future-2040/")
    edition = Edition.objects.get(code="future-2040")
    assert edition.status == Edition.Status.PUBLISHED and edition.fingerprint

    # The public page: matrix, ranks with their intervals, radar.
    expect(page.get_by_role("heading", level=1)).to_have_text("Priority directions 2040")
    expect(page.locator("svg.matrix-chart")).to_be_visible()
    expect(page.locator(".ranked-list > li")).to_have_count(ranked_total)
    expect(page.locator(".ranked-list .interval-text")).to_have_count(ranked_total)
    expect(page.locator(".insufficient-list > li")).to_have_count(total - ranked_total)
    # A topic's figures open in place, with every withheld figure's reason.
    page.locator(".ranked-list details.entry-details summary").first.click()
    expect(page.locator(".ranked-list details.entry-details").first.locator(".entry-figures")).to_be_visible()
    expect(page.locator(".ranked-list .interval-text").first).to_contain_text(re.compile(r"interval \d+(\.\d)?–\d+"))
    expect(page.locator("svg.radar-chart")).to_be_visible()
    expect(page.locator(".ranked-list")).to_contain_text("Decided in the browser, entry 1.")

    # The Build-Your-Own-Radar CSV, downloaded as a visitor would — offered only when the edition's topics
    # fill BYOR's four quadrants (those of the matrix); otherwise the page says which are empty.
    quadrants = [(e.data.get("quadrant") or {}).get("importance_competitiveness") for e in edition.entries.all()]
    placed = [q for q in quadrants if q]
    downloads = page.locator("section[aria-labelledby=downloads-h]")
    link = downloads.get_by_role("link", name="Radar for Build-Your-Own-Radar by matrix quadrant (CSV)")
    if len(set(placed)) < 4:
        expect(link).to_have_count(0)
        expect(downloads).to_contain_text("Build-Your-Own-Radar draws exactly four quadrants")
    else:
        with page.expect_download() as info:
            link.click()
        with open(info.value.path(), encoding="utf-8-sig", newline="") as fh:
            body = fh.read()
        assert exports.byor_problems(body) == []
        rows = list(csv.reader(io.StringIO(body)))
        assert rows[0] == BYOR_HEADER
        assert len(rows) == len(placed) + 1
        assert {row[1] for row in rows[1:]} <= {"Priority", "Key", "Watch"}
