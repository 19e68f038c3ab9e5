"""A small LALR(1) parser that runs the tables Lark computed for grammar/bpcli.lark.

The lexer is one regular expression; the parser is a loop over a state stack, so nothing
recurses however deep the program nests. Each rule's reduction calls the builder's method
of the same name (the rule's alias) with the rule's children, exactly as a Lark
transformer would be called, with Lark's rules for which children are kept: anonymous
tokens are dropped, rules named `_x` are spliced into their parent, and `?rule` passes a
single child through.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, TypeAlias

from bpcli.language import _tables

_OPEN = {"LPAR", "LSQB", "LBRACE"}
_CLOSE = {"RPAR", "RSQB", "RBRACE"}
END = "$END"

# A grammar rule's callback: its kept children (tokens and what the callbacks of its
# sub-rules returned) -> what stands for the rule on the parse stack.
Callback: TypeAlias = "Callable[[list[object]], object]"


class Token:
    """A piece of the source: its terminal type, text and span."""

    __slots__ = ("end_pos", "start_pos", "type", "value")

    def __init__(self, type: str, value: str, start_pos: int, end_pos: int) -> None:
        self.type = type
        self.value = value
        self.start_pos = start_pos
        self.end_pos = end_pos

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Token({self.type}, {self.value!r}, {self.start_pos})"


class UnexpectedCharacter(Exception):
    """No token starts at this offset."""

    def __init__(self, pos: int) -> None:
        super().__init__(pos)
        self.pos = pos


class UnexpectedToken(Exception):
    """The token cannot come here; `expected` lists the terminals that could."""

    def __init__(self, token: Token, expected: set[str]) -> None:
        super().__init__(token)
        self.token = token
        self.expected = expected


class _Splice(list[object]):
    """The children of a `_rule`, to be spliced into its parent's children."""


# The terminals that are one fixed string (",", "//", "...") are one group of the lexer,
# tried after the others (none of which they could cut short), longest first, and told
# apart by their text: fewer groups make the pattern quicker to compile at start-up.
_LITERAL_KINDS = {text: name for name, text in _tables.LITERALS.items()}
_LEXER = re.compile(
    "|".join(f"(?P<{name}>{regex})" for name, regex in _tables.LEXER if name not in _tables.LITERALS)
    + "|(?P<_LITERAL>"
    + "|".join(re.escape(text) for text in sorted(_LITERAL_KINDS, key=len, reverse=True))
    + r")|(?P<_ERROR>[\s\S])"
)
_IGNORE = frozenset(_tables.IGNORE)


_KEYWORDS = _tables.KEYWORDS
# Clauses that continue the compound statement of the lines above (if …: … else: …): the
# line before them does not end a statement, so no _NL comes before them.
_CLAUSES = frozenset({"ELSE", "ELIF"})


class BadIndent(Exception):
    """A line's indentation matches no open block (or is less than the first line's)."""

    def __init__(self, pos: int, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


def tokens(text: str) -> Iterator[Token]:
    """The tokens of `text`, with Python's layout: a newline inside ( ) [ ] { } is only white
    space, blank lines and comments are nothing, and each line's indentation, against the
    first line's, opens (_INDENT) or closes (_DEDENT) blocks. A _NL ends each line that
    ends a statement, after the _DEDENTs of the blocks it closes."""
    depth = 0
    indents: list[int] = []  # the widths of the open blocks' indentation, the first line's first
    newline: Token | None = None  # the end of the last line, not yet given
    for match in _LEXER.finditer(text):
        kind = match.lastgroup
        if kind == "_LITERAL":
            value = match.group()
            kind = _LITERAL_KINDS[value]
            if kind in _OPEN:
                depth += 1
            elif kind in _CLOSE and depth:
                depth -= 1
        elif kind in _IGNORE:
            continue
        elif kind == "_NL":
            if not depth and newline is None and indents:
                newline = Token("_NL", "\n", match.start(), match.end())
            continue
        elif kind == "_ERROR":
            raise UnexpectedCharacter(match.start())
        else:
            value = match.group()
            if kind == "NAME":
                kind = _KEYWORDS.get(value, "NAME")
        start = match.start()
        if newline is not None or not indents:
            line_start = text.rfind("\n", 0, start) + 1
            width = len(text[line_start:start].expandtabs(8))
            if not indents:
                indents.append(width)
            elif width > indents[-1]:
                indents.append(width)
                yield newline  # type: ignore[misc]
                yield Token("_INDENT", "", start, start)
            else:
                while width < indents[-1]:
                    indents.pop()
                    if not indents:
                        raise BadIndent(start, "this line is indented less than the program's first line")
                    yield Token("_DEDENT", "", start, start)
                if width != indents[-1]:
                    raise BadIndent(start, "this line's indentation matches no block above it")
                if kind not in _CLAUSES:
                    yield newline  # type: ignore[misc]
            newline = None
        # (every alternative of the lexer is a named group: kind is never None here)
        yield Token(kind, value, start, match.end())  # type: ignore[arg-type]
    for _ in indents[1:]:
        yield Token("_DEDENT", "", len(text), len(text))


class _Rules(dict[int, tuple[str, int, "Callback | None"]]):
    """Rule index -> (origin, size, reduce), each made on first use."""

    def __init__(self, make: Callable[[int], tuple[str, int, Callback | None]]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, index: int) -> tuple[str, int, Callback | None]:
        rule = self[index] = self.make(index)
        return rule


class Parser:
    """The parser for one builder object, whose methods are the grammar's callbacks."""

    def __init__(self, builder: object) -> None:
        self.builder = builder
        # (origin, size, reduce) by rule, made the first time the rule reduces: a program uses
        # few of the grammar's rules, and start-up should not pay for the others
        self.rules = _Rules(self._rule)
        self.states = _tables.STATES
        self.chains: dict[tuple[int, int, str], int] = {}

    def _rule(self, index: int) -> tuple[str, int, Callback | None]:
        origin, size, callback, keep, expand1 = _tables.RULES[index]
        reduce = getattr(self.builder, callback, None) if callback else None
        return _reducer(origin, size, reduce, callback is None, keep, expand1)

    def parse(self, text: str) -> object:
        """Parse `text`, calling the builder as rules reduce; returns the start rule's value."""
        states, rules, chains = self.states, self.rules, self.chains
        stack = [_tables.START]
        values: list[object] = []  # tokens, and what the rules reduced to
        for token in tokens(text):
            kind = token.type
            while True:
                top = stack[-1]
                action = states[top].get(kind)
                if action is None:
                    raise UnexpectedToken(token, {s for s in states[top] if s.isupper()})
                if action >= 0:
                    stack.append(action)
                    values.append(token)
                    break
                origin, size, reduce = rules[~action]
                if reduce is None:
                    # single children passing through (atom -> postfix -> … -> expr): the
                    # whole chain depends only on the two top states and the lookahead
                    key = (stack[-2], top, kind)
                    end = chains.get(key)
                    if end is None:
                        end = chains[key] = self._chain(stack[-2], top, kind)
                    stack[-1] = end
                    continue
                if size:
                    children = values[-size:]
                    del values[-size:]
                    del stack[-size:]
                else:
                    children = []
                values.append(reduce(children))
                stack.append(states[stack[-1]][origin])
        # At the end only reductions remain: Lark never shifts $END (its root rule is `start`
        # alone, $END is only a lookahead), and the goto that lands on the END state, which
        # has no actions, returns at once. tests/test_grammar.py checks both facts of the tables.
        end_token = Token(END, "", len(text), len(text))
        while True:
            top = stack[-1]
            action = states[top].get(END)
            if action is None:
                raise UnexpectedToken(end_token, {s for s in states[top] if s.isupper()})
            origin, size, reduce = rules[~action]
            if reduce is None:
                stack[-1] = states[stack[-2]][origin]
                continue
            children = values[-size:] if size else []
            if size:
                del values[-size:]
                del stack[-size:]
            values.append(reduce(children))
            stack.append(states[stack[-1]][origin])
            if stack[-1] == _tables.END:
                return values[-1]

    def _chain(self, below: int, top: int, kind: str) -> int:
        """The top state after every pass-through reduction from `top` on lookahead `kind`."""
        states, rules = self.states, self.rules
        while True:
            action = states[top].get(kind)
            if action is None or action >= 0:
                return top
            origin, _, reduce = rules[~action]
            if reduce is not None:
                return top
            top = states[below][origin]


def _reducer(
    origin: str,
    size: int,
    callback: Callback | None,
    splice: bool,
    keep: tuple[tuple[int, bool], ...],
    expand1: bool,
) -> tuple[str, int, Callback | None]:
    """(origin, size, reduce) for one rule; reduce is None for a pure pass-through."""
    if expand1 and size == 1 and keep == ((0, False),):
        return origin, size, None
    indices = tuple(i for i, _ in keep)
    splices = any(splice for _, splice in keep)
    everything = indices == tuple(range(size)) and not splices

    # (`popped` holds a spliced child, a _Splice, where `keep` says, which a type cannot)
    def children_of(popped: list[Any]) -> list[object]:
        if everything:
            return popped
        if not splices:
            return [popped[i] for i in indices]
        # A left-recursive list rule (x: x "," item) would copy its growing list at every
        # reduction; grow the spliced list in place instead, so long lists stay linear.
        first, first_splices = keep[0]
        children: list[object] = popped[first] if first_splices else [popped[first]]
        for i, splice in keep[1:]:
            if splice:
                children.extend(popped[i])
            else:
                children.append(popped[i])
        return children

    if splice:

        def reduce(popped: list[object]) -> object:
            children = children_of(popped)
            return children if type(children) is _Splice else _Splice(children)
    elif callback is None:
        raise TypeError(f"the builder has no callback for the grammar rule {origin}")
    elif expand1:

        def reduce(popped: list[object]) -> object:
            children = children_of(popped)
            return children[0] if len(children) == 1 else callback(children)
    else:

        def reduce(popped: list[object]) -> object:
            return callback(children_of(popped))

    return origin, size, reduce


def literal(terminal: str) -> str | None:
    """The text of a terminal that is a fixed string (`RPAR` -> ")", `FOR` -> "for"), else None."""
    text = _tables.LITERALS.get(terminal)
    if text is None:
        text = next((word for word, kind in _KEYWORDS.items() if kind == terminal), None)
    return text
