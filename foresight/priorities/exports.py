"""Open-data writers of a published edition: entries CSV, edition JSON and the Build-Your-Own-Radar CSV.

Plain Python, no Django import: the views hand in plain rows (see ``selectors.edition_export_rows``)
and serve what comes back.  Two guards apply to everything written here:

* small cells: ``published_aggregates`` removes any count below the study's k (and the figures
  computed from it) from an entry's published data, whatever the scoring run stored — defence in
  depth on top of the suppression done when the edition was drafted;
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
from typing import Any

from foresight.core.spreadsheet import spreadsheet_text

BYOR_HEADER = ("name", "ring", "quadrant", "isNew", "status", "description")
# The columns BYOR refuses a file without (src/util/contentValidator.js); ``status`` is optional.
BYOR_REQUIRED = ("name", "ring", "quadrant", "isNew", "description")
BYOR_STATUS = {"new": "New", "moved_in": "Moved In", "moved_out": "Moved Out", "unchanged": "No Change"}
BYOR_STATUS_VALUES = frozenset(value.lower() for value in BYOR_STATUS.values())
BYOR_MAX_RINGS = 4
# Keys of published data that count respondents: each must be ≥ k or absent.
COUNT_KEYS = frozenset({"n", "n_high", "n_years"})
# Figures that go with a count (``n_high`` goes with ``index_high``, ``n_years`` with the year quartiles).
DEPENDENT = {
    "n": ("index", "index_weighted", "median", "q1", "q3", "share_already", "share_never"),
    "n_high": ("index_high",),
    "n_years": ("median", "q1", "q3"),
}

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
)


def csv_cell(value: Any) -> str:
    """One CSV cell: numbers as written by Python, booleans TRUE/FALSE, None empty, text guarded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
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


def _suppress(node: Any, k: int) -> Any:
    if isinstance(node, list):
        return [_suppress(v, k) for v in node]
    if not isinstance(node, Mapping):
        return node
    out = {key: _suppress(value, k) for key, value in node.items()}
    for key in COUNT_KEYS:
        count = out.get(key)
        if isinstance(count, int) and not isinstance(count, bool) and count < k:
            out[key] = None
            for figure in DEPENDENT[key]:
                if figure in out:
                    out[figure] = None
    if "shown" in out and isinstance(out["shown"], Mapping):
        # A sector group is shown only with k answers (complementary suppression is the scoring's job).
        out["shown"] = {
            group: cell
            for group, cell in out["shown"].items()
            if isinstance(cell, Mapping) and isinstance(cell.get("n"), int) and cell["n"] >= k
        }
    return out


def published_aggregates(data: Mapping[str, Any], *, k: int) -> dict[str, Any]:
    """An entry's published data with every count below ``k`` (and what was computed from it) removed."""
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    return dict(_suppress(dict(data), k))


def _get(data: Mapping[str, Any], *path: str) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def entry_row(edition: str, entry: Mapping[str, Any]) -> list[Any]:
    """One row of ``entries.csv`` from an export row (see ``ENTRY_COLUMNS``)."""
    data = entry.get("data") or {}
    return [
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
    ]


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
