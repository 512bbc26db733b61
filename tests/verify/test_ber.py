"""verify.ber: BER values split as encoded; an unsigned attribute appended keeps every other
byte; hostile bytes give a ValueError, never another exception."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from asn1crypto import cms
from hypothesis import given, settings
from hypothesis import strategies as st

from verify import ber


def _signed_data(unsigned: bytes = b"") -> bytes:
    """A minimal SignedData with one SignerInfo (and its unsigned attributes, if any),
    written with an indefinite-length outer SEQUENCE as BER producers do."""
    info = ber.tlv(
        0x30,
        ber.tlv(0x02, b"\x01")
        + ber.tlv(0x80, b"\x01\x02")  # sid as subjectKeyIdentifier [0]
        + ber.tlv(0x30, ber.oid_der("2.16.840.1.101.3.4.2.1"))
        + ber.tlv(0x30, ber.oid_der("1.2.840.113549.1.1.11"))
        + ber.tlv(0x04, b"\x00" * 8)
        + unsigned,
    )
    body = (
        ber.tlv(0x02, b"\x01")
        + ber.tlv(0x31, b"")
        + ber.tlv(0x30, ber.oid_der("1.2.840.113549.1.7.1"))
        + ber.tlv(0x31, info)
    )
    return b"\x30\x80" + body + b"\x00\x00"


def test_indefinite_lengths_are_kept_as_encoded() -> None:
    """A value with an indefinite length splits into header, contents and end-of-contents,
    and encodes back to the very same bytes."""
    raw = _signed_data()
    value = ber.read_one(raw)
    assert value.header == b"\x30\x80"
    assert value.trailer == b"\x00\x00"
    assert value.encoded == raw
    assert value.first == 0x30
    assert [k.tag for k in value.children()] == [2, 17, 16, 17]


def test_an_appended_unsigned_attribute_keeps_every_other_value() -> None:
    """The attribute lands in the SignerInfo's [1] unsigned attributes, after any already
    there; the SignerInfo's other fields keep their bytes; asn1crypto reads the result."""
    first = ber.tlv(0x30, ber.oid_der("1.2.3.4") + ber.tlv(0x31, ber.tlv(0x05, b"")))
    second = ber.tlv(0x30, ber.oid_der("1.2.3.5") + ber.tlv(0x31, ber.tlv(0x05, b"")))
    raw = _signed_data(ber.tlv(0xA1, first))
    out = ber.append_unsigned_attribute(ber.read_one(raw), 0, second)
    signed = cms.SignedData.load(out)
    attrs = signed["signer_infos"][0]["unsigned_attrs"]
    assert [a["type"].dotted for a in attrs] == ["1.2.3.4", "1.2.3.5"]
    before = ber.read_one(raw).children()[-1].children()[0].children()[:-1]
    after = ber.read_one(out).children()[-1].children()[0].children()[:-1]
    assert [k.encoded for k in before] == [k.encoded for k in after]


def test_a_signer_that_is_not_there_is_a_value_error() -> None:
    """Asking for SignerInfo number 1 of a SignedData that has one is refused by name."""
    with pytest.raises(ValueError, match="no SignerInfo number 1"):
        ber.append_unsigned_attribute(ber.read_one(_signed_data()), 1, b"\x30\x00")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_are_read_or_refused_with_a_value_error(data: bytes) -> None:
    """Whatever the bytes, reading them gives values that re-encode to what was read, or a
    ValueError; nothing else escapes."""
    try:
        value = ber.read_one(data)
    except ValueError:
        return
    assert value.encoded == data
    if value.constructed:
        try:
            kids = value.children()
        except ValueError:
            return
        assert b"".join(k.encoded for k in kids) == value.contents


def test_deep_indefinite_nesting_is_refused() -> None:
    """More nested indefinite lengths than MAX_DEPTH: refused, not followed."""
    depth = ber.MAX_DEPTH + 2
    data = b"\x30\x80" * depth + b"\x00\x00" * depth
    with pytest.raises(ValueError, match="indefinite"):
        ber.read_one(data)


class _Laid(NamedTuple):
    fixed: tuple[tuple[int, int], ...]
    written: bytes


def _laid(data: bytes, cuts: list[tuple[int, int]]) -> _Laid:
    fixed = ber.outside(cuts, len(data))
    return _Laid(fixed, b"".join(data[a:b] for a, b in fixed))


@given(st.binary(min_size=1, max_size=64), st.lists(st.integers(0, 64), max_size=8), st.data())
def test_a_layout_fits_exactly_the_encodings_that_differ_only_in_its_cuts(
    data: bytes, points: list[int], draw: st.DataObject
) -> None:
    """The bytes outside the cuts are every byte no cut covers; an encoding of the same
    length fits the layout exactly when it has those bytes, whatever its cuts hold."""
    marks = sorted({min(p, len(data)) for p in points})
    cuts = list(zip(marks[::2], marks[1::2], strict=False))
    fixed = ber.outside(cuts, len(data))
    covered = {i for a, b in cuts for i in range(a, b)}
    assert [i for a, b in fixed for i in range(a, b)] == [
        i for i in range(len(data)) if i not in covered
    ]
    layouts = ber.Layouts[_Laid](each=2, keys=4, max_bytes=1 << 20)
    layouts.keep(len(data), _laid(data, cuts))
    other = bytearray(draw.draw(st.binary(min_size=len(data), max_size=len(data))))
    same_outside = all(other[i] == data[i] for i in range(len(data)) if i not in covered)
    assert (layouts.fitting(len(data), bytes(other)) is not None) == same_outside
    for i in range(len(data)):
        if i not in covered:
            other[i] = data[i]
    assert layouts.fitting(len(data), bytes(other)) is not None


def test_layouts_are_bounded_in_keys_per_key_and_bytes_dropping_the_oldest_first() -> None:
    """At most ``each`` layouts a key and ``keys`` keys; past ``max_bytes`` (weighted) the
    oldest keys go; the count of bytes held is exact."""
    layouts = ber.Layouts[_Laid](each=2, keys=3, max_bytes=130, weight=2)
    for key in range(5):
        for k in range(3):
            layouts.keep(key, _laid(bytes([k]) * 10, []))
    assert list(layouts.table) == [2, 3, 4]
    assert all(len(found) == 2 for found in layouts.table.values())
    assert layouts.held == 2 * 10 * 6
    layouts.keep(5, _laid(b"x" * 30, []))  # 60 more: past 130, the oldest keys go
    assert list(layouts.table) == [4, 5]
    assert layouts.held == 2 * 10 * 2 + 60
