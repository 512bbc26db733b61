"""The fast path: the same report as full validation, for the common case, in a fraction of
the time.

Most documents in a bulk run look alike: a PDF signed once by one of a few hundred signers
(B-B or B-T over the whole file, or B-LT: the signed revision and one update that adds the
validation data), or a detached CAdES signature. Full validation (pyHanko's
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
path and revocation reused, with the document's own path, size, hash, claimed signing
time and proven (timestamp) time.

A shape is everything that full validation looks at other than the hash and the
signature value: the signer's certificate and every certificate the CMS carries, the
digest and signature algorithms, every signed attribute except ``messageDigest`` and
``signingTime``, the signature dictionary except ``/Contents``, ``/ByteRange`` and
``/M``, the signature field, the trust profile and policy, and the validation time (a
fixed one; with "now", the window in which every OCSP response, CRL and certificate used
is current).

Only these are taken (anything else goes to full validation, which decides):

- a PDF, not encrypted, without ``/Perms`` (DocMDP, usage rights) in its catalog, whose
  AcroForm has exactly one filled signature field, a plain field (no ``/Kids``, ``/Lock``
  or ``/SV``) whose ``/V`` is an indirect ``/Sig`` dictionary stored at a file offset (not
  in an object stream) and without ``/Reference``, signed with ``/ByteRange [0 a b c]``
  where ``a..b`` is exactly that dictionary's ``/Contents`` string, and either

  - ``b + c`` is the file's length (the signature covers the whole file; no ``/DSS``), or
  - exactly one incremental update follows the signed revision (typically the DSS that
    makes a signature B-LT): no object streams, no freed objects, the signature
    dictionary not redefined, and nothing in the signed part that pyHanko could read as
    a reference to an object the update adds. The shape then holds the update's exact
    bytes, where it starts, and the earlier version (as pyHanko parses it) of every
    object it redefines: what pyHanko's difference analysis and our DSS reading look at;

- a detached CMS signature in DER;
- in both: one SignerInfo with signed attributes, no CRLs in the CMS, SHA-2 digests, RSA
  PKCS#1 v1.5 or ECDSA with the same digest, a signature (over the signed attributes) that
  verifies, and no unsigned attribute but at most one signature timestamp, itself checked
  the same way (one signer, its signature, its ``messageDigest`` over the TSTInfo, its
  message imprint over this signature value). The timestamp's shape is everything but
  its time, its own signingTime, serial number and nonce. A template made for one proven
  time serves another only if both lie between the same two *boundaries* (the validity
  dates of every certificate the signature and the timestamp carry, the dated algorithm
  rules) and compare the same way with the claimed signing time and the validation time:
  nothing in the verdict can tell them apart;
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
import bisect
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

from asn1crypto import cms, core, tsp, x509
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from verify.evidence import COLLECTING, collecting, harvest
from verify.report import DocumentReport, Indication, SubIndication

if TYPE_CHECKING:
    from verify.verifier import Verifier

__all__ = [
    "MAX_TEMPLATES",
    "adopt",
    "detached",
    "pdf",
    "record_made",
    "stats",
    "take_made",
    "template_key",
]

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
    proven: datetime | None = None
    """The time the signature timestamp proves (its ``genTime``), if there is one."""
    sha256: str | None = None
    """The document's SHA-256 (hex), when the signature's own digest already is one."""
    certs: tuple[bytes, ...] = ()
    """Every certificate the signature and its timestamp carry (DER)."""


@dataclass(frozen=True)
class _Template:
    report: DocumentReport
    window: tuple[float, float] | None
    """With validation time "now": the moments (POSIX) for which the verdict holds."""
    proven: datetime | None = None
    bounds: tuple[float, ...] = ()
    """With a timestamp: every moment (POSIX, sorted) at which a verdict could change with
    the proven time. A function of the template's key (its certificates and policy)."""
    orders: tuple[int | None, int | None] = (None, None)
    """How the proven time compared with the claimed signing time and the validation time."""


Shared = list[tuple[tuple[Any, ...], _Template]]
"""Templates on their way between processes: portable keys (see :func:`template_key`)
with their templates. They pickle."""


class _Store:
    def __init__(self) -> None:
        self.templates: OrderedDict[tuple[Any, ...], _Template] = OrderedDict()
        self.refused: set[tuple[Any, ...]] = set()
        self.keys: dict[bytes, Any] = {}
        self.cert_ids: dict[bytes, tuple[int, bytes]] = {}
        self.validity: dict[bytes, tuple[datetime, datetime]] = {}
        self.made: Shared | None = None
        """Templates made here and not yet taken (:func:`take_made`) to share."""
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
    verifier: Verifier, path: str | None, data: bytes, moment: datetime, full: FullCheck
) -> DocumentReport:
    """The report for a PDF: from a template when provably the same, else ``full()`` (the
    verifier's full validation of this document)."""

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
    full: FullCheck,
) -> DocumentReport:
    """The report for content + detached CMS: from a template when provably the same,
    else ``full()``."""

    if not _enabled(verifier):
        return await full()
    try:
        if signature[:1] != b"\x30":
            raise _NotEligible("not DER")
        info = cms.ContentInfo.load(signature, strict=True)
        parsed = _parse_cms(verifier, info, (data,), ("detached",), content_is_document=True)
    except Exception:  # noqa: BLE001 - anything unusual is full validation's to judge
        return await full()
    return await _answer(verifier, parsed, path, data, "cms", moment, full)


def _enabled(verifier: Verifier) -> bool:
    return verifier.policy.fast_path and verifier.evidence_in is None and COLLECTING.get() is None


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
    key = _key(verifier, parsed, fmt, moment)
    with store.lock:
        template = store.templates.get(key)
        if template is not None:
            store.templates.move_to_end(key)
    if (
        template is not None
        and (
            template.window is None
            or template.window[0] <= moment.timestamp() <= template.window[1]
        )
        and _same_times(template, parsed, moment)
    ):
        store.hits += 1
        return _from_template(verifier, template.report, path, data, fmt, moment, parsed)
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
    if _judged_on_times(report):
        return report  # a constraint weighed this document's own times: no template
    rebuilt = _from_template(verifier, report, path, data, fmt, moment, parsed)
    if rebuilt != report:
        # This shape is not one the fast path can rebuild exactly: never use it.
        with store.lock:
            store.refused.add(key)
        return report
    with store.lock:
        store.templates[key] = _Template(
            report,
            None if fixed else window,
            parsed.proven,
            _bounds(verifier, parsed) if parsed.proven is not None else (),
            _orders(parsed, moment),
        )
        while len(store.templates) > MAX_TEMPLATES:
            store.templates.popitem(last=False)
        if store.made is not None:
            store.made.append((_portable(key), store.templates[key]))
            del store.made[:-MAX_TEMPLATES]
    return report


_TIME_JUDGED = frozenset({"revocation_at_signing_time", "signing_time_in_certificate_validity"})


def _judged_on_times(report: DocumentReport) -> bool:
    """Whether a constraint that compares this document's own times (its claimed or
    proven signing time against a revocation or the certificate's validity) failed, at
    any level: another document of the same shape could come out otherwise."""
    return any(
        c.id in _TIME_JUDGED and c.status == "failed"
        for sig in report.signatures
        for c in sig.constraints
    )


def _key(verifier: Verifier, parsed: _Parsed, fmt: str, moment: datetime) -> tuple[Any, ...]:
    """Where a template for this document is kept: its shape, the outcome of its hash
    check, the trust profile and policy, and a fixed validation time."""
    fixed = verifier.policy.validation_time is not None
    return (
        fmt,
        parsed.shape,
        parsed.intact,
        id(verifier.trust),
        verifier.policy,
        moment if fixed else None,
    )


# -- templates shared between processes ------------------------------------------------------


def _portable(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """The key without what only means something in this process (the trust profile's
    identity: every process of one run has the same profile)."""
    return (*key[:3], None, *key[4:])


def _local(verifier: Verifier, portable: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """A portable key as this verifier keeps it; None if made under another policy."""
    if portable[4] != verifier.policy:
        return None
    return (*portable[:3], id(verifier.trust), *portable[4:])


def template_key(verifier: Verifier, data: bytes, signature: bytes | None = None) -> Any:
    """The key of the template that would answer for this document (a PDF, or content with
    its detached ``signature``), or None when the fast path would not take it or cannot
    tell without validating. Cheap: the document is parsed and hashed and its signature
    checked; nothing is fetched or validated.

    A bulk run uses it to send the first document of each new shape to a worker alone
    and hold back the others of that shape until its template is there to share."""
    if not _enabled(verifier):
        return None
    try:
        moment = verifier.policy.moment()
        if signature is None:
            return _portable(_key(verifier, _parse_pdf(verifier, data), "pdf", moment))
        if signature[:1] != b"\x30":
            return None
        info = cms.ContentInfo.load(signature, strict=True)
        parsed = _parse_cms(verifier, info, (data,), ("detached",), content_is_document=True)
        return _portable(_key(verifier, parsed, "cms", moment))
    except Exception:  # noqa: BLE001 - anything unusual: no key, the worker decides
        return None


def record_made(verifier: Verifier) -> None:
    """From now on, keep a list of the templates this verifier makes, for
    :func:`take_made` (a verifier that shares nothing keeps no list)."""
    store = _store(verifier)
    with store.lock:
        if store.made is None:
            store.made = []


def take_made(verifier: Verifier) -> Shared:
    """The templates made since :func:`record_made` or the last call, to share."""
    store = _store(verifier)
    with store.lock:
        made = store.made or []
        if store.made is not None:
            store.made = []
    return made


def adopt(verifier: Verifier, shared: Shared) -> int:
    """Keep templates that another process of the same run made (same trust profile and
    policy: the verifier it was sent). Returns how many were new here."""
    store = _store(verifier)
    new = 0
    with store.lock:
        for portable, template in shared:
            key = _local(verifier, portable)
            if key is not None and key not in store.templates:
                store.templates[key] = template
                new += 1
        while len(store.templates) > MAX_TEMPLATES:
            store.templates.popitem(last=False)
    return new


def _orders(parsed: _Parsed, moment: datetime) -> tuple[int | None, int | None]:
    def order(a: datetime | None, b: datetime | None) -> int | None:
        return None if a is None or b is None else (a > b) - (a < b)

    return order(parsed.claimed, parsed.proven), order(parsed.proven, moment)


def _bounds(verifier: Verifier, parsed: _Parsed) -> tuple[float, ...]:
    """The validity dates of every certificate carried, and the algorithm rules' dates."""
    moments = {t.timestamp() for t in verifier.policy.algorithms.time_boundaries()}
    for der in parsed.certs:
        cert = cx509.load_der_x509_certificate(der)
        moments.add(cert.not_valid_before_utc.timestamp())
        moments.add(cert.not_valid_after_utc.timestamp())
    return tuple(sorted(moments))


def _same_times(template: _Template, parsed: _Parsed, moment: datetime) -> bool:
    """A template made at one proven time speaks for another only if no verdict can tell
    them apart: both fall between the same two boundaries (certificate validity, algorithm
    rule dates) and compare the same way with the claimed signing time and the validation
    time."""
    if (template.proven is None) != (parsed.proven is None):
        return False
    if template.proven is None or parsed.proven is None:
        return True
    if template.orders != _orders(parsed, moment):
        return False
    g, g0, b = parsed.proven.timestamp(), template.proven.timestamp(), template.bounds
    return bisect.bisect_left(b, g) == bisect.bisect_left(b, g0) and bisect.bisect_right(
        b, g
    ) == bisect.bisect_right(b, g0)


def _from_template(
    verifier: Verifier,
    template: DocumentReport,
    path: str | None,
    data: bytes,
    fmt: str,
    moment: datetime,
    parsed: _Parsed,
) -> DocumentReport:
    [sig] = template.signatures
    signature = replace(sig, signing_time_claimed=parsed.claimed, validated_at=moment)
    if parsed.proven is not None:
        signature = replace(
            signature,
            signing_time_proven=parsed.proven,
            timestamps=tuple(
                replace(t, time=parsed.proven) if t.kind == "signature" else t
                for t in sig.timestamps
            ),
        )
    return DocumentReport.from_signatures(
        path, data, fmt, moment, [signature], template.warnings, parsed.sha256
    )


async def _full_with_window(
    verifier: Verifier, full: FullCheck, fixed: bool
) -> tuple[DocumentReport, tuple[float, float] | None]:
    """Full validation; with "now", also the window in which its answer stays the same."""
    if fixed:
        return await full(), None
    from verify.policy import RevocationMode

    with collecting() as contexts:
        report = await full()
    policy = verifier.policy
    try:
        evidence = harvest(report, contexts)
        starts: list[float] = []
        ends: list[float] = []
        for cert in evidence.certificates:
            starts.append(cert.not_valid_before.timestamp())
            ends.append(cert.not_valid_after.timestamp())
        if policy.revocation is not RevocationMode.OFF:
            if not evidence.ocsps and not evidence.crls:
                if policy.revocation is RevocationMode.SOFT and policy.network:
                    # a service that did not answer may answer the next time, with a
                    # revocation: nothing may be reused until it has been asked again
                    return report, None
                # No revocation data was used at all: the certificates point to no
                # service (hard), or nothing could be fetched or was embedded (offline,
                # soft). Only time changes such an answer: the certificates' validity
                # bounds the window.
                return report, (max(starts), min(ends)) if starts else None
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
    if "/Perms" in root:
        raise _NotEligible("DocMDP / usage rights")
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
    if start != 0 or a <= 0 or b <= a or b + c > len(data):
        raise _NotEligible("an unusual byte range")
    if b + c == len(data):
        if "/DSS" in root:
            raise _NotEligible("validation data in the signed revision")
        update: tuple[Any, ...] = ()
    else:
        update = _validation_data_update(reader, data, b + c, value.reference)
    if data[a : a + 1] != b"<" or data[b - 1 : b] != b">":
        raise _NotEligible("the gap is not a hex string")
    base = header.end()
    if not (base < a < b <= end) or not _CONTENTS_KEY.search(data, base, a):
        raise _NotEligible("the gap is not this dictionary's /Contents")
    view = memoryview(data)
    der = binascii.unhexlify(view[a + 1 : b - 1])  # no whitespace: checked just below
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
    signed = (view[0:a], view[b : b + c])
    # plain str and int only: pyHanko's own objects point back to their reader, and a key
    # travels between processes (see :data:`Shared`)
    ft = field.get("/FT")
    field_shape = (
        None if name is None else str(name),
        None if ft is None else str(ft),
        tuple(sorted(str(k) for k in field)),
    )
    context = ("pdf", shape_text, field_shape, update)
    return _parse_cms(verifier, info, signed, context, claimed=pdf_claimed)


_REF_TAIL = re.compile(rb"(\d+)\s+\d+\s+\Z")


def _refers_to(data: bytes, end: int, numbers: set[int]) -> bool:
    """Whether ``data[:end]`` may hold a reference to one of ``numbers``.

    pyHanko reads ``n g R`` as a reference only when it fits in 20 bytes (its
    ``INDIRECT_PATTERN`` on a 20-byte peek), so every ``R`` is looked at together with
    the 20 bytes before it. Bytes inside streams count too: a false alarm only sends the
    document to full validation.
    """
    i = data.find(b"R", 0, end)
    while i >= 0:
        found = _REF_TAIL.search(data, max(0, i - 20), i)
        if found is not None and int(found[1]) in numbers:
            return True
        i = data.find(b"R", i + 1, end)
    return False


def _validation_data_update(
    reader: Any, data: bytes, signed_end: int, signature_ref: Any
) -> tuple[Any, ...]:
    """The shape of what follows the signed revision, when it is one incremental update.

    Typically the update that makes a signature B-LT: a ``/DSS`` with certificates, OCSP
    responses and CRLs, and the catalog that points to it. pyHanko's difference analysis
    judges that update from the objects it defines, the earlier versions of the objects it
    redefines, and whatever in the signed revision refers to the objects it adds. So the
    shape holds the update's exact bytes and where it starts, and the earlier version of
    every object it redefines (as pyHanko parsed it); a signed revision that refers to any
    object the update adds is left to full validation (an update could give meaning to a
    reference that pointed nowhere when the document was signed).
    """
    xrefs = reader.xrefs
    last = xrefs.total_revisions - 1
    if last < 1:
        raise _NotEligible("bytes after the signature without a revision")
    if not (xrefs.get_startxref_for_revision(last - 1) < signed_end):
        raise _NotEligible("the signed revision is not the one before the last")
    if not (xrefs.get_startxref_for_revision(last) >= signed_end):
        raise _NotEligible("the last cross-reference section lies in the signed part")
    if any(xrefs.object_streams_used_in(r) for r in range(last + 1)):
        raise _NotEligible("object streams")
    if xrefs.refs_freed_in_revision(last):
        raise _NotEligible("the update frees objects")
    changed = sorted(xrefs.explicit_refs_in_revision(last), key=lambda r: (r.idnum, r.generation))
    if signature_ref in changed:
        raise _NotEligible("the update redefines the signature")
    earlier: list[tuple[int, int, bytes | None]] = []
    added: list[int] = []
    for ref in changed:
        if xrefs.get_historical_ref(ref, last - 1) is None:
            added.append(int(ref.idnum))
            earlier.append((int(ref.idnum), int(ref.generation), None))
            continue
        old = reader.get_object(ref, revision=last - 1)
        out = io.BytesIO()
        old.write_to_stream(out)
        earlier.append(
            (int(ref.idnum), int(ref.generation), hashlib.sha256(out.getvalue()).digest())
        )
    if added and _refers_to(data, signed_end, set(added)):
        raise _NotEligible("the signed part refers to an object the update adds")
    return (
        "update",
        signed_end,
        hashlib.sha256(memoryview(data)[signed_end:]).digest(),
        tuple(earlier),
    )


# -- CMS -----------------------------------------------------------------------------------


def _parse_cms(
    verifier: Verifier,
    info: cms.ContentInfo,
    signed: tuple[bytes | memoryview, ...],
    context: tuple[Any, ...],
    *,
    claimed: datetime | None = None,
    content_is_document: bool = False,
) -> _Parsed:
    """``signed``: the signed bytes, in pieces (hashed in turn, never joined);
    ``claimed``: the signing time claimed outside the CMS (a PDF's /M), used when the CMS
    has no signingTime; ``content_is_document``: the signed bytes are the whole document
    (detached), so a SHA-256 digest of them is also the report's."""
    from pyhanko.sign.validation.generic_cms import extract_self_reported_ts

    if info["content_type"].native != "signed_data":
        raise _NotEligible("not SignedData")
    sd = info["content"]
    encap = sd["encap_content_info"]
    if encap["content_type"].native != "data" or encap["content"].native is not None:
        raise _NotEligible("not detached data")
    si = _one_signer(sd)
    digest_name, hash_cls, kind = _algorithms(si)
    digest, types, kept = _signed_attributes(si, "signing_time")
    hasher = hashlib.new(digest_name)
    for piece in signed:
        hasher.update(piece)
    computed = hasher.digest()
    intact = computed == digest
    store = _store(verifier)
    certs, signer_der = _signer_certificate(store, sd, si)
    signature = si["signature"].native
    payload = b"\x31" + si["signed_attrs"].dump()[1:]
    _verify(store.keys, signer_der, kind, hash_cls, signature, payload)

    proven: datetime | None = None
    timestamp: tuple[Any, ...] = ()
    tst_certs: list[bytes] = []
    if not _empty(si["unsigned_attrs"]):
        timestamp, proven, tst_certs = _parse_timestamp(store, si["unsigned_attrs"], signature)

    claimed = extract_self_reported_ts(si) or claimed
    shape = (
        context,
        _signed_data_shape(sd, si, signer_der, certs, types, kept),
        timestamp,
        _claimed_fits(store, signer_der, claimed),
    )
    return _Parsed(
        shape=shape,
        claimed=claimed,
        intact=intact,
        proven=proven,
        sha256=computed.hex() if content_is_document and digest_name == "sha256" else None,
        certs=(*certs, *tst_certs),
    )


def _claimed_fits(store: _Store, signer_der: bytes, claimed: datetime | None) -> bool | None:
    """Whether the claimed signing time lies within the signer certificate's validity
    (None: no claimed time). Part of the shape: the policy's signing-time constraints
    judge it, so two documents that differ in it never share a template."""
    if claimed is None:
        return None
    validity = store.validity.get(signer_der)
    if validity is None:
        tbs = x509.Certificate.load(signer_der)["tbs_certificate"]["validity"]
        validity = (tbs["not_before"].native, tbs["not_after"].native)
        if len(store.validity) > MAX_TEMPLATES:
            store.validity.clear()
        store.validity[signer_der] = validity
    return bool(validity[0] <= claimed <= validity[1])


def _signed_data_shape(
    sd: cms.SignedData,
    si: cms.SignerInfo,
    signer_der: bytes,
    certs: list[bytes],
    types: list[str],
    kept: list[bytes],
) -> tuple[Any, ...]:
    """Everything in a SignedData and its one SignerInfo that a verdict may depend on, but
    the signed content, the digest and the signature value (checked directly)."""
    return (
        signer_der,
        tuple(certs),
        sd["version"].native,
        sd["digest_algorithms"].dump(),
        sd["encap_content_info"]["content_type"].dump(),
        si["version"].native,
        si["sid"].dump(),
        si["digest_algorithm"].dump(),
        si["signature_algorithm"].dump(),
        tuple(types),
        tuple(kept),
    )


def _empty(value: Any) -> bool:
    """An absent or empty optional field, without decoding it."""
    return isinstance(value, core.Void) or len(value) == 0


def _one_signer(sd: cms.SignedData) -> cms.SignerInfo:
    if len(sd["signer_infos"]) != 1:
        raise _NotEligible("not one signer")
    if not _empty(sd["crls"]):
        raise _NotEligible("CRLs in the CMS")
    si: cms.SignerInfo = sd["signer_infos"][0]
    if not len(si["signed_attrs"]):
        raise _NotEligible("no signed attributes")
    return si


def _algorithms(si: cms.SignerInfo) -> tuple[str, type[hashes.HashAlgorithm], str]:
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
    return digest_name, hash_cls, kind


def _signed_attributes(si: cms.SignerInfo, *varying: str) -> tuple[bytes, list[str], list[bytes]]:
    """The ``messageDigest``, the attribute types in order, and every attribute but the
    digest and the ``varying`` ones (which differ from document to document)."""
    digests: list[bytes] = []
    kept: list[bytes] = []
    types: list[str] = []
    for attr in si["signed_attrs"]:
        kind_name = attr["type"].native
        types.append(kind_name)
        if kind_name == "message_digest":
            values = attr["values"]
            if len(values) != 1:
                raise _NotEligible("several message digests")
            digests.append(values[0].native)
        elif kind_name not in varying:
            kept.append(attr.dump())
    if len(digests) != 1 or len(set(types)) != len(types):
        raise _NotEligible("repeated attributes")
    return digests[0], types, kept


def _signer_certificate(
    store: _Store, sd: cms.SignedData, si: cms.SignerInfo
) -> tuple[list[bytes], bytes]:
    """Every certificate the CMS carries (DER), and the signer's."""
    certs: list[bytes] = []
    ids: list[tuple[int, bytes]] = []
    for choice in sd["certificates"] or ():
        if choice.name != "certificate":
            raise _NotEligible("other certificate formats")
        der = choice.chosen.dump()
        found = store.cert_ids.get(der)
        if found is None:
            cert = choice.chosen
            found = (cert.serial_number, cert.issuer.dump())
            if len(store.cert_ids) > MAX_TEMPLATES:
                store.cert_ids.clear()
            store.cert_ids[der] = found
        certs.append(der)
        ids.append(found)
    sid = si["sid"]
    if sid.name != "issuer_and_serial_number":
        raise _NotEligible("signer identified by key identifier")
    wanted = (sid.chosen["serial_number"].native, sid.chosen["issuer"].dump())
    matching = [der for der, found in zip(certs, ids, strict=True) if found == wanted]
    if len(matching) != 1:
        raise _NotEligible("signer certificate not found exactly once")
    return certs, matching[0]


def _parse_timestamp(
    store: _Store, unsigned: cms.CMSAttributes, signature: bytes
) -> tuple[tuple[Any, ...], datetime, list[bytes]]:
    """A signature timestamp checked like the signature: the token's own signature with
    ``cryptography``, its ``messageDigest`` over the TSTInfo, its imprint over the signature
    value. Returns its shape (everything but the time, its signingTime, serial number and
    nonce, and the values just checked), the time it proves, and its certificates."""
    if len(unsigned) != 1:
        raise _NotEligible("unsigned attributes other than one timestamp")
    attr = unsigned[0]
    if attr["type"].native != "signature_time_stamp_token" or len(attr["values"]) != 1:
        raise _NotEligible("unsigned attributes other than one timestamp")
    token = attr["values"][0]
    if token["content_type"].native != "signed_data":
        raise _NotEligible("a timestamp that is not SignedData")
    tsd = token["content"]
    eci = tsd["encap_content_info"]
    if eci["content_type"].native != "tst_info":
        raise _NotEligible("a timestamp without TSTInfo")
    tst_info = eci["content"].parsed
    if not isinstance(tst_info, tsp.TSTInfo):
        raise _NotEligible("a timestamp without TSTInfo")
    si = _one_signer(tsd)
    if not _empty(si["unsigned_attrs"]):
        raise _NotEligible("unsigned attributes in the timestamp")
    digest_name, hash_cls, kind = _algorithms(si)
    # A TSA's own signingTime (certomancer's, for one) repeats the genTime; neither pyHanko
    # nor this library reads it from a timestamp token.
    digest, types, kept = _signed_attributes(si, "signing_time")
    if hashlib.new(digest_name, eci["content"].contents).digest() != digest:
        raise _NotEligible("the timestamp's digest does not match its TSTInfo")
    certs, tsa_der = _signer_certificate(store, tsd, si)
    payload = b"\x31" + si["signed_attrs"].dump()[1:]
    _verify(store.keys, tsa_der, kind, hash_cls, si["signature"].native, payload)
    imprint = tst_info["message_imprint"]
    imprint_algo = imprint["hash_algorithm"]["algorithm"].native
    if imprint_algo not in _HASHES or imprint["hash_algorithm"]["parameters"].native is not None:
        raise _NotEligible("the timestamp's imprint algorithm")
    if hashlib.new(imprint_algo, signature).digest() != imprint["hashed_message"].native:
        raise _NotEligible("the timestamp is not over this signature")
    gen_time = tst_info["gen_time"].native
    if not isinstance(gen_time, datetime) or gen_time.tzinfo is None:
        raise _NotEligible("an unusual timestamp time")
    shape = (
        attr["type"].dump(),
        token["content_type"].dump(),
        _signed_data_shape(tsd, si, tsa_der, certs, types, kept),
        tst_info["version"].native,
        tst_info["policy"].dump(),
        imprint["hash_algorithm"].dump(),
        tst_info["accuracy"].dump(),
        tst_info["ordering"].native,
        tst_info["nonce"].native is not None,
        tst_info["tsa"].dump(),
        tst_info["extensions"].dump(),
    )
    return shape, gen_time, certs


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
