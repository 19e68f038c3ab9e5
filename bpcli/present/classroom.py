"""`bpcli check --answers FILE FILE…`: a whole class checked against one run of the program.

Each student's verdicts are first reduced to a `Student` (plain data: what was right, the
first wrong step, its kind), so that a class of hundreds holds no arrays. From those come
the table and the summary of mistakes for people, and one record a student (JSON Lines,
CSV, a JSON document) for a gradebook; the schemas are in the README.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bpcli.grading.answers import expectations
from bpcli.grading.diagnose import Verdict
from bpcli.present.check import first_wrong
from bpcli.texts import Translator

if TYPE_CHECKING:
    from rich.console import RenderableType

    from bpcli.core.run import Run
    from bpcli.grading.answers import Tolerance


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer of a student: its name as written, the step it answers, and its verdict."""

    name: str
    step: str  # what it answers: dW for ∂f/∂W, W for the value of W (a gradebook's column)
    ok: bool
    kind: str | None  # the kind of mistake, for a wrong answer
    own: bool = True  # a mistake made here, not one carried down from a wrong answer above


@dataclass(frozen=True, slots=True)
class Student:
    """One answers file checked: its answers, or why it could not be checked."""

    file: str  # the path as given; stdin for -
    answers: tuple[Answer, ...] = ()
    first: str | None = None  # the first wrong step, as written
    kind: str | None = None  # its kind of mistake
    error: str | None = None  # the file could not be checked: why

    @property
    def correct(self) -> int:
        return sum(a.ok for a in self.answers)

    @property
    def total(self) -> int:
        return len(self.answers)


@dataclass(frozen=True, slots=True)
class Mistake:
    """A kind of mistake at one step, and how many students made it."""

    kind: str
    step: str
    students: int


def step(verdict: Verdict, names: Collection[str]) -> str:
    """What an answer answers, one way however it was written (dW, df/dW, ∂f/∂W, grad(W)):
    dW for ∂f/∂W (df/dW where the program has a name dW of its own), W for a value."""
    name = verdict.expectation.name
    if not verdict.expectation.gradient:
        return name
    return f"d{name}" if f"d{name}" not in names else f"df/d{name}"


def graded(file: str, verdicts: Sequence[Verdict], names: Collection[str]) -> Student:
    """A student's verdicts as plain data (`names`: the program's, for `step`)."""
    answers = tuple(
        Answer(
            v.expectation.written,
            step(v, names),
            v.ok,
            None if v.ok else (v.finding.kind if v.finding is not None else "unknown"),
            v.finding is None or (v.finding.carried_from is None and not v.finding.follows),
        )
        for v in verdicts
    )
    first = first_wrong(list(verdicts))
    if first is None:
        return Student(file, answers)
    return Student(file, answers, first.expectation.written, first.finding.kind if first.finding else None)


def grade(
    run: Run, pairs: Sequence[tuple[str, str, str | None]], file: str, tol: Tolerance | None
) -> Student:
    """A student's answers (written, text, where) checked against the run; raises the
    BpcliError of an answer that cannot be read (it names where it stands)."""
    from bpcli.grading.diagnose import check  # (looked up at each call: tests replace it)

    if not pairs:
        return unreadable(file, f"{file} holds no answers")
    names = set(run.graph.names)
    verdicts = check(run, expectations(list(pairs), names, run.graph.output.name), tol)
    return graded(file, verdicts, names)


def unreadable(file: str, message: str) -> Student:
    return Student(file, error=message)


def shown_names(files: Sequence[str]) -> list[str]:
    """How the table names each file: without its directory when that name is unique in
    the class, else as given."""
    bases = [os.path.basename(f) or f for f in files]
    unique = len(set(bases)) == len(bases)
    return bases if unique else list(files)


def mistakes(students: Sequence[Student]) -> list[Mistake]:
    """Each kind of mistake at each step, with the number of students who made it, most
    common first (ties in the order they first appear). Every mistake a student made counts,
    not only their first wrong step; an answer that only follows from a wrong answer above
    it (or shares its mistake) does not. A student counts once for a kind at a step."""
    counts: dict[tuple[str, str], int] = {}
    for student in students:
        made = dict.fromkeys((a.kind or "unknown", a.step) for a in student.answers if not a.ok and a.own)
        for key in made:
            counts[key] = counts.get(key, 0) + 1
    order = {key: i for i, key in enumerate(counts)}
    ranked = sorted(counts, key=lambda key: (-counts[key], order[key]))
    return [Mistake(kind, where, counts[(kind, where)]) for kind, where in ranked]


def class_report(students: Sequence[Student], tr: Translator) -> list[RenderableType]:
    """The table (one row a student) and the summary of mistakes, for people."""
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold")
    table.add_column(tr("class.header.student"), overflow="fold", ratio=3, min_width=5)
    table.add_column(tr("class.header.right"), justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column(tr("class.header.first"), overflow="fold", ratio=4, min_width=6)
    table.add_column(tr("class.header.kind"), overflow="fold", ratio=2, min_width=6)
    for name, student in zip(shown_names([s.file for s in students]), students, strict=True):
        if student.error is not None:
            message = student.error.split("\n", 1)[0].replace(student.file, name)  # (once is enough)
            error = Text(message, style="red")
            table.add_row(name, "", Text("!", style="bold red"), error, tr("class.error"))
            continue
        right = student.correct == student.total
        mark = Text("✓", style="green") if right else Text("✗", style="bold red")
        table.add_row(
            name, f"{student.correct}/{student.total}", mark, student.first or "", student.kind or ""
        )
    return [table, Text(summary_text(students, tr))]


def summary_text(students: Sequence[Student], tr: Translator) -> str:
    """How the class did, then each mistake with how many students made it."""
    checked = [s for s in students if s.error is None]
    right = sum(s.correct == s.total for s in checked)
    parts = [tr("class.all-right", count=right), tr("class.some-wrong", count=len(checked) - right)]
    errors = len(students) - len(checked)
    if errors:
        parts.append(tr("class.errors", count=errors))
    lines = [tr("class.summary", count=len(students), parts=tr("class.list-separator").join(parts))]
    found = mistakes(checked)
    if found:
        lines.append(tr("class.mistakes"))
        lines += [
            "  " + tr("class.mistake", count=m.students, total=len(checked), kind=m.kind, step=m.step)
            for m in found
        ]
    return "\n".join(lines)


# --- records for a gradebook ---------------------------------------------------------------


def student_record(student: Student) -> dict[str, object]:
    """One student as a JSON Lines record (schema in the README)."""
    if student.error is not None:
        return {"file": student.file, "error": student.error}
    return {
        "file": student.file,
        "correct": student.correct,
        "total": student.total,
        "first": student.first,
        "kind": student.kind,
        "results": [{"name": a.name, "step": a.step, "ok": a.ok, "kind": a.kind} for a in student.answers],
    }


def class_document(students: Sequence[Student], warnings: Sequence[str]) -> dict[str, object]:
    """The class as one JSON document: every student's record and the summary."""
    checked = [s for s in students if s.error is None]
    right = sum(s.correct == s.total for s in checked)
    return {
        "students": [student_record(s) for s in students],
        "summary": {
            "files": len(students),
            "checked": len(checked),
            "all_right": right,
            "some_wrong": len(checked) - right,
            "errors": len(students) - len(checked),
            "mistakes": [{"kind": m.kind, "step": m.step, "students": m.students} for m in mistakes(checked)],
        },
        "warnings": list(warnings),
    }


CSV_COLUMNS = ("file", "correct", "total", "first_wrong", "kind", "error")


def csv_table(students: Sequence[Student]) -> list[list[str]]:
    """The header and one row a student: the columns above, then one a step (1 right, 0
    wrong, blank when the student did not answer it), in the order the steps first appear."""
    steps: dict[str, None] = {}
    for student in students:
        for answer in student.answers:
            steps.setdefault(answer.step)
    rows = [[*CSV_COLUMNS, *steps]]
    for s in students:
        if s.error is not None:
            rows.append([s.file, "", "", "", "", s.error, *("" for _ in steps)])
            continue
        marks: dict[str, bool] = {}
        for answer in s.answers:  # a step answered twice (dW and df/dW) is right when both are
            marks[answer.step] = marks.get(answer.step, True) and answer.ok
        cells = ["" if name not in marks else str(int(marks[name])) for name in steps]
        rows.append([s.file, str(s.correct), str(s.total), s.first or "", s.kind or "", "", *cells])
    return rows
