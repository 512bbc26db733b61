"""BER values read as they were encoded, and the few edits that keep every other byte.

A CMS signature's hashes (an archive timestamp's imprint, a signature over signed
attributes) are over bytes as they were written, which may be BER with indefinite lengths;
asn1crypto's ``dump()`` re-encodes, sorting SETs, which changes them. :func:`read_one`
splits a value into :class:`Tlv` parts that keep their encoding, and
:func:`append_unsigned_attribute` adds an unsigned attribute to one SignerInfo without
touching anything else (definite lengths are written only where a length changes). The
verifier reads archive timestamps with it (:mod:`verify.cades_archive`); esign augments
signatures with it.

:func:`der_value` and :func:`der_kids` read DER strictly and in place (positions, no
copies): the fast path splits CMS signatures, OCSP answers and CRLs with them into the
values that differ from one document to the next and everything else, and
:class:`Layouts` keeps, for each, where those values lay in one read before: a later
encoding whose every other byte is the same is read from those places.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, NamedTuple, Protocol, TypeVar

from asn1crypto import core

__all__ = [
    "MAX_DEPTH",
    "DerValue",
    "Layouts",
    "Tlv",
    "append_unsigned_attribute",
    "der_kids",
    "der_length",
    "der_value",
    "oid_der",
    "outside",
    "read",
    "read_one",
    "tlv",
]

MAX_DEPTH = 32
"""Nesting of indefinite-length values followed when splitting BER (hostile input bound)."""


@dataclass(frozen=True)
class Tlv:
    """One BER value as encoded: its header, contents and end-of-contents (if any)."""

    class_: int
    constructed: bool
    tag: int
    header: bytes
    contents: bytes
    trailer: bytes

    @property
    def encoded(self) -> bytes:
        return self.header + self.contents + self.trailer

    @property
    def first(self) -> int:
        """The identifier octet (``0x30`` a SEQUENCE, ``0xA0`` a constructed [0]...)."""
        return self.header[0]

    def is_universal(self, tag: int) -> bool:
        return self.class_ == 0 and self.tag == tag

    def is_context(self, tag: int) -> bool:
        return self.class_ == 2 and self.tag == tag and self.constructed

    def children(self) -> list[Tlv]:
        if not self.constructed:
            raise ValueError("a primitive value has no children")
        kids: list[Tlv] = []
        pos = 0
        while pos < len(self.contents):
            kid, pos = read(self.contents, pos)
            kids.append(kid)
        return kids


def read(data: bytes, pos: int = 0, depth: int = 0) -> tuple[Tlv, int]:
    """The value at ``pos`` of ``data`` and the position after it. Raises ``ValueError``
    on anything truncated or malformed."""
    start, end = pos, len(data)
    if pos >= end:
        raise ValueError("truncated value")
    first = data[pos]
    pos += 1
    class_, constructed, tag = first >> 6, bool(first & 0x20), first & 0x1F
    if tag == 0x1F:
        tag = 0
        while True:
            if pos >= end or tag > 0xFFFFFF:
                raise ValueError("bad tag")
            b = data[pos]
            pos += 1
            tag = (tag << 7) | (b & 0x7F)
            if not b & 0x80:
                break
    if pos >= end:
        raise ValueError("truncated length")
    lb = data[pos]
    pos += 1
    if lb == 0x80:
        if not constructed or depth >= MAX_DEPTH:
            raise ValueError("bad indefinite length")
        body = pos
        while True:
            if pos + 2 <= end and data[pos] == 0 and data[pos + 1] == 0:
                return (
                    Tlv(class_, constructed, tag, data[start:body], data[body:pos], b"\0\0"),
                    pos + 2,
                )
            _, pos = read(data, pos, depth + 1)
    if lb & 0x80:
        n = lb & 0x7F
        if n > 8 or pos + n > end:
            raise ValueError("bad length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    else:
        length = lb
    if pos + length > end:
        raise ValueError("truncated value")
    return (
        Tlv(class_, constructed, tag, data[start:pos], data[pos : pos + length], b""),
        pos + length,
    )


def read_one(data: bytes) -> Tlv:
    """``data`` as exactly one value (trailing bytes are an error)."""
    value, end = read(data)
    if end != len(data):
        raise ValueError("trailing data")
    return value


def der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, contents: bytes) -> bytes:
    """A definite-length value with the one-octet identifier ``tag``."""
    return bytes([tag]) + der_length(len(contents)) + contents


def oid_der(dotted: str) -> bytes:
    return bytes(core.ObjectIdentifier(dotted).dump())


def append_unsigned_attribute(signed_data: Tlv, signer_index: int, attribute: bytes) -> bytes:
    """``signed_data`` (a SignedData SEQUENCE) re-encoded with ``attribute`` (a DER
    ``Attribute``) appended to the unsigned attributes of SignerInfo ``signer_index``;
    every other value keeps its encoding."""
    kids = signed_data.children()
    if not kids:
        raise ValueError("empty SignedData")
    infos = kids[-1]
    if not infos.is_universal(17):
        raise ValueError("bad signerInfos")
    signers = infos.children()
    if not 0 <= signer_index < len(signers):
        raise ValueError(f"no SignerInfo number {signer_index}")
    fields = signers[signer_index].children()
    if fields and fields[-1].is_context(1):
        unsigned = tlv(0xA1, fields[-1].contents + attribute)
        fields_raw = b"".join(f.encoded for f in fields[:-1]) + unsigned
    else:
        fields_raw = b"".join(f.encoded for f in fields) + tlv(0xA1, attribute)
    signers_raw = b"".join(
        tlv(0x30, fields_raw) if i == signer_index else s.encoded for i, s in enumerate(signers)
    )
    return tlv(0x30, b"".join(k.encoded for k in kids[:-1]) + tlv(0x31, signers_raw))


class DerValue(NamedTuple):
    """One value of ``data``: its identifier octet, where it starts, where its contents
    start and where it ends."""

    data: bytes
    first: int
    start: int
    body: int
    end: int

    @property
    def encoded(self) -> bytes:
        return self.data[self.start : self.end]

    @property
    def contents(self) -> bytes:
        return self.data[self.body : self.end]


def der_value(data: bytes, pos: int = 0, end: int | None = None) -> DerValue:
    """The value at ``pos`` of ``data`` (before ``end``), read in place: a one-octet
    identifier and a definite length in its shortest form (DER); ValueError for anything
    else, or truncated."""
    limit = len(data) if end is None else end
    if pos + 2 > limit:
        raise ValueError("truncated")
    first, size = data[pos], data[pos + 1]
    if first & 0x1F == 0x1F:
        raise ValueError("a long tag")
    body = pos + 2
    if size & 0x80:
        n = size & 0x7F
        if not 1 <= n <= 4 or body + n > limit or data[body] == 0:
            raise ValueError("not DER")
        size = int.from_bytes(data[body : body + n], "big")
        body += n
        if size < 0x80 or (n > 1 and size < 1 << (8 * (n - 1))):
            raise ValueError("not DER")
    if body + size > limit:
        raise ValueError("truncated")
    return DerValue(data, first, pos, body, body + size)


def der_kids(value: DerValue, *first: int, tag: int = 0x30) -> list[DerValue]:
    """The values inside ``value`` (whose identifier octet must be ``tag``, -1: any
    constructed one its parent checked); the first ones must have the identifier octets
    ``first``."""
    if value.first != tag and not (tag == -1 and value.first & 0x20):
        raise ValueError("not the value expected")
    out: list[DerValue] = []
    pos, end = value.body, value.end
    while pos < end:
        kid = der_value(value.data, pos, end)
        out.append(kid)
        pos = kid.end
    if len(out) < len(first) or any(k.first != f for k, f in zip(out, first, strict=False)):
        raise ValueError("not the values expected")
    return out


# -- layouts: where the values of an encoding lay ------------------------------------------


def outside(cuts: Iterable[tuple[int, ...]], length: int) -> tuple[tuple[int, int], ...]:
    """The spans of ``length`` bytes that no cut covers (each cut starts with its start
    and end; cuts sorted, none overlapping): every byte but the values'."""
    bounds = [0]
    for cut in cuts:
        bounds += [cut[0], cut[1]]
    bounds.append(length)
    return tuple(zip(bounds[::2], bounds[1::2], strict=True))


class _Laid(Protocol):
    @property
    def fixed(self) -> tuple[tuple[int, int], ...]: ...

    @property
    def written(self) -> bytes: ...


_L = TypeVar("_L", bound=_Laid)


class Layouts(Generic[_L]):
    """Layouts of encodings read in full before, each its ``fixed`` spans (every byte but
    the values, :func:`outside`) and the bytes ``written`` there: an encoding with the same
    key (its length, say) whose bytes at ``fixed`` are ``written`` differs from that one
    only in its values, and is read from their places (:meth:`fitting`).

    Bounded, since hostile input may bring many: at most ``each`` layouts a key, ``keys``
    keys, and ``max_bytes`` held (``weight`` times the bytes written: what else a layout
    keeps of its encoding); the oldest keys are dropped first."""

    def __init__(self, *, each: int, keys: int, max_bytes: int, weight: int = 1) -> None:
        self.each, self.keys, self.max_bytes, self.weight = each, keys, max_bytes, weight
        self.table: OrderedDict[Hashable, list[_L]] = OrderedDict()
        self.held = 0
        """The bytes held (``weight`` times those written, summed)."""
        self._lock = threading.Lock()

    def fitting(self, key: Hashable, data: bytes) -> _L | None:
        """The first layout of ``key`` whose bytes at its ``fixed`` spans ``data`` has."""
        with self._lock:
            found = list(self.table.get(key, ()))
        for layout in found:
            if b"".join([data[a:b] for a, b in layout.fixed]) == layout.written:
                return layout
        return None

    def keep(self, key: Hashable, layout: _L) -> None:
        """Keep ``layout`` among those of ``key``, within the bounds."""
        with self._lock:
            found = self.table.setdefault(key, [])
            if len(found) < self.each:
                found.append(layout)
                self.held += self.weight * len(layout.written)
            while len(self.table) > self.keys or self.held > self.max_bytes:
                _key, dropped = self.table.popitem(last=False)
                self.held -= sum(self.weight * len(one.written) for one in dropped)
