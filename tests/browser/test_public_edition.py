"""A visitor reads a published priority edition in a real browser: the matrix, the rank intervals, the
radar, the direction filter with and without JavaScript, and the page on a phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from foresight.catalog.models import Topic
from foresight.delphi.models import Study
from foresight.delphi.services.aggregation import round_aggregate
from foresight.delphi.services.simulation import study_simulate
from foresight.priorities import charts
from foresight.priorities.models import Edition
from foresight.priorities.services.editions import edition_draft_create, edition_entry_decide, edition_publish
from foresight.priorities.services.runs import scoring_run_create, scoring_run_execute
from tests.factories import AreaFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
STATIC = Path(__file__).resolve().parents[2] / "static"


@pytest.fixture
def edition(transactional_db: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Edition]:
    """A published edition over six topics in two directions (tasks run in-process, no worker needed)."""
    from foresight.core import queue

    def send_on_commit(task: Any, *args: Any) -> None:
        # Aggregation runs at once (the real service); the scoring run is computed below.
        if getattr(task, "name", task) == "delphi.round_aggregate":  # services queue by name
            round_aggregate(round_id=args[0])

    monkeypatch.setattr(queue, "send_on_commit", send_on_commit)
    areas = [AreaFactory(name_en="Robotics area"), AreaFactory(name_en="Energy area")]
    for i in range(6):
        TopicFactory(area=areas[i % 2], name_en=f"Browser topic {i}")
    study = Study.objects.get(code=study_simulate(experts=16, topics=6, seed=21, rounds=1, timeout=30).study)
    run = scoring_run_create(study=study, seed=5, top_k=2, B=200)
    scoring_run_execute(run_id=run.pk)
    run.refresh_from_db()
    draft = edition_draft_create(run=run, code="browser-ed", title_en="Browser priorities")
    for entry in draft.entries.select_related("topic"):
        edition_entry_decide(entry=entry, tier=entry.tier, rationale_en=f"Decided for {entry.topic.name_en}.")
    yield edition_publish(edition=draft)


def _directions(edition: Edition) -> tuple[Any, list[str], list[str]]:
    entries = list(edition.entries.select_related("topic__area__direction"))
    direction = entries[0].topic.area.direction
    inside = [e.topic.name_en for e in entries if e.topic.area.direction_id == direction.pk]
    outside = [e.topic.name_en for e in entries if e.topic.area.direction_id != direction.pk]
    return direction, inside, outside


def test_the_edition_page_shows_matrix_intervals_and_radar_and_filters_in_place(
    page: Any, live_server: Any, edition: Edition
) -> None:
    count = edition.entries.count()
    page.goto(live_server.url + "/editions/")
    page.get_by_role("link", name="Browser priorities").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Browser priorities")
    expect(page.locator("svg.matrix-chart")).to_be_visible()
    expect(page.locator("svg.matrix-chart .point")).to_have_count(count)
    expect(page.locator(".ranked-item rect.bar")).to_have_count(count)
    expect(page.locator("svg.radar-chart .blip")).to_have_count(count)
    expect(page.get_by_role("table", name="The blips of the radar")).to_be_visible()
    # Every drawn bar has a width and lies inside its track.
    for bar in page.locator(".ranked-item rect.bar").all()[:3]:
        box = bar.bounding_box()
        assert box and box["width"] > 0

    # The direction filter swaps the list in place (htmx) and the URL follows.
    direction, inside, outside = _directions(edition)
    assert page.evaluate("() => { window.__sameDocument = true; return true; }")
    page.get_by_label("Direction", exact=True).select_option(direction.slug)
    expect(page.locator("#entries .ranked-item")).to_have_count(len(inside))
    for name in outside:
        expect(page.locator("#entries .ranked-list")).not_to_contain_text(name)
    assert page.evaluate("() => window.__sameDocument === true"), "the list was not swapped in place"
    assert f"direction={direction.slug}" in page.url


def test_the_direction_filter_works_without_javascript(browser: Any, live_server: Any, edition: Edition) -> None:
    direction, inside, outside = _directions(edition)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/editions/browser-ed/")
    page.get_by_label("Direction", exact=True).select_option(direction.slug)
    page.get_by_role("button", name="Apply").click()
    assert f"direction={direction.slug}" in page.url
    expect(page.locator("#entries .ranked-item")).to_have_count(len(inside))
    for name in outside:
        expect(page.locator("#entries .ranked-list")).not_to_contain_text(name)
    context.close()


def test_the_edition_and_topic_pages_fit_a_phone(browser: Any, live_server: Any, edition: Edition) -> None:
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    topic = Topic.objects.filter(edition_entries__edition=edition).first()
    for path in ("/editions/browser-ed/", "/editions/", f"/topics/{topic.code}/", "/zh-hans/editions/browser-ed/"):
        page.goto(live_server.url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        # Every topic's figures open, as a reader on a phone would open them.
        page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide on a 375px phone"
    expect(page.locator("svg.radar-chart")).to_be_visible()
    context.close()


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def _label_boxes(page: Any) -> list[dict[str, float] | None]:
    """The box of every matrix point's label as the browser lays it out (None: the point has none)."""
    out = []
    for point in page.locator("svg.matrix-chart g.point").all():
        label = point.locator(".point-label")
        out.append(label.bounding_box() if label.count() else None)
    return out


def _assert_apart(labels: list[dict[str, float] | None]) -> None:
    # Labels against labels: Chromium's box of a stroked path is inflated by the miter limit, so labels
    # against symbols are checked on the geometry (tests/priorities/test_charts.py).
    for i, label in enumerate(labels):
        for j, other in enumerate(labels[:i]):
            if label is not None and other is not None:
                assert not _overlap(label, other), f"the labels of points {i} and {j} overlap"


def test_matrix_labels_do_not_overlap_on_a_phone(browser: Any, live_server: Any, edition: Edition) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True)
    page = context.new_page()
    page.goto(live_server.url + "/editions/browser-ed/")
    expect(page.locator("svg.matrix-chart")).to_be_visible()
    boxes = _label_boxes(page)
    assert len(boxes) == edition.entries.count()
    unlabelled = boxes.count(None)
    assert page.locator("figure.chart .crowded .crowded-point").count() == unlabelled  # left out, listed instead
    _assert_apart(boxes)
    context.close()


def test_a_tight_cluster_of_matrix_labels_stays_apart_in_the_browser_fonts(browser: Any) -> None:
    """The chart estimates label widths from the text; here the browser lays out a cluster of 30 topics
    at 390 px with the site's own stylesheets and measures."""
    points = [
        charts.MatrixPoint(
            key=f"t{i}",
            label=str(i + 1),
            title=f"T{i}",
            x=45 + (i * 7919 % 97) / 97 * 16,  # 30 topics within 16 index points each way
            y=50 + (i * 104729 % 89) / 89 * 16,
            tier=charts.TIERS[i % 3],
        )
        for i in range(30)
    ]
    names = {"strengthen": "Strengthen", "lead_maintain": "Lead / maintain", "watch": "Watch", "deprioritise": "Later"}
    chart = charts.matrix_chart(points, x_cut=50, y_cut=50, labels={"x_axis": "x", "y_axis": "y", **names})
    css = "".join((STATIC / "css" / name).read_text() for name in ("site.css", "editions.css"))
    marks = "".join(
        f'<g class="point"><path class="sym tier-{p["tier"]}" d="{p["d"]}"/>'
        + (
            f'<text class="point-label" x="{p["label_x"]}" y="{p["label_y"]}" text-anchor="{p["anchor"]}">'
            f"{p['label']}</text>"
            if p["label"]
            else ""
        )
        + "</g>"
        for p in chart["points"]
    )
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=3)
    page = context.new_page()
    page.set_content(
        f'<style>{css}</style><svg class="chart-svg matrix-chart" viewBox="{chart["view_box"]}">{marks}</svg>'
    )
    boxes = _label_boxes(page)
    labelled = len(boxes) - boxes.count(None)
    assert labelled >= 10 and labelled + sum(len(g["points"]) for g in chart["crowded"]) == len(points)
    _assert_apart(boxes)
    context.close()
