from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from foresight.catalog import selectors as catalog_selectors
from foresight.core.forms import blank_choice, choices_set
from scenarios.models import Scenario
from scenarios.selectors import ScenarioFilters


class ScenarioFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200, strip=True)
    setting = forms.ChoiceField(
        label=_("Setting"), required=False, choices=blank_choice(_("Any setting")) + list(Scenario.Setting.choices)
    )
    scenario_type = forms.ChoiceField(
        label=_("Type"), required=False, choices=blank_choice(_("Any type")) + list(Scenario.ScenarioType.choices)
    )
    list_kind = forms.ChoiceField(
        label=_("List kind"), required=False, choices=blank_choice(_("Any list kind")) + list(Scenario.ListKind.choices)
    )
    maturity = forms.ChoiceField(
        label=_("Maturity"), required=False, choices=blank_choice(_("Any maturity")) + list(Scenario.Maturity.choices)
    )
    direction = forms.ChoiceField(label=_("Direction"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        zh = (get_language() or "en").startswith("zh")
        directions = catalog_selectors.direction_options().values_list("slug", "name_en", "name_zh")
        choices_set(
            self,
            "direction",
            blank_choice(_("Any direction"))
            + [(slug, (name_zh if zh else name_en) or name_en) for slug, name_en, name_zh in directions],
        )

    def filters(self) -> ScenarioFilters:
        data = self.cleaned_data
        return ScenarioFilters(
            **{name: data.get(name) or "" for name in ScenarioFilters.__dataclass_fields__ if name in data}
        )
