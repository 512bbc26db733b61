"""XAdES unsigned properties of an XML signature (ETSI EN 319 132-1): what they carry as
evidence.

An XMLDSig signature may carry, in ``ds:Object/xades:QualifyingProperties/
UnsignedProperties/UnsignedSignatureProperties``:

- ``SignatureTimeStamp``: RFC 3161 tokens (``EncapsulatedTimeStamp``, base64 DER) whose
  message imprint is over the canonicalised ``ds:SignatureValue`` element, canonicalised
  with the timestamp's own ``ds:CanonicalizationMethod`` (default: C14N 1.0 inclusive);
- ``xadesv141:ArchiveTimeStamp`` (and the 1.3.2 ``xades:ArchiveTimeStamp``): RFC 3161
  tokens whose imprint is over the signed data, the signature and every unsigned
  property before it (:func:`archive_imprint_input`, EN 319 132-1 §5.5.2), so that each
  proves the signature and its earlier timestamps existed at its time (XAdES-B-LTA);
- ``CertificateValues/EncapsulatedX509Certificate``: certificates of the paths;
- ``RevocationValues/CRLValues/EncapsulatedCRLValue`` and
  ``RevocationValues/OCSPValues/EncapsulatedOCSPValue``: CRLs and OCSP responses; the
  same inside ``xadesv141:TimeStampValidationData`` (the timestamps' validation data).

``SigAndRefsTimeStamp``, ``RefsOnlyTimeStamp`` (and their V2) and evidence records are
not validated: they are named in a warning and prove nothing.

Namespaces 1.3.2 and 1.4.1 are read. The properties belong to a signature only when the
``QualifyingProperties`` is a child of one of the signature's own ``ds:Object`` elements
and its ``Target`` is ``#`` and the signature's Id; any other is not its (it is named in a
warning and never read).

Nothing here is signed: anyone can add or change it. It is therefore only evidence that
stands on its own: a token is believed for what its TSA signed, a CRL or OCSP response for
what its issuer signed (:mod:`verify.process`), a certificate only to build paths. A value
that cannot be read is set aside with a warning naming it; nothing here ever raises, and
sizes and counts are bounded.

This module reads; :mod:`verify.formats.xml` validates the tokens and judges through
:mod:`verify.process`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from asn1crypto import cms, crl, ocsp, tsp, x509
from cryptography import x509 as cx509
from cryptography.x509 import ocsp as cocsp

__all__ = [
    "MAX_QUALIFYING_PROPERTIES",
    "MAX_TIMESTAMPS",
    "MAX_VALUES",
    "MAX_VALUE_BYTES",
    "XADES_NAMESPACES",
    "ArchiveTimestamp",
    "SignatureTimestamp",
    "UnsignedProperties",
    "XadesWarning",
    "archive_imprint_input",
    "archive_parts",
    "imprint_matches",
    "qualifying_properties",
    "read_unsigned_properties",
]

XADES_132 = "http://uri.etsi.org/01903/v1.3.2#"
XADES_141 = "http://uri.etsi.org/01903/v1.4.1#"
XADES_NAMESPACES = (XADES_132, XADES_141)
_DS = "http://www.w3.org/2000/09/xmldsig#"
_DER = "http://uri.etsi.org/01903/v1.2.2#DER"
C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"

MAX_QUALIFYING_PROPERTIES = 4
"""QualifyingProperties read for one signature (EN 319 132-1 allows one)."""
MAX_TIMESTAMPS = 8
"""Signature timestamp tokens read for one signature."""
MAX_VALUES = 64
"""Certificates, CRLs and OCSP responses read for one signature, each kind."""
MAX_VALUE_BYTES = 16 * 1024 * 1024
"""The largest encapsulated value (DER) read: a large CA's CRL fits, a bomb does not."""
_MAX_TOTAL_BYTES = 48 * 1024 * 1024
UNREAD_PROPERTIES = (
    "SigAndRefsTimeStamp",
    "SigAndRefsTimeStampV2",
    "RefsOnlyTimeStamp",
    "RefsOnlyTimeStampV2",
    "SealingEvidenceRecords",
)
"""Unsigned signature properties that are not validated here (named in a warning)."""
_MAX_WARNINGS = 16


@dataclass(frozen=True)
class XadesWarning:
    """Why a XAdES property was set aside, in both languages."""

    code: str
    vi: str
    en: str


@dataclass(frozen=True)
class SignatureTimestamp:
    """One ``SignatureTimeStamp`` token and the bytes its imprint must be over."""

    token: cms.ContentInfo = field(repr=False)
    """The RFC 3161 token (a ContentInfo holding a SignedData over a TSTInfo)."""
    claimed_time: datetime
    """The token's ``genTime`` as it says (not verified here)."""
    canonicalization: str
    """Its ``ds:CanonicalizationMethod``."""
    imprint_parts: tuple[bytes, ...] = field(repr=False)
    """What its imprint must be over, in pieces whose concatenation is hashed: the
    canonicalised ``ds:SignatureValue`` of this signature, or an archive timestamp's
    input (a container's files are kept as they are, not copied)."""
    label: str
    """How a report names it."""
    kind: str = "signature"
    """``signature`` (a ``SignatureTimeStamp``) or ``archive`` (an ``ArchiveTimeStamp``)."""
    position: tuple[int, int] = (0, 0)
    """Where its property stands: which ``UnsignedSignatureProperties`` and which child of
    it. An archive timestamp covers exactly the properties before it in the same one."""

    @property
    def imprint_input(self) -> bytes:
        """The whole input its imprint must be over."""
        return b"".join(self.imprint_parts)

    def digest(self, algorithm: str) -> bytes:
        """The digest of :attr:`imprint_input` with ``algorithm`` (a hashlib name),
        computed piece by piece; ``ValueError`` for an unknown algorithm."""
        try:
            h = hashlib.new(algorithm)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"unknown imprint digest {algorithm!r}") from exc
        for part in self.imprint_parts:
            h.update(part)
        return h.digest()

    def covered_by(self, other: SignatureTimestamp) -> bool:
        """Whether the archive timestamp ``other`` covers this token's property."""
        return (
            other.kind == "archive"
            and other.position[0] == self.position[0]
            and other.position[1] > self.position[1]
        )


ArchiveTimestamp = SignatureTimestamp
"""An ``ArchiveTimeStamp`` token (``kind="archive"``): its imprint input is the one of
EN 319 132-1 §5.5.2 (see :func:`archive_imprint_input`)."""


@dataclass(frozen=True)
class UnsignedProperties:
    """What a signature's XAdES unsigned signature properties carry."""

    timestamps: tuple[SignatureTimestamp, ...] = ()
    archive_timestamps: tuple[SignatureTimestamp, ...] = ()
    """``ArchiveTimeStamp`` tokens (1.4.1, and the 1.3.2 form), in document order."""
    certificates: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    crls: tuple[crl.CertificateList, ...] = field(default=(), repr=False)
    ocsps: tuple[ocsp.OCSPResponse, ...] = field(default=(), repr=False)
    warnings: tuple[XadesWarning, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.timestamps
            or self.archive_timestamps
            or self.certificates
            or self.crls
            or self.ocsps
        )


def _tag(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


def _xades(el: Any, local: str) -> bool:
    return isinstance(el.tag, str) and el.tag in (_tag(XADES_132, local), _tag(XADES_141, local))


def _local_name(el: Any) -> str:
    return el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def _children(el: Any, local: str) -> list[Any]:
    return [child for child in el if _xades(child, local)]


def qualifying_properties(root: Any) -> dict[str, list[Any]]:
    """Every ``QualifyingProperties`` element of the document by its ``Target`` (in
    document order), read once for all the document's signatures."""
    found: dict[str, list[Any]] = {}
    for qp in root.iter(
        _tag(XADES_132, "QualifyingProperties"), _tag(XADES_141, "QualifyingProperties")
    ):
        found.setdefault(str(qp.get("Target", "")), []).append(qp)
    return found


class _Reader:
    def __init__(self) -> None:
        self.warnings: list[XadesWarning] = []
        self.total = 0

    def warn(self, code: str, en: str, vi: str) -> None:
        if len(self.warnings) < _MAX_WARNINGS:
            self.warnings.append(XadesWarning(code, vi, en))
        elif len(self.warnings) == _MAX_WARNINGS:
            self.warnings.append(
                XadesWarning(
                    "xades-more",
                    "còn những thuộc tính XAdES khác bị bỏ qua, không liệt kê hết",
                    "more XAdES properties were set aside than are listed",
                )
            )

    def decode(self, el: Any, what: str) -> bytes | None:
        """The DER in an ``Encapsulated*`` element, or None (with a warning)."""
        encoding = el.get("Encoding")
        if encoding is not None and encoding != _DER:
            self.warn(
                "xades-encoding",
                f"{what} has the encoding {encoding[:80]!r}, not DER: set aside",
                f"{what} có cách mã hóa {encoding[:80]!r}, không phải DER: bỏ qua",
            )
            return None
        text = el.text or ""
        if len(text) > MAX_VALUE_BYTES * 4 // 3 + 4096:
            self.warn(
                "xades-size",
                f"{what} is larger than {MAX_VALUE_BYTES // (1024 * 1024)} MiB: set aside",
                f"{what} lớn hơn {MAX_VALUE_BYTES // (1024 * 1024)} MiB: bỏ qua",
            )
            return None
        try:
            der = base64.b64decode("".join(text.split()), validate=True)
        except ValueError:
            self.warn(
                "xades-base64",
                f"{what} is not base64: set aside",
                f"{what} không phải base64: bỏ qua",
            )
            return None
        if not der or len(der) > MAX_VALUE_BYTES or self.total + len(der) > _MAX_TOTAL_BYTES:
            self.warn(
                "xades-size",
                f"{what} is empty or beyond the size limits: set aside",
                f"{what} rỗng hoặc vượt giới hạn kích thước: bỏ qua",
            )
            return None
        self.total += len(der)
        return der

    def bounded(self, items: Sequence[Any], limit: int, what_en: str, what_vi: str) -> list[Any]:
        if len(items) > limit:
            self.warn(
                "xades-count",
                f"more than {limit} {what_en}: only the first {limit} are read",
                f"hơn {limit} {what_vi}: chỉ đọc {limit} giá trị đầu",
            )
        return list(items[:limit])


def read_unsigned_properties(
    signature: Any,
    signature_value: Any,
    candidates: Mapping[str, Sequence[Any]],
    canonicalise: Callable[[Any, str], bytes],
    c14n_algorithms: Container[str],
    references: Callable[[str], Sequence[bytes]] | None = None,
) -> UnsignedProperties:
    """The XAdES unsigned signature properties of ``signature`` (a ``ds:Signature``).

    ``signature_value`` is its one ``ds:SignatureValue``; ``candidates`` every
    ``QualifyingProperties`` of the document by Target (:func:`qualifying_properties`);
    ``canonicalise(element, algorithm)`` canonicalises a subtree; ``c14n_algorithms``
    are the canonicalisation methods it supports; ``references(algorithm)`` gives the
    octets of each ``ds:Reference`` of SignedInfo after its transforms, a node-set result
    canonicalised with ``algorithm`` (None: they are not known, and archive timestamps
    are set aside). Never raises on hostile content.
    """
    reader = _Reader()
    try:
        return _read(
            reader,
            signature,
            signature_value,
            candidates,
            canonicalise,
            c14n_algorithms,
            references,
        )
    except Exception as exc:  # noqa: BLE001 - hostile input: nothing is read, and it is said
        reader.warn(
            "xades-unreadable",
            f"the XAdES properties cannot be read ({type(exc).__name__}): none is used",
            f"không đọc được các thuộc tính XAdES ({type(exc).__name__}): không dùng thuộc "
            "tính nào",
        )
        return UnsignedProperties(warnings=tuple(reader.warnings))


def _read(
    reader: _Reader,
    signature: Any,
    signature_value: Any,
    candidates: Mapping[str, Sequence[Any]],
    canonicalise: Callable[[Any, str], bytes],
    c14n_algorithms: Container[str],
    references: Callable[[str], Sequence[bytes]] | None = None,
) -> UnsignedProperties:
    sid = signature.get("Id")
    own = [
        qp
        for obj in signature
        if obj.tag == _tag(_DS, "Object")
        for qp in obj
        if _xades(qp, "QualifyingProperties")
    ]
    mine: list[Any] = []
    for qp in own:
        target = qp.get("Target")
        if sid is not None and target == f"#{sid}":
            mine.append(qp)
        else:
            reader.warn(
                "xades-target",
                f"QualifyingProperties in this signature's Object targets {str(target)[:80]!r}, "
                "not this signature: ignored",
                f"QualifyingProperties trong Object của chữ ký này trỏ tới {str(target)[:80]!r}, "
                "không phải chữ ký này: bỏ qua",
            )
    # lxml returns the same proxy for an element while one is referenced (``own`` and
    # ``candidates`` hold them): identities compare elements
    own_ids = {id(qp) for qp in own}
    if sid is not None and any(id(qp) not in own_ids for qp in candidates.get(f"#{sid}", ())):
        reader.warn(
            "xades-place",
            "QualifyingProperties targeting this signature lie outside its own Object: ignored",
            "QualifyingProperties trỏ tới chữ ký này nằm ngoài Object của chính nó: bỏ qua",
        )
    mine = reader.bounded(
        mine, MAX_QUALIFYING_PROPERTIES, "QualifyingProperties", "QualifyingProperties"
    )
    timestamps: list[SignatureTimestamp] = []
    certificates: list[x509.Certificate] = []
    crls: list[crl.CertificateList] = []
    ocsps: list[ocsp.OCSPResponse] = []
    stamp_elements: list[tuple[Any, tuple[int, int]]] = []
    archive_elements: list[tuple[Any, tuple[int, int]]] = []
    container = 0
    cert_elements: list[Any] = []
    crl_elements: list[Any] = []
    ocsp_elements: list[Any] = []
    unread: dict[str, int] = {}
    for qp in mine:
        for unsigned in _children(qp, "UnsignedProperties"):
            for props in _children(unsigned, "UnsignedSignatureProperties"):
                container += 1
                stamp_elements.extend(
                    (el, (container, props.index(el)))
                    for el in _children(props, "SignatureTimeStamp")
                )
                archive_elements.extend(
                    (el, (container, props.index(el)))
                    for el in _children(props, "ArchiveTimeStamp")
                )
                holders = [props]
                # TimeStampValidationData (1.4.1): the timestamps' own validation data
                holders.extend(
                    child
                    for child in props
                    if isinstance(child.tag, str)
                    and child.tag == _tag(XADES_141, "TimeStampValidationData")
                )
                for holder in holders:
                    for values in _children(holder, "CertificateValues"):
                        cert_elements.extend(_children(values, "EncapsulatedX509Certificate"))
                    for values in _children(holder, "RevocationValues"):
                        for group in _children(values, "CRLValues"):
                            crl_elements.extend(_children(group, "EncapsulatedCRLValue"))
                        for group in _children(values, "OCSPValues"):
                            ocsp_elements.extend(_children(group, "EncapsulatedOCSPValue"))
                for child in props:
                    local = _local_name(child)
                    if local in UNREAD_PROPERTIES:
                        unread[local] = unread.get(local, 0) + 1
    if unread:
        listed = ", ".join(f"{n} × {name}" for name, n in unread.items())
        reader.warn(
            "xades-unread",
            f"the XAdES {listed} of this signature are not validated and prove nothing here",
            f"{listed} (XAdES) của chữ ký này không được kiểm tra, không chứng minh được gì",
        )
    stamp_elements = reader.bounded(
        stamp_elements, MAX_TIMESTAMPS, "SignatureTimeStamp", "SignatureTimeStamp"
    )
    for n, (stamp, position) in enumerate(stamp_elements, start=1):
        label = "XAdES signature timestamp" + (f" (element {n})" if len(stamp_elements) > 1 else "")
        timestamps.extend(
            _timestamps(
                reader,
                stamp,
                label,
                lambda algorithm: (canonicalise(signature_value, algorithm),),
                c14n_algorithms,
                position=position,
            )
        )
    timestamps = timestamps[:MAX_TIMESTAMPS]
    if len(timestamps) > 1:
        timestamps = [
            replace(ts, label=f"XAdES signature timestamp {n}")
            for n, ts in enumerate(timestamps, start=1)
        ]
    archives: list[SignatureTimestamp] = []
    archive_elements = reader.bounded(
        archive_elements, MAX_TIMESTAMPS, "ArchiveTimeStamp", "ArchiveTimeStamp"
    )
    for n, (stamp, position) in enumerate(archive_elements, start=1):
        label = "XAdES archive timestamp" + (f" {n}" if len(archive_elements) > 1 else "")
        if references is None:
            reader.warn(
                "xades-archive",
                f"the {label} cannot be checked: the signature's references are not all resolved",
                f"không kiểm tra được {label}: các tham chiếu của chữ ký không được giải quyết hết",
            )
            continue
        archives.extend(
            _timestamps(
                reader,
                stamp,
                label,
                functools.partial(archive_parts, signature, stamp, canonicalise, references),
                c14n_algorithms,
                kind="archive",
                position=position,
            )[:1]
        )
    for el in reader.bounded(cert_elements, MAX_VALUES, "carried certificates", "chứng thư số"):
        cert = _certificate(reader, el)
        if cert is not None:
            certificates.append(cert)
    for el in reader.bounded(crl_elements, MAX_VALUES, "carried CRLs", "CRL"):
        value = _crl(reader, el)
        if value is not None:
            crls.append(value)
    for el in reader.bounded(ocsp_elements, MAX_VALUES, "carried OCSP responses", "phản hồi OCSP"):
        response = _ocsp(reader, el)
        if response is not None:
            ocsps.append(response)
    return UnsignedProperties(
        timestamps=tuple(timestamps),
        archive_timestamps=tuple(archives),
        certificates=tuple(certificates),
        crls=tuple(crls),
        ocsps=tuple(ocsps),
        warnings=tuple(reader.warnings),
    )


def _timestamps(
    reader: _Reader,
    stamp: Any,
    label: str,
    imprint: Callable[[str], tuple[bytes, ...]],
    c14n_algorithms: Container[str],
    kind: str = "signature",
    position: tuple[int, int] = (0, 0),
) -> list[SignatureTimestamp]:
    """The tokens of one XAdES time-stamp property; ``imprint(algorithm)`` is the input
    their imprint must be over, with the property's canonicalisation method."""
    methods = [child for child in stamp if child.tag == _tag(_DS, "CanonicalizationMethod")]
    if len(methods) > 1:
        reader.warn(
            "xades-timestamp",
            f"the {label} names several canonicalisation methods: set aside",
            f"{label} có nhiều phương pháp chuẩn hóa: bỏ qua",
        )
        return []
    algorithm = str(methods[0].get("Algorithm", "")) if methods else C14N_10
    if algorithm not in c14n_algorithms:
        reader.warn(
            "xades-timestamp",
            f"the {label} uses the canonicalisation {algorithm[:80]!r}, which is not "
            "supported: set aside",
            f"{label} dùng phương pháp chuẩn hóa {algorithm[:80]!r} không được hỗ trợ: bỏ qua",
        )
        return []
    if _children(stamp, "XMLTimeStamp"):
        reader.warn(
            "xades-timestamp",
            f"the {label} holds an XMLTimeStamp, which is not read",
            f"{label} chứa XMLTimeStamp, loại này không được đọc",
        )
    encapsulated = _children(stamp, "EncapsulatedTimeStamp")
    if not encapsulated:
        reader.warn(
            "xades-timestamp",
            f"the {label} holds no EncapsulatedTimeStamp",
            f"{label} không chứa EncapsulatedTimeStamp",
        )
        return []
    try:
        imprint_parts = imprint(algorithm)
    except Exception as exc:  # noqa: BLE001 - hostile content: this token proves nothing
        reader.warn(
            "xades-timestamp",
            f"the data the {label} is over cannot be computed ({type(exc).__name__}): set aside",
            f"không tính được dữ liệu mà {label} đóng dấu ({type(exc).__name__}): bỏ qua",
        )
        return []
    found: list[SignatureTimestamp] = []
    for el in encapsulated[:MAX_TIMESTAMPS]:
        der = reader.decode(el, f"the {label}")
        if der is None:
            continue
        try:
            token = cms.ContentInfo.load(der, strict=True)
            if token["content_type"].native != "signed_data":
                raise ValueError("not a SignedData")
            info = token["content"]["encap_content_info"]
            if info["content_type"].native != "tst_info":
                raise ValueError("not a TSTInfo")
            tst = info["content"].parsed
            if not isinstance(tst, tsp.TSTInfo):
                raise ValueError("not a TSTInfo")
            when = tst["gen_time"].native
            _ = tst["message_imprint"]["hash_algorithm"]["algorithm"].native
            _ = tst["message_imprint"]["hashed_message"].native
            if not isinstance(when, datetime) or when.tzinfo is None:
                raise ValueError("no genTime")
        except Exception as exc:  # noqa: BLE001 - asn1crypto raises many kinds on bad DER
            reader.warn(
                "xades-timestamp",
                f"the {label} is not an RFC 3161 timestamp token ({type(exc).__name__}): set aside",
                f"{label} không phải dấu thời gian RFC 3161 ({type(exc).__name__}): bỏ qua",
            )
            continue
        found.append(
            SignatureTimestamp(token, when, algorithm, imprint_parts, label, kind, position)
        )
    return found


def _certificate(reader: _Reader, el: Any) -> x509.Certificate | None:
    der = reader.decode(el, "a carried certificate (EncapsulatedX509Certificate)")
    if der is None:
        return None
    try:
        cx509.load_der_x509_certificate(der)
        cert = x509.Certificate.load(der, strict=True)
        _ = cert.subject.native, cert.issuer.native, cert.public_key.algorithm
    except Exception as exc:  # noqa: BLE001 - hostile DER
        reader.warn(
            "xades-certificate",
            f"an EncapsulatedX509Certificate is not a certificate ({type(exc).__name__}): "
            "set aside",
            f"EncapsulatedX509Certificate không phải chứng thư số ({type(exc).__name__}): bỏ qua",
        )
        return None
    return cert


def _crl(reader: _Reader, el: Any) -> crl.CertificateList | None:
    der = reader.decode(el, "a carried CRL (EncapsulatedCRLValue)")
    if der is None:
        return None
    try:
        cx509.load_der_x509_crl(der)
        value = crl.CertificateList.load(der, strict=True)
        _ = value["tbs_cert_list"]["issuer"].native
    except Exception as exc:  # noqa: BLE001 - hostile DER
        reader.warn(
            "xades-crl",
            f"an EncapsulatedCRLValue is not a CRL ({type(exc).__name__}): set aside",
            f"EncapsulatedCRLValue không phải CRL ({type(exc).__name__}): bỏ qua",
        )
        return None
    return value


def _ocsp(reader: _Reader, el: Any) -> ocsp.OCSPResponse | None:
    der = reader.decode(el, "a carried OCSP response (EncapsulatedOCSPValue)")
    if der is None:
        return None
    try:
        parsed = cocsp.load_der_ocsp_response(der)
        if parsed.response_status is not cocsp.OCSPResponseStatus.SUCCESSFUL:
            raise ValueError("not a successful response")
        value = ocsp.OCSPResponse.load(der, strict=True)
        _ = value["response_status"].native, value.basic_ocsp_response["tbs_response_data"].native
    except Exception as exc:  # noqa: BLE001 - hostile DER
        reader.warn(
            "xades-ocsp",
            f"an EncapsulatedOCSPValue is not a successful OCSP response "
            f"({type(exc).__name__}): set aside",
            f"EncapsulatedOCSPValue không phải phản hồi OCSP thành công "
            f"({type(exc).__name__}): bỏ qua",
        )
        return None
    return value


def archive_imprint_input(
    signature: Any,
    stamp: Any,
    canonicalise: Callable[[Any, str], bytes],
    references: Callable[[str], Sequence[bytes]],
    algorithm: str,
) -> bytes:
    """The input of :func:`archive_parts`, whole."""
    return b"".join(archive_parts(signature, stamp, canonicalise, references, algorithm))


def archive_parts(
    signature: Any,
    stamp: Any,
    canonicalise: Callable[[Any, str], bytes],
    references: Callable[[str], Sequence[bytes]],
    algorithm: str,
) -> tuple[bytes, ...]:
    """What the token of the ``ArchiveTimeStamp`` ``stamp`` of ``signature`` must be over
    (ETSI EN 319 132-1 §5.5.2; TS 101 903 v1.4.1 §8.2 for ``xadesv141``, v1.3.2 §7.7 for
    ``xades:ArchiveTimeStamp``), with its canonicalisation method ``algorithm``, in order:

    1. each ``ds:Reference`` of SignedInfo processed as XMLDSig does: the octets after its
       transforms, a node-set canonicalised with ``algorithm`` (``references``);
    2. ``ds:SignedInfo``, ``ds:SignatureValue`` and ``ds:KeyInfo`` (if present), each
       canonicalised;
    3. each unsigned signature property before the ArchiveTimeStamp, in document order
       (earlier timestamps, certificate and revocation values, TimeStampValidationData),
       each canonicalised;
    4. each ``ds:Object`` of the signature but the one holding the QualifyingProperties,
       canonicalised; under 1.3.2, only those no Reference names by its Id.

    EU DSS computes the same (``XAdESTimestampMessageDigestBuilder``); every element is
    canonicalised where it stands (its in-scope namespaces count)."""
    parts: list[bytes] = list(references(algorithm))
    for local in ("SignedInfo", "SignatureValue", "KeyInfo"):
        for child in signature:
            if child.tag == _tag(_DS, local):
                parts.append(canonicalise(child, algorithm))
                break
    props = stamp.getparent()
    for child in props:
        if child is stamp:
            break
        if isinstance(child.tag, str):
            parts.append(canonicalise(child, algorithm))
    referenced: set[str] = set()
    if stamp.tag == _tag(XADES_132, "ArchiveTimeStamp"):
        for info in signature:
            if info.tag != _tag(_DS, "SignedInfo"):
                continue
            for ref in info:
                uri = ref.get("URI") if ref.tag == _tag(_DS, "Reference") else None
                if uri and uri.startswith("#"):
                    referenced.add(uri[1:])
    for obj in signature:
        if obj.tag != _tag(_DS, "Object"):
            continue
        if _children(obj, "QualifyingProperties"):
            continue
        ident = obj.get("Id") or obj.get("ID") or obj.get("id")
        if ident is not None and ident in referenced:
            continue
        parts.append(canonicalise(obj, algorithm))
    return tuple(parts)


def imprint_matches(stamp: SignatureTimestamp) -> bool:
    """Whether the token's message imprint is over the data it must be over (its
    ``imprint_input``); an unreadable imprint or unknown digest matches nothing."""
    try:
        tst = stamp.token["content"]["encap_content_info"]["content"].parsed
        if not isinstance(tst, tsp.TSTInfo):
            return False
        imprint = tst["message_imprint"]
        expected = stamp.digest(imprint["hash_algorithm"]["algorithm"].native)
        return hmac.compare_digest(expected, bytes(imprint["hashed_message"].native))
    except Exception:  # noqa: BLE001 - an unreadable imprint matches nothing
        return False
