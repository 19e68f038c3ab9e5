"""`bpcli batch`: streams of problems, one record each, in order, nothing lost."""

from __future__ import annotations

import json
import os
import random
import sys

import pytest

from bpcli.batch.solve import Options, Problem, Solver

from conftest import SAMPLES

NEURON = "w0={}; x0={}; w1={}; x1={}; w2={}; f = 1/(1+exp(-(w0*x0+w1*x1+w2)))"


def records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def generated(count: int, bad_line: int | None = None) -> str:
    rng = random.Random(5)
    lines = []
    for i in range(1, count + 1):
        if i == bad_line:
            lines.append("w0=2; f = (w0 +* 3")
        else:
            lines.append(NEURON.format(*(round(rng.uniform(-3, 3), 3) for _ in range(5))))
    return "\n".join(lines) + "\n"


def test_text_problems_one_record_each(bpcli):
    result = bpcli("batch", "-", input="x=-2; y=5; z=-4; f=(x+y)*z\n# a comment\n\nx=3; x*x\n")
    assert result.code == 0
    first, second = records(result.out)
    assert first == {
        "source": "stdin",
        "line": 1,
        "output": "f",
        "value": -12.0,
        "grads": {"x": -4.0, "y": -4.0, "z": 3.0, "f": 1.0},
        "warnings": [],
    }
    assert second["line"] == 4 and second["grads"] == {"x": 6.0}


def test_10000_problems_with_one_malformed_line(bpcli, tmp_path):
    path = tmp_path / "problems.txt"
    path.write_text(generated(10_000, bad_line=5_000), encoding="utf-8")
    result = bpcli("batch", str(path))
    assert result.code == 1
    out = records(result.out)
    assert len(out) == 10_000
    errors = [r for r in out if "error" in r]
    assert len(errors) == 1 and errors[0]["line"] == 5_000
    assert errors[0]["error"].startswith("syntax error")
    assert [r["line"] for r in out] == list(range(1, 10_001))
    assert "1 of 10000 problems failed" in result.err
    # the rest are right: spot-check against grad
    rng = random.Random(0)
    for record in rng.sample([r for r in out if "error" not in r], 20):
        line = path.read_text().splitlines()[record["line"] - 1]
        single = json.loads(bpcli("grad", line, "--format", "json").out)
        assert record["grads"] == single["grads"] and record["value"] == single["value"]


def test_jobs_keep_the_input_order(bpcli, tmp_path, monkeypatch):
    from bpcli.batch import workers

    monkeypatch.setattr(workers, "SMALL_BYTES", 0)  # workers even for a small file
    path = tmp_path / "problems.txt"
    path.write_text(generated(1_500, bad_line=700), encoding="utf-8")
    one = bpcli("batch", str(path))
    two = bpcli("batch", str(path), "--jobs", "2")
    assert two.code == one.code == 1
    assert two.out == one.out


@pytest.mark.parametrize(
    "program, reason",
    [
        ("x=1000; exp(x)", "overflow"),
        ("x=1; log(x-1)", "log of a non-positive number"),
        ("x=0; 1/x", "division by zero"),
        ("x=-8; x^(1/3)", "negative base"),
        ("sum([1,2] @ [1,2,3])", "inner sizes differ"),
        ("y*2", "no value for y"),
    ],
)
def test_overflow_and_domain_errors_become_error_records(bpcli, program, reason):
    result = bpcli("batch", "-", input=f"x=1; x*2\n{program}\nx=2; x*3\n")
    assert result.code == 1
    good, bad, last = records(result.out)
    assert reason in bad["error"] and bad["line"] == 2
    assert good["value"] == 2.0 and last["value"] == 6.0


def test_jsonl_records(bpcli, tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"program": "(x+y)*z", "bindings": {"x": -2, "y": 5, "z": -4}, "id": "p1"}),
                json.dumps({"program": "sum(W@x)", "bindings": {"W": [[1, 2], [3, 4]], "x": [1, 1]}}),
                json.dumps({"program": "x*2", "bindings": {"x": "nope"}, "id": 3}),
                json.dumps({"bindings": {"x": 1}}),
                '{"program": "x", "bindings": [1, 2]}',
                "{not json",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = bpcli("batch", str(path))
    out = records(result.out)
    assert result.code == 1 and len(out) == 6
    assert out[0]["id"] == "p1" and out[0]["grads"] == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert out[1]["grads"]["W"] == [[1.0, 1.0], [1.0, 1.0]] and out[1]["grads"]["x"] == [4.0, 6.0]
    assert out[2]["id"] == 3 and "x=nope" in out[2]["error"]
    assert 'no "program"' in out[3]["error"]
    assert "must be an object" in out[4]["error"]
    assert "not a JSON object" in out[5]["error"]


def test_one_program_at_many_points(bpcli, tmp_path):
    points = tmp_path / "points.jsonl"
    points.write_text('{"w0": 1, "x0": 2}\n{"bindings": {"w0": 3}, "id": "b"}\nw0=0 x0=0\n', encoding="utf-8")
    result = bpcli("batch", str(points), "--program", str(SAMPLES / "neuron.bp"))
    assert result.code == 0, result.err
    out = records(result.out)
    for record, bindings in zip(out, [{"w0": 1, "x0": 2}, {"w0": 3}, {"w0": 0, "x0": 0}], strict=True):
        args = [f"{k}={v}" for k, v in bindings.items()]
        single = json.loads(bpcli("grad", str(SAMPLES / "neuron.bp"), *args, "--format", "json").out)
        assert record["grads"] == single["grads"] and record["value"] == single["value"]
    assert out[1]["id"] == "b"


def test_reused_program_graph_gives_fresh_warnings_each_time():
    solver = Solver(Options(program="relu(x)"))
    texts = [
        solver.solve(Problem("s", i, None, binding_text=f"x={v}")).text for i, v in enumerate([0, 1, 0, 2])
    ]
    warnings = [json.loads(t)["warnings"] for t in texts]
    assert [bool(w) for w in warnings] == [True, False, True, False]


def test_common_bindings(bpcli):
    result = bpcli("batch", "-", "--bind", "y=10", "--at", "z=2 w=1", input="x=1; x*y*z\nx=2; y=3; x*y\n")
    first, second = records(result.out)
    assert first["value"] == 20.0 and first["warnings"] == []  # w is unused: no warning
    assert second["value"] == 20.0  # like grad's bindings, --bind overrides `y = 3`


def test_bp_files_are_one_problem_each(bpcli):
    result = bpcli("batch", str(SAMPLES / "simple.bp"), str(SAMPLES / "neuron.bp"))
    first, second = records(result.out)
    assert first["value"] == -12.0 and second["grads"]["x0"] == pytest.approx(0.3932, abs=1e-4)


def test_csv(bpcli):
    result = bpcli("batch", "-", "--format", "csv", input="x=2; y=[1, 2]; sum(x*y)\n(\n")
    lines = result.out.splitlines()
    assert lines[0] == "source,line,id,output,value,name,gradient,error"
    assert lines[1:4] == [
        "stdin,1,,sum(x*y),6.0,x,3.0,",
        "stdin,1,,sum(x*y),6.0,y[0],2.0,",
        "stdin,1,,sum(x*y),6.0,y[1],2.0,",
    ]
    assert lines[4].startswith("stdin,2,,,,,,")
    assert result.code == 1


def test_table(bpcli):
    result = bpcli("batch", "-", "--format", "table", input="x=3; x*x\nx=\n")
    assert "── stdin:1 ──" in result.out and "∂f/∂x = 6" in result.out
    assert "── stdin:2 ──\nerror: syntax error" in result.out


def test_nodes_option(bpcli):
    plain = records(bpcli("batch", "-", input="x=3; x*x\n").out)[0]
    full = records(bpcli("batch", "-", "--nodes", input="x=3; x*x\n").out)[0]
    assert "nodes" not in plain and [n["op"] for n in full["nodes"]] == ["input", "mul"]


@pytest.mark.parametrize(
    "args, needle",
    [
        (["nope.txt"], "no such file"),
        (["."], "directory"),
        (["--bind", "x"], "has no value"),
        (["--jobs", "0"], "--jobs"),
    ],
)
def test_unusable_arguments_exit_2(bpcli, args, needle):
    result = bpcli("batch", *args, input="x=1; x\n")
    assert result.code == 2 and result.err.startswith("error: ") and needle in result.err


def test_binary_junk_is_one_error_record(bpcli):
    result = bpcli("batch", "-", input=b"x=1; x\n\xff\xfe\nx=2; x\n")
    assert result.code == 1
    first, bad, last = records(result.out)
    assert bad == {"source": "stdin", "line": 2, "error": "the line is not UTF-8 text: byte 1 of it is 0xff"}
    assert first["value"] == 1.0 and last["value"] == 2.0


# --- programs that differ only in their numbers share one graph ------------------------------

REUSE_LINES = [
    "w0=2; x0=-1; w1=-3; x1=-2; w2=-3; f = 1/(1+exp(-(w0*x0+w1*x1+w2)))",
    "w0=0.5; x0=-1e-3; w1=-3.25; x1=-2; w2=-7; f = 1/(1+exp(-(w0*x0+w1*x1+w2)))",
    "x=-2; y=5; z=-4; (x+y)*z",
    "x=3; y=50; z=0.25; (x+y)*z",  # unnamed output: its text has this line's numbers
    "x=1; y=2; z=3; (x+y)*z # 7 in a comment",
    "x=2.5; y=2; z=3; (x+y)*z # 8 in a comment",
    "x=.5; y=-.25; relu(x-0.5) + max(y, -0.25)",  # kinks: warnings name this line's nodes
    "x=1; y=2; relu(x-0.5) + max(y, -0.25)",
    "a=2; b=3; c=a*b; c += 2.5; c*a",
    "a=4; b=0; c=a*b; c += 1.5; c*a",
    "x=1; log(x-1)",  # an error: from a fresh parse, with its own position
    "x=3; log(x-1)",
    "x=1; log(x - 1)",
    "x=1; 3×x − 1",  # typos as written: the output text keeps them
    "x=2; 3*x - 1",
    "x=3; 3×x − 1",
    "a=1; b=2; a*b",
    "a=1e400; b=2; a*b",  # a number too large for a float: the fresh parse's error, reused or not
    "a=3; b=1e999; a",
    "x = 2; x*1e400",  # overflow in a literal
    "v=[1, 2]; sum(v*3)",  # numbers in an array literal are not reused
    "v=[4, 5]; sum(v*3)",
]


def test_reused_graphs_give_what_fresh_ones_give(bpcli):
    from bpcli.core.engine import run
    from bpcli.language.parse import parse
    from bpcli.present.jsonout import grad_document

    result = bpcli("batch", "-", input="\n".join(REUSE_LINES * 2) + "\n")
    records = records_of(result.out)
    assert len(records) == 2 * len(REUSE_LINES)
    for record, line in zip(records, REUSE_LINES * 2, strict=True):
        try:
            fresh = grad_document(run(parse(line)), nodes=False)
        except Exception as err:
            assert record["error"] == str(err), line
            continue
        assert {k: record[k] for k in fresh} == fresh, line


def records_of(text):
    return [json.loads(line) for line in text.splitlines()]


def test_a_shape_seen_again_keeps_its_graph_for_the_lines_after():
    solver = Solver(Options())
    solver.solve(Problem("s", 1, REUSE_LINES[1]))
    assert not solver.programs.templates  # a program seen once: most are never seen again
    first = solver.solve(Problem("s", 2, REUSE_LINES[0]))
    kept = [t for t in solver.programs.templates.values() if t is not None]
    assert len(kept) == 1
    second = solver.solve(Problem("s", 3, REUSE_LINES[1]))
    assert [t.graph for t in solver.programs.templates.values() if t is not None] == [kept[0].graph]
    assert json.loads(first.text)["value"] != json.loads(second.text)["value"]
    solver.solve(Problem("s", 4, "v=[1, 2]; sum(v*3)"))
    solver.solve(Problem("s", 5, "v=[1, 2]; sum(v*4)"))
    assert None in solver.programs.templates.values()  # array literals are never reused


def test_with_program_the_first_point_keeps_the_graph():
    solver = Solver(Options(program="f = w*x"))
    solver.solve(Problem("s", 1, None, {"w": 2.0, "x": 3.0}))
    assert [t for t in solver.programs.templates.values() if t is not None]


def test_the_batch_samples_run(bpcli):
    from conftest import SAMPLES

    result = bpcli("batch", str(SAMPLES / "problems.txt"))
    assert result.code == 0 and len(records_of(result.out)) == 6
    result = bpcli("batch", str(SAMPLES / "points.jsonl"), "--program", str(SAMPLES / "neuron.bp"))
    out = records_of(result.out)
    assert result.code == 0 and [r["id"] for r in out] == ["lecture", "ones", "random"]
    assert out[0]["grads"]["x0"] == pytest.approx(0.39322386648296376)


def test_records_nested_too_deeply_and_file_names_that_are_not_utf8(bpcli, tmp_path):
    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"id": ' + "[" * 5000 + "]" * 5000 + ', "x": 1}\n{"x": 2}\n', encoding="utf-8")
    result = bpcli("batch", str(deep), "--program", "x*2")
    first, second = records_of(result.out)
    assert result.code == 1 and "nested too deeply" in first["error"] and second["value"] == 4.0
    if sys.platform.startswith("linux"):
        odd = os.fsdecode(bytes(tmp_path) + b"/bad\xff.txt")
        with open(odd, "w", encoding="utf-8") as handle:
            handle.write("x=1; x*2\n")
        result = bpcli("batch", odd)
        assert result.code == 0 and records_of(result.out)[0]["source"].endswith("bad\udcff.txt")


def test_a_comment_inside_an_unnamed_output_is_not_its_text(bpcli, tmp_path):
    program = tmp_path / "p.bp"
    program.write_text("x = 1\n(x +  # a note\n 2)*x\n", encoding="utf-8")
    result = bpcli(
        "batch", "-", "--program", str(program), input="".join(f'{{"x": {i}}}\n' for i in range(5))
    )
    assert {r["output"] for r in records_of(result.out)} == {"(x + 2)*x"}


def test_csv_of_a_name_that_cannot_be_computed_has_an_empty_gradient(bpcli):
    result = bpcli("batch", "--format", "csv", input="x=0; y=1; q=1/x; f=y\n")
    assert result.code == 0, result.err
    rows = [line.split(",") for line in result.out.splitlines()]
    assert ["stdin", "1", "", "f", "1.0", "q", "", ""] in rows
