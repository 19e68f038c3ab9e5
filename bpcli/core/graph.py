"""The computational graph: nodes in a list, inputs before the nodes that use them."""

from __future__ import annotations

from typing import Any

from bpcli.core.ops import OPS, P_ATOM, P_NEG, Op
from bpcli.limits import MAX_ELEMENTS as MAX_ARRAY_ELEMENTS

CONST = OPS["const"]
INPUT = OPS["input"]

# A label quotes an input's own label only while it is this short; longer ones
# are abbreviated (`1 + exp(…)`), which keeps every label short and building
# all of them linear in the size of the graph.
SHORT = 24
MAX_ELEMENTS = 6  # an array literal's label lists this many of its elements


class Node:
    """One gate or leaf of the graph, with its forward value and its gradient ∂f/∂node."""

    __slots__ = ("end", "grad", "id", "inputs", "name", "needs_grad", "op", "start", "value")

    def __init__(
        self, id: int, op: Op, inputs: tuple[Node, ...], value: Any, start: int, end: int, needs_grad: bool
    ) -> None:
        self.id = id
        self.op = op
        self.inputs = inputs
        self.value = value
        self.grad: Any = None  # None: no path to the output, or a constant
        self.name: str | None = None
        self.start = start  # span in the source text
        self.end = end
        self.needs_grad = needs_grad

    def __repr__(self) -> str:
        return f"<Node #{self.id} {self.op.name} {self.name or ''}>"


class Graph:
    """The nodes of one program in forward (topological) order, and what names them."""

    def __init__(
        self,
        source: str,
        nodes: list[Node],
        output: Node,
        output_text: str,
        inputs: dict[str, Node],
        names: dict[str, Node],
        warnings: list[str],
    ) -> None:
        self.source = source
        self.nodes = nodes
        self.output = output
        self.output_text = output_text  # the output's name, or its expression as written
        self.inputs = inputs  # name -> input node, in order of first appearance
        self.names = names  # name -> the node it was bound to last
        self.warnings = warnings
        self.kinks: list[int] = []  # ids of nodes evaluated where they are not differentiable
        # ids of kinked gates whose side of the kink f does not depend on (--expand's stable
        # circuits shift by min(z, 0) or |z|): never noted as kinks
        self.smooth: set[int] = set()
        self.base_warnings: list[str] | None = None  # the builder's warnings, kept by rebind
        self.sent: dict[tuple[int, int], Any] | None = None  # backward(record=True)
        # (node, sign) for each number written in the program, in order; None when a number
        # went into an array literal. With it, batch re-evaluates the program with other numbers.
        self.numbers: list[tuple[Node | None, float]] | None = None
        self.output_span = (0, 0)  # where the output expression stands in the source
        # an array literal of expressions ([x, y]) makes an array out of scalars
        self._stacks = any(n.op.arity < 0 for n in nodes)
        self.has_arrays = self._stacks or any(type(n.value) is not float for n in nodes if not n.inputs)
        self._labels: list[str] | None = None
        self._exprs: list[str] = []
        self.max_elements = MAX_ARRAY_ELEMENTS  # the most elements a node's array may have
        self.leads: list[bool] | None = None  # engine.leads_to_output, computed once
        self.missing = False  # a node off the output's path could not be computed (value None)

    def rebind(self, bindings: dict[str, Any]) -> Graph:
        """Give bound inputs new values, to evaluate the same program at another point (the
        bindings must name the same inputs as those the graph was built with)."""
        for name, value in bindings.items():
            node = self.inputs.get(name)
            if node is not None:
                node.value = value
        self.warnings = list(self.base_warnings if self.base_warnings is not None else [])
        self.kinks = []
        self._labels = None  # constants may have new values
        self.has_arrays = self._stacks or any(type(n.value) is not float for n in self.nodes if not n.inputs)
        return self

    def labels(self) -> list[str]:
        """Each node's expression, written with its inputs' names or short labels."""
        if self._labels is None:
            exprs: list[str] = []
            for node in self.nodes:
                exprs.append(_expression(node, exprs))
            self._labels = [
                f"{n.name} = {e}" if n.name and e != n.name else e
                for n, e in zip(self.nodes, exprs, strict=False)
            ]
            self._exprs = exprs
        return self._labels

    def ref(self, node: Node, atomic: bool = False) -> str:
        """How other labels and formulas refer to a node: its name, else its expression.

        With `atomic`, an expression that is not a single term comes in parentheses."""
        self.labels()
        text = node.name or self._exprs[node.id]
        return f"({text})" if atomic and precedence(node, text) < P_ATOM else text

    def label(self, node: Node) -> str:
        return self.labels()[node.id]


def format_number(value: float) -> str:
    """A float as a literal, as short as it round-trips: 1.0 -> '1'."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def precedence(node: Node, expr: str) -> int:
    if node.name:
        return P_ATOM
    if node.op is CONST or node.op is INPUT:
        return P_NEG if expr.startswith("-") else P_ATOM
    return node.op.prec


def _expression(node: Node, exprs: list[str]) -> str:
    op = node.op
    if op is INPUT:
        return node.name or "?"
    if op is CONST:
        return _const_text(node)
    parts = []
    inputs = node.inputs
    if op.arity < 0 and len(inputs) > MAX_ELEMENTS:  # a long array literal: its first elements
        inputs = inputs[:MAX_ELEMENTS]
    for i, child in enumerate(inputs):
        text = child.name or exprs[child.id]
        if not child.name and len(text) > SHORT:
            text = _abbreviated(child)
            prec = P_ATOM
        else:
            prec = precedence(child, text)
        need = op.slots[i] if op.arity >= 0 else 0
        parts.append(f"({text})" if prec < need else text)
    if op.arity < 0:
        more = len(node.inputs) - len(inputs)
        return "[" + ", ".join(parts) + (f", … {more:,} more]" if more else "]")
    return op.template.format(*parts)


def _abbreviated(node: Node) -> str:
    op = node.op
    if op.template.endswith(")") and op.prec == P_ATOM and op.arity > 0:
        return op.template.split("(", 1)[0] + "(…)"
    return "[…]" if op.arity < 0 else "…"


def _const_text(node: Node) -> str:
    if node.name:
        return node.name
    value = node.value
    if type(value) is float:
        return format_number(value)
    return "[…]" if value.size > 6 else _array_literal(value.tolist())


def _array_literal(items: Any) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_array_literal(i) for i in items) + "]"
    return format_number(items)


def consumers(graph: Graph) -> list[list[tuple[Node, int]]]:
    """For each node, the (gate, input index) pairs that use it."""
    users: list[list[tuple[Node, int]]] = [[] for _ in graph.nodes]
    for node in graph.nodes:
        for i, inp in enumerate(node.inputs):
            users[inp.id].append((node, i))
    return users
