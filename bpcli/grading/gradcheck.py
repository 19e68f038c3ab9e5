"""`--gradcheck`: each input's analytic gradient beside a central finite difference.

As the cs231n notes recommend: the numeric gradient n = (f(x+h) − f(x−h)) / 2h beside the
analytic a. An element is good when they agree as numpy.allclose has it,
|a − n| ≤ atol + rtol·|n| (`close`: an absolute floor, so a zero gradient and a numeric
difference of rounding noise agree); else the relative error |a − n| / max(|a|, |n|) is read
by the notes' bands (ok, suspect, wrong). Where the step x ± h crosses a kink (relu, abs,
max, min) or flips a comparison, the numeric gradient means nothing: the element is n/a.
h is 1e-5·max(1, |x|); where that is not good, smaller steps are tried (`_smaller_steps`)
and the one whose one-sided differences agree best is kept; where they all straddle a pole,
the element is n/a. With an upstream gradient dout given for an array output out, f is
sum(out * dout), as cs231n's eval_numerical_gradient_array has it.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from bpcli.core.engine import Values, downstream, forward_values, gradient, leads_to_output
from bpcli.core.graph import Graph, Node, data_use
from bpcli.core.run import Run
from bpcli.errors import BpcliError
from bpcli.lazy import np
from bpcli.values import Value

STEP = 1e-5  # scaled by max(1, |x|); for a small x, down to STEP·|x| when that is not good
ROUNDING = 1e-15  # about 4 ulps: the rounding error of an evaluation of f, relative to f
MAX_STEPS = 12  # smaller steps tried at most, per element, where the first is not good
MAX_ELEMENTS = 2000  # an input with more elements is checked at a sample of them
SAMPLE = 200
# Each element checked costs two evaluations of the gates after its input. When checking
# every element would take more gate evaluations than this, a random sample of elements that
# fits in it is checked (at least MIN_CHECKED), so the check costs at most about as much as
# WORK gate evaluations or MIN_CHECKED forward passes, linear in the size of the graph.
WORK = 1_000_000
MIN_CHECKED = 20
# numpy.allclose's rule for a central difference: |a − n| ≤ atol + RTOL·|n|. RTOL is the
# notes' band for "good". The rounding error of (f(x+h) − f(x−h))/2h is about ε·|f|/h, with
# ε = 2.2e-16 and h = STEP·max(1, |x|): 2.2e-11·|f|/max(1, |x|); its truncation error,
# h²·|f'''|/6, is of that size too where f is well scaled. atol = ATOL·max(1, |f|)/max(1, |x|)
# (numpy's own default, 1e-8, at |f|, |x| ≤ 1) leaves room for about 450 such roundings: the
# cancellation of a sum of terms larger than f, and a longer program's many roundings.
RTOL = 1e-7
ATOL = 1e-8

Sides = list[tuple[bytes, ...]]  # by kinked node: its local gradients, as bytes (see _sides)


@dataclass(slots=True)
class Check:
    """The check of one input."""

    name: str
    analytic: Value | None  # None for an input read as data: it has no gradient
    numeric: Value | None  # nan where the perturbed program could not be evaluated; None for data
    relative_error: float  # the worst over the elements checked
    verdict: str  # good, ok, suspect, wrong, or n/a
    # (the errors and the verdict are over the elements that could be compared: not those
    # whose step crosses a kink, flips a comparison or straddles a pole, which are n/a)
    kinks: list[int] = field(default_factory=list)  # ids of kinked nodes the step crosses
    checked: int = 1  # elements checked
    elements: int = 1
    poles: int = 0  # elements where every step tried straddles a pole or a jump (numeric nan)
    flips: list[int] = field(default_factory=list)  # ids of comparisons the step flips (a jump)
    data: str = ""  # an input read as data, not checked: how it is used ("index", "value")
    absolute_error: float = math.nan  # the worst |a − n|
    atol: float = ATOL  # the absolute floor: |a − n| ≤ atol + RTOL·|n| is good
    kinked: int = 0  # elements whose step crosses a kink or flips a comparison: n/a

    @property
    def floored(self) -> bool:
        """Whether the absolute floor made it good: some element's relative error alone is not."""
        return self.verdict == "good" and self.relative_error > RTOL


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


def close(a: float, n: float, atol: float = ATOL) -> bool:
    """numpy.allclose's rule: |a − n| ≤ atol + RTOL·|n| (False where either is not finite)."""
    if a - a != 0.0 or n - n != 0.0:
        return False
    return abs(a - n) <= atol + RTOL * abs(n)


def element_verdict(a: float, n: float, atol: float = ATOL) -> str:
    """good when close; else the notes' bands on the relative error; n/a with no number."""
    if close(a, n, atol):
        return "good"
    found = verdict(relative_error(a, n))
    return "ok" if found == "good" else found  # (not close: never good)


RANKS = {"good": 0, "ok": 1, "suspect": 2, "wrong": 3}  # (the worst element's is the input's)


def tolerance(f: float, x: Value) -> float:
    """atol for an input x of a function whose value is f: ATOL·max(1, |f|)/max(1, |x|)."""
    if isinstance(x, float):
        size = abs(x)
    else:
        finite = np.abs(x)[np.isfinite(x)]
        size = float(finite.max()) if finite.size else 0.0
    scale = abs(f) if f - f == 0.0 else 1.0
    return ATOL * max(1.0, scale) / max(1.0, size)


def relative_error(a: float, n: float) -> float:
    """|a − n| / max(|a|, |n|); nan when either is not a finite number (nothing to compare)."""
    if a - a != 0.0 or n - n != 0.0:
        return math.nan
    scale = max(abs(a), abs(n))
    return 0.0 if scale == 0 else abs(a - n) / scale


def gradcheck(run: Run, names: list[str] | None = None, seed: int = 0) -> list[Check]:
    """Check every input (or those in `names`) of a run's graph."""
    graph = run.graph
    rng = random.Random(seed)
    chosen = [(name, node) for name, node in graph.inputs.items() if not names or name in names]
    plans: list[Sequence[int]] = []
    for _, node in chosen:
        size = _size(cast(Value, run.values[node.id])) if node.needs_grad else 0  # (data: none)
        plans.append(range(size) if size <= MAX_ELEMENTS else sorted(rng.sample(range(size), SAMPLE)))
    # what an element costs at most: two evaluations of every gate after its input
    costs = [2 * (len(graph.nodes) - node.id) for _, node in chosen]
    if sum(len(plan) * cost for plan, cost in zip(plans, costs, strict=True)) > WORK:
        plans = _sampled(plans, costs, rng)
    return [
        _check(run, name, node, plan) if node.needs_grad else _data(run, name, node)
        for (name, node), plan in zip(chosen, plans, strict=True)
    ]


def _data(run: Run, name: str, node: Node) -> Check:
    """An input read as data (an index, a shape) has no gradient: nothing to check."""
    size = _size(cast(Value, run.values[node.id]))
    return Check(name, None, None, math.nan, "n/a", checked=0, elements=size, data=data_use(run.graph, node))


def _sampled(plans: list[Sequence[int]], costs: list[int], rng: random.Random) -> list[Sequence[int]]:
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
    return list(picked)


def _check(run: Run, name: str, node: Node, indices: Sequence[int]) -> Check:
    graph = run.graph
    values: Values = list(run.values)  # this check's own: the cone's values change with each step
    # (an input has a value, and so a gradient)
    original = cast(Value, values[node.id])
    analytic = cast(Value, gradient(run, node))
    scalar = type(original) is float
    size = _size(original)
    # flat views and copies throughout: numpy's .flat takes 32 dimensions at most
    numeric = math.nan  # a scalar input's
    flat_numeric = None if scalar else np.full(size, np.nan)
    flat_analytic = None if scalar else np.ravel(analytic)
    work = None if scalar else np.array(original, dtype=float)  # a contiguous copy
    flat_work = None if work is None else work.reshape(-1)
    cone = _cone(graph, node) if indices else []
    # the gates whose side the step may change: kinks, and comparisons (a jump: where they flip,
    # a difference quotient means nothing)
    kinked = [
        n for n in cone if (n.op.kink is not None and n.id not in graph.smooth) or not n.op.differentiable
    ]
    crossed: set[int] = set()
    straddled = 0
    worst = 0.0
    f0 = _f(graph, run.output)

    def difference(k: int, base: float, h: float) -> tuple[float, float, float, list[Sides | None]]:
        """The central difference at step h; how far its two one-sided differences
        disagree (|f'+ − f'−|: the curvature, a pole or jump crossed), plus f's rounding
        over h, and the same less ten times the rounding (what rounding cannot explain);
        and which side of its kink each kinked gate is on at x + h and at x − h."""
        outputs: list[float] = []
        sides: list[Sides | None] = []
        for sign in (1.0, -1.0):
            if flat_work is None:
                values[node.id] = base + sign * h
            else:
                flat_work[k] = base + sign * h
                values[node.id] = work
            try:
                forward_values(graph, values, cone, run.missing)
                outputs.append(_f(graph, values[graph.output.id]))
                sides.append(_sides(graph, values, kinked))
            except BpcliError:
                outputs.append(math.nan)
                sides.append(None)
        if flat_work is not None:
            flat_work[k] = base
        n = (outputs[0] - outputs[1]) / (2 * h)
        disagreement = abs((outputs[0] - f0) - (f0 - outputs[1])) / h
        rounding = ROUNDING * max(abs(outputs[0]), abs(outputs[1]), abs(f0)) / h
        spread = disagreement + rounding
        if n - n != 0.0 or spread - spread != 0.0:  # not evaluable, or it overflows
            return math.nan, math.nan, math.nan, sides
        return n, spread, disagreement - 10 * rounding, sides

    atol = tolerance(f0, original)
    rank = -1  # the worst element's verdict (RANKS) over the elements compared; -1: none yet
    absolute = 0.0
    kinked_elements = 0
    for k in indices:
        # (with no flat copies, the input is a float, and so is its gradient)
        base = cast(float, original) if flat_work is None else float(flat_work[k])
        a = cast(float, analytic) if flat_analytic is None else float(flat_analytic[k])
        h = STEP * max(1.0, abs(base))
        n, spread, excess, sides = difference(k, base, h)
        if not close(a, n, atol):
            # the step may reach a pole (1/x at 1e-6, tan near π/2) or be too coarse for
            # the curvature there: smaller steps are tried, and the one whose one-sided
            # differences agree best, relative to their mean, is kept. That choice never
            # looks at the analytic gradient, so a wrong gradient stays wrong.
            before, last = (h, excess), (h, excess)
            steps = _smaller_steps(h, base)
            for smaller in steps:  # (a list that may grow while it is walked)
                tried = difference(k, base, smaller)
                before, last = last, (smaller, tried[2])
                if _relative(tried[1], tried[0]) < _relative(spread, n):
                    n, spread, _, sides = tried
                if smaller is steps[-1] and len(steps) < MAX_STEPS and _straddles(before, last):
                    steps.extend(_smaller_steps(smaller, base, 1))  # nearer the pole
            if not close(a, n, atol) and _straddles(before, last):
                n = math.nan
                straddled += 1
        across = False  # whether this element's step crosses a kink or flips a comparison
        if sides[0] is not None and sides[1] is not None:
            sided = [i for i, (p, m) in enumerate(zip(sides[0], sides[1], strict=True)) if p != m]
            crossed.update(sided)
            across = bool(sided)
        if flat_numeric is None:
            numeric = n
        else:
            flat_numeric[k] = n
        if across:  # the difference quotient spans two pieces of f: it means nothing
            kinked_elements += 1
            continue
        error = relative_error(a, n)
        if math.isnan(error):  # a pole, or f not evaluable at x ± h: nothing to compare
            continue
        worst = max(worst, error)
        absolute = max(absolute, abs(a - n))
        rank = max(rank, RANKS[element_verdict(a, n, atol)])
    kink_ids = sorted(kinked[i].id for i in crossed if kinked[i].op.differentiable)
    flips = sorted(kinked[i].id for i in crossed if not kinked[i].op.differentiable)
    numerics = numeric if flat_numeric is None else flat_numeric.reshape(np.shape(original))
    found = "n/a" if rank < 0 else next(v for v, r in RANKS.items() if r == rank)
    return Check(
        name,
        analytic,
        numerics,
        worst if rank >= 0 else math.nan,
        found,
        kink_ids,
        len(indices),
        size,
        straddled,
        flips,
        absolute_error=absolute if rank >= 0 else math.nan,
        atol=atol,
        kinked=kinked_elements,
    )


def _f(graph: Graph, out: Value | None) -> float:
    """The f whose gradient the backward pass computes, from the output's value: the output
    itself (a scalar), or with an upstream gradient given (dout), sum(out * dout)."""
    if graph.upstream is None:
        return cast(float, out)  # (backpropagation needs a scalar output)
    return float(np.sum(np.asarray(out) * np.asarray(graph.upstream)))


def _relative(spread: float, n: float) -> float:
    """How much the one-sided differences disagree, relative to the central one."""
    if spread != spread:
        return math.inf
    if n == 0.0:
        return 0.0 if spread == 0.0 else math.inf
    return spread / abs(n)


def _straddles(before: tuple[float, float], last: tuple[float, float]) -> bool:
    """Whether x ± h still straddles a pole or a jump at the last two steps tried. Where f
    is smooth, the one-sided differences disagree by about |f''|·h beyond rounding: less as
    the step shrinks. Across a pole they disagree more as the step shrinks towards it."""
    (h0, excess0), (h1, excess1) = before, last
    if excess1 != excess1:
        return True  # f cannot be evaluated at x ± h: a singularity within h of x
    if not excess1 > 0.0 or h1 >= h0:
        return False
    return excess1 > 100.0 * max(excess0, 0.0) * (h1 / h0)


def _smaller_steps(h: float, base: float, count: int = 3) -> list[float]:
    """The steps tried after h: h/100, h/10⁴, h/10⁶ and STEP·|x| (or `count` of the powers),
    each if smaller than the last and at least 1e-13·|x| (below that, x ± h rounds)."""
    steps = [h / 100.0**i for i in range(1, count + 1)]
    if count == 3 and base != 0.0 and STEP * abs(base) < steps[-1]:
        steps.append(STEP * abs(base))
    return [step for step in steps if step > 1e-13 * abs(base) and base + step != base]


def _size(value: Value) -> int:
    return 1 if isinstance(value, float) else int(value.size)


def _cone(graph: Graph, node: Node) -> list[Node]:
    """The gates whose values depend on `node` and that lead to the output, in forward order:
    all a change to it changes that f depends on."""
    leads = leads_to_output(graph)
    dirty = {node.id}
    cone = []
    for later in graph.nodes[node.id + 1 :]:
        if not leads[later.id]:
            continue
        for inp in later.inputs:
            if inp.id in dirty:
                dirty.add(later.id)
                cone.append(later)
                break
    return cone


def _sides(graph: Graph, values: Values, kinked: list[Node]) -> Sides:
    """Which side of its kink each kinked node is on: its local gradients, as bytes."""
    sides: Sides = []
    for node in kinked:
        signature = []
        value = values[node.id]
        if not node.op.differentiable:  # a comparison: its side is its value
            sides.append((np.asarray(value).tobytes(),))
            continue
        for i in range(len(node.inputs)):
            seed: Value = 1.0 if type(value) is float else np.ones_like(value)
            try:
                local = downstream(graph, values, node, i, seed)
            except BpcliError:
                signature.append(b"undefined")
                continue
            signature.append(np.asarray(local).tobytes())
        sides.append(tuple(signature))
    return sides
