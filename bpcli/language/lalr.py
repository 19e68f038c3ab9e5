"""A small LALR(1) parser that runs the tables Lark computed for grammar/bpcli.lark.

The lexer is one regular expression; the parser is a loop over a state stack, so nothing
recurses however deep the program nests. Each rule's reduction calls the builder's method
of the same name (the rule's alias) with the rule's children, exactly as a Lark
transformer would be called, with Lark's rules for which children are kept: anonymous
tokens are dropped, rules named `_x` are spliced into their parent, and `?rule` passes a
single child through.

Speed (issue 20): the lexer gives three lists (terminal numbers, start and end offsets)
rather than an object for each token; the tables are tuples indexed by symbol number; a
token the parser shifts is pushed as its index in those lists and becomes a Token only when
a rule keeps it; and the goto after a reduction is cached together with the pass-through
reductions that follow it. The lexer's error (a bad character or indentation) is raised
when the parser reaches it, after the tokens before it, as a token stream would raise it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from operator import itemgetter
from typing import Any, TypeAlias

from bpcli.language import _tables

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


class Refused(Exception):
    """The text has a token of a terminal the parser was told to refuse (nothing reduced)."""


class _Splice(list[object]):
    """The children of a `_rule`, to be spliced into its parent's children."""


# Symbols are numbers (_tables.SYMBOLS): the lexer gives the parser a list of terminal
# numbers and offsets, and a state's actions are a tuple indexed by symbol number.
_SYMBOLS = _tables.SYMBOLS
_NUMBER = {name: i for i, name in enumerate(_SYMBOLS)}
_TERMINALS = _tables.TERMINALS
# One pattern: each terminal's alternative followed by an empty group of its name, which
# says which one matched (it is the match's last group) and lets the regular expression
# engine skip an alternative whose first character cannot match. The white space before a
# token is read with it, before the empty group 1 that marks where the token starts (WS is
# ignored, and no other terminal starts with white space: at the end of the text, WS's own
# alternative matches it). The terminals that are one fixed string (",", "//", "...") are
# one alternative, tried after the others (none of which they could cut short), longest
# first, and told apart by their text: fewer groups make the pattern quicker to compile.
_LITERAL_KINDS = {text: _NUMBER[name] for name, text in _tables.LITERALS.items()}
_LEXER = re.compile(
    f"(?:{dict(_tables.LEXER)['WS']})?()(?:"
    + "|".join(f"(?:{regex})(?P<{name}>)" for name, regex in _tables.LEXER if name not in _tables.LITERALS)
    + "|(?:"
    + "|".join(re.escape(text) for text in sorted(_LITERAL_KINDS, key=len, reverse=True))
    + r")(?P<_LITERAL>)|[\s\S](?P<_ERROR>))"
)
# What each group of the lexer's pattern is (by group number): a terminal's number, or one
# of these codes below zero. (Groups inside a terminal's own pattern are never the last
# group of a match: the terminal's empty group closes after them.)
_LITERAL, _IGNORED, _NEWLINE, _BAD, _WORD = -1, -2, -3, -4, -5
_GROUPS: list[int] = [_BAD] * (_LEXER.groups + 1)
for _name, _group in _LEXER.groupindex.items():
    _GROUPS[_group] = (
        _LITERAL
        if _name == "_LITERAL"
        else _BAD
        if _name == "_ERROR"
        else _IGNORED
        if _name in _tables.IGNORE
        else _NEWLINE
        if _name == "_NL"
        else _WORD
        if _name == "NAME"
        else _NUMBER[_name]
    )
_KEYWORD_KINDS = {text: _NUMBER[name] for text, name in _tables.KEYWORDS.items()}
_NAME, _NL, _INDENT, _DEDENT = (_NUMBER[name] for name in ("NAME", "_NL", "_INDENT", "_DEDENT"))
_OPENS = frozenset(_NUMBER[name] for name in ("LPAR", "LSQB", "LBRACE"))
_CLOSES = frozenset(_NUMBER[name] for name in ("RPAR", "RSQB", "RBRACE"))
# Clauses that continue the compound statement of the lines above (if …: … else: …): the
# line before them does not end a statement, so no _NL comes before them.
_CLAUSES = frozenset(_NUMBER[name] for name in ("ELSE", "ELIF"))
_END = _NUMBER[END]

# kept for bpcli.language.hints and the error messages, which speak of terminals by name
_KEYWORDS = _tables.KEYWORDS


class BadIndent(Exception):
    """A line's indentation matches no open block (or is less than the first line's)."""

    def __init__(self, pos: int, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


def _lex(text: str) -> tuple[list[int], list[int], list[int], Exception | None]:
    """The tokens of `text` as three lists (terminal numbers, start and end offsets), and the
    error that stops them (a character no token starts with, a bad indentation), or None.

    Python's layout: a newline inside ( ) [ ] { } is only white space, blank lines and
    comments are nothing, and each line's indentation, against the first line's, opens
    (_INDENT) or closes (_DEDENT) blocks. A _NL ends each line that ends a statement, after
    the _DEDENTs of the blocks it closes."""
    kinds: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    depth = 0
    indents: list[int] = []  # the widths of the open blocks' indentation, the first line's first
    newline = -1  # the offset of the end of the last line, not yet given (-1: none)
    line_starts = True  # the next token starts a line (the program's first, or after newline)
    groups, literals, keywords = _GROUPS, _LITERAL_KINDS, _KEYWORD_KINDS
    for match in _LEXER.finditer(text):
        kind = groups[match.lastindex]  # type: ignore[index]
        start = match.start(1)
        end = match.end()
        if kind < 0:
            if kind == _LITERAL:
                kind = literals[text[start:end]]
                if kind in _OPENS:
                    depth += 1
                elif kind in _CLOSES and depth:
                    depth -= 1
            elif kind == _WORD:
                kind = keywords.get(text[start:end], _NAME)
            elif kind == _IGNORED:
                continue
            elif kind == _NEWLINE:
                if not depth and newline < 0 and indents:
                    newline = start
                    line_starts = True
                continue
            else:
                return kinds, starts, ends, UnexpectedCharacter(start)
        if line_starts:
            line_start = text.rfind("\n", 0, start) + 1
            width = len(text[line_start:start].expandtabs(8))
            if not indents:
                indents.append(width)
            elif width > indents[-1]:
                indents.append(width)
                kinds += (_NL, _INDENT)
                starts += (newline, start)
                ends += (newline + 1, start)
            else:
                while width < indents[-1]:
                    indents.pop()
                    if not indents:
                        error = BadIndent(start, "this line is indented less than the program's first line")
                        return kinds, starts, ends, error
                    kinds.append(_DEDENT)
                    starts.append(start)
                    ends.append(start)
                if width != indents[-1]:
                    error = BadIndent(start, "this line's indentation matches no block above it")
                    return kinds, starts, ends, error
                if kind not in _CLAUSES:
                    kinds.append(_NL)
                    starts.append(newline)
                    ends.append(newline + 1)
            newline = -1
            line_starts = False
        kinds.append(kind)
        starts.append(start)
        ends.append(end)
    for _ in indents[1:]:
        kinds.append(_DEDENT)
        starts.append(len(text))
        ends.append(len(text))
    return kinds, starts, ends, None


def _token(text: str, kind: int, start: int, end: int) -> Token:
    return Token(_SYMBOLS[kind], text[start:end], start, end)


def tokens(text: str) -> Iterator[Token]:
    """The tokens of `text`, as the parser reads them (see `_lex`): the error that stops
    them is raised where it comes."""
    kinds, starts, ends, error = _lex(text)
    for kind, start, end in zip(kinds, starts, ends, strict=True):
        yield _token(text, kind, start, end)
    if error is not None:
        raise error


def _expected(row: tuple[int | None, ...]) -> set[str]:
    """The terminals a state has an action for."""
    return {_SYMBOLS[i] for i in range(_TERMINALS) if row[i] is not None}


# How a rule reduces (the third item of a rule's entry in Parser.rules)
_PASS = 0  # a single child passes through (?rule): no callback, the top state changes
_ALL = 1  # the callback takes every child, as popped
_SOME = 2  # a function of the popped values makes the rule's value (kept children, splices)


# A rule as a parser runs it: (size, origin's number, how, reduce, tokens), where `tokens`
# are the indices of the children that are tokens the rule keeps. The parser pushes a token
# as its index in the lexer's lists, and makes a Token of it only when a rule keeps it.
Rule: TypeAlias = "tuple[int, int, int, Callable[[list[Any]], object], tuple[int, ...]]"


class Parser:
    """The parser for one builder object, whose methods are the grammar's callbacks.
    `refuse`: terminals (by name) whose presence anywhere in a text makes `parse` raise
    Refused before it reduces anything (a builder that cannot handle what they bring)."""

    def __init__(self, builder: object, refuse: tuple[str, ...] = ()) -> None:
        self.builder = builder
        self.refuse = frozenset(_NUMBER[name] for name in refuse)
        # each rule made the first time it reduces: a program uses few of the grammar's
        # rules, and start-up should not pay for the others
        self.rules: list[Rule | None] = [None] * len(_tables.RULES)
        self.states = _tables.STATES
        # (state below, rule's origin, lookahead) -> the top state after the goto and the
        # pass-through reductions that follow it
        self.gotos: dict[int, int] = {}

    def _rule(self, index: int) -> Rule:
        origin, size, callback, keep, expand1, tokens = _tables.RULES[index]
        reduce = getattr(self.builder, callback, None) if callback else None
        rule = (*_reducer(origin, size, reduce, callback is None, keep, expand1, bool(tokens)), tokens)
        self.rules[index] = rule
        return rule

    def parse(self, text: str) -> object:
        """Parse `text`, calling the builder as rules reduce; returns the start rule's value."""
        kinds, starts, ends, error = _lex(text)
        if not kinds and error is not None:
            raise error
        if self.refuse and not self.refuse.isdisjoint(kinds):
            raise Refused
        states, rules, gotos, symbols = self.states, self.rules, self.gotos, _SYMBOLS
        new, done = object.__new__, _tables.END
        # the error that stops the tokens is raised after the last of them is read
        stop = len(kinds) - 1 if error is not None else -1
        kinds.append(_END)  # the end: only reductions remain (see below)
        starts.append(len(text))
        ends.append(len(text))
        top = _tables.START
        stack = [top]
        values: list[Any] = []  # tokens (by index), and what the rules reduced to
        children: list[Any]
        push_state, push_value = stack.append, values.append
        for i, kind in enumerate(kinds):
            while True:
                action = states[top][kind]
                if action is None:
                    start = starts[i]
                    raise UnexpectedToken(
                        Token(symbols[kind], text[start : ends[i]], start, ends[i]), _expected(states[top])
                    )
                if action >= 0:
                    push_state(action)
                    top = action
                    push_value(i)
                    break
                size, origin, how, reduce, tokens = rules[~action] or self._rule(~action)
                if how == _PASS:  # (gotos leaves none: only a state that a goto entered has one)
                    top = stack[-1] = self._pass(stack[-2], top, kind)
                    continue
                if size == 1:  # (a name, a number: the commonest, done without slices)
                    del stack[-1]
                    t = values.pop()
                    if tokens:  # (a Token made without a call of __init__: quicker)
                        token = new(Token)
                        token.type = symbols[kinds[t]]
                        token.start_pos = start = starts[t]
                        token.end_pos = end = ends[t]
                        token.value = text[start:end]
                        children = [token]
                    else:
                        children = [t]
                elif size:
                    children = values[-size:]
                    del values[-size:]
                    del stack[-size:]
                    for j in tokens:
                        t = children[j]
                        token = children[j] = new(Token)
                        token.type = symbols[kinds[t]]
                        token.start_pos = start = starts[t]
                        token.end_pos = end = ends[t]
                        token.value = text[start:end]
                else:
                    children = []
                push_value(reduce(children))
                # the goto, and the pass-through reductions that follow it (atom -> postfix
                # -> … -> expr), which depend only on the state below, the rule and the
                # lookahead: a single child passes through, only the top state changes
                below = stack[-1]
                key = (below << 8 | origin) << 8 | kind
                top = gotos.get(key)  # type: ignore[assignment]
                if top is None:
                    top = gotos[key] = self._pass(below, states[below][origin], kind)
                push_state(top)
                if top == done:
                    return values[-1]
            if i == stop:
                raise error  # type: ignore[misc]
        # Lark never shifts $END (its root rule is `start` alone, $END is only a lookahead),
        # and the goto that lands on the END state, which has no actions, returns at once:
        # tests/test_grammar.py checks both facts of the tables.
        raise AssertionError("the tables shifted the end of the input")

    def _pass(self, below: int, top: int, kind: int) -> int:
        """The top state after every pass-through reduction from `top` on lookahead `kind`."""
        states, rules = self.states, self.rules
        while True:
            action = states[top][kind]
            if action is None or action >= 0:
                return top
            _, origin, how, _, _ = rules[~action] or self._rule(~action)
            if how != _PASS:
                return top
            top = states[below][origin]  # type: ignore[assignment]


def _reducer(
    origin: str,
    size: int,
    callback: Callback | None,
    splice: bool,
    keep: tuple[tuple[int, bool], ...],
    expand1: bool,
    token: bool = False,
) -> tuple[int, int, int, Callable[[list[Any]], object]]:
    """(size, origin's number, how, reduce) for one rule (see _PASS, _ALL, _SOME): `reduce`
    takes the rule's children as popped, its tokens made Tokens. `token`: the rule keeps a
    token, which cannot pass through as the parser pushed it (an index)."""
    number = _NUMBER[origin]
    if expand1 and size == 1 and keep == ((0, False),) and not token:
        return size, number, _PASS, _nothing
    indices = tuple(i for i, _ in keep)
    splices = any(splice for _, splice in keep)
    everything = indices == tuple(range(size)) and not splices
    if callback is not None and not splice and not expand1 and not splices:
        if everything:
            return size, number, _ALL, callback
        if len(indices) == 2:  # (x + y: the anonymous "+" left out)
            a, b = indices
            return size, number, _SOME, lambda popped: callback([popped[a], popped[b]])
        if len(indices) > 2:
            pick = itemgetter(*indices)
            return size, number, _SOME, lambda popped: callback(list(pick(popped)))

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

    return size, number, _SOME, reduce


def _nothing(popped: list[object]) -> object:
    raise AssertionError("a pass-through rule reduces by its chain")


def literal(terminal: str) -> str | None:
    """The text of a terminal that is a fixed string (`RPAR` -> ")", `FOR` -> "for"), else None."""
    text = _tables.LITERALS.get(terminal)
    if text is None:
        text = next((word for word, kind in _KEYWORDS.items() if kind == terminal), None)
    return text
