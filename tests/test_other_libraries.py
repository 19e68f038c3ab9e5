"""Cases from other autodiff libraries' own test suites, rewritten in bpcli's language.

micrograd's test_engine.py checks its engine against PyTorch on two programs; the numbers
below are PyTorch's, as micrograd's tests assert them.
"""

from __future__ import annotations

import pytest

from bpcli.core.engine import gradients, run
from bpcli.language.parse import parse


def test_micrograd_sanity_check():
    result = run(
        parse("""
        x = -4
        z = 2*x + 2 + x
        q = relu(z) + z*x
        h = relu(z*z)
        y = h + q + q*x
    """)
    )
    assert result.output == -20.0
    assert gradients(result)["x"] == 46.0


def test_micrograd_more_ops():
    result = run(
        parse("""
        a = -4
        b = 2
        c = a + b
        d = a*b + b^3
        c += c + 1
        c += 1 + c + (-a)
        d += d*2 + relu(b + a)
        d += 3*d + relu(b - a)
        e = c - d
        f = e^2
        g = f / 2
        g += 10 / f
    """)
    )
    grads = gradients(result)
    assert result.output == pytest.approx(24.70408163265306, abs=1e-12)
    assert grads["a"] == pytest.approx(138.83381924198252, abs=1e-10)
    assert grads["b"] == pytest.approx(645.5772594752186, abs=1e-10)


def test_pytorch_tutorial_one_neuron():
    # PyTorch's autograd tutorial: z = x·w + b, binary cross-entropy with logits of z, y
    result = run(
        parse("""
        x = [1, 1, 1, 1, 1]
        y = [0, 0, 0]
        w = [[0.3, -0.2, 0.1], [0.05, 0.4, -0.3], [-0.1, 0.2, 0.25], [0.15, -0.05, 0.3], [0.2, 0.1, -0.4]]
        b = [0.1, -0.2, 0.3]
        z = x @ w + b
        loss = mean(-(y*logsigmoid(z) + (1 - y)*logsigmoid(-z)))
    """)
    )
    import numpy as np

    x, w, b = np.ones(5), np.array(result.value(result.graph.inputs["w"])), np.array([0.1, -0.2, 0.3])
    z = x @ w + b
    expected = np.mean(np.log1p(np.exp(z)))  # y = 0: the loss is softplus(z)
    assert result.output == pytest.approx(expected, rel=1e-12)
    dz = 1 / (1 + np.exp(-z)) / 3
    np.testing.assert_allclose(gradients(result)["w"], np.outer(x, dz), rtol=1e-12)
    np.testing.assert_allclose(gradients(result)["b"], dz, rtol=1e-12)
