from __future__ import annotations

from django.urls import path

from foresight.delphi.staff import views

app_name = "staff"

urlpatterns = [
    path("", views.study_list, name="study-list"),
    path("studies/new/", views.study_create, name="study-create"),
    path("studies/<slug:code>/", views.study_overview, name="study"),
    path("studies/<slug:code>/settings/", views.study_settings, name="study-settings"),
    path("studies/<slug:code>/settings/rules/", views.study_rules, name="study-rules"),
    path("studies/<slug:code>/settings/managers/", views.study_managers, name="study-managers"),
    path("studies/<slug:code>/questions/<slug:key>/", views.question_update_view, name="question-update"),
    path("studies/<slug:code>/questions/<slug:key>/remove/", views.question_remove_view, name="question-remove"),
    path("studies/<slug:code>/panel/", views.study_panel, name="study-panel"),
    path("studies/<slug:code>/panel/import/", views.panel_import, name="panel-import"),
    path("studies/<slug:code>/panel/invitations/", views.invitations_send, name="invitations-send"),
    path("studies/<slug:code>/results/", views.study_results, name="study-results"),
    path("studies/<slug:code>/arguments/", views.study_arguments, name="study-arguments"),
    path("studies/<slug:code>/arguments/<int:pk>/", views.argument_moderate_view, name="argument-moderate"),
    path("rounds/<slug:code>/schedule/", views.round_schedule_view, name="round-schedule"),
    path("rounds/<slug:code>/open/", views.round_open_view, name="round-open"),
    path("rounds/<slug:code>/close/", views.round_close_view, name="round-close"),
    path("rounds/<slug:code>/extend/", views.round_extend_view, name="round-extend"),
    path("rounds/<slug:code>/reminders/", views.reminders_send, name="reminders-send"),
    path("rounds/<slug:code>/aggregate/", views.round_aggregate_view, name="round-aggregate"),
    path("rounds/<slug:code>/progress/", views.round_progress, name="round-progress"),
]
