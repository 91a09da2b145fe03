"""Scenario pull from evidence: Ruijin Hospital publishes demand for catalog topics through the exchange, pilots
of its entries reach verified stages, and a scoring run's criterion is what a recomputation from the stored rows
gives — published demand weighted by scale plus verified pilots, never a claimed stage, a stopped pilot, a
capability listing or a revision not yet released; the fingerprint follows the evidence."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from foresight.catalog.models import Topic
from foresight.delphi.models import Study
from foresight.delphi.services.studies import study_create
from foresight.priorities.models import ScoringRun
from foresight.priorities.services.runs import scoring_run_create, scoring_run_execute
from scenarios import pull
from scenarios.exchange import entries as entry_svc
from scenarios.exchange import releases as release_svc
from scenarios.exchange.organisations import organisation_create
from scenarios.models import Entry, Pilot, PilotOrganisation, PilotStageChange, Scenario
from scenarios.selectors import scenario_pull_evidence
from tests.factories import staff_user
from tests.priorities.conftest import answers, expected_scenario_pull, panelist, publish, run_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(catalog: Any, queued: list[int]) -> dict[str, Any]:
    """Four catalog topics scored by a panel of seven; Ruijin Hospital (ann) publishes two demand entries and
    a capability, and curator Cora releases them."""
    codes = sorted(Topic.objects.public().values_list("code", flat=True))[:4]
    topics = list(Topic.objects.filter(code__in=codes).order_by("code"))
    study = study_create(title_en="Pull", horizon_year=2050, topics=topics, planned_rounds=1)
    Study.objects.filter(pk=study.pk).update(min_respondents=6)
    people = [panelist(study, f"expert{i}@example.org", "university", codes) for i in range(7)]
    run_round(
        study.rounds.get(number=1),
        [
            (p, {c: answers(1 + (i + j) % 5, 1 + (i * j) % 5) for j, c in enumerate(codes)})
            for i, p in enumerate(people)
        ],
    )
    ann = get_user_model().objects.create_user("ann", "ann@hospital.example", "pw-long-enough-1")
    EmailAddress.objects.create(user=ann, email=ann.email, verified=True, primary=True)
    hospital = organisation_create(user=ann, name_en="Ruijin Hospital", name_zh="瑞金医院", kind="public_service")
    cora = staff_user("cora", "Curator")

    def entry(kind: str, title: str, links: list[tuple[str, str]], **values: Any) -> Entry:
        extra = {"setting": "hospital", "offers": ["test_site"]} if kind == "demand" else {"trl": 6}
        made = entry_svc.entry_create(
            organisation=hospital, actor=ann, kind=kind, title_en=title, summary_en="A problem.", topics=links, **extra
        )
        if values:
            made = entry_svc.entry_update(entry=made, actor=ann, **values)
        made = entry_svc.entry_submit(entry=made, actor=ann)
        return entry_svc.entry_accept(entry=made, actor=cora)

    wards = entry("demand", "Ward robots", [(codes[0], "core"), (codes[1], "enabling")], scale_sites=9)
    imaging = entry("demand", "Imaging", [(codes[1], "complementary"), (codes[2], "core")])
    offer = entry("capability", "Our imaging robot", [(codes[3], "core")])
    release = release_svc.release_draft_create(actor=cora, title_en="First batch")
    release_svc.release_add_many(release=release, entries=[wards, imaging, offer], actor=cora)
    release_svc.release_publish(release=release, actor=cora)
    return {
        "study": study,
        "codes": codes,
        "ann": ann,
        "cora": cora,
        "hospital": hospital,
        "wards": Entry.objects.get(pk=wards.pk),
        "imaging": Entry.objects.get(pk=imaging.pk),
        "offer": Entry.objects.get(pk=offer.pk),
    }


def pilot(world: dict[str, Any], demand: Entry, *, claimed: str, verified: str, **values: Any) -> Pilot:
    """A pilot of ``demand`` whose evidence a curator verified up to ``verified`` (rows as the pilot services
    leave them: the owner taking part, a dated stage change per stage, verified or awaiting verification)."""
    made = Pilot.objects.create(
        demand=demand, stage=claimed, verified_stage=verified, last_update_at=timezone.now(), **values
    )
    PilotOrganisation.objects.create(pilot=made, organisation=world["hospital"], role="owner")
    for i, stage in enumerate(
        Pilot.STAGE_ORDER[: Pilot.STAGE_ORDER.index(claimed) + 1] if claimed != "stopped" else []
    ):
        done = verified and stage in Pilot.STAGE_ORDER and i <= Pilot.STAGE_ORDER.index(verified)
        PilotStageChange.objects.create(
            pilot=made,
            stage=stage,
            on=date(2026, 1 + i, 1),
            evidence_kind="report",
            evidence_title=f"{stage} report",
            status="verified" if done else "pending",
            verified_by=world["cora"] if done else None,
            verified_at=timezone.now() if done else None,
        )
    return made


def scored(study: Study) -> ScoringRun:
    run = scoring_run_create(study=study, seed=3, top_k=2, B=50)
    assert scoring_run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def test_the_criterion_is_the_published_demand_and_the_verified_pilots(world: dict[str, Any]) -> None:
    codes, wards, imaging = world["codes"], world["wards"], world["imaging"]
    pilot(world, wards, claimed="scaling", verified="demonstration")  # counts as a demonstration (3)
    pilot(world, imaging, claimed="pilot", verified="opened")  # counts as opened (1)
    run = scored(world["study"])
    topics = run.results["topics"]
    for code in codes:
        demand, pilots = expected_scenario_pull(code)
        assert topics[code]["criteria"]["scenario_pull"] == pytest.approx(demand + pilots, abs=1e-9), code
        assert topics[code]["scenario_pull"]["components"] == pytest.approx(
            {"demand": demand, "pilots": pilots}, abs=1e-9
        )
    # The exchange's own rows, by hand: the ward robots (9 sites) need topic 0 (core) and 1 (enabling), the
    # imaging demand (no scale) topic 1 (complementary) and 2 (core); the capability (topic 3) pulls nothing.
    evidence = {code: topics[code]["scenario_pull"] for code in codes}
    mine = {wards.scenario.code, imaging.scenario.code}
    assert [s for s in evidence[codes[0]]["scenarios"] if s["code"] in mine] == [
        {"code": wards.scenario.code, "role": "core", "sites": 9, "value": 2.0}
    ]
    assert {p["code"]: (p["stage"], p["role"], p["value"]) for p in evidence[codes[1]]["pilots"]} == {
        wards.pilots.get().code: ("demonstration", "enabling", pytest.approx(1.8)),
        imaging.pilots.get().code: ("opened", "complementary", pytest.approx(0.3)),
    }
    assert world["offer"].scenario.code not in {s["code"] for s in evidence[codes[3]]["scenarios"]}
    # The criterion stays min–max normalised like the others.
    ranked = run.results["ranking"]
    values = [topics[c]["criteria"]["scenario_pull"] for c in ranked]
    for code in ranked:
        expected = (topics[code]["criteria"]["scenario_pull"] - min(values)) / (max(values) - min(values))
        assert topics[code]["normalised"]["scenario_pull"] == pytest.approx(expected)


def test_claims_stopped_pilots_capabilities_and_unreleased_revisions_move_nothing(world: dict[str, Any]) -> None:
    study, codes, wards, imaging = world["study"], world["codes"], world["wards"], world["imaging"]
    counted = pilot(world, wards, claimed="pilot", verified="pilot")
    before = scored(study)
    pull_of = {c: before.results["topics"][c]["criteria"]["scenario_pull"] for c in codes}

    # A pilot only claimed (nothing verified yet), a stopped one, and a claim beyond the verified stage.
    pilot(world, imaging, claimed="demonstration", verified="")
    pilot(world, imaging, claimed="stopped", verified="stopped", stop_reason_en="The ward closed.")
    Pilot.objects.filter(pk=counted.pk).update(stage="mainstream")
    # A capability listing of the same topics, published.
    offer = entry_svc.entry_create(
        organisation=world["hospital"],
        actor=world["ann"],
        kind="capability",
        title_en="Ward robot fleet",
        summary_en="Robots.",
        trl=7,
        topics=[(codes[0], "core"), (codes[1], "core")],
    )
    offer = entry_svc.entry_accept(entry=entry_svc.entry_submit(entry=offer, actor=world["ann"]), actor=world["cora"])
    release = release_svc.release_draft_create(actor=world["cora"], title_en="Capabilities")
    release_svc.release_add(release=release, entry=offer, actor=world["cora"])
    release_svc.release_publish(release=release, actor=world["cora"])
    assert Scenario.objects.get(entry=offer).list_kind == "capability"
    # A revision of the ward robots, in progress and even accepted, with a far larger scale: not yet released.
    revised = entry_svc.entry_revise(entry=wards, actor=world["ann"])
    revised = entry_svc.entry_update(entry=revised, actor=world["ann"], scale_sites=999, topics=[(codes[2], "core")])
    entry_svc.entry_accept(entry=entry_svc.entry_submit(entry=revised, actor=world["ann"]), actor=world["cora"])

    after = scored(study)
    assert {c: after.results["topics"][c]["criteria"]["scenario_pull"] for c in codes} == pull_of
    assert after.fingerprint == before.fingerprint

    # Released, the revision counts: its scale, and its topics as it now states them.
    release = release_svc.release_draft_create(actor=world["cora"], title_en="Revisions")
    release_svc.release_add(release=release, entry=Entry.objects.get(pk=wards.pk), actor=world["cora"])
    release_svc.release_publish(release=release, actor=world["cora"])
    released = scored(study)
    topics = released.results["topics"]
    entry = next(s for s in topics[codes[2]]["scenario_pull"]["scenarios"] if s["code"] == wards.scenario.code)
    assert entry["sites"] == 999 and entry["value"] == pytest.approx(1 + math.log10(1000))
    assert wards.scenario.code not in {s["code"] for s in topics[codes[0]]["scenario_pull"]["scenarios"]}
    for code in codes:
        assert topics[code]["criteria"]["scenario_pull"] == pytest.approx(sum(expected_scenario_pull(code)), abs=1e-9)
    assert released.fingerprint != before.fingerprint


def test_the_fingerprint_follows_a_pilots_verified_stage_and_nothing_else(world: dict[str, Any]) -> None:
    study, wards = world["study"], world["wards"]
    going = pilot(world, wards, claimed="pilot", verified="opened")
    first = scored(study)
    again = scored(study)
    assert again.fingerprint == first.fingerprint and again.results == first.results
    # Claimed progress, a new site name, a reminder: no evidence, no change.
    Pilot.objects.filter(pk=going.pk).update(stage="scaling", site_en="Ward 7", last_reminded_at=timezone.now())
    assert scored(study).fingerprint == first.fingerprint
    # A curator verifies the pilot stage: the evidence, the criterion and the fingerprint move.
    Pilot.objects.filter(pk=going.pk).update(verified_stage="pilot")
    moved = scored(study)
    assert moved.fingerprint != first.fingerprint
    code = world["codes"][0]
    assert moved.results["topics"][code]["criteria"]["scenario_pull"] == pytest.approx(
        first.results["topics"][code]["criteria"]["scenario_pull"] + 1.0  # core × (2 − 1)
    )
    assert moved.results["inputs"]["method"] == "priorities-3"


def test_the_evidence_is_read_in_a_fixed_number_of_queries(
    world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for i in range(3):
        pilot(world, world["wards"], claimed="pilot", verified="pilot", site_en=f"Site {i}")
    ids = list(Topic.objects.public().values_list("pk", flat=True))
    with django_assert_max_num_queries(3):
        evidence = scenario_pull_evidence(topic_ids=ids)
    assert set(evidence) == set(ids)


def test_the_formula_itself() -> None:
    """The pure function on rows made up here: scale factor, stage weights, stopped and unverified pilots."""
    rows = [
        pull.ScenarioRow(topic="a", scenario="s1", role="core", sites=99),
        pull.ScenarioRow(topic="a", scenario="s2", role="complementary", sites=None),
        pull.ScenarioRow(topic="b", scenario="s1", role="enabling", sites=99),
    ]
    pilots = [
        pull.PilotRow(topic="a", pilot="p1", scenario="s1", role="core", stage="mainstream"),
        pull.PilotRow(topic="a", pilot="p2", scenario="s1", role="core", stage="stopped"),
        pull.PilotRow(topic="b", pilot="p1", scenario="s1", role="enabling", stage="mainstream"),
        pull.PilotRow(topic="b", pilot="p3", scenario="s1", role="enabling", stage=""),
    ]
    out = pull.topic_pull(
        topics=["a", "b", "c"],
        scenarios=rows,
        pilots=pilots,
        role_weights={"core": 1.0, "enabling": 0.6, "complementary": 0.3},
    )
    assert out["a"]["components"] == {"demand": pytest.approx(3.3), "pilots": 5.0}
    assert out["a"]["total"] == pytest.approx(8.3)
    assert out["b"]["components"] == {"demand": pytest.approx(1.8), "pilots": pytest.approx(3.0)}
    assert [p["code"] for p in out["b"]["pilots"]] == ["p1"]
    assert out["c"] == {"total": 0.0, "components": {"demand": 0.0, "pilots": 0.0}, "scenarios": [], "pilots": []}


def test_the_workbench_shows_each_topics_components_and_the_edition_states_the_formula(
    world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    codes, wards = world["codes"], world["wards"]
    going = pilot(world, wards, claimed="scaling", verified="demonstration")
    run = scored(world["study"])
    sam = Client()
    sam.force_login(staff_user("sam"))
    with django_assert_max_num_queries(20):
        page = sam.get(reverse("workbench:run", args=[run.code]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="scenario-pull"' in html and "1 + log10(1 + the number of sites" in html
    row = html.split(f'id="pull-{codes[0]}"', 1)[1].split("</tr>", 1)[0]
    demand, pilots = expected_scenario_pull(codes[0])
    assert f'data-figure="demand">{demand:.2f}<' in row and f'data-figure="pilots">{pilots:.2f}<' in row
    assert f'data-figure="total">{demand + pilots:.2f}<' in row
    assert wards.scenario.code in row and going.code in row and "Demonstration" in row and "9 sites" in row

    edition = publish(run, "pull-edition", "Pull")
    public = Client().get(reverse("priorities:edition-detail", args=[edition.code]))
    assert public.status_code == 200
    text = public.content.decode()
    assert 'id="method-scenario-pull"' in text and "verified stage" in text
    assert going.code not in text  # the pilots behind a number are the workbench's, not the public page's
    zh = Client().get(f"/zh-hans/editions/{edition.code}/").content.decode()
    assert "场景拉动 = D + P" in zh and "已核实阶段" in zh
