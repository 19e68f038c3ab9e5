"""In-process cs231n naive layers, pasted whole (issue 16): bpcli's parse + forward +
backward of Python text with loops, functions and a class, against the same text run by
Python under HIPS autograd (compile + exec + backward). bpcli is imported once.

Three cases, each a whole program ending in a scalar:
  - conv + pool: conv_forward_naive (N=2, C=3, 8×8, F=4, 3×3, stride 1, pad 1) and
    max_pool_forward_naive (2×2, stride 2) on its output, f = sum(pooled * dout);
  - rnn: rnn_forward (N=4, T=10, D=5, H=6) calling rnn_step_forward, f = sum(h * dh);
  - net: the TwoLayerNet class (N=5, D=4, H=10, C=3) and its loss with L2 regularisation.
autograd's arrays cannot be assigned into, so the texts both run collect a loop's results
in a list and stack them (np.array / np.stack): the "same text" cases. A student's
`out[n, f, i, j] = …` and `h[:, t, :] = next_h` (bpcli only) are the "as written" cases.

Every case is run once untimed and its value and the gradient of every input checked
against autograd's (1e-9 of the largest entry); then the cases of a layer run in
interleaved rounds, each after gc.collect(). Run by benchmarks/run.py with the benchmark
venv's interpreter (which needs autograd); prints one JSON object.
Usage: python inprocess_naive.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from typing import Any

import autograd.numpy as anp
import numpy as np
from autograd import value_and_grad

import bpcli
from bpcli.core.engine import gradients, run
from bpcli.language.parse import parse

TOLERANCE = 1e-9

CONV_POOL = """\
def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), 'constant')
    values = []
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    values.append(np.sum(window * w[f]) + b[f])
    out = np.array(values).reshape(N, F, H_out, W_out)
    cache = (x, w, b, conv_param)
    return out, cache


def max_pool_forward_naive(x, pool_param):
    N, C, H, W = x.shape
    ph, pw = pool_param['pool_height'], pool_param['pool_width']
    stride = pool_param['stride']
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    values = []
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    values.append(np.max(x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]))
    out = np.array(values).reshape(N, C, H_out, W_out)
    cache = (x, pool_param)
    return out, cache


conv, _ = conv_forward_naive(x, w, b, {'stride': 1, 'pad': 1})
pooled, _ = max_pool_forward_naive(conv, {'pool_height': 2, 'pool_width': 2, 'stride': 2})
f = np.sum(pooled * dout)
"""

# As students write it: the output array is made with np.zeros and assigned into.
CONV_POOL_WRITTEN = (
    CONV_POOL.replace("    values = []\n", "    out = np.zeros((N, F, H_out, W_out))\n", 1)
    .replace("    values = []\n", "    out = np.zeros((N, C, H_out, W_out))\n", 1)
    .replace("values.append(np.sum(window * w[f]) + b[f])", "out[n, f, i, j] = np.sum(window * w[f]) + b[f]")
    .replace("values.append(np.max(x[", "out[n, c, i, j] = np.max(x[")
    .replace("+ pw]))", "+ pw])")
    .replace("    out = np.array(values).reshape(N, F, H_out, W_out)\n", "")
    .replace("    out = np.array(values).reshape(N, C, H_out, W_out)\n", "")
)

RNN = """\
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(np.dot(prev_h, Wh) + np.dot(x, Wx) + b)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    hs = []
    cache = []
    prev_h = h0
    for t in range(T):
        next_h, cache_t = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        hs.append(next_h)
        cache.append(cache_t)
        prev_h = next_h
    h = np.stack(hs, axis=1)
    return h, cache


h, _ = rnn_forward(x, h0, Wx, Wh, b)
f = np.sum(h * dh)
"""

RNN_WRITTEN = (
    RNN.replace("    hs = []\n", "    H = h0.shape[1]\n    h = np.zeros((N, T, H))\n")
    .replace("hs.append(next_h)", "h[:, t, :] = next_h")
    .replace("    h = np.stack(hs, axis=1)\n", "")
)

NET = """\
class TwoLayerNet(object):
    def __init__(self, params):
        self.params = {}
        for name in ['W1', 'b1', 'W2', 'b2']:
            self.params[name] = params[name]

    def loss(self, X, y=None, reg=0.0):
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        N, D = X.shape
        h1 = np.maximum(0, np.dot(X, W1) + b1)
        scores = np.dot(h1, W2) + b2
        if y is None:
            return scores
        scores = scores - np.max(scores, axis=1, keepdims=True)
        exp_scores = np.exp(scores)
        probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
        loss = -np.sum(np.log(probs[np.arange(N), y])) / N
        loss += reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        grads = {}
        return loss, grads


net = TwoLayerNet(params)
loss, grads = net.loss(X, y, reg=0.05)
"""

Outcome = tuple[float, dict[str, Any]]


def conv_inputs() -> tuple[dict[str, Any], dict[str, Any]]:
    rng = np.random.default_rng(20261)
    return {
        "x": rng.standard_normal((2, 3, 8, 8)),
        "w": rng.standard_normal((4, 3, 3, 3)) / np.sqrt(27),
        "b": 0.1 * rng.standard_normal(4),
        "dout": rng.standard_normal((2, 4, 4, 4)),
    }, {}


def rnn_inputs() -> tuple[dict[str, Any], dict[str, Any]]:
    rng = np.random.default_rng(20262)
    n, t, d, h = 4, 10, 5, 6
    return {
        "x": rng.standard_normal((n, t, d)),
        "h0": rng.standard_normal((n, h)),
        "Wx": rng.standard_normal((d, h)) / np.sqrt(d),
        "Wh": rng.standard_normal((h, h)) / np.sqrt(h),
        "b": 0.1 * rng.standard_normal(h),
        "dh": rng.standard_normal((n, t, h)),
    }, {}


def net_inputs() -> tuple[dict[str, Any], dict[str, Any]]:
    rng = np.random.default_rng(20263)
    n, d, h, c = 5, 4, 10, 3
    params = {
        "W1": 1e-1 * rng.standard_normal((d, h)),
        "b1": 0.1 * rng.standard_normal(h),
        "W2": 1e-1 * rng.standard_normal((h, c)),
        "b2": 0.1 * rng.standard_normal(c),
    }
    return {"X": 10 * rng.standard_normal((n, d)), "params": params}, {"y": np.array([0, 1, 2, 2, 1])}


def bpcli_case(
    text: str, inputs: dict[str, Any], data: dict[str, Any], times: dict[str, list[float]]
) -> Outcome:
    t0 = time.perf_counter()
    graph = parse(text, {**inputs, **data})
    t1 = time.perf_counter()
    result = run(graph)
    grads = gradients(result)
    t2 = time.perf_counter()
    times["parse"].append(t1 - t0)
    times["run"].append(t2 - t1)
    times.setdefault("nodes", []).append(len(graph.nodes))
    return float(result.output), {k: grads[k] for k in flat(inputs)}


def autograd_case(text: str, inputs: dict[str, Any], data: dict[str, Any], output: str) -> Outcome:
    """compile + exec of the text with np = autograd.numpy, the float inputs differentiated."""
    code = compile(text, "<pasted>", "exec")

    def f(params: dict[str, Any]) -> Any:
        namespace = {"np": anp, **data, **params}
        exec(code, namespace)
        return namespace[output]

    value, grads = value_and_grad(f)(inputs)
    return float(value), flat(grads)


def flat(values: dict[str, Any]) -> dict[str, Any]:
    """The inputs by bpcli's names: a dict binding's entries as params['W1']."""
    out = {}
    for name, value in values.items():
        if isinstance(value, dict):
            out.update({f"{name}[{key!r}]": v for key, v in value.items()})
        else:
            out[name] = value
    return out


def check(name: str, got: Outcome, expected: Outcome) -> None:
    f, grads = got
    f0, grads0 = expected
    if not np.isclose(f, f0, rtol=TOLERANCE, atol=0):
        raise SystemExit(f"{name}: f = {f!r}, autograd's {f0!r}")
    for key, want in grads0.items():
        have = grads.get(key)
        scale = float(np.max(np.abs(want))) or 1.0
        if (
            have is None
            or np.shape(have) != np.shape(want)
            or np.max(np.abs(have - want)) > TOLERANCE * scale
        ):
            raise SystemExit(f"{name}: ∂f/∂{key} differs from autograd's")


def bench(
    text: str,
    written: str | None,
    make: Callable[[], tuple[dict[str, Any], dict[str, Any]]],
    output: str,
    repeats: int,
) -> dict[str, Any]:
    inputs, data = make()
    splits: dict[str, dict[str, list[float]]] = {}
    cases: dict[str, Callable[[], Outcome]] = {}
    texts = {"bpcli, same text": text}
    if written is not None:
        texts["bpcli, as written"] = written
    for name, source in texts.items():
        splits[name] = {"parse": [], "run": []}
        cases[name] = lambda s=source, t=splits[name]: bpcli_case(s, inputs, data, t)
    cases["autograd"] = lambda: autograd_case(text, inputs, data, output)
    expected = cases["autograd"]()
    for name, case in cases.items():  # untimed, checked
        check(name, case(), expected)
    for split in splits.values():
        split["parse"].clear()
        split["run"].clear()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, case in cases.items():
            gc.collect()
            t0 = time.perf_counter()
            case()
            times[name].append(time.perf_counter() - t0)
    out = {}
    for name, walls in times.items():
        split = splits.get(name, {})
        out[name] = {"total": walls, **{k: v for k, v in split.items() if k != "nodes"}}
        if split.get("nodes"):
            out[name]["nodes"] = split["nodes"][-1]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    out = {
        "bpcli": bpcli.__file__,
        "conv + pool": {
            "label": "N=2, C=3, 8×8, F=4, 3×3, pool 2×2",
            "cases": bench(CONV_POOL, CONV_POOL_WRITTEN, conv_inputs, "f", args.repeats),
        },
        "rnn": {
            "label": "N=4, T=10, D=5, H=6",
            "cases": bench(RNN, RNN_WRITTEN, rnn_inputs, "f", args.repeats),
        },
        "net": {
            "label": "TwoLayerNet.loss, N=5, D=4, H=10, C=3",
            "cases": bench(NET, None, net_inputs, "loss", args.repeats),
        },
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
