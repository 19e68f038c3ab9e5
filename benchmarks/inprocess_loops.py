"""In-process loop unrolling (issue 16): `for i in range(N): s = s + x * w` through bpcli
(parse + forward + backward), against the same program written out straight-line through
bpcli, a plain Python loop with a hand backward pass, and HIPS autograd on the same loop
(when it is installed and N is at most --autograd-max). bpcli is imported once.

Each case runs once untimed and is checked (s = N·x·w, ∂s/∂x = N·w, ∂s/∂w = N·x), then
the cases of one N run in interleaved rounds, each after gc.collect(). Run by
benchmarks/run.py with the benchmark venv's interpreter; prints one JSON object.
Usage: python inprocess_loops.py --sizes 10000:5,100000:2 [--autograd-max 10000]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import time
from collections.abc import Callable
from typing import Any

import bpcli
from bpcli.core.engine import gradients, run
from bpcli.language.parse import parse

X, W = 0.5, 1.5
Outcome = tuple[float, float, float]  # s, ∂s/∂x, ∂s/∂w


def loop_program(n: int) -> str:
    return f"s = 0.0\nfor i in range({n}):\n    s = s + x * w\ns\n"


def unrolled_program(n: int) -> str:
    """The same, written out: one statement per iteration (the parser's cost, no interpreter's)."""
    return "s = 0.0\n" + "s = s + x * w\n" * n + "s\n"


def bpcli_case(text: str, times: dict[str, list[float]], nodes: list[int]) -> Outcome:
    t0 = time.perf_counter()
    graph = parse(text, {"x": X, "w": W})
    t1 = time.perf_counter()
    result = run(graph)
    grads = gradients(result)
    t2 = time.perf_counter()
    times["parse"].append(t1 - t0)
    times["run"].append(t2 - t1)
    nodes[:] = [len(graph.nodes)]
    return float(result.output), float(grads["x"]), float(grads["w"])


def hand(n: int) -> Outcome:
    """The loop in plain Python floats, its tape kept as a user's hand backward pass keeps it,
    and the backward pass as a reversed loop over it."""
    x, w = X, W
    s = 0.0
    tape = []
    for _ in range(n):
        p = x * w
        tape.append((x, w))
        s = s + p
    ds, dx, dw = 1.0, 0.0, 0.0
    for xi, wi in reversed(tape):
        # s = s + p: ds flows to the old s and to p; p = x * w
        dx += wi * ds
        dw += xi * ds
    return s, dx, dw


def autograd_case(n: int) -> Outcome:
    from autograd import value_and_grad

    def f(x: Any, w: Any) -> Any:
        s = 0.0
        for _ in range(n):
            s = s + x * w
        return s

    value, (dx, dw) = value_and_grad(f, (0, 1))(X, W)
    return float(value), float(dx), float(dw)


def check(name: str, got: Outcome, n: int) -> None:
    want = (n * X * W, n * W, n * X)
    if not all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(got, want, strict=True)):
        raise SystemExit(f"{name}, N = {n}: s, ∂s/∂x, ∂s/∂w = {got}, expected {want}")


def measure(n: int, rounds: int, with_autograd: bool) -> dict[str, Any]:
    splits = {name: {"parse": [], "run": []} for name in ("loop", "unrolled")}
    nodes: dict[str, list[int]] = {"loop": [], "unrolled": []}
    texts = {"loop": loop_program(n), "unrolled": unrolled_program(n)}
    cases: dict[str, Callable[[], Outcome]] = {
        name: (lambda name=name: bpcli_case(texts[name], splits[name], nodes[name])) for name in texts
    }
    cases["hand"] = lambda: hand(n)
    if with_autograd:
        cases["autograd"] = lambda: autograd_case(n)
    for name, case in cases.items():  # untimed, checked
        check(name, case(), n)
    for split in splits.values():
        split["parse"].clear()
        split["run"].clear()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            gc.collect()
            t0 = time.perf_counter()
            case()
            times[name].append(time.perf_counter() - t0)
    out: dict[str, Any] = {}
    for name, walls in times.items():
        out[name] = {"total": walls, **splits.get(name, {})}
        if name in nodes:
            out[name]["nodes"] = nodes[name][0]
            out[name]["chars"] = len(texts[name])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000:5,100000:2", help="N:rounds, comma-separated")
    parser.add_argument("--autograd-max", type=int, default=10_000, help="autograd only up to this N")
    args = parser.parse_args()
    try:
        import autograd  # noqa: F401

        have_autograd = True
    except ImportError:
        have_autograd = False
    sizes = [tuple(int(v) for v in item.split(":")) for item in args.sizes.split(",") if item]
    out: dict[str, Any] = {"bpcli": bpcli.__file__, "autograd": have_autograd, "sizes": {}}
    for n, rounds in sizes:
        out["sizes"][n] = measure(n, rounds, have_autograd and n <= args.autograd_max)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
