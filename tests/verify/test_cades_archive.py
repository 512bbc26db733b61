"""CAdES archive timestamps (verify.cades_archive): EU DSS's files as known answers, byte
flips that must break an imprint or a hash index, hostile bytes that must never raise,
and archive-time-stamp-v3 built here with the demo PKI's live TSA and read back."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import algos, cms
from hypothesis import given, settings
from hypothesis import strategies as st
from pyhanko.sign import timestamps
from pyhanko_certvalidator import ValidationContext

from fixtures.documents import sign_detached
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from verify import process
from verify.cades_archive import (
    ATS_HASH_INDEX_V3,
    ArchiveTimestamp,
    add_archive_timestamp,
    archive_message_imprint,
    archive_timestamp_evidence,
    archive_timestamp_request,
    archive_timestamps,
    with_hash_index,
)
from verify.policy import ValidationPolicy

DATA = Path(__file__).resolve().parents[1] / "data" / "dss-cades"
SCREENSHOT2 = "dss-1469/screenshot2.png"
SIGNED_AT = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
CONTENT = "<tokhai>Hồ sơ lưu trữ dài hạn</tokhai>\n".encode()


def _read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _flip(raw: bytes, needle: bytes, back: int = 1) -> bytes:
    """``raw`` with one bit flipped in the ``back``-th last byte of ``needle`` (which
    occurs once in it)."""
    assert raw.count(needle) == 1
    at = raw.index(needle) + len(needle) - back
    return raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :]


def _shape(found: list[ArchiveTimestamp]) -> list[tuple[str, bool, bool]]:
    return [(a.version, a.imprint_matches, a.intact) for a in found]


def _context(roots: list[object] | None = None) -> ValidationContext:
    return ValidationContext(
        trust_roots=roots or [],
        allow_fetching=False,
        moment=PINNED_NOW,
        revocation_mode="soft-fail",
    )


# (file, detached content, SignerInfo, [(version, imprint matches, intact)]): what DSS's tests
# assert (see tests/data/dss-cades/SOURCES.md); "intact" is also the hash index's validity.
DSS_FACTS: list[tuple[str, str | None, int, list[tuple[str, bool, bool]]]] = [
    ("CAdESDoubleLTA.p7m", None, 0, [("v3", True, True), ("v3", True, True)]),
    ("cades-lta-duplicated-atst.p7m", None, 0, [("v3", True, True), ("v3", True, True)]),
    ("cades_signeddata_extended_after_lta.p7m", None, 0, [("v3", True, True), ("v3", True, True)]),
    ("cades-ats-v3-wrong-cert.p7m", None, 0, [("v3", True, False)]),
    ("cades-broken-sig-tst-and-ats-v3.cms", None, 0, [("v3", True, False)]),
    ("cades-lta-copied-atst.p7m", None, 0, [("v3", False, False)]),
    ("cades-ats-v3-wrong-crl.p7s", SCREENSHOT2, 0, [("v3", True, False), ("v2", True, True)]),
    ("dss-1469/cadesLTAwithATv2.sig", SCREENSHOT2, 0, [("v2", True, True)]),
    ("dss-1619/CAdES-XL-T1-Double-AV2.png.p7m", None, 0, [("v2", True, True)]),
    ("dss-1619/CAdES-XL-T1-Double-AV2.png.p7m", None, 1, [("v2", True, True)]),
    ("dss-1401/sig_with_atsv2.p7s", None, 0, [("v2", True, True)]),
    ("dss-2011/cades-lta-detached.pkcs7", None, 0, [("v3", False, False)]),
    ("dss-1220/CAdES-BpLTA_modified_ats_hash_element.p7m", None, 0, [("v3", False, False)]),
]


@pytest.mark.parametrize(
    ("name", "content", "signer", "expected"),
    DSS_FACTS,
    ids=[f"{f}#{s}" for f, _c, s, _e in DSS_FACTS],
)
def test_dss_files_read_as_dss_tests_assert(
    name: str, content: str | None, signer: int, expected: list[tuple[str, bool, bool]]
) -> None:
    """Each DSS file's archive timestamps: the version, imprint and index verdicts DSS asserts."""
    found = archive_timestamps(_read(name), signer, _read(content) if content else None)
    assert _shape(found) == expected
    for ats in found:
        assert (ats.reason_en is None) == ats.intact
        assert (ats.reason_vi is None) == ats.intact


def test_v3_imprints_of_dss_double_lta_are_the_known_answers() -> None:
    """archive_message_imprint recomputes both ATSv3 imprints of CAdESDoubleLTA.p7m exactly."""
    raw = _read("CAdESDoubleLTA.p7m")
    assert archive_message_imprint(raw, 0, None, 1, "sha256").hex() == (
        "87c9f6e64688a0f29bd9cf3691d003708276ef583c000cafd9ddca78dbcabe2d"
    )
    assert archive_message_imprint(raw, 0, None, 2, "sha256").hex() == (
        "f3fc7fc3603b482601df31d0e7a174ca9b315ec9d067507197e469998b8b5170"
    )
    found = archive_timestamps(raw, 0, None)
    assert [a.hash_index for a in found] == ["ats-hash-index", "ats-hash-index"]
    assert found[1].covers == (0, 1)  # the second covers the signature timestamp and the first


def test_v2_imprint_of_dss_double_av2_is_the_known_answer() -> None:
    """archive_message_imprint recomputes an ATSv2 imprint (TS 101 733 v2.2.1 reading)."""
    raw = _read("dss-1619/CAdES-XL-T1-Double-AV2.png.p7m")
    assert archive_message_imprint(raw, 0, None, 6, "sha256").hex() == (
        "2c91407b8a2ea519be4615afcf061ae47cdb65b8c4238c95aeef70ac35afac31"
    )
    assert archive_timestamps(raw, 1, None)[0].variant == (
        "without the [1] tag and length (TS 101 733 v1.8.3)"
    )


def test_atsv2_of_a_signature_resorted_after_it_matches_as_dss_selects() -> None:
    """An ATSv2 whose later attributes were re-sorted matches with DSS's attribute selection."""
    found = archive_timestamps(_read("dss-1469/cadesLTAwithATv2.sig"), 0, _read(SCREENSHOT2))
    assert found[0].intact
    assert found[0].variant == "the older archive timestamps and every other unsigned attribute"


def test_ber_cms_is_hashed_as_read_not_as_asn1crypto_re_encodes_it() -> None:
    """An indefinite-length CMS matches from its bytes and from its untouched ContentInfo."""
    raw = _read("dss-1401/sig_with_atsv2.p7s")
    assert raw[:2] == b"\x30\x80"
    assert archive_timestamps(raw, 0, None)[0].intact
    info = cms.ContentInfo.load(raw)
    assert archive_timestamps(info, 0, None)[0].intact
    assert archive_timestamps(info["content"], 0, None)[0].position == 5


def test_detached_signature_without_its_content_says_so() -> None:
    """A detached LTA signature read without its content: not intact, content named as missing."""
    (ats,) = archive_timestamps(_read("dss-2011/cades-lta-detached.pkcs7"), 0, None)
    assert not ats.intact
    assert ats.reason_en == "the signed content is not available to compute its message imprint"


def test_flipping_a_content_byte_breaks_every_archive_imprint() -> None:
    """One bit of the encapsulated content flipped: both ATSv3 imprints fail."""
    raw = _flip(_read("CAdESDoubleLTA.p7m"), b"Hello")
    assert _shape(archive_timestamps(raw, 0, None)) == [("v3", False, False)] * 2


def test_flipping_a_detached_content_byte_breaks_the_v2_imprint() -> None:
    """One bit of the detached content flipped: the ATSv2 imprint fails."""
    content = bytearray(_read(SCREENSHOT2))
    content[1000] ^= 0x01
    found = archive_timestamps(_read("dss-1469/cadesLTAwithATv2.sig"), 0, bytes(content))
    assert _shape(found) == [("v2", False, False)]


def test_flipping_an_earlier_archive_timestamp_breaks_the_later_one() -> None:
    """One bit of the first ATSv3's token flipped: the second's hash index names what is gone."""
    raw = _read("CAdESDoubleLTA.p7m")
    first = archive_timestamps(raw, 0, None)[0]
    assert first.token is not None
    signature = first.token["content"]["signer_infos"][0]["signature"].native
    found = archive_timestamps(_flip(raw, signature), 0, None)
    assert found[0].intact  # its own imprint: the flip is inside its own signature
    assert not found[1].intact
    assert found[1].imprint_matches
    assert "unsigned attribute value(s) no longer in the signature" in (found[1].reason_en or "")


def test_flipping_a_certificate_breaks_the_hash_index() -> None:
    """One bit of a SignedData certificate flipped: every ATSv3 index names it as gone."""
    raw = _read("CAdESDoubleLTA.p7m")
    cert = cms.ContentInfo.load(raw)["content"]["certificates"][0].chosen.dump()
    found = archive_timestamps(_flip(raw, cert), 0, None)
    assert _shape(found) == [("v3", True, False)] * 2
    assert all("certificate(s) no longer in" in (a.reason_en or "") for a in found)


def test_flipping_a_certificate_breaks_a_v2_imprint() -> None:
    """One bit of a SignedData certificate flipped: the ATSv2 imprint fails."""
    raw = _read("dss-1469/cadesLTAwithATv2.sig")
    cert = cms.ContentInfo.load(raw)["content"]["certificates"][0].chosen.dump()
    found = archive_timestamps(_flip(raw, cert), 0, _read(SCREENSHOT2))
    assert _shape(found) == [("v2", False, False)]


def test_evidence_of_dss_double_lta() -> None:
    """Evidence: kind archive, genTime, intact and valid tokens, untrusted without anchors."""
    evidence = asyncio.run(
        archive_timestamp_evidence(_read("CAdESDoubleLTA.p7m"), 0, None, _context())
    )
    assert [(e.kind, e.intact, e.valid, e.trusted) for e in evidence] == [
        ("archive", True, True, False)
    ] * 2
    assert evidence[0].time == datetime(2019, 5, 28, 15, 23, 51, tzinfo=UTC)
    assert evidence[0].digest_algorithms == ("sha256",)
    assert evidence[0].label == "archive timestamp 1 (v3)"
    assert evidence[0].tsa_cert is not None


def test_a_broken_hash_index_fails_strictly_and_passes_as_dss_default() -> None:
    """DSS-3507's index names a certificate not in SignedData: not intact, unless lax (DSS)."""
    raw = _read("cades-broken-sig-tst-and-ats-v3.cms")
    (strict,) = asyncio.run(archive_timestamp_evidence(raw, 0, None, _context()))
    assert not strict.intact
    assert "certificate(s) no longer in SignedData.certificates" in strict.label
    (lax,) = asyncio.run(
        archive_timestamp_evidence(raw, 0, None, _context(), strict_hash_index=False)
    )
    assert lax.intact


HOSTILE = settings(max_examples=60, deadline=None, derandomize=True, database=None)


@HOSTILE
@given(data=st.data())
def test_mutated_cms_never_raises_from_evidence(data: st.DataObject) -> None:
    """Property: flips, cuts and insertions in an LTA file always give evidence, never raise."""
    name = data.draw(st.sampled_from(["CAdESDoubleLTA.p7m", "dss-1469/cadesLTAwithATv2.sig"]))
    raw = bytearray(_read(name))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        how = data.draw(st.sampled_from(["flip", "cut", "insert", "zero"]))
        if how == "flip":
            raw[at] ^= data.draw(st.integers(1, 255))
        elif how == "cut":
            del raw[at : at + data.draw(st.integers(1, 64))]
        elif how == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        else:
            raw[at] = 0
    content = data.draw(st.one_of(st.none(), st.binary(max_size=64)))
    signer = data.draw(st.integers(-1, 2))
    evidence = asyncio.run(archive_timestamp_evidence(bytes(raw), signer, content, _context()))
    assert all(isinstance(e, process.TimestampEvidence) for e in evidence)
    assert all(e.kind == "archive" for e in evidence)
    assert all(not e.intact for e in evidence if "cannot be read" in e.label)
    assert all(not e.valid for e in evidence if "cannot be validated" in e.label)


@HOSTILE
@given(
    blob=st.binary(max_size=512),
    signer_blob=st.binary(max_size=256),
    content=st.one_of(st.none(), st.binary(max_size=32)),
)
def test_random_bytes_never_raise_from_evidence(
    blob: bytes, signer_blob: bytes, content: bytes | None
) -> None:
    """Property: random bytes as the CMS and as a lazily parsed SignerInfo never raise."""
    try:
        signer: cms.SignerInfo | int = cms.SignerInfo.load(signer_blob)
    except Exception:  # noqa: BLE001 - asn1crypto refuses it before we see it
        signer = 0
    for signed in (blob, b"\x30\x80" + blob + b"\x00\x00"):
        evidence = asyncio.run(archive_timestamp_evidence(signed, signer, content, _context()))
        assert all(e.kind == "archive" for e in evidence)


# -- archive-time-stamp-v3 built here --------------------------------------------------------


@dataclass(frozen=True)
class Built:
    cades_t: bytes
    one: bytes
    """CAdES-T with one archive-time-stamp-v3."""
    two: bytes
    """... and a second one over it."""
    request_imprint: bytes


def _extend(pki: DemoPKI, signature: bytes) -> tuple[bytes, bytes]:
    request = archive_timestamp_request(signature, 0, CONTENT)
    tsa = timestamps.HTTPTimeStamper(pki.tsa_url("public"))
    token = asyncio.run(tsa.async_timestamp(request.message_imprint, request.hash_algorithm))
    extended = add_archive_timestamp(signature, 0, with_hash_index(token, request))
    return extended.dump(), request.message_imprint


@pytest.fixture(scope="module")
def built(demo_pki: DemoPKI) -> Built:
    cades_t = sign_detached(demo_pki, "citizen", CONTENT, at=SIGNED_AT, timestamp=True)
    one, imprint = _extend(demo_pki, cades_t)
    two, _ = _extend(demo_pki, one)
    return Built(cades_t, one, two, imprint)


def test_built_archive_timestamp_round_trips(built: Built) -> None:
    """A built ATSv3 (live TSA) reads back intact, over exactly the requested imprint."""
    (ats,) = archive_timestamps(built.one, 0, CONTENT)
    assert ats.intact
    assert ats.variant is None  # matched as encoded, the first reading
    assert ats.imprint == built.request_imprint
    assert archive_message_imprint(built.one, 0, CONTENT, ats.position, "sha256") == (
        built.request_imprint
    )
    assert ats.hash_index == "ats-hash-index-v3"
    assert ats.position == 1
    assert ats.covers == (0,)  # the signature timestamp


def test_built_hash_index_writes_its_algorithm_as_dss_does(built: Built) -> None:
    """The built ats-hash-index-v3 carries an explicit SHA-256 hashIndAlgorithm (4 fields)."""
    request = archive_timestamp_request(built.cades_t, 0, CONTENT)
    attribute = cms.CMSAttribute.load(request.hash_index)
    assert attribute["type"].dotted == ATS_HASH_INDEX_V3
    index = attribute["values"][0].parsed
    assert len(index) == 4
    assert algos.DigestAlgorithm.load(index[0].dump())["algorithm"].native == "sha256"


def test_built_archive_timestamp_is_proof_of_existence(built: Built, demo_pki: DemoPKI) -> None:
    """Its evidence is intact, valid and trusted, and the process takes its time as POE."""
    evidence = asyncio.run(
        archive_timestamp_evidence(built.one, 0, CONTENT, _context([demo_pki.root("public")]))
    )
    assert [(e.intact, e.valid, e.trusted) for e in evidence] == [(True, True, True)]
    assert evidence[0].time == PINNED_NOW
    judgement = process.Judgement()
    policy = ValidationPolicy(validation_time=PINNED_NOW, network=False)
    assert process.proof_of_existence(evidence, policy, judgement) == PINNED_NOW
    assert judgement.proven_by == "archive timestamp 1 (v3)"


def test_second_built_archive_timestamp_covers_the_first(built: Built) -> None:
    """A second ATSv3 covers the first; flipping the first's signature breaks the second."""
    found = archive_timestamps(built.two, 0, CONTENT)
    assert [(a.position, a.intact) for a in found] == [(1, True), (2, True)]
    assert found[1].covers == (0, 1)
    assert found[0].token is not None
    signature = found[0].token["content"]["signer_infos"][0]["signature"].native
    broken = archive_timestamps(_flip(built.two, signature), 0, CONTENT)
    assert [a.intact for a in broken] == [True, False]


def test_built_archive_timestamp_fails_over_other_content(built: Built) -> None:
    """The built ATSv3 read over a changed detached content: its imprint fails."""
    (ats,) = archive_timestamps(built.one, 0, CONTENT + b" ")
    assert not ats.imprint_matches
    assert ats.reason_vi is not None


def test_with_hash_index_refuses_a_token_over_another_imprint(
    built: Built, demo_pki: DemoPKI
) -> None:
    """with_hash_index refuses a token that does not carry the request's imprint."""
    request = archive_timestamp_request(built.cades_t, 0, CONTENT)
    tsa = timestamps.HTTPTimeStamper(demo_pki.tsa_url("public"))
    other = asyncio.run(tsa.async_timestamp(b"\x00" * 32, "sha256"))
    with pytest.raises(ValueError, match="imprint"):
        with_hash_index(other, request)
