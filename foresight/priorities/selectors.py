"""Public reads of priority editions beyond ``editions.py``: what the edition pages, the API, the
downloads and the topic page show.  Only published editions are ever read, only published
aggregates leave (``exports.published_aggregates`` strips any count below the study's k), and each
function costs a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from foresight import numbers
from foresight.catalog.models import Direction, Topic
from foresight.delphi.models import Round, RoundStat
from foresight.delphi.services.aggregation import ALL
from foresight.priorities import charts
from foresight.priorities.editions import edition_get_public, edition_list_public, edition_radar
from foresight.priorities.exports import published_aggregates
from foresight.priorities.models import Edition, EditionEntry, Tier

HISTORY_KEYS = ("importance", "competitiveness")


def _zh() -> bool:
    return (get_language() or "en").lower().startswith("zh")


def _with_tier_counts(qs: QuerySet[Edition]) -> QuerySet[Edition]:
    return qs.annotate(
        n_topics=Count("entries"),
        n_priority=Count("entries", filter=Q(entries__tier=Tier.PRIORITY)),
        n_key=Count("entries", filter=Q(entries__tier=Tier.KEY)),
        n_watch=Count("entries", filter=Q(entries__tier=Tier.WATCH)),
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
        """The rationale in the active language, falling back to English."""
        if _zh() and self.entry.rationale_zh:
            return self.entry.rationale_zh
        return self.entry.rationale_en

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


def edition_get(*, code: str) -> PublicEdition:
    """A published edition with its suppressed entries and directions, or ``Http404`` (drafts too).

    Three queries: the edition (with its study, scoring run and the edition it replaces), its
    entries with topic → area → direction, and the editions that replace it.
    """
    edition = edition_get_public(code=code)
    k = edition.study.k_threshold
    entries = [PublicEntry(entry=e, data=published_aggregates(e.data or {}, k=k)) for e in edition.entries.all()]
    directions: dict[int, Direction] = {}
    for e in entries:
        directions.setdefault(e.direction.pk, e.direction)
    return PublicEdition(
        edition=edition,
        entries=entries,
        successors=published_successors(edition),
        directions=sorted(directions.values(), key=lambda d: (d.order, d.slug)),
        k=k,
    )


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

    @property
    def empty(self) -> bool:
        return not self.editions and not self.rounds


def _scale_of(options: Any) -> tuple[float, float]:
    try:
        values = [float(o.get("value", o["code"])) for o in options]
    except (AttributeError, KeyError, TypeError, ValueError):
        values = []
    return (min(values), max(values)) if values else (1.0, 5.0)


def _edition_point_title(entry: EditionEntry, labels: dict[str, str]) -> str:
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

    Round figures come only from the all-respondents group with at least the study's k answers;
    studies without a published edition, and rounds after the last published one, show nothing.
    Two queries.
    """
    labels = {value: str(label) for value, label in Tier.choices}
    editions = list(
        EditionEntry.objects.filter(topic=topic, edition__status=Edition.Status.PUBLISHED)
        .select_related("edition")
        .order_by("edition__published_at", "edition__code")
    )
    # A round is public once a published edition was computed from it or from a later round of its study.
    published_study = Edition.objects.filter(
        study=OuterRef("round__study_id"),
        status=Edition.Status.PUBLISHED,
        scoring_run__round__number__gte=OuterRef("round__number"),
    )
    stats = (
        RoundStat.objects.filter(
            topic=topic,
            group=ALL,
            question__key__in=HISTORY_KEYS,
            round__status=Round.Status.AGGREGATED,
            n__gte=F("round__study__k_threshold"),
        )
        .filter(Exists(published_study))
        .select_related("round__study", "question")
        .order_by("round__study__created_at", "round__study__code", "round__number")
    )
    by_round: dict[int, dict[str, Any]] = {}
    for stat in stats:
        rnd = stat.round
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
        data = stat.data or {}
        row["figures"][stat.question.key] = {
            "n": stat.n,
            "median": data.get("median"),
            "q1": data.get("q1"),
            "q3": data.get("q3"),
            "iqr": data.get("iqr"),
            "index": data.get("index"),
        }
        if stat.question.key == "importance":
            row["scale"] = _scale_of(stat.question.options)
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
