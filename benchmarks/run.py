#!/usr/bin/env python3
"""bpcli's benchmarks: start-up, scaling with graph size, arrays against plain numpy, batch
throughput against a micrograd-style baseline, cs231n's conv layer and softmax loss against
hand-written numpy, loops unrolled (against the same text straight-line, a hand backward pass and
autograd), cs231n's naive layers pasted whole against autograd and `check`'s diagnosis against the
program's own grad; optionally, arrays and batch against PyTorch.

    python3 benchmarks/run.py [--quick] [--only NAME[,NAME]] [--python PATH] [--reinstall] [--torch]

bpcli is installed (not editable) into benchmarks/.venv and timed the way a user runs it:
the venv's console script and interpreter, in fresh processes, with stdout to a pipe.
Speed is judged by ratios against baselines timed in the same run, never by absolute
numbers. Only the standard library is used here, so any Python 3.10+ can run this file.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import itertools
import json
import math
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from baseline_io import NET_INPUTS  # the six files of the two-layer net, by name
from distinct_problems import write_distinct_problems

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venv"
STAMP_NAME = "bpcli-bench-stamp.json"
BENCHMARKS = (
    "startup",
    "scaling",
    "arrays",
    "batch",
    "distinct",
    "points",
    "parser",
    "cnn",
    "loops",
    "naive",
    "check",
)

# Set on this machine or by a developer's shell, but not what a user's bpcli runs with:
# PYTHONDONTWRITEBYTECODE would hide a missing .pyc, PYTHONUNBUFFERED slows big output,
# COLUMNS would make Rich wrap the table at the terminal's width in a pipe.
UNSET = (
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONUNBUFFERED",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONINSPECT",
    "PYTHONVERBOSE",
    "PYTHONDEVMODE",
    "PYTHONPROFILEIMPORTTIME",
    "PYTHONTRACEMALLOC",
    "PYTHONMALLOC",
    "PYTHONWARNINGS",
    "PYTHONSAFEPATH",
    "COLUMNS",
    "LINES",
)

IMPORTS = "python -c 'import click, rich…'"
KEEP = 4096  # bytes of each run's stdout kept (head and tail) for checking the answer


class BenchError(Exception):
    """A benchmark could not run (install failed, a command failed or gave a wrong answer)."""


# --- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    startup_runs: int
    sums: tuple[int, ...]
    sines: tuple[int, ...]
    inprocess_repeats: int
    e2e_terms: int
    e2e_runs: int
    million: bool
    array_sizes: tuple[int, ...]
    batch_problems: int  # sigmoid-neuron problems in the batch files
    batch_runs: int  # at most; fewer if they do not fit in the time budget
    distinct_problems: int  # random problems of distinct structures in the distinct batch file
    sympy_problems: int  # the SymPy baseline's subset
    process_problems: int  # the one-process-per-problem baseline's subset
    net: tuple[int, int, int, int]  # the two-layer net's N examples, D features, H hidden, C classes
    torch_array_size: int  # the n of the arrays case also timed against PyTorch
    torch_problems: int  # the PyTorch batch baseline's subset
    torch_budget: float  # seconds for the interleaved rounds of a PyTorch script and its import alone
    cnn_repeats: int  # in-process rounds of the conv and softmax cases
    loop_sizes: tuple[tuple[int, int], ...]  # loops: (iterations N, in-process rounds) of each size
    loop_autograd_max: int  # loops: the largest N also run under autograd (1e5 takes it ~20 s)
    naive_repeats: int  # naive: in-process rounds of each cs231n layer
    check_repeats: int  # check: in-process rounds of the fast cases (neuron, softmax class, net)
    check_slow_repeats: int  # check: in-process rounds of the naive conv cases (0.5-2 s each)
    check_big_repeats: int  # check: rounds of the big naive conv (4-9 s; 0 leaves it out)
    check_class_size: int  # check: answer files in the class
    check_class_repeats: int  # check: in-process rounds of the whole class through the CLI
    points: int  # points: the neuron's points for batch --program and grad_many
    points_runs: int  # points: at most this many interleaved rounds (fewer if over budget)


FULL = Settings(
    startup_runs=25,
    sums=(25_000, 50_000, 100_000, 200_000),
    sines=(5_000, 10_000, 20_000),
    inprocess_repeats=5,
    e2e_terms=100_000,
    e2e_runs=10,
    million=True,
    array_sizes=(2048, 4096),
    batch_problems=20_000,
    batch_runs=7,
    distinct_problems=5_000,
    sympy_problems=200,
    process_problems=30,
    net=(1024, 1024, 1024, 10),
    torch_array_size=2048,
    torch_problems=2000,
    torch_budget=20,
    cnn_repeats=20,
    loop_sizes=((10_000, 5), (100_000, 2)),
    loop_autograd_max=10_000,
    naive_repeats=10,
    check_repeats=20,
    check_slow_repeats=3,
    check_big_repeats=1,
    check_class_size=200,
    check_class_repeats=5,
    points=100_000,
    points_runs=7,
)
QUICK = Settings(
    startup_runs=5,
    sums=(12_500, 25_000, 50_000),
    sines=(2_500, 5_000),
    inprocess_repeats=2,
    e2e_terms=100_000,
    e2e_runs=1,
    million=False,
    array_sizes=(512,),
    batch_problems=2_000,
    batch_runs=2,
    distinct_problems=1_000,
    sympy_problems=50,
    process_problems=10,
    net=(128, 256, 128, 10),
    torch_array_size=512,
    torch_problems=50,
    torch_budget=8,
    cnn_repeats=5,
    loop_sizes=((1_000, 3), (10_000, 1)),
    loop_autograd_max=1_000,
    naive_repeats=3,
    check_repeats=5,
    check_slow_repeats=1,
    check_big_repeats=0,
    check_class_size=200,
    check_class_repeats=2,
    points=50_000,
    points_runs=2,
)

# Targets: (limit, unit). Ratios are "×", times "s".
# (issue 20's guards for what is won: the headline at most 1.10× click+rich's import, the
# 200k/100k doubling at most 2.2, the 100k-term sum under 1.5 s, an array program's table at
# most hand-written numpy's time)
STARTUP_RATIO = 1.10
DOUBLING_RATIO = 2.2
E2E_SECONDS = 1.5
ARRAYS_TABLE_RATIO = 1.0
ARRAYS_RATIO = 1.5  # the JSON of arrays against numpy's
PARSER_TOKENS = 600_000.0  # parser: tokens/s from text to graph, in-process (issue 20)
# batch: throughput (problems/s) ratios against the micrograd baseline, higher is better.
BATCH_RATIO = 1.0  # bpcli batch / micrograd (the target)
BATCH_FLOOR = 0.5  # the older floor for the same ratio
BATCH_RATE = 5_000.0  # bpcli batch, problems/s, absolute
BATCH_JOBS2_RATIO = 1.8  # bpcli batch --jobs 2 / micrograd
BATCH_PROGRAM_RATIO = 5.0  # bpcli batch --program / micrograd
POINTS_RATIO = 5.0  # points: many points together / one by one (batch --program, grad_many)
JOBS2_RATIO = 1.8  # bpcli batch --jobs 2 / --jobs 1, on both batch benchmarks (issue 20)
DISTINCT_RATIO = 1.0  # distinct: bpcli batch / micrograd, problems of distinct structures (issue 20)
DISTINCT_SEED = 2026
CONV_RATIO = 2.0  # cnn: bpcli's conv2d forward + backward / numpy's im2col by hand, in-process
SOFTMAX_RATIO = 1.5  # cnn: bpcli's softmax-loss program / numpy by hand, in-process
BATCH_TOLERANCE = 1e-9  # bpcli's values and gradients against the baseline's
VALUE_TOLERANCE = 1e-6  # arrays: a baseline's f (printed in full) against bpcli's at --precision 12
TABLE_TOLERANCE = 1e-3  # arrays: the f that bpcli's table prints (4 decimals) against the same

# PyTorch is not a bpcli dependency: --torch installs this into the venv (a CPU wheel here).
TORCH_REQUIREMENT = "torch==2.13.0"

# The two-layer net of samples/two_layer_net.bp, its inputs bound from .npy files.
NET_PROGRAM = """\
h = relu(X @ W1 + b1)
scores = h @ W2 + b2
loss = -sum(Y * logsoftmax(scores)) / N
"""


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Sample:
    wall: float  # seconds, from spawn to exit
    cpu: float  # user + system seconds of the child
    maxrss: int  # peak resident set of the child, bytes
    rss_floor: bool  # maxrss is only an upper bound (see spawn)
    out_bytes: int
    head: bytes
    tail: bytes


@dataclass
class Result:
    bench: str
    case: str
    samples: list[Sample] = field(default_factory=list)
    note: str = ""

    @property
    def walls(self) -> list[float]:
        return [s.wall for s in self.samples]

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def peak(self) -> int:
        return max(s.maxrss for s in self.samples)

    def peak_text(self) -> str:
        floor = all(s.rss_floor for s in self.samples)
        return ("≤ " if floor else "") + human_bytes(self.peak)

    def as_dict(self) -> dict[str, Any]:
        walls = self.walls
        return {
            "bench": self.bench,
            "case": self.case,
            "runs": len(walls),
            "min": min(walls),
            "median": self.median,
            "max": max(walls),
            "peak_rss": self.peak,
            "out_bytes": self.samples[-1].out_bytes,
            "note": self.note,
        }


@dataclass
class Target:
    bench: str
    what: str
    value: float
    limit: float | None  # None: reported only
    unit: str  # "×", "s" or "/s" (problems per second)
    of_mins: float | None = None  # the same ratio of the fastest runs, less sensitive to load
    at_least: bool = False  # the target is value ≥ limit (throughput), not value ≤ limit

    @property
    def met(self) -> bool | None:
        if self.limit is None:
            return None
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    def text(self, value: float) -> str:
        if self.unit == "×":
            return f"{value:.2f}×"
        if self.unit == "/s":
            return f"{value:,.0f}/s"
        return human_time(value)

    def limit_text(self) -> str:
        if self.limit is None:
            return ""
        sign = "≥" if self.at_least else "≤"
        if self.unit == "/s":
            return f"{sign} {self.limit:,.0f}/s"
        return f"{sign} {self.limit:g}{'×' if self.unit == '×' else ' s'}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "bench": self.bench,
            "what": self.what,
            "value": self.value,
            "limit": self.limit,
            "unit": self.unit,
            "at_least": self.at_least,
            "met": self.met,
            "of_mins": self.of_mins,
        }


def import_left_out(runs: Result, imports: Result) -> tuple[float | None, float | None, str]:
    """A script's time with its import left out: its median less the median of its import-only
    runs (timed in the same rounds), the same of the minimums, and a note. The first is None
    when it is below twice the standard error of a difference of two such medians (estimated
    from the import-only runs' median absolute deviation), where the script's own work is lost
    in the noise of its import; the second when it is not positive."""
    left = runs.median - imports.median
    sigma = 1.4826 * statistics.median(abs(t - imports.median) for t in imports.walls)
    noise = 2 * 1.2533 * sigma * math.sqrt(2 / len(imports.walls))
    best = min(runs.walls) - min(imports.walls)
    if left <= noise:
        return (
            None,
            None,
            (
                f"{human_time(left)} with the import left out, within the import's noise"
                f" ({human_time(noise)}): no ratio"
            ),
        )
    return left, best if best > 0 else None, f"{human_time(left)} with the import left out"


@dataclass(frozen=True)
class Cmd:
    argv: tuple[str, ...]
    check: Any = None  # callable(Sample) -> str | None (an error message)
    env: tuple[tuple[str, str], ...] = ()  # set for this command alone (BPCLI_POINTWISE=1)


def spawn(cmd: Cmd, env: dict[str, str], cwd: Path) -> Sample:
    """Run one fresh process, stdout to a pipe that is read (and counted) as it comes.

    The child's peak RSS comes from wait4 (getrusage of that child). Linux carries the
    high-water mark across fork and exec, so it is never below this runner's own peak:
    a child that stayed below that is marked `rss_floor` and shown as "≤ runner's"."""
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            env={**env, **dict(cmd.env)} if cmd.env else env,
            cwd=cwd,
        )
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        head, tail, size = b"", b"", 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if len(head) < KEEP:
                head += chunk[: KEEP - len(head)]
            tail = (tail + chunk)[-KEEP:]
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        if proc.returncode != 0:
            err.seek(0)
            message = err.read().decode(errors="replace").strip()[-2000:]
            raise BenchError(f"{' '.join(cmd.argv)} exited with {proc.returncode}:\n{message}")
    maxrss = usage.ru_maxrss * 1024
    sample = Sample(wall, usage.ru_utime + usage.ru_stime, maxrss, maxrss <= own_peak, size, head, tail)
    if cmd.check is not None:
        problem = cmd.check(sample)
        if problem:
            raise BenchError(f"{' '.join(cmd.argv)}: {problem}")
    return sample


def time_group(
    bench: str,
    cmds: dict[str, Cmd],
    env: dict[str, str],
    cwd: Path,
    *,
    runs: int,
    warmup: int = 1,
    budget: float | None = None,
    min_runs: int = 1,
) -> dict[str, Result]:
    """Time commands in interleaved rounds (so that drift hits all alike), after `warmup`
    untimed rounds. With a budget in seconds, stop after as many rounds as fit in it
    (at least min_runs, at most runs), judging by the first timed round."""
    results = {name: Result(bench, name) for name in cmds}
    for _ in range(warmup):
        for cmd in cmds.values():
            spawn(cmd, env, cwd)
    rounds = runs
    done = 0
    while done < rounds:
        for name, cmd in cmds.items():
            results[name].samples.append(spawn(cmd, env, cwd))
        done += 1
        if done == 1 and budget is not None:
            round_time = sum(r.samples[0].wall for r in results.values())
            rounds = max(min_runs, min(runs, int(budget / max(round_time, 1e-9))))
    return results


# --- the venv ------------------------------------------------------------------------------------


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env["LC_ALL"] = env.get("LC_ALL") or "C.UTF-8"
    return env


def source_digest(source: Path) -> str:
    """A hash of everything that goes into the installed package."""
    digest = hashlib.sha256()
    paths = [p for part in ("bpcli", "grammar") for p in sorted((source / part).rglob("*"))]
    paths += [source / "pyproject.toml", source / "README.md"]
    for path in paths:
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def pip(venv: Path, *args: str) -> None:
    proc = subprocess.run(
        [str(venv_python(venv)), "-m", "pip", *args],
        env=clean_env(),
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        lines = (proc.stdout + proc.stderr).strip().splitlines()
        raise BenchError(f"pip {' '.join(args)} failed:\n" + "\n".join(lines[-25:]))


def ensure_venv(base_python: str, source: Path, reinstall: bool) -> Path:
    """Create benchmarks/.venv and install bpcli from `source` into it, as a user would;
    reinstall when the source, the base interpreter or --reinstall say so."""
    base = str(Path(base_python).resolve())
    stamp_path = VENV / STAMP_NAME
    stamp = json.loads(stamp_path.read_text()) if stamp_path.exists() else {}
    wanted = {"python": base, "source": str(source), "digest": source_digest(source)}
    if stamp == wanted and not reinstall and venv_python(VENV).exists():
        return VENV
    fresh = stamp.get("python") != base or not venv_python(VENV).exists()
    if fresh:
        print(f"creating {VENV.relative_to(ROOT)} with {base}", flush=True)
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    else:
        print("source changed: reinstalling bpcli" if stamp else "installing bpcli", flush=True)
        stamp_path.unlink(missing_ok=True)
        pip(VENV, "uninstall", "--yes", "--quiet", "bpcli")
    started = time.perf_counter()
    pip(VENV, "install", "--quiet", str(source))
    # pip byte-compiles what it installs; make sure of it (also for the dependencies), since a
    # missing .pyc would be compiled on every timed run under PYTHONDONTWRITEBYTECODE.
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = subprocess.run(
        [str(venv_python(VENV)), "-c", where], capture_output=True, text=True, check=True
    ).stdout.strip()
    # A file that does not compile is left out, as pip leaves it (torch 2.13 ships one in 3.12
    # syntax, torch/testing/_internal/py312_intrinsics.py); it must not be one of bpcli's.
    compiled = subprocess.run(
        [str(venv_python(VENV)), "-m", "compileall", "-q", "-j0", site],
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    failed = re.findall(r"^\*\*\* Error compiling '(.*)'", compiled.stdout, re.MULTILINE)
    if compiled.returncode != 0:
        ours = [p for p in failed if Path(p).is_relative_to(Path(site) / "bpcli")]
        if ours or not failed:
            raise BenchError(f"compileall failed on {ours or site}:\n{compiled.stdout[-2000:]}")
        print(
            f"compileall: {len(failed)} file(s) of other packages do not compile, left out as pip"
            f" leaves them ({', '.join(Path(p).relative_to(site).as_posix() for p in failed[:3])})",
            flush=True,
        )
    print(f"installed bpcli from {source} in {time.perf_counter() - started:.1f} s", flush=True)
    stamp_path.write_text(json.dumps(wanted))
    return VENV


def torch_version(venv: Path) -> str | None:
    """The version of torch installed in the venv (from its metadata, without importing it)."""
    code = "import importlib.metadata as m; print(m.version('torch'))"
    proc = subprocess.run(
        [str(venv_python(venv)), "-c", code],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=tempfile.gettempdir(),
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def ensure_torch(venv: Path) -> None:
    """TORCH_REQUIREMENT in the venv: pip installs it unless that version is there already."""
    wanted = TORCH_REQUIREMENT.partition("==")[2]
    if (torch_version(venv) or "").partition("+")[0] == wanted:
        return
    print(f"installing {TORCH_REQUIREMENT} into the venv for the PyTorch rows", flush=True)
    started = time.perf_counter()
    pip(venv, "install", "--quiet", TORCH_REQUIREMENT)
    print(f"installed {TORCH_REQUIREMENT} in {time.perf_counter() - started:.1f} s", flush=True)


def environment(venv: Path, source: Path) -> dict[str, Any]:
    code = """
import json, platform, importlib.metadata as m
import bpcli, numpy
try:
    blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
except Exception:
    blas = "?"
try:
    torch = m.version("torch")
except m.PackageNotFoundError:
    torch = None
print(json.dumps({"python": platform.python_version(), "implementation": platform.python_implementation(),
                  "bpcli": bpcli.__version__, "bpcli_path": bpcli.__file__, "numpy": numpy.__version__,
                  "click": m.version("click"), "rich": m.version("rich"), "blas": blas, "torch": torch}))
"""
    info = json.loads(
        subprocess.run(
            [str(venv_python(venv)), "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env=clean_env(),
            cwd=tempfile.gettempdir(),
        ).stdout
    )
    if not info["bpcli_path"].startswith(str(venv)):
        raise BenchError(f"the venv imports bpcli from {info['bpcli_path']}, not from the venv")
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 0
    git = subprocess.run(
        ["git", "-C", str(source), "describe", "--always", "--dirty"], capture_output=True, text=True
    )
    info.update(
        cores=cpus,
        machine=f"{platform.system()} {platform.machine()}",
        commit=git.stdout.strip() or "?",
        load=" ".join(f"{v:.2f}" for v in os.getloadavg()),
    )
    pyc = Path(info["bpcli_path"]).parent / "__pycache__"
    info["bpcli_pyc"] = any(pyc.glob("cli.*.pyc"))
    return info


# --- checks ----------------------------------------------------------------------------------------


def expect_text(*needles: str) -> Any:
    def check(sample: Sample) -> str | None:
        text = (sample.head + sample.tail).decode(errors="replace")
        missing = [n for n in needles if n not in text]
        return f"output lacks {missing!r}" if missing else None

    return check


def expect_grad(name: str, value: float) -> Any:
    """The table's summary line ∂f/∂name = value (at 4 significant digits)."""
    pattern = re.compile(rf"∂f/∂{re.escape(name)} = (\S+)")

    def check(sample: Sample) -> str | None:
        found = pattern.findall(sample.tail.decode(errors="replace"))
        if not found:
            return f"no ∂f/∂{name} line in the output"
        try:
            got = float(found[-1])
        except ValueError:
            return f"∂f/∂{name} = {found[-1]} is not a number"
        return None if abs(got - value) <= 1e-3 * abs(value) else f"∂f/∂{name} = {got}, expected {value}"

    return check


def json_value(sample: Sample) -> float | None:
    match = re.search(rb'"value":\s*(-?[0-9.eE+-]+)', sample.head)
    return float(match.group(1)) if match else None


def summary_value(sample: Sample) -> float | None:
    match = re.search(
        r"sum\(\(W@x\)\^2\) = (-?[0-9.eE+-]+)\s*$", sample.tail.decode(errors="replace"), re.MULTILINE
    )
    return float(match.group(1)) if match else None


def line_value(text: str, name: str) -> float | None:
    """The number on the last line `name = number` (bpcli's table puts f's there, and the
    array baselines their f), or None."""
    found = re.findall(rf"^{re.escape(name)} = (-?[0-9.eE+-]+)\s*$", text, re.MULTILINE)
    try:
        return float(found[-1]) if found else None
    except ValueError:
        return None


def expect_value(name: str, value: float, rel: float) -> Any:
    """The line `name = number` in the tail of the output, within rel of value."""

    def check(sample: Sample) -> str | None:
        got = line_value(sample.tail.decode(errors="replace"), name)
        if got is None:
            return f"no line '{name} = …' at the end of the output"
        return None if abs(got - value) <= rel * abs(value) else f"{name} = {got!r}, bpcli's is {value!r}"

    return check


# --- the benchmarks ------------------------------------------------------------------------------


class Suite:
    def __init__(
        self, venv: Path, settings: Settings, workdir: Path, source: Path = ROOT, torch: bool = False
    ) -> None:
        self.venv = venv
        self.torch = torch  # torch is installed in the venv: add the PyTorch rows
        self.source = source  # the checkout bpcli was installed from (for samples/)
        self.bin = venv / "bin"
        self.python = str(venv_python(venv))
        self.bpcli = str(self.bin / "bpcli")
        self.torch_script = (self.python, str(HERE / "torch_baseline.py"))
        self.settings = settings
        self.workdir = workdir  # every command runs here, outside the checkout
        self.env = clean_env()
        self.results: list[Result] = []
        self.targets: list[Target] = []

    def add(self, results: dict[str, Result]) -> dict[str, Result]:
        self.results.extend(results.values())
        return results

    def target(
        self,
        bench: str,
        what: str,
        value: float,
        limit: float | None,
        unit: str = "×",
        of_mins: float | None = None,
        at_least: bool = False,
    ) -> None:
        self.targets.append(Target(bench, what, value, limit, unit, of_mins, at_least))

    def ratio(self, bench: str, what: str, a: Result, b: Result, limit: float | None) -> None:
        """The target ratio of medians a / b, with the ratio of their minimums beside it."""
        self.target(bench, what, a.median / b.median, limit, of_mins=min(a.walls) / min(b.walls))

    # --- startup ---

    def startup(self) -> None:
        program = ["grad", "(x+y)*z", "x=-2", "y=5", "z=-4"]
        cmds = {
            "bpcli grad (x+y)*z": Cmd((self.bpcli, *program), expect_text("∂f/∂z = 3")),
            "bpcli grad --format json": Cmd(
                (self.bpcli, *program, "--format", "json"), expect_text('"value": -12.0')
            ),
            "bpcli --help": Cmd((self.bpcli, "--help"), expect_text("grad")),
            IMPORTS: Cmd((self.python, "-c", "import click, rich.console, rich.table")),
            "python -c pass": Cmd((self.python, "-c", "pass")),
        }
        r = self.add(
            time_group("startup", cmds, self.env, self.workdir, runs=self.settings.startup_runs, warmup=2)
        )
        imports = r[IMPORTS]
        self.ratio(
            "startup",
            "bpcli grad (table) / import click+rich",
            r["bpcli grad (x+y)*z"],
            imports,
            STARTUP_RATIO,
        )
        self.ratio(
            "startup",
            "bpcli grad --format json / import click+rich",
            r["bpcli grad --format json"],
            imports,
            None,
        )
        self.ratio("startup", "bpcli --help / import click+rich", r["bpcli --help"], imports, None)
        self.ratio(
            "startup",
            "bpcli grad (table) / python -c pass",
            r["bpcli grad (x+y)*z"],
            r["python -c pass"],
            None,
        )

    # --- scaling ---

    def scaling(self) -> None:
        s = self.settings
        argv = (
            self.python,
            str(HERE / "inprocess.py"),
            "--sums",
            ",".join(map(str, s.sums)),
            "--sines",
            ",".join(map(str, s.sines)),
            "--repeats",
            str(s.inprocess_repeats),
        )
        proc = subprocess.run(argv, capture_output=True, text=True, env=self.env, cwd=self.workdir)
        if proc.returncode != 0:
            raise BenchError(f"inprocess.py failed:\n{proc.stderr.strip()[-2000:]}")
        data = json.loads(proc.stdout)
        if not data["bpcli"].startswith(str(VENV)):
            raise BenchError(f"inprocess.py imported bpcli from {data['bpcli']}")
        for kind, sizes, label in (
            ("sum", s.sums, "x+x+…+x, {:,} terms"),
            ("sin", s.sines, "sin(sin(…x…)), depth {:,}"),
        ):
            previous: tuple[int, float] | None = None
            for size in sizes:
                m = data[kind][str(size)]
                best = min(m["total"])
                per_node = best / m["nodes"]
                self.results.append(InProcess("scaling", label.format(size), m, per_node))
                if previous is not None:
                    last_size, last_best = previous
                    ratio = best / last_best
                    top = kind == "sum" and size == sizes[-1]
                    self.target(
                        "scaling",
                        f"{kind}: t({size:,}) / t({last_size:,})",
                        ratio,
                        DOUBLING_RATIO if top else None,
                    )
                previous = size, best

        # End to end, the program read from a file, the table printed to a pipe.
        n = s.e2e_terms
        path = self.workdir / f"sum{n}.bp"
        path.write_text("+".join(["x"] * n) + "\n")
        cmds = {
            f"bpcli grad -f sum{n}.bp (table)": Cmd(
                (self.bpcli, "grad", "-f", path.name, "x=0.5"), expect_grad("x", float(n))
            )
        }
        r = self.add(
            time_group(
                "scaling",
                cmds,
                self.env,
                self.workdir,
                runs=s.e2e_runs,
                warmup=1 if s.e2e_runs > 1 else 0,
                budget=15,
                min_runs=min(3, s.e2e_runs),
            )
        )
        self.target(
            "scaling",
            f"bpcli grad -f sum{n}.bp, median",
            r[f"bpcli grad -f sum{n}.bp (table)"].median,
            E2E_SECONDS,
            "s",
        )
        if s.million:
            n = 1_000_000
            path = self.workdir / "sum1m.bp"
            path.write_text("+".join(["x"] * n) + "\n")
            cmds = {
                "bpcli grad -f sum1m.bp (table)": Cmd(
                    (self.bpcli, "grad", "-f", path.name, "x=0.5"), expect_grad("x", float(n))
                )
            }
            r = self.add(time_group("scaling", cmds, self.env, self.workdir, runs=1, warmup=0))
            r["bpcli grad -f sum1m.bp (table)"].note = "must complete"

    # --- arrays ---

    def arrays(self) -> None:
        for n in self.settings.array_sizes:
            self._arrays(n)
        self._net()

    def _arrays(self, n: int) -> None:
        w_name, x_name = f"W{n}.npy", f"x{n}.npy"
        code = (
            "import sys, numpy as np\n"
            "n = int(sys.argv[1]); rng = np.random.default_rng(20240 + n)\n"
            "np.save(sys.argv[2], rng.standard_normal((n, n)) / np.sqrt(n))\n"
            "np.save(sys.argv[3], rng.standard_normal(n))\n"
        )
        subprocess.run(
            [self.python, "-c", code, str(n), w_name, x_name], check=True, env=self.env, cwd=self.workdir
        )
        program = ("grad", "sum((W@x)^2)", f"W=@{w_name}", f"x=@{x_name}")
        baseline = (self.python, str(HERE / "numpy_baseline.py"), w_name, x_name)

        # The table summarises big arrays; the baseline prints the same kind of summary.
        table, summ = f"bpcli grad, table, n={n}", f"numpy script, summary, n={n}"
        cmds = {table: Cmd((self.bpcli, *program)), summ: Cmd((*baseline, "--format", "summary"))}
        r = self.add(
            time_group("arrays", cmds, self.env, self.workdir, runs=10, warmup=1, budget=10, min_runs=3)
        )
        self._same_value(r[table].samples[-1], r[summ].samples[-1], n, table=True)
        self.ratio("arrays", f"n={n}: bpcli table / numpy summary", r[table], r[summ], ARRAYS_TABLE_RATIO)
        if self.torch and n == self.settings.torch_array_size:
            f = self._exact_value((self.bpcli, *program), "sum((W@x)^2)")
            self._torch_rows(
                f"n={n}",
                r[table],
                ("arrays", w_name, x_name),
                expect_value("sum((W@x)^2)", f, VALUE_TOLERANCE),
            )

        # JSON: every gradient in full (--full: by default bpcli summarises arrays of more than
        # 100,000 elements). bpcli's document also lists every node's value and gradients, so
        # it is several times longer than the baseline's f and gradients.
        jsn, base = f"bpcli grad --format json --full, n={n}", f"numpy script, json, n={n}"
        estimate = self._json_memory_estimate(n)
        if estimate and estimate > 0.8 * available_memory():
            note = (
                f"skipped: would need about {human_bytes(estimate)}, "
                f"{human_bytes(available_memory())} available"
            )
            print(f"  arrays n={n} json {note}", flush=True)
            self.results.append(Skipped("arrays", jsn, note=note))
            return
        r = self.add(
            time_group(
                "arrays",
                {
                    jsn: Cmd((self.bpcli, *program, "--format", "json", "--full")),
                    base: Cmd((*baseline, "--format", "json")),
                },
                self.env,
                self.workdir,
                runs=5,
                warmup=0,
                budget=20,
                min_runs=1,
            )
        )
        self._same_value(r[jsn].samples[-1], r[base].samples[-1], n, table=False)
        size_ratio = r[jsn].samples[-1].out_bytes / r[base].samples[-1].out_bytes
        r[jsn].note = f"output {size_ratio:.1f}× the baseline's"
        self.ratio("arrays", f"n={n}: bpcli json / numpy json", r[jsn], r[base], ARRAYS_RATIO)
        per_byte = [x.median / x.samples[-1].out_bytes for x in (r[jsn], r[base])]
        self.target(
            "arrays", f"n={n}: (bpcli json / numpy json) per output byte", per_byte[0] / per_byte[1], None
        )

    def _net(self) -> None:
        """cs231n's two-layer net (NET_PROGRAM), its inputs from .npy files, as `bpcli grad -f`
        with the table, against numpy_net_baseline.py (and PyTorch's autograd, if installed)."""
        n, d, h, c = self.settings.net
        code = (
            "import sys, numpy as np\n"
            "n, d, h, c = map(int, sys.argv[1:]); rng = np.random.default_rng(20241)\n"
            "np.save('X.npy', rng.standard_normal((n, d)))\n"
            "np.save('Y.npy', np.eye(c)[rng.integers(0, c, n)])\n"
            "np.save('W1.npy', rng.standard_normal((d, h)) / np.sqrt(d))\n"
            "np.save('b1.npy', 0.01 * rng.standard_normal(h))\n"
            "np.save('W2.npy', rng.standard_normal((h, c)) / np.sqrt(h))\n"
            "np.save('b2.npy', 0.01 * rng.standard_normal(c))\n"
        )
        subprocess.run(
            [self.python, "-c", code, str(n), str(d), str(h), str(c)],
            check=True,
            env=self.env,
            cwd=self.workdir,
        )
        (self.workdir / "net.bp").write_text(NET_PROGRAM)
        files = tuple(f"{name}.npy" for name in NET_INPUTS)
        program = ("grad", "-f", "net.bp", *(f"{name}=@{name}.npy" for name in NET_INPUTS), f"N={n}")
        # The loss in full, for checking every run: the table's (4 decimals) and the baselines'.
        loss = self._exact_value((self.bpcli, *program), "loss")
        label = f"N={n}, D={d}, H={h}, C={c}"
        table, summ = f"bpcli grad -f net.bp, table, {label}", f"numpy net script, summary, {label}"
        cmds = {
            table: Cmd((self.bpcli, *program), expect_value("loss", loss, TABLE_TOLERANCE)),
            summ: Cmd(
                (self.python, str(HERE / "numpy_net_baseline.py"), *files, str(n)),
                expect_value("loss", loss, VALUE_TOLERANCE),
            ),
        }
        r = self.add(
            time_group("arrays", cmds, self.env, self.workdir, runs=10, warmup=1, budget=10, min_runs=3)
        )
        r[table].note = f"loss = {loss:.10g} (an untimed run with --precision 12)"
        r[summ].note = f"its loss within {VALUE_TOLERANCE:g} of bpcli's"
        self.ratio("arrays", "net: bpcli table / numpy summary", r[table], r[summ], ARRAYS_TABLE_RATIO)
        if self.torch:
            self._torch_rows(
                "net", r[table], ("net", *files, str(n)), expect_value("loss", loss, VALUE_TOLERANCE)
            )

    def _exact_value(self, argv: tuple[str, ...], name: str) -> float:
        """Run a bpcli table once, untimed, with --precision 12, and read `name = …` from it."""
        proc = subprocess.run(
            (*argv, "--precision", "12"),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=self.env,
            cwd=self.workdir,
        )
        if proc.returncode != 0:
            message = proc.stderr.decode(errors="replace").strip()[-2000:]
            raise BenchError(f"{' '.join(argv)} --precision 12 exited with {proc.returncode}:\n{message}")
        value = line_value(proc.stdout.decode(errors="replace"), name)
        if value is None:
            raise BenchError(f"{' '.join(argv)} --precision 12: no line '{name} = …' in the output")
        return value

    def _torch_rows(self, what: str, bpcli: Result, args: tuple[str, ...], check: Any) -> None:
        """The PyTorch script and its import alone, timed interleaved in a group of their own
        (a 1 s, 300 MB process disturbs a 0.1 s one run beside it), and bpcli's table over it,
        end to end and with torch's import left out."""
        script, alone = f"torch script, summary, {what}", f"torch script, import only ({what} runs)"
        cmds = {script: Cmd((*self.torch_script, *args), check), alone: Cmd((*self.torch_script, "import"))}
        r = self.add(
            time_group(
                "arrays",
                cmds,
                self.env,
                self.workdir,
                runs=10,
                warmup=1,
                budget=self.settings.torch_budget,
                min_runs=3,
            )
        )
        torch, imports = r[script], r[alone]
        self.ratio("arrays", f"{what}: bpcli table / torch script", bpcli, torch, None)
        left, best, note = import_left_out(torch, imports)
        torch.note = f"{note}; f within {VALUE_TOLERANCE:g} of bpcli's"
        if left is not None:
            self.target(
                "arrays",
                f"{what}: bpcli table / torch script, import left out",
                bpcli.median / left,
                None,
                of_mins=None if best is None else min(bpcli.walls) / best,
            )

    def _json_memory_estimate(self, n: int) -> int | None:
        """bpcli's peak memory for the JSON of a smaller n, scaled by n² (None if not measured)."""
        for r in reversed(self.results):
            m = re.fullmatch(r"bpcli grad --format json --full, n=(\d+)", r.case)
            if m and r.samples and int(m.group(1)) < n:
                return int(r.peak * (n / int(m.group(1))) ** 2)
        return None

    @staticmethod
    def _same_value(ours: Sample, theirs: Sample, n: int, table: bool) -> None:
        if table:
            a = expect_f_in_table(ours)
            b = summary_value(theirs)
        else:
            a, b = json_value(ours), json_value(theirs)
        if a is None or b is None or abs(a - b) > 1e-3 * abs(b):
            raise BenchError(f"n={n}: bpcli's f ({a}) differs from numpy's ({b})")

    # --- batch ---

    def batch(self) -> None:
        s = self.settings
        n = s.batch_problems
        text = self.workdir / f"neurons{n}.txt"
        points = self.workdir / f"points{n}.jsonl"
        first = write_neuron_problems(n, 20250, text, points, keep=s.process_problems)
        shutil.copyfile(self.source / "samples" / "neuron.bp", self.workdir / "neuron.bp")
        empty = self.workdir / "empty.txt"
        empty.write_text("")
        label = f"{n:,} problems"
        names = {
            "batch": f"bpcli batch --format jsonl, {label}",
            "jobs2": f"bpcli batch --jobs 2, {label}",
            "program": f"bpcli batch --program neuron.bp, {label} (JSONL points)",
            "micrograd": f"micrograd baseline, {label}",
            "empty": "bpcli batch, an empty file (start-up)",
        }
        argv = {
            "batch": (self.bpcli, "batch", text.name, "--format", "jsonl"),
            "jobs2": (self.bpcli, "batch", text.name, "--format", "jsonl", "--jobs", "2"),
            "program": (self.bpcli, "batch", points.name, "--program", "neuron.bp", "--format", "jsonl"),
            "micrograd": (self.python, str(HERE / "micrograd_baseline.py"), text.name),
            "empty": (self.bpcli, "batch", empty.name, "--format", "jsonl"),
        }

        # One untimed run of each (also the warm-up), its whole output written to a file and
        # checked line by line, streaming, so that this runner's own peak RSS, which is the floor
        # of every child's, stays small: the baseline against the neuron's closed form, bpcli
        # against the baseline.
        out = {key: self._capture(args, self.workdir / f"out-{key}.jsonl") for key, args in argv.items()}
        problem = (
            check_neuron(text, out["micrograd"])
            or compare_files(out["batch"], out["micrograd"])
            or (
                None
                if filecmp.cmp(out["jobs2"], out["batch"], shallow=False)
                else "--jobs 2 wrote other output than --jobs 1"
            )
            or compare_files(out["program"], out["micrograd"], "--program: ")
        )
        if problem:
            raise BenchError(f"batch: {problem}")

        r = self._time_batches("batch", names, argv, out)
        for key in ("batch", "jobs2", "program", "micrograd"):
            r[names[key]].note = f"{n / r[names[key]].median:,.0f} problems/s"
        r[names["jobs2"]].note += "; the same bytes as --jobs 1"
        r[names["batch"]].note += f"; every line's grads within {BATCH_TOLERANCE:g} of the baseline's"
        bpcli, base = r[names["batch"]], r[names["micrograd"]]
        self.throughput("bpcli batch / micrograd", bpcli, base, BATCH_RATIO)
        self.throughput("bpcli batch / micrograd (the older floor)", bpcli, base, BATCH_FLOOR)
        self.target(
            "batch",
            "bpcli batch, problems/s",
            n / bpcli.median,
            BATCH_RATE,
            "/s",
            of_mins=n / min(bpcli.walls),
            at_least=True,
        )
        self.throughput("bpcli batch --jobs 2 / micrograd", r[names["jobs2"]], base, BATCH_JOBS2_RATIO)
        self.throughput("bpcli batch --program / micrograd", r[names["program"]], base, BATCH_PROGRAM_RATIO)
        self.throughput("bpcli batch --jobs 2 / --jobs 1", r[names["jobs2"]], bpcli, JOBS2_RATIO)
        self.jobs_without_startup("batch", bpcli, r[names["jobs2"]], r[names["empty"]])

        reference = head_records(
            out["micrograd"], max(s.sympy_problems, s.process_problems, s.torch_problems)
        )
        rate = n / bpcli.median
        if self._has("sympy", "sympy>=1.12", "the SymPy baseline"):
            sympy = (self.python, str(HERE / "sympy_baseline.py"))
            self._batch_baseline("SymPy", sympy, s.sympy_problems, text, reference, rate, same_bytes=False)
        else:
            case = f"SymPy baseline, the first {s.sympy_problems} problems"
            self.results.append(Skipped("batch", case, note="skipped: SymPy could not be installed"))
        if self.torch:
            torch = (*self.torch_script, "batch")
            self._batch_baseline("torch", torch, s.torch_problems, text, reference, rate, same_bytes=True)
        self._batch_processes(first, reference, rate)

    def throughput(self, what: str, a: Result, b: Result, limit: float | None, bench: str = "batch") -> None:
        """Problems/s of a over problems/s of b, for runs over the same problems (so b's time
        over a's), with the ratio of their fastest runs beside it; the target is ≥ limit."""
        self.target(
            bench, what, b.median / a.median, limit, of_mins=min(b.walls) / min(a.walls), at_least=True
        )

    def jobs_without_startup(self, bench: str, one: Result, two: Result, start: Result) -> None:
        """--jobs 2 over --jobs 1 with bpcli's start-up (the same command on an empty file,
        timed in the same rounds) left out of both: how the workers share the problems, apart
        from the part no number of workers shortens."""
        a, b = one.median - start.median, two.median - start.median
        best_a, best_b = min(one.walls) - min(start.walls), min(two.walls) - min(start.walls)
        if a > 0 and b > 0:
            self.target(
                bench,
                "bpcli batch --jobs 2 / --jobs 1, start-up left out",
                a / b,
                None,
                of_mins=best_a / best_b if best_a > 0 and best_b > 0 else None,
                at_least=True,
            )
        # CPU time (user + system of the whole process tree: wait4 counts the workers the
        # batch reaped), which other load disturbs much less than wall time.
        cpu1, cpu2, cpu0 = (statistics.median(s.cpu for s in r.samples) for r in (one, two, start))
        self.target(bench, "CPU of --jobs 2 less --jobs 1's", cpu2 - cpu1, None, unit="s")
        if cpu2 > cpu0:  # two idle cores: the start-up alone, then the rest shared by two
            projected = cpu1 / (cpu0 + (cpu2 - cpu0) / 2)
            self.target(bench, "--jobs 2 / --jobs 1 as their CPU times project", projected, None)

    # --- distinct ---

    def distinct(self) -> None:
        """Problems that share no structure (each its own program: no graph reuse, no compiled
        path), as JSON Lines records, against the micrograd peer reading the same records."""
        s = self.settings
        n = s.distinct_problems
        path = self.workdir / f"distinct{n}.jsonl"
        tokens = write_distinct_problems(n, DISTINCT_SEED, path)
        label = f"{n:,} distinct problems"
        empty = self.workdir / "empty.jsonl"
        empty.write_text("")
        names = {
            "batch": f"bpcli batch --format jsonl, {label}",
            "jobs2": f"bpcli batch --jobs 2, {label}",
            "micrograd": f"micrograd baseline, {label}",
            "empty": "bpcli batch, an empty file (start-up)",
        }
        argv = {
            "batch": (self.bpcli, "batch", path.name, "--format", "jsonl"),
            "jobs2": (self.bpcli, "batch", path.name, "--format", "jsonl", "--jobs", "2"),
            "micrograd": (self.python, str(HERE / "micrograd_baseline.py"), path.name),
            "empty": (self.bpcli, "batch", empty.name, "--format", "jsonl"),
        }
        out = {
            key: self._capture(args, self.workdir / f"out-distinct-{key}.jsonl") for key, args in argv.items()
        }
        problem = compare_files(out["batch"], out["micrograd"]) or (
            None
            if filecmp.cmp(out["jobs2"], out["batch"], shallow=False)
            else "--jobs 2 wrote other output than --jobs 1"
        )
        if problem:
            raise BenchError(f"distinct: {problem}")
        r = self._time_batches("distinct", names, argv, out)
        for key in ("batch", "jobs2", "micrograd"):
            r[names[key]].note = f"{n / r[names[key]].median:,.0f} problems/s"
        r[names["batch"]].note += (
            f"; {tokens / n:.0f} tokens a program; every line's grads within {BATCH_TOLERANCE:g}"
            " of the baseline's"
        )
        r[names["jobs2"]].note += "; the same bytes as --jobs 1"
        bpcli, base = r[names["batch"]], r[names["micrograd"]]
        self.throughput("bpcli batch / micrograd, distinct", bpcli, base, DISTINCT_RATIO, "distinct")
        self.throughput(
            "bpcli batch --jobs 2 / micrograd, distinct", r[names["jobs2"]], base, None, "distinct"
        )
        self.throughput(
            "bpcli batch --jobs 2 / --jobs 1, distinct", r[names["jobs2"]], bpcli, JOBS2_RATIO, "distinct"
        )
        self.jobs_without_startup("distinct", bpcli, r[names["jobs2"]], r[names["empty"]])

    def _time_batches(
        self, bench: str, names: dict[str, str], argv: dict[str, tuple[str, ...]], out: dict[str, Path]
    ) -> dict[str, Result]:
        """Time a batch benchmark's commands, interleaved, each expected to write as many bytes
        as its untimed run did (`out`)."""
        s = self.settings
        cmds = {names[key]: Cmd(args, expect_size(out[key].stat().st_size)) for key, args in argv.items()}
        return self.add(
            time_group(
                bench,
                cmds,
                self.env,
                self.workdir,
                runs=s.batch_runs,
                warmup=0,
                budget=60,
                min_runs=min(3, s.batch_runs),
            )
        )

    def _capture(self, argv: tuple[str, ...], path: Path, env: tuple[tuple[str, str], ...] = ()) -> Path:
        """Run once, untimed, stdout to the file `path` (`env`: more variables)."""
        with path.open("wb") as out:
            proc = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.PIPE,
                env={**self.env, **dict(env)},
                cwd=self.workdir,
            )
        if proc.returncode != 0:
            message = proc.stderr.decode(errors="replace").strip()[-2000:]
            raise BenchError(f"{' '.join(argv)} exited with {proc.returncode}:\n{message}")
        return path

    # --- points ---

    def points(self) -> None:
        """One program at many points (issue 20, part 4): `bpcli batch POINTS --program
        neuron.bp` with the points together (numpy arrays over runs of lines) against the
        same command one point at a time (BPCLI_POINTWISE=1: the compiled scalar path), the
        same bytes checked; and `Program.grad_many` against grad at each point, in-process."""
        s = self.settings
        n = s.points
        text = self.workdir / f"neurons-points{n}.txt"
        points = self.workdir / f"points-{n}.jsonl"
        write_neuron_problems(n, 20260, text, points, keep=0)
        shutil.copyfile(self.source / "samples" / "neuron.bp", self.workdir / "neuron.bp")
        argv = (self.bpcli, "batch", points.name, "--program", "neuron.bp")
        alone_env = (("BPCLI_POINTWISE", "1"),)
        together = self._capture(argv, self.workdir / "out-points-together.jsonl")
        alone = self._capture(argv, self.workdir / "out-points-alone.jsonl", alone_env)
        if not filecmp.cmp(together, alone, shallow=False):
            raise BenchError("points: batch --program wrote other records together than one by one")
        size = expect_size(together.stat().st_size)
        names = {
            "together": f"bpcli batch --program neuron.bp, {n:,} points together",
            "alone": f"bpcli batch --program neuron.bp, {n:,} points one by one",
        }
        cmds = {
            names["together"]: Cmd(argv, size),
            names["alone"]: Cmd(argv, size, env=alone_env),
        }
        r = self.add(
            time_group("points", cmds, self.env, self.workdir, runs=s.points_runs, warmup=0, budget=60)
        )
        for name in names.values():
            r[name].note = f"{n / r[name].median:,.0f} points/s"
        r[names["together"]].note += "; the same bytes as one by one"
        r[names["alone"]].note += "; BPCLI_POINTWISE=1"
        a, b = r[names["together"]], r[names["alone"]]
        self.target(
            "points",
            "batch --program: together / one by one (points/s)",
            b.median / a.median,
            POINTS_RATIO,
            of_mins=min(b.walls) / min(a.walls),
            at_least=True,
        )
        data = self._inprocess("inprocess_points.py", str(n), str(max(2, s.points_runs)))
        many = Timed("points", f"Program.grad_many, {n:,} points", {"total": data["together"]})
        many.note = "in-process; f and the gradients the same floats as grad's"
        one = Timed("points", f"grad at each point, {n:,} points", {"total": data["one_by_one"]})
        one.note = "in-process; [program.grad(p) for p in points]"
        self.results += [many, one]
        self.target(
            "points",
            "grad_many: together / one by one (points/s)",
            statistics.median(one.walls) / statistics.median(many.walls),
            POINTS_RATIO,
            of_mins=min(one.walls) / min(many.walls),
            at_least=True,
        )

    def _batch_baseline(
        self,
        who: str,
        script: tuple[str, ...],
        k: int,
        text: Path,
        reference: dict[int, dict[str, Any]],
        bpcli_rate: float,
        same_bytes: bool,
    ) -> None:
        """A baseline script (`script FILE --limit N`) on the first k problems, and with --limit 0
        (only its import), timed interleaved, so that its rate leaves the import out. Its records
        are checked against the micrograd baseline's once, untimed; each timed run is checked for
        the same bytes (same_bytes) or for records."""
        case, alone = f"{who} baseline, the first {k} problems", f"{who} baseline, import only"
        argv = (*script, text.name, "--limit", str(k))
        out = self._capture(argv, self.workdir / f"out-{who.lower()}.jsonl")
        problem = compare_records(list(head_records(out, k + 1).values()), reference, f"{who}: ", expected=k)
        if problem:
            raise BenchError(f"batch: {problem}")
        check = expect_size(out.stat().st_size) if same_bytes else expect_text('"grads"')
        cmds = {case: Cmd(argv, check), alone: Cmd((*script, text.name, "--limit", "0"))}
        r = self.add(
            time_group(
                "batch",
                cmds,
                self.env,
                self.workdir,
                runs=5,
                warmup=0,
                budget=15,
                min_runs=min(3, self.settings.batch_runs),
            )
        )
        runs, imports = r[case], r[alone]
        left, best, note = import_left_out(runs, imports)
        if left is not None:
            note = f"{k / left:,.0f} problems/s with the import left out"
            self.target(
                "batch",
                f"bpcli batch / {who} (scaled from {k} problems)",
                bpcli_rate * left / k,
                None,
                of_mins=None if best is None else bpcli_rate * best / k,
            )
        runs.note = f"{note}; every line's grads within {BATCH_TOLERANCE:g} of the micrograd baseline's"

    def _has(self, module: str, requirement: str, why: str) -> bool:
        """A module in the venv, installed into it (by pip, as bpcli's test extra names it) if missing."""

        def importable() -> bool:
            return (
                subprocess.run(
                    [self.python, "-c", f"import {module}"],
                    env=self.env,
                    cwd=self.workdir,
                    capture_output=True,
                ).returncode
                == 0
            )

        if importable():
            return True
        print(f"  installing {module} into the venv for {why}", flush=True)
        try:
            pip(self.venv, "install", "--quiet", requirement)
        except BenchError as err:
            print(f"  {err}", flush=True)
            return False
        return importable()

    def _batch_processes(
        self, problems: list[tuple[str, ...]], reference: dict[int, dict[str, Any]], bpcli_rate: float
    ) -> None:
        """`bpcli grad LINE --format json`, a fresh process for each problem (after one untimed)."""
        case = f"bpcli grad, one process per problem, {len(problems)} problems"
        result = Result("batch", case)
        spawn(Cmd((self.bpcli, "grad", neuron_line(problems[0]), "--format", "json")), self.env, self.workdir)
        for number, coeffs in enumerate(problems, start=1):
            sample = spawn(
                Cmd((self.bpcli, "grad", neuron_line(coeffs), "--format", "json")), self.env, self.workdir
            )
            problem = compare_records([{"line": number, **grad_json(sample)}], reference, "bpcli grad: ")
            if problem:
                raise BenchError(f"batch: {problem}")
            result.samples.append(sample)
        self.add({case: result})
        result.note = f"{1 / result.median:,.1f} problems/s"
        self.target(
            "batch",
            "bpcli batch / one bpcli grad process per problem",
            bpcli_rate * result.median,
            None,
            of_mins=None,
        )

    # --- cnn ---

    def cnn(self) -> None:
        """cs231n's conv layer and softmax loss, in one process (inprocess_cnn.py): bpcli's
        conv2d op and its whole programs against numpy written by hand; then the programs
        end to end (`bpcli grad -f`) against the numpy scripts, reported."""
        argv = (self.python, str(HERE / "inprocess_cnn.py"), "--repeats", str(self.settings.cnn_repeats))
        proc = subprocess.run(argv, capture_output=True, text=True, env=self.env, cwd=self.workdir)
        if proc.returncode != 0:
            raise BenchError(f"inprocess_cnn.py failed:\n{(proc.stderr or proc.stdout).strip()[-2000:]}")
        data = json.loads(proc.stdout)
        if not data["bpcli"].startswith(str(VENV)):
            raise BenchError(f"inprocess_cnn.py imported bpcli from {data['bpcli']}")
        checked = "f and every gradient within 1e-9 of numpy's"
        for bench, label, limit in (
            ("conv", "conv2d, forward + backward", CONV_RATIO),
            ("softmax", "softmax loss", SOFTMAX_RATIO),
        ):
            part = data[bench]
            cases = part["cases"]
            rows = {name: Timed("cnn", f"{label}, {name}, {part['label']}", m) for name, m in cases.items()}
            rows["numpy"].note = "in-process, by hand" + (" (im2col)" if bench == "conv" else "")
            for name, row in rows.items():
                if name != "numpy":
                    row.note = f"in-process; {checked}" + (f"; {row.note}" if row.note else "")
            self.results.extend(rows.values())
            for name, why in part["skipped"].items():
                note = f"{why} (its target, ≤ {limit:g}× numpy's time, is not measured)"
                self.results.append(Skipped("cnn", f"{label}, {name}, {part['label']}", note=note))
            for name, row in rows.items():
                if name != "numpy":
                    self.ratio("cnn", f"{bench}: {name} / numpy by hand", row, rows["numpy"], limit)
        self._cnn_end_to_end(data)

    def _cnn_end_to_end(self, data: dict[str, Any]) -> None:
        """`bpcli grad -f conv.bp` and `-f softmax.bp` on .npy files, against the numpy scripts,
        fresh processes, reported without a target (start-up is most of each run). Skipped,
        saying why, while bpcli cannot run the program."""
        code = (
            "import sys, numpy as np\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "from inprocess_cnn import conv_arrays, softmax_arrays\n"
            "for bench, arrays in (('conv', conv_arrays()), ('softmax', softmax_arrays())):\n"
            "    for name, value in arrays.items():\n"
            "        if name != 'N': np.save(f'{bench}-{name}.npy', value)\n"
        )
        subprocess.run([self.python, "-c", code, str(HERE)], check=True, env=self.env, cwd=self.workdir)
        cases = (
            (
                "conv",
                "f",
                data["conv"]["program"],
                ("x", "w", "b", "C"),
                (),
                (str(HERE / "numpy_conv_baseline.py"), *(f"conv-{n}.npy" for n in "xwbC"), "--pad", "1"),
            ),
            (
                "softmax",
                "L",
                data["softmax"]["program"],
                ("X", "W", "y"),
                (f"N={data['softmax']['sizes']['N']}",),
                (str(HERE / "numpy_softmax_baseline.py"), *(f"softmax-{n}.npy" for n in "XWy")),
            ),
        )
        for bench, output, text, names, extra, script in cases:
            (self.workdir / f"{bench}.bp").write_text(text if text.endswith("\n") else text + "\n")
            program = ("grad", "-f", f"{bench}.bp", *(f"{n}=@{bench}-{n}.npy" for n in names), *extra)
            label = f"bpcli grad -f {bench}.bp, table"
            try:
                value = self._exact_value((self.bpcli, *program), output)
            except BenchError as err:
                lines = str(err).splitlines()
                why = next((line for line in lines if line.startswith("error:")), lines[-1])
                self.results.append(Skipped("cnn", label, note=f"not yet runnable: {why}"))
                continue
            baseline = f"numpy {bench} script, summary"
            cmds = {
                label: Cmd((self.bpcli, *program), expect_value(output, value, TABLE_TOLERANCE)),
                baseline: Cmd((self.python, *script), expect_value(output, value, VALUE_TOLERANCE)),
            }
            r = self.add(
                time_group("cnn", cmds, self.env, self.workdir, runs=10, warmup=1, budget=10, min_runs=3)
            )
            r[label].note = f"{output} = {value:.10g} (an untimed run with --precision 12)"
            self.ratio("cnn", f"{bench} end to end: bpcli table / numpy script", r[label], r[baseline], None)

    # --- loops and naive layers (issue 16: Python run at build time) ---

    def _inprocess(self, script: str, *args: str) -> dict[str, Any]:
        """Run one of the in-process scripts with the venv's Python; its JSON."""
        argv = (self.python, str(HERE / script), *args)
        proc = subprocess.run(argv, capture_output=True, text=True, env=self.env, cwd=self.workdir)
        if proc.returncode != 0:
            raise BenchError(f"{script} failed:\n{(proc.stderr or proc.stdout).strip()[-2000:]}")
        data: dict[str, Any] = json.loads(proc.stdout)
        if not data["bpcli"].startswith(str(VENV)):
            raise BenchError(f"{script} imported bpcli from {data['bpcli']}")
        return data

    def parser(self) -> None:
        """Tokens per second of the parser (issue 20), in one process: parse only (the text
        to the program's statements and expression trees) and text to graph, on the sigmoid
        neuron, a random 100-token problem and the x1+x2+… sum."""
        quick = self.settings is QUICK
        data = self._inprocess(
            "inprocess_parser.py",
            "--sum",
            str(self.settings.e2e_terms),
            "--repeats",
            "3" if quick else "7",
            "--seconds",
            "0.1" if quick else "0.3",
        )
        for case, m in data["inputs"].items():
            tokens = m["tokens"]
            for key, label in (("parse", "parse only"), ("graph", "text to graph")):
                best = min(m[key])
                row = Timed("parser", f"{case}, {label}", {"total": m[key], "tokens": tokens})
                row.note = f"in-process; {tokens:,} tokens; best {tokens / best:,.0f} tokens/s"
                self.results.append(row)
                self.target(
                    "parser",
                    f"{case}: {label}, tokens/s (median)",
                    tokens / statistics.median(m[key]),
                    PARSER_TOKENS if key == "graph" else None,
                    "/s",
                    at_least=True,
                )

    def loops(self) -> None:
        """`for i in range(N): s = s + x * w` through bpcli (parse + forward + backward), in one
        process, against the same program written out straight-line (the interpreter's cost
        over the parser's), a Python loop of floats with a hand backward pass, and autograd."""
        s = self.settings
        have_autograd = self._has("autograd", "autograd>=1.6", "the autograd baselines")
        data = self._inprocess(
            "inprocess_loops.py",
            "--sizes",
            ",".join(f"{n}:{rounds}" for n, rounds in s.loop_sizes),
            "--autograd-max",
            str(s.loop_autograd_max if have_autograd else 0),
        )
        checked = "s, ∂s/∂x, ∂s/∂w checked"
        for n, _ in s.loop_sizes:
            cases = data["sizes"][str(n)]
            labels = {
                "loop": f"for i in range({n:,}): s = s + x * w",
                "unrolled": f"the same unrolled, {n:,} statements",
                "hand": f"Python loop of floats + hand backward, N = {n:,}",
                "autograd": f"autograd on the Python loop, N = {n:,}",
            }
            rows = {name: Timed("loops", labels[name], m) for name, m in cases.items()}
            for name, row in rows.items():
                per = statistics.median(row.walls) / n * 1e6
                nodes = f", {cases[name]['nodes']:,} nodes" if "nodes" in cases[name] else ""
                row.note = f"in-process; {per:.2f} µs/iteration{nodes}; {checked}" + (
                    f"; {row.note}" if row.note else ""
                )
            self.results.extend(rows.values())
            if "autograd" not in rows:
                why = "autograd is not in the venv" if not have_autograd else f"N > {s.loop_autograd_max:,}"
                self.results.append(Skipped("loops", labels["autograd"], note=f"skipped: {why}"))
            loop = rows["loop"]
            self.ratio("loops", f"N = {n:,}: loop / unrolled text (both bpcli)", loop, rows["unrolled"], None)
            self.ratio("loops", f"N = {n:,}: bpcli loop / Python + hand backward", loop, rows["hand"], None)
            if "autograd" in rows:
                self.ratio("loops", f"N = {n:,}: bpcli loop / autograd", loop, rows["autograd"], None)

    def naive(self) -> None:
        """cs231n's naive layers pasted whole (conv + pool, rnn_forward, TwoLayerNet.loss), in
        one process: bpcli's parse + forward + backward against the same text run by Python
        under autograd (inprocess_naive.py)."""
        if not self._has("autograd", "autograd>=1.6", "the autograd baselines"):
            self.results.append(
                Skipped("naive", "cs231n naive layers", note="skipped: autograd not in the venv")
            )
            return
        data = self._inprocess("inprocess_naive.py", "--repeats", str(self.settings.naive_repeats))
        checked = "f and every input's gradient within 1e-9 of autograd's"
        for layer in ("conv + pool", "rnn", "net"):
            part = data[layer]
            rows = {
                name: Timed("naive", f"{layer}, {name}, {part['label']}", m)
                for name, m in part["cases"].items()
            }
            for name, row in rows.items():
                nodes = f"{m['nodes']:,} nodes; " if "nodes" in (m := part["cases"][name]) else ""
                if name == "autograd":
                    row.note = "in-process: compile + exec under autograd + backward"
                else:
                    row.note = f"in-process; {nodes}{checked}; {row.note}"
            self.results.extend(rows.values())
            for name, row in rows.items():
                if name != "autograd":
                    self.ratio("naive", f"{layer}: {name} / autograd", row, rows["autograd"], None)

    # --- check (issue 17: diagnosing homework, a whole class) ---

    def check(self) -> None:
        """`bpcli check`, in one process (inprocess_check.py): each student's diagnosis against
        the program's own grad (parse + forward + backward), and a class of answer files
        through the CLI against that many single checks."""
        s = self.settings
        data = self._inprocess(
            "inprocess_check.py",
            "--samples",
            str(self.source / "samples"),
            "--repeats",
            str(s.check_repeats),
            "--slow-repeats",
            str(s.check_slow_repeats),
            "--big-repeats",
            str(s.check_big_repeats),
            "--class-size",
            str(s.check_class_size),
            "--class-repeats",
            str(s.check_class_repeats),
        )
        budget = data["max_work"]
        for name, case in data["cases"].items():
            grad = Timed("check", f"{case['label']}: grad", {"total": case["grad"]})
            grad.note = f"in-process: parse + forward + backward; {case['nodes']:,} nodes"
            row = Timed("check", f"{case['label']}: check", {"total": case["check"]})
            work = case["work"]
            spent = work is not None and budget is not None and work > budget
            read = statistics.median(case["read"]) * 1e3
            notes = [
                f"answers read in {read:.1f} ms (median)",
                f"{len(case['wrong'])} of {case['answers']} wrong (checked)",
                "; ".join(case["findings"]) or "no findings",
            ]
            if work is not None:
                per = statistics.median(case["check"]) / work * 1e6 if work else None
                notes.append(
                    f"search work {work:,}"
                    + (f" ({per:.0f} µs a unit)" if per else "")
                    + (f", the budget (MAX_WORK = {budget:,}) spent" if spent else "")
                )
            row.note = "in-process: read_answers + expectations + check; " + "; ".join(notes)
            self.results.extend((grad, row))
            self.ratio("check", f"{name}: check / grad", row, grad, None)
        group = data["class"]
        size = group["size"]
        row = Timed(
            "check", f"class of {size}: check --answers DIR --format jsonl", {"total": group["total"]}
        )
        files = [f"softmax {Path(f).stem}" for f in group["files"]]
        one = statistics.mean(statistics.median(data["cases"][f]["check"]) for f in files)
        one_min = statistics.mean(min(data["cases"][f]["check"]) for f in files)
        row.note = (
            f"in-process, bpcli.cli.main; copies of {len(files)} files; {size} × one check"
            f" = {human_time(size * one)} (the mean of their check medians); records checked"
        )
        self.results.append(row)
        self.target(
            "check",
            f"class of {size} / {size} × one student's check",
            row.median / (size * one),
            None,
            of_mins=min(row.walls) / (size * one_min),
        )
        self.target(
            "check",
            f"class of {size}: students per second",
            size / row.median,
            None,
            unit="/s",
            of_mins=size / min(row.walls),
            at_least=True,
        )


# --- the batch problems ------------------------------------------------------------------------

NEURON = "f = 1/(1+exp(-(w0*x0+w1*x1+w2)))"
NEURON_INPUTS = ("w0", "x0", "w1", "x1", "w2")


def write_neuron_problems(n: int, seed: int, text: Path, points: Path, keep: int) -> list[tuple[str, ...]]:
    """n distinct sets of the neuron's inputs, uniform in [-3, 3] with 3 decimals, written as
    problem lines to `text` and as the same points to `points`; returns the first `keep`."""
    rng = random.Random(seed)
    seen: set[int] = set()  # hashes: a rare collision only skips a problem, and keeps memory small
    first = []
    with text.open("w") as lines, points.open("w") as jsonl:
        while len(seen) < n:
            coeffs = tuple(f"{rng.uniform(-3, 3):.3f}".replace("-0.000", "0.000") for _ in NEURON_INPUTS)
            key = hash(coeffs)
            if key in seen:
                continue
            seen.add(key)
            lines.write(neuron_line(coeffs) + "\n")
            jsonl.write(neuron_point(coeffs) + "\n")
            if len(first) < keep:
                first.append(coeffs)
    return first


def neuron_line(coeffs: tuple[str, ...]) -> str:
    """One problem as a line of text: `w0=0.790; …; f = 1/(1+exp(-(w0*x0+w1*x1+w2)))`."""
    return (
        "; ".join(f"{name}={value}" for name, value in zip(NEURON_INPUTS, coeffs, strict=True))
        + "; "
        + NEURON
    )


def neuron_point(coeffs: tuple[str, ...]) -> str:
    """The same problem as a JSON Lines point for --program: {"w0": 0.79, …}."""
    return json.dumps({name: float(value) for name, value in zip(NEURON_INPUTS, coeffs, strict=True)})


def neuron_answer(line: str) -> tuple[float, dict[str, float]]:
    """f and its gradients in closed form for a problem line: f = σ(z), ∂f/∂z = f(1 − f)."""
    values = dict(piece.split("=") for piece in line.split("; ")[: len(NEURON_INPUTS)])
    w0, x0, w1, x1, w2 = (float(values[name]) for name in NEURON_INPUTS)
    f = 1 / (1 + math.exp(-(w0 * x0 + w1 * x1 + w2)))
    dz = f * (1 - f)
    return f, {"w0": dz * x0, "x0": dz * w0, "w1": dz * x1, "x1": dz * w1, "w2": dz, "f": 1.0}


def close(a: Any, b: Any) -> bool:
    return (
        isinstance(a, (int, float))
        and isinstance(b, (int, float))
        and math.isclose(a, b, rel_tol=BATCH_TOLERANCE, abs_tol=BATCH_TOLERANCE)
    )


def head_records(path: Path, count: int) -> dict[int, dict[str, Any]]:
    """The first `count` records of a JSON Lines file, by line number."""
    found: dict[int, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if len(found) >= count:
                break
            record = json.loads(line)
            found[record["line"]] = record
    return found


def check_neuron(text: Path, baseline: Path) -> str | None:
    """The baseline's records against the closed form, every line, streaming."""
    with text.open(encoding="utf-8") as problems, baseline.open(encoding="utf-8") as found:
        for number, (line, raw) in enumerate(itertools.zip_longest(problems, found), start=1):
            if line is None or raw is None:
                more = "more" if line is None else "fewer"
                return f"the baseline wrote {more} records than there are problems"
            record = json.loads(raw)
            f, grads = neuron_answer(line)
            if (
                record["line"] != number
                or not close(record["value"], f)
                or record["grads"].keys() != grads.keys()
                or not all(close(record["grads"][k], g) for k, g in grads.items())
            ):
                return f"the baseline's record for line {number} is not the closed form: {record}"
    return None


def compare_files(found: Path, reference: Path, who: str = "") -> str | None:
    """Two JSON Lines outputs for the same problems, record by record, streaming."""
    with found.open(encoding="utf-8") as ours, reference.open(encoding="utf-8") as theirs:
        for count, (a, b) in enumerate(itertools.zip_longest(ours, theirs), start=1):
            if a is None or b is None:
                fewer = "fewer" if a is None else "more"
                return f"{who}{fewer} records than the baseline's ({count - 1} alike)"
            problem = record_problem(json.loads(a), json.loads(b), who)
            if problem:
                return problem
    return None


def compare_records(
    found: list[dict[str, Any]],
    reference: dict[int, dict[str, Any]],
    who: str = "",
    expected: int | None = None,
) -> str | None:
    """Each record against the reference record of the same line."""
    if expected is not None and len(found) != expected:
        return f"{who}{len(found)} records, {expected} expected"
    for record in found:
        ref = reference.get(record.get("line"))  # type: ignore[arg-type]
        if ref is None:
            return f"{who}line {record.get('line')} is not among the baseline's"
        problem = record_problem(record, ref, who)
        if problem:
            return problem
    return None


def record_problem(record: dict[str, Any], ref: dict[str, Any], who: str) -> str | None:
    """What differs between a record and the baseline's (line, output, value, every gradient
    within BATCH_TOLERANCE), or None."""
    where = f"{who}line {record.get('line')}"
    if "error" in record:
        return f"{where}: {record['error']}"
    if record.get("line") != ref["line"]:
        return f"{where}: the baseline's record here is for line {ref['line']}"
    if record.get("output") != ref["output"] or not close(record.get("value"), ref["value"]):
        return f"{where}: {record.get('output')} = {record.get('value')}, the baseline's {ref['value']}"
    grads = record.get("grads") or {}
    if grads.keys() != ref["grads"].keys():
        return f"{where}: gradients of {sorted(grads)}, the baseline's of {sorted(ref['grads'])}"
    for name, value in ref["grads"].items():
        if not close(grads[name], value):
            return f"{where}: ∂f/∂{name} = {grads[name]}, the baseline's {value}"
    return None


def grad_json(sample: Sample) -> dict[str, Any]:
    """output, value and grads from the head of `bpcli grad --format json`."""
    head = sample.head.decode(errors="replace")
    output = re.search(r'"output":\s*("[^"]*")', head)
    grads = re.search(r'"grads":\s*(\{[^{}]*\})', head)
    return {
        "output": json.loads(output.group(1)) if output else None,
        "value": json_value(sample),
        "grads": json.loads(grads.group(1)) if grads else None,
    }


def expect_size(size: int) -> Any:
    """The same number of bytes as the run whose whole output was checked."""

    def check(sample: Sample) -> str | None:
        if sample.out_bytes == size:
            return None
        return f"wrote {sample.out_bytes:,} bytes, {size:,} when checked"

    return check


def expect_f_in_table(sample: Sample) -> float | None:
    match = re.search(r"^sum\(\(W@x\)\^2\) = (\S+)", sample.tail.decode(errors="replace"), re.MULTILINE)
    try:
        return float(match.group(1)) if match else None
    except ValueError:
        return None


class InProcess(Result):
    """An in-process measurement: the times come from inprocess.py, not from spawning."""

    def __init__(self, bench: str, case: str, data: dict[str, Any], per_node: float) -> None:
        super().__init__(
            bench,
            case,
            note=f"in-process: {per_node * 1e6:.2f} µs/node, {data['nodes']:,}"
            f" nodes (parse {min(data['parse']):.3f} s"
            f" + run {min(data['run']):.3f} s)",
        )
        self.data = data

    @property
    def walls(self) -> list[float]:
        return list(self.data["total"])

    @property
    def peak(self) -> int:
        return 0

    def as_dict(self) -> dict[str, Any]:
        walls = self.walls
        return {
            "bench": self.bench,
            "case": self.case,
            "runs": len(walls),
            "min": min(walls),
            "median": statistics.median(walls),
            "max": max(walls),
            "nodes": self.data["nodes"],
            "parse": self.data["parse"],
            "run": self.data["run"],
            "note": self.note,
        }


class Timed(InProcess):
    """An in-process measurement of one case (inprocess_cnn.py): its times, and for a bpcli
    program the parse / run split in the note."""

    def __init__(self, bench: str, case: str, data: dict[str, Any], note: str = "") -> None:
        Result.__init__(self, bench, case, note=note)
        self.data = data
        if data.get("parse"):
            parse, run = (statistics.median(data[k]) * 1e3 for k in ("parse", "run"))
            split = f"parse {parse:.2f} ms + run and gradients {run:.1f} ms (medians)"
            self.note = f"{split}; {note}" if note else split

    def as_dict(self) -> dict[str, Any]:
        walls = self.walls
        return {
            "bench": self.bench,
            "case": self.case,
            "runs": len(walls),
            "min": min(walls),
            "median": statistics.median(walls),
            "max": max(walls),
            **{k: v for k, v in self.data.items() if k != "total"},
            "note": self.note,
        }


class Skipped(Result):
    @property
    def walls(self) -> list[float]:
        return []

    def as_dict(self) -> dict[str, Any]:
        return {"bench": self.bench, "case": self.case, "runs": 0, "note": self.note}


# --- reporting ---------------------------------------------------------------------------------


def available_memory() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 1 << 62


def human_time(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def print_table(headers: Sequence[str], rows: list[Sequence[str]], right: set[int]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        ).rstrip()

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def report(results: list[Result], targets: list[Target]) -> None:
    rows = []
    for r in results:
        if isinstance(r, Skipped) or not r.walls:
            rows.append([r.bench, r.case, "0", "", "", "", "", "", r.note])
            continue
        walls = r.walls
        spawned = not isinstance(r, InProcess)
        rows.append(
            [
                r.bench,
                r.case,
                str(len(walls)),
                human_time(min(walls)),
                human_time(r.median),
                human_time(max(walls)),
                r.peak_text() if spawned else "",
                human_bytes(r.samples[-1].out_bytes) if spawned else "",
                r.note,
            ]
        )
    print()
    print_table(
        ["bench", "case", "runs", "min", "median", "max", "peak RSS", "stdout", "note"],
        rows,
        right={2, 3, 4, 5, 6, 7},
    )
    if targets:
        print()
        trows = []
        for t in targets:
            met = "" if t.met is None else ("met" if t.met else "MISSED")
            of_mins = "" if t.of_mins is None else t.text(t.of_mins)
            trows.append([t.bench, t.what, t.text(t.value), t.limit_text(), met, of_mins])
        print_table(
            ["bench", "ratio or time (medians)", "value", "target", "", "of mins"], trows, right={2, 5}
        )


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run: fewer runs, smaller sizes")
    parser.add_argument(
        "--only",
        metavar="NAME",
        action="append",
        default=[],
        help=f"run only these benchmarks ({', '.join(BENCHMARKS)}); repeat or comma-separate",
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        default=sys.executable,
        help="the interpreter the venv is made from (default: the one running this script)",
    )
    parser.add_argument("--reinstall", action="store_true", help="reinstall bpcli into the venv")
    parser.add_argument(
        "--source",
        metavar="DIR",
        type=Path,
        default=ROOT,
        help="install bpcli from DIR instead of this checkout (e.g. a git worktree of another commit)",
    )
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the results as JSON to FILE")
    parser.add_argument(
        "--torch",
        action="store_true",
        help=f"pip install {TORCH_REQUIREMENT} into the venv for the PyTorch rows of arrays"
        " and batch (they run whenever torch is installed there)",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for item in args.only for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(BENCHMARKS)}")
    args.only = names or list(BENCHMARKS)
    args.source = args.source.resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    try:
        venv = ensure_venv(args.python, args.source, args.reinstall)
    except BenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    torch_failed = False
    if args.torch:
        try:
            ensure_torch(venv)
        except BenchError as err:
            torch_failed = True
            print(f"error: {err}", file=sys.stderr, flush=True)
    try:
        env = environment(venv, args.source)
    except BenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    torch = f", torch {env['torch']}" if env["torch"] else ""
    print(
        f"python {env['python']} ({env['implementation']}), numpy {env['numpy']} (BLAS {env['blas']}),"
        f" click {env['click']}, rich {env['rich']}{torch}; bpcli {env['bpcli']} at {env['commit']}"
        f" (installed .pyc: {'yes' if env['bpcli_pyc'] else 'NO'}); {env['cores']} cores,"
        f" {env['machine']}, load average {env['load']}",
        flush=True,
    )
    settings = QUICK if args.quick else FULL
    failures = []
    with tempfile.TemporaryDirectory(prefix="bpcli-bench-") as tmp:
        suite = Suite(venv, settings, Path(tmp), args.source, torch=env["torch"] is not None)
        for name in args.only:
            print(f"running {name}{' (quick)' if args.quick else ''} …", flush=True)
            t0 = time.perf_counter()
            try:
                getattr(suite, name)()
            except BenchError as err:
                failures.append(name)
                print(f"error in {name}: {err}", file=sys.stderr, flush=True)
            print(f"  {name} took {time.perf_counter() - t0:.1f} s", flush=True)
    report(suite.results, suite.targets)
    if not suite.torch and {"arrays", "batch"} & set(args.only):
        why = f"{TORCH_REQUIREMENT} could not be installed" if torch_failed else "torch is not in the venv"
        print(
            f"\nPyTorch rows skipped: {why}; `python3 benchmarks/run.py --torch` installs"
            f" {TORCH_REQUIREMENT} into benchmarks/.venv and runs them."
        )
    elapsed = time.perf_counter() - started
    print(
        f"\ntotal {elapsed:.0f} s; medians of fresh-process runs unless marked in-process (scaling rows"
        " with µs/node); targets are never asserted."
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "environment": env,
                    "quick": args.quick,
                    "elapsed": elapsed,
                    "failures": failures,
                    "results": [r.as_dict() for r in suite.results],
                    "targets": [t.as_dict() for t in suite.targets],
                },
                indent=2,
            )
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
