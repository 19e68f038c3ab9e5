"""numpy's reductions along an axis in whole programs, against HIPS autograd.

The random programs of tests/test_oracle_numpy.py with reductions along axes added
(np.sum(x, axis=1, keepdims=True), x.mean(0), max, min, var, std, prod, logsumexp, norm,
softmax and logsoftmax along an axis), and the cs231n pieces that need them: the
vectorised softmax and SVM losses, batch and layer normalisation, the temporal softmax loss,
a two-layer net. The families come from bpcli.core.ops.axes: without them (a branch before
they were merged) this file skips.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy_programs import Program, drawn, fits, make_program
from test_oracle_numpy import compare, normal, python

from bpcli.core.ops import FAMILIES

if "sum" not in FAMILIES:
    pytest.skip("numpy's reductions along axes are not registered here", allow_module_level=True)

# --- random programs with reductions --------------------------------------------------------------

# bpcli's spelling, the Python (autograd) spelling where it differs; {a} the array,
# {axis} and {keep} the parameters
REDUCTIONS = [
    ("np.sum({a}, axis={axis}, keepdims={keep})", None),
    ("{a}.sum({axis}, keepdims={keep})", "np.sum({a}, {axis}, keepdims={keep})"),
    ("np.mean({a}, {axis}, keepdims={keep})", None),
    ("{a}.mean(axis={axis}, keepdims={keep})", "np.mean({a}, axis={axis}, keepdims={keep})"),
    ("np.max({a}, axis={axis}, keepdims={keep})", None),
    ("{a}.min({axis}, keepdims={keep})", "np.min({a}, {axis}, keepdims={keep})"),
    ("np.var({a}, axis={axis}, keepdims={keep})", None),
    ("{a}.std(axis={axis}, keepdims={keep})", "np.std({a}, axis={axis}, keepdims={keep})"),
    ("np.prod(1 + 0.1 * {a}, axis={axis}, keepdims={keep})", None),
    ("logsumexp({a}, axis={axis}, keepdims={keep})", None),
    # (autograd's norm with keepdims=True gives its gradient an extra axis)
    (
        "np.linalg.norm({a}, axis={axis}, keepdims={keep})",
        "np.sqrt(np.sum({a} * {a}, axis={axis}, keepdims={keep}))",
    ),
]
SOFTMAXES = [
    ("softmax({a}, axis={axis})", "np.exp({a} - logsumexp({a}, axis={axis}, keepdims=True))"),
    ("logsoftmax({a}, axis={axis})", "{a} - logsumexp({a}, axis={axis}, keepdims=True)"),
]


def reduction(p: Program) -> bool:
    a = p.pick(lambda s: len(s) >= 1)
    if a is None:
        return False
    shape = p.vars[a]
    ndim = len(shape)
    axes: list = [*range(ndim), -1]
    if ndim >= 2:
        axes += [(0, -1), None]
    axis = p.chooser.choice(axes)
    if axis is None:
        where = list(range(ndim))
    else:
        where = [k % ndim for k in (axis if isinstance(axis, tuple) else (axis,))]
    if p.chooser.chance(1):  # softmax along one axis
        if not isinstance(axis, int):
            return False
        bp, py = p.chooser.choice(SOFTMAXES)
        p.define(shape, bp.format(a=a, axis=axis), py.format(a=a, axis=axis))
        return True
    keep = p.chooser.chance()
    bp, py = p.chooser.choice(REDUCTIONS)
    if ("var" in bp or "std" in bp) and any(shape[k] < 2 for k in where):
        return False  # std of one number has an infinite gradient
    if keep:
        result = tuple(1 if k in where else n for k, n in enumerate(shape))
    else:
        result = tuple(n for k, n in enumerate(shape) if k not in where)
    if result and not fits(result):
        return False
    fill = {"a": a, "axis": axis, "keep": keep}
    p.define(result, bp.format(**fill), None if py is None else py.format(**fill))
    return True


def check(p: Program) -> None:
    compare(p.bpcli_text(), p.python_function(), p.values(), p.data)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data(), st.integers(1, 8), st.integers(0, 2**32 - 1))
def test_random_numpy_programs_with_reductions(data, length, seed):
    check(make_program(drawn(data), seed, length, extras=(reduction, reduction)))


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data(), st.integers(1, 14), st.integers(0, 2**32 - 1))
def test_many_more_random_numpy_programs_with_reductions(data, length, seed):
    check(make_program(drawn(data), seed, length, extras=(reduction, reduction)))


# --- cs231n, by hand -----------------------------------------------------------------------------------

SOFTMAX_LOSS = """
num_train = X.shape[0]
scores = X.dot(W)
scores -= np.max(scores, axis=1, keepdims=True)
probs = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
loss = -np.sum(np.log(probs[np.arange(num_train), y])) / num_train + reg * np.sum(W * W)
"""
SOFTMAX_LOSS_LOGSUMEXP = """
N = len(X)
scores = X @ W
shifted = scores - scores.max(axis=1)[:, None]
log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
loss = -log_probs[np.arange(N), y].mean() + reg * (W ** 2).sum()
"""
SVM_LOSS = """
N = X.shape[0]
scores = X @ W
margins = np.maximum(0, scores - scores[np.arange(N), y][:, np.newaxis] + 1)
margins[np.arange(N), y] = 0
loss = np.sum(margins, axis=1).mean() + reg * np.sum(W * W)
"""


@pytest.mark.parametrize(
    "text, python_text",
    [
        (SOFTMAX_LOSS, SOFTMAX_LOSS.replace("X.dot(W)", "np.dot(X, W)")),
        (SOFTMAX_LOSS_LOGSUMEXP, None),
        (
            SVM_LOSS,
            SVM_LOSS.replace("margins[np.arange(N), y] = 0", "margins = assign(margins, S[N_Y], 0.0)"),
        ),
    ],
    ids=["softmax", "softmax-logsumexp", "svm"],
)
def test_vectorised_losses(text, python_text):
    rng = np.random.default_rng(21)
    floats = {"X": normal(rng, 6, 4), "W": normal(rng, 4, 3), "reg": 0.05}
    data = {"y": np.array([0, 2, 1, 1, 2, 0])}
    compare(text, python(python_text or text, data={**data, "N_Y": (np.arange(6), data["y"])}), floats, data)


TWO_LAYER_NET = """
N, D = X.shape
hidden = np.maximum(0, X @ W1 + b1)
scores = hidden @ W2 + b2
scores = scores - np.max(scores, axis=1, keepdims=True)
log_probs = scores - np.log(np.sum(np.exp(scores), axis=1, keepdims=True))
loss = -np.mean(log_probs[np.arange(N), y]) + reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
"""


def test_two_layer_net():
    rng = np.random.default_rng(22)
    floats = {
        "X": normal(rng, 5, 4),
        "W1": normal(rng, 4, 6, scale=0.5),
        "b1": normal(rng, 6, scale=0.1),
        "W2": normal(rng, 6, 3, scale=0.5),
        "b2": normal(rng, 3, scale=0.1),
        "reg": 0.01,
    }
    data = {"y": np.array([1, 0, 2, 2, 1])}
    compare(TWO_LAYER_NET, python(TWO_LAYER_NET, data=data), floats, data)


BATCHNORM = """
mu = x.mean(axis=0)
xc = x - mu
var = np.mean(xc ** 2, axis=0)
std = np.sqrt(var + eps)
xhat = xc / std
out = gamma * xhat + beta
loss = np.sum(out * dout)
"""
BATCHNORM_VAR = """
sample_mean = np.mean(x, axis=0)
sample_var = np.var(x, axis=0)
x_hat = (x - sample_mean) / np.sqrt(sample_var + eps)
out = gamma * x_hat + beta
loss = np.sum(out * dout)
"""
LAYERNORM = """
mean = x.mean(axis=1, keepdims=True)
std = x.std(axis=1, keepdims=True)
out = gamma * (x - mean) / (std + eps) + beta
loss = np.sum(out * dout)
"""
SPATIAL_BATCHNORM = """
N, C, H, W = x.shape
flat = x.transpose(0, 2, 3, 1).reshape(-1, C)
mu = flat.mean(0)
var = flat.var(0)
xhat = (flat - mu) / np.sqrt(var + eps)
out = (gamma * xhat + beta).reshape(N, H, W, C).transpose(0, 3, 1, 2)
loss = np.sum(out * dout)
"""


@pytest.mark.parametrize("text", [BATCHNORM, BATCHNORM_VAR, LAYERNORM], ids=["batchnorm", "var", "layernorm"])
def test_normalisation(text):
    rng = np.random.default_rng(23)
    floats = {
        "x": normal(rng, 4, 3, scale=2.0) + 1.0,
        "gamma": normal(rng, 3),
        "beta": normal(rng, 3),
        "dout": normal(rng, 4, 3),
        "eps": 1e-5,
    }
    compare(text, python(text), floats)


def test_spatial_batchnorm():
    rng = np.random.default_rng(24)
    floats = {
        "x": normal(rng, 2, 3, 2, 2, scale=2.0),
        "gamma": normal(rng, 3),
        "beta": normal(rng, 3),
        "dout": normal(rng, 2, 3, 2, 2),
        "eps": 1e-5,
    }
    python_text = SPATIAL_BATCHNORM.replace(".transpose(0, 2, 3, 1)", ".transpose((0, 2, 3, 1))").replace(
        ".transpose(0, 3, 1, 2)", ".transpose((0, 3, 1, 2))"
    )
    compare(SPATIAL_BATCHNORM, python(python_text), floats)


TEMPORAL_SOFTMAX_LOSS = """
N, T, V = x.shape
x_flat = x.reshape(N * T, V)
y_flat = y.reshape(N * T)
mask_flat = mask.reshape(N * T)
probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
probs /= np.sum(probs, axis=1, keepdims=True)
loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
"""


def test_temporal_softmax_loss():
    rng = np.random.default_rng(25)
    y = np.array([[0, 3, 3], [2, 1, 0]])
    floats = {"x": normal(rng, 2, 3, 4), "mask": np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])}
    compare(TEMPORAL_SOFTMAX_LOSS, python(TEMPORAL_SOFTMAX_LOSS, data={"y": y}), floats, {"y": y})


PADDED_CONV_1X1 = """
xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), 'constant')
N, C, H, W = xp.shape
out = (xp.transpose(0, 2, 3, 1).reshape(-1, C) @ w).reshape(N, H, W, -1)
loss = np.sum(out * dout)
"""


@pytest.mark.skipif("pad" not in FAMILIES, reason="np.pad is not registered here")
def test_np_pad_then_a_1x1_convolution():
    rng = np.random.default_rng(26)
    floats = {"x": normal(rng, 2, 3, 2, 2), "w": normal(rng, 3, 2), "dout": normal(rng, 2, 4, 4, 2)}
    python_text = PADDED_CONV_1X1.replace(".transpose(0, 2, 3, 1)", ".transpose((0, 2, 3, 1))")
    compare(PADDED_CONV_1X1, python(python_text), floats)


# cs231n's three-layer convnet: conv - relu - 2x2 max pool - affine - relu - affine - softmax. bpcli
# calls its conv2d and maxpool2d; autograd (which has neither) runs the 3×3 convolution as nine
# shifted slices of the padded input and the pool as the largest of four strided slices.
CONVNET = """
N = X.shape[0]
conv = conv2d(X, W1, b1, stride=1, pad=1)
pooled = max_pool(np.maximum(0, conv), size=2, stride=2)
hidden = np.maximum(0, pooled.reshape(N, -1) @ W2 + b2)
scores = hidden @ W3 + b3
scores = scores - scores.max(axis=1, keepdims=True)
loss = -np.mean(scores[np.arange(N), y] - np.log(np.exp(scores).sum(axis=1))) + reg * np.sum(W1 * W1)
"""


def _python_convnet() -> str:
    terms = " + ".join(
        f"np.dot(xp[:, :, {i}:{i} + H, {j}:{j} + Wd].transpose((0, 2, 3, 1)), W1[:, :, {i}, {j}].T)"
        for i in range(3)
        for j in range(3)
    )
    head = f"""
N, C, H, Wd = X.shape
xp = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)), 'constant')
conv = np.transpose({terms} + b1, (0, 3, 1, 2))
r = np.maximum(0, conv)
top = np.maximum(r[:, :, 0::2, 0::2], r[:, :, 0::2, 1::2])
pooled = np.maximum(top, np.maximum(r[:, :, 1::2, 0::2], r[:, :, 1::2, 1::2]))
"""
    return head + "\n".join(CONVNET.strip().splitlines()[3:])


@pytest.mark.skipif("conv2d" not in FAMILIES, reason="conv2d is not registered here")
def test_three_layer_convnet():
    rng = np.random.default_rng(27)
    floats = {
        "X": normal(rng, 2, 3, 4, 4),
        "W1": normal(rng, 2, 3, 3, 3, scale=0.3),
        "b1": normal(rng, 2, scale=0.1),
        "W2": normal(rng, 8, 5, scale=0.3),
        "b2": normal(rng, 5, scale=0.1),
        "W3": normal(rng, 5, 3, scale=0.3),
        "b3": normal(rng, 3, scale=0.1),
        "reg": 0.01,
    }
    data = {"y": np.array([2, 0])}
    compare(CONVNET, python(_python_convnet(), data=data), floats, data)
