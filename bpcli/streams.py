"""Reading and writing for the command line: files and stdin as text, Rich consoles, and
the batch's stream of records (whole records, Ctrl-C between records, a progress bar)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import IO, TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


from bpcli.errors import InputError

# A source's raw lines: bytes, or an int for a line too long to hold (its length)
RawLines = Iterator[bytes | int]
Idle = Callable[[], None] | None
# what signal.signal returns: a handler, SIG_DFL or SIG_IGN, or None
Handler = Callable[[int, FrameType | None], object] | int | None


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


def screen_width(stream: IO[str] | None) -> int:
    """The columns text for a person is laid out in: COLUMNS when set, else the terminal's
    width when `stream` is one, else 80 (a pipe into a pager, a file: None)."""
    given = os.environ.get("COLUMNS", "")
    if given.isdigit() and int(given) > 0:
        return max(int(given), 20)
    try:
        if stream is not None and stream.isatty():
            return max(os.get_terminal_size(stream.fileno()).columns, 20)
    except (OSError, ValueError, AttributeError):
        pass
    return 80


def make_console(file: IO[str] | None = None) -> Console:
    """A Rich console: colour only on a terminal and without NO_COLOR; no wrapping in pipes."""
    from rich.console import Console

    file = file or sys.stdout
    terminal = file.isatty() if hasattr(file, "isatty") else False
    width = None if terminal else int(os.environ.get("COLUMNS", "0") or 0) or 10_000

    class PipeAwareConsole(Console):
        def on_broken_pipe(self) -> None:  # Rich would exit 1; bpcli stops quietly
            self.quiet = True
            raise BrokenPipeError

    return PipeAwareConsole(
        file=file,
        width=width,
        highlight=False,
        emoji=False,
        markup=False,
        no_color=bool(os.environ.get("NO_COLOR")) or None,
    )


def batch_sources(inputs: tuple[str, ...], idle: Idle = None) -> list[tuple[str, RawLines]]:
    """(name, raw lines) for each input, checked before any problem runs. `idle()` is called
    before a line is read from a pipe or terminal that has nothing to read right now (the
    caller flushes its finished records then, so that nothing waits for the next line).

    The raw lines of a source are bytes, cut at "\\n" only (a bare CR is part of its line),
    each at most MAX_LINE_BYTES long; a longer line comes as an int, its length so far,
    and is skipped to its newline without being held (b"#" when it is a comment). A `.bp`
    file comes whole, as one item (an int when larger than MAX_TEXT_BYTES). Decoding is
    left to each line (`bpcli.batch.solve.read_lines`), so that one bad line is one error record."""
    sources = []
    for path in inputs:
        if path == "-":
            if sys.stdin is None:  # started with stdin closed (<&-)
                raise InputError("cannot read stdin: it is closed")
            stream = getattr(sys.stdin, "buffer", None)
            sources.append(
                ("stdin", _raw_lines(stream, "stdin", idle) if stream is not None else _text_lines(sys.stdin))
            )
            continue
        if not os.path.exists(path):
            raise InputError(f"cannot read {path}: no such file")
        if os.path.isdir(path):
            raise InputError(f"cannot read {path}: it is a directory")
        sources.append((path, _whole_file(path) if path.endswith(".bp") else _file_lines(path, idle)))
    return sources


def _file_lines(path: str, idle: Idle = None) -> RawLines:
    try:
        with open(path, "rb") as handle:
            yield from _raw_lines(handle, path, idle)
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from None


def _whole_file(path: str) -> RawLines:
    """A `.bp` file's bytes as one item; its size (an int) when it is too large to read."""
    from bpcli.limits import MAX_TEXT_BYTES

    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_TEXT_BYTES + 1)
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from None
    yield len(data) if len(data) > MAX_TEXT_BYTES else data


SKIP = 2**20  # bytes read at a time while skipping the rest of an over-long line


def _raw_lines(handle: IO[bytes], name: str, idle: Idle = None) -> RawLines:
    """The lines of a binary stream, bounded (see batch_sources). A line that goes on past
    MAX_TEXT_BYTES without a newline (/dev/zero) ends the input: InputError. `idle()` is
    called before a read from a pipe or terminal that would wait (see batch_sources)."""
    from bpcli.limits import MAX_LINE_BYTES, MAX_TEXT_BYTES, size_text

    readline: Callable[[int], bytes] = handle.readline
    limit = MAX_LINE_BYTES
    if idle is not None and _may_wait(handle):
        readline = _waiting_readline(handle, idle)
    number = 0
    try:
        while line := readline(limit + 1):
            number += 1
            if len(line) <= limit or line.endswith(b"\n"):
                yield line
                continue
            comment = line.removeprefix(b"\xef\xbb\xbf" if number == 1 else b"").lstrip().startswith(b"#")
            size = len(line)
            while not line.endswith(b"\n"):
                line = readline(SKIP)
                if not line:
                    break
                size += len(line)
                if size > MAX_TEXT_BYTES:
                    raise InputError(
                        f"cannot read {name}: line {number} goes on for more than"
                        f" {size_text(MAX_TEXT_BYTES)} without a newline"
                    )
            yield b"#" if comment else size - line.endswith(b"\n")
    except OSError as err:
        raise InputError(f"cannot read {name}: {err.strerror or err}") from None


def _may_wait(handle: IO[bytes]) -> bool:
    """Whether reading `handle` can wait for a writer: not a regular file (which is always
    readable, so files pay nothing for the idle check)."""
    import stat

    try:
        return not stat.S_ISREG(os.fstat(handle.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):
        return False


def _waiting_readline(handle: IO[bytes], idle: Callable[[], None]) -> Callable[[int], bytes]:
    """handle.readline, calling idle() first whenever the descriptor has nothing to read now
    (select with no timeout: no waiting, and no system call beyond it)."""
    import select

    readline, fd = handle.readline, handle.fileno()

    def read(size: int) -> bytes:
        try:
            ready = select.select([fd], [], [], 0)[0]
        except (OSError, ValueError):
            ready = [fd]  # cannot tell: read as before
        if not ready:
            idle()
        line: bytes = readline(size)
        return line

    return read


def _text_lines(stream: TextIO) -> RawLines:
    """Lines of a text stream with no bytes underneath (a test's StringIO): as UTF-8 bytes."""
    for line in stream:
        yield line.encode("utf-8", "surrogateescape")


STOP_MESSAGES = {"SIGINT": "interrupted", "SIGTERM": "terminated (SIGTERM)", "SIGHUP": "hung up (SIGHUP)"}


class Interrupt:
    """Ctrl-C (SIGINT), SIGTERM and SIGHUP stop the batch at once, the same way: the record
    being solved is dropped, the records already solved are written whole, and workers are
    stopped (KeyboardInterrupt unwinds through their pool). Further signals are ignored
    while that happens. `exit_status` is then 128 + the signal's number (130, 143, 129).

    A signal that comes while records are being written lets the write finish first, for at
    most WRITE_GRACE seconds: a reader that takes nothing more for that long gets a cut
    record rather than a bpcli that cannot be stopped."""

    WRITE_GRACE = 0.5

    def __init__(self) -> None:
        self.requested = False
        self.raised = False
        self.writing = False  # RecordWriter is writing records out
        self.message = "interrupted"
        self.exit_status = 130
        self.previous: dict[int, Handler] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        import signal

        if self.requested:
            return
        self.requested = True
        name = signal.Signals(signum).name
        self.message = STOP_MESSAGES.get(name, f"stopped by {name}")
        self.exit_status = 128 + signum
        for number in self.previous:
            signal.signal(number, signal.SIG_IGN)
        if self.writing and self.grace():
            return  # written_out() stops the batch when the write is done
        self._stop()

    def grace(self) -> bool:
        """Stop in WRITE_GRACE seconds, whatever is going on then (False if that cannot be
        arranged here)."""
        import signal

        if not hasattr(signal, "setitimer") or signal.SIGALRM not in self.previous:
            return False
        signal.signal(signal.SIGALRM, self._late)
        signal.setitimer(signal.ITIMER_REAL, self.WRITE_GRACE)
        return True

    def _late(self, signum: int, frame: FrameType | None) -> None:
        self._stop()

    def _stop(self) -> None:
        self.raised = True
        raise KeyboardInterrupt

    def written_out(self) -> None:
        """After a write: stop now if a signal came during it (and has not stopped us yet)."""
        if self.requested and not self.raised:
            self._cancel_alarm()
            self._stop()

    def cancel_grace(self) -> None:
        self._cancel_alarm()

    def _cancel_alarm(self) -> None:
        import signal

        if hasattr(signal, "setitimer") and signal.SIGALRM in self.previous:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def __enter__(self) -> Interrupt:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            for name in (*STOP_MESSAGES, "SIGALRM"):
                number = getattr(signal, name, None)
                if number is not None:
                    self.previous[number] = (
                        signal.getsignal(number) if name == "SIGALRM" else signal.signal(number, self._handle)
                    )
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        self._cancel_alarm()
        for number, previous in self.previous.items():
            signal.signal(number, previous)


class RecordWriter:
    """Writes whole records in batches, and at least every 0.2 s, so output flows through a
    pipe as it goes without a system call per record. On a real file descriptor it writes
    with os.write and finishes every partial write itself; with an `interrupt`, a signal
    that comes meanwhile waits for the write to end (see Interrupt), so that a signal does
    not leave half a record."""

    def __init__(
        self, stream: IO[str], records: int = 256, seconds: float = 0.2, interrupt: Interrupt | None = None
    ) -> None:
        import time

        self.stream, self.records, self.seconds = stream, records, seconds
        self.interrupt = interrupt
        self.clock = time.monotonic
        self.pending: list[str] = []
        self.last = self.clock()
        self.broken = False  # the reader has gone: nothing more is written
        try:
            self.fd: int | None = stream.fileno()
            stream.flush()
        except (AttributeError, OSError, ValueError):
            self.fd = None  # not a file (a test's capture, say): the stream's own write

    def write(self, text: str) -> None:
        self.pending.append(text)
        if len(self.pending) >= self.records or self.clock() - self.last >= self.seconds:
            self.flush()

    def close(self) -> None:
        """Write what is pending (unless the reader has gone; after a signal, if the reader
        takes it within Interrupt.WRITE_GRACE seconds)."""
        if self.broken:
            return
        interrupt = self.interrupt
        if interrupt is None or not interrupt.raised:
            self.flush()
            return
        interrupt.grace()
        try:
            self.flush()
        finally:
            interrupt.cancel_grace()

    def flush(self) -> None:
        interrupt = self.interrupt
        if interrupt is not None:
            interrupt.writing = True
        try:
            self._flush()
        except BrokenPipeError:
            self.broken = True
            raise
        finally:
            if interrupt is not None:
                interrupt.writing = False
        if interrupt is not None:
            interrupt.written_out()

    def _flush(self) -> None:
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
                    view = view[os.write(self.fd, view) :]
        if self.fd is None:
            self.stream.flush()
        self.last = self.clock()


class ProgressBar:
    """A Rich progress line on stderr while problems are solved (or files checked), when
    stderr is a terminal. `total`: how many there are, when known (a bar then); `every`: how
    many between redraws."""

    def __init__(
        self,
        wanted: bool | None,
        label: str = "solving",
        unit: str = "problems",
        total: int | None = None,
        every: int = 250,
    ) -> None:
        self.wanted = sys.stderr.isatty() if wanted is None else wanted
        self.progress: Progress | None = None
        self.shown = 0
        self.label, self.unit, self.total, self.every = label, unit, total, every

    def __enter__(self) -> Callable[[int], None]:
        if not self.wanted:
            return lambda done: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = progress = Progress(
            TextColumn(self.label),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(self.unit),
            console=Console(stderr=True),
            transient=True,
        )
        progress.start()
        task = progress.add_task("batch", total=self.total)

        def advance(done: int) -> None:
            if done - self.shown >= self.every:
                self.shown = done
                progress.update(task, completed=done)

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
