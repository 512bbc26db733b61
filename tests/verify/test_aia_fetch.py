"""Missing intermediates fetched from the address their child names (AIA caIssuers).

A small PKI of its own (root, the sub-CA "CA2 2024", leaves) is made here; the sub-CA is
served by a real HTTP server on a loopback port, and every signature carries only its
signer's certificate, as many Vietnamese e-invoices do.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import time_machine
from asn1crypto import cms as asn1_cms
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko_certvalidator.registry import SimpleCertificateStore

from tests.conftest import PINNED_NOW
from verify import Verifier
from verify.cache import MAX_CERTIFICATE_ANSWER, RevocationCache
from verify.policy import RevocationMode, ValidationPolicy
from verify.report import DocumentReport, Indication, SubIndication
from verify.trust import TrustProfile

CONTENT = b"<HDon>hoa don dien tu</HDon>\n"
SUB_CA_NAME = "NACENCOMM CA2 2024 (demo)"
SIGNED_AT = PINNED_NOW - timedelta(days=1)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Demo CA"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _ca(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    signer: ec.EllipticCurvePrivateKey,
    *,
    is_ca: bool = True,
) -> x509.Certificate:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), False
        )
        .sign(signer, hashes.SHA256())
    )


class _PKI:
    """Root (trusted), the sub-CA (never carried), a look-alike sub-CA with another key,
    and leaves whose caIssuers address is chosen per test."""

    def __init__(self) -> None:
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.sub_key = ec.generate_private_key(ec.SECP256R1())
        self.fake_key = ec.generate_private_key(ec.SECP256R1())
        self.leaf_key = ec.generate_private_key(ec.SECP256R1())
        self.root = _ca("Demo Root CA", self.root_key, _name("Demo Root CA"), self.root_key)
        self.sub = _ca(SUB_CA_NAME, self.sub_key, self.root.subject, self.root_key)
        # the same name, signed by the root, but another key: not the leaf's issuer
        self.fake = _ca(SUB_CA_NAME, self.fake_key, self.root.subject, self.root_key)
        # the right name and key, but no CA
        self.not_ca = _ca(SUB_CA_NAME, self.sub_key, self.root.subject, self.root_key, is_ca=False)
        self._endless: dict[int, ec.EllipticCurvePrivateKey] = {}

    def leaf(self, aia_url: str, issuer: int | None = None) -> x509.Certificate:
        """The signer's certificate, issued by the sub-CA (or by endless CA ``issuer``)."""
        start = datetime(2025, 1, 1, tzinfo=UTC)
        issuer_name = self.sub.subject if issuer is None else _name(f"Endless CA {issuer}")
        issuer_key = self.sub_key if issuer is None else self.endless_key(issuer)
        return (
            x509.CertificateBuilder()
            .subject_name(_name("CONG TY DEMO HOA DON"))
            .issuer_name(issuer_name)
            .public_key(self.leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=1095))
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                False,
            )
            .add_extension(_aia(aia_url), False)
            .sign(issuer_key, hashes.SHA256())
        )

    def endless_key(self, n: int) -> ec.EllipticCurvePrivateKey:
        if n not in self._endless:
            self._endless[n] = ec.generate_private_key(ec.SECP256R1())
        return self._endless[n]

    def endless(self, n: int, url_of: Callable[[int], str]) -> x509.Certificate:
        """Endless CA ``n``, issued by endless CA ``n + 1``, whose address it gives: a
        server minting issuers for ever."""
        start = datetime(2024, 1, 1, tzinfo=UTC)
        key, issuer_key = self.endless_key(n), self.endless_key(n + 1)
        return (
            x509.CertificateBuilder()
            .subject_name(_name(f"Endless CA {n}"))
            .issuer_name(_name(f"Endless CA {n + 1}"))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                False,
            )
            .add_extension(_aia(url_of(n + 1)), False)
            .sign(issuer_key, hashes.SHA256())
        )

    def sign(self, aia_url: str, issuer: int | None = None) -> bytes:
        """A detached CMS signature over CONTENT carrying the leaf only."""
        leaf = asn1_x509.Certificate.load(
            self.leaf(aia_url, issuer).public_bytes(serialization.Encoding.DER)
        )
        key = asn1_keys.PrivateKeyInfo.load(
            self.leaf_key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        signer = signers.SimpleSigner(
            signing_cert=leaf, signing_key=key, cert_registry=SimpleCertificateStore()
        )
        with time_machine.travel(SIGNED_AT, tick=False):
            signed: asn1_cms.ContentInfo = asyncio.run(
                signer.async_sign_general_data(
                    CONTENT,
                    "sha256",
                    detached=True,
                    signed_attr_settings=PdfCMSSignedAttributes(signing_time=SIGNED_AT),
                )
            )
        return bytes(signed.dump())


def _aia(url: str) -> x509.AuthorityInformationAccess:
    return x509.AuthorityInformationAccess(
        [
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(url)
            )
        ]
    )


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


class _Server:
    """A loopback HTTP server with one answer per path; counts requests and bytes sent."""

    def __init__(self, pki: _PKI) -> None:
        sub_der = _der(pki.sub)
        self.routes: dict[str, tuple[int, str, bytes]] = {
            "/ca2.crt": (200, "application/pkix-cert", sub_der),
            "/ca2.pem": (
                200,
                "application/x-pem-file",
                pki.sub.public_bytes(serialization.Encoding.PEM),
            ),
            "/ca2.p7c": (200, "application/pkcs7-mime", _certs_only([sub_der])),
            "/wrong.crt": (200, "application/pkix-cert", _der(pki.fake)),
            "/not-ca.crt": (200, "application/pkix-cert", _der(pki.not_ca)),
            "/garbage.crt": (200, "application/pkix-cert", b"\x30\x82 this is no certificate"),
        }
        self.hits: dict[str, int] = {}
        self.sent_huge = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with outer.lock:
                    outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                if self.path.startswith("/endless/"):
                    n = int(self.path.removeprefix("/endless/").removesuffix(".crt"))
                    body = _der(pki.endless(n, lambda k: outer.url(f"/endless/{k}.crt")))
                    self.send_response(200)
                    self.send_header("Content-Type", "application/pkix-cert")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if self.path == "/slow.crt":
                    time.sleep(3)
                if self.path == "/huge.crt":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/pkix-cert")
                    self.end_headers()  # no length: the client must count
                    chunk = b"\x00" * 65536
                    try:
                        for _ in range(800):  # 50 MiB
                            self.wfile.write(chunk)
                            with outer.lock:
                                outer.sent_huge += len(chunk)
                    except OSError:
                        pass  # the client stopped reading: what the bound is for
                    return
                route = self.path.split("?")[0]  # a query only tells tests' requests apart
                status, ctype, body = outer.routes.get(route, (404, "text/plain", b"none"))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up on the slow answer
                    self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _certs_only(ders: list[bytes]) -> bytes:
    certs = [asn1_x509.Certificate.load(d) for d in ders]
    sd = asn1_cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [],
            "encap_content_info": {"content_type": "data"},
            "certificates": certs,
            "signer_infos": [],
        }
    )
    return bytes(asn1_cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump())


@pytest.fixture(scope="module")
def pki() -> _PKI:
    return _PKI()


@pytest.fixture(scope="module")
def server(pki: _PKI) -> Iterator[_Server]:
    srv = _Server(pki)
    try:
        yield srv
    finally:
        srv.stop()


def _verifier(pki: _PKI, cache: RevocationCache, *, network: bool) -> Verifier:
    root = asn1_x509.Certificate.load(_der(pki.root))
    policy = ValidationPolicy(
        revocation=RevocationMode.OFF,
        network=network,
        validation_time=PINNED_NOW,
        fetch_timeout=1.0,
    )
    return Verifier(TrustProfile.custom([root], name="demo-aia"), policy, cache=cache)


def _verify(pki: _PKI, cache: RevocationCache, url: str, *, network: bool) -> DocumentReport:
    return _verifier(pki, cache, network=network).verify_detached(CONTENT, pki.sign(url))


def _sub_der(pki: _PKI) -> bytes:
    return _der(pki.sub)


@pytest.mark.parametrize("path", ["/ca2.crt", "/ca2.pem", "/ca2.p7c"])
def test_missing_intermediate_is_fetched_kept_and_reused_offline(
    pki: _PKI, server: _Server, tmp_path: Path, path: str
) -> None:
    """Online, the sub-CA is fetched (DER, PEM or PKCS#7) and the signature passes; the
    certificate is kept in the SQLite cache; later runs with that cache, offline or
    online, pass without a request."""
    url = server.url(path)
    db = tmp_path / "cache.sqlite3"
    online = _verify(pki, RevocationCache(db), url, network=True)
    assert online.indication is Indication.TOTAL_PASSED, online.message_en
    assert [c.sha256 for c in online.signatures[0].chain][1:2] == [
        hashlib.sha256(_sub_der(pki)).hexdigest()
    ]
    asked = server.hits.get(path, 0)
    assert asked >= 1
    kept = RevocationCache(db)
    assert [c.dump() for c in kept.certificates_from(url)] == [_sub_der(pki)]
    sub = asn1_x509.Certificate.load(_sub_der(pki))
    assert [c.dump() for c in kept.certificates_named(sub.subject, sub.key_identifier)] == [
        _sub_der(pki)
    ]
    offline = _verify(pki, kept, url, network=False)
    assert offline.indication is Indication.TOTAL_PASSED, offline.message_en
    assert server.hits.get(path, 0) == asked
    again = _verify(pki, RevocationCache(db), url, network=True)
    assert again.indication is Indication.TOTAL_PASSED, again.message_en
    assert server.hits.get(path, 0) == asked  # online too, the kept one is used


def test_offline_with_an_empty_cache_names_the_issuer_and_the_address_not_tried(
    pki: _PKI, server: _Server, tmp_path: Path
) -> None:
    """Offline and nothing kept: INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND naming the
    sub-CA and its address as not tried (offline), in both languages; no request made."""
    url = server.url("/ca2.crt?offline")
    report = _verify(pki, RevocationCache(tmp_path / "c.sqlite3"), url, network=False)
    assert report.indication is Indication.INDETERMINATE
    sig = report.signatures[0]
    assert sig.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    assert SUB_CA_NAME in sig.message_en
    assert SUB_CA_NAME in sig.message_vi
    assert f"its address {url} was not tried (offline)" in sig.message_en
    assert f"không tải từ {url} (chế độ ngoại tuyến)" in sig.message_vi
    assert server.hits.get("/ca2.crt?offline", 0) == 0


@pytest.mark.parametrize(
    ("path", "error_en", "error_vi"),
    [
        ("/wrong.crt", "has another key than the one that signed", "không phải khóa đã ký"),
        ("/not-ca.crt", "is not a CA certificate", "không phải chứng thư số của tổ chức cấp"),
        ("/garbage.crt", "the answer is not a certificate", "không phải chứng thư số"),
        ("/missing.crt", "the server answered HTTP 404", "máy chủ trả lời HTTP 404"),
        ("/slow.crt", "timed out (after 1 seconds)", "hết thời gian chờ (1 giây)"),
    ],
)
def test_a_failed_fetch_names_the_address_and_the_error(
    pki: _PKI, server: _Server, tmp_path: Path, path: str, error_en: str, error_vi: str
) -> None:
    """A server answering a look-alike certificate (another key), garbage, 404, or too
    slowly: INDETERMINATE naming the issuer, the address tried and what went wrong, and
    nothing is kept."""
    url = server.url(path)
    cache = RevocationCache(tmp_path / "c.sqlite3")
    report = _verify(pki, cache, url, network=True)
    assert report.indication is Indication.INDETERMINATE
    sig = report.signatures[0]
    assert sig.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    assert SUB_CA_NAME in sig.message_en
    assert f"its address {url} was tried and failed (" in sig.message_en
    assert error_en in sig.message_en, sig.message_en
    assert f"đã thử tải từ {url} nhưng thất bại (" in sig.message_vi
    assert error_vi in sig.message_vi, sig.message_vi
    assert cache.certificates_from(url) == []


def test_connection_refused_is_named(pki: _PKI, tmp_path: Path) -> None:
    """An address where nothing listens: the reason says the connection was refused."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = srv.server_address[1]
    srv.server_close()  # the port is free again: nothing listens there
    url = f"http://127.0.0.1:{port}/ca2.crt"
    report = _verify(pki, RevocationCache(tmp_path / "c.sqlite3"), url, network=True)
    sig = report.signatures[0]
    assert sig.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    assert f"{url} was tried and failed (connection refused)" in sig.message_en
    assert f"{url} nhưng thất bại (kết nối bị từ chối)" in sig.message_vi


def test_a_huge_answer_is_cut_at_the_bound(pki: _PKI, server: _Server, tmp_path: Path) -> None:
    """An endless answer is read up to 1 MiB only: the reason says so, and the server
    could not send its 50 MiB."""
    url = server.url("/huge.crt")
    report = _verify(pki, RevocationCache(tmp_path / "c.sqlite3"), url, network=True)
    sig = report.signatures[0]
    assert sig.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    assert f"larger than {MAX_CERTIFICATE_ANSWER:,} bytes" in sig.message_en
    time.sleep(0.2)
    assert server.sent_huge < 50 * 1024 * 1024


def test_a_server_minting_issuers_for_ever_is_followed_only_so_far(
    pki: _PKI, server: _Server, tmp_path: Path
) -> None:
    """Each fetched CA names another at the same server, each a genuine issuer: at most
    16 are fetched for one validation, and the reason says so."""
    before = sum(n for p, n in server.hits.items() if p.startswith("/endless/"))
    url = server.url("/endless/1.crt")
    sig = pki.sign(url, issuer=1)
    policy = ValidationPolicy(
        revocation=RevocationMode.OFF, network=True, validation_time=PINNED_NOW, fetch_timeout=2.0
    )
    root = asn1_x509.Certificate.load(_der(pki.root))
    verifier = Verifier(TrustProfile.custom([root], name="demo-aia"), policy)
    report = verifier.verify_detached(CONTENT, sig)
    fetched = sum(n for p, n in server.hits.items() if p.startswith("/endless/")) - before
    assert report.signatures[0].sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    assert 1 <= fetched <= 16
    assert "16 certificates were fetched for one validation" in report.signatures[0].message_en


def test_the_command_keeps_the_fetched_issuer_for_a_later_offline_run(
    pki: _PKI, server: _Server, tmp_path: Path
) -> None:
    """``verify --cache DIR`` online fetches the sub-CA and keeps it; a later ``verify
    --offline`` with the same folder passes without a request; with another folder it
    cannot, and says the address was not tried. Each run is a process of its own."""
    url = server.url("/ca2.crt?cli")
    content, sig, root = tmp_path / "hd.xml", tmp_path / "hd.xml.p7s", tmp_path / "root.pem"
    content.write_bytes(CONTENT)
    sig.write_bytes(pki.sign(url))
    root.write_bytes(pki.root.public_bytes(serialization.Encoding.PEM))
    common = ["--trust", str(root), "--no-trust-store", "--revocation", "off"]
    common += ["--at", PINNED_NOW.isoformat(), "--json", "--detached", str(sig)]

    def run(*extra: str) -> dict[str, Any]:
        proc = subprocess.run(
            [sys.executable, "-m", "verify", *common, *extra, str(content)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        report: dict[str, Any] = json.loads(proc.stdout)
        report["exit"] = proc.returncode
        return report

    online = run("--cache", str(tmp_path / "kept"))
    assert online["exit"] == 0, (online["indication"], online["message_en"])
    asked = server.hits.get("/ca2.crt?cli", 0)
    assert asked >= 1
    offline = run("--offline", "--cache", str(tmp_path / "kept"))
    assert offline["exit"] == 0, (offline["indication"], offline["message_en"])
    assert server.hits.get("/ca2.crt?cli", 0) == asked
    elsewhere = run("--offline", "--cache", str(tmp_path / "empty"))
    assert elsewhere["exit"] != 0
    assert elsewhere["indication"] == "INDETERMINATE"
    assert f"its address {url} was not tried (offline)" in elsewhere["message_en"]
    assert server.hits.get("/ca2.crt?cli", 0) == asked
