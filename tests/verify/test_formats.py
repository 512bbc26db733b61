"""Signature forms read through the same validation process: several signers in one CMS,
enveloping CMS (.p7m), PDF /adbe.pkcs7.sha1, BSI plain-ECDSA, PDFs encrypted with an empty
user password. Each has its expected verdict and a tampered twin that never passes."""

from __future__ import annotations

import asyncio
import hashlib
import io
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from pyhanko.pdf_utils.crypt import StandardSecurityHandler
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer
from pyhanko.sign import fields, signers, timestamps

from fixtures import attacks as A
from fixtures.documents import demo_signer, minimal_pdf, pinned, sign_detached, sign_pdf
from fixtures.pki import DemoPKI
from fixtures.pki.build import issuers_of
from tests.conftest import PINNED_NOW
from verify import (
    DocumentReport,
    Indication,
    SubIndication,
    TrustProfile,
    ValidationPolicy,
    Verifier,
)
from verify.policy import AlgorithmRules

SIGNED_AT = datetime(2026, 5, 31, 9, 0, tzinfo=UTC)
DATA = "Tờ khai đăng ký khai sinh - số tiền 1.000.000 VND".encode()
P, INDET, F = Indication.TOTAL_PASSED, Indication.INDETERMINATE, Indication.TOTAL_FAILED
SHA1_ACCEPTED = ValidationPolicy(
    validation_time=PINNED_NOW,
    algorithms=AlgorithmRules(sha1_until=datetime(2100, 1, 1, tzinfo=UTC)),
)


def demo_trust(pki: DemoPKI) -> TrustProfile:
    return TrustProfile.custom(
        [pki.root("public")], name="demo", hierarchy="public"
    ).with_extra_anchors([pki.root("specialized")], hierarchy="specialized")


@pytest.fixture(scope="module")
def verifier(demo_pki: DemoPKI) -> Verifier:
    return Verifier(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return minimal_pdf("Tờ khai đăng ký khai sinh", pages=1)


def verdict(report: DocumentReport) -> tuple[Indication, SubIndication | None]:
    return report.indication, report.sub_indication


def sig_verdicts(report: DocumentReport) -> list[tuple[Indication, SubIndication | None]]:
    return [(s.indication, s.sub_indication) for s in report.signatures]


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


# -- builders -----------------------------------------------------------------------------------


def merge_signers(*ders: bytes) -> bytes:
    """One SignedData holding every SignerInfo of ``ders`` (same content), as -resign makes."""
    sds = [cms.ContentInfo.load(d)["content"] for d in ders]
    algos: dict[bytes, cms.DigestAlgorithm] = {}
    certs: dict[bytes, cms.CertificateChoices] = {}
    for sd in sds:
        for algo in sd["digest_algorithms"]:
            algos.setdefault(algo.dump(), algo)
        for cert in sd["certificates"]:
            certs.setdefault(cert.dump(), cert)
    merged = cms.SignedData(
        {
            "version": sds[0]["version"].native,
            "digest_algorithms": list(algos.values()),
            "encap_content_info": sds[0]["encap_content_info"],
            "certificates": list(certs.values()),
            "signer_infos": [si for sd in sds for si in sd["signer_infos"]],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": merged}).dump())


def enveloping(pki: DemoPKI, label: str, data: bytes) -> bytes:
    """A CAdES enveloping CMS (content inside), made with pyHanko's signer at SIGNED_AT."""
    with pinned(SIGNED_AT):
        info = asyncio.run(
            demo_signer(pki, label).async_sign_general_data(
                data, "sha256", detached=False, use_cades=True
            )
        )
    return bytes(info.dump())


def openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def openssl_files(pki: DemoPKI, label: str, folder: Path) -> tuple[Path, Path, Path]:
    """The signer's certificate, key and issuing CA as PEM files for openssl."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / f"{label}.crt", folder / f"{label}.key", folder / f"{label}-ca.crt")
    paths[0].write_bytes(pki.cert_pem(label))
    paths[1].write_bytes(pki.key_pem(label))
    paths[2].write_bytes(pki.cert_pem(issuers_of(label)[1]))
    return paths


def plain_ecdsa(der: bytes, pki: DemoPKI, label: str, digest: str) -> bytes:
    """Re-sign the (one) SignerInfo's attributes with ecdsa-plain-<digest>: value r || s."""
    oid_end = {"sha1": 1, "sha224": 2, "sha256": 3, "sha384": 4, "sha512": 5}[digest]
    h = {
        "sha1": hashes.SHA1(),  # noqa: S303 - the weak case is judged, not used
        "sha224": hashes.SHA224(),
        "sha256": hashes.SHA256(),
        "sha384": hashes.SHA384(),
        "sha512": hashes.SHA512(),
    }[digest]
    info = cms.ContentInfo.load(der)
    si = info["content"]["signer_infos"][0]
    key = A.load_key(pki, label)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signed_attrs = b"\x31" + si["signed_attrs"].dump()[1:]
    r, s = decode_dss_signature(key.sign(signed_attrs, ec.ECDSA(h)))
    size = (key.curve.key_size + 7) // 8
    si["signature_algorithm"] = {"algorithm": f"0.4.0.127.0.7.1.1.4.1.{oid_end}"}
    si["signature"] = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return bytes(cms.ContentInfo.load(info.dump(force=True)).dump())


def detached_with_digest(pki: DemoPKI, label: str, data: bytes, digest: str) -> bytes:
    """A detached CAdES signature whose message digest uses ``digest``."""
    with pinned(SIGNED_AT):
        info = asyncio.run(
            demo_signer(pki, label).async_sign_general_data(
                data, digest, detached=True, use_cades=True
            )
        )
    return bytes(info.dump())


def sha1_subfilter_pdf(
    pki: DemoPKI,
    label: str,
    pdf: bytes,
    *,
    digest_of: bytes | None = None,
    timestamp: bool = False,
) -> bytes:
    """A PDF signature with SubFilter /adbe.pkcs7.sha1: the CMS encapsulates the SHA-1 of the
    byte range (``digest_of``: encapsulate the SHA-1 of these bytes instead)."""
    signed = sign_pdf(
        pki, label, pdf, at=SIGNED_AT, subfilter=fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED
    )
    signed = A.subfilter_set(signed, b"/adbe.pkcs7.sha1")
    lay = A.sig_layout(signed)
    o1, l1, o2, l2 = lay.byte_range
    covered = signed[o1 : o1 + l1] + signed[o2 : o2 + l2]
    sha1 = hashlib.sha1(covered if digest_of is None else digest_of).digest()  # noqa: S324
    tsa = timestamps.HTTPTimeStamper(pki.tsa_url(pki.hierarchy_of(label))) if timestamp else None
    with pinned(SIGNED_AT):
        info = asyncio.run(
            demo_signer(pki, label).async_sign_general_data(
                sha1, "sha1", detached=False, timestamper=tsa
            )
        )
    return A.pdf_with_cms(signed, info)


def encrypted_pdf(pdf: bytes, user_password: str) -> bytes:
    """``pdf`` encrypted (AES-256) with that user password and another owner password."""
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(pdf)))
    writer.security_handler = StandardSecurityHandler.build_from_pw("chu-so-huu", user_password)
    writer._assign_security_handler(writer.security_handler)
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def sign_encrypted(pki: DemoPKI, label: str, pdf: bytes, password: str) -> bytes:
    """Sign an encrypted PDF incrementally with pyHanko (opened with ``password``)."""
    meta = signers.PdfSignatureMetadata(
        field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES
    )
    with pinned(SIGNED_AT):
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        writer.encrypt(password)  # type: ignore[no-untyped-call]
        out = signers.PdfSigner(meta, signer=demo_signer(pki, label)).sign_pdf(writer)
    return bytes(out.getbuffer())


# -- 1. several SignerInfos in one CMS ----------------------------------------------------------


def test_two_signers_each_get_a_report_and_both_pass(verifier: Verifier, demo_pki: DemoPKI) -> None:
    """Two SignerInfos over one file: one report each, both TOTAL_PASSED, document too."""
    der = merge_signers(
        sign_detached(demo_pki, "citizen", DATA, at=SIGNED_AT),
        sign_detached(demo_pki, "organisation", DATA, at=SIGNED_AT),
    )
    report = verifier.verify(DATA, detached=der)
    assert sig_verdicts(report) == [(P, None), (P, None)], report.message_en
    assert verdict(report) == (P, None)
    assert [s.index for s in report.signatures] == [0, 1]
    assert report.signatures[0].signer != report.signatures[1].signer
    assert all(s.coverage == "DETACHED_CONTENT" and s.constraints for s in report.signatures)


def test_two_signers_document_takes_the_worst(verifier: Verifier, demo_pki: DemoPKI) -> None:
    """A valid and a revoked signer: the revoked one fails, and so does the document."""
    der = merge_signers(
        sign_detached(demo_pki, "citizen", DATA, at=SIGNED_AT),
        sign_detached(demo_pki, "citizen-revoked", DATA, at=SIGNED_AT),
    )
    report = verifier.verify(DATA, detached=der)
    assert sig_verdicts(report) == [(P, None), (F, SubIndication.REVOKED)], report.message_en
    assert verdict(report) == (F, SubIndication.REVOKED)
    assert report.message_en.startswith("Signature 2")


def test_openssl_resign_two_signers(verifier: Verifier, demo_pki: DemoPKI, tmp_path: Path) -> None:
    """`openssl cms -sign` then `-resign` by a second person: both signatures pass."""
    content = tmp_path / "to-khai.txt"
    content.write_bytes(DATA)
    first, second = tmp_path / "one.p7s", tmp_path / "two.p7s"
    crt, key, ca = openssl_files(demo_pki, "citizen", tmp_path)
    common = ("-binary", "-cades", "-md", "sha256", "-outform", "DER")
    openssl("cms", "-sign", *common, "-in", content, "-out", first,
            "-signer", crt, "-inkey", key, "-certfile", ca)  # fmt: skip
    crt, key, ca = openssl_files(demo_pki, "organisation", tmp_path)
    openssl("cms", "-resign", *common, "-inform", "DER", "-in", first, "-content", content,
            "-out", second, "-signer", crt, "-inkey", key)  # fmt: skip
    der = second.read_bytes()
    assert len(cms.ContentInfo.load(der)["content"]["signer_infos"]) == 2
    report = verifier.verify(content, detached=second)
    assert sig_verdicts(report) == [(P, None), (P, None)], report.message_en


def test_two_signers_tampered_never_pass(verifier: Verifier, demo_pki: DemoPKI) -> None:
    """Changed content fails both signers; a damaged second signature fails that one."""
    der = merge_signers(
        sign_detached(demo_pki, "citizen", DATA, at=SIGNED_AT),
        sign_detached(demo_pki, "organisation", DATA, at=SIGNED_AT),
    )
    report = verifier.verify(DATA.replace(b"1.000.000", b"9.000.000"), detached=der)
    assert sig_verdicts(report) == [(F, SubIndication.HASH_FAILURE)] * 2
    info = cms.ContentInfo.load(der)
    si = info["content"]["signer_infos"][1]
    si["signature"] = flip(si["signature"].native, 10)
    report = verifier.verify(DATA, detached=cms.ContentInfo.load(info.dump(force=True)).dump())
    assert sig_verdicts(report) == [(P, None), (F, SubIndication.SIG_CRYPTO_FAILURE)]
    assert report.indication is not P


# -- 2. enveloping CMS (.p7m) -------------------------------------------------------------------


def test_enveloping_cms_is_read_and_passes(
    verifier: Verifier, demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """A .p7m given alone: format cms, coverage ENVELOPED_CONTENT, TOTAL_PASSED."""
    p7m = tmp_path / "to-khai.txt.p7m"
    p7m.write_bytes(enveloping(demo_pki, "citizen", DATA))
    report = verifier.verify(p7m)
    assert verdict(report) == (P, None), report.message_en
    assert report.format == "cms"
    (sig,) = report.signatures
    assert (sig.coverage, sig.kind, sig.level) == ("ENVELOPED_CONTENT", "enveloped", "CAdES-B-B")
    assert sig.constraints


def test_openssl_nodetach_p7m_passes(verifier: Verifier, demo_pki: DemoPKI, tmp_path: Path) -> None:
    """`openssl cms -sign -nodetach` (DER, PEM, BER): read as an enveloping CMS, TOTAL_PASSED."""
    content = tmp_path / "to-khai.txt"
    content.write_bytes(DATA)
    crt, key, ca = openssl_files(demo_pki, "citizen-ec", tmp_path)
    for form, extra in (("DER", ()), ("PEM", ()), ("DER", ("-stream",))):  # -stream: BER
        out = tmp_path / f"to-khai.{form}{''.join(extra)}.p7m"
        openssl("cms", "-sign", "-nodetach", "-binary", "-cades", "-md", "sha256", *extra,
                "-in", content, "-outform", form, "-out", out,
                "-signer", crt, "-inkey", key, "-certfile", ca)  # fmt: skip
        report = verifier.verify(out)
        assert verdict(report) == (P, None), (form, extra, report.message_en)
        assert report.signatures[0].coverage == "ENVELOPED_CONTENT"


def test_enveloping_cms_tampered_never_passes(verifier: Verifier, demo_pki: DemoPKI) -> None:
    """A byte of the enveloped content changed: HASH_FAILURE, never TOTAL_PASSED."""
    der = enveloping(demo_pki, "citizen", DATA)
    at = der.index(b"1.000.000")
    report = verifier.verify(der[:at] + b"9" + der[at + 1 :])
    assert verdict(report) == (F, SubIndication.HASH_FAILURE), report.message_en


def test_detached_cms_alone_is_a_format_failure(verifier: Verifier, demo_pki: DemoPKI) -> None:
    """A detached .p7s given without its content cannot be checked: FORMAT_FAILURE."""
    report = verifier.verify(sign_detached(demo_pki, "citizen", DATA, at=SIGNED_AT))
    assert verdict(report) == (F, SubIndication.FORMAT_FAILURE)
    assert "content" in report.message_en


# -- 3. PDF /adbe.pkcs7.sha1 --------------------------------------------------------------------


def test_adbe_pkcs7_sha1_without_poe_is_crypto_constraints_no_poe(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """adbe.pkcs7.sha1 verifies, and SHA-1 without proof before 2019 is ..._NO_POE."""
    report = verifier.verify(sha1_subfilter_pdf(demo_pki, "citizen", pdf))
    (sig,) = report.signatures
    assert (sig.indication, sig.sub_indication) == (
        INDET,
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
    ), sig.message_en
    assert sig.integrity
    assert (sig.sub_filter, sig.digest_algorithm) == ("/adbe.pkcs7.sha1", "sha1")
    assert sig.constraints


def test_adbe_pkcs7_sha1_passes_when_sha1_is_accepted(demo_pki: DemoPKI, pdf: bytes) -> None:
    """Timestamped, under a policy accepting SHA-1 until 2100: TOTAL_PASSED (PKCS7-T)."""
    signed = sha1_subfilter_pdf(demo_pki, "citizen", pdf, timestamp=True)
    report = Verifier(demo_trust(demo_pki), SHA1_ACCEPTED).verify(signed)
    assert verdict(report) == (P, None), report.message_en
    (sig,) = report.signatures
    assert (sig.level, sig.coverage, sig.modifications) == ("PKCS7-T", "ENTIRE_FILE", "NONE")
    assert sig.signing_time_proven is not None
    default = Verifier(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    report = default.verify(signed)  # proven in 2026: SHA-1 was no longer acceptable
    assert verdict(report) == (INDET, SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE)


def test_adbe_pkcs7_sha1_tampered_never_passes(demo_pki: DemoPKI, pdf: bytes) -> None:
    """A changed signed byte, or a CMS over another digest: HASH_FAILURE."""
    verifier = Verifier(demo_trust(demo_pki), SHA1_ACCEPTED)
    signed = sha1_subfilter_pdf(demo_pki, "citizen", pdf)
    at = signed.index(b"/MediaBox [0 0 595 842]") + len(b"/MediaBox [0 0 5")
    report = verifier.verify(signed[:at] + b"8" + signed[at + 1 :])
    assert verdict(report) == (F, SubIndication.HASH_FAILURE), report.message_en
    other = sha1_subfilter_pdf(demo_pki, "citizen", pdf, digest_of=b"another document")
    report = verifier.verify(other)
    assert verdict(report) == (F, SubIndication.HASH_FAILURE), report.message_en
    relabelled = A.subfilter_set(
        sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT), b"/adbe.pkcs7.sha1"
    )
    report = verifier.verify(relabelled)  # a detached CMS: no digest encapsulated
    assert verdict(report) == (F, SubIndication.FORMAT_FAILURE), report.message_en


# -- 4. BSI plain-ECDSA -------------------------------------------------------------------------


@pytest.mark.parametrize("digest", ["sha224", "sha256", "sha384", "sha512"])
def test_plain_ecdsa_detached_passes(verifier: Verifier, demo_pki: DemoPKI, digest: str) -> None:
    """ecdsa-plain-SHA2 (r || s) in a detached CMS: TOTAL_PASSED, algorithm named."""
    der = plain_ecdsa(
        detached_with_digest(demo_pki, "citizen-ec", DATA, digest), demo_pki, "citizen-ec", digest
    )
    report = verifier.verify(DATA, detached=der)
    assert verdict(report) == (P, None), report.message_en
    assert report.signatures[0].signature_algorithm == f"ecdsa-plain-{digest.upper()}"


def test_plain_ecdsa_sha1_without_poe_is_crypto_constraints_no_poe(
    verifier: Verifier, demo_pki: DemoPKI
) -> None:
    """ecdsa-plain-SHA1 over a SHA-1 digest: verified, then judged by the dated SHA-1 rule."""
    der = plain_ecdsa(
        detached_with_digest(demo_pki, "citizen-ec", DATA, "sha1"), demo_pki, "citizen-ec", "sha1"
    )
    report = verifier.verify(DATA, detached=der)
    assert verdict(report) == (INDET, SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE)
    assert report.signatures[0].integrity


def test_plain_ecdsa_in_pdf_and_p7m_pass(verifier: Verifier, demo_pki: DemoPKI, pdf: bytes) -> None:
    """The same plain-ECDSA reading in a PDF signature and in an enveloping CMS."""
    signed = sign_pdf(demo_pki, "organisation", pdf, at=SIGNED_AT)
    der = plain_ecdsa(A.cms_from_pdf(signed).dump(), demo_pki, "organisation", "sha256")
    report = verifier.verify(A.pdf_with_cms(signed, der))
    assert verdict(report) == (P, None), report.message_en
    assert report.signatures[0].signature_algorithm == "ecdsa-plain-SHA256"
    p7m = plain_ecdsa(enveloping(demo_pki, "citizen-ec", DATA), demo_pki, "citizen-ec", "sha256")
    report = verifier.verify(p7m)
    assert verdict(report) == (P, None), report.message_en


def test_plain_ecdsa_tampered_never_passes(verifier: Verifier, demo_pki: DemoPKI) -> None:
    """A changed r || s: SIG_CRYPTO_FAILURE; an odd-length value: never a pass either."""
    der = plain_ecdsa(
        sign_detached(demo_pki, "citizen-ec", DATA, at=SIGNED_AT), demo_pki, "citizen-ec", "sha256"
    )
    info = cms.ContentInfo.load(der)
    si = info["content"]["signer_infos"][0]
    value = si["signature"].native
    si["signature"] = flip(value, 5)
    report = verifier.verify(DATA, detached=cms.ContentInfo.load(info.dump(force=True)).dump())
    assert verdict(report) == (F, SubIndication.SIG_CRYPTO_FAILURE), report.message_en
    si["signature"] = value[:-1]
    report = verifier.verify(DATA, detached=cms.ContentInfo.load(info.dump(force=True)).dump())
    assert report.indication is not P
    report = verifier.verify(DATA + b" ", detached=der)
    assert verdict(report) == (F, SubIndication.HASH_FAILURE)


# -- 5. PDF encrypted with an empty user password -----------------------------------------------


def test_empty_user_password_pdf_is_decrypted_and_validated(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """Encrypted, but opening without a password: validated, TOTAL_PASSED, with a warning."""
    signed = sign_encrypted(demo_pki, "citizen", encrypted_pdf(pdf, ""), "")
    assert PdfFileReader(io.BytesIO(signed)).encrypted
    report = verifier.verify(signed)
    assert verdict(report) == (P, None), report.message_en
    assert report.signatures[0].constraints
    assert any("empty user password" in w for w in report.warnings)


def test_pdf_needing_a_password_stays_encrypted(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """A PDF whose user password is not empty: INDETERMINATE / ENCRYPTED, not opened."""
    signed = sign_encrypted(demo_pki, "citizen", encrypted_pdf(pdf, "mat-khau"), "mat-khau")
    report = verifier.verify(signed)
    assert verdict(report) == (INDET, SubIndication.ENCRYPTED)


def test_empty_user_password_pdf_tampered_never_passes(
    verifier: Verifier, demo_pki: DemoPKI, pdf: bytes
) -> None:
    """A byte of the signed, encrypted page content changed: HASH_FAILURE, MAC named."""
    signed = sign_encrypted(demo_pki, "citizen", encrypted_pdf(pdf, ""), "")
    report = verifier.verify(flip(signed, signed.index(b"stream\n") + 10))
    assert verdict(report) == (F, SubIndication.HASH_FAILURE), report.message_en
    assert any("MAC" in w for w in report.warnings)
