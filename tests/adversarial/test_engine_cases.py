"""Engine cases: genuine signatures whose verdict rests on revocation, time and constraints.

Each document is built by code (``fixtures.attacks``, the "engine cases" section) from the
demo PKI. Every test first asserts the facts that make the document what it claims to be
(the CRL really is in the CMS and lists the serial, the token really is SHA-1, ...), then
the exact verdict of ``Verifier(demo_trust(pki), policy)``. Validation time is always
PINNED_NOW; the network is off unless the case needs the live demo services.
``CASES.md`` ("Engine cases") lists them with what EU DSS says.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import cms, crl
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.validation import async_validate_detached_cms, validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

from fixtures import attacks as A
from fixtures.documents import minimal_pdf
from fixtures.pki import DemoPKI
from tests.adversarial.corpus import demo_trust
from tests.conftest import PINNED_NOW
from verify import (
    DocumentReport,
    Indication,
    SubIndication,
    ValidationPolicy,
    Verifier,
    cades_archive,
)

P = Indication.TOTAL_PASSED
F = Indication.TOTAL_FAILED
I = Indication.INDETERMINATE  # noqa: E741
S = SubIndication

REVOKED_SINCE = datetime(2026, 3, 1, tzinfo=UTC)  # citizen-revoked, citizen-nopointer-revoked
SHORT_EXPIRY = datetime(2026, 3, 1, tzinfo=UTC)  # citizen-short: valid 2025-01-01 .. 2026-03-01
BEFORE_REVOCATION = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
AFTER_REVOCATION = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
SHORT_SIGNED = datetime(2026, 2, 15, 9, 0, tzinfo=UTC)  # inside citizen-short's validity
SIGNED_AT = datetime(2026, 5, 31, 9, 0, tzinfo=UTC)
DATA = b'{"ma_ho_so": "000.00.00.H29-260601-0001", "so_tien": 1000000}'

OFFLINE = ValidationPolicy(network=False, validation_time=PINNED_NOW)
ONLINE = ValidationPolicy(validation_time=PINNED_NOW)


# -- helpers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return minimal_pdf("To khai dang ky khai sinh - so tien 1.000.000 VND")


@pytest.fixture(scope="module")
def crls_now(demo_pki: DemoPKI) -> list[crl.CertificateList]:
    """ca-rsa's and vn-root's complete CRLs as published at PINNED_NOW."""
    return A.demo_crls(demo_pki, PINNED_NOW)


def verify(pki: DemoPKI, data: bytes, *, detached: bytes | None = None, policy=OFFLINE):
    report = Verifier(demo_trust(pki), policy).verify(data, detached=detached)
    assert isinstance(report, DocumentReport)
    return report


def verdict(report: DocumentReport) -> tuple[Indication, SubIndication | None]:
    return report.indication, report.sub_indication


def assert_says(report: DocumentReport, en: tuple[str, ...], vi: tuple[str, ...]) -> None:
    """Both messages are there and name the cause (any of the words, case-insensitive)."""
    assert report.message_en.strip(), "empty message_en"
    assert report.message_vi.strip(), "empty message_vi"
    assert any(w.lower() in report.message_en.lower() for w in en), report.message_en
    assert any(w.lower() in report.message_vi.lower() for w in vi), report.message_vi


def signed_data(info: cms.ContentInfo | bytes) -> cms.SignedData:
    if isinstance(info, bytes):
        info = cms.ContentInfo.load(info)
    sd = info["content"]
    assert isinstance(sd, cms.SignedData)
    return sd


def signed_attr(sd: cms.SignedData, name: str) -> object | None:
    for attr in sd["signer_infos"][0]["signed_attrs"]:
        if attr["type"].native == name:
            return attr["values"][0]
    return None


def cms_crls(sd: cms.SignedData) -> list[crl.CertificateList]:
    return [c.chosen for c in sd["crls"]] if sd["crls"].native else []


def assert_crl_revokes(
    pki: DemoPKI, lists: list[crl.CertificateList], label: str, issuer: str = "ca-rsa"
) -> None:
    """One of ``lists`` is ``issuer``'s CRL, signed by it, listing ``label`` since 2026-03-01."""
    cert = pki.cert(label)
    mine = [c for c in lists if c.issuer == pki.cert(issuer).subject]
    assert len(mine) == 1
    assert A.crl_signed_by(mine[0], pki.cert(issuer))
    assert A.crl_revocation(mine[0], cert.serial_number) == REVOKED_SINCE


def pyhanko_context(pki: DemoPKI, **kwargs: object) -> ValidationContext:
    roots: list[asn1_x509.Certificate] = [pki.root("public"), pki.root("specialized")]
    return ValidationContext(trust_roots=roots, allow_fetching=False, moment=PINNED_NOW, **kwargs)


def pyhanko_detached(pki: DemoPKI, data: bytes, info: cms.ContentInfo, **kwargs: object):
    return asyncio.run(
        async_validate_detached_cms(
            data,
            signed_data(info),
            signer_validation_context=pyhanko_context(pki, **kwargs),
            ts_validation_context=pyhanko_context(pki, **kwargs),
        )
    )


def pyhanko_pdf(
    pki: DemoPKI,
    pdf: bytes,
    index: int = 0,
    key_usage: KeyUsageConstraints | None = None,
    **kwargs: object,
):
    sig = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[index]
    return validate_pdf_signature(sig, pyhanko_context(pki, **kwargs), key_usage_settings=key_usage)


def pdf_signed_attr(pdf: bytes, name: str) -> object | None:
    return signed_attr(signed_data(A.cms_from_pdf(pdf)), name)


# -- 1-3: revocation data carried in the document -------------------------------------------


def test_revoked_signer_with_crl_in_cms_crls_is_revoked(
    demo_pki: DemoPKI, crls_now: list[crl.CertificateList]
) -> None:
    """Detached CAdES signed after revocation, issuer's CRL in SignedData.crls: F / REVOKED."""
    info = A.sign_cades(demo_pki, "citizen-revoked", DATA, at=AFTER_REVOCATION, crls=crls_now)
    sd = signed_data(info)
    assert_crl_revokes(demo_pki, cms_crls(sd), "citizen-revoked")
    assert signed_attr(sd, "signing_time").native == AFTER_REVOCATION
    ph = pyhanko_detached(demo_pki, DATA, info, crls=cms_crls(sd))
    assert ph.intact
    assert ph.valid
    assert ph.revoked  # pyHanko, given the embedded CRL, sees the revocation
    report = verify(demo_pki, DATA, detached=info.dump())
    assert verdict(report) == (F, S.REVOKED), report.message_en
    assert_says(report, ("revoked",), ("thu hồi",))


def test_pdf_with_crl_in_adobe_revocation_archival_is_revoked(
    demo_pki: DemoPKI, pdf: bytes, crls_now: list[crl.CertificateList]
) -> None:
    """adbe.pkcs7.detached PDF signed after revocation, CRL in adbe-revocationInfoArchival."""
    signed = A.sign_pdf_as(demo_pki, "citizen-revoked", pdf, at=AFTER_REVOCATION, subfilter="adobe")
    key = A.load_key(demo_pki, "citizen-revoked")
    doc = A.pdf_with_signed_attrs(signed, key, lambda a: [*a, A.adobe_revinfo_attr(crls_now)])
    assert b"/adbe.pkcs7.detached" in doc
    archival = pdf_signed_attr(doc, "adobe_revocation_info_archival")
    assert archival is not None
    lists = [crl.CertificateList.load(c.dump()) for c in archival["crl"]]  # type: ignore[index]
    assert_crl_revokes(demo_pki, lists, "citizen-revoked")
    assert pdf_signed_attr(doc, "signing_time").native == AFTER_REVOCATION  # type: ignore[union-attr]
    ph = pyhanko_pdf(demo_pki, doc, crls=lists)
    assert ph.intact
    assert ph.valid
    assert ph.revoked
    report = verify(demo_pki, doc)
    assert verdict(report) == (F, S.REVOKED), report.message_en
    assert_says(report, ("revoked",), ("thu hồi",))


def test_revoked_signer_without_revocation_pointer_is_revoked_by_dss_crl(
    demo_pki: DemoPKI, pdf: bytes, crls_now: list[crl.CertificateList]
) -> None:
    """No CRL DP, no OCSP URL; the issuer's complete CRL listing it is in the DSS: F / REVOKED."""
    cert = demo_pki.cert("citizen-nopointer-revoked")
    assert cert.crl_distribution_points == []
    assert cert.ocsp_urls == []
    assert cert.authority_information_access_value is None
    signed = A.sign_pdf_as(demo_pki, "citizen-nopointer-revoked", pdf, at=AFTER_REVOCATION)
    doc = A.add_dss(signed, certs=[demo_pki.cert("ca-rsa")], crls=crls_now)
    in_dss = A.dss_crls(doc)
    assert_crl_revokes(demo_pki, in_dss, "citizen-nopointer-revoked")
    ph = pyhanko_pdf(demo_pki, doc, crls=in_dss)
    assert ph.intact
    assert ph.valid
    # pyHanko alone, even handed the CRL, checks only what the certificate points at: nothing
    assert not ph.revoked
    assert ph.bottom_line
    report = verify(demo_pki, doc)
    assert verdict(report) == (F, S.REVOKED), report.message_en
    assert_says(report, ("revoked",), ("thu hồi",))


# -- 4: a SHA-1 timestamp proves nothing ----------------------------------------------------


def test_sha1_signature_timestamp_gives_expired_signer_no_proof(demo_pki: DemoPKI) -> None:
    """Expired signer, signature timestamp of 2026-05 hashed and signed with SHA-1: I / NO_POE."""
    cert = demo_pki.cert("citizen-short")
    assert cert.not_valid_after == SHORT_EXPIRY < PINNED_NOW
    token_at = datetime(2026, 5, 15, 9, 0, tzinfo=UTC)
    info = A.with_sha1_signature_timestamp(
        A.sign_cades(demo_pki, "citizen-short", DATA, at=SHORT_SIGNED), demo_pki, at=token_at
    )
    si = signed_data(info)["signer_infos"][0]
    tokens = [a for a in si["unsigned_attrs"] if a["type"].native == "signature_time_stamp_token"]
    assert len(tokens) == 1
    token = tokens[0]["values"][0]
    tst = A.tst_info(token)
    tsi = token["content"]["signer_infos"][0]
    assert tst["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha1"
    assert tsi["digest_algorithm"]["algorithm"].native == "sha1"
    assert tsi["signature_algorithm"].hash_algo == "sha1"
    assert tst["gen_time"].native == token_at
    sha1 = hashlib.sha1(bytes(si["signature"].native)).digest()  # noqa: S324 - the case itself
    assert A.tst_digest(info) == sha1
    tsa_certs = [c.chosen.dump() for c in token["content"]["certificates"]]
    assert demo_pki.cert("public-tsa").dump() in tsa_certs  # the trusted public TSA, not a forgery
    ph = pyhanko_detached(demo_pki, DATA, info, crls=A.demo_crls(demo_pki, PINNED_NOW))
    assert ph.timestamp_validity is not None
    assert ph.timestamp_validity.intact  # a genuine token over this signature...
    assert ph.timestamp_validity.valid
    assert ph.timestamp_validity.trust_problem_indic is AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE
    assert ph.trust_problem_indic is AdESIndeterminate.OUT_OF_BOUNDS_NO_POE  # ...proving nothing
    report = verify(demo_pki, DATA, detached=info.dump())
    assert verdict(report) == (I, S.OUT_OF_BOUNDS_NO_POE), report.message_en
    assert_says(report, ("expired", "validity"), ("hết hạn", "hiệu lực"))


# -- 5: a certificate whose purpose is not signing documents --------------------------------


def test_tls_server_certificate_may_not_sign_documents(
    demo_pki: DemoPKI, pdf: bytes, crls_now: list[crl.CertificateList]
) -> None:
    """PDF signed with a serverAuth-only certificate: I / CHAIN_CONSTRAINTS_FAILURE naming EKU."""
    cert = demo_pki.cert("server-tls")
    assert cert.extended_key_usage_value.native == ["server_auth"]
    assert set(cert.key_usage_value.native) == {"digital_signature", "key_encipherment"}
    signed = A.sign_pdf_as(demo_pki, "server-tls", pdf, at=SIGNED_AT)
    doc = A.add_dss(signed, certs=[demo_pki.cert("ca-rsa")], crls=crls_now)
    ph = pyhanko_pdf(demo_pki, doc, crls=crls_now)
    assert ph.intact
    assert ph.valid
    assert not ph.trusted  # pyHanko's default wants nonRepudiation (a key-usage objection)...
    ph = pyhanko_pdf(
        demo_pki, doc, crls=crls_now, key_usage=KeyUsageConstraints(key_usage={"digital_signature"})
    )
    # ...but once digitalSignature is enough, it has no objection to the serverAuth-only EKU
    assert ph.bottom_line
    report = verify(demo_pki, doc)
    assert verdict(report) == (I, S.CHAIN_CONSTRAINTS_FAILURE), report.message_en
    assert_says(
        report,
        ("extended key usage", "extendedKeyUsage", "serverAuth"),
        ("mục đích sử dụng", "extendedKeyUsage", "serverAuth", "EKU"),
    )


# -- 6: a content timestamp over other data ---------------------------------------------------


@pytest.mark.parametrize("fmt", ["cades", "pades"])
def test_content_timestamp_over_other_data(
    demo_pki: DemoPKI, pdf: bytes, crls_now: list[crl.CertificateList], fmt: str
) -> None:
    """A content-time-stamp signed attribute whose token covers other data: I / SIG_CONSTRAINTS."""
    other = b"some other document"
    token = A.timestamp_token(demo_pki, other, at=datetime(2026, 5, 31, 8, 0, tzinfo=UTC))
    imprint = bytes(A.tst_info(token)["message_imprint"]["hashed_message"].native)
    assert imprint == hashlib.sha256(other).digest()
    key = A.load_key(demo_pki, "citizen")
    if fmt == "cades":
        info = A.sign_cades(demo_pki, "citizen", DATA, at=SIGNED_AT, crls=crls_now)
        info = A.cms_with_content_timestamp(info, key, token)
        assert imprint != hashlib.sha256(DATA).digest()
        attr = signed_attr(signed_data(info), "content_time_stamp")
        ph = pyhanko_detached(demo_pki, DATA, info, crls=crls_now)
        report = verify(demo_pki, DATA, detached=info.dump())
    else:
        signed = A.sign_pdf_as(demo_pki, "citizen", pdf, at=SIGNED_AT)
        doc = A.pdf_with_signed_attrs(signed, key, lambda a: [*a, A.content_timestamp_attr(token)])
        doc = A.add_dss(doc, certs=[demo_pki.cert("ca-rsa")], crls=crls_now)
        attr = pdf_signed_attr(doc, "content_time_stamp")
        ph = pyhanko_pdf(demo_pki, doc, crls=crls_now)
        report = verify(demo_pki, doc)
    assert attr is not None
    assert attr.dump() == token.dump()
    assert ph.intact
    assert ph.valid
    assert ph.content_timestamp_validity is not None
    assert not ph.content_timestamp_validity.intact  # ...and pyHanko sees the imprint mismatch
    assert verdict(report) == (I, S.SIG_CONSTRAINTS_FAILURE), report.message_en
    assert_says(report, ("content timestamp", "content time-stamp"), ("dấu thời gian", "nội dung"))


# -- 7: a claimed signing time outside the certificate's validity ----------------------------


def test_claimed_signing_time_after_certificate_expiry(
    demo_pki: DemoPKI, crls_now: list[crl.CertificateList]
) -> None:
    """signing-time 2031-01-01, after the 2030 expiry, validated in 2026: I / SIG_CONSTRAINTS."""
    claimed = datetime(2031, 1, 1, tzinfo=UTC)
    info = A.sign_cades(
        demo_pki, "citizen", DATA, at=SIGNED_AT, signing_time=claimed, crls=crls_now
    )
    assert signed_attr(signed_data(info), "signing_time").native == claimed  # type: ignore[union-attr]
    assert demo_pki.cert("citizen").not_valid_after < claimed
    report = verify(demo_pki, DATA, detached=info.dump())
    assert verdict(report) == (I, S.SIG_CONSTRAINTS_FAILURE), report.message_en
    assert_says(report, ("signing time",), ("thời điểm ký", "thời gian ký"))


# -- 8: openssl's plain CMS, without the ESS signing-certificate attribute ---------------------


def test_openssl_plain_cms_passes_with_signing_certificate_warning(
    demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """`openssl cms -sign` without -cades: P with a warning; with the constraint at FAIL: I."""
    der = A.openssl_cms_sign(demo_pki, "citizen", DATA, tmp_path)
    sd = signed_data(der)
    types = {a["type"].native for a in sd["signer_infos"][0]["signed_attrs"]}
    assert {"content_type", "message_digest", "signing_time"} <= types
    assert not types & {"signing_certificate", "signing_certificate_v2"}
    assert sd["encap_content_info"]["content"].native is None  # detached
    assert demo_pki.cert("citizen").dump() in [c.chosen.dump() for c in sd["certificates"]]
    report = verify(demo_pki, DATA, detached=der, policy=ONLINE)
    assert verdict(report) == (P, None), report.message_en
    warnings = [*report.warnings, *(w for s in report.signatures for w in s.warnings)]
    assert any(
        "signing-certificate" in w.lower() or "signing certificate" in w.lower() for w in warnings
    ), warnings
    strict = ValidationPolicy(
        validation_time=PINNED_NOW, constraints={"signing_certificate_present": "FAIL"}
    )
    report = verify(demo_pki, DATA, detached=der, policy=strict)
    assert verdict(report) == (I, S.NO_SIGNING_CERTIFICATE_FOUND), report.message_en
    assert_says(report, ("certificate",), ("chứng thư",))


# -- 9: PAdES-LTA: a document timestamp is proof of existence ----------------------------------

SHORT_LTA_SIGNED = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
SHORT_REVINFO_AT = datetime(2026, 1, 25, tzinfo=UTC)  # ca-rsa CRL of 01-20, vn-root of 01-24
SHORT_DOC_TS = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


def _short_lived_ltv(pki: DemoPKI, pdf: bytes, *, timestamps: bool) -> bytes:
    tsa = A.CertomancerTimeStamper(pki, SHORT_LTA_SIGNED.replace(minute=1)) if timestamps else None
    signed = A.sign_pdf_as(pki, "citizen-short", pdf, at=SHORT_LTA_SIGNED, timestamper=tsa)
    certs = [pki.cert(x) for x in ("ca-rsa", "vn-root", "public-tsa")]
    doc = A.add_dss(signed, certs=certs, crls=A.demo_crls(pki, SHORT_REVINFO_AT))
    if timestamps:
        doc = A.add_doc_timestamp(doc, A.CertomancerTimeStamper(pki, SHORT_DOC_TS))
    # the archive keeper's later DSS update: the root's CRL at validation time (status of the
    # still-valid CA and TSA certificates); it proves nothing about when the signature was made
    return A.add_dss(doc, crls=A.demo_crls(pki, PINNED_NOW, ("vn-root",)))


def test_lta_document_timestamp_before_expiry_is_proof_of_existence(
    demo_pki: DemoPKI, pdf: bytes
) -> None:
    """PAdES-LTA by the short-lived signer, doc timestamp before expiry, validated after: P."""
    doc = _short_lived_ltv(demo_pki, pdf, timestamps=True)
    reader = PdfFileReader(io.BytesIO(doc), strict=False)
    sigs = reader.embedded_signatures
    assert [s.sig_object.get("/Type") for s in sigs] == ["/Sig", "/DocTimeStamp"]
    sig_ts = sigs[0].signer_info["unsigned_attrs"][0]["values"][0]
    assert A.tst_info(sig_ts)["gen_time"].native == SHORT_LTA_SIGNED.replace(minute=1)
    doc_tst = sigs[1].signed_data["encap_content_info"]["content"].parsed
    doc_ts_time = doc_tst["gen_time"].native
    assert doc_ts_time == SHORT_DOC_TS < SHORT_EXPIRY < PINNED_NOW
    in_dss = A.dss_crls(doc)
    serial = demo_pki.cert("citizen-short").serial_number
    rsa_crls = [c for c in in_dss if c.issuer == demo_pki.cert("ca-rsa").subject]
    assert rsa_crls
    assert all(A.crl_revocation(c, serial) is None for c in rsa_crls)
    assert all(
        SHORT_LTA_SIGNED < c["tbs_cert_list"]["this_update"].native < SHORT_DOC_TS
        for c in A.demo_crls(demo_pki, SHORT_REVINFO_AT)
    )
    report = verify(demo_pki, doc)
    assert verdict(report) == (P, None), report.message_en
    assert report.message_en.strip()
    assert report.message_vi.strip()


def test_expired_signer_without_any_timestamp_has_no_proof_of_existence(
    demo_pki: DemoPKI, pdf: bytes
) -> None:
    """The same B-LT document with no signature nor document timestamp: I / OUT_OF_BOUNDS_NO_POE."""
    doc = _short_lived_ltv(demo_pki, pdf, timestamps=False)
    sigs = PdfFileReader(io.BytesIO(doc), strict=False).embedded_signatures
    assert len(sigs) == 1
    assert not sigs[0].signer_info["unsigned_attrs"].native
    assert len(A.dss_crls(doc)) == 3
    report = verify(demo_pki, doc)
    assert verdict(report) == (I, S.OUT_OF_BOUNDS_NO_POE), report.message_en
    assert_says(report, ("expired", "validity"), ("hết hạn", "hiệu lực"))


SHORT_ARCHIVED = datetime(2026, 1, 26, 9, 0, tzinfo=UTC)  # the CRLs of 01-25 still current


def _short_lived_cades_lta(pki: DemoPKI, *, archive_at: datetime | None) -> bytes:
    """citizen-short's detached CAdES with the CRLs of 01-25 and the root's of validation
    time in ``SignedData.crls``, extended with an archive-time-stamp-v3 made at
    ``archive_at`` by the trusted public TSA (none when ``archive_at`` is None)."""
    crls = [*A.demo_crls(pki, SHORT_REVINFO_AT), *A.demo_crls(pki, PINNED_NOW, ("vn-root",))]
    info = A.sign_cades(pki, "citizen-short", DATA, at=SHORT_LTA_SIGNED, crls=crls)
    if archive_at is None:
        return info.dump()
    request = cades_archive.archive_timestamp_request(info.dump(), 0, DATA)
    tsa = A.CertomancerTimeStamper(pki, archive_at)
    token = asyncio.run(tsa.async_timestamp(request.message_imprint, request.hash_algorithm))
    token = cades_archive.with_hash_index(token, request)
    return cades_archive.add_archive_timestamp(info.dump(), 0, token).dump()


@pytest.mark.parametrize(
    ("archive_at", "expected"),
    [
        (SHORT_ARCHIVED, (P, None)),  # before the signer's expiry: proof of existence
        (None, (I, S.OUT_OF_BOUNDS_NO_POE)),  # nothing proves when it was made
        (datetime(2026, 4, 1, 9, 0, tzinfo=UTC), (I, S.OUT_OF_BOUNDS_NO_POE)),  # too late
    ],
)
def test_cades_archive_timestamp_is_proof_of_existence(
    demo_pki: DemoPKI, archive_at: datetime | None, expected: tuple[Indication, SubIndication]
) -> None:
    """CAdES-LTA by the short-lived signer, validated after its expiry: an archive timestamp
    made before expiry proves the signature existed while the certificate was valid (P); no
    archive timestamp, or one made after expiry, proves nothing in time (I / NO_POE)."""
    assert demo_pki.cert("citizen-short").not_valid_after == SHORT_EXPIRY < PINNED_NOW
    p7s = _short_lived_cades_lta(demo_pki, archive_at=archive_at)
    report = verify(demo_pki, DATA, detached=p7s)
    assert verdict(report) == expected, report.message_en
    sig = report.signatures[0]
    if archive_at is not None:
        [ts] = [t for t in sig.timestamps if t.kind == "archive"]
        assert ts.time == archive_at
    if expected[0] is P:
        assert sig.signing_time_proven == archive_at
        assert sig.level == "CAdES-B-LTA"


def test_cades_archive_timestamp_over_changed_content_proves_nothing(demo_pki: DemoPKI) -> None:
    """The same CAdES-LTA read over other content: the signature fails on its digest and the
    archive timestamp, whose imprint no longer matches, is named as proving nothing."""
    p7s = _short_lived_cades_lta(demo_pki, archive_at=SHORT_ARCHIVED)
    report = verify(demo_pki, DATA + b" ", detached=p7s)
    assert verdict(report) == (F, S.HASH_FAILURE), report.message_en


# -- 10: one situation, three formats, one verdict ---------------------------------------------


def _three_formats(
    pki: DemoPKI, pdf: bytes, label: str, at: datetime
) -> dict[str, tuple[bytes, bytes | None]]:
    return {
        "pdf": (A.sign_pdf_as(pki, label, pdf, at=at), None),
        "cms": (DATA, A.sign_cades(pki, label, DATA, at=at).dump()),
        "xml": (A.xmldsig_enveloped(pki, label, signing_time=at), None),
    }


def test_expired_signer_same_verdict_in_pdf_cms_and_xml(demo_pki: DemoPKI, pdf: bytes) -> None:
    """Expired signer, claimed time inside validity, no timestamp: I / NO_POE in all three."""
    docs = _three_formats(demo_pki, pdf, "citizen-short", SHORT_SIGNED)
    xml = docs["xml"][0]
    assert A.xmldsig_verifies(xml, demo_pki.cert("citizen-short"))
    assert b"<SigningTime>2026-02-15T09:00:00Z</SigningTime>" in xml
    assert b"xmldsig-more#rsa-sha256" in xml
    assert b"REC-xml-c14n-20010315" in xml
    assert signed_attr(signed_data(docs["cms"][1]), "signing_time").native == SHORT_SIGNED  # type: ignore[arg-type,union-attr]
    reports = {fmt: verify(demo_pki, d, detached=det) for fmt, (d, det) in docs.items()}
    verdicts = {fmt: verdict(r) for fmt, r in reports.items()}
    assert verdicts == dict.fromkeys(docs, (I, S.OUT_OF_BOUNDS_NO_POE)), verdicts
    for report in reports.values():
        assert_says(report, ("expired", "validity"), ("hết hạn", "hiệu lực"))


def test_valid_signer_passes_in_pdf_cms_and_xml(demo_pki: DemoPKI, pdf: bytes) -> None:
    """The control: a valid signer, same three formats, live revocation: P in all three."""
    docs = _three_formats(demo_pki, pdf, "citizen", SIGNED_AT)
    assert A.xmldsig_verifies(docs["xml"][0], demo_pki.cert("citizen"))
    reports = {
        fmt: verify(demo_pki, d, detached=det, policy=ONLINE) for fmt, (d, det) in docs.items()
    }
    verdicts = {fmt: verdict(r) for fmt, r in reports.items()}
    assert verdicts == dict.fromkeys(docs, (P, None)), {
        fmt: r.message_en for fmt, r in reports.items()
    }


# -- 11: revoked after signing: only a proven time saves the signature --------------------------


@pytest.mark.parametrize("timestamped", [False, True], ids=["claimed-only", "timestamped"])
def test_signed_before_revocation_needs_proof(
    demo_pki: DemoPKI, crls_now: list[crl.CertificateList], timestamped: bool
) -> None:
    """Revoked 2026-03-01, signed 2026-02-01, CRL embedded: I / REVOKED_NO_POE; timestamped: P."""
    ts_at = BEFORE_REVOCATION.replace(minute=1)
    tsa = A.CertomancerTimeStamper(demo_pki, ts_at) if timestamped else None
    info = A.sign_cades(
        demo_pki, "citizen-revoked", DATA, at=BEFORE_REVOCATION, timestamper=tsa, crls=crls_now
    )
    sd = signed_data(info)
    assert_crl_revokes(demo_pki, cms_crls(sd), "citizen-revoked")
    assert signed_attr(sd, "signing_time").native == BEFORE_REVOCATION  # type: ignore[union-attr]
    unsigned = sd["signer_infos"][0]["unsigned_attrs"]
    if timestamped:
        token = unsigned[0]["values"][0]
        assert A.tst_info(token)["gen_time"].native == ts_at < REVOKED_SINCE
    else:
        assert not unsigned.native
    report = verify(demo_pki, DATA, detached=info.dump())
    if timestamped:
        assert verdict(report) == (P, None), report.message_en
        assert report.message_en.strip()
        assert report.message_vi.strip()
    else:
        assert verdict(report) == (I, S.REVOKED_NO_POE), report.message_en
        assert_says(report, ("revoked",), ("thu hồi",))
