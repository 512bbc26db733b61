"""The strict and .NET readings of the enveloped transform, with python-xmlsec as the reference."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import xmlsec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from fixtures.einvoice import DS, invoice_xml, sign_dotnet, sign_strict
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from verify import Indication, TrustProfile, ValidationPolicy, Verifier
from verify.xmldsig import (
    READING_DOTNET,
    READING_STRICT,
    XmlSignatureError,
    check_xml_signature,
)

SIGNED_AT = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
REAL = Path(__file__).resolve().parents[1] / "data" / "realworld" / "ca2-einvoice-seller-signed.xml"
C14N_COMMENTS = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"


@pytest.fixture(scope="module")
def verifier(demo_pki: DemoPKI) -> Verifier:
    trust = TrustProfile.custom([demo_pki.root("public")], name="demo", hierarchy="public")
    return Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW, revocation="soft"))


def xmlsec_accepts(data: bytes, pki: DemoPKI, label: str) -> bool:
    root = etree.fromstring(data)
    ctx = xmlsec.SignatureContext()
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("Id") is not None:
            ctx.register_id(el, "Id")
    ctx.key = xmlsec.Key.from_memory(pki.cert_pem(label), xmlsec.constants.KeyDataFormatCertPem)
    signature: Any = root.find(f".//{{{DS}}}Signature")
    try:
        ctx.verify(signature)
    except xmlsec.Error:
        return False
    return True


@pytest.mark.parametrize("label", ["organisation", "citizen"])
@pytest.mark.parametrize("time_enveloped", [True, False, None])
def test_xmlsec_signature_verifies_under_the_strict_reading(
    demo_pki: DemoPKI, label: str, time_enveloped: bool | None
) -> None:
    """A signature made by libxmlsec1 verifies under our strict reading (and xmlsec's own)."""
    data = sign_strict(invoice_xml(), demo_pki, label, at=SIGNED_AT, time_enveloped=time_enveloped)
    assert xmlsec_accepts(data, demo_pki, label)
    (check,) = check_xml_signature(data)
    assert check.intact
    assert check.reading == READING_STRICT


@pytest.mark.parametrize("label", ["organisation", "citizen"])
def test_dotnet_signature_verifies_only_under_the_dotnet_reading(
    demo_pki: DemoPKI, label: str
) -> None:
    """A .NET-style signature (enveloped SigningTime) verifies only as .NET reads it; xmlsec
    rejects it."""
    data = sign_dotnet(invoice_xml(), demo_pki, label, at=SIGNED_AT)
    assert not xmlsec_accepts(data, demo_pki, label)
    (check,) = check_xml_signature(data)
    assert check.intact
    assert check.reading == READING_DOTNET


def test_dotnet_reading_passes_with_a_warning(demo_pki: DemoPKI, verifier: Verifier) -> None:
    """The Verifier passes a .NET-only signature and says so in a warning and xml_reading."""
    report = verifier.verify(sign_dotnet(invoice_xml(), demo_pki, "organisation", at=SIGNED_AT))
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    sig = report.signatures[0]
    assert sig.xml_reading == "dotnet"
    assert any(
        "verifies only under the .NET reading of the enveloped transform" in w for w in sig.warnings
    )


def test_strict_signature_passes_without_the_dotnet_warning(
    demo_pki: DemoPKI, verifier: Verifier
) -> None:
    """A strict signature passes with xml_reading strict, role seller and its coverage."""
    report = verifier.verify(sign_strict(invoice_xml(), demo_pki, "organisation", at=SIGNED_AT))
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    sig = report.signatures[0]
    assert (sig.xml_reading, sig.role, sig.covers) == (
        "strict",
        "seller",
        ("DLHDon", "SigningTime"),
    )
    assert not any(".NET" in w for w in sig.warnings)


def test_strict_empty_digest_is_not_accepted_as_dotnet(demo_pki: DemoPKI) -> None:
    """The readings are never confused: the xmlsec digest of an enveloped SigningTime (empty)
    is the strict reading only."""
    data = sign_strict(invoice_xml(), demo_pki, "organisation", at=SIGNED_AT)
    root = etree.fromstring(data)
    # a SigningTime changed after signing: strict digests nothing there, so it still verifies
    root.find(".//SigningTime").text = "2020-01-01T00:00:00"
    (check,) = check_xml_signature(etree.tostring(root))
    assert check.reading == READING_STRICT


def test_bare_name_reference_with_comments_transform_digests_without_comments(
    demo_pki: DemoPKI,
) -> None:
    """#Id with a WithComments C14N transform digests without comments (XMLDSig 4.4.3.3)."""
    root = etree.fromstring(invoice_xml())
    root.find("DLHDon/NDHDon").append(etree.Comment(" ghi chú nội bộ "))
    data = sign_strict(
        etree.tostring(root),
        demo_pki,
        "organisation",
        at=SIGNED_AT,
        reference_c14n=C14N_COMMENTS,
        time_enveloped=False,
    )
    assert xmlsec_accepts(data, demo_pki, "organisation")
    (check,) = check_xml_signature(data)
    assert check.intact, check.failed_references


def test_unused_ancestor_namespaces_are_canonicalised_like_xmlsec(demo_pki: DemoPKI) -> None:
    """xmlns:xsi/xsd on the root (as .NET writes) are in scope for inclusive C14N, as xmlsec."""
    xml = invoice_xml().replace(
        b"<HDon>",
        b'<HDon xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xml:lang="vi">',
    )
    data = sign_strict(xml, demo_pki, "organisation", at=SIGNED_AT)
    assert xmlsec_accepts(data, demo_pki, "organisation")
    (check,) = check_xml_signature(data)
    assert check.intact, check.failed_references


def test_real_invoice_references_and_signature_intact() -> None:
    """The real CA2 e-invoice: references and signature intact, strict reading, seller role."""
    (check,) = check_xml_signature(REAL.read_bytes())
    assert check.intact
    assert check.reading == READING_STRICT
    assert check.role == "seller"
    assert check.covers == ("DLHDon", "Object")
    assert check.covers_expected is True
    assert check.digest_algorithms == ("sha256", "sha256")
    assert check.signature_hash == "sha256"


@pytest.fixture(scope="module")
def signed_invoice(demo_pki: DemoPKI) -> bytes:
    return sign_dotnet(invoice_xml(), demo_pki, "organisation", at=SIGNED_AT)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_mutations_of_signed_bytes_never_pass(
    signed_invoice: bytes, data: st.DataObject
) -> None:
    """Any single-byte change inside the signed DLHDon (not whitespace for whitespace) never
    leaves the signature intact."""
    start = signed_invoice.index(b"<DLHDon")
    end = signed_invoice.index(b"</DLHDon>") + len(b"</DLHDon>")
    assert all(c.intact for c in check_xml_signature(signed_invoice))
    at = data.draw(st.integers(start, end - 1))
    old = signed_invoice[at]
    new = data.draw(st.integers(0, 255).filter(lambda b: b != old))
    if chr(old).isspace() and chr(new).isspace():
        new = ord("x")
    mutated = signed_invoice[:at] + bytes([new]) + signed_invoice[at + 1 :]
    try:
        checks = check_xml_signature(mutated)
    except XmlSignatureError:
        return  # refused as a whole: not a pass
    assert not checks or not all(c.intact for c in checks)


@pytest.mark.parametrize("namespaced", [False, True])
def test_text_after_the_signed_element_is_not_part_of_it(
    demo_pki: DemoPKI, namespaced: bool
) -> None:
    """Text right after DLHDon (its tail: mixed content some generators leave) belongs to the
    parent, not to the signed element: the signature verifies as libxmlsec1 verifies it,
    with or without namespaces in scope (the re-parsed and the in-place canonicalisation)."""
    xml = invoice_xml().replace(b"</DLHDon>", "</DLHDon>ghi chú".encode())
    if namespaced:
        xml = xml.replace(
            b"<HDon>", b'<HDon xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        )
    data = sign_strict(xml, demo_pki, "organisation", at=SIGNED_AT)
    assert b"</DLHDon>ghi ch" in data
    assert xmlsec_accepts(data, demo_pki, "organisation")
    (check,) = check_xml_signature(data)
    assert check.intact, check.failed_references
    assert check.reading == READING_STRICT
