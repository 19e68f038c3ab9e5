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


def describe(value: object) -> str:
    """What a static value is, for a message: "the tuple (4, 3)", "the function np.sum"."""
    if isinstance(value, Function | Method):
        name = value.name if isinstance(value, Method) else repr(value)
        return f"the function {name}"
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
        first = [f"{v:g}" for _, v in zip(range(4), flat, strict=False)]
        return f"an array of shape {tuple(shape)} ({', '.join(first[:3])}{', …' if len(first) > 3 else ''})"
    return repr(value)
