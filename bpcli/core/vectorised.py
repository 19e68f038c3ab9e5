"""A scalar graph evaluated at many points at once, one numpy array per node.

`batch --program` and `Program.grad_many` run one program at thousands of points. Here each
gate runs once over all of them: its value is an array with one element per point, and so
is its gradient. The numbers are those of the point-by-point path to the last bit:

- the gates and VJPs that are arithmetic alone (`+ - * /`, `-x`, `g*ans`, `g/x`, …: listed
  in ARITHMETIC) are called with arrays instead of floats; numpy's `+ - * /` on float64 are
  IEEE's correctly rounded operations, the same as Python's on floats;
- every other function (exp, log, tanh, sigmoid, pow, …) is the op's own scalar function,
  called on each element: numpy's own differ from `math`'s (on a million points in
  [-30, 30] with numpy 2.4: exp in 4.6% of them by 1 ulp, tanh in 13% by up to 3, log in
  0.05%), and a call a point is a fraction of a microsecond, little next to writing a record;
- division's VJP for its divisor is arithmetic where g·ans is a normal float, which is what
  the scalar form computes there; the other points are left to the scalar path.

A point is `bad` when anything is out of the ordinary there, exactly where the compiled
scalar path (`bpcli.core.compiled`) gives up: a function that raises, a number that is not
finite (a leaf, a value or a gradient), a gate at its kink. The caller sends those points
the point-by-point way, which says what happened (an error, a warning) as always.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from bpcli.core.compiled import MAX_NODES
from bpcli.core.graph import Graph
from bpcli.lazy import np
from bpcli.limits import tiny_number_problem

if TYPE_CHECKING:
    from typing import Any

    from bpcli.values import Array

    Column = Array | float  # an array over the points, or one number for all of them
    Mask = Any  # an array of bools over the points (numpy's stubs type its operators loosely)

# The ops whose forward is arithmetic on its inputs alone, and the (op, input) VJPs that are:
# called with arrays, they give each element exactly what they give a float (tests/test_vector.py
# checks each against the scalar call, element by element, bit for bit).
ARITHMETIC_FORWARD = frozenset({"add", "sub", "mul", "div", "neg", "id"})
ARITHMETIC_VJPS = frozenset(
    {
        ("add", 0),
        ("add", 1),
        ("sub", 0),
        ("sub", 1),
        ("mul", 0),
        ("mul", 1),
        ("div", 0),
        ("neg", 0),
        ("id", 0),
        ("exp", 0),
        ("log", 0),
        ("log1p", 0),
        ("sqrt", 0),
        ("tan", 0),
    }
)
_TINY = 2.2250738585072014e-308  # the smallest normal float
_HUGE = 1.7976931348623157e308


def _div_vjp_divisor(g: Column, ans: Column, x: Column, y: Column) -> tuple[Column, Mask]:
    """-g·ans/y as the scalar form computes it where g·ans is a normal float; elsewhere the
    scalar form works on mantissas and exponents apart: those points are bad."""
    product = np.multiply(g, ans)
    size = np.abs(product)
    return np.negative(np.divide(product, y)), ~((size >= _TINY) & (size <= _HUGE))


SPECIAL_VJPS: dict[tuple[str, int], Callable[..., tuple[Column, Mask]]] = {
    ("div", 1): _div_vjp_divisor,
}


class Points:
    """What a graph gives at n points: each node's value and gradient (an array, a float
    shared by all points, or None where the engine has none), and the points that must go
    the point-by-point way."""

    __slots__ = ("bad", "grads", "n", "values")

    def __init__(self, n: int, values: list[Column | None], grads: list[Column | None], bad: Mask) -> None:
        self.n = n
        self.values = values
        self.grads = grads
        self.bad = bad

    def column(self, value: Column | None) -> Array:
        """A node's value or gradient with one element per point (0 for None)."""
        if value is None:
            value = 0.0
        result: Array = np.broadcast_to(np.asarray(value, dtype=float), (self.n,))
        return result


class Vectorised:
    """The forward and backward pass of one graph over arrays of points (see the module)."""

    def __init__(self, graph: Graph, bound: frozenset[str]) -> None:
        self.graph = graph
        # leaves: node id -> the bound name that gives its value (others keep the graph's)
        self.bound_leaves = {
            node.id: node.name
            for node in graph.nodes
            if not node.inputs and node.name in bound and graph.inputs.get(node.name) is node
        }
        self.names = sorted(set(self.bound_leaves.values()))  # the columns it needs

    def __call__(self, columns: dict[str, Array], n: int) -> Points:
        """The graph at n points, `columns` holding each bound name's numbers (float64)."""
        graph = self.graph
        bad = np.zeros(n, dtype=bool)
        values: list[Column | None] = [None] * len(graph.nodes)
        checks: list[Column] = []
        with np.errstate(all="ignore"):
            for node in graph.nodes:
                k = node.id
                if not node.inputs:
                    name = self.bound_leaves.get(k)
                    if name is None:
                        values[k] = graph.leaves[k]  # a float: see vectorise
                    else:
                        values[k] = columns[name]
                        checks.append(columns[name])
                    continue
                op = node.op
                args = [values[i.id] for i in node.inputs]
                if op.name in ARITHMETIC_FORWARD:
                    value, failed = _arithmetic(op.scalar, args)
                else:
                    value, failed = _elementwise(op.scalar, args, n)
                if failed is not None:
                    bad |= failed
                if op.kink is not None:
                    bad |= _kinks(op.kink, args, n)
                values[k] = value
                checks.append(value)
            grads = self._backward(values, bad, n)
            total = np.zeros(n)
            for column in checks:
                total += column
            for grad in grads:
                if grad is not None:
                    total += grad
            bad |= ~np.isfinite(total)
        return Points(n, values, grads, bad)

    def _backward(self, values: list[Column | None], bad: Mask, n: int) -> list[Column | None]:
        """The engine's backward loop, in its order (the sums too: their order is the bits)."""
        graph = self.graph
        grads: list[Column | None] = [None] * len(graph.nodes)
        grads[graph.output.id] = 1.0
        for node in reversed(graph.nodes):
            g = grads[node.id]
            if g is None or not node.inputs:
                continue
            ans = values[node.id]
            args = [values[i.id] for i in node.inputs]
            for i, inp in enumerate(node.inputs):
                if not inp.needs_grad:
                    continue
                key = (node.op.name, i)
                special = SPECIAL_VJPS.get(key)
                if special is not None:
                    d, failed = special(g, ans, *args)
                elif key in ARITHMETIC_VJPS:
                    d, failed = _arithmetic(node.op.vjps[i], [g, ans, *args])
                else:
                    d, failed = _elementwise(node.op.vjps[i], [g, ans, *args], n)
                if failed is not None:
                    bad |= failed
                total = grads[inp.id]
                grads[inp.id] = d if total is None else total + d
        return grads


def vectorise(graph: Graph, bound: frozenset[str]) -> Vectorised | None:
    """The graph's passes over arrays of points, for the names in `bound`; None for graphs
    it does not cover (those `compile_graph` does not: arrays, ops with no scalar form, an
    upstream gradient, a number written too small for a float)."""
    if graph.has_arrays or len(graph.nodes) > MAX_NODES or graph.upstream is not None:
        return None
    if any(n.inputs and (n.op.scalar is None or n.op.arity < 0) for n in graph.nodes):
        return None
    vectorised = Vectorised(graph, bound)
    for node in graph.nodes:
        if (
            not node.inputs
            and node.id not in vectorised.bound_leaves
            and type(graph.leaves[node.id]) is not float
        ):
            return None
    return vectorised


def written_numbers_fine(numbers: list[str]) -> bool:
    """Whether every number written in the program is one a float holds (not 1e-400)."""
    return all(
        tiny_number_problem(text, value) is None and value != math.inf
        for text in numbers
        for value in (float(text),)
    )


def _arithmetic(function: Callable[..., Column] | None, args: list[Column | None]) -> tuple[Column, Mask]:
    """An arithmetic function called with arrays (or floats: then it may raise, at every point)."""
    assert function is not None
    try:
        return function(*args), None
    except (ArithmeticError, ValueError):  # floats alone: 1/0 in every point
        return math.nan, None


def _elementwise(
    function: Callable[..., Column] | None, args: list[Column | None], n: int
) -> tuple[Column, Mask]:
    """The scalar function at each point; a point where it raises is bad (its value NaN)."""
    assert function is not None
    if all(type(a) is float for a in args):
        try:
            return function(*args), None
        except (ArithmeticError, ValueError, TypeError):
            return math.nan, None
    lists = _lists(args, n)
    try:
        return np.fromiter(map(function, *lists), dtype=float, count=n), None
    except (ArithmeticError, ValueError, TypeError):
        pass
    out = np.empty(n)
    failed = np.zeros(n, dtype=bool)
    for index, point in enumerate(zip(*lists, strict=True)):
        try:
            out[index] = function(*point)
        except (ArithmeticError, ValueError, TypeError):
            out[index] = math.nan
            failed[index] = True
    return out, failed


def _kinks(kink: Callable[..., bool], args: list[Column | None], n: int) -> Mask:
    """Where the gate is at its kink."""
    if all(type(a) is float for a in args):
        return np.full(n, bool(kink(*args)))
    lists = _lists(args, n)
    result: Mask = np.fromiter(map(kink, *lists), dtype=bool, count=n)
    return result


def _lists(args: list[Column | None], n: int) -> list[list[float]]:
    """Each argument as a list of n floats."""
    return [[a] * n if type(a) is float else np.broadcast_to(np.asarray(a), (n,)).tolist() for a in args]
