"""The report of `bpcli check`: a table for people, JSON for graders' scripts."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.table import Table
from rich.text import Text

from bpcli.cells import cells
from bpcli.core.graph import Graph, Node
from bpcli.core.where import scoped_label, scoped_ref
from bpcli.grading.answers import np_shape
from bpcli.grading.diagnose import Branch, Finding, Pointer, Verdict
from bpcli.present.explain import local_formula
from bpcli.present.numbers import to_json
from bpcli.present.numbers import value as fmt
from bpcli.texts import Translator
from bpcli.values import Value

if TYPE_CHECKING:
    from rich.console import RenderableType


def means(verdict: Verdict, graph: Graph | None = None) -> str:
    name = verdict.expectation.name
    return f"∂{_out(graph)}/∂{name}" if verdict.expectation.gradient else name


def _out(graph: Graph | None) -> str:
    """What the output is called in ∂L/∂W: its name, or f."""
    return (graph.output.name if graph is not None else None) or "f"


def first_wrong(verdicts: list[Verdict]) -> Verdict | None:
    return next((v for v in verdicts if v.finding and v.finding.first), None)


def describe(finding: Finding, graph: Graph, precision: int, tr: Translator) -> str:
    """A finding in words: what the mistake is, and where the derivation broke."""
    out = _out(graph)
    text = _what(finding, graph, precision, tr, out)
    if finding.follows:
        return tr("check.follows", follows=finding.follows, cause=text)
    return tr("check.sentence-join").join([text, *_where(finding, graph, precision, tr, out)])


def _what(finding: Finding, graph: Graph, precision: int, tr: Translator, out: str) -> str:
    """The mistake itself."""

    def num(value: Value | None) -> str:
        return fmt(value, precision)

    name, gate, kind = finding.name, finding.node, finding.kind
    shapes = {"shape": _shape(finding.shape), "truth_shape": _shape(finding.truth_shape)}
    common = {"name": name, "out": out, "truth": num(finding.truth), "answer": finding.answer, **shapes}
    if finding.carried_from is not None:
        source = _ref(graph, finding.carried_from)
        array = "[" in finding.carried_answer or "@" in finding.carried_answer  # not echoed
        if kind == "forward" and (array or not isinstance(finding.truth, float)):
            return tr("check.forward-gradient-array", source=source, out=out)
        if kind == "forward":
            return tr("check.forward-gradient", source=source, **{**common, "answer": finding.carried_answer})
        if array:
            return tr("check.carried-array", upstream=source, out=out)
        return tr("check.carried", upstream=source, out=out, answer=finding.carried_answer)
    if not finding.gradient:
        if kind == "shape":
            return tr("check.shape-value", **common) + _numbers_note(finding, tr)
        if kind == "transpose":
            return tr("check.transpose-value", **common)
        key = "check.forward" if isinstance(finding.truth, float) else "check.forward-array"
        return tr(key, label=scoped_label(graph, gate), **common)
    at = _ref(graph, finding.at) if finding.at is not None else None
    if kind == "shape":
        key = "check.shape-scalar" if finding.shape == () else "check.shape"
        return tr(key, **common) + _numbers_note(finding, tr)
    if kind == "transpose":
        return tr(
            "check.transpose-shape" if finding.shape != finding.truth_shape else "check.transpose", **common
        )
    if kind == "missing-sum":
        axes = ", ".join(str(a) for a in finding.axes)
        keep = len(finding.truth_shape) == len(finding.shape) and finding.axes
        return tr("check.missing-sum", axes=axes, keepdims=tr("check.keepdims") if keep else "", **common)
    if kind == "unknown":
        return tr("check.unknown" if isinstance(finding.truth, float) else "check.unknown-array", **common)
    if kind == "rounding":
        if finding.rounded is not None:
            return tr(
                "check.rounded",
                upstream=finding.rounded.upstream,
                local=num(finding.rounded.local),
                answer=finding.answer,
            )
        return tr("check.rounded-given", answer=finding.answer, above=_listed(finding.above, tr))
    through = scoped_label(graph, gate)
    if kind == "sign":
        if finding.branch:
            return tr("check.sign-branch", gate=through, at=at or name, out=out)
        if at is not None:
            return tr("check.sign-at", at=at, out=out)
        return tr("check.sign" if isinstance(finding.truth, float) else "check.sign-array", **common)
    if kind == "scale":
        factor = _factor(finding.factor)
        why = _why(finding.hint, tr)
        if finding.branch:
            return tr("check.scale-branch", gate=through, at=at or name, out=out, factor=factor, why=why)
        if at is not None:
            return tr("check.scale-at", at=at, out=out, factor=factor, why=why)
        return tr("check.scale", factor=factor, why=why, **common)
    if kind == "partial-fanout" and not finding.branches:  # inside a softmax: the pick's branch
        return tr("check.partial-softmax", gate=scoped_label(graph, gate), out=out)
    if kind == "partial-fanout":
        where = at or _ref(graph, graph.inputs.get(name) or graph.names[name])
        branches = list(finding.branches)
        labels = [scoped_label(graph, b.gate) for b in branches]
        twins = len(set(labels)) < len(labels)
        return tr(
            "check.partial-fanout",
            at=where,
            out=out,
            count=len(branches),
            branches=" + ".join(_branch(graph, b, num, tr, twins) for b in branches)
            + f" = {num(finding.truth)}"
            if isinstance(finding.truth, float)
            else _listed([_branch(graph, b, num, tr, twins) for b in branches], tr),
            left_out=_listed([_branch(graph, b, num, tr, twins) for b in branches if b.left_out], tr),
        )
    fields = {
        **common,
        "gate": scoped_label(graph, gate),
        "gate_ref": scoped_ref(graph, gate, atomic=True),
        "op": gate.op.name,
        "upstream": num(finding.upstream) if finding.upstream is not None else "1",
        "input": graph.ref(gate.inputs[finding.index]) if gate.inputs else name,
        "formula": local_formula(graph, gate, finding.index) if gate.inputs else "",
        "winner": scoped_ref(graph, finding.winner) if finding.winner is not None else "",
    }
    if kind == "missing-upstream" and (finding.upstream is None or not isinstance(finding.upstream, float)):
        return tr("check.missing-upstream-array", **fields)
    if kind == "wrong-route" and finding.winner is None:
        return tr("check.wrong-route-array", **fields)
    return tr(f"check.{kind}", **fields)


def _where(finding: Finding, graph: Graph, precision: int, tr: Translator, out: str) -> list[str]:
    """Where the derivation broke: the gate to re-derive, what the student did not give on
    the way there, and what else the same mistake explains."""
    sentences = []
    pointer = finding.pointer
    located = pointer is not None or finding.kind == "unknown" or finding.at is not None
    if finding.through and located and (finding.first or finding.at is not None):
        through = _listed(finding.through, tr)
        if finding.at is not None:
            sentences.append(tr("check.between-at", through=through))
        elif finding.above:
            sentences.append(tr("check.between", above=_listed(finding.above, tr), through=through))
        else:  # (its own sentence: "the output" is a word, not a name, in every language)
            sentences.append(tr("check.between-output", through=through))
    if pointer is not None:
        rule = _rule(graph, pointer, precision, tr, out)
        gate = scoped_label(graph, pointer.gate)
        direct = finding.at is None and not finding.through
        key = "check.first" if finding.first and direct else "check.locate"
        sentences.append(tr(key, gate=gate, rule=rule))
    if finding.common:
        sentences.append(tr("check.common", common=_listed(finding.common, tr)))
    if finding.also:
        sentences.append(tr("check.also", kinds=_listed(finding.also, tr)))
    return sentences


def _rule(graph: Graph, pointer: Pointer, precision: int, tr: Translator, out: str) -> str:
    """The local gradient to re-derive: its number on scalars; on arrays, the rule that gives
    the downstream gradient from the upstream g, with the shapes involved."""
    gate, i = pointer.gate, pointer.index
    uses = [k for k, x in enumerate(gate.inputs) if x is gate.inputs[i]]
    formula = " + ".join(local_formula(graph, gate, k) for k in uses)
    inp = graph.ref(gate.inputs[i], atomic=True)
    if pointer.local is not None:
        local = fmt(pointer.local, precision)
        if formula == local:  # a constant local gradient (an add gate's 1): said once
            return tr("check.rule-number", input=inp, local=local)
        return tr("check.rule-scalar", input=inp, formula=formula, local=local)
    g_shape, in_shape = pointer.shapes
    g_name = f"∂{out}/∂{_ref(graph, gate)}"
    if gate is graph.output and graph.upstream is not None:
        g_name = graph.upstream_name  # the upstream gradient given (--upstream dout=…)
    fields = {"input": inp, "formula": formula, "out": out, "g_name": g_name}
    # a rule in g itself (g @ xᵀ, g transposed), or a local derivative that multiplies g
    key = "check.rule-array" if re.search(r"\bg\b", formula) else "check.rule-elementwise"
    text = tr(key, g_shape=_shape(g_shape), **fields)
    if key == "check.rule-array":
        others = [
            f"{graph.ref(x, atomic=True)} {_shape(shape)}"
            for k, (x, shape) in enumerate(zip(gate.inputs, pointer.operands, strict=False))
            if k != i
        ]
        if others:
            text += tr("check.rule-operands", operands=_listed(others, tr))
    if gate.op.broadcast and g_shape != in_shape:
        text += tr("check.rule-summed", shape=_shape(in_shape))
    return text


def _ref(graph: Graph, node: Node) -> str:
    """A node as the d of a ∂: its name, with where it was made (`h (step, t = 19)`), or its
    label in parentheses where it has none (∂L/∂(X @ W))."""
    if node.name and node.scope is not None:
        return f"{node.name} ({node.scope.heading()})"
    return graph.ref(node, atomic=True)


def _numbers_note(finding: Finding, tr: Translator) -> str:
    if not finding.same_numbers:
        return ""
    if finding.shape == ():
        return tr("check.uniform", answer=finding.answer)
    return tr("check.same-numbers")


def _branch(
    graph: Graph, branch: Branch, num: Callable[[Value | None], str], tr: Translator, twins: bool = False
) -> str:
    """A branch of a fan-out: its number and its gate on scalars (3 (x*y)), its gate on arrays."""
    label = scoped_label(graph, branch.gate)
    if twins:
        label += f" (#{branch.gate.id})"  # two gates that read the same: exp(s) twice
    value = branch.value
    if value is None or not isinstance(value, float):
        return tr("check.branch", gate=label)
    return f"{num(value)} ({label})"


def _listed(items: Sequence[str], tr: Translator) -> str:
    items = list(items)
    if len(items) > 6:
        items = [*items[:5], "…"]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + tr("check.and") + items[-1]


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(n) for n in shape) if len(shape) >= 2 else str(shape)


def _factor(factor: float | None) -> str:
    if factor is None:
        return "?"
    if factor < 1 and abs(1 / factor - round(1 / factor)) < 1e-9:
        return f"1/{round(1 / factor)}"
    return f"{factor:g}"


def _why(hint: str, tr: Translator) -> str:
    if hint == "square":
        return tr("check.why-square")
    if hint.startswith("mean "):
        return tr("check.why-mean", n=hint.split()[1])
    return ""


def note(verdict: Verdict, graph: Graph, precision: int, tr: Translator) -> str | None:
    """Why a right answer that differs from bpcli's number is right (a one-sided derivative)."""
    if not verdict.one_sided:
        return None
    kinks = ", ".join(f"{scoped_label(graph, graph.nodes[k])} (node #{k})" for k in verdict.one_sided)
    return tr(
        "check.one-sided", name=verdict.expectation.name, kinks=kinks, truth=fmt(verdict.truth, precision)
    )


DIAGNOSIS_MIN = 16  # the narrowest diagnosis column worth a table: below, one block an answer


def check_report(
    verdicts: list[Verdict], graph: Graph, precision: int, tr: Translator, width: int = 80
) -> list[RenderableType]:
    """The table of answers, then the summary. With arrays, the diagnoses go below the table,
    one paragraph each, and the table has no `means` column, so that the arrays keep their
    columns at 80 columns. Where the table's numbers could not stay whole in `width` columns,
    one block an answer instead."""
    below = any(not isinstance(v.truth, float) for v in verdicts)
    if not below and _table_width(verdicts, graph, precision, tr) > width:
        return [*_blocks(verdicts, graph, precision, tr), _summary(verdicts, tr)]
    # with arrays, rules under the header only: the columns the arrays need to keep their
    # rows whole at 80 columns
    table = (
        Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        if below
        else Table(header_style="bold")
    )
    # (every column folds what does not fit, never cropping it)
    table.add_column(tr("check.header.answer"), overflow="fold")
    if not below:  # (with arrays, room for them: dW is ∂L/∂W, and JSON says so)
        table.add_column(tr("check.header.means"), overflow="fold")
    table.add_column(tr("check.header.yours"), justify="right", overflow="fold")
    table.add_column(tr("check.header.truth"), justify="right", style="green", overflow="fold")
    if not below:  # (with arrays, the mark goes before the answer's name)
        table.add_column("")
    if not below:
        table.add_column(tr("check.header.diagnosis"), max_width=72, overflow="fold")
    paragraphs = []
    for v in verdicts:
        mark = Text("✓", style="green") if v.ok else Text("✗", style="bold red")
        diagnosis = diagnosis_text(v, graph, precision, tr)
        mine = v.expectation.value
        yours = v.expectation.text if isinstance(mine, float) else fmt(mine, precision)
        row: list[str | Text] = [v.expectation.written, yours, fmt(v.truth, precision), mark]
        if not below:
            row.insert(1, means(v, graph))
        else:
            row = [Text.assemble(mark, " " + v.expectation.written), yours, fmt(v.truth, precision)]
        table.add_row(*row, *([] if below else [diagnosis]))
        if below and diagnosis:
            paragraph = Text()
            paragraph.append("✓ " if v.ok else "✗ ", style="green" if v.ok else "bold red")
            paragraph.append(v.expectation.written, style="bold")
            paragraph.append(": " + diagnosis)
            paragraphs.append(paragraph)
    return [table, *paragraphs, _summary(verdicts, tr)]


def _summary(verdicts: list[Verdict], tr: Translator) -> Text:
    correct = sum(v.ok for v in verdicts)
    lines = [tr("check.summary", correct=correct, total=len(verdicts))]
    first = first_wrong(verdicts)
    if first is not None:
        lines.append(tr("check.first-wrong", written=first.expectation.written))
    return Text("\n".join(lines))


def _table_width(verdicts: list[Verdict], graph: Graph, precision: int, tr: Translator) -> int:
    """The columns the table of scalar answers takes with every number, name and header word
    whole, and the diagnosis at DIAGNOSIS_MIN."""
    columns = [
        [tr("check.header.answer"), *(v.expectation.written for v in verdicts)],
        [tr("check.header.means"), *(means(v, graph) for v in verdicts)],
        [tr("check.header.yours"), *(v.expectation.text for v in verdicts)],
        [tr("check.header.truth"), *(fmt(v.truth, precision) for v in verdicts)],
        ["✓"],
    ]
    widest = [max(cells(word) for text in column for word in text.split() or [""]) for column in columns]
    return sum(widest) + DIAGNOSIS_MIN + 3 * (len(widest) + 1) + 1


def _blocks(verdicts: list[Verdict], graph: Graph, precision: int, tr: Translator) -> list[Text]:
    """The answers for a narrow screen: a block each, its mark, name, meaning, the answer and
    the truth, then its diagnosis, every number whole (Rich folds between words)."""
    blocks = []
    for v in verdicts:
        block = Text()
        block.append("✓ " if v.ok else "✗ ", style="green" if v.ok else "bold red")
        block.append(v.expectation.written, style="bold")
        block.append(f" ({means(v, graph)})\n{tr('check.header.yours')} {v.expectation.text}, ")
        block.append(f"{tr('check.header.truth')} {fmt(v.truth, precision)}", style="green")
        diagnosis = diagnosis_text(v, graph, precision, tr)
        if diagnosis:
            block.append("\n" + diagnosis)
        block.append("\n")  # (a blank line after each)
        blocks.append(block)
    return blocks


def diagnosis_text(v: Verdict, graph: Graph, precision: int, tr: Translator) -> str:
    """What the report says of an answer: its diagnosis, or why a different number is right."""
    if not v.finding:
        return note(v, graph, precision, tr) or ""
    diagnosis = describe(v.finding, graph, precision, tr)
    if v.worst is None or v.finding.kind not in ("unknown", "repeated-index", "forward", "rounding"):
        return diagnosis  # (a named mistake explains every element: no worst one to point at)
    index = _index(v.worst, np_shape(v.truth))
    mine = v.expectation.value
    element = mine if isinstance(mine, float) else mine.flat[v.worst]
    truth = v.truth if isinstance(v.truth, float) else v.truth.flat[v.worst]
    worst = tr(
        "check.element",
        index=index,
        answer=fmt(float(element), precision),
        truth=fmt(float(truth), precision),
    )
    return worst + tr("check.sentence-end") + diagnosis


def diagnosis_data(finding: Finding, graph: Graph, precision: int, tr: Translator) -> dict[str, object]:
    """A finding's fields as plain data (schema in the README), with its message."""
    pointer = finding.pointer

    def ref(node: Node | None) -> str | None:
        return None if node is None else scoped_ref(graph, node)

    local: object = None
    if pointer is not None:
        local = (
            to_json(pointer.local)
            if pointer.local is not None
            else _rule(graph, pointer, precision, tr, _out(graph))
        )
    return {
        "kind": finding.kind,
        "node": finding.node.id,
        "first": finding.first,
        "message": describe(finding, graph, precision, tr),
        "gate": scoped_label(graph, finding.node),
        "input": finding.index,
        "at": ref(finding.at),
        "shape": list(finding.shape),
        "truth_shape": list(finding.truth_shape),
        "upstream": None if finding.upstream is None else to_json(finding.upstream),
        "local": local,
        "factor": finding.factor,
        "axes": list(finding.axes),
        "branches": [
            {"gate": scoped_label(graph, b.gate), "value": to_json(b.value), "left_out": b.left_out}
            for b in finding.branches
        ],
        "carried_from": ref(finding.carried_from),
        "follows": finding.follows or None,
        "common": list(finding.common),
        "through": list(finding.through),
        "above": list(finding.above),
        "also": list(finding.also),
    }


def _index(flat: int, shape: tuple[int, ...]) -> str:
    import numpy as np

    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]"


def check_document(
    verdicts: list[Verdict], graph: Graph, warnings: Sequence[str], precision: int, tr: Translator
) -> dict[str, object]:
    """The report as plain data (schema in the README)."""
    return {
        "correct": sum(v.ok for v in verdicts),
        "total": len(verdicts),
        "results": [
            {
                "name": v.expectation.written,
                "means": means(v, graph),
                "answer": to_json(v.expectation.value),
                "truth": to_json(v.truth),
                "ok": v.ok,
                "note": note(v, graph, precision, tr),
                "diagnosis": None if v.finding is None else diagnosis_data(v.finding, graph, precision, tr),
            }
            for v in verdicts
        ],
        "warnings": list(warnings),
    }
