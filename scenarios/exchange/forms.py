"""Input of the exchange's organisation pages. Forms check and shape input; services decide and write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from foresight.catalog.models import Topic
from scenarios.exchange.entries import CAPABILITY_ONLY, DEMAND_ONLY
from scenarios.exchange.entries import FIELDS as ENTRY_FIELDS
from scenarios.exchange.organisations import PROFILE_FIELDS
from scenarios.models import Entry, Membership, Organisation, Scenario

if TYPE_CHECKING:  # the stubs make ModelForm generic; at run time it is not
    _OrganisationModelForm = forms.ModelForm[Organisation]
else:
    _OrganisationModelForm = forms.ModelForm


class OrganisationForm(_OrganisationModelForm):
    # Declared here for its scheme: a typed "example.org" means https (Django 6's default, stated now).
    website = forms.URLField(label=_("Website"), max_length=300, required=False, assume_scheme="https")

    class Meta:
        model = Organisation
        fields = list(PROFILE_FIELDS)
        widgets = {
            "description_en": forms.Textarea(attrs={"rows": 4}),
            "description_zh": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {
            "name_en": _("Name (English)"),
            "name_zh": _("Name (Chinese)"),
            "kind": _("Kind"),
            "region_en": _("Region (English)"),
            "region_zh": _("Region (Chinese)"),
            "sector_en": _("Sector (English)"),
            "sector_zh": _("Sector (Chinese)"),
            "description_en": _("About the organisation (English)"),
            "description_zh": _("About the organisation (Chinese)"),
        }
        help_texts = {"name_zh": _("Fill in either language first; the other can follow.")}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("name_en") or "").strip() and not (data.get("name_zh") or "").strip():
            raise forms.ValidationError(_("Give the organisation a name in English or Chinese."))
        return data


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class JoinForm(forms.Form):
    message = forms.CharField(
        label=_("Message to the organisation's admins"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("decline", _("Decline"))])
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.VIEWER)


def _topic_choices() -> list[tuple[str, str]]:
    return [(t.code, f"{t.name} ({t.code})") for t in Topic.objects.public().order_by("code")]


def _text(label: Any, *, rows: int = 0, max_length: int = 2000) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(label=label, required=False, max_length=max_length, widget=widget)


class EntryForm(forms.Form):
    """One entry's fields for its kind; either language may come first. Topics by role, sources one per line."""

    title_en = _text(_("Title (English)"), max_length=200)
    title_zh = _text(_("Title (Chinese)"), max_length=200)
    summary_en = _text(_("Summary (English)"), rows=4, max_length=4000)
    summary_zh = _text(_("Summary (Chinese)"), rows=4, max_length=4000)
    setting = forms.ChoiceField(label=_("Setting"), choices=[("", "—"), *Scenario.Setting.choices], required=False)
    region_en = _text(_("Region (English)"), max_length=200)
    region_zh = _text(_("Region (Chinese)"), max_length=200)
    why_now_en = _text(_("Why it matters now (English)"), rows=3)
    why_now_zh = _text(_("Why it matters now (Chinese)"), rows=3)
    location_en = _text(_("Location (English)"), max_length=300)
    location_zh = _text(_("Location (Chinese)"), max_length=300)
    scale_sites = forms.IntegerField(label=_("Sites"), required=False, min_value=0, max_value=10**9)
    scale_users = forms.IntegerField(label=_("Users"), required=False, min_value=0, max_value=10**9)
    offers = forms.MultipleChoiceField(
        label=_("What the owner offers"),
        choices=Entry.Offer.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    budget_min = forms.IntegerField(label=_("Budget from (yuan)"), required=False, min_value=0, max_value=10**15)
    budget_max = forms.IntegerField(label=_("Budget up to (yuan)"), required=False, min_value=0, max_value=10**15)
    needs_en = _text(_("Capabilities needed (English)"), rows=3)
    needs_zh = _text(_("Capabilities needed (Chinese)"), rows=3)
    window_start = forms.DateField(label=_("Open from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    window_end = forms.DateField(label=_("Open until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    constraints_en = _text(_("Constraints: safety, data, regulation (English)"), rows=3)
    constraints_zh = _text(_("Constraints: safety, data, regulation (Chinese)"), rows=3)
    trl = forms.TypedChoiceField(
        label=_("Readiness (TRL)"),
        choices=[("", "—"), *[(str(n), str(n)) for n in range(1, 10)]],
        coerce=int,
        empty_value=None,
        required=False,
    )
    trl_needed = forms.TypedChoiceField(
        label=_("TRL needed"),
        help_text=_("The lowest technology readiness level (1–9) a capability should have to be tried here."),
        choices=[("", "—"), *[(str(n), str(n)) for n in range(1, 10)]],
        coerce=int,
        empty_value=None,
        required=False,
    )
    trl_evidence_en = _text(_("Evidence of the readiness (English)"), rows=3)
    trl_evidence_zh = _text(_("Evidence of the readiness (Chinese)"), rows=3)
    deployments_en = _text(_("Where it has been deployed or tested (English)"), rows=3)
    deployments_zh = _text(_("Where it has been deployed or tested (Chinese)"), rows=3)
    conditions_en = _text(_("Conditions it needs (English)"), rows=3)
    conditions_zh = _text(_("Conditions it needs (Chinese)"), rows=3)
    core = forms.MultipleChoiceField(label=_("Core topics"), required=False)
    enabling = forms.MultipleChoiceField(label=_("Enabling topics"), required=False)
    complementary = forms.MultipleChoiceField(label=_("Complementary topics"), required=False)
    sources = forms.CharField(
        label=_("Sources and evidence"),
        required=False,
        max_length=6000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One web link per line, optionally followed by a title."),
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        for name in CAPABILITY_ONLY if kind == Entry.Kind.DEMAND else DEMAND_ONLY:
            del self.fields[name]
        choices = _topic_choices()
        for role in ("core", "enabling", "complementary"):
            field = self.fields[role]
            assert isinstance(field, forms.MultipleChoiceField)
            field.choices = choices

    @classmethod
    def initial_for(cls, entry: Entry) -> dict[str, Any]:
        initial: dict[str, Any] = {name: getattr(entry, name) for name in ENTRY_FIELDS}
        initial["sources"] = "\n".join(f"{s['url']} {s.get('title', '')}".strip() for s in entry.sources)
        for role in ("core", "enabling", "complementary"):
            initial[role] = [link.topic.code for link in entry.topic_links.all() if link.role == role]
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        seen: dict[str, str] = {}
        for role in ("core", "enabling", "complementary"):
            for code in data.get(role) or []:
                if code in seen:
                    raise forms.ValidationError(_("A topic can have one role only: %(code)s.") % {"code": code})
                seen[code] = role
        return data

    def service_values(self) -> dict[str, Any]:
        """The cleaned data as the entry services take it (topics as (code, role) pairs, sources parsed)."""
        data = self.cleaned_data
        values = {name: data[name] for name in ENTRY_FIELDS if name in data and name != "sources"}
        values["sources"] = [
            {"url": line.split(None, 1)[0], "title": (line.split(None, 1)[1:] or [""])[0]}
            for line in (data.get("sources") or "").splitlines()
            if line.strip()
        ]
        values["topics"] = [
            (code, role) for role in ("core", "enabling", "complementary") for code in data.get(role) or []
        ]
        return values


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class MergeForm(forms.Form):
    """A curator merges the entry into the one it repeats, chosen by its code."""

    into = forms.SlugField(
        label=_("Merge into the entry (its code)"),
        max_length=20,
        widget=forms.TextInput(attrs={"list": "merge-targets"}),
        help_text=_("The entry this one repeats, for example one of the similar entries above."),
    )
    note = forms.CharField(
        label=_("Note (optional)"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
