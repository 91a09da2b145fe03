"""Magic links: 256-bit tokens, stored hashed, single use, expiring, bound to one study."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from foresight.delphi.models import Expert, Invitation, Participant, Study
from foresight.delphi.services.panel import (
    invitation_create,
    invitation_redeem,
    invitation_send,
    participant_add,
    token_hash,
)

pytestmark = pytest.mark.django_db


def test_the_token_is_long_and_only_its_hash_is_stored(alice: Participant) -> None:
    token = invitation_create(participant=alice)
    assert len(token) >= 43  # 32 random bytes, url-safe base64
    stored = Invitation.objects.get(participant=alice)
    assert stored.token_hash == token_hash(token)
    assert token not in str(Invitation.objects.values().get())


def test_a_token_works_once(study: Study, alice: Participant) -> None:
    token = invitation_create(participant=alice)
    assert invitation_redeem(study_code=study.code, token=token) == alice
    with pytest.raises(PermissionDenied):
        invitation_redeem(study_code=study.code, token=token)


def test_an_expired_token_is_refused(study: Study, alice: Participant) -> None:
    token = invitation_create(participant=alice)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(PermissionDenied):
        invitation_redeem(study_code=study.code, token=token)


def test_a_token_is_bound_to_its_study(study: Study, alice: Participant) -> None:
    token = invitation_create(participant=alice)
    with pytest.raises(PermissionDenied):
        invitation_redeem(study_code="another-study", token=token)
    assert Invitation.objects.get().used_at is None


def test_wrong_tokens_all_get_the_same_answer(study: Study, alice: Participant) -> None:
    messages = set()
    for token in ["", "x", "a" * 43, "é" * 300]:
        with pytest.raises(PermissionDenied) as info:
            invitation_redeem(study_code=study.code, token=token)
        messages.add(str(info.value).split(".")[0])
    assert len(messages) == 1


def test_the_invitation_email_carries_a_working_link(study: Study, alice: Participant, settings: object) -> None:
    invitation_send(participant=alice, base_url="https://foresight.example.org")
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert alice.expert.email in mail.outbox[0].to
    link = next(line for line in body.splitlines() if line.startswith("https://"))
    token = link.split("t=")[1]
    assert invitation_redeem(study_code=study.code, token=token) == alice


def test_the_invitation_speaks_the_experts_language_and_time_zone(study: Study, alice: Participant) -> None:
    from datetime import datetime

    from foresight.delphi.services.panel import minutes_per_topic
    from foresight.delphi.services.rounds import round_open

    Study.objects.filter(pk=study.pk).update(title_zh="国家技术预见 2050", planned_rounds=3)
    study.refresh_from_db()
    round_open(rnd=study.rounds.get(number=1), closes_at=datetime(2031, 3, 14, 9, 0, tzinfo=UTC))
    alice.expert.language, alice.expert.timezone = "zh-hans", "Asia/Shanghai"
    alice.expert.save()
    alice.refresh_from_db()
    invitation_send(participant=alice, base_url="https://foresight.example.org")
    message = mail.outbox[0]
    assert message.subject == "德尔菲调查“国家技术预见 2050”邀请函"
    body = message.body
    assert "尊敬的 Alice：" in body
    assert "2031年3月14日 17:00（Asia/Shanghai）" in body  # 09:00 UTC in Shanghai
    assert "本调查共 3 轮" in body
    per_topic = minutes_per_topic(study)
    assert f"您的 4 个课题共需约 {4 * per_topic} 分钟" in body
    link = next(line for line in body.splitlines() if line.startswith("https://"))
    assert link.startswith(f"https://foresight.example.org/zh-hans/delphi/{study.code}/join/?t=")
    assert message.alternatives == [] and message.content_subtype == "plain"


def test_the_site_language_and_time_zone_are_the_default(study: Study, alice: Participant, settings: Any) -> None:
    from datetime import datetime

    from foresight.delphi.services.panel import minutes_per_topic
    from foresight.delphi.services.rounds import round_schedule

    bob = Expert.objects.create(email="bob@example.org", name="Bob", sector="company")
    fresh = participant_add(study=study, expert=bob)  # has not chosen topics yet
    round_schedule(
        rnd=study.rounds.get(number=1),
        opens_at=datetime(2031, 3, 1, 8, 0, tzinfo=UTC),
        closes_at=datetime(2031, 3, 14, 9, 0, tzinfo=UTC),
    )
    invitation_send(participant=fresh, base_url="https://foresight.example.org")
    body = mail.outbox[0].body
    assert mail.outbox[0].subject == "Invitation to the Delphi study “National foresight 2050”"
    assert "Dear Bob," in body
    assert "Round 1 closes on March 14, 2031, 9 a.m. (UTC)." in body
    assert "The study has 2 rounds" in body
    assert f"One topic takes about {minutes_per_topic(study)} minutes; you choose which of the study's 4 topics" in body
    settings.TIME_ZONE = "Europe/Berlin"
    invitation_send(participant=fresh, base_url="https://foresight.example.org", kind="reminder")
    assert "Round 1 closes on March 14, 2031, 10 a.m. (Europe/Berlin)." in mail.outbox[1].body
    assert mail.outbox[1].subject.startswith("Reminder:")
