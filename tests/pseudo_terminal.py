"""Running bpcli on a pseudo-terminal of a given size, and reading what it drew there.

`run` puts stdout and/or stderr on one pseudo-terminal (the others are pipes) and reads them
all at once, so that nothing waits on a full pipe. `screen` replays what the terminal was
sent, line by line, the way a terminal shows it: a carriage return goes back to the line's
start, ESC[K erases to the line's end, and text overwrites what is under it; styles are
dropped. `without_bar` takes the progress bar's drawings out of the bytes sent.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
from dataclasses import dataclass

from conftest import ROOT

STYLE = re.compile(rb"\x1b\[[0-9;]*m")
# The bar: a carriage return, the bar's text and an erase to the line's end (a redraw), or a
# carriage return and the erase alone (the bar taken off).
BAR = re.compile(rb"\r[^\r\n]*?\x1b\[K")


@dataclass
class Ran:
    terminal: bytes  # what was sent to the terminal (its \r\n turned back into \n)
    stdout: bytes  # stdout's pipe (empty when stdout was the terminal)
    stderr: bytes  # stderr's pipe (empty when stderr was the terminal)
    status: int


def run(
    *args: str,
    stdout_tty: bool = True,
    stderr_tty: bool = True,
    columns: int = 80,
    stdin: object = subprocess.DEVNULL,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Ran:
    """`python -m bpcli ARGS…` with stdout and/or stderr on a pseudo-terminal of `columns`
    columns (TERM=xterm-256color, no COLUMNS, no NO_COLOR unless `env` sets them)."""
    import fcntl
    import pty
    import struct
    import termios

    unset = ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES")
    environ = {k: v for k, v in os.environ.items() if k not in unset}
    environ["TERM"] = "xterm-256color"
    environ.update(env or {})
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "bpcli", *args],
        cwd=ROOT,
        env=environ,
        stdin=stdin,
        stdout=follower if stdout_tty else subprocess.PIPE,
        stderr=follower if stderr_tty else subprocess.PIPE,
    )
    os.close(follower)
    got: dict[int, bytearray] = {leader: bytearray()}
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            got[pipe.fileno()] = bytearray()
    open_fds = set(got)
    try:
        while open_fds:
            ready, _, _ = select.select(list(open_fds), [], [], timeout)
            if not ready:
                raise TimeoutError(f"bpcli {' '.join(args)} sent nothing for {timeout} s")
            for fd in ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # EIO: the program has gone and closed the terminal
                    data = b""
                if data:
                    got[fd] += data
                else:
                    open_fds.discard(fd)
        status = process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    out = bytes(got[process.stdout.fileno()]) if process.stdout is not None else b""
    err = bytes(got[process.stderr.fileno()]) if process.stderr is not None else b""
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()
    return Ran(bytes(got[leader]).replace(b"\r\n", b"\n"), out, err, status)


def without_bar(sent: bytes) -> bytes:
    """What was sent to the terminal with the bar's drawings and erasures taken out."""
    return BAR.sub(b"", sent)


def screen(sent: bytes) -> list[str]:
    """The lines a terminal shows for `sent` (its \\r\\n already \\n), styles dropped."""
    text = STYLE.sub(b"", sent).decode("utf-8", "replace")
    lines = []
    for raw in text.split("\n"):
        line: list[str] = []
        column = 0
        for piece in re.split(r"(\r|\x1b\[K)", raw):
            if piece == "\r":
                column = 0
            elif piece == "\x1b[K":
                del line[column:]
            else:
                for char in piece:
                    if column < len(line):
                        line[column] = char
                    else:
                        line.append(char)
                    column += 1
        lines.append("".join(line).rstrip(" "))
    return lines
