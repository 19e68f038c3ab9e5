"""In-process timings of `bpcli check` (issue 17): what diagnosing one student costs, as a
ratio to the program's own grad (parse + forward + backward) in the same process, and how
many students a second the class mode grades. bpcli is imported once.

Per student, the calls `bpcli check PROGRAM --answers FILE` makes: the grad is
`parse` + `run(graph, record=True)` (bpcli.core.engine); the check is `read_answers` +
`expectations` (bpcli.grading.answers) + `check` (bpcli.grading.diagnose) on that run. Cases:
  - neuron: samples/neuron.bp with the cs231n notes' answers, dx0's sign flipped;
  - softmax: samples/homework/softmax.bp with each file of samples/homework/class/;
  - net: samples/cs231n/two_layer_net.bp on its data, dW1, db1, dW2, db2 all wrong by the
    1/N of the mean forgotten (the data term times N, the regularisation term right), made
    from the truth and written to 4 decimals;
  - conv: samples/cs231n/conv_forward_naive.bp (261 nodes), dx, dw, db to 4 decimals with
    dw times 2; and its function at stride 1 on x 2x3x5x5 (709 nodes), where the search spends
    its budget (MAX_WORK in bpcli/grading/mistakes.py), once with dw times 2 and once with dx off
    by noise that no mistake explains; and (--big-repeats) on x 2x3x8x8 with 4 filters, the
    naive benchmark's conv (3,593 nodes), dw times 2.
The search's work (in MAX_WORK's units: a VJP or a comparison, 1 + n // 1000 on n elements)
is read from the diagnosis's Spreader; the check's time is also split into reading the
answers (read_answers + expectations) and the rest.

The class: SIZE copies of samples/homework/class/*.txt in a directory, through the CLI in
this process (`bpcli.cli.main(["check", PROGRAM, "--answers", DIR, "--format", "jsonl"])`,
stdout to memory), against SIZE × one student's check (the mean of the class files' check
medians, measured in the same rounds).

Each case runs once untimed and its verdicts are checked (which answers are wrong); the
class's records are checked against them. Then all cases run in interleaved rounds, each
timing after gc.collect(). Run by benchmarks/run.py with the benchmark venv's interpreter;
prints one JSON object.
Usage: python inprocess_check.py --samples DIR [--repeats 20] [--slow-repeats 3]
       [--big-repeats 1] [--class-size 200] [--class-repeats 5]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import bpcli
import bpcli.grading.blame as blame
from bpcli.cli import main as cli_main
from bpcli.core.engine import gradient, run
from bpcli.grading import mistakes
from bpcli.grading.answers import expectations, read_answers
from bpcli.grading.diagnose import check
from bpcli.language.bindings import parse_bindings
from bpcli.language.parse import parse

DECIMALS = 4  # as a student writes an answer
MAX_WORK = getattr(mistakes, "MAX_WORK", None)

# The files of samples/homework/class and the answers wrong in each (other files: not checked).
CLASS_WRONG = {
    "alice.txt": set(),
    "bob.txt": {"dW"},
    "carol.txt": {"db"},
    "dave.txt": {"dscores", "dW", "db", "dX"},
    "erin.txt": {"dscores", "df/dW", "db", "dX"},
}
NET_DATA = ("X", "y", "W1", "b1", "W2", "b2")
NET_REG = 0.05  # two_layer_net.bp's reg
# conv_forward_naive's function on other data (N, C, H = W, F; 3 × 3, stride 1, pad 1)
MEDIUM = (2, 3, 5, 2)  # the sample's data at stride 1: 709 nodes
BIG = (2, 3, 8, 4)  # as the naive benchmark's conv: 3,593 nodes


# --- the diagnosis's work ------------------------------------------------------------------------

_spreaders: list[Any] = []


def _record_spreaders() -> bool:
    """Have the diagnosis's Spreaders recorded, to read the work each check's search did (in
    MAX_WORK's units); False when this bpcli has none."""
    base = getattr(blame, "Spreader", None)
    if base is None or not hasattr(mistakes, "Spreader"):
        return False

    class Recorded(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            _spreaders.append(self)

    blame.Spreader = Recorded
    return True


# --- the cases -------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    label: str
    program: str
    bindings: dict[str, Any]
    answers: str
    wrong: set[str] | None  # the answers that must be wrong (None: not checked)
    rounds: int
    grad: list[float] = field(default_factory=list)
    check: list[float] = field(default_factory=list)
    read: list[float] = field(default_factory=list)  # of check: read_answers + expectations
    info: dict[str, Any] = field(default_factory=dict)

    def grad_run(self) -> Any:
        graph = parse(self.program, self.bindings)
        return run(graph, record=True)

    def check_run(self, result: Any, read: list[float] | None = None) -> list[Any]:
        t0 = time.perf_counter()
        pairs = read_answers(self.answers, self.name)
        found = expectations(list(pairs), set(result.graph.names))
        if read is not None:
            read.append(time.perf_counter() - t0)
        return check(result, found, None)

    def once(self) -> None:
        """Untimed: the verdicts checked, the diagnosis's work and findings kept."""
        result = self.grad_run()
        _spreaders.clear()
        verdicts = self.check_run(result)
        wrong = {v.expectation.written for v in verdicts if not v.ok}
        if self.wrong is not None and wrong != self.wrong:
            raise SystemExit(f"{self.name}: wrong answers {sorted(wrong)}, expected {sorted(self.wrong)}")
        findings = []
        for v in verdicts:
            if v.finding is not None:
                first = "first " if getattr(v.finding, "first", False) else ""
                findings.append(f"{v.expectation.written} {first}{v.finding.kind}")
        self.info = {
            "nodes": len(result.graph.nodes),
            "answers": len(verdicts),
            "wrong": sorted(wrong),
            "findings": findings,
            "work": max((s.work for s in _spreaders), default=0) if _spreaders else None,
        }

    def timed(self) -> None:
        gc.collect()
        t0 = time.perf_counter()
        result = self.grad_run()
        self.grad.append(time.perf_counter() - t0)
        gc.collect()
        t0 = time.perf_counter()
        self.check_run(result, self.read)
        self.check.append(time.perf_counter() - t0)


def written(value: Any) -> str:
    """An array or a number as a student writes it: nested lists of 4-decimal numbers."""
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        return f"{float(a):.{DECIMALS}f}"
    return "[" + ", ".join(written(x) for x in a) + "]"


def truth(program: str, bindings: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    graph = parse(program, bindings)
    result = run(graph, record=True)
    return {n: gradient(result, graph.inputs.get(n) or graph.names[n]) for n in names}


def neuron_case(samples: Path, rounds: int) -> Case:
    answers = (samples / "neuron_answers.txt").read_text()
    if "dx0: 0.39" not in answers:
        raise SystemExit("samples/neuron_answers.txt has no line 'dx0: 0.39' to make wrong")
    return Case(
        "neuron",
        "neuron.bp, dx0's sign flipped (1 of 6 wrong)",
        (samples / "neuron.bp").read_text(),
        {},
        answers.replace("dx0: 0.39", "dx0: -0.39"),
        {"dx0"},
        rounds,
    )


def softmax_cases(samples: Path, rounds: int) -> list[Case]:
    program = (samples / "homework" / "softmax.bp").read_text()
    return [
        Case(
            f"softmax {path.stem}",
            f"homework/softmax.bp, class/{path.name}",
            program,
            {},
            path.read_text(),
            CLASS_WRONG.get(path.name),
            rounds,
        )
        for path in sorted((samples / "homework" / "class").glob("*.txt"))
    ]


def net_case(samples: Path, rounds: int) -> Case:
    data = samples / "cs231n" / "data"
    bindings = parse_bindings([f"{n}=@{data / n}.npy" for n in NET_DATA])
    program = (samples / "cs231n" / "two_layer_net.bp").read_text()
    params = ("W1", "b1", "W2", "b2")
    true = truth(program, bindings, params)
    n = np.shape(bindings["X"])[0]
    lines = []
    for name in params:
        reg = 2 * NET_REG * np.asarray(bindings[name]) if name.startswith("W") else 0.0
        lines.append(f"d{name} = {written(n * (true[name] - reg) + reg)}")  # the 1/N forgotten
    return Case(
        "net",
        "cs231n/two_layer_net.bp, dW1 db1 dW2 db2 all without the 1/N",
        program,
        bindings,
        "\n".join(lines) + "\n",
        {f"d{p}" for p in params},
        rounds,
    )


def conv_program(samples: Path, size: tuple[int, int, int, int] | None) -> str:
    """conv_forward_naive.bp as it is (None), or its function on other data: N images of C
    channels, H × H, F filters of 3 × 3, stride 1, pad 1 (the data made as the sample makes it)."""
    text = (samples / "cs231n" / "conv_forward_naive.bp").read_text()
    if size is None:
        return text
    lines = text.splitlines()
    start = next((k for k, line in enumerate(lines) if line.startswith("x = ")), None)
    if start is None:
        raise SystemExit("conv_forward_naive.bp has no line 'x = …' where its data begins")
    n, c, h, f = size
    data = f"""
x = np.sin(np.arange({n * c * h * h}.0)).reshape({n}, {c}, {h}, {h})
w = np.cos(np.arange({f * c * 9}.0)).reshape({f}, {c}, 3, 3) / 3
b = np.linspace(-0.2, 0.2, {f})
dout = np.sin(np.arange({n * f * h * h}.0) * 0.7).reshape({n}, {f}, {h}, {h})
conv_param = {{'stride': 1, 'pad': 1}}
out, _ = conv_forward_naive(x, w, b, conv_param)
f = np.sum(out * dout)
"""
    return "\n".join(lines[:start]) + data


def conv_case(samples: Path, size: tuple[int, int, int, int] | None, wrong: str, rounds: int) -> Case:
    program = conv_program(samples, size)
    true = truth(program, {}, ("x", "w", "b"))
    rng = np.random.default_rng(17)
    lines = []
    for name, value in true.items():
        if name == wrong == "w":
            value = 2 * value  # a factor 2: named as scale
        elif name == wrong:
            value = value + 0.3 * rng.standard_normal(np.shape(value))  # no mistake explains it
        lines.append(f"d{name} = {written(value)}")
    how = "dw times 2" if wrong == "w" else f"d{wrong} off by noise"
    if size is None:
        short = long = "sample"
    else:
        short = f"{size[0]}x{size[1]}x{size[2]}x{size[2]}, F={size[3]}"
        long = f"its function on x {short}, stride 1"
    return Case(
        f"conv {short}, {how}",
        f"cs231n/conv_forward_naive.bp ({long}), {how}",
        program,
        {},
        "\n".join(lines) + "\n",
        {f"d{wrong}"},
        rounds,
    )


# --- the class -------------------------------------------------------------------------------------


def class_run(program: Path, folder: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli_main(["check", str(program), "--answers", str(folder), "--format", "jsonl"])
    return status, out.getvalue()


class Class:
    """SIZE copies of the class files in a directory, checked through the CLI in one call."""

    def __init__(self, samples: Path, cases: list[Case], size: int, rounds: int) -> None:
        self.program = samples / "homework" / "softmax.bp"
        self.files = sorted((samples / "homework" / "class").glob("*.txt"))
        self.cases = {c.name.removeprefix("softmax "): c for c in cases}
        self.size, self.rounds = size, rounds
        self.folder = Path(tempfile.mkdtemp(prefix="bpcli-class-"))
        for k in range(size):
            source = self.files[k % len(self.files)]
            shutil.copy(source, self.folder / f"{k:04d}-{source.name}")
        self.walls: list[float] = []
        self.status: int | None = None

    def once(self) -> None:
        """Untimed: a record a file, each with its student's right/total."""
        self.status, text = class_run(self.program, self.folder)
        records = [json.loads(line) for line in text.splitlines()]
        if len(records) != self.size:
            raise SystemExit(f"class: {len(records)} records for {self.size} files (exit {self.status})")
        for record in records:
            case = self.cases[Path(record["file"]).name.split("-", 1)[1].removesuffix(".txt")]
            right = case.info["answers"] - len(case.info["wrong"])
            if (record["correct"], record["total"]) != (right, case.info["answers"]):
                raise SystemExit(f"class: {record['file']} has {record['correct']}/{record['total']} right")

    def timed(self) -> None:
        gc.collect()
        t0 = time.perf_counter()
        class_run(self.program, self.folder)
        self.walls.append(time.perf_counter() - t0)

    def result(self) -> dict[str, Any]:
        files = [f.name for f in self.files]
        return {"size": self.size, "files": files, "status": self.status, "total": self.walls}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=Path, required=True, help="the checkout's samples/ directory")
    parser.add_argument("--repeats", type=int, default=20, help="rounds of the fast cases")
    parser.add_argument("--slow-repeats", type=int, default=3, help="rounds of the conv cases")
    parser.add_argument(
        "--big-repeats", type=int, default=1, help="rounds of the big conv case (0: leave it out)"
    )
    parser.add_argument("--class-size", type=int, default=200)
    parser.add_argument("--class-repeats", type=int, default=5)
    args = parser.parse_args()
    recorded = _record_spreaders()
    samples = args.samples.resolve()
    softmax = softmax_cases(samples, args.repeats)
    cases = [
        neuron_case(samples, args.repeats),
        *softmax,
        net_case(samples, args.repeats),
        conv_case(samples, None, "w", args.slow_repeats),
        conv_case(samples, MEDIUM, "w", args.slow_repeats),
        conv_case(samples, MEDIUM, "x", args.slow_repeats),
    ]
    if args.big_repeats:
        cases.append(conv_case(samples, BIG, "w", args.big_repeats))
    group = Class(samples, softmax, args.class_size, args.class_repeats)
    try:
        for case in cases:
            case.once()
        group.once()
        steps: list[Callable[[], None]] = []
        for r in range(max(group.rounds, *(c.rounds for c in cases))):
            steps += [c.timed for c in cases if r < c.rounds]
            if r < group.rounds:
                steps.append(group.timed)
        for step in steps:
            step()
    finally:
        shutil.rmtree(group.folder, ignore_errors=True)
    out: dict[str, Any] = {
        "bpcli": bpcli.__file__,
        "max_work": MAX_WORK,
        "work_recorded": recorded,
        "cases": {
            c.name: {"label": c.label, "grad": c.grad, "check": c.check, "read": c.read, **c.info}
            for c in cases
        },
        "class": group.result(),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
