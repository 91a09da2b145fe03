"""The anonymous group feedback an expert sees next to a question.

Fixed rounds: the previous round's stored statistics (``RoundStat``, written by aggregation) next to
the expert's own previous answer. Real-time mode: the same figures computed live from the current
round's answers, by the same ``question_figures`` the aggregation uses, optionally only once the
expert has answered. Either way nothing from fewer than the study's k respondents is shown.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from foresight.catalog.models import Topic
from foresight.delphi.models import Answer, Participant, Question, Round, RoundStat, Study
from foresight.delphi.selectors import own_answers
from foresight.delphi.services.aggregation import ALL, question_figures


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
        return value < q1 or value > q3


def _rows(answers: Any) -> dict[int, list[tuple[int, tuple[bool, float | None, str, list[str]]]]]:
    by_question: dict[int, list[tuple[int, tuple[bool, float | None, str, list[str]]]]] = defaultdict(list)
    for question_id, participant_id, cant_judge, num, code, codes in answers:
        if not cant_judge:
            by_question[question_id].append((participant_id, (cant_judge, num, code, codes or [])))
    return by_question


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
    k = study.k_threshold
    out: dict[str, Feedback] = {}
    if study.mode == Study.Mode.REALTIME:
        values = Answer.objects.filter(response__round=rnd, response__topic=topic).values_list(
            "question_id", "response__participant_id", "cant_judge", "value_num", "value_code", "value_codes"
        )
        rows = _rows(values)
        own = {a.question_id: a for a in own_answers(participant=participant, rnd=rnd, topic=topic)}
        for question in questions:
            members = sorted(rows.get(question.pk, []), key=lambda r: r[0])
            fb = Feedback(n=len(members), live=True)
            if study.realtime_feedback_after_own_answer and question.pk not in own:
                fb.hidden_until_answered = True
            elif fb.n < k:
                fb.suppressed = True
            else:
                fb.figures = question_figures(question, members, study.consensus_rule or {})
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
        fb = Feedback(n=stat.n if stat else 0, own_previous=own_prev.get(question.pk))
        if stat is None or stat.n < k:
            fb.suppressed = True
        else:
            fb.figures = dict(stat.data)
        out[question.key] = fb
    return out
