"""One wording of the priority concepts (``foresight.priorities.labels``), in English and in Chinese."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import translation

from foresight.core.reasons import reason_label
from foresight.priorities import forms, labels, scoring
from foresight.priorities.selectors import editions, pages, workbench
from foresight.priorities.services import publishing, runs
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


def test_a_stand_in_and_a_withheld_index_have_one_wording_in_either_language() -> None:
    """A rationale written from the numbers says "not shown (…)" and names a stand-in with the words of
    ``labels`` (gettext), in English and in Chinese; publishing writes no Chinese of its own for them."""
    study = SimpleNamespace(min_respondents=5, disclosure_rules=lambda: SimpleNamespace(t=4))
    run = SimpleNamespace(study=study, top_k=2, bootstrap_b=200, results={"ranking": ["a", "b", "c"]})
    fallback = {"criterion": "importance_index_high", "used": "importance_index", "reason": "small_group"}
    lowest = {"criterion": "timing", "used": "lowest", "reason": "small_group", "in_score": True}
    result = {
        "ranked": True,
        "tier": "key",
        "rank": 2,
        "rank_low": 1.0,
        "rank_high": 3.0,
        "p_top_k": 0.873,
        "n": 12,
        "indices": {"importance": {"index": None}, "competitiveness": {"index": 61.25}},
        "report": {"items": {"importance": {"suppressed": {"all": "small_group"}}}},
        "fallbacks": [{**fallback, "in_score": True}, lowest],
    }
    expected = {
        "en": (
            "not shown (too few respondents)",
            "For importance among high-expertise respondents, the all-respondent importance index stands in "
            "(too few respondents).",
            "For earliness of realisation within the horizon, it counts as the lowest value (too few respondents).",
        ),
        "zh": None,
    }
    for lang, locale in (("en", "en"), ("zh", "zh-hans")):
        text = publishing.suggested_rationale(result=result, run=run, lang=lang)  # type: ignore[arg-type]
        with translation.override(locale):
            words = (
                labels.not_shown("small_group"),
                labels.fallback_sentence(fallback),
                labels.fallback_sentence(lowest),
            )
        if expected[lang]:
            assert words == expected[lang]
        else:
            with translation.override(locale):
                why = reason_label("small_group")
                high = labels.criterion_label("importance_index_high")
            assert words[0] == f"未显示（{why}）"
            assert words[1] == f"{high}以全体受访者的重要性指数代替（{why}）。"
        for sentence in words:
            assert sentence in text, (lang, sentence, text)
        # The percent as the pages print it, in either language.
        assert "87 %" in text, text
    source = Path(publishing.__file__).read_text(encoding="utf-8")
    for hand_written in (
        "代替",
        "按最低值计",
        "未显示",
        'f"not shown (',
        "stands in",
        "优先方向",
        "Priority directions",
    ):
        assert hand_written not in source, hand_written


def test_an_edition_has_one_default_title_in_both_languages() -> None:
    assert labels.edition_titles(title_en="Future industries 2050", title_zh="未来产业 2050") == {
        "title_en": "Priority directions: Future industries 2050",
        "title_zh": "优先方向：未来产业 2050",
    }
    assert labels.edition_titles(title_en="Future industries 2050")["title_zh"] == ""
    with translation.override("zh-hans"):  # whatever the request's language
        assert labels.edition_titles(title_en="X")["title_en"] == "Priority directions: X"


def test_the_public_matrix_defaults_to_the_runs_default_cuts(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, float] = {}

    def chart(points: object, *, x_cut: float, y_cut: float, **kwargs: object) -> dict[str, float]:
        seen.update(x_cut=x_cut, y_cut=y_cut)
        return seen

    monkeypatch.setattr(pages.charts, "matrix_chart", chart)
    pages.edition_matrix(SimpleNamespace(thresholds={}), [])  # type: ignore[arg-type]
    assert seen == {"x_cut": runs.DEFAULT_COMPETITIVENESS_CUT, "y_cut": runs.DEFAULT_IMPORTANCE_CUT}
