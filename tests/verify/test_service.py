"""``verify serve`` for real: uvicorn in a process of its own on a free loopback port, the
demo PKI's roots as trust, OCSP/CRL fetched live from the demo services, validation time
pinned with --at. Every test talks HTTP to it."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures.documents import minimal_pdf, sign_pdf
from fixtures.pki import DemoPKI, DemoServices
from tests.verify.conftest import EXPECTED, PINNED_AT, REPO, SIGNED_AT, SIGNER_NAME, Corpus
from verify import cli, service
from verify.cache import RevocationCache

pytestmark = pytest.mark.slow

Validate = Callable[[dict[str, Any]], None]
TOKEN = "t0k3n-for-the-demo-service-0123456789"
STARTUP_SECONDS = 120


@dataclass
class Served:
    """One ``verify serve`` process (and its workers): its URL and its JSON log lines."""

    process: subprocess.Popen[bytes]
    log: Path
    port: int = 0
    cache: Path | None = None
    tokens: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lines(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                found.append(json.loads(line))
        return found

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[0]}"} if self.tokens else {}

    def post(self, body: bytes, **params: str) -> httpx.Response:
        return httpx.post(
            f"{self.url}/v1/verify",
            content=body,
            params=params,
            headers=self.headers(),
            timeout=60,
        )

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=30, **kwargs)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start(
    tmp: Path,
    corpus: Corpus,
    *args: str,
    cache: bool = True,
    tokens: list[str] | None = None,
    ready_processes: int = 1,
) -> Served:
    """Start ``python -m verify serve --port 0`` and wait until it answers /healthz (and,
    with workers, until each of them said it is ready)."""
    tmp.mkdir(parents=True, exist_ok=True)
    log = tmp / "serve.log"
    argv = ["--port", "0", "--trust", os.fspath(corpus.trust_pem)]
    if "--at" not in args:
        argv += ["--at", PINNED_AT]
    cache_dir = tmp / "cache" if cache else None
    argv += ["--cache", os.fspath(cache_dir)] if cache_dir else ["--no-cache"]
    if tokens:
        (tmp / "tokens").write_text("# demo tokens\n\n" + "\n".join(tokens) + "\n")
        argv += ["--token-file", os.fspath(tmp / "tokens")]
    env = {**os.environ, "HOSO_CACHE_DIR": os.fspath(tmp / "default-cache")}
    with log.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "verify", "serve", *argv, *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=REPO,
            env=env,
        )
    served = Served(process, log, cache=cache_dir, tokens=tokens or [])
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        lines = served.lines()
        ports = [line["port"] for line in lines if line.get("message") == "listening"]
        ready = {line["pid"] for line in lines if line.get("message") == "ready to serve"}
        if ports and len(ready) >= ready_processes:
            served.port = ports[0]
            try:
                if served.get("/healthz").status_code == 200:
                    return served
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    served.stop()
    raise AssertionError(f"the service did not start:\n{log.read_text()}")


@pytest.fixture(scope="module")
def main_service(
    verify_corpus: Corpus, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    served = start(tmp_path_factory.mktemp("serve-main"), verify_corpus)
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture(scope="module")
def guarded_service(
    verify_corpus: Corpus, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """Tokens, a 64 KiB body limit, a 3 s body timeout, one request in hand at a time."""
    served = start(
        tmp_path_factory.mktemp("serve-guarded"),
        verify_corpus,
        "--max-body",
        "64K",
        "--read-timeout",
        "3",
        "--max-pending",
        "1",
        tokens=[TOKEN, "second-token-of-the-demo-service"],
    )
    try:
        yield served
    finally:
        served.stop()


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """A report as JSON without its elapsed time, paths reduced to their file names."""
    data = dict(report)
    data.pop("elapsed_ms", None)
    for key in ("path", "detached_signature"):
        if data.get(key):
            data[key] = Path(data[key]).name
    return data


def one_json_line(response: httpx.Response) -> dict[str, Any]:
    text = response.text
    assert text.endswith("\n"), text
    assert text.count("\n") == 1, text
    assert "Traceback" not in text
    data: dict[str, Any] = json.loads(text)
    return data


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    data = one_json_line(response)
    assert data["status"] == status
    assert data["error"] == code
    assert data["message_vi"]
    assert data["message_en"]
    assert data["request_id"] == response.headers["x-request-id"]
    return data


def multipart_pair(corpus: Corpus) -> dict[str, tuple[str, bytes]]:
    return {
        "document": ("to-khai.xml", corpus["to-khai.xml"].read_bytes()),
        "signature": ("to-khai.xml.p7s", corpus["to-khai.xml.p7s"].read_bytes()),
    }


def cli_reports(
    corpus: Corpus, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> dict[str, dict[str, Any]]:
    """``verify --json`` over the corpus folder, by file name."""
    capsys.readouterr()
    code = cli.main(
        [
            "--json",
            "--no-cache",
            "--trust",
            os.fspath(corpus.trust_pem),
            "--at",
            PINNED_AT,
            os.fspath(corpus.root),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1, out  # tampered and revoked documents fail
    reports = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {Path(r["path"]).name: comparable(r) for r in reports}


SINGLE = [name for name in EXPECTED if name not in ("to-khai.xml", "orphan.p7s")]


def ask_all(served: Served, corpus: Corpus) -> dict[str, dict[str, Any]]:
    answers = {}
    for name in SINGLE:
        response = served.post(corpus[name].read_bytes(), filename=name)
        assert response.status_code == 200, response.text
        answers[name] = one_json_line(response)
    response = httpx.post(
        f"{served.url}/v1/verify", files=multipart_pair(corpus), headers=served.headers()
    )
    assert response.status_code == 200, response.text
    answers["to-khai.xml"] = one_json_line(response)
    return answers


# -- the reports ---------------------------------------------------------------------------


def test_every_report_is_the_cli_json_line_for_the_same_file(
    main_service: Served,
    verify_corpus: Corpus,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    validate_report: Validate,
) -> None:
    """POST /v1/verify answers, for every document of the test corpus (passed B-B and
    B-T, tampered, revoked, unsigned, garbage, truncated; the detached pair as multipart),
    exactly the JSON line ``verify --json`` prints for that file, named by ?filename= (or
    the part's file name), and each matches docs/report-schema.json."""
    expected = cli_reports(verify_corpus, capsys, tmp_path)
    answers = ask_all(main_service, verify_corpus)
    for name, answer in answers.items():
        validate_report(answer)
        assert answer["path"] == name
        assert (answer["indication"], answer["sub_indication"]) == EXPECTED[name], name
        assert comparable(answer) == expected[name], name
    assert answers["to-khai.xml"]["detached_signature"] == "to-khai.xml.p7s"
    assert SIGNER_NAME in json.dumps(answers["passed-bb.pdf"], ensure_ascii=False)


def test_without_filename_the_report_has_no_path(
    main_service: Served, verify_corpus: Corpus
) -> None:
    """A body without ?filename= is reported with path null, as bytes given to the
    library are; the verdict is the same."""
    answer = one_json_line(main_service.post(verify_corpus["passed-bb.pdf"].read_bytes()))
    assert answer["path"] is None
    assert answer["indication"] == "TOTAL_PASSED"


def test_report_html_and_pdf_are_the_rendered_report(
    main_service: Served, verify_corpus: Corpus
) -> None:
    """?report=html answers the auditor's HTML page (signer named, verdict in Vietnamese);
    ?report=pdf the same page as a PDF."""
    body = verify_corpus["passed-bb.pdf"].read_bytes()
    html = main_service.post(body, filename="passed-bb.pdf", report="html")
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert "<html" in html.text
    assert SIGNER_NAME in html.text
    assert "passed-bb.pdf" in html.text
    pdf = main_service.post(body, filename="passed-bb.pdf", report="pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def test_sixteen_concurrent_requests_agree_with_serial_answers(
    main_service: Served, verify_corpus: Corpus
) -> None:
    """Sixteen clients at once (each corpus document twice, the detached pair among them)
    get the reports the same service gave one at a time."""
    serial = {name: comparable(a) for name, a in ask_all(main_service, verify_corpus).items()}

    def ask(name: str) -> tuple[str, dict[str, Any]]:
        if name == "to-khai.xml":
            response = httpx.post(
                f"{main_service.url}/v1/verify", files=multipart_pair(verify_corpus), timeout=120
            )
        else:
            response = httpx.post(
                f"{main_service.url}/v1/verify",
                content=verify_corpus[name].read_bytes(),
                params={"filename": name},
                timeout=120,
            )
        assert response.status_code == 200, response.text
        return name, comparable(one_json_line(response))

    names = (list(serial) * 2)[:16]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(ask, names))
    assert len(answers) == 16
    for name, answer in answers:
        assert answer == serial[name], name


MIXED_EXPECTED = {
    "genuine": ("TOTAL_PASSED", None),
    "stamped": ("TOTAL_PASSED", None),
    "tampered": ("TOTAL_FAILED", "HASH_FAILURE"),
    "revoked": ("TOTAL_FAILED", "REVOKED"),
    "two": ("TOTAL_PASSED", None),
}


@pytest.fixture(scope="module")
def mixed_corpus(demo_pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three documents of each kind, each distinct (so that the second and third of a
    kind are answered from the template the first made): genuine B-B, B-T, tampered,
    revoked, and a citizen's signature countersigned by an official."""
    root = tmp_path_factory.mktemp("mixed")
    for i in range(3):
        pdf = minimal_pdf(f"Don de nghi so {i} " + "x" * (17 * i))
        genuine = sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT)
        (root / f"genuine-{i}.pdf").write_bytes(genuine)
        stamped = sign_pdf(demo_pki, "official", pdf, at=SIGNED_AT, timestamp=True)
        (root / f"stamped-{i}.pdf").write_bytes(stamped)
        tampered = bytearray(genuine)
        tampered[tampered.index(b"/Helvetica") + 1] ^= 0x01
        (root / f"tampered-{i}.pdf").write_bytes(bytes(tampered))
        revoked = sign_pdf(demo_pki, "citizen-revoked", pdf, at=SIGNED_AT)
        (root / f"revoked-{i}.pdf").write_bytes(revoked)
        two = sign_pdf(demo_pki, "official", genuine, at=SIGNED_AT, field_name="Signature2")
        (root / f"two-{i}.pdf").write_bytes(two)
    return root


def test_mixed_corpus_twice_gives_the_cli_reports_first_in_full_then_from_templates(
    main_service: Served,
    verify_corpus: Corpus,
    mixed_corpus: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Genuine, time-stamped, tampered, revoked and two-signature PDFs sent through the
    service twice (one client, then 8 at once) get, every time, exactly the report of
    ``verify --json`` for the same file, elapsed time aside; the service's fast path
    answered some of them (its templates are what the second pass exercises)."""
    capsys.readouterr()
    code = cli.main(
        [
            "--json",
            "--no-cache",
            "--trust",
            os.fspath(verify_corpus.trust_pem),
            "--at",
            PINNED_AT,
            os.fspath(mixed_corpus),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1, out  # tampered and revoked documents fail
    expected = {
        Path(r["path"]).name: comparable(r)
        for r in (json.loads(line) for line in out.splitlines() if line.strip())
    }
    names = sorted(p.name for p in mixed_corpus.iterdir())
    assert sorted(expected) == names
    for name in names:
        kind = name.rsplit("-", 1)[0]
        got = (expected[name]["indication"], expected[name]["sub_indication"])
        assert got == MIXED_EXPECTED[kind], name
    hits_before = _metrics(main_service.get("/metrics").text)["hoso_fastpath_hits_total"]

    def ask(name: str) -> tuple[str, dict[str, Any]]:
        response = main_service.post((mixed_corpus / name).read_bytes(), filename=name)
        assert response.status_code == 200, response.text
        return name, comparable(one_json_line(response))

    first = dict(ask(name) for name in names)
    with ThreadPoolExecutor(8) as pool:
        second = dict(pool.map(ask, names))
    for name in names:
        assert first[name] == expected[name], name
        assert second[name] == expected[name], name
    hits = _metrics(main_service.get("/metrics").text)["hoso_fastpath_hits_total"]
    assert hits - hits_before >= 9  # at least the second pass's genuine, B-T and tampered


# -- the other endpoints -------------------------------------------------------------------


def test_healthz_readyz_openapi_and_metrics(main_service: Served, verify_corpus: Corpus) -> None:
    """/healthz is alive; /readyz is 200 (demo roots valid at --at, SQLite cache
    writable); /openapi.json is an OpenAPI 3.1 document of every path; /metrics counts
    requests, verdicts by indication, the latency histogram, fetches, fetch errors and
    cache hits in Prometheus text."""
    assert main_service.get("/healthz").json() == {"status": "ok"}
    ready = main_service.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "problems": []}
    spec = main_service.get("/openapi.json").json()
    assert spec["openapi"] == "3.1.0"
    assert set(spec["paths"]) == {"/v1/verify", "/healthz", "/readyz", "/metrics", "/openapi.json"}
    main_service.post(verify_corpus["passed-bb.pdf"].read_bytes(), filename="a.pdf")
    main_service.post(verify_corpus["tampered.pdf"].read_bytes(), filename="b.pdf")
    metrics = main_service.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    values = _metrics(metrics.text)
    assert values['hoso_verdicts_total{indication="TOTAL_PASSED"}'] >= 1
    assert values['hoso_verdicts_total{indication="TOTAL_FAILED"}'] >= 1
    assert values['hoso_http_requests_total{path="/v1/verify",status="200"}'] >= 2
    count = values["hoso_verify_duration_seconds_count"]
    assert values['hoso_verify_duration_seconds_bucket{le="+Inf"}'] == count >= 2
    assert values["hoso_verify_duration_seconds_sum"] > 0
    assert values["hoso_revocation_cache_hits_total"] + values["hoso_fastpath_hits_total"] >= 1
    assert values["hoso_fetches_total"] >= 1  # live OCSP/CRL from the demo services
    assert "hoso_fetch_errors_total" in values
    assert values["hoso_processes"] == 1
    for line in metrics.text.splitlines():
        assert line.startswith("#") or re.fullmatch(r"[a-z_]+(\{[^}]*\})? [0-9.e+-]+", line)


def _metrics(text: str) -> dict[str, float]:
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def test_request_id_is_echoed_and_logged_without_document_content(
    main_service: Served, verify_corpus: Corpus
) -> None:
    """A sane X-Request-Id comes back in the response and in the request's JSON log line
    (with status, verdict and time); no document content or file name is ever logged."""
    body = verify_corpus["passed-bb.pdf"].read_bytes()
    response = httpx.post(
        f"{main_service.url}/v1/verify",
        content=body,
        params={"filename": "secret-name.pdf"},
        headers={"X-Request-Id": "trace-42"},
    )
    assert response.headers["x-request-id"] == "trace-42"
    time.sleep(0.2)
    lines = [line for line in main_service.lines() if line.get("request_id") == "trace-42"]
    assert len(lines) == 1
    line = lines[0]
    assert line["status"] == 200
    assert line["indication"] == "TOTAL_PASSED"
    assert line["path"] == "/v1/verify"
    assert line["ms"] > 0
    assert line["bytes"] == len(body)
    log = main_service.log.read_text(encoding="utf-8")
    assert "secret-name" not in log
    assert "Helvetica" not in log
    assert "Traceback" not in log


# -- hostile and malformed requests --------------------------------------------------------


def test_malformed_requests_are_400_with_one_json_line(
    main_service: Served, verify_corpus: Corpus
) -> None:
    """Bad multipart (no boundary, garbage, no document part, an unexpected part, a text
    field instead of a file, two documents), an unknown ?report=, a bad ?filename= and an
    empty body each get 400 and one JSON line with Vietnamese and English messages."""
    url = f"{main_service.url}/v1/verify"
    pdf = verify_corpus["passed-bb.pdf"].read_bytes()
    cases: list[httpx.Response] = [
        httpx.post(url, content=b"x", headers={"Content-Type": "multipart/form-data"}),
        httpx.post(
            url,
            content=b"--zz\r\nnot a part\r\n--zz",
            headers={"Content-Type": "multipart/form-data; boundary=zz"},
        ),
        httpx.post(url, files={"signature": ("a.p7s", b"0")}),
        httpx.post(url, files={"document": ("a.pdf", pdf), "extra": ("b", b"1")}),
        httpx.post(url, files={"document": (None, b"a text field, not a file")}),
        httpx.post(url, files=[("document", ("a.pdf", pdf)), ("document", ("b.pdf", pdf))]),
    ]
    for response in cases:
        error_of(response, 400, "bad_multipart")
    error_of(httpx.post(url, content=pdf, params={"report": "docx"}), 400, "bad_report")
    error_of(httpx.post(url, content=pdf, params={"filename": "a\x01b"}), 400, "bad_filename")
    error_of(httpx.post(url, content=b""), 400, "empty_body")
    error_of(httpx.get(url), 405, "method_not_allowed")
    error_of(main_service.get("/v2/verify"), 404, "not_found")


def test_hostile_bodies_get_a_report_or_one_json_line(main_service: Served) -> None:
    """Random bytes, a PDF header on garbage, deeply nested XML, a ZIP bomb's header,
    half a CMS: each gets a 200 report or a one-line error, never a 5xx or a
    traceback."""
    bodies = [
        os.urandom(4096),
        b"%PDF-1.7\n" + os.urandom(2048),
        b"<a>" * 5000 + b"</a>" * 5000,
        b"PK\x03\x04" + b"\x00" * 100,
        bytes.fromhex("3082ffff06092a864886f70d010702a0"),
        b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>",
    ]
    for i, body in enumerate(bodies):
        response = main_service.post(body, filename=f"hostile-{i}")
        assert response.status_code == 200, response.text
        report = one_json_line(response)
        assert report["indication"] in ("TOTAL_FAILED", "INDETERMINATE", "NOT_SIGNED")
    errors = [line for line in main_service.lines() if line.get("level") == "ERROR"]
    assert errors == []


def _raw(served: Served, head: str, body: bytes = b"", *, wait: float = 10) -> bytes:
    """Send a hand-made request on a socket and read the response."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=wait) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n" + body)
        return _response(sock, wait)


def _response(sock: socket.socket, wait: float) -> bytes:
    """One HTTP response read from ``sock``: its head and Content-Length bytes of body
    (or what came before the server closed, or before ``wait`` seconds)."""
    sock.settimeout(wait)
    received = b""
    try:
        while True:
            head, sep, rest = received.partition(b"\r\n\r\n")
            if sep:
                found = re.search(rb"(?i)content-length: *(\d+)", head)
                if found and len(rest) >= int(found.group(1)):
                    break
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    except TimeoutError:
        pass
    return received


def _status(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1])


def test_body_over_max_body_is_413_before_it_is_read(guarded_service: Served) -> None:
    """A Content-Length over --max-body (64 KiB) is answered 413 at once, before a byte of
    the 100 MB body is sent; a chunked body with no length is cut off with 413 as soon as
    it passes the limit."""
    auth = f"Authorization: Bearer {TOKEN}\r\n"
    started = time.monotonic()
    raw = _raw(
        guarded_service,
        f"POST /v1/verify HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 100000000\r\n",
    )
    assert _status(raw) == 413
    assert b'"body_too_large"' in raw
    assert time.monotonic() - started < 5
    chunk = b"a" * 16384
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(6))
    raw = _raw(
        guarded_service,
        f"POST /v1/verify HTTP/1.1\r\nHost: x\r\n{auth}Transfer-Encoding: chunked\r\n",
        chunks,
    )
    assert _status(raw) == 413
    assert b'"body_too_large"' in raw


def test_slow_body_is_408_and_a_full_house_is_503(
    guarded_service: Served, verify_corpus: Corpus
) -> None:
    """With --max-pending 1, a client sending its body slowly holds the one place: another
    request meanwhile gets 503 with Retry-After; the slow one gets 408 when --read-timeout
    (3 s) runs out; then requests are answered again."""
    auth = f"Authorization: Bearer {TOKEN}\r\n"
    with socket.create_connection(("127.0.0.1", guarded_service.port), timeout=10) as slow:
        slow.sendall(
            f"POST /v1/verify HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 1000\r\n\r\n".encode()
            + b"0123456789"
        )
        deadline = time.monotonic() + 2.5
        busy = guarded_service.post(b"%PDF-1.7")
        while busy.status_code != 503 and time.monotonic() < deadline:
            time.sleep(0.1)  # the slow request has not reached the service yet
            busy = guarded_service.post(b"%PDF-1.7")
        error_of(busy, 503, "busy")
        assert busy.headers["retry-after"] == "1"
        answer = _response(slow, 10)
    assert _status(answer) == 408
    assert b'"body_timeout"' in answer
    ok = guarded_service.post(verify_corpus["passed-bb.pdf"].read_bytes(), filename="a.pdf")
    assert ok.status_code == 200
    assert one_json_line(ok)["indication"] == "TOTAL_PASSED"


def test_bearer_token_is_required_where_there_are_tokens(
    guarded_service: Served, verify_corpus: Corpus
) -> None:
    """With --token-file: no token or a wrong one is 401 (WWW-Authenticate: Bearer) for
    /v1/verify and /metrics; either token of the file is accepted; the probes and the
    OpenAPI document stay open."""
    url = f"{guarded_service.url}/v1/verify"
    body = verify_corpus["passed-bb.pdf"].read_bytes()
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": TOKEN},
    ):
        response = httpx.post(url, content=body, headers=headers)
        error_of(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"
    error_of(guarded_service.get("/metrics"), 401, "unauthorized")
    for token in guarded_service.tokens:
        ok = httpx.post(url, content=body, headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200, ok.text
    assert guarded_service.get("/metrics", headers=guarded_service.headers()).status_code == 200
    for path in ("/healthz", "/readyz", "/openapi.json"):
        assert guarded_service.get(path).status_code == 200


def test_without_tokens_only_loopback_is_served(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--host 0.0.0.0 (or any address not on loopback) without --token-file: exit 64 and
    one line on stderr, nothing bound; a token file without a token is refused too."""
    assert service.main(["--host", "0.0.0.0", "--no-cache"]) == 64  # noqa: S104 - refused
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "loopback" in err
    assert "Traceback" not in err
    empty = tmp_path / "tokens"
    empty.write_text("# none yet\n")
    assert service.main(["--token-file", os.fspath(empty), "--no-cache"]) == 64
    assert "holds no token" in capsys.readouterr().err


def test_readyz_flips_with_the_revocation_cache(guarded_service: Served) -> None:
    """/readyz is 503 naming the cache while the SQLite cache file is gone (its folder
    moved away), and 200 again once it is back."""
    assert guarded_service.cache is not None
    assert guarded_service.get("/readyz").status_code == 200
    moved = guarded_service.cache.with_name("cache-moved")
    guarded_service.cache.rename(moved)
    try:
        response = guarded_service.get("/readyz")
        assert response.status_code == 503
        problems = response.json()["problems"]
        assert [p["check"] for p in problems] == ["cache"]
        assert "revocation cache" in problems[0]["message_en"]
    finally:
        moved.rename(guarded_service.cache)
    assert guarded_service.get("/readyz").status_code == 200


@pytest.fixture(scope="module")
def late_service(
    verify_corpus: Corpus, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """Validation time 1990 (no anchor valid yet) and a 1 ms time limit per document."""
    folder = tmp_path_factory.mktemp("serve-late")
    policy = folder / "policy.toml"
    policy.write_text("document_time_limit = 0.001\n")
    served = start(
        folder, verify_corpus, "--at", "1990-01-01T00:00:00Z", "--policy", os.fspath(policy)
    )
    try:
        yield served
    finally:
        served.stop()


def test_readyz_is_503_when_no_trust_anchor_is_valid(late_service: Served) -> None:
    """Trust data that cannot speak for the validation time makes the service not ready:
    503 with the reason in Vietnamese and English."""
    response = late_service.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert [p["check"] for p in body["problems"]] == ["trust"]
    assert "1990-01-01" in body["problems"][0]["message_en"]


def test_validation_past_its_time_limit_is_an_indeterminate_report(
    late_service: Served, verify_corpus: Corpus
) -> None:
    """A validation that runs past the policy's document_time_limit is answered 200 with
    an INDETERMINATE / TIME_LIMIT_EXCEEDED report, not an error."""
    response = late_service.post(verify_corpus["passed-bb.pdf"].read_bytes(), filename="x.pdf")
    assert response.status_code == 200
    report = one_json_line(response)
    assert (report["indication"], report["sub_indication"]) == (
        "INDETERMINATE",
        "TIME_LIMIT_EXCEEDED",
    )
    assert report["path"] == "x.pdf"


# -- processes -----------------------------------------------------------------------------


def test_two_workers_share_the_sqlite_revocation_cache(
    verify_corpus: Corpus,
    tmp_path: Path,
    demo_services: DemoServices,
    main_service: Served,
) -> None:
    """With --workers 2, both processes answer (their pids in the request log), with the
    reports one process gives; after the first document, whose OCSP/CRL answers one
    process fetched, the other process validates in full from the shared SQLite cache: the
    demo responders see no further request. /metrics sums both processes."""
    served = start(tmp_path / "two", verify_corpus, "--workers", "2", ready_processes=2)
    try:
        body = verify_corpus["passed-bb.pdf"].read_bytes()
        expected = comparable(one_json_line(main_service.post(body, filename="passed-bb.pdf")))
        first = served.post(body, filename="passed-bb.pdf")
        assert first.status_code == 200
        assert served.cache is not None
        assert len(RevocationCache(served.cache / "revocation-cache.sqlite3")) >= 1
        before = dict(demo_services.requests.hits)

        def ask(i: int) -> dict[str, Any]:
            with httpx.Client(timeout=120) as client:  # a new connection each time
                response = client.post(
                    f"{served.url}/v1/verify",
                    content=body,
                    params={"filename": "passed-bb.pdf"},
                )
            assert response.status_code == 200, response.text
            return comparable(one_json_line(response))

        def answering() -> set[int]:
            return {
                line["pid"]
                for line in served.lines()
                if line.get("message") == "request" and line.get("path") == "/v1/verify"
            }

        # the kernel hands each new connection to either process: ask in rounds of 8 until
        # both have answered (bounded)
        sent = 1
        for _round in range(12):
            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(ask, range(8)))
            sent += len(answers)
            assert all(answer == expected for answer in answers)
            time.sleep(0.2)
            if len(answering()) == 2:
                break
        assert len(answering()) == 2, answering()
        assert dict(demo_services.requests.hits) == before, "fetched again"
        deadline = time.monotonic() + 15  # each process leaves its counters every second
        while True:
            values = _metrics(served.get("/metrics").text)
            done = values.get('hoso_http_requests_total{path="/v1/verify",status="200"}')
            if (values["hoso_processes"] == 2 and done == sent) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert values["hoso_processes"] == 2
        assert done == sent
    finally:
        served.stop()
    assert served.process.returncode == 0
    shutil.rmtree(tmp_path / "two", ignore_errors=True)


def test_readyz_is_503_when_the_bundled_trust_data_is_over_a_year_old(
    verify_corpus: Corpus, tmp_path: Path
) -> None:
    """Trust data is ready only while it is current: at a validation time more than a year
    after the bundled data's date (the demo roots still valid), /readyz is 503 naming the
    data's version and age, in Vietnamese and English; /healthz stays alive."""
    from datetime import timedelta

    from verify.trust import bundled_trust_version

    data = bundled_trust_version()
    at = (data.date + timedelta(days=400)).isoformat() + "T12:00:00Z"
    served = start(tmp_path, verify_corpus, "--at", at)
    try:
        assert served.get("/healthz").status_code == 200
        response = served.get("/readyz")
        assert response.status_code == 503
        (problem,) = response.json()["problems"]
        assert problem["check"] == "trust-data"
        assert data.version in problem["message_en"]
        assert "days older" in problem["message_en"]
        assert "đã cũ" in problem["message_vi"]
    finally:
        served.stop()


def test_keep_alive_clients_are_spread_over_both_worker_processes(
    verify_corpus: Corpus, tmp_path: Path
) -> None:
    """With --workers 2 each process listens on a socket of its own (SO_REUSEPORT), so
    keep-alive clients that all connect at once are shared by both processes (with one
    shared socket, the process that woke first accepted them all); every answer is the
    same report."""
    served = start(tmp_path / "spread", verify_corpus, "--workers", "2", ready_processes=2)
    try:
        listening = [line for line in served.lines() if line.get("message") == "listening"]
        assert listening[0]["sockets"] == 2
        workers = {
            line["pid"] for line in served.lines() if line.get("message") == "ready to serve"
        }
        body = verify_corpus["passed-bb.pdf"].read_bytes()
        clients = 24  # each lands on either socket: all on one is a 1 in 2**23 chance

        def client(_i: int) -> list[str]:
            with httpx.Client(timeout=120) as connection:  # one keep-alive connection
                answers = []
                for _ in range(2):
                    response = connection.post(
                        f"{served.url}/v1/verify", content=body, params={"filename": "a.pdf"}
                    )
                    assert response.status_code == 200, response.text
                    answers.append(one_json_line(response)["indication"])
                return answers

        with ThreadPoolExecutor(clients) as pool:
            verdicts = [v for answers in pool.map(client, range(clients)) for v in answers]
        assert verdicts == ["TOTAL_PASSED"] * 2 * clients
        time.sleep(0.2)
        answering = Counter(
            line["pid"]
            for line in served.lines()
            if line.get("message") == "request" and line.get("path") == "/v1/verify"
        )
        assert set(answering) == workers, answering
        assert sum(answering.values()) == 2 * clients
    finally:
        served.stop()
    assert served.process.returncode == 0


def test_bodies_above_and_below_the_in_memory_limit_get_the_cli_report(
    main_service: Served, tmp_path: Path, verify_corpus: Corpus
) -> None:
    """A body kept in memory (up to service.SPOOL_ABOVE) and one spooled to disk as it
    arrives (one byte more) are both reported as ``verify --json`` reports the same file
    under the same name."""
    signed = verify_corpus["passed-bb.pdf"].read_bytes()
    for size in (service.SPOOL_ABOVE, service.SPOOL_ABOVE + 1):
        body = signed + b"%" * (size - len(signed))  # a comment after the signed bytes
        file = tmp_path / f"big-{size}.pdf"
        file.write_bytes(body)
        answer = one_json_line(main_service.post(body, filename=file.name))
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "verify",
                "--json",
                "--no-cache",
                "--trust",
                os.fspath(verify_corpus.trust_pem),
                "--at",
                PINNED_AT,
                os.fspath(file),
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            env={**os.environ, "HOSO_CACHE_DIR": os.fspath(tmp_path / "cache")},
        )
        assert comparable(answer) == comparable(json.loads(out.stdout)), size
