"""What both pictures of the circuit hang on their elements (Graphviz's and the report's own
layout): each node's and wire's data attributes, its tooltip text, and a check's marks.

A node's element has `data-node="ID"`; each piece of a wire from node S into input I of
node C has `data-edge="S-C"`, `data-from="S"`, `data-to="C"` and `data-index="I"` (the wire
from the output into the end node: `data-edge="S-out"`, no data-to); where S fans out, the
trunk before the branches has `data-from="S"` and `data-trunk`. A node or wire a check
answers has `data-answer="right"` or `"wrong"`, and the first wrong step `data-first-wrong`.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bpcli.core.graph import Node
from bpcli.core.ops import CONST, INPUT
from bpcli.core.run import Run
from bpcli.present.arrays import compact
from bpcli.present.explain import Step, derivation, local_formula
from bpcli.texts import Translator
from bpcli.values import Value

# A label longer than this is cut (…) in a tooltip; the node table has it whole.
LONG_LABEL = 160
# The columns a value gets in a tooltip: an array longer than that is summarised.
ROOM = 72


class Answer:
    """One checked answer, as the picture marks it."""

    __slots__ = ("first", "gradient", "node", "ok", "text", "yours")

    def __init__(self, node: int, gradient: bool, ok: bool, first: bool, text: str, yours: str = "") -> None:
        self.node = node
        self.gradient = gradient  # an answer for ∂f/∂node (on the node's wires), else its value
        self.ok = ok
        self.first = first
        self.text = text  # ✓ or ✗, the answer, the truth and the diagnosis, for the tooltip
        self.yours = yours  # the answer as written, when it is short enough to stand beside ✗


class Marks:
    """The tooltips of every node and wire of one run, and a check's answers by node."""

    def __init__(self, run: Run, precision: int, tr: Translator, answers: Sequence[Answer] = ()) -> None:
        self.run = run
        self.graph = run.graph
        self.precision = precision
        self.tr = tr
        self.steps: list[Step] = derivation(run)
        self.answers: dict[int, str] = {}  # node id -> right or wrong (its value or gradient)
        self.wire_answers: dict[int, str] = {}  # node id -> right or wrong (its gradient)
        self.first_wrong: tuple[int, bool] | None = None  # (node id, a gradient answer)
        self.notes: dict[int, list[str]] = {}  # node id -> what its answers say (the node's title)
        self.wire_notes: dict[int, list[str]] = {}  # node id -> what its gradient answers say
        self.wrong_answers: dict[int, str] = {}  # node id -> its wrong answer, shown beside ✗
        # how many wires leave each node (an input used twice by a gate: twice; the output: one
        # more, to its name); where more than one, a gradient answer marks the trunk only
        self.fans = [0] * len(self.graph.nodes)
        for node in self.graph.nodes:
            for inp in node.inputs:
                self.fans[inp.id] += 1
        self.fans[self.graph.output.id] += 1
        for a in answers:
            verdict = "right" if a.ok else "wrong"
            if self.answers.get(a.node) != "wrong":
                self.answers[a.node] = verdict
            if a.gradient and self.wire_answers.get(a.node) != "wrong":
                self.wire_answers[a.node] = verdict
            if a.first:
                self.first_wrong = (a.node, a.gradient)
            if not a.ok and a.yours and a.node not in self.wrong_answers:
                self.wrong_answers[a.node] = a.yours
            self.notes.setdefault(a.node, []).append(a.text)
            if a.gradient:
                self.wire_notes.setdefault(a.node, []).append(a.text)

    def value(self, v: Value | None) -> str:
        return compact(v, self.precision, ROOM)

    def node_tip(self, node: Node) -> str:
        """#7 w0*x0 (mul), its value, its gradient, and each input's local gradient."""
        graph, step, out = self.graph, self.steps[node.id], self.graph.symbol
        lines = [f"#{node.id} {_cut(graph.label(node))} ({node.op.name})"]
        lines.append(f"{self.tr('html.value')}: {self.value(step.value)}")
        if step.upstream is not None:
            lines.append(f"∂{out}/∂{_cut(graph.ref(node, atomic=True))} = {self.value(step.upstream)}")
        for edge in step.edges:
            if edge.downstream is None and edge.local is None:
                continue
            formula = local_formula(graph, node, edge.index, self.run.values)
            ref = _cut(graph.ref(edge.input, atomic=True))
            local = f" = {self.value(edge.local)}" if edge.local is not None and formula != "1" else ""
            lines.append(f"{self.tr('html.local')} ∂/∂{ref} = {formula}{local}")
        lines += self.notes.get(node.id, [])
        return "\n".join(lines)

    def wire_tip(self, source: int, consumer: int | None, index: int) -> str:
        """A wire: from where to where, its value, the gradient it carries back, and the
        local gradient of the gate it enters with respect to it."""
        graph = self.graph
        node = graph.nodes[source]
        value = self.steps[source].value
        if index < 0:  # the trunk of a fan-out: the sum of its branches
            count = len(self.steps[source].branches)
            lines = [f"{_cut(graph.ref(node))} → {count} {self.tr('html.gates')}"]
            gradient = self.steps[source].upstream
        elif consumer is None:  # into the end node
            lines = [f"{_cut(graph.ref(node))} → {self.tr('html.the-output')}"]
            gradient = self.run.grads[source]
        else:
            gate = graph.nodes[consumer]
            edge = self.steps[consumer].edges[index]
            lines = [f"{_cut(graph.ref(node))} → #{consumer} {_cut(graph.label(gate))}"]
            gradient = edge.downstream
        lines.append(f"{self.tr('html.value')}: {self.value(value)}")
        if gradient is not None:
            lines.append(f"{self.tr('html.gradient')}: {self.value(gradient)}")
        if consumer is not None and index >= 0:
            gate = graph.nodes[consumer]
            edge = self.steps[consumer].edges[index]
            if edge.downstream is not None or edge.local is not None:
                formula = local_formula(graph, gate, index, self.run.values)
                ref = _cut(graph.ref(node, atomic=True))
                local = f" = {self.value(edge.local)}" if edge.local is not None and formula != "1" else ""
                of = _cut(graph.ref(gate))
                of = of if gate.name else f"({of})"  # ∂h/∂x, ∂(x*y)/∂x: never `h = …` inside
                lines.append(f"{self.tr('html.local')} ∂{of}/∂{ref} = {formula}{local}")
        if index < 0 or self.fans[source] <= 1:
            lines += self.wire_notes.get(source, [])
        return "\n".join(lines)


def node_attributes(marks: Marks, node: Node) -> tuple[str, str]:
    """A node element's attributes (class and data-*) and its title, both escaped."""
    kind = "input" if node.op is INPUT else "const" if node.op is CONST else "gate"
    classes = ["node", kind]
    if marks.run.grads[node.id] is None and node.inputs:
        classes.append("off")  # no gradient reaches it
    if node.id == marks.graph.output.id:
        classes.append("output")
    attributes = f'class="{" ".join(classes)}" data-node="{node.id}"'
    answer = marks.answers.get(node.id)
    if answer is not None:
        attributes += f' data-answer="{answer}"'
        if marks.first_wrong is not None and marks.first_wrong[0] == node.id:
            attributes += " data-first-wrong"
    return attributes, escape(marks.node_tip(node), quote=False)


def wire_attributes(marks: Marks, source: int, consumer: int | None, index: int) -> tuple[str, str]:
    """A piece of a wire's attributes and title: into input `index` of `consumer` (None: the
    end node), or with index -1 the trunk where `source` fans out."""
    if index < 0:
        attributes = f'class="wire trunk" data-from="{source}" data-trunk'
    elif consumer is None:
        attributes = f'class="wire" data-edge="{source}-out" data-from="{source}"'
    else:
        attributes = (
            f'class="wire" data-edge="{source}-{consumer}" data-from="{source}" data-to="{consumer}"'
            f' data-index="{index}"'
        )
    answer = marks.wire_answers.get(source) if index < 0 or marks.fans[source] <= 1 else None
    if answer is not None:
        attributes += f' data-answer="{answer}"'
        if marks.first_wrong == (source, True):  # (the answer's wire, or its trunk)
            attributes += " data-first-wrong"
    return attributes, escape(marks.wire_tip(source, consumer, index), quote=False)


def _cut(text: str) -> str:
    return text if len(text) <= LONG_LABEL else text[: LONG_LABEL - 1] + "…"


def badge(marks: Marks, node_id: int, verdict: str) -> str:
    """The mark beside a node a check answers, as SVG text content: ✓, or ✗ with the wrong
    answer as written."""
    if verdict == "right":
        return "✓"
    yours = marks.wrong_answers.get(node_id)
    return "✗" if not yours else f'✗<tspan class="yours" dx="3">{escape(yours)}</tspan>'
