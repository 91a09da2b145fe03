"""The priority workbench's permissions (``ScoringRun.Meta.permissions``, ``Edition.Meta.permissions`` and
Django's view permissions) and the roles that hold them (``foresight.core.roles``). Names only: app configs
import this before models load."""

from __future__ import annotations

VIEW_RUNS = "priorities.view_scoringrun"  # runs with their tables, matrices and movement
RUN_SCORING = "priorities.run_scoring"  # start a scoring run
VIEW_EDITIONS = "priorities.view_edition"  # draft editions and their preview
PREPARE_EDITION = "priorities.prepare_edition"  # create drafts, decide tiers and rationales, delete drafts
PUBLISH_EDITION = "priorities.publish_edition"  # publish a draft (a separate duty from preparing it)

# Either opens the workbench's list of studies.
WORKBENCH = (VIEW_RUNS, VIEW_EDITIONS)
