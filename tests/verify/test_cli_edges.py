"""Edges of the ``verify`` command line: validation times out of range, in the future or
before a signature's own time, ``--max-size``, ``--help``, and the CSV an auditor opens in
Excel. The wall clock is pinned wherever "now" matters; nothing leaves the machine.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fixtures.documents import pinned
from tests.conftest import PINNED_NOW
from tests.verify.conftest import PINNED_AT, Corpus
from verify import cli


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def reports(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


@pytest.fixture(autouse=True)
def _pinned_clock_and_private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The wall clock reads PINNED_NOW; each test has its own revocation cache."""
    monkeypatch.setenv("HOSO_CACHE_DIR", str(tmp_path_factory.mktemp("hoso-cache")))
    with pinned(PINNED_NOW):
        yield


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], verify_corpus: Corpus) -> Callable[..., Run]:
    def go(*args: str | os.PathLike[str]) -> Run:
        capsys.readouterr()
        code = cli.main(["--trust", str(verify_corpus.trust_pem), *map(os.fspath, args)])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Run(code, captured.out, captured.err)

    return go


# -- --at out of range ---------------------------------------------------------------------

OUT_OF_RANGE = [
    "0001-01-01",  # Vietnam's midnight is still year 0 in UTC
    "9999-12-31T23:59:59-12:00",  # already year 10000 in UTC
    "1949-12-31T23:59:59Z",  # before X.509 times begin
    "9999-06-01",  # too close to the calendar's end for the validation's arithmetic
]


@pytest.mark.parametrize("text", OUT_OF_RANGE)
def test_at_out_of_range_is_one_line_and_exit_64(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An --at the calendar or X.509 cannot hold: one line naming the range, exit 64."""
    code = cli.main(["--at", text, "x.pdf"])
    captured = capsys.readouterr()
    assert code == 64
    assert captured.out == ""
    [line] = captured.err.strip().splitlines()
    assert line.startswith(f"verify: error: --at: {text!r} is out of range")
    assert "1950-01-01 to 9998-12-31" in line


def test_at_out_of_range_in_a_real_process_prints_no_traceback(verify_corpus: Corpus) -> None:
    """The two times of the issue, through ``python -m verify``: exit 64, one line each."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for text in OUT_OF_RANGE[:2]:
        proc = subprocess.run(
            [sys.executable, "-m", "verify", "--at", text, str(verify_corpus["passed-bb.pdf"])],
            capture_output=True, text=True, encoding="utf-8", env=env, timeout=120, check=False,
        )  # fmt: skip
        assert proc.returncode == 64, proc.stderr
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1950-01-01T00:00:00Z", datetime(1950, 1, 1, tzinfo=UTC)),
        ("9998-12-31T23:59:59Z", datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_the_ends_of_the_range_are_accepted(text: str, expected: datetime) -> None:
    assert cli.parse_time(text) == expected


# -- warnings about the validation time ----------------------------------------------------


def test_a_validation_time_in_the_future_gives_a_warning(
    run: Callable[..., Run], verify_corpus: Corpus
) -> None:
    """--at a year after the (pinned) clock: a warning in both languages on stderr; the
    verdicts are still given."""
    result = run("--at", "2027-06-01", "--json", verify_corpus["passed-bb.pdf"])
    [warning] = [line for line in result.err.splitlines() if "warning" in line]
    assert "is in the future (now: 2026-06-01T10:00:00Z)" in warning
    assert "ở tương lai" in warning
    assert len(result.reports()) == 1


def test_a_validation_time_now_or_past_gives_no_time_warning(
    run: Callable[..., Run], verify_corpus: Corpus
) -> None:
    result = run("--at", PINNED_AT, "--json", verify_corpus["passed-bb.pdf"])
    assert "warning" not in result.err
    [report] = result.reports()
    assert report["warnings"] == []


def test_a_validation_time_before_the_claimed_signing_time_gives_a_warning(
    run: Callable[..., Run], verify_corpus: Corpus
) -> None:
    """Signed 2026-05-20, validated as of 2026-05-01: the report warns that the signature
    is judged before the time it claims, and stderr says so for the run."""
    result = run("--at", "2026-05-01", "--json", verify_corpus["passed-bb.pdf"])
    [report] = result.reports()
    [note] = [w for w in report["warnings"] if "before the signing time" in w]
    assert "signature 1 claims (2026-05-20T09:00:00Z" in note
    assert "validated at 2026-04-30T17:00:00Z" in note
    assert "before a signature's claimed signing time" in result.err
    assert "passed-bb.pdf" in result.err


# -- --help ----------------------------------------------------------------------------------


def test_help_names_xml_signatures_and_the_new_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "XML signatures (XMLDSig" in out
    assert "--max-size" in out
    assert "--strict" in out
    assert "NOT_SIGNED" in out


# -- --max-size --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [("1024", 1024), ("2k", 2048), ("64M", 64 * 1024**2), ("1G", 1024**3), ("200MiB", 200 << 20)],
)
def test_max_size_reads_bytes_and_k_m_g_suffixes(text: str, size: int) -> None:
    args = cli.build_parser().parse_args(["--max-size", text, "x.pdf"])
    assert args.max_size == size


@pytest.mark.parametrize("text", ["0", "-5", "1.5M", "12Q", "M", ""])
def test_a_bad_max_size_is_one_line_and_exit_64(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--max-size", text, "x.pdf"]) == 64
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("verify: error: argument --max-size")


def test_max_size_lowers_the_limit(run: Callable[..., Run], verify_corpus: Corpus) -> None:
    """A 16 KB signed PDF with --max-size 1K: INDETERMINATE / SIZE_LIMIT_EXCEEDED, limit named."""
    result = run("--at", PINNED_AT, "--json", "--max-size", "1K", verify_corpus["passed-bb.pdf"])
    [report] = result.reports()
    assert (report["indication"], report["sub_indication"]) == (
        "INDETERMINATE",
        "SIZE_LIMIT_EXCEEDED",
    )
    assert "1,024" in report["message_en"] or "1024" in report["message_en"]


def test_max_size_raises_the_limit_a_policy_file_set(
    run: Callable[..., Run], verify_corpus: Corpus, tmp_path: Path
) -> None:
    """The policy's max_file_size (1000 bytes) refuses the PDF; --max-size 20M lets it in."""
    policy = tmp_path / "nho.toml"
    policy.write_text("max_file_size = 1000\n", encoding="utf-8")
    pdf = verify_corpus["passed-bb.pdf"]
    limited = run("--at", PINNED_AT, "--json", "--policy", policy, pdf)
    assert limited.reports()[0]["sub_indication"] == "SIZE_LIMIT_EXCEEDED"
    raised = run("--at", PINNED_AT, "--json", "--policy", policy, "--max-size", "20M", pdf)
    assert raised.reports()[0]["indication"] == "TOTAL_PASSED"
    assert raised.code == 0


def test_worker_memory_follows_a_raised_size_limit() -> None:
    """2 GiB up to 256 MB documents, then eight times the largest document allowed."""
    assert cli.memory_limit(64 * 1024**2) == 2 * 1024**3
    assert cli.memory_limit(1024**3) == 8 * 1024**3


# -- CSV -------------------------------------------------------------------------------------


def test_csv_has_one_bom_and_times_in_vietnam_with_their_offset(
    run: Callable[..., Run], verify_corpus: Corpus, tmp_path: Path
) -> None:
    """A new CSV starts with a UTF-8 BOM; signing times are Asia/Ho_Chi_Minh with +07:00;
    rows appended by a resumed run add no second BOM."""
    table, jsonl = tmp_path / "ket-qua.csv", tmp_path / "ket-qua.jsonl"
    run("--at", PINNED_AT, "--csv", table, "--jsonl", jsonl, verify_corpus["passed-bb.pdf"])
    data = table.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfpath,")
    with table.open(encoding="utf-8-sig", newline="") as f:
        [row] = list(csv.DictReader(f))
    assert row["signing_time"] == "2026-05-20T16:00:00+07:00"
    assert row["signers"] == "Nguyễn Thị Hoà"  # read back as UTF-8, not mojibake
    run(
        "--at", PINNED_AT, "--csv", table, "--jsonl", jsonl, "--resume", jsonl,
        verify_corpus["passed-bb.pdf"], verify_corpus["passed-bt.pdf"],
    )  # fmt: skip
    again = table.read_bytes()
    assert again.count(b"\xef\xbb\xbf") == 1
    with table.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [Path(r["path"]).name for r in rows] == ["passed-bb.pdf", "passed-bt.pdf"]
    assert all(t.endswith("+07:00") for r in rows for t in r["signing_time"].split("; "))
