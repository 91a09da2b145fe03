"""Input validation of the priority workbench (staff). Forms check and shape input; services decide and write."""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from foresight.core.forms import choices_set
from foresight.priorities.labels import COMPETITIVENESS_QUADRANTS, CRITERION_LABELS, QUADRANT_LABELS, TIMING_QUADRANTS
from foresight.priorities.models import BOOTSTRAP_DEFAULT, BOOTSTRAP_MAX, BOOTSTRAP_MIN, Edition, Tier
from foresight.priorities.services.editions import MAX_RATIONALE
from foresight.priorities.services.runs import CRITERIA, DEFAULT_WEIGHTS

# Saaty's 1–9 scale, as "row criterion matters X times as much as the column criterion".
AHP_SCALE = ("9", "8", "7", "6", "5", "4", "3", "2", "1", "1/2", "1/3", "1/4", "1/5", "1/6", "1/7", "1/8", "1/9")
AHP_DEFAULT_CRITERIA = ("importance_index", "competitiveness_gap", "timing", "scenario_pull")
SEED_MAX = 2**63 - 1


def ahp_value(text: str) -> float:
    return float(Fraction(text))


def ahp_reciprocal(text: str) -> str:
    value = 1 / Fraction(text)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def pair_field_name(row: str, column: str) -> str:
    return f"pair__{row}__{column}"


class RunCreateForm(forms.Form):
    """A new scoring run: seed, k, B and either a weight per criterion or an AHP pairwise grid."""

    METHOD_WEIGHTS = "weights"
    METHOD_AHP = "ahp"

    seed = forms.IntegerField(
        label=_("Seed"),
        min_value=0,
        max_value=SEED_MAX,
        help_text=_("The bootstrap's random seed: the same seed and data give the same numbers."),
    )
    top_k = forms.IntegerField(
        label=_("Top k"), min_value=1, help_text=_("P(top-k) and the suggested tiers count the first k places.")
    )
    bootstrap_b = forms.IntegerField(
        label=_("Bootstrap samples (B)"), min_value=BOOTSTRAP_MIN, max_value=BOOTSTRAP_MAX, initial=BOOTSTRAP_DEFAULT
    )
    method = forms.ChoiceField(
        label=_("Weights from"),
        choices=[(METHOD_WEIGHTS, _("a weight per criterion")), (METHOD_AHP, _("AHP pairwise comparison"))],
        initial=METHOD_WEIGHTS,
        widget=forms.RadioSelect,
    )
    ahp_criteria = forms.MultipleChoiceField(
        label=_("Criteria to compare"),
        choices=[(name, CRITERION_LABELS[name]) for name in CRITERIA],
        required=False,
        initial=list(AHP_DEFAULT_CRITERIA),
        widget=forms.CheckboxSelectMultiple,
    )
    importance_cut = forms.FloatField(
        label=_("Importance cut (index)"), min_value=0, max_value=100, required=False, initial=50
    )
    competitiveness_cut = forms.FloatField(
        label=_("Competitiveness cut (index)"), min_value=0, max_value=100, required=False, initial=50
    )
    plan_end_year = forms.IntegerField(
        label=_("Plan end year"),
        min_value=2000,
        max_value=2100,
        required=False,
        help_text=_("Empty: the end of the five-year plan period the round closed in."),
    )
    # The run whose ranks the new one is compared with ("compare weights").
    compare = forms.SlugField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, topic_count: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.topic_count = topic_count
        if topic_count:
            self.fields["top_k"].validators.append(MaxValueValidator(topic_count))
            self.fields["top_k"].widget.attrs["max"] = topic_count
        for name in CRITERIA:
            self.fields[f"w_{name}"] = forms.FloatField(
                label=CRITERION_LABELS[name], min_value=0, max_value=1000, required=False
            )
            self.fields[f"w_{name}"].widget.attrs.update({"step": "any"})
        for i, row in enumerate(CRITERIA):
            for column in CRITERIA[i + 1 :]:
                self.fields[pair_field_name(row, column)] = forms.ChoiceField(
                    label=f"{CRITERION_LABELS[row]} : {CRITERION_LABELS[column]}",
                    choices=[(v, v) for v in AHP_SCALE],
                    required=False,
                    initial="1",
                )

    @classmethod
    def initial_for(
        cls,
        *,
        topic_count: int,
        weights: Mapping[str, float] | None = None,
        seed: int | None = None,
        top_k: int | None = None,
        bootstrap_b: int | None = None,
        thresholds: Mapping[str, Any] | None = None,
        ahp: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Initial values: a fresh seed and the default weights, or those of an earlier run."""
        initial: dict[str, Any] = {
            "seed": secrets.randbelow(10**9) if seed is None else seed,
            "top_k": top_k or max(1, min(10, math.ceil(topic_count / 3))),
            "bootstrap_b": bootstrap_b or BOOTSTRAP_DEFAULT,
        }
        source = DEFAULT_WEIGHTS if weights is None else weights
        for name in CRITERIA:
            initial[f"w_{name}"] = source.get(name, 0)
        if thresholds:
            initial["importance_cut"] = thresholds.get("importance")
            initial["competitiveness_cut"] = thresholds.get("competitiveness")
            initial["plan_end_year"] = thresholds.get("plan_end_year")
        if ahp:
            initial["method"] = cls.METHOD_AHP
            names = list(ahp["criteria"])
            initial["ahp_criteria"] = names
            for i, row in enumerate(names):
                for j, column in enumerate(names):
                    if CRITERIA.index(row) < CRITERIA.index(column):
                        initial[pair_field_name(row, column)] = _nearest_scale(ahp["matrix"][i][j])
        return initial

    def chosen_criteria(self) -> list[str]:
        """The AHP criteria as submitted (or initial), in the canonical order, even when the form is invalid."""
        if self.is_bound:
            raw = self.data.getlist("ahp_criteria") if hasattr(self.data, "getlist") else self.data.get("ahp_criteria")
            values = [raw] if isinstance(raw, str) else list(raw or [])
        else:
            values = list(self.initial.get("ahp_criteria", AHP_DEFAULT_CRITERIA))
        return [name for name in CRITERIA if name in values]

    def pair_value(self, row: str, column: str) -> str:
        name = pair_field_name(row, column)
        value = self.data.get(name) if self.is_bound else self.initial.get(name)
        return value if value in AHP_SCALE else "1"

    def ahp_matrix(self) -> dict[str, Any]:
        """{"criteria": [...], "matrix": [[...]]} from the upper triangle; the lower one is its reciprocal."""
        names = self.chosen_criteria()
        matrix = [[1.0] * len(names) for _ in names]
        for i, row in enumerate(names):
            for j in range(i + 1, len(names)):
                value = ahp_value(self.pair_value(row, names[j]))
                matrix[i][j] = value
                matrix[j][i] = 1 / value
        return {"criteria": names, "matrix": matrix}

    def ahp_grid(self) -> list[dict[str, Any]]:
        """Rows of the n × n grid for the template: a select above the diagonal, its reciprocal below."""
        names = self.chosen_criteria()
        rows = []
        for i, row in enumerate(names):
            cells: list[dict[str, Any]] = []
            for j, column in enumerate(names):
                if i == j:
                    cells.append({"kind": "diagonal"})
                elif i < j:
                    cells.append({"kind": "field", "field": self[pair_field_name(row, column)]})
                else:
                    cells.append({"kind": "reciprocal", "value": ahp_reciprocal(self.pair_value(column, row))})
            rows.append({"name": row, "label": CRITERION_LABELS[row], "cells": cells})
        return rows

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[f"w_{name}"] for name in CRITERIA]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("method") == self.METHOD_AHP:
            if len(self.chosen_criteria()) < 2:
                self.add_error("ahp_criteria", _("Choose at least two criteria to compare."))
        elif cleaned.get("method") == self.METHOD_WEIGHTS:
            weights = self.weights()
            if not any(w > 0 for w in weights.values()):
                self.add_error(None, _("At least one criterion needs a positive weight."))
        return cleaned

    def weights(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for name in CRITERIA:
            value = self.cleaned_data.get(f"w_{name}")
            if value is not None and math.isfinite(value):
                out[name] = float(value)
        return out

    def thresholds(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        out: dict[str, Any] = {}
        for key, name in (("importance", "importance_cut"), ("competitiveness", "competitiveness_cut")):
            if data.get(name) is not None:
                out[key] = float(data[name])
        if data.get("plan_end_year") is not None:
            out["plan_end_year"] = int(data["plan_end_year"])
        return out or None

    def service_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``scoring_run_create`` (besides study and actor)."""
        data = self.cleaned_data
        kwargs: dict[str, Any] = {
            "seed": data["seed"],
            "top_k": data["top_k"],
            "B": data["bootstrap_b"],
            "thresholds": self.thresholds(),
        }
        if data["method"] == self.METHOD_AHP:
            kwargs["ahp_matrix"] = self.ahp_matrix()
        else:
            kwargs["weights"] = self.weights()
        return kwargs


def _nearest_scale(value: float) -> str:
    return min(AHP_SCALE, key=lambda text: abs(math.log(ahp_value(text)) - math.log(max(value, 1e-9))))


SORT_KEYS: tuple[str, ...] = (
    "rank",
    "topic",
    "direction",
    "n",
    "score",
    "median_rank",
    "interval",
    "p_top_k",
    "tier",
    "quadrant",
    "timing_quadrant",
    "movement",
    *CRITERIA,
)
# Columns whose first click sorts the largest value first.
SORT_DESC_FIRST = frozenset({"n", "score", "p_top_k", "movement", *CRITERIA})


class RunTableForm(forms.Form):
    """Sorting and filtering of a run's topic table (GET). Unknown values are an error, not ignored."""

    sort = forms.ChoiceField(choices=[(k, k) for k in SORT_KEYS], required=False)
    order = forms.ChoiceField(choices=[("asc", _("ascending")), ("desc", _("descending"))], required=False)
    direction = forms.ChoiceField(label=_("Direction"), required=False)
    tier = forms.ChoiceField(label=_("Suggested tier"), choices=[("", _("any")), *Tier.choices], required=False)
    quadrant = forms.ChoiceField(
        label=_("Quadrant"),
        choices=[
            ("", _("any")),
            (_("Importance × competitiveness"), [(q, QUADRANT_LABELS[q]) for q in COMPETITIVENESS_QUADRANTS]),
            (_("Importance × timing"), [(q, QUADRANT_LABELS[q]) for q in TIMING_QUADRANTS]),
        ],
        required=False,
    )
    compare = forms.SlugField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, directions: Iterable[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_set(self, "direction", [("", _("any")), *directions])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("sort") == "movement" and not cleaned.get("compare"):
            self.add_error("sort", _("Sorting by movement needs a run to compare with."))
        return cleaned


class EditionCreateForm(forms.Form):
    code = forms.SlugField(
        label=_("Code"),
        max_length=60,
        help_text=_("Letters, digits and hyphens; the edition's public address."),
    )
    title_en = forms.CharField(label=_("Title (English)"), max_length=300)
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=300, required=False)
    method_note_en = forms.CharField(
        label=_("Method note (English)"), required=False, max_length=8000, widget=forms.Textarea(attrs={"rows": 4})
    )
    method_note_zh = forms.CharField(
        label=_("Method note (Chinese)"), required=False, max_length=8000, widget=forms.Textarea(attrs={"rows": 4})
    )
    replaces = forms.ModelChoiceField(
        label=_("Replaces (a correction of)"),
        queryset=Edition.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("— none: a new edition —"),
    )
    copy_decisions = forms.BooleanField(
        label=_("Start from the tiers and rationales of the edition it replaces"), required=False, initial=True
    )

    def __init__(self, *args: Any, study: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only a published edition of the same study can be replaced (edition_draft_create checks it too).
        published = Edition.objects.filter(status=Edition.Status.PUBLISHED, study=study).order_by("-published_at")
        field = self.fields["replaces"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = published

    def clean_code(self) -> str:
        code: str = self.cleaned_data.get("code") or ""
        return code.lower()


class EntryDecideForm(forms.Form):
    tier = forms.ChoiceField(
        label=_("Final tier"),
        choices=Tier.choices,
        help_text=_(
            "Changing the tier? Then rewrite both rationales: a rationale generated from the numbers "
            "for another tier is refused."
        ),
    )
    rationale_en = forms.CharField(
        label=_("Rationale (English)"),
        max_length=MAX_RATIONALE,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write the rationale for this decision.")},
    )
    rationale_zh = forms.CharField(
        label=_("Rationale (Chinese, optional)"),
        max_length=MAX_RATIONALE,
        required=False,
        help_text=_("Left empty, the Chinese page shows the English rationale, marked “in English only”."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PublishForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I have checked the preview. Publish this edition now; it cannot be changed afterwards."),
        error_messages={"required": _("Tick the box to confirm the publication.")},
    )
