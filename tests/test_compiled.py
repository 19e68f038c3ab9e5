"""The compiled path of `batch` (bpcli.core.compiled) against the engine's: the same bytes.

`batch` evaluates a program it has seen before with a straight-line function that makes the
engine's own calls. Nothing may change because of it: every record, error and warning must
be byte for byte what the ordinary path writes. So each test runs the same lines through a
Solver with the compiled path and one without, over random programs (from the SymPy oracle's
generator) at random numbers, edge values included: zeros at kinks, overflow, domain errors.
"""

from __future__ import annotations

import json
import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_oracle import multi_statement_programs, single_expressions

from bpcli.batch.reuse import PLACEHOLDER, skeleton
from bpcli.batch.solve import Options, Solver
from bpcli.core.compiled import compile_graph
from bpcli.core.engine import gradients, run
from bpcli.core.ops import FUNCTIONS, OPS
from bpcli.errors import BpcliError
from bpcli.language.parse import parse

# Numbers as written in a program (unsigned: a minus is its own token), edge cases first.
WRITTEN = [
    "0",
    "0.0",
    "1",
    "2",
    "0.5",
    "1e-310",
    "1e200",
    "1e308",
    "700",
    "710",
    "3.25",
    "0.001",
    "1e-5",
    "40",
    "123.456",
]
POINTS = [0, 0.0, -0.0, 1, -1, 2.5, -3.75, 1e-300, 1e300, -1e300, 710.0, 0.1, 1e-8, 10**400]


def both(lines: list[str], options: Options) -> tuple[str, str, int]:
    """The output of the lines with and without the compiled path, and how many records the
    compiled path wrote. The compiled path is only watched, never called from here: a call
    of our own would count as a sighting of the program and change what it does next."""
    fast, slow = Solver(options), Solver(options)
    slow._fast = None
    records_it_wrote = []
    compiled_path = fast._fast

    def watched(line):
        record = compiled_path(line)
        if record is not None:
            records_it_wrote.append(record)
        return record

    if compiled_path is not None:
        fast._fast = watched
    fast_out = [fast.solve_line(("in.txt", number, text, False))[0] for number, text in enumerate(lines, 1)]
    slow_out = [slow.solve_line(("in.txt", number, text, False))[0] for number, text in enumerate(lines, 1)]
    assert all(record in fast_out for record in records_it_wrote)
    return "".join(fast_out), "".join(slow_out), len(records_it_wrote)


def with_numbers(text: str, rng: random.Random) -> str:
    """The program with each written number replaced by another."""
    parts = skeleton(text)[0].split(PLACEHOLDER)
    return parts[0] + "".join(rng.choice(WRITTEN) + p for p in parts[1:])


def one_line(text: str) -> str:
    return ";".join(line.split("#")[0] for line in text.splitlines())


COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much]}


@settings(max_examples=60, **COMMON)
@given(st.one_of(single_expressions(), multi_statement_programs()), st.randoms(use_true_random=False))
def test_text_lines_at_other_numbers(program, rng):
    text = one_line(program.text)
    lines = [text] + [with_numbers(text, rng) for _ in range(6)] + [text]
    common = {n: float(v) for n, v in program.bindings.items()}
    fast, slow, _ = both(lines, Options(common=common))
    assert fast == slow, "\n".join(lines)


@settings(max_examples=60, **COMMON)
@given(st.one_of(single_expressions(), multi_statement_programs()), st.randoms(use_true_random=False))
def test_program_at_other_points(program, rng):
    names = sorted(program.bindings) or ["x"]
    points = [json.dumps({n: program.bindings.get(n, 1.0) for n in names})]
    for _ in range(8):
        point: dict = {n: rng.choice(POINTS) for n in names}
        if rng.random() < 0.2:
            point = {"id": rng.choice([1, "a", None, [1, 2]]), **point}
        if rng.random() < 0.1:
            point["unused"] = 1.5
        points.append(json.dumps(point))
    fast, slow, _ = both(points, Options(program=program.text))
    assert fast == slow, program.text + "\n" + "\n".join(points)


def test_the_compiled_path_is_taken():
    """Not vacuous: from the third sight of a program on (its graph is kept at the second),
    or the second point of --program's, problems go the compiled way."""
    neuron = "w0={}; x0={}; w1=-3; x1=-2; w2=-3; f = 1/(1+exp(-(w0*x0+w1*x1+w2)))"
    lines = [neuron.format(a, b) for a, b in [(2, 1), (0.5, 3), (1, 1), (4, 4), (3, 2)]]
    fast, slow, compiled = both(lines, Options())
    assert fast == slow and compiled == 2
    points = ['{"x": 1}', '{"x": 2.5}', '{"x": -1, "id": 7}', '{"x": -1, "id": 7}', '{"x": 3}']
    fast, slow, compiled = both(points, Options(program="y = 2*x; sin(y)*x"))
    assert fast == slow and compiled == 3
    assert [json.loads(r)["line"] for r in fast.splitlines()] == [1, 2, 3, 4, 5]


POINT_LINES = [
    '{"x": 1, "y": 2}',
    '{"x": 3, "y": 4}',
    '{"x": 0, "y": 0}',  # a kink
    '{"x": 1e308, "y": 1e308}',  # overflow
    '{"x": NaN, "y": 1}',
    '{"x": Infinity, "y": 1}',  # not finite: an error
    '{"x": true, "y": 1}',
    '{"x": "1/2", "y": 1}',
    '{"x": [1, 2], "y": 1}',  # the ordinary path
    '{"x": 1, "y": 2} trailing',
    '{"x": 1,',
    '{"x": 1, "y": 2, "id": {"n": [1, "%s"]}}',
    '{"bindings": {"x": 1, "y": 2}}',
    '{"x": 1, "y": 2, "program": "x"}',
    '{"x": 100000000000000000000000000000000000000000000000000000000000000000000000000000000'
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    '00000000000000000000000000000000000000000000000000000000000000000000000000000, "y": 1}',
    '{"x": 2, "y": 5}',
    "x=1 y=2",
    '{"x": 2, "y": 5}',
]


@pytest.mark.parametrize(
    "program",
    ["relu(x - y) * max(x, y)", "f = log(x) + y / x", "x * 1e300 * y", "t = x*y; t += 2; t", "abs(x) ^ y"],
)
def test_edge_points(program):
    fast, slow, _ = both(POINT_LINES, Options(program=program))
    assert fast == slow


def test_common_bindings_and_percent_signs_in_names():
    lines = ["x=1; x*y", "x=2; x*y", "x=3; x*y", "x=4; x*y"]
    fast, slow, compiled = both(lines, Options(common={"y": 10.0, "q": 1.0}))
    assert fast == slow and compiled == 1
    # a literal that a binding overrides must still be a number a float can hold
    lines = ["y=1; x=2; x*y", "y=2; x=2; x*y", "y=3; x=2; x*y", "y=1e400; x=2; x*y"]
    fast, slow, _ = both(lines, Options(common={"y": 10.0}))
    assert fast == slow and "too large" in fast.splitlines()[-1]
    solver = Solver(Options())
    texts = [solver.solve_line(("100%s %d.txt", i, "x=2; (x+1)*x", False))[0] for i in (1, 2, 3, 4)]
    assert [json.loads(t)["source"] for t in texts] == ["100%s %d.txt"] * 4


# --- compile_graph itself against the engine, op by op --------------------------------------


def _programs() -> list[str]:
    calls = [
        f"{alias}(x)"
        for alias, name in FUNCTIONS.items()
        if OPS[name].arity == 1 and OPS[name].scalar is not None
    ]
    calls += [
        f"{alias}(x, y)"
        for alias, name in FUNCTIONS.items()
        if OPS[name].arity == 2 and OPS[name].scalar is not None
    ]
    return [*calls, "x + y", "x - y", "x * y", "x / y", "x ^ y", "-x", "x ^ 2", "2 ^ x"]


@pytest.mark.parametrize("program", _programs())
def test_each_op_gives_the_engines_numbers_bit_for_bit(program):
    rng = random.Random(program)
    values = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-300, 1e300, 710.0, -710.0, math.pi / 2]
    values += [rng.uniform(-5, 5) for _ in range(20)]
    evaluate = compile_graph(parse(program, {"x": 1.5, "y": 0.75}), frozenset({"x", "y"}))
    numbers = skeleton(program)[1]
    assert evaluate is not None
    for x in values:
        for y in [*values[:6], rng.uniform(-5, 5)]:
            got = evaluate(numbers, {"x": x, "y": y})
            try:
                fresh = run(parse(program, {"x": x, "y": y}))
            except BpcliError:
                assert got is None, (x, y)
                continue
            if fresh.kinks:
                assert got is None, (x, y)
                continue
            want = (fresh.output, *gradients(fresh).values())
            assert got is not None, (x, y)
            assert [v.hex() for v in got] == [v.hex() for v in want], (x, y)


def test_graphs_it_does_not_cover():
    assert (
        compile_graph(parse("sum(W @ x)", {"W": _array([[1.0, 2.0]]), "x": _array([3.0, 4.0])}), frozenset())
        is None
    )
    assert compile_graph(parse("x = 2; y = 3; [x, y] @ [y, x]"), frozenset()) is None
    big = "x = 0.5; " + " + ".join(["x"] * 3000)
    assert compile_graph(parse(big), frozenset()) is None  # the engine's loops instead


def _array(rows):
    import numpy as np

    return np.array(rows)


def test_a_node_off_the_path_that_cannot_be_computed_gives_the_same_record():
    points = [
        '{"x": 1, "y": 2}',
        '{"x": 3, "y": 4}',
        '{"x": -1, "y": 2}',
        '{"x": 2, "y": 2}',
        '{"x": 0, "y": 1}',
        '{"x": -5, "y": 1}',
    ]
    fast, slow, compiled = both(points, Options(program="q = log(x); r = q*y; f = x*y"))
    assert fast == slow and compiled >= 1
    record = json.loads(fast.splitlines()[2])
    assert record["grads"] == {"x": 2.0, "y": -1.0, "q": None, "r": None, "f": 1.0}
    assert record["warnings"] == [
        "q = log(x) (node #1) is not used by f and cannot be computed:"
        " log of a non-positive number, where x = -1"
    ]
