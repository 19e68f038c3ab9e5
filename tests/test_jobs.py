"""`bpcli batch --jobs N` (bpcli/batch/workers.py): the same bytes as one process, whatever
the input holds and wherever it is cut, and what happens when workers die or cannot start.
(Signals, a closed stdout and a parent killed outright: tests/test_signals.py.)"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys

import pytest

from bpcli.batch import workers

from conftest import ROOT, SAMPLES

# A mix of what batch input holds: problems, errors of every kind, blank lines and
# comments, CRLF, a line that is not UTF-8, JSON records with ids, arrays.
TEXT_LINES = [
    "x=-2; y=5; z=-4; f=(x+y)*z",
    "",
    "# a comment",
    "w0=2; x0=-1; f = 1/(1+exp(-(w0*x0)))",
    "x=1; log(x-1)",
    "(",
    "y*2",
    "   ",
    "v=[1,2,3]; sum(v*v)",
    "x=0.5; tanh(x)\r",
    "x=1e400; x",
    "x=3; x*x",
]
JSON_LINES = [
    json.dumps({"program": "sum(v*2)", "bindings": {"v": [1, 2]}, "id": "a"}),
    "{not json",
    json.dumps({"program": 1}),
    json.dumps({"program": "(x+y)*z", "bindings": {"x": -2, "y": 5, "z": 3}, "id": 7}),
    "",
    json.dumps({"program": "q = x*y; f = q + 1", "bindings": {"x": 2, "y": 3}, "output": "q"}),
]


@pytest.fixture(autouse=True)
def workers_for_small_files(monkeypatch):
    """Files here are small: workers for them all the same (SMALL_BYTES has its own test)."""
    monkeypatch.setattr(workers, "SMALL_BYTES", 0)


@pytest.fixture
def mixed(tmp_path):
    """Three files (one with a BOM, one of JSON Lines, a .bp program), many runs' worth."""
    text = tmp_path / "problems.txt"
    lines = [TEXT_LINES[i % len(TEXT_LINES)].replace("x=3", f"x={i}") for i in range(150)]
    text.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\nx=1; x*\xff\n")
    records = tmp_path / "records.jsonl"
    records.write_text("\n".join(JSON_LINES * 20) + "\n", encoding="utf-8")
    program = tmp_path / "fanout.bp"
    program.write_bytes((SAMPLES / "fanout.bp").read_bytes())
    return [str(text), str(records), str(program)]


def same_for_every_jobs(bpcli, args, jobs=("2", "3", "8"), input=None):
    """Run batch with --jobs 1 and each of `jobs`: the same status, stdout and stderr."""
    one = bpcli("batch", *args, "--jobs", "1", input=input)
    assert one.out
    for count in jobs:
        many = bpcli("batch", *args, "--jobs", count, input=input)
        assert (many.code, many.out, many.err) == (one.code, one.out, one.err), count
    return one


@pytest.mark.parametrize("most", [1, 3, 1000])
@pytest.mark.parametrize("output_format", ["jsonl", "csv", "table"])
def test_jobs_write_the_bytes_of_one_process(bpcli, monkeypatch, mixed, most, output_format):
    monkeypatch.setattr(workers, "CHUNK", most)  # runs of 1 or 3 lines: many runs; or a few
    one = same_for_every_jobs(bpcli, [*mixed, "--format", output_format])
    assert one.code == 1  # some problems failed: the same ones, in the same places


def test_jobs_with_stdin_among_the_sources(bpcli, monkeypatch, mixed):
    monkeypatch.setattr(workers, "CHUNK", 4)
    stdin = "\n".join(TEXT_LINES * 5) + "\n"
    same_for_every_jobs(bpcli, [mixed[0], "-", mixed[1]], input=stdin)


def test_jobs_with_one_program_at_many_points(bpcli, monkeypatch):
    monkeypatch.setattr(workers, "CHUNK", 5)
    points = [json.dumps({"x0": i / 10, "x1": 1, "w0": 2, "w1": -3, "w2": -3}) for i in range(60)]
    points[7] = '{"x0": 1e308, "x1": 1e308, "w0": 1e308, "w1": 1, "w2": 1}'
    points[9] = "x0=1 x1=2"  # a text line of bindings, some missing
    points[11] = "{}"
    one = same_for_every_jobs(bpcli, ["--program", str(SAMPLES / "neuron.bp")], input="\n".join(points))
    assert one.code == 1


def test_jobs_with_a_bind_and_ids(bpcli, monkeypatch):
    monkeypatch.setattr(workers, "CHUNK", 2)
    lines = [json.dumps({"program": "x*b", "bindings": {"x": i}, "id": [i, "p"]}) for i in range(40)]
    same_for_every_jobs(bpcli, ["--bind", "b=[1,2]", "--nodes"], input="\n".join(lines) + "\n")


@pytest.mark.parametrize("lines", [0, 1, 5])
def test_a_small_input_starts_no_worker(bpcli, monkeypatch, lines):
    """What fits in one run is solved in the batch's own process: no fork at all."""

    def no_fork():
        raise AssertionError("a worker was started for a small input")

    monkeypatch.setattr(os, "fork", no_fork)
    text = "".join(f"x={i}; x*x\n" for i in range(lines))
    result = bpcli("batch", "--jobs", "4", input=text)
    assert (result.code, result.err) == (0, "")
    assert [json.loads(line)["value"] for line in result.out.splitlines()] == [i * i for i in range(lines)]


def test_small_files_start_no_worker(bpcli, monkeypatch, tmp_path):
    """Files of SMALL_BYTES in all (here, two of 1,000 lines) are solved with no fork."""
    paths = []
    for name in ("a.txt", "b.txt"):
        path = tmp_path / name
        path.write_text("".join(f"x={i}; x*x\n" for i in range(1000)), encoding="utf-8")
        paths.append(str(path))
    one = bpcli("batch", *paths)
    started, real = [], os.fork

    def fork():
        started.append(1)
        return real()

    monkeypatch.setattr(os, "fork", fork)
    monkeypatch.setattr(workers, "SMALL_BYTES", 2**15)
    assert 2**14 < sum(os.path.getsize(path) for path in paths) <= 2**15
    assert bpcli("batch", *paths, "--jobs", "2") == one
    assert started == []
    monkeypatch.setattr(workers, "SMALL_BYTES", 2**14)  # files larger than that: workers
    assert bpcli("batch", *paths, "--jobs", "2") == one
    assert started == [1, 1]


def test_workers_that_cannot_start_stop_the_batch_cleanly(bpcli, monkeypatch):
    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    result = bpcli("batch", "--jobs", "2", input="".join(f"x={i}; x*x\n" for i in range(100)))
    assert result.code == 2
    assert result.err == "error: cannot start worker processes: Resource temporarily unavailable\n"


def test_a_worker_that_cannot_start_leaves_none_behind(bpcli, monkeypatch):
    """The first worker starts, the second cannot: the first is stopped and reaped too."""
    real, started = os.fork, []

    def fork_once():
        if started:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        pid = real()
        if pid:
            started.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork_once)
    result = bpcli("batch", "--jobs", "2", input="".join(f"x={i}; x*x\n" for i in range(100)))
    assert result.code == 2
    assert result.err == "error: cannot start worker processes: Resource temporarily unavailable\n"
    assert len(started) == 1
    with pytest.raises(ChildProcessError):  # reaped: not even a zombie is left
        os.waitpid(started[0], os.WNOHANG)


def test_workers_that_always_die_stop_the_batch_cleanly(bpcli, monkeypatch):
    """Every problem kills its worker: the batch gives up with an error, not a hang (after
    the records of the lines it could tell were deadly)."""
    monkeypatch.setattr(workers.Solving, "run", lambda self, task: os._exit(9))
    result = bpcli("batch", "--jobs", "2", input="".join(f"x={i}; x*x\n" for i in range(100)))
    assert result.code == 2
    assert result.err == "error: the worker processes keep dying: the batch cannot go on\n"
    out = [json.loads(line) for line in result.out.splitlines()]
    assert [r["line"] for r in out] == list(range(1, len(out) + 1))
    assert all(r["error"].startswith("the worker process solving this problem died") for r in out)


def test_runs_shrink_near_the_end_of_a_file():
    sizes = workers._Sizes(1000, jobs=2, total=10_000_000)
    assert sizes.bytes() == workers.CHUNK_BYTES  # nothing measured yet
    sizes.solved(100, 0.01, 10_000)  # a million bytes a second
    assert sizes.bytes() == workers.CHUNK_BYTES  # far from the end
    sizes.cut(9_900_000)
    assert sizes.bytes() == 100_000 // 4  # a quarter of what is left: half of it a worker
    sizes.cut(99_000)
    assert sizes.bytes() == int(1_000_000 * workers.LEAST_SECONDS)  # but not below that much work
    assert workers._Sizes(1000, jobs=2, total=None).bytes() == workers.CHUNK_BYTES  # stdin


# --- in real processes ---------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """The pids of a process's children (Linux's /proc)."""
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as handle:
            found += [int(child) for child in handle.read().split()]
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_killed_from_outside_costs_nothing(tmp_path):
    """A worker killed mid-batch (by the system, say): its runs are solved again by a fresh
    one, and the output is the bytes of one process, with no error record."""
    path = tmp_path / "problems.txt"
    path.write_text(
        "".join(f"x=[{i % 97}, 1, 2]; y=2; f = sum(sin(x)*y + exp(-x))\n" for i in range(10_000)),
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "bpcli", "batch", str(path)]
    one = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
    process = subprocess.Popen(
        [*command, "--jobs", "2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        first = process.stdout.readline()  # the workers are at work
        killed = children(process.pid)
        assert killed
        os.kill(killed[0], signal.SIGKILL)
        rest = process.stdout.read()  # (stderr holds a line at most: it cannot fill its pipe)
        err = process.stderr.read()
        process.wait(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    assert (process.returncode, err, first + rest) == (one.returncode, one.stderr, one.stdout)
    assert one.returncode == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_more_jobs_than_cores_and_no_worker_left(tmp_path):
    path = tmp_path / "problems.txt"
    path.write_text("".join(f"x={i}; y=2; f = sin(x)*y\n" for i in range(3000)), encoding="utf-8")
    command = [sys.executable, "-m", "bpcli", "batch", str(path)]
    one = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
    jobs = str(2 * (os.cpu_count() or 1) + 1)
    process = subprocess.Popen(
        [*command, "--jobs", jobs],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=120)
        assert (process.returncode, err, out) == (0, b"", one.stdout)
        with pytest.raises(ProcessLookupError):  # no worker of its process group is left
            os.killpg(process.pid, 0)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a file name that is not UTF-8")
def test_jobs_with_a_file_name_that_is_not_utf8(tmp_path):
    """Its records name it with \\udcff (encoded in the worker): the bytes of one process."""
    path = os.path.join(os.fsencode(tmp_path), b"problems\xff.txt")
    with open(path, "wb") as handle:
        handle.write(b"".join(b"x=%d; x*x\n" % i for i in range(100)))
    command = [sys.executable, "-m", "bpcli", "batch", os.fsdecode(path)]
    one = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
    two = subprocess.run([*command, "--jobs", "2"], cwd=ROOT, capture_output=True, check=False)
    assert b"problems\\udcff.txt" in one.stdout
    assert (two.returncode, two.stderr, two.stdout) == (one.returncode, one.stderr, one.stdout)
