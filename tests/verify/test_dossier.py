"""hoso dossiers: a folder made by the real ``eforms submit`` is recognised by its
``manifest.json`` and checked against it.

Every listed file must be there with its SHA-256 (else TOTAL_FAILED / MANIFEST_MISMATCH
naming the file), extra files are flagged, and the dossier's line shows its code, procedure
and declarant. The dossier is made once by ``eforms submit`` (the demo PKI signs and
timestamps, the clock pinned at PINNED_NOW) and copied for each test before it is changed.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eforms.cli import main as eforms_main
from fixtures.documents import pinned, sign_detached
from fixtures.pki import DemoPKI
from fixtures.pki.build import P12_PASSWORD
from tests.conftest import PINNED_NOW
from tests.verify.conftest import PINNED_AT, SIGNER_NAME
from verify import Indication, cli
from verify.dossier import check_dossier, read_manifest

Validate = Callable[[dict[str, Any]], None]

REPO = Path(__file__).resolve().parents[2]
FORM = "to-khai-thay-doi-thong-tin-cu-tru"
PROCEDURE = "1.004222"  # the form's procedure code (eforms/data/forms)
AGENCY = "000.00.00.H29"
EXAMPLE = json.loads((REPO / "eforms" / "data" / "examples" / f"{FORM}.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def made(demo_pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the dossier folder written by ``eforms submit``, a PEM of the demo roots)."""
    tmp = tmp_path_factory.mktemp("submit")
    keys = tmp / "keys"
    p12 = demo_pki.write_p12("citizen", keys / "citizen.p12")
    (keys / "pw").write_bytes(P12_PASSWORD)
    roots = tmp / "roots"
    roots.mkdir()
    (roots / "public.pem").write_bytes(demo_pki.cert_pem("vn-root"))
    data = tmp / "data.json"
    data.write_text(json.dumps(EXAMPLE["valid"], ensure_ascii=False), encoding="utf-8")
    scan = tmp / "so-ho-khau.bin"
    scan.write_bytes(b"%scan of a household book%")
    scan_sig = tmp / "so-ho-khau.bin.p7s"
    scan_sig.write_bytes(sign_detached(demo_pki, "citizen", scan.read_bytes(), at=PINNED_NOW))
    photo = tmp / "anh.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    with pinned(PINNED_NOW):
        code = eforms_main(
            [
                "submit", FORM, str(data),
                "--p12", str(p12), "--password-file", str(keys / "pw"),
                "--trust", str(roots), "--tsa", demo_pki.tsa_url("public"),
                "--agency", AGENCY, "--state-dir", str(tmp / "state"), "--out", str(tmp / "out"),
                "--attach", f"{scan}:{scan_sig}", "--attach", str(photo),
            ]
        )  # fmt: skip
    assert code == 0
    (folder,) = (tmp / "out").iterdir()
    trust = tmp / "demo-roots.pem"
    trust.write_bytes(demo_pki.cert_pem("vn-root") + demo_pki.cert_pem("gov-root"))
    return folder, trust


@pytest.fixture
def dossier(made: tuple[Path, Path], tmp_path: Path) -> Path:
    """A fresh copy of the submitted dossier, in a folder of the auditor's."""
    target = tmp_path / "hồ sơ nhận" / made[0].name
    shutil.copytree(made[0], target)
    return target


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def reports(self, root: Path, validate: Validate) -> dict[str, dict[str, Any]]:
        """The JSON lines by path relative to ``root``, each schema-valid."""
        found = [json.loads(line) for line in self.out.splitlines() if line.strip()]
        for report in found:
            validate(report)
        return {Path(r["path"]).relative_to(root).as_posix(): r for r in found}


@pytest.fixture
def run(
    capsys: pytest.CaptureFixture[str],
    made: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Run]:
    monkeypatch.setenv("HOSO_CACHE_DIR", str(tmp_path_factory.mktemp("hoso-cache")))

    def go(*args: str | os.PathLike[str]) -> Run:
        capsys.readouterr()
        code = cli.main(["--at", PINNED_AT, "--trust", str(made[1]), *map(os.fspath, args)])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Run(code, captured.out, captured.err)

    return go


def test_submitted_dossier_is_recognised_with_its_code_procedure_and_declarant(
    run: Callable[..., Run], dossier: Path, validate_report: Validate
) -> None:
    """As submitted: the manifest's line is the dossier's (format dossier, TOTAL_PASSED,
    code, procedure and declarant in the sentence and facts); the signed form and the
    signed attachment pass on their own lines, the form data and the photo are NOT_SIGNED;
    exit 0."""
    code = dossier.name
    result = run("--json", dossier.parent)
    reports = result.reports(dossier, validate_report)
    assert set(reports) == {
        "manifest.json",
        f"{FORM}.pdf",
        f"{FORM}.json",
        "attachments/anh.jpg",
        "attachments/so-ho-khau.bin",
    }
    own = reports["manifest.json"]
    assert (own["format"], own["indication"], own["sub_indication"]) == (
        "dossier",
        "TOTAL_PASSED",
        None,
    )
    facts = own["facts"]
    assert (facts["dossier_code"], facts["procedure"], facts["declarant"]) == (
        code,
        PROCEDURE,
        SIGNER_NAME,
    )
    assert facts["agency"] == AGENCY
    assert facts["signature_level"] == "PAdES-B-LT"
    assert {p["path"]: p["status"] for p in facts["parts"]} == {
        f"{FORM}.pdf": "ok",
        f"{FORM}.json": "ok",
        "attachments/anh.jpg": "ok",
        "attachments/so-ho-khau.bin": "ok",
        "attachments/so-ho-khau.bin.p7s": "ok",
    }
    assert facts["extra_files"] == []
    for text in (code, PROCEDURE, SIGNER_NAME):
        assert text in own["message_vi"]
        assert text in own["message_en"]
    assert "cả 5 tệp trong bảng kê manifest.json" in own["message_vi"]
    assert reports[f"{FORM}.pdf"]["indication"] == "TOTAL_PASSED"
    assert reports["attachments/so-ho-khau.bin"]["indication"] == "TOTAL_PASSED"
    assert reports[f"{FORM}.json"]["indication"] == "NOT_SIGNED"
    assert reports["attachments/anh.jpg"]["indication"] == "NOT_SIGNED"
    assert result.code == 0


def test_table_row_names_the_dossier_and_its_declarant(
    run: Callable[..., Run], dossier: Path
) -> None:
    """The table's dossier row: its code in the sentence, the declarant as the signer."""
    result = run(dossier)
    [row] = [line for line in result.out.splitlines() if "manifest.json" in line]
    assert "TOTAL_PASSED" in row
    assert SIGNER_NAME in row
    assert f"Hồ sơ {dossier.name} (thủ tục {PROCEDURE}, người kê khai {SIGNER_NAME})" in row


def test_one_changed_file_fails_the_dossier_naming_it(
    run: Callable[..., Run], dossier: Path, validate_report: Validate
) -> None:
    """The form data (not signed itself, so only the manifest can tell) is edited: the
    dossier is TOTAL_FAILED / MANIFEST_MISMATCH naming that file; exit 1."""
    data = dossier / f"{FORM}.json"
    edited = {**json.loads(data.read_text(encoding="utf-8")), "ghiChu": "sửa sau khi nộp"}
    data.write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")
    result = run("--json", dossier)
    own = result.reports(dossier, validate_report)["manifest.json"]
    assert (own["indication"], own["sub_indication"]) == ("TOTAL_FAILED", "MANIFEST_MISMATCH")
    assert f"“{FORM}.json” was changed" in own["message_en"]
    assert f"“{FORM}.json” đã bị thay đổi" in own["message_vi"]
    assert dossier.name in own["message_vi"]
    assert result.code == 1


def test_one_removed_file_fails_the_dossier_naming_it(
    run: Callable[..., Run], dossier: Path, validate_report: Validate
) -> None:
    """An attachment is deleted: TOTAL_FAILED / MANIFEST_MISMATCH, "missing", named."""
    (dossier / "attachments" / "anh.jpg").unlink()
    result = run("--json", dossier)
    own = result.reports(dossier, validate_report)["manifest.json"]
    assert (own["indication"], own["sub_indication"]) == ("TOTAL_FAILED", "MANIFEST_MISMATCH")
    assert "“attachments/anh.jpg” is missing" in own["message_en"]
    assert "“attachments/anh.jpg” bị thiếu" in own["message_vi"]
    assert result.code == 1


def test_one_added_file_is_flagged_on_the_dossier_and_on_its_own_line(
    run: Callable[..., Run], dossier: Path, validate_report: Validate
) -> None:
    """A file the manifest does not list: the dossier still matches what it lists
    (TOTAL_PASSED) but names the extra file in its sentence and warnings; the file's own
    line carries a warning too; exit 0."""
    (dossier / "attachments" / "them.txt").write_text("thêm vào sau\n", encoding="utf-8")
    result = run("--json", dossier)
    reports = result.reports(dossier, validate_report)
    own = reports["manifest.json"]
    assert own["indication"] == "TOTAL_PASSED"
    assert own["facts"]["extra_files"] == ["attachments/them.txt"]
    assert own["warnings"] == ["not listed in manifest.json: attachments/them.txt"]
    assert "1 tệp không có trong bảng kê: “attachments/them.txt”" in own["message_vi"]
    added = reports["attachments/them.txt"]
    assert added["indication"] == "NOT_SIGNED"
    assert added["warnings"] == [f"not listed in the manifest.json of dossier {dossier.name}"]
    assert result.code == 0


def test_changed_removed_and_added_at_once_are_each_named(
    run: Callable[..., Run], dossier: Path, validate_report: Validate
) -> None:
    """One file changed, one removed, one added: the dossier's one line names all three and
    its facts give each listed file's status."""
    (dossier / f"{FORM}.pdf").write_bytes((dossier / f"{FORM}.pdf").read_bytes() + b"\n% x\n")
    (dossier / "attachments" / "so-ho-khau.bin.p7s").unlink()
    (dossier / "ghi-chu.txt").write_text("ghi chú\n", encoding="utf-8")
    result = run("--json", dossier)
    reports = result.reports(dossier, validate_report)
    own = reports["manifest.json"]
    assert (own["indication"], own["sub_indication"]) == ("TOTAL_FAILED", "MANIFEST_MISMATCH")
    for text in (f"“{FORM}.pdf” was changed", "“attachments/so-ho-khau.bin.p7s” is missing"):
        assert text in own["message_en"]
    assert "“ghi-chu.txt”" in own["message_en"]
    statuses = {p["path"]: p["status"] for p in own["facts"]["parts"]}
    assert statuses[f"{FORM}.pdf"] == "changed"
    assert statuses["attachments/so-ho-khau.bin.p7s"] == "missing"
    assert statuses[f"{FORM}.json"] == "ok"
    assert own["facts"]["extra_files"] == ["ghi-chu.txt"]
    assert result.code == 1


def test_naming_the_manifest_alone_checks_its_whole_folder(
    run: Callable[..., Run], dossier: Path, validate_report: Validate
) -> None:
    """``verify .../manifest.json``: the dossier is checked against the folder it lies in."""
    (dossier / "attachments" / "anh.jpg").unlink()
    result = run("--json", dossier / "manifest.json")
    [own] = result.reports(dossier, validate_report).values()
    assert own["sub_indication"] == "MANIFEST_MISMATCH"
    assert result.code == 1


def test_a_manifest_json_that_is_not_a_hoso_manifest_is_just_json(
    run: Callable[..., Run], tmp_path: Path, validate_report: Validate
) -> None:
    """A web app's manifest.json is NOT_SIGNED JSON, not a dossier."""
    (tmp_path / "manifest.json").write_text('{"name": "app", "icons": []}', encoding="utf-8")
    result = run("--json", tmp_path)
    [own] = result.reports(tmp_path, validate_report).values()
    assert (own["indication"], own["format"]) == ("NOT_SIGNED", "json")


def test_a_damaged_hoso_manifest_fails_with_the_reason(
    run: Callable[..., Run], dossier: Path, validate_report: Validate
) -> None:
    """A hoso manifest whose part leaves the folder cannot be used: TOTAL_FAILED /
    FORMAT_FAILURE saying why; nothing outside the folder is read."""
    manifest = dossier / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["parts"][0]["path"] = "../../../etc/passwd"
    manifest.write_text(json.dumps(data), encoding="utf-8")
    result = run("--json", dossier)
    own = result.reports(dossier, validate_report)["manifest.json"]
    assert (own["indication"], own["sub_indication"]) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert "outside the dossier folder" in own["message_en"]
    assert result.code == 1


def test_library_check_dossier_agrees_with_the_command(dossier: Path) -> None:
    """verify.dossier used directly: read_manifest, then check_dossier, same verdicts."""
    found = read_manifest(dossier / "manifest.json")
    assert found is not None
    assert (found.code, found.procedure, found.declarant) == (dossier.name, PROCEDURE, SIGNER_NAME)
    assert check_dossier(found, PINNED_NOW).indication is Indication.TOTAL_PASSED
    (dossier / f"{FORM}.json").unlink()
    report = check_dossier(found, PINNED_NOW)
    assert report.indication is Indication.TOTAL_FAILED
    assert read_manifest(dossier / f"{FORM}.pdf") is None
