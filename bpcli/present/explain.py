"""Each node's part in the backward pass, for presenters: local gradients, downstream
gradients, and at a fan-out the branches that add up to the upstream gradient."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext

from bpcli.core.engine import downstream, gradient, local, shape_of
from bpcli.core.graph import Graph, Node
from bpcli.core.ops import Op
from bpcli.core.run import Run
from bpcli.errors import BpcliError
from bpcli.lazy import np
from bpcli.values import Array, Value


class Edge:
    """What a node sends back to one of its inputs. Its local gradient is worked out when it
    is first asked for: an array of the input's size a wire, which the array table never
    shows."""

    __slots__ = ("_local", "_source", "downstream", "index", "input")

    def __init__(
        self, input: Node, index: int, downstream: Value | None, source: tuple[Run, Node] | None
    ) -> None:
        self.input = input
        self.index = index
        self.downstream = downstream  # upstream × local, shaped like the input; None for constants
        self._source = source  # the run and the node the local gradient comes from; None: none
        self._local: Value | None = None

    @property
    def local(self) -> Value | None:
        """∂node/∂input: a number, an elementwise array, or None (a Jacobian, a constant)."""
        source = self._source
        if source is not None:
            self._local = _local(source[0], source[1], self.index)
            self._source = None
        return self._local


class Step:
    """One node of the backward pass."""

    __slots__ = ("branches", "edges", "kink", "node", "upstream", "value")

    def __init__(
        self, node: Node, value: Value | None, upstream: Value | None, edges: list[Edge], kink: bool = False
    ) -> None:
        self.node = node
        self.value = value  # None: off the output's path, and not computable here
        self.upstream = upstream  # ∂f/∂node; None for constants
        self.edges = edges
        self.branches: list[tuple[int, Value]] = []  # (consumer id, gradient it sends)
        self.kink = kink


def derivation(run: Run, ids: list[int] | None = None) -> list[Step]:
    """One Step per node in forward order, or for the nodes in `ids` only (a big table shows
    a few hundred rows). Uses what the backward pass recorded when it did."""
    graph = run.graph
    kinks = set(run.kinks)
    wanted = range(len(graph.nodes)) if ids is None else ids
    steps = {
        i: Step(
            graph.nodes[i],
            run.values[i],
            gradient(run, graph.nodes[i]) if graph.nodes[i].needs_grad else None,
            [],
            kink=i in kinks,
        )
        for i in wanted
    }
    sent = run.sent
    for node in graph.nodes:
        step = steps.get(node.id)
        if step is None and not any(inp.id in steps for inp in node.inputs):
            continue
        upstream = run.grads[node.id]
        for i, inp in enumerate(node.inputs):
            if not inp.needs_grad or upstream is None:
                d = None
            elif sent is not None:
                d = sent.get((node.id, i))
            else:
                d = downstream(graph, run.values, node, i, upstream)
            if step is not None:
                flows = inp.needs_grad and node.op.differentiable  # (a comparison passes nothing)
                step.edges.append(Edge(inp, i, d if flows else None, (run, node) if flows else None))
            target = steps.get(inp.id)
            if target is not None and d is not None:
                target.branches.append((node.id, d))
    return [steps[i] for i in wanted]


def _local(run: Run, node: Node, i: int) -> Value | None:
    """The local gradient to show, or None where it has no value: a node off the output's path
    evaluated outside its derivative's domain (sqrt at 0, which nothing uses), or a local
    gradient too large for a float whose downstream fits (1/y for a tiny y, times a tiny
    upstream). Showing a node never fails the run."""
    try:
        with np.errstate(all="ignore") if run.graph.has_arrays else nullcontext():
            return local(run, node, i)
    except BpcliError:
        return None


# Jacobians are shown for teaching only, when they are this small; gradients never use them.
MAX_JACOBIAN = 400


def jacobian(run: Run, node: Node, i: int) -> Array | None:
    """∂node/∂input_i as a (node size × input size) matrix, built one row at a time from
    the VJP; None when it would have more than MAX_JACOBIAN entries."""
    out, inp = run.values[node.id], run.values[node.inputs[i].id]
    if out is None:  # off the output's path, and not computable here
        return None
    rows, cols = _size(out), _size(inp)
    if rows * cols > MAX_JACOBIAN:
        return None
    matrix = np.zeros((rows, cols))
    for k in range(rows):
        if type(out) is float:
            seed: Value = 1.0
        else:
            flat = np.zeros(rows)
            flat[k] = 1.0
            seed = flat.reshape(np.shape(out))  # (.flat takes 32 dimensions at most)
        try:
            with np.errstate(all="ignore"):
                row = downstream(run.graph, run.values, node, i, seed)
        except BpcliError:
            return None  # as _local: not defined here, or too large for a float
        matrix[k] = np.ravel(row)
    return matrix


def jacobian_shape(run: Run, node: Node, i: int) -> tuple[int, int]:
    return _size(run.values[node.id]), _size(run.values[node.inputs[i].id])


def _size(value: Value | None) -> int:
    return int(value.size) if value is not None and not isinstance(value, float) else 1


class _Ref:
    """An input in a local-gradient formula: `{x}` is its name or label, `{x:a}` the same
    in parentheses unless it is a single term."""

    def __init__(self, graph: Graph, node: Node, index: int, ref: Callable[[Node], str] | None) -> None:
        self.graph = graph
        self.node = node.inputs[index] if index < len(node.inputs) else None
        self.ref = ref

    def __format__(self, spec: str) -> str:
        if self.node is None:
            return "?"
        if self.ref is not None:
            return self.ref(self.node)
        return self.graph.ref(self.node, atomic=spec == "a")


def local_formula(
    graph: Graph,
    node: Node,
    i: int,
    values: list[Value | None] | None = None,
    ref: Callable[[Node], str] | None = None,
) -> str:
    """The local gradient ∂node/∂input_i as a formula in the inputs' names: `z`, `1/(x + y)`.
    With the run's `values`, a join (concatenate, stack) names the piece of g input i gets.
    `ref`: how the formula refers to an input (a single term) instead of by its name or
    expression: the table's #12."""
    op = node.op
    if op.arity < 0:
        axis = dict(op.params).get("axis")
        if isinstance(axis, int):
            return _piece(node, i, axis, values)
        return f"1 at element {i}"  # an array literal: input i is its element (or row) i
    return op.local[i].format(x=_Ref(graph, node, 0, ref), y=_Ref(graph, node, 1, ref))


def _piece(node: Node, i: int, axis: int, values: list[Value | None] | None) -> str:
    """What a join sends input i: its own piece of g, g[:, 2:5] (concatenate) or g[:, 1]
    (stack, which adds the axis), read from the shapes; without them, in words."""
    shapes: list[tuple[int, ...]] | None = None
    out: tuple[int, ...] = ()
    if values is not None and values[node.id] is not None:
        shapes = [shape_of(values[x.id]) for x in node.inputs]
        out = shape_of(values[node.id])
    if shapes is None or any(len(s) != len(shapes[0]) for s in shapes):
        return f"the piece of g from input {i} along axis {axis}"
    ndim = len(out)
    where = axis % ndim if ndim else 0
    parts = [":"] * ndim
    if ndim == len(shapes[0]) + 1:  # stack: input i is slice i of the new axis
        parts[where] = str(i)
    else:
        start = sum(s[where] for s in shapes[:i])
        parts[where] = f"{start}:{start + shapes[i][where]}"
    while parts and parts[-1] == ":":
        parts.pop()
    return "g[" + ", ".join(parts) + "]"


def gate_key(op: Op) -> str:
    """The texts key of what a gate does to the gradient, from its facts: its cs231n pattern
    (steps.gate.*), a router's variant (where picks a branch; max along an axis, a winner in
    each slice), a comparison's none; "" for a gate with no pattern."""
    if not op.differentiable:
        return "steps.gate.comparison" if op.boolean else "steps.gate.none"
    if op.gate == "router":
        if not op.routes:
            return "steps.gate.router.choice"  # where: the condition picks the branch
        if dict(op.params).get("axis") is not None:
            return f"steps.gate.router.{op.routes}.axis"
        return "steps.gate.router" if op.routes == "largest" else f"steps.gate.router.{op.routes}"
    if op.gate == "rearranger" and op.arity < 0:
        return "steps.gate.rearranger.join"
    if op.gate == "distributor" and not op.commutes:
        return "steps.gate.distributor.minus"  # a - b: the second input gets the negative
    return f"steps.gate.{op.gate}" if op.gate else ""
