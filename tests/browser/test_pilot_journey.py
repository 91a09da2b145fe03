"""From a published demand entry to a verified pilot, in a real browser: a hospital's demand entry and a
robot maker's capability entry are published in a release; the hospital's editor finds the robot ranked among
her entry's matches with the reasons, shortlists it and invites its maker to respond; the maker's editor (her
own browser) reads the invitation in her conversations and replies; the hospital's editor records that they
agreed to pilot and opens the pilot from the conversation, then records the pilot and demonstration stages
with their evidence; a curator verifies each stage's evidence; a visitor finds the pilot at demonstration in
the public pipeline, and the topic's scenario pull on its public page has grown by the demonstration's
weight. Until the curator verifies, the public sees neither the pilot nor the change."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Page, expect

from scenarios import pull
from scenarios.exchange import entries, releases
from scenarios.exchange.matching import matches_for_entries
from scenarios.exchange.organisations import organisation_create
from scenarios.models import Conversation, Entry, Membership, Pilot, ScenarioTopic
from tests.factories import staff_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-password-9"
TOPIC = "humanoid-robots"
DEMAND = "Night rounds on the geriatric wards"
CAPABILITY = "Ward-round service robot"
EXPECTED_REFUSAL = re.compile(r"Failed to load resource: the server responded with a status of 40[34]")


def person(email: str) -> Any:
    user = get_user_model().objects.create_user(email.split("@")[0], email, PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture
def published(transactional_catalog: Any) -> dict[str, Any]:
    """The two entries, proposed, accepted and published in a release through the real services, and their
    matches computed."""
    ann, ed = person("ann@hospital.example"), person("ed@hospital.example")
    hospital = organisation_create(user=ann, name_en="Ruijin Hospital", name_zh="瑞金医院", kind="public_service")
    Membership.objects.create(organisation=hospital, user=ed, role=Membership.Role.EDITOR)
    zoe, yan = person("zoe@robots.example"), person("yan@robots.example")
    robots = organisation_create(user=zoe, name_en="Nimble Robotics", name_zh="灵动机器人", kind="enterprise")
    Membership.objects.create(organisation=robots, user=yan, role=Membership.Role.EDITOR)
    cora = staff_user("cora", "Curator", password=PASSWORD, email="cora@foresight.example")
    EmailAddress.objects.create(user=cora, email=cora.email, verified=True, primary=True)

    demand = entries.entry_create(
        organisation=hospital,
        actor=ed,
        kind=Entry.Kind.DEMAND,
        topics=[(TOPIC, "core")],
        title_en=DEMAND,
        title_zh="老年病房夜间巡视",
        summary_en="Night nurses cannot round every bed: robots that patrol the wards, fetch and call the nurse.",
        setting="hospital",
        region_en="Shanghai",
        offers=["test_site", "data"],
        scale_sites=4,
        trl_needed=6,
    )
    capability = entries.entry_create(
        organisation=robots,
        actor=yan,
        kind=Entry.Kind.CAPABILITY,
        topics=[(TOPIC, "core")],
        title_en=CAPABILITY,
        title_zh="病房巡视服务机器人",
        summary_en="A robot that patrols hospital wards at night, fetches supplies and calls the nurse.",
        region_en="Shanghai",
        trl=7,
        trl_evidence_en="Six months in two hospitals.",
    )
    for entry, writer in ((demand, ed), (capability, yan)):
        entry = entries.entry_submit(entry=entry, actor=writer)
        entries.entry_accept(entry=entries.entry_review_start(entry=entry, actor=cora), actor=cora)
    release = releases.release_draft_create(actor=cora, title_en="2027, first batch")
    releases.release_add_many(
        release=release, entries=Entry.objects.filter(pk__in=[demand.pk, capability.pk]), actor=cora
    )
    releases.release_publish(release=release, actor=cora)
    # The publication queued the entries' matching for the worker; the journey runs that job itself.
    matches_for_entries(entry_ids=[demand.pk, capability.pk])
    return {"demand": Entry.objects.get(pk=demand.pk), "capability": Entry.objects.get(pk=capability.pk)}


class Browsers:
    def __init__(self, browser: Any) -> None:
        self.browser, self.contexts, self.errors = browser, [], []  # type: ignore[var-annotated]

    def open(self) -> Page:
        context = self.browser.new_context(locale="en-GB")
        self.contexts.append(context)
        page: Page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on(
            "console",
            lambda msg: self.errors.append(msg.text)
            if msg.type == "error" and not EXPECTED_REFUSAL.search(msg.text)
            else None,
        )
        return page


@pytest.fixture
def browsers(browser: Any) -> Any:
    made = Browsers(browser)
    yield made
    for context in made.contexts:
        context.close()
    assert not made.errors, f"browser errors: {made.errors}"


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#id_login")).to_have_count(0)


def public_pull(page: Page, base: str) -> tuple[float, float]:
    """The topic's demand and pilot components of scenario pull, as its public page shows them."""
    page.goto(f"{base}/topics/{TOPIC}/")
    section = page.locator("section.scenario-pull")
    values = section.locator("dd data")
    return float(values.nth(0).get_attribute("value") or "nan"), float(values.nth(1).get_attribute("value") or "nan")


def days_ago(n: int) -> str:
    return (timezone.localdate() - timedelta(days=n)).isoformat()


def record_stage(page: Page, *, stage: str, on: str, kind: str, **evidence: str) -> None:
    form = page.locator("form[action$='/stages/']")
    form.locator("[name=stage]").select_option(stage)
    form.locator("[name=on]").fill(on)
    form.locator("[name=evidence_kind]").select_option(kind)
    for name, value in evidence.items():
        form.locator(f"[name={name}]").fill(value)
    form.get_by_role("button", name="Record the stage").click()


def stage_count(page: Page, label: str) -> Any:
    """The count of one stage in the pipeline's first table (pilots by verified stage)."""
    return page.locator("main table").first.locator("tr").filter(has_text=label).locator("td")


def test_a_published_demand_entry_becomes_a_verified_pilot_that_the_public_pipeline_counts(
    live_server: Any, published: dict[str, Any], browsers: Browsers
) -> None:
    base = live_server.url
    demand = published["demand"]

    # Before: the pipeline is empty, and the topic's pull has the published demand and no pilot.
    visitor = browsers.open()
    visitor.goto(f"{base}/pipeline/")
    expect(stage_count(visitor, "Demonstration")).to_have_text("0")
    demand_before, pilots_before = public_pull(visitor, base)
    assert pilots_before == 0.0 and demand_before > 0

    # The hospital's editor sees the robot among her entry's matches, with why it matched.
    ed = browsers.open()
    sign_in(ed, base, "ed@hospital.example")
    ed.goto(f"{base}/exchange/entries/{demand.code}/")
    matches = ed.locator("section.matches")
    expect(matches.locator("#matches-h")).to_have_text("Matching capabilities")
    match = matches.locator("li.match").filter(has_text=CAPABILITY)
    expect(match).to_have_count(1)
    expect(match.locator("p.meta")).to_contain_text("1 shared topic: Humanoid robots (core)")
    expect(match.locator("p.meta")).to_contain_text("TRL 7 meets the TRL 6 asked")
    expect(match.locator("p.meta")).to_contain_text("same region")

    # She shortlists it (htmx swaps the button), and invites its maker from the shortlist.
    match.get_by_role("button", name="Shortlist").click()
    expect(match.get_by_role("button", name="On the shortlist (remove)")).to_be_visible()
    ed.reload()
    row = ed.locator("section.shortlist li.shortlist-row").filter(has_text=CAPABILITY)
    expect(row).to_contain_text("Nimble Robotics")
    row.get_by_role("button", name="Invite to respond").click()
    expect(ed).to_have_url(re.compile(r"/exchange/conversations/c-[0-9a-f]+/$"))
    conversation_url = ed.url
    expect(ed.locator("main")).to_contain_text("Invitation sent")

    # The robot maker's editor answers it from her conversations; the hospital's address is not shown to her.
    yan = browsers.open()
    sign_in(yan, base, "yan@robots.example")
    yan.goto(f"{base}/exchange/conversations/")
    yan.get_by_role("link", name=re.compile(DEMAND)).first.click()
    expect(yan).to_have_url(conversation_url)
    yan.locator("textarea[name=body]").first.fill("Two robots for wards 5 and 6 from next month; may we visit?")
    yan.get_by_role("button", name="Send").click()
    expect(yan.locator("main")).to_contain_text("Two robots for wards 5 and 6")
    expect(yan.locator("main")).not_to_contain_text("ed@hospital.example")

    # The hospital reads the reply and records that they agreed to pilot.
    ed.goto(conversation_url)
    expect(ed.locator("main")).to_contain_text("Two robots for wards 5 and 6")
    ed.get_by_role("button", name="Agreed to pilot").click()
    expect(ed.get_by_role("button", name="Agreed to pilot")).to_be_disabled()
    assert Conversation.objects.get(demand=demand).outcome == Conversation.Outcome.AGREED

    # She opens the pilot from the agreed conversation, then records the pilot and demonstration stages.
    ed.goto(f"{base}/exchange/entries/{demand.code}/")
    ed.get_by_role("link", name="Open a pilot").click()
    form = ed.locator("main form.exchange-form")
    form.locator("[name=site_en]").fill("Wards 5 and 6")
    form.locator("[name=region_en]").fill("Shanghai")
    form.locator("[name=conversation]").select_option(label=f"Nimble Robotics · {CAPABILITY}")
    form.locator("[name=on]").fill(days_ago(120))
    form.locator("[name=evidence_kind]").select_option("link")
    form.locator("[name=evidence_url]").fill("https://example.org/ruijin/ward-robots-agreement")
    form.get_by_role("button", name="Open the pilot").click()
    expect(ed).to_have_url(re.compile(r"/exchange/pilots/p-[0-9a-f]+/$"))
    pilot = Pilot.objects.get(demand=demand)
    record_stage(ed, stage="pilot", on=days_ago(60), kind="figure", users_reached="40", sites_reached="2")
    expect(ed.locator("main")).to_contain_text("40 users reached")
    record_stage(
        ed,
        stage="demonstration",
        on=days_ago(10),
        kind="report",
        evidence_url="https://example.org/ruijin/ward-robots-report",
        evidence_title="Three months of night rounds",
    )
    expect(ed.locator("main")).to_contain_text("Three months of night rounds")

    # Nothing is public before a curator verifies: the pipeline counts no pilot, the pull has not moved.
    visitor.goto(f"{base}/pipeline/pilots/")
    expect(visitor.locator("main")).not_to_contain_text("Wards 5 and 6")
    assert public_pull(visitor, base) == (demand_before, pilots_before)

    # A curator verifies the three stages' evidence from her queue.
    cora = browsers.open()
    sign_in(cora, base, "cora@foresight.example")
    cora.goto(f"{base}/exchange/pilots/review/")
    verify = cora.locator("main tr").filter(has_text=pilot.code).get_by_role("button", name="Verify")
    for remaining in (3, 2, 1):
        expect(verify).to_have_count(remaining)
        verify.first.click()
        expect(verify).to_have_count(remaining - 1)
    pilot.refresh_from_db()
    assert pilot.verified_stage == Pilot.Stage.DEMONSTRATION

    # The public pipeline counts the pilot at demonstration, and the topic's pilot component has grown by the
    # demonstration's weight for a core topic.
    visitor.goto(f"{base}/pipeline/")
    expect(stage_count(visitor, "Demonstration")).to_have_text("1")
    expect(stage_count(visitor, "Opened")).to_have_text("0")
    visitor.goto(f"{base}/pipeline/pilots/")
    expect(visitor.locator("main")).to_contain_text("Wards 5 and 6")
    demand_after, pilots_after = public_pull(visitor, base)
    expected = ScenarioTopic.ROLE_WEIGHTS["core"] * pull.STAGE_WEIGHTS["demonstration"]
    assert (demand_after, pilots_after) == (demand_before, pilots_before + expected)
