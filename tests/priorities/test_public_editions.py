"""The public side of priority editions, read by a visitor: the list, an edition page (matrix, ranked
list with rank intervals, radar, direction filter), the open-data downloads, the API, the home teaser
and a topic's history.  Drafts are 404 everywhere; only published aggregates ever leave."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
import schemathesis
from django.test import Client

from foresight import disclosure
from foresight.catalog.models import Topic
from foresight.delphi.models import RoundStat, Study
from foresight.delphi.services.simulation import study_simulate
from foresight.delphi.services.studies import study_create
from foresight.numbers import display
from foresight.priorities import exports
from foresight.priorities.models import Edition, EditionEntry, ScoringRun
from foresight.priorities.services.editions import edition_draft_create, edition_entry_decide, edition_publish
from tests.factories import TopicFactory
from tests.priorities.conftest import FORMULA, answers, panelist, publish, run_round, scored

pytestmark = pytest.mark.django_db

# --- building published editions through the real services ------------------------------------


@pytest.fixture
def study(mini_catalog: list[Topic], queued: list[int]) -> Study:
    result = study_simulate(experts=16, topics=6, seed=3, rounds=1, timeout=120)
    return Study.objects.get(code=result.study)


@pytest.fixture
def editions(study: Study) -> dict[str, Edition]:
    """Two published editions of one study (the second replaces the first and moves topics), and a draft."""
    run = scored(study)
    first = publish(run, "ed-2026", "Priority directions 2026", first_rationale=FORMULA, rationale_zh=False)
    ranking = run.results["ranking"]
    moved = {ranking[0]: "watch", ranking[-1]: "priority"}
    second = publish(run, "ed-2026b", "Priority directions 2026 (corrected)", tiers=moved, replaces=first)
    draft = edition_draft_create(run=run, code="ed-draft-zq", title_en="Unpublished zq draft", replaces=second)
    return {"first": first, "second": second, "draft": draft}


@pytest.fixture
def visitor() -> Client:
    return Client()


def text(response: Any) -> str:
    return response.content.decode()


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SVG_SELF_CLOSING = {"path", "line", "rect", "circle", "polyline"}


class Structure(HTMLParser):
    """Balanced tags, unique ids, labelled form controls: a small stand-in for an HTML validator."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.ids: set[str] = set()
        self.labels: set[str] = set()
        self.controls: list[str] = []
        self.headings: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if attr.get("id"):
            if attr["id"] in self.ids:
                self.problems.append(f"duplicate id {attr['id']}")
            self.ids.add(str(attr["id"]))
        if tag == "label" and attr.get("for"):
            self.labels.add(str(attr["for"]))
        if tag in ("select", "textarea") or (tag == "input" and attr.get("type") not in ("hidden", "submit")):
            self.controls.append(str(attr.get("id") or ""))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if "style" in attr:
            self.problems.append(f"inline style on <{tag}>")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID and tag not in SVG_SELF_CLOSING:
            self.problems.append(f"self-closed <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else '-'}>")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()


def assert_valid_structure(html: str, *, fragment: bool = False) -> None:
    parser = Structure()
    parser.feed(html)
    parser.close()
    problems = parser.problems + [f"<{t}> never closed" for t in parser.stack]
    problems += [f"form control #{c} has no label" for c in parser.controls if c not in parser.labels]
    if not fragment:
        assert re.search(r'<html lang="(en|zh-Hans)">', html)
        assert parser.headings.count(1) == 1, "one h1 per page"
    jumps = [(a, b) for a, b in zip(parser.headings, parser.headings[1:], strict=False) if b > a + 1]
    problems += [f"heading level jumps from h{a} to h{b}" for a, b in jumps]
    assert not problems, problems


# --- pages ---------------------------------------------------------------------------------------


def test_the_list_shows_published_editions_with_tier_counts_and_replacement_notes(
    visitor: Client, editions: dict[str, Edition]
) -> None:
    response = visitor.get("/editions/")
    assert response.status_code == 200
    html = text(response)
    assert "Priority directions 2026 (corrected)" in html and "/editions/ed-2026/" in html
    assert "Replaced by" in html and "Replaces" in html
    first = editions["first"]
    counts = {t: first.entries.filter(tier=t).count() for t in ("priority", "key", "watch")}
    card = html[html.index('href="/editions/ed-2026/"') :]
    for tier, n in counts.items():
        assert re.search(rf"<dt>{tier.title()}</dt><dd>{n}</dd>", card), (tier, n)
    # The draft replaces the second edition, but a visitor never learns of it.
    assert "ed-draft-zq" not in html and "Unpublished zq draft" not in html


def test_an_edition_page_shows_matrix_ranked_intervals_radar_method_and_downloads(
    visitor: Client, editions: dict[str, Edition]
) -> None:
    edition = editions["second"]
    response = visitor.get("/editions/ed-2026b/")
    assert response.status_code == 200
    html = text(response)
    entries = list(edition.entries.select_related("topic").order_by("rank"))
    # Matrix: an SVG with both cut lines, the quadrant names, a symbol per drawn topic and a table.
    assert 'class="chart-svg matrix-chart"' in html
    assert html.count('class="cut"') == 2
    for quadrant in ("Strengthen", "Lead / maintain", "Hold", "Deprioritise"):
        assert quadrant in html
    assert "The numbers of the matrix" in html
    # Ranked list: every topic with its rank interval drawn and written, its tier badge and rationale.
    assert html.count('class="ranked-item') == len(entries)
    assert html.count('class="bar tier-') == len(entries)
    for entry in entries:
        assert entry.topic.name_en in html
        assert f"Because {entry.topic.code} matters." in html
        assert f"interval {display(entry.rank_low, 'rank')}–{display(entry.rank_high, 'rank')}" in html
    # Radar: one blip per topic, the rings, the legend and its table.
    assert html.count('class="blip"') == len(entries)
    assert "The blips of the radar" in html
    for label in ("Moved in", "Moved out", "Unchanged", "New"):
        assert label in html
    # Method, fingerprint, downloads; no inline style or script (the CSP forbids them).
    assert edition.fingerprint in html
    for path in ("entries.csv", "edition.json"):
        assert f'href="/editions/ed-2026b/{path}"' in html
    # The Build-Your-Own-Radar file is offered when the topics fill the matrix's four quadrants (test_byor.py).
    quadrants = {e.data["quadrant"]["importance_competitiveness"] for e in entries} - {None}
    assert ('href="/editions/ed-2026b/radar.csv"' in html) is (len(quadrants) == 4)
    assert "style=" not in html and "<script>" not in html
    assert 'href="/static/css/editions.css"' in html


def test_every_edition_page_is_well_structured_html(visitor: Client, editions: dict[str, Edition]) -> None:
    topic = editions["second"].entries.select_related("topic").first().topic
    for path in ("/editions/", "/editions/ed-2026b/", "/zh-hans/editions/ed-2026/", f"/topics/{topic.code}/", "/"):
        response = visitor.get(path)
        assert response.status_code == 200, path
        assert_valid_structure(text(response))
    swap = visitor.get("/editions/ed-2026b/?direction=nowhere", headers={"HX-Request": "true"})
    assert_valid_structure(text(swap), fragment=True)


def test_the_rationale_follows_the_language_and_falls_back_to_english(
    visitor: Client, editions: dict[str, Edition]
) -> None:
    entry = editions["second"].entries.select_related("topic").first()
    zh = text(visitor.get("/zh-hans/editions/ed-2026b/"))
    assert f"因为{entry.topic.code}重要。" in zh
    assert f"Because {entry.topic.code} matters." not in zh
    assert entry.topic.name_zh in zh and 'lang="zh-Hans"' in zh
    # The first edition has no Chinese rationales: English stands in.
    first = editions["first"].entries.select_related("topic").order_by("rank")[1]
    assert f"Because {first.topic.code} matters." in text(visitor.get("/zh-hans/editions/ed-2026/"))


def test_the_direction_filter_narrows_the_list_with_and_without_htmx(
    visitor: Client, editions: dict[str, Edition]
) -> None:
    entries = list(editions["second"].entries.select_related("topic__area__direction"))
    direction = entries[0].topic.area.direction
    inside = [e.topic.name_en for e in entries if e.topic.area.direction_id == direction.pk]
    outside = [e.topic.name_en for e in entries if e.topic.area.direction_id != direction.pk]
    assert inside and outside
    full = visitor.get(f"/editions/ed-2026b/?direction={direction.slug}")
    assert full.status_code == 200
    ranked = text(full).split('id="ranked-h"')[1].split('id="radar-h"')[0]
    assert all(name in ranked for name in inside) and not any(name in ranked for name in outside)
    assert f'<option value="{direction.slug}" selected>' in text(full)
    swap = visitor.get(f"/editions/ed-2026b/?direction={direction.slug}", headers={"HX-Request": "true"})
    assert swap.status_code == 200
    body = text(swap)
    assert body.lstrip().startswith('<div id="entries"') and "<html" not in body
    assert all(name in body for name in inside) and not any(name in body for name in outside)
    assert "HX-Request" in swap["Vary"]


def test_an_unknown_direction_is_a_400_with_a_clear_message(visitor: Client, editions: dict[str, Edition]) -> None:
    for headers in ({}, {"HX-Request": "true"}):
        response = visitor.get("/editions/ed-2026b/?direction=atlantis", headers=headers)
        assert response.status_code == 400
        assert "“atlantis” is not a direction of this edition" in text(response)
        assert 'role="alert"' in text(response)
    # NUL bytes and very long values are refused the same way, never a 500.
    assert visitor.get("/editions/ed-2026b/?direction=%00" + "x" * 500).status_code == 400


def test_drafts_and_unknown_codes_are_404_everywhere(visitor: Client, editions: dict[str, Edition]) -> None:
    for path in (
        "/editions/ed-draft-zq/",
        "/editions/ed-draft-zq/entries.csv",
        "/editions/ed-draft-zq/edition.json",
        "/editions/ed-draft-zq/radar.csv",
        "/zh-hans/editions/ed-draft-zq/",
        "/api/v1/editions/ed-draft-zq/",
        "/editions/no-such-edition/",
        "/editions/no-such-edition/radar.csv",
        "/api/v1/editions/no-such-edition/",
    ):
        response = visitor.get(path)
        assert response.status_code == 404, path
        assert b"Unpublished zq draft" not in response.content


def test_the_radar_compares_with_the_replaced_edition(visitor: Client, editions: dict[str, Edition]) -> None:
    second = editions["second"]
    ranking = second.scoring_run.results["ranking"]
    first_tiers = dict(editions["first"].entries.values_list("topic__code", "tier"))
    html = text(visitor.get("/editions/ed-2026b/"))
    table = html.split("The blips of the radar")[1]
    rows = {
        code: row
        for code, row in re.findall(
            r'<tr><td class="num">\d+</td><th scope="row"><a href="/topics/([^/]+)/">(.*?)</tr>', table
        )
    }
    order = {"priority": 0, "key": 1, "watch": 2}
    for code in ranking:
        now = second.entries.get(topic__code=code).tier
        expected = (
            "Moved in"
            if order[now] < order[first_tiers[code]]
            else "Moved out"
            if order[now] > order[first_tiers[code]]
            else "Unchanged"
        )
        assert expected in rows[code], (code, first_tiers[code], now)
    assert "Compared with" in html and 'href="/editions/ed-2026/"' in html
    # The first edition has nothing before it: every blip is new.
    first = text(visitor.get("/editions/ed-2026/"))
    assert first.count('class="sym status-new"') >= len(ranking)
    assert "status-moved_in" not in first.split('id="radar-h"')[1].split('class="legend"')[0]


# --- downloads -----------------------------------------------------------------------------------


def test_the_entries_csv_holds_published_aggregates_and_guards_against_formulas(
    visitor: Client, editions: dict[str, Edition]
) -> None:
    response = visitor.get("/editions/ed-2026/entries.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="ed-2026-entries.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text(response))))
    entries = list(editions["first"].entries.select_related("topic").order_by("rank"))
    assert [r["topic"] for r in rows] == [e.topic.code for e in entries]
    top = rows[0]
    assert top["rationale_en"] == "'" + FORMULA  # neutralised for spreadsheets
    for row, entry in zip(rows, entries, strict=True):
        assert int(row["rank"]) == entry.rank and row["tier"] == entry.tier
        # Figures at their published precision, with the decimals the page prints.
        assert row["rank_low"] == display(entry.rank_low, "rank") and row["rank_high"] == display(
            entry.rank_high, "rank"
        )
        assert row["score"] == display(entry.score, "score")
        importance = entry.data["indices"]["importance"]["index"]
        assert row["importance_index"] == ("" if importance is None else display(importance, "index"))
        assert int(row["n"]) >= editions["first"].study.k_threshold


def test_the_byor_csv_loads_in_byor_or_answers_409_when_a_quadrant_is_empty(
    visitor: Client, editions: dict[str, Edition]
) -> None:
    """Which quadrants this simulated edition fills depends on the simulation; test_byor.py pins both cases."""
    entries = list(editions["second"].entries.all())
    quadrants = {e.data["quadrant"]["importance_competitiveness"] for e in entries} - {None}
    for url in ("/editions/ed-2026b/radar.csv", "/zh-hans/editions/ed-2026b/radar.csv"):
        response = visitor.get(url)
        if len(quadrants) < 4:
            assert response.status_code == 409, url
            continue
        assert response.status_code == 200, url
        body = text(response)
        assert body.splitlines()[0] == "name,ring,quadrant,isNew,status,description"
        assert exports.byor_problems(body) == [], url


def test_the_json_download_is_the_api_document(visitor: Client, editions: dict[str, Edition]) -> None:
    download = visitor.get("/editions/ed-2026b/edition.json")
    assert download.status_code == 200 and download["Content-Type"].startswith("application/json")
    api = visitor.get("/api/v1/editions/ed-2026b/")
    assert json.loads(text(download)) == api.json()


# --- API -----------------------------------------------------------------------------------------


def test_the_api_lists_published_editions_with_counts(visitor: Client, editions: dict[str, Edition]) -> None:
    body = visitor.get("/api/v1/editions/").json()
    assert body["count"] == 2
    codes = [e["code"] for e in body["results"]]
    assert codes == ["ed-2026b", "ed-2026"]
    second, first = body["results"]
    assert second["replaces"] == "ed-2026" and first["replaced_by"] == ["ed-2026b"]
    assert second["replaced_by"] == []  # the draft correction stays hidden
    assert second["url"].endswith("/api/v1/editions/ed-2026b/")
    assert second["fingerprint"] == editions["second"].fingerprint
    assert second["counts"]["total"] == editions["second"].entries.count()
    assert sum(second["counts"][t] for t in ("priority", "key", "watch")) == second["counts"]["total"]


def test_the_api_detail_has_entries_with_published_aggregates(visitor: Client, editions: dict[str, Edition]) -> None:
    body = visitor.get("/api/v1/editions/ed-2026b/").json()
    edition = editions["second"]
    assert body["code"] == "ed-2026b" and body["replaces"] == "ed-2026"
    assert body["method"]["k_threshold"] == edition.study.k_threshold
    assert body["method"]["data_fingerprint"] == edition.scoring_run.fingerprint
    entries = {e.topic.code: e for e in edition.entries.select_related("topic__area__direction")}
    assert [e["topic"] for e in body["entries"]] == list(
        edition.entries.order_by("rank", "topic__code").values_list("topic__code", flat=True)
    )
    for item in body["entries"]:
        entry = entries[item["topic"]]
        assert item["tier"] == entry.tier and item["rank"] == entry.rank
        assert item["direction"] == entry.topic.area.direction.slug
        assert item["rationale_en"] == entry.rationale_en
        assert set(item["data"]) >= {"n", "indices", "timing", "quadrant", "groups", "p_top_k"}
    assert "pseudonym" not in json.dumps(body) and "participant" not in json.dumps(body)


def test_the_api_responses_conform_to_the_published_schema(editions: dict[str, Edition]) -> None:
    """Schemathesis fuzzes the API on an empty edition list; here the real documents are checked too."""
    from django.core import signals
    from django.db import close_old_connections

    from foresight.wsgi import application

    # The WSGI handler would close the test's database connection at the end of each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
        # Uncompressed: schemathesis's WSGI transport does not decompress a gzip answer.
        plain = {"Accept-Encoding": "identity"}
        schema["/api/v1/editions/"]["GET"].Case(query={"page_size": 1}).call_and_validate(headers=plain)
        for code in ("ed-2026", "ed-2026b"):
            case = schema["/api/v1/editions/{code}/"]["GET"].Case(path_parameters={"code": code})
            case.call_and_validate(headers=plain)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_an_edition_published_before_the_disclosure_layer_shows_no_subgroup_figure(
    visitor: Client, study: Study
) -> None:
    """Entries stored without a released report, from a run that stored no rules: the page says so and
    no high-expertise, weighted or sector figure leaves — on the page, in the downloads or the API."""
    run = scored(study)
    inputs = {k: v for k, v in run.results["inputs"].items() if k != "rules"}
    ScoringRun.objects.filter(pk=run.pk).update(results={**run.results, "inputs": inputs})
    run.refresh_from_db()
    draft = edition_draft_create(run=run, code="ed-old", title_en="Before the rules", title_zh="规则之前")
    for entry in draft.entries.all():
        # As stored then: subgroup figures next to the index, with no record of what was checked.
        data = {k: v for k, v in entry.data.items() if k != "report"}
        data["indices"]["importance"].update(index_high=71.5, n_high=9, index_weighted=66.25)
        data["groups"] = {"importance": {"shown": {"company": {"n": 9, "index": 64.0}}}}
        EditionEntry.objects.filter(pk=entry.pk).update(data=data)
    for entry in draft.entries.all():
        edition_entry_decide(entry=entry, tier=entry.tier, rationale_en="Because.", rationale_zh="因为。")
    edition_publish(edition=draft)

    html = text(visitor.get("/editions/ed-old/"))
    assert_valid_structure(html)
    assert "published before the disclosure rules now in force" in html
    assert "scored before the disclosure and minimum-evidence rules now in force" in html
    assert 'data-figure="index_high"' not in html and 'data-figure="index_weighted"' not in html
    zh = text(visitor.get("/zh-hans/editions/ed-old/"))
    assert "本版发布于现行披露规则之前" in zh
    rows = list(csv.DictReader(io.StringIO(text(visitor.get("/editions/ed-old/entries.csv")))))
    subgroup = [key for key in rows[0] if key.endswith(("_high", "_weighted")) and key != "rank_high"]
    assert len(subgroup) >= 4 and all(not row[key] for row in rows for key in subgroup)
    body = visitor.get("/api/v1/editions/ed-old/").json()
    for entry in body["entries"]:
        for figures in (entry["data"].get("indices") or {}).values():
            assert figures["index_high"] is None and figures["index_weighted"] is None and figures["n_high"] is None
        assert all(not group.get("shown") for group in (entry["data"].get("groups") or {}).values())


def test_every_empty_figure_of_figures_csv_says_why() -> None:
    """A figure withheld as a whole item (its n) or a criterion counted as the lowest value carries its
    reason on its own row, not only on a summary row elsewhere in the file."""
    data = {
        "report": {
            "round": 2,
            "respondents": {"n": 12, "by_expertise": {"high": 6}, "suppressed": {}},
            "items": {
                "importance": {"n": None, "suppressed": {"all": "since_feedback"}},
                "tech_year": {
                    "n": 12,
                    "n_years": None,
                    "median": None,
                    "share_already": 0.5,
                    "suppressed": {"years": "small_group"},
                },
            },
        },
        "criteria": {"importance_index": None, "scenario_pull": 0.3},
        "fallbacks": [
            {"criterion": "importance_index", "used": "lowest", "reason": "since_feedback", "in_score": True}
        ],
    }
    entry = {"topic": "t", "direction": "d", "tier": "insufficient", "data": data}
    rows = list(csv.DictReader(io.StringIO(exports.figures_csv("ed", [entry]))))
    by = {(r["item"], r["group"], r["figure"]): r for r in rows}
    assert (
        by[("importance", "all", "n")]["value"] == "" and by[("importance", "all", "n")]["withheld"] == "since_feedback"
    )
    assert by[("", "criteria", "importance_index")]["withheld"] == "since_feedback"
    assert by[("", "criteria", "scenario_pull")]["withheld"] == ""
    assert by[("tech_year", "all", "median")]["withheld"] == "small_group"
    assert by[("tech_year", "all", "share_already")]["withheld"] == ""
    assert all(r["withheld"] for r in rows if r["value"] == ""), [
        r for r in rows if r["value"] == "" and not r["withheld"]
    ]
    assert {r["withheld"] for r in rows if r["withheld"]} <= set(disclosure.REASONS)


# --- published aggregates ------------------------------------------------------------------------


def test_published_aggregates_never_carry_a_group_below_k_plus_one() -> None:
    data = {
        "n": 9,
        "p_top_k": 0.4,
        "indices": {
            "importance": {"n": 5, "index": 40.0, "index_weighted": None, "n_high": None, "index_high": None},
            "competitiveness": {"n": 9, "index": 55.0, "index_weighted": 54.0, "n_high": 2, "index_high": 70.0},
        },
        "timing": {
            "tech_year": {"n": 9, "n_years": 4, "median": 2031, "q1": 2030, "q3": 2033, "share_already": 0.1},
            "social_year": None,
        },
        "report": {
            "items": {
                "importance": {
                    "n": 9,
                    "index": 50.0,
                    "change": {"from_round": 1, "n_paired": 5, "share_changed": 0.2, "median_before": 3.0},
                    "suppressed": {},
                }
            }
        },
        "groups": {
            "importance": {
                "shown": {
                    "company": {"n": 6, "index": 60.0},
                    "university": {"n": 5, "index": 20.0},
                    "government": {"n": 2, "index": 1.0},
                }
            }
        },
    }
    out = exports.published_aggregates(data, k=5)  # the smallest released group is k + 1 = 6
    assert out["indices"]["importance"] == {
        "n": None,
        "index": None,
        "index_weighted": None,
        "n_high": None,
        "index_high": None,
    }
    assert (
        out["indices"]["competitiveness"]["n_high"] is None and out["indices"]["competitiveness"]["index_high"] is None
    )
    assert out["indices"]["competitiveness"]["index"] == 55.0
    assert out["timing"]["tech_year"]["median"] is None and out["timing"]["tech_year"]["n"] == 9
    change = out["report"]["items"]["importance"]["change"]
    assert change == {"from_round": 1, "n_paired": None, "share_changed": None, "median_before": None}
    assert out["report"]["items"]["importance"]["index"] == 50.0
    assert out["groups"]["importance"]["shown"] == {"company": {"n": 6, "index": 60.0}}
    assert data["indices"]["importance"]["n"] == 5  # the input is left alone


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised() -> None:
    for dangerous in ("=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"):
        assert exports.csv_cell(dangerous) == "'" + dangerous
    assert exports.csv_cell(-1.5) == "-1.5" and exports.csv_cell(True) == "TRUE" and exports.csv_cell(None) == ""
    assert exports.csv_cell("Quantum = fast") == "Quantum = fast"
    row = exports.byor_row(name="=cmd", ring="Key", quadrant="@x", status="moved_out", description="<p>a</p>")
    assert exports.write_csv(exports.BYOR_HEADER, [row]).splitlines()[1] == "'=cmd,Key,'@x,FALSE,Moved Out,<p>a</p>"
    assert exports.byor_description("A < B", "") == "<p>A &lt; B</p>"
    with pytest.raises(ValueError):
        exports.byor_row(name="x", ring="Key", quadrant="q", status="sideways", description="")


# --- home and topic pages ------------------------------------------------------------------------


def test_the_home_page_shows_the_latest_edition(visitor: Client, editions: dict[str, Edition]) -> None:
    html = text(visitor.get("/"))
    assert "Latest priority edition" in html
    assert 'href="/editions/ed-2026b/"' in html and "Priority directions 2026 (corrected)" in html
    assert 'href="/editions/"' in html  # the Priorities link in the main navigation


def test_the_home_page_without_editions_has_no_teaser(visitor: Client, mini_catalog: list[Topic]) -> None:
    html = text(visitor.get("/"))
    assert "Latest priority edition" not in html


def test_a_topic_page_shows_its_history_across_editions_and_rounds(
    visitor: Client, mini_catalog: list[Topic], queued: list[int]
) -> None:
    study = Study.objects.get(code=study_simulate(experts=16, topics=6, seed=5, rounds=2, timeout=120).study)
    run = scored(study)
    first = publish(run, "hist-1", "History one")
    second = publish(run, "hist-2", "History two", replaces=first, tiers={run.results["ranking"][0]: "watch"})
    edition_draft_create(run=run, code="hist-draft-zq", title_en="Unpublished zq draft")
    # A second study on the same topics, never published: none of its rounds may show.
    hidden = Study.objects.get(code=study_simulate(experts=12, topics=6, seed=4, rounds=1, timeout=120).study)
    entry = second.entries.select_related("topic").order_by("rank").first()
    topic = entry.topic
    html = text(visitor.get(f"/topics/{topic.code}/"))
    section = html.split('id="history-h"')[1].split('id="sources-h"')[0]
    # Editions: both published ones, with tier and interval; a chart for editions and one for rounds.
    assert 'href="/editions/hist-1/"' in section and 'href="/editions/hist-2/"' in section
    assert "hist-draft-zq" not in html and "Unpublished zq draft" not in html
    assert f"{display(entry.rank_low, 'rank')}–{display(entry.rank_high, 'rank')}" in section
    assert section.count('class="chart-svg"') == 2
    # Rounds: only the published study's rounds, only cells with k answers.
    k = study.k_threshold
    shown = RoundStat.objects.filter(
        round__study=study, topic=topic, group="all", question__key="importance", n__gte=k
    ).select_related("round")
    assert shown.exists()
    for stat in shown:
        assert f"round {stat.round.number}" in section
        assert display(stat.data["median"], "quantile") in section
    assert hidden.title_en not in html
    small = RoundStat.objects.filter(round__study=study, group="all", question__key="importance", n__lt=k)
    for stat in small.select_related("round", "topic"):
        page = text(visitor.get(f"/topics/{stat.topic.code}/"))
        assert f"R{stat.round.number} · {study.title_en}" not in page
    # A topic in no edition and no published study says so.
    lonely = TopicFactory(area=topic.area)
    assert "not in any published priority edition yet" in text(visitor.get(f"/topics/{lonely.code}/"))


def test_a_round_after_the_last_published_edition_stays_hidden(
    visitor: Client, mini_catalog: list[Topic], queued: list[int]
) -> None:
    agreed, disputed = mini_catalog[0], mini_catalog[1]
    study = study_create(title_en="Still running", horizon_year=2050, topics=[agreed, disputed], planned_rounds=2)
    people = [panelist(study, f"expert{i}@example.org", "university", [agreed.code, disputed.code]) for i in range(6)]
    spread = [1, 5, 1, 5, 2, 4]
    run_round(
        study.rounds.get(number=1),
        [(p, {agreed.code: answers(5, 5), disputed.code: answers(v, v)}) for p, v in zip(people, spread, strict=True)],
    )
    publish(scored(study, top_k=1), "after-round-1", "After round one")  # computed from round 1
    run_round(study.rounds.get(number=2), [(p, {disputed.code: answers(3, 3)}) for p in people[:5]])
    assert RoundStat.objects.filter(round__study=study, round__number=2, topic=disputed).exists()

    section = text(visitor.get(f"/topics/{disputed.code}/")).split('id="history-h"')[1]
    assert "Still running, round 1" in section
    assert "round 2" not in section and "R2" not in section


# --- budgets -------------------------------------------------------------------------------------


BUDGETS = [
    ("/editions/", 3),
    ("/zh-hans/editions/", 3),
    # + the study's questions, for the labels of every topic's figures
    ("/editions/ed-2026b/", 7),
    ("/editions/ed-2026b/?direction=x", 7),
    ("/editions/ed-2026/", 7),
    ("/editions/ed-2026b/entries.csv", 4),
    ("/editions/ed-2026b/figures.csv", 4),
    ("/editions/ed-2026b/radar.csv", 6),
    ("/editions/ed-2026b/edition.json", 4),
    ("/api/v1/editions/", 3),
    ("/api/v1/editions/ed-2026b/", 4),
    ("/", 4),
]


def test_edition_pages_cost_a_fixed_number_of_queries(
    visitor: Client, editions: dict[str, Edition], django_assert_max_num_queries: Any
) -> None:
    # A real direction of the edition filters (200); an unknown one is refused (400) within the same budget.
    direction = editions["second"].entries.select_related("topic__area__direction").first().topic.area.direction
    urls = [(url.replace("?direction=x", f"?direction={direction.slug}"), budget, {200}) for url, budget in BUDGETS]
    urls.append(("/editions/ed-2026b/?direction=x", 7, {400}))
    # The radar file is 409 when a quadrant of this small edition is empty (which topic codes the factories
    # gave decides it); either way within the budget.
    urls = [(url, budget, {200, 409} if url.endswith("radar.csv") else statuses) for url, budget, statuses in urls]
    for url, budget, statuses in urls:
        with django_assert_max_num_queries(budget):
            response = visitor.get(url)
        assert response.status_code in statuses, url
    topic = editions["second"].entries.select_related("topic").first().topic
    # the catalog's 6 (sources need their content type) + history 2 + the questions of the latest edition's figures
    with django_assert_max_num_queries(9):
        assert visitor.get(f"/topics/{topic.code}/").status_code == 200
