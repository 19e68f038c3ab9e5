"""bpcli/language/_tables.py is generated from grammar/bpcli.lark: keep them in step, and parse
as Lark does."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_oracle import multi_statement_programs, single_expressions

from bpcli.language.parse import TYPOS

from conftest import ROOT

PROGRAMS = [
    "(x+y)*z",
    "q = x + y; f = q*z",
    "x = -2\ny = 5\n\nf = -x^2 + 2^3^2 - +y ** -1 # comment",
    "f = 1/(1+exp(-(w0*x0+w1*x1+w2)))",
    "c += e; c -= 2; c *= c; c /= 3; c",
    "W = [[0.1, 0.5],\n     [-0.3, 0.8]]\nx = [0.2, 0.4,]\nsum((W@x.T)^2) + max(x) + dot(x, x)",
    ";;x;;\n\n",
    "x**-2 + a^b^c; a += -1; b*=2; x.T.T @ y",
    "2.5e-3*.5 - 1.E5 + 3. # (not [closed\n(a\n+\n[b,\nc])",
    "f(g(h(x, y), z,), [1, [2, 3]])",
    "θ = -1; y = 2*θ*3",
    'def f(a, b=2, *c):\n    """doc"""\n    if a > b: return a, b\n    elif not a or b is None:\n'
    "        pass\n    else:\n        a += b\n\n    return a if b else -a\ny = f(x, b=3)",
    "for i, j in zip(a, b):\n    for k in range(3):\n        if k in d and k not in e: continue\n"
    "        s[i, k] **= {'p': 1}['p']\n    break\nt = 1\nclass A(object):\n  x = 1\n",
    "  x = 1\n  if x: y = 1; z = 2\n  else: y = 3\n  assert y, 'no'\n  raise ValueError('%s' % y)",
]

TOKENS = [
    "x",
    "y",
    "2",
    ".5",
    "+",
    "-",
    "*",
    "/",
    "^",
    "**",
    "@",
    "(",
    ")",
    "[",
    "]",
    ",",
    ";",
    "\n",
    "=",
    "+=",
    ".T",
    "exp",
    " ",
    "if ",
    " else ",
    ":",
    "    ",
    "for ",
    " in ",
    "def ",
    "return",
]


class _TreeBuilder:
    """A builder whose every callback makes a (rule, children) tuple, for comparing trees."""

    def __getattr__(self, rule):
        return lambda children: (rule, [_plain(c) for c in children])


def _plain(item):
    return (item.type, str(item)) if hasattr(item, "type") else item


def _lark_plain(tree):
    if hasattr(tree, "data"):
        return (str(tree.data), [_lark_plain(c) for c in tree.children])
    return (tree.type, str(tree))


def test_generated_parser_records_the_current_grammar():
    sys.path.insert(0, str(ROOT / "grammar"))
    try:
        import generate
    finally:
        sys.path.pop(0)
    first_line = (ROOT / "bpcli" / "language" / "_tables.py").read_text(encoding="utf-8").splitlines()[0]
    assert first_line == generate.header().rstrip("\n"), (
        "bpcli/language/_tables.py is stale: run  python grammar/generate.py"
    )


@pytest.mark.parametrize("program", PROGRAMS)
def test_generated_parser_parses_like_lark(program):
    lark = pytest.importorskip("lark")
    from bpcli.language.lalr import Parser

    assert Parser(_TreeBuilder()).parse(program) == _lark_plain(_lark_parse(lark, program))


_REFERENCE = []


def _reference_parser(lark):
    """Lark itself, on the same grammar, with the same newline rule inside brackets."""
    if _REFERENCE:
        return _REFERENCE[0]

    class Layout:
        """Python's layout, as bpcli's lexer makes it (bpcli/language/lalr.py): newlines in
        brackets pass, blank lines are nothing, indentation opens and closes blocks."""

        always_accept = ("_NL",)
        text = ""

        def process(self, stream):
            depth, indents, newline = 0, [], None
            for token in stream:
                if token.type == "_NL":
                    if not depth and newline is None and indents:
                        newline = token
                    continue
                if newline is not None or not indents:
                    line_start = self.text.rfind("\n", 0, token.start_pos) + 1
                    width = len(self.text[line_start : token.start_pos].expandtabs(8))
                    if not indents:
                        indents.append(width)
                    elif width > indents[-1]:
                        indents.append(width)
                        yield newline
                        yield lark.Token.new_borrow_pos("_INDENT", "", token)
                    else:
                        while width < indents[-1]:
                            indents.pop()
                            if not indents:
                                raise _Indent(token.start_pos)
                            yield lark.Token.new_borrow_pos("_DEDENT", "", token)
                        if width != indents[-1]:
                            raise _Indent(token.start_pos)
                        if token.type not in ("ELSE", "ELIF"):
                            yield newline
                    newline = None
                depth += token.type in ("LPAR", "LSQB", "LBRACE")
                depth -= token.type in ("RPAR", "RSQB", "RBRACE") and depth > 0
                yield token
            for _ in indents[1:]:
                yield lark.Token("_DEDENT", "", len(self.text), 0, 0)

    # The basic lexer, as grammar/generate.py computes the tables with and bpcli lexes: Lark's
    # contextual lexer would report a token no state expects as a character error instead.
    _REFERENCE.append(
        lark.Lark(
            (ROOT / "grammar" / "bpcli.lark").read_text(encoding="utf-8"),
            parser="lalr",
            lexer="basic",
            postlex=Layout(),
        )
    )
    return _REFERENCE[0]


class _Indent(Exception):
    def __init__(self, pos):
        self.pos = pos


def _lark_parse(lark, program: str):
    parser = _reference_parser(lark)
    parser.options.postlex.text = program
    return parser.parse(program)


def test_parser_does_not_import_lark_at_run_time():
    code = (
        "import sys, bpcli.language.parse; bpcli.language.parse.parse('x*2', {'x': 1.0});"
        " sys.exit('lark' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def _outcome_of_lark(lark, program: str):
    """What Lark makes of a program: its tree, or where and how it fails. Lark places the end
    of the input at its last token; bpcli at the end of the text: both are "the end"."""
    try:
        return ("tree", _lark_plain(_lark_parse(lark, program)))
    except _Indent as err:
        return ("indent", err.pos)
    except lark.exceptions.UnexpectedToken as err:
        where = "end" if err.token.type == "$END" else err.token.start_pos
        return ("token", err.token.type, where, frozenset(err.expected))
    except lark.exceptions.UnexpectedCharacters as err:
        return ("character", err.pos_in_stream)


def _outcome_of_bpcli(program: str):
    """What bpcli's parser makes of a program, in the terms of `_outcome_of_lark`."""
    from bpcli.language import lalr

    try:
        return ("tree", lalr.Parser(_TreeBuilder()).parse(program))
    except lalr.UnexpectedToken as err:
        where = "end" if err.token.type == lalr.END else err.token.start_pos
        assert where != "end" or err.token.start_pos == len(program)
        return ("token", err.token.type, where, frozenset(err.expected))
    except lalr.UnexpectedCharacter as err:
        return ("character", err.pos)
    except lalr.BadIndent as err:
        return ("indent", err.pos)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=12))
def test_random_token_sequences_parse_or_fail_like_lark(pieces):
    lark = pytest.importorskip("lark")
    program = "".join(pieces)
    assert _outcome_of_bpcli(program) == _outcome_of_lark(lark, program)


# Characters to put into a program: its own, and some no token can start with.
CHARACTERS = [*"xy2.5e+-*/^@()[],;=\n #T", "**", "$", "{", "}", '"', "'", "é", "θ", "\t", "\x00", "−"]


@st.composite
def broken_programs(draw) -> str:
    """A valid program with one token or one character deleted, inserted or replaced."""
    lark = pytest.importorskip("lark")
    program = draw(
        st.one_of(
            st.sampled_from(PROGRAMS),
            single_expressions().map(lambda p: p.text),
            multi_statement_programs().map(lambda p: p.text),
        )
    )
    program = program.translate(TYPOS)  # as bpcli's parse() hands it to the parser: "−" is "-"
    how = draw(st.sampled_from(["delete", "insert", "replace"]))
    if draw(st.booleans()):  # a token, as Lark's own lexer cuts the program
        parser = _reference_parser(lark)
        parser.options.postlex.text = program
        try:
            spans = [(t.start_pos, t.end_pos) for t in parser.lex(program) if t.end_pos is not None]
        except _Indent:
            spans = []
        start, end = draw(st.sampled_from(spans)) if spans else (0, 0)
        new = draw(st.sampled_from(TOKENS))
    else:
        start = draw(st.integers(0, len(program)))
        end = min(start + 1, len(program))
        new = draw(st.sampled_from(CHARACTERS))
    if how == "delete":
        return program[:start] + program[end:]
    if how == "insert":
        return program[:start] + new + program[start:]
    return program[:start] + new + program[end:]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_programs())
def test_broken_programs_fail_where_and_as_lark_fails(program):
    """The same error at the same place, with the same set of expected terminals (which
    bpcli's messages are made from), or the same tree when the change left a program."""
    lark = pytest.importorskip("lark")
    assert _outcome_of_bpcli(program) == _outcome_of_lark(lark, program)


def test_the_tables_never_shift_the_end():
    """What lets bpcli's parser treat the end of the input by reductions alone (lalr.py):
    no state shifts $END, and the END state, reached by a goto, has no action at all."""
    from bpcli.language import _tables

    end = _tables.SYMBOLS.index("$END")
    assert all(state[end] is None or state[end] < 0 for state in _tables.STATES)
    assert set(_tables.STATES[_tables.END]) == {None}


def test_a_lecture_program_does_not_load_numpys_array_ops():
    """The numpy language costs a lecture program nothing at start-up: its ops (indexing,
    shapes, axes, conv) are registered only when a program uses them."""
    import subprocess
    import sys

    code = (
        "import sys; from bpcli.language.parse import parse; from bpcli.core.engine import run;"
        "run(parse('q = x + y; f = max(q, 0) * exp(z) + sum([x, y])', {'x': 1.0, 'y': 2.0, 'z': 3.0}));"
        "print(sorted(m for m in sys.modules if m.startswith('bpcli.core.ops.')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "arrays" not in loaded and "axes" not in loaded and "elementwise" in loaded
    code = code.replace("max(q, 0)", "np.max(q, axis=0)")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "arrays" in loaded and "axes" in loaded


# Random programs over the whole grammar: every statement and expression form, written with
# the layout's freedoms (indented blocks, brackets over lines, continuations, comments,
# blank lines, ";"), so that the parser and its lexer are compared with Lark's on programs,
# not only on token soup. Kept small (depth, width), so that Hypothesis shrinks a failure
# to a readable program.
_NAMES = st.sampled_from(["x", "y", "w0", "θ", "np", "self", "_t", "ifx", "in_", "notx"])
_NUMBERS = st.sampled_from(["0", "2", "1.5", ".5", "3.", "1e-3", "2.5E+2", "10"])
_STRINGS = st.sampled_from(["'a'", '"b c"', "r'\\d'", "f'{x}'", "''"])
_BINARY = st.sampled_from(["+", "-", "*", "/", "@", "//", "%", "^", "**", " + ", " * "])
_COMPARE = st.sampled_from(["<", "<=", ">", ">=", "==", "!=", " in ", " not in ", " is ", " is not "])
_AUGOP = st.sampled_from(["+=", "-=", "*=", "/=", "**=", "//=", "@="])


def _joined(draw, items: list[str], trailing: bool = True) -> str:
    """Items separated by commas, perhaps with a trailing comma, perhaps over lines."""
    sep = draw(st.sampled_from([", ", ",", ",\n    "]))
    text = sep.join(items)
    if items and trailing and draw(st.booleans()):
        text += ","
    return text


@st.composite
def _expression(draw, depth: int = 3) -> str:
    """One expression (a `test` of the grammar)."""
    if depth <= 0:
        return draw(st.one_of(_NAMES, _NUMBERS, _STRINGS, st.just("...")))
    inner = _expression(depth - 1)
    form = draw(st.integers(0, 17))
    if form == 0:
        return draw(inner) + draw(_BINARY) + draw(inner)
    if form == 1:
        return draw(st.sampled_from(["-", "+", "not ", "- "])) + draw(inner)
    if form == 2:
        return draw(inner) + draw(_COMPARE) + draw(inner)
    if form == 3:
        return f"{draw(inner)} {draw(st.sampled_from(['and', 'or']))} {draw(inner)}"
    if form == 4:
        return f"{draw(inner)} if {draw(inner)} else {draw(inner)}"
    if form == 5:  # a call, with keywords and a starred argument
        arg = st.one_of(inner, inner.map(lambda e: "k=" + e), inner.map(lambda e: "*" + e))
        args = draw(st.lists(arg, max_size=3))
        return f"{draw(_NAMES)}({_joined(draw, args)})"
    if form == 6:  # an index, with slices
        part = st.one_of(
            inner,
            st.tuples(st.sampled_from(["", "1"]), st.sampled_from([":", "::", ":-1", "::2"])).map("".join),
        )
        parts = draw(st.lists(part, min_size=1, max_size=3))
        return f"{draw(_NAMES)}[{_joined(draw, parts)}]"
    if form == 7:
        return f"{draw(inner)}.{draw(st.sampled_from(['T', 'shape', 'sum']))}"
    if form == 8:
        return f"({draw(inner)})"
    if form == 9:  # tuples
        items = draw(st.lists(inner, max_size=3))
        return "(" + _joined(draw, items) + ("," if len(items) == 1 else "") + ")"
    if form == 10:
        return "[" + _joined(draw, draw(st.lists(inner, max_size=3))) + "]"
    if form == 11:
        entries = [f"{k}: {v}" for k, v in draw(st.lists(st.tuples(inner, inner), max_size=2))]
        return "{" + _joined(draw, entries) + "}"
    if form == 12:  # a method call on a postfix chain
        return f"{draw(inner)}.{draw(_NAMES)}({draw(inner)})"
    return draw(inner)


@st.composite
def _simple_statement(draw) -> str:
    e = _expression(2)
    form = draw(st.integers(0, 12))
    if form == 0:
        return f"{draw(_NAMES)} = {draw(e)}"
    if form == 1:
        return f"{draw(_NAMES)} = {draw(_NAMES)} = {draw(e)}"
    if form == 2:
        return f"{draw(_NAMES)} {draw(_AUGOP)} {draw(e)}"
    if form == 3:
        return f"{draw(_NAMES)}, {draw(_NAMES)} = {draw(e)}, {draw(e)}"
    if form == 4:
        return f"({draw(_NAMES)}, {draw(_NAMES)}) = {draw(e)}"
    if form == 5:
        return f"{draw(_NAMES)}[{draw(e)}] {draw(st.sampled_from(['=', '+=']))} {draw(e)}"
    if form == 6:
        return f"{draw(_NAMES)}.{draw(_NAMES)} {draw(st.sampled_from(['=', '*=']))} {draw(e)}"
    if form == 7:
        return draw(st.sampled_from(["pass", "break", "continue", "return", "raise"]))
    if form == 8:
        return f"return {draw(e)}, {draw(e)}"
    if form == 9:
        return f"assert {draw(e)}, {draw(_STRINGS)}"
    if form == 10:
        return f"raise {draw(e)}"
    return draw(e)


@st.composite
def _statements(draw, indent: str = "", depth: int = 2) -> list[str]:
    """Lines of statements at one indentation, compound ones with their indented blocks."""
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        form = draw(st.integers(0, 9)) if depth > 0 else 0
        if form <= 4:
            simple = [draw(_simple_statement()) for _ in range(draw(st.integers(1, 2)))]
            lines.append(indent + "; ".join(simple) + draw(st.sampled_from(["", ";", "  # note"])))
            continue
        inner = indent + draw(st.sampled_from(["    ", "  ", "\t"]))
        if form == 5:
            header = f"for {draw(st.sampled_from(['i', 'i, j', '(i, j)', 'k,']))} in {draw(_expression(1))}:"
        elif form == 6:
            header = f"if {draw(_expression(1))}:"
        elif form == 7:
            params = draw(st.lists(st.sampled_from(["a", "b=1", "*c", "d = x"]), max_size=3, unique=True))
            header = f"def {draw(_NAMES)}({_joined(draw, params)}):"
        elif form == 8:
            header = f"class {draw(_NAMES)}{draw(st.sampled_from(['', '(object)', '()']))}:"
        else:  # a block's simple statements on its header's line
            lines.append(f"{indent}if {draw(_expression(1))}: {draw(_simple_statement())}")
            continue
        lines.append(indent + header)
        lines.extend(draw(_statements(inner, depth - 1)))
        if form == 6 and draw(st.booleans()):
            lines.append(f"{indent}elif {draw(_expression(1))}:")
            lines.extend(draw(_statements(inner, depth - 1)))
        if form == 6 and draw(st.booleans()):
            lines.append(f"{indent}else:")
            lines.extend(draw(_statements(inner, depth - 1)))
    return lines


@st.composite
def grammar_programs(draw) -> str:
    """A program over the whole grammar, with blank lines, comments, a docstring and a
    continued line among its lines, and perhaps no newline at its end."""
    lines = draw(_statements())
    for _ in range(draw(st.integers(0, 2))):
        extra = draw(st.sampled_from(["", "# a comment", "   ", '"""a\ndocstring"""', "x = 1 + \\\n  2"]))
        lines.insert(draw(st.integers(0, len(lines))), extra)
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grammar_programs())
def test_random_programs_parse_like_lark(program):
    """The same tree as Lark's, or the same error at the same place (a program made here
    can be wrong: an unindent that matches no block, a docstring line inside a block)."""
    lark = pytest.importorskip("lark")
    assert _outcome_of_bpcli(program) == _outcome_of_lark(lark, program)


@settings(max_examples=200, deadline=None)
@given(grammar_programs())
def test_random_programs_lex_like_lark(program):
    """`tokens` (which the hints and the error messages read) gives Lark's tokens, layout
    included: the same terminals at the same places, or the same error."""
    lark = pytest.importorskip("lark")
    from bpcli.language import lalr

    parser = _reference_parser(lark)
    parser.options.postlex.text = program
    theirs: list[tuple[object, ...]]
    try:
        theirs = [(t.type, t.start_pos, t.value) for t in parser.lex(program)]
    except _Indent as err:
        theirs = [("indent", err.pos)]
    except lark.exceptions.UnexpectedCharacters as err:
        theirs = [("character", err.pos_in_stream)]
    ours: list[tuple[object, ...]] = []
    try:
        ours.extend((t.type, t.start_pos, t.value) for t in lalr.tokens(program))
    except lalr.BadIndent as err:
        ours = [("indent", err.pos)]
    except lalr.UnexpectedCharacter as err:
        ours = [("character", err.pos)]
    assert ours == theirs
