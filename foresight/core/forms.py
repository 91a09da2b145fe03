"""Form plumbing shared by the staff areas: services raise Django ``ValidationError``; forms show it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError

if TYPE_CHECKING:  # the Django stubs' type for lazy translations (a development dependency)
    from django_stubs_ext import StrOrPromise


def apply_service_error(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError in the form: field messages on their field, the rest above the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def blank_choice(label: StrOrPromise) -> list[tuple[str, StrOrPromise]]:
    """The "any" entry at the top of a filter's choices (the empty value, which filters nothing)."""
    return [("", label)]


def choices_set(form: forms.Form, name: str, choices: list[tuple[str, StrOrPromise]]) -> None:
    """Give a choice field of a form its choices (known only when the form is built, e.g. from the catalog)."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField), f"{name} is not a choice field"
    field.choices = choices
