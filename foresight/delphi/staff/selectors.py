"""Reads of the staff console: permission-checked fetchers, participation, consensus overview, queues.

Every number shown here is either a count of participation or a figure of the answers released by the
disclosure layer (``delphi.selectors.round_topic_reports``, ``round_kendall_by_area``); nothing statistical
is recomputed and no figure is read from ``RoundStat`` directly. No function here returns a pseudonym or an
individual's answer: panel rows carry participation status only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from foresight import disclosure
from foresight.catalog.models import Area, Direction, Topic
from foresight.core.models import AuditLog
from foresight.delphi import stopping
from foresight.delphi.models import (
    Answer,
    Argument,
    Expert,
    Invitation,
    Participant,
    Question,
    Response,
    Round,
    RoundCompletion,
    Study,
)
from foresight.delphi.selectors import index_question_keys, round_kendall_by_area, round_stopping, round_topic_reports

# Rounds that have been opened at some point: only these have participation to report.
STARTED = (Round.Status.OPEN, Round.Status.CLOSED, Round.Status.AGGREGATED)
# The item the consensus overview reports (SPEC §4: "importance for the country", a 5-point index item).
OVERVIEW_QUESTION = "importance"


# --- Fetchers --------------------------------------------------------------------------------------


def study_list_for_staff(*, user: Any) -> QuerySet[Study]:
    """The studies ``user`` may work on, newest first, with panel size and rounds (three queries however many)."""
    return (
        Study.objects.for_staff(user)
        .annotate(panel_size=Count("participants", distinct=True))
        .prefetch_related(Prefetch("rounds", queryset=Round.objects.order_by("number")))
        .order_by("-created_at", "code")
    )


def _closed_to(study: Study) -> PermissionDenied:
    return PermissionDenied(_("Study %(code)s is open only to its named managers.") % {"code": study.code})


def study_get_for_staff(*, code: str, user: Any) -> Study:
    """A study ``user`` may work on; 404 for an unknown code, 403 for a study with other named managers."""
    study = Study.objects.filter(code=code).select_related("created_by").first()
    if study is None:
        raise Http404("No such study")
    if not Study.objects.for_staff(user).filter(pk=study.pk).exists():
        raise _closed_to(study)
    return study


def round_get_for_staff(*, code: str, user: Any) -> Round:
    """A round of a study ``user`` may work on (404 unknown, 403 closed to her, as for studies)."""
    rnd = Round.objects.filter(code=code).select_related("study").first()
    if rnd is None:
        raise Http404("No such round")
    if not Study.objects.for_staff(user).filter(pk=rnd.study_id).exists():
        raise _closed_to(rnd.study)
    return rnd


def study_managers(*, study: Study) -> list[Any]:
    """The study's named managers by user name (empty: open to every staff member whose role fits)."""
    return list(study.managers.order_by("username"))


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
        Topic.objects.public()
        .exclude(status=Topic.Status.RETIRED)
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
    # Submitted the round, among those with at least one topic in it (``with_topics``): an expert whose
    # topics all reached consensus has nothing to answer in a later round, and her "submission" is no response.
    submitted: int
    with_topics: int
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
    whose invitation link has actually gone out; "submitted" counts only those with at least one of their
    topics in the round ("with topics": round 2+ drops the topics that reached consensus).
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
        has_topics = Exists(
            Participant.topics.through.objects.filter(participant=OuterRef("pk"), topic__in=rnd.topics.all())
        )
        aggregates[f"r{rnd.number}_with_topics"] = Count("pk", filter=has_topics)
        aggregates[f"r{rnd.number}_submitted"] = Count("pk", filter=done & has_topics)
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
            with_topics=counts[f"r{n}_with_topics"],
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


def _sent_count() -> QuerySet[Any, Any]:
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
    return Participant.objects.on_panel().filter(study=study).exclude(invitations__sent_at__isnull=False).count()


# --- Consensus and stability overview ---------------------------------------------------------------


@dataclass(frozen=True)
class TopicOverview:
    """One topic in one aggregated round, as ``round_topic_reports`` releases it.

    ``n`` is None when the topic's respondents are withheld (then every figure is); each other figure
    is None when withheld, with its reason code beside it.  ``change`` is the round-to-round change of
    importance (paired respondents); ``change_reason`` is None in round 1 (nothing to compare with).
    """

    topic: Topic
    n: int | None
    reason: str | None
    importance: dict[str, Any] | None
    importance_reason: str | None
    consensus: bool | None
    consensus_reason: str | None
    # Per index item (``stopping.ItemStopping``): ``consensus`` None when its figures are withheld, ``reason`` why.
    consensus_items: tuple[stopping.ItemStopping, ...]
    change: dict[str, Any] | None
    change_reason: str | None
    social_lag: float | None
    stopping: stopping.TopicStopping

    @property
    def suppressed(self) -> bool:
        return self.n is None


@dataclass(frozen=True)
class RoundOverview:
    round: Round
    k: int
    t: int
    topics: list[TopicOverview]
    kendall: list[dict[str, Any]]
    respondents: int | None
    stopping: stopping.StudyStopping

    @property
    def consensus_count(self) -> int:
        return sum(1 for t in self.topics if t.consensus)

    @property
    def shown_count(self) -> int:
        return sum(1 for t in self.topics if not t.suppressed)


# Wilcoxon p-value methods as aggregation names them (``stats.wilcoxon``), in the console's words.
WILCOXON_METHODS = {
    "exact": _("exact"),
    "exact_conditional": _("exact (ties)"),
    "normal": _("normal approx."),
    "asymptotic": _("normal approx."),
}
IMPORTANCE_FIGURES = ("n", "median", "q1", "q3", "iqr", "index", "top2")


def _withheld(item: dict[str, Any] | None, figure: str = "all") -> str:
    return ((item or {}).get("suppressed") or {}).get(figure, disclosure.SMALL_GROUP)


def _change(item: dict[str, Any] | None, *, later_round: bool) -> tuple[dict[str, Any] | None, str | None]:
    """The released change block of an item and the reason it is withheld (None, None in round 1)."""
    if not later_round:
        return None, None
    if item is None or item.get("n") is None:
        return None, _withheld(item)
    change = item.get("change")
    if not change:
        return None, _withheld(item, "change") if "change" in item else disclosure.NOT_ASKED
    shown = dict(change)
    method = change.get("wilcoxon_method")
    shown["wilcoxon_method_label"] = WILCOXON_METHODS.get(method, method) if method else "–"
    return shown, None


def _topic_overview(
    topic: Topic, report: dict[str, Any] | None, *, later_round: bool, verdict: stopping.TopicStopping
) -> TopicOverview:
    respondents = (report or {}).get("respondents") or {"n": None, "suppressed": {"all": disclosure.SMALL_GROUP}}
    items: dict[str, dict[str, Any]] = (report or {}).get("items") or {}
    imp = items.get(OVERVIEW_QUESTION)
    importance = None
    if imp is not None and imp.get("n") is not None:
        importance = {key: imp.get(key) for key in IMPORTANCE_FIGURES}
    # The item verdicts are the stopping rule's (one reading of the released figures); the topic's
    # consensus is every index item released and in consensus, not shown while one is withheld.
    hidden = next((i for i in verdict.items if i.consensus is None), None)
    consensus = None if hidden or not verdict.items else all(i.consensus for i in verdict.items)
    change, change_reason = _change(imp, later_round=later_round)
    return TopicOverview(
        topic=topic,
        n=respondents.get("n"),
        reason=None if respondents.get("n") is not None else _withheld(respondents),
        importance=importance,
        importance_reason=None if importance else _withheld(imp),
        consensus=consensus,
        consensus_reason=hidden.reason if hidden else None,
        consensus_items=verdict.items,
        change=change,
        change_reason=change_reason,
        social_lag=(report or {}).get("social_lag"),
        stopping=verdict,
    )


def round_consensus_overview(*, rnd: Round) -> RoundOverview:
    """Per topic: respondents, importance median / quartiles / IQR / index / top-2 share, consensus per index
    item and for the topic, the change from the previous round, social lag and the stopping rule; Kendall's W
    per area; the stopping rule for the study.

    Every figure comes through ``round_topic_reports`` (the disclosure layer), so staff see what the public
    pages may show and nothing more: a verdict is shown only where the figures it is computed from are
    released, and every withheld figure carries its reason.  A fixed number of queries.
    """
    study = rnd.study
    rules = study.disclosure_rules()
    questions = list(Question.objects.filter(study=study, applies_to=Question.AppliesTo.TOPIC))
    index_keys = index_question_keys(questions)
    wanted = {*index_keys, OVERVIEW_QUESTION, "tech_year", "social_year"}
    reports = round_topic_reports(rnd=rnd, questions=[q for q in questions if q.key in wanted])
    topics = list(
        rnd.topics.select_related("area__direction").order_by("area__direction__order", "area__order", "code")
    )
    result = round_stopping(rnd=rnd, reports=reports, questions=questions, topic_ids=[t.pk for t in topics])
    rows = [
        _topic_overview(topic, reports.get(topic.pk), later_round=rnd.number > 1, verdict=result.topics[topic.pk])
        for topic in topics
    ]
    return RoundOverview(
        round=rnd,
        k=rules.k,
        t=rules.t,
        topics=rows,
        kendall=round_kendall_by_area(rnd=rnd),
        respondents=(rnd.summary or {}).get("respondents"),
        stopping=result,
    )


def study_stopping_latest(*, study: Study, rounds: Sequence[Round]) -> stopping.StudyStopping | None:
    """The stopping rule after the study's latest aggregated round (None before any), for the dashboard."""
    aggregated = [r for r in rounds if r.status == Round.Status.AGGREGATED]
    if not aggregated:
        return None
    latest = max(aggregated, key=lambda r: r.number)
    latest.study = study
    return round_stopping(rnd=latest)


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
