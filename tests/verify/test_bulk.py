"""Bulk verification: streaming reports, process pools, Dask, and isolation of bad documents."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.documents import minimal_pdf, sign_detached, sign_pdf
from fixtures.pki import DemoPKI
from fixtures.pki.services import DemoServices
from tests.conftest import PINNED_NOW
from tests.verify.test_verifier import SIGNED_AT, demo_trust
from verify import DocumentReport, Indication, SubIndication, ValidationPolicy, Verifier
from verify.bulk import BulkItem, verify_many
from verify.cache import RevocationCache
from verify.discover import discover


@pytest.fixture(scope="module")
def corpus(demo_pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of mixed documents, like an archive an auditor receives."""
    root = tmp_path_factory.mktemp("archive")
    base = minimal_pdf("Hồ sơ")
    for i, label in enumerate(["citizen", "organisation", "official", "citizen-ec"]):
        (root / f"ok-{i}.pdf").write_bytes(sign_pdf(demo_pki, label, base, at=SIGNED_AT))
    bad = bytearray(sign_pdf(demo_pki, "citizen", base, at=SIGNED_AT))
    bad[bad.find(b"/Helvetica") + 1] ^= 1
    (root / "tampered.pdf").write_bytes(bytes(bad))
    (root / "revoked.pdf").write_bytes(sign_pdf(demo_pki, "citizen-revoked", base, at=SIGNED_AT))
    (root / "unsigned.pdf").write_bytes(base)
    (root / "garbage.pdf").write_bytes(b"not a pdf at all")
    (root / "sub").mkdir()
    (root / "sub" / "data.json").write_bytes(b'{"a": 1}')
    (root / "sub" / "data.json.p7s").write_bytes(
        sign_detached(demo_pki, "agency-seal", b'{"a": 1}', at=SIGNED_AT)
    )
    (root / "sub" / "lost.xml.p7s").write_bytes(  # a real signature whose content is gone
        sign_detached(demo_pki, "agency-seal", b"<lost/>", at=SIGNED_AT)
    )
    return root


def _verifier(pki: DemoPKI, cache_dir: Path | None = None) -> Verifier:
    cache = RevocationCache.in_directory(cache_dir) if cache_dir else None
    return Verifier(demo_trust(pki), ValidationPolicy(validation_time=PINNED_NOW), cache=cache)


def _by_path(reports: Iterator[DocumentReport]) -> dict[str, tuple[str, str | None]]:
    out: dict[str, tuple[str, str | None]] = {}
    for r in reports:
        assert r.path is not None
        assert r.path not in out  # every document exactly once
        out[r.path] = (r.indication.value, r.sub_indication.value if r.sub_indication else None)
    return out


EXPECTED = {
    "ok-0.pdf": ("TOTAL_PASSED", None),
    "ok-1.pdf": ("TOTAL_PASSED", None),
    "ok-2.pdf": ("TOTAL_PASSED", None),
    "ok-3.pdf": ("TOTAL_PASSED", None),
    "tampered.pdf": ("TOTAL_FAILED", "HASH_FAILURE"),
    "revoked.pdf": ("TOTAL_FAILED", "REVOKED"),
    "unsigned.pdf": ("INDETERMINATE", "NO_SIGNATURE_FOUND"),
    "garbage.pdf": ("TOTAL_FAILED", "FORMAT_FAILURE"),
    "sub/data.json": ("TOTAL_PASSED", None),
    "sub/lost.xml.p7s": ("INDETERMINATE", "SIGNED_DATA_NOT_FOUND"),
}


def _relative(results: dict[str, tuple[str, str | None]], root: Path) -> dict[str, object]:
    return {os.path.relpath(p, root): v for p, v in results.items()}


def test_in_process_run_gives_one_report_per_document(demo_pki: DemoPKI, corpus: Path) -> None:
    """workers=1: every document once, each with its path, each with the expected verdict."""
    results = _by_path(verify_many(discover([corpus]), verifier=_verifier(demo_pki)))
    assert _relative(results, corpus) == EXPECTED


def test_process_pool_gives_the_same_reports(
    demo_pki: DemoPKI, corpus: Path, tmp_path: Path
) -> None:
    """workers=2 (separate processes sharing a SQLite cache) agrees with the local run."""
    reports = verify_many(
        discover([corpus]), verifier=_verifier(demo_pki, tmp_path / "c"), workers=2, chunk_size=3
    )
    assert _relative(_by_path(reports), corpus) == EXPECTED


def test_dask_local_cluster_gives_the_same_reports(demo_pki: DemoPKI, corpus: Path) -> None:
    """A real distributed.LocalCluster with two workers, through its executor."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        reports = verify_many(
            discover([corpus]),
            verifier=_verifier(demo_pki),
            executor=client.get_executor(),
            chunk_size=4,
        )
        assert _relative(_by_path(reports), corpus) == EXPECTED


@pytest.fixture(scope="module")
def big_corpus(demo_pki: DemoPKI, corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mixed archive plus 48 genuine PDFs in six shapes (B-B and B-T of three signers),
    each signed over its own content: enough for many chunks, pioneers sent alone, their
    kin held back, and templates shared between workers."""
    import shutil

    root = tmp_path_factory.mktemp("big-archive")
    shutil.copytree(corpus, root, dirs_exist_ok=True)
    labels = ["citizen", "organisation", "official"]
    for i in range(48):
        pdf = sign_pdf(
            demo_pki,
            labels[i % 3],
            minimal_pdf(f"Hồ sơ số {i}"),
            at=SIGNED_AT,
            timestamp=i % 2 == 1,
        )
        (root / f"many-{i:02}.pdf").write_bytes(pdf)
    return root


BIG_EXPECTED = {**EXPECTED, **{f"many-{i:02}.pdf": ("TOTAL_PASSED", None) for i in range(48)}}


def test_dask_cluster_agrees_with_the_local_run_over_many_chunks(
    demo_pki: DemoPKI, big_corpus: Path
) -> None:
    """Two Dask worker processes, 58 documents in chunks of 4 (pioneers, held-back shapes,
    shared templates): every verdict is the local one. Workers are fresh interpreters that
    receive the verifier pickled; certificates unpickled there once could not be read
    ("argument of type 'NoneType' is not iterable", FORMAT_FAILURE on genuine PDFs)."""
    from distributed import Client, LocalCluster

    local = _relative(
        _by_path(verify_many(discover([big_corpus]), verifier=_verifier(demo_pki))), big_corpus
    )
    assert local == BIG_EXPECTED
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        reports = verify_many(
            discover([big_corpus]),
            verifier=_verifier(demo_pki),
            executor=client.get_executor(),
            chunk_size=4,
        )
        assert _relative(_by_path(reports), big_corpus) == local


def test_spawned_workers_read_the_certificates_they_are_sent(
    demo_pki: DemoPKI, big_corpus: Path
) -> None:
    """Any Executor whose workers start fresh (spawn) and unpickle the verifier gives the
    local verdicts from the first document on."""
    import concurrent.futures as cf
    import multiprocessing

    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        reports = verify_many(
            discover([big_corpus]), verifier=_verifier(demo_pki), executor=pool, chunk_size=4
        )
        assert _relative(_by_path(reports), big_corpus) == BIG_EXPECTED


def test_process_pool_agrees_with_the_local_run_over_many_chunks(
    demo_pki: DemoPKI, big_corpus: Path, tmp_path: Path
) -> None:
    """workers=2 over 58 documents in chunks of 4: the local verdicts, each document once."""
    reports = verify_many(
        discover([big_corpus]),
        verifier=_verifier(demo_pki, tmp_path / "c"),
        workers=2,
        chunk_size=4,
    )
    assert _relative(_by_path(reports), big_corpus) == BIG_EXPECTED


def test_a_trust_profile_pickles_as_der_and_reads_in_a_fresh_interpreter(
    demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """An unpickled profile's certificates are parsed anew: their extensions read in a
    process that has made no certificate of its own."""
    import pickle
    import subprocess
    import sys

    state = tmp_path / "trust.pickle"
    state.write_bytes(pickle.dumps(demo_trust(demo_pki)))
    code = (
        "import pickle, sys; t = pickle.loads(open(sys.argv[1], 'rb').read()); "
        "print(sum(1 for c in t.certificates if c.key_identifier))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(state)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert int(proc.stdout) == len(demo_trust(demo_pki).certificates) > 0


def test_shared_templates_carry_no_parsed_pdf_objects(demo_pki: DemoPKI, big_corpus: Path) -> None:
    """A template travelling between processes holds plain values: no pyHanko object (which
    would drag its whole parsed document along)."""
    import pickle
    import pickletools

    from verify import fastpath

    verifier = _verifier(demo_pki)
    fastpath.record_made(verifier)
    for name in ("many-00.pdf", "many-01.pdf", "many-03.pdf", "many-04.pdf"):
        assert verifier.verify(big_corpus / name).passed
    made = fastpath.take_made(verifier)
    assert made
    modules = {
        str(arg)
        for op, arg, _pos in pickletools.genops(pickle.dumps(made))
        if op.name in ("GLOBAL", "STACK_GLOBAL", "SHORT_BINUNICODE", "BINUNICODE")
    }
    assert not any(m.startswith(("pyhanko", "asn1crypto")) for m in modules)


def test_stopping_half_way_is_safe(demo_pki: DemoPKI, corpus: Path) -> None:
    """Closing the generator after a few reports shuts the pool down cleanly."""
    gen = verify_many(discover([corpus]), verifier=_verifier(demo_pki), workers=2, chunk_size=1)
    first = [next(gen) for _ in range(3)]
    gen.close()
    assert len(first) == 3


def test_a_signature_that_would_hang_is_never_opened_and_the_run_goes_on(
    demo_pki: DemoPKI, corpus: Path, tmp_path: Path
) -> None:
    """A detached signature that is a FIFO (its read would never end) is not opened: the
    document is INDETERMINATE / FILE_UNREADABLE saying so; the others are verified. (A
    validation that runs past the time limit is tested below.)"""
    content = tmp_path / "hang.json"
    content.write_bytes(b"{}")
    fifo = tmp_path / "hang.json.p7s"
    os.mkfifo(fifo)
    policy = ValidationPolicy(validation_time=PINNED_NOW, document_time_limit=3)
    verifier = Verifier(demo_trust(demo_pki), policy)
    items = [BulkItem(str(content), str(fifo)), BulkItem(str(corpus / "ok-0.pdf"))]
    results = _by_path(verify_many(items, verifier=verifier, workers=2, chunk_size=1))
    assert results[str(content)] == ("INDETERMINATE", "FILE_UNREADABLE")
    assert results[str(corpus / "ok-0.pdf")] == ("TOTAL_PASSED", None)


def test_a_document_that_exhausts_memory_does_not_stop_the_run(
    demo_pki: DemoPKI, corpus: Path, tmp_path: Path
) -> None:
    """Under a worker memory ceiling, a huge document fails alone; the run goes on."""
    big = tmp_path / "huge.pdf"
    with big.open("wb") as f:
        f.write(b"%PDF-1.7\n")
        f.truncate(1_500 * 1024 * 1024)  # sparse: costs no disk, but reading needs the memory
    policy = ValidationPolicy(validation_time=PINNED_NOW, max_file_size=2 * 1024**3)
    verifier = Verifier(demo_trust(demo_pki), policy)
    items = [BulkItem(str(big)), BulkItem(str(corpus / "ok-1.pdf"))]
    results = _by_path(
        verify_many(items, verifier=verifier, workers=2, chunk_size=1, memory_limit=1024**3)
    )
    assert results[str(big)][0] == Indication.INDETERMINATE.value
    assert results[str(corpus / "ok-1.pdf")] == ("TOTAL_PASSED", None)


def test_reports_stream_lazily_from_a_generator(demo_pki: DemoPKI, corpus: Path) -> None:
    """Inputs are consumed lazily: the first report arrives before the input is exhausted."""
    consumed: list[int] = []

    def sources() -> Iterator[str]:
        for i in range(1000):
            consumed.append(i)
            yield str(corpus / "unsigned.pdf")

    gen = verify_many(sources(), verifier=_verifier(demo_pki))
    report = next(gen)
    gen.close()
    assert report.sub_indication is SubIndication.NO_SIGNATURE_FOUND
    assert len(consumed) < 1000


_FORKED_RUN = """
import json, pickle, sys
from verify.bulk import _process_context, verify_many
from verify.discover import discover
verifier = pickle.loads(open(sys.argv[1], "rb").read())
method = _process_context().get_start_method()
limit = int(sys.argv[3]) if len(sys.argv) > 3 else 2 * 1024**3
reports = verify_many(
    discover([sys.argv[2]]), verifier=verifier, workers=2, chunk_size=2, memory_limit=limit
)
out = {r.path: [r.indication.value, r.sub_indication.value if r.sub_indication else None]
       for r in reports}
print(json.dumps({"method": method, "reports": out}))
"""


def _forked_run(
    verifier: Verifier, folder: Path, tmp_path: Path, memory_limit: int | None = None
) -> dict[str, Any]:
    """``verify_many(workers=2)`` over ``folder`` in a fresh, single-threaded interpreter."""
    import json
    import pickle
    import subprocess
    import sys

    state = tmp_path / "verifier.pickle"
    state.write_bytes(pickle.dumps(verifier))
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _FORKED_RUN,
            str(state),
            str(folder),
            *([str(memory_limit)] if memory_limit else []),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_workers_forked_from_a_threadless_process_give_the_same_reports(
    demo_pki: DemoPKI, corpus: Path, tmp_path: Path
) -> None:
    """A command-line run (one thread) forks its workers; they agree with the local run."""
    result = _forked_run(_verifier(demo_pki, tmp_path / "c"), corpus, tmp_path)
    assert result["method"] == "fork"
    got = {p: (v[0], v[1]) for p, v in result["reports"].items()}
    assert _relative(got, corpus) == EXPECTED


def test_workers_started_while_threads_run_come_from_a_fork_server() -> None:
    """With another thread alive (a progress bar, a server), workers are never forked."""
    import threading

    from verify.bulk import _process_context

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert _process_context().get_start_method() == "forkserver"
    finally:
        stop.set()
        thread.join()


def test_a_report_is_small_to_send_between_processes(demo_pki: DemoPKI, corpus: Path) -> None:
    """A report keeps plain strings, not pyHanko objects tied to the parsed PDF: its pickle is
    no bigger than its JSON (it was fifty times bigger when the field name was pyHanko's)."""
    import pickle

    report = _verifier(demo_pki).verify(corpus / "ok-0.pdf")
    assert report.passed
    assert type(report.signatures[0].field_name) is str
    assert len(pickle.dumps(report)) <= len(report.to_json())


def _same_shape_folder(pki: DemoPKI, folder: Path, n: int) -> Path:
    """``n`` documents of one shape: one signer, re-signed over other content."""
    from tests.verify.test_fastpath import resign_pdf

    first = sign_pdf(pki, "citizen", minimal_pdf("Hồ sơ", padding=2000), at=SIGNED_AT)
    folder.mkdir()
    for i in range(n):
        (folder / f"doc-{i:02d}.pdf").write_bytes(resign_pdf(pki, "citizen", first, i))
    return folder


def _fetches_for_one(demo_services: DemoServices, doc: Path) -> int:
    """How many OCSP/CRL requests one full validation of ``doc`` makes, from cold."""
    alone = Verifier(demo_trust(demo_services.pki), ValidationPolicy(validation_time=PINNED_NOW))
    before = sum(demo_services.requests.hits.values())
    assert alone.verify(doc).passed
    return sum(demo_services.requests.hits.values()) - before


def test_forked_workers_validate_a_shape_in_full_once_between_them(
    demo_services: DemoServices, tmp_path: Path
) -> None:
    """With forked workers, the first document of a shape goes to one worker alone and the
    others wait for its template, which every worker then gets: nothing is fetched (or
    validated in full) twice, although no worker shares another's revocation cache."""
    folder = _same_shape_folder(demo_services.pki, tmp_path / "same-shape", 24)
    # an in-memory revocation cache: a worker validating in full would fetch again
    verifier = Verifier(demo_trust(demo_services.pki), ValidationPolicy(validation_time=PINNED_NOW))
    before = sum(demo_services.requests.hits.values())
    result = _forked_run(verifier, folder, tmp_path)
    assert result["method"] == "fork"
    assert len(result["reports"]) == 24
    assert all(v == ["TOTAL_PASSED", None] for v in result["reports"].values())
    fetched = sum(demo_services.requests.hits.values()) - before
    assert fetched == _fetches_for_one(demo_services, folder / "doc-00.pdf")


def test_fork_server_workers_share_their_templates_too(
    demo_services: DemoServices, tmp_path: Path
) -> None:
    """Workers from a fork server start cold, each with its own copy of the verifier; the
    template one of them makes still reaches the other: the shape is fetched for once."""
    from verify.bulk import _process_context

    assert _process_context().get_start_method() == "forkserver"  # the services' threads
    folder = _same_shape_folder(demo_services.pki, tmp_path / "same-shape", 24)
    verifier = Verifier(demo_trust(demo_services.pki), ValidationPolicy(validation_time=PINNED_NOW))
    before = sum(demo_services.requests.hits.values())
    results = _by_path(
        verify_many(sorted(folder.iterdir()), verifier=verifier, workers=2, chunk_size=2)
    )
    assert len(results) == 24
    assert set(results.values()) == {("TOTAL_PASSED", None)}
    fetched = sum(demo_services.requests.hits.values()) - before
    assert fetched == _fetches_for_one(demo_services, folder / "doc-00.pdf")


def test_an_in_process_run_after_a_pool_run_still_fetches(demo_pki: DemoPKI, corpus: Path) -> None:
    """Starting a pool stops the in-process loop's helper threads (they would rule out
    forking); a later in-process run gets a new loop and fetches as before (it used to get
    "Executor shutdown has been called" as its verdict)."""
    doc = str(corpus / "ok-0.pdf")
    assert [r.passed for r in verify_many([doc], verifier=_verifier(demo_pki))] == [True]
    pooled = verify_many([doc, str(corpus / "ok-1.pdf")], verifier=_verifier(demo_pki), workers=2)
    assert [r.passed for r in pooled] == [True, True]
    [again] = verify_many([doc], verifier=_verifier(demo_pki))  # a cold cache: it fetches
    assert again.indication is Indication.TOTAL_PASSED, again.message_en


def test_the_planner_sends_each_new_shape_alone_and_holds_back_its_kin(
    demo_pki: DemoPKI, corpus: Path, tmp_path: Path
) -> None:
    """The first document of each shape is a pioneer, sent alone; later ones of its shape
    wait until it is back, then go in chunks; documents without a template key go at once;
    every document is sent exactly once."""
    from tests.verify.test_fastpath import resign_pdf
    from verify.bulk import _Planner

    a = sign_pdf(demo_pki, "citizen", minimal_pdf("A", padding=2000), at=SIGNED_AT)
    b = sign_pdf(demo_pki, "citizen-ec", minimal_pdf("B", padding=2000), at=SIGNED_AT)
    docs = {}
    for name, label, first, i in [
        ("a0", "citizen", a, 0),
        ("a1", "citizen", a, 1),
        ("b0", "citizen-ec", b, 0),
        ("a2", "citizen", a, 2),
        ("b1", "citizen-ec", b, 1),
    ]:
        docs[name] = tmp_path / f"{name}.pdf"
        docs[name].write_bytes(resign_pdf(demo_pki, label, first, i))
    order = ["a0", "a1", "b0", "a2", "b1"]
    items = iter([BulkItem(str(docs[n])) for n in order] + [BulkItem(str(corpus / "unsigned.pdf"))])
    planner = _Planner(_verifier(demo_pki), items, chunk_size=2, memory_limit=None)

    def names(planned: tuple[list[BulkItem], object] | None) -> list[str]:
        assert planned is not None
        return [Path(i.path).stem for i in planned[0]]

    first_a = planner.next()
    assert first_a is not None
    assert names(first_a) == ["a0"]
    assert len(first_a[1]) == 1
    first_b = planner.next()
    assert first_b is not None
    assert names(first_b) == ["b0"]
    assert len(first_b[1]) == 1
    assert first_a[1] != first_b[1]
    assert names(planner.next()) == ["unsigned"]  # no template key: not held back
    assert planner.next() is None  # a1, a2 and b1 wait for their pioneers
    planner.back(first_a[1], list(first_a[1]))
    assert names(planner.next()) == ["a1", "a2"]
    assert planner.next() is None
    planner.back(first_b[1], [])  # back without a template: its kin go anyway
    assert names(planner.next()) == ["b1"]
    assert planner.next() is None
    assert not planner.waiting


def test_a_document_handed_back_goes_alone_or_waits_and_is_never_held_twice(
    demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """A worker hands back a document of a shape it has no template for: the first of its
    shape goes alone (nothing in it may be held), its kin wait for it; once that pioneer
    is back without a template, further kin go out at once; and a document handed back
    once is never in a chunk's holdable positions again."""
    from verify.bulk import _Planner

    planner = _Planner(_verifier(demo_pki), iter(()), chunk_size=4, memory_limit=None)
    key = ("pdf", "a shape", (True,), None, "policy", None)
    first, second, third, other = (BulkItem(str(tmp_path / f"{n}.pdf")) for n in "abcd")
    planner.hand_back(first, key)
    planner.hand_back(second, key)
    pioneer = planner.next(look=False)
    assert pioneer == ([first], (key,))
    assert planner.holdable(*pioneer) == ()
    assert planner.next(look=False) is None  # the second waits for the first
    planner.back((key,), [])  # back without a template
    planner.hand_back(third, key)  # later kin: no new pioneer, no waiting
    chunk = planner.next()  # (nothing left to look at: what is ready goes)
    assert chunk is not None
    assert chunk[0] == [second, third]
    assert chunk[1] == ()
    assert planner.holdable(*chunk) == ()
    assert planner.holdable([other, second], ()) == (0, 1)  # once sent, forgotten
    assert not planner.waiting


def test_many_documents_of_new_shapes_go_several_to_a_chunk_and_few_alone(
    demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """When most documents are of a shape of their own (every citizen signs with their own
    certificate), the pioneers handed back go several to a chunk, enough for each worker
    to get some; the last few go alone. Each chunk's keys are its documents' own."""
    from verify.bulk import _Planner

    planner = _Planner(_verifier(demo_pki), iter(()), chunk_size=16, memory_limit=None, spread=2)
    items = [BulkItem(str(tmp_path / f"{i}.pdf")) for i in range(40)]
    for i, item in enumerate(items):
        planner.hand_back(item, ("pdf", f"shape {i}", (True,), None, None, None))
    sizes = []
    while (planned := planner.next(look=False)) is not None:
        chunk, keys = planned
        assert [k[1] for k in keys] == [f"shape {items.index(i)}" for i in chunk]
        assert planner.holdable(chunk, keys) == ()
        sizes.append(len(chunk))
    assert sizes[:3] == [10, 7, 5]  # a quarter of what waits, with 2 workers
    assert sizes[-3:] == [1, 1, 1]
    assert sum(sizes) == 40


def _run_from_a_thread(
    verifier: Verifier, sources: Path | list[str], chunk_size: int = 2
) -> dict[str, tuple[str, str | None]]:
    """``verify_many`` over a folder's files (or these paths) with 2 workers, called from a
    thread other than the main one (where the parent looks at no document first)."""
    import threading

    paths = sorted(sources.iterdir()) if isinstance(sources, Path) else sources
    found: dict[str, tuple[str, str | None]] = {}

    def run() -> None:
        found.update(
            _by_path(verify_many(paths, verifier=verifier, workers=2, chunk_size=chunk_size))
        )

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(300)
    return found


def test_chunks_grow_while_many_documents_are_in_hand_and_shrink_at_the_end(
    demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """Once the look is over, chunks grow up to GROW x chunk_size while many documents are
    in hand (taken from the input, a bounded number ahead), and shrink back to
    chunk_size as the input runs out, so that the workers finish together; every
    document goes once, in order."""
    from verify.bulk import GROW, _Planner

    items = [BulkItem(str(tmp_path / f"missing-{i}.pdf")) for i in range(300)]
    source = iter(items)
    planner = _Planner(_verifier(demo_pki), source, chunk_size=4, memory_limit=None, spread=2)
    sizes, sent = [], []
    while (planned := planner.next()) is not None:
        chunk, keys = planned
        assert keys == ()
        sizes.append(len(chunk))
        sent += chunk
        assert len(planner.ready) <= 2 * 2 * GROW * 4  # never more in hand than that
    assert sent == items
    assert max(sizes) == GROW * 4
    assert all(n <= 4 for n in sizes[-4:])
    assert len(sizes) < 300 // 4


def test_two_workers_meeting_a_new_shape_at_once_validate_it_in_full_once(
    demo_services: DemoServices, tmp_path: Path
) -> None:
    """Where nothing was looked at first (a run from another thread cannot time-box the
    look), both workers get documents of the same new shape at the same time: each hands
    its documents back, the first of the shape is validated alone, and every other one is
    answered from its template. Nothing is fetched twice; every report is there once."""
    folder = _same_shape_folder(demo_services.pki, tmp_path / "same-shape", 16)
    verifier = Verifier(demo_trust(demo_services.pki), ValidationPolicy(validation_time=PINNED_NOW))
    before = sum(demo_services.requests.hits.values())
    found = _run_from_a_thread(verifier, folder)
    assert len(found) == 16
    assert set(found.values()) == {("TOTAL_PASSED", None)}
    fetched = sum(demo_services.requests.hits.values()) - before
    assert fetched == _fetches_for_one(demo_services, folder / "doc-00.pdf")


def test_documents_that_make_no_template_are_all_reported_when_handed_back(
    demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """Documents of a shape whose full validation makes no template (an untrusted signer
    checked online: INDETERMINATE, which an issuer fetched later could change) are handed
    back at most once each and then validated in full: two workers, tiny chunks, no look
    first, and every document gets its one report."""
    from verify import TrustProfile

    folder = _same_shape_folder(demo_pki, tmp_path / "untrusted", 12)
    nobody = TrustProfile.custom([demo_pki.cert("gov-root")], name="other")  # not the signer's
    verifier = Verifier(nobody, ValidationPolicy(validation_time=PINNED_NOW))
    found = _run_from_a_thread(verifier, folder)
    assert len(found) == 12
    alone = verifier.verify(folder / "doc-00.pdf")
    assert alone.indication is Indication.INDETERMINATE
    assert set(found.values()) == {(alone.indication.value, alone.sub_indication.value)}


def test_the_planner_looks_at_a_few_documents_a_call_so_that_results_are_taken_between(
    demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """While every document looked at waits for its pioneer, ``next`` looks at no more
    than SCOUT_STEP documents and returns None with more to look at; with ``look=False``
    it looks at none. Once the pioneer is back, its kin go as soon as they fill a chunk."""
    from tests.verify.test_fastpath import resign_pdf
    from verify.bulk import SCOUT_STEP, _Planner

    first = sign_pdf(demo_pki, "citizen", minimal_pdf("A", padding=2000), at=SIGNED_AT)
    paths = []
    for i in range(3 * SCOUT_STEP):
        paths.append(tmp_path / f"a{i}.pdf")
        paths[-1].write_bytes(resign_pdf(demo_pki, "citizen", first, i))
    planner = _Planner(
        _verifier(demo_pki),
        iter([BulkItem(str(p)) for p in paths]),
        chunk_size=SCOUT_STEP,
        memory_limit=None,
    )
    pioneer = planner.next()
    assert pioneer is not None
    assert pioneer[1] != ()
    assert planner.next(look=False) is None
    assert planner.scouted == 1
    assert planner.next() is None
    assert planner.looking
    assert planner.scouted == 1 + SCOUT_STEP
    planner.back(pioneer[1], list(pioneer[1]))
    kin = planner.next(look=False)
    assert kin is not None
    assert [Path(i.path).name for i in kin[0]] == [p.name for p in paths[1 : 1 + SCOUT_STEP]]


@pytest.fixture(scope="module")
def kin(demo_pki: DemoPKI, corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Documents of three shapes, three of each, and two without a template key."""
    from tests.verify.test_fastpath import resign_pdf

    root = tmp_path_factory.mktemp("kin")
    out = [str(corpus / "unsigned.pdf"), str(corpus / "garbage.pdf")]
    for label in ("citizen", "citizen-ec", "official"):
        first = sign_pdf(demo_pki, label, minimal_pdf(label, padding=2000), at=SIGNED_AT)
        for i in range(3):
            (root / f"{label}-{i}.pdf").write_bytes(resign_pdf(demo_pki, label, first, i))
            out.append(str(root / f"{label}-{i}.pdf"))
    return out


@pytest.fixture(scope="module")
def mixed(kin: list[str], tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """``kin``, and a copy of the first document of each shape tampered with after signing
    (another template key: a hash failure)."""
    root = tmp_path_factory.mktemp("mixed")
    out = list(kin)
    for source in kin[2::3]:
        data = bytearray(Path(source).read_bytes())
        data[data.index(b"/Helvetica") + 1] ^= 1
        (root / f"tampered-{Path(source).name}").write_bytes(bytes(data))
        out.append(str(root / f"tampered-{Path(source).name}"))
    return out


@given(order=st.permutations(range(14)), size=st.integers(1, 14), chunk_size=st.integers(1, 4))
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_two_workers_handing_documents_back_give_one_processs_reports(
    demo_pki: DemoPKI, mixed: list[str], order: list[int], size: int, chunk_size: int
) -> None:
    """Run from a thread, where nothing is looked at first and every new shape is handed
    back by the worker that meets it: any number of these documents, in any order and any
    chunk size, get from two workers exactly the verdict one process gives each, once."""
    paths = [mixed[i] for i in order[:size]]
    expected = _by_path(verify_many(paths, verifier=_verifier(demo_pki)))
    assert _run_from_a_thread(_verifier(demo_pki), paths, chunk_size) == expected


@given(
    picks=st.lists(st.integers(0, 10), max_size=24),
    schedule=st.lists(st.integers(0, 7), max_size=80),
    chunk_size=st.integers(1, 5),
    spread=st.integers(1, 3),
    holds=st.lists(st.booleans(), max_size=120),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_planner_finishes_every_document_exactly_once_whatever_comes_back_when(
    demo_pki: DemoPKI,
    kin: list[str],
    picks: list[int],
    schedule: list[int],
    chunk_size: int,
    spread: int,
    holds: list[bool],
) -> None:
    """Whatever the documents, the order in which chunks come back (pioneers with or
    without a template) and which documents the workers hand back, every document is
    finished exactly once, none is handed back twice, and none is left waiting."""
    from verify.bulk import _Planner

    items = [BulkItem(kin[i]) for i in picks]
    planner = _Planner(_verifier(demo_pki), iter(items), chunk_size, None, spread=spread)
    pending: list[tuple[list[BulkItem], tuple[Any, ...], tuple[int, ...]]] = []
    finished: list[int] = []
    handed: list[int] = []
    moves = iter(schedule)
    held = iter(holds)

    def come_back(chunk: list[BulkItem], keys: tuple[Any, ...], holdable: tuple[int, ...]) -> None:
        made = [key for key in keys if next(moves, 0) % 3]
        planner.back(keys, made)
        for position, item in enumerate(chunk):
            if position in holdable and next(held, False):
                handed.append(id(item))
                planner.hand_back(item, ("pdf", item.path, (True,), None, None, None))
            else:
                finished.append(id(item))

    while True:
        move = next(moves, 0)
        if pending and (move % 2 or len(pending) >= 4):
            come_back(*pending.pop(move % len(pending)))
            continue
        planned = planner.next(look=move % 5 != 1)
        if planned is None:
            if planner.looking:
                continue
            if not pending:
                break
            come_back(*pending.pop(0))
            continue
        chunk, keys = planned
        pending.append((chunk, keys, planner.holdable(chunk, keys)))
    assert sorted(finished) == sorted(id(item) for item in items)
    assert len(handed) == len(set(handed))
    assert not planner.waiting
    assert not planner.pioneers


def test_a_document_too_slow_to_look_at_ends_the_look_and_the_run_goes_on(
    demo_pki: DemoPKI, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent's look at a document is time-boxed: past the limit it stops looking at
    any more and sends everything to the workers, which verify it all as usual."""
    from verify import bulk

    monkeypatch.setattr(bulk, "SCOUT_TIME_LIMIT", 0.0001)  # parsing one takes ~2 ms
    items = iter([BulkItem(str(corpus / f"ok-{i}.pdf")) for i in range(4)])
    planner = bulk._Planner(_verifier(demo_pki), items, chunk_size=4, memory_limit=None)
    sent = []
    while (planned := planner.next()) is not None:
        assert planned[1] == ()  # no pioneer: the look was cut short
        sent += [Path(i.path).name for i in planned[0]]
    assert not planner.scouting
    assert sent == [f"ok-{i}.pdf" for i in range(4)]


def test_a_time_limit_inside_validation_is_time_limit_exceeded_not_a_format_failure(
    demo_pki: DemoPKI, corpus: Path
) -> None:
    """When the clock runs out while the document is being parsed and validated (inside the
    verifier's own "any failure is a verdict" handler), the verdict still says so."""
    policy = ValidationPolicy(validation_time=PINNED_NOW, document_time_limit=0.0001)
    [report] = verify_many([corpus / "ok-0.pdf"], verifier=Verifier(demo_trust(demo_pki), policy))
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.TIME_LIMIT_EXCEEDED


def test_the_relay_passes_templates_on_until_every_worker_has_them(
    demo_pki: DemoPKI, corpus: Path
) -> None:
    """A template one worker made goes out with later chunks until every worker has
    confirmed it, then no more; the parent keeps it too (for workers forked later)."""
    from verify import fastpath
    from verify.bulk import _Done, _Relay

    maker = _verifier(demo_pki)
    fastpath.record_made(maker)
    assert maker.verify(corpus / "ok-0.pdf").passed
    made = fastpath.take_made(maker)
    assert len(made) == 1
    parent = _verifier(demo_pki)
    relay = _Relay(parent, workers=2)
    assert relay.outgoing() == (0, [])
    assert relay.received(_Done([], ("h", 1), 0, made)) == [made[0][0]]
    assert fastpath.stats(parent)["templates"] == 1
    assert relay.outgoing() == (1, made)  # worker 2 has not said it has it
    relay.received(_Done([], ("h", 2), 1, []))
    assert relay.outgoing() == (1, made)  # worker 1 was never sent it
    relay.received(_Done([], ("h", 1), 1, []))
    assert relay.outgoing() == (1, [])
    assert relay.log == []
    relay.forked()
    assert relay.outgoing() == (1, [])


def test_a_long_run_collects_its_garbage_every_thousand_documents(
    demo_pki: DemoPKI, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Full collections happen every GC_EVERY documents (pyHanko's parsed objects are
    cyclic garbage that would otherwise pile up in the oldest generation)."""
    import gc

    from verify import bulk

    monkeypatch.setattr(bulk, "GC_EVERY", 5)
    monkeypatch.setattr(bulk, "_SINCE_GC", 0)
    before = gc.get_stats()[2]["collections"]
    items = [BulkItem(str(corpus / "unsigned.pdf"))] * 20
    reports = list(verify_many(items, verifier=_verifier(demo_pki)))
    assert len(reports) == 20
    assert gc.get_stats()[2]["collections"] - before >= 4


def test_a_run_freezes_what_was_alive_before_it_and_lifts_the_freeze_after(
    demo_pki: DemoPKI, corpus: Path
) -> None:
    """During a run the objects alive before it are frozen (collections walk only the
    run's own); after it nothing stays frozen, and a cycle the caller dropped during the
    run is collected by the next collection."""
    import gc
    import weakref

    class Node:
        pass

    assert gc.get_freeze_count() == 0
    node = Node()
    node.self = node  # type: ignore[attr-defined]
    gone = weakref.ref(node)
    seen = []
    for report in verify_many(discover([corpus]), verifier=_verifier(demo_pki)):
        seen.append(gc.get_freeze_count())
        if node is not None:
            node = None  # type: ignore[assignment]
            gc.collect()
            assert gone() is not None  # frozen: not collected during the run
        assert report.path is not None
    assert min(seen) > 0
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone() is None


def test_a_program_that_froze_its_objects_keeps_them_frozen_after_a_run(
    demo_pki: DemoPKI, corpus: Path
) -> None:
    """A pre-forking program's own gc.freeze() is not undone by a bulk run ending: what it
    froze is still frozen (out of every generation the collector scans). (Not a count of
    frozen objects: a frozen object the run lets go of, an entry a cache evicts, leaves
    the count when it is freed.)"""
    import gc

    program = [object()]  # one of the program's own objects
    gc.freeze()
    try:
        assert not any(o is program for o in gc.get_objects())
        list(verify_many(discover([corpus]), verifier=_verifier(demo_pki)))
        assert gc.get_freeze_count() > 0
        assert not any(o is program for o in gc.get_objects())
    finally:
        gc.unfreeze()


def test_a_huge_document_among_the_first_is_never_read_by_the_forking_parent(
    demo_pki: DemoPKI, corpus: Path, tmp_path: Path
) -> None:
    """With forked workers, a document too large for the parent to look at goes to a worker
    under the memory ceiling: it fails alone, the parent and the run go on."""
    import shutil

    folder = tmp_path / "first-docs"
    folder.mkdir()
    with (folder / "a-huge.pdf").open("wb") as f:
        f.write(b"%PDF-1.7\n")
        f.truncate(1_500 * 1024 * 1024)  # sparse: costs no disk, but reading needs the memory
    shutil.copy(corpus / "ok-1.pdf", folder / "b-ok.pdf")
    policy = ValidationPolicy(validation_time=PINNED_NOW, max_file_size=2 * 1024**3)
    result = _forked_run(
        Verifier(demo_trust(demo_pki), policy), folder, tmp_path, memory_limit=1024**3
    )
    assert result["method"] == "fork"
    reports = {Path(p).name: v for p, v in result["reports"].items()}
    assert reports["a-huge.pdf"][0] == Indication.INDETERMINATE.value
    assert reports["b-ok.pdf"] == ["TOTAL_PASSED", None]


def test_ctrl_c_inside_a_fetch_leaves_no_traceback_behind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A Ctrl-C that lands in a task (an OCSP fetch) reaches the caller; the task left
    behind prints nothing ("Task exception was never retrieved") when it is collected."""
    import asyncio
    import gc

    from verify import bulk

    bulk._reset_loop()
    loop = bulk._loop()

    async def fetch() -> None:
        raise KeyboardInterrupt

    async def validate() -> None:
        task = asyncio.ensure_future(fetch())
        await asyncio.wait([task], timeout=1)

    with pytest.raises(KeyboardInterrupt):
        loop.run_until_complete(validate())
    bulk._reset_loop()
    del loop
    gc.collect()
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]


def _pool_threads() -> list[Any]:
    import threading

    return [t for t in threading.enumerate() if "ExecutorManager" in type(t).__name__]


def test_a_pool_run_leaves_no_manager_thread_into_exit(demo_pki: DemoPKI, corpus: Path) -> None:
    """After a pool run, finished or stopped half-way, the pool's manager thread has ended:
    left running into interpreter exit it wrote to a closed pipe ("OSError: [Errno 9] Bad
    file descriptor" printed after the last report)."""
    before = len(_pool_threads())
    reports = list(verify_many(discover([corpus]), verifier=_verifier(demo_pki), workers=2))
    assert len(reports) == len(EXPECTED)
    assert len(_pool_threads()) == before
    gen = verify_many(discover([corpus]), verifier=_verifier(demo_pki), workers=2, chunk_size=1)
    next(gen)
    gen.close()
    assert len(_pool_threads()) == before


def test_a_file_read_once_gets_the_report_the_verifier_gives_its_path(
    demo_pki: DemoPKI, corpus: Path, tmp_path: Path
) -> None:
    """The bulk runner reads a PDF or XML file once and hands the bytes over: each report
    (signed, tampered, revoked, unsigned, garbage named .pdf, an e-invoice, an HTML page
    and an unsigned XML file, which still go through the screening) is the one the
    verifier gives the file's path."""
    from fixtures.einvoice import invoice_xml, sign_strict

    (tmp_path / "invoice.xml").write_bytes(
        sign_strict(invoice_xml(number="7"), demo_pki, "organisation", at=SIGNED_AT)
    )
    (tmp_path / "page.xml").write_bytes(b"<!doctype html><html><body>x</body></html>")
    (tmp_path / "plain.xml").write_bytes(b"<a>no signature</a>")
    files = [*sorted(corpus.glob("*.pdf")), *sorted(tmp_path.iterdir())]
    verifier = _verifier(demo_pki)
    bulk = {r.path: r for r in verify_many([str(f) for f in files], verifier=verifier)}
    from verify import special

    for f in files:
        read_once = special.read_whole(f, up_to=1 << 20) is not None
        assert read_once is (f.name != "page.xml"), f.name
        if f.name == "page.xml":
            assert bulk[str(f)].format == "html", "screened as before, not verified"
            continue
        direct = verifier.verify(str(f))
        assert bulk[str(f)].to_dict() | {"elapsed_ms": None} == direct.to_dict() | {
            "elapsed_ms": None
        }, f.name


@given(st.binary(max_size=300), st.sampled_from([".pdf", ".xml", ".bin", ".html"]))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_random_bytes_read_once_end_in_a_report(
    demo_pki: DemoPKI, tmp_path: Path, data: bytes, suffix: str
) -> None:
    """Whatever a file holds, read once or screened, its bulk report comes back (no
    crash), for its own path."""
    path = tmp_path / f"random{suffix}"
    path.write_bytes(b"%PDF-" + data if suffix == ".pdf" and data[:1] == b"\0" else data)
    (report,) = list(verify_many([str(path)], verifier=_verifier(demo_pki)))
    assert report.path == str(path)
    assert report.message_en
    assert report.message_vi


def test_two_workers_checking_an_archive_after_expiry_give_full_validations_reports(
    demo_pki: DemoPKI, mixed: list[str]
) -> None:
    """Checked as of 2031, offline, after every demo certificate expired: two worker
    processes, passing their templates (of INDETERMINATE / OUT_OF_BOUNDS_NO_POE verdicts,
    and of hash failures) to each other, give every document the report full validation
    gives it, once. (A fixed time: a clock moved in this process does not move in the
    workers; "now" windows are tested in tests/verify/test_fastpath.py.)"""
    from tests.verify.test_fastpath import AFTER_EXPIRY

    policy = ValidationPolicy(network=False, revocation="soft", validation_time=AFTER_EXPIRY)
    fast = Verifier(demo_trust(demo_pki), policy)
    full = Verifier(demo_trust(demo_pki), policy.replace(fast_path=False))
    paths = [*mixed, *mixed]  # each shape more than once: templates answer
    got = list(verify_many(paths, verifier=fast, workers=2, chunk_size=2))
    expected = {p: full.verify(p).to_dict() for p in set(paths)}
    assert sorted(r.path for r in got if r.path is not None) == sorted(paths)
    for report in got:
        assert report.path is not None
        assert report.to_dict() == expected[report.path], report.path
    indications = {(r.indication.value, str(r.sub_indication)) for r in got}
    assert ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE") in indications


@pytest.fixture(scope="module")
def own_lt(demo_services: DemoServices, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Four B-LT documents whose validation data is each their own (fetched anew, from
    services answering 7 minutes apart), each written twice under other names."""
    from tests.verify.test_fastpath import _own_data

    folder = tmp_path_factory.mktemp("own-lt")
    base = SIGNED_AT + timedelta(hours=1)
    paths = []
    for i in range(4):
        doc = _own_data(demo_services, i, base + timedelta(minutes=7 * i))
        for copy in range(2):
            path = folder / f"lt-{i}-{copy}.pdf"
            path.write_bytes(doc)
            paths.append(str(path))
    return paths


def test_two_workers_on_b_lt_documents_with_validation_data_of_their_own(
    demo_pki: DemoPKI, own_lt: list[str]
) -> None:
    """B-LT documents whose validation data is each their own, which the fast path reads
    byte for byte and object by object and answers from templates kept under both
    readings: two worker processes sharing those templates give every document the
    report full validation gives it, once."""
    policy = ValidationPolicy(validation_time=PINNED_NOW)
    fast = Verifier(demo_trust(demo_pki), policy)
    full = Verifier(demo_trust(demo_pki), policy.replace(fast_path=False))
    got = list(verify_many(own_lt, verifier=fast, workers=2, chunk_size=2))
    expected = {p: full.verify(p).to_dict() for p in own_lt}
    assert sorted(r.path for r in got if r.path is not None) == sorted(own_lt)
    for report in got:
        assert report.path is not None
        assert report.to_dict() == expected[report.path], report.path
        assert report.indication is Indication.TOTAL_PASSED


def _xml_files(folder: Path, sizes: list[int]) -> list[Path]:
    """Unsigned XML files of ``sizes`` elements each, in order (a large one takes long to
    parse; ``<a/>`` takes microseconds)."""
    paths = []
    for i, size in enumerate(sizes):
        path = folder / f"doc-{i}.xml"
        path.write_bytes(b"<a>" + b"<b>x</b>" * size + b"</a>")
        paths.append(path)
    return paths


def test_a_document_out_of_time_mid_turn_leaves_the_others_their_verdicts_in_order(
    demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """One process checks several documents in one run of its event loop: the one whose
    time runs out in the middle (a 450,000-element XML file, about 0.15 s to read, under a
    20 ms limit) is TIME_LIMIT_EXCEEDED, and the documents before and after it in the
    same turn get their own verdicts, in their order."""
    paths = _xml_files(tmp_path, [0, 0, 0, 450_000, 0, 0, 0])
    policy = ValidationPolicy(validation_time=PINNED_NOW, document_time_limit=0.02)
    reports = list(verify_many(paths, verifier=Verifier(demo_trust(demo_pki), policy)))
    assert [r.path for r in reports] == [str(p) for p in paths]
    subs = [r.sub_indication for r in reports]
    assert subs[3] is SubIndication.TIME_LIMIT_EXCEEDED
    assert subs[:3] + subs[4:] == [SubIndication.NO_SIGNATURE_FOUND] * 6


def test_an_interrupt_mid_turn_comes_after_the_reports_already_made(
    demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """A Ctrl-C that reaches the run in the middle of a turn (here: while the next input is
    fetched) is raised to the caller after the reports of the documents finished before
    it: none is lost."""
    paths = _xml_files(tmp_path, [0, 0, 0])

    def sources() -> Iterator[Path]:
        yield from paths
        raise KeyboardInterrupt

    got: list[DocumentReport] = []
    with pytest.raises(KeyboardInterrupt):
        got.extend(verify_many(sources(), verifier=_verifier(demo_pki)))
    assert [r.path for r in got] == [str(p) for p in paths]


def test_a_run_with_a_time_limit_gives_the_alarm_back_as_it_found_it(
    demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """The SIGALRM handler a run puts in place for its time limits is taken away when the
    run ends, and the caller's own handler is back."""
    import signal

    def own(_signum: int, _frame: Any) -> None:
        pass

    previous = signal.signal(signal.SIGALRM, own)
    try:
        paths = _xml_files(tmp_path, [0] * 40)
        policy = ValidationPolicy(validation_time=PINNED_NOW, document_time_limit=5)
        verifier = Verifier(demo_trust(demo_pki), policy)
        assert len(list(verify_many(paths, verifier=verifier))) == 40
        assert signal.getsignal(signal.SIGALRM) is own
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_an_alarm_handled_after_its_documents_clock_stopped_is_ignored() -> None:
    """A SIGALRM delivered just before a document's clock was stopped is handled at Python's
    next instruction, after it: it does not stop whatever runs then (the next document);
    while a clock runs, it stops the document."""
    import signal

    from verify import bulk

    bulk._on_alarm(signal.SIGALRM, None)  # no clock running: nothing happens
    with pytest.raises(bulk._DocumentTimeout), bulk._alarm(60):
        bulk._on_alarm(signal.SIGALRM, None)
    bulk._on_alarm(signal.SIGALRM, None)
