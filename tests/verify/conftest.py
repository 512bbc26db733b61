"""Fixtures for the ``verify`` command line, reports and schema tests.

``verify_corpus`` is a small folder of documents built once per session with
``fixtures.documents`` (pyHanko's own signer) and the running demo PKI, one per verdict the
auditor sees: passed (B-B and B-T), tampered, revoked signer, unsigned, garbage, truncated,
a detached pair (``to-khai.xml`` + ``to-khai.xml.p7s``) and an orphan ``.p7s``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from fixtures.documents import minimal_pdf, sign_detached, sign_pdf
from fixtures.pki import DemoPKI

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "docs" / "report-schema.json"
PINNED_AT = "2026-06-01T10:00:00Z"  # tests.conftest.PINNED_NOW, as --at takes it
SIGNED_AT = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)  # after the revocations of 2026-03-01

SIGNER_NAME = "Nguyễn Thị Hoà"  # citizen, NFC
OFFICIAL_NAME = "Vũ Minh Đức"


@dataclass(frozen=True)
class Corpus:
    root: Path
    """The folder holding every document below (and nothing else)."""
    trust_pem: Path
    """The demo public and specialized roots, PEM, outside ``root``."""

    def __getitem__(self, name: str) -> Path:
        return self.root / name


# name -> (indication, sub_indication) the CLI must report, by the name it reports under
EXPECTED: dict[str, tuple[str, str | None]] = {
    "passed-bb.pdf": ("TOTAL_PASSED", None),
    "passed-bt.pdf": ("TOTAL_PASSED", None),
    "tampered.pdf": ("TOTAL_FAILED", "HASH_FAILURE"),
    "revoked.pdf": ("TOTAL_FAILED", "REVOKED"),
    "unsigned.pdf": ("INDETERMINATE", "NO_SIGNATURE_FOUND"),
    "garbage.bin": ("NOT_SIGNED", None),  # in no signed format: nothing to verify
    "truncated.pdf": ("TOTAL_FAILED", "FORMAT_FAILURE"),
    "to-khai.xml": ("TOTAL_PASSED", None),  # with to-khai.xml.p7s beside it
    "orphan.p7s": ("INDETERMINATE", "SIGNED_DATA_NOT_FOUND"),
}


@pytest.fixture(scope="session")
def verify_corpus(demo_pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    base = tmp_path_factory.mktemp("verify-corpus")
    root = base / "corpus"
    root.mkdir()
    pdf = minimal_pdf("Don de nghi cap ban sao")
    bb = sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT)
    (root / "passed-bb.pdf").write_bytes(bb)
    (root / "passed-bt.pdf").write_bytes(
        sign_pdf(demo_pki, "official", pdf, at=SIGNED_AT, timestamp=True)
    )
    tampered = bytearray(bb)
    tampered[tampered.index(b"/Helvetica") + 1] ^= 0x01  # one byte inside the signed range
    (root / "tampered.pdf").write_bytes(bytes(tampered))
    (root / "revoked.pdf").write_bytes(sign_pdf(demo_pki, "citizen-revoked", pdf, at=SIGNED_AT))
    (root / "unsigned.pdf").write_bytes(pdf)
    (root / "garbage.bin").write_bytes(b"this is not a signed document\x00\xff" * 8)
    (root / "truncated.pdf").write_bytes(bb[: len(bb) // 2])
    content = "<tokhai>Tờ khai đăng ký thường trú</tokhai>\n".encode()
    (root / "to-khai.xml").write_bytes(content)
    (root / "to-khai.xml.p7s").write_bytes(
        sign_detached(demo_pki, "citizen", content, at=SIGNED_AT)
    )
    (root / "orphan.p7s").write_bytes(sign_detached(demo_pki, "citizen", b"lost", at=SIGNED_AT))
    trust = base / "demo-roots.pem"
    trust.write_bytes(demo_pki.cert_pem("vn-root") + demo_pki.cert_pem("gov-root"))
    return Corpus(root=root, trust_pem=trust)


@pytest.fixture(scope="session")
def report_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@pytest.fixture(scope="session")
def validate_report(report_schema: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """Validate one ``DocumentReport.to_dict()`` against docs/report-schema.json."""
    validator = jsonschema.Draft202012Validator(
        report_schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )

    def validate(report: dict[str, Any]) -> None:
        errors = sorted(validator.iter_errors(report), key=lambda e: list(e.absolute_path))
        assert not errors, "report does not match docs/report-schema.json:\n" + "\n".join(
            f"  {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors
        )

    return validate
