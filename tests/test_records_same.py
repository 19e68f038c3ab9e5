"""The records stay the same bytes (issue 20 made the per-problem path faster, not other).

tests/records/ holds a mixed batch (distinct random problems from the benchmark's generator,
error records of every kind, text lines, ids, repeated structures: see make_input.py) and
bpcli's records for it, written before that work; and the samples' records. Each is made
again here, with one worker and with two."""

from __future__ import annotations

import pytest

from conftest import ROOT, SAMPLES

RECORDS = ROOT / "tests" / "records"
MIXED = (RECORDS / "mixed.jsonl").read_text(encoding="utf-8")
HEAD = "".join(MIXED.splitlines(keepends=True)[:80])
HEAD_TABLE = "".join(MIXED.splitlines(keepends=True)[:60])
PROBLEMS = (SAMPLES / "problems.txt").read_text(encoding="utf-8")
POINTS = (SAMPLES / "points.jsonl").read_text(encoding="utf-8")

CASES = {
    "mixed.out.jsonl": (MIXED, ()),
    "mixed.out.csv": (MIXED, ("--format", "csv")),
    "mixed.nodes.jsonl": (HEAD, ("--nodes",)),
    "mixed.head.table": (HEAD_TABLE, ("--format", "table")),
    "problems.out.jsonl": (PROBLEMS, ()),
    "problems.out.table": (PROBLEMS, ("--format", "table")),
    "points.out.jsonl": (POINTS, ("--program", str(SAMPLES / "neuron.bp"))),
}


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_records_are_the_bytes_they_were(bpcli, name, jobs):
    text, options = CASES[name]
    result = bpcli("batch", "-", *options, "--jobs", jobs, input=text)
    expected = (RECORDS / name).read_text(encoding="utf-8")
    assert result.out == expected
    assert result.code == (0 if "error" not in expected else 1)


@pytest.mark.parametrize("most", [1, 7])
def test_where_the_input_is_cut_changes_no_byte(bpcli, monkeypatch, most):
    import bpcli.batch.workers as workers

    monkeypatch.setattr(workers, "CHUNK", most)  # tasks of 1 or at most 7 lines, all through
    result = bpcli("batch", "-", "--jobs", "3", input=MIXED)
    assert result.out == (RECORDS / "mixed.out.jsonl").read_text(encoding="utf-8")


def test_tasks_are_sized_by_the_time_their_lines_took():
    from bpcli.batch.workers import FIRST_CHUNK, TASK_SECONDS, _Sizes

    sizes = _Sizes(1000)
    assert sizes.lines == FIRST_CHUNK
    sizes.solved(10, 10 * TASK_SECONDS / 50)  # 50 lines a task's time
    assert sizes.lines == 50
    sizes.solved(40, 0.0)  # too fast to measure: the most
    assert sizes.lines == 1000
    sizes.solved(3, 30 * TASK_SECONDS)  # slow lines: one at a time
    assert sizes.lines == 1
    sizes.solved(0, 0.0)  # nothing solved (comments only): no news
    assert sizes.lines == 1
    assert _Sizes(4).lines == 4  # never more than the most
