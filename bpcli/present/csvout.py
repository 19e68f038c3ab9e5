"""`--format csv`: the node table for spreadsheets, one row per node and input."""

from __future__ import annotations

import csv
import io
import json

from bpcli.core.run import Run
from bpcli.core.where import scoped_label
from bpcli.present.explain import derivation
from bpcli.present.numbers import to_json
from bpcli.values import Value

COLUMNS = ("id", "label", "op", "name", "value", "upstream", "input", "local", "downstream")


def _cell(value: Value | None) -> str:
    plain = to_json(value)
    if plain is None:
        return ""
    return repr(plain) if isinstance(plain, float) else json.dumps(plain)


def csv_text(run: Run) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for step in derivation(run):
        node = step.node
        head = [
            node.id,
            scoped_label(run.graph, node),
            node.op.name,
            node.name or "",
            _cell(step.value),
            _cell(step.upstream),
        ]
        if not step.edges:
            writer.writerow([*head, "", "", ""])
        for edge in step.edges:
            writer.writerow([*head, edge.input.id, _cell(edge.local), _cell(edge.downstream)])
    return buffer.getvalue()
