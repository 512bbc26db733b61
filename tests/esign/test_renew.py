"""Renewal: the date each signature's proof lapses (verify.preservation), and ``esign
renew`` renewing exactly the documents due, with a chain checked first, a state file to
resume from, and results that verify after the old TSA certificate has expired."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import cms
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.timestamps import HTTPTimeStamper

import esign
from esign import cli
from fixtures.documents import demo_signer, minimal_pdf, pinned
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from verify import AlgorithmRules, Indication, TrustProfile, ValidationPolicy, Verifier
from verify.preservation import renewal_due

TSA_2027_EXPIRY = datetime(2027, 6, 1, tzinfo=UTC)  # fixtures/pki/demo-pki.yml
DUE_BEFORE = datetime(2028, 1, 1, tzinfo=UTC)
AFTER_EXPIRY = datetime(2027, 9, 1, tzinfo=UTC)
CONTENT = b"<HoSo><SoHoSo>000.00.01.H26-260601-0001</SoHoSo></HoSo>\n"


def tsa_2027(pki: DemoPKI) -> str:
    """The public TSA's key under its certificate that expires on 2027-06-01."""
    return pki.tsa_url("public").rsplit("/", 1)[0] + "/public-tsa-2027"


@dataclass(frozen=True)
class Archive:
    """A folder as an archive keeps it: documents timestamped by either TSA."""

    folder: Path
    originals: dict[str, bytes]


def _make_archive(pki: DemoPKI, trust: TrustProfile, folder: Path) -> Archive:
    folder.mkdir()
    signer = demo_signer(pki, "citizen")
    short, long = tsa_2027(pki), pki.tsa_url("public")
    with pinned(PINNED_NOW):
        # due: B-LTA whose last document timestamp comes from the TSA certificate of 2027
        esign.sign_pdf(
            minimal_pdf("Hồ sơ A"),
            folder / "a.pdf",
            signer,
            level="B-LTA",
            trust=trust,
            tsa_url=short,
        )
        # not due: the same from the TSA certificate that lasts until 2039
        esign.sign_pdf(
            minimal_pdf("Hồ sơ B"),
            folder / "b.pdf",
            signer,
            level="B-LTA",
            trust=trust,
            tsa_url=long,
        )
        # due: a detached CAdES-B-LTA whose archive timestamp is from the 2027 certificate
        (folder / "c.xml").write_bytes(CONTENT)
        esign.sign_detached(
            folder / "c.xml", folder / "c.xml.p7s", signer, level="B-B", trust=trust
        )
        esign.augment_cms(
            folder / "c.xml.p7s",
            folder / "c.xml.p7s",
            level="B-LTA",
            content=folder / "c.xml",
            trust=trust,
            tsa_url=short,
        )
    originals = {p.name: p.read_bytes() for p in folder.iterdir()}
    return Archive(folder, originals)


@pytest.fixture(scope="module")
def archive(
    demo_pki: DemoPKI, public_trust: TrustProfile, tmp_path_factory: pytest.TempPathFactory
) -> Archive:
    return _make_archive(demo_pki, public_trust, tmp_path_factory.mktemp("archive") / "docs")


@pytest.fixture
def copy(archive: Archive, tmp_path: Path) -> Path:
    """A fresh copy of the archive for a test that renews it."""
    dest = tmp_path / "docs"
    shutil.copytree(archive.folder, dest)
    return dest


def _later(trust: TrustProfile, at: datetime) -> Verifier:
    return Verifier(trust, ValidationPolicy(validation_time=at, network=False))


# -- verify.preservation.renewal_due ------------------------------------------------------------


def test_renewal_due_is_the_last_timestamps_tsa_certificate_expiry(
    archive: Archive, checker: Verifier
) -> None:
    """The last document (PAdES) or archive (CAdES) timestamp sets the date: its TSA
    certificate's expiry, said in English and Vietnamese, for each signature by the
    report's index and field name."""
    data = archive.originals["a.pdf"]
    (due,) = renewal_due(data, report=checker.verify(data), now=PINNED_NOW)
    assert (due.index, due.field_name, due.due, due.cause) == (
        0,
        "Signature1",
        TSA_2027_EXPIRY,
        "tsa_certificate_expires",
    )
    assert due.message_en == (
        "before 2027-06-01: the TSA certificate of the last timestamp expires "
        "(Demo Public Time Stamping Authority 2027)"
    )
    assert due.message_vi.startswith(
        "trước 01/06/2027 07:00:00 (GMT+7): chứng thư số của đơn vị cấp dấu thời gian (TSA) "
        "của dấu thời gian cuối cùng hết hạn"
    )
    assert due.timestamp is not None
    assert due.timestamp.startswith("document timestamp ")
    (cades,) = renewal_due(archive.originals["c.xml.p7s"], content=CONTENT, now=PINNED_NOW)
    assert (cades.due, cades.timestamp) == (TSA_2027_EXPIRY, "archive timestamp 1 (v3)")
    (later,) = renewal_due(archive.originals["b.pdf"], now=PINNED_NOW)
    assert later.due == datetime(2039, 1, 1, tzinfo=UTC)
    assert not later.due_before(DUE_BEFORE)
    assert later.to_dict()["due"] == "2039-01-01T00:00:00Z"


def test_renewal_due_without_a_timestamp_is_the_signer_certificate_expiry(
    signer_for, public_trust, pdf_bytes
) -> None:
    """A B-B signature has nothing but its signer's certificate to lapse with."""
    bb = esign.sign_pdf(pdf_bytes, None, signer_for("citizen"), level="B-B", trust=public_trust)
    (due,) = renewal_due(bb.data or b"", now=PINNED_NOW)
    assert (due.due, due.cause) == (datetime(2030, 1, 1, tzinfo=UTC), "signer_certificate_expires")
    assert due.message_en.startswith("before 2030-01-01: the signature has no timestamp")


def test_renewal_due_follows_the_dated_algorithm_rules(
    demo_pki: DemoPKI, signer_for, public_trust, pdf_bytes
) -> None:
    """A timestamp signed with SHA-1 lapses at the rules' SHA-1 sunset, before its TSA
    certificate; already past under the default rules, it is overdue."""
    sha1_tsa = demo_pki.tsa_url("public").rsplit("/", 1)[0] + "/public-tsa-sha1"
    bt = esign.sign_pdf(
        pdf_bytes, None, signer_for("citizen"), level="B-T", trust=public_trust, tsa_url=sha1_tsa
    )
    rules = AlgorithmRules(sha1_until=datetime(2029, 3, 1, tzinfo=UTC))
    (due,) = renewal_due(bt.data or b"", rules=rules, now=PINNED_NOW)
    assert (due.due, due.cause, due.detail) == (rules.sha1_until, "algorithm_sunset", "SHA-1")
    assert due.message_en.startswith("before 2029-03-01: the last timestamp's algorithm")
    (overdue,) = renewal_due(bt.data or b"", now=PINNED_NOW)
    assert overdue.message_en.startswith("overdue since 2019-01-01: ")
    assert overdue.message_vi.startswith("đã quá hạn từ ")


def test_renewal_due_is_the_revocation_of_the_last_timestamps_tsa(
    demo_pki: DemoPKI, signer_for, public_trust, pdf_bytes
) -> None:
    """A TSA certificate revoked after the timestamp was made (known from a CRL fetched
    later and given as extra revocation data) sets the date to its revocation."""
    from certomancer.registry import ServiceLabel

    from verify import process

    revoked_tsa = demo_pki.tsa_url("public").rsplit("/", 1)[0] + "/public-tsa-revoked"
    bt = esign.sign_pdf(
        pdf_bytes,
        None,
        signer_for("citizen"),
        level="B-T",
        trust=public_trust,
        tsa_url=revoked_tsa,
    )
    (unknown,) = renewal_due(bt.data or b"", now=PINNED_NOW)
    assert unknown.cause == "tsa_certificate_expires"  # nothing says it is revoked yet
    crl = demo_pki.arch.service_registry.get_crl(
        ServiceLabel("vn-root"), at_time=datetime(2027, 1, 1, tzinfo=UTC)
    )
    fetched = process.Revocation(crls=((crl, "fetched"),))
    (due,) = renewal_due(bt.data or b"", revocation=fetched, now=PINNED_NOW)
    assert (due.due, due.cause) == (datetime(2026, 12, 1, tzinfo=UTC), "tsa_revoked")
    assert due.message_en == (
        "before 2026-12-01: a certificate on the path of the last timestamp's TSA is revoked "
        "(Demo Public Time Stamping Authority (revoked 2026-12-01), revoked on 2026-12-01, "
        "CRL (fetched))"
    )
    (late,) = renewal_due(bt.data or b"", revocation=fetched, now=datetime(2027, 1, 1, tzinfo=UTC))
    assert late.message_vi.startswith("đã quá hạn từ 01/12/2026 07:00:00 (GMT+7): ")


def test_renewal_due_reports_a_signature_that_does_not_verify(
    demo_pki: DemoPKI, checker: Verifier
) -> None:
    """Renewal cannot help a signature that does not verify now: no date, and why."""
    from fixtures.documents import sign_pdf

    data = sign_pdf(demo_pki, "citizen-revoked", minimal_pdf("x"), at=PINNED_NOW)
    (due,) = renewal_due(data, report=checker.verify(data), now=PINNED_NOW)
    assert (due.due, due.cause) == (None, "not_valid")
    assert due.message_en.startswith("the signature does not verify now; renewal cannot help")


# -- esign renew ---------------------------------------------------------------------------------


def test_renew_picks_exactly_the_documents_due_and_leaves_the_rest(
    demo_pki: DemoPKI, public_trust: TrustProfile, archive: Archive, copy: Path
) -> None:
    """Due before 2028: the PDF and the .p7s timestamped under the 2027 certificate are
    renewed (incrementally; the CMS keeps its signature bytes); the PDF under the 2039
    certificate and the content file are left byte for byte."""
    seen: list[tuple[int, int, str]] = []
    outcomes = esign.renew(
        [copy],
        due_before=DUE_BEFORE,
        trust=public_trust,
        tsa_url=demo_pki.tsa_url("public"),
        progress=lambda done, total, o: seen.append((done, total, Path(o.path).name)),
    )
    assert [(Path(o.path).name, o.status) for o in outcomes] == [
        ("a.pdf", "renewed"),
        ("b.pdf", "not_due"),
        ("c.xml.p7s", "renewed"),
    ]
    assert seen == [(1, 3, "a.pdf"), (2, 3, "b.pdf"), (3, 3, "c.xml.p7s")]
    renewed_pdf, not_due, renewed_cms = outcomes
    assert renewed_pdf.due == TSA_2027_EXPIRY
    assert renewed_pdf.next_due == datetime(2039, 1, 1, tzinfo=UTC)
    assert renewed_pdf.message_en.startswith(
        "renewed (before 2027-06-01: the TSA certificate of the last timestamp expires"
    )
    assert not_due.message_en == "not due before 2028-01-01 (next renewal: 2039-01-01)"
    assert (copy / "b.pdf").read_bytes() == archive.originals["b.pdf"]
    assert (copy / "c.xml").read_bytes() == CONTENT
    a = (copy / "a.pdf").read_bytes()
    assert a.startswith(archive.originals["a.pdf"])
    assert renewed_cms.added[0] == "archive-time-stamp-v3 on SignerInfo 1"
    old = cms.ContentInfo.load(archive.originals["c.xml.p7s"])["content"]["signer_infos"][0]
    new = cms.ContentInfo.load((copy / "c.xml.p7s").read_bytes())["content"]["signer_infos"][0]
    assert new["signature"].dump() == old["signature"].dump()
    assert new["signed_attrs"].dump() == old["signed_attrs"].dump()
    (next_due,) = renewal_due((copy / "c.xml.p7s").read_bytes(), content=CONTENT)
    assert next_due.timestamp == "archive timestamp 2 (v3)"
    assert next_due.due == datetime(2039, 1, 1, tzinfo=UTC)


def test_renewed_document_verifies_offline_after_the_old_tsa_expired(
    demo_pki: DemoPKI, public_trust: TrustProfile, archive: Archive, copy: Path
) -> None:
    """Before the 2027 certificate expires the archived PDF passes offline; after it,
    without renewal, its signature is INDETERMINATE; renewed in time, the signature
    passes offline, proven at its signing time by the new document timestamp, which
    passes too. Now (offline) the renewed PDF and .p7s pass as a whole."""
    esign.renew(
        [copy], due_before=DUE_BEFORE, trust=public_trust, tsa_url=demo_pki.tsa_url("public")
    )
    before = _later(public_trust, datetime(2027, 5, 1, tzinfo=UTC)).verify(
        archive.originals["a.pdf"]
    )
    assert before.indication is Indication.TOTAL_PASSED, before.message_en
    after = _later(public_trust, AFTER_EXPIRY)
    stale = after.verify(archive.originals["a.pdf"])
    assert stale.signatures[0].indication is Indication.INDETERMINATE
    renewed = after.verify(copy / "a.pdf")
    signature, *doc_timestamps = renewed.signatures
    assert signature.indication is Indication.TOTAL_PASSED, signature.message_en
    assert signature.signing_time_proven == PINNED_NOW
    assert doc_timestamps[-1].kind == "document_timestamp"
    assert doc_timestamps[-1].indication is Indication.TOTAL_PASSED
    assert doc_timestamps[-1].signer == {
        "name": "Demo Public Time Stamping Authority",
        "kind": "timestamp_authority",
    }
    now = _later(public_trust, PINNED_NOW)
    assert now.verify(copy / "a.pdf").indication is Indication.TOTAL_PASSED
    cades = now.verify(copy / "c.xml", detached=copy / "c.xml.p7s")
    assert cades.indication is Indication.TOTAL_PASSED, cades.message_en
    assert [t.kind for t in cades.signatures[0].timestamps] == ["signature", "archive", "archive"]


def test_renew_resumes_from_its_state_file(
    demo_pki: DemoPKI, public_trust: TrustProfile, copy: Path, tmp_path: Path
) -> None:
    """Each outcome is a JSON line as soon as it is known; a second run skips what the
    file records as done (a half-written last line is tolerated), and a changed file is
    looked at again."""
    state = tmp_path / "renew.jsonl"
    first = esign.renew(
        [copy],
        due_before=DUE_BEFORE,
        trust=public_trust,
        tsa_url=demo_pki.tsa_url("public"),
        state=state,
    )
    assert len(state.read_text(encoding="utf-8").splitlines()) == 3
    with state.open("a", encoding="utf-8") as f:
        f.write('{"path": "interrupted')  # a run killed mid-line
    again = esign.renew(
        [copy],
        due_before=DUE_BEFORE,
        trust=public_trust,
        tsa_url=demo_pki.tsa_url("public"),
        state=state,
    )
    assert [o.status for o in again] == ["skipped"] * 3
    assert [o.sha256 for o in again] == [o.sha256 for o in first]
    (copy / "b.pdf").write_bytes((copy / "b.pdf").read_bytes() + b"\n")
    third = esign.renew(
        [copy],
        due_before=DUE_BEFORE,
        trust=public_trust,
        tsa_url=demo_pki.tsa_url("public"),
        state=state,
    )
    assert [o.status for o in third] == ["skipped", "not_due", "skipped"]
    lines = state.read_text(encoding="utf-8").splitlines()
    assert lines[3] == '{"path": "interrupted'
    assert '"status": "not_due"' in lines[4]


def test_renewal_with_a_tsa_that_lapses_too_is_refused(
    demo_pki: DemoPKI, public_trust: TrustProfile, archive: Archive, copy: Path
) -> None:
    """A new timestamp from the same 2027 certificate would not last past the date: the
    renewal is refused with the reason and the file left as it was."""
    (outcome,) = esign.renew(
        [copy / "a.pdf"], due_before=DUE_BEFORE, trust=public_trust, tsa_url=tsa_2027(demo_pki)
    )
    assert outcome.status == "refused"
    assert "the new timestamp would lapse before 2028-01-01 too" in outcome.message_en
    assert "dấu thời gian mới cũng hết hiệu lực trước 01/01/2028" in outcome.message_vi
    assert (copy / "a.pdf").read_bytes() == archive.originals["a.pdf"]


def test_renewal_over_a_broken_chain_is_refused(
    demo_pki: DemoPKI,
    signer_for,
    public_trust: TrustProfile,
    tsa,
    pdf_bytes,
    tmp_path: Path,
    capsys,
) -> None:
    """A document timestamp from a TSA outside the trust profile breaks the chain: the
    signature itself still passes, but ``esign renew`` refuses to timestamp over it, exits
    1 and leaves the file."""
    bt = esign.sign_pdf(
        pdf_bytes,
        None,
        signer_for("citizen"),
        level="B-T",
        trust=public_trust,
        tsa_url=tsa["public"],
    )
    writer = IncrementalPdfFileWriter(__import__("io").BytesIO(bt.data or b""), strict=False)
    untrusted = PdfTimeStamper(HTTPTimeStamper(tsa["specialized"]), field_name="Timestamp1")
    stamped = untrusted.timestamp_pdf(writer, "sha256").getvalue()
    doc = tmp_path / "broken.pdf"
    doc.write_bytes(stamped)
    root = tmp_path / "root.pem"
    root.write_bytes(demo_pki.cert_pem("vn-root"))
    code = cli.main(
        [
            "renew",
            str(doc),
            "--due-before",
            "2040-01-01",
            "--tsa",
            tsa["public"],
            "--profile",
            "public",
            "--trust",
            str(root),
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    (line,) = captured.err.splitlines()
    assert line.startswith(f"esign renew: [1/1] {doc}: refused: before 2039-01-01: ")
    assert "not renewed: the timestamp chain is broken at the document timestamp Timestamp1" in (
        line
    )
    assert captured.out.startswith("1 documents due before 2040-01-01 checked in ")
    assert captured.out.rstrip().endswith("0 renewed, 0 not due, 1 refused, 0 failed, 0 skipped")
    assert doc.read_bytes() == stamped


def test_cli_renew_renews_a_folder_and_prints_a_summary(
    demo_pki: DemoPKI, copy: Path, p12_dir: Path, tmp_path: Path, capsys
) -> None:
    """``esign renew FOLDER`` prints its progress on stderr, the summary on stdout, and
    exits 0 when nothing was refused."""
    code = cli.main(
        [
            "renew",
            str(copy),
            "--due-before",
            "2028-01-01",
            "--tsa",
            demo_pki.tsa_url("public"),
            "--profile",
            "public",
            "--trust",
            str(p12_dir / "public-root.pem"),
            "--state",
            str(tmp_path / "s.jsonl"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert [line.split(": ")[2] for line in captured.err.splitlines()] == [
        "renewed",
        "not_due",
        "renewed",
    ]
    assert captured.out.rstrip().endswith("2 renewed, 1 not due, 0 refused, 0 failed, 0 skipped")


def test_verify_due_before_lists_what_must_be_renewed(
    archive: Archive, p12_dir: Path, tmp_path: Path, capsys
) -> None:
    """``verify --due-before DATE`` gives every signature's renewal date in the JSON report
    and lists, in English and Vietnamese, exactly the documents whose last timestamp lapses
    before DATE (a.pdf: its TSA certificate expires 2027-06-01; b.pdf: 2039)."""
    from verify.cli import main as verify_main

    for name in ("a.pdf", "b.pdf"):
        (tmp_path / name).write_bytes(archive.originals[name])
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
            str(tmp_path / "a.pdf"),
            str(tmp_path / "b.pdf"),
        ]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    reports = {Path(r["path"]).name: r for r in map(json.loads, out.splitlines())}
    renewal_a = reports["a.pdf"]["signatures"][0]["renewal"]
    renewal_b = reports["b.pdf"]["signatures"][0]["renewal"]
    assert renewal_a["due"] == "2027-06-01T00:00:00Z"
    assert renewal_a["cause"] == "tsa_certificate_expires"
    assert renewal_b["due"] == "2039-01-01T00:00:00Z"
    assert "to renew before 2027-12-31T17:00:00+00:00" in err  # 2028-01-01 in Vietnam
    assert "1 signature(s)" in err
    assert "a.pdf [Signature1]: before 2027-06-01" in err
    assert "b.pdf" not in err.split("to renew before")[1]
    assert "trước 01/06/2027" in err


def test_the_auditors_report_shows_the_renewal_date(
    archive: Archive, public_trust: TrustProfile
) -> None:
    """With ``renewal_dates`` in the policy, each signature's report carries its renewal
    date and the HTML report shows it in Vietnamese with the English beside; without it,
    nothing is computed."""
    from verify.render import render_html

    data = archive.originals["a.pdf"]
    policy = ValidationPolicy(validation_time=PINNED_NOW, renewal_dates=True)
    report = Verifier(public_trust, policy).verify(data)
    renewal = report.signatures[0].renewal
    assert renewal is not None
    assert renewal["due"] == "2027-06-01T00:00:00Z"
    html = render_html([report], policy=policy, trust=public_trust)
    assert "Gia hạn bằng chứng" in html
    assert "trước 01/06/2027" in html
    plain = Verifier(public_trust, ValidationPolicy(validation_time=PINNED_NOW)).verify(data)
    assert plain.signatures[0].renewal is None
