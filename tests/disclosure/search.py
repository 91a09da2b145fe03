"""An exhaustive search for what released figures disclose, written independently of ``foresight.disclosure``.

Nothing here imports the disclosure layer.  The search reads only what a viewer is shown (the dict
``release_item`` returns, two rounds' figures, real-time snapshots) plus what the attacker is
assumed to know besides, and enumerates every panel that could have produced it.

Attacker model
--------------
The attacker sees exactly the released figures; knows the scale (values 1..5), the expertise weights
(and that a respondent without an expertise answer weighs like "medium"); and — the *strong* attacker
used unless a function says otherwise — the number of valid answers in every expertise level and in
every sector, even where the layer hides them (the topic pages publish respondents by expertise; a
panel register may publish sectors).  ``search_joint(cells=...)`` models a still stronger attacker who
knows the size of every level × sector cell; ``search_expertise(levels=None)`` a weaker one who
knows only the released sizes.

A *world* is any panel consistent with all of that: per *cell* (an expertise level, a sector, a
level × sector cell) a count of answers of each value 1..5, such that the cells add up to the released
all-group distribution, every known size is matched, and every released index recomputes to the
released value (``|Δ| ≤ 1e-9``; the weighted index with exact rational weights, 0.6 = 3/5).  The
all-group figures other than the distribution (mean, sd, quartiles, top-2, r_wg, consensus, index)
are functions of the distribution and so the same in every world; ``item_facts`` checks the mean and
the index against it and refuses any released key it does not model, so a new figure cannot slip
past the search unexamined.

Two rounds (``search_rounds``): each round's released distribution and, where the change is
released, the stayers' paired before / after distributions and how many of them changed (stronger
than the medians, quartiles, share changed and Wilcoxon statistic shown, which are functions of the
paired table); the strong attacker knows how many left, joined and stayed.  A world: the stayers'
(before, after) table, the leavers' and the joiners' answers.

Real-time feedback (``search_realtime``): a respondent sees the snapshots, knows her own answers,
the panel size and the refresh rule (a snapshot was due when taken and not due just before its last
event), but not who answered when.  A world: every other respondent's answer at every snapshot.

A *group* is a union of cells: any union of expertise levels, any union of sectors, a single level ×
sector cell; for two rounds the leavers, the joiners, the stayers (before / after) and each round's
respondents; for real-time feedback the sets of *other* respondents the viewer can name by time —
those with one history (answer or none, changed or not, at each snapshot), and per snapshot those
who had an answer, changed, joined, left, switched or kept theirs.  A group is
*determined* if its size and its value sum (equivalently its code sum, code = value − 3) are the same
in every world.  It *violates* the rule if it is determined, ``0 < size < t``, and the determination
does not follow merely from a released group of ``≥ t`` respondents who all gave the same answer —
group-attribute disclosure of such a group is inherent in publishing it.  That exemption is detected
as: ``g ⊆ G`` for a determined group ``G`` with ``|G| ≥ t`` that is *one-valued*, i.e. in every world
all members of ``G`` gave one and the same answer.  (With a sum as the only figure of ``G`` this means
its sum is ``|G|·1`` or ``|G|·5`` — or ``|G|`` times the lowest or highest value the released
distribution contains at all; where the search carries value counts it checks one-valuedness
directly.)  ``t = k + 1`` for figures anyone sees; for a real-time viewer who is herself a respondent
the groups are sets of *other* respondents and the threshold is ``k`` others (a group is also exempt
at a later snapshot if it sat in such a one-valued group at an earlier one and none of it changed).

Search
------
Exhaustive, no sampling.  ``_walk`` goes through the cells in order, each time choosing the cell's
vector of value counts out of what remains of the released distribution, and carries only what the
constraints still need: the remaining distribution, partial sizes and sums of the released groups,
the partial weighted numerator and denominator (pruned against what the cells still to come can
add), and whatever the caller collects.  States that agree on all of that are merged, so the work
grows with the number of distinct partial figures rather than with the number of panels; a
constraint is checked as soon as its last cell is chosen.

``project_all`` collects every world in one walk.  Cells that no released figure tells apart (same
known size facts, same released sums, same weight) are merged into one block whose value counts are
carried: any arrangement inside a block is a world, so a group holding part of a block takes any
part of the right size.  ``project`` is the plain alternative, one walk per group, kept as an
independent check of the block merging.  With cell sizes unknown (``search_joint`` without
``cells``) the search enumerates every table of cell sizes that fits the known level and sector
sizes and unions the worlds of each.  Two rounds enumerate the stayers' vectors within each round's
distribution; real-time feedback walks the snapshots carrying the multiset of the others'
trajectories (respondents with the same history are interchangeable), and the refresh rule is asked
about each candidate step.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache, lru_cache
from typing import Any

VALUES = (1, 2, 3, 4, 5)
LOW, HIGH_VALUE = VALUES[0], VALUES[-1]
MID = (LOW + HIGH_VALUE) // 2
LEVELS = ("high", "medium", "low", "none")
SECTORS = ("company", "university", "public_research", "government", "other")
TOLERANCE = Fraction(1, 10**9)

Group = frozenset[str]
Pairs = set[tuple[int, int]]

# Keys of the all-group figures that are functions of its distribution (the same in every world).
DISTRIBUTION_FIGURES = frozenset(
    {"mean", "sd", "median", "q1", "q3", "iqr", "top2", "bottom2", "rwg", "consensus", "index"}
)
MODELLED_KEYS = DISTRIBUTION_FIGURES | {
    "n",
    "n_cant_judge",
    "distribution",
    "n_high",
    "index_high",
    "index_weighted",
    "sectors",
    "suppressed",
    "change",
}


class UnmodelledFigure(AssertionError):
    """The release holds a figure the search does not model (so it cannot vouch for it)."""


# ---------------------------------------------------------------------------
# Exact arithmetic of the released figures
# ---------------------------------------------------------------------------


def index_of(n: int, total: int) -> Fraction:
    """The exact 0–100 index of ``n`` answers with value sum ``total``: 25·(mean code + 2)."""
    return 25 * (Fraction(total - MID * n, n) + 2)


def close(exact: Fraction, released: float) -> bool:
    return abs(exact - Fraction(released)) <= TOLERANCE


def sum_from_index(n: int, released: float) -> int:
    """The value sum of ``n`` answers whose index was released as ``released`` (unique: steps of 25/n)."""
    candidate = round(n * (released / 25 + 1))
    for total in (candidate - 1, candidate, candidate + 1):
        if LOW * n <= total <= HIGH_VALUE * n and close(index_of(n, total), released):
            return total
    raise AssertionError(f"no value sum of {n} answers gives the released index {released!r}")


def integer_weights(weights: Mapping[str, float]) -> dict[str, int]:
    """Expertise weights as exact integers (0.6 → 3/5, all multiplied by the common denominator)."""
    exact = {level: Fraction(str(w)) for level, w in weights.items()}
    scale = math.lcm(*(w.denominator for w in exact.values())) if exact else 1
    return {level: int(w * scale) for level, w in exact.items()}


def level_weights(weights: Mapping[str, float]) -> dict[str, int]:
    """Integer weight of every level of ``LEVELS``; no expertise answer weighs like "medium"."""
    ints = integer_weights(weights)
    return {level: ints.get(level, ints.get("medium", 0)) for level in LEVELS}


def vector(distribution: Mapping[str, int] | Sequence[int]) -> tuple[int, ...]:
    """Value counts 1..5 from a released distribution ({"1": c1, …}) or a sequence."""
    if isinstance(distribution, Mapping):
        return tuple(int(distribution.get(str(v), 0)) for v in VALUES)
    return tuple(int(c) for c in distribution)


def vsum(v: Sequence[int]) -> int:
    """Value sum of a vector of value counts."""
    return sum(c * x for c, x in zip(v, VALUES, strict=True))


def support(v: Sequence[int]) -> frozenset[int]:
    return frozenset(x for x, c in zip(VALUES, v, strict=True) if c)


def _vectors(size: int) -> list[tuple[int, ...]]:
    """Every vector of value counts of the given size."""
    out = []
    for v in itertools.product(range(size + 1), repeat=len(VALUES) - 1):
        if sum(v) <= size:
            out.append((*v, size - sum(v)))
    return out


# ---------------------------------------------------------------------------
# Outcome of a search: determination and violations
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    group: str
    size: int
    total: int

    def __str__(self) -> str:
        return f"{self.group}: size {self.size} and value sum {self.total} in every world"


@dataclass
class Outcome:
    """Per group: its atoms, every (size, sum) over the worlds, whether it is one-valued; the violations."""

    groups: dict[str, Group]
    pairs: dict[str, Pairs]
    one_valued: dict[str, bool]
    t: int
    empty: frozenset[str] = frozenset()
    violations: list[Violation] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.violations = violations(self.pairs, self.groups, t=self.t, one_valued=self.one_valued, empty=self.empty)

    def determined(self, name: str) -> tuple[int, int] | None:
        seen = self.pairs[name]
        return next(iter(seen)) if len(seen) == 1 else None

    def violated(self) -> set[str]:
        return {v.group for v in self.violations}


def violations(
    pairs: Mapping[str, Pairs],
    groups: Mapping[str, Group],
    *,
    t: int,
    one_valued: Mapping[str, bool],
    empty: Iterable[str] = (),
) -> list[Violation]:
    """Determined groups of 1 … t−1 respondents not inside a determined one-valued group of ≥ t.

    ``pairs``: group → every (size, sum) over the worlds; ``groups``: group → its atoms (cells);
    ``one_valued``: group → whether every world has all its members at one value; ``empty``: atoms
    that hold nobody in any world (left out before comparing).
    """
    gone = frozenset(empty)
    for name, seen in pairs.items():
        if not seen:
            raise AssertionError(f"no world at all for {name}: the search lost the true panel")
    determined = {name: next(iter(seen)) for name, seen in pairs.items() if len(seen) == 1}
    covering = [groups[name] - gone for name, (size, _) in determined.items() if size >= t and one_valued[name]]
    out = []
    for name, (size, total) in sorted(determined.items()):
        if 0 < size < t and not any(groups[name] - gone <= big for big in covering):
            out.append(Violation(name, size, total))
    return out


def unions(atoms: Sequence[str], prefix: str = "") -> dict[str, Group]:
    """Every non-empty union of ``atoms``, named by its members joined with ``+``."""
    out = {}
    for size in range(1, len(atoms) + 1):
        for combo in itertools.combinations(atoms, size):
            out[prefix + "+".join(combo)] = frozenset(combo)
    return out


# ---------------------------------------------------------------------------
# The cell engine
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """What the attacker knows, over cells that partition the respondents of one item.

    ``distribution``: the released all-group counts of values 1..5.  ``fixed``: cells whose size the
    attacker knows.  ``sizes``: known sizes of unions of cells.  ``sums``: released (size, value sum)
    of unions of cells.  ``weighted``: integer weight per cell and the released weighted index.
    """

    distribution: tuple[int, ...]
    cells: tuple[str, ...]
    fixed: Mapping[str, int] = field(default_factory=dict)
    sizes: tuple[tuple[Group, int], ...] = ()
    sums: tuple[tuple[Group, int, int], ...] = ()
    weighted: tuple[Mapping[str, int], float] | None = None

    @property
    def n(self) -> int:
        return sum(self.distribution)


def _split(r: tuple[int, ...], size: int | None) -> list[tuple[int, int, tuple[int, ...]]]:
    """Every vector of value counts ``v ≤ r`` (of the given size, if any), as (size, value sum, r − v)."""
    out: list[tuple[int, int, tuple[int, ...]]] = []
    last = len(r) - 1

    def rec(i: int, taken: int, total: int, rest: tuple[int, ...]) -> None:
        if i == last:
            counts: Iterable[int] = range(r[i] + 1) if size is None else (size - taken,)
            for c in counts:
                if 0 <= c <= r[i]:
                    out.append((taken + c, total + c * VALUES[i], (*rest, r[i] - c)))
            return
        room = r[i] if size is None else min(r[i], size - taken)
        for c in range(room + 1):
            rec(i + 1, taken + c, total + c * VALUES[i], (*rest, r[i] - c))

    rec(0, 0, 0, ())
    return out


@lru_cache(maxsize=1 << 16)
def _subvectors(r: tuple[int, ...]) -> tuple[tuple[int, int, tuple[int, ...]], ...]:
    """Every vector of value counts ``v ≤ r``, as (size, value sum, r − v)."""
    return tuple(_split(r, None))


@lru_cache(maxsize=1 << 16)
def _subvectors_of_size(r: tuple[int, ...], size: int) -> tuple[tuple[int, int, tuple[int, ...]], ...]:
    return tuple(_split(r, size))


Keep = Callable[[int, int, int, tuple[int, ...], tuple[int, ...], tuple[Any, ...]], tuple[Any, ...]]


def _walk(problem: Problem, keep: Keep) -> set[tuple[Any, ...]]:
    """The dynamic programme behind ``project`` and ``worlds``.

    ``keep(i, size, total, r, rest, carried)`` folds cell ``i``'s choice (its size and value sum;
    its value counts are ``r − rest``) into what the caller carries through the walk (a target's
    partial figures, or every cell's); returns the carried values of every world.
    """
    cells = problem.cells
    last = {c: i for i, c in enumerate(cells)}
    # Trackers: (cells, kind, expected) with kind "n" (one slot: size) or "ns" (two slots: size, sum).
    trackers: list[tuple[Group, str, tuple[int, ...]]] = []
    for group, size in problem.sizes:
        trackers.append((group, "n", (size,)))
    for group, size, total in problem.sums:
        trackers.append((group, "ns", (size, total)))
    slots = [1 if kind == "n" else 2 for _, kind, _ in trackers]
    offsets = [sum(slots[:i]) for i in range(len(slots))]
    closes = [max(last[c] for c in group) for group, _, _ in trackers]
    wmap = problem.weighted[0] if problem.weighted else {}
    # With every size known, the weighted index fixes the weighted value sum N = Σ w·S exactly, and
    # each partial N is pruned against what the cells still to come can add.
    target_n: int | None = None
    room: list[tuple[int, int]] = []
    if problem.weighted is not None and all(c in problem.fixed for c in cells):
        m = sum(wmap.get(c, 0) * problem.fixed[c] for c in cells)
        exact = (
            [
                x
                for x in range(LOW * m, HIGH_VALUE * m + 1)
                if close(25 * (Fraction(x, m) - (MID - 2)), problem.weighted[1])
            ]
            if m
            else []
        )
        if not exact:
            return set()
        target_n = exact[0]
        for i in range(len(cells)):
            later = sum(wmap.get(c, 0) * problem.fixed[c] for c in cells[i + 1 :])
            room.append((LOW * later, HIGH_VALUE * later))

    # state: (remaining distribution, tracker slots, weighted numerator, weighted denominator, carried)
    states: set[tuple[tuple[int, ...], tuple[int, ...], int, int, tuple[Any, ...]]] = {
        (problem.distribution, (0,) * sum(slots), 0, 0, ())
    }
    final = len(cells) - 1
    for i, cell in enumerate(cells):
        fixed = problem.fixed.get(cell)
        members = [j for j, (group, _, _) in enumerate(trackers) if cell in group]
        w = wmap.get(cell, 0)
        nxt = set()
        for r, row0, wn, wm, carried in states:
            if i == final:
                choices: Iterable[tuple[int, int, tuple[int, ...]]] = ((sum(r), vsum(r), (0,) * len(r)),)
            elif fixed is not None:
                choices = _subvectors_of_size(r, fixed)
            else:
                choices = _subvectors(r)
            for size, total, rest in choices:
                if fixed is not None and size != fixed:
                    continue
                row = list(row0)
                ok = True
                for j in members:
                    o = offsets[j]
                    _, kind, expected = trackers[j]
                    row[o] += size
                    if row[o] > expected[0]:
                        ok = False
                        break
                    if kind == "ns":
                        row[o + 1] += total
                        missing = expected[0] - row[o]
                        if not row[o + 1] + LOW * missing <= expected[1] <= row[o + 1] + HIGH_VALUE * missing:
                            ok = False
                            break
                    if closes[j] == i:
                        if row[o] != expected[0] or (kind == "ns" and row[o + 1] != expected[1]):
                            ok = False
                            break
                        row[o] = 0
                        if kind == "ns":
                            row[o + 1] = 0
                if ok and target_n is not None:
                    wn_new = wn + w * total
                    ok = wn_new + room[i][0] <= target_n <= wn_new + room[i][1]
                if ok:
                    nxt.add((rest, tuple(row), wn + w * total, wm + w * size, keep(i, size, total, r, rest, carried)))
        states = nxt
    out: set[tuple[Any, ...]] = set()
    for r, _, wn, wm, carried in states:
        if any(r):
            continue
        if problem.weighted is not None:
            if wm == 0 or not close(25 * (Fraction(wn, wm) - (MID - 2)), problem.weighted[1]):
                continue
        out.add(carried)
    return out


def project(problem: Problem, target: Iterable[str]) -> Pairs:
    """Every (size, value sum) the union of cells ``target`` has in some world of ``problem``.

    One walk carrying only the target's partial size and sum (no block merging): the independent
    check of ``project_all``."""
    inside = [c in frozenset(target) for c in problem.cells]

    def keep(i: int, size: int, total: int, r: Any, rest: Any, carried: tuple[Any, ...]) -> tuple[Any, ...]:
        n, s = carried or (0, 0)
        return (n + size, s + total) if inside[i] else (n, s)

    return {(int(n), int(s)) for n, s in _walk(problem, keep)}


@lru_cache(maxsize=1 << 16)
def _part_sums(v: tuple[int, ...], size: int) -> frozenset[int]:
    """Value sums of every part of ``size`` answers out of the value counts ``v``."""
    return frozenset(total for _, total, _ in _split(v, size))


def _blocks(problem: Problem) -> list[list[str]]:
    """Cells the released figures cannot tell apart: known size, in exactly the same size and sum
    facts, the same weight.  Within such a block any arrangement of its answers is a world."""
    signature: dict[tuple[Any, ...], list[str]] = {}
    for c in problem.cells:
        if c not in problem.fixed:
            signature[("alone", c)] = [c]
            continue
        key = (
            tuple(c in g for g, _ in problem.sizes),
            tuple(c in g for g, _, _ in problem.sums),
            problem.weighted[0].get(c, 0) if problem.weighted else None,
        )
        signature.setdefault(key, []).append(c)
    return list(signature.values())


def project_all(problem: Problem, groups: Mapping[str, Group]) -> tuple[dict[str, Pairs], dict[str, bool]]:
    """(size, sum) pairs of every group over every world, and whether it is one-valued (in every
    world all its members gave one and the same answer).  One walk, indistinguishable cells merged."""
    blocks = _blocks(problem)
    names = tuple("|".join(b) for b in blocks)
    of_cell = {c: i for i, b in enumerate(blocks) for c in b}
    order = sorted(range(len(blocks)), key=lambda i: problem.cells.index(blocks[i][0]))
    merged = Problem(
        distribution=problem.distribution,
        cells=tuple(names[i] for i in order),
        fixed={names[i]: sum(problem.fixed[c] for c in b) for i, b in enumerate(blocks) if b[0] in problem.fixed},
        sizes=tuple((frozenset(names[of_cell[c]] for c in g), n) for g, n in problem.sizes),
        sums=tuple((frozenset(names[of_cell[c]] for c in g), n, total) for g, n, total in problem.sums),
        weighted=(
            ({names[i]: problem.weighted[0].get(b[0], 0) for i, b in enumerate(blocks)}, problem.weighted[1])
            if problem.weighted
            else None
        ),
    )
    position = {name: i for i, name in enumerate(merged.cells)}

    def keep(i: int, size: int, total: int, r: Any, rest: Any, carried: tuple[Any, ...]) -> tuple[Any, ...]:
        return (*carried, tuple(a - b for a, b in zip(r, rest, strict=True)))

    # For each group and block it touches: -1 if it holds the whole block, else how many answers of it.
    plan: dict[str, list[tuple[int, int]]] = {}
    for name, cells in groups.items():
        parts = []
        for i, b in enumerate(blocks):
            inside = [c for c in b if c in cells]
            if inside:
                held = -1 if len(inside) == len(b) else sum(problem.fixed[c] for c in inside)
                parts.append((position[names[i]], held))
        plan[name] = parts
    pairs: dict[str, Pairs] = {name: set() for name in groups}
    one: dict[str, bool] = {name: True for name in groups}
    for world in _walk(merged, keep):
        for name, parts in plan.items():
            size, whole_sum = 0, 0
            partial: list[frozenset[int]] = []
            seen: set[int] = set()
            for at, held in parts:
                v = world[at]
                if held < 0:
                    size += sum(v)
                    whole_sum += vsum(v)
                elif held:
                    size += held
                    partial.append(_part_sums(v, held))
                if held:
                    seen |= support(v)
            totals = {whole_sum}
            for options in partial:
                totals = {a + b for a in totals for b in options}
            pairs[name].update((size, total) for total in totals)
            if size > 1 and len(seen) > 1:
                one[name] = False
    return pairs, one


def one_valued_by_sum(pairs: Mapping[str, Pairs], distribution: Sequence[int]) -> dict[str, bool]:
    """One-valuedness as far as a (size, sum) shows it: the sum is the size times the lowest or the
    highest value the distribution holds (used where the search carries no value counts)."""
    present = sorted(support(distribution)) or [LOW]
    lo, hi = present[0], present[-1]
    out = {}
    for name, seen in pairs.items():
        (size, total), *more = sorted(seen)
        out[name] = not more and (size <= 1 or total in (lo * size, hi * size))
    return out


def search_cells(problem: Problem, groups: Mapping[str, Group], *, t: int, one_walk: bool = True) -> Outcome:
    """Every group's (size, sum) over the worlds of ``problem`` (single cells included as
    ``cell:<name>``) and the violations.  ``one_walk=False``: one plain walk per group instead."""
    everything = {**{"cell:" + c: frozenset({c}) for c in problem.cells}, **groups}
    if one_walk:
        pairs, one = project_all(problem, everything)
    else:
        pairs = {name: project(problem, cells) for name, cells in everything.items()}
        one = one_valued_by_sum(pairs, problem.distribution)
    empty = frozenset(c for c in problem.cells if pairs["cell:" + c] == {(0, 0)})
    return Outcome(groups=everything, pairs=pairs, one_valued=one, t=t, empty=empty)


# ---------------------------------------------------------------------------
# One item: what release_item returned, as constraints
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFacts:
    """The released figures of one scale index item that constrain worlds."""

    n: int
    distribution: tuple[int, ...]
    high: tuple[int, int] | None  # (n_high, value sum of the high group)
    weighted: float | None
    sectors: dict[str, tuple[int, int]]  # shown sector → (n, value sum)


def item_facts(released: Mapping[str, Any]) -> ItemFacts | None:
    """Read the released dict; ``None`` when nothing was released.  Refuses unmodelled figures."""
    unknown = set(released) - MODELLED_KEYS
    if unknown:
        raise UnmodelledFigure(f"released figures the search does not model: {sorted(unknown)}")
    if released.get("n") is None:
        if {key for key, value in released.items() if value} - {"suppressed"}:
            raise UnmodelledFigure(f"figures released with n suppressed: {sorted(released)}")
        return None
    n = int(released["n"])
    dist = vector(released["distribution"])
    if sum(dist) != n:
        raise AssertionError(f"released distribution {dist} does not add up to n = {n}")
    if n and released.get("index") is not None and not close(index_of(n, vsum(dist)), released["index"]):
        raise AssertionError("released index is not the index of the released distribution")
    if n and released.get("mean") is not None and abs(released["mean"] - vsum(dist) / n) > 1e-9:
        raise AssertionError("released mean is not the mean of the released distribution")
    high = None
    if released.get("index_high") is not None:
        n_high = int(released["n_high"])
        high = (n_high, sum_from_index(n_high, released["index_high"]))
    sectors = {}
    for name, figures in (released.get("sectors") or {}).items():
        if set(figures) - {"n", "index"}:
            raise UnmodelledFigure(f"sector {name} releases {sorted(figures)}")
        sectors[name] = (int(figures["n"]), sum_from_index(int(figures["n"]), figures["index"]))
    return ItemFacts(n=n, distribution=dist, high=high, weighted=released.get("index_weighted"), sectors=sectors)


def _order(cells: Sequence[str], constrained: Iterable[str], sizes: Mapping[str, int]) -> tuple[str, ...]:
    """Cells with a released figure first (they prune the walk early), then the rest by size, the
    largest last (the last cell takes what remains: a single choice)."""
    first = [c for c in cells if c in set(constrained)]
    rest = sorted((c for c in cells if c not in first), key=lambda c: (sizes.get(c, 0), cells.index(c)))
    return (*first, *rest)


def search_expertise(
    facts: ItemFacts, *, weights: Mapping[str, float], levels: Mapping[str, int] | None, t: int
) -> Outcome:
    """Cells = expertise levels; groups = every union of levels.  ``levels``: every level's size
    (strong attacker) or None (only the released sizes: n, and n_high if shown)."""
    sums = [(frozenset({"high"}), *facts.high)] if facts.high is not None else []
    problem = Problem(
        distribution=facts.distribution,
        cells=_order(LEVELS, ["high"] if facts.high else [], levels or {}),
        fixed=dict(levels) if levels is not None else {},
        sums=tuple(sums),
        weighted=(level_weights(weights), facts.weighted) if facts.weighted is not None else None,
    )
    return search_cells(problem, unions(LEVELS), t=t, one_walk=levels is not None)


def search_sectors(facts: ItemFacts, *, sectors: Mapping[str, int], t: int) -> Outcome:
    """Cells = sectors, every sector's size known; groups = every union of sectors."""
    sums = tuple((frozenset({name}), size, total) for name, (size, total) in facts.sectors.items())
    sizes = {s: int(sectors.get(s, 0)) for s in SECTORS}
    problem = Problem(
        distribution=facts.distribution, cells=_order(SECTORS, facts.sectors, sizes), fixed=sizes, sums=sums
    )
    return search_cells(problem, unions(SECTORS), t=t)


def cell_name(level: str, sector: str) -> str:
    return f"{level}×{sector}"


def _size_tables(
    levels: Mapping[str, int], sectors: Mapping[str, int], used: Sequence[str]
) -> Iterator[dict[tuple[str, str], int]]:
    """Every table of level × sector sizes with the given level and sector sizes."""

    def rec(i: int, left: tuple[int, ...], table: dict[tuple[str, str], int]) -> Iterator[dict[tuple[str, str], int]]:
        if i == len(LEVELS):
            if not any(left):
                yield dict(table)
            return
        level = LEVELS[i]
        for split in itertools.product(*(range(min(x, levels.get(level, 0)) + 1) for x in left)):
            if sum(split) != levels.get(level, 0):
                continue
            for s, x in zip(used, split, strict=True):
                table[(level, s)] = x
            yield from rec(i + 1, tuple(a - b for a, b in zip(left, split, strict=True)), table)

    yield from rec(0, tuple(int(sectors[s]) for s in used), {})


def search_joint(
    facts: ItemFacts,
    *,
    weights: Mapping[str, float],
    levels: Mapping[str, int],
    sectors: Mapping[str, int],
    t: int,
    cells: Mapping[tuple[str, str], int] | None = None,
) -> Outcome:
    """Cells = level × sector.  The attacker knows every level's and every sector's size and, with
    ``cells``, every cell's; without it every table of cell sizes fitting those margins is tried
    and the worlds of all of them united.  Groups: unions of levels, unions of sectors, single cells."""
    used = [s for s in SECTORS if sectors.get(s)]
    grid = tuple(cell_name(level, s) for level in LEVELS for s in used)
    of_level = {level: frozenset(cell_name(level, s) for s in used) for level in LEVELS}
    of_sector = {s: frozenset(cell_name(level, s) for level in LEVELS) for s in used}
    sums = []
    if facts.high is not None:
        sums.append((of_level["high"], *facts.high))
    for name, (size, total) in facts.sectors.items():
        sums.append((of_sector[name], size, total))
    weighted = None
    if facts.weighted is not None:
        lw = level_weights(weights)
        weighted = ({cell_name(level, s): lw[level] for level in LEVELS for s in used}, facts.weighted)
    groups: dict[str, Group] = {}
    for name, members in unions(LEVELS).items():
        groups["levels:" + name] = frozenset().union(*(of_level[level] for level in members))
    for name, members in unions(used).items():
        groups["sectors:" + name] = frozenset().union(*(of_sector[s] for s in members))
    tables = [dict(cells)] if cells is not None else list(_size_tables(levels, sectors, used))
    everything = {**{"cell:" + c: frozenset({c}) for c in grid}, **groups}
    pairs: dict[str, Pairs] = {name: set() for name in everything}
    one: dict[str, bool] = {name: True for name in everything}
    for table in tables:
        problem = Problem(
            distribution=facts.distribution,
            cells=grid,
            fixed={cell_name(level, s): int(table.get((level, s), 0)) for level in LEVELS for s in used},
            sums=tuple(sums),
            weighted=weighted,
        )
        found, flags = project_all(problem, everything)
        for name in everything:
            pairs[name] |= found[name]
            if found[name]:
                one[name] = one[name] and flags[name]
    empty = frozenset(c for c in grid if pairs["cell:" + c] == {(0, 0)})
    return Outcome(groups=everything, pairs=pairs, one_valued=one, t=t, empty=empty)


# ---------------------------------------------------------------------------
# Two rounds
# ---------------------------------------------------------------------------

# Atoms: the leavers' round-1 answers, the joiners' round-2 answers, the stayers' answers in each round.
ROUND_GROUPS: dict[str, Group] = {
    "leavers": frozenset({"L"}),
    "joiners": frozenset({"J"}),
    "stayers_before": frozenset({"Sb"}),
    "stayers_after": frozenset({"Sa"}),
    "round1": frozenset({"L", "Sb"}),
    "round2": frozenset({"J", "Sa"}),
}


@dataclass(frozen=True)
class RoundsView:
    """What a viewer of two rounds of one item knows.  Distributions are value-count vectors; None
    where not released.

    ``change``: the paired before and after distributions and the number of stayers who changed
    their answer — modelled stronger than the product's figures (medians, quartiles, share changed,
    Wilcoxon statistic), which are functions of the paired table.  ``leavers``, ``joiners``,
    ``stayers``: sizes, known to the strong attacker.
    """

    round1: tuple[int, ...] | None
    round2: tuple[int, ...] | None
    change: tuple[tuple[int, ...], tuple[int, ...], int] | None
    leavers: int
    joiners: int
    stayers: int


def _table_exists(before: tuple[int, ...], after: tuple[int, ...], changed: int) -> bool:
    """Is there a stayers' (before, after) table with these margins and ``changed`` off the diagonal?"""

    @cache
    def fill(row: int, cols: tuple[int, ...], off: int) -> bool:
        if row == len(before):
            return not any(cols) and off == changed
        for size, _, rest in _split(cols, before[row]):
            take = tuple(a - b for a, b in zip(cols, rest, strict=True))
            moved = size - take[row]
            if off + moved <= changed and fill(row + 1, rest, off + moved):
                return True
        return False

    return sum(before) == sum(after) and fill(0, after, 0)


def _side(
    released: tuple[int, ...] | None, fixed: tuple[int, ...] | None, stayers: int, others: int
) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """One round's worlds as (stayers' vector, leavers' or joiners' vector)."""
    if fixed is not None:
        stay = [fixed]
    elif released is not None:
        stay = [tuple(a - b for a, b in zip(released, rest, strict=True)) for _, _, rest in _split(released, stayers)]
    else:
        stay = _vectors(stayers)
    out = []
    for s in stay:
        if released is not None:
            rest = tuple(a - b for a, b in zip(released, s, strict=True))
            if min(rest) >= 0 and sum(rest) == others:
                out.append((s, rest))
        else:
            # Not released: any answers at all; one vector per (sum, support size ≤ 1 or not) suffices.
            kinds: dict[tuple[int, bool], tuple[int, ...]] = {}
            for v in _vectors(others):
                kinds.setdefault((vsum(v), len(support(v)) <= 1), v)
            out.extend((s, v) for v in kinds.values())
    return out


def search_rounds(view: RoundsView, *, t: int) -> Outcome:
    """(size, value sum) of every two-round group over every world of ``view``, and the violations."""
    befores = _side(view.round1, view.change[0] if view.change else None, view.stayers, view.leavers)
    afters = _side(view.round2, view.change[1] if view.change else None, view.stayers, view.joiners)
    if view.change is not None:
        befores = [(b, x) for b, x in befores for a, _ in afters if _table_exists(b, a, view.change[2])]
        afters = [(a, y) for a, y in afters if any(_table_exists(b, a, view.change[2]) for b, _ in befores)]
    pairs: dict[str, Pairs] = {name: set() for name in ROUND_GROUPS}
    one: dict[str, bool] = {name: True for name in ROUND_GROUPS}

    def note(name: str, v: tuple[int, ...]) -> None:
        pairs[name].add((sum(v), vsum(v)))
        if sum(v) > 1 and len(support(v)) > 1:
            one[name] = False

    for stay, left in befores:
        note("leavers", left)
        note("stayers_before", stay)
        note("round1", tuple(a + b for a, b in zip(stay, left, strict=True)))
    for stay, joined in afters:
        note("joiners", joined)
        note("stayers_after", stay)
        note("round2", tuple(a + b for a, b in zip(stay, joined, strict=True)))
    return Outcome(groups=dict(ROUND_GROUPS), pairs=pairs, one_valued=one, t=t)


# ---------------------------------------------------------------------------
# Real-time feedback seen by one respondent
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One answer event: ``who`` answered or changed her answer to ``value`` (None: withdrew it)."""

    who: int
    value: int | None


@dataclass(frozen=True)
class Snapshot:
    after_event: int  # index of the event after which the snapshot was refreshed
    distribution: tuple[int, ...]


Refresh = Callable[[dict[int, str] | None, dict[int, str]], bool]


def replay(events: Sequence[Event], refresh: Refresh) -> list[Snapshot]:
    """The snapshots a product with the refresh rule ``refresh(previous, current)`` shows
    (respondent → answer key maps, ``previous`` None before the first snapshot)."""
    current: dict[int, int] = {}
    previous: dict[int, str] | None = None
    shots = []
    for i, event in enumerate(events):
        if event.value is None:
            current.pop(event.who, None)
        else:
            current[event.who] = event.value
        keys = {who: str(v) for who, v in current.items()}
        if refresh(previous, keys):
            previous = keys
            shots.append(Snapshot(i, tuple(sum(1 for v in current.values() if v == x) for x in VALUES)))
    return shots


@dataclass
class RealtimeOutcome:
    """Per snapshot (event index): every set of others present then → its value sums over the
    worlds, and whether it is one-valued; the violations (snapshot, set, sum)."""

    others: list[int]
    sums: dict[int, dict[frozenset[int], set[int]]]
    one_valued: dict[int, dict[frozenset[int], bool]]
    k: int
    violations: list[tuple[int, frozenset[int], int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for at, sums in sorted(self.sums.items()):
            determined = {g: next(iter(s)) for g, s in sums.items() if len(s) == 1}
            covering = [g for g in determined if len(g) >= self.k and self.one_valued[at][g]]
            for g, total in sorted(determined.items(), key=lambda item: (len(item[0]), sorted(item[0]))):
                if len(g) < self.k and not any(g <= big for big in covering):
                    self.violations.append((at, g, total))


def search_realtime_identified(
    *,
    viewer: int,
    events: Sequence[Event],
    snapshots: Sequence[Snapshot],
    refresh: Refresh | None,
    k: int,
    resave: bool = False,
) -> RealtimeOutcome:
    """What a respondent learns from the snapshots if she also knows *who* acted at each event.

    A stronger attacker than ``search_realtime`` (beyond the product's own disclosure): the viewer
    knows her own events (with their values); who else acted at each event and whether it
    was an answer or a withdrawal (not the value); every snapshot and after which event it was taken;
    and — if ``refresh`` is given — the product's refresh rule, so a world must also refresh exactly
    when the product did.  An answer event changes the answer (``resave=True``: the viewer cannot
    tell a change from saving the same answer again).  A world gives every other respondent's value
    after every event; ``kept`` holds, per event, the states on some path through all events.
    """
    others = sorted({e.who for e in events if e.who != viewer})
    pos = {who: i for i, who in enumerate(others)}
    shots = {s.after_event: s.distribution for s in snapshots}
    State = tuple[tuple[int, ...], tuple[int, ...] | None]  # (others' values, 0 = none; at last snapshot)
    frontier: set[State] = {((0,) * len(others), None)}
    layers: list[dict[State, set[State]]] = []
    mine: int | None = None
    mine_at_snapshot: int | None = None
    for i, event in enumerate(events):
        if event.who == viewer:
            mine = event.value
        links: dict[State, set[State]] = {}
        due = i in shots
        for state in frontier:
            values, snap = state
            if event.who == viewer:
                options = [values]
            else:
                j = pos[event.who]
                if event.value is None:
                    choices = [0] if values[j] else []
                else:
                    choices = [x for x in VALUES if resave or x != values[j]]
                options = [values[:j] + (x,) + values[j + 1 :] for x in choices]
            for new in options:
                if due and tuple(sum(1 for v in new if v == x) + (mine == x) for x in VALUES) != shots[i]:
                    continue
                if refresh is not None:
                    current = {who: str(v) for who, v in zip(others, new, strict=True) if v}
                    if mine is not None:
                        current[viewer] = str(mine)
                    previous = None
                    if snap is not None:
                        previous = {who: str(v) for who, v in zip(others, snap, strict=True) if v}
                        if mine_at_snapshot is not None:
                            previous[viewer] = str(mine_at_snapshot)
                    if refresh(previous, current) != due:
                        continue
                links.setdefault((new, new if due else snap), set()).add(state)
        layers.append(links)
        frontier = set(links)
        if due:
            mine_at_snapshot = mine
    # Backward: keep only the states on a path through every event.
    alive = set(frontier)
    kept: list[set[State]] = [set() for _ in events]
    for i in range(len(events) - 1, -1, -1):
        kept[i] = alive
        alive = set().union(*(layers[i][s] for s in alive)) if alive else set()
    sums: dict[int, dict[frozenset[int], set[int]]] = {}
    one: dict[int, dict[frozenset[int], bool]] = {}
    for i in shots:
        if not kept[i]:
            raise AssertionError(f"no world at all at the snapshot after event {i}: the search lost the true one")
        sums[i], one[i] = {}, {}
        for values, _ in kept[i]:
            present = [j for j, v in enumerate(values) if v]
            for size in range(1, len(present) + 1):
                for combo in itertools.combinations(present, size):
                    key = frozenset(others[j] for j in combo)
                    sums[i].setdefault(key, set()).add(sum(values[j] for j in combo))
                    one[i][key] = one[i].get(key, True) and len({values[j] for j in combo}) == 1
    return RealtimeOutcome(others=others, sums=sums, one_valued=one, k=k)


# The anonymous viewer: what the product shows her, nothing about who answered.


@dataclass(frozen=True)
class RealtimeView:
    """What one respondent saw: every snapshot in order (value counts, herself included), her own
    answer at each snapshot (None: none), and the number of other panel members."""

    snapshots: tuple[tuple[int, ...], ...]
    own: tuple[int | None, ...]
    others: int


def realtime_view(*, viewer: int, events: Sequence[Event], snapshots: Sequence[Snapshot], others: int) -> RealtimeView:
    mine: int | None = None
    own = []
    at = {s.after_event for s in snapshots}
    for i, event in enumerate(events):
        if event.who == viewer:
            mine = event.value
        if i in at:
            own.append(mine)
    return RealtimeView(snapshots=tuple(s.distribution for s in snapshots), own=tuple(own), others=others)


Trajectory = tuple[int, ...]  # an other respondent's answer at each snapshot so far, 0 = none


def pattern(trajectory: Trajectory) -> tuple[tuple[bool, bool], ...]:
    """What time alone tells about a respondent: per snapshot, whether she had an answer and whether
    it differed from the one at the snapshot before (the only way the viewer can name her)."""
    out = []
    before = 0
    for value in trajectory:
        out.append((value != 0, value != before))
        before = value
    return tuple(out)


def _time_groups(patterns: Iterable[tuple[tuple[bool, bool], ...]], snapshots: int) -> dict[str, frozenset[Any]]:
    """Groups the viewer can name by time: each history pattern alone, and per snapshot those who
    had an answer, changed since the last snapshot, joined, left, switched answers, kept theirs."""
    patterns = sorted(set(patterns))
    groups: dict[str, frozenset[Any]] = {f"history {p}": frozenset({p}) for p in patterns}

    def named(name: str, keep: Callable[[tuple[tuple[bool, bool], ...], int], bool]) -> None:
        for j in range(snapshots):
            members = frozenset(p for p in patterns if keep(p, j))
            if members:
                groups[f"{name}@{j}"] = members

    def present(p: tuple[tuple[bool, bool], ...], j: int) -> bool:
        return p[j][0]

    def before(p: tuple[tuple[bool, bool], ...], j: int) -> bool:
        return j > 0 and p[j - 1][0]

    named("present", present)
    named("changed", lambda p, j: p[j][1])
    named("joined", lambda p, j: p[j][1] and present(p, j) and not before(p, j))
    named("left", lambda p, j: p[j][1] and not present(p, j) and before(p, j))
    named("switched", lambda p, j: p[j][1] and present(p, j) and before(p, j))
    named("kept", lambda p, j: not p[j][1] and present(p, j))
    return groups


def _moves(
    classes: Sequence[tuple[Trajectory, int]], target: tuple[int, ...]
) -> Iterator[list[tuple[Trajectory, int, int]]]:
    """Every way to send each class's members to answers 0..5 (0 = none) so that ``target`` (the
    number of others at each answer) is met: lists of (trajectory, new answer, count)."""

    def rec(
        i: int, left: tuple[int, ...], done: list[tuple[Trajectory, int, int]]
    ) -> Iterator[list[tuple[Trajectory, int, int]]]:
        if i == len(classes):
            if not any(left):
                yield list(done)
            return
        trajectory, count = classes[i]
        for split in itertools.product(*(range(min(c, count) + 1) for c in left)):
            if sum(split) != count:
                continue
            moved = [(trajectory, x, c) for x, c in enumerate(split) if c]
            yield from rec(i + 1, tuple(a - b for a, b in zip(left, split, strict=True)), done + moved)

    yield from rec(0, target, [])


def _maps(people: Sequence[tuple[Trajectory, int]], viewer: int | None, mine: int | None) -> dict[int, str]:
    out = {i + 1: str(v) for i, (_, v) in enumerate(people) if v}
    if mine is not None and viewer is not None:
        out[viewer] = str(mine)
    return out


def search_realtime(
    view: RealtimeView, *, refresh: Refresh | None, k: int, max_states: int = 200_000
) -> AnonymousOutcome:
    """What a respondent learns about the others from the real-time snapshots she saw.

    The viewer knows every snapshot and its order, her own answer at each, the number of other
    panel members, and — if ``refresh`` is given — the product's refresh rule, evaluated after every
    answer event: a snapshot was due when it was taken and, unless one event alone separates it from
    the last one, not due just before its last event (``_last_event_fits``).  She does not know who
    answered when.  A world is a multiset
    of trajectories (each other respondent's answer at every snapshot); the groups are those she can
    name by time (``_time_groups``), each group's figure at each snapshot its size and value sum.
    More than ``max_states`` partial worlds after a snapshot stops the search with an error (a view
    with fewer snapshots is a smaller, still exact question).
    """
    viewer = 0
    State = tuple[tuple[Trajectory, int], ...]
    states: set[State] = {(((), view.others),)}
    mine_before: int | None = None
    for j, (dist, mine) in enumerate(zip(view.snapshots, view.own, strict=True)):
        target_values = [c - (mine == x) for c, x in zip(dist, VALUES, strict=True)]
        target = (view.others - sum(target_values), *target_values)
        if min(target) < 0:
            raise AssertionError(f"snapshot {j} does not fit the panel: the view is inconsistent")
        nxt: set[State] = set()
        for state in states:
            for moves in _moves(state, target):
                people_before = [(t, t[-1] if t else 0) for t, _, c in moves for _ in range(c)]
                people_after = [(t, x) for t, x, c in moves for _ in range(c)]
                if refresh is not None:
                    previous = _maps(people_before, viewer, mine_before) if j else None
                    current = _maps(people_after, viewer, mine)
                    if not refresh(previous, current) or not _last_event_fits(
                        previous, current, refresh, viewer=viewer, ids=range(1, view.others + 1)
                    ):
                        continue
                merged: dict[Trajectory, int] = {}
                for t, x, c in moves:
                    merged[(*t, x)] = merged.get((*t, x), 0) + c
                nxt.add(tuple(sorted(merged.items())))
        if len(nxt) > max_states:
            raise AssertionError(f"more than {max_states} worlds after snapshot {j}: ask about fewer snapshots")
        states = nxt
        mine_before = mine
    if not states:
        raise AssertionError("no world at all: the search lost the true one")
    shots = len(view.snapshots)
    groups = _time_groups((pattern(t) for state in states for t, _ in state), shots)
    sums: dict[int, dict[frozenset[Any], set[int]]] = {j: {} for j in range(shots)}
    one: dict[int, dict[frozenset[Any], bool]] = {j: {} for j in range(shots)}
    sizes: dict[int, dict[frozenset[Any], set[int]]] = {j: {} for j in range(shots)}
    for state in states:
        for members in groups.values():
            for j in range(shots):
                values = [t[j] for t, c in state if pattern(t) in members and t[j] for _ in range(c)]
                sums[j].setdefault(members, set()).add(sum(values))
                sizes[j].setdefault(members, set()).add(len(values))
                one[j][members] = one[j].get(members, True) and len(set(values)) <= 1
    return AnonymousOutcome(groups=groups, sizes=sizes, sums=sums, one_valued=one, k=k, worlds=states)


def _last_event_fits(
    previous: dict[int, str] | None, current: dict[int, str], refresh: Refresh, *, viewer: int, ids: Iterable[int]
) -> bool:
    """Could the last answer event before this snapshot have come from a state where no refresh was
    due?  Either it was the only event since the last snapshot (the state before it *is* the last
    snapshot), or some respondent's answer before her last event (any other answer, or none) gives a
    state ``refresh`` does not call due.  A necessary condition every true history meets; the rule is
    assumed blind to who is who, so one respondent per (answer then, answer now) is tried."""
    start = previous or {}
    tried: set[tuple[str | None, str | None, bool]] = set()
    for who in (viewer, *ids):
        now = current.get(who)
        kind = (start.get(who), now, who == viewer)
        if kind in tried:
            continue
        tried.add(kind)
        for before in (None, *(str(v) for v in VALUES)):
            if before == now:
                continue
            state = {r: v for r, v in current.items() if r != who}
            if before is not None:
                state[who] = before
            if state == start or not refresh(previous, state):
                return True
    return False


@dataclass
class AnonymousOutcome:
    """Per snapshot and time-named group: its sizes and value sums over the worlds, one-valuedness;
    the violations (snapshot, group name, size, sum)."""

    groups: dict[str, frozenset[Any]]
    sizes: dict[int, dict[frozenset[Any], set[int]]]
    sums: dict[int, dict[frozenset[Any], set[int]]]
    one_valued: dict[int, dict[frozenset[Any], bool]]
    k: int
    worlds: set[tuple[tuple[Trajectory, int], ...]] = field(default_factory=set)
    violations: list[tuple[int, str, int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        names: dict[frozenset[Any], str] = {}
        for name, members in self.groups.items():
            names[members] = f"{names[members]} = {name}" if members in names else name

        def present(g: frozenset[Any], j: int) -> frozenset[Any]:
            return frozenset(p for p in g if p[j][0])

        # One-valued determined groups of ≥ k others, per snapshot, as the histories present then.
        covering: dict[int, list[frozenset[Any]]] = {}
        determined: dict[int, dict[frozenset[Any], tuple[int, int]]] = {}
        for j in sorted(self.sums):
            determined[j] = {
                g: (next(iter(self.sizes[j][g])), next(iter(s)))
                for g, s in self.sums[j].items()
                if len(s) == 1 and len(self.sizes[j][g]) == 1
            }
            covering[j] = [
                present(g, j) for g, (size, _) in determined[j].items() if size >= self.k and self.one_valued[j][g]
            ]
        for j in sorted(self.sums):
            for g, (size, total) in sorted(determined[j].items(), key=lambda item: names[item[0]]):
                if not 0 < size < self.k:
                    continue
                mine = present(g, j)
                # Exempt: inside a one-valued group of ≥ k at this snapshot, or at an earlier one and
                # unchanged since (their answers then were already inherent in that snapshot).
                if any(
                    all(not p[x][1] for p in mine for x in range(i + 1, j + 1)) and mine <= big
                    for i in range(j + 1)
                    for big in covering[i]
                ):
                    continue
                self.violations.append((j, names[g], size, total))
