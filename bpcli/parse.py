"""From program text to a graph: the LALR parser, with friendly syntax errors.

The parser is generated from grammar/bpcli.lark by Lark's stand-alone tool into
bpcli/_lalr.py (see grammar/README.md), so it loads in a millisecond with no
grammar analysis at start-up, and works the same from any kind of install.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from typing import Any

from bpcli import _lalr
from bpcli.builder import Builder
from bpcli.errors import BpcliError, ParseError
from bpcli.graph import Graph

# Characters students paste from PDFs and slides, mapped one for one so that
# error positions stay true.
_TYPOS = str.maketrans({"−": "-", "×": "*", "·": "*", "÷": "/", "\u00a0": " ", "\ufeff": " "})

_OPEN = {"LPAR", "LSQB"}
_CLOSE = {"RPAR", "RSQB"}
_WORDS = {"NAME": "a name", "NUMBER": "a number", "_NL": "a new line", "$END": "the end",
          "AUGOP": "+=", "POW": "^", "TRANSPOSE": ".T"}


class _Brackets:
    """Lets an expression go on over several lines inside ( ) and [ ]."""

    always_accept = ("_NL",)

    def process(self, stream: Iterator[Any]) -> Iterator[Any]:
        depth = 0
        for token in stream:
            kind = token.type
            if kind == "_NL":
                if depth:
                    continue
            elif kind in _OPEN:
                depth += 1
            elif kind in _CLOSE and depth:
                depth -= 1
            yield token


_builder = Builder()
_parser: Any = None


def _get_parser() -> Any:
    global _parser
    if _parser is None:
        _parser = _lalr.Lark_StandAlone(transformer=_builder, postlex=_Brackets())
    return _parser


def parse(source: str, bindings: Mapping[str, Any] | None = None) -> Graph:
    """Parse a program and build its graph; `bindings` give inputs their values."""
    text = source.translate(_TYPOS)
    parser = _get_parser()
    _builder.reset(source, dict(bindings or {}))
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a big parse allocates many objects that live on; collecting them is waste
    try:
        parser.parse(text)
    except _lalr.UnexpectedInput as err:
        raise _syntax_error(source, err) from None
    except _lalr.VisitError as err:  # an error raised by a builder callback
        if isinstance(err.orig_exc, BpcliError):
            raise err.orig_exc from None
        raise
    finally:
        if gc_was_enabled:
            gc.enable()
    return _builder.graph()


def _describe_token(token: Any) -> str:
    kind = token.type
    if kind == "NAME":
        return f"name '{token}'"
    if kind == "NUMBER":
        return f"number {token}"
    if kind in ("$END",):
        return "the end of the program"
    if kind == "_NL":
        return "the end of the line"
    return f"'{token}'"


def _describe_expected(expected: set[str]) -> str | None:
    """A short list of what could come next, or None when nearly anything could."""
    if expected & _OPERANDS:
        return "expected a number, a name, '(' or '['"
    expected = expected - {"_NL", "SEMICOLON"}
    if not expected or len(expected) > 4:
        return None
    words = []
    for name in sorted(expected):
        if name in _WORDS:
            words.append(_WORDS[name])
        else:
            pattern = _pattern(name)
            if pattern:
                words.append(f"'{pattern}'")
    return "expected " + " or ".join(dict.fromkeys(words))


def _pattern(terminal: str) -> str | None:
    for term in _get_parser().terminals:
        if term.name == terminal and term.pattern.type == "str":
            return str(term.pattern.value)
    return None


_OPERANDS = {"NAME", "NUMBER", "LPAR", "LSQB"}


def _syntax_error(source: str, err: Any) -> ParseError:
    expected = set(getattr(err, "expected", None) or getattr(err, "allowed", None) or ())
    if isinstance(err, _lalr.UnexpectedCharacters):
        char = source[err.pos_in_stream] if err.pos_in_stream < len(source) else ""
        hint = None
        if char in "{}":
            hint = "write arrays with square brackets: [1, 2]"
        elif char == "'" or char == '"':
            hint = "bpcli has no strings: write names and numbers without quotes"
        return ParseError(f"syntax error: unexpected character {char!r}", source=source,
                          pos=err.pos_in_stream, hint=hint)
    token = err.token
    kind = token.type
    pos = token.start_pos if token.start_pos is not None else len(source)
    if kind == "$END" or isinstance(err, _lalr.UnexpectedEOF):
        pos = len(source.rstrip())
        opener = _unclosed(source)
        if opener is not None:
            return ParseError(f"syntax error: this '{source[opener]}' is never closed",
                              source=source, pos=opener)
        else:
            message = "syntax error: the program ends in the middle of an expression"
        return ParseError(message, source=source, pos=pos, hint=_describe_expected(expected))
    hint = _describe_expected(expected)
    if kind in _OPERANDS and not expected & {"NAME", "NUMBER"}:
        message = f"syntax error: missing an operator before {_describe_token(token)}"
        hint = None
        if kind in ("NAME", "LPAR"):
            hint = "bpcli needs * for a product: write 2*x, not 2x"
    elif kind == "RPAR" and "RPAR" not in expected:
        message = "syntax error: this ')' has no matching '('"
        hint = None
    elif kind == "EQUAL":
        message = "syntax error: unexpected '='"
        hint = "only a name can be assigned (q = x + y); bpcli has no == comparison"
    elif kind == "_NL" and expected & _OPERANDS:
        message = "syntax error: the line ends in the middle of an expression"
    else:
        message = f"syntax error: unexpected {_describe_token(token)}"
    return ParseError(message, source=source, pos=pos, hint=hint)


def _unclosed(source: str) -> int | None:
    """The offset of the last ( or [ that is never closed, if any."""
    stack: list[int] = []
    in_comment = False
    for i, char in enumerate(source):
        if in_comment:
            in_comment = char != "\n"
        elif char == "#":
            in_comment = True
        elif char in "([":
            stack.append(i)
        elif char in ")]" and stack:
            stack.pop()
    return stack[-1] if stack else None
