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
from bpcli.core.engine import gradients, run
from bpcli.language.parse import parse

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


def measure(programs: dict[str, tuple[str, float]], repeats: int) -> dict[str, dict[str, Any]]:
    """parse / forward+backward times of each program, `repeats` times, in interleaved
    rounds so that a burst of other load on the machine does not hit one size only."""
    out: dict[str, dict[str, Any]] = {
        key: {"nodes": 0, "chars": len(text), "parse": [], "run": [], "total": []}
        for key, (text, _) in programs.items()
    }
    for _ in range(repeats):
        for key, (text, expected) in programs.items():
            gc.collect()
            # The first parse after a big graph is freed pays a one-off ~20 ms; a tiny parse
            # takes it, so that each program is timed from the same state.
            parse("x+x", {"x": X})
            t0 = time.perf_counter()
            graph = parse(text, {"x": X})
            t1 = time.perf_counter()
            grad = gradients(run(graph))["x"]
            t2 = time.perf_counter()
            if not math.isclose(grad, expected, rel_tol=1e-9):
                raise SystemExit(f"{key}: wrong gradient {grad!r}, expected {expected!r}")
            m = out[key]
            m["nodes"] = len(graph.nodes)
            del graph
            m["parse"].append(t1 - t0)
            m["run"].append(t2 - t1)
            m["total"].append(t2 - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sums", default="", help="comma-separated term counts")
    parser.add_argument("--sines", default="", help="comma-separated nesting depths")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sums = [int(v) for v in args.sums.split(",") if v]
    sines = [int(v) for v in args.sines.split(",") if v]
    programs = {f"sum {n}": (sum_program(n), float(n)) for n in sums}
    programs.update({f"sin {d}": (sin_program(d), sin_gradient(d)) for d in sines})
    measured = measure(programs, args.repeats)
    out: dict[str, Any] = {
        "bpcli": bpcli.__file__,
        "sum": {n: measured[f"sum {n}"] for n in sums},
        "sin": {d: measured[f"sin {d}"] for d in sines},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
