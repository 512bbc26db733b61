"""ASiC-S renewal: an e-invoice timestamped in an ASiC-S container gets a new timestamp
before the first one lapses, laid out as EU DSS lays out a re-timestamped ASiC-S
(``ASiCWithCAdESService.timestamp`` over a timestamped ASiC-S calls
``ASiCWithCAdESLevelBaselineLTA.extend``): the first ``META-INF/timestamp.tst`` gets its
TSA's validation data, then ``META-INF/ASiCArchiveManifest.xml`` lists it and the data
file and names ``META-INF/timestamp001.tst``, a token over the manifest's bytes.

The first token comes from the demo TSA key whose certificate expires on 2027-06-01; the
renewal from the one valid until 2039. Time travel: validation offline on 2027-09-01.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import cms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import esign
from esign.asic import ARCHIVE_MANIFEST_NAME, TIMESTAMP_NAME, archive_asic
from esign.cli import main as esign_main
from fixtures.attacks import timestamp_token
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.esign.test_asic_lta import TST_MIME, _entries, _imprint, _openssl_verifies, _references
from tests.esign.test_renew import tsa_2027
from tests.esign.test_xml_sign import invoice
from verify import Indication, SubIndication, TrustProfile, ValidationPolicy, Verifier

AFTER_EXPIRY = datetime(2027, 9, 1, tzinfo=UTC)
"""After the first TSA certificate expired (2027-06-01, fixtures/pki/demo-pki.yml)."""
DUE_BEFORE = datetime(2028, 1, 1, tzinfo=UTC)
NAME = "hoa-don.xml"
ASICS_MIME = b"application/vnd.etsi.asic-s+zip"


def _later(trust: TrustProfile, at: datetime = AFTER_EXPIRY) -> Verifier:
    return Verifier(trust, ValidationPolicy(validation_time=at, network=False))


def _stamped(trust: TrustProfile, tsa_url: str, content: bytes | None = None) -> bytes:
    made = esign.timestamp_asic_s((NAME, content or invoice()), None, trust=trust, tsa_url=tsa_url)
    assert made.data is not None
    return made.data


def _zipped(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("mimetype", ASICS_MIME, zipfile.ZIP_STORED)
        for name, value in entries.items():
            if name != "mimetype":
                zf.writestr(name, value, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _signed_parts(token: bytes) -> tuple[bytes, bytes]:
    sd = cms.ContentInfo.load(token)["content"]
    return sd["encap_content_info"].dump(), sd["signer_infos"].dump()


@pytest.fixture(scope="module")
def first(demo_pki: DemoPKI) -> bytes:
    """An e-invoice in an ASiC-S, timestamped (B-T) by the TSA certificate of 2027."""
    from fixtures.documents import pinned

    trust = TrustProfile.custom([demo_pki.root("public")], hierarchy="public")
    with pinned(PINNED_NOW):
        return _stamped(trust, tsa_2027(demo_pki))


@pytest.fixture(scope="module")
def renewed(first: bytes, demo_pki: DemoPKI) -> bytes:
    from fixtures.documents import pinned

    trust = TrustProfile.custom([demo_pki.root("public")], hierarchy="public")
    with pinned(PINNED_NOW):
        res = archive_asic(first, None, trust=trust, tsa_url=demo_pki.tsa_url("public"))
    assert res.data is not None
    return res.data


def test_asics_renewal_is_laid_out_as_eu_dss_lays_it_out(
    first: bytes, public_trust: TrustProfile, tsa, demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """``archive_asic`` on a timestamped ASiC-S: the mimetype stays asic-s; timestamp.tst
    keeps its signed parts and gains its TSA's chain and revocation data; the new
    ASiCArchiveManifest.xml names META-INF/timestamp001.tst and lists timestamp.tst and
    the data file with their SHA-256; the new token's imprint is the manifest's SHA-256 and
    openssl verifies it."""
    res = archive_asic(first, None, trust=public_trust, tsa_url=tsa["public"])
    assert res.data is not None
    assert (res.container, res.manifest, res.timestamp) == (
        "ASiC-S",
        ARCHIVE_MANIFEST_NAME,
        "META-INF/timestamp001.tst",
    )
    assert res.extended == (TIMESTAMP_NAME,)
    assert res.renamed == ()
    before, after = _entries(first), _entries(res.data)
    assert list(after) == [
        "mimetype",
        NAME,
        TIMESTAMP_NAME,
        ARCHIVE_MANIFEST_NAME,
        "META-INF/timestamp001.tst",
    ]
    assert after["mimetype"] == ASICS_MIME
    assert after[NAME] == before[NAME]
    assert _signed_parts(after[TIMESTAMP_NAME]) == _signed_parts(before[TIMESTAMP_NAME])
    sd = cms.ContentInfo.load(after[TIMESTAMP_NAME])["content"]
    assert len(sd["crls"]) > 0  # its TSA's OCSP responses / CRLs, for validation later
    assert len(sd["certificates"]) > len(
        cms.ContentInfo.load(before[TIMESTAMP_NAME])["content"]["certificates"]
    )
    sig_ref, refs = _references(after[ARCHIVE_MANIFEST_NAME])
    assert sig_ref == ("META-INF/timestamp001.tst", TST_MIME)
    assert [(uri, mime, root) for uri, mime, root, _v in refs] == [
        (TIMESTAMP_NAME, TST_MIME, False),
        (NAME, "text/xml", False),
    ]
    for uri, _mime, _root, value in refs:
        assert value == hashlib.sha256(after[uri]).digest(), uri
    token = after["META-INF/timestamp001.tst"]
    assert _imprint(token) == hashlib.sha256(after[ARCHIVE_MANIFEST_NAME]).digest()
    checked = _openssl_verifies(token, after[ARCHIVE_MANIFEST_NAME], demo_pki, tmp_path)
    assert checked.stdout.strip() == "Verification: OK", checked.stderr


def test_second_asics_renewal_renames_the_manifest_and_covers_the_whole_chain(
    renewed: bytes, public_trust: TrustProfile, tsa, demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """Renewed again: ASiCArchiveManifest.xml becomes ASiCArchiveManifest001.xml, bytes
    unchanged; the new manifest names timestamp002.tst and lists both earlier tokens, the
    renamed manifest (Rootfile) and the data file; timestamp.tst is not touched again;
    openssl verifies the new token."""
    res = archive_asic(renewed, None, trust=public_trust, tsa_url=tsa["public"])
    assert res.data is not None
    assert res.extended == ()
    assert res.renamed == ((ARCHIVE_MANIFEST_NAME, "META-INF/ASiCArchiveManifest001.xml"),)
    before, after = _entries(renewed), _entries(res.data)
    assert after["META-INF/ASiCArchiveManifest001.xml"] == before[ARCHIVE_MANIFEST_NAME]
    for name in (NAME, TIMESTAMP_NAME, "META-INF/timestamp001.tst"):
        assert after[name] == before[name], name
    sig_ref, refs = _references(after[ARCHIVE_MANIFEST_NAME])
    assert sig_ref == ("META-INF/timestamp002.tst", TST_MIME)
    assert [(uri, root) for uri, _mime, root, _v in refs] == [
        (TIMESTAMP_NAME, False),
        ("META-INF/timestamp001.tst", False),
        ("META-INF/ASiCArchiveManifest001.xml", True),
        (NAME, False),
    ]
    for uri, _mime, _root, value in refs:
        assert value == hashlib.sha256(after[uri]).digest(), uri
    token = after["META-INF/timestamp002.tst"]
    checked = _openssl_verifies(token, after[ARCHIVE_MANIFEST_NAME], demo_pki, tmp_path)
    assert checked.stdout.strip() == "Verification: OK", checked.stderr
    report = _later(public_trust).verify(res.data)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert not report.warnings


def test_asics_einvoice_after_its_tsa_expired_is_indeterminate_unless_renewed_in_time(
    first: bytes, renewed: bytes, public_trust: TrustProfile
) -> None:
    """Offline on 2027-09-01, after the first TSA certificate expired: the container as
    made is INDETERMINATE (the token proves nothing any more, and says why); renewed
    before the expiry, it passes, timestamp.tst judged at its own time and proving the
    e-invoice existed at the pinned time."""
    later = _later(public_trust)
    stale = later.verify(first)
    assert stale.indication is Indication.INDETERMINATE
    (ts,) = stale.signatures
    assert "certificate expired on 2027-06-01 and no later archive timestamp" in ts.message_en
    assert "đã hết hạn ngày 01/06/2027" in ts.message_vi
    report = later.verify(renewed)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    stamps = {s.field_name: s for s in report.signatures}
    assert list(stamps) == [TIMESTAMP_NAME, "META-INF/timestamp001.tst"]
    assert all(s.indication is Indication.TOTAL_PASSED for s in stamps.values())
    assert stamps[TIMESTAMP_NAME].covers == (NAME,)
    assert stamps[TIMESTAMP_NAME].signing_time_proven == PINNED_NOW
    assert report.facts is not None
    assert report.facts["container"] == "ASiC-S"


def test_a_signed_einvoices_proof_of_time_survives_the_tsa_expiry_when_renewed(
    signer_for, public_trust: TrustProfile, tsa, demo_pki: DemoPKI
) -> None:
    """An e-invoice signed by the seller (XAdES inside the XML) in a timestamped ASiC-S:
    after the first TSA certificate expired, the seller's signature has no proven time
    without renewal, and the pinned time with it."""
    signed = esign.sign_xml(invoice(), signer_for("citizen"), trust=public_trust)
    made = _stamped(public_trust, tsa_2027(demo_pki), signed)
    res = archive_asic(made, None, trust=public_trust, tsa_url=tsa["public"])
    assert res.data is not None
    later = _later(public_trust)
    stale_seller = later.verify(made).signatures[-1]
    seller = later.verify(res.data).signatures[-1]
    assert (stale_seller.kind, seller.kind) == ("xml", "xml")
    assert stale_seller.signing_time_proven is None
    assert seller.signing_time_proven == PINNED_NOW


def test_a_changed_einvoice_in_a_renewed_asics_fails_naming_it(
    renewed: bytes, public_trust: TrustProfile
) -> None:
    """The data file changed after the renewal: both timestamps fail (HASH_FAILURE), the
    archive token's report naming the file and its manifest."""
    entries = _entries(renewed)
    entries[NAME] = entries[NAME].replace(b"</", b" </", 1)
    report = _later(public_trust).verify(_zipped(entries))
    assert report.indication is Indication.TOTAL_FAILED
    stamps = {s.field_name: s for s in report.signatures}
    assert stamps[TIMESTAMP_NAME].sub_indication is SubIndication.HASH_FAILURE
    archive = stamps["META-INF/timestamp001.tst"]
    assert archive.sub_indication is SubIndication.HASH_FAILURE
    assert f"{NAME} does not match its digest in {ARCHIVE_MANIFEST_NAME}" in archive.message_en
    assert f"tệp {NAME} không khớp giá trị băm" in archive.message_vi


def _signed_span(token: bytes) -> tuple[int, int]:
    """Where a token's TSTInfo (what its TSA signed) lies in its bytes."""
    encap = cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"]
    inner = encap.parsed.dump()
    start = token.find(inner)
    assert start > 0
    return start, start + len(inner)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.data())
def test_tampering_a_renewed_asics_never_passes(
    renewed: bytes, public_trust: TrustProfile, data: st.DataObject
) -> None:
    """Whatever byte is changed in the e-invoice, the archive manifest, or what a token's
    TSA signed (its TSTInfo), the renewed container does not pass, now or after the first
    TSA expired. (A token's certificates and revocation values are not signed: as in any
    CMS, a change there is judged by what it breaks, not refused as such.)"""
    entries = _entries(renewed)
    name = data.draw(st.sampled_from(sorted(n for n in entries if n != "mimetype")))
    body = bytearray(entries[name])
    start, end = _signed_span(bytes(body)) if name.endswith(".tst") else (0, len(body))
    body[data.draw(st.integers(start, end - 1))] ^= data.draw(st.integers(1, 255))
    tampered = _zipped({**entries, name: bytes(body)})
    at = data.draw(st.sampled_from([PINNED_NOW, AFTER_EXPIRY]))
    assert _later(public_trust, at).verify(tampered).indication is not Indication.TOTAL_PASSED


def _gap_container(pki: DemoPKI, leave_out: str) -> bytes:
    """An ASiC-S e-invoice timestamped on 2026-05-01 by the TSA certificate of 2027, then
    given (2026-05-15, by the trusted demo TSA) an archive manifest that leaves
    ``leave_out`` out."""
    from esign.asic import archive_manifest_xml

    first = timestamp_token(
        pki, invoice(), at=datetime(2026, 5, 1, tzinfo=UTC), service="public-tsa-2027"
    )
    entries = {NAME: invoice(), TIMESTAMP_NAME: first.dump()}
    listed = [(n, hashlib.sha256(entries[n]).digest()) for n in (TIMESTAMP_NAME, NAME)]
    manifest = archive_manifest_xml(
        "META-INF/timestamp001.tst", [r for r in listed if r[0] != leave_out], "sha256"
    )
    token = timestamp_token(pki, manifest, at=datetime(2026, 5, 15, tzinfo=UTC)).dump()
    return _zipped({**entries, ARCHIVE_MANIFEST_NAME: manifest, "META-INF/timestamp001.tst": token})


def test_an_archive_manifest_leaving_out_the_first_timestamp_is_named_and_closed_by_renewal(
    demo_pki: DemoPKI, public_trust: TrustProfile, checker: Verifier, tsa, tmp_path
) -> None:
    """An ASiCArchiveManifest that leaves out timestamp.tst: verify names the gap (English
    and Vietnamese); ``esign renew`` finds the container due when the left-out token's TSA
    certificate expires (2027-06-01, not the archive token's 2039) and renews it: the new
    manifest lists everything, the gap is no longer named, and the e-invoice passes
    offline after the first expiry."""
    gap = _gap_container(demo_pki, TIMESTAMP_NAME)
    report = checker.verify(gap)
    en = (
        f"the archive manifest {ARCHIVE_MANIFEST_NAME} leaves out the earlier timestamp "
        f"{TIMESTAMP_NAME}: the archive chain is broken there"
    )
    vi = (
        f"bảng kê lưu trữ {ARCHIVE_MANIFEST_NAME} không bao gồm dấu thời gian trước nó "
        f"{TIMESTAMP_NAME}: chuỗi lưu trữ bị đứt tại đó"
    )
    assert any(en in w and vi in w for w in report.warnings), report.warnings
    assert _later(public_trust).verify(gap).indication is Indication.INDETERMINATE
    doc = tmp_path / "hoa-don.asics"
    doc.write_bytes(gap)
    (outcome,) = esign.renew(
        [doc], due_before=DUE_BEFORE, trust=public_trust, tsa_url=tsa["public"]
    )
    assert outcome.status == "renewed", outcome.message_en
    assert outcome.due == datetime(2027, 6, 1, tzinfo=UTC)
    assert TIMESTAMP_NAME in outcome.message_en
    renewed = doc.read_bytes()
    _sig, refs = _references(_entries(renewed)[ARCHIVE_MANIFEST_NAME])
    assert TIMESTAMP_NAME in [uri for uri, _m, _r, _v in refs]
    assert not checker.verify(renewed).warnings
    after = _later(public_trust).verify(renewed)
    assert after.indication is Indication.TOTAL_PASSED, after.message_en


def test_an_archive_manifest_leaving_out_the_einvoice_is_named_until_a_renewal_lists_it(
    demo_pki: DemoPKI, public_trust: TrustProfile, checker: Verifier, tsa
) -> None:
    """An ASiCArchiveManifest that lists timestamp.tst but not the e-invoice: verify names
    the gap in both languages (the e-invoice keeps its proof through timestamp.tst, so the
    container still passes); once archive_asic has added a manifest that lists it, the
    gap is no longer named."""
    gap = _gap_container(demo_pki, NAME)
    report = checker.verify(gap)
    en = f"the archive manifest {ARCHIVE_MANIFEST_NAME} leaves out the data file {NAME}"
    vi = f"bảng kê lưu trữ {ARCHIVE_MANIFEST_NAME} không bao gồm tệp dữ liệu {NAME}"
    assert any(en in w and vi in w for w in report.warnings), report.warnings
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    closed = archive_asic(gap, None, trust=public_trust, tsa_url=tsa["public"])
    assert closed.data is not None
    assert not checker.verify(closed.data).warnings


def test_renewal_over_an_untrusted_archive_timestamp_is_refused(
    first: bytes, public_trust: TrustProfile, both_trust: TrustProfile, tsa, tmp_path: Path
) -> None:
    """An archive timestamp from a TSA outside the trust profile (the specialized
    hierarchy's) breaks the chain: the container does not verify now under the public
    profile, so neither archive_asic nor esign renew adds to it."""
    untrusted = archive_asic(first, None, trust=both_trust, tsa_url=tsa["specialized"])
    assert untrusted.data is not None
    with pytest.raises(esign.TimestampError, match="does not verify now") as refused:
        archive_asic(untrusted.data, None, trust=public_trust, tsa_url=tsa["public"])
    assert "không hợp lệ tại thời điểm này" in (refused.value.message_vi or "")
    doc = tmp_path / "hoa-don.scs"
    doc.write_bytes(untrusted.data)
    (outcome,) = esign.renew(
        [tmp_path], due_before=DUE_BEFORE, trust=public_trust, tsa_url=tsa["public"]
    )
    assert outcome.status == "refused"
    assert "the container does not verify now; renewal cannot help" in outcome.message_en
    assert "gia hạn không giúp được" in outcome.message_vi
    assert doc.read_bytes() == untrusted.data


def test_asics_that_cannot_be_renewed_are_refused_with_the_reason(
    public_trust: TrustProfile, tsa
) -> None:
    """An ASiC-S with no timestamp, with a signature (its long-term proof goes inside the
    signature), or with two data files: an input error saying why, in both languages."""
    cases = {
        "no timestamp": ({NAME: invoice()}, "holds no timestamp", "không có dấu thời gian"),
        "signature": (
            {NAME: invoice(), "META-INF/signature.p7s": b"0", TIMESTAMP_NAME: b"0"},
            "holds a signature",
            "có chữ ký",
        ),
        "two files": (
            {NAME: invoice(), "b.xml": b"<b/>", TIMESTAMP_NAME: b"0"},
            "exactly one data file; this one holds 2",
            "đúng một tệp dữ liệu",
        ),
    }
    for entries, en, vi in cases.values():
        with pytest.raises(esign.InputError, match=en) as refused:
            archive_asic(_zipped(entries), None, trust=public_trust, tsa_url=tsa["public"])
        assert vi in (refused.value.message_vi or "")


def test_esign_renew_renews_the_asics_due_and_leaves_the_others(
    demo_pki: DemoPKI, public_trust: TrustProfile, tsa, tmp_path: Path
) -> None:
    """``esign renew`` over a folder: the .asics stamped by the 2027 certificate is due and
    renewed (the outcome says what was added; the next date is 2039), the .scs stamped by
    the 2039 one is not due; the renewed file passes offline after the first expiry; the
    evidence folder keeps the container as validated."""
    folder = tmp_path / "luu-tru"
    folder.mkdir()
    due = _stamped(public_trust, tsa_2027(demo_pki))
    (folder / "a.asics").write_bytes(due)
    (folder / "b.scs").write_bytes(_stamped(public_trust, tsa["public"]))
    evidence = tmp_path / "bang-chung"
    outcomes = esign.renew(
        [folder],
        due_before=DUE_BEFORE,
        trust=public_trust,
        tsa_url=tsa["public"],
        evidence=evidence,
    )
    by_name = {Path(o.path).name: o for o in outcomes}
    assert [by_name["a.asics"].status, by_name["b.scs"].status] == ["renewed", "not_due"]
    renewed = by_name["a.asics"]
    assert renewed.due == datetime(2027, 6, 1, tzinfo=UTC)
    assert renewed.next_due == datetime(2039, 1, 1, tzinfo=UTC)
    assert renewed.added == (
        f"validation data for {TIMESTAMP_NAME}'s TSA put into it",
        f"archive manifest {ARCHIVE_MANIFEST_NAME} with its timestamp META-INF/timestamp001.tst",
    )
    assert by_name["b.scs"].due == datetime(2039, 1, 1, tzinfo=UTC)
    report = _later(public_trust).verify(folder / "a.asics")
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    (kept,) = [p for p in evidence.iterdir() if p.is_dir()]
    assert (kept / "validated.asics").read_bytes() == due
    about = json.loads((kept / "renewal.json").read_text(encoding="utf-8"))
    assert about["renewed_sha256"] == hashlib.sha256((folder / "a.asics").read_bytes()).hexdigest()


def test_verify_reports_the_renewal_date_of_an_asics(
    first: bytes, renewed: bytes, public_trust: TrustProfile
) -> None:
    """With renewal dates asked for, each timestamp of the ASiC-S gets the date its proof
    lapses: before the renewal the first token's TSA certificate expiry (2027-06-01); after
    it, the archive token's (2039-01-01), for the first token too (the archive token now
    proves it)."""
    policy = ValidationPolicy(validation_time=PINNED_NOW, renewal_dates=True)
    verifier = Verifier(public_trust, policy)
    (ts,) = verifier.verify(first).signatures
    assert ts.renewal is not None
    assert ts.renewal["due"] == "2027-06-01T00:00:00Z"
    assert ts.renewal["cause"] == "tsa_certificate_expires"
    assert ts.renewal["timestamp"] == f"container timestamp {TIMESTAMP_NAME}"
    assert ts.renewal["message_en"].startswith("before 2027-06-01: ")
    assert ts.renewal["message_vi"].startswith("trước 01/06/2027")
    after = verifier.verify(renewed).signatures
    assert [s.renewal["due"] for s in after if s.renewal] == ["2039-01-01T00:00:00Z"] * 2
    assert {s.renewal["timestamp"] for s in after if s.renewal} == {
        "container timestamp META-INF/timestamp001.tst"
    }


def test_verify_due_before_lists_an_asics_to_renew(
    first: bytes, renewed: bytes, p12_dir: Path, tmp_path: Path, capsys
) -> None:
    """``verify --due-before 2028-01-01`` lists the timestamped e-invoice made by the 2027
    TSA certificate, and not the renewed one."""
    from verify.cli import main as verify_main

    (tmp_path / "a.asics").write_bytes(first)
    (tmp_path / "b.asics").write_bytes(renewed)
    status = verify_main(
        [
            "--json",
            "--no-cache",
            "--at",
            PINNED_NOW.isoformat(),
            "--trust",
            str(p12_dir / "public-root.pem"),
            "--due-before",
            DUE_BEFORE.date().isoformat(),
            str(tmp_path / "a.asics"),
            str(tmp_path / "b.asics"),
        ]
    )
    _out, err = capsys.readouterr()
    assert status == 0, err
    assert "1 signature(s)" in err
    assert f"a.asics [{TIMESTAMP_NAME}]: before 2027-06-01" in err
    assert "b.asics" not in err.split("to renew before")[1]


def test_cli_archive_renews_an_asics(
    first: bytes, p12_dir: Path, tsa, tmp_path: Path, capsys
) -> None:
    """``esign asic OUT.asics IN.asics --archive`` renews the ASiC-S and says what it did."""
    given = tmp_path / "hoa-don.asics"
    given.write_bytes(first)
    code = esign_main(
        [
            "asic",
            str(given),
            str(given),
            "--archive",
            "--tsa",
            tsa["public"],
            "--profile",
            "public",
            "--trust",
            str(p12_dir / "public-root.pem"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.strip() == (
        f"{given}: ASiC-S B-LTA, {ARCHIVE_MANIFEST_NAME} timestamped in "
        f"META-INF/timestamp001.tst; {TIMESTAMP_NAME} given its TSA's validation data"
    )
    assert ARCHIVE_MANIFEST_NAME in _entries(given.read_bytes())
