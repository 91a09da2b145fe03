"""Differencing attacks on the disclosure layer, checked by the exhaustive search of ``search.py``.

Four kinds of test:

1. the search itself: it agrees with brute force (every value assignment recomputed through
   ``foresight.stats``), its two algorithms agree, and the true panel is always among its worlds;
2. the attacks work without the layer: publishing everything discloses the single low-expertise
   respondent, a complement of 1–2 to the high-expertise group, a hidden sector of 1–2, the one
   leaver of a round, the newest real-time answer;
3. property tests (hypothesis, derandomized): whatever the layer releases, the search finds no
   violation, and the layer keeps its own documented rules;
4. the minimal panels on which an earlier rule set did disclose a small group (a weight class split by
   the high index, expertise and sector groups crossing in a small cell, a real-time refresh mixing
   kinds of change): the layer now withholds what disclosed them.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from foresight import stats
from foresight.disclosure import Rules, release_item, snapshot_due, stability_release
from tests.disclosure import builder as B
from tests.disclosure import search as S

DEFAULT_WEIGHTS = {"high": 1.0, "medium": 0.6, "low": 0.3}
WEIGHT_SETS = (
    DEFAULT_WEIGHTS,
    {"high": 1.0, "medium": 0.5, "low": 0.25},
    {"high": 1.0, "medium": 1.0, "low": 0.5},
)
# Answers drawn from a few pools: the full scale, and narrow ones that make extreme and one-valued
# groups (the cases where bounds pin sums down) common.
VALUE_POOLS = ((1, 2, 3, 4, 5), (4, 5), (1, 5), (1, 2), (3, 4, 5), (1, 3, 5), (5,))
SECTOR_SETS = (S.SECTORS, ("company", "university"), ("company", "other"), ("university", "government", "other"))

PROPERTY = settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Respondent = tuple[str, str, int]
SNAPSHOTS = 4  # real-time views are searched over their first four snapshots


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def release(panel: Sequence[Respondent], rules: Rules, **kwargs: Any) -> dict[str, Any]:
    return release_item(
        qtype="scale", index=True, groups=B.item_groups(panel, weights=rules.weights, **kwargs), rules=rules
    )


def assert_true_panel_found(outcome: S.Outcome, panel: Sequence[Respondent], atom: Any) -> None:
    """Every group's true (size, value sum) is among the pairs the search found (``atom``: the cell of a respondent)."""
    for name, cells in outcome.groups.items():
        chosen = [v for r in panel for v in [r[2]] if atom(r) in cells]
        assert (len(chosen), sum(chosen)) in outcome.pairs[name], f"{name}: the true panel is not among the worlds"


def level_atom(r: Respondent) -> str:
    return r[0]


def sector_atom(r: Respondent) -> str:
    return r[1]


def cell_atom(r: Respondent) -> str:
    return S.cell_name(r[0], r[1])


def small_refinement_cells(
    panel: Sequence[Respondent],
    released: Mapping[str, Any],
    weights: Mapping[str, float],
    t: int,
    *,
    levels: bool,
    sectors: bool,
) -> list[tuple[Any, int]]:
    """Cells of 1 … t−1 respondents in the common refinement of the released groups.

    The released groups split the panel by expertise (the weight classes, when the weighted index is
    out; high against the rest, when the high index is out) and by sector (each shown sector, the
    hidden rest).  Rules 2 and 3 keep each split's own parts at 0 or ≥ t, but not the cells where two
    splits cross — the known holes below live exactly there.  ``levels``/``sectors``: which splits
    the search at hand sees.
    """
    weight = S.level_weights(weights)
    shown = set(released.get("sectors") or {})
    cells: Counter[Any] = Counter()
    for level, sector, _ in panel:
        expertise = (
            weight[level] if levels and released.get("index_weighted") is not None else None,
            level == "high" if levels and released.get("index_high") is not None else None,
        )
        part = (sector if sector in shown else "hidden") if sectors else None
        cells[(expertise, part)] += 1
    return [(cell, n) for cell, n in cells.items() if 0 < n < t]


def documented_rules_hold(
    panel: Sequence[Respondent], released: Mapping[str, Any], weights: Mapping[str, float], t: int
) -> bool:
    """The module docstring's rules 1–3, checked on what was released (written afresh here): every
    released group has ≥ t respondents, what the high index leaves out is 0 or ≥ t, every weight
    class of a released weighted index is 0 or ≥ t, every shown sector ≥ t and the hidden rest 0 or ≥ t.

    The known-hole regions are only excused when these hold: a layer that breaks its own rules must
    fail the property tests, not hide in a hole."""
    if released.get("n") is None:
        return True
    n = len(panel)
    levels = Counter(level for level, _, _ in panel)
    if n < t:
        return False
    if released.get("index_high") is not None and (levels["high"] < t or 0 < n - levels["high"] < t):
        return False
    weight = S.level_weights(weights)
    classes = Counter(weight[level] for level, _, _ in panel)
    if released.get("index_weighted") is not None and any(0 < c < t for c in classes.values()):
        return False
    shown = Counter(sector for _, sector, _ in panel if sector in (released.get("sectors") or {}))
    return all(c >= t for c in shown.values()) and not 0 < n - sum(shown.values()) < t


@st.composite
def item_cases(
    draw: st.DrawFn,
    *,
    max_n: int = 16,
    ks: Sequence[int] = (3, 4, 5),
    sector_sets: Sequence[Sequence[str]] = SECTOR_SETS,
    min_highs: Sequence[int] = (1, 5),
    grid: bool = False,
) -> tuple[Rules, list[Respondent]]:
    """A study's rules and a panel of 0 … max_n respondents (level, sector, answer).  The level sizes
    are random, or drawn near the thresholds (0, 1, 2, t − 1, t, t + 1, t + 2) where the rules switch
    figures on and off, or "rich": enough high-expertise respondents for the high index and the other
    levels at 0, 1, 2, t or t + 1.  Half the time the sector sizes are drawn near the thresholds too.
    ``grid``: also panels of high and one other level crossed with two sectors, every cell 0, t or
    t + 1 (up to 16 respondents) — the only way both splits can be out with no small cell."""
    k = draw(st.sampled_from(ks))
    t = k + 1
    weights = draw(st.sampled_from(WEIGHT_SETS))
    rules = Rules(k=k, weights=weights, min_high=draw(st.sampled_from(min_highs)))
    pool = draw(st.sampled_from(VALUE_POOLS))
    sectors = draw(st.sampled_from(sector_sets))
    near = st.sampled_from((0, 1, 2, t - 1, t, t, t + 1, t + 2))
    mode = draw(st.sampled_from(("random", "near", "rich", "grid") if grid else ("random", "near", "rich")))
    if mode == "grid":
        other = draw(st.sampled_from(S.LEVELS[1:]))
        cells = [(level, sector) for level in ("high", other) for sector in sector_sets[0][:2]]
        sizes = [draw(st.sampled_from((0, t, t + 1))) for _ in cells]
        while sum(sizes) > 16:
            sizes[sizes.index(max(sizes))] = 0
        panel = [
            (level, sector, draw(st.sampled_from(pool)))
            for (level, sector), n in zip(cells, sizes, strict=True)
            for _ in range(n)
        ]
        return rules, panel
    if mode == "random":
        levels = draw(st.lists(st.sampled_from(S.LEVELS), max_size=max_n))
    else:
        sizes = [draw(near) for _ in S.LEVELS]
        if mode == "rich":  # enough high-expertise respondents for the high index, the rest near t
            sizes[0] = max(t, rules.min_high) + draw(st.integers(0, 1))
            sizes[1:] = [draw(st.sampled_from((0, 0, 1, 2, t, t + 1))) for _ in S.LEVELS[1:]]
        while sum(sizes) > max_n:  # trim the largest level (in "rich" mode, the largest other one)
            first = 1 if mode == "rich" and any(sizes[1:]) else 0
            sizes[first + sizes[first:].index(max(sizes[first:]))] -= 1
        levels = [level for level, n in zip(S.LEVELS, sizes, strict=True) for _ in range(n)]
    if levels and draw(st.booleans()):
        counts = [draw(near) for _ in sectors]
        while sum(counts) > len(levels):
            counts[counts.index(max(counts))] -= 1
        counts[-1] += len(levels) - sum(counts)
        places = draw(st.permutations([s for s, n in zip(sectors, counts, strict=True) for _ in range(n)]))
    else:
        places = [draw(st.sampled_from(sectors)) for _ in levels]
    panel = [(level, sector, draw(st.sampled_from(pool))) for level, sector in zip(levels, places, strict=True)]
    return rules, panel


# ---------------------------------------------------------------------------
# 1. The search itself
# ---------------------------------------------------------------------------


def _same(released: Any, recomputed: Any) -> bool:
    if isinstance(released, Mapping):
        return (
            isinstance(recomputed, Mapping)
            and set(released) == set(recomputed)
            and all(_same(released[key], recomputed[key]) for key in released)
        )
    if isinstance(released, float) or isinstance(recomputed, float):
        return released is not None and recomputed is not None and math.isclose(released, recomputed, abs_tol=1e-9)
    return bool(released == recomputed)


def brute_force(
    panel: Sequence[Respondent], released: Mapping[str, Any], weights: Mapping[str, float]
) -> dict[str, set[tuple[int, int]]]:
    """Every (size, value sum) of every level × sector cell over every assignment of answers to the
    panel's respondents (level and sector fixed) whose figures, recomputed through ``foresight.stats``
    exactly as aggregation would, equal every released figure."""
    cells = sorted(Counter((level, sector) for level, sector, _ in panel).items())
    keys = [key for key, value in released.items() if value is not None and key not in ("suppressed", "n_cant_judge")]
    target = S.vector(released["distribution"])
    out: dict[str, set[tuple[int, int]]] = {S.cell_name(*cell): set() for cell, _ in cells}
    options = [list(itertools.combinations_with_replacement(S.VALUES, n)) for _, n in cells]
    for choice in itertools.product(*options):
        if tuple(sum(part.count(v) for part in choice) for v in S.VALUES) != target:
            continue
        candidate = [(level, sector, v) for ((level, sector), _), part in zip(cells, choice, strict=True) for v in part]
        everything = B.release_everything(B.item_groups(candidate, weights=weights))
        everything["sectors"] = {s: f for s, f in everything["sectors"].items() if s in released["sectors"]}
        if all(_same(released[key], everything.get(key)) for key in keys):
            for ((level, sector), n), part in zip(cells, choice, strict=True):
                out[S.cell_name(level, sector)].add((n, sum(part)))
    return out


@settings(PROPERTY, max_examples=150)
@given(item_cases(max_n=6, ks=(1, 2, 3), sector_sets=(("company", "university"),)))
def test_search_agrees_with_brute_force(case: tuple[Rules, list[Respondent]]) -> None:
    """The cell search (every cell's size known) finds exactly the cell figures of brute force: every
    answer assignment whose figures recompute, through foresight.stats, to what the layer released."""
    rules, panel = case
    released = release(panel, rules)
    facts = S.item_facts(released)
    if facts is None:
        return
    found = S.search_joint(
        facts,
        weights=rules.weights,
        levels=B.level_sizes(panel),
        sectors=B.sector_sizes(panel, ("company", "university")),
        t=rules.t,
        cells=B.cell_sizes(panel),
    )
    for name, pairs in brute_force(panel, released, rules.weights).items():
        assert found.pairs["cell:" + name] == pairs, name


@settings(PROPERTY, max_examples=150)
@given(item_cases(max_n=9, ks=(1, 2, 3), sector_sets=(("company", "university"),)))
def test_block_search_agrees_with_plain_walks(case: tuple[Rules, list[Respondent]]) -> None:
    """Two algorithms, one answer: the size tables × merged-block walk of ``search_joint`` and one
    plain walk per group over a problem that states the level and sector sizes as constraints."""
    rules, panel = case
    facts = S.item_facts(release(panel, rules))
    if facts is None:
        return
    used = ("company", "university")
    levels, sectors = B.level_sizes(panel), B.sector_sizes(panel, used)
    joint = S.search_joint(facts, weights=rules.weights, levels=levels, sectors=sectors, t=rules.t)
    present = [s for s in used if sectors[s]]
    grid = tuple(S.cell_name(level, s) for level in S.LEVELS for s in present)
    of_level = {lv: frozenset(S.cell_name(lv, s) for s in present) for lv in S.LEVELS}
    of_sector = {s: frozenset(S.cell_name(lv, s) for lv in S.LEVELS) for s in present}
    sums = [(of_level["high"], *facts.high)] if facts.high else []
    sums += [(of_sector[s], n, total) for s, (n, total) in facts.sectors.items()]
    lw = S.level_weights(rules.weights)
    problem = S.Problem(
        distribution=facts.distribution,
        cells=grid,
        sizes=tuple([(of_level[lv], levels[lv]) for lv in S.LEVELS] + [(of_sector[s], sectors[s]) for s in present]),
        sums=tuple(sums),
        weighted=({c: lw[c.split("×")[0]] for c in grid}, facts.weighted) if facts.weighted is not None else None,
    )
    for name, cells in joint.groups.items():
        assert S.project(problem, cells) == joint.pairs[name], name


def test_released_figures_are_read_exactly() -> None:
    """Index → value sum is exact for every size and sum, the weights are exact rationals, and a
    release with a figure the search does not model is refused rather than ignored."""
    for n in range(1, 40):
        for total in range(n, 5 * n + 1):
            fives, rest = divmod(total - n, 4)  # n answers: `fives` of 5, one of 1 + rest, the others 1
            counts = Counter([5.0] * fives + ([1.0 + rest] if fives < n else []) + [1.0] * (n - fives - 1))
            assert sum(v * c for v, c in counts.items()) == total
            figure = stats.scale_index_counts({(v, 1.0): c for v, c in counts.items()}, low=1, high=5)
            assert S.sum_from_index(n, round(figure, 10)) == total
    assert S.level_weights(DEFAULT_WEIGHTS) == {"high": 10, "medium": 6, "low": 3, "none": 6}
    assert S.level_weights({"high": 1.0, "medium": 0.5, "low": 0.25}) == {"high": 4, "medium": 2, "low": 1, "none": 2}
    panel = [("high", "company", 5)] * 6
    released = release(panel, Rules(k=3))
    with pytest.raises(S.UnmodelledFigure):
        S.item_facts({**released, "index_sd": 1.0})
    with pytest.raises(S.UnmodelledFigure):
        S.item_facts({**released, "sectors": {"company": {"n": 6, "index": 100.0, "distribution": {}}}})


# ---------------------------------------------------------------------------
# 2. Without the layer the attacks work
# ---------------------------------------------------------------------------


def test_original_attack_discloses_the_single_low_expert() -> None:
    """n, the index and the weighted index (high index withheld) determine the split into expertise
    groups and each group's sum: the one low-expertise respondent's answer is out — to an attacker
    who knows the group sizes, and to one who knows only n.  Through the layer nothing is."""
    panel = (
        [("high", "other", v) for v in (5, 5, 4)]
        + [("medium", "other", v) for v in (4, 4, 2, 3)]
        + [("low", "other", 3)]
    )
    published = B.release_everything(B.item_groups(panel))
    published.update(n_high=None, index_high=None, sectors={})
    facts = S.item_facts(published)
    assert facts is not None
    strong = S.search_expertise(facts, weights=DEFAULT_WEIGHTS, levels=B.level_sizes(panel), t=4)
    weak = S.search_expertise(facts, weights=DEFAULT_WEIGHTS, levels=None, t=4)
    for outcome in (strong, weak):
        assert_true_panel_found(outcome, panel, level_atom)
        assert outcome.determined("low") == (1, 3)
        assert "low" in outcome.violated()
    assert weak.determined("high") == (3, 14)  # the split itself is recovered from n alone

    rules = Rules(k=3)
    released = release(panel, rules)
    assert released["index_weighted"] is None
    layered = S.search_expertise(
        S.item_facts(released), weights=DEFAULT_WEIGHTS, levels=B.level_sizes(panel), t=rules.t
    )
    assert layered.violations == []


@pytest.mark.parametrize("rest", [1, 2])
def test_high_index_with_a_small_complement_discloses_the_rest(rest: int) -> None:
    """The whole and the high-expertise index side by side leave the other 1–2 respondents' sum."""
    panel = [("high", "other", v) for v in (5, 4, 4, 3, 5)] + [("medium", "other", v) for v in (2, 1)[:rest]]
    published = B.release_everything(B.item_groups(panel))
    published.update(index_weighted=None, sectors={})
    outcome = S.search_expertise(S.item_facts(published), weights=DEFAULT_WEIGHTS, levels=B.level_sizes(panel), t=4)
    assert_true_panel_found(outcome, panel, level_atom)
    assert outcome.determined("medium+low+none") == (rest, (2, 3)[rest - 1])
    assert "medium+low+none" in outcome.violated()
    released = release(panel, Rules(k=3, min_high=1))
    assert released["index_high"] is None and released["suppressed"]["index_high"] == "small_complement"


@pytest.mark.parametrize("hidden", [1, 2])
def test_sectors_with_one_small_hidden_sector_disclose_it(hidden: int) -> None:
    """Every sector but one shown next to the whole: the hidden sector of 1–2 is the difference."""
    panel = [("medium", "company", v) for v in (5, 4, 4, 3)] + [("medium", "university", v) for v in (2, 2, 1, 5)]
    panel += [("medium", "government", v) for v in (1, 4)[:hidden]]
    published = B.release_everything(B.item_groups(panel))
    published.update(index_high=None, n_high=None, index_weighted=None)
    published["sectors"] = {s: f for s, f in published["sectors"].items() if s != "government"}
    sizes = B.sector_sizes(panel, S.SECTORS)
    outcome = S.search_sectors(S.item_facts(published), sectors=sizes, t=4)
    assert_true_panel_found(outcome, panel, sector_atom)
    assert outcome.determined("government") == (hidden, (1, 5)[hidden - 1])
    assert "government" in outcome.violated()
    released = release(panel, Rules(k=3))
    assert set(released["sectors"]) == {"university"} and released["suppressed"]["sectors"] == "small_complement"


# ---------------------------------------------------------------------------
# 3. Property tests: one item
# ---------------------------------------------------------------------------


@PROPERTY
@given(item_cases())
def test_expertise_figures_disclose_no_small_group(case: tuple[Rules, list[Respondent]]) -> None:
    """n, distribution, index, high index, weighted index as released: no union of expertise levels
    of 1 … t−1 respondents is determined (attacker knows every level's size)."""
    rules, panel = case
    released = release(panel, rules)
    facts = S.item_facts(released)
    if facts is None:
        event("nothing released")
        return
    outcome = S.search_expertise(facts, weights=rules.weights, levels=B.level_sizes(panel), t=rules.t)
    assert_true_panel_found(outcome, panel, level_atom)
    assert documented_rules_hold(panel, released, rules.weights, rules.t)
    event(f"released: high={facts.high is not None} weighted={facts.weighted is not None}")
    assert outcome.violations == [], [str(v) for v in outcome.violations]


@PROPERTY
@given(item_cases())
def test_sector_figures_disclose_no_small_group(case: tuple[Rules, list[Respondent]]) -> None:
    """n, distribution and the shown sectors' n and index: no union of sectors of 1 … t−1
    respondents is determined (attacker knows every sector's size, "other" included)."""
    rules, panel = case
    released = release(panel, rules)
    facts = S.item_facts(released)
    if facts is None:
        event("nothing released")
        return
    outcome = S.search_sectors(facts, sectors=B.sector_sizes(panel, S.SECTORS), t=rules.t)
    assert_true_panel_found(outcome, panel, sector_atom)
    assert not small_refinement_cells(panel, released, rules.weights, rules.t, levels=False, sectors=True)
    event(f"sectors shown: {len(facts.sectors)}")
    assert outcome.violations == [], [str(v) for v in outcome.violations]


@settings(PROPERTY, max_examples=400)
@given(item_cases(max_n=10, ks=(3, 3, 4, 5), sector_sets=(("company", "university"),), min_highs=(1,), grid=True))
def test_level_and_sector_figures_disclose_no_small_cell(case: tuple[Rules, list[Respondent]]) -> None:
    """All the figures together: no union of levels, union of sectors or level × sector cell of
    1 … t−1 respondents is determined (attacker knows every level's and sector's size).  Panels of
    up to 10 respondents, or grids of up to 16."""
    rules, panel = case
    released = release(panel, rules)
    facts = S.item_facts(released)
    if facts is None:
        event("nothing released")
        return
    sectors = B.sector_sizes(panel, ("company", "university"))
    outcome = S.search_joint(facts, weights=rules.weights, levels=B.level_sizes(panel), sectors=sectors, t=rules.t)
    assert_true_panel_found(outcome, panel, cell_atom)
    assert documented_rules_hold(panel, released, rules.weights, rules.t)
    assert not small_refinement_cells(panel, released, rules.weights, rules.t, levels=True, sectors=True)
    event(f"released: high={facts.high is not None} weighted={facts.weighted is not None} sectors={len(facts.sectors)}")
    assert outcome.violations == [], [str(v) for v in outcome.violations]


# ---------------------------------------------------------------------------
# Two rounds
# ---------------------------------------------------------------------------

Person = tuple[int | None, int | None]  # (round-1 answer, round-2 answer); None: no answer that round


def rounds_release(people: Sequence[Person], rules: Rules) -> tuple[S.RoundsView, dict[str, Any]]:
    """Both rounds through the layer (round 2 with the change figures aggregation stores), as a view."""
    first = [("none", "other", b) for b, _ in people if b is not None]
    second = [("none", "other", a) for _, a in people if a is not None]
    pairs = [(b, a) for b, a in people if b is not None and a is not None]
    test = (
        stats.wilcoxon([b for b, _ in pairs], [a for _, a in pairs]) if pairs else {"statistic": None, "p_value": None}
    )
    changed = sum(1 for b, a in pairs if b != a)
    stability = {
        "n_before": len(first),
        "n_paired": len(pairs),
        "share_changed": changed / len(pairs) if pairs else None,
        "wilcoxon_statistic": test["statistic"],
        "wilcoxon_p": test["p_value"],
    }
    one = release(first, rules)
    two = release(second, rules, stability=stability)
    change = None
    if two.get("change") is not None:
        before = tuple(sum(1 for b, _ in pairs if b == x) for x in S.VALUES)
        after = tuple(sum(1 for _, a in pairs if a == x) for x in S.VALUES)
        change = (before, after, changed)
    view = S.RoundsView(
        round1=S.vector(one["distribution"]) if one["n"] is not None else None,
        round2=S.vector(two["distribution"]) if two["n"] is not None else None,
        change=change,
        leavers=len(first) - len(pairs),
        joiners=len(second) - len(pairs),
        stayers=len(pairs),
    )
    return view, two


def assert_rounds_truth_found(outcome: S.Outcome, people: Sequence[Person]) -> None:
    groups = {
        "leavers": [b for b, a in people if a is None and b is not None],
        "joiners": [a for b, a in people if b is None and a is not None],
        "stayers_before": [b for b, a in people if b is not None and a is not None],
        "stayers_after": [a for b, a in people if b is not None and a is not None],
        "round1": [b for b, _ in people if b is not None],
        "round2": [a for _, a in people if a is not None],
    }
    for name, values in groups.items():
        assert (len(values), sum(values)) in outcome.pairs[name], name


@st.composite
def round_cases(draw: st.DrawFn) -> tuple[Rules, list[Person]]:
    k = draw(st.sampled_from((3, 4, 5)))
    t = k + 1
    pool = draw(st.sampled_from(VALUE_POOLS))
    value = st.sampled_from(pool)
    counts = [draw(st.sampled_from((0, 1, 2, t - 1, t, t + 2))) for _ in range(4)]
    left, joined, stayed, changed = counts
    people: list[Person] = [(draw(value), None) for _ in range(left)]
    people += [(None, draw(value)) for _ in range(joined)]
    people += [(v, v) for v in (draw(value) for _ in range(stayed))]
    for _ in range(changed):
        before = draw(value)
        people.append((before, draw(st.sampled_from([x for x in S.VALUES if x != before]))))
    return Rules(k=k), people


@PROPERTY
@given(round_cases())
def test_two_rounds_disclose_no_leaver_or_joiner(case: tuple[Rules, list[Person]]) -> None:
    """Each round's distribution and, where ``stability_release`` allows, the paired before / after
    distributions and the number who changed: no group of the two rounds of 1 … t−1 is determined."""
    rules, people = case
    view, _ = rounds_release(people, rules)
    outcome = S.search_rounds(view, t=rules.t)
    assert_rounds_truth_found(outcome, people)
    event(f"change released: {view.change is not None}")
    assert outcome.violations == [], [str(v) for v in outcome.violations]


def test_change_figures_with_one_leaver_disclose_the_leaver() -> None:
    """The paired change next to both rounds' distributions leaves the one leaver's answer: rule 4 is
    needed (and ``stability_release`` withholds the change)."""
    people: list[Person] = [(4, 4), (5, 4), (3, 3), (4, 5), (2, 3), (5, 5), (1, None)]
    rules = Rules(k=3)
    view, released = rounds_release(people, rules)
    assert released["change"] is None and released["suppressed"]["change"] == "attrition"
    assert stability_release(n_before=7, n_after=6, n_paired=6, rules=rules) == "attrition"
    withheld = S.search_rounds(view, t=rules.t)
    assert withheld.violations == []
    pairs = [(b, a) for b, a in people if b is not None and a is not None]
    shown = S.RoundsView(
        round1=view.round1,
        round2=view.round2,
        change=(
            tuple(sum(1 for b, _ in pairs if b == x) for x in S.VALUES),
            tuple(sum(1 for _, a in pairs if a == x) for x in S.VALUES),
            sum(1 for b, a in pairs if b != a),
        ),
        leavers=1,
        joiners=0,
        stayers=6,
    )
    outcome = S.search_rounds(shown, t=rules.t)
    assert_rounds_truth_found(outcome, people)
    assert outcome.determined("leavers") == (1, 1)
    assert "leavers" in outcome.violated()


# ---------------------------------------------------------------------------
# Real-time feedback
# ---------------------------------------------------------------------------


def true_world(events: Sequence[S.Event], snapshots: Sequence[S.Snapshot], *, viewer: int, m: int) -> Any:
    """The others' trajectories (answer at each snapshot, 0 = none) as the search writes a world."""
    current: dict[int, int] = {}
    seen = []
    at = {s.after_event for s in snapshots}
    for i, e in enumerate(events):
        if e.value is None:
            current.pop(e.who, None)
        else:
            current[e.who] = e.value
        if i in at:
            seen.append(dict(current))
    paths = Counter(tuple(view.get(r, 0) for view in seen) for r in range(m + 1) if r != viewer)
    return tuple(sorted(paths.items()))


@st.composite
def realtime_cases(draw: st.DrawFn) -> tuple[Rules, int, list[S.Event]]:
    """A panel of the viewer (0) and m others, and answer events in batches: first t − 1 … t + 1
    new answers, then batches of new answers, changed answers, withdrawals or single events of any
    kind, each batch of 1, 2, k, t, t + 1 or t + 2 events."""
    k = draw(st.sampled_from((2, 3, 4)))
    t = k + 1
    m = draw(st.integers(t - 1, 6))
    pool = draw(st.sampled_from(VALUE_POOLS[:-1]))
    current: dict[int, int] = {}
    events: list[S.Event] = []
    batches = [("join", draw(st.sampled_from((t - 1, t, t + 1))))]
    for _ in range(draw(st.integers(2, 4))):
        kind = draw(st.sampled_from(("join", "change", "change", "leave", "mixed")))
        batches.append((kind, draw(st.sampled_from((1, 2, k, t, t, t + 1, t + 2)))))
    for kind, size in batches:
        for _ in range(size):
            absent = [r for r in range(m + 1) if r not in current]
            present = sorted(current)
            if kind == "join" or (kind == "mixed" and absent and draw(st.booleans())):
                if not absent:
                    break
                who = draw(st.sampled_from(absent))
            elif present:
                who = draw(st.sampled_from(present))
            else:
                break
            if kind == "leave" or (kind == "mixed" and who in current and draw(st.integers(0, 4)) == 0):
                events.append(S.Event(who, None))
                del current[who]
                continue
            choices = [v for v in pool if v != current.get(who)] or [v for v in S.VALUES if v != current.get(who)]
            value = draw(st.sampled_from(choices))
            current[who] = value
            events.append(S.Event(who, value))
    return Rules(k=k), m, events


@settings(PROPERTY, max_examples=800)
@given(realtime_cases())
def test_realtime_snapshots_disclose_no_small_group(case: tuple[Rules, int, list[S.Event]]) -> None:
    """What one respondent sees in the snapshots ``snapshot_due`` allows, knowing her own answers, the
    panel size and the rule: no group of 1 … k−1 other respondents she can name by time is determined."""
    rules, m, events = case
    refresh = lambda previous, current: snapshot_due(previous=previous, current=current, rules=rules)  # noqa: E731
    shots = S.replay(events, refresh)
    if not shots:
        event("no snapshot")
        return
    shots = shots[:SNAPSHOTS]  # what she had seen by the fourth snapshot (bounds the search)
    view = S.realtime_view(viewer=0, events=events, snapshots=shots, others=m)
    outcome = S.search_realtime(view, refresh=refresh, k=rules.k)
    assert true_world(events, shots, viewer=0, m=m) in outcome.worlds
    event(f"snapshots: {len(shots)}")
    assert outcome.violations == [], outcome.violations


def test_refreshing_on_every_answer_discloses_the_newest_answer() -> None:
    """A snapshot after every answer: the viewer reads each newcomer's answer off the difference."""
    events = [S.Event(0, 3), S.Event(1, 4), S.Event(2, 2), S.Event(3, 5)]
    always = lambda previous, current: True  # noqa: E731
    view = S.realtime_view(viewer=0, events=events, snapshots=S.replay(events, always), others=3)
    outcome = S.search_realtime(view, refresh=always, k=2)
    assert true_world(events, S.replay(events, always), viewer=0, m=3) in outcome.worlds
    disclosed = {(j, total) for j, name, size, total in outcome.violations if "joined@" in name and size == 1}
    assert {(1, 4), (2, 2), (3, 5)} <= disclosed
    rules = Rules(k=2)
    refresh = lambda previous, current: snapshot_due(previous=previous, current=current, rules=rules)  # noqa: E731
    shots = S.replay(events, refresh)
    assert [s.after_event for s in shots] == [2]
    assert (
        S.search_realtime(
            S.realtime_view(viewer=0, events=events, snapshots=shots, others=3), refresh=refresh, k=2
        ).violations
        == []
    )


def test_viewer_who_knows_who_answered_is_beyond_the_rule() -> None:
    """Outside the rules' attacker: a viewer who also knows *who* answered between snapshots tracks
    one respondent across them (her answer persists while others change).  Documented, not a hole:
    the product shows no identities."""
    events = [
        S.Event(1, 1),
        S.Event(0, 2),
        S.Event(4, 2),
        S.Event(3, 3),
        S.Event(2, 1),
        S.Event(5, 2),
        S.Event(2, 3),
        S.Event(1, 4),
        S.Event(5, 4),
    ]
    rules = Rules(k=2)
    refresh = lambda previous, current: snapshot_due(previous=previous, current=current, rules=rules)  # noqa: E731
    shots = S.replay(events, refresh)
    assert [s.after_event for s in shots] == [2, 5, 8]
    tracked = S.search_realtime_identified(viewer=0, events=events, snapshots=shots, refresh=refresh, k=2)
    assert (shots[0].after_event, frozenset({1}), 1) in tracked.violations
    # ... while the viewer the rules are made for (no identities) learns no small group from the same snapshots.
    view = S.realtime_view(viewer=0, events=events, snapshots=shots, others=5)
    assert S.search_realtime(view, refresh=refresh, k=2).violations == []


# ---------------------------------------------------------------------------
# 4. Holes this search found in an earlier rule set, closed by rules 3, 3a and 5 (regression tests)
# ---------------------------------------------------------------------------


def test_the_high_index_splitting_a_weight_class_is_closed() -> None:
    """Weights high 1.0 = medium 1.0, low 0.5; k = 3, default min_high.  High 5, medium 1, low 4.
    Rule 3 sees two weight classes ({high, medium}: 6, {low}: 4, both ≥ t = 4) and releases the
    weighted index; rule 2 releases the high index (rest 5 ≥ 4).  The index, the high index and the
    weighted index are three equations in the sums of high, medium and low: the lone medium
    respondent's answer (2) is out — the high index splits a weight class that rule 3 took as one."""
    panel = [("high", "other", v) for v in (5, 4, 3, 5, 4)] + [("medium", "other", 2)]
    panel += [("low", "other", v) for v in (1, 3, 4, 5)]
    weights = {"high": 1.0, "medium": 1.0, "low": 0.5}
    rules = Rules(k=3, weights=weights)
    released = release(panel, rules)
    outcome = S.search_expertise(S.item_facts(released), weights=weights, levels=B.level_sizes(panel), t=rules.t)
    assert_true_panel_found(outcome, panel, level_atom)
    assert outcome.violations == [], [str(v) for v in outcome.violations]


@pytest.mark.parametrize(
    ("k", "min_high", "panel"),
    [
        pytest.param(
            3,
            1,
            [("high", "company", 4), ("high", "company", 4), ("high", "university", 1), ("high", "university", 2)]
            + [("low", "company", 3), ("low", "company", 4), ("low", "university", 1), ("low", "university", 1)],
            id="no-one-valued-group",
        ),
        pytest.param(
            3,
            5,
            [("high", "company", 1), ("high", "company", 1)]
            + [("high", "university", 5)] * 3
            + [
                ("medium", "company", 1),
                ("medium", "company", 1),
                ("medium", "company", 3),
                ("medium", "university", 5),
            ],
            id="default-rules",
        ),
    ],
)
def test_expertise_and_sectors_crossing_in_a_small_cell_is_closed(
    k: int, min_high: int, panel: list[Respondent]
) -> None:
    """High index, weighted index and both sectors are each over ≥ t = 4 with complements ≥ 4, but
    high and the sectors cross in cells of 2 or 3: the sums of the 2 × 2 table have one degree of
    freedom, and the distribution's few values pin it.  ``no-one-valued-group``: every cell's sum is
    out (the two high-expertise university respondents answered 1 and 2, sum 3).  ``default-rules``
    (default weights and min_high): the university answered all 5 — inherent — which leaves the two
    high-expertise company respondents' answers (both 1) and the three medium company respondents'
    (1, 1 and 3 in some order, sum 5)."""
    rules = Rules(k=k, min_high=min_high)
    released = release(panel, rules)
    facts = S.item_facts(released)
    sectors = B.sector_sizes(panel, ("company", "university"))
    outcome = S.search_joint(facts, weights=DEFAULT_WEIGHTS, levels=B.level_sizes(panel), sectors=sectors, t=rules.t)
    assert_true_panel_found(outcome, panel, cell_atom)
    assert outcome.violations == [], [str(v) for v in outcome.violations]


def test_a_refresh_mixing_kinds_of_change_is_closed() -> None:
    """k = 3.  Three others and the viewer answer 5 (first snapshot: 4 × 5).  Then two newcomers
    answer 5, one of the three changes to 1, the viewer changes to 1: four changes.  Counted together
    (the earlier rule) they allowed a refresh from which the viewer read "2 joined, 1 changed" and so
    the changer's new answer.  Counted by kind, 2 new and 1 changed are each below t: no refresh."""
    a, b, c, d, e = 1, 2, 3, 4, 5
    events = [S.Event(a, 5), S.Event(b, 5), S.Event(c, 5), S.Event(0, 5)]
    events += [S.Event(d, 5), S.Event(e, 5), S.Event(a, 1), S.Event(0, 1)]
    rules = Rules(k=3)
    refresh = lambda previous, current: snapshot_due(previous=previous, current=current, rules=rules)  # noqa: E731
    shots = S.replay(events, refresh)
    assert [s.distribution for s in shots] == [(0, 0, 0, 0, 4)]
    outcome = S.search_realtime(
        S.realtime_view(viewer=0, events=events, snapshots=shots, others=5), refresh=refresh, k=3
    )
    assert true_world(events, shots, viewer=0, m=5) in outcome.worlds
    assert outcome.violations == [], outcome.violations
    # The earlier rule (t changes of any kind) refreshed here, and the search finds the changer.
    any_kind = lambda previous, current: (  # noqa: E731
        len(current) >= rules.t
        and (
            previous is None
            or sum(1 for r in set(previous) | set(current) if previous.get(r) != current.get(r)) >= rules.t
        )
    )
    old_shots = S.replay(events, any_kind)
    assert [s.distribution for s in old_shots] == [(0, 0, 0, 0, 4), (2, 0, 0, 0, 4)]
    leaked = S.search_realtime(
        S.realtime_view(viewer=0, events=events, snapshots=old_shots, others=5), refresh=any_kind, k=3
    )
    assert leaked.violations
