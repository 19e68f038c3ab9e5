"""numpy's functions, methods and attributes, as a program calls them.

A call reaches one of three things:
- an op family (np.sum(x, axis=1), x.reshape(N, -1)): its arguments are bound as numpy
  binds them, the arrays become the gate's inputs and the rest its static parameters;
- a registered op (exp, log, maximum, where), or the lecture's two-input max(a, b);
- a function that makes a static value or picks an op by shape (zeros, arange, len, split,
  dot): those are here, each a few lines.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from typing import TYPE_CHECKING, Any

from bpcli.core.graph import CONST, INPUT, Node
from bpcli.core.ops import CALLS, FUNCTIONS, METHODS, OPS, REDUCTIONS, REQUIRED, Family, load_all
from bpcli.errors import BpcliError
from bpcli.language.statics import Display, Function, Keyword, Method, Namespace, Use, describe
from bpcli.lazy import np
from bpcli.limits import shape_problem

if TYPE_CHECKING:
    from collections.abc import Callable

    from bpcli.language.builder import Builder
    from bpcli.language.lalr import Token

load_all()  # a numpy call: its ops are registered now
STACK = OPS["stack"]
MAX_ROWS = 10_000  # the most rows of an array a join takes as its list of arrays
NUMPY_CONSTANTS = {"pi": math.pi, "e": math.e, "inf": math.inf, "newaxis": None}
FLOAT_TYPES = ("float", "float64", "float32", "double")
INT_TYPES = ("int", "int64", "int32", "intp")


def known(name: str) -> bool:
    """Whether a bare name is a function a program may call."""
    return name in SPECIAL or name in CALLS or name in FUNCTIONS or name in REDUCTIONS


def attribute(b: Builder, owner: Use, name: str, token: Token) -> Any:
    """owner.name: a member of np, an array's shape or .T, or a method to be called."""
    item, start, _ = owner
    if isinstance(item, Namespace):
        return _member(b, item, name, token)
    if isinstance(item, Function | Method):
        raise b._error(f"{describe(item)} has no attribute {name}", token.start_pos)
    if type(item) is Node and item.op is INPUT and str(item.name) in b.unbound:  # self.params, X.shape
        b.shape(owner)  # (says there is no value for it)
    if name == "dtype":
        return "float64"
    if name == "T":
        if type(item) is Node:
            return b.call_op(OPS["transpose"], (item,), start, token.end_pos)
        return np.transpose(b.static(owner))
    if name in ("shape", "ndim", "size"):
        shape = b.shape(owner)
        return shape if name == "shape" else len(shape) if name == "ndim" else math.prod(shape)
    if name in METHODS or name in SPECIAL_METHODS:
        return Method(owner, name)
    raise b._error(
        f"an array has no attribute {name}",
        token.start_pos,
        hint=_close(name, [*METHODS, *SPECIAL_METHODS, "T", "shape", "ndim", "size"]),
    )


def _member(b: Builder, space: Namespace, name: str, token: Token) -> Any:
    if space.name == "np":
        if name in NUMPY_CONSTANTS:
            return NUMPY_CONSTANTS[name]
        if name in ("linalg", "random"):
            return Namespace(f"np.{name}")
        if name in FLOAT_TYPES or name in INT_TYPES or name == "bool_":
            return Function(name.rstrip("_"), qualified=True)
        if known(name):
            return Function(name, qualified=True)
    elif space.name == "np.linalg" and name == "norm":
        return Function("norm", qualified=True)
    elif space.name == "np.random":
        from bpcli.language import randomness

        if randomness.known(name):
            return Function(f"random.{name}", qualified=True)
        raise randomness.unknown(b, name, token.start_pos)
    raise b._error(
        f"{space.name}.{name} is not a function bpcli knows",
        token.start_pos,
        hint=_close(name, [*SPECIAL, *CALLS, *FUNCTIONS]),
    )


def _product_without_star(b: Builder, item: Node, start: int, end: int) -> BpcliError:
    """A value written right before parentheses, as algebra writes a product: 3(x+1), the
    call from `start` to `end`."""
    source = b.source
    opening, depth = end - 1, 0  # the call's own "(": back from its ")" at the end
    while opening > start:
        depth += {")": 1, "(": -1}.get(source[opening], 0)
        if depth == 0:
            break
        opening -= 1
    what = "a number" if item.op is CONST else "a value"
    written = " ".join(source[start:opening].split())
    return b._error(
        f"{written} is {what}, not a function",
        start,
        hint=f"bpcli needs * for a product: {written}*{' '.join(source[opening:end].split())}",
    )


def call(b: Builder, callee: Use, args: list[Any], start: int, end: int) -> Any:
    """callee(args): the value of a call (a node, or a static value)."""
    positional: list[Use] = []
    keywords: list[Keyword] = []
    for arg in args:
        if isinstance(arg, Keyword):
            keywords.append(arg)
        elif keywords:
            raise b._error("a positional argument follows a keyword argument", arg[1])
        else:
            positional.append(arg)
    item = callee[0]
    if type(item) is Node and item.op is INPUT and b.unbound.get(str(item.name)) == callee[1]:
        del b.unbound[str(item.name)]  # `expp(x)`: not a name with no value, a misspelt function
        raise b._error(
            f"unknown function {item.name}",
            start,
            hint=_close(str(item.name), [*SPECIAL, *CALLS, *FUNCTIONS]),
        )
    if isinstance(item, Method):
        return _method(b, item, positional, keywords, start, end)
    if type(item) is Node:  # 3(x+1), (x+1)(x-1): a product without its *
        raise _product_without_star(b, item, start, end)
    if not isinstance(item, Function):
        raise b._error(f"{describe(item)} is not a function", start)
    name = item.name
    if name in ("max", "min") and not item.qualified and len(positional) == 2 and not keywords:
        return _op(b, name, FUNCTIONS[name], positional, keywords, start, end)  # the lecture's gate
    if name in SPECIAL:
        return SPECIAL[name](b, positional, keywords, start, end)
    if name.startswith("random."):  # np.random.rand(3, 4): drawn now (bpcli.language.randomness)
        from bpcli.language import randomness

        return randomness.call(b, name[len("random.") :], positional, keywords, start, end)
    if name in CALLS:
        return _family(b, CALLS[name], name, positional, keywords, start, end)
    if name in REDUCTIONS and len(positional) == 1 and not keywords:
        return _op(b, name, REDUCTIONS[name], positional, keywords, start, end)
    if name in FUNCTIONS:
        return _op(b, name, FUNCTIONS[name], positional, keywords, start, end)
    raise b._error(f"unknown function {name}", start, hint=_close(name, [*SPECIAL, *CALLS, *FUNCTIONS]))


def _op(
    b: Builder, name: str, op_name: str, positional: list[Use], keywords: list[Keyword], start: int, end: int
) -> Node:
    op = OPS[op_name]
    if keywords:
        raise b._error(f"{name}() takes no keyword arguments", keywords[0].use[1] - len(keywords[0].name) - 1)
    if len(positional) != op.arity:
        wanted = "1 or 2 arguments" if name in REDUCTIONS else _plural(op.arity, "argument")
        raise b._error(f"{name} takes {wanted}, not {len(positional)}", start)
    return b.call_op(op, tuple(b.as_node(u) for u in positional), start, end)


def _family(
    b: Builder,
    family: Family,
    name: str,
    positional: list[Use],
    keywords: list[Keyword],
    start: int,
    end: int,
    method: bool = False,
) -> Any:
    """A call of an op family, its arguments bound as numpy binds them."""
    if family.arrays < 0:
        first = positional[0][0] if positional else None
        if isinstance(first, Display) and not first.items:
            raise b._error(f"{name} needs at least one array to join", start)
        if type(first) is Node and first.op is STACK and not first.name:
            inputs = list(first.inputs)  # [a, b] made an array literal: its elements are the list
            b.spent.add(first.id)  # (dropped when the graph is done, unless something uses it)
        elif isinstance(first, Display):
            inputs = [b.as_node(u) for u in first.items]
        elif type(first) is Node:  # an array: numpy takes it as the list of its rows
            rows = b.shape(positional[0])
            if not rows or rows[0] > MAX_ROWS:
                raise b._error(f"{name} takes a list of arrays: {name}([a, b], axis=1)", start)
            inputs = [b._index_node(positional[0], (i,), str(i), start, end) for i in range(rows[0])]
        else:
            raise b._error(f"{name} takes a list of arrays: {name}([a, b], axis=1)", start)
        rest = positional[1:]
    else:
        if len(positional) < family.arrays:
            raise b._error(f"{name} takes {_plural(family.arrays, 'array')}, not {len(positional)}", start)
        inputs = [b.as_node(u) for u in positional[: family.arrays]]
        rest = positional[family.arrays :]
    names = [p for p, _ in family.params]
    if method and family.packs and names and names[0] == family.packs and len(rest) > 1:
        rest = [(Display(rest, "tuple"), rest[0][1], rest[-1][2])]  # x.reshape(N, -1)
    if len(rest) > len(names):
        raise b._error(
            f"{name} takes at most {_plural(len(names), 'parameter')} after its arrays", rest[0][1]
        )
    given: dict[str, Use] = dict(zip(names, rest, strict=False))
    for keyword in keywords:
        if keyword.name not in names and _harmless(b, keyword):
            continue
        if keyword.name not in names:
            raise b._error(
                f"{name}() got an unexpected keyword argument {keyword.name!r}",
                keyword.use[1],
                hint=f"it takes {', '.join(names)}" if names else None,
            )
        if keyword.name in given:
            raise b._error(f"{name}() got multiple values for argument {keyword.name!r}", keyword.use[1])
        given[keyword.name] = keyword.use
    params: dict[str, object] = {}
    for pname, default in family.params:
        if pname in given:
            params[pname] = _parameter(b, given[pname])
        elif default is REQUIRED:
            raise b._error(f"{name}() missing required argument {pname!r}", start)
        else:
            params[pname] = default
    op = b._family_op(lambda: family(**params), start)
    return b.call_op(op, tuple(inputs), start, end)


def _parameter(b: Builder, use: Use) -> object:
    """A static parameter: integers where they are integral (axis=1.0 is axis 1)."""
    value = _plain(b.static(use))
    if isinstance(value, Function) and value.name in FLOAT_TYPES:
        return float
    try:
        return b.integers((value, use[1], use[2]), "a parameter")
    except BpcliError:  # a float such as constant_values=0.5 stays as it is
        return value


def _plain(value: object) -> object:
    """A parameter as numpy's functions take it: a list or an array of numbers as a tuple
    (x.transpose([1, 0]), reshape(x, [3, 2]) take one as they take (1, 0))."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return value


def _method(
    b: Builder, method: Method, positional: list[Use], keywords: list[Keyword], start: int, end: int
) -> Any:
    name = method.name
    if name in SPECIAL_METHODS:
        return SPECIAL_METHODS[name](b, [method.owner, *positional], keywords, start, end)
    return _family(b, METHODS[name], name, [method.owner, *positional], keywords, start, end, method=True)


# --- functions that make static values, or choose an op by shape ---------------------------------


def _arguments(
    b: Builder,
    name: str,
    positional: list[Use],
    keywords: list[Keyword],
    params: tuple[str, ...],
    required: int,
    start: int,
) -> list[Use | None]:
    """Arguments bound to `params` by position or keyword; the first `required` must be given."""
    if len(positional) > len(params):
        raise b._error(f"{name}() takes at most {_plural(len(params), 'argument')}", start)
    bound: list[Use | None] = [*positional, *[None] * (len(params) - len(positional))]
    for keyword in keywords:
        if keyword.name not in params and _harmless(b, keyword):
            continue
        if keyword.name not in params:
            raise b._error(f"{name}() got an unexpected keyword argument {keyword.name!r}", keyword.use[1])
        bound[params.index(keyword.name)] = keyword.use
    for i in range(required):
        if bound[i] is None:
            raise b._error(f"{name}() missing required argument {params[i]!r}", start)
    return bound


# numpy's keywords that leave a float64 result as it is: accepted and passed over
HARMLESS = frozenset({"copy", "order", "casting", "subok", "dtype"})


def _harmless(b: Builder, keyword: Keyword) -> bool:
    """Whether a keyword a call does not take changes nothing here (copy=False, dtype=x.dtype)."""
    if keyword.name not in HARMLESS:
        return False
    if keyword.name != "dtype":
        return True
    kind = b.static(keyword.use)
    name = kind.name if isinstance(kind, Function) else kind if isinstance(kind, str) else None
    return name in FLOAT_TYPES


def _shape_argument(b: Builder, use: Use) -> tuple[int, ...]:
    shape = b.integers(use, "a shape")
    if isinstance(shape, int):
        shape = (shape,)
    if not isinstance(shape, tuple | list) or not all(isinstance(n, int) for n in shape):
        raise b._error(f"a shape is an integer or a tuple of integers, not {describe(shape)}", use[1])
    if any(n < 0 for n in shape):
        raise b._error(f"negative dimensions are not allowed: {tuple(shape)}", use[1])
    if any(n > b.max_elements for n in shape):
        largest = max(shape)
        size = f"{largest:,}" if largest < 10**15 else f"about {float(largest):.3g}"
        raise b._shape_error(f"the array would be too big: an axis of {size} elements", use[1])
    problem = shape_problem(tuple(shape), b.max_elements)
    if problem is not None:
        raise b._shape_error(f"the array would be too big: {problem[0]}", use[1], hint=problem[1])
    return tuple(shape)


def _filled(value: float) -> Callable[..., Any]:
    def make(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
        shape, _ = _arguments(b, "zeros", positional, keywords, ("shape", "dtype"), 1, start)
        assert shape is not None
        return np.full(_shape_argument(b, shape), value)

    return make


def _full(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    shape, fill, _ = _arguments(b, "full", positional, keywords, ("shape", "fill_value", "dtype"), 2, start)
    assert shape is not None and fill is not None
    return _fill(b, _shape_argument(b, shape), fill, start, end)


def _fill(b: Builder, shape: tuple[int, ...], fill: Use, start: int, end: int) -> Any:
    if type(fill[0]) is Node:  # full(shape, w): w copied to every element, with its gradient
        ones = b.as_node((np.ones(shape) if shape else 1.0, start, end))
        return b._node(OPS["mul"], (ones, fill[0]), start, end)
    return np.full(shape, b.static(fill), dtype=float)


def _like(value: float | None) -> Callable[..., Any]:
    def make(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
        params = ("a", "dtype") if value is not None else ("a", "fill_value", "dtype")
        bound = _arguments(b, "zeros_like", positional, keywords, params, len(params) - 1, start)
        assert bound[0] is not None
        shape = b.shape(bound[0])
        if value is None:
            assert bound[1] is not None
            return _fill(b, shape, bound[1], start, end)
        return np.full(shape, value) if shape else value

    return make


def _arange(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    bound = _arguments(b, "arange", positional, keywords, ("start", "stop", "step"), 1, start)
    values = [b.static(u) for u in bound if u is not None]
    with contextlib.suppress(BpcliError):  # float bounds make a float range
        values = [b.integers((v, start, end), "a bound") for v in values]
    try:
        count = len(range(*values)) if all(isinstance(v, int) for v in values) else None
        if count is None:
            first, stop, step = (0.0, *values, 1.0)[-3:] if len(values) == 1 else (*values, 1.0)[:3]
            count = max(0, math.ceil((float(stop) - float(first)) / float(step)))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError) as err:
        raise b._error(f"arange: {err}", start) from None
    if count > b.max_elements:
        raise b._shape_error(f"arange would make {count:,} elements, more than --max-elements", start)
    return np.arange(*values)


def _linspace(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    first, stop, num, endpoint = _arguments(
        b, "linspace", positional, keywords, ("start", "stop", "num", "endpoint"), 2, start
    )
    assert first is not None and stop is not None
    count = b.integers(num, "num") if num is not None else 50
    if not isinstance(count, int) or count < 0:
        raise b._error("linspace: num must be a non-negative integer", start)
    if count > b.max_elements:
        raise b._shape_error(f"linspace would make {count:,} elements, more than --max-elements", start)
    closed = bool(b.static(endpoint)) if endpoint is not None else True
    try:
        return np.linspace(b.static(first), b.static(stop), num=count, endpoint=closed)
    except (TypeError, ValueError) as err:
        raise b._error(f"linspace: {err}", start) from None


def _eye(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    n, m, _ = _arguments(b, "eye", positional, keywords, ("N", "M", "dtype"), 1, start)
    assert n is not None
    rows = b.integers(n, "N")
    cols = b.integers(m, "M") if m is not None else rows
    _shape_argument(b, ((rows, cols), n[1], n[2]))
    return np.eye(rows, cols)


def _array(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    obj, _ = _arguments(b, "array", positional, keywords, ("object", "dtype"), 1, start)
    assert obj is not None
    if isinstance(obj[0], Display):
        return b.as_node(obj)
    if type(obj[0]) is Node:  # np.array(x) copies (np.asarray would not: a copy is never wrong)
        return b._node(OPS["copy"], (obj[0],), start, end)
    return obj[0]


def _len(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    (obj,) = _arguments(b, "len", positional, keywords, ("obj",), 1, start)
    assert obj is not None
    if type(obj[0]) is not Node and isinstance(value := b.static(obj), tuple | list | str):
        return len(value)
    shape = b.shape(obj)
    if not shape:
        raise b._error("len() of a scalar: it has no length", obj[1])
    return shape[0]


def _shape_of(what: str) -> Callable[..., Any]:
    def make(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
        (obj,) = _arguments(b, what, positional, keywords, ("a",), 1, start)
        assert obj is not None
        shape = b.shape(obj)
        return shape if what == "shape" else len(shape) if what == "ndim" else math.prod(shape)

    return make


def _number(kind: type) -> Callable[..., Any]:
    def make(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
        (obj,) = _arguments(b, kind.__name__, positional, keywords, ("x",), 1, start)
        assert obj is not None
        if kind is float and type(obj[0]) is Node:
            return obj[0]  # float(x) of a number the program computes: x itself
        value = b.static(obj)
        try:
            return kind(value)
        except (TypeError, ValueError, OverflowError) as err:
            raise b._error(f"{kind.__name__}(): {err}", obj[1]) from None

    return make


def _astype(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    owner, dtype = _arguments(b, "astype", positional, keywords, ("self", "dtype"), 2, start)
    assert owner is not None and dtype is not None
    kind = b.static(dtype)
    name = kind.name if isinstance(kind, Function) else kind if isinstance(kind, str) else None
    if name in FLOAT_TYPES:  # a copy, of floats (a mask's True is 1.0 from here on)
        if type(owner[0]) is not Node:
            return np.asarray(b.static(owner), dtype=float)
        node = b._node(OPS["copy"], (owner[0],), start, end)
        b.booleans.discard(node.id)
        return node
    if name in INT_TYPES:  # numpy truncates toward zero; the result is data
        value = b.static(owner)
        return np.trunc(value).astype(np.intp) if isinstance(value, np.ndarray) else int(value)
    raise b._error(f"astype({describe(kind)}): bpcli computes with floats (astype(float))", dtype[1])


def _dot(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    x, y = _arguments(b, "dot", positional, keywords, ("a", "b"), 2, start)
    assert x is not None and y is not None
    a, c = b.as_node(x), b.as_node(y)
    dims = (len(b.shape((a, x[1], x[2]), bake=False)), len(b.shape((c, y[1], y[2]), bake=False)))
    if 0 in dims:
        return b._node(OPS["mul"], (a, c), start, end)
    if dims == (1, 1):
        return b.call_op(OPS["dot"], (a, c), start, end)
    if dims[1] > 2:  # (a N-D left side with a 1-D or 2-D right side is matmul's product too)
        raise b._error("np.dot with a right side of more than 2 dimensions: bpcli takes matmul (@)", start)
    return b._node(OPS["matmul"], (a, c), start, end)


def _matmul(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    x, y = _arguments(b, "matmul", positional, keywords, ("a", "b"), 2, start)
    assert x is not None and y is not None
    return b._node(OPS["matmul"], (b.as_node(x), b.as_node(y)), start, end)


def _splitter(name: str, axis_default: int | None, even: bool) -> Callable[..., Any]:
    def make(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
        params = (
            ("ary", "indices_or_sections", "axis") if axis_default is None else ("ary", "indices_or_sections")
        )
        bound = _arguments(b, name, positional, keywords, params, 2, start)
        array, sections = bound[0], bound[1]
        assert array is not None and sections is not None
        shape = b.shape(array)
        if axis_default is None:
            axis = b.integers(bound[2], "an axis") if bound[2] is not None else 0
        else:
            axis = axis_default if len(shape) > 1 else 0
        if not shape or not -len(shape) <= axis < len(shape):
            raise b._shape_error(f"axis {axis} is out of bounds for array of dimension {len(shape)}", start)
        axis %= len(shape)
        size = shape[axis]
        cut = b.integers(sections, "the sections")
        if isinstance(cut, int):
            if cut <= 0:
                raise b._error("number sections must be larger than 0.", sections[1])
            if cut > size:
                raise b._shape_error(f"{cut} sections of an axis of {size}: some would be empty", sections[1])
            if even and size % cut:
                raise b._shape_error("array split does not result in an equal division", start)
            each, extra = divmod(size, cut)
            bounds = [0]
            for i in range(cut):
                bounds.append(bounds[-1] + each + (1 if i < extra else 0))
        else:
            bounds = [0, *[min(max(int(i), 0), size) for i in cut], size]
        parts = []
        for lo, hi in itertools.pairwise(bounds):
            index = (slice(None),) * axis + (slice(lo, hi),)
            text = ", ".join([":"] * axis + [f"{lo}:{hi}"])
            parts.append((b._index_node(array, index, text, start, end), start, end))
        return Display(parts, "tuple")

    return make


def _square(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    (x,) = _arguments(b, "square", positional, keywords, ("x",), 1, start)
    assert x is not None
    two = b.as_node((2.0, start, end))
    return b._node(OPS["pow"], (b.as_node(x), two), start, end)


def _clip(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    x, low, high = _arguments(b, "clip", positional, keywords, ("a", "a_min", "a_max"), 3, start)
    assert x is not None and low is not None and high is not None
    node = b.as_node(x)  # (None for a bound leaves that side open)
    if not (type(low[0]) is not Node and low[0] is None):
        node = b._node(OPS["max"], (node, b.as_node(low)), start, end)
    if not (type(high[0]) is not Node and high[0] is None):
        node = b._node(OPS["min"], (node, b.as_node(high)), start, end)
    return node


def _outer(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    x, y = _arguments(b, "outer", positional, keywords, ("a", "b"), 2, start)
    assert x is not None and y is not None
    column = _family(
        b, METHODS["reshape"], "reshape", [x, (-1, start, end), (1, start, end)], [], start, end, True
    )
    row = _family(
        b, METHODS["reshape"], "reshape", [y, (1, start, end), (-1, start, end)], [], start, end, True
    )
    return b._node(OPS["mul"], (column, row), start, end)


def _stacker(axis_of: Callable[[int], int]) -> Callable[..., Any]:
    """hstack and vstack: concatenate along the axis numpy picks for the arrays' rank."""

    def make(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
        (arrays,) = _arguments(b, "hstack", positional, keywords, ("tup",), 1, start)
        assert arrays is not None
        first = arrays[0]
        if isinstance(first, Display) and first.items:
            ndim = len(b.shape(first.items[0], bake=False))
        elif type(first) is Node and first.op is STACK and not first.name:  # [a, b] of arrays
            ndim = len(b.shape((first.inputs[0], start, end), bake=False))
        elif type(first) is Node:  # an array: the list of its rows
            ndim = len(b.shape(arrays)) - 1
        else:
            raise b._error("hstack and vstack take a list of arrays: np.hstack([a, b])", start)
        join = "stack" if axis_of(ndim) < 0 else "concatenate"  # vstack of vectors: rows
        axis = (max(axis_of(ndim), 0), start, end)
        return _family(b, CALLS[join], join, [arrays, axis], [], start, end)

    return make


def _ufunc(op_name: str, arity: int) -> Callable[..., Any]:
    """np.add, np.multiply, …: numpy's names for the arithmetic gates."""

    def make(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
        names = ("x1", "x2")[:arity]
        bound = _arguments(b, op_name, positional, keywords, names, arity, start)
        return b._node(OPS[op_name], tuple(b.as_node(u) for u in bound if u is not None), start, end)

    return make


def _item(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    (owner,) = _arguments(b, "item", positional, keywords, ("self",), 1, start)
    assert owner is not None
    if math.prod(b.shape(owner, bake=False)) != 1:
        raise b._shape_error("can only convert an array of size 1 to a Python scalar", start)
    return _family(b, METHODS["reshape"], "reshape", [owner, ((), start, end)], [], start, end, True)


def _clip_method(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    keywords = [Keyword({"min": "a_min", "max": "a_max"}.get(k.name, k.name), k.use) for k in keywords]
    given = {k.name for k in keywords}
    rest = [n for n in ("a_min", "a_max") if n not in given][len(positional) - 1 :]
    keywords += [Keyword(n, (None, start, end)) for n in rest]
    return _clip(b, positional, keywords, start, end)


def _take(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    """np.take(a, indices, axis): a[..., indices] on that axis (all of a, flattened, without one)."""
    array, indices, axis = _arguments(b, "take", positional, keywords, ("a", "indices", "axis"), 2, start)
    assert array is not None and indices is not None
    at = b.integers(indices, "an index")
    if axis is None:
        flat = _family(b, METHODS["ravel"], "ravel", [array], [], start, end, True)
        return b._index_node((flat, start, end), (at,), "…", start, end)
    ndim = len(b.shape(array))
    where = b.integers(axis, "an axis")
    if not isinstance(where, int) or not -ndim <= where < ndim:
        raise b._shape_error(f"axis {where} is out of bounds for array of dimension {ndim}", axis[1])
    where %= ndim
    text = ", ".join([":"] * where + [" ".join(b.source[indices[1] : indices[2]].split())])
    return b._index_node(array, (slice(None),) * where + (at,), text, start, end)


def _moveaxis(b: Builder, positional: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    """np.moveaxis(a, source, destination): a transpose, its order found as numpy finds it."""
    params = ("a", "source", "destination")
    array, source, destination = _arguments(b, "moveaxis", positional, keywords, params, 3, start)
    assert array is not None and source is not None and destination is not None
    ndim = len(b.shape(array))
    moved, to = (_axes(b, use, ndim) for use in (source, destination))
    if len(moved) != len(to):
        raise b._error("`source` and `destination` arguments must have the same number of elements", start)
    order = [n for n in range(ndim) if n not in moved]
    for dest, src in sorted(zip(to, moved, strict=True)):
        order.insert(dest, src)
    return _family(b, CALLS["transpose"], "transpose", [array, (tuple(order), start, end)], [], start, end)


def _axes(b: Builder, use: Use, ndim: int) -> list[int]:
    """An axis or a tuple of them, each in range, none twice."""
    value = _plain(b.integers(use, "an axis"))
    given = list(value) if isinstance(value, tuple) else [value]
    axes = [a for a in given if isinstance(a, int) and -ndim <= a < ndim]
    if len(axes) != len(given):
        raise b._shape_error(f"an axis out of bounds for an array of dimension {ndim}: {value}", use[1])
    if len({a % ndim for a in axes}) != len(axes):
        raise b._shape_error("repeated axis", use[1])
    return [a % ndim for a in axes]


SPECIAL: dict[str, Callable[..., Any]] = {
    "take": _take,
    "moveaxis": _moveaxis,
    "add": _ufunc("add", 2),
    "subtract": _ufunc("sub", 2),
    "multiply": _ufunc("mul", 2),
    "divide": _ufunc("div", 2),
    "true_divide": _ufunc("div", 2),
    "power": _ufunc("pow", 2),
    "negative": _ufunc("neg", 1),
    "square": _square,
    "clip": _clip,
    "outer": _outer,
    "hstack": _stacker(lambda ndim: 0 if ndim <= 1 else 1),
    "vstack": _stacker(lambda ndim: -1 if ndim <= 1 else 0),
    "zeros": _filled(0.0),
    "ones": _filled(1.0),
    "empty": _filled(0.0),
    "full": _full,
    "zeros_like": _like(0.0),
    "ones_like": _like(1.0),
    "empty_like": _like(0.0),
    "full_like": _like(None),
    "arange": _arange,
    "range": _arange,
    "eye": _eye,
    "linspace": _linspace,
    "array": _array,
    "asarray": _array,
    "len": _len,
    "shape": _shape_of("shape"),
    "ndim": _shape_of("ndim"),
    "size": _shape_of("size"),
    "int": _number(int),
    "float": _number(float),
    "dot": _dot,
    "matmul": _matmul,
    "split": _splitter("split", None, True),
    "array_split": _splitter("array_split", None, False),
    "hsplit": _splitter("hsplit", 1, True),
    "vsplit": _splitter("vsplit", 0, True),
}
SPECIAL_METHODS: dict[str, Callable[..., Any]] = {
    "astype": _astype,
    "dot": _dot,
    "item": _item,
    "clip": _clip_method,
}


# The values a NAME=VALUE binding may be (randn(2, 3)), which a program draws with np.random
BINDING_VALUES = ("randn", "rand")


def _close(name: str, known: list[str]) -> str | None:
    import difflib

    if name in BINDING_VALUES:
        return f"{name}(…) is a binding's value (x={name}(3)); in a program, write np.random.{name}(…)"

    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
