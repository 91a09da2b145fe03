"""The expert area: magic-link redemption and the study start page."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from foresight.core.ratelimit import client_ip, rate_limited
from foresight.delphi.selectors import SESSION_KEY, participant_get_for_session
from foresight.delphi.services.panel import invitation_redeem, participant_consent

# Link attempts per client address per ten minutes: enough for a few honest retries, useless for guessing.
REDEEM_LIMIT = 20


@require_GET
@never_cache
def redeem(request: HttpRequest, study_code: str) -> HttpResponse:
    """Exchange the link's token for a session once, then redirect so the token leaves the address bar."""
    if rate_limited(scope="redeem", key=client_ip(request), limit=REDEEM_LIMIT, window_seconds=600):
        return render(
            request,
            "delphi/expert/link_invalid.html",
            {"message": "Too many attempts. Please wait ten minutes."},
            status=429,
        )
    token = request.GET.get("t", "")
    try:
        participant = invitation_redeem(study_code=study_code, token=token)
    except PermissionDenied as exc:
        return render(request, "delphi/expert/link_invalid.html", {"message": str(exc)}, status=403)
    request.session.cycle_key()
    ids = dict(request.session.get(SESSION_KEY, {}))
    ids[study_code] = participant.pk
    request.session[SESSION_KEY] = ids
    return redirect("delphi:study", study_code=study_code)


@require_GET
@never_cache
def study_home(request: HttpRequest, study_code: str) -> HttpResponse:
    participant = participant_get_for_session(request=request, study_code=study_code)
    return render(request, "delphi/expert/study.html", {"participant": participant, "study": participant.study})


@require_POST
def consent(request: HttpRequest, study_code: str) -> HttpResponse:
    participant = participant_get_for_session(request=request, study_code=study_code)
    if request.POST.get("agree") != "yes":
        return render(
            request,
            "delphi/expert/study.html",
            {"participant": participant, "study": participant.study, "error": True},
            status=400,
        )
    participant_consent(participant=participant)
    return redirect("delphi:study", study_code=study_code)
