"""Linear algebra: matmul (@), dot, transpose, and the array literal (stack).

matmul and dot take arrays only (they have no scalar form), with numpy's rules for every
rank (a stack of matrices broadcasts); each VJP is one or two array operations, never a
Jacobian.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpcli.core.ops.registry import (
    P_ATOM,
    P_MUL,
    ShapeMismatch,
    Split,
    broadcast_shape,
    defop,
    shape_of,
    unbroadcast,
)
from bpcli.lazy import np

if TYPE_CHECKING:
    from collections.abc import Callable

    from bpcli.core.ops.registry import Shape
    from bpcli.values import Array, Value


def _matmul_shape(shapes: list[Shape]) -> Shape:
    """numpy's matmul rule for every rank: 1-D operands are promoted (and the added axis
    removed), the last two axes multiply, the axes before them broadcast."""
    x, y = shapes
    if not x or not y:
        raise ShapeMismatch("@ needs an array on both sides (use * to multiply by a scalar)")
    inner_x = x[-1]
    inner_y = y[0] if len(y) == 1 else y[-2]
    if inner_x != inner_y:
        side = "first" if len(y) == 1 else "second-to-last"
        raise ShapeMismatch(
            f"inner sizes differ: {inner_x} (last axis of the left) and {inner_y} ({side} axis of the right)"
        )
    batch = broadcast_shape([x[:-2], y[:-2]]) if len(x) > 2 or len(y) > 2 else ()
    rows = x[-2:-1] if len(x) > 1 else ()
    cols = y[-1:] if len(y) > 1 else ()
    return (*batch, *rows, *cols)


def _matmul(x: Array, y: Array) -> Array:
    _matmul_shape([shape_of(x), shape_of(y)])
    result: Array = np.matmul(x, y)
    return result


def _promoted(x: Array, y: Array, g: Array) -> tuple[Array, Array, Array]:
    """x, y and g as matmul sees them: a 1-D x is a row (1, n), a 1-D y a column (n, 1)."""
    xs = x[None, :] if x.ndim == 1 else x
    ys = y[:, None] if y.ndim == 1 else y
    gs = np.asarray(g)
    if x.ndim == 1:
        gs = np.expand_dims(gs, -2 if y.ndim > 1 else -1)
    if y.ndim == 1:
        gs = np.expand_dims(gs, -1)
    return xs, ys, gs


def _matmul_vjp_left(g: Array, ans: Array, x: Array, y: Array) -> Array:
    if x.ndim <= 2 and y.ndim <= 2:  # the lecture's cases, in their textbook form
        if y.ndim == 1:
            outer: Array = g * y if x.ndim == 1 else np.outer(g, y)
            return outer
        return y @ g if x.ndim == 1 else g @ y.T
    xs, ys, gs = _promoted(x, y, g)
    result = unbroadcast(np.matmul(gs, np.swapaxes(ys, -1, -2)), xs)
    return np.reshape(result, x.shape)


def _matmul_vjp_right(g: Array, ans: Array, x: Array, y: Array) -> Array:
    if x.ndim <= 2 and y.ndim <= 2:
        if x.ndim == 1:
            outer: Array = g * x if y.ndim == 1 else np.outer(x, g)
            return outer
        return x.T @ g
    xs, ys, gs = _promoted(x, y, g)
    result = unbroadcast(np.matmul(np.swapaxes(xs, -1, -2), gs), ys)
    return np.reshape(result, y.shape)


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
    shape=_dot_shape,  # (a program's dot(a, b) is numpy's: bpcli.language.calls picks dot or @)
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
    gate="rearranger",
    view=True,
    integer=True,
    logical=True,
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
