"""XAdES unsigned properties on XML signatures (ETSI EN 319 132-1) used as evidence.

Every document here is built by code: an e-invoice signed with ``esign.xml.sign_xml`` by a
demo signer, then XAdES unsigned properties added in a ``ds:Object`` of the signature
(``SignatureTimeStamp`` with a real RFC 3161 token of the demo TSA over the canonicalised
``ds:SignatureValue``, ``CertificateValues``, ``RevocationValues`` with the demo CAs' CRLs
and OCSP responses). Time is pinned (PINNED_NOW, 2026-06-01); the services answer on
loopback only.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
import xmlsec
from asn1crypto import cms, crl, ocsp, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pyhanko.sign.timestamps import HTTPTimeStamper

from esign.xml import sign_xml
from fixtures.attacks import timestamp_token
from fixtures.documents import demo_signer
from fixtures.einvoice import invoice_xml
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from verify import (
    DocumentReport,
    Indication,
    SignatureReport,
    SubIndication,
    TrustProfile,
    ValidationPolicy,
    Verifier,
    process,
)
from verify.policy import AlgorithmRules, RevocationMode
from verify.xades import XADES_132, XADES_141
from verify.xmldsig import inspect_xml

DS = "http://www.w3.org/2000/09/xmldsig#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

EXPIRED_SIGNED_AT = datetime(2022, 6, 1, 8, 0, tzinfo=UTC)
"""citizen-expired is valid 2020-01-01 .. 2023-01-01."""
BEFORE_REVOCATION = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
"""citizen-revoked was revoked on 2026-03-01."""

PASSED = (Indication.TOTAL_PASSED, None)
NO_POE = (Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE)


# -- building the documents -----------------------------------------------------------------


def demo_trust(pki: DemoPKI) -> TrustProfile:
    trust = TrustProfile.custom([pki.root("public")], name="demo", hierarchy="public")
    return trust.with_extra_anchors([pki.root("specialized")], hierarchy="specialized")


def signed_invoice(pki: DemoPKI, label: str, at: datetime) -> bytes:
    """An e-invoice signed by ``label`` with esign at ``at`` (checked by esign then)."""
    policy = ValidationPolicy(validation_time=at, revocation=RevocationMode.OFF, network=False)
    return sign_xml(
        invoice_xml(),
        demo_signer(pki, label),
        signing_time=at,
        trust=demo_trust(pki),
        policy=policy,
    )


def signature_value_c14n(xml: bytes, algorithm: str = C14N) -> bytes:
    """The first signature's ds:SignatureValue element, canonicalised by lxml in place."""
    root = etree.fromstring(xml)
    value = root.find(f".//{{{DS}}}SignatureValue")
    assert value is not None
    out: bytes = etree.tostring(
        value, method="c14n", exclusive=algorithm == EXC_C14N, with_comments=False
    )
    return out


def live_token(pki: DemoPKI, data: bytes, md: str = "sha256") -> cms.ContentInfo:
    """A token of the demo public TSA running on loopback (it speaks of PINNED_NOW)."""
    tsa = HTTPTimeStamper(pki.tsa_url("public"))
    return asyncio.run(tsa.async_timestamp(hashlib.new(md, data).digest(), md))


def fetch(url: str, body: bytes | None = None, kind: str = "") -> bytes:
    request = urllib.request.Request(url, data=body)
    if kind:
        request.add_header("Content-Type", kind)
    with urllib.request.urlopen(request, timeout=10) as answer:
        data: bytes = answer.read()
    return data


def live_crls(pki: DemoPKI) -> list[crl.CertificateList]:
    """The complete CRLs the demo public CAs publish on loopback: the signers' CA and the
    root's (which covers the CA and the TSA)."""
    return [
        crl.CertificateList.load(fetch(pki.service_urls[f"crl:{ca}"]))
        for ca in ("ca-rsa", "vn-root")
    ]


def live_ocsp(pki: DemoPKI, label: str, ca: str = "ca-rsa") -> ocsp.OCSPResponse:
    """The demo CA's OCSP answer about ``label``, asked on loopback."""
    cert, issuer = pki.cert(label), pki.cert(ca)
    request = ocsp.OCSPRequest(
        {
            "tbs_request": {
                "request_list": [
                    {
                        "req_cert": {
                            "hash_algorithm": {"algorithm": "sha1"},
                            "issuer_name_hash": issuer.subject.sha1,
                            "issuer_key_hash": issuer.public_key.sha1,
                            "serial_number": cert.serial_number,
                        }
                    }
                ]
            }
        }
    )
    body = fetch(pki.service_urls[f"ocsp:{ca}"], request.dump(), "application/ocsp-request")
    return ocsp.OCSPResponse.load(body)


def forged_crl(pki: DemoPKI, revoked_label: str) -> crl.CertificateList:
    """A CRL in the name of ca-rsa listing ``revoked_label`` as revoked since 2026-01-01,
    signed by a key that is not ca-rsa's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issuer = cx509.load_der_x509_certificate(pki.cert("ca-rsa").dump()).subject
    entry = (
        cx509.RevokedCertificateBuilder()
        .serial_number(pki.cert(revoked_label).serial_number)
        .revocation_date(datetime(2026, 1, 1, tzinfo=UTC))
        .build()
    )
    built = (
        cx509.CertificateRevocationListBuilder()
        .issuer_name(issuer)
        .last_update(PINNED_NOW - timedelta(days=1))
        .next_update(PINNED_NOW + timedelta(days=7))
        .add_revoked_certificate(entry)
        .sign(key, hashes.SHA256())
    )
    return crl.CertificateList.load(built.public_bytes(serialization.Encoding.DER))


def add_xades(
    xml: bytes,
    *,
    tokens: Sequence[cms.ContentInfo] = (),
    certs: Sequence[x509.Certificate] = (),
    crls: Sequence[crl.CertificateList] = (),
    ocsps: Sequence[ocsp.OCSPResponse] = (),
    namespace: str = XADES_132,
    target: str | None = None,
    place: str = "own-object",
    c14n: str | None = None,
) -> bytes:
    """``xml`` with XAdES unsigned signature properties for its first signature.

    ``place``: ``own-object`` (a new ds:Object of the signature, as EN 319 132-1 wants),
    ``signature`` (directly under ds:Signature, in no Object) or ``document`` (a ds:Object
    outside the signature). ``target``: the Target attribute (default: the signature's Id).
    """
    root = etree.fromstring(xml)
    signature = root.find(f".//{{{DS}}}Signature")
    assert signature is not None
    if place == "own-object":
        holder = etree.SubElement(signature, f"{{{DS}}}Object")
    elif place == "signature":
        holder = signature
    else:
        holder = etree.SubElement(root, f"{{{DS}}}Object", nsmap={"ds": DS})

    def sub(parent: etree._Element, local: str, text: str | None = None) -> etree._Element:
        el = etree.SubElement(parent, f"{{{namespace}}}{local}")
        el.text = text
        return el

    qp = etree.SubElement(
        holder,
        f"{{{namespace}}}QualifyingProperties",
        nsmap={"xades": namespace},
        Target=target if target is not None else f"#{signature.get('Id')}",
    )
    props = sub(sub(qp, "UnsignedProperties"), "UnsignedSignatureProperties")
    for token in tokens:
        stamp = sub(props, "SignatureTimeStamp")
        if c14n is not None:
            etree.SubElement(stamp, f"{{{DS}}}CanonicalizationMethod", Algorithm=c14n)
        sub(stamp, "EncapsulatedTimeStamp", base64.b64encode(token.dump()).decode())
    if certs:
        values = sub(props, "CertificateValues")
        for cert in certs:
            sub(values, "EncapsulatedX509Certificate", base64.b64encode(cert.dump()).decode())
    if crls or ocsps:
        revocation = sub(props, "RevocationValues")
        if crls:
            group = sub(revocation, "CRLValues")
            for item in crls:
                sub(group, "EncapsulatedCRLValue", base64.b64encode(item.dump()).decode())
        if ocsps:
            group = sub(revocation, "OCSPValues")
            for response in ocsps:
                sub(group, "EncapsulatedOCSPValue", base64.b64encode(response.dump()).decode())
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def verdict(report: DocumentReport) -> tuple[Indication, SubIndication | None]:
    assert len(report.signatures) == 1
    sig = report.signatures[0]
    return sig.indication, sig.sub_indication


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def online(demo_pki: DemoPKI) -> Verifier:
    """Hard revocation checking, fetching from the loopback services."""
    return Verifier(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))


@pytest.fixture(scope="module")
def offline(demo_pki: DemoPKI) -> Verifier:
    """Hard revocation checking, nothing fetched: only what the signature carries counts."""
    policy = ValidationPolicy(validation_time=PINNED_NOW, network=False)
    return Verifier(demo_trust(demo_pki), policy)


@pytest.fixture(scope="module")
def expired_invoice(demo_pki: DemoPKI) -> bytes:
    return signed_invoice(demo_pki, "citizen-expired", EXPIRED_SIGNED_AT)


@pytest.fixture(scope="module")
def expired_stamped(demo_pki: DemoPKI, expired_invoice: bytes) -> bytes:
    """The expired signer's invoice with a timestamp from 2022, inside its validity."""
    token = timestamp_token(demo_pki, signature_value_c14n(expired_invoice), at=EXPIRED_SIGNED_AT)
    return add_xades(expired_invoice, tokens=[token])


# -- proof of existence -----------------------------------------------------------------------


@pytest.mark.parametrize("namespace", [XADES_132, XADES_141], ids=["1.3.2", "1.4.1"])
def test_expired_signer_with_timestamp_before_expiry_passes(
    demo_pki: DemoPKI, online: Verifier, expired_invoice: bytes, namespace: str
) -> None:
    """Past signature validation: the timestamp proves the signature existed in 2022, when
    the certificate was valid; the path is validated at that time and the signature passes
    though the certificate has expired since."""
    token = timestamp_token(demo_pki, signature_value_c14n(expired_invoice), at=EXPIRED_SIGNED_AT)
    report = online.verify(add_xades(expired_invoice, tokens=[token], namespace=namespace))
    sig = report.signatures[0]
    assert verdict(report) == PASSED, sig.message_en
    assert sig.signing_time_proven == EXPIRED_SIGNED_AT
    assert sig.validated_at == EXPIRED_SIGNED_AT
    assert [(t.kind, t.time, t.indication) for t in sig.timestamps] == [
        ("signature", EXPIRED_SIGNED_AT, Indication.TOTAL_PASSED)
    ]
    assert sig.timestamps[0].tsa == "Demo Public Time Stamping Authority"
    results = {c.id: c.status for c in sig.constraints}
    assert results["timestamp_tsa_purpose"] == "passed"
    assert results["timestamp_algorithms"] == "passed"


def test_expired_signer_without_timestamp_is_out_of_bounds(
    online: Verifier, expired_invoice: bytes
) -> None:
    """The same invoice without XAdES: nothing proves when it was signed, exactly as
    before (INDETERMINATE / OUT_OF_BOUNDS_NO_POE, no proven time, no timestamp)."""
    report = online.verify(expired_invoice)
    sig = report.signatures[0]
    assert verdict(report) == NO_POE
    assert sig.signing_time_proven is None
    assert sig.timestamps == ()
    assert sig.validated_at == PINNED_NOW


def test_timestamp_with_exclusive_canonicalisation(
    demo_pki: DemoPKI, online: Verifier, expired_invoice: bytes
) -> None:
    """A SignatureTimeStamp naming Exclusive C14N is over the SignatureValue canonicalised
    that way: it proves the time."""
    data = signature_value_c14n(expired_invoice, EXC_C14N)
    token = timestamp_token(demo_pki, data, at=EXPIRED_SIGNED_AT)
    report = online.verify(add_xades(expired_invoice, tokens=[token], c14n=EXC_C14N))
    assert verdict(report) == PASSED, report.signatures[0].message_en


def test_timestamp_after_expiry_gets_the_process_verdict(
    demo_pki: DemoPKI, online: Verifier, expired_invoice: bytes
) -> None:
    """A trusted timestamp from after the certificate expired proves no time when it was
    valid: the signature never passes, and its verdict is the one verify.process gives
    every format for a proof of existence after the expiry (out_of_bounds)."""
    token = live_token(demo_pki, signature_value_c14n(expired_invoice))
    report = online.verify(add_xades(expired_invoice, tokens=[token]))
    sig = report.signatures[0]
    rule = process.out_of_bounds([demo_pki.cert("citizen-expired")], PINNED_NOW, PINNED_NOW)
    assert rule is not None
    assert sig.sub_indication is rule.sub
    assert sig.indication is not Indication.TOTAL_PASSED
    assert sig.signing_time_proven == PINNED_NOW
    assert sig.timestamps[0].indication is Indication.TOTAL_PASSED


def test_timestamp_over_another_signature_value_proves_nothing(
    demo_pki: DemoPKI, online: Verifier, expired_invoice: bytes
) -> None:
    """A genuine token of the trusted TSA, but over another invoice's SignatureValue: its
    imprint does not match, it is not intact, and a warning names it."""
    other = signed_invoice(demo_pki, "citizen-expired", EXPIRED_SIGNED_AT + timedelta(hours=1))
    assert signature_value_c14n(other) != signature_value_c14n(expired_invoice)
    token = timestamp_token(demo_pki, signature_value_c14n(other), at=EXPIRED_SIGNED_AT)
    report = online.verify(add_xades(expired_invoice, tokens=[token]))
    sig = report.signatures[0]
    assert verdict(report) == NO_POE
    assert sig.signing_time_proven is None
    assert [(t.indication, t.sub_indication) for t in sig.timestamps] == [
        (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)
    ]
    assert any(
        "XAdES signature timestamp proves nothing: its imprint does not match" in w
        for w in sig.warnings
    ), sig.warnings


def test_sha1_timestamp_is_judged_by_the_dated_algorithm_rules(
    demo_pki: DemoPKI, expired_invoice: bytes
) -> None:
    """A token made in 2022 entirely with SHA-1 (imprint, digest, signature): SHA-1 is
    refused after 2019-01-01 by default, so it proves nothing (OUT_OF_BOUNDS_NO_POE); under
    rules accepting SHA-1 until 2023, the same token proves 2022 and the signature passes."""
    token = timestamp_token(
        demo_pki,
        signature_value_c14n(expired_invoice),
        at=EXPIRED_SIGNED_AT,
        md="sha1",
        service="public-tsa-sha1",
    )
    document = add_xades(expired_invoice, tokens=[token])
    default = Verifier(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    report = default.verify(document)
    sig = report.signatures[0]
    assert verdict(report) == NO_POE
    algorithms = next(c for c in sig.constraints if c.id == "timestamp_algorithms")
    assert algorithms.status == "failed"
    assert "SHA1" in algorithms.message_en
    lenient = ValidationPolicy(
        validation_time=PINNED_NOW,
        algorithms=AlgorithmRules(sha1_until=datetime(2023, 1, 1, tzinfo=UTC)),
    )
    report = Verifier(demo_trust(demo_pki), lenient).verify(document)
    assert verdict(report) == PASSED, report.signatures[0].message_en
    assert report.signatures[0].signing_time_proven == EXPIRED_SIGNED_AT


# -- revocation values ------------------------------------------------------------------------


def test_revoked_before_the_timestamp_with_carried_crl_offline_is_revoked(
    demo_pki: DemoPKI, offline: Verifier
) -> None:
    """Offline, only what the signature carries: ca-rsa's CRL in RevocationValues lists
    citizen-revoked since 2026-03-01, before the timestamp's 2026-06-01: TOTAL_FAILED /
    REVOKED, and the process names the carried CRL as the source."""
    invoice = signed_invoice(demo_pki, "citizen-revoked", BEFORE_REVOCATION)
    token = live_token(demo_pki, signature_value_c14n(invoice))
    report = offline.verify(add_xades(invoice, tokens=[token], crls=live_crls(demo_pki)))
    sig = report.signatures[0]
    assert verdict(report) == (Indication.TOTAL_FAILED, SubIndication.REVOKED), sig.message_en
    assert sig.signing_time_proven == PINNED_NOW
    revocation = next(c for c in sig.constraints if c.id == "revocation_at_signing_time")
    assert revocation.status == "failed"
    assert "CRL (XAdES)" in revocation.message_en


def test_revoked_before_the_timestamp_with_carried_ocsp_offline_is_revoked(
    demo_pki: DemoPKI, offline: Verifier
) -> None:
    """The same with ca-rsa's OCSP answer in OCSPValues (and the root's CRL for the CA
    and the TSA): TOTAL_FAILED / REVOKED per the carried OCSP response."""
    invoice = signed_invoice(demo_pki, "citizen-revoked", BEFORE_REVOCATION)
    token = live_token(demo_pki, signature_value_c14n(invoice))
    root_crl = live_crls(demo_pki)[1:]
    document = add_xades(
        invoice,
        tokens=[token],
        crls=root_crl,
        ocsps=[live_ocsp(demo_pki, "citizen-revoked")],
    )
    report = offline.verify(document)
    sig = report.signatures[0]
    assert verdict(report) == (Indication.TOTAL_FAILED, SubIndication.REVOKED), sig.message_en
    revocation = next(c for c in sig.constraints if c.id == "revocation_at_signing_time")
    assert "OCSP (XAdES)" in revocation.message_en


def test_revoked_after_the_proven_time_passes(demo_pki: DemoPKI, offline: Verifier) -> None:
    """A timestamp of 2026-02-01 proves the signature before the revocation of 2026-03-01
    that the carried CRL states: the path is validated at the proven time, it passes; the
    same document without the timestamp does not."""
    invoice = signed_invoice(demo_pki, "citizen-revoked", BEFORE_REVOCATION)
    token = timestamp_token(demo_pki, signature_value_c14n(invoice), at=BEFORE_REVOCATION)
    crls = live_crls(demo_pki)
    report = offline.verify(add_xades(invoice, tokens=[token], crls=crls))
    sig = report.signatures[0]
    assert verdict(report) == PASSED, sig.message_en
    assert sig.signing_time_proven == BEFORE_REVOCATION
    assert sig.revocation is not None
    assert sig.revocation.checked
    # the claimed SigningTime alone proves nothing: checked now, the certificate is revoked
    unproven = offline.verify(add_xades(invoice, crls=crls))
    assert verdict(unproven) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_forged_crl_never_revokes(demo_pki: DemoPKI, online: Verifier) -> None:
    """A CRL in ca-rsa's name listing the signer, signed by another key, carried in
    RevocationValues: never believed; the signature passes."""
    invoice = signed_invoice(demo_pki, "citizen", BEFORE_REVOCATION)
    token = live_token(demo_pki, signature_value_c14n(invoice))
    document = add_xades(invoice, tokens=[token], crls=[forged_crl(demo_pki, "citizen")])
    report = online.verify(document)
    sig = report.signatures[0]
    assert verdict(report) == PASSED, sig.message_en
    revocation = next(c for c in sig.constraints if c.id == "revocation_at_signing_time")
    assert revocation.status == "passed"


def test_carried_certificates_build_the_path_offline(demo_pki: DemoPKI, offline: Verifier) -> None:
    """CertificateValues carry the CA certificates and RevocationValues the CRLs: offline
    and with hard revocation checking, the signature passes on what it carries alone."""
    invoice = signed_invoice(demo_pki, "citizen", BEFORE_REVOCATION)
    token = live_token(demo_pki, signature_value_c14n(invoice))
    document = add_xades(
        invoice,
        tokens=[token],
        certs=[demo_pki.cert("ca-rsa"), demo_pki.cert("public-tsa")],
        crls=live_crls(demo_pki),
    )
    report = offline.verify(document)
    sig = report.signatures[0]
    assert verdict(report) == PASSED, sig.message_en
    assert sig.revocation is not None
    assert sig.revocation.sources == ("embedded",)
    assert offline.verify(invoice).signatures[0].indication is not Indication.TOTAL_PASSED


def test_archived_invoice_passes_offline_years_later(demo_pki: DemoPKI) -> None:
    """Validated offline in 2031, after the signer's certificate expired (2030) and long
    after the carried CRLs' next update: the TSA's path is validated at the token's own
    time with them, the token proves 2026-06-01, and the signer's path is validated then."""
    invoice = signed_invoice(demo_pki, "citizen", BEFORE_REVOCATION)
    token = live_token(demo_pki, signature_value_c14n(invoice))
    document = add_xades(invoice, tokens=[token], crls=live_crls(demo_pki))
    later = datetime(2031, 1, 1, tzinfo=UTC)
    policy = ValidationPolicy(validation_time=later, network=False)
    report = Verifier(demo_trust(demo_pki), policy).verify(document)
    sig = report.signatures[0]
    assert verdict(report) == PASSED, sig.message_en
    assert sig.signing_time_proven == PINNED_NOW
    assert verdict(Verifier(demo_trust(demo_pki), policy).verify(invoice)) == NO_POE


# -- whose properties -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "place", "warning"),
    [
        ("#NBan-another-signature", "own-object", "not this signature: ignored"),
        (None, "signature", "outside its own Object: ignored"),
        (None, "document", "outside its own Object: ignored"),
    ],
    ids=["targets-another-signature", "outside-any-object", "in-another-object"],
)
def test_qualifying_properties_not_of_this_signature_are_ignored(
    demo_pki: DemoPKI,
    online: Verifier,
    expired_invoice: bytes,
    target: str | None,
    place: str,
    warning: str,
) -> None:
    """A genuine, well-timed token in QualifyingProperties that target another signature,
    or that lie outside the signature's own ds:Object, is not this signature's: it is
    ignored with a warning, and the expired signer stays OUT_OF_BOUNDS_NO_POE."""
    token = timestamp_token(demo_pki, signature_value_c14n(expired_invoice), at=EXPIRED_SIGNED_AT)
    document = add_xades(expired_invoice, tokens=[token], target=target, place=place)
    check = inspect_xml(document).checks[0]
    assert check.signature_timestamps == ()
    report = online.verify(document)
    sig = report.signatures[0]
    assert verdict(report) == NO_POE
    assert sig.timestamps == ()
    assert any(warning in w for w in sig.warnings), sig.warnings


def test_what_the_reader_finds(demo_pki: DemoPKI, expired_invoice: bytes) -> None:
    """inspect_xml reads each kind of value into typed fields, with the bytes the token's
    imprint must be over (lxml's own C14N of the SignatureValue in the document)."""
    data = signature_value_c14n(expired_invoice)
    token = timestamp_token(demo_pki, data, at=EXPIRED_SIGNED_AT)
    crls = live_crls(demo_pki)
    response = live_ocsp(demo_pki, "citizen")
    document = add_xades(
        expired_invoice,
        tokens=[token],
        certs=[demo_pki.cert("ca-rsa")],
        crls=crls,
        ocsps=[response],
    )
    check = inspect_xml(document).checks[0]
    assert check.intact
    assert [(t.claimed_time, t.canonicalization) for t in check.signature_timestamps] == [
        (EXPIRED_SIGNED_AT, C14N)
    ]
    assert check.signature_timestamps[0].imprint_input == data
    assert [c.dump() for c in check.carried_certificates] == [demo_pki.cert("ca-rsa").dump()]
    assert [c.dump() for c in check.carried_crls] == [c.dump() for c in crls]
    assert [o.dump() for o in check.carried_ocsps] == [response.dump()]
    assert check.xades_warnings == ()


def test_malformed_values_are_named_and_set_aside(
    demo_pki: DemoPKI, online: Verifier, expired_stamped: bytes
) -> None:
    """Values that are not base64, not DER or not what they claim are each named in a
    warning and set aside; the good timestamp still proves its time."""
    root = etree.fromstring(expired_stamped)
    props = root.find(f".//{{{XADES_132}}}UnsignedSignatureProperties")
    assert props is not None
    bad = etree.SubElement(props, f"{{{XADES_132}}}SignatureTimeStamp")
    etree.SubElement(bad, f"{{{XADES_132}}}EncapsulatedTimeStamp").text = "not base64 !"
    values = etree.SubElement(props, f"{{{XADES_132}}}CertificateValues")
    etree.SubElement(values, f"{{{XADES_132}}}EncapsulatedX509Certificate").text = base64.b64encode(
        b"\x30\x03\x02\x01\x01"
    ).decode()
    revocation = etree.SubElement(props, f"{{{XADES_132}}}RevocationValues")
    group = etree.SubElement(revocation, f"{{{XADES_132}}}CRLValues")
    etree.SubElement(group, f"{{{XADES_132}}}EncapsulatedCRLValue").text = base64.b64encode(
        demo_pki.cert("ca-rsa").dump()
    ).decode()
    document = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    check = inspect_xml(document).checks[0]
    assert len(check.signature_timestamps) == 1
    assert {w.code for w in check.xades_warnings} == {
        "xades-base64",
        "xades-certificate",
        "xades-crl",
    }
    report = online.verify(document)
    assert verdict(report) == PASSED, report.signatures[0].message_en
    assert sum("set aside" in w for w in report.signatures[0].warnings) == 3


# -- the signature itself ---------------------------------------------------------------------


def test_xmlsec_still_verifies_the_signature_strictly(
    demo_pki: DemoPKI, expired_stamped: bytes
) -> None:
    """The unsigned properties sit outside everything signed: libxmlsec1 still verifies
    every reference and the signature value, under the specification's reading."""
    document = add_xades(expired_stamped, crls=live_crls(demo_pki), certs=[demo_pki.cert("ca-rsa")])
    root = etree.fromstring(document)
    xmlsec.tree.add_ids(root, ["Id"])
    signature = root.find(f".//{{{DS}}}Signature")
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(
        demo_pki.cert("citizen-expired").dump(), xmlsec.constants.KeyDataFormatCertDer
    )
    ctx.verify(signature)  # raises xmlsec.Error unless everything verifies
    assert inspect_xml(document).checks[0].reading == "strict"


# -- hostile unsigned properties --------------------------------------------------------------


@pytest.fixture(scope="module")
def failing_documents(demo_pki: DemoPKI, expired_invoice: bytes) -> list[bytes]:
    """Expired-signer invoices that fail with what they carry: a trusted timestamp from
    after the expiry (EXPIRED), and one over another SignatureValue (no proof); both carry
    certificates and CRLs to mutate."""
    late = timestamp_token(
        demo_pki, signature_value_c14n(expired_invoice), at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    wrong = timestamp_token(demo_pki, b"<SignatureValue/>", at=EXPIRED_SIGNED_AT)
    certs, crls = [demo_pki.cert("ca-rsa")], live_crls(demo_pki)
    return [
        add_xades(expired_invoice, tokens=[late], certs=certs, crls=crls),
        add_xades(expired_invoice, tokens=[wrong, late], certs=certs, crls=crls),
    ]


@pytest.fixture(scope="module")
def offline_soft(demo_pki: DemoPKI) -> Verifier:
    policy = ValidationPolicy(
        validation_time=PINNED_NOW, network=False, revocation=RevocationMode.SOFT
    )
    return Verifier(demo_trust(demo_pki), policy)


_MUTATIONS = ("flip", "truncate", "text", "drop", "duplicate", "target", "algorithm", "encoding")
_VALUES = (
    "",
    "#",
    "#NBan-DLHDon-0042",
    "#x",
    C14N,
    EXC_C14N,
    "urn:bogus",
    "http://uri.etsi.org/01903/v1.2.2#DER",
)
_TEXT = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"),
    max_size=40,
)
# (which element, what, where, a base64 character, a text, an attribute value): drawn
# whole before anything is applied, so that what is drawn never depends on the document
_MUTATION = st.tuples(
    st.integers(0, 10_000),
    st.sampled_from(_MUTATIONS),
    st.integers(0, 1_000_000),
    st.sampled_from("AQgw/+=_ \n"),
    _TEXT,
    st.sampled_from(_VALUES),
)


def _mutate(root: etree._Element, mutation: tuple[int, str, int, str, str, str]) -> None:
    which, kind, where, char, text, value = mutation
    qp = root.find(f".//{{{XADES_132}}}QualifyingProperties")
    if qp is None:
        return
    nodes = [el for el in qp.iter() if isinstance(el.tag, str)]
    node = nodes[which % len(nodes)]
    parent = node.getparent()
    if kind == "flip" and node.text:
        i = where % len(node.text)
        node.text = node.text[:i] + char + node.text[i + 1 :]
    elif kind == "truncate" and node.text:
        node.text = node.text[: where % len(node.text)]
    elif kind == "text":
        node.text = text
    elif kind == "drop" and node is not qp and parent is not None:
        parent.remove(node)
    elif kind == "duplicate" and node is not qp and parent is not None:
        parent.insert(where % (len(parent) + 1), etree.fromstring(etree.tostring(node)))
    elif kind == "target":
        qp.set("Target", value)
    elif kind == "algorithm":
        stamp = root.find(f".//{{{XADES_132}}}SignatureTimeStamp")
        if stamp is not None:
            method = etree.Element(f"{{{DS}}}CanonicalizationMethod", Algorithm=value)
            stamp.insert(0, method)
    elif kind == "encoding":
        node.set("Encoding", value)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(which=st.integers(0, 1), mutations=st.lists(_MUTATION, min_size=1, max_size=3))
def test_mutated_unsigned_properties_never_raise_nor_pass(
    which: int,
    mutations: list[tuple[int, str, int, str, str, str]],
    failing_documents: list[bytes],
    offline_soft: Verifier,
) -> None:
    """Random changes to the unsigned properties (bytes flipped, values cut, elements
    dropped or doubled, another Target, odd canonicalisation or encoding) never raise and
    never turn a failing signature into a pass: nothing unsigned can prove an earlier
    time than a genuine token does."""
    root = etree.fromstring(failing_documents[which])
    for mutation in mutations:
        _mutate(root, mutation)
    document = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    inspect_xml(document)  # never raises on what is unsigned
    report = offline_soft.verify(document)
    assert len(report.signatures) == 1
    assert report.signatures[0].indication is not Indication.TOTAL_PASSED, report.to_dict()


# -- an ASiC-S container's timestamp over the whole invoice -----------------------------------


def _asic_s(name: str, data: bytes, token: cms.ContentInfo | None) -> bytes:
    """An ASiC-S container (EN 319 162-1): mimetype first and stored, the invoice, and the
    time assertion over it in META-INF/timestamp.tst."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.etsi.asic-s+zip", zipfile.ZIP_STORED
        )
        z.writestr(name, data, zipfile.ZIP_DEFLATED)
        if token is not None:
            z.writestr("META-INF/timestamp.tst", token.dump(), zipfile.ZIP_DEFLATED)
    return out.getvalue()


@pytest.mark.parametrize(
    ("token_at", "expected"),
    [
        (EXPIRED_SIGNED_AT, PASSED),  # while the certificate was valid: proof of existence
        (None, (Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE)),
    ],
)
def test_asic_s_timestamp_gives_the_invoice_inside_its_proof_of_existence(
    demo_pki: DemoPKI,
    online: Verifier,
    expired_invoice: bytes,
    token_at: datetime | None,
    expected: tuple[Indication, SubIndication | None],
) -> None:
    """An e-invoice whose seller's certificate has expired, kept in an ASiC-S with a
    timestamp over the whole file from when the certificate was valid: the invoice's own
    XML signature is verified inside the container and passes, proven at the token's time;
    without the token it is INDETERMINATE / OUT_OF_BOUNDS_NO_POE as it is alone."""
    token = (
        timestamp_token(demo_pki, expired_invoice, at=token_at) if token_at is not None else None
    )
    report = online.verify(_asic_s("hoa-don.xml", expired_invoice, token))
    assert report.format == "asic"
    [xml_sig] = [s for s in report.signatures if s.kind == "xml"]
    assert verdict_of(xml_sig) == expected, xml_sig.message_en
    assert xml_sig.field_name is not None
    assert xml_sig.field_name.startswith("hoa-don.xml#")
    if token_at is not None:
        assert xml_sig.signing_time_proven == token_at
        assert report.indication is Indication.TOTAL_PASSED, report.message_en


def test_asic_s_timestamp_over_other_data_proves_nothing_for_the_invoice(
    demo_pki: DemoPKI, online: Verifier, expired_invoice: bytes
) -> None:
    """A time assertion whose imprint is over other bytes is not a proof for the invoice:
    the token fails as HASH_FAILURE and the invoice's signature stays OUT_OF_BOUNDS_NO_POE."""
    token = timestamp_token(demo_pki, b"some other file", at=EXPIRED_SIGNED_AT)
    report = online.verify(_asic_s("hoa-don.xml", expired_invoice, token))
    [xml_sig] = [s for s in report.signatures if s.kind == "xml"]
    assert verdict_of(xml_sig) == (Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE)
    [ts] = [s for s in report.signatures if s.kind == "document_timestamp"]
    assert ts.sub_indication is SubIndication.HASH_FAILURE


def verdict_of(sig: SignatureReport) -> tuple[Indication, SubIndication | None]:
    return sig.indication, sig.sub_indication
