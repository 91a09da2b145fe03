"""Rules of the Delphi app that have one home each: the test here is the one that fails when the rule breaks."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from foresight.delphi.models import Expert, Participant, Study
from foresight.delphi.services.panel import participant_add

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
