"""XAdES archive timestamps (``ArchiveTimeStamp``, ETSI EN 319 132-1 §5.5.2) as proof.

Two kinds of documents:

- EU DSS's own XAdES-LTA containers (tests/data/dss-xades-lta, see its SOURCE.txt): each
  archive timestamp's imprint matches, or does not, exactly where DSS's test says so;
- e-invoices built here for the demo PKI: signed in 2022 by ``citizen-expired`` (valid
  2020-01-01 .. 2023-01-01), a signature timestamp of 2022 by ``public-tsa-2027`` (its
  certificate expires 2027-06-01), the demo CAs' certificates and CRLs, then archive
  timestamps whose input is computed here independently of the library (lxml's own
  exclusive C14N of each part, the references' octets checked against their
  DigestValue). They are validated offline on 2028-01-01, after both the signer's and the
  first TSA's certificates expired: only the archive timestamps keep the proof.

Time is pinned; the services answer on loopback only.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from fixtures.attacks import timestamp_token
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.verify.test_xades import (
    _MUTATION,
    EXPIRED_SIGNED_AT,
    PASSED,
    _mutate,
    add_xades,
    demo_trust,
    live_crls,
    signature_value_c14n,
    signed_invoice,
    verdict,
)
from verify import (
    DocumentReport,
    Indication,
    SubIndication,
    TrustProfile,
    ValidationPolicy,
    Verifier,
)
from verify.xades import XADES_132, XADES_141, imprint_matches
from verify.xmldsig import inspect_xml

DS = "http://www.w3.org/2000/09/xmldsig#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
DSS_DATA = Path(__file__).resolve().parents[1] / "data" / "dss-xades-lta"

LATER = datetime(2028, 1, 1, tzinfo=UTC)
"""After citizen-expired (2023-01-01) and public-tsa-2027 (2027-06-01) expired."""
FIRST_ARCHIVE_AT = datetime(2024, 1, 1, tzinfo=UTC)


# -- building the documents -------------------------------------------------------------------


def _c14n(el: etree._Element, algorithm: str) -> bytes:
    """``el`` canonicalised by lxml, from its own serialisation (which carries the
    namespaces in scope; canonicalised in place, lxml may add a spurious ``xmlns=""``)."""
    copy = etree.fromstring(etree.tostring(el, with_tail=False))
    out: bytes = etree.tostring(
        copy, method="c14n", exclusive=algorithm == EXC_C14N, with_comments=False
    )
    return out


def _signature(root: etree._Element) -> etree._Element:
    sig = root.find(f".//{{{DS}}}Signature")
    assert sig is not None
    return sig


def archive_input(root: etree._Element, stamp: etree._Element, algorithm: str) -> bytes:
    """What an ArchiveTimeStamp's token must be over, computed here from the standard
    (EN 319 132-1 §5.5.2; 1.3.2: referenced Objects left out), each reference's octets
    checked against its DigestValue first."""
    sig = _signature(root)
    ids = {el.get("Id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("Id")}
    parts: list[bytes] = []
    referenced: set[str] = set()
    for ref in sig.iterfind(f"{{{DS}}}SignedInfo/{{{DS}}}Reference"):
        uri = ref.get("URI") or ""
        referenced.add(uri[1:])
        target = ids[uri[1:]]
        assert target.find(f".//{{{DS}}}Signature") is None  # nothing to remove
        digest = base64.b64decode(ref.findtext(f"{{{DS}}}DigestValue") or "")
        assert hashlib.sha256(_c14n(target, C14N)).digest() == digest
        parts.append(_c14n(target, algorithm))  # a node-set: the timestamp's method
    for local in ("SignedInfo", "SignatureValue", "KeyInfo"):
        el = sig.find(f"{{{DS}}}{local}")
        assert el is not None
        parts.append(_c14n(el, algorithm))
    parts.extend(_c14n(el, algorithm) for el in reversed(list(stamp.itersiblings(preceding=True))))
    v132 = stamp.tag == f"{{{XADES_132}}}ArchiveTimeStamp"
    for obj in sig.iterfind(f"{{{DS}}}Object"):
        if obj.find(f"{{{XADES_132}}}QualifyingProperties") is not None:
            continue
        if v132 and obj.get("Id") in referenced:
            continue
        parts.append(_c14n(obj, algorithm))
    return b"".join(parts)


def add_archive_timestamp(
    pki: DemoPKI,
    xml: bytes,
    *,
    at: datetime,
    service: str = "public-tsa",
    namespace: str = XADES_141,
    algorithm: str = EXC_C14N,
) -> bytes:
    """``xml`` with one more ArchiveTimeStamp, last of its unsigned signature properties,
    by the demo TSA ``service`` at ``at``."""
    root = etree.fromstring(xml)
    props = root.find(f".//{{{XADES_132}}}UnsignedSignatureProperties")
    assert props is not None
    stamp = etree.SubElement(
        props,
        f"{{{namespace}}}ArchiveTimeStamp",
        nsmap={"xadesv141": XADES_141} if namespace == XADES_141 else None,
    )
    etree.SubElement(stamp, f"{{{DS}}}CanonicalizationMethod", Algorithm=algorithm)
    token = timestamp_token(pki, archive_input(root, stamp, algorithm), at=at, service=service)
    encapsulated = etree.SubElement(stamp, f"{{{namespace}}}EncapsulatedTimeStamp")
    encapsulated.text = base64.b64encode(token.dump()).decode()
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


@pytest.fixture(scope="module")
def stamped_2022(demo_pki: DemoPKI) -> bytes:
    """The expired signer's invoice, a signature timestamp of 2022 by public-tsa-2027, and
    the demo CAs' certificates and CRLs (what a XAdES-B-LT carries)."""
    invoice = signed_invoice(demo_pki, "citizen-expired", EXPIRED_SIGNED_AT)
    token = timestamp_token(
        demo_pki, signature_value_c14n(invoice), at=EXPIRED_SIGNED_AT, service="public-tsa-2027"
    )
    return add_xades(
        invoice,
        tokens=[token],
        certs=[demo_pki.cert("ca-rsa"), demo_pki.cert("public-tsa")],
        crls=live_crls(demo_pki),
    )


@pytest.fixture(scope="module")
def lta(demo_pki: DemoPKI, stamped_2022: bytes) -> bytes:
    """A XAdES-B-LTA: an archive timestamp by public-tsa-2027 in 2024, then one by
    public-tsa on 2026-06-01 over it."""
    once = add_archive_timestamp(
        demo_pki, stamped_2022, at=FIRST_ARCHIVE_AT, service="public-tsa-2027"
    )
    return add_archive_timestamp(demo_pki, once, at=PINNED_NOW)


def unproven(report: DocumentReport) -> None:
    """The signature is INDETERMINATE and nothing proves when it existed: in 2028 its
    signer's certificate has expired and its carried CRLs are stale (the process says
    TRY_LATER or OUT_OF_BOUNDS_NO_POE), so only a proof of existence could pass it."""
    (sig,) = report.signatures
    assert sig.indication is Indication.INDETERMINATE, sig.message_en
    assert sig.sub_indication in (SubIndication.TRY_LATER, SubIndication.OUT_OF_BOUNDS_NO_POE)
    assert sig.signing_time_proven is None


@pytest.fixture(scope="module")
def later(demo_pki: DemoPKI) -> Verifier:
    """Offline on 2028-01-01, hard revocation checking: only what the document carries."""
    return Verifier(demo_trust(demo_pki), ValidationPolicy(validation_time=LATER, network=False))


# -- the demo XAdES-LTA -----------------------------------------------------------------------


@pytest.mark.parametrize("namespace", [XADES_141, XADES_132], ids=["1.4.1", "1.3.2"])
def test_archive_timestamp_proves_an_expired_signature_timestamp(
    demo_pki: DemoPKI, stamped_2022: bytes, later: Verifier, namespace: str
) -> None:
    """In 2028 the signer's and the first TSA's certificates have expired: an archive
    timestamp of 2026 (made while the first TSA's certificate was valid) keeps the 2022
    signature timestamp's proof, and the signature passes as proven in 2022 (both the
    1.4.1 and the 1.3.2 form)."""
    document = add_archive_timestamp(demo_pki, stamped_2022, at=PINNED_NOW, namespace=namespace)
    report = later.verify(document)
    sig = report.signatures[0]
    assert verdict(report) == PASSED, sig.message_en
    assert sig.signing_time_proven == EXPIRED_SIGNED_AT
    assert sig.level == "XAdES-B-LTA"
    assert [(t.kind, t.time, t.indication) for t in sig.timestamps] == [
        ("signature", EXPIRED_SIGNED_AT, Indication.TOTAL_PASSED),
        ("archive", PINNED_NOW, Indication.TOTAL_PASSED),
    ]


def test_without_the_archive_timestamp_it_is_indeterminate(
    stamped_2022: bytes, later: Verifier
) -> None:
    """The same signature without an archive timestamp: its signature timestamp's TSA
    certificate has expired and nothing proves the token in time, so nothing proves the
    signature existed while its signer's certificate was valid."""
    report = later.verify(stamped_2022)
    unproven(report)
    sig = report.signatures[0]
    assert sig.level == "XMLDSig"
    assert [(t.kind, t.indication) for t in sig.timestamps] == [
        ("signature", Indication.INDETERMINATE)
    ]


def test_a_renewed_archive_chain_is_judged_newest_first(
    lta: bytes, later: Verifier, validate_report: Callable[[dict[str, Any]], None]
) -> None:
    """Two archive timestamps: the 2024 one's TSA certificate has expired too, but the 2026
    one covers it and was made while it was valid; judged newest first, both are accepted
    and the 2022 signature timestamp with them (the report fits its schema)."""
    report = later.verify(lta)
    validate_report(report.to_dict())
    sig = report.signatures[0]
    assert verdict(report) == PASSED, sig.message_en
    assert sig.signing_time_proven == EXPIRED_SIGNED_AT
    assert [(t.kind, t.time, t.indication) for t in sig.timestamps] == [
        ("signature", EXPIRED_SIGNED_AT, Indication.TOTAL_PASSED),
        ("archive", FIRST_ARCHIVE_AT, Indication.TOTAL_PASSED),
        ("archive", PINNED_NOW, Indication.TOTAL_PASSED),
    ]


def test_a_lapsed_archive_chain_proves_nothing(
    demo_pki: DemoPKI, stamped_2022: bytes, later: Verifier
) -> None:
    """Only the 2024 archive timestamp, by the TSA whose certificate expired in 2027: in
    2028 nothing later covers it, so neither it nor the signature timestamp proves
    anything."""
    document = add_archive_timestamp(
        demo_pki, stamped_2022, at=FIRST_ARCHIVE_AT, service="public-tsa-2027"
    )
    unproven(later.verify(document))


def test_the_reader_computes_the_standard_input(lta: bytes) -> None:
    """inspect_xml finds both archive timestamps, in document order, each with the input
    computed here from the standard, and no warning."""
    root = etree.fromstring(lta)
    stamps = list(root.iter(f"{{{XADES_141}}}ArchiveTimeStamp"))
    check = inspect_xml(lta).checks[0]
    assert [t.kind for t in check.archive_timestamps] == ["archive", "archive"]
    assert [t.claimed_time for t in check.archive_timestamps] == [FIRST_ARCHIVE_AT, PINNED_NOW]
    assert [t.imprint_input for t in check.archive_timestamps] == [
        archive_input(root, stamp, EXC_C14N) for stamp in stamps
    ]
    assert all(imprint_matches(t) for t in check.archive_timestamps)
    assert check.xades_warnings == ()


# -- tampering --------------------------------------------------------------------------------

_COVERED = (
    "DLHDon",
    f"{{{DS}}}SignedInfo",
    f"{{{DS}}}SignatureValue",
    f"{{{DS}}}KeyInfo",
    f"{{{DS}}}Object",
    f"{{{XADES_132}}}SignatureTimeStamp",
    f"{{{XADES_132}}}CertificateValues",
    f"{{{XADES_132}}}RevocationValues",
    f"{{{XADES_141}}}ArchiveTimeStamp",
)
"""What the newest archive timestamp covers (the first ArchiveTimeStamp is the older)."""


def _covered_nodes(root: etree._Element, name: str) -> list[etree._Element]:
    """The elements under the part ``name`` whose text can be changed (for an
    ArchiveTimeStamp: the older one only; for ds:Object: the signed one, not XAdES's)."""
    found = [el for el in root.iter(name)]
    if name.endswith("}Object"):
        found = [el for el in found if el.find(f"{{{XADES_132}}}QualifyingProperties") is None]
    if name.endswith("}ArchiveTimeStamp"):
        found = found[:1]
    assert found, name
    return [el for part in found for el in part.iter() if isinstance(el.tag, str)]


def _changed(lta: bytes, part: str, which: int, where: int, char: str) -> bytes:
    root = etree.fromstring(lta)
    nodes = _covered_nodes(root, part)
    node = nodes[which % len(nodes)]
    text = node.text or ""
    i = where % (len(text) + 1)
    old = text[i : i + 1]
    new = char if char != old else ("B" if char != "B" else "C")
    node.text = text[:i] + new + text[i + 1 :]
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


_SIGNED = ("DLHDon", f"{{{DS}}}SignedInfo", f"{{{DS}}}SignatureValue", f"{{{DS}}}Object")


@pytest.mark.parametrize("part", _COVERED)
def test_a_changed_byte_the_archive_timestamp_covers_fails(
    lta: bytes, later: Verifier, part: str
) -> None:
    """One character changed in a part the newest archive timestamp covers: a signed part
    fails the signature itself (TOTAL_FAILED); an unsigned one breaks the archive
    timestamps' imprint and the proof with it (INDETERMINATE, nothing proven)."""
    report = later.verify(_changed(lta, part, 0, 3, "A"))
    sig = report.signatures[0]
    if part in _SIGNED:
        assert sig.indication is Indication.TOTAL_FAILED, sig.message_en
    else:
        unproven(report)


def test_a_broken_imprint_is_named_in_both_languages(lta: bytes, later: Verifier) -> None:
    """A changed CRL under the archive timestamps: each token's report line is HASH_FAILURE
    naming it, a warning says which token does not match, in Vietnamese and English, and
    the signature is judged without them (INDETERMINATE, as nothing else proves 2022)."""
    report = later.verify(_changed(lta, f"{{{XADES_132}}}RevocationValues", 2, 10, "A"))
    unproven(report)
    sig = report.signatures[0]
    archive = [t for t in sig.timestamps if t.kind == "archive"]
    assert [t.sub_indication for t in archive] == [SubIndication.HASH_FAILURE] * 2
    assert [t.message_en for t in archive] == [
        "XAdES archive timestamp 1: message imprint does not match",
        "XAdES archive timestamp 2: message imprint does not match",
    ]
    (warning,) = [w for w in sig.warnings if "XAdES archive timestamp 2 (" in w]
    assert "its message imprint does not match" in warning
    assert "dấu thời gian lưu trữ XAdES" in warning
    assert "không khớp" in warning


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    part=st.sampled_from(_COVERED),
    which=st.integers(0, 10_000),
    where=st.integers(0, 100_000),
    char=st.sampled_from("A0+/= \nxé<&"),
)
def test_tampering_under_the_archive_timestamp_never_passes(
    lta: bytes, later: Verifier, part: str, which: int, where: int, char: str
) -> None:
    """Any character of any text the newest archive timestamp covers, changed: the report
    never passes, and reading never raises."""
    report = later.verify(_changed(lta, part, which, where, char))
    assert report.indication is not Indication.TOTAL_PASSED


# -- EU DSS's XAdES-LTA files -----------------------------------------------------------------

# file: [(signature file, [each ArchiveTimeStamp's imprint intact], signature intact)],
# as DSS's tests assert them (see SOURCE.txt)
DSS_FACTS: dict[str, list[tuple[str, list[bool], bool]]] = {
    "asic-xades-lta-signed-manifest.sce": [("META-INF/signatures001.xml", [True], True)],
    "asic-xades-signed-signature.sce": [
        ("META-INF/signatures001.xml", [], True),
        ("META-INF/signatures002.xml", [True], True),
    ],
    "asic-xades-revoc-for-expired-trust-anchor.asics": [("META-INF/signatures.xml", [True], True)],
    "xades-lta-with-er-hashtree.sce": [("META-INF/signatures.xml", [True], True)],
    "removed-doc.asics": [("META-INF/signatures.xml", [False], False)],
}


@pytest.fixture(scope="module")
def dss_offline() -> Verifier:
    """DSS's test PKIs are not trusted here; nothing is fetched."""
    return Verifier(
        TrustProfile.custom([], hierarchy="public"),
        ValidationPolicy(validation_time=PINNED_NOW, network=False, revocation="soft"),
    )


def _signature_files(data: bytes) -> tuple[dict[str, bytes], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        entries = {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}
    signatures = {n: d for n, d in entries.items() if n.startswith("META-INF/signature")}
    return signatures, entries


@pytest.mark.parametrize("name", sorted(DSS_FACTS))
def test_dss_archive_timestamps_match_where_dss_says(name: str) -> None:
    """Each ArchiveTimeStamp's imprint over the container's files, the signature and its
    earlier properties matches exactly where DSS's test asserts it intact (and its
    signature timestamps match too)."""
    signatures, entries = _signature_files((DSS_DATA / name).read_bytes())
    for entry, archive, intact in DSS_FACTS[name]:
        (check,) = inspect_xml(signatures[entry], detached=entries).checks
        assert [imprint_matches(t) for t in check.archive_timestamps] == archive, entry
        assert all(imprint_matches(t) for t in check.signature_timestamps), entry
        assert (check.references_ok and check.signature_ok) is intact, entry


@pytest.mark.parametrize("name", sorted(DSS_FACTS))
def test_dss_xades_lta_files_report_as_dss_says(
    name: str, dss_offline: Verifier, validate_report: Callable[[dict[str, Any]], None]
) -> None:
    """The report: an intact XAdES-LTA signature is XAdES-B-LTA with each archive timestamp
    shown (not accepted here only because DSS's TSA is not trusted, never HASH_FAILURE);
    the one whose file was changed fails with HASH_FAILURE, as in DSS."""
    report = dss_offline.verify(DSS_DATA / name)
    validate_report(report.to_dict())
    for sig, (_entry, archive, intact) in zip(report.signatures, DSS_FACTS[name], strict=True):
        assert sig.integrity is intact
        if not intact:
            assert sig.sub_indication is SubIndication.HASH_FAILURE
            continue
        assert sig.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
        assert sig.level == ("XAdES-B-LTA" if archive else "XAdES-B-B")
        shown = [t.sub_indication for t in sig.timestamps if t.kind == "archive"]
        assert len(shown) == len(archive)
        assert SubIndication.HASH_FAILURE not in shown
        assert not [w for w in sig.warnings if "ArchiveTimeStamp" in w]


def test_dss_copied_archive_timestamp_fails_its_imprint(dss_offline: Verifier) -> None:
    """DSS's XAdESLevelLTAWithCopiedATSTTest, on its container files: another signature's
    ArchiveTimeStamp pasted into this one. Its token and signature hold, its imprint does
    not (HASH_FAILURE, named in both languages); the signature and its signature timestamp
    stay as they were (DSS: B and T levels valid, the A level not)."""
    donor_sigs, _ = _signature_files((DSS_DATA / "asic-xades-signed-signature.sce").read_bytes())
    donor = etree.fromstring(donor_sigs["META-INF/signatures002.xml"])
    copied = next(donor.iter(f"{{{XADES_141}}}ArchiveTimeStamp"))
    data = (DSS_DATA / "asic-xades-lta-signed-manifest.sce").read_bytes()
    sigs, _ = _signature_files(data)
    root = etree.fromstring(sigs["META-INF/signatures001.xml"])
    own = next(root.iter(f"{{{XADES_141}}}ArchiveTimeStamp"))
    own.getparent().replace(own, copied)
    changed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as z, zipfile.ZipFile(changed, "w") as out:
        for info in z.infolist():
            body = z.read(info)
            if info.filename == "META-INF/signatures001.xml":
                body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
            out.writestr(info, body)
    original: DocumentReport = dss_offline.verify(data)
    report = dss_offline.verify(changed.getvalue())
    (sig,) = report.signatures
    assert sig.integrity is True
    assert sig.sub_indication is original.signatures[0].sub_indication
    kinds = [(t.kind, t.sub_indication) for t in sig.timestamps]
    assert kinds == [
        ("signature", SubIndication.NO_CERTIFICATE_CHAIN_FOUND),
        ("archive", SubIndication.HASH_FAILURE),
    ]
    (warning,) = [w for w in sig.warnings if "message imprint does not match" in w]
    assert "XAdES archive timestamp" in warning
    assert "dấu thời gian lưu trữ XAdES" in warning


# -- what is not validated, and hostile archive timestamps ------------------------------------

XADES_EN = "http://uri.etsi.org/19132/v1.1.1#"


def test_properties_still_not_validated_are_named_in_both_languages(
    stamped_2022: bytes, later: Verifier
) -> None:
    """RefsOnlyTimeStampV2, SigAndRefsTimeStamp and an evidence record are not validated:
    one warning names them, in English and Vietnamese, and they prove nothing."""
    root = etree.fromstring(stamped_2022)
    props = root.find(f".//{{{XADES_132}}}UnsignedSignatureProperties")
    assert props is not None
    etree.SubElement(props, f"{{{XADES_141}}}RefsOnlyTimeStampV2")
    etree.SubElement(props, f"{{{XADES_132}}}SigAndRefsTimeStamp")
    etree.SubElement(props, f"{{{XADES_EN}}}SealingEvidenceRecords")
    report = later.verify(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    unproven(report)
    (warning,) = [w for w in report.signatures[0].warnings if "not validated" in w]
    for name in ("RefsOnlyTimeStampV2", "SigAndRefsTimeStamp", "SealingEvidenceRecords"):
        assert f"1 × {name}" in warning
    assert "không được kiểm tra" in warning


_ENC = "xadesv141:EncapsulatedTimeStamp"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (f"<{_ENC}>not base64!</{_ENC}>", "not base64"),
        (f"<{_ENC}>MAA=</{_ENC}>", "not an RFC 3161"),
        ("", "holds no EncapsulatedTimeStamp"),
        (
            f'<ds:CanonicalizationMethod xmlns:ds="{DS}" Algorithm="urn:bogus"/>'
            f"<{_ENC}>MAA=</{_ENC}>",
            "not supported",
        ),
    ],
    ids=["base64", "not-a-token", "empty", "canonicalisation"],
)
def test_hostile_archive_timestamps_are_set_aside(
    lta: bytes, later: Verifier, content: str, why: str
) -> None:
    """An ArchiveTimeStamp that cannot be read, added after the genuine ones, is set aside
    with a warning saying why (in both languages) and takes nothing away: the genuine
    chain still proves 2022."""
    root = etree.fromstring(lta)
    props = root.find(f".//{{{XADES_132}}}UnsignedSignatureProperties")
    assert props is not None
    props.append(
        etree.fromstring(
            f'<xadesv141:ArchiveTimeStamp xmlns:xadesv141="{XADES_141}">{content}'
            "</xadesv141:ArchiveTimeStamp>"
        )
    )
    report = later.verify(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    sig = report.signatures[0]
    assert verdict(report) == PASSED, sig.message_en
    assert sig.signing_time_proven == EXPIRED_SIGNED_AT
    (warning,) = [w for w in sig.warnings if "XAdES archive timestamp 3" in w]
    assert why in warning


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutations=st.lists(_MUTATION, min_size=1, max_size=3))
def test_mutated_archive_chain_never_raises_nor_proves_more(
    mutations: list[tuple[int, str, int, str, str, str]], lta: bytes, later: Verifier
) -> None:
    """Random changes to the unsigned properties of the XAdES-LTA (bytes flipped, values
    cut, elements dropped or doubled, another Target, odd canonicalisation or encoding)
    never raise; whenever the signature still passes, it is through the genuine chain
    (proven in 2022, never at another time)."""
    root = etree.fromstring(lta)
    for mutation in mutations:
        _mutate(root, mutation)
    report = later.verify(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    (sig,) = report.signatures
    if sig.indication is Indication.TOTAL_PASSED:
        assert sig.signing_time_proven == EXPIRED_SIGNED_AT
    else:
        assert sig.message_en
        assert sig.message_vi


def test_timestamp_validation_data_is_used(demo_pki: DemoPKI, later: Verifier) -> None:
    """The CA certificate and the CRLs only in a xadesv141:TimeStampValidationData (before
    the archive timestamp, which covers it): offline in 2028 the signature passes on them;
    without that element nothing builds or checks the paths and it does not."""
    invoice = signed_invoice(demo_pki, "citizen-expired", EXPIRED_SIGNED_AT)
    token = timestamp_token(
        demo_pki, signature_value_c14n(invoice), at=EXPIRED_SIGNED_AT, service="public-tsa-2027"
    )
    bare = add_xades(invoice, tokens=[token])
    root = etree.fromstring(bare)
    props = root.find(f".//{{{XADES_132}}}UnsignedSignatureProperties")
    assert props is not None
    data = etree.SubElement(props, f"{{{XADES_141}}}TimeStampValidationData")
    certs = etree.SubElement(data, f"{{{XADES_132}}}CertificateValues")
    cert = etree.SubElement(certs, f"{{{XADES_132}}}EncapsulatedX509Certificate")
    cert.text = base64.b64encode(demo_pki.cert("ca-rsa").dump()).decode()
    revocation = etree.SubElement(data, f"{{{XADES_132}}}RevocationValues")
    crls = etree.SubElement(revocation, f"{{{XADES_132}}}CRLValues")
    for item in live_crls(demo_pki):
        value = etree.SubElement(crls, f"{{{XADES_132}}}EncapsulatedCRLValue")
        value.text = base64.b64encode(item.dump()).decode()
    with_data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    report = later.verify(add_archive_timestamp(demo_pki, with_data, at=PINNED_NOW))
    sig = report.signatures[0]
    assert verdict(report) == PASSED, sig.message_en
    assert sig.signing_time_proven == EXPIRED_SIGNED_AT
    unproven(later.verify(add_archive_timestamp(demo_pki, bare, at=PINNED_NOW)))


def test_a_timestamp_after_the_archive_timestamp_is_not_covered_by_it(
    demo_pki: DemoPKI, later: Verifier
) -> None:
    """A 2022 signature timestamp placed after the 2026 archive timestamp is not in its
    input: when its TSA certificate has expired (2028) the archive timestamp does not keep
    its proof, and the 2026 proof alone comes after the signer's certificate expired."""
    invoice = signed_invoice(demo_pki, "citizen-expired", EXPIRED_SIGNED_AT)
    values = add_xades(
        invoice,
        certs=[demo_pki.cert("ca-rsa"), demo_pki.cert("public-tsa")],
        crls=live_crls(demo_pki),
    )
    root = etree.fromstring(add_archive_timestamp(demo_pki, values, at=PINNED_NOW))
    props = root.find(f".//{{{XADES_132}}}UnsignedSignatureProperties")
    assert props is not None
    token = timestamp_token(
        demo_pki, signature_value_c14n(invoice), at=EXPIRED_SIGNED_AT, service="public-tsa-2027"
    )
    stamp = etree.SubElement(props, f"{{{XADES_132}}}SignatureTimeStamp")
    encapsulated = etree.SubElement(stamp, f"{{{XADES_132}}}EncapsulatedTimeStamp")
    encapsulated.text = base64.b64encode(token.dump()).decode()
    report = later.verify(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    sig = report.signatures[0]
    assert sig.indication is Indication.INDETERMINATE, sig.message_en
    assert sig.signing_time_proven == PINNED_NOW
    assert [(t.kind, t.indication) for t in sig.timestamps] == [
        ("signature", Indication.INDETERMINATE),
        ("archive", Indication.TOTAL_PASSED),
    ]


# -- renewal dates ----------------------------------------------------------------------------


def test_renewal_date_follows_the_newest_xades_archive_timestamp(
    demo_pki: DemoPKI, lta: bytes
) -> None:
    """An XAdES-B-LTA is due for renewal when its newest archive timestamp lapses (the 2026
    token by public-tsa, whose path expires first), not its expired first TSA's date;
    the reason names that timestamp in both languages, and ``verify --due-before`` sees it
    through the report (renewal_dates on)."""
    from verify.preservation import renewal_due

    (due,) = renewal_due(lta, now=LATER)
    tsa_path = [demo_pki.cert("public-tsa"), demo_pki.cert("ca-rsa")]
    assert due.due == min(c.not_valid_after for c in tsa_path)
    assert due.cause in ("tsa_certificate_expires", "ca_certificate_expires")
    assert due.timestamp == "archive timestamp 2"
    assert due.timestamp_time == PINNED_NOW
    assert due.message_vi.startswith("trước ")
    assert due.message_en.startswith("before ")
    verifier = Verifier(
        demo_trust(demo_pki),
        ValidationPolicy(validation_time=LATER, network=False, renewal_dates=True),
    )
    sig = verifier.verify(lta).signatures[0]
    assert sig.renewal is not None
    assert sig.renewal["due"] == due.to_dict()["due"]


def test_renewal_date_of_an_unstamped_invoice_is_its_signers_expiry(demo_pki: DemoPKI) -> None:
    """An XML signature with no timestamp rests on its signer's certificate alone: due when
    it (or a CA certificate on its path) expires, overdue once that has passed."""
    from verify.preservation import renewal_due

    invoice = signed_invoice(demo_pki, "citizen-expired", EXPIRED_SIGNED_AT)
    (due,) = renewal_due(invoice, now=LATER)
    assert due.due == demo_pki.cert("citizen-expired").not_valid_after
    assert due.cause == "signer_certificate_expires"
    assert due.timestamp is None
    assert due.message_en.startswith("overdue since ")
