"""The public pipeline: its figures are counts over published pilots computed once (``pipeline_get``) and
shown alike by the page, the API and the downloads; here they are recomputed independently from the rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import statistics
from collections import Counter
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from scenarios.exchange import pilot_selectors as selectors
from scenarios.exchange import pilots as svc
from scenarios.exchange.pipeline import PilotFacts, columns_chart, period_of, pipeline_figures
from scenarios.models import Pilot, PilotStageChange
from tests.exchange.pilot_world import build_world, change_of, open_pilot, report

pytestmark = pytest.mark.django_db

STAGES = ["opened", "pilot", "demonstration", "scaling", "mainstream", "stopped"]


@pytest.fixture
def world(catalog: Any) -> dict[str, Any]:
    return build_world()


def day(y: int, m: int, d: int) -> dt.date:
    return dt.date(y, m, d)


def grow(world: dict[str, Any], *, region: str, course: list[tuple[str, dt.date]], verify: int) -> Pilot:
    """A pilot through ``course`` (the first is its opening), the first ``verify`` changes verified."""
    pilot = open_pilot(world, on=course[0][1], region_en=region, region_zh="")
    for stage, on in course[1:]:
        reason = {"stop_reason_en": "It did not work."} if stage == "stopped" else {}
        svc.pilot_stage_add(actor=world["ann"], pilot=pilot, stage=stage, on=on, evidence=report(), **reason)
    for stage, _on in course[:verify]:
        svc.pilot_stage_verify(actor=world["cora"], change=change_of(pilot, stage))
    return pilot


@pytest.fixture
def pipeline_world(world: dict[str, Any]) -> dict[str, Any]:
    grow(world, region="Shanghai", course=[("opened", day(2024, 2, 1)), ("pilot", day(2024, 5, 1))], verify=2)
    grow(
        world,
        region="Shanghai",
        course=[("opened", day(2024, 3, 1)), ("demonstration", day(2025, 3, 1)), ("scaling", day(2025, 8, 1))],
        verify=3,
    )
    grow(world, region="Beijing", course=[("opened", day(2025, 1, 10)), ("stopped", day(2025, 2, 10))], verify=2)
    # Claimed but not verified beyond the opening; and one whose opening is not verified at all.
    grow(world, region="Beijing", course=[("opened", day(2025, 6, 1)), ("pilot", day(2025, 9, 1))], verify=1)
    grow(world, region="Secret City", course=[("opened", day(2025, 7, 1))], verify=0)
    return world


def recompute(period: str) -> dict[str, Any]:
    """The figures again, straight from the rows and written separately from ``pipeline.py``."""
    published = Pilot.objects.exclude(verified_stage="")
    rows = list(published.values("pk", "verified_stage", "region_en", "demand__setting", "demand__scenario__setting"))
    by_stage = Counter(r["verified_stage"] for r in rows)
    verified = PilotStageChange.objects.filter(status="verified", pilot__in=published)
    dates: dict[int, dict[str, dt.date]] = {}
    for change in verified.order_by("-on"):
        dates.setdefault(change.pilot_id, {})[change.stage] = change.on
    reached = Counter()
    for stages in dates.values():
        for stage, on in stages.items():
            key = str(on.year) if period == "year" else f"{on.year}-Q{(on.month + 2) // 3}"
            reached[(key, stage)] += 1
    durations = {}
    for stage in STAGES[1:]:
        days = [(s[stage] - s["opened"]).days for s in dates.values() if stage in s]
        durations[stage] = (len(days), statistics.median(days) if days else None)
    directions: Counter[str] = Counter()
    for r in rows:
        for slug in Pilot.objects.get(pk=r["pk"]).demand.scenario.directions.values_list("slug", flat=True):
            directions[slug] += 1
    return {
        "total": len(rows),
        "by_stage": {s: by_stage.get(s, 0) for s in STAGES},
        "regions": Counter(r["region_en"] for r in rows),
        "settings": Counter(r["demand__scenario__setting"] or r["demand__setting"] for r in rows),
        "directions": directions,
        "reached": reached,
        "durations": durations,
    }


@pytest.mark.parametrize("period", ["year", "quarter"])
def test_the_figures_match_an_independent_recomputation(pipeline_world: dict[str, Any], period: str) -> None:
    figures = selectors.pipeline_get(period=period)
    expected = recompute(period)
    assert figures["total"] == expected["total"] == 4
    assert figures["by_stage"] == expected["by_stage"]
    assert figures["by_stage"] == {
        "opened": 1,
        "pilot": 1,
        "demonstration": 0,
        "scaling": 1,
        "mainstream": 0,
        "stopped": 1,
    }
    assert {r["key"]: r["total"] for r in figures["by_region"]} == dict(expected["regions"])
    assert "Secret City" not in json.dumps(figures)
    assert {r["key"]: r["total"] for r in figures["by_setting"]} == dict(expected["settings"])
    assert {r["key"]: r["total"] for r in figures["by_direction"]} == dict(expected["directions"])
    for group in figures["by_region"] + figures["by_setting"] + figures["by_direction"]:
        assert sum(group["stages"].values()) == group["total"]
    got = {(row["period"], s): n for row in figures["over_time"] for s, n in row["stages"].items() if n}
    assert got == dict(expected["reached"])
    periods = [row["period"] for row in figures["over_time"]]
    assert periods == (
        ["2024", "2025"] if period == "year" else [f"{y}-Q{q}" for y in (2024, 2025) for q in (1, 2, 3, 4)][:7]
    )
    assert {d["stage"]: (d["count"], d["median_days"]) for d in figures["durations"]} == expected["durations"]


def test_page_api_and_downloads_show_the_same_figures(pipeline_world: dict[str, Any]) -> None:
    figures = selectors.pipeline_get(period="quarter")
    api = json.loads(Client().get("/api/v1/pipeline/?period=quarter").content)
    assert api == json.loads(json.dumps(figures))
    download = json.loads(Client().get(reverse("pipeline-json") + "?period=quarter").content)
    assert download == api
    rows = list(csv.DictReader(io.StringIO(Client().get(reverse("pipeline-csv") + "?period=quarter").content.decode())))
    assert {r["stage"]: int(r["value"]) for r in rows if r["figure"] == "by_stage"} == figures["by_stage"]
    medians = {r["stage"]: r["value"] for r in rows if r["figure"] == "median_days_from_opening"}
    assert medians["scaling"] == str(figures["durations"][2]["median_days"])
    page = Client().get(reverse("pipeline") + "?period=quarter").content.decode()
    assert "<svg" in page and "2025-Q3" in page and "<table" in page and "<script" not in page.split("</header>")[-1]
    assert Client().get(reverse("pipeline") + "?period=decade").status_code == 400
    assert Client().get("/api/v1/pipeline/?period=decade").status_code == 400
    assert Client().get("/api/v1/pipeline/?period=").status_code == 400


def test_the_pilot_api_filters_and_refuses_bad_filters(pipeline_world: dict[str, Any]) -> None:
    def codes(query: str) -> int:
        response = Client().get(f"/api/v1/pilots/{query}")
        assert response.status_code == 200, response.content
        return int(json.loads(response.content)["count"])

    assert codes("") == 4
    assert codes("?stage=stopped") == 1
    assert codes("?region=Beijing") == 2
    assert codes("?setting=hospital") == 4 and codes("?setting=farm") == 0
    slug = pipeline_world["demand"].scenario.directions.values_list("slug", flat=True).first()
    assert codes(f"?direction={slug}") == 4
    for bad in ("?stage=nirvana", "?stage=", "?direction=no-such-direction", "?setting=moon"):
        assert Client().get(f"/api/v1/pilots/{bad}").status_code == 400, bad
    assert Client().get(reverse("pilot-list") + "?stage=nirvana").status_code == 400


def test_the_pilot_downloads_hold_only_verified_stages(pipeline_world: dict[str, Any]) -> None:
    rows = list(csv.DictReader(io.StringIO(Client().get(reverse("pilots-csv")).content.decode())))
    assert len({r["pilot"] for r in rows}) == 4
    assert Counter(r["stage"] for r in rows) == Counter(
        PilotStageChange.objects.filter(status="verified").values_list("stage", flat=True)
    )
    listed = json.loads(Client().get(reverse("pilots-json")).content)
    assert sum(len(p["timeline"]) for p in listed) == len(rows)


def test_the_pure_figures_and_chart(world: dict[str, Any]) -> None:
    assert period_of(day(2025, 12, 31), "quarter") == "2025-Q4" and period_of(day(2025, 1, 1), "year") == "2025"
    facts = [
        PilotFacts("a", "scaling", "farm", "X", ("d1",), {"opened": day(2020, 1, 1), "scaling": day(2020, 1, 11)}),
        PilotFacts("b", "scaling", "farm", "", (), {"opened": day(2020, 1, 1), "scaling": day(2020, 1, 4)}),
    ]
    figures = pipeline_figures(facts)
    assert figures["durations"][2] == {"stage": "scaling", "count": 2, "median_days": 6.5}
    slow = PilotFacts("c", "scaling", "farm", "", (), {"opened": day(2020, 1, 1), "scaling": day(2020, 12, 31)})
    assert pipeline_figures([*facts, slow])["durations"][2]["median_days"] == 10  # the middle one, not the mean
    assert figures["by_region"] == [{"key": "X", "total": 1, "stages": {**dict.fromkeys(STAGES, 0), "scaling": 1}}]
    chart = columns_chart(figures["over_time"], series=[(s, s) for s in STAGES])
    bars = chart["groups"][0]["bars"]
    assert len(bars) == 6 and float(bars[0]["height"]) == float(bars[3]["height"]) > 0 == float(bars[1]["height"])
    with pytest.raises(ValueError):
        pipeline_figures(facts, period="decade")


def test_lists_and_api_cost_a_fixed_number_of_queries(
    pipeline_world: dict[str, Any], django_assert_max_num_queries: Any, settings: Any
) -> None:
    settings.PUBLIC_CACHE_SECONDS = 0
    for _ in range(6):
        grow(pipeline_world, region="Wuhan", course=[("opened", day(2025, 3, 3)), ("pilot", day(2025, 4, 4))], verify=2)
    for url in (
        "/api/v1/pilots/",
        "/api/v1/pipeline/",
        reverse("pipeline"),
        reverse("pilot-list"),
        reverse("pilots-csv"),
        reverse("scenario-detail", args=[pipeline_world["demand"].scenario.code]),
    ):
        with django_assert_max_num_queries(20):
            assert Client().get(url).status_code == 200
    review = Client()
    review.force_login(pipeline_world["cora"])
    with django_assert_max_num_queries(20):
        assert review.get(reverse("exchange:pilot-review")).status_code == 200
