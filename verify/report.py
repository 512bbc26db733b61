"""Verdicts: one :class:`SignatureReport` per signature, one :class:`DocumentReport` per file.

Indications and sub-indications follow ETSI EN 319 102-1. Every report carries a sentence
in Vietnamese and one in English that a non-expert understands, and, for Vietnamese
readers, the items Circular 15/2025/TT-BKHCN asks signature-verification software to show
(valid or not, signer, issuing organisation, certificate-managing unit, signing time or
timestamp, integrity, validity at signing time, the certificate's validity period, and a
warning when revocation at signing time could not be checked).

Reports are frozen and their JSON form is stable (sorted where order carries no meaning),
described by ``docs/report-schema.json``.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

__all__ = [
    "REPORT_SCHEMA_VERSION",
    "CertificateInfo",
    "DocumentReport",
    "Indication",
    "RevocationReport",
    "SignatureReport",
    "SubIndication",
    "TimestampReport",
    "VerificationFailed",
    "worst",
]

REPORT_SCHEMA_VERSION = "1.1"
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Indication(enum.StrEnum):
    """ETSI EN 319 102-1's three main indications, and hoso's NOT_SIGNED.

    NOT_SIGNED is no verdict: the file is not in a signed format (a README, a certificate,
    an image, form data in JSON, HTML that is not XML-signed...), so there was nothing to
    validate. A folder run gives such a file its own line with this indication; it is never
    a signature's indication.
    """

    TOTAL_PASSED = "TOTAL_PASSED"
    INDETERMINATE = "INDETERMINATE"
    TOTAL_FAILED = "TOTAL_FAILED"
    NOT_SIGNED = "NOT_SIGNED"

    @property
    def severity(self) -> int:
        """TOTAL_FAILED 2 > INDETERMINATE 1 > TOTAL_PASSED 0 > NOT_SIGNED -1 (no verdict)."""
        return _SEVERITY[self.value]


_SEVERITY = {"NOT_SIGNED": -1, "TOTAL_PASSED": 0, "INDETERMINATE": 1, "TOTAL_FAILED": 2}


class SubIndication(enum.StrEnum):
    """ETSI EN 319 102-1 sub-indications, plus a few document-level ones of ours."""

    # TOTAL_FAILED
    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    # INDETERMINATE
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    CERTIFICATE_CHAIN_GENERAL_FAILURE = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE = "CRYPTO_CONSTRAINTS_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
    NO_SIGNING_CERTIFICATE_FOUND = "NO_SIGNING_CERTIFICATE_FOUND"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    REVOKED_CA_NO_POE = "REVOKED_CA_NO_POE"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    OUT_OF_BOUNDS_NOT_REVOKED = "OUT_OF_BOUNDS_NOT_REVOKED"
    REVOCATION_OUT_OF_BOUNDS_NO_POE = "REVOCATION_OUT_OF_BOUNDS_NO_POE"
    TIMESTAMP_ORDER_FAILURE = "TIMESTAMP_ORDER_FAILURE"
    NO_POE = "NO_POE"
    TRY_LATER = "TRY_LATER"
    SIGNED_DATA_NOT_FOUND = "SIGNED_DATA_NOT_FOUND"
    GENERIC = "GENERIC"
    # document level (hoso)
    NO_SIGNATURE_FOUND = "NO_SIGNATURE_FOUND"
    ENCRYPTED = "ENCRYPTED"
    SIZE_LIMIT_EXCEEDED = "SIZE_LIMIT_EXCEEDED"
    TIME_LIMIT_EXCEEDED = "TIME_LIMIT_EXCEEDED"
    FILE_UNREADABLE = "FILE_UNREADABLE"
    """INDETERMINATE: the file could not be read here (permission denied, gone, not a
    regular file where one was needed): a problem of the checking machine, not of the
    signature."""
    MANIFEST_MISMATCH = "MANIFEST_MISMATCH"
    """TOTAL_FAILED: a hoso dossier's folder does not match its ``manifest.json`` (a listed
    file changed or missing)."""


def worst(indications: Iterable[Indication]) -> Indication:
    """The most severe indication (TOTAL_FAILED > INDETERMINATE > TOTAL_PASSED); NOT_SIGNED,
    no verdict, never wins."""
    result = Indication.TOTAL_PASSED
    for ind in indications:
        if ind.severity > result.severity:
            result = ind
    return result


# (vi, en) sentences per sub-indication; "{reason}" is filled with a short specific cause.
_SENTENCES: dict[SubIndication | None, tuple[str, str]] = {
    None: (
        "Chữ ký hợp lệ: tài liệu không bị thay đổi và chứng thư số của người ký được tin cậy.",
        "The signature is valid: the document is unchanged and the signer's certificate is "
        "trusted.",
    ),
    SubIndication.FORMAT_FAILURE: (
        "Chữ ký không hợp lệ: {reason_vi}",
        "The signature is invalid: {reason_en}",
    ),
    SubIndication.HASH_FAILURE: (
        "Chữ ký không hợp lệ: nội dung đã bị thay đổi sau khi ký.",
        "The signature is invalid: the content was changed after it was signed.",
    ),
    SubIndication.SIG_CRYPTO_FAILURE: (
        "Chữ ký không hợp lệ: giá trị chữ ký không khớp với khóa công khai của người ký.",
        "The signature is invalid: the signature value does not match the signer's public key.",
    ),
    SubIndication.REVOKED: (
        "Chữ ký không hợp lệ: chứng thư số của người ký đã bị thu hồi trước thời điểm ký.",
        "The signature is invalid: the signer's certificate was revoked before it was signed.",
    ),
    SubIndication.EXPIRED: (
        "Chữ ký không hợp lệ: chữ ký được tạo sau khi chứng thư số hết hạn.",
        "The signature is invalid: it was made after the certificate expired.",
    ),
    SubIndication.NOT_YET_VALID: (
        "Chữ ký không hợp lệ: chữ ký được tạo trước khi chứng thư số có hiệu lực.",
        "The signature is invalid: it was made before the certificate became valid.",
    ),
    SubIndication.SIG_CONSTRAINTS_FAILURE: (
        "Chưa xác định được: chữ ký không đáp ứng yêu cầu của chính sách ({reason_vi}).",
        "Indeterminate: the signature does not meet the policy ({reason_en}).",
    ),
    SubIndication.CHAIN_CONSTRAINTS_FAILURE: (
        "Chưa xác định được: chuỗi chứng thư số không đáp ứng yêu cầu ({reason_vi}).",
        "Indeterminate: the certificate chain does not meet the constraints ({reason_en}).",
    ),
    SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE: (
        "Chưa xác định được: không kiểm tra được chuỗi chứng thư số ({reason_vi}).",
        "Indeterminate: the certificate chain could not be checked ({reason_en}).",
    ),
    SubIndication.CRYPTO_CONSTRAINTS_FAILURE: (
        "Chưa xác định được: chữ ký dùng thuật toán không còn được chấp nhận ({reason_vi}).",
        "Indeterminate: the signature uses an algorithm that is not acceptable ({reason_en}).",
    ),
    SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE: (
        "Chưa xác định được: chữ ký dùng thuật toán yếu ({reason_vi}) và không có bằng chứng "
        "chữ ký tồn tại trước khi thuật toán hết được chấp nhận.",
        "Indeterminate: the signature uses a weak algorithm ({reason_en}) and nothing proves "
        "it existed before that algorithm stopped being acceptable.",
    ),
    SubIndication.NO_SIGNING_CERTIFICATE_FOUND: (
        "Chưa xác định được: không tìm thấy chứng thư số của người ký.",
        "Indeterminate: the signer's certificate was not found.",
    ),
    SubIndication.NO_CERTIFICATE_CHAIN_FOUND: (
        "Chưa xác định được: chứng thư số không thuộc tổ chức cung cấp dịch vụ chứng thực "
        "được tin cậy ({reason_vi}).",
        "Indeterminate: the certificate does not chain to a trusted certification authority "
        "({reason_en}).",
    ),
    SubIndication.REVOKED_NO_POE: (
        "Chưa xác định được: chứng thư số đã bị thu hồi và không có bằng chứng chữ ký được "
        "tạo trước thời điểm thu hồi.",
        "Indeterminate: the certificate was revoked and nothing proves the signature was made "
        "before the revocation.",
    ),
    SubIndication.REVOKED_CA_NO_POE: (
        "Chưa xác định được: chứng thư số của tổ chức cấp đã bị thu hồi.",
        "Indeterminate: a certificate authority in the chain was revoked.",
    ),
    SubIndication.OUT_OF_BOUNDS_NO_POE: (
        "Chưa xác định được: chứng thư số đã hết hạn (hoặc chưa có hiệu lực) tại thời điểm "
        "kiểm tra và không có dấu thời gian chứng minh chữ ký được tạo khi chứng thư còn "
        "hiệu lực.",
        "Indeterminate: the certificate is outside its validity period at the validation time "
        "and no timestamp proves the signature was made while it was valid.",
    ),
    SubIndication.OUT_OF_BOUNDS_NOT_REVOKED: (
        "Chưa xác định được: chứng thư số đã hết hạn tại thời điểm kiểm tra.",
        "Indeterminate: the certificate had expired at the validation time.",
    ),
    SubIndication.REVOCATION_OUT_OF_BOUNDS_NO_POE: (
        "Chưa xác định được: thông tin thu hồi không còn phù hợp với thời điểm ký.",
        "Indeterminate: the revocation information does not cover the signing time.",
    ),
    SubIndication.TIMESTAMP_ORDER_FAILURE: (
        "Chưa xác định được: thứ tự các dấu thời gian không hợp lệ.",
        "Indeterminate: the timestamps are not in a valid order.",
    ),
    SubIndication.NO_POE: (
        "Chưa xác định được: không có bằng chứng về thời điểm ký.",
        "Indeterminate: there is no proof of when it was signed.",
    ),
    SubIndication.TRY_LATER: (
        "Chưa xác định được: không kiểm tra được tình trạng thu hồi của chứng thư số tại "
        "thời điểm ký ({reason_vi}); hãy kiểm tra lại sau.",
        "Indeterminate: the certificate's revocation status at the signing time could not be "
        "checked ({reason_en}); try again later.",
    ),
    SubIndication.SIGNED_DATA_NOT_FOUND: (
        "Chưa xác định được: không tìm thấy dữ liệu đã ký.",
        "Indeterminate: the signed data was not found.",
    ),
    SubIndication.GENERIC: (
        "Chưa xác định được: {reason_vi}",
        "Indeterminate: {reason_en}",
    ),
    SubIndication.NO_SIGNATURE_FOUND: (
        "Tài liệu không có chữ ký số.",
        "The document carries no digital signature.",
    ),
    SubIndication.ENCRYPTED: (
        "Chưa xác định được: tài liệu được mã hóa nên không kiểm tra được chữ ký.",
        "Indeterminate: the document is encrypted, so its signatures cannot be checked.",
    ),
    SubIndication.SIZE_LIMIT_EXCEEDED: (
        "Không kiểm tra: tệp lớn hơn giới hạn cho phép ({reason_vi}).",
        "Not checked: the file is larger than the allowed limit ({reason_en}).",
    ),
    SubIndication.TIME_LIMIT_EXCEEDED: (
        "Chưa xác định được: việc kiểm tra vượt quá thời gian cho phép ({reason_vi}).",
        "Indeterminate: checking took longer than allowed ({reason_en}).",
    ),
    SubIndication.FILE_UNREADABLE: (
        "Chưa xác định được: không đọc được tệp ({reason_vi}); đây là sự cố trên máy kiểm "
        "tra, không phải dấu hiệu chữ ký sai.",
        "Indeterminate: the file could not be read ({reason_en}); this is a problem on the "
        "checking machine, not a sign of a bad signature.",
    ),
    SubIndication.MANIFEST_MISMATCH: (
        "Hồ sơ không hợp lệ: thư mục không khớp với bảng kê manifest.json ({reason_vi}).",
        "The dossier is invalid: its folder does not match its manifest.json ({reason_en}).",
    ),
}


def sentences(
    sub: SubIndication | None, reason_vi: str = "", reason_en: str = ""
) -> tuple[str, str]:
    """The (Vietnamese, English) sentence for a sub-indication, with its specific reason."""
    vi, en = _SENTENCES.get(sub, _SENTENCES[SubIndication.GENERIC])
    if reason_en and "{reason_en}" not in en:
        # the fixed sentence plus the specific cause, e.g. which certificate expired
        vi = f"{vi.rstrip('.')} ({reason_vi or reason_en})."
        en = f"{en.rstrip('.')} ({reason_en})."
        return vi, en
    reason_vi = reason_vi or reason_en or "không rõ lý do"
    reason_en = reason_en or "no further detail"
    return vi.format(reason_vi=reason_vi), en.format(reason_en=reason_en)


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def vn_time(dt: datetime | None) -> str:
    """A time as people in Vietnam read it: dd/mm/yyyy HH:MM:SS in Asia/Ho_Chi_Minh, with
    that zone's offset at that moment: ``(GMT+7)`` since 1975, ``(GMT+8)`` before."""
    if dt is None:
        return "không có"
    local = dt.astimezone(VN_TZ)
    delta = local.utcoffset()
    seconds = int(delta.total_seconds()) if delta is not None else 0
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    offset = f"{hours}" + (f":{minutes:02d}" if rest else "") + (f":{secs:02d}" if secs else "")
    day = f"{local.day:02d}/{local.month:02d}/{local.year:04d}"
    return f"{day} {local:%H:%M:%S} (GMT{sign}{offset})"


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    issuer: str
    serial_number: str
    sha256: str
    not_before: datetime
    not_after: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "serial_number": self.serial_number,
            "sha256": self.sha256,
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
        }


@dataclass(frozen=True)
class TimestampReport:
    kind: str  # "signature" | "document" | "content"
    time: datetime
    tsa: str | None
    indication: Indication
    sub_indication: SubIndication | None
    message_en: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "time": _iso(self.time),
            "tsa": self.tsa,
            "indication": self.indication.value,
            "sub_indication": self.sub_indication.value if self.sub_indication else None,
            "message_en": self.message_en,
        }


@dataclass(frozen=True)
class ConstraintResult:
    """One constraint of the validation policy, as checked for one signature: the detailed
    report an auditor reads to see why (see :data:`verify.policy.CONSTRAINTS`)."""

    id: str
    block: str
    """The ETSI EN 319 102-1 building block (FC, ISC, VCI, XCV, CV, SAV, POE, PSV)."""
    level: str
    """FAIL, WARN, INFORM or IGNORE: what the policy makes of a failure."""
    status: str
    """``passed``, ``failed``, ``ignored`` (level IGNORE) or ``not_applicable``."""
    message_en: str = ""
    message_vi: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "block": self.block,
            "level": self.level,
            "status": self.status,
            "message_en": self.message_en,
            "message_vi": self.message_vi,
        }


@dataclass(frozen=True)
class RevocationReport:
    mode: str  # hard | soft | off
    checked: bool
    sources: tuple[str, ...] = ()  # "ocsp", "crl", "embedded"
    revoked_at: datetime | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "checked": self.checked,
            "sources": list(self.sources),
            "revoked_at": _iso(self.revoked_at),
            "note": self.note,
        }


@dataclass(frozen=True)
class SignatureReport:
    """The verdict on one signature (or document timestamp)."""

    index: int
    kind: str  # "signature" | "document_timestamp" | "detached"
    field_name: str | None
    indication: Indication
    sub_indication: SubIndication | None
    message_vi: str
    message_en: str
    signer: dict[str, Any] | None = None
    chain: tuple[CertificateInfo, ...] = ()
    trust_anchor_profile: str | None = None
    signing_time_claimed: datetime | None = None
    signing_time_proven: datetime | None = None
    timestamps: tuple[TimestampReport, ...] = ()
    level: str | None = None
    coverage: str | None = None
    modifications: str | None = None
    certification: str | None = None
    revocation: RevocationReport | None = None
    integrity: bool | None = None
    digest_algorithm: str | None = None
    signature_algorithm: str | None = None
    sub_filter: str | None = None
    validated_at: datetime | None = None
    warnings: tuple[str, ...] = ()
    constraints: tuple[ConstraintResult, ...] = ()
    """Every constraint checked for this signature, with its level and result."""
    role: str | None = None
    """XML: who signed, by the signature's place (seller, tax_authority, tax_official...)."""
    covers: tuple[str, ...] = ()
    """XML: local names of the elements the signature's references resolve to."""
    xml_reading: str | None = None
    """XML: ``strict`` (XMLDSig) or ``dotnet`` (only .NET's enveloped-transform rule)."""
    renewal: dict[str, Any] | None = None
    """When asked for (``ValidationPolicy.renewal_dates``): the date by which this
    signature's proof must be renewed and why (:class:`verify.preservation.RenewalDue`)."""

    def __post_init__(self) -> None:
        # pyHanko's string objects (a field name read from the PDF) keep a reference to
        # the whole parsed document: a report holds plain strings only, so that it is
        # small to keep and to send between processes.
        for name in ("field_name", "sub_filter"):
            value = getattr(self, name)
            if value is not None and type(value) is not str:
                object.__setattr__(self, name, str(value))

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED

    def circular15_vi(self) -> dict[str, str]:
        """The items Circular 15/2025/TT-BKHCN asks verification software to display."""
        signer = self.signer or {}
        leaf = self.chain[0] if self.chain else None
        revocation_ok = self.revocation is not None and self.revocation.checked
        items = {
            "Kết quả": "Hợp lệ"
            if self.passed
            else (
                "Không hợp lệ"
                if self.indication is Indication.TOTAL_FAILED
                else "Chưa xác định được"
            ),
            "Người ký": str(signer.get("name") or "không rõ"),
            "Tổ chức": str(signer.get("organisation") or "không có"),
            "Đơn vị quản lý chứng thư số": str(
                signer.get("issuer_organisation") or signer.get("issuer_name") or "không rõ"
            ),
            "Thời điểm ký": vn_time(self.signing_time_proven or self.signing_time_claimed)
            + (" (dấu thời gian)" if self.signing_time_proven else " (người ký khai báo)"),
            "Tính toàn vẹn": "Nội dung không bị thay đổi"
            if self.integrity
            else "Nội dung đã bị thay đổi hoặc không kiểm tra được",
            "Hiệu lực tại thời điểm ký": "Còn hiệu lực" if self.passed else "Không xác nhận được",
            "Thời hạn chứng thư số": (
                f"{vn_time(leaf.not_before)} - {vn_time(leaf.not_after)}" if leaf else "không rõ"
            ),
        }
        if not revocation_ok:
            items["Cảnh báo"] = (
                "Chưa kiểm tra được tình trạng thu hồi của chứng thư số tại thời điểm ký."
            )
        return items

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "field_name": self.field_name,
            "indication": self.indication.value,
            "sub_indication": self.sub_indication.value if self.sub_indication else None,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
            "signer": self.signer,
            "chain": [c.to_dict() for c in self.chain],
            "trust_anchor_profile": self.trust_anchor_profile,
            "signing_time_claimed": _iso(self.signing_time_claimed),
            "signing_time_proven": _iso(self.signing_time_proven),
            "timestamps": [t.to_dict() for t in self.timestamps],
            "level": self.level,
            "coverage": self.coverage,
            "modifications": self.modifications,
            "certification": self.certification,
            "revocation": self.revocation.to_dict() if self.revocation else None,
            "integrity": self.integrity,
            "digest_algorithm": self.digest_algorithm,
            "signature_algorithm": self.signature_algorithm,
            "sub_filter": self.sub_filter,
            "validated_at": _iso(self.validated_at),
            "warnings": list(self.warnings),
            "display_vi": self.circular15_vi() if self.kind != "document_timestamp" else None,
            "constraints": [c.to_dict() for c in self.constraints],
            "role": self.role,
            "covers": list(self.covers),
            "xml_reading": self.xml_reading,
            "renewal": self.renewal,
        }


class VerificationFailed(Exception):
    """Raised by :meth:`DocumentReport.raise_for_status` when a document did not pass."""

    def __init__(self, report: DocumentReport) -> None:
        super().__init__(
            f"{report.path or '<bytes>'}: {report.indication.value}"
            + (f"/{report.sub_indication.value}" if report.sub_indication else "")
            + f": {report.message_en}"
        )
        self.report = report


@dataclass(frozen=True)
class DocumentReport:
    """The verdict on one file: the worst of its signatures, with the reasons."""

    path: str | None
    size: int
    sha256: str | None
    format: str
    """What the file was read as: ``pdf``, ``xml``, ``cms``, ``dossier`` (a hoso dossier's
    ``manifest.json``), ``unknown``; for a NOT_SIGNED file, what it looks like: ``text``,
    ``json``, ``html``, ``image``, ``archive``, ``pem``, ``special`` (FIFO, device, folder)."""
    indication: Indication
    sub_indication: SubIndication | None
    message_vi: str
    message_en: str
    signatures: tuple[SignatureReport, ...] = ()
    validation_time: datetime | None = None
    warnings: tuple[str, ...] = ()
    elapsed_ms: float | None = field(default=None, compare=False)
    detached_signature: str | None = None
    """For content verified against a detached CMS signature: that signature's path."""
    facts: dict[str, Any] | None = None
    """For an e-invoice: what its signed elements say (see :mod:`verify.einvoice`); for a
    hoso dossier: its code, procedure, declarant and parts (see :mod:`verify.dossier`)."""

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED

    @classmethod
    def from_signatures(
        cls,
        path: str | None,
        data: bytes,
        fmt: str,
        moment: datetime,
        signatures: Sequence[SignatureReport],
        warnings: Sequence[str] = (),
        sha256: str | None = None,
    ) -> DocumentReport:
        """The document's report from its signatures' reports: the worst verdict decides,
        and its sentence names the first signature with that verdict. ``sha256`` is the hex
        SHA-256 of ``data`` if already known."""
        digest = sha256 or hashlib.sha256(data).hexdigest()
        failing = [s for s in signatures if not s.passed]
        if not failing:
            n = len(signatures)
            base_vi, base_en = sentences(None)
            return cls(
                path=path,
                size=len(data),
                sha256=digest,
                format=fmt,
                indication=Indication.TOTAL_PASSED,
                sub_indication=None,
                message_vi=f"Tài liệu hợp lệ: cả {n} chữ ký đều hợp lệ." if n > 1 else base_vi,
                message_en=f"The document is valid: all {n} signatures are valid."
                if n > 1
                else base_en,
                signatures=tuple(signatures),
                validation_time=moment,
                warnings=tuple(warnings),
            )
        ind = worst(s.indication for s in signatures)
        first = next(s for s in failing if s.indication is ind)
        return cls(
            path=path,
            size=len(data),
            sha256=digest,
            format=fmt,
            indication=ind,
            sub_indication=first.sub_indication,
            message_vi=f"Chữ ký số {first.index + 1}: {first.message_vi}",
            message_en=f"Signature {first.index + 1}: {first.message_en}",
            signatures=tuple(signatures),
            validation_time=moment,
            warnings=tuple(warnings),
        )

    def raise_for_status(self) -> DocumentReport:
        """Return self if TOTAL_PASSED, else raise :class:`VerificationFailed`."""
        if not self.passed:
            raise VerificationFailed(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "format": self.format,
            "indication": self.indication.value,
            "sub_indication": self.sub_indication.value if self.sub_indication else None,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
            "validation_time": _iso(self.validation_time),
            "detached_signature": self.detached_signature,
            "warnings": list(self.warnings),
            "signatures": [s.to_dict() for s in self.signatures],
            "facts": self.facts,
        }

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, sort_keys=False)


_R = TypeVar("_R", DocumentReport, SignatureReport, TimestampReport)


def with_fields(report: _R, **changes: Any) -> _R:
    """A copy of a report (a frozen dataclass) with ``changes``, as :func:`replace` makes it
    but without running its ``__init__`` again over every field: for changes of the fields'
    own types to a report already checked (a template's report with this document's facts,
    Id, times and warnings; a report's elapsed time). A fifth of the fast path's answer."""
    copy = object.__new__(type(report))
    fields_ = copy.__dict__
    fields_.update(report.__dict__)
    fields_.update(changes)
    return copy
