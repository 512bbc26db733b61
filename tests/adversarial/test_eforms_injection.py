"""Hostile e-form input: markup, URLs, catastrophic regexes, huge and deep submissions.

Markup in every field type rendered to HTML is covered field by field in
``tests/eforms/test_render_html.py`` and URL payloads in the PDF in
``tests/eforms/test_render_pdf.py``; here all payloads at once go through the PDF path
against a recording loopback server, and the definition/submission bounds are checked.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from pypdf import PdfReader

from eforms import Catalog, bundled_catalog
from eforms.definition import load_definition
from eforms.errors import DefinitionError
from eforms.render import AssetFetcher, PdfMetadata, render_html, render_pdf
from eforms.validation import MAX_SUBMISSION_BYTES, validate, validate_json
from tests.eforms.test_render_html import poison

FORM = "to-khai-dang-ky-khai-sinh"
TODAY = date(2025, 9, 1)
META = PdfMetadata(created=datetime(2025, 9, 1, 3, 0, tzinfo=UTC), place="Hà Nội", signed_on=TODAY)


class _Recorder(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every request it gets."""
    hits: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("H", (_Recorder,), {"hits": hits}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return bundled_catalog()


def payload(base: str) -> str:
    return (
        "<script>alert(1)</script>"
        '"><svg onload=alert(1)><img src="file:///etc/passwd">'
        f"<style>@import url({base}/import.css)</style>"
        f"'; background:url({base}/bg.png); '"
        f'<iframe src="{base}/frame"></iframe>{{{{ 7*7 }}}}'
    )


def test_every_payload_at_once_is_text_in_html_and_pdf_and_fetches_nothing(
    catalog: Catalog, recorder: tuple[str, list[str]]
) -> None:
    """XSS and URL payloads in every field: escaped in HTML, plain text in the PDF, no fetch."""
    base, hits = recorder
    form = catalog.form(FORM)
    text = payload(base)
    data = poison(form, text)
    html = render_html(form, data)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    refused: list[str] = []
    pdf = render_pdf(
        form, data, metadata=META, url_fetcher=AssetFetcher(refused.append), draft=True
    )
    shown = " ".join(
        " ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )
    assert "<script>alert(1)</script>" in shown
    assert b"/JavaScript" not in pdf
    assert b"/JS " not in pdf
    assert hits == []
    assert refused == []


@pytest.mark.parametrize(
    "pattern",
    ["^(a+)+$", "^(a*)*b$", r"^(\w+\s?)*$", "^(.*a){20}$", "^(a|aa)+$", "^([0-9]|[0-9]{2})*x$"],
)
def test_catastrophic_backtracking_pattern_is_refused_on_load(pattern: str) -> None:
    """A pattern with exponential backtracking is refused when the definition is loaded."""
    schema = {"type": "object", "properties": {"ten": {"type": "string", "pattern": pattern}}}
    started = time.perf_counter()
    with pytest.raises(DefinitionError, match="catastrophic backtracking") as info:
        load_definition(schema, name="redos")
    assert time.perf_counter() - started < 1.0
    assert info.value.location == "/properties/ten/pattern"


def test_catastrophic_pattern_property_is_refused_too() -> None:
    """patternProperties keys are regexes too, and checked the same way."""
    schema = {"type": "object", "patternProperties": {"^(x+x+)+y$": {"type": "string"}}}
    with pytest.raises(DefinitionError, match="catastrophic backtracking"):
        load_definition(schema, name="redos")


def test_bounded_patterns_of_the_bundled_forms_still_load(catalog: Catalog) -> None:
    """Every bundled form loads: the check refuses only the dangerous shapes."""
    for form_id in catalog.form_ids():
        assert catalog.form(form_id).id == form_id
    for ok in (r"^(\d{3}-)+\d$", r"^[0-9]+(\.[0-9]+){0,2}$", r"^(0|\+84)[0-9]{9}$"):
        schema = {"type": "object", "properties": {"x": {"type": "string", "pattern": ok}}}
        load_definition(schema, name="ok")


def test_ten_megabyte_submission_is_refused_with_a_clear_error(catalog: Catalog) -> None:
    """10 MB of JSON is refused before parsing, with the size and the limit in the message."""
    form = catalog.form(FORM)
    raw = json.dumps({"ghi_chu": "x" * (10 * 1024 * 1024)}).encode()
    started = time.perf_counter()
    report = validate_json(form, raw)
    assert time.perf_counter() - started < 2.0
    (error,) = report.errors
    assert error.code == "too-large"
    assert f"{MAX_SUBMISSION_BYTES:,}" in error.message_en
    assert f"{len(raw):,}" in error.message_en


def test_ten_thousand_deep_json_is_refused_with_a_clear_error(catalog: Catalog) -> None:
    """10,000-deep nesting is refused before the JSON parser recurses, naming the limit."""
    form = catalog.form(FORM)
    raw = "[" * 10_000 + "]" * 10_000
    report = validate_json(form, raw)
    (error,) = report.errors
    assert error.code == "too-large"
    assert "nested too deeply" in error.message_en
    deep: Any = []
    for _ in range(10_000):
        deep = [deep]
    assert [e.code for e in validate(form, {"x": deep}).errors] == ["too-large"]


def test_valid_submission_text_validates_like_the_data(catalog: Catalog) -> None:
    """Within the bounds, validate_json gives the same errors as validate on parsed data."""
    form = catalog.form(FORM)
    data = {"tre": {"ho_ten": "<b>x</b>"}}
    assert validate_json(form, json.dumps(data), today=TODAY).errors == (
        validate(form, data, today=TODAY).errors
    )
    assert [e.code for e in validate_json(form, b"{not json").errors] == ["not-json"]
    assert [e.code for e in validate_json(form, b"\xff\xfe").errors] == ["not-json"]
