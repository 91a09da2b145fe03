"""Publishing an edition straight from the suggested tiers, with rationales written from the numbers.

Used by ``simulate_study --publish`` and the demo (``demo_data``): a scripted stand-in for the staff
workbench, where people decide. Everything here goes through the same services as the workbench,
so the edition is audited, fingerprinted and immutable like any other.
"""

from __future__ import annotations

import math
import time
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import translation

from foresight import numbers
from foresight.core.errors import Conflict
from foresight.core.reasons import reason_label
from foresight.delphi.models import Study
from foresight.delphi.selectors import round_stopping_note
from foresight.priorities.labels import (
    LOCALES,
    SCENARIO_PULL_FORMULA,
    criterion_label,
    edition_titles,
    fallback_count_label,
    fallback_sentence,
    mid_sentence,
    not_shown,
    quadrant_explained,
)
from foresight.priorities.models import BOOTSTRAP_DEFAULT, Edition, EditionEntry, ScoringRun, Tier
from foresight.priorities.rationales import generated_lead
from foresight.priorities.scoring import TIER_KEY_MIN, TIER_PRIORITY_MIN
from foresight.priorities.selectors.editions import scored_topic_count
from foresight.priorities.services.editions import edition_draft_create, edition_entry_decide, edition_publish
from foresight.priorities.services.runs import scoring_run_create, scoring_run_execute

DEFAULT_SEED = 2026


def _reason(code: str, lang: str) -> str:
    """Why a figure is not shown, in the words of the pages (``foresight.core.reasons``)."""
    with translation.override(LOCALES[lang]):
        return reason_label(code)


def _criterion(name: str, lang: str) -> str:
    with translation.override(LOCALES[lang]):
        return mid_sentence(criterion_label(name))


def _quadrant(key: str, lang: str) -> str:
    """E.g. "strengthen (important, current position weak)", "加强（重要，当前竞争力较弱）"."""
    with translation.override(LOCALES[lang]):
        return mid_sentence(quadrant_explained(key))


def _percent(value: float, kind: str) -> str:
    """A 0–1 figure as a percent exactly as the pages print it ("87 %"), in either language."""
    return numbers.display(value, kind, percent=True)


def _index(value: float | None, lang: str, reason: str | None = None) -> str:
    if value is None:
        with translation.override(LOCALES[lang]):
            return not_shown(reason or "small_group")
    return numbers.display(value, "index")


def _fallback_sentences(result: dict[str, Any], lang: str) -> list[str]:
    """One sentence per criterion of the score that used a stand-in (never silent)."""
    with translation.override(LOCALES[lang]):
        return [fallback_sentence(f) for f in result.get("fallbacks") or [] if f.get("in_score")]


def _insufficient_rationale(result: dict[str, Any], run: ScoringRun, lang: str) -> str:
    evidence = result.get("evidence") or {}
    minimum = evidence.get("min_respondents", run.study.min_respondents)
    n = result.get("n")
    t = run.study.disclosure_rules().t
    withheld = evidence.get("importance_withheld")
    if withheld:
        why = _reason(withheld, lang)
        if lang == "en":
            return (
                f"{generated_lead(Tier.INSUFFICIENT, 'en')}{n} respondents, but their importance index is not shown ({why}), "
                "so the survey gives no verdict to rank the topic on. It is not ranked; its other figures are "
                "shown where enough experts answered."
            )
        return f"{generated_lead(Tier.INSUFFICIENT, 'zh')}受访者 {n} 人，但其重要性指数未予公布（{why}），调查未给出可据以排名的结论。该主题不参与排名；其他数据在作答人数足够时予以展示。"
    if lang == "en":
        base = f"Based on {n} respondents" if n is not None else f"Fewer than {t} respondents answered"
        return (
            f"{generated_lead(Tier.INSUFFICIENT, 'en')}{base}, below the study's minimum of {minimum} respondents for a tier. "
            "The topic is not ranked; its figures are shown where enough experts answered."
        )
    base = f"受访者 {n} 人" if n is not None else f"作答不足 {t} 人"
    return f"{generated_lead(Tier.INSUFFICIENT, 'zh')}{base}，低于本调查列入层级所需的最少 {minimum} 人。该主题不参与排名；作答人数足够的数据仍予展示。"


def suggested_rationale(*, result: dict[str, Any], run: ScoringRun, lang: str) -> str:
    """A rationale for keeping a topic at its suggested tier, built only from its published numbers.

    Names: the bootstrap probability of the top k, the rank and its 5–95 % interval, the importance
    and competitiveness indices with their quadrant, the median year of realisation with its quadrant,
    and the number of respondents. English (``lang="en"``) or Simplified Chinese (``"zh"``).
    """
    if not result.get("ranked", True):
        return _insufficient_rationale(result, run, lang)
    indices = result.get("indices") or {}
    importance = (indices.get("importance") or {}).get("index")
    competitiveness = (indices.get("competitiveness") or {}).get("index")
    items = (result.get("report") or {}).get("items") or {}
    reasons = {
        key: ((items.get(key) or {}).get("suppressed") or {}).get("all") for key in ("importance", "competitiveness")
    }
    tech = (result.get("timing") or {}).get("tech_year") or {}
    year = tech.get("median")
    quadrants = result.get("quadrant") or {}
    matrix = quadrants.get("importance_competitiveness")
    timing = quadrants.get("importance_timing")
    tier = result["tier"]
    share = _percent(result["p_top_k"], "probability")  # P(top-k), as the page prints it, in percent
    ranked = len(run.results.get("ranking", []))
    low, high = numbers.display(result.get("rank_low"), "rank"), numbers.display(result.get("rank_high"), "rank")
    if lang == "en":
        parts = [
            f"{generated_lead(tier, 'en')}in the top {run.top_k} in {share} of "
            f"{run.bootstrap_b:,} bootstrap resamples of the respondents (rank {result['rank']} of {ranked}, "
            f"5–95 % rank interval {low}–{high}).",
            f"Importance index {_index(importance, 'en', reasons['importance'])}, "
            f"competitiveness index {_index(competitiveness, 'en', reasons['competitiveness'])}"
            + (f": {_quadrant(matrix, lang)}." if matrix else "."),
        ]
        if year is not None:
            parts.append(
                f"Median expected year of technical realisation {numbers.display(year, 'year')}"
                + (f": {_quadrant(timing, lang)}." if timing else ".")
            )
        parts.extend(_fallback_sentences(result, "en"))
        parts.append(f"Based on {result['n']} respondents.")
        return " ".join(parts)
    parts = [
        f"{generated_lead(tier, 'zh')}在对受访者的 {run.bootstrap_b} 次自助重抽样中，"
        f"有 {share} 进入前 {run.top_k} 名（在 {ranked} 项中排名第 {result['rank']}，"
        f"5–95% 排名区间 {low}–{high}）。",
        f"重要性指数 {_index(importance, 'zh', reasons['importance'])}，"
        f"竞争力指数 {_index(competitiveness, 'zh', reasons['competitiveness'])}"
        + (f"，属于“{_quadrant(matrix, lang)}”象限。" if matrix else "。"),
    ]
    if year is not None:
        parts.append(
            f"技术实现年份中位数 {numbers.display(year, 'year')}"
            + (f"，属于“{_quadrant(timing, lang)}”。" if timing else "。")
        )
    parts.extend(_fallback_sentences(result, "zh"))
    parts.append(f"受访者 {result['n']} 人。")
    return "".join(parts)


def _method_note(run: ScoringRun, lang: str) -> str:
    weights = run.results.get("summary", {}).get("weights", {})
    shown = [(_criterion(name, lang), _percent(w, "share")) for name, w in sorted(weights.items()) if w]
    listed = "; ".join(f"{n} {w}" for n, w in shown) if lang == "en" else "、".join(f"{n} {w}" for n, w in shown)
    # The stopping rule after the round the run used, as the Delphi app words it (both languages).
    stopping = round_stopping_note(rnd=run.round)
    pull = _pull_note(lang) if weights.get("scenario_pull") else ""
    if lang == "en":
        return (
            f"Weighted multi-criteria score of min–max normalised criteria ({listed}); rank intervals and "
            f"P(top-{run.top_k}) from {run.bootstrap_b:,} bootstrap resamples of the respondents (seed {run.seed}). "
            f"Suggested tier: priority when P(top-k) ≥ {TIER_PRIORITY_MIN:g}, key when ≥ {TIER_KEY_MIN:g}, "
            "otherwise watch. Every topic was published at its suggested tier with a rationale written from its "
            f"numbers. {pull + ' ' if pull else ''}{_rules_note(run, 'en')} {stopping['en']}"
        )
    return (
        f"对最小–最大归一化后的各项指标加权评分（{listed}）；排名区间与进入前 {run.top_k} 名的概率来自对受访者的 "
        f"{run.bootstrap_b} 次自助重抽样（随机种子 {run.seed}）。建议层级：概率 ≥ {TIER_PRIORITY_MIN:g} 为优先，"
        f"≥ {TIER_KEY_MIN:g} 为重点，其余为关注。各主题均按建议层级发布，理由依据其数据生成。{pull}{_rules_note(run, 'zh')}"
        f"{stopping['zh']}"
    )


def _pull_note(lang: str) -> str:
    """The scenario-pull formula (``labels.SCENARIO_PULL_FORMULA``) in ``lang``."""
    with translation.override(LOCALES[lang]):
        return str(SCENARIO_PULL_FORMULA)


def _rules_note(run: ScoringRun, lang: str) -> str:
    """The disclosure and minimum-evidence rules of the run, and how many topics used a stand-in."""
    rules = run.study.disclosure_rules()
    summary = run.results.get("summary", {})
    insufficient = len(summary.get("insufficient", []))
    fallbacks = summary.get("fallbacks", {})
    weights = summary.get("weights", {})
    with translation.override(LOCALES[lang]):
        used = [
            fallback_count_label(_criterion(c, lang), len(codes))
            for c, codes in sorted(fallbacks.items())
            if codes and weights.get(c)
        ]
    if lang == "en":
        text = (
            f"No figure rests on fewer than {rules.t} respondents (k = {rules.k}), and none that, combined with "
            f"others, would single out a smaller group. Topics with fewer than {rules.min_respondents} respondents "
            f"are published as insufficient evidence ({insufficient} here); a high-expertise figure needs "
            f"{rules.min_high} high-expertise respondents."
        )
        if used:
            text += " Stand-ins in the score: " + "; ".join(used) + " (each named in its entry)."
        return text
    text = (
        f"任何数据均不基于少于 {rules.t} 名受访者（k = {rules.k}），也不公布与其他数据组合后可识别更小群体的数据。"
        f"受访者少于 {rules.min_respondents} 人的主题以“证据不足”发布（本次 {insufficient} 项）；"
        f"标注为高熟悉度的数据需至少 {rules.min_high} 名高熟悉度受访者。"
    )
    if used:
        text += "评分中的替代：" + "；".join(used) + "（各项条目中均有说明）。"
    return text


def _default_top_k(study: Study) -> int:
    return max(1, min(10, math.ceil(scored_topic_count(study=study) / 3)))


def _wait_done(run: ScoringRun, timeout: float) -> ScoringRun:
    """The run is computed here or, if a worker claimed it first, by that worker: wait for whichever it is."""
    deadline = time.monotonic() + timeout
    while True:
        run.refresh_from_db()
        if run.status == ScoringRun.Status.DONE:
            return run
        if run.status == ScoringRun.Status.FAILED:
            raise RuntimeError(f"scoring run {run.code} failed: {run.error}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"scoring run {run.code} did not finish within {timeout:.0f} s")
        scoring_run_execute(run_id=run.pk)  # no-op unless it is still pending (or its worker died)
        time.sleep(0.25)


def edition_publish_suggested(
    *,
    study: Study,
    code: str | None = None,
    seed: int = DEFAULT_SEED,
    top_k: int | None = None,
    B: int = BOOTSTRAP_DEFAULT,  # noqa: N803 - the usual name of the number of bootstrap samples
    timeout: float = 600.0,
    actor: Any = None,
) -> Edition:
    """Score the study with the default weights and publish every ranked topic at its suggested tier.

    1. create a scoring run and compute it in this process (``scoring_run_execute`` claims it by a
       conditional update, so the queued task and this call never both compute it; if a worker got
       there first, wait for it);
    2. in one transaction: a draft edition (code default ``<study>-edition-<n>``, deterministic, so
       the same simulation gives the same edition fingerprint in any mode; it replaces the study's
       latest published edition, if any), every entry decided at its suggested tier with rationales
       in English and Chinese written from its numbers, and the publication.
    """
    run = scoring_run_create(study=study, seed=seed, top_k=top_k or _default_top_k(study), B=B, actor=actor)
    scoring_run_execute(run_id=run.pk)
    run = _wait_done(run, timeout)
    previous = study.editions.filter(status=Edition.Status.PUBLISHED).order_by("-published_at").first()
    if code is None:
        code = f"{study.code}-edition-{study.editions.count() + 1}"
    titles = edition_titles(title_en=study.title_en, title_zh=study.title_zh)
    with transaction.atomic():
        edition = edition_draft_create(
            run=run,
            code=code,
            title_en=titles["title_en"],
            title_zh=titles["title_zh"],
            method_note_en=_method_note(run, "en"),
            method_note_zh=_method_note(run, "zh"),
            replaces=previous,
            actor=actor,
        )
        topics = run.results["topics"]
        entries = (
            EditionEntry.objects.filter(edition=edition)
            .select_related("topic")
            .order_by(F("rank").asc(nulls_last=True), "topic__code")
        )
        for entry in entries:
            result = topics[entry.topic.code]
            edition_entry_decide(
                entry=entry,
                tier=result["tier"],
                rationale_en=suggested_rationale(result=result, run=run, lang="en"),
                rationale_zh=suggested_rationale(result=result, run=run, lang="zh"),
                actor=actor,
            )
        if not run.results.get("ranking"):
            raise Conflict("No topic has enough respondents to be ranked: nothing to publish.")
        return edition_publish(edition=edition, actor=actor)
