"""The role groups hold exactly the permissions the apps declare, and stay so after every migrate."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission

from foresight.core import roles


def held(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_each_role_holds_what_it_is_for(db: Any) -> None:
    assert held("Publisher") == {"priorities.view_scoringrun", "priorities.view_edition", "priorities.publish_edition"}
    assert held("Moderator") == {"delphi.moderate_argument"}
    # Reading addresses, never changing one: a changed address would redirect an expert's links.
    assert held("Panel manager") == {"delphi.manage_panel", "delphi.view_expert"}
    assert held("Study manager") == {"delphi.manage_study", "delphi.view_results"}
    assert held("Analyst") == {
        "delphi.view_results",
        "priorities.view_scoringrun",
        "priorities.run_scoring",
        "priorities.view_edition",
        "priorities.prepare_edition",
    }
    curator = held("Curator")
    assert {"catalog.change_topic", "catalog.add_topic", "scenarios.change_scenario"} <= curator
    assert all(p.split(".")[0] in ("catalog", "scenarios") for p in curator)
    assert not any(".add_historical" in p or ".change_historical" in p for p in curator)
    # Nobody but a superuser changes a study in the admin, or reads answers or the audit log there.
    everyone = set().union(*(held(name) for name in roles.ROLES))
    assert not {"delphi.change_study", "delphi.view_answer", "core.view_auditlog", "auth.change_user"} & everyone


def test_a_migrate_puts_a_role_back_in_step(db: Any) -> None:
    publisher = Group.objects.get(name="Publisher")
    publisher.permissions.add(Permission.objects.get(codename="prepare_edition"))
    publisher.permissions.remove(Permission.objects.get(codename="publish_edition"))
    Group.objects.filter(name="Moderator").delete()
    roles.roles_sync()
    assert held("Publisher") == {"priorities.view_scoringrun", "priorities.view_edition", "priorities.publish_edition"}
    assert held("Moderator") == {"delphi.moderate_argument"}


def test_a_grant_must_name_a_role_and_a_permission_that_exist(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="Unknown role"):
        roles.grant("delphi", "Janitor", "manage_study")
    monkeypatch.setitem(roles._GRANTS, "delphi", {"Moderator": {"moderate_argument", "moderate_everything"}})
    with pytest.raises(LookupError, match="moderate_everything"):
        roles.roles_sync(app_label="delphi")
