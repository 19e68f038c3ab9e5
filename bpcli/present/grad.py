"""The outputs of `bpcli grad`, one per --format, from one run of the program."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from bpcli.core.run import Run
from bpcli.present import GRAD_FORMATS, PICTURES, Part
from bpcli.texts import Translator
from bpcli.values import Value

if TYPE_CHECKING:
    from bpcli.grading.gradcheck import Check

__all__ = ["GRAD_FORMATS", "PICTURES", "View", "render"]


class View:
    """How to show a result."""

    def __init__(
        self,
        precision: int = 4,
        max_rows: int = 400,
        jacobians: bool = False,
        wrt: list[str] | None = None,
        checks: list[Check] | None = None,
        indent: int | None = None,
        tr: Translator | None = None,
        full: bool = False,
        depth: int | None = None,
        width: int = 80,
        layout: str = "auto",
    ) -> None:
        self.precision = precision
        self.max_rows = max_rows
        self.jacobians = jacobians
        self.wrt = wrt
        self.checks = checks  # --gradcheck results
        self.indent = indent  # JSON
        self.tr = tr or Translator()
        self.full = full  # JSON: big arrays in full, not summarised
        self.depth = depth  # table, steps, markdown: calls deeper than this are one gate each
        self.width = width  # the columns text is laid out in: a terminal's, or 80 (COLUMNS)
        self.layout = layout  # HTML: the circuit by Graphviz when it is there ("auto"), or "own"


def render(run: Run, output_format: str, view: View) -> Sequence[Part]:
    """Text (str) or Rich renderables, in order, for one format."""
    if output_format == "json":
        from bpcli.present.jsonout import dump_parts, dumps, grad_document

        document = grad_document(run, jacobians=view.jacobians, wrt=view.wrt, arrays=True)
        data = _data_inputs(run, view.wrt)
        if data:  # inputs read as data (an index, a shape): their null gradient says why
            document["data"] = data
        if view.checks is not None:
            document["gradcheck"] = [_check_json(c, view.full) for c in view.checks]
        if view.indent is not None and not view.full:
            return [dumps(document, indent=view.indent) + "\n"]
        return [dump_parts(document, full=view.full), "\n"]  # written a piece at a time
    if output_format == "table":
        from bpcli.present.table import grad_report

        parts = grad_report(
            run, view.precision, view.max_rows, view.jacobians, view.wrt, view.depth, view.width, view.full
        )
        if view.checks is not None:
            from bpcli.present.table import gradcheck_table

            parts.append(gradcheck_table(run.graph, view.checks, view.precision, view.width, view.full))
        return parts
    if output_format == "tree":
        from rich.text import Text

        from bpcli.present.steps import gradient_summary
        from bpcli.present.tree import grad_tree

        summary = gradient_summary(run, view.precision, view.wrt, view.width, view.full)
        parts = [grad_tree(run, view.precision, width=view.width), Text("\n".join(summary))]
        return parts + _check_text(run, view)
    if output_format == "steps":
        from bpcli.present.steps import steps_text

        text = steps_text(run, view.precision, view.tr, view.wrt, view.depth, view.width, view.full)
        return [text, *_check_text(run, view)]
    if output_format == "markdown":
        from bpcli.present.markdown import markdown_text

        text = markdown_text(run, view.precision, view.tr, view.wrt, view.depth, view.width)
        return [text, *_check_text(run, view)]
    if output_format == "latex":
        from bpcli.present.latex import latex_text

        return [latex_text(run, view.precision, view.wrt)]
    if output_format == "csv":
        from bpcli.present.csvout import csv_text

        return [csv_text(run)]
    if output_format == "dot":
        from bpcli.present.dot import to_dot

        return [to_dot(run, view.precision)]
    if output_format == "html":
        from bpcli.present.html import page_parts

        return [page_parts(run, json_text(run, view), view.precision, view.tr, layout=view.layout)]
    raise ValueError(f"unknown format {output_format}")


def json_text(run: Run, view: View) -> str:
    """The `--format json` document of the run, on one line (what the HTML report embeds)."""
    one_line = View(
        view.precision, jacobians=view.jacobians, wrt=view.wrt, checks=view.checks, full=view.full, tr=view.tr
    )
    return "".join(
        "".join(part) if isinstance(part, Iterator) else str(part) for part in render(run, "json", one_line)
    )


def _data_inputs(run: Run, wrt: list[str] | None) -> dict[str, str]:
    """The inputs read as data, by name: how each is used ("index" or "value")."""
    from bpcli.core.graph import data_use

    graph = run.graph
    uses = {name: data_use(graph, node) for name, node in graph.inputs.items() if not wrt or name in wrt}
    return {name: use for name, use in uses.items() if use}


def _check_json(check: Check, full: bool = False) -> dict[str, object]:
    from bpcli.grading.gradcheck import RTOL

    error = check.relative_error
    return {
        "name": check.name,
        "analytic": check.analytic,
        "numeric": _numeric_json(check.numeric, full),
        "relative_error": error if error == error else None,
        "absolute_error": check.absolute_error if check.absolute_error == check.absolute_error else None,
        "atol": check.atol,
        "rtol": RTOL,
        "verdict": check.verdict,
        "kinks": check.kinks,
        "poles": check.poles,
        "checked": check.checked,
        "elements": check.elements,
        **({"flips": check.flips} if check.flips else {}),  # (keys only where they apply)
        **({"kinked": check.kinked} if check.kinked else {}),
        **({"data": check.data} if check.data else {}),
    }


def _numeric_json(numeric: Value | None, full: bool) -> object:
    """The numeric gradient for JSON: null at the elements not checked or not evaluable
    (never NaN, which is not JSON); an array of more than JSON_ELEMENTS elements is
    summarised over the elements checked, as jsonout summarises any big array."""
    if numeric is None or isinstance(numeric, float):
        return numeric if numeric is not None and numeric - numeric == 0.0 else None
    import numpy as np

    from bpcli.limits import JSON_ELEMENTS
    from bpcli.present.jsonout import summary

    known = np.isfinite(numeric)
    if known.all():
        return numeric  # written (or summarised) by jsonout as any array
    if numeric.size > JSON_ELEMENTS and not full:
        found = numeric[known]
        document = (
            summary(found)
            if found.size
            else {
                "shape": [],
                "elided": True,
                "summary": {"min": None, "max": None, "mean": None, "norm": None},
            }
        )
        document["shape"] = list(numeric.shape)
        return document
    listed = numeric.astype(object)
    listed[~known] = None
    return listed.tolist()


def _check_text(run: Run, view: View) -> list[str]:
    if view.checks is None:
        return []
    from bpcli.present.table import gradcheck_lines

    return ["\n" + "\n".join(gradcheck_lines(run.graph, view.checks, view.precision, view.width)) + "\n"]
