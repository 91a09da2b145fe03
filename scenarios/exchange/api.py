"""Read-only public API of the published scenario releases: the list, one release with its counts, and its
items (each exactly as the release published it, paginated and filterable)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Count, Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.reverse import reverse

from foresight.core.api import CachedPublicRead, StrictFilterSet
from scenarios.exchange import selectors
from scenarios.models import Entry, Release, ReleaseItem, Scenario


class ReleaseSerializer(serializers.ModelSerializer[Release]):
    replaces: serializers.SlugRelatedField[Release] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text="Code of the release this one corrects"
    )
    counts = serializers.SerializerMethodField(help_text="Items by change: new, changed, withdrawn")
    items_url = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            "code",
            "number",
            "title_en",
            "title_zh",
            "note_en",
            "note_zh",
            "released_on",
            "published_at",
            "fingerprint",
            "replaces",
            "counts",
            "items_url",
        ]

    def get_counts(self, release: Release) -> dict[str, int]:
        return {change: getattr(release, f"count_{change}", 0) for change in ReleaseItem.Change.values}

    def get_items_url(self, release: Release) -> str:
        return reverse(
            "api-release-item-list", kwargs={"release_code": release.code}, request=self.context.get("request")
        )


class ReleaseItemSerializer(serializers.ModelSerializer[ReleaseItem]):
    snapshot = serializers.JSONField(help_text="The entry exactly as the release published it")

    class Meta:
        model = ReleaseItem
        fields = ["change", "snapshot"]


class ReleaseItemFilter(StrictFilterSet):
    kind = django_filters.ChoiceFilter(method="noop", choices=Entry.Kind.choices)
    change = django_filters.ChoiceFilter(method="noop", choices=ReleaseItem.Change.choices)
    setting = django_filters.ChoiceFilter(method="noop", choices=Scenario.Setting.choices)

    class Meta:
        model = ReleaseItem
        fields: list[str] = []

    def noop(self, queryset: QuerySet[ReleaseItem], name: str, value: Any) -> QuerySet[ReleaseItem]:
        return queryset

    def filter_queryset(self, queryset: QuerySet[ReleaseItem]) -> QuerySet[ReleaseItem]:
        data = self.form.cleaned_data
        if data.get("kind"):
            queryset = queryset.filter(entry__kind=data["kind"])
        if data.get("change"):
            queryset = queryset.filter(change=data["change"])
        if data.get("setting"):
            queryset = queryset.filter(entry__setting=data["setting"])
        return queryset


def _with_counts(queryset: QuerySet[Release]) -> QuerySet[Release]:
    return queryset.annotate(
        **{f"count_{c}": Count("items", filter=Q(items__change=c)) for c in ReleaseItem.Change.values}
    )


class ReleaseViewSet(CachedPublicRead, viewsets.ReadOnlyModelViewSet[Release]):
    """Published scenario releases (dated, numbered scenario lists), newest first, addressed by code."""

    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    serializer_class = ReleaseSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Release]:
        return _with_counts(selectors.release_published_list().select_related("replaces"))

    def get_object(self) -> Release:
        release = selectors.release_public_get(code=self.kwargs["code"])
        return _with_counts(Release.objects.filter(pk=release.pk)).select_related("replaces").get()


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("release_code", str, OpenApiParameter.PATH, description="Code of a published release")
        ]
    )
)
class ReleaseItemViewSet(CachedPublicRead, mixins.ListModelMixin, viewsets.GenericViewSet[ReleaseItem]):
    """The items of a published release: each entry it lists, with what the release changed (new, changed,
    withdrawn) and the entry exactly as published (the fingerprint covers these snapshots), by kind and code."""

    serializer_class = ReleaseItemSerializer
    filterset_class = ReleaseItemFilter

    def get_queryset(self) -> QuerySet[ReleaseItem]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no release to read
            return ReleaseItem.objects.none()
        release = selectors.release_public_get(code=self.kwargs["release_code"])
        return release.items.order_by("entry__kind", "entry__code")
