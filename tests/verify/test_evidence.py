"""Evidence kept with a verdict lets an auditor replay it offline and reach the same verdict."""

from __future__ import annotations

from pathlib import Path

from fixtures.documents import minimal_pdf, sign_detached, sign_pdf
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.verify.test_verifier import SIGNED_AT, demo_trust
from verify import Indication, SubIndication, ValidationPolicy, Verifier
from verify.evidence import Evidence


def test_online_verdict_replays_offline_from_evidence(demo_pki: DemoPKI, tmp_path: Path) -> None:
    """A B-T PDF verified online, then offline with only its evidence: same verdict."""
    doc = tmp_path / "ho-so.pdf"
    doc.write_bytes(sign_pdf(demo_pki, "citizen", minimal_pdf(), at=SIGNED_AT, timestamp=True))
    online = Verifier(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    report, evidence = online.verify_with_evidence(doc)
    assert report.indication is Indication.TOTAL_PASSED
    assert evidence.ocsps or evidence.crls
    assert len(evidence.certificates) >= 3  # signer, CA, root (and the TSA's path)
    assert report.sha256 is not None
    stored = evidence.write(tmp_path / "evidence", report.sha256, report.to_json())
    assert (stored / "report.json").is_file()

    offline_policy = ValidationPolicy(validation_time=PINNED_NOW, network=False)
    without = Verifier(demo_trust(demo_pki), offline_policy).verify(doc)
    assert without.sub_indication is SubIndication.TRY_LATER  # nothing to go on offline
    replay = Verifier(
        demo_trust(demo_pki), offline_policy, evidence_in=tmp_path / "evidence"
    ).verify(doc)
    assert replay.indication is report.indication
    assert [s.sub_indication for s in replay.signatures] == [
        s.sub_indication for s in report.signatures
    ]


def test_evidence_of_a_revoked_signer_replays_as_revoked(demo_pki: DemoPKI, tmp_path: Path) -> None:
    """The OCSP answer that said "revoked" is kept, so the replay says REVOKED too."""
    data = b"tep dinh kem"
    sig = sign_detached(demo_pki, "citizen-revoked", data, at=SIGNED_AT)
    online = Verifier(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    report, evidence = online.verify_with_evidence(data, detached=sig)
    assert report.sub_indication is SubIndication.REVOKED
    assert report.sha256 is not None
    evidence.write(tmp_path, report.sha256, report.to_json())
    loaded = Evidence.read(tmp_path, report.sha256)
    assert loaded is not None
    assert len(loaded.ocsps) == len(evidence.ocsps)
    offline = ValidationPolicy(validation_time=PINNED_NOW, network=False)
    replay = Verifier(demo_trust(demo_pki), offline, evidence_in=tmp_path).verify_detached(
        data, sig
    )
    assert replay.sub_indication is SubIndication.REVOKED


def test_missing_or_damaged_evidence_is_not_fatal(demo_pki: DemoPKI, tmp_path: Path) -> None:
    """No evidence folder for a document, or a damaged file in it, still gives a verdict."""
    doc = sign_pdf(demo_pki, "citizen", minimal_pdf(), at=SIGNED_AT)
    import hashlib

    digest = hashlib.sha256(doc).hexdigest()
    (tmp_path / digest / "ocsp").mkdir(parents=True)
    (tmp_path / digest / "ocsp" / "bad.der").write_bytes(b"\x30\x03garbage")
    offline = ValidationPolicy(validation_time=PINNED_NOW, network=False)
    report = Verifier(demo_trust(demo_pki), offline, evidence_in=tmp_path).verify(doc)
    assert report.sub_indication is SubIndication.TRY_LATER


def test_two_signatures_over_one_content_keep_their_own_evidence_and_verdicts(
    demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """A revoked and a valid signer's detached signatures over the same content, kept
    under the content's SHA-256 each with its own signature SHA-256: neither overwrites
    the other (two reports, each its own verdict), and offline each replays to its own
    verdict: REVOKED and TOTAL_PASSED."""
    import hashlib

    data = b"hoa don dien tu"
    online = Verifier(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    sigs = {
        label: sign_detached(demo_pki, label, data, at=SIGNED_AT)
        for label in ("citizen-revoked", "citizen")
    }
    verdicts = {}
    for label, sig in sigs.items():
        report, evidence = online.verify_with_evidence(data, detached=sig)
        assert report.sha256 == hashlib.sha256(data).hexdigest()
        own = hashlib.sha256(sig).hexdigest()
        stored = evidence.write(tmp_path, report.sha256, report.to_json(), signature_sha256=own)
        assert stored == tmp_path / report.sha256 / "signatures" / own
        verdicts[label] = report.sub_indication
    assert verdicts == {"citizen-revoked": SubIndication.REVOKED, "citizen": None}
    key = hashlib.sha256(data).hexdigest()
    for label, sig in sigs.items():
        kept = Evidence.report_of(tmp_path, key, hashlib.sha256(sig).hexdigest())
        assert kept is not None
        assert kept["sub_indication"] == (
            verdicts[label].value if verdicts[label] is not None else None
        )
    assert Evidence.report_of(tmp_path, key) is None  # no report of the content itself
    offline = ValidationPolicy(validation_time=PINNED_NOW, network=False)
    replayer = Verifier(demo_trust(demo_pki), offline, evidence_in=tmp_path)
    for label, sig in sigs.items():
        replay = replayer.verify_detached(data, sig)
        assert replay.sub_indication is verdicts[label], label
