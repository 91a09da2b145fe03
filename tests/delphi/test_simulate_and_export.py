"""simulate_study through a real worker on PostgreSQL, the embedded default on SQLite, and the reproducibility package."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from foresight.delphi.models import Round, RoundStat
from tests.delphi.recompute import published, recompute

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["--experts", "40", "--topics", "8", "--seed", "7"]


def _simulate_here() -> dict[str, Any]:
    out = io.StringIO()
    call_command("load_catalog", verbosity=0)
    call_command("simulate_study", *ARGS, "--timeout", "120", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.fixture
def simulated(celery_worker_process: dict[str, str], transactional_db: Any) -> dict[str, Any]:
    return _simulate_here()


@pytest.mark.worker
def test_simulate_study_runs_rounds_through_the_worker(simulated: dict[str, Any], tmp_path: Path) -> None:
    assert simulated["study"].startswith("sim-7-")
    assert len(simulated["rounds"]) == 2
    rounds = list(Round.objects.filter(code__in=simulated["rounds"]).order_by("number"))
    assert [r.status for r in rounds] == ["aggregated", "aggregated"]
    assert all(r.checksum for r in rounds)
    second = RoundStat.objects.filter(round=rounds[1], group="all", question__key="importance")
    assert second.exists()
    assert any(s.data.get("stability", {}).get("n_paired") for s in second)


@pytest.mark.worker
def test_the_package_is_recomputable_from_responses(simulated: dict[str, Any], tmp_path: Path) -> None:
    for code in simulated["rounds"]:
        out = tmp_path / f"{code}.zip"
        call_command("export_round", code, "--out", str(out), verbosity=0)
        package = out.read_bytes()
        names = set(zipfile.ZipFile(io.BytesIO(package)).namelist())
        assert names == {"responses.csv", "stats.csv", "round.json", "codebook.md"}
        mine = recompute(package)
        theirs = published(package)
        assert set(mine) == set(theirs) and mine
        for key, fig in mine.items():
            row = theirs[key]
            assert int(row["n"]) == fig["n"], key
            for name, value in fig.items():
                if name == "n":
                    continue
                if value is None:
                    assert row[name] == "", (key, name)
                else:
                    assert float(row[name]) == pytest.approx(value, abs=1e-6), (key, name)


@pytest.mark.worker
def test_embedded_default_gives_identical_results(simulated: dict[str, Any], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["SQLITE_PATH"] = str(tmp_path / "embedded.sqlite3")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )

    for args in (["migrate", "-v0"], ["load_catalog", "-v0"]):
        assert run(*args).returncode == 0
    result = run("simulate_study", *ARGS)
    assert result.returncode == 0, result.stderr
    embedded = json.loads(result.stdout.strip().splitlines()[-1])
    assert embedded == simulated
    probe = run(
        "shell",
        "-c",
        "from foresight.delphi.models import Round; import json; print(json.dumps(dict(Round.objects.values_list('code', 'checksum'))))",
    )
    checksums = json.loads(probe.stdout.strip().splitlines()[-1])
    here = dict(Round.objects.filter(code__in=simulated["rounds"]).values_list("code", "checksum"))
    assert checksums == here
