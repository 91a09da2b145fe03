"""The questionnaire form: posted fields → parsed answers (validated per field), and questions → what the template draws.

Every question is validated on its own, so one half-typed value never blocks saving the others.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from foresight.core.errors import error_message
from foresight.core.text import clean_text
from foresight.delphi.answers import ALREADY, CANT_JUDGE, NEVER, Coded, option_key, option_value, parse_answer
from foresight.delphi.models import Question
from foresight.delphi.services.feedback import Feedback
from foresight.delphi.services.responses import MAX_RATIONALE


def answers_from_post(
    *, questions: list[Question], data: QueryDict, current_year: int, horizon_year: int
) -> tuple[dict[str, Coded | None], dict[str, str]]:
    """The answers of every question present in the form, parsed as ``response_save(coded=...)`` stores
    them (``None``: cleared), and an error message per invalid one.

    A multi-select is present when its ``<key>__present`` marker is (unticking every box clears it).
    """
    answers: dict[str, Coded | None] = {}
    errors: dict[str, str] = {}
    for question in questions:
        key = question.key
        if question.qtype == Question.Type.MULTI:
            if key not in data and f"{key}__present" not in data:
                continue
            raw: Any = [v for v in data.getlist(key) if v]
            if CANT_JUDGE in raw:
                if len(raw) > 1:
                    errors[key] = _("Either tick “can't judge” or choose options, not both.")
                    continue
                raw = CANT_JUDGE
        else:
            if key not in data:
                continue
            raw = data.get(key, "")
        try:
            answers[key] = parse_answer(question, raw, current_year=current_year, horizon_year=horizon_year)
        except ValidationError as exc:
            errors[key] = " ".join(exc.message_dict.get(key, exc.messages))
    return answers, errors


def rationale_from_post(data: QueryDict) -> tuple[str | None, str | None]:
    if "rationale" not in data:
        return None, None
    try:
        return clean_text(data.get("rationale", ""), limit=MAX_RATIONALE, field="rationale"), None
    except ValidationError as exc:
        return None, error_message(exc)


@dataclass
class Choice:
    value: str
    label: str
    checked: bool = False


@dataclass
class Field:
    """One question as the template draws it."""

    question: Question
    value: Any
    choices: list[Choice] = field(default_factory=list)
    error: str = ""
    feedback: Feedback | None = None
    prompt: bool = False  # the answer stays outside the group's IQR: ask for a reason
    kept: bool = False  # filled in from the previous round and not saved in this one yet

    @property
    def key(self) -> str:
        return self.question.key

    @property
    def qtype(self) -> str:
        return self.question.qtype

    @property
    def own_previous_label(self) -> str:
        answer = self.feedback.own_previous if self.feedback else None
        if answer is None:
            return ""
        if answer.cant_judge:
            return _("Can't judge")
        labels = {str(o["code"]): _option_label(o) for o in self.question.options}
        if self.qtype == Question.Type.MULTI:
            return ", ".join(labels.get(c, c) for c in answer.value_codes)
        if self.qtype == Question.Type.YEAR:
            return _year_label(answer.value_code) if answer.value_code else str(int(answer.value_num or 0))
        if self.qtype == Question.Type.TEXT:
            return answer.value_text
        return labels.get(answer.value_code, answer.value_code)

    @property
    def bars(self) -> list[dict[str, Any]]:
        """The feedback distribution as bars: label, count, share (0–1), and whether it is the own previous answer."""
        fb = self.feedback
        if fb is None or fb.suppressed or fb.hidden_until_answered or not fb.figures:
            return []
        figures = fb.figures
        own = fb.own_previous
        if self.qtype == Question.Type.SCALE:
            counts = figures.get("distribution") or {}
            total = sum(counts.values()) or 1
            own_code = str(int(own.value_num)) if own and own.value_num is not None else None
            return [
                {
                    "label": f"{o['code']} · {_option_label(o)}",
                    "count": counts.get(option_key(o), 0),
                    "share": counts.get(option_key(o), 0) / total,
                    "own": own_code == option_key(o),
                }
                for o in self.question.options
            ]
        if self.qtype in (Question.Type.SINGLE, Question.Type.MULTI):
            counts = figures.get("counts") or {}
            n = figures.get("n") or 1
            own_codes = set(own.value_codes) | {own.value_code} if own else set()
            return [
                {
                    "label": _option_label(o),
                    "count": counts.get(str(o["code"]), 0),
                    "share": counts.get(str(o["code"]), 0) / n,
                    "own": str(o["code"]) in own_codes,
                }
                for o in self.question.options
            ]
        return []


def _option_label(option: dict[str, Any]) -> str:
    if (get_language() or "").startswith("zh") and option.get("label_zh"):
        return str(option["label_zh"])
    return str(option.get("label_en") or option["code"])


def _year_label(code: str) -> str:
    return {ALREADY: _("Already realised"), NEVER: _("Not by the horizon")}.get(code, code)


def build_fields(
    *,
    questions: list[Question],
    values: dict[str, Any],
    errors: dict[str, str],
    feedback: dict[str, Feedback],
    current_year: int,
    horizon_year: int,
    kept: Collection[str] = (),
) -> list[Field]:
    """The questions as the template draws them; ``kept``: keys whose value is the previous round's answer,
    shown to keep or revise and not yet saved in this round."""
    fields = []
    for question in questions:
        value = values.get(question.key)
        item = Field(question=question, value=value, error=errors.get(question.key, ""), kept=question.key in kept)
        item.feedback = feedback.get(question.key)
        qtype = question.qtype
        if qtype in (Question.Type.SCALE, Question.Type.SINGLE):
            item.choices = [
                Choice(str(o["code"]), _option_label(o), str(value) == str(o["code"])) for o in question.options
            ]
        elif qtype == Question.Type.MULTI:
            chosen = set(value or [])
            item.choices = [
                Choice(str(o["code"]), _option_label(o), str(o["code"]) in chosen) for o in question.options
            ]
        elif qtype == Question.Type.YEAR:
            options = [(ALREADY, _year_label(ALREADY))]
            options += [(str(y), str(y)) for y in range(current_year, horizon_year + 1)]
            options += [(NEVER, _year_label(NEVER))]
            item.choices = [Choice(v, label, str(value) == v) for v, label in options]
        if qtype == Question.Type.SCALE and item.feedback is not None and value not in (None, "", CANT_JUDGE):
            option = next((o for o in question.options if str(o["code"]) == str(value)), None)
            if option is not None:
                item.prompt = item.feedback.outside_iqr(option_value(option))
        fields.append(item)
    return fields
