"""In-process timings of cs231n's convolutional layer and softmax loss: bpcli against the
hand-written numpy baselines, in one process, bpcli imported once.

conv: f = sum(conv2d(x, w, b, stride=1, pad=1) * C) at N=8, C=16, 32×32, F=32, 3×3, and its
gradients of x, w, b and C, three ways, timed in interleaved rounds:
  - "bpcli ops": the conv2d op's forward and VJPs called directly (op.array,
    op.array_vjps), with the sum and the product by C as bpcli's engine computes them;
  - "bpcli program": parse + run + gradients of CONV_PROGRAM, bpcli's whole path (it needs
    the builder's calls with keyword arguments; until a bpcli has them, the case is skipped
    and the parse error is reported);
  - "numpy": numpy_conv_baseline.conv_loss, im2col by hand.
softmax: SOFTMAX_PROGRAM on X (256×3073, cs231n's CIFAR-10 rows with the bias column), W
(3073×10), y (256 labels): "bpcli program" (needs the builder's numpy language: keyword
arguments, methods, arange and integer indexing; skipped until then) against
numpy_softmax_baseline.softmax_loss.

Every bpcli case's f and gradients are checked against the baseline's (1e-9 of the largest
entry) before timing. Run by benchmarks/run.py with the benchmark venv's interpreter; prints
one JSON object. Usage: python inprocess_cnn.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy_conv_baseline import conv_loss
from numpy_softmax_baseline import softmax_loss

import bpcli
from bpcli.core.engine import gradients, run
from bpcli.core.ops import FAMILIES, load_all
from bpcli.errors import BpcliError
from bpcli.language.parse import parse

load_all()  # numpy's array ops (conv2d) are registered on first use

CONV = {"N": 8, "C": 16, "H": 32, "W": 32, "F": 32, "HH": 3, "WW": 3, "stride": 1, "pad": 1}
CONV_PROGRAM = "f = sum(conv2d(x, w, b, stride=1, pad=1) * C)"
SOFTMAX = {"N": 256, "D": 3073, "classes": 10}
SOFTMAX_PROGRAM = """\
s = X @ W
s = s - s.max(axis=1, keepdims=True)
p = exp(s) / exp(s).sum(axis=1, keepdims=True)
L = -log(p[arange(N), y]).mean()
"""
TOLERANCE = 1e-9  # of the largest entry of each gradient

Outcome = tuple[float, dict[str, Any]]


def conv_arrays() -> dict[str, np.ndarray]:
    s = CONV
    rng = np.random.default_rng(20242)
    oh = 1 + (s["H"] + 2 * s["pad"] - s["HH"]) // s["stride"]
    ow = 1 + (s["W"] + 2 * s["pad"] - s["WW"]) // s["stride"]
    fan_in = s["C"] * s["HH"] * s["WW"]
    return {
        "x": rng.standard_normal((s["N"], s["C"], s["H"], s["W"])),
        "w": rng.standard_normal((s["F"], s["C"], s["HH"], s["WW"])) / np.sqrt(fan_in),
        "b": 0.01 * rng.standard_normal(s["F"]),
        "C": rng.standard_normal((s["N"], s["F"], oh, ow)),
    }


def softmax_arrays() -> dict[str, Any]:
    s = SOFTMAX
    rng = np.random.default_rng(20243)
    X = rng.standard_normal((s["N"], s["D"] - 1))
    return {
        "X": np.hstack([X, np.ones((s["N"], 1))]),  # cs231n's bias trick
        "W": 0.0001 * rng.standard_normal((s["D"], s["classes"])),
        "y": rng.integers(0, s["classes"], s["N"]).astype(float),  # bpcli holds float64
        "N": float(s["N"]),
    }


def conv_ops(a: dict[str, np.ndarray]) -> Outcome:
    """The conv2d op's forward and VJPs, and the sum and product around it, as the engine
    computes them: ∂f/∂out = ones · C (sum, then mul), ∂f/∂C = ones · out."""
    op = FAMILIES["conv2d"](stride=CONV["stride"], pad=CONV["pad"])
    x, w, b, C = a["x"], a["w"], a["b"], a["C"]
    out = op.array(x, w, b)
    product = out * C
    f = float(np.sum(product))
    ones = np.full(product.shape, 1.0)
    g = ones * C
    vjps = op.array_vjps
    return f, {
        "x": vjps[0](g, out, x, w, b),
        "w": vjps[1](g, out, x, w, b),
        "b": vjps[2](g, out, x, w, b),
        "C": ones * out,
    }


def program(text: str, bindings: dict[str, Any], times: dict[str, list[float]]) -> Outcome:
    """parse + run + gradients, the parse and the rest timed apart into `times`."""
    t0 = time.perf_counter()
    graph = parse(text, bindings)
    t1 = time.perf_counter()
    result = run(graph)
    grads = gradients(result)
    t2 = time.perf_counter()
    times["parse"].append(t1 - t0)
    times["run"].append(t2 - t1)
    return float(result.output), grads


def check(name: str, got: Outcome, expected: Outcome) -> None:
    f, grads = got
    f0, grads0 = expected
    if not np.isclose(f, f0, rtol=TOLERANCE, atol=0):
        raise SystemExit(f"{name}: f = {f!r}, the numpy baseline's {f0!r}")
    for key, want in grads0.items():
        have = grads.get(key)
        scale = float(np.max(np.abs(want))) or 1.0
        if (
            have is None
            or np.shape(have) != np.shape(want)
            or np.max(np.abs(have - want)) > TOLERANCE * scale
        ):
            raise SystemExit(f"{name}: ∂f/∂{key} differs from the numpy baseline's")


def measure(cases: dict[str, Callable[[], Outcome]], repeats: int) -> dict[str, list[float]]:
    """Each case `repeats` times, after one warm-up round, in interleaved rounds."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(repeats + 1):
        for name, case in cases.items():
            gc.collect()
            t0 = time.perf_counter()
            case()
            elapsed = time.perf_counter() - t0
            if round_:
                times[name].append(elapsed)
    return times


def bench(
    ours: dict[str, Callable[[], Outcome]],
    programs: dict[str, tuple[str, dict[str, Any]]],
    baseline: Callable[[], Outcome],
    repeats: int,
) -> dict[str, Any]:
    """The cases that run (checked against the baseline), timed, and why the others did not."""
    expected = baseline()
    cases: dict[str, Callable[[], Outcome]] = {}
    skipped: dict[str, str] = {}
    splits: dict[str, dict[str, list[float]]] = {}
    for name, case in ours.items():
        check(name, case(), expected)
        cases[name] = case
    for name, (text, bindings) in programs.items():
        split: dict[str, list[float]] = {"parse": [], "run": []}
        try:
            got = program(text, bindings, split)
        except BpcliError as err:
            skipped[name] = f"not yet runnable: {str(err).splitlines()[0]}"
            continue
        check(name, got, expected)
        splits[name] = split
        cases[name] = lambda text=text, bindings=bindings, split=split: program(text, bindings, split)
    cases["numpy"] = baseline
    for split in splits.values():
        split["parse"].clear()
        split["run"].clear()
    times = measure(cases, repeats)
    for split in splits.values():  # the warm-up round's split is not a timed run
        del split["parse"][0], split["run"][0]
    return {
        "cases": {name: {"total": walls, **splits.get(name, {})} for name, walls in times.items()},
        "skipped": skipped,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    a = conv_arrays()
    conv = bench(
        {"bpcli ops": lambda: conv_ops(a)},
        {"bpcli program": (CONV_PROGRAM, dict(a))},
        lambda: conv_loss(a["x"], a["w"], a["b"], a["C"], stride=CONV["stride"], pad=CONV["pad"]),
        args.repeats,
    )
    s = softmax_arrays()
    softmax = bench(
        {},
        {"bpcli program": (SOFTMAX_PROGRAM, dict(s))},
        lambda: softmax_loss(s["X"], s["W"], s["y"]),
        args.repeats,
    )
    c = CONV
    out = {
        "bpcli": bpcli.__file__,
        "conv": {
            "label": f"N={c['N']}, C={c['C']}, {c['H']}×{c['W']}, F={c['F']}, {c['HH']}×{c['WW']},"
            f" stride {c['stride']}, pad {c['pad']}",
            "program": CONV_PROGRAM,
            "sizes": CONV,
            **conv,
        },
        "softmax": {
            "label": f"N={SOFTMAX['N']}, D={SOFTMAX['D']}, {SOFTMAX['classes']} classes",
            "program": SOFTMAX_PROGRAM,
            "sizes": SOFTMAX,
            **softmax,
        },
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
