"""Convolution and pooling, the language of cs231n's CNN assignment: conv2d, maxpool2d, pad.

Arrays are (N, C, H, W), as in cs231n's `conv_forward_naive` and `max_pool_forward_naive`.
conv2d takes every window at once (`sliding_window_view`: im2col without a copy) into one
tensordot; maxpool2d compares the windows' elements offset by offset. Each VJP is exact and
loops at most over a window's offsets (HH·WW of them), never over elements: the gradient of
every window is added back at its place (col2im), so overlapping windows add up. maxpool2d
sends a window's gradient to its first largest element, row-major (np.argmax's choice, as
cs231n's naive backward does): at a tie, not shared.

The output size is floored, as numpy's naive loops floor it: H' = 1 + (H + 2·pad - HH) // stride.
(cs231n's assignment asserts that the division is exact; a window that would run past the
padded input is left out, and the rows and columns it would have reached get no gradient.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeGuard

from bpcli.core.ops.registry import REQUIRED, ShapeMismatch, Split, deffamily, make_op, member, param_text
from bpcli.lazy import np

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from bpcli.core.ops.registry import Op, Shape
    from bpcli.values import Array, Value

Pair = tuple[int, int]


# --- parameters -------------------------------------------------------------------------------


def _frozen(value: object) -> object:
    """A parameter as a hashable value: lists (as a caller may give them) become tuples."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _pair(func: str, name: str, value: object, least: int) -> Pair:
    """An int or a pair of ints (along H, along W), each at least `least`."""
    pair = (value, value) if _is_int(value) else value
    if isinstance(pair, tuple) and len(pair) == 2:
        first, second = pair
        if _is_int(first) and _is_int(second) and min(first, second) >= least:
            return (first, second)
    kind = "a positive int" if least > 0 else "a non-negative int"
    raise ShapeMismatch(f"{func}: {name} must be {kind} or a pair of them, not {value!r}")


def _shown(params: dict[str, object], defaults: tuple[tuple[str, object], ...]) -> str:
    """The parameters a label shows: those that differ from their defaults."""
    return param_text(tuple((k, params[k]) for k, default in defaults if params[k] != default))


def _size(n: int, k: int, stride: int) -> int:
    """The number of windows of size k, `stride` apart, along an axis of size n (floored)."""
    return 1 + (n - k) // stride


def _windows(x: Array, size: Pair, stride: Pair) -> Array:
    """Every (size) window of x's last two axes, `stride` apart: a view of x, shaped
    (N, C, H', W', HH, WW) (im2col without a copy)."""
    view: Array = np.lib.stride_tricks.sliding_window_view(x, size, axis=(2, 3))
    return view[:, :, :: stride[0], :: stride[1]]


def _places(size: Pair, stride: Pair, out: Shape) -> Iterator[tuple[int, int, tuple[slice, ...]]]:
    """For each offset (i, j) in a window, row-major (as np.argmax reads a window), where the
    element (i, j) of every window is: x[at] is shaped like the output (N, C, H', W')."""
    h, w = out[2:]
    for i in range(size[0]):
        for j in range(size[1]):
            rows = slice(i, i + stride[0] * (h - 1) + 1, stride[0])
            yield i, j, (slice(None), slice(None), rows, slice(j, j + stride[1] * (w - 1) + 1, stride[1]))


def _scatter(into: Array, cols: Array, stride: Pair) -> None:
    """col2im: add each window's values (cols, shaped (N, C, H', W', HH, WW)) into `into` at
    the place the window was taken from. One strided addition per kernel offset, so that
    overlapping windows add up."""
    for i, j, at in _places(cols.shape[4:], stride, cols.shape[:4]):
        into[at] += cols[:, :, :, :, i, j]


def _shape_text(shape: Shape) -> str:
    return str(tuple(shape)) if shape else "a scalar"


# --- conv2d -------------------------------------------------------------------------------------

CONV_PARAMS: tuple[tuple[str, object], ...] = (("stride", 1), ("pad", 0))


def _conv_shape_rule(stride: Pair, pad: Pair) -> Callable[[list[Shape]], Shape]:
    def rule(shapes: list[Shape]) -> Shape:
        x, w, b = shapes
        if len(x) != 4:
            raise ShapeMismatch(f"conv2d: x must be 4-D (N, C, H, W), not {_shape_text(x)}")
        if len(w) != 4:
            raise ShapeMismatch(f"conv2d: w must be 4-D (F, C, HH, WW), not {_shape_text(w)}")
        n, c, h, wd = x
        f, cw, hh, ww = w
        if c != cw:
            raise ShapeMismatch(
                f"conv2d: the channels differ: x has C={c} (axis 1 of {_shape_text(x)}),"
                f" w has {cw} (axis 1 of {_shape_text(w)})"
            )
        if b != (f,):
            raise ShapeMismatch(
                f"conv2d: b must have one bias per filter, shape ({f},), not {_shape_text(b)}"
            )
        hp, wp = h + 2 * pad[0], wd + 2 * pad[1]
        if hh > hp or ww > wp or hh == 0 or ww == 0:
            raise ShapeMismatch(
                f"conv2d: the kernel ({hh}×{ww}) does not fit in the padded input"
                f" ({hp}×{wp}: {h}×{wd} with pad={pad[0] if pad[0] == pad[1] else pad})"
            )
        return (n, f, _size(hp, hh, stride[0]), _size(wp, ww, stride[1]))

    return rule


def _padded(x: Array, pad: Pair) -> Array:
    if pad == (0, 0):
        return x
    result: Array = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    return result


def _make_conv2d(stride: object = 1, pad: object = 0) -> Op:
    given = {"stride": _frozen(stride), "pad": _frozen(pad)}

    def build() -> Op:
        s = _pair("conv2d", "stride", given["stride"], 1)
        p = _pair("conv2d", "pad", given["pad"], 0)
        rule = _conv_shape_rule(s, p)

        def forward(x: Array, w: Array, b: Array) -> Array:
            rule([np.shape(x), np.shape(w), np.shape(b)])
            windows = _windows(_padded(x, p), w.shape[2:], s)  # (N, C, H', W', HH, WW)
            out = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, H', W', F)
            out += b
            result: Array = np.ascontiguousarray(out.transpose(0, 3, 1, 2))
            return result

        def vjp_x(g: Array, ans: Array, x: Array, w: Array, b: Array) -> Array:
            cols = np.tensordot(g, w, axes=([1], [0]))  # (N, H', W', C, HH, WW): each window's gradient
            n, c, h, wd = x.shape
            grad: Array = np.zeros((n, c, h + 2 * p[0], wd + 2 * p[1]))
            _scatter(grad, cols.transpose(0, 3, 1, 2, 4, 5), s)
            return grad[:, :, p[0] : p[0] + h, p[1] : p[1] + wd] if p != (0, 0) else grad

        def vjp_w(g: Array, ans: Array, x: Array, w: Array, b: Array) -> Array:
            windows = _windows(_padded(x, p), w.shape[2:], s)
            result: Array = np.tensordot(g, windows, axes=([0, 2, 3], [0, 2, 3]))  # (F, C, HH, WW)
            return result

        def vjp_b(g: Array, ans: Array, x: Array, w: Array, b: Array) -> Array:
            result: Array = g.sum(axis=(0, 2, 3))
            return result

        params = tuple(given.items())
        op = make_op(
            "conv2d",
            arity=3,
            forward=Split(None, forward),
            vjp=(vjp_x, vjp_w, vjp_b),  # (arrays only: the inputs are never floats)
            local=(
                "each window's g scattered back through {y} (col2im)",
                "the sum over windows of g × that window of {x} (im2col)",
                "the sum of g over N, H', W'",
            ),
            template="conv2d({0}, {1}, {2}" + _shown(given, CONV_PARAMS) + ")",
            symbol="conv",
            shape=rule,
            callable_as=("conv2d", "conv_forward"),
            params=params,
            integer=True,
        )
        return op

    return member("conv2d", given, build)


# --- maxpool2d ----------------------------------------------------------------------------------

POOL_PARAMS: tuple[tuple[str, object], ...] = (("size", 2), ("stride", 2))


def _pool_shape_rule(size: Pair, stride: Pair) -> Callable[[list[Shape]], Shape]:
    def rule(shapes: list[Shape]) -> Shape:
        (x,) = shapes
        if len(x) != 4:
            raise ShapeMismatch(f"maxpool2d: x must be 4-D (N, C, H, W), not {_shape_text(x)}")
        n, c, h, w = x
        if size[0] > h or size[1] > w:
            raise ShapeMismatch(
                f"maxpool2d: the pool window ({size[0]}×{size[1]}) is larger than the input ({h}×{w})"
            )
        return (n, c, _size(h, size[0], stride[0]), _size(w, size[1], stride[1]))

    return rule


def _make_maxpool2d(size: object = 2, stride: object = 2) -> Op:
    given = {"size": _frozen(size), "stride": _frozen(stride)}

    def build() -> Op:
        k = _pair("maxpool2d", "size", given["size"], 1)
        s = _pair("maxpool2d", "stride", given["stride"], 1)
        rule = _pool_shape_rule(k, s)

        def forward(x: Array) -> Array:
            largest: Array = np.full(rule([np.shape(x)]), -np.inf)
            for _, _, at in _places(k, s, largest.shape):  # the largest so far, offset by offset
                np.maximum(largest, x[at], out=largest)
            return largest

        def vjp(g: Array, ans: Array, x: Array) -> Array:
            grad: Array = np.zeros(x.shape)
            found = np.zeros(ans.shape, dtype=bool)  # windows whose first largest element is found
            for _, _, at in _places(k, s, ans.shape):  # row-major, as np.argmax reads a window
                first = (x[at] == ans) & ~found
                found |= first
                grad[at] += np.where(first, g, 0.0)  # windows that overlap add up
            return grad

        def tied(x: Value) -> bool:
            """Whether some window holds its largest element more than once."""
            if isinstance(x, float) or x.ndim != 4:
                return False
            largest = forward(x)
            count = np.zeros(largest.shape, dtype=np.intp)
            for _, _, at in _places(k, s, largest.shape):
                count += x[at] == largest
            return bool((count > 1).any())

        op = make_op(
            "maxpool2d",
            arity=1,
            forward=Split(None, forward),
            vjp=(vjp,),
            local=("1 at the first largest element of each window, else 0 (windows that overlap add)",),
            template="maxpool2d({0}" + _shown(given, POOL_PARAMS) + ")",
            symbol="maxpool",
            gate="router",
            routes="largest",
            kink=tied,
            convention="convention.maxpool",
            shape=rule,
            callable_as=("maxpool2d", "max_pool", "max_pool_forward"),
            params=tuple(given.items()),
            integer=True,
        )
        return op

    return member("maxpool2d", given, build)


# --- pad ----------------------------------------------------------------------------------------

PAD_PARAMS: tuple[tuple[str, object], ...] = (
    ("pad_width", REQUIRED),
    ("mode", "constant"),
    ("constant_values", 0),
)
# np.pad's other modes: named as numpy names them when refused.
_NUMPY_PAD_MODES = (
    "edge",
    "linear_ramp",
    "maximum",
    "mean",
    "median",
    "minimum",
    "reflect",
    "symmetric",
    "wrap",
    "empty",
)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


Rows = tuple[tuple[Any, ...], ...]


def _rows(value: object, what: str, number: Callable[[object], bool]) -> Rows:
    """A pad_width or constant_values as rows of numbers, as numpy reads it before
    broadcasting it to (ndim, 2): a number is one row of one, a tuple of numbers one row, a
    tuple of tuples (each as long) its rows."""
    if number(value):
        return ((value,),)
    if isinstance(value, tuple) and value:
        if all(number(v) for v in value):
            return (value,)
        rows = tuple(v for v in value if isinstance(v, tuple) and v and all(number(u) for u in v))
        if len(rows) == len(value) and len({len(row) for row in rows}) == 1:
            return rows
    raise ShapeMismatch(
        f"np.pad: {what} must be a number, a pair (before, after) or one pair per axis, not {value!r}"
    )


def _per_axis(rows: Rows, ndim: int, what: str) -> list[tuple[Any, Any]]:
    """(before, after) for each of ndim axes: the rows broadcast to (ndim, 2), as numpy does."""
    if len(rows) not in (1, ndim) or len(rows[0]) not in (1, 2):
        given = rows[0][0] if rows == ((rows[0][0],),) else rows[0] if len(rows) == 1 else rows
        raise ShapeMismatch(
            f"np.pad: {what} {given!r} does not fit an array of {ndim} axes: give a number,"
            f" a pair (before, after) or {ndim} pairs"
        )
    pairs = [(row[0], row[-1]) for row in rows]
    return pairs * ndim if len(rows) == 1 else pairs


def _make_pad(pad_width: object = REQUIRED, mode: object = "constant", constant_values: object = 0) -> Op:
    if pad_width is REQUIRED:
        raise ShapeMismatch("np.pad needs pad_width: np.pad(x, 1) or np.pad(x, ((0, 0), (1, 1)))")
    given = {
        "pad_width": _frozen(pad_width),
        "mode": _frozen(mode),
        "constant_values": _frozen(constant_values),
    }
    if given["mode"] != "constant":
        if given["mode"] in _NUMPY_PAD_MODES:
            raise ShapeMismatch(f"np.pad mode {given['mode']!r} is not supported: only 'constant'")
        raise ShapeMismatch(f"np.pad has no mode {given['mode']!r} (bpcli supports only 'constant')")

    def build() -> Op:
        width = _rows(given["pad_width"], "pad_width", _is_int)
        values = _rows(given["constant_values"], "constant_values", _is_number)
        if any(v < 0 for row in width for v in row):
            raise ShapeMismatch(f"np.pad: pad_width cannot be negative: {given['pad_width']!r}")

        def rule(shapes: list[Shape]) -> Shape:
            (x,) = shapes
            if not x:
                raise ShapeMismatch("np.pad needs an array: a scalar has no axis to pad")
            pairs = _per_axis(width, len(x), "pad_width")
            _per_axis(values, len(x), "constant_values")
            return tuple(n + before + after for n, (before, after) in zip(x, pairs, strict=True))

        def forward(x: Array) -> Array:
            rule([x.shape])
            pairs = _per_axis(width, x.ndim, "pad_width")
            result: Array = np.pad(x, pairs, constant_values=_per_axis(values, x.ndim, "constant_values"))
            return result

        def vjp(g: Array, ans: Array, x: Array) -> Array:
            pairs = _per_axis(width, x.ndim, "pad_width")
            inside: Array = g[
                tuple(slice(before, before + n) for n, (before, _) in zip(x.shape, pairs, strict=True))
            ]
            return inside

        integral = not any(isinstance(v, float) for row in values for v in row)
        shown = ", " + repr(given["pad_width"]) + _shown(given, PAD_PARAMS[1:])
        op = make_op(
            "pad",
            arity=1,
            forward=Split(None, forward),
            vjp=(vjp,),
            local=("g with the padding cut off (1 for every element of {x})",),
            template="pad({0}" + shown + ")",
            shape=rule,
            callable_as=("pad",),
            params=tuple(given.items()),
            integer=integral,
        )
        return op

    return member("pad", given, build)


deffamily("conv2d", _make_conv2d, arrays=3, params=CONV_PARAMS, callable_as=("conv2d", "conv_forward"))
deffamily(
    "maxpool2d",
    _make_maxpool2d,
    arrays=1,
    params=POOL_PARAMS,
    callable_as=("maxpool2d", "max_pool", "max_pool_forward"),
)
deffamily("pad", _make_pad, arrays=1, params=PAD_PARAMS, callable_as=("pad",))
