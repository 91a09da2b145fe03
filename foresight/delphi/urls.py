from __future__ import annotations

from django.urls import path

from foresight.delphi import views

app_name = "delphi"

urlpatterns = [
    path("<slug:study_code>/join/", views.redeem, name="redeem"),
    path("<slug:study_code>/new-link/", views.new_link, name="new-link"),
    path("<slug:study_code>/sign-out/", views.sign_out, name="sign-out"),
    path("<slug:study_code>/withdraw/", views.withdraw, name="withdraw"),
    path("<slug:study_code>/", views.study_home, name="study"),
    path("<slug:study_code>/consent/", views.consent, name="consent"),
    path("<slug:study_code>/topics/", views.choose_topics, name="topics"),
    path("<slug:study_code>/round/<int:number>/submit/", views.submit, name="submit"),
    path("<slug:study_code>/round/<int:number>/<slug:topic_code>/", views.topic_page, name="topic"),
    path("<slug:study_code>/round/<int:number>/<slug:topic_code>/save/", views.topic_save, name="save"),
    path(
        "<slug:study_code>/round/<int:number>/<slug:topic_code>/argument/",
        views.argument_create,
        name="argument",
    ),
]
