"""Which way a batch's problems go: one at a time in this process, `--program`'s points
together (bpcli.batch.vector), or spread over worker processes (bpcli.batch.workers). Each
way is built on bpcli.batch.solve, which solves a problem and writes its record.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from bpcli.batch.lines import Source, read_lines
from bpcli.batch.solve import Options, Result, Solver
from bpcli.errors import EXIT_OK

if TYPE_CHECKING:
    from bpcli.batch.workers import Output


def solve_all(
    sources: Iterable[Source], options: Options, jobs: int = 1
) -> Generator[Result | Output, None, None]:
    """(output text, [(source, line, status) of failures], problems solved) for the problems
    of (name, raw lines) sources, in input order: one a problem, or with jobs > 1 one a run of
    lines (its records already encoded, as bytes), spread over that many processes with only
    a few runs in flight at a time, so that memory stays flat however long the input and
    whatever its lines. An InputError reading the input comes after the records of every
    line before it."""
    if options.program is not None:
        options, sources = _points_at_once(options, sources)
    if jobs <= 1:
        solver = Solver(options)
        if options.points:
            yield from _solve_points(solver, sources)
            return
        for line in read_lines(sources):
            text, status = solver.solve_line(line)
            yield text, [] if status == EXIT_OK else [(line[0], line[1], status)], 1
        return
    yield from _solve_in_workers(sources, options, jobs)


def _points_at_once(options: Options, sources: Iterable[Source]) -> tuple[Options, Iterable[Source]]:
    """The options with `points` set when --program's points are taken in runs (see
    bpcli.batch.vector), and the sources to read."""
    from bpcli.batch import vector

    if not vector.applies(options):
        return options, sources
    take, chosen = vector.worth_it(list(sources))
    return (replace(options, points=True) if take else options), chosen


def _solve_points(solver: Solver, sources: Iterable[Source]) -> Iterator[Result]:
    """solve_all's records for --program points taken in runs (bpcli.batch.vector)."""
    from bpcli.batch.vector import Points, runs

    points = Points(solver)
    for run in runs(sources):
        yield points.solve(run)


def _solve_in_workers(sources: Iterable[Source], options: Options, jobs: int) -> Iterator[Output]:
    """solve_all with worker processes (bpcli.batch.workers)."""
    from bpcli.batch.workers import solve_in_workers

    return solve_in_workers(sources, options, jobs)
