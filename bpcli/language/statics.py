"""What a program computes when it is read, not on the graph: shapes, axes, indices, tuples.

numpy code mixes arrays, which bpcli differentiates, with Python values that say how: a
shape (`x.shape`, `(N, -1)`), an axis, a slice, a label array used as an index, a string
argument, a function. The builder keeps those as plain Python values (int, float, bool,
None, Ellipsis, str, slice, tuple, an integer numpy array) or as one of the small records
here, and an expression's value is either a graph node or such a static value.
"""

from __future__ import annotations

from typing import Any

# What an expression is (a graph node, or a static value such as these), and the span of
# this occurrence of it in the source: an expression callback's result.
Use = tuple[Any, int, int]


class Display:
    """`[a, b]` or `(a, b)` as written: its items, not yet an array (concatenate takes the
    list; a shape is the tuple; in arithmetic it is an array)."""

    __slots__ = ("depth", "items", "kind")

    def __init__(self, items: list[Use], kind: str) -> None:
        self.items = items
        self.kind = kind  # "list" or "tuple"
        # how deeply displays nest in it (bounded by the builder, so that reading one, which
        # recurses, stays shallow)
        inner = [i[0].depth for i in items if isinstance(i[0], Display)]
        self.depth: int = 1 + max(inner, default=0)


class Keyword:
    """`axis=1` in a call."""

    __slots__ = ("name", "use")

    def __init__(self, name: str, use: Use) -> None:
        self.name = name
        self.use = use


class Namespace:
    """`np`, `np.linalg`: a module whose attributes are functions and constants."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


class Function:
    """A function as a value, before it is called: `np.sum`, `max`. `qualified`: written with
    `np.` (np.max(x, 1) takes an axis; a bare max(a, b) is the two-input gate)."""

    __slots__ = ("name", "qualified")

    def __init__(self, name: str, qualified: bool) -> None:
        self.name = name
        self.qualified = qualified

    def __repr__(self) -> str:
        return ("np." if self.qualified else "") + self.name


class Method:
    """`x.sum`, before it is called: the array and the method's name."""

    __slots__ = ("name", "owner")

    def __init__(self, owner: Use, name: str) -> None:
        self.owner = owner
        self.name = name


class Starred:
    """`*x.shape` in a call: its items are the call's arguments."""

    __slots__ = ("use",)

    def __init__(self, use: Use) -> None:
        self.use = use


class UserFunction:
    """A function the program defines (def): its parameters, with their defaults (a value, or
    a marker for none), and its body."""

    __slots__ = ("body", "name", "params")

    def __init__(self, name: str, params: list[tuple[str, Any]], body: list[Any]) -> None:
        self.name = name
        self.params = params
        self.body = body


class UserClass:
    """A class the program defines: its namespace (methods and class attributes)."""

    __slots__ = ("name", "namespace")

    def __init__(self, name: str, namespace: dict[str, Any]) -> None:
        self.name = name
        self.namespace = namespace


class Instance:
    """An object of a program's class: its attributes (self.params, self.reg)."""

    __slots__ = ("attributes", "cls")

    def __init__(self, cls: UserClass) -> None:
        self.cls = cls
        self.attributes: dict[str, Any] = {}


class BoundMethod:
    """`model.loss`, before it is called: the object and the function."""

    __slots__ = ("function", "owner")

    def __init__(self, owner: Instance, function: UserFunction) -> None:
        self.owner = owner
        self.function = function


class PyMethod:
    """A method of a Python value (d.get, caches.append, '…'.format), before it is called."""

    __slots__ = ("name", "owner")

    def __init__(self, owner: Any, name: str) -> None:
        self.owner = owner
        self.name = name


# Python's exceptions, which `raise` takes, and the functions the interpreter runs on Python
# values (the numpy ones are bpcli.language.calls').
EXCEPTIONS = frozenset(
    {
        "ValueError",
        "TypeError",
        "NotImplementedError",
        "AssertionError",
        "Exception",
        "KeyError",
        "IndexError",
        "RuntimeError",
    }
)
BUILTINS = frozenset(
    {"range", "enumerate", "zip", "print", "str", "list", "tuple", "dict", "reversed", "isinstance", "object"}
    | EXCEPTIONS
)


def is_python_value(item: Any) -> bool:
    """A value no array can hold (a dict, a string, an object, None): a list of these stays a
    Python list."""
    return isinstance(item, dict | str | Display | Instance | UserFunction | UserClass) or item is None


def describe(value: object) -> str:
    """What a static value is, for a message: "the tuple (4, 3)", "the function np.sum"."""
    if isinstance(value, Function | Method | PyMethod | UserFunction):
        name = value.name if not isinstance(value, Function) else repr(value)
        return f"the function {name}"
    if isinstance(value, BoundMethod):
        return f"the method {value.function.name}"
    if isinstance(value, UserClass):
        return f"the class {value.name}"
    if isinstance(value, Instance):
        return f"a {value.cls.name} object"
    if isinstance(value, dict):
        keys = ", ".join(repr(k) for k in list(value)[:4])
        return f"the dict {{{keys}{', …' if len(value) > 4 else ''}}}" if value else "an empty dict"
    if isinstance(value, range):
        return f"the {value!r}"
    if isinstance(value, Display):
        return f"a {value.kind} of {len(value.items)} items"
    if isinstance(value, Namespace):
        return f"the module {value.name}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, slice):
        return "a slice"
    if value is None:
        return "None"
    if value is Ellipsis:
        return "..."
    if isinstance(value, tuple):
        return f"the tuple {value!r}"
    array: Any = value
    shape = getattr(array, "shape", None)
    if shape:  # an array: its shape and first elements, not numpy's long repr
        flat = array.flat
        first = [_element(v) for _, v in zip(range(4), flat, strict=False)]
        noun = {"U": "strings", "S": "bytes", "O": "objects"}.get(getattr(array.dtype, "kind", ""))
        of = f"of {noun} " if noun else ""
        listed = f"{', '.join(first[:3])}{', …' if len(first) > 3 else ''}"
        return f"an array {of}of shape {tuple(shape)} ({listed})"
    return repr(value)


def _element(v: Any) -> str:
    """One element of an array, for a message: a number as %g, anything else (a string, an
    object) as text."""
    try:
        return f"{v:g}"
    except (TypeError, ValueError):
        return repr(str(v)) if isinstance(v, str) else str(v)
