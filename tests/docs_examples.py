"""The commands shown in README.md and docs/*.md, run as a reader would run them.

A fenced block whose first line starts with `$ ` is a session: each `$ ` line is a command (it
goes on over the next lines while a quote is open or the line ends in `\\`), and the lines
after it, up to the next `$ `, are what it prints, stdout and stderr together, at COLUMNS=80
with NO_COLOR set and stdout a pipe. A line that is exactly `…` in the shown output stands for
any number of lines (none included). Other fenced blocks are lists of commands: each line that
runs `bpcli` (or pipes into it) is run too and must end with status 0 or 1 and no traceback.
A block fenced as ```text is never run (a synopsis, a file's contents, a JSON record).

Every command runs from a fresh directory holding a link to samples/, so `-o` and `>` write
nowhere in the checkout. After a change of output, paste the real outputs in with

    python3 tests/docs_examples.py --update            # README.md and docs/*.md

which rewrites each shown output that no longer matches (keeping a `…` elision's head and tail
line counts) and lists what it could not rewrite.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ELLIPSIS = "…"
MARK = "@@bpcli-docs-step@@"
RUNS = re.compile(r"^(bpcli\s|(echo|printf|cat)\s.*\|\s*bpcli\s)")
ASSIGNS = re.compile(r"^[A-Za-z_]\w*=\S+(\s+#.*)?$")


def documents() -> list[Path]:
    """README.md and every page of docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass
class Step:
    command: str
    shown: list[str]
    first: int  # index in the file's lines of the first shown line
    setup: str = ""  # the shell assignments before it in a list of commands
    real: list[str] | None = None
    rc: int | None = None


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    session: bool
    indent: int = 0
    steps: list[Step] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _complete(command: str) -> bool:
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command, comments=True)
    except ValueError:  # a quote still open
        return False
    return True


def blocks(path: Path) -> list[Block]:
    """The runnable fenced blocks of one Markdown file."""
    lines = path.read_text(encoding="utf-8").split("\n")
    found: list[Block] = []
    i = 0
    while i < len(lines):
        fence = lines[i].lstrip(" ")
        if not fence.startswith("```"):
            i += 1
            continue
        indent = len(lines[i]) - len(fence)  # a block inside a list item is indented
        info, start = fence[3:].strip(), i
        end = next(j for j in range(i + 1, len(lines)) if lines[j].lstrip(" ").startswith("```"))
        body = [line[indent:] if line[:indent].isspace() else line for line in lines[start + 1 : end]]
        i = end + 1
        if info == "text" or not body:
            continue
        block = Block(path, start + 1, session=body[0].startswith("$ "), indent=indent)
        setup = ""
        k = 0
        while k < len(body):
            text = body[k]
            if block.session and not text.startswith("$ "):
                k += 1
                continue
            command = text[2:] if block.session else text
            k += 1
            while not _complete(command) and k < len(body):
                command += "\n" + body[k]
                k += 1
            if block.session:
                first = k
                while k < len(body) and not body[k].startswith("$ "):
                    k += 1
                block.steps.append(Step(command, body[first:k], start + 1 + first))
            elif ASSIGNS.match(command.strip()):
                setup += command.strip() + "\n"
            elif RUNS.match(command.strip()):
                block.steps.append(Step(command, [], -1, setup=setup))
        if block.steps:
            found.append(block)
    return found


def _script(block: Block) -> str:
    parts = ['bpcli() { "$BPCLI_PYTHON" -m bpcli "$@"; }', "exec 2>&1"]
    for step in block.steps:
        parts.append(step.setup)
        parts.append(f"echo '{MARK}'")
        parts.append(step.command)
        parts.append(f"echo '{MARK}' $?")
    return "\n".join(parts) + "\n"


def run(block: Block) -> Block:
    """Run a block's commands in order, in one shell, and fill in each step's real output."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "FORCE_COLOR", "LINES")}
    env.update(COLUMNS="80", NO_COLOR="1", TERM="dumb", BPCLI_PYTHON=sys.executable)
    with tempfile.TemporaryDirectory() as where:
        os.symlink(ROOT / "samples", Path(where) / "samples")
        out = subprocess.run(
            ["bash", "-c", _script(block)],
            cwd=where,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        ).stdout
    pieces = out.split(MARK)[1:]
    pieces += ["", " -1"] * len(block.steps)  # a shell that stopped early: the rest printed nothing
    for n, step in enumerate(block.steps):
        text, status = pieces[2 * n], pieces[2 * n + 1]
        step.real = text.removeprefix("\n").removesuffix("\n").split("\n") if text.strip("\n") else []
        words = status.split()
        step.rc = int(words[0]) if words and words[0].lstrip("-").isdigit() else -1
    return block


def run_all(found: list[Block]) -> list[Block]:
    """Run the blocks side by side; a list of commands runs a command at a time, each alone."""
    units: list[Block] = []
    for b in found:
        units += [b] if b.session else [Block(b.path, b.line, False, b.indent, [s]) for s in b.steps]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        list(pool.map(run, units))
    return found


def matches(shown: list[str], real: list[str]) -> bool:
    """Whether the real output is what is shown, a line `…` standing for any lines."""
    pattern = "".join(".*?" if line == ELLIPSIS else re.escape(line + "\n") for line in shown)
    return re.fullmatch(pattern, "\n".join(real) + "\n" if real else "", re.S) is not None


def updated(shown: list[str], real: list[str]) -> list[str] | None:
    """The real output in the shape shown: a single `…` keeps as many lines before and after it."""
    elided = [k for k, line in enumerate(shown) if line == ELLIPSIS]
    if not elided:
        return real
    if len(elided) > 1:
        return None
    head, tail = elided[0], len(shown) - elided[0] - 1
    if head + tail >= len(real):
        return real
    return [*real[:head], ELLIPSIS, *(real[len(real) - tail :] if tail else [])]


def main(argv: list[str]) -> int:
    update = "--update" in argv
    paths = [Path(a).resolve() for a in argv if not a.startswith("--")] or documents()
    found = run_all([b for p in paths for b in blocks(p)])
    edits: dict[Path, list[tuple[int, int, list[str]]]] = {}
    bad = 0
    for block in found:
        for step in block.steps:
            assert step.real is not None
            if not block.session:
                if step.rc not in (0, 1) or "Traceback" in "\n".join(step.real):
                    print(f"{block.name}: `{step.command}` ended with {step.rc}", file=sys.stderr)
                    bad += 1
                continue
            if matches(step.shown, step.real):
                continue
            new = updated(step.shown, step.real)
            if update and new is not None:
                new = [" " * block.indent + line if line else line for line in new]
                edits.setdefault(block.path, []).append((step.first, len(step.shown), new))
                print(f"{block.name}: updated `{step.command.splitlines()[0]}`")
            else:
                bad += 1
                print(f"{block.name}: `{step.command}` printed:", *step.real, sep="\n", file=sys.stderr)
    for path, changes in edits.items():
        lines = path.read_text(encoding="utf-8").split("\n")
        for first, count, new in sorted(changes, reverse=True):
            lines[first : first + count] = new
        path.write_text("\n".join(lines), encoding="utf-8")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
