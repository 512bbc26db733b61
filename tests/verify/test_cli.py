"""The ``verify`` command line: its contract with scripts (exit codes, JSON lines, table)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.verify.conftest import EXPECTED, OFFICIAL_NAME, PINNED_AT, SIGNER_NAME, Corpus
from verify import cli
from verify.verifier import Verifier

Validate = Callable[[dict[str, Any]], None]


class Run:
    """One in-process run of ``verify.cli.main``: exit code, stdout, stderr."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def reports(self, validate: Validate) -> list[dict[str, Any]]:
        """The JSON lines, each validated against docs/report-schema.json."""
        found = [json.loads(line) for line in self.out.splitlines() if line.strip()]
        for report in found:
            validate(report)
        return found


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test's revocation cache is its own (never the user's ~/.cache/hoso)."""
    folder = tmp_path_factory.mktemp("hoso-cache")
    monkeypatch.setenv("HOSO_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], verify_corpus: Corpus) -> Callable[..., Run]:
    def go(*args: str | os.PathLike[str], trust: bool = True, at: bool = True) -> Run:
        argv = [os.fspath(a) for a in args]
        if trust:
            argv = ["--trust", os.fspath(verify_corpus.trust_pem), *argv]
        if at:
            argv = ["--at", PINNED_AT, *argv]
        capsys.readouterr()
        code = cli.main(argv)
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Run(code, captured.out, captured.err)

    return go


def by_name(reports: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {Path(r["path"]).name: r for r in reports}


# -- exit status ----------------------------------------------------------------------------


def test_every_document_passed_exits_0(run: Callable[..., Run], verify_corpus: Corpus) -> None:
    """B-B, B-T and a detached pair all TOTAL_PASSED: exit 0, names in the table."""
    result = run(
        verify_corpus["passed-bb.pdf"], verify_corpus["passed-bt.pdf"], verify_corpus["to-khai.xml"]
    )
    assert result.code == 0, result.out
    assert SIGNER_NAME in result.out
    assert OFFICIAL_NAME in result.out
    assert "3 documents: 3 TOTAL_PASSED, 0 INDETERMINATE, 0 TOTAL_FAILED" in result.out


def test_one_failed_document_exits_1(run: Callable[..., Run], verify_corpus: Corpus) -> None:
    result = run(verify_corpus["passed-bb.pdf"], verify_corpus["tampered.pdf"])
    assert result.code == 1


def test_indeterminate_without_failure_exits_2(
    run: Callable[..., Run], verify_corpus: Corpus
) -> None:
    result = run(verify_corpus["passed-bb.pdf"], verify_corpus["unsigned.pdf"])
    assert result.code == 2
    assert "NO_SIGNATURE_FOUND" in result.out


def test_empty_folder_is_not_a_pass(run: Callable[..., Run], tmp_path: Path) -> None:
    """Nothing to verify must not look like success to a script: exit 2 and a message."""
    result = run(tmp_path)
    assert result.code == 2
    assert "nothing to verify" in result.err


def test_missing_path_is_an_indeterminate_report_not_a_crash(
    run: Callable[..., Run], verify_corpus: Corpus, tmp_path: Path, validate: Validate
) -> None:
    """A path that is not there cannot be read here: INDETERMINATE / FILE_UNREADABLE (a
    problem of the checking machine, not a forgery), and the run goes on."""
    missing = tmp_path / "không-có.pdf"
    result = run("--json", missing, verify_corpus["passed-bb.pdf"])
    assert result.code == 2
    reports = result.reports(validate)
    assert [r["path"] for r in reports] == [str(missing), str(verify_corpus["passed-bb.pdf"])]
    assert (reports[0]["indication"], reports[0]["sub_indication"]) == (
        "INDETERMINATE",
        "FILE_UNREADABLE",
    )
    assert "does not exist" in reports[0]["message_en"]
    assert reports[1]["indication"] == "TOTAL_PASSED"


# -- JSON lines and the folder walk --------------------------------------------------------


@pytest.fixture(name="validate")
def _validate(validate_report: Validate) -> Validate:
    return validate_report


def test_folder_json_lines_give_each_verdict_and_validate(
    run: Callable[..., Run], verify_corpus: Corpus, validate: Validate
) -> None:
    """The whole corpus: one schema-valid line per document, pairs joined, orphan reported."""
    result = run("--json", verify_corpus.root)
    reports = result.reports(validate)
    got = {name: (r["indication"], r["sub_indication"]) for name, r in by_name(reports).items()}
    assert got == EXPECTED
    assert len(reports) == len(EXPECTED)  # to-khai.xml.p7s is not reported on its own
    paths = [r["path"] for r in reports]
    assert paths == sorted(paths)
    pair = by_name(reports)["to-khai.xml"]
    assert pair["detached_signature"] == str(verify_corpus["to-khai.xml.p7s"])
    assert pair["format"] == "cms"
    assert pair["signatures"][0]["signer"]["name"] == SIGNER_NAME
    orphan = by_name(reports)["orphan.p7s"]
    assert "không tìm thấy dữ liệu đã ký" in orphan["message_vi"]
    assert "“orphan”" in orphan["message_en"]
    assert result.code == 1
    assert "9 documents" in result.err  # the summary goes to stderr in --json mode


def test_json_lines_are_deterministic(
    run: Callable[..., Run], verify_corpus: Corpus, validate: Validate
) -> None:
    first = run("--json", verify_corpus.root).out
    second = run("--json", verify_corpus.root).out
    assert first == second


def test_walk_is_sorted_skips_hidden_and_survives_symlink_loops(
    run: Callable[..., Run], verify_corpus: Corpus, tmp_path: Path, validate: Validate
) -> None:
    root = tmp_path / "hồ sơ"
    (root / "b" / "c").mkdir(parents=True)
    (root / ".cache").mkdir()
    shutil.copy(verify_corpus["passed-bb.pdf"], root / "b" / "c" / "z.pdf")
    shutil.copy(verify_corpus["passed-bb.pdf"], root / "b" / "a.pdf")
    shutil.copy(verify_corpus["unsigned.pdf"], root / "a.pdf")
    shutil.copy(verify_corpus["garbage.bin"], root / ".cache" / "junk")
    shutil.copy(verify_corpus["garbage.bin"], root / ".DS_Store")
    (root / "b" / "c" / "loop").symlink_to(root)  # a loop back to the top
    (root / "b" / "again.pdf").symlink_to(root / "b" / "a.pdf")  # the same file twice
    result = run("--json", root)
    reports = result.reports(validate)
    rel = [Path(r["path"]).relative_to(root).as_posix() for r in reports]
    assert rel == ["a.pdf", "b/a.pdf", "b/c/z.pdf"]
    assert result.code == 2


def test_explicit_detached_signature(
    run: Callable[..., Run], verify_corpus: Corpus, tmp_path: Path, validate: Validate
) -> None:
    content = tmp_path / "renamed.bin"
    shutil.copy(verify_corpus["to-khai.xml"], content)
    result = run("--json", content, "--detached", verify_corpus["to-khai.xml.p7s"])
    [report] = result.reports(validate)
    assert (report["path"], report["indication"]) == (str(content), "TOTAL_PASSED")
    assert result.code == 0


def test_detached_signature_over_other_content_fails(
    run: Callable[..., Run], verify_corpus: Corpus, validate: Validate
) -> None:
    result = run(
        "--json", verify_corpus["unsigned.pdf"], "--detached", verify_corpus["to-khai.xml.p7s"]
    )
    [report] = result.reports(validate)
    assert report["indication"] == "TOTAL_FAILED"
    assert result.code == 1


def test_orphan_that_is_not_cms_is_a_format_failure(
    run: Callable[..., Run], tmp_path: Path, validate: Validate
) -> None:
    (tmp_path / "notes.sig").write_text("-----BEGIN PGP SIGNATURE-----\nxx\n")
    [report] = run("--json", tmp_path).reports(validate)
    assert (report["indication"], report["sub_indication"]) == ("TOTAL_FAILED", "FORMAT_FAILURE")


def test_unexpected_exception_becomes_a_report_and_the_run_goes_on(
    run: Callable[..., Run],
    verify_corpus: Corpus,
    validate: Validate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fault injection: the verifier blows up on one file; that file fails, the next passes."""
    original = Verifier.averify
    target = Path(verify_corpus["tampered.pdf"]).read_bytes()

    async def flaky(self: Verifier, source: Any, **kwargs: Any) -> Any:
        # the bulk runner hands over a file's bytes once it has read them, else its path
        if source == target if isinstance(source, bytes) else Path(source).name == "tampered.pdf":
            raise RuntimeError("boom\nsecond line")
        return await original(self, source, **kwargs)

    monkeypatch.setattr(Verifier, "averify", flaky)
    result = run("--json", verify_corpus["tampered.pdf"], verify_corpus["passed-bb.pdf"])
    first, second = result.reports(validate)
    assert (first["indication"], first["sub_indication"]) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert "RuntimeError: boom second line" in first["message_en"]
    assert second["indication"] == "TOTAL_PASSED"
    assert result.code == 1


# -- the table -----------------------------------------------------------------------------


def test_table_has_columns_sentences_and_summary(
    run: Callable[..., Run], verify_corpus: Corpus
) -> None:
    result = run(verify_corpus.root)
    lines = result.out.splitlines()
    assert lines[0].startswith("Thời điểm kiểm tra / validation time: 2026-06-01T10:00:00Z")
    assert "01/06/2026 17:00:00 (GMT+7)" in lines[0]
    header = lines[1].split()
    assert header == ["FILE", "INDICATION", "SUB-INDICATION", "SIGNER", "LEVEL", "KẾT", "LUẬN"]
    rows = {Path(line.split()[0]).name: line for line in lines[2:-1]}
    assert "PAdES-B-B" in rows["passed-bb.pdf"]
    assert SIGNER_NAME in rows["passed-bb.pdf"]
    assert "PAdES-B-T" in rows["passed-bt.pdf"]
    assert "nội dung đã bị thay đổi sau khi ký" in rows["tampered.pdf"]
    assert "REVOKED" in rows["revoked.pdf"]
    assert "to-khai.xml.p7s" in rows["to-khai.xml"]
    assert "Không phải tài liệu có chữ ký số" in rows["garbage.bin"]
    assert lines[-1] == (
        "Tổng cộng 9 tài liệu — hợp lệ: 3, chưa xác định được: 2, không hợp lệ: 3, "
        "không phải tài liệu ký số: 1 "
        "(9 documents: 3 TOTAL_PASSED, 2 INDETERMINATE, 3 TOTAL_FAILED, 1 NOT_SIGNED)"
    )


def test_table_escapes_terminal_control_characters(
    run: Callable[..., Run], verify_corpus: Corpus, tmp_path: Path
) -> None:
    hostile = tmp_path / "evil\x1b[2J\x1b]0;pwned\x07.pdf"
    shutil.copy(verify_corpus["unsigned.pdf"], hostile)
    result = run(hostile)
    assert "\x1b" not in result.out
    assert "\x07" not in result.out
    assert "evil\\x1b[2J" in result.out


# -- time, trust and revocation options ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-06-01", datetime(2026, 5, 31, 17, 0, tzinfo=UTC)),
        ("2026-06-01T17:00:00", datetime(2026, 6, 1, 10, 0, tzinfo=UTC)),
        ("2026-06-01T10:00:00Z", datetime(2026, 6, 1, 10, 0, tzinfo=UTC)),
        ("2026-06-01T12:00:00+02:00", datetime(2026, 6, 1, 10, 0, tzinfo=UTC)),
    ],
)
def test_at_reads_dates_and_naive_times_in_ho_chi_minh(text: str, expected: datetime) -> None:
    assert cli.parse_time(text) == expected


def test_at_date_alone_is_printed_as_midnight_in_vietnam(
    run: Callable[..., Run], verify_corpus: Corpus
) -> None:
    result = run("--at", "2026-06-01", verify_corpus["passed-bb.pdf"], at=False)
    assert "2026-05-31T17:00:00Z = 01/06/2026 00:00:00 (GMT+7)" in result.out.splitlines()[0]
    assert result.code == 0


def test_offline_hard_revocation_is_indeterminate_while_online_passes(
    run: Callable[..., Run], verify_corpus: Corpus, validate: Validate
) -> None:
    """B-B carries no revocation data: offline + hard cannot decide; online fetches OCSP."""
    online = run("--json", "--revocation", "hard", verify_corpus["passed-bb.pdf"])
    assert online.code == 0
    assert online.reports(validate)[0]["indication"] == "TOTAL_PASSED"
    offline = run("--json", "--offline", "--revocation", "hard", verify_corpus["passed-bb.pdf"])
    [report] = offline.reports(validate)
    assert (report["indication"], report["sub_indication"]) == ("INDETERMINATE", "TRY_LATER")
    assert report["signatures"][0]["revocation"]["checked"] is False
    assert offline.code == 2
    assert "offline" in offline.err


def test_without_demo_trust_the_chain_is_not_trusted(
    run: Callable[..., Run], verify_corpus: Corpus, validate: Validate
) -> None:
    result = run("--json", verify_corpus["passed-bb.pdf"], trust=False)
    [report] = result.reports(validate)
    assert report["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND"
    assert result.code == 2


def test_trust_folder_and_profile(
    run: Callable[..., Run], verify_corpus: Corpus, tmp_path: Path, validate: Validate
) -> None:
    folder = tmp_path / "anchors"
    folder.mkdir()
    shutil.copy(verify_corpus.trust_pem, folder / "roots.pem")
    result = run(
        "--json", "--profile", "public", "--trust", folder, verify_corpus["passed-bb.pdf"],
        trust=False,
    )  # fmt: skip
    [report] = result.reports(validate)
    assert report["indication"] == "TOTAL_PASSED"
    assert report["signatures"][0]["trust_anchor_profile"] == "public"


# -- bad usage -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--profile", "bogus", "x.pdf"],
        ["--revocation", "maybe", "x.pdf"],
        ["--no-such-option", "x.pdf"],
        ["--at", "yesterday", "x.pdf"],
        ["--at", "2026-13-45", "x.pdf"],
        ["--report", "out.docx", "x.pdf"],
        ["--report", "/no/such/folder/r.pdf", "x.pdf"],
        ["--detached", "s.p7s", "a.pdf", "b.pdf"],
        ["--trust", "/no/such/anchor.pem", "x.pdf"],
    ],
)
def test_bad_usage_is_one_line_on_stderr_and_exit_64(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(argv)
    captured = capsys.readouterr()
    assert code == 64
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert captured.err.startswith("verify: error: ")


def test_a_trust_file_that_is_not_a_certificate_is_one_line_exit_64(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    code = cli.main(["--trust", str(bad), str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 64
    assert len(err.strip().splitlines()) == 1
    assert str(bad) in err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    assert "--detached" in capsys.readouterr().out


# -- logging -------------------------------------------------------------------------------


def test_third_party_loggers_are_silenced_during_a_run_and_restored_after(
    run: Callable[..., Run], verify_corpus: Corpus
) -> None:
    """pyHanko logs validation failures with tracebacks; the CLI must not show them."""
    logger = logging.getLogger("pyhanko")
    before = (logger.level, logger.propagate, list(logger.handlers))
    result = run("--offline", verify_corpus["passed-bb.pdf"], verify_corpus["tampered.pdf"])
    assert "Traceback" not in result.err
    assert "Validation error" not in result.err
    assert (logger.level, logger.propagate, list(logger.handlers)) == before


# -- reports -------------------------------------------------------------------------------


def test_html_report_for_the_corpus(
    run: Callable[..., Run], verify_corpus: Corpus, tmp_path: Path
) -> None:
    target = tmp_path / "báo-cáo.html"
    result = run("--report", target, verify_corpus.root)
    assert result.code == 1
    html = target.read_text(encoding="utf-8")
    assert SIGNER_NAME in html
    assert OFFICIAL_NAME in html
    assert "Thông tư 15/2025/TT-BKHCN" in html
    for name in EXPECTED:
        assert name in html
    assert "report written to" in result.err


def test_pdf_report_text_has_the_vietnamese_signer_name(
    run: Callable[..., Run], verify_corpus: Corpus, tmp_path: Path
) -> None:
    target = tmp_path / "report.pdf"
    result = run("--report", target, verify_corpus.root)
    assert result.code == 1
    text = pdf_text(target)
    assert SIGNER_NAME in text  # NFC, exactly as written: no decomposed or split letters
    assert unicodedata.is_normalized("NFC", SIGNER_NAME)
    assert "Không hợp lệ" in text
    assert "SIGNED_DATA_NOT_FOUND" in text


def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    import pypdf

    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


# -- a real process ------------------------------------------------------------------------


def verify_process(*args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "verify", *map(os.fspath, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=240,
        env=env,
        check=False,
    )


def test_process_over_the_corpus_exits_1_without_traceback(
    verify_corpus: Corpus, validate_report: Validate
) -> None:
    proc = verify_process(
        "--trust", verify_corpus.trust_pem, "--at", PINNED_AT, "--json", verify_corpus.root
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Traceback" not in proc.stdout
    lines = proc.stdout.splitlines()
    assert len(lines) == len(EXPECTED)
    for line in lines:
        validate_report(json.loads(line))


def test_process_exit_codes_0_2_and_64(verify_corpus: Corpus) -> None:
    common = ["--trust", verify_corpus.trust_pem, "--at", PINNED_AT]
    passed = verify_process(*common, verify_corpus["passed-bb.pdf"])
    assert passed.returncode == 0, passed.stderr
    assert SIGNER_NAME in passed.stdout
    indeterminate = verify_process(*common, "--offline", verify_corpus["passed-bb.pdf"])
    assert indeterminate.returncode == 2
    assert "Traceback" not in indeterminate.stderr
    bad = verify_process("--profile", "nope", verify_corpus["passed-bb.pdf"])
    assert bad.returncode == 64
    assert bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "Traceback" not in bad.stderr
