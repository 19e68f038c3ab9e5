"""How many columns text takes on a terminal: wide (CJK) characters take two, combining
marks none. Used wherever text is laid out for a person (errors, tables, narration)."""

from __future__ import annotations

import unicodedata


def cells(text: str) -> int:
    """The columns a text takes on a terminal: wide (CJK) characters count 2."""
    if text.isascii():
        return len(text)
    return sum(cell(c) for c in text)


def cell(c: str) -> int:
    """The columns one character takes: 2 for wide (CJK), 0 for a combining mark, else 1."""
    if unicodedata.east_asian_width(c) in "WF":
        return 2
    return 0 if unicodedata.combining(c) else 1
