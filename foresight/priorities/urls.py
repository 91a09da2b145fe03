"""Public edition pages and open-data downloads (inside i18n_patterns: /editions/… and /zh-hans/editions/…)."""

from __future__ import annotations

from django.urls import path

from foresight.priorities import views

app_name = "priorities"

urlpatterns = [
    path("", views.edition_list, name="edition-list"),
    path("<slug:code>/", views.edition_detail, name="edition-detail"),
    path("<slug:code>/entries.csv", views.edition_entries_csv, name="edition-entries-csv"),
    path("<slug:code>/figures.csv", views.edition_figures_csv, name="edition-figures-csv"),
    path("<slug:code>/edition.json", views.edition_json, name="edition-json"),
    path("<slug:code>/radar.csv", views.edition_radar_csv, name="edition-radar-csv"),
]
