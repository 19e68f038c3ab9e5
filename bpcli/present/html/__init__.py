"""`--format html`: one self-contained page of a run (or of a check): the circuit as SVG,
stepping through the backward pass gate by gate, tooltips on every node and wire, the
narration of `--format steps`, the node table, and for a check the answers marked on the
circuit. Nothing is fetched: the CSS, the script and the picture are in the page, and a
Content-Security-Policy forbids any request. The DOM it promises is in docs/formats.md
("HTML report"); the circuit's hooks are in picture.py.

Pure: data in, text out. The picture is Graphviz's when `layout` allows and dot is there
(present.dot runs it, with a time limit), else the report's own layered layout.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from html import escape
from importlib import resources

from bpcli.core.engine import gradients
from bpcli.core.graph import Graph, data_use
from bpcli.core.run import Run
from bpcli.grading.findings import Verdict
from bpcli.present.arrays import block, compact, shape_text
from bpcli.present.check import diagnosis_text
from bpcli.present.explain import Step, local_formula
from bpcli.present.html.picture import Answer, Marks
from bpcli.present.numbers import number
from bpcli.texts import Translator
from bpcli.values import Value

LAYOUTS = ("auto", "graphviz", "own")
# Graphviz lays out graphs up to this many nodes (beyond, dot may take minutes), within
# DOT_TIMEOUT seconds; else, and when dot is not installed, the report draws its own.
MAX_DOT_NODES = 400
DOT_TIMEOUT = 10.0
# A page draws the circuit, lists the steps and the node table of a graph up to this many
# nodes. A page of 2,000 scalar nodes is about 4.5 MB and opens in a browser in about a
# second; one of 10,000 is 21 MB and takes 8 seconds; 150,000 made 310 MB, which Chromium
# could not open at all. Nobody reads a drawing of more nodes, or steps through more gates,
# by hand. Beyond it the page keeps the summary (f and the gradient of every input), the
# first MAX_DRAWN steps from the output back and the MAX_DRAWN nodes nearest the output,
# and says so; the embedded JSON document stays whole (about 190 bytes a scalar node).
MAX_DRAWN = 2_000
# An array's values are written in full (behind a click) up to this many elements.
FULL_VALUES = 10_000
ROOM = 48  # the columns of an array's one-line summary in the panel and the tables
BADGE_ANSWER = 12  # the longest wrong answer written beside its ✗ on the circuit
NARRATION_WIDTH = 1_000_000  # the narration's lines unfolded: the browser folds them (_narration)
NARRATION_HANG = 4  # a folded line's continuation, in characters past the line's own indent
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:;"
    " base-uri 'none'; form-action 'none'"
)


def grad_page(
    run: Run,
    document: str,
    precision: int = 4,
    tr: Translator | None = None,
    *,
    layout: str = "auto",
    check: tuple[dict[str, object], Sequence[Answer]] | None = None,
) -> str:
    """The page of a run. `document` is the run's `--format json` text, embedded as it is
    (with the steps added, and for a `check` its JSON document and where each answer is)."""
    return "".join(page_parts(run, document, precision, tr, layout=layout, check=check))


def page_parts(
    run: Run,
    document: str,
    precision: int = 4,
    tr: Translator | None = None,
    *,
    layout: str = "auto",
    check: tuple[dict[str, object], Sequence[Answer]] | None = None,
) -> Iterator[str]:
    """grad_page's text in pieces, a node, wire or step at a time, so that the page of a
    big graph is written as it is made and never held whole."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    tr = tr or Translator()
    from bpcli.present.steps import steps_text

    sections: dict[int, str] = {}
    steps_text(run, precision, tr, width=NARRATION_WIDTH, sections=sections)
    answers = check[1] if check is not None else ()
    marks = Marks(run, precision, tr, answers)
    graph = run.graph
    out = graph.symbol
    every = [i for i in sections if i >= 0]
    big = len(graph.nodes) > MAX_DRAWN
    order = every[:MAX_DRAWN] if big else every
    svg, drawn_by = _picture(marks, layout) if not big else ([_too_big(graph, every, tr)], "none")

    title = tr("html.title" if check is None else "html.check-title", output=graph.output_text)
    yield _head(title, tr.language)
    yield from (
        f"<header><h1>{escape(title)}</h1>",
        _summary(marks),
        "</header>\n",
        '<main id="report">\n',
        '<section id="circuit-section" aria-labelledby="circuit-title">',
        f'<h2 id="circuit-title">{escape(tr("html.circuit"))}</h2>\n',
        f'<div id="circuit" class="circuit {drawn_by}" data-layout="{drawn_by}">',
    )
    yield from svg
    legend = "" if big else f'<p class="legend">{escape(tr("html.legend." + drawn_by, out=out))}</p>'
    yield from (
        "</div>\n",
        legend,
        "</section>\n",
        _stepper(tr, len(order)),
        "\n",
    )
    if check is not None:
        yield _answers(check[0], precision, tr)
    yield from _steps(marks, order, sections, tr)
    yield from _node_table(marks, tr, MAX_DRAWN if big else None)
    yield from (
        _program(graph.source, tr),
        "</main>\n",
        '<div id="tooltip" role="tooltip" hidden></div>\n',
        '<script type="application/json" id="bpcli-data">',
        _data(marks, order, document, check),
        "</script>\n",
        f"<script>{_asset('report.js')}</script>\n",
        "</body>\n</html>\n",
    )


def _head(title: str, language: str) -> str:
    from bpcli.version import __version__

    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{"zh-Hans" if language == "zh" else language}" class="nojs">\n<head>\n'
        '<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="bpcli {escape(__version__)}">\n'
        f"<title>{escape(title)}</title>\n"
        f"<style>{_asset('report.css')}</style>\n"
        "</head>\n<body>\n"
    )


def _asset(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def _picture(marks: Marks, layout: str) -> tuple[Iterable[str], str]:
    """The circuit's SVG (in pieces) and who drew it: "graphviz" or "own"."""
    graph = marks.graph
    if layout != "own" and (layout == "graphviz" or len(graph.nodes) <= MAX_DOT_NODES):
        from bpcli.present.dot import svg_text, to_dot
        from bpcli.present.html.graphviz import hook

        svg = svg_text(to_dot(marks.run, marks.precision, every_node=True), DOT_TIMEOUT, bounded=True)
        if svg is not None:
            hooked = hook(svg, graph, marks)
            if hooked.count(" data-node=") == len(graph.nodes):  # (another dot's SVG: the own layout)
                return [hooked], "graphviz"
    from bpcli.present.html.layout import circuit_parts

    return circuit_parts(marks), "own"


# --- the data for the script ---------------------------------------------------------------


def _too_big(graph: Graph, steps: list[int], tr: Translator) -> str:
    """What the page of a graph beyond MAX_DRAWN nodes leaves out, and where to find it."""
    text = tr("html.too-big", nodes=f"{len(graph.nodes):,}", limit=f"{MAX_DRAWN:,}")
    if len(steps) > MAX_DRAWN:
        text += " " + tr("html.steps-cut", shown=f"{MAX_DRAWN:,}", steps=f"{len(steps):,}")
    text += " " + tr("html.too-big-hint")
    return f'<p class="too-big">{escape(text)}</p>'


def _data(
    marks: Marks,
    order: list[int],
    document: str,
    check: tuple[dict[str, object], Sequence[Answer]] | None,
) -> str:
    """The JSON in the page: the `--format json` document with "steps" (and for a check,
    "check" and "answers") put first; `<`, `>` and `&` escaped, so that no text in it can
    end the script element."""
    steps = []
    for node_id in order:
        step = marks.steps[node_id]
        steps.append(
            {
                "node": node_id,
                "upstream": _json_value(step.upstream),
                "inputs": [
                    {
                        "input": edge.input.id,
                        "index": edge.index,
                        "formula": local_formula(marks.graph, step.node, edge.index, marks.run.values),
                        "local": _json_value(edge.local),
                        "downstream": _json_value(edge.downstream),
                    }
                    for edge in step.edges
                ],
            }
        )
    head: dict[str, object] = {"steps": steps}
    if check is not None:
        head["check"] = check[0]
        head["answers"] = [{"node": a.node, "gradient": a.gradient, "ok": a.ok} for a in check[1]]
    text = json.dumps(head, ensure_ascii=False)
    body = document.strip()
    joined = text[:-1] + (", " + body[1:] if body != "{}" else "}")
    return joined.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _json_value(v: Value | None) -> object:
    """A number as itself; an array by its shape (the nodes of the document have it whole)."""
    if v is None or isinstance(v, float):
        return v
    return {"shape": list(v.shape)}


# --- the parts of the page -------------------------------------------------------------------


def _summary(marks: Marks) -> str:
    """f = …, then ∂f/∂x for each input."""
    run, graph, out = marks.run, marks.graph, marks.graph.symbol
    items = [f"<div><dt>{escape(graph.output_text)}</dt><dd>{_shown(run.output, marks)}</dd></div>"]
    for name, g in gradients(run).items():
        if name not in graph.inputs:
            continue
        use = data_use(graph, graph.inputs[name])
        if g is None and not use:
            continue  # not asked for (--wrt): as the table leaves it out
        shown = "—" if use else _shown(g, marks)
        items.append(f"<div><dt>∂{escape(out)}/∂{escape(name)}</dt><dd>{shown}</dd></div>")
    return f'<dl class="summary">{"".join(items)}</dl>'


def _stepper(tr: Translator, count: int) -> str:
    """The buttons and the panel of the current step (the script fills it)."""
    buttons = "".join(
        f'<button type="button" id="step-{key}">{escape(tr("html." + key))}</button>'
        for key in ("first", "prev", "next", "last")
    )
    return (
        '<aside id="stepper" class="js-only" aria-label="step">'
        f'<div class="buttons">{buttons}</div>'
        f'<p class="position" data-template="{escape(tr("html.step", k="{k}", n="{n}"))}"></p>'
        f'<div id="step-panel" aria-live="polite"></div>'
        f'<p class="keys">{escape(tr("html.keys"))}</p>'
        "</aside>"
        if count
        else f'<aside id="stepper"><p>{escape(tr("html.no-steps"))}</p></aside>'
    )


def _steps(marks: Marks, order: list[int], sections: dict[int, str], tr: Translator) -> Iterator[str]:
    """Every step of the backward pass, in order: what the panel shows, one at a time."""
    yield (
        '<section id="narration" aria-labelledby="steps-title">'
        f'<h2 id="steps-title">{escape(tr("html.steps"))}</h2><ol id="steps">'
    )
    graph, out = marks.graph, marks.graph.symbol
    for k, node_id in enumerate(order):
        step = marks.steps[node_id]
        node = step.node
        rows = []
        for edge in step.edges:
            formula = local_formula(graph, node, edge.index, marks.run.values)
            attrs = f'data-input="{edge.input.id}" data-index="{edge.index}"'
            rows.append(
                f"<tr><td>#{edge.input.id} <code>{escape(graph.ref(edge.input))}</code></td>"
                f"<td><code>{escape(formula)}</code></td>"
                f"<td>{_number_span('local', edge.local, marks, attrs)}</td>"
                f"<td>{_number_span('downstream', edge.downstream, marks, attrs)}</td></tr>"
            )
        ref = graph.ref(node, atomic=True)
        yield (
            f'<li class="step" data-step="{k}" data-gate="{node_id}" id="step-{k}"><div class="step-body">'
            f'<h3><span class="gate">#{node_id}</span> <code>{escape(graph.label(node))}</code>'
            f' <span class="op">{escape(node.op.name)}</span></h3>'
            f'<div class="upstream">{escape(tr("html.upstream"))} ∂{escape(out)}/∂{escape(ref)} = '
            f"{_number_span('upstream', step.upstream, marks, '')}</div>"
            f'<table class="flow"><thead><tr><th>{escape(tr("html.input"))}</th>'
            f"<th>{escape(tr('html.formula'))}</th><th>{escape(tr('html.local-value'))}</th>"
            f"<th>{escape(tr('html.downstream'))}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f'<pre class="narration">{_narration(sections[node_id])}</pre>'
            "</div></li>\n"
        )
    tail = sections.get(-1, "")
    yield f'</ol><pre class="narration inputs">{_narration(tail)}</pre></section>\n'


def _narration(text: str) -> str:
    """The narration's lines, each a block that the browser folds at the panel's width with
    a hanging indent (as --format steps folds at the terminal's): its own indent kept, what
    does not fit continued NARRATION_HANG characters further in."""
    blocks = []
    for line in text.strip("\n").split("\n"):
        body = line.lstrip(" ")
        indent = len(line) - len(body) + NARRATION_HANG
        blocks.append(
            f'<span class="line" style="padding-left:{indent}ch;text-indent:-{NARRATION_HANG}ch">'
            f"{escape(body) or ' '}</span>"
        )
    return "".join(blocks)


def _number_span(role: str, v: Value | None, marks: Marks, attrs: str) -> str:
    """A number in a step: at --precision, the full float in data-value; an array summarised,
    its shape in data-shape, its values behind a click."""
    extra = f" {attrs}" if attrs else ""
    if v is None:
        return f'<span data-role="{role}"{extra} data-value="null">—</span>'
    if isinstance(v, float):
        return (
            f'<span data-role="{role}"{extra} data-value="{v!r}">{escape(number(v, marks.precision))}</span>'
        )
    shape = shape_text(v)
    span = (
        f'<span data-role="{role}"{extra} data-shape="{shape}">'
        f"{escape(compact(v, marks.precision, ROOM))}</span>"
    )
    return span + _full(v, marks)


def _shown(v: Value | None, marks: Marks) -> str:
    """A value in a table cell: a number, or an array's summary with its values on click."""
    if v is None or isinstance(v, float):
        return escape(compact(v, marks.precision, ROOM))
    return f"<span>{escape(compact(v, marks.precision, ROOM))}</span>" + _full(v, marks)


def _full(v: Value, marks: Marks) -> str:
    """An array's values behind a click (a <details>, which needs no script)."""
    if isinstance(v, float):
        return ""
    if v.size <= 1 and v.ndim <= 1:
        return ""
    whole = v.size <= FULL_VALUES
    lines = block(v, marks.precision, 1 << 20 if whole else 120, full=whole)
    label = marks.tr("html.all-values" if whole else "html.first-values")
    return (
        f'<details class="values"><summary>{escape(label)} ({shape_text(v)})</summary>'
        f"<pre>{escape(chr(10).join(lines))}</pre></details>"
    )


def _node_table(marks: Marks, tr: Translator, last: int | None = None) -> Iterator[str]:
    """The table of every node, or of the `last` nodes (those nearest the output)."""
    out = marks.graph.symbol
    head = "".join(
        f"<th>{escape(h)}</th>"
        for h in (
            "#",
            tr("html.node"),
            tr("html.op"),
            tr("html.value"),
            f"∂{out}/∂node",
            tr("html.to-inputs"),
        )
    )
    yield (
        '<section id="nodes" aria-labelledby="nodes-title">'
        f'<h2 id="nodes-title">{escape(tr("html.nodes"))}</h2>'
        f'<div class="table-wrap"><table class="nodes"><thead><tr>{head}</tr></thead><tbody>\n'
    )
    rows = marks.steps if last is None else marks.steps[-last:]
    for step in rows:
        yield _node_row(marks, step) + "\n"
    yield "</tbody></table></div>"
    if len(rows) < len(marks.steps):
        count = f"{len(marks.steps):,}"
        yield f'<p class="too-big">{escape(tr("html.nodes-cut", shown=f"{len(rows):,}", nodes=count))}</p>'
    yield "</section>\n"


def _node_row(marks: Marks, step: Step) -> str:
    graph = marks.graph
    node = step.node
    flows = []
    for edge in step.edges:
        if edge.downstream is None and edge.local is None:
            continue
        formula = local_formula(graph, node, edge.index, marks.run.values)
        local = f" = {escape(compact(edge.local, marks.precision, ROOM))}" if edge.local is not None else ""
        flows.append(
            f"<div>→ #{edge.input.id}: <code>{escape(formula)}</code>{local};"
            f" {escape(marks.tr('html.downstream'))} {_shown(edge.downstream, marks)}</div>"
        )
    classes = "off" if step.upstream is None and node.inputs else ""
    return (
        f'<tr data-row="{node.id}" class="{classes}"><td>{node.id}</td>'
        f"<td><code>{escape(graph.label(node))}</code></td><td>{escape(node.op.name)}</td>"
        f"<td>{_shown(step.value, marks)}</td><td>{_shown(step.upstream, marks)}</td>"
        f"<td>{''.join(flows)}</td></tr>"
    )


def _program(source: str, tr: Translator) -> str:
    return (
        '<section id="program" aria-labelledby="program-title">'
        f'<h2 id="program-title">{escape(tr("html.program"))}</h2>'
        f"<pre>{escape(source.rstrip())}</pre></section>"
    )


def _answers(document: dict[str, object], precision: int, tr: Translator) -> str:
    """The check's table: each answer right (✓) or wrong (✗), the truth, the diagnosis."""
    results = document["results"]
    assert isinstance(results, list)
    head = "".join(
        f"<th>{escape(tr('check.header.' + h))}</th>"
        for h in ("answer", "means", "yours", "truth", "diagnosis")
    )
    rows = []
    first = None
    for r in results:
        diagnosis = r["diagnosis"]
        is_first = diagnosis is not None and diagnosis["first"]
        if is_first:
            first = r["name"]
        mark = "✓" if r["ok"] else "✗"
        verdict = "right" if r["ok"] else "wrong"
        words = diagnosis["message"] if diagnosis is not None else (r["note"] or "")
        yours = 17 if isinstance(r["answer"], float) else precision  # (a number: as written)
        flag = f' <strong class="first">{escape(tr("html.first-wrong"))}</strong>' if is_first else ""
        rows.append(
            f'<tr class="{verdict}"><td><span class="mark" aria-label="{escape(tr("html." + verdict))}">'
            f"{mark}</span> <code>{escape(r['name'])}</code>{flag}</td>"
            f"<td>{escape(r['means'])}</td><td>{escape(_plain(r['answer'], yours))}</td>"
            f"<td>{escape(_plain(r['truth'], precision))}</td><td>{escape(words)}</td></tr>"
        )
    summary = tr("check.summary", correct=document["correct"], total=document["total"])
    if first is not None:
        summary += " · " + tr("check.first-wrong", written=first)
    return (
        '<section id="answers" aria-labelledby="answers-title">'
        f'<h2 id="answers-title">{escape(tr("html.answers"))}</h2>'
        f'<p class="check-summary">{escape(summary)}</p>'
        f'<div class="table-wrap"><table class="answers"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _plain(v: object, precision: int) -> str:
    """An answer or a truth from the check document: a number, or nested lists on one line."""
    if isinstance(v, float) and precision >= 17:  # an answer: as short as it reads back
        return repr(v).removesuffix(".0")
    if isinstance(v, float):
        return number(v, precision) if v == v else str(v)
    if isinstance(v, list):  # an array, at --precision, summarised where it is long
        from bpcli.lazy import np

        return compact(np.asarray(v, dtype=float), min(precision, 16), 2 * ROOM)
    return json.dumps(v)


def answers_of(verdicts: Sequence[Verdict], graph: Graph, precision: int, tr: Translator) -> list[Answer]:
    """The picture's marks of a check: each verdict's node, right or wrong, and its words."""
    marks = []
    for v in verdicts:
        mine = v.expectation.value
        yours = v.expectation.text if isinstance(mine, float) else compact(mine, precision, ROOM)
        words = diagnosis_text(v, graph, precision, tr)
        head = f"{'✓' if v.ok else '✗'} {v.expectation.written} = {yours}"
        if not v.ok:
            head += f" ({tr('check.header.truth')} {compact(v.truth, precision, ROOM)})"
        first = bool(v.finding and v.finding.first)
        if first:
            head += f" · {tr('html.first-wrong')}"
        text = head + (f"\n{words}" if words else "")
        short = yours if isinstance(mine, float) and len(yours) <= BADGE_ANSWER else ""
        marks.append(Answer(v.node.id, v.expectation.gradient, v.ok, first, text, short))
    return marks


def check_page(
    run: Run,
    document: str,
    verdicts: Sequence[Verdict],
    precision: int = 4,
    tr: Translator | None = None,
    *,
    layout: str = "auto",
) -> str:
    """The page of a check: the run's page (`document`: its `--format json` text) with the
    answers marked on the circuit, and their table; the data holds `check --format json`'s
    document under "check"."""
    return "".join(check_parts(run, document, verdicts, precision, tr, layout=layout))


def check_parts(
    run: Run,
    document: str,
    verdicts: Sequence[Verdict],
    precision: int = 4,
    tr: Translator | None = None,
    *,
    layout: str = "auto",
) -> Iterator[str]:
    """check_page's text in pieces."""
    from bpcli.present.check import check_document

    tr = tr or Translator()
    checked = check_document(list(verdicts), run.graph, run.warnings, precision, tr)
    marks = answers_of(verdicts, run.graph, precision, tr)
    return page_parts(run, document, precision, tr, layout=layout, check=(checked, marks))
