"""Builds the graph while the parser reads: one callback per grammar rule.

The LALR parser calls these methods as it reduces each rule, so no parse tree is
ever built and nothing recurses. Nodes are appended as they are created, inputs
first, so the node list is already in topological order.

Expression callbacks return a `Use`: the node and where this occurrence of it stands
in the source, since a name used twice is one node with two spans.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from bpcli.core.graph import CONST, INPUT, Graph, Node
from bpcli.core.ops import FUNCTIONS, FUSED, OPS, REDUCTIONS, Op, ShapeMismatch
from bpcli.errors import ProgramError, ShapeError
from bpcli.language import _tables
from bpcli.limits import MAX_DIMENSIONS, MAX_ELEMENTS, shape_problem, tiny_number_problem
from bpcli.values import Value

if TYPE_CHECKING:
    from bpcli.core.ops.registry import Forward, ShapeRule
    from bpcli.language.lalr import Token

CONSTANTS = {"pi": math.pi, "e": math.e}
BINARY = {"+": OPS["add"], "-": OPS["sub"], "*": OPS["mul"], "/": OPS["div"]}
ID = OPS["id"]
STACK = OPS["stack"]  # an array literal
# (the stack op has a shape rule and a form on arrays: looked up once, not per literal)
STACK_SHAPE = cast("ShapeRule", STACK.shape)
STACK_ARRAY = cast("Forward", STACK.array)

MAX_OUTPUT_TEXT = 80  # an output expression longer than this is shortened with "…"
COMMENT = re.compile(dict(_tables.LEXER)["COMMENT"])  # not part of an output's text

Use = tuple[Node, int, int]  # a node, and the span of this occurrence of it in the source
# A rule's children mixing tokens and Uses in the order the grammar fixes them (`paren` gets
# [Token, Use, Token]): a list type cannot say which is where, and unpacking them must stay
# as cheap as it is, so they are Any.
Mixed: TypeAlias = "list[Any]"


def _binary(name: str) -> Callable[[Builder, list[Use]], Use]:
    """The callback of a binary operator's rule (Builder.add, …): a gate of op `name`."""
    op = OPS[name]

    def build(self: Builder, children: list[Use]) -> Use:
        (left, start, _), (right, _, end) = children
        return self._node(op, (left, right), start, end), start, end

    build.__name__ = name
    return build


class Builder:
    """Per-parse state, and the callbacks the parser calls (named after grammar rules)."""

    def reset(
        self, source: str, bindings: dict[str, Value], expand: bool = False, max_elements: int = MAX_ELEMENTS
    ) -> None:
        self.source = source
        self.max_elements = max_elements  # the most elements an array may have
        self.expand = expand  # composite gates as their primitive circuits
        self.bindings = bindings
        self.used: set[str] = set()
        self.nodes: list[Node] = []
        self.values: list[Value | None] = []  # by node id: a leaf's value, None for a gate
        self.env: dict[str, Node] = {}  # name -> node it is bound to now
        self.inputs: dict[str, Node] = {}
        self.builtins: dict[str, Node] = {}
        self.literals: set[int] = set()  # ids of unnamed number/array literals
        self.unbound: dict[str, int] = {}  # name -> offset of first use
        self.warnings: list[str] = []
        self.output: Node | None = None
        self.output_text = ""
        self.unused_statement: int | None = None  # offset of an expression statement not last
        # For re-evaluating the same program with other numbers (batch): the node and sign
        # of each NUMBER token in order, or None when that number no longer has a node.
        self.numbers: list[tuple[Node | None, float]] = []
        self.reusable = True  # false once numbers fold into an array literal
        self.output_span = (0, 0)
        # --expand: ids of gates whose kinks do not reach f (Graph.smooth), and for the
        # last node of each expansion, (the composite's name, where its nodes begin)
        self.smooth: set[int] = set()
        self.expanded: dict[int, tuple[Op, int]] = {}
        self._operands: dict[int, tuple[Node, ...]] = {}

    # --- creating nodes --------------------------------------------------------------

    def _node(
        self,
        op: Op,
        inputs: tuple[Node, ...],
        start: int,
        end: int,
        value: Value | None = None,
        needs_grad: bool | None = None,
    ) -> Node:
        if needs_grad is None:
            needs_grad = any(i.needs_grad for i in inputs)
        node = Node(len(self.nodes), op, inputs, start, end, needs_grad)
        self.nodes.append(node)
        self.values.append(value)
        return node

    def _literal(self, value: Value, start: int, end: int) -> Node:
        node = self._node(CONST, (), start, end, value, False)
        self.literals.add(node.id)
        return node

    def _is_literal(self, node: Node) -> bool:
        return node.id in self.literals and node is self.nodes[-1]

    def _composite(self, node: Node) -> Op:
        """The gate a node is the result of: its op, or the composite it is the expansion of."""
        expanded = self.expanded.get(node.id)
        return expanded[0] if expanded is not None else node.op

    def _pop(self, node: Node) -> None:
        assert node is self.nodes[-1]
        self.nodes.pop()
        self.values.pop()
        self.literals.discard(node.id)
        if self.numbers and self.numbers[-1][0] is node:
            self.numbers[-1] = (None, self.numbers[-1][1])

    def _input(self, name: str, value: Value, start: int, end: int) -> Node:
        node = self._node(INPUT, (), start, end, value, True)
        node.name = name
        self.inputs[name] = node
        self.env[name] = node
        return node

    def _lookup(self, token: Token) -> Node:
        name = str(token)
        node = self.env.get(name)
        if node is not None:
            return node
        if name in self.bindings:
            self.used.add(name)
            return self._input(name, self.bindings[name], token.start_pos, token.end_pos)
        if name in CONSTANTS:
            node = self.builtins.get(name)
            if node is None:
                node = self._node(CONST, (), token.start_pos, token.end_pos, CONSTANTS[name], False)
                node.name = name
                self.builtins[name] = node
            return node
        if name in FUNCTIONS:
            raise self._error(f"{name} is a function: call it as {name}(…)", token.start_pos)
        self.unbound.setdefault(name, token.start_pos)
        return self._input(name, math.nan, token.start_pos, token.end_pos)

    def _error(self, message: str, pos: int, hint: str | None = None) -> ProgramError:
        return ProgramError(message, source=self.source, pos=pos, hint=hint)

    # --- statements -------------------------------------------------------------------

    def start(self, children: list[None]) -> None:
        return None

    def stmts(self, children: list[None]) -> None:
        return None  # each statement has done its work when it was reduced

    def _statement(self, node: Node, text: str, start: int) -> None:
        if self.unused_statement is not None:
            line = self.source.count("\n", 0, self.unused_statement) + 1
            self.warnings.append(
                f"the expression on line {line} is not used: only the last statement is the output"
            )
            self.unused_statement = None
        self.output, self.output_text = node, text

    def expr_stmt(self, children: list[Use]) -> None:
        ((node, start, end),) = children
        self._statement(node, node.name or output_text(self.source, start, end), start)
        self.output_span = (start, end)
        self.unused_statement = start

    def assign(self, children: Mixed) -> None:
        token, (node, _, end) = children
        self._assign(token, node, end)

    def augassign(self, children: Mixed) -> None:
        token, augop, (right, _, end) = children
        left = self._lookup(token)
        node = self._node(BINARY[str(augop)[0]], (left, right), token.start_pos, end)
        self._assign(token, node, end)

    def _assign(self, token: Token, node: Node, end: int) -> None:
        name = str(token)
        prior = self.env.get(name)
        if self._is_literal(node):
            if prior is None:  # `x = -2`: x is an input
                if name in self.bindings:
                    self.used.add(name)
                    self.values[node.id] = self.bindings[name]
                self.literals.discard(node.id)
                node.op, node.needs_grad, node.name = INPUT, True, name
                node.start = token.start_pos
                self.inputs[name] = node
                self.env[name] = node
                self._statement(node, name, token.start_pos)
                return
            if prior.op is INPUT and name in self.bindings:  # the binding overrides it
                self._pop(node)
                self._statement(prior, name, token.start_pos)
                return
        elif prior is None and name in self.bindings:
            raise self._error(
                f"{name} is computed by the program, so it cannot be bound to a value",
                token.start_pos,
                hint=f"remove the binding {name}=…, or bind the inputs it uses",
            )
        if node.name or node.op is INPUT:  # already named: `b = a` gets a node of its own
            node = self._node(ID, (node,), token.start_pos, end)
        self.literals.discard(node.id)
        node.name = name
        node.needs_grad = True  # ∂f/∂name is reported even for constant intermediates
        if prior is not None and prior is self.inputs.get(name):
            line = self.source.count("\n", 0, token.start_pos) + 1
            self.warnings.append(
                f"{name} is an input and is assigned again on line {line}:"
                f" ∂f/∂{name} is reported for the input"
            )
        self.env[name] = node
        self._statement(node, name, token.start_pos)

    # --- expressions ------------------------------------------------------------------

    def number(self, children: list[Token]) -> Use:
        (token,) = children
        start, end = token.start_pos, token.end_pos
        value = float(token.value)
        if value == math.inf:
            raise self._error(
                f"the number {token.value} is too large for a float (at most about 1.8e308)", start
            )
        tiny = tiny_number_problem(token.value, value)
        if tiny is not None:
            raise self._error(f"the number {tiny}", start)
        node = self._literal(value, start, end)
        self.numbers.append((node, 1.0))
        return node, start, end

    def name(self, children: list[Token]) -> Use:
        (token,) = children
        return self._lookup(token), token.start_pos, token.end_pos

    def paren(self, children: Mixed) -> Use:
        left, (node, _, _), right = children
        return node, left.start_pos, right.end_pos

    def neg(self, children: Mixed) -> Use:
        minus, (operand, _, end) = children
        start = minus.start_pos
        if self._is_literal(operand):  # -3 is a number, not a gate
            number = self.numbers[-1] if self.numbers and self.numbers[-1][0] is operand else None
            value = self.values[operand.id]
            self._pop(operand)
            node = self._literal(-value, start, end)
            if number is not None:
                self.numbers[-1] = (node, -number[1])
            return node, start, end
        return self._node(OPS["neg"], (operand,), start, end), start, end

    def pos(self, children: Mixed) -> Use:
        plus, (node, _, end) = children
        return node, plus.start_pos, end

    add = _binary("add")
    sub = _binary("sub")
    mul = _binary("mul")
    div = _binary("div")
    matmul = _binary("matmul")

    def pow(self, children: Mixed) -> Use:
        (base, start, _), _, (exponent, _, end) = children
        return self._node(OPS["pow"], (base, exponent), start, end), start, end

    def transpose(self, children: Mixed) -> Use:
        (operand, start, _), token = children
        end = token.end_pos
        return self._node(OPS["transpose"], (operand,), start, end), start, end

    def call(self, children: Mixed) -> Use:
        token, *uses, rpar = children
        args = tuple(use[0] for use in uses)
        fname = str(token)
        if len(args) == 1 and fname in REDUCTIONS:
            op = OPS[REDUCTIONS[fname]]
        elif fname in FUNCTIONS:
            op = OPS[FUNCTIONS[fname]]
        else:
            raise self._error(
                f"unknown function {fname}", token.start_pos, hint=_suggestion(fname, FUNCTIONS)
            )
        if len(args) != op.arity:
            wanted = "1 or 2 arguments" if fname in REDUCTIONS else _plural(op.arity, "argument")
            raise self._error(f"{fname} takes {wanted}, not {len(args)}", token.start_pos)
        start, end = token.start_pos, rpar.end_pos
        inner = args[0] if args else None
        fused = None
        if inner is not None and inner is self.nodes[-1] and not inner.name:
            fused = FUSED.get((op, self._composite(inner)))
        if fused is not None and inner is not None:
            # log(sigmoid(x)), log(softmax(x)): one gate, exact where the two would under-
            # flow to log(0) (log(sigmoid(-1000)) = -1000); with --expand, its own circuit
            if inner.id in self.expanded:
                _, first = self.expanded.pop(inner.id)
                operands = self._operands[inner.id]
                del self.nodes[first:]
                del self.values[first:]
                self.smooth = {k for k in self.smooth if k < first}
            else:
                operands = inner.inputs
                self.nodes.pop()
                self.values.pop()
            op, args = fused, operands
        if self.expand and op.expansion is not None:
            first = len(self.nodes)
            result = op.expansion(_Maker(self, start, end), *args)
            self.expanded[result.id] = (op, first)
            self._operands[result.id] = args
            return result, start, end
        return self._node(op, args, start, end), start, end

    def array(self, children: Mixed) -> Use:
        token, *uses, rsqb = children
        elements = [use[0] for use in uses]
        start, end = token.start_pos, rsqb.end_pos
        if not elements:
            raise ShapeError("an array literal needs at least one element", source=self.source, pos=start)
        if all(e.id in self.literals for e in elements) and self.nodes[-len(elements) :] == elements:
            self.reusable = False
            values = [self.values[e.id] for e in elements]
            for e in reversed(elements):
                self._pop(e)
            try:
                shape = STACK_SHAPE([getattr(v, "shape", ()) for v in values])
                problem = shape_problem(shape, self.max_elements)
                if problem is not None:
                    deep = len(shape) > MAX_DIMENSIONS
                    raise ShapeError(
                        f"the array literal here is nested {len(shape)} levels deep: an array"
                        f" may have at most {MAX_DIMENSIONS} dimensions"
                        if deep
                        else f"the array literal here is too big: {problem[0]}",
                        source=self.source,
                        pos=start,
                        hint=problem[1],
                    )
                value = STACK_ARRAY(*values)
            except ShapeMismatch as err:
                raise ShapeError(str(err), source=self.source, pos=start) from None
            return self._literal(value, start, end), start, end
        return self._node(STACK, tuple(elements), start, end), start, end

    # --- the end ------------------------------------------------------------------------

    def graph(self) -> Graph:
        """Check what the whole program needs and return its graph."""
        if self.unbound:
            unbound = list(self.unbound)
            first = unbound[0]
            listed = ", ".join(unbound)
            raise ProgramError(
                f"no value for {listed}",
                source=self.source,
                pos=self.unbound[first],
                hint=f"bind {'it' if len(unbound) == 1 else 'them'} on the command line"
                f" ({first}=1.5) or assign {'it' if len(unbound) == 1 else 'them'}"
                f" in the program ({first} = 1.5)",
            )
        if self.output is None:
            raise ProgramError("the program is empty: write an expression such as (x+y)*z")
        for name in self.bindings:
            if name not in self.used:
                self.warnings.append(f"the binding {name}=… is not used by the program")
        names = dict(self.inputs)
        for name, node in self.env.items():
            if name not in names:
                names[name] = node
        return Graph(
            self.source,
            self.nodes,
            self.output,
            self.output_text,
            self.inputs,
            names,
            self.values,
            tuple(self.warnings),
            frozenset(self.smooth),
            self.numbers if self.reusable else None,
            self.output_span,
            self.max_elements,
        )


def output_text(source: str, start: int, end: int) -> str:
    """The output expression as written, without comments, on one line, shortened past
    MAX_OUTPUT_TEXT."""
    text = source[start:end]
    if "#" in text:
        text = COMMENT.sub("", text)
    text = " ".join(text[:200].split())
    return text if len(text) <= MAX_OUTPUT_TEXT else text[: MAX_OUTPUT_TEXT - 1] + "…"


class _Maker:
    """What an op's expansion builds with: make("add", a, b) adds a gate, make.const(1.0) a
    constant, each with the span of the call being expanded."""

    def __init__(self, builder: Builder, start: int, end: int) -> None:
        self.builder, self.start, self.end = builder, start, end

    def __call__(self, op_name: str, *inputs: Node) -> Node:
        return self.builder._node(OPS[op_name], inputs, self.start, self.end)

    def smooth(self, op_name: str, *inputs: Node) -> Node:
        """A gate whose kink does not reach f (the shift or scale of a stable circuit)."""
        node = self(op_name, *inputs)
        self.builder.smooth.add(node.id)
        return node

    def const(self, value: float) -> Node:
        return self.builder._node(CONST, (), self.start, self.end, value, False)


def _suggestion(name: str, known: Iterable[str]) -> str | None:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
