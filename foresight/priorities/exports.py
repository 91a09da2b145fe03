"""Open-data writers of a published edition: entries CSV, edition JSON and the Build-Your-Own-Radar CSV.

Plain Python, no Django import: the views hand in plain rows (see ``selectors.edition_export_rows``)
and serve what comes back.  Every number leaves at its published precision (``foresight.numbers``):
the entries CSV writes each figure with its kind's fixed decimals (``ENTRY_KINDS``), and the edition
JSON rounds the figures of an entry's data by ``published_figures`` (``DATA_KINDS``), so the page, the
charts, the CSV and the JSON say the same number.  Two guards apply to everything written here:

* small cells: ``published_aggregates`` removes any count below the smallest group the disclosure
  layer releases (k + 1, ``foresight.disclosure``) and the figures computed from it from an entry's
  published data, whatever the scoring run stored — defence in depth on top of the layer itself;
* spreadsheets: every text cell that a spreadsheet would read as a formula (starting with
  ``=``, ``+``, ``-``, ``@``, tab or carriage return), or that starts with a single quote itself,
  is prefixed with a single quote (``foresight.core.spreadsheet``).

The Build-Your-Own-Radar file (``byor_radar`` → ``byor_csv``) is for Thoughtworks' BYOR
(github.com/thoughtworks/build-your-own-radar).  Its rules, as read in BYOR's source:

* headers: ``src/util/contentValidator.js`` (``verifyHeaders``) refuses a file without the columns
  ``name``, ``ring``, ``quadrant``, ``isNew`` and ``description`` (names trimmed, case-sensitive;
  message ``MISSING_HEADERS`` in ``src/util/exceptionMessages.js``), and one without any column
  (``MISSING_CONTENT``).  ``src/util/inputSanitizer.js`` trims every key and value and strips all
  HTML from name, ring, quadrant and isNew; ``description`` keeps simple HTML (``p``, ``b``, ``a``…).
* ``status`` is optional (README, "Want to show blip movement information?"): case-insensitive
  ``New``, ``Moved In``, ``Moved Out`` or ``No Change``; newer releases hand it to the blip
  (``new Blip(…, blip.status, …)`` in ``src/util/factory.js``) and draw a moved blip with its
  direction.  ``isNew``: ``src/util/factory.js`` reads ``isNew.toLowerCase() === 'true'``, so any
  other value silently means "not new" — we write and accept only TRUE/FALSE.
* quadrants: the renderer that takes its names from the data (``plotRadar`` in
  ``src/util/factory.js``) makes one quadrant per distinct ``quadrant`` value, in the order of first
  appearance; ``src/models/radar.js`` throws ``TOO_MANY_QUADRANTS`` ("There are more than 4 quadrant
  names listed in your data") on a fifth and ``LESS_THAN_FOUR_QUADRANTS`` when fewer than four are
  listed: exactly four.  An empty quadrant breaks it (``blip.quadrant[0].toUpperCase()``).
* rings: one per distinct ``ring`` value, innermost first in the order of first appearance; a fifth
  throws ``TOO_MANY_RINGS`` ("More than 4 rings.").
* the 2022 interface (``plotRadarGraph``, feature toggle ``UIRefresh2022`` in ``src/config.js``) takes
  quadrant and ring names from its configuration instead (``src/graphing/config.js``: ``QUADRANTS``,
  exactly four, and ``RINGS``, one to four; defaults Techniques / Platforms / Tools / Languages &
  Frameworks and Adopt / Trial / Assess / Hold) and silently drops every blip whose quadrant or ring
  is not among them (compared case-insensitively).  So the hosted radar.thoughtworks.com draws our
  file only when run with ``QUADRANTS`` and ``RINGS`` set to the names in the file.
* names: nothing in BYOR refuses an empty name (the sanitizer only trims it), but a blip without a
  name tells a reader nothing, so ``byor_problems`` counts it as a problem.

What goes where (``byor_radar``): quadrant = the topic's quadrant of the importance ×
competitiveness matrix (``strengthen``, ``lead_maintain``, ``watch``, ``deprioritise``, written as
their labels); ring = the tier's label (at most four tiers); ``status`` and ``isNew`` from the radar
status against the previous edition; the description's first paragraph names the topic's
direction ("Direction: Health"), then the statement and the rationale, each an escaped paragraph.
A topic without a quadrant (an index withheld below k) has no place on that radar and is left out
(the edition page says how many).  Rows go ring by ring from the centre, then quadrant by quadrant,
then by rank, so BYOR draws the rings in tier order.  When the placed topics fill fewer than four
quadrants no file BYOR can load exists: ``byor_radar`` says which quadrants are empty and the view
answers 409 with that explanation instead of a file (no placeholder blips are invented).
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from foresight import numbers
from foresight.core.spreadsheet import spreadsheet_text

BYOR_HEADER = ("name", "ring", "quadrant", "isNew", "status", "description")
# The columns BYOR refuses a file without (src/util/contentValidator.js); ``status`` is optional.
BYOR_REQUIRED = ("name", "ring", "quadrant", "isNew", "description")
BYOR_STATUS = {"new": "New", "moved_in": "Moved In", "moved_out": "Moved Out", "unchanged": "No Change"}
BYOR_STATUS_VALUES = frozenset(value.lower() for value in BYOR_STATUS.values())
BYOR_MAX_RINGS = 4
# Keys of published data that count the respondents of a released group: each must be ≥ k + 1 or absent.
COUNT_KEYS = frozenset({"n", "n_high", "n_years", "n_paired"})
# Figures that go with a count (``n`` with every figure of its group, ``n_high`` with ``index_high``,
# ``n_years`` with the year quartiles, ``n_paired`` with the change between rounds).
DEPENDENT = {
    "n_high": ("index_high",),
    "n_years": ("median", "q1", "q3", "iqr", "consensus"),
}
KEEP = frozenset({"suppressed", "from_round", "round"})

ENTRY_COLUMNS = (
    "edition",
    "rank",
    "rank_low",
    "rank_high",
    "topic",
    "topic_name_en",
    "topic_name_zh",
    "direction",
    "tier",
    "score",
    "median_rank",
    "p_top_k",
    "n",
    "importance_index",
    "importance_index_high",
    "importance_index_weighted",
    "competitiveness_index",
    "tech_year_median",
    "tech_year_q1",
    "tech_year_q3",
    "social_year_median",
    "quadrant_importance_competitiveness",
    "quadrant_importance_timing",
    "divergent",
    "rationale_en",
    "rationale_zh",
    "round",
    "evidence_sufficient",
    "importance_n_high",
    "competitiveness_index_high",
    "competitiveness_index_weighted",
    "tech_year_share_already",
    "tech_year_share_never",
    "social_year_q1",
    "social_year_q3",
    "social_lag",
    "fallbacks",
    "withheld",
)


# The kind of figure (``foresight.numbers.PRECISION``) of every numeric column of ``entries.csv``.
ENTRY_KINDS = {
    "rank": "count",
    "rank_low": "rank",
    "rank_high": "rank",
    "score": "score",
    "median_rank": "rank",
    "p_top_k": "probability",
    "n": "count",
    "importance_index": "index",
    "importance_index_high": "index",
    "importance_index_weighted": "index",
    "competitiveness_index": "index",
    "tech_year_median": "year",
    "tech_year_q1": "year",
    "tech_year_q3": "year",
    "social_year_median": "year",
    "round": "count",
    "importance_n_high": "count",
    "competitiveness_index_high": "index",
    "competitiveness_index_weighted": "index",
    "tech_year_share_already": "share",
    "tech_year_share_never": "share",
    "social_year_q1": "year",
    "social_year_q3": "year",
    "social_lag": "year",
}

# The kind of every number of an entry's published data, by its path ("*": any key at that level).
DATA_KINDS: dict[tuple[str, ...], str] = {
    ("n",): "count",
    ("round",): "count",
    ("evidence", "min_respondents"): "count",
    ("evidence", "min_high"): "count",
    ("median_rank",): "rank",
    ("p_top_k",): "probability",
    ("indices", "*", "n"): "count",
    ("indices", "*", "n_high"): "count",
    ("indices", "*", "index"): "index",
    ("indices", "*", "index_high"): "index",
    ("indices", "*", "index_weighted"): "index",
    ("timing", "*", "n"): "count",
    ("timing", "*", "n_years"): "count",
    ("timing", "*", "median"): "year",
    ("timing", "*", "q1"): "year",
    ("timing", "*", "q3"): "year",
    ("timing", "*", "share_already"): "share",
    ("timing", "*", "share_never"): "share",
    ("groups", "*", "gap"): "index",
    ("groups", "*", "shown", "*", "n"): "count",
    ("groups", "*", "shown", "*", "index"): "index",
}


# The released report of a topic (``data["report"]``, ``foresight.disclosure``): the kind of a figure by
# its own name, whatever item it belongs to; a year item's quantiles are years (see ``_report_kind``).
REPORT_KINDS: dict[str, str] = {
    **dict.fromkeys(
        ("n", "n_cant_judge", "n_high", "n_years", "n_paired", "n_nonzero", "other_sectors", "round", "from_round"),
        "count",
    ),
    **dict.fromkeys(("index", "index_high", "index_weighted"), "index"),
    **dict.fromkeys(("mean", "sd", "median", "q1", "q3", "iqr", "delta_iqr"), "quantile"),
    **dict.fromkeys(("median_before", "q1_before", "q3_before", "iqr_before"), "quantile"),
    **dict.fromkeys(("median_after", "q1_after", "q3_after", "iqr_after"), "quantile"),
    **dict.fromkeys(("top2", "bottom2", "share_already", "share_never", "share_changed"), "share"),
    "rwg": "coefficient",
    "wilcoxon_statistic": "statistic",
    "wilcoxon_p": "p_value",
    "social_lag": "year",
}
# Figures under these names are tables of counts or shares (one number per answer option, level or sector).
REPORT_TABLES = {"distribution": "count", "counts": "count", "by_expertise": "count", "by_sector": "count"}
YEAR_QUANTILES = frozenset({"median", "q1", "q3", "iqr"})
# Criteria of the score on their own scales (``services.CRITERIA``), and their normalised values 0–1.
CRITERION_KINDS = {"scenario_pull": "value", "policy_list": "value"}


def _report_kind(path: Sequence[str], item: Mapping[str, Any] | None) -> str | None:
    """The kind of a number inside ``report`` (``path`` below it)."""
    name = path[-1]
    if len(path) >= 2 and path[-2] in REPORT_TABLES:
        return REPORT_TABLES[path[-2]]
    if len(path) >= 2 and path[-2] == "shares":
        return "share"
    if item is not None and "n_years" in item and name in YEAR_QUANTILES:
        return "year"
    return REPORT_KINDS.get(name)


def data_kind(path: Sequence[str], item: Mapping[str, Any] | None = None) -> str | None:
    """The kind of the number at ``path`` in an entry's published data, or None.

    ``item``: for a path inside ``report.items.<key>``, that item's released figures (a year item's
    quantiles are years, a scale item's are answer codes)."""
    for pattern, kind in DATA_KINDS.items():
        if len(pattern) == len(path) and all(p in ("*", key) for p, key in zip(pattern, path, strict=True)):
            return kind
    if path and path[0] == "report":
        return _report_kind(path[1:], item)
    if len(path) == 2 and path[0] == "criteria":
        return CRITERION_KINDS.get(path[1], "index")
    if len(path) == 2 and path[0] == "normalised":
        return "score"
    return None


def _figures(node: Any, path: tuple[str, ...], item: Mapping[str, Any] | None = None, *, exact: bool = False) -> Any:
    if isinstance(node, Mapping):
        if len(path) == 3 and path[:2] == ("report", "items"):
            item = node
        return {key: _figures(value, (*path, str(key)), item, exact=exact) for key, value in node.items()}
    if isinstance(node, list):
        return [_figures(value, path, item, exact=exact) for value in node]
    kind = data_kind(path, item)
    if kind is not None and numbers.is_figure(node):
        return numbers.quantize(node, kind) if exact else numbers.publish(node, kind)
    return node


def published_figures(data: Mapping[str, Any], *, exact: bool = False) -> dict[str, Any]:
    """An entry's published data with every figure rounded as the pages print it (``DATA_KINDS``);
    text, booleans and None are left alone.  Used by the edition API and JSON download (floats) and by
    ``figures.csv`` (``exact``: ``Decimal`` values that keep their decimals, so the file reads ``4.00``
    where the page does)."""
    return dict(_figures(dict(data), (), exact=exact))


def csv_cell(value: Any) -> str:
    """One CSV cell: a ``Decimal`` (a published figure, see ``entry_row``) with its fixed decimals, other
    numbers as written by Python, booleans TRUE/FALSE, None empty, text guarded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return spreadsheet_text(str(value))


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text (RFC 4180 quoting, CRLF line ends) of ``rows`` under ``header``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


def _suppress(node: Any, t: int) -> Any:
    if isinstance(node, list):
        return [_suppress(v, t) for v in node]
    if not isinstance(node, Mapping):
        return node
    out = {key: _suppress(value, t) for key, value in node.items()}
    for key in COUNT_KEYS:
        count = out.get(key)
        if isinstance(count, int) and not isinstance(count, bool) and count < t:
            if key in DEPENDENT:
                out[key] = None
                for figure in DEPENDENT[key]:
                    if figure in out:
                        out[figure] = None
            else:  # the whole group is too small: nothing of it stays
                out = {name: (value if name in KEEP else None) for name, value in out.items()}
    if "shown" in out and isinstance(out["shown"], Mapping):
        # A sector group is shown only with k answers (complementary suppression is the scoring's job).
        out["shown"] = {
            group: cell
            for group, cell in out["shown"].items()
            if isinstance(cell, Mapping) and isinstance(cell.get("n"), int) and cell["n"] >= t
        }
    return out


def published_aggregates(data: Mapping[str, Any], *, k: int) -> dict[str, Any]:
    """An entry's published data with every group count below k + 1 (and what was computed from it) removed."""
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    out = dict(_suppress(dict(data), k + 1))
    if "report" not in out:
        # Published before the disclosure layer (no released report): its subgroup figures — high-expertise,
        # weighted and sector indices — were not checked against differencing, so they are not shown.
        for figures in (out.get("indices") or {}).values():
            if isinstance(figures, dict):
                figures.update(index_weighted=None, index_high=None, n_high=None)
        for group in (out.get("groups") or {}).values():
            if isinstance(group, dict) and "shown" in group:
                group["shown"] = {}
    return out


def _get(data: Mapping[str, Any], *path: str) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def entry_row(edition: str, entry: Mapping[str, Any]) -> list[Any]:
    """One row of ``entries.csv`` from an export row (see ``ENTRY_COLUMNS``): each figure rounded to the
    published precision of its kind (``ENTRY_KINDS``), as a ``Decimal`` that keeps its decimals."""
    data = entry.get("data") or {}
    row = [
        edition,
        entry.get("rank"),
        entry.get("rank_low"),
        entry.get("rank_high"),
        entry.get("topic"),
        entry.get("topic_name_en"),
        entry.get("topic_name_zh"),
        entry.get("direction"),
        entry.get("tier"),
        entry.get("score"),
        _get(data, "median_rank"),
        _get(data, "p_top_k"),
        _get(data, "n"),
        _get(data, "indices", "importance", "index"),
        _get(data, "indices", "importance", "index_high"),
        _get(data, "indices", "importance", "index_weighted"),
        _get(data, "indices", "competitiveness", "index"),
        _get(data, "timing", "tech_year", "median"),
        _get(data, "timing", "tech_year", "q1"),
        _get(data, "timing", "tech_year", "q3"),
        _get(data, "timing", "social_year", "median"),
        _get(data, "quadrant", "importance_competitiveness"),
        _get(data, "quadrant", "importance_timing"),
        bool(_get(data, "divergent")),
        entry.get("rationale_en"),
        entry.get("rationale_zh"),
        _get(data, "report", "round"),
        bool(_get(data, "evidence", "sufficient")),
        _get(data, "indices", "importance", "n_high"),
        _get(data, "indices", "competitiveness", "index_high"),
        _get(data, "indices", "competitiveness", "index_weighted"),
        _get(data, "timing", "tech_year", "share_already"),
        _get(data, "timing", "tech_year", "share_never"),
        _get(data, "timing", "social_year", "q1"),
        _get(data, "timing", "social_year", "q3"),
        _get(data, "report", "social_lag"),
        "; ".join(
            f"{f.get('criterion')}: {f.get('used')} ({f.get('reason')})"
            for f in data.get("fallbacks") or []
            if f.get("in_score")
        ),
        "; ".join(_withheld(data)),
    ]
    return [
        numbers.quantize(value, ENTRY_KINDS[column]) if column in ENTRY_KINDS else value
        for column, value in zip(ENTRY_COLUMNS, row, strict=True)
    ]


def _withheld(data: Mapping[str, Any]) -> list[str]:
    """Every figure withheld from an entry, as ``item.figure: reason`` (``figures.csv`` has them in full)."""
    report = data.get("report") or {}
    out = [f"respondents.{f}: {r}" for f, r in ((report.get("respondents") or {}).get("suppressed") or {}).items()]
    for key, item in (report.get("items") or {}).items():
        out.extend(f"{key}.{figure}: {reason}" for figure, reason in (item.get("suppressed") or {}).items())
    return out


def entries_csv(edition: str, entries: Iterable[Mapping[str, Any]]) -> str:
    return write_csv(ENTRY_COLUMNS, (entry_row(edition, e) for e in entries))


def edition_json(document: Mapping[str, Any]) -> str:
    """The edition document as pretty, UTF-8 JSON (keys in the order given)."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def byor_description(*paragraphs: str) -> str:
    """BYOR renders the description as (sanitised) HTML: each non-empty text as an escaped paragraph."""
    parts = [p.strip() for p in paragraphs if p and p.strip()]
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in parts)


def byor_row(*, name: str, ring: str, quadrant: str, status: str, description: str) -> list[Any]:
    if status not in BYOR_STATUS:
        raise ValueError(f"unknown radar status {status!r}")
    return [name, ring, quadrant, status == "new", BYOR_STATUS[status], description]


@dataclass(frozen=True)
class ByorRadar:
    """An edition's blips as BYOR places them (``byor_radar``)."""

    blips: tuple[Mapping[str, Any], ...]  # the file's rows in order, with the labels ``ring`` and ``quadrant_label``
    left_out: tuple[str, ...]  # names of the topics without a quadrant (not in the file)
    missing: tuple[str, ...]  # labels of the quadrants no placed topic is in

    @property
    def loadable(self) -> bool:
        """BYOR draws exactly four quadrants: the file exists only when every quadrant has a topic."""
        return not self.missing


def byor_radar(
    blips: Iterable[Mapping[str, Any]], *, rings: Mapping[str, str], quadrants: Mapping[str, str]
) -> ByorRadar:
    """Place radar blips on BYOR's radar: quadrant = matrix quadrant, ring = tier.

    ``blips`` carry ``name``, ``tier`` (a key of ``rings``), ``quadrant`` (a key of ``quadrants``, or
    None when the topic has none), ``status`` (a radar status key), ``rank`` (or None), and the
    description's paragraphs ``direction``, ``statement`` and ``rationale``.  ``rings`` maps the tier
    keys to their labels from the centre outwards; ``quadrants`` maps the four quadrant keys to
    their labels, in the order the file should list them.

    1. A blip without a quadrant is left out: BYOR has no place for it.
    2. The rest are ordered by ring, quadrant and rank, so BYOR — which draws rings and quadrants in
       the order they first appear — puts the first tier at the centre.
    3. Quadrants without a blip are reported in ``missing``: with any, BYOR refuses the file.
    """
    if len(quadrants) != 4:
        raise ValueError(f"BYOR draws exactly four quadrants, got {len(quadrants)}")
    if len(rings) > BYOR_MAX_RINGS:
        raise ValueError(f"BYOR draws at most {BYOR_MAX_RINGS} rings, got {len(rings)}")
    ring_order = {key: i for i, key in enumerate(rings)}
    quadrant_order = {key: i for i, key in enumerate(quadrants)}
    placed: list[Mapping[str, Any]] = []
    left_out: list[str] = []
    for blip in blips:
        if blip.get("quadrant") is None:
            left_out.append(str(blip["name"]))
            continue
        if blip["quadrant"] not in quadrant_order or blip["tier"] not in ring_order:
            raise ValueError(f"unknown quadrant or tier in {dict(blip)!r}")
        placed.append(blip)
    placed.sort(
        key=lambda b: (
            ring_order[b["tier"]],
            quadrant_order[b["quadrant"]],
            b["rank"] is None,
            b["rank"] or 0,
            str(b["name"]),
        )
    )
    present = {b["quadrant"] for b in placed}
    return ByorRadar(
        blips=tuple({**b, "ring": rings[b["tier"]], "quadrant_label": quadrants[b["quadrant"]]} for b in placed),
        left_out=tuple(sorted(left_out)),
        missing=tuple(label for key, label in quadrants.items() if key not in present),
    )


def byor_csv(radar: ByorRadar) -> str:
    """The Build-Your-Own-Radar CSV of a radar that BYOR can load (``ByorRadar.loadable``)."""
    if not radar.loadable:
        raise ValueError(f"no blip in the quadrants {', '.join(radar.missing)}: BYOR would refuse the file")
    return write_csv(
        BYOR_HEADER,
        (
            byor_row(
                name=b["name"],
                ring=b["ring"],
                quadrant=b["quadrant_label"],
                status=b["status"],
                description=byor_description(b.get("direction", ""), b.get("statement", ""), b.get("rationale", "")),
            )
            for b in radar.blips
        ),
    )


FIGURE_COLUMNS = ("edition", "topic", "direction", "tier", "round", "item", "group", "figure", "value", "withheld")
# Figures of an index item that belong to a subgroup, not to all respondents.
_GROUP_OF = {"n_high": "high", "index_high": "high", "index_weighted": "weighted"}
_SUPPRESSED_GROUP = {"index_high": "high", "index_weighted": "weighted", "sectors": "sector", "change": "change"}


# Figures of a year item computed over the numeric years only (withheld as "years" when too few).
_YEAR_ONLY = frozenset({"n_years", "median", "q1", "q3", "iqr", "consensus"})


def _figure_rows(item_key: str, item: Mapping[str, Any]) -> Iterable[tuple[str, str, str, Any, str]]:
    """(item, group, figure, value, withheld reason) for every figure of one released item."""
    suppressed = item.get("suppressed") or {}
    for name, value in item.items():
        if name == "suppressed" or name in ("sectors", "change"):
            continue
        if isinstance(value, Mapping):
            for code, cell in value.items():
                yield item_key, "all", f"{name}:{code}", cell, ""
            continue
        if value is None and name in _GROUP_OF:
            continue  # withheld: reported below with its reason
        # A figure left empty because its group is withheld carries that reason on its own row too.
        why = (
            ""
            if value is not None
            else str(suppressed.get("all") or (name in _YEAR_ONLY and suppressed.get("years")) or "")
        )
        yield item_key, _GROUP_OF.get(name, "all"), name, value, why
    for sector, cell in (item.get("sectors") or {}).items():
        for name, value in cell.items():
            yield item_key, f"sector:{sector}", name, value, ""
    for name, value in (item.get("change") or {}).items():
        yield item_key, "change", name, value, ""
    for figure, reason in suppressed.items():
        yield item_key, _SUPPRESSED_GROUP.get(figure, "all"), figure, None, str(reason)


def figures_csv(edition: str, entries: Iterable[Mapping[str, Any]]) -> str:
    """Every published figure of every topic in long form (one row per figure), as the pages print them:
    the topic's respondents, each item's figures per group (all, high, weighted, sector, change), the
    criteria of the score and every figure withheld with the reason."""

    def rows() -> Iterable[list[Any]]:
        for entry in entries:
            data = published_figures(entry.get("data") or {}, exact=True)
            report = data.get("report") or {}
            head = [edition, entry.get("topic"), entry.get("direction"), entry.get("tier"), report.get("round")]
            respondents = report.get("respondents") or {}
            for name, value in respondents.items():
                if name == "suppressed":
                    for figure, reason in value.items():
                        yield [*head, "", "respondents", figure, None, reason]
                elif isinstance(value, Mapping):
                    for code, count in value.items():
                        yield [*head, "", "respondents", f"{name}:{code}", count, ""]
                else:
                    yield [*head, "", "respondents", name, value, ""]
            if report.get("social_lag") is not None:
                yield [*head, "", "all", "social_lag", report["social_lag"], ""]
            for key, item in (report.get("items") or {}).items():
                for item_key, group, figure, value, reason in _figure_rows(key, item):
                    yield [*head, item_key, group, figure, value, reason]
            stand_in = {f.get("criterion"): str(f.get("reason") or "") for f in data.get("fallbacks") or []}
            for name, value in (data.get("criteria") or {}).items():
                # A criterion without a value counts as the lowest: its row says why (the fallback row too).
                yield [*head, "", "criteria", name, value, stand_in.get(name, "") if value is None else ""]
            for fallback in data.get("fallbacks") or []:
                # "fallback": a stand-in the score used; "fallback, not in score": its criterion weighs 0.
                group = "fallback" if fallback.get("in_score") else "fallback, not in score"
                yield [*head, "", group, fallback.get("criterion"), fallback.get("used"), fallback.get("reason")]

    return write_csv(FIGURE_COLUMNS, rows())


def excel_friendly(text: str) -> str:
    """The CSV with a UTF-8 byte-order mark, so spreadsheet programs read Chinese text correctly."""
    return "\ufeff" + text


def byor_problems(csv_text: str) -> list[str]:
    """Why BYOR would refuse ``csv_text``, or draw it other than meant; empty when the file is fine.

    The checks are BYOR's own rules as listed in the module docstring (headers, exactly four quadrants,
    at most four rings, ``isNew`` and ``status`` values), plus: no empty name, quadrant or ring.
    """
    reader = csv.DictReader(io.StringIO(csv_text, newline=""))
    header = [(name or "").strip() for name in reader.fieldnames or []]
    if not any(header):
        return ["The file has no header row (BYOR: MISSING_CONTENT)."]
    problems: list[str] = []
    missing = [name for name in BYOR_REQUIRED if name not in header]
    if missing:
        problems.append(f"Missing header(s): {', '.join(missing)} (BYOR: MISSING_HEADERS).")
    quadrants: dict[str, None] = {}
    rings: dict[str, None] = {}
    rows = 0
    for line, raw in enumerate(reader, start=2):
        rows += 1
        if None in raw:
            problems.append(f"Line {line}: more cells than headers.")
        row = {
            (key or "").strip(): (value or "").strip() for key, value in raw.items() if isinstance(value, str | None)
        }
        for column in ("name", "quadrant", "ring"):
            if column in header and not row.get(column):
                problems.append(f"Line {line}: the {column} is empty.")
        if row.get("quadrant"):
            quadrants[row["quadrant"]] = None
        if row.get("ring"):
            rings[row["ring"]] = None
        if "isNew" in header and row.get("isNew", "").lower() not in ("true", "false"):
            problems.append(f"Line {line}: isNew is {row.get('isNew', '')!r}, not TRUE or FALSE.")
        status = row.get("status", "")
        if status and status.lower() not in BYOR_STATUS_VALUES:
            problems.append(f"Line {line}: status {status!r} is not one of {', '.join(BYOR_STATUS.values())}.")
    if not rows:
        problems.append("The file has no blip.")
    if len(quadrants) > 4:
        problems.append(
            f"{len(quadrants)} quadrants ({', '.join(quadrants)}): BYOR allows no more than 4 (TOO_MANY_QUADRANTS)."
        )
    elif len(quadrants) < 4 and "quadrant" in header:
        problems.append(
            f"{len(quadrants)} quadrant(s) ({', '.join(quadrants)}): BYOR needs 4 (LESS_THAN_FOUR_QUADRANTS)."
        )
    if len(rings) > BYOR_MAX_RINGS:
        problems.append(
            f"{len(rings)} rings ({', '.join(rings)}): BYOR allows no more than {BYOR_MAX_RINGS} (TOO_MANY_RINGS)."
        )
    return problems
