"""The auditor's HTML and PDF reports: content, escaping, and no network while printing."""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import PINNED_NOW
from tests.verify.conftest import SIGNER_NAME, Corpus
from tests.verify.test_cli import pdf_text
from verify import (
    ConstraintResult,
    DocumentReport,
    Indication,
    SubIndication,
    TrustProfile,
    ValidationPolicy,
)
from verify.render import AssetFetcher, font_file, render_html, render_pdf
from verify.verifier import Verifier

GENERATED = datetime(2026, 6, 1, 11, 0, tzinfo=UTC)


class Recorder:
    """A loopback HTTP server that records every request it receives."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def corpus_reports(verify_corpus: Corpus) -> list[DocumentReport]:
    trust = TrustProfile.any().with_extra_anchors(verify_corpus.trust_pem)
    verifier = Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW))
    return [
        verifier.verify(verify_corpus[name])
        for name in ("passed-bb.pdf", "passed-bt.pdf", "tampered.pdf", "revoked.pdf")
    ] + [verifier.verify(verify_corpus["garbage.bin"])]


def hostile(report: DocumentReport, port: int) -> DocumentReport:
    """The same report with attacker-chosen text in the path and the signer's name."""
    img = f'<img src="http://127.0.0.1:{port}/img">'
    css = f"<style>@import url(http://127.0.0.1:{port}/css); p{{background:url(http://127.0.0.1:{port}/bg)}}</style>"
    link = f'<link rel="stylesheet" href="http://127.0.0.1:{port}/link">'
    sig = report.signatures[0]
    signer = {**(sig.signer or {}), "name": f"Nguyễn {img}{css}", "organisation": link}
    return replace(
        report,
        path=f"hồ sơ/{img}.pdf",
        message_en=f"</td></tr></table>{css}",
        signatures=(replace(sig, signer=signer, field_name=f"<script>alert(1)</script>{img}"),),
    )


def test_summary_comes_first_with_counts_and_one_row_per_document(
    corpus_reports: list[DocumentReport],
) -> None:
    html = render_html(corpus_reports, generated_at=GENERATED)
    summary = html.index('class="summary"')
    assert summary < html.index('class="document')
    counts = html[summary : html.index("<table", summary)]
    assert '<span class="n">5</span>' in counts  # documents
    assert '<span class="n">2</span><span class="label">Hợp lệ' in counts
    assert '<span class="n">3</span><span class="label">Không hợp lệ' in counts
    assert html.count('<td class="path">') == 5
    assert "Chưa xác định được" in html


def test_each_signature_shows_circular15_items_chain_and_sentences(
    corpus_reports: list[DocumentReport],
) -> None:
    html = render_html(corpus_reports[:2], generated_at=GENERATED)
    for label in (
        "Kết quả",
        "Người ký",
        "Đơn vị quản lý chứng thư số",
        "Thời điểm ký",
        "Tính toàn vẹn",
        "Hiệu lực tại thời điểm ký",
        "Thời hạn chứng thư số",
    ):
        assert f"<th>{label}</th>" in html
    assert "Chuỗi chứng thư số" in html
    assert "Demo National Root CA" in html  # the chain reaches the anchor
    assert "PAdES-B-T" in html
    assert "Dấu thời gian" in html  # the B-T signature's timestamp
    assert corpus_reports[0].message_vi in html
    assert corpus_reports[0].message_en.replace("'", "&#39;") in html


def test_html_escapes_every_value_from_the_document(
    corpus_reports: list[DocumentReport], recorder: Recorder
) -> None:
    html = render_html([hostile(corpus_reports[0], recorder.port)], generated_at=GENERATED)
    assert "<img" not in html
    assert "<script>" not in html
    assert html.count("<style>") == 1  # only ours, and nothing of the document's in it
    assert "127.0.0.1" not in html[html.index("<style>") : html.index("</style>")]
    assert "&lt;style&gt;@import url(http://127.0.0.1:" in html
    assert "<link" not in html
    assert "&lt;img src=&#34;http://127.0.0.1:" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Content-Security-Policy" in html


def test_pdf_of_hostile_report_makes_no_request_and_shows_the_text(
    corpus_reports: list[DocumentReport], recorder: Recorder, tmp_path: Path
) -> None:
    target = tmp_path / "hostile.pdf"
    pdf = render_pdf([hostile(corpus_reports[0], recorder.port)], target, generated_at=GENERATED)
    assert target.read_bytes() == pdf
    assert recorder.paths == []
    text = pdf_text(target)
    assert f'<img src="http://127.0.0.1:{recorder.port}/img">' in text.replace("\n", "")


def test_the_url_fetcher_refuses_everything_but_bundled_assets(recorder: Recorder) -> None:
    """Even markup that escaped escaping could not reach the network or the file system."""
    from weasyprint import HTML

    refused: list[str] = []
    base = f"http://127.0.0.1:{recorder.port}"
    raw = (
        f'<html><head><link rel="stylesheet" href="{base}/link.css">'
        f"<style>@import url({base}/import.css); body{{background:url({base}/bg.png)}}</style>"
        f'</head><body><img src="{base}/img.png"><img src="file:///etc/passwd">'
        f'<iframe src="{base}/frame"></iframe>'
        f'<object data="{base}/obj"></object></body></html>'
    )
    HTML(string=raw, url_fetcher=AssetFetcher(refused.append)).write_pdf()
    assert recorder.paths == []
    assert f"{base}/img.png" in refused
    assert "file:///etc/passwd" in refused
    assert any(url.endswith("import.css") for url in refused)


def test_pdf_embeds_a_vietnamese_font_and_keeps_text_in_nfc(
    corpus_reports: list[DocumentReport], tmp_path: Path
) -> None:
    assert font_file() is not None, "install fontpkg-be-vietnam-pro or fonts-dejavu-core"
    target = tmp_path / "r.pdf"
    render_pdf(corpus_reports, target, generated_at=GENERATED)
    text = pdf_text(target)
    assert SIGNER_NAME in text
    assert "Vũ Minh Đức" in text
    assert "Chữ ký không hợp lệ: nội dung đã bị thay đổi sau khi ký." in text.replace("\n", " ")
    assert unicodedata.normalize("NFC", text) == text
    assert any("Hoso-Report" in name for name in pdf_fonts(target))


def pdf_fonts(path: Path) -> set[str]:
    import pypdf

    names = set()
    for page in pypdf.PdfReader(path).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_decomposed_names_are_shown_composed(corpus_reports: list[DocumentReport]) -> None:
    report = corpus_reports[0]
    sig = report.signatures[0]
    nfd = unicodedata.normalize("NFD", SIGNER_NAME)
    report = replace(report, signatures=(replace(sig, signer={**(sig.signer or {}), "name": nfd}),))
    html = render_html([report], generated_at=GENERATED)
    assert SIGNER_NAME in html


def test_empty_report_renders(tmp_path: Path) -> None:
    html = render_html([], generated_at=GENERATED)
    assert "Không có tài liệu nào" in html
    assert render_pdf([], None, generated_at=GENERATED).startswith(b"%PDF-")


def test_naive_generated_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_html([], generated_at=datetime(2026, 6, 1, 10, 0))  # noqa: DTZ001


def test_report_without_signatures_still_has_its_sentence() -> None:
    report = DocumentReport(
        path="x.bin",
        size=3,
        sha256="0" * 64,
        format="unknown",
        indication=Indication.INDETERMINATE,
        sub_indication=SubIndication.NO_SIGNATURE_FOUND,
        message_vi="Tài liệu không có chữ ký số.",
        message_en="The document carries no digital signature.",
    )
    html = render_html([report], generated_at=GENERATED)
    assert "Tài liệu không có chữ ký số." in html
    assert "NO_SIGNATURE_FOUND" in html


def test_each_signature_shows_the_constraints_checked_with_level_and_result(
    corpus_reports: list[DocumentReport],
) -> None:
    """The detailed section: every applicable constraint, its block, level and result, in
    Vietnamese and English; a failed one stands out."""
    html = render_html(corpus_reports[:1], generated_at=GENERATED)
    assert "Các ràng buộc đã kiểm tra" in html
    (sig,) = corpus_reports[0].signatures
    for checked in sig.constraints:
        if checked.status != "not_applicable":
            assert f'<code class="muted">{checked.id}</code>' in html
    assert "signing_certificate_present" in html
    assert '<tr class="failed">' not in html  # a passed signature: every check passed
    failed = replace(
        sig,
        constraints=(
            ConstraintResult("signing_time_present", "SAV", "FAIL", "failed", "no time", "không"),
        ),
    )
    html = render_html([replace(corpus_reports[0], signatures=(failed,))], generated_at=GENERATED)
    assert '<tr class="failed">' in html
    assert "Không đạt" in html
