"""Near-duplicates in the exchange (scenarios.exchange.duplicates): the proposer is warned when her entry reads
like one already in, in English or Chinese, and never learns of another organisation's unpublished entry; the
curator sees every entry with its score and merges a duplicate into the entry it repeats (its thread, topics
and sources follow); every refused merge changes nothing; the merged entry's page says where it went."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from foresight.core.errors import Conflict
from foresight.core.models import AuditLog
from scenarios.exchange import duplicates, releases, selectors
from scenarios.exchange import entries as svc
from scenarios.exchange.organisations import organisation_create
from scenarios.models import Entry, EntryComment, Membership
from tests.factories import staff_user

pytestmark = pytest.mark.django_db
User = get_user_model()


def person(email: str) -> Any:
    user = User.objects.create_user(email.split("@")[0], email, "a-long-password-9")
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def people(catalog: Any) -> dict[str, Any]:
    ann, ed, zoe = person("ann@hospital.example"), person("ed@hospital.example"), person("zoe@clinic.example")
    hospital = organisation_create(user=ann, name_en="Ruijin Hospital", kind="public_service")
    Membership.objects.create(organisation=hospital, user=ed, role="editor")
    clinic = organisation_create(user=zoe, name_en="Harbour Clinic", kind="public_service")
    return {
        "ed": ed,
        "zoe": zoe,
        "hospital": hospital,
        "clinic": clinic,
        "cora": staff_user("cora", "Curator"),
        "al": staff_user("al", "Analyst"),
    }


ORIGINAL = {
    "title_en": "Nursing robots for night shifts on hospital wards",
    "title_zh": "病房夜班护理机器人",
    "summary_en": "Night-shift nurses are short-staffed; we want robots that patrol the wards, deliver medicines "
    "and alert a nurse when a patient gets out of bed.",
    "summary_zh": "夜班护士人手不足，希望机器人在病房巡视、配送药品，并在病人起床时提醒护士。",
}
PARAPHRASE_EN = {
    "title_en": "Robot helpers for the hospital night shift",
    "summary_en": "Our wards lack nurses at night: robots should make patrol rounds on the wards, bring medicines "
    "to patients and warn the nurse when a patient gets out of bed.",
}
PARAPHRASE_ZH = {
    "title_zh": "医院夜间护理机器人",
    "summary_zh": "晚上病房护士不够，需要机器人巡查病房、给病人送药，病人下床时提醒护士。",
}
UNRELATED = {
    "title_en": "Tuning second-hand pianos for village schools",
    "summary_en": "A volunteer tuner visits each school twice a year; we look for a van and a sponsor.",
}
DEMAND = {"setting": "hospital", "offers": ["test_site"], "sources": ["https://example.org/plan"]}


def demand(people: dict[str, Any], org: str, text: dict[str, str], *, submit: bool = True, **extra: Any) -> Entry:
    actor = people["ed"] if org == "hospital" else people["zoe"]
    values = {**DEMAND, **text, **extra}
    topics = values.pop("topics", [("humanoid-robots", "core")])
    entry = svc.entry_create(organisation=people[org], actor=actor, kind="demand", topics=topics, **values)
    return svc.entry_submit(entry=entry, actor=actor) if submit else entry


def codes(result: duplicates.Duplicates) -> list[str]:
    return [s.code for s in result.items]


# --- The warning ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [PARAPHRASE_EN, PARAPHRASE_ZH], ids=["english", "chinese"])
def test_a_paraphrase_of_an_entry_is_warned_and_an_unrelated_text_is_not(people: dict[str, Any], text: Any) -> None:
    original = demand(people, "hospital", ORIGINAL)
    new = demand(people, "hospital", text, submit=False)
    found = duplicates.similar_to_entry(entry=new, user=people["ed"])
    assert found.items[0].code == original.code and found.warn
    first = found.items[0]
    assert first.kind == "demand" and first.status == "submitted" and first.url.endswith(f"/{original.code}/")
    assert first.score == round(first.score, 3) and duplicates.WARN_AT <= first.score <= 1
    page = signed_in(people["ed"]).get(reverse("exchange:entry", args=[new.code])).content.decode()
    assert "Similar scenarios and entries already in the catalog" in page and original.code in page

    unrelated = demand(people, "hospital", UNRELATED, submit=False)
    found = duplicates.similar_to_entry(entry=unrelated, user=people["ed"])
    assert not found.warn and found.best < duplicates.WARN_AT
    page = signed_in(people["ed"]).get(reverse("exchange:entry", args=[unrelated.code])).content.decode()
    assert "Similar scenarios and entries already in the catalog" not in page


def test_the_chinese_page_warns_in_chinese(people: dict[str, Any]) -> None:
    demand(people, "hospital", ORIGINAL)
    new = demand(people, "hospital", PARAPHRASE_ZH, submit=False)
    client = signed_in(people["ed"])
    with translation.override("zh-hans"):
        url = reverse("exchange:entry", args=[new.code])
    assert url.startswith("/zh-hans/")
    page = client.get(url).content.decode()
    assert "目录中已有的相似场景和条目" in page


def test_topic_suggestions_leave_out_the_topics_already_linked(people: dict[str, Any]) -> None:
    entry = demand(people, "hospital", {"title_en": "Hydrogen from wind power for a steel plant"}, submit=False)
    topics = [s.code for s in duplicates.similar_to_entry(entry=entry, user=people["ed"]).topics]
    assert "hydrogen-energy" in topics and "humanoid-robots" not in topics
    page = signed_in(people["ed"]).get(reverse("exchange:entry-edit", args=[entry.code])).content.decode()
    assert "Catalog topics this text is close to" in page and "hydrogen-energy" in page


# --- Privacy -------------------------------------------------------------------------------------------------


def test_a_proposer_never_sees_another_organisations_unpublished_entry(people: dict[str, Any]) -> None:
    # Organisation A's, submitted, not published.
    theirs = demand(people, "hospital", {**ORIGINAL, "title_en": ORIGINAL["title_en"] + " (Ruijin)"})
    mine_before = demand(people, "clinic", PARAPHRASE_EN)  # her own organisation's
    mine = demand(people, "clinic", ORIGINAL, submit=False)  # word for word organisation A's text
    found = duplicates.similar_to_entry(entry=mine, user=people["zoe"])
    assert theirs.code not in codes(found) and mine_before.code in codes(found)
    for url in (reverse("exchange:entry", args=[mine.code]), reverse("exchange:entry-edit", args=[mine.code])):
        page = signed_in(people["zoe"]).get(url).content.decode()
        assert theirs.code not in page and "(Ruijin)" not in page
    # The curator sees it, with its score, on the entry's review page.
    mine = svc.entry_submit(entry=mine, actor=people["zoe"])
    found = duplicates.similar_to_entry(entry=mine, user=people["cora"])
    assert theirs.code in codes(found)
    page = signed_in(people["cora"]).get(reverse("exchange:entry", args=[mine.code])).content.decode()
    assert theirs.code in page and "likely duplicate" in page


def test_a_proposer_sees_another_organisations_published_entry_once(people: dict[str, Any]) -> None:
    cora = people["cora"]
    theirs = svc.entry_accept(entry=demand(people, "hospital", ORIGINAL), actor=cora)
    release = releases.release_draft_create(actor=cora, title_en="First batch")
    releases.release_add(release=release, entry=theirs, actor=cora)
    releases.release_publish(release=release, actor=cora)
    theirs.refresh_from_db()
    mine = demand(people, "clinic", PARAPHRASE_EN, submit=False)
    found = duplicates.similar_to_entry(entry=mine, user=people["zoe"])
    # Listed as the entry, or as the catalog scenario it is published as, never twice.
    shown = [theirs.code, theirs.scenario.code] if theirs.scenario else [theirs.code]
    assert sum(code in shown for code in codes(found)) == 1 and found.items[0].code in shown and found.warn
    if found.items[0].is_entry:
        assert found.items[0].status == "published"


def test_the_entry_itself_and_the_entries_merged_into_it_are_left_out(people: dict[str, Any]) -> None:
    original = demand(people, "hospital", ORIGINAL)
    twin = demand(people, "hospital", PARAPHRASE_EN)
    assert original.code not in codes(duplicates.similar_to_entry(entry=original, user=people["cora"]))
    duplicates.entry_merge(entry=twin, into=original, actor=people["cora"])
    assert twin.code not in codes(duplicates.similar_to_entry(entry=original, user=people["cora"]))


def test_nobody_but_its_readers_asks_what_an_entry_is_close_to(people: dict[str, Any]) -> None:
    theirs = demand(people, "hospital", ORIGINAL)
    with pytest.raises(PermissionDenied):
        duplicates.similar_to_entry(entry=theirs, user=people["zoe"])


# --- The corpus's version -------------------------------------------------------------------------------------


def test_the_corpus_version_moves_with_its_text_and_membership_only(people: dict[str, Any]) -> None:
    version = selectors.entry_similarity_version
    entry = demand(people, "hospital", ORIGINAL)
    v1 = version()
    svc.entry_update(entry=entry, actor=people["cora"], budget_min=None, scale_sites=None)
    svc.entry_review_start(entry=entry, actor=people["cora"])  # still in the corpus, same text
    demand(people, "hospital", UNRELATED, submit=False)  # a draft: not in the corpus
    assert version() == v1
    entry = Entry.objects.get(pk=entry.pk)
    svc.entry_update(entry=entry, actor=people["cora"], title_en="Nursing robots for night shifts")
    v2 = version()
    assert v2 != v1
    svc.entry_reject(entry=entry, actor=people["cora"], reason="Out of scope.")
    assert version() not in (v1, v2)


# --- Merging ---------------------------------------------------------------------------------------------------


def test_a_curator_merges_a_duplicate_and_its_thread_topics_and_sources_follow(people: dict[str, Any]) -> None:
    cora, ed = people["cora"], people["ed"]
    into = demand(
        people,
        "hospital",
        ORIGINAL,
        topics=[("humanoid-robots", "enabling")],
        sources=["https://example.org/b", "https://example.org/c"],
    )
    dup = demand(
        people,
        "hospital",
        PARAPHRASE_EN,
        topics=[("humanoid-robots", "core"), ("6g", "enabling")],
        sources=["https://example.org/a", "https://example.org/b"],
    )
    question = svc.entry_comment(entry=dup, actor=cora, body="Is this the clinic's project?")
    answer = svc.entry_comment(entry=dup, actor=ed, body="Similar, yes.")
    merged = duplicates.entry_merge(entry=dup, into=into, actor=cora, note="same wards")
    dup.refresh_from_db()
    assert merged.status == dup.status == "merged" and dup.merged_into == into
    thread = list(into.comments.order_by("created_at", "pk"))
    assert [c.pk for c in thread[:2]] == [question.pk, answer.pk]
    assert [(c.author, c.by_curator, c.created_at) for c in thread[:2]] == [
        (cora, True, question.created_at),
        (ed, False, answer.created_at),
    ]
    assert thread[2].body == f"Merged from {dup.code}: same wards" and thread[2].author == cora
    assert not dup.comments.exists()
    assert sorted(into.topic_links.values_list("topic__code", "role")) == [
        ("6g", "enabling"),
        ("humanoid-robots", "enabling"),  # the target's role stays
    ]
    into.refresh_from_db()
    assert [s["url"] for s in into.sources] == [
        "https://example.org/b",
        "https://example.org/c",
        "https://example.org/a",
    ]
    log = AuditLog.objects.get(action="entry_merge")
    assert log.actor == cora and log.details["entry"] == dup.code and log.details["into"] == into.code
    assert log.details["comments_moved"] == 2 and log.details["topics_added"] == ["6g"]
    assert log.details["sources_added"] == ["https://example.org/a"] and log.details["sources_dropped"] == []


def test_sources_over_the_limit_keep_the_targets_and_are_reported(people: dict[str, Any]) -> None:
    target_sources = [f"https://example.org/t{i}" for i in range(svc.MAX_SOURCES - 1)]
    into = demand(people, "hospital", ORIGINAL, sources=target_sources)
    dup = demand(people, "hospital", PARAPHRASE_EN, sources=["https://example.org/x", "https://example.org/y"])
    duplicates.entry_merge(entry=dup, into=into, actor=people["cora"])
    into.refresh_from_db()
    assert [s["url"] for s in into.sources] == [*target_sources, "https://example.org/x"]
    assert AuditLog.objects.get(action="entry_merge").details["sources_dropped"] == ["https://example.org/y"]


def test_entries_merged_earlier_follow_to_the_new_target(people: dict[str, Any]) -> None:
    a = demand(people, "hospital", ORIGINAL)
    b = demand(people, "hospital", PARAPHRASE_EN)
    c = demand(people, "hospital", PARAPHRASE_ZH)
    duplicates.entry_merge(entry=c, into=b, actor=people["cora"])
    duplicates.entry_merge(entry=b, into=a, actor=people["cora"])
    c.refresh_from_db()
    assert c.merged_into == a


def _state(*entries: Entry) -> Any:
    return [
        (
            e.status,
            e.merged_into_id,
            e.sources,
            sorted(e.topic_links.values_list("topic__code", "role")),
            sorted(e.comments.values_list("pk", flat=True)),
        )
        for e in (Entry.objects.get(pk=x.pk) for x in entries)
    ] + [AuditLog.objects.filter(action="entry_merge").count(), EntryComment.objects.count()]


def test_every_refused_merge_changes_nothing(people: dict[str, Any]) -> None:
    cora = people["cora"]
    into = demand(people, "clinic", ORIGINAL)
    dup = demand(people, "hospital", PARAPHRASE_EN, topics=[("6g", "core")])
    svc.entry_comment(entry=dup, actor=cora, body="A note.")
    draft = demand(people, "hospital", PARAPHRASE_ZH, submit=False)
    rejected = svc.entry_reject(entry=demand(people, "hospital", UNRELATED), actor=cora, reason="No.")
    withdrawn = svc.entry_withdraw(entry=demand(people, "hospital", UNRELATED), actor=people["ed"])
    earlier = demand(people, "hospital", UNRELATED)
    duplicates.entry_merge(entry=earlier, into=dup, actor=cora)  # earlier → dup
    capability = svc.entry_create(
        organisation=people["clinic"],
        actor=people["zoe"],
        kind="capability",
        topics=[("6g", "core")],
        trl=5,
        title_en="Ward robots",
        summary_en="Robots that deliver medicines on wards.",
    )
    capability = svc.entry_submit(entry=capability, actor=people["zoe"])
    everyone = (into, dup, draft, rejected, withdrawn, earlier, capability)
    before = _state(*everyone)
    refusals: list[tuple[Any, Entry, Entry, type[Exception]]] = [
        (people["ed"], dup, into, PermissionDenied),  # the proposer
        (people["al"], dup, into, PermissionDenied),  # staff, not a curator
        (people["zoe"], dup, into, PermissionDenied),  # the target's organisation
        (cora, dup, dup, ValidationError),  # into itself
        (cora, draft, into, Conflict),  # not submitted yet
        (cora, rejected, into, Conflict),
        (cora, withdrawn, into, Conflict),
        (cora, earlier, into, Conflict),  # merged already
        (cora, dup, rejected, Conflict),
        (cora, dup, withdrawn, Conflict),
        (cora, dup, earlier, Conflict),  # a loop: earlier was merged into dup
        (cora, dup, draft, Conflict),
        (cora, dup, capability, ValidationError),  # another kind
    ]
    for actor, entry, target, error in refusals:
        with pytest.raises(error):
            duplicates.entry_merge(entry=entry, into=target, actor=actor)
        assert _state(*everyone) == before, (actor, entry.status, target.status)
    with pytest.raises(Conflict, match="loop"):
        duplicates.entry_merge(entry=dup, into=earlier, actor=cora)


# --- The pages -------------------------------------------------------------------------------------------------


def test_a_curator_merges_from_the_review_page(people: dict[str, Any]) -> None:
    into = demand(people, "hospital", ORIGINAL)
    dup = demand(people, "hospital", PARAPHRASE_EN)
    cora = signed_in(people["cora"])
    page = cora.get(reverse("exchange:entry", args=[dup.code])).content.decode()
    assert f'name="into" value="{into.code}"' in page  # prefilled from the similar list
    url = reverse("exchange:entry-merge", args=[dup.code])
    for client in (signed_in(people["ed"]), signed_in(people["al"])):
        assert client.post(url, {"into": into.code}).status_code == 403
    assert cora.post(url, {"into": "e-nothing"}).status_code == 400
    assert cora.post(url, {"into": dup.code}).status_code == 400
    assert Entry.objects.get(pk=dup.pk).status == "submitted"
    response = cora.post(url, {"into": into.code, "note": "same wards"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("exchange:entry", args=[into.code])
    assert f"{dup.code} merged into {into.code}" in response.content.decode()
    assert cora.post(url, {"into": into.code}).status_code == 409  # merged already


def _published(people: dict[str, Any], entry: Entry) -> Entry:
    cora = people["cora"]
    accepted = svc.entry_accept(entry=entry, actor=cora)
    release = releases.release_draft_create(actor=cora, title_en="Batch")
    releases.release_add(release=release, entry=accepted, actor=cora)
    releases.release_publish(release=release, actor=cora)
    return Entry.objects.get(pk=entry.pk)


def test_another_organisations_entry_is_merged_into_only_once_published_and_then_only_pointed_to(
    people: dict[str, Any],
) -> None:
    cora = people["cora"]
    into = demand(people, "clinic", ORIGINAL)  # organisation B's, unpublished
    dup = demand(people, "hospital", PARAPHRASE_EN, sources=["https://example.org/a"])
    secret = svc.entry_comment(entry=dup, actor=people["ed"], body="Our budget is 3M; do not share")
    before = _state(dup, into)
    with pytest.raises(ValidationError):
        duplicates.entry_merge(entry=dup, into=into, actor=cora)
    assert _state(dup, into) == before
    into = _published(people, into)
    duplicates.entry_merge(entry=dup, into=into, actor=cora)
    # Only the pointer: each organisation keeps its own thread, and the published entry is as published.
    assert list(dup.comments.values_list("pk", flat=True)) == [secret.pk]
    assert not into.comments.filter(body__contains="3M").exists()
    assert [s["url"] for s in Entry.objects.get(pk=into.pk).sources] == [s["url"] for s in into.sources]
    zoe = signed_in(people["zoe"]).get(reverse("exchange:entry", args=[into.code])).content.decode()
    assert "3M" not in zoe and dup.code not in zoe
    ed = signed_in(people["ed"])
    page = ed.get(reverse("exchange:entry", args=[dup.code])).content.decode()
    assert "Merged into" in page and reverse("exchange:entry", args=[into.code]) in page and "3M" in page
    assert "Withdraw" not in page and "Submit for review" not in page
    assert signed_in(people["zoe"]).get(reverse("exchange:entry", args=[dup.code])).status_code == 403


def test_the_merged_entrys_page_says_where_it_went_to_those_who_may_read_it(people: dict[str, Any]) -> None:
    ed = signed_in(people["ed"])
    # Within one organisation the member follows the link.
    other = demand(people, "hospital", UNRELATED)
    target = demand(people, "hospital", ORIGINAL)
    duplicates.entry_merge(entry=other, into=target, actor=people["cora"])
    page = ed.get(reverse("exchange:entry", args=[other.code])).content.decode()
    assert reverse("exchange:entry", args=[target.code]) in page
