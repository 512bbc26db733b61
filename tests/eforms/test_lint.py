"""Authoring checks: 'eforms check' and load_definition's warnings find unlabelled fields,
one-language labels, unnamed providers, enum values without labels and expressions that
read no field; every bundled form passes."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from eforms import (
    Catalog,
    DefinitionWarning,
    check_definition,
    load_definition,
)
from eforms.cli import main

COMMON = "https://schemas.hoso.vn/eforms/common.json#/$defs/"

#: One of every problem, each where check_definition must point.
FLAWED: dict[str, Any] = {
    "id": "de-nghi-co-loi",
    "version": "1.0",
    "title": {"vi": "Đơn có lỗi", "en": "A flawed form"},
    "schema": {
        "type": "object",
        "properties": {
            "person": {"$ref": COMMON + "person"},
            "note": {"type": "string"},
            "maritalStatus": {"type": "string", "enum": ["single", "married"]},
            "channel": {"oneOf": [{"const": "online", "title": "Trực tuyến"}]},
            "kind": {"type": "string", "enum": ["a"], "x-enum-labels": "no-such-vocabulary"},
            "fee": {"type": "integer"},
        },
    },
    "ui": {
        "type": "VerticalLayout",
        "elements": [
            {
                "type": "Group",
                "label": "Người đề nghị",
                "elements": [{"type": "Control", "scope": "#/properties/person"}],
            },
            {"type": "Control", "scope": "#/properties/note"},
        ],
    },
    "labels": {
        "/person": {"vi": "Người đề nghị", "en": "Applicant"},
        "/maritalStatus": {"vi": "Tình trạng hôn nhân", "en": "Marital status"},
        "/channel": {"vi": "Hình thức nộp"},
        "/kind": {"vi": "Loại", "en": "Kind"},
        "/fee": {"vi": "Lệ phí", "en": "Fee"},
    },
    "autofill": [{"field": "/person/fullName", "source": "civil-status.full_name"}],
    "computed": [{"field": "/fee", "expression": {"*": [{"var": "copies"}, 5000]}}],
}
EXPECTED = [
    ("/labels/~1note", "unlabelled-field"),
    ("/labels/~1channel", "label-missing-en"),
    ("/ui/elements/0/label", "label-missing-en"),
    ("/autofill/0", "unnamed-provider"),
    ("/schema/properties/maritalStatus", "unlabelled-enum"),
    ("/schema/properties/channel", "enum-label-missing-en"),
    ("/schema/properties/kind/x-enum-labels", "unknown-vocabulary"),
    ("/schema/properties/kind", "unlabelled-enum"),
    ("/computed/0/expression", "unknown-reference"),
]


def _found(raw: dict[str, Any]) -> list[tuple[str, str]]:
    form = load_definition(raw, lint=False)
    return [(p.location, p.code) for p in check_definition(form)]


def test_every_bundled_form_passes_check(
    catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    """'eforms check --all' exits 0 with one 'ok' per bundled form; loading them warns of
    nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DefinitionWarning)
        for form_id in catalog.form_ids():
            assert check_definition(catalog.form(form_id)) == []
    assert main(["check", "--all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{form_id}: ok" for form_id in catalog.form_ids()]


def test_check_points_at_each_problem_with_its_code() -> None:
    """A field with no label, a Vietnamese-only label and UI label, a provider nobody named,
    a 'maritalStatus' enum (no labels taken from its name), a one-language oneOf title, an
    unknown vocabulary and an expression reading a missing field: each found, in place."""
    assert _found(FLAWED) == EXPECTED


def test_each_problem_goes_away_when_fixed() -> None:
    """Labels, a provider name, enum labels, a known vocabulary and a real field: clean."""
    fixed = copy.deepcopy(FLAWED)
    fixed["labels"]["/note"] = {"vi": "Ghi chú", "en": "Note"}
    fixed["labels"]["/channel"]["en"] = "Channel"
    fixed["ui"]["elements"][0]["label"] = {"vi": "Người đề nghị", "en": "Applicant"}
    fixed["providers"] = {"civil-status": {"vi": "Cơ sở dữ liệu hộ tịch", "en": "Civil status"}}
    props = fixed["schema"]["properties"]
    props["maritalStatus"]["x-enum-labels"] = "marital-status"
    props["channel"] = {"enum": ["online"], "x-enum-labels": {"online": ["Trực tuyến", "Online"]}}
    props["kind"]["x-enum-labels"] = {"a": {"vi": "Loại A", "en": "Kind A"}}
    props["copies"] = {"type": "integer"}
    fixed["labels"]["/copies"] = {"vi": "Số bản", "en": "Copies"}
    assert _found(fixed) == []


def test_load_definition_warns_of_the_same_problems_and_plain_schemas_are_quiet() -> None:
    """Each problem is a DefinitionWarning carrying it; lint=False and plain JSON Schemas
    load without a warning."""
    with pytest.warns(DefinitionWarning) as caught:
        load_definition(FLAWED, name="flawed.json")
    got = [(w.message.problem.location, w.message.problem.code) for w in caught]  # type: ignore[union-attr]
    assert got == EXPECTED
    assert str(caught[0].message).startswith("flawed.json:/labels/~1note: unlabelled-field")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_definition(FLAWED, lint=False)
        load_definition({"type": "object", "properties": {"x": {"type": "string"}}}, name="p")


def test_cli_check_prints_problems_in_either_language_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'eforms check FILE' prints one line per problem and exits 1; --lang vi speaks
    Vietnamese; --json lists them; a file that does not load is a problem too; no FORM is a
    usage error."""
    path = tmp_path / "flawed.json"
    path.write_text(json.dumps(FLAWED, ensure_ascii=False), encoding="utf-8")
    assert main(["check", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(EXPECTED)
    assert lines[0] == (
        f"{path}: /labels/~1note: unlabelled-field: field /note has no label (labels, or "
        "x-label in its schema): people would read its JSON name 'note'"
    )
    assert main(["check", str(path), "--lang", "vi"]) == 1
    assert "trường /note chưa có nhãn" in capsys.readouterr().out
    assert main(["check", str(path), "to-khai-dang-ky-khai-sinh", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["clean"] is False
    assert [f["form"] for f in report["forms"]] == [str(path), "to-khai-dang-ky-khai-sinh"]
    assert report["forms"][1]["problems"] == []
    assert [p["code"] for p in report["forms"][0]["problems"]] == [c for _l, c in EXPECTED]
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert main(["check", str(broken)]) == 1
    assert "does not load" in capsys.readouterr().out
    assert main(["check"]) == 64
