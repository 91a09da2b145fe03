"""The product's URLs, plus the baselines under ``/bench/`` (never mounted by the product)."""

from __future__ import annotations

from django.urls import path

from bench import views
from foresight.urls import handler404  # noqa: F401 - the product's JSON 404 under /api/
from foresight.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    path("bench/constant/", views.constant, name="bench-constant"),
    path(
        "bench/upsert/<int:round_id>/<int:participant_id>/<int:topic_id>/",
        views.answers_upsert,
        name="bench-upsert",
    ),
    *product_urlpatterns,
]
