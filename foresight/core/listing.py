"""The shape every public filtered list shares: validate the filter form, page the results,
render the whole page or only its ``#results`` partial for htmx. Used by the topic and scenario lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from foresight.core.htmx import wants_partial


def filtered_list(
    request: HttpRequest,
    *,
    form: forms.Form,
    results: Callable[[], QuerySet[Any]],  # called only when the form is valid
    template: str,
    page_size: int,
) -> HttpResponse:
    """A bad filter gets a 400 with the form's messages and no results; a bad page number gets the nearest page."""
    rows: QuerySet[Any] | list[Any]
    if form.is_valid():
        rows, status = results(), 200
    else:
        rows, status = [], 400
    page = Paginator(rows, page_size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, f"{template}#results" if wants_partial(request) else template, context, status=status)
