"""The batch as a grader drives it: a record for each line as soon as it is solved (not
when the next line comes), a quick stop, and arguments checked once up front."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time

import pytest

from conftest import ROOT

HANG_GUARD = 20  # seconds: only so that a broken build fails instead of hanging the suite


def _read_line(stream, seconds=HANG_GUARD) -> bytes:
    """One line from a pipe, or b"" when none comes within `seconds`."""
    ready = select.select([stream], [], [], seconds)[0]
    return stream.readline() if ready else b""


@pytest.mark.skipif(sys.platform == "win32", reason="select on pipes")
@pytest.mark.parametrize("input_format", ["text", "jsonl"])
def test_a_record_comes_out_while_stdin_waits_for_the_next_line(input_format):
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        [sys.executable, "-m", "bpcli", "batch", "--jobs", "1"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        lines = (
            [b"x=1; f=x*2\n", b"x=2; f=x*2\n"]
            if input_format == "text"
            else [
                b'{"program": "x*2", "bindings": {"x": 1}}\n',
                b'{"program": "x*2", "bindings": {"x": 2}}\n',
            ]
        )
        records = []
        for line in lines:  # one line, then wait for its record with stdin still open
            process.stdin.write(line)
            process.stdin.flush()
            records.append(_read_line(process.stdout))
        process.stdin.close()
        assert process.wait(timeout=HANG_GUARD) == 0
    finally:
        process.kill()
        process.wait()
    assert [json.loads(record)["value"] for record in records] == [2.0, 4.0]
    assert process.stdout.read() == b"" and process.stderr.read() == b""


def test_idle_flush_is_called_only_for_a_pipe_with_nothing_to_read(tmp_path):
    from bpcli.streams import batch_sources

    calls = []
    path = tmp_path / "problems.txt"
    path.write_bytes(b"x=1; f=x\nx=2; f=x\n")
    [(_, lines)] = batch_sources((str(path),), idle=lambda: calls.append(1))
    assert list(lines) == [b"x=1; f=x\n", b"x=2; f=x\n"] and calls == []  # a file: never
    read, write = os.pipe()
    os.write(write, b"x=1; f=x\n")
    os.close(write)
    with open(read, "rb") as handle:  # written and closed: readable at every read
        from bpcli.streams import _raw_lines

        assert list(_raw_lines(handle, "pipe", lambda: calls.append(1))) == [b"x=1; f=x\n"]
    assert calls == []
    read, write = os.pipe()
    with open(read, "rb") as handle:  # empty and open: idle before the read would wait
        lines = _raw_lines(handle, "pipe", lambda: (calls.append(1), os.close(write)))
        assert list(lines) == [] and calls == [1]


class _Stuck:
    """What a worker solves with: a run that never ends."""

    def run(self, task):
        time.sleep(3600)


@pytest.mark.parametrize("kill", [False, True])
def test_closing_the_pool_ends_a_stuck_worker_well_under_a_second(kill):
    from bpcli.batch.workers import Pool, _Run

    pool = Pool(_Stuck(), 2)  # type: ignore[arg-type]
    pids = [worker.pid for worker in pool.workers]
    pool.send(pool.workers[0], _Run(("stdin", 1, [b"x=1; x\n"]), 7))
    started = time.monotonic()
    pool.close(kill=kill)  # told to end (its pipe closed), the stuck one is killed in the end
    assert time.monotonic() - started < 0.9
    for pid in pids:  # reaped: not even a zombie is left
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


@pytest.mark.parametrize("program", ["x*(", "(x+y", "x*+", "f = x $ 2"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_program_that_does_not_parse_is_one_error(bpcli, program, jobs):
    from bpcli.errors import ParseError
    from bpcli.language.parse import parse

    with pytest.raises(ParseError) as expected:
        parse(program, {"x": 1.0, "y": 2.0})
    result = bpcli("batch", "--program", program, "--jobs", jobs, input="x=1\nx=2\nx=3\n")
    assert (result.code, result.out) == (2, "")
    assert result.err == f"error: {expected.value}\n"
    assert "^" in result.err


@pytest.mark.parametrize("program", ["", "   ", "# nothing\n", "\n;\n"])
def test_an_empty_program_is_one_error(bpcli, program):
    result = bpcli("batch", "--program", program, input="x=1\nx=2\n")
    assert (result.code, result.out) == (2, "")
    assert result.err == "error: the program is empty: write an expression such as (x+y)*z\n"


def test_a_program_needing_the_lines_bindings_is_not_refused_up_front(bpcli):
    result = bpcli("batch", "--program", "q = x\nf = q*y", "--bind", "y=3", input="x=1\n")
    assert result.code == 0
    assert json.loads(result.out)["value"] == 3.0


@pytest.mark.parametrize(
    "text, pieces",
    [
        ("W=[[1, 2],[3,4]]", ["W=[[1, 2],[3,4]]"]),
        ("W=[[1, 2], [3, 4]]  b=2", ["W=[[1, 2], [3, 4]]", "b=2"]),
        ("  a=1\tb=2 ", ["a=1", "b=2"]),
        ('p="a b" q=1', ['p="a b"', "q=1"]),
        ("v=[1, (2), 3] w=-1", ["v=[1, (2), 3]", "w=-1"]),
        ("W=[[1, 2]", ["W=[[1, 2]"]),  # never closed: one piece, refused by its parse
        ("", []),
    ],
)
def test_split_bindings_keeps_brackets_whole(text, pieces):
    from bpcli.language.bindings import split_bindings

    assert split_bindings(text) == pieces


def test_at_with_spaces_inside_an_array(bpcli):
    result = bpcli("batch", "--program", "sum(W@x)*b", "--at", "W=[[1, 2],[3,4]] b=2", input="x=[1,1]\n")
    assert result.code == 0, result.err
    record = json.loads(result.out)
    assert record["value"] == 20.0
    assert record["grads"]["W"] == [[2.0, 2.0], [2.0, 2.0]]
