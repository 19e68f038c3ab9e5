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

import functools
import io
import operator
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from bpcli.errors import BindingError, BpcliError, InputError, ParseError
from bpcli.limits import MAX_ELEMENTS

if TYPE_CHECKING:
    from bpcli.batch.reuse import ProgramCache
    from bpcli.core.run import Run
    from bpcli.values import Params, Value

PROGRAM_SUFFIXES = (".bp", ".txt")
# the names a type checker holds a caller to (the same as bpcli.present.GRAD_FORMATS and
# bpcli.texts.LANGUAGES; tests/test_api.py checks they agree)
Format = Literal["table", "json", "steps", "tree", "dot", "markdown", "latex", "csv", "html"]
Language = Literal["en", "zh"]
# what format() takes beyond width and lang (bpcli.present.grad.View's, as the CLI's options)
VIEW_OPTIONS = frozenset(("precision", "max_rows", "jacobians", "wrt", "indent", "full", "depth", "layout"))
WIDTH = 80  # the columns of a report's text (str() and a notebook's)
NOTEBOOK_NODES = 400  # a notebook shows at most this many nodes (and draws no bigger circuit)
# The command line's words in messages and hints, as a Python caller says them (the
# messages are the core's, written for the command line, which most people use).
PYTHON_WORDS = (
    (re.compile(r"--seed (-?\d+)"), r"seed=\1"),
    (re.compile(r"give --seed a whole"), "give seed= a whole"),
    (re.compile(r"\(--upstream d?\w+=…\)"), "(upstream=…)"),
    (re.compile(r"bind (it|them) on the command line \((\w+)=1\.5\)"), r"bind \1 (\2=1.5)"),
)
Call = TypeVar("Call", bound=Callable[..., Any])


def in_python_words(text: str) -> str:
    """A message of the core with the command line's flags said as this API's arguments:
    `--seed 7` as `seed=7`, `--upstream dout=…` as `upstream=…`."""
    for pattern, words in PYTHON_WORDS:
        text = pattern.sub(words, text)
    return text


def _python_errors(call: Call) -> Call:
    """A public call whose BpcliError speaks of this API's arguments, not of flags."""

    @functools.wraps(call)
    def speaking_python(*args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except BpcliError as err:
            err.message = in_python_words(err.message)
            err.args = (err.message,)
            if err.hint:
                err.hint = in_python_words(err.hint)
            raise

    return speaking_python  # type: ignore[return-value]


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

        self._made: Run | None = run
        self._make: Callable[[], Run] | None = None
        self.value: Value = run.output
        self.grads: dict[str, Value | None] = dict(gradients(run))

    @classmethod
    def _of_point(cls, value: Value, grads: dict[str, Value | None], make: Callable[[], Run]) -> Result:
        """A result from grad_many's pass over many points: f and the gradients now, the run
        (each node, for a format or `nodes`) when first asked for."""
        result = cls.__new__(cls)
        result._made, result._make = None, make
        result.value, result.grads = value, grads
        return result

    @property
    def _run(self) -> Run:
        if self._made is None:
            assert self._make is not None
            self._made = self._make()
        return self._made

    @property
    def warnings(self) -> list[str]:
        """What the command line warns of on stderr: a kink (relu at 0), a branch taken on
        an input's value, …"""
        return [in_python_words(w) for w in self._run.warnings]

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

    def format(
        self, output_format: Format = "table", *, width: int = 80, lang: Language = "en", **view: Any
    ) -> str:
        """The result in one of the command line's formats (table, json, steps, tree, dot,
        markdown, latex, csv, html), as `bpcli grad --format …` writes it into a file: plain text,
        `width` columns wide, the narration in `lang` (en or zh)."""
        from bpcli.present import GRAD_FORMATS, plain_console, write_parts
        from bpcli.present.grad import View, render
        from bpcli.texts import Translator

        if output_format not in GRAD_FORMATS:
            raise ValueError(f"no format {output_format!r}: the formats are {', '.join(GRAD_FORMATS)}")
        unknown = sorted(set(view) - VIEW_OPTIONS)
        if unknown:
            raise TypeError(f"no option {unknown[0]!r}: the options are {', '.join(sorted(VIEW_OPTIONS))}")
        parts = render(self._run, output_format, View(tr=Translator(lang), width=width, **view))
        buffer = io.StringIO()
        write_parts(parts, buffer, plain_console(buffer, width))
        return buffer.getvalue()

    def steps(self, lang: Language = "en", width: int = 80) -> str:
        """The backward pass narrated gate by gate (`--format steps`)."""
        return self.format("steps", width=width, lang=lang)

    def to_json(self, indent: int | None = None) -> str:
        """The JSON document of `--format json` (schema in docs/formats.md)."""
        return self.format("json", indent=indent)

    def to_dot(self) -> str:
        """The circuit as Graphviz's DOT text (`--format dot`)."""
        return self.format("dot")

    def to_html(self, lang: Language = "en", precision: int = 4) -> str:
        """The self-contained HTML report (`--format html`): the circuit, stepping through the
        backward pass, tooltips, the narration in `lang`."""
        return self.format("html", lang=lang, precision=precision)

    def __str__(self) -> str:
        return self.format("table")

    def __repr__(self) -> str:
        out = self._run.graph.symbol if self._made is not None else "f"
        return f"<bpcli.Result {out} = {self.value!r}, ∂{out}/∂ of {', '.join(self.grads)}>"

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
        nodes = self.nodes
        shown = (
            nodes
            if len(nodes) <= NOTEBOOK_NODES
            else nodes[: NOTEBOOK_NODES // 2] + nodes[-NOTEBOOK_NODES // 2 :]
        )
        for k, node in enumerate(shown):
            if len(shown) < len(nodes) and k == NOTEBOOK_NODES // 2:
                left = len(nodes) - len(shown)
                rows.append(f"<tr><td colspan='6'>… {left:,} nodes left out (r.nodes has them all)</td></tr>")
            flows = "<br>".join(
                escape(
                    f"→ {graph.ref(graph.nodes[e.input])}: local {one_line(e.local, 4)},"
                    f" downstream {one_line(e.downstream, 4)}"
                )
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
        picture = _svg(self.to_dot()) if len(nodes) <= NOTEBOOK_NODES else ""
        return (
            f"<div class='bpcli-result'>{picture}<table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            f"<p><code>{escape(f'{graph.output_text} = {one_line(self.value, 4)}')}</code></p>"
            f"<ul>{grads}</ul></div>"
        )


class Program:
    """A program parsed once: `grad(**bindings)` runs it at a point, sharing its graph with
    every other point where only the numbers differ (the batch command's fast path)."""

    @_python_errors
    def __init__(
        self, source: str | os.PathLike[str], *, seed: int | None = None, max_elements: int = MAX_ELEMENTS
    ) -> None:
        from bpcli.batch.reuse import ProgramCache
        from bpcli.language.parse import parse

        self.source = _source(source)
        self._name = os.fspath(source) if source != self.source else self.source  # (its path, if read)
        self._cache: ProgramCache = ProgramCache(max_elements=max_elements, seed=_seed(seed))
        try:
            parse(self.source)  # a syntax error is raised here, at compile time
        except ParseError:
            raise
        except BpcliError:
            pass  # no value for x, …: what the points will give

    @_python_errors
    def grad(self, bindings: Mapping[str, Any] | None = None, /, **more: Any) -> Result:
        """f and its gradients with the inputs bound to these values (a mapping, for names
        such as `seed` that are keywords here, and keyword arguments)."""
        return Result(self._cache.run(self.source, _bindings({**(bindings or {}), **more})))

    @_python_errors
    def grad_many(self, points: Iterable[Mapping[str, Any]]) -> list[Result]:
        """`grad` at each point, in order (a point whose evaluation fails raises its error,
        with `point`, its index, set). Many points
        of plain numbers with the same names go through the program together, as numpy
        arrays, with the same numbers to the bit (see bpcli.batch.vector)."""
        import gc

        from bpcli.batch.vector import points_at

        points = list(points)
        for k, point in enumerate(points):
            if not isinstance(point, Mapping):
                raise TypeError(f"point {k} is a {type(point).__name__}, not a mapping of names to values")
        results = []
        if points:
            results.append(self._at(0, points[0]))  # (it builds the graph the others share)
        collecting = gc.isenabled()
        gc.disable()  # a few objects a point, none of them garbage: no cycles to look for
        try:
            found = points_at(self._cache, self.source, points)
            for k, (point, got) in enumerate(zip(points[1:], found[1:], strict=True), 1):
                results.append(self._at(k, point) if got is None else Result._of_point(*got))
        finally:
            if collecting:
                gc.enable()
        return results

    def _at(self, k: int, point: Mapping[str, Any]) -> Result:
        """grad at the k-th point of grad_many; its error says which point it was."""
        try:
            return self.grad(point)
        except BpcliError as err:
            err.point = k
            if hasattr(err, "add_note"):  # (Python 3.11 on: the traceback shows it)
                err.add_note(f"at point {k} of grad_many")
            raise

    def __repr__(self) -> str:
        return f"<bpcli.Program {self._name[:60]!r}>"


@_python_errors
def grad(
    program: str | os.PathLike[str],
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

    seed = _seed(seed)
    given = _bindings({**(bindings or {}), **more}, seed)
    flowing = None if upstream is None else (None, _array("upstream", upstream))
    graph = parse(_source(program), given, False, max_elements, seed, output, flowing)
    return Result(run(graph, record=True))


def compile(
    program: str | os.PathLike[str], /, *, seed: int | None = None, max_elements: int = MAX_ELEMENTS
) -> Program:
    """Parse `program` once, to run it at many points: `compile(p).grad(x=1, y=2)`."""
    return Program(program, seed=seed, max_elements=max_elements)


class CheckResult:
    """A student's answers checked against the truth: `ok` (all right), `results` (one
    record for each answer, as `bpcli check --format json` writes them: name, means, answer,
    truth, ok, note, diagnosis) and `first_wrong` (the record of the first wrong step, or
    None); `str()` is the report the command line prints."""

    def __init__(
        self,
        document: dict[str, Any],
        report: str,
        page: Callable[[], str] | None = None,
        notebook: Callable[[], str] | None = None,
    ) -> None:
        self.results: list[dict[str, Any]] = document["results"]
        self.ok: bool = all(r["ok"] for r in self.results)
        self.first_wrong: dict[str, Any] | None = next(
            (r for r in self.results if r["diagnosis"] is not None and r["diagnosis"]["first"]), None
        )
        self._report = report
        self._page = page
        self._notebook = notebook

    def __str__(self) -> str:
        return self._report

    def to_html(self) -> str:
        """The check as the HTML report (`bpcli check … -o report.html`): the answers marked
        on the circuit, right ✓ or wrong ✗, the first wrong step, the diagnoses on hover."""
        if self._page is None:
            raise ValueError("this CheckResult was made without its run")
        return self._page()

    def _repr_html_(self) -> str:
        """In Jupyter or IPython: the report as a colour terminal prints it."""
        if self._notebook is not None:
            return self._notebook()
        from html import escape

        return f"<pre class='bpcli-check'>{escape(self._report)}</pre>"

    def __repr__(self) -> str:
        right = sum(r["ok"] for r in self.results)
        return f"<bpcli.CheckResult {right} of {len(self.results)} right>"


@_python_errors
def check(
    program: str | os.PathLike[str],
    bindings: Mapping[str, Any] | None = None,
    /,
    *,
    answers: Mapping[str, Any],
    seed: int | None = None,
    output: str | None = None,
    upstream: Any = None,
    lang: Language = "en",
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
    if not answers:
        raise BindingError("no answers to check: give answers={name: value, …}")
    pairs: list[tuple[str, str, str | None]] = [(n, _answer_text(v, n), None) for n, v in answers.items()]
    verdicts = run_check(run, expectations(pairs, set(run.graph.names), run.graph.output.name))
    tr = Translator(lang)
    document = check_document(verdicts, run.graph, run.warnings, precision, tr)
    from bpcli.present import plain_console, write_parts

    buffer = io.StringIO()
    write_parts(check_report(verdicts, run.graph, precision, tr), buffer, plain_console(buffer, WIDTH))

    def page() -> str:
        from bpcli.present.grad import View, json_text
        from bpcli.present.html import check_page

        return check_page(run, json_text(run, View(precision, tr=tr)), verdicts, precision, tr)

    def notebook() -> str:
        from bpcli.present import parts_html

        return parts_html(check_report(verdicts, run.graph, precision, tr), WIDTH)

    return CheckResult(document, buffer.getvalue(), page, notebook)


class ClassResult:
    """A class checked against one run: `students` (one record a student, as `bpcli check
    --answers DIR --format jsonl` writes them: file, correct, total, first, kind, results;
    or file and error), `summary` (how the class did, each mistake at each step with how
    many made it) and `ok` (every student's every answer right); `str()` is the report."""

    def __init__(
        self, document: dict[str, Any], report: str, notebook: Callable[[], str] | None = None
    ) -> None:
        self.students: list[dict[str, Any]] = document["students"]
        self.summary: dict[str, Any] = document["summary"]
        self.warnings: list[str] = document["warnings"]
        self.ok: bool = self.summary["all_right"] == self.summary["files"]
        self._report = report
        self._notebook = notebook

    def __str__(self) -> str:
        return self._report

    def _repr_html_(self) -> str:
        """In Jupyter or IPython: the class report as a colour terminal prints it."""
        if self._notebook is not None:
            return self._notebook()
        from html import escape

        return f"<pre class='bpcli-class'>{escape(self._report)}</pre>"

    def __repr__(self) -> str:
        s = self.summary
        return f"<bpcli.ClassResult {s['files']} students: {s['all_right']} all right>"


@_python_errors
def check_class(
    program: str | os.PathLike[str],
    bindings: Mapping[str, Any] | None = None,
    /,
    *,
    students: Mapping[str, Mapping[str, Any] | str | os.PathLike[str]] | str | os.PathLike[str],
    seed: int | None = None,
    output: str | None = None,
    upstream: Any = None,
    lang: Language = "en",
) -> ClassResult:
    """Check a whole class against one run of `program` at `bindings`, as `bpcli check
    --answers DIR` does. `students` maps each student's name to their answers (a mapping, as
    `check` takes them, or the path of an answers file), or is a directory of answers files
    (its .txt files, sorted by name). A student whose answers cannot be read (a missing file,
    an answer naming nothing in the program) is a record with an error; the others go on."""
    from bpcli.core.run import freeze
    from bpcli.grading.answers import ANSWERS_SUFFIX, answers_files, read_answers
    from bpcli.present import classroom, parts_html, plain_console, write_parts
    from bpcli.streams import read_text
    from bpcli.texts import Translator

    if isinstance(students, str | os.PathLike):
        directory = os.fspath(students)
        try:
            taken, _ = answers_files(directory)
        except OSError as err:
            raise InputError(f"cannot read the directory {directory}: {err.strerror or err}") from None
        if not taken:
            raise InputError(f"{directory} is a directory with no {ANSWERS_SUFFIX} files")
        students = {name: os.path.join(directory, name) for name in taken}
    run = grad(program, bindings, seed=seed, output=output, upstream=upstream)._run
    freeze(run)
    graded = []
    for name, answers in students.items():
        try:
            if isinstance(answers, str | os.PathLike):
                path = os.fspath(answers)
                pairs = read_answers(read_text(path), name, os.path.dirname(path))
            else:
                pairs = [(n, _answer_text(v, n), name) for n, v in answers.items()]
            graded.append(classroom.grade(run, pairs, name, None))
        except BpcliError as err:
            graded.append(classroom.unreadable(name, str(err)))
    tr = Translator(lang)
    buffer = io.StringIO()
    write_parts(classroom.class_report(graded, tr), buffer, plain_console(buffer, WIDTH))
    document = classroom.class_document(graded, run.warnings)

    def notebook() -> str:
        return parts_html(classroom.class_report(graded, tr), WIDTH)

    return ClassResult(document, buffer.getvalue(), notebook)


def _answer_text(value: Any, name: str) -> str:
    """An answer as a student writes it: a string as it is, a number as Python prints it,
    an array as a nested list of them."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    from bpcli.lazy import np

    try:
        if value is None or isinstance(value, bool):
            raise TypeError(f"{value} is not a number")
        return repr(np.asarray(value, dtype=float).tolist())
    except (TypeError, ValueError) as err:
        raise BindingError(f"the answer {name}: {err}") from None


def _svg(dot: str) -> str:
    """The circuit drawn by Graphviz as inline SVG (its placement search bounded, at most 10
    s); "" when dot is not installed, fails or takes longer."""
    from bpcli.present.dot import svg_text

    return svg_text(dot, timeout=10.0, bounded=True) or ""


def _source(program: str | os.PathLike[str]) -> str:
    """The program's text: read from the file when `program` is a path, or names a .bp or
    .txt file."""
    if isinstance(program, os.PathLike):
        program = os.fspath(program)
        if not os.path.exists(program):
            raise InputError(f"no file {program}")
        from bpcli.streams import read_text

        return read_text(program)
    if not isinstance(program, str):
        raise TypeError(f"a program is text or a path, not {type(program).__name__}")
    if program.endswith(PROGRAM_SUFFIXES) and "\n" not in program:
        from bpcli.streams import read_text

        if not os.path.exists(program):
            raise InputError(f"no file {program}")
        return read_text(program)
    return program


def _seed(seed: Any) -> int | None:
    """`seed=` as numpy's np.random takes it, or a BindingError (as the command line refuses
    --seed -1), whether or not the program draws anything."""
    from bpcli.language.randomness import MAX_SEED

    if seed is None:
        return None
    try:
        whole = operator.index(seed)  # (an int, or numpy's: np.int64(7))
    except TypeError:
        whole = -1
    if isinstance(seed, bool) or not 0 <= whole <= MAX_SEED:
        raise BindingError(f"seed={seed!r}: a seed is a whole number from 0 to 2**32 - 1 (0, 42, 231)")
    return whole


def _bindings(given: Mapping[str, Any], seed: int | None = None) -> dict[str, Value | Params]:
    """The bindings as the core takes them (`seed`: for a string's randn(…), as on the
    command line)."""
    return {name: _value(name, value, seed) for name, value in given.items()}


def _array(name: str, value: Any) -> Value:
    """A value that must be a number or an array (an upstream gradient)."""
    got = _value(name, value)
    if isinstance(got, dict):
        raise BindingError(f"{name}: a gradient is a number or an array, not {type(value).__name__}")
    return got


def _value(name: str, value: Any, seed: int | None = None) -> Value | Params:
    """A binding's value as the core takes it: a float, a float array, or a dict of
    parameters (conv_param). A string is read as the command line reads NAME=VALUE
    ("@W.npy", "[[1, 2], [3, 4]]", "randn(3, 4)"), a path as the file it names."""
    if isinstance(value, str | os.PathLike):
        from bpcli.language.bindings import parse_binding

        text = value if isinstance(value, str) else "@" + os.fspath(value)
        return parse_binding(f"{name}={text}", seed, [])[1]
    if isinstance(value, bool) or value is None:
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
