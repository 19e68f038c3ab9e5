"""A program as the parser reads it: statements, and the expressions in them as small trees.

The LALR parser calls a `Recorder` as it reduces each rule. An expression rule becomes a
`Tree` (the rule's name and its children: tokens and smaller trees), which the interpreter
evaluates later, as often as a loop or a call needs, with an explicit stack. A statement
becomes one of the records below. Each statement of the top level is handed to `run` as
soon as it is read, so a program runs as it is parsed, statement by statement, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from bpcli.language.lalr import Token


class Tree:
    """An expression rule as read: the builder's (or interpreter's) callback, and children."""

    __slots__ = ("children", "code", "count", "rule", "subtrees")

    def __init__(self, rule: str, children: list[Any]) -> None:
        self.rule = rule
        self.children = children
        # the children that are trees, in order (a loop, not a comprehension: a tree is made
        # for each rule reduced, and this is quicker)
        subtrees = []
        for child in children:
            if type(child) is Tree:
                subtrees.append(child)
        self.subtrees = subtrees
        self.count = len(subtrees)
        self.code: list[Any] | None = None  # the interpreter's code for it, made on first use

    def __repr__(self) -> str:
        return f"Tree({self.rule}, {self.children!r})"


class Simple:
    """A simple statement (x = e, m[i] += e, an expression, return e, …): the rule, and its
    children, trees among them; `call`: an expression statement that is a call (print(x))."""

    __slots__ = ("call", "children", "rule")

    def __init__(self, rule: str, children: list[Any], call: bool = False) -> None:
        self.rule = rule
        self.children = children
        self.call = call


class For:
    __slots__ = ("body", "iterable", "keyword", "targets")

    def __init__(self, keyword: Token, targets: list[Token], iterable: Tree, body: list[Statement]) -> None:
        self.keyword = keyword
        self.targets = targets
        self.iterable = iterable
        self.body = body


class If:
    """if/elif/else: (condition, block) for each test in order, and the else block."""

    __slots__ = ("branches", "orelse")

    def __init__(self, branches: list[tuple[Any, list[Statement]]], orelse: list[Statement]) -> None:
        self.branches = branches
        self.orelse = orelse


class Param:
    """A def's parameter: its name, and its default's tree (or None); `star` for *args."""

    __slots__ = ("default", "name", "star")

    def __init__(self, name: Token, default: Any = None, star: bool = False) -> None:
        self.name = name
        self.default = default
        self.star = star


class Def:
    __slots__ = ("body", "keyword", "name", "params")

    def __init__(self, keyword: Token, name: Token, params: list[Param], body: list[Statement]) -> None:
        self.keyword = keyword
        self.name = name
        self.params = params
        self.body = body


class Class:
    __slots__ = ("bases", "body", "keyword", "name")

    def __init__(self, keyword: Token, name: Token, bases: list[Any], body: list[Statement]) -> None:
        self.keyword = keyword
        self.name = name
        self.bases = bases
        self.body = body


Statement: TypeAlias = "Simple | For | If | Def | Class"

# The statement rules whose first child is their keyword's token, recorded as Simple.
KEYWORD_STATEMENTS = ("pass_stmt", "break_stmt", "continue_stmt", "return_stmt", "assert_stmt", "raise_stmt")


class _Clause:
    """An elif or else clause, until the if statement takes it."""

    __slots__ = ("block", "test")

    def __init__(self, test: Any, block: list[Statement]) -> None:
        self.test = test
        self.block = block


class _Block(list["Statement"]):
    """The statements of a block, growing as the parser reads them."""


class Recorder:
    """The parser's callbacks: a tree for each expression rule, a record for each statement,
    and `run(statement)` for each statement of the top level, as soon as it is read."""

    def __init__(self, run: Callable[[Statement], None]) -> None:
        self.run = run

    def __getattr__(self, rule: str) -> Callable[[list[Any]], Tree]:
        record = partial(Tree, rule)  # (no Python frame of its own between the parser and Tree)
        setattr(self, rule, record)  # (made once per rule)
        return record

    # --- the top level and blocks ----------------------------------------------------------

    def start(self, children: list[Any]) -> None:
        return None

    def stmts(self, children: list[Any]) -> None:
        if children and children[-1] is not None:
            self.run(children[-1])
        return None

    def block(self, children: list[Any]) -> _Block:
        if children and type(children[0]) is _Block:
            block = children[0]
            block.extend(children[1:])
            return block
        return _Block(children)

    def suite(self, children: list[Any]) -> list[Statement]:
        (block,) = children
        return list(block)

    def line(self, children: list[Any]) -> _Block:
        return self.block(children)

    # --- statements ------------------------------------------------------------------------

    def _simple(rule: str) -> Callable[[Recorder, list[Any]], Simple]:  # type: ignore[misc]
        def record(self: Recorder, children: list[Any]) -> Simple:
            return Simple(rule, children)

        record.__name__ = rule
        return record

    def expr_stmt(self, children: list[Any]) -> Simple:
        (child,) = children
        return Simple("expr_stmt", children, call=type(child) is Tree and child.rule == "call")

    assign = _simple("assign")
    chain_assign = _simple("chain_assign")
    augassign = _simple("augassign")
    setitem = _simple("setitem")
    augsetitem = _simple("augsetitem")
    setattr = _simple("setattr")
    augsetattr = _simple("augsetattr")
    pass_stmt = _simple("pass_stmt")
    break_stmt = _simple("break_stmt")
    continue_stmt = _simple("continue_stmt")
    return_stmt = _simple("return_stmt")
    assert_stmt = _simple("assert_stmt")
    raise_stmt = _simple("raise_stmt")

    def unpack(self, children: list[Any]) -> Simple:
        # (a, b) = …: the parentheses are only written
        return Simple("unpack", [c for c in children if not _is_paren(c)])

    def for_stmt(self, children: list[Any]) -> For:
        *targets, iterable, body = children
        names = [t for t in targets if not _is_paren(t)]
        return For(names[0], names, iterable, body)

    def if_stmt(self, children: list[Any]) -> If:
        test, block, *clauses = children
        branches = [(test, block)]
        orelse: list[Statement] = []
        for clause in clauses:
            if clause.test is None:
                orelse = clause.block
            else:
                branches.append((clause.test, clause.block))
        return If(branches, orelse)

    def elif_clause(self, children: list[Any]) -> _Clause:
        test, block = children
        return _Clause(test, block)

    def else_clause(self, children: list[Any]) -> _Clause:
        (block,) = children
        return _Clause(None, block)

    def def_stmt(self, children: list[Any]) -> Def:
        name, _, *params, _, body = children
        return Def(name, name, [p if isinstance(p, Param) else Param(p) for p in params], body)

    def default_param(self, children: list[Any]) -> Param:
        name, default = children
        return Param(name, default)

    def star_param(self, children: list[Any]) -> Param:
        _, name = children
        return Param(name, star=True)

    def class_stmt(self, children: list[Any]) -> Class:
        name, *rest = children
        body = rest.pop()
        bases = [c for c in rest if not _is_paren(c)]
        return Class(name, name, bases, body)


def _is_paren(child: Any) -> bool:
    return getattr(child, "type", None) in ("LPAR", "RPAR")
