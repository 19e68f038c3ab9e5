"""Numbers and arrays as students write them: by hand, pasted from a PDF, or as numpy (or
PyTorch) prints them; each with the tolerance its rounding earns.

- A number written with k ≥ 1 decimals is right within half a unit of its last decimal
  (0.39: ±0.005). In e-notation that is the mantissa's last decimal, scaled (1.5e-3:
  ±0.5e-4); zeros at the end of a mantissa do not count, as numpy pads mantissas with them
  (1.000e-05 is 1e-05). A number with a negative exponent and no point is the decimal it
  stands for (1e-05 = 0.00001: ±0.5e-05), as Python prints a rounded number. A whole number
  (-4, 2e3) is exact.
- A number with a point and no decimals after it (1., 0., 1.e-05, 0.000e+00) is how numpy
  prints a number whose digits say nothing of its rounding. In an array it takes the
  finest rounding the array shows ([1.    0.123]: ±0.0005 each, as a student who rounded
  to 3 decimals meant), counting such a number as rounded at its last digit or at the
  first decimal, whichever is finer (1. as 1.0: ±0.05; 1.e-05 as 0.00001: ±0.5e-05).
- An array literal may separate its numbers with commas, with spaces as numpy's print()
  does (`[[0.1 0.2]\\n [0.3 0.4]]`, `[ 1.5e-01 -2.0e+00]`), or both. Inside one, numbers
  separated by spaces are separate elements (`[1 -2]` is two numbers, as numpy prints it).
- numpy's repr `array([[0.1, 0.2]], dtype=float32)` and PyTorch's `tensor([0.1000])` are
  read as the array inside. A float32 (or float16) array is also right within the precision
  of its type: eight units in the last place, relative to each element (a torch tensor with
  no dtype is float32).
"""

from __future__ import annotations

import re

from bpcli.errors import BindingError
from bpcli.lazy import np
from bpcli.limits import SMALLEST_NORMAL, tiny_number_problem
from bpcli.values import Array, Value

ULPS = 8  # the slack of a float32 or float16 answer, in units in the last place of its type
EPSILON = {"float32": 2.0**-23, "float16": 2.0**-10, "half": 2.0**-10, "bfloat16": 2.0**-7}

NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# A number in an expression: not a part of a name (w0, log2) and unsigned (the sign is an
# operator there: 0.22-0.5).
EXPRESSION_NUMBER = re.compile(r"(?<![\w.])(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![\w.])")
_TOKEN = re.compile(r"\[[^\[\]]*\]|\[|\]|,|[^\s\[\],]+")  # a row of numbers is one token
_ONE = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"  # (one way to match each: no backtracking)
_ROW = re.compile(rf"\s*(?:{_ONE}(?:\s*,\s*|\s+)(?=[+\-.\d]))*(?:{_ONE}\s*,?)?\s*")
_PURE = re.compile(r"[\s\[\],0-9eE.+\-]*")
_WRAPPER = re.compile(
    r"(?:(?:np|numpy|torch)\s*\.\s*)?(array|asarray|tensor|float64|float32|float16|float_|double)"
    r"\s*\((?P<inner>.*)\)",
    re.S,
)
_KEYWORDS = re.compile(r"(?:\s*,\s*(?:[^\W\d]\w*\s*=\s*[^,]*?)?)*\s*")
_DTYPE = re.compile(r"dtype\s*=\s*['\"]?(?:(?:np|numpy|torch)\s*\.\s*)?(\w+)")
_SUMMARY = re.compile(r"\.\.\.|…")


def half_unit(number: str) -> float:
    """The tolerance of one number as written (see the module's notes)."""
    return float(half_units(number)[0]) if _PARTS.fullmatch(number) else 0.0


def unwrapped(text: str) -> tuple[str, str | None]:
    """`array([…], dtype=float32)`, `tensor([…])`, `np.float64(0.2)` -> the literal inside and
    the type named (None when it is float64 or not said); other text comes back as it is."""
    match = _WRAPPER.fullmatch(text)
    if match is None:
        return text, None
    maker, inner = match.group(1), match.group("inner").strip()
    if inner.startswith("["):
        end = _closing(inner)
        if end is None:
            return text, None
        literal, rest = inner[: end + 1], inner[end + 1 :]
    else:
        literal, _, rest = inner.partition(",")
        rest = "," + rest if rest else ""
    if not _KEYWORDS.fullmatch(rest):
        return text, None
    dtype = _DTYPE.search(rest)
    kind = dtype.group(1) if dtype else ("float32" if maker == "tensor" else maker)
    return literal.strip(), kind if kind in EPSILON else None


def _closing(text: str) -> int | None:
    """Where the '[' that starts `text` is closed."""
    depth = 0
    for i, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return i
    return None


def summarised(text: str) -> bool:
    """Whether an array literal is numpy's summary of a big array (`[0.1 0.2 ... 0.9]`)."""
    return text.startswith("[") and _SUMMARY.search(text) is not None


def read_literal(text: str) -> tuple[Array, Array] | None:
    """An array literal of plain numbers (commas or spaces between them, as typed or as numpy
    prints): its values and each element's half unit. None when the text is not one (an
    expression such as [1/3, 2*0.5] is for the parser); BindingError when it is one but
    not rectangular, has no elements, or holds a number a float cannot hold as written."""
    if not text.startswith("[") or not _PURE.fullmatch(text):
        return None
    counts: list[int] = []  # items in each open list, innermost last
    sizes: list[int | None] = []  # the length every list at each depth has had so far
    leaf_depth = None  # the depth numbers stand at
    previous = "["  # the previous token: "[", "]", ",", or "n" for a number
    end = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        spaced = match.start() > end
        end = match.end()
        if token == ",":
            if previous in "[,":
                return None
            previous = ","
            continue
        if token[0] == "[":  # a list opens (or a whole row of numbers: opens and closes)
            if (previous in "]n" and not spaced) or not (counts or previous == "["):
                return None  # [1][2], or a second literal after the first closed
            if counts:
                counts[-1] += 1
            if len(token) == 1:
                counts.append(0)
                previous = "["
                continue
            body = token[1:-1]
            if not _ROW.fullmatch(body):
                return None
            counts.append(len(body.replace(",", " ").split()))
            if counts[-1]:
                if leaf_depth is None:
                    leaf_depth = len(counts)
                elif leaf_depth != len(counts):
                    raise _ragged()
            token = "]"
        if token == "]":
            if not counts:
                return None
            depth = len(counts) - 1
            while len(sizes) <= depth:
                sizes.append(None)
            if sizes[depth] is None:
                sizes[depth] = counts[-1]
            elif sizes[depth] != counts[-1]:
                raise _ragged()
            counts.pop()
            previous = "]"
        else:  # a number among lists ([[1, 2], 3]) or a stray one
            if not NUMBER.fullmatch(token) or (previous in "]n" and not spaced) or not counts:
                return None
            if leaf_depth is None:
                leaf_depth = len(counts)
            elif leaf_depth != len(counts):
                raise _ragged()
            counts[-1] += 1
            previous = "n"
    if counts or previous != "]":
        return None  # a '[' never closed (the parser says where)
    shape = tuple(s or 0 for s in sizes)
    if 0 in shape:
        raise BindingError("an array with no elements")
    if leaf_depth != len(shape):
        raise _ragged()
    numbers = NUMBER.findall(text)
    values = np.array(numbers, dtype=float).reshape(shape)
    flat = values.reshape(-1)
    if not np.isfinite(flat).all():
        raise BindingError("a number is too large for a float (at most about 1.8e308)")
    for i in np.flatnonzero(np.abs(flat) < SMALLEST_NORMAL):
        tiny = tiny_number_problem(numbers[int(i)], float(flat[i]))
        if tiny is not None:
            raise BindingError(tiny)
    return values, half_units(text).reshape(shape)


_PARTS = re.compile(r"[+-]?(?:(\d+)(\.?)(\d*)|\.(\d+))(?:[eE]([+-]?\d+))?")
_EXACT = 0.0
_UNSAID = -1.0  # digits that do not say how the number was rounded: 1., 0.000e+00


def half_units(text: str) -> Array:
    """The tolerance of each number in a text of numbers (an array literal), in one pass."""
    known: dict[tuple[str, str, str, str], float] = {}
    units = []
    exponents = []
    for whole, point, decimals, leading, exponent in _PARTS.findall(text):
        fraction = decimals or leading
        if exponent:
            fraction = fraction.rstrip("0")  # numpy pads mantissas with zeros
        zero = bool(exponent) and not fraction and not whole.strip("0")
        key = ("." if point or leading else "", str(len(fraction)), exponent, "0" if zero else "")
        unit = known.get(key)
        if unit is None:
            unit = known[key] = _rounding(key[0] == ".", len(fraction), int(exponent or 0), zero)
        units.append(unit)
        exponents.append(exponent)
    found = np.array(units, dtype=float)
    unsaid = found == _UNSAID
    if unsaid.any():
        # each read as rounded at its last digit, or at the first decimal if that is finer
        scale = np.array([int(e or 0) for e, u in zip(exponents, unsaid, strict=True) if u])
        own = 0.5 * 10.0 ** np.clip(np.minimum(scale, -1), -400, 300)
        found[unsaid] = min(float(own.min()), float(found[found > 0].min(initial=np.inf)))
    return found


def _rounding(point: bool, decimals: int, exponent: int, zero: bool) -> float:
    """Half a unit of a number's last decimal; _EXACT for a whole number, _UNSAID where
    the digits do not say."""
    if not point:
        return 0.5 * 10.0 ** max(exponent, -400) if exponent < 0 else _EXACT  # 1e-05 is 0.00001
    if zero or not decimals:
        return _UNSAID
    return 0.5 * 10.0 ** min(max(exponent - decimals, -400), 300)


def _ragged() -> BindingError:
    return BindingError(
        "the rows of this array are not all the same length",
        hint="an array answer is rectangular: each row has as many numbers as the others",
    )


def type_slack(value: Value, tolerance: Value, kind: str | None) -> Value:
    """The tolerance, widened to the precision of a float32 or float16 answer."""
    if kind is None:
        return tolerance
    slack = ULPS * EPSILON[kind]
    if isinstance(value, float):
        return max(float(tolerance), slack * abs(value))
    return np.maximum(tolerance, slack * np.abs(value))
