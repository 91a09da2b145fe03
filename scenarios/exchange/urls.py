"""The scenario exchange's member pages, mounted at /exchange/ (see scenarios.exchange.views)."""

from __future__ import annotations

from django.urls import path

from scenarios.exchange import views

app_name = "exchange"

urlpatterns = [
    path("", views.home, name="home"),
    path("organisations/new/", views.organisation_create, name="organisation-create"),
    path("organisations/<slug:code>/edit/", views.organisation_edit, name="organisation-edit"),
    path("organisations/<slug:code>/members/", views.members, name="members"),
    path("organisations/<slug:code>/members/invite/", views.invite, name="invite"),
    path("organisations/<slug:code>/members/<int:pk>/role/", views.member_role, name="member-role"),
    path("organisations/<slug:code>/members/<int:pk>/remove/", views.member_remove, name="member-remove"),
    path("organisations/<slug:code>/requests/<int:pk>/", views.request_decide, name="request-decide"),
    path("organisations/<slug:code>/join/", views.join, name="join"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
]
