"""``esign renew --evidence DIR``: for each renewed document, what the validation before
the renewal rested on is kept as ``verify --evidence`` keeps it, so that the validation
that justified the renewal replays offline, later, with the same verdict."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import esign
from esign import cli
from fixtures.documents import demo_signer, minimal_pdf
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.esign.test_renew import CONTENT, DUE_BEFORE, _make_archive, tsa_2027
from verify import Indication, TrustProfile, ValidationPolicy, Verifier


def _offline(trust: TrustProfile, at: datetime, evidence: Path | None = None) -> Verifier:
    return Verifier(
        trust, ValidationPolicy(validation_time=at, network=False), evidence_in=evidence
    )


def test_renewal_evidence_replays_offline_with_the_same_verdict(
    demo_pki: DemoPKI, public_trust: TrustProfile, tmp_path: Path
) -> None:
    """A B-T PDF holds no revocation data: offline, without evidence, it cannot be judged
    (INDETERMINATE). Renewed with ``evidence``, its folder (keyed by the SHA-256 of the
    PDF as validated) holds the certificates, the OCSP responses or CRLs, the report and
    renewal.json; the renewed file begins with the PDF as validated, and that PDF,
    validated offline at the same time with the evidence, gets the report's verdict
    (TOTAL_PASSED). A detached .p7s keeps its bytes as validated, under its content's
    SHA-256 then its own, and replays the same way. A document not due leaves no evidence."""
    archive = _make_archive(demo_pki, public_trust, tmp_path / "docs")
    folder = archive.folder
    bt = esign.sign_pdf(
        minimal_pdf("Hồ sơ B-T"),
        folder / "bt.pdf",
        demo_signer(demo_pki, "citizen"),
        level="B-T",
        trust=public_trust,
        tsa_url=tsa_2027(demo_pki),
    )
    assert bt.output is not None
    original = (folder / "bt.pdf").read_bytes()
    evidence = tmp_path / "evidence"
    outcomes = esign.renew(
        [folder],
        due_before=DUE_BEFORE,
        trust=public_trust,
        tsa_url=demo_pki.tsa_url("public"),
        evidence=evidence,
    )
    assert [(Path(o.path).name, o.status) for o in outcomes] == [
        ("a.pdf", "renewed"),
        ("b.pdf", "not_due"),
        ("bt.pdf", "renewed"),
        ("c.xml.p7s", "renewed"),
    ]
    key = hashlib.sha256(original).hexdigest()
    kept = evidence / key
    assert (kept / "report.json").is_file()
    assert list((kept / "certs").glob("*.der"))
    assert list((kept / "ocsp").glob("*.der")) or list((kept / "crl").glob("*.der"))
    about = json.loads((kept / "renewal.json").read_text(encoding="utf-8"))
    assert about["validated_sha256"] == key
    assert about["indication"] == "TOTAL_PASSED"
    renewed = (folder / "bt.pdf").read_bytes()
    assert about["renewed_sha256"] == hashlib.sha256(renewed).hexdigest()
    assert renewed[: about["validated_size"]] == original
    report = json.loads((kept / "report.json").read_text(encoding="utf-8"))
    at = datetime.fromisoformat(report["validation_time"].replace("Z", "+00:00"))
    assert at == PINNED_NOW

    without = _offline(public_trust, at).verify(original)
    assert without.indication is Indication.INDETERMINATE
    replay = _offline(public_trust, at, evidence).verify(original)
    assert replay.indication.value == report["indication"] == "TOTAL_PASSED", replay.message_en

    signature = hashlib.sha256(archive.originals["c.xml.p7s"]).hexdigest()
    cades = evidence / hashlib.sha256(CONTENT).hexdigest() / "signatures" / signature
    validated = (cades / "validated.p7s").read_bytes()
    assert validated == archive.originals["c.xml.p7s"]
    cades_report = json.loads((cades / "report.json").read_text(encoding="utf-8"))
    again = _offline(public_trust, at, evidence).verify(CONTENT, detached=validated)
    assert again.indication.value == cades_report["indication"] == "TOTAL_PASSED"
    assert not (evidence / hashlib.sha256(archive.originals["b.pdf"]).hexdigest()).exists()


def test_cli_renew_evidence_then_verify_replays_offline(
    demo_pki: DemoPKI, public_trust: TrustProfile, p12_dir: Path, tmp_path: Path, capsys
) -> None:
    """``esign renew --evidence DIR`` says where the evidence is; ``verify --offline --at
    TIME --evidence-in DIR`` over the PDF as validated (the renewed file cut back to
    ``validated_size``) passes, as the renewal's own validation did."""
    from verify.cli import main as verify_main

    doc = tmp_path / "bt.pdf"
    esign.sign_pdf(
        minimal_pdf("Tờ khai"),
        doc,
        demo_signer(demo_pki, "citizen"),
        level="B-T",
        trust=public_trust,
        tsa_url=tsa_2027(demo_pki),
    )
    root = str(p12_dir / "public-root.pem")
    evidence = tmp_path / "ev"
    code = cli.main(
        [
            "renew",
            str(doc),
            "--due-before",
            "2028-01-01",
            "--tsa",
            demo_pki.tsa_url("public"),
            "--trust",
            root,
            "--evidence",
            str(evidence),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"esign renew: evidence kept in {evidence}" in captured.err
    (kept,) = evidence.iterdir()
    about = json.loads((kept / "renewal.json").read_text(encoding="utf-8"))
    validated = tmp_path / "validated.pdf"
    validated.write_bytes(doc.read_bytes()[: about["validated_size"]])
    status = verify_main(
        [
            "--json",
            "--no-cache",
            "--offline",
            "--at",
            about["validation_time"],
            "--trust",
            root,
            "--evidence-in",
            str(evidence),
            str(validated),
        ]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    assert json.loads(out)["indication"] == "TOTAL_PASSED"


def test_two_signatures_over_the_same_content_keep_their_own_evidence(
    demo_pki: DemoPKI, public_trust: TrustProfile, tmp_path: Path
) -> None:
    """Two detached signatures by different signers over the same e-invoice (two copies
    of it, each with its .p7s) are renewed with one evidence folder: each keeps its own
    folder under the content's SHA-256 (its .p7s as validated, its report naming its
    signer, its renewal.json naming its file), and each replays offline with the
    evidence to its own report's verdict and signer (without it: INDETERMINATE)."""
    folder = tmp_path / "docs"
    signers = {"a": "citizen", "b": "citizen-ec"}
    for sub, label in signers.items():
        (folder / sub).mkdir(parents=True)
        (folder / sub / "c.xml").write_bytes(CONTENT)
        esign.sign_detached(
            folder / sub / "c.xml",
            folder / sub / "c.xml.p7s",
            demo_signer(demo_pki, label),
            level="B-T",
            trust=public_trust,
            tsa_url=tsa_2027(demo_pki),
        )
    originals = {sub: (folder / sub / "c.xml.p7s").read_bytes() for sub in signers}
    evidence = tmp_path / "evidence"
    outcomes = esign.renew(
        [folder],
        due_before=DUE_BEFORE,
        trust=public_trust,
        tsa_url=demo_pki.tsa_url("public"),
        evidence=evidence,
    )
    assert [o.status for o in outcomes] == ["renewed", "renewed"]
    content_key = evidence / hashlib.sha256(CONTENT).hexdigest()
    kept = {p.name for p in (content_key / "signatures").iterdir()}
    assert kept == {hashlib.sha256(raw).hexdigest() for raw in originals.values()}
    names = set()
    for sub, raw in originals.items():
        own = content_key / "signatures" / hashlib.sha256(raw).hexdigest()
        assert (own / "validated.p7s").read_bytes() == raw
        about = json.loads((own / "renewal.json").read_text(encoding="utf-8"))
        assert Path(about["path"]) == folder / sub / "c.xml.p7s"
        report = json.loads((own / "report.json").read_text(encoding="utf-8"))
        signer = report["signatures"][0]["signer"]["name"]
        names.add(signer)
        at = datetime.fromisoformat(report["validation_time"].replace("Z", "+00:00"))
        without = _offline(public_trust, at).verify(CONTENT, detached=raw)
        assert without.indication is Indication.INDETERMINATE
        replay = _offline(public_trust, at, evidence).verify(CONTENT, detached=raw)
        assert replay.indication.value == report["indication"] == "TOTAL_PASSED"
        assert replay.signatures[0].signer["name"] == signer
    assert len(names) == 2  # each report names its own signer
