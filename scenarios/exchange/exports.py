"""A published release as open data: CSV (one row per item, every text cell guarded against spreadsheet
formulas) and JSON (the release with each item's snapshot, exactly what the fingerprint covers)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from foresight.core.spreadsheet import spreadsheet_text
from scenarios.models import Release, ReleaseItem

CSV_COLUMNS = [
    "release",
    "change",
    "code",
    "kind",
    "organisation",
    "organisation_name_en",
    "organisation_name_zh",
    "title_en",
    "title_zh",
    "summary_en",
    "summary_zh",
    "setting",
    "region_en",
    "region_zh",
    "topics",
    "offers",
    "window_start",
    "window_end",
    "trl",
    "sources",
]


def release_csv(release: Release, items: list[ReleaseItem]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        snap = item.snapshot
        org = snap.get("organisation", {})
        row: list[Any] = [
            release.code,
            item.change,
            snap.get("code", ""),
            snap.get("kind", ""),
            org.get("code", ""),
            org.get("name_en", ""),
            org.get("name_zh", ""),
            snap.get("title_en", ""),
            snap.get("title_zh", ""),
            snap.get("summary_en", ""),
            snap.get("summary_zh", ""),
            snap.get("setting", ""),
            snap.get("region_en", ""),
            snap.get("region_zh", ""),
            ";".join(f"{t['code']}:{t['role']}" for t in snap.get("topics", [])),
            ";".join(snap.get("offers", [])),
            snap.get("window_start") or "",
            snap.get("window_end") or "",
            "" if snap.get("trl") is None else snap["trl"],
            ";".join(s["url"] for s in snap.get("sources", [])),
        ]
        writer.writerow([spreadsheet_text(v) if isinstance(v, str) else v for v in row])
    return out.getvalue()


def release_document(release: Release, items: list[ReleaseItem]) -> dict[str, Any]:
    return {
        "code": release.code,
        "number": release.number,
        "title_en": release.title_en,
        "title_zh": release.title_zh,
        "released_on": release.released_on.isoformat() if release.released_on else None,
        "published_at": release.published_at.isoformat() if release.published_at else None,
        "fingerprint": release.fingerprint,
        "replaces": release.replaces.code if release.replaces else None,
        "items": [{"change": i.change, "snapshot": i.snapshot} for i in items],
    }


def release_json(release: Release, items: list[ReleaseItem]) -> str:
    return json.dumps(release_document(release, items), ensure_ascii=False, indent=2, sort_keys=True)
