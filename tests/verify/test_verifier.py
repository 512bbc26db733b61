"""Known-answer tests: one document per verdict, signed with pyHanko directly (not esign)."""

from __future__ import annotations

import asyncio
import io
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import cms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from fixtures.demo import demo_trust
from fixtures.documents import demo_signer, minimal_pdf, pinned, sign_detached, sign_pdf
from fixtures.pki import DemoPKI, DemoServices, start_services
from tests.conftest import PINNED_NOW
from verify import (
    DocumentReport,
    Indication,
    SubIndication,
    TrustProfile,
    ValidationPolicy,
    VerificationFailed,
    Verifier,
)

BEFORE_REVOCATION = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
SIGNED_AT = datetime(2026, 5, 31, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def verifier(demo_pki: DemoPKI) -> Verifier:
    return Verifier(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return minimal_pdf("Tờ khai đăng ký khai sinh", pages=2)


@pytest.fixture(scope="module")
def services_at() -> Iterator[Callable[[datetime], DemoServices]]:
    """Extra service instances whose TSA speaks of another moment (OCSP/CRL of PINNED_NOW)."""
    started: dict[datetime, DemoServices] = {}

    def get(at: datetime) -> DemoServices:
        if at not in started:
            started[at] = start_services(at_time=PINNED_NOW, tsa_time=at)
        return started[at]

    yield get
    for services in started.values():
        services.stop()


def only_signature(report: DocumentReport) -> tuple[Indication, SubIndication | None]:
    assert len(report.signatures) >= 1
    sig = report.signatures[0]
    return sig.indication, sig.sub_indication


# -- passing documents, one per level ----------------------------------------------------


@pytest.mark.parametrize(
    ("label", "kwargs", "level"),
    [
        ("citizen", {}, "PAdES-B-B"),
        ("organisation", {"timestamp": True}, "PAdES-B-T"),
        ("branch", {"ltv": True}, "PAdES-B-LT"),
        ("official", {"lta": True}, "PAdES-B-LTA"),
        ("agency-seal", {"timestamp": True}, "PAdES-B-T"),
        ("citizen-ec", {}, "PAdES-B-B"),
    ],
)
def test_valid_signature_passes_at_each_level(
    verifier: Verifier,
    demo_pki: DemoPKI,
    pdf: bytes,
    label: str,
    kwargs: dict[str, bool],
    level: str,
) -> None:
    """A good signature is TOTAL_PASSED, with the PAdES level it reached and its signer."""
    signed = sign_pdf(demo_pki, label, pdf, at=SIGNED_AT, **kwargs)
    report = verifier.verify(signed)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    sig = report.signatures[0]
    assert sig.level == level
    assert sig.integrity is True
    # B-LT and B-LTA add validation data in later revisions
    whole = level in ("PAdES-B-B", "PAdES-B-T")
    assert sig.coverage == ("ENTIRE_FILE" if whole else "ENTIRE_REVISION")
    assert sig.signer is not None
    assert sig.signer["name"] == demo_pki.cert(label).subject.native["common_name"]
    assert sig.trust_anchor_profile == demo_pki.hierarchy_of(label)
    assert sig.revocation is not None
    assert sig.revocation.checked
    assert report.raise_for_status() is report
    if kwargs:
        assert sig.signing_time_proven == PINNED_NOW  # the demo TSA speaks of PINNED_NOW


def test_specialized_official_identity_is_read(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """The specialized hierarchy's official is reported as an official with title and agency."""
    report = verifier.verify(sign_pdf(demo_pki, "official", pdf, at=SIGNED_AT))
    signer = report.signatures[0].signer
    assert signer is not None
    assert signer["kind"] == "official"
    assert signer["title"] == "Chuyên viên"
    assert signer["organisation"] == "Ủy ban nhân dân phường Ba Đình"
    assert signer["profile"] == "specialized"


def test_circular15_display_items_are_present(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """The Vietnamese display names the result, signer, CA, time, integrity and validity."""
    report = verifier.verify(sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT, timestamp=True))
    items = report.signatures[0].circular15_vi()
    assert items["Kết quả"] == "Hợp lệ"
    assert items["Người ký"] == "Nguyễn Thị Hoà"
    assert "Demo" in items["Đơn vị quản lý chứng thư số"]
    assert items["Thời điểm ký"].startswith("01/06/2026 17:00:00")  # 10:00 UTC in Hà Nội
    assert "Cảnh báo" not in items


# -- failures ---------------------------------------------------------------------------


def test_content_changed_in_signed_range_is_hash_failure(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """Changing one byte of signed content gives TOTAL_FAILED / HASH_FAILURE."""
    signed = bytearray(sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT))
    at = signed.find(b"/Helvetica")
    signed[at + 1] ^= 0x01
    report = verifier.verify(bytes(signed))
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.HASH_FAILURE,
    )
    with pytest.raises(VerificationFailed):
        report.raise_for_status()


def _replace_cms(signed: bytes, mutate: Callable[[cms.ContentInfo], cms.ContentInfo]) -> bytes:
    """Swap the CMS inside /Contents for a mutated one of no greater length."""
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    end = signed.index(b">", start)
    hex_blob = signed[start:end]
    der = bytes.fromhex(hex_blob.decode())
    info = cms.ContentInfo.load(der)  # the padding zeros after it are ignored
    new = mutate(info).dump().hex().encode()
    assert len(new) <= len(hex_blob)
    return signed[:start] + new.ljust(len(hex_blob), b"0") + signed[end:]


def test_wrong_signature_value_is_sig_crypto_failure(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """A signature value that does not match the key gives TOTAL_FAILED / SIG_CRYPTO_FAILURE."""
    signed = sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT)

    def flip(info: cms.ContentInfo) -> cms.ContentInfo:
        info = cms.ContentInfo.load(info.dump())
        si = info["content"]["signer_infos"][0]
        value = bytearray(si["signature"].native)
        value[-1] ^= 0xFF
        si["signature"] = bytes(value)
        return info

    report = verifier.verify(_replace_cms(signed, flip))
    assert only_signature(report) == (Indication.TOTAL_FAILED, SubIndication.SIG_CRYPTO_FAILURE)


def test_revoked_before_signing_is_revoked(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """A certificate revoked before the claimed signing time: TOTAL_FAILED / REVOKED."""
    report = verifier.verify(sign_pdf(demo_pki, "citizen-revoked", pdf, at=SIGNED_AT))
    assert only_signature(report) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    assert report.indication is Indication.TOTAL_FAILED


def test_revoked_after_claimed_time_without_proof_is_revoked_no_poe(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """Revoked after the claimed (unproven) signing time: INDETERMINATE / REVOKED_NO_POE."""
    report = verifier.verify(sign_pdf(demo_pki, "citizen-revoked", pdf, at=BEFORE_REVOCATION))
    assert only_signature(report) == (Indication.INDETERMINATE, SubIndication.REVOKED_NO_POE)


def test_revoked_after_proven_signing_time_passes(
    services_at: Callable[[datetime], DemoServices], pdf: bytes
) -> None:
    """A timestamp proving the signature predates the revocation keeps it valid; the report
    still names the revocation (2026-03-01) and says, in both languages, that it came
    after the proven time."""
    from verify import labels
    from verify.engine import REVOKED_AFTER_PROOF

    early = services_at(BEFORE_REVOCATION)
    signed = sign_pdf(early.pki, "citizen-revoked", pdf, at=BEFORE_REVOCATION, timestamp=True)
    verifier = Verifier(demo_trust(early.pki), ValidationPolicy(validation_time=PINNED_NOW))
    report = verifier.verify(signed)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert report.signatures[0].signing_time_proven == BEFORE_REVOCATION
    revocation = report.signatures[0].revocation
    assert revocation is not None
    assert revocation.revoked_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert revocation.note == REVOKED_AFTER_PROOF
    note = labels.revocation_note(revocation.note)
    assert "thu hồi sau" in note.vi
    assert "revoked after" in note.en


def test_official_revoked_is_revoked(verifier: Verifier, demo_pki: DemoPKI, pdf: bytes) -> None:
    """Revocation works in the specialized hierarchy too."""
    report = verifier.verify(sign_pdf(demo_pki, "official-revoked", pdf, at=SIGNED_AT))
    assert only_signature(report) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_expired_certificate_without_timestamp_is_out_of_bounds(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """An expired certificate and no proof of time: INDETERMINATE / OUT_OF_BOUNDS_NO_POE."""
    signed = sign_pdf(demo_pki, "citizen-expired", pdf, at=datetime(2022, 6, 1, tzinfo=UTC))
    report = verifier.verify(signed)
    assert only_signature(report) == (Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE)


def test_expired_certificate_with_timestamp_from_validity_passes(
    services_at: Callable[[datetime], DemoServices], pdf: bytes
) -> None:
    """Signed and timestamped while valid, the signature passes after the certificate expired."""
    then = datetime(2022, 6, 1, 8, 0, tzinfo=UTC)
    old = services_at(then)
    signed = sign_pdf(old.pki, "citizen-expired", pdf, at=then, timestamp=True)
    verifier = Verifier(demo_trust(old.pki), ValidationPolicy(validation_time=PINNED_NOW))
    report = verifier.verify(signed)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert report.signatures[0].signing_time_proven == then


def test_timestamp_after_expiry_proves_nothing_in_time(
    services_at: Callable[[datetime], DemoServices], pdf: bytes
) -> None:
    """A timestamp made after the signer's certificate expired only proves the signature
    existed by then, not when it was made: INDETERMINATE / OUT_OF_BOUNDS_NO_POE (ETSI EN
    319 102-1 past signature validation), never a pass."""
    then = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    later = services_at(then)
    signed = sign_pdf(later.pki, "citizen-expired", pdf, at=then, timestamp=True)
    verifier = Verifier(demo_trust(later.pki), ValidationPolicy(validation_time=PINNED_NOW))
    report = verifier.verify(signed)
    assert only_signature(report) == (
        Indication.INDETERMINATE,
        SubIndication.OUT_OF_BOUNDS_NO_POE,
    )
    assert "after the signer's certificate expired" in report.signatures[0].message_en


def test_timestamp_before_validity_is_not_yet_valid(
    services_at: Callable[[datetime], DemoServices], pdf: bytes
) -> None:
    """A timestamp proving the signature predates the certificate: TOTAL_FAILED / NOT_YET_VALID."""
    then = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)  # citizen is valid from 2025-01-01
    early = services_at(then)
    signed = sign_pdf(early.pki, "citizen", pdf, at=then, timestamp=True)
    verifier = Verifier(demo_trust(early.pki), ValidationPolicy(validation_time=PINNED_NOW))
    assert only_signature(verifier.verify(signed)) == (
        Indication.TOTAL_FAILED,
        SubIndication.NOT_YET_VALID,
    )


def test_untrusted_root_is_no_certificate_chain_found(demo_pki: DemoPKI, pdf: bytes) -> None:
    """The bundled Vietnamese trust never trusts the demo roots: NO_CERTIFICATE_CHAIN_FOUND."""
    signed = sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT)
    for profile in ("public", "specialized", "any"):
        verifier = Verifier(profile, ValidationPolicy(validation_time=PINNED_NOW))
        assert only_signature(verifier.verify(signed)) == (
            Indication.INDETERMINATE,
            SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
        )


def test_wrong_hierarchy_is_no_certificate_chain_found(demo_pki: DemoPKI, pdf: bytes) -> None:
    """A public signer under a specialized-only trust profile does not chain."""
    trust = TrustProfile.custom([demo_pki.root("specialized")], name="demo-gov")
    verifier = Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW))
    report = verifier.verify(sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT))
    assert only_signature(report)[1] is SubIndication.NO_CERTIFICATE_CHAIN_FOUND


def test_offline_hard_mode_without_revocation_info_is_try_later(
    demo_pki: DemoPKI, pdf: bytes
) -> None:
    """Offline, a B-B signature has no revocation info: INDETERMINATE / TRY_LATER + warning."""
    policy = ValidationPolicy(validation_time=PINNED_NOW, network=False)
    report = Verifier(demo_trust(demo_pki), policy).verify(
        sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT)
    )
    assert only_signature(report) == (Indication.INDETERMINATE, SubIndication.TRY_LATER)
    assert "Cảnh báo" in report.signatures[0].circular15_vi()


def test_offline_soft_mode_passes_and_says_revocation_was_not_checked(
    demo_pki: DemoPKI, pdf: bytes
) -> None:
    """Soft mode accepts missing revocation info and says so in the report."""
    policy = ValidationPolicy(validation_time=PINNED_NOW, network=False, revocation="soft")
    report = Verifier(demo_trust(demo_pki), policy).verify(
        sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT)
    )
    assert report.indication is Indication.TOTAL_PASSED
    sig = report.signatures[0]
    assert sig.revocation is not None
    assert not sig.revocation.checked
    assert any("could not be checked" in w for w in sig.warnings)


def test_offline_b_lt_passes_from_embedded_validation_data(demo_pki: DemoPKI, pdf: bytes) -> None:
    """A B-LT document verifies offline in hard mode from its DSS alone."""
    signed = sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT, ltv=True)
    policy = ValidationPolicy(validation_time=PINNED_NOW, network=False)
    report = Verifier(demo_trust(demo_pki), policy).verify(signed)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en


def test_weak_rsa1024_sha1_is_crypto_constraints_failure(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """RSA-1024 / SHA-1 without proof of existence before the cut-off is not accepted."""
    report = verifier.verify(sign_pdf(demo_pki, "citizen-weak", pdf, at=SIGNED_AT))
    assert only_signature(report) == (
        Indication.INDETERMINATE,
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
    )


@pytest.mark.parametrize(
    ("digest", "expected"),
    [
        ("md5", SubIndication.CRYPTO_CONSTRAINTS_FAILURE),
        ("sha1", SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE),
        ("sha512", None),
    ],
)
def test_digest_algorithm_rules(
    verifier: Verifier, demo_pki: DemoPKI, digest: str, expected: SubIndication | None
) -> None:
    """MD5 is never accepted, SHA-1 only with proof of time, SHA-512 always."""
    signer = demo_signer(demo_pki, "citizen")
    with pinned(SIGNED_AT):
        sig = asyncio.run(
            signer.async_sign_general_data(b"noi dung", digest, detached=True, use_cades=True)
        )
    report = verifier.verify_detached(b"noi dung", sig.dump())
    assert report.sub_indication is expected


def test_missing_key_usage_is_chain_constraints_failure(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """A certificate without digitalSignature/nonRepudiation: CHAIN_CONSTRAINTS_FAILURE."""
    report = verifier.verify(sign_pdf(demo_pki, "citizen-no-usage", pdf, at=SIGNED_AT))
    assert only_signature(report) == (
        Indication.INDETERMINATE,
        SubIndication.CHAIN_CONSTRAINTS_FAILURE,
    )


def test_rsassa_pss_signature_is_accepted(verifier: Verifier, demo_pki: DemoPKI) -> None:
    """RSASSA-PSS and PKCS#1 v1.5 are both accepted."""
    pss = signers.SimpleSigner(
        signing_cert=demo_pki.cert("citizen"),
        signing_key=demo_pki.key("citizen"),
        cert_registry=SimpleCertificateStore.from_certs([demo_pki.cert("ca-rsa")]),
        prefer_pss=True,
    )
    with pinned(SIGNED_AT):
        sig = asyncio.run(
            pss.async_sign_general_data(b"abc", "sha256", detached=True, use_cades=True)
        )
    report = verifier.verify_detached(b"abc", sig.dump())
    assert report.signatures[0].signature_algorithm == "rsassa_pss"
    assert report.indication is Indication.TOTAL_PASSED


# -- documents that are not (well) signed ---------------------------------------------------


def test_unsigned_pdf_is_no_signature_found(verifier: Verifier, pdf: bytes) -> None:
    """A PDF with no signature: INDETERMINATE / NO_SIGNATURE_FOUND, with a sentence."""
    report = verifier.verify(pdf)
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.NO_SIGNATURE_FOUND,
    )
    assert report.message_vi == "Tài liệu không có chữ ký số."


@pytest.mark.parametrize("blob", [b"", b"garbage", b"\x00" * 1000, b"%PDF-1.7\n1 0 obj\n<<"])
def test_unreadable_input_is_format_failure(verifier: Verifier, blob: bytes) -> None:
    """Garbage, empty and truncated files: TOTAL_FAILED / FORMAT_FAILURE, never an exception."""
    report = verifier.verify(blob)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert report.message_en


def test_truncated_signed_pdf_never_passes(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """Cutting a signed PDF in half is never TOTAL_PASSED."""
    signed = sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT)
    report = verifier.verify(signed[: len(signed) // 2])
    assert report.indication is not Indication.TOTAL_PASSED


def test_encrypted_pdf_is_indeterminate_encrypted(verifier: Verifier, pdf: bytes) -> None:
    """An encrypted PDF: INDETERMINATE / ENCRYPTED with its own reason."""
    from pyhanko.pdf_utils.crypt import StandardSecurityHandler
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(pdf)))
    writer.security_handler = StandardSecurityHandler.build_from_pw("mat-khau")
    writer._assign_security_handler(writer.security_handler)
    out = io.BytesIO()
    writer.write(out)
    report = verifier.verify(out.getvalue())
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.ENCRYPTED,
    )


def test_file_over_size_limit_is_refused_and_reported(demo_pki: DemoPKI, tmp_path: Path) -> None:
    """A file larger than the policy's limit is not read and is reported as such."""
    big = tmp_path / "big.pdf"
    big.write_bytes(minimal_pdf(padding=200_000))
    policy = ValidationPolicy(validation_time=PINNED_NOW, max_file_size=100_000)
    report = Verifier(demo_trust(demo_pki), policy).verify(big)
    assert report.sub_indication is SubIndication.SIZE_LIMIT_EXCEEDED
    assert "100,000" in report.message_en
    assert report.path == str(big)


def test_missing_file_is_a_report_not_an_exception(verifier: Verifier, tmp_path: Path) -> None:
    """A path that does not exist gets an INDETERMINATE / FILE_UNREADABLE report naming the
    problem (a problem of the reader's machine, not a verdict on a signature)."""
    report = verifier.verify(tmp_path / "khong-co.pdf")
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.FILE_UNREADABLE
    assert report.message_en.strip()
    assert report.message_vi.strip()


def test_unsupported_subfilter_is_reported_not_ignored(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """adbe.x509.rsa_sha1 is reported as unverifiable, so the document is not 'all valid'."""
    signed = sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT)
    forged = signed.replace(b"/ETSI.CAdES.detached", b"/adbe.x509.rsa_sha1\x20")
    report = verifier.verify(forged)
    assert report.indication is not Indication.TOTAL_PASSED
    assert report.signatures[0].sub_indication is SubIndication.SIG_CONSTRAINTS_FAILURE


# -- changes after signing ---------------------------------------------------------------------


def _append_page_change(signed: bytes) -> bytes:
    """An incremental update that replaces the first page's content stream."""
    from pyhanko.pdf_utils import generic

    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page_ref = writer.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    stream = generic.StreamObject(
        stream_data=b"BT /F1 14 Tf 72 700 Td (SO TIEN: 999.000.000) Tj ET"
    )
    page["/Contents"] = writer.add_object(stream)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_page_content_changed_after_signing_fails_the_document(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """A later revision changing page content fails the document though the bytes verify."""
    signed = sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT)
    report = verifier.verify(_append_page_change(signed))
    assert report.indication is Indication.TOTAL_FAILED
    sig = report.signatures[0]
    assert sig.integrity is True
    assert sig.sub_indication is SubIndication.FORMAT_FAILURE
    assert sig.modifications == "OTHER"
    assert "modified after signing" in sig.message_en


def test_certified_then_signed_then_countersigned_all_pass(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """Agency certifies (form filling allowed), citizen signs, official countersigns: all pass."""
    doc = sign_pdf(
        demo_pki,
        "agency-seal",
        pdf,
        at=SIGNED_AT,
        certify=fields.MDPPerm.FILL_FORMS,
        field_name="CoQuan",
    )
    doc = sign_pdf(demo_pki, "citizen", doc, at=SIGNED_AT, field_name="CongDan")
    lock = fields.FieldMDPSpec(fields.FieldMDPAction.INCLUDE, fields=["CongDan"])
    doc = sign_pdf(demo_pki, "official", doc, at=SIGNED_AT, field_name="CanBo", field_lock=lock)
    report = verifier.verify(doc)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert [s.field_name for s in report.signatures] == ["CoQuan", "CongDan", "CanBo"]
    assert report.signatures[0].certification == "FILL_FORMS"
    assert report.signatures[0].modifications == "FORM_FILLING_AND_SIGNATURES"


def test_change_forbidden_by_certification_fails(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """A certification that allows no changes fails when an annotation is added later."""
    doc = sign_pdf(
        demo_pki,
        "agency-seal",
        pdf,
        at=SIGNED_AT,
        certify=fields.MDPPerm.NO_CHANGES,
        field_name="CoQuan",
    )
    from pyhanko.pdf_utils import generic

    writer = IncrementalPdfFileWriter(io.BytesIO(doc))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    note = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/Text"),
            generic.NameObject("/Rect"): generic.ArrayObject(
                [generic.NumberObject(n) for n in (72, 600, 300, 700)]
            ),
            generic.NameObject("/Contents"): generic.TextStringObject("Đã duyệt"),
        }
    )
    page["/Annots"] = generic.ArrayObject([writer.add_object(note)])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    report = verifier.verify(out.getvalue())
    assert report.indication is Indication.TOTAL_FAILED
    assert report.signatures[0].sub_indication is SubIndication.FORMAT_FAILURE
    assert report.signatures[0].certification == "NO_CHANGES"


# -- detached CMS ------------------------------------------------------------------------------


def test_detached_cades_b_b_and_b_t(verifier: Verifier, demo_pki: DemoPKI) -> None:
    """Detached CAdES over bytes verifies at B-B and B-T; changed content is HASH_FAILURE."""
    data = "Tờ khai (JSON)".encode()
    bb = sign_detached(demo_pki, "citizen", data, at=SIGNED_AT)
    bt = sign_detached(demo_pki, "official", data, at=SIGNED_AT, timestamp=True)
    assert verifier.verify_detached(data, bb).signatures[0].level == "CAdES-B-B"
    report = verifier.verify(data, detached=bt)
    assert report.indication is Indication.TOTAL_PASSED
    assert report.signatures[0].level == "CAdES-B-T"
    assert report.format == "cms"
    bad = verifier.verify_detached(data + b" ", bb)
    assert bad.sub_indication is SubIndication.HASH_FAILURE


def test_detached_signature_that_is_not_der_is_format_failure(verifier: Verifier) -> None:
    """A .p7s that is not DER: TOTAL_FAILED / FORMAT_FAILURE."""
    report = verifier.verify_detached(b"data", b"\x30\x82\xff\xffnot der")
    assert report.sub_indication is SubIndication.FORMAT_FAILURE


@pytest.mark.parametrize("cades", [True, False], ids=["cades", "plain-cms"])
def test_openssl_cms_sign_detached_verifies(
    verifier: Verifier, demo_pki: DemoPKI, tmp_path: Path, cades: bool
) -> None:
    """Interop: `openssl cms -sign -cades` verifies; without -cades (no ESS signing-certificate
    attribute) it passes with a warning under the default policy, as in EU DSS, and is
    INDETERMINATE / NO_SIGNING_CERTIFICATE_FOUND under a policy that sets that constraint
    to FAIL."""
    data = tmp_path / "dossier.json"
    data.write_bytes('{"ho_ten": "Nguyễn Thị Hoà"}'.encode())
    cert = tmp_path / "c.pem"
    cert.write_bytes(demo_pki.cert_pem("citizen"))
    key = tmp_path / "k.pem"
    key.write_bytes(demo_pki.key_pem("citizen"))
    chain = tmp_path / "ca.pem"
    chain.write_bytes(demo_pki.cert_pem("ca-rsa"))
    out = tmp_path / "dossier.json.p7s"
    subprocess.run(
        [
            "openssl",
            "cms",
            "-sign",
            "-binary",
            "-in",
            str(data),
            "-signer",
            str(cert),
            "-inkey",
            str(key),
            "-certfile",
            str(chain),
            "-outform",
            "DER",
            "-out",
            str(out),
            "-md",
            "sha256",
            *(["-cades"] if cades else []),  # ESS signing-certificate-v2 (CAdES baseline)
        ],
        check=True,
        capture_output=True,
    )
    report = verifier.verify(data, detached=out)
    if cades:
        assert report.indication is Indication.TOTAL_PASSED, report.message_en
        assert not any("signing-certificate" in w for w in report.signatures[0].warnings)
    else:
        assert report.indication is Indication.TOTAL_PASSED, report.message_en
        assert any("signing-certificate" in w for w in report.signatures[0].warnings)
        strict = Verifier(
            verifier.trust,
            verifier.policy.replace(constraints={"signing_certificate_present": "FAIL"}),
        )
        report = strict.verify(data, detached=out)
        assert (report.indication, report.sub_indication) == (
            Indication.INDETERMINATE,
            SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
        )
        assert "signing-certificate" in report.message_en


# -- properties ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_sample(demo_pki: DemoPKI, pdf: bytes) -> bytes:
    return sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_flipping_any_signed_byte_never_passes(
    verifier: Verifier, signed_sample: bytes, data: st.DataObject
) -> None:
    """Property: any single-byte change inside the signed byte ranges is never TOTAL_PASSED."""
    start = signed_sample.index(b"/Contents <") + len(b"/Contents ")
    end = signed_sample.index(b">", start) + 1
    covered = [*range(0, start), *range(end, len(signed_sample))]
    pos = data.draw(st.sampled_from(covered))
    delta = data.draw(st.integers(min_value=1, max_value=255))
    mutated = bytearray(signed_sample)
    mutated[pos] = (mutated[pos] + delta) % 256
    report = verifier.verify(bytes(mutated))
    assert report.indication is not Indication.TOTAL_PASSED


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=st.binary(min_size=1, max_size=200), pos=st.integers(min_value=0), bit=st.integers(0, 7)
)
def test_flipping_a_bit_of_detached_content_never_passes(
    verifier: Verifier, demo_pki: DemoPKI, content: bytes, pos: int, bit: int
) -> None:
    """Property: changing one bit of detached content is never TOTAL_PASSED."""
    sig = sign_detached(demo_pki, "citizen-ec", content, at=SIGNED_AT)
    assert verifier.verify_detached(content, sig).indication is Indication.TOTAL_PASSED
    mutated = bytearray(content)
    mutated[pos % len(content)] ^= 1 << bit
    assert verifier.verify_detached(bytes(mutated), sig).indication is not Indication.TOTAL_PASSED


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_cms_never_crashes_and_never_passes(
    verifier: Verifier, demo_pki: DemoPKI, data: st.DataObject
) -> None:
    """Property: random byte mutations of a CMS blob give a report, never an exception or a pass."""
    sig = bytearray(sign_detached(demo_pki, "citizen", b"abc", at=SIGNED_AT))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(sig) - 1))
        sig[pos] = data.draw(st.integers(0, 255))
    report = verifier.verify_detached(b"abc", bytes(sig))
    assert isinstance(report, DocumentReport)
    if report.indication is Indication.TOTAL_PASSED:
        # only a change outside what is signed may pass: the signed attributes, the
        # signature value and the signer's certificate must be exactly the original ones
        original = cms.ContentInfo.load(sign_detached(demo_pki, "citizen", b"abc", at=SIGNED_AT))
        mutated = cms.ContentInfo.load(bytes(sig))
        osi, msi = original["content"]["signer_infos"][0], mutated["content"]["signer_infos"][0]
        assert msi["signed_attrs"].dump() == osi["signed_attrs"].dump()
        assert msi["signature"].native == osi["signature"].native
