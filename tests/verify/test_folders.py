"""Folder semantics of the ``verify`` command: every file gets a line, and only signed
documents get a verdict.

A file in no signed format (README, PEM, images, JSON, HTML that is not XML-signed...) is
NOT_SIGNED, never TOTAL_FAILED, and leaves the exit status alone (``--strict`` counts it as
not passed); a file that cannot be read here is INDETERMINATE / FILE_UNREADABLE with the
cause; FIFOs and other special files get a line saying what they are. The time is pinned
(``--at``), the demo PKI signs, nothing leaves the machine.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.documents import demo_signer, sign_detached
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.verify.conftest import PINNED_AT, SIGNED_AT, Corpus
from verify import TrustProfile, ValidationPolicy, Verifier, cli

Validate = Callable[[dict[str, Any]], None]


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def reports(self, validate: Validate) -> dict[str, dict[str, Any]]:
        """The JSON lines by file name, each validated against docs/report-schema.json."""
        found = [json.loads(line) for line in self.out.splitlines() if line.strip()]
        for report in found:
            validate(report)
        return {Path(r["path"]).name: r for r in found}


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOSO_CACHE_DIR", str(tmp_path_factory.mktemp("hoso-cache")))


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], verify_corpus: Corpus) -> Callable[..., Run]:
    def go(*args: str | os.PathLike[str]) -> Run:
        argv = ["--at", PINNED_AT, "--trust", os.fspath(verify_corpus.trust_pem)]
        capsys.readouterr()
        code = cli.main([*argv, *map(os.fspath, args)])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Run(code, captured.out, captured.err)

    return go


HTML = (
    b"<!DOCTYPE html>\n<html><head><title>Trang</title></head>"
    b"<body><p>Xin ch\xc3\xa0o</p></body></html>\n"
)
# mentions the XMLDSig namespace but is no XML document (an unclosed <br>)
HTML_ABOUT_XMLDSIG = (
    b"<html><body>Namespace http://www.w3.org/2000/09/xmldsig# <br> ds:Signature</body></html>"
)
XHTML = (
    b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>T</title></head>'
    b'<body Id="noi-dung"><p>Quy\xe1\xba\xbft \xc4\x91\xe1\xbb\x8bnh</p></body></html>'
)


@pytest.fixture
def mixed(verify_corpus: Corpus, demo_pki: DemoPKI, tmp_path: Path) -> Path:
    """An auditor's folder: one signed PDF and the files that come with it."""
    root = tmp_path / "hồ sơ"
    root.mkdir()
    shutil.copy(verify_corpus["passed-bb.pdf"], root / "don.pdf")
    (root / "README").write_text("Hồ sơ đăng ký, xem don.pdf\n", encoding="utf-8")
    (root / "ca.pem").write_bytes(demo_pki.cert_pem("vn-root"))
    (root / "anh.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    (root / "anh.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    (root / "du-lieu.json").write_text('{"hoTen": "Nguyễn Thị Hoà"}', encoding="utf-8")
    (root / "trang.html").write_bytes(HTML)
    (root / "ve-xmldsig.html").write_bytes(HTML_ABOUT_XMLDSIG)
    (root / "logo.svg").write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"/>')
    (root / "rong.txt").write_bytes(b"")
    return root


NOT_SIGNED = {
    "README": "text",
    "anh.jpg": "image",
    "anh.png": "image",
    "ca.pem": "pem",
    "du-lieu.json": "json",
    "logo.svg": "image",
    "rong.txt": "unknown",
    "trang.html": "html",
    "ve-xmldsig.html": "html",
}


def test_files_in_no_signed_format_are_not_signed_and_leave_the_exit_status_alone(
    run: Callable[..., Run], mixed: Path, validate_report: Validate
) -> None:
    """Each file gets a schema-valid line; README, PEM, images, JSON, HTML (even one that
    names the XMLDSig namespace) are NOT_SIGNED with what they look like and a sentence in
    both languages; the signed PDF passes, so the run exits 0."""
    result = run("--json", mixed)
    reports = result.reports(validate_report)
    assert set(reports) == {"don.pdf", *NOT_SIGNED}
    assert reports["don.pdf"]["indication"] == "TOTAL_PASSED"
    for name, fmt in NOT_SIGNED.items():
        report = reports[name]
        assert (report["indication"], report["sub_indication"]) == ("NOT_SIGNED", None), name
        assert report["format"] == fmt, name
        assert report["message_vi"].startswith("Không phải tài liệu có chữ ký số: "), name
        assert report["message_en"].startswith("Not a signed document: "), name
        assert report["signatures"] == []
        assert report["sha256"] is not None  # small enough to hash: the auditor can cite it
    assert result.code == 0
    assert "10 documents" in result.err
    assert "9 NOT_SIGNED" in result.err


def test_strict_counts_a_file_that_is_not_signed_as_not_passed(
    run: Callable[..., Run], mixed: Path
) -> None:
    """--strict: the same folder exits 2 (nothing failed, but not everything passed)."""
    assert run("--strict", mixed).code == 2


def test_table_and_summary_show_not_signed_on_its_own(run: Callable[..., Run], mixed: Path) -> None:
    """The table says NOT_SIGNED and the Vietnamese sentence; the summary counts it apart."""
    result = run(mixed)
    [readme] = [line for line in result.out.splitlines() if "/README " in line]
    assert "NOT_SIGNED" in readme
    assert "Không phải tài liệu có chữ ký số: tệp văn bản" in readme
    assert "Không hợp lệ" not in result.out
    assert result.out.splitlines()[-1] == (
        "Tổng cộng 10 tài liệu — hợp lệ: 1, chưa xác định được: 0, không hợp lệ: 0, "
        "không phải tài liệu ký số: 9 "
        "(10 documents: 1 TOTAL_PASSED, 0 INDETERMINATE, 0 TOTAL_FAILED, 9 NOT_SIGNED)"
    )


def test_csv_rows_say_not_signed(run: Callable[..., Run], mixed: Path, tmp_path: Path) -> None:
    """The CSV has a row for every file, NOT_SIGNED in the indication column."""
    table = tmp_path / "ket-qua.csv"
    run("--csv", table, mixed)
    with table.open(encoding="utf-8-sig", newline="") as f:
        rows = {Path(r["path"]).name: r for r in csv.DictReader(f)}
    assert {n: r["indication"] for n, r in rows.items() if n != "don.pdf"} == dict.fromkeys(
        NOT_SIGNED, "NOT_SIGNED"
    )


def test_only_files_that_are_not_signed_is_not_a_pass(
    run: Callable[..., Run], tmp_path: Path
) -> None:
    """A folder with no signed document exits 2, as an empty one does, and says why."""
    (tmp_path / "README.md").write_text("# Ghi chú\n", encoding="utf-8")
    result = run(tmp_path)
    assert result.code == 2
    assert "no signed document" in result.err


def test_html_is_read_as_xml_only_when_it_is_xml_with_an_xml_signature(
    run: Callable[..., Run], demo_pki: DemoPKI, tmp_path: Path, validate_report: Validate
) -> None:
    """An XHTML page signed with an enveloped ds:Signature is verified (format xml, passed);
    an HTML page is NOT_SIGNED."""
    from esign.xml import sign_xml

    trust = TrustProfile.custom([demo_pki.root("public")], hierarchy="public")
    policy = ValidationPolicy(validation_time=SIGNED_AT, network=False)
    signed = sign_xml(
        XHTML, demo_signer(demo_pki, "citizen"), element="body", signing_time=SIGNED_AT,
        trust=trust, policy=policy.replace(revocation="soft"),
    )  # fmt: skip
    (tmp_path / "quyet-dinh.html").write_bytes(signed)
    (tmp_path / "trang.html").write_bytes(HTML)
    reports = run("--json", tmp_path).reports(validate_report)
    assert reports["quyet-dinh.html"]["format"] == "xml"
    assert reports["quyet-dinh.html"]["indication"] == "TOTAL_PASSED"
    assert len(reports["quyet-dinh.html"]["signatures"]) == 1
    assert reports["trang.html"]["indication"] == "NOT_SIGNED"


def test_unsigned_xml_and_damaged_pdf_still_get_verdicts(
    run: Callable[..., Run], tmp_path: Path, validate_report: Validate
) -> None:
    """XML and PDF are signed formats: an unsigned XML is INDETERMINATE like an unsigned
    PDF, and a file whose name says PDF but holds no PDF fails, or is at least not
    NOT_SIGNED (a swapped file must not pass as "not signed")."""
    (tmp_path / "hoa-don.xml").write_text("<HDon><DLHDon/></HDon>", encoding="utf-8")
    (tmp_path / "don.pdf").write_bytes(b"404 Not Found")
    (tmp_path / "hop-dong.asice").write_bytes(b"truncated download")
    (tmp_path / "loi.pdf").write_bytes(b"<html><body>404 Not Found</body></html>")
    result = run("--json", tmp_path)
    reports = result.reports(validate_report)
    assert (reports["hoa-don.xml"]["indication"], reports["hoa-don.xml"]["sub_indication"]) == (
        "INDETERMINATE",
        "NO_SIGNATURE_FOUND",
    )
    assert (reports["don.pdf"]["indication"], reports["don.pdf"]["sub_indication"]) == (
        "TOTAL_FAILED",
        "FORMAT_FAILURE",
    )
    assert reports["hop-dong.asice"]["indication"] == "TOTAL_FAILED"
    assert reports["loi.pdf"]["indication"] != "NOT_SIGNED"  # read as the XML it looks like
    assert result.code == 1


def test_detached_content_in_any_format_is_verified_not_screened(
    run: Callable[..., Run], demo_pki: DemoPKI, tmp_path: Path, validate_report: Validate
) -> None:
    """A text file with its .p7s beside it is the signed content: the pair passes."""
    content = "Biên bản họp\n".encode()
    (tmp_path / "bien-ban.txt").write_bytes(content)
    (tmp_path / "bien-ban.txt.p7s").write_bytes(
        sign_detached(demo_pki, "citizen", content, at=SIGNED_AT)
    )
    result = run("--json", tmp_path)
    [(name, report)] = result.reports(validate_report).items()
    assert (name, report["indication"]) == ("bien-ban.txt", "TOTAL_PASSED")
    assert result.code == 0


def test_a_detached_pair_whose_content_cannot_be_read_keeps_its_signature_named(
    run: Callable[..., Run], demo_pki: DemoPKI, tmp_path: Path, validate_report: Validate
) -> None:
    """--detached with content that is gone: FILE_UNREADABLE, the signature still named in
    ``detached_signature`` (so the line is the pair's, in its place)."""
    signature = tmp_path / "chu-ky.p7s"
    signature.write_bytes(sign_detached(demo_pki, "citizen", b"x", at=SIGNED_AT))
    gone = tmp_path / "khong-co.txt"
    result = run("--json", gone, "--detached", signature)
    [report] = result.reports(validate_report).values()
    assert (report["sub_indication"], report["detached_signature"]) == (
        "FILE_UNREADABLE",
        str(signature),
    )
    assert result.code == 2


def test_certificate_bundle_is_not_signed_but_a_signed_container_is_not_ignored(
    run: Callable[..., Run], demo_pki: DemoPKI, tmp_path: Path, validate_report: Validate
) -> None:
    """A PKCS#7 bundle of certificates (.p7b) carries no signature: NOT_SIGNED. An ASiC-E
    container goes to the verifier's ASiC reader (this one's XAdES file holds no signature:
    INDETERMINATE / NO_SIGNATURE_FOUND), never NOT_SIGNED."""
    from asn1crypto import cms

    bundle = cms.ContentInfo(
        {
            "content_type": "signed_data",
            "content": {
                "version": "v1",
                "digest_algorithms": [],
                "encap_content_info": {"content_type": "data"},
                "certificates": [demo_pki.root("public")],
                "signer_infos": [],
            },
        }
    )
    (tmp_path / "ca.p7b").write_bytes(bundle.dump())
    with zipfile.ZipFile(tmp_path / "hop-dong.asice", "w") as z:
        z.writestr("mimetype", "application/vnd.etsi.asic-e+zip")
        z.writestr("hop-dong.txt", "x")
        z.writestr("META-INF/signatures0.xml", "<XAdESSignatures/>")
    reports = run("--json", tmp_path).reports(validate_report)
    assert (reports["ca.p7b"]["indication"], reports["ca.p7b"]["format"]) == ("NOT_SIGNED", "cms")
    asic = reports["hop-dong.asice"]
    assert (asic["indication"], asic["sub_indication"]) == ("INDETERMINATE", "NO_SIGNATURE_FOUND")
    assert asic["format"] == "asic"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_gets_a_line_and_is_never_opened(
    run: Callable[..., Run], verify_corpus: Corpus, tmp_path: Path, validate_report: Validate
) -> None:
    """A FIFO in a folder is not skipped silently: its line says what it is. Opening it would
    block for ever; the run ends at once."""
    os.mkfifo(tmp_path / "ong-dan")
    shutil.copy(verify_corpus["passed-bb.pdf"], tmp_path / "don.pdf")
    result = run("--json", tmp_path)
    reports = result.reports(validate_report)
    fifo = reports["ong-dan"]
    assert (fifo["indication"], fifo["format"], fifo["sha256"]) == ("NOT_SIGNED", "special", None)
    assert "FIFO" in fifo["message_en"]
    assert result.code == 0


def test_dangling_link_and_vanished_file_are_indeterminate_with_the_cause(
    run: Callable[..., Run],
    verify_corpus: Corpus,
    tmp_path: Path,
    validate_report: Validate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A link to nothing, and a file that disappears between the walk and its check, are
    INDETERMINATE / FILE_UNREADABLE naming the cause, never a failed signature."""
    (tmp_path / "lien-ket.pdf").symlink_to(tmp_path / "khong-co.pdf")
    shutil.copy(verify_corpus["passed-bb.pdf"], tmp_path / "bien-mat.pdf")
    shutil.copy(verify_corpus["passed-bb.pdf"], tmp_path / "don.pdf")
    walked = cli.discover

    def walk_then_lose(paths: Any) -> Any:
        items = walked(paths)
        (tmp_path / "bien-mat.pdf").unlink()
        return items

    monkeypatch.setattr(cli, "discover", walk_then_lose)
    result = run("--json", tmp_path)
    reports = result.reports(validate_report)
    for name, cause in (("lien-ket.pdf", "link points to"), ("bien-mat.pdf", "does not exist")):
        assert (reports[name]["indication"], reports[name]["sub_indication"]) == (
            "INDETERMINATE",
            "FILE_UNREADABLE",
        )
        assert cause in reports[name]["message_en"]
        assert "không phải dấu hiệu chữ ký sai" in reports[name]["message_vi"]
    assert reports["don.pdf"]["indication"] == "TOTAL_PASSED"
    assert result.code == 2


# -- permission denied, in a real process ---------------------------------------------------


def _without_read_override() -> list[str]:
    """A prefix that runs a command unable to read what its mode bits forbid: nothing for
    an ordinary user; for root, setpriv dropping CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a file unreadable")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


@pytest.fixture
def locked(verify_corpus: Corpus, tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "kiem-tra"
    (root / "khoa").mkdir(parents=True)
    shutil.copy(verify_corpus["passed-bb.pdf"], root / "don.pdf")
    shutil.copy(verify_corpus["passed-bb.pdf"], root / "bi-khoa.pdf")
    (root / "khoa" / "ben-trong.pdf").write_bytes(b"%PDF-1.7")
    (root / "bi-khoa.pdf").chmod(0)
    (root / "khoa").chmod(0)
    try:
        yield root
    finally:
        (root / "khoa").chmod(0o755)


def test_permission_denied_is_indeterminate_with_the_cause(
    locked: Path, verify_corpus: Corpus, validate_report: Validate
) -> None:
    """A file and a folder the auditor may not read: INDETERMINATE / FILE_UNREADABLE naming
    "Permission denied" (a problem of the auditor's machine, not a forgery); the readable
    PDF still passes, and nothing fails."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "HOSO_CACHE_DIR": str(locked.parent / "c"),
    }
    proc = subprocess.run(
        [
            *_without_read_override(), sys.executable, "-m", "verify", "--json", "--offline",
            "--revocation", "soft", "--at", PINNED_AT, "--trust", str(verify_corpus.trust_pem),
            str(locked),
        ],
        capture_output=True, text=True, encoding="utf-8", timeout=240, env=env, check=False,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr
    reports = {Path(r["path"]).name: r for r in map(json.loads, proc.stdout.splitlines())}
    for report in reports.values():
        validate_report(report)
    assert set(reports) == {"don.pdf", "bi-khoa.pdf", "khoa"}
    for name in ("bi-khoa.pdf", "khoa"):
        assert (reports[name]["indication"], reports[name]["sub_indication"]) == (
            "INDETERMINATE",
            "FILE_UNREADABLE",
        ), reports[name]
        assert "Permission denied" in reports[name]["message_en"]
    assert "folder" in reports["khoa"]["message_en"]
    assert reports["don.pdf"]["indication"] == "TOTAL_PASSED"
    assert proc.returncode == 2


def test_library_bulk_run_reports_unreadable_files_the_same_way(tmp_path: Path) -> None:
    """verify.special.special_file_report, which every bulk run asks first: a missing file
    is FILE_UNREADABLE, a FIFO NOT_SIGNED, a readable file goes on to be checked."""
    from verify.special import special_file_report

    gone = special_file_report(tmp_path / "khong-co.pdf", PINNED_NOW)
    assert gone is not None
    assert gone.sub_indication == "FILE_UNREADABLE"
    os.mkfifo(tmp_path / "fifo")
    fifo = special_file_report(tmp_path / "fifo", PINNED_NOW)
    assert fifo is not None
    assert fifo.indication == "NOT_SIGNED"
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7")
    assert special_file_report(tmp_path / "a.pdf", PINNED_NOW) is None


def test_a_file_the_caller_already_screened_is_not_screened_again(tmp_path: Path) -> None:
    """verify_many asks special.screen of each file unless the item says the caller did (the
    ``verify`` command screens in the parent): a README handed over unmarked is NOT_SIGNED,
    marked as screened it goes straight to the readers, which find no signature in it."""
    from verify.bulk import BulkItem, verify_many

    readme = tmp_path / "README"
    readme.write_text("Hồ sơ đăng ký kết hôn\n", encoding="utf-8")
    verifier = Verifier(
        TrustProfile.public(), ValidationPolicy(validation_time=PINNED_NOW, network=False)
    )
    plain, marked = verify_many(
        [BulkItem(os.fspath(readme)), BulkItem(os.fspath(readme), screened=True)],
        verifier=verifier,
    )
    assert plain.indication == "NOT_SIGNED"
    assert marked.indication != "NOT_SIGNED"
    assert marked.path == plain.path
