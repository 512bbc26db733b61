"""Templates shared as they are made by the worker processes of a bulk run on one machine.

The board is a file the run creates in a private folder. Each worker appends records to it
(under an exclusive :func:`fcntl.flock`, one ``write`` per record) and reads what the
others appended since it last looked:

- ``claim``: this worker is validating a shape in full (its portable template key);
- ``template``: the template it made (see :mod:`verify.fastpath`);
- ``done``: it validated the shape in full and no template came of it.

A worker that meets a shape with no template here looks at the board first: a template
another worker made answers the document at once; a shape another worker has claimed is
held back (see :func:`verify.fastpath.holding`) while that worker is alive and at it;
else this worker claims it. So each shape is validated in full once per run, whatever the
number of workers, without the parent process in between and without waiting for a
chunk to come back: the first full validations of different shapes run side by side as
the workers meet them.

Only the run's own workers write the board (it is created with mode 0600 in a folder only
this user can enter), so its records are read with :mod:`pickle` like the chunks the
parent sends. Past :data:`LIMIT` bytes no more templates are written (claims and ``done``
still are): a run in which nearly every document is of a shape of its own gains little
from sharing, and the board stays bounded.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from verify import fastpath
from verify.workerpool import alive

__all__ = ["LIMIT", "Board"]

LIMIT = 64 * 1024 * 1024
"""Bytes of board past which no more templates are written."""

WAIT_LIMIT = 2.0
"""Seconds a worker waits, for a document it may not hand back, for the worker that
claimed its shape to finish (at most a quarter of the document time limit: the document
keeps the rest for its own validation, which the limit is for); then it validates the
document in full itself."""

_LENGTH = struct.Struct("<I")


class Board:
    """One worker's view of the board at ``path``."""

    def __init__(self, path: str) -> None:
        import fcntl

        self._flock = fcntl.flock
        self._exclusive, self._unlock = fcntl.LOCK_EX, fcntl.LOCK_UN
        self.fd = os.open(path, os.O_RDWR | os.O_APPEND)
        self.offset = 0
        self.me = os.getpid()
        self.claims: dict[Any, int] = {}
        self.finished: set[Any] = set()
        self.mine: set[Any] = set()
        self.broken = False
        """The board could not be read or written (a record cut short by a worker killed
        mid-write, a full disk): this worker shares nothing more and validates every new
        shape itself."""

    @staticmethod
    def create(folder: str | os.PathLike[str]) -> str | None:
        """A new, empty board in ``folder`` (a private one); its path. None where boards
        do not work (no :mod:`fcntl`): the workers then share templates through the parent."""
        try:
            import fcntl  # noqa: F401
        except ImportError:
            return None
        path = Path(folder) / "templates.board"
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        return str(path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._flock(self.fd, self._exclusive)
        try:
            yield
        finally:
            self._flock(self.fd, self._unlock)

    def _sync(self, owner: Any) -> None:
        """Take in every whole record appended since the last look."""
        size = os.fstat(self.fd).st_size
        if size <= self.offset:
            return
        data = os.pread(self.fd, size - self.offset, self.offset)
        at = 0
        shared: fastpath.Shared = []
        while at + _LENGTH.size <= len(data):
            (n,) = _LENGTH.unpack_from(data, at)
            if at + _LENGTH.size + n > len(data):
                break  # being written: the rest next time
            try:
                record = pickle.loads(data[at + _LENGTH.size : at + _LENGTH.size + n])  # noqa: S301 - the run's own
                kind, key = record[0], record[1]
            except Exception:  # noqa: BLE001 - a record cut short and written over
                self.broken = True
                break
            at += _LENGTH.size + n
            if kind == "claim":
                # the latest: a claim is written only where none stands or its holder died
                self.claims[key] = record[2]
            elif kind == "template":
                shared.append((key, record[2]))
                self.finished.add(key)
            else:
                self.finished.add(key)
        self.offset += at
        if shared:
            fastpath.adopt(owner, shared)

    def _append(self, *records: tuple[Any, ...]) -> None:
        for record in records:
            body = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
            os.write(self.fd, _LENGTH.pack(len(body)) + body)

    def missing(self, owner: Any, portable: tuple[Any, ...], *, wait: bool) -> bool:
        """See :meth:`verify.fastpath.Coordinator.missing`."""
        try:
            return self.broken or self._missing(owner, portable, wait=wait)
        except Exception:  # noqa: BLE001 - an unreadable board: validate, share nothing
            self.broken = True
            return True

    def _missing(self, owner: Any, portable: tuple[Any, ...], *, wait: bool) -> bool:
        limit = owner.policy.document_time_limit
        deadline = time.monotonic() + min(WAIT_LIMIT, limit / 4 if limit else WAIT_LIMIT)
        while True:
            with self._locked():
                self._sync(owner)
                if self.broken or portable in self.finished:
                    return True
                holder = self.claims.get(portable)
                if holder is None or holder == self.me or not alive(holder):
                    if holder != self.me:
                        self._append(("claim", portable, self.me))
                        self.claims[portable] = self.me
                    self.mine.add(portable)
                    return True
            if not wait or time.monotonic() > deadline:
                return False
            time.sleep(0.002)

    def publish(self, owner: Any) -> None:
        """After a document: the templates made, and the shapes claimed and done without
        one."""
        made = fastpath.take_made(owner)
        if (not made and not self.mine) or self.broken:
            self.mine.clear()
            return
        try:
            self._publish(made)
        except Exception:  # noqa: BLE001 - an unwritable board (a full disk): share nothing
            self.broken = True
        self.mine.clear()

    def _publish(self, made: fastpath.Shared) -> None:
        with self._locked():
            room = os.fstat(self.fd).st_size < LIMIT
            records: list[tuple[Any, ...]] = []
            for key, template in made:
                records.append(("template", key, template) if room else ("done", key))
                self.mine.discard(key)
            records.extend(("done", key) for key in self.mine)
            self._append(*records)
