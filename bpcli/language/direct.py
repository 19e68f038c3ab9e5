"""Straight-line programs evaluated as they are read, with no expression trees (issue 20).

A program with no loop, branch, function or class (none of the terminals in REFUSED: the
parser refuses such a text before it reduces anything) has nothing to run later or more
than once, so each expression rule can be evaluated the moment the parser reduces it: its
reduction calls the callback the interpreter would call for the rule's tree (the
interpreter's own for rules with Python's meaning, else the builder's), with the same
children. The interpreter evaluates a tree children first, left to right, which is the
order in which the parser reduces its rules, so the builder is called in the same order
with the same arguments, and makes the same graph. Statements are recorded, and each of the
top level runs as soon as it is read, as on the tree path (bpcli.language.program).

Anything unusual (a call that asks the driver to run one of the program's functions, an
error of any kind) raises GiveUp or the error, and bpcli.language.parse runs the tree path
from the start, which then says what it says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from bpcli.language.program import Recorder, Simple

if TYPE_CHECKING:
    from collections.abc import Callable

    from bpcli.language.interpreter import Interpreter

# What a straight-line program has none of: compound statements and their blocks, and the
# rules evaluated lazily (a if c else b, and, or), whose trees the interpreter jumps in.
REFUSED = ("FOR", "IF", "ELIF", "ELSE", "DEF", "CLASS", "AND", "OR", "_INDENT", "_DEDENT")


class GiveUp(Exception):
    """The direct path cannot evaluate this program: the tree path runs it."""


class Direct(Recorder):
    """The parser's callbacks for a straight-line program: each expression rule's value at
    once (a Use, as the interpreter's evaluation gives), and a record for each statement,
    run by the interpreter as soon as it is read."""

    def __init__(self, interpreter: Interpreter) -> None:
        super().__init__(interpreter.run_evaluated)
        self.callbacks = interpreter.callbacks
        self.last_call: Any = None  # the value of the last call reduced

    def __getattr__(self, rule: str) -> Callable[[list[Any]], Any]:
        callback: Callable[[list[Any]], Any] = self.callbacks[rule]
        setattr(self, rule, callback)  # (looked up once per rule: the parser keeps it)
        return callback

    def call(self, children: list[Any]) -> Any:
        use = self.callbacks["call"](children)
        if type(use) is not tuple:  # a request to run one of the program's functions
            raise GiveUp
        self.last_call = use
        return use

    def expr_stmt(self, children: list[Any]) -> Simple:
        (use,) = children  # (a call's value is a tuple made for it, found by identity)
        return Simple("expr_stmt", children, call=use is self.last_call)

    def _refused(self, children: list[Any]) -> NoReturn:
        raise GiveUp  # (the parser refuses the terminals these rules need: never reduced)

    for_stmt = if_stmt = elif_clause = else_clause = _refused
    def_stmt = default_param = star_param = class_stmt = _refused
    block = suite = line = _refused
