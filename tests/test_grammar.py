"""bpcli/language/_tables.py is generated from grammar/bpcli.lark: keep them in step, and parse
as Lark does."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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

    assert Parser(_TreeBuilder()).parse(program) == _lark_plain(_reference_parser(lark).parse(program))


_REFERENCE = []


def _reference_parser(lark):
    """Lark itself, on the same grammar, with the same newline rule inside brackets."""
    if _REFERENCE:
        return _REFERENCE[0]

    class Brackets:  # Lark's way of letting newlines inside ( ) and [ ] pass, for the reference
        always_accept = ("_NL",)

        def process(self, stream):
            depth = 0
            for token in stream:
                depth += token.type in ("LPAR", "LSQB")
                depth -= token.type in ("RPAR", "RSQB") and depth > 0
                if not (token.type == "_NL" and depth):
                    yield token

    _REFERENCE.append(
        lark.Lark(
            (ROOT / "grammar" / "bpcli.lark").read_text(encoding="utf-8"), parser="lalr", postlex=Brackets()
        )
    )
    return _REFERENCE[0]


def test_parser_does_not_import_lark_at_run_time():
    code = (
        "import sys, bpcli.language.parse; bpcli.language.parse.parse('x*2', {'x': 1.0});"
        " sys.exit('lark' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=12))
def test_random_token_sequences_parse_or_fail_like_lark(pieces):
    lark = pytest.importorskip("lark")
    from bpcli.language import lalr

    program = "".join(pieces)
    reference = _reference_parser(lark)
    try:
        expected = _lark_plain(reference.parse(program))
    except lark.exceptions.UnexpectedInput:
        expected = "rejected"
    try:
        ours = lalr.Parser(_TreeBuilder()).parse(program)
    except (lalr.UnexpectedToken, lalr.UnexpectedCharacter):
        ours = "rejected"
    assert ours == expected
