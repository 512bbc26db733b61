"""Form definitions: bundled ones load; broken ones are refused with the place named."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from eforms import Catalog, DefinitionError, DefinitionWarning, load_definition

BASE: dict[str, Any] = {
    "id": "thu-nghiem",
    "version": "1.0",
    "title": {"vi": "Thử nghiệm", "en": "Test"},
    "schema": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": "^[A-Z]"},
            "kind": {
                "enum": ["a", "b"],
                "x-enum-labels": {"a": {"vi": "Loại A", "en": "Kind A"}, "b": ["Loại B", "Kind B"]},
            },
            "address": {"$ref": "https://schemas.hoso.vn/eforms/common.json#/$defs/address"},
        },
    },
    "ui": {
        "type": "VerticalLayout",
        "elements": [
            {"type": "Control", "scope": "#/properties/name"},
            {
                "type": "Control",
                "scope": "#/properties/kind",
                "rule": {
                    "effect": "HIDE",
                    "condition": {"scope": "#/properties/name", "schema": {"const": "X"}},
                },
            },
        ],
    },
    "labels": {
        "/name": {"vi": "Tên", "en": "Name"},
        "/kind": {"vi": "Loại", "en": "Kind"},
    },
    "autofill": [{"field": "/name", "source": "population.full_name", "locked": True}],
}


def _broken(change: Any) -> DefinitionError:
    raw = copy.deepcopy(BASE)
    change(raw)
    with pytest.raises(DefinitionError) as info:
        load_definition(raw, name="broken.json")
    return info.value


def test_every_bundled_form_loads(catalog: Catalog) -> None:
    """Every bundled form (one per procedure) passes the meta-schema and the semantic checks."""
    ids = catalog.form_ids()
    assert len(ids) == len(catalog.procedures()) == 20
    for form_id in ids:
        form = catalog.form(form_id)
        assert form.procedure in {p.code for p in catalog.procedures()}
        assert form.bindings
        assert form.labels
        assert form.ui is not None


def test_base_definition_loads_and_resolves_bundled_ref() -> None:
    """A $ref to a bundled schema resolves through the explicit registry."""
    form = load_definition(BASE)
    commune = form.field_schema("/address/communeCode") or {}
    assert (commune["type"], commune["format"]) == ("string", "vn-commune")
    assert form.label("/address/communeCode", "en") == "Commune, ward or special zone"
    assert form.bindings[0].provider == "population"
    assert form.bindings[0].locked


def test_unknown_scope_is_named() -> None:
    """A UI control pointing at no field is refused at /ui/elements/0/scope."""
    err = _broken(lambda d: d["ui"]["elements"][0].update(scope="#/properties/nope"))
    assert err.location == "/ui/elements/0/scope"
    assert "nope" in str(err)


def test_bad_rule_effect_is_named() -> None:
    """A rule effect outside SHOW/HIDE/ENABLE/DISABLE is refused where it is."""
    err = _broken(lambda d: d["ui"]["elements"][1]["rule"].update(effect="BLINK"))
    assert err.location == "/ui/elements/1/rule/effect"


def test_rule_scope_must_exist() -> None:
    """A rule condition on a missing field is refused."""
    err = _broken(
        lambda d: d["ui"]["elements"][1]["rule"]["condition"].update(scope="#/properties/zz")
    )
    assert err.location == "/ui/elements/1/rule/condition/scope"


def test_custom_provider_loads_and_is_refused_only_against_a_given_list() -> None:
    """Validating needs no provider: a binding to any provider loads; with known_providers
    given, a provider outside that list is refused at /autofill/0."""
    raw = copy.deepcopy(BASE)
    raw["autofill"][0]["source"] = "horoscope.sign"
    with pytest.warns(DefinitionWarning, match="unnamed-provider") as caught:
        assert load_definition(raw).bindings[0].provider == "horoscope"
    assert [w.message.problem.location for w in caught] == ["/autofill/0"]  # type: ignore[union-attr]
    raw["providers"] = {"horoscope": {"vi": "Tử vi", "en": "Horoscope"}}
    assert load_definition(raw).bindings[0].provider == "horoscope"  # named: no warning
    with pytest.raises(DefinitionError) as info:
        load_definition(raw, known_providers=["population"])
    assert info.value.location == "/autofill/0"
    assert "horoscope" in str(info.value)


def test_invalid_regex_is_named() -> None:
    """A pattern that is not a regex is refused at its own location."""
    err = _broken(lambda d: d["schema"]["properties"]["name"].update(pattern="([A-Z"))
    assert err.location == "/schema/properties/name/pattern"


def test_remote_ref_is_refused_without_fetching() -> None:
    """A $ref outside the registry is refused; nothing is fetched."""
    err = _broken(
        lambda d: d["schema"]["properties"].update(x={"$ref": "https://example.invalid/s.json"})
    )
    assert err.location == "/schema/properties/x/$ref"
    assert "nothing is fetched" in str(err)


def test_unknown_vn_format_and_bad_expression() -> None:
    """Typos in our format names and unsafe expressions are refused."""
    err = _broken(lambda d: d["schema"]["properties"]["name"].update(format="vn-taxcode"))
    assert err.location == "/schema/properties/name/format"
    err = _broken(lambda d: d.update(computed=[{"field": "/name", "expression": {"eval": [1]}}]))
    assert err.location == "/computed/0/expression"


def test_unknown_top_level_key_and_invalid_schema() -> None:
    """The meta-schema refuses unknown keys; check_schema refuses invalid JSON Schema."""
    err = _broken(lambda d: d.update(colour="red"))
    assert "colour" in str(err)
    err = _broken(lambda d: d["schema"]["properties"].update(n={"type": "nombre"}))
    assert err.location.startswith("/schema/properties/n")


def test_plain_json_schema_file_is_a_definition(tmp_path: Path) -> None:
    """A plain JSON Schema using our formats loads as a definition named after the file."""
    path = tmp_path / "Ma So Thue.json"
    path.write_text(json.dumps({"type": "object", "properties": {"t": {"format": "vn-tax-code"}}}))
    form = load_definition(path)
    assert form.id == "ma-so-thue"
    assert form.version == "0"


def test_unreadable_files_are_one_line_errors(tmp_path: Path) -> None:
    """Missing, non-JSON and too-deep files raise DefinitionError, nothing else."""
    with pytest.raises(DefinitionError, match="cannot read"):
        load_definition(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DefinitionError, match="not JSON"):
        load_definition(bad)
    bad.write_text("[" * 100 + "]" * 100)
    with pytest.raises(DefinitionError):
        load_definition(bad)


def test_signers_name_the_printed_signature_blocks_and_their_fields() -> None:
    """``signers`` gives the printed form one block per signer (role in both languages, the
    field holding the name); a block naming a field the schema lacks is refused there."""
    raw = copy.deepcopy(BASE)
    raw["signers"] = [
        {"role": {"vi": "Bên nữ", "en": "Bride"}, "name": "/name"},
        {"role": {"vi": "Người làm chứng", "en": "Witness"}},
    ]
    form = load_definition(raw)
    assert [(s.role.get("vi"), s.role.get("en"), s.name) for s in form.signers] == [
        ("Bên nữ", "Bride", "/name"),
        ("Người làm chứng", "Witness", None),
    ]
    err = _broken(lambda r: r.update(signers=[{"role": {"vi": "Bên nam"}, "name": "/groom"}]))
    assert err.location == "/signers/0/name"
    assert "/groom" in str(err)
