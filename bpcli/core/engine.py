"""The forward and backward passes: two loops over the node list, no recursion.

forward:  values = the graph's leaves; for node in graph: values[node] = op(*input values)
backward: seed ∂f/∂f = 1, then for node in reversed(graph), for each input:
          grads[input] += downstream(upstream, ans, input values)   (upstream × local)

Both read the graph and write only lists of their own, returned in a Run (bpcli.core.run).
`backward` is the one backward pass: grad, check's diagnosis, --gradcheck and batch all use
it (the compiled batch path writes the same calls out, see bpcli.core.compiled), and
`downstream` is the one rule for what a gate sends along one wire.
"""

from __future__ import annotations

import math
from typing import TypeAlias, cast

from bpcli.core.graph import Graph, Node, format_number
from bpcli.core.ops import CONST, ShapeMismatch, unbroadcast
from bpcli.core.run import Run
from bpcli.errors import BpcliError, DomainError, ShapeError
from bpcli.lazy import all_finite, np
from bpcli.limits import held_problem, shape_problem
from bpcli.texts import Translator
from bpcli.values import Array, Value

_ARITHMETIC = (ValueError, ZeroDivisionError, OverflowError, ArithmeticError)

Values: TypeAlias = "list[Value | None]"  # by node id


class InternalError(Exception):
    """A bug in bpcli itself (never the user's fault)."""


def run(graph: Graph, record: bool = False, wrt: list[str] | None = None) -> Run:
    """Forward then backward. With `record`, the run keeps what each gate sent to each input
    (Run.sent), for presenters. With `wrt` (names), the backward pass visits only the nodes
    that depend on one of them: the others get no gradient."""
    values, warnings, kinks, missing = _forward_pass(graph)
    reached = reaching(graph, wrt) if wrt else None
    grads, sent = backward(graph, values, record, reached=reached)
    return Run(graph, values, grads, (*graph.warnings, *warnings), tuple(kinks), sent, missing, reached)


def reaching(graph: Graph, names: list[str]) -> list[bool]:
    """By node id: whether the node depends on one of the named nodes (an input, or a named
    intermediate as last bound), or is one."""
    reached = [False] * len(graph.nodes)
    for name in names:
        node = graph.inputs.get(name) or graph.names.get(name)
        if node is not None:
            reached[node.id] = True
    for node in graph.nodes:
        if not reached[node.id] and any(reached[i.id] for i in node.inputs):
            reached[node.id] = True
    return reached


# --- forward -------------------------------------------------------------------------------


def forward(graph: Graph) -> Run:
    """The forward pass alone: a run with values and no gradients."""
    values, warnings, kinks, missing = _forward_pass(graph)
    return Run(graph, values, [None] * len(values), (*graph.warnings, *warnings), tuple(kinks), None, missing)


def _forward_pass(graph: Graph) -> tuple[Values, list[str], list[int], bool]:
    """Compute every node's value in order; raise DomainError at the first bad node that leads
    to the output (one that does not gets no value, and a warning); note the nodes evaluated
    at a kink. Returns the values, the warnings, the kinks and whether a value is missing."""
    values = list(graph.leaves)
    warnings = []
    failed = forward_values(graph, values)
    for node, err in failed:
        warnings.append(
            f"{graph.label(node)} (node #{node.id}) is not used by {graph.output.name or 'f'}"
            f" and cannot be computed: {_reason(err)}{_where(graph, node, _inputs(values, node))}"
        )
    kinks = _note_kinks(graph, values, warnings)
    return values, warnings, kinks, bool(failed)


def forward_values(
    graph: Graph, values: Values, nodes: list[Node] | None = None, missing: bool = False
) -> list[tuple[Node, BaseException]]:
    """Compute every gate's value in order into `values` (which holds the leaves' values), and
    nothing else (or only those in `nodes`, in forward order: the others keep their values).
    A node that does not lead to the output and cannot be computed gets the value None, as do
    the nodes computed from it (`missing`: some already has); returns the nodes that could
    not be computed (not those computed from them), each with its error."""
    if graph.has_arrays:
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            return _forward(graph, values, True, nodes, missing)
    return _forward(graph, values, False, nodes, missing)


def leads_to_output(graph: Graph) -> list[bool]:
    """For each node (by id), whether the output depends on it: one pass over the nodes in
    reverse, kept with the graph (its structure never changes)."""
    leads = graph.leads
    if leads is None:
        leads = [False] * len(graph.nodes)
        leads[graph.output.id] = True
        for node in reversed(graph.nodes):
            if leads[node.id]:
                for inp in node.inputs:
                    leads[inp.id] = True
        graph.leads = leads
    return leads


def _forward(
    graph: Graph, values: Values, arrays: bool, nodes: list[Node] | None, missing: bool
) -> list[tuple[Node, BaseException]]:
    failed: list[tuple[Node, BaseException]] = []
    # what the arrays hold together (a full pass only: a partial one replaces values)
    held = sum(_size(v) for v in graph.leaves) if arrays and nodes is None else 0
    for node in graph.nodes if nodes is None else nodes:
        inputs = node.inputs
        if not inputs:
            continue
        op = node.op
        # (a list display: in the loops over every node, much cheaper than a comprehension)
        if len(inputs) == 2:
            args = [values[inputs[0].id], values[inputs[1].id]]
        elif len(inputs) == 1:
            args = [values[inputs[0].id]]
        else:
            args = [values[i.id] for i in inputs]
        if missing and any(v is None for v in args):  # from a node with no value
            values[node.id] = None
            continue
        try:
            if op.scalar is not None and (not arrays or all(type(v) is float for v in args)):
                value = op.scalar(*args)
            else:
                shape = None
                if op.shape is not None:  # refuse a result too big to make before making it
                    shape = op.shape([shape_of(v) for v in args])
                    problem = shape_problem(shape, graph.max_elements)
                    if problem is None and nodes is None and shape:  # an array, not a float
                        held += math.prod(shape)
                        problem = held_problem(held, graph.max_elements)
                    if problem is not None:
                        raise _too_big(graph, node, *problem)
                # (a gate has an array form: only leaves, skipped above, have none)
                value = _as_value(op.array(*args))  # type: ignore[misc]
                if shape is not None and shape_of(value) != shape:
                    raise InternalError(
                        f"{op.name} made shape {shape_of(value)}, but its shape rule says {shape}"
                    )
            if type(value) is float:
                if value - value != 0.0:  # inf or nan
                    raise OverflowError()
            elif not all_finite(value):
                raise OverflowError()
        except ShapeMismatch as err:
            raise _shape_error(graph, node, args, str(err)) from None
        except _ARITHMETIC as err:
            if leads_to_output(graph)[node.id]:
                raise _forward_error(graph, node, args, err) from None
            values[node.id] = None  # not used by the output: the run goes on without it
            missing = True
            failed.append((node, err))
            continue
        values[node.id] = value
    return failed


def _size(value: Value | None) -> int:
    """How many elements an array leaf holds (a scalar or a gate's empty slot: none)."""
    return 0 if value is None or isinstance(value, float) else int(value.size)


def _inputs(values: Values, node: Node) -> Values:
    return [values[i.id] for i in node.inputs]


def _as_value(value: Value) -> Value:
    """Scalars as Python floats, arrays as float64 ndarrays (what numpy gives may be an
    np.float64, or an array of another dtype)."""
    if type(value) is float:
        return value
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else array


def _note_kinks(graph: Graph, values: Values, warnings: list[str]) -> list[int]:
    kinks = []
    for node in graph.nodes:
        kink = node.op.kink
        if (
            kink is not None
            and node.id not in graph.smooth
            and values[node.id] is not None
            and kink(*[values[i.id] for i in node.inputs])
        ):
            kinks.append(node.id)
            convention = Translator()(node.op.convention)  # the warnings are in English
            warnings.append(
                f"{node.op.name} at node #{node.id} ({graph.label(node)}) is evaluated where it is"
                f" not differentiable; bpcli takes PyTorch's convention: {convention}"
            )
    return kinks


# --- backward -------------------------------------------------------------------------------


def backward(
    graph: Graph,
    values: Values,
    record: bool = False,
    substitute: dict[int, Values] | None = None,
    reached: list[bool] | None = None,
) -> tuple[Values, dict[tuple[int, int], Value] | None]:
    """The backward pass: ∂f/∂node for every node (by id; None where nothing flows back, from
    no path to the output or to a constant), from the forward pass's `values`. With `record`,
    also what each gate sent along each wire: {(node id, input index): downstream gradient}.
    `substitute` gives, by node id, the input values a gate's VJPs take instead of its own:
    the one-sided derivatives at a kink (see `one_sided_gradients`). `reached`: by node id,
    the only nodes a gradient is sent to (see `reaching`)."""
    output = graph.output
    grads: Values = [None] * len(graph.nodes)
    grads[output.id] = seed(graph, values[output.id])
    sent: dict[tuple[int, int], Value] | None = {} if record else None
    if graph.has_arrays:
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            _backward(graph, values, grads, sent, substitute, False, reached)
    else:
        _backward(graph, values, grads, sent, substitute, True, reached)
    return grads, sent


def seed(graph: Graph, value: Value | None) -> Value:
    """What the backward pass starts from at the output (whose value is `value`): 1 for a
    scalar f, or the upstream gradient given (--upstream: cs231n's dout), shaped as the
    output. Never a Jacobian: a non-scalar output without an upstream is an error."""
    upstream = graph.upstream
    text = graph.output_text
    if upstream is None:
        if type(value) is not float:
            raise ShapeError(
                f"the output {text} has shape {shape_text(value)}: backpropagation needs a scalar output",
                hint=f"try sum({text}) or norm({text}), or give the gradient that flows into it"
                f" (--upstream d{_short_name(graph)}=…)",
                source=graph.source,
                node=graph.output.id,
                label=graph.label(graph.output),
            )
        return 1.0
    if shape_of(upstream) != shape_of(value):
        raise ShapeError(
            f"the upstream gradient {graph.upstream_name} has shape {shape_text(upstream)}, but the"
            f" output {text} has shape {shape_text(value)}: they must be the same",
            hint="the upstream gradient of an output has the output's shape",
            source=graph.source,
            node=graph.output.id,
            label=graph.label(graph.output),
        )
    return upstream


def _short_name(graph: Graph) -> str:
    """The output's name for a hint (out in dout), or `out` for an unnamed expression."""
    return graph.output.name or "out"


def _backward(
    graph: Graph,
    values: Values,
    grads: Values,
    sent: dict[tuple[int, int], Value] | None,
    substitute: dict[int, Values] | None,
    floats: bool,
    reached: list[bool] | None,
) -> None:
    # In a graph of floats, what `downstream` and `accumulate` do for an edge comes down to
    # the op's scalar VJP and a sum, each finite: the loop makes those calls itself (a call
    # per edge costs a third more), and hands anything else to them to say what is wrong.
    for node in reversed(graph.nodes):
        g = grads[node.id]
        wires = node.inputs
        if g is None or not wires:
            continue
        ans = values[node.id]
        if substitute is not None and node.id in substitute:
            inputs = substitute[node.id]
        elif len(wires) == 2:  # (as in _forward)
            inputs = [values[wires[0].id], values[wires[1].id]]
        elif len(wires) == 1:
            inputs = [values[wires[0].id]]
        else:
            inputs = [values[x.id] for x in wires]
        vjps = node.op.vjps
        for i, inp in enumerate(wires):
            if not inp.needs_grad or (reached is not None and not reached[inp.id]):
                continue
            if floats:
                try:
                    d = vjps[i](g, ans, *inputs)
                except _ARITHMETIC:
                    d = math.nan
                if d - d != 0.0:  # downstream says why
                    d = downstream(graph, values, node, i, g, inputs, ans)
            else:
                d = downstream(graph, values, node, i, g, inputs, ans)
            total = grads[inp.id]
            if total is None:
                grads[inp.id] = d
            elif floats and (added := total + d) - added == 0.0:
                grads[inp.id] = added
            else:
                grads[inp.id] = accumulate(graph, grads, inp, node, total, d)
            if sent is not None:
                sent[node.id, i] = d


def downstream(
    graph: Graph,
    values: Values,
    node: Node,
    i: int,
    upstream: Value,
    inputs: Values | None = None,
    ans: Value | None = None,
) -> Value:
    """The gradient `node` sends to its input i: upstream × local, shaped like that input, at
    the forward pass's `values` (`inputs` and `ans` replace the node's inputs' values and its
    own, to take a one-sided derivative at a kink or to try a student's mistake). The one
    place that chooses the scalar or the array VJP, sums a broadcast back and checks what
    flows is finite."""
    if inputs is None:
        inputs = [values[x.id] for x in node.inputs]
    if ans is None:
        ans = values[node.id]
    op = node.op
    scalar = type(upstream) is float and (not graph.has_arrays or all(type(v) is float for v in inputs))
    try:
        vjp = (op.vjps if scalar else op.array_vjps)[i]
        d = vjp(upstream, ans, inputs) if op.arity < 0 else vjp(upstream, ans, *inputs)
        if not scalar and op.broadcast:
            d = unbroadcast(d, values[node.inputs[i].id])  # type: ignore[arg-type]  # (it has one)
        if type(d) is not float:  # (an array's VJP may give a float input a 0-d array)
            d = _as_value(d)
    except _ARITHMETIC as err:
        raise _backward_error(graph, node, i, inputs, err) from None
    if type(d) is float:
        if d - d != 0.0:
            raise _backward_error(graph, node, i, inputs, OverflowError())
    else:
        like = values[node.inputs[i].id]
        if shape_of(d) != shape_of(like):
            raise InternalError(
                f"the VJP of {op.name} for input {i} has shape {shape_of(d)},"
                f" but the input has shape {shape_of(like)}"
            )
        if not all_finite(d):
            raise _backward_error(graph, node, i, inputs, OverflowError())
    return d


def one_sided_gradients(run: Run, sides: dict[int, float]) -> Values:
    """∂f/∂node for every node, as if each kinked node in `sides` had its first input just
    above (+1) or just below (-1) its kink: the other conventions a student may have used.
    The same backward pass, with those inputs substituted."""
    substitute = {}
    for k, side in sides.items():
        inputs = _inputs(run.values, run.graph.nodes[k])
        first = inputs[0]
        assert first is not None, "a kinked node's inputs have values"
        step = 1e-9 * max(1.0, float(np.max(np.abs(first))))
        inputs[0] = first + side * step
        substitute[k] = inputs
    return backward(run.graph, run.values, substitute=substitute)[0]


def accumulate(graph: Graph, grads: Values, inp: Node, node: Node, total: Value, d: Value) -> Value:
    """total + d, the gradient `inp` has gathered so far plus what `node` sends it, or
    DomainError (fanout_error) when the sum is not finite. Every place that adds up the
    branches of a fan-out goes through here."""
    result: Value
    if type(total) is float and type(d) is float:
        result = total + d
        if result - result != 0.0:
            raise fanout_error(graph, grads, inp, node)
        return result
    with np.errstate(over="ignore", invalid="ignore"):
        result = total + d
    if type(result) is float:
        if result - result != 0.0:
            raise fanout_error(graph, grads, inp, node)
    elif not all_finite(result):
        raise fanout_error(graph, grads, inp, node)
    return result


def fanout_error(graph: Graph, grads: Values, inp: Node, node: Node) -> BpcliError:
    """The gradient of `inp` overflowed when the branch through `node` was added to those
    through the nodes after it (the backward pass visits them in reverse)."""
    branches = sorted(
        {n.id for n in graph.nodes[node.id :] if grads[n.id] is not None and any(x is inp for x in n.inputs)}
    )
    listed = [f"#{k}" for k in branches]
    through = (", ".join(listed[:-1]) + " and " + listed[-1]) if len(listed) > 1 else listed[0]
    return DomainError(
        f"∂{graph.output.name or 'f'}/∂{graph.ref(inp)} overflows: its branches"
        f" through {through} add up past the float range",
        source=graph.source,
        pos=inp.start,
        hint="every branch is finite, but their sum is not; rescale the program's numbers",
        node=inp.id,
        label=graph.label(inp),
    )


def local(run: Run, node: Node, i: int) -> Value | None:
    """∂node/∂input_i as a number, or for an elementwise op on arrays its diagonal; else None."""
    inp = node.inputs[i]
    value = run.values[node.id]
    if not inp.needs_grad or value is None:
        return None
    if type(value) is float and type(run.values[inp.id]) is float:
        return downstream(run.graph, run.values, node, i, 1.0)
    if node.op.elementwise and shape_of(run.values[inp.id]) == shape_of(value):
        return downstream(run.graph, run.values, node, i, np.ones_like(value))
    return None  # a full Jacobian: shown on request only (--jacobian)


def gradient(run: Run, node: Node) -> Value | None:
    """∂f/∂node, zero when the node does not lead to the output; None when it has no value
    (it does not lead to the output and cannot be computed), and for what has no gradient
    (needs_grad false): an input read as data (an index, a shape), a mask."""
    grad, value = run.grads[node.id], run.values[node.id]
    if grad is not None or value is None or not node.needs_grad:
        return grad
    if run.reached is not None and not run.reached[node.id]:
        return None  # --wrt: not asked for, and not computed
    return 0.0 if type(value) is float else np.zeros_like(value)


def gradients(run: Run) -> dict[str, Value | None]:
    """∂f/∂name for every input (its own gradient) and every named intermediate (its last binding)."""
    graph = run.graph
    return {name: gradient(run, graph.inputs.get(name) or node) for name, node in graph.names.items()}


# --- errors ---------------------------------------------------------------------------------


def shape_of(value: Value | None) -> tuple[int, ...]:
    """A value's shape: () for a scalar (and for no value, which only an error message asks)."""
    return () if isinstance(value, float) or value is None else value.shape


def shape_text(value: Value | None) -> str:
    shape = shape_of(value)
    return "scalar" if not shape else "(" + ", ".join(map(str, shape)) + (",)" if len(shape) == 1 else ")")


def value_text(value: Value | None) -> str:
    if type(value) is float:
        return format_number(value)
    array = cast(Array, value)  # (a value that was computed: not None)
    if array.size <= 6:
        return np.array2string(array, separator=", ")
    return f"an array of shape {shape_text(value)}"


def _where(graph: Graph, node: Node, inputs: Values) -> str:
    """The node's inputs and their values (`inputs`), to say where something failed."""
    seen: set[int] = set()
    parts = []
    for i, value in zip(node.inputs, inputs, strict=True):
        if not (i.op is CONST and not i.name) and i.id not in seen:  # x^x: x once
            seen.add(i.id)
            parts.append(f"{graph.ref(i)} = {value_text(value)}")
    return (", where " + ", ".join(parts)) if parts else ""


def _reason(err: BaseException) -> str:
    if isinstance(err, ZeroDivisionError):
        return "division by zero"
    if isinstance(err, (OverflowError, FloatingPointError)):
        return "overflow: the result is too large for a float"
    return str(err)


def _forward_error(graph: Graph, node: Node, inputs: Values, err: BaseException) -> BpcliError:
    if isinstance(err, ValueError) and "broadcast" in str(err):
        return _shape_error(graph, node, inputs, "the shapes do not broadcast together")
    return DomainError(
        f"in {graph.label(node)} (node #{node.id}): {_reason(err)}{_where(graph, node, inputs)}",
        source=graph.source,
        pos=node.start,
        node=node.id,
        label=graph.label(node),
    )


def _backward_error(graph: Graph, node: Node, i: int, inputs: Values, err: BaseException) -> BpcliError:
    reason = _reason(err)
    if isinstance(err, (ZeroDivisionError, OverflowError, FloatingPointError)):
        reason = "it is infinite or too large for a float"
    ref = graph.ref(node.inputs[i])
    return DomainError(
        f"the gradient of {graph.label(node)} (node #{node.id}) with respect to"
        f" {ref} cannot be computed: {reason}{_where(graph, node, inputs)}",
        source=graph.source,
        pos=node.start,
        node=node.id,
        label=graph.label(node),
    )


def _too_big(graph: Graph, node: Node, reason: str, hint: str | None) -> BpcliError:
    return ShapeError(
        f"{graph.label(node)} (node #{node.id}) is too big to compute: {reason}",
        source=graph.source,
        pos=node.start,
        node=node.id,
        label=graph.label(node),
        hint=hint,
    )


def _shape_error(graph: Graph, node: Node, inputs: Values, reason: str) -> BpcliError:
    shapes = " and ".join(shape_text(v) for v in inputs)
    return ShapeError(
        f"{node.op.name} in {graph.label(node)} (node #{node.id}) cannot take shapes {shapes}: {reason}",
        source=graph.source,
        pos=node.start,
        node=node.id,
        label=graph.label(node),
    )
