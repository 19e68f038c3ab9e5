"""A scalar graph as one straight-line Python function, to evaluate it at many points fast.

`batch` often runs one program at thousands of points. The engine's two loops spend most of
their time on bookkeeping per node (lists of input values, checks, attribute writes). The
function written here makes exactly the engine's calls instead, and nothing else:

    v3 = F3(v1, v2)                      # forward: each op's own scalar function, in order
    ...
    d = D3_0(g3, v3, v1, v2)             # backward: each op's own VJPs, in the engine's order
    g1 = d                               # the first gradient a node gets...
    g1 = g1 + d                          # ...and each one after it, summed in the same order

so every number is the engine's to the last bit (the tests compare them byte for byte). It
returns the output's value and the gradients `engine.gradients` would report, or None when
anything is out of the ordinary: an exception, a number that is not finite, a gate evaluated
at its kink. The caller then takes the engine's path, which says what happened and warns.

Leaves get their values as `batch` gives them: a bound name from the bindings, a number
written in the program from the list of the problem's numbers (as text, with its sign), or
otherwise the constant the graph was built with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from bpcli.core.graph import Graph
from bpcli.limits import SMALLEST_NORMAL, tiny_number_problem
from bpcli.values import Value

MAX_NODES = 2000  # bigger graphs take the engine's loops: the per-node cost matters less there

# (numbers as written, bindings) -> (f, the reported gradients), or None: take the engine's path
Evaluate = Callable[[list[str], dict[str, Value]], "tuple[float, ...] | None"]


def compile_graph(graph: Graph, bound: frozenset[str]) -> Evaluate | None:
    """The graph's forward and backward pass as one function of (numbers, bindings), for the
    names in `bound`; None for graphs it does not cover (arrays, ops with no scalar form)."""
    if graph.has_arrays or len(graph.nodes) > MAX_NODES or graph.upstream is not None:
        return None
    if any(n.inputs and (n.op.scalar is None or n.op.arity < 0) for n in graph.nodes):
        return None
    space: dict[str, object] = {"float": float, "TINY": SMALLEST_NORMAL, "T": _underflowed}
    lines = ["def evaluate(n, b):", " try:"]
    checks: list[str] = []
    as_written: list[str] = []
    lines += _leaves(graph, bound, space, checks, as_written)
    if as_written:  # a number written as nonzero that float() took to 0 or a subnormal (1e-400)
        smallest = ", ".join(f"abs({v})" for v in as_written)
        lines.append(f"  if min(TINY, {smallest}) < TINY and T(n): return None")
    for node in graph.nodes:
        if not node.inputs:
            continue
        k = node.id
        space[f"F{k}"] = node.op.scalar
        args = ", ".join(f"v{i.id}" for i in node.inputs)
        lines.append(f"  v{k} = F{k}({args})")
        checks.append(f"v{k}")
        if node.op.kink is not None:
            space[f"K{k}"] = node.op.kink
            lines.append(f"  if K{k}({args}): return None")
    grads = _backward(graph, space, lines, checks)
    # One sum finds an inf or a nan anywhere (it is then inf or nan). A sum of finite numbers
    # that overflows sends a problem the engine's way for nothing, which is rare and harmless.
    lines.append("  c = 0.0")
    for start in range(0, len(checks), 32):
        lines.append("  c = c + " + " + ".join(checks[start : start + 32]))
    lines.append("  if c - c != 0.0: return None")
    reported = [grads.get((graph.inputs.get(name) or node).id, "0.0") for name, node in graph.names.items()]
    lines.append(f"  return ({', '.join([f'v{graph.output.id}', *reported])},)")
    lines.append(" except (ArithmeticError, ValueError, TypeError, KeyError, IndexError):")
    lines.append("  return None")
    exec(compile("\n".join(lines), "<bpcli compiled graph>", "exec"), space)  # only our own code
    return cast(Evaluate, space["evaluate"])  # the function the lines above define


def _underflowed(numbers: list[str]) -> bool:
    """Whether a number written in the program underflowed (1e-400): the engine's path then
    says why. Looked at only when a number is 0 or below the normal range."""
    return any(tiny_number_problem(text, float(text)) is not None for text in numbers)


def _leaves(
    graph: Graph, bound: frozenset[str], space: dict[str, object], checks: list[str], as_written: list[str]
) -> list[str]:
    """Where each leaf's value comes from: a binding, a written number, else its constant.
    (`as_written`: the variables that hold numbers as written.)"""
    written: dict[int, tuple[int, float]] = {}
    for index, (node, sign) in enumerate(graph.numbers or ()):
        if node is not None:
            written[node.id] = (index, sign)  # as Template.apply: the last number written wins
    lines = []
    read: set[int] = set()
    for node in graph.nodes:
        if node.inputs:
            continue
        k = node.id
        if node.name in bound and graph.inputs.get(node.name) is node:  # as Template.apply
            lines.append(f"  v{k} = float(b[{node.name!r}])")
        elif k in written:
            index, sign = written[k]
            read.add(index)
            lines.append(f"  v{k} = {'' if sign == 1.0 else '-'}float(n[{index}])")
            as_written.append(f"v{k}")
        else:
            space[f"C{k}"] = graph.leaves[k]
            lines.append(f"  v{k} = C{k}")
            continue
        checks.append(f"v{k}")
    for index in range(len(graph.numbers or ())):
        if index not in read:  # a number a binding overrides must still be one (not 1e400)
            lines.append(f"  u{index} = float(n[{index}])")
            checks.append(f"u{index}")
            as_written.append(f"u{index}")
    return lines


def _backward(graph: Graph, space: dict[str, object], lines: list[str], checks: list[str]) -> dict[int, str]:
    """The engine's backward loop, unrolled; returns each reached node's gradient variable."""
    grads = {graph.output.id: f"g{graph.output.id}"}
    lines.append(f"  g{graph.output.id} = 1.0")
    for node in reversed(graph.nodes):
        if node.id not in grads or not node.inputs:
            continue
        k = node.id
        args = ", ".join(f"v{i.id}" for i in node.inputs)
        for i, inp in enumerate(node.inputs):
            if not inp.needs_grad:
                continue
            space[f"D{k}_{i}"] = node.op.vjps[i]
            lines.append(f"  d = D{k}_{i}(g{k}, v{k}, {args})")
            if inp.id in grads:
                lines.append(f"  g{inp.id} = g{inp.id} + d")
            else:
                grads[inp.id] = f"g{inp.id}"
                lines.append(f"  g{inp.id} = d")
    # A gradient that is not finite stays so as more is added to it: checking each sum once,
    # at the end, checks every downstream gradient the engine would have checked.
    checks.extend(grads.values())
    return grads
