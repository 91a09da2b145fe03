"""The one error contract between services and the views and API that call them.

Services signal a refusal with one of three exceptions, and every HTML view and the DRF exception
handler turn it into a response through :func:`error_status` and :func:`error_messages`:

* ``django.core.exceptions.ValidationError``: a value the caller gave is wrong (**400**). Messages about
  one field are keyed by that field, so a form can show them beside it.
* :class:`Conflict` (a ``ValidationError``): the request is well formed but the object's state refuses
  it (**409**): a closed round, a published edition, a frozen study, a batch that is already running.
  It may key its messages by field too ("entries": the topics still without a rationale).
* ``django.core.exceptions.PermissionDenied``: this person may not do this (**403**), with a message
  that says why.

Anything else is a bug and surfaces as a 500.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404


class Conflict(ValidationError):
    """The object's state refuses the request (HTTP 409); the message says what state and what to do."""


DomainError = ValidationError | PermissionDenied


def error_status(exc: Exception) -> int:
    """The HTTP status of a service error: 409 for a conflict, 400 for a bad value, 403, 404."""
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, ValidationError):
        return 400
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, Http404):
        return 404
    raise TypeError(f"not a service error: {exc!r}")


def error_messages(exc: Exception) -> list[str]:
    """The messages of a service error, as a person should read them (never a Python repr)."""
    if isinstance(exc, ValidationError):
        return [str(m) for m in exc.messages]
    text = str(exc.args[0]) if exc.args else ""
    return [text] if text else []


def error_message(exc: Exception) -> str:
    return " ".join(error_messages(exc))


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """The messages keyed by field (``"__all__"`` for the rest), as the API body carries them."""
    if hasattr(exc, "error_dict"):
        return {name: [str(m) for m in ValidationError(errors).messages] for name, errors in exc.error_dict.items()}
    return {"detail": error_messages(exc)}
