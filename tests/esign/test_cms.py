"""Detached CAdES: validates with our verifier and with ``openssl cms -verify``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import esign
from tests.conftest import PINNED_NOW
from verify import Indication


def openssl_verify(content: Path, sig: Path, roots: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(sig),
            "-content",
            str(content),
            "-CAfile",
            str(roots),
            "-purpose",
            "any",
            "-attime",
            str(int(PINNED_NOW.timestamp())),
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("level", ["B-B", "B-T"])
def test_detached_levels_validate_with_verify_and_openssl(
    level, signer_for, public_trust, checker, tsa, p12_dir, tmp_path: Path
) -> None:
    content = tmp_path / "ho-so.json"
    content.write_text('{"ho_ten": "Nguyễn Thị Hoà", "cccd": "001190012345"}', encoding="utf-8")
    res = esign.sign_detached(
        content,
        esign.default_signature_path(content),
        signer_for("citizen"),
        level=level,
        trust=public_trust,
        tsa_url=tsa["public"],
    )
    sig = tmp_path / "ho-so.json.p7s"
    assert res.output == sig
    assert res.level == level
    report = checker.verify_detached(content, sig)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert report.signatures[0].level == f"CAdES-{level}"
    ok = openssl_verify(content, sig, p12_dir / "public-root.pem")
    assert ok.returncode == 0, ok.stderr
    content.write_text('{"ho_ten": "Nguyễn Thị Hoa", "cccd": "001190012345"}', encoding="utf-8")
    assert openssl_verify(content, sig, p12_dir / "public-root.pem").returncode != 0
    assert checker.verify_detached(content, sig).indication is Indication.TOTAL_FAILED


def test_detached_over_bytes_returns_der(signer_for, public_trust) -> None:
    res = esign.sign_detached(
        b"abc", None, signer_for("citizen-ec"), level="B-B", trust=public_trust
    )
    assert res.data is not None
    assert res.data[:1] == b"\x30"


def test_detached_refuses_revoked_and_leaves_nothing(signer_for, public_trust, tmp_path) -> None:
    out = tmp_path / "x.p7s"
    with pytest.raises(esign.CertificateRevoked):
        esign.sign_detached(
            b"abc", out, signer_for("citizen-revoked"), level="B-B", trust=public_trust
        )
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_detached_has_no_lta(signer_for, public_trust, tsa) -> None:
    with pytest.raises(esign.UsageError):
        esign.sign_detached(
            b"abc",
            None,
            signer_for("citizen"),
            level="B-LT",
            trust=public_trust,
            tsa_url=tsa["public"],
        )
