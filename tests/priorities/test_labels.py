"""One wording of the priority concepts (``foresight.priorities.labels``), in English and in Chinese."""

from __future__ import annotations

import itertools
import re
from types import SimpleNamespace

from django.utils import translation

from foresight.core.reasons import reason_label
from foresight.priorities import forms, labels, scoring
from foresight.priorities.selectors import editions, pages, workbench
from foresight.priorities.services import publishing
from foresight.priorities.services.runs import CRITERIA

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_every_quadrant_has_one_translated_name_and_meaning() -> None:
    """Every key scoring can return has a name and a meaning, translated (no hand-written Chinese elsewhere)."""
    cuts = {"importance_cut": 50.0}
    keys = {
        scoring.quadrant_competitiveness(i, c, competitiveness_cut=50.0, **cuts)
        for i, c in itertools.product((0.0, 100.0), repeat=2)
    } | {
        scoring.quadrant_timing(i, y, year_cut=2035.0, **cuts)
        for i, y in itertools.product((0.0, 100.0), (2030.0, 2040.0))
    }
    assert keys == set(labels.QUADRANT_LABELS) == set(labels.QUADRANT_MEANINGS)
    assert set(labels.COMPETITIVENESS_QUADRANTS) | set(labels.TIMING_QUADRANTS) == keys
    assert labels.quadrant_explained("strengthen") == "Strengthen (important, current position weak)"
    assert publishing._quadrant("watch", "en") == "hold (less important, current position strong)"
    assert publishing._quadrant("strengthen", "zh") == "加强（重要，当前竞争力较弱）"
    with translation.override("zh-hans"):
        assert pages.quadrant_labels() == {
            "strengthen": "加强",
            "lead_maintain": "保持领先",
            "watch": "维持",
            "deprioritise": "暂缓",
        }
        for key in keys:
            assert CHINESE.search(labels.quadrant_explained(key)), key
    assert not hasattr(publishing, "QUADRANT_TEXT")
    assert forms.QUADRANT_LABELS is workbench.QUADRANT_LABELS is labels.QUADRANT_LABELS


def test_every_criterion_has_one_wording() -> None:
    """The workbench, the edition pages, the stand-ins and the written rationales word a criterion alike."""
    assert set(labels.CRITERION_LABELS) == set(CRITERIA)
    assert forms.CRITERION_LABELS is workbench.CRITERION_LABELS is editions.CRITERION_LABELS is labels.CRITERION_LABELS
    fallback = {"criterion": "importance_index_high", "used": "importance_index", "reason": "small_group"}
    assert labels.fallback_label(fallback) == (
        "Importance among high-expertise respondents: the all-respondent index stands in (too few respondents)"
    )
    assert publishing._criterion("importance_index_high", "en") == "importance among high-expertise respondents"
    with translation.override("zh-hans"):
        for name in CRITERIA:
            assert CHINESE.search(labels.criterion_label(name)), name
            assert publishing._criterion(name, "zh") == labels.criterion_label(name)
    assert not hasattr(publishing, "CRITERION_TEXT")


def test_a_generated_rationale_words_a_withheld_figure_as_the_pages_do() -> None:
    """The rationale (written in both languages at once) takes its reason words from the one table the
    pages use, translated by gettext: no second, hand-translated copy."""
    study = SimpleNamespace(min_respondents=5, disclosure_rules=lambda: SimpleNamespace(t=4))
    run = SimpleNamespace(study=study, top_k=2, bootstrap_b=200, results={"ranking": []})
    result = {"ranked": False, "n": 12, "evidence": {"importance_withheld": "attrition", "min_respondents": 5}}
    for lang, locale in (("en", "en"), ("zh", "zh-hans")):
        text = publishing.suggested_rationale(result=result, run=run, lang=lang)  # type: ignore[arg-type]
        with translation.override(locale):
            words = reason_label("attrition")
        assert words and words in text, (lang, text)
    assert reason_label("attrition") != words  # the Chinese words are not the English ones
