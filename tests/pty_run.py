"""Run the installed `bpcli` on a pseudo-terminal of a chosen size, as a person at a terminal runs it.

Black box: the executable next to the test interpreter (the venv's console script), a real pty
sized with TIOCSWINSZ, stdout and stderr both on the terminal (or stdout on a pipe), and what
reached the terminal read back. Helpers measure a line as a terminal shows it: ANSI escapes
stripped, wide CJK characters (east_asian_width W or F) counted as two cells.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bpcli_exe() -> str:
    """The `bpcli` console script of the interpreter running the tests (the venv's), or the
    one BPCLI_EXE names (to run these tests against another build)."""
    other = os.environ.get("BPCLI_EXE")
    if other:
        return other
    here = Path(sys.executable).parent / "bpcli"
    if here.exists():
        return str(here)
    found = shutil.which("bpcli")
    assert found, "no bpcli executable next to the test interpreter nor on PATH"
    return found


# CSI (ESC [ … final), OSC (ESC ] … BEL or ST), and two-character escapes (ESC 7, ESC =, …).
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_=>78]")


def strip_ansi(text: str) -> str:
    """The text without escape sequences; CR LF (a pty's newline) becomes LF."""
    return ANSI.sub("", text).replace("\r\n", "\n")


def cells(line: str) -> int:
    """The width of a line on a terminal: wide and full-width characters take two cells,
    combining marks none."""
    width = 0
    for ch in line:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Cf", "Mn", "Me"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def too_wide(text: str, columns: int) -> list[tuple[int, str]]:
    """The lines (cells, line) of `text` wider than `columns`."""
    out = []
    for line in strip_ansi(text).split("\n"):
        line = line.rsplit("\r", 1)[-1]  # what a carriage return left visible
        if cells(line) > columns:
            out.append((cells(line), line))
    return out


@dataclass
class PtyResult:
    code: int
    raw: str  # everything the terminal received (stdout and stderr when both are on it)
    text: str  # raw without escape sequences, LF line ends
    stdout: str | None = None  # stdout, when it went to a pipe instead
    stderr: str | None = None  # stderr, when it went to a pipe instead


def run_pty(
    args: list[str],
    columns: int = 80,
    *,
    rows: int = 24,
    set_columns: bool = True,
    stdout_pipe: bool = False,
    stderr_pipe: bool = False,
    env: dict[str, str] | None = None,
    cwd: Path | str = ROOT,
    timeout: float = 60.0,
) -> PtyResult:
    """`bpcli ARGS…` with stdout and stderr on a pty of `columns`×`rows` (TIOCSWINSZ), COLUMNS
    set to the same width unless `set_columns` is False (then it is removed from the
    environment), NO_COLOR removed, TERM=xterm-256color. stdin is /dev/null."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    full_env = dict(os.environ)
    for name in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "TERM_PROGRAM"):
        full_env.pop(name, None)
    full_env["TERM"] = "xterm-256color"
    full_env["PYTHONIOENCODING"] = "utf-8"
    if set_columns:
        full_env["COLUMNS"] = str(columns)
    if env:
        full_env.update(env)
    proc = subprocess.Popen(
        [bpcli_exe(), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if stdout_pipe else slave,
        stderr=subprocess.PIPE if stderr_pipe else slave,
        env=full_env,
        cwd=cwd,
        close_fds=True,
        start_new_session=True,
    )
    os.close(slave)
    chunks: list[bytes] = []
    pipes = {f: name for f, name in ((proc.stdout, "out"), (proc.stderr, "err")) if f is not None}
    piped: dict[str, list[bytes]] = {"out": [], "err": []}
    fds = [master, *[f.fileno() for f in pipes]]
    by_fd = {f.fileno(): name for f, name in pipes.items()}
    deadline = time.monotonic() + timeout
    while fds:
        left = deadline - time.monotonic()
        if left <= 0:
            proc.kill()
            break
        ready, _, _ = select.select(fds, [], [], left)
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the pty's other side is closed
                data = b""
            if not data:
                fds.remove(fd)
                continue
            if fd == master:
                chunks.append(data)
            else:
                piped[by_fd[fd]].append(data)
    code = proc.wait()
    os.close(master)
    for f in pipes:
        f.close()
    raw = b"".join(chunks).decode("utf-8", "replace")
    return PtyResult(
        code,
        raw,
        strip_ansi(raw),
        b"".join(piped["out"]).decode("utf-8", "replace") if stdout_pipe else None,
        b"".join(piped["err"]).decode("utf-8", "replace") if stderr_pipe else None,
    )


def run_piped(
    args: list[str], *, env: dict[str, str] | None = None, cwd: Path | str = ROOT, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """`bpcli ARGS…` with stdout and stderr on pipes (no terminal); COLUMNS removed."""
    full_env = dict(os.environ)
    for name in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE"):
        full_env.pop(name, None)
    full_env["PYTHONIOENCODING"] = "utf-8"
    if env:
        full_env.update(env)
    return subprocess.run(
        [bpcli_exe(), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=full_env,
        cwd=cwd,
        timeout=timeout,
    )


# --- a small terminal: what stays on the screen -------------------------------------------

_CSI = re.compile(r"\x1b\[([0-?]*)([ -/]*)([@-~])")
_OSC = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def screen(raw: str) -> list[str]:
    """The lines a terminal (with scrollback) shows after receiving `raw`: carriage returns,
    backspaces, erase-line (ESC[K), cursor up/down/column and line clearing are applied, so a
    progress bar that was cleared leaves nothing and one that shared a line with output
    leaves its text on that line. Lines never wrap here (a long line stays one line)."""
    lines: list[list[str]] = [[]]
    row = col = 0
    i = 0
    n = len(raw)

    def put(ch: str) -> None:
        nonlocal col
        line = lines[row]
        while len(line) < col:
            line.append(" ")
        if col < len(line):
            line[col] = ch
        else:
            line.append(ch)
        col += 1

    while i < n:
        ch = raw[i]
        if ch == "\x1b":
            m = _CSI.match(raw, i)
            if m:
                params, _, final = m.groups()
                nums = [int(p) if p.isdigit() else 0 for p in params.lstrip("?").split(";")] if params else []
                count = nums[0] if nums and nums[0] else 1
                if final == "K":
                    mode = nums[0] if nums else 0
                    line = lines[row]
                    if mode == 0:
                        del line[col:]
                    elif mode == 1:
                        for k in range(min(col + 1, len(line))):
                            line[k] = " "
                    else:
                        line.clear()
                elif final == "A":
                    row = max(0, row - count)
                elif final in "BE":
                    row += count
                    while len(lines) <= row:
                        lines.append([])
                    if final == "E":
                        col = 0
                elif final == "F":
                    row = max(0, row - count)
                    col = 0
                elif final == "G":
                    col = count - 1
                elif final == "C":
                    col += count
                elif final == "D":
                    col = max(0, col - count)
                elif final == "J":
                    mode = nums[0] if nums else 0
                    if mode == 0:
                        del lines[row][col:]
                        del lines[row + 1 :]
                # colours (m), cursor show/hide (?25l/h) and the rest change no text
                i = m.end()
                continue
            m = _OSC.match(raw, i)
            if m:
                i = m.end()
                continue
            i += 2
            continue
        if ch == "\n":
            row += 1
            col = 0  # a pty turns LF into CR LF
            while len(lines) <= row:
                lines.append([])
        elif ch == "\r":
            col = 0
        elif ch == "\b":
            col = max(0, col - 1)
        elif ch == "\x07" or (ch < " " and ch != "\t"):
            pass
        else:
            put(ch)
        i += 1
    text = ["".join(line).rstrip() for line in lines]
    while text and not text[-1]:
        text.pop()
    return text
