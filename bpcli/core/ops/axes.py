"""numpy's reductions along axes, and softmax along an axis: sum(x, axis=1), x.mean(0), ….

Each is a family (see `registry.Family`): `sum`, `mean`, `max` (numpy's amax), `min`, `var`,
`std`, `prod`, `logsumexp`, `norm` (np.linalg.norm, 2-norm and Frobenius only), `softmax`
and `logsoftmax`, with numpy's parameters `axis` (None, an int, a negative int or a tuple of
ints) and `keepdims`, in that positional order (sum(x, 1), x.max(0, keepdims=True)); var and
std also take `ddof`, norm takes `ord` first, as np.linalg.norm(x, ord, axis, keepdims).
Called with its default parameters a family gives the op registered before families
existed (sum(x) is OPS["sum"]), so old programs keep their graphs. logsumexp, softmax and
logsoftmax reduce the LAST axis by default, as bpcli always has (scipy's default is None).

numpy's own rules hold: an axis out of range, or given twice, is refused in numpy's words;
a float is a 0-d array, which sum, prod, max, min, logsumexp and the softmaxes (numpy's
ufunc reductions) accept with axis 0 or -1 and mean, var, std and norm do not.

One `_make_*` per family below holds everything about it: its forward along the axes, its
VJP, its local gradient as notation, its gate and kink. A forward computes with keepdims and
`_reduction` drops the axes when asked; a VJP gets the gradient and the value with the axes
kept (shape 1), so it broadcasts against the input.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from bpcli.core.ops.registry import (
    FAMILIES,
    FUSED,
    OPS,
    ShapeMismatch,
    Split,
    deffamily,
    make_op,
    member,
    param_text,
)
from bpcli.lazy import np

if TYPE_CHECKING:
    from collections.abc import Callable

    from bpcli.core.graph import Node
    from bpcli.core.ops.registry import Maker, Op, Shape
    from bpcli.values import Array, Value

    Axes = tuple[int, ...]  # the reduced axes, nonnegative and sorted

    FamilyMaker = Maker  # (make.family is part of Maker)


# --- axes, as numpy reads them ----------------------------------------------------------------


def _axis_param(axis: object, duplicate: str = "duplicate value in 'axis'") -> object:
    """The axis parameter checked for its type (numpy's TypeError, worded as numpy does); a
    list becomes a tuple. Whether the axes fit an array is for the shape rule to say."""
    if isinstance(axis, list):
        axis = tuple(axis)
    for a in axis if isinstance(axis, tuple) else () if axis is None else (axis,):
        if isinstance(a, bool) or not isinstance(a, int):
            raise ShapeMismatch(f"'{type(a).__name__}' object cannot be interpreted as an integer")
    if isinstance(axis, tuple) and len(set(axis)) < len(axis):
        raise ShapeMismatch(duplicate)
    return axis


def _flag(keepdims: object) -> bool:
    if not isinstance(keepdims, (bool, int)):
        raise ShapeMismatch(f"keepdims must be True or False, not {keepdims!r}")
    return bool(keepdims)


def _axes(axis: object, ndim: int, lenient: bool, duplicate: str = "duplicate value in 'axis'") -> Axes:
    """The axes `axis` names in an array of `ndim` dimensions, as numpy's normalize_axis_tuple.
    `lenient`: a 0-d array also takes axis 0 or -1 (numpy's ufunc reductions: np.sum(3.0, 0))."""
    if axis is None:
        return tuple(range(ndim))
    if ndim == 0 and lenient and isinstance(axis, int) and axis in (0, -1):
        return ()
    named = axis if isinstance(axis, tuple) else (axis,)
    axes = []
    for a in named:
        assert isinstance(a, int)  # (checked by _axis_param)
        if not -ndim <= a < ndim:
            raise ShapeMismatch(f"axis {a} is out of bounds for array of dimension {ndim}")
        axes.append(a % ndim)
    if len(set(axes)) < len(axes):
        raise ShapeMismatch(duplicate)
    return tuple(sorted(axes))


def _kept(shape: Shape, axes: Axes) -> Shape:
    """The shape with the reduced axes kept, of length 1."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _count(shape: Shape, axes: Axes) -> int:
    """How many elements each result reduces."""
    return math.prod(shape[i] for i in axes)


def _value(result: Array) -> Value:
    return float(result) if result.ndim == 0 else result


def _along(axis: object) -> str:
    """Where a reduction goes, for its local gradient: '' (every element), ' along axis 1'."""
    if axis is None:
        return ""
    if isinstance(axis, tuple):
        return f" along axes {axis}" if len(axis) != 1 else f" along axis {axis[0]}"
    return f" along axis {axis}"


def _count_text(axis: object) -> str:
    """n, the number of elements a result reduces, in numpy's words: x.shape[1], x.size."""
    if axis is None:
        return "{x:a}.size"
    named = axis if isinstance(axis, tuple) else (axis,)
    return "·".join(f"{{x:a}}.shape[{a}]" for a in named) or "1"


# --- one member of a family -------------------------------------------------------------------


def _shown(family: str, params: dict[str, object]) -> str:
    """The parameters not at their default, as a call writes them: ", axis=1, keepdims=True".
    A label writes a member sum(x, axis=1), a circuit drawing's gate sum(axis=1)."""
    defaults = dict(FAMILIES[family].params)
    return param_text(tuple((k, v) for k, v in params.items() if v != defaults[k]))


def _reduction(
    family: str,
    params: dict[str, object],
    *,
    name: str = "",
    forward: Callable[[Array, Axes], Array],
    vjp: Callable[[Array, Array, Array, Axes], Array],
    scalar: Callable[[float], float],
    scalar_vjp: Callable[[float, float, float], float],
    local: str,
    lenient: bool,
    check: Callable[[Shape, Axes], None] | None = None,
    kink: Callable[[Array, Axes], bool] | None = None,
    scalar_kink: Callable[[float], bool] | None = None,
    axes_of: Callable[[Shape], Axes] | None = None,
    convention: str = "",
    gate: str = "",
    routes: str = "",
    expansion: Callable[[FamilyMaker, Node], Node] | None = None,
) -> Op:
    """A reduction along params["axis"], with params["keepdims"]. forward(x, axes) gives the
    result with the axes kept; vjp(g, ans, x, axes) gets g and ans with the axes kept. On a
    float (a 0-d array) the forward is scalar(x) and the VJP scalar_vjp(g, ans, x). `check`
    refuses what numpy cannot reduce (an empty slice); `kink(x, axes)` says where the op is
    not differentiable; `axes_of(shape)` replaces numpy's reading of axis (norm's)."""
    axis, keepdims = params["axis"], params["keepdims"]

    def reduced(shape: Shape) -> Axes:
        axes = axes_of(shape) if axes_of is not None else _axes(axis, len(shape), lenient)
        if check is not None:
            check(shape, axes)
        return axes

    def shape_rule(shapes: list[Shape]) -> Shape:
        shape = shapes[0]
        axes = reduced(shape)
        return _kept(shape, axes) if keepdims else tuple(n for i, n in enumerate(shape) if i not in axes)

    def on_array(x: Array) -> Value:
        axes = reduced(x.shape)
        result = forward(x, axes)
        if keepdims:
            return result
        return _value(result.reshape([n for i, n in enumerate(x.shape) if i not in axes]))

    def on_float(x: float) -> float:
        reduced(())
        return scalar(x)

    def array_vjp(g: Value, ans: Value, x: Array) -> Array:
        axes = reduced(x.shape)
        kept = _kept(x.shape, axes)
        return vjp(np.reshape(g, kept), np.reshape(ans, kept), x, axes)

    def is_kink(x: Value) -> bool:
        if isinstance(x, float):
            return scalar_kink is not None and scalar_kink(x)
        return kink is not None and kink(x, reduced(x.shape))

    return make_op(
        name or family,
        arity=1,
        forward=Split(on_float, on_array),
        vjp=(Split(scalar_vjp, array_vjp),),
        local=(local,),
        shape=shape_rule,
        kink=is_kink if kink is not None else None,
        convention=convention,
        gate=gate,
        routes=routes,
        expansion=expansion,
        template=f"{family}({{0}}{_shown(family, params)})",
        slots=(0,),
        symbol=f"{family}({_shown(family, params)[2:]})",
        params=tuple(params.items()),
    )


def _nonempty(operation: str) -> Callable[[Shape, Axes], None]:
    """A check that no slice reduced is empty (numpy's ValueError for max of nothing)."""

    def check(shape: Shape, axes: Axes) -> None:
        if _count(shape, axes) == 0:
            raise ShapeMismatch(f"zero-size array to reduction operation {operation} which has no identity")

    return check


# --- sum and mean: copier and averager --------------------------------------------------------


def _summed(x: Array, axes: Axes, mean: bool = False) -> Array:
    """np.sum (or np.mean) along the axes, kept. Where a partial sum overflows though the
    result may fit (sum([1e308, 1e308, -1e308])), again on the numbers scaled by a power of
    two at least their count, exactly; inf where the result does not fit either."""
    reduce = np.mean if mean else np.sum
    with np.errstate(over="ignore", invalid="ignore"):
        result: Array = reduce(x, axis=axes, keepdims=True)
    if bool(np.isfinite(result).all()):
        return result
    k = max(1, (_count(x.shape, axes) - 1).bit_length())
    with np.errstate(over="ignore", under="ignore"):
        scaled: Array = np.ldexp(reduce(np.ldexp(x, -k), axis=axes, keepdims=True), k)
    return scaled


def _make_sum(axis: object = None, keepdims: object = False) -> Op:
    params = {"axis": _axis_param(axis), "keepdims": _flag(keepdims)}
    if params == {"axis": None, "keepdims": False}:
        return OPS["sum"]
    return member(
        "sum",
        params,
        lambda: _reduction(
            "sum",
            params,
            forward=_summed,
            vjp=lambda g, ans, x, axes: np.broadcast_to(g, x.shape).copy(),
            scalar=float,
            scalar_vjp=lambda g, ans, x: g,
            local=f"1 for every element summed{_along(params['axis'])}",
            lenient=True,
            gate="copier",
        ),
    )


def _make_mean(axis: object = None, keepdims: object = False) -> Op:
    params = {"axis": _axis_param(axis), "keepdims": _flag(keepdims)}
    if params == {"axis": None, "keepdims": False}:
        return OPS["mean"]

    def check(shape: Shape, axes: Axes) -> None:
        if _count(shape, axes) == 0:
            raise ShapeMismatch("mean of empty slice")

    return member(
        "mean",
        params,
        lambda: _reduction(
            "mean",
            params,
            forward=lambda x, axes: _summed(x, axes, mean=True),
            vjp=lambda g, ans, x, axes: np.broadcast_to(g, x.shape) / _count(x.shape, axes),
            scalar=float,
            scalar_vjp=lambda g, ans, x: g,
            local=f"1/n for every element averaged{_along(params['axis'])}"
            f" (n = {_count_text(params['axis'])})",
            lenient=False,
            check=check,
            gate="averager",
        ),
    )


# --- the largest and smallest element along axes: routers -------------------------------------


def _extreme_vjp(g: Array, ans: Array, x: Array, axes: Axes) -> Array:
    """The gradient to the element where the extreme is; tied elements share it evenly, as
    PyTorch's amax and bpcli's amax do."""
    mask = x == ans
    result: Array = g * mask / mask.sum(axis=axes, keepdims=True)
    return result


def _make_extreme(family: str, largest: bool, axis: object, keepdims: object) -> Op:
    params = {"axis": _axis_param(axis), "keepdims": _flag(keepdims)}
    if params == {"axis": None, "keepdims": False}:
        return OPS["amax" if largest else "amin"]
    reduce = np.max if largest else np.min

    def forward(x: Array, axes: Axes) -> Array:
        result: Array = reduce(x, axis=axes, keepdims=True)
        return result

    def tied(x: Array, axes: Axes) -> bool:
        return bool(((x == forward(x, axes)).sum(axis=axes) > 1).any())

    which = "largest" if largest else "smallest"
    return member(
        family,
        params,
        lambda: _reduction(
            family,
            params,
            name="amax" if largest else "amin",
            forward=forward,
            vjp=_extreme_vjp,
            scalar=float,
            scalar_vjp=lambda g, ans, x: g,
            local=f"1 at the {which} element{_along(params['axis'])}, else 0",
            lenient=True,
            check=_nonempty("maximum" if largest else "minimum"),
            kink=tied,
            convention="convention.amax" if largest else "convention.amin",
            gate="router",
            routes=which,
        ),
    )


def _make_max(axis: object = None, keepdims: object = False) -> Op:
    return _make_extreme("max", True, axis, keepdims)


def _make_min(axis: object = None, keepdims: object = False) -> Op:
    return _make_extreme("min", False, axis, keepdims)


# --- var and std ------------------------------------------------------------------------------


def _ddof(ddof: object) -> int | float:
    if isinstance(ddof, bool) or not isinstance(ddof, (int, float)):
        raise ShapeMismatch(f"ddof must be a number, not {ddof!r}")
    return ddof


def _degrees(ddof: int | float) -> Callable[[Shape, Axes], None]:
    """A check that n - ddof > 0, where numpy's var divides by it (it warns and gives nan)."""

    def check(shape: Shape, axes: Axes) -> None:
        n = _count(shape, axes)
        if n - ddof <= 0:
            raise ShapeMismatch(f"degrees of freedom <= 0 for slice: {n} element(s) with ddof={ddof}")

    return check


def _deviations(x: Array, axes: Axes) -> Array:
    """x minus its mean along the axes."""
    result: Array = x - _summed(x, axes, mean=True)
    return result


def _make_var(axis: object = None, keepdims: object = False, ddof: object = 0) -> Op:
    params = {"axis": _axis_param(axis), "keepdims": _flag(keepdims), "ddof": _ddof(ddof)}
    dof = params["ddof"]
    assert isinstance(dof, (int, float))

    def forward(x: Array, axes: Axes) -> Array:
        d = _deviations(x, axes)
        result: Array = _summed(d * d, axes) / (_count(x.shape, axes) - dof)
        return result

    def vjp(g: Array, ans: Array, x: Array, axes: Axes) -> Array:
        result: Array = g * (2.0 / (_count(x.shape, axes) - dof)) * _deviations(x, axes)
        return result

    n = "n" if dof == 0 else f"(n - {dof})"
    return member(
        "var",
        params,
        lambda: _reduction(
            "var",
            params,
            forward=forward,
            vjp=vjp,
            scalar=lambda x: 0.0,
            scalar_vjp=lambda g, ans, x: 0.0,
            local=f"2·({{x}} - mean)/{n}{_along(params['axis'])}, n = {_count_text(params['axis'])}",
            lenient=False,
            check=_degrees(dof),
        ),
    )


def _make_std(axis: object = None, keepdims: object = False, ddof: object = 0) -> Op:
    params = {"axis": _axis_param(axis), "keepdims": _flag(keepdims), "ddof": _ddof(ddof)}
    dof = params["ddof"]
    assert isinstance(dof, (int, float))

    def forward(x: Array, axes: Axes) -> Array:
        # the 2-norm of the deviations, overflow-safe: std([1e200, -1e200]) is 1e200
        result: Array = _norm2(_deviations(x, axes), axes) / math.sqrt(_count(x.shape, axes) - dof)
        return result

    def vjp(g: Array, ans: Array, x: Array, axes: Axes) -> Array:
        # where the elements of a slice are all equal std is not differentiable: 0 there (its
        # value is 0, or a rounding error: the mean of [0.1, 0.1, 0.1] is not 0.1)
        n = _count(x.shape, axes) - dof
        spread = np.max(x, axis=axes, keepdims=True) > np.min(x, axis=axes, keepdims=True)
        scale = np.divide(g, n * ans, out=np.zeros_like(ans), where=spread & (ans != 0))
        result: Array = scale * _deviations(x, axes)
        return result

    def flat(x: Array, axes: Axes) -> bool:
        if _count(x.shape, axes) < 2:  # std of one element is 0 whatever it is: no kink
            return False
        return bool((np.max(x, axis=axes) == np.min(x, axis=axes)).any())

    n = "n" if dof == 0 else f"(n - {dof})"
    return member(
        "std",
        params,
        lambda: _reduction(
            "std",
            params,
            forward=forward,
            vjp=vjp,
            scalar=lambda x: 0.0,
            scalar_vjp=lambda g, ans, x: 0.0,
            local=f"({{x}} - mean)/({n}·std){_along(params['axis'])}, n = {_count_text(params['axis'])}",
            lenient=False,
            check=_degrees(dof),
            kink=flat,
            convention="convention.std",
        ),
    )


# --- prod -------------------------------------------------------------------------------------


def _others(x: Array, axes: Axes) -> Array:
    """For every element, the product of the other elements of its slice: the products before
    it times those after it (cumulative products from both ends), right where x has zeros, as
    prod/x is not."""
    k = len(axes)
    if k == 0:
        return np.ones_like(x)
    if x.size == 0:
        return np.zeros_like(x)
    ends = tuple(range(-k, 0))
    moved = np.moveaxis(x, axes, ends)
    rows = moved.reshape((*moved.shape[:-k], -1))  # each slice a row
    ones = np.ones((*rows.shape[:-1], 1))
    with np.errstate(over="ignore", invalid="ignore"):
        before = np.cumprod(np.concatenate([ones, rows[..., :-1]], axis=-1), axis=-1)
        after = np.cumprod(np.concatenate([ones, rows[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = (before * after).reshape(moved.shape)
    result: Array = np.moveaxis(others, ends, axes)
    return result


def _make_prod(axis: object = None, keepdims: object = False) -> Op:
    params = {"axis": _axis_param(axis), "keepdims": _flag(keepdims)}

    def forward(x: Array, axes: Axes) -> Array:
        with np.errstate(over="ignore"):
            result: Array = np.prod(x, axis=axes, keepdims=True)
        return result

    return member(
        "prod",
        params,
        lambda: _reduction(
            "prod",
            params,
            forward=forward,
            vjp=lambda g, ans, x, axes: g * _others(x, axes),
            scalar=float,
            scalar_vjp=lambda g, ans, x: g,
            local=f"the product of the other elements{_along(params['axis'])}",
            lenient=True,
        ),
    )


# --- norm: the 2-norm of vectors, the Frobenius norm of matrices ------------------------------

# Squares of numbers between these neither overflow nor underflow (nor do their sums), as in
# reduce.py's norm; a slice with a larger or smaller element is first scaled by a power of two.
_SQUARE_SAFE = (2.0**-480, 2.0**480)


def _norm2(x: Array, axes: Axes) -> Array:
    """sqrt of the sum of squares along the axes, kept, as math.hypot: exact scaling by a power
    of two where a square would overflow or underflow."""
    top = np.max(np.abs(x), axis=axes, keepdims=True, initial=0.0)
    if bool((((top > _SQUARE_SAFE[0]) | (top == 0)) & (top < _SQUARE_SAFE[1])).all()):
        direct: Array = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
        return direct
    exponent = np.frexp(top)[1]  # top = m · 2^exponent, 0.5 <= m < 1
    with np.errstate(over="ignore", under="ignore"):
        scaled = np.ldexp(x, -exponent)
        result: Array = np.ldexp(np.sqrt(np.sum(scaled * scaled, axis=axes, keepdims=True)), exponent)
    return result


def _norm_axes(order: object, axis: object) -> Callable[[Shape], Axes]:
    """np.linalg.norm's reading of axis with ord: a vector norm along one axis, a matrix norm
    along two; ord=None any number of them only with axis=None (the whole array, flattened)."""

    def axes_of(shape: Shape) -> Axes:
        ndim = len(shape)
        if axis is None and order is not None and ndim not in (1, 2):
            raise ShapeMismatch("Improper number of dimensions to norm.")
        axes = _axes(axis, ndim, False, duplicate="Duplicate axes given.")
        matrix = len(axes) == 2 if axis is not None else ndim == 2
        if order == "fro" and not matrix:
            raise ShapeMismatch("Invalid norm order 'fro' for vectors")
        if order == 2 and matrix:
            raise ShapeMismatch(
                "norm with ord=2 of a matrix (its largest singular value) is not supported:"
                " bpcli takes ord=None or 'fro' (the Frobenius norm)"
            )
        return axes

    return axes_of


def _norm_vjp(g: Array, ans: Array, x: Array, axes: Axes) -> Array:
    # x/‖x‖ is at most 1 in size; at a zero slice the gradient is 0 (PyTorch's subgradient)
    result: Array = np.divide(x, ans, out=np.zeros_like(x), where=ans != 0) * g
    return result


def _make_norm(ord: object = None, axis: object = None, keepdims: object = False) -> Op:
    if ord not in (None, 2, "fro") or isinstance(ord, bool):
        raise ShapeMismatch(
            f"norm with ord={ord!r} is not supported: bpcli takes ord=None, 2 (a vector's 2-norm)"
            " or 'fro' (a matrix's Frobenius norm)"
        )
    params = {"ord": ord, "axis": _axis_param(axis, "Duplicate axes given."), "keepdims": _flag(keepdims)}
    if params == {"ord": None, "axis": None, "keepdims": False}:
        return OPS["norm"]
    if isinstance(params["axis"], tuple) and len(params["axis"]) not in (1, 2):
        raise ShapeMismatch("Improper number of dimensions to norm.")
    shown = tuple((k, v) for k, v in params.items() if k == "axis" or (k == "ord" and v is not None))
    return member(
        "norm",
        params,
        lambda: _reduction(
            "norm",
            params,
            forward=_norm2,
            vjp=_norm_vjp,
            scalar=abs,
            scalar_vjp=lambda g, ans, x: g if x > 0 else -g if x < 0 else 0.0,
            local=f"{{x:a}}/norm({{x}}{param_text((*shown, ('keepdims', True)))})",
            lenient=False,
            axes_of=_norm_axes(ord, params["axis"]),
            kink=lambda x, axes: bool((~(x != 0).any(axis=axes)).any()),
            scalar_kink=lambda x: x == 0,
            convention="convention.norm",
        ),
    )


# --- logsumexp, softmax and logsoftmax along axes (the last axis by default) ------------------


def _shifted(x: Array, axes: Axes) -> Array:
    """x minus its largest element along the axes. A difference past the float range becomes
    -inf, exactly what it is worth after exp: 0."""
    with np.errstate(over="ignore"):
        result: Array = x - np.max(x, axis=axes, keepdims=True)
    return result


def _softmax(x: Array, axes: Axes) -> Array:
    z = np.exp(_shifted(x, axes))
    result: Array = z / z.sum(axis=axes, keepdims=True)
    return result


def _logsumexp(x: Array, axes: Axes) -> Array:
    result: Array = np.max(x, axis=axes, keepdims=True) + np.log(
        np.exp(_shifted(x, axes)).sum(axis=axes, keepdims=True)
    )
    return result


def _max_shift(make: FamilyMaker, x: Node, axis: object) -> Node:
    """x minus its largest element along the axis: the shift of a stable circuit, through a
    smooth router (its kink at a tie cancels and does not reach f)."""
    return make("sub", x, make.family("max", x, axis=axis, keepdims=True, smooth=True))


def _make_logsumexp(axis: object = -1, keepdims: object = False) -> Op:
    params = {"axis": _axis_param(axis), "keepdims": _flag(keepdims)}
    if params == {"axis": -1, "keepdims": False}:
        return OPS["logsumexp"]
    kept = params["keepdims"]

    def expansion(make: FamilyMaker, x: Node) -> Node:
        # max + log(sum(exp(x - max))), the max along the axis
        total = make.family("sum", make("exp", _max_shift(make, x, axis)), axis=axis, keepdims=kept)
        top = make.family("max", x, axis=axis, keepdims=kept, smooth=True)
        return make("add", top, make("log", total))

    return member(
        "logsumexp",
        params,
        lambda: _reduction(
            "logsumexp",
            params,
            forward=_logsumexp,
            vjp=lambda g, ans, x, axes: g * _softmax(x, axes),
            scalar=float,
            scalar_vjp=lambda g, ans, x: g,
            local=f"softmax({{x}}{param_text((('axis', params['axis']),))})",
            lenient=True,
            check=_nonempty("maximum"),
            expansion=expansion,
        ),
    )


def _along_axis(
    family: str,
    params: dict[str, object],
    *,
    forward: Callable[[Array, Axes], Array],
    vjp: Callable[[Array, Array, Array, Axes], Array],
    scalar: float,
    local: str,
    expansion: Callable[[FamilyMaker, Node], Node],
) -> Op:
    """An op that mixes the elements along params["axis"] and keeps the shape (softmax).
    On a float (a slice of one element) its value is `scalar`, its gradient 0."""
    axis = params["axis"]

    def shape_rule(shapes: list[Shape]) -> Shape:
        axes = _axes(axis, len(shapes[0]), True)
        _nonempty("maximum")(shapes[0], axes)
        return shapes[0]

    def on_float(x: float) -> float:
        shape_rule([()])
        return scalar

    return make_op(
        family,
        arity=1,
        forward=Split(on_float, lambda x: forward(x, _axes(axis, x.ndim, True))),
        vjp=(Split(lambda g, ans, x: 0.0, lambda g, ans, x: vjp(g, ans, x, _axes(axis, x.ndim, True))),),
        local=(local,),
        shape=shape_rule,
        expansion=expansion,
        template=f"{family}({{0}}{_shown(family, params)})",
        slots=(0,),
        symbol=f"{family}({_shown(family, params)[2:]})",
        params=tuple(params.items()),
    )


def _make_softmax(axis: object = -1) -> Op:
    params = {"axis": _axis_param(axis)}
    if params == {"axis": -1}:
        return OPS["softmax"]
    along = param_text((("axis", params["axis"]),))
    kept = along + ", keepdims=True"

    def vjp(g: Array, ans: Array, x: Array, axes: Axes) -> Array:
        result: Array = ans * (g - (g * ans).sum(axis=axes, keepdims=True))
        return result

    def expansion(make: FamilyMaker, x: Node) -> Node:
        # exp(x - max) / sum(exp(x - max)), the max and the sum along the axis
        z = make("exp", _max_shift(make, x, axis))
        return make("div", z, make.family("sum", z, axis=axis, keepdims=True))

    def build() -> Op:
        op = _along_axis(
            "softmax",
            params,
            forward=_softmax,
            vjp=vjp,
            scalar=1.0,
            local=f"s·(g - sum(g·s{kept})) with s = softmax({{x}}{along})",
            expansion=expansion,
        )
        FUSED[OPS["log"], op] = _make_logsoftmax(axis)  # log(softmax(x, axis=0)): one stable gate
        return op

    return member("softmax", params, build)


def _make_logsoftmax(axis: object = -1) -> Op:
    params = {"axis": _axis_param(axis)}
    if params == {"axis": -1}:
        return OPS["logsoftmax"]
    along = param_text((("axis", params["axis"]),))
    kept = along + ", keepdims=True"

    def forward(x: Array, axes: Axes) -> Array:
        shifted = _shifted(x, axes)
        result: Array = shifted - np.log(np.exp(shifted).sum(axis=axes, keepdims=True))
        return result

    def vjp(g: Array, ans: Array, x: Array, axes: Axes) -> Array:
        result: Array = g - np.exp(ans) * g.sum(axis=axes, keepdims=True)
        return result

    def expansion(make: FamilyMaker, x: Node) -> Node:
        # (x - max) - log(sum(exp(x - max))), the max and the sum along the axis
        z = _max_shift(make, x, axis)
        return make("sub", z, make("log", make.family("sum", make("exp", z), axis=axis, keepdims=True)))

    return member(
        "logsoftmax",
        params,
        lambda: _along_axis(
            "logsoftmax",
            params,
            forward=forward,
            vjp=vjp,
            scalar=0.0,
            local=f"g - softmax({{x}}{along})·sum(g{kept})",
            expansion=expansion,
        ),
    )


# --- the families -----------------------------------------------------------------------------

_AXIS = (("axis", None), ("keepdims", False))
_LAST_AXIS = (("axis", -1), ("keepdims", False))

deffamily("sum", _make_sum, params=_AXIS, callable_as=("sum",), methods=("sum",))
deffamily("mean", _make_mean, params=_AXIS, callable_as=("mean",), methods=("mean",))
deffamily("max", _make_max, params=_AXIS, callable_as=("amax", "max"), methods=("max",))
deffamily("min", _make_min, params=_AXIS, callable_as=("amin", "min"), methods=("min",))
deffamily("var", _make_var, params=(*_AXIS, ("ddof", 0)), callable_as=("var",), methods=("var",))
deffamily("std", _make_std, params=(*_AXIS, ("ddof", 0)), callable_as=("std",), methods=("std",))
deffamily("prod", _make_prod, params=_AXIS, callable_as=("prod",), methods=("prod",))
deffamily("norm", _make_norm, params=(("ord", None), *_AXIS), callable_as=("norm",))
deffamily("logsumexp", _make_logsumexp, params=_LAST_AXIS, callable_as=("logsumexp",))
deffamily("softmax", _make_softmax, params=(("axis", -1),), callable_as=("softmax",))
deffamily("logsoftmax", _make_logsoftmax, params=(("axis", -1),), callable_as=("logsoftmax", "log_softmax"))
