"""Input of the pilot pages. Forms check and shape input; ``scenarios.exchange.pilots`` decides and writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from scenarios.exchange.pilots import EvidenceIn
from scenarios.models import Pilot, PilotStageChange, Scenario


def _date_field(label: Any) -> forms.DateField:
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}))


class EvidenceForm(forms.Form):
    """The evidence of a stage change: a report or a link (its web address), or a figure (sites, users)."""

    on = _date_field(_("Reached on"))
    evidence_kind = forms.ChoiceField(label=_("Evidence"), choices=PilotStageChange.Evidence.choices)
    evidence_url = forms.CharField(
        label=_("Web address of the report or link"), max_length=500, required=False, widget=forms.URLInput
    )
    evidence_title = forms.CharField(label=_("Title of the evidence"), max_length=300, required=False)
    sites_reached = forms.IntegerField(label=_("Sites reached"), min_value=0, max_value=1_000_000_000, required=False)
    users_reached = forms.IntegerField(label=_("Users reached"), min_value=0, max_value=1_000_000_000, required=False)
    note_en = forms.CharField(
        label=_("Note (English)"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    note_zh = forms.CharField(
        label=_("Note (Chinese)"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def evidence(self) -> EvidenceIn:
        data = self.cleaned_data
        return EvidenceIn(
            kind=data["evidence_kind"],
            url=data.get("evidence_url") or "",
            title=data.get("evidence_title") or "",
            note_en=data.get("note_en") or "",
            note_zh=data.get("note_zh") or "",
            sites_reached=data.get("sites_reached"),
            users_reached=data.get("users_reached"),
        )


class PilotOpenForm(EvidenceForm):
    field_order = ["site_en", "site_zh", "region_en", "region_zh", "conversation", "suppliers"]

    site_en = forms.CharField(label=_("Site (English)"), max_length=300, required=False)
    site_zh = forms.CharField(label=_("Site (Chinese)"), max_length=300, required=False)
    region_en = forms.CharField(label=_("Region (English)"), max_length=200, required=False)
    region_zh = forms.CharField(label=_("Region (Chinese)"), max_length=200, required=False)
    conversation = forms.TypedChoiceField(
        label=_("From the conversation (agreed)"), coerce=int, empty_value=None, required=False
    )
    suppliers = forms.CharField(
        label=_("Suppliers"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One supplier a line: the organisation's code, and the code of its capability entry after a space "
            "if it brings one."
        ),
    )

    def __init__(self, *args: Any, conversations: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["conversation"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("none: suppliers named below")), *(conversations or [])]

    def clean_suppliers(self) -> list[tuple[str, str]]:
        pairs = []
        for line in (self.cleaned_data.get("suppliers") or "").splitlines():
            parts = line.split()
            if not parts:
                continue
            if len(parts) > 2:
                raise forms.ValidationError(_("A line has an organisation's code and at most one entry code."))
            pairs.append((parts[0], parts[1] if len(parts) == 2 else ""))
        return pairs


class StageForm(EvidenceForm):
    field_order = ["stage", "on"]

    stage = forms.ChoiceField(label=_("Stage reached"), choices=Pilot.Stage.choices)
    stop_reason_en = forms.CharField(
        label=_("Why it stopped (English)"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    stop_reason_zh = forms.CharField(
        label=_("Why it stopped (Chinese)"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, stages: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["stage"]
        assert isinstance(field, forms.ChoiceField)
        if stages is not None:
            field.choices = [(s, Pilot.Stage(s).label) for s in stages]


class EvidenceRejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class PilotFilterForm(forms.Form):
    """The public filters of the pilot list and the period of the pipeline's chart."""

    stage = forms.ChoiceField(label=_("Stage"), required=False, choices=[("", _("any")), *Pilot.Stage.choices])
    setting = forms.ChoiceField(label=_("Setting"), required=False, choices=[("", _("any")), *Scenario.Setting.choices])
    region = forms.CharField(label=_("Region"), required=False, max_length=200)
    direction = forms.SlugField(label=_("Direction"), required=False, max_length=80)


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"), required=False, choices=[("year", _("Year")), ("quarter", _("Quarter"))]
    )
