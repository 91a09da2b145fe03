"""Input of the conversation pages (scenarios.exchange.views_conversations). Forms check and shape input;
the services in scenarios.exchange.conversations decide and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from scenarios.models import Conversation


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Message"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))


class InterestForm(forms.Form):
    """A supplier's first message about a demand entry, as one of her organisations, optionally naming one of
    its published capability entries (both by code)."""

    supplier = forms.SlugField(label=_("As the organisation"), max_length=60)
    capability = forms.SlugField(label=_("About our capability entry"), max_length=20, required=False)
    body = forms.CharField(
        label=_("What your organisation can bring"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )


class InviteToRespondForm(forms.Form):
    body = forms.CharField(
        label=_("Message (optional)"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(v, label) for v, label in Conversation.Outcome.choices if v != Conversation.Outcome.NO_REPLY],
    )


class ReportForm(forms.Form):
    reason = forms.CharField(label=_("What is wrong"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    message = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class ReportDecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("uphold", _("Uphold")), ("dismiss", _("Dismiss"))])
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
