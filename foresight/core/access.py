"""Who may enter the staff areas (the Delphi console and the priority workbench).

Every staff view names the permissions it needs (``role_required``): staff status alone opens nothing.
The roles that hold those permissions are in ``foresight.core.roles``; which studies a holder may work
on is the study's own rule (``Study.objects.for_staff``), applied where the view looks the object up.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
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
            raise PermissionDenied(_("Staff only."))
        return view(request, *args, **kwargs)

    return wrapper


def role_required(*perms: str) -> Callable[[View], View]:
    """Staff who hold at least one of ``perms`` (``app_label.codename``); others get 403, anonymous visitors
    the login page."""
    if not perms:
        raise ValueError("role_required needs at least one permission")

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not any(request.user.has_perm(p) for p in perms):
                raise PermissionDenied(_("Your role does not allow this page."))
            return view(request, *args, **kwargs)

        return staff_required(wrapper)

    return decorate
