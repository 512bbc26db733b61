"""The fast path: the same report as full validation, for the common case, in a fraction of
the time.

Most documents in a bulk run look alike: a PDF signed once by one of a few hundred signers
(B-B or B-T over the whole file, or B-LT: the signed revision and one update that adds the
validation data), a PDF signed by a citizen and countersigned by an official in a later
revision, or a detached CAdES signature. Full validation (pyHanko's parser and difference
analysis, pyhanko-certvalidator's path building and revocation checks, the comparison of
rendered pages after a later revision) spends almost all its time on what is the same for
every such document: the signers' certificate paths and their revocation status at the
validation time, and what the later revisions changed.

So the first document of each *shape* (and outcome of each signature's hash check) goes
through full validation. If each signature's report is TOTAL_PASSED (or, when its hash did
not match, TOTAL_FAILED / HASH_FAILURE), the fast path rebuilds the report from what it
parsed itself and keeps it as a *template* only if the rebuilt report is identical. A
later document of the same shape is then checked directly (the catalog and the signature
fields of the plainest files read from the bytes by :func:`_outline_from_bytes`, which
gives what pyHanko's reader gives or declines; other files through pyHanko's reader):
each signature dictionary, ``/ByteRange`` and CMS are parsed from the bytes
(``bytes.fromhex``; the CMS split into the values that differ per document and its
skeleton by :mod:`verify.fastpath_cms`, asn1crypto reading a skeleton's shape once), the
signed bytes hashed with :mod:`hashlib`, each signature verified with ``cryptography``,
and the template's verdicts reused, with the document's own path, size, hash, and each
signature's claimed signing time and proven (timestamp) time.

A shape is everything that full validation looks at other than the hashes and the
signature values: for each signature, the signer's certificate and every certificate the
CMS carries, the digest and signature algorithms, every signed attribute except
``messageDigest`` and ``signingTime``, the signature dictionary except ``/Contents``,
``/ByteRange`` and ``/M``, and the signature field; for a PDF with revisions after the
first signature, its *structure* (below); the trust profile and policy, and the validation
time (a fixed one; with "now", the window of moments that lie on the same side of every
date the verdict used as now does, a margin clear of a date already passed: every certificate's
validity, every OCSP response's and CRL's this and next update, the dated algorithm
rules. So a certificate current, expired or not yet valid now is so in the whole
window).

Only these are taken (anything else goes to full validation, which decides):

- a PDF, not encrypted, without ``/Perms`` (DocMDP, usage rights) in its catalog, whose
  AcroForm's fields are plain fields, or fields whose kids are only their widgets (no
  field, and so no signature, among them), each filled signature field's ``/V``
  an indirect ``/Sig`` dictionary (not a document timestamp, no DocMDP) stored at a file
  offset, signed with ``/ByteRange [0 a b c]`` where ``a..b`` is exactly that
  dictionary's ``/Contents`` string, and either

  - one signature over the whole file (no ``/DSS``, no field lock or seed value, no
    ``/Reference``), or
  - signatures each ending at the ``%%EOF`` of its own revision, the first followed by
    later revisions (another signature's, the DSS that makes one B-LT): plain
    cross-reference tables throughout (no cross-reference or object streams), nothing freed
    after the first signature, no signature dictionary redefined after it was signed.
    The *structure* is then every byte of the file but (a) the data of the streams of
    the first signed revision (page content, fonts, images: what differs from one
    document to the next), (b) each signature's ``/Contents`` and ``/M`` values, (c)
    what each later revision writes anew every time: the second part of its ``/ID``, the
    dates of the document information it writes, and the name of each DSS ``/VRI`` entry
    that names one of the document's signatures (held as which signature it names: see
    :func:`_vri_names`), (d) the data of the appearance
    stream of each later signature's visible widget (its *stamp*: the signer's name and
    the time), (e) the data of the DSS's OCSP answers and CRLs, each held by its *class*
    instead (what it says but its times and an OCSP answer's nonce, and which
    certificate's key verifies it, checked for each document) and their times by their
    order among every time a verdict weighs them against (:func:`_time_order`), so that
    documents whose signer fetched the validation data anew for each share a structure
    (where the answers' lengths or order differ from one document to the next, the
    offsets do too: such a document, when no template serves its structure, is read
    object by object as well, below, and served by a template of that reading);
    with the places of all these. It is taken only when (once per structure)
    pyHanko reads exactly (a), (d) and (e) as those streams' data (so its parse and
    difference analysis are the same for every document of the structure), every later
    revision only adds signatures, their widgets (appended to ``/Annots`` and ``/Fields``) of zero
    area or with one unfiltered form XObject as appearance that nothing else refers to,
    validation data (all of it written after the first signature) and document
    information, changing nothing any page drawing reads (so the rendered pages compared
    after form filling are alike whatever (a) holds, but inside the stamps), nothing but
    a trailer refers to the information whose dates are left out, and the first signed
    revision refers to nothing the later ones add. A stamp's drawing is clipped to its
    widget, which the rendered comparison allows a new signature to draw in unless the
    signed page has content under it: so each document is taken only when its signed
    page, drawn as the comparison draws it, is blank under every stamp;
  - or, when its revisions keep their cross-reference data in streams (a PDF/A form by
    WeasyPrint, signed, given its DSS and countersigned by pyHanko: the dossier ``make
    demo`` makes), signatures each ending at its own revision's ``%%EOF`` whose
    structure is read object by object (:mod:`verify.fastpath_objects`): every object
    written from the first signed revision on, whole but for what each document writes
    anew (the signatures' values and dates, the signers' own words, the document
    information, the XMP metadata's data, for which whether each version is well-formed
    counts instead, the names of the DSS's VRI entries, the order of its OCSP answers,
    certificates and CRLs where no two answer for one certificate or share a name, and
    what the signatures' stamps draw, held as their skeletons with their decoded size
    bounded for each document), the bytes between those objects, and the
    document before its first signature as pyHanko's difference analysis reads it (the
    catalog, the page tree, the annotations and the field tree whole, every other object
    as its references, keys and ``/Type``); taken on the same terms as above (later
    revisions that only add signatures, their widgets and validation data; each
    document's signed page blank under every later stamp), and also when later revisions
    fill in form fields (a text, a choice or several, a check box, a radio group: a
    field's value, its widgets' appearance states and new appearances), each filled
    field's value held as its kind only and the signed page blank under each filled
    widget (see :meth:`verify.fastpath_objects._Roles._fills`);

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

XML (e-invoices, tax messages: :func:`xml`) works the other way round: the reader first
does everything that is per document (one hardened parse, one Id index, the wrapping and
placement checks, each Reference's digest over its canonical form under both readings,
the SignatureValue over the canonical SignedInfo, the invoice's facts from the signed
elements) and asks the fast path only for what follows, the judgement of each signer (its
path, trust, revocation, the policy's constraints). The *shape* is, for each Signature in
document order: its role (the place it sits in: ``DSCKS/NBan``, ``DSCKS/CQT``...), what its
references cover and the reading they verify under, its digest and signature algorithms,
its signer's certificate and every KeyInfo certificate, whether it claims a signing time
and whether that time lies within the signer's certificate, and how the invoice's seller
tax code compares with the certificate's. Only intact signatures without XAdES
properties are taken; the template's report gets the document's own path, size, hash,
facts, and each signature's Id and claimed time. With a fixed validation time the signer's
path is judged once (:meth:`verify.engine.Engine.signer_check`); with "now", as for a PDF,
a template serves the moments within its window: the validity of every certificate used,
the freshness of every OCSP response and CRL used, and the dated algorithm rules.

Still validated in full every time: later revisions that add an annotation or page
content, or change a form field other than by filling it in (only the rendered
comparison can judge what they show), a filled field or a visible signature over signed
page content, or (with plain tables) whose appearance is
compressed or not its widget's alone, document timestamps (B-LTA), certified documents,
documents with plain tables whose later revisions lie elsewhere in the file (a signed
revision or a stamp of another length: the offsets differ, and so does the structure),
and files that mix tables and streams or carry comments between their revisions. A
linearized file's first revision (its main cross-reference section at the revision's end,
its first page's near the start: :func:`_linearized`) is read as one signed revision,
byte for byte only: later revisions that the object-by-object reading would need (filled
fields, objects of other lengths) are validated in full.

A signature that does not verify always gets full validation. The fast path only ever
repeats a verdict that full validation gave for the same shape and the same outcome of
each signature's hash check: when the ``messageDigest`` matches, TOTAL_PASSED, or
INDETERMINATE / OUT_OF_BOUNDS_NO_POE (a certificate of the path outside its validity at
the validation time, nothing proving the signature was made while it was valid: an
archive checked after its signers' certificates expired; kept only where no fetch could
change it, see :data:`_TIME_OUTCOMES`), and offline INDETERMINATE /
NO_CERTIFICATE_CHAIN_FOUND (no path to an anchor of the profile: :data:`_OFFLINE_OUTCOMES`);
TOTAL_FAILED / HASH_FAILURE when it does not (the
content was changed after signing; full validation judges such a signature without
looking further). No template is kept where the validation's revocation data states a
certificate it had at hand revoked (the revocation's date is weighed against each
document's own signing time). A signature timestamp full validation did not accept (its
TSA is not trusted) is reported as it did, with its time and no proven signing time; a signature
validated at the time its timestamp proves (its certificate expired since) is so in
every report from the template.
"""

from __future__ import annotations

import binascii
import bisect
import contextlib
import contextvars
import hashlib
import io
import itertools
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from asn1crypto import cms, core, tsp, x509
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from verify import cms_forms, fastpath_cms
from verify.evidence import COLLECTING, collecting, harvest
from verify.policy import TIME_TOLERANCE
from verify.report import (
    DocumentReport,
    Indication,
    SignatureReport,
    SubIndication,
    with_fields,
)
from verify.xmldsig import XmlInspection, certificate_der, inspect_xml, looks_like_xml

if TYPE_CHECKING:
    from typing import TypeAlias

    from verify.engine import Engine
    from verify.policy import ValidationPolicy
    from verify.verifier import Verifier
    from verify.visual import Box

    Owner: TypeAlias = Verifier | Engine
    """Whose templates: a verifier's (its engine keeps them), or an engine's, as a format
    reader reaches the fast path."""

__all__ = [
    "MAX_TEMPLATES",
    "Coordinator",
    "Held",
    "adopt",
    "coordinated",
    "detached",
    "holding",
    "knows",
    "pdf",
    "record_made",
    "shape_hint",
    "stats",
    "take_made",
    "template_key",
    "xml",
]

MAX_TEMPLATES = 4096
"""Templates kept per verifier (least recently used dropped first)."""

MAX_SKELETONS = 1024
"""CMS skeletons (one a signer, about 10 KB each with its certificates) kept per verifier
(see :func:`_parse_cms`; the oldest dropped first)."""

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


class _Unjudged(_NotEligible):
    """A byte-for-byte structure with validation data held by its class, not judged yet:
    read object by object first (its validation data may be a document's own, its order
    and lengths another's), and judged only when no template serves that reading (see
    :attr:`_Parsed.other`)."""


class _ObjectsFirst(_Unjudged):
    """A document read object by object first, its byte-for-byte reading not tried (see
    :func:`_objects_first`)."""


class _Declined(_NotEligible):
    """A structure the fast path takes, but not this document of it (a check made for each
    document failed): no other reading of its structure would take it either."""


@dataclass(frozen=True)
class _Signed:
    """What the fast path read from one signature."""

    shape: tuple[Any, ...]
    claimed: datetime | None
    """The signing time the signer claims (signingTime attribute, else the PDF's /M)."""
    intact: bool = True
    """The ``messageDigest`` matches the signed bytes."""
    proven: datetime | None = None
    """The time the signature timestamp proves (its ``genTime``), if there is one."""
    certs: tuple[bytes, ...] = ()
    """Every certificate the signature and its timestamp carry (DER)."""
    field_name: str | None = None
    """An XML signature's Id (the report's ``field_name``), which may differ per document."""


@dataclass(frozen=True)
class _Parsed:
    """What the fast path read from one document."""

    shape: tuple[Any, ...]
    """Everything but the signatures: the format and, for a PDF, its structure."""
    signatures: tuple[_Signed, ...]
    """Each signature, in the order of the revisions they sign."""
    sha256: str | None = None
    """The document's SHA-256 (hex), when the signature's own digest already is one."""
    facts: dict[str, Any] | None = None
    """An e-invoice's facts, read from this document's signed elements."""
    filled: tuple[str | None, ...] = ()
    """For a PDF whose later revisions fill form fields: for each signature, the warning
    that names the fields filled after it with this document's old and new values
    (:func:`verify.visual.filled_note`)."""
    other: Callable[[], _Parsed] | None = dataclass_field(default=None, compare=False)
    """For a PDF of plain tables whose DSS answers are held by their class: the same
    document read the other way (see :func:`_answer`). Read byte for byte, object by
    object (:mod:`verify.fastpath_objects`), whose structure holds the answers as a set,
    whatever order and length another signer's fetches gave them; read object by object
    because its byte-for-byte structure was not judged yet (:class:`_Unjudged`), byte for
    byte, judged then: documents that carry the same validation data then share that
    cheaper reading."""


@dataclass(frozen=True)
class _Template:
    report: DocumentReport
    window: tuple[float, float] | None
    """With validation time "now": the moments (POSIX) for which the verdict holds."""
    proven: tuple[datetime | None, ...] = ()
    """Each signature's proven time (None: no timestamp)."""
    bounds: tuple[tuple[float, ...], ...] = ()
    """For each signature with a timestamp: every moment (POSIX, sorted) at which a
    verdict could change with the proven time. A function of the template's key (its
    certificates and policy)."""
    orders: tuple[tuple[int | None, int | None], ...] = ()
    """For each signature: how the proven time compared with the claimed signing time
    and the validation time."""


Shared = list[tuple[tuple[Any, ...], _Template]]
"""Templates on their way between processes: portable keys (see :func:`template_key`)
with their templates. They pickle."""


class _Store:
    def __init__(self) -> None:
        self.templates: OrderedDict[tuple[Any, ...], _Template] = OrderedDict()
        self.refused: set[tuple[Any, ...]] = set()
        self.tried: set[tuple[Any, ...]] = set()
        """Keys of documents validated in full here (see :func:`holding`)."""
        self.keys: dict[bytes, Any] = {}
        self.cert_ids: dict[bytes, tuple[int, bytes]] = {}
        self.validity: dict[bytes, tuple[datetime, datetime]] = {}
        self.cms: OrderedDict[bytes, _CmsShape] = OrderedDict()
        """What CMS signatures' skeletons determine (see :func:`_parse_cms`)."""
        self.structures: OrderedDict[tuple[Any, ...], _Judged | None] = OrderedDict()
        """PDF structures with later revisions (see :func:`_structure`) already judged:
        None when the fast path does not take them (see :func:`_judge_structure`)."""
        self.answers: OrderedDict[tuple[Any, ...], _Classes] = OrderedDict()
        """What :func:`_classed_answers` found in the later revisions of a PDF read byte
        for byte, by their bytes (see :func:`_structure`)."""
        self.kinds: OrderedDict[bytes, tuple[int, int]] = OrderedDict()
        """Kinds of object-by-object structures: how many of each were judged and taken,
        and how many not (see :data:`verify.fastpath_objects._REFUSALS`)."""
        self.made: Shared | None = None
        """Templates made here and not yet taken (:func:`take_made`) to share."""
        self.unjudged = 0
        """Documents with a DSS in a row whose byte-for-byte structure was new (see
        :func:`_objects_first`)."""
        self.probes = 0
        """Documents read object by object first, or byte for byte as a probe."""
        self.waited = 0
        self.probe_every = _PROBE_EVERY
        """(:func:`_objects_first`)."""
        self.lock = threading.Lock()
        self.hits = 0
        self.misses = 0


_STORES: weakref.WeakKeyDictionary[Engine, _Store] = weakref.WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def _store(owner: Owner) -> _Store:
    """The templates of a verifier, kept by its engine (the XML reader, which has only the
    engine, reaches the same store)."""
    from verify.engine import Engine

    engine = owner if isinstance(owner, Engine) else owner.engine
    with _STORES_LOCK:
        found = _STORES.get(engine)
        if found is None:
            found = _STORES[engine] = _Store()
        return found


def stats(verifier: Verifier) -> dict[str, int]:
    """How often the fast path answered (hits) or handed over to full validation."""
    store = _store(verifier)
    return {"hits": store.hits, "misses": store.misses, "templates": len(store.templates)}


class Held(BaseException):
    """Raised inside :func:`holding` instead of validating a document in full: no template
    of its shape is here yet. Not an :class:`Exception`, so that no handler on the way
    turns it into a verdict; only the bulk worker that asked for it catches it."""

    def __init__(self, key: tuple[Any, ...]) -> None:
        super().__init__("held back: no template of this shape yet")
        self.key = key
        """The template key of the document (portable: see :func:`template_key`)."""


_HOLD: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar(
    "hoso_fastpath_hold", default=None
)


@contextlib.contextmanager
def holding() -> Iterator[None]:
    """Within this block, the first document the fast path is asked about raises
    :class:`Held` (with its template key) if no template of its shape is here and its
    shape is not one the fast path refuses, instead of being validated in full.

    A bulk worker uses it so that two workers never validate the same new shape in full
    at once: the parent sends the first such document alone and holds the others back
    until its template is there. Nothing is held of a shape already validated in full
    here (one whose documents make no template, an untrusted signer's say, would
    otherwise come back every time). Only the first question is held: a later one in the
    same document (the retry with the embedded validation data alone) is answered as
    always.
    """
    token = _HOLD.set([True])
    try:
        yield
    finally:
        _HOLD.reset(token)


class Coordinator(Protocol):
    """Processes of one run that share their templates as they make them (see
    :func:`coordinated`)."""

    def missing(self, owner: Owner, portable: tuple[Any, ...], *, wait: bool) -> bool:
        """No template of this shape is here. Take in what the others shared (the fast
        path then looks again) and say whether this process may validate the shape in
        full now: False while another is at it (with ``wait``: once it is done, or gone)."""
        ...


_COORDINATOR: contextvars.ContextVar[Coordinator | None] = contextvars.ContextVar(
    "hoso_fastpath_coordinator", default=None
)


@contextlib.contextmanager
def coordinated(coordinator: Coordinator) -> Iterator[None]:
    """Within this block, a document of a shape with no template here is first put to
    ``coordinator``: the fast path answers it from a template another process made, or,
    inside :func:`holding`, raises :class:`Held` while another process validates its
    shape in full."""
    token = _COORDINATOR.set(coordinator)
    try:
        yield
    finally:
        _COORDINATOR.reset(token)


def _usable(
    store: _Store, key: tuple[Any, ...], parsed: _Parsed, moment: datetime
) -> _Template | None:
    """The template kept for ``key``, if it speaks for this document at this moment."""
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
        return template
    return None


def knows(verifier: Verifier, portable: tuple[Any, ...]) -> bool:
    """Whether a template for this portable key (see :func:`template_key`) is kept here."""
    key = _local(verifier, portable)
    if key is None:
        return False
    store = _store(verifier)
    with store.lock:
        return key in store.templates


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
        parsed = _parse_pdf(verifier, data, moment)
    except Exception:  # noqa: BLE001 - anything unusual is full validation's to judge
        return await full()
    return await _answer(verifier, parsed, path, data, "pdf", moment, full, parsed.other)


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
        parsed = _parse_detached(verifier, data, signature)
    except Exception:  # noqa: BLE001 - anything unusual is full validation's to judge
        return await full()
    return await _answer(verifier, parsed, path, data, "cms", moment, full)


async def xml(
    engine: Engine,
    path: str | None,
    data: bytes,
    moment: datetime,
    inspection: XmlInspection,
    facts: dict[str, Any] | None,
    full: FullCheck,
) -> DocumentReport:
    """The report for an XML document already inspected (parsed, its wrapping checked, each
    reference digested, each signature value verified: :func:`verify.xmldsig.inspect_xml`)
    and its e-invoice facts read: from a template when provably the same, else ``full()``
    (the reader's judgement of the same inspection)."""
    if not _enabled(engine):
        return await full()
    try:
        parsed = _parse_xml(engine, inspection, facts)
    except Exception:  # noqa: BLE001 - anything unusual is full validation's to judge
        return await full()
    return await _answer(engine, parsed, path, data, "xml", moment, full)


def _parse_xml(owner: Owner, inspection: XmlInspection, facts: dict[str, Any] | None) -> _Parsed:
    """An XML document's shape: for each signature, in document order, everything full
    validation judges other than what the template's report takes from the document (its
    Id, its claimed signing time, the invoice's facts): the place it sits in (its role),
    what its references cover and under which reading they verify, its algorithms, its
    signer's certificate and every KeyInfo certificate, whether it claims a signing time
    and whether that time lies within the signer's certificate, and how the invoice's
    seller tax code compares with the certificate's. Only signatures that are intact
    (wrapping checks, every reference digest and the signature value) and carry nothing
    of XAdES are taken. Nothing here depends on the validation time: with "now", the
    template's window (:func:`_full_with_window`) bounds the moments it serves."""
    from verify.einvoice import seller_mst_mismatch

    if not inspection.checks:
        raise _NotEligible("no signature")
    store = _store(owner)
    signatures = []
    for check in inspection.checks:
        if (
            not check.intact
            or check.signer_cert is None
            or check.carries_xades
            or check.xades_warnings
        ):
            raise _NotEligible("not an intact XMLDSig signature")
        signer = certificate_der(check.signer_cert)
        claimed = check.claimed_signing_time
        shape = (
            check.role,
            check.expected_cover,
            check.covers,
            check.reading,
            check.digest_algorithm,
            check.digest_algorithms,
            check.signature_hash,
            check.signature_algorithm,
            signer,
            tuple(certificate_der(c) for c in check.certificates),
            claimed is None,
            _claimed_fits(store, signer, claimed),
            seller_mst_mismatch(check, facts),
        )
        signatures.append(_Signed(shape, claimed, field_name=check.signature_id))
    return _Parsed(("xml", inspection.invoice is not None), tuple(signatures), facts=facts)


def _parse_detached(verifier: Verifier, data: bytes, signature: bytes) -> _Parsed:
    if signature[:1] != b"\x30":
        raise _NotEligible("not DER")
    cms.ContentInfo.load(signature, strict=True)  # nothing after it
    one, sha256 = _parse_cms(verifier, signature, (data,), ("detached",), content_is_document=True)
    return _Parsed(("detached",), (one,), sha256)


def _enabled(verifier: Owner) -> bool:
    return verifier.policy.fast_path and verifier.evidence_in is None and COLLECTING.get() is None


async def _answer(
    verifier: Owner,
    parsed: _Parsed,
    path: str | None,
    data: bytes,
    fmt: str,
    moment: datetime,
    full: FullCheck,
    also: Callable[[], _Parsed] | None = None,
) -> DocumentReport:
    """The report from a template of ``parsed``'s shape, else full validation's (and a
    template made of it). ``also``: another reading of the document, asked for only when
    no template serves the first: its template serves as well, and a template made here
    is kept for both (a B-LT document read byte for byte whose validation data another
    document lists in another order: see :attr:`_Parsed.other`)."""
    store = _store(verifier)
    fixed = verifier.policy.validation_time is not None
    key = _key(verifier, parsed, fmt, moment)
    hold = _HOLD.get()
    held = bool(hold)
    if hold:
        hold.clear()  # only the document's first question may be held
    template = _usable(store, key, parsed, moment)
    other: tuple[_Parsed, tuple[Any, ...]] | None = None
    if template is None and also is not None:
        try:
            second = also()
        except Exception:  # noqa: BLE001, S110 - no other reading: the first one alone
            pass
        else:
            other = (second, _key(verifier, second, fmt, moment))
            template = _usable(store, other[1], second, moment)
            if template is not None:
                parsed, key = other
                store.unjudged = 0  # the other reading serves: read that way first again
    if template is None and key not in store.templates and key not in store.refused:
        coordinator = _COORDINATOR.get()
        if key in store.tried:
            pass  # validated in full here before, and no template came of it
        elif coordinator is not None:
            # other processes of the run may have made its template, or be making it
            free = coordinator.missing(verifier, _portable(key), wait=not held)
            template = _usable(store, key, parsed, moment)
            if template is None and other is not None:  # (shared under the other reading)
                template = _usable(store, other[1], other[0], moment)
                if template is not None:
                    parsed, key = other
            if template is None and not free and held:
                raise Held(_portable(key))
        elif held:
            raise Held(_portable(key))
    if template is not None:
        store.hits += 1
        return _from_template(template.report, path, data, fmt, moment, parsed)
    store.misses += 1
    with store.lock:
        if len(store.tried) >= MAX_TEMPLATES:
            store.tried.clear()
        store.tried.add(key)
        if other is not None:
            store.tried.add(other[1])
    if key in store.refused:
        return await full()
    report, window, contexts = await _full_with_window(verifier, full, fixed, moment)
    if not fixed and window is None:
        return report
    kept = _keep(verifier, store, key, parsed, report, path, data, fmt, moment, window, contexts)
    if kept and other is not None and other[1] != key:
        _keep(
            verifier, store, other[1], other[0], report, path, data, fmt, moment, window, contexts
        )
    return report


def _keep(
    verifier: Owner,
    store: _Store,
    key: tuple[Any, ...],
    parsed: _Parsed,
    report: DocumentReport,
    path: str | None,
    data: bytes,
    fmt: str,
    moment: datetime,
    window: tuple[float, float] | None,
    contexts: list[Any] | None,
) -> bool:
    """Keep full validation's ``report`` as the template of ``key`` when the fast path can
    rebuild it exactly and nothing in it could differ for another document of the shape;
    whether it was kept."""
    fixed = verifier.policy.validation_time is not None
    got = tuple((sig.indication, sig.sub_indication) for sig in report.signatures)
    if len(got) != len(parsed.signatures):
        return False
    kept = _TIME_OUTCOMES if verifier.policy.network else _TIME_OUTCOMES | _OFFLINE_OUTCOMES
    if any(
        outcome != ((Indication.TOTAL_PASSED, None) if one.intact else _HASH_FAILED)
        and not (one.intact and outcome in kept)
        for outcome, one in zip(got, parsed.signatures, strict=True)
    ):
        return False
    if any(outcome in _TIME_OUTCOMES for outcome in got) and not _settled_offline(
        verifier, report, contexts
    ):
        return False  # revocation data a fetch may yet bring could change it
    if _revocation_known(contexts):
        # The verdict weighed a revocation against this document's own times (a
        # signature timestamped before its signer was revoked passes, one timestamped
        # after fails): another document of the shape could fall on its other side.
        return False
    if _judged_on_times(report):
        return False  # a constraint weighed this document's own times: no template
    try:
        rebuilt: DocumentReport | None = _from_template(report, path, data, fmt, moment, parsed)
    except ValueError:  # not one report per signature read
        rebuilt = None
    if rebuilt != report:
        # This shape is not one the fast path can rebuild exactly: never use it.
        with store.lock:
            store.refused.add(key)
        return False
    try:
        bounds = tuple(
            _bounds(verifier, one) if one.proven is not None else () for one in parsed.signatures
        )
    except Exception:  # noqa: BLE001 - a certificate cryptography cannot read: no template
        with store.lock:
            store.refused.add(key)
        return False  # (full validation's report stands, whatever it said)
    with store.lock:
        store.templates[key] = _Template(
            report,
            None if fixed else window,
            tuple(one.proven for one in parsed.signatures),
            bounds,
            tuple(_orders(one, moment) for one in parsed.signatures),
        )
        while len(store.templates) > MAX_TEMPLATES:
            store.templates.popitem(last=False)
        if store.made is not None:
            store.made.append((_portable(key), store.templates[key]))
            del store.made[:-MAX_TEMPLATES]
    return True


_TIME_JUDGED = frozenset({"revocation_at_signing_time", "signing_time_in_certificate_validity"})

_HASH_FAILED = (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)

_TIME_OUTCOMES = frozenset({(Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE)})
"""Verdicts on an intact signature, besides a pass, that the fast path keeps templates of:
a certificate of the signer's path outside its validity at the validation time, with no
timestamp proving the signature was made while it was valid (an archive checked after
its signers' certificates expired). Such a verdict rests on the certificates (part of
the shape), the validation time (a fixed one, or the moments around "now" that compare
the same way with every date used, :func:`_window`) and the signature timestamp's time
(:func:`_same_times`); not on the claimed signing time, which proves nothing. A
validation that could have fetched revocation data but used none is not kept
(:func:`_settled_offline`), nor one that knows of a revocation (the claimed signing time
is weighed against it: another document's could fall on its other side)."""


_OFFLINE_OUTCOMES = frozenset(
    {(Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND)}
)
"""Verdicts on an intact signature the fast path keeps templates of offline only: no path
from the signer to a trust anchor of the profile (an archive from a CA the profile does
not hold). The path is built from the certificates the document carries (part of the
shape), the profile's anchors (part of the key) and the issuers the revocation cache
holds, which offline this process only reads; online, an issuer fetched for another
document could complete the path of the next one."""


def _revocation_known(contexts: list[Any] | None) -> bool:
    """Whether any revocation data the validation had (embedded, supplied or fetched)
    states a certificate it had at hand revoked, at any time (None: not known, so yes).
    Such a verdict is never kept: it weighs the revocation's time against the document's
    own (claimed or proven signing time), which another document of the shape may have
    on the other side."""
    if contexts is None:
        return True
    try:
        serials: dict[bytes, set[int]] = {}  # issuer name (DER) -> serial numbers
        hashes_: dict[bytes, set[int]] = {}  # SHA-1 of the issuer name -> serial numbers
        for vc in contexts:
            for cert in vc.certificate_registry:
                issuer = cert.issuer.dump()
                serials.setdefault(issuer, set()).add(cert.serial_number)
                name_hash = hashlib.sha1(issuer).digest()  # noqa: S324 - OCSP CertID
                hashes_.setdefault(name_hash, set()).add(cert.serial_number)
        for vc in contexts:
            for response in vc.ocsps:
                basic = response.basic_ocsp_response
                for single in basic["tbs_response_data"]["responses"]:
                    if single["cert_status"].name != "revoked":
                        continue
                    cert_id = single["cert_id"]
                    known = hashes_.get(cert_id["issuer_name_hash"].native, set())
                    if cert_id["serial_number"].native in known:
                        return True
            for crl in vc.crls:
                listed = serials.get(crl.issuer.dump())
                if not listed:
                    continue
                for entry in crl["tbs_cert_list"]["revoked_certificates"]:
                    if entry["user_certificate"].native in listed:
                        return True
    except Exception:  # noqa: BLE001 - data that cannot be read: taken as a revocation
        return True
    return False


def _settled_offline(verifier: Owner, report: DocumentReport, contexts: list[Any] | None) -> bool:
    """Whether no revocation data that a fetch could bring next time is missing from this
    validation: the policy fetches nothing (offline, or revocation off), or the validation
    used revocation data (whose dates bound the template's window). A validation that
    stopped before asking (a certificate out of its validity) or whose fetch failed used
    none, and another document of the shape could then get an answer."""
    from verify.policy import RevocationMode

    policy = verifier.policy
    if not policy.network or policy.revocation is RevocationMode.OFF:
        return True
    if contexts is None:
        return False
    try:
        evidence = harvest(report, contexts)
    except Exception:  # noqa: BLE001 - nothing known: not kept
        return False
    return bool(evidence.ocsps or evidence.crls)


def _judged_on_times(report: DocumentReport) -> bool:
    """Whether a constraint that compares this document's own times (its claimed or
    proven signing time against a revocation or the certificate's validity) failed, at
    any level: another document of the same shape could come out otherwise."""
    return any(
        c.id in _TIME_JUDGED and c.status == "failed"
        for sig in report.signatures
        for c in sig.constraints
    )


def _key(verifier: Owner, parsed: _Parsed, fmt: str, moment: datetime) -> tuple[Any, ...]:
    """Where a template for this document is kept: its shape (its own and each
    signature's), the outcome of each signature's hash check, the trust profile and
    policy, and a fixed validation time."""
    fixed = verifier.policy.validation_time is not None
    return (
        fmt,
        (parsed.shape, tuple(one.shape for one in parsed.signatures)),
        tuple(one.intact for one in parsed.signatures),
        id(verifier.trust),
        _policy_key(verifier.policy),
        moment if fixed else None,
    )


class _PolicyKey:
    """A policy in a template's key, its hash computed once (hashing a policy walks all
    its fields: once per document was a measurable part of a template's answer). Equal
    when the policies are; pickled as the policy, its hash computed again where it lands
    (string hashes differ between processes)."""

    __slots__ = ("hash", "policy")

    def __init__(self, policy: ValidationPolicy) -> None:
        self.policy = policy
        self.hash = hash(policy)

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _PolicyKey):
            return NotImplemented
        return self.policy is other.policy or (
            self.hash == other.hash and self.policy == other.policy
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_PolicyKey, (self.policy,))


_POLICY_KEYS: dict[int, _PolicyKey] = {}
"""The key of each policy seen, by identity (the key holds the policy: its id stays its
own); a few are in use at a time, so the dict is emptied when it grows past 64."""


def _policy_key(policy: ValidationPolicy) -> _PolicyKey:
    found = _POLICY_KEYS.get(id(policy))
    if found is None or found.policy is not policy:
        if len(_POLICY_KEYS) >= 64:
            _POLICY_KEYS.clear()
        found = _POLICY_KEYS[id(policy)] = _PolicyKey(policy)
    return found


# -- templates shared between processes ------------------------------------------------------


def _portable(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """The key without what only means something in this process (the trust profile's
    identity: every process of one run has the same profile)."""
    return (*key[:3], None, *key[4:])


def _local(verifier: Verifier, portable: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """A portable key as this verifier keeps it; None if made under another policy."""
    if portable[4] != _policy_key(verifier.policy):
        return None
    return (*portable[:3], id(verifier.trust), *portable[4:])


def template_key(verifier: Verifier, data: bytes, signature: bytes | None = None) -> Any:
    """The key of the template that would answer for this document (a PDF, an XML document,
    or content with its detached ``signature``), or None when the fast path would not take
    it or cannot tell without validating. Cheap: the document is parsed and hashed and its
    signature checked; nothing is fetched or validated.

    A bulk run uses it to send the first document of each new shape to a worker alone
    and hold back the others of that shape until its template is there to share."""
    if not _enabled(verifier):
        return None
    try:
        moment = verifier.policy.moment()
        if signature is None and looks_like_xml(data):
            from verify.einvoice import invoice_facts

            inspection = inspect_xml(data)
            parsed = _parse_xml(verifier, inspection, invoice_facts(inspection))
            return _portable(_key(verifier, parsed, "xml", moment))
        if signature is None:
            return _portable(_key(verifier, _parse_pdf(verifier, data, moment), "pdf", moment))
        return _portable(_key(verifier, _parse_detached(verifier, data, signature), "cms", moment))
    except Exception:  # noqa: BLE001 - anything unusual: no key, the worker decides
        return None


def shape_hint(verifier: Verifier, data: bytes, signature: bytes | None = None) -> Any:
    """A cheaper stand-in for :func:`template_key`, for scheduling only: documents with the
    same template key have the same hint (a hint may also cover several keys: it leaves
    out the hash outcome, the signature's timestamp and times). For a PDF the byte reader
    takes (:func:`_outline_from_bytes`), it is each signature's dictionary and field
    shape with its CMS's certificates, and the catalog's keys: nothing is hashed or
    verified, so it costs a fraction of a document's answer. For anything else it is the
    template key. None: no hint (the fast path would not take the document)."""
    if not _enabled(verifier):
        return None
    if signature is None and data.startswith(b"%PDF-"):
        try:
            outline = _outline_from_bytes(data)
            if outline is not None:
                if "/Perms" in outline.catalog or not outline.fields:
                    return None
                sigs = sorted((_sig_dict(data, f) for f in outline.fields), key=lambda s: s.end)
                parts = []
                for sig in sigs:
                    certificates = cms.ContentInfo.load(sig.der)["content"]["certificates"]
                    parts.append(
                        (sig.context, hashlib.sha256(certificates.contents or b"").digest())
                    )
                whole = sigs[-1].end == len(data)
                return ("hint", tuple(sorted(outline.catalog)), whole, tuple(parts))
        except Exception:  # noqa: BLE001 - anything unusual: no hint, the worker decides
            return None
    return template_key(verifier, data, signature)


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


def _orders(one: _Signed, moment: datetime) -> tuple[int | None, int | None]:
    def order(a: datetime | None, b: datetime | None) -> int | None:
        return None if a is None or b is None else (a > b) - (a < b)

    return order(one.claimed, one.proven), order(one.proven, moment)


def _bounds(verifier: Owner, one: _Signed) -> tuple[float, ...]:
    """The validity dates of every certificate carried, and the algorithm rules' dates."""
    moments = {t.timestamp() for t in verifier.policy.algorithms.time_boundaries()}
    for der in one.certs:
        cert = cx509.load_der_x509_certificate(der)
        moments.add(cert.not_valid_before_utc.timestamp())
        moments.add(cert.not_valid_after_utc.timestamp())
    return tuple(sorted(moments))


def _same_times(template: _Template, parsed: _Parsed, moment: datetime) -> bool:
    """A template made at one proven time speaks for another only if no verdict can tell
    them apart: for each signature, both fall between the same two boundaries
    (certificate validity, algorithm rule dates) and compare the same way with the
    claimed signing time and the validation time."""
    if len(template.proven) != len(parsed.signatures):
        return False
    for proven, bounds, orders, one in zip(
        template.proven, template.bounds, template.orders, parsed.signatures, strict=True
    ):
        if (proven is None) != (one.proven is None):
            return False
        if proven is None or one.proven is None:
            continue
        if orders != _orders(one, moment):
            return False
        g, g0 = one.proven.timestamp(), proven.timestamp()
        if bisect.bisect_left(bounds, g) != bisect.bisect_left(bounds, g0):
            return False
        if bisect.bisect_right(bounds, g) != bisect.bisect_right(bounds, g0):
            return False
    return True


def _from_template(
    template: DocumentReport,
    path: str | None,
    data: bytes,
    fmt: str,
    moment: datetime,
    parsed: _Parsed,
) -> DocumentReport:
    """The template's report with this document's own facts: path, size, hash, and each
    signature's claimed and proven times (for XML, each signature's Id and the invoice's
    facts too). ValueError: not one report per signature."""
    signatures: list[SignatureReport] = []
    for sig, one in zip(template.signatures, parsed.signatures, strict=True):
        # validated at the validation time, or (a past signature validation) at the time
        # its timestamp proves
        validated_at = moment
        if sig.validated_at != template.validation_time:
            if one.proven is None or sig.validated_at != sig.signing_time_proven:
                raise ValueError("validated at a time the fast path does not rebuild")
            validated_at = one.proven
        if fmt == "xml":  # an XML signature's Id may differ per document
            signature = with_fields(
                sig,
                signing_time_claimed=one.claimed,
                validated_at=validated_at,
                field_name=None if one.field_name is None else str(one.field_name),
            )
        else:
            signature = with_fields(
                sig,
                signing_time_claimed=one.claimed,
                validated_at=validated_at,
                warnings=_filled_warnings(sig.warnings, parsed.filled, len(signatures)),
            )
        if one.proven is not None:
            # The timestamp's own time, whether or not it proved the signing time: one
            # full validation did not accept (its TSA untrusted, say) is reported with its
            # time and no proven signing time, and so is every other of the same shape.
            signature = with_fields(
                signature,
                signing_time_proven=None if sig.signing_time_proven is None else one.proven,
                timestamps=tuple(
                    with_fields(t, time=one.proven) if t.kind == "signature" else t
                    for t in sig.timestamps
                ),
            )
        signatures.append(signature)
    report = DocumentReport.from_signatures(
        path, data, fmt, moment, signatures, template.warnings, parsed.sha256
    )
    return with_fields(report, facts=parsed.facts) if fmt == "xml" else report


def _filled_warnings(
    warnings: tuple[str, ...], filled: tuple[str | None, ...], index: int
) -> tuple[str, ...]:
    """A signature's warnings with the one naming the form fields filled after it (its
    values the template document's) rewritten with this document's values. ValueError:
    the template names filled fields and this document has none (its shape says it has)."""
    if not filled:
        return warnings
    from verify.visual import FIELDS_CHANGED

    note = filled[index]
    out = []
    for warning in warnings:
        if warning.startswith(FIELDS_CHANGED):
            if note is None:
                raise ValueError("no filled fields to name")
            warning = note
        out.append(warning)
    return tuple(out)


async def _full_with_window(
    verifier: Owner, full: FullCheck, fixed: bool, moment: datetime
) -> tuple[DocumentReport, tuple[float, float] | None, list[Any] | None]:
    """Full validation; with "now", also the window in which its answer stays the same
    (:func:`_window`, within the dated algorithm rules around ``moment``); and the
    validation contexts it used."""
    if fixed:
        with collecting() as contexts:
            report = await full()
        return report, None, contexts
    report, window, contexts = await _window(verifier, full, moment.timestamp())
    if window is None:
        return report, None, contexts
    start, end = window
    at = moment.timestamp()
    for boundary in verifier.policy.algorithms.time_boundaries():
        b = boundary.timestamp()
        if b <= at:
            start = max(start, b)
        else:  # a rule's verdict changes at its date: the window ends just before
            end = min(end, b - 1e-6)
    return report, ((start, end) if start <= at <= end else None), contexts


MARGIN = 2.0
"""Seconds a window keeps clear of a date the moment has passed (or not yet reached): more
than the time tolerance with which pyhanko-certvalidator compares a moment with a
certificate's validity or a revocation answer's dates (one second)."""


def _cell(starts: list[float], ends: list[float], at: float) -> tuple[float, float] | None:
    """The moments that compare with every date as ``at`` does, as an inclusive (start,
    end); None when that cannot be told.

    ``starts`` are dates from which something holds (a certificate's notBefore, a
    revocation answer's thisUpdate: a moment at or after it passes, and so does one up to
    the tolerance before it); ``ends`` dates until which it holds (notAfter, nextUpdate:
    a moment at or before it passes, and so does one up to the tolerance after it).
    While ``at`` is inside such a span, the window reaches its edge; once ``at`` is past a
    date (an expired certificate, a stale answer), the window keeps :data:`MARGIN` clear
    of it, and none is told when ``at`` lies within the margin."""
    low, high = float("-inf"), float("inf")
    for date in starts:
        if at >= date:
            low = max(low, date)
        elif at < date - MARGIN:
            high = min(high, date - MARGIN)
        else:
            return None
    for date in ends:
        if at <= date:
            high = min(high, date)
        elif at > date + MARGIN:
            low = max(low, date + MARGIN)
        else:
            return None
    return low, high


async def _window(
    verifier: Owner, full: FullCheck, at: float
) -> tuple[DocumentReport, tuple[float, float] | None, list[Any]]:
    """Full validation at ``at`` ("now"), the moments that compare the same way as ``at``
    with every date it used (the validity of every certificate, each OCSP response's and
    CRL's this and next update: :func:`_cell`), and the validation contexts it used. So a
    certificate that is current, expired or not yet valid at ``at`` is so in the whole
    window. None: no window can be told."""
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
        if not starts:
            return report, None, contexts
        if policy.revocation is not RevocationMode.OFF:
            if not evidence.ocsps and not evidence.crls:
                if policy.revocation is RevocationMode.SOFT and policy.network:
                    # a service that did not answer may answer the next time, with a
                    # revocation: nothing may be reused until it has been asked again
                    return report, None, contexts
                # No revocation data was used at all: the certificates point to no
                # service (hard), or nothing could be fetched or was embedded (offline,
                # soft), or the validation stopped before asking (see _settled_offline).
                # Only time changes such an answer: the certificates' dates bound it.
                return report, _cell(starts, ends, at), contexts
            # An answer without nextUpdate is current, for pyhanko-certvalidator, for a
            # fixed while after its thisUpdate (its own constant, read from it).
            from pyhanko_certvalidator.policy_decl import FRESHNESS_FALLBACK_VALIDITY_DEFAULT

            dated = [
                (single["this_update"].native, single["next_update"].native)
                for ocsp in evidence.ocsps
                for single in ocsp.basic_ocsp_response["tbs_response_data"]["responses"]
            ]
            dated += [
                (
                    crl["tbs_cert_list"]["this_update"].native,
                    crl["tbs_cert_list"]["next_update"].native,
                )
                for crl in evidence.crls
            ]
            for this, nxt in dated:
                if this is None:
                    return report, None, contexts
                starts.append(this.timestamp())
                ends.append((nxt or this + FRESHNESS_FALLBACK_VALIDITY_DEFAULT).timestamp())
        return report, _cell(starts, ends, at), contexts
    except Exception:  # noqa: BLE001 - no window, no template
        return report, None, contexts


# -- PDF ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SigDict:
    """One filled signature field and its signature dictionary, read from the bytes."""

    ref: tuple[int, int]
    """The signature dictionary's object number and generation."""
    offset: int
    """Where the dictionary's ``n g obj`` starts."""
    a: int
    b: int
    c: int
    """``/ByteRange [0 a b c]``: ``a..b`` is the ``/Contents`` string, ``<`` to ``>``."""
    m_span: tuple[int, int] | None
    """Where the date inside ``/M (...)`` lies in the file."""
    claimed: datetime | None
    der: bytes
    context: tuple[Any, ...]
    """The field and the dictionary without what differs from document to document."""

    @property
    def end(self) -> int:
        """Where the signed bytes end."""
        return self.b + self.c


@dataclass(frozen=True)
class _Field:
    """A filled signature field, as the fast path reads it."""

    name: str
    keys: tuple[str, ...]
    """The field dictionary's keys, sorted."""
    ref: tuple[int, int]
    """Its ``/V``: the signature dictionary's object number and generation."""
    where: int
    """The file offset the cross-reference table gives for that dictionary."""
    appearance: tuple[Any, ...] | None
    """Its normal appearance (``/AP /N``): None without ``/AP``; ``("stream", number,
    generation, offset)`` for a reference in a direct ``/AP`` dictionary, with the offset
    the newest cross-reference section gives (None for none, or an object stream); else
    ``("odd", why)``, which keeps the document off the fast path if it is a later
    signature's (see :func:`_appearances`)."""


@dataclass(frozen=True)
class _Outline:
    """What the fast path needs of a PDF's objects to take it: the catalog's keys, the
    filled signature fields, and whether any signature field is locked or seeded."""

    catalog: frozenset[str]
    fields: tuple[_Field, ...]
    locked: bool
    sections: tuple[_Section, ...] | None = None
    """The cross-reference sections, oldest first, when read from the bytes."""


@dataclass(frozen=True)
class _Section:
    """One revision's cross-reference section as :func:`_structure` reads it, and as
    pyHanko's reader gives it: where ``startxref`` or ``/Prev`` points, where pyHanko's
    reading of the table starts (after ``xref`` and one byte) and ends (at the trailer's
    dictionary), the objects it lists in use, whether it frees any, and the ``/Info``
    reference the trailers give for that revision (inherited from older ones)."""

    declared: int
    start: int
    end: int
    listed: dict[int, tuple[int, int]]
    freed: bool
    info: tuple[int, int] | None
    table: tuple[dict[int, tuple[int, int]], dict[bytes, Any], int, int] | None = dataclass_field(
        default=None, compare=False, repr=False
    )
    """:func:`_plain_table`'s reading of it, where it was read so."""


def _sections_from_reader(reader: Any) -> tuple[_Section, ...]:
    """The sections as pyHanko's reader read them; only plain tables are taken."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.xref import XRefSectionType

    xrefs = reader.xrefs
    if xrefs.hybrid_xrefs_present:
        raise _NotEligible("hybrid cross-reference sections")
    has_info = "/Info" in reader.trailer
    out = []
    for r in range(xrefs.total_revisions):
        meta = xrefs.get_xref_container_info(r)
        if meta.xref_section_type is not XRefSectionType.STANDARD or meta.stream_ref is not None:
            raise _NotEligible("cross-reference streams")
        section = xrefs.get_xref_data(r)
        if xrefs.object_streams_used_in(r) or section.xrefs_in_objstm:
            raise _NotEligible("object streams")
        try:
            info = reader.trailer.raw_get("/Info", revision=r) if has_info else None
        except KeyError:  # in newer trailers only
            info = None
        out.append(
            _Section(
                meta.declared_startxref,
                meta.start_location,
                meta.end_location,
                dict(section.standard_xrefs),
                bool(xrefs.refs_freed_in_revision(r)),
                (info.idnum, info.generation) if isinstance(info, generic.IndirectObject) else None,
            )
        )
    return tuple(out)


def _last_change(sections: tuple[_Section, ...], ref: tuple[int, int]) -> int:
    """The newest revision that lists ``ref`` (pyHanko's ``get_last_change`` on tables
    that free nothing)."""
    for r in range(len(sections) - 1, -1, -1):
        if sections[r].listed.get(ref[0], (None,))[0] == ref[1]:
            return r
    raise _NotEligible("a signature dictionary no table lists")


def _parse_pdf(verifier: Verifier, data: bytes, moment: datetime) -> _Parsed:
    """What the fast path reads of a PDF validated at ``moment``."""
    if not data.startswith(b"%PDF-"):
        raise _NotEligible("not a PDF from its first byte")
    reader = None
    outline = _outline_from_bytes(data)
    if outline is None:
        reader = _pdf_reader(data)
        outline = _outline_from_reader(reader)
    if "/Perms" in outline.catalog:
        raise _NotEligible("DocMDP / usage rights")
    if not outline.fields:
        raise _NotEligible("no signature")
    sigs = sorted((_sig_dict(data, field) for field in outline.fields), key=lambda s: s.end)
    first = sigs[0]
    view = memoryview(data)
    if len(sigs) == 1 and first.end == len(data):
        # one signature over the whole file
        if outline.locked or b"/Reference" in bytes(first.context[1]):
            raise _NotEligible("field locks, seed values or DocMDP/FieldMDP references")
        if "/DSS" in outline.catalog:
            raise _NotEligible("validation data in the signed revision")
        signed = (view[0 : first.a], view[first.b : first.end])
        whole = (view[first.a : first.b], view[first.end :])
        one, sha256 = _parse_cms(
            verifier, first.der, signed, (*first.context, ()), claimed=first.claimed, whole=whole
        )
        return _Parsed(("pdf",), (one,), sha256)
    other: str | None = None  # the other reading a template may serve under
    byte_sigs = sigs
    readers: list[Any] = [reader]

    def read_file() -> Any:
        """pyHanko's reader of the file, made when first asked for."""
        if readers[0] is None:
            readers[0] = _pdf_reader(data)
        return readers[0]

    if reader is not None and _last_section_is_a_stream(reader):
        from verify import fastpath_objects

        structure, filled, dated = fastpath_objects.structure(verifier, lambda: reader, data, sigs)
        # the signature dictionaries are part of the structure (without what each
        # document writes anew: its signers' own words among it)
        sigs = [replace(sig, context=("pdf-objects", sig.context[2])) for sig in sigs]
    else:
        filled, dated = (), None
        # the byte reader's cross-reference sections serve the structure; pyHanko's reader
        # is made only for a structure not judged yet
        store = _store(verifier)
        try:
            if "/DSS" in outline.catalog and _objects_first(store):
                raise _ObjectsFirst("validation data of their own in the documents before")
            structure, dated = _structure(
                verifier, readers, data, sigs, outline.sections, outline.fields, judge=False
            )
            if dated is not None:
                other = "objects"
                store.unjudged = 0
        except _Declined:
            raise
        except _NotEligible as exc:
            # not byte for byte one already judged (later revisions that fill in fields,
            # or write objects of other lengths; validation data of the document's own,
            # a structure not judged yet): read object by object, as above
            from verify import fastpath_objects

            try:
                structure, filled, dated = fastpath_objects.structure(
                    verifier, read_file, data, sigs, outline.sections
                )
            except _Declined:
                raise
            except _NotEligible:
                if not isinstance(exc, _Unjudged):
                    raise
                # not read object by object: byte for byte after all, judged now
                structure, dated = _structure(
                    verifier, readers, data, sigs, outline.sections, outline.fields
                )
            else:
                if isinstance(exc, _Unjudged):
                    other = "bytes"
                    if not isinstance(exc, _ObjectsFirst):  # a byte reading that was new
                        store.unjudged += 1
                sigs = [replace(sig, context=("pdf-objects", sig.context[2])) for sig in sigs]
    signatures = []
    sha256 = None  # the file's, hashed along with the first signature's signed bytes
    for k, sig in enumerate(sigs):
        signed = (view[0 : sig.a], view[sig.b : sig.end])
        around = (view[sig.a : sig.b], view[sig.end :]) if k == 0 else None
        one, found = _parse_cms(
            verifier, sig.der, signed, sig.context, claimed=sig.claimed, whole=around
        )
        sha256 = sha256 or found
        signatures.append(one)
    if dated:
        structure = (*structure, _time_order(verifier, dated, signatures, moment))
    if other is None:
        return _Parsed(("pdf", structure), tuple(signatures), sha256, filled=filled)

    def again() -> _Parsed:
        """The same document read the other way: its later revisions object by object
        (read byte for byte above), or byte for byte, its structure judged now (read
        object by object above, the byte reading not judged yet)."""
        from verify import fastpath_objects

        shown: Callable[[_SigDict], tuple[Any, ...]]
        if other == "objects":
            structure, filled, dated = fastpath_objects.structure(
                verifier, read_file, data, byte_sigs, outline.sections
            )

            def shown(sig: _SigDict) -> tuple[Any, ...]:
                return ("pdf-objects", sig.context[2])

        else:
            structure, dated = _structure(
                verifier, readers, data, byte_sigs, outline.sections, outline.fields
            )
            filled = ()

            def shown(sig: _SigDict) -> tuple[Any, ...]:
                return sig.context

        # the signatures as read above, in this reading's terms
        these = tuple(
            replace(one, shape=(shown(sig), *one.shape[1:]))
            for one, sig in zip(signatures, byte_sigs, strict=True)
        )
        if dated:
            structure = (*structure, _time_order(verifier, dated, list(these), moment))
        return _Parsed(("pdf", structure), these, sha256, filled=filled)

    return _Parsed(("pdf", structure), tuple(signatures), sha256, filled=filled, other=again)


_UNJUDGED_RUN = 8
"""Documents with a DSS in a row whose byte-for-byte structure was new (validation data of
their own: answers of other lengths, in another order) after which the next ones are read
object by object first (:func:`_objects_first`)."""
_PROBE_EVERY = 32
"""Then one in this many is still read byte for byte first; after each such probe that
finds its byte-for-byte structure new as well, one in twice as many, up to
:data:`_PROBE_MOST`."""
_PROBE_MOST = 1024


def _objects_first(store: _Store) -> bool:
    """Whether a document with a DSS is read object by object first, its byte-for-byte
    reading left for a template miss (:attr:`_Parsed.other`): after
    :data:`_UNJUDGED_RUN` documents in a row whose byte-for-byte structure was new, as a
    signer that fetches the validation data anew for each document makes them, the byte
    reading (all of it, answers classed too) would be done for nothing. Either reading
    gives the same verdicts: this only orders them."""
    if store.unjudged < _UNJUDGED_RUN:
        store.probe_every, store.waited = _PROBE_EVERY, 0
        return False
    store.probes += 1
    store.waited += 1
    if store.waited < store.probe_every:
        return True
    store.waited = 0
    store.probe_every = min(2 * store.probe_every, _PROBE_MOST)
    return False


@dataclass(frozen=True)
class Dated:
    """What the DSS's OCSP answers and CRLs held by their class speak of in time (see
    :attr:`verify.fastpath_objects._Roles.dated`)."""

    times: tuple[tuple[bytes, datetime], ...]
    """Each time, labelled by its answer's class and its place in it, sorted."""
    certificates: tuple[bytes, ...]
    """The certificates the DSS and those answers carry (DER), sorted."""


def _time_order(
    verifier: Owner, dated: Dated, signatures: list[_Signed], moment: datetime
) -> tuple[Any, ...]:
    """The order in time of every time the validation data speaks of (``dated``: the
    OCSP answers' production, this and next updates and the CRLs' this and next updates,
    labelled by their class and place) and every time a verdict weighs them against: the
    validation time, each signature's claimed and proven signing time, the validity dates
    of every certificate the signatures and the DSS carry, the dated algorithm rules;
    each also a tolerance earlier and later, equal times together.

    Validation weighs those times only by comparing them (pyhanko-certvalidator: an
    answer is current at a moment when its this update is no later than the moment, with
    the tolerance, and its next update no earlier; issued before or after a control
    time; the verifier: nothing else), so two documents whose validation data differ
    only in their times (and in what :func:`verify.fastpath_objects._answer_class` leaves
    out) and whose times compare alike with all of these get the same verdict. Part of
    the shape: a template made with one order serves that order only. (With the
    validation time "now", the template's window also bounds the moments it serves by
    the times of the data it was made from: :func:`_window`.)"""
    policy = verifier.policy
    labelled: list[tuple[str, int, float]] = [("validation", 0, moment.timestamp())]
    for k, one in enumerate(signatures):
        for name, t in (("claimed", one.claimed), ("proven", one.proven)):
            if t is not None:
                labelled.append((name, k, t.timestamp()))
    fixed: set[float] = {t.timestamp() for t in policy.algorithms.time_boundaries()}
    store = _store(verifier)
    for der in (*dated.certificates, *(der for one in signatures for der in one.certs)):
        fixed.update(_validity_of(store, der))
    labelled.extend(("fixed", k, q) for k, q in enumerate(sorted(fixed)))
    labelled.extend(("data", k, t.timestamp()) for k, (_label, t) in enumerate(dated.times))
    # every time, and each a tolerance earlier and later, in order; equal ones together
    tolerance = TIME_TOLERANCE.total_seconds()
    around = sorted(
        (q + d, (name, k, d)) for name, k, q in labelled for d in (-tolerance, 0.0, tolerance)
    )
    order = tuple(
        tuple(label for _q, label in tied)
        for _q, tied in itertools.groupby(around, key=lambda item: item[0])
    )
    return order, tuple(label for label, _t in dated.times)


def _validity_of(store: _Store, der: bytes) -> tuple[float, float]:
    """A certificate's validity dates (POSIX), remembered by its DER."""
    found = store.validity.get(der)
    if found is None:
        cert = cx509.load_der_x509_certificate(der)
        found = (cert.not_valid_before_utc, cert.not_valid_after_utc)
        if len(store.validity) > MAX_TEMPLATES:
            store.validity.clear()
        store.validity[der] = found
    return found[0].timestamp(), found[1].timestamp()


def _last_section_is_a_stream(reader: Any) -> bool:
    """Whether the newest cross-reference section pyHanko read is a stream: later
    revisions are then read object by object (:mod:`verify.fastpath_objects`)."""
    from pyhanko.pdf_utils.xref import XRefSectionType

    xrefs = reader.xrefs
    info = xrefs.get_xref_container_info(xrefs.total_revisions - 1)
    return bool(info.xref_section_type is XRefSectionType.STREAM)


def _pdf_reader(data: bytes) -> Any:
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    if reader.encrypted:
        raise _NotEligible("encrypted")
    return reader


def _outline_from_reader(reader: Any) -> _Outline:
    """The outline as pyHanko's reader reads it."""
    from pyhanko.pdf_utils import generic

    root = reader.root
    fields = root["/AcroForm"].raw_get("/Fields")
    if isinstance(fields, generic.IndirectObject):
        fields = fields.get_object()  # type: ignore[no-untyped-call]
    if not isinstance(fields, generic.ArrayObject):
        raise _NotEligible("no field list")
    filled: list[_Field] = []
    locked = False
    for ref in fields:
        if not isinstance(ref, generic.IndirectObject):
            raise _NotEligible("a direct field")
        field = ref.get_object()  # type: ignore[no-untyped-call]
        if not isinstance(field, generic.DictionaryObject):
            raise _NotEligible("a field that is not a dictionary")
        if "/Parent" in field or "/T" not in field:
            raise _NotEligible("a field tree")
        if isinstance(field.raw_get("/FT"), generic.IndirectObject):
            raise _NotEligible("an indirect field type")
        if "/Kids" in field and not _widgets_only(field):
            raise _NotEligible("a field tree")
        if field.get("/FT") != "/Sig":
            continue
        locked = locked or "/Lock" in field or "/SV" in field
        value = field.raw_get("/V") if "/V" in field else None
        if value is None or isinstance(value, generic.NullObject):
            continue
        if not isinstance(value, generic.IndirectObject):
            raise _NotEligible("a direct signature value")
        where = reader.xrefs[value.reference]
        if not isinstance(where, int):
            raise _NotEligible("signature dictionary in an object stream")
        keys = tuple(sorted(str(k) for k in field))
        ref = (value.idnum, value.generation)
        filled.append(_Field(str(field["/T"]), keys, ref, where, _reader_appearance(reader, field)))
    return _Outline(frozenset(str(k) for k in root), tuple(filled), locked)


def _widgets_only(field: Any) -> bool:
    """A field (not a signature field) whose kids are its widgets only: no field (and so
    no signature) hides among them."""
    from pyhanko.pdf_utils import generic

    if field.get("/FT") in (None, "/Sig"):
        return False
    kids = field.raw_get("/Kids")
    if not isinstance(kids, generic.ArrayObject) or not kids:
        return False
    for i in range(len(kids)):
        kid = kids.raw_get(i)
        if not isinstance(kid, generic.IndirectObject):
            return False
        widget = kid.get_object()  # type: ignore[no-untyped-call]
        if not isinstance(widget, generic.DictionaryObject) or any(
            key in widget for key in ("/T", "/FT", "/Kids", "/V")
        ):
            return False
    return True


def _reader_appearance(reader: Any, field: Any) -> tuple[Any, ...] | None:
    """A field's normal appearance as pyHanko's reader reads it (see :attr:`_Field.appearance`)."""
    from pyhanko.pdf_utils import generic

    if "/AP" not in field:
        return None
    ap = field.raw_get("/AP")
    if not isinstance(ap, generic.DictionaryObject):
        return ("odd", "an indirect appearance dictionary")
    drawing = ap.raw_get("/N") if "/N" in ap else None
    if not isinstance(drawing, generic.IndirectObject):
        return ("odd", "a direct appearance")
    try:
        where = reader.xrefs[drawing.reference]
    except Exception:  # noqa: BLE001 - an odd table: never left out
        return ("odd", "an appearance the cross-reference sections do not resolve")
    offset = where if isinstance(where, int) else None
    return ("stream", drawing.idnum, drawing.generation, offset)


_PDF_HEADER = re.compile(rb"%PDF-\d\.\d")
_TAIL = re.compile(rb"[\r\n]startxref(?:\r\n|\r|\n)(\d+)(?:\r\n|\r|\n)%%EOF(?:\r\n|\r|\n)?\Z")
_PLAIN_NAME = re.compile(rb"\(([\x20-\x27\x2a-\x5b\x5d-\x7e]*)\)")
_MAX_SECTIONS = 64


def _outline_from_bytes(data: bytes) -> _Outline | None:
    """The outline read straight from the bytes, for the plainest files only: every
    cross-reference section a plain table (canonical 20-byte entries, nothing freed but
    object 0, generation 0 throughout) with a trailer and no ``/Encrypt`` or
    ``/XRefStm``, the file ending at its ``startxref`` and ``%%EOF``, and the catalog, the
    AcroForm, its field list and the fields plain objects at the offsets the tables give,
    read by :class:`_Lexer`. None for anything else: pyHanko's reader reads it then.

    On every file it accepts it gives what :func:`_outline_from_reader` gives, and the
    cross-reference sections :func:`_sections_from_reader` gives (differential property
    tests hold them together; :func:`_structure` checks the sections once more for each
    new structure); it skips pyHanko's object parser, which is most of the time of the
    fast path's answer for a document signed once, and its cross-reference parser."""
    if not _PDF_HEADER.match(data):
        return None
    tail = _TAIL.search(data, max(0, len(data) - 64))
    if tail is None:
        return None
    offsets: dict[int, int] = {}
    trailers: list[dict[bytes, Any]] = []
    tables: list[tuple[int, Any]] = []  # (start, _plain_table's reading), newest first
    seen: set[int] = set()
    start: int | None = int(tail[1])
    try:
        while start is not None:
            if start in seen or len(seen) >= _MAX_SECTIONS or start >= len(data):
                return None
            seen.add(start)
            table = _plain_table(data, start)
            if table is None:
                return None
            section, trailer, _end, opened = table
            tables.append((start, table))
            size = trailer.get(b"/Size")  # pyHanko needs it
            if size is None or size[0] != "i" or not size[1].isdigit():
                return None
            for number, (generation, offset) in section.items():
                if generation != 0:
                    return None
                offsets.setdefault(number, offset)  # the newest section's entry wins
            trailers.append(trailer)
            prev = trailer.get(b"/Prev")
            if prev is None:
                start = None
            elif prev[0] == "i" and prev[1].isdigit():
                start = int(prev[1])
            else:
                return None

        def get(key: bytes) -> Any:
            for trailer in trailers:  # newest first, as pyHanko inherits trailer keys
                if key in trailer:
                    return trailer[key]
            return None

        def resolve(value: Any) -> Any:
            if value[0] != "r":
                return value
            if value[2] != 0 or value[1] not in offsets:
                raise _NotEligible("a reference to another generation or to nothing")
            found = _lexed(data, offsets[value[1]], (value[1], 0), starts)
            if found is None or found[0] != "obj":
                raise _NotEligible("not the plain object the table names")
            return found[1]

        if get(b"/Encrypt") is not None or any(b"/XRefStm" in t for t in trailers):
            return None
        # where each object may end: at the next object or table the sections place
        starts = sorted({*offsets.values(), *(start for start, _table in tables)})
        root_ref = get(b"/Root")
        if root_ref is None or root_ref[0] != "r":
            return None
        catalog = resolve(root_ref)
        if catalog[0] != "d":
            return None
        root = dict(catalog[1])
        acroform = resolve(root[b"/AcroForm"]) if b"/AcroForm" in root else None
        if acroform is None or acroform[0] != "d":
            return None
        listed = dict(acroform[1]).get(b"/Fields")
        if listed is None:
            return None
        listed = resolve(listed)
        if listed[0] != "a":
            return None
        filled: list[_Field] = []
        locked = False
        for ref in listed[1]:
            if ref[0] != "r":
                return None
            field = resolve(ref)
            if field[0] != "d":
                return None
            entries = dict(field[1])
            if b"/Kids" in entries or b"/Parent" in entries or b"/T" not in entries:
                return None
            ft = entries.get(b"/FT")
            if ft is None or ft[0] != "n":
                return None
            if ft[1] != b"/Sig":
                continue
            locked = locked or b"/Lock" in entries or b"/SV" in entries
            value = entries.get(b"/V")
            if value is None or value == ("k", b"null"):
                continue
            if value[0] != "r" or value[2] != 0 or value[1] not in offsets:
                return None
            name = entries[b"/T"]
            plain = _PLAIN_NAME.fullmatch(name[1]) if name[0] == "s" else None
            if plain is None:
                return None
            keys = tuple(sorted(k.decode("ascii") for k in entries))
            appearance = _byte_appearance(entries.get(b"/AP"), offsets)
            name, where = plain[1].decode("ascii"), offsets[value[1]]
            filled.append(_Field(name, keys, (value[1], 0), where, appearance))
    except (_NotEligible, UnicodeDecodeError):
        return None
    sections = []
    for k in range(len(tables) - 1, -1, -1):  # oldest first
        declared, table = tables[k]
        section, opened = table[0], table[3]
        # pyHanko reads "x" and four bytes before the entries, and ends the table where
        # the trailer's dictionary starts; /Info is inherited from older trailers
        info = next((t[b"/Info"] for t in trailers[k:] if b"/Info" in t), None)
        sections.append(
            _Section(
                declared,
                declared + 5,
                opened,
                section,
                False,
                (info[1], info[2]) if info is not None and info[0] == "r" else None,
                table,
            )
        )
    catalog_keys = frozenset(k.decode("ascii") for k in root)
    return _Outline(catalog_keys, tuple(filled), locked, tuple(sections))


def _byte_appearance(ap: Any, offsets: dict[int, int]) -> tuple[Any, ...] | None:
    """A field's normal appearance read by :class:`_Lexer` (see :attr:`_Field.appearance`):
    the tables :func:`_outline_from_bytes` takes list generation 0 only, so a reference of
    another generation resolves to nothing, as pyHanko resolves it."""
    if ap is None:
        return None
    if ap[0] != "d":
        return ("odd", "an indirect appearance dictionary")
    drawing = dict(ap[1]).get(b"/N")
    if drawing is None or drawing[0] != "r":
        return ("odd", "a direct appearance")
    number, generation = drawing[1], drawing[2]
    return ("stream", number, generation, offsets.get(number) if generation == 0 else None)


def _plain_table(
    data: bytes, start: int
) -> tuple[dict[int, tuple[int, int]], dict[bytes, Any], int, int] | None:
    """A plain cross-reference table at ``start`` (canonical 20-byte entries, nothing freed
    but object 0, no object listed twice) and the trailer after it: the objects in use
    (number -> (generation, offset)), the trailer's entries, where the trailer ends and
    where its dictionary starts. None for anything else."""
    head = _XREF_HEAD.match(data, start)
    if head is None:
        return None
    at = head.end()
    listed: dict[int, tuple[int, int]] = {}
    while (sub := _XREF_SUBSECTION.match(data, at)) is not None:
        first, count = int(sub[1]), int(sub[2])
        at = sub.end()
        if count > len(data) // 20:
            return None
        # every entry is 20 bytes: the subsection's are checked at once, then sliced
        block = data[at : at + 20 * count]
        if len(block) != 20 * count or not _XREF_ENTRIES.fullmatch(block):
            return None
        at += 20 * count
        for k, number in enumerate(range(first, first + count)):
            entry = block[20 * k : 20 * k + 20]
            if entry[17] == 0x6E:  # n
                if number in listed or number == 0:
                    return None
                listed[number] = (int(entry[11:16]), int(entry[:10]))
            elif number != 0 or entry[11:16] != b"65535":
                return None
    trailer = _TRAILER_HEAD.match(data, at)
    if trailer is None:
        return None
    lexer = _Lexer(data, trailer.end(), len(data))
    value = lexer.value()
    if value[0] != "d":
        return None
    return listed, dict(value[1]), lexer.at, trailer.end()


def _sig_dict(data: bytes, field: _Field) -> _SigDict:
    """A filled signature field's dictionary, read as bytes: stored at a file offset,
    ``/ByteRange [0 a b c]`` around its own ``/Contents`` hex string (no whitespace), at
    most one plain ``/M`` date, not a document timestamp."""
    from pyhanko.pdf_utils import generic

    where = field.where
    header = _OBJ_HEADER.match(data, where)
    if header is None or (int(header[1]), int(header[2])) != field.ref:
        raise _NotEligible("xref does not point at the signature dictionary")
    base = header.end()
    # The dictionary is what lies before the first "endobj" after its header. Its
    # /ByteRange (the first after the header, and within it: checked below) names the
    # gap, a hex string: no name and no "endobj" lies in it or across its ends (each
    # would hold a byte that is no hex digit, or its "<" or ">"), so the dictionary is
    # searched around the gap, not through its many kilobytes.
    br = _BYTE_RANGE.search(data, base)
    if br is None:
        raise _NotEligible("no plain /ByteRange")
    start, a, b, c = (int(x) for x in br.groups())
    if start != 0 or a <= base or b <= a or b + c > len(data):
        raise _NotEligible("an unusual byte range")
    if data[a : a + 1] != b"<" or data[b - 1 : b] != b">":
        raise _NotEligible("the gap is not a hex string")
    der = binascii.unhexlify(memoryview(data)[a + 1 : b - 1])
    if 2 * len(der) != b - a - 2:
        raise _NotEligible("whitespace in /Contents")
    if data.find(b"endobj", base, a) >= 0:
        raise _NotEligible("the gap is not this dictionary's /Contents")
    end = data.find(b"endobj", b)
    if end < 0:
        raise _NotEligible("unterminated object")
    if br.end() > end or not _CONTENTS_KEY.search(data, base, a):
        raise _NotEligible("the gap is not this dictionary's /Contents")
    # the dictionary, without what differs from document to document
    shape_text = data[base:a] + data[b:end]
    if shape_text.count(b"/ByteRange") != 1 or shape_text.count(b"/Contents") != 1:
        raise _NotEligible("ambiguous signature dictionary")
    if b"/DocTimeStamp" in shape_text or b"/DocMDP" in shape_text:
        raise _NotEligible("a document timestamp or DocMDP")
    shape_text = _BYTE_RANGE.sub(b"/ByteRange[]", shape_text, count=1)
    m_date = _PDF_DATE.search(shape_text)
    claimed = None
    m_span = None
    if m_date is not None:
        if len(_PDF_DATE.findall(shape_text)) != 1:
            raise _NotEligible("several /M")
        raw_date = _OCTAL.sub(lambda m: bytes([int(m[1], 8)]), m_date[1])
        if not re.fullmatch(rb"D:[0-9+\-Z']{4,32}", raw_date):
            raise _NotEligible("an unusual /M")
        claimed = generic.parse_pdf_date(raw_date.decode("ascii"), strict=False)
        # where the date lies in the file (around the gap, as above)
        found = [*_PDF_DATE.finditer(data, base, a), *_PDF_DATE.finditer(data, b, end)]
        if len(found) != 1 or found[0][1] != m_date[1]:
            raise _NotEligible("/M not where it was read")
        m_span = (found[0].start(1), found[0].end(1))
        shape_text = shape_text[: m_date.start()] + b"/M()" + shape_text[m_date.end() :]
    elif b"/M" in shape_text.replace(b"/MD", b""):
        raise _NotEligible("an /M that is not a plain date")
    # plain str and int only: pyHanko's own objects point back to their reader, and a key
    # travels between processes (see :data:`Shared`)
    field_shape = (field.name, "/Sig", field.keys)
    return _SigDict(
        field.ref, where, a, b, c, m_span, claimed, der, ("pdf", shape_text, field_shape)
    )


# -- PDF: later revisions ------------------------------------------------------------------


def _structure(
    verifier: Verifier,
    readers: list[Any],
    data: bytes,
    sigs: list[_SigDict],
    sections: tuple[_Section, ...] | None,
    fields: tuple[_Field, ...],
    *,
    judge: bool = True,
) -> tuple[tuple[Any, ...], Dated | None]:
    """The structure of a PDF whose first signature is followed by later revisions: what
    every verdict on it depends on apart from its signatures (their CMS, hash and times,
    read for each document).

    That is everything in the file but (a) the data of the streams of the first signed
    revision (the page content, fonts, images: what differs from one document to the
    next; no reader looks at those bytes but to draw the pages), except the XMP metadata
    the difference analysis parses, (b) each signature's ``/Contents`` and ``/M`` values,
    (c) what the first signed revision and each later one write anew every time: the
    ``/ID`` and the dates of the document information each writes, and the names of the
    DSS's VRI entries that name the document's signatures (:func:`_vri_names`: which
    signature each names is part of the structure). Their positions are
    part of the structure, every other byte is (as two digests, the signed revision's and
    the later revisions'), and a structure is taken only when :func:`_judge_structure`
    accepts it (once per structure). The data of the DSS's OCSP answers and CRLs is
    left out too, each held by its class instead
    (:func:`_classed_answers`), and the times they speak of are returned, for
    :func:`_time_order`.
    What a signature signs is still hashed for each document, the parts left out included.

    ``readers``: pyHanko's reader of the file (one item; None: made here when needed, and
    left in it for the caller). ``sections``: the cross-reference sections the byte reader
    read (see :class:`_Section`); None: pyHanko's. ``fields``: the filled signature fields
    of the outline, with their appearances (:func:`_appearances`). ``judge=False``: a
    structure whose validation data is held by its class and that was not judged yet
    raises :class:`_Unjudged` instead of being judged now.
    """

    def read() -> Any:
        """pyHanko's reader of the file, made when first needed."""
        if readers[0] is None:
            readers[0] = _pdf_reader(data)
        return readers[0]

    from_bytes = sections is not None
    if sections is None:
        sections = _sections_from_reader(read())
    total = len(sections)
    starts: list[int] = []
    for meta in sections:
        head = _XREF_HEAD.match(data, meta.declared)
        if head is None or head.end() != meta.start:
            raise _NotEligible("a cross-reference section not where startxref says")
        starts.append(meta.declared)
    # in the file's order, but for a linearized file's first two sections: its main one,
    # at the end of the first revision, and its first page's, near the start, after which
    # pyHanko reads it (both are signed, as the first revision's other bytes are)
    placed = [starts[1], starts[0], *starts[2:]] if _linearized(data, starts) else starts
    if any(later <= earlier for earlier, later in itertools.pairwise(placed)):
        raise _NotEligible("revisions out of order")
    revisions: list[int] = []
    for sig in sigs:
        # the newest revision whose section starts before it
        r = max((q for q, start in enumerate(starts) if start < sig.end), default=-1)
        if r < 0 or any(sections[q].end > sig.end for q in range(r + 1)):
            raise _NotEligible("a signature that does not cover its revision")
        revisions.append(r)
    if any(later <= earlier for earlier, later in itertools.pairwise(revisions)):
        raise _NotEligible("two signatures in one revision")
    if any(not _EOF_END.search(data, max(0, sig.end - 8), sig.end) for sig in sigs):
        raise _NotEligible("a signature that does not end at its revision's %%EOF")
    first, r1, e1 = sigs[0], revisions[0], sigs[0].end
    if r1 >= total - 1:
        raise _NotEligible("bytes after the signature without a revision")
    # every object in its own revision's bytes; the signed revision's objects before e1
    entries: list[tuple[int, int, int, int]] = []  # (revision, number, generation, offset)
    for r in range(total):
        lo, hi = (0, e1) if r <= r1 else (e1, starts[r])
        for number, (generation, offset) in sections[r].listed.items():
            if not lo <= offset < hi:
                raise _NotEligible("an object outside its revision")
            entries.append((r, number, generation, offset))
        if r > r1 and sections[r].freed:
            raise _NotEligible("a later revision frees objects")
    for k, (sig, r) in enumerate(zip(sigs, revisions, strict=True)):
        if _last_change(sections, sig.ref) > r:
            raise _NotEligible("a signature dictionary redefined after it was signed")
        if k and not (sigs[k - 1].end <= sig.offset and sigs[k - 1].end <= sig.a):
            raise _NotEligible("a signature dictionary before the revision it signs")
    # what differs from document to document
    skeleton_spans = [(first.a + 1, first.b - 1)]
    if first.m_span is not None:
        skeleton_spans.append(first.m_span)
    streams: list[tuple[int, int, int, int, int]] = []  # (revision, number, gen, start, end)
    for r, number, generation, offset in entries:
        if r <= r1:
            found = _stream_data(data, offset, e1)
            if found is not None:
                streams.append((r, number, generation, *found))
                skeleton_spans.append(found)
    tail_spans: list[tuple[int, int]] = []
    for sig in sigs[1:]:
        tail_spans.append((sig.a + 1, sig.b - 1))
        if sig.m_span is not None:
            tail_spans.append(sig.m_span)
    # the later signatures' drawings, from the signature fields as the outline read them
    appearances = _appearances(fields, data, e1, sigs[1:])
    tail_spans.extend((start, end) for _number, _generation, start, end in appearances)
    vri = _vri_names(data, e1, sigs, tail_spans)
    tail_spans.extend((at, at + _VRI_NAME_LENGTH) for at, _k in vri)
    trailers: list[tuple[int, int]] = []
    infos: list[tuple[int, int, int]] = []  # (number, generation, offset)
    for r in range(total):
        meta = sections[r]
        trailer = data.rfind(b"trailer", meta.start, meta.end)
        ends = data.find(b"startxref", trailer) if trailer >= 0 else -1
        after = placed.index(starts[r]) + 1  # the next section in the file
        if ends < 0 or (after < total and ends > placed[after]):
            raise _NotEligible("a cross-reference table without its trailer")
        trailers.append((trailer, ends))
        if r < r1:
            continue
        # what the first signed revision and every later one write anew each time: the
        # file identifier and the document information's dates (read by no check: see
        # _judge_structure; the first signature's hash covers those of its revision)
        spans = skeleton_spans if r == r1 else tail_spans
        found_id = list(_TRAILER_ID.finditer(data, trailer, ends))
        if len(found_id) > 1:
            raise _NotEligible("several /ID")
        for m in found_id:
            spans.extend((m.span(1), m.span(2)))
        info = meta.info
        if info is not None and info[0] in meta.listed:
            generation, offset = meta.listed[info[0]]
            if generation == info[1]:
                end_obj = data.find(b"endobj", offset, starts[r])
                if end_obj < 0:
                    raise _NotEligible("unterminated object")
                spans.extend(m.span(1) for m in _INFO_DATE.finditer(data, offset, end_obj))
                if r > r1:
                    infos.append((info[0], generation, offset))
    skeleton = _digest(data, 0, e1, skeleton_spans)
    tail = _digest(data, e1, len(data), tail_spans)
    # the validation data's classes: found once for the same bytes (documents that carry
    # the same answers, their VRI names aside)
    store = _store(verifier)
    seen = (total, tuple(revisions), e1, len(data), skeleton, tail)
    with store.lock:
        classes = store.answers.get(seen)
    if classes is None:
        classes = _classed_answers(verifier, data, sections, starts, trailers, r1)
        with store.lock:
            store.answers[seen] = classes
            while len(store.answers) > MAX_TEMPLATES:
                store.answers.popitem(last=False)
    answers, classed, dated = classes
    if answers:
        tail_spans.extend((start, end) for _r, _n, _g, start, end in answers)
        tail = _digest(data, e1, len(data), tail_spans)
    key = (total, tuple(revisions), e1, len(data), skeleton, tail, vri, classed)
    with store.lock:
        judged = key in store.structures
        known = store.structures.get(key)
    if not judged and not judge and dated is not None:
        raise _Unjudged("validation data of its own, or a structure not judged yet")
    if not judged:
        layout = _Layout(
            r1,
            e1,
            starts,
            skeleton_spans,
            tail_spans,
            streams,
            trailers,
            infos,
            appearances,
            answers,
        )
        try:
            # Sections read from the bytes must be those pyHanko reads: every document
            # of this structure has the same bytes where they are read from, so this
            # check, made once, holds for all of them.
            if from_bytes and _sections_from_reader(read()) != sections:
                known = None
            else:
                known = _judge_structure(read(), data, layout)
        except Exception:  # noqa: BLE001 - anything unusual: not taken
            known = None
        with store.lock:
            store.structures[key] = known
            while len(store.structures) > MAX_TEMPLATES:
                store.structures.popitem(last=False)
    if known is None:
        raise _NotEligible("a structure the fast path does not take")
    if known.stamps and not _blank_under(data[:e1], known.stamps):
        raise _Declined("a later signature's stamp over signed page content")
    if not known.kept:
        return key, dated
    # the data of the streams the difference analysis reads after all (XMP metadata)
    where = {(r, n, g): (start, end) for r, n, g, start, end in streams}
    kept = hashlib.sha256()
    for revision, number, generation in known.kept:
        start, end = where[(revision, number, generation)]
        kept.update(b"%d %d %d %d %d\x00" % (revision, number, generation, start, end))
        kept.update(memoryview(data)[start:end])
    return (*key, kept.digest()), dated


_Classes = tuple[
    list[tuple[int, int, int, int, int]], tuple[tuple[int, bytes], ...], "Dated | None"
]
"""What :func:`_classed_answers` finds."""


def _classed_answers(
    verifier: Owner,
    data: bytes,
    sections: tuple[_Section, ...],
    starts: list[int],
    trailers: list[tuple[int, int]],
    r1: int,
) -> tuple[list[tuple[int, int, int, int, int]], tuple[tuple[int, bytes], ...], Dated | None]:
    """The OCSP answers and CRLs of the DSS (as the newest
    catalog names it, written after the signed revision ``r1``) that
    :func:`verify.fastpath_objects._answer_class` classes: (revision, number,
    generation, start, end of the data) of each, (start, class) of each, and the times
    they speak of. A signer that fetches the validation data anew for each document
    writes answers of one class, made at other times and signed anew, mostly of the same
    length: documents of one structure need not carry the same bytes. Nothing (every
    answer held by its bytes) where the DSS is not plainly read from the bytes: a stream
    that is filtered, a dictionary the lexer does not read."""
    from verify import fastpath_objects as objects

    none: tuple[list[tuple[int, int, int, int, int]], tuple[tuple[int, bytes], ...], None] = (
        [],
        (),
        None,
    )

    def read(value: Any) -> tuple[int, int, tuple[Any, ...] | None] | None:
        """(revision, offset, lexed) of the newest version of the object ``value``
        refers to."""
        if not value or value[0] != "r":
            return None
        for r in range(len(sections) - 1, -1, -1):
            found = sections[r].listed.get(value[1])
            if found is not None:
                if found[0] != value[2]:
                    return None
                return r, found[1], _lex_object(data, found[1], (value[1], value[2]))
        return None

    def dictionary(found: tuple[int, int, tuple[Any, ...] | None] | None) -> dict[bytes, Any]:
        if found is None or found[2] is None or found[2][0] != "obj" or found[2][1][0] != "d":
            raise _NotEligible("not a plain dictionary")
        return dict(found[2][1][1])

    def streams(listed: Any) -> list[tuple[int, int, int, int, int]]:
        if listed is None:
            return []
        if listed[0] != "a":
            raise _NotEligible("not an array")
        out = []
        for item in listed[1]:
            found = read(item)
            if found is None or found[2] is None or found[2][0] != "stream" or found[0] <= r1:
                raise _NotEligible("not a stream written after the signature")
            entries = found[2][1]
            if entries[0] != "d" or {b"/Filter", b"/DecodeParms"} & dict(entries[1]).keys():
                raise _NotEligible("a filtered stream")
            span = _stream_data(data, found[1], starts[found[0]])
            if span is None:
                raise _NotEligible("not a stream")
            out.append((found[0], item[1], item[2], *span))
        return out

    try:
        at, end = trailers[-1]
        trailer = _Lexer(data, at + len(b"trailer"), end).value()
        if trailer[0] != "d":
            return none
        dss = read(dictionary(read(dict(trailer[1]).get(b"/Root"))).get(b"/DSS"))
        if dss is None or dss[0] <= r1:
            return none
        entries = dictionary(dss)
        certificates = streams(entries.get(b"/Certs"))
        answers = [
            (kind, found)
            for key, kind in ((b"/OCSPs", objects._ocsp_class), (b"/CRLs", objects._crl_class))
            for found in streams(entries.get(key))
        ]
    except _NotEligible:
        return none
    signers = [data[start:stop] for _r, _n, _g, start, stop in certificates]
    signed_by = objects.signers_key(signers)
    held: list[tuple[int, int, int, int, int]] = []
    classed: list[tuple[int, bytes]] = []
    times: list[tuple[bytes, datetime]] = []
    certified = set(signers)
    for kind, (r, number, generation, start, stop) in answers:
        try:
            found = objects.classed(kind, data[start:stop], signers, signed_by)
        except objects._Unclassed:
            continue
        held.append((r, number, generation, start, stop))
        classed.append((start, found.digest))
        times.extend((found.digest + b"%d" % k, t) for k, t in enumerate(found.times))
        certified.update(found.carried)
    if not held:
        return none
    return held, tuple(classed), Dated(tuple(sorted(times)), tuple(sorted(certified)))


_VRI_NAME_LENGTH = 40
"""Hex digits in a VRI entry's name (an SHA-1)."""
_NAME_ENDS = frozenset(b"\x00\t\n\x0c\r ()<>[]{}/%")
"""Bytes that end a PDF name: white space and delimiters."""


def _vri_name(contents: bytes) -> bytes:
    """The name pyHanko (and other writers) give the DSS's VRI entry of a signature whose
    ``/Contents`` is ``contents``: ``/`` and its SHA-1 in upper-case hex."""
    return b"/" + hashlib.sha1(contents).hexdigest().upper().encode()  # noqa: S324


def _vri_names(
    data: bytes, e1: int, sigs: list[_SigDict], spans: list[tuple[int, int]]
) -> tuple[tuple[int, int], ...]:
    """(place of the hex digits, signature index) of each name in the later revisions
    that is the name of a signature's ``/VRI`` entry: ``/`` and the SHA-1 of that
    signature's ``/Contents`` in upper-case hex, as pyHanko and other writers name it
    (``DocumentSecurityStore.sig_content_identifier``).

    It differs in every document, as the signature does, so the structure holds its place
    and which signature it names instead of its digits (as
    :mod:`verify.fastpath_objects` does). Nothing in a verdict reads more of such a name:
    pyHanko reads the DSS's validation data from its ``/Certs``, ``/OCSPs`` and
    ``/CRLs`` alone, and its difference analysis asks of a VRI name only that it is
    40 upper-case hex digits and whether it is the same as another name; a name that
    names one of the document's signatures does so in every document of the structure,
    and two such names are the same exactly when they name the same signature. Names
    inside a part already left out (a stamp's drawing) are not looked for."""
    found: list[tuple[int, int]] = []
    for k, sig in enumerate(sigs):
        name = _vri_name(sig.der)
        at = data.find(name, e1)
        while at >= 0:
            end = at + len(name)
            whole = end == len(data) or data[end] in _NAME_ENDS
            if whole and not any(lo < end and at < hi for lo, hi in spans):
                found.append((at + 1, k))
            at = data.find(name, end)
    return tuple(sorted(found))


def _metadata_refs(reader: Any, r1: int) -> set[tuple[int, int]]:
    """The XMP metadata streams the catalog names, in revision ``r1`` and after."""
    from pyhanko.pdf_utils import generic

    found = set()
    for r in range(r1, reader.xrefs.total_revisions):
        root = reader.get_historical_root(r)
        value = root.raw_get("/Metadata") if "/Metadata" in root else None
        if isinstance(value, generic.IndirectObject):
            found.add((value.idnum, value.generation))
        elif value is not None:
            raise _NotEligible("direct metadata")
    return found


_EOF_END = re.compile(rb"%%EOF(?:\r\n|\r|\n)?\Z")

_LINEARIZED = re.compile(
    rb"\A%PDF-\d\.\d[^\n\r]*[\r\n]+(?:%[^\r\n]*[\r\n]+)*\d+ 0 obj\s*<<\s*/Linearized\s"
)
"""The start of a linearized file: its header and comments, then the linearization
dictionary (PDF 32000-1, Annex F: the first object in the file)."""


def _linearized(data: bytes, starts: list[int]) -> bool:
    """Whether ``data`` is laid out as a linearized file (its first object the
    linearization dictionary) whose first two cross-reference sections, in pyHanko's
    order of revisions, are its main one (at the end of the first revision) and then its
    first page's (near the start of the file)."""
    return len(starts) >= 2 and starts[1] < starts[0] and _LINEARIZED.match(data) is not None


_BEFORE_STREAM = frozenset(b"\x00\t\n\x0c\r >")


def _stream_keyword_end(data: bytes, pos: int, endpos: int) -> int | None:
    """Where the first ``stream`` keyword in ``data[pos:endpos]`` ends, with its end of
    line (CRLF or LF, inside the window), after whitespace, ``>`` or NUL (which may lie
    before ``pos``); None if there is none. Found with ``bytes.find``: a regular
    expression's look-behind, tried at every byte, cost a B-LT document a tenth of its
    time (a property test holds the two to the same answer)."""
    at = data.find(b"stream", pos, endpos)
    while at >= 0:
        after = at + 6
        if at > 0 and data[at - 1] in _BEFORE_STREAM:
            if after + 2 <= endpos and data[after : after + 2] == b"\r\n":
                return after + 2
            if after + 1 <= endpos and data[after : after + 1] == b"\n":
                return after + 1
        at = data.find(b"stream", at + 1, endpos)
    return None


def _stream_data(data: bytes, offset: int, limit: int) -> tuple[int, int] | None:
    """Where the data of the stream object at ``offset`` lies (without the end-of-line
    before ``endstream``), or None for an object that is not a stream. Found by looking
    at the bytes; :func:`_judge_structure` checks that pyHanko reads exactly these
    bytes as the stream's data."""
    end_obj = data.find(b"endobj", offset, limit)
    start = _stream_keyword_end(data, offset, end_obj if end_obj >= 0 else limit)
    if start is None:
        return None
    end = data.find(b"endstream", start, limit)
    if end < 0:
        raise _NotEligible("a stream without endstream")
    if data[end - 2 : end] == b"\r\n":
        end -= 2
    elif data[end - 1 : end] in (b"\n", b"\r"):
        end -= 1
    if end < start:
        raise _NotEligible("an unusual stream")
    return start, end


def _digest(data: bytes, start: int, end: int, spans: list[tuple[int, int]]) -> bytes:
    """SHA-256 of ``data[start:end]`` without the ``spans`` (their places included)."""
    hasher = hashlib.sha256()
    view = memoryview(data)
    at = start
    for lo, hi in sorted(spans):
        if not at <= lo <= hi <= end:
            raise _NotEligible("overlapping parts")
        hasher.update(view[at:lo])
        hasher.update(b"\x00%d,%d\x00" % (lo, hi))
        at = hi
    hasher.update(view[at:end])
    return hasher.digest()


_ALLOWED_CHANGES = frozenset(
    {b"/SigFlags", b"/DSS", b"/Extensions", b"/Version", b"/ModDate", b"/Producer"}
)
"""Keys a later revision may change in any dictionary it redefines: none of them is read
to draw a page (pyHanko writes PDF 2.0 with an ECDSA signature: ``/Version``,
``/Extensions`` and new XMP ``/Metadata`` in the catalog)."""
_APPENDABLE = frozenset({b"/Annots", b"/Fields"})
"""Arrays of references a later revision may only append to (new signature widgets)."""
_TRAILER_KEYS = frozenset({b"/Size", b"/Root", b"/Info", b"/ID", b"/Prev"})
_INFO_KEYS = frozenset(
    {
        b"/Title",
        b"/Author",
        b"/Subject",
        b"/Keywords",
        b"/Creator",
        b"/Producer",
        b"/CreationDate",
        b"/ModDate",
        b"/Trapped",
    }
)
_TRAILER_ID = re.compile(rb"/ID\s*\[\s*<([0-9A-Fa-f]*)>\s*<([0-9A-Fa-f]*)>\s*\]")
_INFO_DATE = re.compile(rb"/(?:ModDate|CreationDate)\s*\(((?:[0-9A-Z+\-':]|\\[0-7]{3}){4,40})\)")


@dataclass(frozen=True)
class _Layout:
    """Where things are in a PDF with later revisions (see :func:`_structure`)."""

    r1: int
    """The revision the first signature signs."""
    e1: int
    """Where its signed bytes end."""
    starts: list[int]
    """Where each revision's cross-reference table starts."""
    skeleton_spans: list[tuple[int, int]]
    """What is left out of the signed revision (before ``e1``)."""
    tail_spans: list[tuple[int, int]]
    """What is left out of the later revisions."""
    streams: list[tuple[int, int, int, int, int]]
    """(revision, number, generation, start, end) of each stream's data left out."""
    trailers: list[tuple[int, int]]
    """Each revision's trailer, from ``trailer`` to ``startxref``."""
    infos: list[tuple[int, int, int]]
    """(number, generation, offset) of the document information each later revision
    writes (its dates are left out)."""
    appearances: list[tuple[int, int, int, int]]
    """(number, generation, start, end) of each later signature's appearance stream (its
    data is left out)."""
    answers: list[tuple[int, int, int, int, int]] = dataclass_field(default_factory=list)
    """(revision, number, generation, start, end) of each OCSP answer and CRL of the DSS
    held by its class (its data is left out: :func:`_classed_answers`)."""


@dataclass(frozen=True)
class _Judged:
    """What :func:`_judge_structure` found in a structure it takes."""

    kept: tuple[tuple[int, int, int], ...]
    """(revision, number, generation) of the signed revision's streams whose data is part
    of the shape after all (the XMP metadata the difference analysis parses)."""
    stamps: tuple[tuple[int, Box], ...]
    """(page index, box where the page is drawn, :data:`verify.visual.Box`) of each later
    signature's visible widget (and each filled field's): the signed page must be blank
    under each, checked for every document (:func:`_blank_under`)."""
    fills: tuple[tuple[int, tuple[int, Box]], ...] = ()
    """(revision, (page index, box)) of each widget of a field a later revision fills
    in (:mod:`verify.fastpath_objects`): the rendered comparison of each earlier signature
    allows its drawing only if the field's value changed, checked for every document."""


def _judge_structure(reader: Any, data: bytes, layout: _Layout) -> _Judged | None:
    """Whether every verdict on documents of this structure is the same whatever is left
    out (the signatures aside). Looks only at bytes that are part of the structure, so
    the answer holds for every document of it:

    - pyHanko reads as each stream's data exactly the bytes left out (so the rest of its
      parse, the difference analysis included, is the same for every document);
    - each later revision is a plain cross-reference table and a trailer that keeps the
      document's catalog, and what it redefines is drawn exactly as before: dictionaries
      whose entries stay as they were (token for token) but for keys no page drawing
      reads, and ``/Annots`` / ``/Fields`` arrays that only gain new signature widgets,
      of zero area or *stamps* (:func:`_stamp_widget`); the signed revision refers to
      nothing the later revisions add. So the signed revision and the final file are
      drawn alike but inside the stamps, whatever the pages show;
    - each stamp's appearance (whose data is left out) is a new form XObject stream
      without filters that pyHanko reads exactly as the bytes left out, and nothing but
      its widget refers to it. pyHanko's difference analysis allows a new signature field
      and everything its ``/AP`` reaches (``SigFieldCreationRule``) without reading the
      drawing; the comparison of rendered pages allows a drawing inside the widget of a
      new signature unless the signed page has content under it. The drawing is clipped
      to the widget, so every document whose signed page is blank under each stamp
      (checked for each document, :func:`_blank_under`) gets the same comparison as the
      document the template was made from: nothing found;
    - the document information whose dates are left out is a plain information
      dictionary that nothing but a trailer refers to;
    - the validation data (DSS) is all in the later revisions (none in the signed one:
      the analysis of a DSS compares both versions).

    The one kind of stream data the difference analysis reads is the XMP metadata the
    catalog names (checked to be well-formed XML, before and after each later revision):
    the (revision, number, generation) of each such stream of the signed revision is
    returned, their data is part of the shape; so are the places of the stamps. None: not
    taken.
    """
    from pyhanko.pdf_utils import generic

    xrefs = reader.xrefs
    total = xrefs.total_revisions
    r1, starts = layout.r1, layout.starts
    for r, number, generation, start, end in [*layout.streams, *layout.answers]:
        stream = reader.get_object(generic.Reference(number, generation, reader), revision=r)
        if not isinstance(stream, generic.StreamObject) or stream.encoded_data != data[start:end]:
            return None
    root = reader.trailer.raw_get("/Root", revision=r1)
    if not isinstance(root, generic.IndirectObject) or "/DSS" in reader.get_historical_root(r1):
        return None
    metadata = _metadata_refs(reader, r1)
    kept = tuple(
        (r, number, generation)
        for r, number, generation, _start, _end in layout.streams
        if (number, generation) in metadata
    )
    root_ref = ("r", root.idnum, root.generation)
    drawings = {(number, generation) for number, generation, _s, _e in layout.appearances}
    claimed: dict[tuple[int, int], int] = {}  # drawing -> the widget it draws
    added: set[int] = set()
    for r in range(r1 + 1, total):
        section = xrefs.get_xref_data(r).standard_xrefs
        if not _plain_section(data, starts[r], starts[r - 1], section, root_ref):
            return None
        appended: list[tuple[int, int]] = []
        new_here: set[tuple[int, int]] = set()
        redefined: list[tuple[Any, int, int]] = []
        for number, (generation, offset) in section.items():
            ref = generic.Reference(number, generation, reader)
            before = xrefs.get_historical_ref(ref, r - 1)
            if before is None:
                new_here.add((number, generation))
                if xrefs.get_historical_ref(ref, r1) is None:
                    added.add(number)
            elif isinstance(before, int):
                redefined.append((ref, before, offset))
            else:
                return None
        for ref, before, offset in redefined:
            expected = (ref.idnum, ref.generation)
            old, new = _lex_object(data, before, expected), _lex_object(data, offset, expected)
            if (ref.idnum, ref.generation) in metadata and _xmp(old) and _xmp(new):
                continue  # new XMP metadata (kept in the structure, as the old one is)
            grown = _appended(old, new, new_here)
            if grown is None:
                return None
            appended.extend(grown)
        for number, generation in appended:
            if (number, generation) not in new_here:
                return None
            widget = _lex_object(data, section[number][1], None)
            if _empty_signature_widget(widget):
                continue
            drawing = _stamp_widget(widget)
            if drawing is None or drawing not in drawings & new_here:
                return None
            if claimed.setdefault(drawing, number) != number:
                return None  # one drawing, two widgets
    infos = {number for number, _generation, _offset in layout.infos}
    for number, generation, offset in layout.infos:
        info = _lex_object(data, offset, (number, generation))
        if number == root.idnum or not (info and info[0] == "obj" and info[1][0] == "d"):
            return None
        if not {key for key, _value in info[1][1]} <= _INFO_KEYS:
            return None
    # the bytes every document of the structure has, without what is left out
    signed = _pieces(data, 0, layout.e1, layout.skeleton_spans)
    if added and _refers_to(signed, len(signed), added):
        return None
    if infos:
        spans = [*layout.skeleton_spans, *layout.tail_spans, *layout.trailers]
        without = _pieces(data, 0, len(data), spans)  # and without the trailers
        if _refers_to(without, len(without), infos):
            return None
    if not _validation_data_after(reader, r1):
        return None
    if claimed.keys() != drawings:
        return None  # an appearance left out that is not a stamp's
    stamps: tuple[tuple[int, Box], ...] = ()
    if drawings:
        if not _plain_drawings(reader, data, layout):
            return None
        stamps = _stamps(reader, r1)
    return _Judged(kept, stamps)


def _stamps(reader: Any, r1: int) -> tuple[tuple[int, Box], ...]:
    """(page index, box where the page is drawn) of each signature widget of non-zero area
    added after revision ``r1``: the signed page must be blank under each."""
    from verify.visual import field_changes

    return tuple(
        (page, rect)
        for change in field_changes(reader, r1)
        if change.is_signature
        for page, rect in change.widgets
        if rect[0] < rect[2] and rect[1] < rect[3]
    )


def _pieces(data: bytes, start: int, end: int, spans: list[tuple[int, int]]) -> bytes:
    """``data[start:end]`` without the ``spans`` (which may overlap), the pieces joined by
    ``|`` (across which no reference can be read)."""
    pieces = []
    at = start
    for lo, hi in sorted(spans):
        if lo > at:
            pieces.append(data[at:lo])
        at = max(at, hi)
    pieces.append(data[at:end])
    return b"|".join(pieces)


def _validation_data_after(reader: Any, r1: int) -> bool:
    """Every object the DSS reaches was written after the signed revision ``r1``."""
    from pyhanko.pdf_utils import generic

    xrefs = reader.xrefs
    dss = reader.root.raw_get("/DSS") if "/DSS" in reader.root else None
    todo = [dss] if dss is not None else []
    seen: set[tuple[int, int]] = set()
    while todo:
        if len(seen) > 100_000:
            return False
        obj = todo.pop()
        if isinstance(obj, generic.IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            if xrefs.get_last_change(obj.reference) <= r1:
                return False
            obj = obj.get_object()  # type: ignore[no-untyped-call]
        if isinstance(obj, generic.DictionaryObject):  # streams too: their dictionaries
            todo.extend(obj.raw_get(k) for k in obj)
        elif isinstance(obj, generic.ArrayObject):
            todo.extend(obj.raw_get(i) for i in range(len(obj)))
    return True


_XREF_HEAD = re.compile(rb"xref(?:\r\n|\r|\n)")
_XREF_SUBSECTION = re.compile(rb"(\d+) (\d+)[ \t]*(?:\r\n|\r|\n)")
_XREF_ENTRIES = re.compile(rb"(?:\d{10} \d{5} [nf](?: \r| \n|\r\n))*")
"""Entries of a cross-reference table: offset, generation, in use or free, end of line
(20 bytes each)."""
_TRAILER_HEAD = re.compile(rb"trailer[\x00\t\n\x0c\r ]*")
_WS = rb"[\x00\t\n\x0c\r ]"
_STARTXREF_TAIL = re.compile(_WS + rb"*startxref" + _WS + rb"+(\d+)" + _WS + rb"+%%EOF")


def _plain_section(
    data: bytes,
    start: int,
    previous: int,
    section: dict[int, tuple[int, int]],
    root: tuple[str, int, int],
) -> bool:
    """A later revision's cross-reference section, read as bytes: a plain table listing
    exactly the objects pyHanko read from it (any reader reads the same), then a trailer
    with the same catalog and ``/Prev`` to the revision before, then its startxref."""
    table = _plain_table(data, start)
    if table is None:
        return False
    listed, entries, end, _opened = table
    if listed != section:
        return False
    if not set(entries) <= _TRAILER_KEYS or entries.get(b"/Root") != root:
        return False
    if entries.get(b"/Prev") != ("i", b"%d" % previous):
        return False
    tail = _STARTXREF_TAIL.match(data, end)
    return tail is not None and int(tail[1]) == start


def _appended(old: Any, new: Any, new_here: set[tuple[int, int]]) -> list[tuple[int, int]] | None:
    """The references a redefined dictionary appends to its ``/Annots`` or ``/Fields``,
    if it changes nothing else but keys no page drawing reads (``/Metadata`` only to an
    object of this revision, ``new_here``); None otherwise."""
    if not (old and new and old[0] == new[0] == "obj"):
        return None
    return _appended_entries(old[1], new[1], new_here, 0)


def _appended_entries(
    old: Any, new: Any, new_here: set[tuple[int, int]], depth: int
) -> list[tuple[int, int]] | None:
    """:func:`_appended` on two dictionary values (and on a catalog's direct ``/AcroForm``
    dictionary within, by the same rule)."""
    if not (old[0] == new[0] == "d"):
        return None
    before, after = dict(old[1]), dict(new[1])
    grown: list[tuple[int, int]] = []
    for key in before.keys() | after.keys():
        was, now = before.get(key), after.get(key)
        if key in _ALLOWED_CHANGES or _same_value(was, now):
            continue
        if key == b"/Metadata" and now is not None and now[0] == "r" and now[1:] in new_here:
            continue
        if key == b"/AcroForm" and depth == 0 and was is not None and now is not None:
            inner = _appended_entries(was, now, new_here, 1)
            if inner is None:
                return None
            grown.extend(inner)
            continue
        if key not in _APPENDABLE or now is None:
            return None
        old_refs = [] if was is None else _refs(was)
        new_refs = _refs(now)
        if old_refs is None or new_refs is None or new_refs[: len(old_refs)] != old_refs:
            return None
        grown.extend(new_refs[len(old_refs) :])
    return grown


def _same_value(a: Any, b: Any) -> bool:
    """Two values the lexer read are the same PDF object: token for token, but for strings
    written another way (a writer that rewrites a dictionary may escape its strings anew:
    ``(/Helv 0 Tf)`` as ``(\\057Helv 0 Tf)``, or write a text in UTF-16 hex anew as a
    plain one: ``<FEFF00430043>`` as ``(CC)``), which are compared as pyHanko reads and
    compares them (texts by their text, byte strings by their bytes)."""
    if a == b:
        return True
    if a is None or b is None:
        return False
    if a[0] in _STRINGS and b[0] in _STRINGS:
        return bool(_string_value(a) == _string_value(b))
    if a[0] == b[0] == "d":
        da, db = dict(a[1]), dict(b[1])
        return da.keys() == db.keys() and all(_same_value(da[k], db[k]) for k in da)
    if a[0] == b[0] == "a":
        return len(a[1]) == len(b[1]) and all(map(_same_value, a[1], b[1]))
    return False


_STRINGS = frozenset({"s", "h"})


def _string_value(token: Any) -> Any:
    """A string token as pyHanko reads it: a text (``TextStringObject``, a ``str``) or a
    byte string (``ByteStringObject``, ``bytes``)."""
    from pyhanko.pdf_utils import generic

    stream = io.BytesIO(token[1])
    if token[0] == "h":
        return generic.read_hex_string_from_stream(stream)
    return generic.read_string_from_stream(stream)


def _xmp(obj: Any) -> bool:
    """An XMP metadata stream (no page drawing reads it)."""
    if not (obj and obj[0] == "stream" and obj[1][0] == "d"):
        return False
    entries = dict(obj[1][1])
    return entries.get(b"/Type") == ("n", b"/Metadata") and entries.get(b"/Subtype") == (
        "n",
        b"/XML",
    )


def _refs(value: Any) -> list[tuple[int, int]] | None:
    """An array of references as (number, generation) pairs; None for anything else."""
    if value[0] != "a" or any(item[0] != "r" for item in value[1]):
        return None
    return [(item[1], item[2]) for item in value[1]]


def _empty_signature_widget(obj: Any) -> bool:
    """A signature field merged with its widget, of zero area: nothing to draw."""
    if not (obj and obj[0] == "obj" and obj[1][0] == "d"):
        return False
    entries = dict(obj[1][1])
    if entries.get(b"/FT") != ("n", b"/Sig") or entries.get(b"/Subtype") != ("n", b"/Widget"):
        return False
    if b"/Kids" in entries or b"/Parent" in entries:
        return False
    rect = entries.get(b"/Rect")
    if rect is None or rect[0] != "a" or len(rect[1]) != 4:
        return False
    if any(item[0] not in ("i", "f") for item in rect[1]):
        return False
    x1, y1, x2, y2 = (float(item[1]) for item in rect[1])
    return x1 == x2 or y1 == y2


def _stamp_widget(obj: Any) -> tuple[int, int] | None:
    """A signature field merged with its widget, of non-zero area, drawn by one appearance
    stream (``/AP << /N n g R >>``): that stream's (number, generation); None otherwise."""
    if not (obj and obj[0] == "obj" and obj[1][0] == "d"):
        return None
    entries = dict(obj[1][1])
    if entries.get(b"/FT") != ("n", b"/Sig") or entries.get(b"/Subtype") != ("n", b"/Widget"):
        return None
    if b"/Kids" in entries or b"/Parent" in entries or b"/AS" in entries:
        return None
    rect = entries.get(b"/Rect")
    if rect is None or rect[0] != "a" or len(rect[1]) != 4:
        return None
    if any(item[0] not in ("i", "f") for item in rect[1]):
        return None
    x1, y1, x2, y2 = (float(item[1]) for item in rect[1])
    if x1 == x2 or y1 == y2:
        return None
    flags = entries.get(b"/F", ("i", b"0"))
    if flags[0] != "i" or int(flags[1]) & _UNBOXED:
        return None
    ap = entries.get(b"/AP")
    if ap is None or ap[0] != "d" or len(ap[1]) != 1 or ap[1][0][0] != b"/N":
        return None
    drawing = ap[1][0][1]
    return (drawing[1], drawing[2]) if drawing[0] == "r" else None


_UNBOXED = 8 | 16
"""Annotation flags NoZoom and NoRotate: such an appearance is not drawn inside its /Rect."""
_UNPLAIN_STREAM = frozenset({b"/Filter", b"/DecodeParms", b"/F", b"/FFilter", b"/FDecodeParms"})


def _plain_drawings(reader: Any, data: bytes, layout: _Layout) -> bool:
    """Each stamp's appearance is a form XObject stream without filters (so its decoded
    size is its length, part of the structure), that pyHanko reads exactly as the bytes
    left out, and that only its widget refers to (nothing else reads the drawing)."""
    from pyhanko.pdf_utils import generic

    rest = _pieces(data, layout.e1, len(data), layout.tail_spans)
    numbers = {number for number, _generation, _start, _end in layout.appearances}
    for number, generation, start, end in layout.appearances:
        ref = generic.Reference(number, generation, reader)
        offset = reader.xrefs[ref]
        lexed = _lex_object(data, offset, (number, generation)) if isinstance(offset, int) else None
        if not (lexed and lexed[0] == "stream" and lexed[1][0] == "d"):
            return False
        entries = dict(lexed[1][1])
        if entries.get(b"/Subtype") != ("n", b"/Form") or _UNPLAIN_STREAM & entries.keys():
            return False
        box = entries.get(b"/BBox")
        if box is None or box[0] != "a" or len(box[1]) != 4:
            return False
        if entries.get(b"/Length") != ("i", b"%d" % (end - start)):
            return False
        stream = reader.get_object(ref)
        if not isinstance(stream, generic.StreamObject) or stream.encoded_data != data[start:end]:
            return False
    counts = _reference_counts(rest, numbers)
    return all(counts.get(number) == 1 for number in numbers)


def _reference_counts(data: bytes, numbers: set[int]) -> dict[int, int]:
    """How many times ``data`` may refer to each of ``numbers`` (read as :func:`_refers_to`
    reads references: a false count only sends the document to full validation)."""
    counts: dict[int, int] = {}
    i = data.find(b"R")
    while i >= 0:
        found = _REF_TAIL.search(data, max(0, i - 20), i)
        if found is not None and int(found[1]) in numbers:
            counts[int(found[1])] = counts.get(int(found[1]), 0) + 1
        i = data.find(b"R", i + 1)
    return counts


def _appearances(
    fields: tuple[_Field, ...], data: bytes, e1: int, later: list[_SigDict]
) -> list[tuple[int, int, int, int]]:
    """(number, generation, start, end) of the data of the appearance stream (``/AP /N``)
    of each signature field filled after the first signature, when that stream was
    written after it: the drawing, which holds the signer's name and time, is left out of
    the structure (see :func:`_judge_structure` for when that is taken). ``fields``: the
    filled signature fields of the outline (:attr:`_Field.appearance`)."""
    values = {sig.ref for sig in later}
    found: list[tuple[int, int, int, int]] = []
    for field in fields:
        if field.ref not in values or field.appearance is None:
            continue
        if field.appearance[0] == "odd":
            raise _NotEligible(field.appearance[1])
        _kind, number, generation, offset = field.appearance
        if offset is None or offset < e1:
            continue  # not left out: the structure holds it
        span = _stream_data(data, offset, len(data))
        if span is None:
            raise _NotEligible("an appearance that is not a stream")
        found.append((number, generation, *span))
    return found


_BLANK = 250
"""The signed page counts as blank under a stamp when no pixel there is darker than this
(the rendered comparison counts pixels darker than 200 as content)."""


def _blank_under(signed: bytes, stamps: tuple[tuple[int, Box], ...]) -> bool:
    """Whether the signed revision's pages, drawn as the rendered comparison draws them
    (PDFium, no annotations), are blank under each stamp and a few pixels around it."""
    import math

    from verify import visual

    try:
        # the very drawing the comparison makes (under the same lock: PDFium is not
        # thread-safe)
        images = visual._render(signed, max(page for page, _rect in stamps) + 1, annots=False)
    except Exception:  # noqa: BLE001 - a page PDFium cannot draw goes to full validation
        return False
    scale = visual.DPI / 72
    for page, (x1, y1, x2, y2) in stamps:
        if page >= len(images):
            return False
        image = images[page]
        width, height = image.size
        box = (  # the stamp where the page is drawn (verify.visual's boxes)
            max(0, math.floor(x1 * scale) - 3),
            max(0, math.floor(y1 * scale) - 3),
            min(width, math.ceil(x2 * scale) + 3),
            min(height, math.ceil(y2 * scale) + 3),
        )
        if box[0] >= box[2] or box[1] >= box[3]:
            continue  # off the page: nothing under it
        darkest, _lightest = image.crop(box).getextrema()
        if darkest < _BLANK:
            return False
    return True


_OBJ_HEAD = re.compile(rb"(\d+)[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+obj")


def _lex_object(
    data: bytes, offset: int, expected: tuple[int, int] | None
) -> tuple[Any, ...] | None:
    """``n g obj value endobj`` at ``offset`` as tokens (``("obj", value)``), or
    ``("stream", dictionary)`` for a stream, or None when it is anything else (a comment,
    a name with ``#``, a repeated key...: nothing the fast path needs to understand)."""
    return _lex_object_to(data, offset, expected)[0]


def _lex_object_to(
    data: bytes, offset: int, expected: tuple[int, int] | None
) -> tuple[tuple[Any, ...] | None, int]:
    """:func:`_lex_object`, and how far it read (the end of data where it did not end)."""
    head = _OBJ_HEAD.match(data, offset)
    if head is None:
        return None, len(data)
    if expected is not None and (int(head[1]), int(head[2])) != expected:
        return None, len(data)
    lexer = _Lexer(data, head.end(), len(data))
    try:
        value = lexer.value()
        keyword = lexer.token()
    except _NotEligible:
        return None, len(data)
    if keyword == b"endobj":
        return ("obj", value), lexer.at
    if keyword == b"stream":
        return ("stream", value), lexer.at
    return None, len(data)


_LEXED: OrderedDict[tuple[Any, ...], tuple[Any, ...] | None] = OrderedDict()
"""Objects :func:`_lexed` read, by their bytes up to the next object and 20 more."""
_LEXED_LOCK = threading.Lock()
_LEXED_LARGEST = 4096
"""Objects with more bytes than this up to the next are read anew each time."""


def _lexed(
    data: bytes, offset: int, expected: tuple[int, int], starts: list[int]
) -> tuple[Any, ...] | None:
    """:func:`_lex_object`, remembered across documents by the object's bytes up to the
    next thing its file's sections place after it (``starts``, in order), and 20 more (a
    number's look for pyHanko's reference pattern reads at most 20 bytes): where it ended
    before that, the lexer read nothing else."""
    i = bisect.bisect_right(starts, offset)
    bound = starts[i] if i < len(starts) else len(data)
    if bound - offset > _LEXED_LARGEST:
        return _lex_object(data, offset, expected)
    key = (expected, hashlib.blake2b(data[offset : bound + 20]).digest())
    with _LEXED_LOCK:
        if key in _LEXED:
            return _LEXED[key]
    found, end = _lex_object_to(data, offset, expected)
    if end <= bound:
        with _LEXED_LOCK:
            _LEXED[key] = found
            while len(_LEXED) > MAX_TEMPLATES:
                _LEXED.popitem(last=False)
    return found


_WHITESPACE = b"\x00\t\n\x0c\r "
_REGULAR = re.compile(rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]+")
_PRINTABLE_NAME = re.compile(rb"/[\x21-\x7e]*")
"""A name pyHanko reads (``generic._decode_name``): every byte printable ASCII, the
delimiters excluded by the tokenizer already."""
_TOKEN = re.compile(
    rb"[\x00\t\n\x0c\r ]*(<<|>>|\[|\]|/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*|\((?:[^()\\]|\\.)*\)"
    rb"|<[0-9A-Fa-f\x00\t\n\x0c\r ]*>|[^\x00\t\n\x0c\r ()<>\[\]{}/%]+)",
    re.S,
)
"""One token after any whitespace, as :meth:`_Lexer.token` reads it, in one step."""
_PYHANKO_REF = re.compile(rb"(\d+)\s+(\d+)\s+(R)[^a-zA-Z]")
"""pyHanko's ``generic.INDIRECT_PATTERN``, which it matches on the 20 bytes from a digit."""
_PLAIN_ESCAPES = re.compile(
    rb"\((?:[^\\]|\\[()/ %<>\[\]#_&$\\nrtbf\r\n]|\\[0-7]{3}|\\[0-7]{1,2}(?![0-9]))*\)", re.S
)
"""A literal string whose every escape pyHanko reads (an octal escape followed by a digit
8 or 9, or an unknown escape, fails its reader)."""
_INTEGER = re.compile(rb"[+-]?\d+\Z")
_CLOSE = re.compile(rb"[\x00\t\n\x0c\r ]*\]")
"""An array's end, as :meth:`_Lexer.token` reads it."""
_REF = re.compile(rb"[\t\n\x0c\r ]*([0-9]+)[\t\n\x0c\r ]+([0-9]+)[\t\n\x0c\r ]+(R)")
_REFS = re.compile(
    rb"((?:[\t\n\x0c\r ]*[0-9]+[\t\n\x0c\r ]+[0-9]+[\t\n\x0c\r ]+R(?=[\t\n\x0c\r \]]))+)"
    rb"[\t\n\x0c\r ]*\]"
)
"""An array of references alone, after its ``[`` (see :meth:`_Lexer._refs`)."""
_REAL = re.compile(rb"[+-]?(?:\d+\.\d*|\.\d+)\Z")


class _Lexer:
    """A strict reader of PDF objects as tokens: enough to compare two versions of a
    dictionary token for token. Anything it does not expect raises :class:`_NotEligible`."""

    def __init__(self, data: bytes, at: int, end: int) -> None:
        self.data = data
        self.at = at
        self.end = min(end, at + 1_000_000)

    def _skip(self) -> None:
        data, at = self.data, self.at
        while at < self.end and data[at] in _WHITESPACE:
            at += 1
        if at < self.end and data[at : at + 1] == b"%":
            raise _NotEligible("a comment")
        self.at = at

    def token(self) -> bytes:
        found = _TOKEN.match(self.data, self.at, self.end)
        if found is not None:
            token = found[1]
            if token[:1] == b"/":
                if b"#" in token:
                    raise _NotEligible("a name with #")
                if not _PRINTABLE_NAME.fullmatch(token):
                    raise _NotEligible("a name with a byte pyHanko wants escaped")
            self.at = found.end()
            return token
        return self._token()

    def _token(self) -> bytes:
        """:meth:`token` for what :data:`_TOKEN` does not match (nested parentheses in a
        string) and the errors."""
        self._skip()
        data, at = self.data, self.at
        if at >= self.end:
            raise _NotEligible("end of data")
        two = data[at : at + 2]
        if two in (b"<<", b">>"):
            self.at = at + 2
            return two
        one = data[at : at + 1]
        if one in b"[]":
            self.at = at + 1
            return one
        if one == b"(":
            depth, i = 0, at
            while i < self.end:
                ch = data[i : i + 1]
                if ch == b"\\":
                    i += 2
                    continue
                if ch == b"(":
                    depth += 1
                elif ch == b")":
                    depth -= 1
                    if depth == 0:
                        self.at = i + 1
                        return data[at : i + 1]
                i += 1
            raise _NotEligible("an unterminated string")
        if one == b"<":
            close = data.find(b">", at, self.end)
            if close < 0 or not re.fullmatch(rb"<[0-9A-Fa-f\x00\t\n\x0c\r ]*", data[at:close]):
                raise _NotEligible("an unusual hex string")
            self.at = close + 1
            return data[at : close + 1]
        if one == b"/":
            name = _REGULAR.match(data, at + 1, self.end)
            raw = data[at : name.end()] if name is not None else one
            if b"#" in raw:
                raise _NotEligible("a name with #")
            if not _PRINTABLE_NAME.fullmatch(raw):
                raise _NotEligible("a name with a byte pyHanko wants escaped")
            self.at = at + len(raw)
            return raw
        word = _REGULAR.match(data, at, self.end)
        if word is None:
            raise _NotEligible("an unexpected delimiter")
        self.at = word.end()
        return word[0]

    def _dictionary(self, depth: int) -> tuple[Any, ...]:
        """A dictionary's entries, its ``<<`` read."""
        entries: list[tuple[bytes, Any]] = []
        keys: set[bytes] = set()
        while True:
            saved = self.at
            key = self.token()
            if key == b">>":
                return ("d", tuple(entries))
            if key[0] != 0x2F:
                self.at = saved
                raise _NotEligible("a key that is not a name")
            if key in keys:
                raise _NotEligible("a repeated key")
            keys.add(key)
            entries.append((key, self.value(depth + 1)))

    def _array(self, depth: int, start: int) -> tuple[Any, ...]:
        """An array's items, its ``[`` (at ``start``, after any whitespace) read."""
        refs = self._refs()
        return refs if refs is not None else self._items(depth)

    def _items(self, depth: int) -> tuple[Any, ...]:
        """:meth:`_array`, item by item."""
        items: list[Any] = []
        while (close := _CLOSE.match(self.data, self.at, self.end)) is None:
            items.append(self.value(depth + 1))
        self.at = close.end()
        return ("a", tuple(items))

    def _refs(self) -> tuple[Any, ...] | None:
        """:meth:`_items` of an array of references alone (a page tree's kids, a form's
        fields, the DSS's lists), read at once; None for any other array. Each reference
        is written plainly, in at most 20 bytes with the byte after it (so that pyHanko's
        reference pattern reads it, as :meth:`value` asks), and names no object 0."""
        found = _REFS.match(self.data, self.at, self.end)
        if found is None:
            return None
        items = []
        for ref in _REF.finditer(found[1]):
            number = int(ref[1])
            if number <= 0 or ref.end(3) - ref.start(1) >= 20:
                return None
            items.append(("r", number, int(ref[2])))
        self.at = found.end()
        return ("a", tuple(items))

    def value(self, depth: int = 0) -> tuple[Any, ...]:
        if depth > 32:
            raise _NotEligible("nested too deep")
        before = self.at
        token = self.token()
        first = token[0]
        if first == 0x3C:  # <
            if token == b"<<":
                return self._dictionary(depth)
            return ("h", token)
        if first == 0x2F:  # /
            return ("n", token)
        if first == 0x5B:  # [
            return self._array(depth, before)
        if first == 0x28:  # (
            if not _PLAIN_ESCAPES.fullmatch(token):
                raise _NotEligible("a string escape pyHanko may read otherwise")
            return ("s", token)
        if token == b">>" or token == b"]":
            raise _NotEligible("an unexpected end")
        if token.isdigit() or _INTEGER.match(token):
            # a reference exactly when pyHanko reads one: a number starting with a digit
            # whose next 20 bytes match its INDIRECT_PATTERN
            start = self.at - len(token)
            digit = 0x30 <= first <= 0x39
            ref = _PYHANKO_REF.match(self.data, start, start + 20) if digit else None
            if ref is None:
                return ("i", token)
            number, generation = int(ref[1]), int(ref[2])
            if number <= 0:
                raise _NotEligible("a reference to object 0")
            self.at = ref.end(3)
            return ("r", number, generation)
        if _REAL.match(token):
            return ("f", token)
        if token in (b"true", b"false", b"null"):
            return ("k", token)
        raise _NotEligible("an unexpected token")


_REF_TAIL = re.compile(rb"(\d+)\s+\d+\s+\Z")


def _refers_to(data: bytes, end: int, numbers: set[int]) -> bool:
    """Whether ``data[:end]`` may hold a reference to one of ``numbers``.

    pyHanko reads ``n g R`` as a reference only when it fits in 20 bytes (its
    ``INDIRECT_PATTERN`` on a 20-byte peek), so every ``R`` is looked at together with
    the 20 bytes before it. A false alarm only sends the document to full validation.
    """
    i = data.find(b"R", 0, end)
    while i >= 0:
        found = _REF_TAIL.search(data, max(0, i - 20), i)
        if found is not None and int(found[1]) in numbers:
            return True
        i = data.find(b"R", i + 1, end)
    return False


# -- CMS -----------------------------------------------------------------------------------


class _CmsShape(NamedTuple):
    """What a CMS signature's skeleton (:mod:`verify.fastpath_cms`) determines: its
    algorithms, certificates and shape, and its timestamp's."""

    digest_name: str
    hash_cls: type[hashes.HashAlgorithm]
    kind: str
    certs: list[bytes]
    signer_der: bytes
    shape: tuple[Any, ...]
    timestamp: tuple[Any, ...]
    """The timestamp's shape (empty: no timestamp)."""
    tst: tuple[str, type[hashes.HashAlgorithm], str, bytes, str, list[bytes]] | None
    """The timestamp's digest algorithm, hash, key kind, TSA certificate, imprint
    algorithm and certificates."""


def _parse_cms(
    verifier: Verifier,
    der: bytes,
    signed: tuple[bytes | memoryview, ...],
    context: tuple[Any, ...],
    *,
    claimed: datetime | None = None,
    content_is_document: bool = False,
    whole: tuple[bytes | memoryview, bytes | memoryview] | None = None,
) -> tuple[_Signed, str | None]:
    """``der``: the CMS signature (ContentInfo); ``signed``: the signed bytes, in pieces
    (hashed in turn, never joined); ``claimed``: the signing time claimed outside the
    CMS (a PDF's /M), used when the CMS has no signingTime; ``content_is_document``: the
    signed bytes are the whole document (detached), so a SHA-256 digest of them is also
    the report's (returned with the signature's facts; None otherwise). ``whole``: what
    lies between a PDF signature's two signed pieces and after them (its ``/Contents``,
    the later revisions): with a SHA-256 signature, the whole file's digest (the
    report's) is made along with the signed bytes' (the file is hashed once, not twice)
    and returned.

    Its shape is read by asn1crypto (:func:`_read_cms`) once per skeleton
    (:func:`verify.fastpath_cms.read`), where asn1crypto reads the same values as the
    skeleton's reader; for a later signature of the skeleton only those values are
    read, and checked here."""

    store = _store(verifier)
    try:
        reading: fastpath_cms.Reading | None = fastpath_cms.read(der)
    except ValueError:  # (fastpath_cms.Unread among them) asn1crypto reads it
        reading = None
    known = None
    if reading is not None:
        with store.lock:
            known = store.cms.get(reading.skeleton)
    if known is not None and reading is not None:
        values = reading.values
    else:
        known, values = _read_cms(store, cms.ContentInfo.load(der))
        if reading is not None and reading.values == values:
            with store.lock:
                store.cms[reading.skeleton] = known
                while len(store.cms) > MAX_SKELETONS:
                    store.cms.popitem(last=False)
    hasher = hashlib.new(known.digest_name)
    document = None
    for k, piece in enumerate(signed):
        hasher.update(piece)
        if document is not None:
            document.update(piece)
        elif whole is not None and k == 0 and len(signed) == 2 and known.digest_name == "sha256":
            document = hasher.copy()
            document.update(whole[0])
    computed = hasher.digest()
    if document is not None and whole is not None:
        document.update(whole[1])
    intact = computed == values.digest
    _verify(
        store.keys, known.signer_der, known.kind, known.hash_cls, values.signature, values.payload
    )
    proven: datetime | None = None
    tst_certs: list[bytes] = []
    if known.tst is not None:
        digest_name, hash_cls, kind, tsa_der, imprint_algo, tst_certs = known.tst
        if hashlib.new(digest_name, values.tst_content).digest() != values.tst_digest:
            raise _NotEligible("the timestamp's digest does not match its TSTInfo")
        _verify(store.keys, tsa_der, kind, hash_cls, values.tst_signature, values.tst_payload)
        if hashlib.new(imprint_algo, values.signature).digest() != values.imprint:
            raise _NotEligible("the timestamp is not over this signature")
        proven = values.gen_time
    claimed = values.signing_time or claimed
    shape = (context, known.shape, known.timestamp, _claimed_fits(store, known.signer_der, claimed))
    one = _Signed(
        shape=shape,
        claimed=claimed,
        intact=intact,
        proven=proven,
        certs=(*known.certs, *tst_certs),
    )
    if document is not None:
        return one, document.hexdigest()
    return one, computed.hex() if content_is_document and known.digest_name == "sha256" else None


def _read_cms(store: _Store, info: cms.ContentInfo) -> tuple[_CmsShape, fastpath_cms.Values]:
    """A CMS signature read by asn1crypto: what its skeleton determines, and its values."""
    from pyhanko.sign.validation.generic_cms import extract_self_reported_ts

    if info["content_type"].native != "signed_data":
        raise _NotEligible("not SignedData")
    sd = info["content"]
    cms_forms.read_structure(sd)  # malformed: full validation's FORMAT_FAILURE
    encap = sd["encap_content_info"]
    if encap["content_type"].native != "data" or encap["content"].native is not None:
        raise _NotEligible("not detached data")
    si = _one_signer(sd)
    digest_name, hash_cls, kind = _algorithms(si)
    digest, types, kept = _signed_attributes(si, "signing_time")
    certs, signer_der = _signer_certificate(store, sd, si)
    values = fastpath_cms.Values(
        digest, b"\x31" + si["signed_attrs"].dump()[1:], si["signature"].native, None
    )
    timestamp: tuple[Any, ...] = ()
    tst = None
    if not _empty(si["unsigned_attrs"]):
        timestamp, tst, values = _read_timestamp(store, si["unsigned_attrs"], values)
    shape = _CmsShape(
        digest_name,
        hash_cls,
        kind,
        certs,
        signer_der,
        _signed_data_shape(sd, si, signer_der, certs, types, kept),
        timestamp,
        tst,
    )
    return shape, values._replace(signing_time=extract_self_reported_ts(si))


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


def _read_timestamp(
    store: _Store, unsigned: cms.CMSAttributes, values: fastpath_cms.Values
) -> tuple[
    tuple[Any, ...],
    tuple[str, type[hashes.HashAlgorithm], str, bytes, str, list[bytes]],
    fastpath_cms.Values,
]:
    """A signature timestamp, read by asn1crypto to be checked like the signature (by
    :func:`_parse_cms`): the token's own signature with ``cryptography``, its
    ``messageDigest`` over the TSTInfo, its imprint over the signature value. Returns its
    shape (everything but the time, its signingTime, serial number and nonce, and the
    values :func:`_parse_cms` checks), its algorithms, TSA and certificates, and
    ``values`` with its own."""
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
    certs, tsa_der = _signer_certificate(store, tsd, si)
    imprint = tst_info["message_imprint"]
    imprint_algo = imprint["hash_algorithm"]["algorithm"].native
    if imprint_algo not in _HASHES or imprint["hash_algorithm"]["parameters"].native is not None:
        raise _NotEligible("the timestamp's imprint algorithm")
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
    values = values._replace(
        tst_content=bytes(eci["content"].contents),
        tst_digest=digest,
        tst_payload=b"\x31" + si["signed_attrs"].dump()[1:],
        tst_signature=si["signature"].native,
        imprint=imprint["hashed_message"].native,
        gen_time=gen_time,
    )
    return shape, (digest_name, hash_cls, kind, tsa_der, imprint_algo, certs), values


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
