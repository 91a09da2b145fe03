"""One rule for what an answer option stands for: a scale option's value (its code when it has none), a
choice option's code — the key of its count in every distribution, and the number a scale answer codes to."""

from __future__ import annotations

from foresight.delphi.answers import option_key, option_value
from foresight.delphi.questions import DEFAULT_QUESTIONS


def test_a_scale_option_is_keyed_by_its_value_else_its_code() -> None:
    assert option_key({"code": "3"}) == "3" and option_value({"code": "3"}) == 3.0
    assert option_key({"code": "high", "value": 4}) == "4" and option_value({"code": "high", "value": 4}) == 4.0
    assert option_key({"code": "usa", "label_en": "USA"}) == "usa"


def test_every_scale_question_of_the_question_set_codes_to_distinct_numbers() -> None:
    scales = [q for q in DEFAULT_QUESTIONS if q.get("qtype") == "scale"]
    assert scales
    for question in scales:
        values = [option_value(o) for o in question["options"]]
        assert len(set(values)) == len(values) and values == sorted(values), question["key"]
