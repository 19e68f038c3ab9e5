"""`bpcli check`: compare a student's answers with the truth, and name the likely mistake.

The backward pass is walked from the output down. A wrong gradient whose upstream (the
gradients of the gates that use it) the student got right is where the derivation broke:
the local gradient of that gate is what to re-derive. Each wrong number is then compared
with the numbers that common mistakes would give, in the order of KINDS.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Any, cast

from bpcli.check.answers import Expectation, Tolerance, all_match, matches, np_shape
from bpcli.core.engine import Values, downstream, gradient, one_sided_gradients
from bpcli.core.graph import Node, consumers, data_use
from bpcli.core.ops import unbroadcast
from bpcli.core.run import Run
from bpcli.core.where import scoped_label
from bpcli.errors import BpcliError, DomainError, ProgramError
from bpcli.lazy import np
from bpcli.texts import Translator
from bpcli.values import Value

KINDS = (
    "sign",
    "transposed",
    "missing-upstream",
    "partial-fanout",
    "swapped-inputs",
    "value-confusion",
    "wrong-route",
    "forward",
    "repeated-index",
    "shape",
    "unknown",
)
MAX_FANOUT_SUBSETS = 6


@dataclass(frozen=True, slots=True)
class Pointer:
    """The local gradient to re-derive where the derivation broke: input `index` of `gate`,
    whose local gradient is `local` (None when it has no finite value)."""

    gate: Node
    index: int
    local: Value | None


@dataclass(frozen=True, slots=True)
class Rounded:
    """A right method with the upstream gradient rounded too early: `upstream` as the
    student rounded it (text, with their decimals) times the local gradient `local`."""

    upstream: str
    local: Value


@dataclass(frozen=True, slots=True)
class Finding:
    """The likely mistake behind a wrong answer, as data: the kind of mistake, where it is,
    and the numbers involved. bpcli.present.check puts it into words, in either language."""

    kind: str  # one of KINDS
    node: Node  # the gate whose local gradient to re-derive, or the node of a wrong value
    name: str  # the answer's name
    answer: str  # the answer as written
    truth: Value
    shape: tuple[int, ...]  # the answer's shape
    truth_shape: tuple[int, ...]
    gradient: bool = True  # an answer for a gradient (else for a forward value)
    first: bool = False  # the first wrong step of the backward pass
    index: int = 0  # which input of `node` (a gate) the answer is
    upstream: Value | None = None  # ∂f/∂node; None where node is the output
    uses: int = 0  # how many gates use the answer's node
    branches: tuple[Value | None, ...] = ()  # what each of those gates sends it
    winner: Node | None = None  # wrong-route: the input the router sends the gradient to
    carried_from: Node | None = None  # the gate whose wrong answer this one follows from
    carried_answer: str = ""  # that answer, as written
    rounded: Rounded | None = None
    pointer: Pointer | None = None


@dataclass(slots=True)
class Verdict:
    """One answer checked."""

    expectation: Expectation
    node: Node
    truth: Value
    ok: bool
    worst: int | None = None  # for an array: the flat index of the element furthest off
    finding: Finding | None = None
    one_sided: tuple[int, ...] = ()  # accepted as a one-sided derivative at these kinks (ids)
    scale: Value = 0.0  # the magnitude of what flowed into the truth: its noise is relative to it


def check(run: Run, expectations: list[Expectation], tol: Tolerance | None = None) -> list[Verdict]:
    """Check each answer against a run of the program, and diagnose the wrong ones."""
    graph = run.graph
    verdicts = []
    users = consumers(graph)
    for exp in expectations:
        # a name the program does not have is answers.OUTPUT, "f": the output
        node = graph.inputs.get(exp.name) or graph.names.get(exp.name) or graph.output
        truth = gradient(run, node) if exp.gradient else run.values[node.id]
        use = data_use(graph, node) if exp.gradient else ""
        if use:  # an input read as data (an index, a shape): it has no gradient
            why = Translator()(f"data.{use}", name=exp.name)
            raise ProgramError(
                f"there is no ∂f/∂{exp.name} to check ({why}, with no gradient)",
                hint=f"leave {exp.written} out of the answers",
            )
        if truth is None:  # off the output's path, and not computable here
            raise DomainError(
                f"{exp.name} has no value at this point ({scoped_label(graph, node)} is not"
                " used by the output and cannot be computed), so there is no"
                " answer to check for it"
            )
        scale = _scale(run, users, node, exp.gradient, truth)
        ok = all_match(exp.value, exp.tolerance, truth, tol, scale)
        verdicts.append(
            Verdict(exp, node, truth, ok, None if ok else _worst(exp, truth, tol, scale), scale=scale)
        )
    _accept_one_sided(run, verdicts, tol)
    _Diagnoser(run, verdicts, tol).diagnose()
    return verdicts


MAX_KINKS = 3  # kinked nodes whose one-sided derivatives are tried (3**3 backward passes)


def _accept_one_sided(run: Run, verdicts: list[Verdict], tol: Tolerance | None) -> None:
    """At a kink the derivative is not defined: bpcli takes PyTorch's convention, but a
    one-sided derivative is as right. Accept a gradient answer that one of them gives."""
    wrong = [v for v in verdicts if not v.ok and v.expectation.gradient]
    kinks = [k for k in run.kinks if run.graph.nodes[k].op.one_sided][:MAX_KINKS]
    if not wrong or not kinks:
        return
    for choice in itertools.product((0.0, 1.0, -1.0), repeat=len(kinks)):
        sides = {k: side for k, side in zip(kinks, choice, strict=True) if side}
        if not sides:
            continue
        try:
            grads = one_sided_gradients(run, sides)
        except BpcliError:
            continue
        for verdict in wrong:
            if verdict.ok:
                continue
            exp = verdict.expectation
            other = grads[verdict.node.id]
            if other is None:
                other = 0.0
            if all_match(exp.value, exp.tolerance, other, tol, verdict.scale):
                verdict.ok, verdict.worst, verdict.one_sided = True, None, tuple(sides)


def _scale(
    run: Run, users: list[list[tuple[Node, int]]], node: Node, is_gradient: bool, truth: Value
) -> Value:
    """The magnitude of what was added up into the truth, elementwise where it can be: for a
    gradient its branches (what each gate that uses the node sends it), each also computed
    from the magnitudes |upstream| and |inputs| (so the sums inside a gate, as in W.T @ g,
    count too); for a value the gate's inputs. A truth that is floating-point noise around
    an exact 0 (the branches 0.1 + 0.2 - 0.3) is then within NOISE times this of 0, so 0 is
    accepted for it. What is not finite counts as nothing: it must never excuse an answer."""
    graph = run.graph
    values = cast("list[Value]", run.values)  # (those of gates that use the node, which all have one)
    scalar = type(truth) is float
    parts: list[Value] = []
    with nullcontext() if scalar else np.errstate(all="ignore"):
        if is_gradient:
            for gate, i in users[node.id]:
                upstream = run.grads[gate.id]
                if upstream is None:
                    continue
                # (not at a kinked gate: relu of |x| would route what relu of x stops)
                for magnitudes in (False, True) if gate.op.kink is None else (False,):
                    try:
                        if magnitudes:
                            # (mypy types abs() of a float or an array as object)
                            sizes: Values = [cast(Value, abs(values[x.id])) for x in gate.inputs]
                            magnitude = cast(Value, abs(upstream))
                            parts.append(downstream(graph, run.values, gate, i, magnitude, sizes))
                        else:
                            parts.append(downstream(graph, run.values, gate, i, upstream))
                    except Exception:  # no branch, no scale from it
                        continue
        else:
            parts = [values[inp.id] for inp in node.inputs]
        scale: Value = 0.0
        for part in parts:
            if type(part) is float:
                size = abs(part)
                if size - size == 0.0:
                    scale = max(scale, size) if type(scale) is float else np.maximum(scale, size)
                continue
            magnitude = np.abs(part)
            magnitude = np.where(np.isfinite(magnitude), magnitude, 0.0)
            if scalar or np.shape(part) != np.shape(truth):
                size = float(np.max(magnitude)) if magnitude.size else 0.0
                scale = max(scale, size) if type(scale) is float else np.maximum(scale, size)
            else:
                scale = np.maximum(scale, magnitude)
    return scale


def _worst(exp: Expectation, truth: Value, tol: Tolerance | None, scale: Value) -> int | None:
    if type(truth) is float or np_shape(exp.value) != np_shape(truth):
        return None
    wrong = ~np.broadcast_to(matches(exp.value, exp.tolerance, truth, tol, scale), np.shape(truth))
    error = np.where(wrong, np.abs(np.asarray(exp.value) - truth), -1.0)
    return int(np.argmax(error))


class _Diagnoser:
    def __init__(self, run: Run, verdicts: list[Verdict], tol: Tolerance | None) -> None:
        self.run, self.verdicts, self.tol = run, verdicts, tol
        self.graph = run.graph
        self.users = consumers(run.graph)
        self.values = {v.node.id: v for v in verdicts if not v.expectation.gradient}
        self.grads = {v.node.id: v for v in verdicts if v.expectation.gradient}

    def diagnose(self) -> None:
        first_found = False
        # backward order: the output's end of the graph first
        for verdict in sorted(self.verdicts, key=lambda v: -v.node.id):
            if verdict.ok:
                continue
            if not verdict.expectation.gradient:
                verdict.finding = self._forward(verdict)
                continue
            finding = self._gradient(verdict)
            if not first_found and finding.first:
                first_found = True
            elif finding.first:
                finding = replace(finding, first=False)
            verdict.finding = finding

    # --- helpers ------------------------------------------------------------------------

    def _value(self, node: Node) -> Value:
        # (only gates on the output's path and their inputs are looked at: all have values)
        return cast(Value, self.run.values[node.id])

    def _grad(self, node: Node) -> Value | None:
        """∂f/∂node as the backward pass left it: None where nothing flowed back."""
        return self.run.grads[node.id]

    def _upstream(self, gate: Node) -> Value:
        """∂f/∂gate for a gate the gradient being checked flows back through (one of its
        edges, which are only gates with a gradient)."""
        return cast(Value, self.run.grads[gate.id])

    def _fits(self, verdict: Verdict, candidate: Value | None) -> bool:
        if candidate is None or not _finite(candidate):
            return False
        exp = verdict.expectation
        try:
            return all_match(exp.value, exp.tolerance, candidate, self.tol) and not all_match(
                candidate, 0.0, verdict.truth
            )
        except (ValueError, TypeError):
            return False

    def _vjp(
        self,
        gate: Node,
        i: int,
        upstream: Value | None = None,
        ans: Value | None = None,
        values: Values | None = None,
    ) -> Value | None:
        """A downstream gradient computed with some of its ingredients replaced; None if
        the replacement makes no sense (a domain error, a shape that does not fit)."""
        g = self._upstream(gate) if upstream is None else upstream
        run = self.run
        if ans is None and values is None:
            try:
                return downstream(self.graph, run.values, gate, i, g)
            except Exception:
                return None
        own = self._value(gate)
        ans = own if ans is None else ans
        values = [self._value(x) for x in gate.inputs] if values is None else values
        scalar = all(type(v) is float for v in [g, ans, *values])
        try:
            with np.errstate(all="ignore") if not scalar else nullcontext():
                if gate.op.by_output is not None and ans is not own:
                    return gate.op.by_output(g, ans)  # the VJP in the value alone, as textbooks
                return downstream(self.graph, run.values, gate, i, g, values, ans)
        except Exception:
            return None

    # --- forward values --------------------------------------------------------------

    def _forward(self, verdict: Verdict) -> Finding:
        shaped = np_shape(verdict.expectation.value) != np_shape(verdict.truth)
        return _finding("shape" if shaped else "forward", verdict, verdict.node)

    # --- gradients ---------------------------------------------------------------------

    def _gradient(self, verdict: Verdict) -> Finding:
        node = verdict.node
        edges = [(gate, i) for gate, i in self.users[node.id] if self._grad(gate) is not None]
        wrong_upstream = [gate for gate, _ in edges if gate.id in self.grads and not self.grads[gate.id].ok]
        if wrong_upstream:
            carried = self._carried(verdict, edges, wrong_upstream[0])
            if carried is not None:
                return carried
        for kind, gate, candidate in self._candidates(verdict, edges):
            if self._fits(verdict, candidate):
                return self._diagnosis(
                    kind, verdict, gate or (edges[0][0] if edges else node), edges, first=not wrong_upstream
                )
        repeated = self._repeated_index(verdict, edges)
        if repeated is not None:
            return self._diagnosis("repeated-index", verdict, repeated, edges, first=not wrong_upstream)
        gate = edges[0][0] if len(edges) == 1 else node
        if np_shape(verdict.expectation.value) != np_shape(verdict.truth):
            return _finding("shape", verdict, node, first=not wrong_upstream)
        finding = _finding(
            "unknown", verdict, gate, first=not wrong_upstream, rounded=self._rounded_upstream(verdict, edges)
        )
        return self._point(finding, edges)

    def _repeated_index(self, verdict: Verdict, edges: list[tuple[Node, int]]) -> Node | None:
        """The index gate (W[idx], idx = [0, 2, 0]) that picks the elements where the answer is
        wrong more than once each, while it is right everywhere else: where an index repeats the
        gradients add up (np.add.at), and an answer off only there most likely kept one of them
        (dW[idx] = g, which overwrites). None if no index gate explains the answer so."""
        exp, truth = verdict.expectation, verdict.truth
        if isinstance(truth, float) or np_shape(exp.value) != np_shape(truth):
            return None
        right = matches(exp.value, exp.tolerance, truth, self.tol, verdict.scale)
        wrong = ~np.broadcast_to(right, truth.shape)
        if not wrong.any():
            return None
        for gate, i in edges:
            if gate.op.gate != "scatter":
                continue
            counts = self._vjp(gate, i, upstream=_ones_like(self._value(gate)))  # picks per element
            picks = None if counts is None else np.asarray(counts)
            if picks is not None and picks.shape == truth.shape and bool(np.all(picks[wrong] > 1)):
                return gate
        return None

    def _rounded_upstream(self, verdict: Verdict, edges: list[tuple[Node, int]]) -> Rounded | None:
        """A right method with an upstream gradient rounded too early (0.20 × 2 = 0.40)."""
        text = verdict.expectation.text
        if len(edges) != 1 or "." not in text or type(verdict.truth) is not float:
            return None
        gate, i = edges[0]
        upstream = self._upstream(gate)
        if not isinstance(upstream, float):  # an array upstream (sum(x*A)) is not one number to round
            return None
        decimals = len(text.split(".")[1].split("e")[0].split("E")[0])
        rounded = round(upstream, decimals)
        if rounded == upstream:
            return None
        candidate = self._vjp(gate, i, upstream=rounded)
        if not self._fits(verdict, candidate):
            return None
        local = self._vjp(gate, i, upstream=1.0)
        if local is None:  # no finite local gradient to show (1/y for a tiny y)
            return None
        return Rounded(f"{rounded:.{decimals}f}", local)

    def _carried(self, verdict: Verdict, edges: list[tuple[Node, int]], gate: Node) -> Finding | None:
        total = None
        for g, i in edges:
            upstream = self.grads[g.id].expectation.value if g.id in self.grads else None
            if upstream is not None and np_shape(upstream) != np_shape(self._upstream(g)):
                return None  # an upstream answer of the wrong shape carries nothing
            d = self._vjp(g, i, upstream=upstream)
            if d is None:
                return None
            total = d if total is None else _add(total, d)
            if total is None:
                return None
        if not self._fits(verdict, total):
            return None
        root = self.grads[gate.id].finding
        return _finding(
            root.kind if root else "unknown",
            verdict,
            root.node if root else gate,
            carried_from=gate,
            carried_answer=self.grads[gate.id].expectation.text,
        )

    def _candidates(
        self, verdict: Verdict, edges: list[tuple[Node, int]]
    ) -> Iterator[tuple[str, Node | None, Value | None]]:
        truth = verdict.truth
        true = [self._vjp(g, i) for g, i in edges]
        yield "sign", None, -truth
        if not isinstance(truth, float) and truth.ndim >= 2:
            yield "transposed", None, np.transpose(truth)
        if edges and all(t is not None for t in true):
            branches = cast("list[Value]", true)  # (none is None: checked just above)
            locals_ = [self._vjp(g, i, upstream=_ones_like(self._value(g))) for g, i in edges]
            if all(v is not None for v in locals_):
                yield "missing-upstream", None, _sum(cast("list[Value]", locals_))
            if 2 <= len(edges) <= MAX_FANOUT_SUBSETS:
                for size in range(1, len(edges)):
                    for subset in itertools.combinations(range(len(edges)), size):
                        yield "partial-fanout", None, _sum([branches[k] for k in subset])
            for kind, make in (
                ("swapped-inputs", self._swapped),
                ("value-confusion", self._confused),
                ("wrong-route", self._rerouted),
                ("forward", self._wrong_forward),
            ):
                for k, (gate, i) in enumerate(edges):
                    for variant in make(gate, i, branches[k]):
                        if variant is not None:
                            yield kind, gate, _sum([*branches[:k], variant, *branches[k + 1 :]])

    def _swapped(self, gate: Node, i: int, true: Value) -> list[Value | None]:
        if gate.op.arity != 2 or gate.op.routes:  # a swapped router is a wrong route
            return []
        values: Values = [self._value(x) for x in gate.inputs]
        return [self._vjp(gate, i, values=values[::-1])]

    def _confused(self, gate: Node, i: int, true: Value) -> list[Value | None]:
        if gate.op.arity < 1 or gate.op.routes:
            return []
        values = [self._value(x) for x in gate.inputs]
        if np.shape(values[i]) != np.shape(self._value(gate)):
            return []
        with_input_as_output = self._vjp(gate, i, ans=values[i])
        replaced: Values = list(values)
        replaced[i] = self._value(gate)
        return [with_input_as_output, self._vjp(gate, i, values=replaced)]

    def _rerouted(self, gate: Node, i: int, true: Value) -> list[Value | None]:
        if not gate.op.routes:
            return []
        upstream = self._upstream(gate)
        with np.errstate(all="ignore") if type(true) is not float else nullcontext():
            return [
                unbroadcast(upstream, self._value(gate.inputs[i])) - true
                if gate.op.broadcast
                else upstream - true
            ]

    def _wrong_forward(self, gate: Node, i: int, true: Value) -> list[Value | None]:
        involved = [gate, *gate.inputs]
        wrong = {
            n.id: self.values[n.id].expectation.value
            for n in involved
            if n.id in self.values
            and not self.values[n.id].ok
            and np_shape(self.values[n.id].expectation.value) == np_shape(self._value(n))
        }
        if not wrong:
            return []
        values: Values = [wrong.get(x.id, self._value(x)) for x in gate.inputs]
        return [self._vjp(gate, i, ans=wrong.get(gate.id, self._value(gate)), values=values)]

    def _diagnosis(
        self, kind: str, verdict: Verdict, gate: Node, edges: list[tuple[Node, int]], first: bool
    ) -> Finding:
        index = next((i for g, i in edges if g is gate), 0)
        winner = None
        if kind == "wrong-route" and gate.inputs:
            winner = (
                max(gate.inputs, key=lambda x: np.max(self._value(x)))
                if gate.op.routes == "largest"
                else min(gate.inputs, key=lambda x: np.min(self._value(x)))
            )
        finding = _finding(
            kind,
            verdict,
            gate,
            first=first,
            index=index,
            upstream=self._grad(gate),
            uses=len(edges),
            branches=tuple(self._vjp(g, i) for g, i in edges),
            winner=winner,
        )
        return self._point(finding, edges)

    def _point(self, finding: Finding, edges: list[tuple[Node, int]]) -> Finding:
        """Say which local gradient to re-derive, when this is where the derivation broke."""
        if not finding.first or not edges or finding.kind in ("partial-fanout", "forward"):
            return finding
        gate, i = next(((g, i) for g, i in edges if g is finding.node), edges[0])
        local = self._vjp(gate, i, upstream=_ones_like(self._value(gate)))
        return replace(finding, pointer=Pointer(gate, i, local))


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


def _sum(parts: list[Value]) -> Value | None:
    """The sum of the branches, or None when it is not finite (it then explains nothing)."""
    total = parts[0]
    for part in parts[1:]:
        summed = _add(total, part)
        if summed is None:
            return None
        total = summed
    return total


def _add(a: Value, b: Value) -> Value | None:
    """a + b, or None when the sum overflows: candidates add up as the engine's gradients
    do (engine.accumulate), without its error."""
    total: Value
    if type(a) is float and type(b) is float:
        total = a + b
    else:
        with np.errstate(all="ignore"):
            total = a + b
    return total if _finite(total) else None


def _finite(value: Value) -> bool:
    try:
        return bool(np.isfinite(value).all()) if type(value) is not float else value - value == 0.0
    except TypeError:
        return False


def _ones_like(value: Value) -> Value:
    return 1.0 if type(value) is float else np.ones_like(value)
