"""Streams that are not what a program expects, end to end in real processes: a `.npy`
binding that is a pipe (it is read once, as it comes, never mapped or opened twice), an
empty `.npy`, and bpcli started with stdout or stderr closed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev/stdin")


def _npy_bytes(tmp_path):
    path = tmp_path / "W.npy"
    np.save(path, np.array([[0.1, 0.5], [-0.3, 0.8]]))
    return path.read_bytes()


def test_a_npy_fifo_is_refused_not_waited_on(tmp_path):
    data = _npy_bytes(tmp_path)
    fifo = tmp_path / "fifo.npy"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as handle:
            handle.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bpcli", "grad", "sum(W)", f"W=@{fifo}"],
            cwd=ROOT,
            capture_output=True,
            timeout=20,
        )
    except subprocess.TimeoutExpired:  # subprocess.run has killed it
        pytest.fail("bpcli hangs on a .npy FIFO")
    assert done.returncode == 2
    assert done.stderr.startswith(b"error: in the binding W=@")


@pytest.mark.skipif(not os.path.exists("/dev/stdin"), reason="needs /dev/stdin")
def test_a_npy_read_from_a_pipe_is_not_an_interruption(tmp_path):
    data = _npy_bytes(tmp_path)
    (tmp_path / "W.npy").write_bytes(data)
    link = tmp_path / "stdin.npy"
    link.symlink_to("/dev/stdin")
    command = f'cat "{tmp_path / "W.npy"}" | "{sys.executable}" -m bpcli grad "sum(W)" "W=@{link}"'
    done = subprocess.run(["sh", "-c", command], cwd=ROOT, capture_output=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(b"error: in the binding W=@") and b"interrupted" not in done.stderr


def test_an_empty_npy_is_bad_input(tmp_path):
    empty = tmp_path / "W.npy"
    empty.write_bytes(b"")
    done = subprocess.run(
        [sys.executable, "-m", "bpcli", "grad", "sum(W)", f"W=@{empty}"],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.endswith(b"not a numeric array (the file is empty)\n")


def shell(redirect: str, *args: str) -> subprocess.CompletedProcess:
    quoted = " ".join(f"'{a}'" for a in args)
    command = f'"{sys.executable}" -m bpcli {quoted} {redirect}'
    return subprocess.run(["sh", "-c", command], cwd=ROOT, capture_output=True, timeout=60)


@pytest.mark.parametrize(
    "args",
    [
        ["grad", "(x+y)*z", "x=-2", "y=5", "z=-4"],
        ["grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--format", "json"],
        ["grad", "x*1", "x=1", "u=2"],  # a warning, which goes nowhere
        ["--version"],
    ],
)
def test_a_closed_stderr_does_not_fail_a_good_run(args):
    done = shell("2>&-", *args)
    assert done.returncode == 0
    assert done.stdout.endswith(b"\n")


@pytest.mark.parametrize(
    "args",
    [
        ["grad", "(x+y)*z", "x=-2", "y=5", "z=-4"],
        ["grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--format", "json"],
        ["batch", "samples/problems.txt"],
    ],
)
def test_a_closed_stdout_is_an_error(args):
    done = shell(">&-", *args)
    assert done.returncode == 2
    assert done.stderr == b"error: cannot write the output: standard output is closed\n"
