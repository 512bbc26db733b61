"""docs/report-schema.json: a valid 2020-12 schema that matches what reports really contain."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import PINNED_NOW
from tests.verify.conftest import EXPECTED, Corpus
from verify import (
    REPORT_SCHEMA_VERSION,
    DocumentReport,
    Indication,
    SubIndication,
    TrustProfile,
    ValidationPolicy,
    Verifier,
)
from verify.identity import IdentifierScheme, SignerKind


def test_schema_is_a_valid_2020_12_schema(report_schema: dict[str, Any]) -> None:
    assert report_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(report_schema)


def test_schema_version_matches_the_code(report_schema: dict[str, Any]) -> None:
    assert report_schema["properties"]["schema_version"]["const"] == REPORT_SCHEMA_VERSION


def test_enums_are_exactly_those_of_verify_report(report_schema: dict[str, Any]) -> None:
    defs = report_schema["$defs"]
    # a document may be NOT_SIGNED (no verdict); a signature or timestamp never is
    document = report_schema["properties"]["indication"]["enum"]
    assert document == [i.value for i in Indication]
    assert defs["indication"]["enum"] == [i.value for i in Indication if i != "NOT_SIGNED"]
    assert defs["sub_indication"]["enum"] == [*[s.value for s in SubIndication], None]
    assert defs["identifier"]["properties"]["scheme"]["enum"] == [s.value for s in IdentifierScheme]
    kinds = defs["signer"]["properties"]["kind"]["enum"]
    assert kinds == [*[k.value for k in SignerKind], "timestamp_authority"]


def _properties(node: Any, where: str = "#") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{where}/properties/{name}", sub
        for key, value in node.items():
            yield from _properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _properties(value, f"{where}/{i}")


def test_every_field_is_documented(report_schema: dict[str, Any]) -> None:
    undocumented = [
        where
        for where, sub in _properties(report_schema)
        if not str(sub.get("description", "")).strip()
    ]
    assert not undocumented
    for name, definition in report_schema["$defs"].items():
        assert definition.get("description"), name


def test_objects_list_every_key_as_required(report_schema: dict[str, Any]) -> None:
    """Reports always carry every key (null when it does not apply): scripts can rely on it."""
    for name in ("certificate", "timestamp", "revocation", "identifier", "signature"):
        definition = report_schema["$defs"][name]
        assert set(definition["required"]) == set(definition["properties"]), name
    assert set(report_schema["required"]) == set(report_schema["properties"])


@pytest.fixture(scope="module")
def reports(verify_corpus: Corpus) -> list[DocumentReport]:
    """Reports straight from the library (the CLI tests validate theirs too)."""
    trust = TrustProfile.any().with_extra_anchors(verify_corpus.trust_pem)
    verifier = Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW))
    found = [verifier.verify(verify_corpus[name]) for name in EXPECTED if "." in name]
    found.append(
        verifier.verify(verify_corpus["to-khai.xml"], detached=verify_corpus["to-khai.xml.p7s"])
    )
    offline = Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW, network=False))
    found.append(offline.verify(verify_corpus["passed-bb.pdf"]))
    found.append(verifier.verify(b"%PDF-1.7 nothing else"))
    # real documents from Vietnamese CAs (a PDF and an XMLDSig e-invoice), when present
    real = Path(__file__).resolve().parents[1] / "data" / "realworld"
    real_docs = sorted(p for p in real.glob("*") if p.suffix in (".pdf", ".xml"))
    found.extend(offline.verify(path) for path in real_docs)
    return found


def test_library_reports_validate(
    reports: list[DocumentReport], validate_report: Callable[[dict[str, Any]], None]
) -> None:
    for report in reports:
        validate_report(report.to_dict())


def test_schema_rejects_drift(
    reports: list[DocumentReport], validate_report: Callable[[dict[str, Any]], None]
) -> None:
    """An unknown key, a wrong enum value or a missing key is caught."""
    good = reports[0].to_dict()
    for broken in (
        {**good, "surprise": 1},
        {**good, "indication": "PASSED"},
        {k: v for k, v in good.items() if k != "sha256"},
        {**good, "signatures": [{**good["signatures"][0], "sub_indication": "NOPE"}]},
    ):
        with pytest.raises(AssertionError, match="report-schema"):
            validate_report(broken)
