"""The direct path (bpcli/language/direct.py: a straight-line program evaluated as the parser
reduces it, with no expression trees) makes what the tree path makes: the same graph (node
ids, ops, names, spans, scopes, labels, leaves, the numbers batch re-uses, warnings, output),
or the same error (message, place, hint, fix)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy_programs import drawn, make_program
from test_grammar import PROGRAMS, grammar_programs
from test_oracle import multi_statement_programs, single_expressions

from bpcli.core.graph import Graph, Node
from bpcli.errors import BpcliError
from bpcli.language import parse as parse_module
from bpcli.language.parse import parse

from conftest import ROOT, SAMPLES

MIXED = (ROOT / "tests" / "records" / "mixed.jsonl").read_text(encoding="utf-8").splitlines()


def _plain(value: Any) -> Any:
    """A value compared by what it holds: nodes by id, arrays by dtype, shape and items."""
    if type(value) is Node:
        return ("node", value.id)
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, _plain(value.tolist()))
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, dict):
        return [(k, _plain(v)) for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(value)
    return value


def _graph(graph: Graph) -> dict[str, Any]:
    nodes = [
        (n.id, n.op.name, n.name, [i.id for i in n.inputs], n.start, n.end, n.needs_grad)
        + ((n.scope.label(), n.scope.heading()) if n.scope is not None else ())
        for n in graph.nodes
    ]
    rest = {k: _plain(v) for k, v in vars(graph).items() if k not in ("nodes", "_labels", "_exprs", "leads")}
    return {"nodes": nodes, "labels": graph.labels(), **rest}


def _error(err: BpcliError) -> tuple[Any, ...]:
    return (type(err).__name__, str(err), err.pos, err.hint, getattr(err, "fix", None))


class _Counting:
    """The tree path's parser, counting the texts it reads."""

    def __init__(self, parser: Any) -> None:
        self.parser = parser
        self.count = 0

    def parse(self, text: str) -> object:
        self.count += 1
        return self.parser.parse(text)


@contextmanager
def _path(direct: bool) -> Iterator[_Counting]:
    saved = parse_module.DIRECT, parse_module._tree_parser
    counting = _Counting(saved[1])
    parse_module.DIRECT = direct
    parse_module._tree_parser = counting  # type: ignore[assignment]
    try:
        yield counting
    finally:
        parse_module.DIRECT, parse_module._tree_parser = saved


def _outcome(program: str, bindings: dict[str, Any], direct: bool) -> tuple[Any, int]:
    """What parse makes of the program on one path, and how often the tree path ran."""
    with _path(direct) as trees:
        try:
            made: Any = _graph(parse(program, bindings, seed=0))
        except BpcliError as err:
            made = _error(err)
    return made, trees.count


def assert_same(program: str, bindings: dict[str, Any] | None = None, direct: bool | None = None) -> None:
    """Both paths make the same; `direct`: whether the direct path alone should have made it
    (True), or the tree path too (False)."""
    made, trees = _outcome(program, bindings or {}, True)
    expected, _ = _outcome(program, bindings or {}, False)
    assert made == expected
    if direct is not None:
        assert (trees == 0) == direct, f"the tree path ran {trees} times"


# --- what takes which path ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("program", "direct"),
    [
        ("f = 1/(1+exp(-(w0*x0+w1*x1+w2)))", True),
        ("a = 2; b = -a^2 + 3; f = max(a, b) * sigmoid(a) ** 2 - log(x)", True),
        ("W = [[1, 2], [3, 4]]\nv = [0.5, -1]\nf = sum((W @ v.T) ^ 2)", True),
        ("a = 2\nb = a\nb += a\nprint(b)\nf = b * a", True),
        ("f = 1 if x > 0 else 2", False),  # (lazy: the interpreter jumps in its tree)
        ("for i in range(3):\n    x = x + i\nf = x", False),
        ("def g(z):\n    return z * 2\nf = g(3)", False),
        ("f = x and y", False),
        ("f = expp(x)", False),  # (an error: the tree path says it)
        ("f = exp(x) + (", False),
    ],
)
def test_straight_line_programs_take_the_direct_path(program, direct):
    bindings = {"x": 1.5, "y": -0.5, "w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
    assert_same(program, bindings, direct)


def test_an_expression_statement_that_is_a_call_is_made_for_its_effect():
    """A call as a statement (print(x), a.append(1)) may stand anywhere; any other expression
    only last: the direct path tells a call by its value, as the tree path by its rule."""
    for call in ("print(x)", "exp(x)", "x.sum()"):
        assert_same(f"{call}\nf = x * 2", {"x": 1.0}, True)
        assert_same(f"[{call}][0]\nf = x * 2", {"x": 1.0})
        assert_same(f"({call})\nf = x * 2", {"x": 1.0})
        assert_same(f"-{call}\nf = x * 2", {"x": 1.0})
    assert_same("x * 3\nf = x * 2", {"x": 1.0})


# --- whole programs ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(SAMPLES.rglob("*.bp")), ids=lambda p: str(p.relative_to(SAMPLES)))
def test_the_samples(path):
    assert_same(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("program", PROGRAMS)
def test_the_grammar_tests_programs(program):
    assert_same(program, {"x": 1.0, "y": 2.0})


def test_the_mixed_batch_of_the_records_test():
    """Distinct problems, errors of every kind, repeated structures (tests/records)."""
    for line in MIXED:
        if line.startswith("{"):
            try:
                problem = json.loads(line)
                assert_same(problem["program"], problem.get("bindings") or {})
                continue
            except (ValueError, TypeError, KeyError, AttributeError):
                pass
        assert_same(line)


def test_a_long_sum_takes_the_direct_path():
    program = "+".join(f"x{i}" for i in range(1, 3001))
    assert_same(program, {f"x{i}": 0.5 for i in range(1, 3001)}, True)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(single_expressions(), multi_statement_programs()))
def test_random_scalar_programs(program):
    """The oracle's programs (tests/test_oracle.py): straight-line, and all direct."""
    assert_same(program.text, program.bindings, True)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data(), st.integers(1, 8), st.integers(0, 2**32 - 1))
def test_random_numpy_programs(data, length, seed):
    """The numpy oracle's programs (tests/numpy_programs.py): arrays, indexing, masks, in-place
    changes, shapes read as integers; straight-line, and all direct."""
    p = make_program(drawn(data), seed, length)
    assert_same(p.bpcli_text(), {**p.values(), **p.data}, True)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(grammar_programs())
def test_random_programs_over_the_whole_grammar(program):
    """Programs of every statement and expression form (tests/test_grammar.py), most of them
    errors of one kind or another: the same graph or the same error."""
    assert_same(program, {"x": 1.0, "y": 2.0, "w0": 0.5})
