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


@pytest.fixture(autouse=True)
def _isolated_cache() -> Iterator[None]:
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def catalog(db: Any) -> dict[str, Any]:
    """The curated catalog, loaded through the real command."""
    from django.core.management import call_command

    call_command("load_catalog", verbosity=0)
    from foresight.catalog.models import Topic

    return {"topics": Topic.objects.count()}


@pytest.fixture
def transactional_catalog(transactional_db: Any) -> dict[str, Any]:
    from django.core.management import call_command

    call_command("load_catalog", verbosity=0)
    from foresight.catalog.models import Topic

    return {"topics": Topic.objects.count()}


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
            "CACHE_KEY_PREFIX": "foresight",
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
