from __future__ import annotations

from typing import Any

from foresight.delphi.models import AuditLog, Round, Study


def audit_log(
    *, action: str, actor: Any = None, study: Study | None = None, round: Round | None = None, **details: Any
) -> None:
    """Append one line to the audit log (never updated, never deleted by the application)."""
    AuditLog.objects.create(
        action=action,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        study=study or (round.study if round is not None else None),
        round=round,
        details=details,
    )
