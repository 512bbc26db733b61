"""The Verifier from threads and event loops: averify keeps the loop free, verify() works
anywhere, one verifier is safe to share between threads."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fixtures.documents import minimal_pdf, sign_detached, sign_pdf
from fixtures.einvoice import invoice_xml, sign_strict
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from verify import TrustProfile, ValidationPolicy, Verifier
from verify.cache import RevocationCache
from verify.formats.pdf import PdfReader
from verify.report import DocumentReport, Indication
from verify.verifier import in_this_thread

SIGNED_AT = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)


def demo_trust(pki: DemoPKI) -> TrustProfile:
    return TrustProfile.custom(
        [pki.root("public")], name="demo", hierarchy="public"
    ).with_extra_anchors([pki.root("specialized")], hierarchy="specialized")


Job = tuple[str, bytes, bytes | None]


@pytest.fixture(scope="module")
def documents(demo_pki: DemoPKI) -> list[Job]:
    """One document per kind and verdict: B-B and B-T passing, revoked, tampered, an XML
    e-invoice, a detached CMS pair, an unsigned PDF, garbage."""
    pdf = minimal_pdf("Đơn đề nghị cấp bản sao")
    bb = sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT)
    tampered = bytearray(bb)
    tampered[tampered.index(b"/Helvetica") + 1] ^= 0x01
    content = "<tokhai>Tờ khai</tokhai>".encode()
    return [
        ("bb", bb, None),
        ("bt", sign_pdf(demo_pki, "official", pdf, at=SIGNED_AT, timestamp=True), None),
        ("revoked", sign_pdf(demo_pki, "citizen-revoked", pdf, at=SIGNED_AT), None),
        ("tampered", bytes(tampered), None),
        ("xml", sign_strict(invoice_xml(), demo_pki, "organisation", at=SIGNED_AT), None),
        ("detached", content, sign_detached(demo_pki, "citizen", content, at=SIGNED_AT)),
        ("unsigned", pdf, None),
        ("garbage", b"\x00\xffnot a document" * 10, None),
    ]


def comparable(report: DocumentReport) -> dict[str, Any]:
    """The report without its elapsed time (the only field that differs between runs)."""
    data = report.to_dict()
    data.pop("elapsed_ms", None)
    return data


def run(verifier: Verifier, job: Job) -> dict[str, Any]:
    _name, data, signature = job
    return comparable(verifier.verify(data, detached=signature))


@pytest.mark.parametrize("cache", ["memory", "sqlite"])
def test_threads_sharing_one_verifier_agree_with_serial_runs(
    demo_pki: DemoPKI, documents: list[Job], tmp_path: Path, cache: str
) -> None:
    """Eight threads verify every document three times through one shared verifier (one
    engine memo, fast-path store and revocation cache, in memory or SQLite): every report
    equals the one a fresh verifier gives when the documents run one after another."""
    policy = ValidationPolicy(validation_time=PINNED_NOW)
    serial_cache = RevocationCache(tmp_path / "serial.sqlite3") if cache == "sqlite" else None
    serial = Verifier(demo_trust(demo_pki), policy, cache=serial_cache)
    expected = {job[0]: run(serial, job) for job in documents}
    assert expected["bb"]["indication"] == "TOTAL_PASSED"
    assert expected["revoked"]["indication"] == "TOTAL_FAILED"

    shared_cache = RevocationCache(tmp_path / "shared.sqlite3") if cache == "sqlite" else None
    shared = Verifier(demo_trust(demo_pki), policy, cache=shared_cache)
    jobs = [job for _ in range(3) for job in documents]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda job: (job[0], run(shared, job)), jobs))
    assert len(answers) == len(jobs)
    for name, answer in answers:
        assert answer == expected[name], name


def test_verify_works_inside_a_running_event_loop(demo_pki: DemoPKI, documents: list[Job]) -> None:
    """verify() called from a coroutine (a notebook, an async handler) answers instead of
    raising "asyncio.run() cannot be called from a running event loop"."""
    verifier = Verifier(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    bb = documents[0][1]

    async def inside() -> DocumentReport:
        return verifier.verify(bb)

    report = asyncio.run(inside())
    assert report.indication is Indication.TOTAL_PASSED
    assert comparable(report) == comparable(verifier.verify(bb))


def test_verify_from_plain_code_leaves_sigint_and_the_thread_as_it_found_them(
    demo_pki: DemoPKI, documents: list[Job]
) -> None:
    """verify() from the main thread validates on a loop of its own that it closes, leaves
    the SIGINT handler it found in place, and leaves no event loop behind."""
    import signal

    verifier = Verifier(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    before = signal.getsignal(signal.SIGINT)
    assert threading.current_thread() is threading.main_thread()
    for _kind, data, _detached in documents[:2]:
        assert verifier.verify(data).indication is Indication.TOTAL_PASSED
    assert signal.getsignal(signal.SIGINT) is before
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()


@pytest.fixture
def slow_reader(monkeypatch: pytest.MonkeyPatch) -> float:
    """PdfReader.verify burns CPU for BURN seconds before the real validation, holding the
    GIL as parsing and hashing do (a validation that takes long on the CPU)."""
    burn = 0.6
    original = PdfReader.verify

    async def slow(self: PdfReader, *args: Any, **kwargs: Any) -> DocumentReport:
        end = time.perf_counter() + burn
        while time.perf_counter() < end:
            sum(range(1000))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(PdfReader, "verify", slow)
    return burn


def test_averify_keeps_the_event_loop_free(
    demo_pki: DemoPKI, documents: list[Job], slow_reader: float
) -> None:
    """While averify runs a validation that spends 0.6 s on the CPU, a ticker coroutine on
    the caller's loop keeps ticking: its largest gap stays far below the validation's time
    (before, the loop was frozen for the whole validation)."""
    policy = ValidationPolicy(validation_time=PINNED_NOW, fast_path=False)
    verifier = Verifier(demo_trust(demo_pki), policy)

    async def main() -> tuple[float, float, DocumentReport]:
        done = asyncio.Event()
        gaps: list[float] = []

        async def ticker() -> None:
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0.02)
        started = time.perf_counter()
        report = await verifier.averify(documents[0][1])
        took = time.perf_counter() - started
        done.set()
        await tick
        return max(gaps), took, report

    largest_gap, took, report = asyncio.run(main())
    assert report.indication is Indication.TOTAL_PASSED
    assert took >= slow_reader
    assert largest_gap < took / 4, (largest_gap, took)


def test_in_this_thread_keeps_the_validation_on_the_callers_loop(
    demo_pki: DemoPKI, documents: list[Job], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within in_this_thread() (and under a caller's SIGALRM timer, as bulk workers have),
    averify validates in the caller's thread: a signal-based time limit can stop it."""
    seen: list[threading.Thread] = []
    original = PdfReader.verify

    async def spy(self: PdfReader, *args: Any, **kwargs: Any) -> DocumentReport:
        seen.append(threading.current_thread())
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(PdfReader, "verify", spy)
    policy = ValidationPolicy(validation_time=PINNED_NOW, fast_path=False)
    verifier = Verifier(demo_trust(demo_pki), policy)

    async def main() -> None:
        await verifier.averify(documents[0][1])
        with in_this_thread():
            await verifier.averify(documents[0][1])

    asyncio.run(main())
    assert len(seen) == 2
    assert seen[0] is not threading.current_thread()
    assert seen[1] is threading.current_thread()


def test_a_coroutine_abandoned_inside_in_this_thread_closes_quietly_elsewhere() -> None:
    """A validation coroutine left suspended inside in_this_thread() (a timed-out bulk
    document whose loop was dropped) closes without error when the garbage collector closes
    it from another context: nothing is reported as an unraisable exception."""
    import contextvars
    import sys

    async def suspended() -> None:
        with in_this_thread():
            await asyncio.sleep(0)  # suspends here (a bare yield; no loop needed)

    coro = suspended()
    contextvars.copy_context().run(coro.send, None)  # entered, suspended at the wait
    caught: list[Any] = []
    previous = sys.unraisablehook
    sys.unraisablehook = caught.append
    try:
        contextvars.copy_context().run(coro.close)
    finally:
        sys.unraisablehook = previous
    assert caught == []


def test_cancelling_averify_stops_waiting_and_the_loop_goes_on(
    demo_pki: DemoPKI, documents: list[Job], slow_reader: float
) -> None:
    """A caller's time limit (asyncio.timeout) around averify ends the wait at once, even
    while the validation is busy on its thread; the verifier answers the next call."""
    policy = ValidationPolicy(validation_time=PINNED_NOW, fast_path=False)
    verifier = Verifier(demo_trust(demo_pki), policy)

    async def main() -> float:
        started = time.perf_counter()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await verifier.averify(documents[0][1])
        return time.perf_counter() - started

    waited = asyncio.run(main())
    assert waited < slow_reader / 2
    assert verifier.verify(documents[0][1]).indication is Indication.TOTAL_PASSED


def test_revocation_cache_counts_every_lookup_from_many_threads(tmp_path: Path) -> None:
    """The cache's counters are kept under its lock: 8 threads x 500 lookups are 4000
    hits and misses, for the memory and the SQLite store alike."""
    for cache in (RevocationCache(), RevocationCache(tmp_path / "c.sqlite3")):
        key = RevocationCache.key("GET", "http://127.0.0.1/ca.crt")
        cache.put(key, "cert", b"0" * 16, "application/pkix-cert")

        def look(i: int, cache: RevocationCache = cache, key: str = key) -> None:
            for j in range(500):
                cache.get(key if (i + j) % 2 else f"missing-{j}", PINNED_NOW)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(look, range(8)))
        assert cache.hits + cache.misses == 4000
        assert cache.hits == 2000


def test_a_document_given_as_bytes_with_a_name_is_reported_as_the_file_of_that_name(
    demo_pki: DemoPKI, documents: list[Job], tmp_path: Path
) -> None:
    """averify(data, name=path) gives the report the file at ``path`` gets (PDF, XML,
    unsigned, garbage alike), the name kept however the document ends; without a name the
    report has no path."""
    verifier = Verifier(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    for kind, data, signature in documents:
        if signature is not None:
            continue
        path = tmp_path / f"{kind}.bin"
        path.write_bytes(data)
        with in_this_thread():
            named = asyncio.run(verifier.averify(data, name=str(path)))
            read = asyncio.run(verifier.averify(path))
            bare = asyncio.run(verifier.averify(data))
        assert named.path == str(path), kind
        assert comparable(named) == comparable(read), kind
        assert bare.path is None, kind
