"""Runs a program's statements at build time, as JAX and PyTorch trace Python: loops are
unrolled, calls inlined, each branch decided on the values at these bindings.

The builder (bpcli.language.builder) makes graph nodes; this module decides which
statements run, how often, and in which scope. It never runs Python: it walks the
statements the parser recorded (bpcli.language.program) and evaluates each expression tree
with an explicit stack, calling the builder's callback for each rule.

Nothing recurses with the program's size. A call of a function the program defines is a
new frame on the driver's own stack (`_drive`), not a Python call; a frame's blocks nest as
its text does, and that nesting is bounded (MAX_NESTING).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from bpcli.core.graph import CONST, INPUT, Node, Scope
from bpcli.errors import BpcliError, ProgramError
from bpcli.language.program import Class, Def, For, If, Simple, Statement, Tree
from bpcli.language.statics import (
    BUILTINS,
    EXCEPTIONS,
    BoundMethod,
    Display,
    Function,
    Instance,
    Keyword,
    PyMethod,
    Starred,
    Use,
    UserClass,
    UserFunction,
    describe,
)
from bpcli.limits import MAX_DIMENSIONS

if TYPE_CHECKING:
    from bpcli.language.builder import Builder
    from bpcli.language.lalr import Token

MAX_STEPS = 10_000_000  # statements run, loops unrolled: more is a program that would not end
MAX_NODES = 10_000_000  # graph nodes a program may make
MAX_CALLS = 200  # calls of the program's functions inside one another
MAX_NESTING = 100  # blocks inside one another, as Python's own parser allows
MAX_ITEMS = 1_000_000  # items a list made at once may hold (list(range(n)), a + b, a * n)

# The rules evaluated lazily (the other operand only when needed), as Python does, and the
# jumps their code makes: always, if the value popped is false, and (keeping the value)
# past `or`'s right side when the left is true, past `and`'s when it is false.
_LAZY = frozenset({"ifexp", "or_test", "and_test"})
_JUMP, _IF_FALSE, _OR, _AND = "jump", "if false", "or", "and"


class _Callbacks(dict[str, Any]):
    """rule -> its callback: the interpreter's for rules with Python's meaning, else the
    builder's method of that name (looked up once per rule)."""

    def __init__(self, interpreter: Interpreter) -> None:
        super().__init__()
        self.interpreter = interpreter

    def __missing__(self, rule: str) -> Any:
        special = self.interpreter.special.get(rule)
        callback = self[rule] = special if special is not None else getattr(self.interpreter.b, rule)
        return callback


def _compile(tree: Tree) -> list[Any]:
    """An expression tree as code: its trees in the order they reduce (children first), and
    jumps around what a conditional expression, `and` or `or` may skip. Made with an
    explicit stack; a jump is a [kind, target] list, its target set at its label."""
    # Without a lazy rule, the code is the trees in postorder: the reverse of the order in
    # which a walk meets them that takes each tree before its children, the last child first.
    code: list[Any] = []
    todo: list[Any] = [tree]
    while todo:
        item = todo.pop()
        if item.rule in _LAZY:
            return _compile_lazy(tree)
        code.append(item)
        todo += item.subtrees
    code.reverse()
    return code


def _compile_lazy(tree: Tree) -> list[Any]:
    """_compile for a tree with a lazy rule in it (a if c else b, and, or)."""
    code: list[Any] = []
    todo: list[Any] = [tree]
    while todo:
        item = todo.pop()
        if type(item) is Tree:
            if item.rule not in _LAZY:
                todo.append(_Reduce(item))
                todo.extend(reversed(item.subtrees))
                continue
            done = _Label()
            if item.rule == "ifexp":  # a if c else b: c, if false go to b; a, go to the end; b
                body, test, orelse = item.children
                other = _Label()
                todo += [done, orelse, other, [_JUMP, done], body, [_IF_FALSE, other], test]
            else:  # a or b: a, if true go to the end (keeping a), else drop it; b
                left, right = item.children
                todo += [done, right, [_OR if item.rule == "or_test" else _AND, done], left]
        elif type(item) is _Reduce:
            code.append(item.tree)
        elif type(item) is _Label:
            for jump in item.jumps:
                jump[1] = len(code)
        else:
            item[1].jumps.append(item)
            code.append(item)
    return code


class _Reduce:
    __slots__ = ("tree",)

    def __init__(self, tree: Tree) -> None:
        self.tree = tree


class _Label:
    """A place in the code that jumps go to."""

    __slots__ = ("jumps",)

    def __init__(self) -> None:
        self.jumps: list[list[Any]] = []


class _Call:
    """A request to the driver: run `function` with these arguments and send back its value
    (or `returns`, for a class's __init__)."""

    __slots__ = ("end", "function", "keywords", "positional", "returns", "start")

    def __init__(
        self,
        function: UserFunction,
        positional: list[Use],
        keywords: list[Keyword],
        start: int,
        end: int,
        returns: Use | None = None,
    ) -> None:
        self.function = function
        self.positional = positional
        self.keywords = keywords
        self.start = start
        self.end = end
        self.returns = returns


class _Return(Exception):
    def __init__(self, use: Use) -> None:
        self.use = use


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


Steps: TypeAlias = "Generator[_Call, Use, Any]"


class Interpreter:
    """Runs one program's statements with one builder."""

    def __init__(self, builder: Builder) -> None:
        self.b = builder
        self.reset()
        self.callbacks = _Callbacks(self)  # rule -> what reduces it (special's, else the builder's)
        self.special = {
            "call": self._call,
            "attribute": self._attribute,
            "index": self._index,
            "array": self._array,
            "dict_display": self._dict_display,
            "entry": self._entry,
            "star_arg": self._star_arg,
            "not_test": self._not,
            "contains": self._contains,
            "not_contains": self._not_contains,
            "is_": self._is,
            "is_not": self._is_not,
            "add": self._add,
            "mul": self._mul,
        }

    def reset(self) -> None:
        """Ready to run another program (with the builder, reset for it)."""
        self.calls: list[tuple[UserFunction, int]] = []  # the active calls, and where each was made
        self.steps = 0
        self.nesting = 0
        self.conditions: dict[int, Node] = {}  # where a condition on a node was decided, first node

    # --- the driver ----------------------------------------------------------------------

    def run(self, statement: Statement) -> None:
        """Run one statement of the top level (and every call it makes)."""
        b = self.b
        stack: list[Steps] = [self._statement(statement)]
        saved: list[tuple[Any, ...]] = []
        value: Any = None
        try:
            while True:
                try:
                    request = stack[-1].send(value)
                except StopIteration as stop:
                    stack.pop()
                    if not stack:
                        return
                    b.env, b.stale, b.scope, b.tracking = saved.pop()
                    b.frames.pop()
                    self.calls.pop()
                    value = stop.value
                    continue
                function = request.function
                if any(active is function for active, _ in self.calls):
                    chain = " → ".join([f.name for f, _ in self.calls] + [function.name])
                    raise self._error(
                        f"{function.name} calls itself ({chain}): bpcli unrolls every call, and"
                        " cannot unroll recursion",
                        request.start,
                        hint="write the recursion as a for loop",
                    )
                if len(self.calls) >= MAX_CALLS:
                    raise self._error(f"calls nest more than {MAX_CALLS} deep", request.start)
                saved.append((b.env, b.stale, b.scope, b.tracking))
                b.frames.append(b.env)
                self.calls.append((function, request.start))
                stack.append(self._invoke(request))
                value = None
        except (_Break, _Continue) as err:
            word = "break" if isinstance(err, _Break) else "continue"
            raise self._error(f"'{word}' outside a loop", statement_pos(statement)) from None
        except _Return:
            raise self._error("'return' outside a function", statement_pos(statement)) from None
        except BpcliError as err:
            if self.calls:
                self._locate(err)
            raise
        finally:
            for steps in reversed(stack):
                steps.close()
            while saved:  # (after an error: the top level's state, for the message's sake)
                b.env, b.stale, b.scope, b.tracking = saved.pop()
                b.frames.pop()
            self.calls.clear()

    def run_evaluated(self, statement: Statement) -> None:
        """Run one statement of the top level whose expressions are values already (read by
        bpcli.language.direct): an assignment or an expression at once, with no steps to
        drive, as `run` would run it."""
        if type(statement) is Simple and statement.rule in ("assign", "expr_stmt"):
            self._count(statement)
            if statement.rule == "assign":
                self.b.assign(statement.children)
            else:
                self.b.expr_stmt(statement.children, call=statement.call)
        else:
            self.run(statement)

    def _locate(self, err: BpcliError) -> None:
        """Say in which call an error happened, and where that call was made."""
        scope = self.b.scope
        where = scope.label() if scope is not None else self.calls[-1][0].name
        line = self.b.source.count("\n", 0, self.calls[0][1]) + 1
        err.message = f"in {where} (called on line {line}): {err.message}"

    def _invoke(self, request: _Call) -> Steps:
        b = self.b
        function = request.function
        b.env = self._bind(function, request)
        b.stale = {}
        b.scope = Scope(b.scope, function.name)
        b.tracking = False
        b.reusable = False
        try:
            yield from self._block(function.body)
        except _Return as done:
            return request.returns or done.use
        return request.returns or (None, request.start, request.end)

    def _bind(self, function: UserFunction, request: _Call) -> dict[str, Any]:
        """The new frame's names: each parameter bound to its argument or default."""
        env: dict[str, Any] = {}
        params = function.params
        positional = request.positional
        if len(positional) > len(params):
            raise self._error(
                f"{function.name}() takes {len(params)} arguments, but {len(positional)} were given",
                request.start,
            )
        for (name, _), use in zip(params, positional, strict=False):
            env[name] = use[0]
        for keyword in request.keywords:
            if keyword.name not in (name for name, _ in params):
                raise self._error(
                    f"{function.name}() has no parameter {keyword.name}",
                    keyword.use[1] - len(keyword.name) - 1,
                )
            if keyword.name in env:
                raise self._error(f"{function.name}() got two values for {keyword.name}", keyword.use[1])
            env[keyword.name] = keyword.use[0]
        for name, default in params:
            if name not in env:
                if default is _MISSING:
                    raise self._error(f"{function.name}() is missing its argument {name}", request.start)
                env[name] = default
        return env

    # --- statements ----------------------------------------------------------------------

    def _block(self, statements: list[Statement]) -> Steps:
        self.nesting += 1
        try:
            if self.nesting > MAX_NESTING:
                raise self._error(f"blocks nest more than {MAX_NESTING} deep", statement_pos(statements[0]))
            for statement in statements:
                yield from self._statement(statement)
        finally:
            self.nesting -= 1

    def _count(self, statement: Statement) -> None:
        """One more statement run: refused past MAX_STEPS, or past MAX_NODES nodes made."""
        self.steps += 1
        if self.steps > MAX_STEPS or len(self.b.nodes) > MAX_NODES:
            what = f"{MAX_STEPS:,} statements" if self.steps > MAX_STEPS else f"{MAX_NODES:,} nodes"
            raise self._error(
                f"the program would run more than {what}: a loop's bound is too large",
                statement_pos(statement),
                hint="try it with smaller sizes: its gradients show the same steps",
            )

    def _statement(self, statement: Statement) -> Steps:
        self._count(statement)
        kind = type(statement)
        if kind is Simple:
            yield from self._simple(statement)  # type: ignore[arg-type]
        elif kind is For:
            yield from self._for(statement)  # type: ignore[arg-type]
        elif kind is If:
            yield from self._if(statement)  # type: ignore[arg-type]
        elif kind is Def:
            self._def(statement)  # type: ignore[arg-type]
        else:
            yield from self._class(statement)  # type: ignore[arg-type]

    def _simple(self, statement: Simple) -> Steps:
        b = self.b
        rule = statement.rule
        children: list[Any] = []
        for child in statement.children:
            if type(child) is Tree:
                child = yield from self._eval(child)
            children.append(child)
        if rule == "assign":
            token, use = children
            b.assign([token, use])
        elif rule == "expr_stmt":
            b.expr_stmt(children, call=statement.call)
        elif rule == "return_stmt":
            use = children[1] if len(children) > 1 else (None, children[0].start_pos, children[0].end_pos)
            raise _Return(use)
        elif rule == "setitem" and isinstance(children[0][0], Display) and len(children) == 5:
            base, _, key, _, value = children  # hs[k] = v, into a Python list
            items = base[0].items
            at = b.integers(key, "a list index")
            if not isinstance(at, int) or not -len(items) <= at < len(items):
                raise self._error(f"the list has no item {at}", key[1])
            items[at] = value
        elif rule == "setitem" and isinstance(children[0][0], dict):
            base, _, key, *_, value = children
            base[0][self._key(key)] = self._parameter(base, key, value)
        elif rule == "augsetitem" and isinstance(children[0][0], dict):
            base, _, key, _, augop, value = children
            table = base[0]
            old = self._lookup_key(table, key)
            table[self._key(key)] = self._augmented(str(augop), (old, key[1], key[2]), value)
        elif rule == "augassign" and _is_list((old := b.name(children[:1]))[0]):
            _, augop, value = children  # hs += [h]: the list itself grows
            self._augmented(str(augop), old, value)
        elif rule in ("setattr", "augsetattr"):
            self._setattr(rule, children)
        elif rule == "chain_assign":
            *tokens, use = children
            for token in tokens:
                b.assign([token, use])
        elif rule == "pass_stmt":
            pass
        elif rule == "break_stmt":
            raise _Break
        elif rule == "continue_stmt":
            raise _Continue
        elif rule == "assert_stmt":
            _, test, *message = children
            if not self.truth(test):
                text = self._text(message[0]) if message else " ".join(b.source[test[1] : test[2]].split())
                raise self._error(f"assertion failed: {text}", test[1])
        elif rule == "raise_stmt":
            raise self._raised(children)
        else:
            getattr(b, rule)(children)

    def _for(self, statement: For) -> Steps:
        b = self.b
        iterable = yield from self._eval(statement.iterable)
        targets = statement.targets
        outer = b.scope
        tracking = b.tracking
        b.reusable = False
        total = len(iterable[0]) if isinstance(iterable[0], range) else 0
        nodes, steps = len(b.nodes), self.steps
        try:
            for count, item in enumerate(self._iterate(iterable)):
                if count == 1 and total > 1:
                    self._foresee(statement, total, nodes, steps)
                nodes, steps = len(b.nodes), self.steps
                b.scope = Scope(outer, None, self._variables(targets, item, count))
                b.tracking = False
                if len(targets) == 1:
                    b.assign([targets[0], item])
                else:
                    b.unpack([*targets, item])
                b.tracking = tracking
                self.steps += 1
                try:
                    yield from self._block(statement.body)
                except _Continue:
                    continue
                except _Break:
                    break
        finally:
            b.scope = outer
            b.tracking = tracking

    def _foresee(self, statement: For, total: int, nodes: int, steps: int) -> None:
        """After a loop's first iteration: refuse at once a loop whose every iteration, done
        as often as its range says, would make more nodes or run more statements than a
        program may (for i in range(10**9)), rather than after minutes of work."""
        made = len(self.b.nodes) - nodes
        ran = self.steps - steps
        too_many_nodes = len(self.b.nodes) + made * (total - 1) > MAX_NODES
        if too_many_nodes or self.steps + ran * (total - 1) > MAX_STEPS:
            what = f"{MAX_NODES:,} nodes" if too_many_nodes else f"{MAX_STEPS:,} statements"
            raise self._error(
                f"this loop of {total:,} iterations would make more than {what}: its bound is too large",
                statement.keyword.start_pos,
                hint="try it with smaller sizes: its gradients show the same steps",
            )

    @staticmethod
    def _variables(targets: list[Token], item: Use, count: int) -> tuple[tuple[str, str], ...]:
        """The loop variables of one iteration, as a heading shows them: t = 2."""
        values = [item[0]] if len(targets) == 1 else None
        if values is None and isinstance(item[0], Display) and len(item[0].items) == len(targets):
            values = [i[0] for i in item[0].items]
        if values is None and isinstance(item[0], tuple | list) and len(item[0]) == len(targets):
            values = list(item[0])
        shown = [
            (str(t), str(v) if isinstance(v, str) else repr(v))
            for t, v in zip(targets, values or (), strict=False)
            if isinstance(v, int | str) and not isinstance(v, bool) and len(str(v)) <= 20
        ]
        return tuple(shown) or ((str(targets[0]), f"#{count}"),)

    def _if(self, statement: If) -> Steps:
        self.b.reusable = False  # (batch: other numbers may take another branch)
        for test, block in statement.branches:
            use = yield from self._eval(test)
            if self.truth(use):
                yield from self._block(block)
                return
        if statement.orelse:
            yield from self._block(statement.orelse)

    def _def(self, statement: Def) -> None:
        b = self.b
        params: list[tuple[str, Any]] = []
        for param in statement.params:
            if param.star:
                raise self._error("bpcli's functions take no *args", param.name.start_pos)
            default: Any = _MISSING
            if param.default is not None:
                default = self._constant(self._evaluate_now(param.default))
            params.append((str(param.name), default))
        b.env[str(statement.name)] = UserFunction(str(statement.name), params, statement.body)

    def _class(self, statement: Class) -> Steps:
        b = self.b
        saved = b.env, b.tracking
        namespace: dict[str, Any] = {}
        b.env, b.tracking = namespace, False
        b.frames.append(saved[0])
        try:
            yield from self._block(statement.body)
        finally:
            b.frames.pop()
            b.env, b.tracking = saved
        b.env[str(statement.name)] = UserClass(str(statement.name), namespace)

    def _parameter(self, base: Use, key: Use, value: Use) -> Any:
        """What a dict holds for `params['W1'] = std * np.random.randn(D, H)`: an array of
        floats made from numbers alone is a parameter, a leaf with a gradient, named
        params['W1']; anything else is itself."""
        item = value[0]
        if type(item) is Node and item.name:
            return item  # (a named array has its gradient already: net.params['W1'] = W1)
        if type(item) is Node and self.b.made_of_numbers(item):
            node = item
            item = self.b.evaluate(node, value[1], mark=False)
            self.b.spent.add(node.id)
        if getattr(item, "dtype", None) is None or item.dtype.kind != "f":
            return value[0]
        text = " ".join(self.b.source[base[1] : base[2]].split()).removeprefix("self.")
        name = f"{text}[{self._key(key)!r}]"
        return self.b.parameter(name, item, value[1], value[2])

    def _setattr(self, rule: str, children: list[Any]) -> None:
        owner, name, *rest = children
        target = owner[0]
        if not isinstance(target, Instance | UserClass):
            raise self._error(f"{describe(target)} has no attributes to set", owner[1])
        attributes = target.attributes if isinstance(target, Instance) else target.namespace
        if rule == "setattr":
            attributes[str(name)] = rest[0][0]
            return
        augop, value = rest
        if str(name) not in attributes:
            raise self._error(f"{describe(target)} has no attribute {name}", name.start_pos)
        old = (attributes[str(name)], owner[1], name.end_pos)
        attributes[str(name)] = self._augmented(str(augop), old, value)

    def _augmented(self, augop: str, old: Use, value: Use) -> Any:
        """What `old op= value` leaves where old was, as Python runs it: a list grows in place,
        an array changes in place (every other name, entry or attribute holding it sees the
        change, as in numpy), anything else is a new value."""
        symbol, item = augop[:-1], old[0]
        if _is_list(item) and symbol in ("+", "*"):
            grown = [*item.items, *self._items(value)] if symbol == "+" else self._repeated(old, value)
            self._check_items(len(grown), old[1])
            item.items[:] = grown
            return item
        b = self.b
        result = b.arith_op(symbol, old, value)[0]
        if type(item) is Node and type(result) is Node and b.shape(old, bake=False):
            b.rebind(item, result, old[1])
        return result

    def _raised(self, children: list[Any]) -> ProgramError:
        keyword = children[0]
        if len(children) == 1:
            return self._error("the program raises an error here", keyword.start_pos)
        value = children[1][0]
        if isinstance(value, Function) and value.name in EXCEPTIONS:
            return self._error(f"{value.name} raised", keyword.start_pos)
        if isinstance(value, RaisedError | str):
            return self._error(str(value), keyword.start_pos)  # (a RaisedError reads "ValueError: …")
        what = self.b._text(value) if type(value) is Node else describe(value)
        return self._error(
            f"raise takes an error, not {what}", keyword.start_pos, hint='raise ValueError("what went wrong")'
        )

    # --- expressions ---------------------------------------------------------------------

    def _eval(self, tree: Tree) -> Steps:
        """An expression's Use: its code run on a stack of values. Each instruction is a tree
        to reduce (its callback takes the tree's children, its subtrees' values in their
        places) or a jump, for what Python evaluates lazily (a if c else b, and, or)."""
        code = tree.code
        if code is None:
            code = _compile(tree)
            if self.b.scope is not None:  # in a loop or a call: it will run again
                tree.code = code  # (a cycle, tree to code to tree, kept only where it pays)
        callbacks = self.callbacks
        values: list[Any] = []
        pc, end = 0, len(code)
        while pc < end:
            step = code[pc]
            pc += 1
            if type(step) is Tree:
                children = step.children
                count = step.count
                if count == len(children):
                    children = values[-count:]
                    del values[-count:]
                elif count:
                    done = iter(values[-count:])
                    del values[-count:]
                    children = [next(done) if type(c) is Tree else c for c in children]
                else:
                    children = list(children)
                result = callbacks[step.rule](children)
                if type(result) is _Call:
                    result = yield result
                values.append(result)
                continue
            kind, target = step
            if kind is _JUMP:
                pc = target
            elif kind is _IF_FALSE:
                if not self.truth(values.pop()):
                    pc = target
            elif self.truth(values[-1]) == (kind is _OR):
                pc = target  # (a or b is a when a is true: its value stays)
            else:
                values.pop()
        (use,) = values
        return use

    def _evaluate_now(self, tree: Tree) -> Use:
        """An expression with no calls of the program's functions (a default value)."""
        steps = self._eval(tree)
        try:
            request = next(steps)
        except StopIteration as stop:
            return cast("Use", stop.value)
        steps.close()
        raise self._error("a default value may not call the program's functions", request.start)

    def _constant(self, use: Use) -> Any:
        """A default value kept for every call: a number written becomes a Python number."""
        item = use[0]
        if type(item) is Node and self.b.is_literal(item):
            return self.b.literal_number(item)
        return item

    def _forward(self, use: Use) -> Any:
        """A node's value at these bindings, read by a condition (it stays differentiable;
        the branch taken on it is warned of)."""
        item, start, _ = use
        b = self.b
        value = b.evaluate(item, start, mark=False)
        b.reusable = False
        if item.op is not INPUT:
            b.spent.add(item.id)
        self.conditions.setdefault(start, item)
        return value

    def truth(self, use: Use) -> bool:
        """Whether a condition holds at these bindings (Python's truth; numpy's for arrays)."""
        item, start, _ = use
        if type(item) is Node:
            item = self._forward(use)
        if isinstance(item, Display):
            return bool(item.items)
        if isinstance(item, dict | list | tuple | str | range):
            return bool(item)
        size = getattr(item, "size", None)
        if size is not None and size != 1:
            raise self._error(
                "the truth of an array of more than one element is ambiguous (numpy's rule)",
                start,
                hint="use .any() or .all()",
            )
        try:
            return bool(item)
        except (TypeError, ValueError):
            raise self._error(f"{describe(item)} is neither true nor false", start) from None

    def finish(self) -> list[str]:
        """Warnings on what ran: a branch taken on a differentiable value."""
        b = self.b
        warned: list[str] = []
        for pos, node in sorted(self.conditions.items()):
            names = _differentiable_inputs(node, b.data)
            if names:
                line = b.source.count("\n", 0, pos) + 1
                warned.append(
                    f"line {line}'s condition depends on {', '.join(names)}:"
                    " gradients are of the branch taken"
                )
        return warned

    # --- rules with Python's meaning ----------------------------------------------------

    def _call(self, children: list[Any]) -> Any:
        item = children[0][0]
        if type(item) is Function and item.name != "len" and (item.qualified or item.name not in BUILTINS):
            for arg in children[2:-1]:
                if isinstance(arg, Starred):
                    break
            else:  # numpy's or the lecture's function, its arguments as written (the commonest)
                return self.b.call(children)
        callee, _, *args, rpar = children
        start, end = callee[1], rpar.end_pos
        positional: list[Use] = []
        keywords: list[Keyword] = []
        expanded: list[Any] = []
        for arg in args:
            if isinstance(arg, Starred):
                for value in self._iterate(arg.use):
                    positional.append(value)
                    expanded.append(value)
                continue
            expanded.append(arg)
            if isinstance(arg, Keyword):
                keywords.append(arg)
            else:
                positional.append(arg)
        item = callee[0]
        if isinstance(item, UserFunction):
            return _Call(item, positional, keywords, start, end)
        if isinstance(item, UserClass):
            instance = Instance(item)
            init = item.namespace.get("__init__")
            if isinstance(init, UserFunction):
                return _Call(
                    init,
                    [(instance, start, start), *positional],
                    keywords,
                    start,
                    end,
                    (instance, start, end),
                )
            return instance, start, end
        if isinstance(item, BoundMethod):
            return _Call(item.function, [(item.owner, start, start), *positional], keywords, start, end)
        if isinstance(item, PyMethod):
            return self._method(item, positional, keywords, start, end)
        if isinstance(item, Function) and not item.qualified and item.name in BUILTINS:
            return self._builtin(item.name, positional, keywords, start, end)
        if isinstance(item, Function) and item.name == "len" and positional:
            value = positional[0][0]
            if isinstance(value, dict | str):
                return len(value), start, end
            if isinstance(value, Display):  # (its items' values are not read: no data)
                return len(value.items), start, end
        return self.b.call([callee, children[1], *expanded, rpar])

    def _builtin(
        self, name: str, positional: list[Use], keywords: list[Keyword], start: int, end: int
    ) -> Use:
        b = self.b
        if name in EXCEPTIONS:
            message = " ".join(self._text(p) for p in positional)
            return RaisedError(name, message), start, end
        if name == "print":
            b.printed.append(" ".join(self._text(p) for p in positional))
            return None, start, end
        if name == "range":
            if not 1 <= len(positional) <= 3 or keywords:
                raise self._error("range takes 1 to 3 integers", start)
            bounds = [b.integers(p, "a range's bound") for p in positional]
            if not all(isinstance(v, int) for v in bounds):
                raise self._error("a range's bounds must be integers", start)
            try:
                return range(*bounds), start, end
            except ValueError as err:
                raise self._error(f"range: {err}", start) from None
        if name == "str":
            return (self._text(positional[0]) if positional else ""), start, end
        if name == "isinstance":
            raise self._error("bpcli does not run isinstance: keep the branch that runs", start)
        items = [self._items(p) for p in positional]
        if name in ("enumerate", "reversed") and len(items) != 1:
            raise self._error(f"{name} takes one argument", start)
        if name == "enumerate":
            offset = b.integers(keywords[0].use, "start") if keywords else 0
            pairs = [_pair((offset + k, start, end), v) for k, v in enumerate(items[0])]
            return Display(pairs, "list"), start, end
        if name == "zip":
            rows = [(Display(list(group), "tuple"), start, end) for group in zip(*items, strict=False)]
            return Display(rows, "list"), start, end
        if name == "reversed":
            return Display(items[0][::-1], "list"), start, end
        if name in ("list", "tuple"):
            return Display(items[0] if items else [], name), start, end
        # dict(…): dict(a=1), dict(other)
        table: dict[Any, Any] = {}
        if positional:
            source = positional[0][0]
            if not isinstance(source, dict):
                raise self._error("dict() takes a dict or keywords", start)
            table.update(source)
        for keyword in keywords:
            table[keyword.name] = keyword.use[0]
        return table, start, end

    def _method(
        self, method: PyMethod, positional: list[Use], keywords: list[Keyword], start: int, end: int
    ) -> Use:
        owner, name = method.owner, method.name
        takes = _ARGUMENTS.get((type(owner), name))
        if takes is not None and not takes[0] <= len(positional) <= takes[1]:
            count = f"{takes[0]}" if takes[0] == takes[1] else f"{takes[0]} or {takes[1]}"
            raise self._error(f"{name}() takes {count} argument{'s' if takes[1] > 1 else ''}", start)
        if isinstance(owner, dict):
            if name == "get":
                key = self._key(positional[0])
                default = positional[1][0] if len(positional) > 1 else None
                return owner.get(key, default), start, end
            if name == "setdefault":
                key = self._key(positional[0])
                return owner.setdefault(key, positional[1][0] if len(positional) > 1 else None), start, end
            if name == "pop":
                key = self._key(positional[0])
                if key not in owner and len(positional) < 2:
                    raise self._error(f"the dict has no key {key!r}", positional[0][1])
                return owner.pop(key, positional[1][0] if len(positional) > 1 else None), start, end
            if name == "keys":
                return Display([(k, start, end) for k in owner], "list"), start, end
            if name == "values":
                return Display([(v, start, end) for v in owner.values()], "list"), start, end
            if name == "items":
                pairs = [_pair((k, start, end), (v, start, end)) for k, v in owner.items()]
                return Display(pairs, "list"), start, end
            if name == "copy":
                return dict(owner), start, end
            if name == "update":
                other = positional[0][0] if positional else {}
                owner.update(other if isinstance(other, dict) else {})
                for keyword in keywords:
                    owner[keyword.name] = keyword.use[0]
                return None, start, end
        if isinstance(owner, Display):
            if name == "append":
                (value,) = positional
                if isinstance(value[0], Display):
                    self._check_depth(max(owner.depth, value[0].depth + 1), start)
                    owner.depth = max(owner.depth, value[0].depth + 1)
                owner.items.append(value)
                return None, start, end
            if name == "extend":
                added = self._items(positional[0])
                self._check_items(len(owner.items) + len(added), start)
                owner.items.extend(added)
                return None, start, end
            if name == "pop":
                if not owner.items:
                    raise self._error("pop from an empty list", start)
                at = self.b.integers(positional[0], "an index") if positional else -1
                return owner.items.pop(at), start, end
            if name == "copy":
                return Display(list(owner.items), owner.kind), start, end
        if isinstance(owner, str):
            if name == "format":
                args = [self._text(p) for p in positional]
                named = {k.name: self._text(k.use) for k in keywords}
                try:
                    return owner.format(*args, **named), start, end
                except (IndexError, KeyError, ValueError) as err:
                    raise self._error(f"format: {err}", start) from None
            if name in ("upper", "lower", "strip"):
                return getattr(owner, name)(), start, end
        raise self._error(f"{describe(owner)} has no method {name}", start)

    def _attribute(self, children: list[Any]) -> Any:
        owner, token = children
        item, start = owner[0], owner[1]
        name = str(token)
        if isinstance(item, Instance):
            if name in item.attributes:
                return item.attributes[name], start, token.end_pos
            member = item.cls.namespace.get(name, _MISSING)
            if isinstance(member, UserFunction):
                return BoundMethod(item, member), start, token.end_pos
            if member is not _MISSING:
                return member, start, token.end_pos
            raise self._error(f"{item.cls.name} object has no attribute {name}", token.start_pos)
        if isinstance(item, UserClass):
            if name in item.namespace:
                return item.namespace[name], start, token.end_pos
            raise self._error(f"class {item.name} has no attribute {name}", token.start_pos)
        if isinstance(item, dict | str) or (isinstance(item, Display) and item.kind == "list"):
            return PyMethod(item, name), start, token.end_pos
        return self.b.attribute(children)

    def _index(self, children: list[Any]) -> Any:
        base = children[0]
        if isinstance(base[0], dict):
            _, _, key, *rest = children
            if len(rest) != 1:
                raise self._error("a dict takes one key", key[1])
            return self._lookup_key(base[0], key), base[1], rest[0].end_pos
        return self.b.index(children)

    def _lookup_key(self, table: dict[Any, Any], key: Use) -> Any:
        value = self._key(key)
        if value not in table:
            keys = ", ".join(repr(k) for k in list(table)[:8])
            raise self._error(
                f"the dict has no key {value!r}", key[1], hint=f"its keys: {keys}" if keys else None
            )
        return table[value]

    def _key(self, use: Use) -> Any:
        value = self.b.static(use)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        try:
            hash(value)
        except TypeError:
            raise self._error(f"{describe(value)} cannot be a dict's key", use[1]) from None
        return value

    def _array(self, children: list[Any]) -> Any:
        token, *uses, rsqb = children
        if not uses:
            return Display([], "list"), token.start_pos, rsqb.end_pos
        return self.b.array(children)  # (with an item not a node, a list: Display)

    def _add(self, children: list[Any]) -> Any:
        left, right = children
        if type(left[0]) is Node:  # x + y: no list (the common case, with no more asked)
            return self.b.add(children)
        if _is_list(left[0]) and _is_list(right[0]):  # lists join, as in Python
            items = [*left[0].items, *right[0].items]
            self._check_items(len(items), left[1])
            display = Display(items, "list")
            self._check_depth(display.depth, left[1])
            return display, left[1], right[2]
        return self.b.add(children)

    def _mul(self, children: list[Any]) -> Any:
        left, _, right = children
        if type(left[0]) is Node and type(right[0]) is Node:  # x * y: no list (the common case)
            return self.b.mul(children)
        if _is_list(left[0]) or _is_list(right[0]):  # [None] * T: the list repeated
            listed, count = (left, right) if _is_list(left[0]) else (right, left)
            return Display(self._repeated(listed, count), "list"), left[1], right[2]
        return self.b.mul(children)

    def _repeated(self, listed: Use, count: Use) -> list[Use]:
        times = self.b.integers(count, "a list's repeat count")
        if not isinstance(times, int):
            raise self._error("a list is repeated an integer number of times", count[1])
        self._check_items(len(listed[0].items) * times, listed[1])
        return listed[0].items * times

    def _dict_display(self, children: list[Any]) -> Use:
        lbrace, *entries, rbrace = children
        return dict(entries), lbrace.start_pos, rbrace.end_pos

    def _entry(self, children: list[Any]) -> tuple[Any, Any]:
        key, value = children
        return self._key(key), self._constant(value)

    def _star_arg(self, children: list[Any]) -> Starred:
        _, use = children
        return Starred(use)

    def _not(self, children: list[Any]) -> Use:
        (use,) = children
        return not self.truth(use), use[1], use[2]

    def _contains(self, children: list[Any]) -> Use:
        left, right = children
        container = self._forward(right) if type(right[0]) is Node else right[0]
        key = self._forward(left) if type(left[0]) is Node else left[0]
        if isinstance(container, Display):
            found = any(i[0] is key or (_is_plain(i[0]) and i[0] == key) for i in container.items)
        elif isinstance(container, dict | str | tuple | list | range) or hasattr(container, "shape"):
            try:
                found = bool(key in container)
            except (TypeError, ValueError) as err:
                raise self._error(f"in: {err}", left[1]) from None
        else:
            raise self._error(f"'in' on {describe(container)} is not supported", right[1])
        return found, left[1], right[2]

    def _not_contains(self, children: list[Any]) -> Use:
        found, start, end = self._contains(children)
        return not found, start, end

    def _is(self, children: list[Any]) -> Use:
        left, right = children
        return left[0] is right[0], left[1], right[2]

    def _is_not(self, children: list[Any]) -> Use:
        left, right = children
        return left[0] is not right[0], left[1], right[2]

    # --- helpers -------------------------------------------------------------------------

    def _items(self, use: Use) -> list[Use]:
        """The items of a value, all at once (list(…), enumerate(…), extend), at most MAX_ITEMS."""
        item = use[0]
        if isinstance(item, range | tuple | list | str | dict):
            self._check_items(len(item), use[1])
        return list(self._iterate(use))

    def _check_items(self, count: int, pos: int) -> None:
        if count > MAX_ITEMS:
            raise self._error(
                f"this list would hold {count:,} items, more than the {MAX_ITEMS:,} a list made at once may",
                pos,
                hint="try it with smaller sizes: its gradients show the same steps",
            )

    def _check_depth(self, depth: int, pos: int) -> None:
        if depth > MAX_DIMENSIONS:
            raise self._error(f"the list here is nested {depth} levels deep: at most {MAX_DIMENSIONS}", pos)

    def _iterate(self, use: Use) -> Iterator[Use]:
        """The items a for loop (or *args, list(…)) takes from a value, each as a Use."""
        item, start, end = use
        if isinstance(item, range):
            return ((i, start, end) for i in item)
        if isinstance(item, Display):
            return iter(list(item.items))
        if isinstance(item, dict):
            return ((k, start, end) for k in list(item))
        if isinstance(item, tuple | list | str):
            return ((v, start, end) for v in item)
        b = self.b
        if type(item) is Node:
            shape = b.shape(use)
            if not shape:
                raise self._error("a scalar cannot be iterated", start)
            return (b.row(use, k) for k in range(shape[0]))
        value = b.static(use)
        shape = getattr(value, "shape", ())
        if not shape:
            raise self._error(f"{describe(value)} cannot be iterated", start)
        return ((value[k], start, end) for k in range(shape[0]))

    def _text(self, use: Use) -> str:
        """A value as print and str write it."""
        item = use[0]
        if type(item) is Node and self.b.is_literal(item, last=False):
            item = self.b.literal_number(item)  # str(2) is '2'
        elif type(item) is Node:
            integral = self._of_integers(item)
            item = self.b.evaluate(item, use[1], mark=False)
            if integral and isinstance(item, float) and item.is_integer():
                item = int(item)  # str(1 + 1) is '2', as Python's ints make it
        if isinstance(item, Display):
            inner = ", ".join(self._text(i) if not isinstance(i[0], Display) else "(…)" for i in item.items)
            return f"[{inner}]" if item.kind == "list" else f"({inner})"
        if isinstance(item, float) and item.is_integer() and abs(item) < 1e16:
            return repr(item)
        return str(item)

    def _of_integers(self, node: Node) -> bool:
        """Whether Python would compute a node with ints: + - * // % of integers written."""
        b = self.b
        todo = [node]
        while todo:
            n = todo.pop()
            if n.op is CONST:
                text = b.source[n.start : n.end].strip().lstrip("+-")
                if not (n.id in b.literals and text.isdigit()):
                    return False
            elif n.op.name in ("add", "sub", "mul", "floordiv", "mod", "neg"):
                todo.extend(n.inputs)
            else:
                return False
        return True

    def _error(self, message: str, pos: int, hint: str | None = None) -> ProgramError:
        return ProgramError(message, source=self.b.source, pos=pos, hint=hint)


class RaisedError:
    """ValueError('…') as a value, for `raise`."""

    __slots__ = ("kind", "message")

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}" if self.message else self.kind


_MISSING: Any = object()  # a parameter with no default


def _pair(first: Use, second: Use) -> Use:
    return Display([first, second], "tuple"), first[1], second[2]


def _is_list(item: Any) -> bool:
    return isinstance(item, Display) and item.kind == "list"


# (type, method) -> the fewest and most positional arguments it takes
_ARGUMENTS: dict[tuple[type, str], tuple[int, int]] = {
    (dict, "get"): (1, 2),
    (dict, "setdefault"): (1, 2),
    (dict, "pop"): (1, 2),
    (Display, "append"): (1, 1),
    (Display, "extend"): (1, 1),
    (Display, "pop"): (0, 1),
}


def _is_plain(item: Any) -> bool:
    return isinstance(item, int | float | str | bool) or item is None


def _differentiable_inputs(node: Node, data: set[int]) -> list[str]:
    """The names of the inputs a node depends on that get a gradient."""
    seen: set[int] = set()
    todo = [node]
    names: list[str] = []
    while todo:
        n = todo.pop()
        if n.id in seen:
            continue
        seen.add(n.id)
        if n.op is INPUT and n.id not in data and n.name:
            names.append(n.name)
        if n.op.differentiable or n.op.boolean:
            todo.extend(n.inputs)
    return sorted(set(names))


def statement_pos(statement: Statement) -> int:
    """Where a statement starts, for a message."""
    if isinstance(statement, For | Def | Class):
        return statement.keyword.start_pos
    if isinstance(statement, If):
        first = statement.branches[0][0]
        return _tree_pos(first)
    for child in statement.children:
        pos = _tree_pos(child)
        if pos >= 0:
            return pos
    return 0


def _tree_pos(tree: Any) -> int:
    """The offset of the first token in a tree (found without recursion)."""
    todo = [tree]
    while todo:
        item = todo.pop()
        if type(item) is Tree:
            todo.extend(reversed(item.children))
        elif hasattr(item, "start_pos"):
            return int(item.start_pos)
    return -1
