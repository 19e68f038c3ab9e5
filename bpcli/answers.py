"""A student's answers: what each one names, its value, and how closely it must match.

An answer written with k ≥ 1 decimals (0.39) is right when it is within half a unit of its
last decimal of the truth, boundary included: students round. One written without a decimal
point (-4), or as an expression (-1/3), must equal the truth up to floating-point noise.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from bpcli.errors import BindingError, BpcliError
from bpcli.lazy import np
from bpcli.limits import MAX_DIMENSIONS

NOISE = 1e-9  # relative slack for floating-point noise in the truth

_GRAD = re.compile(r"(?:df/d|∂f/∂|d)(?P<name>[^\W\d]\w*)|grad\((?P<inner>[^\W\d]\w*)\)")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_SEPARATOR = re.compile(r"\s*(?:=|:)\s*")


@dataclass(frozen=True, slots=True)
class Expectation:
    """One answer: `name` as written, the node name it refers to, and whether it is ∂f/∂name."""

    written: str
    name: str
    gradient: bool
    text: str  # the value as written
    value: Any  # float or array
    tolerance: Any  # absolute; 0 means "up to floating-point noise"


@dataclass(frozen=True, slots=True)
class Tolerance:
    """--tol: an absolute tolerance, or a relative one (written with %)."""

    value: float
    relative: bool


def parse_tolerance(text: str) -> Tolerance:
    relative = text.strip().endswith("%")
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise BindingError(f"--tol {text}: write a number (0.01) or a percentage (1%)") from None
    if not 0 <= value < math.inf:
        raise BindingError(f"--tol {text}: the tolerance must be a finite non-negative number")
    return Tolerance(value / 100 if relative else value, relative)


def split_answer(text: str) -> tuple[str, str]:
    """'dq = -4' or 'dq: -4' -> ('dq', '-4')."""
    parts = _SEPARATOR.split(text.strip(), maxsplit=1)
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise BindingError(f"the answer {text!r} is not NAME=VALUE",
                           hint="write a forward value as q=3 and a gradient as dq=-4, df/dq=-4"
                                " or grad(q)=-4")
    return parts[0], parts[1]


def read_answers(text: str) -> list[tuple[str, str]]:
    """The NAME=VALUE lines of an answers file; `#` comments and blank lines are skipped."""
    pairs = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            for piece in line.split(";"):
                if piece.strip():
                    pairs.append(split_answer(piece))
    return pairs


OUTPUT = "f"  # what an answer calls the output when the program has no name f of its own


def expectation(written: str, text: str, names: set[str] | dict[str, Any]) -> Expectation:
    """Resolve what `written` names (a forward value or ∂f/∂name) and read its value.

    `f` (so `df`, `df/df`, `∂f/∂f`, `grad(f)`) is the output, unless the program has a name
    f of its own: then it is that name, as every name of the program is."""
    if written in names or written == OUTPUT:
        name, gradient = written, False
    else:
        match = _GRAD.fullmatch(written)
        inner = match and (match.group("name") or match.group("inner"))
        if not inner or (inner not in names and inner != OUTPUT):
            known = ", ".join(sorted(names)) + ("" if OUTPUT in names else " (and f, the output)")
            raise BpcliError(f"the answer {written}={text} names nothing in the program",
                             hint=f"the program's names are {known}; write q=… for a value"
                                  " and dq=… (or df/dq=…, grad(q)=…) for a gradient")
        name, gradient = inner, True
    value, tolerance = read_value(written, text)
    return Expectation(written, name, gradient, text, value, tolerance)


def read_value(written: str, text: str) -> tuple[Any, Any]:
    """The value of an answer and the tolerance its rounding earns."""
    from bpcli.bindings import MAKER, parse_value

    text = text.strip()
    if _NUMBER.fullmatch(text):
        value = float(text)
        if not math.isfinite(value):
            raise BindingError(f"in the answer {written}={text}: the number is too large for a"
                               " float (at most about 1.8e308)")
        return value, _half_unit(text)
    depth = _nesting(text)
    if depth > MAX_DIMENSIONS:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise BindingError(f"in the answer {written}={shown}: an array of {depth}"
                           f" dimensions (the most is {MAX_DIMENSIONS})")
    try:
        value = parse_value(written, text)
    except BindingError as err:
        if text.startswith(("@", "[")) or MAKER.fullmatch(text):  # a value, but a bad one
            raise BindingError(err.message.replace("in the binding", "in the answer", 1),
                               hint=err.hint) from None
        value = _constant_expression(written, text)  # -1/3, 2*pi, …
    if type(value) is not float and value.size == 0:
        raise BindingError(f"in the answer {written}={text}: an array with no elements")
    numbers = [m.group() for m in _NUMBER.finditer(text)]
    if type(value) is not float and text.startswith("[") and len(numbers) == value.size:
        # an array literal of plain numbers: each element keeps its own rounding
        return value, np.array([_half_unit(n) for n in numbers]).reshape(value.shape)
    return value, 0.0


def _nesting(text: str) -> int:
    """How deeply the brackets of an array literal nest (counted, not parsed)."""
    if "[" not in text:
        return 0
    codes = np.frombuffer(text.encode("utf-8", "replace"), dtype=np.uint8)
    steps = (codes == ord("[")).astype(np.int64) - (codes == ord("]"))
    return int(np.cumsum(steps).max())


def _half_unit(number: str) -> float:
    if "." not in number:
        return 0.0
    try:
        exponent = Decimal(number).as_tuple().exponent
    except InvalidOperation:
        return 0.0
    return 0.5 * 10.0 ** int(exponent)


def _constant_expression(written: str, text: str) -> Any:
    from bpcli.bindings import constant_value

    try:
        return constant_value(text)
    except BpcliError as err:
        raise BindingError(f"in the answer {written}={text}: {err.message}") from None


def matches(answer: Any, tolerance: Any, truth: Any, tol: Tolerance | None = None) -> Any:
    """Elementwise: is the answer right? (a bool, or a bool array for arrays)"""
    if np_shape(answer) != np_shape(truth) and np_shape(answer) != ():
        return False
    if tol is not None:
        bound = tol.value * abs(truth) if tol.relative else tol.value
    else:
        bound = tolerance
    if type(answer) is float and type(truth) is float:
        return abs(answer - truth) <= bound + NOISE * max(1.0, abs(truth))
    diff = np.abs(np.asarray(answer) - np.asarray(truth))
    return diff <= np.asarray(bound) + NOISE * np.maximum(1.0, np.abs(truth))


def all_match(answer: Any, tolerance: Any, truth: Any, tol: Tolerance | None = None) -> bool:
    result = matches(answer, tolerance, truth, tol)
    return bool(result) if type(result) is bool else bool(np.all(result))


def np_shape(value: Any) -> tuple[int, ...]:
    return () if type(value) is float else tuple(np.shape(value))
