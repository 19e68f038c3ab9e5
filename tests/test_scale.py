"""Big programs: nothing on the path from text to gradients recurses.

Python's recursion limit is about 1,000 frames, so each of these would fail at
once on a recursive parser, transformer, label builder or topological sort.
(Timing lives in benchmarks/, never here.)
"""

from __future__ import annotations

import math
import sys

import pytest

from bpcli.core.engine import gradients, run
from bpcli.language.parse import parse


@pytest.fixture(autouse=True)
def _default_recursion_limit():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(limit)


def test_100k_term_sum():
    result = run(parse("+".join(["x"] * 100_000), {"x": 0.5}))
    assert result.output == 50_000.0
    assert gradients(result) == {"x": 100_000.0}
    assert len(result.graph.labels()) == 100_000


def test_20k_nested_calls():
    result = run(parse("sin(" * 20_000 + "x" + ")" * 20_000, {"x": 1.0}))
    value, grad = 1.0, 1.0
    for _ in range(20_000):
        grad *= math.cos(value)
        value = math.sin(value)
    assert result.output == pytest.approx(value, rel=1e-12)
    assert gradients(result)["x"] == pytest.approx(grad, rel=1e-9)


def test_20k_nested_parentheses():
    result = run(parse("(" * 20_000 + "x*2" + ")" * 20_000, {"x": 3.0}))
    assert result.output == 6.0 and gradients(result)["x"] == 2.0


def test_20k_nested_negations_and_powers():
    result = run(parse("-" * 20_001 + "x", {"x": 3.0}))
    assert result.output == -3.0 and gradients(result)["x"] == -1.0
    result = run(parse("x" + "^1" * 20_000, {"x": 3.0}))  # right-associative: x^(1^(1^…))
    assert result.output == 3.0 and gradients(result)["x"] == 1.0


def test_50k_statement_program():
    lines = ["a0 = x"] + [f"a{i} = a{i - 1} + x" for i in range(1, 50_000)]
    result = run(parse("\n".join(lines), {"x": 1.0}))
    assert result.output == 50_000.0
    assert gradients(result)["x"] == 50_000.0
    assert gradients(result)["a0"] == 1.0


def test_long_chain_through_the_cli(bpcli, tmp_path):
    path = tmp_path / "big.bp"
    path.write_text(
        "x = 1\n"
        + "\n".join(f"x{i} = x * {i % 7 + 1}" for i in range(20_000))
        + "\nf = "
        + "+".join(f"x{i}" for i in range(20_000))
        + "\n",
        encoding="utf-8",
    )
    result = bpcli("grad", str(path))
    assert result.code == 0
    total = float(sum(i % 7 + 1 for i in range(20_000)))
    assert result.out.endswith(f"∂f/∂x = {total:g}\n")


def test_long_lists_stay_linear(bpcli, tmp_path):
    # a 100,000-element array literal and a 100,000-statement program: a parser that copied
    # its growing lists, or a table that drew every input, would take minutes here
    path = tmp_path / "array.bp"
    path.write_text("sum([" + ",".join(["x"] * 100_000) + "])\n", encoding="utf-8")
    result = bpcli("grad", str(path), "x=1")
    assert result.code == 0 and result.out.endswith("∂f/∂x = 100000\n")
    assert "100,000" in result.out or "99,994 more" in result.out
    path = tmp_path / "statements.bp"
    path.write_text("a = x\n" + "a = a + x\n" * 100_000 + "a\n", encoding="utf-8")
    result = bpcli("grad", str(path), "x=1")
    assert result.code == 0 and result.out.endswith("∂a/∂x = 100001\n")
