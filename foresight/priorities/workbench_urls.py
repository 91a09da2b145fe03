"""The staff priority workbench, mounted at /staff/priorities/ (see foresight.priorities.workbench)."""

from __future__ import annotations

from django.urls import path

from foresight.priorities import workbench

app_name = "workbench"

urlpatterns = [
    path("", workbench.index, name="index"),
    path("studies/<slug:code>/runs/new/", workbench.run_create, name="run-create"),
    path("runs/<slug:code>/", workbench.run_detail, name="run"),
    path("runs/<slug:code>/progress/", workbench.run_progress, name="run-progress"),
    path("runs/<slug:code>/editions/new/", workbench.edition_create, name="edition-create"),
    path("editions/<slug:code>/", workbench.edition_detail, name="edition"),
    path("editions/<slug:code>/entries/<slug:topic>/", workbench.entry_decide, name="entry-decide"),
    path("editions/<slug:code>/preview/", workbench.edition_preview, name="edition-preview"),
    path("editions/<slug:code>/publish/", workbench.edition_publish_view, name="edition-publish"),
    path("editions/<slug:code>/delete/", workbench.edition_delete, name="edition-delete"),
]
