"""Whole numpy programs against HIPS autograd: f and the gradient of every input.

Random programs over the numpy language (tests/numpy_programs.py makes them, each written
for bpcli and as a Python function over autograd.numpy), and the cs231n assignments' pieces
that need no reduction along an axis: a two-layer net, the SVM and softmax losses, word
embeddings, an RNN and an LSTM step, affine layers on images, 2×2 max pooling and a 3×3
convolution from slices. autograd is an independent implementation: agreement to 1e-6
relative says bpcli reads each program as numpy does and differentiates it right. Integer
bindings used as indices (labels, word ids) are data: bpcli gives them no gradient.
"""

from __future__ import annotations

import warnings

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import value_and_grad
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from numpy_programs import Program, assign, drawn, logsumexp, make_program, sigmoid

from bpcli.core.engine import gradients, run
from bpcli.language.parse import parse

RTOL, ATOL = 1e-6, 1e-9


def compare(text: str, python, floats: dict, data: dict | None = None) -> None:
    """bpcli's f and gradients for program `text` against autograd's for `python`, a
    function of the dict of float inputs (the data is bound in it already)."""
    data = data or {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # autograd: "Output seems independent of input"
        expected, expected_grads = value_and_grad(python)(floats)
    if not all(np.all(np.isfinite(g)) for g in [expected, *expected_grads.values()]):
        reject()  # no derivative there (std of equal numbers): bpcli's convention, not autograd's
    bindings = {**floats, **{n: np.asarray(v, dtype=float) for n, v in data.items()}}
    result = run(parse(text, bindings))
    grads = gradients(result)
    where = f"\n{text}\nwith shapes { {n: np.shape(v) for n, v in bindings.items()} }"
    assert result.output == pytest.approx(float(expected), rel=RTOL, abs=ATOL), f"f differs:{where}"
    for name, value in floats.items():
        grad = grads[name]
        assert grad is not None, f"∂f/∂{name} is missing:{where}"
        assert np.shape(grad) == np.shape(value), f"∂f/∂{name} has shape {np.shape(grad)}:{where}"
        scale = max(1.0, float(np.max(np.abs(expected_grads[name]), initial=0.0)))
        np.testing.assert_allclose(
            grad, expected_grads[name], rtol=RTOL, atol=ATOL * scale, err_msg=f"∂f/∂{name}:{where}"
        )
    for name in data:
        assert grads[name] is None, f"{name} is an index (data) but got a gradient:{where}"


def check_program(p: Program) -> None:
    compare(p.bpcli_text(), p.python_function(), p.values(), p.data)


# --- random programs ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data(), st.integers(1, 8), st.integers(0, 2**32 - 1))
def test_random_numpy_programs(data, length, seed):
    check_program(make_program(drawn(data), seed, length))


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data(), st.integers(1, 14), st.integers(0, 2**32 - 1))
def test_many_more_random_numpy_programs(data, length, seed):
    check_program(make_program(drawn(data), seed, length))


def test_the_python_side_assigns_as_numpy_does():
    """`assign`, the oracle's functional m[index] = v, against numpy's own assignment."""
    rng = np.random.default_rng(0)
    m, v = rng.normal(size=(4, 3)), rng.normal(size=(3, 3))
    for index, value in [
        (np.s_[[0, 2, 0]], v),
        (np.s_[[1, 1], [2, 2]], v[0, :2]),
        (np.s_[:, 0:2], 7.0),
        (np.s_[m > 0], 0.0),
        (np.s_[np.arange(4), [2, 0, 2, 1]], [*v[:, 0].tolist(), 5.0]),
        (np.s_[m > 9], 1.0),  # an empty mask
    ]:
        expected = m.copy()
        expected[index] = value
        np.testing.assert_array_equal(assign(m, index, np.asarray(value)), expected)


# --- cs231n, by hand ---------------------------------------------------------------------------------


def python(text: str, output: str = "loss", data: dict | None = None):
    """A function of the float inputs running `text` over autograd.numpy (the same text as
    bpcli's, where autograd can run it)."""

    def function(inputs: dict):
        scope = {"np": anp, "sigmoid": sigmoid, "logsumexp": logsumexp, "assign": assign, "S": np.s_}
        scope.update({**(data or {}), **inputs})
        exec(text, scope)
        return scope[output]

    return function


def normal(rng, *shape, scale=1.0):
    return rng.normal(size=shape) * scale


TWO_LAYER_NET = """
N, D = X.shape
h = np.maximum(0, X @ W1 + b1)
scores = h @ W2 + b2
C = scores.shape[1]
exp_scores = np.exp(scores)
probs = exp_scores / (exp_scores @ np.ones((C, 1)))
data_loss = -np.sum(np.log(probs[np.arange(N), y])) / N
loss = data_loss + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
"""


def test_two_layer_net():
    rng = np.random.default_rng(1)
    floats = {
        "X": normal(rng, 5, 4),
        "W1": normal(rng, 4, 6, scale=0.5),
        "b1": normal(rng, 6, scale=0.1),
        "W2": normal(rng, 6, 3, scale=0.5),
        "b2": normal(rng, 3, scale=0.1),
        "reg": 0.05,
    }
    data = {"y": np.array([0, 2, 1, 2, 2])}
    compare(TWO_LAYER_NET, python(TWO_LAYER_NET, data=data), floats, data)


SVM_MAXIMUM = """
N = X.shape[0]
scores = X @ W
correct = scores[np.arange(N), y]
margins = np.maximum(0, scores - correct[:, np.newaxis] + 1.0)
margins[np.arange(N), y] = 0
loss = np.sum(margins) / N + reg * np.sum(W * W)
"""
SVM_MASK = """
num_train = X.shape[0]
scores = X.dot(W)
correct_class_score = scores[range(num_train), y]
margins = scores - correct_class_score[:, None] + 1
margins[margins < 0] = 0
margins[np.arange(num_train), y] = 0
loss = np.sum(margins) / num_train + reg * np.sum(W * W)
"""
# autograd cannot assign (nor has its array a .dot): the same with assign() (and np.dot)
SVM_MAXIMUM_PY = SVM_MAXIMUM.replace(
    "margins[np.arange(N), y] = 0", "margins = assign(margins, S[np.arange(N), y], 0.0)"
)
SVM_MASK_PY = (
    SVM_MASK.replace("X.dot(W)", "np.dot(X, W)")
    .replace("margins[margins < 0] = 0", "margins = assign(margins, S[margins < 0], 0.0)")
    .replace(
        "margins[np.arange(num_train), y] = 0", "margins = assign(margins, S[np.arange(num_train), y], 0.0)"
    )
)


@pytest.mark.parametrize("text, python_text", [(SVM_MAXIMUM, SVM_MAXIMUM_PY), (SVM_MASK, SVM_MASK_PY)])
def test_svm_loss(text, python_text):
    rng = np.random.default_rng(2)
    floats = {"X": normal(rng, 6, 4), "W": normal(rng, 4, 3, scale=0.5), "reg": 0.1}
    data = {"y": np.array([0, 1, 2, 2, 0, 1])}
    compare(text, python(python_text, data=data), floats, data)


SOFTMAX_BROADCAST = """
num_train, dim = X.shape
num_classes = W.shape[1]
scores = X @ W
scores -= np.max(scores)
exp_scores = np.exp(scores)
sums = exp_scores @ np.ones(num_classes)
probs = exp_scores / sums[:, None]
loss = -np.sum(np.log(probs[np.arange(num_train), y])) / num_train + reg * np.sum(W * W)
"""


def test_softmax_loss_with_explicit_broadcasting():
    rng = np.random.default_rng(3)
    floats = {"X": normal(rng, 5, 4), "W": normal(rng, 4, 3), "reg": 0.02}
    data = {"y": np.array([2, 2, 0, 1, 0])}
    compare(SOFTMAX_BROADCAST, python(SOFTMAX_BROADCAST, data=data), floats, data)


WORD_EMBEDDING = """
out = W[x]
N, T, D = out.shape
loss = np.sum(out * dout) + 0.5 * np.sum(out[:, 0] * out[:, -1])
"""


def test_word_embedding_with_repeated_ids():
    rng = np.random.default_rng(4)
    x = np.array([[0, 3, 3, 1], [3, 0, 4, 3]])  # word 3 four times, 0 twice: their gradients add
    floats = {"W": normal(rng, 5, 3), "dout": normal(rng, 2, 4, 3)}
    compare(WORD_EMBEDDING, python(WORD_EMBEDDING, data={"x": x}), floats, {"x": x})


RNN_STEP = """
next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
loss = np.sum(next_h * dnext_h)
"""
RNN_UNROLLED = """
N, T, D = x.shape
h1 = np.tanh(x[:, 0, :] @ Wx + h0 @ Wh + b)
h2 = np.tanh(x[:, 1, :] @ Wx + h1 @ Wh + b)
h3 = np.tanh(x[:, 2] @ Wx + h2 @ Wh + b)
h = np.stack([h1, h2, h3], axis=1)
loss = np.sum(h * dh)
"""


def test_rnn_step():
    rng = np.random.default_rng(5)
    n, d, h = 3, 4, 5
    floats = {
        "x": normal(rng, n, d),
        "prev_h": normal(rng, n, h),
        "Wx": normal(rng, d, h, scale=0.4),
        "Wh": normal(rng, h, h, scale=0.4),
        "b": normal(rng, h, scale=0.1),
        "dnext_h": normal(rng, n, h),
    }
    compare(RNN_STEP, python(RNN_STEP), floats)


def test_rnn_unrolled_over_three_steps():
    rng = np.random.default_rng(6)
    n, t, d, h = 2, 3, 4, 3
    floats = {
        "x": normal(rng, n, t, d),
        "h0": normal(rng, n, h),
        "Wx": normal(rng, d, h, scale=0.4),
        "Wh": normal(rng, h, h, scale=0.4),
        "b": normal(rng, h, scale=0.1),
        "dh": normal(rng, n, t, h),
    }
    compare(RNN_UNROLLED, python(RNN_UNROLLED), floats)


LSTM_SLICES = """
N, H = prev_h.shape
a = x @ Wx + prev_h @ Wh + b
i = sigmoid(a[:, 0:H])
f = sigmoid(a[:, H:2*H])
o = sigmoid(a[:, 2*H:3*H])
g = np.tanh(a[:, 3*H:4*H])
next_c = f * prev_c + i * g
next_h = o * np.tanh(next_c)
loss = np.sum(next_h * dnext_h) + np.sum(next_c * dnext_c)
"""
LSTM_SPLIT = """
a = x @ Wx + prev_h @ Wh + b
ai, af, ao, ag = np.split(a, 4, axis=1)
i = sigmoid(ai)
f = sigmoid(af)
o = sigmoid(ao)
g = np.tanh(ag)
next_c = f * prev_c + i * g
next_h = o * np.tanh(next_c)
loss = np.sum(next_h * dnext_h) + np.sum(next_c * dnext_c)
"""


@pytest.mark.parametrize("text", [LSTM_SLICES, LSTM_SPLIT], ids=["slices", "split"])
def test_lstm_step(text):
    rng = np.random.default_rng(7)
    n, d, h = 3, 4, 2
    floats = {
        "x": normal(rng, n, d),
        "prev_h": normal(rng, n, h),
        "prev_c": normal(rng, n, h),
        "Wx": normal(rng, d, 4 * h, scale=0.4),
        "Wh": normal(rng, h, 4 * h, scale=0.4),
        "b": normal(rng, 4 * h, scale=0.1),
        "dnext_h": normal(rng, n, h),
        "dnext_c": normal(rng, n, h),
    }
    compare(text, python(text), floats)


AFFINE_RELU_IMAGES = """
N = x.shape[0]
out = x.reshape(N, -1) @ w + b
a = np.maximum(0, out)
scores = a @ w2
loss = np.sum(scores * dout) + 0.5 * reg * np.sum(w * w)
"""


def test_affine_relu_on_images():
    rng = np.random.default_rng(8)
    floats = {
        "x": normal(rng, 2, 3, 2, 2),
        "w": normal(rng, 12, 5, scale=0.3),
        "b": normal(rng, 5, scale=0.1),
        "w2": normal(rng, 5, 3),
        "dout": normal(rng, 2, 3),
        "reg": 0.1,
    }
    compare(AFFINE_RELU_IMAGES, python(AFFINE_RELU_IMAGES), floats)


MAX_POOL = """
top = np.maximum(x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2])
bottom = np.maximum(x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2])
pooled = np.maximum(top, bottom)
loss = np.sum(pooled * dout)
"""


def test_max_pool_2x2_from_strided_slices():
    rng = np.random.default_rng(9)
    floats = {"x": normal(rng, 2, 3, 4, 4), "dout": normal(rng, 2, 3, 2, 2)}
    compare(MAX_POOL, python(MAX_POOL), floats)


def conv_3x3() -> str:
    """A 3×3 convolution (stride 1, zero padding 1) as nine shifted slices, each contracted
    over the channels by a matmul: cs231n's conv_forward_naive without its loops."""
    lines = [
        "N, C, H, W = x.shape",
        "F = w.shape[0]",
        "zr = np.zeros((N, C, 1, W))",
        "xp = np.concatenate([zr, x, zr], axis=2)",
        "zc = np.zeros((N, C, H + 2, 1))",
        "xp = np.concatenate([zc, xp, zc], axis=3)",
        "out = np.zeros((N * H * W, F)) + b",
    ]
    for i in range(3):
        for j in range(3):
            lines.append(
                f"out = out + xp[:, :, {i}:{i} + H, {j}:{j} + W].transpose(0, 2, 3, 1).reshape(-1, C)"
                f" @ w[:, :, {i}, {j}].T"
            )
    lines += ["out = out.reshape(N, H, W, F).transpose(0, 3, 1, 2)", "loss = np.sum(out * dout)"]
    return "\n".join(lines)


def test_conv_3x3_from_padded_slices():
    rng = np.random.default_rng(10)
    floats = {
        "x": normal(rng, 2, 3, 4, 3),
        "w": normal(rng, 2, 3, 3, 3, scale=0.3),
        "b": normal(rng, 2, scale=0.1),
        "dout": normal(rng, 2, 2, 4, 3),
    }
    text = conv_3x3()
    python_text = text.replace(".transpose(0, 2, 3, 1)", ".transpose((0, 2, 3, 1))").replace(
        ".transpose(0, 3, 1, 2)", ".transpose((0, 3, 1, 2))"
    )
    compare(text, python(python_text), floats)


DROPOUT = """
mask = (r < p) / p
out = x * mask
loss = np.sum(out * dout)
"""


def test_dropout_with_a_bound_mask():
    rng = np.random.default_rng(11)
    floats = {"x": normal(rng, 3, 4), "dout": normal(rng, 3, 4), "r": rng.uniform(size=(3, 4)), "p": 0.5}
    compare(DROPOUT, python(DROPOUT), floats)
