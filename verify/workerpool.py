"""Worker processes for bulk runs, each on a pipe of its own, with no helper thread.

:class:`concurrent.futures.ProcessPoolExecutor` moves every task and result through a
manager thread and a feeder thread in the parent. While the parent's main thread works
(reading reports, planning chunks) those threads wait for the interpreter lock, so a
worker that finished a chunk waits for its next, and their work takes a core the workers
need: measured on 1,000 documents with 2 workers, the parent's threads spent as much CPU
as its main thread, and each worker waited 1-3 ms between chunks.

Here the parent writes a task straight to the pipe of the worker it chooses, and reads
results from every pipe with one :func:`multiprocessing.connection.wait`. Each worker holds
at most ``depth`` tasks: one running, the next already in its pipe. (The next is written
while the worker runs the one before. So that the parent never blocks on that write while
the worker blocks on writing its answer, a task's message must fit in the pipe's buffer;
with larger ones use ``depth=1``: then every task goes to a worker waiting for it.) The
parent knows which task each worker is running, so a worker that dies (or that the parent
kills as hung) points at one task; the tasks queued behind it never started and go out
again as they were. A dead worker is replaced at once; the others go on.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

__all__ = ["Lost", "Pool", "Result", "alive"]


def alive(pid: int) -> bool:
    """Whether process ``pid`` lives (a process of another user counts as alive: its
    number was reused, and it is not ours to judge)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


STOP_WAIT = 5.0
"""Seconds :meth:`Pool.close` waits for the workers to end before it kills them."""


@dataclass(frozen=True)
class Result:
    """A task's answer: ``ok`` with its return value, or not with the exception it raised
    (or a :class:`RuntimeError` saying why it could not be sent back)."""

    ticket: int
    ok: bool
    value: Any


@dataclass(frozen=True)
class Lost:
    """A worker died (or was killed). ``running``: the task it was running, if any;
    ``queued``: tasks it held that never started."""

    running: int | None
    queued: tuple[int, ...]
    exitcode: int | None


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Connection
    tasks: deque[int] = field(default_factory=deque)
    started: float = 0.0
    """When its first task (the one running) started, as far as the parent can tell: when
    it was sent, or when the task before it came back."""


def _serve(
    conn: Connection,
    initializer: Callable[..., None],
    initargs: tuple[Any, ...],
    inherited: tuple[int, ...] = (),
) -> None:
    """A worker's life: run each task that comes down the pipe, send back its result, and
    end when the parent says so or the pipe closes (the parent ended). ``inherited``: the
    parent's ends of every pipe, which a forked worker holds copies of; closed first, or
    the parent's death would never reach it as the end of its pipe."""
    for fd in inherited:
        with contextlib.suppress(OSError):
            os.close(fd)
    # Ctrl-C reaches every process in the terminal's group: the parent decides what
    # happens (it stops the workers), not each worker on its own mid-document.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    initializer(*initargs)
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if not message:
            return
        ticket, fn, args = pickle.loads(message)  # noqa: S301 - from our own parent
        try:
            out = Result(ticket, True, fn(*args))
        except BaseException as exc:  # noqa: BLE001 - the parent decides what it means
            out = Result(ticket, False, exc)
        try:
            data = pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - an answer that does not pickle
            data = pickle.dumps(
                Result(ticket, False, RuntimeError(f"the answer could not be sent back: {exc}"))
            )
        try:
            conn.send_bytes(data)
        except OSError:
            return


class Pool:
    """``size`` worker processes from ``context`` (a :mod:`multiprocessing` context),
    each running ``initializer(*initargs)`` once, then tasks: ``fn(*args)`` with ``fn`` a
    module-level function."""

    def __init__(
        self,
        context: Any,
        size: int,
        initializer: Callable[..., None],
        initargs: tuple[Any, ...],
        *,
        depth: int = 2,
    ) -> None:
        self.context = context
        self.initializer = initializer
        self.initargs = initargs
        self.depth = max(1, depth)
        self.workers: list[_Worker] = []
        self.lost: list[Lost] = []
        self._tickets = 0
        for _ in range(max(1, size)):
            self.workers.append(self._start())

    def _start(self) -> _Worker:
        mine, theirs = self.context.Pipe(duplex=True)
        inherited: list[int] = []
        if self.context.get_start_method() == "fork":
            for conn in (mine, *(w.conn for w in self.workers)):
                with contextlib.suppress(OSError):  # a dead worker's, closed already
                    inherited.append(conn.fileno())
        process = self.context.Process(
            target=_serve,
            args=(theirs, self.initializer, self.initargs, tuple(inherited)),
            daemon=True,
        )
        process.start()
        theirs.close()
        return _Worker(process, mine)

    @property
    def idle(self) -> int:
        """Workers with nothing to do."""
        return sum(not w.tasks for w in self.workers)

    @property
    def room(self) -> bool:
        """Whether some worker can take another task now."""
        return any(len(w.tasks) < self.depth for w in self.workers)

    def submit(self, fn: Callable[..., Any], *args: Any) -> int:
        """Send ``fn(*args)`` to the worker with the fewest tasks; returns its ticket."""
        worker = min(self.workers, key=lambda w: len(w.tasks))
        self._tickets += 1
        ticket = self._tickets
        data = pickle.dumps((ticket, fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        if not worker.tasks:
            worker.started = time.monotonic()
        worker.tasks.append(ticket)
        try:
            worker.conn.send_bytes(data)
        except OSError:
            self._bury(worker)  # it died: the task is reported lost with the others
        return ticket

    def wait(self, timeout: float | None) -> list[Result | Lost]:
        """What came back within ``timeout`` seconds (None: until something does)."""
        if self.lost:
            found: list[Result | Lost] = list(self.lost)
            self.lost.clear()
            return found
        conns = {w.conn: w for w in self.workers if w.tasks}
        sentinels = {w.process.sentinel: w for w in self.workers if w.tasks}
        if not conns:
            return []
        ready = wait([*conns, *sentinels], timeout)
        out: list[Result | Lost] = []
        for handle in ready:
            worker = conns.get(handle) or sentinels.get(handle)  # type: ignore[call-overload]
            if worker is None or worker not in self.workers:
                continue
            if handle is worker.conn:
                out.extend(self._read(worker))
            elif worker.tasks:  # its process ended with tasks in hand
                out.extend(self._read(worker))
                if worker in self.workers:
                    self._bury(worker)
        out.extend(self.lost)
        self.lost.clear()
        return out

    def _read(self, worker: _Worker) -> Iterator[Result]:
        """Every answer waiting in the worker's pipe (a dead worker's last ones too)."""
        while worker.tasks:
            try:
                if not worker.conn.poll():
                    return
                message = worker.conn.recv_bytes()
            except (EOFError, OSError):
                self._bury(worker)
                return
            result = pickle.loads(message)  # noqa: S301 - from our own worker
            if result.ticket in worker.tasks:  # (always the first: a worker runs them in turn)
                worker.tasks.remove(result.ticket)
                worker.started = time.monotonic()
            yield result

    def _bury(self, worker: _Worker) -> None:
        """The worker is gone (or goes now): what it held is lost; another takes its place."""
        with contextlib.suppress(Exception):
            worker.process.kill()
        with contextlib.suppress(Exception):
            worker.process.join(5)
        with contextlib.suppress(Exception):
            worker.conn.close()
        tasks = list(worker.tasks)
        worker.tasks.clear()
        self.lost.append(
            Lost(tasks[0] if tasks else None, tuple(tasks[1:]), worker.process.exitcode)
        )
        self.workers[self.workers.index(worker)] = self._start()

    def overdue(self, budget: Callable[[int], float]) -> None:
        """Kill each worker whose running task has taken longer than ``budget(ticket)``
        seconds: presumed hung. It comes back as :class:`Lost` from :meth:`wait`."""
        now = time.monotonic()
        for worker in list(self.workers):
            if worker.tasks and now - worker.started > budget(worker.tasks[0]):
                self._bury(worker)

    def close(self, *, kill: bool = False) -> None:
        """End every worker: at once with ``kill`` (tasks in hand are dropped), else once it
        has read the word to stop; one that has not ended within :data:`STOP_WAIT` seconds
        (stopped, hung) is killed."""
        for worker in self.workers:
            if kill and worker.tasks:
                with contextlib.suppress(Exception):
                    worker.process.kill()
            with contextlib.suppress(Exception):
                worker.conn.send_bytes(b"")  # the word to end its loop
            with contextlib.suppress(Exception):
                worker.conn.close()
        deadline = time.monotonic() + STOP_WAIT
        for worker in self.workers:
            with contextlib.suppress(Exception):
                worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                with contextlib.suppress(Exception):
                    worker.process.kill()
                    worker.process.join(5)
        self.workers = []
