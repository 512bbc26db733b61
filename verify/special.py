"""Reports for inputs that never reach the signature checks.

A signature file with no content beside it (an *orphan*), a path that is a folder or a
device, a document whose check blew up, ran out of time or of memory: each still gets a
:class:`~verify.DocumentReport`, so that a bulk run (:func:`verify.bulk.verify_many`, the
``verify`` command) has exactly one verdict per document and never an exception.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from datetime import datetime
from pathlib import Path

from verify.report import DocumentReport, Indication, SubIndication, sentences

__all__ = [
    "crash_report",
    "file_facts",
    "limit_report",
    "one_line",
    "orphan_report",
    "plain_report",
    "special_file_report",
]


def one_line(exc: BaseException) -> str:
    """An exception as one short line (its message, else its type)."""
    text = " ".join(str(exc).split())
    return (text or type(exc).__name__)[:300]


def file_facts(path: Path) -> tuple[int, str | None]:
    """Size and SHA-256 of a regular file; ``(0, None)`` if it cannot be read."""
    try:
        if not path.is_file():
            return 0, None
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
        return size, digest.hexdigest()
    except OSError:
        return 0, None


def plain_report(
    path: Path,
    *,
    indication: Indication,
    sub: SubIndication,
    reason_vi: str,
    reason_en: str,
    moment: datetime,
    fmt: str = "unknown",
    extra_vi: str = "",
    extra_en: str = "",
    hash_file: bool = True,
) -> DocumentReport:
    """A document-level verdict with no signature reports."""
    vi, en = sentences(sub, reason_vi, reason_en)
    if hash_file:
        size, sha = file_facts(path)
    else:
        size, sha = 0, None
        with contextlib.suppress(OSError):
            size = path.stat().st_size
    return DocumentReport(
        path=os.fspath(path),
        size=size,
        sha256=sha,
        format=fmt,
        indication=indication,
        sub_indication=sub,
        message_vi=f"{vi} {extra_vi}".strip(),
        message_en=f"{en} {extra_en}".strip(),
        validation_time=moment,
    )


def _looks_like_cms(path: Path) -> bool:
    try:
        from asn1crypto import cms, pem

        with path.open("rb") as f:
            data = f.read(16 * 1024 * 1024)
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        info = cms.ContentInfo.load(data)
        return info["content_type"].native == "signed_data" and info["content"] is not None
    except Exception:  # noqa: BLE001 - anything unreadable is "not CMS"
        return False


def orphan_report(path: Path, moment: datetime) -> DocumentReport:
    """A detached signature (``X.p7s`` / ``X.sig``) whose content file ``X`` is not there."""
    content = path.with_suffix("").name
    if not _looks_like_cms(path):
        return plain_report(
            path,
            indication=Indication.TOTAL_FAILED,
            sub=SubIndication.FORMAT_FAILURE,
            reason_vi="tệp chữ ký không phải là chữ ký CMS đọc được",
            reason_en="the signature file is not a readable CMS signature",
            moment=moment,
            fmt="cms",
        )
    return plain_report(
        path,
        indication=Indication.INDETERMINATE,
        sub=SubIndication.SIGNED_DATA_NOT_FOUND,
        reason_vi="",
        reason_en="",
        moment=moment,
        fmt="cms",
        extra_vi=f"Đây là chữ ký rời nhưng không có tệp dữ liệu “{content}” bên cạnh; "
        f"hãy đặt tệp đã ký cạnh tệp chữ ký hoặc dùng --detached.",
        extra_en=f"This is a detached signature but there is no content file “{content}” "
        f"beside it; put the signed file next to it or use --detached.",
    )


def crash_report(path: Path, exc: BaseException, moment: datetime) -> DocumentReport:
    """An unexpected error while checking one document: that document fails, named."""
    return plain_report(
        path,
        indication=Indication.TOTAL_FAILED,
        sub=SubIndication.FORMAT_FAILURE,
        reason_vi=f"lỗi không mong đợi khi kiểm tra tệp ({type(exc).__name__}: {one_line(exc)})",
        reason_en=f"unexpected error while checking the file ({type(exc).__name__}: "
        f"{one_line(exc)})",
        moment=moment,
    )


def special_file_report(path: Path, moment: datetime) -> DocumentReport | None:
    """A report for a named path that is neither a regular file nor missing, else ``None``."""
    try:
        if not path.exists() or path.is_file():
            return None
        what_vi, what_en = ("thư mục", "a folder") if path.is_dir() else ("tệp đặc biệt", "special")
    except OSError:
        return None
    return plain_report(
        path,
        indication=Indication.TOTAL_FAILED,
        sub=SubIndication.FORMAT_FAILURE,
        reason_vi=f"đường dẫn không phải là tệp thông thường ({what_vi})",
        reason_en=f"the path is not a regular file ({what_en})",
        moment=moment,
        hash_file=False,
    )


def limit_report(
    path: Path,
    sub: SubIndication,
    reason_vi: str,
    reason_en: str,
    moment: datetime,
    *,
    fmt: str = "unknown",
) -> DocumentReport:
    """INDETERMINATE: the document's check went past a time or memory limit, or its worker
    died. The file is not read again (it may be what hangs)."""
    return plain_report(
        path,
        indication=Indication.INDETERMINATE,
        sub=sub,
        reason_vi=reason_vi,
        reason_en=reason_en,
        moment=moment,
        fmt=fmt,
        hash_file=False,
    )
