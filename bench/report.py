"""BENCHMARKS.md from the measurements of one run (every figure: median of the repeats, min–max)."""

from __future__ import annotations

import statistics
from typing import Any

AGGREGATION_TARGET = 2.0  # task time ≤ 2 × the SQL query
MEMORY_TARGET_MB = 500.0
SUBMIT_TARGET = 0.25  # ≥ 25 % of the baseline's ballots per second
PUBLIC_TARGET = 0.40  # ≥ 40 % of the constant view's requests per second
REFERENCE_BALLOTS = 10.0  # an open-source survey platform, 20-item ballots through its web form, same class of machine
SIMILARITY_RECALL_FLOOR = 0.90  # recall@3 on the labelled set: the floor tests/core/test_similarity.py holds


def _num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _spread(s: dict[str, float | None], scale: float = 1.0, digits: int = 2, unit: str = "") -> str:
    median, low, high = s.get("median"), s.get("min"), s.get("max")
    if median is None or low is None or high is None:
        return "–"
    med = _num(median * scale, digits)
    lo, hi = _num(low * scale, digits), _num(high * scale, digits)
    return f"{med}{unit} ({lo}–{hi})"


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _task(p: dict[str, Any], timeout: float, unit: str = " s") -> str:
    if p["timed_out"] and p["task"]["median"] is None:
        return f"> {timeout:.0f}{unit or ' s'}, not finished"
    text = _spread(p["task"], unit=unit)
    return text + (f"; a later run > {timeout:.0f} s" if p["timed_out"] else "")


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "**missed**")


def render(r: dict[str, Any]) -> str:
    args = r["args"]
    info = r["machine"]
    lines: list[str] = []
    add = lines.append
    national = args["scale"] >= 1.0
    add("# Benchmarks")
    add("")
    add(
        "The product's own benchmark (SPEC §9, issue “National scale and fault tolerance”): one command builds its data "
        "on PostgreSQL and measures each workload against a baseline measured in the same run, on the same database, "
        "server settings and machine. Re-run it with `make bench` (national scale, 3 repeats) or "
        '`make bench BENCH_ARGS="--scale 0.1 --repeat 2"`; this file is written by the harness (`python -m bench.run`).'
    )
    add("")
    add(f"**This run:** `{r['command']}` on {r['date']}, {r['minutes']:.1f} minutes.")
    if not national:
        add("")
        add(
            f"> **Scale {args['scale']:g} of national, not the national run.** The figures below are for a "
            f"{args['scale']:g} fraction of the national panel; the full run (`make bench`) is pending. "
            "Ratios at small scale are dominated by fixed costs and do not predict the national figures."
        )
    # Only the load before the run tells of other work: the load at its end includes the harness's own clients.
    if (info.get("load_start") or 0) > 1.5:
        add("")
        add(
            f"> **The machine was busy** (1-minute load average {info['load_start']:.2f} at the start, "
            f"{info['load_end']:.2f} at the end, on {info['cores']} cores): other work shared the CPUs, so absolute "
            "figures are pessimistic and noisy; product and baseline were measured alternately to share the noise."
        )
    add("")

    # --- summary ---
    add("## Summary")
    add("")
    add("| workload | figure | product | baseline | ratio | target | verdict |")
    add("|---|---|---|---|---|---|---|")
    agg = r.get("aggregation")
    if agg:
        for p in agg["points"]:
            ratio = _ratio(p["task"]["median"], p["sql"]["median"])
            ok = ratio is not None and ratio <= AGGREGATION_TARGET and not p["timed_out"]
            add(
                f"| 1. aggregation, {p['label']} scale, round {p['round']} ({p['answers']:,} values) | time | "
                f"{_task(p, agg['timeout'])} | {_spread(p['sql'], unit=' s')} | {_num(ratio)}× | ≤ 2× | {_verdict(ok)} |"
            )
        peak = max((p["peak_mb"]["max"] or 0) for p in agg["points"])
        add(
            f"| 1. aggregation | worker peak memory (largest) | {peak:.0f} MB | – | – | < 500 MB | "
            f"{_verdict(peak < MEMORY_TARGET_MB)} |"
        )
        for number in (1, 2):
            b = agg["growth"].get(str(number))
            add(
                f"| 1. aggregation, round {number} | growth exponent of time (1 = linear) | {_num(b)} | "
                f"{_num(agg['growth_sql'].get(str(number)))} (SQL) | – | ≤ 1 | {_verdict(None if b is None else b <= 1.1)} |"
            )
    sub = r.get("submit")
    if sub:
        p, b = sub["product"]["ballots_per_second"], sub["baseline"]["ballots_per_second"]
        ratio = _ratio(p["median"], b["median"])
        add(
            f"| 2. submit path | complete {sub['topics']}-topic ballots per second | {_spread(p)} | {_spread(b)} | "
            f"{_num(ratio)} | ≥ 0.25 | {_verdict(None if ratio is None else ratio >= SUBMIT_TARGET)} |"
        )
        add(
            f"| 2. submit path | autosave p50 / p99 | {_spread(sub['product']['save_p50'], 1000, 0, ' ms')} / "
            f"{_spread(sub['product']['save_p99'], 1000, 0, ' ms')} | {_spread(sub['baseline']['save_p50'], 1000, 0, ' ms')} / "
            f"{_spread(sub['baseline']['save_p99'], 1000, 0, ' ms')} | – | report | – |"
        )
    pub = r.get("public")
    if pub:
        base = pub["rps"][pub["constant"]]["median"]
        for name, path in pub["pages"]:
            ratio = _ratio(pub["rps"][path]["median"], base)
            add(
                f"| 3. {name} `{path}` | requests per second | {_spread(pub['rps'][path], digits=0)} | "
                f"{_spread(pub['rps'][pub['constant']], digits=0)} | {_num(ratio)} | ≥ 0.40 | "
                f"{_verdict(None if ratio is None else ratio >= PUBLIC_TARGET)} |"
            )
        for name, note in pub.get("skipped", []):
            add(f"| 3. {name} | – | skipped | – | – | ≥ 0.40 | {note} |")
    boot = r.get("bootstrap")
    if boot:
        s = boot["seconds"]
        add(
            f"| 4. bootstrap, B = {boot['B']}, {boot['respondents']:,} × {boot['topics']} | time | "
            f"{_spread(s['product'], unit=' s')} | {_spread(s['numpy'], unit=' s')} (numpy) | "
            f"{_num(_ratio(s['product']['median'], s['numpy']['median']))}× | report | – |"
        )
        add(
            f"| 4. bootstrap | peak memory (process) | {_spread(boot['peak_mb']['product'], digits=0, unit=' MB')} | "
            f"{_spread(boot['peak_mb']['numpy'], digits=0, unit=' MB')} | – | report | – |"
        )
    similar = r.get("similarity")
    if similar:
        for corpus, q in similar.get("quality", {}).items():
            p_, k_ = q["product"]["all"], q["keyword"]["all"]
            add(
                f"| 5. similarity, {corpus} ({q['product']['queries']} paraphrases, {q['documents']} entries) | "
                f"recall@3 / MRR | {p_['recall']:.3f} / {p_['mrr']:.3f} | {k_['recall']:.3f} / {k_['mrr']:.3f} "
                f"(keyword search) | – | recall@3 ≥ {SIMILARITY_RECALL_FLOOR:.2f} | "
                f"{_verdict(p_['recall'] >= SIMILARITY_RECALL_FLOOR)} |"
            )
        if not similar.get("quality"):
            add("| 5. similarity, quality | – | skipped | – | – | – | no curated catalog in this run |")
        sp = similar["speed"]
        for kind, label in (("sentence", "a paraphrase"), ("entry", "a whole new entry")):
            t = sp["times"][kind]
            add(
                f"| 5. similarity, {sp['documents']:,} entries | one search for {label}, p50 / p99 | "
                f"{_spread(t['product']['p50'], 1000, 1, ' ms')} / {_spread(t['product']['p99'], 1000, 1, ' ms')} | "
                f"{_spread(t['vectors']['p50'], 1000, 1, ' ms')} / {_spread(t['vectors']['p99'], 1000, 1, ' ms')} "
                f"(sparse product alone) | {_num(_ratio(t['product']['p50']['median'], t['vectors']['p50']['median']))}× | "
                "report | – |"
            )
        add(
            f"| 5. similarity, {sp['documents']:,} entries | index build | {_spread(sp['build'], unit=' s')} | – | – | "
            "report | – |"
        )
    ex = r.get("exchange")
    if ex:
        n = ex["entries"]["capability"] + ex["entries"]["demand"]
        base = ex["times"][ex["constant"]]
        worst = max(ex["pages"], key=lambda page: ex["times"][page[1]]["median"] or 0)
        add(
            f"| 6. exchange, {n:,} entries | slowest page ({worst[0]}), time | "
            f"{_spread(ex['times'][worst[1]], 1000, 0, ' ms')} | {_spread(base, 1000, 1, ' ms')} (constant view) | "
            f"{_num(_ratio(ex['times'][worst[1]]['median'], base['median']), 0)}× | report | – |"
        )
        add(
            f"| 6. exchange, {n:,} entries | SQL statements per page (most) | {max(ex['queries'].values())} | "
            f"{ex['queries'][ex['constant']]} (constant view) | – | fixed (tests/exchange/test_query_budget.py) | – |"
        )
        pb = ex["publish"]
        total = (pb["add"]["median"] or 0) + (pb["publish"]["median"] or 0)
        add(
            f"| 6. exchange | publish a release of {pb['items']:,} entries (add + publish) | "
            f"{_spread(pb['add'], unit=' s')} + {_spread(pb['publish'], unit=' s')} | "
            f"{_spread(pb['baseline'], unit=' s')} (the reads and writes it needs) | "
            f"{_num(_ratio(total, pb['baseline']['median']), 0)}× | report | – |"
        )
    mt = r.get("matching")  # 6b (bench/matching.py)
    if mt:
        for row in matching_rows(mt):
            add(row)
    add("")

    # --- machine ---
    add("## Machine and settings")
    add("")
    add(
        f"- {info['cores']} cores ({info.get('cpu') or 'unknown CPU'}), {info['memory_gib']} GiB memory, Linux {info.get('kernel')}"
    )
    add(
        f"- 1-minute load average: {info['load_start']:.2f} at the start, {info['load_end']:.2f} at the end "
        "(the load generators, PostgreSQL, Redis, gunicorn and the worker all share these cores; other users' work may too)"
    )
    add(
        f"- PostgreSQL {info.get('postgresql')} (shared_buffers {info.get('shared_buffers')}, work_mem {info.get('work_mem')}), "
        f"Redis as broker and cache, Python {info.get('python')}, Django {info.get('django')}, gunicorn {info.get('gunicorn')}, "
        f"Celery {info.get('celery')}"
    )
    db, redis_db = args.get("db", "foresight_bench"), args.get("redis_db", "5")
    add(
        "- Every process runs `bench.settings` (the product's settings plus the baseline URLs under `/bench/`) with "
        f"`DJANGO_DEBUG=0` (production mode: no SQL logging), a database of its own (`{db}`, created and "
        f"dropped by the run), a Redis database of its own (`/{redis_db}`) and a queue and cache prefix of its own."
    )
    add(f"- Repeats: {args['repeat']}; every figure is the median of the repeats with min–max in brackets.")
    add("")

    # --- data ---
    add("## Data")
    add("")
    sim = r.get("simulate")
    if agg:
        design = r["design"]
        add(
            f"National scale is {design['respondents']:,} respondents answering ~40 of 700 topics with the default "
            "question set of 12 questions, two rounds (80 % of the panel answers round 2, on the topics that did not "
            f"reach consensus). This run: {args['scale']:g} × the respondents at its largest point (1/1), 1/3 and 1/10 "
            f"of that at the others, each answering ~{design['per']} of {design['topics']} topics (the topics of "
            "three areas). The catalog is the curated one "
            "(`load_catalog`) plus generated topics under its directions. The study, its questions and rounds, "
            "opening, closing and aggregating go through the product's services; the panel and its answers are "
            "inserted with `COPY` by `bench/data.py`, drawn by the simulation's own answer generator "
            "(`simulation.answers_draw`) and coded by the product's `parse_answer`. Each stored answer is one value, so a "
            "round has 12 values per response (the SPEC's estimate of ≈ 1.6 million values per round counted 8)."
        )
        add("")
        add("| scale | round | respondents | responses | answer values | topics | build (bulk) |")
        add("|---|---|---|---|---|---|---|")
        for p in agg["points"]:
            add(
                f"| {p['label']} | {p['round']} | {p['respondents']:,} | {p['responses']:,} | {p['answers']:,} | "
                f"{p['topics']} | {p['build_seconds']:.1f} s |"
            )
        add("")
    if sim:
        add(
            f"`simulate_study` itself (every answer through `response_save`, one topic at a time), measured in this "
            f"run: {sim['experts']} experts, {sim['responses']:,} responses, {sim['answers']:,} values in "
            f"{sim['seconds']:.1f} s = **{sim['answers_per_second']:,.0f} values/s** (including its round's "
            f"aggregation). At that rate the national study's {sim['national_values']:,} values (two rounds) would "
            f"take about **{sim['national_hours']:.1f} hours**, which is why the benchmark inserts them in bulk; "
            "the aggregation measured is the product's real task either way."
        )
        add("")

    # --- 1 ---
    if agg:
        add("## 1. Round aggregation")
        add("")
        add(
            "**Product:** the Celery task `delphi.round_aggregate` run by a real worker (`celery -A foresight worker "
            "--pool solo`, bound to the bench database): the harness closes the round (`round_close`, which queues the "
            "task after commit) and times until the round's status is `aggregated`. Repeats reset the round to closed "
            "with no statistics and queue the task again. The task computes every figure of SPEC §5 for every topic × "
            "question × group (all, high expertise, each sector): distributions, quartiles, top-2/bottom-2 shares, "
            "r_wg, indices, consensus, round-2 stability (Wilcoxon against round 1) and Kendall's W, and writes them as "
            "`RoundStat` rows. **Peak memory** is the worker process's `VmHWM`, reset before each task through "
            "`/proc/<pid>/clear_refs`; *idle* is its resident size before the task."
        )
        add("")
        add(
            "**Baseline:** one hand-written SQL query over the same answers: per topic × question, n, mean, SD and "
            "quartiles with `percentile_cont` (numeric questions, can't-judge excluded), fetched by the harness:"
        )
        add("")
        add("```sql")
        add(agg["sql"].strip())
        add("```")
        add("")
        add(
            "| scale | round | values | task (s) | SQL (s) | ratio | worker peak (MB) | idle (MB) | s per million values | "
            "RoundStat rows |"
        )
        add("|---|---|---|---|---|---|---|---|---|---|")
        for p in agg["points"]:
            ratio = _ratio(p["task"]["median"], p["sql"]["median"])
            per = p["task"]["median"] / p["answers"] * 1e6 if p["answers"] and p["task"]["median"] else None
            add(
                f"| {p['label']} | {p['round']} | {p['answers']:,} | {_task(p, agg['timeout'], '')} | {_spread(p['sql'])} | "
                f"{_num(ratio)}× | {_spread(p['peak_mb'], digits=0)} | {_spread(p['idle_mb'], digits=0)} | {_num(per)} | "
                f"{p['stats_rows']:,} |"
            )
        add("")
        add(
            "Growth: time ∝ values^b between the smallest and the largest point; "
            + "; ".join(
                f"round {n}: task b = {_num(agg['growth'].get(str(n)))}, SQL b = {_num(agg['growth_sql'].get(str(n)))}"
                for n in (1, 2)
            )
            + "."
        )
        checks = all(p["checksums_identical"] for p in agg["points"])
        agreed = [p["agreement"] for p in agg["points"] if p["agreement"]]
        bad = sum(a["mismatched"] for a in agreed)
        worst = max((a["max_abs_diff"] for a in agreed), default=0.0)
        if agg.get("wilcoxon"):
            add("")
            add(
                "Round 2's stability figures call `foresight.stats.wilcoxon` once per topic × scale question. Its "
                "time for one cell, by the number of paired answers (respondents of the topic in both rounds, half of "
                "them changed), measured in this run in the harness process — a guard against SciPy's 2ⁿ permutation "
                "path for tied samples of up to 13 pairs, which cost seconds per cell before commit b8da608:"
            )
            add("")
            add("| paired answers | " + " | ".join(str(w["pairs"]) for w in agg["wilcoxon"]) + " |")
            add("|---|" + "---|" * len(agg["wilcoxon"]))
            add("| time (ms) | " + " | ".join(_num(w["ms"], 1) for w in agg["wilcoxon"]) + " |")
        late = [f"{p['label']} round {p['round']}" for p in agg["points"] if p["timed_out"]]
        if late:
            add("")
            add(
                f"**Not finished within the task's time limit ({agg['timeout']:.0f} s):** {', '.join(late)}. In "
                "production a prefork worker kills such a task at its hard limit and the broker delivers it again, "
                "so that round would never be aggregated. The harness stopped the worker and went on."
            )
        add("")
        add(
            f"Checks: every repeat of a round gave the identical checksum: {'yes' if checks else '**no**'}. The task's "
            f"stored n, mean, SD and quartiles agree with the SQL query in every numeric cell: "
            f"{'yes' if bad == 0 else f'**no, {bad} cells differ**'} (largest difference {worst:.1e}). "
            f"Task runtimes the worker logged: {', '.join(f'{t:.2f}' for t in agg['worker_reported']) or '–'} s."
        )
        add("")

    # --- 2 ---
    if sub:
        add("## 2. Expert submit path")
        add("")
        add(
            f"**Product:** {sub['clients']} concurrent clients (separate processes) each complete ballots one after "
            f"another for {sub['seconds']:.0f} s, through gunicorn exactly as the browser does: the magic link's "
            f"page (`GET /delphi/<study>/join/?t=…`) and its button (`POST …/join/`, a session), the study page (CSRF cookie and token), consent "
            f"(`POST …/consent/`), then for each of {sub['topics']} topics the topic page (`GET`) and the autosave "
            "`POST …/round/1/<topic>/save/` with the whole form and `HX-Request: true`, the final "
            "`POST …/round/1/submit/` and the overview: "
            f"{5 + 2 * sub['topics'] + 2} requests per ballot. Each ballot is a new panel member with an invitation "
            "token and its own client address on the loopback network (the magic link is rate-limited per address). "
            "A real browser autosaves on every change (up to 12 posts per topic); one post of the complete form per "
            "topic is the least a complete ballot costs."
        )
        add("")
        add(
            f"**Baseline:** a minimal Django view (`bench/views.py`, csrf-exempt, no session) that upserts the same "
            f"`Response` and `Answer` rows for one topic in one transaction (two `INSERT … ON CONFLICT` statements) "
            f"from the same form body; a baseline ballot is its {sub['topics']} posts. Same gunicorn, same settings, "
            f"same clients."
        )
        add("")
        add(
            f"gunicorn: `{r['gunicorn']}`. Runs are bounded by time and by a pool of ballots prepared in advance "
            "(product / baseline alternate in each repeat)."
        )
        add("")
        add("| figure | product | baseline | ratio |")
        add("|---|---|---|---|")
        pr, ba = sub["product"], sub["baseline"]
        add(
            f"| complete ballots per second | {_spread(pr['ballots_per_second'])} | {_spread(ba['ballots_per_second'])} | "
            f"{_num(_ratio(pr['ballots_per_second']['median'], ba['ballots_per_second']['median']))} |"
        )
        add(
            f"| requests per second | {_spread(pr['requests_per_second'], digits=0)} | {_spread(ba['requests_per_second'], digits=0)} | – |"
        )
        for key, label in (
            ("save", "autosave / upsert latency"),
            ("ballot", "complete ballot latency"),
            ("request", "any request latency"),
        ):
            scale = 1000.0 if key != "ballot" else 1.0
            unit = " ms" if key != "ballot" else " s"
            digits = 0 if key != "ballot" else 2
            add(
                f"| {label} p50 | {_spread(pr[key + '_p50'], scale, digits, unit)} | "
                f"{_spread(ba[key + '_p50'], scale, digits, unit)} | – |"
            )
            add(
                f"| {label} p99 | {_spread(pr[key + '_p99'], scale, digits, unit)} | "
                f"{_spread(ba[key + '_p99'], scale, digits, unit)} | – |"
            )
        add(
            f"| ballots completed per run | {_spread(pr['ballots'], digits=0)} | {_spread(ba['ballots'], digits=0)} | – |"
        )
        add("")
        kinds = sorted({k for r_ in sub["runs"]["product"] for k in r_.get("by_kind", {})})
        if kinds:
            add("Product requests by kind (median over the repeats of each run's p50 / p99, in ms):")
            add("")
            add("| request | " + " | ".join(f"`{k}`" for k in kinds) + " |")
            add("|---|" + "---|" * len(kinds))
            for pct in ("p50", "p99"):
                cells = []
                for k in kinds:
                    values = [r_["by_kind"][k][pct] for r_ in sub["runs"]["product"] if k in r_.get("by_kind", {})]
                    values = [v for v in values if v is not None]
                    cells.append(_num(statistics.median(values) * 1000, 0) if values else "–")
                add(f"| {pct} | " + " | ".join(cells) + " |")
            add("")
        q = sub.get("queries")
        if q:
            add(
                f"SQL statements per request (Django's test client, in process; transaction statements included): "
                f"topic page {q['topic_page']}, autosave {q['save']}, baseline upsert {q['baseline']}."
            )
            add("")
        add(
            f"For scale: a widely used open-source survey platform, measured on this class of machine, took about "
            f"{REFERENCE_BALLOTS:.0f} complete 20-item ballots per second through its web form (not measured here); "
            f"the product's median is {_num(_ratio(pr['ballots_per_second']['median'], REFERENCE_BALLOTS))}× that."
        )
        add("")
        add(
            f"Checks: failed ballots {sub['failed']}"
            + (f" ({'; '.join(sub['failures'])})" if sub["failures"] else "")
            + f"; every completed ballot left exactly {sub['topics']} × 12 answers in the database: "
            f"{'yes' if sub['rows_ok'] else '**no**'}; every product ballot is marked submitted: "
            f"{'yes' if sub['completions_ok'] else '**no**'}."
        )
        add("")

    # --- 3 ---
    if pub:
        add("## 3. Public pages and API")
        add("")
        add(
            f"{pub['clients']} concurrent clients `GET` one address for {pub['seconds']:.0f} s each, anonymous, "
            "`Accept-Language: en` and `Accept-Encoding: gzip` (as browsers send them), after three warm-up requests (the public page cache is warm, as it is for every "
            "visitor after the first). **Baseline:** `/bench/constant/`, a Django view returning a constant, through "
            f"the same gunicorn (`{r['gunicorn']}`) and middleware."
        )
        add("")
        add("| page | address | requests/s | p50 (ms) | p99 (ms) | bytes sent | ratio to constant | target ≥ 0.40 |")
        add("|---|---|---|---|---|---|---|---|")
        base = pub["rps"][pub["constant"]]["median"]
        sizes = pub.get("bytes", {})

        def size(path: str) -> str:
            return f"{sizes[path]:,}" if path in sizes else "–"

        add(
            f"| constant view (baseline) | `{pub['constant']}` | {_spread(pub['rps'][pub['constant']], digits=0)} | "
            f"{_spread(pub['p50'][pub['constant']], 1000, 1)} | {_spread(pub['p99'][pub['constant']], 1000, 1)} | "
            f"{size(pub['constant'])} | 1 | – |"
        )
        for name, path in pub["pages"]:
            ratio = _ratio(pub["rps"][path]["median"], base)
            add(
                f"| {name} | `{path}` | {_spread(pub['rps'][path], digits=0)} | {_spread(pub['p50'][path], 1000, 1)} | "
                f"{_spread(pub['p99'][path], 1000, 1)} | {size(path)} | {_num(ratio)} | "
                f"{_verdict(None if ratio is None else ratio >= PUBLIC_TARGET)} |"
            )
        for name, note in pub.get("skipped", []):
            add(f"| {name} | – | skipped | – | – | – | – | {note} |")
        add("")
        bad = {p: n for p, n in pub["non_200"].items() if n}
        add(f"Non-200 answers or connection errors during the runs: {bad or 'none'}.")
        inv = pub.get("invalidation")
        if inv:
            add(
                f"Cache invalidation: after a curator-style change (a topic renamed with `Topic.save()`), the cached "
                f"`{inv['page']}` showed the new name on the next request: {'yes' if inv['fresh_after_change'] else '**no**'}; "
                f"and the old one again after the change was undone: {'yes' if inv['fresh_after_revert'] else '**no**'}."
            )
        add("")

    # --- 4 ---
    if boot:
        add("## 4. Bootstrap of rank intervals")
        add("")
        add(
            f"{boot['respondents']:,} respondents × {boot['topics']} topics, ~{boot['per']} answered topics each "
            f"({boot['values']:,} values in importance, competitiveness and year), B = {boot['B']}, the default weights "
            "of a scoring run. Arrays are built in memory first (not timed); each measurement is a fresh process "
            "(`python -m bench.bootstrap`), its peak is `VmHWM` reset just before the call."
        )
        add("")
        add(
            "**Product:** `foresight.priorities.scoring.bootstrap_ranks` with the criteria of a scoring run. "
            "**Baseline:** the same resampling written directly in numpy (long arrays, `bincount` per sample, a "
            "cumulative-count search for the median year), with the same draws."
        )
        add("")
        add("| implementation | time (s) | process peak (MB) | above the inputs (MB) |")
        add("|---|---|---|---|")
        for impl, label in (("product", "product `bootstrap_ranks`"), ("numpy", "plain numpy")):
            add(
                f"| {label} | {_spread(boot['seconds'][impl])} | {_spread(boot['peak_mb'][impl], digits=0)} | "
                f"{_spread(boot['extra_mb'][impl], digits=0)} |"
            )
        add("")
        add(
            f"Ratio product / numpy: {_num(_ratio(boot['seconds']['product']['median'], boot['seconds']['numpy']['median']))}×. "
            f"Both give the same rank intervals and P(top-k): largest difference {boot['max_abs_diff']:.1e}."
        )
        add("")

    # --- 5 ---
    if similar:
        add("## 5. Similarity service")
        add("")
        add(
            "`foresight.core.similarity`: TF-IDF over character n-grams (`char_wb` 2–4-grams and Chinese single "
            "characters and pairs, NFKC and lower case, sublinear tf), cosine similarity; the index is kept in "
            "each process and rebuilt when its corpus's version changes. It answers "
            "`/api/v1/topics/similar/` and `/api/v1/scenarios/similar/`."
        )
        add("")
        quality = similar.get("quality")
        if quality:
            add(
                "**Quality:** the labelled paraphrases of `tests/data/similarity_pairs.yaml` (written for the test "
                "in a proposer's words, not copied from the catalog; half Chinese, a few mixing both languages), "
                "each with the code it should find, against the product's corpora of the curated catalog (public "
                "topics, published scenarios) as the API ranks them; recall@3 is the share found among the first "
                "three, MRR the mean of 1 / rank over the first 10 (0 beyond). **Baseline:** the keyword search of "
                "the list pages on the same queries (`/topics/?q=`: PostgreSQL full-text search, Chinese matched as "
                "substrings; `/scenarios/?q=`: every word a substring), in the order those pages show."
            )
            add("")
            add(
                "| corpus | entries | queries | recall@3 | MRR | English | Chinese | mixed | keyword search recall@3 | "
                "keyword search MRR |"
            )
            add("|---|---|---|---|---|---|---|---|---|---|")
            for corpus, q in quality.items():
                pr, kw = q["product"], q["keyword"]

                def lang(key: str, pr: dict[str, Any] = pr) -> str:
                    got = pr.get(key)
                    return f"{got['recall']:.3f} / {got['mrr']:.3f} ({got['n']})" if got else "–"

                add(
                    f"| {corpus} | {q['documents']} | {pr['queries']} | {pr['all']['recall']:.3f} | {pr['all']['mrr']:.3f} | "
                    f"{lang('en')} | {lang('zh')} | {lang('mixed')} | {kw['all']['recall']:.3f} | {kw['all']['mrr']:.3f} |"
                )
            add("")
            add("English, Chinese, mixed: recall@3 / MRR (queries). Not in the first three:")
            add("")
            for corpus, q in quality.items():
                for miss in q["misses"]:
                    add(
                        f"- {corpus}: “{miss['query']}” → expected `{miss['expected']}`, got {', '.join(f'`{c}`' for c in miss['top'])}"
                    )
            add("")
        sp = similar["speed"]
        add(
            f"**Speed:** one index of {sp['entries']:,} generated bilingual entries (a third English, a third "
            "Chinese, a third both; two to five template sentences each: who, what they seek or offer, for what "
            f"use, where, on what terms; {sp['mean_chars']:.0f} characters on average)"
            + (
                f" and the {sp['documents'] - sp['entries']} curated topics and scenarios"
                if sp["documents"] > sp["entries"]
                else ""
            )
            + f", built by the product's `Index` once per repeat; {sp['features']:,} n-gram features, document vectors "
            f"{sp['matrix_mb']:.0f} MB (float32, sparse; the vocabulary comes on top). Each query is searched once "
            f"for the first 10, timed alone, in the harness process: the {sp['queries']['sentence']} labelled "
            f"paraphrases ({sp['query_chars']['sentence']:.0f} characters on average), and {sp['queries']['entry']} "
            f"new generated entries ({sp['query_chars']['entry']:.0f} characters), as a submission is checked for "
            "near-duplicates. **Baselines**, alternating with the product: the same sparse product on query vectors "
            "computed beforehand (what any TF-IDF search must do; the product adds vectorising the query, ranking "
            "and rounding), and a substring scan of every entry's text (reading each entry once)."
        )
        add("")
        add("| query | product p50 (ms) | p99 (ms) | sparse product alone p50 | p99 | substring scan p50 | p99 |")
        add("|---|---|---|---|---|---|---|")
        for kind, label in (("sentence", "a paraphrase"), ("entry", "a whole new entry")):
            t = sp["times"][kind]
            add(
                f"| {label} | "
                + " | ".join(
                    _spread(t[impl][pct], 1000, 2)
                    for impl in ("product", "vectors", "substring")
                    for pct in ("p50", "p99")
                )
                + " |"
            )
        add("")
        add(
            f"Index build ({sp['documents']:,} entries): {_spread(sp['build'], unit=' s')}; the harness process grew "
            f"by {sp['rss_mb']:.0f} MB with the first index (vectors and vocabulary), in every process that searches "
            "this corpus."
        )
        crowded = sp.get("crowded")
        if crowded:
            add(
                f"The n-gram weights of a large corpus: in this index of {sp['documents']:,} entries, the labelled "
                "queries ranked among the curated entries of their corpus only (the generated ones are on the same "
                "themes and may rightly rank above them) give "
                + "; ".join(f"{c}: recall@3 {v['recall']:.3f}, MRR {v['mrr']:.3f}" for c, v in crowded.items())
                + " — against the figures above with the curated catalog alone."
            )
        add("")

    # --- 6 ---
    if ex:
        entries = ex["entries"]
        gen = ex["generation"]
        add("## 6. Scenario exchange at scale")
        add("")
        add(
            f"`manage.py generate_exchange` (`scenarios.exchange.generate`, seed 1): {entries['organisations']:,} "
            f"organisations, {entries['capability']:,} capability and {entries['demand']:,} demand entries in bulk, "
            "the accepted ones published through the release services, in "
            f"{gen['seconds']:.1f} s ("
            + ", ".join(f"{phase} {sec:.1f} s" for phase, sec in gen["phases"].items())
            + "; "
            + "; ".join(
                f"release {rel['code']} of {rel['items']:,} entries: release_add_many {rel['add_seconds']:.1f} s, "
                f"release_publish {rel['publish_seconds']:.1f} s"
                for rel in gen["releases"]
            )
            + "). States: "
            + ", ".join(f"{st} {c:,}" for st, c in gen["statuses"].items() if c)
            + "."
        )
        add("")
        add(
            "Each page requested in process (Django's test client, cache emptied first: the cost of rendering), "
            "alternately with the constant view; time as median (min–max) of the repeats, SQL statements of one request."
        )
        add("")
        add("| page | path | time | SQL statements | bytes |")
        add("|---|---|---|---|---|")
        add(
            f"| constant view (baseline) | `{ex['constant']}` | {_spread(ex['times'][ex['constant']], 1000, 1, ' ms')} | "
            f"{ex['queries'][ex['constant']]} | {ex['bytes'][ex['constant']]:,} |"
        )
        for name, path in ex["pages"]:
            add(
                f"| {name} | `{path}` | {_spread(ex['times'][path], 1000, 0, ' ms')} | {ex['queries'][path]} | "
                f"{ex['bytes'][path]:,} |"
            )
        add("")
        pb = ex["publish"]
        add(
            f"**Publishing a release of {pb['items']:,} accepted entries**: "
            f"the draft and `release_add_many` of {pb['items']:,} {_spread(pb['add'], unit=' s')}, then `release_publish` "
            f"{_spread(pb['publish'], unit=' s')} in {pb['publish_queries']:,} SQL statements. Baseline, the reads and "
            f"writes publishing needs at least (entries, organisations and topic links in two queries, the snapshots "
            f"and fingerprint, two updates; rolled back): {_spread(pb['baseline'], unit=' s')}."
        )
        add("")

    # --- 6b: matching (bench/matching.py) ---
    mt = r.get("matching")
    if mt:
        add(matching_section(mt))
        add("")

    notes = r.get("notes")
    if notes:
        add(notes.strip())
        add("")
    return "\n".join(lines)


def matching_section(mt: dict[str, Any]) -> str:
    """Section 6's paragraph on a full match recomputation (bench/matching.py)."""
    t, mib = mt["times"], 2**20
    return (
        f"**Full match recomputation, {mt['demand']:,} demand × {mt['capability']:,} capability entries** "
        f"(`scenarios.exchange.matching`, entries composed by `generate_exchange`'s composer, seed 1; "
        f"{mt['features']:,} text features, {mt['topics']:,} topics; median (min–max) of the repeats): "
        f"prepare the arrays (one TF-IDF space, topic vectors) {_spread(t['prepare'], unit=' s')}, "
        f"score every pair in blocks of {mt['block']} demand entries and keep each demand's top {mt['demand_top']} "
        f"and each capability's top {mt['capability_top']} {_spread(t['score'], unit=' s')}, build the "
        f"{mt['matches']:,} `Match` rows with their reasons {_spread(t['rows'], unit=' s')}, write them "
        f"(rolled back) {_spread(t['write'], unit=' s')}; peak memory of the scoring "
        f"{mt['peak']['product'] / mib:,.0f} MiB. Baseline, the same scoring in plain numpy/scipy with every "
        f"component as a full matrix and full sorts: {_spread(t['baseline'], unit=' s')}, peak "
        f"{mt['peak']['baseline'] / mib:,.0f} MiB; both keep the same pairs with the same scores (checked every run)."
    )


def matching_rows(mt: dict[str, Any]) -> list[str]:
    """The summary table's rows of a full match recomputation."""
    t, mib = mt["times"], 2**20
    size = f"{mt['demand']:,} × {mt['capability']:,}"
    return [
        f"| 6. matching, {size} entries | full recomputation: score every pair, keep the top lists | "
        f"{_spread(t['score'], unit=' s')} | {_spread(t['baseline'], unit=' s')} (plain numpy/scipy, full matrices) | "
        f"{_num(_ratio(t['score']['median'], t['baseline']['median']), 2)}× | report | – |",
        f"| 6. matching, {size} entries | peak memory of the scoring | {mt['peak']['product'] / mib:,.0f} MiB | "
        f"{mt['peak']['baseline'] / mib:,.0f} MiB (plain numpy/scipy) | "
        f"{_num(_ratio(mt['peak']['product'], mt['peak']['baseline']), 2)}× | report | – |",
        f"| 6. matching, {size} entries | whole recomputation (prepare + score + rows + write) | "
        f"{_num(sum(t[k]['median'] for k in ('prepare', 'score', 'rows', 'write')), 1)} s | – | – | report | – |",
    ]
