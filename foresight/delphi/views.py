"""The expert area: magic-link redemption, consent, topic choice, and the questionnaire with autosave.

Every view starts from the participant bound to this browser session for this study (404 for
anyone else), so an expert reaches only her own answers, and only while her round is open.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from foresight.catalog.models import Topic
from foresight.core.errors import error_message, error_status
from foresight.core.htmx import wants_partial
from foresight.core.ratelimit import client_ip, limit_reached, rate_limited
from foresight.delphi.forms import answers_from_post, build_fields, rationale_from_post
from foresight.delphi.models import Argument, Participant, Question, Round, RoundCompletion, Study
from foresight.delphi.selectors import (
    SESSION_KEY,
    answered_after_save,
    answered_topic_ids,
    answers_form_values,
    participant_get_for_session,
    participant_round_topics,
    previous_round_values,
    response_values,
    round_current,
    round_get_for_participant,
)
from foresight.delphi.services.arguments import argument_add, arguments_visible
from foresight.delphi.services.feedback import topic_feedback
from foresight.delphi.services.panel import (
    LINK_INVALID,
    consent_facts,
    invitation_check,
    invitation_redeem,
    invitation_reissue_request,
    participant_choose_topics,
    participant_consent,
    participant_require_taking_part,
    participant_topics_locked,
    participant_withdraw,
)
from foresight.delphi.services.responses import response_save, round_submit

# Link attempts per client address per ten minutes: enough for a few honest retries, useless for guessing.
REDEEM_LIMIT = 20  # invalid links per client and study in REDEEM_WINDOW
REDEEM_WINDOW = 600
# Requests for a new link: per client address, and per address asked for on one study, per hour.
REISSUE_CLIENT_LIMIT = 10
REISSUE_EMAIL_LIMIT = 3
REISSUE_WINDOW = 3600


def _link_invalid(request: HttpRequest, study_code: str, message: str, status: int) -> HttpResponse:
    context = {"message": message, "study_code": study_code}
    return render(request, "delphi/expert/link_invalid.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def redeem(request: HttpRequest, study_code: str) -> HttpResponse:
    """The link's page, then the link itself.

    GET (what a mail scanner that opens every link does too) only shows a button: the token is checked
    read only, so an invalid link says so at once, but nothing is written and it stays usable. The
    button POSTs the token (CSRF-protected); that spends it once (403 for a spent one), opens a fresh
    session and redirects, so the token leaves the address bar."""
    # Only invalid links count, per client and study: a whole panel behind one proxy address opening
    # valid links is never locked out, while guessing tokens for a study is.
    key = f"{client_ip(request)}:{study_code}"
    if limit_reached(scope="redeem", key=key, limit=REDEEM_LIMIT):
        return _link_invalid(request, study_code, _("Too many attempts. Please wait ten minutes."), 429)
    if request.method != "POST":
        token = request.GET.get("t", "")
        if not invitation_check(study_code=study_code, token=token):
            rate_limited(scope="redeem", key=key, limit=REDEEM_LIMIT, window_seconds=REDEEM_WINDOW)
            # A page for a person, with the form for a new link: 200 (the POST of a spent token is the 403).
            return _link_invalid(request, study_code, str(LINK_INVALID), 200)
        study = Study.objects.filter(code=study_code).first()
        others = set(request.session.get(SESSION_KEY, {})) - {study_code}
        return render(request, "delphi/expert/join.html", {"study": study, "token": token, "other_studies": others})
    try:
        participant = invitation_redeem(study_code=study_code, token=request.POST.get("t", ""))
    except PermissionDenied as exc:
        rate_limited(scope="redeem", key=key, limit=REDEEM_LIMIT, window_seconds=REDEEM_WINDOW)
        return _link_invalid(request, study_code, error_message(exc), error_status(exc))
    # One study per session, unless she chose to stay signed in to the others on this device; the session
    # lasts as long as the study says (a shared computer forgets her the same day by default).
    ids = dict(request.session.get(SESSION_KEY, {})) if request.POST.get("keep_others") == "1" else {}
    request.session.cycle_key()
    ids[study_code] = participant.pk
    request.session[SESSION_KEY] = ids
    request.session.set_expiry(participant.study.session_hours * 3600)
    return redirect("delphi:study", study_code=study_code)


@require_POST
@never_cache
def withdraw(request: HttpRequest, study_code: str) -> HttpResponse:
    """Leave the study: first a page that says what happens, then (confirmed) off the panel and signed out."""
    participant = participant_get_for_session(request=request, study_code=study_code)
    if request.POST.get("confirm") != "yes":
        return render(request, "delphi/expert/withdraw.html", {"participant": participant, "study": participant.study})
    participant_withdraw(participant=participant)
    request.session.flush()
    return render(request, "delphi/expert/withdrawn.html", {"study_code": study_code})


@require_POST
@never_cache
def sign_out(request: HttpRequest, study_code: str) -> HttpResponse:
    """Forget the expert on this device (every study of the session); her answers stay saved."""
    request.session.flush()
    return render(request, "delphi/expert/signed_out.html", {"study_code": study_code})


@require_POST
@never_cache
def new_link(request: HttpRequest, study_code: str) -> HttpResponse:
    """Ask for a new link by e-mail address. The page says the same, with the same status, whether or not
    the address is on this study's panel (or the study exists); only a panel member receives a link."""
    email = request.POST.get("email", "")
    context: dict[str, Any] = {"study_code": study_code, "email": email[:254]}
    key = hashlib.sha256(f"{study_code}\0{email.strip().lower()}".encode("utf-8", "surrogatepass")).hexdigest()
    if rate_limited(
        scope="reissue-client", key=client_ip(request), limit=REISSUE_CLIENT_LIMIT, window_seconds=REISSUE_WINDOW
    ) or rate_limited(scope="reissue-email", key=key, limit=REISSUE_EMAIL_LIMIT, window_seconds=REISSUE_WINDOW):
        context["error"] = _("Too many requests for a new link. Please wait an hour.")
        return render(request, "delphi/expert/new_link.html", context, status=429)
    try:
        # The link points at SITE_URL, never at the request's Host header, which the client chooses.
        invitation_reissue_request(study_code=study_code, email=email, base_url=settings.SITE_URL)
    except ValidationError as exc:
        context["error"] = error_message(exc)
        return render(request, "delphi/expert/new_link.html", context, status=error_status(exc))
    context["sent"] = True
    return render(request, "delphi/expert/new_link.html", context)


def _home(request: HttpRequest, participant: Participant, *, error: str = "", status: int = 200) -> HttpResponse:
    study = participant.study
    context: dict[str, Any] = {"participant": participant, "study": study, "error": error}
    if participant.consent_at is None:
        context["facts"] = consent_facts(participant=participant)
    else:
        rnd = round_current(study=study)
        context["round"] = rnd
        if rnd is not None and rnd.status != Round.Status.SCHEDULED:
            topics = participant_round_topics(participant=participant, rnd=rnd)
            answered = answered_topic_ids(participant=participant, rnd=rnd)
            context.update(
                {
                    "topics": [(t, t.pk in answered) for t in topics],
                    "answered_count": sum(1 for t in topics if t.pk in answered),
                    "next_topic": next((t for t in topics if t.pk not in answered), topics[0] if topics else None),
                    "submitted": RoundCompletion.objects.filter(round=rnd, participant=participant).first(),
                }
            )
    return render(request, "delphi/expert/study.html", context, status=status)


@require_safe
@never_cache
def study_home(request: HttpRequest, study_code: str) -> HttpResponse:
    """Consent, then the round overview: progress, the topics, submit. Without a session for this study:
    nothing of the study (404, the same for a study that does not exist), and a form to ask for a new link."""
    try:
        participant = participant_get_for_session(request=request, study_code=study_code)
    except Http404:
        return render(request, "delphi/expert/new_link.html", {"study_code": study_code, "landing": True}, status=404)
    if participant.consent_at is not None and not participant.topics.exists():
        return redirect("delphi:topics", study_code=study_code)
    return _home(request, participant)


@require_POST
@never_cache
def consent(request: HttpRequest, study_code: str) -> HttpResponse:
    participant = participant_get_for_session(request=request, study_code=study_code)
    if request.POST.get("agree") != "yes":
        return _home(request, participant, error=_("Please tick the box to continue."), status=400)
    participant_consent(participant=participant)
    return redirect("delphi:study", study_code=study_code)


# --- Choosing topics --------------------------------------------------------------------------------


def _consented(request: HttpRequest, study_code: str) -> Participant:
    participant = participant_get_for_session(request=request, study_code=study_code)
    participant_require_taking_part(participant)
    return participant


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def choose_topics(request: HttpRequest, study_code: str) -> HttpResponse:
    """Accept the assigned topics or choose by area: checkboxes grouped by area, pre-ticked with the
    staff's assignment or, failing that, the topics of the expert's own areas."""
    participant = _consented(request, study_code)
    study = participant.study
    topics = list(
        study.topics.select_related("area__direction").order_by("area__direction__order", "area__order", "code")
    )
    chosen = set(participant.topics.values_list("pk", flat=True))
    if not chosen:
        own_areas = set(participant.areas.values_list("pk", flat=True))
        chosen = {t.pk for t in topics if t.area_id in own_areas}
    error = ""
    status = 200
    if request.method == "POST":
        try:
            ids = {int(v) for v in request.POST.getlist("topics")}
        except ValueError:
            ids = None
        try:
            if ids is None:
                raise ValidationError(_("Choose topics from the list."))
            picked = [t for t in topics if t.pk in ids]
            if len(picked) != len(ids):
                raise ValidationError(_("Some topics are not part of this study."))
            # The service refuses a change once the topics are fixed (409), whoever asks.
            participant_choose_topics(participant=participant, topics=picked)
        except ValidationError as exc:
            error, status = error_message(exc), error_status(exc)
            if ids is not None and status == 400:
                chosen = ids
        else:
            return redirect("delphi:study", study_code=study_code)
    locked = participant_topics_locked(participant)
    if locked:  # read-only: only the topics she has, never a suggestion
        mine = set(participant.topics.values_list("pk", flat=True))
        topics = [t for t in topics if t.pk in mine]
    groups: dict[Any, list[Topic]] = {}
    for topic in topics:
        groups.setdefault(topic.area, []).append(topic)
    return render(
        request,
        "delphi/expert/topics.html",
        {
            "participant": participant,
            "study": study,
            "groups": list(groups.items()),
            "chosen": chosen,
            "error": error,
            "locked": locked,
        },
        status=status,
    )


# --- The questionnaire ------------------------------------------------------------------------------


def _topic_context(
    participant: Participant, rnd: Round, topic_code: str, questions: list[Question] | None = None
) -> dict[str, Any]:
    topics = participant_round_topics(participant=participant, rnd=rnd)
    index = next((i for i, t in enumerate(topics) if t.code == topic_code), None)
    if index is None:
        raise Http404("This topic is not among yours in this round.")
    answered = answered_topic_ids(participant=participant, rnd=rnd, questions=questions) & {t.pk for t in topics}
    return {
        "participant": participant,
        "study": participant.study,
        "round": rnd,
        "topic": topics[index],
        "position": index + 1,
        "total": len(topics),
        "answered": answered,
        "answered_count": len(answered),
        "previous_topic": topics[index - 1] if index > 0 else None,
        "next_topic": topics[index + 1] if index + 1 < len(topics) else None,
    }


def _questions(study: Study) -> list[Question]:
    return list(Question.objects.filter(study=study, applies_to=Question.AppliesTo.TOPIC))


def _fields(
    participant: Participant,
    rnd: Round,
    topic: Topic,
    questions: list[Question],
    values: dict[str, Any],
    errors: dict[str, str],
    kept: Collection[str] = (),
) -> list[Any]:
    return build_fields(
        questions=questions,
        values=values,
        errors=errors,
        feedback=topic_feedback(participant=participant, rnd=rnd, topic=topic, questions=questions),
        current_year=timezone.now().year,
        horizon_year=participant.study.horizon_year,
        kept=kept,
    )


@never_cache
@require_safe
def topic_page(request: HttpRequest, study_code: str, number: int, topic_code: str) -> HttpResponse:
    """One topic: the statement, its questions (with the group's feedback from round 2), rationale, arguments."""
    participant = _consented(request, study_code)
    rnd = round_get_for_participant(participant=participant, number=number)
    questions = _questions(participant.study)
    context = _topic_context(participant, rnd, topic_code, questions)
    topic = context["topic"]
    values, rationale = response_values(participant=participant, rnd=rnd, topic=topic, questions=questions)
    kept: set[str] = set()
    if not values and rnd.is_open:
        # Round 2+: her previous answers are filled in, to keep (one save) or revise; nothing is stored yet.
        values = previous_round_values(participant=participant, rnd=rnd, topic=topic, questions=questions)
        kept = set(values)
    context.update(
        {
            "fields": _fields(participant, rnd, topic, questions, values, {}, kept),
            "kept": bool(kept),
            "kept_round": rnd.number - 1,
            "rationale": rationale,
            "arguments": arguments_visible(rnd=rnd, topic=topic),
            "editable": rnd.is_open,
            "stances": Argument.Stance.choices,
        }
    )
    if wants_partial(request) and request.GET.get("part") == "feedback":
        # Real-time mode polls this: only the feedback boxes are swapped, never what the expert is typing.
        return render(request, "delphi/expert/topic.html#live-feedback", context)
    return render(request, "delphi/expert/topic.html", context)


@never_cache
@require_POST
def topic_save(request: HttpRequest, study_code: str, number: int, topic_code: str) -> HttpResponse:
    """Autosave (htmx, the whole form on every change) and the no-JavaScript "save" button.

    Valid answers are stored even when another field is invalid; the invalid ones come back with
    their message. A closed round answers 409 and stores nothing.
    """
    participant = _consented(request, study_code)
    rnd = round_get_for_participant(participant=participant, number=number)
    study = participant.study
    questions = _questions(study)
    context = _topic_context(participant, rnd, topic_code, questions)
    topic = context["topic"]
    answers, errors = answers_from_post(
        questions=questions, data=request.POST, current_year=timezone.now().year, horizon_year=study.horizon_year
    )
    rationale, rationale_error = rationale_from_post(request.POST)
    status = 200
    message = ""
    saved = None
    try:
        saved = response_save(
            participant=participant, rnd=rnd, topic=topic, coded=answers, rationale=rationale, questions=questions
        )
    except (ValidationError, PermissionDenied) as exc:
        status, message = error_status(exc), error_message(exc)
    if status == 200 and (errors or rationale_error):
        status = 400
    if saved is not None:
        # The answers as this save left them; progress counts this topic as it is now.
        values, stored_rationale = answers_form_values(saved.saved_answers, questions), saved.rationale
        answered = answered_after_save(
            answered=context["answered"], topic_id=topic.pk, answers=saved.saved_answers, questions=questions
        )
        context["answered_count"] = len(answered)
    else:
        values, stored_rationale = response_values(participant=participant, rnd=rnd, topic=topic, questions=questions)
    # What the expert typed stays in the form, valid or not: nothing typed is lost on a re-render.
    shown = {**values, **{q.key: _posted(q, request.POST) for q in questions if q.key in errors}}
    context.update(
        {
            "fields": _fields(participant, rnd, topic, questions, shown, errors),
            "rationale": request.POST.get("rationale", stored_rationale) if rationale_error else stored_rationale,
            "rationale_error": rationale_error or "",  # no problem: an empty message, never "None"
            "message": message,
            "saved": status == 200,
            "partly_saved": status == 400 and not message,
            "saved_at": timezone.now(),
            "editable": rnd.is_open and status != 409,
            "stances": Argument.Stance.choices,
        }
    )
    if wants_partial(request):
        context["oob"] = True
        return render(request, "delphi/expert/topic.html#save-result", context, status=status)
    context["arguments"] = arguments_visible(rnd=rnd, topic=topic)
    if status == 200:
        nxt = context["next_topic"]
        if request.POST.get("go") == "next" and nxt is not None:
            return redirect("delphi:topic", study_code=study_code, number=number, topic_code=nxt.code)
        if request.POST.get("go") == "overview" or (request.POST.get("go") == "next" and nxt is None):
            return redirect("delphi:study", study_code=study_code)
        return redirect("delphi:topic", study_code=study_code, number=number, topic_code=topic.code)
    return render(request, "delphi/expert/topic.html", context, status=status)


def _posted(question: Question, data: Any) -> Any:
    if question.qtype == Question.Type.MULTI:
        return data.getlist(question.key)
    return data.get(question.key, "")


@never_cache
@require_POST
def argument_create(request: HttpRequest, study_code: str, number: int, topic_code: str) -> HttpResponse:
    participant = _consented(request, study_code)
    rnd = round_get_for_participant(participant=participant, number=number)
    context = _topic_context(participant, rnd, topic_code)
    status = 201
    error = ""
    try:
        argument_add(
            participant=participant,
            rnd=rnd,
            topic=context["topic"],
            stance=request.POST.get("stance", ""),
            text=request.POST.get("text", ""),
        )
    except (ValidationError, PermissionDenied) as exc:
        status, error = error_status(exc), error_message(exc)
    context.update(
        {
            "argument_error": error,
            "argument_sent": status == 201,
            "stance": request.POST.get("stance", ""),
            "text": "" if status == 201 else request.POST.get("text", ""),
            "stances": Argument.Stance.choices,
            "editable": rnd.is_open,
        }
    )
    if wants_partial(request):
        return render(request, "delphi/expert/topic.html#argument-form", context, status=status)
    if status == 201:
        return redirect("delphi:topic", study_code=study_code, number=number, topic_code=topic_code)
    values, rationale = response_values(participant=participant, rnd=rnd, topic=context["topic"])
    context.update(
        {
            "fields": _fields(participant, rnd, context["topic"], _questions(participant.study), values, {}),
            "rationale": rationale,
            "arguments": arguments_visible(rnd=rnd, topic=context["topic"]),
        }
    )
    return render(request, "delphi/expert/topic.html", context, status=status)


@never_cache
@require_POST
def submit(request: HttpRequest, study_code: str, number: int) -> HttpResponse:
    participant = _consented(request, study_code)
    rnd = round_get_for_participant(participant=participant, number=number)
    try:
        round_submit(participant=participant, rnd=rnd)
    except ValidationError as exc:
        return _home(request, participant, error=error_message(exc), status=error_status(exc))
    return redirect("delphi:study", study_code=study_code)
