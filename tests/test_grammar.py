"""The parser in bpcli/_lalr.py is generated from grammar/bpcli.lark: keep them in step."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

PROGRAMS = [
    "(x+y)*z",
    "q = x + y; f = q*z",
    "x = -2\ny = 5\n\nf = -x^2 + 2^3^2 - +y ** -1 # comment",
    "f = 1/(1+exp(-(w0*x0+w1*x1+w2)))",
    "c += e; c -= 2; c *= c; c /= 3; c",
    "W = [[0.1, 0.5],\n     [-0.3, 0.8]]\nx = [0.2, 0.4,]\nsum((W@x.T)^2) + max(x) + dot(x, x)",
    ";;x;;\n\n",
]


def test_generated_parser_records_the_current_grammar():
    sys.path.insert(0, str(ROOT / "grammar"))
    try:
        import generate
    finally:
        sys.path.pop(0)
    first_line = (ROOT / "bpcli" / "_lalr.py").read_text(encoding="utf-8").splitlines()[0]
    assert first_line == generate.header().rstrip("\n"), (
        "bpcli/_lalr.py is stale: run  python grammar/generate.py")


@pytest.mark.parametrize("program", PROGRAMS)
def test_generated_parser_parses_like_lark(program):
    lark = pytest.importorskip("lark")
    from bpcli import _lalr
    from bpcli.parse import _Brackets

    reference = lark.Lark((ROOT / "grammar" / "bpcli.lark").read_text(encoding="utf-8"),
                          parser="lalr", postlex=_Brackets())
    ours = _lalr.Lark_StandAlone(postlex=_Brackets())
    assert ours.parse(program).pretty() == reference.parse(program).pretty()


def test_parser_does_not_import_lark_at_run_time():
    code = "import sys, bpcli.parse; sys.exit('lark' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
