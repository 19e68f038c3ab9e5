"""`batch --program` over many points in one numpy pass per run of lines.

With `--program`, each line gives one point. When the input is large, lines are taken in
runs of CHUNK: their JSON objects are read together, the program is evaluated once over all
of them as arrays (`bpcli.core.vectorised`), and the records are laid out all at once from
the same %-form the compiled path fills in (`bpcli.present.blocks`, with the floats in
repr's shortest form found by `bpcli.present.shortest`), so that they are the same to the
byte as the point-by-point ones. Any line that is not a plain point of numbers with the
run's names, and any point where the evaluation is out of the ordinary (an error, a kink, a
number that is not finite), is solved on its own by `Solver.solve_line`, as it always was;
records go out in input order.

This pays from about VECTOR_MIN points. numpy takes about 0.1 s of CPU to import, which the
point-by-point path never does; a point then costs about 5 µs of CPU less (about 4.5 µs
instead of 10: reading its JSON, about 1 µs, is now the largest part). So runs are taken
when the input's files hold at least VECTOR_MIN lines (their size over the first line's), or
from the start when numpy is already loaded; input from a pipe or a terminal is solved line
by line, so that a line's record never waits for the lines after it. BPCLI_POINTWISE=1 in
the environment turns it off (benchmarks/run.py measures both ways with it).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import chain, count, islice, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any, cast

from bpcli.batch.lines import BLANK, BOM, read_lines
from bpcli.batch.reuse import ProgramCache, Template, _key, skeleton
from bpcli.core.graph import Graph
from bpcli.core.vectorised import Points as Pass
from bpcli.core.vectorised import Vectorised, vectorise, written_numbers_fine
from bpcli.errors import EXIT_OK, BpcliError
from bpcli.lazy import np
from bpcli.present.blocks import lay_out
from bpcli.present.blocks import text as rows_text

if TYPE_CHECKING:
    from bpcli.batch.lines import Line, Raw, Source
    from bpcli.batch.solve import Options, Result, Solver
    from bpcli.core.run import Run
    from bpcli.present.blocks import Field
    from bpcli.values import Array, Value

    # f, the gradients, and what makes the point's run: see points_at
    Found = tuple[Any, dict[str, Value | None], Callable[[], Run]]

CHUNK = 8192  # lines read and evaluated together: a few MB of arrays, whatever the input
VECTOR_MIN = 20_000  # points in the input from which numpy's import pays (see the module)
RUN_MIN = 64  # fewer points than this in a run are solved one by one
ELEMENTS = 2**21  # at most this many values (and as many gradients) in one pass: 16 MB each
_NOT_BINDINGS = frozenset({"program", "bindings", "output", "upstream"})
_INT_LIMIT = 2**1023  # as bpcli.batch.solve: larger JSON integers do not fit in a float
_encode_string = json.encoder.encode_basestring  # json.dumps's, ensure_ascii=False


def applies(options: Options) -> bool:
    """Whether a batch with these options can take points in runs: --program, JSON Lines
    records without nodes, no --output or --upstream, numbers alone in --bind."""
    return (
        options.program is not None
        and options.output_format == "jsonl"
        and not options.nodes
        and options.output is None
        and options.upstream is None
        and options.input_format != "text"
        and not os.environ.get("BPCLI_POINTWISE")
        and all(type(v) is float or type(v) is int for v in options.common.values())
    )


def worth_it(sources: list[tuple[str, Iterable[Any]]]) -> tuple[bool, list[tuple[str, Iterable[Any]]]]:
    """Whether the input is large enough (see the module), and the sources to read (the first
    line of the first one was looked at)."""
    total = 0
    for name, _ in sources:
        size = _regular_size(name)
        if size is None:
            return False, sources
        total += size
    if "numpy" in sys.modules:
        return True, sources
    if not sources:
        return False, sources
    name, lines = sources[0]
    iterator = iter(lines)
    first = next(iterator, None)
    sources = [(name, chain([] if first is None else [first], iterator)), *sources[1:]]
    if type(first) is not bytes:
        return False, sources
    return total >= VECTOR_MIN * max(len(first), 1), sources


def _regular_size(name: str) -> int | None:
    """The size of a regular file input, or None for one that can wait (a pipe, a terminal)."""
    import stat

    try:
        if name == "stdin":
            stream = getattr(sys.stdin, "buffer", None)
            if stream is None:
                return 0  # text with no descriptor (a test's): never waits
            try:
                fd = stream.fileno()
            except (OSError, ValueError, AttributeError):
                return 0  # (as streams._may_wait: no descriptor, no waiting)
            status = os.fstat(fd)
        else:
            status = os.stat(name)
    except (OSError, ValueError):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def runs(sources: Iterable[Source], size: int = CHUNK) -> Iterator[list[Line]]:
    """The problems of the sources as `read_lines` gives them, in runs of at most `size`
    raw lines (a run may be empty). A run of lines that are all UTF-8, with no over-long line
    and no byte-order mark, is decoded at once; any other goes through `read_lines` itself.
    When an input cannot be read on, the lines before are given first, then the error."""
    for name, raw in sources:
        if name.endswith(".bp"):
            yield list(read_lines([(name, raw)]))
            continue
        failure: list[BpcliError] = []
        lines = iter(_until_error(raw, failure))
        number = 1
        while chunk := list(islice(lines, size)):
            yield _decoded(name, number, chunk)
            number += len(chunk)
        if failure:
            raise failure[0]


def _until_error(raw: Iterable[Raw], failure: list[BpcliError]) -> Iterator[Raw]:
    """The raw lines until one cannot be read; its error is put in `failure`."""
    try:
        yield from raw
    except BpcliError as err:
        failure.append(err)


def _decoded(name: str, first: int, chunk: list[Raw]) -> list[Line]:
    """read_lines over raw lines numbered from `first`, at once where it can be."""
    if (first == 1 and chunk[0][:3] == BOM) or set(map(type, chunk)) != {bytes}:  # type: ignore[index]
        return list(read_lines([(name, chunk)], first))
    try:
        whole = b"".join(chunk).decode("utf-8")  # type: ignore[arg-type]  # bytes, checked above
    except UnicodeDecodeError:
        return list(read_lines([(name, chunk)], first))
    texts = whole.split("\n")
    if whole.endswith("\n"):
        texts.pop()
    if len(texts) != len(chunk):  # pragma: no cover - each raw line ends at its one newline
        return list(read_lines([(name, chunk)], first))
    texts = list(map(str.strip, texts, repeat(BLANK, len(texts))))
    joined = "\n".join(texts)
    if "" not in texts and not joined.startswith("#") and "\n#" not in joined:
        return list(zip(repeat(name), count(first), texts, repeat(False)))
    return [
        (name, number, text, False)
        for number, text in enumerate(texts, start=first)
        if text and text[0] != "#"
    ]


class Points:
    """Solves runs of --program lines, the points together where it can (see the module)."""

    def __init__(self, solver: Solver) -> None:
        self.solver = solver
        self.program: str = solver.options.program or ""
        self.shape, self.numbers = skeleton(self.program)
        self.vectors: dict[Template, Vectorised | None] = {}
        self._scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # as Solver's
        self.together = 0  # the records made from a pass over many points (the tests look)

    def solve(self, lines: list[Line]) -> Result:
        """The lines' records, in order; where they failed (source, line, status); how many."""
        solver = self.solver
        texts: list[str | None] = [None] * len(lines)
        statuses = [EXIT_OK] * len(lines)
        try:
            self._points(lines, texts, statuses)
        except (MemoryError, RecursionError):  # pragma: no cover - each line alone says so
            texts = [None] * len(lines)
            statuses = [EXIT_OK] * len(lines)
        if None in texts:
            for index, text in enumerate(texts):
                if text is None:
                    texts[index], statuses[index] = solver.solve_line(lines[index])
        failed = []
        if statuses.count(EXIT_OK) != len(statuses):
            pairs = zip(lines, statuses, strict=True)
            failed = [(line[0], line[1], status) for line, status in pairs if status != EXIT_OK]
        return "".join(cast("list[str]", texts)), failed, len(lines)  # (every None was filled)

    def _points(self, lines: list[Line], texts: list[str | None], statuses: list[int]) -> None:
        """Fill in the records of the lines that are points evaluated together."""
        every = list(map(itemgetter(2), lines))
        # (no text holds a newline: the lines are each an object where the joined texts hold
        # a "\n{" between each two)
        if (
            any(map(itemgetter(3), lines))
            or not every
            or every[0][:1] != "{"
            or "\n".join(every).count("\n{") != len(every) - 1
        ):
            places = [i for i, line in enumerate(lines) if line[3] is False and line[2].startswith("{")]
            every = [lines[i][2] for i in places]
        else:  # (the usual: every line a JSON object)
            places = list(range(len(lines)))
        if len(places) < RUN_MIN or not written_numbers_fine(self.numbers):
            return
        docs = self._read(every)
        first = next((d for d in docs if type(d) is dict and _plain(d)), None)
        if first is None:
            return
        names = frozenset(first) - {"id"}
        if names & _NOT_BINDINGS:
            return
        common = self.solver.options.common
        bindings = {**common, **{n: first[n] for n in names}}
        key = _key(self.shape, bindings)
        template = self.solver.programs.templates.get(key)
        taken = None
        if template is None:  # the first point makes the kept graph, the ordinary way
            index = taken = places[docs.index(first)]
            texts[index], statuses[index] = self.solver.solve_line(lines[index])
            template = self.solver.programs.templates.get(key)
            if template is None:
                return
        if template not in self.vectors:
            if len(self.vectors) > 64:
                self.vectors.clear()
            self.vectors[template] = vectorise(template.graph, template.bound)
        vector = self.vectors[template]
        if vector is None:
            return
        has_id = "id" in first and first["id"] is not None
        wanted = names | {"id"} if has_id else names
        chosen_places, chosen_docs, rows = _chosen(places, docs, wanted, sorted(names), has_id, taken)
        if len(chosen_places) < RUN_MIN:
            return
        n = len(chosen_places)
        bad = np.zeros(n, dtype=bool)
        columns: dict[str, Array] = {}
        for name in vector.names:
            if name in names:
                column, failed = _column(rows[name])
                bad |= failed
            else:
                column = np.full(n, float(cast(float, common[name])))  # a number: see applies
            columns[name] = column
        form = self.solver.record_form(template, lines[places[0]][0], has_id)
        if form is False:
            return
        step = slice_size(template.graph)
        for start in range(0, n, step):
            part = slice(start, start + step)
            sliced = {name: column[part] for name, column in columns.items()}
            points = vector(sliced, len(chosen_places[part]))
            self._fill(
                lines, texts, template, points, bad[part], chosen_places[part], chosen_docs[part], form
            )

    def _fill(
        self,
        lines: list[Line],
        texts: list[str | None],
        template: Template,
        points: Pass,
        bad: Array,
        chosen: list[int],
        docs: list[dict[str, Any]],
        form: str,
    ) -> None:
        """The records of the chosen points that came out of the pass well, laid out all at
        once (`bpcli.present.blocks`): a run of them that are next to each other in the input
        is one text, at the first one's place (the others' are empty)."""
        kept = np.flatnonzero(~(bad | points.bad))
        if not len(kept):
            return
        graph = template.graph
        if len(kept) == len(chosen):
            places = chosen
        else:
            places = list(map(chosen.__getitem__, kept.tolist()))
        numbers = np.fromiter(
            map(itemgetter(1), map(lines.__getitem__, places)), dtype=np.int64, count=len(places)
        )
        fields: list[Field] = [numbers]
        if "id" in docs[0]:
            fields.append([_id_text(docs[i]["id"]) for i in kept.tolist()])
        if template.output_skeleton is not None:
            fields.append(json.dumps(template.output_text(self.numbers), ensure_ascii=False))
        fields.append(_floats(points.values[graph.output.id], kept))
        for name, node in graph.names.items():
            fields.append(_floats(points.grads[(graph.inputs.get(name) or node).id], kept))
        rows = lay_out(form, fields, len(places), integers=frozenset({0}))
        where = np.array(places)
        starts = [0, *(np.flatnonzero(np.diff(where) != 1) + 1).tolist()]
        for start, stop in zip(starts, [*starts[1:], len(places)], strict=True):
            first = places[start]
            texts[first : first + stop - start] = [rows_text(rows[start:stop])] + [""] * (stop - start - 1)
        self.together += len(places)

    def _read(self, texts: list[str]) -> list[Any]:
        """Each text as a JSON value, or None where it is not one value alone. All at once
        when no line holds a `[`: a value can then not run on from one line into the next
        (a string cannot hold a newline, and only an array's comma could join two lines),
        so that as many values as lines means a value a line."""
        joined = ",\n".join(texts)
        if "[" not in joined:
            try:
                values = json.loads("[" + joined + "]")
            except (ValueError, RecursionError):
                values = None
            if values is not None and len(values) == len(texts):
                return list(values)
        scan = self._scan
        read: list[Any] = []
        for text in texts:
            try:
                value, end = scan(text, 0)
            except (ValueError, StopIteration, RecursionError):
                value, end = None, -1
            read.append(value if end == len(text) else None)
        return read


def slice_size(graph: Graph) -> int:
    """How many points go through a graph in one pass (ELEMENTS over its nodes)."""
    return max(RUN_MIN, ELEMENTS // max(len(graph.nodes), 1))


def _chosen(
    places: list[int],
    docs: list[Any],
    wanted: frozenset[str],
    names: list[str],
    has_id: bool,
    taken: int | None,
) -> tuple[list[int], list[dict[str, Any]], dict[str, list[Any]]]:
    """The points that are objects with the wanted keys (ids a string or an integer), but
    the one taken already: their places, their objects, and each name's values."""
    if taken is None and set(map(type, docs)) == {dict} and set(map(len, docs)) == {len(wanted)}:
        try:  # (each object has as many keys as wanted: all of them, if none is missing)
            rows = {name: list(map(itemgetter(name), docs)) for name in wanted}
        except KeyError:
            pass
        else:
            if not has_id or set(map(type, rows["id"])) <= {str, int}:
                return places, docs, rows
    pairs = zip(places, docs, strict=True)
    if has_id:
        chosen = [
            (place, doc)
            for place, doc in pairs
            if type(doc) is dict and doc.keys() == wanted and type(doc["id"]) in (str, int)
        ]
    else:
        chosen = [(place, doc) for place, doc in pairs if type(doc) is dict and doc.keys() == wanted]
    if taken is not None:  # (solved already)
        chosen = [pair for pair in chosen if pair[0] != taken]
    kept_docs = [doc for _, doc in chosen]
    return (
        [place for place, _ in chosen],
        kept_docs,
        {name: list(map(itemgetter(name), kept_docs)) for name in names},
    )


def _plain(doc: dict[str, Any]) -> bool:
    """Whether a point's bindings are all numbers (the one a run's graph is found by)."""
    return all(type(v) is float or type(v) is int for k, v in doc.items() if k != "id")


def _column(raw: list[Any]) -> tuple[Array, Array]:
    """A bound name's numbers as float64, and the points that need the ordinary path: what
    the compiled path sends there (a float 0.0, which may be 1e-400 as written, or one that
    is not finite; an integer beyond a float's range) and anything that is not a number."""
    types = set(map(type, raw))
    if not types <= {float, int}:
        good = [type(v) is float or type(v) is int for v in raw]
        raw = [v if ok else 1.0 for v, ok in zip(raw, good, strict=True)]
        failed = ~np.array(good, dtype=bool)
    else:
        failed = np.zeros(len(raw), dtype=bool)
    if int in types:
        large = [type(v) is int and not -_INT_LIMIT < v < _INT_LIMIT for v in raw]
        if any(large):
            raw = [1.0 if big else v for v, big in zip(raw, large, strict=True)]
            failed |= np.array(large, dtype=bool)
    column = np.array(raw, dtype=float)
    zero = column == 0
    if zero.any():
        if int in types:
            zero &= np.array([type(v) is float for v in raw], dtype=bool)
        failed |= zero
    failed |= ~np.isfinite(column)
    return column, failed


def _floats(value: Any, kept: Any) -> Field:
    """A node's values or gradients at the kept points: an array, or one text for all of
    them where the pass made one float (or none: 0.0) for every point."""
    if value is None:
        return repr(0.0)
    if np.ndim(value) == 0:
        return repr(float(value))
    column: Array = np.asarray(value, dtype=np.float64)[kept]
    return column


def _id_text(ident: object) -> str:
    """An id as json.dumps writes it in a record (a string or an integer)."""
    return _encode_string(ident) if type(ident) is str else repr(ident)


# --- the Python API's grad_many ------------------------------------------------------------------

MANY_MIN = 64  # Program.grad_many takes fewer points one by one...
# ...and this many before it imports numpy for them: grad saves about 20 µs a point of the
# ~25 that `grad` costs, so the import (0.1 s) pays from about 5,000
MANY_MIN_COLD = 5_000


def points_at(cache: ProgramCache, source: str, points: list[Mapping[str, Any]]) -> list[Found | None]:
    """For each point, made from one pass over them all where it can be: f, the gradients as
    `engine.gradients` gives them, and a function that makes the engine's run of the point
    (made only when asked for: the nodes, a format); None where it cannot, and the caller
    runs that point on its own. The points that share the first one's names and hold plain
    numbers are taken together, once the program has been seen (the first point, run the
    ordinary way, builds the kept graph)."""
    found: list[Found | None] = [None] * len(points)
    enough = MANY_MIN if "numpy" in sys.modules else MANY_MIN_COLD
    if len(points) < enough:
        return found
    names = frozenset(points[0])
    chosen = [i for i, point in enumerate(points) if point.keys() == names and _numbers(point.values())]
    if len(chosen) < enough:
        return found
    shape, numbers = skeleton(source)
    template = cache.templates.get(_key(shape, dict.fromkeys(names, 1.0)))
    if template is None or not written_numbers_fine(numbers):
        return found
    vector = vectorise(template.graph, template.bound)
    if vector is None:
        return found
    graph = template.graph
    step = slice_size(graph)
    for start in range(0, len(chosen), step):
        part = chosen[start : start + step]
        n = len(part)
        columns = {name: np.array([points[i][name] for i in part], dtype=float) for name in vector.names}
        together = vector(columns, n)
        values = [[None] * n if v is None else together.column(v).tolist() for v in together.values]
        grads = [[None] * n if g is None else together.column(g).tolist() for g in together.grads]
        reported = []  # (name, its gradient's column, what engine.gradient says where there is none)
        for name, node in graph.names.items():
            node = graph.inputs.get(name) or node
            reported.append((name, grads[node.id], None if not node.needs_grad else 0.0))
        output = values[graph.output.id]
        for j, (i, bad) in enumerate(zip(part, together.bad.tolist(), strict=True)):
            if bad:
                continue
            got: dict[str, Value | None] = {
                name: none if column[j] is None else column[j] for name, column, none in reported
            }
            found[i] = (output[j], got, _run_maker(template, source, numbers, points[i], values, grads, j))
    return found


def _run_maker(
    template: Template,
    source: str,
    numbers: list[str],
    point: Mapping[str, Any],
    values: list[list[Any]],
    grads: list[list[Any]],
    j: int,
) -> Callable[[], Run]:
    """The engine's run at point j, made when called (see points_at)."""

    def make() -> Run:
        from bpcli.core.run import Run

        graph = template.apply(source, numbers, {name: float(value) for name, value in point.items()})
        assert graph is not None  # (the program's numbers were checked: written_numbers_fine)
        return Run(graph, [column[j] for column in values], [column[j] for column in grads], graph.warnings)

    return make


def _numbers(values: Iterable[object]) -> bool:
    """Whether every value is a plain number a float holds (not a bool, not 10**400)."""
    return all(type(v) is float or (type(v) is int and -_INT_LIMIT < v < _INT_LIMIT) for v in values)
