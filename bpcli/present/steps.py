"""`--format steps`: the backward pass narrated gate by gate, as the cs231n notes work it.

Each gate, from the output back: its upstream gradient (at a fan-out, the branches that add
up to it), and for each input the local gradient as a formula and a number, and the
downstream gradient upstream × local. The texts come from bpcli.texts, so they translate.
Everything folds to the width it is given (present.fold): sentences at their pauses and
spaces with a hanging indent, arrays as numpy prints them, on lines of their own.
"""

from __future__ import annotations

import re

from bpcli.cells import cells
from bpcli.core.engine import leads_to_output, shape_of, shape_text
from bpcli.core.graph import Graph, Node, Scope, data_use
from bpcli.core.run import Run
from bpcli.core.where import scoped_ref
from bpcli.lazy import np
from bpcli.present.arrays import block, one_line, shape_label
from bpcli.present.explain import Edge, Step, derivation, gate_key, local_formula
from bpcli.present.fold import fold
from bpcli.present.numbers import number
from bpcli.present.scopes import GroupStep, Headings, collapse, explain
from bpcli.texts import Translator
from bpcli.values import Value

INDENT = "    "  # a gate's lines, under its heading line
NBSP = "\u00a0"


class Shown:
    """A value in a sentence: a number, or an array printed inline when short, else on
    lines of its own under the sentence."""

    __slots__ = ("value",)

    def __init__(self, value: Value | None) -> None:
        self.value = value


class Writer:
    """Lines of text at a width, in one language, numbers at one precision."""

    def __init__(self, tr: Translator, precision: int, width: int, full: bool = False) -> None:
        self.tr = tr
        self.precision = precision
        self.width = width
        self.full = full
        self.lines: list[str] = []

    def inline(self, value: Value | None, indent: str = INDENT) -> str | None:
        """The value as it stands in a sentence, or None when it gets lines of its own."""
        if value is None or isinstance(value, float):
            return one_line(value, self.precision)
        if value.ndim == 0:
            return number(float(value), self.precision)
        if value.ndim > 1 or value.size > 12:
            return None
        text = one_line(value, self.precision)
        # (no-break spaces: an array in a sentence never folds; they are spaces again below)
        return text.replace(" ", NBSP) if cells(text) <= (self.width - len(indent)) * 2 // 3 else None

    def say(self, key: str, **fields: object) -> None:
        """The text `key` with its fields, folded; an array that is not inline goes on lines
        of its own under the words before it, and the words after it follow below."""
        indent = str(fields.pop("indent", INDENT))
        blocks: dict[str, Value] = {}
        texts: dict[str, object] = {}
        for name, field in fields.items():
            if isinstance(field, Shown):
                text = self.inline(field.value, indent)
                if text is None:
                    assert field.value is not None
                    blocks[name] = field.value
                    text = f"\x00{name}\x00"
                texts[name] = text
            else:
                texts[name] = field
        parts = self.tr(key, **texts).split("\x00")
        hang = indent + "  "
        first = True
        for k in range(0, len(parts), 2):
            piece = parts[k]
            if k:  # what follows an array: a new line, without the punctuation that joined it
                piece = piece.lstrip(" ;；,，")
            if piece.strip():
                lines = fold(piece.rstrip(), self.width, indent if first else hang, hang)
                self.lines += [line.replace(NBSP, " ") for line in lines]
                first = False
            if k + 1 < len(parts):
                self.block(blocks[parts[k + 1]], hang + "  ")

    def block(self, value: Value, indent: str) -> None:
        """An array on lines of its own, numpy-style, its shape after it."""
        if isinstance(value, float):
            self.lines.append(indent + number(value, self.precision))
            return
        room = self.width - len(indent)
        lines = block(value, self.precision, room, self.full)
        if value.ndim == 1 and not any("…" in line for line in lines):
            self.lines += [indent + line for line in lines]  # (its length is plain to see)
            return
        shape = shape_label(value)
        if cells(lines[-1]) + 2 + len(shape) <= room:
            lines[-1] += "  " + shape
        else:
            lines.append(shape)
        self.lines += [indent + line if line else "" for line in lines]

    def pair(self, label: str, value: Value | None, note: str = "") -> None:
        """label = value, the value inline or on lines of its own; `note` after it."""
        text = self.inline(value, "")
        if text is None:
            assert value is not None
            self.lines.append(label + " =")
            self.block(value, "    ")
            if note:
                self.add(note.strip(), "  ")
            return
        self.lines += [
            line.replace(NBSP, " ") for line in fold(f"{label} = {text}{note}", self.width, "", "    ")
        ]

    def add(self, text: str = "", indent: str = "", hang: str | None = None) -> None:
        """A line of text, folded."""
        if not text:
            self.lines.append("")
            return
        self.lines += fold(text, self.width, indent, indent + "    " if hang is None else hang)


def steps_text(
    run: Run,
    precision: int = 4,
    tr: Translator | None = None,
    wrt: list[str] | None = None,
    depth: int | None = None,
    width: int = 80,
    full: bool = False,
    sections: dict[int, str] | None = None,
) -> str:
    """The narration as plain text at most `width` columns wide. Gates made in a call or a
    loop's iteration stand under a heading line naming it; with `depth`, each call deeper
    than that is one gate. `full`: arrays in full, not summarised. `sections`, when given,
    gets each gate's own lines (without `depth`) by node id, and under -1 the inputs'
    gradients at the end: the HTML report's steps."""
    tr = tr or Translator()
    graph = run.graph
    out = graph.symbol
    items = collapse(graph, depth)
    steps = derivation(run) if depth is None else None
    explained: list[Step] | list[Step | GroupStep] = steps if steps is not None else explain(run, items)
    w = Writer(tr, precision, width, full)
    w.add(tr("steps.title", output=graph.output_text), hang="")
    w.add()
    leads = leads_to_output(graph)
    headings = Headings(graph)
    for step in reversed(explained):
        if isinstance(step, GroupStep):
            if any(r.upstream is not None for r in step.results):
                _heading(w, headings, step.group.scope)
                _call(w, graph, step)
            continue
        node = step.node
        if not node.inputs:
            continue
        if run.grads[node.id] is None:
            # a comparison on the way to f that a gradient would reach: say that it stops here
            if not node.op.differentiable and leads[node.id] and any(i.needs_grad for i in node.inputs):
                _heading(w, headings, node.scope)
                w.add(tr("steps.node", id=node.id, label=graph.label(node), op=node.op.name))
                w.add(tr(gate_key(node.op)), INDENT, INDENT + "  ")
                w.add()
            continue
        _heading(w, headings, node.scope)
        start = len(w.lines)
        w.add(tr("steps.node", id=node.id, label=graph.label(node), op=node.op.name))
        key = gate_key(node.op)
        if key and key in tr.messages:
            w.add(tr(key), INDENT, INDENT + "  ")
        if step.kink:
            w.add(tr("steps.kink", convention=tr(node.op.convention)), INDENT, INDENT + "  ")
        _upstream(w, graph, step)
        for edge in step.edges:
            if edge.downstream is not None:  # (a constant: nothing flows back to it)
                _edge(w, run, step, edge)
        if sections is not None:
            sections[node.id] = "\n".join(w.lines[start:])
        w.add()
    if headings.change(None):  # the inputs' gradients are the top level's
        w.add(tr("steps.heading", heading=tr("steps.top")))
        w.add()
    tail = len(w.lines)
    w.add(tr("steps.inputs"))
    ids = [node.id for node in graph.inputs.values()]
    inputs = [steps[i] for i in ids] if steps is not None else derivation(run, ids)
    for (name, node), step in zip(graph.inputs.items(), inputs, strict=True):
        if wrt and name not in wrt:
            continue
        use = data_use(graph, node)
        if use:
            w.say("steps.input.data", out=out, name=name, why=tr(f"data.{use}", name=name))
        elif len(step.branches) > 1:
            w.say(
                "steps.input.fanout",
                out=out,
                name=name,
                value=Shown(step.upstream),
                count=len(step.branches),
                branches=_branches(w, graph, step),
            )
        else:
            w.say("steps.input", out=out, name=name, value=Shown(step.upstream))
    if sections is not None:
        sections[-1] = "\n".join(w.lines[tail:])  # (-1: the inputs' gradients, after the gates)
    return "\n".join(w.lines) + "\n"


def gradient_summary(
    run: Run, precision: int = 4, wrt: list[str] | None = None, width: int = 80, full: bool = False
) -> list[str]:
    """f = value, then ∂f/∂name for every input (or for the names in `wrt`), each folded to
    `width`, arrays on lines of their own: what --format tree ends with."""
    from bpcli.core.engine import gradients

    graph = run.graph
    out = graph.symbol
    w = Writer(Translator(), precision, width, full)
    w.pair(graph.output_text, run.output)
    if graph.upstream is not None:  # --upstream: f is whatever loss sends this gradient in
        note = f"  (given: ∂{out}/∂{graph.output_text}, the upstream gradient)"
        w.pair(graph.upstream_name, graph.upstream, note)
    grads = gradients(run)
    for name in wrt or list(graph.inputs):
        use = data_use(graph, graph.inputs[name]) if name in graph.inputs else ""
        if use:  # read as data: no gradient, rather than 0
            w.add(f"∂{out}/∂{name} = —  ({w.tr(f'data.{use}', name=name)})", hang="    ")
            continue
        w.pair(f"∂{out}/∂{name}", grads[name])
    return w.lines


def _heading(w: Writer, headings: Headings, scope: Scope | None) -> None:
    """A heading line before the next gate, when it was made in another scope."""
    if headings.change(scope):
        text = w.tr("steps.top") if scope is None else scope.heading()
        w.add(w.tr("steps.heading", heading=text))
        w.add()


def _call(w: Writer, graph: Graph, step: GroupStep) -> None:
    """A call collapsed by --depth, narrated as one gate: its results' upstream gradients,
    and what it sends back to each input."""
    tr, out = w.tr, graph.symbol
    group = step.group
    within = group.scope
    w.add(tr("steps.node", id=group.span, label=group.name, op="call"))
    w.add(tr("steps.gate.call"), INDENT, INDENT + "  ")
    for result in step.results:
        if result.upstream is None:
            continue
        if result.node is graph.output:
            w.say("steps.upstream.start", out=out)
            continue
        ref = scoped_ref(graph, result.node, atomic=True, within=within)
        w.say("steps.upstream", out=out, ref=ref, value=Shown(result.upstream))
    for inp, sent in step.edges:
        if sent is None:
            continue
        w.say("steps.edge.call", to=_named(graph, inp, within), downstream=Shown(sent))
    w.add()


def _named(graph: Graph, node: Node, within: Scope | None) -> str:
    """An input as a sentence names it: its name, and where it was made when that is another
    call or iteration than the gate's (h (step, t = 1)); the formulas then say just h."""
    if node.name and node.scope is not None and node.scope is not within:
        return f"{node.name} ({node.scope.heading()})"
    return graph.ref(node)


def _edge(w: Writer, run: Run, step: Step, edge: Edge) -> None:
    """What the gate sends back to one input: local gradient, downstream gradient, and for
    an input a broadcast stretched (b in x @ W + b), the sum over the axes it was copied along
    (the lesson of cs231n's db)."""
    graph, node = run.graph, step.node
    fields: dict[str, object] = dict(
        ref=graph.ref(edge.input, atomic=True),
        to=_named(graph, edge.input, node.scope),
        formula=local_formula(graph, node, edge.index, run.values),
        downstream=Shown(edge.downstream),
    )
    axes = broadcast_axes(run, node, edge)
    if axes is not None:
        along = _along(w.tr, axes)
        w.say("steps.edge.summed", **fields, along=along)
        value, result = run.values[edge.input.id], run.values[node.id]
        key = "steps.broadcast" if fields["formula"] == "1" else "steps.broadcast.product"
        w.say(key, to=fields["to"], along=along, shape=shape_text(value), result=shape_text(result))
        return
    if edge.local is None:  # a VJP in g (g @ Wᵀ), or a local gradient in words (1 for every element)
        w.say(
            "steps.edge.jacobian" if re.search(r"\bg\b", str(fields["formula"])) else "steps.edge.words",
            **fields,
        )
        return
    local = uniform(edge.local)
    inline = w.inline(step.upstream) is not None and w.inline(local) is not None
    fields["local"] = Shown(local)
    fields["upstream"] = Shown(step.upstream) if inline else w.tr("steps.word.upstream")
    fields["factor"] = Shown(local) if inline or isinstance(local, float) else w.tr("steps.word.local")
    same = fields["formula"] == one_line(local, w.precision)
    w.say("steps.edge.same" if same else "steps.edge", **fields)


def uniform(local: Value) -> Value:
    """A local gradient that is the same at every element, as that number; else unchanged."""
    if not isinstance(local, float) and local.size and bool(np.all(local == local.flat[0])):
        return float(local.flat[0])
    return local


def broadcast_axes(run: Run, node: Node, edge: Edge) -> tuple[int, ...] | None:
    """The axes of the gate's result that input was broadcast along, or None when it was not."""
    if not node.op.broadcast:
        return None
    shape, result = shape_of(run.values[edge.input.id]), shape_of(run.values[node.id])
    if shape == result:
        return None
    extra = len(result) - len(shape)
    stretched = [extra + i for i, n in enumerate(shape) if n == 1 and result[extra + i] != 1]
    return (*range(extra), *stretched)


def _along(tr: Translator, axes: tuple[int, ...]) -> str:
    if len(axes) == 1:
        return tr("steps.axis", axis=axes[0])
    return tr("steps.axes", axes=tr("steps.axes.join").join(map(str, axes)))


def _upstream(w: Writer, graph: Graph, step: Step) -> None:
    node = step.node
    out = graph.symbol
    ref = graph.ref(node, atomic=True)
    if node is graph.output:
        if graph.upstream is not None:
            value = Shown(step.upstream)
            w.say("steps.upstream.given", out=out, ref=ref, value=value, name=graph.upstream_name)
        else:
            w.say("steps.upstream.start", out=out)
        return
    if len(step.branches) > 1:
        w.say(
            "steps.upstream.fanout",
            out=out,
            ref=ref,
            value=Shown(step.upstream),
            count=len(step.branches),
            branches=_branches(w, graph, step),
        )
        return
    w.say("steps.upstream", out=out, ref=ref, value=Shown(step.upstream))


def _branches(w: Writer, graph: Graph, step: Step, most: int = 6) -> str:
    """The branches a fan-out adds: their numbers, or for arrays the gates they come from."""
    if any(w.inline(g) is None for _, g in step.branches):
        sources = ", ".join(f"#{i}" for i, _ in step.branches[:most])
        if len(step.branches) > most:
            sources += ", …"
        return w.tr("steps.branches", count=len(step.branches), sources=sources)
    parts = [w.inline(g) or "" for _, g in step.branches]
    if len(parts) > most:
        return " + ".join(parts[:most]) + " + " + w.tr("steps.branches.more", count=len(parts))
    return " + ".join(parts)
