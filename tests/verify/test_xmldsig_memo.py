"""The memo of signature structures (``verify.xmldsig._shape``) cannot be fooled.

A ds:Signature's structure (KeyInfo's certificates, the SignedInfo methods, each
Reference's URI, transforms and digest method) is read once and reused for every later
signature whose subtree is the same but for its DigestValue, SignatureValue and
SigningTime texts. Here: signatures that differ in one structural element (a KeyInfo
certificate, a Transform, a Reference URI, the CanonicalizationMethod, an extra
Reference, an Object) never share a reading, and each gets exactly the checks and the
report a cold verifier (the memo emptied) gives; had they shared the genuine invoice's
reading, the verdict would have been another (so the test would see a memo keyed too
loosely). A random byte changed anywhere in a signed invoice, after a genuine one warmed
the memo, never passes unless it passes cold too.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from fixtures.einvoice import DS, INVOICE_ID, MCCQT_ID, invoice_xml, sign_strict, subject_name
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from verify import (
    DocumentReport,
    Indication,
    SubIndication,
    TrustProfile,
    ValidationPolicy,
    Verifier,
    xmldsig,
)
from verify.xmldsig import XmlSignatureCheck, certificate_der, inspect_xml

SIGNED_AT = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
SIG = f"{{{DS}}}Signature"
ENVELOPED = DS + "enveloped-signature"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture(autouse=True)
def _cold_memo() -> Iterator[None]:
    """Each test starts and ends with an empty memo (others never see what it left)."""
    xmldsig.clear_shapes()
    yield
    xmldsig.clear_shapes()


@pytest.fixture(scope="module")
def verifier(demo_pki: DemoPKI) -> Verifier:
    """Full validation every time (no template): what is compared is the memo alone."""
    trust = TrustProfile.custom([demo_pki.root("public")], name="demo", hierarchy="public")
    trust = trust.with_extra_anchors([demo_pki.root("specialized")], hierarchy="specialized")
    policy = ValidationPolicy(validation_time=PINNED_NOW, revocation="soft", fast_path=False)
    return Verifier(trust, policy)


def _seller(pki: DemoPKI, number: int, **sign: Any) -> bytes:
    return sign_strict(
        invoice_xml(number=str(number), mccqt=f"00A1B2C3D4E5F6071829{number:06d}"),
        pki,
        "organisation",
        at=SIGNED_AT.replace(minute=number % 60),
        **sign,
    )


def _mutate(data: bytes, change: Callable[[Any], None]) -> bytes:
    root = etree.fromstring(data)
    change(root)
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def _signature(root: Any) -> Any:
    return root.find(f"DSCKS/NBan/{SIG}")


def _view(check: XmlSignatureCheck) -> tuple[Any, ...]:
    """Everything a check says, certificates by their DER (lxml targets by name)."""
    return (
        check.signature_id,
        certificate_der(check.signer_cert) if check.signer_cert is not None else None,
        tuple(certificate_der(c) for c in check.certificates),
        check.references_ok,
        check.signature_ok,
        check.digest_algorithm,
        check.digest_algorithms,
        check.signature_hash,
        check.signature_algorithm,
        check.claimed_signing_time,
        check.failed_references,
        check.reading,
        check.role,
        check.covers,
        check.expected_cover,
        check.problems,
        check.xades_warnings,
        check.carries_xades,
    )


def _views(data: bytes) -> list[tuple[Any, ...]] | str:
    try:
        return [_view(c) for c in inspect_xml(data).checks]
    except xmldsig.XmlSignatureError as exc:
        return exc.en


def _same(warm: DocumentReport, cold: DocumentReport, what: str) -> None:
    assert warm.to_dict() == cold.to_dict(), what
    assert warm == cold, what


# -- variants that differ from the genuine invoice in one structural element only -------------


def _other_certificate(pki: DemoPKI) -> Callable[[Any], None]:
    """KeyInfo names and carries another signer's certificate (the signature is unchanged)."""

    def change(root: Any) -> None:
        data = _signature(root).find(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data")
        data.find(f"{{{DS}}}X509Certificate").text = base64.b64encode(
            pki.cert("citizen-ec").dump()
        ).decode()
        data.find(f"{{{DS}}}X509SubjectName").text = subject_name(pki, "citizen-ec")

    return change


def _no_time_transform(root: Any) -> None:
    """The SigningTime reference without its enveloped transform."""
    for transform in _signature(root).iter(f"{{{DS}}}Transform"):
        ref = transform.getparent().getparent()
        if ref.get("URI") == "#NBan-time":
            transform.getparent().remove(transform)


def _time_uri_to_object(root: Any) -> None:
    """The SigningTime reference points at the signature's own Object instead."""
    for ref in _signature(root).iter(f"{{{DS}}}Reference"):
        if ref.get("URI") == "#NBan-time":
            ref.set("URI", "#NBan-obj")


def _object_first(root: Any) -> None:
    """An extra (unsigned, empty) Object between SignedInfo and SignatureValue."""
    signature = _signature(root)
    signature.insert(1, etree.Element(f"{{{DS}}}Object", Id="extra"))


def _object_last(root: Any) -> None:
    """An extra (unsigned) Object after the signature's own one."""
    extra = etree.SubElement(_signature(root), f"{{{DS}}}Object", Id="extra")
    etree.SubElement(extra, "Note").text = "not signed"


def _exclusive_signed_info(pki: DemoPKI, label: str) -> Callable[[Any], None]:
    """SignedInfo's CanonicalizationMethod made exclusive C14N, signed again (ECDSA)."""

    def change(root: Any) -> None:
        signature = _signature(root)
        signed_info = signature.find(f"{{{DS}}}SignedInfo")
        signed_info.find(f"{{{DS}}}CanonicalizationMethod").set("Algorithm", EXC_C14N)
        copy = etree.fromstring(etree.tostring(signed_info))
        octets = etree.tostring(copy, method="c14n", exclusive=True, with_comments=False)
        key = serialization.load_pem_private_key(pki.key_pem(label), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        r, s = decode_dss_signature(key.sign(octets, ec.ECDSA(hashes.SHA256())))
        size = (key.curve.key_size + 7) // 8
        value = r.to_bytes(size, "big") + s.to_bytes(size, "big")
        signature.find(f"{{{DS}}}SignatureValue").text = base64.b64encode(value).decode()

    return change


def _lang_invoice(pki: DemoPKI, exclusive: bool) -> bytes:
    """A genuine invoice whose HDon carries xml:lang, which SignedInfo inherits under C14N
    1.0 and not under exclusive C14N; with ``exclusive``, SignedInfo's method is that."""

    def lang(root: Any) -> None:
        root.set(XML_LANG, "vi")

    unsigned = _mutate(invoice_xml(number="5"), lang)
    signed = sign_strict(unsigned, pki, "organisation", at=SIGNED_AT)
    return _mutate(signed, _exclusive_signed_info(pki, "organisation")) if exclusive else signed


def _variants(pki: DemoPKI) -> dict[str, tuple[bytes, bytes]]:
    """(genuine invoice that warms the memo, invoice differing in one structural element)."""
    genuine = _seller(pki, 1)
    one_ref = _seller(pki, 2, time_enveloped=None)
    two_refs = sign_strict(
        invoice_xml(number="3", mccqt="00A1B2C3D4E5F6071829000003"),
        pki,
        "organisation",
        at=SIGNED_AT,
        targets=(INVOICE_ID, MCCQT_ID),
        time_enveloped=None,
    )

    def changed_mccqt(root: Any) -> None:
        root.find("MCCQT").text = "00FFFFFFFFFFFFFFFFFF000003"

    return {
        "KeyInfo certificate": (genuine, _mutate(genuine, _other_certificate(pki))),
        "Transform": (genuine, _mutate(genuine, _no_time_transform)),
        "Reference URI": (genuine, _mutate(genuine, _time_uri_to_object)),
        "CanonicalizationMethod": (_lang_invoice(pki, False), _lang_invoice(pki, True)),
        "extra Reference": (one_ref, _mutate(two_refs, changed_mccqt)),
        "Object before SignatureValue": (genuine, _mutate(genuine, _object_first)),
        "Object after the own one": (genuine, _mutate(genuine, _object_last)),
    }


# a memo keyed too loosely (the variant read with the genuine invoice's structure) would
# give another check for these; the last Object changes no place the reading remembers
_SHARING_WOULD_MISLEAD = frozenset(
    {
        "KeyInfo certificate",
        "Transform",
        "Reference URI",
        "CanonicalizationMethod",
        "extra Reference",
        "Object before SignatureValue",
    }
)


@pytest.fixture(scope="module")
def variants(demo_pki: DemoPKI) -> dict[str, tuple[bytes, bytes]]:
    return _variants(demo_pki)


@pytest.mark.parametrize(
    "what",
    [
        "KeyInfo certificate",
        "Transform",
        "Reference URI",
        "CanonicalizationMethod",
        "extra Reference",
        "Object before SignatureValue",
        "Object after the own one",
    ],
)
def test_a_structural_difference_never_shares_the_memoised_reading(
    variants: dict[str, tuple[bytes, bytes]],
    verifier: Verifier,
    what: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A signature differing in one structural element gets the cold checks and report."""
    genuine, variant = variants[what]
    genuine_sig = _signature(etree.fromstring(genuine))
    variant_sig = _signature(etree.fromstring(variant))
    assert xmldsig._structure_key(genuine_sig) != xmldsig._structure_key(variant_sig)
    assert verifier.verify(genuine).passed, what

    warm_views = _views(variant)  # the genuine structure is in the memo
    warm_report = verifier.verify(variant)
    xmldsig.clear_shapes()
    cold_views = _views(variant)
    xmldsig.clear_shapes()
    cold_report = verifier.verify(variant)
    assert warm_views == cold_views, what
    _same(warm_report, cold_report, what)

    if what in _SHARING_WOULD_MISLEAD:
        shared = xmldsig._shape(genuine_sig)
        assert shared is not None
        monkeypatch.setattr(xmldsig, "_shape", lambda signature: shared)
        try:
            misled: Any = _views(variant)
        except IndexError:  # the genuine structure's places are not even there
            misled = "IndexError"
        monkeypatch.undo()
        assert misled != cold_views, what


def test_each_structural_variant_gets_the_verdict_full_validation_gives(
    variants: dict[str, tuple[bytes, bytes]], verifier: Verifier
) -> None:
    """Read cold, each variant gets the verdict it was made for (pass, hash or crypto failure)."""
    expected = {
        "KeyInfo certificate": SubIndication.SIG_CRYPTO_FAILURE,
        "Transform": SubIndication.HASH_FAILURE,
        "Reference URI": SubIndication.SIG_CRYPTO_FAILURE,
        "CanonicalizationMethod": None,
        "extra Reference": SubIndication.HASH_FAILURE,
        "Object before SignatureValue": None,
        "Object after the own one": None,
    }
    for what, (genuine, variant) in variants.items():
        xmldsig.clear_shapes()
        assert verifier.verify(genuine).passed, what
        xmldsig.clear_shapes()
        report = verifier.verify(variant)
        sub = expected[what]
        if sub is None:
            assert report.indication is Indication.TOTAL_PASSED, (what, report.message_en)
        else:
            assert report.signatures[0].sub_indication is sub, (what, report.message_en)


def test_invoices_of_one_seller_share_one_reading_with_the_checks_read_cold(
    demo_pki: DemoPKI,
) -> None:
    """Genuine and tampered invoices of one seller use one memo entry and equal cold checks."""
    docs = [_seller(demo_pki, n) for n in range(10, 14)]

    def flip_value(root: Any) -> None:
        el = _signature(root).find(f"{{{DS}}}SignatureValue")
        raw = bytearray(base64.b64decode(el.text))
        raw[3] ^= 1
        el.text = base64.b64encode(bytes(raw)).decode()

    def flip_digest(root: Any) -> None:
        el = _signature(root).find(f"{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}DigestValue")
        el.text = "not base64!"

    def other_time(root: Any) -> None:
        el = next(_signature(root).iter("SigningTime"))
        el.text = "2001-01-01T00:00:00"

    docs += [_mutate(docs[0], change) for change in (flip_value, flip_digest, other_time)]
    warm = [_views(d) for d in docs]
    assert len(xmldsig._SHAPES) == 1
    cold = []
    for d in docs:
        xmldsig.clear_shapes()
        cold.append(_views(d))
    assert warm == cold
    assert [isinstance(v, list) and all(c[3] and c[4] and not c[15] for c in v) for v in warm] == [
        True
    ] * 4 + [False, False, True]


@pytest.fixture(scope="module")
def signed_invoice(demo_pki: DemoPKI) -> bytes:
    """A seller and tax-authority signed invoice."""
    return sign_strict(
        _seller(demo_pki, 20),
        demo_pki,
        "agency-seal",
        at=SIGNED_AT.replace(hour=10),
        place="CQT",
        targets=(MCCQT_ID,),
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_changed_byte_after_a_warm_memo_passes_only_if_it_passes_cold(
    signed_invoice: bytes, verifier: Verifier, data: st.DataObject
) -> None:
    """A random byte changed anywhere, read with a warm memo, gets the cold verifier's report."""
    start = signed_invoice.index(b"<Signature")
    end = len(signed_invoice)
    at = data.draw(
        st.one_of(st.integers(0, end - 1), st.integers(start, end - 1)), label="position"
    )
    old = signed_invoice[at]
    new = data.draw(st.integers(0, 255).filter(lambda b: b != old), label="byte")
    mutated = signed_invoice[:at] + bytes([new]) + signed_invoice[at + 1 :]
    xmldsig.clear_shapes()
    assert verifier.verify(signed_invoice).passed  # warms the memo with both structures
    warm = verifier.verify(mutated)
    warm_views = _views(mutated)
    xmldsig.clear_shapes()
    cold_views = _views(mutated)
    xmldsig.clear_shapes()
    cold = verifier.verify(mutated)
    assert not warm.passed or cold.passed, (at, old, new)
    assert warm_views == cold_views, (at, old, new)
    _same(warm, cold, f"byte {at}: {old:#x} -> {new:#x}")
