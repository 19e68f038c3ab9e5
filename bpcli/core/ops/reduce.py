"""Reductions: sum, mean, norm, the largest and smallest element, and logsumexp.

Whole-array reductions return Python floats; logsumexp reduces the last axis. None of these
builds a Jacobian: each VJP is a few array operations on arrays the size of the input. On a
float each is the float itself (or |x|), so a scalar problem never imports numpy.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from bpcli.core.ops.registry import Split, any_true, defop, identity, reduced_shape, shape_of
from bpcli.lazy import np

if TYPE_CHECKING:
    from collections.abc import Callable

    from bpcli.core.graph import Node
    from bpcli.core.ops.registry import Maker
    from bpcli.values import Array, Value


def _reduced(x: Array, reduce: Callable[[Array], float]) -> float:
    """reduce(x) (np.sum or np.mean), computed again scaled where a partial sum overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        result = float(reduce(x))
    if result - result == 0.0:
        return result
    return _scaled(x, reduce)


def _scaled(x: Array, reduce: Callable[[Array], float]) -> float:
    """sum or mean of numbers whose partial sums overflow though the result may fit
    (sum([1e308, 1e308, -1e308])): on the numbers scaled by a power of two at least their
    count, exactly; OverflowError when the result does not fit either."""
    k = max(1, int(x.size - 1).bit_length())
    with np.errstate(under="ignore"):
        return math.ldexp(float(reduce(np.ldexp(x, -k))), k)


def _spread(g: Value, x: Value, n: int) -> Value:
    """g/n for every element of x: the VJP of a sum (n = 1) or a mean (n = x.size)."""
    return g if type(x) is float else np.full(shape_of(x), g / n)


defop(
    "sum",
    arity=1,
    forward=Split(identity, lambda x: _reduced(x, np.sum)),
    vjp=(lambda g, ans, x: _spread(g, x, 1),),
    local=("1 for every element",),
    gate="copier",
    shape=reduced_shape,
    callable_as=("sum",),
)
defop(
    "mean",
    arity=1,
    forward=Split(identity, lambda x: _reduced(x, np.mean)),
    vjp=(lambda g, ans, x: _spread(g, x, 1 if type(x) is float else x.size),),
    local=("1/n for every element",),
    gate="averager",
    shape=reduced_shape,
    callable_as=("mean",),
)

# Squares of numbers between these neither overflow nor underflow (nor do their sums, for
# any array bpcli holds), so the norm is computed directly; otherwise every element is
# first scaled by a power of two, exactly, as math.hypot and LAPACK's nrm2 do.
_SQUARE_SAFE = (2.0**-480, 2.0**480)


def _norm(x: Array) -> float:
    flat = np.ravel(x)
    if flat.size == 0:
        return 0.0
    top = float(np.max(np.abs(flat)))
    if top == 0.0 or _SQUARE_SAFE[0] < top < _SQUARE_SAFE[1]:
        return float(np.linalg.norm(flat))
    exponent = math.frexp(top)[1]  # top = m · 2^exponent, 0.5 <= m < 1
    scaled = np.ldexp(flat, -exponent)
    return math.ldexp(float(np.sqrt(np.dot(scaled, scaled))), exponent)  # OverflowError if so


def _norm_vjp(g: Value, ans: float, x: Value) -> Value:
    if ans == 0:
        return 0.0 if type(x) is float else np.zeros_like(x)  # PyTorch's subgradient at 0
    return (x / ans) * g  # |x/ans| <= 1: only a gradient that is itself too large overflows


def _norm_expanded(make: Maker, x: Node) -> Node:
    # s·sqrt(sum((x/s)^2)) with s = max(|x|): no square underflows to 0 or overflows
    s = make.smooth("amax", make.smooth("abs", x))
    return make("mul", s, make("sqrt", make("sum", make("pow", make("div", x, s), make.const(2.0)))))


defop(
    "norm",
    arity=1,
    forward=Split(abs, _norm),
    vjp=(_norm_vjp,),
    local=("{x:a}/norm({x})",),
    symbol="‖·‖",
    kink=lambda x: not any_true(np.asarray(x) != 0),
    convention="convention.norm",
    shape=reduced_shape,
    callable_as=("norm",),
    expansion=_norm_expanded,
)

# --- the largest and smallest element: routers ------------------------------------------------


def _extreme_vjp(g: Value, ans: float, x: Value) -> Value:
    if type(x) is float:
        return g
    mask = np.equal(x, ans)  # ties share the gradient evenly, as in PyTorch's amax
    result: Value = g * mask / mask.sum()
    return result


defop(
    "amax",
    arity=1,
    forward=Split(identity, lambda x: float(np.max(x))),
    vjp=(_extreme_vjp,),
    local=("1 at the largest element, else 0",),
    template="max({0})",
    symbol="max",
    gate="router",
    kink=lambda x: type(x) is not float and int((x == x.max()).sum()) > 1,
    convention="convention.amax",
    routes="largest",
    shape=reduced_shape,
    reduces_for=("max",),
)
defop(
    "amin",
    arity=1,
    forward=Split(identity, lambda x: float(np.min(x))),
    vjp=(_extreme_vjp,),
    local=("1 at the smallest element, else 0",),
    template="min({0})",
    symbol="min",
    gate="router",
    kink=lambda x: type(x) is not float and int((x == x.min()).sum()) > 1,
    convention="convention.amin",
    routes="smallest",
    shape=reduced_shape,
    reduces_for=("min",),
)

# --- logsumexp along the last axis ------------------------------------------------------------


def as_array(x: Value) -> Array:
    result: Array = np.asarray(x, dtype=float)
    return result


def shifted(x: Array) -> Array:
    """x minus its largest element along the last axis. A difference past the float range
    becomes -inf, exactly what it is worth after exp: 0 (softmax([1e308, -1e308]) = [1, 0])."""
    with np.errstate(over="ignore"):
        result: Array = x - x.max(axis=-1, keepdims=True)
    return result


def softmax(x: Value) -> Array:
    """softmax along the last axis: the forward of nn's softmax, and logsumexp's gradient."""
    z = np.exp(shifted(as_array(x)))
    result: Array = z / z.sum(axis=-1, keepdims=True)
    return result


def logsumexp(x: Value) -> Array:
    x = as_array(x)
    top = x.max(axis=-1, keepdims=True)
    result: Array = (top + np.log(np.exp(shifted(x)).sum(axis=-1, keepdims=True)))[..., 0]
    return result


def max_shifted(make: Maker, x: Node) -> Node:
    """x minus its largest element along the last axis, in a circuit: the shift that keeps
    --expand's softmax and logsumexp stable (a smooth router: its kink does not reach f)."""
    return make("sub", x, make.family("max", x, axis=-1, keepdims=True, smooth=True))


defop(
    "logsumexp",
    arity=1,
    forward=Split(identity, logsumexp),
    vjp=(Split(lambda g, ans, x: g, lambda g, ans, x: softmax(x) * np.expand_dims(np.asarray(g), -1)),),
    local=("softmax({x})",),
    shape=lambda shapes: shapes[0][:-1],
    callable_as=("logsumexp",),
    expansion=lambda make, x: make(
        "add",
        make.family("max", x, axis=-1, smooth=True),
        make("log", make.family("sum", make("exp", max_shifted(make, x)), axis=-1)),
    ),
)
