"""The benchmark harness: ``python -m bench.run [--scale F] [--repeat N] [--out BENCHMARKS.md]``.

1. a database of its own (created here, dropped at the end), migrated, with the curated catalog and
   700 generated topics;
2. a Celery worker bound to it: ``simulate_study``'s own speed, then round aggregation at 1/10, 1/3
   and 1/1 of the chosen scale (national = 1), against one SQL query;
3. the bootstrap of rank intervals, product against plain numpy, in fresh processes;
4. gunicorn (product and baselines in one server): the expert submit path against a minimal upsert
   view, and the public pages and API against a constant view;
5. the similarity service: quality on the labelled paraphrases against the curated catalog (measured right
   after it is loaded, before the generated topics), and search time among generated entries;
6. the scenario exchange: 10,000 capability and 2,000 demand entries generated and published, its pages'
   time and SQL statements against a constant view, and publishing a release of 1,000 entries against the
   reads and writes it needs at least;
7. the report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connections

from bench.bootstrap import WEIGHTS
from bench.env import ROOT, BenchEnv, machine_info
from bench.procs import CeleryWorker, Gunicorn, load_average
from bench.report import render

NATIONAL_RESPONDENTS = 5000
NATIONAL_TOPICS = 700
TOPICS_PER_RESPONDENT = 40
BOOTSTRAP_B = 1000
WORKLOADS = ("aggregation", "submit", "public", "bootstrap", "similarity", "exchange", "matching")


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the national scale (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats of every measurement (default 3)")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md", help="report file (default BENCHMARKS.md)")
    parser.add_argument("--db", default="foresight_bench", help="PostgreSQL database to create and drop")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5", help="a Redis database for this run")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients (default 4)")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--http-seconds", type=float, help="length of one submit-path run (default by scale, ≤ 20)")
    parser.add_argument("--only", default=",".join(WORKLOADS), help=f"comma-separated subset of {','.join(WORKLOADS)}")
    parser.add_argument(
        "--simulate-experts", type=int, help="experts of the simulate_study speed check (default by scale; 0 skips it)"
    )
    parser.add_argument(
        "--topics", type=int, help="topics of the aggregation studies (default 700; fewer below scale 0.05)"
    )
    parser.add_argument("--per", type=int, help="topics each respondent answers (default 40)")
    parser.add_argument(
        "--ballot-topics", type=int, default=20, help="topics of one ballot on the submit path (default 20)"
    )
    parser.add_argument(
        "--skip-curated-catalog",
        action="store_true",
        help="generated catalog only (no load_catalog): for the smoke test, which must be quick",
    )
    parser.add_argument(
        "--aggregation-timeout",
        type=float,
        help="seconds after which an aggregation counts as not finished (default: the task's hard time limit)",
    )
    parser.add_argument("--rounds", type=int, default=2, choices=(1, 2), help="rounds to aggregate (default 2)")
    parser.add_argument(
        "--similarity-entries",
        type=int,
        default=10_000,
        help="generated entries of the similarity index (default 10,000, the exchange's scale)",
    )
    parser.add_argument("--keep-db", action="store_true", help="leave the database for inspection")
    parser.add_argument(
        "--render-only", type=Path, help="write the report from a saved results-*.json; measure nothing"
    )
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1.0:
        parser.error("--scale must be in (0, 1]")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    unknown = set(args.only.split(",")) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    return args


def _edition(study: Any, log: Any) -> tuple[str | None, str]:
    """Publish an edition from an aggregated study, if the public edition pages exist yet."""
    from bench.workloads import routed  # loads the product's models: only once Django is set up

    if not (routed("/editions/bench/") or routed("/api/v1/editions/bench/")):
        return None, "no public edition pages in this checkout yet"
    try:
        # Here, inside the try: a checkout without editions yet reports instead of failing the benchmark.
        from foresight.priorities.models import BOOTSTRAP_MIN, EditionEntry, ScoringRun
        from foresight.priorities.services.editions import edition_draft_create, edition_publish
        from foresight.priorities.services.runs import scoring_run_create

        run = scoring_run_create(study=study, seed=1, top_k=20, B=max(BOOTSTRAP_MIN, 200))
        deadline = time.monotonic() + 600
        while ScoringRun.objects.get(pk=run.pk).status not in (ScoringRun.Status.DONE, ScoringRun.Status.FAILED):
            if time.monotonic() > deadline:
                return None, "the scoring run did not finish in 10 minutes"
            time.sleep(0.2)
        run.refresh_from_db()
        if run.status != ScoringRun.Status.DONE:
            return None, f"the scoring run failed: {run.error}"
        edition = edition_draft_create(run=run, code="bench-edition", title_en="Bench edition")
        EditionEntry.objects.filter(edition=edition).update(rationale_en="Benchmark decision.")
        edition_publish(edition=edition)
        log(f"published edition {edition.code} with {edition.entries.count()} entries")
        return edition.code, ""
    except Exception as exc:  # the edition work is in progress elsewhere: report, don't fail the benchmark
        return None, f"could not publish an edition ({type(exc).__name__}: {exc})"


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # runs the clean-up below: worker, gunicorn, database


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.render_only:
        saved = json.loads(args.render_only.read_text())
        notes = ROOT / "bench" / "notes.md"
        saved["notes"] = notes.read_text() if notes.exists() else None
        args.out.write_text(render(saved) + "\n")
        return 0
    signal.signal(signal.SIGTERM, _terminate)
    only = set(args.only.split(","))
    started = time.monotonic()
    env = BenchEnv(db_name=args.db, pg_host=args.pg_host, pg_port=args.pg_port, redis_url=args.redis_url)
    environ = env.environ()
    s = args.scale
    http_seconds = args.http_seconds or min(20.0, max(1.0, 100 * s))
    # Below 1/20 of national the study's topics shrink too, so that a smoke run stays quick.
    topics_n = args.topics or (NATIONAL_TOPICS if s >= 0.05 else max(40, round(NATIONAL_TOPICS * s * 20)))
    per = min(args.per or TOPICS_PER_RESPONDENT, topics_n // 2)
    result: dict[str, Any] = {
        "args": {"scale": s, "repeat": args.repeat, "db": args.db, "redis_db": args.redis_url.rsplit("/", 1)[-1]},
        "command": "python -m bench.run "
        + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "design": {"respondents": NATIONAL_RESPONDENTS, "topics": topics_n, "per": per},
    }
    info = machine_info(env)
    info["load_start"] = load_average()
    result["machine"] = info
    _log(f"scale {s:g}, {args.repeat} repeats, database {env.db_name}, load {info['load_start']:.2f}")

    env.database_create()
    try:
        env.django_setup(environ)
        # Only now: these load the product's models, which need Django set up on the bench database.
        from bench import workloads
        from bench.data import BallotStudy, catalog_generate, simulate_rate
        from bench.exchange import exchange
        from foresight.catalog.models import Direction, Topic
        from foresight.priorities.services.runs import DEFAULT_WEIGHTS

        if WEIGHTS != DEFAULT_WEIGHTS:
            raise SystemExit("bench/bootstrap.py WEIGHTS differ from priorities.services.DEFAULT_WEIGHTS: update them")
        _log("migrating and loading the catalog")
        call_command("migrate", verbosity=0)
        if not args.skip_curated_catalog:
            call_command("load_catalog", verbosity=0)
        if "similarity" in only:
            # Now, while the topics are the curated ones: the labelled paraphrases are about them.
            _log(f"similarity: the labelled set, and {args.similarity_entries:,} generated entries")
            result["similarity"] = workloads.similarity(entries=args.similarity_entries, repeat=args.repeat, log=_log)
        generated = catalog_generate(topics=topics_n)

        studies: dict[str, Any] = {}
        edition_code: str | None = None
        edition_note = "not measured in this run"
        if "aggregation" in only:
            worker = CeleryWorker(environ=environ, queue=env.queue, log=env.workdir / f"celery-worker-{env.tag}.log")
            worker.start()
            try:
                experts = max(3, round(100 * s)) if args.simulate_experts is None else args.simulate_experts
                sim: dict[str, Any] | None = None
                if experts > 0:
                    _log(f"simulate_study with {experts} experts, for its speed")
                    sim = simulate_rate(experts=experts, topics=topics_n, seed=7)
                points = [
                    ("1/10", s / 10, max(10, round(NATIONAL_RESPONDENTS * s / 10))),
                    ("1/3", s / 3, max(10, round(NATIONAL_RESPONDENTS * s / 3))),
                    ("1/1", s, max(10, round(NATIONAL_RESPONDENTS * s))),
                ]
                agg = workloads.aggregation(
                    worker=worker,
                    points=points,
                    topics=generated,
                    per=per,
                    repeat=args.repeat,
                    timeout=args.aggregation_timeout or settings.CELERY_TASK_TIME_LIMIT,
                    log=_log,
                    rounds=args.rounds,
                )
                agg["timeout"] = args.aggregation_timeout or settings.CELERY_TASK_TIME_LIMIT
                if s >= 0.01:
                    _log("timing stats.wilcoxon by the number of changed answers")
                    agg["wilcoxon"] = workloads.wilcoxon_profile()
                studies = agg.pop("studies")
                agg["sql"] = workloads.SQL_BASELINE
                agg["growth"] = {str(n): workloads.growth(agg["points"], "task", n) for n in (1, 2)}
                agg["growth_sql"] = {str(n): workloads.growth(agg["points"], "sql", n) for n in (1, 2)}
                result["aggregation"] = agg
                if sim is not None:
                    # National values: the largest point's two rounds, scaled up (and to 700 topics × 40).
                    national = sum(p["answers"] for p in agg["points"] if p["label"] == "1/1") / s
                    national *= TOPICS_PER_RESPONDENT / per
                    sim["national_values"] = int(national)
                    rate = sim["answers_per_second"]
                    sim["national_hours"] = national / rate / 3600 if rate else 0.0
                    result["simulate"] = sim
                if "public" in only and studies:
                    # The smallest study whose topics have enough respondents to be ranked (k = 5).
                    enough = [p for p in points if p[2] * per / topics_n >= 10]
                    label = enough[0][0] if enough else "1/1"
                    edition_code, edition_note = _edition(studies[label].study, _log)
            finally:
                worker.stop()

        if "bootstrap" in only:
            respondents = max(20, 2 * round(NATIONAL_RESPONDENTS * s / 2))  # even: see bench.bootstrap
            _log(f"bootstrap with {respondents} respondents, B = {BOOTSTRAP_B}")
            result["bootstrap"] = workloads.bootstrap(
                respondents=respondents,
                topics=topics_n,
                per=per,
                B=BOOTSTRAP_B,
                repeat=args.repeat,
                log=_log,
            )

        if only & {"submit", "public"}:
            server = Gunicorn(
                environ=environ, log=env.workdir / f"gunicorn-{env.tag}.log", workers=args.gunicorn_workers, threads=1
            )
            server.start()
            result["gunicorn"] = (
                f"gunicorn foresight.wsgi --workers {args.gunicorn_workers} --threads 1 --bind 127.0.0.1:<free port>"
            )
            try:
                if "submit" in only:
                    public = Topic.objects.filter(status__in=Topic.PUBLIC_STATUSES)
                    # Curated topics (real statements and descriptions), generated ones if there are none.
                    n = args.ballot_topics
                    ballot_topics = list(public.exclude(code__startswith="bench-").order_by("code")[:n])
                    ballot_topics += list(
                        public.filter(code__startswith="bench-").order_by("code")[: n - len(ballot_topics)]
                    )
                    bs = BallotStudy.create(code=f"bench-ballots-{env.tag}", topics=ballot_topics)
                    _log(f"submit path: {args.clients} clients, {http_seconds:.0f} s per run")
                    result["submit"] = workloads.submit_path(
                        server=server, bs=bs, clients=args.clients, seconds=http_seconds, repeat=args.repeat, log=_log
                    )
                if "public" in only:
                    direction = Direction.objects.filter(status="published").order_by("order").first()
                    topic = (
                        Topic.objects.filter(code="quantum-computing").first() or Topic.objects.order_by("code").first()
                    )
                    pages: list[tuple[str, str]] = [
                        ("Home", "/"),
                        ("Catalog browse (a direction)", f"/directions/{direction.slug if direction else 'x'}/"),
                        ("Search", "/topics/?q=quantum"),
                        ("Topic", f"/topics/{topic.code if topic else 'x'}/"),
                    ]
                    skipped: list[tuple[str, str]] = []
                    for name, path in (
                        ("Edition", f"/editions/{edition_code}/"),
                        ("API topics", "/api/v1/topics/"),
                        ("API edition", f"/api/v1/editions/{edition_code}/"),
                    ):
                        if "edition" in path and edition_code is None:
                            skipped.append((name, edition_note))
                        elif "edition" in path and not workloads.routed(path):
                            skipped.append((name, "this page does not exist in this checkout yet"))
                        else:
                            pages.append((name, path))
                    public_seconds = http_seconds / 2 if args.http_seconds else max(1.0, http_seconds / 2)
                    _log(f"public pages: {args.clients} clients, {public_seconds:.0f} s per page")
                    pub = workloads.public_pages(
                        server=server,
                        pages=pages,
                        clients=args.clients,
                        seconds=public_seconds,
                        repeat=args.repeat,
                        log=_log,
                    )
                    pub["skipped"] = skipped
                    if topic is not None:
                        pub["invalidation"] = workloads.cache_invalidation(server=server, topic_code=topic.code)
                    result["public"] = pub
            finally:
                server.stop()
        if "exchange" in only:
            sizes = {
                "capability": max(200, round(10_000 * s)),
                "demand": max(50, round(2_000 * s)),
                "organisations": max(10, round(500 * s)),
                "publish": max(5, round(1_000 * s)),
            }
            _log(f"exchange: {sizes['capability']:,} capability and {sizes['demand']:,} demand entries")
            result["exchange"] = exchange(**sizes, repeat=args.repeat, log=_log)
        if "matching" in only:  # 6b: a full match recomputation (bench/matching.py)
            from bench.matching import matching_recompute

            n_demand, n_capability = max(50, round(2_000 * s)), max(200, round(10_000 * s))
            _log(f"matching: {n_demand:,} demand × {n_capability:,} capability entries")
            result["matching"] = matching_recompute(
                demand=n_demand, capability=n_capability, repeat=args.repeat, log=_log
            )
        info["load_end"] = load_average()
        result["minutes"] = (time.monotonic() - started) / 60
        notes = ROOT / "bench" / "notes.md"
        if notes.exists():
            result["notes"] = notes.read_text()
        env.workdir.mkdir(
            parents=True, exist_ok=True
        )  # no worker or server made it in a run of --only bootstrap, similarity
        raw = env.workdir / f"results-{env.tag}.json"
        raw.write_text(json.dumps(result, indent=1, default=str))
        args.out.write_text(render(result) + "\n")
        _log(f"report written to {args.out} ({result['minutes']:.1f} minutes); measurements in {raw}")
    finally:
        connections.close_all()
        if not args.keep_db:
            env.database_drop()
        env.redis_cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
