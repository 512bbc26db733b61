"""Remote signing (SIM ký số / cloud key) over the CSC API, against certomancer-csc-dummy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import esign
from fixtures.csc import CSCServer, start_csc
from verify import Indication


@pytest.fixture(scope="module")
def csc(demo_pki) -> Iterator[CSCServer]:
    server = start_csc(demo_pki)
    try:
        yield server
    finally:
        server.stop()


def test_remote_key_signs_pdf_at_b_t(csc, public_trust, checker, tsa, pdf_bytes) -> None:
    key = esign.from_csc(csc.url, csc.credential("citizen"), token=csc.token, timeout=10)
    res = esign.sign_pdf(
        pdf_bytes, None, key, level="B-T", trust=public_trust, tsa_url=tsa["public"]
    )
    assert checker.verify_pdf(res.data or b"").indication is Indication.TOTAL_PASSED
    assert csc.calls.get("/csc/v1/credentials/authorize", 0) >= 1


def test_remote_key_signs_detached_ecdsa(csc, public_trust, checker) -> None:
    key = esign.from_csc(csc.url, csc.credential("citizen-ec"), token=csc.token, timeout=10)
    res = esign.sign_detached(b"{}", None, key, level="B-B", trust=public_trust)
    assert checker.verify_detached(b"{}", res.data or b"").indication is Indication.TOTAL_PASSED


def test_wrong_token_is_authorisation_failure(csc, public_trust, pdf_bytes, tmp_path) -> None:
    key = esign.from_csc(csc.url, csc.credential("citizen"), token="wrong", timeout=10)
    out = tmp_path / "o.pdf"
    with pytest.raises(esign.AuthorisationFailed):
        esign.sign_pdf(pdf_bytes, out, key, level="B-B", trust=public_trust)
    assert not out.exists()


def test_slow_service_is_a_timeout(csc, public_trust, pdf_bytes, tmp_path) -> None:
    key = esign.from_csc(csc.url, csc.credential("citizen"), token=csc.token, timeout=1)
    csc.delay = 2.5
    try:
        with pytest.raises(esign.RemoteTimeout):
            esign.sign_pdf(pdf_bytes, tmp_path / "o.pdf", key, level="B-B", trust=public_trust)
    finally:
        csc.delay = 0.0
    assert list(tmp_path.iterdir()) == []


def test_revoked_remote_credential_is_refused(csc, public_trust, pdf_bytes) -> None:
    key = esign.from_csc(csc.url, csc.credential("citizen-revoked"), token=csc.token, timeout=10)
    with pytest.raises(esign.CertificateRevoked):
        esign.sign_pdf(pdf_bytes, None, key, level="B-B", trust=public_trust)
