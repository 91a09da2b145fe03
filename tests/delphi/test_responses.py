"""Saving answers: validation, idempotency, and closed rounds."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from foresight.catalog.models import Topic
from foresight.delphi.models import Answer, Participant, Round
from foresight.delphi.services.responses import RoundClosed, response_save
from foresight.delphi.services.rounds import round_close, round_open

pytestmark = pytest.mark.django_db


def _topic(code: str) -> Topic:
    return Topic.objects.get(code=code)


def test_an_expert_saves_and_revises_answers(round1: Round, alice: Participant) -> None:
    round_open(rnd=round1)
    topic = _topic("bci")
    response_save(participant=alice, rnd=round1, topic=topic, answers={"expertise": "high", "importance": "4"})
    response_save(participant=alice, rnd=round1, topic=topic, answers={"importance": "5", "tech_year": "already"})
    answers = {a.question.key: a for a in Answer.objects.filter(response__participant=alice)}
    assert answers["importance"].value_num == 5.0
    assert answers["tech_year"].value_code == "already"
    assert answers["expertise"].value_code == "high"
    assert Answer.objects.filter(response__participant=alice).count() == 3


def test_saving_the_same_answers_twice_keeps_one_row_each(round1: Round, alice: Participant) -> None:
    round_open(rnd=round1)
    for _ in range(20):
        response_save(
            participant=alice,
            rnd=round1,
            topic=_topic("6g"),
            answers={"expertise": "low", "importance": "3", "policy_measures": ["standards", "rd_funding"]},
        )
    assert Answer.objects.filter(response__participant=alice).count() == 3
    multi = Answer.objects.get(response__participant=alice, question__key="policy_measures")
    assert multi.value_codes == ["rd_funding", "standards"]


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"importance": "6"}, "importance"),
        ({"importance": 3.5}, "importance"),
        ({"tech_year": "1999"}, "tech_year"),
        ({"tech_year": "2051"}, "tech_year"),
        ({"tech_year": "soon"}, "tech_year"),
        ({"policy_measures": ["standards", "rd_funding", "other", "human_resources"]}, "policy_measures"),
        ({"importance_why": ["magic"]}, "importance_why"),
        ({"expertise": "cant_judge"}, "expertise"),
        ({"no_such_question": "1"}, "answers"),
    ],
)
def test_bad_answers_get_a_clear_error_and_change_nothing(
    round1: Round, alice: Participant, answers: dict[str, object], field: str
) -> None:
    round_open(rnd=round1)
    response_save(
        participant=alice, rnd=round1, topic=_topic("bci"), answers={"expertise": "medium", "importance": "2"}
    )
    before = list(Answer.objects.values_list("question__key", "value_num", "value_code", "value_codes"))
    with pytest.raises(ValidationError) as info:
        response_save(participant=alice, rnd=round1, topic=_topic("bci"), answers={"importance": "4", **answers})
    assert field in info.value.message_dict
    assert list(Answer.objects.values_list("question__key", "value_num", "value_code", "value_codes")) == before


def test_a_foreign_topic_is_refused(round1: Round, alice: Participant) -> None:
    round_open(rnd=round1)
    with pytest.raises(ValidationError, match="not part of the round"):
        response_save(participant=alice, rnd=round1, topic=_topic("fusion-energy"), answers={"importance": "4"})
    assert not Answer.objects.exists()


def test_answers_after_close_are_refused(round1: Round, alice: Participant) -> None:
    round_open(rnd=round1)
    response_save(participant=alice, rnd=round1, topic=_topic("bci"), answers={"expertise": "high", "importance": "4"})
    round_close(rnd=round1)
    with pytest.raises(RoundClosed):
        response_save(participant=alice, rnd=round1, topic=_topic("bci"), answers={"importance": "1"})
    assert Answer.objects.get(question__key="importance").value_num == 4.0


def test_an_expert_cannot_answer_for_another_study(round1: Round, alice: Participant, catalog: object) -> None:
    from foresight.delphi.services.studies import study_create

    other = study_create(title_en="Other", horizon_year=2045, topics=[_topic("bci")])
    other_round = other.rounds.get(number=1)
    round_open(rnd=other_round)
    with pytest.raises(PermissionDenied):
        response_save(participant=alice, rnd=other_round, topic=_topic("bci"), answers={"importance": "4"})


def test_no_answers_before_consent(round1: Round, alice: Participant) -> None:
    round_open(rnd=round1)
    Participant.objects.filter(pk=alice.pk).update(consent_at=None)
    alice.refresh_from_db()
    with pytest.raises(PermissionDenied, match="consent"):
        response_save(participant=alice, rnd=round1, topic=_topic("bci"), answers={"importance": "4"})
