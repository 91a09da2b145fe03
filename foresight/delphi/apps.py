from __future__ import annotations

from django.apps import AppConfig


class DelphiConfig(AppConfig):
    name = "foresight.delphi"
    label = "delphi"
    verbose_name = "Delphi studies"
