"""Sanity rules and validation without providers: births and issues not in the future,
date ranges in order item by item, ages where a procedure sets them; forms binding custom
providers validate; invalid data is never printed as final, only as a marked draft."""

from __future__ import annotations

import copy
import io
import json
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from pypdf import PdfReader

from eforms import Catalog, FormValidationError, load_definition, render_pdf, validate
from eforms.cli import main
from eforms.render import DRAFT_MARK

from .conftest import TODAY

EXAMPLES = Path(__file__).resolve().parents[2] / "eforms" / "data" / "examples"
COMMON = "https://schemas.hoso.vn/eforms/common.json#/$defs/"


def _valid(form_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{form_id}.json").read_text("utf-8"))["valid"]
    return copy.deepcopy(data)


def _codes(report: Any) -> set[tuple[str, str]]:
    return {(e.pointer, e.code) for e in report.errors}


#: A form of the kind portal engineers write: shared definitions, a custom provider, an age.
LICENCE: dict[str, Any] = {
    "id": "de-nghi-thu-nghiem",
    "version": "1.0",
    "title": {"vi": "Đơn thử nghiệm", "en": "Test application"},
    "schema": {
        "type": "object",
        "required": ["person", "examDate"],
        "properties": {
            "person": {"$ref": COMMON + "person"},
            "idIssuedOn": {"$ref": COMMON + "pastDate"},
            "validUntil": {"$ref": COMMON + "isoDate"},
            "examDate": {"$ref": COMMON + "isoDate"},
            "maritalStatus": {"enum": ["single", "married"], "x-enum-labels": "marital-status"},
        },
    },
    "labels": {
        "/person": {"vi": "Người đề nghị", "en": "Applicant"},
        "/idIssuedOn": {"vi": "Ngày cấp căn cước", "en": "ID card issued on"},
        "/validUntil": {"vi": "Có giá trị đến", "en": "Valid until"},
        "/examDate": {"vi": "Ngày sát hạch", "en": "Examination date"},
        "/maritalStatus": {"vi": "Tình trạng hôn nhân", "en": "Marital status"},
    },
    "providers": {
        "civil-status": {"vi": "Cơ sở dữ liệu hộ tịch", "en": "the Civil Status Database"}
    },
    "autofill": [
        {"field": "/person/fullName", "source": "civil-status.full_name", "locked": True},
        {"field": "/maritalStatus", "source": "civil-status.marital_status"},
    ],
    "checks": [
        {"rule": "age", "birthDate": "/person/birthDate", "at": "/examDate", "min": 18, "max": 70}
    ],
}
PERSON = {
    "fullName": "Lê Văn Hùng",
    "birthDate": "1992-02-11",
    "sex": "M",
    "idNumber": "079092006789",
}


def test_births_and_issues_after_today_are_refused_and_today_itself_passes(
    catalog: Catalog,
) -> None:
    """A child born tomorrow, and a shared person's birth date or an ID issue date after
    today, are future-date errors naming both dates; a validity end date may be future."""
    form = catalog.form("to-khai-dang-ky-khai-sinh")
    data = _valid(form.id)
    data["child"]["birthDate"] = "2025-09-02"
    report = validate(form, data, today=TODAY)
    assert _codes(report) == {("/child/birthDate", "future-date")}
    (error,) = report.errors
    assert "02/09/2025" in error.message_vi
    assert "01/09/2025" in error.message_vi
    assert error.message_vi.startswith(form.label("/child/birthDate") or "?")
    assert "in the future" in error.message_en
    data["child"]["birthDate"] = TODAY.isoformat()
    assert validate(form, data, today=TODAY).ok

    custom = load_definition(LICENCE)
    later = {
        "person": {**PERSON, "birthDate": "2030-01-01"},
        "idIssuedOn": "2025-09-02",
        "validUntil": "2035-01-01",
        "examDate": "2025-08-01",
    }
    assert _codes(validate(custom, later, today=TODAY)) >= {
        ("/person/birthDate", "future-date"),
        ("/idIssuedOn", "future-date"),
    }
    assert ("/validUntil", "future-date") not in _codes(validate(custom, later, today=TODAY))


def test_without_today_the_day_is_todays_date_in_vietnam() -> None:
    """At 00:30 in Hà Nội (17:30 UTC the day before) a birth that day is not in the future;
    the next day is."""
    form = load_definition(LICENCE)
    with time_machine.travel(datetime(2026, 6, 1, 17, 30, tzinfo=UTC), tick=False):
        born_today = {"person": {**PERSON, "birthDate": "2026-06-02"}, "examDate": "2026-06-02"}
        assert ("/person/birthDate", "future-date") not in _codes(validate(form, born_today))
        born_tomorrow = {**born_today, "person": {**PERSON, "birthDate": "2026-06-03"}}
        assert ("/person/birthDate", "future-date") in _codes(validate(form, born_tomorrow))


def test_date_ranges_are_in_order_for_each_item_of_a_list(catalog: Catalog) -> None:
    """Residence history: each period's end may not come before its own start; periods are
    not compared with one another's."""
    form = catalog.form("to-khai-yeu-cau-cap-phieu-ly-lich-tu-phap")
    data = _valid(form.id)
    assert validate(form, data, today=TODAY).ok
    data["residenceHistory"][1]["to"] = "2006-08-01"  # before its own start, 2006-09-01
    report = validate(form, data, today=TODAY)
    assert _codes(report) == {("/residenceHistory/1/to", "date-order-or-equal")}
    assert "01/09/2006" in report.errors[0].message_vi


def test_ages_are_checked_where_the_procedure_sets_them(catalog: Catalog) -> None:
    """Household business: an owner of 15 is refused (age-min, the age given); a custom age
    rule counts at the exam date, with a maximum, and 29 February birthdays turn on 1 March."""
    form = catalog.form("giay-de-nghi-dang-ky-ho-kinh-doanh")
    data = _valid(form.id)
    data["owner"].update(birthDate="2010-03-15", idNumber="001210012345")
    report = validate(form, data, today=TODAY)
    assert ("/owner/birthDate", "age-min") in _codes(report)
    error = next(e for e in report.errors if e.code == "age-min")
    assert "Phải từ đủ 18 tuổi; đến ngày 01/09/2025 mới 15 tuổi." in error.message_vi
    assert "at least 18 years old; 15 on 01/09/2025" in error.message_en

    custom = load_definition(LICENCE)

    def age_codes(born: str, exam: str) -> set[str]:
        data = {"person": {**PERSON, "birthDate": born}, "examDate": exam}
        return {e.code for e in validate(custom, data, today=date(2030, 1, 1)).errors}

    assert "age-min" in age_codes("2008-09-02", "2026-09-01")
    assert age_codes("2008-09-01", "2026-09-01") == set()
    assert "age-max" in age_codes("1950-01-01", "2026-01-01")
    assert "age-min" in age_codes("2008-02-29", "2026-02-28")
    assert age_codes("2008-02-29", "2026-03-01") == set()


def test_forms_binding_custom_providers_validate_in_python_and_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No provider is registered anywhere: the definition loads, validate() judges the data,
    and 'eforms validate FILE DATA' exits 0 for valid data and 1 for invalid."""
    form = load_definition(LICENCE)
    assert {b.provider for b in form.bindings} == {"civil-status"}
    good = {"person": PERSON, "examDate": "2025-08-01", "maritalStatus": "single"}
    assert validate(form, good, today=TODAY).ok
    definition = tmp_path / "form.json"
    definition.write_text(json.dumps(LICENCE, ensure_ascii=False), encoding="utf-8")
    data = tmp_path / "data.json"
    data.write_text(json.dumps(good, ensure_ascii=False), encoding="utf-8")
    assert main(["validate", str(definition), str(data), "--today", "2025-09-01"]) == 0
    data.write_text(json.dumps({**good, "maritalStatus": "x"}), encoding="utf-8")
    assert main(["validate", str(definition), str(data), "--today", "2025-09-01"]) == 1
    out = capsys.readouterr().out
    assert "/maritalStatus\tenum" in out


def _page_texts(pdf: bytes) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages]


def test_render_pdf_refuses_invalid_data_and_marks_every_page_of_a_draft(
    catalog: Catalog, tmp_path: Path
) -> None:
    """Invalid data raises FormValidationError with every error; as a draft it is printed
    with BẢN NHÁP on every page (two pages here) and in the title; a valid form is not."""
    form = catalog.form("to-khai-yeu-cau-cap-phieu-ly-lich-tu-phap")
    data = _valid(form.id)
    data["residenceHistory"] = [
        {"from": f"{1990 + i}-01-01", "to": f"{1990 + i}-12-31", "address": "Số 1 phố Huế",
         "occupation": "Kế toán"}
        for i in range(25)
    ]  # fmt: skip
    final = render_pdf(form, data, today=TODAY)
    assert all(DRAFT_MARK not in text for text in _page_texts(final))
    data["applicant"]["birthDate"] = "2030-01-01"
    with pytest.raises(FormValidationError) as caught:
        render_pdf(form, data, today=TODAY)
    assert ("/applicant/birthDate", "future-date") in {
        (e.pointer, e.code) for e in caught.value.errors
    }
    draft = render_pdf(form, data, today=TODAY, draft=True)
    pages = _page_texts(draft)
    assert len(pages) == 2
    assert all("BẢN NHÁP: dữ liệu chưa hợp lệ, không dùng để nộp" in text for text in pages)
    reader = PdfReader(io.BytesIO(draft))
    assert reader.metadata is not None
    assert str(reader.metadata.title).startswith("BẢN NHÁP: ")
    path = tmp_path / "draft.pdf"
    path.write_bytes(draft)
    words = subprocess.run(
        ["pdftotext", "-f", "2", "-l", "2", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "BẢN NHÁP" in words


def test_cli_render_refuses_invalid_data_unless_draft(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'eforms render --pdf' exits 1 for invalid data and writes nothing; --draft writes it."""
    form_id = "to-khai-thay-doi-thong-tin-cu-tru"
    bad = json.loads((EXAMPLES / f"{form_id}.json").read_text("utf-8"))["invalid"]["data"]
    src = tmp_path / "data.json"
    src.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out.pdf"
    args = ["render", form_id, str(src), "--pdf", str(out), "--today", "2025-09-01"]
    assert main(args) == 1
    assert not out.exists()
    assert capsys.readouterr().err.startswith("eforms: invalid data: ")
    assert main([*args, "--draft"]) == 0
    assert DRAFT_MARK in _page_texts(out.read_bytes())[0]
