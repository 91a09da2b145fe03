"""Staff see studies, rounds, experts and the audit log in admin; never an individual's answers."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client

from foresight.delphi.models import Answer, Participant, Response, Study

pytestmark = pytest.mark.django_db


def test_staff_see_studies_but_no_answers(study: Study, alice: Participant) -> None:
    staff = Client()
    staff.force_login(User.objects.create_superuser("sam", "sam@example.org", "a-long-password-1"))
    page = staff.get("/admin/delphi/study/")
    assert page.status_code == 200
    assert study.code in page.content.decode()
    assert staff.get(f"/admin/delphi/study/{study.pk}/change/").status_code == 200
    for model in (Answer, Response, Participant):
        assert not admin.site.is_registered(model)
    assert alice.pseudonym not in staff.get("/admin/delphi/expert/").content.decode()
