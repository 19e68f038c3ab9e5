"""`--format json`: one object per problem, with the schema documented in the README."""

from __future__ import annotations

import json
import re
from typing import Any

from bpcli.engine import gradients
from bpcli.explain import derivation, jacobian
from bpcli.graph import Graph
from bpcli.present.numbers import to_json as to_plain


def grad_document(graph: Graph, nodes: bool = True, jacobians: bool = False,
                  wrt: list[str] | None = None, arrays: bool = False) -> dict[str, Any]:
    """The result of one problem as plain data: output, value, grads, nodes, warnings.
    With `arrays`, arrays stay numpy arrays (for `dumps`, which writes each one once)."""
    to_json = _as_is if arrays else to_plain
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


def _as_is(v: Any) -> Any:
    return v


def dumps(doc: dict[str, Any], indent: int | None = None,
          separators: tuple[str, str] = (", ", ": ")) -> str:
    """JSON text: one line by default, for pipes; indented for people on a terminal. Numpy
    arrays in the document are written as nested lists."""
    if indent is not None:
        return json.dumps(doc, indent=indent, ensure_ascii=False, default=_listed)
    return "".join(dump_parts(doc, separators))


def dump_parts(doc: dict[str, Any], separators: tuple[str, str] = (", ", ": ")) -> list[str]:
    """dumps(doc) on one line, in pieces that join to it. Each distinct array is written
    once however many places it stands in: a big gradient is often a node's upstream, a
    gate's downstream and ∂f/∂name at once, and writing floats is most of the time JSON of
    big arrays takes. (Joining would only copy the text once more: the caller writes the
    pieces.)"""
    found: dict[int, Any] = {}  # id -> the array (kept alive, so that ids stay unique)
    marks = 0

    def mark(value: Any) -> str:
        nonlocal marks
        if not hasattr(value, "tolist"):
            raise TypeError(f"{type(value).__name__} is not JSON")
        found.setdefault(id(value), value)
        marks += 1
        return f"{_MARK}{id(value)}{_MARK}"

    text = json.dumps(doc, ensure_ascii=False, separators=separators, default=mark)
    if not found:
        return [text]
    pieces = _MARKED.split(text)
    places = pieces[1::2]
    if len(places) != marks:  # a string of the document looks like a mark: no shortcut
        return [json.dumps(doc, ensure_ascii=False, separators=separators, default=_listed)]
    written = {key: json.dumps(array.tolist(), separators=separators)
               for key, array in found.items()}
    pieces[1::2] = [written[int(key)] for key in places]
    return pieces


def _listed(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON")


_MARK = "\x00bpcli-array-"  # a JSON text escapes it as \u0000: never a number's text
_MARKED = re.compile(re.escape(json.dumps(_MARK)[:-1]) + r"(\d+)" + re.escape(json.dumps(_MARK)[1:]))
