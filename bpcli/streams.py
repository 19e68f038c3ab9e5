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


def colourless(stream: IO[str]) -> bool:
    """Whether make_console(stream) surely prints without colour and without ASCII stand-ins:
    Rich's tests, where they can be made without Rich (not a terminal, nor told it is one
    by TTY_COMPATIBLE or FORCE_COLOR, nor in IPython; a UTF-8 encoding). In doubt, False."""
    import builtins

    environ = os.environ
    if environ.get("TTY_COMPATIBLE") or "FORCE_COLOR" in environ or hasattr(builtins, "get_ipython"):
        return False
    encoding = getattr(stream, "encoding", "utf-8") or "utf-8"
    if not encoding.lower().startswith("utf"):
        return False
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):  # Rich: no isatty, or a closed stream, is no terminal
        return True
    except OSError:
        return False


def make_console(file: IO[str] | None = None) -> Console:
    """A Rich console: colour only on a terminal and without NO_COLOR; the terminal's width,
    else COLUMNS, else 80 (text in a pipe is read by a person too, in a pager)."""
    from rich.console import Console

    file = file or sys.stdout
    terminal = file.isatty() if hasattr(file, "isatty") else False
    width = None if terminal else screen_width(None)  # a pipe, a file: COLUMNS, else 80

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
    not leave half a record. With a `bar` (a ProgressBar on the same terminal as stdout),
    the bar is cleared before the records go out and drawn again after them."""

    def __init__(
        self, stream: IO[str], records: int = 256, seconds: float = 0.2, interrupt: Interrupt | None = None
    ) -> None:
        import time

        self.stream, self.records, self.seconds = stream, records, seconds
        self.interrupt = interrupt
        self.bar: ProgressBar | None = None
        self.clock = time.monotonic
        self.pending: list[str] | list[str | bytes] = []  # (bytes: records already encoded)
        self.last = self.clock()
        self.broken = False  # the reader has gone: nothing more is written
        try:
            self.fd: int | None = stream.fileno()
            stream.flush()
        except (AttributeError, OSError, ValueError):
            self.fd = None  # not a file (a test's capture, say): the stream's own write

    def write(self, text: str | bytes) -> None:
        """Write records: text, or bytes already encoded as _flush encodes text."""
        self.pending.append(text)  # type: ignore[arg-type]  # (a list of one type, or both)
        if len(self.pending) >= self.records or self.clock() - self.last >= self.seconds:
            self.flush()

    def write_now(self, text: str | bytes) -> None:
        """Write records and send them out at once (a run of them from a worker process:
        batch --jobs), with what is pending before them."""
        self.write(text)
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
            pending = self.pending
            # A file name that is not UTF-8 comes as lone surrogates: written as \udcff
            try:
                data = "".join(pending).encode("utf-8", "backslashreplace")  # type: ignore[arg-type]
            except TypeError:  # bytes among them (batch --jobs): encoded piece by piece
                data = b"".join(_encoded(piece) for piece in pending)
            pending.clear()
            bar = self.bar
            if bar is not None:
                bar.clear()
            if self.fd is None:
                self.stream.write(data.decode("utf-8"))
                self.stream.flush()
            else:
                _write_whole_lines(self.fd, data)
            if bar is not None:
                bar.draw()
        if self.fd is None:
            self.stream.flush()
        self.last = self.clock()


def _encoded(piece: str | bytes) -> bytes:
    return piece if type(piece) is bytes else piece.encode("utf-8", "backslashreplace")  # type: ignore[union-attr]


# A write of at most this many bytes into a pipe is atomic: all of it, or (when a signal
# stops it) none of it.
PIPE_BUF = 4096


def _write_whole_lines(fd: int, data: bytes) -> None:
    """Write `data` in pieces of at most PIPE_BUF bytes that end at a newline where one is in
    reach: a signal that stops a write to a slow pipe (Interrupt's grace ran out) then stops
    it between records, never in one (a record longer than PIPE_BUF can still be cut)."""
    view = memoryview(data)
    while view:
        if len(view) <= PIPE_BUF:
            end = len(view)
        else:
            end = data.rfind(b"\n", len(data) - len(view), len(data) - len(view) + PIPE_BUF) + 1
            end = end - (len(data) - len(view)) if end > 0 else PIPE_BUF
        piece = view[:end]
        while piece:
            piece = piece[os.write(fd, piece) :]
        view = view[end:]


class ProgressBar:
    """A progress line on stderr while problems are solved (or files checked), when stderr is
    a terminal: the count, the rate and, when the total is known, a bar and the percentage.

    It is drawn as it starts and then at most 10 times a second, whenever `advance` is told
    a new count (it looks at the clock only every few problems, so a fast batch pays next to
    nothing). A record for a terminal stdout goes out between `clear()` and `draw()` (see
    RecordWriter), so that the records and the bar never share a line. The bar is removed
    when it ends, however the batch ends: stderr keeps only messages. `total` may be a
    function that counts (called once the bar is wanted, under the caller's Interrupt)."""

    INTERVAL = 0.1  # seconds between redraws, at least
    CHECKS = 50  # times a second the clock is looked at, about

    def __init__(
        self,
        wanted: bool | None,
        label: str = "solving",
        unit: str = "problems",
        total: int | Callable[[], int | None] | None = None,
    ) -> None:
        import time

        self.fd = _fileno(sys.stderr)
        self.wanted = bool(self.fd is not None and (os.isatty(self.fd) if wanted is None else wanted))
        self.label, self.unit = label, unit
        self._total = total
        self.total: int | None = None
        self.clock = time.monotonic
        self.start = self.next_draw = 0.0
        self.done = 0
        self.next_check = 1 << 62 if not self.wanted else 0  # a count: look at the clock then
        self.stride = 1
        self.shown = False  # something of the bar may be on the screen
        self.width = 0  # of what was drawn last (for terminals without escape codes)
        term = os.environ.get("TERM", "")
        self.escapes = term != "dumb"
        self.colour = self.escapes and not os.environ.get("NO_COLOR")

    def __enter__(self) -> ProgressBar:
        if self.wanted:
            total = self._total() if callable(self._total) else self._total
            self.total = total if total is not None and total > 0 else None
            self.start = self.clock()
            try:
                self.draw()
            except BaseException:  # a signal while drawing: no __exit__ will clear it
                self.clear()
                raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.clear()
        self.wanted = False
        self.next_check = 1 << 62

    def advance(self, done: int) -> None:
        """`done` problems are solved: redrawn if it is time."""
        self.done = done
        if done >= self.next_check:
            now = self.clock()
            elapsed = now - self.start
            if elapsed > 0:  # about CHECKS looks at the clock a second
                self.stride = max(1, int(done / elapsed / self.CHECKS))
            self.next_check = done + self.stride
            if now >= self.next_draw:
                self.draw(now)

    def clear(self) -> None:
        """Take the bar off its line (the cursor is left at the line's start)."""
        if self.shown and self.fd is not None:
            self.shown = False
            blank = "\r\x1b[K" if self.escapes else "\r" + " " * self.width + "\r"
            _write_all(self.fd, blank.encode())

    def draw(self, now: float | None = None) -> None:
        """Draw the bar now (on its own line: the cursor is at the line's start or on the bar)."""
        if not self.wanted or self.fd is None or not _foreground(self.fd):
            return
        now = self.clock() if now is None else now
        self.next_draw = now + self.INTERVAL
        columns = terminal_columns(self.fd) - 1  # never the last column: no line wraps
        plain, styled = self.line(now - self.start, columns)
        self.shown = True  # (first: a signal in the write below still gets the bar cleared)
        if self.escapes:
            data = "\r" + styled + "\x1b[K"
        else:
            data = "\r" + plain.ljust(self.width)
        self.width = len(plain)
        _write_all(self.fd, data.encode("utf-8", "replace"))

    def line(self, elapsed: float, columns: int) -> tuple[str, str]:
        """The bar's text at most `columns` wide, plain and with its styles."""
        done, total = self.done, self.total
        if total is not None and done > total:
            total = None  # (counted before, and the input has grown since)
        rate = _rate(done / elapsed) if elapsed >= 0.2 and done else ""
        clock = _duration(elapsed)
        if total is None:
            text = f"{self.label}  {done:,} {self.unit}  {rate}{'  ' if rate else ''}{clock}"
            return _fit(text, columns), _fit(text, columns)
        # Fields of steady widths, so that the bar keeps its length as the numbers grow
        counts = f"{done:,}".rjust(len(f"{total:,}")) + f"/{total:,} {self.unit}"
        tail = f"  {counts}  {100 * done // total:3d}%  {rate:>8}  {clock:>4}"
        room = columns - len(self.label) - 1 - len(tail)
        if room < 10:
            text = f"{self.label}  {counts.lstrip()}  {100 * done // total}%  {rate}".rstrip()
            return _fit(text, columns), _fit(text, columns)
        size = min(room, 40)
        filled = size * done // total
        bar, rest = "━" * filled, "─" * (size - filled)
        plain = f"{self.label} {bar}{rest}{tail}"
        if self.colour:
            bar = f"\x1b[35m{bar}\x1b[0m" if bar else ""
        if rest:
            rest = f"\x1b[2m{rest}\x1b[0m"
        styled = f"{self.label} {bar}{rest}{tail}" if self.escapes else plain
        return plain, styled


def is_terminal(stream: IO[str] | None) -> bool:
    """Whether `stream` is a terminal (False for None, a closed stream, a test's capture)."""
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, OSError, ValueError):
        return False


def _fileno(stream: IO[str] | None) -> int | None:
    try:
        return stream.fileno() if stream is not None else None
    except (AttributeError, OSError, ValueError):
        return None


def _foreground(fd: int) -> bool:
    """Whether this process may draw on the terminal `fd` (not a job in the background, which
    would be stopped or would draw over the shell's line); True for what is not a terminal."""
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except (AttributeError, OSError):
        return True


def terminal_columns(fd: int | None = None) -> int:
    """A terminal's width: COLUMNS if set, but never wider than the terminal `fd` really is;
    80 when neither is known."""
    try:
        columns = int(os.environ.get("COLUMNS", "") or 0)
    except ValueError:
        columns = 0
    try:
        real = os.get_terminal_size(fd).columns if fd is not None else 0
    except (OSError, ValueError):
        real = 0
    if columns > 0 and real > 0:
        return min(columns, real)
    return columns or real or 80


def _rate(per_second: float) -> str:
    if per_second >= 100:
        return f"{per_second:,.0f}/s"
    return f"{per_second:.2g}/s" if per_second >= 0.01 else f"{1 / per_second:,.0f} s each"


def _duration(seconds: float) -> str:
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02}:{second:02}" if hours else f"{minute}:{second:02}"


def _fit(text: str, columns: int) -> str:
    return text if len(text) <= columns else text[: max(0, columns - 1)] + "…"


def _write_all(fd: int, data: bytes) -> None:
    """All of `data` on `fd` (a reader gone or a full disk ends the bar quietly: the records
    are what matters)."""
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        pass


# --- counting problems ------------------------------------------------------------------------

COUNT_CHUNK = 2**20
COUNT_SECONDS = 2.0  # counting gives up after this long: the bar then shows no total
# A line (after a newline) that is blank or a comment: not a problem (see batch.solve.read_lines)
_SKIPPED = None


def count_problems(inputs: tuple[str, ...], seconds: float = COUNT_SECONDS) -> int | None:
    """How many problems `bpcli batch` will read from `inputs`, counted without reading a
    problem: each line that is not blank or a comment, or 1 for a `.bp` file. None when one
    of the inputs is not a regular file (a pipe, a terminal), or when counting would take
    longer than `seconds`."""
    import stat
    import time
    from functools import partial

    deadline = time.monotonic() + seconds
    total = 0
    for path in inputs:
        try:
            if path == "-":
                fd = _fileno(sys.stdin)
                if fd is None or not stat.S_ISREG(os.fstat(fd).st_mode):
                    return None
                count = _count_lines(partial(_pread, fd, os.lseek(fd, 0, os.SEEK_CUR)), deadline)
            elif path.endswith(".bp"):
                count = 1
            else:
                with open(path, "rb") as handle:
                    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                        return None
                    count = _count_lines(lambda at: handle.read(COUNT_CHUNK), deadline)
        except (OSError, ValueError):
            return None
        if count is None:
            return None
        total += count
    return total


def _line_start(carry: bytes) -> bytes:
    """A newline and the start of a line that goes on: enough of it to tell whether it is
    blank or a comment (its first character that is not a space), however long it grows."""
    if len(carry) <= 4096:
        return carry
    return b"\n " + carry[1:].lstrip(b" \t\r\x0b\x0c")[:4096]


def _pread(fd: int, offset: int, at: int) -> bytes:
    """A chunk of stdin, a regular file, from `at` on (stdin's own offset is left as it is)."""
    return os.pread(fd, COUNT_CHUNK, offset + at)


def _count_lines(read: Callable[[int], bytes], deadline: float) -> int | None:
    """The lines that are problems in what `read(offset)` gives, a chunk at a time."""
    import re
    import time

    global _SKIPPED
    if _SKIPPED is None:
        _SKIPPED = re.compile(rb"\n[ \t\r\x0b\x0c]*(?=[#\n])")
    skipped = _SKIPPED
    count = 0
    at = 0
    carry = b"\n"  # the line that goes on past what was read, after a newline of its own
    bom = b"\n\xef\xbb\xbf"  # (the first line's BOM is not part of it)
    first = True
    while chunk := read(at):
        at += len(chunk)
        data = carry + chunk
        if first:
            if len(data) < len(bom) and bom.startswith(data):
                carry = data  # a BOM, or not: the next chunk tells
                continue
            first = False
            if data.startswith(bom):
                data = b"\n" + data[len(bom) :]
        last = data.rfind(b"\n")
        carry = _line_start(b"\n" + data[last + 1 :])
        if last:
            lines = data[: last + 1]
            count += lines.count(b"\n") - 1 - len(skipped.findall(lines))
        if time.monotonic() > deadline:
            return None
    if first and carry.startswith(bom):
        carry = b"\n" + carry[len(bom) :]
    if carry.strip(b" \t\r\n\x0b\x0c") and not carry.lstrip().startswith(b"#"):
        count += 1
    return count


def silence_stdout() -> None:
    # Python flushes stdout at exit; once the reader is gone that would fail again.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
