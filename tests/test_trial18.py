"""What the issue 18 trial and probe found, each kept fixed."""

from __future__ import annotations

import os

import pytest

from bpcli import streams


def test_records_go_out_in_pieces_that_end_at_a_newline(monkeypatch):
    """A signal whose grace runs out stops a write to a slow pipe between two pieces; each
    piece is at most PIPE_BUF bytes (atomic on a pipe) and ends at a record's end."""
    pieces: list[bytes] = []

    def write(fd: int, data: memoryview) -> int:
        pieces.append(bytes(data))
        return len(data)

    monkeypatch.setattr(os, "write", write)
    records = b"".join(b'{"line": %d, "value": %s}\n' % (i, b"1" * (i % 50)) for i in range(2000))
    streams._write_whole_lines(1, records)
    assert b"".join(pieces) == records
    assert all(len(p) <= streams.PIPE_BUF and p.endswith(b"\n") for p in pieces)
    long = b"x" * 10_000 + b"\n"  # a record longer than PIPE_BUF: written, cut where it must be
    pieces.clear()
    streams._write_whole_lines(1, long)
    assert b"".join(pieces) == long


@pytest.mark.parametrize(
    "program",
    ["f = x*y\n\n+ x\n", "f = x*y; + x", "if x > 0:\n    f = x*y\nelse:\n    f = y\n+ 1\n"],
    ids=["after-a-blank-line", "after-a-semicolon", "after-a-block"],
)
def test_a_plus_statement_after_another_is_refused(bpcli, program):
    result = bpcli("grad", "-", "x=1", "y=2", input=program)
    assert result.code == 2 and "starts with '+'" in result.err


def test_a_program_of_plus_x_alone_is_x(bpcli):
    assert bpcli("grad", "+x", "x=3").out.endswith("= 1\n")


def test_a_directory_is_not_a_program(bpcli, tmp_path, monkeypatch):
    (tmp_path / "problems").mkdir()
    monkeypatch.chdir(tmp_path)
    result = bpcli("grad", "problems/")
    assert result.code == 2 and result.err.startswith("error: problems/ is a directory, not a program")


def test_randn_in_a_program_points_at_np_random(bpcli):
    result = bpcli("grad", "f = sum(randn(3))")
    assert result.code == 2 and "np.random.randn" in result.err


def test_an_error_in_a_long_line_shows_a_window_around_the_caret(bpcli):
    terms = " + ".join(f"w{i}*x{i}" for i in range(12))
    bindings = [f"{v}{i}=1" for i in range(12) for v in "wx"]
    result = bpcli("grad", f"f = {terms} + log(w0 - x0 - 1)", *bindings)
    lines = result.err.splitlines()
    assert result.code == 2 and lines[2].startswith("    …") and len(lines[2]) <= 80
    assert lines[2][lines[3].index("^") :].startswith("log(")


def test_a_norm_never_overflows(bpcli):
    result = bpcli("grad", "f = sum((W*1e200)@x)", "W=randn(5,5)", "x=randn(5)", "--seed", "0")
    assert result.code == 0 and "inf" not in result.out and "Warning" not in result.err
