"""PKCS#11 (USB ký số) through pyHanko's PKCS11Signer, against a SoftHSM2 token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import esign
from fixtures import softhsm
from verify import Indication

pytestmark = pytest.mark.skipif(
    not softhsm.available(), reason="softhsm2 not installed (make test installs it)"
)


@pytest.fixture(scope="module")
def token(demo_pki) -> Iterator[softhsm.DemoToken]:
    tok = softhsm.make_token(demo_pki)
    try:
        yield tok
    finally:
        tok.cleanup()


@pytest.mark.parametrize("label", ["citizen", "citizen-ec"])
def test_token_signs_pdf_and_detached(token, label, public_trust, checker, tsa, pdf_bytes) -> None:
    with esign.pkcs11_token(token.lib, token.label, label, token.pin) as signer:
        res = esign.sign_pdf(
            pdf_bytes, None, signer, level="B-T", trust=public_trust, tsa_url=tsa["public"]
        )
        det = esign.sign_detached(b"to khai", None, signer, level="B-B", trust=public_trust)
    assert checker.verify_pdf(res.data or b"").indication is Indication.TOTAL_PASSED
    assert (
        checker.verify_detached(b"to khai", det.data or b"").indication is Indication.TOTAL_PASSED
    )


def test_wrong_pin(token) -> None:
    with pytest.raises(esign.WrongPin):
        esign.from_pkcs11(token.lib, token.label, "citizen", "0000")


def test_missing_token(token) -> None:
    with pytest.raises(esign.TokenNotFound):
        esign.from_pkcs11(token.lib, "no-such-token", "citizen", token.pin)
    with pytest.raises(esign.TokenNotFound):
        esign.from_pkcs11("/nonexistent/lib.so", token.label, "citizen", token.pin)


def test_missing_key(token) -> None:
    with pytest.raises(esign.KeyNotFound):
        esign.from_pkcs11(token.lib, token.label, "nobody", token.pin)


def test_cli_with_token(token, pdf_bytes, p12_dir, tmp_path) -> None:
    from esign.cli import main

    src = tmp_path / "in.pdf"
    src.write_bytes(pdf_bytes)
    pin = tmp_path / "pin"
    pin.write_text(token.pin)
    out = tmp_path / "out.pdf"
    rc = main(
        [
            "pdf",
            str(src),
            str(out),
            "--pkcs11-lib",
            token.lib,
            "--token",
            token.label,
            "--key-label",
            "citizen",
            "--pin-file",
            str(pin),
            "--level",
            "B-B",
            "--trust",
            str(p12_dir / "public-root.pem"),
        ]
    )
    assert rc == 0
    assert out.exists()
    pin.write_text("9999")
    assert (
        main(
            [
                "pdf",
                str(src),
                str(tmp_path / "o2.pdf"),
                "--pkcs11-lib",
                token.lib,
                "--token",
                token.label,
                "--key-label",
                "citizen",
                "--pin-file",
                str(pin),
                "--level",
                "B-B",
            ]
        )
        == 1
    )
