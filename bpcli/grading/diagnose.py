"""`bpcli check`: compare a student's answers with the truth, and name the likely mistake.

Each answer is compared with the run of the program, at its own precision (see answers);
a gradient answer that is a one-sided derivative at a kink is right too. The wrong ones go
to bpcli.grading.blame, which names the likely mistake and the first wrong step.
"""

from __future__ import annotations

import itertools
from contextlib import nullcontext
from typing import cast

from bpcli.core.engine import Values, downstream, gradient, one_sided_gradients
from bpcli.core.graph import Node, consumers, data_use
from bpcli.core.run import Run
from bpcli.core.where import scoped_label
from bpcli.errors import BpcliError, DomainError, ProgramError
from bpcli.grading.answers import Expectation, Tolerance, all_match, fitted, matches, np_shape
from bpcli.grading.blame import Diagnoser
from bpcli.grading.findings import KINDS, Branch, Finding, Pointer, Rounded, Verdict
from bpcli.lazy import np
from bpcli.texts import Translator
from bpcli.values import Value

__all__ = ["KINDS", "Branch", "Finding", "Pointer", "Rounded", "Verdict", "check"]


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
        exp = fitted(exp, truth)  # all(0.5): one number for every element
        scale = _scale(run, users, node, exp.gradient, truth)
        ok = all_match(exp.value, exp.tolerance, truth, tol, scale)
        verdicts.append(
            Verdict(exp, node, truth, ok, None if ok else _worst(exp, truth, tol, scale), scale=scale)
        )
    _accept_one_sided(run, verdicts, tol)
    Diagnoser(run, verdicts, tol).diagnose()
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
                other = 0.0 if type(verdict.truth) is float else np.zeros(np.shape(verdict.truth))
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
