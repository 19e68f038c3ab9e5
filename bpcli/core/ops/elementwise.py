"""Elementwise ops: arithmetic, pow, the functions of one number, relu, abs, and the max and
min of two.

sigmoid, logsigmoid and relu are here rather than with softmax in `nn`: each is a function
of one number, applied element by element, with a float form like exp's, and sigmoid shares
its stable pieces with logsigmoid. `nn` holds the ops that mix the elements of a row.

Non-differentiable points follow PyTorch: relu'(0) = 0, abs'(0) = 0, and at a max/min tie
each input gets half the gradient.
"""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING

from bpcli.core.ops.registry import (
    OPS,
    P_ADD,
    P_MUL,
    P_NEG,
    P_POW,
    Split,
    any_true,
    defop,
    identity,
    numpy_function,
)
from bpcli.lazy import all_finite, np

if TYPE_CHECKING:
    from collections.abc import Callable

    from bpcli.core.graph import Node
    from bpcli.core.ops.registry import Maker
    from bpcli.values import Array, Value


# --- arithmetic -----------------------------------------------------------------------------

defop(
    "add",
    arity=2,
    forward=operator.add,
    vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: g),
    local=("1", "1"),
    infix=" + ",
    prec=P_ADD,
    commutes=True,
    gate="distributor",
    broadcast=True,
    elementwise=True,
    integer=True,
    logical=True,
)
defop(
    "sub",
    arity=2,
    forward=operator.sub,
    vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: -g),
    local=("1", "-1"),
    infix=" - ",
    prec=P_ADD,
    gate="distributor",
    broadcast=True,
    elementwise=True,
    integer=True,
)
defop(
    "mul",
    arity=2,
    forward=operator.mul,
    vjp=(lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x),
    local=("{y}", "{x}"),
    infix="*",
    prec=P_MUL,
    commutes=True,
    gate="swapper",
    broadcast=True,
    elementwise=True,
    integer=True,
    logical=True,
)


def _checked_div(x: Value, y: Value) -> Array:
    if any_true(np.asarray(y) == 0):
        raise ZeroDivisionError("division by zero")
    result: Array = np.divide(x, y)
    return result


def _div_vjp_y(g: float, ans: float, x: float, y: float) -> float:
    # -g·ans/y. Where g·ans is a normal float, two roundings as written; else on mantissas
    # and exponents apart: g·ans may underflow to a subnormal (losing digits) or overflow
    # where the result fits; OverflowError if the result does not fit
    product = g * ans
    if 2.2250738585072014e-308 <= abs(product) <= 1.7976931348623157e308:
        return -(product / y)
    mg, eg = math.frexp(g)
    ma, ea = math.frexp(ans)
    my, ey = math.frexp(y)
    return -math.ldexp(mg * ma / my, eg + ea - ey)


def _div_vjp_y_array(g: Value, ans: Value, x: Value, y: Value) -> Array:
    mg, eg = np.frexp(g)
    ma, ea = np.frexp(ans)
    my, ey = np.frexp(y)
    with np.errstate(under="ignore"):
        result: Array = -np.ldexp(mg * ma / my, eg + ea - ey)
    return result


defop(
    "div",
    arity=2,
    forward=Split(operator.truediv, _checked_div),
    vjp=(lambda g, ans, x, y: g / y, Split(_div_vjp_y, _div_vjp_y_array)),
    local=("1/{y:a}", "-{x:a}/{y:a}^2"),
    infix="/",
    prec=P_MUL,
    broadcast=True,
    elementwise=True,
)
defop(
    "neg",
    arity=1,
    forward=operator.neg,
    vjp=(lambda g, ans, x: -g,),
    local=("-1",),
    template="-{0}",
    prec=P_NEG,
    symbol="*-1",
    elementwise=True,
    integer=True,
)
# `b = a`: a node of its own, so that b has its own row and gradient
defop(
    "id",
    arity=1,
    forward=identity,
    vjp=(lambda g, ans, x: g,),
    local=("1",),
    template="{0}",
    prec=0,
    symbol="=",
    elementwise=True,
    integer=True,
    logical=True,
)

# --- pow ------------------------------------------------------------------------------------


def _pow(x: float, y: float) -> float:
    if x < 0 and y != int(y):
        raise ValueError("a negative base to a non-integer power")
    result: float = x**y  # 0 ** -1 raises ZeroDivisionError, 10 ** 1000 OverflowError
    return result


def _pow_array(x: Value, y: Value) -> Array:
    if any_true((np.asarray(x) < 0) & (np.asarray(y) != np.round(y))):
        raise ValueError("a negative base to a non-integer power")
    if any_true((np.asarray(x) == 0) & (np.asarray(y) < 0)):
        raise ZeroDivisionError("zero to a negative power")
    result: Array = np.power(x, y)
    return result


# d(x^y)/dy = x^y ln x. At x = 0 (or -0) it is the one-sided limit from x > 0: 0 for y > 0,
# but ln x -> -inf for y = 0 (x^0 ln x), so there it is infinite: ZeroDivisionError, which
# the engine reports as a gradient that cannot be computed, naming the node. For x < 0, x^y
# is defined at integer y only, so its derivative in y is not.
_EXPONENT_AT_ZERO = "the derivative of x^y with respect to y is infinite at x = 0, y = 0"
_EXPONENT_OF_NEGATIVE = (
    "the derivative of x^y with respect to y needs x > 0"
    " (write the exponent as a number to treat it as a constant)"
)


def _pow_vjp_exponent(g: float, ans: float, x: float, y: float) -> float:
    if x == 0:
        if y <= 0:
            raise ZeroDivisionError(_EXPONENT_AT_ZERO)
        return 0.0
    if x < 0:
        raise ValueError(_EXPONENT_OF_NEGATIVE)
    return g * ans * math.log(x)


def _pow_vjp_exponent_array(g: Value, ans: Value, x: Value, y: Value) -> Array:
    x = np.asarray(x)
    if any_true(x < 0):
        raise ValueError(_EXPONENT_OF_NEGATIVE)
    zero = x == 0
    if any_true(zero & (np.asarray(y) <= 0)):
        raise ZeroDivisionError(_EXPONENT_AT_ZERO)
    result: Array = g * ans * np.log(np.where(zero, 1.0, x))
    return result


# d(x^y)/dx = y·x^(y-1), written g·y·ans/x on mantissas and exponents apart: x^(y-1) itself
# may overflow or underflow where the downstream gradient fits (g = 1e-300 at x = 1e-200,
# y = -1). Where ans has underflowed (x = 1e-200, y = 3), from x's mantissa and exponent.
# x^0 is the constant 1, even at x = 0; 0^(y-1) is 0, 1, or infinite (ZeroDivisionError).
_TINY = 2.2250738585072014e-308


def _pow_vjp_base(g: float, ans: float, x: float, y: float) -> float:
    if y == 0:
        return 0.0
    if x == 0:
        result: float = g * y * x ** (y - 1)
        return result
    if g == 0:
        return 0.0
    mg, eg = math.frexp(g)
    my, ey = math.frexp(y)
    if abs(ans) >= _TINY:
        ma, ea = math.frexp(ans)
        mx, ex = math.frexp(x)
        return math.ldexp(mg * my * ma / mx, eg + ey + ea - ex)
    # x = mx·2^ex, so x^(y-1) = mx^(y-1) · 2^(ex·(y-1)), exact in the exponent for integer y
    mx, ex = math.frexp(x)
    scale = ex * (y - 1)
    whole = math.floor(scale)
    try:
        part = mx ** (y - 1) * 2.0 ** (scale - whole)
    except OverflowError:
        part = 0.0
    if part == 0:  # |y - 1| past about 1000: from log2|x| (right to about 1e-13)
        scale = (y - 1) * math.log2(abs(x))
        whole = math.floor(scale)
        sign = -1.0 if x < 0 and (y - 1) % 2 == 1 else 1.0
        part = sign * 2.0 ** (scale - whole)
    return math.ldexp(mg * my * part, eg + ey + whole)


def _pow_vjp_base_array(g: Value, ans: Value, x: Value, y: Value) -> Array:
    g, ans, x, y = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (g, ans, x, y)))
    constant = y == 0
    zero = (x == 0) & ~constant
    if any_true(zero & (y < 1)):
        raise ZeroDivisionError("zero to a negative power")
    with np.errstate(all="ignore"):
        mg, eg = np.frexp(g)
        my, ey = np.frexp(y)
        ma, ea = np.frexp(ans)
        mx, ex = np.frexp(np.where(x == 0, 1.0, x))
        by_ans = np.ldexp(mg * my * ma / mx, eg + ey + ea - ex)
        scale = ex * (y - 1)
        whole = np.floor(scale)
        part = np.power(mx, y - 1) * np.exp2(scale - whole)
        lost = (part == 0) | ~np.isfinite(part)  # |y - 1| past about 1000: from log2|x|
        logs = (y - 1) * np.log2(np.where(x == 0, 1.0, np.abs(x)))
        whole = np.where(lost, np.floor(logs), whole)
        sign = np.where((x < 0) & (np.mod(y - 1, 2) == 1), -1.0, 1.0)
        part = np.where(lost, sign * np.exp2(logs - whole), part)
        by_log = np.ldexp(mg * my * part, eg + ey + np.clip(whole, -4000, 4000).astype(np.int64))
        at_zero = g * y * np.where(zero & (y == 1), 1.0, 0.0)  # 0^(y-1): 1 at y = 1, else 0
        d: Array = np.where(
            constant | (g == 0), 0.0, np.where(zero, at_zero, np.where(np.abs(ans) >= _TINY, by_ans, by_log))
        )
    if not all_finite(d):
        raise OverflowError()
    return d


defop(
    "pow",
    arity=2,
    forward=Split(_pow, _pow_array),
    vjp=(Split(_pow_vjp_base, _pow_vjp_base_array), Split(_pow_vjp_exponent, _pow_vjp_exponent_array)),
    local=("{y:a}·{x:a}^({y} - 1)", "{x:a}^{y:a}·ln {x:a}"),
    infix="^",
    prec=P_POW,
    broadcast=True,
    elementwise=True,
    callable_as=("pow",),
)

# --- functions of one number ----------------------------------------------------------------


def _log(x: float) -> float:
    if x <= 0:
        raise ValueError("log of a non-positive number")
    return math.log(x)


def _log_array(x: Value) -> Array:
    if any_true(np.asarray(x) <= 0):
        raise ValueError("log of a non-positive number")
    result: Array = np.log(x)
    return result


def _log1p(x: float) -> float:
    if x <= -1:
        raise ValueError("log1p of a number at most -1")
    return math.log1p(x)


def _log1p_array(x: Value) -> Array:
    if any_true(np.asarray(x) <= -1):
        raise ValueError("log1p of a number at most -1")
    result: Array = np.log1p(x)
    return result


def _sqrt(x: float) -> float:
    if x < 0:
        raise ValueError("sqrt of a negative number")
    return math.sqrt(x)


def _sqrt_array(x: Value) -> Array:
    if any_true(np.asarray(x) < 0):
        raise ValueError("sqrt of a negative number")
    result: Array = np.sqrt(x)
    return result


def _nonzero(x: Value) -> Value:
    if any_true(np.asarray(x) == 0):
        raise ZeroDivisionError("division by zero")
    return x


defop(
    "exp",
    arity=1,
    forward=Split(math.exp, numpy_function("exp")),
    vjp=(lambda g, ans, x: g * ans,),
    local=("exp({x})",),
    elementwise=True,
    callable_as=("exp",),
)
defop(
    "log",
    arity=1,
    forward=Split(_log, _log_array),
    vjp=(lambda g, ans, x: g / x,),
    local=("1/{x:a}",),
    elementwise=True,
    callable_as=("log", "ln"),
)
# log(1 + x), exact where 1 + x would round (log1p(1e-20) = 1e-20, not 0)
defop(
    "log1p",
    arity=1,
    forward=Split(_log1p, _log1p_array),
    vjp=(lambda g, ans, x: g / (1.0 + x),),
    local=("1/(1 + {x})",),
    elementwise=True,
    callable_as=("log1p",),
)
defop(
    "sqrt",
    arity=1,
    forward=Split(_sqrt, _sqrt_array),
    vjp=(Split(lambda g, ans, x: g / (2.0 * ans), lambda g, ans, x: g / _nonzero(2.0 * ans)),),
    local=("1/(2·sqrt({x}))",),
    elementwise=True,
    callable_as=("sqrt",),
)
defop(
    "sin",
    arity=1,
    forward=Split(math.sin, numpy_function("sin")),
    vjp=(Split(lambda g, ans, x: g * math.cos(x), lambda g, ans, x: g * np.cos(x)),),
    local=("cos({x})",),
    elementwise=True,
    callable_as=("sin",),
)
defop(
    "cos",
    arity=1,
    forward=Split(math.cos, numpy_function("cos")),
    vjp=(Split(lambda g, ans, x: -g * math.sin(x), lambda g, ans, x: -g * np.sin(x)),),
    local=("-sin({x})",),
    elementwise=True,
    callable_as=("cos",),
)
defop(
    "tan",
    arity=1,
    forward=Split(math.tan, numpy_function("tan")),
    vjp=(lambda g, ans, x: g * (1.0 + ans * ans),),
    local=("1 + tan({x})^2",),
    elementwise=True,
    callable_as=("tan",),
)

# The derivatives of sigmoid and tanh, written without the cancellation of 1 - σ and
# 1 - tanh² (which are 0 from |x| ≈ 37 and 19 on): σ'(x) = σ(x)·σ(-x), each factor computed
# stably; tanh'(x) = sech²(x) = (2e^-|x| / (1 + e^-2|x|))², where no exp can overflow.


def _sech2(x: float) -> float:
    e = math.exp(-abs(x))
    s = 2.0 * e / (1.0 + e * e)
    return s * s


def _sech2_array(x: Value) -> Array:
    e = np.exp(-np.abs(x))
    s = 2.0 * e / (1.0 + e * e)
    result: Array = s * s
    return result


# Each --expand circuit is the stable one, so that it gives the fused gate's values and
# gradients wherever the fused gate has them (sigmoid(-800), tanh(-400), log(sigmoid(-800))):
# the classic formula divided through by the exponential that could overflow. The gates that
# do this (min, abs, max of |x|) are made with make.smooth: f does not depend on which side
# of their kinks they are, so the engine does not warn there.


def _tanh_expanded(make: Maker, z: Node) -> Node:
    # (exp(z) - exp(-z)) / (exp(z) + exp(-z)), each exp divided by exp(|z|) (so at most 1):
    # exp(z - |z|) = exp(min(z, 0))^2 and exp(-z - |z|) = exp(min(-z, 0))^2, so that no
    # intermediate is 2z, which overflows from |z| ≈ 9e307 on
    zero = make.const(0.0)
    up = make("pow", make("exp", make.smooth("min", z, zero)), make.const(2.0))
    down = make("pow", make("exp", make.smooth("min", make("neg", z), zero)), make.const(2.0))
    return make("div", make("sub", up, down), make("add", up, down))


defop(
    "tanh",
    arity=1,
    forward=Split(math.tanh, numpy_function("tanh")),
    vjp=(Split(lambda g, ans, x: g * _sech2(x), lambda g, ans, x: g * _sech2_array(x)),),
    local=("1 - tanh({x})^2",),
    elementwise=True,
    callable_as=("tanh",),
    expansion=_tanh_expanded,
    by_output=lambda g, ans: g * (1.0 - ans * ans),
)


def _sigmoid(x: float) -> float:
    # Two forms so that neither exp overflows: σ(x) = 1/(1+e^-x) = e^x/(1+e^x).
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _sigmoid_array(x: Value) -> Array:
    z = np.exp(-np.abs(x))
    result: Array = np.where(np.asarray(x) >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
    return result


def _sigmoid_expanded(make: Maker, z: Node) -> Node:
    # exp(min(z, 0)) / (1 + exp(-|z|)): for z >= 0 it is 1/(1 + exp(-z)); for z < 0 the same
    # divided through by exp(-z), exp(z)/(1 + exp(z)). Neither exp can overflow.
    top = make("exp", make.smooth("min", z, make.const(0.0)))
    return make("div", top, make("add", make.const(1.0), make("exp", make("neg", make.smooth("abs", z)))))


SIGMOID = defop(
    "sigmoid",
    arity=1,
    forward=Split(_sigmoid, _sigmoid_array),
    vjp=(
        Split(
            lambda g, ans, x: g * (ans * _sigmoid(-x)),
            lambda g, ans, x: g * (ans * _sigmoid_array(np.negative(x))),
        ),
    ),
    local=("σ·(1 - σ)",),
    symbol="σ",
    elementwise=True,
    callable_as=("sigmoid", "σ"),
    expansion=_sigmoid_expanded,
    by_output=lambda g, ans: g * ans * (1.0 - ans),
)


def _logsigmoid(x: float) -> float:
    # log σ(x) = -log(1 + e^-x), written so that neither exp overflows nor log sees 0
    return -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))


def _logsigmoid_array(x: Value) -> Array:
    x = np.asarray(x, dtype=float)
    result: Array = np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))
    return result


def _logsigmoid_expanded(make: Maker, z: Node) -> Node:
    # log(sigmoid(z)) = min(z, 0) - log1p(exp(-|z|)): log1p never sees 0 (log(sigmoid(-800)))
    # and keeps the digits that 1 + exp(-30) would round away
    return make(
        "sub",
        make.smooth("min", z, make.const(0.0)),
        make("log1p", make("exp", make("neg", make.smooth("abs", z)))),
    )


# log(sigmoid(x)) as one stable gate; the builder writes log(sigmoid(…)) this way.
defop(
    "logsigmoid",
    arity=1,
    forward=Split(_logsigmoid, _logsigmoid_array),
    vjp=(Split(lambda g, ans, x: g * _sigmoid(-x), lambda g, ans, x: g * _sigmoid_array(np.negative(x))),),
    local=("1 - σ({x})",),
    template="log(sigmoid({0}))",
    elementwise=True,
    callable_as=("logsigmoid",),
    fuses=(OPS["log"], SIGMOID),
    expansion=_logsigmoid_expanded,
)


def _softplus(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): exp never overflows, and no digit is lost
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def _softplus_array(x: Value) -> Array:
    x = np.asarray(x, dtype=float)
    result: Array = np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))
    return result


defop(
    "softplus",
    arity=1,
    forward=Split(_softplus, _softplus_array),
    vjp=(Split(lambda g, ans, x: g * _sigmoid(x), lambda g, ans, x: g * _sigmoid_array(x)),),
    local=("σ({x})",),
    elementwise=True,
    callable_as=("softplus",),
)

# --- relu and abs: kinked at 0 ----------------------------------------------------------------


def _at_zero(x: Value) -> bool:
    return x == 0 if type(x) is float else any_true(np.asarray(x) == 0)


defop(
    "relu",
    arity=1,
    forward=Split(lambda x: x if x > 0 else 0.0, lambda x: np.maximum(x, 0.0)),
    vjp=(Split(lambda g, ans, x: g if x > 0 else 0.0, lambda g, ans, x: g * (np.asarray(x) > 0)),),
    local=("1 if {x} > 0 else 0",),
    gate="gate",
    kink=_at_zero,
    convention="convention.relu",
    one_sided=True,
    elementwise=True,
    callable_as=("relu",),
)
defop(
    "abs",
    arity=1,
    forward=abs,
    vjp=(Split(lambda g, ans, x: g if x > 0 else (-g if x < 0 else 0.0), lambda g, ans, x: g * np.sign(x)),),
    local=("sign({x})",),
    kink=_at_zero,
    convention="convention.abs",
    one_sided=True,
    elementwise=True,
    callable_as=("abs", "absolute"),
    integer=True,
    logical=True,
)

# --- max and min of two -------------------------------------------------------------------------
# The router gate: the larger input takes all of the gradient; at a tie each takes half.


def _route(g: Value, x: Value, y: Value, wins: Callable[[Value, Value], bool | Array]) -> Value:
    if type(x) is float and type(y) is float:
        return g if wins(x, y) else (0.5 * g if x == y else 0.0)
    x, y = np.asarray(x), np.asarray(y)
    result: Value = g * (wins(x, y) + 0.5 * (x == y))
    return result


def _tie(x: Value, y: Value) -> bool:
    return x == y if type(x) is float and type(y) is float else any_true(np.asarray(x) == np.asarray(y))


defop(
    "max",
    arity=2,
    forward=Split(max, numpy_function("maximum")),
    vjp=(
        lambda g, ans, x, y: _route(g, x, y, operator.gt),
        lambda g, ans, x, y: _route(g, y, x, operator.gt),
    ),
    local=("1 if {x} > {y}, 0 if {x} < {y}, 1/2 at a tie", "1 if {y} > {x}, 0 if {y} < {x}, 1/2 at a tie"),
    gate="router",
    kink=_tie,
    convention="convention.tie",
    one_sided=True,
    routes="largest",
    broadcast=True,
    callable_as=("max", "maximum"),
    integer=True,
    logical=True,
)
defop(
    "min",
    arity=2,
    forward=Split(min, numpy_function("minimum")),
    vjp=(
        lambda g, ans, x, y: _route(g, x, y, operator.lt),
        lambda g, ans, x, y: _route(g, y, x, operator.lt),
    ),
    local=("1 if {x} < {y}, 0 if {x} > {y}, 1/2 at a tie", "1 if {y} < {x}, 0 if {y} > {x}, 1/2 at a tie"),
    gate="router",
    kink=_tie,
    convention="convention.tie",
    one_sided=True,
    routes="smallest",
    broadcast=True,
    callable_as=("min", "minimum"),
    integer=True,
    logical=True,
)
