"""Form plumbing shared by the staff areas: services raise Django ``ValidationError``; forms show it."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def apply_service_error(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError in the form: field messages on their field, the rest above the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
