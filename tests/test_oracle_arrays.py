"""Random array programs over every array op, against central finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from bpcli.core.engine import forward, gradients, run
from bpcli.errors import BpcliError
from bpcli.language.parse import parse

# Every leaf and every expression here is a 2×3 matrix; each template keeps that shape.
LEAVES = ["A", "B", "(A*B)", "(A - 2*B)"]
UNARY = [
    "exp(0.5*tanh({}))",
    "tanh({})",
    "sigmoid({})",
    "sin({})",
    "log(1 + ({})^2)",
    "-{}",
    "relu({} + 0.1234)",
    "abs({} - 0.4321)",
    "softmax({})",
    "logsoftmax({})",
    "({}) @ M @ M.T",
    "transpose(transpose({}))",
    "({}) * v",
    "({}) / (2 + c^2)",
    "max({}, 0.05)",
    "min({}, B)",
]
BINARY = ["({}) + ({})", "({}) - ({})", "({}) * ({})", "({}) / (1.5 + ({})^2)"]
# Each program ends in a reduction to a scalar.
FINAL = [
    "sum({})",
    "mean({})",
    "norm({})",
    "sum(logsumexp({}))",
    "max({}) + min({})",
    "dot(v, sum(v * ({})^2 + v))",
    "sum(v @ ({}).T)",
]


@st.composite
def matrices(draw, depth=3):
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(LEAVES))
    if draw(st.booleans()):
        return draw(st.sampled_from(UNARY)).format(draw(matrices(depth - 1)))
    template = draw(st.sampled_from(BINARY))
    left, right = draw(matrices(depth - 1)), draw(matrices(depth - 1))
    return template.format(left, right, right) if template.count("{}") == 3 else template.format(left, right)


def numeric_gradient(program, values, name, h=1e-6):
    grad = np.zeros_like(values[name]) if type(values[name]) is not float else 0.0
    base = values[name]
    for index in np.ndindex(base.shape) if type(base) is not float else [()]:
        results = []
        for step in (h, -h):
            shifted = dict(values)
            if type(base) is float:
                shifted[name] = base + step
            else:
                changed = base.copy()
                changed[index] += step
                shifted[name] = changed
            results.append(forward(parse(program, shifted)).output)
        value = (results[0] - results[1]) / (2 * h)
        if type(base) is float:
            grad = value
        else:
            grad[index] = value
    return grad


def check(program, seed):
    rng = np.random.default_rng(seed)
    values = {
        "A": rng.uniform(-1.5, 1.5, (2, 3)),
        "B": rng.uniform(-1.5, 1.5, (2, 3)),
        "M": rng.uniform(-1, 1, (3, 3)),
        "v": rng.uniform(-1, 1, 3),
        "c": float(rng.uniform(-1, 1)),
    }
    try:
        result = run(parse(program, values))
    except BpcliError:
        reject()  # a domain error at this point (never at every one: hypothesis fails then)
    if result.kinks or abs(result.output) > 1e6:
        reject()  # finite differences mean nothing at a kink, and little for a huge f
    for name, grad in gradients(result).items():
        if name not in values:
            continue
        assert np.shape(grad) == np.shape(values[name]), (program, name)
        expected = numeric_gradient(program, values, name)
        atol = 1e-6 * max(1.0, abs(result.output))
        np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=atol, err_msg=f"{program} ∂/∂{name}")


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(FINAL), matrices(), st.integers(0, 2**32 - 1))
def test_random_array_programs(final, body, seed):
    check(final.format(body, body), seed)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(FINAL), matrices(depth=4), st.integers(0, 2**32 - 1))
def test_many_more_random_array_programs(final, body, seed):
    check(final.format(body, body), seed)
