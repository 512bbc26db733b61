"""Speed-ups for third-party code, installed explicitly, for the versions they were proven on.

Two functions of the libraries under the verifier are slow for bulk work; each replacement
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
- asn1crypto prepares every certificate name value for comparison (RFC 4518, in pure
  Python) once per parsed certificate object, and every document parses its certificates
  afresh. The preparation is a pure function of the string, so its result is memoised by
  string, in a bounded table.

Nothing is replaced when :mod:`verify` is imported. :func:`install` replaces them all, for the
versions in :data:`PROVEN` only (another version keeps its own functions, and
:func:`install` says why); :func:`uninstall` puts the originals back. The bulk path
(:func:`verify.verify_many`) and the ``verify`` command line install them; a library
caller who wants them calls :func:`install` once.
"""

from __future__ import annotations

import binascii
import functools
import importlib.metadata
import re
import threading
from typing import Any

__all__ = [
    "PROVEN",
    "install",
    "installed",
    "original_hex_reader",
    "original_name_decoder",
    "original_read_until_class",
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


def _version(package: str) -> str | None:
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
        ):
            found = _version(package)
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
