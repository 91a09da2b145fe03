"""The priority workbench: Sam (staff) scores a finished study, compares weights and sees the ranks move,
decides each topic's tier with a rationale, previews and publishes. Olivia is logged in but not staff;
an anonymous visitor is sent to the login. Every bad value is a 400 and every write on a published
edition a 409, and in both cases nothing changes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from foresight import numbers
from foresight.catalog.models import Topic
from foresight.core.errors import Conflict, error_message, error_status
from foresight.core.models import AuditLog
from foresight.delphi.models import Study
from foresight.delphi.services.studies import study_create
from foresight.priorities import scoring
from foresight.priorities.models import IMMUTABLE_MESSAGE, Edition, EditionEntry, ScoringRun
from foresight.priorities.services.editions import edition_draft_create, edition_entry_decide, edition_publish
from foresight.priorities.services.runs import CRITERIA, ahp_assess, scoring_run_create, scoring_run_execute
from tests.factories import staff_user
from tests.priorities.conftest import answers, panelist, run_round

pytestmark = pytest.mark.django_db

# Importance / competitiveness / year per topic (mini_catalog order); topics 0 and 1 are on the policy list
# and needed by a published scenario, so weighting the policy list instead of importance reorders them.
PROFILE = [(3, 2, 2028), (2, 4, 2035), (5, 1, 2029), (4, 4, 2040), (2, 3, 2031)]
WEIGHTS = {"w_importance_index": "1", "w_competitiveness_gap": "0.5"}
POLICY = {"w_importance_index": "0", "w_policy_list": "1", "w_scenario_pull": "1"}


# --- People and plumbing -------------------------------------------------------------------------------


@pytest.fixture
def sam(django_user_model: type[User]) -> Client:
    client = Client()
    client.force_login(staff_user("sam", password="pw"))
    return client


@pytest.fixture
def olivia(django_user_model: type[User]) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_user("olivia", "olivia@example.org", "pw"))
    return client


@pytest.fixture
def study(mini_catalog: list[Topic], queued: list[int]) -> Study:
    """Five topics answered by ten experts (answers spread around each topic's profile: the study's minimum
    evidence), and a sixth topic answered by two experts only: below k + 1 = 6, so nothing of it is shown."""
    study = study_create(title_en="Future industries 2050", horizon_year=2050, topics=mini_catalog, planned_rounds=1)
    codes = [t.code for t in mini_catalog]
    panel = []
    for i in range(10):
        spread = (i % 3) - 1
        mine = {
            code: answers(max(1, min(5, imp + spread)), max(1, min(5, comp - spread)), year + spread)
            for code, (imp, comp, year) in zip(codes, PROFILE, strict=False)
        }
        sector = ("university", "company", "government")[i % 3]
        panel.append((panelist(study, f"expert{i}@example.org", sector, list(mine)), mine))
    for i in range(2):
        mine = {codes[5]: answers(5, 1, 2027)}
        panel.append((panelist(study, f"lone{i}@example.org", "university", list(mine)), mine))
    run_round(study.rounds.get(number=1), panel)
    return study


def run_payload(**extra: str) -> dict[str, str]:
    return {"seed": "7", "top_k": "2", "bootstrap_b": "100", "method": "weights", **WEIGHTS, **extra}


@pytest.fixture
def make_run(sam: Client, study: Study, queued: list[int]) -> Callable[..., ScoringRun]:
    """Sam submits the run form; the queued task is run here (inside the test transaction nothing commits)."""

    def make(**payload: str) -> ScoringRun:
        response = sam.post(reverse("workbench:run-create", args=[study.code]), run_payload(**payload))
        assert response.status_code == 302, response.content.decode()[:2000]
        run = ScoringRun.objects.get(pk=queued.pop())
        assert response["Location"].startswith(reverse("workbench:run", args=[run.code]))
        scoring_run_execute(run_id=run.pk)
        run.refresh_from_db()
        assert run.status == ScoringRun.Status.DONE
        return run

    return make


@pytest.fixture
def draft(make_run: Callable[..., ScoringRun], sam: Client) -> Edition:
    run = make_run()
    response = sam.post(
        reverse("workbench:edition-create", args=[run.code]),
        {"code": "fi-2040", "title_en": "Priority directions 2040", "title_zh": "2040 优先方向"},
    )
    assert response.status_code == 302
    return Edition.objects.get(code="fi-2040")


def decide_all(client: Client, edition: Edition) -> None:
    for entry in edition.entries.select_related("topic"):
        response = client.post(
            reverse("workbench:entry-decide", args=[edition.code, entry.topic.code]),
            {"tier": entry.tier, "rationale_en": f"Kept at {entry.tier}: {entry.topic.code}."},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200


def snapshot(edition: Edition) -> list[tuple[Any, ...]]:
    edition.refresh_from_db()
    return [
        (edition.status, edition.fingerprint, edition.title_en),
        *EditionEntry.objects.filter(edition=edition)
        .order_by("pk")
        .values_list("topic__code", "tier", "rationale_en", "rationale_zh", "decided_at"),
    ]


def table_codes(html: str) -> list[str]:
    return re.findall(r'<tr id="row-[^"]+" data-topic="([^"]+)"', html)


# --- Access --------------------------------------------------------------------------------------------


def test_every_workbench_url_sends_anonymous_visitors_to_the_login_and_refuses_non_staff(
    sam: Client, olivia: Client, draft: Edition, study: Study
) -> None:
    run = draft.scoring_run
    topic = draft.entries.select_related("topic").first().topic.code
    urls: list[tuple[str, str, set[int]]] = [
        ("get", reverse("workbench:index"), {200}),
        ("get", reverse("workbench:run-create", args=[study.code]), {200}),
        ("post", reverse("workbench:run-create", args=[study.code]), {400}),
        ("get", reverse("workbench:run", args=[run.code]), {200}),
        ("get", reverse("workbench:run-progress", args=[run.code]), {302}),
        ("get", reverse("workbench:edition-create", args=[run.code]), {200}),
        ("post", reverse("workbench:edition-create", args=[run.code]), {400}),
        ("get", reverse("workbench:edition", args=[draft.code]), {200}),
        ("post", reverse("workbench:entry-decide", args=[draft.code, topic]), {400}),
        ("get", reverse("workbench:edition-preview", args=[draft.code]), {200}),
        ("get", reverse("workbench:edition-publish", args=[draft.code]), {200}),
        ("post", reverse("workbench:edition-publish", args=[draft.code]), {400}),
        ("post", reverse("workbench:edition-delete", args=[draft.code]), {302}),
    ]
    anonymous = Client()
    for method, url, _ in urls:
        response = getattr(anonymous, method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/?next="), url
        assert getattr(olivia, method)(url).status_code == 403, url
    # An htmx request is redirected as a whole page.
    response = anonymous.get(reverse("workbench:run", args=[run.code]), headers={"HX-Request": "true"})
    assert response["HX-Redirect"].startswith("/admin/login/?next=")
    for method, url, expected in urls:  # the draft is deleted last
        assert getattr(sam, method)(url).status_code in expected, url
    assert not Edition.objects.filter(code=draft.code).exists()


def test_unknown_codes_are_404_and_state_changes_are_post_only(sam: Client, draft: Edition) -> None:
    assert sam.get(reverse("workbench:run", args=["nope"])).status_code == 404
    assert sam.get(reverse("workbench:edition", args=["nope"])).status_code == 404
    assert sam.get(reverse("workbench:run-create", args=["nope"])).status_code == 404
    assert sam.post(reverse("workbench:entry-decide", args=[draft.code, "nope"]), {}).status_code == 404
    assert sam.get(reverse("workbench:edition-delete", args=[draft.code])).status_code == 405
    topic = draft.entries.select_related("topic").first().topic.code
    assert sam.get(reverse("workbench:entry-decide", args=[draft.code, topic])).status_code == 405


def test_a_study_without_an_aggregated_round_cannot_be_scored(sam: Client, mini_catalog: list[Topic]) -> None:
    fresh = study_create(title_en="Not yet", horizon_year=2040, topics=mini_catalog[:2])
    response = sam.get(reverse("workbench:run-create", args=[fresh.code]))
    assert response.status_code == 409 and "no aggregated round" in response.content.decode()
    assert fresh.code not in sam.get(reverse("workbench:index")).content.decode()


# --- Scoring runs --------------------------------------------------------------------------------------


def test_a_run_is_queued_shows_its_progress_then_its_table_matrices_and_the_topics_below_k(
    sam: Client, study: Study, queued: list[int], mini_catalog: list[Topic]
) -> None:
    response = sam.post(reverse("workbench:run-create", args=[study.code]), run_payload())
    run = ScoringRun.objects.get(pk=queued.pop())
    assert run.status == ScoringRun.Status.PENDING and run.created_by.username == "sam"
    assert run.weights == {"importance_index": 1.0, "competitiveness_gap": 0.5}
    assert (run.seed, run.top_k, run.bootstrap_b) == (7, 2, 100)
    assert AuditLog.objects.filter(action="scoring_run_create", actor__username="sam", details__run=run.code).exists()

    page = sam.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 2s"' in page and "<progress" in page
    progress = sam.get(reverse("workbench:run-progress", args=[run.code]), headers={"HX-Request": "true"})
    assert progress.status_code == 200 and 'id="run-status"' in progress.content.decode()

    scoring_run_execute(run_id=run.pk)
    done = sam.get(reverse("workbench:run-progress", args=[run.code]), headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"
    page = sam.get(response["Location"]).content.decode()
    run.refresh_from_db()
    assert table_codes(page) == run.results["ranking"]
    assert len(run.results["ranking"]) == 5
    assert page.count('<svg viewBox="0 0 520 380"') == 2  # both matrices
    assert page.count('class="wb-cut"') == 4  # with their thresholds
    assert "Importance × competitiveness" in page and "Importance × time to realisation" in page
    suppressed = re.search(r'<ul class="wb-suppressed" id="suppressed">(.*?)</ul>', page, re.S)
    assert suppressed and mini_catalog[5].code in suppressed.group(1)
    assert f'data-topic="{mini_catalog[5].code}"' not in page


def test_a_failed_run_shows_its_error_and_stops_polling(sam: Client, make_run: Callable[..., ScoringRun]) -> None:
    run = make_run()
    ScoringRun.objects.filter(pk=run.pk).update(status="failed", error="worker exploded", fingerprint="")
    page = sam.get(reverse("workbench:run", args=[run.code])).content.decode()
    assert "worker exploded" in page and "every 2s" not in page


def test_a_consistent_ahp_grid_sets_the_weights(sam: Client, study: Study, queued: list[int]) -> None:
    grid = {
        "method": "ahp",
        "ahp_criteria": ["importance_index", "timing", "scenario_pull"],
        "pair__importance_index__timing": "3",
        "pair__importance_index__scenario_pull": "3",
        "pair__timing__scenario_pull": "1",
    }
    # The consistency ratio is shown as the grid changes (htmx), before anything is stored.
    check = sam.get(
        reverse("workbench:run-create", args=[study.code]), {**grid, "ahp_check": "1"}, headers={"HX-Request": "true"}
    )
    assert check.status_code == 200 and "Consistency ratio (CR) 0.000" in check.content.decode()
    assert "<html" not in check.content.decode()
    response = sam.post(reverse("workbench:run-create", args=[study.code]), {**run_payload(), **grid})
    assert response.status_code == 302
    run = ScoringRun.objects.get(pk=queued.pop())
    assert run.ahp["criteria"] == grid["ahp_criteria"] and run.ahp["cr"] <= 0.10
    assert run.weights["importance_index"] == pytest.approx(0.6)
    assert run.weights["timing"] == pytest.approx(0.2) and run.weights["scenario_pull"] == pytest.approx(0.2)


def test_an_inconsistent_ahp_grid_is_refused_with_its_cr_and_nothing_is_stored(sam: Client, study: Study) -> None:
    grid = {
        "method": "ahp",
        "ahp_criteria": ["importance_index", "competitiveness_gap", "scenario_pull"],
        "pair__importance_index__competitiveness_gap": "9",
        "pair__importance_index__scenario_pull": "1/9",
        "pair__competitiveness_gap__scenario_pull": "9",
    }
    cr = scoring.ahp_weights([[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]], max_cr=None)["cr"]
    runs, audit = ScoringRun.objects.count(), AuditLog.objects.count()
    response = sam.post(reverse("workbench:run-create", args=[study.code]), {**run_payload(), **grid})
    assert response.status_code == 400
    body = response.content.decode()
    assert f"consistency ratio {numbers.display(cr, 'coefficient')} is above 0.100" in body
    assert (ScoringRun.objects.count(), AuditLog.objects.count()) == (runs, audit)
    # "Check consistency" without JavaScript shows the same figure and stores nothing either.
    check = sam.post(reverse("workbench:run-create", args=[study.code]), {**run_payload(), **grid, "ahp_check": "1"})
    assert (
        check.status_code == 200
        and f"Consistency ratio (CR) {numbers.display(cr, 'coefficient')}" in check.content.decode()
    )
    assert ScoringRun.objects.count() == runs


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"seed": "-1"}, "greater than or equal to 0"),
        ({"top_k": "99"}, "less than or equal to 6"),
        ({"bootstrap_b": "5"}, "greater than or equal to 10"),
        ({"w_importance_index": "0", "w_competitiveness_gap": "0"}, "needs a positive weight"),
        ({"w_timing": "-2"}, "greater than or equal to 0"),
        ({"method": "ahp", "ahp_criteria": ["timing"]}, "at least two criteria"),
        ({"compare": "not-a-run"}, "not a run of this study"),
        ({"plan_end_year": "1900"}, "greater than or equal to 2000"),
    ],
)
def test_bad_run_input_is_a_400_with_the_message_and_stores_nothing(
    sam: Client, study: Study, payload: dict[str, Any], message: str
) -> None:
    response = sam.post(reverse("workbench:run-create", args=[study.code]), run_payload(**payload))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ScoringRun.objects.exists()


def test_the_table_sorts_by_any_column_and_filters_by_direction_tier_and_quadrant(
    sam: Client, make_run: Callable[..., ScoringRun], mini_catalog: list[Topic]
) -> None:
    run = make_run()
    url = reverse("workbench:run", args=[run.code])
    results = run.results["topics"]
    ranked = run.results["ranking"]
    # Ties keep the rank order (a stable sort), whichever the direction.
    by_score = sorted(ranked, key=lambda c: results[c]["score"], reverse=True)
    assert table_codes(sam.get(url, {"sort": "score", "order": "desc"}).content.decode()) == by_score
    by_rank = sorted(ranked, key=lambda c: results[c]["rank"], reverse=True)
    assert table_codes(sam.get(url, {"sort": "rank", "order": "desc"}).content.decode()) == by_rank
    by_n = sorted(ranked, key=lambda c: results[c]["n"])
    assert [results[c]["n"] for c in table_codes(sam.get(url, {"sort": "n", "order": "asc"}).content.decode())] == [
        results[c]["n"] for c in by_n
    ]
    for key in ("topic", "direction", "median_rank", "interval", "p_top_k", "tier", "quadrant", "timing_quadrant"):
        for order in ("asc", "desc"):
            response = sam.get(url, {"sort": key, "order": order})
            assert response.status_code == 200 and sorted(table_codes(response.content.decode())) == sorted(ranked)
    for name in CRITERIA:
        shown = table_codes(sam.get(url, {"sort": name, "order": "asc"}).content.decode())
        values = [results[c]["criteria"][name] for c in shown]
        assert values == sorted(values), name
    # Sorting is a link that keeps the filters; under htmx only the table comes back.
    partial = sam.get(url, {"sort": "score", "tier": "watch"}, headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in body and 'id="run-table"' in body
    assert "sort=p_top_k" in body and "tier=watch" in body

    tier = results[ranked[0]]["tier"]
    shown = table_codes(sam.get(url, {"tier": tier}).content.decode())
    assert shown == [c for c in ranked if results[c]["tier"] == tier]
    quadrant = results[ranked[0]]["quadrant"]["importance_competitiveness"]
    shown = table_codes(sam.get(url, {"quadrant": quadrant}).content.decode())
    assert shown == [c for c in ranked if results[c]["quadrant"]["importance_competitiveness"] == quadrant]
    direction = mini_catalog[0].area.direction
    shown = table_codes(sam.get(url, {"direction": direction.slug}).content.decode())
    topics = {t.code: t for t in mini_catalog}
    assert shown == [c for c in ranked if topics[c].area.direction_id == direction.pk] and shown


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "bogus"},
        {"order": "sideways"},
        {"tier": "urgent"},
        {"direction": "nowhere"},
        {"quadrant": "north"},
        {"compare": "not-a-run"},
        {"sort": "movement"},
    ],
)
def test_bad_sort_or_filter_params_are_a_400_with_the_message(
    sam: Client, make_run: Callable[..., ScoringRun], params: dict[str, str]
) -> None:
    run = make_run()
    for headers in ({}, {"HX-Request": "true"}):
        response = sam.get(reverse("workbench:run", args=[run.code]), params, headers=headers)
        assert response.status_code == 400
        assert 'class="error" role="alert"' in response.content.decode()


def test_comparing_weights_shows_how_far_each_topic_moved(
    sam: Client, make_run: Callable[..., ScoringRun], study: Study, queued: list[int]
) -> None:
    first = make_run()
    page = sam.get(reverse("workbench:run", args=[first.code])).content.decode()
    assert 'id="compare-form"' in page and f'name="compare" value="{first.code}"' in page
    # The compare form posts the same data, seed, k and B with new weights.
    response = sam.post(
        reverse("workbench:run-create", args=[study.code]),
        run_payload(compare=first.code, **POLICY),
    )
    second = ScoringRun.objects.get(pk=queued.pop())
    assert response["Location"] == reverse("workbench:run", args=[second.code]) + f"?compare={first.code}"
    scoring_run_execute(run_id=second.pk)
    second.refresh_from_db()
    page = sam.get(response["Location"]).content.decode()
    before = {c: first.results["topics"][c]["rank"] for c in first.results["ranking"]}
    after = {c: second.results["topics"][c]["rank"] for c in second.results["ranking"]}
    assert before != after  # the new weights reorder the topics
    for code, rank in after.items():
        cell = re.search(
            rf'data-topic="{code}">\s*<td class="num wb-rank">{rank}</td>\s*<td class="num wb-move">(.*?)</td>',
            page,
            re.S,
        )
        assert cell, code
        moved = before[code] - rank
        expected = f"↑{moved}" if moved > 0 else f"↓{-moved}" if moved < 0 else "="
        assert expected in cell.group(1), (code, cell.group(1))
    up = sum(1 for c in after if before[c] > after[c])
    down = sum(1 for c in after if before[c] < after[c])
    assert f"{up} topics moved up, {down} moved down" in page
    # Sorting by movement puts the biggest climber first.
    shown = table_codes(
        sam.get(response["Location"].split("?")[0], {"compare": first.code, "sort": "movement"}).content.decode()
    )
    assert before[shown[0]] - after[shown[0]] == max(before[c] - after[c] for c in after)


# --- Editions ------------------------------------------------------------------------------------------


def test_a_draft_needs_a_finished_run(sam: Client, study: Study, queued: list[int]) -> None:
    sam.post(reverse("workbench:run-create", args=[study.code]), run_payload())
    pending = ScoringRun.objects.get(pk=queued.pop())
    response = sam.post(reverse("workbench:edition-create", args=[pending.code]), {"code": "x", "title_en": "X"})
    assert response.status_code == 409 and not Edition.objects.exists()


def test_a_draft_holds_every_topic_and_a_taken_code_is_a_400(sam: Client, draft: Edition) -> None:
    run = draft.scoring_run
    ranked = draft.entries.filter(rank__isnull=False).order_by("rank").values_list("topic__code", flat=True)
    assert list(ranked) == run.results["ranking"]
    # The topic below the minimum evidence is there too, in its own tier, without a rank.
    unranked = draft.entries.select_related("topic").get(rank__isnull=True)
    assert unranked.topic.code == run.results["summary"]["insufficient"][0] and unranked.tier == "insufficient"
    assert unranked.score is None and unranked.data["n"] is None  # 2 respondents: not even the count
    assert AuditLog.objects.filter(action="edition_draft_create", actor__username="sam").exists()
    page = sam.get(reverse("workbench:edition", args=[draft.code])).content.decode()
    assert f"0 of {len(run.results['ranking']) + 1} decided" in page
    for entry in draft.entries.select_related("topic"):
        assert f'id="entry-{entry.topic.code}"' in page
        assert f'id="{entry.topic.code}-rationale_en"' in page
    assert "Below the study's minimum evidence of 10 respondents" in page
    # A topic below the minimum evidence cannot be given a ranked tier.
    url = reverse("workbench:entry-decide", args=[draft.code, unranked.topic.code])
    refused = sam.post(url, {"tier": "priority", "rationale_en": "We like it."}, headers={"HX-Request": "true"})
    assert refused.status_code == 400 and "can only be published as insufficient evidence" in refused.content.decode()
    unranked.refresh_from_db()
    assert unranked.rationale_en == ""
    again = sam.post(reverse("workbench:edition-create", args=[run.code]), {"code": draft.code, "title_en": "Again"})
    assert again.status_code == 400 and "already exists" in again.content.decode()
    assert Edition.objects.count() == 1


def test_a_decision_needs_a_rationale_and_a_known_tier_and_saves_inline(sam: Client, draft: Edition) -> None:
    entry = draft.entries.select_related("topic").order_by("rank").first()
    url = reverse("workbench:entry-decide", args=[draft.code, entry.topic.code])
    before = snapshot(draft)
    for data in ({"tier": "watch", "rationale_en": "  "}, {"tier": "urgent", "rationale_en": "Fine."}, {}):
        response = sam.post(url, data, headers={"HX-Request": "true"})
        assert response.status_code == 400
        assert 'role="alert"' in response.content.decode()
    assert "Write the rationale for this decision." in sam.post(url, {"tier": "watch"}).content.decode()
    assert snapshot(draft) == before

    response = sam.post(
        url,
        {"tier": "watch", "rationale_en": "Too early for this plan period.", "rationale_zh": "本规划期内尚早。"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Saved." in body and "<html" not in body
    total = draft.entries.count()
    assert 'id="decided-count"' in body and 'hx-swap-oob="true"' in body and f"1 of {total} decided" in body
    entry.refresh_from_db()
    assert (entry.tier, entry.rationale_en, entry.rationale_zh) == (
        "watch",
        "Too early for this plan period.",
        "本规划期内尚早。",
    )
    assert entry.decided_by.username == "sam"
    # Without JavaScript the form posts and comes back to the entry.
    plain = sam.post(url, {"tier": "key", "rationale_en": "On reflection."})
    assert plain.status_code == 302 and plain["Location"].endswith(f"#entry-{entry.topic.code}")


def test_changing_a_tier_refuses_the_rationale_generated_for_the_old_one(sam: Client, draft: Edition) -> None:
    """The editor says the rule in its help text; a tier change that keeps the Chinese rationale generated for
    the old tier is a 400 on that field; an empty Chinese rationale is allowed and the Chinese page marks the
    English one it shows instead."""
    from django.utils import translation

    from foresight.priorities.services.publishing import suggested_rationale

    run = draft.scoring_run
    entry = draft.entries.select_related("topic").order_by("rank").first()
    result = run.results["topics"][entry.topic.code]
    generated = {lang: suggested_rationale(result=result, run=run, lang=lang) for lang in ("en", "zh")}
    edition_entry_decide(entry=entry, tier=entry.tier, rationale_en=generated["en"], rationale_zh=generated["zh"])
    page = sam.get(reverse("workbench:edition", args=[draft.code])).content.decode()
    assert "rewrite both rationales" in page
    url = reverse("workbench:entry-decide", args=[draft.code, entry.topic.code])
    other = "watch" if entry.tier != "watch" else "key"
    before = snapshot(draft)
    data = {"tier": other, "rationale_en": "Rewritten for the new tier.", "rationale_zh": generated["zh"]}
    for headers in ({"HX-Request": "true"}, {}):
        response = sam.post(url, data, headers=headers)
        assert response.status_code == 400
        body = response.content.decode()
        field = body[body.index(f'id="{entry.topic.code}-rationale_zh"') :]
        assert "generated from the numbers for the tier" in field.split("</div>")[0], field[:2000]
    assert snapshot(draft) == before
    response = sam.post(url, {**data, "rationale_zh": ""}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    for other_entry in draft.entries.select_related("topic").exclude(pk=entry.pk):
        edition_entry_decide(entry=other_entry, tier=other_entry.tier, rationale_en="Kept.", rationale_zh="保留。")
    edition_publish(edition=draft)
    chinese = Client().get(f"/zh-hans/editions/{draft.code}/").content.decode()
    with translation.override("zh-hans"):
        marker = translation.gettext("(in English only)")
    assert marker != "(in English only)"
    shown = re.search(
        r'<p class="rationale"[^>]*>(?:(?!</p>).)*Rewritten for the new tier\.(?:(?!</p>).)*</p>', chinese, re.S
    )
    assert shown and marker in shown.group(0) and 'lang="en"' in shown.group(0), chinese
    assert chinese.count(marker) == 1  # the others have their Chinese rationale
    english = Client().get(f"/editions/{draft.code}/").content.decode()
    assert "(in English only)" not in english


def test_publishing_is_refused_while_rationales_are_missing_and_needs_a_confirmation(
    sam: Client, draft: Edition
) -> None:
    url = reverse("workbench:edition-publish", args=[draft.code])
    first = draft.entries.select_related("topic").order_by("rank").first()
    edition_entry_decide(entry=first, tier=first.tier, rationale_en="Decided.")
    before = snapshot(draft)
    response = sam.post(url, {"confirm": "on"})
    assert response.status_code == 409
    assert f"{draft.entries.count() - 1} topics still need a rationale" in response.content.decode()
    decide_all(sam, draft)
    before = snapshot(draft)
    assert sam.post(url, {}).status_code == 400  # not confirmed
    assert snapshot(draft) == before


def test_publishing_is_atomic_fingerprinted_audited_and_lands_on_the_public_page(sam: Client, draft: Edition) -> None:
    decide_all(sam, draft)
    confirm = sam.get(reverse("workbench:edition-publish", args=[draft.code])).content.decode()
    total = draft.entries.count()
    assert f"{total} of {total} decided" in confirm
    response = sam.post(reverse("workbench:edition-publish", args=[draft.code]), {"confirm": "on"})
    assert response.status_code == 302 and response["Location"] == f"/editions/{draft.code}/"
    draft.refresh_from_db()
    assert draft.status == Edition.Status.PUBLISHED and len(draft.fingerprint) == 64
    assert AuditLog.objects.filter(
        action="edition_publish", actor__username="sam", details__edition=draft.code
    ).exists()
    assert Client().get(response["Location"]).status_code == 200


def test_every_write_on_a_published_edition_is_a_409_and_changes_nothing(sam: Client, draft: Edition) -> None:
    decide_all(sam, draft)
    edition_publish(edition=draft)
    entry = draft.entries.select_related("topic").first()
    before = snapshot(draft)
    writes = [
        (
            reverse("workbench:entry-decide", args=[draft.code, entry.topic.code]),
            {"tier": "watch", "rationale_en": "No."},
        ),
        (reverse("workbench:edition-publish", args=[draft.code]), {"confirm": "on"}),
        (reverse("workbench:edition-delete", args=[draft.code]), {}),
    ]
    for url, data in writes:
        assert sam.post(url, data).status_code == 409, url
        assert sam.post(url, data, headers={"HX-Request": "true"}).status_code == 409, url
    assert snapshot(draft) == before
    # The editor is read-only and offers a correction instead.
    page = sam.get(reverse("workbench:edition", args=[draft.code])).content.decode()
    assert 'name="rationale_en"' not in page and "Publish a correction" in page
    assert sam.get(reverse("workbench:edition-publish", args=[draft.code])).status_code == 302
    assert sam.get(reverse("workbench:edition-preview", args=[draft.code]))["Location"] == f"/editions/{draft.code}/"


def test_a_published_edition_refuses_with_the_one_immutable_message_before_judging_the_values(
    sam: Client, draft: Edition
) -> None:
    decide_all(sam, draft)
    edition_publish(edition=draft)
    entry = draft.entries.select_related("topic").first()
    decide = reverse("workbench:entry-decide", args=[draft.code, entry.topic.code])
    publish = reverse("workbench:edition-publish", args=[draft.code])
    # Even an invalid form (no rationale, no confirmation) is a 409: the edition's state refuses first.
    for url, data in ((decide, {"tier": "watch", "rationale_en": ""}), (publish, {})):
        for headers in ({}, {"HX-Request": "true"}):
            response = sam.post(url, data, headers=headers)
            assert response.status_code == 409, url
        assert str(IMMUTABLE_MESSAGE) in sam.post(url, data).content.decode(), url  # the refusal's page
    # The same message in the workbench's other language.
    with translation.override("zh-hans"):
        chinese = str(IMMUTABLE_MESSAGE)
        decide_zh = reverse("workbench:entry-decide", args=[draft.code, entry.topic.code])
    assert chinese != str(IMMUTABLE_MESSAGE)
    response = sam.post(decide_zh, {"tier": "watch", "rationale_en": "No."})
    assert response.status_code == 409 and chinese in response.content.decode()


def test_the_ahp_panel_and_a_refused_run_take_the_rule_and_the_message_from_the_service(
    sam: Client, study: Study
) -> None:
    cyclic = {"criteria": ["importance_index", "competitiveness_gap", "scenario_pull"]}
    cyclic["matrix"] = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]
    assessed = ahp_assess(cyclic)
    assert not assessed["consistent"] and assessed["limit"] == scoring.AHP_CR_MAX
    assert numbers.display(assessed["cr"], "coefficient") in assessed["message"]
    assert "is above 0.100." in assessed["message"]  # the limit as the page prints it
    with pytest.raises(ValidationError) as refused:
        scoring_run_create(study=study, seed=1, top_k=2, ahp_matrix=cyclic)
    assert assessed["message"] in error_message(refused.value) and error_status(refused.value) == 400
    fine = ahp_assess({"criteria": cyclic["criteria"], "matrix": [[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]]})
    assert fine["consistent"] and fine["message"] == "" and list(fine["weights"]) == cyclic["criteria"]
    # A malformed grid: the panel shows the service's message instead of the figures.
    with pytest.raises(ValidationError) as malformed:
        ahp_assess({"criteria": ["importance_index", "timing"], "matrix": [[1, 3], [3, 1]]})
    grid = {
        "method": "ahp",
        "ahp_criteria": ["importance_index", "timing"],
        "pair__importance_index__timing": "3",
        "ahp_check": "1",
    }
    panel = sam.get(reverse("workbench:run-create", args=[study.code]), grid).content.decode()
    assert "Consistency ratio (CR) 0.000; the limit is 0.100." in panel
    assert "reciprocal" in error_message(malformed.value)


def test_a_draft_from_an_unfinished_run_is_a_conflict(study: Study, queued: list[int]) -> None:
    run = scoring_run_create(study=study, seed=1, top_k=2)
    with pytest.raises(Conflict) as refused:
        edition_draft_create(run=run, code="too-early", title_en="Too early")
    assert error_status(refused.value) == 409 and not Edition.objects.exists()


def test_a_correction_is_a_new_draft_that_names_the_edition_it_replaces(sam: Client, draft: Edition) -> None:
    decide_all(sam, draft)
    edition_publish(edition=draft)
    run = draft.scoring_run
    form = sam.get(reverse("workbench:edition-create", args=[run.code]), {"replaces": draft.code}).content.decode()
    assert f'value="{draft.code}-correction-1"' in form and f'<option value="{draft.code}" selected>' in form
    response = sam.post(
        reverse("workbench:edition-create", args=[run.code]),
        {
            "code": f"{draft.code}-correction-1",
            "title_en": draft.title_en,
            "replaces": draft.code,
            "copy_decisions": "on",
        },
    )
    correction = Edition.objects.get(code=f"{draft.code}-correction-1")
    assert response["Location"] == reverse("workbench:edition", args=[correction.code])
    assert correction.replaces == draft and correction.status == Edition.Status.DRAFT
    old = dict(draft.entries.values_list("topic__code", "rationale_en"))
    assert dict(correction.entries.values_list("topic__code", "rationale_en")) == old
    draft.refresh_from_db()
    assert draft.status == Edition.Status.PUBLISHED


def _section(html: str, pattern: str) -> str:
    match = re.search(pattern, html, re.S)
    assert match, pattern
    return match.group(0)


def test_the_preview_is_the_public_page_of_the_draft(sam: Client, draft: Edition) -> None:
    entries = list(draft.entries.select_related("topic").order_by("rank"))
    for i, entry in enumerate(entries):
        tier = ("watch", "key", "priority")[i % 3] if entry.rank is not None else "insufficient"
        edition_entry_decide(entry=entry, tier=tier, rationale_en=f"Because {entry.topic.code} scored so.")
    preview = sam.get(reverse("workbench:edition-preview", args=[draft.code]))
    assert preview.status_code == 200
    preview_html = preview.content.decode()
    assert "Preview of a draft" in preview_html
    assert Client().get(f"/editions/{draft.code}/").status_code == 404  # still a draft to the public
    edition_publish(edition=draft)
    public_html = Client().get(f"/editions/{draft.code}/").content.decode()
    for pattern in (
        r'<ol class="ranked-list">.*?</ol>',
        r'<svg class="chart-svg matrix-chart".*?</svg>',
        r'<svg class="chart-svg radar-chart".*?</svg>',
        r"<caption>The blips of the radar</caption>.*?</table>",
        r"<caption>The numbers of the matrix</caption>.*?</table>",
        r'<section class="edition-section" aria-labelledby="summaries-h">.*?</section>',
    ):
        assert _section(preview_html, pattern) == _section(public_html, pattern), pattern
    ranked = _section(public_html, r'<ol class="ranked-list">.*?</ol>')
    insufficient = _section(public_html, r'<ul class="insufficient-list">.*?</ul>\s*</section>')
    assert _section(preview_html, r'<ul class="insufficient-list">.*?</ul>\s*</section>') == insufficient
    for entry in entries:
        assert f"Because {entry.topic.code} scored so." in (ranked if entry.rank is not None else insufficient)


def test_the_preview_of_a_draft_says_it_is_not_published_yet(sam: Client, draft: Edition) -> None:
    """The public template's "Published <date>" line becomes a draft notice in the preview, in both languages."""
    for prefix, draft_words, published_words in (
        ("", "not published yet", "Published"),
        ("/zh-hans", "尚未发布", "已发布"),
    ):
        html = sam.get(prefix + reverse("workbench:edition-preview", args=[draft.code])).content.decode()
        status = _section(html, r'<article class="edition">\s*<h1>.*?</h1>\s*<p class="meta"[^>]*>.*?</p>')
        assert draft_words in status, status
        assert published_words not in status and "<time" not in status, status


def test_workbench_pages_cost_a_fixed_number_of_queries(
    sam: Client, draft: Edition, make_run: Callable[..., ScoringRun], django_assert_max_num_queries: Any
) -> None:
    other = make_run(**POLICY)
    run = draft.scoring_run
    for url in (
        reverse("workbench:index"),
        reverse("workbench:run", args=[run.code]),
        reverse("workbench:run", args=[run.code]) + f"?compare={other.code}&sort=movement",
        reverse("workbench:edition", args=[draft.code]),
        reverse("workbench:edition-preview", args=[draft.code]),
        reverse("workbench:edition-publish", args=[draft.code]),
    ):
        with django_assert_max_num_queries(12):
            assert sam.get(url).status_code == 200, url


def test_the_matrices_keep_rank_labels_apart_and_list_the_topics_left_without_one() -> None:
    """Thirty topics in a tight cluster: the workbench's matrix is drawn by the public matrix's builder."""
    from types import SimpleNamespace

    from foresight.priorities import charts
    from foresight.priorities.selectors import workbench as wb

    rows = [
        {
            "code": f"t{i}",
            "rank": i + 1,
            "tier": "priority",
            "importance": 60 + (i * 37 % 11) / 2,
            "competitiveness": 40 + (i * 53 % 13) / 2,
            "quadrant": "strengthen",
            "topic": SimpleNamespace(name=f"topic {i}"),
        }
        for i in range(30)
    ]
    chart = wb._matrix(
        rows,
        x_key="competitiveness",
        x_domain=(0.0, 100.0),
        x_cut=50,
        x_ticks=[0, 50, 100],
        x_label="x",
        y_cut=50,
        quadrants=("strengthen", "lead_maintain", "deprioritise", "watch"),
        quadrant_key="quadrant",
        title="t",
        slug="competitiveness",
    )
    extent = charts.symbol_extent("priority")
    labelled = [p for p in chart["points"] if p["anchor"]]
    boxes = []
    for p in labelled:
        x, y, width = float(p["label_x"]), float(p["label_y"]), len(str(p["row"]["rank"])) * 6.36
        x0 = x if p["anchor"] == "start" else x - width if p["anchor"] == "end" else x - width / 2
        boxes.append((x0, y - 9.3, x0 + width, y + 2.7))
    for i, a in enumerate(boxes):
        for b in boxes[:i]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
        for p in chart["points"]:
            if p is not labelled[i]:
                cx, cy = float(p["x"]), float(p["y"])
                assert not (a[0] < cx + extent and cx - extent < a[2] and a[1] < cy + extent and cy - extent < a[3])
    crowded = [row["rank"] for group in chart["crowded"] for row in group["rows"]]
    assert crowded and sorted(crowded + [p["row"]["rank"] for p in labelled]) == list(range(1, 31))
    assert [q["key"] for q in chart["by_quadrant"]] == ["strengthen", "lead_maintain", "deprioritise", "watch"]
    assert [r["rank"] for r in chart["by_quadrant"][0]["rows"]] == list(range(1, 31))


def test_a_correction_replaces_an_edition_of_the_same_study_only(
    sam: Client, draft: Edition, study: Study, mini_catalog: list[Topic]
) -> None:
    """A run of one study cannot publish a correction of another study's edition (which would mark that
    edition replaced on its public page)."""
    other = study_create(title_en="Other", horizon_year=2045, topics=mini_catalog[:2], planned_rounds=1, code="other")
    foreign_run = ScoringRun.objects.create(
        study=other, round=other.rounds.get(), weights={}, seed=1, top_k=1, thresholds={}, status="pending"
    )
    foreign = Edition.objects.create(
        code="foreign",
        title_en="Foreign",
        study=other,
        scoring_run=foreign_run,
        status="published",
        published_at=timezone.now(),
        fingerprint="f" * 64,
    )
    url = reverse("workbench:edition-create", args=[draft.scoring_run.code])
    page = sam.get(url + "?replaces=foreign").content.decode()
    assert 'value="foreign"' not in page  # neither offered nor pre-filled
    response = sam.post(url, {"code": "cross", "title_en": "Cross", "replaces": "foreign", "copy_decisions": "on"})
    assert response.status_code == 400
    assert not Edition.objects.filter(code="cross").exists()
    foreign.refresh_from_db()
    assert not foreign.replaced_by.exists()
    with pytest.raises(ValidationError, match="same study"):
        edition_draft_create(run=draft.scoring_run, code="cross", title_en="Cross", replaces=foreign)
