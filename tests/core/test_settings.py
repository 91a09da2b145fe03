"""One settings module, two modes, and a production mode that passes check --deploy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'eager': s.CELERY_TASK_ALWAYS_EAGER, "
    "'cache': s.CACHES['default']['BACKEND'], 'email': s.EMAIL_BACKEND, 'broker': s.CELERY_BROKER_URL}))"
)


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env["DJANGO_SETTINGS_MODULE"] = "foresight.settings"
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_embedded_default_needs_no_services() -> None:
    result = _run(["-c", PROBE], _env())
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["engine"] == "django.db.backends.sqlite3"
    assert config["eager"] is True
    assert config["cache"].endswith("LocMemCache")
    assert config["email"].endswith("console.EmailBackend")


def test_service_mode_uses_postgres_and_redis() -> None:
    result = _run(["-c", PROBE], _env(DATABASE_URL="postgres://u@db:5432/x", REDIS_URL="redis://r:6379/0"))
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["engine"] == "django.db.backends.postgresql"
    assert config["eager"] is False
    assert config["cache"].endswith("RedisCache")
    assert config["broker"] == "redis://r:6379/0"


def test_production_mode_passes_check_deploy_without_warnings() -> None:
    env = _env(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="x7!k2-" + "a1B2c3D4e5F6g7H8i9J0" * 3,
        DJANGO_ALLOWED_HOSTS="foresight.example.org",
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=os.environ["REDIS_URL"],
    )
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_mode_refuses_a_missing_secret() -> None:
    result = _run(["-c", PROBE], _env(DJANGO_DEBUG="0"))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_a_bad_boolean_fails_loudly() -> None:
    result = _run(["-c", PROBE], _env(DJANGO_DEBUG="maybe"))
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be a boolean" in result.stderr


TIMEOUTS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'cache': s.CACHES['default'].get('OPTIONS', {}), 'broker': s.CELERY_BROKER_TRANSPORT_OPTIONS, "
    "'breaker': s.CACHE_BREAKER_SECONDS}))"
)


def test_redis_has_short_timeouts_that_the_environment_can_change() -> None:
    """A Redis that accepts connections but never answers costs a request half a second, not many."""
    result = _run(["-c", TIMEOUTS], _env(REDIS_URL="redis://r:6379/0"))
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["cache"]["socket_connect_timeout"] == config["cache"]["socket_timeout"] == 0.5
    assert 0 < config["broker"]["socket_timeout"] <= 5 and 0 < config["broker"]["socket_connect_timeout"] <= 2
    assert config["breaker"] > 0
    result = _run(
        ["-c", TIMEOUTS],
        _env(
            REDIS_URL="redis://r:6379/0",
            CACHE_SOCKET_TIMEOUT="0.2",
            CACHE_CONNECT_TIMEOUT="0.3",
            CACHE_BREAKER_SECONDS="7",
        ),
    )
    config = json.loads(result.stdout)
    assert (config["cache"]["socket_timeout"], config["cache"]["socket_connect_timeout"], config["breaker"]) == (
        0.2,
        0.3,
        7,
    )
    assert "must be a number" in _run(["-c", TIMEOUTS], _env(CACHE_SOCKET_TIMEOUT="soon")).stderr
