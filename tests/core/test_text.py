"""Free text as stored (``foresight.core.text.clean_text``): the rule behind rationales, arguments and text answers."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from foresight.core.text import clean_text


def test_clean_text_strips_nuls_and_whitespace_and_refuses_what_is_too_long() -> None:
    assert clean_text("  a\x00b \n") == "ab"
    assert clean_text(None) == ""
    assert clean_text("\x00 \x00") == ""
    assert clean_text(" " + "x" * 10 + "\x00 ", limit=10) == "x" * 10  # the limit counts the stored text
    with pytest.raises(ValidationError) as caught:
        clean_text("x" * 11, limit=10, field="rationale")
    assert caught.value.message_dict == {"rationale": ["At most 10 characters."]}
    assert clean_text("x" * 5000) == "x" * 5000  # no limit unless given
