"""The report of `bpcli check`: a table for people, JSON for graders' scripts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from bpcli.check.answers import np_shape
from bpcli.check.diagnose import Verdict
from bpcli.present.numbers import to_json
from bpcli.present.numbers import value as fmt
from bpcli.texts import Translator


def means(verdict: Verdict) -> str:
    name = verdict.expectation.name
    return f"∂f/∂{name}" if verdict.expectation.gradient else name


def first_wrong(verdicts: list[Verdict]) -> Verdict | None:
    return next((v for v in verdicts if v.diagnosis and v.diagnosis.first), None)


def check_report(verdicts: list[Verdict], precision: int, tr: Translator) -> list[Any]:
    table = Table(header_style="bold")
    table.add_column(tr("check.header.answer"))
    table.add_column(tr("check.header.means"))
    table.add_column(tr("check.header.yours"), justify="right")
    table.add_column(tr("check.header.truth"), justify="right", style="green")
    table.add_column("")
    table.add_column(tr("check.header.diagnosis"), max_width=72, overflow="fold")
    for v in verdicts:
        mark = Text("✓", style="green") if v.ok else Text("✗", style="bold red")
        diagnosis = v.note or ""
        if v.diagnosis:
            diagnosis = v.diagnosis.message
            if v.worst is not None:
                index = _index(v.worst, np_shape(v.truth))
                mine = v.expectation.value
                element = mine if type(mine) is float else mine.flat[v.worst]
                diagnosis = (
                    tr(
                        "check.element",
                        index=index,
                        answer=fmt(float(element), precision),
                        truth=fmt(float(v.truth.flat[v.worst]), precision),
                    )
                    + ". "
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


def check_document(verdicts: list[Verdict], warnings: Sequence[str]) -> dict[str, Any]:
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
                "note": v.note,
                "diagnosis": None
                if v.diagnosis is None
                else {
                    "kind": v.diagnosis.kind,
                    "node": v.diagnosis.node.id,
                    "message": v.diagnosis.message,
                    "first": v.diagnosis.first,
                },
            }
            for v in verdicts
        ],
        "warnings": list(warnings),
    }
