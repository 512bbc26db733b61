"""The HTML form in a real headless browser (Debian chromium driven by Playwright)."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from eforms import AutofillResult, FilledValue, FormDefinition, bundled_catalog
from eforms.render import render_html
from tests.eforms.conftest import NOW
from tests.eforms.test_render_html import poison

EXAMPLES = Path(__file__).resolve().parents[2] / "eforms" / "data" / "examples"
CT01 = "to-khai-thay-doi-thong-tin-cu-tru"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _Site(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, str]] = {}
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        body = self.pages.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write((body or "not found").encode("utf-8"))

    def log_message(self, format: str, *args: Any) -> None:
        return


def serve(pages: dict[str, str]) -> tuple[ThreadingHTTPServer, str, list[str]]:
    hits: list[str] = []
    handler = type("Handler", (_Site,), {"pages": pages, "hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}", hits


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[dict[str, str], str, list[str]]]:
    """A loopback HTTP server serving rendered pages (filled in by each test)."""
    pages: dict[str, str] = {}
    server, base, hits = serve(pages)
    try:
        yield pages, base, hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, no network beyond loopback."""
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(exe).exists(), "chromium is needed: bash scripts/system-deps.sh"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def ct01() -> FormDefinition:
    return bundled_catalog().form(CT01)


def sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{CT01}.json").read_text("utf-8"))["valid"]
    return data


def prefilled(data: dict[str, Any]) -> AutofillResult:
    values = {
        "/applicant/fullName": FilledValue(
            "/applicant/fullName", "Nguyễn Văn An", "population", "full_name", NOW, True
        ),
        "/applicant/sex": FilledValue("/applicant/sex", "M", "population", "sex", NOW, True),
    }
    return AutofillResult(data, values)


def open_page(
    browser: Browser, site: tuple[dict[str, str], str, list[str]], path: str, html: str, js: bool
) -> Page:
    pages, base, _hits = site
    pages[path] = html
    context = browser.new_context(java_script_enabled=js, viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.goto(base + path)
    return page


def test_labels_locked_fields_and_screenshot(
    browser: Browser, site: tuple[dict[str, str], str, list[str]], tmp_path: Path
) -> None:
    """Diacritic labels are visible, a locked field ignores typing, the page screenshots."""
    data = sample()
    html = render_html(ct01(), data, autofill=prefilled(data))
    page = open_page(browser, site, "/form", html, js=True)
    name = page.get_by_label("Họ, chữ đệm và tên người đề nghị")
    assert name.is_visible()
    assert page.get_by_text("Nơi đăng ký thường trú", exact=True).is_visible()
    assert page.get_by_label("Số nhà, đường, thôn, tổ (nơi đăng ký thường trú)").is_visible()
    assert not name.is_editable()
    name.click()
    page.keyboard.type("XYZ")
    assert name.input_value() == "Nguyễn Văn An"
    assert page.get_by_label("Giới tính người đề nghị").is_disabled()
    assert page.get_by_text("Lấy từ Cơ sở dữ liệu quốc gia về dân cư").first.is_visible()
    shot = tmp_path / "form.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    page.context.close()


def test_rule_toggles_section_live(
    browser: Browser, site: tuple[dict[str, str], str, list[str]]
) -> None:
    """With the script: choosing own-home hides the household head group and shows the proof."""
    form = ct01()
    page = open_page(browser, site, "/live", render_html(form, sample()), js=True)
    head = page.get_by_role("group", name="Chủ hộ")
    proof = page.get_by_label("Giấy tờ chứng minh chỗ ở hợp pháp")
    assert head.is_visible()
    assert not proof.is_visible()
    page.get_by_label("Căn cứ đăng ký thường trú").select_option("own-home")
    assert not head.is_visible()
    assert proof.is_visible()
    page.get_by_label("Căn cứ đăng ký thường trú").select_option("relative-home")
    assert head.is_visible()
    assert not proof.is_visible()
    page.context.close()


def test_rule_state_without_javascript(
    browser: Browser, site: tuple[dict[str, str], str, list[str]]
) -> None:
    """Without JavaScript the server-rendered state is right for either choice."""
    form = ct01()
    own = {**sample(), "basis": "own-home"}
    page = open_page(browser, site, "/nojs-own", render_html(form, own), js=False)
    assert not page.get_by_role("group", name="Chủ hộ").is_visible()
    assert page.get_by_label("Giấy tờ chứng minh chỗ ở hợp pháp").is_visible()
    page.context.close()
    page = open_page(browser, site, "/nojs-rel", render_html(form, sample()), js=False)
    assert page.get_by_role("group", name="Chủ hộ").is_visible()
    assert not page.get_by_label("Giấy tờ chứng minh chỗ ở hợp pháp").is_visible()
    page.context.close()


def test_payloads_stay_inert_in_the_browser(
    browser: Browser, site: tuple[dict[str, str], str, list[str]]
) -> None:
    """XSS and fetch payloads in every field: no dialog, no element, no request anywhere."""
    other, other_base, other_hits = serve({})
    try:
        form = ct01()
        payload = (
            f'"><img src="{other_base}/img" onerror="alert(1)"><script>alert(2)</script>'
            f'<link rel=stylesheet href="{other_base}/css"><style>@import url({other_base}/i)'
            '</style><img src="file:///etc/passwd">'
        )
        page = open_page(browser, site, "/xss", render_html(form, poison(form, payload)), js=True)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.get_by_label("Căn cứ đăng ký thường trú").select_option("own-home")
        assert page.locator("img").count() == 0
        assert page.locator("script").count() == 1
        assert page.get_by_label("Họ, chữ đệm và tên người đề nghị").input_value() == payload
        page.context.close()
        assert dialogs == []
        assert other_hits == []
    finally:
        other.shutdown()
        other.server_close()
