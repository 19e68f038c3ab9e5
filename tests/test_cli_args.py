"""The command line's arguments: programs that start with `-`, which argument is a file,
stdin and pipes that are closed, text that has no end, and what `check`'s answers may be."""

from __future__ import annotations

import json
import os
import string
import subprocess
import sys

import pytest

from conftest import ROOT

# --- programs that start with "-" -----------------------------------------------------------

LETTERS = string.ascii_letters + "_θ"
GRAD_OPTION_LETTERS = "hfoy"  # the short options of grad
CHECK_OPTION_LETTERS = "hfeay"  # the short options of check


def value_of(result):
    """f as `grad --format json` gives it."""
    assert result.code == 0, result.err
    return json.loads(result.out)["value"]


@pytest.fixture
def empty_dir(tmp_path, monkeypatch):
    """Run in an empty directory, and make sure that it stays empty."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    assert sorted(os.listdir(tmp_path)) == []


@pytest.mark.parametrize("letter", LETTERS)
def test_every_letter_after_minus_is_the_program(bpcli, empty_dir, letter):
    name = "x" if letter == "e" else letter  # e is Euler's number, not a name
    other = "y" if name == "x" else "x"
    for program, expected in [
        (f"-{name}*{other}", -6.0),
        (f"-{name}{name}ab", -2.0),
        (f"-{name}", -2.0),
        (f"-({name}+{other})*{name}", -10.0),
    ]:
        if program == f"-{name}" and letter in GRAD_OPTION_LETTERS:
            continue  # exactly an option: see test_a_program_that_is_exactly_an_option…
        bindings = [f"{name}=2", f"{other}=3", f"{name}{name}ab=2"]  # unused ones: warnings
        assert value_of(bpcli("grad", program, *bindings, "--format", "json")) == expected


@pytest.mark.parametrize("letter", LETTERS)
def test_check_takes_every_letter_after_minus_as_the_program(bpcli, empty_dir, letter):
    name = "x" if letter == "e" else letter
    other = "y" if name == "x" else "x"
    f = "f=2" if name == "f" else "f=-6"  # the program's own f, else the output
    result = bpcli("check", f"-{name}*{other}", f"{name}=2", f"{other}=3", "-e", f, "-e", f"d{other}=-2")
    assert (result.code, result.err) == (0, ""), (letter, result.err)
    assert result.out.endswith("2 of 2 correct\n")


@pytest.mark.parametrize(
    "program, bindings, expected",
    [
        ("-tanh(x)", ["x=0"], -0.0),
        ("-h*x", ["h=2", "x=3"], -6.0),
        ("-theta", ["theta=1"], -1.0),
        ("-(x+y)*h", ["x=1", "y=2", "h=2"], -6.0),
        ("-2*h", ["h=2"], -4.0),
        ("-o*x", ["o=2", "x=3"], -6.0),
        ("-offset", ["offset=1"], -1.0),
        ("-log(x)", ["x=1"], -0.0),
        ("-exp(x)", ["x=0"], -1.0),
        ("-f*o", ["f=2", "o=3"], -6.0),
        ("-.5*x", ["x=2"], -1.0),
        ("-1", [], -1.0),
        ("--2*x", ["x=1"], 2.0),
        ("-x*y", ["x=-2", "y=-3"], -6.0),
    ],
)
def test_programs_from_the_issue(bpcli, empty_dir, program, bindings, expected):
    assert value_of(bpcli("grad", program, *bindings, "--format", "json")) == expected


def test_a_program_starting_with_o_writes_no_file(bpcli, empty_dir):
    result = bpcli("grad", "-o*x", "o=2", "x=3")
    assert result.code == 0 and result.err == ""
    assert result.out.endswith("-o*x = -6\n∂f/∂o = -3\n∂f/∂x = -2\n")
    assert bpcli("grad", "-offset", "offset=1").code == 0  # empty_dir: no file "ffset"


def test_check_program_starting_with_oh_is_checked(bpcli, empty_dir):
    result = bpcli("check", "-oh", "oh=2", "-e", "f=-2", "-e", "doh=-1")
    assert (result.code, result.err) == (0, "")
    assert result.out.endswith("2 of 2 correct\n")
    result = bpcli("check", "-exp(x)", "x=0", "-e", "dx=-1")
    assert (result.code, result.err) == (0, "")


@pytest.mark.parametrize("command, letters", [("grad", GRAD_OPTION_LETTERS), ("check", CHECK_OPTION_LETTERS)])
def test_a_program_that_is_exactly_an_option_goes_after_double_dash(bpcli, empty_dir, command, letters):
    for letter in letters:
        name = "x" if letter == "e" else letter
        args = [command, "--", f"-{name}", f"{name}=2"]
        if command == "check":
            args[1:1] = ["-e", f"d{name}=-1"]
        result = bpcli(*args)
        assert (result.code, result.err) == (0, ""), letter
    assert bpcli("grad", "-h").out.startswith("Usage: bpcli grad [OPTIONS] PROGRAM")
    result = bpcli("grad", "--", "-x*y", "x=1", "y=2", "--format", "json")
    assert result.code == 2  # after --, everything is an operand
    assert result.err.startswith("error: '--format' is not a binding")


def test_double_dash_before_the_program(bpcli, empty_dir):
    result = bpcli("grad", "--format", "json", "--", "-x*y", "x=1", "y=2")
    assert value_of(result) == -2.0


@pytest.mark.parametrize("position", [0, 1, 2, 3])
@pytest.mark.parametrize(
    "option",
    [
        ["--format", "json"],
        ["--format=json"],
        ["--precision", "2"],
        ["--precision=2"],
        ["--max-rows", "1"],
        ["--jacobian"],
        ["--gradcheck"],
        ["--expand"],
        ["--wrt", "x"],
        ["--wrt=x"],
        ["--lang", "zh", "--format", "steps"],
        ["--seed", "0"],
        ["--seed=0"],
        ["-o", "out.txt"],
        ["--out", "out.txt"],
        ["--out=out.txt"],
        ["--output", "out.txt"],  # the old spelling of --out, with a warning
        ["--output=out.txt"],
        ["--output", "x"],
        ["-y", "x"],
        ["--output=x"],
        ["--upstream", "2"],
        ["--upstream=-0.5"],
    ],
)
def test_every_grad_option_works_in_every_position(bpcli, tmp_path, monkeypatch, option, position):
    monkeypatch.chdir(tmp_path)
    words = ["-sigmoid(x)*y", "x=-2", "y=3"]
    reference = bpcli("grad", *words, *option)
    reference_file = (tmp_path / "out.txt").read_text() if "out.txt" in str(option) else None
    assert reference.code == 0, reference.err
    words[position:position] = option
    result = bpcli("grad", *words)
    assert (result.code, result.out, result.err) == (reference.code, reference.out, reference.err), words
    if reference_file is not None:
        assert (tmp_path / "out.txt").read_text() == reference_file


@pytest.mark.parametrize("position", [0, 1, 2, 3])
@pytest.mark.parametrize(
    "option",
    [
        ["-e", "dx=-0.3149"],
        ["--expect", "dx=-0.3149"],
        ["--expect=dx=-0.3149"],
        ["-a", "answers.txt"],
        ["--answers", "answers.txt"],
        ["--answers=answers.txt"],
        ["--tol", "1%", "-e", "dx=-0.31"],
        ["--format", "json", "-e", "f=-0.3577"],
        ["--precision", "2", "-e", "dy=0.1"],
        ["--lang", "zh", "-e", "dy=0.5"],
        ["--seed", "0", "-e", "y=3"],
    ],
)
def test_every_check_option_works_in_every_position(bpcli, tmp_path, monkeypatch, option, position):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "answers.txt").write_text("dx = -0.3149\ndy = 0.1192\n")
    words = ["-sigmoid(x)*y", "x=-2", "y=3"]
    reference = bpcli("check", *words, *option)
    assert reference.code in (0, 1) and reference.out, reference.err
    words[position:position] = option
    result = bpcli("check", *words)
    assert (result.code, result.out, result.err) == (reference.code, reference.out, reference.err), words


@pytest.mark.parametrize("command", ["grad", "check"])
def test_help_in_every_position(bpcli, command):
    for words in (
        ["-h"],
        ["-h", "-x"],
        ["-x", "-h"],
        ["-x", "x=1", "-h"],
        ["--help", "-x"],
        ["-x", "x=1", "--help"],
    ):
        result = bpcli(command, *words)
        assert result.code == 0 and result.out.startswith(f"Usage: bpcli {command} [OPTIONS]")


@pytest.mark.parametrize("command", ["grad", "check"])
def test_program_file_option_in_every_position(bpcli, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prog").write_text("-h*x\n")
    expect = ["-e", "f=-6"] if command == "check" else []
    for words in (
        ["-f", "prog", "h=2", "x=3"],
        ["h=2", "-f", "prog", "x=3"],
        ["h=2", "x=3", "--file", "prog"],
        ["--file=prog", "h=2", "x=3"],
    ):
        result = bpcli(command, *words, *expect)
        assert result.code == 0, (words, result.err)
        assert result.out.endswith("1 of 1 correct\n" if expect else "∂f/∂x = -2\n")


@pytest.mark.parametrize("command", ["grad", "check"])
def test_with_a_program_file_a_dashed_argument_is_no_binding(bpcli, tmp_path, command):
    (tmp_path / "p.bp").write_text("x*2\n")
    expect = ["-e", "dx=2"] if command == "check" else []
    result = bpcli(command, "-f", str(tmp_path / "p.bp"), "-x*y", "x=1", *expect)
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "error: No such option: -x*y (with -f FILE every argument is a"
        f" NAME=VALUE binding)\nTry 'bpcli {command} --help' for help.\n"
    )
    result = bpcli(command, "x=1", "-x", "-f", str(tmp_path / "p.bp"), *expect)
    assert (result.code, result.out) == (2, "")
    assert result.err == f"error: No such option '-x'.\nTry 'bpcli {command} --help' for help.\n"


@pytest.mark.parametrize("before", [True, False])
def test_a_misspelt_long_option_is_no_such_option(bpcli, before):
    args = ["--fromat", "json"]
    words = [*args, "(x+y)*z", "x=1", "y=2", "z=3"] if before else ["(x+y)*z", "x=1", "y=2", "z=3", *args]
    result = bpcli("grad", *words)
    assert result.code == 2
    assert result.err == (
        "error: No such option '--fromat'. (Did you mean one of: '--format',"
        " '--out', '--wrt'?)\nTry 'bpcli grad --help' for help.\n"
    )
    result = bpcli("check", "x", "x=1", "--expcet", "x=1")
    assert result.code == 2
    assert result.err == (
        "error: No such option '--expcet'. Did you mean '--expect'?\nTry 'bpcli check --help' for help.\n"
    )


@pytest.mark.parametrize("command", ["grad", "check"])
def test_no_short_option_takes_an_attached_value(bpcli, empty_dir, command):
    expect = ["-e", "dx=1"] if command == "check" else []
    for words, message in [
        (["x", "x=1", "-offset", "o=3"], "'-offset': an option's value is the next argument (-o ffset)"),
        (["-2", "h=2", "-o*x"], "'-o*x': an option's value is the next argument (-o *x)"),
        (["x", "x=1", "-fprog.bp"], "'-fprog.bp': an option's value is the next argument (-f prog.bp)"),
        (["x", "x=1", "-hx"], "'-hx'."),
        (["x", "x=1", "-2"], "'-2'."),
    ]:
        result = bpcli(command, *words, *expect)
        assert (result.code, result.out) == (2, ""), words
        assert result.err == (f"error: No such option {message}\nTry 'bpcli {command} --help' for help.\n")


def test_an_unknown_short_option_after_the_program(bpcli):
    result = bpcli("grad", "x*y", "x=1", "y=2", "-q")
    assert (result.code, result.err) == (
        2,
        "error: No such option '-q'.\nTry 'bpcli grad --help' for help.\n",
    )


# --- which argument is a file ---------------------------------------------------------------


@pytest.fixture
def file_named_x(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x").write_text("x*1000\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x").write_text("x*1000\n")
    return tmp_path


def test_a_program_that_is_also_a_file_name_is_program_text(bpcli, file_named_x):
    assert value_of(bpcli("grad", "x", "x=2", "--format", "json")) == 2.0
    assert value_of(bpcli("grad", "./x", "x=2", "--format", "json")) == 2000.0
    assert value_of(bpcli("grad", str(file_named_x / "x"), "x=2", "--format", "json")) == 2000.0
    assert value_of(bpcli("grad", "-f", "x", "x=2", "--format", "json")) == 2000.0
    (file_named_x / "p.txt").write_text("x*10\n")
    assert value_of(bpcli("grad", "p.txt", "x=2", "--format", "json")) == 20.0


def test_a_path_without_the_rule_says_how_to_read_the_file(bpcli, file_named_x):
    result = bpcli("grad", "sub/x", "x=2")
    assert result.code == 2
    assert result.err.endswith(
        "sub/x was read as program text, not as the file of that name: a program is read from"
        " a file only when it ends in .bp or .txt or starts with / or ./ (or with -f sub/x)\n"
    )


def test_a_missing_program_file(bpcli, file_named_x):
    result = bpcli("grad", "nothere.bp", "x=1")
    assert (result.code, result.err) == (2, "error: cannot read nothere.bp: no such file\n")


def test_batch_program_follows_the_same_rule(bpcli, file_named_x):
    records = [json.loads(line) for line in bpcli("batch", "--program", "x", input="x=2\n").out.splitlines()]
    assert records[0]["value"] == 2.0
    records = [
        json.loads(line) for line in bpcli("batch", "--program", "./x", input="x=2\n").out.splitlines()
    ]
    assert records[0]["value"] == 2000.0


# --- closed stdin, text without end ---------------------------------------------------------


def test_closed_stdin_in_process(bpcli, monkeypatch):
    monkeypatch.setattr(sys, "stdin", None)
    result = bpcli("grad", "-", "x=1")
    assert (result.code, result.err) == (2, "error: cannot read stdin: it is closed\n")
    result = bpcli("check", "x*2", "x=1", "--answers", "-")
    assert (result.code, result.err) == (2, "error: cannot read stdin: it is closed\n")
    result = bpcli("grad", "-f", "-", "x=1")
    assert (result.code, result.err) == (2, "error: cannot read stdin: it is closed\n")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell")
@pytest.mark.parametrize("args", [["grad", "-", "x=1"], ["check", "x*2", "x=1", "--answers", "-"]])
def test_closed_stdin_in_a_real_process(args):
    command = " ".join([sys.executable, "-m", "bpcli", *(f"'{a}'" for a in args), "<&-"])
    done = subprocess.run(["sh", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", "error: cannot read stdin: it is closed\n")


def test_program_and_answers_cannot_both_be_stdin(bpcli):
    result = bpcli("check", "-", "x=1", "-a", "-", input="x*2\n")
    assert result.code == 2
    assert result.err.startswith(
        "error: the program and the answers cannot both come from stdin: put one of them in a file\n"
    )


@pytest.mark.parametrize("inputs", [[], ["-"]])
def test_batch_program_and_problems_cannot_both_be_stdin(bpcli, inputs):
    result = bpcli("batch", *inputs, "--program", "-", input="x*2\n")
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith(
        "error: --program - and the problems cannot both come from stdin: put one of them in a file\n"
    )


TOO_BIG = "it is larger than 64 MiB, the most bpcli reads as one text (see Limits in the README)\n"


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize(
    "args",
    [
        ["grad", "-f", "/dev/zero"],
        ["grad", "/dev/zero", "x=1"],
        ["check", "x", "x=1", "--answers", "/dev/zero"],
        ["check", "-f", "/dev/zero", "-e", "x=1"],
        ["batch", "--program", "/dev/zero"],
    ],
)
def test_a_text_without_end_is_refused(bpcli, args):
    result = bpcli(*args, input="x=1\n")
    assert (result.code, result.err) == (2, "error: cannot read /dev/zero: " + TOO_BIG)


def test_stdin_is_bounded(bpcli, monkeypatch):
    import bpcli.limits as limits

    monkeypatch.setattr(limits, "MAX_TEXT_BYTES", 1000)
    result = bpcli("grad", "-", input="x" + "+x" * 600)
    assert result.code == 2
    assert result.err == (
        "error: cannot read stdin: it is larger than 1000 bytes, the most"
        " bpcli reads as one text (see Limits in the README)\n"
    )
    assert bpcli("grad", "-", "x=1", input="x" + "+x" * 400).code == 0


# --- check's answers --------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["dx=1.5e400", "dx=1e400", "dx=-1.5e400", "x=2e308"])
def test_an_answer_too_large_for_a_float(bpcli, answer):
    result = bpcli("check", "x*2", "x=1", "-e", answer)
    written, value = answer.split("=")
    assert (result.code, result.err) == (
        2,
        f"error: in the answer {written}={value}: the number is too large for a float (at"
        " most about 1.8e308)\n",
    )


@pytest.mark.parametrize("depth", [33, 65, 100_000])
def test_an_answer_nested_too_deep(bpcli, tmp_path, depth):
    answers = tmp_path / "answers.txt"
    literal = "[" * depth + "2" + "]" * depth
    answers.write_text(f"dx = {literal}\n")
    result = bpcli("check", "x*2", "x=1", "--answers", str(answers))
    shown = literal[:40] + "…"
    assert (result.code, result.err) == (
        2,
        f"error: {answers}, line 1: in the answer dx={shown}: an array of {depth} dimensions"
        " (the most is 32)\n",
    )


@pytest.mark.parametrize("value", ["zeros(3,0,2)", "zeros(0)", "ones(2,0)"])
def test_an_answer_with_no_elements(bpcli, value):
    for program, binding, name in (("x*2", "x=1", "x"), ("sum(W*2)", "W=[1,2]", "dW")):
        result = bpcli("check", program, binding, "-e", f"{name}={value}")
        assert result.code == 2
        assert result.err.startswith(f"error: in the answer {name}={value}: the array has no elements")


def test_an_answer_in_deep_parentheses(bpcli, tmp_path):
    answers = tmp_path / "answers.txt"
    answers.write_text("dx = " + "(" * 100_000 + "2" + ")" * 100_000 + "\n")
    result = bpcli("check", "x*2", "x=1", "--answers", str(answers))
    assert (result.code, result.err) == (0, "")


def test_an_answer_of_32_dimensions_is_read(bpcli):
    answer = "[" * 32 + "2" + "]" * 32
    result = bpcli("check", "sum(x*2)", "x=" + "[" * 32 + "1" + "]" * 32, "-e", "dx=" + answer)
    assert (result.code, result.err) == (0, "")


@pytest.mark.parametrize("program", ["(x+y)*z", "q = x + y; L = q*z", "q = x + y; f = q*z"])
def test_f_is_the_output(bpcli, program):
    result = bpcli(
        "check",
        program,
        "x=-2",
        "y=5",
        "z=-4",
        "-e",
        "f=-12",
        "-e",
        "df=1",
        "-e",
        "df/df=1",
        "-e",
        "∂f/∂f=1",
        "-e",
        "grad(f)=1",
    )
    assert (result.code, result.err) == (0, "")
    assert result.out.endswith("5 of 5 correct\n")
    result = bpcli("check", program, "x=-2", "y=5", "z=-4", "-e", "f=12", "--format", "json")
    assert result.code == 1
    assert json.loads(result.out)["results"][0]["truth"] == -12.0


def test_a_name_f_of_the_program_is_that_name(bpcli):
    result = bpcli("check", "f = x + y; g = f*z", "x=-2", "y=5", "z=-4", "-e", "f=3", "-e", "df=-4")
    assert (result.code, result.err) == (0, "")
    assert result.out.endswith("2 of 2 correct\n")


# --- a reader that goes away ----------------------------------------------------------------


def closed_pipe_run(*args: str, input: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """Run bpcli with its stdout a pipe whose reader has already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "bpcli", *args],
            cwd=ROOT,
            input=input,
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    finally:
        os.close(write_end)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
@pytest.mark.parametrize("extra", [[], ["--format", "json"]])
def test_check_keeps_its_status_when_the_reader_goes_away(extra):
    done = closed_pipe_run("check", "x*2", "x=1", "-e", "dx=5", "-e", "x=7", *extra)
    assert (done.returncode, done.stderr) == (1, b"")
    done = closed_pipe_run("check", "x*2", "x=1", "-e", "dx=2", *extra)
    assert (done.returncode, done.stderr) == (0, b"")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
@pytest.mark.parametrize("extra", [[], ["--jobs", "2"], ["--format", "table"]])
def test_batch_keeps_its_failures_when_the_reader_goes_away(extra):
    done = closed_pipe_run("batch", *extra, input=b"x=1; f=log(x-2)\n" * 3000)
    assert done.returncode == 1
    assert done.stderr.startswith(b"bpcli batch: ") and b"problems failed (stdin:1, " in done.stderr
    done = closed_pipe_run("batch", *extra, input=b"x=1; f=log(x+2)\n" * 3000)
    assert (done.returncode, done.stderr) == (0, b"")


def test_an_unknown_answer_lists_f_as_the_output(bpcli):
    result = bpcli("check", "x*2", "x=1", "-e", "dz=1")
    assert (result.code, result.err) == (
        2,
        "error: the answer dz=1 names nothing in the program\nthe program's names are x (and"
        " f, the output); write q=… for a value and dq=… (or df/dq=…, grad(q)=…) for a"
        " gradient\n",
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
def test_a_closed_stderr_pipe_loses_no_report():
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bpcli", "check", "x*2", "x=1", "y=2", "-e", "dx=5"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=write_end,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 1  # the warning about y could not be written; the report was
    assert done.stdout.decode().endswith("0 of 1 correct\nfirst wrong step: dx\n")


@pytest.mark.parametrize("tol", ["inf", "1e400", "1e400%", "-1", "nan", "-0.5%"])
def test_a_tolerance_must_be_finite(bpcli, tol):
    result = bpcli("check", "x*2", "x=1", "-e", "dx=5", "--tol", tol)
    assert (result.code, result.err) == (
        2,
        f"error: --tol {tol}: the tolerance must be a finite non-negative number\n",
    )


@pytest.mark.parametrize(
    "command",
    [["grad", "sum(x)", "x=randn(2)"], ["check", "sum(x)", "x=randn(2)", "-e", "dx=[1,1]"], ["batch"]],
)
def test_a_negative_seed_is_a_bad_argument(bpcli, command):
    record = '{"program": "sum(x)", "bindings": {"x": "randn(2)"}}\n'
    result = bpcli(*command, "--seed", "-5", input=record)
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "error: Invalid value for '--seed': -5 is not in the range x>=0.\n"
        f"Try 'bpcli {command[0]} --help' for help.\n"
    )


def test_o_never_writes_over_what_the_command_reads(bpcli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prog.bp").write_text("f = x*2\n")
    (tmp_path / "x.csv").write_text("1,2\n")
    for args in (
        ["prog.bp", "x=3", "-o", "prog.bp"],
        ["-f", "prog.bp", "x=3", "-o", "./prog.bp"],
        ["sum(x*2)", "x=@x.csv", "-o", "x.csv", "--format", "csv"],
    ):
        result = bpcli("grad", *args)
        assert result.code == 2, args
        assert result.err.startswith(f"error: -o {args[args.index('-o') + 1]} would write over")
    assert (tmp_path / "prog.bp").read_text() == "f = x*2\n"
    assert (tmp_path / "x.csv").read_text() == "1,2\n"
    assert bpcli("grad", "prog.bp", "x=3", "-o", "out.json", "--format", "json").code == 0


@pytest.mark.parametrize("command", [None, "grad", "check", "batch"])
def test_help_fits_80_columns(bpcli, monkeypatch, command):
    monkeypatch.setenv("COLUMNS", "80")
    result = bpcli(*([command] if command else []), "--help")
    assert result.code == 0
    assert max(len(line) for line in result.out.splitlines()) <= 80
