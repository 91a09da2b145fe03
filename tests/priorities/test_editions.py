"""Editions: a draft from a finished run, decisions with a required rationale, atomic publication,
and immutability afterwards through services, models, raw SQL and admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.test import Client

from foresight.catalog.models import Topic
from foresight.core.cache import content_version
from foresight.core.models import AuditLog
from foresight.delphi.models import Study
from foresight.delphi.services.simulation import study_simulate
from foresight.priorities.models import Edition, EditionEntry, EditionImmutable, ScoringRun
from foresight.priorities.selectors import editions
from foresight.priorities.selectors.editions import edition_radar, radar_status
from foresight.priorities.services import editions as edition_services
from foresight.priorities.services.editions import (
    edition_draft_create,
    edition_draft_delete,
    edition_entry_decide,
    edition_fingerprint,
    edition_publish,
)
from foresight.priorities.services.publishing import suggested_rationale
from foresight.priorities.services.runs import scoring_run_create, scoring_run_execute

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(mini_catalog: list[Topic], queued: list[int]) -> ScoringRun:
    result = study_simulate(experts=30, topics=6, seed=3, rounds=1, timeout=120)
    study = Study.objects.get(code=result.study)
    created = scoring_run_create(study=study, seed=11, top_k=2, B=200)
    scoring_run_execute(run_id=created.pk)
    created.refresh_from_db()
    assert created.status == ScoringRun.Status.DONE
    return created


def decide_all(edition: Edition, tier: str | None = None) -> None:
    for entry in edition.entries.all():
        edition_entry_decide(entry=entry, tier=tier or entry.tier, rationale_en=f"Because of {entry.topic.code}.")


def test_a_draft_holds_every_ranked_topic_at_its_suggested_tier(run: ScoringRun) -> None:
    edition = edition_draft_create(run=run, code="ed-1", title_en="Priority directions 2026")
    ranked = run.results["ranking"]
    assert list(edition.entries.order_by("rank").values_list("topic__code", flat=True)) == ranked
    for entry in edition.entries.select_related("topic"):
        result = run.results["topics"][entry.topic.code]
        assert (entry.tier, entry.rank, entry.rank_low, entry.rank_high) == (
            result["tier"],
            result["rank"],
            result["rank_low"],
            result["rank_high"],
        )
        assert entry.rank_low <= entry.rank <= entry.rank_high or entry.rank_low <= result["median_rank"]
        # Suppressed sector groups are not carried into what will be published.
        for key in ("importance", "competitiveness"):
            assert "suppressed" not in entry.data["groups"].get(key, {})
    assert edition.status == Edition.Status.DRAFT and edition.fingerprint == ""


def test_a_decision_needs_a_rationale_and_a_valid_tier(run: ScoringRun) -> None:
    edition = edition_draft_create(run=run, code="ed-1", title_en="E")
    entry = edition.entries.first()
    before = (entry.tier, entry.rationale_en)
    for tier, rationale in (("priority", "   "), ("urgent", "Fine."), ("key", "x" * 4001)):
        with pytest.raises(ValidationError):
            edition_entry_decide(entry=entry, tier=tier, rationale_en=rationale)
    entry.refresh_from_db()
    assert (entry.tier, entry.rationale_en) == before
    edition_entry_decide(entry=entry, tier="watch", rationale_en="Too early for this plan period.")
    entry.refresh_from_db()
    assert entry.tier == "watch" and entry.decided_at is not None


def test_a_tier_change_refuses_a_rationale_generated_for_another_tier(run: ScoringRun) -> None:
    """A rationale written from the numbers argues for the tier it was written for: a decision whose tier
    differs from it, in either language, is refused on that field (400) and changes nothing. Rewritten,
    or (the optional Chinese one) left empty, the new tier is saved."""
    edition = edition_draft_create(run=run, code="ed-1", title_en="E")
    entry = edition.entries.select_related("topic").order_by("rank").first()
    result = run.results["topics"][entry.topic.code]
    generated = {lang: suggested_rationale(result=result, run=run, lang=lang) for lang in ("en", "zh")}
    suggested = entry.tier
    # At the tier it was written for, the generated text is a fine rationale (the demo publishes it so).
    edition_entry_decide(entry=entry, tier=suggested, rationale_en=generated["en"], rationale_zh=generated["zh"])
    other = "watch" if suggested != "watch" else "key"
    for en, zh, fields in (
        (generated["en"], generated["zh"], {"rationale_en", "rationale_zh"}),
        ("Rewritten for the new tier.", generated["zh"], {"rationale_zh"}),
        (generated["en"], "为新层级重写。", {"rationale_en"}),
        ("Rewritten for the new tier.", generated["zh"][:-1] + "另加一句。", {"rationale_zh"}),  # edited, same claim
    ):
        with pytest.raises(ValidationError) as caught:
            edition_entry_decide(entry=entry, tier=other, rationale_en=en, rationale_zh=zh)
        assert set(caught.value.message_dict) == fields, caught.value.message_dict
        for field in fields:
            assert "generated from the numbers for the tier" in caught.value.message_dict[field][0]
        entry.refresh_from_db()
        assert (entry.tier, entry.rationale_en, entry.rationale_zh) == (suggested, generated["en"], generated["zh"])
    edition_entry_decide(entry=entry, tier=other, rationale_en="Rewritten for the new tier.", rationale_zh="")
    entry.refresh_from_db()
    assert (entry.tier, entry.rationale_zh) == (other, "")
    edition_entry_decide(entry=entry, tier=other, rationale_en="Rewritten.", rationale_zh="为新层级重写。")
    entry.refresh_from_db()
    assert (entry.tier, entry.rationale_en, entry.rationale_zh) == (other, "Rewritten.", "为新层级重写。")


def test_publishing_needs_every_rationale_then_fingerprints_and_invalidates_the_public_cache(
    run: ScoringRun, django_capture_on_commit_callbacks: Any
) -> None:
    edition = edition_draft_create(run=run, code="ed-1", title_en="E")
    first = edition.entries.order_by("rank").first()
    edition_entry_decide(entry=first, tier=first.tier, rationale_en="Decided.")
    with pytest.raises(ValidationError, match="still need a rationale"):
        edition_publish(edition=edition)
    edition.refresh_from_db()
    assert edition.status == Edition.Status.DRAFT
    decide_all(edition)
    visitor = Client()
    assert visitor.get("/api/v1/editions/").json()["count"] == 0  # cached for anonymous visitors
    assert visitor.get("/api/v1/editions/ed-1/").status_code == 404
    assert "ed-1" not in visitor.get("/editions/").content.decode()
    version = content_version()
    with django_capture_on_commit_callbacks(execute=True):
        edition_publish(edition=edition)
    # No stale answer from the cache once the edition is published.
    assert [e["code"] for e in visitor.get("/api/v1/editions/").json()["results"]] == ["ed-1"]
    assert visitor.get("/api/v1/editions/ed-1/").status_code == 200
    assert "/editions/ed-1/" in visitor.get("/editions/").content.decode()
    edition.refresh_from_db()
    assert edition.status == Edition.Status.PUBLISHED and edition.published_at is not None
    assert edition.fingerprint == edition_fingerprint(edition=edition)
    assert AuditLog.objects.filter(action="edition_publish", details__fingerprint=edition.fingerprint).exists()
    assert content_version() != version


def test_publishing_is_atomic_under_an_injected_failure(run: ScoringRun, monkeypatch: pytest.MonkeyPatch) -> None:
    edition = edition_draft_create(run=run, code="ed-1", title_en="E")
    decide_all(edition)

    def fail(**kwargs: Any) -> None:
        raise RuntimeError("injected failure after the status change")

    monkeypatch.setattr(edition_services, "audit_log", fail)
    with pytest.raises(RuntimeError, match="injected"):
        edition_publish(edition=edition)
    edition.refresh_from_db()
    assert (edition.status, edition.published_at, edition.fingerprint) == (Edition.Status.DRAFT, None, "")
    assert not editions.edition_list_public().exists()


def test_a_published_edition_cannot_be_changed_by_any_path(run: ScoringRun, django_user_model: Any) -> None:
    edition = edition_draft_create(run=run, code="ed-1", title_en="E")
    decide_all(edition)
    edition_publish(edition=edition)
    entry = edition.entries.first()
    snapshot = list(EditionEntry.objects.values_list("pk", "tier", "rank", "rationale_en"))
    # Services.
    with pytest.raises(EditionImmutable):
        edition_entry_decide(entry=entry, tier="watch", rationale_en="Changed my mind.")
    with pytest.raises(EditionImmutable):
        edition_publish(edition=edition)
    with pytest.raises(EditionImmutable):
        edition_draft_delete(edition=edition)
    # Models.
    edition.title_en = "Renamed"
    with pytest.raises(EditionImmutable):
        edition.save()
    with pytest.raises(EditionImmutable):
        edition.delete()
    entry.tier = "watch"
    with pytest.raises(EditionImmutable):
        entry.save()
    with pytest.raises(EditionImmutable):
        EditionEntry(
            edition=edition, topic=Topic.objects.exclude(edition_entries__edition=edition).first(), tier="key"
        ).save()
    # Querysets and raw SQL meet the database triggers.
    for attempt in (
        lambda: Edition.objects.filter(pk=edition.pk).update(title_en="Renamed"),
        lambda: EditionEntry.objects.filter(edition=edition).update(tier="watch"),
        lambda: EditionEntry.objects.filter(edition=edition).delete(),
        lambda: connection.cursor().execute(
            "UPDATE priorities_edition SET status = 'draft' WHERE id = %s", [edition.pk]
        ),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    # Admin: read-only.
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client = Client()
    client.force_login(admin)
    url = f"/admin/priorities/edition/{edition.pk}/change/"
    response = client.post(url, {"title_en": "Renamed", "code": "ed-1"})
    assert response.status_code in (403, 200)
    edition.refresh_from_db()
    assert edition.title_en == "E" and edition.status == Edition.Status.PUBLISHED
    assert list(EditionEntry.objects.values_list("pk", "tier", "rank", "rationale_en")) == snapshot


def test_a_correction_can_start_from_the_published_decisions(run: ScoringRun) -> None:
    first = edition_draft_create(run=run, code="ed-1", title_en="First")
    decide_all(first, tier="watch")
    edition_publish(edition=first)
    copied = edition_draft_create(run=run, code="ed-2", title_en="Second", replaces=first, copy_decisions=True)
    fresh = edition_draft_create(run=run, code="ed-3", title_en="Third", replaces=first)
    published = {e.topic_id: (e.tier, e.rationale_en) for e in first.entries.all()}
    assert {e.topic_id: (e.tier, e.rationale_en) for e in copied.entries.all()} == published
    assert all(e.decided_at is not None for e in copied.entries.all())
    assert all(e.rationale_en == "" and e.decided_at is None for e in fresh.entries.all())


def test_a_correction_is_a_new_edition_naming_the_one_it_replaces(run: ScoringRun) -> None:
    first = edition_draft_create(run=run, code="ed-1", title_en="First")
    with pytest.raises(ValidationError, match="Only a published edition"):
        edition_draft_create(run=run, code="ed-2", title_en="Second", replaces=first)
    decide_all(first, tier="watch")
    edition_publish(edition=first)
    second = edition_draft_create(run=run, code="ed-2", title_en="Second", replaces=first)
    entries = list(second.entries.order_by("rank"))
    edition_entry_decide(entry=entries[0], tier="priority", rationale_en="Moved in.")
    for entry in entries[1:]:
        edition_entry_decide(entry=entry, tier="watch", rationale_en="Unchanged.")
    edition_publish(edition=second)
    public = editions.edition_get_public(code="ed-2")
    assert public.replaces == first
    statuses = {blip["topic"].code: blip["status"] for blip in edition_radar(edition=public)}
    assert statuses[entries[0].topic.code] == "moved_in"
    assert set(list(statuses.values())[1:]) <= {"unchanged", "moved_in"}
    assert {s for code, s in statuses.items() if code != entries[0].topic.code} == {"unchanged"}
    assert [b["status"] for b in edition_radar(edition=editions.edition_get_public(code="ed-1"))] == ["new"] * len(
        entries
    )


def test_radar_status_rules() -> None:
    assert radar_status(tier="key", previous_tier=None, has_previous=False) == "new"
    assert radar_status(tier="key", previous_tier=None, has_previous=True) == "new"
    assert radar_status(tier="priority", previous_tier="key", has_previous=True) == "moved_in"
    assert radar_status(tier="watch", previous_tier="key", has_previous=True) == "moved_out"
    assert radar_status(tier="key", previous_tier="key", has_previous=True) == "unchanged"


def test_drafts_are_invisible_to_the_public(run: ScoringRun) -> None:
    edition_draft_create(run=run, code="ed-draft", title_en="Draft")
    assert not editions.edition_list_public().exists()
    from django.http import Http404

    with pytest.raises(Http404):
        editions.edition_get_public(code="ed-draft")


def test_the_reproducibility_package_recomputes_every_published_rank(run: ScoringRun) -> None:
    import io
    import json
    import zipfile

    from foresight.delphi.services.export import round_export_package
    from foresight.priorities import scoring

    edition = edition_draft_create(run=run, code="ed-1", title_en="E")
    decide_all(edition)
    edition_publish(edition=edition)
    edition.refresh_from_db()
    package = zipfile.ZipFile(io.BytesIO(round_export_package(rnd=run.round)))
    scored = json.loads(package.read(f"scoring/{run.code}.json"))
    published = json.loads(package.read("editions/ed-1.json"))
    assert (scored["seed"], scored["bootstrap_b"], scored["fingerprint"]) == (11, 200, run.fingerprint)
    assert published["fingerprint"] == edition.fingerprint and published["scoring_run"] == run.code
    # From the raw criteria and the weights alone: min–max, weighted score, ranks — as published.
    topics = scored["results"]["ranking"]
    criteria = {
        name: [scored["results"]["topics"][code]["criteria"][name] for code in topics]
        for name in scored["results"]["topics"][topics[0]]["criteria"]
    }
    normalised = {name: scoring.minmax(values) for name, values in criteria.items()}
    scores = scoring.weighted_score(normalised, scored["weights"])
    recomputed = dict(zip(topics, scoring.ranks(scores), strict=True))
    assert {e["topic"]: e["rank"] for e in published["entries"]} == recomputed
