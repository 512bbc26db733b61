"""A CMS signature read by the fast path for each document: its values as encoded, and
its *skeleton*.

Documents one signer signs carry CMS signatures that differ only in a few values: the
``messageDigest`` and ``signingTime`` attributes, the signature value and, in a signature
timestamp, the TSTInfo's imprint, serial number, time and nonce, the token's own
``messageDigest``, ``signingTime`` and signature value. :func:`read` splits a SignedData
into its values as encoded (where each starts and ends: nothing is decoded but those
values) along the one grammar the fast path takes
(one SignerInfo with signed attributes, detached data, certificates and no CRLs, at most
one signature timestamp and nothing else unsigned) and returns those values and the
digest of everything else, every byte of it in its place: the skeleton.

:func:`verify.fastpath._parse_cms` reads a signature's shape with asn1crypto once per
skeleton, checks there that asn1crypto reads the same values from it, and for every later
signature of that skeleton checks only the values read here (the digest, the signature,
the timestamp's imprint and its own signature). Within one skeleton every byte but those
values is the same, and each value sits at the same place in the grammar, so asn1crypto
would read the same shape and those same values: its slow lazy parse (most of a fast-path
answer's time) is done once per signer, not once per document.

Only definite, minimal lengths are read (DER, as every signer the fast path meets
writes); anything else raises :class:`Unread`, and asn1crypto reads it as before.

A signature read once leaves its *layout* (:class:`_Layout`): where its values lie. A later
signature of the same length whose every other byte is the same is then read by taking
its values from those places (checking the times and integers as a full reading checks
them) without walking its DER again: a full reading of it would take every decision on
those same bytes and so find the same skeleton and read its values from the same places.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import NamedTuple

from verify import ber

__all__ = ["Reading", "Unread", "Values", "read"]

_SIGNED_DATA = ber.oid_der("1.2.840.113549.1.7.2")
_DATA = ber.oid_der("1.2.840.113549.1.7.1")
_TST_INFO = ber.oid_der("1.2.840.113549.1.9.16.1.4")
_MESSAGE_DIGEST = ber.oid_der("1.2.840.113549.1.9.4")
_SIGNING_TIME = ber.oid_der("1.2.840.113549.1.9.5")
_TIMESTAMP_TOKEN = ber.oid_der("1.2.840.113549.1.9.16.2.14")

_INTEGER, _OCTETS, _OID, _UTC_TIME, _GENERALIZED_TIME = 0x02, 0x04, 0x06, 0x17, 0x18
_SEQUENCE, _SET = 0x30, 0x31


class Unread(ValueError):
    """Not a CMS signature this reader takes: asn1crypto reads it."""


class Values(NamedTuple):
    """What differs from one signature of a skeleton to the next: the signer's digest,
    signed attributes as signed (their SET encoding), signature value and ``signingTime``
    (if any); and, with a signature timestamp, its TSTInfo as encoded (what its
    ``messageDigest`` is over), its own digest, signed attributes and signature, the
    TSTInfo's imprint and time."""

    digest: bytes
    payload: bytes
    signature: bytes
    signing_time: datetime | None
    tst_content: bytes = b""
    tst_digest: bytes = b""
    tst_payload: bytes = b""
    tst_signature: bytes = b""
    imprint: bytes = b""
    gen_time: datetime | None = None


class Reading(NamedTuple):
    """One CMS signature read by :func:`read`."""

    skeleton: bytes
    """The digest of everything but its values."""
    values: Values


class _Marks:
    """Where a full reading found the values of a signature (see :class:`_Layout`)."""

    def __init__(self) -> None:
        self.cuts: list[tuple[int, int, int]] = []
        self.fields: dict[str, tuple[int, int, int]] = {}

    def value(self, name: str, value: ber.DerValue, kind: int = 0) -> None:
        """``name``'s value is ``value``'s contents (``kind``: the tag of a time to read;
        0: octets as they are)."""
        self.cuts.append((value.body, value.end, kind))
        self.fields[name] = (value.body, value.end, kind)

    def integer(self, value: ber.DerValue) -> None:
        self.cuts.append((value.body, value.end, _INTEGER))


def _integer(value: ber.DerValue) -> str:
    """A varying INTEGER left out of the skeleton: checked to be one (DER)."""
    body = value.contents
    if value.first != _INTEGER or not body:
        raise Unread("not an INTEGER")
    if len(body) > 1 and (body[0], body[1] >> 7) in ((0, 0), (0xFF, 1)):
        raise Unread("an INTEGER not in its shortest form")
    return "integer"


def _time(value: ber.DerValue) -> datetime:
    """A UTCTime or GeneralizedTime in its plain DER forms (``YYMMDDHHMMSSZ``,
    ``YYYYMMDDHHMMSS[.f]Z``), as asn1crypto reads it."""
    text = value.contents
    try:
        if value.first == _UTC_TIME and len(text) == 13 and text[-1:] == b"Z":
            year = int(text[:2])
            year += 2000 if year < 50 else 1900
            rest = text[2:12]
            micro = 0
        elif value.first == _GENERALIZED_TIME and text[-1:] == b"Z" and len(text) >= 15:
            year, rest = int(text[:4]), text[4:14]
            fraction = text[14:-1]
            if fraction and (
                fraction[:1] != b"." or not 2 <= len(fraction) <= 7 or fraction[-1:] == b"0"
            ):
                raise Unread("an unusual time")
            micro = int(fraction[1:].ljust(6, b"0")) if fraction else 0
        else:
            raise Unread("an unusual time")
        if not rest.isdigit() or not text[:-1].replace(b".", b"").isdigit():
            raise Unread("an unusual time")
        month, day, hour, minute, second = (int(rest[k : k + 2]) for k in range(0, 10, 2))
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError as exc:
        raise Unread("an unusual time") from exc


def _signer_info(
    value: ber.DerValue,
    parts: list[bytes | str],
    *,
    unsigned: bool,
    marks: _Marks,
    prefix: str = "",
) -> tuple[Values, ber.DerValue | None]:
    """One SignerInfo's values (the first four of :class:`Values`), its other parts noted
    in ``parts``; its unsigned attributes (None: none), where ``unsigned`` allows them."""
    kids = ber.der_kids(value, _INTEGER)
    if len(kids) not in (6, 7) or kids[3].first != 0xA0 or kids[5].first != _OCTETS:
        raise Unread("not a SignerInfo with signed attributes")
    version, sid, digest_algorithm, attrs, algorithm, signature = kids[:6]
    parts += [version.encoded, sid.encoded, digest_algorithm.encoded, algorithm.encoded]
    digest: bytes | None = None
    signing_time: datetime | None = None
    seen: set[bytes] = set()
    for attr in ber.der_kids(attrs, tag=0xA0):
        kind, values = ber.der_kids(attr, _OID, _SET)
        if kind.encoded in seen:
            raise Unread("an attribute twice")
        seen.add(kind.encoded)
        if kind.encoded == _MESSAGE_DIGEST:
            (one,) = _single(values)
            if one.first != _OCTETS:
                raise Unread("not a digest")
            digest = one.contents
            marks.value(prefix + "digest", one)
            parts.append("message digest")
        elif kind.encoded == _SIGNING_TIME:
            (one,) = _single(values)
            signing_time = _time(one)
            marks.value(prefix + "signing_time", one, one.first)
            parts.append(f"signing time {one.first}")
        else:
            parts.append(attr.encoded)
    if digest is None:
        raise Unread("no message digest")
    rest = None
    if len(kids) == 7:
        if not unsigned or kids[6].first != 0xA1:
            raise Unread("unsigned attributes")
        rest = kids[6]
    parts.append("signature")
    marks.value(prefix + "signature", signature)
    marks.fields[prefix + "payload"] = (attrs.start + 1, attrs.end, _SET)
    signed_attrs = b"\x31" + attrs.data[attrs.start + 1 : attrs.end]
    return Values(digest, signed_attrs, signature.contents, signing_time), rest


def _single(values: ber.DerValue) -> list[ber.DerValue]:
    found = ber.der_kids(values, tag=-1)
    if len(found) != 1:
        raise Unread("an attribute with several values")
    return found


def _signed_data(
    value: ber.DerValue, parts: list[bytes | str]
) -> tuple[ber.DerValue, list[ber.DerValue]]:
    """A SignedData's encapsulated content info and its one SignerInfo's parts (its other
    values noted in ``parts``): version, digest algorithms, certificates, no CRLs."""
    kids = ber.der_kids(value, _INTEGER, _SET, _SEQUENCE)
    if len(kids) != 5 or kids[3].first != 0xA0 or kids[4].first != _SET:
        raise Unread("not a SignedData with certificates and no CRLs")
    version, algorithms, encap, certificates, infos = kids
    parts += [version.encoded, algorithms.encoded, certificates.encoded]
    signers = ber.der_kids(infos, tag=_SET)
    if len(signers) != 1:
        raise Unread("not one SignerInfo")
    return encap, signers


class _Layout(NamedTuple):
    """Where the values of a signature read in full lie (see the module's docstring)."""

    fixed: tuple[tuple[int, int], ...]
    written: bytes
    """Every byte but the values', in order (at ``fixed``)."""
    checked: tuple[tuple[int, int, int], ...]
    """The values a full reading checks that are none of :class:`Values` (those are read,
    and so checked, as they are taken): the timestamp's own signing time (by its tag, as
    :func:`_time` reads it), its serial number and nonce (INTEGERs, :func:`_integer`)."""
    fields: tuple[tuple[int, int, int] | None, ...]
    """Where each of :class:`Values` lies (start, end, kind: a time's tag, ``0x31`` for
    signed attributes, 0 for octets; None: not there)."""
    skeleton: bytes


LAYOUT_BYTES = 16 << 20
"""The layouts hold at most this many bytes of the signatures they were read from (a
PDF's padding among them); the oldest lengths are dropped first."""
_LAYOUTS: ber.Layouts[_Layout] = ber.Layouts(each=8, keys=1024, max_bytes=LAYOUT_BYTES)
"""Layouts by the length of the signature and of its ContentInfo."""


def read(der: bytes) -> Reading:
    """The values of a CMS signature (ContentInfo DER; bytes after it, a PDF's
    ``/Contents`` padding, are part of the skeleton unless zero) and its skeleton: by the
    layout of one read before where one fits, else read in full."""
    top = ber.der_value(der)
    where = (len(der), top.end)
    layout = _LAYOUTS.fitting(where, der)
    if layout is not None:
        return _by_layout(der, layout)
    marks = _Marks()
    reading = _read(der, top, marks)
    cuts = sorted(marks.cuts)
    fixed = ber.outside(cuts, len(der))
    fields = tuple(marks.fields.get(name) for name in Values._fields)
    _LAYOUTS.keep(
        where,
        _Layout(
            fixed,
            b"".join(der[a:b] for a, b in fixed),
            tuple(cut for cut in cuts if cut[2] and cut not in fields),
            fields,
            reading.skeleton,
        ),
    )
    return reading


def _by_layout(der: bytes, layout: _Layout) -> Reading:
    """A signature whose every byte but its values is ``layout``'s, read by it."""
    for a, b, kind in layout.checked:
        value = ber.DerValue(der, kind, a, a, b)
        if kind == _INTEGER:
            _integer(value)
        else:
            _time(value)
    values: list[bytes | datetime | None] = []
    for name, field in zip(Values._fields, layout.fields, strict=True):
        if field is None:
            values.append(None if name in ("signing_time", "gen_time") else b"")
            continue
        a, b, kind = field
        if kind == _SET:
            values.append(b"\x31" + der[a:b])
        elif kind:
            values.append(_time(ber.DerValue(der, kind, a, a, b)))
        else:
            values.append(der[a:b])
    return Reading(layout.skeleton, Values(*values))  # type: ignore[arg-type]


def _read(der: bytes, top: ber.DerValue, marks: _Marks) -> Reading:
    """:func:`read` in full, noting in ``marks`` where the values lie."""
    parts: list[bytes | str] = []
    trailing = der[top.end :]
    parts.append(b"" if not trailing.strip(b"\0") else trailing)
    content_type, wrapped = ber.der_kids(top, _OID, 0xA0)
    if content_type.encoded != _SIGNED_DATA:
        raise Unread("not SignedData")
    (signed_data,) = ber.der_kids(wrapped, _SEQUENCE, tag=0xA0)
    encap, (info,) = _signed_data(signed_data, parts)
    if encap.encoded != b"\x30" + bytes([len(_DATA)]) + _DATA:
        raise Unread("not detached data")
    signer, unsigned = _signer_info(info, parts, unsigned=True, marks=marks)
    if unsigned is None:
        return Reading(hashlib.sha256(repr(parts).encode()).digest(), signer)
    # one signature timestamp, nothing else unsigned
    (attr,) = _single(unsigned)
    kind, values = ber.der_kids(attr, _OID, _SET)
    if kind.encoded != _TIMESTAMP_TOKEN:
        raise Unread("unsigned attributes other than one timestamp")
    (token,) = _single(values)
    token_type, token_wrapped = ber.der_kids(token, _OID, 0xA0)
    if token_type.encoded != _SIGNED_DATA:
        raise Unread("a timestamp that is not SignedData")
    (token_data,) = ber.der_kids(token_wrapped, _SEQUENCE, tag=0xA0)
    parts.append("timestamp")
    encap, (token_info,) = _signed_data(token_data, parts)
    content_kind, content = ber.der_kids(encap, _OID, 0xA0)
    (octets,) = ber.der_kids(content, _OCTETS, tag=0xA0)
    if content_kind.encoded != _TST_INFO:
        raise Unread("a timestamp without TSTInfo")
    tst_info = ber.der_value(der, octets.body, octets.end)
    if tst_info.end != octets.end:
        raise Unread("bytes after the TSTInfo")
    marks.fields["tst_content"] = (octets.body, octets.end, 0)
    imprint, gen_time = _tst_info(tst_info, parts, marks)
    tsa, _none = _signer_info(token_info, parts, unsigned=False, marks=marks, prefix="tst_")
    stamped = signer._replace(
        tst_content=octets.contents,
        tst_digest=tsa.digest,
        tst_payload=tsa.payload,
        tst_signature=tsa.signature,
        imprint=imprint,
        gen_time=gen_time,
    )
    return Reading(hashlib.sha256(repr(parts).encode()).digest(), stamped)


def _tst_info(
    value: ber.DerValue, parts: list[bytes | str], marks: _Marks
) -> tuple[bytes, datetime]:
    """A TSTInfo's imprint and time (its serial number and nonce left out as well, checked
    to be INTEGERs); its other values noted in ``parts``."""
    kids = ber.der_kids(value, _INTEGER, _OID, _SEQUENCE, _INTEGER, _GENERALIZED_TIME)
    version, policy, message_imprint, serial, gen_time = kids[:5]
    algorithm, hashed = ber.der_kids(message_imprint, _SEQUENCE, _OCTETS)
    parts += [version.encoded, policy.encoded, algorithm.encoded, "imprint", _integer(serial)]
    parts.append(f"time {len(gen_time.contents)}")
    marks.value("imprint", hashed)
    marks.integer(serial)
    marks.value("gen_time", gen_time, gen_time.first)
    order = (_SEQUENCE, 0x01, _INTEGER, 0xA0, 0xA1)  # accuracy, ordering, nonce, tsa, ext.
    at = 0
    for kid in kids[5:]:
        while at < len(order) and order[at] != kid.first:
            at += 1
        if at == len(order):
            raise Unread("not a TSTInfo")
        parts.append(_integer(kid) if kid.first == _INTEGER else kid.encoded)
        if kid.first == _INTEGER:
            marks.integer(kid)
        at += 1
    return hashed.contents, _time(gen_time)
