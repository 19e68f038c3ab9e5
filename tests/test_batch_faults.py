"""`bpcli batch` whatever its input holds: exactly one record per problem line, in order,
with one worker or several; a line that cannot be read or solved is its own error record."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bpcli.limits
from bpcli.batch import solve as batch_module
from bpcli.batch import workers

from conftest import ROOT

GOOD = '{"program":"x*2","bindings":{"x":1}}\n'
HUGE_INT = '{"program":"sum(x)","bindings":{"x":[1' + "0" * 400 + "]}}\n"


def records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def lines_of(out: str) -> list[int]:
    return [r["line"] for r in records(out)]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_bad_line_among_2000_loses_no_record(bpcli, jobs):
    result = bpcli("batch", "--jobs", jobs, input=GOOD * 999 + HUGE_INT + GOOD * 1000)
    out = records(result.out)
    assert result.code == 1
    assert [r["line"] for r in out] == list(range(1, 2001))
    assert out[999] == {
        "source": "stdin",
        "line": 1000,
        "error": "the binding x: a number in it is too large for a float",
    }
    assert all(r["value"] == 2.0 for i, r in enumerate(out) if i != 999)
    assert result.err == "bpcli batch: 1 of 2000 problems failed (stdin:1000)\n"


def test_the_first_record_is_written_before_a_bad_second(bpcli):
    result = bpcli("batch", input=GOOD + HUGE_INT)
    assert result.code == 1 and lines_of(result.out) == [1, 2]


@pytest.mark.parametrize(
    "raised, message, code",
    [
        (
            ValueError("surprise"),
            "internal error: ValueError: surprise; this is a bug in bpcli,"
            " please report it with this problem",
            3,
        ),
        (RecursionError(), "the problem is too deeply nested", 1),
        (MemoryError(), "out of memory: the problem is too big", 1),
    ],
)
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_whatever_a_problem_raises_becomes_its_record(bpcli, monkeypatch, raised, message, code, jobs):
    real = batch_module.to_problem

    def to_problem(line, *args):
        if "boom" in line[2]:
            raise raised
        return real(line, *args)

    monkeypatch.setattr(batch_module, "to_problem", to_problem)  # workers are forked: they too
    lines = [f"x={i}; x*{i}" for i in range(1, 1500)]
    lines[700] = "boom; x=1; x"
    result = bpcli("batch", "--jobs", jobs, input="\n".join(lines) + "\n")
    out = records(result.out)
    assert result.code == code
    assert [r["line"] for r in out] == list(range(1, 1500))
    assert out[700] == {"source": "stdin", "line": 701, "error": message}
    assert out[701]["value"] == 702.0 * 702


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_program_points_with_huge_integers_are_their_records(bpcli, jobs):
    huge = "1" + "0" * 400
    result = bpcli(
        "batch",
        "--program",
        "x*2",
        "--jobs",
        jobs,
        input=f'x=1\nx={huge}\n{{"x": {huge}}}\n{{"x": [{huge}]}}\nx=3\n',
    )
    out = records(result.out)
    assert result.code == 1 and [r["line"] for r in out] == [1, 2, 3, 4, 5]
    assert out[1]["error"].startswith(f"in the binding x={huge[:20]}")
    assert out[2]["error"] == "the binding x is too large for a float"
    assert out[3]["error"] == "the binding x: a number in it is too large for a float"
    assert out[0]["value"] == 2.0 and out[4]["value"] == 6.0


def test_json_files_bound_in_records_cannot_stop_the_batch(bpcli, tmp_path):
    big = tmp_path / "big.json"
    big.write_text("[1" + "0" * 400 + "]", encoding="utf-8")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    lines = [json.dumps({"program": "sum(x)", "bindings": {"x": f"@{path}"}}) for path in (big, deep)]
    result = bpcli("batch", input="\n".join([GOOD.strip(), *lines, GOOD.strip()]) + "\n")
    out = records(result.out)
    # (the messages and the status are the bindings' business: only the records count here)
    assert [r["line"] for r in out] == [1, 2, 3, 4]
    assert "error" in out[1] and "error" in out[2]
    assert out[0]["value"] == out[3]["value"] == 2.0


def test_a_worker_that_dies_costs_only_its_own_line(bpcli, monkeypatch):
    real = batch_module.Solver.solve_line

    def solve_line(self, line):
        if "die" in line[2]:
            os._exit(9)
        return real(self, line)

    monkeypatch.setattr(batch_module.Solver, "solve_line", solve_line)
    lines = [f"x={i}; x*2" for i in range(1, 3001)]
    deadly = {1501, 2999}
    for number in deadly:
        lines[number - 1] = "die; x=1; x"
    result = bpcli("batch", "--jobs", "3", input="\n".join(lines) + "\n")
    out = records(result.out)
    assert result.code == 1
    assert [r["line"] for r in out] == list(range(1, 3001))
    for record in out:
        if record["line"] in deadly:
            assert record["error"].startswith("the worker process solving this problem died")
        else:
            assert record["value"] == 2.0 * record["line"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_line_that_is_not_utf8_is_one_error_record(bpcli, jobs):
    data = b"x=1; x*2\n" * 999 + b"x=1; x*\xff2\n" + b"x=1; x*2\n" * 1000
    result = bpcli("batch", "--jobs", jobs, input=data)
    out = records(result.out)
    assert result.code == 1 and len(out) == 2000
    assert out[999] == {
        "source": "stdin",
        "line": 1000,
        "error": "the line is not UTF-8 text: byte 8 of it is 0xff",
    }
    assert [r["line"] for r in out] == list(range(1, 2001))


def test_a_comment_that_is_not_utf8_is_still_a_comment(bpcli):
    result = bpcli("batch", input=b"# caf\xe9\nx=1; x\n")
    assert result.code == 0 and lines_of(result.out) == [2]


def test_a_bp_file_that_is_not_utf8_is_its_record(bpcli, tmp_path):
    bad = tmp_path / "bad.bp"
    bad.write_bytes(b"x = 1\nf = x*\xfe\n")
    good = tmp_path / "good.bp"
    good.write_text("x = 2\nf = x*3\n", encoding="utf-8")
    result = bpcli("batch", str(bad), str(good))
    first, second = records(result.out)
    assert result.code == 1
    assert first["error"] == "the file is not UTF-8 text: byte 13 of it is 0xfe"
    assert second["value"] == 6.0


def test_a_bound_array_goes_to_every_worker(bpcli):
    text = "".join(f"x={i}; sum(b*x)\n" for i in range(3000))
    one = bpcli("batch", "--bind", "b=[1,2]", input=text)
    two = bpcli("batch", "--bind", "b=[1,2]", "--jobs", "2", input=text)
    assert one.code == two.code == 0, two.err
    assert two.out == one.out and len(records(two.out)) == 3000


def test_a_negative_seed_is_a_bad_option(bpcli):
    result = bpcli("batch", "--seed", "-5", "--bind", "x=randn(2)", input="sum(x)\n")
    assert result.code == 2
    assert result.err.startswith("error: Invalid value for '--seed': -5 is not in the range x>=0.")


# --- lines end at \n only; a byte-order mark is skipped -------------------------------------


def test_a_bare_cr_does_not_split_a_line(bpcli):
    result = bpcli("batch", input=b"x=1;\rf = x*2\nx=3; x\r\n")
    first, second = records(result.out)
    assert result.code == 0 and first["value"] == 2.0 and second["line"] == 2


def test_a_bom_is_skipped_on_stdin_and_in_files(bpcli, tmp_path):
    bom = b"\xef\xbb\xbf"
    result = bpcli("batch", input=bom + GOOD.encode() + GOOD.encode())
    assert result.code == 0 and [r["value"] for r in records(result.out)] == [2.0, 2.0]
    path = tmp_path / "p.jsonl"
    path.write_bytes(bom + b'{"program":"x*3","bindings":{"x":1}}\r\n')
    result = bpcli("batch", str(path), str(path), "--jobs", "2")
    assert result.code == 0 and [r["value"] for r in records(result.out)] == [3.0, 3.0]


# --- bounded lines -------------------------------------------------------------------------


def test_a_line_too_long_is_one_error_record(bpcli, monkeypatch):
    monkeypatch.setattr(bpcli_limits(), "MAX_LINE_BYTES", 64)
    long = "x=1; " + "x+" * 100 + "x\n"
    result = bpcli("batch", input="x=1; x\n" + long + "# " + "c" * 200 + "\nx=2; x\n")
    first, bad, last = records(result.out)
    assert result.code == 1
    assert bad == {
        "source": "stdin",
        "line": 2,
        "error": "the line has 206 bytes: more than"
        " 64 bytes, the most bpcli reads as one line of batch input (see Limits"
        " in the README)",
    }
    assert first["value"] == 1.0 and last == {**last, "line": 4, "value": 2.0}


def bpcli_limits():
    return bpcli.limits


def test_a_line_of_17_mib_is_one_error_record(bpcli, tmp_path):
    path = tmp_path / "long.txt"
    with open(path, "wb") as handle:
        handle.write(b"x=1; x\n" + b"x" * (17 * 2**20) + b"\nx=2; x\n")
    result = bpcli("batch", str(path))
    out = records(result.out)
    assert result.code == 1 and [r["line"] for r in out] == [1, 2, 3]
    assert out[1]["error"].startswith(f"the line has {17 * 2**20:,} bytes: more than 16 MiB")


def test_an_endless_line_ends_the_input_after_the_records_before_it(bpcli, monkeypatch, tmp_path):
    monkeypatch.setattr(bpcli_limits(), "MAX_LINE_BYTES", 64)
    monkeypatch.setattr(bpcli_limits(), "MAX_TEXT_BYTES", 4096)
    monkeypatch.setattr("bpcli.streams.SKIP", 100)
    monkeypatch.setattr(workers, "SMALL_BYTES", 0)  # workers even for a small file
    path = tmp_path / "endless.txt"
    path.write_text("x=1; x\n" * 2500 + "y" * 5000, encoding="utf-8")
    for jobs in ("1", "2"):
        result = bpcli("batch", str(path), "--jobs", jobs)
        assert result.code == 2
        assert lines_of(result.out) == list(range(1, 2501))
        assert result.err == (
            f"error: cannot read {path}: line 2501 goes on for more than 4 KiB without a newline\n"
        )


def test_a_bp_file_too_large_is_its_record(bpcli, monkeypatch, tmp_path):
    monkeypatch.setattr(bpcli_limits(), "MAX_TEXT_BYTES", 100)
    big = tmp_path / "big.bp"
    big.write_text("x = 1\n" + "# a note\n" * 20 + "f = x*2\n", encoding="utf-8")
    result = bpcli("batch", str(big), "--jobs", "2")
    assert result.code == 1
    assert records(result.out) == [
        {
            "source": str(big),
            "line": 1,
            "error": "the file is larger"
            " than 100 bytes, the most bpcli reads as one program"
            " (see Limits in the README)",
        }
    ]


def run_shell(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", command], cwd=ROOT, capture_output=True, timeout=60)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_dev_zero_ends_promptly(jobs):
    done = run_shell(f'"{sys.executable}" -m bpcli batch samples/problems.txt /dev/zero --jobs {jobs}')
    assert done.returncode == 2
    assert len(done.stdout.splitlines()) == 6  # the records of the file before it
    assert done.stderr == (
        b"error: cannot read /dev/zero: line 1 goes on for more than 64 MiB without a newline\n"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell")
def test_batch_with_stdin_closed_is_bad_input():
    done = run_shell(f'"{sys.executable}" -m bpcli batch <&-')
    assert done.returncode == 2
    assert done.stderr == b"error: cannot read stdin: it is closed\n"


# --- one record per problem line, in order, the same bytes whatever --jobs ------------------

LIMIT = 120  # MAX_LINE_BYTES in the property test, so that huge lines are cheap

GOOD_LINES = st.sampled_from(
    [
        b"x=1; y=2; f = x*y",
        b"w0=2; x0=-1; f = 1/(1+exp(-(w0*x0)))",
        b"x=3; x*x",
        GOOD.strip().encode(),
        b'{"program": "sum(v*2)", "bindings": {"v": [1, 2]}, "id": "a"}',
        b"v=[1,2]; sum(v)",
        b"x=-2; y=5; z=-4; (x+y)*z",
        b"  x=0.5; tanh(x)  ",
    ]
)
BAD_LINES = st.sampled_from(
    [
        b"x=1; log(x-1)",
        b"(",
        b"y*2",
        b"{not json",
        b'{"program": 1}',
        HUGE_INT.strip().encode(),
        b'{"program":"x","bindings":{"x":' + b"[" * 3000 + b"]" * 3000 + b"}}",
        b"[1,2]+",
        b"x=1e400; x",
        b"x=1; x*\xff",
        b"\xc3(",
        b"\xed\xa0\x80 x",
    ]
)
OTHER_LINES = st.sampled_from([b"", b"   ", b"# a comment", b"\t# \xff not UTF-8", b"#" * 200])
HUGE_LINES = st.integers(LIMIT + 1, 3 * LIMIT).map(lambda n: b"x=1; " + b"x" * n)
CR_LINES = st.sampled_from([b"x=1;\rx*2", b"x=2; x\r", b"\r", b"x=1\r; x"])


@st.composite
def batch_inputs(draw):
    lines = draw(st.lists(st.one_of(GOOD_LINES, BAD_LINES, OTHER_LINES, HUGE_LINES, CR_LINES), max_size=30))
    data = b"".join(line + draw(st.sampled_from([b"\n", b"\r\n"])) for line in lines)
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if data and draw(st.booleans()):
        data = data.rstrip(b"\n")  # no newline at the end
    return data


def expected_lines(data: bytes) -> list[int]:
    """The numbers of the problem lines: not blank, not a comment (bytes, as bpcli reads)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    numbers = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        if number == len(data.split(b"\n")) and raw == b"":
            break
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            text = raw.strip().decode("utf-8", "replace")
        if text and not text.startswith("#"):
            numbers.append(number)
    return numbers


def check_batches(bpcli, data: bytes, jobs: list[str]) -> None:
    outputs = []
    for count in jobs:
        result = bpcli("batch", "--jobs", count, input=data)
        assert result.code in (0, 1), result.err
        assert lines_of(result.out) == expected_lines(data)
        outputs.append(result.out)
    assert all(out == outputs[0] for out in outputs)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch_inputs())
def test_one_record_per_problem_line_in_order_whatever_the_jobs(bpcli, monkeypatch, data):
    monkeypatch.setattr(bpcli_limits(), "MAX_LINE_BYTES", LIMIT)
    monkeypatch.setattr(workers, "CHUNK", 4)  # many runs of lines even in a short input
    check_batches(bpcli, data, ["1", "2", "3"])


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch_inputs())
def test_many_more_batch_inputs(bpcli, monkeypatch, data):
    monkeypatch.setattr(bpcli_limits(), "MAX_LINE_BYTES", LIMIT)
    monkeypatch.setattr(workers, "CHUNK", 3)
    check_batches(bpcli, data, ["1", "2", "3"])


def test_jobs_give_the_same_bytes_in_real_processes(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + b"".join(
            [b"x=%d; x*2\r\n" % i, b"x=1; x*\xff\n", b"# note\n", b"\n", HUGE_INT.encode(), b"x=1;\rx\n"][
                i % 6
            ]
            for i in range(6000)  # (more than the bytes --jobs solves with no worker)
        )
    )
    outs = []
    for jobs in ("1", "2", "3"):
        done = subprocess.run(
            [sys.executable, "-m", "bpcli", "batch", str(path), "--jobs", jobs],
            cwd=ROOT,
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 1
        outs.append(done.stdout)
    assert outs[0] == outs[1] == outs[2]
    assert lines_of(outs[0].decode()) == expected_lines(path.read_bytes())


def test_each_random_binding_of_a_problem_gets_its_own_draw_as_in_grad(bpcli):
    program = "sum(x*w)"
    want = json.loads(
        bpcli("grad", program, "x=randn(2)", "w=randn(2)", "--seed", "3", "--format", "json").out
    )
    for args, text in (
        (["--seed", "3"], '{"program": "sum(x*w)", "bindings": {"x": "randn(2)", "w": "randn(2)"}}\n' * 2),
        (["--seed", "3", "--program", program], "x=randn(2) w=randn(2)\n" * 2),
    ):
        for record in records(bpcli("batch", *args, input=text).out):
            assert record["grads"] == want["grads"]
            assert record["grads"]["x"] != record["grads"]["w"]


@pytest.mark.parametrize("ident", ["NaN", "Infinity", "-Infinity", "1e400", "[1, NaN]"])
def test_an_id_that_is_no_finite_json_number_is_an_error_record(bpcli, ident):
    lines = f'{{"program": "x*2", "bindings": {{"x": 1}}, "id": {ident}}}\n' * 4
    points = f'{{"x": 1, "id": {ident}}}\n' * 4
    for args, text in (([], lines), (["--program", "x*2"], points)):
        result = bpcli("batch", *args, input=text)

        def strict(token):
            raise AssertionError(f"{token} written into JSON")

        parsed = [json.loads(line, parse_constant=strict) for line in result.out.splitlines()]
        assert [r["line"] for r in parsed] == [1, 2, 3, 4]
        assert all("error" in r for r in records(result.out)) and result.code == 1


def test_a_big_array_in_csv_is_one_summary_row_unless_full(bpcli):
    text = '{"program": "sum(x*2)", "bindings": {"x": "ones(400,300)"}}\n'
    rows = bpcli("batch", "--format", "csv", input=text).out.splitlines()
    assert len(rows) == 2 and '""elided"": true' in rows[1] and '""shape"": [400, 300]' in rows[1]
    rows = bpcli("batch", "--format", "csv", "--full", input=text).out.splitlines()
    assert len(rows) == 1 + 120_000 and rows[-1].endswith(',"x[399,299]",2.0,')


def test_only_ascii_white_space_makes_a_line_blank(bpcli):
    text = "x=1; f=x\n\x1c\n\u0085\n\u2028\n\x0c\n \t\r\n\x1c# not a comment\n"
    result = bpcli("batch", input=text)
    out = [json.loads(line) for line in result.out.split("\n") if line]
    assert [r["line"] for r in out] == [1, 2, 3, 4, 7]
    assert all("syntax error" in r["error"] for r in out[1:])
    assert not any(c in result.out for c in "\x1c\u0085\u2028")  # shown as ?, not as such


def test_the_summary_counts_every_failure_and_names_the_first_five(bpcli):
    result = bpcli("batch", input="x=0; log(x)\n" * 7)
    assert result.err == (
        "bpcli batch: 7 of 7 problems failed (stdin:1, stdin:2, stdin:3, stdin:4, stdin:5, …)\n"
    )


def test_a_record_says_what_it_holds_and_nothing_is_ignored(bpcli):
    text = (
        '{"program": "x-y", "bindings": {"x": 2, "y": 1}}\n'
        '{"bindings": {"x": 2}, "y": 1}\n'
        '{"bindings": {"x": 2, "y": 3}}\n'
        '{"x": 2, "y": 4}\n'
    )
    out = records(bpcli("batch", "--program", "x*y", input=text).out)
    assert out[0]["error"].startswith('the record has a "program" of its own, and --program')
    assert out[1]["error"].startswith("the record has a key 'y': a record holds")
    assert [r.get("value") for r in out] == [None, None, 6.0, 8.0]
    out = records(bpcli("batch", input='{"program": "x*2", "x": 1}\n').out)
    assert out[0]["error"].startswith("the record has a key 'x': a record holds")


def test_a_text_point_keeps_its_arrays_whole(bpcli):
    result = bpcli("batch", "--program", "sum(x*y)", input="x=[1, 1] y=2\nx=[1, 2]; y=3\n")
    assert [r["value"] for r in records(result.out)] == [4.0, 9.0]
