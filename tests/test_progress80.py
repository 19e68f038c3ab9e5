"""`bpcli batch` on a terminal (issue 18): a progress bar on stderr that never gets into the
records, a total when the input is a file, and tables at the terminal's width.

Driven on a pseudo-terminal of 80 columns (tests/pseudo_terminal.py). What the terminal shows
is replayed line by line (carriage returns and erasures included), so "the records and the
bar never share a line" is read off the screen, as a person would see it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest
from pseudo_terminal import run, screen, without_bar
from rich.cells import cell_len

from bpcli.batch.lines import read_lines
from bpcli.streams import ProgressBar, _raw_lines, count_problems

from conftest import ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pseudo-terminal")

SAMPLE = ROOT / "samples" / "problems.txt"
PROBLEMS_PER_COPY = 6  # samples/problems.txt: a comment and six problems


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """samples/problems.txt 50 times over (300 problems, with comments and a blank line
    between copies): several batches of records (RecordWriter writes 256 at a time), so the
    bar is cleared and drawn again between them."""
    path = tmp_path_factory.mktemp("progress") / "many.txt"
    path.write_text((SAMPLE.read_text() + "\n") * 50)
    return path


def piped(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bpcli", *args], cwd=ROOT, env=environ, capture_output=True, check=False
    )


# --- stdout and stderr on one terminal --------------------------------------------------------


@pytest.mark.parametrize(("output_format", "jobs"), [("jsonl", "1"), ("jsonl", "2"), ("csv", "1")])
def test_records_on_the_bars_terminal_are_the_piped_records_exactly(many, jobs, output_format):
    args = ("batch", str(many), "--format", output_format, "--jobs", jobs)
    shown = run(*args)
    plain = piped(*args)
    assert shown.status == plain.returncode == 0
    assert b"solving" in shown.terminal and b"300 problems" in shown.terminal, "the bar was drawn"
    assert shown.terminal.count(b"\r\x1b[K") >= 2, "cleared before records, and at the end"
    assert without_bar(shown.terminal) == plain.stdout
    # What a person sees: the records, each on its own line, and nothing of the bar
    lines = screen(shown.terminal)
    assert lines == plain.stdout.decode().split("\n")
    assert not any("solving" in line or "problems" in line for line in lines)


def test_a_table_on_the_bars_terminal_is_the_piped_table_exactly(tmp_path):
    """(80 columns on the terminal; 80 in a pipe without COLUMNS too)"""
    some = tmp_path / "some.txt"
    some.write_text(SAMPLE.read_text() * 3)
    args = ("batch", str(some), "--format", "table")
    shown = run(*args, columns=80)
    plain = piped(*args)
    assert b"solving" in shown.terminal
    assert without_bar(shown.terminal) == plain.stdout
    assert screen(shown.terminal) == plain.stdout.decode().split("\n")


def test_error_messages_after_the_bar_start_on_a_line_of_their_own(tmp_path):
    problems = tmp_path / "some_fail.txt"
    problems.write_text("x=1; f=x*2\nf = 1 +\nx=2; f=x*x\n")
    shown = run("batch", str(problems))
    assert shown.status == 1
    lines = screen(shown.terminal)
    assert [json.loads(line)["line"] for line in lines[:3]] == [1, 2, 3]
    summary = "".join("".join(lines[3:]).split())  # (folded at the terminal's width)
    assert summary == "".join(f"bpcli batch: 1 of 3 problems failed ({problems}:2)".split())


# --- stdout into a pipe, the bar on a terminal ---------------------------------------------------


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_stdout_into_a_pipe_is_byte_identical_with_or_without_the_bar(many, jobs):
    args = ("batch", str(many), "--jobs", jobs)
    shown = run(*args, stdout_tty=False)
    plain = piped(*args)
    assert shown.stdout == plain.stdout and shown.stdout.count(b"\n") == 300
    assert re.search(rb"solving \S+ +[0-9,]+/300 problems +[0-9]+%", shown.terminal), "a file's total"
    assert plain.stderr == b"", "no bar on a stderr that is not a terminal"
    # At the end the bar is taken off: the terminal is left blank
    assert screen(shown.terminal) == [""]


def test_no_progress_draws_nothing(many):
    shown = run("batch", str(many), "--no-progress", stdout_tty=False)
    assert shown.terminal == b"" and shown.stdout.count(b"\n") == 300


def test_the_bar_fits_a_narrow_terminal(many):
    shown = run("batch", str(many), stdout_tty=False, columns=40)
    drawn = [piece for piece in screen(shown.terminal.replace(b"\r", b"\n")) if piece]
    assert drawn and all(cell_len(piece) < 40 for piece in drawn)
    assert any("/300" in piece for piece in drawn)


def test_stdin_from_a_file_has_a_total_and_a_pipe_has_none(many):
    with open(many, "rb") as handle:
        from_file = run("batch", stdout_tty=False, stdin=handle)
    assert b"/300 problems" in from_file.terminal
    with subprocess.Popen(["cat", str(many)], stdout=subprocess.PIPE) as cat:
        from_pipe = run("batch", stdout_tty=False, stdin=cat.stdout)
    assert b"solving" in from_pipe.terminal and b"/300" not in from_pipe.terminal
    assert from_pipe.stdout == from_file.stdout


# --- counting the problems of a file -------------------------------------------------------------

TRICKY = [
    b"",
    b"\n\n",
    b"x=1; f=x\n",
    b"x=1; f=x",  # no newline at the end
    b"\xef\xbb\xbf\n# comment\nx=1; f=x\n",  # a BOM on a blank first line
    b"\xef\xbb\xbf# comment\n   \t\r\n",
    b"  # indented comment\n\t\nx=1;f=x\r\n\x0b\x0c\n#\n   ",
    b"\xff\xfe not UTF-8\n  #\xff a comment that is not UTF-8\n",
    b'{"program": "x", "bindings": {"x": 1}}\n\n  {"program": "y"}  \n',
    b"\r\r\n\rx\n",  # bare carriage returns belong to their line
    b"\xef\xbb\xbf",
    b"a\n" * 50 + b"   \n" * 13 + b"# c\n" * 7 + b"b",
]


@pytest.mark.parametrize("data", TRICKY)
@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 2**20])
def test_the_count_is_the_number_of_problems_read(tmp_path, monkeypatch, data, chunk):
    monkeypatch.setattr("bpcli.streams.COUNT_CHUNK", chunk)
    path = tmp_path / "problems.txt"
    path.write_bytes(data)
    with open(path, "rb") as handle:
        read = len(list(read_lines([(str(path), _raw_lines(handle, str(path)))])))
    assert count_problems((str(path),)) == read


def test_a_bp_file_is_one_problem_and_a_missing_file_no_total(tmp_path):
    bp = ROOT / "samples" / "neuron.bp"
    assert count_problems((str(bp), str(SAMPLE), str(bp))) == 2 + PROBLEMS_PER_COPY
    assert count_problems((str(SAMPLE), str(tmp_path / "missing.txt"))) is None


def test_counting_gives_up_rather_than_delay_the_batch(many):
    assert count_problems((str(many),)) == 300
    assert count_problems((str(many),), seconds=-1) is None


# --- the bar's line ----------------------------------------------------------------------------


def bar_text(done: int, total: int | None, elapsed: float, columns: int = 79) -> str:
    bar = ProgressBar(False, total=total)
    bar.total, bar.done = total, done
    return bar.line(elapsed, columns)[0]


def test_the_line_shows_count_total_percentage_and_rate():
    text = bar_text(1234, 20000, 2.0)
    assert "1,234/20,000 problems" in text and "  6%" in text and "617/s" in text and "0:02" in text
    assert len(text) <= 79
    assert bar_text(0, None, 0.0) == "solving  0 problems  0:00"
    assert "0.5/s" in bar_text(3, None, 6.0)  # slow problems: a rate below one a second
    assert bar_text(25, 20, 1.0).startswith("solving  25 problems")  # more than counted: no total


# --- an interrupt with the bar shown ---------------------------------------------------------


SLOW = "x = 1.0\ns = 0.0\nfor i in range(50000):\n    s = s + x\nf = s\n"  # a second or so


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_with_the_bar_shown_keeps_whole_records_and_clears_the_bar(tmp_path, jobs):
    """Once records and the bar are on the terminal, Ctrl-C: exit 130, the records whole, the
    bar gone, the message on a line of its own. With --jobs 1 the problems come through a pipe
    the test holds open (bpcli waits for more); with --jobs 2 (which sends lines to its
    workers a thousand at a time) a file of problems is followed by slow ones."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    args = ["batch", "--jobs", jobs]
    if jobs != "1":
        (tmp_path / "fast.txt").write_text(SAMPLE.read_text() * 50)
        args.append(str(tmp_path / "fast.txt"))
        for i in range(20):
            (tmp_path / f"slow{i}.bp").write_text(SLOW)
            args.append(str(tmp_path / f"slow{i}.bp"))
    expected = 18 if jobs == "1" else 256  # records on the terminal before Ctrl-C, at least
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env["TERM"] = "xterm-256color"
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "bpcli", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=follower,
        stderr=follower,
    )
    sent = b""

    def read_until(done) -> None:
        nonlocal sent
        while not done(sent):
            ready, _, _ = select.select([leader], [], [], 60)
            assert ready, f"nothing more on the terminal; so far {sent[-300:]!r}"
            sent += os.read(leader, 65536)

    try:
        assert process.stdin is not None
        if jobs == "1":
            process.stdin.write(SAMPLE.read_bytes() * 3)
            process.stdin.flush()
        # the records, then the bar drawn again after them
        read_until(lambda s: s.count(b"\n") >= expected and s.endswith(b"\x1b[K"))
        assert b"solving" in sent
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=60)
        # (the terminal stays open here: what bpcli wrote is all there to read)
        read_until(lambda s: s.endswith(b"interrupted\r\n"))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(follower)
        os.close(leader)
        if process.stdin is not None:
            process.stdin.close()
    assert status == 130
    lines = screen(sent.replace(b"\r\n", b"\n"))
    assert lines[-2:] == ["error: interrupted", ""]
    records = [json.loads(line) for line in lines[:-2]]  # whole records only, nothing of the bar
    assert len(records) >= expected and records[0]["line"] == 2


# --- batch --format table at the terminal's width ------------------------------------------------

NEURON = "w0=2; x0=-1; w1=-3; x1=-2; w2=-3; f = 1/(1+exp(-(w0*x0+w1*x1+w2)))\n"
NEURON_GRADS = ["∂f/∂w0 = -0.1966", "∂f/∂x0 = 0.3932", "∂f/∂w1 = -0.3932", "∂f/∂x1 = -0.5898"]


def widest(text: str) -> int:
    return max(cell_len(line) for line in text.splitlines())


def test_a_table_into_a_pipe_is_80_columns_unless_columns_says(tmp_path):
    problem = tmp_path / "neuron.txt"
    problem.write_text(NEURON)
    default = piped("batch", str(problem), "--format", "table").stdout.decode()
    narrow = piped("batch", str(problem), "--format", "table", env={"COLUMNS": "60"}).stdout.decode()
    assert 60 < widest(default) <= 80 and widest(narrow) <= 60
    for text in (default, narrow):
        assert all(grad in text for grad in NEURON_GRADS), "numbers are never cropped"


@pytest.mark.parametrize("columns", [60, 80])
def test_a_table_on_a_terminal_fits_its_width(tmp_path, columns):
    problem = tmp_path / "neuron.txt"
    problem.write_text(NEURON + 'x=[1, 2, 3]; f = sum(x * x)\nf = "\n')
    shown = run("batch", str(problem), "--format", "table", "--jobs", "2", columns=columns)
    lines = [line for line in screen(shown.terminal) if not line.startswith("bpcli batch: ")]  # (stderr's)
    assert columns - 10 < max(map(cell_len, lines)) <= columns
    assert all(grad in lines for grad in NEURON_GRADS)
    assert any(line.startswith("error: ") for line in lines)
