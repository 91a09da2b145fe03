"""Every staff view and admin page, for every role: who gets in and who gets 403.

The matrix below is written by hand from the roles' meaning (README, "Staff roles"), not read from the code:
a view added without a row fails ``test_the_matrix_covers_every_staff_view``, and a view whose check is
missing or wrong fails the matrix. Every request runs in a savepoint that is rolled back, so each role
meets the same data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from foresight.catalog.models import Topic
from foresight.core import queue
from foresight.delphi.models import Argument, Study
from foresight.delphi.services.studies import study_create
from foresight.priorities.models import Edition, ScoringRun
from foresight.priorities.services.editions import edition_draft_create
from tests.factories import staff_user
from tests.priorities.conftest import answers, panelist, run_round, scored

pytestmark = pytest.mark.django_db

SM, PM, MO, AN, PU, CU = "Study manager", "Panel manager", "Moderator", "Analyst", "Publisher", "Curator"
ROLES = (SM, PM, MO, AN, PU, CU)
CONSOLE = {SM, PM, MO, AN}

# (URL name, method) → the roles that may use it. A superuser may use all; staff without a role, none.
MATRIX: dict[tuple[str, str], set[str]] = {
    ("staff:study-list", "get"): CONSOLE,
    ("staff:study-create", "get"): {SM},
    ("staff:study-create", "post"): {SM},
    ("staff:study", "get"): CONSOLE,
    ("staff:study-settings", "get"): {SM},
    ("staff:study-rules", "post"): {SM},
    ("staff:study-managers", "post"): {SM},
    ("staff:question-update", "post"): {SM},
    ("staff:question-remove", "post"): {SM},
    ("staff:study-panel", "get"): {PM},
    ("staff:panel-import", "post"): {PM},
    ("staff:invitations-send", "post"): {PM},
    ("staff:study-results", "get"): {SM, AN},
    ("staff:study-arguments", "get"): {MO},
    ("staff:argument-moderate", "post"): {MO},
    ("staff:round-schedule", "post"): {SM},
    ("staff:round-open", "post"): {SM},
    ("staff:round-close", "post"): {SM},
    ("staff:round-extend", "post"): {SM},
    ("staff:reminders-send", "post"): {SM},
    ("staff:round-aggregate", "post"): {SM},
    ("staff:round-progress", "get"): CONSOLE,
    ("workbench:index", "get"): {AN, PU},
    ("workbench:run-create", "get"): {AN},
    ("workbench:run-create", "post"): {AN},
    ("workbench:run", "get"): {AN, PU},
    ("workbench:run-progress", "get"): {AN, PU},
    ("workbench:edition-create", "get"): {AN},
    ("workbench:edition-create", "post"): {AN},
    ("workbench:edition", "get"): {AN, PU},
    ("workbench:entry-decide", "post"): {AN},
    ("workbench:edition-preview", "get"): {AN, PU},
    ("workbench:edition-publish", "get"): {PU},
    ("workbench:edition-publish", "post"): {PU},
    ("workbench:edition-delete", "post"): {AN},
}

# Admin change lists (app_label.model) → the roles that may open them.
ADMIN_MATRIX: dict[str, set[str]] = {
    "catalog.sourceprogramme": {CU},
    "catalog.direction": {CU},
    "catalog.area": {CU},
    "catalog.cluster": {CU},
    "catalog.topic": {CU},
    "scenarios.scenario": {CU},
    "delphi.study": set(),
    "delphi.expert": {PM},  # names and addresses: the panel manager's
    "priorities.scoringrun": {AN, PU},
    "priorities.edition": {AN, PU},
    "priorities.editionentry": set(),
    "core.auditlog": set(),
    "auth.user": set(),  # roles are given by a superuser: nobody hands herself a role
    "auth.group": set(),
    "account.emailaddress": set(),  # the exchange's accounts: their addresses are nobody's business
}

# The consoles each role finds in the site's header.
NAV: dict[str, set[str]] = {
    SM: {"Delphi console"},
    PM: {"Delphi console"},
    MO: {"Delphi console"},
    AN: {"Delphi console", "Priority workbench"},
    PU: {"Priority workbench"},
    CU: {"Catalog admin"},
}
NAV_LABELS = {"Delphi console", "Priority workbench", "Catalog admin"}


def _names(patterns: list[Any], namespace: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def test_the_matrix_covers_every_staff_view() -> None:
    views = {name for name in _names(get_resolver().url_patterns) if name.split(":")[0] in ("staff", "workbench")}
    assert views == {name for name, _ in MATRIX}
    registered = {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry}
    assert registered == set(ADMIN_MATRIX)


@pytest.fixture
def world(mini_catalog: list[Topic], queued: list[int], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A study with an aggregated round, a finished scoring run, a draft edition and a pending argument;
    afterwards, what a view queues (mails, runs) is only recorded."""
    study = study_create(title_en="Roles", horizon_year=2050, topics=mini_catalog, planned_rounds=1, code="roles")
    codes = [t.code for t in mini_catalog[:5]]
    panel = [
        (panelist(study, f"e{i}@example.org", "university", codes), {c: answers(3 + i % 2) for c in codes})
        for i in range(10)
    ]
    run_round(study.rounds.get(number=1), panel)
    run = scored(study)
    edition = edition_draft_create(run=run, code="roles-draft", title_en="Draft")
    rnd = study.rounds.get(number=1)
    argument = Argument.objects.create(
        round=rnd, topic=mini_catalog[0], participant=panel[0][0], stance="pro", text="Because."
    )
    monkeypatch.setattr(queue, "send_on_commit", lambda task, *args: None)
    return {"study": study, "round": rnd, "run": run, "edition": edition, "argument": argument}


def _args(name: str, world: dict[str, Any]) -> list[Any]:
    study: Study = world["study"]
    run: ScoringRun = world["run"]
    edition: Edition = world["edition"]
    view = name.split(":")[1]
    if view in ("study-list", "study-create", "index"):
        return []
    if view in ("question-update", "question-remove"):
        return [study.code, "importance"]
    if view == "argument-moderate":
        return [study.code, world["argument"].pk]
    if view.startswith("round-") or view == "reminders-send":
        return [world["round"].code]
    if view in ("run", "run-progress", "edition-create"):
        return [run.code]
    if view == "entry-decide":
        return [edition.code, edition.entries.select_related("topic").first().topic.code]
    if view.startswith("edition"):
        return [edition.code]
    return [study.code]


def _request(client: Client, method: str, url: str) -> Any:
    """The request inside a savepoint rolled back afterwards: a role that may act leaves nothing behind."""
    with transaction.atomic():
        response = getattr(client, method)(url)
        transaction.set_rollback(True)
    return response


def _login(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_every_staff_view_for_every_role(world: dict[str, Any], django_user_model: type[User]) -> None:
    people: dict[str, User | None] = {role: staff_user(role.lower().replace(" ", "-"), role) for role in ROLES}
    people["superuser"] = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    people["no role"] = staff_user("plain", no_role=True)
    people["not staff"] = django_user_model.objects.create_user("olivia", "olivia@example.org", "pw")
    people["anonymous"] = None
    clients = {who: _login(user) for who, user in people.items()}
    wrong: list[str] = []
    for (name, method), allowed in MATRIX.items():
        url = reverse(name, args=_args(name, world))
        for who, client in clients.items():
            response = _request(client, method, url)
            if who == "anonymous":
                ok = _is_login_redirect(response)
            elif who == "superuser" or who in allowed:
                ok = response.status_code != 403 and response.status_code < 500 and not _is_login_redirect(response)
            else:
                ok = response.status_code == 403
            if not ok:
                wrong.append(f"{method.upper()} {name} as {who}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


def test_every_admin_list_for_every_role(db: Any, django_user_model: type[User]) -> None:
    people = {role: staff_user(role.lower().replace(" ", "-"), role) for role in ROLES}
    people["superuser"] = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    wrong = []
    for model, allowed in ADMIN_MATRIX.items():
        url = reverse(f"admin:{model.replace('.', '_')}_changelist")
        for who, user in people.items():
            status = _login(user).get(url).status_code
            expected = 200 if who == "superuser" or who in allowed else 403
            if status != expected:
                wrong.append(f"{model} as {who}: {status}, expected {expected}")
    assert not wrong, "\n".join(wrong)


def test_the_header_shows_each_role_its_consoles(db: Any) -> None:
    for role, consoles in NAV.items():
        page = _login(staff_user(role.lower().replace(" ", "-"), role)).get("/").content.decode()
        shown = {label for label in NAV_LABELS if f'class="staff-link">{label}<' in page}
        assert shown == consoles, role
    assert "staff-link" not in _login(staff_user("plain", no_role=True)).get("/").content.decode()


def test_a_study_with_named_managers_is_theirs_alone(world: dict[str, Any]) -> None:
    """Object-level: with managers named, an unnamed holder of every role meets 403 on every page of the study
    (its rounds, runs and editions too) and does not see it listed; the named one works as her roles allow."""
    study: Study = world["study"]
    mia = staff_user("mia")  # every role
    max_ = staff_user("max")  # every role too, but not named
    study.managers.set([mia])
    mia_client, max_client = _login(mia), _login(max_)
    wrong = []
    for name, method in MATRIX:
        if not _args(name, world):
            continue  # lists and the create form belong to no study
        url = reverse(name, args=_args(name, world))
        if (status := _request(max_client, method, url).status_code) != 403:
            wrong.append(f"{method.upper()} {name} as max: {status}")
        if (status := _request(mia_client, method, url).status_code) in (403, 404) or status >= 500:
            wrong.append(f"{method.upper()} {name} as mia: {status}")
    assert not wrong, "\n".join(wrong)
    study_url = reverse("staff:study", args=[study.code])
    assert study_url in mia_client.get(reverse("staff:study-list")).content.decode()
    assert study_url not in max_client.get(reverse("staff:study-list")).content.decode()
    assert f'id="study-{study.code}"' in mia_client.get(reverse("workbench:index")).content.decode()
    assert f'id="study-{study.code}"' not in max_client.get(reverse("workbench:index")).content.decode()
    # The admin keeps the rule: its experts, runs and editions are not listed or opened for max.
    expert = study.participants.select_related("expert").first().expert
    run, edition = world["run"], world["edition"]
    for model, obj in (("delphi_expert", expert), ("priorities_scoringrun", run), ("priorities_edition", edition)):
        listing, change = reverse(f"admin:{model}_changelist"), reverse(f"admin:{model}_change", args=[obj.pk])
        assert change not in max_client.get(listing).content.decode(), model
        assert change in mia_client.get(listing).content.decode(), model
        assert max_client.get(reverse(f"admin:{model}_change", args=[obj.pk])).status_code == 302, model
        assert mia_client.get(reverse(f"admin:{model}_change", args=[obj.pk])).status_code == 200, model
