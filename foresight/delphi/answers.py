"""Validation and coding of one answer value, by question type. Pure: no database access.

Used by ``services.responses.response_save`` (the web path and ``simulate_study``) and by the export.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from foresight.core.text import clean_text
from foresight.delphi.models import Question

CANT_JUDGE = "cant_judge"
ALREADY = "already"
NEVER = "never"
MIN_YEAR = 2000
MAX_TEXT = 1000  # characters of a text answer (Answer.value_text)


def option_key(option: Mapping[str, Any]) -> str:
    """An option as figures key it: a scale option by its value (its code when it has none: "1" … "5"),
    a choice option by its code."""
    return str(option.get("value", option["code"]))


def option_value(option: Mapping[str, Any]) -> float:
    """The number a scale option codes to (``option_key`` as a number)."""
    return float(option_key(option))


@dataclass(frozen=True)
class Coded:
    """One answer as stored: exactly one of the value fields is set, or ``cant_judge``."""

    cant_judge: bool = False
    value_num: float | None = None
    value_code: str = ""
    value_codes: list[str] = field(default_factory=list)
    value_text: str = ""


def _error(question: Question, message: str) -> ValidationError:
    return ValidationError({question.key: [message]})


def parse_answer(question: Question, raw: Any, *, current_year: int, horizon_year: int) -> Coded | None:
    """Check one raw answer (as typed or sent by the API) and code it. ``None`` means "no answer yet".

    Raw forms: ``"cant_judge"``; scale/single: the option code; multi: a list of codes;
    year: an integer year, ``"already"`` or ``"never"``; text: a string.
    """
    if raw is None or raw == "" or raw == []:
        return None
    if raw == CANT_JUDGE:
        if not question.allow_cant_judge:
            raise _error(question, "This question needs an answer; “can't judge” is not offered here.")
        return Coded(cant_judge=True)
    qtype = question.qtype
    codes = question.option_values()
    if qtype == Question.Type.SCALE:
        code = str(raw).strip()
        if code not in codes:
            raise _error(question, f"Choose one of {', '.join(codes)}.")
        option = next(o for o in question.options if str(o["code"]) == code)
        return Coded(value_num=option_value(option), value_code=code)
    if qtype == Question.Type.SINGLE:
        code = str(raw).strip()
        if code not in codes:
            raise _error(question, "Choose one of the options.")
        return Coded(value_code=code)
    if qtype == Question.Type.MULTI:
        values = raw if isinstance(raw, list | tuple) else [raw]
        chosen = [str(v).strip() for v in values]
        if any(c not in codes for c in chosen):
            raise _error(question, "Choose among the options offered.")
        if len(set(chosen)) != len(chosen):
            raise _error(question, "Each option can be chosen once.")
        if question.max_choices and len(chosen) > question.max_choices:
            raise _error(question, f"Choose at most {question.max_choices}.")
        order = {c: i for i, c in enumerate(codes)}
        return Coded(value_codes=sorted(chosen, key=order.__getitem__))
    if qtype == Question.Type.YEAR:
        text = str(raw).strip().lower()
        if text in (ALREADY, NEVER):
            return Coded(value_code=text)
        if isinstance(raw, bool):
            raise _error(question, "Give a year.")
        try:
            year = int(text)
        except ValueError:
            raise _error(question, "Give a year, “already realised” or “not by the horizon”.") from None
        if not current_year <= year <= horizon_year:
            raise _error(question, f"Give a year from {current_year} to {horizon_year}.")
        return Coded(value_num=float(year))
    if qtype == Question.Type.TEXT:
        text = clean_text(raw, limit=MAX_TEXT, field=question.key)
        return Coded(value_text=text) if text else None
    raise _error(question, "Unknown question type.")


def export_value(
    *, qtype: str, cant_judge: bool, value_num: float | None, value_code: str, value_codes: list[str], value_text: str
) -> str:
    """The value column of ``responses.csv``: codes, years, ``already``/``never``, ``|``-joined options, or empty for can't judge."""
    if cant_judge:
        return ""
    if qtype == Question.Type.SCALE:
        return str(int(value_num)) if value_num is not None and float(value_num).is_integer() else str(value_num)
    if qtype == Question.Type.YEAR:
        return value_code if value_code else str(int(value_num or 0))
    if qtype == Question.Type.MULTI:
        return "|".join(value_codes)
    if qtype == Question.Type.SINGLE:
        return value_code
    return value_text
