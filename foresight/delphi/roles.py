"""The Delphi console's permissions (``Study.Meta.permissions``, ``Argument.Meta.permissions``) and the
roles that hold them (``foresight.core.roles``). Names only: app configs import this before models load."""

from __future__ import annotations

MANAGE_STUDY = "delphi.manage_study"  # create studies, change rules and questions, run rounds
MANAGE_PANEL = "delphi.manage_panel"  # import panels, send invitations, see names and addresses
VIEW_RESULTS = "delphi.view_results"  # consensus, stability and the stopping rule per round
MODERATE = "delphi.moderate_argument"  # approve and reject arguments

# Any of these opens the console (its study list and each study's rounds and participation).
CONSOLE = (MANAGE_STUDY, MANAGE_PANEL, VIEW_RESULTS, MODERATE)
