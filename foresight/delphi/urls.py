from __future__ import annotations

from django.urls import path

from foresight.delphi import views

app_name = "delphi"

urlpatterns = [
    path("<slug:study_code>/join/", views.redeem, name="redeem"),
    path("<slug:study_code>/", views.study_home, name="study"),
    path("<slug:study_code>/consent/", views.consent, name="consent"),
]
