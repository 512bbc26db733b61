"""XML signature wrapping and hostile XML: every attack ends as a clear problem, never a pass.

Attacks after Somorovsky et al. 2011 and McIntosh & Austel 2005, on synthetic invoices signed
by code (fixtures.einvoice) with the demo PKI.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

from fixtures.einvoice import (
    DS,
    INVOICE_ID,
    MCCQT_ID,
    invoice_xml,
    sign_dotnet,
    sign_strict,
    subject_name,
)
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from verify import (
    DocumentReport,
    Indication,
    SubIndication,
    TrustProfile,
    ValidationPolicy,
    Verifier,
)

SIGNED_AT = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
SIG = f"{{{DS}}}Signature"
OBJ = f"{{{DS}}}Object"


@pytest.fixture(scope="module")
def verifier(demo_pki: DemoPKI) -> Verifier:
    trust = TrustProfile.custom([demo_pki.root("public")], name="demo", hierarchy="public")
    trust = trust.with_extra_anchors([demo_pki.root("specialized")], hierarchy="specialized")
    return Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW, revocation="soft"))


@pytest.fixture(scope="module")
def signed(demo_pki: DemoPKI) -> bytes:
    """A seller-signed invoice with a tax authority's MCCQT signature (both strict)."""
    xml = sign_strict(
        invoice_xml(mccqt="00A1B2C3D4E5F60718293A4B5C"), demo_pki, "organisation", at=SIGNED_AT
    )
    return sign_strict(xml, demo_pki, "agency-seal", at=SIGNED_AT, place="CQT", targets=(MCCQT_ID,))


def _tree(data: bytes) -> Any:
    return etree.fromstring(data)


def _bytes(root: Any) -> bytes:
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def _seller_sig(root: Any) -> Any:
    return root.find(f"DSCKS/NBan/{SIG}")


def _forged(dl: Any, **attrs: str) -> Any:
    forged = copy.deepcopy(dl)
    for key in list(forged.attrib):
        del forged.attrib[key]
    for key, value in attrs.items():
        forged.set(key, value)
    forged.find("NDHDon/TToan/TgTTTBSo").text = "1"
    forged.find("NDHDon/NBan/MST").text = "0109999999"
    return forged


def _failed(report: DocumentReport, sub: SubIndication, *words: str) -> None:
    assert report.indication is Indication.TOTAL_FAILED, report.message_en
    assert report.sub_indication is sub, report.message_en
    for word in words:
        assert word in report.message_en, report.message_en
    assert report.message_vi
    assert report.message_vi != report.message_en


def test_the_untouched_invoice_passes(verifier: Verifier, signed: bytes) -> None:
    """The baseline: both signatures intact, trusted, strict reading, facts read."""
    report = verifier.verify(signed)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert [s.role for s in report.signatures] == ["seller", "tax_authority"]
    assert report.facts is not None
    assert report.facts["total"] == "10800000"


def _move_into(root: Any, holder: Any) -> None:
    dl = root.find("DLHDon")
    dl.addprevious(_forged(dl))
    holder.append(dl)


def test_signed_dlhdon_moved_into_its_own_object(verifier: Verifier, signed: bytes) -> None:
    """Signed DLHDon moved into its signature's Object, a forged one in its place: refused."""
    root = _tree(signed)
    _move_into(root, _seller_sig(root).find(OBJ))
    report = verifier.verify(_bytes(root))
    _failed(report, SubIndication.FORMAT_FAILURE, "wrapping")
    assert report.facts is not None
    assert report.facts["total"] is None


def test_signed_dlhdon_moved_into_another_signatures_object(
    verifier: Verifier, signed: bytes
) -> None:
    """Signed DLHDon moved into the tax authority's Object: refused as wrapping."""
    root = _tree(signed)
    _move_into(root, root.find(f"DSCKS/CQT/{SIG}").find(OBJ))
    _failed(verifier.verify(_bytes(root)), SubIndication.FORMAT_FAILURE, "wrapping")


@pytest.mark.parametrize("under_object", [False, True])
def test_signed_dlhdon_in_an_unknown_wrapper(
    verifier: Verifier, signed: bytes, under_object: bool
) -> None:
    """Signed DLHDon inside a foreign wrapper (under HDon, or under an Object): refused."""
    root = _tree(signed)
    parent = _seller_sig(root).find(OBJ) if under_object else root
    wrapper = etree.SubElement(parent, "Wrapper")
    _move_into(root, wrapper)
    _failed(verifier.verify(_bytes(root)), SubIndication.FORMAT_FAILURE, "wrapping")


@pytest.mark.parametrize("spelling", ["id", "ID"])
def test_forged_copy_with_another_id_spelling(
    verifier: Verifier, signed: bytes, spelling: str
) -> None:
    """A forged DLHDon carrying id=/ID= while the signed one keeps Id=: ambiguous, refused."""
    root = _tree(signed)
    dl = root.find("DLHDon")
    dl.addprevious(_forged(dl, **{spelling: INVOICE_ID}))
    _seller_sig(root).find(OBJ).append(dl)
    _failed(verifier.verify(_bytes(root)), SubIndication.FORMAT_FAILURE, "wrapping")


def test_second_unsigned_hdon_placed_first(demo_pki: DemoPKI, verifier: Verifier) -> None:
    """In a tax message, a forged unsigned HDon placed before the signed one: refused."""
    signed = sign_strict(invoice_xml(envelope=True), demo_pki, "organisation", at=SIGNED_AT)
    root = _tree(signed)
    dlieu = root.find("DLieu")
    forged = copy.deepcopy(dlieu.find("HDon"))
    forged.remove(forged.find("DSCKS"))
    forged.find("DLHDon").find("NDHDon/TToan/TgTTTBSo").text = "1"
    del forged.find("DLHDon").attrib["Id"]
    dlieu.insert(0, forged)
    _failed(verifier.verify(_bytes(root)), SubIndication.FORMAT_FAILURE, "HDon")


def test_copy_of_the_signature_planted_inside_dlhdon(verifier: Verifier, signed: bytes) -> None:
    """A copy of the seller's Signature planted inside DLHDon: never a pass."""
    root = _tree(signed)
    root.find("DLHDon").append(copy.deepcopy(_seller_sig(root)))
    report = verifier.verify(_bytes(root))
    assert report.indication is Indication.TOTAL_FAILED, report.message_en
    assert report.sub_indication in (SubIndication.FORMAT_FAILURE, SubIndication.HASH_FAILURE)


def test_signature_covering_only_its_signing_time(demo_pki: DemoPKI, verifier: Verifier) -> None:
    """A seller signature over its SigningTime only: INDETERMINATE, does not cover DLHDon."""
    data = sign_strict(
        invoice_xml(), demo_pki, "organisation", at=SIGNED_AT, targets=(), time_enveloped=False
    )
    report = verifier.verify(data)
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
    )
    assert "DLHDon" in report.message_en
    assert report.signatures[0].covers == ("SigningTime",)
    assert report.facts is not None
    assert report.facts["seller_covers_dlhdon"] is False


def test_signature_covering_only_ttchung(demo_pki: DemoPKI, verifier: Verifier) -> None:
    """A seller signature over DLHDon/TTChung only: INDETERMINATE, the amounts are unsigned."""
    root = _tree(invoice_xml())
    root.find("DLHDon/TTChung").set("Id", "TTChung-1")
    data = sign_strict(_bytes(root), demo_pki, "organisation", at=SIGNED_AT, targets=("TTChung-1",))
    report = verifier.verify(data)
    assert report.sub_indication is SubIndication.SIG_CONSTRAINTS_FAILURE, report.message_en
    assert report.signatures[0].covers == ("TTChung", "SigningTime")
    assert report.facts is not None
    assert report.facts["total"] is None


def test_md5_on_one_reference(demo_pki: DemoPKI, verifier: Verifier) -> None:
    """MD5 on the SigningTime reference only is judged (every reference, not the last)."""
    data = sign_dotnet(
        invoice_xml(),
        demo_pki,
        "organisation",
        at=SIGNED_AT,
        digest=["md5", "sha256"],
        time_enveloped=False,
    )
    report = verifier.verify(data)
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
    )
    assert "MD5" in report.message_en


def test_rsa_sha1_signature_method(demo_pki: DemoPKI, verifier: Verifier) -> None:
    """rsa-sha1 as SignatureMethod (SHA-256 digests) is judged by the dated rules: no POE."""
    data = sign_dotnet(invoice_xml(), demo_pki, "citizen", at=SIGNED_AT, signature_hash="sha1")
    report = verifier.verify(data)
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
    )
    assert "SHA1" in report.message_en


def test_doctype_after_4kb_of_comments(verifier: Verifier, signed: bytes) -> None:
    """A DOCTYPE hidden after 4 KB of comments is found and refused, never expanded."""
    head, body = signed.split(b"?>", 1)
    bomb = (
        head
        + b"?><!--"
        + b"x" * 5000
        + b'--><!DOCTYPE HDon [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        + body
    )
    _failed(verifier.verify(bomb), SubIndication.FORMAT_FAILURE, "DTD")


def test_x509_subject_name_naming_another_company(demo_pki: DemoPKI, verifier: Verifier) -> None:
    """KeyInfo's X509SubjectName names another company than its certificate: refused."""
    data = sign_strict(
        invoice_xml(),
        demo_pki,
        "organisation",
        at=SIGNED_AT,
        x509_subject_name=subject_name(demo_pki, "branch"),
    )
    _failed(verifier.verify(data), SubIndication.FORMAT_FAILURE, "X509SubjectName")


def test_valid_signature_by_another_company(demo_pki: DemoPKI, verifier: Verifier) -> None:
    """A valid signature whose certificate MST is not the invoice's seller MST: INDETERMINATE."""
    data = sign_strict(invoice_xml(), demo_pki, "branch", at=SIGNED_AT)
    report = verifier.verify(data)
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
    )
    assert "0100047516" in report.message_en
    assert "0100047516-001" in report.message_en
    assert report.facts is not None
    assert report.facts["seller_mst_matches"] is False


def _mutate(signed: bytes, change: Callable[[Any], None]) -> bytes:
    root = _tree(signed)
    change(_seller_sig(root))
    return _bytes(root)


def _set_transform(sig: Any, algorithm: str) -> None:
    sig.find(f"{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}Transforms/{{{DS}}}Transform").set(
        "Algorithm", algorithm
    )


@pytest.mark.parametrize(
    ("algorithm", "word"),
    [
        ("http://www.w3.org/TR/1999/REC-xpath-19991116", "XPath"),
        ("http://www.w3.org/2002/06/xmldsig-filter2", "XPath"),
        ("http://www.w3.org/TR/1999/REC-xslt-19991116", "XSLT"),
        ("http://www.w3.org/2001/XInclude", "XInclude"),
        ("urn:unknown-transform", "urn:unknown-transform"),
    ],
)
def test_refused_transforms(verifier: Verifier, signed: bytes, algorithm: str, word: str) -> None:
    """XPath, XPath Filter 2, XSLT, XInclude and unknown transforms are refused by name."""
    data = _mutate(signed, lambda sig: _set_transform(sig, algorithm))
    _failed(verifier.verify(data), SubIndication.FORMAT_FAILURE, word)


def _set_method(sig: Any, algorithm: str) -> None:
    sig.find(f"{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod").set("Algorithm", algorithm)


def _set_digest(sig: Any, algorithm: str) -> None:
    sig.find(f"{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}DigestMethod").set(
        "Algorithm", algorithm
    )


def _drop_references(sig: Any) -> None:
    info = sig.find(f"{{{DS}}}SignedInfo")
    for ref in info.findall(f"{{{DS}}}Reference"):
        info.remove(ref)


def _two_signed_infos(sig: Any) -> None:
    sig.find(f"{{{DS}}}SignedInfo").addnext(copy.deepcopy(sig.find(f"{{{DS}}}SignedInfo")))


def _retrieval_only(sig: Any) -> None:
    info = sig.find(f"{{{DS}}}KeyInfo")
    for child in list(info):
        info.remove(child)
    etree.SubElement(info, f"{{{DS}}}RetrievalMethod", URI="http://127.0.0.1:9/key.cer")


def _external_reference(sig: Any) -> None:
    sig.find(f"{{{DS}}}SignedInfo/{{{DS}}}Reference").set("URI", "http://127.0.0.1:9/x.xml")


@pytest.mark.parametrize(
    ("change", "word"),
    [
        (lambda s: _set_method(s, "http://www.w3.org/2000/09/xmldsig#hmac-sha1"), "HMAC"),
        (lambda s: _set_method(s, "urn:unknown"), "signature method"),
        (lambda s: _set_digest(s, "urn:unknown-digest"), "digest method"),
        (_drop_references, "no Reference"),
        (_two_signed_infos, "SignedInfo"),
        (_retrieval_only, "RetrievalMethod"),
        (_external_reference, "same-document"),
    ],
    ids=[
        "hmac",
        "unknown-method",
        "unknown-digest",
        "no-reference",
        "two-signedinfo",
        "retrieval-method",
        "external-uri",
    ],
)
def test_refused_structures(
    verifier: Verifier, signed: bytes, change: Callable[[Any], None], word: str
) -> None:
    """HMAC, unknown algorithms, zero references, two SignedInfo, RetrievalMethod-only keys
    and external references are each refused with their cause."""
    _failed(verifier.verify(_mutate(signed, change)), SubIndication.FORMAT_FAILURE, word)


def test_xinclude_in_content_is_never_resolved(verifier: Verifier, signed: bytes) -> None:
    """An XInclude element added to the signed content is neither resolved nor fetched."""
    root = _tree(signed)
    xi = etree.SubElement(
        root.find("DLHDon/NDHDon"),
        "{http://www.w3.org/2001/XInclude}include",
        href="file:///etc/passwd",
    )
    xi.set("parse", "text")
    report = verifier.verify(_bytes(root))
    _failed(report, SubIndication.HASH_FAILURE)
    assert "root:" not in report.to_json()


def test_depth_is_bounded(verifier: Verifier) -> None:
    """Deeply nested XML is refused with a cause, not a traceback."""
    deep = b"<HDon>" + b"<a>" * 2000 + b"</a>" * 2000 + b"</HDon>"
    report = verifier.verify(deep)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.FORMAT_FAILURE


def _spki_algorithm_changed(der: bytes) -> bytes:
    """The certificate with the last byte of its public key's algorithm OID changed: a key
    type no library knows."""
    for oid in (
        bytes.fromhex("06092a864886f70d010101"),  # rsaEncryption
        bytes.fromhex("06072a8648ce3d0201"),  # id-ecPublicKey
    ):
        at = der.find(oid)
        if at >= 0:
            end = at + len(oid) - 1
            return der[:end] + b"\x7f" + der[end + 1 :]
    raise AssertionError("no known key algorithm in the certificate")


def test_a_keyinfo_key_of_an_unknown_type_fails_the_signature_not_the_format(
    verifier: Verifier, signed: bytes
) -> None:
    """A KeyInfo certificate whose key algorithm no library knows verifies nothing: the
    invoice is read as XML and fails as a signature whose value no key verifies
    (SIG_CRYPTO_FAILURE, as EU DSS says), with the reason; it was a FORMAT_FAILURE of an
    unknown format."""
    import base64

    root = _tree(signed)
    cert = _seller_sig(root).find(f".//{{{DS}}}X509Certificate")
    der = base64.b64decode("".join(cert.text.split()))
    cert.text = base64.b64encode(_spki_algorithm_changed(der)).decode()
    report = verifier.verify(_bytes(root))
    assert report.format == "xml", report.message_en
    assert not report.passed
    assert report.sub_indication is not SubIndication.FORMAT_FAILURE, report.message_en
    _failed(report, SubIndication.SIG_CRYPTO_FAILURE, "signature value")
