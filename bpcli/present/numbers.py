"""Numbers and arrays as short, aligned text at a chosen number of significant digits."""

from __future__ import annotations

import math
from typing import TypeAlias

from bpcli.lazy import np
from bpcli.values import Array, Value

# An array as JSON holds it: nested lists of floats, as deep as the array has dimensions.
Nested: TypeAlias = "list[float] | list[Nested]"

# Arrays with at most this many elements are shown in full.
FULL_ARRAY = 36


def number(value: float, precision: int) -> str:
    """A float rounded to `precision` decimals, keeping that many significant digits when
    it is below 1 (as PyTorch prints): 1.36788 -> '1.3679', 0.000123456 -> '0.0001235'."""
    if value == 0 or value != value or value in (math.inf, -math.inf):
        return "0" if value == 0 else str(value)  # nan and ±inf never reach a result
    size = abs(value)
    if size >= 1e15 or size < 1e-4:
        mantissa, exponent = f"{value:.{max(precision - 1, 0)}e}".split("e")
        return f"{_trim(mantissa)}e{int(exponent)}"
    decimals = max(precision, precision - 1 - math.floor(math.log10(size)))
    text = _trim(f"{value:.{decimals}f}")
    return "0" if text == "-0" else text


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def value(v: Value | None, precision: int) -> str:
    """A scalar, a small array in full (rows aligned), or a large array summarised; — for no
    value (a node off the output's path that cannot be computed)."""
    if v is None:
        return "—"
    if isinstance(v, float):
        return number(v, precision)
    if v.size <= FULL_ARRAY and v.ndim <= 2:
        return _full(v, precision)
    # The same big array is often shown as a gradient, an upstream and a downstream
    # gradient: summarise it once.
    key = (id(v), precision)
    kept = _summaries.get(key)
    if kept is not None and kept[0] is v:
        return kept[1]
    text = _summary(v, precision)
    if len(_summaries) > 16:
        _summaries.clear()
    _summaries[key] = (v, text)
    return text


_summaries: dict[tuple[int, int], tuple[Array, str]] = {}


def _summary(v: Array, precision: int) -> str:
    shape = "×".join(map(str, v.shape))
    flat = v.ravel()
    head = ", ".join(number(float(x), precision) for x in flat[:4])
    return (
        f"{shape} array [{head}, …]\nnorm {number(float(np.linalg.norm(flat)), precision)}"
        f", min {number(float(flat.min()), precision)}"
        f", max {number(float(flat.max()), precision)}"
    )


def _full(v: Array, precision: int) -> str:
    if v.ndim == 1:
        return "[" + ", ".join(number(float(x), precision) for x in v) + "]"
    cells = [[number(float(x), precision) for x in row] for row in v]
    widths = [max(len(row[j]) for row in cells) for j in range(v.shape[1])] if cells else []
    rows = ["[" + ", ".join(c.rjust(w) for c, w in zip(row, widths, strict=False)) + "]" for row in cells]
    if not rows:
        return "[]"
    return "\n".join(
        ("[" if i == 0 else " ") + r + ("]" if i == len(rows) - 1 else ",") for i, r in enumerate(rows)
    )


def one_line(v: Value | None, precision: int) -> str:
    """value(), with an array's rows on one line."""
    return " ".join(value(v, precision).split())


def to_json(v: Value | None) -> float | Nested | None:
    """A float, or nested lists for an array; None stays None."""
    if v is None or isinstance(v, float):
        return v
    return v.tolist()
