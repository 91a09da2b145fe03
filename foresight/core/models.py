"""Models every app shares: the audit log of staff actions."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditLog(models.Model):
    """Append-only record of staff actions (open, close, extend, rule changes, publish...).

    Delphi and priorities both write it (``foresight.core.audit.audit_log``).  An entry may name the
    study and round it concerns; they are referred to by name ("delphi.Study"), so nothing here imports
    Delphi, but core still depends on it: the one exception to the direction of the apps, listed in
    tests/core/test_architecture.py until a generic reference replaces these keys.  The table keeps the
    name it had when the model lived in Delphi."""

    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=60)
    study = models.ForeignKey("delphi.Study", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit")
    round = models.ForeignKey("delphi.Round", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "delphi_auditlog"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"
