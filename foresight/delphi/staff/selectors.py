"""Reads of the staff console: permission-checked fetchers, participation, consensus overview, queues.

Every number shown here is either a count or a figure stored by aggregation (``RoundStat`` rows and
``Round.summary``, computed by ``foresight.stats``); nothing statistical is recomputed. No function
here returns a pseudonym or an individual's answer: panel rows carry participation status only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from foresight.catalog.models import Area, Direction, PublicationStatus, Topic
from foresight.delphi.models import (
    Answer,
    Argument,
    AuditLog,
    Expert,
    Invitation,
    Participant,
    Question,
    Response,
    Round,
    RoundCompletion,
    RoundStat,
    Study,
)

# Rounds that have been opened at some point: only these have participation to report.
STARTED = (Round.Status.OPEN, Round.Status.CLOSED, Round.Status.AGGREGATED)
# The item the consensus overview reports (SPEC §4: "importance for the country", a 5-point index item).
OVERVIEW_QUESTION = "importance"


# --- Fetchers --------------------------------------------------------------------------------------


def study_list_for_staff() -> QuerySet[Study]:
    """Every study, newest first, with its panel size and rounds (three queries however many studies)."""
    return (
        Study.objects.annotate(panel_size=Count("participants", distinct=True))
        .prefetch_related(Prefetch("rounds", queryset=Round.objects.order_by("number")))
        .order_by("-created_at", "code")
    )


def study_get_for_staff(*, code: str) -> Study:
    study = Study.objects.filter(code=code).select_related("created_by").first()
    if study is None:
        raise Http404("No such study")
    return study


def round_get_for_staff(*, code: str) -> Round:
    rnd = Round.objects.filter(code=code).select_related("study").first()
    if rnd is None:
        raise Http404("No such round")
    return rnd


def round_list_for_study(*, study: Study) -> list[Round]:
    return list(Round.objects.filter(study=study).order_by("number"))


def question_list_for_study(*, study: Study) -> list[Question]:
    return list(Question.objects.filter(study=study).order_by("order", "pk"))


def question_get_for_staff(*, study: Study, key: str) -> Question:
    question = Question.objects.filter(study=study, key=key).first()
    if question is None:
        raise Http404("No such question")
    return question


def argument_get_for_staff(*, study: Study, pk: int) -> Argument:
    argument = Argument.objects.filter(pk=pk, round__study=study).select_related("round", "topic", "question").first()
    if argument is None:
        raise Http404("No such argument")
    return argument


def audit_recent(*, study: Study, limit: int = 15) -> list[AuditLog]:
    return list(AuditLog.objects.filter(study=study).select_related("actor", "round").order_by("-at", "-pk")[:limit])


# --- Create-study form choices ---------------------------------------------------------------------


def topic_choices_for_study() -> QuerySet[Topic]:
    """Catalog topics a study may survey: public, not retired, in a published area and direction."""
    return (
        Topic.objects.filter(
            status__in=[s for s in Topic.PUBLIC_STATUSES if s != Topic.Status.RETIRED],
            area__status=PublicationStatus.PUBLISHED,
            area__direction__status=PublicationStatus.PUBLISHED,
        )
        .select_related("area__direction")
        .order_by("area__direction__order", "area__direction__slug", "area__order", "area__slug", "code")
    )


@dataclass
class AreaGroup:
    area: Area
    topics: list[Topic] = field(default_factory=list)


@dataclass
class DirectionGroup:
    direction: Direction
    areas: list[AreaGroup] = field(default_factory=list)


def topics_grouped(topics: Iterable[Topic]) -> list[DirectionGroup]:
    """Topics (already ordered by direction and area) grouped for a checkbox list with one fieldset per direction."""
    groups: list[DirectionGroup] = []
    for topic in topics:
        area = topic.area
        if not groups or groups[-1].direction.pk != area.direction_id:
            groups.append(DirectionGroup(direction=area.direction))
        direction = groups[-1]
        if not direction.areas or direction.areas[-1].area.pk != area.pk:
            direction.areas.append(AreaGroup(area=area))
        direction.areas[-1].topics.append(topic)
    return groups


# --- Participation: response rate and attrition ----------------------------------------------------


def _share(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return part / whole


@dataclass(frozen=True)
class ParticipationRow:
    """Counts of one sector (or of everyone, ``key == "all"``) in one round."""

    key: str
    label: str
    invited: int
    emailed: int
    consented: int
    answered: int
    submitted: int
    # Attrition from the previous round: submitted round n−1 but not round n (None for round 1).
    previous_submitted: int | None = None
    lost: int | None = None

    @property
    def response_rate(self) -> float | None:
        return _share(self.submitted, self.invited)

    @property
    def consent_rate(self) -> float | None:
        return _share(self.consented, self.invited)

    @property
    def attrition_rate(self) -> float | None:
        return _share(self.lost, self.previous_submitted)


@dataclass(frozen=True)
class RoundParticipation:
    round: Round
    total: ParticipationRow
    sectors: list[ParticipationRow]


def study_participation(*, study: Study, rounds: Sequence[Round]) -> list[RoundParticipation]:
    """Invited / e-mailed / consented / answered ≥ 1 topic / submitted, and attrition, per started round and sector.

    One grouped query for the whole study, whatever the panel size: each figure is a filtered COUNT over
    the study's participants, grouped by sector. "Invited" is everyone on the panel; "e-mailed" those
    whose invitation link has actually gone out.
    """
    started = [r for r in rounds if r.status in STARTED]
    by_number = {r.number: r for r in rounds}
    aggregates: dict[str, Any] = {
        "invited": Count("pk"),
        "emailed": Count(
            "pk", filter=Exists(Invitation.objects.filter(participant=OuterRef("pk"), sent_at__isnull=False))
        ),
        "consented": Count("pk", filter=Q(consent_at__isnull=False)),
    }
    for rnd in started:
        done = Exists(RoundCompletion.objects.filter(round=rnd, participant=OuterRef("pk")))
        # Through the participant's responses (unique index round × participant × topic), then their answers.
        answered = Response.objects.filter(round=rnd, participant=OuterRef("pk")).filter(
            Exists(Answer.objects.filter(response=OuterRef("pk")))
        )
        aggregates[f"r{rnd.number}_answered"] = Count("pk", filter=Exists(answered))
        aggregates[f"r{rnd.number}_submitted"] = Count("pk", filter=done)
        previous = by_number.get(rnd.number - 1)
        if previous is not None:
            done_before = Exists(RoundCompletion.objects.filter(round=previous, participant=OuterRef("pk")))
            aggregates[f"r{rnd.number}_previous"] = Count("pk", filter=done_before)
            aggregates[f"r{rnd.number}_lost"] = Count("pk", filter=done_before & ~done)
    grouped = list(
        Participant.objects.filter(study=study)
        .values("expert__sector")
        .annotate(**aggregates)
        .order_by("expert__sector")
    )
    labels = dict(Expert.Sector.choices)
    order = {code: i for i, code in enumerate(Expert.Sector.values)}
    grouped.sort(key=lambda g: order.get(g["expert__sector"], len(order)))

    def row(key: str, label: str, counts: dict[str, Any], rnd: Round) -> ParticipationRow:
        n = rnd.number
        has_previous = f"r{n}_previous" in counts
        return ParticipationRow(
            key=key,
            label=label,
            invited=counts["invited"],
            emailed=counts["emailed"],
            consented=counts["consented"],
            answered=counts[f"r{n}_answered"],
            submitted=counts[f"r{n}_submitted"],
            previous_submitted=counts[f"r{n}_previous"] if has_previous else None,
            lost=counts[f"r{n}_lost"] if has_previous else None,
        )

    totals: dict[str, int] = {name: sum(g[name] for g in grouped) for name in aggregates}
    result = []
    for rnd in started:
        result.append(
            RoundParticipation(
                round=rnd,
                total=row("all", "", totals, rnd),
                sectors=[
                    row(g["expert__sector"], str(labels.get(g["expert__sector"], g["expert__sector"])), g, rnd)
                    for g in grouped
                ],
            )
        )
    return result


# --- Panel list -------------------------------------------------------------------------------------


def panel_list(*, study: Study, q: str = "", sector: str = "") -> QuerySet[Participant]:
    """The panel with identity (allowed to staff) and participation status; never the pseudonym in output."""
    last_sent = (
        Invitation.objects.filter(participant=OuterRef("pk"), sent_at__isnull=False)
        .order_by("-sent_at")
        .values("sent_at")[:1]
    )
    qs = (
        Participant.objects.filter(study=study)
        .select_related("expert")
        .annotate(last_sent_at=Subquery(last_sent), invitations_sent=Coalesce(Subquery(_sent_count()), 0))
        .prefetch_related(Prefetch("completions", queryset=RoundCompletion.objects.only("round_id", "participant_id")))
    )
    if q:
        qs = qs.filter(
            Q(expert__name__icontains=q) | Q(expert__email__icontains=q) | Q(expert__organisation__icontains=q)
        )
    if sector:
        qs = qs.filter(expert__sector=sector)
    return qs.order_by("expert__name", "expert__email")


def _sent_count() -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(participant=OuterRef("pk"), sent_at__isnull=False)
        .order_by()
        .values("participant")
        .annotate(c=Count("pk"))
        .values("c")
    )


@dataclass(frozen=True)
class PanelRow:
    """What the panel table shows about one person: identity, status and per-round submission, nothing else."""

    name: str
    email: str
    sector: str
    organisation: str
    country: str
    status: str
    consent_at: Any
    last_sent_at: Any
    invitations_sent: int
    submitted: list[bool]


def panel_rows(participants: Iterable[Participant], rounds: Sequence[Round]) -> list[PanelRow]:
    rows = []
    for p in participants:
        done = {c.round_id for c in p.completions.all()}
        rows.append(
            PanelRow(
                name=p.expert.name,
                email=p.expert.email,
                sector=p.expert.get_sector_display(),
                organisation=p.expert.organisation,
                country=p.expert.country,
                status=p.get_status_display(),
                consent_at=p.consent_at,
                last_sent_at=getattr(p, "last_sent_at", None),
                invitations_sent=getattr(p, "invitations_sent", 0),
                submitted=[r.pk in done for r in rounds],
            )
        )
    return rows


def panel_pending_invitations(*, study: Study) -> int:
    """Panel members (not dropped out) never sent an invitation e-mail: what "send invitations" would queue."""
    return (
        Participant.objects.filter(study=study)
        .exclude(status=Participant.Status.DROPPED)
        .exclude(invitations__sent_at__isnull=False)
        .count()
    )


# --- Consensus and stability overview ---------------------------------------------------------------


@dataclass(frozen=True)
class TopicOverview:
    """One topic's stored figures in one aggregated round, with small cells already suppressed."""

    topic: Topic
    n: int
    suppressed: bool
    importance: dict[str, Any] | None
    consensus: bool | None
    consensus_items: dict[str, bool]
    stability: dict[str, Any] | None
    social_lag: float | None


@dataclass(frozen=True)
class RoundOverview:
    round: Round
    k: int
    topics: list[TopicOverview]
    kendall: dict[str, Any] | None
    kendall_suppressed: bool
    respondents: int | None

    @property
    def consensus_count(self) -> int:
        return sum(1 for t in self.topics if t.consensus)

    @property
    def shown_count(self) -> int:
        return sum(1 for t in self.topics if not t.suppressed)


def round_consensus_overview(*, rnd: Round) -> RoundOverview:
    """Per topic: n, importance median / quartiles / IQR / index / top-2 share, consensus, stability.

    Read from ``RoundStat`` (group "all") and ``Round.summary`` as aggregation stored them. The same
    small-cell rule as the public pages applies even to staff: a topic with fewer than the study's k
    respondents shows no figure, and neither does a cell (importance, stability pairs) built on fewer.
    """
    study = rnd.study
    k = study.k_threshold
    summary = rnd.summary or {}
    topic_summary: dict[str, dict[str, Any]] = summary.get("topics", {})
    stats = {
        s.topic_id: s
        for s in RoundStat.objects.filter(round=rnd, group="all", question__key=OVERVIEW_QUESTION).only(
            "topic_id", "n", "data"
        )
    }
    topics = list(
        rnd.topics.select_related("area__direction").order_by("area__direction__order", "area__order", "code")
    )
    rows = []
    for topic in topics:
        ts = topic_summary.get(topic.code, {})
        n = int(ts.get("n") or 0)
        suppressed = n < k
        stat = stats.get(topic.pk)
        importance = stability = None
        if not suppressed and stat is not None and stat.n >= k:
            importance = {key: stat.data.get(key) for key in ("median", "q1", "q3", "iqr", "index", "top2")}
            importance["n"] = stat.n
            stab = stat.data.get("stability")
            if stab and (stab.get("n_paired") or 0) >= k:
                stability = dict(stab)
        rows.append(
            TopicOverview(
                topic=topic,
                n=n,
                suppressed=suppressed,
                importance=importance,
                consensus=None if suppressed else bool(ts.get("consensus")),
                consensus_items={} if suppressed else dict(ts.get("consensus_items") or {}),
                stability=stability,
                social_lag=None if suppressed else ts.get("social_lag"),
            )
        )
    kendall = summary.get("kendall_w_importance")
    kendall_suppressed = bool(kendall) and _kendall_raters(rnd=rnd) < k
    return RoundOverview(
        round=rnd,
        k=k,
        topics=rows,
        kendall=None if kendall_suppressed else kendall,
        kendall_suppressed=kendall_suppressed,
        respondents=summary.get("respondents"),
    )


def _kendall_raters(*, rnd: Round) -> int:
    """How many experts Kendall's W was computed over: those with a valid importance rating on every topic
    that has answers in the round (as aggregation chose them). A count, for the small-cell rule only."""
    answered_topics = Answer.objects.filter(response__round=rnd).values("response__topic").distinct().count()
    return (
        Answer.objects.filter(
            response__round=rnd, question__key=OVERVIEW_QUESTION, cant_judge=False, value_num__isnull=False
        )
        .values("response__participant")
        .annotate(topics=Count("response__topic", distinct=True))
        .filter(topics=answered_topics)
        .count()
    )


# --- Argument moderation -----------------------------------------------------------------------------


def argument_queue(*, study: Study, status: str) -> QuerySet[Argument]:
    """Arguments of a study in one moderation state: text, stance, topic and round only (never the author)."""
    return (
        Argument.objects.filter(round__study=study, status=status)
        .select_related("round", "topic", "question")
        .order_by("round__number", "topic__code", "created_at", "pk")
    )


def argument_counts(*, study: Study) -> dict[str, int]:
    counts = dict(
        Argument.objects.filter(round__study=study)
        .values("status")
        .annotate(c=Count("pk"))
        .order_by()
        .values_list("status", "c")
    )
    return {status: counts.get(status, 0) for status in Argument.Status.values}
