"""simulate_study through a real worker on PostgreSQL, the embedded default on SQLite, and the reproducibility package."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import scipy.stats
from django.core.management import call_command
from django.test import Client

from foresight.catalog.models import Topic
from foresight.delphi.models import Round, RoundStat, Study
from foresight.delphi.services.aggregation import round_aggregate
from foresight.delphi.services.export import round_export_package
from foresight.delphi.services.responses import response_save
from foresight.delphi.services.rounds import round_close, round_open
from foresight.numbers import display
from tests.delphi.conftest import make_participant
from tests.delphi.recompute import (
    Package,
    cell_matches,
    differences,
    published_stats,
    scoring,
    stats_figures,
    views,
    wilcoxon,
)

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["--experts", "40", "--topics", "8", "--seed", "7"]
# Large enough that some topics release high-expertise, weighted and sector indices and a change between
# rounds while others withhold them, and one topic reaches consensus in round 1 (its published figures
# come from round 1); the test below asserts all of that, so it cannot pass on an empty package.
PUBLISHED_ARGS = ["--experts", "120", "--topics", "8", "--seed", "4", "--publish"]


def _simulate_here(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("load_catalog", verbosity=0)
    call_command("simulate_study", *args, "--timeout", "300", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.fixture
def simulated(celery_worker_process: dict[str, str], transactional_db: Any) -> dict[str, Any]:
    return _simulate_here(*ARGS)


@pytest.fixture
def published_simulation(celery_worker_process: dict[str, str], transactional_db: Any) -> dict[str, Any]:
    return _simulate_here(*PUBLISHED_ARGS)


def _export(code: str, tmp_path: Path) -> Package:
    out = tmp_path / f"{code}.zip"
    call_command("export_round", code, "--out", str(out), verbosity=0)
    return Package(out.read_bytes())


def _stats_mismatches(pkg: Package) -> list[str]:
    """Rows of stats.csv that differ from the recomputation, and rows either side lacks."""
    mine = stats_figures(pkg)
    theirs = published_stats(pkg)
    problems = [f"missing {key}" for key in sorted(set(mine) - set(theirs))]
    problems += [f"unexpected {key}" for key in sorted(set(theirs) - set(mine))]
    for key in sorted(set(mine) & set(theirs)):
        expected, written = mine[key], theirs[key]
        if not cell_matches(expected, written):
            problems.append(f"{key}: recomputed {expected!r}, stats.csv {written!r}")
    return problems


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
def test_every_published_figure_is_recomputed_from_the_responses(
    published_simulation: dict[str, Any], tmp_path: Path
) -> None:
    """From responses and round.json alone (standard library, tests/delphi/recompute.py): every row of
    stats.csv of both rounds, and every figure of every edition entry — its released report, criteria,
    normalised criteria, stand-ins and score.  The bootstrap rank intervals and P(top-k) are resampling
    results, recomputed by the plain loop in tests/priorities/test_bootstrap.py."""
    first, second = published_simulation["rounds"]
    packages = {code: _export(code, tmp_path) for code in (first, second)}

    seen: Counter[str] = Counter()
    for code, pkg in packages.items():
        assert _stats_mismatches(pkg) == [], code
        # Whether a withheld sector hides inside "other" is visible only when "other" holds no publishable
        # sector (codebook): here it holds none, so every reason above was recomputed too.
        assert pkg.settings["sectors"]["other_includes_publishable_sectors"] is False
        labels = {row["sector"] for rows in pkg.responses.values() for row in rows}
        for (_, _, group, _), value in published_stats(pkg).items():
            if group.startswith("sector:") and group != "sector:*":
                assert group.removeprefix("sector:") in labels  # every released sector figure is recomputable
            kind = "suppressed" if value.startswith("suppressed:") else "released"
            seen[f"{code}:{group.split(':')[0]}:{kind}"] += 1
            if value.startswith("suppressed:"):
                seen[value] += 1
    for group in ("high", "weighted", "sector", "all"):
        assert seen[f"{first}:{group}:released"] and seen[f"{second}:{group}:released"], group
    assert seen[f"{second}:change:released"] and seen[f"{second}:change:suppressed"]
    assert not seen[f"{first}:change:released"] and not seen[f"{first}:change:suppressed"]
    # (small_group: every item here has t respondents; the small panel below withholds with it.)
    for reason in ("small_complement", "small_weight_class", "attrition"):
        assert seen[f"suppressed:{reason}"], reason

    pkg = packages[second]
    assert set(pkg.rounds) == {1, 2} and "responses-round-1.csv" in pkg.names
    editions = {name: doc for name, doc in pkg.documents.items() if name.startswith("editions/")}
    assert [doc["edition"] for doc in editions.values()] == [published_simulation["edition"]]
    checked: Counter[str] = Counter()
    for doc in editions.values():
        run = pkg.documents[f"scoring/{doc['scoring_run']}.json"]
        expected = scoring(pkg, run)
        assert {e["topic"] for e in doc["entries"]} == set(expected)
        for entry in doc["entries"]:
            mine, data = expected[entry["topic"]], entry["data"]
            where = entry["topic"]
            assert (data["round"], data["n"], data["ranked"]) == (mine["round"], mine["n"], mine["ranked"]), where
            assert data["evidence"]["sufficient"] == mine["ranked"], where
            report = mine["report"]
            assert differences(report, data["report"]) == [], where
            shown = views(report, run["thresholds"])
            assert differences(shown, {name: data[name] for name in shown}) == [], where
            checked[f"round{data['round']}"] += 1
            items = data["report"]["items"]
            checked["change"] += any(item.get("change") for item in items.values())
            checked["high"] += any(item.get("index_high") is not None for item in items.values())
            checked["weighted"] += any(item.get("index_weighted") is not None for item in items.values())
            checked["sector"] += any(item.get("sectors") for item in items.values())
            if not mine["ranked"]:
                assert entry["score"] is None and entry["rank"] is None, where
                continue
            checked["ranked"] += 1
            assert differences(mine["criteria"], data["criteria"]) == [], where
            assert differences(mine["normalised"], data["normalised"]) == [], where
            assert differences(mine["fallbacks"], data["fallbacks"]) == [], where
            assert entry["score"] == pytest.approx(mine["score"], abs=1e-9), where
        # Ranks follow from the scores ("1224": ties share the best rank).
        scores = {e["topic"]: e["score"] for e in doc["entries"] if e["score"] is not None}
        for entry in doc["entries"]:
            if entry["score"] is not None:
                assert entry["rank"] == 1 + sum(s > entry["score"] for s in scores.values()), entry["topic"]
    assert checked["round1"] and checked["round2"] and checked["ranked"] >= 5
    assert checked["change"] and checked["high"] and checked["weighted"] and checked["sector"]

    # The edition page prints exactly these recomputed figures, through the one formatter
    # (foresight.numbers): every figure marked on it, topic by topic.
    page = Client().get(f"/editions/{published_simulation['edition']}/").content.decode()
    printed: Counter[str] = Counter()
    for doc in editions.values():
        run = pkg.documents[f"scoring/{doc['scoring_run']}.json"]
        expected = scoring(pkg, run)
        for entry in doc["entries"]:
            code = entry["topic"]
            block = re.search(
                rf'(?:id="figures-{re.escape(code)}"|id="insufficient-{re.escape(code)}").*?</details>', page, re.S
            )
            assert block, code
            for where, figure, text in _page_figures(block.group(0)):
                want = _expected_figure(expected[code]["report"], where, figure)
                assert text == want, (code, where, figure, text, want)
                printed[where.split("-")[0]] += 1
    for item in ("respondents", "importance", "tech_year", "importance_why", "policy_measures", "uncertainty"):
        assert printed[item], (item, printed)


def _page_figures(block: str) -> list[tuple[str, str, str]]:
    """(data-item, data-figure, text) of every figure marked in one topic's figures on the edition page."""
    out = []
    for part in re.split(r'(?=data-item=")', block)[1:]:
        where = re.match(r'data-item="([^"]+)"', part).group(1)
        out += [(where, figure, text.strip()) for figure, text in re.findall(r'data-figure="([^"]+)">([^<]*)<', part)]
    return out


def _expected_figure(report: dict[str, Any], where: str, figure: str) -> str:
    """The recomputed figure a marked cell must print, through ``foresight.numbers.display``."""
    if where.startswith("respondents"):
        respondents = report["respondents"]
        if figure == "other_sectors":
            return display(respondents["other_sectors"], "count")
        table, key = figure.split(":", 1)
        return display(respondents[table][key], "count")
    item_key, _, part = where.partition("-")
    item = report["items"][item_key]
    if part == "change":
        value = item["change"][figure]
        kind = {"n_paired": "count", "share_changed": "share", "wilcoxon_p": "p_value"}.get(figure, "quantile")
        return display(value, kind, percent=kind == "share")
    if part == "sectors":
        _, sector, name = figure.split(":")
        return display(item["sectors"][sector][name], "count" if name == "n" else "index")
    if ":" in figure:
        table, option = figure.split(":", 1)
        value = item[table][option]
        return display(value, "share", percent=True) if table == "shares" else display(value, "count")
    if figure == "share_cant_judge":
        return display(item["n_cant_judge"] / (item["n"] + item["n_cant_judge"]), "share", percent=True)
    year = "n_years" in item
    kind = {
        "n": "count",
        "n_high": "count",
        "index": "index",
        "index_high": "index",
        "index_weighted": "index",
        "share_already": "share",
        "share_never": "share",
    }.get(figure, "year" if year else "quantile")
    return display(item[figure], kind, percent=kind == "share")


@pytest.mark.parametrize(
    ("panel", "shown"),
    [
        pytest.param(
            {"university": 8, "company": 6, "government": 2, "other": 5}, ["company", "university"], id="small"
        ),
        # Without "other", the 2 from government would be recoverable as a block: company is withheld too.
        pytest.param({"university": 8, "company": 6, "government": 2}, ["university"], id="complement"),
    ],
)
def test_a_sector_with_fewer_than_t_respondents_is_written_as_other(
    study: Study, panel: dict[str, int], shown: list[str]
) -> None:
    """Two respondents from government (t = 6): their rows say ``other``; the sectors shown keep their
    names, so every released sector figure is still recomputed from the responses."""
    rnd = study.rounds.get(number=1)
    round_open(rnd=rnd)
    topic = Topic.objects.get(code="bci")
    sector_of: dict[str, str] = {}
    for sector, count in panel.items():
        for i in range(count):
            participant = make_participant(study, f"{sector}-{i}@example.org", sector=sector, topics=["bci"])
            answers = {"expertise": "medium", "importance": str(1 + (i + len(sector)) % 5), "competitiveness": "3"}
            response_save(participant=participant, rnd=rnd, topic=topic, answers=answers)
            sector_of[participant.pseudonym] = sector
    round_close(rnd=rnd)
    assert round_aggregate(round_id=rnd.pk)
    rnd.refresh_from_db()
    pkg = Package(round_export_package(rnd=rnd))

    rows = pkg.responses[1]
    assert rows and list(rows[0]) == ["respondent", "sector", "topic", "expertise", "question", "value"]
    for row in rows:
        truth = sector_of[row["respondent"]]
        assert row["sector"] == (truth if truth in shown else "other"), row
        assert row["expertise"] == "medium"
    assert {row["sector"] for row in rows} == {*shown, "other"}
    assert pkg.settings["sectors"]["shown"] == shown
    assert pkg.settings["sectors"]["other_includes_publishable_sectors"] is True

    stats = published_stats(pkg)
    assert "government" not in json.dumps(sorted(stats))
    released = {
        group for (_, _, group, _), value in stats.items() if group.startswith("sector:") and group != "sector:*"
    }
    assert released == {f"sector:{g}" for g in shown}
    assert stats[("bci", "importance", "high", "index_high")] == "suppressed:small_group"  # nobody stated high
    # Every row recomputes, but for the reason on "sectors withheld" rows: with government inside
    # "other", the responses cannot show that a publishable sector is withheld (codebook).
    mismatched = {line.split(")")[0] for line in _stats_mismatches(pkg)}
    assert mismatched and all(("by_sector:*" in m or "sector:*" in m) for m in mismatched), mismatched


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param([1, 2, 3, 4, 5, 6, 7], [3, 5, 2, 9, 11, 0, 15], id="exact: untied, few"),
        pytest.param(
            [3, 4, 2, 5, 3, 3, 4, 2, 1, 4, 5, 3], [4, 4, 3, 4, 3, 4, 4, 3, 2, 4, 4, 4], id="exact conditional: ties"
        ),
        pytest.param(list(range(60)), [x + (x % 7) - 3 + x / 100 for x in range(60)], id="normal: over 50"),
    ],
)
def test_the_recomputed_wilcoxon_test_is_the_products(before: list[float], after: list[float]) -> None:
    """recompute.py tests by the rule in round.json with the standard library; the product's test
    (foresight.stats.wilcoxon, itself checked against every sign pattern in tests/stats) agrees, and so
    does SciPy where it has the same method (exact without ties, the normal approximation)."""
    from fractions import Fraction

    from foresight import stats

    mine = wilcoxon([Fraction(x) for x in before], [Fraction(x) for x in after])
    product = stats.wilcoxon(before, after)
    d = [b - a for b, a in zip(before, after, strict=True) if b != a]
    expected = "normal" if len(d) > 50 else ("exact" if len(set(map(abs, d))) == len(d) else "exact_conditional")
    assert mine["method"] == product["method"] == expected
    assert mine["statistic"] == pytest.approx(product["statistic"], abs=1e-9)
    assert mine["p"] == pytest.approx(product["p_value"], abs=1e-12)
    if expected != "exact_conditional":
        method = "asymptotic" if expected == "normal" else "exact"
        theirs = scipy.stats.wilcoxon(d, correction=False, method=method)
        assert mine["p"] == pytest.approx(float(theirs.pvalue), abs=1e-12)


def test_the_package_is_the_same_bytes_when_exported_twice(study: Study) -> None:
    rnd = study.rounds.get(number=1)
    round_open(rnd=rnd)
    for i, sector in enumerate(["university", "company", "government"] * 3):
        participant = make_participant(study, f"e{i}@example.org", sector=sector, topics=["bci", "6g"])
        for code in ("6g", "bci"):
            response_save(
                participant=participant,
                rnd=rnd,
                topic=Topic.objects.get(code=code),
                answers={"expertise": ["high", "low"][i % 2], "importance": str(1 + i % 5), "tech_year": "never"},
            )
    round_close(rnd=rnd)
    assert round_aggregate(round_id=rnd.pk)
    rnd.refresh_from_db()
    one, two = (zipfile.ZipFile(io.BytesIO(round_export_package(rnd=rnd))) for _ in range(2))
    for name in ("responses.csv", "stats.csv", "round.json", "codebook.md"):
        assert one.read(name) == two.read(name), name


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
