"""bpcli from Python: the same core as the command line, with no second code path.

    >>> import bpcli
    >>> r = bpcli.grad("(x+y)*z", x=-2, y=5, z=-4)
    >>> r.value, r.grads["x"], r.grads["z"]
    (-12.0, -4.0, 3.0)

A program is text or a path to a .bp or .txt file; bindings are numbers, nested lists or
numpy arrays. A result holds f, each input's gradient (shaped like the input), each node's
part in the backward pass, and writes itself in every format the command line has.
Errors are the command line's: `bpcli.ParseError`, `bpcli.DomainError`, … (all
`bpcli.BpcliError`), carrying the source and the position they point at.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bpcli.errors import BindingError, BpcliError, InputError, ParseError
from bpcli.limits import MAX_ELEMENTS

if TYPE_CHECKING:
    from bpcli.batch.reuse import ProgramCache
    from bpcli.core.run import Run
    from bpcli.values import Params, Value

PROGRAM_SUFFIXES = (".bp", ".txt")


@dataclass(frozen=True)
class Edge:
    """What a node sends back to one of its inputs: the local gradient ∂node/∂input (None
    where it is a Jacobian, never built) and the downstream gradient upstream × local (None
    for an input that needs none, a constant)."""

    input: int  # the input node's id
    local: Value | None
    downstream: Value | None


@dataclass(frozen=True)
class Node:
    """One node of the graph, as the table shows it."""

    id: int
    label: str  # its expression, with its name when it has one: q = x + y
    op: str
    value: Value | None  # None: off the output's path, and not computable there
    upstream: Value | None  # ∂f/∂node; None where no gradient flows (a constant)
    edges: tuple[Edge, ...]  # one for each input, in order


class Result:
    """A program run at one point: `value` (f), `grads` (∂f/∂name for every input and named
    intermediate), `nodes`; `str(result)` is the table the command line prints."""

    def __init__(self, run: Run) -> None:
        from bpcli.core.engine import gradients

        self._run = run
        self.value: Value | None = run.output
        self.grads: dict[str, Value | None] = dict(gradients(run))

    @property
    def nodes(self) -> list[Node]:
        """Every node in forward order: its value, upstream, local and downstream gradients."""
        from bpcli.present.explain import derivation

        graph = self._run.graph
        return [
            Node(
                step.node.id,
                graph.label(step.node),
                step.node.op.name,
                step.value,
                step.upstream,
                tuple(Edge(e.input.id, e.local, e.downstream) for e in step.edges),
            )
            for step in derivation(self._run)
        ]

    def format(self, output_format: str = "table", *, width: int = 80, lang: str = "en", **view: Any) -> str:
        """The result in one of the command line's formats (table, json, steps, tree, dot,
        markdown, latex, csv, html), as `bpcli grad --format …` writes it into a file: plain text,
        `width` columns wide, the narration in `lang` (en or zh)."""
        from bpcli.present import GRAD_FORMATS, plain_console, write_parts
        from bpcli.present.grad import View, render
        from bpcli.texts import Translator

        if output_format not in GRAD_FORMATS:
            raise ValueError(f"no format {output_format!r}: the formats are {', '.join(GRAD_FORMATS)}")
        parts = render(self._run, output_format, View(tr=Translator(lang), width=width, **view))
        buffer = io.StringIO()
        write_parts(parts, buffer, plain_console(buffer, width))
        return buffer.getvalue()

    def steps(self, lang: str = "en", width: int = 80) -> str:
        """The backward pass narrated gate by gate (`--format steps`)."""
        return self.format("steps", width=width, lang=lang)

    def to_json(self, indent: int | None = None) -> str:
        """The JSON document of `--format json` (schema in docs/formats.md)."""
        return self.format("json", indent=indent)

    def to_dot(self) -> str:
        """The circuit as Graphviz's DOT text (`--format dot`)."""
        return self.format("dot")

    def to_html(self, lang: str = "en", precision: int = 4) -> str:
        """The self-contained HTML report (`--format html`): the circuit, stepping through the
        backward pass, tooltips, the narration in `lang`."""
        return self.format("html", lang=lang, precision=precision)

    def __str__(self) -> str:
        return self.format("table")

    def __repr__(self) -> str:
        return f"<bpcli.Result f = {self.value!r}, ∂f/∂ of {', '.join(self.grads)}>"

    def _repr_html_(self) -> str:
        """In Jupyter or IPython: the circuit as SVG (when Graphviz's dot is installed), the
        node table, f and the gradients, as HTML."""
        from html import escape

        from bpcli.present.numbers import one_line

        graph = self._run.graph
        symbol = graph.symbol

        def cell(v: Value | None) -> str:
            return f"<td><code>{escape(one_line(v, 4))}</code></td>"

        rows = []
        for node in self.nodes:
            flows = "<br>".join(
                escape(f"→ #{e.input}: local {one_line(e.local, 4)}, downstream {one_line(e.downstream, 4)}")
                for e in node.edges
                if e.downstream is not None
            )
            rows.append(
                f"<tr><td>{node.id}</td><td><code>{escape(node.label)}</code></td><td>{escape(node.op)}</td>"
                f"{cell(node.value)}{cell(node.upstream)}<td>{flows}</td></tr>"
            )
        head = "".join(
            f"<th>{escape(h)}</th>" for h in ("#", "node", "op", "value", f"∂{symbol}/∂node", "to each input")
        )
        grads = "".join(
            f"<li><code>{escape(f'∂{symbol}/∂{name} = {one_line(g, 4)}')}</code></li>"
            for name, g in self.grads.items()
            if name in graph.inputs
        )
        picture = _svg(self.to_dot())
        return (
            f"<div class='bpcli-result'>{picture}<table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            f"<p><code>{escape(f'{graph.output_text} = {one_line(self.value, 4)}')}</code></p>"
            f"<ul>{grads}</ul></div>"
        )


class Program:
    """A program parsed once: `grad(**bindings)` runs it at a point, sharing its graph with
    every other point where only the numbers differ (the batch command's fast path)."""

    def __init__(self, source: str, *, seed: int | None = None, max_elements: int = MAX_ELEMENTS) -> None:
        from bpcli.batch.reuse import ProgramCache
        from bpcli.language.parse import parse

        self.source = _source(source)
        self._cache: ProgramCache = ProgramCache(max_elements=max_elements, seed=seed)
        try:
            parse(self.source)  # a syntax error is raised here, at compile time
        except ParseError:
            raise
        except BpcliError:
            pass  # no value for x, …: what the points will give

    def grad(self, bindings: Mapping[str, Any] | None = None, /, **more: Any) -> Result:
        """f and its gradients with the inputs bound to these values (a mapping, for names
        such as `seed` that are keywords here, and keyword arguments)."""
        return Result(self._cache.run(self.source, _bindings({**(bindings or {}), **more})))

    def grad_many(self, points: Iterable[Mapping[str, Any]]) -> list[Result]:
        """`grad` at each point, in order: after the first, a point whose bindings differ only
        in their numbers reuses the kept graph (a point whose evaluation fails raises)."""
        return [self.grad(point) for point in points]

    def __repr__(self) -> str:
        return f"<bpcli.Program {self.source[:40]!r}>"


def grad(
    program: str,
    bindings: Mapping[str, Any] | None = None,
    /,
    *,
    seed: int | None = None,
    output: str | None = None,
    upstream: Any = None,
    max_elements: int = MAX_ELEMENTS,
    **more: Any,
) -> Result:
    """Run `program` (text, or a path to a .bp or .txt file) with `bindings` and return its
    result: `output` names the output (default: the last statement), `upstream` is the
    gradient that flows into it (cs231n's dout; then the output may be an array), `seed`
    seeds the program's np.random. Bindings are keyword arguments, or a mapping before them
    (for a name such as `seed` or `output` that is a keyword here)."""
    from bpcli.core.engine import run
    from bpcli.language.parse import parse

    given = _bindings({**(bindings or {}), **more})
    flowing = None if upstream is None else (None, _array("upstream", upstream))
    graph = parse(_source(program), given, False, max_elements, seed, output, flowing)
    return Result(run(graph, record=True))


def compile(program: str, /, *, seed: int | None = None, max_elements: int = MAX_ELEMENTS) -> Program:
    """Parse `program` once, to run it at many points: `compile(p).grad(x=1, y=2)`."""
    return Program(program, seed=seed, max_elements=max_elements)


class CheckResult:
    """A student's answers checked against the truth: `ok` (all right), `results` (one
    record for each answer, as `bpcli check --format json` writes them: name, means, answer,
    truth, ok, note, diagnosis) and `first_wrong` (the record of the first wrong step, or
    None); `str()` is the report the command line prints."""

    def __init__(self, document: dict[str, Any], report: str, page: Callable[[], str] | None = None) -> None:
        self.results: list[dict[str, Any]] = document["results"]
        self.ok: bool = all(r["ok"] for r in self.results)
        self.first_wrong: dict[str, Any] | None = next(
            (r for r in self.results if r["diagnosis"] is not None and r["diagnosis"]["first"]), None
        )
        self._report = report
        self._page = page

    def __str__(self) -> str:
        return self._report

    def to_html(self) -> str:
        """The check as the HTML report (`bpcli check … -o report.html`): the answers marked
        on the circuit, right ✓ or wrong ✗, the first wrong step, the diagnoses on hover."""
        if self._page is None:
            raise ValueError("this CheckResult was made without its run")
        return self._page()

    def _repr_html_(self) -> str:
        """In Jupyter or IPython: the report, as the command line prints it."""
        from html import escape

        return f"<pre class='bpcli-check'>{escape(self._report)}</pre>"

    def __repr__(self) -> str:
        right = sum(r["ok"] for r in self.results)
        return f"<bpcli.CheckResult {right} of {len(self.results)} right>"


def check(
    program: str,
    bindings: Mapping[str, Any] | None = None,
    /,
    *,
    answers: Mapping[str, Any],
    seed: int | None = None,
    output: str | None = None,
    upstream: Any = None,
    lang: str = "en",
    precision: int = 4,
) -> CheckResult:
    """Check `answers` ({"dx": -4, "q": 3, "dW": [[…]]}, names as `bpcli check` reads them:
    dq, df/dq, ∂f/∂q, grad(q)) for `program` at `bindings`. An answer written as a string
    ("0.39") is judged at the decimals it has, as in an answers file; a number is taken as
    Python writes it (0.39 is two decimals, 1/3 as a float is exact to 16 digits)."""
    from bpcli.grading.answers import expectations
    from bpcli.grading.diagnose import check as run_check
    from bpcli.present.check import check_document, check_report
    from bpcli.texts import Translator

    result = grad(program, bindings, seed=seed, output=output, upstream=upstream)
    run = result._run
    pairs: list[tuple[str, str, str | None]] = [(n, _answer_text(v), None) for n, v in answers.items()]
    verdicts = run_check(run, expectations(pairs, set(run.graph.names), run.graph.output.name))
    tr = Translator(lang)
    document = check_document(verdicts, run.graph, run.warnings, precision, tr)
    from bpcli.present import plain_console, write_parts

    buffer = io.StringIO()
    write_parts(check_report(verdicts, run.graph, precision, tr), buffer, plain_console(buffer, 80))

    def page() -> str:
        from bpcli.present.html import check_page

        return check_page(run, verdicts, precision, tr)

    return CheckResult(document, buffer.getvalue(), page)


def _answer_text(value: Any) -> str:
    """An answer as a student writes it: a string as it is, a number as Python prints it,
    an array as a nested list of them."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    from bpcli.lazy import np

    return repr(np.asarray(value, dtype=float).tolist())


def _svg(dot: str) -> str:
    """The circuit drawn by Graphviz as inline SVG; "" when dot is not installed or fails."""
    import shutil
    import subprocess

    if shutil.which("dot") is None:
        return ""
    try:
        done = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return ""
    svg = done.stdout
    return svg[svg.find("<svg") :] if done.returncode == 0 and "<svg" in svg else ""


def _source(program: str) -> str:
    """The program's text: read from the file when `program` names a .bp or .txt file."""
    if program.endswith(PROGRAM_SUFFIXES) and "\n" not in program:
        from bpcli.streams import read_text

        if not os.path.exists(program):
            raise InputError(f"no file {program}")
        return read_text(program)
    return program


def _bindings(given: Mapping[str, Any]) -> dict[str, Value | Params]:
    return {name: _value(name, value) for name, value in given.items()}


def _array(name: str, value: Any) -> Value:
    """A value that must be a number or an array (an upstream gradient)."""
    got = _value(name, value)
    if isinstance(got, dict):
        raise BindingError(f"{name}: a gradient is a number or an array, not {type(value).__name__}")
    return got


def _value(name: str, value: Any) -> Value | Params:
    """A binding's value as the core takes it: a float, a float array, or a dict of
    parameters (conv_param)."""
    if isinstance(value, bool):
        raise BindingError(f"in the binding {name}: {value} is not a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping):
        return dict(value)
    from bpcli.lazy import np

    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise BindingError(f"in the binding {name}: {err}") from None
    return float(array) if array.ndim == 0 else array
