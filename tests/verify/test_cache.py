"""The revocation cache: answers reused across documents and processes, within their window."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from pathlib import Path

from fixtures.documents import minimal_pdf, sign_pdf
from fixtures.pki import DemoServices
from tests.conftest import PINNED_NOW
from tests.verify.test_verifier import SIGNED_AT, demo_trust
from verify import Indication, ValidationPolicy, Verifier
from verify.cache import RevocationCache


def _revocation_requests(services: DemoServices) -> int:
    with services.requests.lock:
        return sum(
            n for path, n in services.requests.hits.items() if "/ocsp/" in path or "/crls/" in path
        )


def test_second_document_from_same_signer_fetches_nothing(demo_services: DemoServices) -> None:
    """One Verifier: the OCSP/CRL answers fetched for the first document serve the second
    (full validation both times: the fast path would not ask the cache at all)."""
    pki = demo_services.pki
    first = sign_pdf(pki, "citizen", minimal_pdf("một"), at=SIGNED_AT)
    second = sign_pdf(pki, "citizen", minimal_pdf("hai"), at=SIGNED_AT)
    policy = ValidationPolicy(validation_time=PINNED_NOW, fast_path=False)
    verifier = Verifier(demo_trust(pki), policy)
    assert verifier.verify(first).indication is Indication.TOTAL_PASSED
    before = _revocation_requests(demo_services)
    assert verifier.verify(second).indication is Indication.TOTAL_PASSED
    assert _revocation_requests(demo_services) == before
    assert verifier.cache.hits > 0


def test_sqlite_cache_is_shared_by_a_new_verifier(
    demo_services: DemoServices, tmp_path: Path
) -> None:
    """A second Verifier (another process in a bulk run) reuses the answers in the file."""
    pki = demo_services.pki
    doc = sign_pdf(pki, "organisation", minimal_pdf(), at=SIGNED_AT)
    policy = ValidationPolicy(validation_time=PINNED_NOW)
    cache_dir = tmp_path / "cache"
    first = Verifier(demo_trust(pki), policy, cache=RevocationCache.in_directory(cache_dir))
    assert first.verify(doc).indication is Indication.TOTAL_PASSED
    assert len(first.cache) > 0
    before = _revocation_requests(demo_services)
    again = Verifier(demo_trust(pki), policy, cache=RevocationCache.in_directory(cache_dir))
    assert again.verify(doc).indication is Indication.TOTAL_PASSED
    assert _revocation_requests(demo_services) == before


def test_answers_are_not_used_outside_the_time_they_cover(demo_services: DemoServices) -> None:
    """Asked about a moment past an answer's nextUpdate, the cache misses and refetches."""
    pki = demo_services.pki
    doc = sign_pdf(pki, "official", minimal_pdf(), at=SIGNED_AT)
    cache = RevocationCache()
    Verifier(demo_trust(pki), ValidationPolicy(validation_time=PINNED_NOW), cache=cache).verify(doc)
    before = _revocation_requests(demo_services)
    later = ValidationPolicy(validation_time=PINNED_NOW + timedelta(days=40))
    Verifier(demo_trust(pki), later, cache=cache).verify(doc)
    assert _revocation_requests(demo_services) > before


def _writer(path: str, start: int) -> None:
    cache = RevocationCache(path)
    for i in range(start, start + 150):
        cache.put(
            RevocationCache.key("GET", f"http://ca/{i}"), "cert", b"x" * 64, "application/pkix-cert"
        )


def test_concurrent_writers_do_not_lose_entries(tmp_path: Path) -> None:
    """Two processes writing the same SQLite cache at once: every entry is kept."""
    path = str(tmp_path / "c.sqlite3")
    RevocationCache(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, n * 1000)) for n in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(RevocationCache(path)) == 300
