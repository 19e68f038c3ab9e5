"""From program text to a graph: the LALR parser, with friendly syntax errors.

The parse tables are computed by Lark from grammar/bpcli.lark ahead of time
(grammar/generate.py writes bpcli/language/_tables.py), and bpcli/language/lalr.py runs
them, so start-up does no grammar analysis, and any kind of install parses the same.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from bpcli.core.graph import Graph, Node
from bpcli.errors import BindingError, ParseError, ProgramError
from bpcli.language import hints, lalr
from bpcli.language.builder import Builder
from bpcli.language.direct import REFUSED, Direct
from bpcli.language.hints import TYPOS, without_imports
from bpcli.language.interpreter import Interpreter
from bpcli.language.program import Recorder
from bpcli.limits import MAX_ELEMENTS
from bpcli.values import Params, Value

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "_NL": "a new line",
    "$END": "the end",
    "AUGOP": "+=",
    "POW": "^",
    "TRANSPOSE": ".T",
}

_builder = Builder()
_interpreter = Interpreter(_builder)
# A program is read by one of two parsers: a straight-line one directly, each expression
# evaluated as it is reduced (bpcli.language.direct), and any other, or one the direct path
# gives up on, into statements and expression trees that the interpreter runs
# (bpcli.language.program). Both make the same graph; DIRECT = False (tests) takes trees.
DIRECT = True
_direct_parser = lalr.Parser(Direct(_interpreter), refuse=REFUSED)
_tree_parser = lalr.Parser(Recorder(_interpreter.run))


def parse(
    source: str,
    bindings: Mapping[str, ArrayLike | Mapping[str, object]] | None = None,
    expand: bool = False,
    max_elements: int = MAX_ELEMENTS,
    seed: int | None = None,
    output: str | None = None,
    upstream: tuple[str | None, ArrayLike] | None = None,
) -> Graph:
    """Parse a program and build its graph; `bindings` give inputs their values (a dict, as
    a JSON object binding gives, stays a dict); `expand` writes composite gates (sigmoid, tanh,
    norm, dot) as their primitive circuits; no array a node computes may have more than
    `max_elements` elements; `seed` seeds the program's np.random (None: a fresh seed, and a
    warning if the program draws). `output` (--output NAME): the name whose node, as last
    bound, is the output, instead of the last statement. `upstream` (--upstream
    [NAME=]VALUE): the gradient that flows into the output, and its name: the output's name,
    or d and it (dout for out); a name that is another node's makes that node the output, as
    `output` does."""
    text = without_imports(source.translate(TYPOS))
    given = bindings or {}
    booleans = {
        name for name, v in given.items() if type(v) is not float and str(getattr(v, "dtype", "")) == "bool"
    }
    values = {name: _value(v, name) for name, v in given.items()}

    def start() -> None:
        _builder.reset(source, values, expand, max_elements, booleans, seed)
        _interpreter.reset()

    start()
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a big parse allocates many objects that live on; collecting them is waste
    try:
        _run(text, start)
    except lalr.UnexpectedCharacter as err:
        raise _unexpected_character(source, err.pos) from None
    except lalr.UnexpectedToken as err:
        raise _unexpected_token(source, err.token, err.expected) from None
    except lalr.BadIndent as err:
        raise ParseError(f"syntax error: {err.message}", source=source, pos=err.pos) from None
    finally:
        if gc_was_enabled:
            gc.enable()
    _builder.warnings.extend(_interpreter.finish())
    name = upstream[0] if upstream is not None else None
    if name is not None:
        names = {n for n, v in _builder.env.items() if type(v) is Node} | set(_builder.inputs)
        output = _upstream_output(name, output, names)
    graph = _builder.graph(output)
    graph.printed = tuple(_builder.printed)
    graph.notes = tuple(_builder.notes) if output is None else ()  # (how it chose the output)
    if upstream is None:
        return graph
    called = (
        name
        if name is not None and name != output
        else "d" + (graph.output_text if graph.output_text.isidentifier() else "out")
    )
    given_upstream = _value(upstream[1], called)
    if isinstance(given_upstream, Mapping):
        raise BindingError(f"the upstream gradient {called} is a number or an array, not a dict")
    return graph.with_upstream(given_upstream, called)


def _run(text: str, start: Callable[[], None]) -> None:
    """Parse and run a program, the builder and interpreter ready (`start` makes them so
    again): directly if it is straight-line, else on trees. An error of any kind on the
    direct path runs the tree path from the start, so that the error, if it comes again,
    is the tree path's (which may come first there: a syntax error before a misspelt name
    in the same statement)."""
    if DIRECT:
        try:
            _direct_parser.parse(text)
            return
        except lalr.Refused:
            pass  # (nothing was run)
        except (MemoryError, RecursionError):
            raise
        except Exception:
            start()
    _tree_parser.parse(text)


def _upstream_output(name: str, output: str | None, names: set[str]) -> str | None:
    """The output that --upstream NAME=… gives the gradient of: NAME, or for dNAME (cs231n's
    dout for out) NAME, where the program has that name; it must agree with --output."""
    if output is not None:
        if name in (output, "d" + output):
            return output
        raise ProgramError(
            f"--upstream {name}=… and --output {output} disagree: the upstream gradient is the"
            f" output's, so name it {output} or d{output} (or leave --output out)"
        )
    if name in names:
        return name
    if name[:1] == "d" and name[1:] in names:
        return name[1:]
    import difflib

    known = sorted(names)
    close = difflib.get_close_matches(name, [*known, *("d" + n for n in known)], n=3)
    raise ProgramError(
        f"--upstream {name}=…: the program has no {name}" + (f" or {name[1:]}" if name[:1] == "d" else ""),
        hint="name the output (out) or its gradient (dout)"
        + (f"; did you mean {' or '.join(close)}?" if close else "")
        + (f"; the program's names are {', '.join(known)}" if known else ""),
    )


class _Nothing:
    """A builder that builds nothing: every grammar callback returns None."""

    def __getattr__(self, name: str) -> Callable[[list[object]], None]:
        return _nothing


def _nothing(children: list[object]) -> None:
    return None


_checker: lalr.Parser | None = None


def check_syntax(source: str) -> None:
    """Raise the error that parse would for a program that cannot be a program whatever its
    bindings: a syntax error (with its caret), or nothing in it but comments and blanks."""
    global _checker
    if _checker is None:
        _checker = lalr.Parser(_Nothing())
    text = without_imports(source.translate(TYPOS))
    try:
        _checker.parse(text)
        empty = all(token.type in ("_NL", "SEMICOLON") for token in lalr.tokens(text))
    except lalr.UnexpectedCharacter as err:
        raise _unexpected_character(source, err.pos) from None
    except lalr.UnexpectedToken as err:
        raise _unexpected_token(source, err.token, err.expected) from None
    except lalr.BadIndent as err:
        raise ParseError(f"syntax error: {err.message}", source=source, pos=err.pos) from None
    if empty:
        raise ProgramError("the program is empty: write an expression such as (x+y)*z")


def _value(value: ArrayLike | Mapping[str, object], name: str) -> Value | Params:
    """A binding's value as bpcli keeps values: a Python float or a float64 array; or a dict
    of parameters, its leaves converted (bpcli.language.objects.params)."""
    if type(value) is float:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, Mapping):
        from bpcli.language.objects import params

        return params(value, f"the binding {name}")
    from bpcli.lazy import np

    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else array


def _describe_token(token: lalr.Token) -> str:
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
            pattern = lalr.literal(name)
            if pattern:
                words.append(f"'{pattern}'")
    return "expected " + " or ".join(dict.fromkeys(words))


_OPERANDS = {"NAME", "NUMBER", "LPAR", "LSQB"}


def _unexpected_character(source: str, pos: int) -> ParseError:
    char = source[pos] if pos < len(source) else ""
    hint = None
    fix = hints.superscript(source, pos) if char in "²³" else None
    if fix is not None:
        hint = fix.hint
    elif char in "'\"":
        hint = "a string is closed on the line it opens ('constant')"
    return _error(f"syntax error: unexpected character {char!r}", source, pos, hint, fix)


def _error(
    message: str, source: str, pos: int, hint: str | None = None, fix: hints.Fix | None = None
) -> ParseError:
    """A syntax error; `fix`, when its hint is offered, is the program rewritten as the hint
    says (it parses: each hint is offered only when its fix does)."""
    error = ParseError(message, source=source, pos=pos, hint=hint)
    error.fix = fix.text if fix is not None else None
    return error


def _unexpected_token(source: str, token: lalr.Token, expected: set[str]) -> ParseError:
    kind = token.type
    still_open = _open_brackets(source, token.start_pos)
    if kind == lalr.END:
        if still_open:
            opener = still_open[-1]
            closing = hints.close(source, opener, _CLOSERS[source[opener]])
            return _error(
                f"syntax error: this '{source[opener]}' is never closed",
                source,
                opener,
                closing.hint if closing else None,
                closing,
            )
        return ParseError(
            "syntax error: the program ends in the middle of an expression",
            source=source,
            pos=len(source.rstrip()),
            hint=_describe_expected(expected),
        )
    hint = _describe_expected(expected)
    fix: hints.Fix | None = None
    keyword = _python_keyword(source, token)
    if keyword is not None:
        message, hint = _KEYWORD_ADVICE[keyword]
        return ParseError(message, source=source, pos=_line_start(source, token.start_pos), hint=hint)
    line = hints.line_number(source, token.start_pos)
    at_line_start = not source[source.rfind("\n", 0, token.start_pos) + 1 : token.start_pos].strip()
    if kind == "_INDENT" or (at_line_start and kind in hints.BINARY):
        fix = (
            hints.continuation(source, token.start_pos)
            if hints.starts_with_operator(source, token.start_pos)
            else None
        )
        if fix is not None:
            first = hints.first_token(source, token.start_pos)
            operator = first.value if first is not None else source[token.start_pos]
            message = (
                f"syntax error: line {line} starts with '{operator}', as if it continued"
                f" line {hints.line_number(source, fix.statement)}"
            )
            hint = fix.hint
        elif kind == "_INDENT":
            message = "syntax error: this line is indented, but no block (for …:, if …:, def …:) opens here"
            hint = "indent a line only under a line that ends in ':'"
        else:
            message = f"syntax error: unexpected {_describe_token(token)}"
    elif "_INDENT" in expected:
        message = "syntax error: expected an indented block after the ':' above"
        hint = None
    elif kind in _OPERANDS and not expected & {"NAME", "NUMBER"}:
        message = f"syntax error: missing an operator before {_describe_token(token)}"
        if still_open and "\n" in source[still_open[-1] : token.start_pos]:  # a = (x + y / b = 2
            opener = still_open[-1]
            fix = hints.close(source, opener, _CLOSERS[source[opener]], line_end=True)
            if fix is not None:
                line = hints.line_number(source, opener)
                message = f"syntax error: the '{source[opener]}' on line {line} is never closed"
                return _error(message, source, opener, fix.hint, fix)
        fix = hints.call(source, token) or hints.product(source, token) or hints.comma(source, token)
        hint = fix.hint if fix is not None else None
        if fix is not None and fix.hint.startswith("separate"):
            message = f"syntax error: missing a comma before {_describe_token(token)}"
    elif kind in _CLOSES and not still_open:
        message = f"syntax error: this '{token}' has no matching '{_CLOSES[kind]}'"
        hint = None
    elif kind in _CLOSES and source[still_open[-1]] != _CLOSES[kind]:  # `(x + [1, 2)`
        opener = still_open[-1]
        where = _where(source, opener, token.start_pos)
        message = (
            f"syntax error: the '{source[opener]}' at {where} is still open:"
            f" close it with '{_CLOSERS[source[opener]]}' before this '{token}'"
        )
        hint = None
    elif kind == "EQUAL":
        message = "syntax error: unexpected '='"
        fix = hints.brackets_call(source, token) or hints.compare(source, token)
        if fix is not None:
            hint = fix.hint
        elif not still_open and [t.type for t in hints.tokens_before(source, token.start_pos)][-1:] != [
            "EQUAL"
        ]:
            hint = "only a name, or an index of one, can be assigned (q = x + y, m[0] = 1)"
        else:
            hint = None
    elif kind == "_NL" and expected & _OPERANDS:
        message = "syntax error: the line ends in the middle of an expression"
        fix = hints.open_end(source, token.start_pos)
        if fix is not None:
            hint = fix.hint
    elif kind == "_NL" and "COLON" in expected:
        message = "syntax error: expected ':' at the end of the line"
        fix = hints.colon(source, token)
        hint = fix.hint if fix is not None else None
    else:
        message = f"syntax error: unexpected {_describe_token(token)}"
    return _error(message, source, token.start_pos, hint, fix)


_KEYWORD_ADVICE = {
    "while": (
        "bpcli does not run while loops: it unrolls loops whose bound it knows",
        "write it as a for loop: for i in range(n): …",
    ),
    "lambda": ("bpcli does not run lambda", "write a def, or the expression itself where it is used"),
    "with": ("bpcli does not run with blocks", "paste the block's body"),
    "try": ("bpcli does not run try blocks", "keep the code that runs"),
    "global": ("bpcli does not run global statements", "pass the value in and return it"),
    "yield": ("bpcli does not run generators (yield)", "return a list instead"),
    "import": ("bpcli reads `import numpy as np` only: it has numpy's functions itself", "delete the import"),
    "del": ("bpcli does not run del", "delete the del: a name no longer used does no harm"),
    "comprehension": (
        "bpcli does not run comprehensions",
        "write a for loop that appends to a list (or fills a dict)",
    ),
}
_KEYWORDS = {
    **{word: word for word in _KEYWORD_ADVICE},
    "nonlocal": "global",
    "except": "try",
    "finally": "try",
    "from": "import",
    "async": "with",
}


def _python_keyword(source: str, token: lalr.Token) -> str | None:
    """The Python keyword of the statement a syntax error comes in (`for i in range(3):` is
    a loop, not a missing operator), if it has one."""
    start = _line_start(source, token.start_pos)
    line = source[start : source.find("\n", start) % (len(source) + 1)]
    words = line.replace("(", " ").replace(":", " ").split()
    if words and words[0] in _KEYWORDS:
        return _KEYWORDS[words[0]]
    if "lambda" in words:
        return "lambda"
    if token.type == "FOR" and _open_brackets(source, token.start_pos):
        return "comprehension"  # [f(t) for t in x]
    return None


def _line_start(source: str, pos: int) -> int:
    start = source.rfind("\n", 0, pos) + 1
    return start + len(source[start:pos]) - len(source[start:pos].lstrip())


_CLOSES = {"RPAR": "(", "RSQB": "[", "RBRACE": "{"}  # a closing bracket's terminal -> its opener
_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def _open_brackets(source: str, end: int) -> list[int]:
    """The offsets of the ( and [ still open before offset `end`, innermost last. Only the
    tokens the parser accepted come before `end`, so every bracket closed there matched."""
    still_open: list[int] = []
    for token in lalr.tokens(source[:end].translate(TYPOS)):
        if token.type in ("LPAR", "LSQB", "LBRACE"):
            still_open.append(token.start_pos)
        elif token.type in _CLOSES and still_open:
            still_open.pop()
    return still_open


def _where(source: str, pos: int, caret: int) -> str:
    """Where `pos` is, for a message whose caret is at `caret`: its column, and its line too
    when that is another line."""
    line_start = source.rfind("\n", 0, pos) + 1
    column = f"column {pos - line_start + 1}"
    if source.count("\n", pos, caret):
        line = source.count("\n", 0, pos) + 1
        return f"line {line}, {column}"
    return column
