"""``simulate_study --publish``: the rounds run through the real worker on PostgreSQL, then an edition is
published at the suggested tiers with rationales written from the numbers; the embedded default
(SQLite, eager Celery, a fresh process) publishes the identical edition, fingerprint included."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import F

from foresight.core.models import AuditLog
from foresight.priorities.models import Edition
from foresight.priorities.services.editions import edition_fingerprint
from foresight.priorities.services.publishing import suggested_rationale

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["--experts", "80", "--topics", "8", "--seed", "7"]

PROBE = """
import json
from foresight.priorities.models import Edition
edition = Edition.objects.select_related("scoring_run").get(code={code!r})
print(json.dumps({{
    "status": edition.status,
    "fingerprint": edition.fingerprint,
    "run": edition.scoring_run.fingerprint,
    "entries": [list(e) for e in edition.entries.order_by("topic__code").values_list("topic__code", "tier", "rank", "rationale_en", "rationale_zh")],
}}))
"""


@pytest.mark.worker
def test_simulate_study_publish_gives_the_same_edition_on_the_worker_and_in_the_embedded_default(
    celery_worker_process: dict[str, str], transactional_catalog: Any, tmp_path: Path
) -> None:
    # 1. PostgreSQL, rounds aggregated by the worker process; the scoring run is claimed by whichever of
    #    the command and the worker gets to it first.
    out = io.StringIO()
    call_command("simulate_study", *ARGS, "--publish", "--timeout", "120", stdout=out)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert set(line) == {"study", "rounds", "edition"} and len(line["rounds"]) == 2
    edition = Edition.objects.select_related("scoring_run", "study").get(code=line["edition"])
    assert edition.study.code == line["study"] and edition.code == f"{line['study']}-edition-1"
    assert edition.status == Edition.Status.PUBLISHED and edition.fingerprint == edition_fingerprint(edition=edition)
    run = edition.scoring_run
    assert run.status == "done" and run.seed == 7
    entries = list(edition.entries.select_related("topic").order_by(F("rank").asc(nulls_last=True), "topic__code"))
    ranked = [e for e in entries if e.rank is not None]
    assert [e.topic.code for e in ranked] == run.results["ranking"] and ranked
    # Every topic of the study is in the edition: those below the minimum evidence in their own tier.
    assert {e.topic.code for e in entries} == set(run.results["topics"])
    assert {e.topic.code for e in entries if e.rank is None} == set(run.results["summary"]["insufficient"])
    for entry in entries:
        result = run.results["topics"][entry.topic.code]
        assert entry.tier == result["tier"]
        assert entry.rationale_en == suggested_rationale(result=result, run=run, lang="en")
        assert entry.rationale_zh == suggested_rationale(result=result, run=run, lang="zh")
        if entry.rank is None:
            assert entry.tier == "insufficient" and entry.rationale_en.startswith("Insufficient evidence")
            assert f"minimum of {edition.study.min_respondents} respondents" in entry.rationale_en
            continue
        assert f"rank {entry.rank} of {len(ranked)}" in entry.rationale_en
        assert "重要性指数" in entry.rationale_zh
        for fallback in result["fallbacks"]:
            if fallback["in_score"] and fallback["used"] == "importance_index":
                assert "the all-respondent importance index stands in" in entry.rationale_en
    assert edition.method_note_en and edition.method_note_zh
    assert AuditLog.objects.filter(action="edition_publish", details__edition=edition.code).exists()

    # 2. The embedded default in a fresh process: no DATABASE_URL, no REDIS_URL.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["SQLITE_PATH"] = str(tmp_path / "embedded.sqlite3")

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    manage("migrate", "-v0")
    manage("load_catalog", "-v0")
    assert json.loads(manage("simulate_study", *ARGS, "--publish")) == line
    embedded = json.loads(manage("shell", "-c", PROBE.format(code=edition.code)))
    assert embedded["status"] == "published"
    assert embedded["run"] == run.fingerprint
    assert embedded["fingerprint"] == edition.fingerprint
    here = [
        list(e)
        for e in edition.entries.order_by("topic__code").values_list(
            "topic__code", "tier", "rank", "rationale_en", "rationale_zh"
        )
    ]
    assert embedded["entries"] == here


def test_without_publish_the_last_line_is_unchanged(mini_catalog: Any, queued: list[int]) -> None:
    out = io.StringIO()
    call_command("simulate_study", "--experts", "12", "--topics", "3", "--seed", "3", "--rounds", "1", stdout=out)
    assert set(json.loads(out.getvalue().strip().splitlines()[-1])) == {"study", "rounds"}
    assert not Edition.objects.exists()
