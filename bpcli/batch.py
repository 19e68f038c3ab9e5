"""`bpcli batch`: many problems in, one result record per problem out, in input order.

Problems stream from files or stdin: one per line of text (`x=-2; y=5; f=(x+y)*z`), one per
JSON Lines record, or one per `.bp` file. A problem that fails becomes an error record and
the rest go on. With `--program`, every line gives bindings for one program, which is parsed
once and evaluated at each point.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bpcli.bindings import array_from_json, parse_binding, parse_value
from bpcli.errors import BindingError, BpcliError, InputError
from bpcli.graph import Graph
from bpcli.lazy import all_finite, np
from bpcli.limits import MAX_ELEMENTS
from bpcli.reuse import ProgramCache

FORMATS = ("jsonl", "table", "csv")
INPUT_FORMATS = ("auto", "text", "jsonl")
CSV_COLUMNS = ("source", "line", "id", "output", "value", "name", "gradient", "error")


@dataclass(slots=True)
class Problem:
    """One problem as read: where it came from, its program and its own bindings."""

    source: str
    line: int
    program: str | None
    bindings: dict[str, Any] = field(default_factory=dict)  # from JSON: values, or texts to parse
    id: Any = None
    binding_text: str | None = None  # with --program, a text line of bindings: x=1 y=2
    error: str | None = None  # the record itself is malformed


@dataclass(slots=True)
class Options:
    """What every problem shares."""

    output_format: str = "jsonl"
    nodes: bool = False
    precision: int = 4
    program: str | None = None  # --program: one program for every problem
    common: dict[str, Any] = field(default_factory=dict)  # --bind / --at, already parsed
    seed: int | None = None
    input_format: str = "auto"
    max_elements: int = MAX_ELEMENTS  # --max-elements
    full: bool = False  # --full: JSON arrays in full, however big


@dataclass(slots=True)
class Solved:
    """A problem's result, rendered in the output format."""

    text: str
    ok: bool
    line: int
    source: str


# --- reading --------------------------------------------------------------------------------


Line = tuple[str, int, str, bool]  # source, line number, text, whole file (.bp)


def read_lines(sources: Iterable[tuple[str, Iterable[str]]], first: int = 1) -> Iterator[Line]:
    """The problem texts of (name, lines) sources: each line that is not blank or a comment,
    or a whole `.bp` file. (`first`: the number of the first line.)"""
    for name, lines in sources:
        if name.endswith(".bp"):
            yield name, 1, "".join(lines), True
            continue
        for number, raw in enumerate(lines, start=first):
            text = raw.strip()
            if text and not text.startswith("#"):
                yield name, number, text, False


def to_problem(line: Line, input_format: str, one_program: bool) -> Problem:
    """Read one problem: a program, a JSON record, or (with --program) bindings."""
    source, number, text, whole = line
    if whole:
        return Problem(source, number, text)
    if input_format == "jsonl" or (input_format == "auto" and text.startswith("{")):
        return _json_problem(source, number, text, one_program)
    if one_program:
        return _bindings_problem(source, number, text)
    return Problem(source, number, text)


def _json_problem(source: str, line: int, text: str, one_program: bool) -> Problem:
    try:
        record = json.loads(text)
    except ValueError as err:
        return Problem(source, line, None, error=f"not a JSON object: {err}")
    except RecursionError:
        return Problem(source, line, None, error="not a JSON object: it is nested too deeply")
    if not isinstance(record, dict):
        return Problem(source, line, None, error="a JSON Lines record must be an object")
    ident = record.get("id")
    program = record.get("program")
    if program is not None and not isinstance(program, str):
        return Problem(source, line, None, id=ident, error='"program" must be a string')
    bindings = record.get("bindings")
    if bindings is None and one_program and program is None:
        bindings = {k: v for k, v in record.items() if k != "id"}
    if bindings is None:
        bindings = {}
    if not isinstance(bindings, dict):
        return Problem(source, line, None, id=ident, error='"bindings" must be an object')
    if program is None and not one_program:
        return Problem(source, line, None, id=ident,
                       error='the record has no "program" (or give --program)')
    return Problem(source, line, program, bindings, ident)


def _bindings_problem(source: str, line: int, text: str) -> Problem:
    """A text line of bindings for --program: `x=1 y=2` or `x=1; y=2`."""
    return Problem(source, line, None, binding_text=text)


# --- solving ---------------------------------------------------------------------------------


class Solver:
    """Solves problems one by one; keeps the --program graph to evaluate it at each point."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.programs = ProgramCache(max_elements=options.max_elements)
        # The compiled path writes JSON Lines records only, without nodes.
        self._fast: Any = None
        if options.output_format == "jsonl" and not options.nodes:
            if options.program is None:
                self._fast = None if options.input_format == "jsonl" else self._fast_program
            elif options.input_format != "text":
                self._fast = self._fast_point
        self._scan = json.JSONDecoder().scan_once
        self._form: tuple[Any, ...] = (None, None, None)  # (template, key, form) last used

    def solve_line(self, line: Line) -> tuple[str, bool]:
        """One problem's record, and whether it was solved."""
        if self._fast is not None and not line[3]:
            text = self._fast(line)
            if text is not None:
                return text, True
        solved = self.solve(to_problem(line, self.options.input_format,
                                       self.options.program is not None))
        return solved.text, solved.ok

    # The compiled path: a problem whose program was seen before is evaluated by its compiled
    # graph (bpcli.compiled) and its record filled in from a form made once. None sends the
    # problem the ordinary way (first sight, errors, kinks, arrays, strings to parse, ids of
    # any kind...). Both paths write the same bytes: tests/test_compiled.py compares them.

    def _fast_program(self, line: Line) -> str | None:
        """A line of text that is a whole program: `w=2; x=-1; f = w*x`."""
        source, number, text, _ = line
        if text.startswith("{"):
            return None
        hit = self.programs.fast(text, self.options.common)
        return None if hit is None else self._record(source, number, None, *hit)

    def _fast_point(self, line: Line) -> str | None:
        """With --program, a JSON record of numbers: {"x": 1.5, "y": -2}."""
        source, number, text, _ = line
        if not text.startswith("{"):
            return None
        try:
            record, end = self._scan(text, 0)
        except (ValueError, StopIteration, RecursionError):
            return None
        if end != len(text) or "program" in record or "bindings" in record:
            return None
        ident = record.pop("id", None)
        for value in record.values():  # finite numbers only, as _json_value wants them
            if type(value) is float:
                if value - value != 0.0:
                    return None
            elif type(value) is not int or not -_INT_LIMIT < value < _INT_LIMIT:
                return None  # strings to parse, arrays, true, 10**400...: the ordinary path
        common = self.options.common
        hit = self.programs.fast(self.options.program,  # type: ignore[arg-type]
                                 {**common, **record} if common else record)
        return None if hit is None else self._record(source, number, ident, *hit)

    def _record(self, source: str, number: int, ident: Any, template: Any,
                numbers: list[str], result: tuple[float, ...]) -> str | None:
        key = (source, ident is not None)
        last, last_key, form = self._form
        if template is not last or key != last_key:
            form = template.memo.get(key)
            if form is None:
                form = template.memo[key] = _record_form(
                    template.graph, source, ident is not None, template.output_skeleton is not None)
            self._form = (template, key, form)
        if form is False:
            return None
        head: tuple[Any, ...] = (number,)
        if ident is not None:
            head += (json.dumps(ident, ensure_ascii=False, separators=(",", ":")),)
        if template.output_skeleton is not None:
            head += (json.dumps(template.output_text(numbers), ensure_ascii=False),)
        return form % (head + result)  # type: ignore[no-any-return]

    def solve(self, problem: Problem) -> Solved:
        base = {"source": problem.source, "line": problem.line}
        if problem.id is not None:
            base["id"] = problem.id
        try:
            if problem.error is not None:
                raise InputError(problem.error)
            graph = self._graph(problem)
        except BpcliError as err:
            return Solved(self._error_text(base, str(err)), False, problem.line, problem.source)
        except RecursionError:  # pragma: no cover - nothing recurses; a safety net only
            return Solved(self._error_text(base, "the problem is too deeply nested"), False,
                          problem.line, problem.source)
        except MemoryError:
            return Solved(self._error_text(base, "out of memory: the problem is too big"), False,
                          problem.line, problem.source)
        return Solved(self._result_text(base, graph), True, problem.line, problem.source)

    def _bindings(self, problem: Problem) -> dict[str, Any]:
        values = dict(self.options.common)
        for piece in (problem.binding_text or "").replace(";", " ").split():
            name, value = parse_binding(piece, self.options.seed,
                                        max_elements=self.options.max_elements)
            values[name] = value
        for name, raw in problem.bindings.items():
            values[name] = _json_value(name, raw, self.options.seed, self.options.max_elements)
        return values

    def _graph(self, problem: Problem) -> Graph:
        program = problem.program if problem.program is not None else self.options.program
        if program is None:
            raise InputError("no program")
        return self.programs.run(program, self._bindings(problem), self._tidy)

    def _tidy(self, graph: Graph) -> None:
        """A binding given to every problem may be unused by some: that is no news."""
        shared = {f"the binding {n}=… is not used by the program" for n in self.options.common}
        graph.warnings[:] = [w for w in graph.warnings if w not in shared]

    def _result_text(self, base: dict[str, Any], graph: Graph) -> str:
        fmt = self.options.output_format
        if fmt == "table":
            return _table_text(base, graph, self.options.precision)
        from bpcli.present.jsonout import dumps, grad_document

        doc = {**base, **grad_document(graph, nodes=self.options.nodes, arrays=fmt == "jsonl")}
        if fmt == "csv":
            return _csv_text(base, doc)
        return dumps(doc, separators=(",", ":"), full=self.options.full) + "\n"

    def _error_text(self, base: dict[str, Any], message: str) -> str:
        fmt = self.options.output_format
        if fmt == "table":
            return f"── {base['source']}:{base['line']} ──\nerror: {message}\n\n"
        if fmt == "csv":
            return _csv_rows([[base["source"], base["line"], base.get("id", ""), "", "", "", "",
                               message]])
        return json.dumps({**base, "error": message}, ensure_ascii=False,
                          separators=(",", ":")) + "\n"


_INT_LIMIT = 2**1023  # larger JSON integers do not fit in a float
_MARK = "\x00bpcli\x00"  # stands for a number in a record's form; never in a source name


def _record_form(graph: Graph, source: str, has_id: bool, output_varies: bool) -> str | bool:
    """The JSON Lines record of this graph's problems as a %-format: the document
    `grad_document` gives, with %s for the line, the id and output (when given), the value
    and each gradient, in that order. False if the form cannot be made safely."""
    from bpcli.present.jsonout import grad_document

    doc: dict[str, Any] = {"source": source, "line": _MARK}
    if has_id:
        doc["id"] = _MARK
    doc.update(grad_document(graph, nodes=False))
    if output_varies:
        doc["output"] = _MARK
    doc["value"] = _MARK
    doc["grads"] = {name: _MARK for name in doc["grads"]}
    doc["warnings"] = list(graph.base_warnings or [])
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
    mark = json.dumps(_MARK)
    expected = 2 + has_id + output_varies + len(doc["grads"])
    if text.count(mark) != expected:
        return False
    return text.replace("%", "%%").replace(mark, "%s")


Task = tuple[str, int, list[str]]  # a source, the number of its first line, its raw lines


def solve_chunk(task: Task, options: Options) -> tuple[str, list[tuple[str, int]], int]:
    """For worker processes: read and solve a run of raw lines; one text back, where it
    failed, and how many problems there were. (The parent only cuts the input in runs:
    everything else happens here.)"""
    global _worker_solver
    if _worker_solver is None or _worker_solver.options != options:
        _worker_solver = Solver(options)
    name, first, raw = task
    texts, failed = [], []
    for line in read_lines([(name, raw)], first):
        text, ok = _worker_solver.solve_line(line)
        texts.append(text)
        if not ok:
            failed.append((line[0], line[1]))
    return "".join(texts), failed, len(texts)


_worker_solver: Solver | None = None


def _json_value(name: str, raw: Any, seed: int | None, max_elements: int = MAX_ELEMENTS) -> Any:
    if isinstance(raw, bool) or raw is None:
        raise BindingError(f"the binding {name} must be a number or an array, not {json.dumps(raw)}")
    if isinstance(raw, (int, float)):
        try:
            value = float(raw)
        except OverflowError:  # an integer of hundreds of digits
            raise BindingError(f"the binding {name} is too large for a float") from None
        if not math.isfinite(value):
            raise BindingError(f"the binding {name} must be finite")
        return value
    if isinstance(raw, str):
        return parse_value(name, raw, seed, max_elements=max_elements)
    if isinstance(raw, list):
        value = array_from_json(raw, f"the binding {name}", max_elements)
        if not (math.isfinite(value) if type(value) is float else all_finite(value)):
            raise BindingError(f"the binding {name} must be finite")
        return value
    raise BindingError(f"the binding {name} must be a number or an array")


def _table_text(base: dict[str, Any], graph: Graph, precision: int) -> str:
    import io

    from bpcli.present.table import grad_report
    from bpcli.streams import make_console

    buffer = io.StringIO()
    console = make_console(buffer)
    heading = f"── {base['source']}:{base['line']}" + (f" ({base['id']})" if "id" in base else "")
    console.print(heading + " ──")
    for renderable in grad_report(graph, precision):
        console.print(renderable)
    for warning in graph.warnings:
        console.print(f"warning: {warning}")
    console.print()
    return buffer.getvalue()


def _csv_text(base: dict[str, Any], doc: dict[str, Any]) -> str:
    rows = []
    value = doc["value"]
    for name, grad in doc["grads"].items():
        for suffix, element in _elements(grad):
            rows.append([base["source"], base["line"], base.get("id", ""), doc["output"],
                         _cell(value), name + suffix, repr(element), ""])
    return _csv_rows(rows)


def _elements(value: Any) -> Iterator[tuple[str, float]]:
    """(index suffix, number) for a float or each element of nested lists."""
    if not isinstance(value, list):
        yield "", value
        return
    array = np.asarray(value)
    for index in np.ndindex(array.shape):
        yield "[" + ",".join(map(str, index)) + "]", float(array[index])


def _cell(value: Any) -> str:
    return repr(value) if not isinstance(value, list) else json.dumps(value)


def _csv_rows(rows: list[list[Any]]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def csv_header() -> str:
    return _csv_rows([list(CSV_COLUMNS)])


# --- running -----------------------------------------------------------------------------------

CHUNK = 1000  # lines per task sent to a worker process


def solve_all(sources: Iterable[tuple[str, Iterable[str]]], options: Options, jobs: int = 1
              ) -> Iterator[tuple[str, list[tuple[str, int]], int]]:
    """(output text, [(source, line) of failures], problems solved) for the problems of
    (name, lines) sources, in input order: one a problem, or with jobs > 1 one a run of
    lines, spread over that many processes with only a few runs in flight at a time, so
    that memory stays flat however long the input."""
    if jobs <= 1:
        solver = Solver(options)
        for line in read_lines(sources):
            text, ok = solver.solve_line(line)
            yield text, [] if ok else [(line[0], line[1])], 1
        return
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    pending: deque[Any] = deque()
    executor = ProcessPoolExecutor(jobs, initializer=_quiet_worker)
    try:
        for task in _tasks(sources, CHUNK):
            pending.append(executor.submit(solve_chunk, task, options))
            while len(pending) > 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _tasks(sources: Iterable[tuple[str, Iterable[str]]], size: int) -> Iterator[Task]:
    """Runs of `size` raw lines (a `.bp` file whole), cut without looking at them."""
    from itertools import islice

    for name, lines in sources:
        if name.endswith(".bp"):
            yield name, 1, list(lines)
            continue
        each, first = iter(lines), 1
        while run := list(islice(each, size)):
            yield name, first, run
            first += len(run)


def _quiet_worker() -> None:
    """Workers leave Ctrl-C to the parent, which stops them."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
