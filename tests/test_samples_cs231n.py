"""The cs231n samples (samples/cs231n/): each assignment item's numpy forward pass, run by
bpcli, against HIPS autograd running the same forward pass written as a Python function.

f and the gradient of every input are compared to 1e-6 relative (with a floor of 1e-6 times
the largest element, for elements that are 0 up to rounding); an input used as an index
(labels, word ids) or a boolean mask is data, with no gradient. In-place assignments of the
samples (margins[margins < 0] = 0) are written functionally here; np.pad, conv2d and
maxpool2d as concatenation and naive loops over the output's positions. The samples that
need conv2d, pad or maxpool2d are skipped where those ops are not registered. Each command
of samples/cs231n/README.md (its table and its code blocks) is run too, from the repository
root, and must exit 0 and print what its sample's header says.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from bpcli.core.engine import gradients, run
from bpcli.core.ops import FAMILIES, OPS, load_all
from bpcli.language.bindings import parse_bindings
from bpcli.language.parse import parse

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "samples" / "cs231n"
DATA = HERE / "data"
RTOL = 1e-6


# --- the forward passes, for autograd ----------------------------------------------------------


def _softmax_rows(scores):
    shifted = scores - anp.max(scores, axis=1, keepdims=True)
    e = anp.exp(shifted)
    return e / anp.sum(e, axis=1, keepdims=True)


def svm_loss(X, W, y, reg):
    n = X.shape[0]
    scores = anp.dot(X, W)
    correct = scores[np.arange(n), y].reshape(-1, 1)
    margins = scores - correct + 1
    margins = anp.where(margins < 0, 0.0, margins)
    onehot = np.zeros(scores.shape, dtype=bool)
    onehot[np.arange(n), y] = True
    margins = anp.where(onehot, 0.0, margins)
    return anp.sum(margins) / n + reg * anp.sum(W * W)


def softmax_loss(X, W, y, reg):
    n = X.shape[0]
    probs = _softmax_rows(anp.dot(X, W))
    return -anp.sum(anp.log(probs[np.arange(n), y])) / n + reg * anp.sum(W * W)


def two_layer_net(X, y, W1, b1, W2, b2, reg):
    n = X.shape[0]
    h1 = anp.maximum(0, anp.dot(X, W1) + b1)
    probs = _softmax_rows(anp.dot(h1, W2) + b2)
    loss = -anp.sum(anp.log(probs[np.arange(n), y])) / n
    return loss + reg * (anp.sum(W1 * W1) + anp.sum(W2 * W2))


def affine_forward(x, w, b, dout):
    out = anp.dot(anp.reshape(x, (x.shape[0], -1)), w) + b
    return anp.sum(out * dout)


def relu_forward(x, dout):
    return anp.sum(anp.maximum(0, x) * dout)


def batchnorm_forward(x, gamma, beta, dout, eps):
    mean = anp.mean(x, axis=0)
    var = anp.mean((x - mean) ** 2, axis=0)
    out = gamma * (x - mean) / anp.sqrt(var + eps) + beta
    return anp.sum(out * dout)


def layernorm_forward(x, gamma, beta, dout, eps):
    mu = anp.mean(x, axis=1, keepdims=True)
    var = anp.mean((x - mu) ** 2, axis=1, keepdims=True)
    out = gamma * (x - mu) / anp.sqrt(var + eps) + beta
    return anp.sum(out * dout)


def dropout_forward(x, mask, dout, p):
    return anp.sum(x * mask / p * dout)


def conv_forward(x, w, b, dout, stride=2, pad=1):
    """conv_forward_naive: zero padding, then one loop step per output position."""
    n, c, height, width = x.shape
    f, _, hh, ww = w.shape
    rows = anp.zeros((n, c, pad, width))
    xp = anp.concatenate([rows, x, rows], axis=2)
    cols = anp.zeros((n, c, height + 2 * pad, pad))
    xp = anp.concatenate([cols, xp, cols], axis=3)
    h_out = 1 + (height + 2 * pad - hh) // stride
    w_out = 1 + (width + 2 * pad - ww) // stride
    columns = []
    for i in range(h_out):
        for j in range(w_out):
            window = xp[:, :, i * stride : i * stride + hh, j * stride : j * stride + ww]
            columns.append(anp.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b)  # (N, F)
    out = anp.reshape(anp.stack(columns, axis=2), (n, f, h_out, w_out))
    return anp.sum(out * dout)


def max_pool_forward(x, dout, size=2, stride=2):
    """max_pool_forward_naive: one loop step per output position."""
    n, c, height, width = x.shape
    h_out = 1 + (height - size) // stride
    w_out = 1 + (width - size) // stride
    columns = []
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, :, i * stride : i * stride + size, j * stride : j * stride + size]
            columns.append(anp.max(anp.reshape(window, (n, c, size * size)), axis=2))
    out = anp.reshape(anp.stack(columns, axis=2), (n, c, h_out, w_out))
    return anp.sum(out * dout)


def spatial_batchnorm(x, gamma, beta, dout, eps):
    n, c, h, w = x.shape
    flat = anp.reshape(anp.transpose(x, (0, 2, 3, 1)), (-1, c))
    mu = anp.mean(flat, axis=0)
    var = anp.mean((flat - mu) ** 2, axis=0)
    out_flat = gamma * (flat - mu) / anp.sqrt(var + eps) + beta
    out = anp.transpose(anp.reshape(out_flat, (n, h, w, c)), (0, 3, 1, 2))
    return anp.sum(out * dout)


def rnn_step_forward(x, prev_h, Wx, Wh, b, dnext_h):
    next_h = anp.tanh(anp.dot(x, Wx) + anp.dot(prev_h, Wh) + b)
    return anp.sum(next_h * dnext_h)


def _sigmoid(z):
    return 0.5 * (anp.tanh(z / 2) + 1)


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, dnext_h, dnext_c):
    h = prev_h.shape[1]
    a = anp.dot(x, Wx) + anp.dot(prev_h, Wh) + b
    i, f, o = _sigmoid(a[:, :h]), _sigmoid(a[:, h : 2 * h]), _sigmoid(a[:, 2 * h : 3 * h])
    g = anp.tanh(a[:, 3 * h :])
    next_c = f * prev_c + i * g
    next_h = o * anp.tanh(next_c)
    return anp.sum(next_h * dnext_h) + anp.sum(next_c * dnext_c)


def word_embedding_forward(x, W, dout):
    return anp.sum(W[x] * dout)


def temporal_affine_forward(x, w, b, dout):
    n, t, d = x.shape
    out = anp.reshape(anp.dot(anp.reshape(x, (n * t, d)), w), (n, t, -1)) + b
    return anp.sum(out * dout)


def temporal_softmax_loss(x, y, mask):
    n, t, v = x.shape
    probs = _softmax_rows(anp.reshape(x, (n * t, v)))
    picked = probs[np.arange(n * t), y.reshape(n * t)]
    return -anp.sum(mask.reshape(n * t) * anp.log(picked)) / n


def _files(prefix: str, names: str) -> dict[str, str]:
    return {name: f"{prefix}_{name}" for name in names.split()}


# sample -> (reference, {input name: data file stem}, the program's literal inputs, ops it needs)
SAMPLES = {
    "svm_loss": (svm_loss, {"X": "X", "W": "W", "y": "y"}, {"reg": 0.1}, ()),
    "softmax_loss": (softmax_loss, {"X": "X", "W": "W", "y": "y"}, {"reg": 0.1}, ()),
    "two_layer_net": (
        two_layer_net,
        {"X": "X", "y": "y", "W1": "W1", "b1": "b1", "W2": "W2", "b2": "b2"},
        {"reg": 0.05},
        (),
    ),
    "affine_forward": (affine_forward, _files("affine", "x w b dout"), {}, ()),
    "relu_forward": (relu_forward, _files("relu", "x dout"), {}, ()),
    "batchnorm_forward": (batchnorm_forward, _files("bn", "x gamma beta dout"), {"eps": 1e-5}, ()),
    "layernorm_forward": (layernorm_forward, _files("ln", "x gamma beta dout"), {"eps": 1e-5}, ()),
    "dropout_forward": (dropout_forward, _files("dropout", "x mask dout"), {"p": 0.5}, ()),
    "conv_forward": (conv_forward, _files("conv", "x w b dout"), {}, ("conv2d", "pad")),
    "max_pool_forward": (max_pool_forward, _files("pool", "x dout"), {}, ("maxpool2d",)),
    "spatial_batchnorm": (spatial_batchnorm, _files("sbn", "x gamma beta dout"), {"eps": 1e-5}, ()),
    "rnn_step_forward": (rnn_step_forward, _files("rnn", "x prev_h Wx Wh b dnext_h"), {}, ()),
    "lstm_step_forward": (
        lstm_step_forward,
        _files("lstm", "x prev_h prev_c Wx Wh b dnext_h dnext_c"),
        {},
        (),
    ),
    "word_embedding_forward": (word_embedding_forward, _files("embed", "x W dout"), {}, ()),
    "temporal_affine_forward": (temporal_affine_forward, _files("taffine", "x w b dout"), {}, ()),
    "temporal_softmax_loss": (temporal_softmax_loss, _files("tsm", "x y mask"), {}, ()),
}


# the functions pasted whole, with their inputs in the file: tests/test_loops_oracle.py checks them
PASTED = {
    "affine_relu_naive",
    "svm_loss_naive",
    "softmax_loss_naive",
    "conv_forward_naive",
    "max_pool_forward_naive",
    "rnn_forward",
    "lstm_forward",
    "two_layer_net_class",
    "knn_loops",
}


def missing(needs: tuple[str, ...]) -> list[str]:
    """The ops a sample needs that this bpcli does not have yet."""
    load_all()  # numpy's array ops are registered on first use
    return [name for name in needs if name not in FAMILIES and name not in OPS]


def _skip_if_missing(needs: tuple[str, ...]) -> None:
    absent = missing(needs)
    if absent:
        pytest.skip(f"{', '.join(absent)} not in bpcli.core.ops.FAMILIES (it comes with another branch)")


def _is_data(value: np.ndarray) -> bool:
    return value.dtype.kind in "biu"


def test_every_sample_is_listed():
    assert sorted(p.stem for p in HERE.glob("*.bp")) == sorted({*SAMPLES, *PASTED})


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_against_autograd(name):
    reference, files, literals, needs = SAMPLES[name]
    _skip_if_missing(needs)
    source = (HERE / f"{name}.bp").read_text(encoding="utf-8")
    bindings = parse_bindings([f"{n}=@{DATA / stem}.npy" for n, stem in files.items()])
    graph = parse(source, bindings)
    result = run(graph)
    value = result.values[graph.output.id]
    grads = gradients(result)

    arrays = {n: np.load(DATA / f"{stem}.npy") for n, stem in files.items()}
    data = {n: v for n, v in arrays.items() if _is_data(v)}
    params = {n: v for n, v in arrays.items() if not _is_data(v)} | literals

    def f(p):
        return reference(**p, **data)

    want = f(params)
    assert value == pytest.approx(want, rel=RTOL)
    # the header comment says what the sample prints
    output, _, printed = header(name)[1].partition(" = ")
    assert output == graph.output_text
    assert printed == f"{want:.4f}".rstrip("0")

    want_grads = grad(f)(params)
    assert set(graph.inputs) == set(arrays) | set(literals)
    for n in graph.inputs:
        if n in data:
            assert grads[n] is None, f"{n} is data: it has no gradient"
            continue
        got = grads[n]
        assert got is not None, n
        assert np.shape(got) == np.shape(params[n]), n
        np.testing.assert_allclose(
            got, want_grads[n], rtol=RTOL, atol=RTOL * np.max(np.abs(want_grads[n])), err_msg=n
        )


def test_a_boolean_npy_binding_is_data(tmp_path):
    """dropout's mask saved by numpy (np.random.rand(…) < p) is data, as mask=[true, false] is."""
    np.save(tmp_path / "mask.npy", np.array([True, False, True]))
    for text in (f"mask=@{tmp_path / 'mask.npy'}", "mask=[true, false, true]"):
        bindings = parse_bindings(["x=[1, 2, 3]", text])
        assert bindings["mask"].dtype == bool
        grads = gradients(run(parse("f = np.sum(x * mask) / 0.5", bindings)))
        assert grads["mask"] is None
        np.testing.assert_array_equal(grads["x"], [2.0, 0.0, 2.0])


# --- the commands of the headers and of the README ------------------------------------------------

DATA_DIR = "samples/cs231n/data"


def header(name: str) -> tuple[str, str]:
    """The command in a sample's header (its continuation lines joined) and what it prints."""
    lines = (HERE / f"{name}.bp").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("#   bpcli "))
    parts = []
    for line in lines[start:]:
        part = line.lstrip("#").strip()
        parts.append(part.removesuffix("\\").strip())
        if not part.endswith("\\"):
            break
    prints = re.search(r"It prints (\w+ = -?\d+(?:\.\d+)?)\.", "\n".join(lines))
    assert prints, f"{name}.bp: no 'It prints NAME = VALUE.' in its header"
    return " ".join(parts), prints.group(1)


def readme_rows() -> list[tuple[str, str, str]]:
    """(sample, command, what it prints) for each row of samples/cs231n/README.md's table,
    with $d (the data directory) written out."""
    rows = []
    for line in (HERE / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| \[(\w+)\]\(\1\.bp\) \| `(bpcli [^`]+)` \| ([^|]+) \|", line)
        if match:
            rows.append((match.group(1), match.group(2).replace("$d", DATA_DIR), match.group(3).strip()))
    return rows


def readme_blocks() -> list[str]:
    """The commands in samples/cs231n/README.md's code blocks, continuation lines joined."""
    commands, current = [], ""
    for line in (HERE / "README.md").read_text(encoding="utf-8").splitlines():
        if not current and not line.startswith("bpcli "):
            continue
        current += " " + line.strip().removesuffix("\\").strip()
        if not line.endswith("\\"):
            commands.append(current.strip().replace("$d", DATA_DIR))
            current = ""
    return commands


def test_readme_lists_every_sample_with_its_header_command():
    rows = readme_rows()
    assert sorted(name for name, _, _ in rows) == sorted({*SAMPLES, *PASTED})
    for name, command, prints in rows:
        assert (command, prints) == header(name), name


@pytest.mark.parametrize(("name", "command", "prints"), readme_rows())
def test_readme_command(name, command, prints, bpcli, monkeypatch):
    _skip_if_missing(SAMPLES[name][3] if name in SAMPLES else ())
    monkeypatch.chdir(ROOT)
    args = shlex.split(command)
    assert args[:2] == ["bpcli", "grad"]
    result = bpcli(*args[1:])
    assert result.code == 0, result.err
    if name in PASTED:  # `loss, grad = svm_loss_naive(…)`: a note says which is the output
        # (and warnings: a branch taken on W's values, a draw in __init__ that is overwritten)
        assert all(line.startswith(("note: ", "warning: ")) for line in result.err.splitlines()), result.err
    else:
        assert result.err == ""
    assert f"\n{prints}\n" in result.out


@pytest.mark.parametrize("command", readme_blocks())
def test_readme_block_command(command, bpcli, monkeypatch):
    name = re.search(r"samples/cs231n/(\w+)\.bp", command)
    assert name
    _skip_if_missing(SAMPLES[name.group(1)][3] if name.group(1) in SAMPLES else ())
    monkeypatch.chdir(ROOT)
    result = bpcli(*shlex.split(command)[1:])
    assert result.code == 0, result.err
    assert result.err == ""
