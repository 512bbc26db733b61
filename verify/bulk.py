"""Bulk verification: thousands of documents, streaming, isolated, on one machine or a cluster.

:func:`verify_many` yields one :class:`~verify.DocumentReport` per document as each
finishes. Memory does not grow with the number of documents: inputs are consumed lazily and
only a bounded number of chunks is in flight. It is safe to stop half-way (close the
generator; the workers are shut down).

- ``workers=1`` (and no executor): in this process, one event loop for the whole run.
- ``workers=N``: worker processes (:mod:`verify.workerpool`); each builds its
  :class:`~verify.Verifier` once and keeps its caches warm (share a SQLite
  :class:`~verify.cache.RevocationCache` between them). Where it is safe (Linux, no other
  thread in this process) the workers are forked from this process and start in
  milliseconds; otherwise they come from a fork server (or are spawned). A worker that
  dies or hangs is replaced; the chunk it was running is retried a document at a time, and
  the document that kills a worker again gets an INDETERMINATE report saying why.
- ``executor=``: any :class:`concurrent.futures.Executor`, e.g. a Dask ``distributed``
  client's ``get_executor()``; inputs must then be on a filesystem the workers share.

Workers share what they learn. The fast path (:mod:`verify.fastpath`) answers a document
from a *template* made by the full validation of the first document of its shape. Worker
processes on this machine share templates through a board (:mod:`verify.board`): a
worker that meets a new shape claims it, validates it in full and posts the template; a
worker that meets a shape another has claimed sets the document aside until the end of
its chunk, when the template is usually there (else it hands the document back, and it
comes again with a later chunk). Executors' workers, which may be on other machines,
send the templates they make back with their reports, and this process passes them on to
the others with their next chunks; at the start of such a run this process also looks at
the documents, a few at a time while a worker is idle (parsed, never validated: see
:class:`_Planner`), and sends the first document of each new shape to a worker alone,
holding back the others of that shape until its template is there. Either way each shape
is validated in full once per run, whatever the number of workers, and the first full
validations of different shapes run side by side.

Each document runs under the policy's ``document_time_limit`` (a timer in the worker) and,
in pool workers, under a memory limit (``memory_limit`` bytes of address space beyond what
the worker holds when it starts: a worker forked from a large process is not starved).
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import gc
import hashlib
import itertools
import os
import pickle
import shutil
import signal
import socket
import stat
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from verify import board as board_
from verify import fastpath, special, speedups, workerpool
from verify.report import DocumentReport, SubIndication
from verify.verifier import STREAM_ABOVE, Verifier, in_this_thread

__all__ = ["BulkItem", "verify_many"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class BulkItem:
    """One document to verify: a file, or content with its detached signature."""

    path: str
    detached: str | None = None
    orphan: bool = False  # a detached signature whose content was not found
    screened: bool = False
    """The caller already asked :func:`verify.special.screen` of this file (the ``verify``
    command does, before it hands files over): it is not asked again."""

    @classmethod
    def of(cls, source: Any) -> BulkItem:
        if isinstance(source, BulkItem):
            return source
        if isinstance(source, tuple):
            content, sig = source
            return cls(os.fspath(content), os.fspath(sig) if sig is not None else None)
        detached = getattr(source, "detached", None)
        orphan = bool(getattr(source, "orphan", False))
        path = getattr(source, "path", source)
        return cls(os.fspath(path), os.fspath(detached) if detached is not None else None, orphan)


class _DocumentTimeout(BaseException):
    """The time limit ran out. Not an :class:`Exception`: the ``except Exception`` that turns
    a parser's failure into a verdict must not turn this into one (FORMAT_FAILURE)."""


# -- worker side ----------------------------------------------------------------------------

_WORKER_VERIFIERS: dict[str, Verifier] = {}
_WORKER_LOOP: asyncio.AbstractEventLoop | None = None


_WORKER_OWN: Verifier | None = None
"""A pool worker's verifier, made once from the state its initializer received."""


_WORKER_BOARD: board_.Board | None = None
"""A pool worker's view of the run's template board (see :mod:`verify.board`)."""


def _worker_init(
    memory_limit: int | None, state: bytes | Verifier | None = None, board: str | None = None
) -> None:
    """Runs once in each pool worker: a memory ceiling, quiet third-party loggers, the
    verifier (sent once per worker, not with every chunk; a forked worker gets the parent's
    own, with its templates and caches warm) and the run's template board."""
    global _WORKER_OWN, _WORKER_LOOP, _WORKER_BOARD
    import logging

    # A forked worker starts with copies of the parent's objects: never its event loop
    # (whose epoll descriptor the parent still uses) or its verifiers.
    _WORKER_LOOP = None
    _WORKER_VERIFIERS.clear()
    asyncio.events._set_running_loop(None)

    for name in ("pyhanko", "pyhanko_certvalidator", "fontTools", "weasyprint"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    _lower_address_space(memory_limit)
    if isinstance(state, Verifier):
        state.after_fork()
        _WORKER_OWN = state
    elif state is not None:
        _WORKER_OWN = pickle.loads(state)  # noqa: S301 - our own pickled Verifier, from the parent
    _WORKER_BOARD = board_.Board(board) if board is not None else None


def _address_space() -> int:
    """This process's virtual size in bytes (0 where the system does not say)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _verifier_for(state: bytes) -> Verifier:
    key = hashlib.sha256(state).hexdigest()
    verifier = _WORKER_VERIFIERS.get(key)
    if verifier is None:
        verifier = pickle.loads(state)  # noqa: S301 - our own pickled Verifier, from the parent
        _WORKER_VERIFIERS.clear()
        _WORKER_VERIFIERS[key] = verifier
    return verifier


def _loop() -> asyncio.AbstractEventLoop:
    global _WORKER_LOOP
    if _WORKER_LOOP is None or _WORKER_LOOP.is_closed():
        _WORKER_LOOP = asyncio.new_event_loop()
        _WORKER_LOOP.set_exception_handler(_loop_exception)
    return _WORKER_LOOP


def _loop_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """asyncio's handler, except for a Ctrl-C or exit that hit a task mid-fetch: that one
    already stopped the loop and reached whoever ran it (the command line says "interrupted"
    in one line); the abandoned task must not print a traceback when it is collected."""
    if isinstance(context.get("exception"), KeyboardInterrupt | SystemExit):
        return
    loop.default_exception_handler(context)


def _limit_report(
    verifier: Verifier, item: BulkItem, sub: SubIndication, reason_vi: str, reason_en: str
) -> DocumentReport:
    report = special.limit_report(
        Path(item.path),
        sub,
        reason_vi,
        reason_en,
        verifier.policy.moment(),
        fmt="cms" if item.detached or item.orphan else "unknown",
    )
    if item.detached is not None:
        report = replace(report, detached_signature=item.detached)
    return report


def verify_one(
    verifier: Verifier,
    item: BulkItem,
    time_limit: float | None,
    evidence_out: str | None = None,
) -> DocumentReport:
    """Verify one item in this thread with a time limit; never raises.

    With ``evidence_out``, what the verdict rested on is stored there (see
    :mod:`verify.evidence`) under the document's SHA-256.
    """
    try:
        return _verify_one(verifier, item, time_limit, evidence_out)
    finally:
        _collect_now_and_then()


GC_EVERY = 1000
"""Documents between two full garbage collections in a process that verifies many."""

_SINCE_GC = 0


def _collect_now_and_then() -> None:
    """A full collection every :data:`GC_EVERY` documents.

    pyHanko's parsed objects form reference cycles (objects point back to their reader,
    which holds the document). Some survive long enough to reach the oldest generation,
    which Python collects only once it has grown by a quarter: over a long run they pile
    up, about 5 MB per thousand documents. Once per thousand documents keeps memory flat;
    with the objects alive before the run frozen (:func:`_frozen`), it walks only the
    run's own and costs about 1 ms (40 ms without).
    """
    global _SINCE_GC
    _SINCE_GC += 1
    if _SINCE_GC >= GC_EVERY:
        _SINCE_GC = 0
        gc.collect()


_FROZEN_LOCK = threading.Lock()
_FROZEN_DEPTH = 0
_HOST_FROZE = False


@contextlib.contextmanager
def _frozen() -> Iterator[None]:
    """Every object alive now left out of garbage collection until the outermost
    ``_frozen`` ends (:func:`gc.freeze`).

    A bulk run holds its libraries, its verifier and the caller's own objects, about
    85,000 of them: a full collection walks them all, 20-40 ms, although none of them
    becomes garbage because of the run. Frozen, they are not walked, and the collection
    of :func:`_collect_now_and_then` costs about 1 ms. A forked pool worker starts with
    them frozen too: its collector never writes to, and so never copies, the memory pages
    it shares with this process. Nested and concurrent runs share one freeze; the last to
    end lifts it (:func:`gc.unfreeze`), so objects of the caller's that became cyclic
    garbage during the run are collected after it. A program that froze objects itself
    (a pre-forking server) keeps them frozen: then the run's stay frozen too.
    """
    global _FROZEN_DEPTH, _HOST_FROZE
    with _FROZEN_LOCK:
        if _FROZEN_DEPTH == 0:
            _HOST_FROZE = gc.get_freeze_count() > 0
        _FROZEN_DEPTH += 1
        gc.freeze()
    try:
        yield
    finally:
        with _FROZEN_LOCK:
            _FROZEN_DEPTH -= 1
            if _FROZEN_DEPTH == 0 and not _HOST_FROZE:
                gc.unfreeze()


def _verify_one(
    verifier: Verifier,
    item: BulkItem,
    time_limit: float | None,
    evidence_out: str | None,
) -> DocumentReport:
    ready = _before(verifier, item)
    if isinstance(ready, DocumentReport):
        return ready
    return _verify_timed(verifier, item, time_limit, evidence_out, ready)


def _before(verifier: Verifier, item: BulkItem) -> DocumentReport | bytes | None:
    """What comes before ``item``'s signatures are checked: its report, when that needs no
    check (an orphan signature, a file that is not a signed format, an unreadable one);
    else its bytes, when read whole here (a PDF or XML file), or None (the verifier reads
    it: content with a detached signature, a file too large to read whole). Never raises."""
    path = Path(item.path)
    try:
        if item.orphan:
            return special.orphan_report(path, verifier.policy.moment())
        if item.detached is None:
            # a PDF or XML read whole by the verifier: read once here and handed over
            data = special.read_whole(
                path,
                up_to=min(verifier.policy.max_file_size, STREAM_ABOVE),
                screened=item.screened,
            )
            if data is not None:
                return data
        if item.screened:
            return None
        # what needs no signature check (not a signed format, unreadable, special files)
        return special.screen(
            path,
            verifier.policy.moment(),
            max_size=verifier.policy.max_file_size,
            detached=Path(item.detached) if item.detached else None,
        )
    except Exception as exc:  # noqa: BLE001 - one bad document never stops a run
        return special.crash_report(path, exc, verifier.policy.moment())


async def _check(
    verifier: Verifier, item: BulkItem, evidence_out: str | None, data: bytes | None = None
) -> DocumentReport:
    """``item`` verified; ``data``: its bytes, already read (:func:`special.read_whole`)."""
    # In this thread: the SIGALRM time limit (_alarm) must be able to stop the validation.
    source = item.path if data is None else data
    with in_this_thread():
        if evidence_out is None:
            report = await verifier.averify(source, detached=item.detached, name=item.path)
        else:
            report, evidence = await verifier.averify_with_evidence(
                source, detached=item.detached, name=item.path
            )
    if item.detached is not None and report.detached_signature is None:
        report = replace(report, detached_signature=item.detached)
    if evidence_out is not None and report.sha256 is not None:
        try:
            # a detached signature's own folder under its content's, which others may share
            signature = (
                hashlib.sha256(Path(item.detached).read_bytes()).hexdigest()
                if item.detached is not None
                else None
            )
            evidence.write(
                Path(evidence_out), report.sha256, report.to_json(), signature_sha256=signature
            )
        except OSError as exc:
            report = replace(
                report,
                warnings=(
                    *report.warnings,
                    f"The evidence could not be written to {evidence_out}: {special.one_line(exc)}",
                ),
            )
    return report


def _verify_timed(
    verifier: Verifier,
    item: BulkItem,
    time_limit: float | None,
    evidence_out: str | None,
    data: bytes | None = None,
) -> DocumentReport:
    loop = _loop()
    coro = _check(verifier, item, evidence_out, data)
    use_alarm = _can_alarm() and time_limit is not None and time_limit > 0
    try:
        with _alarm(time_limit if use_alarm else None):
            if time_limit and not use_alarm:
                return loop.run_until_complete(asyncio.wait_for(coro, time_limit))
            return loop.run_until_complete(coro)
    except (_DocumentTimeout, TimeoutError, MemoryError) as exc:
        _abandon(coro)
        return _stopped(verifier, item, exc, time_limit)
    except Exception as exc:  # noqa: BLE001 - one bad document never stops a run
        return special.crash_report(Path(item.path), exc, verifier.policy.moment())


def _abandon(coro: Any) -> None:
    """Drop the event loop a check was stopped on, and the check (``coro``, perhaps not
    started: no "never awaited" warning)."""
    _reset_loop()
    with contextlib.suppress(Exception):
        coro.close()


def _stopped(
    verifier: Verifier, item: BulkItem, exc: BaseException, time_limit: float | None
) -> DocumentReport:
    """``item``'s report when its check was stopped by its time limit or, ``exc`` a
    :class:`MemoryError`, for want of memory."""
    if isinstance(exc, MemoryError):
        return _limit_report(
            verifier,
            item,
            SubIndication.GENERIC,
            "tài liệu cần quá nhiều bộ nhớ",
            "the document needed more memory than allowed",
        )
    return _limit_report(
        verifier,
        item,
        SubIndication.TIME_LIMIT_EXCEEDED,
        f"quá {time_limit:g} giây",
        f"more than {time_limit:g} s",
    )


def _can_alarm() -> bool:
    """Whether :func:`_alarm` can interrupt this thread (POSIX, the main thread only)."""
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGALRM")


_ARMED = False
"""Whether a document's clock (:func:`_alarm`) is running. A SIGALRM delivered just before
the clock was stopped is handled after it (at Python's next instruction): then it is
ignored, not charged to whatever runs next."""


def _on_alarm(_signum: int, _frame: Any) -> None:
    if _ARMED:
        raise _DocumentTimeout


@contextlib.contextmanager
def _alarm(seconds: float | None) -> Iterator[None]:
    """Raise :class:`_DocumentTimeout` in this (main) thread after ``seconds``; None: never.
    Within :func:`_alarm_handler` only the timer is set (its handler is in place)."""
    if seconds is None:
        yield
        return
    global _ARMED
    with _alarm_handler(True):
        _ARMED = True
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            _ARMED = False
            signal.setitimer(signal.ITIMER_REAL, 0)


@contextlib.contextmanager
def _alarm_handler(needed: bool) -> Iterator[None]:
    """:func:`_on_alarm` handles SIGALRM while this lasts (``needed``: else nothing), so
    that each document's :func:`_alarm` only sets its timer: putting a handler in place
    and back costs more than the timer. It lasts one turn of :func:`_in_turn` (in which
    the run's own documents are checked and its next inputs taken), or one document's
    :func:`_alarm` outside a turn; the caller's handler is back before any report reaches
    the caller."""
    if not needed or signal.getsignal(signal.SIGALRM) is _on_alarm:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        yield
    finally:
        signal.signal(signal.SIGALRM, previous)


TURN = 16
"""Documents checked in one run of the event loop by :func:`_in_turn`."""

TURN_SECONDS = 0.05
"""A turn of :func:`_in_turn` takes no further document after this many seconds: its
reports are not held back long."""


@dataclass(frozen=True)
class _Back:
    """A document handed back unvalidated: the fast path held it (see
    :func:`verify.fastpath.holding`), no template of its shape being here yet."""

    key: Any


def _in_turn(
    verifier: Verifier,
    items: Iterable[tuple[BulkItem, bool]],
    time_limit: float | None,
    evidence_out: str | None,
    after: Callable[[], None] | None = None,
) -> Iterator[DocumentReport | _Back]:
    """:func:`verify_one` of each item, in order, several in one run of the event loop;
    for an item paired with True, its :class:`_Back` instead of a report if the fast path
    holds it. One result per item, in the items' order; ``after()`` after each.

    Starting and stopping the loop for each document costs about as much as reading it
    when the fast path answers it (tens of microseconds): here a run of the loop checks up
    to :data:`TURN` documents, or as many as :data:`TURN_SECONDS` allows, each under its
    own time limit. A document whose time runs out, or that needs more memory than the
    process may take, ends its turn (the loop is abandoned, as :func:`_verify_timed` does
    for one); the next turn goes on with the next document. Where there is no alarm (not
    the main thread) and a time limit, each document goes through :func:`verify_one`. The
    reports of a turn cut short by anything else (an interrupt, an input that cannot be
    read as a document) come out before it goes on."""
    use_alarm = _can_alarm() and time_limit is not None and time_limit > 0
    if time_limit and not use_alarm:
        for item, hold in items:
            result: DocumentReport | _Back
            try:
                with fastpath.holding() if hold else contextlib.nullcontext():
                    result = verify_one(verifier, item, time_limit, evidence_out)
            except fastpath.Held as back:  # raised before anything was started on the loop
                result = _Back(back.key)
            if after is not None:
                after()
            yield result
        return
    pending = iter(items)
    more = True
    while more:
        done: list[DocumentReport | _Back] = []
        current: list[tuple[BulkItem, int]] = []
        coro = _turn(
            verifier,
            pending,
            time_limit if use_alarm else None,
            evidence_out,
            (done, current),
            after,
        )
        try:
            with _alarm_handler(use_alarm):
                more = _loop().run_until_complete(coro)
        except (_DocumentTimeout, MemoryError) as exc:
            _abandon(coro)
            for item, index in current:
                if len(done) == index:  # (its report is not in yet)
                    done.append(_stopped(verifier, item, exc, time_limit))
                    if after is not None:
                        after()
        except BaseException:
            yield from done
            raise
        yield from done


async def _turn(
    verifier: Verifier,
    pending: Iterator[tuple[BulkItem, bool]],
    time_limit: float | None,
    evidence_out: str | None,
    out: tuple[list[DocumentReport | _Back], list[tuple[BulkItem, int]]],
    after: Callable[[], None] | None,
) -> bool:
    """One turn of :func:`_in_turn`: documents from ``pending`` checked one after another,
    each result appended to ``out[0]``; ``out[1]`` holds the last document started, with
    the place its result takes in ``out[0]``. Whether ``pending`` may hold more."""
    done, current = out
    started = time.perf_counter()
    for item, hold in pending:
        current[:] = [(item, len(done))]
        read = _before(verifier, item)
        result: DocumentReport | _Back
        if isinstance(read, DocumentReport):
            result = read
        else:
            try:
                with _alarm(time_limit), fastpath.holding() if hold else contextlib.nullcontext():
                    result = await _check(verifier, item, evidence_out, read)
            except fastpath.Held as back:  # raised before anything was started on the loop
                result = _Back(back.key)
            except MemoryError:
                raise
            except Exception as exc:  # noqa: BLE001 - one bad document never stops a run
                result = special.crash_report(Path(item.path), exc, verifier.policy.moment())
        done.append(result)
        _collect_now_and_then()
        if after is not None:
            after()
        if len(done) >= TURN or time.perf_counter() - started >= TURN_SECONDS:
            return True
    return False


def _reset_loop() -> None:
    global _WORKER_LOOP
    if _WORKER_LOOP is not None:
        # a loop interrupted mid-task may refuse to close; it is dropped either way
        with contextlib.suppress(Exception):
            _WORKER_LOOP.close()
    _WORKER_LOOP = None


@dataclass(frozen=True)
class _Done:
    """What a worker sends back for a chunk: its reports, and the templates it made, for
    the parent to pass on to the other workers."""

    reports: list[DocumentReport]
    worker: tuple[str, int]
    seen: int
    """How far into the parent's list of shared templates this worker now is."""
    made: fastpath.Shared
    held: tuple[tuple[int, Any], ...] = ()
    """The documents handed back unvalidated: their positions in the chunk, with their
    template keys (no report for them here)."""


def _run_chunk(
    state: bytes | None,
    items: list[BulkItem],
    time_limit: float | None,
    evidence_out: str | None,
    shared: tuple[int, fastpath.Shared] = (0, []),
    holdable: tuple[int, ...] = (),
) -> _Done:
    """Verify a chunk in a worker. ``holdable``: the positions of the documents that are
    handed back unvalidated (:attr:`_Done.held`) if no template of their shape is here yet
    (see :func:`verify.fastpath.holding`); the parent then sends one of each shape alone."""
    if state is None:
        assert _WORKER_OWN is not None, "a pool worker is given its verifier at start"
        verifier = _WORKER_OWN
    else:
        verifier = _verifier_for(state)
    seen, templates = shared
    fastpath.adopt(verifier, templates)
    fastpath.record_made(verifier)
    board = _WORKER_BOARD if state is None else None
    reports: list[DocumentReport] = []
    held: list[tuple[int, Any]] = []
    later: list[int] = []
    publish = (lambda: board.publish(verifier)) if board is not None else None
    with fastpath.coordinated(board) if board is not None else contextlib.nullcontext():
        each = ((item, position in holdable) for position, item in enumerate(items))
        for position, got in enumerate(_in_turn(verifier, each, time_limit, evidence_out, publish)):
            if not isinstance(got, _Back):
                reports.append(got)
            elif board is not None:
                later.append(position)  # its shape is another worker's now: at the end
            else:
                held.append((position, got.key))
        # Documents whose shape another worker was validating: its template is likely on
        # the board by now; if not, they go back to the parent, which sends them again.
        again = ((items[position], True) for position in later)
        for position, got in zip(
            later, _in_turn(verifier, again, time_limit, evidence_out, publish), strict=True
        ):
            if isinstance(got, _Back):
                held.append((position, got.key))
            else:
                reports.append(got)
    return _Done(
        reports,
        (socket.gethostname(), os.getpid()),
        seen,
        [] if board is not None else fastpath.take_made(verifier),
        tuple(held),
    )


# -- parent side ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    verifier: Verifier
    state: bytes
    time_limit: float | None
    evidence_out: str | None

    def submit(
        self,
        executor: cf.Executor,
        chunk: list[BulkItem],
        shared: tuple[int, fastpath.Shared],
        *,
        with_state: bool = True,
        holdable: tuple[int, ...] = (),
    ) -> cf.Future[_Done]:
        state = self.state if with_state else None
        return executor.submit(
            _run_chunk, state, chunk, self.time_limit, self.evidence_out, shared, holdable
        )

    def failed(self, item: BulkItem, vi: str, en: str) -> DocumentReport:
        return _limit_report(self.verifier, item, SubIndication.GENERIC, vi, en)


def verify_many(
    sources: Iterable[Any],
    *,
    verifier: Verifier | None = None,
    workers: int = 1,
    executor: cf.Executor | None = None,
    chunk_size: int = 16,
    memory_limit: int | None = 2 * 1024**3,
    max_in_flight: int | None = None,
    evidence_out: str | os.PathLike[str] | None = None,
) -> Iterator[DocumentReport]:
    """Verify every source; yield one report per document as each finishes.

    ``sources``: paths, ``(content, signature)`` pairs, :class:`BulkItem` or
    :class:`verify.discover.Item` objects; consumed lazily. With ``evidence_out`` (a folder
    every worker can write), what each verdict rested on is kept there (see
    :mod:`verify.evidence`). Reports come in the order documents finish, which with
    ``workers > 1`` or an executor is not the input order.
    """
    speedups.install()  # bulk work: the proven speed-ups of pyHanko and asn1crypto
    verifier = verifier or Verifier()
    time_limit = verifier.policy.document_time_limit
    evidence = os.fspath(evidence_out) if evidence_out is not None else None
    items = (BulkItem.of(s) for s in sources)
    with _frozen():
        if executor is None and workers <= 1:
            for got in _in_turn(verifier, ((item, False) for item in items), time_limit, evidence):
                assert isinstance(got, DocumentReport)  # nothing is held back here
                yield got
            return
        job = _Job(verifier, pickle.dumps(verifier), time_limit, evidence)
        in_flight = max_in_flight or max(2, (workers if executor is None else 4) * 2)
        if executor is not None:
            yield from _run_on(executor, job, items, chunk_size, in_flight, memory_limit)
            return
        yield from _run_pool(job, items, workers, chunk_size, in_flight, memory_limit)


class _Relay:
    """Templates that one worker made, passed on to the others with their next chunks.

    The parent keeps a list of every template a worker sent back, and how far into it each
    worker is. A chunk carries the part of the list that some worker may not have yet;
    once every worker has it, it is dropped. The parent keeps the templates too: workers
    forked again later start with them, and :class:`_Planner` knows which shapes are done.
    """

    def __init__(self, verifier: Verifier, workers: int) -> None:
        self.verifier = verifier
        self.workers = workers
        self.log: fastpath.Shared = []
        self.offset = 0  # the number of log[0] in the whole sequence
        self.marks: dict[tuple[str, int], int] = {}

    @property
    def end(self) -> int:
        return self.offset + len(self.log)

    def outgoing(self) -> tuple[int, fastpath.Shared]:
        """What the next chunk carries: where it ends, and the templates."""
        start = self.offset
        if len(self.marks) >= self.workers:
            start = max(start, min(self.marks.values()))
        return self.end, self.log[start - self.offset :]

    def received(self, done: _Done) -> list[Any]:
        """Take a chunk's answer; returns the keys of the templates it brought."""
        self.marks[done.worker] = max(self.marks.get(done.worker, 0), done.seen)
        if done.made:
            fastpath.adopt(self.verifier, done.made)
            self.log.extend(done.made)
        drop = len(self.log) - fastpath.MAX_TEMPLATES
        if len(self.marks) >= self.workers:
            drop = max(drop, min(self.marks.values()) - self.offset)
        if drop > 0:
            del self.log[:drop]
            self.offset += drop
        return [key for key, _template in done.made]

    def forked(self) -> None:
        """New workers were forked from this process: they have every template it has."""
        self.offset, self.log = self.end, []
        self.marks.clear()


SCOUT_SETTLED = 8
"""Scouting ends after this many documents in a row brought no new shape."""

SCOUT_LIMIT = 256
"""Scouting ends after this many documents in any case."""

SCOUT_STEP = 4
"""Documents looked at in one call of :meth:`_Planner.next` (about 1 ms each): between
two calls, this process takes the chunks that came back, whose pioneers' templates end
the look sooner."""

SCOUT_TIME_LIMIT = 2.0
"""Seconds the parent may spend looking at one document (it takes about 2 ms); a document
that takes longer ends the look, and goes to a worker with the rest."""

SCOUT_MAX_BYTES = 8 * 1024 * 1024
"""Files larger than this are not looked at in the parent process: they go to a worker
like any other."""

GROW = 4
"""Chunks grow up to this many times ``chunk_size`` while many documents are in hand (see
:meth:`_Planner._size`)."""


class _Planner:
    """Which documents go to the workers next, and in what chunks.

    At the start of a run the parent looks at the documents first (cheaply: their shape
    hint, see :func:`verify.fastpath.shape_hint`) until
    :data:`SCOUT_SETTLED` in a row bring no new shape. The first document of each new shape
    goes to a worker alone, at once ("pioneer"), so that the first full validations of
    different shapes run on every core at the same time; the other documents of that shape
    wait until its pioneer is back with the template to share (or without one). A
    document a worker hands back (:meth:`hand_back`: a shape the look did not see) becomes
    a pioneer, or waits for its shape's, the same way. So no two workers validate the
    same shape in full at the same time, and none waits for another needlessly.
    Everything else goes in chunks of ``chunk_size``.
    """

    def __init__(
        self,
        verifier: Verifier,
        items: Iterator[BulkItem],
        chunk_size: int,
        memory_limit: int | None,
        spread: int = 1,
        *,
        board: bool = False,
    ) -> None:
        self.verifier = verifier
        self.items = items
        self.chunk_size = chunk_size
        self.memory_limit = memory_limit
        self.spread = max(1, spread)
        """The workers pioneers are spread over (see :meth:`next`)."""
        self.board = board
        """The workers share templates through a board (:mod:`verify.board`): nothing is
        looked at first, and a document handed back goes out again with the next chunk."""
        # Looking is time-boxed, so only where that works.
        self.scouting = _can_alarm() and not board
        self.scouted = 0
        self.streak = 0
        self.exhausted = False
        self.ready: deque[BulkItem] = deque()
        self.pioneers: deque[tuple[Any, BulkItem]] = deque()
        self.waiting: dict[Any, list[BulkItem]] = {}
        self.settled: set[Any] = set()
        self.final: set[int] = set()
        """Documents (by identity) handed back once (see :meth:`hand_back`): never held
        again."""
        self.fruitless: set[Any] = set()
        """Keys whose pioneer came back without a template."""

    @property
    def looking(self) -> bool:
        """Whether there are documents still to look at: :meth:`next` looks at no more
        than :data:`SCOUT_STEP` a call, and may then return None although it will have
        something to send after the next look."""
        return self.scouting and not self.exhausted

    def next(self, *, look: bool = True) -> tuple[list[BulkItem], tuple[Any, ...]] | None:
        """The next chunk and, for pioneers, their shapes' keys (none for other chunks);
        None: nothing to send now (while :attr:`looking`, call again after taking what
        came back). ``look=False``: only what is ready, without looking at another
        document.

        Pioneers go alone while there are few of them, so that the first full validations
        of different shapes run side by side; when many wait (a run in which most
        documents are of a shape of their own: every citizen signs with a certificate of
        their own), several go in one chunk, enough for each worker to get some."""
        looked = 0 if look else SCOUT_STEP
        while True:
            if self.pioneers:
                n = max(1, min(self.chunk_size, len(self.pioneers) // (2 * self.spread)))
                batch = [self.pioneers.popleft() for _ in range(n)]
                return [item for _key, item in batch], tuple(key for key, _item in batch)
            if not self.scouting and not self.exhausted:
                self._read_ahead()
            if len(self.ready) >= self.chunk_size or (self.ready and not self.scouting):
                n = min(self._size(), len(self.ready))
                return [self.ready.popleft() for _ in range(n)], ()
            if self.exhausted:
                return None
            if looked >= SCOUT_STEP:  # (still looking: else what was read went above)
                return None
            self._scout_one()
            looked += 1

    def _read_ahead(self) -> None:
        """Documents taken from the input (not read or looked at) until
        :data:`GROW` x ``workers`` chunks of the largest size are in hand."""
        want = 2 * self.spread * GROW * self.chunk_size - len(self.ready)
        if want > 0:
            taken = list(itertools.islice(self.items, want))
            self.ready.extend(taken)
            if len(taken) < want:
                self.exhausted = True

    def _size(self) -> int:
        """How many documents go in the next chunk: ``chunk_size`` while looking, and
        whenever few are in hand; up to :data:`GROW` x ``chunk_size`` while many are (a
        worker's every chunk costs this process and the worker the same whatever its
        size), so that the last chunks of a run, which come when few are left, are small
        and the workers finish together."""
        if self.scouting:
            return self.chunk_size
        return max(
            self.chunk_size, min(GROW * self.chunk_size, len(self.ready) // (2 * self.spread))
        )

    def _scout_one(self) -> None:
        try:
            item = next(self.items)
        except StopIteration:
            self.exhausted = True
            self._stop_scouting()
            return
        self.scouted += 1
        key = self._key(item)
        if key is None or key in self.settled:
            self.ready.append(item)
            self.streak += 1
        elif key in self.waiting:
            self.waiting[key].append(item)
            self.streak = 0
        else:
            self.waiting[key] = []
            self.pioneers.append((key, item))
            self.streak = 0
        if self.streak >= SCOUT_SETTLED or self.scouted >= SCOUT_LIMIT:
            self._stop_scouting()

    def _stop_scouting(self) -> None:
        self.scouting = False
        self.settled.clear()  # only scouting asks

    def _key(self, item: BulkItem) -> Any:
        if item.orphan:
            return None
        try:
            with _address_space_limit(self.memory_limit), _alarm(SCOUT_TIME_LIMIT):
                data = _read_small(item.path)
                signature = _read_small(item.detached) if item.detached is not None else None
                if data is None or (item.detached is not None and signature is None):
                    return None
                return fastpath.shape_hint(self.verifier, data, signature)
        except _DocumentTimeout:
            self._stop_scouting()  # a document built to be slow: workers, with their limits
            return None

    def back(self, keys: tuple[Any, ...], made: list[Any]) -> None:
        """A chunk came back (``keys``: its pioneers', if it had any) with these templates."""
        if self.scouting:
            self.settled.update(made)
            self.settled.update(keys)
        for key in keys:
            self.ready.extend(self.waiting.pop(key, ()))
            if key not in made:
                if len(self.fruitless) >= fastpath.MAX_TEMPLATES:
                    self.fruitless.clear()
                self.fruitless.add(key)

    def holdable(self, chunk: list[BulkItem], keys: tuple[Any, ...]) -> tuple[int, ...]:
        """The positions in this chunk of the documents a worker may hand back (see
        :func:`_run_chunk`): none in a chunk of pioneers, none handed back before."""
        positions = []
        for position, item in enumerate(chunk):
            if id(item) in self.final:
                self.final.discard(id(item))
            elif not keys and not item.orphan:
                positions.append(position)
        return tuple(positions)

    def hand_back(self, item: BulkItem, key: Any) -> None:
        """A worker handed this document back: no template of its shape (``key``) was
        there. If this process has one now, or the first of its shape came back without
        one, it goes out again; if the first of its shape is out, it waits for it; else it
        is the first, a pioneer. Either way it is validated next time, held or not."""
        self.final.add(id(item))
        if self.board or key in self.fruitless or fastpath.knows(self.verifier, key):
            self.ready.append(item)
        elif key in self.waiting:
            self.waiting[key].append(item)
        else:
            self.waiting[key] = []
            self.pioneers.append((key, item))

    def requeue(
        self, chunk: list[BulkItem], keys: tuple[Any, ...], holdable: tuple[int, ...]
    ) -> None:
        """A chunk that never started (its worker died before it) goes out again as it
        was: pioneers as pioneers, the others first in line, and a document that was not
        to be handed back still not."""
        if keys:
            self.pioneers.extendleft(reversed(list(zip(keys, chunk, strict=True))))
            return
        for position, item in enumerate(chunk):
            if position not in holdable and not item.orphan:
                self.final.add(id(item))
        self.ready.extendleft(reversed(chunk))

    def finished(self, *, looking: bool) -> bool:
        """Nothing is in flight: whether the run is over. Not while there is more to look
        at; a document still waiting for its pioneer (which never happens: the pioneer is
        in flight) is let go."""
        if looking:
            return False
        if not self.waiting:
            return True
        self.release()
        return False

    def release(self) -> None:
        """Let every waiting document go (the pioneers it waited for are lost)."""
        self.ready.extend(item for _key, item in self.pioneers)
        for held in self.waiting.values():
            self.ready.extend(held)
        if self.scouting:
            self.settled.update(self.waiting)  # every pioneer's key is there
        self.pioneers.clear()
        self.waiting.clear()


def _run_on(
    executor: cf.Executor,
    job: _Job,
    items: Iterator[BulkItem],
    chunk_size: int,
    in_flight: int,
    memory_limit: int | None,
) -> Iterator[DocumentReport]:
    relay = _Relay(job.verifier, workers=1)
    planner = _Planner(job.verifier, items, chunk_size, memory_limit, spread=in_flight // 2)
    pending: dict[cf.Future[_Done], tuple[list[BulkItem], tuple[Any, ...]]] = {}
    while True:
        looking = False  # the planner has more to look at before it can send anything
        while len(pending) < in_flight:
            planned = planner.next()
            if planned is None:
                looking = planner.looking
                break
            chunk, keys = planned
            holdable = planner.holdable(chunk, keys)
            future = job.submit(executor, chunk, relay.outgoing(), holdable=holdable)
            pending[future] = (chunk, keys)
        if not pending:
            if planner.finished(looking=looking):
                return
            continue
        done, _ = cf.wait(pending, timeout=0 if looking else None, return_when=cf.FIRST_COMPLETED)
        for future in done:
            chunk, keys = pending.pop(future)
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - the worker's failure is each item's report
                planner.back(keys, [])
                for item in chunk:
                    yield job.failed(
                        item,
                        f"máy trạm kiểm tra gặp lỗi ({type(exc).__name__})",
                        f"the worker failed ({type(exc).__name__}: {str(exc)[:120]})",
                    )
                continue
            planner.back(keys, relay.received(result))
            for position, held in result.held:
                planner.hand_back(chunk[position], held)
            yield from result.reports


HUNG_GRACE = 30.0
"""Seconds beyond the per-document time limit (60 s without one), for each document of the
chunk it is running, after which a worker is presumed hung, killed and replaced."""

_Sent = tuple[list[BulkItem], bool, tuple[Any, ...], tuple[int, ...]]
"""A chunk a worker holds: its documents, whether it is one document retried alone, its
pioneers' keys (see :meth:`_Planner.next`) and the positions it may hand back."""


def _run_pool(
    job: _Job,
    items: Iterator[BulkItem],
    workers: int,
    chunk_size: int,
    in_flight: int,
    memory_limit: int | None,
) -> Iterator[DocumentReport]:
    time_limit = job.time_limit
    relay = _Relay(job.verifier, workers)
    _quiesce()  # first: its threads would rule out forking
    ctx = _process_context()
    forked = ctx.get_start_method() == "fork"
    folder = tempfile.mkdtemp(prefix="hoso-run-")
    try:
        board = board_.Board.create(folder)
        # Fork the workers now, with this process's objects frozen (see _frozen). (No
        # collection first: it would take 40 ms while both cores wait, to spare a little
        # garbage.) A worker forked later, to replace one that died, starts with every
        # template this process has.
        with _frozen():
            pool = workerpool.Pool(
                ctx,
                workers,
                _worker_init,
                (memory_limit, job.verifier if forked else job.state, board),
                # Without a board a chunk carries templates, which may not fit in a
                # pipe's buffer: then each goes to an idle worker (see workerpool).
                depth=max(1, -(-in_flight // workers)) if board is not None else 1,
            )
        relay.forked()
        planner = _Planner(
            job.verifier, items, chunk_size, memory_limit, spread=workers, board=board is not None
        )
        # Documents from a chunk whose worker died while running it are retried alone, so that
        # a second death points at exactly one document.
        retry: deque[BulkItem] = deque()
        sent: dict[int, _Sent] = {}
        budget = (time_limit or 60.0) + HUNG_GRACE  # a document's, before its worker is hung
        try:
            while True:
                looking = False  # the planner has more to look at before it can send anything
                while pool.room:
                    keys: tuple[Any, ...] = ()
                    if retry:
                        chunk, alone = [retry.popleft()], True
                    else:
                        # Look at more documents only while a worker is idle: not at the
                        # cost of the workers' cores.
                        look = pool.idle > 0
                        planned = planner.next(look=look)
                        if planned is None:
                            looking = look and planner.looking
                            break
                        (chunk, keys), alone = planned, False
                    holdable = () if alone else planner.holdable(chunk, keys)
                    ticket = pool.submit(
                        _run_chunk,
                        None,
                        chunk,
                        time_limit,
                        job.evidence_out,
                        relay.outgoing(),
                        holdable,
                    )
                    sent[ticket] = (chunk, alone, keys, holdable)
                if not sent:
                    if planner.finished(looking=looking):
                        return
                    continue
                events = pool.wait(0 if looking else 1.0)
                if not events:
                    pool.overdue(lambda ticket: budget * len(sent[ticket][0]))
                    continue
                for event in events:
                    if isinstance(event, workerpool.Lost):
                        yield from _lost(job, event, sent, planner, retry)
                        continue
                    chunk, alone, keys, _holdable = sent.pop(event.ticket)
                    if not event.ok:
                        planner.back(keys, [])
                        for item in chunk:
                            yield job.failed(
                                item,
                                f"máy trạm kiểm tra gặp lỗi ({type(event.value).__name__})",
                                f"the worker failed ({type(event.value).__name__}: "
                                f"{str(event.value)[:120]})",
                            )
                        continue
                    result: _Done = event.value
                    planner.back(keys, relay.received(result))
                    for position, held in result.held:
                        planner.hand_back(chunk[position], held)
                    yield from result.reports
        finally:
            pool.close(kill=bool(sent))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _lost(
    job: _Job,
    event: workerpool.Lost,
    sent: dict[int, _Sent],
    planner: _Planner,
    retry: deque[BulkItem],
) -> Iterator[DocumentReport]:
    """A worker died (out of memory, crashed, or killed as hung): the chunk it was running
    is retried a document at a time, and a document that was already alone gets a report
    saying so; the chunks queued behind it never started and go out again as they were."""
    if event.running is not None:
        chunk, alone, keys, _holdable = sent.pop(event.running)
        planner.back(keys, [])
        if alone:
            yield job.failed(
                chunk[0],
                "tiến trình kiểm tra tài liệu này bị dừng đột ngột "
                "(hết bộ nhớ, treo hoặc lỗi nghiêm trọng)",
                "the worker verifying this document died (out of memory, hung or crashed)",
            )
        else:
            retry.extend(chunk)
    for ticket in event.queued:
        chunk, alone, keys, holdable = sent.pop(ticket)
        if alone:
            retry.appendleft(chunk[0])
        else:
            planner.requeue(chunk, keys, holdable)


def _read_small(path: str) -> bytes | None:
    """A regular file's bytes, if it is no larger than :data:`SCOUT_MAX_BYTES`; else None.
    Never blocks: a FIFO or device (even one swapped in after a look) is not read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None  # the worker's report will say what is wrong with it
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode) or found.st_size > SCOUT_MAX_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(SCOUT_MAX_BYTES + 1)
        return data if len(data) <= SCOUT_MAX_BYTES else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _lower_address_space(memory_limit: int | None) -> tuple[int, int] | None:
    """Cap this process's address space at its present size plus ``memory_limit`` (POSIX;
    never raised). Returns the limits it replaced, or ``None`` if it changed nothing."""
    if not memory_limit:
        return None
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = _address_space() + memory_limit
        limit = want if hard == resource.RLIM_INFINITY else min(want, hard)
        if soft != resource.RLIM_INFINITY and limit >= soft:
            return None
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        return None
    return soft, hard


@contextlib.contextmanager
def _address_space_limit(memory_limit: int | None) -> Iterator[None]:
    """This process under the workers' memory ceiling for a while (POSIX), then as before."""
    previous = _lower_address_space(memory_limit)
    try:
        yield
    finally:
        if previous is not None:
            import resource

            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_AS, previous)


def _quiesce() -> None:
    """Stop the helper threads the in-process event loop started (its default executor runs
    blocking fetches), so that this process can fork safely again. The loop goes too: one
    whose executor is shut down cannot fetch any more (a later in-process run makes a new
    one)."""
    if _WORKER_LOOP is not None and not _WORKER_LOOP.is_closed():
        with contextlib.suppress(Exception):
            _WORKER_LOOP.run_until_complete(_WORKER_LOOP.shutdown_default_executor())
    _reset_loop()


def _process_context() -> Any:
    """How pool workers start: forked from this process when that is safe, else from a
    fork server that has imported the verifier once, else spawned.

    A forked worker is ready in milliseconds (the libraries are already imported); a
    spawned one imports pyHanko first, about 1.5 s, which a run of a thousand documents of
    a few milliseconds each does not win back. Forking is safe only while this process has
    no other thread (a thread holding a lock at the fork would leave it locked forever in
    the child): with threads running (a progress bar, a server), workers come from a fork
    server instead.
    """
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    # Linux only: on macOS, system libraries may not survive a fork (spawn is its default).
    if "fork" in methods and sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["verify.verifier", "verify.bulk"])
        return ctx
    return multiprocessing.get_context("spawn")
