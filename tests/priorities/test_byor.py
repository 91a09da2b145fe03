"""The Build-Your-Own-Radar download, read the way Thoughtworks' BYOR reads it: quadrants are the four
quadrants of the importance × competitiveness matrix (never the directions, of which an edition may have
six), rings are the tiers, topics without a quadrant are left out and said so on the page, and an
edition whose topics leave a quadrant empty gets a 409 page instead of a file BYOR would refuse.
``exports.byor_problems`` holds BYOR's rules; it is checked here on hand-made files and used on every
real download."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client

from foresight.catalog.models import Topic
from foresight.delphi.services.studies import study_create
from foresight.priorities import exports
from foresight.priorities.models import Edition, Tier
from tests.factories import TopicFactory
from tests.priorities.conftest import answers, panelist, publish, run_round, scored

pytestmark = pytest.mark.django_db

QUADRANT_LABELS = {
    "strengthen": "Strengthen",
    "lead_maintain": "Lead / maintain",
    "watch": "Hold",
    "deprioritise": "Deprioritise",
}
# (importance, competitiveness) of every answer to a topic; None: nobody rates its competitiveness.
PROFILES: dict[str, tuple[int, int | None]] = {
    "strengthen": (5, 1),
    "lead_maintain": (5, 5),
    "watch": (1, 5),
    "deprioritise": (1, 1),
    "strengthen-too": (4, 2),
    "lead-maintain-too": (4, 4),
    "unrated": (4, None),
}


def edition_of(profiles: list[str], code: str) -> Edition:
    """A published edition of one topic per profile, each topic in a direction of its own except the
    unrated one, which shares the first topic's area; ten experts (k = 5, the minimum evidence) answer every
    topic alike."""
    topics: list[Topic] = []
    for name in profiles:
        if name == "unrated" and topics:
            topics.append(TopicFactory(code=f"{code}-{name}", area=topics[0].area))
        else:
            topics.append(TopicFactory(code=f"{code}-{name}"))
    study = study_create(title_en=f"Study {code}", horizon_year=2045, topics=topics, planned_rounds=1)
    panel = []
    for i in range(10):
        given = {}
        for name, topic in zip(profiles, topics, strict=True):
            importance, competitiveness = PROFILES[name]
            values = answers(importance, competitiveness or 3)
            if competitiveness is None:
                del values["competitiveness"]
            given[topic.code] = values
        panel.append((panelist(study, f"expert{i}@{code}.example.org", "university", list(given)), given))
    run_round(study.rounds.get(number=1), panel)
    return publish(scored(study, top_k=2), code, f"Edition {code}")


@pytest.fixture
def six_directions(db: Any, queued: list[int]) -> Edition:
    """Six directions, all four matrix quadrants, and one topic whose competitiveness nobody rated."""
    return edition_of(list(PROFILES), "six")


@pytest.fixture
def three_quadrants(db: Any, queued: list[int]) -> Edition:
    """Topics in three quadrants only: no topic is both less important and weak (Deprioritise)."""
    return edition_of(["strengthen", "lead_maintain", "watch", "unrated"], "three")


def rows_of(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


# --- the download -------------------------------------------------------------------------------


def test_a_six_direction_edition_gives_a_file_byor_loads_with_the_four_matrix_quadrants(
    six_directions: Edition,
) -> None:
    entries = list(six_directions.entries.select_related("topic__area__direction"))
    assert len({e.topic.area.direction_id for e in entries}) == 6  # one sector per direction on the page
    response = Client().get("/editions/six/radar.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="six-radar.csv"' in response["Content-Disposition"]
    body = response.content.decode()
    assert exports.byor_problems(body) == []
    rows = rows_of(body)
    assert {r["quadrant"] for r in rows} == set(QUADRANT_LABELS.values())
    assert 1 <= len({r["ring"] for r in rows}) <= exports.BYOR_MAX_RINGS
    by_name = {e.topic.name_en: e for e in entries}
    for row in rows:
        entry = by_name[row["name"]]
        assert row["quadrant"] == QUADRANT_LABELS[entry.data["quadrant"]["importance_competitiveness"]]
        assert row["ring"] == entry.get_tier_display()
        assert row["description"].startswith(f"<p>Direction: {entry.topic.area.direction.name_en}</p>")
        assert (row["status"], row["isNew"]) == ("New", "TRUE")  # the first edition: every topic is new


def test_a_correction_shows_moved_topics_and_reads_in_the_language_of_the_url(six_directions: Edition) -> None:
    run = six_directions.scoring_run
    ranking = run.results["ranking"]
    before = dict(six_directions.entries.values_list("topic__code", "tier"))
    moved = {ranking[0]: "watch", ranking[-1]: "priority"}
    assert before[ranking[0]] != "watch" and before[ranking[-1]] != "priority"
    correction = publish(run, "six-b", "Edition six, corrected", tiers=moved, replaces=six_directions)
    visitor = Client()
    body = visitor.get("/editions/six-b/radar.csv").content.decode()
    assert exports.byor_problems(body) == []
    entries = {e.topic.name_en: e for e in correction.entries.select_related("topic")}
    order = {"priority": 0, "key": 1, "watch": 2}
    for row in rows_of(body):
        entry = entries[row["name"]]
        was, now = order[before[entry.topic.code]], order[entry.tier]
        expected = "Moved In" if now < was else "Moved Out" if now > was else "No Change"
        assert (row["status"], row["isNew"]) == (expected, "FALSE"), row["name"]
        assert row["description"].endswith(f"<p>{entry.rationale_en}</p>")
    assert {r["status"] for r in rows_of(body)} >= {"Moved In", "Moved Out"}
    # In Chinese: names, rings, quadrants and the direction line in Chinese; the header and statuses unchanged.
    zh_body = visitor.get("/zh-hans/editions/six-b/radar.csv").content.decode()
    assert exports.byor_problems(zh_body) == []
    zh = rows_of(zh_body)
    assert {r["name"] for r in zh} == {e.topic.name_zh for e in entries.values() if e.topic.code != "six-unrated"}
    assert {r["quadrant"] for r in zh} == {"加强", "保持领先", "维持", "暂缓"}
    assert all(r["description"].startswith("<p>方向：") for r in zh)
    assert {r["status"] for r in zh} >= {"Moved In", "Moved Out"}


def test_a_topic_without_a_quadrant_is_left_out_and_the_page_says_so(six_directions: Edition) -> None:
    unrated = six_directions.entries.select_related("topic").get(topic__code="six-unrated")
    assert unrated.data["indices"]["competitiveness"]["index"] is None
    assert unrated.data["quadrant"]["importance_competitiveness"] is None
    visitor = Client()
    names = [r["name"] for r in rows_of(visitor.get("/editions/six/radar.csv").content.decode())]
    assert unrated.topic.name_en not in names
    assert len(names) == six_directions.entries.count() - 1
    page = visitor.get("/editions/six/").content.decode()
    downloads = page.split('id="downloads-h"')[1]
    assert "1 topic is not in the Build-Your-Own-Radar file" in downloads
    assert 'href="/editions/six/radar.csv"' in downloads
    assert "Strengthen, Lead / maintain, Hold, Deprioritise" in downloads  # what the file's quadrants are


def test_rings_start_at_the_centre_with_the_first_tier(six_directions: Edition) -> None:
    """BYOR draws rings in the order they first appear: the file goes tier by tier, then by quadrant and rank."""
    rows = rows_of(Client().get("/editions/six/radar.csv").content.decode())
    labels = [str(label) for _, label in Tier.choices]
    first_seen = list(dict.fromkeys(r["ring"] for r in rows))
    assert first_seen == [label for label in labels if label in first_seen]
    tiers = [labels.index(r["ring"]) for r in rows]
    assert tiers == sorted(tiers)


def test_an_edition_with_a_quadrant_left_empty_answers_409_and_offers_no_file(three_quadrants: Edition) -> None:
    visitor = Client()
    response = visitor.get("/editions/three/radar.csv")
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/html") and "Content-Disposition" not in response
    html = response.content.decode()
    assert "No Build-Your-Own-Radar file for this edition" in html
    assert "no topic of this edition is in: Deprioritise." in html
    assert "1 topic is not in the Build-Your-Own-Radar file" in html
    assert 'href="/editions/three/entries.csv"' in html and 'href="/editions/three/edition.json"' in html
    # The edition page explains it instead of offering a link that would fail.
    page = visitor.get("/editions/three/").content.decode()
    assert "/editions/three/radar.csv" not in page
    assert "no topic of this edition is in: Deprioritise." in page
    # In Chinese the same, with the quadrant's Chinese label.
    zh = visitor.get("/zh-hans/editions/three/radar.csv")
    assert zh.status_code == 409 and "暂缓" in zh.content.decode()


def test_the_radar_file_costs_a_fixed_number_of_queries(
    six_directions: Edition, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(6):
        assert Client().get("/editions/six/radar.csv").status_code == 200


# --- placing blips (pure) -------------------------------------------------------------------------


def blip(name: str, tier: str, quadrant: str | None, rank: int | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "tier": tier,
        "quadrant": quadrant,
        "status": "unchanged",
        "rank": rank,
        "direction": "Direction: Space",
        "statement": "A < B",
        "rationale": "",
    }


RINGS = {"priority": "Priority", "key": "Key", "watch": "Watch"}


def test_byor_radar_orders_rows_by_ring_quadrant_and_rank_and_reports_what_it_cannot_place() -> None:
    radar = exports.byor_radar(
        [
            blip("e", "watch", "strengthen", 5),
            blip("c", "key", "watch", 3),
            blip("a", "priority", "deprioritise", 1),
            blip("hidden", "priority", None, 2),
            blip("b", "priority", "strengthen", 4),
            blip("d", "key", "lead_maintain", None),
        ],
        rings=RINGS,
        quadrants=QUADRANT_LABELS,
    )
    assert [b["name"] for b in radar.blips] == ["b", "a", "d", "c", "e"]
    assert radar.left_out == ("hidden",) and radar.missing == () and radar.loadable
    body = exports.byor_csv(radar)
    assert exports.byor_problems(body) == []
    assert rows_of(body)[0]["description"] == "<p>Direction: Space</p><p>A &lt; B</p>"

    short = exports.byor_radar(
        [blip("a", "key", "watch"), blip("b", "key", None)], rings=RINGS, quadrants=QUADRANT_LABELS
    )
    assert short.missing == ("Strengthen", "Lead / maintain", "Deprioritise") and not short.loadable
    with pytest.raises(ValueError):
        exports.byor_csv(short)
    with pytest.raises(ValueError):
        exports.byor_radar([], rings={**RINGS, "a": "A", "b": "B"}, quadrants=QUADRANT_LABELS)


def test_there_are_never_more_tiers_than_byor_has_rings() -> None:
    assert len(Tier.values) <= exports.BYOR_MAX_RINGS


# --- the validator --------------------------------------------------------------------------------

GOOD = (
    "name,ring,quadrant,isNew,status,description\r\n"
    "Composer,Adopt,Tools,TRUE,New,<p>a</p>\r\n"
    "Canary builds,Trial,Techniques,FALSE,moved in,\r\n"
    "Apache Kylin,Assess,Platforms,false,No Change,\r\n"
    "JSF,Hold,Languages & Frameworks,FALSE,Moved Out,\r\n"
)


def test_the_validator_accepts_byors_own_example_and_a_file_without_status() -> None:
    assert exports.byor_problems(GOOD) == []
    without_status = "\n".join(
        ",".join(cells[:4] + cells[5:]) for cells in (line.split(",") for line in GOOD.strip().splitlines())
    )
    assert without_status.startswith("name,ring,quadrant,isNew,description\n")
    assert exports.byor_problems(without_status) == []


def test_the_validator_rejects_six_quadrants() -> None:
    six = GOOD + "Mesh,Trial,Health,TRUE,New,\r\nRobots,Assess,Manufacturing,TRUE,New,\r\n"
    problems = exports.byor_problems(six)
    assert len(problems) == 1 and "6 quadrants" in problems[0] and "TOO_MANY_QUADRANTS" in problems[0]


def test_the_validator_rejects_fewer_than_four_quadrants_and_an_empty_file() -> None:
    three = "\r\n".join(GOOD.splitlines()[:4]) + "\r\n"
    assert any("LESS_THAN_FOUR_QUADRANTS" in p for p in exports.byor_problems(three))
    assert exports.byor_problems("") == ["The file has no header row (BYOR: MISSING_CONTENT)."]
    assert "The file has no blip." in exports.byor_problems("name,ring,quadrant,isNew,description\r\n")


def test_the_validator_rejects_a_missing_header() -> None:
    no_is_new = GOOD.replace("isNew", "is_new", 1)
    problems = exports.byor_problems(no_is_new)
    assert "Missing header(s): isNew (BYOR: MISSING_HEADERS)." in problems
    # Header names are trimmed, as BYOR trims them.
    assert exports.byor_problems(GOOD.replace("isNew", " isNew ", 1)) == []


def test_the_validator_rejects_five_rings() -> None:
    five = GOOD + "Bazel,Retire,Tools,FALSE,No Change,\r\n"
    problems = exports.byor_problems(five)
    assert len(problems) == 1 and "5 rings" in problems[0] and "TOO_MANY_RINGS" in problems[0]


def test_the_validator_rejects_a_bad_status_a_bad_is_new_and_empty_cells() -> None:
    assert exports.byor_problems(GOOD.replace("moved in", "sideways")) == [
        "Line 3: status 'sideways' is not one of New, Moved In, Moved Out, No Change."
    ]
    assert exports.byor_problems(GOOD.replace("TRUE,New", "yes,New")) == ["Line 2: isNew is 'yes', not TRUE or FALSE."]
    assert exports.byor_problems(GOOD.replace("Composer,", " ,")) == ["Line 2: the name is empty."]
    assert "Line 5: the ring is empty." in exports.byor_problems(GOOD.replace("JSF,Hold", "JSF,"))
    # An empty status is allowed (the column is optional; BYOR falls back to isNew).
    assert exports.byor_problems(GOOD.replace(",New,", ",,")) == []
