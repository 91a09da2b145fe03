"""Rules of the Delphi app that have one home each: the test here is the one that fails when the rule breaks."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from foresight.catalog.models import Topic
from foresight.core.errors import Conflict, error_status
from foresight.delphi.models import Expert, Participant, Round, Study
from foresight.delphi.services.panel import invitation_create, participant_add, participant_choose_topics

pytestmark = pytest.mark.django_db


def test_taking_part_means_consented_and_not_dropped(study: Study) -> None:
    """``Participant.takes_part`` and ``Participant.objects.taking_part()`` say the same: consented, not dropped."""
    cases: dict[Any, bool] = {}
    for consented in (False, True):
        for status in Participant.Status.values:
            expert = Expert.objects.create(email=f"{status}-{consented}@example.org", name="X", sector="university")
            participant = participant_add(study=study, expert=expert)
            participant.status = status
            participant.consent_at = timezone.now() if consented else None
            participant.save()
            cases[participant.pk] = consented and status != Participant.Status.DROPPED
            assert participant.takes_part is cases[participant.pk], (consented, status)
    taking_part = set(Participant.objects.filter(study=study).taking_part().values_list("pk", flat=True))
    assert taking_part == {pk for pk, takes in cases.items() if takes}
    on_panel = set(Participant.objects.filter(study=study).on_panel().values_list("pk", flat=True))
    assert on_panel == set(Participant.objects.exclude(status=Participant.Status.DROPPED).values_list("pk", flat=True))


@pytest.mark.parametrize("second_round", [Round.Status.OPEN, Round.Status.CLOSED, Round.Status.AGGREGATED])
def test_topics_are_fixed_once_a_second_round_has_started(study: Study, alice: Participant, second_round: str) -> None:
    """The service refuses (409) whoever calls it; the page shows the service's refusal and changes nothing."""
    bci = Topic.objects.filter(code="bci")
    before = set(alice.topics.values_list("pk", flat=True))
    participant_choose_topics(participant=alice, topics=bci)  # round 1 (open or not): free to change
    participant_choose_topics(participant=alice, topics=Topic.objects.filter(pk__in=before))
    Round.objects.filter(study=study, number=1).update(status=Round.Status.AGGREGATED)
    Round.objects.update_or_create(study=study, number=2, defaults={"code": f"{study.code}-r2", "status": second_round})
    with pytest.raises(Conflict) as caught:
        participant_choose_topics(participant=alice, topics=bci)
    assert error_status(caught.value) == 409
    browser = Client()
    browser.get(f"/delphi/{study.code}/join/", {"t": invitation_create(participant=alice)})
    page = browser.post(f"/delphi/{study.code}/topics/", {"topics": [bci.get().pk]})
    assert page.status_code == 409
    assert "fixed once the second round has started" in page.content.decode()
    assert set(alice.topics.values_list("pk", flat=True)) == before
