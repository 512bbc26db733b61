"""The esign CLI: signs, refuses in one line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from esign.cli import main
from verify import Indication


@pytest.fixture
def pdf_file(pdf_bytes, tmp_path: Path) -> Path:
    p = tmp_path / "in.pdf"
    p.write_bytes(pdf_bytes)
    return p


def _one_line(err: str) -> None:
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_cli_signs_pdf_with_p12_password_file(
    pdf_file, p12_dir, tsa, checker, tmp_path, capsys
) -> None:
    pw = tmp_path / "pw"
    pw.write_text("demo\n")
    out = tmp_path / "out.pdf"
    rc = main(
        [
            "pdf",
            str(pdf_file),
            str(out),
            "--p12",
            str(p12_dir / "citizen.p12"),
            "--password-file",
            str(pw),
            "--level",
            "B-LT",
            "--trust",
            str(p12_dir / "public-root.pem"),
            "--tsa",
            tsa["public"],
            "--visible",
            "1,300,600,560,680",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    assert checker.verify_pdf(out).indication is Indication.TOTAL_PASSED


def test_cli_password_from_environment(pdf_file, p12_dir, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ESIGN_P12_PASSWORD", "demo")
    out = tmp_path / "out.pdf"
    rc = main(
        [
            "pdf",
            str(pdf_file),
            str(out),
            "--p12",
            str(p12_dir / "citizen.p12"),
            "--level",
            "B-B",
            "--trust",
            str(p12_dir / "public-root.pem"),
        ]
    )
    assert rc == 0
    assert out.exists()


def test_cli_detached_default_output(p12_dir, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ESIGN_P12_PASSWORD", "demo")
    f = tmp_path / "dinh-kem.bin"
    f.write_bytes(b"\x00" * 1000)
    rc = main(
        [
            "detached",
            str(f),
            "--p12",
            str(p12_dir / "official.p12"),
            "--profile",
            "specialized",
            "--level",
            "B-B",
            "--trust",
            str(p12_dir / "gov-root.pem"),
        ]
    )
    assert rc == 0, capsys.readouterr().err
    assert (tmp_path / "dinh-kem.bin.p7s").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--password-file", "/nonexistent"], "cannot read"),
        ([], "password"),
    ],
)
def test_cli_wrong_password_or_missing_file_is_one_line(
    pdf_file, p12_dir, tmp_path, capsys, monkeypatch, args, needle
) -> None:
    monkeypatch.delenv("ESIGN_P12_PASSWORD", raising=False)
    out = tmp_path / "out.pdf"
    rc = main(
        [
            "pdf",
            str(pdf_file),
            str(out),
            "--p12",
            str(p12_dir / "citizen.p12"),
            "--level",
            "B-B",
            *args,
        ]
    )
    err = capsys.readouterr().err
    assert rc != 0
    assert needle in err
    _one_line(err)
    assert not out.exists()


def test_cli_refusal_missing_input_and_bad_argument(
    pdf_file, p12_dir, tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("ESIGN_P12_PASSWORD", "demo")
    out = tmp_path / "out.pdf"
    rc = main(
        [
            "pdf",
            str(pdf_file),
            str(out),
            "--p12",
            str(p12_dir / "citizen-revoked.p12"),
            "--level",
            "B-B",
            "--trust",
            str(p12_dir / "public-root.pem"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1
    assert "CertificateRevoked" in err
    _one_line(err)
    assert not out.exists()
    assert main(["pdf", str(tmp_path / "missing.pdf"), str(out), "--p12", "x.p12"]) == 1
    _one_line(capsys.readouterr().err)
    assert main(["pdf", str(pdf_file), str(out), "--level", "B-X"]) == 2
    _one_line(capsys.readouterr().err)
    assert main(["pdf", str(pdf_file), str(out), "--p12", "a", "--visible", "1,2"]) == 2
    _one_line(capsys.readouterr().err)


def test_cli_identity_and_challenge_issue(p12_dir, demo_pki, tmp_path, capsys) -> None:
    cert = tmp_path / "c.pem"
    cert.write_bytes(demo_pki.cert_pem("citizen"))
    assert main(["identity", str(cert)]) == 0
    ident = json.loads(capsys.readouterr().out)
    assert ident["name"] == "Nguyễn Thị Hoà"
    assert main(["challenge", "issue", "--ttl", "60"]) == 0
    ch = json.loads(capsys.readouterr().out)
    assert ch["to_sign"].startswith("hoso-login:")
