"""Signed submissions: what submit() and 'eforms submit' produce verifies, and nothing else is made.

Real loopback OCSP/CRL/TSA (the demo PKI), the time pinned at PINNED_NOW and passed in.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

import esign
from eforms import (
    Attachment,
    AttachmentRefused,
    DossierCodes,
    FormDefinition,
    FormValidationError,
    SignerMismatch,
    Submission,
    SubmissionError,
    autofill_sync,
    bundled_catalog,
    sqlite_registry,
    stamp_for,
    submit,
)
from eforms.cli import main
from fixtures.documents import demo_signer, minimal_pdf, pinned
from fixtures.documents import sign_detached as fx_sign_detached
from fixtures.documents import sign_pdf as fx_sign_pdf
from fixtures.pki import DemoPKI
from fixtures.pki.build import P12_PASSWORD
from fixtures.registry.build import DEMO_CITIZEN
from tests.conftest import PINNED_NOW
from verify import Indication, TrustProfile, ValidationPolicy, Verifier

REPO = Path(__file__).resolve().parents[2]
FORM = "to-khai-thay-doi-thong-tin-cu-tru"
EXAMPLE = json.loads((REPO / "eforms" / "data" / "examples" / f"{FORM}.json").read_text("utf-8"))
AGENCY = "000.00.00.H29"
# PINNED_NOW is 2026-06-01 10:00 UTC, 17:00 in Hà Nội: the same day
CODE_RE = re.compile(r"000\.00\.00\.H29-260601-\d{4}")


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    """pyHanko stamps its signing time from the clock: hold it at PINNED_NOW."""
    with pinned(PINNED_NOW):
        yield


@pytest.fixture(scope="module")
def form() -> FormDefinition:
    return bundled_catalog().form(FORM)


@pytest.fixture(scope="module")
def trust(demo_pki: DemoPKI) -> TrustProfile:
    return TrustProfile.custom([demo_pki.root("public")], hierarchy="public").with_extra_anchors(
        [demo_pki.root("specialized")], hierarchy="specialized"
    )


@pytest.fixture(scope="module")
def checker(trust: TrustProfile) -> Verifier:
    return Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW))


def _submit(
    form: FormDefinition, pki: DemoPKI, trust: TrustProfile, tmp: Path, **kwargs: Any
) -> Submission:
    options: dict[str, Any] = {
        "trust": trust,
        "tsa_url": pki.tsa_url("public"),
        "agency": AGENCY,
        "codes": DossierCodes(tmp / "state" / "codes.sqlite"),
        "now": PINNED_NOW,
        "place": "Hà Nội",
        **kwargs,
    }
    data = options.pop("data", EXAMPLE["valid"])
    signer = options.pop("signer", demo_signer(pki, "citizen"))
    return submit(form, data, signer, **options)


@pytest.fixture(scope="module")
def bundle(
    form: FormDefinition,
    demo_pki: DemoPKI,
    trust: TrustProfile,
    tmp_path_factory: pytest.TempPathFactory,
) -> Submission:
    """One dossier with a signed PDF attachment, a detached-signed one and a plain one."""
    tmp = tmp_path_factory.mktemp("bundle")
    with pinned(PINNED_NOW):
        certified_copy = fx_sign_pdf(
            demo_pki, "official", minimal_pdf("Giay xac nhan"), at=PINNED_NOW
        )
        scan = b"%scan of a household book%"
        attachments = [
            Attachment("xac-nhan.pdf", certified_copy),
            Attachment(
                "so-ho-khau.bin", scan, fx_sign_detached(demo_pki, "citizen", scan, at=PINNED_NOW)
            ),
            Attachment("anh.jpg", b"\xff\xd8\xff\xe0 not really a photo"),
        ]
        return _submit(form, demo_pki, trust, tmp, attachments=attachments, out_dir=tmp / "out")


def _pyhanko_bottom_lines(pdf: bytes, pki: DemoPKI) -> list[bool]:
    vc = ValidationContext(
        trust_roots=[pki.root("public"), pki.root("specialized")],
        allow_fetching=True,
        moment=PINNED_NOW,
    )
    reader = PdfFileReader(io.BytesIO(pdf))
    return [
        validate_pdf_signature(sig, vc).bottom_line for sig in reader.embedded_regular_signatures
    ]


def test_submitted_pdf_verifies_with_verify_and_pyhanko(
    bundle: Submission, checker: Verifier, demo_pki: DemoPKI
) -> None:
    """The signed form is PAdES B-LT by the citizen (public hierarchy), TOTAL_PASSED in both."""
    report = checker.verify_pdf(bundle.pdf)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    (sig,) = report.signatures
    assert sig.level == "PAdES-B-LT"
    assert sig.field_name == "CongDan"
    assert sig.trust_anchor_profile == "public"
    assert (sig.signer or {})["name"] == "Nguyễn Thị Hoà"
    assert _pyhanko_bottom_lines(bundle.pdf, demo_pki) == [True]


def test_submitted_pdf_verifies_offline_from_what_it_embeds(
    bundle: Submission, trust: TrustProfile
) -> None:
    """B-LT: with the network off, the chain, OCSP answers and timestamp in the PDF suffice."""
    offline = Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW, network=False))
    report = offline.verify_pdf(bundle.pdf)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en


def test_writing_a_bundle_twice_refuses_and_keeps_the_first(
    bundle: Submission, tmp_path: Path
) -> None:
    """The folder is made by one rename: a second write is refused and leaves no debris."""
    first = bundle.write(tmp_path)
    with pytest.raises(SubmissionError, match="already exists"):
        bundle.write(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [bundle.dossier_code]
    assert (first / "manifest.json").read_bytes() == bundle.manifest_json


def test_bundle_folder_holds_every_part_and_the_manifest_hashes_match(bundle: Submission) -> None:
    """The folder has exactly the bundle's files; every manifest hash is the file's SHA-256."""
    assert bundle.folder is not None
    assert bundle.folder.name == bundle.dossier_code
    on_disk = {
        p.relative_to(bundle.folder).as_posix(): p.read_bytes()
        for p in bundle.folder.rglob("*")
        if p.is_file()
    }
    assert on_disk == bundle.files()
    manifest = json.loads(on_disk["manifest.json"])
    listed = {part["path"]: part for part in manifest["parts"]}
    assert set(listed) == set(on_disk) - {"manifest.json"}
    for path, part in listed.items():
        assert part["sha256"] == hashlib.sha256(on_disk[path]).hexdigest()
        assert part["size"] == len(on_disk[path])
    assert listed[f"{FORM}.pdf"]["role"] == "signed-form"
    assert listed["attachments/so-ho-khau.bin.p7s"]["role"] == "attachment-signature"
    # no temporary folder left beside it
    assert [p.name for p in bundle.folder.parent.iterdir()] == [bundle.dossier_code]


def test_manifest_names_code_procedure_form_signer_and_utc_times(bundle: Submission) -> None:
    """The manifest records the dossier code, procedure, form id/version, signer and UTC times."""
    manifest = json.loads(bundle.manifest_json)
    assert CODE_RE.fullmatch(manifest["dossier_code"])
    assert manifest["dossier_code"] == bundle.dossier_code
    assert manifest["procedure"] == "1.004222"
    assert manifest["form"] == {"id": FORM, "version": "2025.1"}
    assert manifest["submitted_at"] == "2026-06-01T10:00:00+00:00"
    assert manifest["signature"]["signed_at"] == "2026-06-01T10:00:00+00:00"
    assert manifest["signature"]["level"] == "PAdES-B-LT"
    assert manifest["signature"]["signer"]["identifiers"][0]["value"] == "001190012345"
    signed = {a["name"]: a for a in manifest["attachments"]}
    assert signed["xac-nhan.pdf"]["signed"] is True
    assert signed["xac-nhan.pdf"]["indication"] == "TOTAL_PASSED"
    assert signed["so-ho-khau.bin"]["signers"] == ["Nguyễn Thị Hoà"]
    assert signed["anh.jpg"]["signed"] is False
    assert json.loads(bundle.data_json) == bundle.data


def test_signed_pdf_embeds_the_data_and_the_dossier_record(bundle: Submission) -> None:
    """The signed PDF carries the JSON data and ho-so.json (code, attachment hashes)."""
    files = PdfReader(io.BytesIO(bundle.pdf)).attachments
    assert json.loads(files[f"{FORM}.json"][0]) == bundle.data
    record = json.loads(files["ho-so.json"][0])
    assert record["dossier_code"] == bundle.dossier_code
    hashes = {a["name"]: a["sha256"] for a in record["attachments"]}
    for checked in bundle.attachments:
        expected = hashlib.sha256(checked.attachment.content).hexdigest()
        assert hashes[checked.attachment.name] == expected


def test_official_countersigns_with_a_field_lock_and_a_later_change_fails(
    bundle: Submission, demo_pki: DemoPKI, trust: TrustProfile, checker: Verifier
) -> None:
    """An official's B-LT countersignature locks all fields; a signature after it breaks it."""
    counter = esign.sign_pdf(
        bundle.pdf,
        None,
        demo_signer(demo_pki, "official"),
        profile=esign.SPECIALIZED,
        level="B-LT",
        trust=trust,
        tsa_url=demo_pki.tsa_url("specialized"),
        field_name="CanBo",
        visible=stamp_for(bundle.pdf, "official"),
        field_lock="all",
    )
    pdf = counter.data or b""
    report = checker.verify_pdf(pdf)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert [(s.field_name, s.indication) for s in report.signatures] == [
        ("CongDan", Indication.TOTAL_PASSED),
        ("CanBo", Indication.TOTAL_PASSED),
    ]
    assert report.signatures[1].trust_anchor_profile == "specialized"
    assert _pyhanko_bottom_lines(pdf, demo_pki) == [True, True]
    assert PdfFileReader(io.BytesIO(pdf)).embedded_signatures[1].fieldmdp is not None

    later = esign.sign_pdf(
        pdf, None, demo_signer(demo_pki, "citizen-ec"), level="B-B", trust=trust, field_name="Late"
    )
    after = checker.verify_pdf(later.data or b"")
    assert after.indication is Indication.TOTAL_FAILED
    by_field = {s.field_name: s.indication for s in after.signatures}
    assert by_field["CanBo"] is Indication.TOTAL_FAILED
    assert _pyhanko_bottom_lines(later.data or b"", demo_pki)[1] is False


def _words(pdf: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """(word, xMin, yMin, xMax, yMax) from poppler, y measured from the page's top."""
    html = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<'
    return [
        (w, float(x1), float(y1), float(x2), float(y2))
        for x1, y1, x2, y2, w in re.findall(pattern, html)
    ]


@pytest.mark.parametrize("form_id", [FORM, "giay-de-nghi-dang-ky-ho-kinh-doanh"])
def test_stamps_go_under_the_signature_hint_above_the_name(form_id: str, tmp_path: Path) -> None:
    """stamp_for finds the signature block (page 2 on a two-page form): the declarant's box
    sits between "(Ký, ghi rõ họ tên)" and the printed name, the official's to its left."""
    from eforms import render_pdf, validate

    form = bundled_catalog().form(form_id)
    example = json.loads((REPO / "eforms" / "data" / "examples" / f"{form_id}.json").read_text())
    data = validate(form, example["valid"], today=PINNED_NOW.date()).raise_for_status().data
    path = tmp_path / "form.pdf"
    path.write_bytes(render_pdf(form, data))
    pdf = path.read_bytes()
    pages = int(PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Count"])
    declarant, official = stamp_for(pdf), stamp_for(pdf, "official")
    assert declarant.page == official.page == pages
    words = _words(path, pages)
    height = 841.89
    hint = next(w for w in words if w[0] == "(Ký,")
    name = next(w for w in words if w[2] > hint[4] and w[1] > 300)  # the line under the hint
    x1, y1, x2, y2 = declarant.box
    assert height - name[2] <= y1 < y2 <= height - hint[4]
    hint_end = next(w for w in words if w[0] == "tên)" and abs(w[2] - hint[2]) < 1)
    assert x1 <= hint[1]
    assert x2 >= hint_end[3]
    _ox1, oy1, ox2, oy2 = official.box
    assert ox2 < x1
    assert oy1 == y1
    assert oy2 >= y2


def test_stamp_for_another_pdf_falls_back_to_the_last_page() -> None:
    """A PDF without the signature block gets a box at the bottom of its last page."""
    stamp = stamp_for(minimal_pdf("Khong co khoi chu ky", pages=3))
    assert stamp.page == -1
    assert stamp.box[1] >= 40


def test_invalid_data_raises_field_errors_and_makes_nothing(
    form: FormDefinition, demo_pki: DemoPKI, trust: TrustProfile, tmp_path: Path
) -> None:
    """Bad data: FormValidationError with every field error; no PDF, no code, no folder."""
    with pytest.raises(FormValidationError) as caught:
        _submit(
            form,
            demo_pki,
            trust,
            tmp_path,
            data=EXAMPLE["invalid"]["data"],
            out_dir=tmp_path / "out",
        )
    pointers = {e.pointer for e in caught.value.errors}
    assert "/applicant/idNumber" in pointers
    assert len(caught.value.errors) >= 2
    assert list(tmp_path.iterdir()) == []  # not even the dossier counter


def test_changed_locked_autofill_value_is_refused_before_signing(
    form: FormDefinition,
    demo_pki: DemoPKI,
    trust: TrustProfile,
    registry_db: Path,
    tmp_path: Path,
) -> None:
    """A value autofilled from the population registry and locked cannot be changed on submit."""
    typed = {k: v for k, v in EXAMPLE["valid"].items() if k != "applicant"}
    filled = autofill_sync(
        form, DEMO_CITIZEN, sqlite_registry(registry_db), clock=lambda: PINNED_NOW, data=typed
    )
    assert filled.values["/applicant/fullName"].locked
    changed = json.loads(json.dumps(filled.data))
    changed["applicant"]["fullName"] = "Nguyễn Văn Bình"
    with pytest.raises(FormValidationError) as caught:
        _submit(form, demo_pki, trust, tmp_path, data=changed, autofill=filled, out_dir=tmp_path)
    assert [(e.pointer, e.code) for e in caught.value.errors] == [("/applicant/fullName", "locked")]
    assert list(tmp_path.iterdir()) == []


def test_attachment_whose_signature_fails_refuses_the_submission(
    form: FormDefinition, demo_pki: DemoPKI, trust: TrustProfile, tmp_path: Path
) -> None:
    """A detached signature over other bytes, or a tampered signed PDF: refused, nothing written."""
    content = b"giay to dinh kem"
    wrong = fx_sign_detached(demo_pki, "citizen", b"other bytes", at=PINNED_NOW)
    with pytest.raises(AttachmentRefused) as caught:
        _submit(
            form,
            demo_pki,
            trust,
            tmp_path,
            attachments=[Attachment("giay.txt", content, wrong)],
            out_dir=tmp_path / "out",
        )
    assert caught.value.name == "giay.txt"
    assert caught.value.report is not None
    assert caught.value.report.indication is Indication.TOTAL_FAILED
    assert "giay.txt" in str(caught.value)

    signed = bytearray(fx_sign_pdf(demo_pki, "citizen", minimal_pdf("Ban sao"), at=PINNED_NOW))
    pos = signed.index(b"595 842")
    signed[pos + 2] ^= 0x01
    with pytest.raises(AttachmentRefused):
        _submit(
            form,
            demo_pki,
            trust,
            tmp_path,
            attachments=[Attachment("ban-sao.pdf", bytes(signed))],
            out_dir=tmp_path / "out",
        )
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "state").exists()  # no dossier code used up


def test_attachment_by_revoked_signer_is_refused(
    form: FormDefinition, demo_pki: DemoPKI, trust: TrustProfile, tmp_path: Path
) -> None:
    """An attachment signed with a certificate revoked before the signing time is refused."""
    pdf = fx_sign_pdf(demo_pki, "citizen-revoked", minimal_pdf("Ban sao"), at=PINNED_NOW)
    with pytest.raises(AttachmentRefused, match="does not verify"):
        _submit(form, demo_pki, trust, tmp_path, attachments=[Attachment("ban-sao.pdf", pdf)])


def test_refused_certificate_writes_nothing(
    form: FormDefinition, demo_pki: DemoPKI, trust: TrustProfile, tmp_path: Path
) -> None:
    """A revoked signer is refused by esign before signing; no bundle folder appears."""
    with pytest.raises(esign.CertificateRevoked):
        _submit(
            form,
            demo_pki,
            trust,
            tmp_path,
            signer=demo_signer(demo_pki, "citizen-revoked"),
            out_dir=tmp_path / "out",
        )
    assert not (tmp_path / "out").exists()


def _declared_by_hoa() -> dict[str, Any]:
    """The example data declared by the holder of the demo "citizen" certificate."""
    data: dict[str, Any] = json.loads(json.dumps(EXAMPLE["valid"]))
    data["applicant"].update(fullName="Nguyễn Thị Hoà", sex="F", idNumber="001190012345")
    return data


def test_declarant_signing_their_own_declaration_is_accepted(
    form: FormDefinition, demo_pki: DemoPKI, trust: TrustProfile, tmp_path: Path
) -> None:
    """declarant_id: the citizen whose CCCD the form names signs it; the dossier is made."""
    made = _submit(
        form,
        demo_pki,
        trust,
        tmp_path,
        data=_declared_by_hoa(),
        declarant_id="/applicant/idNumber",
        level="B-T",
        visible=False,
    )
    assert CODE_RE.fullmatch(made.dossier_code)
    assert made.manifest["signature"]["signer"]["name"] == "Nguyễn Thị Hoà"


def test_someone_else_signing_the_declaration_is_refused_before_a_code(
    form: FormDefinition, demo_pki: DemoPKI, trust: TrustProfile, tmp_path: Path
) -> None:
    """declarant_id: a certificate without the form's personal ID refuses; nothing is made."""
    with pytest.raises(SignerMismatch) as caught:
        _submit(
            form,
            demo_pki,
            trust,
            tmp_path,
            declarant_id="/applicant/idNumber",
            out_dir=tmp_path / "out",
        )
    assert caught.value.expected == "001090012345"
    assert caught.value.found == ("001190012345",)
    assert "001190012345" in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # no bundle, no dossier counter


def test_declarant_pointer_that_names_nothing_is_an_error(
    form: FormDefinition, demo_pki: DemoPKI, trust: TrustProfile, tmp_path: Path
) -> None:
    """declarant_id pointing at no value is a SubmissionError naming the pointer."""
    with pytest.raises(SubmissionError, match="/applicant/nope"):
        _submit(form, demo_pki, trust, tmp_path, declarant_id="/applicant/nope")


def test_concurrent_submits_get_distinct_codes_in_format(
    form: FormDefinition, demo_pki: DemoPKI, trust: TrustProfile, tmp_path: Path
) -> None:
    """Three submits at once on one counter: three different codes, all in the default format."""

    def one(_n: int) -> Submission:
        return _submit(form, demo_pki, trust, tmp_path, level="B-T", visible=False)

    with ThreadPoolExecutor(3) as pool:
        codes = [b.dossier_code for b in pool.map(one, range(3))]
    assert len(set(codes)) == 3
    assert all(CODE_RE.fullmatch(c) for c in codes)
    assert sorted(c[-4:] for c in codes) == ["0001", "0002", "0003"]


_ISSUER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timezone
    from eforms import DossierCodes
    codes = DossierCodes(sys.argv[1])
    at = datetime(2026, 6, 1, 10, 0, tzinfo=timezone.utc)
    for _ in range(int(sys.argv[2])):
        print(codes.issue("000.00.00.H29", at))
    """
)


def test_dossier_codes_are_unique_across_processes(tmp_path: Path) -> None:
    """Four processes issuing 15 codes each from one file: 60 distinct codes, sequence 1..60."""
    db = tmp_path / "codes.sqlite"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _ISSUER, str(db), "15"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    codes: list[str] = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        codes += out.split()
    assert len(codes) == len(set(codes)) == 60
    assert all(CODE_RE.fullmatch(c) for c in codes)
    assert sorted(int(c[-4:]) for c in codes) == list(range(1, 61))


def test_code_format_is_configurable_and_dated_in_hanoi(tmp_path: Path) -> None:
    """A custom format counts per what it shows; 18:30 UTC on 31 May is 1 June in Hà Nội."""
    from datetime import UTC, datetime

    codes = DossierCodes(tmp_path / "c.sqlite", template="{procedure}/{yyyymmdd}/{seq:06d}")
    late = datetime(2026, 5, 31, 18, 30, tzinfo=UTC)
    assert codes.issue("X", late, procedure="1.004222") == "1.004222/20260601/000001"
    assert codes.issue("X", late, procedure="1.004222") == "1.004222/20260601/000002"
    assert codes.issue("X", late, procedure="2.000488") == "2.000488/20260601/000001"
    default = DossierCodes(tmp_path / "d.sqlite")
    assert default.issue("H29", late) == "H29-260601-0001"
    assert default.issue("H29", datetime(2026, 5, 31, 16, 59, tzinfo=UTC)) == "H29-260531-0001"
    with pytest.raises(SubmissionError, match="no \\{seq\\}"):
        DossierCodes(tmp_path / "e.sqlite", template="{agency}-{yymmdd}")
    with pytest.raises(SubmissionError, match="unknown field"):
        DossierCodes(tmp_path / "e.sqlite", template="{agency}-{who}-{seq}")
    with pytest.raises(SubmissionError, match="agency code"):
        default.issue("../etc", late)


def test_attachment_names_must_be_plain_and_distinct(
    form: FormDefinition, demo_pki: DemoPKI, trust: TrustProfile, tmp_path: Path
) -> None:
    """Names that would escape the bundle folder, or collide with a signature's, are refused."""
    for bad in ("../x", "a/b", ".hidden", ""):
        with pytest.raises(SubmissionError):
            Attachment(bad, b"x")
    clash = [Attachment("a.txt", b"x", b"not checked yet"), Attachment("a.txt.p7s", b"y")]
    with pytest.raises(SubmissionError, match="share a name"):
        _submit(form, demo_pki, trust, tmp_path, attachments=clash, out_dir=tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


# -- the command line ----------------------------------------------------------------------


@pytest.fixture
def cli_args(demo_pki: DemoPKI, tmp_path: Path) -> list[str]:
    p12 = demo_pki.write_p12("citizen", tmp_path / "keys" / "citizen.p12")
    pw = tmp_path / "keys" / "pw"
    pw.write_bytes(P12_PASSWORD)
    roots = tmp_path / "roots"
    roots.mkdir()
    (roots / "public.pem").write_bytes(demo_pki.cert_pem("vn-root"))
    return [
        "--p12",
        str(p12),
        "--password-file",
        str(pw),
        "--trust",
        str(roots),
        "--tsa",
        demo_pki.tsa_url("public"),
        "--agency",
        AGENCY,
        "--state-dir",
        str(tmp_path / "state"),
        "--out",
        str(tmp_path / "out"),
    ]


def _data_file(tmp_path: Path, value: object) -> str:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_cli_submit_writes_a_bundle_that_verifies(
    cli_args: list[str],
    tmp_path: Path,
    checker: Verifier,
    demo_pki: DemoPKI,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """'eforms submit' exits 0, prints one line naming the folder, and the PDF verifies."""
    data = _data_file(tmp_path, EXAMPLE["valid"])
    sig_content = tmp_path / "scan.bin"
    sig_content.write_bytes(b"scan")
    sig = tmp_path / "scan.bin.p7s"
    sig.write_bytes(fx_sign_detached(demo_pki, "citizen", b"scan", at=PINNED_NOW))
    assert main(["submit", FORM, data, *cli_args, "--attach", f"{sig_content}:{sig}"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    (folder,) = (tmp_path / "out").iterdir()
    assert CODE_RE.fullmatch(folder.name)
    assert out[0].startswith(
        f"{folder}: dossier {folder.name}, PAdES-B-LT signed by Nguyễn Thị Hoà"
    )
    report = checker.verify_pdf(folder / f"{FORM}.pdf")
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert (folder / "attachments" / "scan.bin.p7s").read_bytes() == sig.read_bytes()


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("invalid-data", 1),
        ("bad-attachment", 1),
        ("missing-attachment", 66),
        ("wrong-password", 1),
        ("no-key", 64),
        ("not-the-declarant", 1),
    ],
)
def test_cli_submit_bad_input_is_one_line_and_writes_nothing(
    case: str,
    code: int,
    cli_args: list[str],
    tmp_path: Path,
    demo_pki: DemoPKI,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Bad data, attachment, file, password or key: one line on stderr, exit code, no output."""
    args = list(cli_args)
    data = EXAMPLE["valid"]
    if case == "invalid-data":
        data = EXAMPLE["invalid"]["data"]
    elif case == "bad-attachment":
        att = tmp_path / "a.txt"
        att.write_bytes(b"content")
        sig = tmp_path / "a.txt.p7s"
        sig.write_bytes(fx_sign_detached(demo_pki, "citizen", b"other", at=PINNED_NOW))
        args += ["--attach", f"{att}:{sig}"]
    elif case == "missing-attachment":
        args += ["--attach", str(tmp_path / "nope.pdf")]
    elif case == "wrong-password":
        (tmp_path / "keys" / "pw").write_text("not-the-password")
    elif case == "no-key":
        i = args.index("--p12")
        del args[i : i + 2]
    elif case == "not-the-declarant":
        args += ["--declarant-id", "/applicant/idNumber"]  # the example names someone else
    assert main(["submit", FORM, _data_file(tmp_path, data), *args]) == code
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("eforms: ")
    assert "Traceback" not in captured.err
    assert not (tmp_path / "out").exists()
