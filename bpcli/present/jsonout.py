"""`--format json`: one object per problem, with the schema documented in the README."""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, cast

from bpcli.core.engine import gradients
from bpcli.core.run import Run
from bpcli.lazy import np
from bpcli.limits import JSON_ELEMENTS
from bpcli.present.explain import derivation, jacobian
from bpcli.present.numbers import to_json as to_plain
from bpcli.values import Value

if TYPE_CHECKING:
    from bpcli.values import Array


def grad_document(
    run: Run,
    nodes: bool = True,
    jacobians: bool = False,
    wrt: list[str] | None = None,
    arrays: bool = False,
) -> dict[str, object]:
    """The result of one problem as plain data: output, value, grads, nodes, warnings.
    With `arrays`, arrays stay numpy arrays (for `dumps`, which writes each one once)."""
    to_json: Callable[[Value | None], object] = _as_is if arrays else to_plain
    graph = run.graph
    grads = gradients(run)
    doc: dict[str, object] = {
        "output": graph.output_text,
        "value": to_json(run.output),
        # (as they are, a batch record's: no call a gradient)
        "grads": grads
        if arrays and not wrt
        else {name: to_json(g) for name, g in grads.items() if not wrt or name in wrt},
    }
    if graph.upstream is not None:  # --upstream: the gradient given to flow into the output
        doc["upstream"] = {"name": graph.upstream_name, "value": to_json(graph.upstream)}
    if nodes:
        labels = graph.labels()
        entries: list[dict[str, object]] = [
            {
                "id": step.node.id,
                "op": step.node.op.name,
                "label": labels[step.node.id],
                "name": step.node.name,
                "scope": step.node.scope.label() if step.node.scope is not None else None,
                "inputs": [i.id for i in step.node.inputs],
                "value": to_json(step.value),
                "upstream": to_json(step.upstream),
                "local": [to_json(e.local) for e in step.edges],
                "downstream": [to_json(e.downstream) for e in step.edges],
            }
            for step in derivation(run)
        ]
        if jacobians:
            for node, entry in zip(graph.nodes, entries, strict=True):
                entry["jacobian"] = [
                    to_json(jacobian(run, node, k)) if inp.needs_grad and node.op.differentiable else None
                    for k, inp in enumerate(node.inputs)
                ]
        doc["nodes"] = entries
    doc["warnings"] = list(run.warnings)
    return doc


def _as_is(v: Value | None) -> Value | None:
    return v


def dumps(
    doc: Mapping[str, object],
    indent: int | None = None,
    separators: tuple[str, str] = (", ", ": "),
    full: bool = False,
) -> str:
    """JSON text: one line by default, for pipes; indented for people on a terminal. Numpy
    arrays in the document are written as nested lists; one of more than JSON_ELEMENTS
    elements as a summary (see `summary`), unless `full`."""
    if indent is not None:
        return json.dumps(
            doc, indent=indent, ensure_ascii=False, default=functools.partial(_listed, full=full)
        )
    return "".join(dump_parts(doc, separators, full))


def dump_parts(
    doc: Mapping[str, object], separators: tuple[str, str] = (", ", ": "), full: bool = False
) -> Iterator[str]:
    """dumps(doc) on one line, in pieces that join to it. Each distinct array is written
    once however many places it stands in: a big gradient is often a node's upstream, a
    gate's downstream and ∂f/∂name at once, and writing floats is most of the time JSON of
    big arrays takes. (Joining would only copy the text once more: the caller writes the
    pieces.) With `full`, an array of more than JSON_ELEMENTS elements is written in full,
    a piece at a time where it stands, so that its text is never held whole."""
    found: dict[int, Array] = {}  # id -> the array (kept alive, so that ids stay unique)
    summaries: dict[int, dict[str, object]] = {}
    marks = 0

    def mark(value: object) -> object:
        nonlocal marks
        if not hasattr(value, "tolist"):
            raise TypeError(f"{type(value).__name__} is not JSON")
        value = cast("Array", value)  # what a document holds that JSON cannot: an array
        if not full and value.size > JSON_ELEMENTS:
            if id(value) not in summaries:
                found.setdefault(id(value), value)  # kept alive while its id is a key
                summaries[id(value)] = summary(value)
            return summaries[id(value)]
        found.setdefault(id(value), value)
        marks += 1
        return f"{_MARK}{id(value)}{_MARK}"

    text = json.dumps(doc, ensure_ascii=False, separators=separators, default=mark)
    if marks == 0:
        yield text
        return
    pieces = _MARKED.split(text)
    places = pieces[1::2]
    if len(places) != marks:  # a string of the document looks like a mark: no shortcut
        yield json.dumps(
            doc, ensure_ascii=False, separators=separators, default=functools.partial(_listed, full=full)
        )
        return
    written = {
        key: json.dumps(found[key].tolist(), separators=separators)
        for key in {int(place) for place in places}
        if found[key].size <= JSON_ELEMENTS
    }
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            yield piece
        elif int(piece) in written:
            yield written[int(piece)]
        else:
            yield from array_pieces(found[int(piece)], separators)


CHUNK = 65_536  # elements written at a time by array_pieces


def array_pieces(
    array: Array, separators: tuple[str, str] = (", ", ": "), chunk: int = CHUNK
) -> Iterator[str]:
    """json.dumps(array.tolist(), separators=separators), in pieces of about `chunk`
    elements each, so that neither the list nor the text is ever held whole."""
    item = separators[0]
    todo: list[Iterator[str | Array]] = [iter([array])]  # a stack of what is left to write at each depth
    while todo:
        part = next(todo[-1], None)
        if part is None:
            todo.pop()
        elif isinstance(part, str):
            yield part
        elif part.size <= chunk or part.ndim == 0:
            yield json.dumps(part.tolist(), separators=separators)
        else:
            todo.append(_blocks(part, item, separators, chunk))


def _blocks(array: Array, item: str, separators: tuple[str, str], chunk: int) -> Iterator[str | Array]:
    """An array's text in blocks along its first axis: the brackets and separators as text,
    a block of small rows as text, a big row as an array (written in its own blocks)."""
    rows = array.shape[0]
    per_row = array.size // rows
    step = max(1, chunk // per_row)
    yield "["
    for start in range(0, rows, step):
        if start:
            yield item
        if step == 1:
            yield array[start]
        else:
            yield json.dumps(array[start : start + step].tolist(), separators=separators)[1:-1]
    yield "]"


def summary(array: Array) -> dict[str, object]:
    """What JSON writes for an array of more than JSON_ELEMENTS elements: its shape and a few
    numbers that fit a float (norm is null when it is beyond the float range). Computed a
    chunk at a time, so that no temporary is as big as the array."""
    flat = np.ravel(array)
    count = flat.size
    chunks = range(0, count, CHUNK * 16)
    with np.errstate(all="ignore"):
        low = float(min(flat[i : i + CHUNK * 16].min() for i in chunks))
        high = float(max(flat[i : i + CHUNK * 16].max() for i in chunks))
        parts = [float(np.sum(flat[i : i + CHUNK * 16])) for i in chunks]
        mean = math.fsum(parts) / count if all(map(math.isfinite, parts)) else math.nan
        if not math.isfinite(mean):  # the parts are summed, so that the sum cannot overflow
            mean = math.fsum(float(np.sum(flat[i : i + CHUNK * 16] / count)) for i in chunks)
        mean = min(max(mean, low), high)  # rounding may not take it past the extremes
        scale = max(abs(low), abs(high))
        norm: float | None = 0.0
        if scale > 0:
            norm = scale * math.sqrt(
                math.fsum(float(np.sum(np.square(flat[i : i + CHUNK * 16] / scale))) for i in chunks)
            )
            if not math.isfinite(norm):
                norm = None
    return {
        "shape": list(array.shape),
        "elided": True,
        "summary": {"min": low, "max": high, "mean": mean, "norm": norm},
    }


def _listed(value: object, full: bool = False) -> object:
    if hasattr(value, "tolist"):
        value = cast("Array", value)  # as in dump_parts' mark
        return value.tolist() if full or value.size <= JSON_ELEMENTS else summary(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


_MARK = "\x00bpcli-array-"  # a JSON text escapes it as \u0000: never a number's text
_MARKED = re.compile(re.escape(json.dumps(_MARK)[:-1]) + r"(\d+)" + re.escape(json.dumps(_MARK)[1:]))
