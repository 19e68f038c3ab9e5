"""In-process scaling: parse + forward + backward of big scalar programs, bpcli imported once.

Run by benchmarks/run.py with the benchmark venv's interpreter; prints one JSON object.
Usage: python inprocess.py --sums 25000,50000 --sines 5000,10000 --repeats 3
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import time
from typing import Any

import bpcli
from bpcli.engine import gradients, run
from bpcli.parse import parse

X = 0.5


def sum_program(n: int) -> str:
    """x+x+...+x with n terms: n nodes (one input and n-1 adds)."""
    return "+".join(["x"] * n)


def sin_program(depth: int) -> str:
    """sin(sin(...sin(x)...)) nested `depth` times: depth+1 nodes."""
    return "sin(" * depth + "x" + ")" * depth


def sin_gradient(depth: int) -> float:
    value, grad = X, 1.0
    for _ in range(depth):
        grad *= math.cos(value)
        value = math.sin(value)
    return grad


def measure(text: str, expected: float, repeats: int) -> dict[str, Any]:
    """Best and median of `repeats` parse / forward+backward times for one program."""
    parse_times, run_times, totals = [], [], []
    nodes = 0
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        graph = parse(text, {"x": X})
        t1 = time.perf_counter()
        run(graph)
        grad = gradients(graph)["x"]
        t2 = time.perf_counter()
        if not math.isclose(grad, expected, rel_tol=1e-9):
            raise SystemExit(f"wrong gradient: {grad!r}, expected {expected!r}")
        nodes = len(graph.nodes)
        del graph
        parse_times.append(t1 - t0)
        run_times.append(t2 - t1)
        totals.append(t2 - t0)
    return {"nodes": nodes, "chars": len(text), "parse": parse_times, "run": run_times, "total": totals}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sums", default="", help="comma-separated term counts")
    parser.add_argument("--sines", default="", help="comma-separated nesting depths")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    out: dict[str, Any] = {"bpcli": bpcli.__file__, "sum": {}, "sin": {}}
    for n in [int(v) for v in args.sums.split(",") if v]:
        out["sum"][n] = measure(sum_program(n), float(n), args.repeats)
    for d in [int(v) for v in args.sines.split(",") if v]:
        out["sin"][d] = measure(sin_program(d), sin_gradient(d), args.repeats)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
