"""The priorities part of a Delphi round's reproducibility package: the round's scoring runs and the
editions published from them.  Registered with ``foresight.delphi.services.export`` by this app's
AppConfig.ready, so ``round_export_package`` (and ``manage.py export_round``) include it."""

from __future__ import annotations

from typing import Any

from django.db.models import F

from foresight.delphi.models import Round
from foresight.priorities.models import Edition, ScoringRun
from foresight.priorities.services.editions import edition_entry_record
from foresight.priorities.services.runs import scoring_run_settings


def round_package_documents(rnd: Round) -> list[tuple[str, dict[str, Any]]]:
    """Scoring runs on this round and the editions published from them (staff package only)."""
    documents: list[tuple[str, dict[str, Any]]] = []
    runs = ScoringRun.objects.filter(round=rnd, status=ScoringRun.Status.DONE).order_by("created_at")
    for run in runs:
        documents.append(
            (
                f"scoring/{run.code}.json",
                {
                    "run": run.code,
                    "fingerprint": run.fingerprint,
                    **scoring_run_settings(run),
                    "results": run.results,
                },
            )
        )
        for edition in Edition.objects.filter(scoring_run=run, status=Edition.Status.PUBLISHED).order_by("code"):
            entries = edition.entries.select_related("topic").order_by(F("rank").asc(nulls_last=True), "topic__code")
            documents.append(
                (
                    f"editions/{edition.code}.json",
                    {
                        "edition": edition.code,
                        "fingerprint": edition.fingerprint,
                        "scoring_run": run.code,
                        "replaces": edition.replaces.code if edition.replaces is not None else None,
                        "published_at": edition.published_at,
                        # The decision (what the fingerprint covers) and every figure published with it.
                        "entries": [{**edition_entry_record(e), "data": e.data} for e in entries],
                    },
                )
            )
    return documents
