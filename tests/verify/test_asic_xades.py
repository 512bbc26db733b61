"""XAdES signatures inside ASiC containers (``META-INF/signatures*.xml``) are checked.

Containers are built here by code: a detached XAdES-B-B signature made with lxml and
cryptography by a demo signer over the container's files (each ds:Reference names a file
by URI, one more covers the signature's own SignedProperties), then tampered with. EU DSS's
own ASiC-with-XAdES test files (tests/data/dss-asic-xades, see its SOURCES.md) read as
DSS's tests say. Validation time is pinned; the only network is the demo PKI on loopback.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from fixtures.attacks import timestamp_token
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.verify.test_asic_lta import SIGNED_AT, manifest
from verify import Indication, SubIndication, TrustProfile, ValidationPolicy, Verifier
from verify.xades import imprint_matches
from verify.xmldsig import inspect_xml

DSS_DATA = Path(__file__).resolve().parents[1] / "data" / "dss-asic-xades"
DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
ASIC = "http://uri.etsi.org/02918/v1.2.1#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
MIME_E = b"application/vnd.etsi.asic-e+zip"
FILES = {"to-khai.txt": "Tờ khai đăng ký".encode(), "du lieu/ho-so.json": b'{"a": 1}'}


def _el(parent: Any, ns: str, name: str, text: str | None = None, **attrs: str) -> Any:
    el = etree.SubElement(parent, f"{{{ns}}}{name}", attrs)
    if text is not None:
        el.text = text
    return el


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def xades_file(
    pki: DemoPKI,
    label: str,
    files: dict[str, bytes],
    *,
    at: datetime = PINNED_NOW,
    sign_properties: bool = True,
    certificate_for_property: x509.Certificate | None = None,
) -> bytes:
    """A ``signatures.xml`` holding one detached XAdES-B-B signature by ``label`` over
    ``files`` (by URI, percent-encoded) and its own SignedProperties."""
    cert = pki.cert(label)
    named = certificate_for_property or cert
    root = etree.Element(f"{{{ASIC}}}XAdESSignatures", nsmap={"asic": ASIC, "ds": DS})
    sig = _el(root, DS, "Signature", Id="S1")
    info = _el(sig, DS, "SignedInfo")
    _el(info, DS, "CanonicalizationMethod", Algorithm=EXC_C14N)
    _el(info, DS, "SignatureMethod", Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    for name, data in files.items():
        ref = _el(info, DS, "Reference", URI=name.replace(" ", "%20"))
        _el(ref, DS, "DigestMethod", Algorithm=SHA256)
        _el(ref, DS, "DigestValue", _b64(hashlib.sha256(data).digest()))
    value = _el(sig, DS, "SignatureValue")
    key_info = _el(sig, DS, "KeyInfo")
    _el(_el(key_info, DS, "X509Data"), DS, "X509Certificate", _b64(cert.dump()))
    obj = _el(sig, DS, "Object")
    qp = etree.SubElement(
        obj, f"{{{XADES}}}QualifyingProperties", Target="#S1", nsmap={"xades": XADES}
    )
    props = _el(qp, XADES, "SignedProperties", Id="SP")
    ssp = _el(props, XADES, "SignedSignatureProperties")
    _el(ssp, XADES, "SigningTime", at.strftime("%Y-%m-%dT%H:%M:%SZ"))
    digest = _el(_el(_el(ssp, XADES, "SigningCertificateV2"), XADES, "Cert"), XADES, "CertDigest")
    _el(digest, DS, "DigestMethod", Algorithm=SHA256)
    _el(digest, DS, "DigestValue", _b64(hashlib.sha256(named.dump()).digest()))
    if sign_properties:
        ref = _el(
            info, DS, "Reference", URI="#SP", Type="http://uri.etsi.org/01903#SignedProperties"
        )
        _el(_el(ref, DS, "Transforms"), DS, "Transform", Algorithm=EXC_C14N)
        _el(ref, DS, "DigestMethod", Algorithm=SHA256)
        c14n = etree.tostring(props, method="c14n", exclusive=True)
        _el(ref, DS, "DigestValue", _b64(hashlib.sha256(c14n).digest()))
    key = serialization.load_der_private_key(pki.key(label).dump(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    signed = etree.tostring(info, method="c14n", exclusive=True)
    value.text = _b64(key.sign(signed, padding.PKCS1v15(), hashes.SHA256()))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def container(
    files: dict[str, bytes], signatures: bytes, *, extra: dict[str, bytes] | None = None
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", MIME_E, zipfile.ZIP_STORED)
        for name, data in {**files, **(extra or {})}.items():
            z.writestr(name, data, zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/signatures.xml", signatures, zipfile.ZIP_DEFLATED)
    return out.getvalue()


@pytest.fixture(scope="module")
def verifier(demo_pki: DemoPKI) -> Verifier:
    trust = TrustProfile.custom([demo_pki.root("public")], hierarchy="public")
    return Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW))


@pytest.fixture(scope="module")
def offline() -> Verifier:
    """For DSS's files: their test PKI is not trusted here, nothing is fetched."""
    trust = TrustProfile.custom([], hierarchy="public")
    return Verifier(
        trust, ValidationPolicy(validation_time=PINNED_NOW, network=False, revocation="soft")
    )


@pytest.fixture(scope="module")
def signatures(demo_pki: DemoPKI) -> bytes:
    return xades_file(demo_pki, "citizen", FILES)


# -- containers built here -------------------------------------------------------------------


def test_xades_asice_over_two_files_passes(
    signatures: bytes, verifier: Verifier, validate_report: Callable[[dict[str, Any]], None]
) -> None:
    """A valid detached XAdES over both files (one name with a space, percent-encoded)
    passes, covering both, at XAdES-B-B."""
    report = verifier.verify(container(FILES, signatures))
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    (sig,) = report.signatures
    assert sig.kind == "xml"
    assert sig.field_name == "META-INF/signatures.xml#S1"
    assert sig.covers == tuple(FILES)
    assert sig.level == "XAdES-B-B"
    assert sig.integrity is True
    assert sig.signing_time_claimed == PINNED_NOW
    assert report.facts is not None
    assert report.facts["not_covered"] == []
    validate_report(report.to_dict())


def test_changed_file_fails_with_hash_failure_naming_it(
    signatures: bytes, verifier: Verifier
) -> None:
    """One byte of a signed file changed: TOTAL_FAILED / HASH_FAILURE, the file named."""
    changed = {**FILES, "du lieu/ho-so.json": b'{"a": 2}'}
    report = verifier.verify(container(changed, signatures))
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.HASH_FAILURE,
    )
    assert "du lieu/ho-so.json" in report.signatures[0].message_en
    assert "du lieu/ho-so.json" in report.signatures[0].message_vi


def test_missing_file_is_signed_data_not_found_naming_it(
    signatures: bytes, verifier: Verifier
) -> None:
    """A signed file removed from the container: INDETERMINATE / SIGNED_DATA_NOT_FOUND,
    the file named in both languages."""
    report = verifier.verify(container({"to-khai.txt": FILES["to-khai.txt"]}, signatures))
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.SIGNED_DATA_NOT_FOUND,
    )
    (sig,) = report.signatures
    assert "du lieu/ho-so.json" in sig.message_en
    assert "du lieu/ho-so.json" in sig.message_vi
    assert sig.integrity is False


def test_extra_file_leaves_the_container_indeterminate_naming_it(
    signatures: bytes, verifier: Verifier
) -> None:
    """A file no signature covers: the signature still passes, the container does not,
    and the file is named."""
    report = verifier.verify(container(FILES, signatures, extra={"them.pdf": b"%PDF"}))
    assert report.signatures[0].indication is Indication.TOTAL_PASSED
    assert report.indication is Indication.INDETERMINATE
    assert "them.pdf" in report.message_en
    assert "them.pdf" in report.message_vi


def test_signed_properties_changed_after_signing_fail(
    signatures: bytes, verifier: Verifier
) -> None:
    """The signing time in SignedProperties rewritten: the reference to them fails."""
    forged = signatures.replace(PINNED_NOW.strftime("%Y").encode() + b"-", b"2020-", 1)
    assert forged != signatures
    report = verifier.verify(container(FILES, forged))
    assert report.sub_indication is SubIndication.HASH_FAILURE
    assert "#SP" in report.signatures[0].message_en


def test_unsigned_signed_properties_are_format_failure(
    demo_pki: DemoPKI, verifier: Verifier
) -> None:
    """SignedProperties that no reference covers protect nothing: FORMAT_FAILURE says so."""
    report = verifier.verify(
        container(FILES, xades_file(demo_pki, "citizen", FILES, sign_properties=False))
    )
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert "SignedProperties are not signed" in report.signatures[0].message_en
    assert "SignedProperties của XAdES không được ký" in report.signatures[0].message_vi


def test_signing_certificate_property_naming_another_certificate(
    demo_pki: DemoPKI, verifier: Verifier
) -> None:
    """SigningCertificateV2 names a certificate other than the one whose key signed:
    INDETERMINATE / NO_SIGNING_CERTIFICATE_FOUND."""
    other = demo_pki.cert("organisation")
    data = xades_file(demo_pki, "citizen", FILES, certificate_for_property=other)
    report = verifier.verify(container(FILES, data))
    assert report.sub_indication is SubIndication.NO_SIGNING_CERTIFICATE_FOUND
    assert "SigningCertificate" in report.signatures[0].message_en


def test_signature_value_changed_is_sig_crypto_failure(
    signatures: bytes, verifier: Verifier
) -> None:
    """The SignatureValue altered: the references still match, the signature does not
    verify: TOTAL_FAILED / SIG_CRYPTO_FAILURE."""
    start = signatures.index(b"<ds:SignatureValue>") + len(b"<ds:SignatureValue>")
    flipped = b"B" if signatures[start : start + 1] != b"B" else b"C"
    forged = signatures[:start] + flipped + signatures[start + 1 :]
    report = verifier.verify(container(FILES, forged))
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.SIG_CRYPTO_FAILURE,
    )


def test_signature_file_with_a_dtd_is_refused(signatures: bytes, offline: Verifier) -> None:
    """An entity declaration in signatures.xml is never expanded: FORMAT_FAILURE."""
    bomb = signatures.replace(
        b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>', 1
    )
    report = offline.verify(container(FILES, bomb))
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert "DTD" in report.signatures[0].message_en


def test_signature_file_that_is_not_xml_is_format_failure(verifier: Verifier) -> None:
    """A ``signatures.xml`` that is not XML: FORMAT_FAILURE naming the entry."""
    report = verifier.verify(container(FILES, b"not xml"))
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert "META-INF/signatures.xml" in report.signatures[0].message_en


def test_forty_files_in_one_signature_pass(demo_pki: DemoPKI, verifier: Verifier) -> None:
    """A dossier signs every file with one reference each: 40 files are read (the limit
    for detached references is the container's, not an enveloped signature's 32)."""
    many = {f"tep-{n:02d}.txt": f"noi dung {n}".encode() for n in range(40)}
    report = verifier.verify(container(many, xades_file(demo_pki, "citizen", many)))
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert len(report.signatures[0].covers) == 40


def test_container_timestamp_proves_an_expired_xades_signer_in_time(
    demo_pki: DemoPKI, verifier: Verifier
) -> None:
    """citizen-expired (valid 2020..2023) signed in 2022; a container timestamp made then
    over a manifest listing the signature file proves it existed: it passes; without the
    timestamp it is OUT_OF_BOUNDS_NO_POE."""
    data = xades_file(demo_pki, "citizen-expired", FILES, at=SIGNED_AT)
    bare = verifier.verify(container(FILES, data))
    assert bare.signatures[0].sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE
    listing = manifest("META-INF/timestamp.tst", {"META-INF/signatures.xml": data, **FILES})
    token = timestamp_token(demo_pki, listing, at=SIGNED_AT).dump()
    stamped = container(
        FILES,
        data,
        extra={"META-INF/ASiCManifest.xml": listing, "META-INF/timestamp.tst": token},
    )
    report = verifier.verify(stamped)
    (sig,) = [s for s in report.signatures if s.kind == "xml"]
    assert sig.indication is Indication.TOTAL_PASSED, sig.message_en
    assert sig.signing_time_proven == SIGNED_AT


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.sampled_from(sorted(FILES)), st.integers(min_value=0), st.integers(1, 255))
def test_tampering_a_signed_file_never_passes(
    signatures: bytes, offline: Verifier, name: str, where: int, flip: int
) -> None:
    """Whatever byte of whichever signed file is changed, the signature fails."""
    data = bytearray(FILES[name])
    data[where % len(data)] ^= flip
    report = offline.verify(container({**FILES, name: bytes(data)}, signatures))
    assert report.sub_indication is SubIndication.HASH_FAILURE
    assert report.signatures[0].integrity is False


XADES_141 = "http://uri.etsi.org/01903/v1.4.1#"


def with_archive_timestamp(pki: DemoPKI, signatures: bytes, files: dict[str, bytes]) -> bytes:
    """``signatures`` (from :func:`xades_file`) with an ArchiveTimeStamp of the demo TSA
    made at SIGNED_AT, its input computed here from EN 319 132-1 §5.5.2: each file's octets
    (no transform), the SignedProperties as its exclusive-C14N transform gives them, then
    SignedInfo, SignatureValue and KeyInfo (no earlier property, no other Object)."""
    root = etree.fromstring(signatures)
    sig = root.find(f"{{{DS}}}Signature")
    assert sig is not None
    qp = sig.find(f"{{{DS}}}Object/{{{XADES}}}QualifyingProperties")
    assert qp is not None
    parts: list[bytes] = []
    for ref in sig.iterfind(f"{{{DS}}}SignedInfo/{{{DS}}}Reference"):
        uri = ref.get("URI") or ""
        if uri == "#SP":
            props = qp.find(f"{{{XADES}}}SignedProperties")
            assert props is not None
            parts.append(etree.tostring(props, method="c14n", exclusive=True))
        else:
            parts.append(files[uri.replace("%20", " ")])
    for local in ("SignedInfo", "SignatureValue", "KeyInfo"):
        el = sig.find(f"{{{DS}}}{local}")
        assert el is not None
        parts.append(etree.tostring(el, method="c14n", exclusive=True))
    token = timestamp_token(pki, b"".join(parts), at=SIGNED_AT)
    unsigned = _el(_el(qp, XADES, "UnsignedProperties"), XADES, "UnsignedSignatureProperties")
    stamp = _el(unsigned, XADES_141, "ArchiveTimeStamp")
    _el(stamp, DS, "CanonicalizationMethod", Algorithm=EXC_C14N)
    _el(stamp, XADES_141, "EncapsulatedTimeStamp", _b64(token.dump()))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_archive_timestamp_proves_an_expired_xades_signer_in_a_container(
    demo_pki: DemoPKI, verifier: Verifier
) -> None:
    """citizen-expired (valid 2020..2023) signed in 2022; its own XAdES ArchiveTimeStamp of
    2022, over the container's files as the references name them, proves the signature
    existed then: XAdES-B-LTA, it passes; a changed KeyInfo (covered by the archive
    timestamp, not signed) breaks the imprint and the proof (OUT_OF_BOUNDS_NO_POE)."""
    data = with_archive_timestamp(
        demo_pki, xades_file(demo_pki, "citizen-expired", FILES, at=SIGNED_AT), FILES
    )
    report = verifier.verify(container(FILES, data))
    (sig,) = report.signatures
    assert sig.indication is Indication.TOTAL_PASSED, sig.message_en
    assert sig.signing_time_proven == SIGNED_AT
    assert sig.level == "XAdES-B-LTA"
    assert [(t.kind, t.indication) for t in sig.timestamps] == [
        ("archive", Indication.TOTAL_PASSED)
    ]
    changed = data.replace(b"<ds:KeyInfo>", b"<ds:KeyInfo> ", 1)
    assert changed != data
    broken = verifier.verify(container(FILES, changed)).signatures[0]
    assert broken.sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE
    assert [t.sub_indication for t in broken.timestamps] == [SubIndication.HASH_FAILURE]


def test_archive_timestamp_input_shares_the_container_files(demo_pki: DemoPKI) -> None:
    """The archive timestamp's input holds each container file as the very bytes read (not
    a copy), so that eight archive timestamps over a large file cost no eight copies of it;
    its imprint matches."""
    data = with_archive_timestamp(
        demo_pki, xades_file(demo_pki, "citizen-expired", FILES, at=SIGNED_AT), FILES
    )
    (check,) = inspect_xml(data, detached=FILES).checks
    (stamp,) = check.archive_timestamps
    assert all(part is FILES[name] for part, name in zip(stamp.imprint_parts, FILES, strict=False))
    assert imprint_matches(stamp)


# -- EU DSS's files --------------------------------------------------------------------------

# file: (data files covered, each signature's integrity, sub-indication DSS's test implies
# (None: intact, INDETERMINATE here only because DSS's PKI is not trusted), not covered)
DSS_FACTS: dict[str, tuple[list[str], list[bool], SubIndication | None, list[str]]] = {
    "onefile-ok.asice": (["test.text"], [True], None, []),
    "onefile-ok.asics": (["test.text"], [True], None, []),
    "multifiles-ok.asice": (["test.text", "test2.text"], [True, True], None, []),
    "multifiles-ok.asics": (["package.zip"], [True, True], None, []),
    "xades-lt.sce": (["empty.zip", "test.txt", "test.zip"], [True], None, []),
    "onefile-wrong-file.asice": (
        [],
        [False],
        SubIndication.SIGNED_DATA_NOT_FOUND,
        ["cef-portal-esig.png"],
    ),
    "onefile-too-much-files.asice": (["test.text"], [True], None, ["cef-portal-esig.png"]),
    "removed-doc.asice": (
        ["root_ca.crl", "tsa.crt"],
        [False],
        SubIndication.SIGNED_DATA_NOT_FOUND,
        [],
    ),
    "no-signed-file.asice": ([], [False, True], SubIndication.FORMAT_FAILURE, []),
    "container-with-counter-signature.asics": (["document.txt"], [True, True], None, []),
    "asic-xades-lta-signed-manifest.sce": (["hello.txt"], [True], None, []),
    "container-with-counter-signature.asice": (
        ["service-body-excl-debtor.json", "service-body.json"],
        [True, True],
        None,
        [],
    ),
}


@pytest.mark.parametrize("name", sorted(DSS_FACTS))
def test_dss_asic_xades_files_read_as_dss_says(
    name: str, offline: Verifier, validate_report: Callable[[dict[str, Any]], None]
) -> None:
    """The files each signature covers, its integrity and the failure DSS's test names;
    otherwise INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND only because DSS's test PKI is not
    trusted here."""
    covered, integrity, failure, uncovered = DSS_FACTS[name]
    report = offline.verify(DSS_DATA / name)
    assert report.format == "asic"
    assert report.facts is not None
    found = sorted(
        f["name"]
        for f in report.facts["files"]
        if f["covered_by"] and f["size"] is not None and not f["name"].startswith("META-INF/")
    )
    assert found == covered
    assert [s.integrity for s in report.signatures] == integrity
    assert report.facts["not_covered"] == uncovered
    subs = {s.sub_indication for s in report.signatures}
    if failure is None:
        assert subs == {SubIndication.NO_CERTIFICATE_CHAIN_FOUND}
    else:
        assert report.sub_indication is failure
        assert subs <= {failure, SubIndication.NO_CERTIFICATE_CHAIN_FOUND}
    validate_report(report.to_dict())


def test_dss_xades_archive_timestamp_is_validated(offline: Verifier) -> None:
    """DSS's XAdES-LTA in a container: its ArchiveTimeStamp is validated (its imprint over
    the container's file, the signature and its earlier properties matches, as DSS's own
    test asserts), the level says B-LTA, and no warning calls it unread; it proves nothing
    here only because DSS's test TSA is not trusted."""
    report = offline.verify(DSS_DATA / "asic-xades-lta-signed-manifest.sce")
    (sig,) = report.signatures
    assert sig.level == "XAdES-B-LTA"
    assert [(t.kind, t.sub_indication) for t in sig.timestamps] == [
        ("signature", SubIndication.NO_CERTIFICATE_CHAIN_FOUND),
        ("archive", SubIndication.NO_CERTIFICATE_CHAIN_FOUND),
    ]
    assert not [w for w in sig.warnings if "not validated" in w]
