"""Settings of every benchmark process: the product's settings plus the baseline views' URLs.

Product and baselines are served by the same gunicorn, with the same middleware, database and
cache, so the only difference between a product figure and its baseline is the view.
"""

from __future__ import annotations

from foresight.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# Production mode (DJANGO_DEBUG=0, set by the harness) uses the manifest storage, which needs
# collectstatic; static files are not benchmarked, so plain URLs are enough here.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
