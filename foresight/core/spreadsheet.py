"""Guarding text written to CSV files that people open in spreadsheets.

A cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is read by spreadsheet
programs as a formula (CSV injection); such text is written with a leading single quote, which the
spreadsheet shows as text and which a reader of the file can strip.
"""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """``text`` as a CSV cell that no spreadsheet runs as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text
