"""Free text as people type it and as it is stored: one rule for rationales, arguments, text answers and cells."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def clean_text(value: object, *, limit: int | None = None, field: str = "text") -> str:
    """The text as it is stored: NUL characters removed (PostgreSQL text cannot hold them), surrounding
    whitespace stripped, and at most ``limit`` characters after that (a ``ValidationError`` keyed by
    ``field`` otherwise). ``None`` is the empty text.
    """
    text = ("" if value is None else str(value)).replace("\x00", "").strip()
    if limit is not None and len(text) > limit:
        raise ValidationError({field: [_("At most %(n)s characters.") % {"n": f"{limit:,}"}]})
    return text


ASCII_DIGITS = frozenset("0123456789")


def is_ascii_digits(raw: str) -> bool:
    """Only the digits 0-9, at least one. ``str.isdigit()`` also takes "²", "①" or "٣", which ``int()``
    refuses or reads as another number, so user input is never checked with it."""
    return bool(raw) and set(raw) <= ASCII_DIGITS


def positive_int(raw: str | None, *, maximum: int | None = None) -> int | None:
    """A whole number from 1 (to ``maximum``) written in ASCII digits, else ``None``: the one reading of a
    page number, a page size or any count typed into a URL (no sign, space, underscore or other script)."""
    if raw is None or not is_ascii_digits(raw) or len(raw) > 18:
        return None
    value = int(raw)
    if value < 1 or (maximum is not None and value > maximum):
        return None
    return value
