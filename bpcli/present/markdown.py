"""`--format markdown`: the node table and the chain-rule steps, ready to paste.

A GFM table's row cannot fold, so its cells are kept short: a node's expression names an
earlier node by its id (#12) where writing it out would be long, and an array is shown by
the edges of its first row and its shape, [[0.1 0.2 … 0.4] …] (4×3). The narration below
the table (--format steps, in a text block) has every number.
"""

from __future__ import annotations

from bpcli.core.graph import CONST, INPUT, Graph, Node, data_use, precedence
from bpcli.core.ops import P_ATOM
from bpcli.core.run import Run
from bpcli.core.where import scoped_ref
from bpcli.present.arrays import compact
from bpcli.present.explain import Step, derivation, gate_key, local_formula
from bpcli.present.scopes import GroupStep, Headings, collapse, explain, heading
from bpcli.present.steps import broadcast_axes, steps_text, uniform
from bpcli.texts import Translator
from bpcli.values import Value

LONGEST = 16  # an input's expression longer than this is written as its id, #12
ROOM = 36  # the columns an array's summary may take in a cell
MAX_EDGES = 8  # inputs listed in one row; more are counted


def _cell(text: str) -> str:
    text = text.replace("|", "\\|").strip()
    if not text:
        return ""
    return "<br>".join(f"`{line}`" if any(c in line for c in "*_^[]") else line for line in text.split("\n"))


def _ref(graph: Graph, node: Node, atomic: bool = False) -> str:
    """How a cell names an input: its name or short expression, else its id."""
    if node.name:
        return scoped_ref(graph, node, atomic)
    text = graph.ref(node)
    if (len(text) > LONGEST or "…" in text) and node.op is not CONST and node.op is not INPUT:
        return f"#{node.id}"
    return graph.ref(node, atomic)


class _IdRef:
    """An input in a local-gradient formula, as _ref names it (`{x:a}`: parenthesised
    unless a single term)."""

    def __init__(self, graph: Graph, node: Node, index: int) -> None:
        self.graph = graph
        self.node = node.inputs[index] if index < len(node.inputs) else None

    def __format__(self, spec: str) -> str:
        if self.node is None:
            return "?"
        return _ref(self.graph, self.node, atomic=spec == "a")


def short_label(graph: Graph, node: Node) -> str:
    """The node's label with each long input expression written as its id: `f = 1/#13`."""
    op = node.op
    if not node.inputs or op.arity < 0:
        return graph.label(node)
    parts = []
    for i, child in enumerate(node.inputs):
        text = _ref(graph, child)
        prec = P_ATOM if text.startswith("#") else precedence(child, text)
        parts.append(f"({text})" if prec < op.slots[i] else text)
    expr = op.template.format(*parts)
    return f"{node.name} = {expr}" if node.name and expr != node.name else expr


def _formula(graph: Graph, node: Node, i: int, values: list[Value | None]) -> str:
    op = node.op
    if op.arity < 0:
        return local_formula(graph, node, i, values)
    return op.local[i].format(x=_IdRef(graph, node, 0), y=_IdRef(graph, node, 1))


def _show(value: Value | None, precision: int) -> str:
    return compact(value, precision, ROOM)


def _upstream(graph: Graph, step: Step, precision: int) -> str:
    if step.upstream is None:
        return "— (data)" if data_use(graph, step.node) else "—"
    total = _show(step.upstream, precision)
    if step.node is graph.output:
        out = graph.symbol
        return (
            f"{total} (given: {graph.upstream_name})"
            if graph.upstream is not None
            else f"{total} (∂{out}/∂{out})"
        )
    return total


def _row(run: Run, step: Step, precision: int) -> list[str]:
    graph, node = run.graph, step.node
    locals_, downs = [], []
    flowing = [e for e in step.edges if not (e.downstream is None and e.local is None)]
    if not node.op.differentiable and any(e.input.needs_grad for e in step.edges):
        locals_, downs = [Translator()(gate_key(node.op))], ["—"]  # a comparison: nothing flows back
    for edge in flowing[:MAX_EDGES]:
        ref = _ref(graph, edge.input, atomic=True)
        formula = _formula(graph, node, edge.index, run.values)
        axes = broadcast_axes(run, node, edge)
        local = None if edge.local is None else uniform(edge.local)
        if axes is not None:
            along = ", ".join(map(str, axes))
            locals_.append(f"∂/∂{ref} = {formula}, summed over axis {along}")
        elif local is None:
            locals_.append(f"∂/∂{ref}: {formula}")
        else:
            shown = _show(local, precision)
            locals_.append(f"∂/∂{ref} = {shown}" if formula == shown else f"∂/∂{ref} = {formula} = {shown}")
        if edge.downstream is None:
            downs.append("—")
        elif type(edge.local) is float and type(step.upstream) is float:
            up, loc = _show(step.upstream, precision), _show(local, precision)
            downs.append(f"{up} × {loc} = {_show(edge.downstream, precision)}")
        else:
            downs.append(_show(edge.downstream, precision))
    if len(flowing) > MAX_EDGES:
        locals_.append(f"… {len(flowing) - MAX_EDGES:,} more inputs")
    op = node.op.name + (" ⚠" if step.kink else "")
    first = [str(node.id), short_label(graph, node), op, _show(step.value, precision)]
    return [*first, _upstream(graph, step, precision), "\n".join(locals_), "\n".join(downs)]


def _group_row(run: Run, step: GroupStep, precision: int) -> list[str]:
    graph, group = run.graph, step.group
    within = group.scope
    names = [group.name] + (
        [f"→ {scoped_ref(graph, r.node, within=within)}" for r in step.results]
        if len(step.results) > 1
        else []
    )
    values = [_show(r.value, precision) for r in step.results]
    upstreams = [_upstream(graph, r, precision) for r in step.results]
    locals_, downs = [], []
    for inp, sent in step.edges[:MAX_EDGES]:
        if inp.needs_grad:
            locals_.append(f"∂/∂{scoped_ref(graph, inp, atomic=True, within=within)}: in the call")
            downs.append("—" if sent is None else _show(sent, precision))
    return [
        group.span,
        "\n".join(names),
        "call",
        "\n".join(values),
        "\n".join(upstreams),
        "\n".join(locals_),
        "\n".join(downs),
    ]


def markdown_text(
    run: Run,
    precision: int = 4,
    tr: Translator | None = None,
    wrt: list[str] | None = None,
    depth: int | None = None,
    width: int = 80,
) -> str:
    """The node table as GFM, the inputs' gradients, and the narration in a text block
    `width` columns wide."""
    graph = run.graph
    out = graph.symbol
    headers = ["#", "node", "op", "value", f"upstream ∂{out}/∂node", "local ∂node/∂input", "downstream"]
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if k in (0, 3, 4) else "---" for k in range(len(headers))) + "|",
    ]
    headings = Headings(graph)
    for step in derivation(run) if depth is None else explain(run, collapse(graph, depth)):
        scope = step.group.scope if isinstance(step, GroupStep) else step.node.scope
        if headings.change(scope):
            lines.append("| | **" + _cell(heading(scope)) + "** |" + " |" * (len(headers) - 2))
        row = _group_row(run, step, precision) if isinstance(step, GroupStep) else _row(run, step, precision)
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    lines.append("")
    lines += [f"- {line}" for line in _summary(run, precision, wrt)]
    lines += ["", "```text", steps_text(run, precision, tr, wrt, depth, width).rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"


def _summary(run: Run, precision: int, wrt: list[str] | None) -> list[str]:
    """f = value, then ∂f/∂name for the inputs (or the names in `wrt`), arrays summarised."""
    from bpcli.core.engine import gradients

    graph = run.graph
    out = graph.symbol
    room = 60
    lines = [f"{graph.output_text} = {_code(compact(run.output, precision, room))}"]
    if graph.upstream is not None:
        name = graph.upstream_name
        given = _code(compact(graph.upstream, precision, room))
        lines.append(f"{name} = {given}  (given: ∂{out}/∂{graph.output_text}, the upstream gradient)")
    grads = gradients(run)
    for name in wrt or list(graph.inputs):
        use = data_use(graph, graph.inputs[name]) if name in graph.inputs else ""
        if use:
            lines.append(f"∂{out}/∂{name} = —  ({Translator()(f'data.{use}', name=name)})")
            continue
        lines.append(f"∂{out}/∂{name} = {_code(compact(grads[name], precision, room))}")
    return lines


def _code(text: str) -> str:
    """An array in a list item as code, so that its brackets are not read as a link."""
    return f"`{text}`" if text.startswith("[") else text
