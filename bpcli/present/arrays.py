"""Arrays as numpy prints them, within a width: rows kept whole, columns aligned, and what
does not fit left out with `…` (numpy's edgeitems), the shape said where anything is.

`block` is the multi-line form (a gradient under its name, a value in a gate's block);
`inline` the one-line form a table cell holds. Neither crops a number: a column is shown
whole or not at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import product
from typing import TypeAlias, cast

from bpcli.cells import cells
from bpcli.lazy import np
from bpcli.present.fold import fold
from bpcli.present.numbers import number
from bpcli.present.numbers import value as fmt
from bpcli.values import Array, Value

# Rows (or 2-D blocks of a deeper array) shown at each end of an axis that is left out.
EDGE = 3
# An axis this long or shorter is shown whole.
WHOLE = 8
# A vector of at most this many elements wraps over lines (as numpy's does) rather than
# leaving its middle out.
WRAP = 60
# value_range reduces an array this many elements at a time (2 MiB of float64: a block stays
# in the cache between its min and its max, so a big array is read from memory once).
BLOCK = 1 << 18

# What value_range and norm_of found, by the array's id (the array is kept with it, so that
# its id is not reused): one table shows an array in several cells, each laid out twice.
Seen: TypeAlias = "dict[int, tuple[Array, dict[str, float]]]"


def shape_text(v: Array) -> str:
    """4×3; a vector's length alone; () for a 0-d array."""
    return "×".join(map(str, v.shape)) if v.ndim else "()"


def shape_label(v: Array) -> str:
    """(4×3), as text after an array writes its shape."""
    return "(" + shape_text(v) + ")" if v.ndim else "()"


def one_line(v: Value | None, precision: int) -> str:
    """A value on one line: a number, or an array as a literal with its rows side by side
    ([[1, 2], [3, 4]]), its middle left out (…) beyond WHOLE rows or 128 columns."""
    if v is None:
        return "—"
    if isinstance(v, float):
        return number(v, precision)
    return " ".join(line.strip() for line in block(v, precision, 1 << 30) if line.strip())


def compact(v: Value | None, precision: int, room: int) -> str:
    """A value in at most `room` columns where it can be: the array whole, or summarised
    as `inline` does with its shape after it: [[0.1, 0.2, …, 0.4], …] (4×3)."""
    if v is None or isinstance(v, float):
        return one_line(v, precision)
    if v.ndim == 0:
        return number(float(v), precision)
    whole = one_line(v, precision)
    if cells(whole) <= room and "…" not in whole:
        return whole
    shape = " " + shape_label(v)
    return inline(v, precision, max(room - len(shape), 1)) + shape


def block(v: Array, precision: int, width: int, full: bool = False) -> list[str]:
    """The array's lines, numpy-style with commas (it reads back as a literal), each at most
    `width` columns where the numbers allow: columns that do not fit are left out in the
    middle (…), as are rows beyond WHOLE at each end unless `full`. A vector wraps."""
    if v.ndim == 0:
        return [number(float(v), precision)]
    if v.ndim == 1:
        return _vector(v, precision, width, full)
    picks = [_pick(n, full) for n in v.shape[:-1]]
    rows = [t for t in product(*picks) if not _repeat_gap(t, picks)]
    real = [t for t in rows if None not in t]
    columns = v.shape[-1]
    cells = {t: v[t] for t in real}
    fmt: Callable[[float], str] = lambda x: number(float(x), precision)  # noqa: E731
    if not real:
        return ["[]"]
    # the widest number in each column, over the rows shown
    side = _side(width)
    whole = full or columns <= 2 * side
    candidates = list(range(columns)) if whole else [*range(side), *range(columns - side, columns)]
    texts = {t: {j: fmt(cells[t][j]) for j in candidates} for t in real}
    widths = {j: max(len(texts[t][j]) for t in real) for j in candidates}
    indent = v.ndim + 1  # the brackets before a row's first number, and the closing ones
    chosen = _columns(columns, candidates, widths, width - indent - v.ndim, full, side)
    lines: list[str] = []
    last = real[-1]
    ndim = v.ndim
    for t in rows:
        if None in t:
            gap = t.index(None)
            lines.append(" " * (gap + 1) + "…,")
            continue
        opens = 1 + _run(t, picks, first=True)
        closes = 1 + _run(t, picks, first=False)
        body = ", ".join("…" if j is None else texts[t][j].rjust(widths[j]) for j in chosen)
        tail = "]" * closes + ("" if t == last else ",")
        lines.append(" " * (ndim - opens) + "[" * opens + body + tail)
        if closes >= 2 and ndim >= 3 and t != last:
            lines.append("")
    if full:  # every number, so a row too wide is continued on further lines, as numpy does
        lines = [piece for line in lines for piece in _wrap(line, width, ndim + 1)]
    return lines


def _wrap(line: str, width: int, indent: int) -> list[str]:
    """A row continued after a comma on further lines, indented under its first number."""
    if len(line) <= width:
        return [line]
    out: list[str] = []
    rest = line
    while len(rest) > width:
        cut = rest.rfind(", ", 0, width)
        if cut <= indent:
            break
        out.append(rest[: cut + 1])
        rest = " " * indent + rest[cut + 2 :]
    return [*out, rest]


def inline(v: Array, precision: int, width: int, seen: Seen | None = None) -> str:
    """One line of at most `width` columns: the array as a literal when it fits, else its
    first row's ends, [a, b, …, y, z] ([[a, b, …, z], …] with more dimensions) with at least
    two numbers at each end, else its range `lo to hi`, else one number at each end, else
    its norm. `seen`: what was found of the arrays shown before (it adds to it)."""
    if v.ndim == 0:
        return number(float(v), precision)
    if v.size == 0:
        return "[]"
    depth = v.ndim
    whole = " ".join(block(v, precision, 10_000)).replace("  ", " ") if v.size <= 64 else ""
    if whole and cells(whole) <= width and "…" not in whole:
        return whole
    row = v.reshape(-1, v.shape[-1])[0]
    more_rows = v.size > v.shape[-1]
    head = "[" * depth
    tail = "]" + ", …" + "]" * (depth - 1) if more_rows else "]" * depth
    n = row.size
    side = _side(width)
    texts = [number(float(x), precision) for x in (row if n <= 2 * side else [*row[:side], *row[-side:]])]
    room = width - cells(head) - cells(tail)
    if len(texts) == n and len(", ".join(texts)) <= room:  # the first row whole
        return head + ", ".join(texts) + tail
    corners = {}  # k numbers at each end of the first row
    for k in range(1, len(texts) // 2 + 1):
        body = ", ".join([*texts[:k], "…", *texts[len(texts) - k :]])
        if len(body) > room:
            break
        corners[k] = head + body + tail
    if len(corners) >= 2:
        return corners[max(corners)]
    smallest, largest = value_range(v, seen)  # its range says more than one number at each end
    low, high = number(smallest, precision), number(largest, precision)
    span = f"all {low}" if low == high else f"{low} to {high}"
    if cells(span) <= width:
        return span
    if corners:
        return corners[1]
    norm = f"‖·‖ {number(norm_of(v, seen), precision)}"
    return norm if cells(norm) <= width else "…"


def _vector(v: Array, precision: int, width: int, full: bool) -> list[str]:
    n = v.size
    if full or n <= WRAP:
        texts = [number(float(x), precision) for x in v]
    else:
        texts = [*(number(float(x), precision) for x in v[:EDGE]), "…"]
        texts += [number(float(x), precision) for x in v[n - EDGE :]]
    cell = max(len(t) for t in texts) if texts else 0
    room = max(width - 2, cell + 2)
    per = max(1, (room + 2) // (cell + 2))
    if len(", ".join(texts)) <= width - 2:  # one line, unpadded
        return ["[" + ", ".join(texts) + "]"]
    lines = []
    for start in range(0, len(texts), per):
        chunk = ", ".join(t.rjust(cell) for t in texts[start : start + per])
        last = start + per >= len(texts)
        lines.append(("[" if start == 0 else " ") + chunk + ("]" if last else ","))
    return lines


def _pick(n: int, full: bool) -> list[int | None]:
    """The indices shown along an axis of length n: all, or EDGE at each end around None."""
    if full or n <= WHOLE:
        return list(range(n))
    return [*range(EDGE), None, *range(n - EDGE, n)]


def _repeat_gap(t: tuple[int | None, ...], picks: list[list[int | None]]) -> bool:
    """A row of a gap that another row already stands for (one `…` line per gap)."""
    if None not in t:
        return False
    gap = t.index(None)
    return any(t[a] != picks[a][0] for a in range(gap + 1, len(t)))


def _run(t: tuple[int | None, ...], picks: list[list[int | None]], first: bool) -> int:
    """How many axes, innermost first, this row is the first (or last) shown row of."""
    count = 0
    for axis in range(len(t) - 1, -1, -1):
        edge = picks[axis][0] if first else picks[axis][-1]
        if t[axis] != edge:
            break
        count += 1
    return count


def _side(width: int) -> int:
    """The most numbers at each end of a row that could fit in `width` columns (each takes
    at least 3, with its comma and space): no more are ever formatted."""
    return max(2, min(64, width // 6 + 1))


def _columns(
    n: int, candidates: list[int], widths: dict[int, int], room: int, full: bool, side: int
) -> list[int | None]:
    """The columns shown: all when they fit (or `full`), else the most k at each end that do."""

    def size(cols: list[int | None]) -> int:
        return sum(1 if j is None else widths[j] for j in cols) + 2 * (len(cols) - 1)

    everything: list[int | None] = list(range(n))
    if full or (n == len(candidates) and size(everything) <= room):
        return everything if n == len(candidates) else [*candidates[:side], None, *candidates[side:]]
    best: list[int | None] = [candidates[0], None, candidates[-1]] if n > 1 else [0]
    for k in range(2, min(n // 2, side) + 1):
        cols: list[int | None] = [*candidates[:k], None, *candidates[len(candidates) - k :]]
        if size(cols) > room:
            break
        best = cols
    return best


def named(label: str, v: Value | None, precision: int, width: int, full: bool = False) -> list[str]:
    """`label = value`: an array's rows under its first, or below the label when they show
    more there; with its shape when part of it is left out (or with `full`, always)."""
    if v is None or type(v) is float:
        return fold(f"{label} = {fmt(v, precision)}", width, "", "  ")
    array = cast("Array", v)
    lead = cells(label) + 3
    beside = block(array, precision, width - lead, full)
    below = block(array, precision, width - 2, full)
    if full:
        if all(cells(line) <= width - lead for line in beside) and len(beside) <= len(below):
            return [f"{label} = {beside[0]}", *(" " * lead + line for line in beside[1:])]
        return [f"{label} ({shape_text(array)}) =", *("  " + line for line in below)]
    elided = any("…" in line for line in beside)
    cramped = any(cells(line) > width - lead for line in beside)
    if (elided and not any("…" in line for line in below)) or cramped or lead > width // 2:
        shape = f" ({shape_text(array)})" if any("…" in line for line in below) else ""
        return [f"{label}{shape} =", *("  " + line for line in below)]
    lines = [f"{label} = {beside[0]}", *(" " * lead + line for line in beside[1:])]
    if elided:
        shape = f"  ({shape_text(array)})"
        if cells(lines[-1] + shape) > width:
            return [f"{label} ({shape_text(array)}) =", *("  " + line for line in below)]
        lines[-1] += shape
    return lines


def value_range(v: Array, seen: Seen | None = None) -> tuple[float, float]:
    """The smallest and the largest element of a non-empty array (nan if it holds one), as
    v.min() and v.max() give them, with one read of a big array rather than two: both are
    taken a block at a time. With `seen`, an array's range is found once (by its id)."""
    found = _found(v, seen)
    if "max" in found:
        return found["min"], found["max"]
    flat = v.ravel()
    if flat.size <= BLOCK:
        smallest, largest = float(flat.min()), float(flat.max())
    else:
        lows: list[float] = []
        highs: list[float] = []
        for start in range(0, flat.size, BLOCK):
            block = flat[start : start + BLOCK]
            lows.append(float(block.min()))
            highs.append(float(block.max()))
        smallest, largest = float(np.min(lows)), float(np.max(highs))  # (nan if one is)
    found["min"], found["max"] = smallest, largest
    return smallest, largest


def norm_of(v: Array, seen: Seen | None = None) -> float:
    """The 2-norm; scaled by the largest element first where squares could overflow or
    underflow (a copy of the array: only then). The largest element's size comes from
    value_range; with `seen`, the norm too is found once."""
    found = _found(v, seen)
    if "norm" in found:
        return found["norm"]
    if v.size:
        smallest, largest = value_range(v, seen)
        biggest = math.nan if smallest != smallest or largest != largest else max(-smallest, largest)
    else:
        biggest = 0.0
    if biggest == 0.0 or biggest != biggest or biggest == float("inf"):
        norm = abs(biggest)  # (0.0, not a -0.0 that min and max found)
    elif 1e-150 < biggest < 1e150:
        norm = float(np.linalg.norm(v))
    else:
        norm = biggest * float(np.linalg.norm(v / biggest))
    found["norm"] = norm
    return norm


def _found(v: Array, seen: Seen | None) -> dict[str, float]:
    """What was found before about the array (min, max, norm), to add to; without `seen`,
    an empty dict that nothing keeps."""
    if seen is None:
        return {}
    known = seen.get(id(v))
    if known is None or known[0] is not v:
        known = seen[id(v)] = (v, {})
    return known[1]
