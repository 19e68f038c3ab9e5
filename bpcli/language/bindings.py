"""NAME=VALUE bindings: numbers, array literals, files and random arrays."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, NoReturn, TypeVar

from bpcli.errors import BindingError, BpcliError
from bpcli.lazy import LazyPattern, all_finite, np
from bpcli.limits import (
    MAX_DIMENSIONS,
    MAX_ELEMENTS,
    read_limited,
    shape_problem,
    shape_text,
    tiny_number_problem,
)
from bpcli.values import Array, Params, Value

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.random import Generator

V = TypeVar("V", bound="float | Array")

_NAME = re.compile(r"[^\W\d]\w*")
MAKER = LazyPattern(r"(randn|rand|zeros|ones)\(\s*(\d+(?:\s*,\s*\d+)*)?\s*\)")
FILE_TYPES = (".npy", ".csv", ".txt", ".json")


def parse_bindings(
    texts: Iterable[str],
    seed: int | None = None,
    *,
    max_elements: int = MAX_ELEMENTS,
    rng: list[Generator] | None = None,
) -> dict[str, Value | Params]:
    """Turn ["x=-2", "W=@W.npy", …] into {name: value}; values are floats or float arrays
    of at most `max_elements` elements, or dicts of parameters (a JSON object). (`rng`: the
    random generator to draw randn(…) from, shared with what is read after the bindings, as
    --upstream.)"""
    bindings: dict[str, Value | Params] = {}
    if rng is None:
        rng = []  # created on first use, so that scalar problems never import numpy
    for text in texts:
        name, value = parse_binding(text, seed, rng, max_elements=max_elements)
        if name in bindings:
            raise BindingError(f"{name} is bound twice ({text})")
        bindings[name] = value
    return bindings


def split_bindings(text: str) -> list[str]:
    """The bindings of one `--at` text: split at white space outside brackets and quotes,
    so that `W=[[1, 2], [3, 4]] b=2` is two bindings."""
    pieces: list[str] = []
    start: int | None = None
    depth = 0
    quote = ""
    for i, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif char.isspace() and not depth:
            if start is not None:
                pieces.append(text[start:i])
                start = None
            continue
        if start is None:
            start = i
    if start is not None:
        pieces.append(text[start:])
    return pieces


def parse_binding(
    text: str,
    seed: int | None = None,
    rng: list[Generator] | None = None,
    *,
    max_elements: int = MAX_ELEMENTS,
) -> tuple[str, Value | Params]:
    """One NAME=VALUE."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep:
        if _NAME.fullmatch(name):
            raise BindingError(f"the binding {text!r} has no value", hint=f"write {name}=1.5")
        raise BindingError(
            f"{text!r} is not a binding: bindings are written NAME=VALUE (x=1.5), and the program comes first"
        )
    if not _NAME.fullmatch(name):
        raise BindingError(
            f"in the binding {text!r}: {name!r} is not a name",
            hint="a name starts with a letter or _ (x, w0, x_1, θ)",
        )
    return name, parse_value(
        name, raw.strip(), seed, rng if rng is not None else [], max_elements=max_elements
    )


def parse_upstream(
    text: str,
    seed: int | None = None,
    rng: list[Generator] | None = None,
    *,
    max_elements: int = MAX_ELEMENTS,
) -> tuple[str | None, Value]:
    """--upstream [NAME=]VALUE: the name it gives (dout, or out), if any, and the value, read
    as a binding's is (a number, an array, @file, randn(…))."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not _NAME.fullmatch(name):
        name, raw = "", text
    value = parse_value(
        name or "upstream", raw.strip(), seed, rng if rng is not None else [], max_elements=max_elements
    )
    if isinstance(value, dict):
        raise BindingError(f"--upstream {text}: the upstream gradient is a number or an array")
    return name or None, value


def parse_value(
    name: str,
    raw: str,
    seed: int | None = None,
    rng: list[Generator] | None = None,
    *,
    max_elements: int = MAX_ELEMENTS,
) -> Value | Params:
    """A binding's value: a number, an array literal, @file, randn/rand/zeros/ones(shape), or
    a JSON object of parameters ({"stride": 2, "pad": 1}: a dict, bpcli.language.objects)."""
    try:
        value = float(raw)
    except ValueError:
        pass
    else:
        tiny = tiny_number_problem(raw, value)
        if tiny is not None:
            raise BindingError(f"in the binding {name}={raw}: {tiny}")
        return _finite(name, raw, value)
    where = f"in the binding {name}={raw}"
    if raw.startswith("{"):
        from bpcli.language.objects import parse_object

        return parse_object(raw, where, max_elements)
    if raw.startswith("@"):
        return _finite(name, raw, checked(load_file(name, raw[1:], max_elements), where, max_elements))
    maker = MAKER.fullmatch(raw)
    if maker:
        return _make(
            maker.group(1), maker.group(2), seed, rng if rng is not None else [], where, max_elements
        )
    if raw.startswith("[") and _TRUTH.search(raw):  # mask=[true, false, …]: a boolean array
        numbers = _TRUTH.sub(lambda m: "1" if m.group(0).lower() == "true" else "0", raw)
        values = checked(_literal(name, numbers, max_elements), where, max_elements)
        if not np.all((np.asarray(values) == 0) | (np.asarray(values) == 1)):
            raise BindingError(f"{where}: a boolean array holds only true and false (or 0 and 1)")
        return np.asarray(values, dtype=bool)
    if raw.lower() in ("true", "false"):
        return np.asarray(raw.lower() == "true")
    if raw.startswith("["):
        return _finite(name, raw, checked(_literal(name, raw, max_elements), where, max_elements))
    raise BindingError(
        f"in the binding {name}={raw}: the value must be a finite number"
        if raw
        else f"the binding {name}= has no value",
        hint="values are numbers (1.5, -2, 1e-3), arrays ([0.2, 0.4]), files (@W.npy),"
        ' randn(2,3), rand(…), zeros(…), ones(…) or JSON objects ({"stride": 2})',
    )


_TRUTH = LazyPattern(r"\b(?:true|false|True|False)\b")


def checked(value: V, where: str, max_elements: int = MAX_ELEMENTS) -> V:
    """The value, if it is a float or an array bpcli may hold: at least one element, at most
    `max_elements`, at most MAX_DIMENSIONS dimensions. Else BindingError, `where` first."""
    if not isinstance(value, float):
        _check_shape(value.shape, where, max_elements)
    return value


def _check_shape(shape: tuple[int, ...], where: str, max_elements: int) -> None:
    problem = shape_problem(shape, max_elements)
    if problem is not None:
        raise BindingError(f"{where}: the array is too big: {problem[0]}", hint=problem[1])
    if 0 in shape:
        raise BindingError(
            f"{where}: the array has no elements (its shape is {shape_text(shape)}): bpcli needs at least one"
        )


def _finite(name: str, raw: str, value: Value) -> Value:
    ok = math.isfinite(value) if isinstance(value, float) else all_finite(value)
    if not ok:
        raise BindingError(
            f"in the binding {name}={raw}: the value must be finite (not inf or nan, and within ±1.8e308)"
        )
    return value


def _literal(name: str, raw: str, max_elements: int = MAX_ELEMENTS) -> Value:
    try:
        return constant_value(raw, max_elements)
    except BpcliError as err:
        raise BindingError(f"in the binding {name}={raw}: {err.message}", hint=err.hint) from None


def constant_value(text: str, max_elements: int = MAX_ELEMENTS) -> Value:
    """The value of a program made of numbers only (an array literal, -1/3, 2*pi)."""
    from bpcli.core.engine import forward
    from bpcli.language.parse import parse

    graph = parse(text, max_elements=max_elements)
    if any(node.name and node.name.startswith("np.random.") for node in graph.nodes):
        raise BpcliError("np.random draws in a program only, not in a value")
    if graph.inputs:
        raise BpcliError("only numbers, pi and e may be used here, not " + ", ".join(graph.inputs))
    return forward(graph).output


def _make(
    kind: str,
    dims: str | None,
    seed: int | None,
    rng: list[Generator],
    where: str,
    max_elements: int = MAX_ELEMENTS,
) -> Value:
    shape = tuple(int(d) for d in dims.split(",")) if dims else ()
    _check_shape(shape, where, max_elements)
    if kind == "zeros":
        value = np.zeros(shape)
    elif kind == "ones":
        value = np.ones(shape)
    else:
        if not rng:
            rng.append(np.random.default_rng(seed))
        value = rng[0].standard_normal(shape) if kind == "randn" else rng[0].random(shape)
    return float(value) if value.ndim == 0 else value


def _load_npy(path: Path, where: str, max_elements: int) -> Array:
    """A .npy file, its header checked first (a numeric type, a shape bpcli may hold), then
    mapped copy-on-write rather than read: a big array is not copied, and it is read from
    the page cache as it is used (a 32 MB matrix loads in 2 ms, not 10)."""
    from numpy.lib import format as npy

    with open(path, "rb") as handle:
        if not handle.read(1):
            raise BindingError(f"{where}: not a numeric array (the file is empty)")
        handle.seek(0)
        try:
            version = npy.read_magic(handle)
            read_header = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}.get(version)
            if read_header is None:  # 3.0 is for structured types' Unicode field names
                raise ValueError(
                    f"a .npy file of version {version[0]}.{version[1]}, which holds no plain numbers"
                )
            shape, _, dtype = read_header(handle)
        except (ValueError, TypeError, SyntaxError, EOFError) as err:
            reason = str(err).splitlines()[0] if str(err) else "the file is cut short"
            raise BindingError(f"{where}: not a numeric array ({reason})") from None
    if dtype.hasobject:
        raise BindingError(
            f"{where}: not a numeric array (it holds Python objects (pickles), which bpcli never loads)"
        )
    if dtype.kind not in "biuf":
        raise BindingError(f"{where}: not a numeric array (its type is {dtype})")
    _check_shape(tuple(shape), where, max_elements)
    try:
        return np.load(path, mmap_mode="c", allow_pickle=False)
    except ValueError:  # what cannot be mapped says why when read
        return np.load(path, allow_pickle=False)


def load_file(name: str, path_text: str, max_elements: int = MAX_ELEMENTS) -> Value:
    """Load an array from .npy, .csv, .txt or .json; scalars come back as floats. Only
    regular files are read (a device or a pipe could be endless), a text file of at most
    MAX_TEXT_BYTES, and a .npy whose header shows an array bpcli may hold."""
    import os
    import stat
    from pathlib import Path

    path = Path(path_text)
    where = f"in the binding {name}=@{path_text}"
    suffix = path.suffix.lower()
    if suffix not in FILE_TYPES:
        raise BindingError(f"{where}: bpcli reads {', '.join(FILE_TYPES)} files, not {suffix or 'this'}")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise BindingError(f"{where}: no such file") from None
    except (OSError, ValueError) as err:
        raise BindingError(f"{where}: cannot read it ({getattr(err, 'strerror', None) or err})") from None
    if stat.S_ISDIR(mode):
        raise BindingError(f"{where}: it is a directory")
    if not stat.S_ISREG(mode):
        raise BindingError(
            f"{where}: not a regular file (a device, a pipe or a socket);"
            " bpcli reads bindings from files only"
        )
    try:
        if suffix == ".npy":
            value = _load_npy(path, where, max_elements)
        else:
            with open(path, "rb") as handle:
                data = read_limited(handle, f"{name}=@{path_text}")
            if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark, as Excel writes
                data = data[3:]
            _tiny_numbers(data, where)
            if suffix == ".json":
                value = _json_file(data, where, max_elements)
            else:
                value = _text_file(data.decode("utf-8"), suffix, where)
    except EOFError:
        raise BindingError(f"{where}: not a numeric array (the file is empty)") from None
    except (ValueError, TypeError, OSError, UnicodeDecodeError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        if "pickle" in reason.lower():
            reason = "it holds Python objects (pickles), which bpcli never loads"
        raise BindingError(f"{where}: not a numeric array ({reason})") from None
    if value.dtype.kind not in "biuf":
        raise BindingError(f"{where}: not a numeric array (its type is {value.dtype})")
    # a boolean array stays boolean: a mask is data, as mask=[true, false] is
    value = np.asarray(value, dtype=bool if value.dtype.kind == "b" and value.ndim else float)
    return float(value) if value.ndim == 0 else value


# Where a number may be below the normal float range: an exponent of -300 or less, or 300
# zeros after the point. A plain pattern, quick to scan a file with; only the numbers around
# its matches are read again.
_MAYBE_TINY = LazyPattern(rb"[eE]-0*(?:[3-9]\d\d|[1-9]\d\d\d+)|\.0{300}")
_NUMBER_BYTES = frozenset(b"0123456789.eE+-_")


def _tiny_numbers(data: bytes, where: str) -> None:
    """BindingError for the first number in a text file that a float cannot hold as written
    because it is too small (1e-400 would be read as 0), as for a number in a binding."""
    end = 0
    for match in _MAYBE_TINY.finditer(data):
        if match.start() < end:  # within the number read last
            continue
        start = match.start()
        while start > 0 and data[start - 1] in _NUMBER_BYTES:
            start -= 1
        end = match.end()
        while end < len(data) and data[end] in _NUMBER_BYTES:
            end += 1
        text = data[start:end].decode("ascii")
        try:
            value = float(text)
        except ValueError:
            continue
        tiny = tiny_number_problem(text, value)
        if tiny is not None:
            raise BindingError(f"{where}: {tiny}")


def _text_file(text: str, suffix: str, where: str) -> Array:
    """A .csv or .txt file of numbers: one row a line."""
    import io
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy warns of a file with no data: we say it
        value = np.loadtxt(io.StringIO(text), delimiter="," if suffix == ".csv" else None, dtype=float)
    if value.size == 0:
        raise BindingError(f"{where}: the file holds no numbers")
    return value


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_NOT_NUMBERS = LazyPattern(rb'["{]|\b(?:true|false|null)\b')


def _json_file(data: bytes, where: str, max_elements: int = MAX_ELEMENTS) -> Array:
    """A .json file: a number, or nested arrays of numbers, at most MAX_DIMENSIONS deep.
    Strings, true, false, null and objects are refused, and nothing recurses deeply."""
    import json

    # Peel the innermost bracket pairs away, a level a pass: what is left after
    # MAX_DIMENSIONS passes is nested deeper (or does not match up).
    brackets = data.translate(None, _NOT_BRACKETS)
    for _ in range(MAX_DIMENSIONS):
        peeled = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if peeled == brackets:
            break
        brackets = peeled
    if len(brackets) > 2 * MAX_DIMENSIONS:
        raise BindingError(
            f"{where}: not a numeric array (it is nested more than"
            f" {MAX_DIMENSIONS} levels deep, or its brackets do not match; an"
            f" array may have at most {MAX_DIMENSIONS} dimensions)"
        )
    text = data.decode("utf-8")
    value = json.loads(text, parse_constant=_not_finite)
    if _NOT_NUMBERS.search(data):
        found = _not_a_number(value)
        if found is not None:
            raise BindingError(
                f"{where}: not a numeric array (it holds {found}; a .json"
                " binding holds a number or nested arrays of numbers only)"
            )
    try:
        return checked(np.array(value, dtype=float), where, max_elements)
    except OverflowError:
        raise BindingError(
            f"{where}: not a numeric array (a number in it is too large for a float)"
        ) from None


def array_from_json(value: object, where: str, max_elements: int = MAX_ELEMENTS) -> Value:
    """A JSON value already read (a number or nested lists of numbers) as a float or a float
    array; BindingError, `where` first, for anything else."""
    found = _not_a_number(value)
    if found is not None:
        raise BindingError(f"{where}: not a numeric array (it holds {found})")
    try:
        array = np.array(value, dtype=float)
    except OverflowError:
        raise BindingError(f"{where}: a number in it is too large for a float") from None
    except ValueError as err:
        raise BindingError(
            f"{where}: not a rectangular array of numbers ({str(err).splitlines()[0]})"
        ) from None
    checked(array, where, max_elements)
    return float(array) if array.ndim == 0 else array


def _not_finite(text: str) -> NoReturn:
    raise ValueError(f"{text} is not a finite number")


def _not_a_number(value: object) -> str | None:
    """What the first thing in a JSON value that is neither a number nor a list is, if any
    (without recursion: a list of lists is walked with a stack)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, bool) or item is None:
            return "the value " + ("null" if item is None else str(item).lower())
        elif isinstance(item, str):
            shown = item if len(item) <= 20 else item[:19] + "…"
            return f"the string {shown!r}"
        elif isinstance(item, dict):
            return "an object"
        elif not isinstance(item, (int, float)):
            return f"a {type(item).__name__}"
    return None
