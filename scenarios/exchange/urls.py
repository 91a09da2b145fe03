"""The scenario exchange's member pages, mounted at /exchange/ (see scenarios.exchange.views)."""

from __future__ import annotations

from django.urls import path

from scenarios.exchange import views, views_matching, views_pilots

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
    path("organisations/<slug:code>/entries/", views.entry_list, name="entries"),
    path("organisations/<slug:code>/entries/new/", views.entry_create, name="entry-create"),
    path("entries/<slug:code>/", views.entry_detail, name="entry"),
    path("entries/<slug:code>/edit/", views.entry_edit, name="entry-edit"),
    path("entries/<slug:code>/submit/", views.entry_submit, name="entry-submit"),
    path("entries/<slug:code>/withdraw/", views.entry_withdraw, name="entry-withdraw"),
    path("entries/<slug:code>/revise/", views.entry_revise, name="entry-revise"),
    path("entries/<slug:code>/comment/", views.entry_comment, name="entry-comment"),
    path("entries/<slug:code>/review/", views.entry_review, name="entry-review"),
    path("entries/<slug:code>/merge/", views.entry_merge, name="entry-merge"),
    path("review/", views.review_queue, name="review-queue"),
    path("releases/", views.release_admin_list, name="release-admin-list"),
    path("releases/<slug:code>/", views.release_admin, name="release-admin"),
    # Matching (scenarios.exchange.views_matching)
    path("entries/<slug:code>/matches/", views_matching.entry_matches, name="entry-matches"),
    path("entries/<slug:code>/shortlist/<slug:capability>/", views_matching.shortlist_toggle, name="shortlist-toggle"),
    path("matching/", views_matching.matching_runs, name="matching-runs"),
    path("matching/runs/<int:pk>/", views_matching.matching_run_progress, name="matching-run"),
    # Pilots (scenarios.exchange.views_pilots); the review page before the pilot's own address.
    path("entries/<slug:code>/pilots/new/", views_pilots.pilot_open, name="pilot-open"),
    path("pilots/review/", views_pilots.pilot_review, name="pilot-review"),
    path("pilots/stages/<int:pk>/decide/", views_pilots.stage_decide, name="pilot-stage-decide"),
    path("pilots/<slug:code>/", views_pilots.pilot_detail, name="pilot"),
    path("pilots/<slug:code>/stages/", views_pilots.pilot_stage_add, name="pilot-stage-add"),
]

# Conversations between a demand's owner and a supplier (scenarios.exchange.views_conversations).
from scenarios.exchange import views_conversations as talk  # noqa: E402

urlpatterns += [
    path("conversations/", talk.conversation_list, name="conversations"),
    path("conversations/<slug:code>/", talk.conversation_detail, name="conversation"),
    path("conversations/<slug:code>/reply/", talk.conversation_reply, name="conversation-reply"),
    path("conversations/<slug:code>/outcome/", talk.conversation_outcome, name="conversation-outcome"),
    path("conversations/<slug:code>/share-contact/", talk.conversation_share, name="conversation-share"),
    path("conversations/<slug:code>/report/", talk.conversation_report, name="conversation-report"),
    path("entries/<slug:code>/interest/", talk.entry_interest, name="entry-interest"),
    path("entries/<slug:code>/invite/<slug:capability>/", talk.entry_invite, name="entry-invite"),
    path("reports/", talk.report_queue, name="conversation-reports"),
    path("reports/<int:pk>/", talk.report_decide, name="conversation-report-decide"),
]
