"""Reading and writing for the command line: files and stdin as text, Rich consoles, and
the batch's stream of records (whole records, Ctrl-C between records, a progress bar)."""

from __future__ import annotations

import os
import sys
from typing import Any

from bpcli.errors import InputError


def read_text(path: str) -> str:
    """The text of a file, or of stdin for "-", as UTF-8; at most MAX_TEXT_BYTES of it."""
    from bpcli.limits import MAX_TEXT_BYTES, read_limited

    name = "stdin" if path == "-" else path
    try:
        if path == "-":
            if sys.stdin is None:  # started with stdin closed (<&-)
                raise InputError("cannot read stdin: it is closed")
            stream = getattr(sys.stdin, "buffer", sys.stdin)
            data = read_limited(stream, name, MAX_TEXT_BYTES)
        else:
            with open(path, "rb") as handle:
                data = read_limited(handle, name, MAX_TEXT_BYTES)
    except FileNotFoundError:
        raise InputError(f"cannot read {name}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"cannot read {name}: it is a directory") from None
    except (OSError, ValueError) as err:  # ValueError: a closed stream
        reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
        raise InputError(f"cannot read {name}: {reason}") from None
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"cannot read {name}: it is not UTF-8 text (byte {err.start})") from None


def make_console(file: Any = None) -> Any:
    """A Rich console: colour only on a terminal and without NO_COLOR; no wrapping in pipes."""
    from rich.console import Console

    file = file or sys.stdout
    terminal = file.isatty() if hasattr(file, "isatty") else False
    width = None if terminal else int(os.environ.get("COLUMNS", "0") or 0) or 10_000
    class PipeAwareConsole(Console):
        def on_broken_pipe(self) -> None:  # Rich would exit 1; bpcli stops quietly
            self.quiet = True
            raise BrokenPipeError

    return PipeAwareConsole(file=file, width=width, highlight=False, emoji=False, markup=False,
                            no_color=bool(os.environ.get("NO_COLOR")) or None)


def batch_sources(inputs: tuple[str, ...]) -> list[tuple[str, Any]]:
    """(name, lines) for each input, checked before any problem runs."""
    sources = []
    for path in inputs:
        if path == "-":
            sources.append(("stdin", _stdin_lines()))
            continue
        if not os.path.exists(path):
            raise InputError(f"cannot read {path}: no such file")
        if os.path.isdir(path):
            raise InputError(f"cannot read {path}: it is a directory")
        sources.append((path, _file_lines(path)))
    return sources


def _file_lines(path: str) -> Any:
    try:
        with open(path, encoding="utf-8-sig", errors="strict") as handle:
            yield from handle
    except UnicodeDecodeError as err:
        raise InputError(f"cannot read {path}: it is not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from None


def _stdin_lines() -> Any:
    import io

    stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="strict") \
        if hasattr(sys.stdin, "buffer") else sys.stdin
    try:
        yield from stream
    except UnicodeDecodeError as err:
        raise InputError(f"cannot read stdin: it is not UTF-8 text (byte {err.start})") from None


class Interrupt:
    """Ctrl-C asks the batch to stop after the record it is on, so that the output ends with
    a whole record; a second Ctrl-C stops at once."""

    def __init__(self) -> None:
        self.requested = False
        self.previous: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        import signal

        self.requested = True
        signal.signal(signal.SIGINT, self.previous)

    def __enter__(self) -> Interrupt:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


class RecordWriter:
    """Writes whole records in batches, and at least every 0.2 s, so output flows through a
    pipe as it goes without a system call per record. On a real file descriptor it writes
    with os.write and finishes every partial write itself, so that a signal arriving in the
    middle of a write can never leave half a record."""

    def __init__(self, stream: Any, records: int = 256, seconds: float = 0.2) -> None:
        import time

        self.stream, self.records, self.seconds = stream, records, seconds
        self.clock = time.monotonic
        self.pending: list[str] = []
        self.last = self.clock()
        try:
            self.fd: int | None = stream.fileno()
            stream.flush()
        except (AttributeError, OSError, ValueError):
            self.fd = None  # not a file (a test's capture, say): the stream's own write

    def write(self, text: str) -> None:
        self.pending.append(text)
        if len(self.pending) >= self.records or self.clock() - self.last >= self.seconds:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            text = "".join(self.pending)
            self.pending.clear()
            # A file name that is not UTF-8 comes as lone surrogates: written as \udcff
            data = text.encode("utf-8", "backslashreplace")
            if self.fd is None:
                self.stream.write(data.decode("utf-8"))
            else:
                view = memoryview(data)
                while view:
                    view = view[os.write(self.fd, view):]
        if self.fd is None:
            self.stream.flush()
        self.last = self.clock()


class ProgressBar:
    """A Rich progress line on stderr while problems are solved, when stderr is a terminal."""

    def __init__(self, wanted: bool | None) -> None:
        self.wanted = sys.stderr.isatty() if wanted is None else wanted
        self.progress: Any = None
        self.shown = 0

    def __enter__(self) -> Any:
        if not self.wanted:
            return lambda done: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(TextColumn("solving"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("problems"), console=Console(stderr=True),
                                 transient=True)
        self.progress.start()
        task = self.progress.add_task("batch", total=None)

        def advance(done: int) -> None:
            if done - self.shown >= 250:
                self.shown = done
                self.progress.update(task, completed=done)

        return advance

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


def silence_stdout() -> None:
    # Python flushes stdout at exit; once the reader is gone that would fail again.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
