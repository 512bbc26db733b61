"""The HTML to fill: accessible markup, locked and prefilled fields, rules, escaping."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import pytest
import tinyhtml5
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eforms import (
    AutofillResult,
    Catalog,
    FilledValue,
    FormDefinition,
    bundled_catalog,
    load_definition,
    validate,
)
from eforms.render import RenderError, render_html
from eforms.rules import condition_holds, evaluate_rules, hidden_fields
from tests.eforms.conftest import NOW

EXAMPLES = Path(__file__).resolve().parents[2] / "eforms" / "data" / "examples"
CT01 = "to-khai-thay-doi-thong-tin-cu-tru"
NS = "{http://www.w3.org/1999/xhtml}"


def example(form_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{form_id}.json").read_text("utf-8"))["valid"]
    return data


def dom(html: str) -> Element:
    root: Element = tinyhtml5.parse(html)
    return root


def all_of(root: Element, tag: str) -> list[Element]:
    return list(root.iter(NS + tag))


def by_id(root: Element, ident: str) -> Element:
    for el in root.iter():
        if el.get("id") == ident:
            return el
    raise AssertionError(f"no element with id {ident!r}")


def text_of(el: Element) -> str:
    return " ".join("".join(el.itertext()).split())


def field_div(root: Element, pointer: str) -> Element:
    for el in all_of(root, "div"):
        if el.get("data-pointer") == pointer:
            return el
    raise AssertionError(f"no field {pointer}")


def control_of(root: Element, pointer: str) -> Element:
    for el in root.iter():
        is_control = el.tag in (NS + "input", NS + "select") and el.get("type") != "hidden"
        if is_control and el.get("name") == pointer:
            return el
    raise AssertionError(f"no control named {pointer}")


def group_with_legend(root: Element, legend: str) -> Element:
    for fs in all_of(root, "fieldset"):
        leg = fs.find(NS + "legend")
        if leg is not None and text_of(leg) == legend:
            return fs
    raise AssertionError(f"no fieldset {legend!r}")


def locked_autofill(data: dict[str, Any]) -> AutofillResult:
    values = {
        "/applicant/fullName": FilledValue(
            "/applicant/fullName", "Nguyễn Văn An", "population", "full_name", NOW, True
        ),
        "/applicant/ethnicity": FilledValue(
            "/applicant/ethnicity", "Kinh", "population", "ethnicity", NOW, False
        ),
    }
    return AutofillResult(data, values)


@pytest.mark.parametrize("form_id", bundled_catalog().form_ids())
def test_every_bundled_form_renders_with_labels_and_legends(catalog: Catalog, form_id: str) -> None:
    """Each bundled form: lang=vi, every input has a <label for>, every group a <legend>."""
    form = catalog.form(form_id)
    root = dom(render_html(form, example(form_id)))
    assert root.get("lang") == "vi"
    label_for = {lab.get("for") for lab in all_of(root, "label")}
    controls = [
        el
        for el in root.iter()
        if el.tag in (NS + "input", NS + "select") and el.get("type") != "hidden"
    ]
    assert controls
    for el in controls:
        assert el.get("id") in label_for, f"{el.get('name')} has no label"
    for fs in all_of(root, "fieldset"):
        legend = fs.find(NS + "legend")
        assert legend is not None
        assert text_of(legend)
    assert form.title.vi in text_of(root)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text_of(root)


def test_locked_field_is_readonly_with_its_source(catalog: Catalog) -> None:
    """A locked autofilled field is readonly, marked, and says it came from the registry."""
    form = catalog.form(CT01)
    data = example(CT01)
    root = dom(render_html(form, data, autofill=locked_autofill(data)))
    name = control_of(root, "/applicant/fullName")
    assert name.get("readonly") is not None
    assert name.get("aria-readonly") == "true"
    assert name.get("value") == "Nguyễn Văn An"
    described = (name.get("aria-describedby") or "").split()
    source = by_id(root, described[-1])
    assert "Đã khóa" in text_of(source)
    assert "Lấy từ Cơ sở dữ liệu quốc gia về dân cư" in text_of(source)
    ethnicity = control_of(root, "/applicant/ethnicity")
    assert ethnicity.get("readonly") is None
    note = by_id(root, (ethnicity.get("aria-describedby") or "").split()[-1])
    assert "Điền sẵn" in text_of(note)
    assert "kiểm tra" in text_of(note)
    phone = control_of(root, "/applicant/phone")
    assert phone.get("readonly") is None
    assert not phone.get("aria-describedby")


def test_errors_are_tied_to_fields_and_summarised(catalog: Catalog) -> None:
    """Each error sits next to its field (aria-describedby, aria-invalid) and in the summary."""
    form = catalog.form(CT01)
    raw = json.loads((EXAMPLES / f"{CT01}.json").read_text("utf-8"))["invalid"]["data"]
    report = validate(form, raw)
    assert not report.ok
    root = dom(render_html(form, raw, errors=report))
    commune = control_of(root, "/newAddress/communeCode")
    assert commune.get("aria-invalid") == "true"
    err_id = next(i for i in (commune.get("aria-describedby") or "").split() if i.endswith("-err"))
    assert "99999" in text_of(by_id(root, err_id))
    summary = next(d for d in all_of(root, "div") if d.get("role") == "alert")
    links = {a.get("href") for a in all_of(summary, "a")}
    assert "#" + (commune.get("id") or "") in links
    assert len(all_of(summary, "li")) == len(report.errors)


def test_dates_are_shown_day_month_year(catalog: Catalog) -> None:
    """An ISO birth date is shown dd/mm/yyyy in its input."""
    form = catalog.form(CT01)
    root = dom(render_html(form, example(CT01)))
    assert control_of(root, "/applicant/birthDate").get("value") == "15/03/1990"


def test_show_rule_is_applied_server_side(catalog: Catalog) -> None:
    """basis=relative-home shows the household head group; own-home hides it, shows proof."""
    form = catalog.form(CT01)
    data = example(CT01)
    root = dom(render_html(form, data))
    assert group_with_legend(root, "Chủ hộ").get("hidden") is None
    assert field_div(root, "/ownerDocument").get("hidden") is not None
    data = {**data, "basis": "own-home"}
    root = dom(render_html(form, data))
    assert group_with_legend(root, "Chủ hộ").get("hidden") is not None
    assert field_div(root, "/ownerDocument").get("hidden") is None
    assert json.loads(group_with_legend(root, "Chủ hộ").get("data-rule") or "")["scope"] == "/basis"


def test_english_page(catalog: Catalog) -> None:
    """lang="en" gives English labels and the English national heading."""
    form = catalog.form(CT01)
    root = dom(render_html(form, example(CT01), lang="en"))
    assert root.get("lang") == "en"
    assert "Full name of the applicant" in text_of(root)
    assert "SOCIALIST REPUBLIC OF VIETNAM" in text_of(root)


def test_csp_allows_only_the_inline_style_and_script(catalog: Catalog) -> None:
    """The page loads nothing: its CSP names default-src 'none' and hashes of our CSS and JS."""
    html = render_html(catalog.form(CT01), example(CT01))
    root = dom(html)
    csp = next(
        m.get("content") or ""
        for m in all_of(root, "meta")
        if m.get("http-equiv") == "Content-Security-Policy"
    )
    assert "default-src 'none'" in csp
    style = all_of(root, "style")[0].text or ""
    script = all_of(root, "script")[0].text or ""
    for body in (style, script):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert len(all_of(root, "script")) == 1
    assert len(all_of(root, "link")) == 0


def test_bad_arguments_are_refused(catalog: Catalog) -> None:
    """A javascript: action, an unknown language and a non-definition are RenderErrors."""
    form = catalog.form(CT01)
    with pytest.raises(RenderError):
        render_html(form, {}, action="javascript:alert(1)")
    with pytest.raises(RenderError):
        render_html(form, {}, lang="fr")
    with pytest.raises(RenderError):
        render_html({"type": "object"}, {})  # type: ignore[arg-type]


def test_plain_schema_gets_a_default_layout() -> None:
    """A definition without a UI schema renders every property, objects as fieldsets."""
    form = load_definition(
        {
            "title": "Đơn giản",
            "type": "object",
            "properties": {
                "hoTen": {"type": "string", "title": "Họ và tên"},
                "diaChi": {"type": "object", "properties": {"duong": {"type": "string"}}},
                "dongY": {"type": "boolean"},
            },
            "required": ["hoTen"],
        },
        name="don-gian",
    )
    root = dom(render_html(form, {"hoTen": "Trần Thị Bích", "dongY": True}))
    assert control_of(root, "/hoTen").get("value") == "Trần Thị Bích"
    assert control_of(root, "/hoTen").get("aria-required") == "true"
    assert control_of(root, "/diaChi/duong") is not None
    assert control_of(root, "/dongY").get("checked") is not None
    assert group_with_legend(root, "diaChi") is not None


# -- rules ------------------------------------------------------------------------------------


def rules_form() -> FormDefinition:
    # a form about rules only: its missing labels are not what these tests look at
    return load_definition(
        lint=False,
        source={
            "id": "rules-demo",
            "version": "1",
            "title": {"vi": "Thử quy tắc"},
            "schema": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": ["a", "b"]},
                    "count": {"type": "integer"},
                    "note": {"type": "string"},
                    "extra": {"type": "string"},
                },
            },
            "ui": {
                "type": "VerticalLayout",
                "elements": [
                    {"type": "Control", "scope": "#/properties/kind"},
                    {
                        "type": "Group",
                        "label": "Nhóm",
                        "rule": {
                            "effect": "HIDE",
                            "condition": {"scope": "#/properties/kind", "schema": {"const": "b"}},
                        },
                        "elements": [
                            {
                                "type": "Control",
                                "scope": "#/properties/note",
                                "rule": {
                                    "effect": "DISABLE",
                                    "condition": {
                                        "scope": "#/properties/count",
                                        "schema": {"minimum": 5},
                                        "failWhenUndefined": True,
                                    },
                                },
                            },
                        ],
                    },
                    {
                        "type": "Control",
                        "scope": "#/properties/extra",
                        "rule": {
                            "effect": "SHOW",
                            "condition": {
                                "scope": "#/properties/kind",
                                "schema": {"not": {"const": "a"}},
                            },
                        },
                    },
                ],
            },
        },
    )


def test_rule_conditions_treat_absent_values_like_json_forms() -> None:
    """Absent values fail const/type, pass not-const, and fail all with failWhenUndefined."""
    form = rules_form()
    assert not condition_holds(form, {"scope": "#/properties/kind", "schema": {"const": "a"}}, {})
    assert not condition_holds(
        form, {"scope": "#/properties/count", "schema": {"type": "integer"}}, {}
    )
    assert condition_holds(
        form, {"scope": "#/properties/kind", "schema": {"not": {"const": "a"}}}, {}
    )
    assert not condition_holds(
        form,
        {"scope": "#/properties/kind", "schema": {}, "failWhenUndefined": True},
        {},
    )
    assert condition_holds(
        form, {"scope": "#/properties/kind", "schema": {"enum": ["b"]}}, {"kind": "b"}
    )


def test_rules_hide_disable_and_parents_win() -> None:
    """HIDE hides a group and its children; DISABLE disables; SHOW with not-const shows."""
    form = rules_form()
    states = evaluate_rules(form, {"kind": "b", "count": 9})
    assert not states["/elements/1"].visible
    assert not states["/elements/1/elements/0"].visible  # the child of a hidden group
    assert not states["/elements/1/elements/0"].enabled  # count >= 5: DISABLE holds
    assert states["/elements/2"].visible
    assert hidden_fields(form, {"kind": "b"}) == frozenset({"/note"})
    states = evaluate_rules(form, {"kind": "a"})
    assert states["/elements/1/elements/0"].visible
    assert states["/elements/1/elements/0"].enabled
    assert not states["/elements/2"].visible
    root = dom(render_html(form, {"kind": "a", "count": 7}))
    assert control_of(root, "/note").get("readonly") is not None  # disabled by the rule


# -- untrusted data -----------------------------------------------------------------------------

PAYLOADS = [
    '<img src="file:///etc/passwd">',
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "'; background:url(http://127.0.0.1:9/x); '",
    "</textarea></select></style></script><iframe src=//127.0.0.1:9>",
    "{{ 7*7 }}{% raw %}",
]


def leaves(form: FormDefinition) -> Iterator[str]:
    for pointer in form.field_order:
        sub = form.field_schema(pointer) or {}
        if sub.get("type") != "object":
            yield pointer


def poison(form: FormDefinition, payload: str) -> dict[str, Any]:
    """Every field of every type gets the payload (strings, enums, numbers, dates, arrays)."""
    data: dict[str, Any] = {}
    for pointer in leaves(form):
        sub = form.field_schema(pointer) or {}
        parts = [p for p in pointer.split("/")[1:]]
        value: Any = payload
        if sub.get("type") == "array":
            items = sub.get("items") or {}
            props = items.get("properties") if isinstance(items, dict) else None
            value = [dict.fromkeys(props, payload)] if props else [payload, "address"]
        node = data
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return data


def assert_inert(html: str, payload: str) -> None:
    root = dom(html)
    assert len(all_of(root, "script")) == 1  # ours only
    for tag in ("img", "svg", "iframe", "textarea", "link", "object", "embed"):
        assert not all_of(root, tag), tag
    for el in root.iter():
        for attr in el.attrib:
            assert not attr.lower().startswith("on"), (el.tag, attr)
    assert payload in html or payload.replace("'", "&#39;") in html or "&lt;" in html


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("form_id", [CT01, "to-khai-yeu-cau-cap-phieu-ly-lich-tu-phap"])
def test_payloads_in_every_field_type_are_escaped(
    catalog: Catalog, form_id: str, payload: str
) -> None:
    """Markup in any field (text, enum, number, date, array) comes out as inert text."""
    form = catalog.form(form_id)
    data = poison(form, payload)
    html = render_html(form, data)
    assert_inert(html, payload)
    root = dom(html)
    values = [el.get("value") for el in all_of(root, "input")]
    assert payload in values  # the person sees exactly what was submitted
    report = validate(form, data)
    assert_inert(render_html(form, data, errors=report), payload)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(alphabet=st.sampled_from(list("<>\"'&/=ạ ;:()`{}%")), max_size=30))
def test_any_text_round_trips_through_inputs(catalog: Catalog, text: str) -> None:
    """Whatever text a field holds, the parsed page shows it back unchanged and inert."""
    form = catalog.form(CT01)
    html = render_html(form, {"applicant": {"fullName": text, "email": text}})
    root = dom(html)
    assert control_of(root, "/applicant/fullName").get("value") == text
    assert len(all_of(root, "script")) == 1
    assert not re.search(r"<(img|svg|iframe)\b", html)
