"""A student's answers: what each one names, its value, and how closely it must match.

An answer written with k ≥ 1 decimals (0.39) is right when it is within half a unit of its
last decimal of the truth, boundary included: students round. One written without a decimal
point (-4), or as an expression (-1/3), must equal the truth up to floating-point noise.

Floating-point noise is always relative: NOISE times the larger of the truth's magnitude and
the `scale` of what flowed into it (the caller's: the branches added into a gradient, the
inputs of a gate). So a truth that is noise around an exact 0 (0.1 + 0.2 - 0.3) accepts 0,
and a small truth (1e-10) is never swallowed by an absolute floor.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bpcli.errors import BindingError, BpcliError
from bpcli.lazy import np
from bpcli.limits import MAX_DIMENSIONS, tiny_number_problem
from bpcli.values import Mask, Value

NOISE = 1e-12  # relative slack for floating-point noise in the truth (about 4,500 ulps)

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
    value: Value
    tolerance: Value  # absolute, per element; 0 means "up to floating-point noise"


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
        raise BindingError(
            f"the answer {text!r} is not NAME=VALUE",
            hint="write a forward value as q=3 and a gradient as dq=-4, df/dq=-4 or grad(q)=-4",
        )
    return parts[0], parts[1]


def read_answers(text: str, where: str = "the answers") -> list[tuple[str, str, str]]:
    """The NAME=VALUE lines of an answers file, each with where it stands ("a.txt, line 3");
    `#` comments and blank lines are skipped. An array may go on over several lines while a
    `[` is open. An error names its line."""
    pairs = []
    pending, first, depth = "", 0, 0
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line and not pending:
            continue
        if not pending:
            first = number
        pending = f"{pending} {line}" if pending else line
        depth += line.count("[") - line.count("]")
        if depth > 0:
            continue  # an array literal goes on on the next line
        for piece in pending.split(";"):
            if piece.strip():
                lines = f"line {first}" if first == number else f"lines {first}-{number}"
                try:
                    pairs.append((*split_answer(piece), f"{where}, {lines}"))
                except BpcliError as err:
                    raise located(err, f"{where}, {lines}") from None
        pending, depth = "", 0
    if pending:
        raise BindingError(
            f"{where}, line {first}: a '[' is never closed",
            hint="an array may go on over several lines, but each '[' needs its ']'",
        )
    return pairs


def located(err: BpcliError, where: str | None) -> BpcliError:
    """The error with where its answer stands (a file's line) in front of its message."""
    if where is None:
        return err
    return type(err)(f"{where}: {err.message}", source=err.source, pos=err.pos, hint=err.hint)


def expectations(answers: list[tuple[str, str, str | None]], names: set[str]) -> list[Expectation]:
    """expectation() of each (written, text, where); an error names where the answer stands."""
    found = []
    for written, text, where in answers:
        try:
            found.append(expectation(written, text, names))
        except BpcliError as err:
            raise located(err, where) from None
    return found


OUTPUT = "f"  # what an answer calls the output when the program has no name f of its own


def expectation(written: str, text: str, names: Collection[str]) -> Expectation:
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
            raise BpcliError(
                f"the answer {written}={text} names nothing in the program",
                hint=f"the program's names are {known}; write q=… for a value"
                " and dq=… (or df/dq=…, grad(q)=…) for a gradient",
            )
        name, gradient = inner, True
    value, tolerance = read_value(written, text)
    return Expectation(written, name, gradient, text, value, tolerance)


def read_value(written: str, text: str) -> tuple[Value, Value]:
    """The value of an answer and the tolerance its rounding earns."""
    from bpcli.language.bindings import MAKER, parse_value

    text = text.strip()
    value: Value
    if _NUMBER.fullmatch(text):
        value = float(text)
        tiny = tiny_number_problem(text, value)
        if tiny is not None:
            raise BindingError(f"in the answer {written}={text}: {tiny}")
        if not math.isfinite(value):
            raise BindingError(
                f"in the answer {written}={text}: the number is too large for a float (at most about 1.8e308)"
            )
        return value, _half_unit(text)
    depth = _nesting(text)
    if depth > MAX_DIMENSIONS:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise BindingError(
            f"in the answer {written}={shown}: an array of {depth} dimensions (the most is {MAX_DIMENSIONS})"
        )
    maker = MAKER.fullmatch(text)
    if maker and maker.group(1) in ("randn", "rand"):
        raise BindingError(
            f"in the answer {written}={text}: random numbers are not an answer",
            hint="write the numbers (dx=[0.5, -1.2]), or zeros(…) and ones(…)",
        )
    if text.startswith("{"):
        raise BindingError(
            f"in the answer {written}={text}: an answer is a number or an array, not an object"
        )
    try:
        parsed = parse_value(written, text)
        assert not isinstance(parsed, dict)  # (only text in braces is an object)
        value = parsed
    except BindingError as err:
        if text.startswith(("@", "[")) or MAKER.fullmatch(text):  # a value, but a bad one
            raise BindingError(
                err.message.replace("in the binding", "in the answer", 1), hint=err.hint
            ) from None
        value = _constant_expression(written, text)  # -1/3, 2*pi, …
    if not isinstance(value, float) and value.size == 0:
        raise BindingError(f"in the answer {written}={text}: an array with no elements")
    numbers = [m.group() for m in _NUMBER.finditer(text)]
    if not isinstance(value, float) and text.startswith("[") and len(numbers) == value.size:
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


def _constant_expression(written: str, text: str) -> Value:
    from bpcli.language.bindings import constant_value

    try:
        return constant_value(text)
    except BpcliError as err:
        raise BindingError(
            f"in the answer {written}={text}: {err.message}", source=err.source, pos=err.pos, hint=err.hint
        ) from None


def matches(
    answer: Value, tolerance: Value, truth: Value, tol: Tolerance | None = None, scale: Value = 0.0
) -> bool | Mask:
    """Elementwise: is the answer right? (a bool, or a bool array for arrays)

    An answer whose shape is not the truth's is wrong as a whole (False): a gradient has
    its variable's shape, and a scalar is not an array. The slack is the answer's rounding
    (or --tol) plus floating-point noise relative to max(|truth|, scale)."""
    if np_shape(answer) != np_shape(truth):
        return False
    bound: Value
    if tol is not None:
        size = abs(truth) if isinstance(truth, float) else np.abs(truth)
        bound = tol.value * size if tol.relative else tol.value
    else:
        bound = tolerance
    if isinstance(answer, float) and isinstance(truth, float) and isinstance(scale, float):
        return abs(answer - truth) <= bound + NOISE * max(abs(truth), scale)
    diff = np.abs(np.asarray(answer) - np.asarray(truth))
    return diff <= np.asarray(bound) + NOISE * np.maximum(np.abs(truth), scale)


def all_match(
    answer: Value, tolerance: Value, truth: Value, tol: Tolerance | None = None, scale: Value = 0.0
) -> bool:
    result = matches(answer, tolerance, truth, tol, scale)
    return result if isinstance(result, bool) else bool(np.all(result))


def np_shape(value: Value) -> tuple[int, ...]:
    return () if isinstance(value, float) else value.shape
