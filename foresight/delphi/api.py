"""The expert API: the same questionnaire as the web pages, for tools and assistive clients.

Experts are not Django users: the session a magic link opened carries their participant id per
study (``selectors.SESSION_KEY``). Every endpoint resolves that participant for the study in the
URL (404 for anyone else) and writes go through the same services as the htmx form, with CSRF.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authentication import CSRFCheck
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from foresight.delphi.models import Participant, Question, Round
from foresight.delphi.selectors import (
    answered_topic_ids,
    participant_get_for_session,
    participant_round_topics,
    response_values,
    round_get_for_participant,
)
from foresight.delphi.services.panel import participant_require_taking_part
from foresight.delphi.services.responses import response_save, round_submit


def _csrf_check(request: Request) -> None:
    """Unsafe methods need the CSRF token, as for the web form (the session cookie alone is not enough)."""
    # As DRF's SessionAuthentication does: the middleware is used for its checks only, never as a chain.
    check = CSRFCheck(lambda req: None)  # type: ignore[arg-type]  # no next response: never called
    check.process_request(request._request)
    reason = check.process_view(request._request, None, (), {})  # type: ignore[arg-type]  # no view to exempt
    if reason:
        raise exceptions.PermissionDenied(f"CSRF failed: {reason}")


class ExpertView(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def participant(self, request: Request, study_code: str) -> Participant:
        participant = participant_get_for_session(request=request._request, study_code=study_code)
        participant_require_taking_part(participant)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            _csrf_check(request)
        return participant

    def topic_of(self, participant: Participant, rnd: Round, topic_code: str) -> Any:
        topic = next(
            (t for t in participant_round_topics(participant=participant, rnd=rnd) if t.code == topic_code), None
        )
        if topic is None:
            raise Http404("This topic is not among yours in this round.")
        return topic


class TopicItem(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    statement = serializers.CharField()
    answered = serializers.BooleanField()


class TopicAnswers(serializers.Serializer):
    topic = serializers.CharField()
    round = serializers.IntegerField()
    editable = serializers.BooleanField()
    answers = serializers.DictField(
        child=serializers.JSONField(),
        help_text="By question key. Scale/single: the option code; multi: a list of codes; year: a year, "
        "`already` or `never`; `cant_judge` where allowed.",
    )
    rationale = serializers.CharField(allow_blank=True)


class AnswersInput(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        required=False,
        default=dict,
        help_text="By question key, as in the response; null or an empty string clears an answer.",
    )
    rationale = serializers.CharField(required=False, allow_blank=True, max_length=1000, trim_whitespace=True)


class ExpertTopicsView(ExpertView):
    @extend_schema(
        operation_id="expert_round_topics",
        summary="My topics in a round",
        responses={200: TopicItem(many=True)},
        tags=["expert"],
    )
    def get(self, request: Request, study_code: str, number: int) -> Response:
        participant = self.participant(request, study_code)
        rnd = round_get_for_participant(participant=participant, number=number)
        answered = answered_topic_ids(participant=participant, rnd=rnd)
        return Response(
            [
                {"code": t.code, "name": t.name, "statement": t.statement, "answered": t.pk in answered}
                for t in participant_round_topics(participant=participant, rnd=rnd)
            ]
        )


class ExpertAnswersView(ExpertView):
    def _body(self, participant: Participant, rnd: Round, topic: Any) -> dict[str, Any]:
        values, rationale = response_values(participant=participant, rnd=rnd, topic=topic)
        return {
            "topic": topic.code,
            "round": rnd.number,
            "editable": rnd.is_open,
            "answers": values,
            "rationale": rationale,
        }

    @extend_schema(
        operation_id="expert_topic_answers",
        summary="My answers on a topic",
        responses={200: TopicAnswers},
        tags=["expert"],
    )
    def get(self, request: Request, study_code: str, number: int, topic_code: str) -> Response:
        participant = self.participant(request, study_code)
        rnd = round_get_for_participant(participant=participant, number=number)
        return Response(self._body(participant, rnd, self.topic_of(participant, rnd, topic_code)))

    @extend_schema(
        operation_id="expert_topic_answers_save",
        summary="Save some or all of my answers on a topic (all-or-nothing: one bad value stores nothing)",
        request=AnswersInput,
        responses={200: TopicAnswers, 409: OpenApiResponse(description="The round is closed")},
        tags=["expert"],
    )
    def patch(self, request: Request, study_code: str, number: int, topic_code: str) -> Response:
        participant = self.participant(request, study_code)
        rnd = round_get_for_participant(participant=participant, number=number)
        topic = self.topic_of(participant, rnd, topic_code)
        data = AnswersInput(data=request.data)
        data.is_valid(raise_exception=True)
        answers = {k: ("" if v is None else v) for k, v in data.validated_data["answers"].items()}
        keys = set(Question.objects.filter(study_id=participant.study_id).values_list("key", flat=True))
        unknown = sorted(set(answers) - keys)
        if unknown:
            raise exceptions.ValidationError({"answers": [f"Unknown question: {', '.join(unknown)}"]})
        # A refusal (a closed round: 409, a bad value: 400, not taking part: 403) is answered by the
        # API's exception handler with the status and message the web form gives.
        response_save(
            participant=participant,
            rnd=rnd,
            topic=topic,
            answers=answers,
            rationale=data.validated_data.get("rationale"),
        )
        return Response(self._body(participant, rnd, topic))


class ExpertSubmitView(ExpertView):
    @extend_schema(
        operation_id="expert_round_submit",
        summary="Submit my round (answers stay editable while it is open)",
        request=None,
        responses={
            200: inline_serializer("ExpertSubmitted", {"submitted_at": serializers.DateTimeField()}),
            409: OpenApiResponse(description="The round is closed"),
        },
        tags=["expert"],
    )
    def post(self, request: Request, study_code: str, number: int) -> Response:
        participant = self.participant(request, study_code)
        rnd = round_get_for_participant(participant=participant, number=number)
        completion = round_submit(participant=participant, rnd=rnd)
        return Response({"submitted_at": completion.submitted_at or timezone.now()})
