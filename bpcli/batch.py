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

from bpcli.bindings import parse_binding, parse_value
from bpcli.errors import BindingError, BpcliError, InputError
from bpcli.graph import Graph
from bpcli.lazy import all_finite, np
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


@dataclass(slots=True)
class Solved:
    """A problem's result, rendered in the output format."""

    text: str
    ok: bool
    line: int
    source: str


# --- reading --------------------------------------------------------------------------------


Line = tuple[str, int, str, bool]  # source, line number, text, whole file (.bp)


def read_lines(sources: Iterable[tuple[str, Iterable[str]]]) -> Iterator[Line]:
    """The problem texts of (name, lines) sources: each line that is not blank or a comment,
    or a whole `.bp` file."""
    for name, lines in sources:
        if name.endswith(".bp"):
            yield name, 1, "".join(lines), True
            continue
        for number, raw in enumerate(lines, start=1):
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
        self.programs = ProgramCache()

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
            name, value = parse_binding(piece, self.options.seed)
            values[name] = value
        for name, raw in problem.bindings.items():
            values[name] = _json_value(name, raw, self.options.seed)
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
        from bpcli.present.jsonout import grad_document

        doc = {**base, **grad_document(graph, nodes=self.options.nodes)}
        if fmt == "csv":
            return _csv_text(base, doc)
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"

    def _error_text(self, base: dict[str, Any], message: str) -> str:
        fmt = self.options.output_format
        if fmt == "table":
            return f"── {base['source']}:{base['line']} ──\nerror: {message}\n\n"
        if fmt == "csv":
            return _csv_rows([[base["source"], base["line"], base.get("id", ""), "", "", "", "",
                               message]])
        return json.dumps({**base, "error": message}, ensure_ascii=False,
                          separators=(",", ":")) + "\n"


def solve_chunk(chunk: list[Line], options: Options) -> tuple[str, list[tuple[str, int]], int]:
    """For worker processes: read and solve a run of lines; one text back, and where it
    failed. (The parent only reads lines: everything else happens here.)"""
    global _worker_solver
    if _worker_solver is None or _worker_solver.options != options:
        _worker_solver = Solver(options)
    one_program = options.program is not None
    texts, failed = [], []
    for line in chunk:
        solved = _worker_solver.solve(to_problem(line, options.input_format, one_program))
        texts.append(solved.text)
        if not solved.ok:
            failed.append((solved.source, solved.line))
    return "".join(texts), failed, len(chunk)


_worker_solver: Solver | None = None


def _json_value(name: str, raw: Any, seed: int | None) -> Any:
    if isinstance(raw, bool) or raw is None:
        raise BindingError(f"the binding {name} must be a number or an array, not {json.dumps(raw)}")
    if isinstance(raw, (int, float)):
        value = float(raw)
        if not math.isfinite(value):
            raise BindingError(f"the binding {name} must be finite")
        return value
    if isinstance(raw, str):
        return parse_value(name, raw, seed)
    if isinstance(raw, list):
        try:
            value = np.array(raw, dtype=float)
        except (ValueError, TypeError):
            raise BindingError(f"the binding {name} is not a rectangular array of numbers") from None
        if not all_finite(value):
            raise BindingError(f"the binding {name} must be finite")
        return float(value) if value.ndim == 0 else value
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

CHUNK = 200  # problems per task sent to a worker process


def solve_all(lines: Iterable[Line], options: Options, jobs: int = 1
              ) -> Iterator[tuple[str, list[tuple[str, int]], int]]:
    """(output text, [(source, line) of failures], problems solved), in input order: one a
    problem, or with jobs > 1 one a chunk, spread over that many processes with only a few
    chunks in flight at a time, so that memory stays flat however long the input."""
    if jobs <= 1:
        solver = Solver(options)
        one_program = options.program is not None
        for line in lines:
            solved = solver.solve(to_problem(line, options.input_format, one_program))
            yield solved.text, [] if solved.ok else [(solved.source, solved.line)], 1
        return
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    pending: deque[Any] = deque()
    executor = ProcessPoolExecutor(jobs, initializer=_quiet_worker)
    try:
        for chunk in _chunks(lines, CHUNK):
            pending.append(executor.submit(solve_chunk, chunk, options))
            while len(pending) > 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _chunks(items: Iterable[Line], size: int) -> Iterator[list[Line]]:
    chunk: list[Line] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _quiet_worker() -> None:
    """Workers leave Ctrl-C to the parent, which stops them."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
