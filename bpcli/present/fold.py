"""Text folded to a width: what a person reads at a terminal of 80 columns.

Texts fold at their runs of two or more spaces first (the narration's own pauses: between
"to x:", its local gradient and its downstream gradient), then at single spaces and between
CJK characters, and a formula that is one long word folds after an operator, never cropped.
Wide (CJK) characters count 2. (Arrays within a width: present.arrays.)
"""

from __future__ import annotations

import re
import unicodedata

from bpcli.cells import cell, cells

Piece = tuple[str, str]  # (text, style): a styled piece of a line ("" for no style)
Line = list[Piece]

_PAUSE = re.compile(r"( {2,}|(?<=；))")  # a pause: two spaces, or after a CJK semicolon
_CLOSERS = frozenset("，。；：、）》」』！？,.;:)]}")
_OPENERS = frozenset("（《「『([{")
_BREAK_AFTER = frozenset(",+*/-(=·")
_OPERATORS = frozenset(("=", "×", "+", "-", "−", "→"))


def pad(text: str, width: int, right: bool = False) -> str:
    """`text` padded with spaces to `width` columns, on the left when `right`."""
    gap = " " * max(width - cells(text), 0)
    return gap + text if right else text + gap


def _wide(c: str) -> bool:
    return not c.isascii() and unicodedata.east_asian_width(c) in "WF"


def fold(text: str, width: int, indent: str = "", hang: str | None = None) -> list[str]:
    """`text` (one paragraph per line) folded to `width` columns: the first line after
    `indent`, the lines it folds onto after `hang` (a hanging indent, indent + 2 by default)."""
    hang = indent + "  " if hang is None else hang
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines += ["".join(t for t, _ in line) for line in fold_pieces([(paragraph, "")], width, indent, hang)]
    return lines


def fold_pieces(pieces: list[Piece], width: int, indent: str, hang: str) -> list[Line]:
    """Styled pieces of one paragraph folded to `width`; each line starts with its indent.
    A piece that does not start with a pause continues the chunk before it (`value ` and its
    number stay together)."""
    chunks: list[tuple[str, list[Piece]]] = []  # (space before, its styled pieces)
    for text, style in pieces:
        parts = _PAUSE.split(text)
        for k in range(0, len(parts), 2):
            before = parts[k - 1] if k else ""
            if k == 0 and chunks and not parts[0]:
                continue
            if k == 0 and chunks:
                chunks[-1][1].append((parts[0], style))
            elif parts[k] or before:
                chunks.append((before, [(parts[k], style)]))
    out = _Lines(width, indent, hang)
    for before, segments in chunks:
        out.chunk(before, segments)
    return out.done()


class _Lines:
    """Greedy line filling: a chunk stays whole when it fits on the line or on a line of
    its own; else it folds at spaces (and between CJK characters), and a word wider than
    a line folds after an operator."""

    def __init__(self, width: int, indent: str, hang: str) -> None:
        self.width = max(width, cells(hang) + 4, cells(indent) + 4)
        self.hang = hang
        self.lines: list[Line] = []
        self.line: Line = [(indent, "")]
        self.used = cells(indent)
        self.empty = True

    def _newline(self) -> None:
        self.lines.append(self.line)
        self.line, self.used, self.empty = [(self.hang, "")], cells(self.hang), True

    def _put(self, text: str, style: str, before: str = "") -> None:
        if not text:
            return
        if not self.empty and before:
            self.line.append((before, ""))
            self.used += cells(before)
        self.line.append((text, style))
        self.used += cells(text)
        self.empty = False

    def chunk(self, before: str, segments: list[Piece]) -> None:
        segments = [(text, style) for text, style in segments if text]
        if not segments:
            return
        size = sum(cells(text) for text, _ in segments)
        fits = self.used + (0 if self.empty else cells(before)) + size <= self.width
        if not fits and not self.empty and cells(self.hang) + size <= self.width:
            self._newline()
            before, fits = "", True
        if fits:
            for k, (text, style) in enumerate(segments):
                self._put(text, style, before if k == 0 else "")
            return
        for k, (text, style) in enumerate(segments):
            for j, (joiner, word) in enumerate(_words(text)):
                self._word((before if k == 0 else "") if j == 0 else joiner, word, style)

    def _word(self, before: str, word: str, style: str) -> None:
        size = cells(word)
        if self.used + (0 if self.empty else cells(before)) + size <= self.width:
            self._put(word, style, before)
            return
        if not self.empty and cells(self.hang) + size <= self.width:
            self._newline()
            self._put(word, style)
            return
        # a word wider than what is left: fold it after an operator, or where it must
        rest = word
        sep = before
        while rest:
            room = self.width - self.used - (0 if self.empty else cells(sep))
            if cells(rest) <= room:
                self._put(rest, style, sep)
                return
            cut = _cut(rest, room)
            if cut == 0:
                if self.empty:
                    cut = 1
                else:
                    self._newline()
                    sep = ""
                    continue
            self._put(rest[:cut], style, sep)
            rest = rest[cut:]
            self._newline()
            sep = ""

    def done(self) -> list[Line]:
        if not self.empty or not self.lines:
            self.lines.append(self.line)
        return self.lines


def _cut(word: str, room: int) -> int:
    """Where to fold a word with `room` columns left: after the last operator that fits
    (in the right half of the room), else at the room's edge. 0: nothing fits."""
    used, fits = 0, 0
    for k, c in enumerate(word):
        used += cell(c)
        if used > room:
            break
        fits = k + 1
    if fits <= 0 or fits >= len(word):
        return fits
    for k in range(fits, max(fits // 2, 1) - 1, -1):
        if word[k - 1] in _BREAK_AFTER:
            return k
    return fits


def _words(text: str) -> list[tuple[str, str]]:
    """(joiner before, word): split at spaces, and between CJK characters (joiner "")."""
    out: list[tuple[str, str]] = []
    for k, word in enumerate(text.split(" ")):
        joiner = " " if k else ""
        if word in _OPERATORS and out:  # a lone = or ×: the line ends with it, never starts
            out[-1] = (out[-1][0], out[-1][1] + " " + word)
            continue
        if not word:
            if out:
                out[-1] = (out[-1][0], out[-1][1] + " ")
            continue
        start = 0
        for j in range(1, len(word)):
            a, b = word[j - 1], word[j]
            if (_wide(a) or _wide(b)) and b not in _CLOSERS and a not in _OPENERS:
                out.append((joiner, word[start:j]))
                joiner, start = "", j
        out.append((joiner, word[start:]))
    return out
