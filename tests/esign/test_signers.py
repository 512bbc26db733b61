"""Soft key sources: the PKCS#12 / PEM signer keeps its parsed key and signs correctly."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign.general import SignedDigestAlgorithm

import esign
from esign.signers import LoadedKeySigner

DATA = "Tờ khai đăng ký khai sinh".encode()


@pytest.mark.parametrize("label", ["citizen", "citizen-ec"])
def test_pkcs12_signer_keeps_its_key_and_signatures_verify(p12_dir: Path, label: str) -> None:
    """from_pkcs12 gives a LoadedKeySigner whose raw signatures verify with the certificate."""
    signer = esign.from_pkcs12(p12_dir / f"{label}.p12", "demo")
    assert isinstance(signer, LoadedKeySigner)
    assert signer.signing_cert is not None
    cert = x509.load_der_x509_certificate(signer.signing_cert.dump())
    signature = signer.sign_raw(DATA, "sha256")
    public = cert.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signature, DATA, ec.ECDSA(hashes.SHA256()))
    else:
        public.verify(signature, DATA, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]


def test_rsa_pss_mechanism_is_honoured(p12_dir: Path) -> None:
    """With an RSASSA-PSS mechanism the kept RSA key signs PSS, verifiable with the cert."""
    loaded = esign.from_pkcs12(p12_dir / "citizen.p12", "demo")
    key, _cert, _cas = pkcs12.load_key_and_certificates(
        (p12_dir / "citizen.p12").read_bytes(), b"demo"
    )
    assert loaded.signing_cert is not None
    pss_mechanism = SignedDigestAlgorithm(
        {
            "algorithm": "rsassa_pss",
            "parameters": {
                "hash_algorithm": {"algorithm": "sha256"},
                "mask_gen_algorithm": {
                    "algorithm": "mgf1",
                    "parameters": {"algorithm": "sha256"},
                },
                "salt_length": 32,
            },
        }
    )
    signer = LoadedKeySigner(
        key,
        signing_cert=loaded.signing_cert,
        cert_registry=loaded.cert_registry,
        signature_mechanism=pss_mechanism,
    )
    cert = x509.load_der_x509_certificate(loaded.signing_cert.dump())
    signature = signer.sign_raw(DATA, "sha256")
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    cert.public_key().verify(signature, DATA, pss, hashes.SHA256())  # type: ignore[union-attr, call-arg]
