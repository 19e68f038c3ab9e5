"""`batch --program` over many points at once (bpcli.batch.vector, bpcli.core.vectorised)
against the point-by-point path: the same bytes, record for record.

Each test runs the same lines through `Points.solve` (runs of points evaluated as arrays) and
through `Solver.solve_line` one line at a time, and compares the output, the failures and
their statuses; `together` says how many records the arrays made, so that no test passes by
sending every point the ordinary way.
"""

from __future__ import annotations

import json
import math
import operator
import os
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_oracle import multi_statement_programs, single_expressions

from bpcli.batch import vector
from bpcli.batch.driver import solve_all
from bpcli.batch.lines import read_lines
from bpcli.batch.solve import Options, Solver
from bpcli.core.engine import run
from bpcli.core.ops import OPS
from bpcli.core.vectorised import ARITHMETIC_FORWARD, ARITHMETIC_VJPS, SPECIAL_VJPS, vectorise
from bpcli.errors import EXIT_OK
from bpcli.language.parse import parse

SAMPLES = Path(__file__).parent.parent / "samples"
EDGES = [0, 0.0, -0.0, 1, -1, 2.5, -3.75, 1e-300, 1e300, -1e300, 710.0, 0.1, 1e-8, 5e-324, 2**60, 1e-310]


def lines_of(texts: list[str], source: str = "points.jsonl") -> list[tuple[str, int, str, bool]]:
    return [(source, number, text, False) for number, text in enumerate(texts, 1)]


def both(texts: list[str], options: Options) -> tuple[str, str, int]:
    """The output of the lines taken together and one by one (with their failures, which
    must agree too), and how many records the arrays made."""
    lines = lines_of(texts)
    points = vector.Points(Solver(options))
    together, failed, count = points.solve(lines)
    alone = Solver(options)
    records, statuses = [], []
    for line in lines:
        text, status = alone.solve_line(line)
        records.append(text)
        if status != EXIT_OK:
            statuses.append((line[0], line[1], status))
    assert count == len(lines)
    assert failed == statuses
    return together, "".join(records), points.together


@pytest.fixture(autouse=True)
def small_runs(monkeypatch):
    """Runs of a few points are taken together too, so that small tests reach the arrays."""
    monkeypatch.setattr(vector, "RUN_MIN", 1)


def random_points(names: list[str], rng: random.Random, n: int, around: dict[str, float]) -> list[str]:
    texts = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.15:
            point = {name: rng.choice(EDGES) for name in names}
        elif roll < 0.25:
            point = {name: rng.choice([0, 1, -1, 2]) for name in names}
        else:
            point = {name: around.get(name, 1.0) + rng.uniform(-3, 3) for name in names}
        texts.append(json.dumps(point))
    return texts


# --- every scalar sample, random programs -------------------------------------------------------


def scalar_samples() -> list[Path]:
    found = []
    for path in sorted(SAMPLES.rglob("*.bp")):
        try:
            graph = parse(path.read_text())
        except Exception:
            continue
        if not graph.has_arrays and graph.inputs and vectorise(graph, frozenset(graph.inputs)) is not None:
            found.append(path)
    return found


def test_there_are_scalar_samples():
    names = {path.name for path in scalar_samples()}
    assert {"neuron.bp", "simple.bp", "fanout.bp", "gates.bp", "neuron_sigmoid.bp"} <= names


@pytest.mark.parametrize("path", scalar_samples(), ids=lambda p: str(p.relative_to(SAMPLES)))
def test_every_scalar_sample(path):
    text = path.read_text()
    graph = parse(text)
    around = {name: float(graph.leaves[node.id]) for name, node in graph.inputs.items()}
    rng = random.Random(path.name)
    points = random_points(sorted(graph.inputs), rng, 300, around)
    together, alone, count = both(points, Options(program=text))
    assert together == alone
    assert count > 150


COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much]}


@settings(max_examples=60, **COMMON)
@given(st.one_of(single_expressions(), multi_statement_programs()), st.randoms(use_true_random=False))
def test_random_programs(program, rng):
    names = sorted(program.bindings) or ["x"]
    around = {n: float(v) for n, v in program.bindings.items()}
    points = random_points(names, rng, 40, around)
    together, alone, _ = both(points, Options(program=program.text))
    assert together == alone, program.text + "\n" + "\n".join(points)


@settings(max_examples=60, **COMMON)
@given(st.one_of(single_expressions(), multi_statement_programs()), st.randoms(use_true_random=False))
def test_random_programs_every_node_as_the_engine_has_it(program, rng):
    """The arrays hold each node's value and gradient as the engine's run of each point."""
    names = sorted(program.bindings)
    graph = parse(program.text, {n: float(v) for n, v in program.bindings.items()})
    vectorised = vectorise(graph, frozenset(names))
    if vectorised is None:
        return
    n = 12
    columns = {
        name: np.array([float(program.bindings[name]) + rng.uniform(-2, 2) for _ in range(n)])
        for name in names
    }
    points = vectorised(columns, n)
    for i in range(n):
        if points.bad[i]:
            continue
        ran = run(parse(program.text, {name: float(columns[name][i]) for name in names}))
        for k in range(len(graph.nodes)):
            for mine, theirs in ((points.values[k], ran.values[k]), (points.grads[k], ran.grads[k])):
                if theirs is None:
                    assert mine is None
                else:
                    assert points.column(mine)[i].tobytes() == np.float64(theirs).tobytes()


# --- the rules for each point ----------------------------------------------------------------------

EDGE_LINES = [
    '{"x": 1, "y": 2}',
    '{"x": 3, "y": 4}',
    '{"x": 0, "y": 0}',  # a kink
    '{"x": 0.0, "y": 2}',  # 0.0 may be 1e-400 as written: the ordinary path
    '{"x": 1e-400, "y": 2}',
    '{"x": 1e308, "y": 1e308}',  # overflow
    '{"x": NaN, "y": 1}',
    '{"x": Infinity, "y": 1}',
    '{"x": -Infinity, "y": 1}',
    '{"x": true, "y": 1}',
    '{"x": null, "y": 1}',
    '{"x": "1/2", "y": 1}',
    '{"x": [1, 2], "y": 1}',
    '{"x": {"a": 1}, "y": 1}',
    '{"x": 1, "y": 2} trailing',
    '{"x": 1,',
    '{"x": 1, "y": 2, "id": {"n": [1, "%s"]}}',
    '{"x": 1, "y": 2, "id": 1.5}',
    '{"bindings": {"x": 1, "y": 2}}',
    '{"x": 1, "y": 2, "program": "x"}',
    '{"x": 1, "y": 2, "output": "x"}',
    '{"x": 1, "y": 2, "z": 3}',
    '{"x": 1}',
    '{"x": 1, "x": 5, "y": 2}',
    '{"x": ' + "1" * 400 + ', "y": 1}',
    '{"x": 2, "y": 5}',
    "x=1 y=2",
    "[1, 2]",
    '"text"',
    '{"x": 2.5, "y": -1.5}',
]


@pytest.mark.parametrize(
    "program",
    [
        "relu(x - y) * max(x, y)",
        "f = log(x) + y / x",
        "x * 1e300 * y",
        "t = x*y; t += 2; t",
        "abs(x) ^ y",
        "sqrt(x) + min(x, y) + 1/(x - y)",
        "x / y",
        "x + y",
    ],
)
def test_edge_points_between_good_ones(program):
    """Errors, kinks, and lines that are not plain points, in the middle of a run: each its
    own record, as one by one, and the points around them still together."""
    rng = random.Random(program)
    texts = []
    for edge in EDGE_LINES:
        texts += [json.dumps({"x": rng.uniform(0.5, 3), "y": rng.uniform(-3, 3)}) for _ in range(3)]
        texts.append(edge)
    together, alone, count = both(texts, Options(program=program))
    assert together == alone
    assert count >= 3 * len(EDGE_LINES)


def test_domain_errors_become_their_own_records():
    texts = ['{"x": 2}', '{"x": -1}', '{"x": 3}', '{"x": 0}', '{"x": 4}']
    together, alone, count = both(texts, Options(program="f = log(x) * 1/x"))
    assert together == alone and count == 2  # (the first point builds the graph, as always)
    records = [json.loads(t) for t in together.splitlines()]
    assert [("error" in r) for r in records] == [False, True, False, True, False]


def test_kinks_take_the_ordinary_path_and_keep_their_warning():
    texts = ['{"x": 2}', '{"x": 0}', '{"x": -3}']
    together, alone, count = both(texts, Options(program="relu(x) + abs(x)"))
    assert together == alone and count == 1
    assert json.loads(together.splitlines()[1])["warnings"]


def test_ids_of_every_kind():
    texts = [
        '{"x": 1, "id": "a"}',
        '{"x": 2, "id": "é \\" \\\\ \\n \\u2028 %s %d"}',
        '{"x": 3, "id": 12345678901234567890}',
        '{"x": 4, "id": null}',
        '{"x": 5}',
        '{"x": 6, "id": -7}',
        '{"x": 7, "id": true}',
    ]
    together, alone, count = both(texts, Options(program="x * 2"))
    assert together == alone and count == 3  # the first builds the graph; those with ids like it


def test_an_output_written_as_an_expression_and_common_bindings():
    texts = [json.dumps({"x": i / 7}) for i in range(1, 20)]
    together, alone, count = both(texts, Options(program="x*y + 1.5", common={"y": 3.0}))
    assert together == alone and count == 18
    texts = ['{"x": 1}', '{"x": 2, "y": 4}', '{"x": 3}', '{"x": 4, "y": 0.5}']
    together, alone, count = both(texts, Options(program="x*y", common={"y": 3.0}))
    assert together == alone and count == 1  # the points with the first one's names


def test_a_program_without_inputs_and_unused_bindings():
    together, alone, count = both(["{}", "{}", "{}"], Options(program="f = 2 * 3"))
    assert together == alone and count >= 2
    texts = ['{"x": 1, "unused": 2}', '{"x": 2, "unused": 3}']
    together, alone, count = both(texts, Options(program="x * x"))
    assert together == alone and count >= 1 and "not used" in together


def test_programs_that_are_not_vectorised_go_line_by_line():
    """Arrays, randomness, control flow that depends on the point: the ordinary path."""
    cases = [
        ("sum(x * [1, 2])", ['{"x": 1}', '{"x": 2}', '{"x": [1, 2]}']),
        ("y = x if x > 0 else -x; y * 2", ['{"x": 1}', '{"x": -2}', '{"x": 3}', '{"x": -4}']),
        ("m = np.random.rand() < 0.5; x * m + x", ['{"x": 1}', '{"x": 2}', '{"x": 3}']),
        ("f = 1e-400 * x", ['{"x": 1}', '{"x": 2}']),
    ]
    for program, texts in cases:
        together, alone, _ = both(texts, Options(program=program, seed=3))
        assert together == alone, program


# --- runs: their boundaries, one point, none, reading ------------------------------------------


def through_solve_all(data: bytes, options: Options, size: int, monkeypatch) -> tuple[str, list]:
    monkeypatch.setattr(vector, "CHUNK", size)
    out, failed = [], []
    for text, failures, _ in solve_all([("points.jsonl", data.splitlines(keepends=True))], options):
        out.append(text)
        failed += failures
    return "".join(out), failed


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_run_boundaries(size, monkeypatch):
    rng = random.Random(size)
    texts = [json.dumps({"x": rng.uniform(-2, 2)}) for _ in range(40)]
    texts[5] = '{"x": 0}'  # log(0): an error record
    texts[6] = ""  # blank lines and comments keep their numbers
    texts[13] = "# a comment"
    texts[20] = '{"x": -1}'
    data = ("\n".join(texts) + "\n").encode()
    options = Options(program="log(x*x) + x")
    monkeypatch.setattr(vector, "worth_it", lambda sources: (True, sources))
    together, failed = through_solve_all(data, options, size, monkeypatch)
    monkeypatch.setenv("BPCLI_POINTWISE", "1")
    alone, failed_alone = through_solve_all(data, options, size, monkeypatch)
    assert together == alone and failed == failed_alone
    assert [f[1] for f in failed] == [6]
    assert len(together.splitlines()) == 38


def test_one_point_and_no_points(monkeypatch):
    monkeypatch.setattr(vector, "worth_it", lambda sources: (True, sources))
    one, _ = through_solve_all(b'{"x": 1.5}\n', Options(program="x*x"), 8192, monkeypatch)
    assert json.loads(one)["value"] == 2.25
    none, failed = through_solve_all(b"", Options(program="x*x"), 8192, monkeypatch)
    assert none == "" and failed == []


def test_lines_that_are_not_utf8_over_long_or_after_a_byte_order_mark(monkeypatch):
    monkeypatch.setattr(vector, "worth_it", lambda sources: (True, sources))
    data = b'\xef\xbb\xbf{"x": 1}\n{"x": 2}\r\n{"x": \xff}\n{"x": 3}\n\x1c\n{"x": 4}'
    raw = data.splitlines(keepends=True)
    expected = list(read_lines([("points.jsonl", raw)]))
    got = [line for run in vector.runs([("points.jsonl", raw)], size=2) for line in run]
    assert got == expected
    got = [line for run in vector.runs([("points.jsonl", raw[1:])], size=3) for line in run]
    assert got == list(read_lines([("points.jsonl", raw[1:])], 1))


def test_an_unreadable_input_comes_after_the_lines_before_it(monkeypatch):
    from bpcli.errors import InputError

    def raw():
        yield b'{"x": 1}\n'
        yield b'{"x": 2}\n'
        raise InputError("cannot read points.jsonl: line 3 goes on")

    monkeypatch.setattr(vector, "worth_it", lambda sources: (True, sources))
    results = solve_all([("points.jsonl", raw())], Options(program="x*3"))
    first = next(results)
    assert first[2] == 2 and len(first[0].splitlines()) == 2
    with pytest.raises(InputError):
        next(results)


def test_when_runs_are_taken(tmp_path, monkeypatch):
    """From VECTOR_MIN points in files (or at once when numpy is loaded); never from a pipe."""
    path = tmp_path / "points.jsonl"
    path.write_text('{"x": 1}\n' * 10)
    monkeypatch.setattr(vector.sys, "modules", {k: v for k, v in vector.sys.modules.items() if k != "numpy"})
    take, sources = vector.worth_it([(str(path), [b'{"x": 1}\n'] * 10)])
    assert not take and list(sources[0][1]) == [b'{"x": 1}\n'] * 10
    monkeypatch.setattr(vector, "VECTOR_MIN", 5)
    assert vector.worth_it([(str(path), iter([b'{"x": 1}\n'] * 10))])[0]
    assert not vector.worth_it([(str(tmp_path), [])])[0]  # not a regular file
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert not vector.worth_it([(str(path), []), (str(fifo), [])])[0]  # a pipe may wait
    monkeypatch.setenv("BPCLI_POINTWISE", "1")
    assert not vector.applies(Options(program="x"))
    monkeypatch.delenv("BPCLI_POINTWISE")
    assert vector.applies(Options(program="x"))
    assert not vector.applies(Options(program="x", nodes=True))
    assert not vector.applies(Options(program="x", output_format="csv"))
    assert not vector.applies(Options(program="x", common={"W": np.ones(2)}))


# --- the command line, --jobs ---------------------------------------------------------------------


def test_the_command_line_with_jobs(bpcli, tmp_path, monkeypatch):
    rng = random.Random(7)
    texts = [json.dumps({"w0": rng.uniform(-3, 3), "x0": rng.uniform(-3, 3)}) for _ in range(2500)]
    texts[1234] = '{"w0": 1e308, "x0": 1e308}'
    texts[1500] = '{"w0": "oops", "x0": 1}'
    path = tmp_path / "points.jsonl"
    path.write_text("\n".join(texts) + "\n")
    program = "f = 1 / (1 + exp(-(w0*x0 + 1)))"
    one = bpcli("batch", str(path), "--program", program)
    two = bpcli("batch", str(path), "--program", program, "--jobs", "2")
    monkeypatch.setenv("BPCLI_POINTWISE", "1")
    alone = bpcli("batch", str(path), "--program", program)
    assert one == two == alone
    assert one.code == 1 and len(one.out.splitlines()) == 2500


# --- the arithmetic that is called with arrays ------------------------------------------------------

VALUES = [0.0, -0.0, 1.0, -1.0, 0.5, 3.0, 1e-300, 1e300, -1e300, 5e-324, 1e-310, 710.0, math.pi, -2.75]


def _grid(arity: int) -> list[tuple[float, ...]]:
    rng = random.Random(arity)
    values = VALUES + [rng.uniform(-5, 5) for _ in range(10)] + [rng.uniform(-1e10, 1e10) for _ in range(4)]
    if arity == 1:
        return [(v,) for v in values]
    return [(a, b) for a in values for b in values[:12]]


def _same(scalar, arrays, points) -> None:
    """The scalar function at each point, against the array call: bit for bit where the
    scalar one gives a number; not finite where it raises."""
    columns = [np.array(c) for c in zip(*points, strict=True)]
    with np.errstate(all="ignore"):
        got = np.broadcast_to(np.asarray(arrays(*columns), dtype=float), (len(points),))
    for point, mine in zip(points, got, strict=True):
        try:
            theirs = scalar(*point)
        except (ArithmeticError, ValueError):
            assert not math.isfinite(mine), point
            continue
        if math.isfinite(theirs):
            assert np.float64(theirs).tobytes() == mine.tobytes(), (point, theirs, mine)
        else:
            assert not math.isfinite(mine)


@pytest.mark.parametrize("name", sorted(ARITHMETIC_FORWARD))
def test_arithmetic_forwards_are_the_scalar_ones(name):
    op = OPS[name]
    _same(op.scalar, op.scalar, _grid(op.arity))


@pytest.mark.parametrize("key", sorted(ARITHMETIC_VJPS), ids=str)
def test_arithmetic_vjps_are_the_scalar_ones(key):
    op = OPS[key[0]]
    vjp = op.vjps[key[1]]
    points = [
        (g, op.scalar(*args), *args)
        for args in _grid(op.arity)
        for g in (1.0, -0.5, 1e-200)
        if _fine(op, args)
    ]
    _same(vjp, vjp, points)


@pytest.mark.parametrize("key", sorted(SPECIAL_VJPS), ids=str)
def test_special_vjps_are_the_scalar_ones_where_they_keep_the_point(key):
    op = OPS[key[0]]
    points = [
        (g, op.scalar(*args), *args)
        for args in _grid(op.arity)
        for g in (1.0, -0.5, 1e-200)
        if _fine(op, args)
    ]
    columns = [np.array(c) for c in zip(*points, strict=True)]
    with np.errstate(all="ignore"):
        got, bad = SPECIAL_VJPS[key](*columns)
    kept = 0
    for point, mine, dropped in zip(points, got, bad, strict=True):
        if dropped:
            continue
        theirs = op.vjps[key[1]](*point)
        assert np.float64(theirs).tobytes() == mine.tobytes(), point
        kept += 1
    assert kept > len(points) // 2


def _vjp_points(op) -> list[tuple[float, ...]]:
    """(g, ans, *inputs) where the forward gives a number."""
    grid = [args for args in _grid(op.arity) if _fine(op, args)]
    return [(g, op.scalar(*args), *args) for args in grid for g in (1.0, -0.5, 1e-200)]


def _fine(op, args) -> bool:
    try:
        return math.isfinite(op.scalar(*args))
    except (ArithmeticError, ValueError):
        return False


def test_the_arithmetic_lists_name_real_ops():
    for name in ARITHMETIC_FORWARD:
        assert OPS[name].scalar in (
            operator.add,
            operator.sub,
            operator.mul,
            operator.truediv,
            operator.neg,
        ) or (name == "id")
    for name, index in (*ARITHMETIC_VJPS, *SPECIAL_VJPS):
        assert 0 <= index < OPS[name].arity


# --- the Python API's grad_many ------------------------------------------------------------------


def same_result(a, b) -> None:
    """Two results alike: f, the gradients, every node, and the JSON document, to the bit."""
    assert repr(a.value) == repr(b.value)
    assert {k: repr(v) for k, v in a.grads.items()} == {k: repr(v) for k, v in b.grads.items()}
    assert repr(a.nodes) == repr(b.nodes)
    assert a.to_json() == b.to_json()
    assert a._run.warnings == b._run.warnings and a._run.kinks == b._run.kinks


def test_grad_many_is_grad_at_each_point(monkeypatch):
    import bpcli

    monkeypatch.setattr(vector, "MANY_MIN", 4)
    made = []
    real = vector.points_at

    def watched(*args):
        found = real(*args)
        made.append(sum(r is not None for r in found))
        return found

    monkeypatch.setattr(vector, "points_at", watched)
    rng = random.Random(3)
    for path in scalar_samples():
        text = path.read_text()
        names = sorted(parse(text).inputs)
        points = [{n: rng.choice([rng.uniform(-3, 3), 0, 1, -2.5, 0.0]) for n in names} for _ in range(40)]
        program = bpcli.compile(text)
        many = program.grad_many(points)
        one_by_one = [bpcli.compile(text).grad(p) for p in points]
        assert len(many) == len(one_by_one) == 40
        for a, b in zip(many, one_by_one, strict=True):
            same_result(a, b)
    assert made and min(made) > 20


def test_grad_many_raises_at_the_first_point_that_fails(monkeypatch):
    import bpcli

    monkeypatch.setattr(vector, "MANY_MIN", 2)
    program = bpcli.compile("f = log(x) * y")
    points = [{"x": 1.0 + i, "y": 2} for i in range(10)]
    points[6] = {"x": -1.0, "y": 2}
    with pytest.raises(bpcli.DomainError) as many:
        program.grad_many(points)
    with pytest.raises(bpcli.DomainError) as one:
        bpcli.compile("f = log(x) * y").grad(points[6])
    assert str(many.value) == str(one.value)


def test_grad_many_with_mixed_points(monkeypatch):
    import bpcli

    monkeypatch.setattr(vector, "MANY_MIN", 2)
    points = [
        {"x": 1, "y": 2},
        {"x": 0, "y": 0},  # a kink: a warning
        {"x": np.float64(2.5), "y": 1},
        {"x": [1.0, 2.0], "y": 1},  # an array: sum(...) makes it a scalar
        {"x": 4, "y": 5},
        {"x": 2**70, "y": -1},
        {"y": 3, "x": 1.5},  # the same names in another order
    ]
    program = "sum(max(x, y) * relu(x))"
    many = bpcli.compile(program).grad_many(points)
    for a, point in zip(many, points, strict=True):
        same_result(a, bpcli.compile(program).grad(point))
    with pytest.raises(bpcli.BpcliError):
        bpcli.compile(program).grad_many([*points, {"x": 3}])  # y has no value
    assert bpcli.compile("x").grad_many([]) == []
    assert len(bpcli.compile("x * 2").grad_many([{"x": 1}])) == 1


def test_a_run_that_starts_with_lines_that_are_not_plain_points():
    texts = ['{"x": "1/2", "y": 1}', '{"x": [1], "y": 2}', "x=1 y=2", '{"x": 1, "y": null}']
    texts += [json.dumps({"x": i / 3, "y": -i}) for i in range(1, 30)]
    together, alone, count = both(texts, Options(program="x * y + exp(x)"))
    assert together == alone and count == 28


def test_a_big_graph_goes_through_in_slices(monkeypatch):
    """Memory stays bounded: at most ELEMENTS values in one pass, the points in slices."""
    import bpcli

    monkeypatch.setattr(vector, "ELEMENTS", 200)
    program = "t = x*y; " + "; ".join(f"t = t + sin(t*{i % 7 + 1})" for i in range(30)) + "; f = t"
    graph = parse(program, {"x": 1.0, "y": 2.0})
    assert vector.slice_size(graph) == 1  # (RUN_MIN is 1 here)
    rng = random.Random(9)
    texts = [json.dumps({"x": rng.uniform(-1, 1), "y": rng.uniform(-1, 1)}) for _ in range(50)]
    together, alone, count = both(texts, Options(program=program))
    assert together == alone and count == 49
    monkeypatch.setattr(vector, "MANY_MIN", 2)
    monkeypatch.setattr(vector, "RUN_MIN", 3)
    points = [json.loads(t) for t in texts]
    for a, point in zip(bpcli.compile(program).grad_many(points), points, strict=True):
        same_result(a, bpcli.compile(program).grad(point))


def test_a_worker_takes_its_run_together():
    """With --jobs, each worker's run of lines goes through the same way (Solving.run)."""
    from bpcli.batch.workers import Solving

    options = Options(program="f = 1/(1 + exp(-x*y))", points=True)
    solving = Solving(options)
    assert solving.points is not None
    rng = random.Random(4)
    pairs = [(rng.uniform(-2, 2), rng.uniform(-2, 2)) for _ in range(300)]
    raw = [json.dumps({"x": x, "y": y}).encode() + b"\n" for x, y in pairs]
    raw[150] = b'{"x": 1e308, "y": 1e308}\n'
    (text, failed, count), _ = solving.run(("points.jsonl", 1001, raw))
    assert count == 300 and solving.points.together == 298 and [f[1] for f in failed] == [1151]
    solving.points = None
    assert solving.run(("points.jsonl", 1001, raw))[0] == (text, failed, count)


# --- the records' numbers, written all at once (bpcli.present.blocks) -----------------------------


def test_points_of_every_magnitude():
    """The points' own numbers come back as gradients: every exponent, both signs, integers
    and floats, numbers with few digits and with 17, zeros of both signs; the records are
    written at once and must be the bytes written one by one."""
    rng = random.Random(11)
    bits = np.random.default_rng(11).integers(0, 2**64 - 1, size=3000, dtype=np.uint64).view(np.float64)
    numbers: list[object] = [v for v in bits.tolist() if math.isfinite(v)]
    numbers += [rng.randint(-(10**6), 10**6) for _ in range(300)] + [0, -0.0, 0.0, 2**53 + 1, -(2**70)]
    numbers += [round(rng.uniform(-3, 3), rng.randint(0, 4)) for _ in range(500)]
    texts = []
    for _ in range(2000):
        x, y, z = (rng.choice(numbers) for _ in range(3))
        texts.append(json.dumps({"x": x, "y": y, "z": z}))
    together, alone, count = both(texts, Options(program="f = x * y + z"))
    assert together == alone
    assert count > 1000


def test_points_with_other_keys_or_another_order_in_a_run():
    """Objects with as many keys but another one, the keys in another order, ids on some."""
    rng = random.Random(12)
    texts = []
    for i in range(300):
        x, y = rng.uniform(-3, 3), rng.uniform(0.5, 3)
        roll = i % 7
        if roll == 3:
            texts.append(json.dumps({"x": x, "z": y}))
        elif roll == 4:
            texts.append(json.dumps({"y": y, "x": x}))
        elif roll == 5:
            texts.append(json.dumps({"x": x, "y": y, "id": i}))
        elif roll == 6:
            texts.append(f'{{"x": {x!r},  "y":{y!r}}}')
        else:
            texts.append(json.dumps({"x": x, "y": y}))
    together, alone, count = both(texts, Options(program="f = log(y) * x + y / x"))
    assert together == alone
    assert count > 200


def test_a_run_of_blank_lines_comments_and_carriage_returns(monkeypatch):
    """Lines read at once (vector.runs) are the lines read_lines gives."""
    rng = random.Random(13)
    raw = []
    for i in range(200):
        point = json.dumps({"x": rng.uniform(-2, 2)})
        raw.append(
            {0: b"\n", 1: b"# comment\n", 2: b"  \t\r\n", 3: point.encode() + b"\r\n"}.get(
                i % 9, point.encode() + b"\n"
            )
        )
    for size in (7, 64, 8192):
        got = [line for run in vector.runs([("points.jsonl", raw)], size=size) for line in run]
        assert got == list(read_lines([("points.jsonl", raw)]))
    clean = [line for line in raw if line.strip() and not line.startswith(b"#")]
    got = [line for run in vector.runs([("points.jsonl", clean)], size=50) for line in run]
    assert got == list(read_lines([("points.jsonl", clean)]))
