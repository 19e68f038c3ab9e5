"""`--format json`: one object per problem, with the schema documented in the README."""

from __future__ import annotations

import json
from typing import Any

from bpcli.engine import gradients
from bpcli.explain import derivation, jacobian
from bpcli.graph import Graph
from bpcli.present.numbers import to_json


def grad_document(graph: Graph, nodes: bool = True, jacobians: bool = False,
                  wrt: list[str] | None = None) -> dict[str, Any]:
    """The result of one problem as plain data: output, value, grads, nodes, warnings."""
    grads = gradients(graph)
    doc: dict[str, Any] = {
        "output": graph.output_text,
        "value": to_json(graph.output.value),
        "grads": {name: to_json(g) for name, g in grads.items() if not wrt or name in wrt},
    }
    if nodes:
        labels = graph.labels()
        doc["nodes"] = [
            {
                "id": step.node.id,
                "op": step.node.op.name,
                "label": labels[step.node.id],
                "name": step.node.name,
                "inputs": [i.id for i in step.node.inputs],
                "value": to_json(step.node.value),
                "upstream": to_json(step.upstream),
                "local": [to_json(e.local) for e in step.edges],
                "downstream": [to_json(e.downstream) for e in step.edges],
            }
            for step in derivation(graph)
        ]
        if jacobians:
            for node, entry in zip(graph.nodes, doc["nodes"], strict=True):
                entry["jacobian"] = [to_json(jacobian(graph, node, k)) if inp.needs_grad else None
                                     for k, inp in enumerate(node.inputs)]
    doc["warnings"] = list(graph.warnings)
    return doc


def dumps(doc: dict[str, Any], indent: int | None = None) -> str:
    """JSON text: one line by default, for pipes; indented for people on a terminal."""
    return json.dumps(doc, indent=indent, ensure_ascii=False,
                      separators=(", ", ": ") if indent is None else None)
