"""`--gradcheck`: each input's analytic gradient beside a central finite difference.

As the cs231n notes recommend: the numeric gradient (f(x+h) − f(x−h)) / 2h, and the
relative error |a − n| / max(|a|, |n|), read by the notes' bands. Where the step x ± h
crosses a kink (relu, abs, max, min) the numeric gradient means nothing, and that is said.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bpcli.engine import downstream, forward_values, gradient, leads_to_output
from bpcli.errors import BpcliError
from bpcli.graph import Graph, Node
from bpcli.lazy import np

STEP = 1e-5  # scaled by max(1, |x|)
MAX_ELEMENTS = 2000  # an input with more elements is checked at a sample of them
SAMPLE = 200
# Each element checked costs two evaluations of the gates after its input. When checking
# every element would take more gate evaluations than this, a random sample of elements that
# fits in it is checked (at least MIN_CHECKED), so the check costs at most about as much as
# WORK gate evaluations or MIN_CHECKED forward passes, linear in the size of the graph.
WORK = 1_000_000
MIN_CHECKED = 20


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
    """|a − n| / max(|a|, |n|); nan when either is not a finite number (nothing to compare)."""
    if a - a != 0.0 or n - n != 0.0:
        return math.nan
    scale = max(abs(a), abs(n))
    return 0.0 if scale == 0 else abs(a - n) / scale


def gradcheck(graph: Graph, names: list[str] | None = None, seed: int = 0) -> list[Check]:
    """Check every input (or those in `names`) of a graph that has been run."""
    rng = random.Random(seed)
    chosen = [(name, node) for name, node in graph.inputs.items() if not names or name in names]
    plans: list[Sequence[int]] = []
    for _, node in chosen:
        size = _size(node.value)
        plans.append(range(size) if size <= MAX_ELEMENTS
                     else sorted(rng.sample(range(size), SAMPLE)))
    # what an element costs at most: two evaluations of every gate after its input
    costs = [2 * (len(graph.nodes) - node.id) for _, node in chosen]
    if sum(len(plan) * cost for plan, cost in zip(plans, costs, strict=True)) > WORK:
        plans = _sampled(plans, costs, rng)
    return [_check(graph, name, node, plan)
            for (name, node), plan in zip(chosen, plans, strict=True)]


def _sampled(plans: list[Sequence[int]], costs: list[int], rng: random.Random
             ) -> list[Sequence[int]]:
    """A random sample of the planned elements whose expected cost is about WORK."""
    counts = list(itertools.accumulate(len(plan) for plan in plans))
    total = counts[-1]
    work = sum(len(plan) * cost for plan, cost in zip(plans, costs, strict=True))
    keep = min(total, max(MIN_CHECKED, WORK * total // work))
    picked: list[list[int]] = [[] for _ in plans]
    for position in sorted(rng.sample(range(total), keep)):
        which = bisect.bisect_right(counts, position)
        before = counts[which - 1] if which else 0
        picked[which].append(plans[which][position - before])
    return picked


def _check(graph: Graph, name: str, node: Node, indices: Sequence[int]) -> Check:
    original = node.value
    analytic = gradient(node)
    scalar = type(original) is float
    size = _size(original)
    # flat views and copies throughout: numpy's .flat takes 32 dimensions at most
    numeric: Any = math.nan if scalar else np.full(size, np.nan)
    flat_analytic = None if scalar else np.ravel(analytic)
    work = None if scalar else np.array(original, dtype=float)  # a contiguous copy
    flat_work = None if work is None else work.reshape(-1)
    cone = _cone(graph, node) if indices else []
    kinked = [n for n in cone if n.op.kink is not None and n.id not in graph.smooth]
    saved = [n.value for n in cone]
    crossed: set[int] = set()
    worst = 0.0
    try:
        for k in indices:
            base = original if flat_work is None else float(flat_work[k])
            h = STEP * max(1.0, abs(base))
            sides = []
            values = []
            for sign in (1.0, -1.0):
                if flat_work is None:
                    node.value = base + sign * h
                else:
                    flat_work[k] = base + sign * h
                    node.value = work
                try:
                    forward_values(graph, cone)
                    values.append(graph.output.value)
                    sides.append(_sides(graph, kinked))
                except BpcliError:
                    values.append(math.nan)
                    sides.append(None)
            if flat_work is not None:
                flat_work[k] = base
            n = (values[0] - values[1]) / (2 * h)
            if n - n != 0.0:  # not evaluable, or the difference overflows
                n = math.nan
            if sides[0] is not None and sides[1] is not None:
                crossed.update(i for i, (p, m) in enumerate(zip(sides[0], sides[1], strict=True))
                               if p != m)
            a = analytic if flat_analytic is None else float(flat_analytic[k])
            if scalar:
                numeric = n
            else:
                numeric[k] = n
            error = relative_error(a, n)
            worst = math.nan if math.isnan(error) or math.isnan(worst) else max(worst, error)
    finally:
        node.value = original
        for later, value in zip(cone, saved, strict=True):
            later.value = value
    if not indices:
        worst = math.nan
    if not scalar:
        numeric = numeric.reshape(np.shape(original))
    kink_ids = sorted(kinked[i].id for i in crossed)
    return Check(name, analytic, numeric, worst, verdict(worst), kink_ids, len(indices), size)


def _size(value: Any) -> int:
    return 1 if type(value) is float else int(value.size)


def _cone(graph: Graph, node: Node) -> list[Node]:
    """The gates whose values depend on `node` and that lead to the output, in forward order:
    all a change to it changes that f depends on."""
    leads = leads_to_output(graph)
    dirty = {node.id}
    cone = []
    for later in graph.nodes[node.id + 1:]:
        if not leads[later.id]:
            continue
        for inp in later.inputs:
            if inp.id in dirty:
                dirty.add(later.id)
                cone.append(later)
                break
    return cone


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
