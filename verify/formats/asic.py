"""The ASiC reader: ASiC-S and ASiC-E containers (ETSI EN 319 162-1), read in memory.

An ASiC container is a ZIP file. Its ``mimetype`` entry (first, stored, no extra field)
says ``application/vnd.etsi.asic-s+zip`` or ``application/vnd.etsi.asic-e+zip``; its
``META-INF/`` folder holds what signs or timestamps the other files:

``META-INF/signature*.p7s``
    a detached CAdES signature: in ASiC-S over the container's one data file, in ASiC-E
    over the ``META-INF/ASiCManifest*.xml`` whose ``SigReference`` names it; the manifest
    lists each covered file with its digest. Read by :class:`~verify.formats.cms.CmsReader`
    exactly as a ``.p7s`` next to its content is, so trust, revocation, timestamps and the
    policy's constraints apply unchanged;
``META-INF/timestamp*.tst``
    an RFC 3161 time assertion: in ASiC-S over the one data file, in ASiC-E (and for a
    long-term ``ASiCArchiveManifest*.xml``) over the manifest that names it; validated with
    pyHanko (imprint, signature, the TSA's path with the certificates and revocation values
    the token carries) and reported as a document timestamp. What it covers with a
    matching digest (a signature file, an older timestamp) is proven to have existed at its
    genTime: the signatures get it as proof of existence (CAdES through the CMS reader's
    ``proofs``, XAdES and an ASiC-S e-invoice through the XML reader), and the timestamps
    are judged newest first, an older one at its own time when a later trusted one covers
    it (a renewed archive chain keeps an expired TSA's proof);
``META-INF/signatures*.xml``
    XAdES signatures (:mod:`verify.formats.asic_xades`): each reference to a container
    file digested over that file, the rest as the XML reader checks a standalone
    signature.

Every signature's report names the container entry that holds it (``field_name``) and the
files it covers (``covers``); the document's ``facts`` list every file with its SHA-256,
what covers it and its status. A file whose digest differs from its manifest's makes the
signature over that manifest TOTAL_FAILED / HASH_FAILURE naming the file; a file the
manifest lists but the container lacks makes it INDETERMINATE / SIGNED_DATA_NOT_FOUND (as
EU DSS says); a data file that no signature or timestamp covers leaves the container
INDETERMINATE (each signature keeps its own verdict).

Hostile containers get a verdict, never an extraction: the ZIP is read from the bytes in
memory, each entry streamed through its digests within :class:`ContainerLimits` (entry
count, per-entry and total uncompressed size, compression ratio as EU DSS bounds it), and
names that could leave a folder (``../``, absolute, backslashes, control characters),
duplicate names, encrypted entries and unknown compression methods are refused with one
sentence in Vietnamese and one in English. A missing, misplaced, compressed or unknown
``mimetype`` is a warning, as in EU DSS (which reads such containers).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import io
import re
import struct
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from asn1crypto import cms
from lxml import etree
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus

from verify import cms_forms, process
from verify.engine import (
    CMS_ALGOS,
    Engine,
    Verdict,
    cert_info,
    common_name,
    indication_for,
    path_certs,
    short,
    sub_of,
)
from verify.formats.asic_xades import xades_file_reports
from verify.formats.cms import CmsReader
from verify.formats.signed_data import exception_verdict, token_algorithms
from verify.formats.xml import XmlReader
from verify.report import (
    DocumentReport,
    Indication,
    SignatureReport,
    SubIndication,
    sentences,
    vn_time,
)
from verify.xmldsig import looks_like_xml

__all__ = [
    "ASIC_NAMESPACE",
    "MIMETYPE_E",
    "MIMETYPE_S",
    "AsicReader",
    "ContainerLimits",
    "is_asic_entry",
    "looks_like_asic",
]

MIMETYPE_S = "application/vnd.etsi.asic-s+zip"
MIMETYPE_E = "application/vnd.etsi.asic-e+zip"
ASIC_NAMESPACE = "http://uri.etsi.org/02918/v1.2.1#"
_DS = "http://www.w3.org/2000/09/xmldsig#"

# The digest methods an ASiCManifest may name, as hashlib names.
DIGEST_METHODS = {
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    "http://www.w3.org/2001/04/xmldsig-more#md5": "md5",
    "http://www.w3.org/2001/04/xmldsig-more#sha224": "sha224",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-224": "sha3_224",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-256": "sha3_256",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-384": "sha3_384",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-512": "sha3_512",
}

_CHUNK = 1 << 16
_META = "META-INF/"
# What looks like an ASiC entry in a ZIP's bytes (names are stored uncompressed).
_ASIC_NAME = re.compile(
    rb"META-INF/(?:signatures?[^/\x00]*\.(?:p7s|xml)|timestamp[^/\x00]*\.tst"
    rb"|ASiC(?:Archive)?Manifest[^/\x00]*\.xml)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ContainerLimits:
    """How much of a container is read before it is refused (SIZE_LIMIT_EXCEEDED).

    ``None`` sizes follow the policy: an entry may be as large as ``max_file_size``, all
    entries together four times that. The ratio bound is EU DSS's: past ``ratio_floor``
    bytes, the entries together may not expand to more than ``max_ratio`` times the
    container's size.
    """

    max_entries: int = 1000
    max_entry_size: int | None = None
    max_total_size: int | None = None
    max_ratio: int = 100
    ratio_floor: int = 1_000_000
    max_name_length: int = 1024
    max_references: int = 10_000
    """DataObjectReferences in one manifest, and ds:References in one XAdES file."""


def looks_like_asic(data: bytes) -> bool:
    """A ZIP whose ``mimetype`` says ASiC or that names an ASiC entry in ``META-INF/``.

    Other ZIPs (Office and OpenDocument files, JARs, plain archives) are not claimed.
    """
    if not data.startswith(b"PK\x03\x04"):
        return False
    name_len, extra_len = struct.unpack("<HH", data[26:30]) if len(data) >= 30 else (0, 0)
    if data[30 : 30 + name_len] == b"mimetype":
        body = data[30 + name_len + extra_len : 30 + name_len + extra_len + 64]
        if body.startswith(b"application/vnd.etsi.asic-"):
            return True
    return _ASIC_NAME.search(data) is not None


def is_asic_entry(name: str) -> bool:
    """Whether a ZIP entry's name is one of ASiC's ``META-INF/`` signatures, timestamps or
    manifests (any letter case)."""
    return _ASIC_NAME.fullmatch(name.encode("utf-8", "replace")) is not None


# -- reading the ZIP ---------------------------------------------------------------------------


class _Refused(Exception):
    """The container is refused as a whole; ``verdict`` says why."""

    def __init__(self, sub: SubIndication, vi: str, en: str) -> None:
        super().__init__(en)
        self.verdict = Verdict(sub, vi, en)


@dataclass
class _Entry:
    name: str
    info: zipfile.ZipInfo
    size: int
    digests: dict[str, bytes] = field(default_factory=dict)
    data: bytes | None = None


@dataclass
class _Zip:
    """What was read of a container: its entries in order, META-INF's in memory."""

    entries: list[_Entry]
    by_name: dict[str, _Entry]
    mimetype: str | None
    warnings: list[str]


def _shown(name: str) -> str:
    """A name from the container as it may be printed: control characters escaped, cut."""
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in name)
    return text if len(text) <= 80 else text[:77] + "..."


def _warning(vi: str, en: str) -> str:
    return f"{en} ({vi})"


def _entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name: UTF-8 when its bytes are UTF-8 even without the ZIP's UTF-8 flag
    (many tools omit it), else as zipfile read it."""
    name = info.orig_filename
    if not info.flag_bits & 0x800:
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("cp437").decode("utf-8")
    return name


def _name_problem(name: str, limit: int) -> tuple[str, str] | None:
    """Why an entry name is unsafe (it could leave a folder or hide what it is)."""
    if not name:
        return "tên rỗng", "an empty name"
    if len(name) > limit:
        return f"tên dài hơn {limit} ký tự", f"a name longer than {limit} characters"
    if "\\" in name:
        return "tên có dấu gạch chéo ngược (\\)", "a name with a backslash (\\)"
    if any(not c.isprintable() for c in name):
        return "tên có ký tự điều khiển", "a name with control characters"
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "đường dẫn tuyệt đối", "an absolute path"
    parts = name[:-1].split("/") if name.endswith("/") else name.split("/")
    if any(p == ".." for p in parts):
        return "đường dẫn ra ngoài thư mục (../)", "a path that leaves its folder (../)"
    if any(p in ("", ".") for p in parts):
        return "đường dẫn có phần rỗng hoặc '.'", "a path with an empty or '.' segment"
    return None


def _entry_count(data: bytes) -> int:
    """An upper bound on the entries zipfile would read: the central directory records in
    the central directory (the whole file for ZIP64), counted before zipfile reads them."""
    pos = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if pos < 0 or pos + 22 > len(data):
        return 0  # zipfile refuses it
    declared, cd_size = (int(v) for v in struct.unpack("<HI", data[pos + 10 : pos + 16]))
    if declared == 0xFFFF or cd_size == 0xFFFFFFFF:
        return max(declared, data.count(b"PK\x01\x02"))
    return max(declared, data.count(b"PK\x01\x02", max(0, pos - cd_size), pos))


def _open(data: bytes, limits: ContainerLimits, max_file_size: int) -> tuple[zipfile.ZipFile, _Zip]:
    """The container's entries, checked; ``_Refused`` for what is not read at all."""
    count = _entry_count(data)
    if count > limits.max_entries:
        raise _Refused(
            SubIndication.SIZE_LIMIT_EXCEEDED,
            f"gói có hơn {limits.max_entries:,} mục",
            f"the container has more than {limits.max_entries:,} entries",
        )
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except Exception as exc:  # hostile input ends in a verdict
        raise _Refused(
            SubIndication.FORMAT_FAILURE,
            f"gói ASiC không phải tệp ZIP đọc được ({short(exc)})",
            f"the ASiC container is not a readable ZIP ({short(exc)})",
        ) from exc
    if len(infos) > limits.max_entries:
        raise _Refused(
            SubIndication.SIZE_LIMIT_EXCEEDED,
            f"gói có hơn {limits.max_entries:,} mục",
            f"the container has more than {limits.max_entries:,} entries",
        )
    per_entry = limits.max_entry_size or max_file_size
    total_limit = limits.max_total_size or 4 * max_file_size
    entries: list[_Entry] = []
    seen: set[str] = set()
    declared_total = 0
    for info in infos:
        name = _entry_name(info)
        problem = _name_problem(name, limits.max_name_length)
        if problem is not None:
            raise _Refused(
                SubIndication.FORMAT_FAILURE,
                f"mục {_shown(name)!r} có tên không an toàn: {problem[0]}",
                f"the entry {_shown(name)!r} has an unsafe name: {problem[1]}",
            )
        key = unicodedata.normalize("NFC", name)
        if key in seen:
            raise _Refused(
                SubIndication.FORMAT_FAILURE,
                f"gói có hai mục cùng tên {_shown(name)!r}",
                f"the container has two entries named {_shown(name)!r}",
            )
        seen.add(key)
        if info.flag_bits & 0x1:
            raise _Refused(
                SubIndication.ENCRYPTED,
                f"mục {_shown(name)!r} được mã hóa",
                f"the entry {_shown(name)!r} is encrypted",
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Refused(
                SubIndication.FORMAT_FAILURE,
                f"mục {_shown(name)!r} dùng phương thức nén {info.compress_type} không được "
                "hỗ trợ (chỉ stored hoặc deflate)",
                f"the entry {_shown(name)!r} uses compression method {info.compress_type} "
                "(only stored or deflate are read)",
            )
        if info.file_size > per_entry:
            raise _too_large(name, per_entry)
        declared_total += info.file_size
        entries.append(_Entry(name, info, info.file_size))
    _check_total(declared_total, len(data), limits, total_limit)
    by_name = {e.name: e for e in entries}
    return z, _Zip(entries, by_name, None, [])


def _too_large(name: str, limit: int) -> _Refused:
    return _Refused(
        SubIndication.SIZE_LIMIT_EXCEEDED,
        f"mục {_shown(name)!r} giải nén lớn hơn {limit:,} byte",
        f"the entry {_shown(name)!r} expands to more than {limit:,} bytes",
    )


def _check_total(total: int, size: int, limits: ContainerLimits, total_limit: int) -> None:
    if total > total_limit:
        raise _Refused(
            SubIndication.SIZE_LIMIT_EXCEEDED,
            f"các mục giải nén lớn hơn {total_limit:,} byte",
            f"the entries expand to more than {total_limit:,} bytes",
        )
    if total > limits.ratio_floor and total > limits.max_ratio * max(size, 1):
        raise _Refused(
            SubIndication.SIZE_LIMIT_EXCEEDED,
            f"nội dung giải nén lớn gấp hơn {limits.max_ratio} lần gói (nghi là bom ZIP)",
            f"its content expands to more than {limits.max_ratio} times the container "
            "(a likely ZIP bomb)",
        )


class _Reader:
    """Streams entries out of the ZIP, counting every byte against the limits."""

    def __init__(
        self, z: zipfile.ZipFile, size: int, limits: ContainerLimits, max_file_size: int
    ) -> None:
        self.z = z
        self.size = size
        self.limits = limits
        self.per_entry = limits.max_entry_size or max_file_size
        self.total_limit = limits.max_total_size or 4 * max_file_size
        self.total = 0

    def stream(self, entry: _Entry, sink: Callable[[bytes], None]) -> None:
        read = 0
        try:
            with self.z.open(entry.info) as f:
                while chunk := f.read(_CHUNK):
                    read += len(chunk)
                    self.total += len(chunk)
                    if read > self.per_entry:
                        raise _too_large(entry.name, self.per_entry)
                    _check_total(self.total, self.size, self.limits, self.total_limit)
                    sink(chunk)
        except _Refused:
            raise
        except Exception as exc:  # a damaged entry ends in a verdict
            raise _Refused(
                SubIndication.FORMAT_FAILURE,
                f"mục {_shown(entry.name)!r} bị hỏng ({short(exc)})",
                f"the entry {_shown(entry.name)!r} is damaged ({short(exc)})",
            ) from exc
        entry.size = read

    def read(self, entry: _Entry) -> bytes:
        parts: list[bytes] = []
        self.stream(entry, parts.append)
        entry.data = b"".join(parts)
        return entry.data

    def digest(self, entry: _Entry, algorithms: set[str], *, keep: bool) -> None:
        hashers = {a: hashlib.new(a) for a in algorithms | {"sha256"}}
        parts: list[bytes] = []

        def sink(chunk: bytes) -> None:
            for h in hashers.values():
                h.update(chunk)
            if keep:
                parts.append(chunk)

        self.stream(entry, sink)
        entry.digests = {a: h.digest() for a, h in hashers.items()}
        if keep:
            entry.data = b"".join(parts)


# -- manifests -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reference:
    name: str
    algorithm: str | None
    """hashlib name; None when the method is unknown (``method`` says which)."""
    method: str
    digest: bytes | None


@dataclass(frozen=True)
class _Manifest:
    name: str
    signature: str | None
    """What its SigReference names (decoded), if anything."""
    references: tuple[_Reference, ...]
    problem: tuple[str, str] | None = None


def _safe_xml(data: bytes) -> Any:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ValueError("XML with a DTD or entities is refused")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    return etree.fromstring(data, parser=parser)


def _uri_name(uri: str) -> str:
    """A reference's URI as a container entry name (percent-decoded, ``./`` dropped)."""
    name = unquote(uri.strip())
    while name.startswith("./"):
        name = name[2:]
    return name


def _read_manifest(name: str, data: bytes, limits: ContainerLimits) -> _Manifest:
    try:
        root = _safe_xml(data)
        if root.tag != f"{{{ASIC_NAMESPACE}}}ASiCManifest":
            raise ValueError(f"the root element is {etree.QName(root).localname}, not ASiCManifest")
        sig = root.find(f"{{{ASIC_NAMESPACE}}}SigReference")
        signature = _uri_name(sig.get("URI", "")) if sig is not None else None
        refs: list[_Reference] = []
        for ref in root.iterfind(f"{{{ASIC_NAMESPACE}}}DataObjectReference"):
            if len(refs) >= limits.max_references:
                raise ValueError(f"more than {limits.max_references} references")
            uri = ref.get("URI")
            if not uri:
                raise ValueError("a DataObjectReference without URI")
            method_el = ref.find(f"{{{_DS}}}DigestMethod")
            method = method_el.get("Algorithm", "") if method_el is not None else ""
            text = ref.findtext(f"{{{_DS}}}DigestValue")
            try:
                digest = base64.b64decode("".join((text or "").split()), validate=True)
            except (binascii.Error, ValueError):
                digest = None
            refs.append(_Reference(_uri_name(uri), DIGEST_METHODS.get(method), method, digest))
        if not refs:
            raise ValueError("it lists no DataObjectReference")
        return _Manifest(name, signature, tuple(refs))
    except Exception as exc:  # noqa: BLE001 - hostile input ends in a reason
        return _Manifest(
            name,
            None,
            (),
            (
                f"bảng kê {_shown(name)} không đọc được ({short(exc)})",
                f"the manifest {_shown(name)} cannot be read ({short(exc)})",
            ),
        )


# -- the reader ----------------------------------------------------------------------------------


@dataclass
class _Item:
    """One signature or timestamp entry, and what it was found to cover."""

    entry: _Entry
    kind: str  # cades | timestamp | xades
    manifest: _Manifest | None = None
    content: bytes | None = None
    covers: tuple[str, ...] = ()
    problem: Verdict | None = None
    proof: process.TimestampEvidence | None = None
    """A timestamp's token as evidence (proof of existence for what it covers)."""


class AsicReader:
    """Reads ASiC-S and ASiC-E containers for one :class:`~verify.engine.Engine`; the
    CAdES signatures inside go through ``cms`` (a :class:`CmsReader` of the same engine)."""

    def __init__(
        self,
        engine: Engine,
        cms_reader: CmsReader | None = None,
        limits: ContainerLimits | None = None,
        xml_reader: XmlReader | None = None,
    ) -> None:
        self.engine = engine
        self.cms = cms_reader or CmsReader(engine)
        self.xml = xml_reader or XmlReader(engine)
        self.limits = limits or ContainerLimits()

    async def verify(self, path: str | None, data: bytes, moment: datetime) -> DocumentReport:
        """The container's report. Never raises on hostile input."""
        try:
            return await self._verify(path, data, moment)
        except _Refused as refused:
            return self.engine.document(path, data, "asic", moment, (), refused.verdict, ())
        except Exception as exc:  # noqa: BLE001 - hostile input must end in a verdict
            verdict = Verdict(
                SubIndication.FORMAT_FAILURE,
                f"gói ASiC không đọc được ({short(exc)})",
                f"the ASiC container cannot be read ({short(exc)})",
            )
            return self.engine.document(path, data, "asic", moment, (), verdict, ())

    async def _verify(self, path: str | None, data: bytes, moment: datetime) -> DocumentReport:
        policy = self.engine.policy
        z, container = _open(data, self.limits, policy.max_file_size)
        with z:
            return await self._read(path, data, moment, z, container)

    async def _read(
        self, path: str | None, data: bytes, moment: datetime, z: zipfile.ZipFile, container: _Zip
    ) -> DocumentReport:
        policy = self.engine.policy
        reader = _Reader(z, len(data), self.limits, policy.max_file_size)
        warnings = container.warnings
        files = [e for e in container.entries if not e.name.endswith("/")]
        meta = [e for e in files if e.name.startswith(_META)]
        data_files = [e for e in files if not e.name.startswith(_META) and e.name != "mimetype"]
        mimetype = self._mimetype(data, container, reader, warnings)
        for entry in meta:
            reader.read(entry)

        items: list[_Item] = []
        manifests: list[_Manifest] = []
        for entry in meta:
            kind = _meta_kind(entry.name)
            if kind in ("cades", "timestamp", "xades"):
                items.append(_Item(entry, kind))
            elif kind == "manifest":
                manifests.append(_read_manifest(entry.name, entry.data or b"", self.limits))
            elif kind == "evidence":
                warnings.append(
                    _warning(
                        f"bằng chứng lưu trữ {_shown(entry.name)} chưa được đọc",
                        f"the evidence record {_shown(entry.name)} is not read",
                    )
                )
            elif kind == "other":
                warnings.append(
                    _warning(
                        f"tệp {_shown(entry.name)} trong META-INF không được đọc",
                        f"the file {_shown(entry.name)} in META-INF is not read",
                    )
                )
        if len(items) > policy.max_signatures:
            raise _Refused(
                SubIndication.SIZE_LIMIT_EXCEEDED,
                f"gói có {len(items)} chữ ký và dấu thời gian, giới hạn {policy.max_signatures}",
                f"the container holds {len(items)} signatures and timestamps, more than the "
                f"policy's limit ({policy.max_signatures})",
            )
        container_type = _container_type(mimetype, manifests, data_files)
        named = _manifests_by_signature(manifests, container.by_name, warnings)
        single = data_files[0] if container_type == "ASiC-S" and len(data_files) == 1 else None

        # which algorithms each data file is needed in, then every data file read once
        needs: dict[str, set[str]] = {e.name: set() for e in data_files}
        for m in manifests:
            for ref in m.references:
                if ref.algorithm is not None and ref.name in needs:
                    needs[ref.name].add(ref.algorithm)
        has_xades = any(item.kind == "xades" for item in items)
        for entry in data_files:
            # a XAdES signature's references are digested over the files themselves
            reader.digest(entry, needs[entry.name], keep=entry is single or has_xades)
        for entry in meta:
            entry.digests = {"sha256": hashlib.sha256(entry.data or b"").digest()}

        for item in items:
            self._place(
                item, named, manifests, container_type, data_files, single, container.by_name
            )
        asic_s_file = [single.name] if single is not None else []
        warnings.extend(_chain_warnings(items, asic_s_file))
        reports = await self._all_reports(items, moment, container.by_name)
        if single is not None and single.data is not None and looks_like_xml(single.data):
            reports.extend(await self._signed_xml(single, items, len(reports), moment))
        facts = _facts(container_type, mimetype, data_files, items, container.by_name)
        if policy.renewal_dates:
            reports = _with_renewal(reports, items, single, container.by_name, moment, policy)
        if not reports:
            doc = self.engine.document(
                path, data, "asic", moment, (), Verdict(SubIndication.NO_SIGNATURE_FOUND), warnings
            )
            return replace(doc, facts=facts)
        uncovered = facts["not_covered"]
        doc = self.engine.document(path, data, "asic", moment, reports, None, warnings)
        if uncovered:
            listed = _listing(uncovered)
            vi = (
                f"{len(uncovered)} tệp trong gói không được chữ ký hay dấu thời gian nào bao phủ: "
                f"{listed}"
            )
            en = (
                f"{len(uncovered)} file(s) in the container covered by no signature or "
                f"timestamp: {listed}"
            )
            if doc.passed:
                doc = self.engine.document(
                    path,
                    data,
                    "asic",
                    moment,
                    reports,
                    Verdict(SubIndication.GENERIC, vi, en),
                    warnings,
                )
            else:
                doc = replace(doc, warnings=(*doc.warnings, _warning(vi, en)))
        return replace(doc, facts=facts)

    async def _all_reports(
        self, items: list[_Item], moment: datetime, by_name: dict[str, _Entry]
    ) -> list[SignatureReport]:
        """Every item's reports, in the container's order: the timestamps first (newest
        first, each judged at its own time when a later one covers it), so that what they
        prove is proof of existence for the signatures they cover."""
        done: dict[int, list[SignatureReport]] = {}
        stamps = [i for i in items if i.kind == "timestamp"]
        for item in _newest_first(stamps):
            later = _covered_at(item, stamps, by_name)
            report = await self._timestamp(0, item, moment, proven_by_later=later)
            done[id(item)] = [self._against_manifest(report, item, by_name)]
        files = {e.name: e.data for e in by_name.values() if e.data is not None}
        for item in items:
            if item.kind == "timestamp":
                continue
            proofs = _proofs_for(item.entry.name, stamps, by_name)
            found = await self._reports(item, 0, moment, proofs, files)
            done[id(item)] = [self._against_manifest(r, item, by_name) for r in found]
        flat = [r for item in items for r in done[id(item)]]
        return [replace(r, index=n) for n, r in enumerate(flat)]

    async def _signed_xml(
        self, single: _Entry, items: list[_Item], index: int, moment: datetime
    ) -> list[SignatureReport]:
        """The XML signatures inside an ASiC-S's one data file (an e-invoice), each with the
        container's timestamps over that file as proof of existence: the XML gains the
        proof of time it cannot carry itself (ETSI EN 319 162-1, ASiC-S with a time
        assertion). Nothing when the file holds no signature."""
        proofs = [i.proof for i in items if i.proof is not None and single.name in i.covers]
        doc = await self.xml.verify(None, single.data or b"", moment, proofs=proofs)
        if doc.sub_indication is SubIndication.NO_SIGNATURE_FOUND and not doc.signatures:
            return []
        if not doc.signatures:
            verdict = Verdict(doc.sub_indication, doc.message_vi, doc.message_en)
            report = _verdict_report(index, "xml", single.name, verdict, (single.name,))
            return [replace(report, message_vi=doc.message_vi, message_en=doc.message_en)]
        return [
            replace(s, index=index + n, field_name=f"{single.name}#{s.field_name or n + 1}")
            for n, s in enumerate(doc.signatures)
        ]

    def _mimetype(
        self, data: bytes, container: _Zip, reader: _Reader, warnings: list[str]
    ) -> str | None:
        """The ``mimetype`` entry's content; warnings where it is not as EN 319 162-1 asks
        (first, stored, no extra field, one of the two ASiC types)."""
        entry = container.by_name.get("mimetype")
        if entry is None:
            warnings.append(
                _warning("gói không có tệp mimetype", "the container has no mimetype file")
            )
            return None
        raw = reader.read(entry)
        text = raw.decode("utf-8", "replace")
        info = entry.info
        off = info.header_offset
        head = data[off : off + 30]
        extra = struct.unpack("<H", head[28:30])[0] if len(head) == 30 else 0
        if container.entries[0] is not entry or off != 0:
            warnings.append(
                _warning(
                    "tệp mimetype không phải mục đầu tiên của gói",
                    "the mimetype file is not the container's first entry",
                )
            )
        if info.compress_type != zipfile.ZIP_STORED or extra:
            warnings.append(
                _warning(
                    "tệp mimetype bị nén hoặc có trường phụ (extra field)",
                    "the mimetype file is compressed or has an extra field",
                )
            )
        if text.strip() not in (MIMETYPE_S, MIMETYPE_E):
            warnings.append(
                _warning(
                    f"nội dung mimetype không phải kiểu ASiC ({_shown(text)!r})",
                    f"the mimetype is not an ASiC type ({_shown(text)!r})",
                )
            )
        return text

    def _place(
        self,
        item: _Item,
        named: dict[str, list[_Manifest]],
        manifests: Sequence[_Manifest],
        container_type: str,
        data_files: Sequence[_Entry],
        single: _Entry | None,
        by_name: dict[str, _Entry],
    ) -> None:
        """What ``item`` signs or timestamps: the manifest that names it, else (ASiC-S)
        the one data file."""
        if item.kind == "xades":
            item.covers = _xades_covers(item.entry.data or b"", self.limits)
            return
        found = named.get(item.entry.name, [])
        unreadable = [m.problem for m in manifests if m.problem is not None]
        if not found and unreadable:
            item.problem = Verdict(SubIndication.FORMAT_FAILURE, *unreadable[0])
            return
        if len(found) > 1:
            item.problem = Verdict(
                SubIndication.FORMAT_FAILURE,
                f"nhiều bảng kê cùng trỏ tới {_shown(item.entry.name)}",
                f"several manifests name {_shown(item.entry.name)}",
            )
            return
        if found:
            manifest = found[0]
            item.manifest = manifest
            item.content = by_name[manifest.name].data
            item.covers = tuple(dict.fromkeys(r.name for r in manifest.references))
            return
        if single is not None:
            item.content = single.data
            item.covers = (single.name,)
            return
        if container_type == "ASiC-S":
            item.problem = Verdict(
                SubIndication.FORMAT_FAILURE,
                f"gói ASiC-S phải có đúng một tệp dữ liệu, gói này có {len(data_files)}",
                f"an ASiC-S container must hold exactly one data file; this one holds "
                f"{len(data_files)}",
            )
            return
        item.problem = Verdict(
            SubIndication.FORMAT_FAILURE,
            f"không có bảng kê ASiCManifest nào trỏ tới {_shown(item.entry.name)}",
            f"no ASiCManifest names {_shown(item.entry.name)}",
        )

    async def _reports(
        self,
        item: _Item,
        index: int,
        moment: datetime,
        proofs: Sequence[process.TimestampEvidence] = (),
        files: dict[str, bytes] | None = None,
    ) -> list[SignatureReport]:
        entry = item.entry.name
        if item.kind == "xades":
            return await self._xades(item, index, moment, proofs, files or {})
        kind = "detached" if item.kind == "cades" else "document_timestamp"
        if item.problem is not None or item.content is None:
            verdict = item.problem or Verdict(SubIndication.SIGNED_DATA_NOT_FOUND)
            return [_verdict_report(index, kind, entry, verdict, item.covers)]
        if item.kind == "timestamp":
            return [await self._timestamp(index, item, moment)]
        sig = item.entry.data or b""
        inner = _encapsulated(sig)
        # the container's timestamps over this signature (proofs) prove it existed
        if inner is None:
            doc = await self.cms.verify(
                None, item.content, sig, moment, enveloped=False, proofs=proofs
            )
        else:  # an enveloping CAdES (EU DSS reads them): it must hold what it signs
            doc = await self.cms.verify(None, sig, sig, moment, enveloped=True, proofs=proofs)
        if not doc.signatures:
            verdict = Verdict(doc.sub_indication, doc.message_vi, doc.message_en)
            report = _verdict_report(index, kind, entry, verdict, item.covers)
            return [replace(report, message_vi=doc.message_vi, message_en=doc.message_en)]
        reports = [
            replace(s, index=index + n, field_name=entry, covers=item.covers)
            for n, s in enumerate(doc.signatures)
        ]
        if inner is not None and not hmac.compare_digest(inner, item.content):
            what_vi, what_en = _what(item)
            verdict = Verdict(
                SubIndication.HASH_FAILURE,
                f"nội dung chữ ký mang theo không phải {what_vi}",
                f"the content the signature encapsulates is not {what_en}",
            )
            reports = [_overridden(r, verdict) for r in reports]
        return reports

    async def _xades(
        self,
        item: _Item,
        index: int,
        moment: datetime,
        proofs: Sequence[process.TimestampEvidence],
        files: dict[str, bytes],
    ) -> list[SignatureReport]:
        """The XAdES signatures of one ``signatures*.xml``, their references resolved in
        the container (:mod:`verify.formats.asic_xades`)."""
        entry = item.entry.name
        try:
            _xades_tree(item.entry.data or b"", self.limits)
        except Exception as exc:  # noqa: BLE001 - hostile input ends in a verdict
            verdict = Verdict(
                SubIndication.FORMAT_FAILURE,
                f"tệp chữ ký XAdES {_shown(entry)} không đọc được ({short(exc)})",
                f"the XAdES signature file {_shown(entry)} cannot be read ({short(exc)})",
            )
            return [_verdict_report(index, "xml", entry, verdict, ())]
        return await xades_file_reports(
            self.xml, entry, item.entry.data or b"", files, moment, index, proofs
        )

    async def _timestamp(
        self,
        index: int,
        item: _Item,
        moment: datetime,
        *,
        proven_by_later: datetime | None = None,
    ) -> SignatureReport:
        """A time assertion over its manifest or data file, validated with pyHanko; at its
        own time when a later trusted timestamp covers it (``proven_by_later``)."""
        content = item.content or b""
        what_vi, what_en = _what(item)
        try:
            info = cms.ContentInfo.load(item.entry.data or b"", strict=True)
            if info["content_type"].native != "signed_data":
                raise ValueError("not a CMS SignedData")
            signed_data = info["content"]
            cms_forms.read_structure(signed_data)
            certs = list(cms_forms.certificates(signed_data))
            carried = process.revocation_values(signed_data, "timestamp token")
            crls = [c for c, _src in carried.crls]
            ocsps = [o for o, _src in carried.ocsps]
            vc = self.engine.context(moment, other_certs=certs, crls=crls, ocsps=ocsps)
            status = TimestampSignatureStatus(
                **await validate_tst_signed_data(
                    signed_data,
                    vc,
                    lambda algorithm: _hash(algorithm, content),
                    algorithm_policy=CMS_ALGOS,
                )
            )
            status = await self.engine.timestamp_at_its_time(
                status,
                moment,
                other_certs=certs,
                crls=crls,
                ocsps=ocsps,
                proven_by_later=proven_by_later,
            )
        except Exception as exc:  # noqa: BLE001 - hostile input ends in a verdict
            verdict = exception_verdict(exc) or Verdict(
                SubIndication.FORMAT_FAILURE,
                f"dấu thời gian {_shown(item.entry.name)} không đọc được ({short(exc)})",
                f"the timestamp {_shown(item.entry.name)} cannot be read ({short(exc)})",
            )
            return _verdict_report(
                index, "document_timestamp", item.entry.name, verdict, item.covers
            )
        if not status.intact:
            verdict = Verdict(
                SubIndication.HASH_FAILURE,
                f"dấu thời gian không khớp với {what_vi}",
                f"the timestamp's imprint does not match {what_en}",
            )
        elif not status.valid:
            verdict = Verdict(SubIndication.SIG_CRYPTO_FAILURE)
        elif not status.trusted:
            sub = (
                sub_of(status.trust_problem_indic)
                if status.trust_problem_indic
                else SubIndication.NO_CERTIFICATE_CHAIN_FOUND
            )
            verdict = Verdict(sub, *_untrusted_reason(sub, status.signing_cert, moment))
        else:
            verdict = Verdict(None)
        item.proof = process.TimestampEvidence(
            kind="document",
            time=status.timestamp,
            intact=bool(status.intact),
            valid=bool(status.valid),
            trusted=bool(status.trusted),
            tsa_cert=status.signing_cert,
            digest_algorithms=token_algorithms(signed_data),
            label=f"ASiC timestamp {_shown(item.entry.name)}",
        )
        vi, en = sentences(verdict.sub, verdict.reason_vi, verdict.reason_en)
        if verdict.sub is None:
            vi = f"Dấu thời gian hợp lệ: {what_vi} đã tồn tại lúc {vn_time(status.timestamp)}."
            en = (
                f"The timestamp is valid: {what_en} existed at "
                f"{status.timestamp.isoformat(timespec='seconds')}."
            )
        return SignatureReport(
            index=index,
            kind="document_timestamp",
            field_name=item.entry.name,
            indication=verdict.indication,
            sub_indication=verdict.sub,
            message_vi=vi,
            message_en=en,
            signer={"name": common_name(status.signing_cert), "kind": "timestamp_authority"},
            chain=tuple(cert_info(c) for c in path_certs(status)),
            signing_time_proven=status.timestamp,
            integrity=bool(status.intact and status.valid),
            digest_algorithm=status.md_algorithm,
            level="DOC-TS",
            validated_at=moment,
            covers=item.covers,
        )

    def _against_manifest(
        self, report: SignatureReport, item: _Item, by_name: dict[str, _Entry]
    ) -> SignatureReport:
        """The report once the files its manifest lists are compared with the container:
        a changed file is HASH_FAILURE, a missing one SIGNED_DATA_NOT_FOUND, a digest
        method that is unknown or not acceptable at the proven time INDETERMINATE; a
        manifest that cannot be read is FORMAT_FAILURE (as EU DSS says)."""
        manifest = item.manifest
        if manifest is None:
            return report
        if manifest.problem is not None:
            return _overridden(report, Verdict(SubIndication.FORMAT_FAILURE, *manifest.problem))
        if report.indication is Indication.TOTAL_FAILED:
            return report
        changed: list[str] = []
        missing: list[str] = []
        unknown: list[str] = []
        weak: list[tuple[str, str]] = []
        proven = report.signing_time_proven
        for ref in manifest.references:
            entry = by_name.get(ref.name)
            if entry is None or entry.name.endswith("/"):
                missing.append(ref.name)
                continue
            if ref.algorithm is None:
                unknown.append(ref.method or "(none)")
                continue
            actual = entry.digests.get(ref.algorithm)
            if actual is None:
                actual = _hash(ref.algorithm, entry.data or b"")
            if ref.digest is None or not hmac.compare_digest(actual, ref.digest):
                changed.append(ref.name)
                continue
            found = self.engine.policy.algorithms.digest_verdict(ref.algorithm, proven)
            if found is not None:
                weak.append((ref.algorithm, found))
        where = _shown(manifest.name)
        if changed:
            listed = _listing(changed)
            return _overridden(
                report,
                Verdict(
                    SubIndication.HASH_FAILURE,
                    f"tệp {listed} không khớp giá trị băm trong {where}",
                    f"{listed} does not match its digest in {where}",
                ),
            )
        if missing:
            listed = _listing(missing)
            return _overridden(
                report,
                Verdict(
                    SubIndication.SIGNED_DATA_NOT_FOUND,
                    f"gói thiếu tệp {listed} có trong {where}",
                    f"the container lacks {listed}, listed in {where}",
                ),
            )
        if unknown:
            methods = ", ".join(sorted(set(unknown)))
            return _overridden(
                report,
                Verdict(
                    SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
                    f"{where} dùng thuật toán băm không biết ({methods})",
                    f"{where} uses an unknown digest method ({methods})",
                ),
            )
        if weak:
            algorithm, found = weak[0]
            sub = (
                SubIndication.CRYPTO_CONSTRAINTS_FAILURE
                if found == "never"
                else SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE
            )
            return _overridden(
                report,
                Verdict(sub, f"{where} băm bằng {algorithm}", f"{where} digests with {algorithm}"),
            )
        return report


def _meta_kind(name: str) -> str:
    """What a ``META-INF/`` entry is, by its name (EN 319 162-1 §4.3, §4.4)."""
    rest = name[len(_META) :]
    if "/" in rest:
        return "other"
    lower = rest.lower()
    if lower.startswith("signatures") and lower.endswith(".xml"):
        return "xades"
    if lower.startswith("signature") and lower.endswith(".p7s"):
        return "cades"
    if lower.startswith("timestamp") and lower.endswith(".tst"):
        return "timestamp"
    if lower.startswith(("asicmanifest", "asicarchivemanifest")) and lower.endswith(".xml"):
        return "manifest"
    if lower.startswith(("evidencerecord", "asicevidencerecordmanifest")):
        return "evidence"
    if lower == "manifest.xml":  # the OpenDocument manifest ASiC-E allows
        return "odf-manifest"
    return "other"


def _container_type(
    mimetype: str | None, manifests: Sequence[_Manifest], data_files: Sequence[_Entry]
) -> str:
    if mimetype is not None:
        text = mimetype.strip()
        if text == MIMETYPE_S:
            return "ASiC-S"
        if text == MIMETYPE_E:
            return "ASiC-E"
    return "ASiC-E" if manifests or len(data_files) > 1 else "ASiC-S"


def _manifests_by_signature(
    manifests: Sequence[_Manifest], by_name: dict[str, _Entry], warnings: list[str]
) -> dict[str, list[_Manifest]]:
    named: dict[str, list[_Manifest]] = {}
    for m in manifests:
        if m.signature is None:
            if m.problem is None:
                warnings.append(
                    _warning(
                        f"bảng kê {_shown(m.name)} không trỏ tới chữ ký nào (SigReference)",
                        f"the manifest {_shown(m.name)} names no signature (SigReference)",
                    )
                )
            continue
        if m.signature not in by_name:
            warnings.append(
                _warning(
                    f"bảng kê {_shown(m.name)} trỏ tới {_shown(m.signature)}, không có trong gói",
                    f"the manifest {_shown(m.name)} names {_shown(m.signature)}, which the "
                    "container lacks",
                )
            )
            continue
        named.setdefault(m.signature, []).append(m)
    return named


def _xades_tree(data: bytes, limits: ContainerLimits) -> tuple[list[Any], tuple[str, ...]]:
    root = _safe_xml(data)
    signatures = list(root.iter(f"{{{_DS}}}Signature"))
    covers: list[str] = []
    for ref in root.iter(f"{{{_DS}}}Reference"):
        if len(covers) >= limits.max_references:
            raise ValueError(f"more than {limits.max_references} references")
        uri = ref.get("URI")
        if uri and not uri.startswith("#"):
            covers.append(_uri_name(uri))
    return signatures, tuple(dict.fromkeys(covers))


def _xades_covers(data: bytes, limits: ContainerLimits) -> tuple[str, ...]:
    try:
        return _xades_tree(data, limits)[1]
    except Exception:  # noqa: BLE001 - its report says it cannot be read
        return ()


def _verdict_report(
    index: int, kind: str, entry: str, verdict: Verdict, covers: tuple[str, ...]
) -> SignatureReport:
    vi, en = sentences(verdict.sub, verdict.reason_vi, verdict.reason_en)
    return SignatureReport(
        index=index,
        kind=kind,
        field_name=entry,
        indication=verdict.indication,
        sub_indication=verdict.sub,
        message_vi=vi,
        message_en=en,
        covers=covers,
    )


def _overridden(report: SignatureReport, verdict: Verdict) -> SignatureReport:
    vi, en = sentences(verdict.sub, verdict.reason_vi, verdict.reason_en)
    integrity = report.integrity
    if verdict.sub in (
        SubIndication.HASH_FAILURE,
        SubIndication.SIGNED_DATA_NOT_FOUND,
        SubIndication.FORMAT_FAILURE,
    ):
        integrity = False
    return replace(
        report,
        indication=indication_for(verdict.sub),
        sub_indication=verdict.sub,
        message_vi=vi,
        message_en=en,
        integrity=integrity,
    )


def _encapsulated(sig: bytes) -> bytes | None:
    """The content a CMS encapsulates, or None (a detached signature, or unreadable: the
    CMS reader then says why)."""
    try:
        info = cms.ContentInfo.load(cms_forms.unarmor(sig))
        return cms_forms.detach_content(info["content"])[0]
    except Exception:  # noqa: BLE001 - read as detached; its report names the problem
        return None


def _what(item: _Item) -> tuple[str, str]:
    if item.manifest is not None:
        name = _shown(item.manifest.name)
        return f"bảng kê {name}", f"the manifest {name}"
    name = _shown(item.covers[0]) if item.covers else "?"
    return f"tệp {name}", name


def _hash(algorithm: str, data: bytes) -> bytes:
    try:
        return hashlib.new(algorithm.replace("-", "_"), data).digest()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"unknown digest {algorithm!r}") from exc


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(_shown(n) for n in names[:5])
    return shown + (f" (+{len(names) - 5})" if len(names) > 5 else "")


def _facts(
    container_type: str,
    mimetype: str | None,
    data_files: Sequence[_Entry],
    items: Sequence[_Item],
    by_name: dict[str, _Entry],
) -> dict[str, Any]:
    """What the container holds: every data file (and every other file a manifest lists)
    with its SHA-256, what covers it and its status; every signature and timestamp with
    its manifest and what it covers."""
    covered_by: dict[str, list[str]] = {}
    status: dict[str, str] = {}
    for item in items:
        for name in item.covers:
            covered_by.setdefault(name, []).append(item.entry.name)
        if item.manifest is None:
            continue
        for ref in item.manifest.references:
            entry = by_name.get(ref.name)
            if entry is None:
                status.setdefault(ref.name, "missing")
                continue
            actual = entry.digests.get(ref.algorithm) if ref.algorithm else None
            if ref.algorithm is not None and actual is None:
                actual = _hash(ref.algorithm, entry.data or b"")
            if actual is not None and (
                ref.digest is None or not hmac.compare_digest(actual, ref.digest)
            ):
                status[ref.name] = "changed"
    names = [e.name for e in data_files]
    names += [n for n in covered_by if n not in names]
    files = []
    for name in names:
        entry = by_name.get(name)
        sha = entry.digests.get("sha256") if entry is not None else None
        files.append(
            {
                "name": name,
                "size": entry.size if entry is not None else None,
                "sha256": sha.hex() if sha is not None else None,
                "status": status.get(name)
                or (
                    "missing"
                    if entry is None
                    else "covered"
                    if name in covered_by
                    else "not_covered"
                ),
                "covered_by": covered_by.get(name, []),
            }
        )
    return {
        "container": container_type,
        "mimetype": mimetype,
        "files": files,
        "signatures": [
            {
                "entry": item.entry.name,
                "kind": item.kind,
                "manifest": item.manifest.name if item.manifest is not None else None,
                "covers": list(item.covers),
            }
            for item in items
        ],
        "not_covered": [e.name for e in data_files if e.name not in covered_by],
    }


# -- what the timestamps prove -------------------------------------------------------------------


def _gen_time(item: _Item) -> datetime | None:
    """A timestamp token's genTime as it says (for ordering; validated later)."""
    return _token_time(item.entry.data or b"")


def _token_time(raw: bytes) -> datetime | None:
    try:
        info = cms.ContentInfo.load(raw)
        tst = info["content"]["encap_content_info"]["content"].parsed
        when = tst["gen_time"].native
        return when if isinstance(when, datetime) else None
    except Exception:  # noqa: BLE001 - an unreadable token is ordered last; its report says why
        return None


def _newest_first(stamps: Sequence[_Item]) -> list[_Item]:
    """The tokens by time, newest first; among tokens of the same second (a TSA's time
    has that resolution, and a renewal may follow at once) the one whose manifest lists
    more of the others is the later: it covers them."""
    names = {s.entry.name for s in stamps}

    def covered(stamp: _Item) -> int:
        return len(_listed(stamp.manifest) & names)

    dated = [(s, _gen_time(s)) for s in stamps]
    known = sorted(
        ((s, t) for s, t in dated if t is not None),
        key=lambda st: (st[1], covered(st[0])),
        reverse=True,
    )
    return [s for s, _t in known] + [s for s, t in dated if t is None]


def _matches(ref: _Reference, by_name: dict[str, _Entry]) -> bool:
    """Whether the container's entry has the digest a manifest lists for it."""
    entry = by_name.get(ref.name)
    if entry is None or ref.algorithm is None or ref.digest is None:
        return False
    actual = entry.digests.get(ref.algorithm)
    if actual is None:
        if entry.data is None:
            return False
        actual = _hash(ref.algorithm, entry.data)
    return hmac.compare_digest(actual, ref.digest)


def _proven_names(stamp: _Item, by_name: dict[str, _Entry]) -> set[str]:
    """What a timestamp proves existed: the entries its manifest lists with their digest
    as found (a file changed or missing is not proven), or the one data file of an
    ASiC-S. Nothing when its own token is not intact."""
    if stamp.proof is None or not stamp.proof.intact or stamp.problem is not None:
        return set()
    if stamp.manifest is None:
        return set(stamp.covers)
    return {r.name for r in stamp.manifest.references if _matches(r, by_name)}


def _proofs_for(
    name: str, stamps: Sequence[_Item], by_name: dict[str, _Entry]
) -> list[process.TimestampEvidence]:
    """The container's timestamps that prove the entry ``name`` existed at their time."""
    return [s.proof for s in stamps if s.proof is not None and name in _proven_names(s, by_name)]


def _covered_at(
    stamp: _Item, stamps: Sequence[_Item], by_name: dict[str, _Entry]
) -> datetime | None:
    """The earliest time a later, accepted timestamp (already judged) proves ``stamp``'s
    token existed: an archive manifest's timestamp covers the timestamps before it."""
    times = [
        p.time
        for p in _proofs_for(stamp.entry.name, stamps, by_name)
        if p.time is not None and p.intact and p.valid and p.trusted
    ]
    return min(times) if times else None


def _chain_warnings(items: Sequence[_Item], data_files: Sequence[str] = ()) -> list[str]:
    """Where the long-term chain is broken (:func:`_gaps`), as warnings."""
    stamps = [
        (i.entry.name, _gen_time(i), i.manifest.name if i.manifest else None, _listed(i.manifest))
        for i in items
        if i.kind == "timestamp"
    ]
    return [_warning(vi, en) for vi, en in _gaps(stamps, data_files)]


def _listed(manifest: _Manifest | None) -> set[str]:
    return {r.name for r in manifest.references} if manifest is not None else set()


def _gaps(
    stamps: Sequence[tuple[str, datetime | None, str | None, set[str]]],
    data_files: Sequence[str],
) -> list[tuple[str, str]]:
    """Where the long-term chain is broken: each ``ASiCArchiveManifest`` is to list every
    timestamp made before its own (EN 319 162-1, ASiC long-term) and every data file in
    ``data_files`` (an ASiC-S's one file); a token it leaves out keeps only its own proof,
    which ends with its TSA's certificate. A gap that a later archive manifest (one that
    lists this manifest's token) closes by listing the entry is not named. ``stamps``
    holds each token's entry, time, manifest and the entries that manifest lists;
    (Vietnamese, English) for each gap."""
    archives = [
        (name, at, manifest, listed)
        for name, at, manifest, listed in stamps
        if manifest is not None
        and at is not None
        and manifest[len(_META) :].lower().startswith("asicarchive")
    ]

    def closed(token: str, entry: str) -> bool:
        return any(token in listed and entry in listed for _n, _a, _m, listed in archives)

    found: list[tuple[str, str]] = []
    for name, at, manifest, listed in archives:
        assert manifest is not None
        assert at is not None
        for other, other_at, _m, _l in stamps:
            if other == name or other_at is None or other_at >= at:
                continue
            if other not in listed and not closed(name, other):
                found.append(
                    (
                        f"bảng kê lưu trữ {_shown(manifest)} không bao gồm dấu thời gian trước "
                        f"nó {_shown(other)}: chuỗi lưu trữ bị đứt tại đó",
                        f"the archive manifest {_shown(manifest)} leaves out the earlier "
                        f"timestamp {_shown(other)}: the archive chain is broken there",
                    )
                )
        for data_file in data_files:
            if data_file not in listed and not closed(name, data_file):
                found.append(
                    (
                        f"bảng kê lưu trữ {_shown(manifest)} không bao gồm tệp dữ liệu "
                        f"{_shown(data_file)}: dấu thời gian {_shown(name)} không chứng minh gì "
                        "về tệp đó",
                        f"the archive manifest {_shown(manifest)} leaves out the data file "
                        f"{_shown(data_file)}: the timestamp {_shown(name)} proves nothing "
                        "of it",
                    )
                )
    return found


# -- renewal dates -------------------------------------------------------------------------------


def _with_renewal(
    reports: Sequence[SignatureReport],
    items: Sequence[_Item],
    single: _Entry | None,
    by_name: dict[str, _Entry],
    moment: datetime,
    policy: Any,
) -> list[SignatureReport]:
    """Each report with the date by which its proof must be renewed
    (``ValidationPolicy.renewal_dates``): the lapse of the newest accepted container
    timestamp that proves its entry existed (a timestamp's own token counts for itself;
    an ASiC-S e-invoice's signatures rest on the timestamps over the file). A report that
    does not pass is told renewal cannot help; one no container timestamp proves gets
    none here."""
    from verify.preservation import RenewalDue

    stamps = [i for i in items if i.kind == "timestamp"]
    by_entry = {i.entry.name: i for i in stamps}
    order = _newest_first(stamps)
    out = []
    for report in reports:
        name = report.field_name or ""
        if single is not None and name.startswith(f"{single.name}#"):
            name = single.name
        own = by_entry.get(name)
        provers = [
            s
            for s in order
            if s.proof is not None
            and s.proof.intact
            and s.proof.valid
            and s.proof.trusted
            and (s is own or name in _proven_names(s, by_name))
        ]
        if report.indication is not Indication.TOTAL_PASSED and (own is not None or provers):
            due = RenewalDue(
                report.index,
                report.field_name,
                None,
                "not_valid",
                "chữ ký không hợp lệ tại thời điểm kiểm tra; gia hạn không khắc phục được: "
                f"{report.message_vi}",
                f"the signature does not verify now; renewal cannot help: {report.message_en}",
            )
            out.append(replace(report, renewal=due.to_dict()))
        elif provers:
            due = _stamp_renewal(report, provers[0], moment, policy)
            out.append(replace(report, renewal=due.to_dict()))
        else:
            out.append(report)
    return out


def _stamp_renewal(report: SignatureReport, stamp: _Item, moment: datetime, policy: Any) -> Any:
    """When ``stamp``'s proof lapses (:func:`verify.preservation.timestamp_lapse`), as the
    :class:`~verify.preservation.RenewalDue` of ``report``."""
    from verify.preservation import CAUSES, RenewalDue, timestamp_lapse

    assert stamp.proof is not None
    where = _shown(stamp.entry.name)
    tsa = common_name(stamp.proof.tsa_cert) if stamp.proof.tsa_cert is not None else None
    signed_data = cms.ContentInfo.load(stamp.entry.data or b"")["content"]
    lapse = timestamp_lapse(
        stamp.proof,
        certificates=cms_forms.certificates(signed_data),
        revocation=process.revocation_values(signed_data, "timestamp token"),
        rules=policy.algorithms,
    )
    label = f"container timestamp {where}"
    if lapse is None:
        return RenewalDue(
            report.index,
            report.field_name,
            None,
            None,
            "không xác định được thời hạn gia hạn (không đọc được chứng thư số liên quan)",
            "no renewal date can be told (the certificate it rests on cannot be read)",
            label,
            stamp.proof.time,
            tsa,
        )
    vi_cause, en_cause = CAUSES[lapse.cause]
    if lapse.at <= moment:
        when_vi = f"đã quá hạn từ {vn_time(lapse.at)}"
        when_en = f"overdue since {lapse.at.astimezone(UTC):%Y-%m-%d}"
    else:
        when_vi = f"trước {vn_time(lapse.at)}"
        when_en = f"before {lapse.at.astimezone(UTC):%Y-%m-%d}"
    return RenewalDue(
        report.index,
        report.field_name,
        lapse.at,
        lapse.cause,
        f"{when_vi}: {vi_cause} ({lapse.detail}, {where})",
        f"{when_en}: {en_cause} ({lapse.detail}, {where})",
        label,
        stamp.proof.time,
        tsa,
        lapse.detail,
    )


def _untrusted_reason(sub: SubIndication, tsa: Any, moment: datetime) -> tuple[str, str]:
    """Why a timestamp's TSA is not trusted at ``moment``: its path reaches a trusted
    anchor but its certificate has expired (and no later timestamp over the token proves
    it in time), or its path does not validate."""
    expiry = getattr(tsa, "not_valid_after", None)
    if (
        sub is not SubIndication.NO_CERTIFICATE_CHAIN_FOUND
        and isinstance(expiry, datetime)
        and expiry < moment
    ):
        return (
            f"chứng thư số của đơn vị cấp dấu thời gian đã hết hạn ngày {expiry:%d/%m/%Y} và "
            "không có dấu thời gian lưu trữ nào sau đó bao phủ dấu thời gian này",
            f"the timestamp authority's certificate expired on {expiry:%Y-%m-%d} and no later "
            "archive timestamp covers this one",
        )
    return (
        "dấu thời gian không do đơn vị cấp dấu thời gian được tin cậy cấp",
        "the timestamp is not from a trusted timestamp authority",
    )
