"""Issue 18 at 80 columns: -o FILE by its extension, a path with no file behind it,
--gradcheck's absolute floor and kinks, and --help within 80 columns."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata

import pytest

from bpcli.core.engine import run
from bpcli.errors import BpcliError
from bpcli.grading.gradcheck import ATOL, close, element_verdict, gradcheck, tolerance
from bpcli.language.parse import parse

from conftest import ROOT, SAMPLES

NEURON = str(SAMPLES / "neuron.bp")
ZERO = ("sum((x + b) * d)", "x=[1,2,3]", "b=1", "d=[0.1,0.2,-0.3]")  # ∂f/∂b is 0


def cells(line: str) -> int:
    """A line's width in a terminal's columns (wide CJK characters count 2)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def widest(text: str) -> int:
    return max((cells(line) for line in text.splitlines()), default=0)


# --- -o FILE: the format follows the extension ------------------------------------------------


def _is_json_document(text: str) -> bool:
    return json.loads(text)["output"] == "f" and text.count("\n") > 1  # indented, for a person


def _is_one_line_of_json(text: str) -> bool:
    return json.loads(text)["output"] == "f" and text.count("\n") == 1 and text.endswith("\n")


BY_EXTENSION = {
    "out.json": _is_json_document,
    "out.jsonl": _is_one_line_of_json,
    "out.csv": lambda text: text.startswith("id,label,op,name,value,upstream"),
    "out.md": lambda text: text.startswith("| # | node |"),
    "out.tex": lambda text: "\\begin{tabular}" in text,
    "out.dot": lambda text: text.startswith("digraph bpcli {"),
    "out.txt": lambda text: text.startswith(" #  node") and "f = 0.7311\n∂f/∂w0 = -0.1966" in text,
    "OUT.JSON": _is_json_document,  # (the extension's case does not matter)
}


@pytest.mark.parametrize("name", list(BY_EXTENSION))
def test_o_writes_the_format_its_extension_names(bpcli, tmp_path, name):
    path = tmp_path / name
    result = bpcli("grad", NEURON, "-o", str(path))
    assert (result.code, result.out, result.err) == (0, "", f"wrote {path}\n")
    assert BY_EXTENSION[name](path.read_text(encoding="utf-8")), path.read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_o_draws_a_picture_by_its_extension(bpcli, tmp_path):
    path = tmp_path / "neuron.svg"
    assert bpcli("grad", NEURON, "-o", str(path)).code == 0
    assert "<svg" in path.read_text(encoding="utf-8")
    assert bpcli("grad", NEURON, "-o", str(path), "--format", "dot").code == 0


@pytest.mark.parametrize("name", ["out.jpg", "out", "out.json.bak"])
def test_an_unknown_extension_without_format_is_an_error(bpcli, tmp_path, name):
    path = tmp_path / name
    result = bpcli("grad", NEURON, "-o", str(path))
    assert (result.code, result.out) == (2, "")
    first, known, pick = result.err.splitlines()[:3]
    assert first.startswith(f"error: -o {path}: ")
    assert known == "known extensions: .json .jsonl .csv .md .tex .dot .txt .html .svg .png .pdf"
    assert pick == f"or --format picks one: -o {path} --format json"
    assert widest(result.err.replace(str(tmp_path), "")) <= 80
    assert not path.exists()


def test_an_unknown_extension_with_format_gets_that_format(bpcli, tmp_path):
    path = tmp_path / "out.jpg"
    assert bpcli("grad", NEURON, "-o", str(path), "--format", "json").code == 0
    assert json.loads(path.read_text())["value"] == pytest.approx(0.7311, abs=1e-4)
    assert bpcli("grad", NEURON, "-o", str(path), "--format", "csv").code == 0
    assert path.read_text().startswith("id,label,op")


@pytest.mark.parametrize(
    "name, output_format, wanted",
    [
        ("out.json", "csv", "write csv to a .csv file, or leave out --format"),
        ("out.jsonl", "table", "write table to a .txt file, or leave out --format"),
        ("out.txt", "json", "write json to a .json or .jsonl file, or leave out --format"),
        ("out.md", "latex", "write latex to a .tex file, or leave out --format"),
        ("out.png", "json", "write json to a .json or .jsonl file, or leave out --format"),
        ("out.svg", "table", "write table to a .txt file, or leave out --format"),
    ],
)
def test_a_format_that_contradicts_the_extension_is_an_error(bpcli, tmp_path, name, output_format, wanted):
    path = tmp_path / name
    result = bpcli("grad", NEURON, "-o", str(path), "--format", output_format)
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines()[1] == wanted
    assert not path.exists()


@pytest.mark.parametrize("output_format", ["table", "steps", "tree"])
def test_a_txt_file_holds_any_of_the_plain_text_views(bpcli, tmp_path, monkeypatch, output_format):
    path = tmp_path / "out.txt"
    assert bpcli("grad", NEURON, "-o", str(path), "--format", output_format).code == 0
    monkeypatch.setenv("COLUMNS", "80")  # (a pipe's table is as wide as it needs without it)
    assert path.read_text() == bpcli("grad", NEURON, "--format", output_format).out


def test_a_file_is_plain_and_80_columns_wide_unless_columns_says(bpcli, tmp_path, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")  # (Rich would colour a terminal's output then)
    monkeypatch.setenv("TERM", "xterm-256color")
    path = tmp_path / "out.txt"
    program = str(SAMPLES / "two_layer_net.bp")
    assert bpcli("grad", program, "--gradcheck", "-o", str(path)).code == 0
    text = path.read_text()
    assert "\x1b" not in text and widest(text) == 80
    monkeypatch.setenv("COLUMNS", "120")
    assert bpcli("grad", program, "--gradcheck", "-o", str(path)).code == 0
    assert "\x1b" not in path.read_text() and widest(path.read_text()) == 120


def test_nothing_is_written_when_the_computation_fails(bpcli, tmp_path):
    path = tmp_path / "out.json"
    result = bpcli("grad", "log(x)", "x=-1", "-o", str(path))
    assert result.code == 2 and not path.exists()
    path.write_text("before\n")
    assert bpcli("grad", "log(x)", "x=-1", "-o", str(path)).code == 2
    assert path.read_text() == "before\n"


def test_nothing_is_written_when_the_output_fails_half_way(bpcli, tmp_path, monkeypatch):
    import bpcli.present.grad as grad

    def half(*args, **kwargs):
        def pieces():
            yield '{"output": "f", '
            raise BpcliError("the presenter failed half way")

        return [pieces()]

    monkeypatch.setattr(grad, "render", half)
    path = tmp_path / "out.json"
    result = bpcli("grad", NEURON, "-o", str(path))
    assert (result.code, result.err) == (2, "error: the presenter failed half way\n")
    assert not path.exists()
    path.write_text("before\n")
    assert bpcli("grad", NEURON, "-o", str(path)).code == 2
    assert path.read_text() == "before\n"


def test_check_and_batch_say_where_their_output_goes(bpcli):
    result = bpcli("check", NEURON, "-e", "dx0=0.39", "--output", "out.json")
    assert result.code == 2 and "warning" not in result.err
    assert result.err.startswith(
        "error: --output out.json: --output NAME names the output;\n"
        "check writes its report to stdout (redirect it: > FILE)\n"
    )
    assert not os.path.exists("out.json")


# --- a path with no file behind it ------------------------------------------------------------


def test_a_forgotten_bp_says_there_is_no_file_and_suggests_it(bpcli, monkeypatch):
    monkeypatch.chdir(ROOT)
    for command in ("grad", "check"):
        extra = ["-e", "dx0=1"] if command == "check" else []
        result = bpcli(command, "samples/neuron", "x=1", *extra)
        assert (result.code, result.out) == (2, "")
        assert result.err == "error: no file samples/neuron\ndid you mean samples/neuron.bp?\n"
    result = bpcli("batch", "samples/points.jsonl", "--program", "samples/neuron")
    assert result.err == "error: no file samples/neuron\ndid you mean samples/neuron.bp?\n"


def test_a_misspelt_file_gets_the_nearest_names(bpcli, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = bpcli("grad", "samples/nueron.bp")
    assert result.code == 2
    assert result.err.startswith(
        "error: cannot read samples/nueron.bp: no such file\ndid you mean samples/neuron.bp"
    )
    result = bpcli("grad", "samples/neuron.py")
    assert result.err.startswith("error: no file samples/neuron.py\ndid you mean samples/neuron.bp")
    result = bpcli("grad", "./samples/neuron")
    assert result.err.endswith("did you mean ./samples/neuron.bp?\n")


def test_a_division_of_bound_names_is_a_program_even_where_a_directory_has_the_name(
    bpcli, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    # no directory x: x/y is a program whose y has no value
    assert bpcli("grad", "x/y", "x=1").err.startswith("error: no value for y")
    (tmp_path / "x").mkdir()
    result = bpcli("grad", "x/y", "x=1", "y=2")
    assert result.code == 0 and "x/y = 0.5" in result.out
    assert bpcli("grad", "x/y*2", "x=1", "y=2").code == 0
    # with the directory x there and y unbound, x/y reads as a path
    result = bpcli("grad", "x/y", "x=1")
    assert result.err == "error: no file x/y\nread as program text: no value for y\n"
    # a file x/y.bp decides it too, and is suggested
    (tmp_path / "x" / "y.bp").write_text("f = 3*z\n")
    assert bpcli("grad", "x/y").err == "error: no file x/y\ndid you mean x/y.bp?\n"
    assert bpcli("grad", "x / y", "x=1").err.startswith("error: no value for y")  # spaces: a program


# --- --gradcheck: an absolute floor, and kinks are n/a ----------------------------------------


def test_a_zero_gradient_with_a_tiny_numeric_difference_is_good(bpcli):
    result = bpcli("grad", *ZERO, "--gradcheck", "--format", "json")
    checks = {c["name"]: c for c in json.loads(result.out)["gradcheck"]}
    assert [c["verdict"] for c in checks.values()] == ["good", "good", "good"]
    b = checks["b"]
    assert abs(b["analytic"]) < 1e-15 and b["absolute_error"] <= b["atol"] == ATOL and b["rtol"] == 1e-7
    table = bpcli("grad", *ZERO, "--gradcheck").out
    assert table.count("│ good    │") == 3
    assert "b: |a−n| = " in table and " ≤ atol = 1e-8: rounding, and so good" in table


def test_the_floor_follows_allclose_and_scales_with_f_and_x():
    assert close(5.551e-17, -5.551e-10) and element_verdict(5.551e-17, -5.551e-10) == "good"
    assert not close(0.0, 1e-6) and element_verdict(0.0, 1e-6) == "wrong"
    assert close(1.0, 1.0 + 9e-8) and not close(1.0, 1.0 + 2e-6)
    assert element_verdict(1.0, 1.0 + 2e-6) == "ok"  # past the floor: the notes' bands
    assert element_verdict(1.0, 1.001) == "suspect"
    assert tolerance(0.4, 1.0) == ATOL and tolerance(1e4, 1.0) == pytest.approx(1e-4)
    assert tolerance(1e4, 100.0) == pytest.approx(1e-6)  # h = 1e-5·|x|: a bigger step, less noise


def test_a_wrong_small_gradient_stays_wrong():
    from bpcli.core.run import Run

    result = run(parse("f = 1e-3*x", {"x": 2.0}))
    grads = list(result.grads)
    grads[result.graph.inputs["x"].id] = 0.0  # the upstream forgotten: 0 for 1e-3
    graph, values = result.graph, result.values
    wrong = Run(graph, values, grads, result.warnings, result.kinks, result.sent, result.missing)
    (check,) = gradcheck(wrong)
    assert check.verdict == "wrong"


@pytest.mark.parametrize(
    "program, bindings",
    [("relu(x)", ["x=0"]), ("abs(x)", ["x=0"]), ("max(x, y)", ["x=1", "y=1"]), ("sum(relu(x))", ["x=[0]"])],
)
def test_a_step_across_a_kink_is_n_a(bpcli, program, bindings):
    result = bpcli("grad", program, *bindings, "--gradcheck", "--format", "json")
    check = json.loads(result.out)["gradcheck"][0]
    assert check["verdict"] == "n/a" and check["kinks"] and check["kinked"] == 1, check
    table = bpcli("grad", program, *bindings, "--gradcheck").out
    assert "⚠ the step crosses a kink at #" in table and "│ n/a     │" in table and "│ wrong" not in table


def test_a_kink_a_smaller_step_stays_clear_of_is_checked():
    # 1e-7 from relu's kink: the first step, 1e-5, crosses it; a smaller one does not
    (check,) = gradcheck(run(parse("relu(x - 1e-7)", {"x": 0.0})))
    assert (check.verdict, check.kinks, check.kinked) == ("good", [], 0)


def test_an_array_is_n_a_only_where_its_step_crosses_a_kink(bpcli):
    result = bpcli("grad", "sum(relu(x))", "x=[0, 1, 2]", "--gradcheck", "--format", "json")
    (check,) = json.loads(result.out)["gradcheck"]
    assert (check["verdict"], check["kinked"], check["checked"]) == ("good", 1, 3)
    table = bpcli("grad", "sum(relu(x))", "x=[0, 1, 2]", "--gradcheck").out
    assert "x: ⚠ the step crosses a kink at #1 relu(x) at 1 of 3 elements: n/a there" in table


@pytest.mark.parametrize("output_format", ["table", "steps", "tree", "markdown"])
def test_the_gradcheck_fits_80_columns(bpcli, output_format):
    for args in (ZERO, (NEURON,), ("loss = sum(relu(x)*y)", "x=[0, 1, 2]", "y=randn(3)")):
        result = bpcli("grad", *args, "--gradcheck", "--format", output_format, "--seed", "0")
        assert result.code == 0, result.err
        start = result.out.index("Gradient check")
        assert widest(result.out[start:]) <= 80, result.out[start:]


def test_the_gradcheck_table_folds_arrays_and_keeps_every_number(bpcli):
    x = "x=[1.234567, -2.345678, 3.456789, 4.5678901, -5.678901]"
    table = bpcli("grad", "sum(x*x*w)", x, "w=2", "--gradcheck", "--precision", "6", "--full").out
    start = table.index("Gradient check")
    assert widest(table[start:]) <= 80
    for number in ("4.938268", "-9.382712", "13.827156", "18.27156", "-22.715604"):
        assert number in table[start:]


# --- --help within 80 columns -----------------------------------------------------------------

COMMANDS = [[], ["grad"], ["check"], ["batch"]]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_fits_80_columns_whatever_columns_says(bpcli, monkeypatch, command):
    for columns in ("200", "80"):
        monkeypatch.setenv("COLUMNS", columns)
        result = bpcli(*command, "--help")
        assert result.code == 0 and widest(result.out) <= 80


def _in_a_pty(args: list[str], columns: int) -> str:
    import fcntl
    import pty
    import select
    import struct
    import termios

    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=child, stderr=child, env=env)
    os.close(child)
    out = b""
    while select.select([main], [], [], 30)[0]:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    process.wait()
    os.close(main)
    return out.decode("utf-8").replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is POSIX")
def test_help_fits_a_terminal_of_80_columns_and_a_pipe():
    for command in COMMANDS:
        args = [sys.executable, "-m", "bpcli", *command, "--help"]
        shown = _in_a_pty(args, 80)
        assert "Usage: bpcli" in shown and widest(shown) <= 80, command
        env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
        piped = subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout
        assert widest(piped) <= 80, command


@pytest.mark.parametrize("columns", [30, 44, 56, 60, 80])
def test_a_check_keeps_every_number_whole_at_any_width(bpcli, tmp_path, monkeypatch, columns):
    """Where the table's columns could not hold a number whole, each answer is a block of
    its own: no number is split across lines and no line is wider than the screen."""
    answers = tmp_path / "a.txt"
    answers.write_text("dx = 4\ndy=-4.123456789\ndz=3.00000001\n")
    monkeypatch.setenv("COLUMNS", str(columns))
    result = bpcli("check", "(x+y)*z", "x=-2", "y=5", "z=-4.123456789", "--answers", str(answers))
    lines = result.out.splitlines()
    assert all(len(line.rstrip()) <= columns for line in lines), result.out
    for number in ("-4.123456789", "3.00000001", "-4.1235"):  # each whole on one line
        assert re.search(rf"(?<![\d.]){re.escape(number)}(?!\d)", result.out), (number, result.out)
    assert "1 of 3 correct" in result.out
    assert ("┃" in result.out) == (columns >= 66), result.out  # (the table needs 66 here)
