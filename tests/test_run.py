"""The graph is the program and never changes; a Run is one evaluation of it.

Everything that evaluates a graph (grad, --gradcheck, check's diagnosis, batch's reuse)
reads it and writes only results of its own. The backward pass is one function, and what
it does for an edge is `downstream`'s rule, also where it takes a shortcut for floats.
"""

from __future__ import annotations

import math

import pytest

from bpcli.batch.reuse import ProgramCache, skeleton
from bpcli.core.engine import accumulate, backward, downstream, forward, gradients, one_sided_gradients, run
from bpcli.core.graph import Graph, Node
from bpcli.grading.answers import expectations
from bpcli.grading.diagnose import check
from bpcli.grading.gradcheck import gradcheck
from bpcli.language.parse import parse

PROGRAMS = [
    "f = (x+y)*z",
    "q = x*y; f = q*q + max(q, z) - relu(x) / (1 + exp(-z))",
    "f = x^2 + 2^x + abs(z) * sqrt(x*x + 1) + log(x*x) + (x*x)^z",
    "a = x*x; b = a*a; c = a + b; f = tanh(c) * sigmoid(x) + min(x, y)",
]
POINT = {"x": 0.5, "y": -1.25, "z": 2.0}


def snapshot(graph: Graph) -> list[object]:
    """Everything a graph holds, as values to compare (nodes field by field)."""
    nodes = [tuple(getattr(n, slot) for slot in Node.__slots__) for n in graph.nodes]
    leaves = [v if v is None or type(v) is float else (v.shape, v.tolist()) for v in graph.leaves]
    return [nodes, leaves, graph.warnings, graph.source, graph.output_text, graph.smooth]


@pytest.mark.parametrize("program", [*PROGRAMS, "v = [x, y]; f = sum(v * v) + relu(x) + max(v)"])
def test_evaluating_a_graph_leaves_it_as_built(program):
    graph = parse(program, POINT)
    before = snapshot(graph)
    first = run(graph, record=True)
    forward(graph)
    gradcheck(first)
    check(first, expectations([("x", "1.5", None), ("dx", "7", None)], set(graph.names)))
    one_sided_gradients(first, {k: 1.0 for k in first.kinks})
    again = run(graph)
    assert snapshot(graph) == before
    assert repr(again.values) == repr(first.values) and repr(gradients(again)) == repr(gradients(first))
    assert not hasattr(graph.nodes[0], "value") and not hasattr(graph.nodes[0], "grad")


def test_reuse_gives_each_problem_a_graph_of_its_own_sharing_the_nodes():
    cache = ProgramCache()
    text = "w = 2; x = -1; f = w*x + 3"
    first = cache.run(text, {})
    template = next(t for t in cache.templates.values() if t is not None)
    before = snapshot(template.graph)
    other = "w = 5; x = -7; f = w*x + 1"  # (x's number is 7, written with a sign)
    applied = template.apply(other, skeleton(other)[1], {})
    assert applied is not None and applied is not template.graph
    assert applied.nodes is template.graph.nodes  # the structure is shared, not copied
    assert snapshot(template.graph) == before  # and the template is not changed
    assert run(applied).output == -34.0 and cache.run(other, {}).output == -34.0
    assert first.output == 1.0 and first.graph.labels()[-1] == "f = w*x + 3"
    assert applied.labels()[-1] == "f = w*x + 1"


def by_edges(graph: Graph, values: list) -> list:
    """The backward pass written with `downstream` and `accumulate` for every edge."""
    grads: list = [None] * len(graph.nodes)
    grads[graph.output.id] = 1.0
    for node in reversed(graph.nodes):
        g = grads[node.id]
        if g is None:
            continue
        for i, inp in enumerate(node.inputs):
            if inp.needs_grad:
                d = downstream(graph, values, node, i, g)
                total = grads[inp.id]
                grads[inp.id] = d if total is None else accumulate(graph, grads, inp, node, total, d)
    return grads


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("x", [0.5, -2.0, 3.0, 1e-3])
def test_the_pass_over_floats_is_downstream_edge_by_edge_to_the_last_bit(program, x):
    graph = parse(program, {**POINT, "x": x})
    assert not graph.has_arrays
    values = forward(graph).values
    got, _ = backward(graph, values)
    want = by_edges(graph, values)
    assert [g if g is None else float(g).hex() for g in got] == [w if w is None else w.hex() for w in want]


def test_a_one_sided_derivative_is_the_same_pass_with_inputs_substituted():
    result = run(parse("f = 3*relu(x) + abs(y)", {"x": 0.0, "y": 0.0}))
    relu, absolute = result.kinks
    x, y = result.graph.inputs["x"].id, result.graph.inputs["y"].id
    assert (result.grads[x], result.grads[y]) == (0.0, 0.0)  # PyTorch's convention at the kinks
    above = one_sided_gradients(result, {relu: 1.0, absolute: 1.0})
    below = one_sided_gradients(result, {relu: -1.0, absolute: -1.0})
    assert (above[x], above[y]) == (3.0, 1.0) and (below[x], below[y]) == (0.0, -1.0)
    assert (result.grads[x], result.grads[y]) == (0.0, 0.0)  # the run's own gradients stay


def test_an_error_on_the_float_shortcut_is_downstreams():
    graph = parse("f = 1/x", {"x": 1e-200})  # f fits, its derivative -1/x² does not
    with pytest.raises(Exception) as shortcut:
        run(graph)
    values = forward(graph).values
    with pytest.raises(Exception) as edge:
        by_edges(graph, values)
    assert type(shortcut.value) is type(edge.value) and str(shortcut.value) == str(edge.value)
    assert "cannot be computed" in str(shortcut.value) and not math.isnan(values[graph.output.id])


def test_a_run_is_not_changed_once_returned():
    result = run(parse("(x+y)*z", POINT))
    with pytest.raises(AttributeError):
        result.grads = []  # type: ignore[misc]
    more = result.with_warnings(["one more"])
    assert more is not result and more.warnings[-1] == "one more" and "one more" not in result.warnings
    assert more.grads is result.grads and more.values is result.values
