"""docs/preservation.md: every snippet runs, in order, against the demo PKI, and prints
what the page says it does."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

import esign
from esign import cli
from fixtures.documents import demo_signer, minimal_pdf, pinned, sign_pdf
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.esign.test_renew import tsa_2027
from verify import TrustProfile

DOC = Path(__file__).resolve().parents[2] / "docs" / "preservation.md"
EXAMPLE_TSA = "https://tsa.example.vn/tsa"


def _blocks() -> list[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    return re.findall(r"```(python|sh)\n(.*?)```", text, flags=re.DOTALL)


def test_every_snippet_of_the_preservation_page_runs(
    demo_pki: DemoPKI,
    public_trust: TrustProfile,
    p12_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The shell lines run through ``esign``'s own entry point (the example TSA replaced
    by the demo one, the demo root added as trust); the Python blocks share one
    namespace holding ``trust`` and ``tsa_url``."""
    monkeypatch.chdir(tmp_path)
    tsa_url = demo_pki.tsa_url("public")
    signer = demo_signer(demo_pki, "citizen")
    with pinned(PINNED_NOW):
        esign.sign_pdf(minimal_pdf("Hồ sơ"), "ho-so.pdf", signer, level="B-B", trust=public_trust)
        Path("to-khai.xml").write_text("<ToKhai/>\n", encoding="utf-8")
        esign.sign_detached(
            "to-khai.xml", "to-khai.xml.p7s", signer, level="B-B", trust=public_trust
        )
        Path("ho-so-thu-hoi.pdf").write_bytes(
            sign_pdf(demo_pki, "citizen-revoked", minimal_pdf("x"), at=PINNED_NOW)
        )
        Path("luu-tru").mkdir()
        esign.sign_pdf(
            minimal_pdf("Lưu trữ"),
            "luu-tru/a.pdf",
            signer,
            level="B-LTA",
            trust=public_trust,
            tsa_url=tsa_2027(demo_pki),
        )
    trust_args = ["--profile", "public", "--trust", str(p12_dir / "public-root.pem")]
    namespace = {"trust": public_trust, "tsa_url": tsa_url}
    outputs: list[tuple[str, str]] = []
    blocks = _blocks()
    assert [kind for kind, _ in blocks] == ["sh", "python", "python", "sh", "python"]
    for kind, code in blocks:
        if kind == "sh":
            for line in code.strip().splitlines():
                argv = [tsa_url if a == EXAMPLE_TSA else a for a in shlex.split(line)]
                assert argv[0] == "esign"
                assert cli.main([*argv[1:], *trust_args]) == 0, capsys.readouterr().err
        else:
            exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 - the page's own code
        outputs.append((kind, capsys.readouterr().out))
    _sh1, augment, due, _sh2, renew = (out for _kind, out in outputs)
    assert augment.splitlines() == [
        "('Signature1',) B-LTA",
        "document timestamp Timestamp1 (for Signature1)",
        "DSS",
        "document timestamp Timestamp2 (archive)",
        "chữ ký Signature1 không hợp lệ tại thời điểm này nên không được bổ sung",
    ]
    assert due.splitlines() == [
        "Signature1 2039-01-01 tsa_certificate_expires",
        "before 2039-01-01: the TSA certificate of the last timestamp expires "
        "(Demo Public Time Stamping Authority)",
    ]
    assert renew.splitlines() == ["not_due luu-tru/a.pdf"]  # renewed by the command above
    assert Path("renew.jsonl").read_text(encoding="utf-8").count('"status": "renewed"') == 1
    (kept,) = Path("bang-chung").iterdir()  # the evidence of the one renewal
    assert (kept / "renewal.json").is_file()
    assert (kept / "report.json").is_file()
