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
        return start + len(source[start:end].rstrip())
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


def _statement_start(source: str, end: int, open_end: bool = False) -> tuple[int, int] | None:
    """Where the last statement before offset `end` starts, and where its expression starts
    (after `name =`, `+=` or `return`), when the text before `end` ends with a complete
    simple statement (with `open_end`, one that ends in an operator); else None (it ends in
    a block's header, or in an open bracket)."""
    try:
        tokens = list(lalr.tokens(readable(source[:end])))
    except (lalr.UnexpectedCharacter, lalr.BadIndent):
        return None
    tokens = [t for t in tokens if t.type not in ("_INDENT", "_DEDENT")]
    if not tokens or tokens[-1].type in ("COLON", "SEMICOLON", "_NL", "COMMA"):
        return None
    if (tokens[-1].type in BINARY) is not open_end:
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


# --- fixes for syntax errors --------------------------------------------------------------


def tokens_before(source: str, pos: int) -> list[lalr.Token]:
    """The tokens before offset `pos` (none when the text there cannot be read)."""
    try:
        return [t for t in lalr.tokens(readable(source[:pos])) if t.type not in ("_INDENT", "_DEDENT")]
    except (lalr.UnexpectedCharacter, lalr.BadIndent):
        return []


def _operand_end(source: str, pos: int) -> int | None:
    """The end of the operand that starts at `pos` (a name or number and what follows it:
    .attr, (…), […]): `x` in exp x, `x.T` in sin x.T."""
    end = line_of(source, pos)[1]
    try:
        line = list(lalr.tokens(readable(source[pos:end])))
    except (lalr.UnexpectedCharacter, lalr.BadIndent):
        return None
    line = [t for t in line if t.type not in ("_NL", "_INDENT", "_DEDENT")]
    if not line:
        return None
    i, depth = 0, 0
    if line[0].type in ("LPAR", "LSQB"):
        depth = 1
    elif line[0].type not in ("NAME", "NUMBER"):
        return None
    last = line[0].end_pos
    i = 1
    while i < len(line):
        kind = line[i].type
        if depth:
            depth += kind in ("LPAR", "LSQB", "LBRACE")
            depth -= kind in ("RPAR", "RSQB", "RBRACE")
        elif kind == "DOT" and i + 1 < len(line) and line[i + 1].type == "NAME":
            i += 1
        elif kind in ("LPAR", "LSQB"):
            depth = 1
        else:
            break
        last = line[i].end_pos
        i += 1
    return None if depth else pos + last


def _shown(fixed: str, pos: int) -> str | None:
    """The fixed line holding `pos`, to show in a hint, when it is short enough."""
    start, end = line_of(fixed, pos)
    line = fixed[start:end].strip()
    return line if width(line) <= HINT_WIDTH - 10 else None


def _repaired(source: str, edit: Callable[[str], str | None], tries: int = 8) -> str | None:
    """Apply `edit` (a repair of the first syntax error, or None when it has none) until the
    program parses: the repaired program, or None when the repair does not lead there."""
    text: str | None = source
    for _ in range(tries):
        if text is None:
            return None
        if parses(text):
            return text
        text = edit(text)
    return text if text is not None and parses(text) else None


def first_error(source: str) -> tuple[lalr.Token, set[str]] | None:
    """The token where parsing `source` first fails, and what could have come there."""
    global _parser
    if _parser is None:
        _parser = lalr.Parser(_Nothing())
    try:
        _parser.parse(readable(source))
    except lalr.UnexpectedToken as err:
        return err.token, err.expected
    except (lalr.UnexpectedCharacter, lalr.BadIndent):
        return None
    return None


def _function_names() -> set[str]:
    from bpcli.core.ops import FUNCTIONS, load_all
    from bpcli.language.statics import BUILTINS

    load_all()
    return {*FUNCTIONS, *BUILTINS, "range", "len", "float", "int"}


def _call_edit(text: str) -> str | None:
    """exp x -> exp(x), at the first syntax error, if it is one of those."""
    error = first_error(text)
    if error is None:
        return None
    token, _ = error
    before = tokens_before(text, token.start_pos)
    if len(before) < 1 or before[-1].type != "NAME" or before[-1].end_pos == token.start_pos:
        return None
    callee = before[-1]
    dotted = len(before) >= 2 and before[-2].type == "DOT"
    if not dotted and callee.value not in _function_names() and f"def {callee.value}(" not in text:
        return None
    end = _operand_end(text, token.start_pos)
    if end is None:
        return None
    return text[: callee.end_pos] + "(" + text[token.start_pos : end] + ")" + text[end:]


def call(source: str, token: lalr.Token) -> Fix | None:
    """`exp x`: a function's argument in parentheses, exp(x)."""
    fixed = _repaired(source, _call_edit)
    if fixed is None:
        return None
    shown = _shown(fixed, token.start_pos)
    example = f": {shown}" if shown else ""
    return Fix(f"a function's argument goes in parentheses{example}", fixed)


def _product_edit(text: str) -> str | None:
    """2x -> 2*x, 2(x+1) -> 2*(x+1), at the first syntax error, if it is one of those."""
    error = first_error(text)
    if error is None:
        return None
    token, _ = error
    before = tokens_before(text, token.start_pos)
    if not before or before[-1].type != "NUMBER" or token.type not in ("NAME", "LPAR"):
        return None
    return text[: before[-1].end_pos] + "*" + text[token.start_pos :]


def product(source: str, token: lalr.Token) -> Fix | None:
    """`2x`: bpcli needs * for a product, 2*x."""
    fixed = _repaired(source, _product_edit)
    if fixed is None:
        return None
    shown = _shown(fixed, token.start_pos)
    return Fix("bpcli needs * for a product" + (f": {shown}" if shown else ", as in 2*x"), fixed)


def _comma_edit(text: str) -> str | None:
    """np.sum(x axis=0) -> np.sum(x, axis=0): a comma between two items in brackets."""
    error = first_error(text)
    if error is None:
        return None
    token, expected = error
    before = tokens_before(text, token.start_pos)
    depth = 0
    for t in before:
        depth += t.type in ("LPAR", "LSQB", "LBRACE")
        depth -= t.type in ("RPAR", "RSQB", "RBRACE")
    if depth <= 0 or "COMMA" not in expected or token.type not in _ITEM_STARTS:
        return None
    if "\n" in text[before[-1].end_pos : token.start_pos]:
        return None  # (a new line: more likely a bracket left open on the line above)
    return text[: before[-1].end_pos] + "," + text[before[-1].end_pos :]


_ITEM_STARTS = ("NAME", "NUMBER", "LPAR", "LSQB", "STRING")


def comma(source: str, token: lalr.Token) -> Fix | None:
    """`np.sum(x axis=0)`, `[1 2 3]`: commas between the items."""
    fixed = _repaired(source, _comma_edit)
    if fixed is None:
        return None
    shown = _shown(fixed, token.start_pos)
    return Fix("separate the items with commas" + (f": {shown}" if shown else ""), fixed)


def close(source: str, opener: int, closer: str, line_end: bool = False) -> Fix | None:
    """A bracket never closed: close it after the program's last code (or, with `line_end`,
    at the end of its own line, when the next line starts another statement)."""
    start, end = line_of(source, opener)
    end = _code_end(source, start, end if line_end else len(source))
    fixed = source[:end] + closer + source[end:]
    if not parses(fixed):
        return None
    if line_number(source, end) != line_number(source, opener):
        return Fix(f"close it with '{closer}' at the end of line {line_number(source, end)}", fixed)
    shown = _shown(fixed, opener)
    return Fix(f"close it with '{closer}'" + (f": {shown}" if shown else ""), fixed)


def compare(source: str, token: lalr.Token) -> Fix | None:
    """`if x = 1:` -> `if x == 1:`, only where a comparison is meant: in a condition, or
    inside brackets where the '=' is not a keyword argument's (f(x, axis=0))."""
    before = tokens_before(source, token.start_pos)
    if not before:
        return None
    statement = 0
    depth = 0
    for i, t in enumerate(before):
        depth += t.type in ("LPAR", "LSQB", "LBRACE")
        depth -= t.type in ("RPAR", "RSQB", "RBRACE")
        if t.type in ("_NL", "SEMICOLON") or (t.type == "COLON" and depth == 0):
            statement = i + 1
    condition = statement < len(before) and before[statement].type in ("IF", "ELIF", "ASSERT")
    keyword_like = before[-1].type == "NAME" and len(before) >= 2 and before[-2].type in ("LPAR", "COMMA")
    if keyword_like or not (condition or depth > 0):
        return None
    fixed = source[: token.start_pos] + "==" + source[token.end_pos :]
    if not parses(fixed):
        return None
    shown = _shown(fixed, token.start_pos)
    return Fix("== compares, = assigns" + (f": {shown}" if shown else ""), fixed)


def brackets_call(source: str, token: lalr.Token) -> Fix | None:
    """`np.sum[x, axis=0]`: a call is written with parentheses, np.sum(x, axis=0)."""
    before = tokens_before(source, token.start_pos)
    depth = 0
    opener = None
    for i in range(len(before) - 1, -1, -1):
        kind = before[i].type
        if kind in ("RPAR", "RSQB", "RBRACE"):
            depth += 1
        elif kind in ("LPAR", "LSQB", "LBRACE"):
            if depth == 0:
                opener = i
                break
            depth -= 1
    if opener is None or before[opener].type != "LSQB" or opener == 0 or before[opener - 1].type != "NAME":
        return None
    start = before[opener].start_pos
    try:
        after = list(lalr.tokens(readable(source[start:])))
    except (lalr.UnexpectedCharacter, lalr.BadIndent):
        return None
    depth = 0
    for t in after:
        if t.type in ("LPAR", "LSQB", "LBRACE"):
            depth += 1
        elif t.type in ("RPAR", "RSQB", "RBRACE"):
            depth -= 1
            if depth == 0:
                if t.type != "RSQB":
                    return None
                end = start + t.start_pos
                fixed = source[:start] + "(" + source[start + 1 : end] + ")" + source[end + 1 :]
                if not parses(fixed):
                    return None
                shown = _shown(fixed, start)
                return Fix("a call is written with parentheses" + (f": {shown}" if shown else ""), fixed)
    return None


def colon(source: str, token: lalr.Token) -> Fix | None:
    """`for i in range(3)` with no ':' at the end of the line."""
    start, _ = line_of(source, token.start_pos)
    end = _code_end(source, start, token.start_pos) if token.type == "_NL" else token.start_pos
    fixed = source[:end] + ":" + source[end:]
    if not parses(fixed):
        return None
    return Fix("a line that opens a block ends with ':'", fixed)


def open_end(source: str, newline: int) -> Fix | None:
    """`loss = a * b +` with the rest on the next line: the statement in parentheses."""
    found = _statement_start(source, _code_end(source, line_of(source, newline - 1)[0], newline), True)
    if found is None:
        return None
    statement, expression = found
    end = newline
    for _ in range(20):  # the next lines, while they end or start with an operator
        following = end + 1
        if following >= len(source):
            return None
        end = line_of(source, following)[1]
        code_end = _code_end(source, following, end)
        tail = tokens_before(source, code_end)
        if not source[following:end].strip() or source[following:end].lstrip().startswith("#"):
            continue
        if tail and tail[-1].type in BINARY:
            continue
        if end + 1 < len(source) and starts_with_operator(source, end + 1):
            continue
        break
    code_end = _code_end(source, line_of(source, end)[0], end)
    fixed = source[:expression] + "(" + source[expression:code_end] + ")" + source[code_end:]
    if not parses(fixed):
        return None
    shown = fixed[line_of(fixed, statement)[0] : line_of(fixed, code_end + 1)[1]].splitlines()
    rule = RULE + f":\nto continue line {line_number(source, statement)}, wrap it in parentheses"
    if len(shown) <= 6 and all(width(line) <= HINT_WIDTH for line in shown):
        return Fix(rule + ":\n" + "\n".join("    " + line for line in shown), fixed, statement)
    return Fix(rule, fixed, statement)


_SUPERSCRIPTS = {"²": "**2", "³": "**3"}


def superscript(source: str, pos: int) -> Fix | None:
    """`x²`: a power is written x**2."""
    fixed = source
    for char, power in _SUPERSCRIPTS.items():
        fixed = fixed.replace(char, power)
    if fixed == source or not parses(fixed):
        return None
    shown = _shown(fixed, pos)
    return Fix("write a power with ** (or ^)" + (f": {shown}" if shown else ""), fixed)
