"""Reads of the Delphi app. Permission-checked fetchers raise Http404/PermissionDenied."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from foresight.delphi.models import Participant

SESSION_KEY = "delphi_participant"


def participant_get_for_session(*, request: HttpRequest, study_code: str) -> Participant:
    """The participant this browser session was given by a magic link, for this study only."""
    ids: dict[str, int] = request.session.get(SESSION_KEY, {})
    pk = ids.get(study_code)
    participant = (
        Participant.objects.select_related("study", "expert").filter(pk=pk, study__code=study_code).first()
        if pk
        else None
    )
    if participant is None:
        raise Http404("No such study for this session")
    return participant
