"""Disclosure control: the one rule set that decides which figures of the answers leave the statistics.

Every person who sees a figure of the answers — the public (edition pages, topic pages, API,
downloads), an expert (round feedback, real-time feedback), staff (console, workbench, the
reproducibility package's ``stats.csv``) — sees it through this module.  Pure Python, no Django
import, so the rules can be checked with plain data (``tests/disclosure/`` does so with an
exhaustive search over every split of a panel that the released figures allow).

The rules (README, "Disclosure control")
----------------------------------------
A *group* is a set of respondents defined by what the viewer may know about them: everyone who
answered an item, those who stated high expertise, those of one sector, one expertise weight class,
those who answered in both rounds, those who left or joined between rounds, those who answered
since the last real-time refresh.  ``k`` is the study's small-cell threshold.

1. **Smallest group.**  A figure is released only over a group of at least ``t = k + 1``
   respondents, so that any one of them who subtracts her own answer still faces at least ``k``
   others (the viewer's own answer is part of what she knows).
2. **Complements.**  A subgroup figure (high expertise, a sector) shown next to the figure of the
   whole lets anyone subtract one from the other, so it is released only while the respondents it
   leaves out number 0 or at least ``t``; for a partition (sectors) the smallest shown group is
   withheld until the hidden remainder is 0 or at least ``t`` (complementary suppression).
3. **Weighted figures.**  The expertise-weighted index is a linear combination of the sums of the
   expertise weight classes (levels with the same weight form one class; a respondent without an
   expertise answer counts with the medium weight).  Together with the unweighted index and the
   high-expertise index it can pin down each class's sum — and where the high index is shown, the
   sums of the high and the other respondents of each class — so it is released only when every such
   group present has 0 or at least ``t`` respondents.
3a. **Overlaps.**  Expertise groups (high / the rest, weight classes) and sectors are two partitions of
   the same respondents; with the distribution's few possible values, the sums of both can pin down
   the cells where they cross.  Sector figures are released next to expertise figures only when every
   such cell (each shown sector, and the hidden sectors as one block) has 0 or at least ``t``
   respondents; otherwise the sector figures are withheld.
3b. **Topic and item.**  A topic's respondents are published by expertise level and by sector; an
   item's group figures count only those who answered it ("can't judge" is an answer too).  So for
   every group an item's figure is shown for (high / the rest, each weight class, each shown sector and
   the hidden ones as a block), the topic's respondents of that group who did not answer the item must
   number 0 or at least ``t``; otherwise that figure is withheld — it would tell which group those
   few respondents are in.
4. **Rounds.**  The figures of two rounds of one topic differ by the answers of those who left,
   those who joined and the changes of those who stayed.  The round-to-round change (computed on
   the paired respondents) removes the last unknown, so it is released only when the paired
   respondents number at least ``t`` and those who left and those who joined each number 0 or at
   least ``t``.  Without it, the stayers' unknown changes keep the leavers' answers undetermined.
   The same holds for every subgroup shown beside it (high / the rest, each weight class, each shown
   sector and the hidden ones as a block): the change is released only when those who left that
   group and those who joined it (by leaving or joining the item, or by stating another expertise
   level) each number 0 or at least ``t`` — counted by aggregation as ``moves``; figures stored
   without them release no change beside a subgroup figure.
5. **Real-time feedback** is a stored snapshot that is refreshed only when, since the last snapshot,
   the respondents who answered for the first time, those who changed their answer and those who
   withdrew it each number 0 or at least ``t`` (and at least one kind is there); the first snapshot
   appears at ``t`` answers.  Two successive views then never differ by a group of fewer than ``t``,
   whatever the viewer infers from the change in n.  The round's own figures (after it closes) obey
   the same rule against the last snapshot, or are withheld.

The figures released are exact (stored to 10 decimals); safety rests on which groups are released,
never on rounding.  Counts of the answer categories of a released group (an item's distribution,
including the expertise item's) are figures of that group and are released with it.

Minimum evidence (a separate rule, SPEC §12): a topic needs ``min_respondents`` respondents for a
tier, and a figure labelled high-expertise needs ``min_high`` high-expertise respondents; below
them the figure is replaced by the all-respondent one and the replacement is recorded, never silent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Expertise levels of the default question set, and the key for "no expertise answer".
LEVELS = ("high", "medium", "low")
NO_LEVEL = "none"
# A respondent without an expertise answer is weighted like this level (README, statistics).
NO_LEVEL_WEIGHT_OF = "medium"
# Stakeholder sectors shown on their own; "other" is never shown alone (it only counts as hidden).
SECTOR_GROUPS = ("company", "university", "public_research", "government")

# Why a figure is not shown (codes; the pages translate them, the exports write them as they are).
SMALL_GROUP = "small_group"  # fewer than t respondents
SMALL_COMPLEMENT = "small_complement"  # the respondents left out would number 1 … t−1
SMALL_WEIGHT_CLASS = "small_weight_class"  # an expertise weight class has 1 … t−1 respondents
ATTRITION = "attrition"  # 1 … t−1 respondents left or joined between rounds
SMALL_OVERLAP = "small_overlap"  # a sector and an expertise group shown beside it share 1 … t−1 respondents
SINCE_FEEDBACK = "since_feedback"  # 1 … t−1 answered or changed since the last real-time feedback
MIN_EVIDENCE = "min_evidence"  # fewer respondents than the study's minimum evidence
NOT_ASKED = "not_asked"  # the item was not asked (e.g. no earlier round)

REASONS = (
    SMALL_GROUP,
    SMALL_COMPLEMENT,
    SMALL_WEIGHT_CLASS,
    SMALL_OVERLAP,
    ATTRITION,
    SINCE_FEEDBACK,
    MIN_EVIDENCE,
    NOT_ASKED,
)


@dataclass(frozen=True)
class Rules:
    """A study's disclosure and evidence rules (fixed before round 1 opens)."""

    k: int
    weights: Mapping[str, float] = field(default_factory=lambda: {"high": 1.0, "medium": 0.6, "low": 0.3})
    min_respondents: int = 10
    min_high: int = 5

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise ValueError(f"k must be a positive whole number, got {self.k!r}")

    @property
    def t(self) -> int:
        """The smallest group any figure is released over: k others besides any one viewer."""
        return self.k + 1

    def weight_of(self, level: str) -> float:
        """The expertise weight of a level; no expertise answer weighs like ``NO_LEVEL_WEIGHT_OF``."""
        if level == NO_LEVEL or level not in self.weights:
            level = NO_LEVEL_WEIGHT_OF
        return float(self.weights.get(level, 0.0))

    def as_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "min_group": self.t,
            "expertise_weights": dict(self.weights),
            "no_expertise_weight_of": NO_LEVEL_WEIGHT_OF,
            "min_respondents": self.min_respondents,
            "min_high": self.min_high,
        }


def big_enough(n: int, t: int) -> bool:
    """A group of ``n`` may be released (or left out of a released figure): empty or at least ``t``."""
    return n == 0 or n >= t


def partition_shown(
    counts: Mapping[str, int], *, t: int, total: int, publishable: Sequence[str] | None = None
) -> list[str]:
    """Groups of a partition of ``total`` respondents whose figures may be shown next to the total.

    A group is shown only if it is publishable and has at least ``t`` respondents.  What is hidden
    can be recovered as a block by subtracting the shown groups from the total, so while the hidden
    respondents number 1 … t−1 the smallest shown group (ties: by name) is hidden too.  Sorted.
    """
    if t < 1:
        raise ValueError(f"t must be positive, got {t}")
    allowed = set(counts) if publishable is None else set(publishable)
    shown = {g for g, n in counts.items() if g in allowed and n >= t}
    hidden = total - sum(counts[g] for g in shown)
    while shown and 0 < hidden < t:
        smallest = min(shown, key=lambda g: (counts[g], g))
        shown.remove(smallest)
        hidden += counts[smallest]
    return sorted(shown)


@dataclass(frozen=True)
class ItemRelease:
    """Which figures of one item (question) of one topic in one round may leave, and why not."""

    all: bool
    high: bool
    weighted: bool
    sectors: tuple[str, ...]
    suppressed: dict[str, str]


def item_release(
    *,
    n: int,
    n_high: int,
    levels: Mapping[str, int],
    sectors: Mapping[str, int],
    rules: Rules,
    cells: Mapping[tuple[str, str], int] | None = None,
    topic_levels: Mapping[str, int] | None = None,
    topic_sectors: Mapping[str, int] | None = None,
) -> ItemRelease:
    """Decide which figures of an item may be released (rules 1–3b and the high-expertise evidence rule).

    ``n``: valid answers to the item; ``n_high``: of them, stated high expertise; ``levels``: valid
    answers per expertise level (``NO_LEVEL`` for no expertise answer); ``sectors``: valid answers
    per sector (every sector, "other" included); ``cells``: valid answers per (level, sector) — without
    them no sector figure is released beside an expertise figure (rule 3a cannot be checked).
    ``topic_levels`` / ``topic_sectors``: the topic's respondents per level and per sector, for rule 3b;
    a caller that shows no topic-level counts (round feedback) may leave them out.
    """
    t = rules.t
    suppressed: dict[str, str] = {}
    if n < t:
        return ItemRelease(all=False, high=False, weighted=False, sectors=(), suppressed={"all": SMALL_GROUP})
    rest = n - n_high
    if n_high < t:
        high = False
        suppressed["high"] = SMALL_GROUP
    elif not big_enough(rest, t):
        high = False
        suppressed["high"] = SMALL_COMPLEMENT
    elif n_high < rules.min_high:
        high = False
        suppressed["high"] = MIN_EVIDENCE
    else:
        high = True
    topic_total = sum(int(c) for c in (topic_levels or {}).values())

    def unanswered_small(topic_counts: Mapping[Any, int], item_counts: Mapping[Any, int]) -> bool:
        # Rule 3b: the topic's respondents of a group who did not answer the item.  A group the topic's
        # counts do not know (counts missing or stored before this rule) gives a negative difference:
        # the figure is withheld — the layer fails closed.
        return any(
            not big_enough(int(topic_counts.get(g, 0)) - int(item_counts.get(g, 0)), t)
            for g in set(topic_counts) | set(item_counts)
        )

    if high and topic_levels is not None:
        topic_split = {"high": int(topic_levels.get("high", 0)), "rest": topic_total - int(topic_levels.get("high", 0))}
        if unanswered_small(topic_split, {"high": n_high, "rest": rest}):
            high = False
            suppressed["high"] = SMALL_OVERLAP

    def expertise_group(level: str, *, weighted: bool) -> tuple[float | None, bool | None]:
        # The groups whose sums the released expertise figures pin down: high / the rest (when the high
        # index is shown), each split by weight class (when the weighted index is shown).
        return (rules.weight_of(level) if weighted else None, level == "high" if high else None)

    groups: dict[tuple[float | None, bool | None], int] = {}
    for level, count in levels.items():
        if count:
            key = expertise_group(level, weighted=True)
            groups[key] = groups.get(key, 0) + int(count)
    # Without every answer's expertise level (figures stored before the levels were counted) nothing
    # that rests on the expertise groups can be checked: the layer fails closed.
    levels_known = sum(int(c) for c in levels.values()) == n
    weighted = levels_known and all(big_enough(c, t) for c in groups.values())
    if not weighted:
        suppressed["weighted"] = SMALL_WEIGHT_CLASS
    elif topic_levels is not None:
        topic_groups: dict[Any, int] = {}
        for level, count in topic_levels.items():
            key = expertise_group(level, weighted=True)
            topic_groups[key] = topic_groups.get(key, 0) + int(count)
        if unanswered_small(topic_groups, groups):
            weighted = False
            suppressed["weighted"] = SMALL_OVERLAP
    shown = partition_shown(dict(sectors), t=t, total=n, publishable=SECTOR_GROUPS)
    if any(sectors.get(g) for g in SECTOR_GROUPS if g not in shown):
        suppressed["sectors"] = SMALL_GROUP if not shown else SMALL_COMPLEMENT
    parts = {expertise_group(level, weighted=weighted) for level, count in levels.items() if count}
    if shown and high and not levels_known:
        shown = []
        suppressed["sectors"] = SMALL_OVERLAP
    if shown and len(parts) > 1:
        # Rule 3a: the expertise groups shown and the sectors shown must not cross in a small cell.
        cross: dict[tuple[Any, str], int] = {}
        for (level, sector), count in (cells or {}).items():
            cell = (expertise_group(level, weighted=weighted), sector if sector in shown else "")
            cross[cell] = cross.get(cell, 0) + int(count)
        if cells is None or any(not big_enough(c, t) for c in cross.values()):
            shown = []
            suppressed["sectors"] = SMALL_OVERLAP
    if shown and topic_sectors is not None:
        hidden_topic = topic_total - sum(int(topic_sectors.get(g, 0)) for g in shown)
        hidden_item = n - sum(int(sectors.get(g, 0)) for g in shown)
        blocks_topic = {**{g: int(topic_sectors.get(g, 0)) for g in shown}, "": hidden_topic}
        blocks_item = {**{g: int(sectors.get(g, 0)) for g in shown}, "": hidden_item}
        if unanswered_small(blocks_topic, blocks_item):
            shown = []
            suppressed["sectors"] = SMALL_OVERLAP
    return ItemRelease(all=True, high=high, weighted=weighted, sectors=tuple(shown), suppressed=suppressed)


def stability_release(*, n_before: int, n_after: int, n_paired: int, rules: Rules) -> str | None:
    """None if the round-to-round change of an item may be released (rule 4), else the reason."""
    t = rules.t
    if n_paired < t:
        return SMALL_GROUP
    if not big_enough(n_before - n_paired, t) or not big_enough(n_after - n_paired, t):
        return ATTRITION
    return None


def _subgroup_attrition(
    moves: Any, decision: ItemRelease, rules: Rules, *, levels: Mapping[str, int], sectors: Mapping[str, int]
) -> bool:
    """Rule 4 for the subgroups released beside the change: True when some group shown has 1 … t−1
    respondents who left it or 1 … t−1 who joined it since the previous round (or the moves are unknown
    while the figures shown split this round's respondents into groups)."""
    shown = set(decision.sectors)

    def part(level: str) -> tuple[float | None, bool | None]:
        return (rules.weight_of(level) if decision.weighted else None, level == HIGH if decision.high else None)

    sector_parts = {g if g in shown else "" for g, c in sectors.items() if c} if shown else set()
    split = len({part(level) for level, c in levels.items() if c}) > 1 or len(sector_parts) > 1
    if not (decision.high or decision.weighted or shown) or not split:
        return False
    if not isinstance(moves, Mapping):
        return True

    left: dict[Any, int] = {}
    joined: dict[Any, int] = {}

    def count(kind: str, key: Any, parts: Any) -> None:
        before, _, after = str(key).partition(">")
        a = parts(before) if before else None
        b = parts(after) if after else None
        if a != b:
            if a is not None:
                left[(kind, a)] = left.get((kind, a), 0) + int(moves_of[kind][key])
            if b is not None:
                joined[(kind, b)] = joined.get((kind, b), 0) + int(moves_of[kind][key])

    moves_of = {"levels": dict(moves.get("levels") or {}), "sectors": dict(moves.get("sectors") or {})}
    for key in moves_of["levels"]:
        count("levels", key, part)
    if shown:
        for key in moves_of["sectors"]:
            count("sectors", key, lambda sector: sector if sector in shown else "")
    return any(not big_enough(c, rules.t) for c in (*left.values(), *joined.values()))


def snapshot_due(*, previous: Mapping[Any, str] | None, current: Mapping[Any, str], rules: Rules) -> bool:
    """Whether real-time feedback may be refreshed from ``current`` (rule 5).

    ``previous`` / ``current``: respondent → a key of her answer, at the last snapshot and now.  The
    first snapshot needs ``t`` answers; a later one needs the respondents who answered for the first
    time, those who changed their answer and those who withdrew it to number 0 or at least ``t`` each,
    and at least one of them to be there.
    """
    t = rules.t
    if len(current) < t:
        return False
    if previous is None:
        return True
    new = sum(1 for r in current if r not in previous)
    withdrawn = sum(1 for r in previous if r not in current)
    changed = sum(1 for r in current if r in previous and previous[r] != current[r])
    kinds = (new, changed, withdrawn)
    return any(kinds) and all(big_enough(k, t) for k in kinds)


def since_snapshot_releasable(*, previous: Mapping[Any, str], current: Mapping[Any, str], rules: Rules) -> bool:
    """Whether a real-time round's own figures may be released after experts saw the snapshot of
    ``previous``: the same answers, or a difference the refresh rule would have let out (rule 5)."""
    return dict(previous) == dict(current) or snapshot_due(previous=previous, current=current, rules=rules)


def topic_released(n: int, rules: Rules) -> bool:
    return n >= rules.t


def evidence_sufficient(n: int, rules: Rules) -> bool:
    """A topic with fewer respondents is published only as "insufficient evidence" (SPEC §12)."""
    return n >= max(rules.min_respondents, rules.t)


# ---------------------------------------------------------------------------
# Released figures of an item and of a topic
# ---------------------------------------------------------------------------

ALL = "all"
HIGH = "high"
SECTOR_PREFIX = "sector:"

# Figures of the all-respondent group, by question type (keys of the stored round statistics).
SCALE_FIGURES = ("distribution", "mean", "sd", "median", "q1", "q3", "iqr", "top2", "bottom2", "rwg", "consensus")
YEAR_FIGURES = ("median", "q1", "q3", "iqr", "consensus")
YEAR_SHARES = ("share_already", "share_never")
CHOICE_FIGURES = ("counts", "shares")
# Round-to-round change of a scale item, computed on the paired respondents (aggregation stores them).
CHANGE_FIGURES = (
    "from_round",
    "n_paired",
    "median_before",
    "q1_before",
    "q3_before",
    "iqr_before",
    "median_after",
    "q1_after",
    "q3_after",
    "iqr_after",
    "delta_iqr",
    "share_changed",
    "n_nonzero",
    "wilcoxon_statistic",
    "wilcoxon_p",
    "wilcoxon_method",
)


def _cells(whole: Mapping[str, Any]) -> dict[tuple[str, str], int] | None:
    """Valid answers per (expertise level, sector) as aggregation stores them (``"level|sector": n``)."""
    raw = whole.get("cells")
    if not isinstance(raw, Mapping):
        return None
    out: dict[tuple[str, str], int] = {}
    for key, count in raw.items():
        level, _, sector = str(key).partition("|")
        out[(level, sector)] = int(count)
    return out


def _group_counts(groups: Mapping[str, Mapping[str, Any]]) -> tuple[int, int, dict[str, int], dict[str, int]]:
    whole = groups.get(ALL) or {}
    n = int(whole.get("n") or 0)
    n_high = int((groups.get(HIGH) or {}).get("n") or 0)
    levels = {str(k): int(v) for k, v in (whole.get("levels") or {}).items()}
    sectors = {
        name[len(SECTOR_PREFIX) :]: int(data.get("n") or 0)
        for name, data in groups.items()
        if name.startswith(SECTOR_PREFIX)
    }
    return n, n_high, levels, sectors


def release_item(
    *,
    qtype: str,
    index: bool,
    groups: Mapping[str, Mapping[str, Any]],
    rules: Rules,
    topic: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The figures of one item of one topic in one round that may leave, from its stored group figures.

    ``groups``: group name (``all``, ``high``, ``sector:<name>``) → the figures aggregation stored
    (``RoundStat.data``).  Returns the all-respondent figures of the question type; for index items
    also the high-expertise, expertise-weighted and sector indices; for scale items the change from
    the previous round; ``suppressed`` maps every figure left out to its reason.  ``n`` is the number
    of respondents to the item (valid answers, "can't judge" excluded); ``None`` when suppressed.
    ``topic``: the topic's respondents (``n``, ``levels``, ``sectors`` as the round summary stores them),
    for rule 3b; without it only the all-respondent figures may be shown next to topic-level counts.
    """
    n, n_high, levels, sectors = _group_counts(groups)
    decision = item_release(
        n=n,
        n_high=n_high,
        levels=levels,
        sectors=sectors,
        rules=rules,
        cells=_cells(groups.get(ALL) or {}),
        # A topic given without its counts (stored before they were) fails closed: rule 3b withholds.
        topic_levels=(topic.get("levels") or {}) if topic is not None else None,
        topic_sectors=(topic.get("sectors") or {}) if topic is not None else None,
    )
    if not decision.all:
        return {"n": None, "suppressed": dict(decision.suppressed)}
    whole = groups.get(ALL) or {}
    suppressed: dict[str, str] = {}
    out: dict[str, Any] = {"n": n, "n_cant_judge": int(whole.get("n_cant_judge") or 0)}
    if qtype == "scale":
        out.update({key: whole.get(key) for key in SCALE_FIGURES if key in whole})
        if index:
            out["index"] = whole.get("index")
            out["n_high"] = n_high if decision.high else None
            out["index_high"] = (groups.get(HIGH) or {}).get("index") if decision.high else None
            out["index_weighted"] = whole.get("index_weighted") if decision.weighted else None
            out["sectors"] = {
                g: {"n": sectors[g], "index": (groups.get(SECTOR_PREFIX + g) or {}).get("index")}
                for g in decision.sectors
            }
            for figure, reason in decision.suppressed.items():
                suppressed[{"high": "index_high", "weighted": "index_weighted"}.get(figure, figure)] = reason
        change = whole.get("stability")
        if isinstance(change, Mapping):
            withheld = stability_release(
                n_before=int(change.get("n_before") or 0),
                n_after=n,
                n_paired=int(change.get("n_paired") or 0),
                rules=rules,
            )
            # Subgroup figures are released for index items only: only there can they pin a few movers down.
            if (
                withheld is None
                and index
                and _subgroup_attrition(change.get("moves"), decision, rules, levels=levels, sectors=sectors)
            ):
                withheld = ATTRITION
            if withheld is None:
                out["change"] = {key: change.get(key) for key in CHANGE_FIGURES}
            else:
                out["change"] = None
                suppressed["change"] = withheld
    elif qtype == "year":
        n_years = int(whole.get("n_years") or 0)
        out.update({key: whole.get(key) for key in YEAR_SHARES})
        if big_enough(n_years, rules.t):  # 0 years: nothing to summarise, nothing hidden
            out["n_years"] = n_years
            out.update({key: whole.get(key) for key in YEAR_FIGURES})
        else:
            out["n_years"] = None
            suppressed["years"] = SMALL_GROUP
    elif qtype in ("single", "multi"):
        out.update({key: whole.get(key) for key in CHOICE_FIGURES})
    out["suppressed"] = suppressed
    return out


def release_topic(*, summary: Mapping[str, Any], rules: Rules) -> dict[str, Any]:
    """Respondents to a topic in one round, by expertise level and by sector, as far as they may leave.

    ``summary``: ``n`` (respondents to the topic), ``levels`` (per expertise level, ``none`` for no
    expertise answer) and ``sectors`` (per sector).  The expertise counts are the expertise item's
    own distribution over a released group; sectors follow complementary suppression.
    """
    n = int(summary.get("n") or 0)
    if not topic_released(n, rules):
        return {"n": None, "suppressed": {"all": SMALL_GROUP}}
    levels = {str(k): int(v) for k, v in (summary.get("levels") or {}).items()}
    sectors = {str(k): int(v) for k, v in (summary.get("sectors") or {}).items()}
    shown = partition_shown(sectors, t=rules.t, total=n, publishable=SECTOR_GROUPS)
    out: dict[str, Any] = {
        "n": n,
        "by_expertise": {level: levels.get(level, 0) for level in (*LEVELS, NO_LEVEL)},
        "by_sector": {g: sectors[g] for g in shown},
        "other_sectors": n - sum(sectors[g] for g in shown),
        "suppressed": {},
    }
    if any(sectors.get(g) for g in SECTOR_GROUPS if g not in shown):
        out["suppressed"]["by_sector"] = SMALL_GROUP if not shown else SMALL_COMPLEMENT
    return out


# The tier of a topic below the minimum evidence (``priorities.models.Tier.INSUFFICIENT``).
INSUFFICIENT_TIER = "insufficient"
