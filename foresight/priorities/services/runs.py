"""Scoring runs: criteria from an aggregated Delphi study, weighted scores and bootstrap rank intervals.

Numbers come from ``foresight.stats`` / ``foresight.delphi.services.aggregation`` (the round
statistics, released through ``foresight.disclosure`` by ``delphi.selectors.round_topic_reports``)
and from ``foresight.priorities.scoring`` (the matrix form of the same index formulas, resampled).
Nothing here renders or publishes: editions are built on finished runs elsewhere.

Criteria (SPEC §6; README "Priority scoring"), each min–max normalised across the ranked topics:

* ``importance_index`` — importance index 0–100 over all respondents.
* ``importance_index_high`` — over high-expertise respondents, where the disclosure layer releases
  it (at least k + 1 of them, a complement of 0 or k + 1, and the study's minimum of high-expertise
  respondents); elsewhere the all-respondent index stands in, and the entry records that fallback.
* ``importance_index_weighted`` — expertise-weighted (the study's weights, default 1.0/0.6/0.3; no
  expertise answer weighs like medium) where released; elsewhere the all-respondent index, recorded.
* ``competitiveness_gap`` — 100 − competitiveness index: the weaker the country's current
  position, the greater the need for public effort, so the higher the score.
* ``timing`` — how early in the study's horizon the topic is expected to be realised technically:
  100 × the mean over the valid ``tech_year`` answers of u, with u(already realised) = 1,
  u(not by the horizon) = 0 and u(year y) = (H − y) / (H − Y0) clipped to [0, 1], H the study's
  horizon year and Y0 the year its round 1 opened.  Every answer counts, "already" and "never"
  explicitly, and topics are separated across the whole horizon (not only within a plan period).
* ``scenario_pull`` — demand D(t) + pilots P(t), from published evidence only (``scenarios.pull``, read
  by ``scenarios.selectors.scenario_pull_evidence``), w(role) the role weight (core 1.0, enabling 0.6,
  complementary 0.3):
  D(t) = Σ over published scenarios s linking t whose list kind is not capability (demand, demonstration,
  vision; curated or from the exchange) of w(role) × (1 + log10(1 + sites(s))), sites(s) the ``scale_sites``
  of the published version of the entry s is published as (0 without an entry or a scale; a revision in
  progress counts once released);
  P(t) = Σ over pilots of those scenarios' entries with a verified stage of w(role) × stage weight (opened 1,
  pilot 2, demonstration 3, scaling 4, mainstream 5; stopped 0; a claimed, unverified stage never counts).
  A third component, the Delphi panel's rating of how strongly the scenarios demand the topic, is not
  measurable yet (experts do not rate scenarios). Each topic's entry records D, P and the scenario and
  pilot codes they come from (``scenario_pull``), and the fingerprint covers them.
* ``policy_list`` — 1 if the topic is on one of the run's policy-list clusters, else 0.

A criterion whose figure the layer does not release for a topic (fewer than k + 1 answers) is
missing: it counts as the worst value, and the entry records that too.  Only topics with the
study's minimum evidence (``min_respondents``, and at least k + 1) and a released importance index are
ranked; the others get the tier "insufficient evidence", no rank and no score, and take no part in the
normalisation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from foresight import disclosure
from foresight.catalog.models import Cluster, Topic
from foresight.core import queue
from foresight.core.audit import audit_log
from foresight.core.errors import Conflict
from foresight.delphi.models import Question, Round, Study
from foresight.delphi.selectors import answer_matrix, round_stopping_note, round_topic_reports
from foresight.priorities import scoring
from foresight.priorities.models import BOOTSTRAP_MAX, BOOTSTRAP_MIN, ScoringRun
from scenarios.selectors import scenario_pull_evidence

logger = logging.getLogger(__name__)

# Bump when a change to this module or to ``scoring`` changes any number for the same inputs.
METHOD_VERSION = "priorities-3"

# The first method whose scenario pull is computed from published evidence (before: curated links only).
PULL_FROM_EVIDENCE = 3


def pull_from_evidence(method: str | None) -> bool:
    """Whether a run of ``method`` (its results' ``inputs.method``) computed scenario pull from evidence."""
    _, _, number = (method or "").rpartition("-")
    return number.isdigit() and int(number) >= PULL_FROM_EVIDENCE


CRITERIA = (
    "importance_index",
    "importance_index_high",
    "importance_index_weighted",
    "competitiveness_gap",
    "timing",
    "scenario_pull",
    "policy_list",
)
DEFAULT_WEIGHTS: dict[str, float] = {
    "importance_index": 0.30,
    "importance_index_high": 0.15,
    "competitiveness_gap": 0.15,
    "timing": 0.15,
    "scenario_pull": 0.15,
    "policy_list": 0.10,
}
DEFAULT_IMPORTANCE_CUT = 50.0
DEFAULT_COMPETITIVENESS_CUT = 50.0
# Stakeholder groups compared for divergence; "other" is never shown on its own (but counts as hidden).
SECTOR_GROUPS = disclosure.SECTOR_GROUPS
# A run left "running" this long (longer than the task's hard time limit) was lost with its worker.
RUN_STALE_AFTER = timedelta(seconds=3600 + 120)

_KEYS = ("expertise", "importance", "competitiveness", "tech_year")
_YEAR_CODES = ("already", "never")


# ---------------------------------------------------------------------------
# Criteria
# ---------------------------------------------------------------------------


@dataclass
class CriteriaData:
    """Everything a run needs, as arrays over respondents × topics (topics sorted by code).

    Respondents are ordered by a digest of their own answers, not by database ids or pseudonyms,
    so the same answers give the same order — and the same bootstrap — in any database.
    """

    topics: list[str]
    topic_ids: list[int]
    topic_round: dict[str, Round]
    importance: np.ndarray  # coded −2…+2, NaN = no answer / can't judge
    competitiveness: np.ndarray
    expertise_weight: np.ndarray  # the study's weight of the respondent's stated expertise (none: medium's)
    high: np.ndarray  # 1.0 where the respondent stated high expertise on the topic
    timing: np.ndarray  # u of the tech_year answer in [0, 1] (see the module docstring), NaN if none
    n: np.ndarray  # respondents per topic (anyone who answered one of its items)
    scenario_pull: np.ndarray
    policy_list: np.ndarray
    # topic code -> the scenario pull's components and the scenarios and pilots they come from
    pull_evidence: dict[str, dict[str, Any]] = field(default_factory=dict)
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)  # topic code -> released results
    rounds: dict[str, str] = field(default_factory=dict)  # round code -> checksum
    responses_digest: str = ""
    timing_years: tuple[int, int] = (0, 0)  # (Y0, H) of the timing criterion
    stopping: dict[str, str] = field(default_factory=dict)  # the stopping rule after the run's round, en / zh

    @property
    def respondents(self) -> int:
        return int(self.importance.shape[0])


def _aggregated_rounds(rnd: Round) -> list[Round]:
    return list(
        Round.objects.filter(study=rnd.study_id, number__lte=rnd.number, status=Round.Status.AGGREGATED).order_by(
            "number"
        )
    )


def _topic_rounds(rounds: Sequence[Round]) -> dict[int, Round]:
    """Each topic's last aggregated round that asked it (consensus topics drop out of later rounds)."""
    out: dict[int, Round] = {}
    through = Round.topics.through.objects.filter(round__in=rounds).values_list("round_id", "topic_id")
    by_id = {r.pk: r for r in rounds}
    for round_id, topic_id in through:
        current = out.get(topic_id)
        if current is None or by_id[round_id].number > current.number:
            out[topic_id] = by_id[round_id]
    return out


def timing_value(*, year: float | None, code: str, start: int, horizon: int) -> float | None:
    """u of one tech_year answer: already 1, never 0, a year (H − y) / (H − Y0) clipped to [0, 1]."""
    if code == "already":
        return 1.0
    if code == "never":
        return 0.0
    if year is None:
        return None
    if horizon <= start:
        return 1.0 if year <= horizon else 0.0
    return min(1.0, max(0.0, (horizon - float(year)) / (horizon - start)))


def criteria_collect(*, rnd: Round, policy_clusters: Sequence[str]) -> CriteriaData:
    """Read the answers behind every criterion, once, up to and including the aggregated round ``rnd``.

    1. each topic's final round = its last aggregated round; respondents = participants with answers there;
    2. one query for the expertise / importance / competitiveness / tech_year answers of those cells;
    3. the released results of those cells (``round_topic_reports``: indices, years, sectors, change);
    4. scenario pull from the published scenarios, entries and verified pilots as they are now (three queries),
       and policy-list membership from the catalog.
    """
    rounds = _aggregated_rounds(rnd)
    topic_round_ids = _topic_rounds(rounds)
    topic_codes = dict(Topic.objects.filter(pk__in=topic_round_ids).values_list("pk", "code"))
    order = sorted(topic_round_ids, key=lambda t: topic_codes[t])
    topics = [topic_codes[t] for t in order]
    column = {t: i for i, t in enumerate(order)}
    study: Study = rnd.study
    rules = study.disclosure_rules()
    start, horizon = study.timing_years()

    # Respondents first (one DISTINCT query), so the answers stream straight into the arrays.
    answers = answer_matrix(study=study, cells=topic_round_ids, keys=_KEYS)
    mids = answers.scale_mid
    participants = answers.respondents
    row = {p: i for i, p in enumerate(participants)}
    t_count = len(order)
    r_count = len(participants)
    importance = np.full((r_count, t_count), np.nan)
    competitiveness = np.full((r_count, t_count), np.nan)
    expertise_weight = np.zeros((r_count, t_count))
    stated = np.zeros((r_count, t_count), dtype=bool)
    high = np.zeros((r_count, t_count))
    timing = np.full((r_count, t_count), np.nan)
    answered = np.zeros((r_count, t_count), dtype=bool)
    for participant_id, topic_id, key, cant_judge, num, code in answers.rows():
        i, j = row[participant_id], column[topic_id]
        answered[i, j] = True
        if key == "expertise":
            if code:
                stated[i, j] = True
                expertise_weight[i, j] = rules.weight_of(code)
                high[i, j] = 1.0 if code == "high" else 0.0
        elif cant_judge:
            continue
        elif key == "tech_year":
            u = timing_value(year=num, code=code, start=start, horizon=horizon)
            if u is not None:
                timing[i, j] = u
        elif num is not None:
            target = importance if key == "importance" else competitiveness
            target[i, j] = num - mids[key]
    # No expertise answer: weighted like the medium level (README, statistics).
    expertise_weight = np.where(stated, expertise_weight, rules.weight_of(disclosure.NO_LEVEL))

    # Canonical respondent order: by a digest of each respondent's own row of every array.
    arrays = (importance, competitiveness, expertise_weight, high, timing)
    digests = [hashlib.sha256(b"".join(a[i].tobytes() for a in arrays)).digest() for i in range(r_count)]
    perm = np.array(sorted(range(r_count), key=lambda i: digests[i]), dtype=np.int64)
    importance, competitiveness, expertise_weight, high, timing, answered = (
        a[perm] if r_count else a for a in (*arrays, answered)
    )
    responses_digest = hashlib.sha256(
        b"".join(sorted(digests)) + f"{r_count}x{t_count}:{','.join(topics)}".encode()
    ).hexdigest()

    # Published demand (scale-weighted) and the pilots with a verified stage (module docstring).
    evidence = scenario_pull_evidence(topic_ids=order)
    pull_evidence = {topic_codes[t]: evidence[t] for t in order}
    pull = np.array([float(evidence[t]["total"]) for t in order], dtype=float)
    policy = np.zeros(t_count)
    members = Topic.clusters.through.objects.filter(topic_id__in=order, cluster__code__in=list(policy_clusters))
    for topic_id in members.values_list("topic_id", flat=True):
        policy[column[topic_id]] = 1.0

    reports: dict[str, dict[str, Any]] = {}
    all_questions = list(Question.objects.filter(study=rnd.study_id, applies_to=Question.AppliesTo.TOPIC))
    for r in rounds:
        mine = [t for t, tr in topic_round_ids.items() if tr.pk == r.pk]
        if mine:
            for topic_id, report in round_topic_reports(rnd=r, topic_ids=mine, questions=all_questions).items():
                reports[topic_codes[topic_id]] = report
    topic_n = np.array(
        [
            int(((topic_round_ids[t].summary or {}).get("topics", {}).get(topic_codes[t]) or {}).get("n") or 0)
            for t in order
        ],
        dtype=np.int64,
    )

    return CriteriaData(
        topics=topics,
        topic_ids=order,
        topic_round={topic_codes[t]: topic_round_ids[t] for t in order},
        importance=importance,
        competitiveness=competitiveness,
        expertise_weight=expertise_weight,
        high=high,
        timing=timing,
        n=topic_n,
        scenario_pull=np.round(pull, scoring.INDEX_DECIMALS),
        policy_list=policy,
        pull_evidence=pull_evidence,
        reports=reports,
        rounds={r.code: r.checksum for r in rounds if r.pk in {tr.pk for tr in topic_round_ids.values()}},
        responses_digest=responses_digest,
        timing_years=(start, horizon),
        stopping=dict(round_stopping_note(rnd=rnd)),
    )


# ---------------------------------------------------------------------------
# Creating a run
# ---------------------------------------------------------------------------


def _default_plan_end_year(rnd: Round) -> int:
    """End of the five-year planning period the round closed in (2021–2025, 2026–2030, ...)."""
    when = rnd.closed_at or rnd.aggregated_at or timezone.now()
    return when.year + (-when.year % 5)


def _clean_weights(weights: Mapping[str, Any]) -> dict[str, float]:
    if not isinstance(weights, Mapping) or not weights:
        raise ValidationError({"weights": ["Give a weight for at least one criterion."]})
    unknown = sorted(str(k) for k in weights if k not in CRITERIA)
    if unknown:
        raise ValidationError(
            {"weights": [f"Unknown criteria: {', '.join(unknown)}. Known criteria: {', '.join(CRITERIA)}."]}
        )
    clean: dict[str, float] = {}
    for name in CRITERIA:
        if name not in weights:
            continue
        value = weights[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
            raise ValidationError({"weights": [f"The weight of {name} must be a number."]})
        if value < 0:
            raise ValidationError({"weights": [f"The weight of {name} must not be negative."]})
        clean[name] = float(value)
    if not any(v > 0 for v in clean.values()):
        raise ValidationError({"weights": ["At least one criterion needs a positive weight."]})
    return clean


def ahp_assess(ahp_matrix: Mapping[str, Any]) -> dict[str, Any]:
    """The figures of a pairwise grid whatever its consistency (nothing stored): ``weights`` by criterion,
    ``cr``, ``lambda_max``, ``ci``, the ``limit`` and ``consistent`` (whether a run takes the grid), and,
    when it does not, the ``message`` a refused run gets. A malformed grid is a ``ValidationError`` on "ahp".

    The one validation of an AHP grid: ``scoring_run_create`` refuses what this calls inconsistent, and
    the workbench shows the consistency ratio of the grid as it is being filled in from it."""
    if not isinstance(ahp_matrix, Mapping) or "criteria" not in ahp_matrix or "matrix" not in ahp_matrix:
        raise ValidationError({"ahp": ['Give {"criteria": [names], "matrix": [[pairwise judgements]]}.']})
    names = ahp_matrix["criteria"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValidationError({"ahp": ["criteria must be a list of criterion names."]})
    unknown = sorted(n for n in names if n not in CRITERIA)
    if unknown:
        raise ValidationError({"ahp": [f"Unknown criteria: {', '.join(unknown)}."]})
    if len(set(names)) != len(names):
        raise ValidationError({"ahp": ["Each criterion may appear only once."]})
    matrix = ahp_matrix["matrix"]
    if not isinstance(matrix, list) or len(matrix) != len(names):
        raise ValidationError({"ahp": [f"The matrix needs one row per criterion ({len(names)} rows)."]})
    try:
        result = scoring.ahp_weights(matrix, max_cr=None)
    except ValueError as exc:
        raise ValidationError({"ahp": [str(exc)]}) from exc
    consistent = scoring.ahp_consistent(result["cr"], scoring.AHP_CR_MAX)
    return {
        "criteria": list(names),
        "matrix": [[float(v) for v in row] for row in matrix],
        "weights": dict(zip(names, result["weights"], strict=True)),
        "lambda_max": result["lambda_max"],
        "ci": result["ci"],
        "cr": result["cr"],
        "limit": scoring.AHP_CR_MAX,
        "consistent": consistent,
        "message": "" if consistent else scoring.ahp_inconsistent_message(result["cr"], scoring.AHP_CR_MAX),
    }


def _clean_ahp(ahp_matrix: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, Any]]:
    assessed = ahp_assess(ahp_matrix)
    if not assessed["consistent"]:
        raise ValidationError({"ahp": [f"{assessed['message']} Nothing was saved."]})
    weights = {name: round(w, 12) for name, w in assessed["weights"].items()}
    stored = {
        "criteria": assessed["criteria"],
        "matrix": assessed["matrix"],
        "weights": weights,
        "lambda_max": round(assessed["lambda_max"], 12),
        "ci": round(assessed["ci"], 12),
        "cr": round(assessed["cr"], 12),
    }
    return weights, stored


def _clean_thresholds(thresholds: Mapping[str, Any] | None, rnd: Round) -> dict[str, Any]:
    out: dict[str, Any] = {
        "importance": DEFAULT_IMPORTANCE_CUT,
        "competitiveness": DEFAULT_COMPETITIVENESS_CUT,
        "plan_end_year": _default_plan_end_year(rnd),
    }
    if thresholds is None:
        return out
    if not isinstance(thresholds, Mapping):
        raise ValidationError({"thresholds": ["Give the thresholds as an object."]})
    unknown = sorted(str(k) for k in thresholds if k not in out)
    if unknown:
        raise ValidationError({"thresholds": [f"Unknown thresholds: {', '.join(unknown)}."]})
    for key in ("importance", "competitiveness"):
        if key in thresholds:
            value = thresholds[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
                raise ValidationError({"thresholds": [f"The {key} cut must be an index between 0 and 100."]})
            out[key] = float(value)
    if "plan_end_year" in thresholds:
        year = thresholds["plan_end_year"]
        if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
            raise ValidationError({"thresholds": ["The plan end year must be a year between 2000 and 2100."]})
        out["plan_end_year"] = year
    return out


def _clean_policy_clusters(codes: Sequence[str] | None) -> list[str]:
    if codes is None:
        return sorted(Cluster.objects.filter(kind=Cluster.Kind.POLICY_LIST).values_list("code", flat=True))
    if isinstance(codes, str) or not all(isinstance(c, str) for c in codes):
        raise ValidationError({"policy_clusters": ["Give a list of cluster codes."]})
    known = set(Cluster.objects.filter(code__in=list(codes)).values_list("code", flat=True))
    missing = sorted(set(codes) - known)
    if missing:
        raise ValidationError({"policy_clusters": [f"Unknown clusters: {', '.join(missing)}."]})
    return sorted(set(codes))


@transaction.atomic
def scoring_run_create(
    *,
    study: Study,
    seed: int,
    top_k: int,
    weights: Mapping[str, Any] | None = None,
    ahp_matrix: Mapping[str, Any] | None = None,
    B: int = 1000,  # noqa: N803 - the usual name of the number of bootstrap samples
    thresholds: Mapping[str, Any] | None = None,
    policy_clusters: Sequence[str] | None = None,
    actor: Any = None,
) -> ScoringRun:
    """Validate and store a pending scoring run of the study's last aggregated round, then queue it.

    Weights come either from ``weights`` (criterion -> non-negative number, at least one positive;
    criteria left out get 0; default ``DEFAULT_WEIGHTS``) or from ``ahp_matrix`` ({"criteria": [...],
    "matrix": [[...]]}; refused when its consistency ratio is above 0.10).  ``thresholds`` override
    the matrix cut points (importance / competitiveness index 50, plan end year = end of the current
    five-year period); ``policy_clusters`` the cluster codes that count as policy lists (default:
    every cluster of kind policy list).  Any bad input raises ``ValidationError`` and stores nothing.
    """
    rnd = (
        Round.objects.filter(study=study, status=Round.Status.AGGREGATED)
        .select_related("study")
        .order_by("-number")
        .first()
    )
    if rnd is None:
        raise Conflict("The study has no aggregated round yet: close and aggregate a round first.")
    if weights is not None and ahp_matrix is not None:
        raise ValidationError("Give either weights or an AHP matrix, not both.")
    ahp: dict[str, Any] | None = None
    if ahp_matrix is not None:
        clean_weights, ahp = _clean_ahp(ahp_matrix)
    else:
        clean_weights = _clean_weights(DEFAULT_WEIGHTS if weights is None else weights)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ValidationError({"seed": ["The seed must be a whole number between 0 and 2^63 − 1."]})
    if isinstance(B, bool) or not isinstance(B, int) or not BOOTSTRAP_MIN <= B <= BOOTSTRAP_MAX:
        raise ValidationError({"bootstrap_b": [f"B must be a whole number from {BOOTSTRAP_MIN} to {BOOTSTRAP_MAX}."]})
    topic_count = len(_topic_rounds(_aggregated_rounds(rnd)))
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= max(1, topic_count):
        raise ValidationError({"top_k": [f"k must be a whole number from 1 to the number of topics ({topic_count})."]})
    run = ScoringRun(
        study=study,
        round=rnd,
        weights=clean_weights,
        ahp=ahp,
        seed=seed,
        bootstrap_b=B,
        top_k=top_k,
        thresholds=_clean_thresholds(thresholds, rnd),
        policy_clusters=_clean_policy_clusters(policy_clusters),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    run.full_clean()
    run.save()
    audit_log(
        action="scoring_run_create",
        actor=actor,
        round=rnd,
        run=run.code,
        weights=clean_weights,
        ahp_cr=ahp["cr"] if ahp else None,
        seed=seed,
        bootstrap_b=B,
        top_k=top_k,
    )
    queue.send_on_commit("priorities.scoring_run", run.pk)
    return run


# ---------------------------------------------------------------------------
# Executing a run
# ---------------------------------------------------------------------------


def _r(value: Any) -> Any:
    """Round floats to 10 decimals (as RoundStat stores them) so stored results never depend on the last bit."""
    if isinstance(value, float):
        return round(value, scoring.INDEX_DECIMALS)
    if isinstance(value, dict):
        return {k: _r(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_r(v) for v in value]
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def scoring_run_settings(run: ScoringRun) -> dict[str, Any]:
    """The settings staff chose for a run (with its data, they determine every number it gives)."""
    return {
        "weights": run.weights,
        "ahp": run.ahp,
        "seed": run.seed,
        "bootstrap_b": run.bootstrap_b,
        "top_k": run.top_k,
        "thresholds": run.thresholds,
        "policy_clusters": run.policy_clusters,
    }


def scoring_fingerprint(*, run: ScoringRun, data: CriteriaData) -> str:
    """SHA-256 of every input that affects a number of the run (codes, never database ids)."""
    inputs = {
        "method": METHOD_VERSION,
        "study": run.study.code,
        "rules": run.study.disclosure_rules().as_dict(),
        "timing_years": list(data.timing_years),
        "rounds": data.rounds,
        "topic_rounds": {code: r.code for code, r in data.topic_round.items()},
        "responses": data.responses_digest,
        **scoring_run_settings(run),
        "scenario_pull": dict(zip(data.topics, [float(v) for v in data.scenario_pull], strict=True)),
        # The evidence behind it: a pilot's verified stage or an entry's published scale moves the fingerprint.
        "scenario_pull_evidence": data.pull_evidence,
        "policy_list": dict(zip(data.topics, [float(v) for v in data.policy_list], strict=True)),
    }
    return hashlib.sha256(_canonical(_r(inputs)).encode()).hexdigest()


def _item(data: CriteriaData, code: str, key: str) -> dict[str, Any]:
    return ((data.reports.get(code) or {}).get("items") or {}).get(key) or {}


def _released(item: Mapping[str, Any]) -> bool:
    return item.get("n") is not None


def indices_view(report: Mapping[str, Any]) -> dict[str, Any]:
    """The importance and competitiveness indices of a released report (all / high / weighted, with n)."""
    items = report.get("items") or {}
    out = {}
    for key in ("importance", "competitiveness"):
        item = items.get(key) or {}
        out[key] = {
            "n": item.get("n"),
            "index": item.get("index"),
            "n_high": item.get("n_high"),
            "index_high": item.get("index_high"),
            "index_weighted": item.get("index_weighted"),
        }
    return out


def timing_view(report: Mapping[str, Any]) -> dict[str, Any]:
    """The realisation years of a released report (None where the item is not released)."""
    items = report.get("items") or {}
    out: dict[str, Any] = {}
    for key in ("tech_year", "social_year"):
        item = items.get(key) or {}
        out[key] = (
            {name: item.get(name) for name in ("n", "n_years", "median", "q1", "q3", "share_already", "share_never")}
            if _released(item)
            else None
        )
    return out


def groups_view(report: Mapping[str, Any]) -> dict[str, Any]:
    """Sector indices the layer releases for importance and competitiveness, and their divergence."""
    items = report.get("items") or {}
    out: dict[str, Any] = {}
    divergent = False
    for key in ("importance", "competitiveness"):
        item = items.get(key) or {}
        shown = dict(item.get("sectors") or {})
        spread = scoring.divergence({g: v.get("index") for g, v in shown.items()})
        divergent = divergent or spread["divergent"]
        out[key] = {"shown": shown, "reason": (item.get("suppressed") or {}).get("sectors"), **spread}
    out["divergent"] = divergent
    return out


# Criteria that may stand in for another, and the figure that stands in (module docstring).
FALLBACK_TO_ALL = {"importance_index_high": "index_high", "importance_index_weighted": "index_weighted"}
# Criterion -> (item whose release it needs).
CRITERION_ITEM = {
    "importance_index": "importance",
    "importance_index_high": "importance",
    "importance_index_weighted": "importance",
    "competitiveness_gap": "competitiveness",
    "timing": "tech_year",
}


def criterion_fallbacks(report: Mapping[str, Any], weights: Mapping[str, float]) -> list[dict[str, Any]]:
    """Every criterion of a topic computed from something other than its own figure, and why.

    ``used`` is ``importance_index`` (the all-respondent index stood in) or ``worst`` (the figure is
    missing and counts as the lowest value); ``in_score`` says whether the criterion weighs in the run.
    """
    out = []
    items = report.get("items") or {}
    for criterion, key in CRITERION_ITEM.items():
        item = items.get(key) or {}
        reason: str | None = None
        used = ""
        if not _released(item):
            used, reason = "worst", (item.get("suppressed") or {}).get("all", disclosure.SMALL_GROUP)
        elif criterion == "timing" and item.get("n_years") is None:
            used, reason = "worst", (item.get("suppressed") or {}).get("years", disclosure.SMALL_GROUP)
        elif criterion in FALLBACK_TO_ALL and item.get(FALLBACK_TO_ALL[criterion]) is None:
            used = "importance_index"
            reason = (item.get("suppressed") or {}).get(FALLBACK_TO_ALL[criterion], disclosure.SMALL_GROUP)
        if reason is not None:
            out.append(
                {
                    "criterion": criterion,
                    "used": used,
                    "reason": reason,
                    "in_score": float(weights.get(criterion, 0.0)) > 0,
                }
            )
    return out


def scoring_results_compute(*, run: ScoringRun, data: CriteriaData, progress: Any = None) -> dict[str, Any]:
    """The results JSON of a run (no writes). Deterministic for the same data, settings and seed.

    Topics with the study's minimum evidence are ranked; every criterion uses only figures the
    disclosure layer releases (``data.reports``), with each stand-in recorded in ``fallbacks``.
    """
    rules = run.study.disclosure_rules()
    thresholds = run.thresholds
    # A tier needs the minimum evidence and the survey's own verdict: a topic whose importance index the
    # disclosure layer withholds would be ranked on stand-ins and the curators' links alone.
    shortfall = {
        code: (
            None
            if not disclosure.evidence_sufficient(int(n), rules)
            else (_item(data, code, "importance").get("suppressed") or {}).get("all", disclosure.SMALL_GROUP)
        )
        for code, n in zip(data.topics, data.n, strict=True)
        if not disclosure.evidence_sufficient(int(n), rules) or _item(data, code, "importance").get("index") is None
    }
    ranked = [j for j, code in enumerate(data.topics) if code not in shortfall]
    cols = np.array(ranked, dtype=np.int64)
    codes = [data.topics[j] for j in ranked]

    def sub(a: np.ndarray) -> np.ndarray:
        return a[:, cols]

    def released(key: str, figure: str = "n") -> np.ndarray:
        return np.array([_item(data, c, key).get(figure) is not None for c in codes], dtype=bool)

    def keep(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
        # A figure the layer does not release is missing: never computed from a small group.
        return np.where(mask[None, :], a, np.nan)

    imp = keep(sub(data.importance), released("importance"))
    imp_answered = (~np.isnan(imp)).astype(float)
    high_ok = released("importance", "index_high")
    weighted_ok = released("importance", "index_weighted")
    # Where the high-expertise or weighted index is not released, all respondents stand in (recorded).
    high_weights = np.where(high_ok[None, :], sub(data.high) * imp_answered, imp_answered)
    expertise_weights = np.where(weighted_ok[None, :], sub(data.expertise_weight) * imp_answered, imp_answered)
    # Timing is a mean over every valid answer; with "already" and "never" released as shares, it would
    # pin down the mean year of the respondents who gave a year, so it needs that group released too.
    timing_codes = keep(4.0 * sub(data.timing) - 2.0, released("tech_year") & released("tech_year", "n_years"))
    criteria: dict[str, scoring.Criterion] = {
        "importance_index": scoring.IndexCriterion(imp),
        "importance_index_high": scoring.IndexCriterion(imp, high_weights),
        "importance_index_weighted": scoring.IndexCriterion(imp, expertise_weights),
        "competitiveness_gap": scoring.IndexCriterion(
            keep(sub(data.competitiveness), released("competitiveness")), reverse=True
        ),
        "timing": scoring.IndexCriterion(timing_codes),
        "scenario_pull": data.scenario_pull[cols],
        "policy_list": data.policy_list[cols],
    }
    result = scoring.bootstrap_ranks(
        criteria, run.weights, top_k=run.top_k, seed=run.seed, B=run.bootstrap_b, progress=progress
    )

    topics: dict[str, Any] = {}
    position = {j: i for i, j in enumerate(ranked)}
    for j, code in enumerate(data.topics):
        rnd = data.topic_round[code]
        report = data.reports.get(code) or {
            "round": rnd.number,
            "respondents": {"n": None, "suppressed": {"all": disclosure.SMALL_GROUP}},
            "items": {},
            "social_lag": None,
        }
        n = int(data.n[j])
        shown_n = report["respondents"].get("n")
        indices = indices_view(report)
        timing = timing_view(report)
        tech_median = timing["tech_year"]["median"] if timing["tech_year"] else None
        entry: dict[str, Any] = {
            "n": shown_n,
            "round": rnd.number,
            "suppressed": not disclosure.topic_released(n, rules),
            "ranked": j in position,
            "evidence": {
                "sufficient": j in position,
                "min_respondents": rules.min_respondents,
                "min_high": rules.min_high,
                # Why a topic with enough respondents is not ranked: the importance index is withheld, for this reason.
                **({"importance_withheld": shortfall[code]} if shortfall.get(code) else {}),
            },
            "report": report,
            "indices": indices,
            "timing": timing,
            "quadrant": {
                "importance_competitiveness": scoring.quadrant_competitiveness(
                    indices["importance"]["index"],
                    indices["competitiveness"]["index"],
                    importance_cut=float(thresholds["importance"]),
                    competitiveness_cut=float(thresholds["competitiveness"]),
                ),
                "importance_timing": scoring.quadrant_timing(
                    indices["importance"]["index"],
                    tech_median,
                    importance_cut=float(thresholds["importance"]),
                    year_cut=float(thresholds["plan_end_year"]),
                ),
            },
            "groups": groups_view(report),
            # D, P and the published scenarios and verified pilots they come from (staff only: not published).
            "scenario_pull": data.pull_evidence.get(code) or {},
        }
        if j not in position:
            entry["tier"] = disclosure.INSUFFICIENT_TIER
            topics[code] = entry
            continue
        i = position[j]
        entry.update(
            {
                "criteria": {name: result.criteria[name][i] for name in CRITERIA},
                "normalised": {name: result.normalised[name][i] for name in CRITERIA},
                "fallbacks": criterion_fallbacks(report, result.weights),
                "high_fallback": not bool(high_ok[i]),
                "score": result.score[i],
                "rank": result.rank[i],
                "median_rank": result.median_rank[i],
                "rank_low": result.rank_low[i],
                "rank_high": result.rank_high[i],
                "p_top_k": result.p_top_k[i],
                "tier": result.tier[i],
            }
        )
        topics[code] = entry
    ranking = sorted((c for c in topics if topics[c]["ranked"]), key=lambda c: (topics[c]["rank"], c))
    outcome: dict[str, Any] = _r(
        {
            "topics": topics,
            "ranking": ranking,
            "summary": {
                "respondents": data.respondents,
                "topics": len(data.topics),
                "ranked": len(ranking),
                "suppressed": sorted(c for c in topics if topics[c]["suppressed"]),
                "insufficient": sorted(c for c in topics if not topics[c]["ranked"]),
                "divergent": sorted(c for c in ranking if topics[c]["groups"]["divergent"]),
                "fallbacks": {
                    name: sorted(
                        c
                        for c in ranking
                        if any(f["criterion"] == name and f["in_score"] for f in topics[c]["fallbacks"])
                    )
                    for name in CRITERION_ITEM
                },
                "weights": result.weights,
                "stopping": data.stopping,
            },
            "inputs": {
                "method": METHOD_VERSION,
                "rounds": data.rounds,
                "rules": rules.as_dict(),
                "k": rules.k,
                "timing_years": list(data.timing_years),
                "responses": data.responses_digest,
            },
        }
    )
    return outcome


def scoring_run_execute(*, run_id: int) -> bool:
    """Compute a pending run; True if this call finished it, False if there was nothing to do.

    1. claim it: pending → running by a conditional update (or re-claim a run whose worker died:
       running for longer than the task's hard time limit);
    2. read the criteria and compute scores and the bootstrap (outside any transaction), moving the
       progress 0 → 10 → 95 as chunks finish;
    3. store results, fingerprint, progress 100 and running → done in one conditional update.
    Any error moves running → failed with the message.  The same inputs give the same results, so
    a re-run after a crash gives the identical fingerprint and results.
    """
    now = timezone.now()
    claimed = (
        ScoringRun.objects.filter(pk=run_id)
        .filter(
            Q(status=ScoringRun.Status.PENDING)
            | Q(status=ScoringRun.Status.RUNNING, started_at__lt=now - RUN_STALE_AFTER)
        )
        .update(status=ScoringRun.Status.RUNNING, started_at=now, progress=0, error="")
    )
    if claimed != 1:
        return False
    mine = ScoringRun.objects.filter(pk=run_id, status=ScoringRun.Status.RUNNING, started_at=now)
    try:
        run = ScoringRun.objects.select_related("study", "round").get(pk=run_id)
        data = criteria_collect(rnd=run.round, policy_clusters=run.policy_clusters)
        mine.update(progress=10)
        shown = {"progress": 10}

        def progress(done: int, total: int) -> None:
            value = 10 + int(85 * done / total)
            if value > shown["progress"]:
                shown["progress"] = value
                mine.update(progress=value)

        results = scoring_results_compute(run=run, data=data, progress=progress)
        fingerprint = scoring_fingerprint(run=run, data=data)
    except Exception as exc:
        logger.exception("scoring run %s failed", run_id)
        mine.update(
            status=ScoringRun.Status.FAILED, error=str(exc)[:2000] or type(exc).__name__, finished_at=timezone.now()
        )
        return False
    with transaction.atomic():
        done = mine.update(
            status=ScoringRun.Status.DONE,
            results=results,
            fingerprint=fingerprint,
            progress=100,
            finished_at=timezone.now(),
        )
        if done == 1:
            audit_log(action="scoring_run_done", round=run.round, run=run.code, fingerprint=fingerprint)
    return done == 1


def scoring_runs_sweep(*, now: Any = None) -> list[int]:
    """Re-queue runs whose task was lost: pending for over a minute (the broker was down when they were
    created), or running for longer than the task's time limit (its worker died). Run by beat."""
    now = now or timezone.now()
    ids = list(
        ScoringRun.objects.filter(
            Q(status=ScoringRun.Status.PENDING, created_at__lt=now - timedelta(seconds=60))
            | Q(status=ScoringRun.Status.RUNNING, started_at__lt=now - RUN_STALE_AFTER)
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        queue.send("priorities.scoring_run", pk)
    return ids
