"""The report of `bpcli check`: a table for people, JSON for graders' scripts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from bpcli.check.answers import np_shape
from bpcli.check.diagnose import Finding, Verdict
from bpcli.core.graph import Graph
from bpcli.core.where import scoped_label, scoped_ref
from bpcli.present.explain import local_formula
from bpcli.present.numbers import to_json
from bpcli.present.numbers import value as fmt
from bpcli.texts import Translator
from bpcli.values import Value

if TYPE_CHECKING:
    from rich.console import RenderableType


def means(verdict: Verdict) -> str:
    name = verdict.expectation.name
    return f"∂f/∂{name}" if verdict.expectation.gradient else name


def first_wrong(verdicts: list[Verdict]) -> Verdict | None:
    return next((v for v in verdicts if v.finding and v.finding.first), None)


def describe(finding: Finding, graph: Graph, precision: int, tr: Translator) -> str:
    """A finding in words: what the mistake is, and where the derivation broke."""

    def num(value: Value | None) -> str:
        return fmt(value, precision)

    name, gate = finding.name, finding.node
    shapes = {"shape": str(finding.shape), "truth_shape": str(finding.truth_shape)}
    if finding.carried_from is not None:
        text = tr(
            "check.carried",
            upstream=scoped_ref(graph, finding.carried_from, atomic=True),
            answer=finding.carried_answer,
        )
    elif not finding.gradient:
        if finding.kind == "shape":
            text = tr("check.shape-value", name=name, **shapes)
        else:
            text = tr("check.forward", name=name, truth=num(finding.truth), label=scoped_label(graph, gate))
    elif finding.kind == "shape":
        text = tr("check.shape", name=name, **shapes)
    elif finding.kind == "unknown":
        text = tr("check.unknown", name=name, truth=num(finding.truth))
        if finding.rounded is not None:
            text += " " + tr(
                "check.rounded",
                upstream=finding.rounded.upstream,
                local=num(finding.rounded.local),
                answer=finding.answer,
            )
    else:
        key = "check.forward-gradient" if finding.kind == "forward" else f"check.{finding.kind}"
        text = tr(
            key,
            name=name,
            truth=num(finding.truth),
            answer=finding.answer,
            gate=scoped_label(graph, gate),
            gate_ref=scoped_ref(graph, gate, atomic=True),
            op=gate.op.name,
            count=finding.uses,
            upstream=num(finding.upstream) if finding.upstream is not None else "1",
            formula=local_formula(graph, gate, finding.index) if gate.inputs else "",
            branches=" + ".join(num(b) for b in finding.branches),
            winner=scoped_ref(graph, finding.winner) if finding.winner is not None else "",
            **shapes,
        )
    pointer = finding.pointer
    if pointer is not None:
        text += " " + tr(
            "check.first",
            gate=scoped_label(graph, pointer.gate),
            name=name,
            formula=local_formula(graph, pointer.gate, pointer.index),
            local=num(pointer.local) if pointer.local is not None else "?",
        )
    return text


def note(verdict: Verdict, graph: Graph, precision: int, tr: Translator) -> str | None:
    """Why a right answer that differs from bpcli's number is right (a one-sided derivative)."""
    if not verdict.one_sided:
        return None
    kinks = ", ".join(f"{scoped_label(graph, graph.nodes[k])} (node #{k})" for k in verdict.one_sided)
    return tr(
        "check.one-sided", name=verdict.expectation.name, kinks=kinks, truth=fmt(verdict.truth, precision)
    )


def check_report(
    verdicts: list[Verdict], graph: Graph, precision: int, tr: Translator
) -> list[RenderableType]:
    table = Table(header_style="bold")
    table.add_column(tr("check.header.answer"))
    table.add_column(tr("check.header.means"))
    table.add_column(tr("check.header.yours"), justify="right")
    table.add_column(tr("check.header.truth"), justify="right", style="green")
    table.add_column("")
    table.add_column(tr("check.header.diagnosis"), max_width=72, overflow="fold")
    for v in verdicts:
        mark = Text("✓", style="green") if v.ok else Text("✗", style="bold red")
        diagnosis = note(v, graph, precision, tr) or ""
        if v.finding:
            diagnosis = describe(v.finding, graph, precision, tr)
            if v.worst is not None:
                index = _index(v.worst, np_shape(v.truth))
                mine = v.expectation.value
                element = mine if isinstance(mine, float) else mine.flat[v.worst]
                truth = v.truth if isinstance(v.truth, float) else v.truth.flat[v.worst]
                diagnosis = (
                    tr(
                        "check.element",
                        index=index,
                        answer=fmt(float(element), precision),
                        truth=fmt(float(truth), precision),
                    )
                    + tr("check.sentence-end")
                    + diagnosis
                )
        table.add_row(
            v.expectation.written, means(v), v.expectation.text, fmt(v.truth, precision), mark, diagnosis
        )
    correct = sum(v.ok for v in verdicts)
    lines = [tr("check.summary", correct=correct, total=len(verdicts))]
    first = first_wrong(verdicts)
    if first is not None:
        lines.append(tr("check.first-wrong", written=first.expectation.written))
    return [table, Text("\n".join(lines))]


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
                "means": means(v),
                "answer": to_json(v.expectation.value),
                "truth": to_json(v.truth),
                "ok": v.ok,
                "note": note(v, graph, precision, tr),
                "diagnosis": None
                if v.finding is None
                else {
                    "kind": v.finding.kind,
                    "node": v.finding.node.id,
                    "message": describe(v.finding, graph, precision, tr),
                    "first": v.finding.first,
                },
            }
            for v in verdicts
        ],
        "warnings": list(warnings),
    }
