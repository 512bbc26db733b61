"""The fast path's reading of a PDF's catalog and signature fields straight from the bytes
(``fastpath._outline_from_bytes``) gives exactly what pyHanko's reader gives, or nothing.

The fast path reads the plainest PDFs (plain cross-reference tables, plain objects) with
its own strict lexer instead of pyHanko's object parser; anything else goes to pyHanko's
reader as before. Whatever the bytes, the two must never disagree: a file the byte reader
accepts must read the same through pyHanko (same catalog keys, same filled signature
fields at the same offsets, same locks), and a file pyHanko cannot read must not be
accepted.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.sign import fields

from fixtures.documents import minimal_pdf, sign_pdf
from fixtures.pki import DemoPKI
from tests.verify.test_fastpath import countersign
from tests.verify.test_verifier import SIGNED_AT
from verify import fastpath, fastpath_objects

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = sorted(DATA.rglob("*.pdf"))


def _by_reader(data: bytes) -> Any:
    """pyHanko's reading, or the exception it raised."""
    try:
        return fastpath._outline_from_reader(fastpath._pdf_reader(data))
    except Exception as e:  # noqa: BLE001 - any failure is an answer here
        return e


def _sections_by_reader(data: bytes) -> Any:
    """The cross-reference sections as pyHanko's reader gives them, or the exception."""
    try:
        return fastpath._sections_from_reader(fastpath._pdf_reader(data))
    except Exception as e:  # noqa: BLE001 - any failure is an answer here
        return e


def _revisions(data: bytes, sections: Any = None) -> Any:
    """The revisions as the object reading reads them (:class:`fastpath_objects._File`):
    from the byte reader's ``sections``, or from pyHanko's reader (None); or the
    exception."""
    try:
        reader = None if sections is not None else fastpath._pdf_reader(data)
        read = fastpath_objects._File(reader, data, sections)
    except Exception as e:  # noqa: BLE001 - any failure is an answer here
        return e
    return (
        read.total,
        read.declared,
        read.ends,
        read.xref_objects,
        read.tables,
        read.listed,
        read.trailers,
    )


def _agree(data: bytes) -> bool:
    """True when the byte reader accepted the file (and then agrees with pyHanko: the
    outline, every cross-reference section as the structure check reads it, and the
    revisions as the object reading reads them, when it reads them from those sections)."""
    lean = fastpath._outline_from_bytes(data)
    if lean is None:
        return False
    assert _by_reader(data) == replace(lean, sections=None)
    assert _sections_by_reader(data) == lean.sections
    from_bytes = _revisions(data, lean.sections)
    if not isinstance(from_bytes, Exception):
        assert _revisions(data) == from_bytes
    return True


@pytest.fixture(scope="module")
def signed(demo_pki: DemoPKI) -> dict[str, bytes]:
    base = minimal_pdf("Ho so", padding=500)
    out = {
        "bb": sign_pdf(demo_pki, "citizen", base, at=SIGNED_AT),
        "bb-ec": sign_pdf(demo_pki, "citizen-ec", base, at=SIGNED_AT),
        "bt": sign_pdf(demo_pki, "official", base, at=SIGNED_AT, timestamp=True),
        "lt": sign_pdf(demo_pki, "citizen", base, at=SIGNED_AT, ltv=True),
        "certified": sign_pdf(
            demo_pki, "agency-seal", base, at=SIGNED_AT, certify=fields.MDPPerm.FILL_FORMS
        ),
    }
    out["two"] = sign_pdf(demo_pki, "official", out["bb"], at=SIGNED_AT, field_name="Signature2")
    out["twov"] = countersign(demo_pki, "official", out["bb"], box=(320, 40, 560, 100))
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(DATA)))
def test_every_stored_pdf_reads_the_same_from_the_bytes_or_goes_to_pyhanko(path: Path) -> None:
    """EU DSS's PDFs and the real Vietnamese contract: the byte reader agrees or declines."""
    _agree(path.read_bytes())


def test_documents_signed_by_pyhanko_are_read_from_the_bytes(signed: dict[str, bytes]) -> None:
    """Every shape pyHanko signs here is read by the byte reader, and read right."""
    for name, data in signed.items():
        assert _agree(data), name
    assert "/Perms" in fastpath._outline_from_bytes(signed["certified"]).catalog  # type: ignore[union-attr]
    assert "/DSS" in fastpath._outline_from_bytes(signed["lt"]).catalog  # type: ignore[union-attr]
    two = fastpath._outline_from_bytes(signed["two"])
    assert two is not None
    assert [f.name for f in two.fields] == ["Signature1", "Signature2"]


def test_a_visible_countersignatures_appearance_is_read_as_pyhanko_reads_it(
    signed: dict[str, bytes],
) -> None:
    """The stamp's drawing (``/AP /N``): its object and offset from the bytes are
    pyHanko's; an appearance the fast path cannot leave out (``/N`` missing, an indirect
    ``/AP``) is named the same way by both readers."""
    twov = signed["twov"]
    lean = fastpath._outline_from_bytes(twov)
    assert lean is not None
    assert _agree(twov)
    stamp = lean.fields[-1].appearance
    assert stamp is not None
    assert stamp[0] == "stream"
    assert isinstance(stamp[3], int)
    assert twov[stamp[3] :].startswith(b"%d %d obj" % (stamp[1], stamp[2]))
    at = twov.rindex(b"/AP")
    head = twov[at : at + 40]
    found = re.match(rb"/AP\s*<<\s*/N ", head)
    assert found is not None
    no_normal = twov[: at + found.end() - 3] + b"/D " + twov[at + found.end() :]
    odd = fastpath._outline_from_bytes(no_normal)
    assert odd is not None
    assert odd.fields[-1].appearance == ("odd", "a direct appearance")
    assert _agree(no_normal)


def _replace_last(data: bytes, old: bytes, new: bytes) -> bytes:
    at = data.rindex(old)
    return data[:at] + new + data[at + len(old) :]


def test_what_the_byte_reader_declines_is_left_to_pyhanko(signed: dict[str, bytes]) -> None:
    """Encryption, hybrid tables, odd generations, names it would have to decode, loops:
    declined, so pyHanko's reader decides as before."""
    bb = signed["bb"]
    cases = {
        "encrypted": _replace_last(bb, b"/Root", b"/Encrypt 1 0 R /Root"),
        "hybrid": _replace_last(bb, b"/Root", b"/XRefStm 10 /Root"),
        "escaped name": bb.replace(b"/T (Signature1)", b"/T (Signatur\\145)"),
        "hex name": bb.replace(b"/T (Signature1)", b"/T <5369676E61747572>"),
        "nested name": bb.replace(b"/T (Signature1)", b"/T (Sign(at)ure)"),
        "prev loop": _replace_last(bb, b"/Prev", b"/Prev 0 /Old"),
        "direct field": bb.replace(b"/Fields [", b"/Fields [ << /FT /Tx /T (a) >> ", 1),
        "comment": bb.replace(b"/SigFlags", b"%c\n/SigFlags", 1),
        "name with #": bb.replace(b"/SigFlags", b"/Sig#46lags", 1),
    }
    start = int(bb.rsplit(b"startxref", 1)[1].split()[0])
    cases["startxref off by one"] = _replace_last(
        bb, b"%d\n%%%%EOF" % start, b"%d\n%%%%EOF" % (start - 1)
    )
    for name, data in cases.items():
        assert fastpath._outline_from_bytes(data) is None, name


_ALPHABET = (
    b" \n\r\t\x00\x0c\\/<>[]()0123456789Robjendstreamxref trailerstartxref%#FTSigVKidsPrevRootn"
)
_LANDMARKS = re.compile(rb"obj|xref|trailer|/Prev|/Root|/Size|/AcroForm|/Fields|/FT|/V |/T |%%EOF")


def _landmarks(doc: bytes) -> list[int]:
    """Where the structure the readers read lies: object headers, tables, trailers, keys."""
    return [m.start() for m in _LANDMARKS.finditer(doc)]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_mutated_file_is_read_the_same_or_declined(
    signed: dict[str, bytes], data: st.DataObject
) -> None:
    """Bytes changed, inserted or removed anywhere in the structure (not the page data):
    the byte reader never accepts what pyHanko reads otherwise or cannot read."""
    doc = signed[data.draw(st.sampled_from(["bb", "lt", "two", "twov", "certified"]), label="doc")]
    _agree(_mutated(data, doc, _landmarks(doc), 40))


def _mutated(data: st.DataObject, doc: bytes, near: list[int], spread: int) -> bytes:
    """``doc`` with one to three bytes changed, inserted or removed within ``spread`` of
    one of the places ``near``."""
    around = data.draw(st.sampled_from(near), label="near")
    at = data.draw(
        st.integers(max(0, around - spread), min(len(doc) - 1, around + spread)), label="at"
    )
    how = data.draw(st.sampled_from(["replace", "insert", "delete"]), label="how")
    piece = data.draw(st.binary(min_size=1, max_size=3), label="bytes")
    piece = bytes(_ALPHABET[b % len(_ALPHABET)] for b in piece)
    if how == "replace":
        return doc[:at] + piece + doc[at + len(piece) :]
    if how == "insert":
        return doc[:at] + piece + doc[at:]
    return doc[:at] + doc[at + len(piece) :]


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=60).map(lambda b: bytes(_ALPHABET[x % len(_ALPHABET)] for x in b)))
def test_the_one_step_tokenizer_reads_as_the_byte_by_byte_one(text: bytes) -> None:
    """Token for token, end position and refusal: the regular expression gives what the
    lexer's own loop gives."""

    def tokens(step: str) -> list[Any]:
        lexer = fastpath._Lexer(text, 0, len(text))
        out: list[Any] = []
        for _ in range(80):
            try:
                out.append((getattr(lexer, step)(), lexer.at))
            except fastpath._NotEligible as e:
                out.append(str(e))
                break
        return out

    assert tokens("token") == tokens("_token")


_STREAM_KEYWORD = re.compile(rb"(?<=[\x00\t\n\x0c\r >])stream(?:\r\n|\n)")
"""What the fast path's stream keyword search answers, as the regular expression it
replaced."""

_STREAM_PIECES = st.sampled_from(
    [b"stream", b"endstream", b"\r\n", b"\n", b"\r", b" ", b">>", b"\x00", b"x", b"s", b"obj"]
)


@given(
    pieces=st.lists(_STREAM_PIECES, max_size=30),
    pos=st.integers(0, 200),
    endpos=st.integers(0, 200),
)
@settings(max_examples=500, deadline=None)
def test_the_stream_keyword_is_found_where_the_regular_expression_finds_it(
    pieces: list[bytes], pos: int, endpos: int
) -> None:
    """The ``stream`` keyword found with ``bytes.find`` ends exactly where the
    look-behind regular expression's match ends, or neither finds one (any bytes, any
    window: the look-behind may see the byte before the window, the end of line must fit
    in it)."""
    data = b"".join(pieces)
    found = _STREAM_KEYWORD.search(data, pos, endpos)
    assert fastpath._stream_keyword_end(data, pos, endpos) == (found.end() if found else None)


_OBJECT_LANDMARKS = re.compile(rb"obj|stream|/Length|>>|R ")


def _objects(data: bytes, *, remembered: bool) -> Any:
    """Every object the object reading reads of ``data`` (value, stream data, end), or
    why it does not: through what it remembers of objects read before, or anew."""
    lean = fastpath._outline_from_bytes(data)
    if lean is None:
        return None
    try:
        doc = fastpath_objects._File(None, data, lean.sections)
    except fastpath._NotEligible as e:
        return str(e)
    out: list[Any] = []
    for r in range(doc.total):
        for number, entry in sorted(doc.listed[r].items()):
            try:
                if remembered:
                    out.append(doc.read(r, number))
                else:
                    out.append(doc._direct(number, entry[1], entry[2], doc.ends[r]))
            except fastpath._NotEligible as e:
                out.append(str(e))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_an_object_read_by_what_was_remembered_reads_as_read_anew(
    signed: dict[str, bytes], data: st.DataObject
) -> None:
    """The object reading remembers objects across documents by their bytes (a stream by
    its dictionary's, its data's end read each time; an outline's catalog, form and
    fields likewise): bytes changed, inserted or removed near an object's header, its
    stream keyword, its /Length, its end or a reference, after the original was read,
    read exactly as reading them anew reads them."""
    doc = signed[data.draw(st.sampled_from(["bb", "lt", "two", "twov", "certified"]), label="doc")]
    _objects(doc, remembered=True)  # what the original leaves remembered
    near = [m.start() for m in _OBJECT_LANDMARKS.finditer(doc)]
    changed = _mutated(data, doc, near, 24)
    assert _objects(changed, remembered=True) == _objects(changed, remembered=False)
    _agree(changed)


_SEPARATOR = st.sampled_from(
    [b" "] * 30 + [b"\n", b"\r\n", b"\t", b"\x0c", b"\x00", b"\x0b", b"", b" " * 9]
)
_JUNK = st.sampled_from([b""] * 10 + [b"R", b"]", b"/K", b"[", b"<<", b"(s)", b"+1", b"-", b"0"])


@settings(max_examples=800, deadline=None)
@given(
    refs=st.lists(
        st.tuples(st.sampled_from([1, 7, 12, 99999, 10**12, 0]), st.integers(0, 65535), _SEPARATOR),
        max_size=8,
    ),
    inner=_SEPARATOR,
    junk=_JUNK,
    where=st.integers(0, 400),
)
def test_an_array_of_references_read_at_once_reads_as_item_by_item(
    refs: list[tuple[int, int, bytes]], inner: bytes, junk: bytes, where: int
) -> None:
    """An array read at once as references, where it is read so, is what reading it item
    by item gives (values, where the reading ends); anything else is read item by item.
    (References with any spacing, pyHanko's and the lexer's whitespace apart, and a stray
    token anywhere.)"""
    body = b"".join(b"%d%s%d%sR%s" % (n, inner or b" ", g, inner, after) for n, g, after in refs)
    at = where % (len(body) + 1)
    text = b"[" + body[:at] + junk + body[at:] + b"] /Next"

    def read(how: str) -> Any:
        lexer = fastpath._Lexer(text, 0, len(text))
        lexer.token()  # the "["
        try:
            found = lexer._items(0) if how == "items" else lexer._refs()
        except fastpath._NotEligible as e:
            return str(e)
        return found, lexer.at

    at_once = read("refs")
    if at_once[0] is not None:
        assert at_once == read("items")


def test_references_read_at_once_keep_pyhankos_twenty_bytes() -> None:
    """A reference pyHanko's pattern does not see within 20 bytes is no reference to the
    lexer either way, and one naming object 0 is refused either way."""
    spread = b"[1" + b" " * 17 + b"0 R]"
    lexer = fastpath._Lexer(spread, 1, len(spread))
    assert lexer._refs() is None
    zero = b"[0 0 R]"
    lexer = fastpath._Lexer(zero, 1, len(zero))
    assert lexer._refs() is None
    with pytest.raises(fastpath._NotEligible, match="object 0"):
        fastpath._Lexer(zero, 0, len(zero)).value()
    plain = b"[3 0 R 12 0 R]"
    assert fastpath._Lexer(plain, 0, len(plain)).value() == ("a", (("r", 3, 0), ("r", 12, 0)))
