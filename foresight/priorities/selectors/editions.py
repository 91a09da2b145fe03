"""Public reads of priority editions: what the edition pages, the API, the downloads and the topic page
show.  Only published editions are ever read, only published
aggregates leave (``exports.published_aggregates`` strips any count below the study's k), and each
function costs a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from foresight import numbers
from foresight.catalog.models import Direction, Topic
from foresight.core.reasons import reason_label
from foresight.delphi.answers import option_key, option_value
from foresight.delphi.models import Question, Round, Study
from foresight.delphi.selectors import topic_round_figures
from foresight.priorities import charts, summaries
from foresight.priorities.exports import published_aggregates
from foresight.priorities.labels import (
    CRITERION_LABELS,
    SCENARIO_PULL_FORMULA,
    criterion_label,
    fallback_count_label,
    fallback_label,
)
from foresight.priorities.models import TIER_ORDER, Edition, EditionEntry, Tier
from foresight.priorities.services.runs import pull_from_evidence

HISTORY_KEYS = ("importance", "competitiveness")


def _zh() -> bool:
    return (get_language() or "en").lower().startswith("zh")


def _with_tier_counts(qs: QuerySet[Edition]) -> QuerySet[Edition]:
    return qs.annotate(
        n_topics=Count("entries"),
        n_priority=Count("entries", filter=Q(entries__tier=Tier.PRIORITY)),
        n_key=Count("entries", filter=Q(entries__tier=Tier.KEY)),
        n_watch=Count("entries", filter=Q(entries__tier=Tier.WATCH)),
        n_insufficient=Count("entries", filter=Q(entries__tier=Tier.INSUFFICIENT)),
    )


def edition_list() -> QuerySet[Edition]:
    """Published editions, newest first, with ``n_topics`` / ``n_priority`` / ``n_key`` / ``n_watch``.

    Two queries: the editions with their counts, and their successors (use ``published_successors``:
    a draft correction is prefetched too and must never be shown).
    """
    return _with_tier_counts(edition_list_public())


def edition_latest() -> Edition | None:
    """The newest published edition with its tier counts, in one query (the home page's teaser)."""
    return _with_tier_counts(edition_list_public().prefetch_related(None)).first()


def published_successors(edition: Edition) -> list[Edition]:
    """Published editions that replace this one (from the prefetched ``replaced_by``; drafts left out)."""
    return sorted(
        (e for e in edition.replaced_by.all() if e.status == Edition.Status.PUBLISHED),
        key=lambda e: (e.published_at, e.code),
    )


# ---------------------------------------------------------------------------
# One edition
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicEntry:
    """An entry as the public may see it: the decision, and its data after small-cell suppression."""

    entry: EditionEntry
    data: dict[str, Any]

    @property
    def topic(self) -> Topic:
        return self.entry.topic

    @property
    def direction(self) -> Direction:
        return self.entry.topic.area.direction

    @property
    def rationale(self) -> str:
        """The rationale in the active language, falling back to English (``rationale_in_english_only``)."""
        if _zh() and self.entry.rationale_zh:
            return self.entry.rationale_zh
        return self.entry.rationale_en

    @property
    def rationale_in_english_only(self) -> bool:
        """A Chinese page shows the English rationale: the curator wrote none in Chinese (the page says so)."""
        return _zh() and not self.entry.rationale_zh

    def index(self, key: str) -> float | None:
        value = (self.data.get("indices") or {}).get(key, {}) or {}
        result = value.get("index")
        return float(result) if isinstance(result, int | float) else None


@dataclass
class PublicEdition:
    edition: Edition
    entries: list[PublicEntry]
    successors: list[Edition]
    directions: list[Direction]
    k: int
    # Set by edition_radar_get: blips with their status against the previous edition.
    radar: list[dict[str, Any]] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.edition.code

    @property
    def thresholds(self) -> dict[str, Any]:
        return dict(self.edition.scoring_run.thresholds or {})

    @property
    def max_rank(self) -> float:
        ranks = [e.entry.rank_high or e.entry.rank or 0 for e in self.entries]
        return float(max([len(self.entries), *ranks], default=1))

    def tier_counts(self) -> dict[str, int]:
        counts = {t: 0 for t in Tier.values}
        for e in self.entries:
            counts[e.entry.tier] += 1
        return counts


def _as_public(edition: Edition, *, successors: list[Edition]) -> PublicEdition:
    k = edition.study.k_threshold
    entries = [PublicEntry(entry=e, data=published_aggregates(e.data or {}, k=k)) for e in edition.entries.all()]
    directions: dict[int, Direction] = {}
    for e in entries:
        directions.setdefault(e.direction.pk, e.direction)
    return PublicEdition(
        edition=edition,
        entries=entries,
        successors=successors,
        directions=sorted(directions.values(), key=lambda d: (d.order, d.slug)),
        k=k,
    )


def edition_get(*, code: str) -> PublicEdition:
    """A published edition with its suppressed entries and directions, or ``Http404`` (drafts too).

    Three queries: the edition (with its study, scoring run and the edition it replaces), its
    entries with topic → area → direction, and the editions that replace it.
    """
    edition = edition_get_public(code=code)
    return _as_public(edition, successors=published_successors(edition))


def edition_preview_get(*, edition: Edition) -> PublicEdition:
    """A draft (its entries prefetched) as the public page will show it: the same published aggregates.
    It gets today's date in memory, never saved, so the radar compares it with the edition the public
    will see it compared with."""
    edition.published_at = timezone.now()
    return _as_public(edition, successors=[])


def edition_entries(*, edition: PublicEdition, direction: str = "") -> list[PublicEntry]:
    """The entries of one direction (by slug), or all; an unknown direction is a ``ValidationError``."""
    if not direction:
        return edition.entries
    known = {d.slug for d in edition.directions}
    if direction not in known:
        choices = ", ".join(sorted(known)) or "none"
        raise ValidationError(
            {"direction": [f"“{direction[:80]}” is not a direction of this edition. Choose one of: {choices}."]}
        )
    return [e for e in edition.entries if e.direction.slug == direction]


def edition_radar_get(*, edition: PublicEdition) -> list[dict[str, Any]]:
    """Radar blips of the edition (``editions.edition_radar``): at most two more queries, for the previous edition."""
    if not edition.radar:
        edition.radar = edition_radar(edition=edition.edition)
    return edition.radar


def edition_export_rows(*, edition: PublicEdition) -> list[dict[str, Any]]:
    """Language-independent rows of the entries CSV and JSON (published aggregates only)."""
    return [
        {
            "topic": e.topic.code,
            "topic_name_en": e.topic.name_en,
            "topic_name_zh": e.topic.name_zh,
            "direction": e.direction.slug,
            "tier": e.entry.tier,
            "rank": e.entry.rank,
            "rank_low": e.entry.rank_low,
            "rank_high": e.entry.rank_high,
            "score": e.entry.score,
            "rationale_en": e.entry.rationale_en,
            "rationale_zh": e.entry.rationale_zh,
            "data": e.data,
        }
        for e in edition.entries
    ]


# ---------------------------------------------------------------------------
# A topic across editions and rounds (the topic page)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundRow:
    study_title: str
    study_code: str
    round_number: int
    label: str
    figures: dict[str, dict[str, Any]]  # question key -> n, median, q1, q3, iqr, index
    scale: tuple[float, float]

    def get(self, key: str) -> dict[str, Any]:
        return self.figures.get(key, {})

    @property
    def importance(self) -> dict[str, Any]:
        return self.get("importance")

    @property
    def competitiveness(self) -> dict[str, Any]:
        return self.get("competitiveness")


@dataclass
class TopicHistory:
    editions: list[EditionEntry]
    rounds: list[RoundRow]
    editions_chart: dict[str, Any] | None = None
    rounds_chart: dict[str, Any] | None = None
    # The released figures of the topic in the latest published edition (``entry_figures``).
    latest: EditionEntry | None = None
    latest_figures: dict[str, Any] | None = None

    @property
    def empty(self) -> bool:
        return not self.editions and not self.rounds


def _scale_of(options: Any) -> tuple[float, float]:
    try:
        values = [option_value(o) for o in options]
    except (AttributeError, KeyError, TypeError, ValueError):
        values = []
    return (min(values), max(values)) if values else (1.0, 5.0)


def _edition_point_title(entry: EditionEntry, labels: dict[str, str]) -> str:
    if entry.rank is None:  # insufficient evidence: no rank
        return _("%(edition)s: %(tier)s, not ranked") % {
            "edition": entry.edition.title,
            "tier": labels.get(entry.tier, entry.tier),
        }
    return _("%(edition)s: %(tier)s, rank %(rank)s (interval %(low)s–%(high)s)") % {
        "edition": entry.edition.title,
        "tier": labels.get(entry.tier, entry.tier),
        "rank": entry.rank if entry.rank is not None else "–",
        "low": numbers.display(entry.rank_low, "rank"),
        "high": numbers.display(entry.rank_high, "rank"),
    }


def topic_history(*, topic: Topic) -> TopicHistory:
    """A topic's tier, rank and rank interval in every published edition, and its importance and
    competitiveness figures in every aggregated round that a published edition was computed from
    (that round or any earlier one of the same study).

    Round figures are the all-respondent figures the disclosure layer releases (at least k + 1
    answers; a real-time round's also obey rule 5 against the last snapshot its experts saw, through
    ``delphi.selectors.topic_round_figures``); studies without a published edition, and rounds after
    the last published one, show nothing.  Two queries, and two more per real-time round.
    """
    labels = {value: str(label) for value, label in Tier.choices}
    editions = list(
        EditionEntry.objects.filter(topic=topic, edition__status=Edition.Status.PUBLISHED)
        .select_related("edition__study")
        .order_by("edition__published_at", "edition__code")
    )
    # A round is public once a published edition was computed from it or from a later round of its study.
    published_study = Edition.objects.filter(
        study=OuterRef("study_id"),
        status=Edition.Status.PUBLISHED,
        scoring_run__round__number__gte=OuterRef("number"),
    )
    public_rounds = Round.objects.filter(Exists(published_study))
    by_round: dict[int, dict[str, Any]] = {}
    for figure in topic_round_figures(topic=topic, keys=HISTORY_KEYS, rounds=public_rounds):
        rnd, question, released = figure.round, figure.question, figure.released
        if released.get("n") is None:
            continue
        row = by_round.setdefault(
            rnd.pk,
            {
                "study_title": rnd.study.title,
                "study_code": rnd.study.code,
                "round_number": rnd.number,
                "figures": {},
                "scale": (1.0, 5.0),
            },
        )
        row["figures"][question.key] = {key: released.get(key) for key in ("n", "median", "q1", "q3", "iqr", "index")}
        if question.key == "importance":
            row["scale"] = _scale_of(question.options)
    study_index = {code: i + 1 for i, code in enumerate(dict.fromkeys(r["study_code"] for r in by_round.values()))}
    multi = len(study_index) > 1
    round_rows = [
        RoundRow(
            label=f"{study_index[r['study_code']]}·R{r['round_number']}" if multi else f"R{r['round_number']}", **r
        )
        for r in by_round.values()
    ]
    history = TopicHistory(editions=editions, rounds=round_rows)
    if editions:
        # The latest edition's figures of the topic, through the same layer as the edition page (+1 query).
        latest = max(editions, key=lambda e: (e.edition.published_at, e.edition.code))
        k = latest.edition.study.k_threshold
        history.latest = latest
        history.latest_figures = entry_figures(
            data=published_aggregates(latest.data or {}, k=k), specs=study_item_specs(study_id=latest.edition.study_id)
        )
        top = max([e.rank_high or e.rank or 1 for e in editions] + [1])
        history.editions_chart = charts.interval_series(
            [
                charts.SeriesPoint(
                    label=e.edition.published_at.date().isoformat() if e.edition.published_at else e.edition.code,
                    value=e.rank,
                    low=e.rank_low,
                    high=e.rank_high,
                    title=_edition_point_title(e, labels),
                    symbol=e.tier,
                )
                for e in editions
            ],
            domain=(1, float(top)),
            invert=True,
            integer=True,
        )
    shown = [r for r in round_rows if r.importance.get("median") is not None]
    if shown:
        low, high = shown[0].scale
        history.rounds_chart = charts.interval_series(
            [
                charts.SeriesPoint(
                    label=r.label,
                    value=r.importance.get("median"),
                    low=r.importance.get("q1"),
                    high=r.importance.get("q3"),
                    title=_("%(study)s, round %(round)s: median %(median)s, IQR %(q1)s–%(q3)s, n = %(n)s")
                    % {
                        "study": r.study_title,
                        "round": r.round_number,
                        "median": numbers.display(r.importance.get("median"), "quantile"),
                        "q1": numbers.display(r.importance.get("q1"), "quantile"),
                        "q3": numbers.display(r.importance.get("q3"), "quantile"),
                        "n": r.importance.get("n"),
                    },
                    symbol="watch",
                )
                for r in shown
            ],
            domain=(low, high),
        )
    return history


# ---------------------------------------------------------------------------
# The per-topic substance of a national foresight report (edition page, topic page)
# ---------------------------------------------------------------------------

LEVEL_LABELS = {
    "high": gettext_lazy("High"),
    "medium": gettext_lazy("Medium"),
    "low": gettext_lazy("Low"),
    "none": gettext_lazy("Not stated"),
}
SECTOR_LABELS = {
    "university": gettext_lazy("University"),
    "public_research": gettext_lazy("Public research"),
    "company": gettext_lazy("Company"),
    "government": gettext_lazy("Government"),
}
WILCOXON_METHODS = {
    "exact": gettext_lazy("exact"),
    "exact_conditional": gettext_lazy("exact (ties)"),
    "normal": gettext_lazy("normal approx."),
}


@dataclass(frozen=True)
class ItemSpec:
    """What the pages need to print one question's figures: its key, type, label and option labels."""

    key: str
    qtype: str
    index: bool
    label: str
    options: list[tuple[str, str]]  # (code, label)


def study_item_specs(*, study_id: int) -> list[ItemSpec]:
    """The study's topic questions (not expertise, not free text) in order, in the active language. One query."""
    zh = _zh()
    specs = []
    for q in Question.objects.filter(study_id=study_id, applies_to=Question.AppliesTo.TOPIC).order_by("order", "pk"):
        if q.qtype == Question.Type.TEXT or q.key == "expertise":
            continue
        options = [
            (option_key(o), str((o.get("label_zh") if zh else "") or o.get("label_en") or o["code"])) for o in q.options
        ]
        label = (q.label_zh if zh else "") or q.label_en
        specs.append(ItemSpec(key=q.key, qtype=q.qtype, index=q.index, label=label, options=options))
    return specs


def _notice(suppressed: dict[str, Any] | None, key: str) -> str:
    return reason_label((suppressed or {}).get(key))


def entry_figures(*, data: dict[str, Any], specs: list[ItemSpec]) -> dict[str, Any]:
    """An entry's released report (``data["report"]``) arranged for the pages: respondents, indices side
    by side, years, choice distributions, other scale items, the change between rounds, stand-ins.

    Only what the disclosure layer released is here; every withheld figure comes with its reason."""
    report = data.get("report") or {}
    items = report.get("items") or {}
    respondents = report.get("respondents") or {}
    if not report:  # an edition published before the disclosure layer kept no released report
        return {"legacy": True, "fallbacks": [], "evidence": {}}
    out: dict[str, Any] = {
        "round": report.get("round"),
        "n": respondents.get("n"),
        "suppressed": _notice(respondents.get("suppressed"), "all"),
        "by_expertise": [
            (level, LEVEL_LABELS.get(level, level), count)
            for level, count in (respondents.get("by_expertise") or {}).items()
        ],
        "by_sector": [
            (sector, SECTOR_LABELS.get(sector, sector), count)
            for sector, count in (respondents.get("by_sector") or {}).items()
        ],
        "other_sectors": respondents.get("other_sectors"),
        "sector_notice": _notice(respondents.get("suppressed"), "by_sector"),
        "expertise_notice": _notice(respondents.get("suppressed"), "by_expertise"),
        "indices": [],
        "years": [],
        "choices": [],
        "scales": [],
        "changes": [],
        "social_lag": report.get("social_lag"),
        "fallbacks": [fallback_label(f) for f in data.get("fallbacks") or [] if f.get("in_score")],
        "evidence": data.get("evidence") or {},
    }
    for spec in specs:
        item = items.get(spec.key)
        if item is None:
            continue
        suppressed = item.get("suppressed") or {}
        released = item.get("n") is not None
        row: dict[str, Any] = {"key": spec.key, "label": spec.label, "n": item.get("n"), "released": released}
        row["notice"] = _notice(suppressed, "all")
        total = (item.get("n") or 0) + (item.get("n_cant_judge") or 0)
        row["share_cant_judge"] = (item.get("n_cant_judge") or 0) / total if released and total else None
        if spec.qtype == "scale" and spec.index:
            row.update(
                {
                    "index": item.get("index"),
                    "index_high": item.get("index_high"),
                    "n_high": item.get("n_high"),
                    "index_weighted": item.get("index_weighted"),
                    "median": item.get("median"),
                    "q1": item.get("q1"),
                    "q3": item.get("q3"),
                    "high_notice": _notice(suppressed, "index_high"),
                    "weighted_notice": _notice(suppressed, "index_weighted"),
                    "sectors": [
                        (g, SECTOR_LABELS.get(g, g), v.get("n"), v.get("index"))
                        for g, v in (item.get("sectors") or {}).items()
                    ],
                    "sector_notice": _notice(suppressed, "sectors"),
                }
            )
            out["indices"].append(row)
        elif spec.qtype == "scale":
            labels = dict(spec.options)
            counts = item.get("distribution") or {}
            row.update(
                {
                    "median": item.get("median"),
                    "q1": item.get("q1"),
                    "q3": item.get("q3"),
                    "bars": [(code, labels.get(code, code), counts.get(code, 0)) for code, _label in spec.options],
                }
            )
            out["scales"].append(row)
        elif spec.qtype == "year":
            row.update(
                {
                    "median": item.get("median"),
                    "q1": item.get("q1"),
                    "q3": item.get("q3"),
                    "n_years": item.get("n_years"),
                    "share_already": item.get("share_already"),
                    "share_never": item.get("share_never"),
                    "years_notice": _notice(suppressed, "years"),
                }
            )
            out["years"].append(row)
        elif spec.qtype in ("single", "multi"):
            counts = item.get("counts") or {}
            shares = item.get("shares") or {}
            row["rows"] = [(code, label, counts.get(code, 0), shares.get(code)) for code, label in spec.options]
            row["multi"] = spec.qtype == "multi"
            out["choices"].append(row)
        if spec.qtype == "scale" and ("change" in item or "change" in suppressed):
            change = item.get("change") or {}
            out["changes"].append(
                {
                    "key": spec.key,
                    "label": spec.label,
                    **change,
                    "method": WILCOXON_METHODS.get(change.get("wilcoxon_method") or "", ""),
                    "notice": _notice(suppressed, "change"),
                }
            )
    return out


def _option_labels(specs: list[ItemSpec]) -> dict[str, dict[str, str]]:
    return {spec.key: dict(spec.options) for spec in specs}


def edition_summaries(*, edition: PublicEdition, specs: list[ItemSpec]) -> dict[str, list[dict[str, Any]]]:
    """Per direction and per area of an edition: topics by tier, the median of the released median years,
    and the most cited policy measures and implementation barriers (``summaries.summarise``)."""
    labels = _option_labels(specs)
    out: dict[str, list[dict[str, Any]]] = {}
    for level, key_of, name_of in (
        ("directions", lambda e: e.direction.slug, lambda e: e.direction.name),
        ("areas", lambda e: e.topic.area.slug, lambda e: e.topic.area.name),
    ):
        names = {key_of(e): name_of(e) for e in edition.entries}
        groups = summaries.summarise((key_of(e), e.entry.tier, e.data.get("report") or {}) for e in edition.entries)
        out[level] = [
            {
                "key": g.key,
                "name": names[g.key],
                "topics": g.topics,
                "tiers": g.tiers,
                "years": {item: {"median": m, "topics": n} for item, (m, n) in g.years.items()},
                "cited": {
                    item: [(labels.get(item, {}).get(code, code), count, share) for code, count, share in rows]
                    for item, rows in g.cited.items()
                },
            }
            for g in groups
        ]
    return out


def edition_method(*, edition: PublicEdition) -> dict[str, Any]:
    """What the method section states beside the staff's note: the disclosure and evidence rules, the
    stand-ins the score used (how many topics, per criterion), and the topics below the minimum evidence."""
    run = edition.edition.scoring_run
    summary = (run.results or {}).get("summary", {})
    inputs = (run.results or {}).get("inputs", {})
    rules = inputs.get("rules") or edition.edition.study.disclosure_rules().as_dict()
    weights = summary.get("weights", {})
    fallbacks = [
        {
            "criterion": CRITERION_LABELS.get(name, name),
            "topics": len(codes),
            "label": fallback_count_label(criterion_label(name), len(codes)),
        }
        for name, codes in sorted((summary.get("fallbacks") or {}).items())
        if codes and weights.get(name)
    ]
    return {
        # A run scored before the disclosure layer stored no rules: its method section says so.
        "legacy": "rules" not in inputs,
        "rules": rules,
        "fallbacks": fallbacks,
        "insufficient": len(summary.get("insufficient", [])),
        "timing_years": inputs.get("timing_years"),
        "stopping": (summary.get("stopping") or {}).get("zh" if _zh() else "en", ""),
        # How scenario pull was computed, when it weighs in the score and came from published evidence.
        "scenario_pull": (
            SCENARIO_PULL_FORMULA if weights.get("scenario_pull") and pull_from_evidence(inputs.get("method")) else ""
        ),
    }


# --- Editions by state ----------------------------------------------------------------------------


def _published_successors() -> Prefetch:
    return Prefetch("replaced_by", queryset=Edition.objects.filter(status=Edition.Status.PUBLISHED))


def edition_list_public() -> QuerySet[Edition]:
    return (
        Edition.objects.filter(status=Edition.Status.PUBLISHED)
        .select_related("replaces", "study")
        .prefetch_related(_published_successors())
        .order_by("-published_at")
    )


def edition_get_public(*, code: str) -> Edition:
    entries = EditionEntry.objects.select_related("topic__area__direction").order_by(
        F("rank").asc(nulls_last=True), "topic__code"
    )
    edition = (
        Edition.objects.filter(status=Edition.Status.PUBLISHED, code=code)
        .select_related("replaces", "study", "scoring_run")
        .prefetch_related(Prefetch("entries", queryset=entries), _published_successors())
        .first()
    )
    if edition is None:
        raise Http404("No such edition")
    return edition


def edition_previous_public(*, edition: Edition) -> Edition | None:
    """The edition this one is compared with on the radar: the one it replaces, else the latest published before it."""
    if edition.replaces_id:
        return edition.replaces
    published = Edition.objects.filter(status=Edition.Status.PUBLISHED).exclude(pk=edition.pk)
    if edition.published_at is not None:  # a draft (preview) compares with the latest published edition
        published = published.filter(published_at__lt=edition.published_at)
    return published.order_by("-published_at").first()


def radar_status(*, tier: str, previous_tier: str | None, has_previous: bool) -> str:
    """new / moved_in / moved_out / unchanged against the previous edition (inner ring = priority)."""
    if not has_previous or previous_tier is None:
        return "new"
    before, now = TIER_ORDER[previous_tier], TIER_ORDER[tier]
    if now < before:
        return "moved_in"
    if now > before:
        return "moved_out"
    return "unchanged"


def edition_radar(*, edition: Edition) -> list[dict[str, Any]]:
    """Radar blips: sector = direction, ring = tier, status against the previous edition.  Topics
    published as insufficient evidence are not on the radar (they have no tier to place them in)."""
    previous = edition_previous_public(edition=edition)
    before = (
        dict(previous.entries.exclude(tier=Tier.INSUFFICIENT).values_list("topic__code", "tier")) if previous else {}
    )
    return [
        {
            "entry": entry,
            "topic": entry.topic,
            "direction": entry.topic.area.direction,
            "ring": entry.tier,
            "status": radar_status(
                tier=entry.tier, previous_tier=before.get(entry.topic.code), has_previous=previous is not None
            ),
        }
        for entry in edition.entries.all()
        if entry.tier != Tier.INSUFFICIENT
    ]


def scored_topic_count(*, study: Study) -> int:
    """Topics a scoring run of the study would cover: those asked in an aggregated round (0: none yet).
    Used by the workbench (k's upper bound) and for the default k here."""
    return (
        Round.topics.through.objects.filter(round__study=study, round__status=Round.Status.AGGREGATED)
        .values("topic_id")
        .distinct()
        .count()
    )


def edition_public_path(code: str) -> str:
    """The public page of an edition."""
    return reverse("priorities:edition-detail", kwargs={"code": code})
