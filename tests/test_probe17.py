"""Probe of `bpcli check` (issue 17) as an independent grader runs it: a class given a file
twice, the class table at 40 columns."""

from __future__ import annotations

import json
import shutil

from rich.cells import cell_len

from conftest import SAMPLES

HOMEWORK = SAMPLES / "homework"
PROGRAM = str(HOMEWORK / "softmax.bp")
CLASS = HOMEWORK / "class"


def test_a_file_named_twice_is_checked_once(bpcli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(CLASS, "class")
    # the directory, then a glob of it, then one file by another spelling
    result = bpcli(
        "check", PROGRAM, "--answers", "class", "class/bob.txt", "./class/alice.txt", "--format", "jsonl"
    )
    files = [json.loads(line)["file"] for line in result.out.splitlines()]
    assert files == [f"class/{n}.txt" for n in ("alice", "bob", "carol", "dave", "erin")]
    assert "note: class/bob.txt is named twice: checked once" in result.err
    assert "note: ./class/alice.txt is the file class/alice.txt again: checked once" in result.err


def test_a_directory_given_twice_counts_each_student_once(bpcli):
    result = bpcli("check", PROGRAM, "--answers", str(CLASS), str(CLASS))
    assert result.code == 1
    assert "5 files:" in result.out and "10 files" not in result.out


def test_the_class_table_at_40_columns_cuts_nothing(bpcli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    result = bpcli("check", PROGRAM, "--answers", str(CLASS))
    assert result.code == 1
    lines = result.out.splitlines()
    assert max(cell_len(line) for line in lines) <= 40
    header = "".join(lines[:4])
    assert "kind" in header and "right" in header  # every column shown, none cropped
    assert all(line[-1] in "┓┃┩│┘" for line in lines if line[:1] in "┏┃┡│└")
