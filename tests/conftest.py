"""Test-suite plumbing: real PostgreSQL and Redis, a real Celery worker process, real Chromium.

Nothing is skipped: a missing service fails the run with a clear message, and a run that
skipped anything (or ran no test) fails too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM is still used synchronously.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise pytest.UsageError(
            "The test suite runs on PostgreSQL: set DATABASE_URL (make test does, with "
            "postgres://postgres@127.0.0.1:5432/foresight by default)."
        )
    if not os.environ.get("REDIS_URL"):
        raise pytest.UsageError("The test suite needs Redis: set REDIS_URL (make test does).")
    # Test users' passwords need no key stretching (Django's advice for test suites); logins still run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:  # parallel processes (make test-fast) share Redis: each keeps to keys of its own
        settings.CACHES["default"]["KEY_PREFIX"] = f"{settings.CACHES['default'].get('KEY_PREFIX', '')}-{worker}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    """The test database, without waiting for each commit to reach the disk (a crash may lose the last
    commits of a test run, which does not matter; the fault suite runs its own PostgreSQL, untouched)."""
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        name = connection.settings_dict["NAME"]
        cursor.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')  # new connections: the worker
        cursor.execute("SET synchronous_commit TO off")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the fault suite, and check that every test that starts a worker or a browser says so, so
    that ``make test-fast`` (``-m "not browser and not worker and not faults and not sweep"``) never starts one."""
    needs = {"worker": {"celery_worker_process"}, "browser": {"browser", "page"}}
    for item in items:
        if item.nodeid.startswith("tests/faults/"):
            item.add_marker(pytest.mark.faults)
        fixtures = set(getattr(item, "fixturenames", ()))
        for marker, names in needs.items():
            if fixtures & names and item.get_closest_marker(marker) is None:
                raise pytest.UsageError(f"{item.nodeid} uses {sorted(fixtures & names)}: mark it @pytest.mark.{marker}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = len(reporter.stats.get("skipped", []))
    if skipped and session.exitstatus == 0:
        reporter.write_line(f"FAILED: {skipped} test(s) skipped; a skipped test hides a broken install.", red=True)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """A request to /zh-hans/ leaves Chinese active in the thread; every test starts in English."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


def cache_clear() -> None:
    """Empty the cache of this test process: only its own keys, so a parallel process keeps its own."""
    from django.conf import settings
    from django.core.cache import cache

    config = settings.CACHES["default"]
    if not config["BACKEND"].endswith("RedisCache"):
        cache.clear()
        return
    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    keys = list(client.scan_iter(match=f"{config.get('KEY_PREFIX', '')}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _isolated_cache() -> Iterator[None]:
    from foresight.core.cache import breaker

    breaker.reset()  # a cache error in an earlier test does not make this one skip the cache
    cache_clear()
    yield
    cache_clear()
    breaker.reset()


# --- The curated catalog ----------------------------------------------------------------------------
#
# ``load_catalog`` validates and writes every direction, area, topic, source and scenario with its
# history (3-4 s). It runs once per test session, through the real command, into the test database;
# the rows it wrote are kept in stash tables (``_snapshot_<table>``, which Django neither knows nor
# flushes) and each test that asks for the catalog gets them back with one INSERT ... SELECT per table.
# The only rows outside the catalog they point to are content types, which a transactional test's
# flush recreates under new ids: those references are stored by natural key and mapped back.

CONTENT_TYPES = "django_content_type"


def _table_counts(cursor: Any, tables: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
    return counts


@pytest.fixture(scope="session")
def catalog_snapshot(django_db_setup: Any, django_db_blocker: Any) -> dict[str, list[str]]:
    """Load the catalog once through the real command; stash what it wrote; leave the tables empty.

    Returns each stashed table with its columns that refer to a content type."""
    from django.core.management import call_command
    from django.db import connection, transaction

    with django_db_blocker.unblock():
        tables = [t for t in connection.introspection.table_names() if not t.startswith("_snapshot_")]
        with connection.cursor() as cursor:
            before = _table_counts(cursor, tables)
            with transaction.atomic():
                call_command("load_catalog", verbosity=0)
                after = _table_counts(cursor, tables)
                written = [t for t in tables if after[t] != before[t]]
                unexpected = [t for t in written if before[t]]
                assert not unexpected, f"load_catalog wrote into tables that were not empty: {unexpected}"
                stashed: dict[str, list[str]] = {}
                for table in written:
                    relations = connection.introspection.get_relations(cursor, table)
                    outside = {c: target for c, (_, target) in relations.items() if target not in written}
                    for column, target in outside.items():
                        if target != CONTENT_TYPES:  # e.g. the history's user: none when the command writes
                            cursor.execute(f'SELECT count("{column}") FROM "{table}"')
                            assert not cursor.fetchone()[0], f"{table}.{column} refers to rows outside the catalog"
                    stashed[table] = sorted(c for c, target in outside.items() if target == CONTENT_TYPES)
                    cursor.execute(f'DROP TABLE IF EXISTS "_snapshot_{table}"')
                    cursor.execute(f'CREATE TABLE "_snapshot_{table}" AS SELECT * FROM "{table}"')
                cursor.execute(f'DROP TABLE IF EXISTS "_snapshot_{CONTENT_TYPES}"')
                cursor.execute(f'CREATE TABLE "_snapshot_{CONTENT_TYPES}" AS SELECT * FROM "{CONTENT_TYPES}"')
                for table in written:
                    cursor.execute(f'DELETE FROM "{table}"')
    return stashed


def _catalog_restore(stashed: dict[str, list[str]]) -> dict[str, Any]:
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from foresight.catalog.models import Topic

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table, ct_columns in stashed.items():
            cursor.execute(f'INSERT INTO "{table}" SELECT * FROM "_snapshot_{table}"')
            for column in ct_columns:  # the content type of the same app label and model, under today's id
                cursor.execute(
                    f'UPDATE "{table}" AS t SET "{column}" = cur.id '
                    f'FROM "_snapshot_{CONTENT_TYPES}" AS old, "{CONTENT_TYPES}" AS cur '
                    f'WHERE t."{column}" = old.id AND cur.app_label = old.app_label AND cur.model = old.model '
                    f"AND cur.id <> old.id"
                )
        models = [m for m in apps.get_models(include_auto_created=True) if m._meta.db_table in stashed]
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
    return {"topics": Topic.objects.count()}


@pytest.fixture
def catalog(db: Any, catalog_snapshot: dict[str, list[str]]) -> dict[str, Any]:
    """The curated catalog as ``load_catalog`` writes it (loaded once per run, restored per test)."""
    return _catalog_restore(catalog_snapshot)


@pytest.fixture
def transactional_catalog(transactional_db: Any, catalog_snapshot: dict[str, list[str]]) -> dict[str, Any]:
    return _catalog_restore(catalog_snapshot)


# --- Celery worker -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, str]]:
    """A real ``celery worker`` process bound to the test database and a queue of its own."""
    from django.conf import settings

    from foresight.celery import app

    queue = f"foresight-test-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_QUEUE": queue,
            "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
            "DJANGO_SETTINGS_MODULE": "foresight.settings",
        }
    )
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    log = ROOT / "test-results" / "celery-worker.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [celery, "-A", "foresight", "worker", "-Q", queue, "-c", "2", "--loglevel", "INFO", "-n", f"{queue}@%h"],
            cwd=ROOT,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"celery worker exited with {proc.returncode}; see {log}")
            replies = app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=1.0)
            if replies:
                break
        else:
            raise RuntimeError(f"celery worker did not answer a ping within 60 s; see {log}")
        yield {"queue": queue, "log": str(log)}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


# --- Browser ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (make test does)")
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait for their condition as long as actions do: on a loaded 2-core machine an htmx
    # autosave can take longer than Playwright's default 5 s to come back.
    expect.set_options(timeout=15_000)
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-GB")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield pg
    context.close()
    assert not errors, f"browser errors: {errors}"
