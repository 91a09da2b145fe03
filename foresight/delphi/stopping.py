"""The stopping rule of a Delphi study (SPEC §3/§5): whether a topic, and the study, need another round.

Pure Python, no Django import: it reads only the *released* results of a round (the reports of
``delphi.selectors.round_topic_reports``, which went through ``foresight.disclosure``), so no verdict
here rests on a figure nobody may see, and it can be checked with plain data.

The rule (README, "Stopping rule")
----------------------------------
Per topic, after each aggregated round, over its *index items* (the 5-point items with a 0–100 index:
importance, competitiveness):

- **consensus**: every index item is released and reached consensus (the study's consensus rule);
- **stable**: the change from the previous round (paired respondents) is released for every index
  item, and for each of them the share of paired respondents who changed their answer is at most
  ``stable_share_changed_max`` and the Wilcoxon signed-rank p is at least ``stable_p_min`` (a p that
  does not exist because nobody changed counts as stable);
- the topic *meets* the rule when it reached consensus or is stable; it does *not* meet it when the
  released figures show both that it has no consensus and that it is not stable (round 1 is never
  stable: there is nothing to compare with); otherwise — a figure the verdict needs is withheld — it
  is **undetermined**, and the reasons of the withheld figures say why.

The study meets the rule when every topic still asked in the round meets it, or when the planned
rounds are done.  An undetermined topic keeps the study from meeting the rule early.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Keys of ``Study.stopping_rule`` (missing keys take these defaults, other keys are ignored).
STABLE_SHARE_CHANGED_MAX = "stable_share_changed_max"
STABLE_P_MIN = "stable_p_min"
DEFAULTS: dict[str, float] = {STABLE_SHARE_CHANGED_MAX: 0.15, STABLE_P_MIN: 0.05}

# A topic's verdict.
CONSENSUS = "consensus"
STABLE = "stable"
NOT_MET = "not_met"
UNDETERMINED = "undetermined"
VERDICTS = (CONSENSUS, STABLE, NOT_MET, UNDETERMINED)

# Why the study meets the rule, or does not.
ALL_MET = "all_met"
PLANNED_ROUNDS_DONE = "planned_rounds_done"
TOPICS_MOVE = "topics_move"
TOPICS_UNDETERMINED = "topics_undetermined"

# Reason codes used here besides ``foresight.disclosure``'s: a figure with no row at all counts as a
# group too small to release (nobody answered), and a round without an earlier one has no change.
_SMALL_GROUP = "small_group"
_NOT_ASKED = "not_asked"


@dataclass(frozen=True)
class Rule:
    """A study's stopping rule, read from ``Study.stopping_rule``."""

    stable_share_changed_max: float = DEFAULTS[STABLE_SHARE_CHANGED_MAX]
    stable_p_min: float = DEFAULTS[STABLE_P_MIN]

    def __post_init__(self) -> None:
        for name in DEFAULTS:
            value = getattr(self, name)
            if not _share(value):
                raise ValueError(f"{name} must be a number from 0 to 1, got {value!r}")

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Rule:
        """The rule as stored; a key an older study lacks takes its default. ``ValueError`` on a bad value."""
        data = data or {}
        return cls(**{name: data.get(name, default) for name, default in DEFAULTS.items()})

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in DEFAULTS}


def rule_errors(data: Any) -> dict[str, str]:
    """What is wrong with a stopping rule as it would be stored (empty when it is good); used by the service."""
    if not isinstance(data, Mapping):
        return {"stopping_rule": "The stopping rule must be a mapping of settings."}
    return {
        name: f"{name} must be a number from 0 to 1." for name in DEFAULTS if not _share(data.get(name, DEFAULTS[name]))
    }


def _share(value: Any) -> bool:
    """A number from 0 to 1 (not a bool, not NaN)."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and 0.0 <= float(value) <= 1.0


@dataclass(frozen=True)
class ItemStopping:
    """One index item of one topic: what its released figures say (None: withheld, see ``reason``)."""

    key: str
    consensus: bool | None
    stable: bool | None  # False in round 1 (no earlier round) and when it moved
    share_changed: float | None = None
    wilcoxon_p: float | None = None
    reason: str | None = None  # reason code of the withheld figure (``foresight.disclosure``)


@dataclass(frozen=True)
class TopicStopping:
    verdict: str
    items: tuple[ItemStopping, ...] = ()
    reasons: tuple[str, ...] = ()  # codes of the withheld figures that leave the verdict undetermined

    @property
    def met(self) -> bool:
        return self.verdict in (CONSENSUS, STABLE)


def _all(values: Sequence[bool | None]) -> bool | None:
    """Three-valued "every one is true": False as soon as one is known false, None while one is unknown."""
    if not values or any(v is False for v in values):
        return False
    if any(v is None for v in values):
        return None
    return True


def item_stopping(item: Mapping[str, Any] | None, *, key: str, later_round: bool, rule: Rule) -> ItemStopping:
    """One index item's part of the rule, from its released figures (``disclosure.release_item``)."""
    if item is None or item.get("n") is None:
        reason = ((item or {}).get("suppressed") or {}).get("all", _SMALL_GROUP)
        # The item is withheld, so is its change; in round 1 there is no change to wait for.
        return ItemStopping(key=key, consensus=None, stable=None if later_round else False, reason=reason)
    consensus = bool(item.get("consensus"))
    change = item.get("change", ...)
    if not later_round or change is ...:
        return ItemStopping(key=key, consensus=consensus, stable=False, reason=None if later_round else _NOT_ASKED)
    if change is None:
        reason = (item.get("suppressed") or {}).get("change", _SMALL_GROUP)
        return ItemStopping(key=key, consensus=consensus, stable=None, reason=reason)
    share = change.get("share_changed")
    p = change.get("wilcoxon_p")
    if share is None:
        stable = False
    elif p is None:
        # No non-zero difference: nobody changed, there is nothing to test.
        stable = share == 0
    else:
        stable = share <= rule.stable_share_changed_max and p >= rule.stable_p_min
    return ItemStopping(key=key, consensus=consensus, stable=stable, share_changed=share, wilcoxon_p=p)


def topic_stopping(
    report: Mapping[str, Any] | None, *, index_keys: Sequence[str], later_round: bool, rule: Rule
) -> TopicStopping:
    """A topic's verdict from its released report (``round_topic_reports``; None: nobody answered it).

    ``index_keys``: the study's index items; ``later_round``: the round has an earlier one (round 2+).
    """
    released = (report or {}).get("items") or {}
    items = tuple(item_stopping(released.get(k), key=k, later_round=later_round, rule=rule) for k in index_keys)
    consensus = _all([i.consensus for i in items])
    stable = _all([i.stable for i in items])
    if consensus:
        return TopicStopping(verdict=CONSENSUS, items=items)
    if stable:
        return TopicStopping(verdict=STABLE, items=items)
    if consensus is False and stable is False:
        return TopicStopping(verdict=NOT_MET, items=items)
    withheld = sorted({i.reason for i in items if i.reason and (i.consensus is None or i.stable is None)})
    return TopicStopping(verdict=UNDETERMINED, items=items, reasons=tuple(withheld))


@dataclass(frozen=True)
class StudyStopping:
    """The rule for the study after one round: per topic and as a whole."""

    round: int
    planned_rounds: int
    rule: Rule
    topics: dict[Any, TopicStopping]
    met: bool
    why: str  # ALL_MET, PLANNED_ROUNDS_DONE, TOPICS_MOVE or TOPICS_UNDETERMINED

    def count(self, verdict: str) -> int:
        return sum(1 for t in self.topics.values() if t.verdict == verdict)

    @property
    def consensus_count(self) -> int:
        return self.count(CONSENSUS)

    @property
    def stable_count(self) -> int:
        return self.count(STABLE)

    @property
    def met_count(self) -> int:
        return self.consensus_count + self.stable_count

    @property
    def moving_count(self) -> int:
        return self.count(NOT_MET)

    @property
    def undetermined_count(self) -> int:
        return self.count(UNDETERMINED)


def study_stopping(
    topics: Mapping[Any, TopicStopping], *, round_number: int, planned_rounds: int, rule: Rule
) -> StudyStopping:
    """The study's verdict after round ``round_number`` from the verdicts of the topics still asked in it."""
    verdicts = [t.verdict for t in topics.values()]
    if all(v in (CONSENSUS, STABLE) for v in verdicts):
        met, why = True, ALL_MET
    elif round_number >= planned_rounds:
        met, why = True, PLANNED_ROUNDS_DONE
    elif NOT_MET in verdicts:
        met, why = False, TOPICS_MOVE
    else:
        met, why = False, TOPICS_UNDETERMINED
    return StudyStopping(
        round=round_number, planned_rounds=planned_rounds, rule=rule, topics=dict(topics), met=met, why=why
    )
