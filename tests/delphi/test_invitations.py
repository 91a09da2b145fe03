"""Magic links: 256-bit tokens, stored hashed, single use, expiring, bound to one study."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from foresight.delphi.models import Invitation, Participant, Study
from foresight.delphi.services.panel import invitation_create, invitation_redeem, invitation_send, token_hash

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
