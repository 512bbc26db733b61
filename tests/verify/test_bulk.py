"""Bulk verification: streaming reports, process pools, Dask, and isolation of bad documents."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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


def test_stopping_half_way_is_safe(demo_pki: DemoPKI, corpus: Path) -> None:
    """Closing the generator after a few reports shuts the pool down cleanly."""
    gen = verify_many(discover([corpus]), verifier=_verifier(demo_pki), workers=2, chunk_size=1)
    first = [next(gen) for _ in range(3)]
    gen.close()
    assert len(first) == 3


def test_a_document_that_hangs_gets_a_report_and_the_run_goes_on(
    demo_pki: DemoPKI, corpus: Path, tmp_path: Path
) -> None:
    """A signature whose read never ends (a FIFO) hits the time limit; the others are verified."""
    content = tmp_path / "hang.json"
    content.write_bytes(b"{}")
    fifo = tmp_path / "hang.json.p7s"
    os.mkfifo(fifo)
    policy = ValidationPolicy(validation_time=PINNED_NOW, document_time_limit=3)
    verifier = Verifier(demo_trust(demo_pki), policy)
    items = [BulkItem(str(content), str(fifo)), BulkItem(str(corpus / "ok-0.pdf"))]
    results = _by_path(verify_many(items, verifier=verifier, workers=2, chunk_size=1))
    assert results[str(content)] == ("INDETERMINATE", "TIME_LIMIT_EXCEEDED")
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


def test_forked_workers_inherit_the_warm_verifier(
    demo_services: DemoServices, tmp_path: Path
) -> None:
    """With fork, the first documents are verified in the parent and the workers start
    from its verifier: documents of a shape seen there are never validated in full (or
    fetched for) again, in any worker."""
    from tests.verify.test_fastpath import resign_pdf

    pki = demo_services.pki
    first = sign_pdf(pki, "citizen", minimal_pdf("Hồ sơ", padding=2000), at=SIGNED_AT)
    folder = tmp_path / "same-shape"
    folder.mkdir()
    for i in range(24):
        (folder / f"doc-{i:02d}.pdf").write_bytes(resign_pdf(pki, "citizen", first, i))
    # an in-memory revocation cache: a cold copy in a worker would fetch again
    verifier = Verifier(demo_trust(pki), ValidationPolicy(validation_time=PINNED_NOW))
    before = sum(demo_services.requests.hits.values())
    result = _forked_run(verifier, folder, tmp_path)
    assert result["method"] == "fork"
    assert len(result["reports"]) == 24
    assert all(v == ["TOTAL_PASSED", None] for v in result["reports"].values())
    fetched = sum(demo_services.requests.hits.values()) - before
    alone = Verifier(demo_trust(pki), ValidationPolicy(validation_time=PINNED_NOW))
    before = sum(demo_services.requests.hits.values())
    assert alone.verify(folder / "doc-00.pdf").passed
    assert fetched == sum(demo_services.requests.hits.values()) - before  # fetched once


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


def test_a_huge_document_among_the_first_never_runs_in_the_forking_parent(
    demo_pki: DemoPKI, corpus: Path, tmp_path: Path
) -> None:
    """With forked workers, a document too large for the warm-up goes to a worker under the
    memory ceiling: it fails alone, the parent and the run go on."""
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
