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
