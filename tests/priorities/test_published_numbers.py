"""One number, one text: a visitor reads an importance index of 56.25 in the matrix table, in the matrix
point's tooltip, in entries.csv and in the edition JSON, and it is 56.3 in all four (rounded half up on
its decimal value; Python's ``f"{56.25:.1f}"`` would say 56.2 in the tooltip)."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import pytest
from django.test import Client

from foresight.catalog.models import Topic
from foresight.delphi.models import Study
from foresight.delphi.services.studies import study_create
from foresight.numbers import display, publish
from foresight.priorities import exports
from foresight.priorities.models import Edition
from tests.priorities.conftest import answers, panelist, run_round
from tests.priorities.test_public_editions import publish as publish_edition
from tests.priorities.test_public_editions import scored

pytestmark = pytest.mark.django_db

# Eight experts (k = 5) on a 1–5 scale; the index is 25 · (mean − 3 + 2).
IMPORTANCE = {
    0: [3, 3, 3, 3, 3, 3, 4, 4],  # mean 3.25 → 56.25: a tie at one decimal
    1: [5, 5, 5, 5, 4, 4, 4, 4],  # mean 4.5 → 87.5
    2: [2, 2, 2, 3, 3, 3, 3, 1],  # mean 2.375 → 34.375
}
COMPETITIVENESS = {
    0: [2, 2, 2, 2, 2, 2, 3, 3],  # mean 2.25 → 31.25
    1: [3, 3, 3, 3, 3, 3, 3, 4],  # mean 3.125 → 53.125
    2: [4, 4, 4, 4, 4, 4, 5, 5],  # mean 4.25 → 81.25
}


@pytest.fixture
def edition(mini_catalog: list[Topic], queued: list[int]) -> Edition:
    topics = mini_catalog[:3]
    study = study_create(title_en="Ties", horizon_year=2050, topics=topics, planned_rounds=1)
    Study.objects.filter(pk=study.pk).update(min_respondents=8)  # a small panel's own minimum evidence
    people = [panelist(study, f"expert{i}@example.org", "university", [t.code for t in topics]) for i in range(8)]
    run_round(
        study.rounds.get(number=1),
        [
            (person, {t.code: answers(IMPORTANCE[j][i], COMPETITIVENESS[j][i]) for j, t in enumerate(topics)})
            for i, person in enumerate(people)
        ],
    )
    return publish_edition(scored(study, top_k=1), "ties-2026", "Ties")


def _matrix_table(page: str) -> dict[str, str]:
    """Topic name → importance index as printed in the table of the matrix."""
    table = page.split("The numbers of the matrix")[1].split("</table>")[0]
    rows = re.findall(r'<tr><td class="num">[^<]*</td><th scope="row">(.*?)</th><td class="num">([^<]*)</td>', table)
    return {html.unescape(name): value for name, value in rows}


def _matrix_titles(page: str) -> dict[str, str]:
    """Topic name → importance index as written in the matrix point's <title> (its tooltip)."""
    svg = page.split('class="chart-svg matrix-chart"')[1].split("</svg>")[0]
    out = {}
    for title in re.findall(r'<g class="point"[^>]*><title>(.*?)</title>', svg):
        match = re.fullmatch(r"\d+\. (.*) — importance (\S+), competitiveness (\S+); .*", html.unescape(title))
        assert match, title
        out[match[1]] = match[2]
    return out


def test_every_importance_index_reads_the_same_on_the_page_in_the_chart_the_csv_and_the_json(
    edition: Edition,
) -> None:
    visitor = Client()
    page = visitor.get("/editions/ties-2026/").content.decode()
    table, titles = _matrix_table(page), _matrix_titles(page)
    rows = {r["topic"]: r for r in csv.DictReader(io.StringIO(visitor.get("/editions/ties-2026/entries.csv").text))}
    document = visitor.get("/editions/ties-2026/edition.json").json()
    assert document == visitor.get("/api/v1/editions/ties-2026/").json()
    items = {item["topic"]: item for item in document["entries"]}

    entries = list(edition.entries.select_related("topic"))
    stored = {e.topic.code: e.data["indices"]["importance"]["index"] for e in entries}
    assert sorted(stored.values()) == [34.375, 56.25, 87.5]  # the answers gave the ties we meant
    for entry in entries:
        name, code = entry.topic.name_en, entry.topic.code
        printed = display(stored[code], "index")
        assert table[name] == titles[name] == rows[code]["importance_index"] == printed
        number = items[code]["data"]["indices"]["importance"]["index"]
        assert isinstance(number, float) and number == float(printed) == publish(stored[code], "index")
        # The competitiveness index too, in the table's next column and the tooltip.
        competitiveness = display(entry.data["indices"]["competitiveness"]["index"], "index")
        assert f"competitiveness {competitiveness};" in html.unescape(page)
        assert rows[code]["competitiveness_index"] == competitiveness
    tie = next(e for e in entries if stored[e.topic.code] == 56.25)
    assert table[tie.topic.name_en] == "56.3" and f"{56.25:.1f}" == "56.2"
    # figures.csv prints each figure as the page does, decimals kept (a median of 4 is "4.00" in both).
    long = list(csv.DictReader(io.StringIO(visitor.get("/editions/ties-2026/figures.csv").text)))
    for entry in entries:
        item = entry.data["report"]["items"]["importance"]
        mine = {r["figure"]: r["value"] for r in long if r["topic"] == entry.topic.code and r["item"] == "importance"}
        assert mine["index"] == display(item["index"], "index")
        assert mine["median"] == display(item["median"], "quantile") and len(mine["median"].split(".")[1]) == 2
        assert f'<span data-figure="median">{mine["median"]}</span>' in page
    assert items[tie.topic.code]["data"]["indices"]["competitiveness"]["index"] == 31.3


def _numbers(node: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _numbers(value, (*path, key))]
    if isinstance(node, int | float) and not isinstance(node, bool):
        return [(path, node)]
    return []


def test_every_number_of_the_json_is_published_at_the_precision_of_its_kind(edition: Edition) -> None:
    document = Client().get("/api/v1/editions/ties-2026/").json()
    for item in document["entries"]:
        assert item["score"] == publish(item["score"], "score")
        assert item["rank_low"] == publish(item["rank_low"], "rank")
        leaves = _numbers(item["data"])
        assert leaves
        for path, value in leaves:
            kind = exports.data_kind(path)
            assert kind is not None, f"{path} has no kind of figure"
            assert value == publish(value, kind), path
            assert isinstance(value, int) == (kind == "count"), path
