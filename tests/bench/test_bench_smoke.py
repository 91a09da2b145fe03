"""The benchmark harness, run end to end at a tiny scale, so that it cannot rot unnoticed.

It runs ``python -m bench.run`` as a separate process against PostgreSQL and Redis (a database of
its own, created and dropped by the harness; free ports only) and reads the report it writes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import dj_database_url
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SECTIONS = (
    "## 1. Round aggregation",
    "## 2. Expert submit path",
    "## 3. Public pages and API",
    "## 4. Bootstrap of rank intervals",
    "## 5. Similarity service",
)


def _section(text: str, heading: str) -> str:
    assert heading in text, f"the report has no section {heading!r}"
    return text.split(heading, 1)[1].split("\n## ", 1)[0]


@pytest.mark.worker
def test_the_harness_measures_every_workload_against_its_baseline(tmp_path: Path) -> None:
    db = dj_database_url.parse(os.environ["DATABASE_URL"])
    redis_base = os.environ["REDIS_URL"].rsplit("/", 1)[0]
    out = tmp_path / "B.md"
    command = [sys.executable, "-m", "bench.run", "--scale", "0.005", "--repeat", "1", "--out", str(out)]
    command += ["--db", f"foresight_bench_smoke_{uuid.uuid4().hex[:8]}", "--pg-host", db["HOST"] or "127.0.0.1"]
    command += ["--pg-port", str(db["PORT"] or 5432), "--redis-url", f"{redis_base}/5"]
    command += ["--http-seconds", "0.5", "--clients", "2", "--simulate-experts", "0", "--skip-curated-catalog"]
    # Few topics and answers, short HTTP runs: the point is that every step runs, not the figures.
    command += ["--topics", "40", "--per", "2", "--ballot-topics", "4", "--similarity-entries", "300"]

    # A session of its own: on a timeout the harness, its worker and its gunicorn all get SIGTERM
    # (the harness then stops them and drops its database).
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
        raise AssertionError(f"the harness took more than 300 s:\n{output[-4000:]}") from None

    assert proc.returncode == 0, output[-4000:]
    text = out.read_text()
    summary = _section(text, "## Summary")
    for number in ("1.", "2.", "3.", "4.", "5."):
        rows = [line for line in summary.splitlines() if line.startswith(f"| {number}")]
        assert rows, f"no summary row for workload {number}"
        assert all(re.search(r"\d", line.split("|")[3]) for line in rows if "skipped" not in line), rows
    for heading in SECTIONS:
        assert re.search(r"\| \d[\d,.]* \(", _section(text, heading)), f"no measured figure under {heading}"
    # The harness's own checks: repeatable aggregation that agrees with SQL, ballots fully stored,
    # a cache that follows curators' changes, and the same bootstrap as plain numpy.
    assert "**no" not in text, text
    assert "identical checksum: yes" in text
    assert "agree with the SQL query in every numeric cell: yes" in text
    assert "Checks: failed ballots 0;" in text
    assert "exactly 4 × 12 answers in the database: yes" in text
    assert "Non-200 answers or connection errors during the runs: none." in text
    assert "showed the new name on the next request: yes" in text
    assert "Both give the same rank intervals" in text
    assert "both keep the same pairs with the same scores" in text  # 6b: matching against plain numpy/scipy
