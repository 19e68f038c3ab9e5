#!/usr/bin/env python3
"""bpcli's benchmarks: start-up, scaling with graph size, and arrays against plain numpy.

    python3 benchmarks/run.py [--quick] [--only NAME[,NAME]] [--python PATH] [--reinstall]

bpcli is installed (not editable) into benchmarks/.venv and timed the way a user runs it:
the venv's console script and interpreter, in fresh processes, with stdout to a pipe.
Speed is judged by ratios against baselines timed in the same run, never by absolute
numbers. Only the standard library is used here, so any Python 3.10+ can run this file.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venv"
STAMP_NAME = "bpcli-bench-stamp.json"
BENCHMARKS = ("startup", "scaling", "arrays")

# Set on this machine or by a developer's shell, but not what a user's bpcli runs with:
# PYTHONDONTWRITEBYTECODE would hide a missing .pyc, PYTHONUNBUFFERED slows big output,
# COLUMNS would make Rich wrap the table at the terminal's width in a pipe.
UNSET = ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP",
         "PYTHONINSPECT", "PYTHONVERBOSE", "PYTHONDEVMODE", "PYTHONPROFILEIMPORTTIME",
         "PYTHONTRACEMALLOC", "PYTHONMALLOC", "PYTHONWARNINGS", "PYTHONSAFEPATH", "COLUMNS", "LINES")

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


FULL = Settings(startup_runs=25, sums=(25_000, 50_000, 100_000, 200_000), sines=(5_000, 10_000, 20_000),
                inprocess_repeats=5, e2e_terms=100_000, e2e_runs=10, million=True,
                array_sizes=(2048, 4096))
QUICK = Settings(startup_runs=5, sums=(12_500, 25_000, 50_000), sines=(2_500, 5_000),
                 inprocess_repeats=2, e2e_terms=100_000, e2e_runs=1, million=False, array_sizes=(512,))

# Targets: (limit, unit). Ratios are "×", times "s".
STARTUP_RATIO = 1.30
DOUBLING_RATIO = 2.3
E2E_SECONDS = 3.0
ARRAYS_RATIO = 1.5


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
        return {"bench": self.bench, "case": self.case, "runs": len(walls), "min": min(walls),
                "median": self.median, "max": max(walls), "peak_rss": self.peak,
                "out_bytes": self.samples[-1].out_bytes, "note": self.note}


@dataclass
class Target:
    bench: str
    what: str
    value: float
    limit: float | None  # None: reported only
    unit: str  # "×" or "s"
    of_mins: float | None = None  # the same ratio of the fastest runs, less sensitive to load

    @property
    def met(self) -> bool | None:
        return None if self.limit is None else self.value <= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {"bench": self.bench, "what": self.what, "value": self.value, "limit": self.limit,
                "unit": self.unit, "met": self.met, "of_mins": self.of_mins}


@dataclass(frozen=True)
class Cmd:
    argv: tuple[str, ...]
    check: Any = None  # callable(Sample) -> str | None (an error message)


def spawn(cmd: Cmd, env: dict[str, str], cwd: Path) -> Sample:
    """Run one fresh process, stdout to a pipe that is read (and counted) as it comes.

    The child's peak RSS comes from wait4 (getrusage of that child). Linux carries the
    high-water mark across fork and exec, so it is never below this runner's own peak:
    a child that stayed below that is marked `rss_floor` and shown as "≤ runner's"."""
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=err, env=env, cwd=cwd)
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        head, tail, size = b"", b"", 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if len(head) < KEEP:
                head += chunk[:KEEP - len(head)]
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


def time_group(bench: str, cmds: dict[str, Cmd], env: dict[str, str], cwd: Path, *, runs: int,
               warmup: int = 1, budget: float | None = None, min_runs: int = 1) -> dict[str, Result]:
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
    proc = subprocess.run([str(venv_python(venv)), "-m", "pip", *args], env=clean_env(),
                          cwd=tempfile.gettempdir(), capture_output=True, text=True)
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
    site = subprocess.run([str(venv_python(VENV)), "-c", where], capture_output=True, text=True,
                          check=True).stdout.strip()
    subprocess.run([str(venv_python(VENV)), "-m", "compileall", "-q", "-j0", site], env=clean_env(),
                   check=True, stdout=subprocess.DEVNULL)
    print(f"installed bpcli from {source} in {time.perf_counter() - started:.1f} s", flush=True)
    stamp_path.write_text(json.dumps(wanted))
    return VENV


def environment(venv: Path, source: Path) -> dict[str, Any]:
    code = """
import json, platform, importlib.metadata as m
import bpcli, numpy
try:
    blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
except Exception:
    blas = "?"
print(json.dumps({"python": platform.python_version(), "implementation": platform.python_implementation(),
                  "bpcli": bpcli.__version__, "bpcli_path": bpcli.__file__, "numpy": numpy.__version__,
                  "click": m.version("click"), "rich": m.version("rich"), "blas": blas}))
"""
    info = json.loads(subprocess.run([str(venv_python(venv)), "-c", code], capture_output=True, text=True,
                                     check=True, env=clean_env(), cwd=tempfile.gettempdir()).stdout)
    if not info["bpcli_path"].startswith(str(venv)):
        raise BenchError(f"the venv imports bpcli from {info['bpcli_path']}, not from the venv")
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 0
    git = subprocess.run(["git", "-C", str(source), "describe", "--always", "--dirty"], capture_output=True,
                         text=True)
    info.update(cores=cpus, machine=f"{platform.system()} {platform.machine()}",
                commit=git.stdout.strip() or "?", load=" ".join(f"{v:.2f}" for v in os.getloadavg()))
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
    match = re.search(r"sum\(\(W@x\)\^2\) = (-?[0-9.eE+-]+)\s*$",
                      sample.tail.decode(errors="replace"), re.MULTILINE)
    return float(match.group(1)) if match else None


# --- the benchmarks ------------------------------------------------------------------------------


class Suite:
    def __init__(self, venv: Path, settings: Settings, workdir: Path) -> None:
        self.bin = venv / "bin"
        self.python = str(venv_python(venv))
        self.bpcli = str(self.bin / "bpcli")
        self.settings = settings
        self.workdir = workdir  # every command runs here, outside the checkout
        self.env = clean_env()
        self.results: list[Result] = []
        self.targets: list[Target] = []

    def add(self, results: dict[str, Result]) -> dict[str, Result]:
        self.results.extend(results.values())
        return results

    def target(self, bench: str, what: str, value: float, limit: float | None, unit: str = "×",
               of_mins: float | None = None) -> None:
        self.targets.append(Target(bench, what, value, limit, unit, of_mins))

    def ratio(self, bench: str, what: str, a: Result, b: Result, limit: float | None) -> None:
        """The target ratio of medians a / b, with the ratio of their minimums beside it."""
        self.target(bench, what, a.median / b.median, limit, of_mins=min(a.walls) / min(b.walls))

    # --- startup ---

    def startup(self) -> None:
        program = ["grad", "(x+y)*z", "x=-2", "y=5", "z=-4"]
        cmds = {
            "bpcli grad (x+y)*z": Cmd((self.bpcli, *program), expect_text("∂f/∂z = 3")),
            "bpcli grad --format json": Cmd((self.bpcli, *program, "--format", "json"),
                                            expect_text('"value": -12.0')),
            "bpcli --help": Cmd((self.bpcli, "--help"), expect_text("grad")),
            IMPORTS: Cmd((self.python, "-c", "import click, rich.console, rich.table")),
            "python -c pass": Cmd((self.python, "-c", "pass")),
        }
        r = self.add(time_group("startup", cmds, self.env, self.workdir, runs=self.settings.startup_runs,
                                warmup=2))
        imports = r[IMPORTS]
        self.ratio("startup", "bpcli grad (table) / import click+rich", r["bpcli grad (x+y)*z"], imports,
                   STARTUP_RATIO)
        self.ratio("startup", "bpcli grad --format json / import click+rich", r["bpcli grad --format json"],
                   imports, None)
        self.ratio("startup", "bpcli --help / import click+rich", r["bpcli --help"], imports, None)
        self.ratio("startup", "bpcli grad (table) / python -c pass", r["bpcli grad (x+y)*z"],
                   r["python -c pass"], None)

    # --- scaling ---

    def scaling(self) -> None:
        s = self.settings
        argv = (self.python, str(HERE / "inprocess.py"), "--sums", ",".join(map(str, s.sums)),
                "--sines", ",".join(map(str, s.sines)), "--repeats", str(s.inprocess_repeats))
        proc = subprocess.run(argv, capture_output=True, text=True, env=self.env, cwd=self.workdir)
        if proc.returncode != 0:
            raise BenchError(f"inprocess.py failed:\n{proc.stderr.strip()[-2000:]}")
        data = json.loads(proc.stdout)
        if not data["bpcli"].startswith(str(VENV)):
            raise BenchError(f"inprocess.py imported bpcli from {data['bpcli']}")
        for kind, sizes, label in (("sum", s.sums, "x+x+…+x, {:,} terms"),
                                   ("sin", s.sines, "sin(sin(…x…)), depth {:,}")):
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
                    self.target("scaling", f"{kind}: t({size:,}) / t({last_size:,})", ratio,
                                DOUBLING_RATIO if top else None)
                previous = size, best

        # End to end, the program read from a file, the table printed to a pipe.
        n = s.e2e_terms
        path = self.workdir / f"sum{n}.bp"
        path.write_text("+".join(["x"] * n) + "\n")
        cmds = {f"bpcli grad -f sum{n}.bp (table)": Cmd((self.bpcli, "grad", "-f", path.name, "x=0.5"),
                                                         expect_grad("x", float(n)))}
        r = self.add(time_group("scaling", cmds, self.env, self.workdir, runs=s.e2e_runs,
                                warmup=1 if s.e2e_runs > 1 else 0, budget=15, min_runs=min(3, s.e2e_runs)))
        self.target("scaling", f"bpcli grad -f sum{n}.bp, median",
                    r[f"bpcli grad -f sum{n}.bp (table)"].median, E2E_SECONDS, "s")
        if s.million:
            n = 1_000_000
            path = self.workdir / "sum1m.bp"
            path.write_text("+".join(["x"] * n) + "\n")
            cmds = {"bpcli grad -f sum1m.bp (table)": Cmd((self.bpcli, "grad", "-f", path.name, "x=0.5"),
                                                          expect_grad("x", float(n)))}
            r = self.add(time_group("scaling", cmds, self.env, self.workdir, runs=1, warmup=0))
            r["bpcli grad -f sum1m.bp (table)"].note = "must complete"

    # --- arrays ---

    def arrays(self) -> None:
        for n in self.settings.array_sizes:
            self._arrays(n)

    def _arrays(self, n: int) -> None:
        w_name, x_name = f"W{n}.npy", f"x{n}.npy"
        code = ("import sys, numpy as np\n"
                "n = int(sys.argv[1]); rng = np.random.default_rng(20240 + n)\n"
                "np.save(sys.argv[2], rng.standard_normal((n, n)) / np.sqrt(n))\n"
                "np.save(sys.argv[3], rng.standard_normal(n))\n")
        subprocess.run([self.python, "-c", code, str(n), w_name, x_name], check=True, env=self.env,
                       cwd=self.workdir)
        program = ("grad", "sum((W@x)^2)", f"W=@{w_name}", f"x=@{x_name}")
        baseline = (self.python, str(HERE / "numpy_baseline.py"), w_name, x_name)

        # The table summarises big arrays; the baseline prints the same kind of summary.
        table, summ = f"bpcli grad, table, n={n}", f"numpy script, summary, n={n}"
        r = self.add(time_group("arrays", {table: Cmd((self.bpcli, *program)),
                                           summ: Cmd((*baseline, "--format", "summary"))},
                                self.env, self.workdir, runs=10, warmup=1, budget=10, min_runs=3))
        self._same_value(r[table].samples[-1], r[summ].samples[-1], n, table=True)
        self.ratio("arrays", f"n={n}: bpcli table / numpy summary", r[table], r[summ], ARRAYS_RATIO)

        # JSON: every gradient in full. bpcli's document also lists every node's value and
        # gradients, so it is several times longer than the baseline's f and gradients.
        jsn, base = f"bpcli grad --format json, n={n}", f"numpy script, json, n={n}"
        estimate = self._json_memory_estimate(n)
        if estimate and estimate > 0.8 * available_memory():
            note = (f"skipped: would need about {human_bytes(estimate)}, "
                    f"{human_bytes(available_memory())} available")
            print(f"  arrays n={n} json {note}", flush=True)
            self.results.append(Skipped("arrays", jsn, note=note))
            return
        r = self.add(time_group("arrays", {jsn: Cmd((self.bpcli, *program, "--format", "json")),
                                           base: Cmd((*baseline, "--format", "json"))},
                                self.env, self.workdir, runs=5, warmup=0, budget=20, min_runs=1))
        self._same_value(r[jsn].samples[-1], r[base].samples[-1], n, table=False)
        size_ratio = r[jsn].samples[-1].out_bytes / r[base].samples[-1].out_bytes
        r[jsn].note = f"output {size_ratio:.1f}× the baseline's"
        self.ratio("arrays", f"n={n}: bpcli json / numpy json", r[jsn], r[base], ARRAYS_RATIO)
        per_byte = [x.median / x.samples[-1].out_bytes for x in (r[jsn], r[base])]
        self.target("arrays", f"n={n}: (bpcli json / numpy json) per output byte", per_byte[0] / per_byte[1],
                    None)

    def _json_memory_estimate(self, n: int) -> int | None:
        """bpcli's peak memory for the JSON of a smaller n, scaled by n² (None if not measured)."""
        for r in reversed(self.results):
            m = re.fullmatch(r"bpcli grad --format json, n=(\d+)", r.case)
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


def expect_f_in_table(sample: Sample) -> float | None:
    match = re.search(r"^sum\(\(W@x\)\^2\) = (\S+)", sample.tail.decode(errors="replace"), re.MULTILINE)
    try:
        return float(match.group(1)) if match else None
    except ValueError:
        return None


class InProcess(Result):
    """An in-process measurement: the times come from inprocess.py, not from spawning."""

    def __init__(self, bench: str, case: str, data: dict[str, Any], per_node: float) -> None:
        super().__init__(bench, case, note=f"in-process: {per_node * 1e6:.2f} µs/node, {data['nodes']:,}"
                                            f" nodes (parse {min(data['parse']):.3f} s"
                                            f" + run {min(data['run']):.3f} s)")
        self.data = data

    @property
    def walls(self) -> list[float]:
        return list(self.data["total"])

    @property
    def peak(self) -> int:
        return 0

    def as_dict(self) -> dict[str, Any]:
        walls = self.walls
        return {"bench": self.bench, "case": self.case, "runs": len(walls), "min": min(walls),
                "median": statistics.median(walls), "max": max(walls), "nodes": self.data["nodes"],
                "parse": self.data["parse"], "run": self.data["run"], "note": self.note}


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
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=False))).rstrip()
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
        rows.append([r.bench, r.case, str(len(walls)), human_time(min(walls)), human_time(r.median),
                     human_time(max(walls)), r.peak_text() if spawned else "",
                     human_bytes(r.samples[-1].out_bytes) if spawned else "", r.note])
    print()
    print_table(["bench", "case", "runs", "min", "median", "max", "peak RSS", "stdout", "note"], rows,
                right={2, 3, 4, 5, 6, 7})
    if targets:
        print()
        trows = []
        for t in targets:
            value = f"{t.value:.2f}{t.unit}" if t.unit == "×" else human_time(t.value)
            limit = "" if t.limit is None else f"≤ {t.limit:g}{'×' if t.unit == '×' else ' s'}"
            met = "" if t.met is None else ("met" if t.met else "MISSED")
            of_mins = "" if t.of_mins is None else f"{t.of_mins:.2f}×"
            trows.append([t.bench, t.what, value, limit, met, of_mins])
        print_table(["bench", "ratio or time (medians)", "value", "target", "", "of mins"], trows,
                    right={2, 5})


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run: fewer runs, smaller sizes")
    parser.add_argument("--only", metavar="NAME", action="append", default=[],
                        help=f"run only these benchmarks ({', '.join(BENCHMARKS)}); repeat or comma-separate")
    parser.add_argument("--python", metavar="PATH", default=sys.executable,
                        help="the interpreter the venv is made from (default: the one running this script)")
    parser.add_argument("--reinstall", action="store_true", help="reinstall bpcli into the venv")
    parser.add_argument("--source", metavar="DIR", type=Path, default=ROOT,
                        help="install bpcli from DIR instead of this checkout"
                             " (e.g. a git worktree of another commit)")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the results as JSON to FILE")
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
        env = environment(venv, args.source)
    except BenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"python {env['python']} ({env['implementation']}), numpy {env['numpy']} (BLAS {env['blas']}),"
          f" click {env['click']}, rich {env['rich']}; bpcli {env['bpcli']} at {env['commit']}"
          f" (installed .pyc: {'yes' if env['bpcli_pyc'] else 'NO'}); {env['cores']} cores,"
          f" {env['machine']}, load average {env['load']}", flush=True)
    settings = QUICK if args.quick else FULL
    failures = []
    with tempfile.TemporaryDirectory(prefix="bpcli-bench-") as tmp:
        suite = Suite(venv, settings, Path(tmp))
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
    elapsed = time.perf_counter() - started
    print(f"\ntotal {elapsed:.0f} s; medians of fresh-process runs unless marked in-process (scaling rows"
          " with µs/node); targets are never asserted.")
    if args.json:
        args.json.write_text(json.dumps({"environment": env, "quick": args.quick, "elapsed": elapsed,
                                         "failures": failures,
                                         "results": [r.as_dict() for r in suite.results],
                                         "targets": [t.as_dict() for t in suite.targets]}, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
