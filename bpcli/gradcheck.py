"""`--gradcheck`: each input's analytic gradient beside a central finite difference.

As the cs231n notes recommend: the numeric gradient (f(x+h) − f(x−h)) / 2h, and the
relative error |a − n| / max(|a|, |n|), read by the notes' bands. Where the step x ± h
crosses a kink (relu, abs, max, min) the numeric gradient means nothing, and that is said.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from bpcli.engine import downstream, forward_values, gradient
from bpcli.errors import BpcliError
from bpcli.graph import Graph, Node
from bpcli.lazy import np

STEP = 1e-5  # scaled by max(1, |x|)
MAX_ELEMENTS = 2000  # an input with more elements is checked at a sample of them
SAMPLE = 200


@dataclass(slots=True)
class Check:
    """The check of one input."""

    name: str
    analytic: Any
    numeric: Any  # nan where the perturbed program could not be evaluated
    relative_error: float  # the worst over the elements checked
    verdict: str  # good, ok, suspect, wrong, or n/a
    kinks: list[int] = field(default_factory=list)  # ids of kinked nodes the step crosses
    checked: int = 1  # elements checked
    elements: int = 1


def verdict(error: float) -> str:
    """The notes' bands: > 1e-2 wrong; > 1e-4 uncomfortable; > 1e-7 ok with kinks; else good."""
    if math.isnan(error):
        return "n/a"
    if error > 1e-2:
        return "wrong"
    if error > 1e-4:
        return "suspect"
    if error > 1e-7:
        return "ok"
    return "good"


def relative_error(a: float, n: float) -> float:
    scale = max(abs(a), abs(n))
    return 0.0 if scale == 0 else abs(a - n) / scale


def gradcheck(graph: Graph, names: list[str] | None = None, seed: int = 0) -> list[Check]:
    """Check every input (or those in `names`) of a graph that has been run."""
    kinked = [n for n in graph.nodes if n.op.kink is not None]
    rng = random.Random(seed)
    checks = []
    for name, node in graph.inputs.items():
        if names and name not in names:
            continue
        checks.append(_check(graph, name, node, kinked, rng))
    forward_values(graph)  # leave every value as it was
    return checks


def _check(graph: Graph, name: str, node: Node, kinked: list[Node], rng: random.Random) -> Check:
    original = node.value
    analytic = gradient(node)
    size = 1 if type(original) is float else int(original.size)
    indices = list(range(size))
    if size > MAX_ELEMENTS:
        indices = sorted(rng.sample(indices, SAMPLE))
    numeric = np.full(np.shape(original), np.nan) if size > 1 or type(original) is not float \
        else math.nan
    crossed: set[int] = set()
    worst = 0.0
    try:
        for k in indices:
            base = original if type(original) is float else float(original.flat[k])
            h = STEP * max(1.0, abs(base))
            sides = []
            values = []
            for sign in (1.0, -1.0):
                _set(node, original, k, base + sign * h)
                try:
                    forward_values(graph)
                    values.append(graph.output.value)
                    sides.append(_sides(graph, kinked))
                except BpcliError:
                    values.append(math.nan)
                    sides.append(None)
            n = (values[0] - values[1]) / (2 * h)
            if sides[0] is not None and sides[1] is not None:
                crossed.update(i for i, (p, m) in enumerate(zip(sides[0], sides[1], strict=True))
                               if p != m)
            a = analytic if type(analytic) is float else float(analytic.flat[k])
            if type(numeric) is float:
                numeric = n
            else:
                numeric.flat[k] = n
            worst = max(worst, relative_error(a, n)) if not math.isnan(n) else math.nan
    finally:
        node.value = original
    kink_ids = sorted(kinked[i].id for i in crossed)
    return Check(name, analytic, numeric, worst, verdict(worst), kink_ids, len(indices), size)


def _set(node: Node, original: Any, k: int, value: float) -> None:
    if type(original) is float:
        node.value = value
    else:
        changed = original.copy()
        changed.flat[k] = value
        node.value = changed


def _sides(graph: Graph, kinked: list[Node]) -> list[Any]:
    """Which side of its kink each kinked node is on: its local gradients, as bytes."""
    sides = []
    for node in kinked:
        signature = []
        for i in range(len(node.inputs)):
            seed = 1.0 if type(node.value) is float else np.ones_like(node.value)
            try:
                local = downstream(graph, node, i, upstream=seed)
            except BpcliError:
                signature.append(b"undefined")
                continue
            signature.append(np.asarray(local).tobytes())
        sides.append(tuple(signature))
    return sides
