"""The five workloads. Each returns plain dicts of measurements; ``bench.report`` turns them into Markdown.

Product and baseline are measured alternately within each repeat (product, baseline, product, …)
so that a change in the machine's load during the run affects both alike.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import statistics
import subprocess
import sys
import time
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve

from bench import load
from bench import similarity as bench_similarity
from bench.data import AggregationStudy, BallotStudy
from bench.env import ROOT
from bench.procs import CeleryWorker, Gunicorn, load_average, peak_mb, peak_reset, rss_mb
from foresight import stats
from foresight.catalog.models import Topic
from foresight.catalog.selectors import topic_similarity_documents
from foresight.delphi import tasks
from foresight.delphi.models import Round, RoundStat
from foresight.delphi.services.rounds import round_close
from foresight.public.selectors import PublicTopicFilters
from foresight.public.selectors import topic_list as public_topic_list
from scenarios.selectors import ScenarioFilters, scenario_list, scenario_similarity_documents


def summary(values: list[float]) -> dict[str, float | None]:
    """Median with min–max of repeated runs."""
    if not values:
        return {"median": None, "min": None, "max": None}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


# --- 1. Round aggregation -------------------------------------------------------------------------

SQL_BASELINE = """
SELECT r.topic_id, a.question_id,
       count(a.value_num) AS n,
       avg(a.value_num) AS mean,
       stddev_samp(a.value_num) AS sd,
       percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY a.value_num) AS quartiles
FROM delphi_answer a
JOIN delphi_response r ON r.id = a.response_id
WHERE r.round_id = %s AND NOT a.cant_judge AND a.value_num IS NOT NULL
GROUP BY r.topic_id, a.question_id
"""


def sql_aggregate(round_id: int) -> tuple[float, list[tuple[Any, ...]]]:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(SQL_BASELINE, [round_id])
        rows = cursor.fetchall()
    return time.perf_counter() - started, rows


class AggregationTimeout(RuntimeError):
    pass


def _task_aggregate(worker: CeleryWorker, rnd: Round, *, first: bool, timeout: float) -> dict[str, Any]:
    """Queue the product's Celery task and wait for the round to be aggregated; the worker's peak memory."""
    if not first:
        # A re-run starts from the state a first run starts from: closed, no statistics yet.
        RoundStat.objects.filter(round=rnd).delete()
        Round.objects.filter(pk=rnd.pk).update(status=Round.Status.CLOSED, checksum="", aggregation_progress=0)
    reset = peak_reset(worker.pid)
    idle = rss_mb(worker.pid)
    started = time.perf_counter()
    if first:
        round_close(rnd=rnd)  # the product's path: closing queues delphi.round_aggregate after commit
    else:
        tasks.round_aggregate.delay(rnd.pk)
    deadline = time.monotonic() + timeout
    while True:
        status, checksum = Round.objects.filter(pk=rnd.pk).values_list("status", "checksum").get()
        if status == Round.Status.AGGREGATED:
            break
        if time.monotonic() > deadline:
            raise AggregationTimeout(f"round {rnd.code} was not aggregated within {timeout:.0f} s")
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_mb": peak_mb(worker.pid),
        "idle_mb": idle,
        "peak_is_per_task": reset,
        "checksum": checksum,
    }


def _agreement(rnd: Round, rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Do the task's stored figures and the SQL query agree (n, mean, SD, quartiles of every numeric cell)?"""
    stats = {
        (s.topic_id, s.question_id): s
        for s in RoundStat.objects.filter(round=rnd, group="all", question__qtype__in=("scale", "year"))
    }
    worst = 0.0
    missing = 0
    for topic_id, question_id, n, mean, sd, quartiles in rows:
        stat = stats.get((topic_id, question_id))
        # A year item's n counts "already" and "never" too; its quartiles are over the n_years numeric years.
        if stat is None or stat.data.get("n_years", stat.n) != n:
            missing += 1
            continue
        data = stat.data
        pairs = [(data.get("mean"), mean), (data.get("sd"), sd)] + list(
            zip((data.get("q1"), data.get("median"), data.get("q3")), quartiles, strict=True)
        )
        for ours, theirs in pairs:
            if ours is None or theirs is None:
                if (ours is None) != (theirs is None):
                    missing += 1
                continue
            worst = max(worst, abs(float(ours) - float(theirs)))
    return {"cells": len(rows), "mismatched": missing, "max_abs_diff": worst}


def aggregation(
    *,
    worker: CeleryWorker,
    points: list[tuple[str, float, int]],
    topics: list[Any],
    per: int,
    repeat: int,
    timeout: float,
    log: Any,
    rounds: int = 2,
) -> dict[str, Any]:
    """For every scale point (label, fraction of national, respondents): build, then measure both rounds.

    A task that has not finished after ``timeout`` seconds (the task's own hard time limit, after
    which a prefork worker would kill it and the broker deliver it again) is stopped with its
    worker; the point is reported as not finished and its later round skipped.
    """
    out: list[dict[str, Any]] = []
    studies: dict[str, AggregationStudy] = {}
    for label, fraction, respondents in points:
        log(f"aggregation {label}: building a study of {respondents} respondents on {len(topics)} topics")
        started = time.perf_counter()
        study = AggregationStudy.create(
            code=f"bench-{label.replace('/', '-')}-{respondents}",
            respondents=respondents,
            topics=topics,
            per_respondent=per,
        )
        panel_seconds = time.perf_counter() - started
        studies[label] = study
        for number in range(1, rounds + 1):
            build = study.fill(number)
            rnd = study.round(number)
            log(
                f"  round {number}: {build.answers:,} answers of {build.respondents:,} respondents "
                f"inserted in {build.seconds:.1f} s; aggregating (load {load_average():.2f})"
            )
            task_runs: list[dict[str, Any]] = []
            sql_runs: list[float] = []
            rows: list[tuple[Any, ...]] = []
            load_before = load_average()
            timed_out = False
            for i in range(repeat):
                try:
                    task_runs.append(_task_aggregate(worker, rnd, first=i == 0, timeout=timeout))
                except AggregationTimeout as exc:
                    log(f"    run {i + 1}: {exc}; restarting the worker")
                    worker.restart()
                    timed_out = True
                seconds, rows = sql_aggregate(rnd.pk)
                if timed_out:
                    sql_runs.append(seconds)
                    break
                sql_runs.append(seconds)
                log(
                    f"    run {i + 1}: task {task_runs[-1]['seconds']:.2f} s, peak {task_runs[-1]['peak_mb']:.0f} MB; "
                    f"SQL {seconds:.2f} s"
                )
            rnd.refresh_from_db()
            out.append(
                {
                    "label": label,
                    "fraction": fraction,
                    "round": number,
                    "respondents": build.respondents,
                    "responses": build.responses,
                    "answers": build.answers,
                    "topics": rnd.topics.count(),
                    "build_seconds": build.seconds + (panel_seconds if number == 1 else 0.0),
                    "task": summary([r["seconds"] for r in task_runs]),
                    "peak_mb": summary([r["peak_mb"] for r in task_runs]),
                    "idle_mb": summary([r["idle_mb"] for r in task_runs]),
                    "peak_is_per_task": all(r["peak_is_per_task"] for r in task_runs),
                    "sql": summary(sql_runs),
                    "checksums_identical": len({r["checksum"] for r in task_runs}) <= 1,
                    "stats_rows": RoundStat.objects.filter(round=rnd).count(),
                    "agreement": _agreement(rnd, rows) if not timed_out else None,
                    "timed_out": timed_out,
                    "load": [load_before, load_average()],
                }
            )
            if timed_out:
                break  # round 2 opens only after round 1 is aggregated
    worker_times = worker.task_runtimes()
    return {"points": out, "worker_reported": worker_times, "studies": studies}


def wilcoxon_profile(pairs: tuple[int, ...] = (4, 8, 10, 12, 13, 14, 30, 200)) -> list[dict[str, float]]:
    """Time of ``foresight.stats.wilcoxon`` (round-2 stability, once per topic × scale question) on ``n``
    paired 5-point answers of which half changed: what one round-2 cell costs, by its number of pairs."""
    stats.wilcoxon([1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 2.0, 3.0])  # SciPy's lazy imports, outside the clock
    out = []
    for n in pairs:
        before = [3.0] * n
        after = [3.0 + ((1 if i % 2 else -1) * (1 + i % 2) if i < n // 2 else 0) for i in range(n)]
        started = time.perf_counter()
        stats.wilcoxon(before, after)
        out.append({"pairs": n, "ms": (time.perf_counter() - started) * 1000})
    return out


def growth(points: list[dict[str, Any]], key: str, round_number: int) -> float | None:
    """Exponent b of time ∝ answers^b between the smallest and the largest scale (1 = linear)."""
    rows = [p for p in points if p["round"] == round_number and p[key]["median"]]
    if len(rows) < 2:
        return None
    small, large = min(rows, key=lambda p: p["answers"]), max(rows, key=lambda p: p["answers"])
    if large["answers"] <= small["answers"]:
        return None
    return math.log(large[key]["median"] / small[key]["median"]) / math.log(large["answers"] / small["answers"])


# --- 2. The expert submit path --------------------------------------------------------------------


def _ballot_run(
    pool: Any, server: Gunicorn, bs: BallotStudy, *, kind: str, count: int, clients: int, seconds: float
) -> dict[str, Any]:
    ballots = bs.pool(count, invited=kind == "product")
    jobs = [
        {
            "kind": kind,
            "port": server.port,
            "study": bs.study.code,
            "number": bs.rnd.number,
            "round_id": bs.rnd.pk,
            "duration": seconds,
            "ballots": [vars(b) for b in ballots[i::clients]],
        }
        for i in range(clients)
    ]
    start_at = time.time() + 0.25
    for job in jobs:
        job["start_at"] = start_at
    results = pool.map(load.ballot_client, jobs, chunksize=1)
    elapsed = max(r["end"] for r in results) - start_at
    done = [d for r in results for d in r["done"]]
    failed = [f for r in results for f in r["failed"]]
    latencies: dict[str, list[float]] = {}
    for d in done:
        for k, values in d["latencies"].items():
            latencies.setdefault(k, []).extend(values)
    every = [v for values in latencies.values() for v in values]
    answers, completions = bs.stored([d["participant"] for d in done])
    return {
        "ballots": len(done),
        "failed": len(failed),
        "failures": sorted(set(failed))[:5],
        "pool": count,
        "exhausted": len(done) + len(failed) >= count,
        "seconds": elapsed,
        "ballots_per_second": len(done) / elapsed if elapsed > 0 else 0.0,
        "requests": len(every),
        "requests_per_second": len(every) / elapsed if elapsed > 0 else 0.0,
        "save_p50": load.percentile(latencies.get("save", []), 0.5),
        "save_p99": load.percentile(latencies.get("save", []), 0.99),
        "ballot_p50": load.percentile([d["seconds"] for d in done], 0.5),
        "ballot_p99": load.percentile([d["seconds"] for d in done], 0.99),
        "request_p50": load.percentile(every, 0.5),
        "request_p99": load.percentile(every, 0.99),
        "answers_stored": answers,
        "completions": completions,
        "by_kind": {
            k: {"n": len(v), "p50": load.percentile(v, 0.5), "p99": load.percentile(v, 0.99)}
            for k, v in sorted(latencies.items())
        },
    }


def submit_queries(bs: BallotStudy) -> dict[str, int]:
    """SQL statements of one topic page, one autosave and one baseline upsert (Django's test client, in process)."""
    ballot, spare = bs.pool(2, invited=True)
    client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.250.0.1")
    home = f"/delphi/{bs.study.code}/"
    client.post(f"{home}join/", {"t": ballot.token})
    client.post(f"{home}consent/", {"agree": "yes"})
    code, _, form = ballot.topics[0]
    page = f"{home}round/{bs.rnd.number}/{code}/"
    counts: dict[str, int] = {}
    with CaptureQueriesContext(connection) as queries:
        status = client.get(page).status_code
    counts["topic_page"] = len(queries) if status == 200 else -1
    form_type = "application/x-www-form-urlencoded"
    with CaptureQueriesContext(connection) as queries:
        status = client.post(f"{page}save/", form, content_type=form_type, HTTP_HX_REQUEST="true").status_code
    counts["save"] = len(queries) if status == 200 else -1
    _, topic_id, form = spare.topics[0]
    with CaptureQueriesContext(connection) as queries:
        url = f"/bench/upsert/{bs.rnd.pk}/{spare.participant}/{topic_id}/"
        status = client.post(url, form, content_type=form_type).status_code
    counts["baseline"] = len(queries) if status == 204 else -1
    return counts


def submit_path(
    *, server: Gunicorn, bs: BallotStudy, clients: int, seconds: float, repeat: int, log: Any
) -> dict[str, Any]:
    queries = submit_queries(bs)
    log(
        f"  SQL statements: topic page {queries['topic_page']}, autosave {queries['save']}, baseline {queries['baseline']}"
    )

    runs: dict[str, list[dict[str, Any]]] = {"product": [], "baseline": []}
    # Bounded by count as well as time: a pool a little larger than a fast run could use.
    counts = {
        "product": max(2 * clients, math.ceil(seconds * 8)),
        "baseline": max(2 * clients, math.ceil(seconds * 40)),
    }
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(clients) as pool:
        pool.map(time.sleep, [0.0] * clients, chunksize=1)  # processes started before anything is timed
        for i in range(repeat):
            for kind in ("product", "baseline"):
                result = _ballot_run(pool, server, bs, kind=kind, count=counts[kind], clients=clients, seconds=seconds)
                result["load"] = load_average()
                runs[kind].append(result)
                log(
                    f"  submit {kind} run {i + 1}: {result['ballots']} ballots in {result['seconds']:.1f} s = "
                    f"{result['ballots_per_second']:.2f}/s, {result['failed']} failed, save p50 "
                    f"{(result['save_p50'] or 0) * 1000:.0f} ms p99 {(result['save_p99'] or 0) * 1000:.0f} ms"
                )
    topics = len(bs.topics)
    return {
        "runs": runs,
        "queries": queries,
        "topics": topics,
        "clients": clients,
        "seconds": seconds,
        "product": {k: summary([r[k] for r in runs["product"] if r[k] is not None]) for k in _SUBMIT_KEYS},
        "baseline": {k: summary([r[k] for r in runs["baseline"] if r[k] is not None]) for k in _SUBMIT_KEYS},
        "failed": sum(r["failed"] for rs in runs.values() for r in rs),
        "failures": sorted({f for rs in runs.values() for r in rs for f in r["failures"]})[:5],
        "rows_ok": all(r["answers_stored"] == r["ballots"] * topics * 12 for rs in runs.values() for r in rs),
        "completions_ok": all(r["completions"] == r["ballots"] for r in runs["product"]),
    }


_SUBMIT_KEYS = (
    "ballots_per_second",
    "requests_per_second",
    "save_p50",
    "save_p99",
    "ballot_p50",
    "ballot_p99",
    "request_p50",
    "request_p99",
    "ballots",
)


# --- 3. Public pages and API ----------------------------------------------------------------------


def routed(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def _get_run(pool: Any, server: Gunicorn, path: str, *, clients: int, seconds: float) -> dict[str, Any]:
    for _ in range(3):  # warm: the first request of a page renders it and fills the cache
        load._request(server.port, "GET", path, headers={"Host": f"127.0.0.1:{server.port}", "Accept-Language": "en"})
    jobs = [
        {"port": server.port, "path": path, "duration": seconds, "max_requests": 20_000, "ip": f"127.20.{i}.1"}
        for i in range(clients)
    ]
    start_at = time.time() + 0.25
    for job in jobs:
        job["start_at"] = start_at
    results = pool.map(load.get_client, jobs, chunksize=1)
    elapsed = max(r["end"] for r in results) - start_at
    latencies = [v for r in results for v in r["latencies"]]
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
    for r in results:
        for k, v in r["statuses"].items():
            statuses[int(k)] = statuses.get(int(k), 0) + v
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    return {
        "path": path,
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed if elapsed > 0 else 0.0,
        "p50": load.percentile(latencies, 0.5),
        "p99": load.percentile(latencies, 0.99),
        "statuses": statuses,
        "errors": errors,
        "bytes": max((r["bytes"] for r in results), default=0),
    }


def public_pages(
    *, server: Gunicorn, pages: list[tuple[str, str]], clients: int, seconds: float, repeat: int, log: Any
) -> dict[str, Any]:
    constant = "/bench/constant/"
    runs: dict[str, list[dict[str, Any]]] = {constant: []}
    for _, path in pages:
        runs[path] = []
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(clients) as pool:
        pool.map(time.sleep, [0.0] * clients, chunksize=1)
        for i in range(repeat):
            for path in [constant] + [p for _, p in pages]:
                result = _get_run(pool, server, path, clients=clients, seconds=seconds)
                result["load"] = load_average()
                runs[path].append(result)
                log(f"  GET {path} run {i + 1}: {result['rps']:.0f}/s p50 {(result['p50'] or 0) * 1000:.1f} ms")
    return {
        "constant": constant,
        "pages": pages,
        "runs": runs,
        "clients": clients,
        "seconds": seconds,
        "rps": {path: summary([r["rps"] for r in rs]) for path, rs in runs.items()},
        "p50": {path: summary([r["p50"] for r in rs if r["p50"] is not None]) for path, rs in runs.items()},
        "p99": {path: summary([r["p99"] for r in rs if r["p99"] is not None]) for path, rs in runs.items()},
        "bytes": {path: max((r["bytes"] for r in rs), default=0) for path, rs in runs.items()},
        "non_200": {
            path: sum(v for r in rs for k, v in r["statuses"].items() if k != 200)
            + sum(sum(r["errors"].values()) for r in rs)
            for path, rs in runs.items()
        },
    }


def cache_invalidation(*, server: Gunicorn, topic_code: str) -> dict[str, Any]:
    """Rename a topic the way curators do (a model save), and check the cached page shows the new name at once."""
    headers = {"Host": f"127.0.0.1:{server.port}", "Accept-Language": "en"}
    path = f"/topics/{topic_code}/"
    load._request(server.port, "GET", path, headers=headers)  # cached now
    topic = Topic.objects.get(code=topic_code)
    original = topic.name_en
    marker = f"{original} (renamed {int(time.time())})"
    topic.name_en = marker
    topic.save()
    _, _, body, _ = load._request(server.port, "GET", path, headers=headers)
    fresh = marker.encode() in body
    topic.name_en = original
    topic.save()
    _, _, body, _ = load._request(server.port, "GET", path, headers=headers)
    restored = marker.encode() not in body and original.encode() in body
    return {"page": path, "fresh_after_change": fresh, "fresh_after_revert": restored}


# --- 4. Bootstrap ---------------------------------------------------------------------------------


def bootstrap(*, respondents: int, topics: int, per: int, B: int, repeat: int, log: Any) -> dict[str, Any]:  # noqa: N803
    runs: dict[str, list[dict[str, Any]]] = {"product": [], "numpy": []}
    for i in range(repeat):
        for impl in ("product", "numpy"):
            out = subprocess.run(
                [sys.executable, "-m", "bench.bootstrap", "--impl", impl, "--respondents", str(respondents)]
                + ["--topics", str(topics), "--per", str(per), "--B", str(B)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            result["load"] = load_average()
            runs[impl].append(result)
            log(
                f"  bootstrap {impl} run {i + 1}: {result['seconds']:.2f} s, "
                f"peak {result['peak_mb']:.0f} MB (+{result['peak_above_inputs_mb']:.0f} MB over the inputs)"
            )
    first_p, first_n = runs["product"][0]["result"], runs["numpy"][0]["result"]
    diff = max(
        (abs(a - b) for key in first_p for a, b in zip(first_p[key], first_n[key], strict=True)),
        default=0.0,
    )
    for impl in runs:
        for r in runs[impl]:
            r.pop("result", None)
    return {
        "respondents": respondents,
        "topics": topics,
        "per": per,
        "B": B,
        "values": runs["product"][0]["values"],
        "runs": runs,
        "seconds": {impl: summary([r["seconds"] for r in rs]) for impl, rs in runs.items()},
        "peak_mb": {impl: summary([r["peak_mb"] for r in rs]) for impl, rs in runs.items()},
        "extra_mb": {impl: summary([r["peak_above_inputs_mb"] for r in rs]) for impl, rs in runs.items()},
        "max_abs_diff": diff,
    }


# --- 5. Similarity service ------------------------------------------------------------------------


def _keyword_topics(query: str) -> list[str]:
    return list(public_topic_list(filters=PublicTopicFilters(q=query)).values_list("code", flat=True)[:10])


def _keyword_scenarios(query: str) -> list[str]:
    return list(scenario_list(filters=ScenarioFilters(q=query)).values_list("code", flat=True)[:10])


def similarity(*, entries: int, repeat: int, log: Any) -> dict[str, Any]:
    """Quality on the labelled set against the curated catalog, and search time among ``entries`` generated
    entries (``bench.similarity``). Run before the generated topics are added: the labelled set is about
    the curated catalog."""
    curated = {"topics": topic_similarity_documents(), "scenarios": scenario_similarity_documents()}
    result: dict[str, Any] = {}
    if all(curated.values()):
        result["quality"] = bench_similarity.quality(
            keyword={"topics": _keyword_topics, "scenarios": _keyword_scenarios}
        )
        for corpus, q in result["quality"].items():
            log(f"  {corpus}: recall@3 {q['product']['all']['recall']:.3f}, MRR {q['product']['all']['mrr']:.3f}")
    result["speed"] = bench_similarity.speed(n=entries, curated=curated, repeat=repeat, log=log)
    return result
