"""verify.pdfopen: pyHanko's own reading when it reads; a repaired chain only when it stops."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.reader import PdfFileReader

from verify.pdfopen import REPAIRS_ON, _ChainRepairingReader, open_pdf
from verify.speedups import installed_version

DSS = Path(__file__).resolve().parents[1] / "data" / "dss"
FIVE = DSS / "pades-5-signatures-and-1-document-timestamp.pdf"

pytestmark = pytest.mark.skipif(
    installed_version("pyhanko") not in REPAIRS_ON,
    reason="the repair follows pyHanko 0.38.0's reader",
)


def _entry(offset: int) -> bytes:
    return b"%010d 00000 n\r\n" % offset


def _two_revisions(*, prev: int | None = None, shift: int = 0) -> bytes:
    """A catalog, a page tree and object 3 = (first); then an update with 3 = (second).

    ``prev`` replaces the update's ``/Prev`` (the right one when None); ``shift`` is added
    to the update's entry for object 3."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for body in (
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[]/Count 0>>",
        b"(first)",
    ):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (len(offsets), body)
    first_table = len(out)
    out += b"xref\n0 4\n0000000000 65535 f\r\n" + b"".join(_entry(o) for o in offsets)
    out += b"trailer\n<</Size 4/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % first_table
    updated = len(out)
    out += b"3 0 obj\n(second)\nendobj\n"
    second_table = len(out)
    out += b"xref\n0 1\n0000000000 65535 f\r\n3 1\n" + _entry(updated + shift)
    out += b"trailer\n<</Size 4/Root 1 0 R/Prev %d>>\n" % (first_table if prev is None else prev)
    out += b"startxref\n%d\n%%%%EOF\n" % second_table
    return bytes(out)


def _third(reader: PdfFileReader, revision: int | None = None) -> object:
    ref = generic.Reference(3, 0)
    if revision is None:
        return reader.get_object(ref)  # type: ignore[no-untyped-call]
    return reader.get_historical_resolver(revision)(ref)


def test_pyhanko_alone_stops_at_a_prev_of_zero() -> None:
    """Why the repair exists: pyHanko 0.38.0 seeks before byte 0 on ``/Prev 0``."""
    for data in (_two_revisions(prev=0), FIVE.read_bytes()):
        with pytest.raises(ValueError, match="negative seek value"):
            PdfFileReader(io.BytesIO(data), strict=False)


def test_a_prev_of_zero_is_followed_to_the_table_before_it() -> None:
    """Both revisions are read: the current object 3 and the first revision's."""
    reader = open_pdf(_two_revisions(prev=0))
    assert isinstance(reader, _ChainRepairingReader)
    assert reader.xrefs.total_revisions == 2
    assert _third(reader) == "second"
    assert _third(reader, 0) == "first"


def test_a_prev_inside_other_data_is_followed_to_the_table_before_it() -> None:
    """A ``/Prev`` into the middle of an object counts as pointing at no table."""
    reader = open_pdf(_two_revisions(prev=20))
    assert isinstance(reader, _ChainRepairingReader)
    assert reader.xrefs.total_revisions == 2
    assert _third(reader, 0) == "first"


def test_an_entry_off_its_object_is_taken_at_its_last_header_before_the_table() -> None:
    """An entry 7 bytes past its object, in a file pyHanko cannot open: the object is
    read at its own header in the update, not from the bytes the entry points at."""
    reader = open_pdf(_two_revisions(prev=0, shift=7))
    assert isinstance(reader, _ChainRepairingReader)
    assert _third(reader) == "second"


def test_dss_file_with_a_prev_of_zero_reads_every_revision_and_signature() -> None:
    """DSS's file: eight revisions, five signatures and one document timestamp, where
    pyHanko alone reads none; the seventh revision's entries are 20326 bytes off, and its
    DSS dictionary (the revocation data) is read at its objects' own headers."""
    reader = open_pdf(FIVE.read_bytes())
    assert reader.xrefs.total_revisions == 8
    dss = reader.root["/DSS"]
    assert len(dss["/Certs"]) == 18
    assert {"/CRLs", "/OCSPs", "/VRI"} <= set(dss.keys())
    sub_filters = [s.sig_object["/SubFilter"] for s in reader.embedded_signatures]
    assert sub_filters == ["/ETSI.CAdES.detached"] * 5 + ["/ETSI.RFC3161"]


@pytest.mark.parametrize("name", ["PAdES-LT.pdf", "lt-short.pdf", "pades-ltv.pdf"])
def test_a_file_pyhanko_reads_is_pyhankos_own_reading(name: str) -> None:
    """open_pdf returns pyHanko's reader itself; and the repairing reader, run on the same
    intact file, finds nothing to repair: every section as pyHanko reads it."""
    data = (DSS / name).read_bytes()
    assert type(open_pdf(data)) is PdfFileReader
    own = PdfFileReader(io.BytesIO(data), strict=False)
    repairing = _ChainRepairingReader(data)
    sections = [
        (s.meta_info, s.xref_data.standard_xrefs, s.xref_data.freed)
        for s in own.xrefs._xref_sections
    ]
    assert sections == [
        (s.meta_info, s.xref_data.standard_xrefs, s.xref_data.freed)
        for s in repairing.xrefs._xref_sections
    ]
    assert repairing.trailer.flatten() == own.trailer.flatten()
    assert repairing.last_startxref == own.last_startxref


def test_a_file_the_repair_cannot_read_raises_pyhankos_first_error() -> None:
    """A ``/Prev`` pointing at its own table is a loop for the repair too: pyHanko's error."""
    data = _two_revisions()
    second_table = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    looping = data.replace(b"/Prev %d>>" % data.index(b"xref"), b"/Prev %d>>" % second_table)
    with pytest.raises(misc.PdfReadError, match="startxref loop") as own:
        PdfFileReader(io.BytesIO(looping), strict=False)
    with pytest.raises(misc.PdfReadError) as ours:
        open_pdf(looping)
    assert str(ours.value) == str(own.value)
