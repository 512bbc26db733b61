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

import importlib.metadata
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from verify import labels
from verify.policy import AlgorithmRules, ValidationPolicy
from verify.report import (
    REPORT_SCHEMA_VERSION,
    DocumentReport,
    Indication,
    SignatureReport,
    vn_time,
)
from verify.trust import TrustProfile, bundled_trust_version

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

INDICATION_VI = {i.value: labels.indication(i.value).vi for i in Indication}
INDICATION_EN = {i.value: labels.indication(i.value).en for i in Indication}
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


def _pair(label: labels.Label) -> dict[str, str]:
    return {"vi": _nfc(label.vi), "en": _nfc(label.en)}


def _said(text: str) -> str:
    """A sentence of the report (a verdict's reason, a warning), times written the
    Vietnamese way and certificate names in short form."""
    return _nfc(labels.names_in(labels.vn_times_in(text)))


def _said_pair(label: labels.Label) -> dict[str, str]:
    return {"vi": _said(label.vi), "en": _said(label.en)}


def _time(value: datetime | None) -> str:
    return "—" if value is None else vn_time(value)


def _indication(value: str) -> dict[str, str]:
    label = labels.indication(value)
    return {
        "code": value,
        "vi": label.vi,
        "en": label.en,
        "css": value.lower().replace("_", "-"),
    }


def _sub(value: object) -> dict[str, str] | None:
    if value is None:
        return None
    return {"code": str(value), **_pair(labels.sub_indication(value))}


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
            suffix = " (dấu thời gian / TSA)" if sig.signing_time_proven else ""
            times.append(vn_time(moment) + suffix)
    return "; ".join(dict.fromkeys(times)) or "—"


def _identifier(item: dict[str, Any]) -> str:
    scheme = str(item.get("scheme", "")).upper()
    if scheme in ("", "UNKNOWN"):
        scheme = "ID"
    return f"{scheme} {item.get('value', '')}".strip()


def _revocation_view(sig: SignatureReport) -> dict[str, Any] | None:
    rev = sig.revocation
    if rev is None:
        return None
    note = labels.revocation_note(rev.note)
    return {
        "mode": _pair(labels.revocation_mode(rev.mode)),
        "checked": rev.checked,
        "sources": [_pair(labels.revocation_source(s)) for s in rev.sources],
        "revoked_at": _time(rev.revoked_at) if rev.revoked_at else None,
        "note": _pair(note) if rev.note else None,
    }


def _signature_view(sig: SignatureReport) -> dict[str, Any]:
    signer = sig.signer or {}
    identifiers = [_identifier(i) for i in (signer.get("identifiers") or []) if isinstance(i, dict)]
    covers = ", ".join(_nfc(c) for c in sig.covers)
    coverage = labels.coverage(sig.coverage) if sig.coverage else None
    return {
        "number": sig.index + 1,
        "is_timestamp": sig.kind == "document_timestamp",
        "field_name": _nfc(sig.field_name) if sig.field_name else None,
        "indication": _indication(sig.indication.value),
        "sub": _sub(sig.sub_indication.value if sig.sub_indication else None),
        "message_vi": _said(sig.message_vi),
        "message_en": _said(sig.message_en),
        "display_vi": sig.circular15_vi() if sig.kind != "document_timestamp" else None,
        "signer_name": _nfc(signer.get("name") or "—"),
        "signer_kind": _pair(labels.signer_kind(signer["kind"])) if signer.get("kind") else None,
        "organisation": _nfc(signer["organisation"]) if signer.get("organisation") else None,
        "identifiers": identifiers,
        "role": _pair(labels.xml_role(sig.role)) if sig.role else None,
        "hierarchy": _pair(labels.hierarchy(sig.trust_anchor_profile)) if sig.chain else None,
        "level": _pair(labels.level(sig.level)) if sig.level else None,
        "sub_filter": _nfc(sig.sub_filter) if sig.sub_filter else None,
        "claimed": _time(sig.signing_time_claimed),
        "proven": _time(sig.signing_time_proven),
        "validated_at": _time(sig.validated_at),
        "integrity": sig.integrity,
        "coverage": _pair(coverage) if coverage else None,
        "covers": covers,
        "modifications": _pair(labels.modifications(sig.modifications))
        if sig.modifications
        else None,
        "certification": _pair(labels.certification(sig.certification))
        if sig.certification
        else None,
        "xml_reading": _pair(labels.xml_reading(sig.xml_reading)) if sig.xml_reading else None,
        "renewal": {"vi": _said(sig.renewal["message_vi"]), "en": _said(sig.renewal["message_en"])}
        if sig.renewal
        else None,
        "algorithms": " · ".join(a for a in (sig.digest_algorithm, sig.signature_algorithm) if a)
        or "—",
        "revocation": _revocation_view(sig),
        "timestamps": [
            {
                "kind": _pair(labels.timestamp_kind(t.kind)),
                "time": _time(t.time),
                "tsa": _nfc(t.tsa) if t.tsa else "—",
                "indication": _indication(t.indication.value),
                "sub": _sub(t.sub_indication.value if t.sub_indication else None),
                "result": _said_pair(
                    labels.timestamp_result(
                        t.message_en, t.sub_indication.value if t.sub_indication else None
                    )
                ),
            }
            for t in sig.timestamps
        ],
        "chain": [
            {
                "subject": _nfc(labels.distinguished_name(c.subject)),
                "issuer": _nfc(labels.distinguished_name(c.issuer)),
                "not_before": _time(c.not_before),
                "not_after": _time(c.not_after),
                "serial_number": c.serial_number,
                "sha256": c.sha256,
            }
            for c in sig.chain
        ],
        "warnings": [_said_pair(labels.warning(w)) for w in sig.warnings],
        "constraint_blocks": _constraint_blocks(sig),
    }


# ETSI EN 319 102-1's building blocks, in the order the validation process runs them
_BLOCK_ORDER = ("FC", "ISC", "VCI", "XCV", "CV", "SAV", "POE", "PSV")


def _constraint_blocks(sig: SignatureReport) -> list[dict[str, Any]]:
    """The applicable constraints, grouped by building block in the process's order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in sig.constraints:
        if c.status == "not_applicable":
            continue
        groups.setdefault(c.block, []).append(
            {
                "id": c.id,
                "css": c.status,
                "text": _said_pair(labels.constraint_text(c.id, c.message_vi, c.message_en)),
                "level": {"code": c.level, **_pair(labels.constraint_level(c.level))},
                "status": _pair(labels.constraint_status(c.status)),
            }
        )

    def rank(code: str) -> int:
        return _BLOCK_ORDER.index(code) if code in _BLOCK_ORDER else len(_BLOCK_ORDER)

    return [
        {"code": code, **_pair(labels.block(code)), "constraints": groups[code]}
        for code in sorted(groups, key=rank)
    ]


def _fact_row(name: labels.Label, shown: labels.Label) -> dict[str, str]:
    return {
        "vi": name.vi,
        "en": name.en,
        "value": _nfc(shown.vi),
        "value_en": _nfc(shown.en) if shown.en != shown.vi else "",
    }


def _facts_view(report: DocumentReport) -> dict[str, Any] | None:
    """What a document says beyond its signatures: an e-invoice's signed facts, or a hoso
    dossier's manifest (code, procedure, declarant, its files and whether each matches)."""
    if not report.facts:
        return None
    facts = report.facts
    if report.format == "dossier":
        rows = [
            _fact_row(*labels.dossier_fact(key, value))
            for key, value in facts.items()
            if key != "parts"
        ]
        parts = [
            {
                "path": _nfc(part.get("path", "")),
                "role": _pair(labels.part_role(part.get("role"))),
                "size": labels.vn_number(part["size"])
                if isinstance(part.get("size"), int)
                else "—",
                "status": _pair(labels.part_status(part.get("status"))),
                "css": "failed" if part.get("status") in ("changed", "missing") else "",
            }
            for part in facts.get("parts") or []
            if isinstance(part, dict)
        ]
        return {
            "vi": "Hồ sơ theo manifest.json",
            "en": "Dossier, as its manifest.json lists it",
            "rows": rows,
            "parts": parts,
        }
    return {
        "vi": "Nội dung hóa đơn điện tử (từ phần đã ký)",
        "en": "E-invoice (from the signed part)",
        "rows": [_fact_row(*labels.invoice_fact(key, value)) for key, value in facts.items()],
        "parts": [],
    }


def _document_view(number: int, report: DocumentReport) -> dict[str, Any]:
    ind = _indication(report.indication.value)
    return {
        "anchor": f"doc-{number}",
        "number": number,
        "path": _nfc(report.path or "<bytes>"),
        "detached": _nfc(report.detached_signature) if report.detached_signature else None,
        "indication": ind,
        "css": ind["css"],
        "sub": _sub(report.sub_indication.value if report.sub_indication else None),
        "message_vi": _said(report.message_vi),
        "message_en": _said(report.message_en),
        "signers": _signer_names(report),
        "signing_time": _signing_time(report),
        "sha256": report.sha256,
        "size": labels.vn_number(report.size),
        "format": _pair(labels.document_format(report.format)),
        "validation_time": _time(report.validation_time),
        "warnings": [_said_pair(labels.warning(w)) for w in report.warnings],
        "facts": _facts_view(report),
        "signatures": [_signature_view(s) for s in report.signatures],
    }


# -- the header: what was run, with what --------------------------------------------------


@dataclass
class _Row:
    vi: str
    en: str
    value: str
    value_en: str = ""


_ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_LABELS = {
    "software": labels.Label("Phần mềm", "Software"),
    "trust_data": labels.Label("Dữ liệu tin cậy đóng gói", "Bundled trust data"),
    "trust_profile": labels.Label("Bộ chứng thư tin cậy", "Trust profile"),
    "policy": labels.Label("Chính sách kiểm tra", "Validation policy"),
    "validation_time": labels.Label("Thời điểm kiểm tra", "Validation time"),
    "revocation": labels.Label("Kiểm tra thu hồi", "Revocation checking"),
    "network": labels.Label("Mạng", "Network"),
    "evidence": labels.Label("Bằng chứng đã dùng", "Evidence used"),
    "max_size": labels.Label("Giới hạn kích thước tệp", "File size limit"),
    "generated": labels.Label("Lập báo cáo lúc", "Report made at"),
}
# a caller's (label, value) setting -> the header row it stands for, by its label's words
_SETTING_KEYS = (
    (("thời điểm kiểm tra", "validation time"), "validation_time"),
    (("hồ sơ tin cậy", "bộ chứng thư tin cậy", "trust profile", "trust"), "trust_profile"),
    (("kiểm tra thu hồi", "thu hồi", "revocation"), "revocation"),
    (("mạng", "network"), "network"),
    (("chính sách", "policy"), "policy"),
    (("bằng chứng", "evidence"), "evidence"),
    (("giới hạn kích thước tệp", "file size limit"), "max_size"),
)


def _setting_key(label: str) -> str | None:
    parts = [p.strip().lower() for p in label.split("/")]
    for words, key in _SETTING_KEYS:
        if any(p in words for p in parts):
            return key
    return None


def _hoso_version() -> str:
    try:
        return importlib.metadata.version("hoso")
    except importlib.metadata.PackageNotFoundError:
        return "không rõ / unknown"


def _when(moment: datetime, *, now: bool) -> _Row:
    label = _LABELS["validation_time"]
    if now:
        return _Row(label.vi, label.en, f"{vn_time(moment)} — lúc chạy kiểm tra", "time of the run")
    return _Row(
        label.vi, label.en, f"{vn_time(moment)} — do người kiểm tra chọn", "chosen by the auditor"
    )


def _validation_time_row(
    reports: Sequence[DocumentReport], value: str | None, policy: ValidationPolicy | None
) -> _Row:
    """The validation time: the policy's, or the one the caller's settings name, or the
    documents' own; and whether it was the time of the run ("now") or chosen."""
    label = _LABELS["validation_time"]
    now: bool | None = None
    moment: datetime | None = None
    if policy is not None:
        if policy.validation_time is not None:
            return _when(policy.validation_time, now=False)
        now = True
    elif value is not None:
        now = value.strip().lower().startswith("now")
    if value is not None:
        found = _ISO_TIME.search(value)
        if found is not None:
            try:
                moment = datetime.fromisoformat(found.group(0).replace(" ", "T"))
            except ValueError:
                moment = None
            if moment is not None and moment.tzinfo is None:
                moment = None
        if moment is None and policy is None:
            return _Row(label.vi, label.en, _nfc(value))
    if moment is None:
        times = sorted({r.validation_time for r in reports if r.validation_time is not None})
        if len(times) > 1:
            return _Row(
                label.vi,
                label.en,
                f"từ {vn_time(times[0])} đến {vn_time(times[-1])}",
                "from the first document to the last",
            )
        moment = times[0] if times else None
    if moment is None:
        return _Row(label.vi, label.en, "—")
    if now is None:
        return _Row(label.vi, label.en, vn_time(moment))
    return _when(moment, now=now)


def _trust_profile_row(value: str | None, trust: TrustProfile | None) -> _Row:
    label = _LABELS["trust_profile"]
    if trust is not None:
        name, count = trust.name, str(len(trust.anchors))
    elif value is not None:
        match = re.fullmatch(r"\s*([\w-]+)\s*(?:\((\d+) anchors?\))?\s*", value)
        if match is None:
            return _Row(label.vi, label.en, _nfc(value))
        name, count = match.group(1), match.group(2) or ""
    else:
        return _Row(label.vi, label.en, "—")
    shown = labels.trust_profile(name)
    vi, en = shown.vi, shown.en
    if count:
        vi += f" · {count} chứng thư gốc"
        en += f" · {count} anchors"
    return _Row(label.vi, label.en, vi, en)


def _policy_row(name: str | None, policy: ValidationPolicy | None) -> _Row:
    label = _LABELS["policy"]
    if name:
        return _Row(label.vi, label.en, _nfc(name))
    if policy is not None and (policy.constraints or policy.algorithms != AlgorithmRules()):
        return _Row(
            label.vi, label.en, "tùy chỉnh (đặt trong chương trình)", "custom (set in code)"
        )
    return _Row(label.vi, label.en, "mặc định", "default")


def _header_rows(
    reports: Sequence[DocumentReport],
    settings: Iterable[tuple[str, str]],
    *,
    policy_name: str | None,
    policy: ValidationPolicy | None,
    trust: TrustProfile | None,
    generated_at: datetime,
) -> list[_Row]:
    given: dict[str, str] = {}
    extra: list[_Row] = []
    for label_text, value in settings:
        key = _setting_key(str(label_text))
        if key is None:
            vi, _, en = str(label_text).partition(" / ")
            value_vi, _, value_en = str(value).partition(" / ")
            extra.append(_Row(_nfc(vi), _nfc(en), _said(value_vi), _said(value_en)))
        else:
            given[key] = str(value)
    data = bundled_trust_version()
    software = _LABELS["software"]
    trust_data = _LABELS["trust_data"]
    dated = labels.vn_date(data.date.isoformat())
    if data.declared:
        data_vi = f"phiên bản {data.version}, ngày {dated}"
        data_en = f"version, dated {dated}"
    else:
        data_vi = f"phiên bản {data.version} · chứng thư mới nhất ngày {dated}"
        data_en = f"version · newest certificate dated {dated}"
    data_vi += f" · {labels.vn_number(data.certificates)} chứng thư"
    data_en += f" · {data.certificates} certificates"
    rows = [
        _Row(software.vi, software.en, f"hoso {_hoso_version()}"),
        _Row(trust_data.vi, trust_data.en, data_vi, data_en),
        _trust_profile_row(given.get("trust_profile"), trust),
        _policy_row(policy_name or given.get("policy"), policy),
        _validation_time_row(reports, given.get("validation_time"), policy),
    ]
    revocation = _LABELS["revocation"]
    mode = policy.revocation.value if policy is not None else given.get("revocation")
    if mode is not None:
        shown = labels.revocation_mode(mode.strip().lower())
        rows.append(_Row(revocation.vi, revocation.en, shown.vi, shown.en))
    network = _LABELS["network"]
    if policy is not None:
        online: bool | None = policy.network
    elif "network" in given:
        online = not given["network"].strip().lower().startswith("offline")
    else:
        online = None
    if online is not None:
        shown = labels.network(online)
        rows.append(_Row(network.vi, network.en, shown.vi, shown.en))
    if "evidence" in given:
        evidence = _LABELS["evidence"]
        rows.append(_Row(evidence.vi, evidence.en, _nfc(given["evidence"])))
    if "max_size" in given:
        limit = _LABELS["max_size"]
        found = re.fullmatch(r"\s*(\d+)\s*(?:bytes?)?\s*", given["max_size"])
        size = f"{labels.vn_number(int(found.group(1)))} byte" if found else given["max_size"]
        rows.append(_Row(limit.vi, limit.en, _nfc(size)))
    rows.extend(extra)
    made = _LABELS["generated"]
    rows.append(_Row(made.vi, made.en, vn_time(generated_at)))
    return rows


def _context(
    reports: Sequence[DocumentReport],
    *,
    title: str,
    generated_at: datetime,
    settings: Iterable[tuple[str, str]],
    policy_name: str | None,
    policy: ValidationPolicy | None,
    trust: TrustProfile | None,
    auditor: str | None,
    unit: str | None,
    for_pdf: bool,
) -> dict[str, Any]:
    counts = Counter(r.indication.value for r in reports)
    order = [i.value for i in (Indication.TOTAL_PASSED, Indication.TOTAL_FAILED)]
    order.append(Indication.INDETERMINATE.value)
    # a status beyond ETSI's three (a file that is not a signed document) only when present
    order += [i.value for i in Indication if i.value not in order and counts.get(i.value)]
    return {
        "title": title,
        "generated_at": vn_time(generated_at),
        "generated_at_iso": generated_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "schema_version": REPORT_SCHEMA_VERSION,
        "hoso_version": _hoso_version(),
        "header": _header_rows(
            reports,
            settings,
            policy_name=policy_name,
            policy=policy,
            trust=trust,
            generated_at=generated_at,
        ),
        "total": len(reports),
        "counts": [{**_indication(ind), "count": counts.get(ind, 0)} for ind in order],
        "documents": [_document_view(n, r) for n, r in enumerate(reports, start=1)],
        "signoff": {
            "auditor": _nfc(auditor) if auditor else "",
            "unit": _nfc(unit) if unit else "",
        },
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
    env.filters["breakable"] = _breakable
    return env


def _breakable(value: object, for_pdf: bool = True) -> Markup:
    """Escaped text; for the PDF, with line-break opportunities after ``/``, ``\\`` and
    ``_``, so that paths and codes wrap at their separators, never inside a word. (The HTML
    keeps the text as it is, for search; a browser wraps what does not fit.)"""
    text = str(escape(_nfc(value)))
    if for_pdf:
        text = re.sub(r"([/\\_])", r"\1<wbr>", text)
    return Markup(text)  # noqa: S704 - escaped above


@cache
def _stylesheet() -> str:
    return (_TEMPLATES / "report.css").read_text(encoding="utf-8")


def render_html(
    reports: Iterable[DocumentReport],
    *,
    title: str = DEFAULT_TITLE,
    generated_at: datetime | None = None,
    settings: Iterable[tuple[str, str]] = (),
    policy_name: str | None = None,
    policy: ValidationPolicy | None = None,
    trust: TrustProfile | None = None,
    auditor: str | None = None,
    unit: str | None = None,
    _for_pdf: bool = False,
) -> str:
    """The report as one self-contained HTML page (inline CSS, loads nothing).

    The header names the hoso version, the bundled trust data's version and date
    (:func:`verify.trust.bundled_trust_version`), the trust profile, the validation policy,
    the validation time, the revocation mode and the network as the caller ran them:

    - ``policy_name``: the policy file's name (default: "mặc định / default");
    - ``policy`` and ``trust``: the :class:`ValidationPolicy` and :class:`TrustProfile` used
      (validation time, revocation mode, network; profile and its number of anchors);
    - ``settings``: (label, value) rows. Rows the header already has (validation time,
      trust profile, revocation, network, policy, evidence; recognised by their label, in
      Vietnamese or English) are translated into it, ``policy`` and ``trust`` winning;
      other rows are shown as given.

    ``auditor`` and ``unit`` fill in the sign-off block at the end (blank lines otherwise).
    """
    moment = generated_at or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    template = _environment().get_template("report.html.j2")
    return template.render(
        _context(
            list(reports),
            title=title,
            generated_at=moment,
            settings=settings,
            policy_name=policy_name,
            policy=policy,
            trust=trust,
            auditor=auditor,
            unit=unit,
            for_pdf=_for_pdf,
        )
    )


def render_pdf(
    reports: Iterable[DocumentReport],
    path: str | os.PathLike[str] | None = None,
    *,
    title: str = DEFAULT_TITLE,
    generated_at: datetime | None = None,
    settings: Iterable[tuple[str, str]] = (),
    policy_name: str | None = None,
    policy: ValidationPolicy | None = None,
    trust: TrustProfile | None = None,
    auditor: str | None = None,
    unit: str | None = None,
    url_fetcher: Any = None,
) -> bytes:
    """The report as PDF bytes, also written to ``path`` when given.

    The same page as :func:`render_html` (same arguments), printed on A4. Needs WeasyPrint
    (and its system libraries, Pango). ``url_fetcher`` defaults to :func:`AssetFetcher`; a
    replacement must refuse the network too.
    """
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    html = render_html(
        reports,
        title=title,
        generated_at=generated_at,
        settings=settings,
        policy_name=policy_name,
        policy=policy,
        trust=trust,
        auditor=auditor,
        unit=unit,
        _for_pdf=True,
    )
    fetcher = url_fetcher if url_fetcher is not None else AssetFetcher()
    fonts = FontConfiguration()
    font_css = CSS(string=_font_face_css(), font_config=fonts, url_fetcher=fetcher)
    document = HTML(string=html, url_fetcher=fetcher, base_url=ASSET_SCHEME)
    pdf: bytes = document.write_pdf(stylesheets=[font_css], font_config=fonts)
    if path is not None:
        Path(path).write_bytes(pdf)
    return pdf
