"""Input of the exchange's organisation pages. Forms check and shape input; services decide and write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from scenarios.exchange.organisations import PROFILE_FIELDS
from scenarios.models import Membership, Organisation

if TYPE_CHECKING:  # the stubs make ModelForm generic; at run time it is not
    _OrganisationModelForm = forms.ModelForm[Organisation]
else:
    _OrganisationModelForm = forms.ModelForm


class OrganisationForm(_OrganisationModelForm):
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
            "website": _("Website"),
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
