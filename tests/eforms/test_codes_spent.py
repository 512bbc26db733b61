"""Dossier codes are spent only on dossiers: refusals come before a code, later failures
leave the code void with its reason, and the audit (API and ``eforms codes``) lists them.

The demo PKI's OCSP, CRL and TSA answer for real on loopback; the time is PINNED_NOW.
"""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import esign
from eforms import (
    Attachment,
    AttachmentRefused,
    DossierCodes,
    FormDefinition,
    SignerMismatch,
    Submission,
    SubmissionError,
    bundled_catalog,
    submit,
)
from eforms.cli import main
from fixtures.documents import demo_signer, pinned
from fixtures.documents import sign_detached as fx_sign_detached
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from verify import TrustProfile

REPO = Path(__file__).resolve().parents[2]
FORM = "to-khai-thay-doi-thong-tin-cu-tru"
EXAMPLE = json.loads((REPO / "eforms" / "data" / "examples" / f"{FORM}.json").read_text("utf-8"))
AGENCY = "000.00.00.H29"


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with pinned(PINNED_NOW):
        yield


@pytest.fixture(scope="module")
def form() -> FormDefinition:
    return bundled_catalog().form(FORM)


@pytest.fixture(scope="module")
def trust(demo_pki: DemoPKI) -> TrustProfile:
    return TrustProfile.custom([demo_pki.root("public")], hierarchy="public").with_extra_anchors(
        [demo_pki.root("specialized")], hierarchy="specialized"
    )


def _closed_port_url() -> str:
    """An http URL on loopback where nothing listens (the port was bound, then freed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsa"


def _submit(
    form: FormDefinition, pki: DemoPKI, trust: TrustProfile, codes: DossierCodes, **kwargs: Any
) -> Submission:
    options: dict[str, Any] = {
        "trust": trust,
        "tsa_url": pki.tsa_url("public"),
        "agency": AGENCY,
        "codes": codes,
        "now": PINNED_NOW,
        "level": "B-T",
        "visible": False,
        **kwargs,
    }
    data = options.pop("data", EXAMPLE["valid"])
    signer = options.pop("signer", demo_signer(pki, "citizen"))
    return submit(form, data, signer, **options)


def _rows(db: Path) -> list[tuple[str, str]]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT code, status FROM issued ORDER BY seq").fetchall()


def test_six_failed_attempts_and_one_dossier_spend_exactly_one_code(
    form: FormDefinition, demo_pki: DemoPKI, trust: TrustProfile, tmp_path: Path
) -> None:
    """The issue's scenario: a missing tsa_url, a wrong profile, a revoked certificate, a bad
    attachment, another person's certificate and a bad language are refused before a code is
    taken; the seventh attempt makes the dossier with code 0001, the only one issued."""
    db = tmp_path / "codes.sqlite"
    codes = DossierCodes(db)
    scan = b"giay to"
    wrong_sig = fx_sign_detached(demo_pki, "citizen", b"other bytes", at=PINNED_NOW)
    failures: list[tuple[type[BaseException], dict[str, Any]]] = [
        (esign.UsageError, {"tsa_url": None, "level": "B-LT"}),
        (esign.WrongProfile, {"profile": esign.SPECIALIZED}),
        (esign.CertificateRevoked, {"signer": demo_signer(demo_pki, "citizen-revoked")}),
        (AttachmentRefused, {"attachments": [Attachment("giay.txt", scan, wrong_sig)]}),
        (SignerMismatch, {"declarant_id": "/applicant/idNumber"}),
        (SubmissionError, {"lang": "fr"}),
    ]
    for error, options in failures:
        with pytest.raises(error):
            _submit(form, demo_pki, trust, codes, out_dir=tmp_path / "out", **options)
        assert _rows(db) == [], error.__name__
    made = _submit(form, demo_pki, trust, codes, out_dir=tmp_path / "out")
    assert made.dossier_code == f"{AGENCY}-260601-0001"
    assert _rows(db) == [(made.dossier_code, "used")]
    assert codes.audit() == []
    assert [p.name for p in (tmp_path / "out").iterdir()] == [made.dossier_code]


def test_a_failure_after_the_code_records_it_void_with_its_reason(
    form: FormDefinition,
    demo_pki: DemoPKI,
    trust: TrustProfile,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A TSA that does not answer is only found while signing, after the code is taken: the
    code is recorded void with the TimestampError and its URL, the next dossier takes 0002,
    and both the audit API and 'eforms codes' list the gap with its reason."""
    codes = DossierCodes.in_state_dir(tmp_path / "state")
    dead_tsa = _closed_port_url()
    with pytest.raises(esign.TimestampError):
        _submit(form, demo_pki, trust, codes, tsa_url=dead_tsa, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    (gap,) = codes.audit()
    assert gap.code == f"{AGENCY}-260601-0001"
    assert gap.status == "void"
    assert gap.reason.startswith("TimestampError: ")
    assert dead_tsa in gap.reason
    assert gap.issued_at == gap.closed_at == PINNED_NOW

    made = _submit(form, demo_pki, trust, codes)
    assert made.dossier_code == f"{AGENCY}-260601-0002"
    assert [(r.code[-4:], r.status) for r in codes.audit(everything=True)] == [
        ("0001", "void"),
        ("0002", "used"),
    ]

    assert main(["codes", "--state-dir", str(tmp_path / "state")]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    code, status, issued, reason = line.split("\t")
    assert (code, status, issued) == (gap.code, "void", "2026-06-01T10:00:00+00:00")
    assert reason == gap.reason
    assert main(["codes", "--state-dir", str(tmp_path / "state"), "--all", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["codes"]
    assert [(c["code"][-4:], c["status"]) for c in listed] == [("0001", "void"), ("0002", "used")]
    assert main(["codes", "--state-dir", str(tmp_path / "nowhere")]) == 66


def test_reserve_confirm_void_and_the_audit_of_an_older_file(tmp_path: Path) -> None:
    """A reserved code is confirmed or voided once; a code left reserved and a number no
    record explains are gaps; a counter file from before outcomes were kept counts as used."""
    at = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as conn:  # the layout earlier versions wrote
        conn.execute("CREATE TABLE counters (scope TEXT PRIMARY KEY, last INTEGER)")
        conn.execute(
            "CREATE TABLE issued (code TEXT PRIMARY KEY, scope TEXT NOT NULL, "
            "seq INTEGER NOT NULL, issued_at TEXT NOT NULL)"
        )
        scope, when = "H29-260601-\x00seq\x00", "2026-06-01T10:00:00+00:00"
        conn.execute("INSERT INTO counters VALUES (?, 3)", (scope,))
        for code, seq in (("H29-260601-0001", 1), ("H29-260601-0003", 3)):
            conn.execute("INSERT INTO issued VALUES (?, ?, ?, ?)", (code, scope, seq, when))
    codes = DossierCodes(db)
    (missing,) = codes.audit()
    assert (missing.code, missing.status, missing.scope) == (
        "H29-260601-0002",
        "missing",
        "H29-260601-{seq}",
    )
    taken = codes.reserve("H29", at)
    left = codes.reserve("H29", at)
    assert (taken, left) == ("H29-260601-0004", "H29-260601-0005")
    codes.void(taken, "RenderError: font not found", at=at)
    with pytest.raises(SubmissionError, match="already void"):
        codes.confirm(taken)
    with pytest.raises(SubmissionError, match="never issued"):
        codes.void("H29-260601-0099", "x")
    gaps = {r.code[-4:]: (r.status, r.reason) for r in codes.audit()}
    assert gaps["0002"] == ("missing", "no record of this number")
    assert gaps["0004"] == ("void", "RenderError: font not found")
    assert gaps["0005"][0] == "reserved"
    assert "no outcome recorded" in gaps["0005"][1]
    codes.confirm(left)
    assert sorted(gaps) == ["0002", "0004", "0005"]
    assert [r.code[-4:] for r in codes.audit()] == ["0002", "0004"]
