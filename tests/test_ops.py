"""Every op's gradient against a central finite difference of bpcli's own forward pass.

In the style of HIPS autograd's test_systematic.py: one line per op in OP_LINES (how a
program calls it, a numpy reference, the domain of each input, the shapes to try), each
checked by `check_grads`, which runs forward + backward and compares every gradient with
(f(v + h) - f(v - h)) / 2h, element by element, where f is bpcli's forward pass re-run with
the perturbed binding. Array results are wrapped in `sum(r * C)` with a fixed random C, so
that gradients are not uniform (C is a binding too, so its gradient is checked as well).

`test_every_differentiable_op_has_a_line` fails when an op is registered without a line
here, and `test_every_function_name_reaches_its_op` when a function name reaches no op. Ops
that pass no gradient (comparisons; // is piecewise constant) have a line in ZERO_GRAD_LINES
instead: their value against numpy, and a gradient of zero (or none).

Families (ops with static parameters: reshape, transpose(axes), concatenate, sum(axis=1), …)
have lines in FAMILY_LINES, each naming the member it must reach; every family needs one,
and every numpy function name (CALLS) and array method (METHODS) must reach its family.
Indexing and index assignment, which the builder makes from the subscript, have whole
programs in INDEX_PROGRAMS, checked the same way and run by numpy itself for the value.
"""

from __future__ import annotations

import math
import re
import zlib
from fractions import Fraction
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bpcli.core.engine import forward, gradients, run
from bpcli.core.ops import CALLS, FAMILIES, FUNCTIONS, METHODS, OPS
from bpcli.errors import BpcliError, DomainError, ShapeError
from bpcli.language.parse import parse

H = 1e-6  # finite-difference step, scaled by max(1, |v|)
RTOL, ATOL = 1e-5, 1e-6

SHAPES = [(), (2,), (3, 2), (1, 2)]
BROADCAST_PAIRS = [
    ((3, 2), (1, 2)),
    ((1, 2), (3, 2)),
    ((3, 2), ()),
    ((), (3, 2)),
    ((2,), (3, 2)),
    ((3, 2), (2,)),
]
BINARY_SHAPES = [(s, s) for s in SHAPES] + BROADCAST_PAIRS


# --- helpers --------------------------------------------------------------------------------


def evaluate(program: str, bindings: dict) -> float:
    """bpcli's forward pass only: f at these bindings."""
    return forward(parse(program, bindings)).output


def numeric_grad(program: str, bindings: dict, name: str):
    """Central finite difference of f with respect to every element of bindings[name]."""
    value = np.array(bindings[name], dtype=float)
    grad = np.zeros_like(value)
    for index in np.ndindex(value.shape):
        h = H * max(1.0, abs(value[index]))
        fs = []
        for step in (h, -h):
            moved = value.copy()
            moved[index] += step
            fs.append(evaluate(program, {**bindings, name: float(moved) if moved.ndim == 0 else moved}))
        grad[index] = (fs[0] - fs[1]) / (2 * h)
    return float(grad) if grad.ndim == 0 else grad


def check_grads(program: str, **bindings):
    """Run bpcli; check each binding's gradient (shape, type, value) against finite differences."""
    result = run(parse(program, bindings))
    assert type(result.output) is float, program
    assert not result.kinks, f"{program}: test point is at a kink"
    grads = gradients(result)
    for name, value in bindings.items():
        grad = grads[name]
        where = f"∂({program})/∂{name} at {bindings}"
        assert np.shape(grad) == np.shape(value), where
        if type(value) is float:
            assert type(grad) is float, f"{where}: a {type(grad).__name__}, not a float"
        else:
            assert isinstance(grad, np.ndarray), where
        np.testing.assert_allclose(
            grad, numeric_grad(program, bindings, name), rtol=RTOL, atol=ATOL, err_msg=where
        )
    return result


def rng_for(key: str) -> np.random.Generator:
    """A generator seeded by the test's own key, so each test is reproducible on its own."""
    return np.random.default_rng(zlib.crc32(key.encode()))


# Domains: (low, high, away_from_zero).
REAL = (-2.0, 2.0, False)
POSITIVE = (0.3, 3.0, False)
NONZERO = (-2.0, 2.0, True)  # |x| >= 0.2: off the kinks of relu/abs, and safe to divide by
NEAR_ZERO = (-1.2, 1.2, False)  # tan: far from pi/2
SMALL_INTEGERS = (-1, 1, "integers")  # -1, 0 or 1: == and != hold somewhere


def draw(rng: np.random.Generator, shape: tuple, domain=REAL):
    low, high, away_from_zero = domain
    if away_from_zero == "integers":
        x = rng.integers(low, high + 1, shape).astype(float)
        return float(x) if x.ndim == 0 else x
    x = rng.uniform(low, high, shape)
    if away_from_zero:
        x = x + 0.2 * np.where(x < 0, -1.0, 1.0)
    return float(x) if x.ndim == 0 else x


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def logsumexp(x):
    x = np.asarray(x, dtype=float)
    return x if x.ndim == 0 else np.log(np.sum(np.exp(x), axis=-1))


def softmax(x):
    return np.exp(logsoftmax(x))


def logsoftmax(x):
    x = np.asarray(x, dtype=float)
    return x - np.expand_dims(logsumexp(x), -1) if x.ndim else np.float64(0.0)


class Line(NamedTuple):
    """How to check one op: `call` applies it to the inputs {x} (and {y}); `reference`
    computes the same with numpy; one domain per input; the input shapes to try."""

    call: str
    reference: object
    domains: tuple
    shapes: list


UNARY_SHAPES = [(s,) for s in SHAPES]
ROWS = [((),), ((3,),), ((2, 3),), ((1, 2),)]  # for the ops along the last axis

# One line per differentiable op. The program is `r = <call>; r` (or `sum(r * C)` when the
# result is an array), so `{x}` alone is the id gate of `r = x`.
OP_LINES = {
    "add": Line("{x} + {y}", np.add, (REAL, REAL), BINARY_SHAPES),
    "sub": Line("{x} - {y}", np.subtract, (REAL, REAL), BINARY_SHAPES),
    "mul": Line("{x} * {y}", np.multiply, (REAL, REAL), BINARY_SHAPES),
    "div": Line("{x} / {y}", np.divide, (REAL, NONZERO), BINARY_SHAPES),
    "neg": Line("-{x}", np.negative, (REAL,), UNARY_SHAPES),
    "id": Line("{x}", lambda x: x, (REAL,), UNARY_SHAPES),
    "pow": Line("{x} ^ {y}", np.power, (POSITIVE, REAL), BINARY_SHAPES),
    "exp": Line("exp({x})", np.exp, (REAL,), UNARY_SHAPES),
    "log": Line("log({x})", np.log, (POSITIVE,), UNARY_SHAPES),
    "log1p": Line("log1p({x})", np.log1p, ((-0.7, 2.0, False),), UNARY_SHAPES),
    "sqrt": Line("sqrt({x})", np.sqrt, (POSITIVE,), UNARY_SHAPES),
    "sin": Line("sin({x})", np.sin, (REAL,), UNARY_SHAPES),
    "cos": Line("cos({x})", np.cos, (REAL,), UNARY_SHAPES),
    "tan": Line("tan({x})", np.tan, (NEAR_ZERO,), UNARY_SHAPES),
    "tanh": Line("tanh({x})", np.tanh, (REAL,), UNARY_SHAPES),
    "sigmoid": Line("sigmoid({x})", sigmoid, (REAL,), UNARY_SHAPES),
    "logsigmoid": Line("logsigmoid({x})", lambda x: np.log(sigmoid(x)), (REAL,), UNARY_SHAPES),
    "softplus": Line("softplus({x})", lambda x: np.logaddexp(0.0, x), (REAL,), UNARY_SHAPES),
    "relu": Line("relu({x})", lambda x: np.maximum(x, 0.0), (NONZERO,), UNARY_SHAPES),
    "abs": Line("abs({x})", np.abs, (NONZERO,), UNARY_SHAPES),
    "max": Line("max({x}, {y})", np.maximum, (REAL, REAL), BINARY_SHAPES),
    "min": Line("min({x}, {y})", np.minimum, (REAL, REAL), BINARY_SHAPES),
    "matmul": Line(
        "{x} @ {y}", np.matmul, (REAL, REAL), [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4))]
    ),
    "dot": Line("dot({x}, {y})", np.dot, (REAL, REAL), [((3,), (3,)), ((2,), (2,))]),
    "transpose": Line("{x}.T", np.transpose, (REAL,), UNARY_SHAPES),
    "stack": Line("[{x}, {y}]", lambda x, y: np.stack([x, y]), (REAL, REAL), [((), ()), ((2,), (2,))]),
    "sum": Line("sum({x})", np.sum, (REAL,), UNARY_SHAPES),
    "mean": Line("mean({x})", np.mean, (REAL,), UNARY_SHAPES),
    "norm": Line("norm({x})", lambda x: np.sqrt(np.sum(np.square(x))), (NONZERO,), UNARY_SHAPES),
    "amax": Line("max({x})", np.max, (REAL,), UNARY_SHAPES),
    "amin": Line("min({x})", np.min, (REAL,), UNARY_SHAPES),
    "logsumexp": Line("logsumexp({x})", logsumexp, (REAL,), [*ROWS, ((3, 2),)]),
    "softmax": Line("softmax({x})", softmax, (REAL,), ROWS),
    "logsoftmax": Line("logsoftmax({x})", logsoftmax, (REAL,), ROWS),
    # numpy's array ops (bpcli.core.ops.arrays)
    "where": Line(
        "where({x} > 0, {y}, {z})",
        lambda c, x, y: np.where(c > 0, x, y),
        (NONZERO, REAL, REAL),
        [
            ((), (), ()),
            ((3, 2), (3, 2), (3, 2)),
            ((3, 2), (), (1, 2)),
            ((2,), (3, 2), ()),
            ((1, 2), (3, 1), (2,)),
        ],
    ),
    "mod": Line("{x} % {y}", np.mod, ((0.3, 3.0, False), (0.4, 0.9, False)), BINARY_SHAPES),
    "copy": Line("{x}.copy()", np.copy, (REAL,), [*UNARY_SHAPES, ((2, 3, 4),)]),
}

# Ops through which no gradient flows: a comparison (its result is a boolean array), and //
# (piecewise constant). The value against numpy; the gradient of every input zero or none.
ZERO_GRAD_LINES = {
    "gt": Line("{x} > {y}", np.greater, (REAL, REAL), BINARY_SHAPES),
    "ge": Line("{x} >= {y}", np.greater_equal, (SMALL_INTEGERS, SMALL_INTEGERS), BINARY_SHAPES),
    "lt": Line("{x} < {y}", np.less, (REAL, REAL), BINARY_SHAPES),
    "le": Line("{x} <= {y}", np.less_equal, (SMALL_INTEGERS, SMALL_INTEGERS), BINARY_SHAPES),
    "eq": Line("{x} == {y}", np.equal, (SMALL_INTEGERS, SMALL_INTEGERS), BINARY_SHAPES),
    "ne": Line("{x} != {y}", np.not_equal, (SMALL_INTEGERS, SMALL_INTEGERS), BINARY_SHAPES),
    "floordiv": Line("{x} // {y}", np.floor_divide, ((-3.0, 3.0, False), NONZERO), BINARY_SHAPES),
}


def check_line(name: str, call: str | None = None, shapes: list | None = None) -> None:
    """Check op `name` by its line (or another spelling of its call) at each of its shapes:
    the gradients against finite differences, the value against numpy, and that the op is
    in the result."""
    line = OP_LINES[name]
    names = "xyz"[: len(line.domains)]
    expr = (call or line.call).format(**{n: n for n in names})
    for input_shapes in shapes or line.shapes:
        rng = rng_for(f"{name} {input_shapes}")
        inputs = {n: draw(rng, s, d) for n, s, d in zip(names, input_shapes, line.domains, strict=True)}
        expected = np.asarray(line.reference(*inputs.values()), dtype=float)
        if expected.ndim == 0:
            result = check_grads(f"r = {expr}; r", **inputs)
        else:
            c = rng.normal(size=expected.shape)
            result = check_grads(f"r = {expr}; sum(r * C)", **inputs, C=c)
            expected = np.sum(expected * c)
        where = f"{expr} at shapes {input_shapes}"
        assert OPS[name] in {node.op for node in result.graph.nodes}, f"{where} has no {name} gate"
        assert result.output == pytest.approx(float(expected), rel=1e-12, abs=1e-12), where


@pytest.mark.parametrize("name", list(OP_LINES))
def test_op(name):
    check_line(name)


def test_every_differentiable_op_has_a_line():
    gates = {name for name, op in OPS.items() if op.arity != 0}
    assert gates - set(OP_LINES) - set(ZERO_GRAD_LINES) == set()
    assert {name for name in gates if not OPS[name].differentiable} <= set(ZERO_GRAD_LINES)
    assert set(OP_LINES) & set(ZERO_GRAD_LINES) == set()


@pytest.mark.parametrize("alias", sorted(FUNCTIONS))
def test_every_function_name_reaches_its_op(alias):
    name = FUNCTIONS[alias]
    line = OP_LINES[name]
    called = re.match(r"(\w+)\(", line.call)
    if called and FUNCTIONS.get(called.group(1)) == name:  # where({x} > 0, …): the same call
        call = alias + line.call[len(called.group(1)) :]
    else:
        call = f"{alias}({', '.join('{' + n + '}' for n in 'xyz'[: OPS[name].arity])})"
    check_line(name, call, line.shapes[:2])


def check_zero_grad_line(name: str) -> None:
    """An op that passes no gradient: its value against numpy at each of its shapes, every
    input's gradient zero (or none), and the gradient of the weights C it is multiplied by
    the op's value itself (so the value reaches f)."""
    line = ZERO_GRAD_LINES[name]
    names = "xyz"[: len(line.domains)]
    expr = line.call.format(**{n: n for n in names})
    for input_shapes in line.shapes:
        rng = rng_for(f"{name} {input_shapes}")
        inputs = {n: draw(rng, s, d) for n, s, d in zip(names, input_shapes, line.domains, strict=True)}
        expected = np.asarray(line.reference(*inputs.values()), dtype=float)
        c = rng.normal(size=expected.shape)
        program = f"r = {expr}; sum(r * C)" if expected.ndim else f"r = {expr}; r * C"
        bindings = {**inputs, "C": float(c) if c.ndim == 0 else c}
        result = run(parse(program, bindings))
        grads = gradients(result)
        where = f"{expr} at shapes {input_shapes}"
        assert OPS[name] in {node.op for node in result.graph.nodes}, f"{where} has no {name} gate"
        assert result.output == pytest.approx(float(np.sum(expected * c)), rel=1e-12, abs=1e-12), where
        np.testing.assert_array_equal(grads["C"], expected, err_msg=where)
        for n in names:
            grad = grads[n]
            assert grad is None or (np.shape(grad) == np.shape(inputs[n]) and not np.any(grad)), (where, n)


@pytest.mark.parametrize("name", list(ZERO_GRAD_LINES))
def test_op_with_no_gradient(name):
    check_zero_grad_line(name)


def test_a_comparison_is_not_differentiable_and_floor_division_sends_zeros():
    for name in ("gt", "ge", "lt", "le", "eq", "ne"):
        assert not OPS[name].differentiable and OPS[name].boolean, name
    x, y = np.array([2.5, -1.5]), np.array([0.5, 0.5])
    for vjp in OPS["floordiv"].array_vjps[:2]:
        np.testing.assert_array_equal(vjp(np.ones(2), np.floor_divide(x, y), x, y), [0.0, 0.0])
    assert [vjp(1.0, 5.0, 2.5, 0.5) for vjp in OPS["floordiv"].vjps[:2]] == [0.0, 0.0]


def test_a_comparison_stops_the_gradient_where_it_is_used_as_a_number():
    # (x > 0) * x: the product rule's second term only, x's gradient is the mask
    result = check_grads("sum((x > 0) * x * C)", x=np.array([[1.5, -0.5], [-2.0, 0.3]]), C=np.ones((2, 2)))
    np.testing.assert_array_equal(gradients(result)["x"], [[1.0, 0.0], [0.0, 1.0]])


def test_pow_spellings():
    check_line("pow", "{x} ** {y}")
    check_line("pow", "pow({x}, {y})")


def test_log1p_is_exact_where_1_plus_x_rounds():
    for x in (1e-300, -1e-20, 1e-8, 1e300):
        result = run(parse("log1p(x)", {"x": x}))
        assert result.output == math.log1p(x)
        assert gradients(result)["x"] == 1 / (1 + x)
    with pytest.raises(DomainError, match="log1p of a number at most -1"):
        run(parse("log1p(x)", {"x": -1.0}))


def test_log_of_sigmoid_is_one_stable_gate():
    for x, value, grad in [(-1000.0, -1000.0, 1.0), (1000.0, 0.0, 0.0), (0.0, -math.log(2), 0.5)]:
        result = run(parse("log(sigmoid(x))", {"x": x}))
        assert [n.op.name for n in result.graph.nodes] == ["input", "logsigmoid"]
        assert result.output == pytest.approx(value, abs=1e-12)
        assert gradients(result)["x"] == pytest.approx(grad, abs=1e-12)
    result = run(parse("sum(log(softmax(x)))", {"x": np.array([1000.0, 0.0, -1000.0])}))
    assert result.output == pytest.approx(-3000.0)
    np.testing.assert_allclose(gradients(result)["x"], [-2.0, 1.0, 1.0])


def test_pow_with_a_constant_exponent_allows_a_negative_base():
    check_grads("x ^ 2", x=-3.0)
    check_grads("x ^ 3 + x ^ -1", x=-1.5)
    check_grads("sum(x ^ 3 * C)", x=np.array([-1.5, 0.5, 2.0]), C=np.array([1.0, -2.0, 0.5]))


@pytest.mark.parametrize(
    "program, bindings, expected",
    [
        ("x ^ 2", {"x": 0.0}, {"x": 0.0}),
        ("x ^ 1", {"x": 0.0}, {"x": 1.0}),
        # x^0 = 1 is constant, so its gradient is 0 everywhere, 0 included (PyTorch gives 0 too).
        ("x ^ 0", {"x": 0.0}, {"x": 0.0}),
        ("sum(x ^ 0)", {"x": np.array([0.0, 2.0])}, {"x": [0.0, 0.0]}),
    ],
)
def test_pow_gradient_at_zero_base(program, bindings, expected):
    result = run(parse(program, bindings))
    for name, grad in expected.items():
        np.testing.assert_array_equal(gradients(result)[name], grad)


# --- array functions -------------------------------------------------------------------------------


def rows(shape):
    """The shape of a last-axis reduction's result."""
    return shape[:-1]


SCALES = [1e-320, 1e-300, 3e-170, 1e-160, 1.0, 1e150, 1e160, 1e200, 1e300]


def _exact_norm(values) -> Fraction:
    """√(Σ x²) of the floats as they are, to about 40 digits, in exact arithmetic."""
    squares = sum((Fraction(v) ** 2 for v in values), Fraction(0))
    digits = 10**40
    root = Fraction(math.isqrt(squares.numerator * digits**2 // squares.denominator), digits)
    return root


@pytest.mark.parametrize("scale", SCALES)
def test_norm_at_every_scale(scale):
    """Scaled as math.hypot and LAPACK's nrm2 are: no underflow to 0, no overflow while the norm
    fits; the gradient x/norm(x) is right too (issue 13)."""
    x = np.array([3.0, -4.0, 0.5, 0.0]) * scale
    result = run(parse("norm(x)", {"x": x}))
    exact = _exact_norm(x) if scale >= 1 else _exact_norm(x / scale) * Fraction(scale)
    assert result.output == pytest.approx(float(exact), rel=1e-15)
    assert result.output == pytest.approx(math.hypot(*x), rel=1e-15)
    expected = [float(Fraction(v) / Fraction(result.output)) for v in x]
    np.testing.assert_allclose(gradients(result)["x"], expected, rtol=1e-15, atol=1e-300)
    # and by finite differences, with the tiny or huge scale inside the program (subnormal
    # numbers have too few digits left for that)
    if scale >= 1e-300:
        check_grads(f"norm(x * {scale!r}) / {scale!r}", x=np.array([0.3, -1.2, 0.7]))


def test_norm_that_does_not_fit_is_still_an_overflow():
    with pytest.raises(DomainError, match="overflow"):
        run(parse("norm(x)", {"x": np.array([1.5e308, 1.5e308])}))


def test_sum_mean_softmax_and_logsumexp_fit_where_their_results_fit():
    result = run(parse("sum(x)", {"x": np.array([1e308, 1e308, -1e308])}))
    assert result.output == 1e308
    with pytest.raises(DomainError, match="overflow"):
        run(parse("sum(x)", {"x": np.array([1e308, 1e308])}))
    result = run(parse("mean(x)", {"x": np.array([1.7e308, 1.7e308, 1.7e308])}))
    assert result.output == pytest.approx(1.7e308, rel=1e-15)
    np.testing.assert_allclose(gradients(result)["x"], [1 / 3] * 3)
    result = run(parse("sum(softmax(x) * C)", {"x": np.array([1e308, -1e308]), "C": np.array([1.0, 2.0])}))
    assert result.output == 1.0
    result = run(parse("logsumexp(x)", {"x": np.array([1e308, -1e308])}))
    assert result.output == 1e308 and list(gradients(result)["x"]) == [1.0, 0.0]


def test_matmul_quadratic_form():
    rng = rng_for("quadratic")
    x, w = rng.normal(size=3), rng.normal(size=(3, 3))
    result = check_grads("x @ W @ x", x=x, W=w)
    grads = gradients(result)
    np.testing.assert_allclose(grads["x"], (w + w.T) @ x)
    np.testing.assert_allclose(grads["W"], np.outer(x, x))
    assert result.output == pytest.approx(x @ w @ x)


def test_matmul_chains_and_transposes():
    rng = rng_for("chain")
    a, b, x = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=4)
    check_grads("sum(tanh(A.T @ B @ x))", A=a, B=b, x=x)
    check_grads("norm(A @ A.T)", A=a)


def test_array_literal():
    # The internal "stack" op: each element gets its row of the gradient.
    check_grads("sum([x, 2 * y, x * y] * C)", x=0.7, y=-1.3, C=np.array([1.0, -2.0, 0.5]))
    check_grads("sum([[x, y], [y, x]] @ v)", x=0.7, y=-1.3, v=np.array([0.3, 2.0]))
    check_grads(
        "sum([x, y] * C)",
        x=np.array([1.0, 2.0]),
        y=np.array([-0.5, 0.3]),
        C=np.array([[1.0, 2.0], [3.0, -4.0]]),
    )


def test_assignment_alias():
    # The internal "id" op: `y = x` is a node of its own, its gradient flows to x.
    result = check_grads("y = x; z = y * y; z + y", x=1.5)
    assert gradients(result)["y"] == pytest.approx(4.0)


# --- families: ops with static parameters -------------------------------------------------------


class FamilyLine(NamedTuple):
    """How to check a family: `call` writes it as a function, `{f}` standing for its name
    (None: the family is a method only), `method` as an array method; `params` are the
    parameters the call gives, so the member it must reach is FAMILIES[name](**params)."""

    call: str | None
    reference: object
    domains: tuple
    shapes: list
    params: dict
    method: str | None = None


X = (REAL,)
XY = (REAL, REAL)
FAMILY_LINES: dict[str, list[FamilyLine]] = {
    "reshape": [
        FamilyLine(
            "{f}({x}, (3, -1))",
            lambda x: x.reshape(3, -1),
            X,
            [((6,),), ((2, 3),), ((3, 2, 2),), ((2, 3, 1, 2),)],
            {"shape": (3, -1)},
            "{x}.{f}(3, -1)",
        ),
        FamilyLine("{f}({x}, -1)", lambda x: x.reshape(-1), X, [((2, 3),), ((2, 1, 3, 2),)], {"shape": -1}),
        FamilyLine(
            "{f}({x}, shape=(2, 1, 3))",
            lambda x: x.reshape(2, 1, 3),
            X,
            [((3, 2),), ((6,),), ((1, 6, 1),)],
            {"shape": (2, 1, 3)},
            "{x}.{f}((2, 1, 3))",
        ),
    ],
    "flatten": [
        FamilyLine(
            None, lambda x: x.flatten(), X, [((2, 3),), ((2, 2, 3),), ((1, 2, 1, 2),)], {}, "{x}.{f}()"
        )
    ],
    "ravel": [FamilyLine("{f}({x})", np.ravel, X, [((2, 3),), ((2, 2, 3),)], {}, "{x}.{f}()")],
    "transpose": [
        FamilyLine("{f}({x})", np.transpose, X, [((2, 3),), ((2, 3, 4),), ((3,),)], {}, "{x}.{f}()"),
        FamilyLine(
            "{f}({x}, (2, 0, 1))",
            lambda x: np.transpose(x, (2, 0, 1)),
            X,
            [((2, 3, 4),)],
            {"axes": (2, 0, 1)},
            "{x}.{f}(2, 0, 1)",
        ),
        FamilyLine(
            "{f}({x}, axes=(-1, 0, -2, 1))",
            lambda x: np.transpose(x, (-1, 0, -2, 1)),
            X,
            [((2, 3, 1, 2),)],
            {"axes": (-1, 0, -2, 1)},
            "{x}.{f}((-1, 0, -2, 1))",
        ),
    ],
    "swapaxes": [
        FamilyLine(
            "{f}({x}, 0, 2)",
            lambda x: np.swapaxes(x, 0, 2),
            X,
            [((2, 3, 4),), ((2, 1, 3, 2),)],
            {"axis1": 0, "axis2": 2},
            "{x}.{f}(0, 2)",
        ),
        FamilyLine(
            "{f}({x}, axis1=-1, axis2=1)",
            lambda x: np.swapaxes(x, -1, 1),
            X,
            [((2, 3, 1, 2),), ((3, 2),)],
            {"axis1": -1, "axis2": 1},
        ),
    ],
    "expand_dims": [
        FamilyLine("{f}({x}, 0)", lambda x: np.expand_dims(x, 0), X, [((3,),), ((2, 3),)], {"axis": 0}),
        FamilyLine(
            "{f}({x}, axis=-1)",
            lambda x: np.expand_dims(x, -1),
            X,
            [((2, 3),), ((2, 1, 3),)],
            {"axis": -1},
        ),
        FamilyLine("{f}({x}, (0, 2))", lambda x: np.expand_dims(x, (0, 2)), X, [((3, 2),)], {"axis": (0, 2)}),
    ],
    "squeeze": [
        FamilyLine("{f}({x})", np.squeeze, X, [((1, 3, 1, 2),), ((2, 1),)], {}, "{x}.{f}()"),
        FamilyLine("{f}({x}, 0)", lambda x: np.squeeze(x, 0), X, [((1, 3),), ((1, 2, 1),)], {"axis": 0}),
        FamilyLine(
            "{f}({x}, axis=(0, -2))",
            lambda x: np.squeeze(x, (0, -2)),
            X,
            [((1, 2, 1, 3),)],
            {"axis": (0, -2)},
            "{x}.{f}((0, -2))",
        ),
    ],
    "copy": [FamilyLine("{f}({x})", np.copy, X, [((),), ((2, 3),), ((2, 1, 3),)], {}, "{x}.{f}()")],
    "concatenate": [
        FamilyLine(
            "{f}([{x}, {y}])",
            lambda x, y: np.concatenate([x, y]),
            XY,
            [((2,), (3,)), ((2, 3), (1, 3))],
            {"axis": 0},
        ),
        FamilyLine(
            "{f}([{x}, {y}], axis=1)",
            lambda x, y: np.concatenate([x, y], axis=1),
            XY,
            [((2, 3), (2, 1)), ((1, 2, 3), (1, 1, 3))],
            {"axis": 1},
        ),
        FamilyLine(
            "{f}([{x}, {y}, {x}], axis=-1)",
            lambda x, y: np.concatenate([x, y, x], axis=-1),
            XY,
            [((2, 1, 3), (2, 1, 2))],
            {"axis": -1},
        ),
        FamilyLine(
            "{f}(({x}, {y}), 2)",
            lambda x, y: np.concatenate((x, y), 2),
            XY,
            [((1, 2, 3, 2), (1, 2, 1, 2))],
            {"axis": 2},
        ),
    ],
    "stack": [
        FamilyLine(
            "{f}([{x}, {y}])",
            lambda x, y: np.stack([x, y]),
            XY,
            [((), ()), ((2, 3), (2, 3))],
            {"axis": 0},
        ),
        FamilyLine(
            "{f}([{x}, {y}], axis=1)",
            lambda x, y: np.stack([x, y], axis=1),
            XY,
            [((2, 3), (2, 3)), ((3,), (3,))],
            {"axis": 1},
        ),
        FamilyLine(
            "{f}(({x}, {y}, {x}), -1)",
            lambda x, y: np.stack((x, y, x), -1),
            XY,
            [((2, 1, 3), (2, 1, 3))],
            {"axis": -1},
        ),
        FamilyLine(
            "{f}([{x}, {y}], axis=-3)",
            lambda x, y: np.stack([x, y], axis=-3),
            XY,
            [((2, 1, 3), (2, 1, 3))],
            {"axis": -3},
        ),
    ],
}


def _softmax_along(x, axis):
    z = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return z / np.sum(z, axis=axis, keepdims=True)


# numpy's reductions along axes (bpcli.core.ops.axes): lines for the families once they are
# registered (a branch without them checks the rest)
AXES_FAMILY_LINES: dict[str, list[FamilyLine]] = {
    "sum": [
        FamilyLine(
            "{f}({x}, axis=1)",
            lambda x: np.sum(x, axis=1),
            X,
            [((2, 3),), ((2, 3, 2),)],
            {"axis": 1},
            "{x}.{f}(1)",
        ),
        FamilyLine(
            "{f}({x}, axis=-1, keepdims=True)",
            lambda x: np.sum(x, axis=-1, keepdims=True),
            X,
            [((2, 3),), ((3,),)],
            {"axis": -1, "keepdims": True},
            "{x}.{f}(-1, keepdims=True)",
        ),
        FamilyLine(
            "{f}({x}, (0, 2))",
            lambda x: np.sum(x, (0, 2)),
            X,
            [((2, 3, 2),), ((2, 1, 3, 2),)],
            {"axis": (0, 2)},
        ),
    ],
    "mean": [
        FamilyLine(
            "{f}({x}, axis=0)",
            lambda x: np.mean(x, axis=0),
            X,
            [((2, 3),), ((3, 1, 2),)],
            {"axis": 0},
            "{x}.{f}(0)",
        ),
        FamilyLine(
            "{f}({x}, -2, keepdims=True)",
            lambda x: np.mean(x, -2, keepdims=True),
            X,
            [((2, 3),), ((2, 3, 2, 2),)],
            {"axis": -2, "keepdims": True},
        ),
    ],
    "max": [
        FamilyLine(
            "{f}({x}, axis=1)",
            lambda x: np.max(x, axis=1),
            X,
            [((2, 3),), ((2, 3, 2),)],
            {"axis": 1},
            "{x}.{f}(1)",
        ),
        FamilyLine(
            "{f}({x}, axis=-1, keepdims=True)",
            lambda x: np.max(x, axis=-1, keepdims=True),
            X,
            [((2, 3),)],
            {"axis": -1, "keepdims": True},
        ),
    ],
    "min": [
        FamilyLine(
            "{f}({x}, axis=0)",
            lambda x: np.min(x, axis=0),
            X,
            [((2, 3),), ((3, 2, 2),)],
            {"axis": 0},
            "{x}.{f}(0)",
        ),
    ],
    "var": [
        FamilyLine(
            "{f}({x}, axis=0)",
            lambda x: np.var(x, axis=0),
            X,
            [((3, 2),), ((3, 2, 2),)],
            {"axis": 0},
            "{x}.{f}(0)",
        ),
        FamilyLine(
            "{f}({x}, axis=-1, ddof=1)",
            lambda x: np.var(x, axis=-1, ddof=1),
            X,
            [((2, 3),)],
            {"axis": -1, "ddof": 1},
        ),
    ],
    "std": [
        FamilyLine(
            "{f}({x}, axis=1)",
            lambda x: np.std(x, axis=1),
            X,
            [((2, 3),), ((2, 3, 2),)],
            {"axis": 1},
            "{x}.{f}(1)",
        ),
    ],
    "prod": [
        FamilyLine(
            "{f}({x}, axis=-1)",
            lambda x: np.prod(x, axis=-1),
            (NONZERO,),
            [((2, 3),), ((2, 2, 3),)],
            {"axis": -1},
            "{x}.{f}(-1)",
        ),
    ],
    "norm": [
        FamilyLine(
            "{f}({x}, axis=1)",
            lambda x: np.linalg.norm(x, axis=1),
            (NONZERO,),
            [((2, 3),), ((2, 3, 2),)],
            {"axis": 1},
        ),
        FamilyLine(
            "{f}({x}, None, -1, True)",
            lambda x: np.linalg.norm(x, None, -1, True),
            (NONZERO,),
            [((2, 3),)],
            {"ord": None, "axis": -1, "keepdims": True},
        ),
    ],
    "logsumexp": [
        FamilyLine(
            "{f}({x}, axis=0)",
            lambda x: np.log(np.sum(np.exp(x), axis=0)),
            X,
            [((2, 3),), ((3, 2, 2),)],
            {"axis": 0},
        ),
    ],
    "softmax": [
        FamilyLine(
            "{f}({x}, axis=0)", lambda x: _softmax_along(x, 0), X, [((2, 3),), ((3, 2, 2),)], {"axis": 0}
        ),
    ],
    "logsoftmax": [
        FamilyLine(
            "{f}({x}, axis=1)",
            lambda x: np.log(_softmax_along(x, 1)),
            X,
            [((2, 3),), ((2, 3, 2),)],
            {"axis": 1},
        ),
    ],
}


def _conv2d(x, w, b, stride=1, pad=0):
    """cs231n's conv_forward_naive, loops and all."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, _, h, width = xp.shape
    f, _, hh, ww = w.shape
    out = np.zeros((n, f, 1 + (h - hh) // stride, 1 + (width - ww) // stride))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = xp[:, :, i * stride : i * stride + hh, j * stride : j * stride + ww]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


def _maxpool2d(x, size=2, stride=2):
    """cs231n's max_pool_forward_naive."""
    n, c, h, w = x.shape
    out = np.zeros((n, c, 1 + (h - size) // stride, 1 + (w - size) // stride))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i * stride : i * stride + size, j * stride : j * stride + size].max(
                axis=(2, 3)
            )
    return out


XYZ = (REAL, REAL, REAL)
# cs231n's convolution, pooling and np.pad (bpcli.core.ops.conv), once registered
CONV_FAMILY_LINES: dict[str, list[FamilyLine]] = {
    "conv2d": [
        FamilyLine(
            "{f}({x}, {y}, {z})",
            _conv2d,
            XYZ,
            [((1, 2, 4, 4), (2, 2, 3, 3), (2,)), ((2, 1, 3, 3), (1, 1, 2, 2), (1,))],
            {},
        ),
        FamilyLine(
            "{f}({x}, {y}, {z}, stride=2, pad=1)",
            lambda x, w, b: _conv2d(x, w, b, stride=2, pad=1),
            XYZ,
            [((1, 2, 5, 5), (3, 2, 3, 3), (3,))],
            {"stride": 2, "pad": 1},
        ),
    ],
    "maxpool2d": [
        FamilyLine("{f}({x})", _maxpool2d, X, [((1, 2, 4, 4),), ((2, 1, 4, 6),)], {}),
        FamilyLine(
            "{f}({x}, size=3, stride=1)",
            lambda x: _maxpool2d(x, 3, 1),
            X,
            [((1, 1, 4, 5),)],
            {"size": 3, "stride": 1},
        ),
    ],
    "pad": [
        FamilyLine("{f}({x}, 1)", lambda x: np.pad(x, 1), X, [((2, 3),), ((1, 2, 2, 2),)], {"pad_width": 1}),
        FamilyLine(
            "{f}({x}, ((0, 0), (1, 2)))",
            lambda x: np.pad(x, ((0, 0), (1, 2))),
            X,
            [((2, 3),)],
            {"pad_width": ((0, 0), (1, 2))},
        ),
        FamilyLine(
            "{f}({x}, ((0, 0), (0, 0), (1, 1), (1, 1)), 'constant', constant_values=0.5)",
            lambda x: np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), "constant", constant_values=0.5),
            X,
            [((1, 2, 2, 3),)],
            {"pad_width": ((0, 0), (0, 0), (1, 1), (1, 1)), "constant_values": 0.5},
        ),
    ],
}
for _lines in (AXES_FAMILY_LINES, CONV_FAMILY_LINES):
    FAMILY_LINES.update({name: lines for name, lines in _lines.items() if name in FAMILIES})


def _first_alias(aliases: dict, family_name: str) -> str | None:
    return next((alias for alias, family in aliases.items() if family.name == family_name), None)


def family_member(name: str, params: dict):
    """The op a call giving `params` must reach: the family's member, its defaults filled in."""
    family = FAMILIES[name]
    return family(**{p: params.get(p, default) for p, default in family.params})


def check_family_line(name: str, line: FamilyLine, call: str, shapes: list | None = None) -> None:
    """A family's call (`call`, its name filled in) at each of the line's shapes: the gradients
    against finite differences, the value against numpy, and the member it reaches."""
    member = family_member(name, line.params)
    names = "xyz"[: len(line.domains)]
    expr = call.format(**{n: n for n in names})
    for input_shapes in shapes or line.shapes:
        rng = rng_for(f"{name} {line.call or line.method} {input_shapes}")
        inputs = {n: draw(rng, s, d) for n, s, d in zip(names, input_shapes, line.domains, strict=True)}
        expected = np.asarray(line.reference(*inputs.values()), dtype=float)
        c = rng.normal(size=expected.shape)
        if expected.ndim == 0:
            result = check_grads(f"r = {expr}; r * C", **inputs, C=float(c))
        else:
            result = check_grads(f"r = {expr}; sum(r * C)", **inputs, C=c)
        where = f"{expr} at shapes {input_shapes}"
        assert any(
            n.op.name == member.name and n.op.template == member.template and n.op.params == member.params
            for n in result.graph.nodes
        ), f"{where} does not reach {member.template} {member.params}"
        assert result.output == pytest.approx(float(np.sum(expected * c)), rel=1e-12, abs=1e-12), where


FAMILY_CASES = [
    pytest.param(name, line, id=f"{name}-{line.call or line.method}")
    for name, lines in FAMILY_LINES.items()
    for line in lines
]


@pytest.mark.parametrize("name, line", FAMILY_CASES)
def test_family(name, line):
    if line.call is not None:
        function = _first_alias(CALLS, name)
        assert function is not None, f"no numpy function reaches family {name}: give its line a method only"
        check_family_line(name, line, line.call.replace("{f}", function))
    if line.method is not None:
        method = _first_alias(METHODS, name)
        assert method is not None, f"family {name} has no method"
        check_family_line(name, line, line.method.replace("{f}", method))


def test_every_family_has_a_line():
    assert set(FAMILIES) - set(FAMILY_LINES) == set()


@pytest.mark.parametrize("alias", sorted(CALLS))
def test_every_numpy_function_reaches_its_family(alias):
    family = CALLS[alias]
    lines = [line for line in FAMILY_LINES[family.name] if line.call is not None]
    assert lines, f"family {family.name} has no line calling it as a function"
    check_family_line(family.name, lines[0], lines[0].call.replace("{f}", alias), lines[0].shapes[:2])
    qualified = ("np.linalg." if alias == "norm" else "np.") + alias
    check_family_line(family.name, lines[0], lines[0].call.replace("{f}", qualified), lines[0].shapes[:1])


@pytest.mark.parametrize("alias", sorted(METHODS))
def test_every_array_method_reaches_its_family(alias):
    family = METHODS[alias]
    lines = [line for line in FAMILY_LINES[family.name] if line.method is not None]
    assert lines, f"family {family.name} has no line calling it as a method"
    check_family_line(family.name, lines[0], lines[0].method.replace("{f}", alias), lines[0].shapes[:2])


# --- indexing and index assignment: whole programs -----------------------------------------------


class IndexProgram(NamedTuple):
    """A program that assigns r, in numpy's own spelling (numpy runs it too, for the value):
    the float inputs' shapes (finite differences check their gradients) and integer data
    (an index: no gradient)."""

    program: str
    shapes: dict
    data: dict | None = None
    domain: tuple = NONZERO  # off 0, where the masks x > 0 change


INDEX_PROGRAMS = [
    # basic indices: ints, negative ints, slices with steps, ..., None
    IndexProgram("r = x[1]", {"x": (3, 2)}),
    IndexProgram("r = x[1]", {"x": (2, 3, 4)}),
    IndexProgram("r = x[-1]", {"x": (2, 1, 3)}),
    IndexProgram("r = x[1, -2]", {"x": (3, 2)}),
    IndexProgram("r = x[1, 2, 0, 1]", {"x": (2, 3, 1, 2)}),
    IndexProgram("r = x[1:3]", {"x": (4, 2)}),
    IndexProgram("r = x[:, ::2]", {"x": (2, 5)}),
    IndexProgram("r = x[::-1, 1:]", {"x": (3, 3)}),
    IndexProgram("r = x[-2:, :-1, ::-2]", {"x": (3, 3, 4)}),
    IndexProgram("r = x[..., 0]", {"x": (2, 3, 4)}),
    IndexProgram("r = x[1, ..., -1]", {"x": (2, 3, 1, 2)}),
    IndexProgram("r = x[:, None] * y", {"x": (2, 3), "y": (2, 4, 1)}),
    IndexProgram("r = x[None, ..., np.newaxis]", {"x": (2, 3)}),
    IndexProgram("r = x[0:1, :][..., 1]", {"x": (2, 3)}),
    IndexProgram("r = x[1][2]", {"x": (2, 3)}),
    # integer arrays: a repeated index adds its gradients (np.add.at)
    IndexProgram("r = x[[0, 2, 0]]", {"x": (3, 2)}),
    IndexProgram("r = x[[2, -1, 0], [1, 1, 0]]", {"x": (3, 2)}),
    IndexProgram("r = x[:, [1, 1, 0]]", {"x": (2, 3, 2)}),
    IndexProgram("r = x[idx]", {"x": (3, 2)}, {"idx": [0, 2, 0, 0]}),
    IndexProgram("r = x[idx] * y", {"x": (3, 2), "y": (2,)}, {"idx": [[1, 1], [0, 2]]}),
    IndexProgram("N = x.shape[0]; r = x[np.arange(N), labels]", {"x": (4, 3)}, {"labels": [2, 0, 2, 1]}),
    IndexProgram("r = x[idx[:, None], idx[None, :]]", {"x": (3, 3)}, {"idx": [0, 2, 2]}),
    IndexProgram("r = x[:, idx, 1:]", {"x": (2, 3, 3)}, {"idx": [2, 2]}),
    IndexProgram("i = idx.reshape(2, 1); r = x[i]", {"x": (4, 3)}, {"idx": [0, 3]}),
    # boolean masks computed by the program
    IndexProgram("r = x[x > 0]", {"x": (3, 2)}),
    IndexProgram("r = x[x[:, 0] > 0]", {"x": (4, 3)}),
    IndexProgram("r = x[y > 0] * 2", {"x": (3, 2), "y": (3, 2)}),
    IndexProgram("r = x[:, y < 0]", {"x": (2, 3), "y": (3,)}),
    IndexProgram("r = x[x > 0] * x[x > 0]", {"x": (2, 2, 3)}),
    # index assignment: a new array (JAX's x.at[i].set(v)); the overwritten part of x gets no
    # gradient, and where an index repeats the last write wins: only it reaches f
    IndexProgram("m = x * 1; m[0] = y; r = m", {"x": (3, 2), "y": (2,)}),
    IndexProgram("m = x * 1; m[idx] = y; r = m", {"x": (3, 2), "y": (3, 2)}, {"idx": [0, 2, 0]}),
    IndexProgram("m = x * 1; m[idx] = 0; r = m * y", {"x": (3, 2), "y": (3, 2)}, {"idx": [0, 0]}),
    IndexProgram("m = x * 1; m[[1, 1]] = y[0:2]; r = m", {"x": (3, 2), "y": (3, 2)}),
    IndexProgram("m = x * 1; m[[0, 2, 0], [1, 1, 1]] = y; r = m", {"x": (3, 2), "y": (3,)}),
    IndexProgram("m = x * 1; m[:, 0:2] += y; r = m", {"x": (3, 4), "y": (3, 2)}),
    IndexProgram("m = x * 1; m[:, 0:2] += y; r = m", {"x": (3, 4), "y": (2,)}),
    IndexProgram("m = x * 1; m[idx] += y; r = m", {"x": (3, 2), "y": (3, 2)}, {"idx": [2, 0, 2]}),
    IndexProgram("m = x * 1; m[idx] -= 1; r = m * m", {"x": (3, 2)}, {"idx": [1, 1]}),
    IndexProgram("m = x * 1; m[x > 0] = 0; r = m", {"x": (3, 2)}),
    IndexProgram("m = x * 1; m[m < 0] *= y; r = m", {"x": (2, 3), "y": ()}),
    IndexProgram("m = x * 1; m[y > 0] = x[y > 0] * 2; r = m", {"x": (3, 2), "y": (3, 2)}),
    IndexProgram("m = x * 1; m[np.arange(3), labels] = 0; r = m", {"x": (3, 4)}, {"labels": [3, 0, 3]}),
    IndexProgram("m = x * 1; m[1:, 1:] = m[:-1, :-1]; r = m", {"x": (3, 4)}),
    IndexProgram("m = x.copy(); m[..., -1] = y; r = m * x", {"x": (2, 3, 4), "y": (2, 3)}),
    IndexProgram("m = np.zeros((3, 2)); m[idx] = y; r = m", {"y": (3, 2)}, {"idx": [1, 1, 0]}),
    IndexProgram("d = x; d[0] -= 1; r = d", {"x": (2, 3)}),
    IndexProgram("m = x * 1; m[0, 1] = y; m[1] = m[0]; r = m", {"x": (2, 3), "y": ()}),
    IndexProgram("v = np.concatenate((x, x), 0); m = v * 1; m[m > 0] = 0; r = m[1:]", {"x": (2, 1)}),
    # split: pieces of the array (views), and joined again
    IndexProgram("a, b = np.split(x, 2, axis=1); r = a * b", {"x": (3, 4)}),
    IndexProgram(
        "a, b, c = np.split(x, [1, 3], axis=-1); r = np.concatenate([c, a * b], axis=1)", {"x": (2, 5)}
    ),
    IndexProgram("a, b = np.hsplit(x, 2); r = a - b", {"x": (2, 4, 3)}),
    IndexProgram("a, b = np.vsplit(x, [1]); r = a * b", {"x": (2, 3)}),
    IndexProgram("a, b, c = np.array_split(x, 3); r = np.concatenate([a, c])", {"x": (4, 2)}),
    IndexProgram("a, b = np.split(x, 2, axis=-2); r = np.stack([a, b], axis=1)", {"x": (2, 3, 4, 1)}),
    IndexProgram("a, b = x; r = a * b", {"x": (2, 3)}),
    # shapes read as integers
    IndexProgram("N, D = x.shape; r = x.reshape(D, N) * (N - D // 2)", {"x": (2, 3)}),
    IndexProgram("r = x[x.shape[0] - 1, : x.shape[1] // 2]", {"x": (3, 5)}),
    IndexProgram("r = x.reshape(x.shape[0], -1) @ np.ones((x.size // len(x), 1))", {"x": (2, 3, 2)}),
]


def run_with_numpy(program: str, floats: dict, data: dict):
    """r as numpy computes it (on copies: the program may change its arrays in place)."""
    scope = {"np": np, **{n: np.array(v) for n, v in floats.items()}, **data}
    exec(program, scope)  # the programs above, in numpy's own spelling
    return np.asarray(scope["r"], dtype=float)


@pytest.mark.parametrize(
    "case", INDEX_PROGRAMS, ids=[f"{c.program} {list(c.shapes.values())}" for c in INDEX_PROGRAMS]
)
def test_index_program(case):
    rng = rng_for(f"{case.program} {case.shapes}")
    floats = {n: draw(rng, s, case.domain) for n, s in case.shapes.items()}
    data = {n: np.array(v) for n, v in (case.data or {}).items()}
    float_data = {n: v.astype(float) for n, v in data.items()}
    expected = run_with_numpy(case.program, floats, data)
    c = rng.normal(size=expected.shape)
    final = "sum(r * C)" if expected.ndim else "r * C"
    program = f"{case.program}; {final}"
    bindings = {**floats, "C": float(c) if c.ndim == 0 else c}
    result = run(parse(program, {**bindings, **float_data}))
    grads = gradients(result)
    assert result.output == pytest.approx(float(np.sum(expected * c)), rel=1e-12, abs=1e-12), program
    for name in data:
        assert grads[name] is None, f"{program}: the index {name} got a gradient"
    for name, value in bindings.items():
        expected_grad = numeric_grad(
            program, {**bindings, **{n: v.astype(float) for n, v in data.items()}}, name
        )
        assert np.shape(grads[name]) == np.shape(value), (program, name)
        np.testing.assert_allclose(
            grads[name], expected_grad, rtol=RTOL, atol=ATOL, err_msg=f"{program} ∂/∂{name}"
        )


def test_a_repeated_index_adds_its_gradients():
    w = np.arange(6.0).reshape(3, 2)
    result = run(
        parse("e = W[idx]; sum(e * C)", {"W": w, "idx": np.array([0.0, 2.0, 0.0]), "C": np.ones((3, 2))})
    )
    expected = np.zeros((3, 2))
    np.add.at(expected, [0, 2, 0], np.ones((3, 2)))
    np.testing.assert_array_equal(gradients(result)["W"], expected)  # row 0 twice: 2
    assert gradients(result)["idx"] is None


def test_the_last_write_of_a_repeated_index_wins():
    v = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    bindings = {"x": np.zeros((3, 2)), "v": v, "idx": np.array([0.0, 2.0, 0.0]), "C": np.ones((3, 2))}
    result = run(parse("m = x * 1; m[idx] = v; sum(m * C)", bindings))
    assert result.output == 5 + 6 + 3 + 4  # m[0] = v[2], m[2] = v[1]: numpy's last write
    np.testing.assert_array_equal(gradients(result)["v"], [[0, 0], [1, 1], [1, 1]])  # v[0] is overwritten
    np.testing.assert_array_equal(gradients(result)["x"], [[0, 0], [1, 1], [0, 0]])


# --- random scalar points (hypothesis) ----------------------------------------------------------


def floats(low: float, high: float):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


OFF_ZERO = floats(0.01, 5.0) | floats(-5.0, -0.01)
UNARY_POINTS = {
    "exp": floats(-5.0, 5.0),
    "log": floats(0.05, 20.0),
    "sqrt": floats(0.05, 20.0),
    "sin": floats(-10.0, 10.0),
    "cos": floats(-10.0, 10.0),
    "tan": floats(-1.4, 1.4),
    "tanh": floats(-5.0, 5.0),
    "sigmoid": floats(-10.0, 10.0),
    "relu": OFF_ZERO,
    "abs": OFF_ZERO,
    "neg": floats(-10.0, 10.0),
}
BINARY_POINTS = {
    "add": (floats(-10.0, 10.0), floats(-10.0, 10.0)),
    "sub": (floats(-10.0, 10.0), floats(-10.0, 10.0)),
    "mul": (floats(-10.0, 10.0), floats(-10.0, 10.0)),
    "div": (floats(-10.0, 10.0), floats(0.1, 10.0) | floats(-10.0, -0.1)),
    "pow": (floats(0.1, 5.0), floats(-3.0, 3.0)),
    "max": (floats(-10.0, 10.0), floats(-10.0, 10.0)),
    "min": (floats(-10.0, 10.0), floats(-10.0, 10.0)),
}


@pytest.mark.parametrize("name", list(UNARY_POINTS))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_unary_at_random_points(name, data):
    x = data.draw(UNARY_POINTS[name], label="x")
    line = OP_LINES[name]
    result = check_grads(line.call.format(x="x"), x=x)
    assert result.output == pytest.approx(float(line.reference(x)), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", list(BINARY_POINTS))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_binary_at_random_points(name, data):
    sx, sy = BINARY_POINTS[name]
    x, y = data.draw(sx, label="x"), data.draw(sy, label="y")
    assume(name not in ("max", "min") or abs(x - y) > 1e-3)  # off the tie
    line = OP_LINES[name]
    result = check_grads(line.call.format(x="x", y="y"), x=x, y=y)
    assert result.output == pytest.approx(float(line.reference(x, y)), rel=1e-12, abs=1e-15)


# --- kinks: PyTorch's conventions, with a warning ------------------------------------------------


def run_at(program: str, **bindings):
    result = run(parse(program, bindings))
    return result, gradients(result)


@pytest.mark.parametrize(
    "program, bindings, value, expected",
    [
        ("relu(x)", {"x": 0.0}, 0.0, {"x": 0.0}),
        ("abs(x)", {"x": 0.0}, 0.0, {"x": 0.0}),
        ("max(x, x)", {"x": 2.0}, 2.0, {"x": 1.0}),  # each input gets half: 0.5 + 0.5
        ("min(x, x)", {"x": -2.0}, -2.0, {"x": 1.0}),
        ("max(x, y)", {"x": 2.0, "y": 2.0}, 2.0, {"x": 0.5, "y": 0.5}),
        ("min(x, y)", {"x": 2.0, "y": 2.0}, 2.0, {"x": 0.5, "y": 0.5}),
        ("sum(relu(x))", {"x": np.array([0.0, 1.0, -1.0])}, 1.0, {"x": [0.0, 1.0, 0.0]}),
        ("sum(abs(x))", {"x": np.array([0.0, 1.0, -1.0])}, 2.0, {"x": [0.0, 1.0, -1.0]}),
        (
            "sum(max(x, y))",
            {"x": np.array([1.0, 2.0]), "y": np.array([1.0, 3.0])},
            4.0,
            {"x": [0.5, 0.0], "y": [0.5, 1.0]},
        ),
        ("sum(min(x, y))", {"x": np.array([[1.0, 2.0]]), "y": 1.0}, 2.0, {"x": [[0.5, 0.0]], "y": 1.5}),
        ("max(x)", {"x": np.array([3.0, 1.0, 3.0])}, 3.0, {"x": [0.5, 0.0, 0.5]}),
        ("min(x)", {"x": np.array([[1.0, 1.0], [1.0, 3.0]])}, 1.0, {"x": [[1 / 3, 1 / 3], [1 / 3, 0.0]]}),
        ("norm(x)", {"x": np.zeros(3)}, 0.0, {"x": [0.0, 0.0, 0.0]}),
    ],
)
def test_kinks(program, bindings, value, expected):
    result, grads = run_at(program, **bindings)
    assert result.output == value
    for name, grad in expected.items():
        assert np.shape(grads[name]) == np.shape(bindings[name])
        np.testing.assert_allclose(grads[name], grad, rtol=1e-15, err_msg=f"{program}: ∂f/∂{name}")
    assert result.kinks
    assert any("not differentiable" in w for w in result.warnings), result.warnings


def test_no_kink_warning_off_the_kinks():
    result, _ = run_at("relu(x) + abs(y) + max(x, y) + max(v)", x=1.0, y=-1.0, v=np.array([1.0, 2.0]))
    assert result.kinks == ()
    assert result.warnings == ()


# --- numerical stability at ±1000 -------------------------------------------------------------------


def test_sigmoid_is_stable():
    for name in ("sigmoid", "σ"):
        for x, value in ((1000.0, 1.0), (-1000.0, 0.0)):
            result, grads = run_at(f"{name}(x)", x=x)
            assert (result.output, grads["x"]) == (value, 0.0)
        result, grads = run_at(f"sum({name}(x) * C)", x=np.array([1000.0, -1000.0]), C=np.array([1.0, 2.0]))
        assert result.output == 1.0
        np.testing.assert_array_equal(grads["x"], [0.0, 0.0])
        np.testing.assert_array_equal(grads["C"], [1.0, 0.0])


def test_tanh_is_stable():
    for x in (1000.0, -1000.0):
        result, grads = run_at("tanh(x)", x=x)
        assert (result.output, grads["x"]) == (math.copysign(1.0, x), 0.0)
    result, grads = run_at("sum(tanh(x) * C)", x=np.array([1000.0, -1000.0]), C=np.array([1.0, 2.0]))
    assert result.output == -1.0
    np.testing.assert_array_equal(grads["x"], [0.0, 0.0])


def test_logsumexp_is_stable():
    result, grads = run_at("logsumexp(x)", x=np.array([1000.0, 1000.0]))
    assert result.output == pytest.approx(1000 + math.log(2), rel=1e-15)
    np.testing.assert_allclose(grads["x"], [0.5, 0.5])
    result, grads = run_at(
        "sum(logsumexp(x) * C)", x=np.array([[1000.0, 1000.0], [-1000.0, -1000.0]]), C=np.array([1.0, 3.0])
    )
    np.testing.assert_allclose(grads["C"], [1000 + math.log(2), -1000 + math.log(2)])
    np.testing.assert_allclose(grads["x"], [[0.5, 0.5], [1.5, 1.5]])


@pytest.mark.parametrize("shift", [1000.0, -1000.0])
@pytest.mark.parametrize(
    "program, c_shape, offset",
    [
        ("sum(softmax(x) * C)", (2, 3), 0.0),
        ("sum(logsoftmax(x) * C)", (2, 3), 0.0),
        ("sum(logsumexp(x) * C)", (2,), 1.0),  # logsumexp(x + s) = logsumexp(x) + s
    ],
)
def test_softmax_family_is_stable(program, c_shape, offset, shift):
    # All three are shift-invariant along the last axis, so at x ± 1000 they must give the
    # gradient they give at x, and the same value (logsumexp: plus the shift).
    rng = rng_for("stable")
    x, c = rng.normal(size=(2, 3)), rng.normal(size=c_shape)
    base_result, base = run_at(program, x=x, C=c)
    result, grads = run_at(program, x=x + shift, C=c)
    expected = base_result.output + offset * shift * np.sum(c)
    assert result.output == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(grads["x"], base["x"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["C"], base["C"] + offset * shift, rtol=1e-12)


def test_softmax_at_extremes():
    result, grads = run_at("sum(softmax(x) * C)", x=np.array([1000.0, -1000.0]), C=np.array([1.0, 2.0]))
    assert result.output == 1.0
    np.testing.assert_array_equal(grads["x"], [0.0, 0.0])
    result, grads = run_at("sum(logsoftmax(x) * C)", x=np.array([1000.0, -1000.0]), C=np.array([1.0, 2.0]))
    assert result.output == -4000.0
    np.testing.assert_allclose(grads["x"], [-2.0, 2.0])


# --- domain and shape errors ---------------------------------------------------------------------------


def ones(*shape):
    return np.ones(shape)


@pytest.mark.parametrize(
    "program, bindings, error",
    [
        ("log(x)", {"x": 0.0}, DomainError),
        ("sum(log(x))", {"x": np.array([1.0, 0.0])}, DomainError),
        ("sqrt(x)", {"x": -1.0}, DomainError),
        ("sum(sqrt(x))", {"x": np.array([1.0, -1.0])}, DomainError),
        ("x / y", {"x": 1.0, "y": 0.0}, DomainError),
        ("sum(x / y)", {"x": ones(2), "y": np.array([1.0, 0.0])}, DomainError),
        ("x ^ 0.5", {"x": -4.0}, DomainError),
        ("x ^ y", {"x": -2.0, "y": 2.0}, DomainError),  # ∂/∂y needs ln x
        ("exp(x)", {"x": 1000.0}, DomainError),
        ("sum(exp(x))", {"x": np.array([1000.0])}, DomainError),
        ("sum(x + y)", {"x": ones(3), "y": ones(2)}, ShapeError),
        ("sum(x @ y)", {"x": ones(2, 3), "y": ones(2, 3)}, ShapeError),
        ("sum(x @ y)", {"x": 2.0, "y": ones(2)}, ShapeError),
        ("dot(x, y)", {"x": ones(3), "y": ones(2)}, ShapeError),
        ("dot(x, y)", {"x": ones(2, 2), "y": ones(2, 2)}, ShapeError),
        ("sum([x, y])", {"x": ones(2), "y": 1.0}, ShapeError),
        ("x * y", {"x": 2.0, "y": ones(2)}, ShapeError),  # the output must be a scalar
    ],
)
def test_errors(program, bindings, error):
    with pytest.raises(error) as info:
        run(parse(program, bindings))
    assert isinstance(info.value, BpcliError)


# --- pow at every corner of its domain --------------------------------------------------------
# Rule: where the derivative is infinite or undefined, an error naming the node and the input;
# where the one-sided limit is finite and x^y is defined, that limit (∂/∂y of x^y at x = 0,
# y > 0 is 0; ∂/∂x of x^0 is 0: x^0 is the constant 1).

INFINITE = "it is infinite or too large for a float"
NEEDS_POSITIVE = (
    "the derivative of x^y with respect to y needs x > 0 (write the exponent as a"
    " number to treat it as a constant)"
)
# (x, y) -> value, ∂/∂x (exponent a constant), ∂/∂y (both inputs); a str is the error's reason
POW_CORNERS = [  # a list: -0.0 == 0.0 would merge dict keys
    (0.0, 0.0, (1.0, 0.0, INFINITE)),
    (0.0, 1.0, (0.0, 1.0, 0.0)),
    (0.0, 2.0, (0.0, 0.0, 0.0)),
    (0.0, -2.0, ("division by zero", None, None)),
    (0.0, 0.5, (0.0, INFINITE, 0.0)),
    (0.0, 1.5, (0.0, 0.0, 0.0)),
    (-0.0, 0.0, (1.0, 0.0, INFINITE)),
    (-0.0, 2.0, (0.0, -0.0, 0.0)),
    (-0.0, -2.0, ("division by zero", None, None)),
    (-0.0, 0.5, (0.0, INFINITE, 0.0)),
    (-2.0, 0.0, (1.0, 0.0, NEEDS_POSITIVE)),
    (-2.0, 3.0, (-8.0, 12.0, NEEDS_POSITIVE)),
    (-2.0, -2.0, (0.25, 0.25, NEEDS_POSITIVE)),
    (-2.0, 0.5, ("a negative base to a non-integer power", None, None)),
]


def _pow_outcome(program: str, bindings: dict, name: str):
    """(value, gradient of `name`), or the reason of the error."""
    try:
        result = run(parse(program, bindings))
    except DomainError as err:
        return str(err).split("\n")[0].split(": ", 1)[1].split(", where")[0]
    return result.output, np.sum(gradients(result)[name])


@pytest.mark.parametrize(("x", "y", "expected"), POW_CORNERS, ids=[f"{x!r}^{y!r}" for x, y, _ in POW_CORNERS])
@pytest.mark.parametrize("shape", [(), (2,)])
def test_pow_at_every_corner(x, y, expected, shape):
    value, dx, dy = expected
    xs = x if shape == () else np.full(shape, x)
    wrap = (lambda p: p) if shape == () else (lambda p: f"sum({p})")
    n = 1 if shape == () else shape[0]
    by_base = _pow_outcome(wrap(f"x ^ {y!r}"), {"x": xs}, "x")
    by_both = _pow_outcome(wrap("x ^ y"), {"x": xs, "y": y}, "y")
    if isinstance(value, str):
        assert by_base == by_both == value
        return
    if isinstance(dx, str):
        assert by_base == dx
    else:
        assert by_base == (n * value, n * dx)
    if isinstance(dy, str) or isinstance(dx, str):
        assert by_both == (dy if isinstance(dy, str) else dx)
    else:
        assert by_both == (n * value, n * dy)


def test_pow_gradient_in_the_exponent_is_its_limit_near_zero():
    # x^y ln x at x = 1e-300: continuous with the value 0 taken at x = 0 for y > 0
    result = run(parse("x ^ y", {"x": 1e-300, "y": 2.0}))
    assert gradients(result)["y"] == 0.0  # 1e-600 underflows
    result = run(parse("x ^ y", {"x": 1e-300, "y": 0.0}))
    assert gradients(result)["y"] == pytest.approx(math.log(1e-300), rel=1e-15)


def test_x_to_the_x_at_zero_is_an_error_naming_the_node(bpcli):
    result = bpcli("grad", "x^x", "x=0")
    assert result.code == 2
    assert result.err.splitlines()[0] == (
        "error: the gradient of x^x (node #1) with respect to x cannot be computed: it is"
        " infinite or too large for a float, where x = 0"
    )


# --- the registry's own facts ---------------------------------------------------------------------


def test_every_text_an_op_names_exists():
    from bpcli.texts import Translator

    for language in ("en", "zh"):
        texts = Translator(language).messages
        for op in OPS.values():
            assert not op.convention or op.convention in texts, (language, op)
            assert not op.gate or f"steps.gate.{op.gate}" in texts, (language, op)


def test_an_op_is_fixed_at_registration():
    with pytest.raises(AttributeError, match="fixed at registration"):
        OPS["mul"].vjps = ()
