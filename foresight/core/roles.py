"""Staff roles: Django groups whose permissions each app grants, and the staff navigation they open.

A role says *what* a staff member may do; a study with named managers further limits *which* studies
(``Study.objects.for_staff``). Each app declares, in its ``AppConfig.ready``, the permissions a role
holds in that app (``grant``) and the consoles a permission opens (``nav_register``); the groups are
kept in step with those declarations after every ``migrate`` (``roles_sync`` on ``post_migrate``).
A superuser holds every permission. Roles are given to people in the admin (Users → Groups).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import AppConfig
from django.db.models import Q
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Group names are stored in English (they are data); the labels are what pages show.
ROLES: dict[str, Promise] = {
    "Study manager": _("Study manager"),
    "Panel manager": _("Panel manager"),
    "Moderator": _("Moderator"),
    "Analyst": _("Analyst"),
    "Publisher": _("Publisher"),
    "Curator": _("Curator"),
}

_GRANTS: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # app → role → codenames


def grant(app_label: str, role: str, *codenames: str) -> None:
    """Declare that ``role`` holds these permissions of ``app_label`` (codenames without the app)."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; the roles are {', '.join(ROLES)}.")
    _GRANTS[app_label][role].update(codenames)


def grant_models(app_config: AppConfig, role: str, *, only: Iterable[str] = ()) -> None:
    """Declare that ``role`` may view, add, change and delete every model of the app (``only``: these model
    names) in the admin, not the history tables django-simple-history adds (the admin shows history with
    the model's own rights)."""
    wanted = set(only)
    for model in app_config.get_models():
        name = str(model._meta.model_name)
        if name.startswith("historical") or (wanted and name not in wanted):
            continue
        grant(app_config.label, role, *(f"{action}_{name}" for action in ("view", "add", "change", "delete")))


def role_permissions(role: str) -> set[str]:
    """Every permission a role holds, as ``app_label.codename``."""
    return {f"{app}.{name}" for app, roles in _GRANTS.items() for name in roles.get(role, ())}


def roles_sync(*, app_label: str | None = None) -> None:
    """Create the role groups and set each one's permissions in ``app_label`` (every app: None) to exactly
    what the apps grant. A granted permission that does not exist is an error, not a silent gap."""
    from django.contrib.auth.models import Group, Permission  # apps import this module before models load

    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}
    apps = [app_label] if app_label is not None else list(_GRANTS)
    for app in apps:
        by_role = _GRANTS.get(app, {})
        existing = {p.codename: p for p in Permission.objects.filter(content_type__app_label=app)}
        wanted_all = set().union(*by_role.values()) if by_role else set()
        missing = wanted_all - set(existing)
        if missing:
            raise LookupError(f"Roles grant permissions that {app} does not define: {', '.join(sorted(missing))}")
        for name, group in groups.items():
            wanted = {existing[c] for c in by_role.get(name, ())}
            held = set(group.permissions.filter(content_type__app_label=app))
            if held - wanted:
                group.permissions.remove(*(held - wanted))
            if wanted - held:
                group.permissions.add(*(wanted - held))


def on_post_migrate(sender: Any, **kwargs: Any) -> None:
    """After an app's migrations (and its permissions) exist, bring the roles' permissions in it up to date."""
    label = getattr(sender, "label", None)
    if label in _GRANTS:
        roles_sync(app_label=label)


_STUDY_SCOPED: set[str] = set()


def study_scoped(*perms: str) -> None:
    """Declare permissions that work on one study at a time: their holders can be a study's named managers."""
    _STUDY_SCOPED.update(perms)


def study_scoped_permissions() -> tuple[str, ...]:
    return tuple(sorted(_STUDY_SCOPED))


def users_with_permission(*perms: str) -> Q:
    """A filter on users: active staff who hold any of ``perms`` (``app_label.codename``) through a group,
    directly, or as superusers."""
    from django.contrib.auth.models import Permission  # apps import this module before models load

    held = Q(pk__in=[])
    for perm in perms:
        app, codename = perm.split(".", 1)
        held |= Q(content_type__app_label=app, codename=codename)
    ids = Permission.objects.filter(held)
    return Q(is_active=True, is_staff=True) & (
        Q(is_superuser=True) | Q(groups__permissions__in=ids) | Q(user_permissions__in=ids)
    )


# --- Navigation ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavEntry:
    """A staff console in the site's header, shown to whoever holds any of ``permissions``; templates ask
    ``staff_can.<key>`` whether the user may open it."""

    key: str
    label: Promise
    url_name: str
    permissions: tuple[str, ...]
    order: int = 0


_NAV: list[NavEntry] = []


def nav_register(key: str, label: Promise, url_name: str, permissions: Iterable[str], *, order: int = 0) -> None:
    entry = NavEntry(key, label, url_name, tuple(permissions), order)
    if entry not in _NAV:
        _NAV.append(entry)
        _NAV.sort(key=lambda e: e.order)


def staff_can(user: Any) -> dict[str, bool]:
    """Which consoles ``user`` may open, by key (all False for anyone who is not active staff)."""
    staff = bool(user.is_authenticated and user.is_active and user.is_staff)
    return {e.key: staff and any(user.has_perm(p) for p in e.permissions) for e in _NAV}


def staff_nav(user: Any) -> list[dict[str, Any]]:
    """The consoles ``user`` may open, in order, as ``{"label", "url"}`` (nothing for non-staff)."""
    can = staff_can(user)
    return [{"label": e.label, "url": reverse(e.url_name)} for e in _NAV if can[e.key]]
