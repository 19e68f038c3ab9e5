"""Linear algebra: matmul (@), dot, transpose, and the array literal (stack).

matmul and dot take arrays only (they have no scalar form), with numpy's rules for 1-D and
2-D arrays; each VJP is one or two array operations, never a Jacobian.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpcli.core.ops.registry import P_ATOM, P_MUL, ShapeMismatch, Split, defop, shape_of
from bpcli.lazy import np

if TYPE_CHECKING:
    from collections.abc import Callable

    from bpcli.core.ops.registry import Shape
    from bpcli.values import Array, Value


def _matmul_shape(shapes: list[Shape]) -> Shape:
    x, y = shapes
    if not x or not y:
        raise ShapeMismatch("@ needs an array on both sides (use * to multiply by a scalar)")
    if len(x) > 2 or len(y) > 2:
        raise ShapeMismatch("@ supports 1-D and 2-D arrays only")
    if x[-1] != y[0]:
        raise ShapeMismatch(
            f"inner sizes differ: {x[-1]} (last axis of the left) and {y[0]} (first axis of the right)"
        )
    return x[:-1] + y[1:]


def _matmul(x: Array, y: Array) -> Array:
    _matmul_shape([shape_of(x), shape_of(y)])
    result: Array = x @ y
    return result


def _matmul_vjp_left(g: Array, ans: Array, x: Array, y: Array) -> Array:
    if y.ndim == 1:
        outer: Array = g * y if x.ndim == 1 else np.outer(g, y)
        return outer
    return y @ g if x.ndim == 1 else g @ y.T


def _matmul_vjp_right(g: Array, ans: Array, x: Array, y: Array) -> Array:
    if x.ndim == 1:
        outer: Array = g * x if y.ndim == 1 else np.outer(x, g)
        return outer
    return x.T @ g


defop(
    "matmul",
    arity=2,
    forward=Split(None, _matmul),
    vjp=(_matmul_vjp_left, _matmul_vjp_right),
    local=("g @ {y:a}ᵀ", "{x:a}ᵀ @ g"),
    infix=" @ ",
    prec=P_MUL,
    shape=_matmul_shape,
)


def _dot_shape(shapes: list[Shape]) -> Shape:
    x, y = shapes
    if len(x) != 1 or len(y) != 1:
        raise ShapeMismatch("dot takes two vectors (use @ for matrices)")
    if x != y:
        raise ShapeMismatch("the two vectors differ in length")
    return ()


def _dot(x: Array, y: Array) -> float:
    _dot_shape([shape_of(x), shape_of(y)])
    return float(x @ y)


defop(
    "dot",
    arity=2,
    forward=Split(None, _dot),
    vjp=(lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x),
    local=("{y}", "{x}"),
    shape=_dot_shape,
    callable_as=("dot",),
    expansion=lambda make, x, y: make("sum", make("mul", x, y)),
)


def _transpose(x: Value) -> Value:
    return x if type(x) is float else np.transpose(x)


defop(
    "transpose",
    arity=1,
    forward=_transpose,
    vjp=(lambda g, ans, x: _transpose(g),),
    local=("g transposed",),
    template="{0}.T",
    symbol="ᵀ",
    shape=lambda shapes: shapes[0][::-1],
    callable_as=("transpose",),
    integer=True,
    view=True,
)

# --- the array literal ------------------------------------------------------------------------


def _stack_shape(shapes: list[Shape]) -> Shape:
    distinct = set(shapes)
    if len(distinct) > 1:
        raise ShapeMismatch(
            "ragged array literal: its elements have shapes " + ", ".join(sorted(str(s) for s in distinct))
        )
    return (len(shapes), *shapes[0])


def _stack(*xs: Value) -> Array:
    _stack_shape([shape_of(x) for x in xs])
    result: Array = np.stack([np.asarray(x, dtype=float) for x in xs])
    return result


class _EachElement:
    """The VJPs of an array literal: input i receives row i of the upstream gradient. (An op
    of any number of inputs gets them as one list: (g, ans, inputs).)"""

    def __getitem__(self, i: int) -> Callable[[Array, Array, list[Value]], Value]:
        return lambda g, ans, xs: g[i] if type(xs[i]) is not float else float(g[i])


defop(
    "stack",
    arity=-1,
    forward=Split(None, _stack),
    vjp=_EachElement(),
    local=(),
    template="[]",
    prec=P_ATOM,
    symbol="[ ]",
    shape=_stack_shape,
)
