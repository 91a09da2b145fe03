"""Where the benchmark runs: its own PostgreSQL database, Redis database, queue and cache prefix.

The harness, the Celery worker and gunicorn all get the same environment (``BenchEnv.environ``),
so product and baselines share one database, one cache and one set of settings.
"""

from __future__ import annotations

import os
import platform
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class BenchEnv:
    db_name: str = "foresight_bench"
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    redis_url: str = "redis://127.0.0.1:6379/5"
    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    workdir: Path = field(default_factory=lambda: ROOT / "test-results" / "bench")

    @property
    def database_url(self) -> str:
        return f"postgres://{self.pg_user}@{self.pg_host}:{self.pg_port}/{self.db_name}"

    @property
    def queue(self) -> str:
        return f"bench-{self.tag}"

    def environ(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                # Production mode: no SQL logging, no debug pages; plain HTTP on loopback.
                "DJANGO_DEBUG": "0",
                "DJANGO_SECRET_KEY": "bench-" + secrets.token_urlsafe(48),
                "DJANGO_SECURE_SSL_REDIRECT": "0",
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "CELERY_QUEUE": self.queue,
                "CACHE_KEY_PREFIX": self.queue,
                "LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
            }
        )
        return env

    def _admin(self, sql: str) -> None:
        with psycopg.connect(
            host=self.pg_host, port=self.pg_port, user=self.pg_user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql)

    def database_create(self) -> None:
        self.database_drop()
        self._admin(f'CREATE DATABASE "{self.db_name}"')

    def database_drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    def django_setup(self, environ: dict[str, str]) -> None:
        """Bind this process to the bench database and cache (once, before any Django import)."""
        for key in (
            "DJANGO_SETTINGS_MODULE",
            "DATABASE_URL",
            "REDIS_URL",
            "DJANGO_DEBUG",
            "DJANGO_SECRET_KEY",
            "DJANGO_SECURE_SSL_REDIRECT",
            "DJANGO_ALLOWED_HOSTS",
            "CELERY_QUEUE",
            "CACHE_KEY_PREFIX",
            "LOG_LEVEL",
        ):
            os.environ[key] = environ[key]
        django.setup()

    def redis_cleanup(self) -> None:
        """Remove this run's keys (queue, cache) from the bench Redis database; nobody else's."""
        client = redis.Redis.from_url(self.redis_url)
        for pattern in (f"{self.queue}*", f"*{self.queue}*"):
            keys = list(client.scan_iter(match=pattern, count=1000))
            if keys:
                client.delete(*keys)


def machine_info(env: BenchEnv) -> dict[str, Any]:
    mem_kb = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    cpu = ""
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }
    try:
        with psycopg.connect(host=env.pg_host, port=env.pg_port, user=env.pg_user, dbname="postgres") as conn:
            info["postgresql"] = (conn.execute("SHOW server_version").fetchone() or ("?",))[0]
            info["shared_buffers"] = (conn.execute("SHOW shared_buffers").fetchone() or ("?",))[0]
            info["work_mem"] = (conn.execute("SHOW work_mem").fetchone() or ("?",))[0]
    except Exception as exc:  # reported, not fatal: the run fails later with a clearer message
        info["postgresql"] = f"unknown ({exc})"
    try:
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django, gunicorn, celery; print(django.__version__, gunicorn.__version__, celery.__version__)",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        info["django"], info["gunicorn"], info["celery"] = out
    except Exception:
        pass
    return info
