"""numpy's array ops: comparisons and where, indexing and index assignment, shapes (reshape,
transpose, swapaxes, expand_dims, squeeze), concatenate and stack, copy, // and %.

An index is static (fixed when the program is read): ints, slices, None, Ellipsis and integer
arrays are parameters of the op; only a boolean mask computed by the program (`x[x > 0]`) is
an input, marked MASK in the index. The gradient of an index scatters back into zeros and
adds where an index repeats (np.add.at), as autograd and JAX do.
"""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING, Any, cast

from bpcli.core.ops.registry import (
    P_ATOM,
    P_MUL,
    REQUIRED,
    ShapeMismatch,
    Split,
    deffamily,
    defop,
    identity,
    make_op,
    param_text,
    shape_of,
    unbroadcast,
)
from bpcli.lazy import np

if TYPE_CHECKING:
    from collections.abc import Callable

    from bpcli.core.ops.registry import Op, Shape
    from bpcli.values import Array, Value

    Index = tuple[Any, ...]  # a static index: ints, slices, None, Ellipsis, integer arrays, MASK

P_COMPARE = 0  # a comparison binds more loosely than any arithmetic


class _Mask:
    """Where a boolean mask, an input of the index op, stands in a static index."""

    def __repr__(self) -> str:
        return "MASK"


MASK = _Mask()

# --- comparisons: boolean arrays (held as 0.0/1.0), no gradient -------------------------------


def _zero_like(x: Value) -> Value:
    return 0.0 if type(x) is float else np.zeros(shape_of(x))


def _comparison(name: str, symbol: str, scalar: Callable[[float, float], bool], ufunc: str) -> None:
    def array(x: Value, y: Value) -> Array:
        result: Array = getattr(np, ufunc)(x, y).astype(float)
        return result

    defop(
        name,
        arity=2,
        forward=Split(lambda x, y: float(scalar(x, y)), array),
        vjp=(lambda g, ans, x, y: _zero_like(x), lambda g, ans, x, y: _zero_like(y)),
        local=("0", "0"),
        infix=f" {symbol} ",
        prec=P_COMPARE,
        broadcast=True,
        elementwise=True,
        differentiable=False,
        boolean=True,
    )


_comparison("gt", ">", operator.gt, "greater")
_comparison("ge", ">=", operator.ge, "greater_equal")
_comparison("lt", "<", operator.lt, "less")
_comparison("le", "<=", operator.le, "less_equal")
_comparison("eq", "==", operator.eq, "equal")
_comparison("ne", "!=", operator.ne, "not_equal")

COMPARISONS = {">": "gt", ">=": "ge", "<": "lt", "<=": "le", "==": "eq", "!=": "ne"}


def _where(c: Value, x: Value, y: Value) -> Value:
    if type(c) is float and type(x) is float and type(y) is float:
        return x if c else y
    result: Array = np.where(np.asarray(c) != 0, x, y)
    return result


def _chosen(c: Value, g: Value, taken: bool) -> Value:
    if type(c) is float and type(g) is float:
        return g if bool(c) == taken else 0.0
    mask = np.asarray(c) != 0
    result: Array = np.where(mask if taken else ~mask, g, 0.0)
    return result


defop(
    "where",
    arity=3,
    forward=_where,
    vjp=(
        lambda g, ans, c, x, y: _zero_like(c),
        lambda g, ans, c, x, y: _chosen(c, g, True),
        lambda g, ans, c, x, y: _chosen(c, g, False),
    ),
    local=("0", "1 where {x} holds, else 0", "0 where {x} holds, else 1"),
    gate="router",
    broadcast=True,
    elementwise=True,
    callable_as=("where",),
    logical=True,
)

# --- // and %: integer arithmetic on shapes, and numpy's on floats ----------------------------


def _floordiv(x: Value, y: Value) -> Value:
    if type(x) is float and type(y) is float:
        return float(x // y)  # ZeroDivisionError at y = 0
    if np.any(np.asarray(y) == 0):
        raise ZeroDivisionError("integer division by zero")
    result: Array = np.floor_divide(x, y)
    return result


def _mod(x: Value, y: Value) -> Value:
    if type(x) is float and type(y) is float:
        return float(x % y)
    if np.any(np.asarray(y) == 0):
        raise ZeroDivisionError("modulo by zero")
    result: Array = np.mod(x, y)
    return result


defop(
    "floordiv",
    arity=2,
    forward=_floordiv,
    vjp=(lambda g, ans, x, y: _zero_like(x), lambda g, ans, x, y: _zero_like(y)),
    local=("0", "0"),
    infix=" // ",
    prec=P_MUL,
    broadcast=True,
    elementwise=True,
    integer=True,
)
defop(
    "mod",
    arity=2,
    forward=_mod,
    vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: -g * _floordiv(x, y)),
    local=("1", "-floor({x}/{y})"),
    infix=" % ",
    prec=P_MUL,
    broadcast=True,
    elementwise=True,
    integer=True,
)

# --- indexing -----------------------------------------------------------------------------------


def _full_index(index: Index, masks: tuple[Value, ...]) -> Index:
    """The static index with each MASK replaced by its boolean array."""
    if not masks:
        return index
    it = iter(masks)
    return tuple(np.asarray(next(it)) != 0 if part is MASK else part for part in index)


def _numpy_index(do: Callable[[], Value]) -> Value:
    """numpy's IndexError (index 5 is out of bounds for axis 0 with size 3) as a shape problem."""
    try:
        return do()
    except IndexError as err:
        raise ShapeMismatch(str(err)) from None


def _static_shape(shape: Shape, index: Index) -> Shape:
    """The shape of x[index] for an x of this shape, without touching any data."""
    probe = np.lib.stride_tricks.as_strided(np.zeros(1, dtype=bool), shape, (0,) * len(shape))
    try:
        result: Shape = probe[index].shape
    except (IndexError, ValueError) as err:  # (slice step cannot be zero)
        raise ShapeMismatch(str(err)) from None
    return result


def _is_basic(index: Index) -> bool:
    return all(isinstance(part, int | slice) or part is None or part is Ellipsis for part in index)


def getitem(index: Index, text: str) -> Op:
    """x[index]: `text` is the index as written (a label writes x[text])."""
    masks = sum(1 for part in index if part is MASK)

    def forward(x: Value, *ms: Value) -> Value:
        if type(x) is float:
            raise ShapeMismatch("a scalar cannot be indexed (it has no axes)")
        full = _full_index(index, ms)
        array = cast("Array", x)
        return _numpy_index(lambda: array[full])

    def vjp_x(g: Value, ans: Value, x: Value, *ms: Value) -> Value:
        full = _full_index(index, ms)
        result = np.zeros(shape_of(x))
        if _is_basic(index):
            result[full] = g  # a basic index names each element once
        else:
            np.add.at(result, full, g)  # repeated indices add up
        return result

    def vjp_mask(g: Value, ans: Value, x: Value, *ms: Value) -> Value:
        return np.zeros(shape_of(ms[0]))

    def shape(shapes: list[Shape]) -> Shape:
        if not shapes[0]:
            raise ShapeMismatch("a scalar cannot be indexed (it has no axes)")
        return _static_shape(shapes[0], index)

    return make_op(
        "index",
        arity=1 + masks,
        forward=Split(None, forward),
        vjp=(vjp_x, *(vjp_mask,) * masks),
        local=(f"g scattered into zeros at [{text}], adding where an index repeats",) + ("0",) * masks,
        template="{0}[" + text + "]",
        slots=(P_ATOM,) + (0,) * masks,
        symbol=f"[{text}]",
        gate="scatter",
        shape=None if masks else shape,
        params=(("index", text),),
        integer=True,
        logical=True,
        view=_is_basic(index),
    )


def setitem(index: Index, text: str) -> Op:
    """x with x[index] = v, as a new array (JAX's x.at[index].set(v))."""
    masks = sum(1 for part in index if part is MASK)

    def forward(x: Value, v: Value, *ms: Value) -> Value:
        if type(x) is float:
            raise ShapeMismatch("a scalar cannot be indexed (it has no axes)")
        full = _full_index(index, ms)
        result = np.array(x, dtype=float)

        def assign() -> Array:
            result[full] = v
            return result

        try:
            return _numpy_index(assign)
        except ValueError as err:  # could not broadcast input array from shape …
            raise ShapeMismatch(str(err)) from None

    def vjp_x(g: Value, ans: Value, x: Value, v: Value, *ms: Value) -> Value:
        result = np.array(g, dtype=float)
        result[_full_index(index, ms)] = 0.0  # the overwritten part passes nothing back
        return result

    def vjp_v(g: Value, ans: Value, x: Value, v: Value, *ms: Value) -> Value:
        full = _full_index(index, ms)
        picked = np.asarray(g)[full]
        if not _is_basic(index):
            # where an index repeats, numpy keeps the last write: only it reaches f
            slots = np.full(shape_of(x), -1)
            order = np.arange(picked.size).reshape(picked.shape)
            slots[full] = order
            picked = np.where(slots[full] == order, picked, 0.0)
        extra = np.ndim(v) - np.ndim(picked)  # v = [[5, 6]] set into a row: a leading 1 more
        if extra > 0:
            picked = np.reshape(picked, (1,) * extra + np.shape(picked))
        return unbroadcast(picked, v)

    def vjp_mask(g: Value, ans: Value, x: Value, v: Value, *ms: Value) -> Value:
        return np.zeros(shape_of(ms[0]))

    return make_op(
        "set",
        arity=2 + masks,
        forward=Split(None, forward),
        vjp=(vjp_x, vjp_v, *(vjp_mask,) * masks),
        local=(f"g with zeros at [{text}] (overwritten)", f"g[{text}]") + ("0",) * masks,
        template="{0}.at[" + text + "].set({1})",
        slots=(P_ATOM, 0) + (0,) * masks,
        symbol=f"[{text}]=",
        gate="",
        shape=None if masks else (lambda shapes: shapes[0]),
        params=(("index", text),),
        integer=True,
        logical=True,
    )


# --- shapes: views that only rearrange ----------------------------------------------------------


def _axis(axis: object, ndim: int) -> int:
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise ShapeMismatch(f"an axis is an integer, not {axis!r}")
    if not -ndim <= axis < ndim:
        raise ShapeMismatch(f"axis {axis} is out of bounds for array of dimension {ndim}")
    return axis % ndim


def _as_shape(shape: object) -> tuple[int, ...]:
    if isinstance(shape, int) and not isinstance(shape, bool):
        return (shape,)
    if isinstance(shape, tuple | list) and all(isinstance(n, int) and not isinstance(n, bool) for n in shape):
        return tuple(shape)
    raise ShapeMismatch(f"a shape is an integer or a tuple of integers, not {shape!r}")


def _reshaped(old: Shape, new: tuple[int, ...]) -> Shape:
    size = math.prod(old)
    unknown = [i for i, n in enumerate(new) if n == -1]
    if len(unknown) > 1:
        raise ShapeMismatch("can only specify one unknown dimension")
    if any(n < -1 for n in new):
        raise ShapeMismatch(f"negative dimensions not allowed: {new}")
    known = math.prod(n for n in new if n != -1)
    if unknown:
        if known == 0 or size % known:
            raise ShapeMismatch(f"cannot reshape array of size {size} into shape {_shape_text(new)}")
        new = tuple(size // known if n == -1 else n for n in new)
    elif known != size:
        raise ShapeMismatch(f"cannot reshape array of size {size} into shape {_shape_text(new)}")
    return new


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _rearranger(
    name: str,
    template: str,
    params: tuple[tuple[str, object], ...],
    shape: Callable[[Shape], Shape],
    forward: Callable[[Array], Array],
    backward: Callable[[Array, Shape], Array],
    local: str,
    view: bool = True,
) -> Op:
    """An op that only moves elements: its VJP moves the gradient back (`backward(g, x's shape)`)."""

    def array(x: Value) -> Value:
        shape_rule([shape_of(x)])
        return forward(np.asarray(x, dtype=float))

    def shape_rule(shapes: list[Shape]) -> Shape:
        return shape(shapes[0])

    return make_op(
        name,
        arity=1,
        forward=Split(None, array),
        vjp=(lambda g, ans, x: backward(np.asarray(g), shape_of(x)),),
        local=(local,),
        template=template,
        slots=(P_ATOM,),
        gate="rearranger",
        shape=shape_rule,
        params=params,
        integer=True,
        logical=True,
        view=view,
    )


def _reshape(shape: object = REQUIRED, order: str = "C") -> Op:
    if order != "C":
        raise ShapeMismatch("reshape: only order='C' is supported")
    new = _as_shape(shape)
    return _rearranger(
        "reshape",
        "{0}.reshape" + _shape_text(new).replace(",)", ")"),
        (("shape", new),),
        lambda old: _reshaped(old, new),
        lambda x: x.reshape(new),
        lambda g, old: g.reshape(old),
        "g reshaped back",
    )


def _flatten(copy: bool) -> Callable[[], Op]:
    def make() -> Op:
        return _rearranger(
            "reshape",
            "{0}.flatten()" if copy else "{0}.ravel()",
            (),
            lambda old: (math.prod(old),),
            lambda x: x.reshape(-1),
            lambda g, old: g.reshape(old),
            "g reshaped back",
            view=not copy,
        )

    return make


def _permutation(axes: object, ndim: int) -> tuple[int, ...]:
    perm = tuple(_axis(a, ndim) for a in _as_shape(axes))
    if sorted(perm) != list(range(ndim)):
        raise ShapeMismatch("axes don't match array")
    return perm


def _transpose(axes: object = None) -> Op:
    from bpcli.core.ops.registry import OPS

    if axes is None or axes == ():
        return OPS["transpose"]
    given = _as_shape(axes)

    def perm(old: Shape) -> tuple[int, ...]:
        if len(given) != len(old):
            raise ShapeMismatch("axes don't match array")
        return _permutation(given, len(old))

    return _rearranger(
        "transpose",
        "{0}.transpose" + _shape_text(given).replace(",)", ")"),
        (("axes", given),),
        lambda old: tuple(old[a] for a in perm(old)),
        lambda x: x.transpose(perm(x.shape)),
        lambda g, old: g.transpose(np.argsort(perm(old))),
        "g transposed back",
    )


def _swapaxes(axis1: object = REQUIRED, axis2: object = REQUIRED) -> Op:
    def perm(old: Shape) -> list[int]:
        a, b = _axis(axis1, len(old)), _axis(axis2, len(old))
        order = list(range(len(old)))
        order[a], order[b] = order[b], order[a]
        return order

    return _rearranger(
        "swapaxes",
        f"swapaxes({{0}}, {axis1!r}, {axis2!r})",
        (("axis1", axis1), ("axis2", axis2)),
        lambda old: tuple(old[a] for a in perm(old)),
        lambda x: x.transpose(perm(x.shape)),
        lambda g, old: g.transpose(perm(old)),
        "g with the two axes swapped back",
    )


def _expand_dims(axis: object = REQUIRED) -> Op:
    axes = _as_shape(axis)

    def new_shape(old: Shape) -> Shape:
        ndim = len(old) + len(axes)
        where = sorted(_axis(a, ndim) for a in axes)
        if len(set(where)) != len(where):
            raise ShapeMismatch("repeated axis")
        rest = iter(old)
        return tuple(1 if i in where else next(rest) for i in range(ndim))

    return _rearranger(
        "expand_dims",
        f"expand_dims({{0}}, {axis!r})",
        (("axis", axis),),
        new_shape,
        lambda x: x.reshape(new_shape(x.shape)),
        lambda g, old: g.reshape(old),
        "g reshaped back",
    )


def _squeeze(axis: object = None) -> Op:
    def new_shape(old: Shape) -> Shape:
        if axis is None:
            return tuple(n for n in old if n != 1)
        where = {_axis(a, len(old)) for a in _as_shape(axis)}
        for a in where:
            if old[a] != 1:
                raise ShapeMismatch("cannot select an axis to squeeze out which has size not equal to one")
        return tuple(n for i, n in enumerate(old) if i not in where)

    return _rearranger(
        "squeeze",
        "squeeze({0})" if axis is None else f"squeeze({{0}}, {axis!r})",
        (("axis", axis),),
        new_shape,
        lambda x: x.reshape(new_shape(x.shape)),
        lambda g, old: g.reshape(old),
        "g reshaped back",
    )


deffamily(
    "reshape",
    _reshape,
    params=(("shape", REQUIRED), ("order", "C")),
    callable_as=("reshape",),
    methods=("reshape",),
    packs="shape",
)
deffamily("flatten", _flatten(True), methods=("flatten",))
deffamily("ravel", _flatten(False), callable_as=("ravel",), methods=("ravel",))
deffamily(
    "transpose",
    _transpose,
    params=(("axes", None),),
    callable_as=("transpose",),
    methods=("transpose",),
    packs="axes",
)
deffamily(
    "swapaxes",
    _swapaxes,
    params=(("axis1", REQUIRED), ("axis2", REQUIRED)),
    callable_as=("swapaxes",),
    methods=("swapaxes",),
)
deffamily("expand_dims", _expand_dims, params=(("axis", REQUIRED),), callable_as=("expand_dims",))
deffamily("squeeze", _squeeze, params=(("axis", None),), callable_as=("squeeze",), methods=("squeeze",))

# --- copies --------------------------------------------------------------------------------------

COPY = defop(
    "copy",
    arity=1,
    forward=identity,
    vjp=(lambda g, ans, x: g,),
    local=("1",),
    template="{0}.copy()",
    symbol="copy",
    elementwise=True,
    integer=True,
    logical=True,
)
deffamily("copy", lambda: COPY, callable_as=("copy",), methods=("copy",))

# --- joining: concatenate and stack ----------------------------------------------------------------


def _join_shape(shapes: list[Shape], axis: object, new_axis: bool) -> Shape:
    if not shapes:
        raise ShapeMismatch("need at least one array to concatenate")
    first = shapes[0]
    if new_axis:
        if any(s != first for s in shapes):
            raise ShapeMismatch("all input arrays must have the same shape")
        where = _axis(axis, len(first) + 1)
        return (*first[:where], len(shapes), *first[where:])
    if not first:
        raise ShapeMismatch("zero-dimensional arrays cannot be concatenated")
    where = _axis(axis, len(first))
    for s in shapes[1:]:
        if len(s) != len(first):
            raise ShapeMismatch(
                "all the input array dimensions except for the concatenation axis must match exactly,"
                f" but the arrays have {len(first)} and {len(s)} dimensions"
            )
        for i, (m, n) in enumerate(zip(first, s, strict=True)):
            if i != where and m != n:
                raise ShapeMismatch(
                    "all the input array dimensions except for the concatenation axis must match"
                    f" exactly, but along dimension {i}, the array at index 0 has size {m} and the"
                    f" other has size {n}"
                )
    return (*first[:where], sum(s[where] for s in shapes), *first[where + 1 :])


class _Pieces:
    """The VJPs of a join: input i gets its own piece of the gradient back."""

    def __init__(self, axis: object, new_axis: bool) -> None:
        self.axis, self.new_axis = axis, new_axis

    def __getitem__(self, i: int) -> Callable[[Array, Array, list[Value]], Value]:
        def vjp(g: Array, ans: Array, xs: list[Value]) -> Value:
            if self.new_axis:
                piece = np.take(g, i, axis=_axis(self.axis, g.ndim))
                return float(piece) if type(xs[i]) is float else piece
            where = _axis(self.axis, g.ndim)
            start = sum(shape_of(x)[where] for x in xs[:i])
            index = [slice(None)] * g.ndim
            index[where] = slice(start, start + shape_of(xs[i])[where])
            result: Array = g[tuple(index)]
            return result

        return vjp


def _join(new_axis: bool) -> Callable[..., Op]:
    name = "stack" if new_axis else "concatenate"

    def make(axis: object = 0) -> Op:
        def forward(*xs: Value) -> Array:
            _join_shape([shape_of(x) for x in xs], axis, new_axis)
            arrays = [np.asarray(x, dtype=float) for x in xs]
            where = cast("int", axis)
            result: Array = np.stack(arrays, where) if new_axis else np.concatenate(arrays, where)
            return result

        return make_op(
            name,
            arity=-1,
            forward=Split(None, forward),
            vjp=_Pieces(axis, new_axis),
            local=(),
            template=f"{name}([…]{param_text((('axis', axis),))})",
            symbol=name,
            gate="rearranger",  # each element of the result is one element of an input, moved
            shape=lambda shapes: _join_shape(shapes, axis, new_axis),
            params=(("axis", axis),),
            integer=True,
            logical=True,
        )

    return make


deffamily("concatenate", _join(False), arrays=-1, params=(("axis", 0),), callable_as=("concatenate",))
deffamily("stack", _join(True), arrays=-1, params=(("axis", 0),), callable_as=("stack",))
