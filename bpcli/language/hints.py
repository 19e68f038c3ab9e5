"""Hints for mistakes in a program's text, each offered only when its fix parses.

A hint that suggests a rewrite comes with the whole program rewritten (`Fix.text`), and is
offered only when that text parses: a hint that would lead to another syntax error is worse
than none. The check runs the same LALR tables with a builder that builds nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from bpcli.language import lalr
from bpcli.lazy import LazyPattern

# Characters students paste from PDFs and slides, mapped one for one so that
# error positions stay true.
TYPOS = str.maketrans({"−": "-", "×": "*", "·": "*", "÷": "/", "\u00a0": " ", "\ufeff": " "})

_IMPORT = LazyPattern(r"(?m)^[ \t]*(?:import numpy(?: as np)?|from numpy import \*)[ \t]*(?:#[^\n]*)?$")


def without_imports(text: str) -> str:
    """The program with `import numpy as np` lines blanked (as pasted from a notebook): np.
    is bpcli's anyway. Blanked, not removed, so that every position stays where it was."""
    if "import" not in text:
        return text
    return _IMPORT.sub(lambda m: " " * len(m.group()), text)


def readable(source: str) -> str:
    """The text the parser reads for `source`: pasted typography mapped, imports blanked."""
    return without_imports(source.translate(TYPOS))

# Terminals that can only continue an expression begun before them: a line that starts
# with one of them was meant as the rest of the line above.
BINARY = frozenset(
    {
        "PLUS",
        "MINUS",
        "STAR",
        "SLASH",
        "AT",
        "FLOORDIV",
        "PERCENT",
        "POW",
        "DOT",
        "COMPARE",
        "AND",
        "OR",
        "IN",
        "IS",
        "IF",
    }
)
# (`if` also starts a statement: it is a continuation only when its line has no ':')

RULE = "a statement continues onto the next line only inside brackets"
HINT_WIDTH = 76  # a hint's code lines, indented by 4, fit 80 columns


class Fix:
    """A suggested rewrite: the hint that says it, and the whole program rewritten."""

    __slots__ = ("hint", "statement", "text")

    def __init__(self, hint: str, text: str, statement: int = 0) -> None:
        self.hint = hint
        self.text = text
        self.statement = statement  # (a continuation's: where the statement it continues starts)


class _Nothing:
    """A builder that builds nothing: every grammar callback returns None."""

    def __getattr__(self, name: str) -> Callable[[list[object]], None]:
        return _nothing


def _nothing(children: list[object]) -> None:
    return None


_parser: lalr.Parser | None = None


def parses(text: str) -> bool:
    """Whether `text` is a program by the grammar (whatever its names mean)."""
    global _parser
    if _parser is None:
        _parser = lalr.Parser(_Nothing())
    try:
        _parser.parse(readable(text))
    except (lalr.UnexpectedCharacter, lalr.UnexpectedToken, lalr.BadIndent):
        return False
    return True


def width(text: str) -> int:
    """Columns `text` takes on a terminal (wide CJK characters count 2)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def line_of(source: str, pos: int) -> tuple[int, int]:
    """The start and end offsets of the line holding offset `pos`."""
    start = source.rfind("\n", 0, pos) + 1
    end = source.find("\n", pos)
    return start, len(source) if end == -1 else end


def line_number(source: str, pos: int) -> int:
    return source.count("\n", 0, pos) + 1


def _code_end(source: str, start: int, end: int) -> int:
    """The end of the code on source[start:end], before a comment and trailing blanks."""
    last = start
    try:
        for token in lalr.tokens(source[start:end].translate(TYPOS)):
            if token.type not in ("_NL", "_INDENT", "_DEDENT"):
                last = start + token.end_pos
    except (lalr.UnexpectedCharacter, lalr.BadIndent):
        return start + len(source[start:end].split("#")[0].rstrip())
    return last


def first_token(source: str, pos: int) -> lalr.Token | None:
    """The first token of the line holding `pos` (offsets in `source`), if it has one."""
    start, end = line_of(source, pos)
    try:
        for token in lalr.tokens(source[start:end].translate(TYPOS)):
            if token.type not in ("_NL", "_INDENT", "_DEDENT"):
                return lalr.Token(token.type, token.value, start + token.start_pos, start + token.end_pos)
    except (lalr.UnexpectedCharacter, lalr.BadIndent):
        return None
    return None


def starts_with_operator(source: str, pos: int) -> bool:
    """Whether the line holding `pos` starts with an operator that only continues an
    expression (+ c, * c, .sum(), and d), as a line meant as the rest of the one above does."""
    token = first_token(source, pos)
    if token is None or token.type not in BINARY:
        return False
    if token.type == "IF":  # `if c: …` is a statement; `if c else d` continues one
        start, end = line_of(source, pos)
        return ":" not in source[start:end]
    return True


def _statement_start(source: str, end: int) -> tuple[int, int] | None:
    """Where the last statement before offset `end` starts, and where its expression starts
    (after `name =`, `+=` or `return`), when the text before `end` ends with a complete
    simple statement; else None (it ends in a block's header, or in an open bracket)."""
    try:
        tokens = list(lalr.tokens(readable(source[:end])))
    except (lalr.UnexpectedCharacter, lalr.BadIndent):
        return None
    tokens = [t for t in tokens if t.type not in ("_INDENT", "_DEDENT")]
    if not tokens or tokens[-1].type in ("COLON", "SEMICOLON", "_NL", "COMMA") or tokens[-1].type in BINARY:
        return None
    depth = 0
    statement = 0
    for i, token in enumerate(tokens):
        if token.type in ("LPAR", "LSQB", "LBRACE"):
            depth += 1
        elif token.type in ("RPAR", "RSQB", "RBRACE"):
            depth = max(0, depth - 1)
        elif depth == 0 and token.type in ("_NL", "SEMICOLON", "COLON"):
            statement = i + 1
    if depth or statement >= len(tokens):
        return None
    first = tokens[statement]
    if first.type in ("FOR", "IF", "DEF", "CLASS", "ELIF", "ELSE", "PASS", "BREAK", "CONTINUE"):
        return None
    expression = statement
    depth = 0
    for i in range(statement, len(tokens)):
        kind = tokens[i].type
        if kind in ("LPAR", "LSQB", "LBRACE"):
            depth += 1
        elif kind in ("RPAR", "RSQB", "RBRACE"):
            depth = max(0, depth - 1)
        elif depth == 0 and kind in ("EQUAL", "AUGOP", "RETURN", "ASSERT", "RAISE"):
            expression = i + 1
    if expression >= len(tokens):
        return None
    return first.start_pos, tokens[expression].start_pos


def line_before(source: str, line_start: int) -> tuple[int, int] | None:
    """The span of the last line of code before the line starting at `line_start` (blank
    and comment-only lines skipped), if there is one."""
    end = line_start - 1
    while end >= 0:
        start, end = line_of(source, end)
        text = source[start:end].strip()
        if text and not text.startswith("#"):
            return start, end
        end = start - 1
    return None


def continuation(source: str, pos: int) -> Fix | None:
    """For a line (holding `pos`) that starts with an operator right after a complete
    statement on the line above: wrap that statement's expression, this line and the lines
    after it that also start with an operator in parentheses, if that parses."""
    line_start, _ = line_of(source, pos)
    above = line_before(source, line_start)
    if above is None:
        return None
    found = _statement_start(source, _code_end(source, *above))
    if found is None:
        return None
    statement, expression = found
    last_end = line_of(source, pos)[1]
    while last_end < len(source) and starts_with_operator(source, last_end + 1):
        last_end = line_of(source, last_end + 1)[1]
    end = _code_end(source, line_start, last_end)
    fixed = source[:expression] + "(" + source[expression:end] + ")" + source[end:]
    if not parses(fixed):
        return None
    first_line = line_number(source, statement)
    shown = fixed[line_of(fixed, statement)[0] : line_of(fixed, end + 1)[1]].splitlines()
    rule = RULE + f":\nto continue line {first_line}, wrap it in parentheses"
    if len(shown) <= 6 and all(width(line) <= HINT_WIDTH for line in shown):
        return Fix(rule + ":\n" + "\n".join("    " + line for line in shown), fixed, statement)
    return Fix(rule + f" from line {first_line} to line {line_number(fixed, end)}", fixed, statement)
