"""Speed-ups for third-party code, installed explicitly, for the versions they were proven on.

A few functions of the libraries under the verifier are slow for bulk work; each replacement
below gives exactly the original's results (property tests compare them on random input):

- pyHanko's PDF reader decodes a hex string one byte at a time in Python: for the
  ``/Contents`` of a B-LT signature (tens of kilobytes of hex) that is a third of the time
  spent on a document. The replacement decodes the common case (only hex digits up to
  ``>``) with :mod:`binascii` in one step and hands anything else to pyHanko's own function
  from the same position.
- pyHanko's tokenizer reads every name, number and keyword one byte at a time through a
  generator (``misc._read_until_class``) and decodes every name byte by byte
  (``generic._decode_name``): together about a third of the time its reader takes to open
  a small PDF and walk to its signature fields. The replacements search a chunk for the
  first delimiter with a regular expression (and leave the stream where the original
  leaves it), and decode a name without ``#`` escapes whose bytes are all printable ASCII
  in one step (every other name goes to pyHanko's own function). A new ``NameObject`` is
  made for every name, as before: pyHanko sets attributes on the objects it reads.
- pyHanko's difference analysis finds, for each revision after a signed one, every path
  from the trailer to every object (``HistoricalResolver._load_reverse_xref_cache``),
  walking objects it first deep-copies into the revision (``_subsume_object``) along
  paths kept as linked lists hashed node by node in Python: a quarter of the time of a
  dossier countersigned after its citizen signed (five revisions). The replacement makes
  the same walk in the same order over the objects uncopied, paths as tuples; encrypted
  documents keep pyHanko's own walk.
- pyHanko reads an object kept in an object stream (``/ObjStm``, as PDF/A and most
  modern writers store objects) by reading the stream's header of object numbers and
  offsets from its start, pair by pair with its tokenizer, until it meets the object's
  number (``PdfFileReader._get_object_from_stream``): reading every object of a stream
  of n objects reads about n²/2 pairs, a fifth of the time of a dossier
  countersigned after its citizen signed. The replacement reads each stream's header
  once, with the same functions in the same order, and keeps what it found (the number
  and offset of each pair, the first pair of each number) for that stream as its reader
  holds it; an object it did not find there (a header that ends early or breaks, a
  number not in it) goes to pyHanko's own function, which decides as before.
- asn1crypto prepares every certificate name value for comparison (RFC 4518, in pure
  Python) once per parsed certificate object, and every document parses its certificates
  afresh. The preparation is a pure function of the string, so its result is memoised by
  string, in a bounded table.
- Above it, a name's whole comparison form (``Name.hashable``) is computed again for each
  parsed name: pyhanko-certvalidator asks for it for every certificate it registers and
  every issuer it looks up, and the same signer, CA, OCSP responder and TSA names come
  back in every document. It is a pure function of the encoding of the name's RDN
  sequence, so it is memoised by that encoding, in a bounded table: about 2.5% of a
  dossier's validation.

Nothing is replaced when :mod:`verify` is imported. :func:`install` replaces them all, for the
versions in :data:`PROVEN` only (another version keeps its own functions, and
:func:`install` says why); :func:`uninstall` puts the originals back. The bulk path
(:func:`verify.verify_many`) and the ``verify`` command line install them; a library
caller who wants them calls :func:`install` once.
"""

from __future__ import annotations

import binascii
import functools
import importlib
import importlib.metadata
import io
import re
import threading
import weakref
from typing import Any

__all__ = [
    "PROVEN",
    "fast_name_hashable",
    "install",
    "installed",
    "installed_version",
    "original_hex_reader",
    "original_name_decoder",
    "original_name_hashable",
    "original_object_stream_reader",
    "original_read_until_class",
    "original_reverse_xref",
    "original_string_prep",
    "uninstall",
]

PROVEN: dict[str, frozenset[str]] = {
    "pyhanko": frozenset({"0.38.0"}),
    "asn1crypto": frozenset({"1.5.1"}),
}
"""The versions each speed-up was proven on (its property tests pass on them)."""

_LOCK = threading.Lock()
_INSTALLED: dict[str, Any] = {}  # name -> the original function it replaced


_VERSION_MODULES = {"pyhanko": "pyhanko.version", "asn1crypto": "asn1crypto.version"}
"""Packages whose own module says their version (``__version__``): the code this process
imports, read without looking through every installed package's metadata."""


@functools.cache
def installed_version(package: str) -> str | None:
    """The installed version of ``package`` (None if it is not installed), looked up once
    per process: from its own version module where it has one (pyHanko and asn1crypto,
    :data:`_VERSION_MODULES`), else from its metadata, whose lookup reads every installed
    package's (about 2 ms). A running process keeps the code it imported whatever is
    installed later."""
    module = _VERSION_MODULES.get(package)
    if module is not None:
        try:
            version = importlib.import_module(module).__version__
        except (ImportError, AttributeError):
            pass
        else:
            if isinstance(version, str):
                return version
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def install() -> dict[str, str | None]:
    """Install every speed-up whose library is at a proven version. Idempotent.

    Returns, per speed-up, ``None`` when it is installed, else the reason it is not
    (the version found and the versions proven)."""
    out: dict[str, str | None] = {}
    with _LOCK:
        for name, package, put in (
            ("hex_reader", "pyhanko", _install_hex_reader),
            ("read_until_class", "pyhanko", _install_read_until_class),
            ("name_decoder", "pyhanko", _install_name_decoder),
            ("string_prep_memo", "asn1crypto", _install_string_prep_memo),
            ("name_hashable_memo", "asn1crypto", _install_name_hashable_memo),
            ("reverse_xref", "pyhanko", _install_reverse_xref),
            ("object_stream", "pyhanko", _install_object_stream),
        ):
            found = installed_version(package)
            if found not in PROVEN[package]:
                proven = ", ".join(sorted(PROVEN[package]))
                out[name] = f"{package} {found} is not a version it was proven on ({proven})"
                continue
            if name not in _INSTALLED:
                _INSTALLED[name] = put()
            out[name] = None
    return out


def uninstall() -> None:
    """Put the libraries' own functions back."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils import generic, misc
    from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader

    with _LOCK:
        original = _INSTALLED.pop("hex_reader", None)
        if original is not None:
            generic.read_hex_string_from_stream = original
        original = _INSTALLED.pop("read_until_class", None)
        if original is not None:
            misc._read_until_class = original
        original = _INSTALLED.pop("name_decoder", None)
        if original is not None:
            generic._decode_name = original
        original = _INSTALLED.pop("string_prep_memo", None)
        if original is not None:
            asn1_x509.NameTypeAndValue._ldap_string_prep = original
        original = _INSTALLED.pop("name_hashable_memo", None)
        if original is not None:
            asn1_x509.Name.hashable = original
        original = _INSTALLED.pop("reverse_xref", None)
        if original is not None:
            HistoricalResolver._load_reverse_xref_cache = original  # type: ignore[method-assign]
        original = _INSTALLED.pop("object_stream", None)
        if original is not None:
            PdfFileReader._get_object_from_stream = original  # type: ignore[method-assign]


def installed() -> frozenset[str]:
    """The names of the speed-ups in place now."""
    return frozenset(_INSTALLED)


# -- a faster hex string reader for pyHanko's parser ---------------------------------------------

_HEX_ONLY = re.compile(rb"[0-9a-fA-F]*")
_HEX_CHUNK = 1 << 16


def original_hex_reader() -> Any:
    """pyHanko's own hex string reader (whether or not the speed-up is installed)."""
    from pyhanko.pdf_utils import generic

    return _INSTALLED.get("hex_reader", generic.read_hex_string_from_stream)


def fast_read_hex_string_from_stream(stream: Any) -> Any:
    """pyHanko's ``read_hex_string_from_stream``, decoding plain hex in one step."""
    from pyhanko.pdf_utils import generic

    start = stream.tell()
    seen = bytearray()
    while True:
        chunk = stream.read(_HEX_CHUNK)
        if not chunk:
            break
        seen += chunk
        end = seen.find(b">", max(1, len(seen) - len(chunk)))
        if end >= 0:
            body = seen[1:end]
            if seen[:1] == b"<" and _HEX_ONLY.fullmatch(body):
                stream.seek(start + end + 1)
                if len(body) % 2:
                    body += b"0"
                return generic.pdf_string(binascii.unhexlify(body))
            break
    stream.seek(start)
    return original_hex_reader()(stream)


def _install_hex_reader() -> Any:
    from pyhanko.pdf_utils import generic

    original = generic.read_hex_string_from_stream
    generic.read_hex_string_from_stream = fast_read_hex_string_from_stream
    return original


# -- pyHanko's tokenizer: reading up to a delimiter, decoding names ----------------------------

_CLASS_PATTERNS: dict[bytes, re.Pattern[bytes]] = {}
_FIRST_CHUNK = 64
_MAX_CHUNK = 1 << 16


def original_read_until_class() -> Any:
    """pyHanko's own ``misc._read_until_class`` (installed or not)."""
    from pyhanko.pdf_utils import misc

    return _INSTALLED.get("read_until_class", misc._read_until_class)


def _class_pattern(class_chars: bytes) -> re.Pattern[bytes]:
    pattern = _CLASS_PATTERNS.get(class_chars)
    if pattern is None:
        members = b"".join(re.escape(bytes((c,))) for c in sorted(set(class_chars)))
        pattern = re.compile(b"[" + members + b"]")
        if len(_CLASS_PATTERNS) < 64:
            _CLASS_PATTERNS[class_chars] = pattern
    return pattern


def fast_read_until_class(class_chars: bytes, stream: Any, maxchars: int | None = None) -> Any:
    """pyHanko's ``misc._read_until_class``: the bytes before the first byte of
    ``class_chars`` (that byte consumed) and whether the stream ended first. Reads a chunk
    at a time and seeks back to just after that byte, where the original's one-byte reads
    leave the stream."""
    if maxchars is not None or not class_chars:
        return original_read_until_class()(class_chars, stream, maxchars=maxchars)
    pattern = _class_pattern(class_chars)
    parts: list[bytes] = []
    size = _FIRST_CHUNK
    while True:
        start = stream.tell()
        chunk = stream.read(size)
        if not chunk:
            return b"".join(parts), True
        found = pattern.search(chunk)
        if found is not None:
            at = found.start()
            parts.append(chunk[:at])
            stream.seek(start + at + 1)
            return b"".join(parts), False
        parts.append(chunk)
        size = min(size * 4, _MAX_CHUNK)


def _install_read_until_class() -> Any:
    from pyhanko.pdf_utils import misc

    original = misc._read_until_class
    misc._read_until_class = fast_read_until_class
    return original


# printable ASCII but neither a PDF delimiter nor '#' (the escape): what a plain name is made of
_PLAIN_NAME_BYTES = bytes(c for c in range(0x21, 0x7F) if c not in b"()<>[]{}/%#")
_PLAIN_NAME = re.compile(b"[" + re.escape(_PLAIN_NAME_BYTES) + b"]*")


def original_name_decoder() -> Any:
    """pyHanko's own ``generic._decode_name`` (installed or not)."""
    from pyhanko.pdf_utils import generic

    return _INSTALLED.get("name_decoder", generic._decode_name)


def fast_decode_name(name_bytes: bytes) -> Any:
    """pyHanko's ``generic._decode_name``: a name without escapes whose bytes are all
    printable ASCII outside the delimiters is decoded in one step; any other goes to
    pyHanko's own function (escapes, errors, UTF-8 and Latin-1 fallbacks)."""
    if _PLAIN_NAME.fullmatch(name_bytes):
        return _name_object()("/" + name_bytes.decode("ascii"))
    return original_name_decoder()(name_bytes)


@functools.cache
def _name_object() -> Any:
    from pyhanko.pdf_utils import generic

    return generic.NameObject


def _install_name_decoder() -> Any:
    from pyhanko.pdf_utils import generic

    original = generic._decode_name
    generic._decode_name = fast_decode_name
    return original


# -- a memo for certificate name comparison ------------------------------------------------

_PREP_MEMO_MAX = 16_384


def original_string_prep() -> Any:
    """asn1crypto's own ``NameTypeAndValue._ldap_string_prep`` (installed or not)."""
    from asn1crypto import x509 as asn1_x509

    return _INSTALLED.get("string_prep_memo", asn1_x509.NameTypeAndValue._ldap_string_prep)


def _install_string_prep_memo() -> Any:
    from asn1crypto import x509 as asn1_x509

    original = asn1_x509.NameTypeAndValue._ldap_string_prep
    memo: dict[str, str] = {}

    def _ldap_string_prep(self: Any, string: Any) -> Any:
        if not isinstance(string, str):
            return original(self, string)
        prepared = memo.get(string)
        if prepared is None:
            prepared = original(self, string)
            if len(memo) >= _PREP_MEMO_MAX:
                memo.clear()
            memo[string] = prepared
        return prepared

    asn1_x509.NameTypeAndValue._ldap_string_prep = _ldap_string_prep
    return original


_NAME_MEMO_MAX = 4_096


def original_name_hashable() -> Any:
    """asn1crypto's own ``Name.hashable`` property (installed or not)."""
    from asn1crypto import x509 as asn1_x509

    return _INSTALLED.get("name_hashable_memo", asn1_x509.Name.__dict__["hashable"])


def fast_name_hashable(self: Any) -> Any:
    """``Name.hashable`` (the RFC 5280 comparison form of a name, which pyhanko-certvalidator
    computes for every certificate it registers, every issuer it looks up and every name
    it compares) remembered by the name's DER encoding: the same name read again from
    another document's CMS, DSS or OCSP response is prepared once. The form depends on
    the encoding alone (each value's type and text, in order). It is computed from the
    encoding read afresh, never from the object: asn1crypto's own answer for an object
    changed after it was first asked is the old name's form, and the table must never
    file a form under an encoding it does not belong to.

    The encoding is the name's RDN sequence alone, without the tag a name carries where
    it is one of several choices (an OCSP responder's ``byName``, ``[1] EXPLICIT``; a
    ``directoryName``, ``[4]``): asn1crypto's own form is the sequence's, whatever the
    tag, and a tagged encoding does not read back as a bare name."""
    key = self.chosen.dump()
    found = _NAME_MEMO.get(key)
    if found is None:
        found = original_name_hashable().fget(
            type(self)(name="", value=type(self.chosen).load(key))
        )
        if len(_NAME_MEMO) >= _NAME_MEMO_MAX:
            _NAME_MEMO.clear()
        _NAME_MEMO[key] = found
    return found


_NAME_MEMO: dict[bytes, Any] = {}


def _install_name_hashable_memo() -> Any:
    from asn1crypto import x509 as asn1_x509

    original = asn1_x509.Name.__dict__["hashable"]
    asn1_x509.Name.hashable = property(fast_name_hashable, doc=original.__doc__)
    return original


# -- the paths to every object of a revision, for pyHanko's difference analysis -----------------


def original_reverse_xref() -> Any:
    """pyHanko's own ``HistoricalResolver._load_reverse_xref_cache`` (installed or not)."""
    from pyhanko.pdf_utils.reader import HistoricalResolver

    return _INSTALLED.get("reverse_xref", HistoricalResolver._load_reverse_xref_cache)


def fast_load_reverse_xref_cache(self: Any) -> None:
    """pyHanko's ``HistoricalResolver._load_reverse_xref_cache``: for every object of the
    revision, every path from the trailer by which it is reached (the page tree entered
    only by its own path, the structure tree only from ``/StructTreeRoot /K``, ``/Parent``
    never followed, nor ``/P`` inside the structure tree), as the difference analysis
    reads them to tell what a later revision may change.

    The same walk, in the same order (so that a broken object raises the same error), over
    the objects as this revision has them; it differs from the original in how it keeps
    things, not in what it finds:

    - it reads each object without the resolver's copy of it (``_subsume_object``, a deep
      copy made so that references resolve within the revision): the walk only reads keys
      and references, and the copies the analysis needs later are made when it asks;
    - a path is a tuple and the objects on it a set, not linked lists compared and hashed
      node by node in Python.

    Encrypted documents go to pyHanko's own function (their objects are decrypted as they
    are copied)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import RawPdfPath
    from pyhanko.pdf_utils.reader import logger as reader_logger

    if self._indirect_object_access_cache is not None:
        return
    reader = self.reader
    if reader.encrypted:
        original_reverse_xref()(self)
        return
    revision = self.revision
    xrefs = reader.xrefs
    cache = self.cache
    read: dict[Any, Any] = {}

    def resolve(ref: Any) -> Any:
        """The object as this revision has it (what ``self(ref)`` gives, uncopied)."""
        obj = cache.get(ref)
        if obj is not None:
            return obj
        obj = read.get(ref)
        if obj is not None:
            return obj
        try:
            last_change = xrefs.get_last_change(ref)
        except KeyError:
            reader_logger.warning(f"Could not determine history of {ref} in xref sections")
            last_change = None
        if last_change is not None and last_change <= revision:
            obj = reader.get_object(ref, transparent_decrypt=False)
        else:
            obj = reader.get_object(ref, revision, transparent_decrypt=False)
        read[ref] = obj
        return obj

    indirect, dictionary, array = (
        generic.IndirectObject,
        generic.DictionaryObject,
        generic.ArrayObject,
    )
    collected: dict[Any, set[tuple[Any, ...]]] = {}
    on_path: set[Any] = set()
    struct_root_path = ("/Root", "/StructTreeRoot")

    def walk(obj: Any, path: tuple[Any, ...], in_struct: bool) -> None:
        entered = None
        if isinstance(obj, indirect):
            ref = obj.reference
            if ref in on_path:
                return
            found = collected.get(ref)
            if found is None:
                collected[ref] = {path}
            else:
                found.add(path)
            obj = resolve(ref)
            if page_tree.get(ref, path) != path:
                return
            if not in_struct and ref in struct_tree:
                return
            entered = ref
            on_path.add(ref)
        try:
            if isinstance(obj, dictionary):
                for k, v in obj.items():
                    if k == "/Parent" or (in_struct and k == "/P"):
                        continue
                    walk(
                        v,
                        (*path, k),
                        in_struct or (k == "/K" and path == struct_root_path),
                    )
            elif isinstance(obj, array):
                for ix, v in enumerate(obj):
                    walk(v, (*path, ix), in_struct)
        finally:
            if entered is not None:
                on_path.discard(entered)

    def page_tree_refs(pages: Any, path: tuple[Any, ...]) -> Any:
        for ix, kid in enumerate(pages["/Kids"]):
            kid_path = (*path, "/Kids", ix)
            if isinstance(kid, indirect):
                yield kid.reference, kid_path
            kid = kid.get_object()
            if kid.get("/Type", None) == "/Pages":
                yield from page_tree_refs(kid, kid_path)

    def struct_tree_refs(element: Any) -> Any:
        try:
            children = element["/K"]
        except KeyError:
            return
        if not isinstance(children, array):
            children = (children,)
        for child in children:
            child_ref = None
            if isinstance(child, indirect):
                child_ref = child.reference
                child = child.get_object()  # type: ignore[no-untyped-call]
            if not isinstance(child, dictionary):
                continue
            try:
                if child["/Type"] != "/StructElem":
                    continue
            except KeyError:
                pass
            if child_ref is not None:
                yield child_ref
            yield from struct_tree_refs(child)

    pages_ref = self.root.raw_get("/Pages")
    pages_path = ("/Root", "/Pages")
    page_tree: dict[Any, tuple[Any, ...]] = {}
    if isinstance(pages_ref, indirect):
        page_tree[pages_ref.reference] = pages_path
    for ref, path in page_tree_refs(pages_ref.get_object(), pages_path):
        if ref in page_tree:
            raise PdfReadError("Circular reference in page tree in mapping stage")
        page_tree[ref] = path
    struct_tree: set[Any] = set()
    try:
        for ref in struct_tree_refs(self.root.raw_get("/StructTreeRoot").get_object()):
            if ref in struct_tree:
                raise PdfReadError("Circular reference in structure tree in mapping stage")
            struct_tree.add(ref)
    except KeyError:
        pass
    walk(self.trailer_view, (), False)
    self._indirect_object_access_cache = {
        generic.Reference(ref.idnum, ref.generation, self): {RawPdfPath(*p) for p in paths}
        for ref, paths in collected.items()
    }


def _install_reverse_xref() -> Any:
    from pyhanko.pdf_utils.reader import HistoricalResolver

    original = HistoricalResolver._load_reverse_xref_cache
    HistoricalResolver._load_reverse_xref_cache = fast_load_reverse_xref_cache  # type: ignore[method-assign]
    return original


# -- objects in object streams: each stream's header read once -------------------------------

_HEADERS: weakref.WeakKeyDictionary[Any, dict[int, tuple[Any, bytes, dict[Any, Any]]]] = (
    weakref.WeakKeyDictionary()
)
"""Per reader, per object stream (by identity: the stream object as the reader holds it,
and its decoded data): the first pair of each object number its header lists, as
(position in the header, offset). The stream is held by a weak reference: it refers to its
reader, which would otherwise never leave this table."""
_HEADERS_LOCK = threading.Lock()


def original_object_stream_reader() -> Any:
    """pyHanko's own ``PdfFileReader._get_object_from_stream`` (installed or not)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    return _INSTALLED.get("object_stream", PdfFileReader._get_object_from_stream)


def _header_pairs(data: bytes, count: int) -> dict[Any, Any]:
    """The object stream header's pairs read as pyHanko reads them (the same calls in the
    same order, from the start): for each object number, its first pair's position and
    offset. Reading stops at the first pair that does not read whole; the pairs after it
    are not listed (pyHanko's own function meets the same failure for them)."""
    from pyhanko.pdf_utils import generic, misc

    skip: Any = misc.read_non_whitespace
    number: Any = generic.NumberObject.read_from_stream
    stream = io.BytesIO(data)
    first: dict[Any, Any] = {}
    for i in range(count):
        try:
            skip(stream, seek_back=True)
            objnum = number(stream)
            skip(stream, seek_back=True)
            offset = number(stream)
            skip(stream, seek_back=True)
        except Exception:  # noqa: BLE001 - pyHanko's own function decides on what is left
            break
        first.setdefault(objnum, (i, offset))
    return first


def fast_get_object_from_stream(self: Any, idnum: int, stmnum: int, idx: int) -> Any:
    """pyHanko's ``PdfFileReader._get_object_from_stream``, reading each object stream's
    header once per reader instead of once per object."""
    from pyhanko.pdf_utils import generic, misc
    from pyhanko.pdf_utils.decode_limits import DecodePurpose
    from pyhanko.pdf_utils.reader import logger as reader_logger

    original = original_object_stream_reader()
    if self.encrypted:
        return original(self, idnum, stmnum, idx)
    try:
        stream: Any = generic.Reference(stmnum, 0, self).get_object()
        count = stream["/N"]
        first_object = stream["/First"]
        if not (
            isinstance(stream, generic.StreamObject)
            and stream["/Type"] == "/ObjStm"
            and type(count) is generic.NumberObject
            and type(first_object) is generic.NumberObject
            and 0 <= idx < count
        ):
            raise LookupError
        data = stream.read_data(DecodePurpose.OBJECT_STREAM)
    except Exception:  # noqa: BLE001 - anything unusual: pyHanko's own function decides
        return original(self, idnum, stmnum, idx)
    with _HEADERS_LOCK:
        streams = _HEADERS.setdefault(self, {})
        known = streams.get(id(stream))
    if known is None or known[0]() is not stream or known[1] is not data:
        known = (weakref.ref(stream), data, _header_pairs(data, count))
        with _HEADERS_LOCK:
            streams[id(stream)] = known
    found = known[2].get(idnum)
    if found is None:
        return original(self, idnum, stmnum, idx)
    # from here on, pyHanko's own function once it met the object's pair
    i, offset = found
    if self.strict and idx != i:
        raise misc.PdfStrictReadError("Object is in wrong index.")
    stream_data = io.BytesIO(data)
    stream_data.seek(first_object + offset)
    try:
        obj = generic.read_object(stream_data, generic.Reference(idnum, 0, self))
    except (misc.PdfStreamError, misc.PdfReadError) as e:
        reader_logger.warning(f"Invalid stream (index {i}) within object {idnum} 0: {e}")
        if self.strict:
            raise misc.PdfStrictReadError(f"Can't read object stream: {e}") from e
        obj = generic.NullObject()
    if isinstance(obj, generic.StreamObject | generic.IndirectObject):
        if self.strict:
            raise misc.PdfStrictReadError("Encountered forbidden object type in object stream")
        return obj
    skip: Any = misc.read_non_whitespace
    skip(stream_data, seek_back=True, allow_eof=True)
    return obj


def _install_object_stream() -> Any:
    from pyhanko.pdf_utils.reader import PdfFileReader

    original = PdfFileReader._get_object_from_stream
    PdfFileReader._get_object_from_stream = fast_get_object_from_stream  # type: ignore[method-assign]
    return original
