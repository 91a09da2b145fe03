"""Foresight settings: one module, two modes, chosen by environment variables.

* Embedded default (no variables): SQLite file, Celery tasks run eagerly in-process,
  local-memory cache, console e-mail. Needs nothing but Python.
* Services (``DATABASE_URL`` and/or ``REDIS_URL``): PostgreSQL, Redis broker and cache,
  a real Celery worker and beat.
* Production (``DJANGO_DEBUG=0``): the secret comes from ``DJANGO_SECRET_KEY``; secure cookies,
  HSTS and SSL redirect are on so that ``manage.py check --deploy`` passes.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def envfloat(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = envbool("DJANGO_DEBUG", True)

if DEBUG:
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-development-key-do-not-use-in-production")
else:
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to a random string of 50+ characters when DJANGO_DEBUG is off"
        )

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "simple_history",
    "csp",
    "allauth",
    "allauth.account",
    "foresight.core",
    "foresight.catalog",
    "foresight.delphi",
    "foresight.priorities",
    "scenarios",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "foresight.core.middleware.RequestGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "foresight.urls"
WSGI_APPLICATION = "foresight.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "foresight.core.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {"timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, broker, Celery ------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHE_TIMEOUT = envint("CACHE_TIMEOUT", 600)
# A Redis that accepts connections but never answers costs a request at most these many seconds per cache
# call; after a cache error the cache is skipped for CACHE_BREAKER_SECONDS (foresight.core.cache.breaker).
CACHE_CONNECT_TIMEOUT = envfloat("CACHE_CONNECT_TIMEOUT", 0.5)
CACHE_SOCKET_TIMEOUT = envfloat("CACHE_SOCKET_TIMEOUT", 0.5)
CACHE_BREAKER_SECONDS = envfloat("CACHE_BREAKER_SECONDS", 10)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "foresight"),
            "TIMEOUT": CACHE_TIMEOUT,
            "OPTIONS": {"socket_connect_timeout": CACHE_CONNECT_TIMEOUT, "socket_timeout": CACHE_SOCKET_TIMEOUT},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "TIMEOUT": CACHE_TIMEOUT}}
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 1800)
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 1740)
# A task whose worker died comes back after this many seconds (Redis visibility timeout).
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, float] = {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "foresight")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Sending a task must not hang a request when Redis is down: fail fast, the sweeps re-queue the work.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# A hung Redis (connections accepted, no answer) must not hold a request either: a send gives up after
# CELERY_BROKER_SOCKET_TIMEOUT (above the 1 s the worker's blocking pop waits for a message).
CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"] = envfloat("CELERY_BROKER_CONNECT_TIMEOUT", 2)
CELERY_BROKER_TRANSPORT_OPTIONS["socket_timeout"] = envfloat("CELERY_BROKER_SOCKET_TIMEOUT", 5)
# The aggregation task's hard time limit (its soft limit is a minute less); a hung run is stopped and re-queued.
AGGREGATION_TIME_LIMIT = envint("AGGREGATION_TIME_LIMIT", 1800)
ROUNDS_SWEEP_GRACE_SECONDS = envint("ROUNDS_SWEEP_GRACE_SECONDS", 60)
CELERY_TIMEZONE = "UTC"
# Periodic jobs, all in one place.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "rounds-tick": {"task": "delphi.rounds_tick", "schedule": envint("ROUNDS_TICK_SECONDS", 30)},
    "rounds-sweep": {"task": "delphi.rounds_sweep", "schedule": envint("ROUNDS_SWEEP_SECONDS", 120)},
    "scoring-sweep": {"task": "priorities.scoring_runs_sweep", "schedule": envint("ROUNDS_SWEEP_SECONDS", 120)},
    "match-runs-sweep": {"task": "scenarios.match_runs_sweep", "schedule": envint("ROUNDS_SWEEP_SECONDS", 120)},
    "reminders": {
        "task": "delphi.reminders_send",
        "schedule": envint("REMINDER_SECONDS", 3 * 24 * 3600),
        "kwargs": {"every": envint("REMINDER_SECONDS", 3 * 24 * 3600)},
    },
}
# Pilots with no stage change for this many days are stale: a daily job reminds their organisations, once
# a period (scenarios.exchange.pilots.pilots_remind_stale), and the curators see them listed.
PILOT_STALE_DAYS = envint("PILOT_STALE_DAYS", 90)
if PILOT_STALE_DAYS < 1:
    raise ImproperlyConfigured("PILOT_STALE_DAYS must be at least 1")
CELERY_BEAT_SCHEDULE["pilots-stale"] = {
    "task": "scenarios.pilots_remind_stale",
    "schedule": envint("PILOT_REMINDER_SECONDS", 24 * 3600),
}
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# Addresses of the reverse proxies in front of the app (comma-separated): behind one, rate limits key on
# the client address the proxy forwards (X-Forwarded-For), not on the proxy's own.
TRUSTED_PROXIES = envlist("TRUSTED_PROXIES", [])

# --- Auth, i18n, static -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Accounts of the scenario exchange's organisation members (django-allauth): sign-up with a verified
# e-mail address, sign-in by e-mail, password reset. Staff keep signing in at /admin/login/.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Foresight] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
ACCOUNT_PREVENT_ENUMERATION = True
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "exchange:home"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "foresight@localhost")

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "foresight.core.api.Pagination",
    "PAGE_SIZE": 50,
    # JSON with a nesting limit and the body size limit (413 with a JSON body); forms as DRF's defaults.
    "DEFAULT_PARSER_CLASSES": [
        "foresight.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "foresight.core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "600/minute"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Foresight API",
    "DESCRIPTION": "Read-only public API of the Foresight catalog: technology directions, areas, topics and application scenarios.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "foresight.core.openapi.document_errors",
        "foresight.catalog.openapi.catalog_enums",
    ],
}

# --- Security -----------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# No inline script anywhere: scripts and styles come from our own static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO" if not DEBUG else "WARNING")},
}

# Catalog pages are cached per language; bumped on every catalog change (see foresight.core.cache).
PUBLIC_CACHE_SECONDS = envint("PUBLIC_CACHE_SECONDS", 300)
# A similarity corpus this large that changed is rebuilt in the background (a build takes seconds), while
# searches use the index they have; a smaller one is rebuilt before the search (README, Similarity).
SIMILARITY_SYNC_REBUILD_MAX = envint("SIMILARITY_SYNC_REBUILD_MAX", 2000)

# Conversations of the scenario exchange (scenarios.exchange.conversations): how much one person may write and
# one organisation may open before the product says "later".
EXCHANGE_MESSAGES_PER_HOUR = envint("EXCHANGE_MESSAGES_PER_HOUR", 30)  # per person, all conversations
EXCHANGE_CONVERSATIONS_PER_DAY = envint("EXCHANGE_CONVERSATIONS_PER_DAY", 20)  # new ones, per organisation
EXCHANGE_REPORTS_PER_DAY = envint("EXCHANGE_REPORTS_PER_DAY", 10)  # abuse reports, per person
EXCHANGE_PILOTS_PER_DAY = envint("EXCHANGE_PILOTS_PER_DAY", 20)  # pilots opened, per demand owner organisation
