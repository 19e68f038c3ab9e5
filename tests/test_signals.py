"""Pipes and signals, end to end in real processes: quiet on a closed pipe, whole records
on Ctrl-C."""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def bpcli(*args: str, **kwargs):
    # as a user's pipe: no COLUMNS (pytest exports COLUMNS=80 to its children)
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.Popen(
        [sys.executable, "-m", "bpcli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


@pytest.fixture(scope="module")
def many_problems(tmp_path_factory):
    path = tmp_path_factory.mktemp("batch") / "problems.txt"
    path.write_text(
        "".join(f"x={i % 97}; y=2; f = sin(x)*y + exp(-x)\n" for i in range(60_000)), encoding="utf-8"
    )
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["batch", "{problems}"],
        ["batch", "{problems}", "--jobs", "2"],
        ["batch", "{problems}", "--format", "table"],
        ["batch", "{problems}", "--format", "table", "--jobs", "2"],
        ["grad", "+".join(["x"] * 3000), "x=1", "--max-rows", "0"],
    ],
)
def test_closed_pipe_exits_quietly(many_problems, args):
    args = [a.replace("{problems}", str(many_problems)) for a in args]
    process = bpcli(*args)
    first = process.stdout.readline()
    process.stdout.close()  # the reader goes away, as `| head -1` does
    err = process.stderr.read()
    assert process.wait(timeout=60) == 0
    assert first and err == b""


@pytest.fixture(scope="module")
def failing_problems(tmp_path_factory):
    """60,000 problems, one in ten of which fails (log of 0), the first of them on line 1."""
    path = tmp_path_factory.mktemp("batch") / "failing.txt"
    path.write_text(
        "".join("x=0; log(x)\n" if i % 10 == 0 else f"x={i}; y=2; x*y\n" for i in range(60_000)),
        encoding="utf-8",
    )
    return path


def test_a_closed_pipe_keeps_the_failures_a_batch_had(failing_problems):
    """The problems solved before the reader went away decide the status: some failed, so 1,
    and the batch stops there (it does not go on solving for nobody)."""
    process = bpcli("batch", str(failing_problems))
    first = process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1
    assert "log of a non-positive number" in json.loads(first)["error"]
    summary = re.fullmatch(r"bpcli batch: (\d+) of (\d+) problems failed \(.*\)\n", err)
    assert summary, err
    failed, total = map(int, summary.groups())
    assert 1 <= failed <= total < 60_000


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["grad", "(x+y)*z", "x=-2", "y=5", "z=-4"], 0),
        (["grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--format", "json"], 0),
        (["grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--format", "steps"], 0),
        (["check", "samples/neuron.bp", "--answers", "samples/neuron_answers.txt"], 0),
        (["check", "samples/homework.bp", "--answers", "samples/homework_answers.txt"], 1),  # wrong answers
        (["batch", "samples/problems.txt"], 0),
        (["batch", "samples/problems.txt", "--format", "table"], 0),
    ],
)
def test_a_reader_gone_before_the_first_write(args, status):
    """Even a short output meets the closed pipe when nobody reads from the start
    (`bpcli … | true`): the status is the command's own, and nothing is said."""
    process = bpcli(*args)
    process.stdout.close()  # before bpcli has started: its first write finds no reader
    err = process.stderr.read()
    assert (process.wait(timeout=60), err) == (status, b"")


def test_ctrl_c_stops_with_130_and_whole_records(many_problems):
    process = bpcli(
        "batch", str(many_problems), preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)
    )
    first = process.stdout.readline()  # it is running and writing
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    rest = process.stdout.read()  # (not communicate(): it would skip what readline buffered)
    err = process.stderr.read()
    assert process.wait(timeout=60) == 130
    assert err.decode().strip() == "error: interrupted"
    lines = (first + rest).decode().split("\n")
    assert lines[-1] == ""  # nothing after the last newline: no half record
    records = [json.loads(line) for line in lines[:-1]]
    assert 0 < len(records) < 60_000
    assert [r["line"] for r in records] == list(range(1, len(records) + 1))


def test_output_flows_through_a_pipe_as_it_goes(many_problems):
    process = bpcli("batch", str(many_problems))
    start = time.monotonic()
    first = process.stdout.readline()
    took = time.monotonic() - start
    process.kill()
    process.communicate()
    assert json.loads(first)["line"] == 1
    assert took < 30  # long before the 60,000 problems are done (not a timing test: a hang check)


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ["grad", "(x+y)*z", "x=-2", "y=5", "z=-4"],
        ["grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--format", "json"],
        ["grad", "--help"],
        ["batch", "samples/problems.txt"],
    ],
)
def test_a_full_disk_is_an_error_not_a_bug(args):
    with open("/dev/full", "w") as full:
        process = subprocess.run(
            [sys.executable, "-m", "bpcli", *args], cwd=ROOT, stdout=full, stderr=subprocess.PIPE, timeout=60
        )
    assert process.returncode == 2
    assert process.stderr == b"error: cannot write the output: No space left on device\n"


def test_the_console_script_flushes_everything_before_it_leaves(tmp_path):
    """bpcli leaves without tearing the interpreter down (os._exit), after flushing: the
    whole output arrives, and the exit status is main()'s."""
    out = tmp_path / "out.txt"
    with open(out, "w") as handle:
        done = subprocess.run(
            [sys.executable, "-m", "bpcli", "grad", "+".join(["x"] * 2000), "x=1", "--max-rows", "0"],
            cwd=ROOT,
            stdout=handle,
            timeout=60,
        )
    assert done.returncode == 0
    assert out.read_text(encoding="utf-8").endswith("∂f/∂x = 2000\n")
    bad = subprocess.run(
        [sys.executable, "-m", "bpcli", "grad", "x+"], cwd=ROOT, capture_output=True, timeout=60
    )
    assert bad.returncode == 2 and bad.stderr.startswith(b"error:")


# --- stopping --jobs: every exit path leaves no worker behind ----------------------------------


@pytest.fixture(scope="module")
def slow_problems(tmp_path_factory):
    """Problems on arrays (no compiled path): several seconds of work even for two workers."""
    path = tmp_path_factory.mktemp("batch") / "arrays.txt"
    path.write_text(
        "".join(f"x=[{i % 97}, 1, 2]; y=2; f = sum(sin(x)*y + exp(-x))\n" for i in range(100_000)),
        encoding="utf-8",
    )
    return path


def group_is_empty(pgid: int, within: float = 10.0) -> bool:
    """Whether every process of the group is gone (polled for at most `within` seconds)."""

    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def kill_group(pgid: int) -> None:
    import contextlib

    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


@pytest.mark.parametrize(
    "signum, status, message, output_format",
    [
        (signal.SIGINT, 130, "interrupted", "jsonl"),
        (signal.SIGTERM, 143, "terminated (SIGTERM)", "jsonl"),
        (signal.SIGHUP, 129, "hung up (SIGHUP)", "jsonl"),
        (signal.SIGINT, 130, "interrupted", "table"),
        (signal.SIGTERM, 143, "terminated (SIGTERM)", "table"),
    ],
)
def test_a_signal_stops_jobs_leaving_whole_records_and_no_worker(
    slow_problems, signum, status, message, output_format
):
    process = bpcli(
        "batch",
        str(slow_problems),
        "--jobs",
        "2",
        "--format",
        output_format,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        first = process.stdout.readline()  # it is running and writing
        reader = concurrent.futures.ThreadPoolExecutor(2)
        rest = reader.submit(process.stdout.read)  # (a worker left behind would keep it open)
        err = reader.submit(process.stderr.read)
        time.sleep(0.3)
        process.send_signal(signum)
        assert process.wait(timeout=60) == status
        assert group_is_empty(process.pid), "a worker outlived the batch"
        assert err.result(timeout=10).decode() == f"error: {message}\n"
        text = (first + rest.result(timeout=10)).decode()
    finally:
        kill_group(process.pid)
        reader.shutdown(wait=False)
    if output_format == "table":
        blocks = text.split("── ")[1:]
        assert text.endswith("\n\n") and blocks
        assert [b.split(" ──")[0] for b in blocks] == [
            f"{slow_problems}:{i}" for i in range(1, len(blocks) + 1)
        ]
        return
    lines = text.split("\n")
    assert lines[-1] == ""  # nothing after the last newline: no half record
    records = [json.loads(line) for line in lines[:-1]]
    assert 0 < len(records) < 100_000
    assert [r["line"] for r in records] == list(range(1, len(records) + 1))


def test_workers_die_with_a_parent_killed_outright(many_problems):
    process = bpcli("batch", str(many_problems), "--jobs", "2", start_new_session=True)
    try:
        process.stdout.readline()
        process.kill()
        process.wait(timeout=60)
        assert group_is_empty(process.pid), "a worker outlived its parent"
    finally:
        kill_group(process.pid)
        process.stdout.close()
        process.stderr.close()


def test_a_signal_stops_a_batch_whose_reader_takes_nothing(slow_problems):
    """Output waits for a reader that has stopped reading; a signal still ends bpcli (after
    a short grace for the record being written) instead of leaving it blocked forever."""
    process = bpcli("batch", str(slow_problems), "--jobs", "2", start_new_session=True)
    try:
        process.stdout.readline()
        time.sleep(1.5)  # the pipe fills up: nobody reads it
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 143
        assert group_is_empty(process.pid), "a worker outlived the batch"
        assert process.stderr.read() == b"error: terminated (SIGTERM)\n"
    finally:
        kill_group(process.pid)
        process.stdout.close()
        process.stderr.close()
