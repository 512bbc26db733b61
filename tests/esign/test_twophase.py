"""Two-phase signing: the client's key signs in another process; the server embeds it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import esign
from verify import Indication

CLIENT = r"""
import sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
data = sys.stdin.buffer.read()
if isinstance(key, rsa.RSAPrivateKey):
    sig = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
else:
    sig = key.sign(data, ec.ECDSA(hashes.SHA256()))
sys.stdout.buffer.write(sig)
"""

SECRET = b"s" * 32


def client_sign(demo_pki, label: str, data: bytes, tmp_path: Path) -> bytes:
    """The citizen's key lives in a separate process (the browser plugin stand-in)."""
    key = tmp_path / f"{label}.key"
    key.write_bytes(demo_pki.key_pem(label))
    return subprocess.run(
        [sys.executable, "-c", CLIENT, str(key)], input=data, capture_output=True, check=True
    ).stdout


@pytest.mark.parametrize(("label", "level"), [("citizen", "B-T"), ("citizen-ec", "B-B")])
def test_two_phase_round_trip(
    label, level, demo_pki, public_trust, checker, tsa, pdf_bytes, tmp_path
) -> None:
    server = esign.TwoPhaseSigner(SECRET, trust=public_trust)
    prepared = server.prepare(
        pdf_bytes,
        demo_pki.cert(label),
        demo_pki.chain(label)[1:],
        level=level,
        tsa_url=tsa["public"],
        visible=esign.VisibleStamp(1, (300, 600, 560, 680)),
    )
    sig = client_sign(demo_pki, label, prepared.to_sign, tmp_path)
    out = tmp_path / "signed.pdf"
    res = esign.TwoPhaseSigner(SECRET, trust=public_trust).finish(prepared.state, sig, out)
    assert res.output == out
    report = checker.verify_pdf(out)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert report.signatures[0].level == f"PAdES-{level}"


def test_wrong_key_and_tampered_state_are_refused(
    demo_pki, public_trust, pdf_bytes, tmp_path
) -> None:
    server = esign.TwoPhaseSigner(SECRET, trust=public_trust)
    prepared = server.prepare(
        pdf_bytes, demo_pki.cert("citizen"), [demo_pki.cert("ca-rsa")], level="B-B"
    )
    wrong = client_sign(demo_pki, "citizen-revoked", prepared.to_sign, tmp_path)
    out = tmp_path / "o.pdf"
    with pytest.raises(esign.SignatureValueRejected):
        server.finish(prepared.state, wrong, out)
    good = client_sign(demo_pki, "citizen", prepared.to_sign, tmp_path)
    body, mac = prepared.state.split(".")
    flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    with pytest.raises(esign.TwoPhaseStateError):
        server.finish(f"{flipped}.{mac}", good, out)
    with pytest.raises(esign.TwoPhaseStateError):
        esign.TwoPhaseSigner(b"x" * 32, trust=public_trust).finish(prepared.state, good, out)
    with pytest.raises(esign.TwoPhaseStateError):
        server.finish("garbage", good, out)
    assert not out.exists()


def test_expired_state_is_refused(demo_pki, public_trust, pdf_bytes, tmp_path) -> None:
    import time_machine

    from tests.conftest import PINNED_NOW

    server = esign.TwoPhaseSigner(SECRET, trust=public_trust, ttl=60)
    prepared = server.prepare(
        pdf_bytes, demo_pki.cert("citizen"), [demo_pki.cert("ca-rsa")], level="B-B"
    )
    sig = client_sign(demo_pki, "citizen", prepared.to_sign, tmp_path)
    from datetime import timedelta

    with (
        time_machine.travel(PINNED_NOW + timedelta(minutes=5), tick=False),
        pytest.raises(esign.TwoPhaseStateError, match="expired"),
    ):
        server.finish(prepared.state, sig, None)


def test_phase_one_refuses_a_revoked_certificate(demo_pki, public_trust, pdf_bytes) -> None:
    with pytest.raises(esign.CertificateRevoked):
        esign.TwoPhaseSigner(SECRET, trust=public_trust).prepare(
            pdf_bytes, demo_pki.cert("citizen-revoked"), [demo_pki.cert("ca-rsa")], level="B-B"
        )
