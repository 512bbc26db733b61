"""What a report's values say to a reader: Vietnamese first, English beside it.

Reports (:mod:`verify.report`) keep machine values: ETSI indications, pyHanko's coverage
and modification levels, signer kinds, revocation modes, constraint blocks and levels.
The auditor's HTML and PDF (:mod:`verify.render`) show each through this module as a
(Vietnamese, English) pair, with numbers and times written as Vietnamese readers write
them (``222.560 byte``, ``31/05/2026 16:00:00 (GMT+7)``).

Warnings are sentences made by the readers of each format, mostly in English; :func:`warning`
gives each known one its Vietnamese text and keeps the English beside it. A warning this
module does not know is shown as it is, marked untranslated, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from verify.policy import CONSTRAINTS
from verify.report import vn_time

__all__ = [
    "UNTRANSLATED_VI",
    "Label",
    "block",
    "certification",
    "constraint_level",
    "constraint_status",
    "coverage",
    "distinguished_name",
    "document_format",
    "dossier_fact",
    "hierarchy",
    "indication",
    "invoice_fact",
    "level",
    "modifications",
    "names_in",
    "network",
    "part_role",
    "part_status",
    "revocation_mode",
    "revocation_note",
    "revocation_source",
    "signer_kind",
    "sub_indication",
    "time_or_dash",
    "timestamp_kind",
    "timestamp_result",
    "trust_profile",
    "vn_amount",
    "vn_date",
    "vn_number",
    "vn_time",
    "vn_times_in",
    "warning",
    "xml_reading",
    "xml_role",
]


class Label(NamedTuple):
    """A value as the report shows it: the Vietnamese text and the English beside it."""

    vi: str
    en: str


UNTRANSLATED_VI = "chưa có bản tiếng Việt"
"""Shown before a warning this module does not know (its English is kept as it is)."""


def _lookup(table: Mapping[str, Label], value: object, *, unknown: Label | None = None) -> Label:
    if value is None:
        return Label("—", "—")
    key = str(value)
    found = table.get(key)
    if found is not None:
        return found
    if unknown is not None:
        return unknown
    return Label(key, key)


# -- numbers and times ------------------------------------------------------------------------


def vn_number(value: int | float | Decimal | str) -> str:
    """A number as Vietnamese writes it: ``.`` between thousands, ``,`` before decimals
    (``222560`` -> ``222.560``; ``81661207.5`` -> ``81.661.207,5``). Text that is not a
    number is returned as it is."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    sign = "-" if number < 0 else ""
    text = format(abs(number).normalize(), "f")
    whole, _, fraction = text.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    out = sign + ".".join(groups)
    return f"{out},{fraction}" if fraction else out


def vn_amount(value: object) -> str:
    """An amount of money from an invoice (``81661207.000000`` -> ``81.661.207``)."""
    return "—" if value is None else vn_number(str(value))


def vn_date(value: object) -> str:
    """An ISO date (``2026-05-20``) as ``20/05/2026``; anything else as it is."""
    if value is None:
        return "—"
    text = str(value)
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text.strip())
    if match is None:
        return text
    year, month, day = match.groups()
    return f"{day}/{month}/{year}"


_UTC_MINUTE = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))? UTC\b")
_ISO_MOMENT = re.compile(
    r"(?<![\d-])\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})"
)
_ISO_DATE = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")


def vn_times_in(text: str) -> str:
    """A sentence with its times as Vietnamese readers write them: ``2026-05-31 09:00 UTC``
    and ISO times become ``31/05/2026 16:00:00 (GMT+7)``, ``2024-11-20`` becomes
    ``20/11/2024``. (The validation process writes its reasons with ISO dates.)"""

    def minute(m: re.Match[str]) -> str:
        year, month, day, hour, mins, secs = m.groups()
        try:
            moment = datetime(
                int(year), int(month), int(day), int(hour), int(mins), int(secs or 0), tzinfo=UTC
            )
        except ValueError:
            return m.group(0)
        return vn_time(moment)

    def iso(m: re.Match[str]) -> str:
        try:
            moment = datetime.fromisoformat(m.group(0).replace("Z", "+00:00"))
        except ValueError:
            return m.group(0)
        return vn_time(moment)

    text = _UTC_MINUTE.sub(minute, text)
    text = _ISO_MOMENT.sub(iso, text)
    return _ISO_DATE.sub(lambda m: f"{m.group(3)}/{m.group(2)}/{m.group(1)}", text)


def time_or_dash(value: datetime | None) -> str:
    return "—" if value is None else vn_time(value)


# -- verdicts -------------------------------------------------------------------------------

_INDICATIONS = {
    "TOTAL_PASSED": Label("Hợp lệ", "Passed"),
    "TOTAL_FAILED": Label("Không hợp lệ", "Failed"),
    "INDETERMINATE": Label("Chưa xác định được", "Indeterminate"),
    "NOT_SIGNED": Label("Không phải tài liệu ký số", "Not a signed document"),
}


def indication(value: object) -> Label:
    """An ETSI indication (``TOTAL_PASSED``...), or hoso's ``NOT_SIGNED``."""
    return _lookup(_INDICATIONS, value)


_SUB_INDICATIONS = {
    "FORMAT_FAILURE": Label("lỗi định dạng", "format failure"),
    "HASH_FAILURE": Label("nội dung bị thay đổi", "content changed"),
    "SIG_CRYPTO_FAILURE": Label("giá trị chữ ký sai", "signature value wrong"),
    "REVOKED": Label("chứng thư số bị thu hồi", "certificate revoked"),
    "EXPIRED": Label("ký khi chứng thư số đã hết hạn", "signed after certificate expiry"),
    "NOT_YET_VALID": Label(
        "ký khi chứng thư số chưa có hiệu lực", "signed before certificate validity"
    ),
    "SIG_CONSTRAINTS_FAILURE": Label("không đáp ứng chính sách", "policy not met"),
    "CHAIN_CONSTRAINTS_FAILURE": Label(
        "chuỗi chứng thư không đáp ứng yêu cầu", "chain constraints not met"
    ),
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": Label(
        "không kiểm tra được chuỗi chứng thư", "certificate chain failure"
    ),
    "CRYPTO_CONSTRAINTS_FAILURE": Label(
        "thuật toán không được chấp nhận", "algorithm not acceptable"
    ),
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": Label(
        "thuật toán yếu, không có bằng chứng thời điểm", "weak algorithm, no proof of time"
    ),
    "NO_SIGNING_CERTIFICATE_FOUND": Label(
        "không tìm thấy chứng thư số ký", "signing certificate not found"
    ),
    "NO_CERTIFICATE_CHAIN_FOUND": Label(
        "không dẫn tới tổ chức chứng thực tin cậy", "no chain to a trusted CA"
    ),
    "REVOKED_NO_POE": Label(
        "bị thu hồi, không có bằng chứng ký trước đó", "revoked, no proof of earlier signing"
    ),
    "REVOKED_CA_NO_POE": Label("chứng thư của tổ chức cấp bị thu hồi", "issuing CA revoked"),
    "OUT_OF_BOUNDS_NO_POE": Label(
        "ngoài thời hạn chứng thư, không có dấu thời gian",
        "outside certificate validity, no timestamp",
    ),
    "OUT_OF_BOUNDS_NOT_REVOKED": Label(
        "chứng thư đã hết hạn (không bị thu hồi)", "certificate expired (not revoked)"
    ),
    "REVOCATION_OUT_OF_BOUNDS_NO_POE": Label(
        "thông tin thu hồi không phù hợp thời điểm ký",
        "revocation data does not cover signing time",
    ),
    "TIMESTAMP_ORDER_FAILURE": Label("sai thứ tự dấu thời gian", "timestamps out of order"),
    "NO_POE": Label("không có bằng chứng thời điểm ký", "no proof of existence"),
    "TRY_LATER": Label("chưa kiểm tra được thu hồi, thử lại sau", "revocation unknown, try later"),
    "SIGNED_DATA_NOT_FOUND": Label("không tìm thấy dữ liệu đã ký", "signed data not found"),
    "GENERIC": Label("lý do khác", "other cause"),
    "NO_SIGNATURE_FOUND": Label("không có chữ ký số", "no signature found"),
    "ENCRYPTED": Label("tài liệu được mã hóa", "document encrypted"),
    "SIZE_LIMIT_EXCEEDED": Label("tệp vượt giới hạn kích thước", "file too large"),
    "TIME_LIMIT_EXCEEDED": Label("vượt thời gian kiểm tra", "time limit exceeded"),
    "FILE_UNREADABLE": Label("không đọc được tệp trên máy kiểm tra", "file unreadable here"),
    "MANIFEST_MISMATCH": Label(
        "hồ sơ không khớp bảng kê (manifest.json)", "dossier does not match its manifest"
    ),
}


def sub_indication(value: object) -> Label:
    """An ETSI (or hoso) sub-indication, as a short phrase; its code stays beside it."""
    return _lookup(_SUB_INDICATIONS, value)


# -- documents and signatures ------------------------------------------------------------------

_FORMATS = {
    "pdf": Label("PDF", "PDF"),
    "cms": Label("CMS/PKCS#7 (chữ ký .p7s)", "CMS/PKCS#7 (.p7s signature)"),
    "xml": Label("XML (hóa đơn, tờ khai điện tử)", "XML (e-invoice, e-declaration)"),
    "unknown": Label("không nhận dạng được", "not recognised"),
    "dossier": Label("hồ sơ hoso (bảng kê manifest.json)", "hoso dossier (manifest.json)"),
    "text": Label("văn bản thuần", "plain text"),
    "json": Label("dữ liệu JSON", "JSON data"),
    "html": Label("trang HTML", "HTML page"),
    "image": Label("ảnh", "image"),
    "archive": Label("tệp nén", "archive"),
    "pem": Label("chứng thư số hoặc khóa (PEM)", "certificate or key (PEM)"),
    "special": Label("không phải tệp thường (FIFO, thiết bị, thư mục)", "not a regular file"),
}


def document_format(value: object) -> Label:
    return _lookup(_FORMATS, value)


_COVERAGE = {
    "ENTIRE_FILE": Label("toàn bộ tệp", "the entire file"),
    "ENTIRE_REVISION": Label(
        "toàn bộ phiên bản đã ký (tệp có bổ sung sau đó)",
        "the entire signed revision (later additions follow)",
    ),
    "CONTIGUOUS_BLOCK_FROM_START": Label(
        "một đoạn liền từ đầu tệp (không phải toàn bộ phiên bản)",
        "a contiguous block from the start (not a whole revision)",
    ),
    "UNCLEAR": Label("không xác định rõ phạm vi", "unclear"),
    "ENVELOPED_CONTENT": Label(
        "nội dung nằm trong chữ ký", "the content enveloped in the signature"
    ),
    "DETACHED_CONTENT": Label(
        "tệp nội dung đi kèm chữ ký rời", "the content file of the detached signature"
    ),
    "REFERENCED_ELEMENTS": Label(
        "các phần tử XML được chữ ký tham chiếu", "the XML elements the signature references"
    ),
}


def coverage(value: object) -> Label:
    """What a signature covers (pyHanko's coverage level, or hoso's CMS/XML ones)."""
    return _lookup(_COVERAGE, value)


_MODIFICATIONS = {
    "NONE": Label("không có", "none"),
    "VALIDATION_DATA_AND_TIMESTAMPS": Label(
        "chỉ bổ sung dữ liệu kiểm tra và dấu thời gian",
        "validation data and timestamps only",
    ),
    "FORM_FILLING_AND_SIGNATURES": Label(
        "điền biểu mẫu và thêm chữ ký", "form filling and signatures"
    ),
    "ANNOTATIONS": Label(
        "điền biểu mẫu, thêm chữ ký và chú thích", "form filling, signatures and annotations"
    ),
    "OTHER": Label("thay đổi khác (không được phép)", "other changes (not allowed)"),
    "NOT_ANALYSED": Label("không phân tích được", "could not be analysed"),
}


def modifications(value: object) -> Label:
    """What changed in a PDF after a signature (pyHanko's modification level)."""
    return _lookup(_MODIFICATIONS, value)


_CERTIFICATION = {
    "NO_CHANGES": Label("không cho phép thay đổi", "no changes allowed"),
    "FILL_FORMS": Label("cho phép điền biểu mẫu và ký", "form filling and signing allowed"),
    "ANNOTATE": Label(
        "cho phép điền biểu mẫu, ký và chú thích",
        "form filling, signing and annotations allowed",
    ),
}


def certification(value: object) -> Label:
    """A certification signature's DocMDP permissions."""
    return _lookup(_CERTIFICATION, value)


_LEVEL_DESCRIPTIONS = {
    "B-B": Label("cơ bản", "basic"),
    "B-T": Label("có dấu thời gian", "with a timestamp"),
    "B-LT": Label("có dữ liệu kiểm tra dài hạn", "with long-term validation data"),
    "B-LTA": Label("lưu trữ dài hạn", "long-term archival"),
}
_LEVELS = {
    "DOC-TS": Label("dấu thời gian tài liệu (DocTimeStamp)", "document timestamp (DocTimeStamp)"),
    "PKCS7": Label("PKCS#7 (adbe.pkcs7, không phải PAdES)", "PKCS#7 (adbe.pkcs7, not PAdES)"),
    "PKCS7-T": Label(
        "PKCS#7 có dấu thời gian (không phải PAdES)", "PKCS#7 with a timestamp (not PAdES)"
    ),
    "CMS": Label("CMS (không có thuộc tính CAdES)", "CMS (no CAdES attributes)"),
    "XMLDSig": Label("XMLDSig (chữ ký XML)", "XMLDSig (XML signature)"),
    "XAdES": Label("XAdES (chữ ký XML nâng cao)", "XAdES (advanced XML signature)"),
}


def level(value: object) -> Label:
    """A signature's level: standard names (PAdES-B-T...) keep their name, with what it
    means."""
    if value is None:
        return Label("—", "—")
    text = str(value)
    if text in _LEVELS:
        return _LEVELS[text]
    for suffix, meaning in sorted(_LEVEL_DESCRIPTIONS.items(), key=lambda kv: -len(kv[0])):
        if text == suffix or text.endswith("-" + suffix):
            return Label(f"{text} ({meaning.vi})", meaning.en)
    return Label(text, text)


_SIGNER_KINDS = {
    "individual": Label("cá nhân", "individual"),
    "organisation": Label("tổ chức", "organisation"),
    "official": Label("cán bộ, công chức (cơ quan nhà nước)", "public official"),
    "timestamp_authority": Label("đơn vị cấp dấu thời gian", "timestamp authority"),
    "unknown": Label("không rõ", "unknown"),
}


def signer_kind(value: object) -> Label:
    return _lookup(_SIGNER_KINDS, value)


_HIERARCHIES = {
    "public": Label("hệ thống chứng thực chữ ký số công cộng (NEAC)", "public hierarchy (NEAC)"),
    "specialized": Label(
        "hệ thống chứng thực chữ ký số chuyên dùng Chính phủ (Ban Cơ yếu Chính phủ)",
        "specialized government hierarchy (Government Cipher Committee)",
    ),
}


def hierarchy(value: object) -> Label:
    """Which Vietnamese hierarchy a signature's anchor belongs to."""
    if value is None:
        return Label(
            "không thuộc hệ thống được đóng gói (chứng thư gốc bổ sung)",
            "none of the bundled hierarchies (an added anchor)",
        )
    return _lookup(_HIERARCHIES, value)


_PROFILES = {
    **_HIERARCHIES,
    "any": Label(
        "cả hai hệ thống: công cộng (NEAC) và chuyên dùng Chính phủ (Ban Cơ yếu)",
        "both hierarchies: public (NEAC) and specialized government",
    ),
    "custom": Label("bộ chứng thư tự chọn", "custom anchors"),
}


def trust_profile(value: object) -> Label:
    """A trust profile by name (``public``, ``specialized``, ``any``, ``custom``); any other
    name is the caller's own set of anchors."""
    return _lookup(
        _PROFILES,
        value,
        unknown=Label(f"«{value}»: bộ chứng thư tự chọn", f"«{value}»: custom anchors"),
    )


_REVOCATION_MODES = {
    "hard": Label(
        "bắt buộc (thiếu thông tin thu hồi thì không chấp nhận)",
        "hard (missing revocation information is not accepted)",
    ),
    "soft": Label(
        "mềm (chấp nhận khi không lấy được thông tin thu hồi)",
        "soft (missing revocation information is accepted)",
    ),
    "off": Label("tắt (không kiểm tra thu hồi)", "off (revocation not checked)"),
}


def revocation_mode(value: object) -> Label:
    return _lookup(_REVOCATION_MODES, value)


_REVOCATION_SOURCES = {
    "ocsp/crl": Label("OCSP/CRL", "OCSP/CRL"),
    "ocsp": Label("OCSP", "OCSP"),
    "crl": Label("CRL", "CRL"),
    "embedded": Label("dữ liệu nhúng trong tài liệu", "embedded in the document"),
}


def revocation_source(value: object) -> Label:
    return _lookup(_REVOCATION_SOURCES, value)


_REVOCATION_NOTES = {
    "revocation checking is off": Label(
        "chính sách tắt việc kiểm tra thu hồi", "revocation checking is off"
    ),
    "soft mode: missing revocation information was accepted": Label(
        "chế độ mềm: chấp nhận khi thiếu thông tin thu hồi",
        "soft mode: missing revocation information was accepted",
    ),
    "no revocation information could be obtained": Label(
        "không lấy được thông tin thu hồi", "no revocation information could be obtained"
    ),
    "revoked after the time the signature timestamp proves: the signature stands": Label(
        "bị thu hồi sau thời điểm mà dấu thời gian chứng minh chữ ký đã tồn tại: chữ ký vẫn "
        "có hiệu lực",
        "revoked after the time the signature timestamp proves: the signature stands",
    ),
}


def revocation_note(value: object) -> Label:
    if not value:
        return Label("", "")
    return _lookup(_REVOCATION_NOTES, value, unknown=Label(UNTRANSLATED_VI, str(value)))


_NETWORK = {
    "offline": Label("ngoại tuyến (không truy cập mạng)", "offline"),
    "online": Label("trực tuyến (OCSP/CRL)", "online (OCSP/CRL)"),
}


def network(online: bool) -> Label:
    return _NETWORK["online" if online else "offline"]


_TIMESTAMP_KINDS = {
    "signature": Label("dấu thời gian chữ ký", "signature timestamp"),
    "document": Label("dấu thời gian tài liệu", "document timestamp"),
    "content": Label("dấu thời gian nội dung", "content timestamp"),
    "archive": Label("dấu thời gian lưu trữ", "archive timestamp"),
}


def timestamp_kind(value: object) -> Label:
    return _lookup(_TIMESTAMP_KINDS, value)


def timestamp_result(message_en: str | None, sub: object) -> Label:
    """A timestamp's result sentence (``trusted timestamp``, ``timestamp not accepted: X``)."""
    text = (message_en or "").strip()
    if text == "trusted timestamp" or (not text and sub is None):
        return Label("dấu thời gian được tin cậy", "trusted timestamp")
    prefix = "timestamp not accepted:"
    if text.startswith(prefix) or not text:
        cause = text[len(prefix) :].strip()
        if cause in _SUB_INDICATIONS or (not cause and sub is not None):
            label = sub_indication(cause or sub)
            return Label(
                f"dấu thời gian không được chấp nhận: {label.vi}",
                f"timestamp not accepted: {label.en}",
            )
        return Label(f"dấu thời gian không được chấp nhận: {cause}", text)
    return Label(UNTRANSLATED_VI, text)


_ROLES = {
    "seller": Label("người bán", "seller"),
    "buyer": Label("người mua", "buyer"),
    "tax_authority": Label("cơ quan thuế", "tax authority"),
    "tax_official": Label("cán bộ thuế", "tax official"),
    "declarant": Label("người khai", "declarant"),
}


def xml_role(value: object) -> Label:
    """Who signed an XML document, by the signature's place."""
    return _lookup(_ROLES, value)


_READINGS = {
    "strict": Label("theo đặc tả XMLDSig", "XMLDSig specification"),
    "dotnet": Label(
        "chỉ hợp lệ theo cách .NET áp dụng phép biến đổi enveloped",
        "valid only under .NET's reading of the enveloped transform",
    ),
}


def xml_reading(value: object) -> Label:
    return _lookup(_READINGS, value)


# -- constraints ------------------------------------------------------------------------------

_BLOCKS = {
    "FC": Label("kiểm tra định dạng", "format checking"),
    "ISC": Label("xác định chứng thư số ký", "identification of the signing certificate"),
    "VCI": Label("khởi tạo ngữ cảnh kiểm tra", "validation context initialisation"),
    "XCV": Label("kiểm tra chứng thư X.509", "X.509 certificate validation"),
    "CV": Label("kiểm tra mật mã", "cryptographic verification"),
    "SAV": Label("chấp nhận chữ ký", "signature acceptance validation"),
    "POE": Label("bằng chứng tồn tại", "proof of existence"),
    "PSV": Label("kiểm tra chữ ký trong quá khứ", "past signature validation"),
}


def block(value: object) -> Label:
    """An ETSI EN 319 102-1 building block (FC, ISC, XCV...)."""
    return _lookup(_BLOCKS, value)


_CONSTRAINT_LEVELS = {
    "FAIL": Label("bắt buộc", "fail"),
    "WARN": Label("cảnh báo", "warn"),
    "INFORM": Label("thông tin", "inform"),
    "IGNORE": Label("bỏ qua", "ignore"),
}


def constraint_level(value: object) -> Label:
    """What the policy makes of a failed constraint (EU DSS's levels)."""
    return _lookup(_CONSTRAINT_LEVELS, value)


_CONSTRAINT_STATUS = {
    "passed": Label("Đạt", "passed"),
    "failed": Label("Không đạt", "failed"),
    "ignored": Label("Bỏ qua", "ignored"),
    "not_applicable": Label("Không áp dụng", "not applicable"),
}


def constraint_status(value: object) -> Label:
    return _lookup(_CONSTRAINT_STATUS, value)


def constraint_text(cid: str, message_vi: str, message_en: str) -> Label:
    """A constraint's sentence: the result's own, else the constraint's description."""
    if message_vi or message_en:
        return Label(message_vi or message_en, message_en or message_vi)
    known = CONSTRAINTS.get(cid)
    if known is None:
        return Label(cid, cid)
    return Label(known.vi, known.en)


# -- certificates -----------------------------------------------------------------------------

# asn1crypto's human-friendly attribute names -> the short names of RFC 4514 (and the usual
# ones for attributes RFC 4514 does not name): CN=..., O=..., C=VN, read the same in any
# language
_DN_SHORT = {
    "Common Name": "CN",
    "Surname": "SN",
    "Serial Number": "serialNumber",
    "Country": "C",
    "Locality": "L",
    "State/Province": "ST",
    "Street Address": "STREET",
    "Organization": "O",
    "Organizational Unit": "OU",
    "Title": "T",
    "Business Category": "businessCategory",
    "Postal Code": "postalCode",
    "Telephone Number": "telephoneNumber",
    "Name": "name",
    "Given Name": "GN",
    "Initials": "initials",
    "Generation Qualifier": "generationQualifier",
    "Unique Identifier": "uniqueIdentifier",
    "DN Qualifier": "dnQualifier",
    "Pseudonym": "pseudonym",
    "Email Address": "E",
    "Domain Component": "DC",
    "Organization Identifier": "organizationIdentifier",
    "User ID": "UID",
}
_DN_LABEL = re.compile(
    r"(^|, |; | \+ )("
    + "|".join(re.escape(k) for k in sorted(_DN_SHORT, key=len, reverse=True))
    + r"): "
)


_DN_LABEL_IN_TEXT = re.compile(
    r"(?<![\w/])("
    + "|".join(
        re.escape(k) for k in sorted(_DN_SHORT, key=len, reverse=True) if " " in k or "/" in k
    )
    + r"|Country|Organization|Locality|Surname|Title|Pseudonym): (?=\S)"
)


def names_in(text: str) -> str:
    """A sentence with the certificate names it quotes in short form (``Common Name: CA2,
    Organization: X`` -> ``CN=CA2, O=X``), as :func:`distinguished_name` writes them.
    Only asn1crypto's attribute names followed by ``": "`` are replaced."""
    if not any(f"{k}: " in text for k in ("Common Name", "Organization", "User ID")):
        return text
    return _DN_LABEL_IN_TEXT.sub(lambda m: f"{_DN_SHORT[m.group(1)]}=", text)


def distinguished_name(value: object) -> str:
    """A certificate name as ``UID=..., CN=..., O=..., C=VN`` (asn1crypto writes
    ``Common Name: ...``, in English)."""
    if value is None:
        return "—"
    return _DN_LABEL.sub(lambda m: f"{m.group(1)}{_DN_SHORT[m.group(2)]}=", str(value))


# -- e-invoices -------------------------------------------------------------------------------

_FACTS = {
    "form": Label("Mẫu số", "Form"),
    "series": Label("Ký hiệu", "Series"),
    "number": Label("Số hóa đơn", "Invoice number"),
    "date": Label("Ngày lập", "Date"),
    "seller_name": Label("Người bán", "Seller"),
    "seller_mst": Label("Mã số thuế người bán", "Seller's tax code"),
    "seller_certificate_mst": Label(
        "Mã số thuế trong chứng thư số người bán", "Tax code in the seller's certificate"
    ),
    "seller_mst_matches": Label("Hai mã số thuế khớp nhau", "The tax codes match"),
    "buyer_name": Label("Người mua", "Buyer"),
    "buyer_mst": Label("Mã số thuế người mua", "Buyer's tax code"),
    "total": Label("Tổng tiền thanh toán", "Total amount"),
    "tax_authority_code": Label("Mã của cơ quan thuế", "Tax authority's code"),
    "seller_covers_dlhdon": Label(
        "Chữ ký người bán phủ dữ liệu hóa đơn (DLHDon)",
        "The seller's signature covers the invoice data (DLHDon)",
    ),
    "tax_authority_covers_mccqt": Label(
        "Chữ ký cơ quan thuế phủ mã (MCCQT)",
        "The tax authority's signature covers its code (MCCQT)",
    ),
}
_YES, _NO = Label("có", "yes"), Label("không", "no")

_DOSSIER_FACTS = {
    "dossier_code": Label("Mã hồ sơ", "Dossier code"),
    "agency": Label("Cơ quan tiếp nhận", "Receiving agency"),
    "procedure": Label("Thủ tục hành chính", "Procedure"),
    "form_id": Label("Mẫu đơn, tờ khai", "Form"),
    "form_version": Label("Phiên bản mẫu", "Form version"),
    "submitted_at": Label("Thời điểm nộp", "Submitted at"),
    "declarant": Label("Người kê khai", "Declarant"),
    "declarant_identifiers": Label("Giấy tờ của người kê khai", "Declarant's identifiers"),
    "signature_level": Label("Loại chữ ký của người kê khai", "Declarant's signature level"),
    "extra_files": Label("Tệp không có trong bảng kê", "Files not in the manifest"),
}
_PART_ROLES = {
    "signed-form": Label("đơn, tờ khai đã ký", "signed form"),
    "form-data": Label("dữ liệu đơn (JSON)", "form data (JSON)"),
    "attachment": Label("tài liệu đính kèm", "attachment"),
    "attachment-signature": Label("chữ ký của tài liệu đính kèm", "attachment's signature"),
}
_PART_STATUS = {
    "ok": Label("khớp", "matches"),
    "changed": Label("đã bị thay đổi", "changed"),
    "missing": Label("bị thiếu", "missing"),
    "unreadable": Label("không đọc được", "unreadable"),
}


def dossier_fact(key: str, value: object) -> tuple[Label, Label]:
    """A hoso dossier's fact (code, procedure, declarant...): its name and its value."""
    name = _DOSSIER_FACTS.get(key, Label(key, key))
    if value is None or value == [] or value == ():
        return name, Label("không có", "none")
    if key == "submitted_at":
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return name, Label(str(value), str(value))
        if moment.tzinfo is not None:
            shown = vn_time(moment)
            return name, Label(shown, shown)
    if key == "signature_level":
        return name, level(value)
    if isinstance(value, list | tuple):
        text = ", ".join(str(v) for v in value)
        return name, Label(text, text)
    return name, Label(str(value), str(value))


def part_role(value: object) -> Label:
    """What a file of a dossier is (``signed-form``, ``attachment``...)."""
    return _lookup(_PART_ROLES, value)


def part_status(value: object) -> Label:
    """Whether a dossier's listed file matches the manifest."""
    return _lookup(_PART_STATUS, value)


def invoice_fact(key: str, value: object) -> tuple[Label, Label]:
    """An e-invoice fact (:data:`verify.einvoice.FACT_KEYS`): its name and its value."""
    name = _FACTS.get(key, Label(key, key))
    if value is None:
        return name, Label("không có", "none")
    if isinstance(value, bool):
        return name, _YES if value else _NO
    if key == "total":
        amount = vn_amount(value)
        return name, Label(f"{amount} đồng", f"{amount} VND")
    if key == "date":
        shown = vn_date(value)
        return name, Label(shown, shown)
    return name, Label(str(value), str(value))


# -- warnings ---------------------------------------------------------------------------------

_VIETNAMESE = re.compile(
    r"[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.IGNORECASE
)


def _split_trailing_vi(text: str) -> tuple[str, str] | None:
    """``English sentence (câu tiếng Việt).`` -> (English, Vietnamese), or None."""
    body = text.rstrip()
    body = body[:-1] if body.endswith(".") else body
    if not body.endswith(")"):
        return None
    depth = 0
    for i in range(len(body) - 1, -1, -1):
        if body[i] == ")":
            depth += 1
        elif body[i] == "(":
            depth -= 1
            if depth == 0:
                inner = body[i + 1 : -1].strip()
                outer = body[:i].rstrip()
                if outer and _VIETNAMESE.search(inner) and not _VIETNAMESE.search(outer):
                    return outer, inner
                return None
    return None


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ")")) else text + "."


_TIMESTAMP_NAMES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^XAdES signature timestamp(?: \(element (\d+)\)| (\d+))?$"), "XAdES"),
    (re.compile(r"^document timestamp(?: (.+))?$"), "document"),
    (re.compile(r"^signature timestamp$"), "signature"),
    (re.compile(r"^content timestamp$"), "content"),
)


def _timestamp_name_vi(name: str) -> str:
    for pattern, kind in _TIMESTAMP_NAMES:
        match = pattern.match(name)
        if match is None:
            continue
        if kind == "XAdES":
            n = match.group(1) or match.group(2)
            return "dấu thời gian chữ ký XAdES" + (f" {n}" if n else "")
        if kind == "document":
            field = match.group(1)
            return "dấu thời gian tài liệu" + (f" {field}" if field else "")
        return timestamp_kind(kind).vi
    return name


_PROVES_NOTHING_WHY = {
    "its imprint does not match": "dấu băm trong dấu thời gian không khớp",
    "its signature does not verify": "chữ ký của dấu thời gian không đúng",
    "its TSA is not trusted": "đơn vị cấp dấu thời gian không được tin cậy",
}

_FIXED_WARNINGS = {
    "Revocation checking was switched off by the policy.": (
        "Chính sách kiểm tra đã tắt việc kiểm tra thu hồi chứng thư số."
    ),
    "Form fields were filled in after this signature (allowed by the document's "
    "permissions); check the filled values.": (
        "Các trường biểu mẫu đã được điền sau chữ ký này (quyền của tài liệu cho phép); "
        "hãy kiểm tra các giá trị đã điền."
    ),
    "The signature has no signed attributes (not CAdES/PAdES): nothing signed binds "
    "the signer's certificate, the content type or the signing time.": (
        "Chữ ký không có thuộc tính được ký (không phải CAdES/PAdES): không có gì được ký "
        "gắn với chứng thư số của người ký, loại nội dung hay thời điểm ký."
    ),
    "The PDF is encrypted with an empty user password (it opens without one); it was "
    "decrypted with the empty password to validate its signatures.": (
        "Tệp PDF được mã hóa với mật khẩu người dùng rỗng (mở được không cần mật khẩu); "
        "tệp đã được giải mã bằng mật khẩu rỗng để kiểm tra chữ ký."
    ),
    "revocation sources could not be reached online; the revocation data embedded "
    "in the document (LTV) covers the signing time and was used": (
        "Không truy cập được nguồn thông tin thu hồi trực tuyến; dữ liệu thu hồi nhúng trong "
        "tài liệu (LTV) bao trùm thời điểm ký và đã được dùng."
    ),
}

_PATTERN_WARNINGS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^The changed form fields could not be listed \((?P<cause>.*)\)\.$"),
        "Không liệt kê được các trường biểu mẫu đã thay đổi ({cause}).",
    ),
    (
        re.compile(r"^Form fields changed after this signature \(old -> new\): (?P<list>.*)$"),
        "Các trường biểu mẫu đã thay đổi sau chữ ký này (cũ -> mới): {list}",
    ),
    (
        re.compile(r"^The signed and final pages could not be compared \((?P<cause>.*)\)\.$"),
        "Không so sánh được các trang đã ký với các trang của bản cuối ({cause}).",
    ),
    (
        re.compile(
            r"^The PDF's integrity MAC \(ISO/TS 32004\) does not match the file "
            r"\((?P<cause>.*)\)\.$"
        ),
        "Mã xác thực toàn vẹn của tệp PDF (ISO/TS 32004) không khớp với tệp ({cause}).",
    ),
    (
        re.compile(r"^The evidence could not be written to (?P<path>.*?): (?P<cause>.*)$"),
        "Không ghi được bằng chứng vào {path}: {cause}",
    ),
    (
        re.compile(r"^not listed in (?P<manifest>manifest\.json): (?P<name>.*)$"),
        "Tệp không có trong bảng kê {manifest}: {name}",
    ),
    (
        re.compile(
            r"^The validation time is before the signing time that signature (?P<n>\d+) claims "
            r"\((?P<claimed>[^;]*); validated at (?P<at>[^)]*)\): it is judged as of a moment "
            r"before it says it was made$"
        ),
        "Thời điểm kiểm tra sớm hơn thời điểm ký mà chữ ký số {n} khai báo ({claimed}; kiểm tra "
        "lúc {at}): chữ ký được đánh giá tại một thời điểm trước khi nó được tạo.",
    ),
)


def warning(text: str) -> Label:
    """A warning as the report shows it: Vietnamese, and the English beside it.

    Known sentences get their Vietnamese text; a sentence that carries its own Vietnamese
    in parentheses (``English (tiếng Việt).``) is split; a failed constraint of level WARN
    (``... [constraint_id: WARN]``) is named as such. Anything else keeps its English and
    gets :data:`UNTRANSLATED_VI` as its Vietnamese.
    """
    text = str(text).strip()
    if text in _FIXED_WARNINGS:
        return Label(_FIXED_WARNINGS[text], text)
    constraint = re.fullmatch(r"(?P<body>.*) \[(?P<cid>[a-z0-9_]+): WARN\]", text, re.DOTALL)
    if constraint is not None:
        split = _split_trailing_vi(constraint.group("body"))
        cid = constraint.group("cid")
        en, vi = split if split is not None else (constraint.group("body"), "")
        if not vi:
            known = CONSTRAINTS.get(cid)
            vi = f"{known.vi} — không đạt" if known is not None else UNTRANSLATED_VI
        return Label(
            f"Ràng buộc ở mức cảnh báo không đạt: {vi} [{cid}]",
            f"A constraint at level WARN failed: {en} [{cid}]",
        )
    proves = re.fullmatch(r"The (?P<name>.+?) proves nothing: (?P<why>.+?)\.?", text)
    if proves is not None and proves.group("why") in _PROVES_NOTHING_WHY:
        name_vi = _timestamp_name_vi(proves.group("name"))
        return Label(
            _sentence(
                f"{name_vi} không chứng minh được gì: {_PROVES_NOTHING_WHY[proves.group('why')]}"
            ),
            text,
        )
    for pattern, template in _PATTERN_WARNINGS:
        match = pattern.fullmatch(text)
        if match is not None:
            return Label(template.format(**match.groupdict()), text)
    split = _split_trailing_vi(text)
    if split is not None:
        en, vi = split
        return Label(_sentence(vi), _sentence(en))
    return Label(UNTRANSLATED_VI, text)
