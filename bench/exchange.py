"""Workload 6: the scenario exchange at its scale (10,000 capability and 2,000 demand entries nationally).

* Generation: ``manage.py generate_exchange``'s own code (``scenarios.exchange.generate``) makes the
  organisations and entries in bulk and publishes the accepted ones through the release services; its time
  per phase is recorded (once: it is the set-up of what follows).
* Pages: each public page of the exchange (scenario list and detail, release list and detail with filters and
  a later page, CSV and JSON downloads, organisation, published entry) and the curators' review queue and
  release workbench, requested in process through Django's test client with the cache emptied first (the
  cost of rendering, not of the cache): time and SQL statements. **Baseline:** the constant view
  (``/bench/constant/``) through the same client, alternately with the pages.
* Publishing a release of 1,000 items (scaled): the draft with its 1,000 entries added in one
  ``release_add_many`` call, then ``release_publish``, timed apart. **Baseline:** what publishing must do at
  least — read the same entries with their organisations and topic links in two queries, build their
  snapshots and the fingerprint, and write the snapshots and the entries' new state in two statements — run
  inside a transaction that is rolled back, alternately with the product.
"""

from __future__ import annotations

import statistics
import time
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from scenarios.exchange import releases
from scenarios.exchange.generate import curator_for_generation, generate, prefix_for
from scenarios.models import Entry, EntryTopic, ReleaseItem, Scenario

SEED = 1
CONSTANT = "/bench/constant/"


def _summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "min": None, "max": None}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


class _Rollback(Exception):
    pass


def _baseline_publish(entry_ids: list[int]) -> float:
    """Read, snapshot, fingerprint and write the entries as publishing must, in a rolled-back transaction."""
    started = time.perf_counter()
    try:
        with transaction.atomic():
            rows = list(
                Entry.objects.filter(pk__in=entry_ids)
                .order_by("code")
                .values(
                    "pk",
                    *releases.SNAPSHOT_FIELDS,
                    "organisation__code",
                    "organisation__name_en",
                    "organisation__name_zh",
                    "organisation__kind",
                )
            )
            topics: dict[int, list[dict[str, str]]] = {}
            for entry_id, code, role in (
                EntryTopic.objects.filter(entry_id__in=entry_ids)
                .order_by("entry_id", "topic__code")
                .values_list("entry_id", "topic__code", "role")
            ):
                topics.setdefault(entry_id, []).append({"code": code, "role": role})
            payload = []
            for row in rows:
                snap = {
                    k: (v.isoformat() if isinstance(v, date) else v)
                    for k, v in row.items()
                    if k in releases.SNAPSHOT_FIELDS
                }
                snap["organisation"] = {k: row[f"organisation__{k}"] for k in ("code", "name_en", "name_zh", "kind")}
                snap["topics"] = topics.get(row["pk"], [])
                payload.append({"change": "new", "snapshot": snap})
            releases.release_fingerprint(payload)
            Entry.objects.filter(pk__in=entry_ids).update(status=Entry.Status.PUBLISHED)
            raise _Rollback
    except _Rollback:
        pass
    return time.perf_counter() - started


def _product_publish(entry_ids: list[int], actor: Any, n: int) -> dict[str, float]:
    started = time.perf_counter()
    release = releases.release_draft_create(actor=actor, title_en=f"Benchmark release {n}")
    releases.release_add_many(
        release=release, entries=Entry.objects.filter(pk__in=entry_ids).only("code").order_by("code"), actor=actor
    )
    added = time.perf_counter()
    statements = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    # Counted as they run: Django's query log keeps only the last 9,000 statements.
    with connection.execute_wrapper(count):
        releases.release_publish(release=release, actor=actor)
    done = time.perf_counter()
    return {"add": added - started, "publish": done - added, "publish_queries": statements}


def _pages(codes: dict[str, str]) -> list[tuple[str, str, str]]:
    r = codes["release"]
    return [
        ("Scenario list", "public", "/scenarios/"),
        ("Scenario list, filtered", "public", "/scenarios/?setting=hospital&list_kind=demand"),
        ("Scenario list, page 2", "public", "/scenarios/?page=2"),
        ("Scenario", "public", f"/scenarios/{codes['scenario']}/"),
        ("Releases", "public", "/releases/"),
        ("Release", "public", f"/releases/{r}/"),
        ("Release, filtered", "public", f"/releases/{r}/?kind=capability&setting={codes['setting']}"),
        ("Release, page 20", "public", f"/releases/{r}/?cpage=20"),
        ("Release CSV", "public", f"/releases/{r}/release.csv"),
        ("Release JSON", "public", f"/releases/{r}/release.json"),
        ("Organisation", "public", f"/organisations/{codes['organisation']}/"),
        ("Published entry", "reader", f"/exchange/entries/{codes['entry']}/"),
        ("Review queue", "curator", "/exchange/review/"),
        ("Release workbench", "curator", f"/exchange/releases/{codes['draft']}/"),
    ]


def exchange(
    *, capability: int, demand: int, organisations: int, publish: int, repeat: int, log: Any
) -> dict[str, Any]:
    held = publish * repeat
    started = time.perf_counter()
    report = generate(
        capability=capability,
        demand=demand,
        organisations=organisations,
        seed=SEED,
        publish=True,
        hold=held + 50,  # 50 more stay accepted for the curators' workbench
        append=True,
    )
    generation = {
        "seconds": time.perf_counter() - started,
        "phases": report.seconds,
        "releases": report.releases,
        "statuses": report.statuses,
    }
    for line in report.lines():
        log(f"  {line}")
    prefix = prefix_for(SEED)
    actor = curator_for_generation()
    accepted = list(
        Entry.objects.filter(code__startswith=prefix, status="accepted").order_by("code").values_list("pk", flat=True)
    )
    batches = [accepted[i * publish : (i + 1) * publish] for i in range(repeat)]
    workbench = releases.release_draft_create(actor=actor, title_en="Benchmark workbench")
    releases.release_add_many(
        release=workbench, entries=Entry.objects.filter(pk__in=accepted[held : held + 25]), actor=actor
    )
    item = (
        ReleaseItem.objects.filter(release__code=report.releases[-1]["code"], entry__kind="demand")
        .select_related("entry", "entry__organisation")
        .order_by("entry__code")
        .first()
    )
    assert item is not None, "no published demand entry"
    codes = {
        "release": report.releases[-1]["code"],
        "draft": workbench.code,
        "organisation": item.entry.organisation.code,
        "entry": item.entry.code,
        "setting": item.snapshot["setting"],
        "scenario": item.entry.scenario.code if item.entry.scenario is not None else "",
    }
    if not codes["scenario"]:  # before published entries become catalog scenarios: a curated one
        codes["scenario"] = (
            Scenario.objects.filter(status="published").order_by("code").values_list("code", flat=True)[0]
        )

    clients = {
        "public": Client(HTTP_HOST="127.0.0.1"),
        "reader": Client(HTTP_HOST="127.0.0.1"),
        "curator": Client(HTTP_HOST="127.0.0.1"),
    }
    clients["curator"].force_login(actor)
    reader, _ = get_user_model().objects.get_or_create(
        username="bench-reader", defaults={"email": "reader@example.org"}
    )
    clients["reader"].force_login(reader)  # the entry page is for signed-in people; anyone reads a published one
    pages = _pages(codes)
    times: dict[str, list[float]] = {path: [] for _, _, path in pages}
    times[CONSTANT] = []
    queries: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for client in clients.values():
        client.get(CONSTANT)  # the first request of a client sets up its handler: not timed
    for i in range(repeat):
        for _name, who, path in [("constant", "public", CONSTANT), *pages]:
            cache.clear()
            with CaptureQueriesContext(connection) as captured:
                t0 = time.perf_counter()
                response = clients[who].get(path)
                times[path].append(time.perf_counter() - t0)
            assert response.status_code == 200, (path, response.status_code)
            queries[path] = len(captured)
            sizes[path] = len(response.content)
        log(f"  pages run {i + 1}: " + ", ".join(f"{name} {times[p][-1] * 1000:.0f} ms" for name, _, p in pages[:6]))

    runs: dict[str, list[Any]] = {"product": [], "baseline": []}
    for i, batch in enumerate(batches):
        runs["baseline"].append(_baseline_publish(batch))
        runs["product"].append(_product_publish(batch, actor, i + 1))
        log(
            f"  publish {len(batch):,}: add {runs['product'][-1]['add']:.1f} s, publish "
            f"{runs['product'][-1]['publish']:.1f} s; baseline {runs['baseline'][-1]:.2f} s"
        )
    return {
        "entries": {"capability": capability, "demand": demand, "organisations": organisations},
        "generation": generation,
        "pages": [(name, path) for name, _, path in pages],
        "constant": CONSTANT,
        "times": {path: _summary(v) for path, v in times.items()},
        "queries": queries,
        "bytes": sizes,
        "publish": {
            "items": publish,
            "add": _summary([r["add"] for r in runs["product"]]),
            "publish": _summary([r["publish"] for r in runs["product"]]),
            "publish_queries": runs["product"][0]["publish_queries"],
            "baseline": _summary(runs["baseline"]),
        },
    }
