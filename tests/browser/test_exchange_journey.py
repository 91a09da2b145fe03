"""The scenario exchange end to end in a real browser, in English and in Chinese: a hospital's editor proposes
a demand entry through the form and submits it; a curator (her own browser) starts the review and asks for a
change; the editor reads the comment, edits and resubmits; the curator accepts it, assembles a release on the
release workbench and publishes it; a visitor finds the entry on the public release page and downloads the
CSV, then finds the entry among the public scenarios, follows it to the release that lists it and reads its
public page, where the review thread is not shown; an editor of another organisation gets no access to the
draft and finds it in no list she can open.

The entry is written as a close paraphrase of a curated catalog scenario (smart elderly care, published by
``load_catalog`` in the programme's release r1), so the editor is warned of the near-duplicate on her draft's
page before she submits (and submits anyway)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from scenarios.exchange.exports import CSV_COLUMNS
from scenarios.exchange.organisations import organisation_create
from scenarios.models import Entry, Membership, Release
from tests.factories import staff_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-password-9"
# Chromium reports every 4xx answer to a navigation on the console; the journey opens refused pages on purpose.
EXPECTED_REFUSAL = re.compile(r"Failed to load resource: the server responded with a status of 40[34]")


@dataclass(frozen=True)
class Language:
    """What the journey types and expects to read in one language (the Chinese taken from the site's .po)."""

    code: str
    prefix: str
    locale: str
    title_field: str  # the entry is proposed in this language first; the other one follows on resubmission
    other_title_field: str
    title: str
    other_title: str
    summary: str
    region: str
    comment: str
    release_title: str
    words: dict[str, str] = field(default_factory=dict)


ENGLISH = Language(
    code="en",
    prefix="",
    locale="en-GB",
    title_field="title_en",
    other_title_field="title_zh",
    title="Care robots for older patients at Ruijin Hospital",
    other_title="瑞金医院老年病房照护机器人",
    summary=(
        "Care robots, wearable assistance and continuous health monitoring help older patients stay safe on the"
        " wards with fewer nurses at night."
    ),
    region="Shanghai",
    comment="How many wards take part, and from which month?",
    release_title="2027, first batch of scenarios",
    words={
        "my_exchange": "My exchange",
        "entries": "Entries",
        "new_demand": "New: Demand (a scenario we will open)",
        "save": "Save",
        "draft_saved": "Draft saved. Submit it for review when it is complete.",
        "not_translated": "(not yet translated)",
        "submit": "Submit for review",
        "submitted_msg": "Submitted: the curators review it next.",
        "edit": "Edit",
        "entry_saved": "Entry saved.",
        "draft": "Draft",
        "submitted": "Submitted",
        "in_review": "In review",
        "changes_requested": "Changes requested",
        "accepted": "Accepted",
        "entry_review": "Entry review",
        "start_review": "Start the review",
        "what_should_change": "What should change",
        "request_changes": "Request changes",
        "accept": "Accept",
        "releases": "Releases",
        "create_draft": "Create the draft",
        "add": "Add",
        "in_this_release": "In this release",
        "publish": "Publish this release",
        "scenario_lists": "Scenario lists",
        "demand_list": "Demand list: scenarios to be opened",
        "not_allowed": "Not allowed",
        "cannot_see": "Only the proposing organisation and the curators can see this entry.",
        "no_entry": "No entry yet.",
        "offers": "Test site, Data",
        "similar": "Similar scenarios and entries already in the catalog",
        "similar_title": "Smart elderly care",
        "demonstration": "Smart diagnosis and treatment",
        "scenarios": "Scenarios",
        "application_scenarios": "Application scenarios",
        "search": "Search",
        "list_kind": "List kind",
        "appears_in": "Scenario lists it appears in",
        "entry_link": "Entry {code}",
        "review_thread": "Review thread",
        "hospital": "Ruijin",
    },
)
CHINESE = Language(
    code="zh-hans",
    prefix="/zh-hans",
    locale="zh-CN",
    title_field="title_zh",
    other_title_field="title_en",
    title="瑞金医院老年病房照护机器人",
    other_title="Care robots for older patients at Ruijin Hospital",
    summary="借助照护机器人、可穿戴助力设备和持续健康监测，让老年患者在病房中安全生活，同时减轻夜班护士负担。",
    region="上海",
    comment="有几个病区参加？从几月开始？",
    release_title="2027年第一批应用场景",
    words={
        "my_exchange": "我的场景交流",
        "entries": "条目",
        "new_demand": "新建：需求（我们将开放的场景）",
        "save": "保存",
        "draft_saved": "草稿已保存。完善后请提交审核。",
        "not_translated": "（尚未翻译）",
        "submit": "提交审核",
        "submitted_msg": "已提交：接下来由目录编辑审核。",
        "edit": "编辑",
        "entry_saved": "条目已保存。",
        "draft": "草稿",
        "submitted": "已提交",
        "in_review": "审核中",
        "changes_requested": "要求修改",
        "accepted": "已接受",
        "entry_review": "条目审核",
        "start_review": "开始审核",
        "what_should_change": "需要修改的内容",
        "request_changes": "要求修改",
        "accept": "接受",
        "releases": "发布批次",
        "create_draft": "创建草稿",
        "add": "加入",
        "in_this_release": "本批次包含",
        "publish": "发布本批次",
        "scenario_lists": "场景清单",
        "demand_list": "需求清单：将开放的场景",
        "not_allowed": "无权访问",
        "cannot_see": "只有提出机构和目录编辑可以查看此条目。",
        "no_entry": "尚无条目。",
        "offers": "测试场地, 数据",
        "similar": "目录中已有的相似场景和条目",
        "similar_title": "智慧养老",
        "demonstration": "智能诊疗",
        "scenarios": "场景",
        "application_scenarios": "应用场景",
        "search": "搜索",
        "list_kind": "清单类型",
        "appears_in": "收录该场景的场景清单",
        "entry_link": "条目 {code}",
        "review_thread": "审核记录",
        "hospital": "瑞金",
    },
)


# --- People and browsers ------------------------------------------------------------------------------------


def person(email: str) -> Any:
    """An account as django-allauth leaves it after sign-up: its address verified and primary."""
    user = get_user_model().objects.create_user(email.split("@")[0], email, PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture
def people(transactional_catalog: Any) -> dict[str, Any]:
    ann, ed = person("ann@hospital.example"), person("ed@hospital.example")
    hospital = organisation_create(user=ann, name_en="Ruijin Hospital", name_zh="瑞金医院", kind="public_service")
    Membership.objects.create(organisation=hospital, user=ed, role=Membership.Role.EDITOR)
    zoe, yan = person("zoe@robots.example"), person("yan@robots.example")
    robots = organisation_create(user=zoe, name_en="Robots Inc", name_zh="机器人公司", kind="enterprise")
    Membership.objects.create(organisation=robots, user=yan, role=Membership.Role.EDITOR)
    cora = staff_user("cora", "Curator", password=PASSWORD, email="cora@foresight.example")
    EmailAddress.objects.create(user=cora, email=cora.email, verified=True, primary=True)
    return {"ed": ed, "yan": yan, "cora": cora, "hospital": hospital, "robots": robots}


class Browsers:
    """One browser context per person (their own cookies), each failing the test on a script error or on a
    console error other than the refusals the journey asks for."""

    def __init__(self, browser: Any, language: Language) -> None:
        self.browser, self.language = browser, language
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def open(self) -> Page:
        context = self.browser.new_context(locale=self.language.locale)
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

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture(params=[ENGLISH, CHINESE], ids=["en", "zh-hans"])
def language(request: pytest.FixtureRequest) -> Language:
    param: Language = request.param
    return param


@pytest.fixture
def browsers(browser: Any, language: Language) -> Iterator[Browsers]:
    made = Browsers(browser, language)
    yield made
    made.close()
    assert not made.errors, f"browser errors: {made.errors}"


def sign_in(page: Page, base: str, lang: Language, email: str) -> None:
    """Through django-allauth's sign-in page, reached in English and switched with the site's language links."""
    page.goto(f"{base}/accounts/login/")
    if lang.code != "en":
        page.locator(".lang-switch").get_by_role("link", name="中文").click()
        expect(page).to_have_url(re.compile(rf"{re.escape(lang.prefix)}/accounts/login/"))
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()


def status_badge(page: Page) -> Any:
    return page.locator("article.entry h1 .badge")


# --- The near-duplicate warning and the public scenario pages ------------------------------------------------

# The curated scenario the journey's entry paraphrases (scenarios/data/scenarios.yaml, a demand list's).
SIMILAR_SCENARIO = "smart-elderly-care"


def see_duplicate_warning(page: Page, lang: Language) -> None:
    """On her draft's page, before she submits: the box headed "Similar scenarios and entries already in the
    catalog" warns that the entry reads like the curated smart elderly care scenario, named in the page's
    language and linked to its scenario page."""
    box = page.locator("section.similar-box.notice")
    expect(box.get_by_role("heading", level=2)).to_have_text(lang.words["similar"])
    similar = box.locator(f"li[data-code={SIMILAR_SCENARIO}]")
    expect(similar.get_by_role("link")).to_have_text(lang.words["similar_title"])
    expect(similar.get_by_role("link")).to_have_attribute("href", f"{lang.prefix}/scenarios/{SIMILAR_SCENARIO}/")


def see_on_scenario_pages(page: Page, lang: Language, entry: Entry, release: Release) -> None:
    """The published entry on the public scenario pages, for a visitor who is not signed in: found on
    /scenarios/ with the list-kind filter and the search box, its scenario page names the release it appears
    in (followed to the release page), and its entry page is public without the review thread."""
    w = lang.words
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    page.locator(".main-nav").get_by_role("link", name=w["scenarios"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(w["application_scenarios"])
    filters, results = page.locator("form.filters"), page.locator("#results")
    cards = results.locator("li.card")
    # The filter and the search box each redraw the results in place (htmx) and put the query in the address.
    # The demand lists: the entry among the curated demand scenarios, no demonstration scenario.
    filters.get_by_label(w["list_kind"], exact=True).select_option("demand")
    expect(page).to_have_url(re.compile(r"[?&]list_kind=demand"))
    expect(cards.filter(has_text=lang.title)).to_have_count(1)
    expect(cards.filter(has_text=w["similar_title"])).to_have_count(1)
    expect(cards.filter(has_text=w["demonstration"])).to_have_count(0)
    filters.get_by_label(w["search"], exact=True).fill(w["hospital"])
    expect(page).to_have_url(re.compile(r"[?&]q="))
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text(lang.summary)
    cards.first.get_by_role("link", name=lang.title).click()

    expect(page).to_have_url(f"{origin}{lang.prefix}/scenarios/{entry.code}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(lang.title)
    lists = page.locator("section[aria-labelledby=releases-h]")
    expect(lists.get_by_role("heading", level=2)).to_have_text(w["appears_in"])
    expect(lists.locator("ul.release-list li")).to_have_count(1)
    lists.get_by_role("link", name=lang.release_title, exact=True).click()
    expect(page).to_have_url(f"{origin}{lang.prefix}/releases/{release.code}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(lang.release_title)
    expect(page.locator(f"#item-{entry.code}")).to_contain_text(lang.title)

    # Back on the scenario page, its entry: public now, without the review thread and the curator's comment.
    page.go_back()
    expect(page).to_have_url(f"{origin}{lang.prefix}/scenarios/{entry.code}/")
    page.locator("section[aria-labelledby=releases-h]").get_by_role(
        "link", name=w["entry_link"].format(code=entry.code), exact=True
    ).click()
    expect(page).to_have_url(f"{origin}{lang.prefix}/exchange/entries/{entry.code}/")
    expect(page.locator("article.entry h1")).to_contain_text(lang.title)
    expect(page.locator("dl.facts")).to_contain_text(lang.other_title)
    expect(page.get_by_role("heading", name=w["review_thread"])).to_have_count(0)
    expect(page.locator("article.comment")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(lang.comment)


# --- The journey --------------------------------------------------------------------------------------------


def test_a_demand_entry_from_proposal_to_published_release(
    live_server: Any, people: dict[str, Any], language: Language, browsers: Browsers
) -> None:
    base, lang, w = live_server.url, language, language.words
    prefix = f"{base}{lang.prefix}"

    # The hospital's editor signs in and opens her organisation's entries.
    editor = browsers.open()
    sign_in(editor, base, lang, "ed@hospital.example")
    expect(editor.get_by_role("heading", level=1)).to_have_text(w["my_exchange"])
    assert editor.url == f"{prefix}/exchange/"
    editor.locator(
        ".org-list li", has_text=people["hospital"].name_en if lang.code == "en" else "瑞金医院"
    ).get_by_role("link", name=w["entries"], exact=True).click()
    expect(editor.locator("table.exchange-table")).to_contain_text(w["no_entry"])

    # A demand entry through the form, in the journey's language first.
    editor.get_by_role("link", name=w["new_demand"]).click()
    expect(editor.locator("#id_trl")).to_have_count(0)  # a capability's field is not on a demand's form
    editor.locator(f"#id_{lang.title_field}").fill(lang.title)
    editor.locator(f"#id_summary_{lang.code[:2]}").fill(lang.summary)
    editor.locator("#id_setting").select_option("hospital")
    editor.locator(f"#id_region_{lang.code[:2]}").fill(lang.region)
    editor.locator("input[name=offers][value=test_site]").check()
    editor.locator("input[name=offers][value=data]").check()
    editor.locator("#id_core").select_option(["humanoid-robots"])
    editor.locator("#id_enabling").select_option(["6g"])
    editor.locator("#id_sources").fill("https://example.org/ward-plan The ward plan")
    editor.get_by_role("button", name=w["save"], exact=True).click()
    expect(editor.locator(".exchange-messages")).to_contain_text(w["draft_saved"])
    expect(status_badge(editor)).to_have_text(w["draft"])
    expect(editor.locator("article.entry h1")).to_contain_text(lang.title)
    expect(editor.locator("dl.facts")).to_contain_text(w["offers"])  # the offers' names, not their codes
    # The language not yet written is shown as missing, never as an empty field.
    expect(editor.locator("dl.facts dd").filter(has_text=w["not_translated"]).first).to_be_visible()
    entry = Entry.objects.get(organisation=people["hospital"])
    assert editor.url == f"{prefix}/exchange/entries/{entry.code}/"
    assert getattr(entry, lang.title_field) == lang.title and not getattr(entry, lang.other_title_field)
    assert entry.status == Entry.Status.DRAFT
    # Her text reads like a curated scenario: warned on her draft's page before she submits.
    see_duplicate_warning(editor, lang)

    # An editor of another organisation: the draft is refused and listed nowhere she can look.
    rival = browsers.open()
    sign_in(rival, base, lang, "yan@robots.example")
    expect(rival.get_by_role("heading", level=1)).to_have_text(w["my_exchange"])
    expect(rival.locator("main")).not_to_contain_text("瑞金医院" if lang.code != "en" else "Ruijin Hospital")
    rival.locator(".org-list").get_by_role("link", name=w["entries"], exact=True).click()
    expect(rival.locator("table.exchange-table")).to_contain_text(w["no_entry"])
    for path in (
        f"/exchange/entries/{entry.code}/",
        f"/exchange/entries/{entry.code}/edit/",
        f"/exchange/organisations/{people['hospital'].code}/entries/",
        "/exchange/review/",
    ):
        response = rival.goto(f"{prefix}{path}")
        assert response is not None and response.status == 403, path
        expect(rival.get_by_role("heading", level=1)).to_have_text(w["not_allowed"])
        expect(rival.locator("main")).not_to_contain_text(lang.title)
    rival.goto(f"{prefix}/exchange/entries/{entry.code}/")
    expect(rival.locator("main")).to_contain_text(w["cannot_see"])
    for path in ("/releases/", "/scenarios/", f"/organisations/{people['hospital'].code}/", "/organisations/"):
        response = rival.goto(f"{prefix}{path}")
        assert response is not None and response.ok, path
        expect(rival.locator("main")).not_to_contain_text(lang.title)
        assert entry.code not in rival.content()

    # The editor submits anyway: the warning informs, it does not block.
    editor.get_by_role("button", name=w["submit"]).click()
    expect(editor.locator(".exchange-messages")).to_contain_text(w["submitted_msg"])
    expect(status_badge(editor)).to_have_text(w["submitted"])

    # The curator, in her own browser: the review queue from the header, start the review, ask for a change.
    curator = browsers.open()
    sign_in(curator, base, lang, "cora@foresight.example")
    curator.locator(".main-nav").get_by_role("link", name=w["entry_review"]).click()
    expect(curator.get_by_role("heading", level=1)).to_have_text(w["entry_review"])
    row = curator.locator("table.exchange-table tbody tr", has_text=lang.title)
    expect(row).to_contain_text(w["submitted"])
    row.get_by_role("link", name=lang.title).click()
    curator.get_by_role("button", name=w["start_review"]).click()
    expect(status_badge(curator)).to_have_text(w["in_review"])
    curator.get_by_label(w["what_should_change"]).fill(lang.comment)
    curator.get_by_role("button", name=w["request_changes"]).click()
    expect(status_badge(curator)).to_have_text(w["changes_requested"])

    # The editor reads the comment, completes the other language and the scale, and resubmits.
    editor.reload()
    expect(status_badge(editor)).to_have_text(w["changes_requested"])
    expect(editor.locator("article.comment.by-curator")).to_contain_text(lang.comment)
    editor.get_by_role("link", name=w["edit"], exact=True).click()
    expect(editor.locator(f"#id_{lang.title_field}")).to_have_value(lang.title)
    editor.locator(f"#id_{lang.other_title_field}").fill(lang.other_title)
    editor.locator("#id_scale_sites").fill("6")
    editor.get_by_role("button", name=w["save"], exact=True).click()
    expect(editor.locator(".exchange-messages")).to_contain_text(w["entry_saved"])
    expect(editor.locator("dl.facts")).to_contain_text(lang.other_title)
    editor.get_by_role("button", name=w["submit"]).click()
    expect(status_badge(editor)).to_have_text(w["submitted"])

    # The curator accepts it from the queue.
    curator.locator(".main-nav").get_by_role("link", name=w["entry_review"]).click()
    curator.locator("table.exchange-table tbody tr", has_text=lang.title).get_by_role("link").click()
    expect(status_badge(curator)).to_have_text(w["submitted"])
    curator.get_by_role("button", name=w["accept"], exact=True).click()
    expect(status_badge(curator)).to_have_text(w["accepted"])

    # The release workbench: a new draft release, the entry added, published.
    curator.locator(".main-nav").get_by_role("link", name=w["releases"]).click()
    expect(curator.get_by_role("heading", level=1)).to_have_text(w["releases"])
    curator.locator("#r-title-en").fill(ENGLISH.release_title)
    curator.locator("#r-title-zh").fill(CHINESE.release_title)
    curator.get_by_role("button", name=w["create_draft"]).click()
    expect(curator.get_by_role("heading", level=1)).to_contain_text(lang.release_title)
    curator.locator("li", has_text=lang.title).get_by_role("button", name=w["add"], exact=True).click()
    in_release = curator.get_by_role("heading", name=w["in_this_release"]).locator("xpath=following-sibling::ul[1]")
    expect(in_release).to_contain_text(lang.title)
    curator.get_by_role("button", name=w["publish"]).click()
    release = Release.objects.get(title_en=ENGLISH.release_title)
    expect(curator).to_have_url(f"{prefix}/releases/{release.code}/")
    expect(curator.get_by_role("heading", level=1)).to_have_text(lang.release_title)
    release.refresh_from_db()
    entry.refresh_from_db()
    assert release.status == Release.Status.PUBLISHED and release.fingerprint
    assert entry.status == Entry.Status.PUBLISHED

    # A visitor: the scenario lists from the header, the release, the entry on its demand list, the CSV.
    visitor = browsers.open()
    visitor.goto(f"{prefix}/")
    visitor.locator(".main-nav").get_by_role("link", name=w["scenario_lists"]).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(w["scenario_lists"])
    visitor.get_by_role("link", name=lang.release_title).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(lang.release_title)
    demand = visitor.locator("section[aria-labelledby=demand-h]")
    expect(demand.get_by_role("heading", level=2)).to_have_text(w["demand_list"])
    item = demand.locator(f"#item-{entry.code}")
    expect(item.locator("strong")).to_have_text(lang.title)
    expect(item).to_contain_text(lang.summary)
    expect(item).to_contain_text("瑞金医院" if lang.code != "en" else "Ruijin Hospital")
    with visitor.expect_download() as info:
        visitor.get_by_role("link", name="CSV", exact=True).click()
    assert info.value.suggested_filename == f"release-{release.code}.csv"
    with open(info.value.path(), encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == CSV_COLUMNS
    mine = [r for r in rows if r["code"] == entry.code]
    assert len(mine) == 1, f"{entry.code} once in the CSV: {[r['code'] for r in rows]}"
    row_csv = mine[0]
    assert row_csv["release"] == release.code and row_csv["change"] == "new" and row_csv["kind"] == "demand"
    assert row_csv["organisation"] == people["hospital"].code
    assert row_csv["organisation_name_zh"] == "瑞金医院"
    assert row_csv[lang.title_field] == lang.title and row_csv[lang.other_title_field] == lang.other_title
    assert row_csv[f"summary_{lang.code[:2]}"] == lang.summary
    assert row_csv["setting"] == "hospital"
    assert set(row_csv["offers"].split(";")) == {"test_site", "data"}
    assert set(row_csv["topics"].split(";")) == {"humanoid-robots:core", "6g:enabling"}
    assert row_csv["sources"] == "https://example.org/ward-plan"
    see_on_scenario_pages(visitor, lang, entry, release)
