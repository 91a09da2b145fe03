"""Pilots against careless and hostile input: Ann of Ruijin Hospital mistypes the opening's year as 0001 (it
would stretch the public pipeline's chart over two thousand years), and an editor who opens pilot after
pilot is stopped for the day before the curators' queue fills with them; pasted control characters never
reach the published pilot, and the suppliers' lines do not tell whether an unpublished entry exists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse

from foresight.core.errors import Conflict
from scenarios.exchange import entries as entry_svc
from scenarios.exchange import pilots as svc
from scenarios.models import Pilot, PilotStageChange
from tests.exchange.pilot_world import agreed_conversation, build_world, days_ago, open_pilot, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(catalog: Any) -> dict[str, Any]:
    return build_world()


@pytest.mark.parametrize("on", [dt.date(1, 1, 1), dt.date(202, 6, 1), dt.date(1999, 12, 31)])
def test_a_pilot_is_not_opened_on_a_date_centuries_ago(world: dict[str, Any], on: dt.date) -> None:
    with pytest.raises(ValidationError) as caught:
        svc.pilot_open(actor=world["ann"], demand=world["demand"], site_en="Ward 3", on=on, evidence=report())
    assert "2000-01-01" in caught.value.message_dict["on"][0]
    assert not Pilot.objects.exists() and not PilotStageChange.objects.exists()
    pilot = svc.pilot_open(
        actor=world["ann"], demand=world["demand"], site_en="Ward 3", on=dt.date(2000, 1, 1), evidence=report()
    )
    assert pilot.stage_changes.get().on == dt.date(2000, 1, 1)


def test_the_opening_form_says_why_an_ancient_date_is_refused_and_keeps_the_typed_values(
    world: dict[str, Any],
) -> None:
    client = Client()
    client.force_login(world["ann"])
    typed = {
        "site_en": "Ward 3 of the east building",
        "on": "0001-01-01",
        "evidence_kind": "link",
        "evidence_url": "https://reports.example/opening",
    }
    response = client.post(reverse("exchange:pilot-open", args=[world["demand"].code]), typed)
    assert response.status_code == 400
    page = response.content.decode()
    assert "too far back" in page and "Ward 3 of the east building" in page
    assert not Pilot.objects.exists()


@override_settings(EXCHANGE_PILOTS_PER_DAY=2)
def test_an_organisation_opens_a_limited_number_of_pilots_a_day(world: dict[str, Any]) -> None:
    open_pilot(world, on=days_ago(3))
    open_pilot(world, on=days_ago(2))
    with pytest.raises(Conflict):
        open_pilot(world, on=days_ago(1))
    assert Pilot.objects.count() == 2 and PilotStageChange.objects.count() == 2
    # From the page: the refusal is a 409 with its reason, the typed site kept.
    client = Client()
    client.force_login(world["ann"])
    typed = {
        "site_en": "Ward 9",
        "on": days_ago(1).isoformat(),
        "evidence_kind": "link",
        "evidence_url": "https://r.example/x",
    }
    response = client.post(reverse("exchange:pilot-open", args=[world["demand"].code]), typed)
    assert response.status_code == 409
    assert "many pilots today" in response.content.decode() and "Ward 9" in response.content.decode()
    assert Pilot.objects.count() == 2


def test_control_characters_never_reach_the_published_pilot(world: dict[str, Any]) -> None:
    """Ann pastes text with a terminal escape sequence and a bell: the pilot's site, region, evidence and stop
    reason — all published in the CSV — keep the words and the line breaks, not the control characters."""
    pilot = svc.pilot_open(
        actor=world["ann"],
        demand=world["demand"],
        site_en="Ward\x1b[31m 3\x07",
        region_en="Shang\x08hai",
        on=days_ago(20),
        evidence=svc.EvidenceIn(
            kind="link", url="https://reports.example/a", title="Re\x1bport", note_en="Line one\r\nline\x0c two"
        ),
    )
    pilot.refresh_from_db()
    assert (pilot.site_en, pilot.region_en) == ("Ward[31m 3", "Shanghai")
    change = pilot.stage_changes.get()
    assert (change.evidence_title, change.note_en) == ("Report", "Line one\nline two")
    svc.pilot_stage_add(
        actor=world["ann"],
        pilot=pilot,
        stage="stopped",
        on=days_ago(1),
        evidence=report(),
        stop_reason_en="Closed\x1b]0;owned\x07 for works",
    )
    pilot.refresh_from_db()
    assert pilot.stop_reason_en == "Closed]0;owned for works"


def test_the_suppliers_lines_do_not_tell_whether_an_unpublished_entry_exists(world: dict[str, Any]) -> None:
    """Olga's organisation has a draft capability; Ann naming its code learns no more than naming a code that
    does not exist."""
    draft = entry_svc.entry_create(
        organisation=world["other"],
        actor=world["olga"],
        kind="capability",
        title_en="Secret gripper",
        summary_en="Not public yet.",
        topics=[("humanoid-robots", "core")],
        trl=4,
        setting="hospital",
    )
    client = Client()
    client.force_login(world["ann"])
    url = reverse("exchange:pilot-open", args=[world["demand"].code])
    base = {
        "site_en": "Ward 3",
        "on": days_ago(2).isoformat(),
        "evidence_kind": "link",
        "evidence_url": "https://r.example/a",
    }
    said = []
    for code in (draft.code, "e-00000000"):
        response = client.post(url, {**base, "suppliers": f"{world['other'].code} {code}"})
        assert response.status_code == 400
        said.append([str(e).replace(code, "CODE") for e in response.context["form"].errors["suppliers"]])
    assert said[0] == said[1] == ["No published capability entry: CODE."]
    assert not Pilot.objects.exists()


def test_a_double_submitted_opening_makes_one_pilot_and_a_stopped_one_can_be_followed(world: dict[str, Any]) -> None:
    """Ann clicks "Open" twice: the second submission points to the first pilot instead of making a twin that
    would count twice in the pipeline. Once that pilot has stopped, a new one may start at the same site."""
    client = Client()
    client.force_login(world["ann"])
    url = reverse("exchange:pilot-open", args=[world["demand"].code])
    typed = {
        "site_en": "Ward 3",
        "site_zh": "三病区",
        "on": days_ago(9).isoformat(),
        "evidence_kind": "link",
        "evidence_url": "https://r.example/a",
    }
    assert client.post(url, typed).status_code == 302
    first = Pilot.objects.get()
    again = client.post(url, {**typed, "site_en": "ward 3 "})
    assert again.status_code == 409 and first.code in again.content.decode()
    with pytest.raises(Conflict):  # the Chinese name alone is the same site too
        svc.pilot_open(actor=world["ann"], demand=world["demand"], site_zh="三病区", on=days_ago(2), evidence=report())
    assert Pilot.objects.count() == 1 and PilotStageChange.objects.count() == 1
    svc.pilot_stage_add(
        actor=world["ann"], pilot=first, stage="stopped", on=days_ago(1), evidence=report(), stop_reason_en="Moved."
    )
    assert client.post(url, typed).status_code == 302
    assert Pilot.objects.count() == 2


def test_the_curator_sees_which_named_suppliers_never_agreed_before_verifying_an_opening(
    world: dict[str, Any],
) -> None:
    """Ann may name any organisation as a supplier. Unitree agreed in a conversation; Other Works never spoke
    to her: Cora, verifying the opening, is told to check that Other Works takes part before it is public."""
    agreed_conversation(world)
    svc.pilot_open(
        actor=world["ann"],
        demand=world["demand"],
        site_en="Ward 3",
        suppliers=[(world["unitree"], world["capability"]), (world["other"], None)],
        on=days_ago(4),
        evidence=report(),
    )
    client = Client()
    client.force_login(world["cora"])
    page = client.get(reverse("exchange:pilot-review")).content.decode()
    assert "Named by the owner without an agreed conversation" in page
    warning = page.split("Named by the owner without an agreed conversation")[1].split("</td>")[0]
    assert "Other Works" in warning and "Unitree" not in warning
