"""Render a form: HTML to fill (in a browser) and PDF/A-3b to keep (like the paper form).

:func:`render_html` gives one self-contained page: jinja2 with autoescaping, labels and
fieldsets, help and error text tied to their fields with ``aria-describedby``, locked
(autofilled from an authoritative registry) fields read-only with their source shown,
prefilled suggestions marked, the UI schema's rules applied on the server (a small optional
script applies them live). Its Content-Security-Policy lets the page load nothing: the CSS
and the script are inline and allowed by hash.

:func:`render_pdf` prints the paper form with WeasyPrint: A4, the national heading, the
form's title and data, fonts from the ``fontpkg-spectral`` (serif) and
``fontpkg-be-vietnam-pro`` (sans) packages embedded, PDF/A-3b, and the submitted JSON
attached as an associated file (``AFRelationship /Data``). WeasyPrint gets a URL fetcher
that serves those font files only and refuses everything else: rendering never reads the
network or the local file system on behalf of a form or its data.
"""

from __future__ import annotations

import base64
import hashlib
import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from eforms import pointers
from eforms.autofill import AutofillResult
from eforms.definition import FormDefinition
from eforms.errors import EformsError, FormValidationError
from eforms.names import NAMES
from eforms.render_view import View, build_view
from eforms.validation import ValidationReport, validate

__all__ = [
    "ASSET_SCHEME",
    "DRAFT_MARK",
    "AssetFetcher",
    "PdfAttachment",
    "PdfMetadata",
    "RenderError",
    "check_pdf_renderable",
    "font_files",
    "render_html",
    "render_pdf",
]

ASSET_SCHEME = "hoso-eforms:"
"""The only URLs the PDF renderer fetches: bundled assets, by name."""
DRAFT_MARK = "BẢN NHÁP"
"""Printed across every page of a draft (:func:`render_pdf` with ``draft=True``)."""

_TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "nation": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "motto": "Độc lập - Tự do - Hạnh phúc",
        "to": "Kính gửi",
        "intro": "Các mục có dấu * là bắt buộc. Thông tin đã khóa được lấy từ cơ sở dữ liệu "
        "quốc gia và không sửa được ở đây.",
        "errors_title": "Biểu mẫu còn lỗi cần sửa",
        "error": "Lỗi",
        "locked": "Đã khóa",
        "prefilled": "Điền sẵn",
        "choose": "-- Chọn --",
        "yes": "Có",
        "no": "Không",
        "number": "STT",
        "row": "dòng",
        "date_placeholder": "dd/mm/yyyy",
        "submit": "Gửi tờ khai",
        "day": "ngày",
        "month": "tháng",
        "year": "năm",
        "signer_role": "Người kê khai",
        "signer_hint": "(Ký, ghi rõ họ tên)",
        "draft_note": "BẢN NHÁP: dữ liệu chưa hợp lệ, không dùng để nộp",
    },
    "en": {
        "nation": "SOCIALIST REPUBLIC OF VIETNAM",
        "motto": "Independence - Freedom - Happiness",
        "to": "To",
        "intro": "Fields marked * are required. Locked information comes from a national "
        "database and cannot be changed here.",
        "errors_title": "The form has errors to correct",
        "error": "Error",
        "locked": "Locked",
        "prefilled": "Prefilled",
        "choose": "-- Choose --",
        "yes": "Yes",
        "no": "No",
        "number": "No.",
        "row": "row",
        "date_placeholder": "dd/mm/yyyy",
        "submit": "Submit",
        "day": "day",
        "month": "month",
        "year": "year",
        "signer_role": "Declarant",
        "signer_hint": "(Signature and full name)",
        "draft_note": "BẢN NHÁP (DRAFT): the data is not valid, do not submit",
    },
}
_RELATIONSHIPS = frozenset({"Source", "Data", "Alternative", "Supplement", "Unspecified"})
_MAX_ATTACHMENT = 20_000_000


class RenderError(EformsError):
    """The form or data cannot be rendered (bad arguments, WeasyPrint missing)."""


@dataclass(frozen=True)
class PdfAttachment:
    """A file embedded in the PDF as an associated file (PDF/A-3 ``/AF``)."""

    name: str
    content: bytes
    description: str = ""
    relationship: str = "Supplement"

    def __post_init__(self) -> None:
        if self.relationship not in _RELATIONSHIPS:
            raise ValueError(f"relationship must be one of {sorted(_RELATIONSHIPS)}")
        if not self.name or "/" in self.name or len(self.name) > 200:
            raise ValueError("an attachment name is a plain file name")
        if len(self.content) > _MAX_ATTACHMENT:
            raise ValueError(f"attachment larger than {_MAX_ATTACHMENT} bytes")


@dataclass(frozen=True)
class PdfMetadata:
    """What the PDF says about itself, and the place and date printed above the signature.

    ``created`` (aware) is written as the document's and the attachments' creation time;
    without it WeasyPrint stamps the current time. ``signed_on`` fills "ngày ... tháng ...
    năm ..."; without it the dotted blanks stay for a hand-written date.
    """

    title: str | None = None
    author: str | None = None
    subject: str | None = None
    keywords: tuple[str, ...] = ()
    created: datetime | None = None
    place: str = ""
    signed_on: date | None = None
    recipient: str | None = None

    def __post_init__(self) -> None:
        if self.created is not None and self.created.tzinfo is None:
            raise ValueError("created must be timezone-aware")


# -- assets -------------------------------------------------------------------------------

_SERIF = "Spectral"
_SANS = "Be Vietnam Pro"
_FACES: tuple[tuple[str, str, int, str], ...] = (
    ("Hoso Serif", _SERIF, 400, "normal"),
    ("Hoso Serif", _SERIF, 400, "italic"),
    ("Hoso Serif", _SERIF, 600, "normal"),
    ("Hoso Serif", _SERIF, 700, "normal"),
    ("Hoso Serif", _SERIF, 700, "italic"),
    ("Hoso Sans", _SANS, 400, "normal"),
)


@cache
def font_files() -> dict[str, tuple[Path, str, int, str]]:
    """The faces embedded in PDFs: asset name -> (file, CSS family, weight, style).

    Spectral (``fontpkg-spectral``) for the form, Be Vietnam Pro (``fontpkg-be-vietnam-pro``)
    for the small print; both OFL, both cover Vietnamese, both static faces (so text
    extraction maps every glyph back to its own character).
    """
    import fontpkg

    faces: dict[str, tuple[Path, str, int, str]] = {}
    for css_family, family, weight, style in _FACES:
        try:
            path = Path(fontpkg.path(family, weight=weight, style=style))
        except (OSError, LookupError, ValueError) as exc:
            raise RenderError(
                f"font {family} {weight} {style} not found: install fontpkg-"
                f"{family.lower().replace(' ', '-')} ({exc})"
            ) from exc
        slug = css_family.lower().replace(" ", "-")
        faces[f"font/{slug}-{weight}-{style}.ttf"] = (path, css_family, weight, style)
    return faces


def _font_face_css() -> str:
    return "".join(
        f"@font-face {{ font-family: '{family}'; src: url('{ASSET_SCHEME}{name}'); "
        f"font-weight: {weight}; font-style: {style}; }}\n"
        for name, (_path, family, weight, style) in font_files().items()
    )


def _static(name: str) -> str:
    return (resources.files("eforms") / "static" / name).read_text(encoding="utf-8")


@cache
def _form_css() -> str:
    return _static("form.css")


@cache
def _paper_css() -> str:
    return _static("paper.css")


@cache
def _rules_js() -> str:
    return _static("rules.js")


def _fetcher_class() -> type[Any]:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class _AssetFetcher(URLFetcher):  # type: ignore[misc]
        """Serves bundled fonts by ``hoso-eforms:`` URL; refuses every other URL."""

        def __init__(self, record: Callable[[str], None] | None = None) -> None:
            super().__init__(allowed_protocols=())
            self.refused: list[str] = []
            self._record = record

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith(ASSET_SCHEME):
                found = font_files().get(url[len(ASSET_SCHEME) :])
                if found is not None:
                    body = found[0].read_bytes()
                    return URLFetcherResponse(url, body, {"Content-Type": "font/ttf"}, status=200)
            self.refused.append(url)
            if self._record is not None:
                self._record(url)
            raise ValueError(f"refused to fetch {url[:200]!r}: forms load bundled assets only")

        def open(self, url: Any, data: Any = None, timeout: Any = None) -> Any:
            return self.fetch(str(getattr(url, "full_url", url)))

    return _AssetFetcher


def AssetFetcher(record: Callable[[str], None] | None = None) -> Any:
    """A WeasyPrint URL fetcher that serves the bundled fonts and refuses everything else.

    ``record`` is called with every refused URL (tests use it to prove nothing was asked).
    """
    return _fetcher_class()(record)


# -- shared context -----------------------------------------------------------------------


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("eforms", "templates"),
        autoescape=True,  # every label and value is untrusted text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["roman"] = _roman
    return env


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + letters, n - value
    return out


def _lang(lang: str) -> str:
    if lang not in _TEXT:
        raise RenderError(f"lang must be 'vi' or 'en', not {lang[:20]!r}")
    return lang


def _check_form(form: object) -> FormDefinition:
    if not isinstance(form, FormDefinition):
        raise RenderError("form must be a FormDefinition (load_definition or the catalog)")
    return form


def _procedure(form: FormDefinition) -> tuple[str, str]:
    """(agency to address, procedure name) from the bundled catalog, when it knows it."""
    if not form.procedure:
        return "", ""
    from eforms.catalog import bundled_catalog
    from eforms.errors import CatalogError

    try:
        proc = bundled_catalog().get(form.procedure)
    except CatalogError:
        return "", ""
    return proc.agency.vi, proc.name.vi


def _sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _safe_action(action: str) -> str:
    if action and not (
        action.startswith("/") or action.startswith("https://") or action.startswith("http://")
    ):
        raise RenderError("action must be empty, a path starting with '/' or an http(s) URL")
    if any(c in action for c in "\"'<>\\ \t\r\n"):
        raise RenderError("action contains characters that are not allowed in a URL")
    return action


# -- HTML -----------------------------------------------------------------------------------


def render_html(
    form: FormDefinition,
    data: Mapping[str, Any] | None = None,
    *,
    autofill: AutofillResult | None = None,
    errors: ValidationReport | None = None,
    lang: str = "vi",
    action: str = "",
) -> str:
    """The form as one self-contained HTML page to fill.

    ``data`` is what to show (default: ``autofill.data``, else empty); ``autofill`` marks
    locked and prefilled fields with their source; ``errors`` (from :func:`validate`) puts
    each message next to its field and in a summary at the top. ``action`` is where the
    form posts (empty: the same URL). Inputs are named by JSON Pointer (``/applicant/
    fullName``); dates are shown ``dd/mm/yyyy``.
    """
    form = _check_form(form)
    lang = _lang(lang)
    action = _safe_action(action)
    shown: Any = data if data is not None else (autofill.data if autofill is not None else {})
    view = build_view(
        form,
        shown,
        prefilled=autofill.values if autofill is not None else None,
        errors=errors.errors if errors is not None else (),
        lang=lang,
        naming=autofill.naming if autofill is not None else NAMES,
    )
    css, js = _form_css(), _rules_js()
    csp = (
        "default-src 'none'; "
        f"style-src {_sha256_source(css)}; script-src {_sha256_source(js)}; "
        "img-src 'none'; font-src 'none'; connect-src 'none'; base-uri 'none'"
    )
    agency, _name = _procedure(form)
    template = _environment().get_template("form.html.j2")
    return template.render(
        lang=lang,
        t=_TEXT[lang],
        title=form.title.get(lang),
        template_name=form.template or "",
        recipient=agency if lang == "vi" else "",
        form_key=form.key,
        root=view.root,
        errors=view.errors,
        action=action,
        csp=csp,
        css=css,
        js=js,
    )


# -- PDF ------------------------------------------------------------------------------------


def _signer_name(form: FormDefinition, data: Any) -> str:
    for pointer in sorted(form.field_order, key=lambda p: form.field_order[p]):
        if pointer.endswith("/fullName"):
            value = pointers.get(data, pointer)
            if isinstance(value, str) and value.strip():
                return value
    return ""


def _signature_blocks(form: FormDefinition, data: Any, lang: str) -> list[dict[str, str]]:
    """The printed signature blocks, left to right: the definition's ``signers`` (each role
    with the name its field holds), else one block for the declarant."""
    if not form.signers:
        return [{"role": _TEXT[lang]["signer_role"], "name": _signer_name(form, data)}]
    blocks = []
    for block in form.signers:
        value = pointers.get(data, block.name) if block.name else None
        name = value if isinstance(value, str) else ""
        blocks.append({"role": block.role.get(lang), "name": name})
    return blocks


def _w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def paper_html(
    form: FormDefinition,
    data: Mapping[str, Any],
    *,
    autofill: AutofillResult | None = None,
    metadata: PdfMetadata | None = None,
    lang: str = "vi",
    draft: bool = False,
) -> str:
    """The HTML that :func:`render_pdf` prints (useful to inspect the paper layout).

    ``draft`` marks every page "BẢN NHÁP" (across the page and in the top margin)."""
    form = _check_form(form)
    lang = _lang(lang)
    meta = metadata or PdfMetadata()
    view: View = build_view(
        form,
        data,
        prefilled=autofill.values if autofill is not None else None,
        lang=lang,
        naming=autofill.naming if autofill is not None else NAMES,
    )
    agency, proc_name = _procedure(form)
    subject = meta.subject or (
        f"Thủ tục {form.procedure}: {proc_name}" if proc_name else form.title.get(lang)
    )
    blocks = _signature_blocks(form, data, lang)
    signer = next((b["name"] for b in blocks if b["name"]), "")
    signed = meta.signed_on
    template = _environment().get_template("paper.html.j2")
    title = meta.title or form.title.get(lang)
    return template.render(
        lang=lang,
        t=_TEXT[lang],
        title=f"{DRAFT_MARK}: {title}" if draft else title,
        heading=title,
        draft=draft,
        author=meta.author or signer,
        subject=subject,
        keywords=", ".join(
            (form.key, *(form.procedure or "",), *meta.keywords, *((DRAFT_MARK,) if draft else ()))
        ).strip(", "),
        created=_w3c(meta.created) if meta.created else "",
        template_name=form.template or "",
        recipient=meta.recipient if meta.recipient is not None else agency,
        root=view.root,
        form_key=form.key,
        place=meta.place,
        day=f"{signed.day:02d}" if signed else "",
        month=f"{signed.month:02d}" if signed else "",
        year=str(signed.year) if signed else "",
        signers=blocks,
    )


def check_pdf_renderable(
    form: FormDefinition,
    data: Mapping[str, Any],
    *,
    autofill: AutofillResult | None = None,
    metadata: PdfMetadata | None = None,
    lang: str = "vi",
) -> None:
    """Everything :func:`render_pdf` needs, checked without printing (milliseconds, not
    seconds): the arguments, the data as JSON, the page's HTML, the fonts and WeasyPrint.
    Raises :class:`RenderError`. :func:`eforms.submit` runs it before taking a code."""
    form = _check_form(form)
    if not isinstance(data, Mapping):
        raise RenderError("data must be a JSON object")
    try:
        json.dumps(data, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError, RecursionError) as exc:
        raise RenderError(f"data is not JSON-serialisable: {exc}") from exc
    paper_html(form, data, autofill=autofill, metadata=metadata, lang=lang)
    font_files()
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        raise RenderError(f"WeasyPrint is not usable: {exc}") from exc


def render_pdf(
    form: FormDefinition,
    data: Mapping[str, Any],
    *,
    autofill: AutofillResult | None = None,
    attachments: Sequence[PdfAttachment] = (),
    metadata: PdfMetadata | None = None,
    lang: str = "vi",
    url_fetcher: Any = None,
    draft: bool = False,
    today: date | None = None,
) -> bytes:
    """The paper form as PDF/A-3b bytes, with the data attached as ``<form id>.json``.

    The data is validated first (:func:`eforms.validate`, with ``autofill``'s locked values
    and ``today`` for the sanity rules): invalid data raises
    :class:`~eforms.errors.FormValidationError` with every error, unless ``draft`` is set;
    a draft is printed as it is, marked "BẢN NHÁP" on every page and in its title. What is
    printed and attached is the validated, normalised data.

    The JSON is attached with ``AFRelationship /Data`` (it is what the pages show);
    ``attachments`` are added after it. ``url_fetcher`` defaults to :func:`AssetFetcher`;
    a replacement must refuse the network and the file system too.
    """
    form = _check_form(form)
    if not isinstance(data, Mapping):
        raise RenderError("data must be a JSON object")
    report = validate(
        form, data, prefilled=autofill.values if autofill is not None else None, today=today
    )
    if not report.ok and not draft:
        raise FormValidationError(report.errors)
    if isinstance(report.data, Mapping):
        data = report.data
    try:
        payload = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise RenderError(f"data is not JSON-serialisable: {exc}") from exc
    meta = metadata or PdfMetadata()
    html = paper_html(form, data, autofill=autofill, metadata=meta, lang=lang, draft=draft)
    try:
        from weasyprint import CSS, HTML, Attachment
        from weasyprint.text.fonts import FontConfiguration
    except (ImportError, OSError) as exc:
        raise RenderError(f"WeasyPrint is not usable: {exc}") from exc

    fetcher = url_fetcher if url_fetcher is not None else AssetFetcher()
    fonts = FontConfiguration()
    stylesheets = [
        CSS(string=_font_face_css(), font_config=fonts, url_fetcher=fetcher),
        CSS(string=_paper_css(), font_config=fonts, url_fetcher=fetcher),
    ]
    stamp = (meta.created or datetime(2000, 1, 1, tzinfo=UTC)).astimezone(UTC)
    files = [
        PdfAttachment(f"{form.id}.json", payload, f"Dữ liệu tờ khai {form.key} (JSON)", "Data"),
        *attachments,
    ]
    pdf_attachments = [
        Attachment(
            string=a.content,
            name=a.name,
            description=a.description,
            relationship=a.relationship,
            created=stamp,
            modified=stamp,
            url_fetcher=fetcher,
        )
        for a in files
    ]
    document = HTML(string=html, url_fetcher=fetcher, base_url=ASSET_SCHEME)
    with warnings.catch_warnings():
        # WeasyPrint 70 opens its bundled sRGB profile for the PDF/A output intent and leaves
        # the file to the garbage collector; that warning is WeasyPrint's, not the caller's.
        warnings.filterwarnings("ignore", r".*sRGB2014\.icc", ResourceWarning)
        pdf: bytes = document.write_pdf(
            stylesheets=stylesheets,
            font_config=fonts,
            pdf_variant="pdf/a-3b",
            attachments=pdf_attachments,
        )
    return pdf
