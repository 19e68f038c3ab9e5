"""NAME=VALUE bindings: numbers, array literals, files and random arrays."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from bpcli.errors import BindingError, BpcliError
from bpcli.lazy import all_finite, np

_NAME = re.compile(r"[^\W\d]\w*")
_MAKER = re.compile(r"(randn|rand|zeros|ones)\(\s*(\d+(?:\s*,\s*\d+)*)?\s*\)")
FILE_TYPES = (".npy", ".csv", ".txt", ".json")


def parse_bindings(texts: Iterable[str], seed: int | None = None) -> dict[str, Any]:
    """Turn ["x=-2", "W=@W.npy", …] into {name: value}; values are floats or float arrays."""
    bindings: dict[str, Any] = {}
    rng: list[Any] = []  # created on first use, so that scalar problems never import numpy
    for text in texts:
        name, value = parse_binding(text, seed, rng)
        if name in bindings:
            raise BindingError(f"{name} is bound twice ({text})")
        bindings[name] = value
    return bindings


def parse_binding(text: str, seed: int | None = None, rng: list[Any] | None = None) -> tuple[str, Any]:
    """One NAME=VALUE."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep:
        if _NAME.fullmatch(name):
            raise BindingError(f"the binding {text!r} has no value", hint=f"write {name}=1.5")
        raise BindingError(f"{text!r} is not a binding: bindings are written NAME=VALUE (x=1.5),"
                           " and the program comes first")
    if not _NAME.fullmatch(name):
        raise BindingError(f"in the binding {text!r}: {name!r} is not a name",
                           hint="a name starts with a letter or _ (x, w0, x_1, θ)")
    return name, parse_value(name, raw.strip(), seed, rng if rng is not None else [])


def parse_value(name: str, raw: str, seed: int | None = None, rng: list[Any] | None = None) -> Any:
    """A binding's value: a number, an array literal, @file, or randn/rand/zeros/ones(shape)."""
    try:
        value = float(raw)
    except ValueError:
        pass
    else:
        return _finite(name, raw, value)
    if raw.startswith("@"):
        return _finite(name, raw, load_file(name, raw[1:]))
    maker = _MAKER.fullmatch(raw)
    if maker:
        return _make(maker.group(1), maker.group(2), seed, rng if rng is not None else [])
    if raw.startswith("["):
        return _finite(name, raw, _literal(name, raw))
    raise BindingError(
        f"in the binding {name}={raw}: the value must be a finite number" if raw else
        f"the binding {name}= has no value",
        hint="values are numbers (1.5, -2, 1e-3), arrays ([0.2, 0.4]), files (@W.npy) or"
             " randn(2,3), rand(…), zeros(…), ones(…)")


def _finite(name: str, raw: str, value: Any) -> Any:
    ok = math.isfinite(value) if type(value) is float else all_finite(value)
    if not ok:
        raise BindingError(f"in the binding {name}={raw}: the value must be finite"
                           " (not inf or nan, and within ±1.8e308)")
    return value


def _literal(name: str, raw: str) -> Any:
    try:
        return constant_value(raw)
    except BpcliError as err:
        raise BindingError(f"in the binding {name}={raw}: {err.message}") from None


def constant_value(text: str) -> Any:
    """The value of a program made of numbers only (an array literal, -1/3, 2*pi)."""
    from bpcli.engine import forward
    from bpcli.parse import parse

    graph = parse(text)
    if graph.inputs:
        raise BpcliError("only numbers, pi and e may be used here, not "
                         + ", ".join(graph.inputs))
    forward(graph)
    return graph.output.value


def _make(kind: str, dims: str | None, seed: int | None, rng: list[Any]) -> Any:
    shape = tuple(int(d) for d in dims.split(",")) if dims else ()
    if math.prod(shape) > 50_000_000:
        raise BindingError(f"{kind}{shape} is too large (more than 50 million elements)")
    if kind == "zeros":
        value = np.zeros(shape)
    elif kind == "ones":
        value = np.ones(shape)
    else:
        if not rng:
            rng.append(np.random.default_rng(seed))
        value = rng[0].standard_normal(shape) if kind == "randn" else rng[0].random(shape)
    return float(value) if value.ndim == 0 else value


def _load_npy(path: Any) -> Any:
    """A .npy file mapped copy-on-write rather than read: a big array is not copied, and it
    is read from the page cache as it is used (a 32 MB matrix loads in 2 ms, not 10). A pipe
    or a device is read once, as it comes."""
    if path.is_file():
        try:
            return np.load(path, mmap_mode="c", allow_pickle=False)
        except ValueError:  # what cannot be mapped (Python objects, no data) says why when read
            pass
    return np.load(path, allow_pickle=False)


def load_file(name: str, path_text: str) -> Any:
    """Load an array from .npy, .csv, .txt or .json; scalars come back as floats."""
    from pathlib import Path

    path = Path(path_text)
    where = f"in the binding {name}=@{path_text}"
    suffix = path.suffix.lower()
    if suffix not in FILE_TYPES:
        raise BindingError(f"{where}: bpcli reads {', '.join(FILE_TYPES)} files, not {suffix or 'this'}")
    if not path.exists():
        raise BindingError(f"{where}: no such file")
    if path.is_dir():
        raise BindingError(f"{where}: it is a directory")
    try:
        if suffix == ".npy":
            value = _load_npy(path)
        elif suffix == ".json":
            import json

            value = np.array(json.loads(path.read_text(encoding="utf-8")), dtype=float)
        else:
            value = np.loadtxt(path, delimiter="," if suffix == ".csv" else None, dtype=float)
    except EOFError:
        raise BindingError(f"{where}: not a numeric array (the file is empty)") from None
    except (ValueError, TypeError, OSError, UnicodeDecodeError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        if "pickle" in reason.lower():
            reason = "it holds Python objects (pickles), which bpcli never loads"
        raise BindingError(f"{where}: not a numeric array ({reason})") from None
    if value.dtype.kind not in "biuf":
        raise BindingError(f"{where}: not a numeric array (its type is {value.dtype})")
    value = np.asarray(value, dtype=float)
    return float(value) if value.ndim == 0 else value
