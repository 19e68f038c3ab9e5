"""The benchmark baselines compute what bpcli computes (a fast wrong baseline proves nothing).

benchmarks/run.py checks every timed run's answer; these tests check the baselines' full
gradients against bpcli's on small cases, so that a ratio always compares like with like.
(Timing lives in benchmarks/, never here.)
"""

from __future__ import annotations

import io
import json
import random
import sys

import numpy as np
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import micrograd_baseline
import numpy_baseline
import numpy_conv_baseline
import numpy_net_baseline
import numpy_softmax_baseline


def close(a, b) -> bool:
    return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-10, atol=1e-12)


def test_micrograd_baseline_gives_bpclis_gradients(bpcli):
    rng = random.Random(3)
    for _ in range(20):
        w0, x0, w1, x1, w2 = (round(rng.uniform(-3, 3), 3) for _ in range(5))
        line = f"w0={w0}; x0={x0}; w1={w1}; x1={x1}; w2={w2}; f = 1/(1+exp(-(w0*x0+w1*x1+w2)))"
        output, value, grads = micrograd_baseline.solve(line)
        record = json.loads(bpcli("batch", "-", input=line + "\n").out)
        assert output == record["output"] and close(value, record["value"])
        assert grads.keys() == record["grads"].keys()
        assert all(close(grads[k], record["grads"][k]) for k in grads), line


def test_micrograd_baseline_gives_bpclis_gradients_on_distinct_problems(bpcli, tmp_path):
    import distinct_problems

    path = tmp_path / "distinct.jsonl"
    distinct_problems.write_distinct_problems(40, 7, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(r) for r in bpcli("batch", str(path)).out.splitlines()]
    assert len(records) == len(lines) == 40
    structures = set()
    for line, record in zip(lines, records, strict=True):
        problem = json.loads(line)
        structures.add(distinct_problems.structure(problem["program"]))
        output, value, grads = micrograd_baseline.solve(problem["program"], problem["bindings"])
        assert output == record["output"] and close(value, record["value"]), line
        assert grads.keys() == record["grads"].keys(), line
        assert all(close(grads[k], record["grads"][k]) for k in grads), line
    assert len(structures) == 40  # no two alike


def test_numpy_baseline_gives_bpclis_gradients(bpcli, tmp_path, monkeypatch):
    rng = np.random.default_rng(4)
    np.save(tmp_path / "W.npy", rng.standard_normal((5, 3)))
    np.save(tmp_path / "x.npy", rng.standard_normal(3))
    files = [str(tmp_path / "W.npy"), str(tmp_path / "x.npy")]
    doc = json.loads(
        bpcli("grad", "sum((W@x)^2)", f"W=@{files[0]}", f"x=@{files[1]}", "--format", "json").out
    )
    printed = io.StringIO()
    monkeypatch.setattr(sys, "stdout", printed)
    numpy_baseline.main([*files, "--format", "json"])
    theirs = json.loads(printed.getvalue())
    assert close(theirs["value"], doc["value"])
    assert all(close(theirs["grads"][k], doc["grads"][k]) for k in ("W", "x"))


@pytest.mark.parametrize("seed", [0, 1])
def test_numpy_net_baseline_gives_bpclis_gradients(bpcli, tmp_path, seed):
    rng = np.random.default_rng(seed)
    n, d, h, c = 6, 4, 5, 3
    arrays = {
        "X": rng.standard_normal((n, d)),
        "Y": np.eye(c)[rng.integers(0, c, n)],
        "W1": rng.standard_normal((d, h)) / 2,
        "b1": rng.standard_normal(h) / 10,
        "W2": rng.standard_normal((h, c)) / 2,
        "b2": rng.standard_normal(c) / 10,
    }
    for name, array in arrays.items():
        np.save(tmp_path / f"{name}.npy", array)
    program = "h = relu(X @ W1 + b1)\nscores = h @ W2 + b2\nloss = -sum(Y * logsoftmax(scores)) / N\n"
    args = [f"{name}=@{tmp_path / name}.npy" for name in arrays]
    result = bpcli("grad", program, *args, f"N={n}", "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    loss, grads = numpy_net_baseline.net(arrays, float(n))
    assert close(loss, doc["value"])
    assert grads.keys() == doc["grads"].keys()
    for name, grad in grads.items():
        assert close(grad, doc["grads"][name]), name


@pytest.mark.parametrize(("stride", "pad"), [(1, 1), (2, 0), (2, 2)])
def test_numpy_conv_baseline_gives_the_conv2d_ops_gradients(stride, pad):
    from bpcli.core.ops.registry import FAMILIES

    rng = np.random.default_rng(stride + 10 * pad)
    x, w, b = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    op = FAMILIES["conv2d"](stride=stride, pad=pad)
    out = op.array(x, w, b)
    C = rng.standard_normal(out.shape)
    loss, grads = numpy_conv_baseline.conv_loss(x, w, b, C, stride=stride, pad=pad)
    assert close(loss, np.sum(out * C))
    for i, name in enumerate("xwb"):
        assert close(grads[name], op.array_vjps[i](C, out, x, w, b)), name
    assert close(grads["C"], out)


def test_numpy_softmax_baseline_gives_bpclis_gradients(bpcli, tmp_path):
    # bpcli's softmax loss with one-hot rows (the language of today), the baseline's with labels
    rng = np.random.default_rng(5)
    n, d, c = 6, 4, 3
    y = rng.integers(0, c, n)
    arrays = {"X": rng.standard_normal((n, d)), "W": rng.standard_normal((d, c)), "Y": np.eye(c)[y]}
    for name, array in arrays.items():
        np.save(tmp_path / f"{name}.npy", array)
    args = [f"{name}=@{tmp_path / name}.npy" for name in arrays]
    result = bpcli("grad", "L = -sum(Y * logsoftmax(X @ W)) / N", *args, f"N={n}", "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    loss, grads = numpy_softmax_baseline.softmax_loss(arrays["X"], arrays["W"], y.astype(float))
    assert close(loss, doc["value"])
    assert all(close(grads[k], doc["grads"][k]) for k in ("W", "X"))
