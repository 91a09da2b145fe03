"""The Chinese interface is complete: every string of the catalog is translated (none left empty or
fuzzy), and the label tables the pages read (expertise levels, sectors, test methods) come out in
Chinese — a lazily translated label the extractor cannot see would stay English on a Chinese page."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation

from foresight.priorities.selectors.editions import LEVEL_LABELS, SECTOR_LABELS, WILCOXON_METHODS

PO = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _entries() -> list[tuple[str, str, str]]:
    """(flags, msgid, msgstr) of every entry but the header; plural forms joined."""
    out = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        flags, parts, field = "", {"msgid": "", "msgstr": ""}, ""
        for line in block.splitlines():
            if line.startswith("#,"):
                flags += line
            elif line.startswith("#"):
                continue
            else:
                match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+"(.*)"$', line)
                if match:
                    field = "msgstr" if match.group(1).startswith("msgstr") else "msgid"
                    parts[field] += ("\0" if match.group(1).startswith("msgstr[") else "") + match.group(2)
                elif line.startswith('"') and field:
                    parts[field] += line[1:-1]
        if parts["msgid"]:
            out.append((flags, parts["msgid"], parts["msgstr"]))
    return out


def test_every_string_of_the_catalog_is_translated() -> None:
    entries = _entries()
    assert len(entries) > 500
    assert [m for f, m, _ in entries if "fuzzy" in f] == []
    assert [m for _, m, s in entries if not s.strip("\0") or "\0\0" in s] == []


def test_the_label_tables_come_out_in_chinese() -> None:
    with translation.override("zh-hans"):
        for table in (LEVEL_LABELS, SECTOR_LABELS, WILCOXON_METHODS):
            for key, label in table.items():
                text = str(label)
                assert re.search(r"[\u4e00-\u9fff]", text), (key, text)
