"""The fast path's *structure* of a PDF with later revisions, object by object (see
:mod:`verify.fastpath` for the fast path itself).

It serves every file whose newest cross-reference section is a stream, and files of plain
tables whose byte-for-byte structure (:func:`verify.fastpath._structure`: the same
offsets) the fast path does not take. The first is what a PDF/A form rendered by
WeasyPrint becomes once pyHanko signs it, adds its validation data (DSS) and an official
countersigns it: the dossier ``make demo`` makes. Its cross-reference sections and many
of its objects are compressed, and every dossier differs from the next in its page
content, fonts and attachments, so a byte-for-byte structure never repeats. The second is
a form whose later revisions fill in fields, each with a value of its own (and so other
offsets). This structure is read object by object instead, with pyHanko's reader for the
cross-reference sections and a strict lexer for the objects, and holds what every verdict
on the file depends on apart from its signatures (their CMS, hash and times, read for each
document):

- **each revision's cross-reference section** as pyHanko decoded it: which objects it
  lists, in use or in which object stream (not where: offsets are left out), and its
  trailer (``/Size``, ``/Root``, ``/Info``; not ``/ID``, ``/Prev`` or the encoding). A
  table is read as bytes too (:meth:`_File._table`: a plain table listing what pyHanko
  read, a trailer of the usual entries);
- **every object written from the first signed revision on**, whole, except what each
  document writes anew: each signature's ``/Contents``, ``/ByteRange`` and ``/M`` (read
  for each document as the fast path reads any signature), the values of the document
  information (``/Info``: pyHanko's ``DocInfoRule`` allows any change to it, and
  nothing else reads it), the data of the XMP metadata streams (for which the structure
  holds instead whether pyHanko's ``MetadataUpdateRule`` finds each version well-formed,
  checked for each document as it checks), the names of the ``/VRI`` entries of the DSS
  (each is the SHA-1 of one signature's ``/Contents``: the structure holds *which*
  signature's), the order of the DSS's OCSP answers, certificates and CRLs where it
  changes nothing (:meth:`_Roles._unordered`: then they are a set), what the signatures'
  stamps and the filled fields' new appearances draw (their appearances and fonts: the
  signer's name and time, the text filled in; their skeletons only, see
  :meth:`_Roles._drawings`), the value a later revision fills a field with and a check
  box's or radio button's state (their kind only, :meth:`_Roles._fills`), and the data
  of object and cross-reference streams (their objects and entries are part of it
  instead). Every other stream's data is part of it as a digest (the DSS's
  certificates among them), but the DSS's OCSP answers and CRLs held as a set, which are
  part of it by their *class* (:func:`_answer_class`: what they say but their times and
  an OCSP answer's nonce, their signature algorithm and the certificates they carry, and
  which certificate's key verifies each, checked for each document), their times by
  their order among every time a verdict weighs them against
  (:func:`verify.fastpath._time_order`): a signer that fetches the validation data anew
  for each document lists answers of one class made at other times, signed anew, in the
  order its fetches ended. So are the bytes between the objects of those revisions, with
  ``startxref``'s offset left out (anything a cross-reference section does not account
  for);
- **the objects of the document as it was before its first signature** that are still
  in use in the first signed revision: whole where pyHanko's difference analysis or the
  verifier read their values (the catalog, the page tree and each page, the annotations
  of the pages, the AcroForm and its field tree, the field's appearances); for every other
  object (page content, fonts, images, attachments, outlines, structure tree: what
  differs from one dossier to the next) its *skeleton*: its dictionary keys, the shape of
  its arrays, every reference it makes and its ``/Type``, nothing else. The difference
  analysis reaches those objects only through pyHanko's map of the paths by which each
  object is reached from the trailer (``_load_reverse_xref_cache``: references, keys and
  indices, and the ``/Type`` of page tree and structure tree nodes), which the
  skeletons determine.

So two documents of one structure get the same difference analysis, the same list of
changed fields (but for the values filled in) and annotations, the same DSS and the same
validation of it. The rendered
comparison of the pages after a later revision is the one part that reads what the
skeletons leave out (the page content): a structure is taken only when every later
revision changes nothing a page drawing reads but by adding signature widgets (checked
once, :func:`_judge`), so the final pages are the signed ones with the later signatures'
stamps drawn inside their widgets, which the comparison allows unless the signed page has
content under them: that is checked for each document, by drawing the signed page as the
comparison does (:func:`verify.fastpath._blank_under`). Later revisions may also fill in
form fields (:meth:`_Roles._fills`): a new appearance is drawn inside its widget too, which
the comparison allows if the field's value changed (then it is among the changes it is
given) unless the signed page has content under it. So for each document the report's list
of filled fields, with their old and new values, is made, each field drawn anew must be
among them, and the signed page must be blank under each filled field's widget too; any
other document is left to full validation.

Anything this module does not expect (an unusual cross-reference table, a hybrid file, an
object where its section does not say, a comment, a ``/Length`` that is not a plain
number, a filter other than Flate on an object stream...) sends the document to full
validation.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from verify import ber
from verify import fastpath as fp
from verify.visual import MAX_DECODED, counted_size, filled_note

_WS = rb"[\x00\t\n\x0c\r ]"
_OBJ_HEAD = re.compile(_WS + rb"*(\d+)" + _WS + rb"+(\d+)" + _WS + rb"+obj")
_ENDOBJ = re.compile(_WS + rb"*endobj")
_ENDSTREAM = re.compile(_WS + rb"*endstream" + _WS + rb"*endobj")
_STREAM_KEYWORD = re.compile(_WS + rb"*stream(\r\n|\n)")
_TAIL = re.compile(_WS + rb"*startxref" + _WS + rb"+(\d+)" + _WS + rb"+%%EOF(?:\r\n|\r|\n)?")
_PAIR = re.compile(_WS + rb"*(\d+)" + _WS + rb"+(\d+)(?![0-9.+\-])")
_STARTXREF_NUMBER = re.compile(rb"(startxref" + _WS + rb"+)\d+")

_MAX_INFLATE = 2**20
"""An object stream inflating to more is not taken (pyHanko's own limit is far above
this, so what is taken, pyHanko reads too)."""
_REFUSALS = 3
"""A kind of structure (its revisions and the objects each lists) of which this many
structures were judged and none taken is not read any further: documents that differ from
one another in what the fast path holds whole (an annotation with a text of its own, say)
would each cost a judgement, only to go to full validation. (Declining is always safe.)"""
_MAX_OBJECTS = 10_000
_MAX_REVISIONS = 16
"""A file with more objects (counted in every revision) or more revisions goes to full
validation: what this module does for each document grows with both."""
_XREF_KEYS = frozenset({b"/Type", b"/Size", b"/Root", b"/Info"})
"""What a cross-reference stream's dictionary holds that is part of the structure (the
rest encodes the section, which is part of it as pyHanko decoded it, or is ``/ID``)."""
_REFUSED_TRAILER = frozenset({b"/Encrypt", b"/XRefStm"})
"""Trailer entries of a file this module does not take: encryption, hybrid sections."""
_FILTERS = (None, ("n", b"/FlateDecode"))
_PER_SIGNATURE = frozenset(
    {b"/Contents", b"/ByteRange", b"/M", b"/Name", b"/Reason", b"/Location", b"/ContactInfo"}
)
"""What the structure leaves out of a signature dictionary: what the fast path reads for
each signature, and the signer's own words, which only a seed value dictionary (``/SV``)
would weigh (a structure with one is not taken: :func:`_judge`) and no report shows."""
_UNPLAIN = frozenset({b"/DecodeParms", b"/F", b"/FFilter", b"/FDecodeParms", b"/DL"})

Value = tuple[Any, ...]

_MEMO: OrderedDict[tuple[int, int, bytes], tuple[Value, tuple[int, int] | None, int]] = (
    OrderedDict()
)
"""Objects already read, by their bytes and those after (up to the next object, and 16
more): the lexer reads nothing else, so the same bytes read the same."""
_MEMO_LOCK = threading.Lock()
_STREAMS: OrderedDict[tuple[int, int, bytes], tuple[Value, int]] = OrderedDict()
"""Streams already read, by their bytes up to their data (see :meth:`_File._stream`):
their dictionary and the length of their data."""
_STREAMS_LOCK = threading.Lock()
_MEMO_SIZE = 4096
_MEMO_LARGEST = 8192
"""Objects larger than this (with what follows them up to the next) are read anew each
time: a signature dictionary, different in every document, is never remembered, and the
memory the objects remembered take stays under some 32 MB."""

_ESCAPED_NAME = re.compile(rb"/(?:[^\x00-\x20\x7f-\xff()<>\[\]{}/%#]|#[0-9A-Fa-f]{2})*")
"""A name with ``#`` escapes, every one of two hex digits (as pyHanko decodes them)."""


class _Lexer(fp._Lexer):
    """The fast path's strict lexer, reading names with ``#`` escapes as they are written
    (two documents whose names are written alike read alike). A dictionary *key* with
    ``#`` is refused by :func:`_plain_keys`: keys are compared with names the module
    knows."""

    def token(self) -> bytes:
        at = self.at
        try:
            return super().token()
        except fp._NotEligible as exc:
            if "#" not in str(exc):
                raise
        self.at = at
        self._skip()
        found = _ESCAPED_NAME.match(self.data, self.at, self.end)
        if found is None or b"#" not in found[0]:
            raise fp._NotEligible("an unusual name")
        nxt = self.data[found.end() : found.end() + 1]
        if nxt and nxt not in b"\x00\t\n\x0c\r ()<>[]{}/%":
            raise fp._NotEligible("an unusual name")
        self.at = found.end()
        return found[0]

    def _array(self, depth: int, start: int) -> tuple[Any, ...]:
        """As the fast path's lexer, but a long array of numbers (or of arrays of numbers:
        a font's glyph widths) read at once, as ``("A", its bytes)``."""
        found = _NUMBERS.match(self.data, start, self.end)
        if found is not None:
            self.at = found.end()
            return ("A", found[1])
        return super()._array(depth, start)


_NUMBER = rb"[\x00\t\n\x0c\r ]*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?=[\x00\t\n\x0c\r \[\]])"
_NUMBERS = re.compile(
    rb"[\x00\t\n\x0c\r ]*(\[(?:"
    + _NUMBER
    + rb"|[\x00\t\n\x0c\r ]*\[(?:"
    + _NUMBER
    + rb")*[\x00\t\n\x0c\r ]*\]){16,}[\x00\t\n\x0c\r ]*\])"
)
"""An array of at least 16 numbers or arrays of numbers (no reference: a reference is
two numbers and ``R``, which ends the match)."""


def _plain_keys(value: Value) -> Value:
    """``value``, if no dictionary key in it has a ``#`` escape."""
    todo = [value]
    while todo:
        item = todo.pop()
        if item[0] == "d":
            for k, v in item[1]:
                if b"#" in k:
                    raise fp._NotEligible("a key with #")
                todo.append(v)
        elif item[0] == "a":
            todo.extend(item[1])
    return value


class _File:
    """One PDF's revisions as pyHanko's reader decoded its cross-reference streams, and
    its objects as the strict lexer reads them. Without a reader, a file whose sections
    are all plain tables: those :func:`verify.fastpath._outline_from_bytes` read
    (``sections``), which are the ones pyHanko's reader reads (a differential property
    test holds the two readings together); pyHanko's reader is then made only to judge a
    new structure, and never for a document whose structure was judged."""

    def __init__(
        self, reader: Any, data: bytes, sections: tuple[fp._Section, ...] | None = None
    ) -> None:
        self.data = data
        self.declared: list[int] = []
        self.ends: list[int] = []
        self.xref_objects: list[int] = []
        """Each revision's cross-reference stream (-1 for a table)."""
        self.tables: list[tuple[tuple[bytes, Value], ...] | None] = []
        """Each revision's trailer, if its section is a table: its entries but ``/ID`` and
        ``/Prev`` (None for a stream)."""
        self.listed: list[dict[int, tuple[Any, ...]]] = []
        self._entries: list[dict[bytes, Value]] = []
        """Each table's trailer as read from the bytes."""
        if sections is None:
            total = self._sections_of(reader)
        else:
            total = len(sections)
            if not 0 < total <= _MAX_REVISIONS:
                raise fp._NotEligible("too many revisions")
            count = 0
            for r, section in enumerate(sections):
                if section.freed:
                    raise fp._NotEligible("freed objects")
                tail = self._table(r, section.declared, section.listed, {}, section.table)
                count = self._section(r, section.declared, section.end, tail, section.listed, count)
        self.total = total
        if self.ends[-1] != len(data):
            raise fp._NotEligible("bytes after the last revision")
        if any(
            number >= 0 and number not in listed
            for number, listed in zip(self.xref_objects, self.listed, strict=True)
        ):
            raise fp._NotEligible("a cross-reference stream its section does not list")
        self._containers: dict[int, tuple[bytes, dict[int, tuple[int, int]], list[int]]] = {}
        self._bounds: dict[int, list[int]] = {}
        self._current: dict[int, dict[int, int]] = {}
        self._refs: dict[tuple[int, int], frozenset[int]] = {}
        self._values: dict[tuple[int, int], tuple[Value, tuple[int, int] | None, int]] = {}
        if sections is None:
            self.trailers = [
                {
                    k: _from_pyhanko(reader.trailer.raw_get(k, revision=r))
                    for k in _trailer_keys(reader, r)
                }
                for r in range(total)
            ]
        else:
            self.trailers = [self._trailer(r) for r in range(total)]

    def _sections_of(self, reader: Any) -> int:
        """Read the sections as pyHanko's ``reader`` decoded them; their number."""
        from pyhanko.pdf_utils.xref import XRefSectionType

        xrefs = reader.xrefs
        if xrefs.hybrid_xrefs_present:
            raise fp._NotEligible("hybrid cross-reference sections")
        total = xrefs.total_revisions
        if not 0 < total <= _MAX_REVISIONS:
            raise fp._NotEligible("too many revisions")
        count = 0
        for r in range(total):
            meta = xrefs.get_xref_container_info(r)
            section = xrefs.get_xref_data(r)
            if section.freed or section.hybrid is not None:
                raise fp._NotEligible("freed objects")
            listed = dict(section.standard_xrefs)
            if meta.xref_section_type is XRefSectionType.STANDARD:
                tail = self._table(r, meta.declared_startxref, listed, section.xrefs_in_objstm)
            elif meta.xref_section_type is XRefSectionType.STREAM and meta.stream_ref is not None:
                # pyHanko's section ends after endstream
                closed = _ENDOBJ.match(self.data, meta.end_location)
                tail = _TAIL.match(self.data, closed.end()) if closed is not None else None
                self.xref_objects.append(meta.stream_ref.idnum)
                self.tables.append(None)
                self._entries.append({})
            else:
                raise fp._NotEligible("an unusual cross-reference section")
            count = self._section(
                r, meta.declared_startxref, meta.end_location, tail, listed, count
            )
            for number, where in section.xrefs_in_objstm.items():
                if number in self.listed[-1]:
                    raise fp._NotEligible("an object listed twice")
                self.listed[-1][number] = ("o", 0, where.obj_stream_id, where.ix_in_stream)
                count += 1
            if count > _MAX_OBJECTS:
                raise fp._NotEligible("too many objects")
        return int(total)

    def _section(
        self,
        r: int,
        declared: int,
        end: int,
        tail: re.Match[bytes] | None,
        standard: dict[int, tuple[int, int]],
        count: int,
    ) -> int:
        """Note revision ``r``'s section (at ``declared``, read up to ``end``, followed by
        ``tail``, its startxref) and the objects it lists at file offsets; the count of
        objects so far."""
        low = self.ends[-1] if self.ends else 0
        if tail is None or int(tail[1]) != declared:
            raise fp._NotEligible("no startxref where the section ends")
        if not low <= declared < end < tail.end():
            raise fp._NotEligible("revisions out of order")
        self.declared.append(declared)
        self.ends.append(tail.end())
        listed: dict[int, tuple[Any, ...]] = {}
        for number, (generation, offset) in standard.items():
            if not low <= offset <= declared:
                raise fp._NotEligible("an object outside its revision")
            listed[number] = ("d", generation, offset)
        count += len(listed)
        if count > _MAX_OBJECTS:
            raise fp._NotEligible("too many objects")
        self.listed.append(listed)
        return count

    def _trailer(self, r: int) -> dict[str, Value]:
        """Revision ``r``'s trailer entries that are part of the structure, each from the
        newest table up to ``r`` that has it, as pyHanko's reader inherits them (and in the
        form :func:`_from_pyhanko` gives)."""
        out: dict[str, Value] = {}
        for key in sorted(_XREF_KEYS - {b"/Type"}):
            for q in range(r, -1, -1):
                value = self._entries[q].get(key)
                if value is None:
                    continue
                if value[0] == "i" and value[1].isdigit():
                    value = ("i", b"%d" % int(value[1]))
                elif value[0] != "r":
                    raise fp._NotEligible("an unusual trailer entry")
                out[key.decode()] = value
                break
        return out

    def _table(
        self,
        r: int,
        declared: int,
        listed: dict[int, tuple[int, int]],
        in_streams: dict[int, Any],
        table: tuple[dict[int, tuple[int, int]], dict[bytes, Any], int, int] | None = None,
    ) -> re.Match[bytes] | None:
        """Revision ``r``'s cross-reference table, read as bytes: a plain table listing
        exactly the objects read from it (``listed``; ``in_streams``: those in object
        streams, none), and a trailer of the usual entries alone; the startxref after it
        (None: not there). ``table``: :func:`verify.fastpath._plain_table`'s reading of
        it, where it was read already."""
        if table is None:
            table = fp._plain_table(self.data, declared)
        if table is None or in_streams:
            raise fp._NotEligible("an unusual cross-reference table")
        found, entries, end, _opened = table
        if found != listed or not entries.keys() <= fp._TRAILER_KEYS:
            raise fp._NotEligible("a cross-reference table pyHanko may read otherwise")
        self.xref_objects.append(-1)
        self.tables.append(
            tuple(sorted((k, v) for k, v in entries.items() if k not in (b"/ID", b"/Prev")))
        )
        self._entries.append(entries)
        return _TAIL.match(self.data, end)

    def current(self, r: int) -> dict[int, int]:
        """Object number -> the revision whose version is in use at revision ``r`` (do not
        change it: it is kept for the next call)."""
        found = self._current.get(r)
        if found is None:
            found = dict(self.current(r - 1)) if r > 0 else {}
            found.update(dict.fromkeys(self.listed[r], r))
            self._current[r] = found
        return found

    def refs(self, r: int, number: int) -> frozenset[int]:
        """The objects the version of ``number`` listed in revision ``r`` refers to."""
        key = (r, number)
        found = self._refs.get(key)
        if found is None:
            out: set[int] = set()
            _refs_in(self.read(r, number)[0][1], out)
            found = self._refs[key] = frozenset(out)
        return found

    def revision_of(self, end: int) -> int:
        """The revision that ends exactly at ``end``."""
        r = bisect.bisect_left(self.ends, end)
        if r >= self.total or self.ends[r] != end:
            raise fp._NotEligible("a signature that does not end at its revision's %%EOF")
        return r

    def _bound(self, r: int, offset: int) -> int:
        """Where the next object of revision ``r`` after ``offset`` starts (or its
        cross-reference stream): an object read past it overlaps another."""
        bounds = self._bounds.get(r)
        if bounds is None:
            bounds = sorted(e[2] for e in self.listed[r].values() if e[0] == "d")
            self._bounds[r] = bounds
        i = bisect.bisect_right(bounds, offset)
        return bounds[i] if i < len(bounds) else self.declared[r]

    def read(self, r: int, number: int) -> tuple[Value, tuple[int, int] | None, int]:
        """The version of object ``number`` listed in revision ``r``: its value (``("obj",
        value)`` or ``("stream", dictionary)``), where its stream data lies (None for no
        stream, or one in an object stream), and where the object ends in the file (0
        for one in an object stream)."""
        key = (r, number)
        found = self._values.get(key)
        if found is None:
            entry = self.listed[r][number]
            if entry[0] == "d":
                found = self._remembered(r, number, entry[1], entry[2])
            else:
                found = (("obj", self._in_stream(r, number, entry[2], entry[3])), None, 0)
            self._values[key] = found
        return found

    def _remembered(
        self, r: int, number: int, generation: int, offset: int
    ) -> tuple[Value, tuple[int, int] | None, int]:
        """:meth:`_direct`, remembered across documents by the object's bytes (most
        objects a signer writes are the same in every document it signs); a stream by
        its dictionary's (:meth:`_stream`)."""
        bound = self._bound(r, offset)
        if bound > offset:
            keyword = self.data.find(b"stream", offset, bound)
            if keyword >= 0:
                return self._stream(r, number, generation, offset, keyword)
        if bound - offset > _MEMO_LARGEST or bound <= offset:
            return self._direct(number, generation, offset, self.ends[r])
        key = (number, generation, hashlib.blake2b(self.data[offset : bound + 16]).digest())
        with _MEMO_LOCK:
            known = _MEMO.get(key)
            if known is not None:
                _MEMO.move_to_end(key)
        if known is None:
            value, span, end = self._direct(number, generation, offset, self.ends[r])
            if end > bound:
                return value, span, end
            relative = None if span is None else (span[0] - offset, span[1] - offset)
            known = (value, relative, end - offset)
            with _MEMO_LOCK:
                _MEMO[key] = known
                while len(_MEMO) > _MEMO_SIZE:
                    _MEMO.popitem(last=False)
        value, relative, end = known
        span = None if relative is None else (relative[0] + offset, relative[1] + offset)
        return value, span, end + offset

    def _stream(
        self, r: int, number: int, generation: int, offset: int, keyword: int
    ) -> tuple[Value, tuple[int, int] | None, int]:
        """:meth:`_direct` of an object with ``stream`` at ``keyword``, remembered by its
        bytes up to the end of that keyword's line: where it is a stream whose data starts
        there, the lexer read nothing after (its dictionary ends with ``>>``, past which
        no token nor pyHanko's reference pattern reads), and its data's length is its
        ``/Length``. The end of its data (``endstream``) is read for each document."""
        data = self.data
        line = keyword + 6 + (2 if data[keyword + 6 : keyword + 8] == b"\r\n" else 1)
        key = (number, generation, hashlib.blake2b(data[offset:line]).digest())
        with _STREAMS_LOCK:
            known = _STREAMS.get(key)
        if known is None:
            found = self._direct(number, generation, offset, self.ends[r])
            span = found[1]
            if found[0][0] == "stream" and span is not None and span[0] == line:
                with _STREAMS_LOCK:
                    _STREAMS[key] = (found[0], span[1] - span[0])
                    while len(_STREAMS) > _MEMO_SIZE:
                        _STREAMS.popitem(last=False)
            return found
        value, length = known
        tail = _ENDSTREAM.match(data, line + length, self.ends[r])
        if tail is None:
            raise fp._NotEligible("a stream whose /Length does not end at endstream")
        return value, (line, line + length), tail.end()

    def _direct(
        self, number: int, generation: int, offset: int, limit: int
    ) -> tuple[Value, tuple[int, int] | None, int]:
        data = self.data
        head = _OBJ_HEAD.match(data, offset)
        if (
            head is None
            or head.start(1) != offset
            or (int(head[1]), int(head[2]))
            != (
                number,
                generation,
            )
        ):
            raise fp._NotEligible("an object not where its section says")
        lexer = _Lexer(data, head.end(), limit)
        value = _plain_keys(lexer.value())
        end = _ENDOBJ.match(data, lexer.at, limit)
        if end is not None:
            return ("obj", value), None, end.end()
        keyword = _STREAM_KEYWORD.match(data, lexer.at, limit)
        if keyword is None or value[0] != "d":
            raise fp._NotEligible("an object that is neither a value nor a stream")
        length = dict(value[1]).get(b"/Length")
        if length is None or length[0] != "i" or not length[1].isdigit():
            raise fp._NotEligible("a stream without a plain /Length")
        start = keyword.end()
        stop = start + int(length[1])
        tail = _ENDSTREAM.match(data, stop, limit)
        if tail is None:
            raise fp._NotEligible("a stream whose /Length does not end at endstream")
        return ("stream", value), (start, stop), tail.end()

    def _in_stream(self, r: int, number: int, container: int, index: int) -> Value:
        """An object inside object stream ``container``, read as pyHanko reads it (the
        container as the newest revision has it, the first header pair naming the
        object), or not taken."""
        found = self._containers.get(container)
        if found is None:
            versions = [q for q in range(self.total) if container in self.listed[q]]
            if versions != [r] or self.listed[r][container][:2] != ("d", 0):
                raise fp._NotEligible("an object stream not written once, with its objects")
            value, span, _end = self.read(r, container)
            if value[0] != "stream" or span is None:
                raise fp._NotEligible("an object stream that is not a stream")
            entries = dict(value[1][1])
            if entries.get(b"/Type") != ("n", b"/ObjStm") or b"/Extends" in entries:
                raise fp._NotEligible("an unusual object stream")
            count, first = entries.get(b"/N"), entries.get(b"/First")
            if not (count and first and count[0] == "i" == first[0]):
                raise fp._NotEligible("an object stream without plain /N and /First")
            raw = _inflate(self.data[span[0] : span[1]], entries)
            pairs: dict[int, tuple[int, int]] = {}
            at = 0
            for i in range(int(count[1])):
                pair = _PAIR.match(raw, at)
                if pair is None:
                    raise fp._NotEligible("an object stream header pyHanko may read otherwise")
                at = pair.end()
                if int(pair[1]) in pairs:
                    raise fp._NotEligible("an object twice in one object stream")
                pairs[int(pair[1])] = (i, int(first[1]) + int(pair[2]))
            found = (raw, pairs, sorted(place for _i, place in pairs.values()))
            self._containers[container] = found
        raw, pairs, starts = found
        place = pairs.get(number)
        if place is None or place[0] != index:
            raise fp._NotEligible("an object not where its object stream says")
        at = place[1]
        i = bisect.bisect_right(starts, at)
        bound = starts[i] if i < len(starts) else len(raw)
        key = (number, -1, hashlib.blake2b(raw[at : bound + 16]).digest())
        with _MEMO_LOCK:
            known = _MEMO.get(key)
        if known is not None:
            return known[0]
        lexer = _Lexer(raw, at, len(raw))
        value = _plain_keys(lexer.value())
        after = lexer.at
        while after < len(raw) and raw[after] in fp._WHITESPACE:
            after += 1
        if value[0] == "r" or raw.startswith(b"stream", after):
            raise fp._NotEligible("a reference or a stream inside an object stream")
        if after + 6 <= bound + 16:  # everything read lies in the key
            with _MEMO_LOCK:
                _MEMO[key] = (value, None, 0)
                while len(_MEMO) > _MEMO_SIZE:
                    _MEMO.popitem(last=False)
        return value


def _trailer_keys(reader: Any, r: int) -> list[str]:
    trailer = reader.trailer.flatten(r)
    keys = [str(k) for k in trailer]
    if any(k.encode() in _REFUSED_TRAILER for k in keys):
        raise fp._NotEligible("an encrypted file or a hybrid section")
    return sorted(k for k in keys if k.encode() in _XREF_KEYS - {b"/Type"})


def _from_pyhanko(value: Any) -> Value:
    """A trailer entry (a reference or a number) in the lexer's form."""
    from pyhanko.pdf_utils import generic

    if isinstance(value, generic.IndirectObject):
        return ("r", value.idnum, value.generation)
    if isinstance(value, int):
        return ("i", b"%d" % value)
    raise fp._NotEligible("an unusual trailer entry")


def _inflate(raw: bytes, entries: dict[bytes, Value]) -> bytes:
    """A stream's data decoded: no filter or Flate alone, at most :data:`_MAX_INFLATE`."""
    if entries.get(b"/Filter") not in _FILTERS or _UNPLAIN & entries.keys():
        raise fp._NotEligible("a stream filter the fast path does not read")
    if entries.get(b"/Filter") is None:
        return raw
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, _MAX_INFLATE)
    except zlib.error as exc:
        raise fp._NotEligible("a stream that does not inflate") from exc
    if inflater.unconsumed_tail or not inflater.eof:
        raise fp._NotEligible("a stream too big, or cut short")
    return out


_XMP: OrderedDict[tuple[bool, bytes], bool] = OrderedDict()
"""What :func:`_xmp_well_formed` found, by the stream's filter (Flate or none) and data."""
_XMP_LOCK = threading.Lock()


def _xmp_well_formed(raw: bytes, entries: dict[bytes, Value]) -> bool:
    """Whether pyHanko's difference analysis finds this XMP metadata stream well-formed:
    its own ``MetadataUpdateRule.is_well_formed_xml``, on the stream as written (no filter
    or Flate alone, decoded by pyHanko within its own limits); remembered by the stream's
    data (a signer writes the same metadata in document after document)."""
    if entries.get(b"/Filter") not in _FILTERS or _UNPLAIN & entries.keys():
        raise fp._NotEligible("a stream filter the fast path does not read")
    key = (entries.get(b"/Filter") is not None, hashlib.blake2b(raw).digest())
    with _XMP_LOCK:
        found = _XMP.get(key)
    if found is None:
        found = _xmp_read(raw, key[0])
        with _XMP_LOCK:
            _XMP[key] = found
            while len(_XMP) > _MEMO_SIZE:
                _XMP.popitem(last=False)
    return found


def _xmp_read(raw: bytes, flate: bool) -> bool:
    """:func:`_xmp_well_formed`, read."""
    from pyhanko.pdf_utils import generic
    from pyhanko.sign.diff_analysis import SuspiciousModification
    from pyhanko.sign.diff_analysis.rules.metadata_rules import MetadataUpdateRule

    found = {generic.NameObject("/Type"): generic.NameObject("/Metadata")}
    if flate:
        found[generic.NameObject("/Filter")] = generic.NameObject("/FlateDecode")
    stream = generic.StreamObject(found, encoded_data=raw)

    class _Held:
        def get_object(self) -> Any:
            return stream

    try:
        MetadataUpdateRule.is_well_formed_xml(_Held())  # type: ignore[arg-type]
    except SuspiciousModification:
        return False
    return True


_BY_IDENTITY: dict[tuple[str, int], tuple[Value, Any]] = {}
"""What :func:`_text_of` and :func:`_skeleton_of` made of a value, by the value's identity
(the value kept alive with it): an object read from the same bytes as before
(:data:`_MEMO`) is the same value."""


def _remembered_of(what: str, value: Value, make: Callable[[Value], Any]) -> Any:
    key = (what, id(value))
    found = _BY_IDENTITY.get(key)
    if found is not None and found[0] is value:
        return found[1]
    made = make(value)
    if len(_BY_IDENTITY) >= 2 * _MEMO_SIZE:
        _BY_IDENTITY.clear()
    _BY_IDENTITY[key] = (value, made)
    return made


def _text_of(value: Value) -> bytes:
    """``repr(value)``, encoded (remembered)."""
    return bytes(_remembered_of("text", value, lambda v: repr(v).encode()))


def _skeleton_of(value: Value) -> Value:
    """An object's kind and :func:`_skeleton` (``value``: as :meth:`_File.read` gives it;
    remembered)."""
    return tuple(_remembered_of("skeleton", value, lambda v: (v[0], _skeleton(v[1]))))


def _skeleton(value: Value, key: bytes | None = None) -> Value:
    """What pyHanko's map of paths to objects reads of a value: its references, the keys
    and array indices that lead to them, and a dictionary's ``/Type``; a part that holds
    no reference is only its kind."""
    kind = value[0]
    if kind == "r":
        return value
    if kind == "d":
        kept = tuple(
            (k, _skeleton(v, k))
            for k, v in value[1]
            if _has_refs(v) or (k == b"/Type" and v[0] == "n")
        )
        return ("d", kept)
    if kind in ("a", "A"):
        if not _has_refs(value):
            return ("a",)
        return ("a", tuple(_skeleton(v) for v in value[1]))
    if kind == "n" and key == b"/Type":
        return value
    return (kind,)


def _has_refs(value: Value) -> bool:
    kind = value[0]
    if kind == "r":
        return True
    if kind == "d":
        return any(_has_refs(v) for _k, v in value[1])
    if kind == "a":
        return any(_has_refs(v) for v in value[1])
    return False


def _refs_in(value: Value, out: set[int]) -> None:
    kind = value[0]
    if kind == "r":
        out.add(value[1])
    elif kind == "d":
        for _k, v in value[1]:
            _refs_in(v, out)
    elif kind == "a":
        for v in value[1]:
            _refs_in(v, out)


def _entry(value: Value, key: bytes) -> Value | None:
    """A dictionary's (or a stream dictionary's) entry."""
    inner = value[1] if value[0] in ("obj", "stream") else value
    if inner[0] != "d":
        return None
    return dict(inner[1]).get(key)


def _ref_number(value: Value | None) -> int | None:
    return value[1] if value is not None and value[0] == "r" else None


def _without(value: Value, keys: frozenset[bytes]) -> Value:
    """A dictionary value with the values of ``keys`` that hold no reference left out."""
    return ("d", tuple((k, ("x",) if k in keys and not _has_refs(v) else v) for k, v in value[1]))


class _Roles:
    """What some objects are, which decides what of them the structure holds."""

    def __init__(self, doc: _File, r1: int, sigs: list[Any]) -> None:
        self.doc = doc
        self.dated: list[tuple[bytes, datetime]] = []
        """Each time the OCSP answers and CRLs of the DSS held by what they say rather
        than their bytes (:func:`_answer_class`) speak of, labelled by their class and
        place (for the order of times, :func:`verify.fastpath._time_order`)."""
        self.certified: list[bytes] = []
        """The certificates the DSS and its classed answers carry (DER)."""
        self.objstms = {e[2] for listed in doc.listed for e in listed.values() if e[0] == "o"}
        self.xrefs = set(doc.xref_objects)
        self.sigs = {sig.ref[0] for sig in sigs}
        self.vri_names = {fp._vri_name(sig.der): k for k, sig in enumerate(sigs)}
        roots = [_ref_number(doc.trailers[r].get("/Root")) for r in range(doc.total)]
        self.roots = roots
        self.infos = {_ref_number(doc.trailers[r].get("/Info")) for r in range(doc.total)}
        self.infos.discard(None)
        self.metadata: set[int] = set()
        self.dss: set[int] = set()
        self._lists: dict[bytes, dict[int, bytes] | None] = {}
        for r in range(r1, doc.total):
            root = roots[r]
            current = doc.current(r)
            if root is None or root not in current:
                raise fp._NotEligible("no catalog")
            catalog = doc.read(current[root], root)[0]
            for key, found in ((b"/Metadata", self.metadata), (b"/DSS", self.dss)):
                value = _entry(catalog, key)
                if value is not None:
                    if value[0] != "r":
                        raise fp._NotEligible("direct metadata or validation data")
                    found.add(value[1])
        special = [self.objstms, self.xrefs, self.sigs, self.metadata, self.dss]
        if any(self.infos & other for other in special) or self.metadata & self.dss:
            raise fp._NotEligible("an object with two roles")
        self.unordered = self._unordered(r1)
        self.fills = self._fills(r1)
        self.drawings = self._drawings(r1, sigs)
        self.whole: set[int] = set()
        """Objects of the document before its first signature held whole."""
        self.xmp: list[tuple[int, int, bool]] = []
        """(revision, number, well-formed) of each XMP metadata version read."""

    def _listed(self, r1: int, key: bytes) -> dict[int, bytes] | None:
        """The streams the DSS lists under ``key`` (every version from the first signed
        revision on): number -> their data; None if any is not a plain stream written
        once and still in use."""
        if key not in self._lists:
            self._lists[key] = self._list(r1, key)
        return self._lists[key]

    def _list(self, r1: int, key: bytes) -> dict[int, bytes] | None:
        """:meth:`_listed`, read."""
        doc = self.doc
        numbers: set[int] = set()
        for r in range(r1, doc.total):
            current = doc.current(r)
            for number in self.dss:
                if number in current:
                    listed = _entry(doc.read(current[number], number)[0], key)
                    if listed is not None:
                        if listed[0] != "a" or any(item[0] != "r" for item in listed[1]):
                            return None
                        numbers.update(item[1] for item in listed[1])
        found: dict[int, bytes] = {}
        final = doc.current(doc.total - 1)
        for number in sorted(numbers):
            written = [q for q in range(doc.total) if number in doc.listed[q]]
            if len(written) != 1 or number not in final:
                return None
            value, span, _end = doc.read(written[0], number)
            if value[0] != "stream" or span is None or b"/Filter" in dict(value[1][1]):
                return None
            found[number] = doc.data[span[0] : span[1]]
        return found

    def _unordered(self, r1: int) -> dict[int, bytes]:
        """The OCSP responses, certificates and CRLs of the DSS whose order changes nothing:
        number -> digest of the stream. A signer lists them in the order its concurrent
        fetches happened to end (and the OCSP responders' certificates in the order of
        their answers), so the structure holds them as sets, when:

        - no two OCSP responses answer for the same certificate (each certificate has
          one answer, whichever comes first; two answers about one certificate keep
          their order, since which is read first may matter);
        - no two certificates have the same subject but differ (a path is built through
          the one certificate of each name, whichever comes first);
        - no two CRLs have the same issuer but differ (each certificate's issuer has one
          list, whichever comes first; a full list and its delta, or lists partitioned by
          distribution point, keep their order).

        Each kind is judged on its own: an empty part keeps that kind in its places."""
        from asn1crypto import ocsp

        found: dict[int, bytes] = {}
        answers = self._listed(r1, b"/OCSPs") or {}
        crls = self._listed(r1, b"/CRLs") or {}
        signers = self._signers(r1) if answers or crls else []
        signed_by = signers_key(signers)

        def classes(kind: Any, listed: dict[int, bytes]) -> dict[int, _Class | None]:
            """Each answer's class (read once), None where it has none."""
            out: dict[int, _Class | None] = {}
            for n, raw in listed.items():
                try:
                    out[n] = classed(kind, raw, signers, signed_by)
                except _Unclassed:
                    out[n] = None
            return out

        if answers:
            answer_classes = classes(_ocsp_class, answers)
            ids: list[tuple[str, bytes, int]] = []  # (hash algorithm, issuer hashes, serial)
            try:
                for n, raw in answers.items():
                    known = answer_classes[n]
                    if known is None:
                        response = ocsp.OCSPResponse.load(raw, strict=True)
                        ids.extend(_ocsp_ids(response["response_bytes"]["response"].parsed))
                    else:
                        ids.extend(known.names)
            except Exception:  # noqa: BLE001 - not plainly one answer per certificate
                ids = []
            # one certificate: the same issuer hashes and serial under one hash algorithm;
            # under several, the same serial (which certificates of two CAs may share:
            # then the order is kept, as it must be for two answers about one certificate)
            mixed = len({algorithm for algorithm, _issuer, _serial in ids}) > 1
            certificates = {(b"" if mixed else issuer, serial) for _a, issuer, serial in ids}
            if ids and len(certificates) == len(ids):
                found.update((n, self._held(raw, answer_classes[n])) for n, raw in answers.items())
        crl_classes = classes(_crl_class, crls)

        def issuer(n: int, raw: bytes) -> bytes:
            known = crl_classes[n]
            return _crl_issuer(raw) if known is None else bytes(known.names[0])

        certificates_listed = self._listed(r1, b"/Certs") or {}
        for listed, name in (
            (certificates_listed, lambda _n, raw: _names(raw)[0]),
            (crls, issuer),
        ):
            if listed:
                names: dict[bytes, bytes] = {}
                try:
                    for n, raw in listed.items():
                        if names.setdefault(name(n, raw), raw) != raw:
                            names.clear()
                            break
                except Exception:  # noqa: BLE001 - not plainly one of each name
                    names.clear()
                if names and listed is crls:
                    found.update((n, self._held(raw, crl_classes[n])) for n, raw in crls.items())
                elif names:
                    found.update((n, hashlib.sha256(raw).digest()) for n, raw in listed.items())
        return found

    def _signers(self, r1: int) -> list[bytes]:
        """The certificates the DSS lists (DER): who may have signed its OCSP answers and
        CRLs (an answer also carries its responder's own)."""
        found = list((self._listed(r1, b"/Certs") or {}).values())
        self.certified.extend(found)
        return found

    def _held(self, raw: bytes, known: _Class | None) -> bytes:
        """What the structure holds of one OCSP answer or CRL of the DSS: its class
        (:func:`_answer_class`), its times noted in :attr:`dated`; or the digest of its
        bytes, where it has none."""
        if known is None:
            return hashlib.sha256(raw).digest()
        self.dated.extend((known.digest + b"%d" % k, t) for k, t in enumerate(known.times))
        self.certified.extend(known.carried)
        return known.digest

    def _fills(self, r1: int) -> set[tuple[int, int]]:
        """(revision, number) of each version of a field, written after revision ``r1``,
        that fills it in: the field (merged with its one widget) as it was but for its
        value (a text field's or a choice's text, a check box's state name), a check box's
        appearance state and its appearance (``/V``, ``/AS`` and ``/AP``); or a field
        whose widgets are its kids (a radio group, a text field shown through a kid) as it
        was but for its value, and such a kid as it was but for its appearance state (a
        radio button's) and its appearance (:func:`_fills_in`; the kids' updates are
        judged by :class:`verify.diffrules.WidgetKidsRule` in full validation).

        pyHanko's difference analysis (``GenericFieldModificationRule``) reads of such an
        update the field's name, type, locks and other keys (all part of the structure),
        whether the value changed and the objects a new value or appearance reaches (a
        string or a name reaches none; a new appearance is a drawing, :meth:`_drawings`),
        never the text or the state. The report names each filled field's old and new
        value (made for each document), and the rendered comparison allows what the new
        appearance draws inside its widget where the signed page is blank (checked for
        each document, as for the stamps: :func:`structure`)."""
        doc = self.doc
        found: set[tuple[int, int]] = set()
        for r in range(r1 + 1, doc.total):
            before = doc.current(r - 1)
            for number in doc.listed[r]:
                if number in before and _fills_in(
                    doc.read(before[number], number)[0], doc.read(r, number)[0]
                ):
                    found.add((r, number))
        return found

    def _drawings(self, r1: int, sigs: list[Any]) -> set[int]:
        """The objects that draw the signatures' widgets (their ``/AP`` and every object
        those reach) written from the first signed revision on, when nothing else refers
        to any of them (else none): the stamps, with the signer's name and time and a font
        subset of their own.

        pyHanko's difference analysis allows everything a new signature field's
        appearance reaches without reading it (``SigFieldCreationRule``), the rendered
        comparison lets a new signature draw inside its widget (which clips the drawing)
        where the signed page is blank (checked for each document), and a signature
        already there when a revision was signed draws the same before and after. So the
        structure holds these objects' skeletons, not their values or their data; what
        they decode to is bounded for each document as the comparison bounds it
        (:func:`_drawn_size`)."""
        doc = self.doc
        final = doc.current(doc.total - 1)
        later = {n for n, q in final.items() if q >= r1}
        widgets = {
            n
            for n in later
            if n not in self.sigs and (self._signs(final[n], n) or (final[n], n) in self.fills)
        }
        found: set[int] = set()
        todo: list[int] = []
        for n in widgets:
            ap = _entry(doc.read(final[n], n)[0], b"/AP")
            if ap is not None:
                refs: set[int] = set()
                _refs_in(ap, refs)
                todo.extend(refs)
        while todo:
            n = todo.pop()
            if n in found or n not in later or n in self.sigs:
                continue
            found.add(n)
            refs = set()
            _refs_in(doc.read(final[n], n)[0][1], refs)
            todo.extend(refs)
        if not found:
            return found
        # nothing but a widget's /AP, or another drawing, may refer to a drawing (in any
        # version of any object); else none is left out
        for r in range(doc.total):
            for n in doc.listed[r]:
                if n in found:
                    continue
                if n in widgets and r == final[n]:
                    refs = set()
                    entries = doc.read(r, n)[0][1]
                    for key, value in entries[1] if entries[0] == "d" else ():
                        if key != b"/AP":
                            _refs_in(value, refs)
                    if refs & found:
                        return set()
                elif doc.refs(r, n) & found:
                    return set()
        return found

    def _signs(self, r: int, number: int) -> bool:
        """A signature field (merged with its widget) whose value is one of the signatures."""
        value = self.doc.read(r, number)[0]
        if value[0] != "obj" or value[1][0] != "d":
            return False
        entries = dict(value[1][1])
        signature = entries.get(b"/V")
        return (
            entries.get(b"/FT") == ("n", b"/Sig")
            and signature is not None
            and signature[0] == "r"
            and signature[1] in self.sigs
        )

    def normalised(self, r: int, number: int, value: Value, span: tuple[int, int] | None) -> Value:
        """What the structure holds of the version of ``number`` listed in revision ``r``."""
        doc = self.doc
        if number in self.objstms:
            return ("objstm",)
        if number in self.xrefs and doc.xref_objects[r] == number:
            return ("xref", tuple((k, v) for k, v in value[1][1] if k in _XREF_KEYS))
        if number in self.unordered:
            return ("in a set",)  # held as a set by the DSS (see _unordered)
        if number in self.drawings:
            inner = value[1]
            kind = inner[0]
            subtype = dict(inner[1]).get(b"/Subtype") if kind == "d" else None
            return ("drawing", value[0], _skeleton(inner), subtype)
        if value[0] == "stream":
            assert span is not None
            entries = value[1]
            raw = doc.data[span[0] : span[1]]
            if number in self.metadata:
                good = _xmp_well_formed(raw, dict(entries[1]))
                self.xmp.append((r, number, good))
                return ("xmp", _without(entries, frozenset({b"/Length"})))
            digest = hashlib.sha256(raw).digest()
            return ("stream", _without(entries, frozenset({b"/Length"})), digest)
        inner = value[1]
        if (r, number) in self.fills:  # the value's text is read for each document
            held = tuple((k, (_kind(v),) if k in (b"/V", b"/AS") else v) for k, v in inner[1])
            return ("fill", held)
        if number in self.sigs:
            if inner[0] != "d":
                raise fp._NotEligible("a signature value that is not a dictionary")
            return ("sig", _without(inner, _PER_SIGNATURE))
        if number in self.infos:
            if inner[0] != "d" or any(v[0] in ("r", "d", "a") for _k, v in inner[1]):
                raise fp._NotEligible("unusual document information")
            return ("info", tuple((k, v[0]) for k, v in inner[1]))
        if number in self.dss:
            if inner[0] != "d":
                raise fp._NotEligible("validation data that is not a dictionary")
            entries = []
            for k, v in inner[1]:
                if k == b"/VRI":
                    if v[0] != "d":
                        raise fp._NotEligible("an indirect /VRI")
                    v = ("d", tuple((self._vri(name), item) for name, item in v[1]))
                elif k in (b"/OCSPs", b"/Certs", b"/CRLs") and _in_sets(v, self.unordered):
                    digests = sorted(self.unordered[item[1]] for item in v[1])
                    v = ("set", v, tuple(digests))
                entries.append((k, v))
            return ("dss", tuple(entries))
        return value

    def _vri(self, name: bytes) -> bytes:
        k = self.vri_names.get(name)
        return name if k is None else b"#signature %d" % k


_FILL_KEYS = frozenset({b"/V", b"/AS", b"/AP"})
_CHOSEN = fp._STRINGS | {"texts"}
"""A choice's value: a text, or (a list box of several choices) an array of texts."""


def _kind(value: Value) -> str:
    """A value's kind, as the structure holds a filled value: an array of texts only as
    ``"texts"`` (how many, and which, is this document's own)."""
    if value[0] == "a" and all(v[0] in fp._STRINGS for v in value[1]):
        return "texts"
    return str(value[0])


_STATE = frozenset({"n"})
_FILLABLE = {b"/Tx": fp._STRINGS, b"/Ch": _CHOSEN, b"/Btn": _STATE}
"""The kinds of field a fill may change, and the kinds of value each then takes: a text
field a string, a choice a string or (a list box of several choices) an array of them, a
check box or radio group a name (its state)."""


def _fills_in(old: Value, new: Value) -> bool:
    """``new`` is ``old`` filled in. Either a field merged with its widget, of which only
    the value (of the kind :data:`_FILLABLE` says, or none before), a check box's
    appearance state (a name) and the appearance (a new one a dictionary of references)
    differ; or a field whose widgets are its kids, of which only the value differs; or
    such a kid, of which only the appearance state (a radio button's, a name) and the
    appearance differ."""
    if not (old[0] == new[0] == "obj" and old[1][0] == new[1][0] == "d"):
        return False
    before, after = dict(old[1][1]), dict(new[1][1])
    if before.keys() - _FILL_KEYS != after.keys() - _FILL_KEYS:
        return False
    if any(not fp._same_value(before[k], after[k]) for k in before.keys() - _FILL_KEYS):
        return False
    kind = after.get(b"/FT")
    widget = before.get(b"/Subtype") == ("n", b"/Widget")
    if kind is None:
        # a field's widget, not a field itself: its field (its /Parent) holds the value
        if not widget or b"/Parent" not in after or b"/T" in after or b"/V" in after:
            return False
        kinds: frozenset[str] | None = _STATE
    else:
        kinds = _FILLABLE.get(kind[1]) if kind[0] == "n" else None
        if kinds is None or before.get(b"/FT") != kind:
            return False
        if b"/Kids" in after:
            # the field of its widgets: its value alone
            if widget or any(k in before or k in after for k in (b"/AS", b"/AP")):
                return False
            value, was = after.get(b"/V"), before.get(b"/V")
            return bool(
                value is not None
                and _kind(value) in kinds
                and (was is None or _kind(was) in kinds)
                and value != was
            )
        if not widget:
            return False
        value, was = after.get(b"/V"), before.get(b"/V")
        if (
            value is None
            or _kind(value) not in kinds
            or (was is not None and _kind(was) not in kinds)
        ):
            return False
    state, had = after.get(b"/AS"), before.get(b"/AS")
    if (state is not None or had is not None) and (
        kinds is not _STATE
        or state is None
        or state[0] != "n"
        or (had is not None and had[0] != "n")
    ):
        return False
    ap, had_ap = after.get(b"/AP"), before.get(b"/AP")
    if ap is None:
        return False
    redrawn = not fp._same_value(ap, had_ap)
    if redrawn and (ap[0] != "d" or any(v[0] != "r" for _k, v in ap[1])):
        return False
    if kind is None:
        return bool(state != had or redrawn)
    return bool(after.get(b"/V") != before.get(b"/V") or state != had or redrawn)


def _read_whole(doc: _File, revisions: list[int], roots: list[int | None]) -> set[int]:
    """The objects whose values pyHanko's difference analysis or the verifier read, in
    the first signed revision and after: the catalog, the page tree and its pages, their
    annotations and the annotations' appearances, the AcroForm and its field tree with the
    fields' appearances."""
    found: set[int] = set()
    for r in range(revisions[0], doc.total):
        current = doc.current(r)

        def value(ref: Value | None, current: dict[int, int] = current) -> Value | None:
            """A value, its reference followed (and the object noted)."""
            if ref is None:
                return None
            if ref[0] != "r":
                return ref
            number = ref[1]
            if number not in current:
                return None
            found.add(number)
            read: Value = doc.read(current[number], number)[0][1]
            return read

        root = roots[r]
        catalog = value(("r", root, 0)) if root is not None else None
        if catalog is None or catalog[0] != "d":
            raise fp._NotEligible("no catalog")
        entries = dict(catalog[1])

        def appearances(annotation: Value) -> None:
            ap = value(dict(annotation[1]).get(b"/AP")) if annotation[0] == "d" else None
            if ap is not None and ap[0] == "d":
                for _k, state in ap[1]:
                    state = value(state)
                    if state is not None and state[0] == "d":
                        for _s, drawing in state[1]:
                            value(drawing)

        # the field tree
        form = value(entries.get(b"/AcroForm"))
        todo: list[tuple[Value | None, int]] = []
        if form is not None and form[0] == "d":
            todo.append((dict(form[1]).get(b"/Fields"), 0))
        while todo:
            item, depth = todo.pop()
            if depth > 32 or len(found) > _MAX_OBJECTS:
                raise fp._NotEligible("a field tree too deep")
            item = value(item)
            if item is None:
                continue
            if item[0] == "a":
                todo.extend((child, depth + 1) for child in item[1])
            elif item[0] == "d":
                appearances(item)
                todo.append((dict(item[1]).get(b"/Kids"), depth + 1))
        # the page tree, its pages and their annotations
        todo = [(entries.get(b"/Pages"), 0)]
        while todo:
            item, depth = todo.pop()
            if depth > 32 or len(found) > _MAX_OBJECTS:
                raise fp._NotEligible("a page tree too deep")
            node = value(item)
            if node is None or node[0] != "d":
                continue
            node_entries = dict(node[1])
            kids = value(node_entries.get(b"/Kids"))
            if kids is not None and kids[0] == "a":
                todo.extend((kid, depth + 1) for kid in kids[1])
            annots = value(node_entries.get(b"/Annots"))
            if annots is not None and annots[0] == "a":
                for annotation in annots[1]:
                    annotation = value(annotation)
                    if annotation is not None:
                        appearances(annotation)
    return found


def structure(
    verifier: Any,
    read: Callable[[], Any],
    data: bytes,
    sigs: list[Any],
    sections: tuple[fp._Section, ...] | None = None,
) -> tuple[tuple[Any, ...], tuple[str | None, ...], fp.Dated | None]:
    """The structure of a PDF with later revisions (see the module's docstring), or
    :class:`verify.fastpath._NotEligible`. ``read()``: pyHanko's reader of the file (made
    when first asked for); ``sections``: its cross-reference sections as
    :func:`verify.fastpath._outline_from_bytes` read them, if it did (pyHanko's reader is
    then asked for only to judge a new structure, or to list filled fields). ``sigs``: its
    signatures as :func:`verify.fastpath._sig_dict` reads them, oldest first. With it,
    when later revisions fill form fields, the warning naming them (with this document's
    values) for each signature (:attr:`verify.fastpath._Parsed.filled`); and the times
    the DSS's OCSP answers and CRLs held by their class speak of, labelled (see
    :attr:`_Roles.dated`), for :func:`verify.fastpath._time_order`."""
    doc = _File(read() if sections is None else None, data, sections)
    revisions = [doc.revision_of(sig.end) for sig in sigs]
    if any(later <= earlier for earlier, later in itertools.pairwise(revisions)):
        raise fp._NotEligible("two signatures in one revision")
    r1 = revisions[0]
    if r1 >= doc.total - 1:
        raise fp._NotEligible("nothing after the first signature")
    for sig, r in zip(sigs, revisions, strict=True):
        if doc.listed[r].get(sig.ref[0], ("?", -1))[:2] != ("d", sig.ref[1]):
            raise fp._NotEligible("a signature dictionary not in the revision it signs")
        if any(sig.ref[0] in doc.listed[q] for q in range(r + 1, doc.total)):
            raise fp._NotEligible("a signature dictionary redefined after it was signed")
    # the kind of structure: its revisions and the objects each lists
    kind = hashlib.sha256(
        repr(
            (revisions, [sorted((n, e[0]) for n, e in listed.items()) for listed in doc.listed])
        ).encode()
    ).digest()
    store = fp._store(verifier)
    with store.lock:
        tally = store.kinds.get(kind)
    if tally is not None and tally == (0, _REFUSALS):
        raise fp._NotEligible("a kind of structure the fast path did not take, again and again")
    roles = _Roles(doc, r1, sigs)
    hasher = hashlib.sha256()

    def put(*parts: Any) -> None:
        hasher.update(repr(parts).encode())
        hasher.update(b"\x00")

    def put_value(label: Any, number: int, value: Value) -> None:
        """``put(label, number, value)``, in another form: ``value``'s text is remembered
        by the value (an object read from the same bytes as before is the same value)."""
        hasher.update(b"".join((repr((label, number)).encode(), b"|", _text_of(value), b"\x00")))

    put("objects", doc.total, tuple(revisions), doc.trailers, doc.xref_objects)
    for r in range(doc.total):
        listed = doc.listed[r]
        put(
            r,
            sorted((n, *e[:2], e[2] if e[0] == "o" else -1) for n, e in listed.items()),
        )
    # the objects written from the first signed revision on
    for r in range(r1, doc.total):
        spans: list[tuple[int, int]] = []
        for number in sorted(doc.listed[r]):
            entry = doc.listed[r][number]
            value, span, end = doc.read(r, number)
            if entry[0] == "d":
                spans.append((entry[2], end))
            put_value(r, number, roles.normalised(r, number, value, span))
        # the bytes between them, startxref's offset left out (and a table's offsets:
        # what it lists is part of the structure, and its trailer without /ID and /Prev)
        at = doc.ends[r - 1] if r else 0
        gaps = []
        for start, stop in sorted(spans):
            if start < at:
                raise fp._NotEligible("overlapping objects")
            gaps.append(data[at:start])
            at = stop
        if doc.tables[r] is None:
            gaps.append(_STARTXREF_NUMBER.sub(rb"\1", data[at : doc.ends[r]]))
        else:
            if at > doc.declared[r]:
                raise fp._NotEligible("overlapping objects")
            gaps.append(data[at : doc.declared[r]])
        put(r, gaps, doc.tables[r])
    # the document before its first signature, still in use there
    base = {n: q for n, q in doc.current(r1).items() if q < r1}
    whole = _read_whole(doc, revisions, roles.roots) if base else set()
    roles.whole = whole
    for number in sorted(base):
        q = base[number]
        value, span, _end = doc.read(q, number)
        if number in whole or number in roles.metadata or number in roles.dss:
            put_value("base", number, roles.normalised(q, number, value, span))
        else:
            put_value("skeleton", number, _skeleton_of(value))
    put("xmp", roles.xmp)
    changes = _field_changes(read(), revisions, doc.total) if roles.fills else None
    if changes is not None:
        # which fields each signature's report names as filled after it (their values are
        # this document's own: :func:`verify.fastpath._filled_warnings`)
        put("filled", [[(c.name, c.is_signature) for c in found] for found in changes])
    key = ("objects", hasher.hexdigest())
    with store.lock:
        judged = key in store.structures
        known = store.structures.get(key)
    if not judged:
        try:
            known = _judge(read(), doc, roles, revisions)
        except Exception:  # noqa: BLE001 - anything unusual: not taken
            known = None
        with store.lock:
            store.structures[key] = known
            while len(store.structures) > fp.MAX_TEMPLATES:
                store.structures.popitem(last=False)
            taken, refused = store.kinds.pop(kind, (0, 0))
            if known is None:
                refused = min(refused + 1, _REFUSALS)
            store.kinds[kind] = (taken + (known is not None), refused)
            while len(store.kinds) > fp.MAX_TEMPLATES:
                store.kinds.popitem(last=False)
    if known is None:
        raise fp._NotEligible("a structure the fast path does not take")
    if roles.drawings and _drawn_size(doc, r1) > MAX_DECODED:
        raise fp._NotEligible("later streams too big to draw")
    notes: tuple[str | None, ...] = ()
    if changes is not None:
        for r, found in zip(revisions, changes, strict=True):
            # the comparison after this signature allows a filled field's new drawing
            # only if its value changed (then the field is among the changes)
            allowed = {box for change in found for box in change.widgets}
            if any(q > r and box not in allowed for q, box in known.fills):
                raise fp._NotEligible("a field drawn anew with its value unchanged")
        notes = tuple(filled_note(found) for found in changes)
    if known.stamps and not fp._blank_under(data[: sigs[0].end], known.stamps):
        raise fp._Declined("a later signature's stamp or filled field over page content")
    dated = None
    if roles.dated:
        dated = fp.Dated(tuple(sorted(roles.dated)), tuple(sorted(set(roles.certified))))
    return key, notes, dated


def _field_changes(reader: Any, revisions: list[int], total: int) -> list[list[Any]]:
    """For each signature, the fields whose value changed after it (as full validation
    lists them, :func:`verify.visual.field_changes`)."""
    from verify.visual import field_changes

    try:
        return [field_changes(reader, r) if r < total - 1 else [] for r in revisions]
    except Exception as exc:
        raise fp._NotEligible("the changed fields cannot be listed") from exc


def _drawn_size(doc: _File, r1: int) -> int:
    """What the streams written after revision ``r1`` decode to, counted as the rendered
    comparison counts it before drawing anything (:func:`verify.visual.oversized_update`:
    Flate alone inflated, with a cap; any other stream by its length; a stream that does
    not inflate not counted); past :data:`verify.visual.MAX_DECODED` the comparison
    refuses, and so the fast path declines."""
    total = 0
    for r in range(r1 + 1, doc.total):
        for number in doc.listed[r]:
            value, span, _end = doc.read(r, number)
            if value[0] != "stream" or span is None:
                continue
            filters = dict(value[1][1]).get(b"/Filter")
            if filters is not None and filters[0] == "r":
                raise fp._NotEligible("an indirect /Filter")
            names = list(filters[1]) if filters is not None and filters[0] == "a" else [filters]
            flate = names == [("n", b"/FlateDecode")]
            total += counted_size(doc.data[span[0] : span[1]], flate, total)
            if total > MAX_DECODED:
                return total
    return total


def _judge(reader: Any, doc: _File, roles: _Roles, revisions: list[int]) -> Any:
    """Whether the fast path takes documents of this structure (once per structure; every
    part of the document it looks at is part of the structure, so the answer holds for
    all of them): the :class:`verify.fastpath._Judged` with the later signatures' stamps,
    or None.

    - pyHanko's reader reads every object of the structure as the lexer did (its kind,
      its keys, its stream data);
    - every revision after the first signed one redefines only what no page drawing
      reads (the document information, the XMP metadata, the DSS, keys of
      :data:`verify.fastpath._ALLOWED_CHANGES`) but for ``/Annots`` and ``/Fields``
      arrays that only gain new signature widgets, of zero area or drawn inside their
      widget (stamps), and form fields filled in (:meth:`_Roles._fills`: their pages are
      compared for each document);
    - no object in use in a signed revision refers to an object first written after it
      (it would read as null when signed, and as something else after);
    - what a later revision may redefine freely (the DSS, the XMP metadata) is reached
      from the catalog alone, the document information from the trailers alone, and the
      DSS streams held as sets from the DSS and its VRI entries alone: no page draws
      them, and no one reads them where their order matters;
    - the validation data is all written after the first signed revision.
    """
    from pyhanko.pdf_utils import generic

    r1 = revisions[0]
    held = [(r, n) for r in range(r1, doc.total) for n in doc.listed[r]]
    base = doc.current(r1)
    held.extend((base[n], n) for n in roles.whole if base.get(n, r1) < r1)
    if any(_holds_key(doc.read(r, n)[0][1], b"/SV") for r, n in held):
        return None  # a seed value dictionary weighs what the structure leaves out
    for r in range(r1, doc.total):
        for number, entry in doc.listed[r].items():
            value, span, _end = doc.read(r, number)
            obj = reader.get_object(generic.Reference(number, entry[1], reader), revision=r)
            if not _same_kind(obj, value):
                return None
            if span is not None and obj.encoded_data != doc.data[span[0] : span[1]]:
                return None
    for r in range(r1 + 1, doc.total):
        before = doc.current(r - 1)
        new_here = {(n, e[1]) for n, e in doc.listed[r].items() if n not in before}
        claimed: dict[tuple[int, int], int] = {}
        for number in doc.listed[r]:
            if number not in before:
                continue
            if number in roles.infos or number in roles.dss or (r, number) in roles.fills:
                continue
            old = doc.read(before[number], number)[0]
            new = doc.read(r, number)[0]
            if number in roles.metadata and fp._xmp(old) and fp._xmp(new):
                continue
            grown = fp._appended(old, new, new_here)
            if grown is None:
                return None
            for ref in grown:
                if ref not in new_here:
                    return None
                widget = doc.read(r, ref[0])[0]
                if fp._empty_signature_widget(widget):
                    continue
                drawing = fp._stamp_widget(widget)
                if drawing is None or drawing not in new_here:
                    return None
                if claimed.setdefault(drawing, ref[0]) != ref[0]:
                    return None
    for rk in revisions:
        current = doc.current(rk)
        later = {n for q in range(rk + 1, doc.total) for n in doc.listed[q]} - current.keys()
        refs: set[int] = set()
        for number, q in current.items():
            _refs_in(doc.read(q, number)[0][1], refs)
        if refs & later:
            return None
    # what a later revision may redefine freely is reached from nowhere but the catalog
    # (and the document information from nowhere but the trailer): no page draws it
    free = roles.dss | roles.metadata | roles.infos
    # and what the structure holds as sets, from nowhere but the DSS and its VRI entries
    vri: set[int] = set()
    for r in range(r1, doc.total):
        for number in roles.dss & doc.listed[r].keys():
            entries = doc.read(r, number)[0][1]
            listed = dict(entries[1]).get(b"/VRI") if entries[0] == "d" else None
            if listed is not None:
                _refs_in(listed, vri)
    in_sets = set(roles.unordered)
    catalogs = {roles.roots[r] for r in range(r1, doc.total)}
    in_use = {(q, n) for n, q in doc.current(r1).items()}
    in_use.update((r, n) for r in range(r1, doc.total) for n in doc.listed[r])
    for r in range(doc.total):
        for number in doc.listed[r]:
            if number in roles.xrefs:
                continue  # a trailer
            reached = doc.refs(r, number)
            free_refs = reached & free if (r, number) in in_use else frozenset()
            if free_refs and (number not in catalogs or free_refs & roles.infos):
                return None
            if reached & in_sets and number not in roles.dss | vri:
                return None
    if not fp._validation_data_after(reader, r1):
        return None
    from verify.visual import widget_boxes

    fills = tuple((r, box) for r, n in sorted(roles.fills) for box in widget_boxes(reader, {n}))
    drawn = tuple(box for _r, box in fills if box[1][0] < box[1][2] and box[1][1] < box[1][3])
    return fp._Judged((), fp._stamps(reader, r1) + drawn, fills)


_KEYS: dict[bytes, Any] = {}
"""Public keys of the certificates that signed OCSP answers and CRLs, by DER."""


_NAMES: OrderedDict[bytes, tuple[bytes, bytes]] = OrderedDict()
_NAMES_LOCK = threading.Lock()


def _names(der: bytes) -> tuple[bytes, bytes]:
    """A certificate's subject (its encoding) and the SHA-1 of its public key (an OCSP
    responder's ``byKey`` id), remembered by DER (one that does not read strictly
    raises). An issuer named in another encoding of
    the same name is not found: its answer is then held by its bytes."""
    with _NAMES_LOCK:
        found = _NAMES.get(der)
    if found is None:
        from asn1crypto import x509

        cert = x509.Certificate.load(der, strict=True)
        found = (bytes(cert.subject.dump()), bytes(cert.public_key.sha1))
        with _NAMES_LOCK:
            _NAMES[der] = found
            while len(_NAMES) > fp.MAX_TEMPLATES:
                _NAMES.popitem(last=False)
    return found


class _Layout(NamedTuple):
    """How the answers of one class are written, read from the first of them that
    :func:`_answer_class` classed: every byte in its place but the values two answers of
    the class may differ in (``cuts``: each time's digits, an OCSP nonce's octets, the
    signature's octets). An answer of the same length whose other bytes are these
    (``written``, at ``fixed``) says the same as the first but for those values, which
    are well-formed whatever their octets (the times are read and checked here): it is
    of the class once a listed key verifies it (:func:`_from_layout`), read without
    parsing it anew."""

    fixed: tuple[tuple[int, int], ...]
    written: bytes
    cuts: tuple[tuple[int, int, int], ...]
    """(start, end, kind) of each value left out, in order: a time's digits (its tag,
    UTCTime or GeneralizedTime), an OCTET STRING's contents (0x04), the signature's
    octets (0x03)."""
    tbs: tuple[int, int]
    candidates: tuple[bytes, ...]
    """The certificates that may have signed it, in the order they are tried."""
    key_kind: str
    hash_cls: Any
    held: tuple[Any, ...]
    """What its class digests, but the certificate whose key verifies it."""
    carried: list[bytes]
    names: tuple[Any, ...]
    digests: dict[bytes, bytes]
    """The class's digest, by the certificate whose key verifies its answers."""


class _Class(NamedTuple):
    """What :func:`_answer_class` finds of an OCSP answer or CRL."""

    digest: bytes
    """Its class."""
    times: list[datetime]
    """The times it speaks of."""
    carried: list[bytes]
    """The certificates it carries (DER)."""
    names: tuple[Any, ...]
    """Whom it speaks of: an OCSP answer's certificates, as (hash algorithm, issuer name
    and key hashes, serial number) each; a CRL's issuer (its encoding)."""
    layout: _Layout | None = None
    """How the answers of its class are written, where they can be read by it."""


_CLASSES: OrderedDict[bytes, _Class | None] = OrderedDict()
_CLASSES_LOCK = threading.Lock()


def signers_key(signers: list[bytes]) -> bytes:
    """The digest of the certificates listed as those that may sign answers (see
    :func:`classed`)."""
    hasher = hashlib.sha256()
    for der in signers:
        hasher.update(hashlib.sha256(der).digest())
    return hasher.digest()


def classed(
    kind: Callable[[bytes, list[bytes]], _Class],
    raw: bytes,
    signers: list[bytes],
    signed_by: bytes | None = None,
) -> _Class:
    """``kind(raw, signers)`` (:func:`_ocsp_class` or :func:`_crl_class`), remembered by
    its arguments' digest: documents that carry the same answer (one signing context
    shared over them) class it once; answers written as one classed before read by its
    :class:`_Layout` (a signer that fetches its validation data for each document gets
    answers of one class, made at other times). ``signed_by``: :func:`signers_key` of
    ``signers``, made once for all the answers of a document."""
    if signed_by is None:
        signed_by = signers_key(signers)
    memo = hashlib.sha256(kind.__name__.encode() + b"\x00" + signed_by + raw).digest()
    with _CLASSES_LOCK:
        known = memo in _CLASSES
        found = _CLASSES.get(memo)
    if not known:
        where = (kind.__name__, signed_by, len(raw))
        try:
            found = _from_layout(where, raw)
            if found is None:
                found = kind(raw, signers)
                if found.layout is not None:
                    _LAYOUTS.keep(where, found.layout)
            found = found._replace(layout=None)  # held by _LAYOUTS alone, within its bound
        except Exception:  # noqa: BLE001 - anything unusual: held by its bytes
            found = None
        with _CLASSES_LOCK:
            _CLASSES[memo] = found
            while len(_CLASSES) > fp.MAX_TEMPLATES:
                _CLASSES.popitem(last=False)
    if found is None:
        raise _Unclassed("not classed")
    return found


_LAYOUT_BYTES = 16 << 20
"""The layouts hold at most about this many bytes of the answers they were read from
(what the class holds of an answer is about its size again); the oldest are dropped
first."""
_LAYOUTS: ber.Layouts[_Layout] = ber.Layouts(
    each=4, keys=fp.MAX_TEMPLATES, max_bytes=_LAYOUT_BYTES, weight=2
)
"""The layouts of the classes found, by kind, signers (:func:`signers_key`) and length."""


def _from_layout(where: tuple[str, bytes, int], raw: bytes) -> _Class | None:
    """The class of ``raw`` read by the layout of a class found before (``where``: its
    kind, signers and length), or None where none fits. Raises :class:`_Unclassed` where
    one fits but no candidate's key verifies it, as :func:`_answer_class` would."""
    layout = _LAYOUTS.fitting(where, raw)
    if layout is None:
        return None
    times = []
    signature = b""
    for a, b, what in layout.cuts:
        if what == 0x03:
            signature = raw[a:b]
        elif what != 0x04:
            at = _time(raw[a:b], what)
            if at is None:
                return None  # read in full: it says what it says of its time
            times.append(at)
    tbs = raw[layout.tbs[0] : layout.tbs[1]]
    for der in layout.candidates:
        try:
            fp._verify(_KEYS, der, layout.key_kind, layout.hash_cls, signature, tbs)
        except fp._NotEligible:
            continue
        digest = layout.digests.get(der)
        if digest is None:
            digest = _class_digest(layout.held, der)
            if len(layout.digests) < len(layout.candidates):
                layout.digests[der] = digest
        return _Class(digest, times, layout.carried, layout.names, layout)
    raise _Unclassed("no listed certificate verifies it")


def _time(digits: bytes, tag: int) -> datetime | None:
    """A UTCTime (tag 0x17, ``YYMMDDHHMMSSZ``) or GeneralizedTime (0x18,
    ``YYYYMMDDHHMMSSZ``) as RFC 5280 reads it; None for any other text."""
    if digits[-1:] != b"Z" or not digits[:-1].isdigit():
        return None
    if tag == 0x18 and len(digits) == 15:
        year, rest = int(digits[:4]), digits[4:]
    elif tag == 0x17 and len(digits) == 13:
        year, rest = int(digits[:2]), digits[2:]
        year += 1900 if year >= 50 else 2000
    else:
        return None
    try:
        return datetime(
            year,
            int(rest[0:2]),
            int(rest[2:4]),
            int(rest[4:6]),
            int(rest[6:8]),
            int(rest[8:10]),
            tzinfo=UTC,
        )
    except ValueError:
        return None


class _Unclassed(Exception):
    """An OCSP answer or CRL held by its bytes, not by its class."""


def _answer_class(
    kind: str,
    tbs: ber.DerValue,
    times: list[datetime | None],
    unsigned: bytes,
    algorithm: bytes,
    signature: bytes,
    carried: list[bytes],
    signers: list[bytes],
    named: Callable[[bytes], bool],
    names: tuple[Any, ...],
    cuts: list[tuple[int, int, int]] | None,
) -> _Class:
    """The class of an OCSP answer or CRL (``kind``): everything it says but the times it
    speaks of (``times``: each OCSP answer's production time and each single answer's
    this and next update, a CRL's this and next update) and an OCSP answer's nonce
    (``unsigned``: its data signed, ``tbs``, as read by :func:`_parts`, those left out), its
    signature algorithm (``algorithm``, as encoded), the
    certificates it carries, and which certificate's key verifies its signature (verified
    here, for each document: ``signers`` and ``carried``, those ``named`` accepts as the
    issuer). Two answers of one class differ only in their times, their nonces and their
    signature values, and both verify under one key: no check of them can tell them
    apart but by their times, which the structure holds as their order among every other
    time a verdict weighs (:func:`verify.fastpath._time_order`). Raises
    :class:`_Unclassed` when no listed certificate's key verifies it (the verdict then
    weighs a signature this reader did not check), or it speaks of no next update (its
    freshness is then a fixed while, which the order of times does not hold).

    ``cuts``: where in the answer (``tbs.data``) the values a class leaves out lie (see
    :class:`_Layout`), None where they are not all plainly there; the class then has a
    layout if the times read there are those ``times`` gives."""
    given = [t for t in times if t is not None]
    if len(given) != len(times):
        raise _Unclassed("a time not given")
    name = _algorithm_name(algorithm)
    digest = fp._SIG_DIGEST.get(name)
    if digest is None:
        raise _Unclassed("an unusual signature algorithm")
    kind_of_key = "ec" if name.endswith("ecdsa") else "rsa"
    candidates = [der for der in [*carried, *signers] if named(der)]
    for der in candidates:
        try:
            fp._verify(_KEYS, der, kind_of_key, fp._HASHES[digest], signature, tbs.encoded)
        except fp._NotEligible:
            continue
        verifier_der = der
        break
    else:
        raise _Unclassed("no listed certificate verifies it")
    held = (kind, unsigned, algorithm, tuple(carried))
    raw = tbs.data
    layout = None
    if cuts is not None:
        cuts.sort()
    if (
        cuts is not None
        and [_time(raw[a:b], what) for a, b, what in cuts if what not in (0x03, 0x04)] == given
    ):
        fixed = ber.outside(cuts, len(raw))
        layout = _Layout(
            fixed,
            b"".join(raw[a:b] for a, b in fixed),
            tuple(cuts),
            (tbs.start, tbs.end),
            tuple(candidates),
            kind_of_key,
            fp._HASHES[digest],
            held,
            carried,
            names,
            {},
        )
    found = _class_digest(held, verifier_der)
    if layout is not None:
        layout.digests[verifier_der] = found
    return _Class(found, given, carried, names, layout)


def _class_digest(held: tuple[Any, ...], verifier_der: bytes) -> bytes:
    """The digest of a class: what it holds and the certificate whose key verifies it."""
    return hashlib.sha256(repr((*held, hashlib.sha256(verifier_der).digest())).encode()).digest()


_ALGORITHMS: dict[bytes, str] = {}
"""Signature algorithms' names (asn1crypto's), by their encoding."""


def _algorithm_name(encoded: bytes) -> str:
    """The name of the signature algorithm ``encoded`` (an AlgorithmIdentifier) names."""
    found = _ALGORITHMS.get(encoded)
    if found is None:
        from asn1crypto import algos

        found = str(algos.SignedDigestAlgorithm.load(encoded, strict=True)["algorithm"].native)
        if len(_ALGORITHMS) < 64:
            _ALGORITHMS[encoded] = found
    return found


_OIDS: dict[bytes, str] = {}
"""Object identifiers in dotted form, by their encoding."""


def _dotted(encoded: bytes) -> str:
    found = _OIDS.get(encoded)
    if found is None:
        from asn1crypto import core

        found = str(core.ObjectIdentifier.load(encoded, strict=True).dotted)
        if len(_OIDS) < 64:
            _OIDS[encoded] = found
    return found


_BASIC_OCSP = ber.oid_der("1.3.6.1.5.5.7.48.1.1")
_OCSP_NONCE = ber.oid_der("1.3.6.1.5.5.7.48.1.2")
_TIME_LENGTHS = {0x17: 13, 0x18: 15}
"""UTCTime ``YYMMDDHHMMSSZ`` and GeneralizedTime ``YYYYMMDDHHMMSSZ``: the only forms a
time left out of a class may take (no fractions of a second, no offsets: the times read
are then exactly those validation reads)."""


def _left_out(value: ber.DerValue) -> str:
    """What a class holds in place of a time it leaves out: the time's kind."""
    if _TIME_LENGTHS.get(value.first) != value.end - value.body or value.contents[-1:] != b"Z":
        raise _Unclassed("a time in an unusual form")
    return f"time {value.first}"


def _signature_value(bits: ber.DerValue) -> bytes:
    """A signature BIT STRING's value: whole octets only (no unused bits). Its first
    octet is not signed, and readers differ on what a value with unused bits is (the key
    check here reads the octets; asn1crypto, and so full validation, reads the bits): an
    answer whose signature has any is not classed."""
    if bits.end - bits.body < 2 or bits.data[bits.body] != 0:
        raise _Unclassed("a signature with unused bits")
    return bits.data[bits.body + 1 : bits.end]


def _signature_cut(bits: ber.DerValue) -> tuple[int, int, int]:
    """Where a signature's octets lie (see :func:`_signature_value`)."""
    return (bits.body + 1, bits.end, 0x03)


def _nonce_cut(value: ber.DerValue, cuts: list[tuple[int, int, int]]) -> bool:
    """Add to ``cuts`` where the octets of a nonce extension's value (``value``) lie: the
    contents of the OCTET STRING it holds, any octets of which leave it well-formed;
    False where it holds something else (its answers are then read in full)."""
    if value.first != 0x04:
        return False
    try:
        inner = ber.der_value(value.data, value.body, value.end)
    except ValueError:
        return False
    if inner.first != 0x04 or inner.end != value.end:
        return False
    cuts.append((inner.body, inner.end, 0x04))
    return True


def _ocsp_class(raw: bytes, signers: list[bytes]) -> _Class:
    """:func:`_answer_class` of a DER OCSP response. ``cryptography`` reads it (strict
    DER; anything it does not read raises: see :func:`classed`) and gives its times;
    :func:`verify.ber.der_kids` splits it into its values as encoded, each kept in the
    class as written but the times and the nonce, so that nothing else two answers of a
    class say can differ."""
    from cryptography.x509 import ocsp

    response = ocsp.load_der_ocsp_response(raw)
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise _Unclassed("not a successful answer")
    status, wrapped = ber.der_kids(ber.der_value(raw), 0x0A, 0xA0)
    (body,) = ber.der_kids(wrapped, 0x30, tag=0xA0)
    kind, octets = ber.der_kids(body, 0x06, 0x04)
    if kind.encoded != _BASIC_OCSP:
        raise _Unclassed("not a basic answer")
    basic = ber.der_kids(ber.der_value(raw, octets.body, octets.end), 0x30, 0x30, 0x03)
    tbs, algorithm = basic[0], basic[1]
    fields = ber.der_kids(tbs)
    parts: list[bytes | str] = []
    if fields[0].first == 0xA0:  # version
        parts.append(fields.pop(0).encoded)
    responder, produced, responses, *rest = fields
    if responder.first not in (0xA1, 0xA2) or produced.first != 0x18:
        raise _Unclassed("not a plain answer")
    parts += [responder.encoded, _left_out(produced)]
    times: list[datetime | None] = [response.produced_at_utc]
    cuts = [(produced.body, produced.end, produced.first)]
    laid_out = True
    singles = ber.der_kids(responses)
    read = list(response.responses)
    ids = []
    if len(singles) != len(read):
        raise _Unclassed("its single answers read differently")
    for single, one in zip(singles, read, strict=True):
        cert_id, cert_status, this_update, *later = ber.der_kids(single, 0x30)
        if not later or later[0].first != 0xA0:
            raise _Unclassed("no next update")
        (next_update,) = ber.der_kids(later[0], tag=0xA0)
        parts += [cert_id.encoded, cert_status.encoded, _left_out(this_update)]
        parts += [_left_out(next_update), *(value.encoded for value in later[1:])]
        times += [one.this_update_utc, one.next_update_utc]
        cuts += [(t.body, t.end, t.first) for t in (this_update, next_update)]
        algorithm_id = ber.der_kids(ber.der_kids(cert_id, 0x30)[0], 0x06)[0]
        ids.append(
            (
                _dotted(algorithm_id.encoded),
                one.issuer_name_hash + one.issuer_key_hash,
                one.serial_number,
            )
        )
    for value in rest:  # the extensions: each kept but the nonce
        (extensions,) = ber.der_kids(value, 0x30, tag=0xA1)
        for extension in ber.der_kids(extensions):
            kids = ber.der_kids(extension, 0x06)
            nonce = kids[0].encoded == _OCSP_NONCE
            parts.append("nonce" if nonce else extension.encoded)
            if nonce:
                laid_out = laid_out and _nonce_cut(kids[-1], cuts)
    carried = []
    if len(basic) > 3 and basic[3].first == 0xA0:
        (listed,) = ber.der_kids(basic[3], 0x30, tag=0xA0)
        carried = [cert.encoded for cert in ber.der_kids(listed)]
    (wanted,) = ber.der_kids(responder, tag=-1)
    by_name = responder.first == 0xA1
    wanted_bytes = wanted.encoded if by_name else wanted.contents

    def named(der: bytes) -> bool:
        subject, key_sha1 = _names(der)
        return (subject if by_name else key_sha1) == wanted_bytes

    return _answer_class(
        "ocsp",
        tbs,
        times,
        repr((status.encoded, parts)).encode(),
        algorithm.encoded,
        _signature_value(basic[2]),
        carried,
        signers,
        named,
        tuple(ids),
        [*cuts, _signature_cut(basic[2])] if laid_out else None,
    )


def _crl_class(raw: bytes, signers: list[bytes]) -> _Class:
    """:func:`_answer_class` of a DER CRL, read as :func:`_ocsp_class` reads an OCSP
    answer."""
    from cryptography import x509

    listed = x509.load_der_x509_crl(raw)
    tbs, algorithm, signature_bits = ber.der_kids(ber.der_value(raw), 0x30, 0x30, 0x03)
    fields = ber.der_kids(tbs)
    parts: list[bytes | str] = []
    if fields[0].first == 0x02:  # version
        parts.append(fields.pop(0).encoded)
    signature, issuer, this_update, next_update, *rest = fields
    if next_update.first not in _TIME_LENGTHS:
        raise _Unclassed("no next update")
    parts += [signature.encoded, issuer.encoded, _left_out(this_update), _left_out(next_update)]
    parts += [value.encoded for value in rest]
    cuts = [(t.body, t.end, t.first) for t in (this_update, next_update)]
    return _answer_class(
        "crl",
        tbs,
        [listed.last_update_utc, listed.next_update_utc],
        repr(parts).encode(),
        algorithm.encoded,
        _signature_value(signature_bits),
        [],
        signers,
        lambda der: _names(der)[0] == issuer.encoded,
        (issuer.encoded,),
        [*cuts, _signature_cut(signature_bits)],
    )


def _ocsp_ids(basic: Any) -> tuple[tuple[str, bytes, int], ...]:
    """The certificates a basic OCSP response answers for: (hash algorithm, issuer name
    and key hashes, serial number) of each."""
    ids = []
    for single in basic["tbs_response_data"]["responses"]:
        cert_id = single["cert_id"]
        ids.append(
            (
                cert_id["hash_algorithm"]["algorithm"].dotted,
                cert_id["issuer_name_hash"].native + cert_id["issuer_key_hash"].native,
                cert_id["serial_number"].native,
            )
        )
    return tuple(ids)


def _crl_issuer(raw: bytes) -> bytes:
    from asn1crypto import crl

    return bytes(crl.CertificateList.load(raw, strict=True)["tbs_cert_list"]["issuer"].dump())


def _in_sets(value: Value, unordered: dict[int, bytes]) -> bool:
    """An array of references to streams the structure holds as a set."""
    return value[0] == "a" and all(item[0] == "r" and item[1] in unordered for item in value[1])


def _holds_key(value: Value, key: bytes) -> bool:
    kind = value[0]
    if kind == "d":
        return any(k == key or _holds_key(v, key) for k, v in value[1])
    if kind == "a":
        return any(_holds_key(v, key) for v in value[1])
    return False


def _same_kind(obj: Any, value: Value) -> bool:
    """pyHanko's object and the lexer's read of it agree on its kind and keys."""
    from pyhanko.pdf_utils import generic

    if value[0] == "stream":
        if not isinstance(obj, generic.StreamObject):
            return False
        return sorted(str(k) for k in obj) == sorted(k.decode() for k, _v in value[1][1])
    inner = value[1]
    if isinstance(obj, generic.StreamObject):
        return False
    if isinstance(obj, generic.DictionaryObject):
        return inner[0] == "d" and sorted(str(k) for k in obj) == sorted(
            k.decode() for k, _v in inner[1]
        )
    if isinstance(obj, generic.ArrayObject):
        return inner[0] == "A" or (inner[0] == "a" and len(obj) == len(inner[1]))
    return inner[0] not in ("d", "a")
