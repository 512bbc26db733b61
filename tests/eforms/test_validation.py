"""Validation: every error at once, ranked, with pointers, codes and vi/en messages."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eforms import Catalog, FilledValue, FormValidationError, validate
from eforms.messages import FORMAT_MESSAGES, KEYWORD_MESSAGES
from eforms.validation import MAX_NODES

from .conftest import NOW, TODAY

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "id"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 2, "maxLength": 5},
        "id": {"type": "string", "format": "vn-personal-id"},
        "phone": {"type": "string", "format": "vn-mobile"},
        "n": {"type": "integer", "minimum": 1, "maximum": 3, "multipleOf": 1},
        "tags": {"type": "array", "uniqueItems": True, "maxItems": 2},
        "kind": {"enum": ["a", "b"]},
        "choice": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    },
}


def _codes(data: Any) -> set[tuple[str, str]]:
    return {(e.pointer, e.code) for e in validate(SCHEMA, data).errors}


def test_all_errors_at_once_with_pointers_and_codes() -> None:
    """Every problem is reported in one pass, each at its own field."""
    data = {"id": "12", "n": 7, "tags": [1, 1, 2], "kind": "c", "zz": 1, "phone": "123"}
    assert _codes(data) == {
        ("/name", "required"),
        ("/id", "format.vn-personal-id"),
        ("/n", "maximum"),
        ("/tags", "unique-items"),
        ("/tags", "max-items"),
        ("/kind", "enum"),
        ("/zz", "unknown-field"),
        ("/phone", "format.vn-mobile"),
    }


def test_messages_are_ours_in_vietnamese_and_english() -> None:
    """No jsonschema (Python repr) message leaks; vi is default, en is there too."""
    report = validate(SCHEMA, {"name": "x", "id": 5})
    by = {e.pointer: e for e in report.errors}
    assert by["/name"].message_vi == "Cần ít nhất 2 ký tự (đang có 1)."
    assert by["/name"].message_en == "At least 2 characters are needed (got 1)."
    assert by["/id"].code == "type"
    assert "chữ" in by["/id"].message_vi
    assert by["/id"].message("en").endswith("expected text.")
    for e in report.errors:
        assert "is not of type" not in e.message_en
        assert "'" not in e.message_en


def test_every_keyword_and_format_has_both_languages() -> None:
    """Each message template exists in Vietnamese and English."""
    for vi, en in [*KEYWORD_MESSAGES.values(), *FORMAT_MESSAGES.values()]:
        assert vi
        assert en
        assert vi != en


def test_ranking_most_useful_first() -> None:
    """Missing and wrong-type fields come before format typos, which come before limits."""
    report = validate(SCHEMA, {"id": "12", "n": 9})
    assert [e.code for e in report.errors] == ["required", "format.vn-personal-id", "maximum"]


def test_labels_prefix_messages(catalog: Catalog) -> None:
    """A bundled form's labels name the field in the message."""
    form = catalog.form("to-khai-cap-giay-xac-nhan-tinh-trang-hon-nhan")
    report = validate(form, {"copies": 0})
    copies = next(e for e in report.errors if e.pointer == "/copies")
    assert copies.message_vi.startswith("Số lượng bản: ")
    assert copies.message_en.startswith("Number of copies: ")


def test_nfc_and_mobile_normalisation_at_the_boundary(catalog: Catalog) -> None:
    """Decomposed text is stored NFC; +84 mobiles are stored 0XXXXXXXXX."""
    form = catalog.form("to-khai-thay-doi-thong-tin-cu-tru")
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn An")
    report = validate(form, {"applicant": {"fullName": nfd, "phone": "+84 88 226 5795"}})
    assert report.data["applicant"]["fullName"] == "Nguyễn Văn An"
    assert report.data["applicant"]["phone"] == "0882265795"


def test_changing_a_locked_value_is_an_error(catalog: Catalog) -> None:
    """A locked autofilled value that the person changed is reported as 'locked'."""
    form = catalog.form("to-khai-thay-doi-thong-tin-cu-tru")
    filled = {
        "/applicant/fullName": FilledValue(
            "/applicant/fullName", "Nguyễn Văn An", "population", "full_name", NOW, True
        ),
        "/applicant/phone": FilledValue(
            "/applicant/phone", "0882265795", "population", "phone", NOW, False
        ),
    }
    data = {"applicant": {"fullName": "Nguyễn Văn Ăn", "phone": "0912345678"}}
    errors = {e.pointer: e for e in validate(form, data, prefilled=filled).errors}
    assert errors["/applicant/fullName"].code == "locked"
    locked = errors["/applicant/fullName"]
    assert "Cơ sở dữ liệu quốc gia về dân cư" in locked.message_vi
    assert "the National Population Database" in locked.message_en
    assert "population" not in locked.message_vi + locked.message_en
    assert "/applicant/phone" not in errors  # a suggestion may be changed


def test_computed_fields_fill_and_guard(catalog: Catalog) -> None:
    """Computed fees are filled in; a different typed value is an error."""
    form = catalog.form("to-khai-yeu-cau-cap-phieu-ly-lich-tu-phap")
    report = validate(form, {"copies": 4}, today=TODAY)
    assert report.data["fee"] == 210000
    wrong = validate(form, {"copies": 4, "fee": 1}, today=TODAY)
    assert any(e.pointer == "/fee" and e.code == "computed" for e in wrong.errors)


def test_age_needs_an_explicit_today(catalog: Catalog) -> None:
    """Without 'today' an age is not computed and a warning says so; no wall clock."""
    form = catalog.form("giay-de-nghi-dang-ky-ho-kinh-doanh")
    report = validate(form, {"owner": {"birthDate": "2000-01-01"}})
    assert "ownerAge" not in report.data
    assert report.warnings
    aged = validate(form, {"owner": {"birthDate": "2000-01-01"}}, today=date(2025, 9, 1))
    assert aged.data["ownerAge"] == 25


def test_raise_for_status() -> None:
    """raise_for_status raises FormValidationError carrying the ranked errors."""
    with pytest.raises(FormValidationError) as info:
        validate(SCHEMA, {}).raise_for_status()
    assert info.value.errors[0].code == "required"
    assert validate(SCHEMA, {"name": "Lan", "id": "001090012345"}).raise_for_status().ok


def test_oversized_and_too_deep_data_is_one_error() -> None:
    """Huge or deeply nested data gives one 'too-large' error, not a crash."""
    deep: Any = 1
    for _ in range(200):
        deep = {"a": deep}
    assert [e.code for e in validate(SCHEMA, deep).errors] == ["too-large"]
    assert [e.code for e in validate(SCHEMA, list(range(MAX_NODES + 1))).errors] == ["too-large"]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(_json)
def test_random_json_never_crashes(data: Any) -> None:
    """Any JSON value validates to a report whose errors all have pointer, code, messages."""
    for schema in (SCHEMA,):
        report = validate(schema, data)
        for e in report.errors:
            assert isinstance(e.pointer, str)
            assert e.code
            assert e.message_vi
            assert e.message_en


@settings(max_examples=60, deadline=None)
@given(_json)
def test_random_json_against_bundled_form(catalog: Catalog, data: Any) -> None:
    """Random data against a real form (refs, conditionals, checks) never crashes."""
    form = catalog.form("to-khai-dang-ky-khai-sinh")
    report = validate(form, {"child": data, "mother": data}, today=TODAY)
    assert not report.ok


def test_enum_and_const_messages_name_the_values_people_know() -> None:
    """A refused choice lists the allowed values by their labels ("Nam, Nữ"; "Male, Female"
    in English), never the codes behind them; an unlabelled enum still lists its values."""
    schema = {
        "type": "object",
        "properties": {
            "sex": {"enum": ["M", "F"], "x-enum-labels": "sex"},
            "term": {"const": 12, "x-enum-labels": {"12": {"vi": "12 tháng", "en": "12 months"}}},
            "kind": {"enum": ["a", "b"]},
        },
    }
    report = validate(schema, {"sex": "X", "term": 6, "kind": "c"})
    by = {e.pointer: e for e in report.errors}
    assert by["/sex"].message_vi.endswith("chọn một trong: Nam, Nữ.")
    assert by["/sex"].message_en.endswith("choose one of: Male, Female.")
    assert "«M»" not in by["/sex"].message_vi
    assert by["/term"].message_vi == "Giá trị phải là «12 tháng»."
    assert by["/term"].message_en == "The value must be «12 months»."
    assert by["/kind"].message_en.endswith("choose one of: a, b.")
