"""The auditor's HTML and PDF reports: content, escaping, and no network while printing."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fixtures.attacks import add_dss_and_doc_timestamp
from fixtures.documents import minimal_pdf, sign_pdf
from fixtures.einvoice import invoice_xml, sign_strict
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.verify.conftest import SIGNED_AT, SIGNER_NAME, Corpus
from tests.verify.test_cli import pdf_text
from verify import (
    ConstraintResult,
    DocumentReport,
    Indication,
    RevocationMode,
    SubIndication,
    TrustProfile,
    ValidationPolicy,
    labels,
)
from verify import render as render_module
from verify import trust as trust_module
from verify.render import AssetFetcher, font_file, render_html, render_pdf
from verify.report import vn_time
from verify.trust import TrustDataVersion, bundled_catalog, bundled_trust_version
from verify.verifier import Verifier

GENERATED = datetime(2026, 6, 1, 11, 0, tzinfo=UTC)
GOLDEN = Path(__file__).resolve().parent / "golden"


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


# -- a report an auditor files: Vietnamese, complete, and nothing cut in the middle ------------

# Values reports keep as machine values; none may be what the report shows (they are shown
# translated; ETSI codes and constraint ids stay beside the translation, in <code>).
RAW_UPPERCASE = (
    "ENTIRE_FILE",
    "ENTIRE_REVISION",
    "CONTIGUOUS_BLOCK_FROM_START",
    "FORM_FILLING_AND_SIGNATURES",
    "VALIDATION_DATA_AND_TIMESTAMPS",
    "NOT_ANALYSED",
    "NO_CHANGES",
    "FILL_FORMS",
    "REFERENCED_ELEMENTS",
    "ENVELOPED_CONTENT",
    "DETACHED_CONTENT",
    "NONE",
    "OTHER",
    "DOC-TS",
)
RAW_LOWERCASE = (
    "individual",
    "organisation",
    "official",
    "timestamp_authority",
    "unknown",
    "hard",
    "soft",
    "off",
    "now",
    "any",
    "public",
    "specialized",
    "signature",
    "document",
    "content",
    "strict",
    "dotnet",
    "seller",
    "tax_authority",
    "offline",
    "pdf",
    "xml",
    "cms",
)
MIXED_AT = datetime(2026, 5, 31, 9, 0, tzinfo=UTC)  # B-LT needs revocation data from before
REALWORLD = Path(__file__).resolve().parents[1] / "data" / "realworld"


class _Text(HTMLParser):
    """The text a reader sees, without <code> (reference codes), hashes, <style> and <head>."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.cells: list[str] = []
        self._skip: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag in ("style", "head", "code", "title") or "hash" in classes:
            self._skip.append(tag)
        if tag in ("td", "li", "span", "p"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()
        if tag in ("td", "li", "span", "p") and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.parts.append(data)
        if self._cell is not None:
            self._cell.append(data)

    @classmethod
    def of(cls, html: str) -> _Text:
        parser = cls()
        parser.feed(html)
        return parser

    @property
    def text(self) -> str:
        return unicodedata.normalize("NFC", " ".join(self.parts))


def _fragment(html: str, start: str, end: str) -> list[str]:
    """Every piece of ``html`` from ``start`` to the next ``end``."""
    pieces, at = [], 0
    while (found := html.find(start, at)) >= 0:
        stop = html.index(end, found)
        pieces.append(html[found : stop + len(end)])
        at = stop
    return pieces


@pytest.fixture(scope="module")
def mixed_reports(demo_pki: DemoPKI, verify_corpus: Corpus) -> list[DocumentReport]:
    """A folder as an auditor meets it: a passing PAdES B-T, a tampered and a revoked one, a
    B-LTA with a document timestamp, an XML e-invoice, a file that is no signature, and the
    two real documents (MISA-CA contract, CA2 e-invoice), under fixed display paths."""
    trust = TrustProfile.any().with_extra_anchors(verify_corpus.trust_pem)
    verifier = Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW))
    pdf = minimal_pdf("Đơn đề nghị cấp bản sao")
    lta = add_dss_and_doc_timestamp(
        sign_pdf(demo_pki, "official", pdf, at=MIXED_AT, ltv=True), demo_pki, at=MIXED_AT
    )
    invoice = sign_strict(invoice_xml(), demo_pki, "organisation", at=SIGNED_AT)
    reports = [
        verifier.verify(verify_corpus["passed-bt.pdf"]),
        verifier.verify(verify_corpus["tampered.pdf"]),
        verifier.verify(verify_corpus["revoked.pdf"]),
        verifier.verify_pdf(lta),
        verifier.verify(invoice),
        verifier.verify(verify_corpus["garbage.bin"]),
    ]
    offline = Verifier(
        TrustProfile.any(), ValidationPolicy(validation_time=PINNED_NOW, network=False)
    )
    reports += [
        offline.verify(REALWORLD / "misa-ca-contract-appendix.pdf"),
        offline.verify(REALWORLD / "ca2-einvoice-seller-signed.xml"),
    ]
    names = [
        "ho-so/don-de-nghi-B-T.pdf",
        "ho-so/bi-sua-sau-khi-ky.pdf",
        "ho-so/chung-thu-bi-thu-hoi.pdf",
        "ho-so/luu-tru-B-LTA.pdf",
        "ho-so/hoa-don-dien-tu.xml",
        "ho-so/khong-phai-chu-ky.bin",
        "that/hop-dong-MISA-CA.pdf",
        "that/hoa-don-CA2.xml",
    ]
    return [replace(r, path=name) for r, name in zip(reports, names, strict=True)]


@pytest.fixture(scope="module")
def mixed_html(mixed_reports: list[DocumentReport]) -> str:
    return render_html(mixed_reports, generated_at=GENERATED, settings=CLI_SETTINGS)


@pytest.fixture(scope="module")
def mixed_pdf(
    mixed_reports: list[DocumentReport], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    target = tmp_path_factory.mktemp("mixed-report") / "report.pdf"
    render_pdf(mixed_reports, target, generated_at=GENERATED, settings=CLI_SETTINGS)
    return target


# the rows `verify --report` passes today (verify/cli.py), raw values and all
CLI_SETTINGS = [
    (
        "Thời điểm kiểm tra / Validation time",
        "now (2026-06-01T10:00:00Z = 01/06/2026 17:00:00 (GMT+7))",
    ),
    ("Hồ sơ tin cậy / Trust profile", "any (14 anchors)"),
    ("Kiểm tra thu hồi / Revocation", "hard"),
    ("Mạng / Network", "online (OCSP/CRL)"),
]


def test_the_mixed_folder_has_every_kind_of_document(mixed_reports: list[DocumentReport]) -> None:
    """The fixture is what the other tests claim it is (else they would prove less)."""
    kinds = [(r.indication.value, r.format) for r in mixed_reports]
    assert kinds[0] == ("TOTAL_PASSED", "pdf")
    assert kinds[1][0] == kinds[2][0] == "TOTAL_FAILED"
    assert [s.kind for s in mixed_reports[3].signatures] == ["signature", "document_timestamp"]
    assert mixed_reports[3].passed
    assert kinds[4] == ("TOTAL_PASSED", "xml")
    assert mixed_reports[4].facts
    assert any(s.timestamps for r in mixed_reports for s in r.signatures)


def test_html_shows_no_raw_enum_value(mixed_html: str) -> None:
    """Coverage, modifications, signer kinds, revocation modes, hierarchies, timestamp kinds,
    formats, roles: every one is shown translated. Uppercase machine words (ENTIRE_FILE,
    NONE, TOTAL_PASSED...) appear only inside <code> (ETSI codes and constraint ids, kept
    beside the translation), and no cell is a bare lowercase value (hard, individual, now)."""
    seen = _Text.of(mixed_html)
    shown = seen.text
    for raw in RAW_UPPERCASE:
        assert not re.search(rf"(?<![\w-]){re.escape(raw)}(?![\w-])", shown), raw
    assert not re.findall(r"\b[A-Z]+(?:_[A-Z]+)+\b", shown)  # no snake-case code outside <code>
    bare = {c for c in seen.cells if c in RAW_LOWERCASE}
    assert not bare
    assert "Hồ sơ tin cậy" not in shown  # "hồ sơ" is a dossier: the trust profile is not one
    assert "Bộ chứng thư tin cậy" in shown
    assert labels.UNTRANSLATED_VI not in shown  # every warning of these documents is known
    for code in ("TOTAL_FAILED", "HASH_FAILURE", "signing_certificate_present"):
        assert code in mixed_html  # the codes stay, for whoever cross-checks with EU DSS


def test_values_are_translated_with_the_english_beside(mixed_html: str) -> None:
    """The translations themselves, each with its English."""
    shown = _Text.of(mixed_html).text
    for vi, en in (
        ("toàn bộ tệp", "the entire file"),
        ("chỉ bổ sung dữ liệu kiểm tra và dấu thời gian", "validation data and timestamps only"),
        ("cá nhân", "individual"),
        ("tổ chức", "organisation"),
        ("dấu thời gian chữ ký", "signature timestamp"),
        ("dấu thời gian được tin cậy", "trusted timestamp"),
        ("bắt buộc (thiếu thông tin thu hồi thì không chấp nhận)", "hard"),
        ("người bán", "seller"),
        ("hệ thống chứng thực chữ ký số công cộng (NEAC)", "public hierarchy (NEAC)"),
        ("Không kiểm tra được tình trạng thu hồi tại thời điểm ký.", "Revocation at the signing"),
        ("Bước kiểm tra: chấp nhận chữ ký", "signature acceptance validation"),
    ):
        assert vi in shown, vi
        assert en in shown, en


def test_numbers_dates_and_times_are_written_the_vietnamese_way(mixed_html: str) -> None:
    """Sizes and amounts group thousands with "." (222.560 byte, 10.800.000 đồng); every time
    is dd/mm/yyyy HH:MM:SS with the Asia/Ho_Chi_Minh offset; no ISO time is shown."""
    shown = _Text.of(mixed_html).text
    sizes = re.findall(r"([\d.,]+) byte", shown)
    assert sizes
    assert all(re.fullmatch(r"\d{1,3}(\.\d{3})*", s) for s in sizes), sizes
    assert any("." in s for s in sizes)
    assert "10.800.000 đồng" in shown
    assert "20/05/2026" in shown  # the invoice's date
    assert not re.search(r"\d{4}-\d{2}-\d{2}", shown)  # no ISO date or time anywhere shown
    times = re.findall(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2} \(GMT[+-][\d:]+\)", shown)
    assert len(times) > 20
    assert "01/06/2026 17:00:00 (GMT+7)" in shown  # the validation time, 10:00Z
    assert labels.vn_number(222560) == "222.560"
    assert labels.vn_number("81661207.000000") == "81.661.207"
    assert labels.vn_number(-1234.5) == "-1.234,5"


def test_times_carry_the_zone_offset_of_their_date() -> None:
    """Asia/Ho_Chi_Minh was GMT+8 before 1975: an old time says so instead of a fixed +7."""
    assert vn_time(datetime(2026, 6, 1, 10, 0, tzinfo=UTC)) == "01/06/2026 17:00:00 (GMT+7)"
    assert vn_time(datetime(1970, 6, 1, 10, 0, tzinfo=UTC)) == "01/06/1970 18:00:00 (GMT+8)"
    assert vn_time(datetime(1, 1, 2, 0, 0, tzinfo=UTC)).startswith("02/01/0001 ")


def test_header_names_hoso_version_trust_data_policy_and_validation_time(mixed_html: str) -> None:
    """The header says with what the documents were checked: hoso's version, the bundled trust
    data's version and date, the trust profile, the policy (default when none is named), the
    validation time, revocation mode and network, each in Vietnamese with the English."""
    header = _Text.of(mixed_html[: mixed_html.index('class="summary"')]).text
    data = bundled_trust_version()
    assert f"hoso {importlib.metadata.version('hoso')}" in header
    assert data.version in header
    assert f"{data.date:%d/%m/%Y}" in header
    assert "Chính sách kiểm tra" in header
    assert "mặc định" in header
    assert "default" in header
    assert "01/06/2026 17:00:00 (GMT+7) — lúc chạy kiểm tra" in header  # "now (...)" read
    assert "cả hai hệ thống" in header
    assert "14 chứng thư gốc" in header
    assert "bắt buộc" in header  # "hard"
    assert "trực tuyến" in header
    named = render_html(
        [],
        generated_at=GENERATED,
        policy_name="chinh-sach-so-xd.toml",
        settings=[
            ("Giới hạn kích thước tệp / File size limit", "100000000 bytes"),
            ("Cảnh báo / Warning", "ở tương lai / in the future (now: 2026-06-01T10:00:00Z)"),
        ],
    )
    shown = _Text.of(named).text
    assert "chinh-sach-so-xd.toml" in shown
    assert "100.000.000 byte" in shown
    assert "01/06/2026 17:00:00 (GMT+7)" in shown
    assert "2026-06-01" not in shown


def test_header_from_the_policy_and_trust_profile_objects() -> None:
    """Given the policy and the profile (as the demo does), the header takes them from there:
    a chosen validation time is said to be chosen, offline is said, a custom profile is
    named as the caller's own."""
    trust = TrustProfile.public()
    policy = ValidationPolicy(validation_time=PINNED_NOW, network=False)
    policy = policy.replace(revocation=RevocationMode.SOFT)
    header = _Text.of(render_html([], generated_at=GENERATED, policy=policy, trust=trust)).text
    assert "01/06/2026 17:00:00 (GMT+7) — do người kiểm tra chọn" in header
    assert "ngoại tuyến" in header
    assert "mềm" in header
    assert f"{len(trust.anchors)} chứng thư gốc" in header
    custom = TrustProfile.custom(TrustProfile.public().anchors[:1], name="demo")
    header = _Text.of(render_html([], generated_at=GENERATED, trust=custom)).text
    assert "«demo»: bộ chứng thư tự chọn" in header


def test_trust_data_version_is_derived_from_the_catalogue() -> None:
    """The bundled catalogue declares no version: the date is its newest certificate's, and
    the version that date plus the catalogue's SHA-256 (which pins every file)."""
    data = bundled_trust_version()
    catalog = (Path(trust_module.__file__).parent / "data" / "trust" / "catalog.json").read_bytes()
    newest = max(date.fromisoformat(e.not_before[:10]) for e in bundled_catalog())
    assert data.date == newest
    assert data.sha256 == hashlib.sha256(catalog).hexdigest()
    assert data.version == f"{newest:%Y.%m.%d}+{data.sha256[:12]}"
    assert data.certificates == len(bundled_catalog())
    assert not data.declared


def test_sign_off_block_closes_the_report(mixed_html: str, mixed_pdf: Path) -> None:
    """After the last document: auditor, unit, place and date, and a line to sign on; the
    PDF's last page holds it."""
    signoff = mixed_html.index('class="signoff"')
    assert signoff > mixed_html.rindex('class="document ')
    block = _Text.of(mixed_html[signoff:]).text
    for words in ("Xác nhận của người kiểm tra", "Người kiểm tra", "Auditor", "Đơn vị", "Unit"):
        assert words in block
    assert "ngày …… tháng …… năm" in block
    assert "(Ký, ghi rõ họ tên)" in block
    assert 'class="sign-line"' in mixed_html[signoff:]
    filled = render_html([], generated_at=GENERATED, auditor="Lê Thu Hà", unit="Sở Xây dựng")
    assert "Lê Thu Hà" in filled
    assert "Sở Xây dựng" in filled
    pages = pdf_text(mixed_pdf).split("\f")
    last = [p for p in pages if p.strip()][-1]
    assert "Xác nhận của người kiểm tra" in last
    assert "NGƯỜI KIỂM TRA" in last


def _split_words(pdf_text_: str, html: str) -> set[tuple[str, str]]:
    """Words of ``html`` that the PDF's text shows cut across two lines ("signatur" / "e")."""
    letter = r"[^\W\d_]"
    words = set(re.findall(rf"{letter}{{2,}}", _Text.of(html).text))
    text = unicodedata.normalize("NFC", pdf_text_)
    found = set()
    for word in words:
        for i in range(1, len(word)):
            head, tail = re.escape(word[:i]), re.escape(word[i:])
            if re.search(rf"(?<!{letter}){head}\n{tail}(?!{letter})", text):
                found.add((word[:i], word[i:]))
    return found


def test_pdf_breaks_no_word_in_the_timestamp_table(mixed_html: str, mixed_pdf: Path) -> None:
    """In the PDF's text, no word of a timestamp table (kinds, times, TSA names, results) is
    split across two lines: the table had "signatur" / "e" before its columns were fixed."""
    tables = _fragment(mixed_html, '<table class="list timestamps">', "</table>")
    assert len(tables) >= 2  # the B-T and the B-LTA signatures
    assert not _split_words(pdf_text(mixed_pdf), "".join(tables))


def test_pdf_breaks_no_word_anywhere(mixed_html: str, mixed_pdf: Path) -> None:
    """Nor anywhere else: every word of the report, ETSI codes included (they wrap at "_"),
    reaches the PDF whole."""
    assert not _split_words(pdf_text(mixed_pdf), mixed_html.replace("_", " "))
    text = pdf_text(mixed_pdf)
    assert "NO_CERTIFICATE_CHAIN_FOUND" in text.replace("_\n", "_")


def test_pdf_keeps_vietnamese_whole(mixed_pdf: Path) -> None:
    """Diacritics survive into the PDF's text layer composed (NFC), from the bundled font."""
    text = pdf_text(mixed_pdf)
    assert unicodedata.is_normalized("NFC", text)
    for words in (
        "Bộ chứng thư tin cậy",
        "Dữ liệu tin cậy đóng gói",
        "chỉ bổ sung dữ liệu kiểm tra và dấu thời gian",
        "Nội dung hóa đơn điện tử",
        "CÔNG TY TNHH DỊCH VỤ CÔNG NGHỆ TRỰC TUYẾN",
    ):
        assert words in text.replace("\n", " "), words


def test_known_warnings_all_have_vietnamese() -> None:
    """Each warning the readers write in English today gets a Vietnamese text, with the
    English kept; an unknown one is marked, never dropped."""
    known = [
        "Revocation checking was switched off by the policy.",
        "Revocation at the signing time could not be checked "
        "(không kiểm tra được tình trạng thu hồi tại thời điểm ký).",
        "Form fields were filled in after this signature (allowed by the document's "
        "permissions); check the filled values.",
        "Form fields changed after this signature (old -> new): HoTen: 'A' -> 'B'",
        "The changed form fields could not be listed (boom).",
        "The signed and final pages could not be compared (boom).",
        "The signature has no signed attributes (not CAdES/PAdES): nothing signed binds "
        "the signer's certificate, the content type or the signing time.",
        "The signed attributes are stored out of DER order; the signature is over their DER "
        "encoding, which was verified (các thuộc tính được ký lưu không theo thứ tự DER; chữ "
        "ký đúng trên bản mã hóa DER của chúng).",
        "The PDF is encrypted with an empty user password (it opens without one); it was "
        "decrypted with the empty password to validate its signatures.",
        "The PDF's integrity MAC (ISO/TS 32004) does not match the file (bad MAC).",
        "revocation sources could not be reached online; the revocation data embedded "
        "in the document (LTV) covers the signing time and was used",
        "The evidence could not be written to /x/ev: disk full",
        "The signature timestamp proves nothing: its TSA is not trusted.",
        "The document timestamp DocTS1 proves nothing: its imprint does not match.",
        "The XAdES signature timestamp 2 cannot be validated (bad (nested)) and proves nothing "
        "(không kiểm tra được dấu thời gian XAdES, nó không chứng minh được gì).",
        "no ESS signing-certificate (không có ESS) [signing_certificate_present: WARN]",
        "not listed in manifest.json: ghi-chu.txt",
        "The validation time is before the signing time that signature 1 claims "
        "(2026-05-31T09:00:00Z; validated at 2026-05-01T00:00:00Z): it is judged as of a "
        "moment before it says it was made",
    ]
    for english in known:
        label = labels.warning(english)
        assert label.vi != labels.UNTRANSLATED_VI, english
        assert re.search(r"[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ]", label.vi), label
        assert label.en
    assert labels.warning("Something new.") == (labels.UNTRANSLATED_VI, "Something new.")


def test_certificate_names_use_the_short_attribute_names() -> None:
    """asn1crypto's English attribute names (Common Name: ..., Country: ...) become CN=, C=,
    for both of its separators."""
    assert labels.distinguished_name(
        "User ID: MST:0312585298, Common Name: Công ty A, Country: VN"
    ) == ("UID=MST:0312585298, CN=Công ty A, C=VN")
    assert labels.distinguished_name("Common Name: A, B; Email Address: a@b.vn") == (
        "CN=A, B; E=a@b.vn"
    )
    said = "đơn vị cấp: Common Name: CA2, Organization: NACENCOMM SCT, Country: VN"
    assert labels.names_in(said).endswith(": CN=CA2, O=NACENCOMM SCT, C=VN")
    assert labels.names_in("Country: VN only") == "Country: VN only"


def test_first_page_matches_golden_image(
    mixed_reports: list[DocumentReport], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Page 1 (header and summary) at 60 dpi equals tests/verify/golden/report-page1.png
    within a small tolerance; versions are pinned so a release or new trust data does not
    move it.

    After a deliberate layout change: HOSO_UPDATE_GOLDEN=1 pytest tests/verify/test_render.py
    rewrites the image; look at it before committing.
    """
    from PIL import Image, ImageChops, ImageStat

    monkeypatch.setattr(render_module, "_hoso_version", lambda: "0.1.0")
    monkeypatch.setattr(
        render_module,
        "bundled_trust_version",
        lambda: TrustDataVersion("2026.07.16+000000000000", date(2026, 7, 16), "0" * 64, 40, False),
    )
    target = tmp_path / "r.pdf"
    render_pdf(mixed_reports, target, generated_at=GENERATED, settings=CLI_SETTINGS)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(target),
            str(tmp_path / "p"),
        ],
        check=True,
        timeout=60,
    )
    page = Image.open(tmp_path / "p.png").convert("L")
    golden = GOLDEN / "report-page1.png"
    if os.environ.get("HOSO_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        page.save(golden, optimize=True)
    assert golden.is_file(), f"missing {golden}: run with HOSO_UPDATE_GOLDEN=1 and look at it"
    expected = Image.open(golden).convert("L")
    assert page.size == expected.size
    diff = ImageChops.difference(page, expected)
    mean = ImageStat.Stat(diff).mean[0]
    changed = sum(diff.point(lambda v: 255 if v > 64 else 0).histogram()[255:]) / (
        page.size[0] * page.size[1]
    )
    message = f"layout changed: mean difference {mean:.2f}, {changed:.2%} of pixels"
    assert mean < 1.5, message
    assert changed < 0.004, message


def test_html_in_a_browser_fits_its_width(mixed_html: str) -> None:
    """Headless Chromium lays the HTML out at 1100 px without a horizontal scroll bar, loads
    nothing, and shows the sign-off block."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (bash scripts/system-deps.sh)")
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("request", lambda r: requested.append(r.url))
            page.set_content(mixed_html)
            width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
            signoff = page.locator("section.signoff").inner_text()
        finally:
            browser.close()
    assert width[0] <= width[1], width
    assert requested == []
    assert "Xác nhận của người kiểm tra" in signoff


def test_a_file_that_is_not_signed_has_its_own_label() -> None:
    """A NOT_SIGNED line (a README in a folder) reads "Không phải tài liệu ký số" and gets a
    count in the summary only when there is one."""
    not_signed = getattr(Indication, "NOT_SIGNED", None)
    if not_signed is None:
        pytest.skip("this version has no NOT_SIGNED indication")
    report = DocumentReport(
        path="README.md",
        size=1234,
        sha256="0" * 64,
        format="text",
        indication=not_signed,
        sub_indication=None,
        message_vi="Không phải tài liệu ký số.",
        message_en="Not a signed document.",
    )
    html = render_html([report], generated_at=GENERATED)
    assert '<span class="label">Không phải tài liệu ký số' in html
    assert "văn bản thuần" in html
    assert "1.234 byte" in html
    assert '<span class="label">Không phải tài liệu ký số' not in render_html(
        [], generated_at=GENERATED
    )
