"""`bpcli check PROGRAM --answers FILE FILE…`: a whole class checked against one run."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from rich.cells import cell_len

from conftest import ROOT, SAMPLES

HOMEWORK = SAMPLES / "homework"
PROGRAM = str(HOMEWORK / "softmax.bp")
CLASS = HOMEWORK / "class"
STUDENTS = ("alice", "bob", "carol", "dave", "erin")
# (right, total, first wrong step) of each sample student: the facts, whatever the kinds are called
FACTS = {
    "alice": (5, 5, None),
    "bob": (4, 5, "dW"),
    "carol": (4, 5, "db"),
    "dave": (1, 5, "dscores"),
    "erin": (1, 5, "dscores"),
}
SIMPLE = ("q = x + y; f = q*z", "x=-2", "y=5", "z=-4")


def sample(name: str) -> str:
    return str(CLASS / f"{name}.txt")


def records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def three(tmp_path):
    """A class of three: one all right, one wrong, one that cannot be read (not UTF-8)."""
    shutil.copy(sample("alice"), tmp_path / "alice.txt")
    shutil.copy(sample("bob"), tmp_path / "bob.txt")
    (tmp_path / "broken.txt").write_bytes(b"\x93NUMPY\x01\x00\xff")
    return [str(tmp_path / f"{n}.txt") for n in ("alice", "bob", "broken")]


# --- the class report -------------------------------------------------------------------------


def test_three_files_one_unreadable_table(bpcli, three, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # (the words, not their folding at 80 columns)
    result = bpcli("check", PROGRAM, "--answers", *three)
    assert result.code == 1
    rows = {
        line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
        for line in result.out.splitlines()
        if line.startswith("│") and line.split("│")[1].strip()
    }
    assert rows["alice.txt"][:2] == ["5/5", "✓"] and rows["alice.txt"][2:] == ["", ""]
    assert rows["bob.txt"][:3] == ["4/5", "✗", "dW"] and rows["bob.txt"][3]
    assert rows["broken.txt"][:2] == ["", "!"] and rows["broken.txt"][3] == "error"
    assert "cannot read broken.txt: it is not UTF-8 text" in result.out
    assert "3 files: 1 all right, 1 with wrong answers, 1 not checked (error)" in result.out
    assert re.search(r"^  1 of 2: \S+ at dW$", result.out, re.M)
    # (folded at 80 columns: a long path goes on the next line)
    assert " ".join(result.err.split()) == f"bpcli check: 1 of 3 files could not be checked ({three[2]})"


def test_three_files_one_unreadable_records(bpcli, three):
    result = bpcli("check", PROGRAM, "--answers", *three, "--format", "jsonl")
    assert result.code == 1
    alice, bob, broken = records(result.out)
    assert alice == {
        "file": three[0],
        "correct": 5,
        "total": 5,
        "first": None,
        "kind": None,
        "results": [
            {"name": name, "step": name, "ok": True, "kind": None}
            for name in ("L", "dscores", "dW", "db", "dX")
        ],
    }
    assert (bob["file"], bob["correct"], bob["total"], bob["first"]) == (three[1], 4, 5, "dW")
    assert [r["ok"] for r in bob["results"]] == [True, True, False, True, True]
    assert bob["kind"] == bob["results"][2]["kind"] is not None
    assert broken == {"file": three[2], "error": f"cannot read {three[2]}: it is not UTF-8 text (byte 0)"}


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        ("dir", "is a directory with no .txt files"),
        ("dW = [[1, 2]", "a '[' is never closed"),
        ("dW = [1 +* 2]", "syntax error"),
        ("dQ = 3", "the answer dQ=3 names nothing in the program"),
        ("# nothing but a comment\n", "holds no answers"),
        ("dy = 1", "there is no ∂f/∂y to check"),  # y, the labels, is data: no gradient
    ],
    ids=["missing", "directory", "unclosed", "syntax", "names-nothing", "empty", "data"],
)
def test_each_bad_file_is_one_error_record_and_the_rest_go_on(bpcli, tmp_path, content, message):
    bad = tmp_path / "bad.txt"
    if content == "dir":
        bad.mkdir()
    elif content is not None:
        bad.write_text(content)
    result = bpcli(
        "check", PROGRAM, "--answers", sample("alice"), str(bad), sample("bob"), "--format", "jsonl"
    )
    assert result.code == 1
    alice, error, bob = records(result.out)
    assert set(error) == {"file", "error"} and error["file"] == str(bad) and message in error["error"]
    assert (alice["correct"], bob["correct"]) == (5, 4)


def test_sample_class_facts(bpcli):
    result = bpcli("check", PROGRAM, "--answers", str(CLASS), "--format", "jsonl")
    assert result.code == 1
    found = {
        os.path.basename(r["file"])[:-4]: (r["correct"], r["total"], r["first"]) for r in records(result.out)
    }
    assert found == FACTS


def test_a_directory_is_its_txt_files_sorted(bpcli, tmp_path):
    for name in ("erin", "alice", "carol"):
        shutil.copy(sample(name), tmp_path / f"{name}.txt")
    (tmp_path / "notes.md").write_text("not answers")
    (tmp_path / "old").mkdir()
    (tmp_path / ".hidden.txt").write_text("dQ = 1")
    by_directory = bpcli("check", PROGRAM, "--answers", str(tmp_path), "--format", "jsonl")
    assert [os.path.basename(r["file"]) for r in records(by_directory.out)] == [
        "alice.txt",
        "carol.txt",
        "erin.txt",
    ]
    note = f"note: {tmp_path}: skipped 3, not .txt files to check (.hidden.txt, notes.md, old/)"
    assert " ".join(by_directory.err.split()) == note
    assert by_directory.err.count("\n") == 1  # into a pipe, a line a message (a terminal folds it)
    files = [str(tmp_path / f"{n}.txt") for n in ("alice", "carol", "erin")]
    assert bpcli("check", PROGRAM, "--answers", *files, "--format", "jsonl").out == by_directory.out
    # a directory with one file is still a class: the class table, not one student's report
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(sample("bob"), one / "bob.txt")
    result = bpcli("check", PROGRAM, "--answers", str(one))
    assert "student" in result.out and "1 files: 0 all right, 1 with wrong answers" in result.out


def test_same_names_in_two_directories_are_shown_with_their_directory(bpcli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # (the words, not their folding at 80 columns)
    for group in ("a", "b"):
        (tmp_path / group).mkdir()
        shutil.copy(sample("bob"), tmp_path / group / "bob.txt")
    result = bpcli("check", PROGRAM, "--answers", str(tmp_path / "a"), str(tmp_path / "b"))
    assert str(tmp_path / "a" / "bob.txt") in result.out.replace("│\n│", "")  # folded, never cut


# --- records for a gradebook --------------------------------------------------------------------


def test_csv_one_row_a_student_with_a_column_a_step(bpcli, tmp_path):
    partial = tmp_path / "partial.txt"
    partial.write_text("L = 1.4093\ndf/dW = [1, 2, 3, 4, 5]\n")  # dW as df/dW, of a wrong shape
    missing = str(tmp_path / "missing.txt")
    result = bpcli("check", PROGRAM, "--answers", sample("alice"), str(partial), missing, "--format", "csv")
    assert result.code == 1
    header, alice, part, error = list(csv.reader(io.StringIO(result.out)))
    assert header == [
        "file",
        "correct",
        "total",
        "first_wrong",
        "kind",
        "error",
        "L",
        "dscores",
        "dW",
        "db",
        "dX",
    ]
    assert alice == [sample("alice"), "5", "5", "", "", "", "1", "1", "1", "1", "1"]
    assert part == [str(partial), "1", "2", "df/dW", "shape", "", "1", "", "0", "", ""]
    assert error[0] == missing and error[5] == f"cannot read {missing}: no such file"
    assert error[1:5] == ["", "", "", ""] and error[6:] == [""] * 5


def test_json_is_one_document_with_the_students_and_a_summary(bpcli):
    files = [sample(n) for n in STUDENTS]
    result = bpcli("check", PROGRAM, "--answers", *files, "--format", "json")
    doc = json.loads(result.out)
    assert doc["students"] == records(bpcli("check", PROGRAM, "--answers", *files, "--format", "jsonl").out)
    summary = doc["summary"]
    assert {k: summary[k] for k in ("files", "checked", "all_right", "some_wrong", "errors")} == {
        "files": 5,
        "checked": 5,
        "all_right": 1,
        "some_wrong": 4,
        "errors": 0,
    }
    counts = [m["students"] for m in summary["mistakes"]]
    assert counts == sorted(counts, reverse=True) and {"kind", "step", "students"} == set(
        summary["mistakes"][0]
    )
    # dave and erin are both wrong at dscores, bob alone at dW's transpose
    assert sum(m["students"] for m in summary["mistakes"] if m["step"] == "dscores") == 2
    assert doc["warnings"] == []


def test_sign_mistakes_are_counted_by_step(bpcli, tmp_path):
    answers = {"s1": "dq = 4\ndz = 3", "s2": "dq = 4\ndz = -3", "s3": "dq = -4\ndz = -3", "s4": "dq=-4\ndz=3"}
    for name, text in answers.items():
        (tmp_path / f"{name}.txt").write_text(text)
    table = bpcli("check", *SIMPLE, "--answers", str(tmp_path))
    assert table.code == 1
    assert table.out.endswith("  2 of 4: sign at dq\n  2 of 4: sign at dz\n")  # a tie: as first met
    found = records(bpcli("check", *SIMPLE, "--answers", str(tmp_path), "--format", "jsonl").out)
    first = {os.path.basename(r["file"])[:2]: (r["first"], r["kind"]) for r in found}
    assert first.pop("s2") in {("dq", "sign"), ("dz", "sign")}
    assert first == {"s1": ("dq", "sign"), "s3": ("dz", "sign"), "s4": (None, None)}


# --- exit statuses and bad input --------------------------------------------------------------------


def test_exit_statuses(bpcli, tmp_path):
    assert bpcli("check", PROGRAM, "--answers", sample("alice"), sample("alice")).code == 0
    assert bpcli("check", PROGRAM, "--answers", str(CLASS)).code == 1
    only_errors = bpcli("check", PROGRAM, "--answers", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"))
    assert only_errors.code == 1 and "2 of 2 files could not be checked" in only_errors.err
    bad_program = bpcli("check", "f = (x +", "--answers", sample("alice"), sample("bob"))
    assert bad_program.code == 2 and bad_program.err.startswith("error: ") and not bad_program.out
    (tmp_path / "empty").mkdir()
    no_files = bpcli("check", PROGRAM, "--answers", str(tmp_path / "empty"))
    assert no_files.code == 2 and "error: no answers files to check" in no_files.err
    assert bpcli("check", PROGRAM, "--format", "jsonl").code == 2
    mixed = bpcli("check", PROGRAM, "-e", "L=1.4093", "--answers", sample("alice"), sample("bob"))
    assert mixed.code == 2 and "--expect goes with one student's answers" in mixed.err


def test_a_bug_while_checking_one_student_is_that_students_record(bpcli, monkeypatch):
    import bpcli.grading.diagnose as diagnose

    real = diagnose.check

    def flaky(run, expectations, tol=None):
        if any(e.written == "df/dW" for e in expectations):  # erin's
            raise ZeroDivisionError("boom")
        return real(run, expectations, tol)

    monkeypatch.setattr(diagnose, "check", flaky)
    result = bpcli("check", PROGRAM, "--answers", str(CLASS), "--format", "jsonl")
    assert result.code == 3
    found = records(result.out)
    assert len(found) == 5 and found[4]["error"].startswith("internal error: ZeroDivisionError: boom")
    assert "(some by a bug in bpcli: see their rows)" in " ".join(result.err.split())


def test_checking_a_class_never_changes_the_run(tmp_path):
    """Every student is checked against one run: checking must not write into it."""
    import numpy as np

    from bpcli.core.engine import run
    from bpcli.grading.answers import expectations, read_answers
    from bpcli.grading.diagnose import check
    from bpcli.language.parse import parse

    with open(PROGRAM) as handle:
        result = run(parse(handle.read(), {}), record=True)

    def snapshot():
        arrays = [*result.values, *result.grads, *(result.sent or {}).values()]
        return [None if a is None else np.array(a, copy=True) for a in arrays]

    before = snapshot()
    names = set(result.graph.names)
    for path in [*(sample(n) for n in STUDENTS), str(HOMEWORK / "answers_student.txt")]:
        with open(path) as handle:
            check(result, expectations(list(read_answers(handle.read(), path)), names))
    after = snapshot()
    assert len(before) == len(after)
    assert all((a is None and b is None) or np.array_equal(a, b) for a, b in zip(before, after, strict=True))


# --- the command line: several files after --answers ------------------------------------------------


def test_several_files_after_answers_and_the_other_spellings(bpcli):
    files = [sample(n) for n in ("alice", "bob", "carol")]
    expected = bpcli("check", PROGRAM, "--answers", *files, "--format", "jsonl")
    assert len(records(expected.out)) == 3
    for args in (
        [PROGRAM, "-a", files[0], "-a", files[1], "-a", files[2]],
        [PROGRAM, f"--answers={files[0]}", files[1], files[2]],
        [PROGRAM, "--answers", files[0], "--precision", "3", files[1], files[2]],
        ["-f", PROGRAM, "--answers", *files],
        ["--answers", files[0], "-f", PROGRAM, *files[1:]],
    ):
        assert bpcli("check", *args, "--format", "jsonl").out == expected.out, args


def test_bindings_among_the_files_are_bindings(bpcli):
    result = bpcli(
        "check", *SIMPLE[:2], "--answers", sample("alice"), "y=5", sample("bob"), "z=-4", "--format", "jsonl"
    )
    found = records(result.out)
    assert len(found) == 2 and all("names nothing" in r["error"] for r in found)  # (not this program's)


def test_several_files_before_the_program_is_a_usage_error(bpcli):
    result = bpcli("check", "--answers", sample("alice"), sample("bob"), PROGRAM)
    assert result.code == 2 and "several answer files go after PROGRAM" in result.err
    # one file before the program is as it always was
    assert bpcli("check", "--answers", sample("alice"), PROGRAM).code == 0


def test_one_file_is_one_students_report_as_before(bpcli):
    result = bpcli("check", PROGRAM, "--answers", sample("bob"))
    assert result.code == 1
    assert "yours" in result.out and "4 of 5 correct\nfirst wrong step: dW\n" in result.out
    assert "student" not in result.out and not result.err
    doc = json.loads(bpcli("check", PROGRAM, "--answers", sample("bob"), "--format", "json").out)
    assert set(doc) == {"correct", "total", "results", "warnings"}


def test_stdin_is_one_of_the_files(bpcli):
    with open(sample("bob")) as handle:
        text = handle.read()
    result = bpcli("check", PROGRAM, "--answers", sample("alice"), "-", "--format", "jsonl", input=text)
    _, stdin = records(result.out)
    assert stdin["file"] == "stdin" and (stdin["correct"], stdin["first"]) == (4, "dW")
    twice = bpcli("check", PROGRAM, "--answers", "-", "-", input=text)
    assert twice.code == 2 and "--answers - (stdin) can be given once" in twice.err


# --- 80 columns, plain text, progress ------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_class_table_fits_80_columns_with_long_names(bpcli, monkeypatch, tmp_path, lang):
    monkeypatch.setenv("COLUMNS", "80")
    long = "a_student_with_a_really_long_file_name_for_homework_three_final_v2.txt"
    shutil.copy(sample("dave"), tmp_path / long)
    shutil.copy(sample("carol"), tmp_path / "carol.txt")
    (tmp_path / "broken_file_with_a_long_name_too.txt").write_text("dW = [[1, 2], [3 4]]")
    result = bpcli("check", PROGRAM, "--answers", str(tmp_path), "--lang", lang)
    lines = result.out.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    cells = "".join(line.split("│")[1].strip() for line in lines if line.startswith("│"))
    assert long in cells  # folded, never cut
    assert "\x1b" not in result.out  # not a terminal: plain


def terminal(
    *args: str, stdout_tty: bool, stderr_tty: bool, columns: int = 80, no_color: bool = False
) -> tuple[bytes, bytes]:
    """bpcli ARGS… with stdout and/or stderr on a pseudo-terminal of `columns` columns (what
    the terminal shows, and what went to the other stream's pipe)."""
    import fcntl
    import pty
    import struct
    import termios

    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    if no_color:
        env["NO_COLOR"] = "1"
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    with subprocess.Popen(
        [sys.executable, "-m", "bpcli", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=follower if stdout_tty else subprocess.PIPE,
        stderr=follower if stderr_tty else subprocess.PIPE,
    ) as process:
        os.close(follower)
        shown = b""
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:
                break
            if not data:
                break
            shown += data
        piped = (process.stdout or process.stderr).read()
        process.wait(timeout=60)
    os.close(leader)
    return shown, piped


@pytest.mark.parametrize("no_color", [False, True])
def test_on_a_terminal_of_80_columns_the_table_fits(tmp_path, no_color):
    long = "bob_the_student_with_a_very_long_file_name_homework3_final_version2.txt"
    shutil.copy(sample("bob"), tmp_path / long)
    shutil.copy(sample("alice"), tmp_path / "alice.txt")
    (tmp_path / "broken.txt").write_text("dQ = 1")
    shown, _ = terminal(
        "check", PROGRAM, "--answers", str(tmp_path), stdout_tty=True, stderr_tty=False, no_color=no_color
    )
    colours = re.findall(rb"\x1b\[[0-9;]*3[0-9][;m]", shown)
    assert bool(colours) is not no_color  # colour on a terminal, none under NO_COLOR
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", shown.decode()).replace("\r", "")
    assert "alice.txt" in text and "3 files: 1 all right, 1 with wrong answers, 1 not" in text
    assert max(cell_len(line) for line in text.splitlines()) <= 80


def test_progress_goes_to_a_terminal_stderr_only_never_into_the_results(tmp_path):
    for i in range(30):
        shutil.copy(sample(STUDENTS[i % 5]), tmp_path / f"s{i:02}.txt")
    args = ("check", PROGRAM, "--answers", str(tmp_path), "--format", "jsonl")
    shown, out = terminal(*args, stdout_tty=False, stderr_tty=True)
    assert b"checking" in shown and b"files" in shown
    plain = subprocess.run([sys.executable, "-m", "bpcli", *args], cwd=ROOT, capture_output=True, check=False)
    assert out == plain.stdout and len(out.splitlines()) == 30
    assert b"checking" not in plain.stderr  # stderr not a terminal: no progress


def test_the_docs_show_the_sample_class_as_it_is(bpcli, monkeypatch):
    """docs/check.md's class report is pasted from a real run: after a change, paste it again."""
    monkeypatch.setenv("COLUMNS", "80")
    command = "$ bpcli check samples/homework/softmax.bp --answers samples/homework/class\n"
    readme = (ROOT / "docs" / "check.md").read_text()
    shown = readme[readme.index(command) + len(command) :].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    assert bpcli("check", "samples/homework/softmax.bp", "--answers", "samples/homework/class").out == shown


def test_the_docs_show_the_sample_student_as_it_is(bpcli, monkeypatch):
    """docs/check.md's array homework report is pasted from a real run: after a change, paste it again."""
    monkeypatch.setenv("COLUMNS", "80")
    command = "$ bpcli check samples/homework/softmax.bp --answers samples/homework/answers_student.txt\n"
    readme = (ROOT / "docs" / "check.md").read_text()
    shown = readme[readme.index(command) + len(command) :].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    args = ("check", "samples/homework/softmax.bp", "--answers", "samples/homework/answers_student.txt")
    assert bpcli(*args).out == shown


def test_json_lines_go_out_a_student_at_a_time_and_an_interrupt_keeps_them(tmp_path):
    import signal

    for i in range(400):
        shutil.copy(sample(STUDENTS[i % 5]), tmp_path / f"s{i:03}.txt")
    args = ("check", PROGRAM, "--answers", str(tmp_path), "--format", "jsonl")
    with subprocess.Popen(
        [sys.executable, "-m", "bpcli", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()  # out before the class is done
        process.send_signal(signal.SIGINT)
        rest = process.stdout.read()
        err = process.stderr.read().decode()
        code = process.wait(timeout=60)
    lines = (first + rest).decode().splitlines()
    assert json.loads(first)["file"].endswith("s000.txt")
    assert all(json.loads(line)["file"] for line in lines)  # whole records only
    assert (code, len(lines) < 400) == (130, True) or (code, len(lines)) == (1, 400)  # (a fast machine)
    assert "Traceback" not in err
