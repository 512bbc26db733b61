"""ASiC containers (ETSI EN 319 162-1) read by verify.formats.asic, through the Verifier.

Containers made by esign pass; a changed, removed or added file, or a manifest changed
after signing, does not; hostile ZIPs get a verdict within bounds and nothing is ever
written to disk; EU DSS's own ASiC test files read as DSS's tests say (tests/data/dss-asic).
Every validation is at the pinned time; the only network is the demo PKI on loopback.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import struct
import time
import tracemalloc
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import esign
from esign.asic import MANIFEST_NAME, SIGNATURE_NAME, TIMESTAMP_NAME
from fixtures.documents import demo_signer, minimal_pdf, pinned
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
from verify.formats.asic import AsicReader, ContainerLimits, looks_like_asic

DSS = Path(__file__).resolve().parents[1] / "data" / "dss-asic"
FORM = "to-khai.pdf"
DATA = '{"ho_ten": "Nguyễn Thị Hoà"}'.encode()
NOTE = "ghi chú.txt"


@pytest.fixture(scope="module")
def trust(demo_pki: DemoPKI) -> TrustProfile:
    return TrustProfile.custom([demo_pki.root("public")], hierarchy="public")


@pytest.fixture(scope="module")
def verifier(trust: TrustProfile) -> Verifier:
    return Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW))


@pytest.fixture(scope="module")
def offline(trust: TrustProfile) -> Verifier:
    """For hostile input: no network, revocation not needed to reach a verdict."""
    return Verifier(
        trust, ValidationPolicy(validation_time=PINNED_NOW, network=False, revocation="soft")
    )


@pytest.fixture(scope="module")
def signed(demo_pki: DemoPKI, trust: TrustProfile) -> bytes:
    """An ASiC-E dossier of three files signed by esign at B-T."""
    with pinned(PINNED_NOW):
        res = esign.sign_asic(
            [(FORM, minimal_pdf("Tờ khai")), ("du-lieu.json", DATA), (NOTE, b"ghi chu")],
            None,
            demo_signer(demo_pki, "citizen"),
            level="B-T",
            trust=trust,
            policy=ValidationPolicy(validation_time=PINNED_NOW),
            tsa_url=demo_pki.tsa_url("public"),
        )
    assert res.data is not None
    return res.data


@pytest.fixture(scope="module")
def stamped(demo_pki: DemoPKI, trust: TrustProfile) -> bytes:
    """An XML e-invoice signed by esign.sign_xml, timestamped in an ASiC-S container."""
    from tests.esign.test_xml_sign import invoice

    with pinned(PINNED_NOW):
        xml = esign.sign_xml(invoice(), demo_signer(demo_pki, "citizen"), trust=trust)
        res = esign.timestamp_asic_s(
            ("hoa-don.xml", xml),
            None,
            trust=trust,
            policy=ValidationPolicy(validation_time=PINNED_NOW),
            tsa_url=demo_pki.tsa_url("public"),
        )
    assert res.data is not None
    return res.data


def rezip(
    container: bytes,
    *,
    change: dict[str, bytes | None] | None = None,
    add: dict[str, bytes] | None = None,
    order: Callable[[list[str]], list[str]] | None = None,
    method: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """The container rewritten: entries changed (None: removed), added, or reordered;
    ``mimetype`` stored, the rest with ``method``."""
    change = change or {}
    src = zipfile.ZipFile(io.BytesIO(container))
    contents = {n: src.read(n) for n in src.namelist()}
    for name, value in change.items():
        if value is None:
            contents.pop(name)
        else:
            contents[name] = value
    contents.update(add or {})
    names = list(contents)
    if order is not None:
        names = order(names)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are on purpose in some tests
        for name in names:
            stored = name == "mimetype"
            z.writestr(name, contents[name], zipfile.ZIP_STORED if stored else method)
    return out.getvalue()


def zip_of(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP of ``entries`` in order (duplicates allowed), ``mimetype`` stored."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, data in entries:
            z.writestr(name, data, zipfile.ZIP_STORED if name == "mimetype" else method)
    return out.getvalue()


MIME_E = ("mimetype", b"application/vnd.etsi.asic-e+zip")
MIME_S = ("mimetype", b"application/vnd.etsi.asic-s+zip")


@pytest.fixture
def nothing_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run in an empty folder and check that it is still empty afterwards."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    yield work
    assert list(work.iterdir()) == []
    assert not (tmp_path / "evil.txt").exists()


# -- containers made by esign ---------------------------------------------------------------


def test_asice_made_by_esign_passes_and_reports_every_file(
    signed: bytes, verifier: Verifier, validate_report: Callable[[dict[str, Any]], None]
) -> None:
    """TOTAL_PASSED; the facts list each file covered by the signature, with its SHA-256;
    the report fits docs/report-schema.json."""
    report = verifier.verify(signed)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert report.format == "asic"
    facts = report.facts
    assert facts is not None
    assert facts["container"] == "ASiC-E"
    assert facts["mimetype"] == "application/vnd.etsi.asic-e+zip"
    assert [(f["name"], f["status"], f["covered_by"]) for f in facts["files"]] == [
        (FORM, "covered", [SIGNATURE_NAME]),
        ("du-lieu.json", "covered", [SIGNATURE_NAME]),
        (NOTE, "covered", [SIGNATURE_NAME]),
    ]
    assert facts["signatures"] == [
        {
            "entry": SIGNATURE_NAME,
            "kind": "cades",
            "manifest": MANIFEST_NAME,
            "covers": [FORM, "du-lieu.json", NOTE],
        }
    ]
    (sig,) = report.signatures
    assert (sig.kind, sig.field_name, sig.level) == ("detached", SIGNATURE_NAME, "CAdES-B-T")
    assert sig.signing_time_proven == PINNED_NOW
    assert report.warnings == ()
    validate_report(report.to_dict())


def test_changed_file_fails_with_hash_failure_naming_it(
    signed: bytes, verifier: Verifier, validate_report: Callable[[dict[str, Any]], None]
) -> None:
    """A file whose digest no longer matches the signed manifest: TOTAL_FAILED /
    HASH_FAILURE on the signature and the container, in both languages, naming the file."""
    report = verifier.verify(rezip(signed, change={"du-lieu.json": b'{"ho_ten": "X"}'}))
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.HASH_FAILURE
    assert "du-lieu.json does not match its digest in META-INF/ASiCManifest.xml" in (
        report.message_en
    )
    assert "du-lieu.json" in report.message_vi
    assert report.signatures[0].integrity is False
    assert report.facts is not None
    status = {f["name"]: f["status"] for f in report.facts["files"]}
    assert status == {FORM: "covered", "du-lieu.json": "changed", NOTE: "covered"}
    validate_report(report.to_dict())


def test_removed_file_is_signed_data_not_found_naming_it(signed: bytes, verifier: Verifier) -> None:
    """A file the manifest lists is gone: INDETERMINATE / SIGNED_DATA_NOT_FOUND, as EU DSS
    says (its removedReference.asice)."""
    report = verifier.verify(rezip(signed, change={NOTE: None}))
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.SIGNED_DATA_NOT_FOUND
    assert f"the container lacks {NOTE}" in report.message_en
    assert report.facts is not None
    missing = [f for f in report.facts["files"] if f["status"] == "missing"]
    assert missing == [
        {
            "name": NOTE,
            "size": None,
            "sha256": None,
            "status": "missing",
            "covered_by": [SIGNATURE_NAME],
        }
    ]


def test_added_file_is_flagged_and_the_container_does_not_pass(
    signed: bytes, verifier: Verifier, validate_report: Callable[[dict[str, Any]], None]
) -> None:
    """A file slipped in after signing is covered by nothing: the signature still passes,
    the container is INDETERMINATE and names the file."""
    report = verifier.verify(rezip(signed, add={"them-vao.pdf": minimal_pdf("Giả mạo")}))
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.GENERIC
    assert "covered by no signature or timestamp: them-vao.pdf" in report.message_en
    assert "them-vao.pdf" in report.message_vi
    assert report.signatures[0].indication is Indication.TOTAL_PASSED
    assert report.facts is not None
    assert report.facts["not_covered"] == ["them-vao.pdf"]
    validate_report(report.to_dict())


def test_manifest_changed_after_signing_fails(signed: bytes, verifier: Verifier) -> None:
    """A file changed and the manifest's digest updated to match: the CAdES signature over
    the manifest no longer verifies (HASH_FAILURE)."""
    import base64
    import hashlib

    manifest = zipfile.ZipFile(io.BytesIO(signed)).read(MANIFEST_NAME)
    new = b'{"ho_ten": "X"}'
    old_digest = base64.b64encode(hashlib.sha256(DATA).digest())
    assert manifest.count(old_digest) == 1
    manifest = manifest.replace(old_digest, base64.b64encode(hashlib.sha256(new).digest()))
    report = verifier.verify(rezip(signed, change={"du-lieu.json": new, MANIFEST_NAME: manifest}))
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.HASH_FAILURE


def test_signature_without_its_manifest_is_format_failure(
    signed: bytes, verifier: Verifier
) -> None:
    """An ASiC-E whose signature no manifest names (the manifest removed): FORMAT_FAILURE,
    as EU DSS's ManifestFilePresent; the files are then covered by nothing."""
    report = verifier.verify(rezip(signed, change={MANIFEST_NAME: None}))
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert "no ASiCManifest names META-INF/signature001.p7s" in report.message_en


def test_asics_timestamp_over_an_einvoice(
    stamped: bytes, verifier: Verifier, validate_report: Callable[[dict[str, Any]], None]
) -> None:
    """The time assertion is a document timestamp over the invoice, and the invoice's own
    XML signature is verified inside the container with it as proof of existence; the
    invoice changed after it is HASH_FAILURE."""
    report = verifier.verify(stamped)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    (ts, invoice) = report.signatures
    assert invoice.kind == "xml"
    assert invoice.signing_time_proven == PINNED_NOW
    assert (ts.kind, ts.field_name, ts.covers) == (
        "document_timestamp",
        TIMESTAMP_NAME,
        ("hoa-don.xml",),
    )
    assert ts.signing_time_proven == PINNED_NOW
    assert ts.signer is not None
    assert ts.signer["kind"] == "timestamp_authority"
    validate_report(report.to_dict())
    xml = zipfile.ZipFile(io.BytesIO(stamped)).read("hoa-don.xml")
    changed = verifier.verify(rezip(stamped, change={"hoa-don.xml": xml.replace(b"159", b"160")}))
    assert changed.indication is Indication.TOTAL_FAILED
    assert changed.sub_indication is SubIndication.HASH_FAILURE
    assert "hoa-don.xml" in changed.message_en


def test_missing_and_misplaced_mimetype_are_warnings(signed: bytes, verifier: Verifier) -> None:
    """EU DSS reads such containers (its MimeTypeFilePresent is INFORM): the verdict is the
    signatures', with a warning in both languages."""
    missing = verifier.verify(rezip(signed, change={"mimetype": None}))
    assert missing.indication is Indication.TOTAL_PASSED, missing.message_en
    assert missing.warnings == ("the container has no mimetype file (gói không có tệp mimetype)",)
    last = verifier.verify(rezip(signed, order=lambda names: [*names[1:], names[0]]))
    assert last.indication is Indication.TOTAL_PASSED, last.message_en
    assert any("not the container's first entry" in w for w in last.warnings)


def test_xades_in_a_container_that_signs_nothing_is_format_failure(verifier: Verifier) -> None:
    """A XAdES signature (META-INF/signatures.xml) is checked (tests/verify/test_asic_xades.py):
    one without SignedInfo parts, value or key fails with the causes named."""
    xades = (
        b'<asic:XAdESSignatures xmlns:asic="http://uri.etsi.org/02918/v1.2.1#">'
        b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
        b'<ds:Reference URI="hoa-don.xml"/></ds:SignedInfo></ds:Signature>'
        b"</asic:XAdESSignatures>"
    )
    data = zip_of([MIME_S, ("hoa-don.xml", b"<HDon/>"), ("META-INF/signatures.xml", xades)])
    report = verifier.verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    (sig,) = report.signatures
    assert (sig.kind, sig.sub_indication, sig.covers) == (
        "xml",
        SubIndication.FORMAT_FAILURE,
        ("hoa-don.xml",),
    )
    assert "the signature has no KeyInfo" in sig.message_en


def test_container_with_nothing_signed_is_no_signature_found(verifier: Verifier) -> None:
    """A manifest alone signs nothing: INDETERMINATE / NO_SIGNATURE_FOUND."""
    report = verifier.verify(zip_of([MIME_E, ("a.txt", b"a"), ("META-INF/ASiCManifest.xml", b"x")]))
    assert report.sub_indication is SubIndication.NO_SIGNATURE_FOUND


# -- hostile containers --------------------------------------------------------------------------


def test_zip_bomb_is_refused_before_it_expands(offline: Verifier, nothing_written: Path) -> None:
    """64 MiB of zeros deflated to ~64 KiB: the declared sizes exceed 100 times the
    container, so nothing is decompressed; memory stays small."""
    data = zip_of([MIME_E, ("META-INF/signature001.p7s", b"0"), ("bom.xml", bytes(64 << 20))])
    assert len(data) < 200_000
    tracemalloc.start()
    started = time.perf_counter()
    report = offline.verify(data)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.SIZE_LIMIT_EXCEEDED
    assert "a likely ZIP bomb" in report.message_en
    assert "bom ZIP" in report.message_vi
    assert peak < 16 << 20
    assert elapsed < 5


def test_zip_bomb_with_lying_sizes_stops_at_what_it_declared(
    offline: Verifier, nothing_written: Path
) -> None:
    """The central directory claims 1 KiB for an entry that inflates to 64 MiB: reading
    stops at 1 KiB, and the entry's checksum then fails (FORMAT_FAILURE, named)."""
    data = bytearray(
        zip_of([MIME_E, ("META-INF/signature001.p7s", b"0"), ("bom.xml", bytes(64 << 20))])
    )
    name = b"bom.xml"
    for magic, size_at, name_at in ((b"PK\x01\x02", 24, 46), (b"PK\x03\x04", 22, 30)):
        pos = data.find(magic + b"")
        while pos >= 0:
            if data[pos + name_at : pos + name_at + len(name)] == name:
                data[pos + size_at : pos + size_at + 4] = struct.pack("<I", 1024)
            pos = data.find(magic, pos + 1)
    tracemalloc.start()
    report = offline.verify(bytes(data))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert "the entry 'bom.xml' is damaged" in report.message_en
    assert peak < 16 << 20


def test_entry_larger_than_the_policy_allows(trust: TrustProfile) -> None:
    """A 2 MiB entry under a 1 MiB file limit: SIZE_LIMIT_EXCEEDED naming the entry."""
    small = Verifier(
        trust,
        ValidationPolicy(validation_time=PINNED_NOW, network=False, max_file_size=1 << 20),
    )
    data = zip_of(
        [MIME_E, ("META-INF/signature001.p7s", b"0"), ("big.bin", os.urandom(2 << 20))],
        zipfile.ZIP_STORED,
    )
    report = small.verify(data)
    assert report.sub_indication is SubIndication.SIZE_LIMIT_EXCEEDED
    data = zip_of([MIME_E, ("META-INF/signature001.p7s", b"0"), ("big.bin", bytes(2 << 20))])
    report = small.verify(data)
    assert report.sub_indication is SubIndication.SIZE_LIMIT_EXCEEDED
    assert "the entry 'big.bin' expands to more than 1,048,576 bytes" in report.message_en


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.txt", "a path that leaves its folder (../)"),
        ("a/../../evil.txt", "a path that leaves its folder (../)"),
        ("/etc/evil.txt", "an absolute path"),
        ("C:/evil.txt", "an absolute path"),
        ("..\\evil.txt", "a name with a backslash"),
        ("a//b.txt", "a path with an empty or '.' segment"),
        ("a\x01b.txt", "a name with control characters"),
    ],
)
def test_unsafe_names_are_format_failure(
    name: str, why: str, offline: Verifier, nothing_written: Path
) -> None:
    """Names that could leave a folder or hide what they are: TOTAL_FAILED /
    FORMAT_FAILURE with the reason; nothing is extracted anywhere."""
    data = zip_of([MIME_E, ("META-INF/signature001.p7s", b"0"), (name, b"pwned")])
    report = offline.verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert why in report.message_en
    assert "tên không an toàn" in report.message_vi


def test_duplicate_names_are_format_failure(offline: Verifier) -> None:
    """Two entries with one name (which one would a reader show?): FORMAT_FAILURE."""
    data = zip_of(
        [MIME_E, ("a.txt", b"signed"), ("META-INF/signature001.p7s", b"0"), ("a.txt", b"x")]
    )
    report = offline.verify(data)
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert "two entries named 'a.txt'" in report.message_en
    nfc = zip_of(
        [MIME_E, ("Hoà.txt", b"1"), ("META-INF/signature001.p7s", b"0"), ("Hoa\u0300.txt", b"2")]
    )
    assert offline.verify(nfc).sub_indication is SubIndication.FORMAT_FAILURE


def test_ten_thousand_entries_are_refused_quickly(offline: Verifier) -> None:
    """More entries than the limit (1,000, as EU DSS): counted in the central directory
    before zipfile reads them."""
    entries = [MIME_E, ("META-INF/signature001.p7s", b"0")]
    entries += [(f"f{i}.txt", b"") for i in range(10_000)]
    data = zip_of(entries, zipfile.ZIP_STORED)
    started = time.perf_counter()
    report = offline.verify(data)
    assert time.perf_counter() - started < 5
    assert report.sub_indication is SubIndication.SIZE_LIMIT_EXCEEDED
    assert "more than 1,000 entries" in report.message_en


def test_truncated_container_is_format_failure(signed: bytes, offline: Verifier) -> None:
    """Half a container (no central directory): still read as ASiC (its mimetype comes
    first), TOTAL_FAILED / FORMAT_FAILURE."""
    report = offline.verify(signed[: len(signed) // 2])
    assert report.format == "asic"
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert "not a readable ZIP" in report.message_en


def test_encrypted_entry_is_encrypted(signed: bytes, offline: Verifier) -> None:
    """The encryption flag on an entry: INDETERMINATE / ENCRYPTED naming it."""
    data = bytearray(signed)
    for info in zipfile.ZipFile(io.BytesIO(signed)).infolist():
        if info.filename == "du-lieu.json":
            data[info.header_offset + 6] |= 1
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        length = struct.unpack("<H", data[pos + 28 : pos + 30])[0]
        if data[pos + 46 : pos + 46 + length] == b"du-lieu.json":
            data[pos + 8] |= 1
        pos = data.find(b"PK\x01\x02", pos + 1)
    report = offline.verify(bytes(data))
    assert report.sub_indication is SubIndication.ENCRYPTED
    assert "the entry 'du-lieu.json' is encrypted" in report.message_en


def test_unknown_compression_method_is_format_failure(signed: bytes, offline: Verifier) -> None:
    """Only stored and deflate are read (EN 319 162-1 A.1); bzip2 is FORMAT_FAILURE."""
    report = offline.verify(rezip(signed, method=zipfile.ZIP_BZIP2))
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert "compression method 12" in report.message_en


def test_verify_command_sends_asic_files_to_the_verifier(signed: bytes, tmp_path: Path) -> None:
    """verify.special (the command's screening) hands ASiC files to the verifier, with or
    without a mimetype; a plain ZIP stays NOT_SIGNED (an archive)."""
    from verify.special import Kind, signed_format

    (tmp_path / "a.asice").write_bytes(signed)
    (tmp_path / "b.zip").write_bytes(rezip(signed, change={"mimetype": None}))
    (tmp_path / "c.zip").write_bytes(zip_of([("a.txt", b"a")]))
    assert signed_format(tmp_path / "a.asice", 1 << 20) == "asic"
    assert signed_format(tmp_path / "b.zip", 1 << 20) == "asic"
    plain = signed_format(tmp_path / "c.zip", 1 << 20)
    assert isinstance(plain, Kind)
    assert plain.format == "archive"


def test_only_asic_zips_are_claimed() -> None:
    """Office documents, JARs and plain archives are not read as ASiC; an ASiC without
    mimetype still is (by its META-INF names)."""
    assert looks_like_asic(zip_of([MIME_S, ("a.txt", b"a")]))
    assert looks_like_asic(zip_of([("a.txt", b"a"), ("META-INF/timestamp.tst", b"0")]))
    assert not looks_like_asic(zip_of([("word/document.xml", b"<w/>")]))
    assert not looks_like_asic(zip_of([("META-INF/MANIFEST.MF", b"x"), ("a.class", b"")]))
    odt = zip_of([("mimetype", b"application/vnd.oasis.opendocument.text"), ("content.xml", b"")])
    assert not looks_like_asic(odt)
    assert not looks_like_asic(b"%PDF-1.7")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.binary(max_size=4096))
def test_random_bytes_always_get_a_report(offline: Verifier, blob: bytes) -> None:
    """Random bytes after a ZIP signature, read as ASiC: a report, never an exception."""
    reader = AsicReader(offline.engine, limits=ContainerLimits())
    report = asyncio.run(reader.verify(None, b"PK\x03\x04" + blob, PINNED_NOW))
    assert isinstance(report, DocumentReport)
    assert report.format == "asic"
    assert report.indication is not Indication.TOTAL_PASSED


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.data())
def test_damaged_containers_always_get_a_report(
    signed: bytes, offline: Verifier, data: st.DataObject
) -> None:
    """A container made by esign with bytes overwritten anywhere: a report, and never a
    pass unless the damage missed everything that is read."""
    at = data.draw(st.integers(0, len(signed) - 1))
    junk = data.draw(st.binary(min_size=1, max_size=16))
    damaged = signed[:at] + junk + signed[at + len(junk) :]
    report = offline.verify(damaged)
    assert isinstance(report, DocumentReport)
    json.dumps(report.to_dict())


# -- EU DSS's ASiC test files ------------------------------------------------------------------

# file -> (container, covered data files, every signature's integrity, verdict or None
# (our trust: DSS's test PKI is not trusted here), files not covered); what each DSS test
# asserts is in tests/data/dss-asic/SOURCES.md
DSS_FACTS: dict[str, tuple[str, list[str], list[bool | None], SubIndication | None, list[str]]] = {
    "onefile-ok.asics": ("ASiC-S", ["test.text"], [True], None, []),
    "onefile-ok.asice": ("ASiC-E", ["test.text"], [True], None, []),
    "multifiles-ok.asics": ("ASiC-S", ["package.zip"], [True], None, []),
    "multifiles-ok.asice": ("ASiC-E", ["test.text", "test2.text"], [True], None, []),
    "asice-cades-new-line-mimetype": (
        "ASiC-E",
        ["emptyByteArray", "test.text", "test2.text"],
        [True],
        None,
        [],
    ),
    "brokenReference.asice": (
        "ASiC-E",
        ["test.text", "test2.text"],
        [False],
        SubIndication.HASH_FAILURE,
        [],
    ),
    "removedReference.asice": (
        "ASiC-E",
        ["test2.text"],
        [False],
        SubIndication.SIGNED_DATA_NOT_FOUND,
        [],
    ),
    "brokenReferenceAndAlteredManifest.asice": (
        "ASiC-E",
        [],
        [None],
        SubIndication.FORMAT_FAILURE,
        ["test.text", "test2.text"],
    ),
    "removed-doc.asics": ("ASiC-S", ["package.zip"], [False], SubIndication.HASH_FAILURE, []),
    "removed-doc.asice": (
        "ASiC-E",
        ["root_ca.crl", "tsa.crt"],
        [False, False],
        SubIndication.SIGNED_DATA_NOT_FOUND,
        [],
    ),
    "containerWithCounterSig.asics": (
        "ASiC-S",
        ["test_input_unsigned.txt"],
        [False],
        SubIndication.HASH_FAILURE,
        [],
    ),
    "tstNoMimeType.asice": ("ASiC-E", ["toBeSigned.txt", "toBeSigned.pdf"], [True], None, []),
    "ASiC-E-CAdES-BpLTA.sce": ("ASiC-E", ["TEST-DOC.txt"], [True, True], None, []),
    "dss1984.asice": ("ASiC-E", ["TEST-DOC.txt"], [True, True], None, []),
}


@pytest.mark.parametrize("name", sorted(DSS_FACTS))
def test_dss_asic_files_read_as_dss_says(
    name: str, offline: Verifier, validate_report: Callable[[dict[str, Any]], None]
) -> None:
    """Container type, the data files found covered, each signature's and timestamp's
    integrity, and the failure DSS's test names; otherwise INDETERMINATE only because
    DSS's test PKI is not trusted here."""
    container, covered, integrity, failure, uncovered = DSS_FACTS[name]
    report = offline.verify(DSS / name)
    assert report.format == "asic"
    assert report.facts is not None
    assert report.facts["container"] == container
    found = [  # present, and covered by something (intact or not)
        f["name"]
        for f in report.facts["files"]
        if f["covered_by"] and f["size"] is not None and not f["name"].startswith("META-INF/")
    ]
    assert found == covered
    assert [s.integrity for s in report.signatures] == integrity
    assert report.facts["not_covered"] == uncovered
    if failure is None:
        assert report.indication is Indication.INDETERMINATE
        assert {s.sub_indication for s in report.signatures} == {
            SubIndication.NO_CERTIFICATE_CHAIN_FOUND
        }
    else:
        assert report.sub_indication is failure
    validate_report(report.to_dict())


def test_dss_no_signature_container_is_no_signature_found(offline: Verifier) -> None:
    """DSS's no-signature.asics: an empty XAdESSignatures; DSS: no signature found."""
    report = offline.verify(DSS / "no-signature.asics")
    assert report.sub_indication is SubIndication.NO_SIGNATURE_FOUND
    assert report.signatures == ()
