from __future__ import annotations

import re
from typing import Any

import pytest

from foresight.catalog.models import Topic
from foresight.delphi.models import Expert, Participant, Round, Study
from foresight.delphi.services.panel import participant_add, participant_choose_topics, participant_consent
from foresight.delphi.services.studies import study_create


@pytest.fixture
def study(catalog: Any) -> Study:
    topics = list(Topic.objects.filter(code__in=["humanoid-robots", "quantum-computing", "bci", "6g"]))
    return study_create(title_en="National foresight 2050", horizon_year=2050, topics=topics, code="nf-2050")


@pytest.fixture
def round1(study: Study) -> Round:
    return study.rounds.get(number=1)


def make_participant(
    study: Study, email: str, sector: str = "university", topics: list[str] | None = None
) -> Participant:
    expert = Expert.objects.create(email=email, name=email.split("@")[0].title(), sector=sector)
    participant = participant_add(study=study, expert=expert)
    participant_consent(participant=participant)
    codes = topics or list(study.topics.values_list("code", flat=True))
    participant_choose_topics(participant=participant, topics=Topic.objects.filter(code__in=codes))
    return participant


def join(client: Any, participant: Participant) -> Any:
    """Open a fresh magic link as a browser does: its page (which sets the CSRF cookie), then its button."""
    from foresight.delphi.services.panel import invitation_create

    url = f"/delphi/{participant.study.code}/join/"
    token = invitation_create(participant=participant)
    client.get(url, {"t": token})
    return client.post(url, {"t": token, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})


@pytest.fixture
def alice(study: Study) -> Participant:
    return make_participant(study, "alice@example.org")


@pytest.fixture
def bob(study: Study) -> Participant:
    return make_participant(study, "bob@example.org", sector="company")


def cell(page: str, name: str) -> str:
    """The text of the element carrying ``data-cell="name"`` on a staff page (tags stripped, whitespace squeezed)."""
    match = re.search(rf'data-cell="{re.escape(name)}"[^>]*>(.*?)</(?:td|th|dd|span|small|strong|p)>', page, re.S)
    assert match, f"no cell {name}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())
