"""The eforms command line: catalog, validate, fill; exit codes and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eforms.cli import main
from fixtures.registry.build import DEMO_CITIZEN

FORM = "to-khai-yeu-cau-cap-phieu-ly-lich-tu-phap"
EXAMPLE = Path(__file__).parents[2] / "eforms" / "data" / "examples" / f"{FORM}.json"


def _write(tmp_path: Path, name: str, value: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_catalog_lists_and_filters(capsys: pytest.CaptureFixture[str]) -> None:
    """'eforms catalog' filters by text without diacritics and by audience, as JSON too."""
    assert main(["catalog", "xac nhan tinh trang hon nhan"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1.004873")
    assert out.count("\n") == 1
    assert main(["catalog", "--audience", "organisation", "--json"]) == 0
    listed = [p["code"] for p in json.loads(capsys.readouterr().out)]
    assert listed == ["1.012781", "2.001610", "2.002037"]  # organisations, and both


def test_validate_valid_and_invalid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 0 for valid data; exit 1 with pointer/code/message JSON for invalid data."""
    example = json.loads(EXAMPLE.read_text("utf-8"))
    good = _write(tmp_path, "good.json", example["valid"])
    assert main(["validate", FORM, good, "--today", example["today"]]) == 0
    capsys.readouterr()
    bad = _write(tmp_path, "bad.json", example["invalid"]["data"])
    assert main(["validate", FORM, bad, "--json", "--lang", "en"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    assert all({"pointer", "code", "message"} <= set(e) for e in report["errors"])
    assert report["errors"][0]["message"] == report["errors"][0]["message_en"]


def test_validate_with_plain_schema_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plain JSON Schema file using our formats works as FORM."""
    schema = _write(tmp_path, "s.json", {"properties": {"mst": {"format": "vn-tax-code"}}})
    assert main(["validate", schema, _write(tmp_path, "d.json", {"mst": "0100047516"})]) == 0
    assert main(["validate", schema, _write(tmp_path, "e.json", {"mst": "0100047517"})]) == 1
    assert "Mã số thuế «0100047517»" in capsys.readouterr().out


def test_bad_arguments_and_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Usage errors exit 64, missing files 66, broken files 65: one line, no traceback."""
    assert main(["validate"]) == 64
    assert main(["frobnicate"]) == 64
    assert main(["validate", FORM, str(tmp_path / "none.json")]) == 66
    assert main(["validate", str(tmp_path / "none-form.json"), "x.json"]) == 66
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert main(["validate", FORM, str(broken)]) == 65
    assert main(["validate", str(broken), str(broken)]) == 65
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert all(line.startswith("eforms: ") for line in err.strip().splitlines())


def test_fill_prints_data_with_provenance(
    registry_db: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """'eforms fill' prefills from the registry and prints provenance per field."""
    assert main(["fill", FORM, "--subject", DEMO_CITIZEN, "--registry", str(registry_db)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["data"]["applicant"]["fullName"] == "Nguyễn Thị Hoà"
    assert out["provenance"]["/applicant/idNumber"]["locked"] is True
    assert main(["fill", FORM, "--subject", "x", "--registry", str(tmp_path / "no.db")]) == 66
    assert "fixtures.registry.build" in capsys.readouterr().err
