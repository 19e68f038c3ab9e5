"""The computational graph: nodes in a list, inputs before the nodes that use them."""

from __future__ import annotations

import re
from typing import TypeAlias

from bpcli.core.ops import OPS, P_ATOM, P_NEG, Op
from bpcli.limits import MAX_ELEMENTS as MAX_ARRAY_ELEMENTS
from bpcli.values import Value

CONST = OPS["const"]
INPUT = OPS["input"]

# A label quotes an input's own label only while it is this short; longer ones
# are abbreviated (`1 + exp(…)`), which keeps every label short and building
# all of them linear in the size of the graph.
SHORT = 24
MAX_ELEMENTS = 6  # an array literal's label lists this many of its elements

Nested: TypeAlias = "float | list[Nested]"  # an array's elements, as its tolist() gives them


class Scope:
    """Where nodes were made, when not at the program's top level: inside a call of a
    function the program defines, or in one iteration of a loop, within its parent scope.

    A call's scope names the function (`rnn_step_forward`); an iteration's names its loop
    variables and their values at that iteration (`t = 2`). Every node made there shares
    the one Scope object, so nodes of one call or iteration are told by identity."""

    __slots__ = ("calls", "function", "parent", "variables")

    def __init__(
        self, parent: Scope | None, function: str | None = None, variables: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.parent = parent
        self.function = function  # the function called, or None for a loop's iteration
        self.variables = variables  # (loop variable, its value as text), for an iteration
        # how many calls deep this is (0: an iteration of a loop at the top level)
        self.calls: int = (parent.calls if parent is not None else 0) + (function is not None)

    def chain(self) -> list[Scope]:
        """This scope and its parents, outermost first."""
        chain: list[Scope] = []
        scope: Scope | None = self
        while scope is not None:
            chain.append(scope)
            scope = scope.parent
        chain.reverse()
        return chain

    def _parts(self) -> tuple[str | None, list[tuple[str, str]]]:
        """The innermost function, and the loop variables in effect (outermost first)."""
        function = None
        variables: list[tuple[str, str]] = []
        for scope in self.chain():
            if scope.function is not None:
                function = scope.function
            variables.extend(scope.variables)
        return function, variables

    def label(self) -> str:
        """Short, for a node's label: `rnn_step_forward@t=2`, `@i=0,j=1` for loops alone."""
        function, variables = self._parts()
        at = ",".join(f"{name}={value}" for name, value in variables)
        return (function or "") + (f"@{at}" if at else "")

    def heading(self) -> str:
        """For a heading line over the nodes made here: `rnn_step_forward, t = 2`."""
        function, variables = self._parts()
        parts = [function] if function else []
        parts += [f"{name} = {value}" for name, value in variables]
        return ", ".join(parts)

    def __repr__(self) -> str:
        return f"<Scope {self.label()}>"


class Node:
    """One gate or leaf of the graph: its structure only. Values and gradients belong to a run
    (bpcli.core.run.Run), by node id; a leaf's value to the graph (Graph.leaves). `scope`: the
    call or iteration the node was made in, None at the top level."""

    __slots__ = ("end", "id", "inputs", "name", "needs_grad", "op", "scope", "start")

    def __init__(
        self, id: int, op: Op, inputs: tuple[Node, ...], start: int, end: int, needs_grad: bool
    ) -> None:
        self.id = id
        self.op = op
        self.inputs = inputs
        self.name: str | None = None
        self.start = start  # span in the source text
        self.end = end
        self.needs_grad = needs_grad
        self.scope: Scope | None = None

    def __repr__(self) -> str:
        return f"<Node #{self.id} {self.op.name} {self.name or ''}>"


class Graph:
    """One program: its nodes in forward (topological) order, what names them, and the values
    of its leaves (inputs as bound, constants). Nothing changes it once the builder returns:
    the same program at another point is another Graph sharing these nodes (`replace`)."""

    def __init__(
        self,
        source: str,
        nodes: list[Node],
        output: Node,
        output_text: str,
        inputs: dict[str, Node],
        names: dict[str, Node],
        leaves: list[Value | None],
        warnings: tuple[str, ...] = (),
        smooth: frozenset[int] = frozenset(),
        numbers: list[tuple[Node | None, float]] | None = None,
        output_span: tuple[int, int] = (0, 0),
        max_elements: int = MAX_ARRAY_ELEMENTS,
    ) -> None:
        self.source = source
        self.nodes = nodes
        self.output = output
        self.output_text = output_text  # the output's name, or its expression as written
        self.inputs = inputs  # name -> input node, in order of first appearance
        self.names = names  # name -> the node it was bound to last
        self.leaves = leaves  # by node id: a leaf's value; None for a gate
        self.warnings = warnings  # the builder's
        # ids of kinked gates whose side of the kink f does not depend on (--expand's stable
        # circuits shift by min(z, 0) or |z|): never noted as kinks
        self.smooth = smooth
        # (node, sign) for each number written in the program, in order; None when a number
        # went into an array literal. With it, batch re-evaluates the program with other numbers.
        self.numbers = numbers
        self.output_span = output_span  # where the output expression stands in the source
        self.max_elements = max_elements  # the most elements a node's array may have
        # an array literal of expressions ([x, y]), or an op with no form on floats
        # (x.reshape(1, 1)), makes an array out of scalars
        self._stacks = any(n.op.arity < 0 or (n.op.scalar is None and n.inputs) for n in nodes)
        self.has_arrays = self._stacks or _any_array(leaves)
        self._labels: list[str] | None = None
        self._exprs: list[str] = []
        self.leads: list[bool] | None = None  # engine.leads_to_output, computed once
        # --upstream: the gradient given to flow into the output (cs231n's dout), which the
        # backward pass starts from instead of 1; and what it is called (dout). None: f is
        # the output itself, a scalar, and ∂f/∂f = 1.
        self.upstream: Value | None = None
        self.upstream_name = ""
        self.printed: tuple[str, ...] = ()  # what the program's print(…) calls wrote
        self.notes: tuple[str, ...] = ()  # how the builder chose the output, where it had to

    @property
    def symbol(self) -> str:
        """What the output is called in ∂·/∂x: its name when it has one (∂loss/∂W), else f.
        With --upstream the gradients are of a loss beyond the output, which is f."""
        text = self.output_text
        if self.upstream is None and text.isidentifier() and len(text) <= 12:
            return text
        return "f"

    def replace(
        self,
        *,
        leaves: list[Value | None] | None = None,
        source: str | None = None,
        output_text: str | None = None,
        warnings: tuple[str, ...] | None = None,
    ) -> Graph:
        """The same program with other leaf values, text or builder's warnings: a new graph
        sharing this one's nodes and names (batch's reuse: the program at another point)."""
        graph = Graph.__new__(Graph)
        graph.__dict__.update(self.__dict__)
        if leaves is not None:
            graph.leaves = leaves
            graph.has_arrays = self._stacks or _any_array(leaves)
            graph._labels, graph._exprs = None, []  # constants may have other values
        if source is not None:
            graph.source = source
        if output_text is not None:
            graph.output_text = output_text
        if warnings is not None:
            graph.warnings = warnings
        return graph

    def with_upstream(self, value: Value, name: str) -> Graph:
        """The same program with the gradient `value` (called `name`) flowing into its output:
        the backward pass starts from it (cs231n's `dout`), and the output may be an array."""
        graph = self.replace()
        graph.upstream, graph.upstream_name = value, name
        return graph

    def labels(self) -> list[str]:
        """Each node's expression, written with its inputs' names or short labels."""
        if self._labels is None:
            exprs: list[str] = []
            for node in self.nodes:
                exprs.append(_expression(node, exprs, self.leaves))
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


def _any_array(leaves: list[Value | None]) -> bool:
    return any(type(v) is not float for v in leaves if v is not None)


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


def _expression(node: Node, exprs: list[str], leaves: list[Value | None]) -> str:
    op = node.op
    if op is INPUT:
        return node.name or "?"
    if op is CONST:
        return _const_text(node, leaves[node.id])
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
        listed = "[" + ", ".join(parts) + (f", … {more:,} more]" if more else "]")
        # a family's member writes its list where its template has […]: concatenate([a, b], axis=0)
        return op.template.replace("[…]", listed, 1) if "[…]" in op.template else listed
    return op.template.format(*parts)


def _abbreviated(node: Node) -> str:
    op = node.op
    if op.template.endswith(")") and op.prec == P_ATOM and op.arity != 0 and "(" in op.template:
        head = op.template.split("(", 1)[0]
        if head.isidentifier():  # sum(…), concatenate(…); not x.reshape(2, 2), x.at[i].set(v)
            return head + "(…)"
    return "[…]" if op.arity < 0 else "…"


def _const_text(node: Node, value: Value | None) -> str:
    if node.name:
        return node.name
    if isinstance(value, float):
        return format_number(value)
    assert value is not None, "a constant has a value"
    return "[…]" if value.size > 6 else _array_literal(value.tolist())


def _array_literal(items: Nested) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_array_literal(i) for i in items) + "]"
    return format_number(items)


def data_use(graph: Graph, node: Node) -> str:
    """How an input read as data (no gradient) is used: "index" when an index in the program
    names it (s[arange(N), y]), else "value" (a shape, an axis, or an index computed from it);
    "" for a node that is not such an input."""
    if node.op is not INPUT or node.needs_grad or not node.name:
        return ""
    word = re.compile(r"(?<![\w.])" + re.escape(node.name) + r"(?!\w)")
    for gate in graph.nodes:
        for key, param in gate.op.params:
            if key == "index" and isinstance(param, str) and word.search(param):
                return "index"
    return "value"


def consumers(graph: Graph) -> list[list[tuple[Node, int]]]:
    """For each node, the (gate, input index) pairs that use it."""
    users: list[list[tuple[Node, int]]] = [[] for _ in graph.nodes]
    for node in graph.nodes:
        for i, inp in enumerate(node.inputs):
            users[inp.id].append((node, i))
    return users
