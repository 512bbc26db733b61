"""The speed-ups given to pyHanko give exactly pyHanko's own results.

``verify.speedups.fast_read_until_class`` and ``fast_decode_name`` replace two functions of
pyHanko's tokenizer, ``fast_load_reverse_xref_cache`` the walk that finds every path to
every object of a revision for the difference analysis, and ``fast_get_object_from_stream``
the reading of an object kept in an object stream, when
:func:`verify.speedups.install` is called; these tests compare them with the originals on
random input, and on whole documents read both ways.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PDF_DELIMITERS, PDF_WHITESPACE
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter

from verify import speedups

DATA = Path(__file__).resolve().parents[1] / "data"

_PIECES = st.sampled_from(
    [b"a", b"Type", b"0", b"12.5", b"-3", b"#20", b"#", b"#g1", b"\xc3\xa9", b"\xff", b"\x7f",
     b" ", b"\n", b"\r\n", b"\t", b"\x00", b"\x0c", b"/", b"(", b")", b"<", b">", b"[", b"]",
     b"{", b"}", b"%", b"R", b"obj", b"endobj"]
)  # fmt: skip
_CLASSES = st.sampled_from(
    [PDF_WHITESPACE, PDF_WHITESPACE + PDF_DELIMITERS, b"]", b"\\", b"-^", b"a", b"\x00\xff"]
)


def _until(function: Any, class_chars: bytes, data: bytes, at: int, maxchars: Any) -> Any:
    stream = io.BytesIO(data)
    stream.seek(at)
    try:
        result = function(class_chars, stream, maxchars=maxchars)
    except Exception as exc:  # noqa: BLE001 - the exception's type is what is compared
        return ("raised", type(exc).__name__, stream.tell())
    return (result, stream.tell())


@settings(max_examples=400, deadline=None)
@given(
    st.lists(_PIECES, max_size=60),
    st.binary(max_size=16),
    _CLASSES,
    st.integers(min_value=0, max_value=40),
    st.sampled_from([None, None, None, 1, 5, 20]),
)
def test_read_until_class_matches_pyhankos_own(
    pieces: list[bytes], tail: bytes, class_chars: bytes, at: int, maxchars: Any
) -> None:
    """For any bytes, start and class, the chunked reader returns what pyHanko's one-byte
    reader returns (the bytes before the class byte, whether the stream ended) and leaves
    the stream at the same place."""
    data = b"".join(pieces) + tail
    at = min(at, len(data))
    assert _until(speedups.fast_read_until_class, class_chars, data, at, maxchars) == _until(
        speedups.original_read_until_class(), class_chars, data, at, maxchars
    )


def test_read_until_class_crosses_its_chunks() -> None:
    """A token longer than every chunk read is returned whole, the stream left after its
    delimiter."""
    data = b"x" * 300_000 + b" rest"
    stream = io.BytesIO(data)
    assert speedups.fast_read_until_class(PDF_WHITESPACE, stream) == (b"x" * 300_000, False)
    assert stream.tell() == 300_001


def _name(function: Any, raw: bytes) -> Any:
    try:
        value = function(raw)
    except Exception as exc:  # noqa: BLE001 - the exception's type is what is compared
        return ("raised", type(exc).__name__)
    return (type(value).__name__, str(value))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.lists(_PIECES, max_size=12).map(b"".join), st.binary(max_size=24)))
def test_name_decoder_matches_pyhankos_own(raw: bytes) -> None:
    """Any bytes decode to the same NameObject, or raise the same error, as pyHanko's."""
    assert _name(speedups.fast_decode_name, raw) == _name(speedups.original_name_decoder(), raw)


def test_every_decoded_name_is_a_new_object() -> None:
    """pyHanko sets attributes on what it reads, so no two reads share a name object."""
    one, two = speedups.fast_decode_name(b"Type"), speedups.fast_decode_name(b"Type")
    assert isinstance(one, generic.NameObject)
    assert one == two == "/Type"
    assert one is not two


_ADDRESS = re.compile(r" object at 0x[0-9a-f]+")  # in reprs of objects without their own


def _objects(data: bytes) -> list[tuple[Any, str]]:
    """Every object the cross-reference table names, read and printed."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    out: list[tuple[Any, str]] = [((0, 0), _ADDRESS.sub("", repr(reader.trailer_view)))]
    refs = {
        (ref.idnum, ref.generation): ref
        for revision in range(reader.xrefs.total_revisions)
        for ref in reader.xrefs.explicit_refs_in_revision(revision)
    }
    for key in sorted(refs):
        try:
            obj = reader.get_object(refs[key])  # type: ignore[no-untyped-call]
            text = _ADDRESS.sub("", repr(obj) + repr(getattr(obj, "encoded_data", b"")))
        except Exception as exc:  # noqa: BLE001 - the exception's type is what is compared
            text = type(exc).__name__
        out.append((key, text))
    assert len(out) > 1
    return out


_DOCUMENTS = sorted((DATA / "dss").glob("*.pdf"))[:12] + sorted((DATA / "realworld").glob("*.pdf"))


@pytest.mark.parametrize("path", _DOCUMENTS, ids=lambda p: p.name)
def test_documents_read_the_same_with_and_without_the_speedups(path: Path) -> None:
    """Real documents (EU DSS test files, Vietnamese signed PDFs) give the same objects
    read by pyHanko's own tokenizer and with the speed-ups installed."""
    data = path.read_bytes()
    was = speedups.installed()
    speedups.uninstall()
    try:
        own = _objects(data)
        speedups.install()
        assert _objects(data) == own
    finally:
        speedups.uninstall()
        if was:
            speedups.install()


# -- the paths to every object of a revision -------------------------------------------------

_MADE = sorted((DATA / "made").glob("*.pdf"))


def _paths(function: Any, data: bytes, revision: int) -> Any:
    """Every path to every object of ``revision``, as ``function`` finds them (or the
    error it raises)."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    resolver = reader.get_historical_resolver(revision)
    try:
        function(resolver)
    except Exception as exc:  # noqa: BLE001 - the exception's type is what is compared
        return ("raised", type(exc).__name__)
    return resolver._indirect_object_access_cache


def _revisions(data: bytes) -> int:
    return int(PdfFileReader(io.BytesIO(data), strict=False).xrefs.total_revisions)


@pytest.mark.parametrize("path", _DOCUMENTS + _MADE, ids=lambda p: p.name)
def test_every_revision_has_the_same_paths_as_pyhanko_finds(path: Path) -> None:
    """In real documents (EU DSS test files, Vietnamese signed PDFs, a dossier made as
    ``make demo`` makes one: cross-reference and object streams, two signatures, a lock),
    the paths found to every object of every revision are pyHanko's own, and where
    pyHanko's walk fails on a broken revision, the speed-up fails with the same error."""
    data = path.read_bytes()
    walked = 0
    for revision in range(_revisions(data)):
        own = _paths(speedups.original_reverse_xref(), data, revision)
        assert _paths(speedups.fast_load_reverse_xref_cache, data, revision) == own
        walked += not isinstance(own, tuple)  # (a few EU DSS files are broken on purpose)
    assert walked


_KEYS = st.sampled_from(["/A", "/B", "/Parent", "/P", "/K", "/Kids", "/Annots", "/Type"])
_VALUES = st.recursive(
    st.one_of(
        st.tuples(st.just("ref"), st.integers(0, 11)),
        st.tuples(st.just("int"), st.integers(0, 3)),
    ),
    lambda inner: st.one_of(
        st.tuples(st.just("array"), st.lists(inner, max_size=3)),
        st.tuples(st.just("dict"), st.lists(st.tuples(_KEYS, inner), max_size=3)),
    ),
    max_leaves=6,
)
_ENTRIES = st.lists(st.tuples(_KEYS, _VALUES), max_size=4)


def _value(spec: Any, refs: list[Any]) -> Any:
    kind, x = spec
    if kind == "ref":
        return refs[x]
    if kind == "int":
        return generic.NumberObject(x)
    if kind == "array":
        return generic.ArrayObject([_value(v, refs) for v in x])
    return generic.DictionaryObject({generic.NameObject(k): _value(v, refs) for k, v in x})


def _graph_pdf(
    graph: list[list[Any]],
    pages: list[int],
    struct: list[int] | None,
    updates: list[tuple[int, list[Any]]],
) -> bytes:
    """A PDF of twelve dictionaries referring to each other at random (cycles, ``/Parent``,
    ``/P``, ``/K`` and ``/Kids`` keys included), pages and a structure tree pointing into
    them, and incremental updates that change some of them."""
    writer = PdfFileWriter()
    objects = [generic.DictionaryObject() for _ in graph]
    refs = [writer.add_object(o) for o in objects]
    for obj, entries in zip(objects, graph, strict=True):
        for key, spec in entries:
            obj[generic.NameObject(key)] = _value(spec, refs)
    root = writer.root
    tree = root["/Pages"]
    for target in pages:
        page = generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Page"),
                generic.NameObject("/Parent"): root.raw_get("/Pages"),
                generic.NameObject("/A"): refs[target],
                generic.NameObject("/MediaBox"): generic.ArrayObject([generic.NumberObject(0)] * 4),
            }
        )
        tree["/Kids"].append(writer.add_object(page))
    tree[generic.NameObject("/Count")] = generic.NumberObject(len(tree["/Kids"]))
    if struct is not None:
        kids = generic.ArrayObject([refs[i] for i in struct])
        element = generic.DictionaryObject({generic.NameObject("/K"): kids})
        root[generic.NameObject("/StructTreeRoot")] = writer.add_object(element)
    root[generic.NameObject("/G")] = refs[0]
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    for target, entries in updates:
        update = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        ref = generic.Reference(refs[target].idnum, refs[target].generation, update)
        obj = update.get_object(ref)
        here = [generic.IndirectObject(r.idnum, r.generation, update) for r in refs]
        for key, spec in entries:
            obj[generic.NameObject(key)] = _value(spec, here)
        update.mark_update(ref)
        out = io.BytesIO()
        update.write(out)
        data = out.getvalue()
    return data


@settings(max_examples=150, deadline=None)
@given(
    st.lists(_ENTRIES, min_size=12, max_size=12),
    st.lists(st.integers(0, 11), max_size=3),
    st.one_of(st.none(), st.lists(st.integers(0, 11), max_size=3)),
    st.lists(
        st.tuples(st.integers(0, 11), st.lists(st.tuples(_KEYS, _VALUES), max_size=2)), max_size=2
    ),
)
def test_random_object_graphs_have_the_same_paths_as_pyhanko_finds(
    graph: list[list[Any]],
    pages: list[int],
    struct: list[int] | None,
    updates: list[tuple[int, list[Any]]],
) -> None:
    """For any graph of objects (cycles, pages and a structure tree pointing into it,
    later revisions changing it), every revision gets the paths pyHanko's own walk finds,
    or the same error (a page tree that loops)."""
    data = _graph_pdf(graph, pages, struct, updates)
    for revision in range(_revisions(data)):
        assert _paths(speedups.fast_load_reverse_xref_cache, data, revision) == _paths(
            speedups.original_reverse_xref(), data, revision
        )


def test_an_encrypted_document_is_walked_by_pyhankos_own_function() -> None:
    """Objects of an encrypted document are decrypted as pyHanko copies them: the speed-up
    hands such a document to pyHanko's own walk, which gives the same paths."""
    from pyhanko.pdf_utils.crypt import StandardSecurityHandler

    writer = PdfFileWriter()
    writer.root[generic.NameObject("/G")] = writer.add_object(
        generic.DictionaryObject({generic.NameObject("/A"): generic.NumberObject(1)})
    )
    writer.encrypt("owner", "")  # type: ignore[no-untyped-call]
    out = io.BytesIO()
    writer.write(out)
    reader = PdfFileReader(io.BytesIO(out.getvalue()), strict=False)
    assert isinstance(reader.security_handler, StandardSecurityHandler)
    reader.decrypt("")
    resolver = reader.get_historical_resolver(0)
    speedups.fast_load_reverse_xref_cache(resolver)
    found = resolver._indirect_object_access_cache
    own = reader.get_historical_resolver(0)
    own._indirect_object_access_cache = None
    speedups.original_reverse_xref()(own)
    assert found == own._indirect_object_access_cache
    assert any(p.path == ("/Root", "/G") for paths in found.values() for p in paths)


# -- objects in object streams ------------------------------------------------------------------


def _in_streams(reader: Any) -> list[tuple[int, int, int]]:
    """(object number, object stream number, position) of every object the cross-reference
    sections place in an object stream."""
    found = set()
    for revision in range(reader.xrefs.total_revisions):
        section = reader.xrefs.get_xref_data(revision)
        for idnum, marker in section.xrefs_in_objstm.items():
            found.add((idnum, marker.obj_stream_id, marker.ix_in_stream))
    return sorted(found)


def _read_in_stream(function: Any, reader: Any, idnum: int, stmnum: int, idx: int) -> Any:
    """What ``function`` reads (printed), or the error it raises (type and message)."""
    try:
        obj = function(reader, idnum, stmnum, idx)
    except Exception as exc:  # noqa: BLE001 - the exception is what is compared
        return ("raised", type(exc).__name__, str(exc))
    return _ADDRESS.sub("", repr(obj) + repr(getattr(obj, "encoded_data", b"")))


@pytest.mark.parametrize("path", _DOCUMENTS + _MADE, ids=lambda p: p.name)
def test_objects_in_object_streams_read_as_pyhanko_reads_them(path: Path) -> None:
    """In real documents (EU DSS test files, Vietnamese signed PDFs, a dossier made as
    ``make demo`` makes one), every object kept in an object stream reads the same through
    the speed-up (each stream's header read once, for every object of it) as through
    pyHanko's own function, by a lenient and by a strict reader."""
    data = path.read_bytes()
    original = speedups.original_object_stream_reader()
    for strict in (False, True):
        try:
            fast_reader = PdfFileReader(io.BytesIO(data), strict=strict)
            own_reader = PdfFileReader(io.BytesIO(data), strict=strict)
        except Exception:  # noqa: BLE001 - a file a strict reader refuses to open
            assert strict
            continue
        for idnum, stmnum, idx in _in_streams(own_reader):
            assert _read_in_stream(
                speedups.fast_get_object_from_stream, fast_reader, idnum, stmnum, idx
            ) == _read_in_stream(original, own_reader, idnum, stmnum, idx)


def test_a_dossier_keeps_objects_in_object_streams() -> None:
    """The dossier among the test documents exercises the speed-up: it keeps most of its
    objects in an object stream of some thirty objects."""
    data = (DATA / "made" / "dossier-countersigned.pdf").read_bytes()
    in_streams = _in_streams(PdfFileReader(io.BytesIO(data), strict=False))
    per_stream: dict[int, int] = {}
    for _idnum, stmnum, _idx in in_streams:
        per_stream[stmnum] = per_stream.get(stmnum, 0) + 1
    assert max(per_stream.values()) >= 30


def _objstm_pdf(header: bytes, body: bytes, count: bytes, first: int) -> bytes:
    """A PDF whose object 1 is an object stream with this header, body, ``/N`` and
    ``/First`` (anything at all), and a catalog."""
    content = header + body
    objects = [
        b"<< /Type /ObjStm /N " + count + b" /First " + str(first).encode()
        + b" /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Catalog /Pages 3 0 R >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
    ]  # fmt: skip
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 4\n0000000000 65535 f \n"
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Root 2 0 R /Size 4 >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


_SEPARATORS = st.sampled_from([b" ", b"\n", b"\r\n ", b"  ", b"%note\n", b""])
_HEADER_JUNK = st.sampled_from([b"", b"", b"", b"x", b"-1", b"2.0", b"(", b"%", b"<<", b"R"])
_BODIES = st.sampled_from(
    [b"<< /A 1 >>", b"[1 2 (x)]", b"(text)", b"3 0 R", b"null", b"42", b"/Name", b"<< /A",
     b"<< /Length 0 >> stream\nendstream", b")", b"<01AB>", b"", b"true", b"%c\n7"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 60)), max_size=7),
    st.lists(_SEPARATORS, min_size=16, max_size=16),
    st.tuples(st.integers(0, 16), _HEADER_JUNK),
    st.lists(_BODIES, max_size=7),
    st.one_of(st.integers(-1, 9).map(lambda n: str(n).encode()), st.just(b"2.5")),
    st.integers(-3, 3),
    st.lists(st.tuples(st.integers(0, 7), st.integers(-1, 8)), min_size=1, max_size=8),
    st.booleans(),
)
def test_random_object_streams_read_as_pyhanko_reads_them(
    pairs: list[tuple[int, int]],
    separators: list[bytes],
    junk: tuple[int, bytes],
    bodies: list[bytes],
    count: bytes,
    shift: int,
    lookups: list[tuple[int, int]],
    strict: bool,
) -> None:
    """For any object stream (numbers listed twice or not at all, headers broken or cut
    short, offsets anywhere, bodies that do not parse, streams or references where an
    object should be, any ``/N`` and ``/First``), any sequence of objects asked for from
    one reader gets what pyHanko's own function gives, or the same error."""
    tokens = [b"%d %d" % pair for pair in pairs]
    at, extra = junk
    tokens.insert(min(at, len(tokens)), extra)
    header = b"".join(t + separators[i % len(separators)] + b" " for i, t in enumerate(tokens))
    body = b" ".join(bodies)
    data = _objstm_pdf(header, body, count, max(0, len(header) + shift))
    fast_reader = PdfFileReader(io.BytesIO(data), strict=strict)
    original = speedups.original_object_stream_reader()
    for idnum, idx in lookups:
        own_reader = PdfFileReader(io.BytesIO(data), strict=strict)
        assert _read_in_stream(
            speedups.fast_get_object_from_stream, fast_reader, idnum, 1, idx
        ) == _read_in_stream(original, own_reader, idnum, 1, idx)


def test_a_stream_s_header_is_read_once_for_all_its_objects() -> None:
    """Reading every object of a stream of sixty reads its header once: the numbers read
    grow with the objects, where pyHanko's own function reads the header again from the
    start for each object (about 60 x 60 numbers), and the objects are the same."""
    from pyhanko.pdf_utils import generic as pdf_generic

    pairs = b" ".join(b"%d %d" % (n, 6 * (n - 10)) for n in range(10, 70))
    body = b" ".join(b"[%3d]" % n for n in range(10, 70))
    data = _objstm_pdf(pairs + b" ", body, b"60", len(pairs) + 1)
    real = pdf_generic.NumberObject.read_from_stream

    def read_all(function: Any) -> tuple[list[Any], int]:
        reader = PdfFileReader(io.BytesIO(data), strict=True)
        calls = 0

        def counting(stream: Any) -> Any:
            nonlocal calls
            calls += 1
            return real(stream)

        pdf_generic.NumberObject.read_from_stream = counting  # type: ignore[method-assign]
        try:
            values = [list(function(reader, n, 1, n - 10)) for n in range(10, 70)]
        finally:
            pdf_generic.NumberObject.read_from_stream = real  # type: ignore[method-assign]
        return values, calls

    fast, fast_calls = read_all(speedups.fast_get_object_from_stream)
    own, own_calls = read_all(speedups.original_object_stream_reader())
    assert fast == own == [[n] for n in range(10, 70)]
    assert fast_calls <= 4 * 60  # the header's 120 numbers, then each object's own
    assert own_calls >= 3000


# -- whole verdicts --------------------------------------------------------------------------

_VERDICT_FILES = (
    sorted((DATA / "dss").glob("*.pdf")) + sorted((DATA / "realworld").glob("*.pdf")) + _MADE
)


def _where_it_can_pass(path: Path) -> tuple[Any, Any] | None:
    """A trust profile and policy under which a PDF's last signature can pass, so that its
    chain and revocation data are checked through (the default trust stops most foreign
    files at their roots): its own self-signed certificates trusted, at its claimed
    signing time (else a day into its signer's certificate), revocation soft, offline.
    None where pyHanko cannot read a signature in it."""
    import io
    from datetime import UTC, timedelta

    from pyhanko.pdf_utils.reader import PdfFileReader

    from verify import TrustProfile, ValidationPolicy
    from verify.policy import RevocationMode

    try:
        emb = PdfFileReader(io.BytesIO(path.read_bytes()), strict=False).embedded_signatures[-1]
        certs = [c.chosen for c in emb.signed_data["certificates"]]
        roots = [c for c in certs if c.self_signed != "no"] or certs[-1:]
        claimed = emb.self_reported_timestamp
        moment = claimed or emb.signer_cert.not_valid_before + timedelta(days=1)
    except Exception:  # noqa: BLE001 - not a PDF pyHanko reads a signature from
        return None
    if moment.tzinfo is None:  # a signing time written without its zone: read as UTC
        moment = moment.replace(tzinfo=UTC)
    policy = ValidationPolicy(
        network=False, validation_time=moment + timedelta(minutes=1), revocation=RevocationMode.SOFT
    )
    return TrustProfile.custom(roots, name="own roots"), policy


_SIGNATURE_SUFFIXES = (".p7m", ".p7s", ".cms", ".sig", ".pkcs7", ".asice", ".asics", ".sce", ".scs")
_OTHER_VERDICT_FILES = sorted(
    p
    for folder in ("dss-cades", "dss-asic", "dss-asic-lta", "dss-asic-xades", "dss-xades-lta")
    for p in (DATA / folder).rglob("*")
    if p.suffix.lower() in _SIGNATURE_SUFFIXES
) + sorted((DATA / "realworld").glob("*.xml"))


def _certificates_in(data: bytes) -> list[Any]:
    """Every X.509 certificate a CMS, XML or ASiC file carries (its CMS ``certificates``,
    its ``X509Certificate`` elements, those of each signature inside a ZIP)."""
    import base64
    import zipfile

    from asn1crypto import cms, x509

    found: list[Any] = []
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.upper().startswith("META-INF/"):
                    found += _certificates_in(archive.read(name))
        return found
    for b64 in re.findall(rb"X509Certificate>\s*([A-Za-z0-9+/=\s]+?)\s*</", data):
        try:
            found.append(x509.Certificate.load(base64.b64decode(b64)))
        except Exception:  # noqa: BLE001, S112 - not a certificate: left out
            continue
    try:
        signed = cms.ContentInfo.load(data)["content"]
        found += [c.chosen for c in signed["certificates"] or () if c.name == "certificate"]
    except Exception:  # noqa: BLE001, S110 - not CMS
        pass
    return found


def _where_another_format_can_pass(path: Path) -> tuple[Any, Any] | None:
    """As :func:`_where_it_can_pass`, for CAdES, XAdES and ASiC: its own self-signed
    certificates trusted (else the last one it carries), a day after the newest of them
    starts; None if it carries none."""
    from datetime import timedelta

    from verify import TrustProfile, ValidationPolicy
    from verify.policy import RevocationMode

    certs = _certificates_in(path.read_bytes())
    roots = [c for c in certs if c.self_signed != "no"] or certs[-1:]
    if not roots:
        return None
    moment = max(c.not_valid_before for c in certs) + timedelta(days=1)
    policy = ValidationPolicy(network=False, validation_time=moment, revocation=RevocationMode.SOFT)
    return TrustProfile.custom(roots, name="own roots"), policy


@pytest.mark.parametrize("path", _OTHER_VERDICT_FILES, ids=lambda p: p.name)
def test_every_speedup_together_leaves_other_formats_verdicts_as_they_were(path: Path) -> None:
    """The same for CAdES, XAdES and ASiC files (EU DSS's) and the Vietnamese e-invoice:
    the whole report is the same with every speed-up installed as with none, under the
    default trust at a fixed time, and with the file's own roots trusted a day after its
    newest certificate starts, so that chains and revocation data are checked too."""
    _same_with_and_without_speedups(
        path, _where_another_format_can_pass(path), _detached_content(path)
    )


def _same_with_and_without_speedups(
    path: Path, own_roots: tuple[Any, Any] | None, detached: Path | None = None
) -> None:
    """``path``'s whole reports, under the default trust at a fixed time and (if given)
    with its own roots, are the same with every speed-up installed as with none."""
    from datetime import UTC, datetime

    from verify import ValidationPolicy, Verifier

    policy = ValidationPolicy(network=False, validation_time=datetime(2026, 12, 4, 12, tzinfo=UTC))

    def report() -> list[dict[str, Any]]:
        verifiers = [Verifier(policy=policy)]
        if own_roots is not None:  # the chain's and the revocation data's checks run too
            verifiers.append(Verifier(*own_roots))
        found = [v.verify(path, detached=detached).to_dict() for v in verifiers]
        for one in found:
            one.pop("elapsed_ms", None)
        return found

    was = speedups.installed()
    speedups.uninstall()
    try:
        own = report()
        speedups.install()
        assert report() == own
    finally:
        speedups.uninstall()
        if was:
            speedups.install()


def _detached_content(path: Path) -> Path | None:
    """The content a detached signature file signs, where it lies beside it."""
    if path.suffix.lower() not in (".p7s", ".pkcs7", ".sig"):
        return None
    beside = [
        p for p in path.parent.iterdir() if p.suffix.lower() not in (*_SIGNATURE_SUFFIXES, ".md")
    ]
    return beside[0] if len(beside) == 1 else None


@pytest.mark.parametrize("path", _VERDICT_FILES, ids=lambda p: p.name)
def test_every_speedup_together_leaves_the_verdict_as_it_was(path: Path) -> None:
    """A document's whole report (every signature, constraint, message and certificate)
    is the same with every speed-up installed as with none: at a fixed validation time
    under the default trust, and where it can pass (its own roots trusted, at its signing
    time), so that the chain and the revocation data are checked too. EU DSS test files,
    Vietnamese signed PDFs, dossiers made as ``make demo`` makes them."""
    _same_with_and_without_speedups(path, _where_it_can_pass(path))
