"""JSON objects as binding values: parameters as students pass them.

cs231n passes a layer's settings as a dict (`conv_param = {"stride": 2, "pad": 1}`), so a
binding may be a JSON object: `conv_param='{"stride": 2, "pad": 1}'` on the command line,
or `{"conv_param": {"stride": 2}}` in a batch record's bindings. It becomes a Python dict
with str keys, whose values are ints (kept as ints: a stride is an integer), floats, strings,
booleans, None, float64 arrays (from lists of numbers) and dicts of the same. Nothing here
recurses: nested objects are walked with an explicit stack, at most MAX_DEPTH deep.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, NoReturn

from bpcli.errors import BindingError
from bpcli.lazy import LazyPattern, all_finite, np
from bpcli.limits import MAX_DIMENSIONS, MAX_ELEMENTS
from bpcli.values import Params

MAX_DEPTH = 8  # objects within objects
_STRING = LazyPattern(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = LazyPattern(r"[^\[\]{}]+")


def parse_object(text: str, where: str, max_elements: int = MAX_ELEMENTS) -> Params:
    """A JSON object's text as a dict of parameters; BindingError, `where` first, for text
    that is not a JSON object or holds what a parameter cannot be."""
    _check_nesting(text, where)
    try:
        value = json.loads(text, parse_constant=_not_finite)
    except json.JSONDecodeError as err:
        raise BindingError(
            f"{where}: not a JSON object ({err.msg})",
            source=text,
            pos=err.pos,
            hint='a JSON object is written {"stride": 2, "pad": 1}: keys in double quotes',
        ) from None
    except ValueError as err:  # NaN, Infinity
        raise BindingError(f"{where}: {err}") from None
    except RecursionError:  # ([[[… never closed: json recurses, and stops)
        raise BindingError(f"{where}: the object is nested too deeply") from None
    if not isinstance(value, dict):
        raise BindingError(f"{where}: not a JSON object")
    return params(value, where, max_elements)


def _check_nesting(text: str, where: str) -> None:
    """Refuse text nested deeper than objects and arrays may be, before json reads it (which
    recurses): the brackets outside strings, peeled a matching pair a level at a time."""
    brackets = _NOT_BRACKETS.sub("", _STRING.sub("", text))
    limit = MAX_DEPTH + MAX_DIMENSIONS
    for _ in range(limit):
        peeled = brackets.replace("[]", "").replace("{}", "")
        if peeled == brackets:
            return  # (what is left does not match up: json says where)
        brackets = peeled
    if brackets:
        raise BindingError(f"{where}: the object is nested more than {limit} brackets deep")


def _not_finite(text: str) -> NoReturn:
    raise ValueError(f"{text} is not a finite number")


def params(value: Mapping[str, object], where: str, max_elements: int = MAX_ELEMENTS) -> Params:
    """A dict of parameters from a JSON object already read (or a dict given to parse):
    the same keys, each value converted as the module says; BindingError, `where` first,
    for a value that cannot be a parameter."""
    top: Params = {}
    stack: list[tuple[Mapping[Any, object], Params, str, int]] = [(value, top, "", 1)]
    while stack:
        source, target, path, depth = stack.pop()
        for key, item in source.items():
            at = f"{path}[{key!r}]"
            if not isinstance(key, str):
                raise BindingError(f"{where}: a key must be a string, not {key!r}")
            if isinstance(item, Mapping):
                if depth >= MAX_DEPTH:
                    raise BindingError(f"{where}: the object is nested more than {MAX_DEPTH} objects deep")
                inner: Params = {}
                target[key] = inner
                stack.append((item, inner, at, depth + 1))
            else:
                target[key] = _leaf(item, f"{where}, at {at}", max_elements)
    return top


def _leaf(item: object, where: str, max_elements: int) -> object:
    """One value of an object: what a JSON leaf (or a Python one) becomes."""
    if item is None or isinstance(item, bool | str):
        return item
    if isinstance(item, np.bool_):
        return bool(item)
    if isinstance(item, int | np.integer):
        return int(item)
    if isinstance(item, float | np.floating):
        number = float(item)
        if not math.isfinite(number):
            raise BindingError(f"{where}: the value must be finite (not inf or nan)")
        return number
    if isinstance(item, list):
        from bpcli.language.bindings import array_from_json

        array = array_from_json(item, where, max_elements)
    elif isinstance(item, tuple | np.ndarray):
        from bpcli.language.bindings import checked

        try:
            given = np.asarray(item)
        except ValueError as err:
            raise BindingError(f"{where}: not a rectangular array of numbers ({err})") from None
        if given.dtype.kind not in "biuf":
            raise BindingError(f"{where}: not a numeric array (its type is {given.dtype})")
        array = checked(given.astype(float), where, max_elements)
        array = float(array) if array.ndim == 0 else array
    else:
        raise BindingError(f"{where}: a {type(item).__name__} cannot be a parameter")
    if not (math.isfinite(array) if isinstance(array, float) else all_finite(array)):
        raise BindingError(f"{where}: the value must be finite (not inf or nan)")
    return array
