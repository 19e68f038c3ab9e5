"""`bpcli batch`'s records: one problem's result, or its error, in jsonl, table or csv.

bpcli.batch solves the problems; what each record says and how it is written is here.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Literal, TypedDict

from bpcli.core.engine import gradients
from bpcli.core.graph import Graph
from bpcli.core.run import Run
from bpcli.lazy import np
from bpcli.limits import JSON_ELEMENTS

if TYPE_CHECKING:
    from rich.console import RenderableType

CSV_COLUMNS = ("source", "line", "id", "output", "value", "name", "gradient", "error")
_MARK = "\x00bpcli\x00"  # stands for a number in a record's form; never in a source name


class _Where(TypedDict):
    source: str
    line: int


class RecordBase(_Where, total=False):
    """The keys every record of a problem starts with: where the problem was read."""

    id: object  # the record's own "id": any JSON value


def result_text(
    base: RecordBase, run: Run, output_format: str, nodes: bool, precision: int, full: bool, width: int = 80
) -> str:
    """A problem's result record: `base` (source, line, id) and what the run found (a table
    fits in `width` columns)."""
    if output_format == "table":
        return _table_text(base, run, precision, width)
    if output_format == "csv":
        return _csv_text(base, run, full)
    if not nodes:
        text = _scalar_record(base, run)
        if text is not None:
            return text
    from bpcli.present.jsonout import dumps, grad_document

    doc = {**base, **grad_document(run, nodes=nodes, arrays=True)}
    return dumps(doc, separators=(",", ":"), full=full) + "\n"


def _scalar_record(base: RecordBase, run: Run) -> str | None:
    """The JSON Lines record of a run whose value and gradients are all finite floats (or
    null), without nodes: the text `grad_document` and `dumps` give, written directly (a
    float as its repr, as json.dumps writes it). None for anything else (arrays, an upstream
    gradient): the general path writes it. tests/test_records.py compares the two."""
    graph = run.graph
    value = run.values[graph.output.id]
    if graph.upstream is not None or type(value) is not float or value - value != 0.0:
        return None
    grads = []
    for name, grad in gradients(run).items():
        if type(grad) is float and grad - grad == 0.0:
            grads.append(f"{_string(name)}:{grad!r}")
        elif grad is None:  # a named intermediate off f's path that cannot be computed
            grads.append(f"{_string(name)}:null")
        else:
            return None
    ident = f',"id":{_json(base["id"])}' if "id" in base else ""
    return (
        f'{{"source":{_string(base["source"])},"line":{base["line"]:d}{ident},'
        f'"output":{_string(graph.output_text)},"value":{value!r},"grads":{{{",".join(grads)}}},'
        f'"warnings":[{",".join(map(_string, run.warnings))}]}}\n'
    )


_string = json.encoder.encode_basestring  # (a str as JSON text, ensure_ascii=False's way)


def _json(value: object) -> str:
    """Any JSON value as a record writes it (an id)."""
    if type(value) is str:
        return _string(value)
    if type(value) is int:  # (not a bool: JSON's true and false)
        return int.__repr__(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def error_text(base: RecordBase, message: str, output_format: str, width: int = 80) -> str:
    """A problem's error record (in a table's record, folded to fit in `width` columns)."""
    if output_format == "table":
        return _printed([_heading(base), f"error: {message}", ""], width)
    if output_format == "csv":
        return csv_rows([[base["source"], base["line"], base.get("id", ""), "", "", "", "", message]])
    return json.dumps({**base, "error": message}, ensure_ascii=False, separators=(",", ":")) + "\n"


def record_form(graph: Graph, source: str, has_id: bool, output_varies: bool) -> str | Literal[False]:
    """The JSON Lines record of this graph's problems as a %-format: the document
    `grad_document` gives without nodes (output, value, grads, warnings), with %s for the
    line, the id and output (when given), the value and each gradient, in that order. False
    if the form cannot be made safely."""
    doc: dict[str, object] = {"source": source, "line": _MARK}
    if has_id:
        doc["id"] = _MARK
    doc["output"] = _MARK if output_varies else graph.output_text
    doc["value"] = _MARK
    grads = {name: _MARK for name in graph.names}
    doc["grads"] = grads
    doc["warnings"] = list(graph.warnings)
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
    mark = json.dumps(_MARK)
    expected = 2 + has_id + output_varies + len(grads)
    if text.count(mark) != expected:
        return False
    return text.replace("%", "%%").replace(mark, "%s")


def _table_text(base: RecordBase, run: Run, precision: int, width: int) -> str:
    from bpcli.present.table import grad_report

    parts = [
        _heading(base),
        *grad_report(run, precision, width=width),
        *(f"warning: {warning}" for warning in run.warnings),
        "",
    ]
    return _printed(parts, width)


def _heading(base: RecordBase) -> str:
    """A table record's first line: where its problem was read (control characters shown as ?)."""
    shown = f" ({_printable(str(base['id']))})" if "id" in base else ""
    return f"── {_printable(base['source'])}:{base['line']}{shown} ──"


def _printed(parts: Sequence[RenderableType], width: int) -> str:
    """What a console of `width` columns, without colour, prints for the parts: tables fitted
    to the width, and texts folded at it (Rich takes out control characters)."""
    from bpcli.present.plain import render
    from bpcli.streams import make_console

    buffer = io.StringIO()
    console = make_console(buffer)
    console.width = max(width, 20)
    text = render(parts, console)  # Rich's characters without its layout engine, if it can
    if text is not None:
        return text
    for part in parts:
        console.print(part)
    return buffer.getvalue()


def _csv_text(base: RecordBase, run: Run, full: bool = False) -> str:
    """A row a gradient element: written as they are made, never held as Python lists (an
    array of more than JSON_ELEMENTS elements is one row holding its summary, unless full).
    The rows hold what `grad_document(run, nodes=False, arrays=True)` holds."""
    value = run.output  # an array with --upstream: written as JSON
    if isinstance(value, float):
        shown = repr(value)
    else:
        from bpcli.present.jsonout import summary
        from bpcli.present.numbers import to_json

        plain = summary(value) if not full and value.size > JSON_ELEMENTS else to_json(value)
        shown = json.dumps(plain, separators=(",", ":"))
    head = [base["source"], base["line"], base.get("id", ""), run.graph.output_text, shown]

    def rows() -> Iterator[list[object]]:
        for name, value in gradients(run).items():
            if value is None:  # a named intermediate off f's path that cannot be computed (JSON: null)
                yield [*head, name, "", ""]
                continue
            if isinstance(value, float):
                yield [*head, name, repr(value), ""]
                continue
            grad = value
            if not full and grad.size > JSON_ELEMENTS:
                from bpcli.present.jsonout import summary

                yield [*head, name, json.dumps(summary(grad)), ""]
            else:
                for index, element in zip(np.ndindex(grad.shape), grad.flat, strict=True):
                    yield [*head, name + "[" + ",".join(map(str, index)) + "]", repr(float(element)), ""]

    return csv_rows(rows())


def _printable(text: str) -> str:
    """The text with its control characters (C0 and C1) shown as "?", for a terminal."""
    return "".join("?" if c < " " or "\x7f" <= c <= "\x9f" else c for c in text)


def csv_rows(rows: Iterable[Sequence[object]]) -> str:
    import csv

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def csv_header() -> str:
    return csv_rows([list(CSV_COLUMNS)])
