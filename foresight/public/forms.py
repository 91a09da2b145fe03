"""The public topic list's filter form. Choices are read once per request (a fixed number of queries)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from foresight.catalog import selectors
from foresight.catalog.models import Topic
from foresight.catalog.selectors import MAX_QUERY_LENGTH
from foresight.core.forms import blank_choice, choices_set
from foresight.public.selectors import PublicTopicFilters
from scenarios.models import Scenario


class TopicFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=MAX_QUERY_LENGTH, strip=True)
    direction = forms.ChoiceField(label=_("Direction"), required=False)
    area = forms.ChoiceField(label=_("Area"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=blank_choice(_("Any kind")) + list(Topic.Kind.choices)
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=blank_choice(_("Any status")) + [(s.value, s.label) for s in Topic.PUBLIC_STATUSES],
    )
    setting = forms.ChoiceField(
        label=_("Scenario setting"),
        required=False,
        choices=blank_choice(_("Any setting")) + list(Scenario.Setting.choices),
    )
    cluster = forms.ChoiceField(label=_("List"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        directions = list(selectors.direction_options().values_list("slug", "name_en", "name_zh"))
        areas = list(selectors.area_list().values_list("slug", "name_en", "name_zh"))
        clusters = list(selectors.cluster_list().values_list("code", "name_en", "name_zh"))

        zh = (get_language() or "en").startswith("zh")
        pick = 2 if zh else 1
        choices_set(self, "direction", blank_choice(_("Any direction")) + [(d[0], d[pick] or d[1]) for d in directions])
        choices_set(self, "area", blank_choice(_("Any area")) + [(a[0], a[pick] or a[1]) for a in areas])
        choices_set(self, "cluster", blank_choice(_("Any list")) + [(c[0], c[pick] or c[1]) for c in clusters])

    def filters(self) -> PublicTopicFilters:
        data = self.cleaned_data
        return PublicTopicFilters(**{name: data.get(name) or "" for name in PublicTopicFilters.__dataclass_fields__})
