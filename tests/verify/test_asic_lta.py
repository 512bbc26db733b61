"""ASiC-E timestamps as proof of existence, and long-term archive manifests.

Containers are built here by code: a detached CAdES by the demo signer ``citizen-expired``
(valid 2020-01-01 .. 2023-01-01) over an ``ASiCManifest``, a ``timestamp*.tst`` over a
manifest that lists the signature file, and ``ASiCArchiveManifest*.xml`` files whose
tokens cover everything before them. Tokens come from the demo TSA at chosen times
(offline); validation is at the pinned time (2026-06-01) with the demo PKI on loopback.
EU DSS's ASiC-E LTA files (tests/data/dss-asic-lta, see its SOURCES.md) read as DSS's
tests say.
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
from asn1crypto import cms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.attacks import sign_cades, timestamp_token
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from verify import Indication, SubIndication, TrustProfile, ValidationPolicy, Verifier

DSS_DATA = Path(__file__).resolve().parents[1] / "data" / "dss-asic-lta"
SIGNED_AT = datetime(2022, 6, 1, 8, 0, tzinfo=UTC)
"""citizen-expired is valid 2020-01-01 .. 2023-01-01."""
ARCHIVED_AT = datetime(2022, 9, 1, 8, 0, tzinfo=UTC)
LATE = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
"""After citizen-expired's expiry: a timestamp then proves nothing about the signing."""
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
DATA = {"to-khai.txt": "Tờ khai".encode(), "phu-luc.txt": b"phu luc"}
SIG = "META-INF/signature001.p7s"
MANIFEST = "META-INF/ASiCManifest001.xml"


def manifest(sig_ref: str, entries: dict[str, bytes]) -> bytes:
    """An ASiCManifest naming ``sig_ref`` and listing ``entries`` with their SHA-256."""
    refs = "".join(
        f'<asic:DataObjectReference URI="{name}"><ds:DigestMethod Algorithm="{SHA256}"/>'
        f"<ds:DigestValue>{base64.b64encode(hashlib.sha256(data).digest()).decode()}"
        "</ds:DigestValue></asic:DataObjectReference>"
        for name, data in entries.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><asic:ASiCManifest '
        'xmlns:asic="http://uri.etsi.org/02918/v1.2.1#" '
        f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><asic:SigReference URI="{sig_ref}"/>'
        f"{refs}</asic:ASiCManifest>"
    ).encode()


def zipped(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", b"application/vnd.etsi.asic-e+zip", zipfile.ZIP_STORED)
        for name, data in entries.items():
            z.writestr(name, data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def signed_entries(pki: DemoPKI) -> dict[str, bytes]:
    """The data files, their manifest and citizen-expired's CAdES over it (made in 2022)."""
    asic_manifest = manifest(SIG, DATA)
    sig = sign_cades(pki, "citizen-expired", asic_manifest, at=SIGNED_AT).dump()
    return {**DATA, MANIFEST: asic_manifest, SIG: sig}


def timestamped(
    pki: DemoPKI, entries: dict[str, bytes], n: int, at: datetime, service: str = "public-tsa"
) -> dict[str, bytes]:
    """``entries`` with ``META-INF/timestamp00n.tst`` over a manifest listing every entry
    so far (an ``ASiCArchiveManifest`` after the first, as EN 319 162-1's long-term
    containers do), the token made at ``at``."""
    name = f"META-INF/timestamp00{n}.tst"
    covered = {k: v for k, v in entries.items() if k != "mimetype"}
    kind = "ASiCManifestTS" if n == 1 else "ASiCArchiveManifest"
    listing = manifest(name, covered)
    token = timestamp_token(pki, listing, at=at, service=service).dump()
    return {**entries, f"META-INF/{kind}00{n}.xml": listing, name: token}


@pytest.fixture(scope="module")
def verifier(demo_pki: DemoPKI) -> Verifier:
    trust = TrustProfile.custom([demo_pki.root("public")], hierarchy="public")
    return Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW))


@pytest.fixture(scope="module")
def offline() -> Verifier:
    trust = TrustProfile.custom([], hierarchy="public")
    return Verifier(
        trust, ValidationPolicy(validation_time=PINNED_NOW, network=False, revocation="soft")
    )


@pytest.fixture(scope="module")
def signed(demo_pki: DemoPKI) -> dict[str, bytes]:
    return signed_entries(demo_pki)


def _signature(report: Any) -> Any:
    (sig,) = [s for s in report.signatures if s.field_name == SIG]
    return sig


# -- a container timestamp proves the CAdES existed ------------------------------------------


def test_expired_signer_without_a_container_timestamp_is_out_of_bounds_no_poe(
    signed: dict[str, bytes], verifier: Verifier
) -> None:
    """Nothing proves the signature existed before its certificate expired."""
    report = verifier.verify(zipped(signed))
    sig = _signature(report)
    assert sig.sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE, sig.message_en
    assert sig.signing_time_proven is None


def test_container_timestamp_before_expiry_proves_the_cades_existed(
    demo_pki: DemoPKI, signed: dict[str, bytes], verifier: Verifier
) -> None:
    """A timestamp*.tst over a manifest listing the signature file, made while the
    certificate was valid, is proof of existence: the signature passes, proven then."""
    report = verifier.verify(zipped(timestamped(demo_pki, signed, 1, SIGNED_AT)))
    sig = _signature(report)
    assert sig.indication is Indication.TOTAL_PASSED, sig.message_en
    assert sig.signing_time_proven == SIGNED_AT
    assert report.indication is Indication.TOTAL_PASSED, report.message_en


def test_container_timestamp_after_expiry_proves_nothing_in_time(
    demo_pki: DemoPKI, signed: dict[str, bytes], verifier: Verifier
) -> None:
    """A timestamp made after the certificate expired: OUT_OF_BOUNDS_NO_POE, saying why."""
    report = verifier.verify(zipped(timestamped(demo_pki, signed, 1, LATE)))
    sig = _signature(report)
    assert sig.sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE
    assert "after the signer's certificate expired" in sig.message_en
    assert "sau khi chứng thư số của người ký hết hạn" in sig.message_vi


def test_timestamp_over_a_manifest_not_listing_the_signature_proves_nothing_of_it(
    demo_pki: DemoPKI, signed: dict[str, bytes], verifier: Verifier
) -> None:
    """A timestamp over the data files only proves the data existed, not the signature."""
    listing = manifest("META-INF/timestamp001.tst", DATA)
    token = timestamp_token(demo_pki, listing, at=SIGNED_AT).dump()
    entries = {
        **signed,
        "META-INF/ASiCManifest002.xml": listing,
        "META-INF/timestamp001.tst": token,
    }
    sig = _signature(verifier.verify(zipped(entries)))
    assert sig.sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE


def test_signature_changed_after_the_timestamp_gets_no_proof_from_it(
    demo_pki: DemoPKI, signed: dict[str, bytes], verifier: Verifier
) -> None:
    """The manifest's digest of the signature file no longer matches (the file was
    replaced by a re-made signature): the timestamp fails naming it, and proves nothing
    for the new signature."""
    stamped = timestamped(demo_pki, signed, 1, SIGNED_AT)
    other = sign_cades(
        demo_pki, "citizen-expired", signed[MANIFEST], at=datetime(2022, 7, 1, tzinfo=UTC)
    ).dump()
    report = verifier.verify(zipped({**stamped, SIG: other}))
    sig = _signature(report)
    assert sig.sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE
    (ts,) = [s for s in report.signatures if s.field_name == "META-INF/timestamp001.tst"]
    assert ts.sub_indication is SubIndication.HASH_FAILURE
    assert SIG in ts.message_en


# -- archive manifests -----------------------------------------------------------------------


def test_archive_manifest_chain_passes_and_proves_the_signature(
    demo_pki: DemoPKI, signed: dict[str, bytes], verifier: Verifier
) -> None:
    """A timestamp, then an ASiCArchiveManifest whose token covers it: every token intact
    and trusted, the signature proven at the first one."""
    first = timestamped(demo_pki, signed, 1, SIGNED_AT)
    chain = timestamped(demo_pki, first, 2, ARCHIVED_AT)
    report = verifier.verify(zipped(chain))
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert _signature(report).signing_time_proven == SIGNED_AT
    archive = [s for s in report.signatures if s.field_name == "META-INF/timestamp002.tst"]
    assert archive[0].covers[-2:] == ("META-INF/ASiCManifestTS001.xml", "META-INF/timestamp001.tst")
    assert archive[0].signing_time_proven == ARCHIVED_AT


def test_archive_manifest_alone_before_expiry_is_proof(
    demo_pki: DemoPKI, signed: dict[str, bytes], verifier: Verifier
) -> None:
    """The archive timestamp is the only one, made before the expiry: it proves the
    signature, which then passes."""
    listing = manifest("META-INF/timestamp001.tst", signed)
    token = timestamp_token(demo_pki, listing, at=ARCHIVED_AT).dump()
    entries = {
        **signed,
        "META-INF/ASiCArchiveManifest.xml": listing,
        "META-INF/timestamp001.tst": token,
    }
    sig = _signature(verifier.verify(zipped(entries)))
    assert sig.indication is Indication.TOTAL_PASSED, sig.message_en
    assert sig.signing_time_proven == ARCHIVED_AT


def test_archive_manifest_changed_entry_fails_naming_it(
    demo_pki: DemoPKI, signed: dict[str, bytes], verifier: Verifier
) -> None:
    """A file the archive manifest lists changed afterwards: its timestamp is
    HASH_FAILURE naming the file, and the signature over the changed file fails too."""
    chain = timestamped(demo_pki, timestamped(demo_pki, signed, 1, SIGNED_AT), 2, ARCHIVED_AT)
    report = verifier.verify(zipped({**chain, "phu-luc.txt": b"PHU LUC"}))
    assert report.indication is Indication.TOTAL_FAILED
    stamps = [s for s in report.signatures if s.kind == "document_timestamp"]
    assert {s.sub_indication for s in stamps} == {SubIndication.HASH_FAILURE}
    assert all("phu-luc.txt" in s.message_en for s in stamps)


def test_archive_manifest_leaving_out_an_earlier_timestamp_is_named(
    demo_pki: DemoPKI, signed: dict[str, bytes], verifier: Verifier
) -> None:
    """An ASiCArchiveManifest that does not list the timestamp before it: a warning in both
    languages names the token the chain leaves out."""
    first = timestamped(demo_pki, signed, 1, SIGNED_AT)
    listing = manifest("META-INF/timestamp002.tst", signed)
    token = timestamp_token(demo_pki, listing, at=ARCHIVED_AT).dump()
    entries = {
        **first,
        "META-INF/ASiCArchiveManifest002.xml": listing,
        "META-INF/timestamp002.tst": token,
    }
    report = verifier.verify(zipped(entries))
    (warning,) = [w for w in report.warnings if "archive chain" in w]
    assert "META-INF/ASiCArchiveManifest002.xml" in warning
    assert "META-INF/timestamp001.tst" in warning
    assert "chuỗi lưu trữ bị đứt" in warning
    full = verifier.verify(zipped(timestamped(demo_pki, first, 2, ARCHIVED_AT)))
    assert not [w for w in full.warnings if "archive chain" in w]


def test_archive_token_replaced_is_hash_failure(
    demo_pki: DemoPKI, signed: dict[str, bytes], verifier: Verifier
) -> None:
    """The archive timestamp's token is over another manifest: HASH_FAILURE, and the
    older timestamp still proves the signature on its own."""
    chain = timestamped(demo_pki, timestamped(demo_pki, signed, 1, SIGNED_AT), 2, ARCHIVED_AT)
    stray = timestamp_token(demo_pki, b"something else", at=ARCHIVED_AT).dump()
    report = verifier.verify(zipped({**chain, "META-INF/timestamp002.tst": stray}))
    (ts,) = [s for s in report.signatures if s.field_name == "META-INF/timestamp002.tst"]
    assert ts.sub_indication is SubIndication.HASH_FAILURE
    assert "META-INF/ASiCArchiveManifest002.xml" in ts.message_en
    assert _signature(report).signing_time_proven == SIGNED_AT


AFTER_TSA_EXPIRY = datetime(2027, 9, 1, tzinfo=UTC)
"""After public-tsa-2027's certificate expired (2027-06-01, fixtures/pki/demo-pki.yml)."""


def _later_verifier(pki: DemoPKI) -> Verifier:
    trust = TrustProfile.custom([pki.root("public")], hierarchy="public")
    policy = ValidationPolicy(validation_time=AFTER_TSA_EXPIRY, network=False, revocation="soft")
    return Verifier(trust, policy)


def test_expired_tsa_without_an_archive_timestamp_proves_nothing(
    demo_pki: DemoPKI, signed: dict[str, bytes]
) -> None:
    """Validated after the first TSA's certificate expired, with no later timestamp over
    its token: the token is not trusted and proves nothing, the signature has no POE."""
    first = timestamped(demo_pki, signed, 1, SIGNED_AT, "public-tsa-2027")
    report = _later_verifier(demo_pki).verify(zipped(first))
    (ts,) = [s for s in report.signatures if s.kind == "document_timestamp"]
    assert ts.indication is Indication.INDETERMINATE
    assert "certificate expired on 2027-06-01 and no later archive timestamp" in ts.message_en
    assert "đã hết hạn ngày 01/06/2027" in ts.message_vi
    assert _signature(report).sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE


def test_archive_timestamp_keeps_an_expired_tsas_proof(
    demo_pki: DemoPKI, signed: dict[str, bytes]
) -> None:
    """The same container with an ASiCArchiveManifest timestamped (2026) while the first
    TSA's certificate was valid: the first token is judged at its own time, trusted, and
    still proves the signature existed in 2022."""
    first = timestamped(demo_pki, signed, 1, SIGNED_AT, "public-tsa-2027")
    chain = timestamped(demo_pki, first, 2, LATE)
    report = _later_verifier(demo_pki).verify(zipped(chain))
    stamps = {s.field_name: s for s in report.signatures if s.kind == "document_timestamp"}
    assert stamps["META-INF/timestamp001.tst"].indication is Indication.TOTAL_PASSED
    assert stamps["META-INF/timestamp002.tst"].indication is Indication.TOTAL_PASSED
    sig = _signature(report)
    assert sig.indication is Indication.TOTAL_PASSED, sig.message_en
    assert sig.signing_time_proven == SIGNED_AT


@pytest.fixture(scope="module")
def archived(demo_pki: DemoPKI, signed: dict[str, bytes]) -> dict[str, bytes]:
    """A signature, a timestamp and an archive timestamp over everything before it."""
    return timestamped(demo_pki, timestamped(demo_pki, signed, 1, SIGNED_AT), 2, ARCHIVED_AT)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.data())
def test_tampering_any_entry_of_an_archived_container_never_passes(
    archived: dict[str, bytes], verifier: Verifier, data: st.DataObject
) -> None:
    """Whatever byte of whichever entry (data, manifest, signature, token) is changed,
    the container does not pass. In the last archive timestamp, which nothing else
    covers, the byte is one its own signature covers (see the test below for the rest)."""
    name = data.draw(st.sampled_from(sorted(archived)))
    body = bytearray(archived[name])
    if name == LAST_TOKEN:
        start, end = data.draw(st.sampled_from(_covered(archived[name])))
        at = data.draw(st.integers(start, end - 1))
    else:
        at = data.draw(st.integers(0, len(body) - 1))
    body[at] ^= data.draw(st.integers(1, 255))
    report = verifier.verify(zipped({**archived, name: bytes(body)}))
    assert report.indication is not Indication.TOTAL_PASSED, name


LAST_TOKEN = "META-INF/timestamp002.tst"


def _covered(token: bytes) -> list[tuple[int, int]]:
    """Where a timestamp token's own signature covers its bytes: the TSTInfo (through
    the message digest), the signed attributes and the signature value."""
    signed_data = cms.ContentInfo.load(token)["content"]
    signer = signed_data["signer_infos"][0]
    spans = []
    for part in (
        signed_data["encap_content_info"]["content"].contents,
        signer["signed_attrs"].contents,
        signer["signature"].contents,
    ):
        at = token.find(part)
        assert at > 0
        spans.append((at, at + len(part)))
    return spans


def test_the_last_tokens_bytes_no_signature_covers_change_no_verdict(
    archived: dict[str, bytes], verifier: Verifier
) -> None:
    """The last archive timestamp's version numbers and its list of digest algorithms are
    covered by no signature, and no check reads what they say (the signer's own digest
    algorithm is the one its signed attributes name): changed, the container still passes,
    and every byte the token's signature covers still fails it (a sample of each span)."""
    token = archived[LAST_TOKEN]
    signed_data = cms.ContentInfo.load(token)["content"]
    signer = signed_data["signer_infos"][0]
    algorithms = token.find(signed_data["digest_algorithms"].dump())
    uncovered = [25, algorithms + 5, token.find(signer.dump()) + 6]  # versions, an OID's length
    for at in uncovered:
        body = bytearray(token)
        body[at] ^= 0x02 if at == algorithms + 5 else 0x01
        report = verifier.verify(zipped({**archived, LAST_TOKEN: bytes(body)}))
        assert report.indication is Indication.TOTAL_PASSED, at
    for start, end in _covered(token):
        body = bytearray(token)
        body[(start + end) // 2] ^= 0x01
        report = verifier.verify(zipped({**archived, LAST_TOKEN: bytes(body)}))
        assert report.indication is not Indication.TOTAL_PASSED, (start, end)


# -- EU DSS's files --------------------------------------------------------------------------

# file: {timestamp entry: integrity}, the failing timestamp's sub-indication, and the
# signature's integrity
DSS_FACTS: dict[str, tuple[dict[str, bool], SubIndication | None]] = {
    # DSS1809Test: first archive timestamp FAILED / HASH_FAILURE, second not failed
    "ASICE-CAdES-BpLTA-2-BpLTA-DSS5.4.asice": (
        {"META-INF/timestamp001.tst": False, "META-INF/timestamp002.tst": True},
        SubIndication.HASH_FAILURE,
    ),
    # ASiCELevelLTAWithCopiedATSTTest: one archive timestamp valid, the copied one not
    "ASiC-E-CAdES-BpLTA-copied-arctst.sce": (
        {"META-INF/timestamp001.tst": True, "META-INF/timestamp002.tst": False},
        SubIndication.HASH_FAILURE,
    ),
    # DSS1421ArchiveTstNotCoverSigTest: the archive timestamp's imprint not intact
    "dss1421-archive-not-cover.asice": (
        {"META-INF/timestamp001.tst": False},
        SubIndication.HASH_FAILURE,
    ),
    # (container merger tests' input): an LTA container with other entry names
    "cades-lta-alternative-naming.sce": ({"META-INF/timestampLTA.tst": True}, None),
}


@pytest.mark.parametrize("name", sorted(DSS_FACTS))
def test_dss_asic_lta_files_read_as_dss_says(
    name: str, offline: Verifier, validate_report: Callable[[dict[str, Any]], None]
) -> None:
    """Each archive timestamp's integrity as DSS's test asserts; the signature intact
    (INDETERMINATE only because DSS's test PKI is not trusted here)."""
    integrity, failure = DSS_FACTS[name]
    report = offline.verify(DSS_DATA / name)
    stamps = {s.field_name: s for s in report.signatures if s.kind == "document_timestamp"}
    assert {k: v.integrity for k, v in stamps.items()} == integrity
    for ts in stamps.values():
        if not ts.integrity:
            assert ts.sub_indication is failure
            assert ts.message_vi
            assert ts.message_en
    (sig,) = [s for s in report.signatures if s.kind != "document_timestamp"]
    assert sig.integrity is True
    assert sig.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    validate_report(report.to_dict())


def test_an_archive_timestamp_with_a_malformed_signed_data_is_not_read(
    archived: dict[str, bytes], verifier: Verifier
) -> None:
    """The latest archive timestamp with the length of its SignedData's version changed
    (02 01 03 becomes 02 03 03: the version swallows the digestAlgorithms set's header).
    Its signed attributes and signature are untouched, and a lenient reader still
    verifies them; the token is not well-formed, so it is not read, and the container
    does not pass (a case hypothesis found for the property above)."""
    name = "META-INF/timestamp002.tst"
    body = bytearray(archived[name])
    assert body[23:26] == bytes([2, 1, 3])  # SignedData.version INTEGER 3
    body[24] ^= 2
    report = verifier.verify(zipped({**archived, name: bytes(body)}))
    assert report.indication is not Indication.TOTAL_PASSED
    failed = [s for s in report.signatures if s.field_name == name]
    assert failed
    assert failed[0].sub_indication is SubIndication.FORMAT_FAILURE
    assert "cannot be read" in failed[0].message_en
    assert "không đọc được" in failed[0].message_vi
