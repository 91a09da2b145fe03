"""The anonymous group feedback an expert sees next to a question, through the disclosure layer.

Fixed rounds: the previous round's stored statistics (``RoundStat``, written by aggregation) as
``foresight.disclosure.release_item`` releases them, next to the expert's own previous answer.
Real-time mode: figures computed from the current round's answers by the same ``question_figures``
the aggregation uses, but released only as a stored snapshot that is refreshed when at least k + 1
respondents have answered or changed their answer since the last one (``disclosure.snapshot_due``),
and optionally shown only once the expert has answered.  Nothing from fewer than k + 1 respondents
is shown, so an expert who subtracts her own answer still faces at least k others.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from foresight import disclosure
from foresight.catalog.models import Topic
from foresight.delphi.models import Answer, FeedbackSnapshot, Participant, Question, Round, RoundStat, Study
from foresight.delphi.selectors import answer_key, own_answers
from foresight.delphi.services.aggregation import ALL, question_figures

_Row = tuple[int, tuple[bool, float | None, str, list[str]]]


@dataclass
class Feedback:
    """What one question's feedback box shows."""

    n: int = 0
    suppressed: bool = False
    hidden_until_answered: bool = False
    figures: dict[str, Any] = field(default_factory=dict)
    own_previous: Answer | None = None
    live: bool = False

    def outside_iqr(self, value: float | None) -> bool:
        """True when a numeric answer lies outside the group's Q1–Q3 (the rationale prompt)."""
        q1, q3 = self.figures.get("q1"), self.figures.get("q3")
        if self.suppressed or value is None or q1 is None or q3 is None:
            return False
        return bool(value < q1 or value > q3)


def _rows(answers: Any) -> dict[int, list[_Row]]:
    by_question: dict[int, list[_Row]] = defaultdict(list)
    for question_id, participant_id, cant_judge, num, code, codes in answers:
        if not cant_judge:
            by_question[question_id].append((participant_id, (cant_judge, num, code, codes or [])))
    return by_question


def _released(question: Question, figures: dict[str, Any], rules: disclosure.Rules) -> dict[str, Any]:
    """The all-respondent figures of one question as the layer releases them (empty when suppressed)."""
    out = disclosure.release_item(qtype=question.qtype, index=question.index, groups={ALL: figures}, rules=rules)
    return out if out.get("n") is not None else {}


def realtime_snapshot(*, rnd: Round, topic: Topic, question: Question, rules: disclosure.Rules) -> FeedbackSnapshot:
    """Refresh the released real-time figures of one topic × question if rule 5 allows (after a save).

    The snapshot row is locked while the current answers are read and compared with it, so two
    requests cannot release two snapshots that differ by fewer than k + 1 respondents.
    """
    with transaction.atomic():
        snapshot, _ = FeedbackSnapshot.objects.select_for_update().get_or_create(
            round=rnd, topic=topic, question=question
        )
        values = Answer.objects.filter(response__round=rnd, response__topic=topic, question=question).values_list(
            "question_id", "response__participant_id", "cant_judge", "value_num", "value_code", "value_codes"
        )
        members = sorted(_rows(values).get(question.pk, []), key=lambda r: r[0])
        current = {str(pid): answer_key(num=num, code=code, codes=codes) for pid, (_, num, code, codes) in members}
        if disclosure.snapshot_due(previous=snapshot.members, current=current, rules=rules):
            figures = question_figures(question, members, rnd.study.consensus_rule or {})
            snapshot.members = current
            snapshot.n = len(current)
            snapshot.figures = _released(question, figures, rules)
            snapshot.save(update_fields=["members", "n", "figures", "updated_at"])
    return snapshot


def topic_feedback(
    *, participant: Participant, rnd: Round, topic: Topic, questions: list[Question] | None = None
) -> dict[str, Feedback]:
    """Feedback per question key for one expert on one topic of ``rnd`` (empty in round 1 of fixed rounds).

    ``questions``: the study's topic questions when the caller already has them (saves a query).
    """
    study: Study = rnd.study
    if questions is None:
        questions = list(Question.objects.filter(study=study, applies_to=Question.AppliesTo.TOPIC))
    questions = [q for q in questions if q.qtype != Question.Type.TEXT]
    rules = study.disclosure_rules()
    out: dict[str, Feedback] = {}
    if study.mode == Study.Mode.REALTIME:
        own = {a.question_id for a in own_answers(participant=participant, rnd=rnd, topic=topic)}
        snapshots = {s.question_id: s for s in FeedbackSnapshot.objects.filter(round=rnd, topic=topic)}
        for question in questions:
            fb = Feedback(live=True)
            if study.realtime_feedback_after_own_answer and question.pk not in own:
                fb.hidden_until_answered = True
            else:
                snapshot = snapshots.get(question.pk)
                fb.figures = dict(snapshot.figures or {}) if snapshot is not None else {}
                fb.n = snapshot.n if snapshot is not None and fb.figures else 0
                fb.suppressed = not fb.figures
            out[question.key] = fb
        return out
    if rnd.number <= 1:
        return out
    previous = Round.objects.filter(study=study, number=rnd.number - 1, status=Round.Status.AGGREGATED).first()
    if previous is None:
        return out
    stats = {s.question_id: s for s in RoundStat.objects.filter(round=previous, topic=topic, group=ALL)}
    own_prev = {a.question_id: a for a in own_answers(participant=participant, rnd=previous, topic=topic)}
    for question in questions:
        stat = stats.get(question.pk)
        figures = _released(question, dict(stat.data), rules) if stat is not None else {}
        fb = Feedback(n=int(figures.get("n") or 0), own_previous=own_prev.get(question.pk), figures=figures)
        fb.suppressed = not figures
        out[question.key] = fb
    return out
