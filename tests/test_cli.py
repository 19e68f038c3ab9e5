"""`bpcli grad` as a user types it: exact output, options, and every kind of bad input."""

from __future__ import annotations

import json
import re
import sys

import pytest

from conftest import SAMPLES

HEADLINE_TABLE = """\
#  node   op     value  ∂f/∂node │ input  local ∂node/∂input  downstream
─────────────────────────────────┼──────────────────────────────────────
0  x      input     -2        -4 │
1  y      input      5        -4 │
2  x + y  add        3        -4 │ x      1                           -4
                                 │ y      1                           -4
3  z      input     -4         3 │
4  #2*z   mul      -12         1 │ #2     z = -4                      -4
                                 │ z      #2 = 3                       3
─────────────────────────────────┴──────────────────────────────────────
downstream = ∂f/∂node × local
(x+y)*z = -12
∂f/∂x = -4
∂f/∂y = -4
∂f/∂z = 3
"""


def test_headline_table(bpcli):
    result = bpcli("grad", "(x+y)*z", "x=-2", "y=5", "z=-4")
    assert result.code == 0
    assert result.out == HEADLINE_TABLE
    assert result.err == ""
    assert "\x1b[" not in result.out  # not a terminal: plain text


def test_headline_json(bpcli):
    result = bpcli("grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--format", "json")
    assert result.code == 0
    doc = json.loads(result.out)
    assert doc["output"] == "(x+y)*z"
    assert doc["value"] == -12.0
    assert doc["grads"] == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert doc["warnings"] == []
    add, mul = doc["nodes"][2], doc["nodes"][4]
    assert add == {
        "id": 2,
        "op": "add",
        "label": "x + y",
        "name": None,
        "scope": None,
        "inputs": [0, 1],
        "value": 3.0,
        "upstream": -4.0,
        "local": [1.0, 1.0],
        "downstream": [-4.0, -4.0],
    }
    assert mul["local"] == [-4.0, 3.0] and mul["upstream"] == 1.0
    assert [n["op"] for n in doc["nodes"]] == ["input", "input", "add", "input", "mul"]


def test_json_carries_full_precision(bpcli):
    doc = json.loads(bpcli("grad", str(SAMPLES / "neuron.bp"), "--format", "json").out)
    assert doc["value"] == pytest.approx(0.7310585786300049, abs=0, rel=1e-15)
    assert doc["grads"]["x0"] == pytest.approx(0.39322386648296376, rel=1e-14)


def test_named_intermediates_are_labelled_and_reported(bpcli):
    result = bpcli("grad", "q = x + y; f = q*z", "x=-2", "y=5", "z=-4")
    rows = result.out.splitlines()
    assert any(re.match(r"2  q = x \+ y +add +3 +-4 │ x +1 +-4$", row) for row in rows)
    assert any(re.search(r"│ q +z = -4 +-4$", row) for row in rows)
    assert any(re.search(r"│ z +q = 3 +3$", row) for row in rows)
    assert result.out.endswith("f = -12\n∂f/∂x = -4\n∂f/∂y = -4\n∂f/∂z = 3\n")
    doc = json.loads(bpcli("grad", "q = x + y; f = q*z", "x=-2", "y=5", "z=-4", "--format", "json").out)
    assert doc["output"] == "f"
    assert doc["grads"] == {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "f": 1.0}


def test_fan_out_shows_the_branches_that_add_up(bpcli):
    result = bpcli("grad", str(SAMPLES / "fanout.bp"))
    lines = result.out.splitlines()
    x_row = next(k for k, line in enumerate(lines) if line.startswith("0  x "))
    assert lines[x_row].endswith(" 7 │") and lines[x_row + 1].rstrip().endswith("= 3 + 3 + 1 │")
    assert result.out.endswith("f = 12\n∂f/∂x = 7\n")


def test_program_starting_with_minus_needs_no_double_dash(bpcli):
    result = bpcli("grad", "-x*y", "x=3", "y=2")
    assert result.code == 0
    assert result.out.endswith("-x*y = -6\n∂f/∂x = -2\n∂f/∂y = -3\n")
    assert bpcli("grad", "-2*x", "x=1", "--format", "json").code == 0


def test_program_from_stdin(bpcli):
    result = bpcli("grad", "-", "x=-2", "y=5", "z=-4", input="q = x + y\nf = q*z\n")
    assert result.code == 0 and result.out.endswith("f = -12\n∂f/∂x = -4\n∂f/∂y = -4\n∂f/∂z = 3\n")
    result = bpcli("grad", "-f", "-", "x=1", input="x*x")
    assert result.out.endswith("x*x = 1\n∂f/∂x = 2\n")


def test_program_from_a_file(bpcli, tmp_path):
    path = tmp_path / "p.bp"
    path.write_text("x = 2\nf = x^3  # a comment\n", encoding="utf-8")
    assert bpcli("grad", str(path)).out.endswith("f = 8\n∂f/∂x = 12\n")
    assert bpcli("grad", "-f", str(path), "x=1").out.endswith("f = 1\n∂f/∂x = 3\n")


def test_bindings_override_literal_inputs(bpcli):
    doc = json.loads(bpcli("grad", str(SAMPLES / "simple.bp"), "x=1", "--format", "json").out)
    assert doc["value"] == (1 + 5) * -4
    assert doc["grads"]["z"] == 6.0


def test_unused_binding_is_a_warning(bpcli):
    result = bpcli("grad", "x*2", "x=1", "w=3")
    assert result.code == 0
    assert result.err == "warning: the binding w=… is not used by the program\n"


def test_precision(bpcli):
    out = bpcli("grad", str(SAMPLES / "neuron.bp"), "--precision", "2").out
    assert "∂f/∂x0 = 0.39" in out and "∂f/∂w0 = -0.2\n" in out
    out = bpcli("grad", str(SAMPLES / "neuron.bp"), "--precision", "6").out
    assert "∂f/∂x0 = 0.393224" in out


def test_cs231n_node_values_in_the_table(bpcli):
    out = bpcli("grad", str(SAMPLES / "neuron.bp")).out
    row = next(line for line in out.splitlines() if line.startswith("13  1 + #12 "))
    assert re.match(r"13  1 \+ #12 +add +1\.3679 +-0\.5344 │ #12 +1 +-0\.5344$", row)
    assert "f = 0.7311" in out


def test_kink_is_marked_and_warned(bpcli):
    result = bpcli("grad", "relu(x) + max(x, y)", "x=0", "y=0")
    assert result.code == 0
    assert "relu ⚠" in result.out and "max ⚠" in result.out
    assert "relu'(0) = 0" in result.err and "half the gradient" in result.err
    assert result.out.endswith("∂f/∂x = 0.5\n∂f/∂y = 0.5\n")


def test_big_graph_table_is_elided(bpcli):
    program = "+".join(["x"] * 1000)
    result = bpcli("grad", program, "x=1", "--max-rows", "10")
    assert "990 more nodes" in result.out
    assert result.out.endswith("∂f/∂x = 1000\n")


def on_a_terminal(*args: str, no_color: str | None = None) -> bytes:
    """What `bpcli ARGS…` shows on a terminal (a pseudo-terminal of 100×40, TERM=xterm-256color),
    with NO_COLOR set to `no_color` (or unset)."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    from conftest import ROOT

    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    if no_color is not None:
        env["NO_COLOR"] = no_color
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    with subprocess.Popen(
        [sys.executable, "-m", "bpcli", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    ) as process:
        os.close(follower)
        shown = b""
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the program has gone and closed the terminal
                break
            if not data:
                break
            shown += data
        process.wait(timeout=60)
    os.close(leader)
    return shown


def colours(shown: bytes) -> set[bytes]:
    """The SGR sequences in `shown` that set a colour (bold, dim and reset are not colours)."""
    found = set()
    for sequence in re.findall(rb"\x1b\[([0-9;]*)m", shown):
        codes = [int(code) for code in sequence.split(b";") if code]
        if any(30 <= code <= 49 or 90 <= code <= 107 for code in codes):
            found.add(sequence)
    return found


def without_styles(shown: bytes) -> bytes:
    return re.sub(rb"\x1b\[[0-9;]*m", b"", shown)


TERMINAL_COMMANDS = {
    "table": ["grad", "relu(x) * y", "x=0", "y=2"],  # and a kink warning on stderr
    "tree": ["grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--format", "tree"],
    "check": ["check", str(SAMPLES / "homework.bp"), "--answers", str(SAMPLES / "homework_answers.txt")],
    "batch": ["batch", str(SAMPLES / "problems.txt"), "--format", "table"],  # and its progress bar
}


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pseudo-terminal")
@pytest.mark.parametrize("args", TERMINAL_COMMANDS.values(), ids=TERMINAL_COMMANDS.keys())
def test_no_color_takes_the_colour_off_a_terminal(args):
    """NO_COLOR (https://no-color.org: set and not empty) takes away colour, and only colour:
    the same text, bold and dim kept."""
    coloured = on_a_terminal(*args)
    assert colours(coloured), "not vacuous: on a terminal, without NO_COLOR, there is colour"
    plain = on_a_terminal(*args, no_color="1")
    assert colours(plain) == set()
    if args[0] != "batch":  # (the progress bar draws as time goes)
        assert without_styles(plain) == without_styles(coloured)


def test_a_pipe_gets_plain_text(bpcli):
    assert "\x1b[" not in bpcli("grad", "relu(x) * y", "x=0", "y=2").out


def test_help_has_examples(bpcli):
    for args in (["--help"], ["grad", "--help"], ["grad", "-h"]):
        result = bpcli(*args)
        assert result.code == 0
        assert "Examples:" in result.out


def test_version(bpcli):
    result = bpcli("--version")
    assert result.code == 0 and result.out.startswith("bpcli, version ")


# --- bad input: error:, exit 2, never a traceback ---------------------------------------------

BAD_INPUTS = {
    "syntax": (["grad", "(x+y*z", "x=1", "y=1", "z=1"], "never closed"),
    "operator": (["grad", "2x", "x=1"], "missing an operator"),
    "unknown function": (["grad", "expp(x)", "x=1"], "did you mean exp?"),
    "unbound names": (["grad", "x*y+z"], "no value for x, y, z"),
    "binding not a number": (["grad", "x+1", "x=abc"], "must be a finite number"),
    "binding without value": (["grad", "x+1", "x"], "has no value"),
    "binding inf": (["grad", "x+1", "x=1e400"], "must be finite"),
    "binding nan": (["grad", "x+1", "x=nan"], "must be finite"),
    "binding twice": (["grad", "x+1", "x=1", "x=2"], "bound twice"),
    "binding a bad name": (["grad", "x+1", "2x=1"], "is not a name"),
    "binding a computed name": (["grad", "q = x + 1; f = q*2", "x=1", "q=3"], "computed"),
    "division by zero": (["grad", "1/(x-1)", "x=1"], "division by zero"),
    "log of negative": (["grad", "log(x)", "x=-1"], "log of a non-positive number"),
    "log of zero": (["grad", "ln(x)", "x=0"], "log of a non-positive number"),
    "sqrt of negative": (["grad", "sqrt(x)", "x=-4"], "sqrt of a negative number"),
    "fractional power": (["grad", "x^0.5", "x=-8"], "negative base to a non-integer power"),
    "overflow exp": (["grad", "exp(x)", "x=1000"], "overflow"),
    "overflow power": (["grad", "10^x", "x=1000"], "overflow"),
    "infinite gradient": (["grad", "sqrt(x)", "x=0"], "gradient"),
    "empty program": (["grad", ""], "empty"),
    "only comments": (["grad", "# nothing\n"], "empty"),
    "missing program": (["grad"], "missing PROGRAM"),
    "missing file": (["grad", "-f", "no/such/file.bp"], "no such file"),
    "missing .bp file": (["grad", "nosuch.bp"], "no such file"),
    "directory": (["grad", "-f", "."], "directory"),
    "bad option": (["grad", "x", "x=1", "--format", "xml"], "Invalid value for '--format'"),
    "bad precision": (["grad", "x", "x=1", "--precision", "0"], "--precision"),
    "no such command": (["gradd"], "No such command"),
    "wrong arity": (["grad", "exp(x, y)", "x=1", "y=1"], "exp takes 1 argument, not 2"),
    "function as a value": (["grad", "exp*2"], "exp is a function"),
    "ragged array": (["grad", "sum([[1,2],[3]])"], "ragged"),
    "shape mismatch": (["grad", "sum([1,2] @ [1,2,3])"], "inner sizes differ"),
    "non-scalar output": (["grad", "x*2", "x=[1,2]"], "needs a scalar output"),
}


@pytest.mark.parametrize("args, needle", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_a_clean_error(bpcli, args, needle):
    result = bpcli(*args)
    assert result.code == 2, result
    assert result.err.startswith("error: ")
    assert needle in result.err
    assert "Traceback" not in result.err + result.out
    assert result.out == ""


def test_syntax_error_shows_the_line_and_a_caret(bpcli):
    result = bpcli("grad", "x = 1\ny = (x + * 2)\ny")
    assert result.err == (
        "error: syntax error: unexpected '*'\n"
        "  line 2, column 10:\n"
        "    y = (x + * 2)\n"
        "             ^\n"
        "expected a number, a name, '(' or '['\n"
    )


BRACKET_ERRORS = {
    # a bracket closed by the other kind: name the one still open, the caret at the closer
    "(x + [1, 2)": "the '[' at column 6 is still open: close it with ']' before this ')'\n"
    "  line 1, column 11:\n    (x + [1, 2)\n              ^\n",
    "f(x]": "the '(' at column 2 is still open: close it with ')' before this ']'\n"
    "  line 1, column 4:\n    f(x]\n       ^\n",
    "[[1, 2], [3, 4)]": "the '[' at column 10 is still open: close it with ']' before this ')'\n"
    "  line 1, column 15:\n    [[1, 2], [3, 4)]\n                  ^\n",
    "W = [[1, 2],\n     [3, 4)]": "the '[' at column 6 is still open: close it with ']' before this ')'\n"
    "  line 2, column 11:\n         [3, 4)]\n              ^\n",
    "[1,\n 2)": "the '[' at line 1, column 1 is still open: close it with ']' before this ')'\n"
    "  line 2, column 3:\n     2)\n      ^\n",
    # (1, 2 is a tuple, as in numpy: the ']' comes while its '(' is open
    "[x + (1, 2]": "the '(' at column 6 is still open: close it with ')' before this ']'\n"
    "  line 1, column 11:\n    [x + (1, 2]\n              ^\n",
    # a closer with nothing open
    "sin(x))": "this ')' has no matching '('\n  line 1, column 7:\n    sin(x))\n          ^\n",
    "[1, 2]]": "this ']' has no matching '['\n  line 1, column 7:\n    [1, 2]]\n          ^\n",
    # the right closer, too early: not a bracket mistake
    "(x + )": "unexpected ')'\n  line 1, column 6:\n    (x + )\n         ^\n"
    "expected a number, a name, '(' or '['\n",
    # never closed: the caret at the innermost bracket still open at the end
    "(x + [1, 2": "this '[' is never closed\n  line 1, column 6:\n    (x + [1, 2\n         ^\n",
    "[x + (1": "this '(' is never closed\n  line 1, column 6:\n    [x + (1\n         ^\n",
    "(x  # a comment's ( and ] are no brackets\n+ 1": "this '(' is never closed\n  line 1, column 1:\n"
    "    (x  # a comment's ( and ] are no brackets\n    ^\n"
    "close it with ')' at the end of line 2\n",
}


@pytest.mark.parametrize("program", BRACKET_ERRORS)
def test_bracket_errors_name_the_bracket_still_open(bpcli, program):
    result = bpcli("grad", program, "x=1")
    assert (result.code, result.out) == (2, "")
    assert result.err == "error: syntax error: " + BRACKET_ERRORS[program]


def test_domain_error_names_the_node_and_its_input(bpcli):
    result = bpcli("grad", "f = 2 * log(x - 3)", "x=1")
    assert result.err == (
        "error: in log(x - 3) (node #4): log of a non-positive number, where x - 3 = -2\n"
        "  line 1, column 9:\n"
        "    f = 2 * log(x - 3)\n"
        "            ^\n"
    )


def test_binary_junk_on_stdin(bpcli):
    result = bpcli("grad", "-", input=b"\xff\xfe\x00junk")
    assert result.code == 2 and "not UTF-8" in result.err
    result = bpcli("grad", "-", input="\x00\x01\x02")
    assert result.code == 2 and "unexpected character" in result.err


def test_empty_stdin(bpcli):
    result = bpcli("grad", "-", input="")
    assert result.code == 2 and "empty" in result.err


def test_non_utf8_file(bpcli, tmp_path):
    path = tmp_path / "latin1.bp"
    path.write_bytes("θ = 1; θ*2".encode("utf-16"))
    result = bpcli("grad", str(path))
    assert result.code == 2 and result.err.startswith("error: ")


def test_a_number_too_large_for_a_float(bpcli):
    for program in ("1e400", "x*1e400", "x = 1e400; x*2"):
        result = bpcli("grad", program, "x=1")
        assert result.code == 2 and "the number 1e400 is too large for a float" in result.err


def test_plain_bpcli_shows_the_help(bpcli):
    result = bpcli()
    assert result.code == 0 and result.out.startswith("Usage: bpcli [OPTIONS] COMMAND")
    assert "grad   f and its gradients" in result.out
