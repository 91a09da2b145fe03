"""An independent recomputation of a reproducibility package (standard library only).

Deliberately shares no code with ``foresight``: it is the check a methodologist would write from the
codebook and ``round.json`` alone.  From the responses of each round in the package it recomputes

* every row of ``stats.csv`` — released figures, withheld figures and their reasons — by applying the
  disclosure rules of the codebook to figures computed with exact fractions;
* the released ``report`` of every entry of ``editions/*.json`` (from the responses of the topic's last
  round), the criteria of the score (importance indices with their stand-ins, competitiveness gap,
  timing), their min–max normalisation, the recorded stand-ins and the score, and the figures shown
  beside them (indices, years, matrix quadrants, sector spread); scenario pull and policy-list
  membership are fixed inputs read from the run (``scoring/<run>.json``).

The bootstrap rank intervals and P(top-k) are resampling results, recomputed by the plain loop in
``tests/priorities/test_bootstrap.py``, not here.

One limit, stated in the codebook: the sector column is coarsened, so whether a sector *withheld*
inside ``other`` had answers (the reason on ``sector:*`` / ``by_sector:*`` rows) can be seen only when
``round.json`` says ``other`` holds no respondent of a publishable sector.  Every released sector
figure is recomputable either way.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from collections import Counter, defaultdict
from fractions import Fraction
from typing import Any

LEVELS = ("high", "medium", "low")
SMALL_GROUP = "small_group"
SMALL_COMPLEMENT = "small_complement"
SMALL_WEIGHT_CLASS = "small_weight_class"
SMALL_OVERLAP = "small_overlap"
ATTRITION = "attrition"
MIN_EVIDENCE = "min_evidence"
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
CRITERIA = (
    "importance_index",
    "importance_index_high",
    "importance_index_weighted",
    "competitiveness_gap",
    "timing",
    "scenario_pull",
    "policy_list",
)
TOLERANCE = 1e-9

Key = tuple[str, str, str, str]  # (topic, question, group, figure)


class Package:
    """The files of one package, parsed."""

    def __init__(self, data: bytes) -> None:
        zf = zipfile.ZipFile(io.BytesIO(data))
        self.names = set(zf.namelist())
        self.settings: dict[str, Any] = json.loads(zf.read("round.json"))
        self.rules: dict[str, Any] = self.settings["rules"]
        self.t: int = self.rules["t"]
        assert self.t == self.rules["k"] + 1
        self.number: int = self.settings["number"]
        self.questions = [q for q in self.settings["questions"] if q["applies_to"] == "topic"]
        self.rounds = {int(n): r for n, r in self.settings["rounds"].items()}
        self.responses = {n: _csv(zf, r["responses"]) for n, r in self.rounds.items()}
        self.stats = _csv(zf, "stats.csv")
        self.documents = {
            name: json.loads(zf.read(name)) for name in sorted(self.names) if name.startswith(("scoring/", "editions/"))
        }

    @property
    def items(self) -> list[dict[str, Any]]:
        """Questions summarised per topic: not free text, not the expertise item (it counts respondents)."""
        return [q for q in self.questions if q["type"] != "text" and q["key"] != "expertise"]

    def weight(self, level: str) -> float:
        weights = self.rules["expertise_weights"]
        return float(weights[level] if level in weights else weights.get(self.rules["no_expertise_weight_of"], 0.0))


def _csv(zf: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(zf.read(name).decode())))


# ---------------------------------------------------------------------------
# Exact statistics
# ---------------------------------------------------------------------------


def quantile7(xs: list[Fraction], p: Fraction) -> Fraction:
    """Hyndman–Fan type 7 of sorted values: h = (n − 1) p (0-based), linear interpolation."""
    h = (len(xs) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def variance(xs: list[Fraction]) -> Fraction:
    mean = sum(xs, Fraction(0)) / len(xs)
    return sum(((x - mean) ** 2 for x in xs), Fraction(0)) / (len(xs) - 1)


def quartiles(values: list[Fraction]) -> dict[str, float | None]:
    xs = sorted(values)
    if not xs:
        return {"median": None, "q1": None, "q3": None, "iqr": None}
    q1, q3 = quantile7(xs, Fraction(1, 4)), quantile7(xs, Fraction(3, 4))
    return {"median": float(quantile7(xs, Fraction(1, 2))), "q1": float(q1), "q3": float(q3), "iqr": float(q3 - q1)}


def index(pairs: list[tuple[Fraction, Fraction]], mid: Fraction) -> float | None:
    """25 · (Σ w · (value − mid) / Σ w + 2) over (value, weight) pairs; None without weight."""
    total = sum((w for _, w in pairs), Fraction(0))
    if total == 0:
        return None
    return float(25 * (sum((w * (v - mid) for v, w in pairs), Fraction(0)) / total + 2))


def wilcoxon(before: list[Fraction], after: list[Fraction]) -> dict[str, Any]:
    """Two-sided signed-rank test on before − after, zero differences dropped (round.json rules.wilcoxon)."""
    d = [b - a for b, a in zip(before, after, strict=True) if b != a]
    if not d:
        return {"statistic": None, "p": None, "method": None}
    magnitudes = sorted(abs(x) for x in d)
    rank: dict[Fraction, Fraction] = {}
    ties = Counter(magnitudes)
    position = 0
    for value in sorted(ties):
        count = ties[value]
        rank[value] = Fraction(2 * position + count + 1, 2)  # average of positions + 1 … + count
        position += count
    w_plus = sum((rank[abs(x)] for x in d if x > 0), Fraction(0))
    w_minus = sum((rank[abs(x)] for x in d if x < 0), Fraction(0))
    n = len(d)
    if n <= 50:
        # Exact null distribution of W+ given the (tied) ranks: each sign ± with probability 1/2, so count
        # the sign patterns by their sum of doubled ranks (whole numbers) — exact, untied or tied.
        doubled = [int(2 * rank[abs(x)]) for x in d]
        ways = [1] + [0] * sum(doubled)
        for r in doubled:
            for s in range(len(ways) - 1, r - 1, -1):
                ways[s] += ways[s - r]
        w = int(2 * w_plus)
        below = Fraction(sum(ways[: w + 1]), 2**n)
        above = Fraction(sum(ways[w:]), 2**n)
        p = min(1.0, float(2 * min(below, above)))
        method = "exact" if all(c == 1 for c in ties.values()) else "exact_conditional"
    else:
        tie_term = sum(c**3 - c for c in ties.values())
        se = math.sqrt((n * (n + 1) * (2 * n + 1) - tie_term / 2) / 24)
        z = float(w_plus - Fraction(n * (n + 1), 4)) / se
        p = math.erfc(abs(z) / math.sqrt(2))
        method = "normal"
    return {"statistic": float(min(w_plus, w_minus)), "p": p, "method": method}


# ---------------------------------------------------------------------------
# Disclosure rules (codebook, "Disclosure control")
# ---------------------------------------------------------------------------


def big_enough(n: int, t: int) -> bool:
    return n == 0 or n >= t


def shown_sectors(counts: Counter[str], *, t: int, total: int, groups: list[str]) -> list[str]:
    shown = {g for g in groups if counts.get(g, 0) >= t}
    hidden = total - sum(counts[g] for g in shown)
    while shown and 0 < hidden < t:
        smallest = min(shown, key=lambda g: (counts[g], g))
        shown.remove(smallest)
        hidden += counts[smallest]
    return sorted(shown)


def hidden_reason(counts: Counter[str], shown: list[str], groups: list[str]) -> str | None:
    if any(counts.get(g) for g in groups if g not in shown):
        return SMALL_COMPLEMENT if shown else SMALL_GROUP
    return None


# ---------------------------------------------------------------------------
# Reports: the released figures of each topic of one round
# ---------------------------------------------------------------------------


class Answer:
    __slots__ = ("expertise", "respondent", "sector", "value")

    def __init__(self, row: dict[str, str]) -> None:
        self.respondent = row["respondent"]
        self.sector = row["sector"]
        self.expertise = row["expertise"] or "none"
        self.value = row["value"]


def _cells(pkg: Package, number: int) -> dict[str, dict[str, list[Answer]]]:
    cells: dict[str, dict[str, list[Answer]]] = defaultdict(lambda: defaultdict(list))
    for row in pkg.responses[number]:
        cells[row["topic"]][row["question"]].append(Answer(row))
    return cells


def topic_reports(pkg: Package, number: int) -> dict[str, dict[str, Any]]:
    """Per topic of round ``number`` with answers to a summarised item: what the codebook says is released."""
    cells = _cells(pkg, number)
    previous = _cells(pkg, number - 1) if number - 1 in pkg.responses else None
    keys = {q["key"] for q in pkg.items}
    reports = {}
    for topic, questions in cells.items():
        if not keys & set(questions):
            continue
        items = {}
        for q in pkg.items:
            if q["key"] in questions:
                before = (previous or {}).get(topic, {}).get(q["key"], []) if number > 1 else None
                items[q["key"]] = _item(pkg, q, questions[q["key"]], before, number, topic=questions)
        tech = items.get("tech_year", {}).get("median")
        social = items.get("social_year", {}).get("median")
        reports[topic] = {
            "round": number,
            "respondents": _respondents(pkg, questions),
            "items": items,
            "social_lag": social - tech if tech is not None and social is not None else None,
        }
    return reports


def _respondents(pkg: Package, questions: dict[str, list[Answer]]) -> dict[str, Any]:
    who = {a.respondent: a for answers in questions.values() for a in answers}
    n = len(who)
    if n < pkg.t:
        return {"n": None, "suppressed": {"all": SMALL_GROUP}}
    levels = Counter(a.expertise for a in who.values())
    sectors = Counter(a.sector for a in who.values())
    groups = pkg.rules["sector_groups"]
    shown = shown_sectors(sectors, t=pkg.t, total=n, groups=groups)
    out: dict[str, Any] = {
        "n": n,
        "by_expertise": {level: levels.get(level, 0) for level in (*LEVELS, "none")},
        "by_sector": {g: sectors[g] for g in shown},
        "other_sectors": n - sum(sectors[g] for g in shown),
        "suppressed": {},
    }
    reason = hidden_reason(sectors, shown, groups)
    if reason:
        out["suppressed"]["by_sector"] = reason
    return out


def _item(
    pkg: Package,
    q: dict[str, Any],
    answers: list[Answer],
    before: list[Answer] | None,
    number: int,
    *,
    topic: dict[str, list[Answer]],
) -> dict[str, Any]:
    t = pkg.t
    valid = [a for a in answers if a.value != ""]
    n = len(valid)
    if n < t:
        return {"n": None, "suppressed": {"all": SMALL_GROUP}}
    out: dict[str, Any] = {"n": n, "n_cant_judge": len(answers) - n}
    suppressed: dict[str, str] = {}
    if q["type"] == "scale":
        respondents = list({a.respondent: a for rows in topic.values() for a in rows}.values())
        _scale(pkg, q, valid, out, suppressed, respondents=respondents)
        if before is not None:
            _change(pkg, valid, before, number, out, suppressed)
    elif q["type"] == "year":
        years = [Fraction(a.value) for a in valid if a.value not in ("already", "never")]
        out["share_already"] = sum(a.value == "already" for a in valid) / n
        out["share_never"] = sum(a.value == "never" for a in valid) / n
        if big_enough(len(years), t):  # no year at all: nothing to summarise, nothing hidden
            out["n_years"] = len(years)
            out.update(quartiles(years))
            out["consensus"] = out["iqr"] is not None and out["iqr"] <= pkg.rules["consensus_rule"]["year_iqr_max"]
        else:
            out["n_years"] = None
            suppressed["years"] = SMALL_GROUP
    elif q["type"] in ("single", "multi"):
        codes = [str(o["code"]) for o in q["options"]]
        chosen = Counter(c for a in valid for c in (a.value.split("|") if q["type"] == "multi" else [a.value]))
        out["counts"] = {c: chosen.get(c, 0) for c in codes}
        out["shares"] = {c: chosen.get(c, 0) / n for c in codes}
    out["suppressed"] = suppressed
    return out


def _scale(
    pkg: Package,
    q: dict[str, Any],
    valid: list[Answer],
    out: dict[str, Any],
    suppressed: dict[str, str],
    *,
    respondents: list[Answer],
) -> None:
    t = pkg.t

    def unanswered_small(key: Any) -> bool:
        # The topic's respondents of a group shown for the item who did not answer it: 0 or at least t.
        topic, item = Counter(key(a) for a in respondents), Counter(key(a) for a in valid)
        return any(not big_enough(topic[g] - item.get(g, 0), t) for g in topic)

    n = len(valid)
    options = [Fraction(o.get("value", o["code"])) for o in q["options"]]
    low, high = min(options), max(options)
    mid = (low + high) / 2
    values = [Fraction(a.value) for a in valid]
    out["distribution"] = {str(int(v)): sum(x == v for x in values) for v in options}
    out["mean"] = float(sum(values, Fraction(0)) / n)
    out["sd"] = math.sqrt(variance(values)) if n > 1 else None
    out.update(quartiles(values))
    out["top2"] = sum(x >= high - 1 for x in values) / n
    out["bottom2"] = sum(x <= low + 1 for x in values) / n
    out["rwg"] = (
        min(1.0, max(0.0, float(1 - variance(values) / Fraction(len(options) ** 2 - 1, 12)))) if n > 1 else None
    )
    if len(options) == 5:
        rule = pkg.rules["consensus_rule"]
        out["consensus"] = (
            out["iqr"] <= rule["scale_iqr_max"]
            and out["top2"] >= rule["top2_min"]
            and out["bottom2"] < rule["bottom2_max"]
        )
    if not q["index"]:
        return
    out["index"] = index([(v, Fraction(1)) for v in values], mid)
    # High expertise: the subgroup, its complement, and the minimum evidence.
    high_answers = [a for a in valid if a.expertise == "high"]
    if len(high_answers) < t:
        suppressed["index_high"] = SMALL_GROUP
    elif not big_enough(n - len(high_answers), t):
        suppressed["index_high"] = SMALL_COMPLEMENT
    elif len(high_answers) < pkg.rules["min_high_respondents"]:
        suppressed["index_high"] = MIN_EVIDENCE
    elif unanswered_small(lambda a: a.expertise == "high"):
        suppressed["index_high"] = SMALL_OVERLAP
    released_high = "index_high" not in suppressed
    out["n_high"] = len(high_answers) if released_high else None
    out["index_high"] = index([(Fraction(a.value), Fraction(1)) for a in high_answers], mid) if released_high else None

    # Weighted: every weight class present — split into high and the others where the high index is
    # shown, which pins that part down — needs 0 or at least t respondents.
    def weight_class(a: Answer) -> tuple[Any, Any]:
        return (pkg.weight(a.expertise), a.expertise == "high" if released_high else None)

    classes = Counter(weight_class(a) for a in valid)
    released_weighted = all(big_enough(c, t) for c in classes.values())
    if released_weighted and unanswered_small(weight_class):
        released_weighted = False
        suppressed["index_weighted"] = SMALL_OVERLAP
    if released_weighted:
        pairs = [(Fraction(a.value), Fraction(pkg.weight(a.expertise))) for a in valid]
        out["index_weighted"] = index(pairs, mid)
    else:
        out["index_weighted"] = None
        suppressed.setdefault("index_weighted", SMALL_WEIGHT_CLASS)
    groups = pkg.rules["sector_groups"]
    sectors = Counter(a.sector for a in valid)
    shown = shown_sectors(sectors, t=t, total=n, groups=groups)
    out["sectors"] = {
        g: {"n": sectors[g], "index": index([(Fraction(a.value), Fraction(1)) for a in valid if a.sector == g], mid)}
        for g in shown
    }
    reason = hidden_reason(sectors, shown, groups)
    if reason:
        suppressed["sectors"] = reason

    # Sectors next to expertise groups: no cell where they cross may hold 1 … t−1 respondents.
    def part(a: Answer) -> tuple[Any, Any]:
        return (
            pkg.weight(a.expertise) if released_weighted else None,
            a.expertise == "high" if released_high else None,
        )

    if shown and len({part(a) for a in valid}) > 1:
        cross = Counter((part(a), a.sector if a.sector in shown else "") for a in valid)
        if any(not big_enough(c, t) for c in cross.values()):
            out["sectors"] = {}
            suppressed["sectors"] = SMALL_OVERLAP
    if out["sectors"] and unanswered_small(lambda a: a.sector if a.sector in out["sectors"] else ""):
        out["sectors"] = {}
        suppressed["sectors"] = SMALL_OVERLAP


def _subgroup_moved(pkg: Package, valid: list[Answer], before: list[Answer], out: dict[str, Any]) -> bool:
    """Rounds rule for the subgroups shown beside the change: for every group of this round's figures
    (high / the rest, weight class, shown sector / the others) that splits the respondents, those who
    left it and those who joined it since the previous round — leaving or joining the item, or stating
    another expertise level — number 0 or at least t."""
    high, weighted = out.get("index_high") is not None, out.get("index_weighted") is not None
    shown = out.get("sectors") or {}

    def level_part(expertise: str) -> Any:
        return (pkg.weight(expertise) if weighted else None, expertise == "high" if high else None)

    def sector_part(sector: str) -> str:
        return sector if sector in shown else ""

    was = {a.respondent: a for a in before if a.value != ""}
    now = {a.respondent: a for a in valid}
    for part, attribute, applies in ((level_part, "expertise", high or weighted), (sector_part, "sector", shown)):
        if not applies or len({part(getattr(a, attribute)) for a in valid}) < 2:
            continue
        left: Counter[Any] = Counter()
        joined: Counter[Any] = Counter()
        for r in set(was) | set(now):
            a = part(getattr(was[r], attribute)) if r in was else None
            b = part(getattr(now[r], attribute)) if r in now else None
            if a != b:
                if a is not None:
                    left[a] += 1
                if b is not None:
                    joined[b] += 1
        if any(not big_enough(c, pkg.t) for c in (*left.values(), *joined.values())):
            return True
    return False


def _change(
    pkg: Package,
    valid: list[Answer],
    before: list[Answer],
    number: int,
    out: dict[str, Any],
    suppressed: dict[str, str],
) -> None:
    """The change on the paired respondents (a valid answer in both rounds), if the rounds rule releases it."""
    t = pkg.t
    earlier = {a.respondent: Fraction(a.value) for a in before if a.value != ""}
    now = {a.respondent: Fraction(a.value) for a in valid}
    paired = sorted(set(earlier) & set(now))
    if len(paired) < t:
        suppressed["change"] = SMALL_GROUP
    elif not big_enough(len(earlier) - len(paired), t) or not big_enough(len(now) - len(paired), t):
        suppressed["change"] = ATTRITION
    elif _subgroup_moved(pkg, valid, before, out):
        suppressed["change"] = ATTRITION
    if "change" in suppressed:
        out["change"] = None
        return
    xs = [earlier[r] for r in paired]
    ys = [now[r] for r in paired]
    change: dict[str, Any] = {"from_round": number - 1, "n_paired": len(paired)}
    for side, values in (("before", xs), ("after", ys)):
        for name, value in quartiles(values).items():
            change[f"{name}_{side}"] = value
    change["delta_iqr"] = change["iqr_after"] - change["iqr_before"]
    changed = sum(x != y for x, y in zip(xs, ys, strict=True))
    change["share_changed"] = changed / len(paired)
    change["n_nonzero"] = changed
    test = wilcoxon(xs, ys)
    change["wilcoxon_statistic"] = test["statistic"]
    change["wilcoxon_p"] = test["p"]
    change["wilcoxon_method"] = test["method"]
    out["change"] = change


# ---------------------------------------------------------------------------
# stats.csv
# ---------------------------------------------------------------------------


def stats_figures(pkg: Package) -> dict[Key, Any]:
    """Every row stats.csv must hold, keyed (topic, question, group, figure), from the responses alone."""
    reports = topic_reports(pkg, pkg.number)
    topics = set(pkg.rounds[pkg.number]["topics"]) | set(reports)
    nobody = {"n": None, "suppressed": {"all": SMALL_GROUP}}
    out: dict[Key, Any] = {}
    for topic in sorted(topics):
        report = reports.get(topic) or {"respondents": nobody, "items": {}, "social_lag": None}
        who = report["respondents"]
        rows: list[tuple[str, str, str, Any]] = []
        if who["n"] is None:
            rows.append(("", "respondents", "n", _withheld(who["suppressed"]["all"])))
        else:
            rows.append(("", "respondents", "n", who["n"]))
            rows += [("", "respondents", f"by_expertise:{lv}", c) for lv, c in who["by_expertise"].items()]
            rows += [("", "respondents", f"by_sector:{g}", c) for g, c in who["by_sector"].items()]
            if "by_sector" in who["suppressed"]:
                rows.append(("", "respondents", "by_sector:*", _withheld(who["suppressed"]["by_sector"])))
            rows.append(("", "respondents", "other_sectors", who["other_sectors"]))
        rows.append(("", "all", "social_lag", _social_lag(report)))
        for q in pkg.items:
            rows += [(q["key"], *row) for row in _item_rows(q, report["items"].get(q["key"]) or nobody)]
        for question, group, figure, value in rows:
            key = (topic, question, group, figure)
            assert key not in out, key
            out[key] = value
    return out


def _withheld(reason: str) -> str:
    return f"suppressed:{reason}"


def _social_lag(report: dict[str, Any]) -> Any:
    if report["social_lag"] is not None:
        return report["social_lag"]
    for key in ("tech_year", "social_year"):
        item = report["items"].get(key) or {"suppressed": {"all": SMALL_GROUP}}
        if item.get("median") is None:
            return _withheld(item["suppressed"].get("all") or item["suppressed"].get("years") or SMALL_GROUP)
    raise AssertionError("both medians released but no lag")


def _item_rows(q: dict[str, Any], item: dict[str, Any]) -> list[tuple[str, str, Any]]:
    suppressed = item["suppressed"]
    if item["n"] is None:
        return [("all", "n", _withheld(suppressed["all"]))]
    rows: list[tuple[str, str, Any]] = [("all", "n", item["n"]), ("all", "n_cant_judge", item["n_cant_judge"])]
    if q["type"] == "scale":
        rows += [("all", f"distribution:{v}", c) for v, c in item["distribution"].items()]
        for figure in ("mean", "sd", "median", "q1", "q3", "iqr", "top2", "bottom2", "rwg", "consensus", "index"):
            if figure in item:
                rows.append(("all", figure, item[figure]))
        if q["index"]:
            for group, figures in (("high", ("n_high", "index_high")), ("weighted", ("index_weighted",))):
                reason = suppressed.get(f"index_{group}")
                rows += [(group, f, _withheld(reason) if reason else item[f]) for f in figures]
            for g, figures in item["sectors"].items():
                rows += [(f"sector:{g}", "n", figures["n"]), (f"sector:{g}", "index", figures["index"])]
            if "sectors" in suppressed:
                rows += [("sector:*", f, _withheld(suppressed["sectors"])) for f in ("n", "index")]
        if "change" in item:
            change = item["change"]
            rows += [
                ("change", f, _withheld(suppressed["change"]) if change is None else change[f]) for f in CHANGE_FIGURES
            ]
    elif q["type"] == "year":
        for figure in ("n_years", "median", "q1", "q3", "iqr", "consensus"):
            rows.append(("all", figure, _withheld(suppressed["years"]) if "years" in suppressed else item[figure]))
        rows += [("all", f, item[f]) for f in ("share_already", "share_never")]
    else:
        rows += [("all", f"counts:{c}", v) for c, v in item["counts"].items()]
        rows += [("all", f"shares:{c}", v) for c, v in item["shares"].items()]
    return rows


def published_stats(pkg: Package) -> dict[Key, str]:
    out = {}
    for row in pkg.stats:
        key = (row["topic"], row["question"], row["group"], row["figure"])
        assert key not in out, key
        out[key] = row["value"]
    return out


def cell_matches(expected: Any, written: str) -> bool:
    """A recomputed value against a stats.csv cell (the codebook's formatting)."""
    if expected is None:
        return written == ""
    if isinstance(expected, bool):
        return written == ("true" if expected else "false")
    if isinstance(expected, int):
        return written == str(expected)
    if isinstance(expected, float):
        return (
            written not in ("", "true", "false")
            and not written.startswith("suppressed:")
            and (abs(float(written) - expected) <= TOLERANCE)
        )
    return written == expected


# ---------------------------------------------------------------------------
# Editions: reports, criteria, normalisation, score
# ---------------------------------------------------------------------------


def last_rounds(pkg: Package) -> dict[str, int]:
    """Each topic's last round in the package that asked it (the round its published figures come from)."""
    out: dict[str, int] = {}
    for number in sorted(pkg.rounds):
        for topic in pkg.rounds[number]["topics"]:
            out[topic] = number
    return out


def _timing(pkg: Package, answers: list[Answer]) -> float:
    start, horizon = pkg.rules["timing"]["start_year"], pkg.rules["timing"]["horizon_year"]
    us = []
    for a in answers:
        if a.value == "already":
            us.append(Fraction(1))
        elif a.value == "never":
            us.append(Fraction(0))
        elif horizon <= start:
            us.append(Fraction(int(Fraction(a.value) <= horizon)))
        else:
            us.append(min(Fraction(1), max(Fraction(0), (horizon - Fraction(a.value)) / (horizon - start))))
    return float(100 * sum(us, Fraction(0)) / len(us))


def scoring(pkg: Package, run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per topic of a scoring run: its report, evidence, criteria, normalised criteria, stand-ins and score."""
    rounds = last_rounds(pkg)
    reports_by_round = {number: topic_reports(pkg, number) for number in sorted(set(rounds.values()))}
    cells_by_round = {number: _cells(pkg, number) for number in sorted(set(rounds.values()))}
    t = pkg.t
    minimum = max(pkg.rules["min_respondents"], t)
    weights = {name: float(run["weights"].get(name, 0.0)) for name in CRITERIA}
    total = sum(weights.values())
    weights = {name: w / total for name, w in weights.items()}
    out: dict[str, dict[str, Any]] = {}
    for topic, number in sorted(rounds.items()):
        report = reports_by_round[number].get(topic) or {
            "round": number,
            "respondents": {"n": None, "suppressed": {"all": SMALL_GROUP}},
            "items": {},
            "social_lag": None,
        }
        n = len({a.respondent for answers in cells_by_round[number].get(topic, {}).values() for a in answers})
        entry: dict[str, Any] = {
            "report": report,
            "round": number,
            "n": report["respondents"]["n"],
            "ranked": n >= minimum,
        }
        if entry["ranked"]:
            items = report["items"]
            imp = items.get("importance") or {"n": None}
            comp = items.get("competitiveness") or {"n": None}
            tech = items.get("tech_year") or {"n": None}
            fixed = run["results"]["topics"][topic]["criteria"]
            all_index = imp.get("index") if imp["n"] is not None else None
            entry["criteria"] = {
                "importance_index": all_index,
                "importance_index_high": imp.get("index_high") if imp.get("index_high") is not None else all_index,
                "importance_index_weighted": (
                    imp.get("index_weighted") if imp.get("index_weighted") is not None else all_index
                ),
                "competitiveness_gap": 100 - comp["index"] if comp["n"] is not None else None,
                "timing": (
                    _timing(pkg, [a for a in cells_by_round[number][topic]["tech_year"] if a.value != ""])
                    if tech["n"] is not None
                    else None
                ),
                "scenario_pull": fixed["scenario_pull"],
                "policy_list": fixed["policy_list"],
            }
            entry["fallbacks"] = _fallbacks(items, weights)
        out[topic] = entry
    ranked = [topic for topic, e in out.items() if e["ranked"]]
    for name in CRITERIA:
        present = [out[topic]["criteria"][name] for topic in ranked if out[topic]["criteria"][name] is not None]
        lo, hi = (min(present), max(present)) if present else (0.0, 0.0)
        for topic in ranked:
            value = out[topic]["criteria"][name]
            norm = None if value is None else 0.5 if hi == lo else (value - lo) / (hi - lo)
            out[topic].setdefault("normalised", {})[name] = norm
    for topic in ranked:
        out[topic]["score"] = sum(weights[c] * (out[topic]["normalised"][c] or 0.0) for c in CRITERIA)
    return out


def views(report: dict[str, Any], thresholds: dict[str, Any]) -> dict[str, Any]:
    """The figures an entry shows beside its report: indices, realisation years, matrix quadrants and the
    spread of the shown sectors' indices (divergent at 15 index points or more)."""
    items = report["items"]
    indices = {
        key: {f: (items.get(key) or {}).get(f) for f in ("n", "index", "n_high", "index_high", "index_weighted")}
        for key in ("importance", "competitiveness")
    }
    timing = {}
    for key in ("tech_year", "social_year"):
        item = items.get(key) or {}
        figures = ("n", "n_years", "median", "q1", "q3", "share_already", "share_never")
        timing[key] = {f: item.get(f) for f in figures} if item.get("n") is not None else None
    importance = indices["importance"]["index"]
    competitiveness = indices["competitiveness"]["index"]
    year = timing["tech_year"]["median"] if timing["tech_year"] else None
    quadrant: dict[str, str | None] = {"importance_competitiveness": None, "importance_timing": None}
    important = importance is not None and importance >= thresholds["importance"]
    if importance is not None and competitiveness is not None:
        strong = competitiveness >= thresholds["competitiveness"]
        quadrant["importance_competitiveness"] = (
            ("lead_maintain" if strong else "strengthen") if important else ("watch" if strong else "deprioritise")
        )
    if importance is not None and year is not None:
        soon = year <= thresholds["plan_end_year"]
        quadrant["importance_timing"] = (
            ("act_now" if soon else "build_up") if important else ("adopt" if soon else "monitor")
        )
    groups = {}
    for key in ("importance", "competitiveness"):
        shown = (items.get(key) or {}).get("sectors") or {}
        present = [v["index"] for v in shown.values() if v["index"] is not None]
        gap = max(present) - min(present) if len(present) >= 2 else None
        groups[key] = {"shown": shown, "gap": gap, "divergent": gap is not None and gap >= 15}
    return {
        "indices": indices,
        "timing": timing,
        "quadrant": quadrant,
        "groups": groups,
        "divergent": any(g["divergent"] for g in groups.values()),
    }


def _fallbacks(items: dict[str, Any], weights: dict[str, float]) -> list[dict[str, Any]]:
    """Every criterion computed from something else than its own figure, in the criteria's order."""
    out = []
    needs = (
        ("importance_index", "importance", None),
        ("importance_index_high", "importance", "index_high"),
        ("importance_index_weighted", "importance", "index_weighted"),
        ("competitiveness_gap", "competitiveness", None),
        ("timing", "tech_year", None),
    )
    for criterion, key, figure in needs:
        item = items.get(key) or {"n": None, "suppressed": {}}
        if item["n"] is None:
            used, reason = "worst", item["suppressed"].get("all", SMALL_GROUP)
        elif figure is not None and item.get(figure) is None:
            used, reason = "importance_index", item["suppressed"].get(figure, SMALL_GROUP)
        else:
            continue
        out.append({"criterion": criterion, "used": used, "reason": reason, "in_score": weights[criterion] > 0})
    return out


def differences(expected: Any, published: Any, path: str = "") -> list[str]:
    """Where two JSON-like values differ; numbers compared to ``TOLERANCE`` (stored to 10 decimals)."""
    if isinstance(expected, dict) and isinstance(published, dict):
        if set(expected) != set(published):
            return [f"{path}: keys {sorted(expected)} != {sorted(published)}"]
        return [d for k in sorted(expected) for d in differences(expected[k], published[k], f"{path}.{k}")]
    if isinstance(expected, list) and isinstance(published, list) and len(expected) == len(published):
        return [
            d
            for i, (e, p) in enumerate(zip(expected, published, strict=True))
            for d in differences(e, p, f"{path}[{i}]")
        ]
    numbers = (int, float)
    if (
        isinstance(expected, numbers)
        and isinstance(published, numbers)
        and not isinstance(expected, bool)
        and not isinstance(published, bool)
    ):
        return [] if abs(expected - published) <= TOLERANCE else [f"{path}: {expected!r} != {published!r}"]
    return [] if expected == published else [f"{path}: {expected!r} != {published!r}"]
