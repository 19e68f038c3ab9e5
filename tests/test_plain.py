"""bpcli.present.plain writes exactly what Rich prints, or leaves it to Rich."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from test_batch import REUSE_LINES
from test_fuzz import expressions

from bpcli.cells import cells as width_of
from bpcli.core.engine import run
from bpcli.errors import BpcliError
from bpcli.grading.gradcheck import gradcheck
from bpcli.language.parse import parse
from bpcli.present import ONE_COLUMN, Styled, columns, write_parts
from bpcli.present.plain import render
from bpcli.present.table import grad_report, gradcheck_table
from bpcli.streams import colourless, make_console

from conftest import SAMPLES


def console(buffer, width):
    return Console(file=buffer, width=width, highlight=False, emoji=False, markup=False)


def both(parts, width=10_000):
    """(Rich's output, plain's output or None) for these parts."""
    buffer = io.StringIO()
    rich = console(buffer, width)
    for part in parts:
        rich.print(part)
    return buffer.getvalue(), render(parts, console(io.StringIO(), width))


def report(program, bindings=None, **options):
    result = run(parse(program, bindings or {}))
    return ["── s:1 ──", *grad_report(result, 4, **options), *(f"warning: {w}" for w in result.warnings), ""]


PROGRAMS = [
    *REUSE_LINES,
    "θ=2; φ=-1.5; f = θ*φ + exp(θ)",
    "变量=2; 变量*变量",  # wide characters: two cells each
    "x=1; y=2; f = x   *   y  # spaces as written",
    "W=[[0.1,0.5],[-0.3,0.8]]; x=[0.2,0.4]; sum((W@x)^2)",
    "v=[1,-2,3]; sum(relu(v)) + max(v)",
    "x=0; relu(x) + abs(x)",
    "a=[[1,2,3],[4,5,6]]; b=[1,2,3]; sum(tanh(a*b)) / 7",
]


# Lines of test_batch's that are errors, not tables (every other program must give a table).
NO_TABLE = {"x=1; log(x-1)", "x=1; log(x - 1)", "a=1e400; b=2; a*b", "a=3; b=1e999; a", "x = 2; x*1e400"}


@pytest.mark.parametrize("program", PROGRAMS + [p.read_text() for p in sorted(SAMPLES.glob("*.bp"))])
@pytest.mark.parametrize("width", [80, 10_000])
def test_plain_is_rich_to_the_character(program, width):
    if program in NO_TABLE:
        with pytest.raises(BpcliError):
            report(program)
        return
    parts = report(program)
    rich, plain = both(parts, width)
    if width == 10_000:
        assert plain is not None, program  # the fast path is taken where it matters
    if plain is not None:
        assert plain == rich


def test_elided_rows_jacobians_and_gradcheck_tables():
    program = "x=1; " + "+".join(["x*x"] * 30)
    rich, plain = both(report(program, max_rows=10))
    assert plain == rich and "more nodes" in plain
    rich, plain = both(report("W=[[1,2],[3,4]]; x=[1,-1]; sum(tanh(W@x))", show_jacobians=True))
    assert plain == rich
    result = run(parse("x=0.5; y=2; f = sigmoid(x*y) + relu(x)"))
    rich, plain = both([gradcheck_table(result.graph, gradcheck(result), 4)])
    assert plain is None  # a Group: left to Rich


@pytest.mark.parametrize("text", ["a\tb", "bell\x07", "cr\rlf", "esc\x1b[31m", "\x85"])
def test_control_characters_are_left_to_rich(text):
    assert both([text])[1] is None


def test_a_console_with_colour_is_left_to_rich():
    colour = Console(file=io.StringIO(), width=100, force_terminal=True, color_system="standard")
    assert render(report("x=1; x*2"), colour) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(expressions(), min_size=1, max_size=4), st.sampled_from([60, 120, 10_000]))
def test_random_programs_print_the_same(statements, width):
    program = "x=0.7; y=-1.3; z=2\n" + "\n".join(f"a{i} = {s}" for i, s in enumerate(statements))
    try:
        parts = report(program)
    except BpcliError:
        reject()  # a domain error, say (never every example: hypothesis fails then)
    rich, plain = both(parts, width)
    if plain is not None:
        assert plain == rich


def test_grad_tables_in_a_pipe_are_written_without_richs_layout(bpcli, monkeypatch):
    """`grad --max-rows 0` on 20,000 nodes took 23 s in Rich's layout; in a pipe the table
    goes through plain.render, which gives the same characters (the tests above)."""
    expected = bpcli("grad", str(SAMPLES / "neuron.bp")).out

    def refuse(*args, **kwargs):
        raise AssertionError("Rich laid out a table that plain.render can write")

    monkeypatch.setattr(Console, "print", refuse)
    result = bpcli("grad", str(SAMPLES / "neuron.bp"))
    assert (result.code, result.out) == (0, expected)


SCOPED = [
    "def step(x, h, W):\n    return np.tanh(x * W + h)\n"
    "h = 0.0\nfor t in range(3):\n    h = step(1.0, h, 0.5)\nh",
    "def f(a):\n    b = a * 2\n    return b + 1\nx = 3.0\ny = f(x)\nz = f(y)\nz * x",
    "s = 0.0\nx = 2.0\nfor i in range(2):\n    for j in range(2):\n        s = s + x * i + j\ns",
]


@pytest.mark.parametrize("program", SCOPED)
@pytest.mark.parametrize("options", [{}, {"depth": 0}, {"max_rows": 4}])
def test_plain_is_rich_with_headings_and_collapsed_calls(program, options):
    parts = report(program, **options)
    rich, plain = both(parts)
    assert plain is not None and "\n▸ " in plain  # a heading line
    assert plain == rich


# --- lines with colours (Styled), written without Rich in a pipe ------------------------------


def test_the_tables_own_characters_are_one_column_as_rich_counts_them():
    for code in ONE_COLUMN:
        assert cell_len(chr(code)) == 1 == width_of(chr(code))
    for line in ["abc", "─── ∂f/∂x = 2×3 ‖·‖ 1", "变量 = 2", "a\u200bb", "θ → φ", "é"]:
        assert columns(line) == cell_len(line)


@pytest.mark.parametrize(
    "program",
    [
        "x=2; y=3; x*y",
        "变量=2; 变量*变量",
        "W=[[0.1,0.5],[-0.3,0.8]]; x=[0.2,0.4]; sum((W@x)^2)",
        "a_rather_long_input_name=2; another_long_input_name=3; "
        "a_rather_long_input_name * another_long_input_name",
        *SCOPED,
    ],
)
@pytest.mark.parametrize("width", [20, 40, 80, 200])
def test_a_table_in_a_pipe_is_written_as_a_console_prints_it(program, width, monkeypatch):
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", str(width))
    parts = grad_report(run(parse(program)), 4, width=width)
    assert isinstance(parts[0], Styled)
    written, printed = io.StringIO(), io.StringIO()
    write_parts(parts, written)
    console = make_console(printed)  # what write_parts did with the table before: Rich printed it
    for part in parts:
        printed.write(part) if isinstance(part, str) else console.print(part)
    assert written.getvalue() == printed.getvalue()


def test_colour_is_left_to_rich_wherever_it_may_be_shown(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    assert colourless(io.StringIO())
    assert not colourless(Terminal())
    assert not colourless(io.TextIOWrapper(io.BytesIO(), encoding="ascii"))  # Rich's ASCII boxes
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not colourless(io.StringIO())
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    assert not colourless(io.StringIO())
    monkeypatch.delenv("TTY_COMPATIBLE")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    parts = grad_report(run(parse("x=2; y=3; x*y")), 4)
    terminal, pipe = Terminal(), io.StringIO()
    write_parts(parts, terminal)
    write_parts(parts, pipe)
    assert "\x1b[" in terminal.getvalue() and "\x1b[" not in pipe.getvalue()
    assert "x*y = 6" in pipe.getvalue()


def test_a_table_in_a_pipe_imports_no_rich():
    """Rich (about 15 ms to import) is for colour: a table in a pipe is written without it,
    for a scalar program as for arrays."""
    code = (
        "import sys; from bpcli.cli import main\n"
        "assert main(['grad', 'x*y', 'x=2', 'y=3']) == 0\n"
        "assert main(['grad', 'sum((W@x)^2)', 'W=[[1,2],[3,4]]', 'x=[1,2]']) == 0\n"
        "sys.exit(sorted(m for m in sys.modules if m.split('.')[0] == 'rich') or 0)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "sum((W@x)^2) = " in done.stdout
