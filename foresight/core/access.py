"""Who may enter the staff areas (the Delphi console and the priority workbench)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """Anonymous → the admin login (an htmx request is redirected as a whole page); non-staff → 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            login = reverse("admin:login")
            htmx = getattr(request, "htmx", None)
            if htmx:
                next_url = htmx.current_url_abs_path or request.get_full_path()
                return HttpResponseClientRedirect(f"{login}?{urlencode({'next': next_url})}")
            return redirect_to_login(request.get_full_path(), login_url=login)
        if not (user.is_active and user.is_staff):
            raise PermissionDenied("Staff only.")
        return view(request, *args, **kwargs)

    return wrapper
