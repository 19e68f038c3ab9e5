"""`--format steps`: the backward pass narrated gate by gate, as the cs231n notes work it.

Each gate, from the output back: its upstream gradient (at a fan-out, the branches that add
up to it), and for each input the local gradient as a formula and a number, and the
downstream gradient upstream × local. The texts come from bpcli.texts, so they translate.
"""

from __future__ import annotations

from bpcli.core.engine import leads_to_output, shape_of, shape_text
from bpcli.core.graph import Graph, Scope, data_use
from bpcli.core.ops import Op
from bpcli.core.run import Run
from bpcli.core.where import scoped_ref
from bpcli.present.explain import Step, derivation, local_formula
from bpcli.present.numbers import one_line as fmt
from bpcli.present.scopes import GroupStep, Headings, collapse, explain
from bpcli.texts import Translator


def steps_text(
    run: Run,
    precision: int = 4,
    tr: Translator | None = None,
    wrt: list[str] | None = None,
    depth: int | None = None,
) -> str:
    """The narration as plain text. Gates made in a call or a loop's iteration stand under
    a heading line naming it; with `depth`, each call deeper than that is one gate."""
    tr = tr or Translator()
    graph = run.graph
    items = collapse(graph, depth)
    steps = derivation(run) if depth is None else None
    explained: list[Step] | list[Step | GroupStep] = steps if steps is not None else explain(run, items)
    lines = [tr("steps.title", output=graph.output_text), ""]
    leads = leads_to_output(graph)
    headings = Headings(graph)
    for step in reversed(explained):
        if isinstance(step, GroupStep):
            if any(r.upstream is not None for r in step.results):
                _heading(lines, headings, step.group.scope, tr)
                lines += _call(graph, step, precision, tr)
            continue
        node = step.node
        if not node.inputs:
            continue
        if run.grads[node.id] is None:
            # a comparison on the way to f that a gradient would reach: say that it stops here
            if not node.op.differentiable and leads[node.id] and any(i.needs_grad for i in node.inputs):
                _heading(lines, headings, node.scope, tr)
                lines.append(tr("steps.node", id=node.id, label=graph.label(node), op=node.op.name))
                lines += ["    " + tr(gate_key(node.op)), ""]
            continue
        _heading(lines, headings, node.scope, tr)
        lines.append(tr("steps.node", id=node.id, label=graph.label(node), op=node.op.name))
        key = gate_key(node.op)
        if key and key in tr.messages:
            lines.append("    " + tr(key))
        if step.kink:
            lines.append("    " + tr("steps.kink", convention=tr(node.op.convention)))
        lines.append("    " + _upstream(graph, step, precision, tr))
        for edge in step.edges:
            if edge.downstream is None:
                continue  # a constant: nothing flows back to it
            ref = scoped_ref(graph, edge.input, atomic=True, within=node.scope)
            fields = dict(
                ref=ref,
                to=scoped_ref(graph, edge.input, within=node.scope),
                formula=local_formula(graph, node, edge.index, run.values),
                upstream=fmt(step.upstream, precision),
                downstream=fmt(edge.downstream, precision),
            )
            if edge.local is None:
                lines.append("    " + tr("steps.edge.jacobian", **fields))
                continue
            fields["local"] = fmt(edge.local, precision)
            same = fields["formula"] == fields["local"]
            lines.append("    " + tr("steps.edge.same" if same else "steps.edge", **fields))
        lines += _broadcasts(run, step, tr)
        lines.append("")
    if headings.change(None):  # the inputs' gradients are the top level's
        lines += [tr("steps.heading", heading=tr("steps.top")), ""]
    lines.append(tr("steps.inputs"))
    ids = [node.id for node in graph.inputs.values()]
    inputs = [steps[i] for i in ids] if steps is not None else derivation(run, ids)
    for (name, node), step in zip(graph.inputs.items(), inputs, strict=True):
        if wrt and name not in wrt:
            continue
        value = fmt(step.upstream, precision)
        use = data_use(graph, node)
        if use:
            lines.append("    " + tr("steps.input.data", name=name, why=tr(f"data.{use}", name=name)))
        elif len(step.branches) > 1:
            lines.append(
                "    "
                + tr(
                    "steps.input.fanout",
                    name=name,
                    value=value,
                    count=len(step.branches),
                    branches=_branches(step, precision),
                )
            )
        else:
            lines.append("    " + tr("steps.input", name=name, value=value))
    return "\n".join(lines) + "\n"


def _heading(lines: list[str], headings: Headings, scope: Scope | None, tr: Translator) -> None:
    """A heading line before the next gate, when it was made in another scope."""
    if headings.change(scope):
        text = tr("steps.top") if scope is None else scope.heading()
        lines += [tr("steps.heading", heading=text), ""]


def _call(graph: Graph, step: GroupStep, precision: int, tr: Translator) -> list[str]:
    """A call collapsed by --depth, narrated as one gate: its results' upstream gradients,
    and what it sends back to each input."""
    group = step.group
    within = group.scope
    lines = [tr("steps.node", id=group.span, label=group.name, op="call"), "    " + tr("steps.gate.call")]
    for result in step.results:
        if result.upstream is None:
            continue
        if result.node is graph.output:
            lines.append("    " + tr("steps.upstream.start"))
            continue
        ref = scoped_ref(graph, result.node, atomic=True, within=within)
        lines.append("    " + tr("steps.upstream", ref=ref, value=fmt(result.upstream, precision)))
    for inp, sent in step.edges:
        if sent is None:
            continue
        to = scoped_ref(graph, inp, within=within)
        lines.append("    " + tr("steps.edge.call", to=to, downstream=fmt(sent, precision)))
    lines.append("")
    return lines


def _broadcasts(run: Run, step: Step, tr: Translator) -> list[str]:
    """For each input a broadcast stretched (b in x @ W + b): that its gradient is the
    downstream summed over the axes it was copied along, the lesson of cs231n's db."""
    node = step.node
    if not node.op.broadcast:
        return []
    out = run.values[node.id]
    lines = []
    for edge in step.edges:
        value = run.values[edge.input.id]
        if edge.downstream is not None and shape_of(value) != shape_of(out):
            to = scoped_ref(run.graph, edge.input, within=node.scope)
            fields = dict(to=to, shape=shape_text(value), out=shape_text(out))
            lines.append("    " + tr("steps.broadcast", **fields))
    return lines


def gate_key(op: Op) -> str:
    """The texts key of what a gate does to the gradient, from its facts: its cs231n pattern
    (steps.gate.*), a router's variant (where picks a branch; max along an axis, a winner in
    each slice), a comparison's none; "" for a gate with no pattern."""
    if not op.differentiable:
        return "steps.gate.comparison" if op.boolean else "steps.gate.none"
    if op.gate == "router":
        if not op.routes:
            return "steps.gate.router.choice"  # where: the condition picks the branch
        if dict(op.params).get("axis") is not None:
            return f"steps.gate.router.{op.routes}.axis"
        return "steps.gate.router" if op.routes == "largest" else f"steps.gate.router.{op.routes}"
    if op.gate == "rearranger" and op.arity < 0:
        return "steps.gate.rearranger.join"
    if op.gate == "distributor" and not op.commutes:
        return "steps.gate.distributor.minus"  # a - b: the second input gets the negative
    return f"steps.gate.{op.gate}" if op.gate else ""


def _upstream(graph: Graph, step: Step, precision: int, tr: Translator) -> str:
    node = step.node
    ref = graph.ref(node, atomic=True)
    if node is graph.output:
        if graph.upstream is not None:
            value = fmt(step.upstream, precision)
            return tr("steps.upstream.given", ref=ref, value=value, name=graph.upstream_name)
        return tr("steps.upstream.start")
    if len(step.branches) > 1:
        return tr(
            "steps.upstream.fanout",
            ref=ref,
            value=fmt(step.upstream, precision),
            count=len(step.branches),
            branches=_branches(step, precision),
        )
    return tr("steps.upstream", ref=ref, value=fmt(step.upstream, precision))


def _branches(step: Step, precision: int, most: int = 6) -> str:
    parts = [fmt(g, precision) for _, g in step.branches]
    if len(parts) > most:
        return " + ".join(parts[:most]) + f" + … ({len(parts)} branches)"
    return " + ".join(parts)
