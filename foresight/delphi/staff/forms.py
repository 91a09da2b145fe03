"""Input validation of the staff console. Forms check and shape input; services decide and write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from foresight.core.roles import study_scoped_permissions, users_with_permission
from foresight.delphi import stopping
from foresight.delphi.models import Expert, Question, Study
from foresight.delphi.services.panel import MAX_CSV_BYTES
from foresight.delphi.staff.selectors import topic_choices_for_study

# <input type="datetime-local"> sends "2030-01-31T09:00" (seconds only when the step asks for them).
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]

if TYPE_CHECKING:  # the Django stubs' type for lazy translations (a development dependency)
    from django_stubs_ext import StrOrPromise


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def datetime_field(label: StrOrPromise, *, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=DATETIME_FORMATS,
        widget=DateTimeLocalInput(),
        error_messages={"invalid": _("Enter a date and time such as 2030-01-31 09:00.")},
    )


# Help texts of the rules shared by the create and settings forms (README, "Minimum evidence" and
# "Stopping rule").
MIN_RESPONDENTS_HELP = _(
    "A topic with fewer respondents is published as “insufficient evidence”: no rank, no score (default 10)."
)
MIN_HIGH_HELP = _(
    "A figure labelled high-expertise needs at least this many high-expertise respondents; below it the "
    "all-respondent figure stands in, and says so (default 5)."
)


class StudyCreateForm(forms.Form):
    title_en = forms.CharField(label=_("Title (English)"), max_length=300)
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=300, required=False)
    description_en = forms.CharField(
        label=_("Description (English)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    organiser = forms.CharField(
        label=_("Run by"), max_length=300, required=False, help_text=_("Named on the experts' consent page.")
    )
    contact_email = forms.EmailField(
        label=_("Contact e-mail for experts"),
        required=False,
        help_text=_("For questions and for leaving the study; empty: the site's sender address."),
    )
    code = forms.SlugField(
        label=_("Code"),
        max_length=40,
        required=False,
        help_text=_("Letters, digits and hyphens; used in links. Leave empty for a generated code."),
    )
    horizon_year = forms.IntegerField(label=_("Horizon year"), min_value=2000, max_value=2100)
    planned_rounds = forms.IntegerField(label=_("Planned rounds"), min_value=1, max_value=10, initial=2)
    mode = forms.ChoiceField(label=_("Mode"), choices=Study.Mode.choices, initial=Study.Mode.ROUNDS)
    anonymous = forms.BooleanField(
        label=_("Anonymous: staff see participation status only"), required=False, initial=True
    )
    k_threshold = forms.IntegerField(
        label=_("Small-cell threshold k"),
        min_value=3,
        max_value=1000,
        initial=5,
        help_text=_("No statistic from fewer respondents is shown (at least 3)."),
    )
    min_respondents = forms.IntegerField(
        label=_("Minimum evidence: respondents to a topic"),
        min_value=1,
        max_value=10000,
        initial=10,
        help_text=MIN_RESPONDENTS_HELP,
    )
    min_high_respondents = forms.IntegerField(
        label=_("Minimum evidence: high-expertise respondents"),
        min_value=1,
        max_value=10000,
        initial=5,
        help_text=MIN_HIGH_HELP,
    )
    drop_consensus_topics = forms.BooleanField(
        label=_("Drop topics that reached consensus from the next round"), required=False, initial=True
    )
    topics = forms.ModelMultipleChoiceField(
        label=_("Topics"),
        queryset=topic_choices_for_study(),
        to_field_name="code",
        error_messages={
            "required": _("Choose at least one topic."),
            "invalid_choice": _("%(value)s is not a topic that can be surveyed."),
        },
    )

    def clean_code(self) -> str:
        code: str = self.cleaned_data.get("code") or ""
        return code.lower()


class StaffChoiceField(forms.ModelMultipleChoiceField):
    """Staff by primary key; a value that cannot be one (not digits, or beyond any key) is refused before the
    database sees it."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            text = str(pk)
            if not (text.isascii() and text.isdigit() and len(text) <= 18):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": text[:40]}
                )
        return super()._check_values(value)  # type: ignore[misc]  # Django's own hook, missing from the stubs


class StudyManagersForm(forms.Form):
    managers = StaffChoiceField(
        label=_("Named managers"),
        error_messages={"invalid_choice": _("%(value)s is not a staff member whose role works on studies.")},
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Only the people named here (and superusers) can open this study in the consoles, each within "
            "their role. Name nobody to open it to everyone whose role fits."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["managers"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        # Staff whose role works on studies (superusers open every study anyway), and anyone already named
        # (to show, and to be taken off the list).
        named = Q(managed_studies__code=self.initial.get("study_code", ""))
        able = users_with_permission(*study_scoped_permissions()) & Q(is_superuser=False)
        field.queryset = get_user_model().objects.filter(able | named).distinct().order_by("username")


class StudyRulesForm(forms.Form):
    """Every setting that affects a number (``studies.RULE_FIELDS``), flattened for one form."""

    horizon_year = forms.IntegerField(label=_("Horizon year"), min_value=2000, max_value=2100)
    planned_rounds = forms.IntegerField(label=_("Planned rounds"), min_value=1, max_value=10)
    mode = forms.ChoiceField(label=_("Mode"), choices=Study.Mode.choices)
    realtime_feedback_after_own_answer = forms.BooleanField(
        label=_("Real-time mode: show the group's feedback only after one's own answer"), required=False
    )
    anonymous = forms.BooleanField(label=_("Anonymous: staff see participation status only"), required=False)
    k_threshold = forms.IntegerField(label=_("Small-cell threshold k"), min_value=3, max_value=1000)
    min_respondents = forms.IntegerField(
        label=_("Minimum evidence: respondents to a topic"),
        min_value=1,
        max_value=10000,
        help_text=MIN_RESPONDENTS_HELP,
    )
    min_high_respondents = forms.IntegerField(
        label=_("Minimum evidence: high-expertise respondents"), min_value=1, max_value=10000, help_text=MIN_HIGH_HELP
    )
    drop_consensus_topics = forms.BooleanField(
        label=_("Drop topics that reached consensus from the next round"), required=False
    )
    session_hours = forms.IntegerField(
        label=_("Hours a link keeps an expert signed in on her device"), min_value=1, max_value=720
    )
    prefill_previous = forms.BooleanField(
        label=_("Round 2 and later: fill each answer in with the expert's previous answer, to keep or revise"),
        required=False,
    )
    scale_iqr_max = forms.FloatField(label=_("Consensus: largest IQR on 5-point items"), min_value=0, max_value=4)
    top2_min = forms.FloatField(label=_("Consensus: smallest share in the top-2 box (0–1)"), min_value=0, max_value=1)
    bottom2_max = forms.FloatField(
        label=_("Consensus: share in the bottom-2 box below (0–1)"), min_value=0, max_value=1
    )
    year_iqr_max = forms.FloatField(label=_("Consensus: largest IQR of years"), min_value=0, max_value=100)
    weight_high = forms.FloatField(label=_("Weight of high expertise"), min_value=0, max_value=10)
    weight_medium = forms.FloatField(label=_("Weight of medium expertise"), min_value=0, max_value=10)
    weight_low = forms.FloatField(label=_("Weight of low expertise"), min_value=0, max_value=10)
    stable_share_changed_max = forms.FloatField(
        label=_("Stopping rule: largest share who changed their answer (0–1)"),
        min_value=0,
        max_value=1,
        help_text=_(
            "A topic is stable when, on every index item, at most this share of those who answered both rounds "
            "changed their answer (default 0.15)."
        ),
    )
    stable_p_min = forms.FloatField(
        label=_("Stopping rule: smallest Wilcoxon p (0–1)"),
        min_value=0,
        max_value=1,
        help_text=_(
            "… and the Wilcoxon signed-rank test of the change has at least this p-value (default 0.05). A topic "
            "that reached consensus or is stable needs no further round."
        ),
    )

    PLAIN = (
        "horizon_year",
        "planned_rounds",
        "mode",
        "realtime_feedback_after_own_answer",
        "anonymous",
        "k_threshold",
        "min_respondents",
        "min_high_respondents",
        "drop_consensus_topics",
        "prefill_previous",
        "session_hours",
    )
    CONSENSUS = ("scale_iqr_max", "top2_min", "bottom2_max", "year_iqr_max")
    WEIGHTS = ("high", "medium", "low")
    STOPPING = tuple(stopping.DEFAULTS)

    @classmethod
    def initial_for(cls, study: Study) -> dict[str, Any]:
        initial: dict[str, Any] = {name: getattr(study, name) for name in cls.PLAIN}
        rule = study.consensus_rule or {}
        for name in cls.CONSENSUS:
            initial[name] = rule.get(name)
        weights = study.expertise_weights or {}
        for level in cls.WEIGHTS:
            initial[f"weight_{level}"] = weights.get(level)
        initial.update(study.stopping_rules().as_dict())
        return initial

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("weight_high") == 0:
            self.add_error("weight_high", _("High expertise must weigh more than nothing."))
        return cleaned

    def changes(self, study: Study) -> dict[str, Any]:
        """The settings that differ from the study's, as ``study_update_rules`` takes them."""
        data = self.cleaned_data
        changes: dict[str, Any] = {name: data[name] for name in self.PLAIN if data[name] != getattr(study, name)}
        rule = dict(study.consensus_rule or {})
        new_rule = {**rule, **{name: float(data[name]) for name in self.CONSENSUS}}
        if new_rule != rule:
            changes["consensus_rule"] = new_rule
        weights = dict(study.expertise_weights or {})
        new_weights = {**weights, **{level: float(data[f"weight_{level}"]) for level in self.WEIGHTS}}
        if new_weights != weights:
            changes["expertise_weights"] = new_weights
        # An older study's rule lacks the stability keys: store them once they are set.
        stop = dict(study.stopping_rule or {})
        new_stop = {**stop, **{name: float(data[name]) for name in self.STOPPING}}
        if new_stop != stop:
            changes["stopping_rule"] = new_stop
        return changes


class QuestionForm(forms.Form):
    label_en = forms.CharField(label=_("Label (English)"), max_length=300)
    label_zh = forms.CharField(label=_("Label (Chinese)"), max_length=300, required=False)
    help_en = forms.CharField(
        label=_("Help (English)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    help_zh = forms.CharField(
        label=_("Help (Chinese)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    FIELDS = ("label_en", "label_zh", "help_en", "help_zh")

    @classmethod
    def for_question(cls, question: Question, data: Any = None) -> QuestionForm:
        return cls(
            data=data,
            initial={name: getattr(question, name) for name in cls.FIELDS},
            auto_id=f"q-{question.key}-%s",
        )

    def changes(self, question: Question) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name] for name in self.FIELDS if self.cleaned_data[name] != getattr(question, name)
        }


class RoundScheduleForm(forms.Form):
    opens_at = datetime_field(_("Opens at"))
    closes_at = datetime_field(_("Closes at"))


class RoundOpenForm(forms.Form):
    closes_at = datetime_field(_("Closes at (optional)"), required=False)


class RoundExtendForm(forms.Form):
    closes_at = datetime_field(_("New closing time"))


class PanelImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: email,name,sector,country,organisation,areas (area slugs separated by ;); optional: "
            "language (en or zh-hans) and timezone (such as Europe/Berlin) for the expert's e-mails. UTF-8."
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise ValidationError(_("The file is larger than %(mb)s MB.") % {"mb": MAX_CSV_BYTES // 1_000_000})
        return upload


class PanelFilterForm(forms.Form):
    q = forms.CharField(label=_("Name, e-mail or organisation"), required=False, max_length=200)
    sector = forms.ChoiceField(
        label=_("Sector"), required=False, choices=[("", _("All sectors")), *Expert.Sector.choices]
    )


class ModerateForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approved", _("Approve")), ("rejected", _("Reject"))],
        error_messages={"invalid_choice": _("Approve or reject.")},
    )


class ArgumentFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("pending", _("Pending")), ("approved", _("Approved")), ("rejected", _("Rejected"))],
    )


class ResultsRoundForm(forms.Form):
    round = forms.IntegerField(label=_("Round"), required=False, min_value=1, max_value=100)
