"""``verify serve`` under faults: slow and vanishing clients, huge bodies, the OCSP
responder going away mid-run, and 64 clients at once. The real service on a free loopback
port (helpers of :mod:`tests.verify.test_service`); each test is bounded to a few seconds."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures.documents import minimal_pdf, sign_pdf
from fixtures.pki import start_services
from tests.conftest import PINNED_NOW
from tests.verify.conftest import SIGNED_AT, Corpus
from tests.verify.test_service import (
    SINGLE,
    Served,
    _response,
    _status,
    comparable,
    one_json_line,
    start,
)

pytestmark = pytest.mark.slow

HEAD = "POST /v1/verify?filename=x.pdf HTTP/1.1\r\nHost: x\r\n"


@pytest.fixture(scope="module")
def faults_service(
    verify_corpus: Corpus, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """A 3 s body timeout, a 1 MiB body limit, room for 256 requests in hand."""
    served = start(
        tmp_path_factory.mktemp("serve-faults"),
        verify_corpus,
        "--read-timeout",
        "3",
        "--max-body",
        "1M",
        "--max-pending",
        "256",
    )
    try:
        yield served
    finally:
        served.stop()


def no_traceback_logged(served: Served, since: int = 0) -> None:
    """No traceback, error or 5xx in the service's log after byte ``since``."""
    text = served.log.read_text(encoding="utf-8", errors="replace")[since:]
    assert "Traceback" not in text, text[:4000]
    records = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            records.append(json.loads(line))
    assert [r for r in records if r.get("level") == "ERROR"] == []
    assert [r for r in records if int(r.get("status", 0)) >= 500] == []


def log_size(served: Served) -> int:
    return len(served.log.read_text(encoding="utf-8", errors="replace"))


def test_one_byte_a_second_is_408_while_others_are_answered(
    faults_service: Served, verify_corpus: Corpus
) -> None:
    """A client dribbling its body one byte a second gets 408 after --read-timeout (3 s);
    meanwhile the service answers other clients 200."""
    document = verify_corpus["passed-bb.pdf"].read_bytes()
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", faults_service.port), timeout=10) as slow:
        slow.sendall(f"{HEAD}Content-Length: {len(document)}\r\n\r\n".encode())
        answers = []
        answer = b""
        for i in range(8):  # at most 8 s of dribbling
            try:
                slow.sendall(document[i : i + 1])
            except OSError:  # the service answered and closed
                break
            other = faults_service.post(document, filename="other.pdf")
            answers.append(other.status_code)
            slow.settimeout(1.0)
            try:
                answer = slow.recv(65536)
            except TimeoutError:
                continue
            if answer:
                break
        if b"body_timeout" not in answer:
            answer += _response(slow, 3)
    assert _status(answer) == 408, answer
    assert b'"body_timeout"' in answer
    assert time.monotonic() - started < 9
    assert answers
    assert set(answers) == {200}
    ok = faults_service.post(document, filename="after.pdf")
    assert ok.status_code == 200
    assert one_json_line(ok)["indication"] == "TOTAL_PASSED"


def test_client_disconnecting_mid_request_leaves_service_answering_without_traceback(
    faults_service: Served, verify_corpus: Corpus
) -> None:
    """Clients that hang up halfway through the body, right after it (while it is being
    validated) and right after the headers: the next request is 200, nothing in the log is a
    traceback, an ERROR or a 5xx."""
    document = verify_corpus["passed-bt.pdf"].read_bytes()
    for sent in (len(document) // 2, len(document), 0):
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", faults_service.port), timeout=5)
            sock.sendall(
                f"{HEAD}Content-Length: {len(document)}\r\n\r\n".encode() + document[:sent]
            )
            sock.close()
    time.sleep(1.0)  # the service notices the hang-ups
    ok = faults_service.post(document, filename="after.pdf")
    assert ok.status_code == 200, ok.text
    assert one_json_line(ok)["indication"] == "TOTAL_PASSED"
    assert faults_service.get("/healthz").status_code == 200
    no_traceback_logged(faults_service)


def test_announced_gigabyte_is_413_before_read_and_chunked_overflow_is_cut_with_413(
    faults_service: Served,
) -> None:
    """Content-Length 1 GiB is 413 at once with no byte of body sent; a chunked body with
    no length is answered 413 (and the connection closed) once it passes --max-body (1 MiB),
    long before 1 GiB."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", faults_service.port), timeout=5) as sock:
        sock.sendall(f"{HEAD}Content-Length: {1 << 30}\r\n\r\n".encode())
        raw = _response(sock, 5)
    assert _status(raw) == 413, raw
    assert b'"body_too_large"' in raw
    assert time.monotonic() - started < 3

    chunk = b"%x\r\n%s\r\n" % (65536, b"a" * 65536)
    sent = 0
    raw = b""
    with socket.create_connection(("127.0.0.1", faults_service.port), timeout=5) as sock:
        sock.sendall(f"{HEAD}Transfer-Encoding: chunked\r\n\r\n".encode())
        sock.setblocking(False)
        deadline = time.monotonic() + 10
        while sent < (1 << 30) and time.monotonic() < deadline:
            try:
                received = sock.recv(65536)
            except BlockingIOError:
                received = b""
            except OSError:
                break
            if received:
                raw += received
                break
            try:
                sent += sock.send(chunk)
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:  # closed by the service after its answer
                break
        sock.setblocking(True)
        # the service closes with the client's bytes unread, so the kernel may reset the
        # connection before the 413 is read: then its log says what it answered
        with contextlib.suppress(ConnectionResetError):
            raw += _response(sock, 3)
    statuses = [int(r.get("status", 0)) for r in faults_service.lines() if "status" in r]
    assert _status(raw) == 413 if raw else 413 in statuses, raw
    assert not raw or b'"body_too_large"' in raw
    assert sent < 64 << 20  # cut off long before the gigabyte
    assert faults_service.get("/healthz").status_code == 200


def test_ocsp_responder_stopped_mid_run_gives_reports_not_5xx(
    tmp_path: Path, verify_corpus: Corpus
) -> None:
    """PKI services of its own: after the OCSP/CRL responder stops mid-run, every answer is
    still 200, a report that is TOTAL_PASSED (revocation answers from the cache) or
    INDETERMINATE (none to be had), never a failure or a 5xx."""
    services = start_services(at_time=PINNED_NOW)
    stopped = False
    served = None
    try:
        pki = services.pki
        roots = tmp_path / "roots.pem"
        roots.write_bytes(pki.cert_pem("vn-root") + pki.cert_pem("gov-root"))
        docs = {
            label: sign_pdf(pki, label, minimal_pdf(f"Don {label}"), at=SIGNED_AT)
            for label in ("citizen", "official", "organisation", "agency-seal")
        }
        trust = Corpus(root=tmp_path, trust_pem=roots)
        served = start(tmp_path / "serve", trust, "--max-pending", "256")
        warm = served.post(docs["citizen"], filename="warm.pdf")
        assert warm.status_code == 200
        assert one_json_line(warm)["indication"] == "TOTAL_PASSED"

        def stop_soon() -> None:
            nonlocal stopped
            time.sleep(0.3)
            services.stop()
            stopped = True

        stopper = threading.Thread(target=stop_soon)
        stopper.start()
        names = list(docs) * 4
        assert served is not None
        service = served
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda n: service.post(docs[n], filename=f"{n}.pdf"), names))
        stopper.join()
        after = [service.post(docs[n], filename=f"{n}.pdf") for n in docs]
    finally:
        if not stopped:
            services.stop()
        if served is not None:
            served.stop()
    statuses = [a.status_code for a in answers + after]
    assert statuses == [200] * len(statuses)
    verdicts = {one_json_line(a)["indication"] for a in answers + after}
    assert verdicts <= {"TOTAL_PASSED", "INDETERMINATE"}, verdicts
    assert one_json_line(after[0])["indication"] in ("TOTAL_PASSED", "INDETERMINATE")


def test_sixty_four_concurrent_clients_get_200_and_the_serial_verdicts(
    faults_service: Served, verify_corpus: Corpus
) -> None:
    """64 clients at once, two requests each over the corpus: every answer is 200 and each
    report equals the serial answer for that document; nothing in the log meanwhile."""
    since = log_size(faults_service)
    bodies = {name: verify_corpus[name].read_bytes() for name in SINGLE}
    serial = {}
    for name, body in bodies.items():
        response = faults_service.post(body, filename=name)
        assert response.status_code == 200
        serial[name] = comparable(one_json_line(response))

    async def client(i: int) -> list[tuple[str, int, dict[str, Any] | None]]:
        out: list[tuple[str, int, dict[str, Any] | None]] = []
        async with httpx.AsyncClient(base_url=faults_service.url, timeout=30) as http:
            for j in range(2):
                name = SINGLE[(i + j) % len(SINGLE)]
                r = await http.post("/v1/verify", content=bodies[name], params={"filename": name})
                out.append((name, r.status_code, r.json() if r.status_code == 200 else None))
        return out

    async def everyone() -> list[list[tuple[str, int, dict[str, Any] | None]]]:
        return await asyncio.gather(*(client(i) for i in range(64)))

    started = time.monotonic()
    results = [item for batch in asyncio.run(everyone()) for item in batch]
    assert time.monotonic() - started < 40
    assert len(results) == 128
    assert [status for _, status, _ in results] == [200] * 128
    for name, _, report in results:
        assert report is not None
        assert comparable(report) == serial[name], name
    assert os.path.exists(faults_service.log)
    no_traceback_logged(faults_service, since)


def test_pdfium_rendering_from_many_threads_at_once_does_not_crash_the_process() -> None:
    """The visual check's PDFium rendering, from 8 threads at once (as a service worker's
    threads do for two-signature PDFs): PDFium is not thread-safe, so it is serialised;
    without that the process died with a general protection fault under load."""
    from verify import visual

    pdf = minimal_pdf("Don de nghi", pages=2)
    with ThreadPoolExecutor(8) as pool:
        rendered = list(pool.map(lambda i: visual._render(pdf, 2, annots=i % 2 == 0), range(48)))
    assert all(len(images) == 2 for images in rendered)
