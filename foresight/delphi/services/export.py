"""The reproducibility package of a round: pseudonymous responses, released statistics, rules and a codebook.

Every figure the product shows of the round — the released statistics (``stats.csv``) and, when the
round was scored and published, every entry of the edition (``editions/<code>.json``) — can be
recomputed from the responses with the rules in ``round.json`` and the definitions in the codebook;
``tests/delphi/recompute.py`` does so with the Python standard library only.

What leaves here is what the disclosure layer releases: ``stats.csv`` is written from
``round_topic_reports`` (never from the stored round statistics directly), and the responses carry a
respondent's sector only where a sector is large enough to be shown (``responses_sector_labels``).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from foresight import disclosure
from foresight.catalog.models import Topic
from foresight.core.spreadsheet import spreadsheet_text
from foresight.delphi.answers import export_value, option_value
from foresight.delphi.models import Answer, Question, Round
from foresight.delphi.selectors import round_topic_reports
from foresight.delphi.services.studies import RULE_FIELDS

RESPONSES_COLUMNS = ["respondent", "sector", "topic", "expertise", "question", "value"]
STATS_COLUMNS = ["topic", "question", "group", "figure", "value"]
OTHER_SECTOR = "other"
SUPPRESSED = "suppressed:"
# Groups of stats.csv (the codebook explains each).
ALL = disclosure.ALL
RESPONDENTS = "respondents"
WEIGHTED = "weighted"
CHANGE = "change"
HIDDEN_SECTORS = "sector:*"
# The Wilcoxon test as ``foresight.stats.wilcoxon`` runs it (written to round.json for the analyst).
WILCOXON_RULE = {
    "alternative": "two-sided",
    "differences": "before - after on the paired respondents; zero differences are dropped",
    "statistic": "min(W+, W-), rank sums of the positive and negative differences (average ranks for ties)",
    "exact_when": "at most 50 non-zero differences (method 'exact' without ties, 'exact_conditional' with ties)",
    "exact": "the exact null distribution of W+ given the observed (mid-)ranks, every sign pattern equally "
    "likely: p = min(1, 2 * min(P(W+ <= w), P(W+ >= w))); without ties this is scipy.stats.wilcoxon "
    "method='exact'",
    "otherwise": "method 'normal': normal approximation without continuity correction, tie-corrected variance "
    "(scipy.stats.wilcoxon method='asymptotic', correction=False): z = (W+ - n(n+1)/4) / "
    "sqrt((n(n+1)(2n+1) - sum(t^3 - t)/2) / 24), p = 2 * (1 - Phi(|z|))",
    "none": "no non-zero difference: statistic and p are empty",
}
DEFINITIONS = {
    "n": "respondents to the item: valid answers, 'can't judge' (an empty value) excluded",
    "n_topic": "respondents to the topic: anyone with at least one answer to it (any question)",
    "quantiles": "Hyndman-Fan type 7: sorted values x(1..n), h = 1 + (n-1)p, linear interpolation",
    "sd": "sample standard deviation, divisor n-1",
    "iqr": "q3 - q1",
    "index": "25 * (mean answer coded -2..+2 + 2) on 5-point items, code = value - (min + max) / 2",
    "index_high": "the index over the respondents who stated high expertise on the topic",
    "index_weighted": "sum(w * code) / sum(w), w = the expertise weight of the respondent's stated level; "
    "no expertise answer weighs like 'no_expertise_weight_of' (so it rests on the same n as the index)",
    "top2": "share of valid answers in the two highest options (bottom2: the two lowest)",
    "rwg": "1 - s^2 / ((A^2 - 1) / 12), A = number of options, truncated to [0, 1]; empty when n < 2",
    "consensus": "5-point items: iqr <= scale_iqr_max and top2 >= top2_min and bottom2 < bottom2_max; "
    "year items: iqr <= year_iqr_max (consensus_rule)",
    "years": "n counts every valid answer (years, 'already', 'never'); median and quartiles over the "
    "n_years numeric years; share_already and share_never over n",
    "social_lag": "median social_year - median tech_year of the topic (both released)",
    "choice": "counts per option: single choice answers, or multiple-choice answers ticking it; shares = counts / n",
    "change": "on the paired respondents (a valid answer in this round and the previous one): quartiles "
    "before and after, delta_iqr = iqr_after - iqr_before, share_changed = share of pairs with a "
    "different answer, n_nonzero = their number, the Wilcoxon signed-rank test (see 'wilcoxon')",
    "timing": "priority criterion: 100 * mean of u over the valid tech_year answers, u(already) = 1, "
    "u(never) = 0, u(year y) = (H - y) / (H - Y0) clipped to [0, 1] (see 'timing')",
}


def _fmt(value: Any) -> str:
    """A figure as written to stats.csv: full stored precision, booleans as true/false, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 10))
    return str(value)


def _package_rounds(rnd: Round) -> list[Round]:
    """The rounds whose answers the package carries: this one and every earlier aggregated round of the
    study (the change between rounds and an edition's figures from a topic's last round need them)."""
    earlier = Round.objects.filter(study=rnd.study_id, number__lt=rnd.number, status=Round.Status.AGGREGATED)
    return [*earlier.order_by("number"), rnd]


def _responses_file(rnd: Round, number: int) -> str:
    return "responses.csv" if number == rnd.number else f"responses-round-{number}.csv"


def responses_sector_labels(*, rounds: list[Round]) -> tuple[dict[int, str], dict[str, Any]]:
    """The sector written next to each respondent (participant id → label) and what the coarsening did.

    A sector is written as itself only if it is one of ``disclosure.SECTOR_GROUPS`` that
    ``disclosure.partition_shown`` shows over the respondents of the package's rounds (anyone with an
    answer in one of them) — at least t of them, with complementary suppression; everyone else is
    ``other``.  One label per respondent across the package, so no pseudonym carries two.
    """
    rules = rounds[-1].study.disclosure_rules()
    sector_of = dict(
        Answer.objects.filter(response__round__in=rounds)
        .values_list("response__participant_id", "response__participant__expert__sector")
        .distinct()
    )
    counts = Counter(sector_of.values())
    shown = disclosure.partition_shown(counts, t=rules.t, total=len(sector_of), publishable=disclosure.SECTOR_GROUPS)
    labels = {p: (sector if sector in shown else OTHER_SECTOR) for p, sector in sector_of.items()}
    coarsened = any(n for sector, n in counts.items() if sector in disclosure.SECTOR_GROUPS and sector not in shown)
    return labels, {
        "shown": shown,
        "other": f"every respondent of another sector ({OTHER_SECTOR!r} included)",
        "other_includes_publishable_sectors": coarsened,
        "counted_over_rounds": [r.number for r in rounds],
    }


def _responses_csv(rnd: Round, labels: Mapping[int, str]) -> str:
    """One row per answer of the round, with the respondent's sector label and her expertise on the topic."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RESPONSES_COLUMNS)
    expertise = dict(
        Answer.objects.filter(response__round=rnd, question__key="expertise").values_list("response_id", "value_code")
    )
    rows = Answer.objects.filter(response__round=rnd).values_list(
        "response_id",
        "response__participant_id",
        "response__participant__pseudonym",
        "response__topic__code",
        "question__key",
        "question__qtype",
        "cant_judge",
        "value_num",
        "value_code",
        "value_codes",
        "value_text",
    )
    for response_id, participant_id, pseudonym, topic, key, qtype, cant_judge, num, code, codes, text in sorted(
        rows, key=lambda r: (r[2], r[3], r[4])
    ):
        value = export_value(
            qtype=qtype, cant_judge=cant_judge, value_num=num, value_code=code, value_codes=codes or [], value_text=text
        )
        if qtype == Question.Type.TEXT:
            value = spreadsheet_text(value)  # what an expert typed never runs as a spreadsheet formula
        writer.writerow([pseudonym, labels[participant_id], topic, expertise.get(response_id) or "", key, value])
    return out.getvalue()


# ---------------------------------------------------------------------------
# stats.csv: the released figures in long form
# ---------------------------------------------------------------------------

Row = tuple[str, str, str]  # (group, figure, value) of one question of one topic


def _withheld(reason: str) -> str:
    return SUPPRESSED + reason


def _respondents_rows(who: Mapping[str, Any]) -> Iterator[Row]:
    if who.get("n") is None:
        yield RESPONDENTS, "n", _withheld(who["suppressed"]["all"])
        return
    yield RESPONDENTS, "n", _fmt(who["n"])
    for level, count in who["by_expertise"].items():
        yield RESPONDENTS, f"by_expertise:{level}", _fmt(count)
    if "by_expertise" in who["suppressed"]:
        yield RESPONDENTS, "by_expertise:*", _withheld(who["suppressed"]["by_expertise"])
    for sector in sorted(who["by_sector"]):
        yield RESPONDENTS, f"by_sector:{sector}", _fmt(who["by_sector"][sector])
    if "by_sector" in who["suppressed"]:
        yield RESPONDENTS, "by_sector:*", _withheld(who["suppressed"]["by_sector"])
    yield RESPONDENTS, "other_sectors", _fmt(who["other_sectors"])


def _year_reason(item: Mapping[str, Any]) -> str:
    suppressed = item.get("suppressed") or {}
    return str(suppressed.get("all") or suppressed.get("years") or disclosure.SMALL_GROUP)


def _social_lag_row(report: Mapping[str, Any]) -> Row:
    if report.get("social_lag") is not None:
        return ALL, "social_lag", _fmt(report["social_lag"])
    items = report.get("items") or {}
    for key in ("tech_year", "social_year"):
        item = items.get(key) or {}
        if item.get("median") is None:
            return ALL, "social_lag", _withheld(_year_reason(item))
    return ALL, "social_lag", ""  # pragma: no cover - both medians released give a lag


def _item_rows(question: Question, item: Mapping[str, Any]) -> Iterator[Row]:
    """The rows of one released (or withheld) item, in the order the codebook lists them."""
    suppressed: Mapping[str, str] = item.get("suppressed") or {}
    if item.get("n") is None:
        yield ALL, "n", _withheld(suppressed.get("all", disclosure.SMALL_GROUP))
        return
    yield ALL, "n", _fmt(item["n"])
    yield ALL, "n_cant_judge", _fmt(item["n_cant_judge"])
    qtype = question.qtype
    if qtype == Question.Type.SCALE:
        distribution = item.get("distribution") or {}
        for option in question.options:
            value = str(int(option_value(option)))
            yield ALL, f"distribution:{value}", _fmt(distribution.get(value, 0))
        for figure in ("mean", "sd", "median", "q1", "q3", "iqr", "top2", "bottom2", "rwg", "consensus", "index"):
            if figure in item:
                yield ALL, figure, _fmt(item[figure])
        if question.index:
            reason = suppressed.get("index_high")
            yield disclosure.HIGH, "n_high", _withheld(reason) if reason else _fmt(item["n_high"])
            yield disclosure.HIGH, "index_high", _withheld(reason) if reason else _fmt(item["index_high"])
            reason = suppressed.get("index_weighted")
            yield WEIGHTED, "index_weighted", _withheld(reason) if reason else _fmt(item["index_weighted"])
            for sector in sorted(item.get("sectors") or {}):
                figures = item["sectors"][sector]
                yield disclosure.SECTOR_PREFIX + sector, "n", _fmt(figures["n"])
                yield disclosure.SECTOR_PREFIX + sector, "index", _fmt(figures["index"])
            if "sectors" in suppressed:
                yield HIDDEN_SECTORS, "n", _withheld(suppressed["sectors"])
                yield HIDDEN_SECTORS, "index", _withheld(suppressed["sectors"])
        if "change" in item:
            change = item["change"]
            for figure in disclosure.CHANGE_FIGURES:
                yield CHANGE, figure, _withheld(suppressed["change"]) if change is None else _fmt(change.get(figure))
    elif qtype == Question.Type.YEAR:
        reason = suppressed.get("years")
        for figure in ("n_years", "median", "q1", "q3", "iqr", "consensus"):
            yield ALL, figure, _withheld(reason) if reason else _fmt(item.get(figure))
        for figure in ("share_already", "share_never"):
            yield ALL, figure, _fmt(item.get(figure))
    elif qtype in (Question.Type.SINGLE, Question.Type.MULTI):
        counts = item.get("counts") or {}
        shares = item.get("shares") or {}
        for option in question.options:
            yield ALL, f"counts:{option['code']}", _fmt(counts.get(str(option["code"])))
        for option in question.options:
            yield ALL, f"shares:{option['code']}", _fmt(shares.get(str(option["code"])))


def stats_rows(*, rnd: Round) -> list[tuple[str, str, str, str, str]]:
    """Every figure of the round as the disclosure layer releases it, one row per figure (stats.csv).

    Source: ``round_topic_reports`` only.  Per topic (by code): the respondents to the topic, the social
    lag, then every summarised item in question order; an item nobody answered is written as withheld,
    like any item with fewer than t respondents.
    """
    questions = list(Question.objects.filter(study=rnd.study_id, applies_to=Question.AppliesTo.TOPIC))
    items = [q for q in questions if q.qtype != Question.Type.TEXT and q.key != "expertise"]
    reports = round_topic_reports(rnd=rnd, questions=questions)
    ids = set(rnd.topics.values_list("pk", flat=True)) | set(reports)
    codes = dict(Topic.objects.filter(pk__in=ids).values_list("pk", "code"))
    nobody = {"n": None, "suppressed": {"all": disclosure.SMALL_GROUP}}
    rows: list[tuple[str, str, str, str, str]] = []
    for topic_id in sorted(ids, key=lambda pk: codes[pk]):
        code = codes[topic_id]
        report = reports.get(topic_id) or {"respondents": nobody, "items": {}, "social_lag": None}
        rows.extend((code, "", *row) for row in _respondents_rows(report["respondents"]))
        rows.append((code, "", *_social_lag_row(report)))
        for question in items:
            item = report["items"].get(question.key) or nobody
            rows.extend((code, question.key, *row) for row in _item_rows(question, item))
    return rows


def _stats_csv(rnd: Round) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(STATS_COLUMNS)
    writer.writerows(stats_rows(rnd=rnd))
    return out.getvalue()


# ---------------------------------------------------------------------------
# round.json
# ---------------------------------------------------------------------------

CODING: dict[str, str] = {
    Question.Type.SCALE: "the numeric value of the chosen option (options[].value); index code = value - (min + max) / 2",
    Question.Type.SINGLE: "the code of the chosen option",
    Question.Type.MULTI: "the codes of the ticked options, in option order, joined by '|'",
    Question.Type.YEAR: "a year, 'already' (already realised) or 'never' (not by the horizon)",
    Question.Type.TEXT: "as typed; text starting with = + - @ tab CR or ' gets one more leading ' (remove one)",
}


def round_settings(*, rnd: Round, sectors: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every rule that affects a number of this round, the questions and their coding (round.json)."""
    study = rnd.study
    rules = study.disclosure_rules()
    start, horizon = study.timing_years()
    questions = [
        {
            "key": q.key,
            "type": q.qtype,
            "applies_to": q.applies_to,
            "label_en": q.label_en,
            "options": q.options,
            "max_choices": q.max_choices,
            "allow_cant_judge": q.allow_cant_judge,
            "index": q.index,
            "coding": CODING.get(q.qtype, "") + "; an empty value means 'can't judge'",
        }
        for q in Question.objects.filter(study=study).order_by("order", "pk")
    ]
    rounds = _package_rounds(rnd)
    return {
        "study": study.code,
        "round": rnd.code,
        "number": rnd.number,
        "status": rnd.status,
        "opened_at": rnd.opened_at.isoformat() if rnd.opened_at else None,
        "closed_at": rnd.closed_at.isoformat() if rnd.closed_at else None,
        "aggregated_at": rnd.aggregated_at.isoformat() if rnd.aggregated_at else None,
        "checksum": rnd.checksum,
        "topics": sorted(rnd.topics.values_list("code", flat=True)),
        "rounds": {
            str(r.number): {
                "code": r.code,
                "responses": _responses_file(rnd, r.number),
                "topics": sorted(r.topics.values_list("code", flat=True)),
            }
            for r in rounds
        },
        "settings": {name: getattr(study, name) for name in RULE_FIELDS},
        "frozen_at": study.frozen_at.isoformat() if study.frozen_at else None,
        "rules": {
            "k": rules.k,
            "t": rules.t,
            "expertise_levels": list(disclosure.LEVELS),
            "expertise_weights": dict(rules.weights),
            "no_expertise_weight_of": disclosure.NO_LEVEL_WEIGHT_OF,
            "min_respondents": rules.min_respondents,
            "min_high_respondents": rules.min_high,
            "consensus_rule": study.consensus_rule,
            "stopping_rule": study.stopping_rule,
            "drop_consensus_topics": study.drop_consensus_topics,
            "horizon_year": horizon,
            "timing": {"start_year": start, "horizon_year": horizon},
            "quantiles": "type7",
            "wilcoxon": WILCOXON_RULE,
            "sector_groups": list(disclosure.SECTOR_GROUPS),
            "suppression_reasons": list(disclosure.REASONS),
        },
        "sectors": dict(sectors) if sectors is not None else responses_sector_labels(rounds=rounds)[1],
        "definitions": DEFINITIONS,
        "questions": questions,
    }


CODEBOOK = """# Codebook

A round's reproducibility package. Every figure in `stats.csv`, and every published figure of an
edition in `editions/`, can be recomputed from the responses with the rules in `round.json` and the
definitions below.

## Who counts (one meaning of n)
- `n` of an item (question of a topic) = its **respondents**: valid answers; "can't judge" (an empty
  value) is not one. `n_cant_judge` counts those.
- `n` of a topic (group `respondents`) = anyone with at least one answer to the topic, any question.

## Disclosure control (what is released, and what is withheld)
With the study's threshold k (`round.json` `rules.k`) and t = k + 1 (`rules.t`):
1. No figure is released over fewer than t respondents.
2. A subgroup figure next to the whole (high expertise, a sector) is released only while the
   respondents it leaves out number 0 or at least t. Sectors are shown only for the groups in
   `rules.sector_groups` with at least t respondents; while the hidden remainder numbers 1 … t−1 the
   smallest shown sector is withheld too (complementary suppression).
3. The expertise-weighted index is released only when every expertise weight class present (levels of
   equal weight; no expertise answer counts as `rules.no_expertise_weight_of`) — split into its high and
   other respondents where the high-expertise index is released — has 0 or at least t respondents.
   3a. Sector figures are released beside the expertise figures (high / the others, weight classes) only
   when every cell where a shown expertise group and a sector (each shown sector; the hidden sectors as one
   block) cross has 0 or at least t respondents.
4. The change between rounds is released only when the paired respondents number at least t and those
   who left and those who joined each number 0 or at least t.
5. A high-expertise figure also needs at least `rules.min_high_respondents` high-expertise
   respondents (minimum evidence).

A withheld figure is one row of `stats.csv` whose value is `suppressed:<reason>`:
- `small_group`: fewer than t respondents (rule 1);
- `small_complement`: the respondents left out would number 1 … t−1 (rule 2);
- `small_weight_class`: an expertise weight class (split into high and the others where the high index is
  shown) has 1 … t−1 respondents (rule 3);
- `small_overlap`: a shown sector and a shown expertise group share 1 … t−1 respondents (rule 3a), or 1 … t−1
  of the topic's respondents of a shown group did not answer the item (rule 3b);
- `attrition`: 1 … t−1 respondents left or joined between rounds (rule 4);
- `since_feedback`: a real-time round whose answers differ from the last live feedback the experts saw by
  1 … t−1 new, changed or withdrawn answers (rule 5);
- `min_evidence`: fewer high-expertise respondents than the study's minimum (rule 5).
When an item's (or a topic's) `n` is withheld, nothing else of it is released and that one row stands for
all of it.

## responses.csv (this round) and responses-round-<m>.csv (earlier rounds)
One row per answer, sorted by respondent, topic, question; `round.json` `rounds` names the file of
each round (and the topics it asked).
- `respondent`: the per-study pseudonym (the same in every round of the study; no identity).
- `sector`: the respondent's stakeholder sector, **coarsened**: a sector is written as itself only if
  it is shown over the respondents of the package's rounds (anyone with an answer in one of them) by
  the rule of point 2 above — one of `rules.sector_groups`, at least t respondents, complementary
  suppression; every other respondent is written `other` (`round.json` `sectors` lists the sectors
  shown and whether `other` includes respondents of such a sector). Each respondent has one label in
  the whole package. A sector figure is released only for a sector with at least t respondents to the
  item, so every released sector figure can be recomputed from this column.
- `topic`: the catalog topic code.
- `expertise`: her answer to the expertise question on this topic in this round (`high`, `medium`,
  `low`; empty if she gave none).
- `question`: the question key (`round.json` `questions`, with each question's coding).
- `value`: scale items as the numeric value of the option; single choice as the option code; multiple
  choice as option codes joined by `|`; years as the year, `already` (already realised) or `never`
  (not by the horizon); free text as typed, except that text starting with `=`, `+`, `-`, `@`, tab,
  carriage return or `'` is written with one more leading `'` (spreadsheets then show it as text;
  remove exactly one leading `'` to recover what was typed). An empty value means "can't judge".

## stats.csv (long form)
Columns `topic,question,group,figure,value`: one row per figure of the round as the disclosure layer
releases it to every page, API and download. Values at full stored precision (floats rounded to 10
decimals), booleans `true`/`false`, an empty value where a figure is not defined (an sd of one answer,
a test without non-zero differences), `suppressed:<reason>` where it is withheld.

Topic rows (`question` empty):
- group `respondents`: `n`; `by_expertise:<high|medium|low|none>` (the expertise answers of the
  topic's respondents, `none` = no expertise answer); `by_sector:<sector>` for each shown sector;
  `by_sector:*` when some sector is withheld (with the reason); `other_sectors` = n − the shown sectors.
- group `all`, figure `social_lag`: median `social_year` − median `tech_year` (both released).

Item rows, group `all` (every respondent to the item): `n`, `n_cant_judge`, then by type:
- scale: `distribution:<value>` (answers per option), `mean`, `sd` (n−1), `median`, `q1`, `q3` (type 7),
  `iqr`, `top2`, `bottom2` (shares in the two highest / lowest options), `rwg`, `consensus` (5-point
  items), `index` (importance and competitiveness: 25 · (mean code −2…+2 + 2)).
- year: `n_years` (numeric years), `median`, `q1`, `q3`, `iqr`, `consensus` over the numeric years
  (withheld together when n_years < t), `share_already`, `share_never` over n.
- single / multiple choice: `counts:<code>` and `shares:<code>` (= counts / n) per option.
Further groups of the index items (importance, competitiveness):
- `high`: `n_high`, `index_high` over the respondents of high expertise on the topic;
- `weighted`: `index_weighted` (expertise weights, `round.json` `rules`);
- `sector:<sector>`: `n`, `index` of each shown sector; `sector:*`: the sectors withheld (reason only).
Scale items from round 2 on, group `change` (paired respondents: a valid answer in both rounds):
`from_round`, `n_paired`, `median_before`, `q1_before`, `q3_before`, `iqr_before`, `median_after`,
`q1_after`, `q3_after`, `iqr_after`, `delta_iqr` (= iqr_after − iqr_before), `share_changed`,
`n_nonzero` (pairs with a different answer), `wilcoxon_statistic`, `wilcoxon_p`, `wilcoxon_method`
(test as `round.json` `rules.wilcoxon`); a withheld change has every one of these rows withheld.

## round.json
Every rule that affects a number (`rules`: k, t, expertise weights and the no-expertise rule, minimum
evidence, consensus and stopping rules, dropping consensus topics, horizon, the timing criterion's
years Y0 and H, quantile type, the Wilcoxon rule, sector groups, suppression reasons), the sector
coarsening of the responses (`sectors`), `definitions`, the rounds in the package (code, responses
file, topics asked), the questions with their options and coding, the topics of the round, and the aggregation checksum.

## scoring/<run>.json (when the round was scored)
Every finished scoring run on this round: its inputs (criterion weights or the AHP matrix with its
consistency ratio, seed, bootstrap size B, top-k, matrix thresholds, policy lists), the data
fingerprint, and the results per topic (criterion values including the fixed scenario-pull and
policy-list inputs, normalised values, score, rank, median rank, 5–95 % rank interval, P(top-k)).

## editions/<code>.json (when an edition was published from such a run)
The published edition with its fingerprint and, per topic, the decision (tier, rank, rank interval,
score, rationales) and every figure published with it (`data`): the released `report` of the topic's
last round (the figures of `stats.csv` of that round), the `criteria` and their min–max `normalised`
values, every stand-in (`fallbacks`), minimum `evidence`, `indices`, `timing`, `quadrant` and sector
`groups`. Criteria (over the topics with the minimum evidence, n ≥ max(min_respondents, t)):
importance index (all, high expertise, expertise-weighted; the all-respondent index stands in where a
subgroup index is withheld), competitiveness gap = 100 − competitiveness index, timing = 100 · mean u
over the valid tech_year answers (u(already) = 1, u(never) = 0, u(year y) = (H − y) / (H − Y0) clipped
to [0, 1], `rules.timing`), scenario pull and policy-list membership (fixed inputs, in the run). A
criterion whose item is withheld is missing and counts as the lowest value. Score = Σ w · normalised
criterion, w = the run's weights divided by their sum; min–max over the ranked topics, a constant
criterion normalises to 0.5.
"""


# Documents that apps further along add to every round's package: each part takes the round and gives
# (file name, JSON document) pairs.  Priorities registers its scoring runs and published editions
# (``foresight.priorities.services.package``, from its AppConfig.ready), so Delphi never imports it.
PackagePart = Callable[[Round], Iterable[tuple[str, dict[str, Any]]]]
PACKAGE_PARTS: list[PackagePart] = []


def package_part_register(part: PackagePart) -> None:
    """Add ``part``'s documents to every round package from now on (once, however often it is registered)."""
    if part not in PACKAGE_PARTS:
        PACKAGE_PARTS.append(part)


def round_export_package(*, rnd: Round) -> bytes:
    rounds = _package_rounds(rnd)
    labels, sectors = responses_sector_labels(rounds=rounds)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for r in rounds:
            zf.writestr(_responses_file(rnd, r.number), _responses_csv(r, labels))
        zf.writestr("stats.csv", _stats_csv(rnd))
        settings = round_settings(rnd=rnd, sectors=sectors)
        zf.writestr("round.json", json.dumps(settings, indent=2, sort_keys=True, default=str))
        zf.writestr("codebook.md", CODEBOOK)
        for part in PACKAGE_PARTS:
            for name, document in part(rnd):
                zf.writestr(name, json.dumps(document, indent=2, sort_keys=True, default=str, ensure_ascii=False))
    return buffer.getvalue()
