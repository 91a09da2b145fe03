"""Scoring runs: criteria from an aggregated Delphi study, weighted scores and bootstrap rank intervals.

Numbers come from ``foresight.stats`` / ``foresight.delphi.services.aggregation`` (the round
statistics) and from ``foresight.priorities.scoring`` (the matrix form of the same index formulas,
resampled).  Nothing here renders or publishes: editions are built on finished runs elsewhere.

Criteria (SPEC §6), each min–max normalised across the ranked topics before weighting:

* ``importance_index`` — importance index 0–100 over all respondents.
* ``importance_index_high`` — over high-expertise respondents; where that index may not be shown
  (fewer than k high-expertise answers, or a non-high remainder of 1 … k−1 answers that subtraction
  from the all-respondent index would expose) the all-respondent index stands in for it, so no topic
  is penalised for a small cell and no small cell leaks into a score.
* ``importance_index_weighted`` — expertise-weighted (the study's weights, default 1.0/0.6/0.3).
* ``competitiveness_gap`` — 100 − competitiveness index: the weaker the country's current
  position, the greater the need for public effort, so the higher the score.
* ``timing`` — ``max(0, plan end year − median tech_year)``: realised earlier within the plan
  period scores higher; a median after the plan period scores 0.
* ``scenario_pull`` — Σ role weight (core 1.0, enabling 0.6, complementary 0.3) over published
  scenarios that need the topic.
* ``policy_list`` — 1 if the topic is on one of the run's policy-list clusters, else 0.

Topics with fewer than ``study.k_threshold`` respondents are suppressed: no figure, no rank, and
they take no part in the normalisation of the others.  A criterion statistic itself derived from
fewer than k answers is missing (worst value, see ``scoring``).
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

from foresight.catalog.models import Cluster, PublicationStatus, Topic
from foresight.delphi.models import Answer, Question, Round, RoundStat, Study
from foresight.delphi.services.aggregation import ALL, HIGH
from foresight.delphi.services.audit import audit_log
from foresight.priorities import scoring
from foresight.priorities.models import BOOTSTRAP_MAX, BOOTSTRAP_MIN, ScoringRun
from scenarios.models import ScenarioTopic

logger = logging.getLogger(__name__)

# Bump when a change to this module or to ``scoring`` changes any number for the same inputs.
METHOD_VERSION = "priorities-1"

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
SECTOR_GROUPS = ("company", "university", "public_research", "government")
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
    expertise_weight: np.ndarray  # the study's weight of the respondent's stated expertise, 0 if none
    high: np.ndarray  # 1.0 where the respondent stated high expertise on the topic
    tech_year: np.ndarray  # NaN unless a year was given
    n: np.ndarray  # respondents per topic
    scenario_pull: np.ndarray
    policy_list: np.ndarray
    stats: dict[tuple[str, str, str], tuple[int, dict[str, Any]]] = field(default_factory=dict)
    rounds: dict[str, str] = field(default_factory=dict)  # round code -> checksum
    responses_digest: str = ""

    @property
    def respondents(self) -> int:
        return int(self.importance.shape[0])


def _scale_mid(question: Question | None) -> float:
    if question is None or not question.options:
        return 3.0
    values = [float(o.get("value", o["code"])) for o in question.options]
    return (min(values) + max(values)) / 2


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


def criteria_collect(*, rnd: Round, policy_clusters: Sequence[str]) -> CriteriaData:
    """Read the answers behind every criterion, once, up to and including the aggregated round ``rnd``.

    1. each topic's final round = its last aggregated round; respondents = participants with answers there;
    2. one query for the expertise / importance / competitiveness / tech_year answers of those cells;
    3. the RoundStat rows of those cells (indices, year medians, sector groups) for display and divergence;
    4. scenario pull and policy-list membership from the catalog as it is now.
    """
    rounds = _aggregated_rounds(rnd)
    topic_round_ids = _topic_rounds(rounds)
    topic_codes = dict(Topic.objects.filter(pk__in=topic_round_ids).values_list("pk", "code"))
    order = sorted(topic_round_ids, key=lambda t: topic_codes[t])
    topics = [topic_codes[t] for t in order]
    column = {t: i for i, t in enumerate(order)}
    questions = {q.key: q for q in Question.objects.filter(study=rnd.study_id, key__in=_KEYS)}
    mids = {key: _scale_mid(questions.get(key)) for key in ("importance", "competitiveness")}
    study: Study = rnd.study
    weights = {str(k): float(v) for k, v in (study.expertise_weights or {}).items()}

    cells: Q = Q(pk__in=[])
    for r in rounds:
        mine = [t for t, tr in topic_round_ids.items() if tr.pk == r.pk]
        if mine:
            cells |= Q(response__round=r, response__topic_id__in=mine)
    answers = Answer.objects.filter(cells, question__key__in=_KEYS).order_by()
    # Respondents first (one DISTINCT query), so the answers stream straight into the arrays.
    participants = sorted(answers.values_list("response__participant_id", flat=True).distinct())
    row = {p: i for i, p in enumerate(participants)}
    t_count = len(order)
    r_count = len(participants)
    importance = np.full((r_count, t_count), np.nan)
    competitiveness = np.full((r_count, t_count), np.nan)
    expertise_weight = np.zeros((r_count, t_count))
    high = np.zeros((r_count, t_count))
    tech_year = np.full((r_count, t_count), np.nan)
    answered = np.zeros((r_count, t_count), dtype=bool)
    values = answers.values_list(
        "response__participant_id", "response__topic_id", "question__key", "cant_judge", "value_num", "value_code"
    )
    for participant_id, topic_id, key, cant_judge, num, code in values.iterator(chunk_size=20000):
        i, j = row[participant_id], column[topic_id]
        answered[i, j] = True
        if key == "expertise":
            if code:
                expertise_weight[i, j] = weights.get(code, 0.0)
                high[i, j] = 1.0 if code == "high" else 0.0
        elif cant_judge or num is None:
            continue
        elif key == "tech_year":
            if code not in _YEAR_CODES:
                tech_year[i, j] = num
        else:
            target = importance if key == "importance" else competitiveness
            target[i, j] = num - mids[key]

    # Canonical respondent order: by a digest of each respondent's own row of every array.
    arrays = (importance, competitiveness, expertise_weight, high, tech_year)
    digests = [hashlib.sha256(b"".join(a[i].tobytes() for a in arrays)).digest() for i in range(r_count)]
    perm = np.array(sorted(range(r_count), key=lambda i: digests[i]), dtype=np.int64)
    importance, competitiveness, expertise_weight, high, tech_year, answered = (
        a[perm] if r_count else a for a in (*arrays, answered)
    )
    responses_digest = hashlib.sha256(
        b"".join(sorted(digests)) + f"{r_count}x{t_count}:{','.join(topics)}".encode()
    ).hexdigest()

    pull = np.zeros(t_count)
    links = ScenarioTopic.objects.filter(scenario__status=PublicationStatus.PUBLISHED, topic_id__in=order)
    for topic_id, role in links.values_list("topic_id", "role").order_by("topic_id", "role"):
        pull[column[topic_id]] += ScenarioTopic.ROLE_WEIGHTS.get(role, 0.0)
    policy = np.zeros(t_count)
    members = Topic.clusters.through.objects.filter(topic_id__in=order, cluster__code__in=list(policy_clusters))
    for topic_id in members.values_list("topic_id", flat=True):
        policy[column[topic_id]] = 1.0

    stats: dict[tuple[str, str, str], tuple[int, dict[str, Any]]] = {}
    stat_cells: Q = Q(pk__in=[])
    for r in rounds:
        mine = [t for t, tr in topic_round_ids.items() if tr.pk == r.pk]
        if mine:
            stat_cells |= Q(round=r, topic_id__in=mine)
    for topic_id, key, group, n, data in RoundStat.objects.filter(
        stat_cells, question__key__in=("importance", "competitiveness", "tech_year", "social_year")
    ).values_list("topic_id", "question__key", "group", "n", "data"):
        stats[(topic_codes[topic_id], key, group)] = (n, data)

    return CriteriaData(
        topics=topics,
        topic_ids=order,
        topic_round={topic_codes[t]: topic_round_ids[t] for t in order},
        importance=importance,
        competitiveness=competitiveness,
        expertise_weight=expertise_weight,
        high=high,
        tech_year=tech_year,
        n=answered.sum(axis=0) if r_count else np.zeros(t_count, dtype=int),
        scenario_pull=np.round(pull, scoring.INDEX_DECIMALS),
        policy_list=policy,
        stats=stats,
        rounds={r.code: r.checksum for r in rounds if r.pk in {tr.pk for tr in topic_round_ids.values()}},
        responses_digest=responses_digest,
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


def _clean_ahp(ahp_matrix: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, Any]]:
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
        result = scoring.ahp_weights(matrix)
    except scoring.InconsistentMatrix as exc:
        raise ValidationError(
            {
                "ahp": [
                    f"The pairwise comparisons are too inconsistent: consistency ratio {exc.cr:.3f} is above "
                    f"{scoring.AHP_CR_MAX:.2f}. Revise the judgements that contradict each other; nothing was saved."
                ]
            }
        ) from exc
    except ValueError as exc:
        raise ValidationError({"ahp": [str(exc)]}) from exc
    weights = {name: round(w, 12) for name, w in zip(names, result["weights"], strict=True)}
    stored = {
        "criteria": list(names),
        "matrix": [[float(v) for v in row] for row in matrix],
        "weights": weights,
        "lambda_max": round(result["lambda_max"], 12),
        "ci": round(result["ci"], 12),
        "cr": round(result["cr"], 12),
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
        raise ValidationError("The study has no aggregated round yet: close and aggregate a round first.")
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
    from foresight.core import queue
    from foresight.priorities import tasks

    queue.send_on_commit(tasks.scoring_run, run.pk)
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
        "k": run.study.k_threshold,
        "expertise_weights": run.study.expertise_weights,
        "rounds": data.rounds,
        "topic_rounds": {code: r.code for code, r in data.topic_round.items()},
        "responses": data.responses_digest,
        **scoring_run_settings(run),
        "scenario_pull": dict(zip(data.topics, [float(v) for v in data.scenario_pull], strict=True)),
        "policy_list": dict(zip(data.topics, [float(v) for v in data.policy_list], strict=True)),
    }
    return hashlib.sha256(_canonical(_r(inputs)).encode()).hexdigest()


def _stat(data: CriteriaData, code: str, key: str, group: str) -> tuple[int, dict[str, Any]]:
    return data.stats.get((code, key, group), (0, {}))


def _high_shown(n_all: int, n_high: int, k: int) -> bool:
    """The high-expertise index may be shown iff it and its complement are not small cells."""
    rest = n_all - n_high
    return n_high >= k and (rest == 0 or rest >= k)


def _index_summary(data: CriteriaData, code: str, key: str, k: int) -> dict[str, Any]:
    n, all_data = _stat(data, code, key, ALL)
    n_high, high_data = _stat(data, code, key, HIGH)
    if n < k:
        return {"n": n, "index": None, "index_weighted": None, "n_high": None, "index_high": None}
    shown = _high_shown(n, n_high, k)
    return {
        "n": n,
        "index": all_data.get("index"),
        "index_weighted": all_data.get("index_weighted"),
        "n_high": n_high if shown else None,
        "index_high": high_data.get("index") if shown else None,
    }


def _groups(data: CriteriaData, code: str, k: int) -> dict[str, Any]:
    """Sector groups with at least k answers, after complementary suppression, and their divergence."""
    out: dict[str, Any] = {}
    divergent = False
    for key in ("importance", "competitiveness"):
        total, _ = _stat(data, code, key, ALL)
        counts = {
            group.split(":", 1)[1]: n
            for (c, q, group), (n, _) in data.stats.items()
            if c == code and q == key and group.startswith("sector:")
        }
        shown = scoring.visible_groups(counts, k=k, total=total, publishable=SECTOR_GROUPS) if total >= k else []
        indices = {g: _stat(data, code, key, f"sector:{g}")[1].get("index") for g in shown}
        spread = scoring.divergence(indices)
        divergent = divergent or spread["divergent"]
        out[key] = {
            "shown": {g: {"n": counts[g], "index": indices[g]} for g in shown},
            "suppressed": sorted(g for g in SECTOR_GROUPS if counts.get(g) and g not in shown),
            **spread,
        }
    out["divergent"] = divergent
    return out


def _timing_summary(data: CriteriaData, code: str, k: int) -> dict[str, Any]:
    """Year figures of the round, each shown only if its own base has k answers: the median and quartiles
    come from the years given (without "already"/"never"), the shares from every valid answer."""
    out: dict[str, Any] = {}
    for key in ("tech_year", "social_year"):
        _, figures = _stat(data, code, key, ALL)
        valid = figures.get("n_valid") or 0
        years = figures.get("n") or 0
        if valid < k:
            out[key] = None
            continue
        enough = years >= k
        out[key] = {
            "n": valid,
            "n_years": years if enough else None,
            "median": figures.get("median") if enough else None,
            "q1": figures.get("q1") if enough else None,
            "q3": figures.get("q3") if enough else None,
            "share_already": figures.get("share_already"),
            "share_never": figures.get("share_never"),
        }
    return out


def scoring_results_compute(*, run: ScoringRun, data: CriteriaData, progress: Any = None) -> dict[str, Any]:
    """The results JSON of a run (no writes). Deterministic for the same data, settings and seed."""
    k = run.study.k_threshold
    thresholds = run.thresholds
    ranked = [j for j, n in enumerate(data.n) if n >= k]
    cols = np.array(ranked, dtype=np.int64)

    def sub(a: np.ndarray) -> np.ndarray:
        return a[:, cols]

    def drop_small(a: np.ndarray, counts: np.ndarray) -> np.ndarray:
        # A criterion statistic from fewer than k answers is missing, never computed from a small cell.
        out = a.copy()
        out[:, counts < k] = np.nan
        return out

    imp = sub(data.importance)
    comp = sub(data.competitiveness)
    imp_answered = ~np.isnan(imp)
    n_imp = imp_answered.sum(axis=0)
    n_comp = (~np.isnan(comp)).sum(axis=0)
    high = sub(data.high) * imp_answered
    n_high = high.sum(axis=0).astype(int)
    # Where the high-expertise index may not be shown, all respondents stand in (see module docstring).
    fallback = np.array([not _high_shown(int(a), int(h), k) for a, h in zip(n_imp, n_high, strict=True)], dtype=bool)
    high_weights = np.where(fallback[None, :], imp_answered.astype(float), high)
    years = sub(data.tech_year)
    n_years = (~np.isnan(years)).sum(axis=0)
    imp_ok = drop_small(imp, n_imp)
    criteria: dict[str, scoring.Criterion] = {
        "importance_index": scoring.IndexCriterion(imp_ok),
        "importance_index_high": scoring.IndexCriterion(imp_ok, high_weights),
        "importance_index_weighted": scoring.IndexCriterion(imp_ok, sub(data.expertise_weight)),
        "competitiveness_gap": scoring.IndexCriterion(drop_small(comp, n_comp), reverse=True),
        "timing": scoring.YearCriterion(drop_small(years, n_years), cut=float(thresholds["plan_end_year"])),
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
        n = int(data.n[j])
        if j not in position:
            topics[code] = {"n": n, "round": rnd.number, "suppressed": True}
            continue
        i = position[j]
        importance = _index_summary(data, code, "importance", k)
        competitiveness = _index_summary(data, code, "competitiveness", k)
        timing = _timing_summary(data, code, k)
        tech_median = timing["tech_year"]["median"] if timing["tech_year"] else None
        topics[code] = {
            "n": n,
            "round": rnd.number,
            "suppressed": False,
            "criteria": {name: result.criteria[name][i] for name in CRITERIA},
            "normalised": {name: result.normalised[name][i] for name in CRITERIA},
            "high_fallback": bool(fallback[i]),
            "score": result.score[i],
            "rank": result.rank[i],
            "median_rank": result.median_rank[i],
            "rank_low": result.rank_low[i],
            "rank_high": result.rank_high[i],
            "p_top_k": result.p_top_k[i],
            "tier": result.tier[i],
            "indices": {"importance": importance, "competitiveness": competitiveness},
            "timing": timing,
            "quadrant": {
                "importance_competitiveness": scoring.quadrant_competitiveness(
                    importance["index"],
                    competitiveness["index"],
                    importance_cut=float(thresholds["importance"]),
                    competitiveness_cut=float(thresholds["competitiveness"]),
                ),
                "importance_timing": scoring.quadrant_timing(
                    importance["index"],
                    tech_median,
                    importance_cut=float(thresholds["importance"]),
                    year_cut=float(thresholds["plan_end_year"]),
                ),
            },
            "groups": _groups(data, code, k),
        }
    ranking = sorted((c for c in topics if not topics[c]["suppressed"]), key=lambda c: (topics[c]["rank"], c))
    return _r(
        {
            "topics": topics,
            "ranking": ranking,
            "summary": {
                "respondents": data.respondents,
                "topics": len(data.topics),
                "ranked": len(ranking),
                "suppressed": sorted(c for c in topics if topics[c]["suppressed"]),
                "divergent": sorted(c for c in ranking if topics[c]["groups"]["divergent"]),
                "weights": result.weights,
            },
            "inputs": {
                "method": METHOD_VERSION,
                "rounds": data.rounds,
                "k": k,
                "responses": data.responses_digest,
            },
        }
    )


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
    from foresight.core import queue
    from foresight.priorities import tasks

    now = now or timezone.now()
    ids = list(
        ScoringRun.objects.filter(
            Q(status=ScoringRun.Status.PENDING, created_at__lt=now - timedelta(seconds=60))
            | Q(status=ScoringRun.Status.RUNNING, started_at__lt=now - RUN_STALE_AFTER)
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        queue.send(tasks.scoring_run, pk)
    return ids
