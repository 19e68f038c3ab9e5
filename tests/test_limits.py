"""The limits on what bpcli reads and computes (issue 13, defects 6, 7 and 8): every array a
node would make is sized from its inputs' shapes before it is made; binding files are bounded
and strict; JSON summarises big arrays unless --full; and the bombs of the issue end with
`error:` and exit 2 under a memory limit."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import numpy as np
import pytest

from bpcli.core.ops import OPS
from bpcli.limits import JSON_ELEMENTS, MAX_DIMENSIONS, MAX_TEXT_BYTES

from conftest import ROOT

# --- every node is sized before it is computed ---------------------------------------------

SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1)]


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.arity != 0))
def test_every_op_knows_the_shape_of_its_result_from_its_inputs_shapes(name):
    """For every op and every combination of sample shapes its forward accepts, the shape
    rule gives the shape the forward makes, and it refuses what the forward refuses."""
    from bpcli.core.ops import ShapeMismatch

    op = OPS[name]
    assert op.shape is not None, f"{name} has no shape rule"
    rng = np.random.default_rng(0)
    arity = op.arity if op.arity > 0 else 3
    combos = (
        [[s] for s in SHAPES]
        if arity == 1
        else [[a, b] + ([c] if arity == 3 else []) for a in SHAPES for b in SHAPES for c in SHAPES[:2]]
    )
    for shapes in combos:
        if op.scalar is not None and not any(shapes):
            continue  # floats take the op's scalar form, which makes a float
        values = [rng.uniform(0.5, 2, s) if s else float(rng.uniform(0.5, 2)) for s in shapes]
        try:
            made = op.array(*values)
        except (ShapeMismatch, ValueError):
            with pytest.raises((ShapeMismatch, ValueError)):
                op.shape(shapes)
            continue
        assert op.shape(shapes) == np.shape(made), (name, shapes)


TOO_BIG = """\
error: x + y (node #2) is too big to compute: it would have shape (2, 3), 6 elements, more than \
the limit of 5 elements an array may have
  line 1, column 5:
    sum(x + y)
        ^
--max-elements 6 raises the limit, if this machine has the memory (48 bytes for each such array)
"""


def test_a_broadcast_too_big_is_refused_before_it_is_made(bpcli):
    args = ("grad", "sum(x + y)", "x=[1, 2, 3]", "y=[[1], [2]]")
    result = bpcli(*args, "--max-elements", "5")
    assert (result.code, result.out, result.err) == (2, "", TOO_BIG)
    assert bpcli(*args, "--max-elements", "6").code == 0


def test_a_matmul_outer_product_too_big_is_refused(bpcli):
    result = bpcli("grad", "sum(x @ y)", "x=ones(3,1)", "y=ones(1,3)", "--max-elements", "8")
    assert result.code == 2
    assert result.err.startswith(
        "error: x @ y (node #2) is too big to compute: it would have"
        " shape (3, 3), 9 elements, more than the limit of 8 elements"
    )


def test_an_array_of_arrays_too_big_is_refused(bpcli):
    result = bpcli("grad", "sum([x, x, x])", "x=ones(2)", "--max-elements", "5")
    assert result.code == 2
    assert result.err.startswith(
        "error: [x, x, x] (node #1) is too big to compute: it would have shape (3, 2), 6 elements"
    )


def test_bindings_are_held_to_max_elements(bpcli):
    result = bpcli("grad", "sum(x)", "x=randn(3,3)", "--max-elements", "8")
    assert result.code == 2
    assert result.err == (
        "error: in the binding x=randn(3,3): the array is too big: it would have shape (3, 3),"
        " 9 elements, more than the limit of 8 elements an array may have\n--max-elements 9"
        " raises the limit, if this machine has the memory (72 bytes for each such array)\n"
    )
    result = bpcli("grad", "sum(x)", "x=[[1,2,3],[4,5,6],[7,8,9]]", "--max-elements", "8")
    assert result.code == 2 and "the array literal here is too big" in result.err
    assert bpcli("grad", "sum(x)", "x=randn(3,3)", "--max-elements", "9").code == 0


def test_the_default_limit_refuses_the_bombs_of_the_issue_at_once(bpcli):
    result = bpcli("grad", "sum(x + y)", "x=randn(10000,1)", "y=randn(1,10000)")
    assert result.code == 2
    assert result.err.startswith(
        "error: x + y (node #2) is too big to compute: it would have"
        " shape (10000, 10000), 100,000,000 elements, more than the"
        " limit of 50,000,000 elements an array may have\n"
    )
    assert "--max-elements 100000000 raises the limit" in result.err
    result = bpcli("grad", "sum(x)", "x=randn(100000,1000)")
    assert result.code == 2 and "100,000,000 elements" in result.err


def test_check_and_batch_take_max_elements(bpcli):
    result = bpcli("check", "sum(x + y)", "x=[1, 2, 3]", "y=[[1], [2]]", "-e", "dx=1", "--max-elements", "5")
    assert result.code == 2 and "x + y (node #2) is too big to compute" in result.err
    lines = (
        '{"program": "sum(x + y)", "bindings": {"x": [1, 2, 3], "y": [[1], [2]]}}\n'
        '{"program": "sum(x)", "bindings": {"x": [1, 2, 3, 4, 5, 6]}}\n'
        '{"program": "x*2", "bindings": {"x": 1}}\n'
    )
    result = bpcli("batch", "--max-elements", "5", input=lines)
    assert result.code == 1
    records = [json.loads(line) for line in result.out.splitlines()]
    assert len(records) == 3
    assert "x + y (node #2) is too big to compute" in records[0]["error"]
    assert "the binding x: the array is too big" in records[1]["error"]
    assert records[2]["value"] == 2.0
    assert bpcli("batch", "--max-elements", "6", input=lines).code == 0


# --- dimensions ------------------------------------------------------------------------------


def test_an_array_literal_nested_65_deep_is_refused_with_a_caret(bpcli):
    program = "sum(" + "[" * 65 + "1" + "]" * 65 + ")"
    result = bpcli("grad", program)
    assert result.code == 2
    first, where, line, caret = result.err.splitlines()
    assert first == (
        "error: the array literal here is nested 33 levels deep: an array may have"
        f" at most {MAX_DIMENSIONS} dimensions"
    )
    assert where == "  line 1, column 37:"
    assert len(line) <= 80 and line.startswith("    …[[[")  # a window of the line, at 80 columns
    assert line[caret.index("^")] == "["
    result = bpcli("batch", input=program.replace("sum", "f = sum") + "\nf = 2*3\n")
    assert result.code == 1
    assert "nested 33 levels deep" in json.loads(result.out.splitlines()[0])["error"]
    assert json.loads(result.out.splitlines()[1])["value"] == 6.0


def test_no_array_has_more_than_32_dimensions_from_any_source(bpcli, tmp_path):
    shape = ",".join(["1"] * 33)
    result = bpcli("grad", "sum(x)", f"x=zeros({shape})")
    assert result.code == 2
    assert result.err == (
        f"error: in the binding x=zeros({shape}): the array is too big: it"
        " would have 33 dimensions, more than the 32 an array may have\n"
    )
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((1,) * 33))
    result = bpcli("grad", "sum(x)", f"x=@{path}")
    assert result.code == 2 and "33 dimensions, more than the 32" in result.err
    deep = tmp_path / "x.json"
    deep.write_text("[" * 33 + "1" + "]" * 33)
    result = bpcli("grad", "sum(x)", f"x=@{deep}")
    assert result.code == 2 and "33 dimensions, more than the 32" in result.err
    deep.write_text("[" * 100 + "1" + "]" * 100)
    result = bpcli("grad", "sum(x)", f"x=@{deep}")
    assert result.code == 2 and "nested more than 32 levels deep" in result.err
    # an array of arrays: one more dimension than its elements
    x = ",".join(["1"] * 32)
    result = bpcli("grad", "sum([x])", f"x=zeros({x})")
    assert result.code == 2
    assert result.err.startswith("error: [x] (node #1) is too big to compute: it would have 33 dimensions")


# --- empty arrays: refused where they come in ----------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "steps", "tree", "dot", "markdown", "latex", "csv", "json"])
def test_an_empty_array_is_refused_in_every_format(bpcli, fmt):
    result = bpcli("grad", "sum(x)", "x=zeros(3,0,2)", "--format", fmt)
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "error: in the binding x=zeros(3,0,2): the array has no elements (its"
        " shape is (3, 0, 2)): bpcli needs at least one\n"
    )


def test_an_empty_array_is_refused_from_files_and_records(bpcli, tmp_path):
    for name, text in (
        ("x.csv", ""),
        ("y.txt", "# only a comment\n"),
        ("z.json", "[]"),
        ("w.json", "[[], []]"),
    ):
        (tmp_path / name).write_text(text)
        result = bpcli("grad", "sum(x)", f"x=@{tmp_path / name}")
        assert result.code == 2, name
        assert result.err.startswith(f"error: in the binding x=@{tmp_path / name}: "), name
        assert "Warning" not in result.err
    assert bpcli("grad", "sum(x)", f"x=@{tmp_path / 'x.csv'}").err.endswith("the file holds no numbers\n")
    result = bpcli("batch", input='{"program": "sum(x)", "bindings": {"x": []}}\n')
    assert result.code == 1 and "the array has no elements" in result.out


# --- binding files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, found",
    [
        ('["1.5", 2]', "the string '1.5'"),
        ("[true, false]", "the value true"),
        ("[1, null]", "the value null"),
        ('{"x": [1, 2]}', "an object"),
        ('[[1, 2], [3, "4"]]', "the string '4'"),
        ('"2"', "the string '2'"),
    ],
)
def test_a_json_binding_holds_numbers_only(bpcli, tmp_path, text, found):
    path = tmp_path / "x.json"
    path.write_text(text)
    result = bpcli("grad", "sum(x)", f"x=@{path}")
    assert result.code == 2
    assert result.err == (
        f"error: in the binding x=@{path}: not a numeric array (it holds"
        f" {found}; a .json binding holds a number or nested arrays of"
        " numbers only)\n"
    )


def test_a_json_binding_nested_deep_or_huge_is_bad_input(bpcli, tmp_path):
    path = tmp_path / "x.json"
    for text, message in (
        ("[" * 100_000 + "1" + "]" * 100_000, "nested more than 32 levels"),
        ("[" * 100_000, "nested more than 32 levels"),
        ("[1" + "0" * 400 + ", 2]", "too large for a float"),
        ("[1e400, 2]", "must be finite"),
        ("[NaN]", "NaN is not a finite number"),
        ("[[1, 2], [3]]", "not a numeric array"),
        ("[1, 2", "not a numeric array"),
    ):
        path.write_text(text)
        result = bpcli("grad", "sum(x)", f"x=@{path}")
        assert result.code == 2 and message in result.err, (text[:20], result.err)
    path.write_text("[[1, 2], [3, 4.5]]")
    assert json.loads(bpcli("grad", "sum(x)", f"x=@{path}", "--format", "json").out)["value"] == 10.5


def test_binding_files_must_be_regular_files(bpcli, tmp_path):
    """A FIFO (or a device) ends at once with error: (exit 2): opened and read, it could
    block or go on for ever."""
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "bpcli", "grad", "sum(x)", f"x=@{fifo}"],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.decode() == (
        f"error: in the binding x=@{fifo}: not a regular file (a"
        " device, a pipe or a socket); bpcli reads bindings from"
        " files only\n"
    )
    result = bpcli("grad", "sum(x)", "x=@/dev/null.npy")
    assert (result.code, result.err) == (2, "error: in the binding x=@/dev/null.npy: no such file\n")


def test_text_binding_files_are_bounded(bpcli, tmp_path):
    big = tmp_path / "x.csv"
    with open(big, "wb") as handle:
        handle.truncate(MAX_TEXT_BYTES + 1)  # sparse: no disk used
    result = bpcli("grad", "sum(x)", f"x=@{big}")
    assert result.code == 2
    assert result.err == (
        f"error: cannot read x=@{big}: it is larger than 64 MiB, the most"
        " bpcli reads as one text (see Limits in the README)\n"
    )


def test_a_npy_is_sized_from_its_header_before_it_is_loaded(bpcli, tmp_path):
    """A header that promises 10⁸ floats is refused before anything is mapped or read, and
    before the file is found to be far too short."""
    from numpy.lib import format as npy

    path = tmp_path / "W.npy"
    with open(path, "wb") as handle:
        npy.write_array_header_1_0(handle, {"descr": "<f8", "fortran_order": False, "shape": (100_000, 1000)})
    result = bpcli("grad", "sum(W)", f"W=@{path}")
    assert result.code == 2
    assert result.err.startswith(
        f"error: in the binding W=@{path}: the array is too big: it"
        " would have shape (100000, 1000), 100,000,000 elements"
    )
    with open(path, "wb") as handle:
        npy.write_array_header_1_0(handle, {"descr": "|O", "fortran_order": False, "shape": (3,)})
    result = bpcli("grad", "sum(W)", f"W=@{path}")
    assert result.code == 2 and "Python objects (pickles)" in result.err


def test_odd_binding_files(bpcli, tmp_path):
    """A byte order mark is skipped; a .npy of version 3.0 (structured types only) or of an
    impossible shape is refused."""
    (tmp_path / "x.csv").write_bytes(b"\xef\xbb\xbf1,2\n3,4\n")
    (tmp_path / "x.json").write_bytes(b"\xef\xbb\xbf[1, 2]")
    assert "sum(x) = 10\n" in bpcli("grad", "sum(x)", f"x=@{tmp_path / 'x.csv'}").out
    assert "∂f/∂x = [1, 1]" in bpcli("grad", "sum(x)", f"x=@{tmp_path / 'x.json'}").out
    path = tmp_path / "x.npy"
    path.write_bytes(b"\x93NUMPY\x03\x00" + (20).to_bytes(4, "little") + b"{'descr': '<f8'}   \n")
    result = bpcli("grad", "sum(x)", f"x=@{path}")
    assert result.err == (
        f"error: in the binding x=@{path}: not a numeric array (a .npy file of"
        " version 3.0, which holds no plain numbers)\n"
    )


# --- JSON: big arrays summarised, or streamed with --full ---------------------------------


@pytest.mark.parametrize("shape", [(7,), (3, 5), (5, 3), (2, 3, 4), (1, 1, 9), (4, 1, 1, 3), (1,), ()])
@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 100])
def test_array_pieces_join_to_the_json_of_the_whole_array(shape, chunk):
    from bpcli.present.jsonout import array_pieces

    array = np.arange(int(np.prod(shape)), dtype=float).reshape(shape) / 7
    for separators in ((", ", ": "), (",", ":")):
        assert "".join(array_pieces(array, separators, chunk)) == json.dumps(
            array.tolist(), separators=separators
        )


def test_json_summarises_an_array_over_the_threshold(bpcli, monkeypatch):
    monkeypatch.setattr("bpcli.present.jsonout.JSON_ELEMENTS", 10)
    n = 11
    result = bpcli("grad", "sum(x*x)", f"x=ones({n})", "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["grads"]["x"] == {
        "shape": [n],
        "elided": True,
        "summary": {"min": 2.0, "max": 2.0, "mean": 2.0, "norm": pytest.approx(2 * n**0.5)},
    }
    assert doc["nodes"][0]["value"]["summary"]["norm"] == pytest.approx(n**0.5)
    full = bpcli("grad", "sum(x*x)", f"x=ones({n})", "--format", "json", "--full")
    assert full.code == 0
    assert json.loads(full.out)["grads"]["x"] == [2.0] * n
    small = bpcli("grad", "sum(x*x)", "x=ones(10)", "--format", "json")
    assert json.loads(small.out)["grads"]["x"] == [2.0] * 10


def test_the_json_threshold_is_the_documented_one():
    from bpcli.present import jsonout

    assert jsonout.JSON_ELEMENTS == JSON_ELEMENTS == 100_000
    assert "100,000" in (ROOT / "docs" / "formats.md").read_text()
    assert "100,000" in (ROOT / "docs" / "limits.md").read_text()
    assert "100,000" in (ROOT / "README.md").read_text()


def test_batch_json_lines_summarise_big_arrays_unless_full(bpcli, monkeypatch):
    monkeypatch.setattr("bpcli.present.jsonout.JSON_ELEMENTS", 10)
    line = '{"program": "sum(x)", "bindings": {"x": "ones(3,4)"}}\n'
    record = json.loads(bpcli("batch", input=line).out)
    assert record["grads"]["x"]["elided"] is True and record["grads"]["x"]["shape"] == [3, 4]
    record = json.loads(bpcli("batch", "--full", input=line).out)
    assert record["grads"]["x"] == [[1.0] * 4] * 3


def test_a_summary_never_holds_inf_or_nan(bpcli):
    from bpcli.present.jsonout import dumps

    big = np.full(JSON_ELEMENTS + 1, 1e308)
    text = dumps({"x": big})
    assert json.loads(text) == {
        "x": {
            "shape": [JSON_ELEMENTS + 1],
            "elided": True,
            "summary": {"min": 1e308, "max": 1e308, "mean": pytest.approx(1e308), "norm": None},
        }
    }


# --- memory bombs, under a memory limit ------------------------------------------------------

LIMIT = 1024 * 2**20  # address space: plenty for bpcli and numpy, too little for any bomb


def bounded(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """bpcli ARGS in a process whose address space is limited to LIMIT."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "bpcli", *args],
        cwd=ROOT,
        env=env,
        preexec_fn=limit,
        capture_output=True,
        timeout=timeout,
    )


def test_an_ordinary_run_fits_the_memory_limit():
    done = bounded("grad", "sum(tanh(W@x))", "W=randn(300,300)", "x=randn(300)")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (("sum(x + y)", "x=randn(10000,1)", "y=randn(1,10000)"), "error: x + y (node #2) is too big"),
        (("sum(x @ y)", "x=randn(20000,1)", "y=randn(1,20000)"), "error: x @ y (node #2) is too big"),
        (
            ("sum(x)", "x=randn(20000,20000)"),
            "error: in the binding x=randn(20000,20000): the array is too big",
        ),
        (
            ("sum(x*x*x*x*x*x*x*x*x*x)", "x=randn(6000,6000)"),  # each array fits; all of them don't
            "error: x*x*x (node #2) is too big to compute: the program's arrays would hold 108,000,000"
            " elements together, more than 2 × --max-elements (100,000,000)",
        ),
    ],
)
def test_memory_bombs_end_with_an_error(args, message):
    done = bounded("grad", *args)
    assert done.returncode == 2
    assert done.stderr.decode().startswith(message)


def test_a_binding_linked_to_dev_zero_ends_with_an_error(tmp_path):
    for suffix in (".csv", ".npy"):
        link = tmp_path / f"x{suffix}"
        link.symlink_to("/dev/zero")
        done = bounded("grad", "sum(x)", f"x=@{link}", timeout=30)
        assert done.returncode == 2
        assert done.stderr.decode().startswith(f"error: in the binding x=@{link}: not a regular")


def test_a_2_gb_npy_to_json_ends_with_an_error(tmp_path):
    """The issue's 2 GB .npy: refused from its header, at once."""
    from numpy.lib import format as npy

    path = tmp_path / "big.npy"
    with open(path, "wb") as handle:
        npy.write_array_header_1_0(handle, {"descr": "<f8", "fortran_order": False, "shape": (250_000_000,)})
        handle.truncate(handle.tell() + 8 * 250_000_000)  # sparse
    done = bounded("grad", "sum(x)", f"x=@{path}", "--format", "json")
    assert done.returncode == 2
    assert done.stderr.decode().startswith(
        f"error: in the binding x=@{path}: the array is too big: it would have shape (250000000,)"
    )


@pytest.mark.slow
def test_a_big_npy_in_json_is_summarised_within_the_memory_limit(tmp_path):
    """20 million floats (160 MB): as nested lists and text they would need gigabytes."""
    path = tmp_path / "big.npy"
    with open(path, "wb") as handle:
        from numpy.lib import format as npy

        npy.write_array_header_1_0(handle, {"descr": "<f8", "fortran_order": False, "shape": (20_000_000,)})
        handle.truncate(handle.tell() + 8 * 20_000_000)
    done = bounded("grad", "sum(x)", f"x=@{path}", "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["grads"]["x"] == {
        "shape": [20_000_000],
        "elided": True,
        "summary": {"min": 1.0, "max": 1.0, "mean": 1.0, "norm": pytest.approx(20_000_000**0.5)},
    }


@pytest.mark.slow
def test_full_json_of_a_big_array_is_streamed_within_the_memory_limit(tmp_path):
    path = tmp_path / "big.npy"
    np.save(path, np.zeros(12_000_000))
    done = bounded(
        "grad", "sum(x)", f"x=@{path}", "--format", "json", "--full", "-o", os.devnull, timeout=300
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("value", [0.1, 0.7, 3.3, -1e-300, 1.0])
@pytest.mark.parametrize("chunk", [1, 3, 65_536])
def test_a_summary_mean_stays_between_min_and_max(monkeypatch, value, chunk):
    from bpcli.present import jsonout

    monkeypatch.setattr(jsonout, "CHUNK", chunk)  # as if the array were millions of elements
    for n in (3, 6, 7, 11, 1001):
        found = jsonout.summary(np.full(n, value))["summary"]
        assert found["min"] <= found["mean"] <= found["max"], (n, found)
    # a mixed array: exact to the last bit, where the chunks' sums are exact
    found = jsonout.summary(np.array([1e308, -1e308, 1e308, 3.0]))["summary"]
    assert found["mean"] == pytest.approx(2.5e307)


def test_the_arrays_of_a_program_are_bounded_together(bpcli):
    args = ("sum(x*x*x)", "x=randn(1000,2000)", "--max-elements", "2000000")
    result = bpcli("grad", *args)
    assert result.code == 2
    assert result.err.startswith(
        "error: x*x*x (node #2) is too big to compute: the program's"
        " arrays would hold 6,000,000 elements together, more than"
        " 2 × --max-elements (4,000,000)"
    )
    assert "--max-elements 3000000 raises the limit" in result.err
    assert bpcli("grad", *args[:2], "--max-elements", "3000000").code == 0
