"""Name the likely mistake behind each wrong answer, and the first wrong step.

Wrong forward values come first: the forward pass is done before the backward pass, so the
first of them (in the order they are computed) is the first wrong step. Wrong gradients are
taken from the output down. For each, the mistakes of bpcli.grading.mistakes are tried nearest
first; one fits when what it predicts matches the answer at the student's own precision, is
not itself within rounding of the truth, and keeps every right answer right. Of those that
fit, the one that also explains the most other wrong answers wins: one mistake upstream
that explains several answers is their common cause. Before any of them come the simplest
explanations: the student's own wrong forward values, their wrong answer above, the
rounding of their right ones.

A wrong answer whose shape is not the truth's is judged by its shape first: the transpose,
the gradient of a broadcast input not summed back (missing-sum), or another shape.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import replace
from typing import Any

from bpcli.core.graph import Node, consumers
from bpcli.core.run import Run
from bpcli.core.where import scoped_label
from bpcli.grading.answers import Tolerance, all_match, matches, np_shape
from bpcli.grading.findings import Branch, Finding, Pointer, Rounded, Verdict
from bpcli.grading.mistakes import (
    Branches,
    Exhausted,
    Mistake,
    Spreader,
    add,
    finite,
    left_out,
    nice_factors,
    ones_like,
    unsummed,
    variants,
    vjp,
)
from bpcli.lazy import np
from bpcli.values import Value

_DECIMAL = re.compile(r"[+-]?\d*\.\d+")
MAX_DEPTH = 64  # gates above an answer where a mistake is looked for (breadth first)
OWN_WORDS = ("forward", "carried", "rounding")  # explanations from the student's own numbers


class Diagnoser:
    def __init__(self, run: Run, verdicts: list[Verdict], tol: Tolerance | None) -> None:
        self.run, self.verdicts, self.tol = run, verdicts, tol
        self.graph = run.graph
        self.users = consumers(run.graph)
        self.branches = Branches(run, self.users)
        self.given: dict[int, Verdict] = {}
        for v in verdicts:
            if v.expectation.gradient:
                self.given.setdefault(v.node.id, v)
        self.spreader = Spreader(run, set(self.given))
        self.wrong_values = sorted(
            (v for v in verdicts if not v.ok and not v.expectation.gradient), key=lambda v: v.node.id
        )
        self._factors: list[float] | None = None
        self._regraded: dict[int, Value] | bool | None = False  # False: not computed yet
        self._rounded: dict[tuple[object, ...], Rounded] = {}

    def diagnose(self) -> None:
        for verdict in self.wrong_values:
            verdict.finding = self._value_finding(verdict)
        wrong = sorted(
            (v for v in self.verdicts if not v.ok and v.expectation.gradient), key=lambda v: -v.node.id
        )
        for verdict in wrong:
            if verdict.finding is not None:
                continue  # explained with an answer above it
            if not _same_shape(verdict):
                verdict.finding = self._shape_finding(verdict)
                continue
            others = [w for w in wrong if w.finding is None and w is not verdict and _same_shape(w)]
            self._explain(verdict, others)
        first = next(iter(self.wrong_values or wrong), None)
        if first is not None and first.finding is not None:
            first.finding = replace(first.finding, first=True)

    # --- what fits -----------------------------------------------------------------------

    def _fits(self, verdict: Verdict, candidate: Value | None, rounding: bool = False) -> bool:
        """The answer matches `candidate` at its own precision, and `candidate` is not itself
        within (twice) that precision of the truth: a mistake must be told apart from rounding."""
        if candidate is None or not finite(candidate):
            return False
        exp = verdict.expectation
        if np_shape(candidate) != np_shape(exp.value):
            return False
        scale = verdict.scale
        if np_shape(scale) not in ((), np_shape(candidate)):
            scale = float(np.max(scale))  # (a candidate of another shape than the truth's)
        try:
            if not all_match(exp.value, exp.tolerance, candidate, self.tol, scale):
                return False
            if rounding:
                return True
            wide = None if self.tol is None else Tolerance(2 * self.tol.value, self.tol.relative)
            return not all_match(candidate, 2 * exp.tolerance, verdict.truth, wide, verdict.scale)
        except (ValueError, TypeError):
            return False

    def _keeps(self, verdict: Verdict, candidate: Value) -> bool:
        """A right answer is still right against `candidate`."""
        exp = verdict.expectation
        try:
            return all_match(exp.value, exp.tolerance, candidate, self.tol, verdict.scale)
        except (ValueError, TypeError):
            return False

    def _predict(self, mistake: Mistake) -> dict[int, Value] | None:
        """What the answers' gradients would be with `mistake` (by node id, those it changes)."""
        if mistake.kind == "forward":
            return self._regrade()
        if mistake.kind == "rounding" and mistake.key == ("rounding",):
            return self._rounding()
        spread = self.spreader.spread(mistake.node, mistake.change, mistake.key)
        if spread is None:
            return None
        predicted: dict[int, Value] = {}
        for k, d in spread.items():
            self.spreader.charge(d)  # (what it predicts is compared with the answers, too)
            with np.errstate(all="ignore"):
                change = d if mistake.coef == 1.0 else mistake.coef * d
            total = add(self.given[k].truth, change)
            if total is None:
                return None
            predicted[k] = total
        return predicted

    def _regrade(self) -> dict[int, Value] | None:
        """The answers' gradients from the student's wrong forward values."""
        if self._regraded is False:
            values = list(self.run.values)
            for v in self.wrong_values:
                if _same_shape(v):
                    values[v.node.id] = v.expectation.value
            self._regraded = self.spreader.regrade(values)
        return self._regraded if isinstance(self._regraded, dict) else None

    def _rounding(self) -> dict[int, Value] | None:
        """The answers' gradients from the student's right answers as they rounded them."""
        total: dict[int, Value] = {}
        for k, given in self.given.items():
            if not given.ok or not _same_shape(given):
                continue
            with np.errstate(all="ignore"):
                change = np.asarray(given.expectation.value) - given.truth
            if not np.any(change):
                continue
            spread = self.spreader.spread(given.node, _value(change), ("given", k))
            if spread is None:
                return None
            for j, d in spread.items():
                if j == k:
                    continue
                summed = add(total[j], d) if j in total else d
                if summed is None:
                    return None
                total[j] = summed
        predicted: dict[int, Value] = {}
        for j, d in total.items():
            summed = add(self.given[j].truth, d)
            if summed is None:
                return None
            predicted[j] = summed
        return predicted

    # --- wrong gradients -----------------------------------------------------------------

    def _explain(self, verdict: Verdict, others: list[Verdict]) -> None:
        best: Mistake | None = None
        explained: list[Verdict] = []
        also: list[str] = []
        try:
            for mistake in self._candidates(verdict):
                predicted = self._predict(mistake)
                rounding = mistake.kind == "rounding"
                if predicted is None or not self._fits(verdict, predicted.get(verdict.node.id), rounding):
                    continue
                if any(self.given[k].ok and not self._keeps(self.given[k], p) for k, p in predicted.items()):
                    continue  # it would make a right answer wrong
                these = [o for o in others if self._fits(o, predicted.get(o.node.id), rounding)]
                if best is None or len(these) > len(explained):
                    best, explained, also = mistake, these, []
                elif len(these) == len(explained) and self._affinity(mistake) > self._affinity(best):
                    best, also = mistake, []  # the same numbers, at the gate whose constant it is
                elif (
                    len(these) == len(explained)
                    and mistake.node is best.node
                    and mistake.kind not in (best.kind, *also, *OWN_WORDS)
                ):
                    also.append(mistake.kind)
                if best.kind in OWN_WORDS:
                    break  # the student's own numbers explain it: nothing simpler
        except Exhausted:
            pass
        if best is None:
            verdict.finding = self._unexplained(verdict)
            return
        verdict.finding = self._finding(
            verdict,
            best,
            common=tuple(o.expectation.written for o in explained),
            also=tuple(also[:2]),
            **self._surroundings(verdict.node, *self._where(verdict, best)),
        )
        for other in explained:
            carried = self._carried(other)
            if carried is None and self._below(verdict.node, other.node):
                # the same mistake, as the student carried it down from their wrong answer
                carried = Mistake("carried", verdict.node, 0.0, key=("carried", verdict.node.id))
            if carried is not None:
                other.finding = self._finding(other, carried)
            else:
                other.finding = self._finding(other, best, follows=verdict.expectation.written)

    def _below(self, top: Node, node: Node) -> bool:
        """`node` is reached from `top` going down its inputs: ∂f/∂node takes in ∂f/∂top."""
        seen, stack = {top.id}, [top]
        while stack:
            for x in stack.pop().inputs:
                if x is node:
                    return True
                if x.id not in seen and x.id > node.id:
                    seen.add(x.id)
                    stack.append(x)
        return False

    def _affinity(self, mistake: Mistake) -> int:
        """1 for a factor at the gate whose constant it is (the 1/N of a mean or of a / N,
        the 2 of a square): where to look, among places that explain the same numbers."""
        return int(
            mistake.kind == "scale"
            and mistake.gate is not None
            and bool(self._hint(mistake.factor, mistake.gate))
        )

    def _carried(self, verdict: Verdict) -> Mistake | None:
        """The student's wrong answer above `verdict` that its answer follows from, as they wrote it."""
        try:
            for mistake in self._carriers(verdict.node):
                predicted = self._predict(mistake)
                if predicted is not None and self._fits(verdict, predicted.get(verdict.node.id)):
                    return mistake
        except Exhausted:  # (the search's budget is spent: not carried, as far as is known)
            pass
        return None

    def _carriers(self, node: Node) -> Any:
        """Each wrong answer given above `node`, as a mistake: what the student wrote there
        (nearest first: dW1 follows from the dh it was worked out from, not from dscores)."""
        for k, given in sorted(self.given.items()):
            if k > node.id and not given.ok and _same_shape(given):
                with np.errstate(all="ignore"):
                    change = _value(np.asarray(given.expectation.value) - given.truth)
                yield Mistake("carried", given.node, change, key=("carried", k))

    def _candidates(self, verdict: Verdict) -> Any:
        """The mistakes that could be behind `verdict`'s answer, simplest and nearest first."""
        node, truth = verdict.node, verdict.truth
        if any(_same_shape(v) for v in self.wrong_values):
            yield Mistake("forward", self.graph.output, 0.0, key=("forward",))
        yield from self._carriers(node)
        yield Mistake("rounding", node, 0.0, key=("rounding",))
        mental = self._mentally_rounded(verdict)
        if mental is not None:
            yield mental
        branches = self.branches.of(node)
        gate, idx = branches[0] if len(branches) == 1 else (None, [0])
        whole = list(self._whole(node, truth, gate, idx[0]))
        yield from (m for m in whole if m.kind != "scale")
        order = self._region(node)[0]
        yield from self._at(node, answer=True)
        yield from (m for m in whole if m.kind == "scale")
        for x in order[1:]:
            yield from self._at(x, answer=False)

    def _whole(self, x: Node, grad: Value, gate: Node | None, index: int) -> Any:
        """∂f/∂x wrong as a whole: its sign, its transpose, a constant factor."""
        key = ("node", x.id)
        yield Mistake("sign", x, grad, coef=-2.0, gate=gate, index=index, key=key)
        if not isinstance(grad, float) and grad.ndim >= 2 and grad.shape == grad.T.shape:
            yield Mistake("transpose", x, _value(grad.T - grad), gate=gate, index=index, key=("T", x.id))
        for factor in self._nice_factors():
            yield Mistake("scale", x, grad, coef=factor - 1.0, gate=gate, index=index, factor=factor, key=key)

    def _at(self, x: Node, answer: bool) -> Any:
        """Mistakes in what the gates that use x send it (and in ∂f/∂x as a whole, above the answer)."""
        branches = self.branches.of(x)
        grad = self.run.grads[x.id]
        if grad is None or not branches:
            return
        if not answer and x is not self.graph.output:
            gate, idx = branches[0] if len(branches) == 1 else (None, [0])
            yield from self._whole(x, grad, gate, idx[0])
        sent = []
        for gate, idx in branches:  # (a VJP each, of x's size: charged, as x may have thousands of users)
            self.spreader.charge(grad)
            sent.append(self.branches.sent(gate, idx))
        if len(branches) >= 2 and all(s is not None for s in sent):
            for dropped in left_out(len(branches)):
                change: Value | None = None
                for j in dropped:
                    part = sent[j]
                    assert part is not None
                    change = part if change is None else add(change, part)
                    if change is None:
                        break
                if change is None:
                    continue
                only = branches[dropped[0]] if len(dropped) == 1 else None
                yield Mistake(
                    "partial-fanout",
                    x,
                    change,
                    coef=-1.0,
                    gate=only[0] if only else None,
                    index=only[1][0] if only else 0,
                    left_out=tuple(branches[j][0].id for j in dropped),
                    key=("drop", x.id, dropped),
                )
        for (gate, idx), part in zip(branches, sent, strict=True):
            if part is None:
                continue
            for i in idx:
                true = vjp(self.run, gate, i, self.run.grads[gate.id])
                if true is None:
                    continue
                for n, (kind, wrong) in enumerate(variants(self.run, gate, i)):
                    if wrong is None or np_shape(wrong) != np_shape(true):
                        continue
                    with np.errstate(all="ignore"):
                        change = _value(np.asarray(wrong) - true) if type(true) is not float else wrong - true
                    if finite(change) and np.any(change):
                        yield Mistake(kind, x, change, gate=gate, index=i, key=(kind, gate.id, i, n))
            if len(branches) >= 2:
                key = ("branch", gate.id, x.id)
                yield Mistake("sign", x, part, coef=-2.0, gate=gate, index=idx[0], branch=True, key=key)
                for factor in self._nice_factors():
                    yield Mistake(
                        "scale",
                        x,
                        part,
                        coef=factor - 1.0,
                        gate=gate,
                        index=idx[0],
                        factor=factor,
                        branch=True,
                        key=key,
                    )

    def _nice_factors(self) -> list[float]:
        if self._factors is None:
            self._factors = nice_factors(self.run)
        return self._factors

    def _mentally_rounded(self, verdict: Verdict) -> Mistake | None:
        """A right method with the upstream gradient rounded too early (0.20 × 2 = 0.40), on scalars."""
        text = verdict.expectation.text
        branches = self.branches.of(verdict.node)
        if len(branches) != 1 or len(branches[0][1]) != 1 or not _DECIMAL.fullmatch(text):
            return None  # (one number written with decimals: 0.40, not 0.22*0.5)
        if type(verdict.truth) is not float:
            return None
        gate, (i,) = branches[0]
        upstream = self.run.grads[gate.id]
        if type(upstream) is not float:
            return None
        decimals = len(text.split(".")[1].split("e")[0].split("E")[0])
        rounded = round(upstream, decimals)
        if rounded == upstream:
            return None
        candidate = vjp(self.run, gate, i, rounded)
        local = vjp(self.run, gate, i, 1.0)
        if candidate is None or local is None or type(candidate) is not float:
            return None
        key: tuple[object, ...] = ("mental", verdict.node.id)
        self._rounded[key] = Rounded(f"{rounded:.{decimals}f}", local)
        return Mistake("rounding", verdict.node, candidate - verdict.truth, gate=gate, index=i, key=key)

    def _region(self, node: Node) -> tuple[list[Node], list[Verdict]]:
        """The nodes from `node` up to the answers given above it (breadth first; not the
        output), and those answers."""
        order, above = [node], []
        seen = {node.id}
        queue = deque([(node, 0)])
        while queue:
            x, depth = queue.popleft()
            for gate, _ in self.branches.of(x):
                if gate.id in seen:
                    continue
                seen.add(gate.id)
                if gate.id in self.given:
                    above.append(self.given[gate.id])
                elif gate is not self.graph.output and depth < MAX_DEPTH:
                    order.append(gate)
                    queue.append((gate, depth + 1))
        return order, above

    def _where(self, verdict: Verdict, mistake: Mistake) -> tuple[Node | None, Node | None]:
        """Where `mistake` is, for _surroundings: the node whose gradient it is in, and the gate
        (a user of the answer's own node) whose local gradient is wrong, if that is where."""
        if mistake.kind in OWN_WORDS:
            return None, None
        at_gate = mistake.node is verdict.node and mistake.kind not in ("partial-fanout", "rounding")
        return mistake.node, mistake.gate if at_gate else None

    def _surroundings(
        self, node: Node, at: Node | None = None, gate: Node | None = None
    ) -> dict[str, tuple[str, ...]]:
        """The names the student did not give between `node` and the answers given above it
        (only those on the way up to `at`, where the mistake is, when it is above node; only
        those above `gate` when the mistake is in what that gate sends node), and those answers."""
        if gate is not None:  # the way up from that gate alone: node's other branches are not on it
            if gate is self.graph.output or gate.id in self.given:
                order, above = [node], [self.given[gate.id]] if gate.id in self.given else []
            else:
                order, above = self._region(gate)
                order = [node, *order]
        else:
            order, above = self._region(node)
        if at is not None and at is not node:
            order = [x for x in order if x is at or self._below(at, x)]
        counts: dict[str, int] = {}  # a name made in 20 iterations is said once: prev (×20)
        for x in order[1:]:
            if x.name:
                counts[x.name] = counts.get(x.name, 0) + 1
        names = [name if n == 1 else f"{name} (×{n})" for name, n in counts.items()]
        if not names:  # no name on the way: the steps themselves
            names = [scoped_label(self.graph, x) for x in order[1:]]
        return {"through": tuple(names), "above": tuple(v.expectation.written for v in above if v.ok)}

    def _finding(self, verdict: Verdict, mistake: Mistake, **facts: Any) -> Finding:
        kind, gate = mistake.kind, mistake.gate
        if kind == "carried":
            source = self.given[mistake.node.id]
            root = source.finding
            return _finding(
                root.kind if root else "unknown",
                verdict,
                root.node if root else mistake.node,
                carried_from=mistake.node,
                carried_answer=source.expectation.text,
                **facts,
            )
        if kind == "forward":
            source = next(v for v in self.wrong_values if _same_shape(v))
            answer = source.expectation.text
            return _finding("forward", verdict, source.node, carried_from=source.node, carried_answer=answer)
        at = mistake.node
        branches = self.branches.of(at)
        extra: dict[str, Any] = dict(facts)
        if kind == "partial-fanout" and mistake.left_out:
            extra["branches"] = tuple(
                Branch(g, self.branches.sent(g, idx), g.id in mistake.left_out) for g, idx in branches
            )
        values = [self.run.values[x.id] for x in gate.inputs] if gate is not None else []
        if kind == "wrong-route" and gate is not None and all(type(v) is float for v in values):
            # (on arrays each element has its own winner: there is not one to name)
            pick = max if gate.op.routes == "largest" else min
            extra["winner"] = gate.inputs[pick(range(len(values)), key=lambda j: float(np.max(values[j])))]  # type: ignore[arg-type]
        if kind == "rounding":
            extra["rounded"] = self._rounded.get(mistake.key)
        if gate is not None and not facts.get("follows") and kind not in ("partial-fanout", "rounding"):
            extra["pointer"] = self._pointer(gate, mistake.index)
        return _finding(
            kind,
            verdict,
            gate or at,
            index=mistake.index,
            at=at if at is not verdict.node else None,
            upstream=self.run.grads[gate.id] if gate is not None else None,
            uses=len(branches),
            factor=mistake.factor,
            hint=(self._hint(mistake.factor, gate) or self._hint(mistake.factor)) if kind == "scale" else "",
            branch=mistake.branch,
            **extra,
        )

    def _hint(self, factor: float | None, gate: Node | None = None) -> str:
        """What a forgotten factor most likely was: the 1/N of a mean or of a division by N
        ("mean N"), or the 2 of a square ("square"), at `gate` or anywhere in the program."""
        if factor is None:
            return ""
        n = factor if factor > 1 else 1 / factor
        for node in self.graph.nodes if gate is None else [gate]:
            op, values = node.op, self.run.values
            if op.gate == "averager":
                count = np.size(values[node.inputs[0].id]) / max(np.size(values[node.id]), 1)  # type: ignore[arg-type]
                if count > 1 and abs(count - n) < 1e-9:
                    return f"mean {round(n)}"
            elif op.name == "div" and isinstance(divisor := values[node.inputs[1].id], float):
                if n > 1 and abs(abs(divisor) - n) < 1e-9:
                    return f"mean {round(n)}"
            elif n == 2.0 and (
                (op.name == "pow" and _is_two(values[node.inputs[1].id]))
                or (op.name == "mul" and len({x.id for x in node.inputs}) == 1)
            ):
                return "square"
        return ""

    def _pointer(self, gate: Node, i: int) -> Pointer:
        g, x = self.run.grads[gate.id], self.run.values[gate.inputs[i].id]
        shapes = (np_shape(0.0 if g is None else g), np_shape(0.0 if x is None else x))
        operands = tuple(np_shape(0.0 if (v := self.run.values[x.id]) is None else v) for x in gate.inputs)
        return Pointer(gate, i, self._local(gate, i), shapes, operands)

    def _local(self, gate: Node, i: int) -> Value | None:
        """The local gradient ∂gate/∂input_i as a number: on scalars only (an array gate's is
        a Jacobian, so its rule is shown instead)."""
        values = [self.run.values[x.id] for x in gate.inputs]
        if type(self.run.values[gate.id]) is not float or any(type(v) is not float for v in values):
            return None
        return vjp(self.run, gate, i, 1.0)

    def _unexplained(self, verdict: Verdict) -> Finding:
        repeated = self._repeated_index(verdict)
        surroundings = self._surroundings(verdict.node)
        if repeated is not None:
            gate, i = repeated
            return _finding(
                "repeated-index",
                verdict,
                gate,
                index=i,
                upstream=self.run.grads[gate.id],
                pointer=self._pointer(gate, i),
                **surroundings,
            )
        branches = self.branches.of(verdict.node)
        if len(branches) == 1 and not surroundings["through"] and self._known(branches[0][0]):
            gate, idx = branches[0]  # its upstream is right: its local gradient is not
            return _finding(
                "unknown", verdict, gate, index=idx[0], pointer=self._pointer(gate, idx[0]), **surroundings
            )
        return _finding("unknown", verdict, verdict.node, **surroundings)

    def _known(self, gate: Node) -> bool:
        """The gradient `gate` gets is known right: it is the output, or the student gave it
        and got it right."""
        given = self.given.get(gate.id)
        return gate is self.graph.output or (given is not None and given.ok)

    def _repeated_index(self, verdict: Verdict) -> tuple[Node, int] | None:
        """The index gate (W[idx], idx = [0, 2, 0]) that picks the elements where the answer is
        wrong more than once each, while it is right everywhere else: where an index repeats the
        gradients add up (np.add.at), and an answer off only there most likely kept one of them
        (dW[idx] = g, which overwrites). None if no index gate explains the answer so."""
        exp, truth = verdict.expectation, verdict.truth
        if isinstance(truth, float):
            return None
        right = matches(exp.value, exp.tolerance, truth, self.tol, verdict.scale)
        wrong = ~np.broadcast_to(right, truth.shape)
        if not wrong.any():
            return None
        for gate, i in self.users[verdict.node.id]:
            if gate.op.gate != "scatter" or self.run.values[gate.id] is None:
                continue
            counts = vjp(self.run, gate, i, ones_like(self.run.values[gate.id]))  # type: ignore[arg-type]
            picks = None if counts is None else np.asarray(counts)
            if picks is not None and picks.shape == truth.shape and bool(np.all(picks[wrong] > 1)):
                return gate, i
        return None

    # --- shapes --------------------------------------------------------------------------

    def _value_finding(self, verdict: Verdict) -> Finding:
        if _same_shape(verdict):
            return _finding("forward", verdict, verdict.node)
        return self._shape_kind(verdict) or _finding(
            "shape", verdict, verdict.node, same_numbers=_same_numbers(verdict)
        )

    def _shape_finding(self, verdict: Verdict) -> Finding:
        found = self._shape_kind(verdict)
        if found is not None:
            return found
        summed = self._unsummed(verdict.node)
        if summed is not None and self._fits(verdict, summed[0]):
            return _finding("missing-sum", verdict, verdict.node, axes=summed[1])
        return _finding("shape", verdict, verdict.node, same_numbers=_same_numbers(verdict))

    def _shape_kind(self, verdict: Verdict) -> Finding | None:
        truth = verdict.truth
        shape = np_shape(verdict.expectation.value)
        if (
            not isinstance(truth, float)
            and truth.ndim >= 2
            and shape == truth.shape[::-1]
            and self._fits(verdict, _value(np.transpose(truth)))
        ):
            return _finding("transpose", verdict, verdict.node)
        return None

    def _unsummed(self, node: Node) -> tuple[Value, tuple[int, ...]] | None:
        """∂f/∂node before the broadcasts that stretched node are summed back, and the axes
        to sum it over; None if node was not broadcast."""
        truth = self.run.grads[node.id]
        total: Value | None = None
        for gate, idx in self.branches.of(node):
            for i in idx:
                part = unsummed(self.run, gate, i)
                if part is None:
                    return None
                total = part if total is None else add(total, part)
                if total is None:
                    return None
        if total is None or truth is None or np_shape(total) == np_shape(truth):
            return None
        out, shape = np_shape(total), np_shape(truth)
        lead = len(out) - len(shape)
        if lead < 0:
            return None
        axes = tuple(range(lead)) + tuple(
            lead + k for k, n in enumerate(shape) if n == 1 and out[lead + k] != 1
        )
        return total, axes


def _finding(kind: str, verdict: Verdict, node: Node, **facts: Any) -> Finding:
    """A finding about `verdict`'s answer, with the facts every kind carries. (`facts` are
    Finding's other fields, by keyword: of as many types as it has, hence Any.)"""
    exp = verdict.expectation
    return Finding(
        kind,
        node,
        exp.name,
        exp.text,
        verdict.truth,
        np_shape(exp.value),
        np_shape(verdict.truth),
        gradient=exp.gradient,
        **facts,
    )


def _same_shape(verdict: Verdict) -> bool:
    return np_shape(verdict.expectation.value) == np_shape(verdict.truth)


def _same_numbers(verdict: Verdict) -> bool:
    """The answer has the truth's numbers, in another shape: a (2, 1) column for a (2,) vector,
    or one number for an array whose elements all have it."""
    exp, truth = verdict.expectation, verdict.truth
    answer = np.asarray(exp.value, dtype=float)
    flat = np.asarray(truth, dtype=float).ravel()
    if answer.size == 1:
        answer = np.full(flat.shape, float(answer.ravel()[0]))
    if answer.size != flat.size:
        return False
    tolerance = np.asarray(exp.tolerance)
    slack = tolerance.ravel() if tolerance.size == answer.size else float(tolerance.max(initial=0.0))
    return bool(np.all(np.abs(answer.ravel() - flat) <= slack + 1e-12 * np.maximum(np.abs(flat), 1.0)))


def _is_two(value: Value | None) -> bool:
    """The exponent of a square: 2, or an array of 2s (x ** p may have an array p)."""
    return value is not None and bool(np.all(np.asarray(value) == 2.0))


def _value(array: Any) -> Value:
    """A numpy result as a Value: a float for a 0-d result."""
    return float(array) if np.ndim(array) == 0 else np.asarray(array, dtype=float)
