"""The mistakes a student makes in a backward pass, each as a change to the true gradients.

A mistake changes ∂f/∂node at one node by `coef` × `change`: the whole gradient with the wrong sign,
one branch of a fan-out left out, one gate's local gradient taken with the wrong input, … .
The backward pass is linear in what flows back, so what the mistake does to every gradient
below that node is that change carried down by the same VJPs (`Spreader.spread`), and a student's
answers can be compared with what each mistake predicts for all of them at once. A mistake
that predicts several wrong answers and keeps the right ones right is their common cause.

bpcli.grading.blame tries them nearest first: the answer's own value, then each branch that
flows into it, then the nodes above it that the student did not give, as far as the next
answer they gave, breadth first. What they cost is bounded (`MAX_WORK` VJPs in all).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass

from bpcli.core.engine import Values, downstream
from bpcli.core.graph import Node
from bpcli.core.ops import unbroadcast
from bpcli.core.run import Run
from bpcli.lazy import np
from bpcli.values import Value

# VJPs evaluated to try mistakes, over a whole check (one on an array of n elements counts
# 1 + n // 1000, so that a check of big arrays stays within a few of their backward passes)
MAX_WORK = 60_000
MAX_FANOUT_SUBSETS = 6  # a node used by at most this many gates has every subset of them tried


class Exhausted(Exception):
    """MAX_WORK is spent: no more mistakes are tried."""


@dataclass(frozen=True, slots=True)
class Mistake:
    """One mistake: `coef` × `change` added to ∂f/∂`node`. `gate` is the gate whose local
    gradient is wrong (its input `index`), None when the mistake is in the gradient of `node`
    as a whole. (Mistakes that differ only by `coef` share `change`, so it is spread once.)"""

    kind: str
    node: Node
    change: Value
    coef: float = 1.0
    gate: Node | None = None
    index: int = 0
    factor: float | None = None  # scale: what the gradient was multiplied by
    branch: bool = False  # sign, scale: in one branch of a fan-out, not the whole gradient
    left_out: tuple[int, ...] = ()  # partial-fanout: the ids of the gates whose branches are missing
    key: tuple[object, ...] = ()  # what identifies `change`, for the cache of where it spreads


class Spreader:
    """Carries a change of one node's gradient down to the answers' nodes (`targets`)."""

    def __init__(self, run: Run, targets: set[int]) -> None:
        self.run, self.graph, self.targets = run, run.graph, targets
        self.work = 0
        # the nodes some target is reached from, going down the inputs: only they matter
        cone = [False] * len(run.graph.nodes)
        for node in run.graph.nodes:
            cone[node.id] = node.id in targets or any(cone[x.id] for x in node.inputs)
        self.cone = cone
        self.shifts = _shifts(run)
        self._cache: dict[tuple[object, ...], dict[int, Value] | None] = {}

    def charge(self, value: Value) -> None:
        """Count one VJP (or comparison) on `value` against MAX_WORK; Exhausted past it."""
        self.work += 1 if isinstance(value, float) else 1 + value.size // 1_000
        if self.work > MAX_WORK:
            raise Exhausted

    def spread(self, start: Node, delta: Value, key: tuple[object, ...] = ()) -> dict[int, Value] | None:
        """How much `delta` at `start` changes the gradient of each target it reaches (by id);
        None when the changed gradients cannot be computed (not finite, a shape that does not fit)."""
        if key and key in self._cache:
            return self._cache[key]
        found = self._spread(start, delta)
        if key:
            self._cache[key] = found
        return found

    def _spread(self, start: Node, delta: Value, values: Values | None = None) -> dict[int, Value] | None:
        """The backward pass from `start` alone, seeded with `delta`, down to the targets (at
        the forward pass's values, or at `values`): what reaches each of them."""
        graph = self.graph
        given = values is not None
        at = self.run.values if values is None else values
        pending: dict[int, Value] = {start.id: delta}
        heap = [-start.id]
        found: dict[int, Value] = {}
        with nullcontext() if type(delta) is float and not given else np.errstate(all="ignore"):
            while heap:
                k = -heapq.heappop(heap)
                g = pending.pop(k)
                node = graph.nodes[k]
                if k in self.targets:
                    found[k] = g
                inputs = [at[x.id] for x in node.inputs] if given else None
                for i, inp in enumerate(node.inputs):
                    if not self.cone[inp.id] or not inp.needs_grad or inp.id in self.shifts:
                        continue
                    self.charge(g)
                    try:
                        d = downstream(graph, at, node, i, g, inputs, at[node.id] if given else None)
                    except Exception:
                        return None
                    total = add(pending[inp.id], d) if inp.id in pending else d
                    if total is None:
                        return None
                    if inp.id not in pending:
                        heapq.heappush(heap, -inp.id)
                    pending[inp.id] = total
        return found

    def regrade(self, values: Values) -> dict[int, Value] | None:
        """The gradient of each target from a backward pass at other forward values (a
        student's wrong ones), the rest as they are. None where it cannot be computed."""
        seed = self.run.grads[self.graph.output.id]
        return None if seed is None else self._spread(self.graph.output, seed, values)


def _shifts(run: Run) -> set[int]:
    """The ids of the max (or min) gates that carry no gradient on the true backward pass
    although what uses them does: a shift for numerical stability (softmax's s - max(s)),
    which cancels out. A student rightly treats it as a constant, so a mistake above it is
    not carried through it either."""
    shifts = set()
    users: dict[int, float] = {}
    for node in run.graph.nodes:
        g = run.grads[node.id]
        if g is None:
            continue
        size = float(np.max(np.abs(g), initial=0.0)) if type(g) is not float else abs(g)
        for x in node.inputs:
            users[x.id] = max(users.get(x.id, 0.0), size)
    for node in run.graph.nodes:
        g = run.grads[node.id]
        if node.op.routes and g is not None and users.get(node.id, 0.0) > 0.0:
            size = float(np.max(np.abs(g), initial=0.0)) if type(g) is not float else abs(g)
            if size <= 1e-9 * users[node.id]:
                shifts.add(node.id)
    return shifts


class Branches:
    """What each gate that uses a node sends it, on the true backward pass."""

    def __init__(self, run: Run, users: list[list[tuple[Node, int]]]) -> None:
        self.run, self.users = run, users

    def of(self, node: Node) -> list[tuple[Node, list[int]]]:
        """The gates that send `node` a gradient, each with the inputs where it uses node
        (x*x uses x twice: one branch, not two)."""
        gates: dict[int, tuple[Node, list[int]]] = {}
        for gate, i in self.users[node.id]:
            if self.run.grads[gate.id] is None:
                continue
            gates.setdefault(gate.id, (gate, []))[1].append(i)
        return list(gates.values())

    def sent(self, gate: Node, indexes: list[int], upstream: Value | None = None) -> Value | None:
        """What `gate` sends along its inputs `indexes` (they are one node), with the true
        upstream gradient or `upstream`."""
        g = self.run.grads[gate.id] if upstream is None else upstream
        total: Value | None = None
        for i in indexes:
            d = vjp(self.run, gate, i, g)
            if d is None:
                return None
            total = d if total is None else add(total, d)
            if total is None:
                return None
        return total


def vjp(
    run: Run,
    gate: Node,
    i: int,
    upstream: Value | None,
    values: Values | None = None,
    ans: Value | None = None,
) -> Value | None:
    """What `gate` sends its input i, with some ingredients replaced; None when that makes no
    sense (a domain error, a shape that does not fit)."""
    if upstream is None:
        return None
    own = run.values[gate.id]
    inputs = [run.values[x.id] for x in gate.inputs] if values is None else values
    scalar = all(type(v) is float for v in [upstream, own, *inputs])
    try:
        with nullcontext() if scalar else np.errstate(all="ignore"):
            if ans is not None and ans is not own and gate.op.by_output is not None:
                return gate.op.by_output(upstream, ans)  # the VJP in the value alone, as textbooks
            return downstream(run.graph, run.values, gate, i, upstream, inputs, own if ans is None else ans)
    except Exception:
        return None


def variants(run: Run, gate: Node, i: int) -> Iterator[tuple[str, Value | None]]:
    """The wrong things a student sends along input i of `gate`, by kind: the local gradient
    alone, the other input's local gradient, the input taken for the output, the upstream
    routed to the wrong input or passed straight through."""
    values = [run.values[x.id] for x in gate.inputs]
    g = run.grads[gate.id]
    own = run.values[gate.id]
    if g is None or own is None or any(v is None for v in values):
        return
    inputs: Values = list(values)
    yield "missing-upstream", vjp(run, gate, i, ones_like(g))
    op = gate.op
    if op.arity == 2 and not op.routes and gate.inputs[0] is not gate.inputs[1]:
        yield "swapped-inputs", vjp(run, gate, i, g, values=inputs[::-1])
    if op.arity >= 1 and not op.routes and np.shape(values[i]) == np.shape(own):  # type: ignore[arg-type]
        yield "value-confusion", vjp(run, gate, i, g, ans=values[i])
        replaced: Values = list(inputs)
        replaced[i] = own
        yield "value-confusion", vjp(run, gate, i, g, values=replaced)
    true = vjp(run, gate, i, g)
    if op.routes and true is not None:
        x = values[i]
        with nullcontext() if type(true) is float else np.errstate(all="ignore"):
            other = unbroadcast(g, x) if op.broadcast and x is not None else g
            yield "wrong-route", other - true
    x = values[i]
    if (op.kink is not None or op.routes) and np.shape(g) == np.shape(x):  # type: ignore[arg-type]
        yield "missing-local", g  # the upstream passed straight through: relu's mask forgotten
    elif op.elementwise and type(g) is not float and x is not None:
        # on arrays, tanh' or σ' forgotten, or γ in γ·x̂ (dgamma = sum(dout)): g passed
        # through as it is (summed back where x was broadcast)
        if op.broadcast:
            yield "missing-local", unbroadcast(g, x)
        elif np.shape(g) == np.shape(x):
            yield "missing-local", g
    if op.name in ("softmax", "logsoftmax") and true is not None and type(g) is not float:
        # softmax sends back p ⊙ (g − Σ g·p) (logsoftmax g − p Σ g): without its first term
        # p ⊙ g (g), which is the branch through the correct class's pick of a cross-entropy
        # loss, p takes the place of p − onehot(y)
        with np.errstate(all="ignore"):
            direct = own * g if op.name == "softmax" else g
            yield "partial-fanout", true - direct


def unsummed(run: Run, gate: Node, i: int) -> Value | None:
    """What `gate` sends its input i before a broadcast is summed back: db per example."""
    op = gate.op
    g, own = run.grads[gate.id], run.values[gate.id]
    inputs = [run.values[x.id] for x in gate.inputs]
    if not op.broadcast or g is None or type(g) is float or op.arity < 0:
        return vjp(run, gate, i, g)
    try:
        with np.errstate(all="ignore"):
            d = op.array_vjps[i](g, own, *inputs)
    except Exception:
        return None
    return d if finite(d) else None


def nice_factors(run: Run) -> list[float]:
    """The factors a forgotten constant makes: 2 and 1/2 (a square), 3, 4, and every axis
    length of the program's arrays and their reciprocals (the 1/N of a mean)."""
    sizes = {2.0, 3.0, 4.0}
    for value in run.values:
        if value is not None and not isinstance(value, float):
            sizes.update(float(n) for n in value.shape if n > 1)
            if value.size > 1:
                sizes.add(float(value.size))
    sizes = {s for s in sizes if s <= 1e6}
    return sorted(sizes) + sorted(1 / s for s in sizes)


def left_out(count: int) -> Iterator[tuple[int, ...]]:
    """The branches (of range(count)) a student may have left out: every proper, non-empty
    subset, fewest first; past MAX_FANOUT_SUBSETS branches, one at a time."""
    if count > MAX_FANOUT_SUBSETS:
        for k in range(count):
            yield (k,)
        return
    for size in range(1, count):  # (in the order of the subsets kept, largest first)
        yield from reversed(list(itertools.combinations(range(count), size)))


def add(a: Value, b: Value) -> Value | None:
    """a + b, or None when the sum is not finite (it then explains nothing)."""
    total: Value
    if type(a) is float and type(b) is float:
        total = a + b
    else:
        try:
            with np.errstate(all="ignore"):
                total = np.add(a, b)
        except ValueError:
            return None
    return total if finite(total) else None


def finite(value: Value) -> bool:
    try:
        return bool(np.isfinite(value).all()) if type(value) is not float else value - value == 0.0
    except TypeError:
        return False


def ones_like(value: Value) -> Value:
    return 1.0 if type(value) is float else np.ones_like(value)
