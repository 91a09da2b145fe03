"""The Celery application. Broker and behaviour come from Django settings (CELERY_*)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "foresight.settings")

app = Celery("foresight")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
