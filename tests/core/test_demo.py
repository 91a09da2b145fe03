"""The README's first command: the embedded default (SQLite, eager Celery) with the catalog, a finished
simulated study and an open round whose single-use expert link works."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
from django.test import Client
from foresight.delphi.models import Study
link = {link!r}
browser = Client()
path = link.split("8000", 1)[1]
page = browser.get(path)  # the link's page: a button, nothing spent (as when a mail scanner opens it)
assert page.status_code == 200 and "Open the study" in page.content.decode(), page.status_code
response = browser.post(path.split("?", 1)[0], {{"t": path.split("t=", 1)[1]}})
assert response.status_code == 302, response.status_code
home = browser.get(response["Location"])
assert home.status_code == 200 and "Round 2" in home.content.decode()
start = re.search(r'href="(/delphi/[^"]+/round/2/[^"]+/)"', home.content.decode()).group(1)
topic = browser.get(start).content.decode()
assert "Panel in round 1" in topic and "Your previous answer:" in topic, topic[:2000]
assert Study.objects.filter(status="finished").count() == 1
# The role accounts: the analyst scores and drafts, and never sees the panel's names.
from django.contrib.auth import get_user_model
analyst = Client()
analyst.force_login(get_user_model().objects.get(username="analyst"))
finished = Study.objects.get(status="finished")
assert analyst.get("/staff/priorities/").status_code == 200
assert analyst.get(f"/staff/studies/{{finished.code}}/results/").status_code == 200
assert analyst.get(f"/staff/studies/{{finished.code}}/panel/").status_code == 403
# The exchange: the printed organisation editor signs in and finds her organisation's entries.
editor = Client()
signed = editor.post("/accounts/login/", {{"login": "editor@hospital.example", "password": "foresight-demo"}})
assert signed.status_code == 302, signed.status_code
home = editor.get("/exchange/").content.decode()
org = re.search(r'href="(/exchange/organisations/[^/]+/entries/)"', home).group(1)
listing = editor.get(org).content.decode()
assert "Night-shift ward robots" in listing and "Changes requested" in listing
# Her demand entry's matches rank the robot she shortlisted; her conversation with its maker agreed to pilot.
ward = re.search(r'href="(/exchange/entries/[^/]+/)"[^>]*>Night-shift ward robots', listing).group(1)
matches = editor.get(ward + "matches/").content.decode()
assert "Ward-round service robot" in matches and "shared topic" in matches, matches[:3000]
talks = editor.get("/exchange/conversations/").content.decode()
assert "Nimble Robotics" in talks and "Agreed to pilot" in talks, talks[:3000]
# The public pipeline counts the verified pilots: one at demonstration, one at opened (its pilot stage awaits
# verification), one stopped.
figures = browser.get("/api/v1/pipeline/").json()
assert figures["total"] == 3 and figures["by_stage"] == {{
    "opened": 1, "pilot": 0, "demonstration": 1, "scaling": 0, "mainstream": 0, "stopped": 1
}}, figures
pipeline = browser.get("/pipeline/")
assert pipeline.status_code == 200 and "Demonstration" in pipeline.content.decode()
listed = browser.get("/releases/").content.decode()
assert "2027, first batch" in listed and "second batch" not in listed  # the draft is not public
print("demo-ok")
"""


@pytest.mark.sweep
def test_the_demo_has_a_finished_study_and_a_working_expert_link(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["SQLITE_PATH"] = str(tmp_path / "demo.sqlite3")

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    run("migrate", "-v0")
    run("load_catalog", "-v0")
    out = run("demo_data")
    assert "simulated finished study" in out
    assert "demo role accounts: study-manager, panel-manager, moderator, analyst, publisher, curator" in out
    assert (
        "scenario exchange: 8 organisations, 12 entries, one release published and one in preparation, matches,"
        " conversations and 3 pilots" in out
    )
    assert "editor@hospital.example / foresight-demo" in out
    link = re.search(r"single-use link\): (\S+)", out)
    assert link, out
    assert "import re" not in PROBE
    assert "demo-ok" in run("shell", "-c", "import re\n" + PROBE.format(link=link.group(1)))
    # A second run keeps the data and prints a fresh link (the first one is used up).
    again = run("demo_data")
    assert "simulated finished study" not in again
    assert re.search(r"single-use link\): (\S+)", again).group(1) != link.group(1)
