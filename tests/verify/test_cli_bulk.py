"""The ``verify`` command line at scale: workers, Dask, JSONL/CSV streaming, resume, cache,
evidence, progress and the closing summary."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fixtures.documents import minimal_pdf, sign_pdf
from fixtures.pki import DemoPKI
from tests.verify.conftest import EXPECTED, PINNED_AT, SIGNED_AT, Corpus
from verify import cli

Validate = Callable[[dict[str, Any]], None]


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test's default revocation cache is its own (never the user's ~/.cache/hoso)."""
    folder = tmp_path_factory.mktemp("hoso-cache")
    monkeypatch.setenv("HOSO_CACHE_DIR", str(folder))
    return folder


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], verify_corpus: Corpus) -> Callable[..., Run]:
    def go(*args: str | os.PathLike[str]) -> Run:
        argv = ["--at", PINNED_AT, "--trust", os.fspath(verify_corpus.trust_pem)]
        argv += [os.fspath(a) for a in args]
        capsys.readouterr()
        code = cli.main(argv)
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Run(code, captured.out, captured.err)

    return go


def verdicts(reports: list[dict[str, Any]]) -> dict[str, tuple[str, str | None]]:
    return {Path(r["path"]).name: (r["indication"], r["sub_indication"]) for r in reports}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- streaming files -----------------------------------------------------------------------


def test_jsonl_and_csv_files_hold_one_verdict_per_document(
    run: Callable[..., Run], verify_corpus: Corpus, tmp_path: Path, validate_report: Validate
) -> None:
    """--jsonl: a schema-valid report per line; --csv: a UTF-8 BOM, a header and one row
    per document, its times in Asia/Ho_Chi_Minh with their offset."""
    jsonl, table = tmp_path / "out.jsonl", tmp_path / "out.csv"
    result = run("--jsonl", jsonl, "--csv", table, verify_corpus.root)
    assert result.code == 1
    lines = read_jsonl(jsonl)
    for line in lines:
        validate_report(line)
    assert verdicts(lines) == EXPECTED
    assert len(lines) == len(EXPECTED)
    assert table.read_bytes().startswith(b"\xef\xbb\xbfpath,")  # Excel reads it as UTF-8
    with table.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(cli.CSV_COLUMNS)
    got = {Path(r["path"]).name: (r["indication"], r["sub_indication"] or None) for r in rows}
    assert got == EXPECTED
    pair = next(r for r in rows if r["path"].endswith("to-khai.xml"))
    assert pair["detached_signature"].endswith("to-khai.xml.p7s")
    assert pair["signers"] == "Nguyễn Thị Hoà"
    assert pair["signing_time"] == "2026-05-20T16:00:00+07:00"  # SIGNED_AT, 09:00Z


def test_summary_counts_each_indication_and_sub_indication(
    run: Callable[..., Run], verify_corpus: Corpus
) -> None:
    """The closing line on stderr: counts per indication with their sub-indications, rate."""
    result = run("--json", verify_corpus.root)
    [stats] = [line for line in result.err.splitlines() if "documents/s" in line]
    assert re.fullmatch(
        r"verify: 9 documents in \d+\.\d\d s \(\d+\.\d documents/s\): "
        r"TOTAL_PASSED 3; INDETERMINATE 2 \(NO_SIGNATURE_FOUND 1, SIGNED_DATA_NOT_FOUND 1\); "
        r"TOTAL_FAILED 3 \(FORMAT_FAILURE 1, HASH_FAILURE 1, REVOKED 1\); NOT_SIGNED 1",
        stats,
    ), stats


# -- resume ----------------------------------------------------------------------------------


def test_resume_after_a_cut_off_line_gives_every_verdict_exactly_once(
    run: Callable[..., Run], verify_corpus: Corpus, tmp_path: Path
) -> None:
    """A JSONL cut mid-line (a killed writer) resumes: the half line is dropped and redone,
    the finished documents are skipped, and the file ends with each verdict once."""
    jsonl = tmp_path / "out.jsonl"
    run("--jsonl", jsonl, verify_corpus.root)
    complete = jsonl.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = complete[:4]
    jsonl.write_text("".join(kept) + complete[4][: len(complete[4]) // 2], encoding="utf-8")

    resumed = run("--json", "--jsonl", jsonl, "--resume", jsonl, verify_corpus.root)
    new = resumed.lines()
    assert len(new) == len(EXPECTED) - 4  # only what the first run had not finished
    assert "4 document(s) already have a verdict" in resumed.err
    lines = read_jsonl(jsonl)
    assert sorted(r["path"] for r in lines) == sorted(json.loads(c)["path"] for c in complete)
    assert verdicts(lines) == EXPECTED
    assert resumed.code == 1


def test_resume_with_everything_done_verifies_nothing_and_keeps_the_exit_status(
    run: Callable[..., Run], verify_corpus: Corpus, tmp_path: Path
) -> None:
    jsonl = tmp_path / "out.jsonl"
    first = run("--jsonl", jsonl, verify_corpus["passed-bb.pdf"], verify_corpus["unsigned.pdf"])
    again = run("--json", "--resume", jsonl, verify_corpus["passed-bb.pdf"])
    assert first.code == 2
    assert again.out == ""
    assert again.code == 0  # the one document named now had passed


# enough that the run is still going when it is interrupted, however fast the machine
TAMPERED = 400
SLOW_FOLDER_SIZE = TAMPERED + 20 + 1


@pytest.fixture(scope="module")
def slow_folder(demo_pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough distinct documents that a run takes seconds: tampered ones need full checks."""
    root = tmp_path_factory.mktemp("many")
    signed = sign_pdf(demo_pki, "citizen", minimal_pdf("Ho so"), at=SIGNED_AT)
    bad = bytearray(signed)
    bad[bad.index(b"/Helvetica") + 1] ^= 1
    for i in range(TAMPERED):
        (root / f"tampered-{i:03d}.pdf").write_bytes(bytes(bad) + b"%" + str(i).encode() + b"\n")
    for i in range(20):
        (root / f"unsigned-{i:03d}.pdf").write_bytes(minimal_pdf(f"Ho so {i}"))
    (root / "passed.pdf").write_bytes(signed)
    return root


def _default_sigint() -> None:
    # a test run started in the background of a shell without job control inherits an
    # ignored SIGINT, and so would the command it starts: give it Ctrl-C back
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _process(*args: str | os.PathLike[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, "-m", "verify", *map(os.fspath, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_default_sigint,
    )


def test_interrupted_run_then_resume_gives_every_verdict_exactly_once(
    slow_folder: Path, verify_corpus: Corpus, tmp_path: Path
) -> None:
    """A real run stopped by Ctrl-C (SIGINT) after its first verdicts were flushed to the
    JSONL file, then resumed: exit 130 first, and in the end each document once."""
    jsonl = tmp_path / "out.jsonl"
    common = ["--at", PINNED_AT, "--trust", verify_corpus.trust_pem, "--workers", "1"]
    proc = _process(*common, "--jsonl", jsonl, slow_folder)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if jsonl.exists() and jsonl.read_text(encoding="utf-8").count("\n") >= 3:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    written_while_running = jsonl.read_text(encoding="utf-8").count("\n")
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == cli.EXIT_INTERRUPTED, err
    assert "Traceback" not in err
    assert "interrupted after" in err
    first = read_jsonl(jsonl)  # only whole lines: each flushed as it was written
    assert written_while_running >= 3
    assert 3 <= len(first) < SLOW_FOLDER_SIZE

    resumed = _process(*common, "--jsonl", jsonl, "--resume", jsonl, slow_folder)
    _out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 1, err
    every = read_jsonl(jsonl)
    names = [Path(r["path"]).name for r in every]
    assert len(names) == SLOW_FOLDER_SIZE
    assert sorted(names) == sorted(p.name for p in slow_folder.iterdir())
    got = verdicts(every)
    assert got["passed.pdf"] == ("TOTAL_PASSED", None)
    assert {got[n] for n in names if n.startswith("tampered")} == {("TOTAL_FAILED", "HASH_FAILURE")}
    assert {got[n] for n in names if n.startswith("unsigned")} == {
        ("INDETERMINATE", "NO_SIGNATURE_FOUND")
    }


# -- workers and Dask ------------------------------------------------------------------------


def test_two_workers_print_the_same_json_lines_as_one(
    run: Callable[..., Run], verify_corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pool of two worker processes: same verdicts, same bytes, in the same order."""
    one = run("--json", "--workers", "1", verify_corpus.root)
    monkeypatch.setattr(cli, "DOCUMENTS_PER_WORKER", 1)  # a pool even for nine documents
    two = run("--json", "--workers", "2", verify_corpus.root)
    assert two.out == one.out
    assert two.code == one.code == 1


def test_dask_scheduler_gives_the_same_json_lines_as_local(
    run: Callable[..., Run], verify_corpus: Corpus
) -> None:
    """--dask ADDRESS on a real distributed.LocalCluster with two worker processes."""
    from distributed import LocalCluster

    local = run("--json", "--workers", "1", verify_corpus.root)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        remote = run("--json", "--dask", cluster.scheduler_address, verify_corpus.root)
    assert remote.out == local.out
    assert remote.code == local.code


# -- cache -------------------------------------------------------------------------------------


def test_default_cache_is_kept_between_runs_and_no_cache_keeps_nothing(
    run: Callable[..., Run], verify_corpus: Corpus, private_cache: Path, tmp_path: Path
) -> None:
    """Default: fetched OCSP answers land in the per-user cache folder; --no-cache writes
    nothing there; --cache DIR uses DIR. The verdict is the same in all three."""
    doc = verify_corpus["passed-bb.pdf"]
    nothing = run("--json", "--no-cache", doc)
    assert list(private_cache.iterdir()) == []
    default = run("--json", doc)
    assert (private_cache / "revocation-cache.sqlite3").is_file()
    chosen = run("--json", "--cache", tmp_path / "c", doc)
    assert (tmp_path / "c" / "revocation-cache.sqlite3").is_file()
    assert nothing.out == default.out == chosen.out
    assert nothing.lines()[0]["indication"] == "TOTAL_PASSED"


# -- evidence ----------------------------------------------------------------------------------


def test_evidence_then_offline_replay_reaches_the_same_verdicts(
    run: Callable[..., Run], verify_corpus: Corpus, tmp_path: Path
) -> None:
    """--evidence DIR online, then --offline --evidence-in DIR: the same reports, while
    offline without the evidence cannot decide (TRY_LATER)."""
    import hashlib

    docs = [
        verify_corpus["passed-bb.pdf"],
        verify_corpus["passed-bt.pdf"],
        verify_corpus["revoked.pdf"],
        verify_corpus["to-khai.xml"],
    ]
    evidence = tmp_path / "evidence"
    online = run("--json", "--evidence", evidence, *docs)
    kept = online.lines()
    for report in kept:
        folder = evidence / report["sha256"]
        if report["detached_signature"]:  # its own folder under its content's
            signature = Path(report["detached_signature"]).read_bytes()
            folder = folder / "signatures" / hashlib.sha256(signature).hexdigest()
        assert json.loads((folder / "report.json").read_text(encoding="utf-8")) == report
        assert list((folder / "certs").glob("*.der"))
        assert list((folder / "ocsp").glob("*.der")) or list((folder / "crl").glob("*.der"))

    blind = run("--json", "--offline", *docs)
    assert {r["sub_indication"] for r in blind.lines()} == {"TRY_LATER"}

    replay = run("--json", "--offline", "--evidence-in", evidence, *docs)
    assert replay.lines() == kept
    assert replay.code == online.code == 1


def test_two_signatures_over_one_content_keep_their_own_evidence(
    run: Callable[..., Run], demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """X.p7s and X.sig beside X (a revoked and a valid signer) under --evidence: each
    signature's report and evidence are kept in a folder of its own under X's, neither
    overwrites the other, and the offline replay gives both verdicts again."""
    import hashlib

    from fixtures.documents import sign_detached

    folder = tmp_path / "docs"
    folder.mkdir()
    content = b"hop dong mua ban"
    (folder / "hop-dong.txt").write_bytes(content)
    signatures = {
        "hop-dong.txt.p7s": sign_detached(demo_pki, "citizen-revoked", content, at=SIGNED_AT),
        "hop-dong.txt.sig": sign_detached(demo_pki, "citizen", content, at=SIGNED_AT),
    }
    for name, sig in signatures.items():
        (folder / name).write_bytes(sig)
    evidence = tmp_path / "evidence"
    online = run("--json", "--evidence", evidence, folder)
    kept = online.lines()
    assert sorted(r["sub_indication"] or "" for r in kept) == ["", "REVOKED"]
    base = evidence / hashlib.sha256(content).hexdigest()
    for report in kept:
        own = hashlib.sha256(signatures[Path(report["detached_signature"]).name]).hexdigest()
        mine = base / "signatures" / own
        assert json.loads((mine / "report.json").read_text(encoding="utf-8")) == report
        assert list((mine / "certs").glob("*.der"))
    assert not (base / "report.json").exists()
    replay = run("--json", "--offline", "--evidence-in", evidence, folder)
    assert replay.lines() == kept


# -- progress ----------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(
    verify_corpus: Corpus, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a terminal stderr shows documents done, the rate and failures so far; on a pipe,
    nothing of it."""
    argv = ["--at", PINNED_AT, "--trust", str(verify_corpus.trust_pem), "--json"]
    cli.main([*argv, str(verify_corpus.root)])
    piped = capsys.readouterr().err
    assert "doc/s" not in piped
    assert "failed:" not in piped

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    cli.main([*argv, str(verify_corpus.root)])
    shown = terminal.getvalue()
    assert "9/9" in shown
    assert "doc/s" in shown
    assert "failed: 3" in shown


# -- usage -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--workers", "0", "x.pdf"],
        ["--workers", "many", "x.pdf"],
        ["--workers", "2", "--dask", "tcp://127.0.0.1:1", "x.pdf"],
        ["--jsonl", "/no/such/folder/out.jsonl", "x.pdf"],
        ["--csv", "/no/such/folder/out.csv", "x.pdf"],
        ["--cache", "c", "--no-cache", "x.pdf"],
        ["--evidence-in", "/no/such/evidence", "x.pdf"],
    ],
)
def test_bad_bulk_options_are_one_line_and_exit_64(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(argv)
    captured = capsys.readouterr()
    assert code == cli.EXIT_USAGE
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert captured.err.startswith("verify: error: ")


def test_unreachable_dask_scheduler_is_one_line_exit_64(
    verify_corpus: Corpus, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["--dask", "tcp://127.0.0.1:9", "--json", str(verify_corpus["unsigned.pdf"])])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("verify: error: --dask")
