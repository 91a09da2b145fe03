"""Baseline views, served beside the product by the same gunicorn (see ``bench.urls``).

* ``constant``: the floor of a Django request under these settings (middleware, routing, a response).
* ``answers_upsert``: the floor of storing one topic of a ballot: it reads the same form the
  questionnaire posts and upserts the same ``Response`` and ``Answer`` rows in one transaction
  (two statements), with none of the product's checks (session, permissions, validation, re-render).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from foresight.delphi.models import Answer, Question, Response

# round id -> [(key, question id, type, {option code: numeric value})], filled on first use per process.
_QUESTIONS: dict[int, list[tuple[str, int, str, dict[str, float]]]] = {}


def constant(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


def _questions(round_id: int) -> list[tuple[str, int, str, dict[str, float]]]:
    if round_id not in _QUESTIONS:
        _QUESTIONS[round_id] = [
            (q.key, q.pk, q.qtype, {str(o["code"]): float(o.get("value", 0) or 0) for o in q.options})
            for q in Question.objects.filter(study__rounds=round_id, applies_to=Question.AppliesTo.TOPIC)
        ]
    return _QUESTIONS[round_id]


def _answer(response_id: int, question_id: int, qtype: str, values: dict[str, float], raw: Any) -> Answer | None:
    fields: dict[str, Any] = {"cant_judge": False, "value_num": None, "value_code": "", "value_codes": []}
    if raw in (None, "", []):
        return None
    if raw == "cant_judge" or raw == ["cant_judge"]:
        fields["cant_judge"] = True
    elif qtype == Question.Type.MULTI:
        fields["value_codes"] = list(raw)
    elif qtype == Question.Type.SCALE:
        fields["value_num"], fields["value_code"] = values.get(raw), raw
    elif qtype == Question.Type.YEAR:
        if raw.isdigit():
            fields["value_num"] = float(raw)
        else:
            fields["value_code"] = raw
    else:
        fields["value_code"] = raw
    return Answer(response_id=response_id, question_id=question_id, value_text="", **fields)


@csrf_exempt
@require_POST
def answers_upsert(request: HttpRequest, round_id: int, participant_id: int, topic_id: int) -> HttpResponse:
    questions = _questions(round_id)
    with transaction.atomic():
        (response,) = Response.objects.bulk_create(
            [
                Response(
                    round_id=round_id,
                    participant_id=participant_id,
                    topic_id=topic_id,
                    rationale=request.POST.get("rationale", ""),
                    updated_at=timezone.now(),
                )
            ],
            update_conflicts=True,
            unique_fields=["round", "participant", "topic"],
            update_fields=["rationale", "updated_at"],
        )
        rows = []
        for key, question_id, qtype, values in questions:
            raw = request.POST.getlist(key) if qtype == Question.Type.MULTI else request.POST.get(key)
            answer = _answer(response.pk, question_id, qtype, values, raw)
            if answer is not None:
                rows.append(answer)
        Answer.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["response", "question"],
            update_fields=["cant_judge", "value_num", "value_code", "value_codes", "value_text"],
        )
    return HttpResponse(status=204)
