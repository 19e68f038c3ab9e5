"""The op registry: every primitive gate, in one place.

Each entry has its forward function (for Python floats and for numpy arrays),
one vector-Jacobian product per input, and what a student needs to see: the
local gradient of the gate with respect to each input, as a formula.

Naming follows HIPS autograd: `g` is the upstream gradient ∂f/∂node, `ans` the
node's forward value, `x, y` its inputs. A VJP returns g × (local gradient),
the downstream gradient sent to that input. Scalars stay Python floats; numpy
is imported only when a problem has arrays (see `bpcli.lazy`).

Non-differentiable points follow PyTorch: relu'(0) = 0, abs'(0) = 0, and at a
max/min tie each input gets half the gradient.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from bpcli.lazy import all_finite, np

# Precedence of a rendered expression, loosest first (used for labels).
P_ADD, P_MUL, P_NEG, P_POW, P_ATOM = 1, 2, 3, 4, 5


class ShapeMismatch(ValueError):
    """Raised by a forward function when its inputs' shapes do not fit."""


class Op:
    """One primitive gate."""

    __slots__ = (
        "arity",
        "array",
        "array_vjps",
        "broadcast",
        "by_output",
        "convention",
        "elementwise",
        "expansion",
        "gate",
        "kink",
        "local",
        "name",
        "prec",
        "scalar",
        "shape",
        "slots",
        "template",
        "vjps",
    )

    def __init__(
        self,
        name: str,
        arity: int,
        scalar: Callable[..., Any] | None,
        array: Callable[..., Any] | None,
        vjps: Any,
        array_vjps: Any,
        local: tuple[str, ...],
        template: str,
        prec: int,
        slots: tuple[int, ...],
        kink: Callable[..., bool] | None = None,
        convention: str = "",
        broadcast: bool = False,
        elementwise: bool = False,
        gate: str = "",
        expansion: Callable[..., Any] | None = None,
        shape: Callable[[list[tuple[int, ...]]], tuple[int, ...]] | None = None,
        by_output: Callable[..., Any] | None = None,
    ) -> None:
        self.name = name
        self.arity = arity  # -1: any number of inputs (an array literal)
        self.scalar = scalar  # forward on Python floats
        self.array = array  # forward when any input is a numpy array
        self.vjps = vjps  # (g, ans, *inputs) -> downstream, one per input, floats
        self.array_vjps = array_vjps  # the same for arrays
        self.local = local  # ∂node/∂input as text, per input
        self.template = template  # how a label writes the node, inputs as {0}, {1}
        self.prec = prec  # precedence of the template's outermost operator
        self.slots = slots  # least precedence each input may have unparenthesised
        self.kink = kink  # true where not differentiable
        self.convention = convention  # what bpcli does at the kink
        self.broadcast = broadcast  # elementwise binary: sum gradients back to each input's shape
        self.elementwise = elementwise  # local Jacobian is diagonal; shown as an array
        self.gate = gate  # the cs231n gate pattern, for narration
        # --expand: the same function built from primitive gates, as expansion(make, *inputs),
        # where make(op_name, *inputs) adds a gate and make.const(v) a constant
        self.expansion = expansion
        # the shape of the result from the shapes of the inputs (a list), computed before the
        # result is, so that the engine can refuse a result too big to make; raises
        # ShapeMismatch as the forward function would
        self.shape = shape
        # the textbook form of a unary VJP in the node's value alone, (g, ans) -> g·σ(1 - σ),
        # for check's diagnosis of a student who put the input where the value goes (z(1 - z));
        # the VJP itself uses the input too, to avoid the cancellation of 1 - σ
        self.by_output = by_output

    def __repr__(self) -> str:
        return f"<op {self.name}>"


OPS: dict[str, Op] = {}
# Function names a program may call -> op name; max and min also reduce one array.
FUNCTIONS: dict[str, str] = {}


def op(
    name: str,
    arity: int,
    scalar: Callable[..., Any] | None,
    array: Callable[..., Any] | None,
    vjps: tuple[Callable[..., Any], ...],
    local: tuple[str, ...],
    *,
    array_vjps: tuple[Callable[..., Any], ...] | None = None,
    infix: str | None = None,
    prec: int = P_ATOM,
    template: str | None = None,
    callable_as: tuple[str, ...] = (),
    **extra: Any,
) -> Op:
    """Register one primitive. Function-style ops are written name(x, y) in labels."""
    if infix is not None:
        template = "{0}" + infix + "{1}"
        slots: tuple[int, ...] = (prec, prec + 1) if prec != P_POW else (prec + 1, prec)
    elif template is not None:
        slots = (prec,) * arity
    else:
        template = name + "(" + ", ".join(f"{{{i}}}" for i in range(arity)) + ")"
        slots = (0,) * arity
    if "shape" not in extra and arity > 0:  # the two common rules; other ops give their own
        if extra.get("broadcast"):
            extra["shape"] = broadcast_shape
        elif arity == 1 and extra.get("elementwise"):
            extra["shape"] = same_shape
    entry = Op(name, arity, scalar, array, vjps, array_vjps or vjps, local, template, prec, slots, **extra)
    OPS[name] = entry
    for alias in callable_as:
        FUNCTIONS[alias] = name
    return entry


# --- helpers ---------------------------------------------------------------------------


def unbroadcast(grad: Any, like: Any) -> Any:
    """Sum a broadcast gradient back to the shape of `like` (a float or an array)."""
    if type(like) is float:
        return grad if type(grad) is float else float(np.sum(grad))
    shape = like.shape
    if getattr(grad, "shape", ()) == shape:
        return grad
    grad = np.asarray(grad)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return np.broadcast_to(grad, shape).copy() if grad.shape != shape else grad


# --- shape rules ---------------------------------------------------------------------------
# Each takes the list of the inputs' shapes (() for a scalar) and gives the result's.


def broadcast_shape(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    """numpy's broadcasting rule."""
    ndim = max(len(s) for s in shapes)
    result = []
    for axis in range(-ndim, 0):
        size = 1
        for s in shapes:
            if len(s) >= -axis and s[axis] != 1:
                if size not in (1, s[axis]):
                    raise ShapeMismatch("the shapes do not broadcast together")
                size = s[axis]
        result.append(size)
    return tuple(result)


def same_shape(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    return shapes[0]


def reduced_shape(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    return ()


def _matmul_shape(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
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


def _dot_shape(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    x, y = shapes
    if len(x) != 1 or len(y) != 1:
        raise ShapeMismatch("dot takes two vectors (use @ for matrices)")
    if x != y:
        raise ShapeMismatch("the two vectors differ in length")
    return ()


def _stack_shape(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    distinct = set(shapes)
    if len(distinct) > 1:
        raise ShapeMismatch(
            "ragged array literal: its elements have shapes " + ", ".join(sorted(str(s) for s in distinct))
        )
    return (len(shapes), *shapes[0])


def _ndim(x: Any) -> int:
    return 0 if type(x) is float else x.ndim


def _any(mask: Any) -> bool:
    return bool(mask) if type(mask) is bool else bool(mask.any())


# --- leaves ------------------------------------------------------------------------------
# Inputs (the variables we differentiate with respect to) and constants have no
# forward function: the engine leaves their value as it is.

INPUT = op("input", 0, None, None, (), (), template="", prec=P_ATOM)
CONST = op("const", 0, None, None, (), (), template="", prec=P_ATOM)

# --- arithmetic --------------------------------------------------------------------------

op(
    "add",
    2,
    operator.add,
    lambda x, y: np.add(x, y),
    (lambda g, ans, x, y: g, lambda g, ans, x, y: g),
    ("1", "1"),
    infix=" + ",
    prec=P_ADD,
    broadcast=True,
    elementwise=True,
    gate="distributor",
)
op(
    "sub",
    2,
    operator.sub,
    lambda x, y: np.subtract(x, y),
    (lambda g, ans, x, y: g, lambda g, ans, x, y: -g),
    ("1", "-1"),
    infix=" - ",
    prec=P_ADD,
    broadcast=True,
    elementwise=True,
    gate="distributor",
)
op(
    "mul",
    2,
    operator.mul,
    lambda x, y: np.multiply(x, y),
    (lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x),
    ("{y}", "{x}"),
    infix="*",
    prec=P_MUL,
    broadcast=True,
    elementwise=True,
    gate="swapper",
)


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


def _div_vjp_y_array(g: Any, ans: Any, x: Any, y: Any) -> Any:
    mg, eg = np.frexp(g)
    ma, ea = np.frexp(ans)
    my, ey = np.frexp(y)
    with np.errstate(under="ignore"):
        return -np.ldexp(mg * ma / my, eg + ea - ey)


op(
    "div",
    2,
    operator.truediv,
    lambda x, y: _checked_div(x, y),
    (lambda g, ans, x, y: g / y, _div_vjp_y),
    ("1/{y:a}", "-{x:a}/{y:a}^2"),
    array_vjps=(lambda g, ans, x, y: g / y, _div_vjp_y_array),
    infix="/",
    prec=P_MUL,
    broadcast=True,
    elementwise=True,
)
op(
    "neg",
    1,
    operator.neg,
    lambda x: np.negative(x),
    (lambda g, ans, x: -g,),
    ("-1",),
    template="-{0}",
    prec=P_NEG,
    elementwise=True,
)
op(
    "id",
    1,
    lambda x: x,
    lambda x: x,
    (lambda g, ans, x: g,),
    ("1",),
    template="{0}",
    prec=0,
    elementwise=True,
)


def _checked_div(x: Any, y: Any) -> Any:
    if _any(np.asarray(y) == 0):
        raise ZeroDivisionError("division by zero")
    return np.divide(x, y)


def _pow(x: float, y: float) -> float:
    if x < 0 and y != int(y):
        raise ValueError("a negative base to a non-integer power")
    return x**y  # 0 ** -1 raises ZeroDivisionError, 10 ** 1000 OverflowError


def _pow_array(x: Any, y: Any) -> Any:
    if _any((np.asarray(x) < 0) & (np.asarray(y) != np.round(y))):
        raise ValueError("a negative base to a non-integer power")
    if _any((np.asarray(x) == 0) & (np.asarray(y) < 0)):
        raise ZeroDivisionError("zero to a negative power")
    return np.power(x, y)


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


def _pow_vjp_exponent_array(g: Any, ans: Any, x: Any, y: Any) -> Any:
    x = np.asarray(x)
    if _any(x < 0):
        raise ValueError(_EXPONENT_OF_NEGATIVE)
    zero = x == 0
    if _any(zero & (np.asarray(y) <= 0)):
        raise ZeroDivisionError(_EXPONENT_AT_ZERO)
    return g * ans * np.log(np.where(zero, 1.0, x))


# d(x^y)/dx = y·x^(y-1), written g·y·ans/x on mantissas and exponents apart: x^(y-1) itself
# may overflow or underflow where the downstream gradient fits (g = 1e-300 at x = 1e-200,
# y = -1). Where ans has underflowed (x = 1e-200, y = 3), from x's mantissa and exponent.
# x^0 is the constant 1, even at x = 0; 0^(y-1) is 0, 1, or infinite (ZeroDivisionError).
_TINY = 2.2250738585072014e-308


def _pow_vjp_base(g: float, ans: float, x: float, y: float) -> float:
    if y == 0:
        return 0.0
    if x == 0:
        return g * y * x ** (y - 1)
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


def _pow_vjp_base_array(g: Any, ans: Any, x: Any, y: Any) -> Any:
    g, ans, x, y = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (g, ans, x, y)))
    constant = y == 0
    zero = (x == 0) & ~constant
    if _any(zero & (y < 1)):
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
        d = np.where(
            constant | (g == 0), 0.0, np.where(zero, at_zero, np.where(np.abs(ans) >= _TINY, by_ans, by_log))
        )
    if not all_finite(d):
        raise OverflowError()
    return d


op(
    "pow",
    2,
    _pow,
    _pow_array,
    (_pow_vjp_base, _pow_vjp_exponent),
    ("{y:a}·{x:a}^({y} - 1)", "{x:a}^{y:a}·ln {x:a}"),
    array_vjps=(_pow_vjp_base_array, _pow_vjp_exponent_array),
    infix="^",
    prec=P_POW,
    broadcast=True,
    elementwise=True,
    callable_as=("pow",),
)

# --- elementwise unary -------------------------------------------------------------------


def _log(x: float) -> float:
    if x <= 0:
        raise ValueError("log of a non-positive number")
    return math.log(x)


def _log_array(x: Any) -> Any:
    if _any(np.asarray(x) <= 0):
        raise ValueError("log of a non-positive number")
    return np.log(x)


def _log1p(x: float) -> float:
    if x <= -1:
        raise ValueError("log1p of a number at most -1")
    return math.log1p(x)


def _log1p_array(x: Any) -> Any:
    if _any(np.asarray(x) <= -1):
        raise ValueError("log1p of a number at most -1")
    return np.log1p(x)


def _sqrt(x: float) -> float:
    if x < 0:
        raise ValueError("sqrt of a negative number")
    return math.sqrt(x)


def _sqrt_array(x: Any) -> Any:
    if _any(np.asarray(x) < 0):
        raise ValueError("sqrt of a negative number")
    return np.sqrt(x)


def _sigmoid(x: float) -> float:
    # Two forms so that neither exp overflows: σ(x) = 1/(1+e^-x) = e^x/(1+e^x).
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _sigmoid_array(x: Any) -> Any:
    z = np.exp(-np.abs(x))
    return np.where(np.asarray(x) >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


# The derivatives of sigmoid and tanh, written without the cancellation of 1 - σ and
# 1 - tanh² (which are 0 from |x| ≈ 37 and 19 on): σ'(x) = σ(x)·σ(-x), each factor computed
# stably; tanh'(x) = sech²(x) = (2e^-|x| / (1 + e^-2|x|))², where no exp can overflow.


def _sech2(x: float) -> float:
    e = math.exp(-abs(x))
    s = 2.0 * e / (1.0 + e * e)
    return s * s


def _sech2_array(x: Any) -> Any:
    e = np.exp(-np.abs(x))
    s = 2.0 * e / (1.0 + e * e)
    return s * s


op(
    "exp",
    1,
    math.exp,
    lambda x: np.exp(x),
    (lambda g, ans, x: g * ans,),
    ("exp({x})",),
    callable_as=("exp",),
    elementwise=True,
)
op(
    "log",
    1,
    _log,
    _log_array,
    (lambda g, ans, x: g / x,),
    ("1/{x:a}",),
    callable_as=("log", "ln"),
    elementwise=True,
)
# log(1 + x), exact where 1 + x would round (log1p(1e-20) = 1e-20, not 0)
op(
    "log1p",
    1,
    _log1p,
    _log1p_array,
    (lambda g, ans, x: g / (1.0 + x),),
    ("1/(1 + {x})",),
    callable_as=("log1p",),
    elementwise=True,
)
op(
    "sqrt",
    1,
    _sqrt,
    _sqrt_array,
    (lambda g, ans, x: g / (2.0 * ans),),
    ("1/(2·sqrt({x}))",),
    array_vjps=(lambda g, ans, x: g / _nonzero(2.0 * ans),),
    callable_as=("sqrt",),
    elementwise=True,
)
op(
    "sin",
    1,
    math.sin,
    lambda x: np.sin(x),
    (lambda g, ans, x: g * math.cos(x),),
    ("cos({x})",),
    array_vjps=(lambda g, ans, x: g * np.cos(x),),
    callable_as=("sin",),
    elementwise=True,
)
op(
    "cos",
    1,
    math.cos,
    lambda x: np.cos(x),
    (lambda g, ans, x: -g * math.sin(x),),
    ("-sin({x})",),
    array_vjps=(lambda g, ans, x: -g * np.sin(x),),
    callable_as=("cos",),
    elementwise=True,
)
op(
    "tan",
    1,
    math.tan,
    lambda x: np.tan(x),
    (lambda g, ans, x: g * (1.0 + ans * ans),),
    ("1 + tan({x})^2",),
    callable_as=("tan",),
    elementwise=True,
)
op(
    "tanh",
    1,
    math.tanh,
    lambda x: np.tanh(x),
    (lambda g, ans, x: g * _sech2(x),),
    ("1 - tanh({x})^2",),
    array_vjps=(lambda g, ans, x: g * _sech2_array(x),),
    by_output=lambda g, ans: g * (1.0 - ans * ans),
    callable_as=("tanh",),
    elementwise=True,
)
op(
    "sigmoid",
    1,
    _sigmoid,
    _sigmoid_array,
    (lambda g, ans, x: g * (ans * _sigmoid(-x)),),
    ("σ·(1 - σ)",),
    array_vjps=(lambda g, ans, x: g * (ans * _sigmoid_array(np.negative(x))),),
    by_output=lambda g, ans: g * ans * (1.0 - ans),
    callable_as=("sigmoid", "σ"),
    elementwise=True,
)
op(
    "relu",
    1,
    lambda x: x if x > 0 else 0.0,
    lambda x: np.maximum(x, 0.0),
    (lambda g, ans, x: g if x > 0 else 0.0,),
    ("1 if {x} > 0 else 0",),
    array_vjps=(lambda g, ans, x: g * (np.asarray(x) > 0),),
    kink=lambda x: _any(np.asarray(x) == 0) if type(x) is not float else x == 0,
    convention="relu'(0) = 0",
    callable_as=("relu",),
    elementwise=True,
    gate="gate",
)
op(
    "abs",
    1,
    abs,
    lambda x: np.abs(x),
    (lambda g, ans, x: g if x > 0 else (-g if x < 0 else 0.0),),
    ("sign({x})",),
    array_vjps=(lambda g, ans, x: g * np.sign(x),),
    kink=lambda x: _any(np.asarray(x) == 0) if type(x) is not float else x == 0,
    convention="abs'(0) = 0",
    callable_as=("abs",),
    elementwise=True,
)


def _nonzero(x: Any) -> Any:
    if _any(np.asarray(x) == 0):
        raise ZeroDivisionError("division by zero")
    return x


def _logsigmoid(x: float) -> float:
    # log σ(x) = -log(1 + e^-x), written so that neither exp overflows nor log sees 0
    return -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))


def _logsigmoid_array(x: Any) -> Any:
    x = np.asarray(x, dtype=float)
    return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))


# log(sigmoid(x)) as one stable gate; the builder writes log(sigmoid(…)) this way.
op(
    "logsigmoid",
    1,
    _logsigmoid,
    _logsigmoid_array,
    (lambda g, ans, x: g * _sigmoid(-x),),
    ("1 - σ({x})",),
    array_vjps=(lambda g, ans, x: g * _sigmoid_array(np.negative(x)),),
    template="log(sigmoid({0}))",
    prec=P_ATOM,
    callable_as=("logsigmoid",),
    elementwise=True,
)


# --- max and min of two --------------------------------------------------------------------
# The router gate: the larger input takes all of the gradient; at a tie each takes half.


def _route(g: Any, x: Any, y: Any, wins: Callable[[Any, Any], Any]) -> Any:
    if type(x) is float and type(y) is float:
        return g if wins(x, y) else (0.5 * g if x == y else 0.0)
    x, y = np.asarray(x), np.asarray(y)
    return g * (wins(x, y) + 0.5 * (x == y))


def _tie(x: Any, y: Any) -> bool:
    return x == y if type(x) is float and type(y) is float else _any(np.asarray(x) == np.asarray(y))


op(
    "max",
    2,
    max,
    lambda x, y: np.maximum(x, y),
    (lambda g, ans, x, y: _route(g, x, y, operator.gt), lambda g, ans, x, y: _route(g, y, x, operator.gt)),
    ("1 if {x} > {y}, 0 if {x} < {y}, 1/2 at a tie", "1 if {y} > {x}, 0 if {y} < {x}, 1/2 at a tie"),
    kink=_tie,
    convention="at a tie each input gets half the gradient",
    callable_as=("max",),
    broadcast=True,
    gate="router",
)
op(
    "min",
    2,
    min,
    lambda x, y: np.minimum(x, y),
    (lambda g, ans, x, y: _route(g, x, y, operator.lt), lambda g, ans, x, y: _route(g, y, x, operator.lt)),
    ("1 if {x} < {y}, 0 if {x} > {y}, 1/2 at a tie", "1 if {y} < {x}, 0 if {y} > {x}, 1/2 at a tie"),
    kink=_tie,
    convention="at a tie each input gets half the gradient",
    callable_as=("min",),
    broadcast=True,
    gate="router",
)


# --- arrays ------------------------------------------------------------------------------
# Reductions return Python floats. None of these builds a Jacobian: each VJP is a
# few array operations on arrays the size of the node's inputs.


def _matmul(x: Any, y: Any) -> Any:
    _matmul_shape([() if _ndim(x) == 0 else x.shape, () if _ndim(y) == 0 else y.shape])
    return x @ y


def _matmul_vjp_left(g: Any, ans: Any, x: Any, y: Any) -> Any:
    if y.ndim == 1:
        return g * y if x.ndim == 1 else np.outer(g, y)
    return y @ g if x.ndim == 1 else g @ y.T


def _matmul_vjp_right(g: Any, ans: Any, x: Any, y: Any) -> Any:
    if x.ndim == 1:
        return g * x if y.ndim == 1 else np.outer(x, g)
    return x.T @ g


def _dot(x: Any, y: Any) -> float:
    _dot_shape([() if _ndim(x) == 0 else x.shape, () if _ndim(y) == 0 else y.shape])
    return float(x @ y)


def _as_array(x: Any) -> Any:
    return np.asarray(x, dtype=float)


def _shifted(x: Any) -> Any:
    """x minus its largest element along the last axis. A difference past the float range
    becomes -inf, exactly what it is worth after exp: 0 (softmax([1e308, -1e308]) = [1, 0])."""
    with np.errstate(over="ignore"):
        return x - x.max(axis=-1, keepdims=True)


def _softmax(x: Any) -> Any:
    x = _as_array(x)
    z = np.exp(_shifted(x))
    return z / z.sum(axis=-1, keepdims=True)


def _logsumexp(x: Any) -> Any:
    x = _as_array(x)
    top = x.max(axis=-1, keepdims=True)
    return (top + np.log(np.exp(_shifted(x)).sum(axis=-1, keepdims=True)))[..., 0]


def _sum(x: Any) -> float:
    return _reduced(x, np.sum)


def _mean(x: Any) -> float:
    return _reduced(x, np.mean)


def _reduced(x: Any, reduce: Any) -> float:
    """reduce(x) (np.sum or np.mean), computed again scaled where a partial sum overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        result = float(reduce(x))
    if result - result == 0.0:
        return result
    return _scaled(x, reduce)


def _scaled(x: Any, reduce: Any) -> float:
    """sum or mean of numbers whose partial sums overflow though the result may fit
    (sum([1e308, 1e308, -1e308])): on the numbers scaled by a power of two at least their
    count, exactly; OverflowError when the result does not fit either."""
    k = max(1, int(x.size - 1).bit_length())
    with np.errstate(under="ignore"):
        return math.ldexp(float(reduce(np.ldexp(x, -k))), k)


def _amax_vjp(g: Any, ans: float, x: Any) -> Any:
    if type(x) is float:
        return g
    mask = x == ans  # ties share the gradient evenly, as in PyTorch's amax
    return g * mask / mask.sum()


# Squares of numbers between these neither overflow nor underflow (nor do their sums, for
# any array bpcli holds), so the norm is computed directly; otherwise every element is
# first scaled by a power of two, exactly, as math.hypot and LAPACK's nrm2 do.
_SQUARE_SAFE = (2.0**-480, 2.0**480)


def _norm(x: Any) -> float:
    flat = np.ravel(x)
    if flat.size == 0:
        return 0.0
    top = float(np.max(np.abs(flat)))
    if top == 0.0 or _SQUARE_SAFE[0] < top < _SQUARE_SAFE[1]:
        return float(np.linalg.norm(flat))
    exponent = math.frexp(top)[1]  # top = m · 2^exponent, 0.5 <= m < 1
    scaled = np.ldexp(flat, -exponent)
    return math.ldexp(float(np.sqrt(np.dot(scaled, scaled))), exponent)  # OverflowError if so


def _norm_vjp(g: Any, ans: float, x: Any) -> Any:
    if ans == 0:
        return 0.0 if type(x) is float else np.zeros_like(x)  # PyTorch's subgradient at 0
    return (x / ans) * g  # |x/ans| <= 1: only a gradient that is itself too large overflows


def _softmax_vjp(g: Any, ans: Any, x: Any) -> Any:
    return ans * (g - (g * ans).sum(axis=-1, keepdims=True))


def _stack(*xs: Any) -> Any:
    _stack_shape([getattr(x, "shape", ()) for x in xs])
    return np.stack([_as_array(x) for x in xs])


class _EachElement:
    """The VJPs of an array literal: input i receives row i of the upstream gradient. (An op
    of any number of inputs gets them as one list: (g, ans, inputs).)"""

    def __getitem__(self, i: int) -> Callable[..., Any]:
        return lambda g, ans, xs: g[i] if type(xs[i]) is not float else float(g[i])


op(
    "matmul",
    2,
    None,
    _matmul,
    (_matmul_vjp_left, _matmul_vjp_right),
    ("g @ {y:a}ᵀ", "{x:a}ᵀ @ g"),
    infix=" @ ",
    prec=P_MUL,
    shape=_matmul_shape,
)
op(
    "dot",
    2,
    None,
    _dot,
    (lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x),
    ("{y}", "{x}"),
    callable_as=("dot",),
    shape=_dot_shape,
)
op(
    "transpose",
    1,
    lambda x: x,
    lambda x: x.T,
    (lambda g, ans, x: g,),
    ("g transposed",),
    array_vjps=(lambda g, ans, x: g.T if type(g) is not float else g,),
    template="{0}.T",
    prec=P_ATOM,
    callable_as=("transpose",),
    shape=lambda shapes: shapes[0][::-1],
)
op(
    "sum",
    1,
    lambda x: x,
    _sum,
    (lambda g, ans, x: g,),
    ("1 for every element",),
    array_vjps=(lambda g, ans, x: np.full(x.shape, g) if type(x) is not float else g,),
    callable_as=("sum",),
    shape=reduced_shape,
)
op(
    "mean",
    1,
    lambda x: x,
    _mean,
    (lambda g, ans, x: g,),
    ("1/n for every element",),
    array_vjps=(lambda g, ans, x: np.full(x.shape, g / x.size) if type(x) is not float else g,),
    callable_as=("mean",),
    shape=reduced_shape,
)
op(
    "norm",
    1,
    abs,
    _norm,
    (_norm_vjp,),
    ("{x:a}/norm({x})",),
    kink=lambda x: not _any(np.asarray(x) != 0),
    convention="the gradient of norm at the zero vector is taken as 0",
    callable_as=("norm",),
    shape=reduced_shape,
)
op(
    "amax",
    1,
    lambda x: x,
    lambda x: float(np.max(x)),
    (_amax_vjp,),
    ("1 at the largest element, else 0",),
    template="max({0})",
    prec=P_ATOM,
    kink=lambda x: type(x) is not float and int((x == x.max()).sum()) > 1,
    convention="tied largest elements share the gradient evenly",
    gate="router",
    shape=reduced_shape,
)
op(
    "amin",
    1,
    lambda x: x,
    lambda x: float(np.min(x)),
    (_amax_vjp,),
    ("1 at the smallest element, else 0",),
    template="min({0})",
    prec=P_ATOM,
    kink=lambda x: type(x) is not float and int((x == x.min()).sum()) > 1,
    convention="tied smallest elements share the gradient evenly",
    gate="router",
    shape=reduced_shape,
)
op(
    "softmax",
    1,
    lambda x: 1.0,
    _softmax,
    (lambda g, ans, x: 0.0,),
    ("s·(g - sum(g·s)) with s = softmax({x})",),
    array_vjps=(_softmax_vjp,),
    callable_as=("softmax",),
    shape=same_shape,
)
op(
    "logsumexp",
    1,
    lambda x: x,
    _logsumexp,
    (lambda g, ans, x: g,),
    ("softmax({x})",),
    array_vjps=(lambda g, ans, x: _softmax(x) * np.expand_dims(np.asarray(g), -1),),
    callable_as=("logsumexp",),
    shape=lambda shapes: shapes[0][:-1],
)
op(
    "logsoftmax",
    1,
    lambda x: 0.0,
    lambda x: _as_array(x) - np.expand_dims(_logsumexp(x), -1),
    (lambda g, ans, x: 0.0,),
    ("g - softmax({x})·sum(g)",),
    array_vjps=(lambda g, ans, x: g - np.exp(ans) * np.sum(g, axis=-1, keepdims=True),),
    callable_as=("logsoftmax", "log_softmax"),
    shape=same_shape,
)
op(
    "stack",
    -1,
    None,
    _stack,
    _EachElement(),
    (),
    template="[]",
    prec=P_ATOM,  # type: ignore[arg-type]
    shape=_stack_shape,
)

# One argument: max and min reduce an array.
REDUCTIONS = {"max": "amax", "min": "amin"}


# --- composite gates, written out in primitives for --expand -------------------------------


def _expand(name: str, expansion: Callable[..., Any]) -> None:
    OPS[name].expansion = expansion


# Each circuit is the stable one, so that it gives the fused gate's values and gradients
# wherever the fused gate has them (sigmoid(-800), tanh(-400), log(sigmoid(-800))): the
# classic formula divided through by the exponential that could overflow. The gates that
# do this (min, abs, max of |x|) are made with make.smooth: f does not depend on which side
# of their kinks they are, so the engine does not warn there.


def _sigmoid_expanded(make: Any, z: Any) -> Any:
    # exp(min(z, 0)) / (1 + exp(-|z|)): for z >= 0 it is 1/(1 + exp(-z)); for z < 0 the same
    # divided through by exp(-z), exp(z)/(1 + exp(z)). Neither exp can overflow.
    top = make("exp", make.smooth("min", z, make.const(0.0)))
    return make("div", top, make("add", make.const(1.0), make("exp", make("neg", make.smooth("abs", z)))))


def _tanh_expanded(make: Any, z: Any) -> Any:
    # (exp(z) - exp(-z)) / (exp(z) + exp(-z)), each exp divided by exp(|z|) (so at most 1):
    # exp(z - |z|) = exp(min(z, 0))^2 and exp(-z - |z|) = exp(min(-z, 0))^2, so that no
    # intermediate is 2z, which overflows from |z| ≈ 9e307 on
    zero = make.const(0.0)
    up = make("pow", make("exp", make.smooth("min", z, zero)), make.const(2.0))
    down = make("pow", make("exp", make.smooth("min", make("neg", z), zero)), make.const(2.0))
    return make("div", make("sub", up, down), make("add", up, down))


def _logsigmoid_expanded(make: Any, z: Any) -> Any:
    # log(sigmoid(z)) = min(z, 0) - log1p(exp(-|z|)): log1p never sees 0 (log(sigmoid(-800)))
    # and keeps the digits that 1 + exp(-30) would round away
    return make(
        "sub",
        make.smooth("min", z, make.const(0.0)),
        make("log1p", make("exp", make("neg", make.smooth("abs", z)))),
    )


def _norm_expanded(make: Any, x: Any) -> Any:
    # s·sqrt(sum((x/s)^2)) with s = max(|x|): no square underflows to 0 or overflows
    s = make.smooth("amax", make.smooth("abs", x))
    return make("mul", s, make("sqrt", make("sum", make("pow", make("div", x, s), make.const(2.0)))))


_expand("sigmoid", _sigmoid_expanded)
_expand("tanh", _tanh_expanded)
_expand("logsigmoid", _logsigmoid_expanded)
_expand("norm", _norm_expanded)
_expand("dot", lambda make, x, y: make("sum", make("mul", x, y)))
