"""Database invariants of runs and editions, and the read-only admin a staff member sees."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from foresight.catalog.models import Topic
from foresight.delphi.models import Study
from foresight.delphi.services.studies import study_create
from foresight.priorities.models import Edition, EditionEntry, ScoringRun
from tests.factories import TopicFactory


@pytest.fixture
def run(db: Any) -> ScoringRun:
    topic = TopicFactory()
    study: Study = study_create(title_en="Invariants", horizon_year=2050, topics=[topic])
    return ScoringRun.objects.create(
        study=study,
        round=study.rounds.get(number=1),
        weights={"importance_index": 1.0},
        seed=1,
        top_k=1,
        thresholds={"importance": 50.0, "competitiveness": 50.0, "plan_end_year": 2030},
    )


def _refused(model: type[ScoringRun] | type[Edition], pk: int, **values: Any) -> None:
    """The database itself refuses this update."""
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=pk).update(**values)


def test_a_run_cannot_be_done_without_results_fingerprint_or_full_progress(run: ScoringRun) -> None:
    assert len(run.code) == 16 and run.status == ScoringRun.Status.PENDING
    _refused(ScoringRun, run.pk, status="done", progress=100)
    _refused(ScoringRun, run.pk, status="done", progress=90, fingerprint="f" * 64)
    _refused(ScoringRun, run.pk, progress=101)
    _refused(ScoringRun, run.pk, bootstrap_b=5)
    ScoringRun.objects.filter(pk=run.pk).update(status="done", progress=100, fingerprint="f" * 64)


def test_a_published_edition_has_a_date_and_a_fingerprint_and_one_entry_per_topic(run: ScoringRun) -> None:
    edition = Edition.objects.create(code="fp-2026", title_en="Priorities 2026", study=run.study, scoring_run=run)
    _refused(Edition, edition.pk, status="published")
    topic = Topic.objects.get()
    EditionEntry.objects.create(edition=edition, topic=topic, tier="priority", rank=1, rank_low=1, rank_high=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        EditionEntry.objects.create(edition=edition, topic=topic, tier="key")
    Edition.objects.filter(pk=edition.pk).update(status="published", published_at=timezone.now(), fingerprint="a" * 64)
    other = Edition.objects.create(code="fp-2027", title_en="Priorities 2027", study=run.study, scoring_run=run)
    with pytest.raises(IntegrityError), transaction.atomic():
        EditionEntry.objects.create(edition=other, topic=topic, tier="key", rank_low=5, rank_high=2)
    # A topic below the small-cell threshold may be listed, but never with a rank.
    EditionEntry.objects.create(edition=other, topic=topic, tier="watch")


def test_staff_see_runs_and_editions_read_only(run: ScoringRun, admin_client: Any) -> None:
    Edition.objects.create(code="fp-2026", title_en="Priorities 2026", study=run.study, scoring_run=run)
    for model in ("scoringrun", "edition", "editionentry"):
        assert admin_client.get(f"/admin/priorities/{model}/").status_code == 200
        assert admin_client.get(f"/admin/priorities/{model}/add/").status_code == 403
    page = admin_client.get(f"/admin/priorities/scoringrun/{run.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert admin_client.post(f"/admin/priorities/scoringrun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ScoringRun.objects.filter(pk=run.pk).exists()
