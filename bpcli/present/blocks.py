"""Many JSON Lines records of one form at once, laid out as rows of bytes.

`batch --program` fills the same record form (`bpcli.present.records.record_form`) for
thousands of points. Filling it with `%` for each point costs a call a point and a repr a
float; here each record is a row of a uint8 matrix: the form's fixed text in the same
columns of every row, each number in a field of its own with NUL bytes where it has no
character (floats as `bpcli.present.shortest` writes them, line numbers without leading
zeros). A run of rows becomes text in one pass that takes out every NUL. The form's text is
JSON, which has no NUL character in it (json.dumps writes one as \\u0000).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bpcli.lazy import np
from bpcli.present.shortest import FIELD, fill

if TYPE_CHECKING:
    from bpcli.present.shortest import Bytes

# What fills one %s of the form in each row: a float array (a float each), an integer array
# (line numbers, from 1), one text for all rows, or a text for each row. (numpy's arrays are
# Any here: its stubs type integer and byte arrays loosely.)
Field = Any  # an array, a str, or a sequence of str

_MARK = re.compile("\0([0-9]+)\0")
BLOCK = 8192  # floats written by one call (numpy's passes over them stay in the cache)


def lay_out(form: str, fields: Sequence[Field], n: int, integers: frozenset[int] = frozenset()) -> Bytes:
    """The rows of n records: form % (the fields' texts in row i) is row i, NULs aside.
    `integers` are the positions of the fields that are integer arrays."""
    text = form % tuple(f"\0{i}\0" for i in range(len(fields)))
    floats = _floats(fields, n, integers)
    pieces = _MARK.split(text)  # fixed text, field number, fixed text, ...
    parts: list[tuple[int, Any]] = []  # (width, what fills it)
    fixed = ""
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            fixed += piece
            continue
        which = int(piece)
        field = fields[which]
        if type(field) is str:
            fixed += field
            continue
        if fixed:
            data = fixed.encode("utf-8")
            parts.append((len(data), data))
            fixed = ""
        if which in integers:
            block = np.empty((n, _digits(field)), dtype=np.uint8)
            _write_integers(field, block)
        elif isinstance(field, np.ndarray):
            block = floats[which]
        else:
            block = np.array([t.encode("utf-8") for t in field])  # (S, padded with NUL)
            block = block.view(np.uint8).reshape(n, block.dtype.itemsize)
        parts.append((block.shape[1], block))
    if fixed:
        data = fixed.encode("utf-8")
        parts.append((len(data), data))
    rows = np.empty((n, sum(width for width, _ in parts)), dtype=np.uint8)
    column = 0
    for width, what in parts:
        if type(what) is bytes:
            what = np.frombuffer(what, dtype=np.uint8)
        rows[:, column : column + width] = what
        column += width
    return rows


def _floats(fields: Sequence[Field], n: int, integers: frozenset[int]) -> dict[int, Bytes]:
    """The fields of floats written as rows of bytes, all of them by the same calls (runs of
    BLOCK floats), without the columns that no row of any of them writes in."""
    which = [i for i, field in enumerate(fields) if i not in integers and isinstance(field, np.ndarray)]
    if not which:
        return {}
    values = np.concatenate([fields[i] for i in which]).astype(np.float64, copy=False)
    written = np.empty((len(values), FIELD), dtype=np.uint8)
    for start in range(0, len(values), BLOCK):
        fill(values[start : start + BLOCK], written[start : start + BLOCK])
    used = written.any(axis=0)
    if not used.all():
        written = written[:, used]
    return {i: written[j * n : (j + 1) * n] for j, i in enumerate(which)}


def text(rows: Bytes) -> str:
    """The records of these rows, one after the other."""
    data: bytes = rows.tobytes().translate(None, b"\0")
    return data.decode("utf-8")


def _digits(numbers: Any) -> int:
    """How many digits the largest of these positive integers has."""
    return len(str(int(numbers.max()))) if len(numbers) else 1


def _write_integers(numbers: Any, place: Bytes) -> None:
    """Each positive integer in its row of `place`, right-aligned, NULs before it."""
    width = place.shape[1]
    rest = numbers.astype(np.uint64)
    ten = np.uint64(10)
    for column in range(width - 1, -1, -1):
        quotient = rest // ten
        shown = rest > 0
        place[:, column] = (rest - quotient * ten + np.uint64(48)) * shown
        rest = quotient
