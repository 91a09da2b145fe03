from __future__ import annotations

from typing import Any

from foresight.core.models import AuditLog


def audit_log(*, action: str, actor: Any = None, study: Any = None, round: Any = None, **details: Any) -> None:
    """Append one line to the audit log (never updated, never deleted by the application).

    ``study`` and ``round`` are a Delphi study and round, or None; a round alone also names its study."""
    AuditLog.objects.create(
        action=action,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        study=study or (round.study if round is not None else None),
        round=round,
        details=details,
    )
