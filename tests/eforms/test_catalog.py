"""The procedure catalog and every bundled form's valid and invalid examples."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from typing import Any

import pytest

from eforms import Catalog, CatalogError, validate

EXAMPLES = resources.files("eforms") / "data" / "examples"
FORM_IDS = sorted(e.name[:-5] for e in EXAMPLES.iterdir() if e.name.endswith(".json"))


def _example(form_id: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{form_id}.json").read_text("utf-8"))
    return loaded


def test_twenty_procedures_with_codes_and_forms(catalog: Catalog) -> None:
    """Twenty procedures, national-database-style codes, each with an e-form that exists and
    names its template; a code not checked against the national database says so."""
    procs = catalog.procedures()
    assert len(procs) == 20
    for p in procs:
        form = catalog.form(p.forms[0].id)
        assert form.template
        assert form.procedure == p.code
        assert len(p.code) == 8
        assert p.code[1] == "."
        assert p.forms
        assert all(f.id in catalog.form_ids() for f in p.forms)
        assert any(d.kind == "eform" for d in p.documents)
    assert {p.audience for p in procs} == {"citizen", "organisation", "both"}


def test_search_with_and_without_diacritics(catalog: Catalog) -> None:
    """'hộ kinh doanh', 'HO KINH DOANH' and 'ho kinh doanh' find the same procedures."""
    queries = ("hộ kinh doanh", "HO KINH DOANH", "ho kinh doanh")
    codes = {tuple(p.code for p in catalog.search(q)) for q in queries}
    assert codes == {("2.000575", "2.000720")}
    assert [p.code for p in catalog.search("ly lich tu phap")] == ["2.000488"]


def test_filters(catalog: Catalog) -> None:
    """Audience, level, agency and topic filters narrow the list."""
    assert [p.code for p in catalog.search(audience="organisation")] == [
        "1.012781",
        "2.001610",
        "2.002037",
    ]
    assert len(catalog.search(audience="citizen")) == 19
    assert {p.code for p in catalog.search(topic="ho tich")} == {
        "1.000656",
        "1.000894",
        "1.001022",
        "1.001193",
        "1.004859",
        "1.004873",
    }
    assert [p.code for p in catalog.search(agency="cong an cap xa")] == [
        "1.004194",
        "1.004215",
        "1.004222",
        "1.004238",
    ]
    assert [p.code for p in catalog.search(level="partial")] == [
        "1.000894",
        "1.001022",
        "1.001978",
        "1.012781",
    ]
    assert [p.code for p in catalog.search("tam tru")] == ["1.004194", "1.004215"]  # cư trú
    assert [p.code for p in catalog.search("tam vang")] == ["1.004215"]


def test_legal_basis_is_dated_data(catalog: Catalog) -> None:
    """Decree 01/2021 applies before 1 July 2025 and Decree 168/2025 after."""
    proc = catalog.get("2.000720")
    before = {r.number for r in proc.legal_basis_on(date(2025, 6, 30))}
    after = {r.number for r in proc.legal_basis_on(date(2025, 7, 1))}
    assert "01/2021/NĐ-CP" in before
    assert "168/2025/NĐ-CP" not in before
    assert "168/2025/NĐ-CP" in after
    assert "01/2021/NĐ-CP" not in after


def test_unknown_procedure_and_form(catalog: Catalog) -> None:
    """Unknown codes, ids and versions raise CatalogError."""
    with pytest.raises(CatalogError):
        catalog.get("9.999999")
    with pytest.raises(CatalogError):
        catalog.form("khong-co")
    with pytest.raises(CatalogError):
        catalog.form("to-khai-dang-ky-khai-sinh@1999.1")


def test_every_form_has_examples(catalog: Catalog) -> None:
    """Each bundled form ships a valid and an invalid example."""
    assert catalog.form_ids() == FORM_IDS


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_valid_example_passes(catalog: Catalog, form_id: str) -> None:
    """The form's valid filled example has no errors."""
    ex = _example(form_id)
    report = validate(catalog.form(form_id), ex["valid"], today=date.fromisoformat(ex["today"]))
    assert report.ok, [(e.pointer, e.code) for e in report.errors]


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_invalid_example_fails_exactly_as_expected(catalog: Catalog, form_id: str) -> None:
    """The invalid example yields exactly the expected (pointer, code) errors, in vi and en."""
    ex = _example(form_id)
    data = ex["invalid"]["data"]
    report = validate(catalog.form(form_id), data, today=date.fromisoformat(ex["today"]))
    got = {(e.pointer, e.code) for e in report.errors}
    assert got == {(e["pointer"], e["code"]) for e in ex["invalid"]["expect"]}
    for e in report.errors:
        assert e.message_vi
        assert e.message_en
        assert e.message_vi != e.message_en
