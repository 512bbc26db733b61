"""Opening a PDF whose cross-reference chain is broken, as EU DSS (PDFBox) and pypdf do.

pyHanko reads each revision's cross-reference table at the ``/Prev`` offset given in the
trailer of the next one. Some producers write a wrong ``/Prev`` (``0``, or an offset in
the middle of other data) and entries all off by the same amount. pyHanko's lenient mode
corrects a startxref a few bytes off only; on ``/Prev 0`` (0.38.0) it seeks five bytes
before the start of the file and stops with ``ValueError: negative seek value -5``, so the
document reads as unreadable, its signatures unreported (DSS's
``pades-5-signatures-and-1-document-timestamp.pdf``).

:func:`open_pdf` returns pyHanko's own reader for every file pyHanko reads. Only when that
fails, and for the pyHanko versions in :data:`REPAIRS_ON`, does it read again with pyHanko's
reader and one difference: a table whose ``/Prev`` points at no cross-reference section is
taken to continue at the nearest table before it, and an entry that points at no header of
its object is taken to point at that object's last header before the table. Nothing in
pyHanko is replaced; when the repair fails too, pyHanko's first error is raised.
"""

from __future__ import annotations

import bisect
import io
import os
import re
from typing import Any

from pyhanko.pdf_utils import misc
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.xref import XRefBuilder, XRefCache

from verify.speedups import installed_version

__all__ = ["REPAIRS_ON", "open_pdf"]

REPAIRS_ON: frozenset[str] = frozenset({"0.38.0"})
"""The pyHanko versions whose ``PdfFileReader.__init__`` :class:`_ChainRepairingReader`
follows line by line (another version gets pyHanko's error unchanged)."""

_WS = rb"[ \t\r\n\f\0]"
_HEADER = re.compile(rb"(?<![0-9])([0-9]+)" + _WS + rb"+([0-9]+)" + _WS + rb"+obj\b")
_AT_HEADER = re.compile(_WS + rb"*([0-9]+)" + _WS + rb"+([0-9]+)" + _WS + rb"+obj\b")
_AT_SECTION = re.compile(_WS + rb"*(?:xref|[0-9]+" + _WS + rb"+[0-9]+" + _WS + rb"+obj\b)")


def open_pdf(data: bytes) -> PdfFileReader:
    """pyHanko's lenient reader of ``data``; on a broken cross-reference chain, one that
    follows the chain as described above. Raises pyHanko's error when neither reads it."""
    try:
        return PdfFileReader(io.BytesIO(data), strict=False)
    except (misc.PdfReadError, ValueError) as first:
        if installed_version("pyhanko") not in REPAIRS_ON:
            raise
        try:
            return _ChainRepairingReader(data)
        except Exception:  # noqa: BLE001 - the repair is a second chance, not a new error
            raise first from None


class _ChainRepairingBuilder(XRefBuilder):
    """pyHanko's cross-reference reader, repairing each table's ``/Prev`` and entries."""

    def __init__(self, handler: Any, stream: io.BytesIO, last_startxref: int) -> None:
        super().__init__(handler, stream, strict=False, last_startxref=last_startxref)
        self._data = stream.getvalue()
        self._headers: dict[tuple[int, int], list[int]] | None = None

    def _last_header_before(self, idnum: int, generation: int, limit: int) -> int | None:
        if self._headers is None:  # one pass over the file, only once a repair is needed
            self._headers = {}
            for found in _HEADER.finditer(self._data):
                key = (int(found.group(1)), int(found.group(2)))
                self._headers.setdefault(key, []).append(found.start())
        offsets = self._headers.get((idnum, generation), [])
        index = bisect.bisect_left(offsets, limit)
        return offsets[index - 1] if index else None

    def _read_xref_table(self, declared_startxref: int) -> Any:
        prev = super()._read_xref_table(declared_startxref)
        section = self.sections[-1]
        table = section.meta_info.start_location  # just after the keyword ``xref``
        entries = section.xref_data.standard_xrefs
        for idnum, (generation, offset) in list(entries.items()):
            at = _AT_HEADER.match(self._data, offset)
            if at is None or (int(at.group(1)), int(at.group(2))) != (idnum, generation):
                found = self._last_header_before(idnum, generation, table)
                if found is not None:
                    entries[idnum] = (generation, found)
        if prev is not None and _AT_SECTION.match(self._data, int(prev)) is None:
            # the nearest earlier ``xref`` at the start of a line (not ``startxref``)
            before = self._data.rfind(b"xref", 0, table - 4)
            while before > 0 and self._data[before - 1 : before] not in (b"\n", b"\r"):
                before = self._data.rfind(b"xref", 0, before)
            prev = before if before > 0 else None
        return prev


class _ChainRepairingReader(PdfFileReader):
    """pyHanko 0.38.0's ``PdfFileReader.__init__`` (lenient, default decode limits), with
    :class:`_ChainRepairingBuilder` reading the cross-reference sections."""

    def __init__(self, data: bytes) -> None:
        from pyhanko.pdf_utils.decode_limits import DecodeContext, DecodeLimits
        from pyhanko.pdf_utils.reader import _read_header_version, process_data_at_eof

        stream = io.BytesIO(data)
        self._security_handler = None
        self.strict = False
        self._decode_context = DecodeContext(DecodeLimits(), input_size=len(data))
        self.resolved_objects = {}
        self._header_version = None
        self._input_version = None
        self._historical_resolver_cache = {}
        self.stream = stream
        self._header_version = _read_header_version(stream)
        stream.seek(-1, os.SEEK_END)
        builder = _ChainRepairingBuilder(self, stream, process_data_at_eof(stream))
        self.xrefs = XRefCache(self, builder.read_xrefs())  # type: ignore[no-untyped-call]
        self.last_startxref = builder.last_startxref
        self.trailer = builder.trailer
        self.has_xref_stream = builder.has_xref_stream
        self._embedded_signatures = None
