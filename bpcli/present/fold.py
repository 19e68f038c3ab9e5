"""Text and arrays folded to a width: what a person reads at a terminal of 80 columns.

Texts fold at their runs of two or more spaces first (the narration's own pauses: between
"to x:", its local gradient and its downstream gradient), then at single spaces and between
CJK characters, and a formula that is one long word folds after an operator, never cropped.
Arrays print as numpy prints them, rows whole and aligned, summarised with … beyond a
threshold (numpy's threshold and edgeitems) with their shape. Wide (CJK) characters count 2.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from bpcli.lazy import np
from bpcli.present.numbers import number
from bpcli.values import Array, Value

# Arrays with more elements than this are summarised (numpy's `threshold`, smaller: a
# narration shows many arrays), showing at most EDGE items at each end of an axis.
THRESHOLD = 64
EDGE = 3
MOST_ROWS = 16  # a summarised array shows at most about this many rows

Piece = tuple[str, str]  # (text, style): a styled piece of a line ("" for no style)
Line = list[Piece]

_PAUSE = re.compile(r"( {2,}|(?<=；))")  # a pause: two spaces, or after a CJK semicolon
_CLOSERS = frozenset("，。；：、）》」』！？,.;:)]}")
_OPENERS = frozenset("（《「『([{")
_BREAK_AFTER = frozenset(",+*/-(=·")
_OPERATORS = frozenset(("=", "×", "+", "-", "−", "→"))


def cells(text: str) -> int:
    """The columns a text takes on a terminal: wide (CJK) characters count 2."""
    if text.isascii():
        return len(text)
    return sum(_cell(c) for c in text)


def _cell(c: str) -> int:
    if unicodedata.east_asian_width(c) in "WF":
        return 2
    return 0 if unicodedata.combining(c) else 1


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
        self.width = max(width, cells(hang) + 12, cells(indent) + 12)
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
        used += _cell(c)
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


# --- arrays, as numpy prints them -------------------------------------------------------------


def shape_label(value: Array) -> str:
    """(3×5), as the tables write a shape."""
    return "(" + "×".join(map(str, value.shape)) + ")" if value.ndim else "()"


def _kept(n: int, edge: int, summarise: bool) -> list[int | None]:
    if summarise and n > 2 * edge:
        return [*range(edge), None, *range(n - edge, n)]
    return list(range(n))


def array_lines(value: Array, precision: int, width: int, full: bool = False) -> list[str]:
    """An array as numpy's array2string writes it within `width` columns, its numbers at
    `precision`: rows whole and aligned; over THRESHOLD elements (unless `full`) only the
    edges of each axis, with … between them."""
    if value.ndim == 0:
        return [number(float(value), precision)]
    summarise = not full and value.size > THRESHOLD
    edge = EDGE
    if summarise and value.ndim > 1:  # keep a summary to about MOST_ROWS rows
        while edge > 1 and _rows(value.shape[:-1], edge) > MOST_ROWS:
            edge -= 1
    last = EDGE
    if summarise:  # fewer items at the ends of a row before folding it
        size = max(len(number(float(x), precision)) for x in (value.min(), value.max()))
        while last > 1 and _row_cells(value.ndim, 2 * last, size + 1) > width:
            last -= 1
    return _layout(value, precision, width, summarise, edge, last)


def _row_cells(ndim: int, items: int, size: int) -> int:
    """The columns of a summarised row of `items` numbers (and …) at most `size` wide."""
    return 2 * ndim - 1 + items * (size + 1) + 2


def _rows(shape: tuple[int, ...], edge: int) -> int:
    total = 1
    for n in shape:
        total *= min(n, 2 * edge + 1)
    return total


def _layout(
    value: Array, precision: int, width: int, summarise: bool, edge: int, last: int | None = None
) -> list[str]:
    kept = [_kept(n, edge, summarise) for n in value.shape[:-1]]
    kept.append(_kept(value.shape[-1], edge if last is None else last, summarise))
    index = [np.array([i for i in k if i is not None], dtype=int) for k in kept]
    sub = value[np.ix_(*index)]
    texts = [number(float(x), precision) for x in np.ravel(sub)]
    size = max((len(t) for t in texts), default=1)
    padded = [t.rjust(size) for t in texts]
    ndim = value.ndim
    room = width - 2 * ndim + 1  # a row sits after ndim - 1 spaces and before ndim brackets
    per_row = len(index[-1])
    rows = [padded[k : k + per_row] for k in range(0, len(padded), per_row)] or [[]]
    return _block(kept, 0, iter(rows), room)


def _block(kept: list[list[int | None]], axis: int, rows: Iterator[list[str]], room: int) -> list[str]:
    """The lines of one sub-array along `axis` (depth at most the array's ndim), numpy's way:
    [ opens each level, the lines inside stand one space in, blank lines between blocks
    of three dimensions and more."""
    if axis == len(kept) - 1:
        items = next(rows)
        it = iter(items)
        row = [next(it) if i is not None else "…" for i in kept[axis]]
        return _row(row, room)
    lines: list[str] = []
    gap = len(kept) - axis - 2  # blank lines between the blocks of this axis
    for n, i in enumerate(kept[axis]):
        if n:
            lines += [""] * gap
        child = ["…"] if i is None else _block(kept, axis + 1, rows, room)
        lines += child
    out = ["[" + lines[0]] + [(" " + line) if line else "" for line in lines[1:]]
    out[-1] += "]"
    return out


def _row(row: list[str], room: int) -> list[str]:
    """[a b c], folded like numpy when wider than `room`: later lines one space in."""
    lines: list[str] = []
    line = "["
    for j, item in enumerate(row):
        if j and cells(line) + 1 + cells(item) > room:
            lines.append(line)
            line = " " + item
        else:
            line += (" " if j else "") + item
    lines.append(line + "]")
    return lines


def one_line(value: Value | None, precision: int) -> str:
    """A value on one line, numpy-style: a number, or an array's rows side by side
    ([[1 2] [3 4]]), summarised beyond THRESHOLD elements."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return number(value, precision)
    if value.ndim == 1:  # (unpadded: in a sentence, alignment serves nothing)
        kept = _kept(value.size, EDGE, value.size > THRESHOLD)
        return "[" + " ".join("…" if i is None else number(float(value[i]), precision) for i in kept) + "]"
    lines = array_lines(value, precision, 1 << 30)
    return " ".join(line.strip() for line in lines if line.strip())


def compact(value: Value | None, precision: int, room: int) -> str:
    """A value in at most `room` columns when it can be: a number; an array on one line
    when it fits, else the edges of its first row, … and its shape: [[0.1 0.2 … 0.4] …] (4×3)."""
    text = one_line(value, precision)
    if value is None or isinstance(value, float) or cells(text) <= room:
        return text
    first = np.reshape(value, (-1, value.shape[-1]))[0] if value.ndim else np.ravel(value)
    rest = " …" if value.ndim > 1 else ""
    shape = " " + shape_label(value)
    best = ""
    for edge in range(1, EDGE + 1):
        kept = _kept(first.size, edge, True)
        row = "[" + " ".join("…" if i is None else number(float(first[i]), precision) for i in kept) + "]"
        candidate = "[" * (value.ndim - 1) + row + rest + "]" * (value.ndim - 1) + shape
        if best and cells(candidate) > room:
            break
        best = candidate
        if None not in kept:
            break
    return best
