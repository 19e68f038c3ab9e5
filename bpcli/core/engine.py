"""The forward and backward passes: two loops over the node list, no recursion.

forward:  for node in graph: node.value = op(*input values)
backward: seed ∂f/∂f = 1, then for node in reversed(graph), for each input:
          input.grad += vjp(upstream, ans, *input values)   (downstream = upstream × local)
"""

from __future__ import annotations

import math
from typing import Any

from bpcli.core.graph import Graph, Node, format_number
from bpcli.core.ops import CONST, ShapeMismatch, unbroadcast
from bpcli.errors import BpcliError, DomainError, ShapeError
from bpcli.lazy import all_finite, np
from bpcli.limits import held_problem, shape_problem
from bpcli.texts import Translator

_ARITHMETIC = (ValueError, ZeroDivisionError, OverflowError, ArithmeticError)


class InternalError(Exception):
    """A bug in bpcli itself (never the user's fault)."""


def run(graph: Graph, record: bool = False) -> Graph:
    """Forward then backward; returns the same graph, now with values and gradients.
    With `record`, keep what each gate sent to each input (graph.sent), for presenters."""
    forward(graph)
    backward(graph, record)
    return graph


# --- forward -------------------------------------------------------------------------------


def forward(graph: Graph) -> None:
    """Compute every node's value in order; raise DomainError at the first bad node that leads
    to the output (one that does not gets no value, and a warning); note the nodes evaluated
    at a kink."""
    for node, err in forward_values(graph):
        graph.warnings.append(
            f"{graph.label(node)} (node #{node.id}) is not used by {graph.output.name or 'f'}"
            f" and cannot be computed: {_reason(err)}{_where(graph, node)}"
        )
    _note_kinks(graph)


def forward_values(graph: Graph, nodes: list[Node] | None = None) -> list[tuple[Node, BaseException]]:
    """Compute every node's value in order, and nothing else (or only those in `nodes`, in
    forward order: the others keep their values). A node that does not lead to the output and
    cannot be computed gets the value None, as do the nodes computed from it; returns the
    nodes that could not be computed (not those computed from them), each with its error."""
    if graph.has_arrays:
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            return _forward(graph, arrays=True, nodes=nodes)
    return _forward(graph, arrays=False, nodes=nodes)


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


def _forward(graph: Graph, arrays: bool, nodes: list[Node] | None = None) -> list[tuple[Node, BaseException]]:
    failed: list[tuple[Node, BaseException]] = []
    # what the arrays hold together (a full pass only: a partial one replaces values)
    held = (
        sum(n.value.size for n in graph.nodes if not n.inputs and type(n.value) is not float)
        if arrays and nodes is None
        else 0
    )
    for node in graph.nodes if nodes is None else nodes:
        inputs = node.inputs
        if not inputs:
            continue
        op = node.op
        values = [i.value for i in inputs]
        if graph.missing and any(v is None for v in values):  # from a node with no value
            node.value = None
            continue
        try:
            if op.scalar is not None and (not arrays or all(type(v) is float for v in values)):
                value = op.scalar(*values)
            else:
                shape = None
                if op.shape is not None:  # refuse a result too big to make before making it
                    shape = op.shape([shape_of(v) for v in values])
                    problem = shape_problem(shape, graph.max_elements)
                    if problem is None and nodes is None and shape:  # an array, not a float
                        held += math.prod(shape)
                        problem = held_problem(held, graph.max_elements)
                    if problem is not None:
                        raise _too_big(graph, node, *problem)
                value = _as_value(op.array(*values))  # type: ignore[misc]
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
            raise _shape_error(graph, node, str(err)) from None
        except _ARITHMETIC as err:
            if leads_to_output(graph)[node.id]:
                raise _forward_error(graph, node, err) from None
            node.value = None  # not used by the output: the run goes on without it
            graph.missing = True
            failed.append((node, err))
            continue
        node.value = value
    return failed


def _as_value(value: Any) -> Any:
    """Scalars as Python floats, arrays as float64 ndarrays."""
    if type(value) is float:
        return value
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else array


def _note_kinks(graph: Graph) -> None:
    graph.kinks = []
    for node in graph.nodes:
        kink = node.op.kink
        if (
            kink is not None
            and node.id not in graph.smooth
            and node.value is not None
            and kink(*[i.value for i in node.inputs])
        ):
            graph.kinks.append(node.id)
            convention = Translator()(node.op.convention)  # the warnings are in English
            graph.warnings.append(
                f"{node.op.name} at node #{node.id} ({graph.label(node)}) is evaluated where it is"
                f" not differentiable; bpcli takes PyTorch's convention: {convention}"
            )


# --- backward -------------------------------------------------------------------------------


def backward(graph: Graph, record: bool = False) -> None:
    """Fill node.grad = ∂f/∂node for every node that leads to the output; with `record`,
    also graph.sent[(node id, input index)] = the downstream gradient along that wire."""
    output = graph.output
    if type(output.value) is not float:
        raise ShapeError(
            f"the output {graph.output_text} has shape {shape_text(output.value)}: backpropagation"
            " needs a scalar output",
            hint=f"try sum({graph.output_text}) or norm({graph.output_text})",
        )
    for node in graph.nodes:
        node.grad = None
    output.grad = 1.0
    sent: dict[tuple[int, int], Any] | None = {} if record else None
    graph.sent = sent
    if graph.has_arrays:
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            _backward_arrays(graph, sent)
    else:
        _backward_scalars(graph, sent)


def _backward_scalars(graph: Graph, sent: dict[tuple[int, int], Any] | None) -> None:
    for node in reversed(graph.nodes):
        g = node.grad
        if g is None or not node.inputs:
            continue
        ans = node.value
        values = [i.value for i in node.inputs]
        vjps = node.op.vjps
        for i, inp in enumerate(node.inputs):
            if not inp.needs_grad:
                continue
            try:
                d = vjps[i](g, ans, *values)
            except _ARITHMETIC as err:
                raise _backward_error(graph, node, i, err) from None
            if d - d != 0.0:
                raise _backward_error(graph, node, i, OverflowError())
            if inp.grad is None:
                inp.grad = d
            else:
                total = inp.grad + d
                if total - total != 0.0:
                    raise fanout_error(graph, inp, node)
                inp.grad = total
            if sent is not None:
                sent[node.id, i] = d


def _backward_arrays(graph: Graph, sent: dict[tuple[int, int], Any] | None) -> None:
    for node in reversed(graph.nodes):
        g = node.grad
        if g is None or not node.inputs:
            continue
        values = [x.value for x in node.inputs]
        for i, inp in enumerate(node.inputs):
            if not inp.needs_grad:
                continue
            d = downstream(graph, node, i, values=values)
            inp.grad = d if inp.grad is None else accumulate(graph, inp, node, inp.grad, d)
            if sent is not None:
                sent[node.id, i] = d


def downstream(
    graph: Graph, node: Node, i: int, upstream: Any = None, values: list[Any] | None = None
) -> Any:
    """The gradient node sends to its input i: upstream × local, shaped like that input.
    (`values` replaces the inputs' values, to take a one-sided derivative at a kink.)"""
    g = node.grad if upstream is None else upstream
    inp = node.inputs[i]
    if values is None:
        values = [x.value for x in node.inputs]
    op = node.op
    scalar = type(g) is float and all(type(v) is float for v in values)
    try:
        vjp = (op.vjps if scalar else op.array_vjps)[i]
        d = vjp(g, node.value, values) if op.arity < 0 else vjp(g, node.value, *values)
        if not scalar:
            if op.broadcast:
                d = unbroadcast(d, inp.value)
            d = _as_value(d)
    except _ARITHMETIC as err:
        raise _backward_error(graph, node, i, err) from None
    if type(d) is float:
        if d - d != 0.0:
            raise _backward_error(graph, node, i, OverflowError())
    else:
        if shape_of(d) != shape_of(inp.value):
            raise InternalError(
                f"the VJP of {op.name} for input {i} has shape {shape_of(d)},"
                f" but the input has shape {shape_of(inp.value)}"
            )
        if not all_finite(d):
            raise _backward_error(graph, node, i, OverflowError())
    return d


def one_sided_gradients(graph: Graph, sides: dict[int, float]) -> dict[int, Any]:
    """∂f/∂node for every node, as if each kinked node in `sides` had its first input just
    above (+1) or just below (-1) its kink: the other conventions a student may have used.
    The graph's own gradients are left as they are."""
    grads: dict[int, Any] = {graph.output.id: 1.0}
    for node in reversed(graph.nodes):
        g = grads.get(node.id)
        if g is None or not node.inputs:
            continue
        values = None
        if node.id in sides:
            values = [x.value for x in node.inputs]
            step = 1e-9 * max(1.0, float(np.max(np.abs(values[0]))))
            values[0] = values[0] + sides[node.id] * step
        for i, inp in enumerate(node.inputs):
            if inp.needs_grad:
                d = downstream(graph, node, i, upstream=g, values=values)
                grads[inp.id] = d if inp.id not in grads else accumulate(graph, inp, node, grads[inp.id], d)
    return grads


def accumulate(graph: Graph, inp: Node, node: Node, total: Any, d: Any) -> Any:
    """total + d, the gradient `inp` has gathered so far plus what `node` sends it, or
    DomainError (fanout_error) when the sum is not finite. Every place that adds up the
    branches of a fan-out goes through here."""
    if type(total) is float and type(d) is float:
        result = total + d
        if result - result != 0.0:
            raise fanout_error(graph, inp, node)
        return result
    with np.errstate(over="ignore", invalid="ignore"):
        result = total + d
    if type(result) is float:
        if result - result != 0.0:
            raise fanout_error(graph, inp, node)
    elif not all_finite(result):
        raise fanout_error(graph, inp, node)
    return result


def fanout_error(graph: Graph, inp: Node, node: Node) -> BpcliError:
    """The gradient of `inp` overflowed when the branch through `node` was added to those
    through the nodes after it (the backward pass visits them in reverse)."""
    branches = sorted(
        {n.id for n in graph.nodes[node.id :] if n.grad is not None and any(x is inp for x in n.inputs)}
    )
    listed = [f"#{k}" for k in branches]
    through = (", ".join(listed[:-1]) + " and " + listed[-1]) if len(listed) > 1 else listed[0]
    return DomainError(
        f"∂{graph.output.name or 'f'}/∂{graph.ref(inp)} overflows: its branches"
        f" through {through} add up past the float range",
        source=graph.source,
        pos=inp.start,
        hint="every branch is finite, but their sum is not; rescale the program's numbers",
    )


def local(graph: Graph, node: Node, i: int) -> Any:
    """∂node/∂input_i as a number, or for an elementwise op on arrays its diagonal; else None."""
    inp = node.inputs[i]
    if not inp.needs_grad or node.value is None:
        return None
    if type(node.value) is float and type(inp.value) is float:
        return downstream(graph, node, i, upstream=1.0)
    if node.op.elementwise and shape_of(inp.value) == shape_of(node.value):
        return downstream(graph, node, i, upstream=np.ones_like(node.value))
    return None  # a full Jacobian: shown on request only (--jacobian)


def gradient(node: Node) -> Any:
    """∂f/∂node, zero when the node does not lead to the output; None when it has no value
    (it does not lead to the output and cannot be computed)."""
    if node.grad is not None or node.value is None:
        return node.grad
    return 0.0 if type(node.value) is float else np.zeros_like(node.value)


def gradients(graph: Graph) -> dict[str, Any]:
    """∂f/∂name for every input (its own gradient) and every named intermediate (its last binding)."""
    return {name: gradient(graph.inputs.get(name) or node) for name, node in graph.names.items()}


# --- errors ---------------------------------------------------------------------------------


def shape_of(value: Any) -> tuple[int, ...]:
    return () if type(value) is float else tuple(value.shape)


def shape_text(value: Any) -> str:
    shape = shape_of(value)
    return "scalar" if not shape else "(" + ", ".join(map(str, shape)) + (",)" if len(shape) == 1 else ")")


def value_text(value: Any) -> str:
    if type(value) is float:
        return format_number(value)
    if value.size <= 6:
        return np.array2string(value, separator=", ")
    return f"an array of shape {shape_text(value)}"


def _where(graph: Graph, node: Node) -> str:
    seen: set[int] = set()
    parts = []
    for i in node.inputs:
        if not (i.op is CONST and not i.name) and i.id not in seen:  # x^x: x once
            seen.add(i.id)
            parts.append(f"{graph.ref(i)} = {value_text(i.value)}")
    return (", where " + ", ".join(parts)) if parts else ""


def _reason(err: BaseException) -> str:
    if isinstance(err, ZeroDivisionError):
        return "division by zero"
    if isinstance(err, (OverflowError, FloatingPointError)):
        return "overflow: the result is too large for a float"
    return str(err)


def _forward_error(graph: Graph, node: Node, err: BaseException) -> BpcliError:
    if isinstance(err, ValueError) and "broadcast" in str(err):
        return _shape_error(graph, node, "the shapes do not broadcast together")
    return DomainError(
        f"in {graph.label(node)} (node #{node.id}): {_reason(err)}{_where(graph, node)}",
        source=graph.source,
        pos=node.start,
    )


def _backward_error(graph: Graph, node: Node, i: int, err: BaseException) -> BpcliError:
    reason = _reason(err)
    if isinstance(err, (ZeroDivisionError, OverflowError, FloatingPointError)):
        reason = "it is infinite or too large for a float"
    ref = graph.ref(node.inputs[i])
    return DomainError(
        f"the gradient of {graph.label(node)} (node #{node.id}) with respect to"
        f" {ref} cannot be computed: {reason}{_where(graph, node)}",
        source=graph.source,
        pos=node.start,
    )


def _too_big(graph: Graph, node: Node, reason: str, hint: str | None) -> BpcliError:
    return ShapeError(
        f"{graph.label(node)} (node #{node.id}) is too big to compute: {reason}",
        source=graph.source,
        pos=node.start,
        hint=hint,
    )


def _shape_error(graph: Graph, node: Node, reason: str) -> BpcliError:
    shapes = " and ".join(shape_text(i.value) for i in node.inputs)
    return ShapeError(
        f"{node.op.name} in {graph.label(node)} (node #{node.id}) cannot take shapes {shapes}: {reason}",
        source=graph.source,
        pos=node.start,
    )
