"""Issue 18's acceptance, from the outside: the `bpcli` executable on a pseudo-terminal.

Every sample and every human format runs on a pty of 80 columns and one of 120 (TIOCSWINSZ, with
COLUMNS set, and once with COLUMNS unset so that only the pty tells the width). Nothing a person
sees may be wider than the terminal (wide CJK characters count as two cells), and every input's
gradient must be there uncropped: the number at --precision 4 for a scalar, each element for a
small array, the shape for a big one. The truth comes from `--format json`.

Then: check reports, batch's progress bar on a terminal, `-o FILE` by extension, a missing file,
--gradcheck's floor and kinks, a `+` continuation line, and every --help.

The runs are independent processes: those the selected tests need are all started on a thread
pool before the first test, so the file takes about its CPU time divided by the CPUs. Set
BPCLI_EXE to run these tests against another build's `bpcli`.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import os
import re
import shlex
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from pty_run import ROOT, cells, run_piped, run_pty, screen, strip_ansi

SAMPLES = ROOT / "samples"
DATA = "samples/cs231n/data"

# --- the samples and the arguments they run with --------------------------------------------


def _cs231n_commands() -> dict[str, list[str]]:
    """Each cs231n sample's command line from samples/cs231n/README.md (its bindings, --wrt)."""
    readme = (SAMPLES / "cs231n" / "README.md").read_text(encoding="utf-8")
    commands: dict[str, list[str]] = {}
    for m in re.finditer(r"`bpcli grad (samples/cs231n/(\w+)\.bp[^`]*)`", readme):
        commands.setdefault(m.group(2), shlex.split(m.group(1).replace("$d", DATA)))
    return commands


CS231N_COMMANDS = _cs231n_commands()
SMALL = [*sorted(str(p.relative_to(ROOT)) for p in SAMPLES.glob("*.bp")), "samples/homework/softmax.bp"]
CS231N = sorted(str(p.relative_to(ROOT)) for p in (SAMPLES / "cs231n").glob("*.bp"))
SMALL_ARRAYS = ["samples/matrix.bp", "samples/two_layer_net.bp", "samples/homework/softmax.bp"]
# cs231n samples that also run at 120 columns and in Chinese (a layer, a loss, a loop, a conv)
CS231N_WIDE = [
    "samples/cs231n/two_layer_net.bp",
    "samples/cs231n/lstm_step_forward.bp",
    "samples/cs231n/conv_forward.bp",
    "samples/cs231n/softmax_loss_naive.bp",
]


def sample_args(sample: str) -> list[str]:
    """The program and its bindings, as the README runs it."""
    stem = Path(sample).stem
    if sample.startswith("samples/cs231n/") and stem in CS231N_COMMANDS:
        return CS231N_COMMANDS[stem]
    return [sample]


VARIANTS = {
    "table": ["--format", "table"],
    "steps": ["--format", "steps"],
    "steps-zh": ["--format", "steps", "--lang", "zh"],
    "tree": ["--format", "tree"],
    "jacobian": ["--jacobian"],
    "gradcheck": ["--gradcheck"],
    "json": ["--format", "json"],
}

# (sample, variant, columns, COLUMNS set?)
PTY_CASES: list[tuple[str, str, int, bool]] = []
# Chinese at 120 too for these (wide characters at both widths)
ZH_WIDE = ["samples/neuron.bp", "samples/two_layer_net.bp", "samples/homework/softmax.bp"]
for _s in SMALL:
    for _v in ("table", "steps", "steps-zh", "tree"):
        PTY_CASES.append((_s, _v, 80, True))
        if _v != "steps-zh" or _s in ZH_WIDE:
            PTY_CASES.append((_s, _v, 120, True))
    PTY_CASES += [(_s, "table", 80, False), (_s, "table", 120, False), (_s, "steps", 120, False)]
    PTY_CASES += [(_s, "gradcheck", 80, True), (_s, "json", 80, True)]
for _s in SMALL_ARRAYS:
    PTY_CASES += [(_s, "jacobian", 80, True), (_s, "jacobian", 120, True)]
for _s in CS231N:
    for _v in ("table", "steps", "tree"):
        PTY_CASES.append((_s, _v, 80, True))
for _s in CS231N_WIDE:
    PTY_CASES += [(_s, "steps-zh", 80, True), (_s, "table", 120, True), (_s, "steps", 120, True)]
MACHINE = ("markdown", "csv", "dot", "latex")


# --- running everything at once ------------------------------------------------------------

_pool = ThreadPoolExecutor(max_workers=(os.cpu_count() or 2) + 1)
_futures: dict[tuple, Future] = {}


def _submit(key: tuple) -> None:
    """Start the run a key names, once: ("truth", sample), ("machine", sample, format) or
    ("pty", sample, variant, columns, COLUMNS set?)."""
    if key in _futures:
        return
    if key[0] == "truth":
        args = ["grad", *sample_args(key[1]), "--format", "json"]
        _futures[key] = _pool.submit(run_piped, args)
    elif key[0] == "machine":
        args = ["grad", *sample_args(key[1]), "--format", key[2]]
        _futures[key] = _pool.submit(run_piped, args)
    else:
        _, sample, variant, columns, set_columns = key
        args = ["grad", *sample_args(sample), *VARIANTS[variant]]
        _futures[key] = _pool.submit(run_pty, args, columns, set_columns=set_columns)


def _keys_of(name: str, params: dict) -> list[tuple]:
    """The runs a test of this file needs, from its name and parameters."""
    if "case" in params:
        return [("truth", params["case"][0]), ("pty", *params["case"])]
    sample = params.get("sample")
    if name == "test_the_pty_size_alone_sets_the_width":
        return [("pty", sample, params["variant"], 120, False), ("pty", sample, params["variant"], 120, True)]
    if name == "test_json_on_a_terminal_is_the_piped_json":
        return [("truth", sample), ("pty", sample, "json", 80, True)]
    if name in ("test_markdown_and_csv_carry_the_gradients", "test_dot_and_latex_lines_fit_80_columns"):
        return [("truth", sample), ("machine", sample, params["fmt"])]
    return []


@pytest.fixture(scope="module", autouse=True)
def _start_the_runs(request):
    """Start every run the selected tests of this file need, on the pool, before the first test:
    the truths first (most tests need one), then the rest in test order."""
    keys = [
        key
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
        for key in _keys_of(item.originalname, item.callspec.params)
    ]
    for key in sorted(keys, key=lambda k: k[0] != "truth"):
        _submit(key)
    yield


def result(*key):
    _submit(key)
    return _futures[key].result()


def truth(sample: str) -> dict:
    done = result("truth", sample)
    assert done.returncode == 0, f"{sample} --format json failed:\n{done.stderr}"
    return json.loads(done.stdout)


# --- the gradients as bpcli shows them -------------------------------------------------------


def number(value: float, precision: int = 4) -> str:
    """A float as bpcli prints it at --precision 4: rounded to 4 decimals, keeping 4
    significant digits below 1, e-notation below 1e-4 (1.36788 -> 1.3679, 0.000123 -> 1.23e-4)."""
    if value == 0:
        return "0"
    size = abs(value)
    if size >= 1e15 or size < 1e-4:
        mantissa, exponent = f"{value:.{precision - 1}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        return f"{mantissa}e{int(exponent)}"
    decimals = max(precision, precision - 1 - math.floor(math.log10(size)))
    text = f"{value:.{decimals}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text == "-0" else text


def _number_pattern(value: float) -> str:
    shown = number(value)
    options = [shown]
    if abs(value) < 1e-12:  # zero up to rounding may be shown as 0
        options.append("0")
    alternatives = []
    for s in options:
        tail = r"0*" if "." in s and "e" not in s else (r"(?:\.0+)?" if "e" not in s else "")
        alternatives.append(re.escape(s) + tail)
    # not part of a longer number, a name (w1) or a signed number (0.39 inside -0.39)
    return r"(?<![\w.\-])(?:" + "|".join(alternatives) + r")(?![\d]|e[-+]?\d)"


def _shape_pattern(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        n = shape[0]
        return rf"\({n},?\)|(?<![\w.]){n}(?= array| elements|-vector| values)|shape[ =:]*\(?{n}\b|\[{n}\]"
    dims = [str(d) for d in shape]
    return r"(?<![\d])" + r"\s*[×x]\s*".join(dims) + r"(?![\d])|\(" + r", ?".join(dims) + r"\)"


def input_grads(doc: dict) -> dict:
    """The gradient of each input (a node of op `input`) that has one: data (labels, masks)
    gets none, and named intermediate nodes are not inputs."""
    inputs = {n["name"] for n in doc["nodes"] if n["op"] == "input" and n["name"]}
    return {k: v for k, v in doc["grads"].items() if k in inputs and k != doc["output"] and v is not None}


def missing_gradients(text: str, grads: dict) -> list[str]:
    """What of each gradient does not appear in `text`: the number at precision 4 for a
    scalar, each element for an array of at most 12, the shape for a bigger one (or, shown
    whole, each of its elements)."""
    text = strip_ansi(text).replace("\u2212", "-").replace("\u00a0", " ")
    missing = []
    for name, grad in grads.items():
        if not isinstance(grad, list):
            if not re.search(_number_pattern(float(grad)), text):
                missing.append(f"∂/∂{name} = {number(float(grad))}")
            continue
        array = np.asarray(grad, dtype=float)
        if array.size <= 12:
            for x in array.ravel():
                if not re.search(_number_pattern(float(x)), text):
                    missing.append(f"∂/∂{name} element {number(float(x))}")
        elif not re.search(_shape_pattern(array.shape), text) and not all(
            re.search(_number_pattern(float(x)), text) for x in array.ravel()
        ):
            missing.append(f"∂/∂{name}: its shape {'×'.join(map(str, array.shape))}")
    return missing


# --- what a terminal shows ---------------------------------------------------------------------

# escape sequences that move the cursor or erase: they end what is being drawn on that spot
_MOVES = re.compile(r"\x1b\[[0-?]*[ -/]*[A-HJKSTfsu]")


def visible_segments(raw: str) -> list[str]:
    """Each stretch of text drawn from a line start (newline, carriage return, cursor move)."""
    text = strip_ansi(_MOVES.sub("\r", raw))
    return [seg for line in text.split("\n") for seg in line.split("\r")]


def overflow(raw: str, columns: int) -> list[str]:
    """The stretches wider than `columns` cells, with their widths, for an assertion message."""
    return [f"{cells(s)}: {s}" for s in visible_segments(raw) if cells(s) > columns]


def cropped(text: str, doc: dict) -> list[str]:
    """Lines where something was cut off with an ellipsis: `…` right after a digit, a letter or
    a closing bracket (-0.003645…, ∂/∂exp(-(w…, sum(out*d…). bpcli's own short labels are not
    crops: `exp(…)`, `[…]`, `a, …`, and the tails of the labels JSON itself ends in `…`."""
    own = set()
    for node in doc["nodes"]:
        label = node.get("label") or ""
        own.update(label[max(0, i - 3) : i + 1] for i, ch in enumerate(label) if ch == "…")
    out = []
    for line in strip_ansi(text).split("\n"):
        for m in re.finditer(r"(?<=[^\s(\[,│┃|:=])…", line):
            if line[max(0, m.start() - 3) : m.end()] not in own:
                out.append(line)
                break
    return out


def _short(lines: list[str], n: int = 6) -> str:
    return "\n".join(lines[:n]) + (f"\n… and {len(lines) - n} more" if len(lines) > n else "")


def test_every_cs231n_sample_runs_as_its_readme_says():
    """The samples are collected from the README: a new sample needs its command there."""
    assert len(CS231N) >= 25
    assert {Path(s).stem for s in CS231N} == set(CS231N_COMMANDS)


# --- 1. every sample, every human format, at 80 and 120 columns -------------------------------


def _case_id(case) -> str:
    s, variant, columns, set_columns = case
    return f"{s.removeprefix('samples/')}-{variant}-{columns}{'' if set_columns else '-pty-only'}"


@pytest.mark.parametrize("case", [c for c in PTY_CASES if c[1] != "json"], ids=_case_id)
def test_fits_the_terminal_and_shows_every_gradient(case):
    sample, _variant, columns, _ = case
    run = result("pty", *case)
    assert run.code == 0, f"exit {run.code}:\n{run.text[-2000:]}"
    wide = overflow(run.raw, columns)
    assert not wide, f"{len(wide)} lines wider than {columns} columns:\n{_short(wide)}"
    doc = truth(sample)
    missing = missing_gradients(run.text, input_grads(doc))
    assert not missing, "gradients not shown (or cropped): " + "; ".join(missing[:8])
    cut = cropped(run.text, doc)
    assert not cut, f"{len(cut)} lines with a number, label or formula cut off by …:\n{_short(cut, 4)}"


@pytest.mark.parametrize("sample", SMALL, ids=lambda s: s.removeprefix("samples/"))
@pytest.mark.parametrize("variant", ["table", "steps"])
def test_the_pty_size_alone_sets_the_width(sample, variant):
    """COLUMNS unset: bpcli asks the terminal, and a 120-column pty gives what COLUMNS=120 gives."""
    alone = result("pty", sample, variant, 120, False)
    told = result("pty", sample, variant, 120, True)
    assert alone.code == told.code == 0
    assert alone.text == told.text


@pytest.mark.parametrize("sample", SMALL, ids=lambda s: s.removeprefix("samples/"))
def test_json_on_a_terminal_is_the_piped_json(sample):
    run = result("pty", sample, "json", 80, True)
    assert run.code == 0, run.text[-2000:]
    on_terminal = json.loads(run.text)
    assert on_terminal["grads"] == truth(sample)["grads"]


@pytest.mark.parametrize("sample", SMALL, ids=lambda s: s.removeprefix("samples/"))
@pytest.mark.parametrize("fmt", ["markdown", "csv"])
def test_markdown_and_csv_carry_the_gradients(sample, fmt):
    done = result("machine", sample, fmt)
    assert done.returncode == 0, done.stderr
    doc = truth(sample)
    text = done.stdout
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) > 1 and len({len(r) for r in rows}) == 1, "not a rectangular CSV"
        # full floats (repr) or the shown precision: either carries the gradient
        grads = input_grads(doc)
        reprs = {
            name: [repr(float(x)) for x in np.ravel(np.asarray(g, dtype=float))] for name, g in grads.items()
        }
        missing = [
            name
            for name, g in grads.items()
            if np.size(g) <= 12
            and not all(r in text for r in reprs[name])
            and missing_gradients(text, {name: g})
        ]
        assert not missing, f"gradients of {missing} not in the CSV"
    else:
        missing = missing_gradients(text, input_grads(doc))
        assert not missing, "gradients not in the markdown: " + "; ".join(missing[:8])


@pytest.mark.parametrize("sample", SMALL, ids=lambda s: s.removeprefix("samples/"))
@pytest.mark.parametrize("fmt", ["dot", "latex"])
def test_dot_and_latex_lines_fit_80_columns(sample, fmt):
    done = result("machine", sample, fmt)
    assert done.returncode == 0, done.stderr
    wide = [f"{cells(line)}: {line}" for line in done.stdout.splitlines() if cells(line) > 80]
    assert not wide, f"{len(wide)} lines wider than 80:\n{_short(wide, 3)}"


# --- 2. check reports ---------------------------------------------------------------------------

CHECKS = {
    "neuron": ["check", "samples/neuron.bp", "--answers", "samples/neuron_answers.txt"],
    "homework": ["check", "samples/homework.bp", "--answers", "samples/homework_answers.txt"],
    "softmax-student": [
        "check",
        "samples/homework/softmax.bp",
        "--answers",
        "samples/homework/answers_student.txt",
    ],
    "softmax-student-zh": [
        "check",
        "samples/homework/softmax.bp",
        "--answers",
        "samples/homework/answers_student.txt",
        "--lang",
        "zh",
    ],
    "class": ["check", "samples/homework/softmax.bp", "--answers", "samples/homework/class"],
    "class-zh": [
        "check",
        "samples/homework/softmax.bp",
        "--answers",
        "samples/homework/class",
        "--lang",
        "zh",
    ],
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_check_reports_fit_80_columns(name):
    run = run_pty(CHECKS[name], 80)
    assert run.code in (0, 1), f"exit {run.code}:\n{run.text[-2000:]}"
    assert "error:" not in run.text and "Traceback" not in run.text
    wide = overflow(run.raw, 80)
    assert not wide, f"{len(wide)} lines wider than 80 columns:\n{_short(wide)}"


def test_a_class_report_on_a_terminal_equals_the_piped_report():
    """The class's progress bar (stderr on the terminal) never shares a line with the report."""
    args = CHECKS["class"]
    piped = run_piped(args)
    assert piped.returncode in (0, 1), piped.stderr
    run = run_pty(args, 80)
    assert run.code == piped.returncode
    expected, records, mixed = _records_on_screen(
        screen(run.raw), piped.stdout, piped.stderr, ("│", "┃", "┏", "┗", "└", "┌", "──", ".txt")
    )
    assert not mixed, "report lines sharing a line with something else:\n" + _short(mixed, 3)
    assert records == expected


# --- 3. batch on a terminal with its progress bar ----------------------------------------------


@pytest.fixture(scope="module")
def many_problems(tmp_path_factory) -> Path:
    """Enough problems that the bar is redrawn while records come out."""
    path = tmp_path_factory.mktemp("batch") / "many.txt"
    lines = [f"x={i % 7 - 3}; y={i % 5 + 1}; f=x*y + sin(x)" for i in range(1200)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _records_on_screen(shown: list[str], piped_out: str, piped_err: str, record_marks: tuple[str, ...]):
    """The screen's lines that are records, and the lines that are neither a record nor a
    stderr line of the piped run (a bar's leftovers), checked to hold no record text."""
    expected = [line.rstrip() for line in piped_out.splitlines() if line.strip()]
    expected_set = set(expected)
    stderr_lines = {line.rstrip() for line in piped_err.splitlines()}
    records = [line for line in shown if line and line in expected_set]
    others = [line for line in shown if line and line not in expected_set and line not in stderr_lines]
    mixed = [line for line in others if any(mark in line for mark in record_marks)]
    return expected, records, mixed


@pytest.mark.parametrize("source", ["problems", "many"])
def test_batch_records_on_a_terminal_equal_the_piped_run(source, many_problems):
    path = "samples/problems.txt" if source == "problems" else str(many_problems)
    piped = run_piped(["batch", path])
    assert piped.returncode == 0, piped.stderr
    run = run_pty(["batch", path], 80)
    assert run.code == 0, run.text[-2000:]
    shown = screen(run.raw)
    expected, records, mixed = _records_on_screen(shown, piped.stdout, piped.stderr, ('{"',))
    assert not mixed, "records sharing a line with something else:\n" + _short(mixed, 3)
    assert records == expected
    bar_text = [line for line in shown if line.startswith("{") and ("problems/s" in line or "%" in line)]
    assert not bar_text
    # a JSON record is data and may be long; everything else (the bar, notes) fits
    wide = [f"{cells(s)}: {s}" for s in visible_segments(run.raw) if cells(s) > 80 and not s.startswith("{")]
    assert not wide, "the bar (or a note) is wider than the terminal:\n" + _short(wide, 3)


def test_batch_bar_shows_a_count_and_the_total_of_a_file(many_problems):
    run = run_pty(["batch", str(many_problems)], 80)
    assert run.code == 0
    drawn = "\n".join(visible_segments(run.raw))
    assert re.search(r"\b\d[\d,]*\s*/\s*1,?200\b|\b\d[\d,]* of 1,?200\b", drawn), (
        "no count out of the file's 1200 problems"
    )


def test_batch_without_a_terminal_draws_no_bar():
    piped = run_piped(["batch", "samples/problems.txt"])
    assert piped.returncode == 0
    assert "\r" not in piped.stderr and "\x1b" not in piped.stderr
    assert "problems/s" not in piped.stderr


@pytest.mark.parametrize("columns", [80, 120])
def test_batch_table_fits_the_terminal_and_equals_the_piped_table(columns):
    args = ["batch", "samples/simple.bp", "samples/neuron.bp", "samples/matrix.bp", "--format", "table"]
    run = run_pty(args, columns)
    assert run.code == 0, run.text[-2000:]
    table_lines = [line for line in screen(run.raw)]
    too_wide = [f"{cells(line)}: {line}" for line in table_lines if cells(line) > columns]
    assert not too_wide, _short(too_wide)
    assert not overflow(run.raw, columns)
    if columns == 80:  # a pipe is 80 columns wide too
        piped = run_piped(args)
        assert piped.returncode == 0
        expected, records, mixed = _records_on_screen(
            table_lines, piped.stdout, piped.stderr, ("│", "┃", "┏", "┗", "└", "┌", "|", "──")
        )
        assert not mixed, "table lines sharing a line with something else:\n" + _short(mixed, 3)
        assert records == expected


# --- plain when not a terminal, or when NO_COLOR is set --------------------------------------------

SGR = re.compile(r"\x1b\[([0-9;]*)m")


def colours(raw: str) -> list[str]:
    """The SGR sequences that set a colour (bold and dim are not colours, as no-color.org says)."""
    found = []
    for m in SGR.finditer(raw):
        codes = [int(c) for c in m.group(1).split(";") if c]
        if any((30 <= c <= 49 and c not in (39, 49)) or 90 <= c <= 107 for c in codes):
            found.append(m.group(0))
    return found


@pytest.mark.parametrize("sample", ["samples/neuron.bp", "samples/two_layer_net.bp"])
@pytest.mark.parametrize("variant", ["table", "steps", "tree"])
def test_plain_into_a_pipe_and_with_no_color(sample, variant):
    piped = run_piped(["grad", sample, *VARIANTS[variant]])
    assert piped.returncode == 0
    assert "\x1b" not in piped.stdout + piped.stderr
    run = run_pty(["grad", sample, *VARIANTS[variant]], 80, env={"NO_COLOR": "1"})
    assert run.code == 0
    assert not colours(run.raw), "colour on a terminal with NO_COLOR set"


# --- 4. -o FILE by its extension -----------------------------------------------------------------

NEURON = ["grad", "samples/neuron.bp"]


@functools.cache
def _piped_format(fmt: str) -> str:
    done = run_piped([*NEURON, "--format", fmt])
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    ("ext", "fmt"),
    [
        ("json", "json"),
        ("md", "markdown"),
        ("csv", "csv"),
        ("dot", "dot"),
        ("tex", "latex"),
        ("txt", "table"),
    ],
)
def test_o_writes_the_format_of_its_extension(tmp_path, ext, fmt):
    out = tmp_path / f"out.{ext}"
    done = run_piped([*NEURON, "-o", str(out)])
    assert done.returncode == 0, done.stderr
    written = out.read_text(encoding="utf-8")
    assert "\x1b" not in written
    if ext == "json":
        assert json.loads(written)["grads"] == json.loads(_piped_format("json"))["grads"]
    elif ext == "txt":
        assert not written.lstrip().startswith(("{", "digraph", "|", "id,", "%"))
        assert written.strip() == _piped_format("table").strip()
    else:
        assert written.strip() == _piped_format(fmt).strip()
    if ext == "csv":
        rows = list(csv.reader(io.StringIO(written)))
        assert len(rows) > 1 and len({len(r) for r in rows}) == 1
    if ext == "dot":
        assert written.lstrip().startswith(("digraph", "strict digraph"))
    if ext == "md":
        assert re.search(r"^\|.*\|$", written, re.M) and re.search(r"^\|[ :|-]+\|$", written, re.M)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_o_svg_is_drawn_by_graphviz(tmp_path):
    out = tmp_path / "out.svg"
    done = run_piped([*NEURON, "-o", str(out)])
    assert done.returncode == 0, done.stderr
    assert "<svg" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["out.weird", "out.jpg"])
def test_o_with_an_unknown_extension_and_no_format_is_an_error(tmp_path, name):
    out = tmp_path / name
    done = run_piped([*NEURON, "-o", str(out)])
    assert done.returncode == 2
    assert done.stderr.startswith("error:") or "\nerror:" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_o_with_a_format_contradicting_its_extension_is_an_error(tmp_path):
    out = tmp_path / "x.md"
    done = run_piped([*NEURON, "--format", "json", "-o", str(out)])
    assert done.returncode == 2
    assert "error:" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_o_with_a_format_and_an_unknown_extension_writes_that_format(tmp_path):
    out = tmp_path / "out.weird"
    done = run_piped([*NEURON, "--format", "json", "-o", str(out)])
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["grads"] == json.loads(_piped_format("json"))["grads"]


# --- 5. a missing file ---------------------------------------------------------------------------


def test_a_path_without_its_bp_names_the_file_that_exists():
    run = run_pty(["grad", "samples/neuron", "x=1"], 80, stdout_pipe=True)
    assert run.code == 2
    assert "error:" in run.text and "Traceback" not in run.text
    assert "samples/neuron.bp" in run.text
    assert "no value for" not in run.text
    assert not overflow(run.raw, 80)


@pytest.mark.parametrize("program", ["nosuch.bp", "samples/nosuch.bp", "./nosuch"])
def test_a_missing_file_is_an_error(program):
    run = run_pty(["grad", program], 80, stdout_pipe=True)
    assert run.code == 2
    assert "error:" in run.text and "Traceback" not in run.text
    assert "nosuch" in run.text
    assert not overflow(run.raw, 80)


# --- 6. --gradcheck: an absolute floor, and kinks are n/a ---------------------------------------


def _gradcheck(*args: str) -> tuple[list[dict], str]:
    done = run_piped(["grad", *args, "--gradcheck", "--format", "json"])
    assert done.returncode == 0, done.stderr
    checks = json.loads(done.stdout)["gradcheck"]
    run = run_pty(["grad", *args, "--gradcheck"], 80)
    assert run.code == 0, run.text[-2000:]
    assert not overflow(run.raw, 80), _short(overflow(run.raw, 80))
    return checks, run.text


def test_gradcheck_a_zero_gradient_is_not_wrong():
    checks, _ = _gradcheck("sum((x + b) * d)", "x=[1,2,3]", "b=1", "d=[0.1,0.2,-0.3]")
    verdicts = {c["name"]: c["verdict"] for c in checks}
    assert set(verdicts) == {"x", "b", "d"}
    assert "wrong" not in verdicts.values()
    assert "suspect" not in verdicts.values()


@pytest.mark.parametrize(
    "args",
    [("sum(relu(x))", "x=[-1,0,2]"), ("relu(x)", "x=0"), ("abs(x)", "x=0"), ("sum(abs(x))", "x=[0,1]")],
    ids=["relu-array", "relu", "abs", "abs-array"],
)
def test_gradcheck_a_kink_is_n_a(args):
    checks, text = _gradcheck(*args)
    (check,) = checks
    if "[" in args[1]:  # an array: the kinked element is n/a, the verdict is over the others
        assert check["kinked"] == 1 and check["verdict"] == "good"
    else:
        assert check["verdict"] == "n/a"
    assert "n/a" in text


# --- 7. statements: a + line after a complete statement --------------------------------------

CONTINUED_MIDDLE = "x = 2\ny = 3\nq = x * y\n+ 0.5 * y * y\nloss = q * 2\n"
CONTINUED_LAST = "x = 2\ny = 3\nloss = x * y\n+ 0.5 * y * y\n"


@pytest.mark.parametrize("text", [CONTINUED_MIDDLE, CONTINUED_LAST], ids=["middle", "last"])
def test_a_plus_line_after_a_complete_statement_is_an_error(tmp_path, text):
    program = tmp_path / "continued.bp"
    program.write_text(text, encoding="utf-8")
    run = run_pty(["grad", str(program)], 80, stdout_pipe=True)
    assert run.code == 2, run.text
    assert "error:" in run.text and "Traceback" not in run.text
    assert "line 4" in run.text
    assert "parenthes" in run.text.lower()
    assert not overflow(run.raw, 80)


def test_print_and_the_output_are_fine(tmp_path):
    program = tmp_path / "printed.bp"
    program.write_text("x = 2\ny = 3\nq = x * y\nprint(q)\nq * 2 + y\n", encoding="utf-8")
    done = run_piped(["grad", str(program), "--format", "json"])
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr and "not used" not in done.stderr
    doc = json.loads(done.stdout)
    assert doc["value"] == 15.0
    assert doc["grads"]["x"] == 6.0 and doc["grads"]["y"] == 5.0


# --- 8. every --help ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [[], ["grad"], ["check"], ["batch"]], ids=lambda c: " ".join(c) or "bpcli"
)
@pytest.mark.parametrize("how", ["pty", "pty-only", "piped"])
def test_help_fits_80_columns(command, how):
    if how == "piped":
        done = run_piped([*command, "--help"])
        code, text = done.returncode, done.stdout + done.stderr
    else:
        run = run_pty([*command, "--help"], 80, set_columns=how == "pty")
        code, text = run.code, run.text
    assert code == 0
    wide = [f"{cells(line)}: {line}" for line in text.splitlines() if cells(line) > 80]
    assert not wide, "\n".join(wide)
