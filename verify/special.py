"""Reports for inputs that never reach the signature checks.

A signature file with no content beside it (an *orphan*), a path that is a folder or a
device, a file that cannot be read, a file in no signed format, a document whose check
blew up, ran out of time or of memory: each still gets a :class:`~verify.DocumentReport`,
so that a bulk run (:func:`verify.bulk.verify_many`, the ``verify`` command) has exactly
one verdict per document and never an exception.

:func:`screen` is what the ``verify`` command asks of every file before it is sent to the
signature checks (the folder semantics of ``docs/cli.md``):

- a file that cannot be read here (permission denied, gone, a dangling link) is
  INDETERMINATE / FILE_UNREADABLE with the cause: a problem of the checking machine, never
  a verdict on a signature;
- a FIFO, socket, device or folder is NOT_SIGNED, saying what it is; it is never opened
  (reading a FIFO can block for ever);
- a file in no signed format (text, JSON, an image, a PEM certificate, HTML or XML without
  an XMLDSig signature...) is NOT_SIGNED, saying what it looks like;
- a signed container hoso does not read (a signed Office or OpenDocument file, a signed
  JAR) is INDETERMINATE, saying so; an ASiC container is for the verifier
  (:mod:`verify.formats.asic`);
- everything else is a signed document for the verifier: a PDF (``%PDF-`` in its first
  1024 bytes), a CMS SignedData with at least one signer (DER, BER or PEM; ``.p7m``), an
  ASiC container, an XML document (an unsigned one is NO_SIGNATURE_FOUND there, as an
  unsigned PDF is; HTML and SVG only when they are XML holding an XMLDSig
  ``ds:Signature``). A damaged file whose name claims a signed format (``.pdf``, ``.p7m``,
  ``.asice``, ``.asics``, ``.sce``, ``.scs``) still goes to the verifier, whose verdict
  (FORMAT_FAILURE) is that of a damaged signed document, not NOT_SIGNED.

A file given with its detached signature is always for the verifier (the content of a
detached signature may be anything).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from verify.logs import get_logger
from verify.report import DocumentReport, Indication, SubIndication, sentences

__all__ = [
    "Kind",
    "crash_report",
    "file_facts",
    "limit_report",
    "not_signed_report",
    "one_line",
    "orphan_report",
    "plain_report",
    "read_whole",
    "screen",
    "signed_format",
    "special_file_report",
    "unreadable_report",
]


_log = get_logger("special")


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
    """A report for a path that is not a readable regular file, else ``None``.

    A FIFO, socket, device or folder is NOT_SIGNED (never opened); a file that is gone, a
    dangling link, or one that cannot be opened is INDETERMINATE / FILE_UNREADABLE with the
    cause. Called for every document of a bulk run before it is checked.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        return unreadable_report(path, exc, moment)
    if stat.S_ISREG(st.st_mode):
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            return unreadable_report(path, exc, moment)
        os.close(fd)
        return None
    if stat.S_ISDIR(st.st_mode):
        try:
            with os.scandir(path):
                pass
        except OSError as exc:
            return unreadable_report(path, exc, moment, folder=True)
    return not_signed_report(path, _special_kind(st.st_mode), moment, size=0, sha256=None)


def unreadable_report(
    path: Path, exc: OSError, moment: datetime, *, folder: bool = False, what: str = ""
) -> DocumentReport:
    """INDETERMINATE / FILE_UNREADABLE: ``path`` (or ``what`` beside it) could not be read."""
    _log.debug("%s cannot be read: %r", path, exc)
    vi_cause, en_cause = _cause(path, exc, folder=folder)
    if what:
        vi_cause, en_cause = f"{what}: {vi_cause}", f"{what}: {en_cause}"
    return plain_report(
        path,
        indication=Indication.INDETERMINATE,
        sub=SubIndication.FILE_UNREADABLE,
        reason_vi=vi_cause,
        reason_en=en_cause,
        moment=moment,
        hash_file=False,
    )


def _cause(path: Path, exc: OSError, *, folder: bool) -> tuple[str, str]:
    what_vi, what_en = ("thư mục", "folder") if folder else ("tệp", "file")
    if isinstance(exc, FileNotFoundError):
        if os.path.islink(path):
            return (
                "liên kết trỏ tới tệp không tồn tại",
                "the link points to a file that does not exist",
            )
        return (
            f"{what_vi} không tồn tại, có thể đã bị xóa hoặc di chuyển",
            f"the {what_en} does not exist; it may have been removed or moved",
        )
    if isinstance(exc, PermissionError):
        return (
            f"không có quyền đọc {what_vi}: {exc.strerror}",
            f"no permission to read the {what_en}: {exc.strerror}",
        )
    reason = exc.strerror or one_line(exc)
    return f"lỗi khi đọc {what_vi}: {reason}", f"error reading the {what_en}: {reason}"


@dataclass(frozen=True)
class Kind:
    """What a file that is not a signed document looks like."""

    format: str
    """The report's ``format``: text, json, html, xml, image, archive, pem, cms, special,
    unknown."""
    vi: str
    en: str


def not_signed_report(
    path: Path, kind: Kind, moment: datetime, *, size: int, sha256: str | None
) -> DocumentReport:
    """NOT_SIGNED: the file is in no signed format; the sentence says what it looks like."""
    return DocumentReport(
        path=os.fspath(path),
        size=size,
        sha256=sha256,
        format=kind.format,
        indication=Indication.NOT_SIGNED,
        sub_indication=None,
        message_vi=f"Không phải tài liệu có chữ ký số: {kind.vi}; không có gì để kiểm tra.",
        message_en=f"Not a signed document: {kind.en}; there is nothing to verify.",
        validation_time=moment,
    )


def _special_kind(mode: int) -> Kind:
    if stat.S_ISDIR(mode):
        return Kind("special", "thư mục", "a folder")
    if stat.S_ISFIFO(mode):
        return Kind(
            "special", "ống dẫn có tên (FIFO), không được đọc", "a FIFO (named pipe), not read"
        )
    if stat.S_ISSOCK(mode):
        return Kind("special", "socket, không được đọc", "a socket, not read")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return Kind("special", "tệp thiết bị, không được đọc", "a device file, not read")
    return Kind("special", "tệp đặc biệt, không được đọc", "a special file, not read")


# -- what a file is -----------------------------------------------------------------------

HEAD_BYTES = 4096
"""How much of a file is read to tell its format (a PDF header may lie up to byte 1024)."""

CLAIMED_SUFFIXES = (".pdf", ".p7m", ".asice", ".asics", ".sce", ".scs")
"""Names that claim a signed format: such a file goes to the verifier even when damaged."""

SMALL_CMS = 1024 * 1024
"""A CMS file up to this size is parsed to tell a certificates-only bundle (.p7b/.p7c)."""

_DS_NAMESPACE = b"http://www.w3.org/2000/09/xmldsig#"
_HTML_RE = re.compile(
    rb"^(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
    rb"<(?:!doctype\s+html|(?:html|head|body|meta|title|script|style|link)[\s>/])",
    re.S,
)
_HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_SVG_RE = re.compile(
    rb"^(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype\s+svg[^>]*>\s*)?<svg[\s>]", re.S
)
_IMAGES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
_CHUNK = 1 << 20


def signed_format(path: Path, max_size: int) -> Kind | str | None:
    """What the verifier should make of the regular file ``path``.

    A string: the file is for the verifier (``pdf``, ``cms``, ``xml``, or ``claimed`` for a
    file whose name claims a signed format). A :class:`Kind`: the file is NOT_SIGNED and
    looks like that. ``None``: a signed container hoso does not read (see :func:`screen`).
    Raises :class:`OSError` when the file cannot be read.
    """
    size = os.stat(path).st_size
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
    if b"%PDF-" in head[:1024]:
        return "pdf"
    from verify.cms_forms import looks_like_signed_data

    if looks_like_signed_data(head):
        if size <= SMALL_CMS and _certificates_only(path.read_bytes()):
            return Kind(
                "cms",
                "gói chứng thư số PKCS#7 không có chữ ký",
                "a PKCS#7 certificate bundle with no signature",
            )
        return "cms"
    is_zip = head.startswith(b"PK\x03\x04")
    if is_zip:
        from verify.formats.asic import looks_like_asic

        if looks_like_asic(head):
            return "asic"
    if path.suffix.lower() in CLAIMED_SUFFIXES:
        return "claimed"
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if body.startswith(b"<"):
        return _markup(path, body, size, max_size)
    if is_zip:
        return _zip(path)
    return _plain_kind(path, head, size)


def _certificates_only(data: bytes) -> bool:
    """A CMS SignedData that parses and has no SignerInfo (a .p7b / .p7c bundle)."""
    try:
        from asn1crypto import cms, pem

        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        info = cms.ContentInfo.load(data)
        if info["content_type"].native != "signed_data":
            return False
        return len(info["content"]["signer_infos"]) == 0
    except Exception:  # noqa: BLE001 - anything unparsable is for the verifier to judge
        return False


def _has_ds_namespace(path: Path) -> bool:
    keep = len(_DS_NAMESPACE) - 1
    tail = b""
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            if _DS_NAMESPACE in tail + chunk:
                return True
            tail = chunk[-keep:]
    return False


def _markup(path: Path, body: bytes, size: int, max_size: int) -> Kind | str:
    """XML goes to the verifier (unsigned, it is NO_SIGNATURE_FOUND there, as an unsigned
    PDF is); HTML and SVG only when they are XML holding a ds:Signature."""
    lower = body[:2048].lower()
    if _HTML_RE.match(lower) or path.suffix.lower() in _HTML_SUFFIXES:
        kind = Kind(
            "html",
            "trang HTML không có chữ ký XML (ds:Signature)",
            "an HTML page with no XML signature (ds:Signature)",
        )
    elif _SVG_RE.match(lower):
        kind = Kind("image", "ảnh SVG", "an SVG image")
    else:
        return "xml"
    if size > max_size:
        return kind  # not read further; it would not be verified either (SIZE_LIMIT_EXCEEDED)
    if _has_ds_namespace(path) and _xml_with_signature(path):
        return "xml"  # HTML is read as XML only when it is XML with an XML signature
    return kind


def _xml_with_signature(path: Path) -> bool:
    """Whether ``path`` parses as XML (no DTD, no entities, no network) with a ds:Signature."""
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.parse(os.fspath(path), parser).getroot()
    except (etree.XMLSyntaxError, OSError, ValueError):
        return False
    ds = _DS_NAMESPACE.decode()
    return next(root.iter(f"{{{ds}}}Signature"), None) is not None


def _zip(path: Path) -> Kind | str | None:
    """A ZIP: an ASiC container (``asic``, for the verifier), another signed container
    (signed OOXML/ODF, a signed JAR) or an archive."""
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            mimetype = b""
            if "mimetype" in names:
                with z.open("mimetype") as m:
                    mimetype = m.read(64)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        names, mimetype = [], b""
    from verify.formats.asic import is_asic_entry

    if mimetype.startswith(b"application/vnd.etsi.asic") or any(map(is_asic_entry, names)):
        return "asic"
    for name in names:
        upper = name.upper()
        if (
            upper.startswith("_XMLSIGNATURES/")
            or (upper.startswith("META-INF/") and "SIGNATURE" in upper)
            or (upper.startswith("META-INF/") and upper.endswith((".RSA", ".DSA", ".EC")))
        ):
            return None
    office = any(n.startswith(("word/", "xl/", "ppt/")) for n in names) or mimetype.startswith(
        b"application/vnd.oasis.opendocument"
    )
    if office:
        return Kind("archive", "tài liệu Office không có chữ ký", "an Office document, unsigned")
    return Kind("archive", "tệp nén ZIP", "a ZIP archive")


def _plain_kind(path: Path, head: bytes, size: int) -> Kind:
    if size == 0:
        return Kind("unknown", "tệp rỗng", "an empty file")
    for magic, name in _IMAGES:
        if head.startswith(magic):
            return Kind("image", f"ảnh {name}", f"a {name} image")
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return Kind("image", "ảnh WebP", "a WebP image")
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    pem = re.match(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----", body)
    if pem:
        label = pem.group(1).decode("ascii")
        return Kind("pem", f"tệp PEM ({label})", f"a PEM file ({label})")
    text = _text(head)
    if text and (body[:1] in (b"{", b"[") or path.suffix.lower() == ".json"):
        return Kind("json", "dữ liệu JSON", "JSON data")
    if text:
        return Kind("text", "tệp văn bản", "a text file")
    return Kind(
        "unknown",
        "dữ liệu nhị phân không thuộc định dạng có chữ ký số",
        "binary data in no signed format",
    )


def _text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the head
            return False
    return True


def screen(
    path: Path,
    moment: datetime,
    *,
    max_size: int,
    detached: Path | None = None,
) -> DocumentReport | None:
    """The report of a file that needs no signature check, else ``None`` (see the module
    docs). ``max_size`` is the policy's file-size limit: a NOT_SIGNED file larger than
    that is not hashed."""
    found = special_file_report(path, moment)
    if found is not None:
        return found if detached is None else _with_detached(found, detached)
    if detached is not None:
        try:
            st = os.stat(detached)
        except OSError as exc:
            return _with_detached(
                unreadable_report(path, exc, moment, what=f"chữ ký {detached.name}"), detached
            )
        if not stat.S_ISREG(st.st_mode):
            kind = _special_kind(st.st_mode)
            return _with_detached(
                plain_report(
                    path,
                    indication=Indication.INDETERMINATE,
                    sub=SubIndication.FILE_UNREADABLE,
                    reason_vi=f"tệp chữ ký {detached.name} là {kind.vi}",
                    reason_en=f"the signature file {detached.name} is {kind.en}",
                    moment=moment,
                    fmt="cms",
                    hash_file=False,
                ),
                detached,
            )
        return None
    try:
        found_kind = signed_format(path, max_size)
        size = os.stat(path).st_size
    except OSError as exc:
        return unreadable_report(path, exc, moment)
    if isinstance(found_kind, str):
        return None
    if found_kind is None:
        return plain_report(
            path,
            indication=Indication.INDETERMINATE,
            sub=SubIndication.GENERIC,
            reason_vi="tệp là gói có chữ ký (ASiC, tài liệu Office/OpenDocument hoặc JAR có "
            "chữ ký) mà phiên bản này chưa kiểm tra được.",
            reason_en="the file is a signed container (ASiC, a signed Office/OpenDocument "
            "file or JAR) that this version cannot check.",
            moment=moment,
            fmt="archive",
            hash_file=size <= max_size,
        )
    sha = None
    if size <= max_size:
        size, sha = file_facts(path)
    return not_signed_report(path, found_kind, moment, size=size, sha256=sha)


def read_whole(path: Path, *, up_to: int, screened: bool = False) -> bytes | None:
    """The bytes of ``path`` when it is a regular file of at most ``up_to`` bytes that
    :func:`screen` would hand to the verifier as it is (a PDF, an XML document that is not
    HTML or SVG, a name claiming a signed format; any file when ``screened`` already),
    read with one ``open``; else None, and the file goes the usual way (screening, the
    verifier's own read), which gives every other file its report. One open, ``fstat``
    and read instead of the screening's three ``stat`` and two ``open`` and the verifier's
    ``stat``, ``open`` and read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        size = st.st_size
        if not stat.S_ISREG(st.st_mode) or size > up_to:
            return None
        chunks: list[bytes] = []
        total = 0
        while total <= size:  # one byte more than promised: a file that grows goes on
            more = os.read(fd, size + 1 - total)
            if not more:
                break
            chunks.append(more)
            total += len(more)
    except OSError:
        return None
    finally:
        os.close(fd)
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if len(data) != size:
        return None  # changed while read: the usual way says what it finds
    return data if screened or _for_the_verifier(path, data[:HEAD_BYTES]) else None


def _for_the_verifier(path: Path, head: bytes) -> bool:
    """Whether :func:`signed_format` gives the file to the verifier from its first bytes
    alone (``pdf``, ``claimed``, ``xml`` that is not HTML or SVG); False for what it
    looks at further (CMS, ZIP, HTML, SVG, anything else)."""
    if b"%PDF-" in head[:1024]:
        return True
    from verify.cms_forms import looks_like_signed_data

    if looks_like_signed_data(head) or head.startswith(b"PK\x03\x04"):
        return False
    if path.suffix.lower() in CLAIMED_SUFFIXES:
        return True
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not body.startswith(b"<"):
        return False
    lower = body[:2048].lower()
    return not (
        _HTML_RE.match(lower) or path.suffix.lower() in _HTML_SUFFIXES or _SVG_RE.match(lower)
    )


def _with_detached(report: DocumentReport, detached: Path) -> DocumentReport:
    from dataclasses import replace

    return replace(report, detached_signature=os.fspath(detached))


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
