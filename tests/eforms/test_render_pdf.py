"""The PDF to keep: PDF/A-3b structure, embedded fonts, attached JSON, NFC text, golden pages."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from xml.etree import ElementTree

import pytest
from PIL import Image, ImageChops, ImageStat
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from eforms import Catalog, FormDefinition, bundled_catalog, validate
from eforms.cli import main
from eforms.render import AssetFetcher, PdfAttachment, PdfMetadata, RenderError, render_pdf
from tests.eforms.conftest import NOW, TODAY

EXAMPLES = Path(__file__).resolve().parents[2] / "eforms" / "data" / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"
FORMS = bundled_catalog().form_ids()  # every bundled form, each with its golden page
CT01 = "to-khai-thay-doi-thong-tin-cu-tru"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DC = "{http://purl.org/dc/elements/1.1/}"
PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"
META = PdfMetadata(created=NOW, place="Hà Nội", signed_on=TODAY)


def submitted(form: FormDefinition) -> dict[str, Any]:
    """The example's valid data as the portal keeps it: validated and normalised."""
    raw = json.loads((EXAMPLES / f"{form.id}.json").read_text("utf-8"))["valid"]
    report = validate(form, raw, today=TODAY)
    assert report.ok, report.errors
    data: dict[str, Any] = report.data
    return data


@pytest.fixture(scope="module")
def rendered(catalog: Catalog) -> dict[str, tuple[dict[str, Any], bytes]]:
    """Every bundled form rendered once with its sample data."""
    out = {}
    for form_id in FORMS:
        form = catalog.form(form_id)
        data = submitted(form)
        out[form_id] = (data, render_pdf(form, data, metadata=META, today=TODAY))
    return out


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def squash(text: str) -> str:
    return " ".join(text.split())


def embedded_files(reader: PdfReader) -> dict[str, DictionaryObject]:
    names = reader.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    return {str(names[i]): names[i + 1].get_object() for i in range(0, len(names), 2)}


@pytest.mark.parametrize("form_id", FORMS)
def test_pdf_a3b_structure(rendered: dict[str, tuple[dict[str, Any], bytes]], form_id: str) -> None:
    """Output intent, XMP PDF/A-3B identification, embedded fonts, /AF with /Data JSON."""
    data, pdf = rendered[form_id]
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/DestOutputProfile"].get_object().get_data()[36:40] == b"acsp"  # ICC
    xmp = ElementTree.fromstring(  # noqa: S314 - the XMP of a PDF this test just made
        root["/Metadata"].get_object().get_data()
    )
    ident = {
        k.split("}")[1]: v
        for d in xmp.iter(RDF + "Description")
        for k, v in d.attrib.items()
        if k.startswith(PDFAID)
    }
    assert ident == {"part": "3", "conformance": "B"}
    form_title = json.loads((EXAMPLES.parent / "forms" / f"{form_id}.json").read_text())["title"]
    title = next(xmp.iter(DC + "title"))
    assert [li.text for li in title.iter(RDF + "li")] == [form_title["vi"]]
    creators = [li.text for li in next(xmp.iter(DC + "creator")).iter(RDF + "li")]
    assert creators
    assert creators[0] in set(strings(data))
    assert next(xmp.iter(DC + "description")) is not None  # the subject
    fonts = 0
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            assert font["/Subtype"] == "/Type0"
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, font["/BaseFont"]
            fonts += 1
    assert fonts >= 3
    files = embedded_files(reader)
    assert list(files) == [f"{form_id}.json"]
    spec = files[f"{form_id}.json"]
    assert spec["/AFRelationship"] == "/Data"
    assert spec.indirect_reference in [ref.indirect_reference for ref in root["/AF"]] or any(
        ref.get_object() == spec for ref in root["/AF"]
    )
    stream = spec["/EF"]["/F"].get_object()
    assert stream["/Subtype"] == "/application#2Fjson" or stream["/Subtype"] == "/application/json"
    assert json.loads(stream.get_data().decode("utf-8")) == data
    assert reader.metadata is not None
    assert reader.metadata.title == form_title["vi"]


@pytest.mark.parametrize("form_id", FORMS)
def test_text_extracts_as_the_same_nfc_vietnamese(
    rendered: dict[str, tuple[dict[str, Any], bytes]], form_id: str
) -> None:
    """Every Vietnamese name and address typed in the form extracts back as the same NFC text."""
    data, pdf = rendered[form_id]
    text = squash("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert text == unicodedata.normalize("NFC", text)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    checked = 0
    for value in strings(data):
        if any(ord(c) > 127 for c in value) and len(value) > 3:
            assert squash(value) in text, value
            checked += 1
    assert checked >= 3


def test_hidden_sections_are_left_off_paper(catalog: Catalog) -> None:
    """basis=own-home: the household head section (hidden by its rule) is not printed."""
    form = catalog.form(CT01)
    data = submitted(form)
    shown = squash(PdfReader(io.BytesIO(render_pdf(form, data))).pages[0].extract_text())
    assert "Nguyễn Thị Lan" in shown
    data = {**data, "basis": "own-home", "ownerDocument": "Giấy chứng nhận quyền sử dụng đất"}
    data.pop("householdHead")
    text = squash(PdfReader(io.BytesIO(render_pdf(form, data))).pages[0].extract_text())
    assert "CHỦ HỘ" not in text
    assert "Giấy chứng nhận quyền sử dụng đất" in text


def test_extra_attachments_and_metadata(catalog: Catalog) -> None:
    """Caller attachments keep their relationship; author and subject reach the PDF."""
    form = catalog.form(CT01)
    data = submitted(form)
    pdf = render_pdf(
        form,
        data,
        attachments=[PdfAttachment("giay-to.xml", b"<a>\xc4\x91</a>", "Giấy tờ", "Source")],
        metadata=PdfMetadata(author="Nguyễn Văn An", subject="Hồ sơ thử", created=NOW),
    )
    reader = PdfReader(io.BytesIO(pdf))
    files = embedded_files(reader)
    assert files["giay-to.xml"]["/AFRelationship"] == "/Source"
    assert files["giay-to.xml"]["/EF"]["/F"].get_object().get_data() == b"<a>\xc4\x91</a>"
    assert reader.metadata is not None
    assert reader.metadata.author == "Nguyễn Văn An"
    assert reader.metadata.subject == "Hồ sơ thử"
    with pytest.raises(ValueError, match="relationship"):
        PdfAttachment("x.bin", b"", relationship="Evil")
    with pytest.raises(ValueError, match="aware"):
        PdfMetadata(created=datetime(2025, 1, 1))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(RenderError):
        render_pdf(form, [1, 2])  # type: ignore[arg-type]


# -- golden images --------------------------------------------------------------------------------


def first_page_png(pdf: bytes, tmp: Path) -> Image.Image:
    src = tmp / "page.pdf"
    src.write_bytes(pdf)
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm (poppler-utils) is needed: bash scripts/system-deps.sh"
    subprocess.run(
        [
            pdftoppm,
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(src),
            str(tmp / "p"),
        ],
        check=True,
        timeout=60,
    )
    return Image.open(tmp / "p.png").convert("L")


@pytest.mark.parametrize("form_id", FORMS)
def test_first_page_matches_golden_image(
    rendered: dict[str, tuple[dict[str, Any], bytes]], form_id: str, tmp_path: Path
) -> None:
    """Page 1 at 60 dpi equals tests/eforms/golden/FORM.png within a small tolerance.

    After a deliberate layout change: HOSO_UPDATE_GOLDEN=1 pytest tests/eforms/test_render_pdf.py
    rewrites the images; look at them before committing.
    """
    page = first_page_png(rendered[form_id][1], tmp_path)
    golden = GOLDEN / f"{form_id}.png"
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


# -- no fetching -------------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { background: red }")

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every request it gets."""
    hits: list[str] = []
    handler = type("Handler", (_Recorder,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def fetch_payloads(base: str) -> list[str]:
    return [
        '<img src="file:///etc/passwd">',
        f'<img src="{base}/img.png">',
        f'<link rel="stylesheet" href="{base}/link.css">',
        f"<style>@import url({base}/import.css); body {{ background: url({base}/bg.png) }}</style>",
        f"background: url({base}/css-url.png)",
        f'<object data="{base}/object"></object><iframe src="{base}/frame"></iframe>',
        '<img src="data:image/png;base64,iVBORw0KGgo=">',
    ]


def test_rendering_fetches_nothing(
    catalog: Catalog, recorder: tuple[str, list[str]], tmp_path: Path
) -> None:
    """File and loopback URLs in every field: no request, nothing read, shown as text."""
    base, hits = recorder
    refused: list[str] = []
    from tests.eforms.test_render_html import poison

    for form_id in (CT01, "to-khai-yeu-cau-cap-phieu-ly-lich-tu-phap"):
        form = catalog.form(form_id)
        for payload in fetch_payloads(base):
            data = poison(form, payload)
            pdf = render_pdf(
                form, data, metadata=META, url_fetcher=AssetFetcher(refused.append), draft=True
            )
            text = squash(PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
            assert squash(payload)[:30] in text
    assert hits == []
    assert refused == []  # nothing even asked for: the payloads never became markup


def test_fetcher_serves_fonts_and_refuses_the_rest(recorder: tuple[str, list[str]]) -> None:
    """The URL fetcher refuses file:, http: to loopback and data: URLs and records them."""
    base, hits = recorder
    refused: list[str] = []
    fetcher = AssetFetcher(refused.append)
    for url in ("file:///etc/passwd", f"{base}/x.css", "data:text/css,body{}", "hoso-eforms:../x"):
        with pytest.raises(ValueError, match="refused"):
            fetcher.fetch(url)
    assert len(refused) == 4
    assert hits == []
    from eforms.render import font_files

    name = next(iter(font_files()))
    response = fetcher.fetch("hoso-eforms:" + name)
    assert response is not None


# -- CLI ---------------------------------------------------------------------------------------


def test_cli_renders_pdf_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`eforms render FORM DATA --pdf/--html` writes a PDF/A with the data and an HTML page."""
    data = json.loads((EXAMPLES / f"{CT01}.json").read_text("utf-8"))["valid"]
    src = tmp_path / "data.json"
    src.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["render", CT01, str(src), "--pdf", str(tmp_path / "out.pdf")]) == 0
    reader = PdfReader(tmp_path / "out.pdf")
    stream = embedded_files(reader)[f"{CT01}.json"]["/EF"]["/F"].get_object()
    assert json.loads(stream.get_data()) == validate(bundled_catalog().form(CT01), data).data
    assert main(["render", CT01, str(src), "--html", str(tmp_path / "out.html")]) == 0
    assert "Nguyễn Văn An" in (tmp_path / "out.html").read_text("utf-8")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("content", "code"),
    [("[1, 2]", 65), ("{", 65), (None, 66), ("\udcff", 65)],
)
def test_cli_bad_input_one_line_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, code: int
) -> None:
    """Bad data: one line on stderr, the documented exit code, no traceback, no output file."""
    src = tmp_path / "data.json"
    if content is not None:
        src.write_bytes(content.encode("utf-8", "surrogateescape"))
    out = tmp_path / "out.pdf"
    assert main(["render", CT01, str(src), "--pdf", str(out)]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == ([src] if content is not None else [])


def test_cli_unwritable_output_and_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing output folder exits 73; no --html/--pdf, or both, is a usage error (64)."""
    src = tmp_path / "data.json"
    src.write_text("{}", encoding="utf-8")
    assert main(["render", CT01, str(src), "--pdf", str(tmp_path / "no" / "o.pdf")]) == 73
    assert main(["render", CT01, str(src)]) == 64
    assert main(["render", CT01, str(src), "--pdf", "a.pdf", "--html", "b.html"]) == 64
    assert main(["render", "no-such-form", str(src), "--html", str(tmp_path / "x.html")]) == 66
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 4
    assert all(line.startswith("eforms: ") for line in lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.json"]


def test_signature_block_uses_the_given_date(catalog: Catalog) -> None:
    """The place and date given in the metadata are printed above the declarant's name."""
    form = catalog.form(CT01)
    data = submitted(form)
    pdf = render_pdf(form, data, metadata=PdfMetadata(place="Đà Nẵng", signed_on=date(2026, 1, 5)))
    text = squash("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert "Đà Nẵng, ngày 05 tháng 01 năm 2026" in text
    assert "Người kê khai".upper() in text.upper()


def test_the_marriage_form_prints_a_signature_block_for_each_spouse() -> None:
    """Both spouses sign the marriage declaration: the paper has "Bên nữ" and "Bên nam"
    blocks side by side, each with the name from its own part of the form."""
    from eforms.render import paper_html

    form = bundled_catalog().form("to-khai-dang-ky-ket-hon")
    example = json.loads((EXAMPLES / "to-khai-dang-ky-ket-hon.json").read_text(encoding="utf-8"))
    data = example["valid"]
    html = paper_html(form, data)
    block = html[html.index('id="chu-ky"') :]
    assert 'class="sign many"' in html
    bride, groom = data["bride"]["fullName"], data["groom"]["fullName"]
    assert block.index("Bên nữ") < block.index(bride) < block.index("Bên nam") < block.index(groom)
    english = paper_html(form, data, lang="en")
    assert "Bride" in english
    assert "Groom" in english


def test_the_paper_shows_decimals_with_a_comma_and_booleans_as_words() -> None:
    """Vietnamese writes 96,5 and "Có"/"Không", in fields and in table cells alike; the
    English paper keeps 96.5 and Yes/No; the field's own value is never reformatted."""
    from eforms import load_definition
    from eforms.render import paper_html

    form = load_definition(
        {
            "id": "dien-tich",
            "version": "1.0",
            "title": {"vi": "Diện tích", "en": "Area"},
            "schema": {
                "type": "object",
                "properties": {
                    "area": {"type": "number"},
                    "floors": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "size": {"type": "number"},
                                "basement": {"type": "boolean"},
                            },
                        },
                    },
                },
            },
            "labels": {
                "/area": {"vi": "Diện tích (m²)", "en": "Area (m²)"},
                "/floors": {"vi": "Các tầng", "en": "Floors"},
                "/floors/size": {"vi": "Diện tích sàn", "en": "Floor area"},
                "/floors/basement": {"vi": "Tầng hầm", "en": "Basement"},
            },
        }
    )
    data = {"area": 96.5, "floors": [{"size": 13.5, "basement": True}]}
    vi = paper_html(form, data)
    assert "96,5" in vi
    assert "13,5" in vi
    assert ">Có<" in vi
    assert "96.5" not in vi
    assert ">true<" not in vi
    en = paper_html(form, data, lang="en")
    assert "96.5" in en
    assert ">Yes<" in en
