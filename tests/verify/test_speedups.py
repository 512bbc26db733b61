"""The tokenizer speed-ups given to pyHanko's reader give exactly pyHanko's own results.

``verify.speedups.fast_read_until_class`` and ``fast_decode_name`` replace two functions of
pyHanko's tokenizer when :func:`verify.speedups.install` is called; these tests compare
them with the originals on random input, and compare whole documents read both ways.
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
from pyhanko.pdf_utils.misc import PDF_DELIMITERS, PDF_WHITESPACE
from pyhanko.pdf_utils.reader import PdfFileReader

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
