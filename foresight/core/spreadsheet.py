"""Guarding text written to CSV files that people open in spreadsheets.

A cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is read by spreadsheet
programs as a formula (CSV injection); such text is written with a leading single quote, which the
spreadsheet shows as text. Text that itself starts with a quote gets one more, so a program reading
the file recovers the original by removing exactly one leading quote from any cell that has one.
"""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
GUARDED_PREFIXES = (*FORMULA_PREFIXES, "'")


def spreadsheet_text(text: str) -> str:
    """``text`` as a CSV cell that no spreadsheet runs as a formula."""
    return "'" + text if text.startswith(GUARDED_PREFIXES) else text
