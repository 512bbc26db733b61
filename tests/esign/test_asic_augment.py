"""``esign augment`` on ASiC containers: an ASiC-E's CAdES signature brought to B-T and
B-LT over its manifest, B-LTA by archive manifest (as ``--archive`` does), an ASiC-S's
CAdES signature augmented inside, an ASiC-S time assertion given its TSA's validation
data or an archive timestamp; what cannot be done is refused with the reason.

Against the demo PKI's live services on loopback, at the pinned time."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from asn1crypto import cms

import esign
from esign.asic import ARCHIVE_MANIFEST_NAME, MANIFEST_NAME, SIGNATURE_NAME, TIMESTAMP_NAME
from esign.cli import main as esign_main
from tests.conftest import PINNED_NOW
from tests.esign.test_asic import dossier
from tests.esign.test_asic_lta import _entries
from tests.esign.test_xml_sign import invoice
from verify import Indication, TrustProfile, ValidationPolicy, Verifier

SIGNATURE_TIMESTAMP = "signature_time_stamp_token"


def _offline(trust: TrustProfile) -> Verifier:
    return Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW, network=False))


def _unsigned_attrs(p7s: bytes) -> list[str]:
    si = cms.ContentInfo.load(p7s)["content"]["signer_infos"][0]
    return [a["type"].native for a in si["unsigned_attrs"] or ()]


@pytest.fixture
def asice_bb(signer_for, public_trust: TrustProfile, tmp_path: Path) -> bytes:
    made = esign.sign_asic(
        dossier(tmp_path), None, signer_for("citizen"), level="B-B", trust=public_trust
    )
    assert made.data is not None
    return made.data


def test_asice_b_b_augmented_to_b_t_gets_a_signature_timestamp_and_nothing_else_changes(
    asice_bb: bytes, public_trust: TrustProfile, checker: Verifier, tsa
) -> None:
    """``level="B-T"`` on an ASiC-E: signature001.p7s gains a signature-time-stamp-token
    (its signed parts unchanged), every other entry keeps its bytes, and the container
    verifies with the signature at B-T."""
    res = esign.augment(asice_bb, None, level="B-T", trust=public_trust, tsa_url=tsa["public"])
    assert res.data is not None
    assert (res.format, res.signatures) == ("asic-e", (SIGNATURE_NAME,))
    assert res.added == (f"{SIGNATURE_NAME}: signature-time-stamp-token on SignerInfo 1",)
    before, after = _entries(asice_bb), _entries(res.data)
    assert list(after) == list(before)
    for name in before:
        if name != SIGNATURE_NAME:
            assert after[name] == before[name], name
    assert _unsigned_attrs(after[SIGNATURE_NAME]) == [SIGNATURE_TIMESTAMP]
    old_si = cms.ContentInfo.load(before[SIGNATURE_NAME])["content"]["signer_infos"][0]
    new_si = cms.ContentInfo.load(after[SIGNATURE_NAME])["content"]["signer_infos"][0]
    assert new_si["signed_attrs"].dump() == old_si["signed_attrs"].dump()
    assert new_si["signature"].native == old_si["signature"].native
    report = checker.verify(res.data)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    (sig,) = report.signatures
    assert sig.level == "CAdES-B-T"


def test_asice_augmented_to_b_lt_verifies_offline(
    asice_bb: bytes, public_trust: TrustProfile, tsa
) -> None:
    """B-B to B-LT: offline the original is undecided, the augmented container passes
    (the signer's and the TSA's validation data are in signature001.p7s)."""
    assert _offline(public_trust).verify(asice_bb).indication is Indication.INDETERMINATE
    res = esign.augment(asice_bb, None, level="B-LT", trust=public_trust, tsa_url=tsa["public"])
    assert res.data is not None
    report = _offline(public_trust).verify(res.data)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert report.signatures[0].level == "CAdES-B-LT"


def test_asice_augmented_to_b_lta_is_b_lt_then_an_archive_manifest(
    asice_bb: bytes, public_trust: TrustProfile, checker: Verifier, tsa
) -> None:
    """B-B to B-LTA: the signature is brought to B-LT, then ASiCArchiveManifest.xml and
    timestamp001.tst are added over every entry, as ``--archive`` lays them out; the
    container passes offline."""
    res = esign.augment(asice_bb, None, level="B-LTA", trust=public_trust, tsa_url=tsa["public"])
    assert res.data is not None
    assert res.signatures == (SIGNATURE_NAME, "META-INF/timestamp001.tst")
    assert res.added[-1] == (
        f"archive manifest {ARCHIVE_MANIFEST_NAME} with its timestamp META-INF/timestamp001.tst"
    )
    after = _entries(res.data)
    assert list(after)[-2:] == [ARCHIVE_MANIFEST_NAME, "META-INF/timestamp001.tst"]
    assert after[MANIFEST_NAME] == _entries(asice_bb)[MANIFEST_NAME]
    report = _offline(public_trust).verify(res.data)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    again = esign.augment(res.data, None, level="B-LT", trust=public_trust, tsa_url=tsa["public"])
    assert again.added == ()  # B-LT already: nothing is added to the covered signature


def test_adding_to_a_signature_an_archive_manifest_covers_is_refused(
    signer_for, public_trust: TrustProfile, tsa, tmp_path: Path
) -> None:
    """A B-T ASiC-E given an archive manifest, then asked for B-LT: validation data would
    change signature001.p7s, which the archive manifest lists with its digest; refused in
    both languages, naming the manifest."""
    bt = esign.sign_asic(
        dossier(tmp_path),
        None,
        signer_for("citizen"),
        level="B-T",
        trust=public_trust,
        tsa_url=tsa["public"],
    ).data
    assert bt is not None
    archived = esign.asic.archive_asic(bt, None, trust=public_trust, tsa_url=tsa["public"]).data
    assert archived is not None
    with pytest.raises(esign.AugmentRefused) as refused:
        esign.augment(archived, None, level="B-LT", trust=public_trust, tsa_url=tsa["public"])
    assert f"{SIGNATURE_NAME} is covered by {ARCHIVE_MANIFEST_NAME}" in str(refused.value)
    assert f"{SIGNATURE_NAME} đã được bảng kê lưu trữ {ARCHIVE_MANIFEST_NAME} bao phủ" in (
        refused.value.message_vi or ""
    )


def test_timestamped_asics_b_lt_and_b_lta(
    public_trust: TrustProfile, checker: Verifier, tsa
) -> None:
    """An ASiC-S time assertion: B-T adds nothing (it is there); B-LT puts the TSA's
    validation data into timestamp.tst, so it passes offline; B-LTA adds the archive
    manifest and timestamp001.tst as ``archive_asic`` does."""
    made = esign.timestamp_asic_s(
        ("hoa-don.xml", invoice()), None, trust=public_trust, tsa_url=tsa["public"]
    ).data
    assert made is not None
    bt = esign.augment(made, None, level="B-T", trust=public_trust, tsa_url=tsa["public"])
    assert (bt.format, bt.signatures, bt.added, bt.data) == (
        "asic-s",
        (TIMESTAMP_NAME,),
        (),
        made,
    )
    assert _offline(public_trust).verify(made).indication is Indication.INDETERMINATE
    lt = esign.augment(made, None, level="B-LT", trust=public_trust, tsa_url=tsa["public"])
    assert lt.data is not None
    assert lt.added == (f"validation data for {TIMESTAMP_NAME}'s TSA put into it",)
    assert list(_entries(lt.data)) == ["mimetype", "hoa-don.xml", TIMESTAMP_NAME]
    assert _offline(public_trust).verify(lt.data).indication is Indication.TOTAL_PASSED
    lta = esign.augment(made, None, level="B-LTA", trust=public_trust, tsa_url=tsa["public"])
    assert lta.data is not None
    assert list(_entries(lta.data))[-2:] == [ARCHIVE_MANIFEST_NAME, "META-INF/timestamp001.tst"]
    assert checker.verify(lta.data).indication is Indication.TOTAL_PASSED


def test_asics_with_a_cades_signature_is_augmented_inside_the_signature(
    signer_for, public_trust: TrustProfile, checker: Verifier, tsa, tmp_path: Path
) -> None:
    """An ASiC-S whose META-INF/signature.p7s signs the one file: B-LTA is added inside
    the CAdES (signature timestamp, validation data, archive-time-stamp-v3), no archive
    manifest; the data file keeps its bytes and the container passes."""
    data = invoice()
    (tmp_path / "hoa-don.xml").write_bytes(data)
    signed = esign.sign_detached(
        tmp_path / "hoa-don.xml", None, signer_for("citizen"), level="B-B", trust=public_trust
    )
    assert signed.data is not None
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("mimetype", "application/vnd.etsi.asic-s+zip", zipfile.ZIP_STORED)
        zf.writestr("hoa-don.xml", data)
        zf.writestr("META-INF/signature.p7s", signed.data)
    res = esign.augment(
        out.getvalue(), None, level="B-LTA", trust=public_trust, tsa_url=tsa["public"]
    )
    assert res.data is not None
    assert res.signatures == ("META-INF/signature.p7s",)
    after = _entries(res.data)
    assert list(after) == ["mimetype", "hoa-don.xml", "META-INF/signature.p7s"]
    assert after["hoa-don.xml"] == data
    attrs = _unsigned_attrs(after["META-INF/signature.p7s"])
    assert attrs[0] == SIGNATURE_TIMESTAMP
    assert len(attrs) == 2  # and the archive-time-stamp-v3
    report = checker.verify(res.data)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en


def test_what_cannot_be_augmented_is_refused_with_the_reason(
    asice_bb: bytes, public_trust: TrustProfile, tsa
) -> None:
    """A container whose XAdES signatures this does not augment, one whose data file was
    changed (it does not verify now), and content given with a container: each refused
    with the reason (English and Vietnamese for the refusals)."""
    xades = io.BytesIO()
    with zipfile.ZipFile(xades, "w") as zf:
        zf.writestr("mimetype", "application/vnd.etsi.asic-e+zip", zipfile.ZIP_STORED)
        zf.writestr("a.txt", b"a")
        zf.writestr("META-INF/signatures001.xml", b"<XAdESSignatures/>")
    with pytest.raises(esign.AugmentRefused, match="XAdES") as refused:
        esign.augment(
            xades.getvalue(), None, level="B-T", trust=public_trust, tsa_url=tsa["public"]
        )
    assert "XAdES" in (refused.value.message_vi or "")
    entries = _entries(asice_bb)
    changed = io.BytesIO()
    with zipfile.ZipFile(changed, "w") as zf:
        for name, value in entries.items():
            zf.writestr(name, value if name != "du-lieu.json" else value + b" ")
    with pytest.raises(esign.SignatureNotValid, match="does not verify now") as invalid:
        esign.augment(
            changed.getvalue(), None, level="B-T", trust=public_trust, tsa_url=tsa["public"]
        )
    assert "không hợp lệ tại thời điểm này" in (invalid.value.message_vi or "")
    with pytest.raises(esign.UsageError, match="container holds its own"):
        esign.augment(asice_bb, None, level="B-T", content=b"x", tsa_url=tsa["public"])


def test_cli_augment_on_an_asice(
    asice_bb: bytes, p12_dir: Path, tsa, tmp_path: Path, capsys
) -> None:
    """``esign augment IN.asice OUT.asice --level B-T`` says what it added."""
    given = tmp_path / "ho-so.asice"
    given.write_bytes(asice_bb)
    code = esign_main(
        [
            "augment",
            str(given),
            str(given),
            "--level",
            "B-T",
            "--tsa",
            tsa["public"],
            "--profile",
            "public",
            "--trust",
            str(p12_dir / "public-root.pem"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.strip() == (
        f"{given}: {SIGNATURE_NAME} augmented to B-T (asic-e); added: {SIGNATURE_NAME}: "
        "signature-time-stamp-token on SignerInfo 1"
    )
