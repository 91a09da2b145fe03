"""The Delphi staff console: studies, panels, rounds, participation, consensus, moderation, aggregation.

Views here are thin: reads go through ``selectors``, writes through ``foresight.delphi.services``.
No page shows a pseudonym, a single expert's answer or an argument's author.
"""

from __future__ import annotations
