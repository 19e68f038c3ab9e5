"""The cs231n backpropagation lecture's own numbers: the acceptance examples.

Each example is checked against its exact closed form (not only the 2 or 4 decimals the
notes print), node by node where the notes go node by node: a node's value is its
forward value, its upstream gradient is result.grad(node) = ∂f/∂node.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from bpcli.core.engine import downstream, gradients, local, run
from bpcli.language.parse import parse

EXACT = {"rel": 1e-12, "abs": 1e-12}


def solve(program: str, **bindings):
    result = run(parse(program, bindings))
    return result, gradients(result)


def sent(result, gate, i):
    """What `gate` sends back to its input i: the edge's downstream gradient."""
    return downstream(result.graph, result.values, gate, i, result.grad(gate))


def node(graph, op_name: str, label: str | None = None):
    """The one node with this op (and label, if given)."""
    found = [
        n
        for n, text in zip(graph.nodes, graph.labels(), strict=True)
        if n.op.name == op_name and (label is None or text == label)
    ]
    assert len(found) == 1, (op_name, label, graph.labels())
    return found[0]


# --- (x + y) * z -------------------------------------------------------------------------


def test_add_then_multiply():
    result, grads = solve("(x+y)*z", x=-2.0, y=5.0, z=-4.0)
    assert result.output == -12
    assert grads == {"x": -4, "y": -4, "z": 3}


def test_add_then_multiply_with_named_intermediate():
    result, grads = solve("q = x + y; f = q*z", x=-2.0, y=5.0, z=-4.0)
    assert result.output == -12
    assert grads == {"x": -4, "y": -4, "z": 3, "q": -4, "f": 1}
    assert "q = x + y" in result.graph.labels()
    assert "f = q*z" in result.graph.labels()


def test_add_then_multiply_with_inputs_in_the_program():
    result, grads = solve("x = -2; y = 5; z = -4\nq = x + y\nf = q * z")
    assert result.output == -12
    assert grads == {"x": -4, "y": -4, "z": 3, "q": -4, "f": 1}


# --- the sigmoid neuron ----------------------------------------------------------------------

NEURON = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
# w·x + b = 2·(-1) + (-3)·(-2) + (-3) = 1, so f = σ(1) and every gradient is a multiple of σ'(1).
SIGMA = 1 / (1 + math.exp(-1))
DSIGMA = SIGMA * (1 - SIGMA)  # = e⁻¹ / (1 + e⁻¹)² ≈ 0.1966
NEURON_GRADS = {"w0": -DSIGMA, "x0": 2 * DSIGMA, "w1": -2 * DSIGMA, "x1": -3 * DSIGMA, "w2": DSIGMA}
LONG_NEURON = "f = 1/(1+exp(-(w0*x0+w1*x1+w2)))"
SIGMOID_NEURON = "f = sigmoid(w0*x0+w1*x1+w2)"


def test_neuron_gives_the_lectures_printed_numbers():
    """bpcli's numbers, rounded as the notes print them; and the closed forms above, which the
    tests below hold bpcli to, are SymPy's own derivatives (not a slip of ours)."""
    result, grads = solve(LONG_NEURON, **NEURON)
    assert round(result.output, 4) == 0.7311
    assert [round(grads[n], 4) for n in NEURON] == [-0.1966, 0.3932, -0.3932, -0.5898, 0.1966]
    symbols = sp.symbols(list(NEURON))
    w0, x0, w1, x1, w2 = symbols
    f = 1 / (1 + sp.exp(-(w0 * x0 + w1 * x1 + w2)))
    at = dict(zip(symbols, NEURON.values(), strict=True))
    assert float(f.subs(at)) == pytest.approx(SIGMA, **EXACT)
    for symbol in symbols:
        assert float(sp.diff(f, symbol).subs(at)) == pytest.approx(NEURON_GRADS[str(symbol)], **EXACT)


@pytest.mark.parametrize("program", [LONG_NEURON, SIGMOID_NEURON, "f = σ(w0*x0 + w1*x1 + w2)"])
def test_neuron_gradients(program):
    result, grads = solve(program, **NEURON)
    assert result.output == pytest.approx(SIGMA, **EXACT)
    for name, want in NEURON_GRADS.items():
        assert grads[name] == pytest.approx(want, **EXACT), name
    assert grads["f"] == 1


def test_neuron_node_by_node():
    result, _ = solve(LONG_NEURON, **NEURON)
    one_plus = node(result.graph, "add", "1 + exp(…)")
    exp = node(result.graph, "exp")
    negation = node(result.graph, "neg")
    weighted_sum = negation.inputs[0]
    assert weighted_sum.op.name == "add"
    assert result.graph.label(weighted_sum) == "w0*x0 + w1*x1 + w2"

    e = math.exp(-1)
    upstream_of_one_plus = -1 / (1 + e) ** 2  # d(1/u)/du at u = 1 + e⁻¹
    assert (result.value(one_plus), result.grad(one_plus)) == pytest.approx(
        (1 + e, upstream_of_one_plus), **EXACT
    )
    assert (result.value(exp), result.grad(exp)) == pytest.approx((e, upstream_of_one_plus), **EXACT)
    assert (result.value(negation), result.grad(negation)) == pytest.approx((-1, -DSIGMA), **EXACT)
    assert (result.value(weighted_sum), result.grad(weighted_sum)) == pytest.approx((1, DSIGMA), **EXACT)
    # ... which are the lecture's 4-decimal numbers
    assert [
        round(v, 4)
        for v in (result.value(one_plus), result.grad(one_plus), result.value(exp), result.grad(exp))
    ] == [
        1.3679,
        -0.5344,
        0.3679,
        -0.5344,
    ]
    assert [
        round(v, 4)
        for v in (
            result.value(negation),
            result.grad(negation),
            result.value(weighted_sum),
            result.grad(weighted_sum),
        )
    ] == [
        -1,
        -0.1966,
        1,
        0.1966,
    ]
    # the output node is the 1/x gate
    assert result.graph.output.op.name == "div" and result.grad(result.graph.output) == 1


def test_neuron_rounded_as_in_the_notes():
    """The numbers written on the wires of the notes' circuit diagram, to 2 decimals.

    Each is the gradient a gate sends back to its input (downstream = upstream × local)."""
    result, grads = solve(LONG_NEURON, **NEURON)
    inverse = result.graph.output  # 1/x
    plus_one = node(result.graph, "add", "1 + exp(…)")
    exp = node(result.graph, "exp")
    times_minus_one = node(result.graph, "neg")
    plus = times_minus_one.inputs[0]

    def wire(gate, i=-1):
        return round(sent(result, gate, i if i >= 0 else len(gate.inputs) - 1), 2)

    assert wire(inverse) == -0.53
    assert wire(plus_one) == -0.53
    assert wire(exp) == -0.20
    assert wire(times_minus_one) == 0.20
    assert wire(plus, 0) == wire(plus, 1) == 0.20
    assert round(grads["w2"], 2) == 0.20
    assert (round(grads["w0"], 2), round(grads["x0"], 2)) == (-0.20, 0.39)
    assert (round(grads["w1"], 2), round(grads["x1"], 2)) == (-0.39, -0.59)


def test_sigmoid_gate_local_gradient():
    result, _ = solve(SIGMOID_NEURON, **NEURON)
    sigmoid = node(result.graph, "sigmoid")
    assert result.value(sigmoid) == pytest.approx(SIGMA, **EXACT)
    assert local(result, sigmoid, 0) == pytest.approx(SIGMA * (1 - SIGMA), **EXACT)
    assert round(local(result, sigmoid, 0), 4) == 0.1966
    # the sigmoid gate collapses the four gates after the sum into one: same upstream at the sum
    assert result.grad(sigmoid.inputs[0]) == pytest.approx(DSIGMA, **EXACT)


def test_neuron_in_steps_as_the_notes_code_writes_it():
    program = """
dot = w0*x0 + w1*x1 + w2
f = 1.0 / (1 + exp(-dot))  # sigmoid function
"""
    result, grads = solve(program, **NEURON)
    assert result.output == pytest.approx(SIGMA, **EXACT)
    assert grads["dot"] == pytest.approx((1 - SIGMA) * SIGMA, **EXACT)
    for name, want in NEURON_GRADS.items():
        assert grads[name] == pytest.approx(want, **EXACT), name


# --- staged computation: f(x, y) = (x + σ(y)) / (σ(x) + (x + y)²) at x = 3, y = -4 ---------

STAGED = """
x = 3 # example values
y = -4
# forward pass
sigy = 1.0 / (1 + exp(-y))  # sigmoid in numerator   #(1)
num = x + sigy  # numerator                             #(2)
sigx = 1.0 / (1 + exp(-x))  # sigmoid in denominator #(3)
xpy = x + y                                            #(4)
xpysqr = xpy**2                                        #(5)
den = sigx + xpysqr  # denominator                      #(6)
invden = 1.0 / den                                     #(7)
f = num * invden  # done!                              #(8)
"""


def test_staged_computation():
    result, grads = solve(STAGED)
    x, y = sp.symbols("x y")
    sigma = lambda t: 1 / (1 + sp.exp(-t))  # noqa: E731
    f = (x + sigma(y)) / (sigma(x) + (x + y) ** 2)
    at = {x: 3, y: -4}
    assert result.output == pytest.approx(float(f.subs(at)), **EXACT)
    assert grads["x"] == pytest.approx(float(sp.diff(f, x).subs(at)), **EXACT)
    assert grads["y"] == pytest.approx(float(sp.diff(f, y).subs(at)), **EXACT)
    # the notes' backward pass, line by line, each against its closed form
    num, invden = float((x + sigma(y)).subs(at)), float((1 / (sigma(x) + (x + y) ** 2)).subs(at))
    xpy = 3 + -4
    through_den = -num * invden**2  # ∂f/∂den for f = num / den
    assert grads["num"] == pytest.approx(invden, **EXACT)
    assert grads["invden"] == pytest.approx(num, **EXACT)
    assert grads["den"] == pytest.approx(through_den, **EXACT)
    assert grads["sigx"] == pytest.approx(through_den, **EXACT)  # den = sigx + xpysqr
    assert grads["xpysqr"] == pytest.approx(through_den, **EXACT)
    assert grads["xpy"] == pytest.approx(2 * xpy * through_den, **EXACT)  # xpysqr = xpy**2
    assert grads["sigy"] == pytest.approx(invden, **EXACT)  # num = x + sigy


# --- the vector example: f = ‖W x‖² ------------------------------------------------------------

W = np.array([[0.1, 0.5], [-0.3, 0.8]])
X = np.array([0.2, 0.4])
Q = np.array([0.22, 0.26])
DW = np.array([[0.088, 0.176], [0.104, 0.208]])
DX = np.array([-0.112, 0.636])


def test_vector_example_against_sympy():
    """The lecture's numbers (DW, DX above, compared with bpcli below) are SymPy's derivatives
    of ‖W x‖², entry by entry; and so are bpcli's."""
    w = sp.Matrix(2, 2, sp.symbols("w:2:2"))
    x = sp.Matrix(sp.symbols("x:2"))
    f = sum(q**2 for q in w * x)
    at = {**dict(zip(w, W.flatten(), strict=True)), **dict(zip(x, X, strict=True))}
    want_w = np.array([[float(sp.diff(f, w[i, j]).subs(at)) for j in range(2)] for i in range(2)])
    want_x = np.array([float(sp.diff(f, x[i]).subs(at)) for i in range(2)])
    np.testing.assert_allclose(want_w, DW, rtol=1e-12)
    np.testing.assert_allclose(want_x, DX, rtol=1e-12)
    result, grads = solve("sum((W@x)^2)", W=W.copy(), x=X.copy())
    assert result.output == pytest.approx(float(f.subs(at)), rel=1e-12)
    np.testing.assert_allclose(grads["W"], want_w, rtol=1e-12)
    np.testing.assert_allclose(grads["x"], want_x, rtol=1e-12)


@pytest.mark.parametrize(
    "program",
    ["sum((W@x)^2)", "q = W@x; f = sum(q^2)", "norm(W@x)^2", "sum((W @ x)**2)", "q = W @ x\nf = sum(q * q)"],
)
def test_vector_example(program):
    result, grads = solve(program, W=W.copy(), x=X.copy())
    assert result.output == pytest.approx(0.116, rel=1e-12)
    np.testing.assert_allclose(grads["W"], DW, rtol=1e-12)
    np.testing.assert_allclose(grads["x"], DX, rtol=1e-12)
    assert grads["W"].shape == (2, 2) and grads["x"].shape == (2,)
    np.testing.assert_allclose(result.value(node(result.graph, "matmul")), Q, rtol=1e-12)


def test_vector_example_intermediate_gradient_is_2q():
    _, grads = solve("q = W@x; f = sum(q^2)", W=W.copy(), x=X.copy())
    np.testing.assert_allclose(grads["q"], 2 * Q, rtol=1e-12)
    np.testing.assert_allclose(grads["q"], [0.44, 0.52], rtol=1e-12)
    assert grads["f"] == 1


def test_vector_example_does_not_modify_the_bindings():
    w, x = W.copy(), X.copy()
    solve("q = W@x; f = sum(q^2)", W=w, x=x)
    np.testing.assert_array_equal(w, W)
    np.testing.assert_array_equal(x, X)


# --- gate patterns ---------------------------------------------------------------------------------


def test_simple_gates_from_the_notes():
    assert solve("x*y", x=4.0, y=-3.0)[1] == {"x": -3, "y": 4}
    assert solve("x+y", x=4.0, y=-3.0)[1] == {"x": 1, "y": 1}
    assert solve("max(x, y)", x=4.0, y=2.0)[1] == {"x": 1, "y": 0}


def test_add_gate_distributes():
    """Both inputs of + receive the upstream gradient unchanged."""
    result, grads = solve("q = x + y; f = q * 7", x=1.5, y=-0.25)
    add = node(result.graph, "add")
    assert result.grad(add) == 7
    assert [sent(result, add, i) for i in (0, 1)] == [7, 7]
    assert grads["x"] == grads["y"] == 7
    # subtraction distributes too, with a sign
    assert solve("(x - y) * 7", x=1.5, y=-0.25)[1] == {"x": 7, "y": -7}


def test_mul_gate_swaps():
    """Each input of * receives the upstream gradient times the other input."""
    result, grads = solve("q = x * y; f = 3 * q", x=4.0, y=-3.0)
    mul = node(result.graph, "mul", "q = x*y")
    assert result.grad(mul) == 3
    assert [local(result, mul, i) for i in (0, 1)] == [-3, 4]
    assert grads["x"] == 3 * -3.0 and grads["y"] == 3 * 4.0


@pytest.mark.parametrize(
    ("program", "x", "y", "dx", "dy"),
    [
        ("2 * max(x, y)", 4.0, 2.0, 2, 0),
        ("2 * max(x, y)", -1.0, 3.0, 0, 2),
        ("2 * min(x, y)", 4.0, 2.0, 0, 2),
        ("2 * min(x, y)", -1.0, 3.0, 2, 0),
        ("2 * max(x, y)", 1.5, 1.5, 1, 1),  # a tie: half each, as PyTorch's maximum
    ],
)
def test_max_gate_routes(program, x, y, dx, dy):
    """Only the winning input of max (or min) receives the gradient."""
    _, grads = solve(program, x=x, y=y)
    assert grads == {"x": dx, "y": dy}


def test_relu_routes():
    assert solve("3 * relu(x)", x=2.0)[1] == {"x": 3}
    assert solve("3 * relu(x)", x=-2.0)[1] == {"x": 0}


def test_fan_out_adds_gradients():
    """A variable used twice gets the sum of the gradients of both uses."""
    result, grads = solve("f = x*y + x", x=2.0, y=5.0)
    assert grads["x"] == 5 + 1
    assert sum(1 for n in result.graph.nodes if n.op.name == "input") == 2  # one node for x, used twice
    _, grads = solve("a = 3*x; b = x*x; f = a + b", x=2.0)
    assert grads == {"x": 3 + 2 * 2, "a": 1, "b": 1, "f": 1}
