"""The auditor's report: HTML (to read) and PDF (to file), from :class:`DocumentReport` s.

Everything that comes from a document (its path, the signer's name, a certificate's
subject, a field name...) is untrusted: the templates are rendered by jinja2 with
autoescaping on, and values are never placed in CSS, URLs or attributes other than plain
text. The HTML carries a Content-Security-Policy that forbids loading anything.

The PDF is printed by WeasyPrint with a URL fetcher that refuses every URL except the
bundled font (``hoso-asset:`` URLs): rendering never touches the network or the file
system beyond that font. The font is Be Vietnam Pro from the ``fontpkg-be-vietnam-pro``
package: static faces that cover Vietnamese. (Noto Sans from ``fontpkg-noto-sans`` was tried
first: its variable font renders well, but WeasyPrint's text layer then maps "i" and "ị" to
one glyph, so "Thị" is extracted as "Thi ị" and search in the PDF fails.) Without it, the
system's DejaVu Sans (Debian ``fonts-dejavu-core``) is embedded.
"""

from __future__ import annotations

import os
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from verify.report import (
    REPORT_SCHEMA_VERSION,
    DocumentReport,
    Indication,
    SignatureReport,
    vn_time,
)

__all__ = [
    "ASSET_SCHEME",
    "AssetFetcher",
    "font_file",
    "font_files",
    "render_html",
    "render_pdf",
]

ASSET_SCHEME = "hoso-asset:"
"""The only URLs the PDF renderer may fetch: bundled assets, by name."""

DEFAULT_TITLE = "Báo cáo kiểm tra chữ ký số / Digital signature verification report"

INDICATION_VI = {
    "TOTAL_PASSED": "Hợp lệ",
    "TOTAL_FAILED": "Không hợp lệ",
    "INDETERMINATE": "Chưa xác định được",
}
INDICATION_EN = {
    "TOTAL_PASSED": "Passed",
    "TOTAL_FAILED": "Failed",
    "INDETERMINATE": "Indeterminate",
}
_TEMPLATES = Path(__file__).resolve().parent / "templates"
_DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


# -- fonts and the URL fetcher ------------------------------------------------------------


_FACES = ((400, "normal"), (600, "normal"), (700, "normal"), (400, "italic"))


@cache
def font_files() -> dict[str, tuple[Path, int, str]]:
    """The font faces embedded in PDF reports: asset name -> (file, weight, style).

    Be Vietnam Pro (static faces, OFL) from the ``fontpkg-be-vietnam-pro`` package; if it
    is missing, DejaVu Sans from the system (Debian ``fonts-dejavu-core``); else none, and
    the system's fonts are used as they are.
    """
    faces: dict[str, tuple[Path, int, str]] = {}
    try:
        import fontpkg

        for weight, style in _FACES:
            path = Path(fontpkg.path("Be Vietnam Pro", weight=weight, style=style))
            if path.is_file():
                faces[f"font/report-{weight}-{style}.ttf"] = (path, weight, style)
    except Exception:  # noqa: BLE001 - fontpkg missing or the family not installed
        faces = {}
    if not faces and _DEJAVU.is_file():
        faces["font/report-400-normal.ttf"] = (_DEJAVU, 400, "normal")
        bold = _DEJAVU.with_name("DejaVuSans-Bold.ttf")
        if bold.is_file():
            faces["font/report-700-normal.ttf"] = (bold, 700, "normal")
    return faces


def font_file() -> Path | None:
    """The regular face embedded in PDF reports, or ``None`` (system fonts only)."""
    regular = font_files().get("font/report-400-normal.ttf")
    return regular[0] if regular else None


def _assets() -> dict[str, tuple[Path, str]]:
    return {name: (path, "font/ttf") for name, (path, _w, _s) in font_files().items()}


def _font_face_css() -> str:
    return "".join(
        "@font-face { font-family: 'Hoso Report'; "
        f"src: url('{ASSET_SCHEME}{name}'); font-weight: {weight}; font-style: {style}; }}\n"
        for name, (_path, weight, style) in font_files().items()
    )


def _fetcher_class() -> type[Any]:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class _AssetFetcher(URLFetcher):  # type: ignore[misc]
        """Serves bundled assets by ``hoso-asset:`` URL; refuses every other URL."""

        def __init__(self, record: Callable[[str], None] | None = None) -> None:
            super().__init__(allowed_protocols=())
            self.refused: list[str] = []
            self._record = record

        def fetch(self, url: str, headers: Any = None) -> Any:
            assets = _assets()
            if url.startswith(ASSET_SCHEME):
                name = url[len(ASSET_SCHEME) :]
                if name in assets:
                    path, mime = assets[name]
                    return URLFetcherResponse(
                        url, path.read_bytes(), {"Content-Type": mime}, status=200
                    )
            self.refused.append(url)
            if self._record is not None:
                self._record(url)
            raise ValueError(f"refused to fetch {url!r}: reports load bundled assets only")

        def open(self, url: Any, data: Any = None, timeout: Any = None) -> Any:
            full = getattr(url, "full_url", url)
            return self.fetch(str(full))

    return _AssetFetcher


def AssetFetcher(record: Callable[[str], None] | None = None) -> Any:
    """A WeasyPrint URL fetcher that serves only bundled assets (see :data:`ASSET_SCHEME`).

    ``record`` is called with every refused URL (tests use it to prove nothing else was
    asked for).
    """
    return _fetcher_class()(record)


# -- the view model -----------------------------------------------------------------------


def _nfc(value: object) -> str:
    return unicodedata.normalize("NFC", str(value))


def _time(value: datetime | None) -> str:
    return "—" if value is None else vn_time(value)


def _signer_names(report: DocumentReport) -> list[str]:
    names: list[str] = []
    for sig in report.signatures:
        name = (sig.signer or {}).get("name")
        if name and _nfc(name) not in names:
            names.append(_nfc(name))
    return names


def _signing_time(report: DocumentReport) -> str:
    times = []
    for sig in report.signatures:
        moment = sig.signing_time_proven or sig.signing_time_claimed
        if moment is not None:
            suffix = " (TSA)" if sig.signing_time_proven else ""
            times.append(vn_time(moment) + suffix)
    return "; ".join(dict.fromkeys(times)) or "—"


def _signature_view(sig: SignatureReport) -> dict[str, Any]:
    data = sig.to_dict()
    signer = sig.signer or {}
    identifiers = [
        f"{str(i.get('scheme', '')).upper()} {i.get('value', '')}".strip()
        for i in (signer.get("identifiers") or [])
        if isinstance(i, dict)
    ]
    return {
        "data": data,
        "number": sig.index + 1,
        "display_vi": sig.circular15_vi() if sig.kind != "document_timestamp" else None,
        "signer_name": _nfc(signer.get("name") or "—"),
        "identifiers": identifiers,
        "claimed": _time(sig.signing_time_claimed),
        "proven": _time(sig.signing_time_proven),
        "validated_at": _time(sig.validated_at),
        "timestamps": [{**t.to_dict(), "time_vn": _time(t.time)} for t in sig.timestamps],
        "chain": [
            {
                **c.to_dict(),
                "not_before_vn": _time(c.not_before),
                "not_after_vn": _time(c.not_after),
            }
            for c in sig.chain
        ],
        "revocation": sig.revocation.to_dict() if sig.revocation else None,
        "revoked_at": _time(sig.revocation.revoked_at) if sig.revocation else "—",
    }


def _document_view(number: int, report: DocumentReport) -> dict[str, Any]:
    ind = report.indication.value
    return {
        "anchor": f"doc-{number}",
        "number": number,
        "path": _nfc(report.path or "<bytes>"),
        "detached": _nfc(report.detached_signature) if report.detached_signature else None,
        "indication": ind,
        "indication_vi": INDICATION_VI[ind],
        "indication_en": INDICATION_EN[ind],
        "css": ind.lower().replace("_", "-"),
        "sub": report.sub_indication.value if report.sub_indication else None,
        "message_vi": report.message_vi,
        "message_en": report.message_en,
        "signers": _signer_names(report),
        "signing_time": _signing_time(report),
        "sha256": report.sha256,
        "size": report.size,
        "format": report.format,
        "validation_time": _time(report.validation_time),
        "warnings": list(report.warnings),
        "signatures": [_signature_view(s) for s in report.signatures],
    }


def _context(
    reports: Sequence[DocumentReport],
    *,
    title: str,
    generated_at: datetime,
    settings: Iterable[tuple[str, str]],
    for_pdf: bool,
) -> dict[str, Any]:
    counts = Counter(r.indication.value for r in reports)
    return {
        "title": title,
        "generated_at": vn_time(generated_at),
        "generated_at_iso": generated_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "schema_version": REPORT_SCHEMA_VERSION,
        "settings": list(settings),
        "total": len(reports),
        "counts": [
            {
                "indication": ind.value,
                "vi": INDICATION_VI[ind.value],
                "en": INDICATION_EN[ind.value],
                "css": ind.value.lower().replace("_", "-"),
                "count": counts.get(ind.value, 0),
            }
            for ind in (Indication.TOTAL_PASSED, Indication.TOTAL_FAILED, Indication.INDETERMINATE)
        ],
        "documents": [_document_view(n, r) for n, r in enumerate(reports, start=1)],
        "for_pdf": for_pdf,
        "css": _stylesheet(),
    }


# -- templates ----------------------------------------------------------------------------


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,  # every value from a document is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["nfc"] = _nfc
    return env


@cache
def _stylesheet() -> str:
    return (_TEMPLATES / "report.css").read_text(encoding="utf-8")


def render_html(
    reports: Iterable[DocumentReport],
    *,
    title: str = DEFAULT_TITLE,
    generated_at: datetime | None = None,
    settings: Iterable[tuple[str, str]] = (),
    _for_pdf: bool = False,
) -> str:
    """The report as one self-contained HTML page (inline CSS, loads nothing).

    ``settings`` are (label, value) rows shown under the title: the trust profile,
    revocation mode, validation time... as the caller ran them.
    """
    moment = generated_at or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    template = _environment().get_template("report.html.j2")
    return template.render(
        _context(
            list(reports), title=title, generated_at=moment, settings=settings, for_pdf=_for_pdf
        )
    )


def render_pdf(
    reports: Iterable[DocumentReport],
    path: str | os.PathLike[str] | None = None,
    *,
    title: str = DEFAULT_TITLE,
    generated_at: datetime | None = None,
    settings: Iterable[tuple[str, str]] = (),
    url_fetcher: Any = None,
) -> bytes:
    """The report as PDF bytes, also written to ``path`` when given.

    Needs WeasyPrint (and its system libraries, Pango). ``url_fetcher`` defaults to
    :func:`AssetFetcher`; a replacement must refuse the network too.
    """
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    html = render_html(
        reports, title=title, generated_at=generated_at, settings=settings, _for_pdf=True
    )
    fetcher = url_fetcher if url_fetcher is not None else AssetFetcher()
    fonts = FontConfiguration()
    font_css = CSS(string=_font_face_css(), font_config=fonts, url_fetcher=fetcher)
    document = HTML(string=html, url_fetcher=fetcher, base_url=ASSET_SCHEME)
    pdf: bytes = document.write_pdf(stylesheets=[font_css], font_config=fonts)
    if path is not None:
        Path(path).write_bytes(pdf)
    return pdf
