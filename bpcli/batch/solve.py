"""`bpcli batch`: many problems in, one result record per problem out, in input order.

Problems stream from files or stdin: one per line of text (`x=-2; y=5; f=(x+y)*z`), one per
JSON Lines record, or one per `.bp` file. A problem that fails becomes an error record and
the rest go on. With `--program`, every line gives bindings for one program, which is parsed
once and evaluated at each point.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, cast

from bpcli.batch.lines import Line
from bpcli.batch.reuse import ProgramCache, Template
from bpcli.core.graph import Graph
from bpcli.core.run import Run
from bpcli.errors import EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, BindingError, BpcliError, InputError
from bpcli.language.bindings import array_from_json, parse_binding, parse_value, split_bindings
from bpcli.language.objects import params
from bpcli.lazy import all_finite
from bpcli.limits import MAX_ELEMENTS, SMALLEST_NORMAL, tiny_number_problem
from bpcli.present.records import RecordBase, error_text, record_form, result_text
from bpcli.values import Params, Value

if TYPE_CHECKING:
    from numpy.random import Generator as Rng


FORMATS = ("jsonl", "table", "csv")
INPUT_FORMATS = ("auto", "text", "jsonl")


@dataclass(slots=True)
class Problem:
    """One problem as read: where it came from, its program and its own bindings."""

    source: str
    line: int
    program: str | None
    bindings: dict[str, object] = field(default_factory=dict)  # from JSON: values, or texts to parse
    id: object = None  # any JSON value
    binding_text: str | None = None  # with --program, a text line of bindings: x=1 y=2
    error: str | None = None  # the record itself is malformed
    output: str | None = None  # the record's "output": the name of the output (--output)
    upstream: object = None  # the record's "upstream": [NAME=]VALUE text, a number or an array


@dataclass(slots=True)
class Options:
    """What every problem shares."""

    output_format: str = "jsonl"
    nodes: bool = False
    precision: int = 4
    program: str | None = None  # --program: one program for every problem
    common: dict[str, Value | Params] = field(default_factory=dict)  # --bind / --at, already parsed
    seed: int | None = None
    input_format: str = "auto"
    max_elements: int = MAX_ELEMENTS  # --max-elements
    full: bool = False  # --full: JSON arrays in full, however big
    output: str | None = None  # --output NAME: every problem's output (a record's own wins)
    upstream: str | None = None  # --upstream [NAME=]VALUE: every problem's (a record's own wins)
    width: int = 80  # --format table: the columns its tables and texts fit in
    points: bool = False  # set by solve_all: --program points in runs (bpcli.batch.vector)


@dataclass(slots=True)
class Solved:
    """A problem's result, rendered in the output format."""

    text: str
    ok: bool
    line: int
    source: str
    internal: bool = False  # the error record is for a bug in bpcli


# --- reading --------------------------------------------------------------------------------


def to_problem(line: Line, input_format: str, one_program: bool) -> Problem:
    """Read one problem: a program, a JSON record, or (with --program) bindings."""
    source, number, text, kind = line
    if kind is not False:
        if kind is True:
            return Problem(source, number, text)
        return Problem(source, number, None, error=kind)
    if input_format == "jsonl" or (input_format == "auto" and text.startswith("{")):
        return _json_problem(source, number, text, one_program)
    if one_program:
        return _bindings_problem(source, number, text)
    return Problem(source, number, text)


def _json_problem(source: str, line: int, text: str, one_program: bool) -> Problem:
    if not one_program:
        plain = _plain_problem(source, line, text)
        if plain is not None:
            return plain
    try:
        record = json.loads(text, parse_float=_json_float, parse_constant=_json_constant)
    except _TinyNumber as err:
        return Problem(source, line, None, error=str(err))
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
    output = record.get("output")
    if output is not None and not isinstance(output, str):
        return Problem(source, line, None, id=ident, error='"output" must be a string: a name in the program')
    upstream = record.get("upstream")
    if upstream is not None and (isinstance(upstream, (bool, dict))):
        return Problem(
            source,
            line,
            None,
            id=ident,
            error='"upstream" must be a number, an array or a string ("dout=[1, -2]", "@dout.npy")',
        )
    bindings = record.get("bindings")
    if bindings is None and one_program and program is None:
        bindings = {k: v for k, v in record.items() if k not in RESERVED}
    if bindings is None:
        bindings = {}
    if not isinstance(bindings, dict):
        return Problem(source, line, None, id=ident, error='"bindings" must be an object')
    if program is None and not one_program:
        return Problem(source, line, None, id=ident, error='the record has no "program" (or give --program)')
    if program is not None and one_program:
        return Problem(
            source,
            line,
            None,
            id=ident,
            error='the record has a "program" of its'
            " own, and --program gives one: with --program, a record holds bindings",
        )
    others = sorted(set(record) - {"program", "bindings", *RESERVED})
    if others and ("bindings" in record or not one_program):
        return Problem(
            source,
            line,
            None,
            id=ident,
            error=f"the record has a key {others[0]!r}:"
            ' a record holds "program", "bindings", "output", "upstream" and "id" only (with'
            " --program, a point may also be the bindings themselves)",
        )
    return Problem(source, line, program, bindings, ident, output=output, upstream=upstream)


RESERVED = ("id", "output", "upstream")  # keys of a record that are never bindings
_PLAIN_KEYS = frozenset(("program", "bindings", "id"))
# A JSON value at a place in a text, and where it ends (json.loads without its checks of
# what is around it: a line is already stripped).
_scan_json: Callable[[str, int], tuple[object, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _plain_problem(source: str, line: int, text: str) -> Problem | None:
    """The common record, `{"program": "...", "bindings": {"x": 1.5, "n": 2}}` (and a string
    or integer "id"), read in one call: the Problem `_json_problem` makes of it. None for
    anything else, which `_json_problem` reads with every check (numbers that a float cannot
    hold as written, arrays, strings to parse, other keys, errors)."""
    try:
        record, end = _scan_json(text, 0)
    except (ValueError, StopIteration, RecursionError):
        return None
    if end != len(text) or type(record) is not dict or not _PLAIN_KEYS.issuperset(record):
        return None
    program = record.get("program")
    bindings = record.get("bindings")
    ident = record.get("id")
    if type(program) is not str or (ident is not None and type(ident) is not str and type(ident) is not int):
        return None
    if bindings is None:
        bindings = {}
    elif type(bindings) is not dict:
        return None
    for value in bindings.values():
        if type(value) is float:
            if not SMALLEST_NORMAL <= abs(value) < math.inf:  # 1e-400, 1e400, NaN: _json_float's
                return None
        elif type(value) is not int:
            return None
    return Problem(source, line, program, bindings, ident)


class _TinyNumber(ValueError):
    """A JSON number that a float cannot hold as written (1e-400, 1e400), or NaN."""


def _json_constant(text: str) -> float:
    raise _TinyNumber(f"{text} is not a JSON number (a record holds finite numbers only)")


def _json_float(text: str) -> float:
    value = float(text)
    if value - value != 0.0:
        raise _TinyNumber(f"{text} is too large for a float (at most about 1.8e308)")
    if -SMALLEST_NORMAL < value < SMALLEST_NORMAL:
        problem = tiny_number_problem(text, value)
        if problem is not None:
            raise _TinyNumber(problem)
    return value


def _bindings_problem(source: str, line: int, text: str) -> Problem:
    """A text line of bindings for --program: `x=1 y=2` or `x=1; y=2`."""
    return Problem(source, line, None, binding_text=text)


# --- solving ---------------------------------------------------------------------------------

# The record form used last, and what it was made for: (template, (source, has an id), form).
_LastForm: TypeAlias = "tuple[Template | None, tuple[str, bool] | None, str | Literal[False]]"


class Solver:
    """Solves problems one by one; keeps the --program graph to evaluate it at each point."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.programs = ProgramCache(
            max_elements=options.max_elements,
            seed=options.seed,
            first_sight=options.program is not None,  # --program: one program at every point
        )
        # The compiled path writes JSON Lines records only, without nodes.
        self._fast: Callable[[Line], str | None] | None = None
        if (
            options.output_format == "jsonl"
            and not options.nodes
            and options.output is None
            and options.upstream is None
        ):
            # (with --output or --upstream, each problem is parsed afresh: see ProgramCache.run)
            if options.program is None:
                self._fast = None if options.input_format == "jsonl" else self._fast_program
            elif options.input_format != "text":
                self._fast = self._fast_point
        # A JSON value and where it ends (_fast_point scans objects only: they hold JSON values,
        # which it checks itself).
        self._scan: Callable[[str, int], tuple[dict[str, Any], int]]
        self._scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # made in __init__, not in typeshed
        self._form: _LastForm = (None, None, False)

    def solve_line(self, line: Line) -> tuple[str, int]:
        """One problem's record, and its status: EXIT_OK, EXIT_FAILED (an error record), or
        EXIT_INTERNAL (an error record for a bug in bpcli). Whatever a line holds, it gets
        exactly one record: nothing a problem raises stops the batch."""
        try:
            if self._fast is not None and line[3] is False:
                text = self._fast(line)
                if text is not None:
                    return text, EXIT_OK
            solved = self.solve(to_problem(line, self.options.input_format, self.options.program is not None))
            return solved.text, EXIT_OK if solved.ok else EXIT_INTERNAL if solved.internal else EXIT_FAILED
        except RecursionError:
            return self._line_error(line, "the problem is too deeply nested"), EXIT_FAILED
        except MemoryError:
            return self._line_error(line, "out of memory: the problem is too big"), EXIT_FAILED
        except Exception as err:  # a bug in bpcli: this problem's record says so
            return self._line_error(line, _internal(err)), EXIT_INTERNAL

    def _line_error(self, line: Line, message: str) -> str:
        return self._error_text({"source": line[0], "line": line[1]}, message)

    # The compiled path: a problem whose program was seen before is evaluated by its compiled
    # graph (bpcli.core.compiled) and its record filled in from a form made once. None sends the
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
        if "output" in record or "upstream" in record:
            return None  # the ordinary path: the backward pass starts from a given gradient
        ident = record.pop("id", None)
        if ident is not None and type(ident) is not str and type(ident) is not int:
            return None  # 1.5, [1, NaN], 1e400...: the ordinary path checks every number
        for value in record.values():  # finite numbers only, as _json_value wants them
            if type(value) is float:
                if value - value != 0.0 or value == 0.0:  # 0.0 may be 1e-400: see _json_float
                    return None
            elif type(value) is not int or not -_INT_LIMIT < value < _INT_LIMIT:
                return None  # strings to parse, arrays, true, 10**400...: the ordinary path
        common = self.options.common
        hit = self.programs.fast(
            cast(str, self.options.program),  # set: _fast_point is for --program only
            {**common, **record} if common else record,
        )
        return None if hit is None else self._record(source, number, ident, *hit)

    def _record(
        self,
        source: str,
        number: int,
        ident: object,
        template: Template,
        numbers: list[str],
        result: tuple[float, ...],
    ) -> str | None:
        form = self.record_form(template, source, ident is not None)
        if form is False:
            return None
        head: tuple[object, ...] = (number,)
        if ident is not None:
            head += (json.dumps(ident, ensure_ascii=False, separators=(",", ":")),)
        if template.output_skeleton is not None:
            head += (json.dumps(template.output_text(numbers), ensure_ascii=False),)
        return form % (head + result)

    def record_form(self, template: Template, source: str, has_id: bool) -> str | Literal[False]:
        """The %-form of the JSON Lines records of a template's problems from `source` (see
        `bpcli.present.records.record_form`), made once; False where it cannot be made."""
        key = (source, has_id)
        form: str | Literal[False] | None
        last, last_key, form = self._form
        if template is not last or key != last_key:
            form = template.memo.get(key)
            if form is None:
                form = template.memo[key] = record_form(
                    template.graph, source, has_id, template.output_skeleton is not None
                )
            self._form = (template, key, form)
        return form

    def solve(self, problem: Problem) -> Solved:
        base: RecordBase = {"source": problem.source, "line": problem.line}
        if problem.id is not None:
            base["id"] = problem.id
        try:
            if problem.error is not None:
                raise InputError(problem.error)
            run = self._run(problem)
        except BpcliError as err:
            return Solved(self._error_text(base, str(err)), False, problem.line, problem.source)
        except RecursionError:  # pragma: no cover - nothing recurses; a safety net only
            return Solved(
                self._error_text(base, "the problem is too deeply nested"),
                False,
                problem.line,
                problem.source,
            )
        except MemoryError:
            return Solved(
                self._error_text(base, "out of memory: the problem is too big"),
                False,
                problem.line,
                problem.source,
            )
        except Exception as err:  # a bug in bpcli: this problem's record says so
            return Solved(
                self._error_text(base, _internal(err)), False, problem.line, problem.source, internal=True
            )
        return Solved(self._result_text(base, run), True, problem.line, problem.source)

    def _bindings(self, problem: Problem, rng: list[Rng] | None = None) -> dict[str, Value | Params]:
        values = dict(self.options.common)
        if rng is None:
            rng = []  # one generator a problem, seeded afresh: its draws are grad's
        text = (problem.binding_text or "").replace(";", " ")
        for piece in split_bindings(text) if "[" in text or "(" in text or "{" in text else text.split():
            name, value = parse_binding(piece, self.options.seed, rng, max_elements=self.options.max_elements)
            values[name] = value
        for name, raw in problem.bindings.items():
            values[name] = _json_value(name, raw, self.options.seed, self.options.max_elements, rng)
        return values

    def _run(self, problem: Problem) -> Run:
        program = problem.program if problem.program is not None else self.options.program
        if program is None:
            raise InputError("no program")
        output = problem.output if problem.output is not None else self.options.output
        upstream = problem.upstream if problem.upstream is not None else self.options.upstream
        if output is None and upstream is None:
            return self.programs.run(program, self._bindings(problem), self._tidy)
        rng: list[Rng] = []  # --upstream's randn(…) draws after the bindings', as in grad
        bindings = self._bindings(problem, rng)
        given = None if upstream is None else self._upstream(upstream, rng)
        return self.programs.run(program, bindings, self._tidy, output, given)

    def _upstream(self, raw: object, rng: list[Rng]) -> tuple[str | None, Value]:
        """A record's "upstream" (or --upstream): [NAME=]VALUE text, or a number or an array."""
        from bpcli.language.bindings import parse_upstream

        if isinstance(raw, str):
            return parse_upstream(raw, self.options.seed, rng, max_elements=self.options.max_elements)
        value = _json_value("upstream", raw, self.options.seed, self.options.max_elements, rng)
        if isinstance(value, dict):  # (a record's dict upstream is refused when it is read)
            raise BindingError('"upstream" is a number or an array, not an object')
        return None, value

    def _tidy(self, graph: Graph) -> Graph:
        """A binding given to every problem may be unused by some: that is no news."""
        if not self.options.common:
            return graph
        shared = {f"the binding {n}=… is not used by the program" for n in self.options.common}
        return graph.replace(warnings=tuple(w for w in graph.warnings if w not in shared))

    def _result_text(self, base: RecordBase, run: Run) -> str:
        options = self.options
        return result_text(
            base, run, options.output_format, options.nodes, options.precision, options.full, options.width
        )

    def _error_text(self, base: RecordBase, message: str) -> str:
        return error_text(base, message, self.options.output_format, self.options.width)


def _internal(err: Exception) -> str:
    """The error record's message for an exception that is a bug in bpcli."""
    detail = f"{type(err).__name__}: {err}"
    if len(detail) > 300:
        detail = detail[:300] + "…"
    return f"internal error: {detail}; this is a bug in bpcli, please report it with this problem"


_INT_LIMIT = 2**1023  # larger JSON integers do not fit in a float


def _json_value(
    name: str, raw: object, seed: int | None, max_elements: int = MAX_ELEMENTS, rng: list[Rng] | None = None
) -> Value | Params:
    if type(raw) is float and raw - raw == 0.0:  # a finite float, the common case, as below
        return raw
    if isinstance(raw, bool) or raw is None:
        raise BindingError(
            f"the binding {name} must be a number, an array or an object, not {json.dumps(raw)}"
        )
    if isinstance(raw, (int, float)):
        try:
            value = float(raw)
        except OverflowError:  # an integer of hundreds of digits
            raise BindingError(f"the binding {name} is too large for a float") from None
        if not math.isfinite(value):
            raise BindingError(f"the binding {name} must be finite")
        return value
    if isinstance(raw, str):
        return parse_value(name, raw, seed, rng, max_elements=max_elements)
    if isinstance(raw, list):
        array = array_from_json(raw, f"the binding {name}", max_elements)
        if not (math.isfinite(array) if isinstance(array, float) else all_finite(array)):
            raise BindingError(f"the binding {name} must be finite")
        return array
    if isinstance(raw, dict):  # {"conv_param": {"stride": 2, "pad": 1}}: parameters
        return params(raw, f"the binding {name}", max_elements)
    raise BindingError(f"the binding {name} must be a number, an array or an object")


# --- running -----------------------------------------------------------------------------------

Result = tuple[str, list[tuple[str, int, int]], int]  # records, failures (source, line, status), count
