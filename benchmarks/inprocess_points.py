"""In-process timings of `bpcli.compile(neuron).grad_many(points)` (issue 20, part 4): the
points through the program together as numpy arrays, against the same points one by one
(`[program.grad(p) for p in points]`, what grad_many did before), bpcli imported once.

    python inprocess_points.py N ROUNDS

N points of the sigmoid neuron (samples/neuron.bp's inputs, uniform in [-3, 3]); each round
times both, interleaved, after gc.collect(), each with a fresh compiled program. Before the
rounds, both are run once and every result's f and gradients are checked to be the same
floats. Prints one JSON object: the seconds of each round, for each.
"""

from __future__ import annotations

import gc
import json
import random
import sys
import time
from pathlib import Path

import numpy  # noqa: F401  # loaded as a user's session has it: grad_many's arrays need it

import bpcli

NEURON = """\
w0 = 2
x0 = -1
w1 = -3
x1 = -2
w2 = -3
f = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))
"""
NAMES = ("w0", "x0", "w1", "x1", "w2")


def main() -> None:
    n, rounds = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(20250)
    points = [{name: round(rng.uniform(-3, 3), 3) for name in NAMES} for _ in range(n)]

    def together() -> list[bpcli.Result]:
        return bpcli.compile(NEURON).grad_many(points)

    def one_by_one() -> list[bpcli.Result]:
        program = bpcli.compile(NEURON)
        return [program.grad(point) for point in points]

    a, b = together(), one_by_one()
    if [(r.value, r.grads) for r in a] != [(r.value, r.grads) for r in b]:
        raise SystemExit("grad_many gave other numbers than grad at each point")
    del a, b
    times: dict[str, list[float]] = {"together": [], "one_by_one": []}
    for _ in range(rounds):
        for name, function in (("together", together), ("one_by_one", one_by_one)):
            gc.collect()
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    print(json.dumps({"bpcli": str(Path(bpcli.__file__).resolve()), "n": n, **times}))


if __name__ == "__main__":
    main()
