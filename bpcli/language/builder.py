"""Builds the graph while the parser reads: one callback per grammar rule.

The LALR parser calls these methods as it reduces each rule, so no parse tree is
ever built and nothing recurses. Nodes are appended as they are created, inputs
first, so the node list is already in topological order.

Expression callbacks return a `Use`: what the expression is, and where this occurrence of
it stands in the source, since a name used twice is one node with two spans. What it is is
a graph node, or a static value (a shape, an axis, a slice, a function: see
`bpcli.language.statics`), which numpy code computes on the side and bpcli when it reads.
An input used where numpy needs an integer (a shape, an index) is data: it is read then,
and gets no gradient.
"""

from __future__ import annotations

import difflib
import math
import operator
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from bpcli.core.graph import CONST, INPUT, Graph, Node, Scope
from bpcli.core.ops import FUNCTIONS, FUSED, OPS, REDUCTIONS, Op, ShapeMismatch, load_all
from bpcli.core.ops.registry import broadcast_shape, same_shape, shape_of
from bpcli.errors import DomainError, ProgramError, ShapeError
from bpcli.language import _tables, hints
from bpcli.language.statics import (
    BUILTINS,
    Display,
    Function,
    Keyword,
    Namespace,
    Use,
    describe,
    is_python_value,
)
from bpcli.lazy import LazyPattern
from bpcli.limits import MAX_DIMENSIONS, MAX_ELEMENTS, SMALLEST_NORMAL, shape_problem, tiny_number_problem
from bpcli.values import Params, Value

if TYPE_CHECKING:
    from bpcli.core.ops.registry import Forward, ShapeRule
    from bpcli.language.lalr import Token

CONSTANTS = {"pi": math.pi, "e": math.e}
AUGMENTED = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow", "//": "floordiv", "@": "matmul"}
PYTHON = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}
PYTHON.update(matmul=operator.matmul, pow=operator.pow, floordiv=operator.floordiv, mod=operator.mod)
ID = OPS["id"]
# shape rules that give () for scalars and never raise on them (Builder._scalar_prefix)
SCALAR_RULES = (broadcast_shape, same_shape)
STACK = OPS["stack"]  # an array literal
# (the stack op has a shape rule and a form on arrays: looked up once, not per literal)
STACK_SHAPE = cast("ShapeRule", STACK.shape)
STACK_ARRAY = cast("Forward", STACK.array)
NAMES = {"True": True, "False": False, "None": None, "np": Namespace("np"), "numpy": Namespace("np")}

MAX_STATIC = 10_000  # the most items a tuple, list or string read while reading may hold
MAX_OUTPUT_TEXT = 80  # an output expression longer than this is shortened with "…"
COMMENT = LazyPattern(dict(_tables.LEXER)["COMMENT"])  # not part of an output's text

# A rule's children mixing tokens and Uses in the order the grammar fixes them (`paren` gets
# [Token, Use, Token]): a list type cannot say which is where, and unpacking them must stay
# as cheap as it is, so they are Any.
Mixed: TypeAlias = "list[Any]"


def _counted(inputs: tuple[Node, ...], nodes: list[Node], k: int) -> bool:
    """Whether each input is one of nodes[:k], not a node dropped since (whose id a new node
    took). (A loop: all() of a generator costs more, on every gate.)"""
    for i in inputs:  # noqa: SIM110 - as said
        if i.id >= k or nodes[i.id] is not i:
            return False
    return True


def _binary(name: str) -> Callable[[Builder, list[Use]], Use]:
    """The callback of a binary operator's rule (Builder.add, …): a gate of op `name`, or
    for two static values (shapes: H + 2*pad) their Python value."""
    python = PYTHON[name]
    lecture = OPS.get(name)  # // and % are numpy's, registered on first use

    def build(self: Builder, children: Mixed) -> Use:
        left, right = children[0], children[-1]
        start, end = left[1], right[2]
        op = lecture or _numpy_op(name)
        if type(left[0]) is Node and type(right[0]) is Node:
            return self._node(op, (left[0], right[0]), start, end), start, end
        return self._arith(op, python, left, right), start, end

    build.__name__ = name
    return build


class Builder:
    """Per-parse state, and the callbacks the parser calls (named after grammar rules)."""

    def reset(
        self,
        source: str,
        bindings: dict[str, Value | Params],
        expand: bool = False,
        max_elements: int = MAX_ELEMENTS,
        booleans: set[str] | frozenset[str] = frozenset(),
        seed: int | None = None,
    ) -> None:
        self.source = source
        self.seed = seed  # np.random's seed (--seed); None: a fresh one, with a warning
        self.randomness: Any = None  # np.random's generator, made at the first draw
        self.max_elements = max_elements  # the most elements an array may have
        self.expand = expand  # composite gates as their primitive circuits
        self.bindings: dict[str, Any] = bindings  # (a dict's value is Params: conv_param['stride'])
        self.boolean_bindings = booleans  # names bound to boolean arrays (mask=[true, false])
        self.used: set[str] = set()
        self.nodes: list[Node] = []
        self.values: list[Value | None] = []  # by node id: a leaf's value, None for a gate
        self.env: dict[str, Any] = {}  # name -> node (or static value) it is bound to now
        # Python's scopes: `env` is the running function's names (the top level's outside any
        # call), `globals` the top level's, `frames` the callers' (set by the interpreter)
        self.globals = self.env
        self.frames: list[dict[str, Any]] = []
        self.scope: Scope | None = None  # the call or iteration being run: its nodes' scope
        self.tracking = True  # statements set the output (the top level's, not a call's)
        self.printed: list[str] = []  # what the program's print(…) calls wrote
        self.notes: list[str] = []  # what the reader should know of how the output was chosen
        self.inputs: dict[str, Node] = {}
        self.builtins: dict[str, Node] = {}
        self.literals: set[int] = set()  # ids of unnamed number/array literals
        self.unbound: dict[str, int] = {}  # name -> offset of first use
        self.warnings: list[str] = []
        self.output: Node | None = None
        self.output_static: tuple[Any, str, int, int] | None = None  # a static value as output
        self.output_text = ""
        self.unused_statement: int | None = None  # offset of an expression statement not last
        # For re-evaluating the same program with other numbers (batch): the node and sign
        # of each NUMBER token in order, or None when that number no longer has a node.
        self.numbers: list[tuple[Node | None, float]] = []
        self.reusable = True  # false once numbers fold into an array literal, or are read
        self.output_span = (0, 0)
        # --expand: ids of gates whose kinks do not reach f (Graph.smooth), and for the
        # last node of each expansion, (the composite's name, where its nodes begin)
        self.smooth: set[int] = set()
        self.expanded: dict[int, tuple[Op, int]] = {}
        self._operands: dict[int, tuple[Node, ...]] = {}
        # numpy's side: what was computed while reading
        self.data: set[int] = set()  # ids of inputs read as data (an index, a shape): no gradient
        self.spent: set[int] = set()  # ids of nodes read as static values (maybe unused now)
        self.booleans: set[int] = set()  # ids of nodes holding booleans (comparisons)
        self.drawn: set[int] = set()  # ids of np.random's draws: data, as what only they make
        self.evaluated: dict[int, Value] = {}  # node id -> its value, computed while reading
        self.shapes: dict[int, tuple[int, ...]] = {}
        self.scalars = 0  # the first nodes known to be scalars (see _scalar_prefix)
        self.storage: dict[int, int] = {}  # node id -> the node whose memory numpy would share
        self.stale: dict[str, str] = {}  # name -> why numpy would have changed it in place

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
            needs_grad = False
            if op.differentiable:  # (a loop: any() of a generator costs more, on every node)
                for i in inputs:
                    if i.needs_grad:
                        needs_grad = True
                        break
        node = Node(len(self.nodes), op, inputs, start, end, needs_grad)
        node.scope = self.scope
        self.nodes.append(node)
        self.values.append(value)
        if op.boolean or (
            self.booleans and op.logical and inputs and all(i.id in self.booleans for i in inputs)
        ):
            self.booleans.add(node.id)  # a comparison, or (a > 0) * (b < 1), or a mask reshaped
        if op.view or op is ID:
            first = inputs[0].id
            self.storage[node.id] = self.storage.get(first, first)
        return node

    def _literal(self, value: Value, start: int, end: int) -> Node:
        # (what _node(CONST, (), start, end, value, False) makes, without its checks: a
        # constant is no view, no boolean, and needs no gradient)
        nodes = self.nodes
        node = Node(len(nodes), CONST, (), start, end, False)
        node.scope = self.scope
        nodes.append(node)
        self.values.append(value)
        self.literals.add(node.id)
        return node

    def _is_literal(self, node: Node) -> bool:
        return node.id in self.literals and node is self.nodes[-1]

    def is_literal(self, node: Node, last: bool = True) -> bool:
        """Whether a node is a number (or array of numbers) written in the program; with
        `last`, the one just written, nothing else yet."""
        return self._is_literal(node) if last else node.id in self.literals and node.op is CONST

    def literal_number(self, node: Node) -> Any:
        """A number written, as Python's number (an int when written as one), its node gone
        (or, when other nodes came after it, left for the end to drop): a loop bound, a key,
        a default value, i + 1, str(2)."""
        value = self.values[node.id]
        if node is self.nodes[-1]:
            self._pop(node)
        else:
            self.spent.add(node.id)
        text = self.source[node.start : node.end].strip()
        if isinstance(value, float) and value.is_integer() and text.lstrip("+-").isdigit():
            return int(value)
        return value

    def _composite(self, node: Node) -> Op:
        """The gate a node is the result of: its op, or the composite it is the expansion of."""
        expanded = self.expanded.get(node.id)
        return expanded[0] if expanded is not None else node.op

    def _pop(self, node: Node) -> None:
        assert node is self.nodes[-1]
        self.nodes.pop()
        self.values.pop()
        self.scalars = min(self.scalars, node.id)
        self.literals.discard(node.id)
        self.booleans.discard(node.id)
        # what was read of it (a literal read as an axis) must not stick to the node made next
        self.evaluated.pop(node.id, None)
        self.shapes.pop(node.id, None)
        if self.numbers and self.numbers[-1][0] is node:
            self.numbers[-1] = (None, self.numbers[-1][1])

    def _truncate(self, first: int) -> None:
        """Drop the nodes from id `first` on (a gate fused into the call around it), and what
        was noted of them."""
        del self.nodes[first:]
        del self.values[first:]
        self.scalars = min(self.scalars, first)
        for noted in (self.smooth, self.literals, self.booleans, self.spent):
            noted.difference_update([k for k in noted if k >= first])
        for cache in (self.evaluated, self.shapes, self.storage):
            for k in [k for k in cache if k >= first]:
                del cache[k]

    def _input(self, name: str, value: Value, start: int, end: int, bound: bool = True) -> Node:
        """An input leaf; `bound`: the program's name `name` is bound to it (not so for a
        dict's entry, params['W1'])."""
        # (what _node(INPUT, (), start, end, value, True) makes, without its checks: an input
        # is no view, and no gate's boolean)
        nodes = self.nodes
        node = Node(len(nodes), INPUT, (), start, end, True)
        node.scope = self.scope
        nodes.append(node)
        self.values.append(value)
        node.name = name
        if name in self.boolean_bindings:  # booleans are data: they have no gradient
            self.booleans.add(node.id)
            self.data.add(node.id)
            self.reusable = False  # (a mask: the graph is made for this binding's type)
        self.inputs[name] = node
        if bound:
            self.globals[name] = node
        return node

    def _lookup(self, token: Token) -> Any:
        name = token.value  # (what str(token) gives, without calling Token.__str__: every name)
        if name in self.env:
            if name in self.stale:
                raise self._error(
                    self.stale[name], token.start_pos, hint=f"write {name}.copy() where it was copied"
                )
            return self.env[name]
        if name in self.globals:
            return self.globals[name]
        if name in self.bindings:
            self.used.add(name)
            value = self.bindings[name]
            if isinstance(value, dict):
                return self._bound_dict(name, value, token.start_pos, token.end_pos)
            return self._input(name, value, token.start_pos, token.end_pos)
        if name in CONSTANTS:
            node = self.builtins.get(name)
            if node is None:
                node = self._node(CONST, (), token.start_pos, token.end_pos, CONSTANTS[name], False)
                node.name = name
                self.builtins[name] = node
            return node
        if name in NAMES:
            return NAMES[name]
        if name in FUNCTIONS or name in REDUCTIONS:  # the lecture's functions: no numpy ops loaded
            return _function(name)
        from bpcli.language import calls

        if calls.known(name) or name in BUILTINS:
            return Function(name, qualified=False)
        self.unbound.setdefault(name, token.start_pos)
        return self._input(name, math.nan, token.start_pos, token.end_pos)

    def parameter(self, name: str, value: Value, start: int, end: int) -> Node:
        """A leaf the program makes from numbers alone and keeps as a parameter (a model's
        self.params['W1']): an input, named so, whose gradient is reported."""
        node = self._input(name, value, start, end, bound=False)
        self.used.add(name)
        return node

    def made_of_numbers(self, node: Node) -> bool:
        """Whether a node is computed from numbers written in the program (or drawn) alone:
        no input, and no comparison (a mask is data, not a parameter)."""
        todo, seen = [node], set()
        while todo:
            n = todo.pop()
            if n.id in seen:
                continue
            seen.add(n.id)
            if n.op is INPUT or n.id in self.booleans:
                return False
            todo.extend(n.inputs)
        return True

    def _bound_dict(self, name: str, given: dict[str, Any], start: int, end: int) -> dict[Any, Any]:
        """A binding that is a dict (conv_param='{"stride": 2}'): its numbers and arrays are
        inputs named conv_param['stride'], its other values Python's."""
        table: dict[Any, Any] = {}
        todo: list[tuple[str, dict[Any, Any], dict[str, Any]]] = [(name, table, given)]
        while todo:
            prefix, into, values = todo.pop()
            for key, value in values.items():
                label = f"{prefix}[{key!r}]"
                if isinstance(value, dict):
                    into[key] = {}
                    todo.append((label, into[key], value))
                elif isinstance(value, bool | str | int) or value is None:
                    into[key] = value
                else:
                    into[key] = self._input(label, value, start, end, bound=False)
        self.globals[name] = table
        return table

    def _error(self, message: str, pos: int, hint: str | None = None) -> ProgramError:
        return ProgramError(message, source=self.source, pos=pos, hint=hint)

    def _shape_error(
        self, message: str, pos: int, hint: str | None = None, node: Node | None = None
    ) -> ShapeError:
        """A shape that does not fit, at `pos`; at `node` when it is one of the graph's."""
        if node is None:
            return ShapeError(message, source=self.source, pos=pos, hint=hint)
        return ShapeError(
            message, source=self.source, pos=pos, hint=hint, node=node.id, label=self._text(node)
        )

    def _text(self, node: Node) -> str:
        """A node's text in the program, on one line (its label, before the graph is made)."""
        return " ".join(self.source[node.start : node.end].split())

    # --- static values and nodes ------------------------------------------------------

    def as_node(self, use: Use) -> Node:
        """The node of an expression: a static value used as an array becomes a constant."""
        item, start, end = use
        if type(item) is Node:
            return item
        if isinstance(item, Display):
            if item.kind == "list" or any(type(i[0]) is Node for i in item.items):
                return self._stack([self.as_node(i) for i in item.items], start, end)
            item = self.static(use)
        if isinstance(item, bool):
            node = self._node(CONST, (), start, end, float(item), False)
            self.booleans.add(node.id)
            return node
        if isinstance(item, int | float):
            return self._node(CONST, (), start, end, float(item), False)
        np = _numpy()
        if isinstance(item, np.ndarray | np.generic | tuple | list) and not _holds_objects(item):
            try:
                array = np.asarray(item, dtype=float)
            except (TypeError, ValueError):
                array = None
            if array is not None:
                node = self._node(CONST, (), start, end, float(array) if array.ndim == 0 else array, False)
                if np.asarray(item).dtype == bool:
                    self.booleans.add(node.id)
                return node
        if isinstance(item, Function):
            raise self._error(f"{item.name} is a function: call it as {item.name}(…)", start)
        raise self._error(f"{describe(item)} is not a number or an array", start)

    def _stack(self, elements: list[Node], start: int, end: int) -> Node:
        if not elements:  # an empty list used as an array: [[]], x[[]]
            raise ShapeError("an array literal needs at least one element", source=self.source, pos=start)
        return self._node(STACK, tuple(elements), start, end)

    def static(self, use: Use) -> Any:
        """The value of an expression, read now (a shape, an index, an axis): a node is
        computed, and the inputs it uses become data, with no gradient."""
        item, start, _ = use
        self.reusable = False
        if type(item) is Node:
            value = self.evaluate(item, start)
            if self._is_literal(item):
                self._pop(item)
            else:
                self.spent.add(item.id)
            return value
        if isinstance(item, Display):
            values = [self.static(i) for i in item.items]
            return values if item.kind == "list" else tuple(values)
        return item

    def integers(self, use: Use, what: str) -> Any:
        """A static value where numpy needs integers (a shape, an axis, an index)."""
        value = self.static(use)
        try:
            return _as_integers(value)
        except ValueError:
            raise self._error(
                f"{what} must be an integer, not {_short(value)}",
                use[1],
                hint="arrays used as indices must be of integer (or boolean) type",
            ) from None

    def evaluate(self, node: Node, pos: int, mark: bool = True) -> Value:
        """A node's value now, while reading (its inputs' values are known): the nodes it
        depends on, in order, none twice. With `mark`, the inputs it reads become data."""
        memo = self.evaluated
        if node.id in memo and not mark:
            return memo[node.id]
        cone: set[int] = set()
        todo = [node]
        while todo:
            n = todo.pop()
            if n.id in cone:
                continue
            cone.add(n.id)
            todo.extend(n.inputs)
        np = _numpy()
        for k in sorted(cone):
            n = self.nodes[k]
            if not n.inputs:
                if n.op is INPUT:
                    if n.name in self.unbound:
                        raise self._error(
                            f"no value for {n.name}", self.unbound[n.name], hint=_bind_hint(n.name)
                        )
                    if mark:
                        self.data.add(k)
                memo[k] = cast("Value", self.values[k])
                continue
            if k in memo:
                continue
            args = [memo[i.id] for i in n.inputs]
            try:
                if n.op.shape is not None:  # refuse a result too big to make, before making it
                    problem = shape_problem(n.op.shape([shape_of(a) for a in args]), self.max_elements)
                    if problem is not None:
                        raise self._shape_error(
                            f"{n.op.name} would be too big: {problem[0]}", n.start, problem[1], n
                        )
                with np.errstate(all="raise", under="ignore"):
                    if n.op.scalar is not None and all(type(a) is float for a in args):
                        value = n.op.scalar(*args)
                    else:
                        value = cast("Forward", n.op.array)(*args)
            except ShapeMismatch as err:
                raise self._shape_error(f"{n.op.name}: {err}", n.start, node=n) from None
            except (ArithmeticError, ValueError, FloatingPointError) as err:
                raise DomainError(
                    f"{self.source[n.start : n.end]} cannot be computed: {err}",
                    source=self.source,
                    pos=n.start,
                    node=n.id,
                    label=self._text(n),
                ) from None
            if type(value) is not float:
                array = np.asarray(value, dtype=float)
                value = float(array) if array.ndim == 0 else array
            memo[k] = value
        return memo[node.id]

    def shape(self, use: Use, bake: bool = True) -> tuple[int, ...]:
        """The shape of an expression's value, known while reading (from the inputs' shapes and
        each op's shape rule), without computing it where the rules say. `bake`: the program
        depends on it (x.shape[0]), so batch may not reuse its graph with other bindings."""
        item, start, _ = use
        if bake:
            self.reusable = False
        if isinstance(item, Display) and not self._is_written(item, bound=False):
            inner = self.shape(item.items[0])
            return (len(item.items), *inner)
        if type(item) is not Node:
            return tuple(_numpy().shape(self.static(use)))
        shapes = self.shapes
        if item.id in shapes:
            return shapes[item.id]
        if not self.unbound and item.id < self._scalar_prefix() and self.nodes[item.id] is item:
            return ()  # (what the walk below would give, without walking: see _scalar_prefix)
        cone: set[int] = set()
        todo = [item]
        while todo:
            n = todo.pop()
            if n.id in cone or n.id in shapes:
                continue
            cone.add(n.id)
            todo.extend(n.inputs)
        for k in sorted(cone):
            n = self.nodes[k]
            if not n.inputs:
                if n.op is INPUT and n.name in self.unbound:  # X.shape with no X
                    raise self._error(f"no value for {n.name}", self.unbound[n.name], hint=_bind_hint(n.name))
                shapes[k] = shape_of(cast("Value", self.values[k]))
            elif n.op.shape is None:
                shapes[k] = shape_of(self.evaluate(n, start, mark=False))
            else:
                given = [shapes[i.id] for i in n.inputs]
                try:
                    shapes[k] = n.op.shape(given)
                except ShapeMismatch as err:
                    listed = " and ".join(str(g) if g else "scalar" for g in given)
                    raise self._shape_error(
                        f"{n.op.name} in {self._text(n)} cannot take shapes {listed}: {err}", n.start, node=n
                    ) from None
        return shapes[item.id]

    def _scalar_prefix(self) -> int:
        """How many of the first nodes are scalars whose shape the walk in `shape` gives as ()
        without an error: leaves holding a float, and gates of them whose shape rule is
        numpy's broadcasting or the input's shape (() for scalars, and they never raise). With
        no name lacking a value (`unbound`), `shape` of any of them is () without walking its
        cone (a program of scalars: every assignment asks). The count grows as nodes are made,
        up to the first that is not such; dropping or changing a node lowers it."""
        k, nodes, values = self.scalars, self.nodes, self.values
        while k < len(nodes):
            node = nodes[k]
            if not node.inputs:
                if type(values[k]) is not float:
                    break
            elif node.op.shape not in SCALAR_RULES or not _counted(node.inputs, nodes, k):
                break
            k += 1
        self.scalars = k
        return k

    def _arith(self, op: Op, python: Callable[[Any, Any], Any], left: Use, right: Use) -> Any:
        """left op right where either is static: Python's value for two static values, else
        the gate, with the static one as a constant. A tuple is Python's (x.shape + (1,))."""
        if type(left[0]) is Node and _is_number_like(right[0]) and self._is_literal(left[0]):
            left = (self.literal_number(left[0]), left[1], left[2])  # i + 1, 2 * pad: Python's
        elif type(right[0]) is Node and _is_number_like(left[0]) and self._is_literal(right[0]):
            right = (self.literal_number(right[0]), right[1], right[2])
        l_item, r_item = left[0], right[0]
        joined = isinstance(l_item, Display) and isinstance(r_item, Display) and l_item.kind == r_item.kind
        if joined and op.name == "add":  # (x, y) + (x,): Python's joined tuple, kept
            return self._display([*l_item.items, *r_item.items], l_item.kind, left[1])
        if isinstance(l_item, str) and isinstance(r_item, Display) and op.name == "mod":
            values = tuple(self.static(i) for i in r_item.items)  # 'step %d: %s' % (i, s)
            try:
                return l_item % values
            except (TypeError, ValueError) as err:
                raise self._error(f"string formatting: {err}", left[1]) from None
        tuples = self._is_tuple(left[0]) or self._is_tuple(right[0])
        if tuples and not (self._is_written(left[0]) and self._is_written(right[0])):
            raise self._error("arithmetic on a tuple of arrays: write the arrays' arithmetic itself", left[1])
        if tuples or (self._is_static(left[0]) and self._is_static(right[0])):
            a, b = self._operand(left), self._operand(right)
            if tuples:  # (shape * 3: the 3 is an int, as written)
                a, b = (self.integers((v, left[1], left[2]), "a tuple's operand") for v in (a, b))
            self._check_static_size(a, b, left[1])
            try:
                return python(a, b)
            except (TypeError, ValueError, ArithmeticError) as err:
                raise self._error(
                    f"{_short(a)} {op.infix.strip() or op.name} {_short(b)}: {err}", left[1]
                ) from None
        return self._node(op, (self.as_node(left), self.as_node(right)), left[1], right[2])

    @staticmethod
    def _is_tuple(item: Any) -> bool:
        return isinstance(item, tuple) or (isinstance(item, Display) and item.kind == "tuple")

    def _check_static_size(self, a: Any, b: Any, pos: int) -> None:
        """Refuse a value computed while reading that would be too big to make: a tuple or a
        string repeated (shape * 3), or two arrays broadcast."""
        np = _numpy()
        try:
            if isinstance(a, tuple | list | str) or isinstance(b, tuple | list | str):
                sized, count = (a, b) if isinstance(a, tuple | list | str) else (b, a)
                if isinstance(count, int) and len(sized) * count > MAX_STATIC:
                    raise self._error(f"a {type(sized).__name__} repeated {count:,} times is too long", pos)
                return
            shape = np.broadcast_shapes(np.shape(a), np.shape(b))
        except ValueError:
            return  # (the operation itself says what is wrong)
        problem = shape_problem(shape, self.max_elements)
        if problem is not None:
            raise self._shape_error(f"the array would be too big: {problem[0]}", pos, problem[1])

    def _is_written(self, item: Any, bound: bool = True) -> bool:
        """Whether a value is known while reading, or is a number written (or, with `bound`, an
        input, which Python's tuple arithmetic then reads as data): (1,), x.shape, (N, 2)."""
        if isinstance(item, Display):
            return all(self._is_written(i[0], bound) for i in item.items)
        return type(item) is not Node or item.op is CONST or (bound and item.op is INPUT)

    def _is_static(self, item: Any) -> bool:
        """Whether an expression's value is known while reading (no node in it)."""
        if isinstance(item, Display):
            return all(self._is_static(i[0]) for i in item.items)
        return type(item) is not Node

    def _operand(self, use: Use) -> Any:
        """A static value in arithmetic: a tuple stays a tuple (x.shape + (1,)), a list written
        as [1, 2] is numpy's array."""
        value = self.static(use)
        if not isinstance(value, list):
            return value
        try:
            return _numpy().asarray(value, dtype=float)
        except (TypeError, ValueError):  # ['a'] + 1, exp + [exp]
            raise self._error(f"the list {_short(value)} is not an array of numbers", use[1]) from None

    # --- statements -------------------------------------------------------------------

    def start(self, children: list[None]) -> None:
        return None

    def stmts(self, children: list[None]) -> None:
        return None  # each statement has done its work when it was reduced

    def _statement(self, node: Node, text: str, start: int) -> None:
        if not self.tracking:
            return
        if self.unused_statement is not None:
            raise self._unused(self.unused_statement)
        self.output, self.output_text = node, text
        self.output_static = None

    def expr_stmt(self, children: list[Use], call: bool = False) -> None:
        """An expression as a statement: the output when it is the last statement; else its
        value is used by nothing, which is an error, as is a line that starts with + or -
        right after a statement (meant as its continuation). A call (print(…), a.append(x))
        is made for its effect, and a string is a docstring: both may stand anywhere."""
        ((item, start, end),) = children
        if type(item) is str:
            return  # a docstring (Python skips it, and so does bpcli)
        self._continuation(start, end)
        if item is None:
            return  # print(…), xs.append(x): a call made for its effect
        if not self.tracking:
            if not call:
                raise self._unused(start)
            return  # in a call or a class body: nothing is the output there
        if type(item) is not Node:
            self._statement_static(item, output_text(self.source, start, end), start, end)
        else:
            self._statement(item, item.name or output_text(self.source, start, end), start)
        self.output_span = (start, end)
        self.unused_statement = None if call else start

    def _unused(self, start: int) -> ProgramError:
        """The error for an expression statement whose value nothing uses."""
        line = self.source.count("\n", 0, start) + 1
        if not self.tracking:
            why = "in a function, only what it returns is used: return it"
        else:
            why = "only the last statement is the output: assign this one to a name (q = …)"
        return self._error(
            f"nothing uses the value of the expression on line {line}",
            start,
            hint=f"{why},\nor delete it",
        )

    def _continuation(self, start: int, end: int) -> None:
        """Refuse a line that starts with + or - right after a complete statement on the line
        above, at the same indentation: it was meant as that statement's continuation
        (loss = a * b / + c), but Python, and bpcli, end a statement at the end of its line."""
        source = self.source
        if source[start : start + 1] not in ("+", "-", "−"):
            return
        line_start = source.rfind("\n", 0, start) + 1
        above = hints.line_before(source, line_start)
        fix = None
        if (
            not source[line_start:start].strip()
            and (  # the first thing on its line: not a = 1; -b
                above is not None
                and all(line.strip() for line in source[above[1] : line_start].split("\n")[1:-1])
            )
        ):  # (and no blank line between them: that would make it a statement of its own)
            fix = hints.continuation(source, start)
        if fix is None or _indentation(source, fix.statement) != _indentation(source, start):
            if source[start] == "+" and _has_code(source[:start]):  # +x after a statement: never meant
                raise self._error(
                    f"line {source.count(chr(10), 0, start) + 1} has a statement that starts with '+'",
                    start,
                    hint="a statement continues onto the next line only inside brackets: to"
                    " continue the one before it, wrap both in parentheses; for the value"
                    " alone, leave out the '+'",
                )
            return
        line = source.count("\n", 0, start) + 1
        hint = fix.hint
        alone = source[:start] + "(" + source[start:end] + ")" + source[end:]
        code = "(" + source[start:end] + ")"
        if source[start] != "+" and "\n" not in code and hints.width(code) <= 40 and hints.parses(alone):
            hint += f"\nor, for a statement of its own, write it in parentheses: {code}"
        raise self._error(
            f"line {line} starts a new statement ('{source[start]} …'),"
            f" not the rest of line {source.count(chr(10), 0, fix.statement) + 1}",
            start,
            hint=hint,
        )

    def _statement_static(self, value: Any, text: str, start: int, end: int) -> None:
        if not self.tracking or not (
            isinstance(value, int | float | tuple | list) or hasattr(value, "shape")
        ):
            return  # (a dict, a string, a function: not an output)
        self._statement(cast("Node", None), text, start)
        self.output_static = (value, text, start, end)

    def assign(self, children: Mixed) -> None:
        token, use = children
        self._assign_use(token, use)

    def _assign_use(self, token: Token, use: Use) -> None:
        item, start, end = use
        if type(item) is Node:
            self._assign(token, item, end)
            return
        name = str(token)
        if (
            isinstance(item, Display)
            and item.kind == "list"
            and item.items
            and not any(is_python_value(i[0]) for i in item.items)
        ) or isinstance(item, _numpy().ndarray):
            # an array (np.zeros(3), [a, b]): a node, so that what shares its memory is known
            self._assign(token, self.as_node(use), end)
            return
        if name in self.bindings and name not in self.env and self.env is self.globals:
            raise self._error(
                f"{name} is computed by the program, so it cannot be bound to a value",
                token.start_pos,
                hint=f"remove the binding {name}=…, or bind the inputs it uses",
            )
        if isinstance(item, Display) and (
            item.kind == "list" or not self._is_written(item, bound=False) or self.scope is not None
        ):
            # p = np.split(v, 2), t = (v, 2*v): a tuple of arrays, kept; a list, kept to grow
            self.env[name] = item
            self.stale.pop(name, None)
            self.output_static = None
            return
        self.env[name] = self.static(use) if isinstance(item, Display) else item
        self.stale.pop(name, None)
        self._statement_static(self.env[name], name, start, end)

    def augassign(self, children: Mixed) -> None:
        token, augop, value = children
        left = self._lookup(token)
        left_use = (left, token.start_pos, token.end_pos)
        result, _, end = self.arith_op(str(augop)[:-1], left_use, value)
        if type(result) is not Node:
            self._assign_use(token, (result, token.start_pos, end))
            return
        if type(left) is Node and self.shape(left_use, bake=False):  # an array: numpy adds in place
            self.rebind(left, result, token.start_pos)
            self._in_place(str(token), left, token.start_pos)
        self._assign(token, result, end)

    def arith_op(self, symbol: str, left: Use, right: Use) -> Use:
        """left symbol right, for an augmented assignment (+=, **=, //=, @=)."""
        name = AUGMENTED[symbol]
        start, end = left[1], right[2]
        op = OPS.get(name) or _numpy_op(name)
        if type(left[0]) is Node and type(right[0]) is Node:
            return self._node(op, (left[0], right[0]), start, end), start, end
        return self._arith(op, PYTHON[name], left, right), start, end

    def bare_tuple(self, children: list[Use]) -> Use:
        """a, b written without parentheses (return out, cache; x = 1, 2)."""
        start, end = children[0][1], children[-1][2]
        return self._display(children, "tuple", start), start, end

    def row(self, use: Use, k: int) -> Use:
        """Row k of an array (a for loop's item)."""
        _, start, end = use
        return self._index_node(use, (k,), str(k), start, end), start, end

    def unpack(self, children: Mixed) -> None:
        tokens = [c for c in children if type(c) is not tuple]
        uses = [c for c in children if type(c) is tuple]
        if len(uses) > 1:  # i, f = sigmoid(a), sigmoid(b): a tuple, written bare
            use: Use = (Display(uses, "tuple"), uses[0][1], uses[-1][2])
        else:
            (use,) = uses
        item, start, end = use
        if isinstance(item, Display):
            parts = item.items
        elif type(item) is Node:
            size = self.shape(use)
            if not size:
                raise self._error("a scalar cannot be unpacked", start)
            parts = [(self._index_node(use, (i,), str(i), start, end), start, end) for i in range(size[0])]
        else:
            value = self.static(use)
            if not isinstance(value, tuple | list):
                raise self._error(f"cannot unpack {describe(value)}", start)
            parts = [(v, start, end) for v in value]
        if len(parts) != len(tokens):
            raise self._error(f"{len(tokens)} names, but {len(parts)} values to unpack", tokens[0].start_pos)
        for token, part in zip(tokens, parts, strict=True):
            self._assign_use(token, part)
        if self.tracking and self.output is not None and len(tokens) > 1:
            self._first_scalar(tokens)

    def _first_scalar(self, tokens: list[Token]) -> None:
        """`loss, grads = net.loss(X, y)`: the output is the first scalar of the tuple."""
        last = self.env.get(str(tokens[-1]))
        if type(last) is Node and self.shape((last, 0, 0), bake=False) == ():
            return
        for token in tokens:
            node = self.env.get(str(token))
            if type(node) is Node and self.shape((node, 0, 0), bake=False) == ():
                self._statement(node, str(token), token.start_pos)
                self.unused_statement = None
                self.notes.append(
                    f"the output is {token}, the tuple's first scalar (--output NAME picks another)"
                )
                return

    def setitem(self, children: Mixed) -> None:
        base, lsqb, *subscripts, rsqb, value = children
        self._set(base, lsqb, subscripts, rsqb, value)

    def augsetitem(self, children: Mixed) -> None:
        base, lsqb, *subscripts, rsqb, augop, value = children
        index, masks, text = self._index(subscripts, lsqb, rsqb)
        start = base[1]
        old = self._index_node(base, index, text, start, rsqb.end_pos, masks)
        new, _, _ = self.arith_op(str(augop)[:-1], (old, start, rsqb.end_pos), value)
        self._set(base, lsqb, subscripts, rsqb, (new, start, value[2]), (index, masks, text))

    def _set(
        self, base: Use, lsqb: Token, subscripts: list[Use], rsqb: Token, value: Use, index_: Any = None
    ) -> None:
        item, start, _ = base
        name = self.source[start : base[2]]
        if type(item) is not Node:
            raise self._error(f"{describe(item)} cannot be assigned into: only an array can", start)
        node = item
        index, masks, text = index_ or self._index(subscripts, lsqb, rsqb)
        v = self.as_node(value)
        op = self._family_op(lambda: _arrays().setitem(index, text), start)
        result = self._node(op, (node, v, *masks), start, value[2])
        if not self.rebind(node, result, start):  # m[0][1] = …, m.T[0] = …: numpy writes into m
            raise self._error(
                "only an array that a name, a dict entry, a list item or an attribute holds can be"
                " assigned into: here numpy would write into the array this one is a view of",
                start,
                hint="index the array itself: m[0, 1] = … rather than m[0][1] = …",
            )
        if name.isidentifier() and self.env.get(name) is result:
            self._in_place(name, node, start)
            token = _NameToken(name, start, start + len(name))
            self._assign(cast("Token", token), result, value[2])

    def rebind(self, old: Node, new: Node, pos: int) -> bool:
        """numpy changes an array in place: every name, dict entry, list item and attribute
        that holds it, in the running call and its callers, holds the new node now. Whether
        anything held it."""
        todo: list[Any] = [*self.frames, self.env]
        seen: set[int] = set()
        found = False
        while todo:
            if len(seen) > MAX_STATIC:  # (an alias left holding the old array: a wrong number)
                raise self._error(
                    f"this array is changed in place while the program holds more than {MAX_STATIC:,}"
                    " lists, tuples and dicts, too many to find every other name of it",
                    pos,
                    hint="write the new array to a new name (m = m + …) rather than in place",
                )
            container = todo.pop()
            if id(container) in seen:
                continue
            seen.add(id(container))
            if isinstance(container, Display):
                for k, use in enumerate(container.items):
                    if use[0] is old:
                        container.items[k] = (new, use[1], use[2])
                        found = True
                    elif isinstance(use[0], dict | Display) or hasattr(use[0], "attributes"):
                        todo.append(use[0])
                continue
            table = container.attributes if hasattr(container, "attributes") else container
            for key, value in table.items():
                if value is old:
                    table[key] = new
                    found = True
                elif isinstance(value, dict | Display) or hasattr(value, "attributes"):
                    todo.append(value)
        return found

    def _in_place(self, name: str, node: Node, pos: int) -> None:
        """numpy writes `name[…] = …` and `name += …` into the array itself: every other name
        sharing its memory (b = a, a view such as a.T or a[1:]) would change too. Such a name
        read later is an error, not a silent difference."""
        root = self.storage.get(node.id, node.id)
        line = self.source.count("\n", 0, pos) + 1
        for other, bound in self.env.items():
            if other != name and type(bound) is Node and self.storage.get(bound.id, bound.id) == root:
                self.stale[other] = (
                    f"{other} shares its memory with {name} in numpy, so the in-place change of"
                    f" {name} on line {line} changes {other} too; bpcli's assignment makes a new"
                    f" array, and {other} would differ from numpy's"
                )

    def _assign(self, token: Token, node: Node, end: int) -> None:
        name = str(token)
        self.stale.pop(name, None)
        prior = self.env.get(name)
        if type(prior) is not Node:
            prior = None
        top = self.scope is None and self.env is self.globals
        if self._is_literal(node) and top:
            if prior is None:  # `x = -2`: x is an input
                if name in self.bindings:
                    self.used.add(name)
                    self.values[node.id] = self.bindings[name]  # (maybe an array)
                    self.scalars = min(self.scalars, node.id)
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
        elif (
            top
            and prior is None
            and node.op is not INPUT
            and node.scope is None  # (made here, not returned by a call: dW = np.zeros(…))
            and self.shape((node, node.start, node.end), bake=False)
            and self.made_of_numbers(node)
        ):
            # x = np.linspace(-0.1, 0.5, 12).reshape(3, 4): an array made from numbers alone is
            # an input, as x = [1, 2] is, and a binding x=… overrides it
            value = (
                self.bindings[name] if name in self.bindings else self.evaluate(node, node.start, mark=False)
            )
            self.used.add(name)
            self.spent.add(node.id)
            self._input(name, value, token.start_pos, token.end_pos)
            self._statement(self.inputs[name], name, token.start_pos)
            return
        elif prior is None and name in self.bindings and top:
            raise self._error(
                f"{name} is computed by the program, so it cannot be bound to a value",
                token.start_pos,
                hint=f"remove the binding {name}=…, or bind the inputs it uses",
            )
        if node.op is INPUT or node.op is CONST or (node.name and node.scope is self.scope):
            node = self._node(ID, (node,), token.start_pos, end)  # `b = a` gets a node of its own
        elif node.name:  # out, cache = f(x): the name the call gave it stays
            self.env[name] = node
            self._statement(node, name, token.start_pos)
            return
        self.literals.discard(node.id)
        node.name = name
        node.needs_grad = True  # ∂f/∂name is reported even for constant intermediates
        if prior is not None and prior is self.inputs.get(name) and top:
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
        if value < SMALLEST_NORMAL:  # (a NUMBER has no sign: a normal one is all that is asked)
            tiny = tiny_number_problem(token.value, value)
            if tiny is not None:
                raise self._error(f"the number {tiny}", start)
        node = self._literal(value, start, end)
        self.numbers.append((node, 1.0))
        return node, start, end

    def name(self, children: list[Token]) -> Use:
        (token,) = children
        return self._lookup(token), token.start_pos, token.end_pos

    def string(self, children: list[Token]) -> Use:
        (token,) = children
        return str(token)[1:-1], token.start_pos, token.end_pos

    def ellipsis(self, children: list[Token]) -> Use:
        (token,) = children
        return Ellipsis, token.start_pos, token.end_pos

    def paren(self, children: Mixed) -> Use:
        left, (item, _, _), right = children
        return item, left.start_pos, right.end_pos

    def tuple_display(self, children: Mixed) -> Use:
        left, *items, right = children
        return self._display(items, "tuple", left.start_pos), left.start_pos, right.end_pos

    def _display(self, items: list[Use], kind: str, start: int) -> Display:
        display = Display(items, kind)
        for item in items:  # a tuple bound to a name, in it: t = (t, t)
            if isinstance(item[0], tuple | list):
                depth, size = _nesting(item[0])
                display.depth = max(display.depth, depth + 1)
                if size > MAX_STATIC:
                    raise self._error(f"this {kind} would hold more than {MAX_STATIC:,} items", start)
        if display.depth > MAX_DIMENSIONS:
            raise self._shape_error(
                f"the {kind} here is nested {display.depth} levels deep: at most {MAX_DIMENSIONS}", start
            )
        return display

    def keyword(self, children: Mixed) -> Keyword:
        token, use = children
        return Keyword(str(token), use)

    def neg(self, children: Mixed) -> Use:
        minus, (operand, _, end) = children
        start = minus.start_pos
        if type(operand) is not Node:
            value = self.static((operand, start, end))
            try:
                return -value, start, end
            except TypeError:
                raise self._error(f"{describe(value)} cannot be negated", start) from None
        if self._is_literal(operand):  # -3 is a number, not a gate
            number = self.numbers[-1] if self.numbers and self.numbers[-1][0] is operand else None
            value = self.values[operand.id]
            self._pop(operand)
            node = self._literal(-value, start, end)  # type: ignore[operator]
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
    floordiv = _binary("floordiv")
    mod = _binary("mod")

    def pow(self, children: Mixed) -> Use:
        base, _, exponent = children
        start, end = base[1], exponent[2]
        if type(base[0]) is Node and type(exponent[0]) is Node:
            return self._node(OPS["pow"], (base[0], exponent[0]), start, end), start, end
        return self._arith(OPS["pow"], operator.pow, base, exponent), start, end

    def compare(self, children: Mixed) -> Use:
        left, token, right = children
        start, end = left[1], right[2]
        op = _numpy_op(_arrays().COMPARISONS[str(token)])
        symbol = str(token)
        python = {">": operator.gt, ">=": operator.ge, "<": operator.lt}.get(symbol) or {
            "<=": operator.le,
            "==": operator.eq,
            "!=": operator.ne,
        }[symbol]
        return self._arith(op, python, left, right), start, end

    def attribute(self, children: Mixed) -> Use:
        from bpcli.language import calls

        (owner, start, _), token = children
        return (
            calls.attribute(self, (owner, start, token.start_pos - 1), str(token), token),
            start,
            token.end_pos,
        )

    def call(self, children: Mixed) -> Use:
        callee, _, *args, rpar = children
        start, end = callee[1], rpar.end_pos
        item = callee[0]
        if type(item) is Function and not item.qualified:
            # the lecture's functions on nodes (exp(x), max(a, b), sum(v)), without numpy's calls
            nodes = tuple(a[0] for a in args if type(a) is tuple)
            if len(nodes) == len(args) and all(type(n) is Node for n in nodes):
                name = item.name
                op = OPS.get((len(args) == 1 and REDUCTIONS.get(name)) or FUNCTIONS.get(name, ""))
                if op is not None and op.arity == len(args):
                    return self.call_op(op, nodes, start, end), start, end
        from bpcli.language import calls

        return calls.call(self, callee, args, start, end), start, end

    def index(self, children: Mixed) -> Use:
        base, lsqb, *subscripts, rsqb = children
        start, end = base[1], rsqb.end_pos
        if isinstance(base[0], Display) and len(subscripts) == 1 and not isinstance(subscripts[0][0], slice):
            items = base[0].items  # (v, x)[1], np.split(a, 4)[2]: the item itself
            at = self.integers(subscripts[0], "an index")
            if isinstance(at, int) and -len(items) <= at < len(items):
                item = items[at]
                return item[0], start, end
            if isinstance(at, int):
                raise self._error(
                    f"index {at} is out of range for a {base[0].kind} of {len(items)} items", lsqb.start_pos
                )
        if type(base[0]) is not Node and not isinstance(base[0], Display):
            value = self.static(base)
            key = tuple(s[0] if isinstance(s[0], slice) else self.integers(s, "an index") for s in subscripts)
            try:
                np = _numpy()
                if isinstance(value, tuple | list | str):
                    return value[key[0] if len(key) == 1 else key], start, end  # type: ignore[index]
                return np.asarray(value)[key if len(key) != 1 else key[0]], start, end
            except (IndexError, TypeError, ValueError) as err:
                raise self._error(f"{describe(value)}[…]: {err}", lsqb.start_pos) from None
        index, masks, text = self._index(subscripts, lsqb, rsqb)
        return self._index_node(base, index, text, start, end, masks), start, end

    def _index(self, subscripts: list[Use], lsqb: Token, rsqb: Token) -> tuple[Any, list[Node], str]:
        """A subscript as (the static index, the boolean masks among it, its text)."""
        np = _numpy()
        mask = _arrays().MASK
        parts: list[object] = []
        masks: list[Node] = []
        if len(subscripts) == 1 and self._is_tuple(subscripts[0][0]):  # t = (1, 2); x[t] is x[1, 2]
            item, start, end = subscripts[0]
            subscripts = item.items if isinstance(item, Display) else [(v, start, end) for v in item]
        for use in subscripts:
            item = use[0]
            if type(item) is Node and item.id in self.booleans:
                masks.append(item)
                parts.append(mask)
                continue
            if isinstance(item, slice) or item is None or item is Ellipsis:
                parts.append(item)
                continue
            value = self.static(use)
            if isinstance(value, bool) or (isinstance(value, np.ndarray) and value.dtype == bool):
                parts.append(np.asarray(value))
                continue
            parts.append(self.integers((value, use[1], use[2]), "an index"))
        text = " ".join(self.source[lsqb.end_pos : rsqb.start_pos].split())
        if self.scope is not None and not masks:  # in a loop or a call: x[:, t] is x[:, 2] now
            text = ", ".join(_index_text(part) for part in parts)
        return tuple(parts), masks, text

    def _index_node(
        self, base: Use, index: Any, text: str, start: int, end: int, masks: Iterable[Node] = ()
    ) -> Node:
        node = self.as_node(base)
        if not isinstance(index, tuple):
            index = (index,)
        op = self._family_op(lambda: _arrays().getitem(index, text), start)
        masks = list(masks)
        shape = None if masks else self._check_shape(op, [self.shape((node, start, end))], start)
        result = self._node(op, (node, *masks), start, end)
        if shape == ():  # one element (v[0] of a vector): a copy, not a view
            self.storage.pop(result.id, None)
        return result

    def _check_shape(self, op: Op, shapes: list[tuple[int, ...]], pos: int) -> tuple[int, ...] | None:
        if op.shape is None:
            return None
        try:
            return op.shape(shapes)
        except ShapeMismatch as err:
            raise self._shape_error(str(err), pos) from None

    def _family_op(self, make: Callable[[], Op], pos: int) -> Op:
        try:
            return make()
        except ShapeMismatch as err:
            raise self._shape_error(str(err), pos) from None

    def slice_bounds(self, children: Mixed) -> Use:
        parts: list[Any] = [None]
        start = end = None
        for child in children:
            if isinstance(child, tuple):
                parts[-1] = self.integers(child, "a slice bound")
                start = child[1] if start is None else start
                end = child[2]
            else:  # a colon
                parts.append(None)
                start = child.start_pos if start is None else start
                end = child.end_pos
        assert start is not None and end is not None
        return slice(*parts), start, end

    def array(self, children: Mixed) -> Use:
        token, *uses, rsqb = children
        start, end = token.start_pos, rsqb.end_pos
        if not uses:
            raise ShapeError("an array literal needs at least one element", source=self.source, pos=start)
        if any(type(u[0]) is not Node for u in uses):  # [a, b] of statics or lists: decided on use
            return self._display(uses, "list", start), start, end
        elements = [use[0] for use in uses]
        if not all(e.id in self.literals for e in elements) or self.nodes[-len(elements) :] != elements:
            return self._stack(elements, start, end), start, end
        # numbers only ([1, 2], [[1, 2], [3, 4]]): one constant
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

    def call_op(self, op: Op, args: tuple[Node, ...], start: int, end: int) -> Node:
        """A gate of `op` on these inputs, as a call writes it: fused with the call inside it
        where the two are one stable gate (log(sigmoid(x))), or its circuit with --expand."""
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
                self._truncate(first)
            else:
                operands = inner.inputs
                self._truncate(inner.id)
            op, args = fused, operands
        if self.expand and op.expansion is not None:
            first = len(self.nodes)
            result = op.expansion(_Maker(self, start, end), *args)
            self.expanded[result.id] = (op, first)
            self._operands[result.id] = args
            return result
        return self._node(op, args, start, end)

    # --- the end ------------------------------------------------------------------------

    def graph(self, output: str | None = None) -> Graph:
        """Check what the whole program needs and return its graph; `output` (--output NAME)
        makes the node that name is bound to at the end of the program the output, instead of
        the last statement."""
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
        if self.output_static is not None:
            value, text, start, end = self.output_static
            node = self.as_node((value, start, end))
            if text.isidentifier():
                node.name = text
            self.output, self.output_text = node, text
        if self.output is None:
            raise ProgramError("the program is empty: write an expression such as (x+y)*z")
        if output is not None:
            chosen = self.env.get(output, self.inputs.get(output))
            if type(chosen) is not Node:
                known = sorted({*self.inputs, *(n for n, v in self.env.items() if type(v) is Node)})
                close = difflib.get_close_matches(output, known, n=3)
                what = (
                    "is not a name in the program"
                    if chosen is None
                    else f"is {_short(chosen)}, known while reading: it does not depend on the inputs"
                )
                raise ProgramError(
                    f"the output {output} {what}",
                    hint=(f"did you mean {' or '.join(close)}? " if close else "")
                    + "the program's names are "
                    + (", ".join(known) or "none"),
                )
            self.output, self.output_text = chosen, output
            self.output_span = (chosen.start, chosen.end)
        for name in self.bindings:
            if name not in self.used:
                self.warnings.append(f"the binding {name}=… is not used by the program")
        if self.spent:
            self._drop_spent()
        if self.data or self.booleans or self.drawn:
            self._settle_gradients()
        names = dict(self.inputs)
        for name, node in self.env.items():
            if name not in names and type(node) is Node:
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

    def _drop_spent(self) -> None:
        """Remove the nodes that were only read as static values (the 2 in reshape(x, (2, -1)))
        and nothing uses now, and those only they used; renumber the rest."""
        users = [0] * len(self.nodes)
        for node in self.nodes:
            for inp in node.inputs:
                users[inp.id] += 1
        output = cast("Node", self.output)
        named = {id(n) for n in self.env.values() if type(n) is Node}
        dropped: set[int] = set()
        orphans: set[int] = set()  # inputs of dropped nodes: dropped too once nothing uses them
        for node in reversed(self.nodes):
            k = node.id
            if (
                users[k] == 0
                and (k in self.spent or k in orphans)
                and node is not output
                and node.op is not INPUT
                and id(node) not in named
            ):
                dropped.add(k)
                for inp in node.inputs:
                    users[inp.id] -= 1
                    orphans.add(inp.id)
        if not dropped:
            return
        nodes: list[Node] = []
        values: list[Value | None] = []
        renumber: dict[int, int] = {}
        for node in self.nodes:
            if node.id in dropped:
                continue
            renumber[node.id] = len(nodes)
            values.append(self.values[node.id])
            nodes.append(node)
        for node in nodes:
            node.id = renumber[node.id]
        self.nodes, self.values = nodes, values
        self.scalars = 0
        self.data = {renumber[k] for k in self.data if k in renumber}
        self.booleans = {renumber[k] for k in self.booleans if k in renumber}
        self.drawn = {renumber[k] for k in self.drawn if k in renumber}
        self.smooth = {renumber[k] for k in self.smooth if k in renumber}
        self.numbers = []
        self.reusable = False

    def _settle_gradients(self) -> None:
        """Which nodes a gradient reaches, now that the inputs read as data are known: not those
        inputs, nor what only they (or comparisons) compute."""
        random = set(self.drawn)  # draws, and what only draws and constants make (a mask / p)
        for node in self.nodes:
            if node.op is INPUT:
                node.needs_grad = node.id not in self.data
            elif node.inputs:
                if random and all(i.id in random or i.op is CONST for i in node.inputs):
                    random.add(node.id)
                flows = node.op.differentiable and any(i.needs_grad for i in node.inputs)
                named = bool(node.name) and node.op.differentiable and node.id not in self.booleans
                node.needs_grad = flows or (named and node.id not in random)  # (a mask has none)


def _has_code(text: str) -> bool:
    """Whether the text holds anything but blank lines and comments (a statement)."""
    return any(line.split("#", 1)[0].strip() for line in text.split("\n"))


def _indentation(source: str, pos: int) -> str:
    """The white space that starts the line holding `pos`."""
    start = source.rfind("\n", 0, pos) + 1
    line = source[start : source.find("\n", start) % (len(source) + 1)]
    return line[: len(line) - len(line.lstrip())]


def output_text(source: str, start: int, end: int) -> str:
    """The output expression as written, without comments, on one line, shortened past
    MAX_OUTPUT_TEXT."""
    text = source[start:end]
    if "#" in text:
        text = COMMENT.sub("", text)
    text = " ".join(text[:200].split())
    return text if len(text) <= MAX_OUTPUT_TEXT else text[: MAX_OUTPUT_TEXT - 1] + "…"


class _NameToken(str):
    """A name as an assignment's token (x in `x[0] = 1`), where the grammar gave a Use."""

    start_pos: int
    end_pos: int

    def __new__(cls, name: str, start: int, end: int) -> _NameToken:
        token = super().__new__(cls, name)
        token.start_pos, token.end_pos = start, end
        return token


class _Maker:
    """What an op's expansion builds with: make("add", a, b) adds a gate, make.const(1.0) a
    constant, make.family("sum", x, axis=-1) a family's gate, each with the span of the call
    being expanded."""

    def __init__(self, builder: Builder, start: int, end: int) -> None:
        self.builder, self.start, self.end = builder, start, end

    def __call__(self, op_name: str, *inputs: Node) -> Node:
        return self.builder._node(OPS[op_name], inputs, self.start, self.end)

    def family(self, name: str, *inputs: Node, smooth: bool = False, **params: object) -> Node:
        """A gate of family `name`'s member for these parameters: make.family("sum", x, axis=-1,
        keepdims=True); smooth=True as make.smooth (its kink does not reach f)."""
        from bpcli.core.ops import FAMILIES

        load_all()
        node = self.builder._node(FAMILIES[name](**params), inputs, self.start, self.end)
        if smooth:
            self.builder.smooth.add(node.id)
        return node

    def smooth(self, op_name: str, *inputs: Node) -> Node:
        """A gate whose kink does not reach f (the shift or scale of a stable circuit)."""
        node = self(op_name, *inputs)
        self.builder.smooth.add(node.id)
        return node

    def const(self, value: float) -> Node:
        return self.builder._node(CONST, (), self.start, self.end, value, False)


_FUNCTIONS: dict[str, Function] = {}


def _function(name: str) -> Function:
    """The lecture's function `name` as a value (one object per name: sin(x) is common)."""
    function = _FUNCTIONS.get(name)
    if function is None:
        function = _FUNCTIONS[name] = Function(name, qualified=False)
    return function


def _nesting(value: tuple[Any, ...] | list[Any]) -> tuple[int, int]:
    """How deeply tuples and lists nest in a value, and how many items it holds in all, found
    without recursion (and without going past MAX_STATIC items)."""
    depth, size = 0, 0
    todo: list[tuple[Any, int]] = [(value, 1)]
    while todo and size <= MAX_STATIC:
        item, level = todo.pop()
        depth = max(depth, level)
        for inner in item:
            size += 1
            if isinstance(inner, tuple | list):
                todo.append((inner, level + 1))
    return depth, size


def _bind_hint(name: str) -> str:
    return f"bind it on the command line ({name}=1.5) or assign it in the program ({name} = 1.5)"


def _numpy_op(name: str) -> Op:
    """An op of numpy's array ops (// and %, a comparison), registered on first use."""
    load_all()
    return OPS[name]


def _arrays() -> Any:
    """bpcli.core.ops.arrays, registered on first use."""
    load_all()
    from bpcli.core.ops import arrays

    return arrays


def _numpy() -> Any:
    from bpcli.lazy import np

    return np


def _index_text(part: Any) -> str:
    """One part of an index as numpy code writes it: 2, 1:3, ::2, None, ..."""
    if isinstance(part, slice):
        bounds = ["" if v is None else str(v) for v in (part.start, part.stop, part.step)]
        return ":".join(bounds[:2]) + (f":{bounds[2]}" if part.step is not None else "")
    if part is Ellipsis:
        return "..."
    if isinstance(part, int | type(None)):
        return str(part)
    size = getattr(part, "size", 0)
    return str(part.tolist()) if 0 < size <= 4 else "[…]"


def _is_number_like(item: Any) -> bool:
    """A static value that takes a number in arithmetic as Python does (i + 1, 2 * pad)."""
    return isinstance(item, int | float | str | tuple) or hasattr(item, "dtype")


def _holds_objects(item: Any) -> bool:
    """Whether a tuple or list holds something that is not a number (a slice, None, a node)."""
    if isinstance(item, tuple | list):
        return any(_holds_objects(i) or not isinstance(i, int | float | list | tuple) for i in item)
    return False


def _as_integers(value: Any) -> Any:
    """A static value with every integral float as an int (1.0 -> 1); ValueError for a float
    that is not integral. Integer and boolean arrays stay as they are."""
    np = _numpy()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    if isinstance(value, tuple | list):
        return type(value)(_as_integers(v) for v in value)
    if isinstance(value, range):
        return np.arange(value.start, value.stop, value.step)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iub":
            return value
        if not np.all(np.mod(value, 1) == 0):
            raise ValueError(value)
        return value.astype(np.intp)
    if isinstance(value, np.integer):
        return int(value)
    raise ValueError(value)


def _short(value: Any) -> str:
    text = describe(value) if not isinstance(value, int | float) else repr(value)
    return text if len(text) <= 60 else text[:57] + "…"
