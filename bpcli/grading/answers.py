"""A student's answers: what each one names, its value, and how closely it must match.

An answer written with k ≥ 1 decimals (0.39) is right when it is within half a unit of its
last decimal of the truth, boundary included: students round. A whole number (-4) must
equal the truth up to floating-point noise. An expression of numbers
(0.22*0.5, -1/3) is judged by the rounding of the numbers in it: its tolerance is the
rounding each carries, propagated to first order (Σ |∂expr/∂n| · half unit of n, the partial
derivatives from bpcli's own backward pass); with whole numbers only (-1/3) it is exact.
How arrays, numpy's printed forms and files are read: bpcli.grading.literals. What students
paste from PDFs (−0.20, ０.２, 2×0.11) is read as what it stands for: normalised().

Floating-point noise is always relative: NOISE times the larger of the truth's magnitude and
the `scale` of what flowed into it (the caller's: the branches added into a gradient, the
inputs of a gate). So a truth that is noise around an exact 0 (0.1 + 0.2 - 0.3) accepts 0,
and a small truth (1e-10) is never swallowed by an absolute floor.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from functools import cache

from bpcli.errors import BindingError, BpcliError
from bpcli.grading.literals import (
    EXPRESSION_NUMBER,
    NUMBER,
    half_unit,
    read_literal,
    summarised,
    type_slack,
    unwrapped,
)
from bpcli.lazy import np
from bpcli.limits import MAX_DIMENSIONS, tiny_number_problem
from bpcli.values import Mask, Value

NOISE = 1e-12  # relative slack for floating-point noise in the truth (about 4,500 ulps)
MAX_ROWS = 1000  # an expression's tolerance takes a backward pass per element it makes

_NAME = r"[^\W\d]\w*"
_RATIO = re.compile(rf"[d∂](?P<top>{_NAME})/[d∂](?P<name>{_NAME})")
_GRAD = re.compile(rf"grad\((?P<name>{_NAME})\)")
_SEPARATOR = re.compile(r"\s*[=:]\s*")
_UNIFORM = re.compile(r"all(?:\s+|(?=\())(?P<value>.+)", re.S)
_NOT_BRACKETS = re.compile(r"[^\[\]]+")
_BOOLEAN = re.compile(r"\b(?:true|false)\b", re.I)


@dataclass(frozen=True, slots=True)
class Expectation:
    """One answer: `name` as written, the node name it refers to, and whether it is ∂f/∂name."""

    written: str
    name: str
    gradient: bool
    text: str  # the value as written
    value: Value
    tolerance: Value  # absolute, per element; 0 means "up to floating-point noise"
    uniform: bool = False  # written all(v): every element of the truth is v (see fitted)


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


# --- what students paste ---------------------------------------------------------------


@cache
def _pasted() -> dict[int, str]:
    """The characters students paste from PDFs, slides and Chinese input methods, each
    mapped to the one it stands for (one for one, so that positions stay true): the
    program's own (−, ×, ·, ÷, no-break space) and more an answer may hold."""
    from bpcli.language.parse import TYPOS

    table: dict[int, str] = {code: str(char) for code, char in TYPOS.items()}
    for char in "–‒﹣":  # en dash, figure dash, small minus: a minus sign in a PDF
        table[ord(char)] = "-"
    for char in "⋅∗":  # dot operator, asterisk operator
        table[ord(char)] = "*"
    for char in "\u2002\u2003\u2007\u2009\u200a\u202f\u3000\u200b\t\r\n\f\v":
        table[ord(char)] = " "
    for char in "𝜕𝝏𝞉𝛛𝟃":  # mathematical italic and bold partials
        table[ord(char)] = "∂"
    for code in range(0xFF01, 0xFF5F):  # full-width digits and punctuation, not letters
        plain = chr(code - 0xFEE0)
        if not plain.isalpha():
            table[code] = plain
    return table


def normalised(text: str) -> str:
    """An answer's text with the pasted symbols students use read as what they stand for
    (−0.20 is -0.20; ０．２ is 0.2; white space of every kind is a space): one character for
    one, so that a caret under the text still points where it did."""
    return text.translate(_pasted())


def split_answer(text: str) -> tuple[str, str]:
    """'dq = -4' or 'dq: -4' -> ('dq', '-4') (as written; a full-width ＝ or ： also splits)."""
    text = text.strip()
    separator = _SEPARATOR.search(normalised(text))
    if separator is None or not separator.start() or separator.end() == len(text):
        raise BindingError(
            f"the answer {text!r} is not NAME=VALUE",
            hint="write a forward value as q=3 and a gradient as dq=-4, df/dq=-4 or grad(q)=-4",
        )
    return text[: separator.start()], text[separator.end() :]


def read_answers(
    text: str, where: str = "the answers", base: str | None = None
) -> list[tuple[str, str, str]]:
    """The NAME=VALUE lines of an answers file, each with where it stands ("a.txt, line 3");
    `#` comments and blank lines are skipped. An answer goes on over several lines while a
    `[` or `(` is open (a multi-line matrix, numpy's printed form), or when a line ends at
    its `=`. `base`: the directory a relative `@file` is read from (the answers file's own);
    the path is rewritten to be found from there. An error names its line."""
    pairs = []
    pending, first, squares, parens = "", 0, 0, 0
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line and not pending:
            continue
        if not pending:
            first = number
        pending = f"{pending} {line}" if pending else line
        plain = normalised(line)
        squares += plain.count("[") - plain.count("]")
        parens += plain.count("(") - plain.count(")")
        if squares > 0 or parens > 0 or _ends_open(pending):
            continue  # the answer goes on on the next line
        for piece in pending.split(";"):
            if piece.strip():
                lines = f"line {first}" if first == number else f"lines {first}-{number}"
                try:
                    written, value = split_answer(piece)
                    pairs.append((written, _based(value, base), f"{where}, {lines}"))
                except BpcliError as err:
                    raise located(err, f"{where}, {lines}") from None
        pending, squares, parens = "", 0, 0
    if pending:
        if squares > 0 or parens > 0:
            opener, closer = ("[", "]") if squares > 0 else ("(", ")")
            raise BindingError(
                f"{where}, line {first}: a '{opener}' is never closed",
                hint=f"an answer may go on over several lines, but each '{opener}' needs its '{closer}'",
            )
        raise BindingError(
            f"{where}, line {first}: the answer {pending.strip()!r} has no value",
            hint="write a value after the '=' (dx = 0.5)",
        )
    return pairs


def _ends_open(text: str) -> bool:
    """Whether an answer's text stops right after its separator (dW = ⏎ [[…]])."""
    plain = normalised(text).rstrip()
    return bool(plain) and plain[-1] in "=:"


def _based(value: str, base: str | None) -> str:
    """A value `@path` with a relative path, made relative to `base` instead."""
    import os

    stripped = value.strip()
    if base and stripped.startswith("@") and not os.path.isabs(stripped[1:].strip()):
        return "@" + os.path.join(base, stripped[1:].strip())
    return value


def located(err: BpcliError, where: str | None) -> BpcliError:
    """The error with where its answer stands (a file's line) in front of its message."""
    if where is None:
        return err
    return type(err)(f"{where}: {err.message}", source=err.source, pos=err.pos, hint=err.hint)


def expectations(
    answers: list[tuple[str, str, str | None]], names: Collection[str], output: str | None = None
) -> list[Expectation]:
    """expectation() of each (written, text, where); an error names where the answer stands."""
    found = []
    for written, text, where in answers:
        try:
            found.append(expectation(written, text, names, output))
        except BpcliError as err:
            raise located(err, where) from None
    return found


OUTPUT = "f"  # what an answer calls the output when the program has no name f of its own
# Other names an answer may call the output by (dL/dW, dloss_dW), when the program has no
# such name of its own: what courses call a loss.
OUTPUT_NAMES = (OUTPUT, "L", "J", "loss", "cost", "ℓ")


def expectation(written: str, text: str, names: Collection[str], output: str | None = None) -> Expectation:
    """Resolve what `written` names (a forward value or ∂f/∂name) and read its value.

    `f` (so `df`, `df/df`, `∂f/∂f`, `grad(f)`) is the output, unless the program has a name
    f of its own: then it is that name, as every name of the program is. `output` is the
    output's own name, if it has one: dL/dW and ∂L/∂W are ∂f/∂W for an output named L (and
    dL_dW too, when no name of the program reads so). `all(v)` or `all v` (db = all(0.5))
    says that every element is v: see fitted()."""
    text = text.strip()
    name, gradient = resolve(written, names, output, _shown(written, text))
    uniform = _UNIFORM.fullmatch(normalised(text))
    value, tolerance = read_value(written, text[uniform.start("value") :] if uniform else text)
    if uniform and not isinstance(value, float):
        raise BindingError(
            f"in the answer {_shown(written, text)}: `all` takes one number, not an array",
            hint=f"write {written} = all(0.5) when every element of {written} is 0.5",
        )
    return Expectation(written, name, gradient, text, value, tolerance, uniform is not None)


def resolve(
    written: str, names: Collection[str], output: str | None = None, answer: str | None = None
) -> tuple[str, bool]:
    """What an answer's name means: (the name of the program it names, whether it is ∂f/∂ of
    it). An exact name of the program wins (a variable dout is dout's value); then dL/dW and
    ∂L/∂W, grad(W), dW and ∂W, and last dL_dW, where L is the output: its own name `output`,
    or one of OUTPUT_NAMES the program does not use. (`answer`: the whole answer,
    NAME=VALUE, for messages.) A name not in `names` that comes back is the output's."""
    plain = "".join(normalised(written).split())
    outputs = {alias: output or alias for alias in OUTPUT_NAMES if alias not in names}
    if output:
        outputs[output] = output
    if plain in names or plain in outputs:
        return outputs.get(plain, plain), False

    def known(name: str) -> str | None:
        return name if name in names else outputs.get(name)

    ratio = _RATIO.fullmatch(plain)
    if ratio:
        top, name = ratio.group("top"), ratio.group("name")
        if top not in outputs:
            raise _not_the_output(answer or written, top, name, names, output)
        found = known(name)
    else:
        inner = _GRAD.fullmatch(plain)
        found = known(inner.group("name")) if inner else None
        if found is None and plain[:1] in "d∂":
            found = known(plain[1:])
        for top in sorted(outputs):  # dL_dW
            prefix = f"d{top}_d"
            if found is None and plain.startswith(prefix):
                found = known(plain[len(prefix) :])
    if found is not None:
        return found, True
    shown = output or OUTPUT
    extra = "" if OUTPUT in names else f" (and {OUTPUT}, the output)"
    if output and output != OUTPUT:
        extra = f" ({output} is the output)"
    raise BpcliError(
        f"the answer {answer or written} names nothing in the program",
        hint=f"the program's names are {', '.join(sorted(names))}{extra}; write q=… for a value"
        f" and dq=… (or d{shown}/dq=…, grad(q)=…) for a gradient",
    )


def _not_the_output(
    written: str, top: str, name: str, names: Collection[str], output: str | None
) -> BpcliError:
    shown = output or OUTPUT
    if top in names:
        return BpcliError(
            f"the answer {written} is a local gradient, ∂{top}/∂{name}: check checks the"
            f" gradients of the output, {shown}",
            hint=f"write d{name} (or d{shown}/d{name}) for ∂{shown}/∂{name}",
        )
    return BpcliError(
        f"the answer {written} names {top}, which is not the output: the output is {shown}",
        hint=f"write d{name} (or d{shown}/d{name}) for ∂{shown}/∂{name}",
    )


def fitted(exp: Expectation, truth: Value) -> Expectation:
    """The answer as it is to be compared with `truth`: an answer written all(v) becomes an
    array of v in the truth's shape (its tolerance too); any other comes back as it is (a
    single number for an array of several elements is then a wrong shape)."""
    if not exp.uniform or isinstance(truth, float):
        return exp
    shape = np.shape(truth)
    return replace(
        exp,
        value=np.full(shape, exp.value, dtype=float),
        tolerance=np.broadcast_to(np.asarray(exp.tolerance, dtype=float), shape).copy(),
    )


def read_value(written: str, text: str) -> tuple[Value, Value]:
    """The value of an answer and the tolerance its rounding earns (elementwise for an
    array). BindingError, naming the answer, for what is not a finite number or array."""
    text = text.strip()
    plain, kind = unwrapped(normalised(text))
    value, tolerance = _read(written, text, plain)
    return value, type_slack(value, tolerance, kind)


def _read(written: str, text: str, plain: str) -> tuple[Value, Value]:
    from bpcli.language.bindings import MAKER, parse_value

    where = f"in the answer {_shown(written, text)}"
    value: Value
    if NUMBER.fullmatch(plain):
        value = float(plain)
        tiny = tiny_number_problem(plain, value)
        if tiny is not None:
            raise BindingError(f"{where}: {tiny}")
        if not math.isfinite(value):
            raise BindingError(f"{where}: the number is too large for a float (at most about 1.8e308)")
        return value, half_unit(plain)
    depth = _nesting(plain)
    if depth > MAX_DIMENSIONS:
        raise BindingError(f"{where}: an array of {depth} dimensions (the most is {MAX_DIMENSIONS})")
    maker = MAKER.fullmatch(plain)
    if maker and maker.group(1) in ("randn", "rand"):
        raise BindingError(
            f"{where}: random numbers are not an answer",
            hint=f"write the numbers ({written}=[0.5, -1.2]), or zeros(…) and ones(…)",
        )
    if plain.startswith("{"):
        raise BindingError(f"{where}: an answer is a number or an array, not an object")
    if plain.startswith("@"):
        return _file_answer(written, text, plain)
    if summarised(plain):
        raise BindingError(
            f"{where}: numpy left out the middle of this array (...)",
            hint="print it whole (np.set_printoptions(threshold=sys.maxsize)), or save it"
            f" (np.save('{_file_name(written)}.npy', …)) and write {written} = @{_file_name(written)}.npy",
        )
    try:
        literal = read_literal(plain)
    except BindingError as err:
        raise BindingError(f"{where}: {err.message}", hint=err.hint) from None
    if literal is not None:
        return literal
    if not (MAKER.fullmatch(plain) or _BOOLEAN.search(plain)):
        return _expression(written, text, plain)  # -1/3, 2*pi, 0.22*0.5, [1/3, 0.5], …
    try:  # zeros(…), ones(…), true and false: as a binding's value
        parsed = parse_value(written, plain)
    except BindingError as err:
        raise BindingError(err.message.replace("in the binding", "in the answer", 1), hint=err.hint) from None
    assert not isinstance(parsed, dict)  # (only text in braces is an object)
    return parsed, 0.0


def _shown(written: str, text: str) -> str:
    """NAME=VALUE for a message, a long value cut short (a big matrix)."""
    text = " ".join(text.split()) if len(text) <= 200 else text
    return f"{written}={text if len(text) <= 40 else text[:40] + '…'}"


def _file_name(written: str) -> str:
    plain = "".join(ch for ch in written if ch.isalnum() or ch == "_")
    return plain or "answer"


def _nesting(text: str) -> int:
    """How deeply the brackets of an array literal nest (counted, not parsed)."""
    if "[" not in text:
        return 0
    brackets = np.frombuffer(_NOT_BRACKETS.sub("", text).encode("ascii"), dtype=np.uint8)
    return int(np.cumsum((brackets == ord("[")).astype(np.int64) * 2 - 1).max())


def _expression(written: str, text: str, plain: str) -> tuple[Value, Value]:
    """The value of an expression of numbers and the tolerance their rounding gives it."""
    from bpcli.language.bindings import constant_value

    where = f"in the answer {_shown(written, text)}"
    if plain.lstrip("+-").lower() in ("nan", "inf", "infinity"):
        raise BindingError(f"{where}: the value must be a finite number")
    try:
        value: Value = constant_value(plain)
    except BpcliError as err:
        # an array as numpy prints it ([0.2 0.4]) is no program's syntax, but a value here
        found = _with_literals(plain)
        if found is None:
            hint = err.hint
            if err.message.startswith("no value for"):
                hint = "an answer is a number, an array or an expression of numbers (pi and e too)"
            raise BindingError(f"{where}: {err.message}", source=err.source, pos=err.pos, hint=hint) from None
        value = found
    if not isinstance(value, float) and value.size == 0:
        raise BindingError(f"{where}: an array with no elements")
    return value, rounding(plain, value)


def _with_literals(plain: str) -> Value | None:
    """The value of an expression that holds numpy-printed literals (0.5*[0.2 0.4]), each
    read as an array; None if it has none, or is not a value even so."""
    if not _literals(plain):
        return None
    from bpcli.core.engine import forward
    from bpcli.language.parse import parse

    program, bindings, _ = _as_program(plain)
    try:
        graph = parse(program, bindings)
        output = forward(graph).output
    except BpcliError:
        return None
    if any(name not in bindings for name in graph.inputs) or any(
        node.name and node.name.startswith("np.random.") for node in graph.nodes
    ):
        return None
    return output


# --- files ---------------------------------------------------------------------------------


def _file_answer(written: str, text: str, plain: str) -> tuple[Value, Value]:
    """NAME = @file: a .npy answer must equal the truth up to floating-point noise (or to its
    type's precision, for float32); a text file's numbers (.csv, .txt, .json) keep the
    rounding each is written with."""
    from bpcli.language.bindings import load_file

    where = f"in the answer {_shown(written, text)}"
    path = plain[1:].strip()
    try:
        value = load_file(written, path)
    except BindingError as err:
        raise BindingError(err.message.replace("in the binding", "in the answer", 1), hint=err.hint) from None
    if not isinstance(value, float) and value.dtype != float:
        raise BindingError(f"{where}: the file holds true and false, not numbers")
    if not (math.isfinite(value) if isinstance(value, float) else bool(np.isfinite(value).all())):
        raise BindingError(f"{where}: the values must be finite (not inf or nan)")
    if path.lower().endswith(".npy"):
        exact: Value = 0.0 if isinstance(value, float) else np.zeros_like(value)
        return value, type_slack(value, exact, _npy_type(path))
    return value, _written_rounding(path, value)


def _npy_type(path: str) -> str | None:
    """float32 or float16, when a .npy file holds that type."""
    from numpy.lib import format as npy

    try:
        with open(path, "rb") as handle:
            version = npy.read_magic(handle)
            read = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
            dtype = read(handle)[2]
    except (OSError, ValueError, TypeError, SyntaxError, EOFError):
        return None
    return dtype.name if dtype.name in ("float32", "float16") else None


def _written_rounding(path: str, value: Value) -> Value:
    """Each number's half unit as the text file writes it (0 where they cannot be matched
    with the values one for one)."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return 0.0
    if not path.lower().endswith(".json"):
        text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    numbers = NUMBER.findall(text)
    if len(numbers) != np.size(value):
        return 0.0 if isinstance(value, float) else np.zeros_like(value)
    if isinstance(value, float):
        return half_unit(numbers[0])
    return np.array([half_unit(n) for n in numbers]).reshape(value.shape)


# --- an expression of rounded numbers ---------------------------------------------------


def rounding(text: str, value: Value) -> Value:
    """The tolerance of an expression of rounded numbers (0.22*0.5, [0.1, 0.2]*2): the
    rounding of each number in it, carried to the value to first order, Σ |∂value/∂n| ·
    half unit of n, with the partial derivatives from bpcli's own backward pass (a pass per
    element of an array value). Each number written with a decimal point is an input of a
    small program; a whole number stays exact, and so is an expression of whole numbers
    (-1/3). Where the derivatives cannot be had (a value of more than MAX_ROWS elements, a
    kink, a derivative that is not finite) the value must be exact."""
    zero: Value = 0.0 if isinstance(value, float) else np.zeros_like(value)
    program, bindings, halves = _as_program(text)
    if not bindings or np.size(value) > MAX_ROWS:
        return zero
    from bpcli.core.engine import backward, forward_values
    from bpcli.language.parse import parse

    try:
        graph = parse(program, bindings)
        values = list(graph.leaves)
        forward_values(graph, values)
        rows: list[Value] = []
        for i in range(np.size(value)):
            if isinstance(value, float):
                grads, _ = backward(graph, values)
            else:
                seed = np.zeros(np.shape(value))
                seed.flat[i] = 1.0
                grads, _ = backward(graph.with_upstream(seed, "d"), values)
            total = 0.0
            for name, half in halves.items():
                node = graph.inputs.get(name)
                grad = None if node is None else grads[node.id]
                if grad is not None:
                    total += float(np.sum(np.abs(grad) * half))
            rows.append(total)
    except (BpcliError, ArithmeticError, ValueError, FloatingPointError):
        return zero
    if not all(math.isfinite(r) for r in rows):
        return zero
    return rows[0] if isinstance(value, float) else np.array(rows).reshape(np.shape(value))


def _as_program(text: str) -> tuple[str, dict[str, Value], dict[str, Value]]:
    """The expression with its rounded numbers made inputs: a literal of plain numbers
    ([0.1 0.2]) one input, each other number with a decimal point one input. Returns the
    program, its bindings and each input's half units."""
    pieces: list[str] = []
    bindings: dict[str, Value] = {}
    halves: dict[str, Value] = {}
    end = 0
    for start, stop in _literals(text):
        literal = read_literal(text[start:stop])  # (plain by construction: no error)
        assert literal is not None
        name = f"_a{len(bindings)}"
        bindings[name], halves[name] = literal
        pieces += [_numbers_as_inputs(text[end:start], bindings, halves), name]
        end = stop
    pieces.append(_numbers_as_inputs(text[end:], bindings, halves))
    return "".join(pieces), bindings, halves


def _literals(text: str) -> list[tuple[int, int]]:
    """Where the outermost array literals of plain numbers in an expression stand."""
    spans: list[tuple[int, int]] = []
    opened: list[int] = []
    for i, char in enumerate(text):
        if char == "[":
            opened.append(i)
        elif char == "]" and opened:
            start = opened.pop()
            try:
                plain = read_literal(text[start : i + 1]) is not None
            except BindingError:
                plain = False
            if plain:
                while spans and spans[-1][0] > start:  # inside this one
                    spans.pop()
                spans.append((start, i + 1))
    return spans


def _numbers_as_inputs(text: str, bindings: dict[str, Value], halves: dict[str, Value]) -> str:
    def replaced(match: re.Match[str]) -> str:
        half = half_unit(match.group())
        if not half:
            return match.group()
        name = f"_n{len(bindings)}"
        bindings[name], halves[name] = float(match.group()), half
        return name

    return EXPRESSION_NUMBER.sub(replaced, text)


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


ANSWERS_SUFFIX = ".txt"  # what a class's directory holds: one answers file a student


def answers_files(directory: str) -> tuple[list[str], list[str]]:
    """A class's directory: its answers files (the .txt files, not hidden, sorted by name)
    and the other entries, skipped (a subdirectory ends in /). Raises OSError."""
    entries = sorted(os.listdir(directory))
    taken = [
        e
        for e in entries
        if e.endswith(ANSWERS_SUFFIX) and not e.startswith(".") and os.path.isfile(os.path.join(directory, e))
    ]
    skipped = [e + "/" * os.path.isdir(os.path.join(directory, e)) for e in entries if e not in taken]
    return taken, skipped
