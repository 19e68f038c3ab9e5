"""`bpcli batch --jobs N`: N worker processes of bpcli's own, forked from the batch and
fed through pipes, with the records coming back in input order.

The parent cuts the input into runs of raw lines without reading them (`runs`), sends each
run to a worker as one `marshal`-ed message and writes out the records that come back, a
run at a time, in input order. No thread, no queue, no pickling: a run goes out as its raw
lines and comes back as its records already encoded, and the parent waits in one `select`
on every worker's pipes. An input too small to pay for workers is solved by the parent.

A worker that dies (killed, out of memory) is replaced: the run it was solving is tried
again in a fresh worker, then, if it kills that one too, in halves, down to the one line
that does, which becomes an error record; the runs queued behind it are simply sent again.
However this ends (the last record, an unreadable input, Ctrl-C, a closed stdout), the
workers are killed and reaped before it returns.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from bpcli.batch.lines import Raw, Source, read_lines
from bpcli.errors import EXIT_FAILED, EXIT_OK, BpcliError, InputError

if TYPE_CHECKING:
    from bpcli.batch.solve import Options
    from bpcli.batch.vector import Points

CHUNK = 1000  # at most this many lines a run (100 for tables)...
CHUNK_BYTES = 2**18  # ...and at most this many bytes (or one line, if it is longer)
FIRST_CHUNK = 16  # lines in each of the first runs, before a worker's time per line is known
TASK_SECONDS = 0.03  # then as many lines as a worker solves in about this much CPU time (_Sizes)
LEAST_SECONDS = 0.002  # near the end of a file, runs shrink, but not below this much work
SMALL_BYTES = 2**15  # files of at most this many bytes in all are solved with no worker
IN_FLIGHT = 2  # runs sent to a worker and not yet back: the one it solves, and the next
IN_FLIGHT_BYTES = 2**25  # the bytes of input sent to workers and not yet back, at most
PIPE_SIZE = 2**20  # a pipe's buffer, where the system lets it be set (Linux: F_SETPIPE_SZ)
MOST_DEATHS = 64  # workers that die one after another, with no run solved between: give up
KILL_WAIT = 0.5  # seconds, at most, for killed workers to end, in all

Task = tuple[str, int, list[Raw]]  # a source, the number of its first line, its raw lines
# A run's records, already encoded as they are written out (UTF-8, a lone surrogate of a
# file name as \udcff: see RecordWriter), where it failed, and how many problems it had.
Output = tuple[bytes, list[tuple[str, int, int]], int]
Done = tuple[Output, float]  # a run's output, and the CPU seconds its worker took for it
_STOPPING = ("SIGINT", "SIGTERM", "SIGHUP")  # the signals that stop a batch


class _Sizes:
    """How many lines (and bytes) the next run gets: FIRST_CHUNK lines at first, then as
    many as a worker solves in about TASK_SECONDS of CPU time, judged by the last run's, at
    most `most`. Near the end of the input (when its size is known: files), a run gets at
    most 1/(2N) of what is left, and at least about LEAST_SECONDS of work, so that the
    workers finish together. The records do not depend on where the input is cut."""

    def __init__(self, most: int, jobs: int = 1, total: int | None = None) -> None:
        self.most = most
        self.lines = min(most, FIRST_CHUNK)
        self.jobs = jobs
        self.left = total  # bytes of input not yet cut into runs, when known
        self.rate = 0.0  # bytes a worker solves in a second of CPU, once known

    def solved(self, count: int, seconds: float, size: int = 0) -> None:
        """A run of `count` problems in `size` bytes took a worker `seconds` of CPU time."""
        if count:
            seconds = max(seconds, 1e-6)
            self.lines = max(1, min(self.most, round(TASK_SECONDS * count / seconds)))
            if size:
                self.rate = size / seconds

    def bytes(self) -> int:
        """The most bytes the next run may have."""
        if self.left is None or not self.rate:
            return CHUNK_BYTES
        least = int(self.rate * LEAST_SECONDS)
        return max(1, least, min(CHUNK_BYTES, self.left // (2 * self.jobs)))

    def cut(self, size: int) -> None:
        if self.left is not None:
            self.left = max(0, self.left - size)


def _size_of(sources: list[Source], programs: bool = False) -> int | None:
    """The bytes of input in all, when every source is a file of known size (the `.bp`
    files' too when `programs`)."""
    total = 0
    for name, _ in sources:
        if name.endswith(".bp") and not programs:
            continue
        try:
            if name == "stdin" or not os.path.isfile(name):
                return None
            total += os.path.getsize(name)
        except (OSError, ValueError):
            return None
    return total


def runs(sources: Iterable[Source], sizes: _Sizes) -> Iterator[tuple[Task, int]]:
    """Runs of at most `sizes.lines` raw lines and `sizes.bytes()` bytes (or one longer line;
    a `.bp` file whole), cut without looking at them; with their size in bytes."""
    for name, lines in sources:
        if name.endswith(".bp"):
            whole = list(lines)
            yield (name, 1, whole), sum(len(r) for r in whole if type(r) is bytes)
            continue
        run: list[Raw] = []
        first, size = 1, 0
        most_lines, most_bytes = sizes.lines, sizes.bytes()
        try:
            for raw in lines:
                run.append(raw)
                size += len(raw) if isinstance(raw, bytes) else raw
                if len(run) >= most_lines or size >= most_bytes:
                    sizes.cut(size)
                    yield (name, first, run), size
                    first += len(run)
                    run, size = [], 0
                    most_lines, most_bytes = sizes.lines, sizes.bytes()
        except BpcliError:  # the lines before a read error are solved before it is reported
            if run:
                yield (name, first, run), size
            raise
        if run:
            sizes.cut(size)
            yield (name, first, run), size


# --- in a worker -------------------------------------------------------------------------------


class Solving:
    """What solves runs of lines, in a worker: a Solver, and with --program points taken in
    runs (bpcli.batch.vector) its Points."""

    def __init__(self, options: Options) -> None:
        from bpcli.batch.solve import Solver

        self.solver = Solver(options)
        self.points: Points | None = None
        if options.points:
            from bpcli.batch.vector import Points

            self.points = Points(self.solver)

    def run(self, task: Task) -> Done:
        """Read and solve a run of raw lines: its records as bytes, where it failed, how
        many problems there were; and the CPU seconds that took."""
        from time import process_time  # (the work's own time: other load on the machine aside)

        started = process_time()
        name, first, raw = task
        lines = read_lines([(name, raw)], first)
        if self.points is not None:
            text, failed, count = self.points.solve(list(lines))
        else:
            solve_line = self.solver.solve_line
            texts, failed = [], []
            for line in lines:
                record, status = solve_line(line)
                texts.append(record)
                if status != EXIT_OK:
                    failed.append((line[0], line[1], status))
            text, count = "".join(texts), len(texts)
        return (_encoded(text), failed, count), process_time() - started


def _encoded(text: str) -> bytes:
    """Records as RecordWriter writes them (one code point at a time: the same bytes
    whether encoded together or in pieces)."""
    return text.encode("utf-8", "backslashreplace")


def _worker(tasks: int, results: int, solving: Solving, parent: int) -> None:
    """A worker's life, in the forked child: runs in, results out, until the parent closes
    its pipe (or dies). Ctrl-C and a hang-up are the parent's to handle (it kills the
    workers); a worker dies with its parent, even one killed with SIGKILL (Linux's
    parent-death signal), and otherwise when its pipe to the parent closes."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, inherited
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # the parent gone: end quietly
    if hasattr(signal, "pthread_sigmask"):  # held back by Pool.start while it forked
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _stopping())
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the signal was asked for
        return
    with contextlib.suppress(OSError):  # the records are the parent's to write: nothing else
        null = os.open(os.devnull, os.O_WRONLY)  # gets into them, and a closed stdout is
        os.dup2(null, 1)  # closed when the parent lets go of it
        os.close(null)
    reader = open(tasks, "rb", buffering=PIPE_SIZE)  # noqa: SIM115 - it lives as long as the worker
    while True:
        head = reader.read(8)
        if len(head) < 8:
            return  # the parent closed the pipe: the batch is over
        message = reader.read(int.from_bytes(head, "little"))
        done = solving.run(marshal.loads(message))
        data = marshal.dumps(done)
        _write_all(results, len(data).to_bytes(8, "little") + data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _stopping() -> set[int]:
    import signal

    return {getattr(signal, name) for name in _STOPPING if hasattr(signal, name)}


# --- in the parent -----------------------------------------------------------------------------


class _Run:
    """A run of lines on its way: its task, its size, how often a worker died on it, and
    (once back) its result."""

    __slots__ = ("result", "size", "task", "tries")

    def __init__(self, task: Task, size: int, tries: int = 0) -> None:
        self.task, self.size, self.tries = task, size, tries
        self.result: Output | None = None


class _Worker:
    """A worker process as the parent sees it: its pid, its two pipes (non-blocking at this
    end), what is still to be sent, what has come back so far, and its runs in flight."""

    def __init__(self, pid: int, send: int, receive: int) -> None:
        self.pid, self.send, self.receive = pid, send, receive
        self.outgoing = bytearray()
        self.incoming = bytearray()
        self.runs: deque[_Run] = deque()
        self.dead = False


class Pool:
    """Worker processes forked from this one, and their pipes."""

    def __init__(self, solving: Solving, jobs: int) -> None:
        self.solving = solving
        self.workers: list[_Worker] = []
        try:
            for _ in range(jobs):
                self.start()
        except BaseException:
            self.close(kill=True)
            raise

    def start(self) -> _Worker:
        """Fork a worker (with the signals that stop a batch held back meanwhile: it starts
        with them blocked, until it has its own handlers)."""
        import signal

        tasks_read, tasks_write = os.pipe()
        results_read, results_write = os.pipe()
        for fd in (tasks_write, results_write):
            _widen(fd)
        mask = _stopping()
        held = signal.pthread_sigmask(signal.SIG_BLOCK, mask) if hasattr(signal, "pthread_sigmask") else None
        try:
            parent = os.getpid()
            pid = os.fork()
            if pid == 0:  # the worker: it never returns into the parent's code
                status = 0
                try:
                    for other in self.workers:
                        os.close(other.send)
                        os.close(other.receive)
                    os.close(tasks_write)
                    os.close(results_read)
                    _worker(tasks_read, results_write, self.solving, parent)
                except BaseException:  # a worker ends quietly: the parent reports
                    status = 70
                finally:
                    os._exit(status)
        except BaseException:
            for fd in (tasks_read, tasks_write, results_read, results_write):
                os.close(fd)
            raise
        finally:
            if held is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
        os.close(tasks_read)
        os.close(results_write)
        os.set_blocking(tasks_write, False)
        os.set_blocking(results_read, False)
        worker = _Worker(pid, tasks_write, results_read)
        self.workers.append(worker)
        return worker

    def send(self, worker: _Worker, run: _Run) -> None:
        data = marshal.dumps(run.task)
        worker.outgoing += len(data).to_bytes(8, "little")
        worker.outgoing += data
        worker.runs.append(run)
        self._push(worker)

    def _push(self, worker: _Worker) -> None:
        try:
            while worker.outgoing:
                written = os.write(worker.send, worker.outgoing)
                del worker.outgoing[:written]
        except BlockingIOError:
            pass
        except OSError:  # the worker has gone: its end of the pipe says so (wait)
            worker.outgoing.clear()

    def wait(self, timeout: float | None = None) -> list[_Worker]:
        """Wait until a result comes back or a worker dies (or `timeout` seconds pass): the
        results go to their runs; the workers that died are returned (and reaped)."""
        import select

        live = [w for w in self.workers if not w.dead]
        readable, writable, _ = select.select(
            [w.receive for w in live], [w.send for w in live if w.outgoing], [], timeout
        )
        dead = []
        for worker in live:
            if worker.send in writable:
                self._push(worker)
            if worker.receive in readable and not self._receive(worker):
                dead.append(worker)
        for worker in dead:
            self._bury(worker)
        return dead

    def _receive(self, worker: _Worker) -> bool:
        """Read what the worker sent; False when it has gone."""
        incoming = worker.incoming
        alive = True
        try:
            while True:
                data = os.read(worker.receive, PIPE_SIZE)
                if not data:
                    alive = False  # (after the results it sent before it ended)
                    break
                incoming += data
        except BlockingIOError:
            pass
        except OSError:
            alive = False
        while len(incoming) >= 8:
            size = int.from_bytes(incoming[:8], "little")
            if len(incoming) < 8 + size:
                break
            with memoryview(incoming) as view:
                result, seconds = marshal.loads(view[8 : 8 + size])
            del incoming[: 8 + size]
            run = worker.runs.popleft()
            run.result = result
            self.solved(run, seconds)
        return alive

    def solved(self, run: _Run, seconds: float) -> None:
        """A run came back (set by the caller)."""

    def _bury(self, worker: _Worker) -> None:
        worker.dead = True
        self.workers.remove(worker)
        for fd in (worker.send, worker.receive):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            os.kill(worker.pid, 9)
        with contextlib.suppress(OSError):
            os.waitpid(worker.pid, 0)

    def close(self, kill: bool) -> None:
        """End every worker: told to (its pipe closed), or killed; and reap them, within
        KILL_WAIT seconds in all."""
        import signal
        import time

        workers, self.workers = self.workers, []
        for worker in workers:
            for fd in (worker.send, worker.receive):
                with contextlib.suppress(OSError):
                    os.close(fd)
            if kill:
                with contextlib.suppress(OSError):
                    os.kill(worker.pid, signal.SIGKILL)
        deadline = time.monotonic() + KILL_WAIT
        waiting = [w.pid for w in workers]
        while waiting:
            for pid in list(waiting):
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done = pid
                if done:
                    waiting.remove(pid)
            if not waiting:
                break
            if time.monotonic() > deadline:
                for pid in waiting:  # SIGKILL cannot be ignored: it ends in a moment
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                for pid in waiting:
                    with contextlib.suppress(OSError):
                        os.waitpid(pid, 0)
                break
            time.sleep(0.001)


def _widen(fd: int) -> None:
    """A bigger pipe, where the system allows it: a worker writes a whole run's records
    without waiting for the parent, and the parent sends the next run without waiting."""
    import fcntl

    size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, size, PIPE_SIZE)


def solve_in_workers(sources: Iterable[Source], options: Options, jobs: int) -> Iterator[Output]:
    """solve_all with `jobs` worker processes (see the module's doc). An input too small to
    pay for them (files of SMALL_BYTES in all, or one run of lines) is solved here, with
    no worker at all."""
    listed = list(sources)
    sizes = _Sizes(CHUNK if options.output_format != "table" else max(1, CHUNK // 10), jobs, _size_of(listed))
    cut = runs(listed, sizes)
    solving = Solving(options)
    ahead: deque[_Run] = deque()  # runs read, not yet sent
    unreadable: BpcliError | None = None
    total = _size_of(listed, programs=True)
    if (total is not None and total <= SMALL_BYTES) or not hasattr(os, "fork"):  # (Windows: one process)
        yield from (solving.run(task)[0] for task, _ in cut)
        return
    try:
        for _ in range(2):
            task, size = next(cut)
            ahead.append(_Run(task, size))
    except StopIteration:
        pass
    except BpcliError as err:
        unreadable = err
    if len(ahead) < 2 or unreadable is not None:  # too little to pay for a worker
        for run in ahead:
            yield solving.run(run.task)[0]
        if unreadable is not None:
            raise unreadable
        if len(ahead) < 2:
            return
    yield from _pooled(cut, ahead, sizes, solving, options, jobs)


def _pooled(
    cut: Iterator[tuple[Task, int]],
    ahead: deque[_Run],
    sizes: _Sizes,
    solving: Solving,
    options: Options,
    jobs: int,
) -> Iterator[Output]:
    order: deque[_Run] = deque()  # the runs sent and not yet written out, in input order
    retry: deque[_Run] = deque()  # runs to send again (a worker died), in input order
    unreadable: BpcliError | None = None
    in_flight = 0  # bytes
    deaths = 0  # workers that died since the last result

    class Sized(Pool):
        def solved(self, run: _Run, seconds: float) -> None:
            nonlocal deaths
            deaths = 0
            assert run.result is not None
            sizes.solved(run.result[2], seconds, run.size)

    def take() -> _Run | None:
        """The next run of the input, None at its end (or where it cannot be read)."""
        nonlocal unreadable, in_flight
        if ahead:
            run = ahead.popleft()
        elif unreadable is not None:
            return None
        else:
            try:
                task, size = next(cut)
            except StopIteration:
                return None
            except BpcliError as err:  # unreadable: first finish what came before
                unreadable = err
                return None
            run = _Run(task, size)
        order.append(run)
        in_flight += run.size
        return run

    def bury(dead: list[_Worker]) -> None:
        nonlocal deaths
        for worker in dead:
            deaths += 1
            if deaths > MOST_DEATHS:
                raise InputError("the worker processes keep dying: the batch cannot go on")
            _died(worker, order, retry, options)
            try:
                pool.start()
            except OSError as err:
                raise InputError(f"cannot start a worker process: {err.strerror or err}") from None

    try:
        pool = Sized(solving, jobs)
    except OSError as err:
        raise InputError(f"cannot start worker processes: {err.strerror or err}") from None
    finished = False
    try:
        while True:
            while order and order[0].result is not None:
                run = order.popleft()
                in_flight -= run.size
                assert run.result is not None
                yield run.result
            for worker in list(pool.workers):
                while (
                    not worker.dead
                    and len(worker.runs) < IN_FLIGHT
                    and (retry or in_flight < IN_FLIGHT_BYTES or not order)
                ):
                    if not retry:  # the records solved so far go out before a read that may wait
                        bury(pool.wait(0.0))
                        if worker.dead or (order and order[0].result is not None):
                            break
                    taken = retry.popleft() if retry else take()
                    if taken is None:
                        break
                    pool.send(worker, taken)
            if not order:
                break
            if order[0].result is None:
                bury(pool.wait())
        if unreadable is not None:
            raise unreadable
        finished = True
    finally:
        pool.close(kill=not finished)


def _died(worker: _Worker, order: deque[_Run], retry: deque[_Run], options: Options) -> None:
    """A worker died: the run it was solving (the first of its runs not back: a worker
    takes them in order) is tried again, then in halves, and one line that killed a worker
    twice becomes an error record; the runs queued behind it are sent again as they were."""
    if not worker.runs:
        return
    suspect, *innocent = worker.runs
    worker.runs.clear()
    again: list[_Run] = []
    name, first, raw = suspect.task
    if not suspect.tries:
        suspect.tries = 1
        again.append(suspect)
    elif len(raw) == 1:
        suspect.result = _lost(suspect.task, options)
    else:  # (the halves' sizes are counted as the whole's, in flight)
        half = len(raw) // 2
        head, tail = (name, first, raw[:half]), (name, first + half, raw[half:])
        again += [_Run(head, 0, 1), _Run(tail, suspect.size, 1)]
        at = order.index(suspect)
        order.remove(suspect)
        for offset, run in enumerate(again):
            order.insert(at + offset, run)
    merged = sorted([*again, *innocent, *retry], key=order.index)
    retry.clear()
    retry.extend(merged)


def _lost(task: Task, options: Options) -> Output:
    """Error records for the problems of a run whose worker died on it."""
    from bpcli.batch.solve import Solver

    solver = Solver(options)
    texts, failed = [], []
    message = (
        "the worker process solving this problem died (killed by a signal, or by the"
        " system for want of memory)"
    )
    for line in read_lines([(task[0], task[2])], task[1]):
        texts.append(solver._line_error(line, message))
        failed.append((line[0], line[1], EXIT_FAILED))
    return _encoded("".join(texts)), failed, len(texts)
