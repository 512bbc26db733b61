"""The fast path: the same report as full validation, for the common case, in a fraction of
the time.

Most documents in a bulk run look alike: a PDF signed once, over the whole file, by one of
a few hundred signers, or a detached CAdES-B-B signature. Full validation (pyHanko's
parser and difference analysis, pyhanko-certvalidator's path building and revocation
checks) spends almost all its time on what is the same for every such document: the
signer's certificate path and its revocation status at the validation time.

So the first document of each *shape* (and outcome of the hash check) goes through full
validation. If its report is TOTAL_PASSED (or, when the hash did not match, TOTAL_FAILED /
HASH_FAILURE), the fast path rebuilds that report from what it parsed itself and keeps it
as a *template* only if the rebuilt report is identical. A later document of the same
shape is then checked directly: the signature dictionary, ``/ByteRange`` and CMS are
parsed from the bytes (``bytes.fromhex``), the signed bytes hashed with :mod:`hashlib`,
the signature verified with ``cryptography``, and the template's verdict on the signer's
path and revocation reused, with the document's own path, size, hash and claimed signing
time.

A shape is everything that full validation looks at other than the hash and the
signature value: the signer's certificate and every certificate the CMS carries, the
digest and signature algorithms, every signed attribute except ``messageDigest`` and
``signingTime``, the signature dictionary except ``/Contents``, ``/ByteRange`` and
``/M``, the signature field, the trust profile and policy, and the validation time (a
fixed one; with "now", the window in which every OCSP response, CRL and certificate used
is current).

Only these are taken (anything else goes to full validation, which decides):

- a PDF, not encrypted, without ``/Perms`` (DocMDP, usage rights) or ``/DSS`` in its
  catalog, whose AcroForm has exactly one filled signature field, a plain field (no
  ``/Kids``, ``/Lock`` or ``/SV``) whose ``/V`` is an indirect ``/Sig`` dictionary stored
  at a file offset (not in an object stream) and without ``/Reference``, signed with
  ``/ByteRange [0 a b c]`` where ``a..b`` is exactly that dictionary's ``/Contents`` string
  and ``b + c`` is the file's length: the signature covers the whole file, there is no
  later revision;
- a detached CMS signature in DER;
- in both: one SignerInfo with signed attributes and no unsigned ones (so no timestamp),
  no CRLs in the CMS, SHA-2 digests, RSA PKCS#1 v1.5 or ECDSA with the same digest, and
  a signature (over the signed attributes) that verifies;
- a verifier without ``evidence_in``, not collecting evidence, with
  ``ValidationPolicy.fast_path`` on.

A signature that does not verify always gets full validation. The fast path only ever
repeats a verdict that full validation gave for the same shape and the same outcome of the
hash check: TOTAL_PASSED when the ``messageDigest`` matches, TOTAL_FAILED / HASH_FAILURE
when it does not (the content was changed after signing; full validation judges such a
signature without looking further).
"""

from __future__ import annotations

import binascii
import hashlib
import io
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asn1crypto import cms
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from verify.report import DocumentReport, Indication, SubIndication

if TYPE_CHECKING:
    from verify.verifier import Verifier

__all__ = ["MAX_TEMPLATES", "detached", "pdf", "stats"]

MAX_TEMPLATES = 4096
"""Templates kept per verifier (least recently used dropped first)."""

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_SIG_DIGEST = {
    "sha256_rsa": "sha256",
    "sha384_rsa": "sha384",
    "sha512_rsa": "sha512",
    "sha256_ecdsa": "sha256",
    "sha384_ecdsa": "sha384",
    "sha512_ecdsa": "sha512",
}

_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")
_OBJ_HEADER = re.compile(rb"\s*(\d+)\s+(\d+)\s+obj\b")
_PDF_DATE = re.compile(rb"/M\s*\(((?:[0-9A-Z+\-':]|\\[0-7]{3}){4,40})\)")
_OCTAL = re.compile(rb"\\([0-7]{3})")
_CONTENTS_KEY = re.compile(rb"/Contents\s*$")


class _NotEligible(Exception):
    """The document is not one the fast path handles: full validation decides."""


@dataclass(frozen=True)
class _Parsed:
    """What the fast path read from one document."""

    shape: tuple[Any, ...]
    claimed: datetime | None
    """The signing time the signer claims (signingTime attribute, else the PDF's /M)."""
    intact: bool = True
    """The ``messageDigest`` matches the signed bytes."""


@dataclass(frozen=True)
class _Template:
    report: DocumentReport
    window: tuple[float, float] | None
    """With validation time "now": the moments (POSIX) for which the verdict holds."""


class _Store:
    def __init__(self) -> None:
        self.templates: OrderedDict[tuple[Any, ...], _Template] = OrderedDict()
        self.refused: set[tuple[Any, ...]] = set()
        self.keys: dict[bytes, Any] = {}
        self.lock = threading.Lock()
        self.hits = 0
        self.misses = 0


_STORES: weakref.WeakKeyDictionary[Verifier, _Store] = weakref.WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def _store(verifier: Verifier) -> _Store:
    with _STORES_LOCK:
        found = _STORES.get(verifier)
        if found is None:
            found = _STORES[verifier] = _Store()
        return found


def stats(verifier: Verifier) -> dict[str, int]:
    """How often the fast path answered (hits) or handed over to full validation."""
    store = _store(verifier)
    return {"hits": store.hits, "misses": store.misses, "templates": len(store.templates)}


# -- entry points (called by the Verifier) ----------------------------------------------------

FullCheck = Callable[[], Awaitable[DocumentReport]]


async def pdf(
    verifier: Verifier, path: str | None, data: bytes, moment: datetime
) -> DocumentReport:
    """The report for a PDF: from a template when provably the same, else full validation."""

    def full() -> Awaitable[DocumentReport]:
        return verifier._verify_pdf_bytes(path, data, moment)

    if not _enabled(verifier):
        return await full()
    try:
        parsed = _parse_pdf(verifier, data)
    except Exception:  # noqa: BLE001 - anything unusual is full validation's to judge
        return await full()
    return await _answer(verifier, parsed, path, data, "pdf", moment, full)


async def detached(
    verifier: Verifier,
    path: str | None,
    data: bytes,
    signature: bytes,
    moment: datetime,
) -> DocumentReport:
    """The report for content + detached CMS: from a template when provably the same."""

    def full() -> Awaitable[DocumentReport]:
        return verifier._verify_detached_bytes(path, data, signature, moment)

    if not _enabled(verifier):
        return await full()
    try:
        if signature[:1] != b"\x30":
            raise _NotEligible("not DER")
        info = cms.ContentInfo.load(signature, strict=True)
        parsed = _parse_cms(verifier, info, data, ("detached",))
    except Exception:  # noqa: BLE001 - anything unusual is full validation's to judge
        return await full()
    return await _answer(verifier, parsed, path, data, "cms", moment, full)


def _enabled(verifier: Verifier) -> bool:
    from verify.verifier import _COLLECTING  # the verifier imports us: no cycle at load

    return verifier.policy.fast_path and verifier.evidence_in is None and _COLLECTING.get() is None


async def _answer(
    verifier: Verifier,
    parsed: _Parsed,
    path: str | None,
    data: bytes,
    fmt: str,
    moment: datetime,
    full: FullCheck,
) -> DocumentReport:
    store = _store(verifier)
    fixed = verifier.policy.validation_time is not None
    key = (
        fmt,
        parsed.shape,
        parsed.intact,
        id(verifier.trust),
        verifier.policy,
        moment if fixed else None,
    )
    with store.lock:
        template = store.templates.get(key)
        if template is not None:
            store.templates.move_to_end(key)
    if template is not None and (
        template.window is None or template.window[0] <= moment.timestamp() <= template.window[1]
    ):
        store.hits += 1
        return _from_template(verifier, template.report, path, data, fmt, moment, parsed.claimed)
    store.misses += 1
    if key in store.refused:
        return await full()
    report, window = await _full_with_window(verifier, full, fixed)
    expected = (
        (Indication.TOTAL_PASSED, None)
        if parsed.intact
        else (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)
    )
    if (report.indication, report.sub_indication) != expected or (not fixed and window is None):
        return report
    rebuilt = _from_template(verifier, report, path, data, fmt, moment, parsed.claimed)
    if rebuilt != report:
        # This shape is not one the fast path can rebuild exactly: never use it.
        with store.lock:
            store.refused.add(key)
        return report
    with store.lock:
        store.templates[key] = _Template(report, None if fixed else window)
        while len(store.templates) > MAX_TEMPLATES:
            store.templates.popitem(last=False)
    return report


def _from_template(
    verifier: Verifier,
    template: DocumentReport,
    path: str | None,
    data: bytes,
    fmt: str,
    moment: datetime,
    claimed: datetime | None,
) -> DocumentReport:
    [sig] = template.signatures
    signature = replace(sig, signing_time_claimed=claimed, validated_at=moment)
    return verifier._document(path, data, fmt, moment, [signature], None, template.warnings)


async def _full_with_window(
    verifier: Verifier, full: FullCheck, fixed: bool
) -> tuple[DocumentReport, tuple[float, float] | None]:
    """Full validation; with "now", also the window in which its answer stays the same."""
    if fixed:
        return await full(), None
    from verify.policy import RevocationMode
    from verify.verifier import _COLLECTING, _harvest

    contexts: list[Any] = []
    token = _COLLECTING.set(contexts)
    try:
        report = await full()
    finally:
        _COLLECTING.reset(token)
    if verifier.policy.revocation is RevocationMode.SOFT:
        return report, None
    try:
        evidence = _harvest(report, contexts)
        starts: list[float] = []
        ends: list[float] = []
        for cert in evidence.certificates:
            starts.append(cert.not_valid_before.timestamp())
            ends.append(cert.not_valid_after.timestamp())
        if verifier.policy.revocation is not RevocationMode.OFF:
            if not evidence.ocsps and not evidence.crls:
                return report, None
            for ocsp in evidence.ocsps:
                for single in ocsp.basic_ocsp_response["tbs_response_data"]["responses"]:
                    this, nxt = single["this_update"].native, single["next_update"].native
                    if nxt is None:
                        return report, None
                    starts.append(this.timestamp())
                    ends.append(nxt.timestamp())
            for crl in evidence.crls:
                tbs = crl["tbs_cert_list"]
                this, nxt = tbs["this_update"].native, tbs["next_update"].native
                if nxt is None:
                    return report, None
                starts.append(this.timestamp())
                ends.append(nxt.timestamp())
        if not starts or not ends:
            return report, None
        return report, (max(starts), min(ends))
    except Exception:  # noqa: BLE001 - no window, no template
        return report, None


# -- PDF ---------------------------------------------------------------------------------------


def _parse_pdf(verifier: Verifier, data: bytes) -> _Parsed:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.reader import PdfFileReader

    if not data.startswith(b"%PDF-"):
        raise _NotEligible("not a PDF from its first byte")
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    if reader.encrypted:
        raise _NotEligible("encrypted")
    root = reader.root
    if "/Perms" in root or "/DSS" in root:
        raise _NotEligible("DocMDP / usage rights / DSS")
    fields = root["/AcroForm"].raw_get("/Fields")
    if isinstance(fields, generic.IndirectObject):
        fields = fields.get_object()  # type: ignore[no-untyped-call]
    if not isinstance(fields, generic.ArrayObject):
        raise _NotEligible("no field list")
    filled: list[tuple[str, generic.DictionaryObject, generic.IndirectObject]] = []
    for ref in fields:
        if not isinstance(ref, generic.IndirectObject):
            raise _NotEligible("a direct field")
        field = ref.get_object()  # type: ignore[no-untyped-call]
        if not isinstance(field, generic.DictionaryObject):
            raise _NotEligible("a field that is not a dictionary")
        if "/Kids" in field or "/Parent" in field or "/T" not in field:
            raise _NotEligible("a field tree")
        if isinstance(field.raw_get("/FT"), generic.IndirectObject):
            raise _NotEligible("an indirect field type")
        if field.get("/FT") != "/Sig":
            continue
        if "/Lock" in field or "/SV" in field:
            raise _NotEligible("field locks or seed values")
        value = field.raw_get("/V") if "/V" in field else None
        if value is None or isinstance(value, generic.NullObject):
            continue
        if not isinstance(value, generic.IndirectObject):
            raise _NotEligible("a direct signature value")
        filled.append((str(field["/T"]), field, value))
    if len(filled) != 1:
        raise _NotEligible("not exactly one signature")
    name, field, value = filled[0]
    where = reader.xrefs[value.reference]
    if not isinstance(where, int):
        raise _NotEligible("signature dictionary in an object stream")
    header = _OBJ_HEADER.match(data, where)
    if header is None or (int(header[1]), int(header[2])) != (value.idnum, value.generation):
        raise _NotEligible("xref does not point at the signature dictionary")
    end = data.find(b"endobj", header.end())
    if end < 0:
        raise _NotEligible("unterminated object")
    text = data[header.end() : end]
    if text.count(b"/ByteRange") != 1 or text.count(b"/Contents") != 1:
        raise _NotEligible("ambiguous signature dictionary")
    if b"/Reference" in text or b"/DocTimeStamp" in text:
        raise _NotEligible("DocMDP/FieldMDP references or a document timestamp")
    br = _BYTE_RANGE.search(text)
    if br is None:
        raise _NotEligible("no plain /ByteRange")
    start, a, b, c = (int(x) for x in br.groups())
    if start != 0 or a <= 0 or b <= a or b + c != len(data):
        raise _NotEligible("the signature does not cover the whole file")
    if data[a : a + 1] != b"<" or data[b - 1 : b] != b">":
        raise _NotEligible("the gap is not a hex string")
    base = header.end()
    if not (base < a < b <= end) or not _CONTENTS_KEY.search(data, base, a):
        raise _NotEligible("the gap is not this dictionary's /Contents")
    der = bytes.fromhex(data[a + 1 : b - 1].decode("ascii"))
    if 2 * len(der) != b - a - 2:
        raise _NotEligible("whitespace in /Contents")
    # the dictionary, without what differs from document to document
    rest_start, rest_end = a - base, b - base
    shape_text = text[:rest_start] + text[rest_end:]
    shape_text = _BYTE_RANGE.sub(b"/ByteRange[]", shape_text, count=1)
    m_date = _PDF_DATE.search(shape_text)
    pdf_claimed = None
    if m_date is not None:
        if len(_PDF_DATE.findall(shape_text)) != 1:
            raise _NotEligible("several /M")
        raw_date = _OCTAL.sub(lambda m: bytes([int(m[1], 8)]), m_date[1])
        if not re.fullmatch(rb"D:[0-9+\-Z']{4,32}", raw_date):
            raise _NotEligible("an unusual /M")
        pdf_claimed = generic.parse_pdf_date(raw_date.decode("ascii"), strict=False)
        shape_text = shape_text[: m_date.start()] + b"/M()" + shape_text[m_date.end() :]
    elif b"/M" in shape_text.replace(b"/MD", b""):
        raise _NotEligible("an /M that is not a plain date")
    info = cms.ContentInfo.load(der)
    signed = data[0:a] + data[b : b + c]
    field_shape = (name, field.get("/FT"), tuple(sorted(str(k) for k in field)))
    parsed = _parse_cms(verifier, info, signed, ("pdf", shape_text, field_shape))
    if parsed.claimed is None:
        parsed = replace(parsed, claimed=pdf_claimed)
    return parsed


# -- CMS -----------------------------------------------------------------------------------


def _parse_cms(
    verifier: Verifier, info: cms.ContentInfo, signed: bytes, context: tuple[Any, ...]
) -> _Parsed:
    from pyhanko.sign.validation.generic_cms import extract_self_reported_ts

    if info["content_type"].native != "signed_data":
        raise _NotEligible("not SignedData")
    sd = info["content"]
    encap = sd["encap_content_info"]
    if encap["content_type"].native != "data" or encap["content"].native is not None:
        raise _NotEligible("not detached data")
    if len(sd["signer_infos"]) != 1:
        raise _NotEligible("not one signer")
    if sd["crls"].native:
        raise _NotEligible("CRLs in the CMS")
    si = sd["signer_infos"][0]
    if si["unsigned_attrs"].native:
        raise _NotEligible("unsigned attributes (timestamps)")
    attrs = si["signed_attrs"]
    if not len(attrs):
        raise _NotEligible("no signed attributes")
    digest_name = si["digest_algorithm"]["algorithm"].native
    hash_cls = _HASHES.get(digest_name)
    if hash_cls is None:
        raise _NotEligible("digest algorithm")
    sig_algo = si["signature_algorithm"]["algorithm"].native
    if sig_algo in ("rsassa_pkcs1v15", "rsa"):
        kind = "rsa"
    elif sig_algo in _SIG_DIGEST:
        if _SIG_DIGEST[sig_algo] != digest_name:
            raise _NotEligible("signature and digest algorithms disagree")
        kind = "ec" if sig_algo.endswith("ecdsa") else "rsa"
    else:
        raise _NotEligible("signature algorithm")

    digests: list[bytes] = []
    kept: list[bytes] = []
    types: list[str] = []
    for attr in attrs:
        kind_name = attr["type"].native
        types.append(kind_name)
        if kind_name == "message_digest":
            values = attr["values"]
            if len(values) != 1:
                raise _NotEligible("several message digests")
            digests.append(values[0].native)
        elif kind_name != "signing_time":
            kept.append(attr.dump())
    if len(digests) != 1 or types.count("signing_time") > 1 or len(set(types)) != len(types):
        raise _NotEligible("repeated attributes")
    intact = hashlib.new(digest_name, signed).digest() == digests[0]

    certs = []
    for choice in sd["certificates"] or ():
        if choice.name != "certificate":
            raise _NotEligible("other certificate formats")
        certs.append(choice.chosen)
    sid = si["sid"]
    if sid.name != "issuer_and_serial_number":
        raise _NotEligible("signer identified by key identifier")
    issuer = sid.chosen["issuer"].dump()
    serial = sid.chosen["serial_number"].native
    matching = [c for c in certs if c.serial_number == serial and c.issuer.dump() == issuer]
    if len(matching) != 1:
        raise _NotEligible("signer certificate not found exactly once")
    signer = matching[0]
    signer_der = signer.dump()

    raw = attrs.dump()
    payload = b"\x31" + raw[1:]
    _verify(_store(verifier).keys, signer_der, kind, hash_cls, si["signature"].native, payload)

    shape = (
        context,
        hashlib.sha256(signer_der).digest(),
        tuple(hashlib.sha256(c.dump()).digest() for c in certs),
        sd["version"].native,
        sd["digest_algorithms"].dump(),
        si["version"].native,
        sid.dump(),
        si["digest_algorithm"].dump(),
        si["signature_algorithm"].dump(),
        tuple(types),
        tuple(kept),
        encap.dump(),
    )
    return _Parsed(shape=shape, claimed=extract_self_reported_ts(si), intact=intact)


def _verify(
    keys: dict[bytes, Any],
    cert_der: bytes,
    kind: str,
    hash_cls: type[hashes.HashAlgorithm],
    signature: bytes,
    payload: bytes,
) -> None:
    key = keys.get(cert_der)
    if key is None:
        key = cx509.load_der_x509_certificate(cert_der).public_key()
        if len(keys) > MAX_TEMPLATES:
            keys.clear()
        keys[cert_der] = key
    try:
        if kind == "rsa" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, payload, padding.PKCS1v15(), hash_cls())
        elif kind == "ec" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, payload, ec.ECDSA(hash_cls()))
        else:
            raise _NotEligible("key and algorithm disagree")
    except InvalidSignature:
        raise _NotEligible("the signature does not verify") from None


# -- a faster hex string reader for pyHanko's parser ---------------------------------------------
#
# Full validation parses the signature dictionary with pyHanko, whose reader decodes a hex
# string one byte at a time in Python: for the ``/Contents`` of a B-LT signature (tens of
# kilobytes of hex) that is a third of the time spent on the document. The replacement
# below gives the same object and leaves the stream at the same place for every input: it
# decodes the common case (only hex digits up to ``>``) with ``binascii`` in one step, and
# hands anything else (whitespace, comments, a bad character, no ``>``) to pyHanko's own
# function, from the same starting position.

_HEX_ONLY = re.compile(rb"[0-9a-fA-F]*")
_HEX_CHUNK = 1 << 16


def _fast_read_hex_string_from_stream(stream: Any) -> Any:
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
    return _ORIGINAL_READ_HEX(stream)


def _install_hex_reader() -> Any:
    from pyhanko.pdf_utils import generic

    original = generic.read_hex_string_from_stream
    original = getattr(original, "__wrapped__", original)
    _fast_read_hex_string_from_stream.__wrapped__ = original  # type: ignore[attr-defined]
    generic.read_hex_string_from_stream = _fast_read_hex_string_from_stream
    return original


_ORIGINAL_READ_HEX = _install_hex_reader()


# -- a memo for certificate name comparison ------------------------------------------------
#
# pyhanko-certvalidator compares and indexes certificate names many times per document, and
# asn1crypto prepares every name value for comparison (RFC 4518 string preparation, in pure
# Python) once per parsed certificate object: every document parses its certificates
# afresh, so the same few CA and signer names are prepared again for every document. The
# preparation is a pure function of the string (``_ldap_string_prep`` does not look at its
# object), so its result is memoised by string, in a bounded table.

_PREP_MEMO_MAX = 16_384


def _install_string_prep_memo() -> Any:
    from asn1crypto import x509 as asn1_x509

    original = asn1_x509.NameTypeAndValue._ldap_string_prep
    original = getattr(original, "__wrapped__", original)
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

    _ldap_string_prep.__wrapped__ = original  # type: ignore[attr-defined]
    asn1_x509.NameTypeAndValue._ldap_string_prep = _ldap_string_prep
    return original


_ORIGINAL_STRING_PREP = _install_string_prep_memo()
