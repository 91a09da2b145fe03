"""The one error contract: a service error has one status and one message in the HTML views and the API."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from foresight.core.api import exception_handler
from foresight.core.errors import Conflict, error_message, error_status, field_errors
from foresight.delphi.services.responses import RoundClosed
from foresight.priorities.models import EditionImmutable


@pytest.mark.parametrize(
    ("exc", "status", "message"),
    [
        (ValidationError("Choose at least one topic."), 400, "Choose at least one topic."),
        (ValidationError({"closes_at": ["Must be in the future."]}), 400, "Must be in the future."),
        (Conflict("Round 1 is closed."), 409, "Round 1 is closed."),
        (Conflict({"entries": ["2 topics still need a rationale."]}), 409, "2 topics still need a rationale."),
        (RoundClosed("This round is closed."), 409, "This round is closed."),
        (EditionImmutable("This edition is published."), 409, "This edition is published."),
        (PermissionDenied("You have left this study."), 403, "You have left this study."),
    ],
)
def test_each_service_error_has_one_status_and_a_readable_message(exc: Exception, status: int, message: str) -> None:
    assert error_status(exc) == status
    assert error_message(exc) == message  # never "['…']", the repr a ValidationError's str() gives


def test_an_unexpected_exception_is_not_mapped_to_a_client_error() -> None:
    with pytest.raises(TypeError):
        error_status(ValueError("a bug"))


def test_field_messages_stay_on_their_field() -> None:
    exc = ValidationError({"weights": ["Give a weight."], "seed": ["A whole number."]})
    assert field_errors(exc) == {"weights": ["Give a weight."], "seed": ["A whole number."]}
    assert field_errors(ValidationError("Nope.")) == {"detail": ["Nope."]}


@pytest.mark.parametrize(
    ("exc", "status", "body"),
    [
        (ValidationError({"answers": ["Unknown question: x"]}), 400, {"answers": ["Unknown question: x"]}),
        (ValidationError("Please answer your expertise."), 400, {"detail": ["Please answer your expertise."]}),
        (RoundClosed("This round is closed."), 409, {"detail": "This round is closed."}),
        (Conflict({"entries": ["1 topic needs a rationale."]}), 409, {"entries": ["1 topic needs a rationale."]}),
        (PermissionDenied("You have left this study."), 403, {"detail": "You have left this study."}),
    ],
)
def test_the_api_answers_with_the_status_and_message_of_the_html_views(exc: Exception, status: int, body: dict) -> None:
    response = exception_handler(exc, {})
    assert response is not None
    assert response.status_code == status == error_status(exc)
    assert response.data == body
