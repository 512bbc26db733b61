"""Bulk worker processes (:mod:`verify.workerpool`) and the template board they share
(:mod:`verify.board`): deaths, hangs, the parent's end, claims."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.documents import minimal_pdf, sign_pdf
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.verify.test_fastpath import resign_pdf
from tests.verify.test_verifier import SIGNED_AT, demo_trust
from verify import DocumentReport, ValidationPolicy, Verifier, bulk
from verify.board import Board
from verify.bulk import verify_many
from verify.workerpool import Lost, Pool, Result

FORK = multiprocessing.get_context("fork")


def _nothing() -> None:
    """A worker initializer that does nothing."""


def _echo_or_die(value: int) -> int:
    """A task: its value back, or the worker's death for a negative one."""
    if value < 0:
        os._exit(3)
    return value


def _slow(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _drain(pool: Pool, want: int, limit: float = 30.0) -> list[Result | Lost]:
    got: list[Result | Lost] = []
    deadline = time.monotonic() + limit
    while sum(1 if isinstance(e, Result) else 1 + len(e.queued) for e in got) < want:
        assert time.monotonic() < deadline, got
        got.extend(pool.wait(1.0))
    return got


def test_a_worker_that_dies_names_the_task_it_ran_and_those_queued_behind_it() -> None:
    """One worker, three tasks: the second kills it. The first comes back; the second is
    the one running when it died; the third never started; a new worker takes its place
    and runs what is sent next."""
    pool = Pool(FORK, 1, _nothing, (), depth=3)
    try:
        first = pool.submit(_echo_or_die, 1)
        killer = pool.submit(_echo_or_die, -1)
        queued = pool.submit(_echo_or_die, 2)
        got = _drain(pool, 3)
        results = [e for e in got if isinstance(e, Result)]
        [lost] = [e for e in got if isinstance(e, Lost)]
        assert [(r.ticket, r.ok, r.value) for r in results] == [(first, True, 1)]
        assert lost.running == killer
        assert lost.queued == (queued,)
        assert lost.exitcode == 3
        again = pool.submit(_echo_or_die, 7)
        [answer] = _drain(pool, 1)
        assert isinstance(answer, Result)
        assert (answer.ticket, answer.value) == (again, 7)
    finally:
        pool.close(kill=True)


def test_an_exception_in_a_task_comes_back_as_its_answer_and_the_worker_lives_on() -> None:
    """A task that raises is answered with the exception (the worker is not lost)."""
    pool = Pool(FORK, 1, _nothing, ())
    try:
        bad = pool.submit(int, "not a number")
        [answer] = _drain(pool, 1)
        assert isinstance(answer, Result)
        assert answer.ticket == bad
        assert not answer.ok
        assert isinstance(answer.value, ValueError)
        pool.submit(_echo_or_die, 5)
        [answer] = _drain(pool, 1)
        assert isinstance(answer, Result)
        assert answer.value == 5
    finally:
        pool.close()


def test_with_depth_one_a_task_goes_only_to_a_worker_waiting_for_one() -> None:
    """``depth=1`` (for tasks too large for a pipe's buffer): no room once every worker
    has a task, room again as soon as one answers; a task larger than any pipe buffer
    comes back whole."""
    pool = Pool(FORK, 2, _nothing, (), depth=1)
    try:
        big = "x" * (4 * 1024 * 1024)
        first = pool.submit(len, big)
        assert pool.room
        second = pool.submit(len, big)
        assert not pool.room
        got = _drain(pool, 2)
        assert sorted((e.ticket, e.value) for e in got if isinstance(e, Result)) == [
            (first, len(big)),
            (second, len(big)),
        ]
        assert pool.room
        assert pool.idle == 2
    finally:
        pool.close()


def test_a_worker_over_its_budget_is_killed_as_hung_and_replaced() -> None:
    """``overdue`` kills the worker whose running task took longer than its budget; the
    task comes back lost, and the pool goes on with a new worker."""
    pool = Pool(FORK, 2, _nothing, ())
    try:
        hung = pool.submit(_slow, 30.0)
        quick = pool.submit(_echo_or_die, 4)
        [answer] = _drain(pool, 1)
        assert isinstance(answer, Result)
        assert answer.ticket == quick
        time.sleep(0.2)
        pool.overdue(lambda ticket: 0.1 if ticket == hung else 60.0)
        [lost] = _drain(pool, 1)
        assert isinstance(lost, Lost)
        assert lost.running == hung
        assert lost.queued == ()
        assert lost.exitcode == -signal.SIGKILL
        pool.submit(_echo_or_die, 9)
        [answer] = _drain(pool, 1)
        assert isinstance(answer, Result)
        assert answer.value == 9
    finally:
        pool.close(kill=True)


def test_closing_the_pool_kills_a_worker_that_does_not_end() -> None:
    """A worker stopped (SIGSTOP: it never reads the word to end) when the pool closes,
    with nothing in hand: closing does not wait for it forever, it kills it."""
    pool = Pool(FORK, 2, _nothing, ())
    stopped = pool.workers[0].process
    os.kill(stopped.pid or 0, signal.SIGSTOP)
    started = time.monotonic()
    pool.close()
    assert time.monotonic() - started < 30
    assert stopped.exitcode == -signal.SIGKILL


def test_workers_end_when_the_pool_closes_and_none_is_left_behind() -> None:
    """Closing the pool ends every worker, the ones forked to replace the dead included."""
    pool = Pool(FORK, 2, _nothing, ())
    pool.submit(_echo_or_die, -1)
    _drain(pool, 1)
    processes = [w.process for w in pool.workers]
    pool.close()
    assert all(not p.is_alive() for p in processes)
    assert all(p.exitcode == 0 for p in processes)


_ORPHANED = """
import sys, time
from verify.workerpool import Pool
import multiprocessing
from tests.verify.test_workerpool import _nothing, _slow
pool = Pool(multiprocessing.get_context("fork"), 2, _nothing, ())
print(" ".join(str(w.process.pid) for w in pool.workers), flush=True)
time.sleep(60)
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def test_workers_end_when_their_parent_is_killed() -> None:
    """A parent killed outright (SIGKILL: no clean-up runs) leaves no worker behind: each
    sees its pipe end and exits, because no worker holds a copy of another's parent end."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _ORPHANED],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2
    assert all(not _gone(p) for p in pids)
    proc.kill()
    proc.wait()
    proc.stdout.close()
    deadline = time.monotonic() + 10
    while not all(_gone(p) for p in pids):
        assert time.monotonic() < deadline, "a worker outlived its parent"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def kin(demo_pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Twenty documents of two shapes (two signers), each its own content."""
    root = tmp_path_factory.mktemp("kin")
    first = {
        label: sign_pdf(demo_pki, label, minimal_pdf(label, padding=2000), at=SIGNED_AT)
        for label in ("citizen", "citizen-ec")
    }
    paths = []
    for i in range(20):
        label = "citizen" if i % 2 else "citizen-ec"
        path = root / f"doc-{i:02d}.pdf"
        path.write_bytes(resign_pdf(demo_pki, label, first[label], i))
        paths.append(str(path))
    return paths


def _verifier(pki: DemoPKI, **policy: object) -> Verifier:
    return Verifier(demo_trust(pki), ValidationPolicy(validation_time=PINNED_NOW, **policy))  # type: ignore[arg-type]


def _verdicts(reports: list[DocumentReport]) -> dict[str, tuple[str, str | None]]:
    out = {}
    for r in reports:
        assert r.path is not None
        assert r.path not in out
        out[r.path] = (r.indication.value, r.sub_indication.value if r.sub_indication else None)
    return out


def test_workers_killed_mid_run_are_replaced_and_every_document_still_gets_its_report(
    demo_pki: DemoPKI, kin: list[str]
) -> None:
    """Both workers killed (as the out-of-memory killer would) after the first report: the
    chunks they held are run again, and every document gets the report one process gives
    it, once."""
    expected = _verdicts(list(verify_many(kin, verifier=_verifier(demo_pki))))
    run = verify_many(kin, verifier=_verifier(demo_pki), workers=2, chunk_size=2)
    reports = [next(run)]
    for child in multiprocessing.active_children():
        os.kill(child.pid or 0, signal.SIGKILL)
    reports.extend(run)
    assert _verdicts(reports) == expected


@given(
    kills=st.lists(
        st.tuples(st.integers(1, 19), st.integers(0, 1)), max_size=3, unique_by=lambda k: k[0]
    ),
    chunk_size=st.integers(1, 4),
)
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_workers_killed_at_any_moment_never_lose_or_repeat_a_report(
    demo_pki: DemoPKI, kin: list[str], kills: list[tuple[int, int]], chunk_size: int
) -> None:
    """Workers killed after any number of reports, any of them, any chunk size: every
    document gets exactly one report, the one one process gives it, or (a document its
    worker was running alone when killed) a report saying the worker died."""
    expected = _expected(demo_pki, kin)
    when = dict(kills)
    run = verify_many(kin, verifier=_verifier(demo_pki), workers=2, chunk_size=chunk_size)
    reports = []
    for report in run:
        reports.append(report)
        victim = when.get(len(reports))
        children = sorted(multiprocessing.active_children(), key=lambda c: c.pid or 0)
        if victim is not None and children:
            os.kill(children[victim % len(children)].pid or 0, signal.SIGKILL)
    got = _verdicts(reports)
    assert set(got) == set(expected)
    died = {r.path for r in reports if "worker verifying this document died" in r.message_en}
    assert len(died) <= len(kills)
    assert {p: v for p, v in got.items() if p not in died} == {
        p: v for p, v in expected.items() if p not in died
    }


_EXPECTED: dict[str, dict[str, tuple[str, str | None]]] = {}


def _expected(pki: DemoPKI, docs: list[str]) -> dict[str, tuple[str, str | None]]:
    """The verdict one process gives each document (worked out once)."""
    key = "|".join(docs)
    if key not in _EXPECTED:
        _EXPECTED[key] = _verdicts(list(verify_many(docs, verifier=_verifier(pki))))
    return _EXPECTED[key]


def test_a_hung_worker_is_killed_and_its_documents_are_answered(
    demo_pki: DemoPKI, kin: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that stops answering (stopped: it neither works nor dies) is killed once
    its chunk is past the time limit and the grace; its documents go out again and every
    document gets the report one process gives it. (The other worker may wait for a
    template of a shape the stopped one claimed, a quarter of the limit, then validates
    the document itself: the limit leaves room for that on a loaded machine.)"""
    monkeypatch.setattr(bulk, "HUNG_GRACE", 0.5)
    docs = kin[:8]
    expected = _verdicts(list(verify_many(docs, verifier=_verifier(demo_pki))))
    run = verify_many(
        docs, verifier=_verifier(demo_pki, document_time_limit=2.0), workers=2, chunk_size=2
    )
    reports = [next(run)]
    children = multiprocessing.active_children()
    os.kill(children[0].pid or 0, signal.SIGSTOP)
    started = time.monotonic()
    reports.extend(run)
    assert _verdicts(reports) == expected
    assert time.monotonic() - started < 60
    children[0].join(5)
    assert children[0].exitcode == -signal.SIGKILL  # killed as hung, not left stopped


def _claim_and_wait(path: str, key: tuple[str, ...], go: object, done: object) -> None:
    """In another process: claim ``key`` on the board, then wait for the word to finish."""
    board = Board(path)
    assert board.missing(_owner(), key, wait=False)
    done.set()  # type: ignore[attr-defined]
    go.wait(30)  # type: ignore[attr-defined]
    board.publish(_owner())


_VERIFIERS: list[Verifier] = []


def _owner() -> Verifier:
    """A worker's verifier, as the board is given one (its policy's time limit; its
    templates)."""
    if not _VERIFIERS:
        _VERIFIERS.append(Verifier(policy=ValidationPolicy(network=False)))
    return _VERIFIERS[0]


@contextlib.contextmanager
def _claimant(path: str, key: tuple[str, ...]) -> Iterator[tuple[Any, Any]]:
    """Another process that has claimed ``key`` on the board at ``path`` and publishes it
    done when its event is set: (the process, the event)."""
    go, done = FORK.Event(), FORK.Event()
    other = FORK.Process(target=_claim_and_wait, args=(path, key, go, done))
    other.start()
    try:
        assert done.wait(30)
        yield other, go
    finally:
        if other.is_alive():  # (a killed waiter would never wake to take the word)
            go.set()
        other.join(5)


def _board(tmp_path: Path) -> str:
    path = Board.create(tmp_path)
    assert path is not None
    return path


def test_a_shape_another_live_worker_claimed_is_held_until_it_is_done(tmp_path: Path) -> None:
    """A worker asking about a shape another live worker claimed is told to hold it; once
    that worker says the shape is done, it may validate it; a shape nobody claimed it
    claims itself, and asking again is free."""
    path, key = _board(tmp_path), ("pdf", "shape-a")
    with _claimant(path, key) as (other, go):
        mine = Board(path)
        assert mine.missing(_owner(), key, wait=False) is False
        assert mine.missing(_owner(), ("pdf", "shape-b"), wait=False) is True
        assert mine.missing(_owner(), ("pdf", "shape-b"), wait=False) is True
        go.set()
        other.join(30)
        assert mine.missing(_owner(), key, wait=False) is True  # done there, no template


def test_a_claim_whose_worker_died_is_taken_over(tmp_path: Path) -> None:
    """A claim by a process that no longer lives holds nothing back."""
    path, key = _board(tmp_path), ("pdf", "orphan")
    with _claimant(path, key) as (other, _go):
        other.kill()
        other.join(5)
        assert Board(path).missing(_owner(), key, wait=False) is True


def test_a_waiting_worker_gets_the_shape_once_its_claimant_finishes(tmp_path: Path) -> None:
    """With ``wait``, a worker whose document may not be handed back waits for the
    claimant rather than validating the same shape in full beside it."""
    path, key = _board(tmp_path), ("pdf", "slow")
    with _claimant(path, key) as (other, go):
        mine = Board(path)
        started = time.monotonic()
        assert mine.missing(_owner(), key, wait=True) is False  # still claimed after the wait
        assert time.monotonic() - started >= 1.0
        go.set()
        other.join(30)
        assert mine.missing(_owner(), key, wait=True) is True


def test_a_record_half_written_is_read_once_it_is_whole(tmp_path: Path) -> None:
    """A reader that finds the last record cut short (being written) leaves it for its
    next look, and then reads it."""
    import pickle
    import struct

    path = _board(tmp_path)
    body = pickle.dumps(("done", ("pdf", "half")))
    record = struct.pack("<I", len(body)) + body
    with open(path, "ab") as f:
        f.write(record[:7])
    board = Board(path)
    board._sync(_owner())
    assert board.offset == 0
    assert ("pdf", "half") not in board.finished
    with open(path, "ab") as f:
        f.write(record[7:])
    board._sync(_owner())
    assert board.offset == len(record)
    assert ("pdf", "half") in board.finished


def test_a_board_written_over_a_record_cut_short_is_left_and_nothing_fails(
    tmp_path: Path,
) -> None:
    """A worker killed halfway through writing a record, and another record written after
    it: the board cannot be read on from there. Every worker then validates new shapes
    itself (``missing`` says yes) and writes nothing more; nothing raises."""
    import pickle
    import struct

    path = _board(tmp_path)
    body = pickle.dumps(("claim", ("pdf", "cut"), 1))
    whole = pickle.dumps(("done", ("pdf", "after")))
    with open(path, "ab") as f:
        f.write(struct.pack("<I", len(body)) + body[:5])  # cut short
        f.write(struct.pack("<I", len(whole)) + whole)
    board = Board(path)
    assert board.missing(_owner(), ("pdf", "new"), wait=False) is True
    assert board.broken
    size = Path(path).stat().st_size
    board.publish(_owner())
    assert board.missing(_owner(), ("pdf", "other"), wait=True) is True
    assert Path(path).stat().st_size == size
