"""The twenty bundled procedures: what each says about itself, how sure it is, how it fills."""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from eforms import (
    Catalog,
    FormValidationError,
    autofill_sync,
    bundled_catalog,
    render_html,
    render_pdf,
    sqlite_registry,
    validate,
)
from fixtures.registry.build import DEMO_CITIZEN

from .conftest import TODAY, clock

DATA = resources.files("eforms") / "data"

#: The forms added to reach twenty procedures (issue 19), each with its procedure's code.
ADDED = {
    "to-khai-dang-ky-nhan-cha-me-con": "1.001022",
    "to-khai-dang-ky-thay-doi-cai-chinh-bo-sung-thong-tin-ho-tich": "1.004859",
    "to-khai-xac-nhan-thong-tin-ve-cu-tru": "1.004238",
    "phieu-khai-bao-tam-vang": "1.004215",
    "giay-de-nghi-dang-ky-cong-ty-tnhh-mot-thanh-vien": "2.001610",
    "thong-bao-thay-doi-noi-dung-dang-ky-ho-kinh-doanh": "2.000575",
    "to-khai-tham-gia-dieu-chinh-thong-tin-bhxh-bhyt": "1.000401",
    "de-nghi-huong-tro-cap-that-nghiep": "1.001978",
    "don-dang-ky-bien-dong-dat-dai-tai-san-gan-lien-voi-dat": "1.012781",
    "don-de-nghi-cap-giay-phep-xay-dung-nha-o-rieng-le": "1.009994",
    "don-de-nghi-doi-cap-lai-giay-phep-lai-xe": "1.002809",
}

#: Of the added forms, the one whose template reference was not left marked as unchecked:
#: residence form CT01 of Circular 66/2023/TT-BCA, which the bundled residence forms use too.
TEMPLATE_AS_BUNDLED = {"to-khai-xac-nhan-thong-tin-ve-cu-tru"}

UNCHECKED = "chưa đối chiếu"


def _raw_procedure(code: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "procedures" / f"{code}.json").read_text("utf-8"))
    return loaded


def _example(form_id: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "examples" / f"{form_id}.json").read_text("utf-8"))
    return loaded


def test_every_procedure_says_what_the_issue_asks(catalog: Catalog) -> None:
    """Code, name (vi and en), level, agency, audience, topic, legal basis in force today, and
    one e-form naming its template, for each of the twenty procedures."""
    procs = catalog.procedures()
    assert len(procs) == 20
    assert len({p.code for p in procs}) == 20
    for p in procs:
        for text in (p.name, p.topic, p.agency):
            assert text.vi, p.code
            assert text.en, p.code
        assert p.name.vi != p.name.en, p.code
        assert p.level in ("full", "partial")
        assert p.audience in ("citizen", "organisation", "both")
        assert p.legal_basis_on(TODAY), f"{p.code}: no legal text in force on {TODAY}"
        eforms = [d for d in p.documents if d.kind == "eform"]
        assert len(eforms) == 1, p.code
        form = catalog.form(str(eforms[0].form))
        assert form.procedure == p.code
        assert form.template, f"{form.id} names no template"
        assert p.forms[0].id == form.id


def test_catalog_spans_the_most_used_areas(catalog: Catalog) -> None:
    """Civil status, residence, judicial records, enterprises and household businesses, social
    insurance and employment, land, construction and driving licences each have a procedure."""
    topics = {p.topic.en for p in catalog.procedures()}
    assert topics >= {
        "Civil status",
        "Residence",
        "Criminal records",
        "Enterprises",
        "Household businesses",
        "Social and health insurance contributions",
        "Employment",
        "Land",
        "Construction",
        "Road traffic",
    }


@pytest.mark.parametrize("form_id", sorted(ADDED))
def test_added_procedure_says_its_code_is_unchecked(catalog: Catalog, form_id: str) -> None:
    """A code written from memory, not from the national procedure database, says so in the
    procedure's note."""
    code = ADDED[form_id]
    assert catalog.get(code).forms[0].id == form_id
    note = _raw_procedure(code)["note"]
    assert UNCHECKED in note
    assert "cần đối chiếu lại trước khi dùng thật" in note


@pytest.mark.parametrize("form_id", sorted(set(ADDED) - TEMPLATE_AS_BUNDLED))
def test_added_form_says_its_template_number_is_unchecked(catalog: Catalog, form_id: str) -> None:
    """A template (mẫu) number not checked against the official text says so where it is
    printed, at the top of the paper form."""
    assert UNCHECKED in str(catalog.form(form_id).template)


def test_every_procedure_note_says_how_sure_its_code_is() -> None:
    """Every bundled procedure carries a note on whether its code was checked."""
    for entry in (DATA / "procedures").iterdir():
        if entry.name.endswith(".json"):
            assert "đối chiếu" in _raw_procedure(entry.name[:-5])["note"], entry.name


@pytest.mark.parametrize("form_id", sorted(ADDED))
def test_added_form_fills_from_the_demo_registry(
    catalog: Catalog, registry_db: Path, form_id: str
) -> None:
    """Every binding names a registry key that exists: the demo citizen's locked identity is
    filled without a warning (the household business she owns, for its change notice)."""
    form = catalog.form(form_id)
    result = autofill_sync(form, DEMO_CITIZEN, sqlite_registry(registry_db), clock=clock)
    assert result.warnings == ()
    locked = {b.field for b in form.bindings if b.locked and b.provider != "insurance"}
    assert locked
    assert locked <= set(result.values), sorted(locked - set(result.values))
    filled_names = [v.value for v in result.values.values() if v.key == "full_name"]
    assert filled_names == ["Nguyễn Thị Hoà"]


@pytest.mark.parametrize("form_id", sorted(ADDED))
def test_invalid_example_is_refused_for_print(catalog: Catalog, form_id: str) -> None:
    """render_pdf refuses the invalid example with the same errors validate gives."""
    example = _example(form_id)
    with pytest.raises(FormValidationError) as refused:
        render_pdf(catalog.form(form_id), example["invalid"]["data"], today=TODAY)
    got = {(e.pointer, e.code) for e in refused.value.errors}
    assert got == {(e["pointer"], e["code"]) for e in example["invalid"]["expect"]}


@pytest.mark.parametrize("form_id", bundled_catalog().form_ids())
def test_invalid_example_shows_every_error_on_the_page(catalog: Catalog, form_id: str) -> None:
    """The HTML form given the invalid example and its report shows each error, in
    Vietnamese, where the person will read it."""
    form = catalog.form(form_id)
    example = _example(form_id)
    report = validate(form, example["invalid"]["data"], today=TODAY)
    assert not report.ok
    page = html.unescape(render_html(form, example["invalid"]["data"], errors=report))
    for error in report.errors:
        assert error.message_vi in page, (error.pointer, error.code)
    assert f"({len(report.errors)})" in page  # the summary counts them
