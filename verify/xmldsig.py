"""XML signatures (XMLDSig), as Vietnamese e-invoices and tax messages carry them.

Low level: :func:`inspect_xml` (and :func:`check_xml_signature`) checks the references and
the signature value of every ``ds:Signature`` and returns what it found; it does not judge
trust or algorithms (the :class:`~verify.Verifier` does).

**Two readings of the enveloped transform, never confused.** The XMLDSig specification
(and libxmlsec1) removes the *whole* enclosing Signature from a reference's node-set: a
reference to an element inside the signature's own ``Object`` (the ``SigningTime`` of
Vietnamese invoices) then digests nothing. .NET ``SignedXml``, which most Vietnamese
invoicing software uses, removes the Signature only when it lies inside the referenced
element, so it hashes that element as it is. Each check records the reading its references
verify under: ``"strict"`` (the specification) or ``"dotnet"`` (only the .NET rule).

**Wrapping.** A reference must resolve to exactly one element under every spelling of the
Id attribute (``Id``, ``id``, ``ID``, ``xml:id``...) in the whole document, and that element
must be where an application reads it: ``DLHDon`` and ``MCCQT`` directly under the only
``HDon``; anything else outside every Signature and ``Object``, except the signature's own
``Object/SignatureProperties/SignatureProperty/SigningTime``. Problems are reported with a
cause in Vietnamese and English, never as a pass.

**XAdES.** The unsigned properties a signature may carry (``SignatureTimeStamp``,
``ArchiveTimeStamp``, ``CertificateValues``, ``RevocationValues``,
``TimeStampValidationData``) are read by :mod:`verify.xades` into the check, only from a
``QualifyingProperties`` in the signature's own ``Object`` that targets its Id; what cannot
be read is named in :attr:`XmlSignatureCheck.xades_warnings`. An archive timestamp's input
begins with each reference's octets after its transforms, as the reference digest is
computed here (a node-set canonicalised with the timestamp's own method).

**Hostile input.** No DTD (anywhere in the file), no entities, no network, no XInclude, no
external references; size, depth, element, signature and reference counts are bounded.

Canonicalisation note: canonicalising a subtree with lxml in place can add a spurious
``xmlns=""`` that breaks genuine signatures; a node-set here is canonicalised as a
document of its own: a copy that declares every namespace in scope (lxml's deep copy when
its apex uses them all, as a SignedInfo does, else a re-parse of its serialisation, which
carries them), with inherited ``xml:*`` attributes added as C14N requires. An element in no
namespace that inherits no ``xml:*`` attribute (an e-invoice's ``DLHDon``) is canonicalised
where it is when that gives no ``xmlns=""`` (then the bytes are the copy's).

**Structures read once.** What a Signature's own subtree says (KeyInfo's certificates,
the SignedInfo methods, each Reference's URI, transforms and digest method, where its
SigningTime is) is read once per structure and remembered (:func:`_shape`, keyed by the
subtree without its DigestValue, SignatureValue and SigningTime texts); everything that
depends on the document is done for each one.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import threading
import unicodedata
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from asn1crypto import crl, ocsp, x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509 import load_der_x509_certificate
from lxml import etree

from verify import xades

__all__ = [
    "READING_DOTNET",
    "READING_STRICT",
    "XmlInspection",
    "XmlProblem",
    "XmlSignatureCheck",
    "XmlSignatureError",
    "certificate_der",
    "check_xml_signature",
    "inspect_xml",
    "looks_like_xml",
]

DS = "http://www.w3.org/2000/09/xmldsig#"
XML_NS = "http://www.w3.org/XML/1998/namespace"
_NS = {"ds": DS}

READING_STRICT = "strict"
READING_DOTNET = "dotnet"

_C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
# algorithm -> (exclusive, with comments, which inherited xml:* attributes)
_C14N: dict[str, tuple[bool, bool, tuple[str, ...] | None]] = {
    _C14N_10: (False, False, None),
    _C14N_10 + "#WithComments": (False, True, None),
    "http://www.w3.org/2001/10/xml-exc-c14n#": (True, False, ()),
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": (True, True, ()),
    "http://www.w3.org/2006/12/xml-c14n11": (False, False, ("lang", "space")),
    "http://www.w3.org/2006/12/xml-c14n11#WithComments": (False, True, ("lang", "space")),
}
_ENVELOPED = DS + "enveloped-signature"
_DIGESTS = {
    DS + "sha1": "sha1",
    "http://www.w3.org/2001/04/xmldsig-more#sha224": "sha224",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
    "http://www.w3.org/2001/04/xmldsig-more#md5": "md5",
}
_SIGNATURES = {
    DS + "rsa-sha1": ("rsa", "sha1"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": ("rsa", "sha256"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("rsa", "sha384"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("rsa", "sha512"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-md5": ("rsa", "md5"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1": ("ec", "sha1"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": ("ec", "sha256"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("ec", "sha384"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": ("ec", "sha512"),
}
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "md5": hashes.MD5(),  # noqa: S303 - judged (and refused) by the dated algorithm rules
    "sha1": hashes.SHA1(),  # noqa: S303 - judged later by the dated algorithm rules
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}
# transforms that are refused with their own cause
_NAMED_TRANSFORMS = {
    "http://www.w3.org/TR/1999/REC-xpath-19991116": "XPath",
    "http://www.w3.org/2002/06/xmldsig-filter2": "XPath Filter 2.0",
    "http://www.w3.org/TR/1999/REC-xslt-19991116": "XSLT",
    "http://www.w3.org/2001/XInclude": "XInclude",
    DS + "base64": "Base64",
}

MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 256
MAX_ELEMENTS = 500_000
MAX_SIGNATURES = 32
MAX_REFERENCES = 32
MAX_FILES = 1000
"""References in one detached signature (one per file of a container it signs)."""
MAX_CERTIFICATES = 16

_VN = ZoneInfo("Asia/Ho_Chi_Minh")

# compiled once: the limits and the Id index are looked up by libxml2, not element by element
_TOO_DEEP = etree.XPath("boolean(" + "/".join(["*"] * MAX_DEPTH) + ")")
_ELEMENTS = etree.XPath("count(descendant-or-self::*)")
# (translate keeps the length: a two-letter name is tried first, a cheaper test)
_ID_ATTRIBUTES = etree.XPath(
    "descendant-or-self::*/@*[string-length(local-name()) = 2]"
    "[translate(local-name(), 'ID', 'id') = 'id']"
)

# role of a signature, by the element that holds it: parent -> (required grandparent, role)
_ROLES: dict[str, tuple[str | None, str]] = {
    "NBan": ("DSCKS", "seller"),
    "CQT": ("DSCKS", "tax_authority"),
    "NMua": ("DSCKS", "buyer"),
    "TTCQT": (None, "tax_official"),
    "CKyDTu": (None, "declarant"),
}
# on an invoice, what each role's signature must cover
_EXPECTED_COVER = {"seller": "DLHDon", "tax_authority": "MCCQT"}
# elements of an invoice that must sit directly under its only HDon
_UNDER_HDON = frozenset({"DLHDon", "MCCQT"})
# the path inside a signature's own Object a reference may point along
_OWN_OBJECT_PATH = ("Object", "SignatureProperties", "SignatureProperty", "SigningTime")


class XmlSignatureError(ValueError):
    """The XML cannot be processed at all (a FORMAT_FAILURE); ``vi`` says it in Vietnamese."""

    def __init__(self, en: str, vi: str | None = None) -> None:
        super().__init__(en)
        self.en = en
        self.vi = vi or en


@dataclass(frozen=True)
class XmlProblem:
    """Why one signature cannot pass: a structural or wrapping problem, in both languages."""

    code: str
    vi: str
    en: str


@dataclass(frozen=True)
class XmlSignatureCheck:
    """What one XML signature says and whether its bytes verify."""

    signature_id: str | None
    signer_cert: x509.Certificate | None = field(repr=False)
    certificates: tuple[x509.Certificate, ...] = field(repr=False)
    references_ok: bool
    signature_ok: bool
    digest_algorithm: str
    """The weakest digest among the references (each is in :attr:`digest_algorithms`)."""
    signature_algorithm: str
    claimed_signing_time: datetime | None
    failed_references: tuple[str, ...] = field(default=())
    digest_algorithms: tuple[str, ...] = ()
    """Every Reference's digest algorithm, in order."""
    signature_hash: str | None = None
    """The hash of the SignatureMethod (``sha1`` for rsa-sha1)."""
    reading: str | None = None
    """``"strict"``, ``"dotnet"`` (verifies only under .NET's enveloped rule) or ``None``."""
    role: str | None = None
    covers: tuple[str, ...] = ()
    """Local names of the elements the references resolve to (the root's for ``URI=""``);
    a detached reference's file name."""
    expected_cover: str | None = None
    """On an invoice: what this role must cover (``DLHDon`` or ``MCCQT``), else ``None``."""
    problems: tuple[XmlProblem, ...] = ()
    targets: tuple[Any, ...] = field(default=(), compare=False, repr=False)
    """The lxml elements the same-document references resolve to (same order as
    :attr:`covers`, which also names detached files)."""
    signature_timestamps: tuple[xades.SignatureTimestamp, ...] = ()
    """XAdES ``SignatureTimeStamp`` tokens, each with the canonicalised SignatureValue its
    imprint must be over (read, not yet validated: see :mod:`verify.xades`)."""
    archive_timestamps: tuple[xades.SignatureTimestamp, ...] = ()
    """XAdES ``ArchiveTimeStamp`` tokens in document order, each with the input its
    imprint must be over (:func:`verify.xades.archive_imprint_input`; not yet validated)."""
    carried_certificates: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    """XAdES ``CertificateValues`` (and ``TimeStampValidationData``): certificates
    offered to build paths."""
    carried_crls: tuple[crl.CertificateList, ...] = field(default=(), repr=False)
    """XAdES ``RevocationValues/CRLValues``."""
    carried_ocsps: tuple[ocsp.OCSPResponse, ...] = field(default=(), repr=False)
    """XAdES ``RevocationValues/OCSPValues``."""
    xades_warnings: tuple[XmlProblem, ...] = ()
    """XAdES unsigned properties set aside (not this signature's, unreadable, too big);
    they never fail the signature, they only prove nothing."""

    @property
    def carries_xades(self) -> bool:
        """Whether any XAdES unsigned property was read for this signature."""
        return bool(
            self.signature_timestamps
            or self.archive_timestamps
            or self.carried_certificates
            or self.carried_crls
            or self.carried_ocsps
        )

    @property
    def covers_expected(self) -> bool | None:
        """Whether a seller signature covers DLHDon / a tax authority's covers MCCQT."""
        if self.expected_cover is None:
            return None
        return self.expected_cover in self.covers

    @property
    def intact(self) -> bool:
        return not self.problems and self.references_ok and self.signature_ok


@dataclass(frozen=True)
class XmlInspection:
    """Every signature of a document, and the document's only ``HDon`` if it is an invoice."""

    root: Any
    invoice: Any | None
    checks: tuple[XmlSignatureCheck, ...]


def looks_like_xml(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


_PARSERS = threading.local()


def _parser() -> etree.XMLParser:
    """The hardened parser, one per thread (a parser is used by one thread at a time;
    making one costs as much as parsing a small invoice)."""
    parser: etree.XMLParser | None = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_blank_text=False,
            remove_pis=False,
        )
    return parser


def _parser_limits_depth() -> bool:
    """Whether the hardened parser itself refuses an element :data:`MAX_DEPTH` levels below
    the root (libxml2 without ``XML_PARSE_HUGE`` stops at 256 levels): then no parsed
    document needs :data:`_TOO_DEEP` evaluated on it. Tried once, on this libxml2."""
    deep = b"<a>" * (MAX_DEPTH + 1) + b"</a>" * (MAX_DEPTH + 1)
    try:
        etree.fromstring(deep, parser=_parser())
    except etree.XMLSyntaxError:
        return True
    return False


_PARSER_LIMITS_DEPTH = _parser_limits_depth()


def _local(el: Any) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _is_ds(el: Any, name: str) -> bool:
    return bool(el.tag == f"{{{DS}}}{name}")


def _parse(data: bytes) -> Any:
    if len(data) > MAX_BYTES:
        raise XmlSignatureError(
            f"XML larger than {MAX_BYTES // (1024 * 1024)} MiB",
            f"tệp XML lớn hơn {MAX_BYTES // (1024 * 1024)} MiB",
        )
    # anywhere in the file, not only at its head: a DTD can hide after kilobytes of comments
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise XmlSignatureError(
            "XML with a DTD or entities is refused", "tệp XML có DTD hoặc thực thể bị từ chối"
        )
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise XmlSignatureError(
            f"not well-formed XML ({exc.msg})", f"XML không đúng cú pháp ({exc.msg})"
        ) from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlSignatureError(
            "XML with a DTD or entities is refused", "tệp XML có DTD hoặc thực thể bị từ chối"
        )
    if not _PARSER_LIMITS_DEPTH and _TOO_DEEP(root):  # an element MAX_DEPTH levels below
        raise XmlSignatureError(
            f"XML nested deeper than {MAX_DEPTH} levels",
            f"XML lồng sâu hơn {MAX_DEPTH} mức",
        )
    # an element takes 4 bytes at least (<a/>) and nothing expands (no DTD, no entity):
    # a smaller file cannot hold more
    if len(data) > 4 * MAX_ELEMENTS and _ELEMENTS(root) > MAX_ELEMENTS:
        raise XmlSignatureError(
            f"XML with more than {MAX_ELEMENTS} elements",
            f"XML có hơn {MAX_ELEMENTS} phần tử",
        )
    return root


# -- canonicalisation -------------------------------------------------------------------


def _child_path(ancestor: Any, node: Any) -> list[int] | None:
    """Child indices from ``ancestor`` down to ``node`` (None if not a descendant)."""
    path: list[int] = []
    current = node
    while current is not ancestor:
        parent = current.getparent()
        if parent is None:
            return None
        path.append(parent.index(current))
        current = parent
    path.reverse()
    return path


def remove_keeping_tail(node: Any) -> None:
    """Remove ``node``; its tail text stays in the document (it is not part of the node)."""
    parent = node.getparent()
    tail = node.tail
    if tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(node)


def _canonical(
    element: Any, algorithm: str, *, comments: bool = True, remove: Any | None = None
) -> bytes:
    """C14N of ``element``'s subtree (without ``remove``, a descendant, if given).

    ``comments=False`` drops comments even under a WithComments algorithm (a bare-name
    same-document reference: XMLDSig 4.4.3.3).
    """
    exclusive, with_comments, inherited = _C14N[algorithm]
    if remove is None and str(element.tag)[:1] != "{" and _plain_context(element):
        # canonicalised where it is: unless lxml added its spurious xmlns="" (which a
        # genuine undeclaration also is), what canonicalising the re-parsed copy gives.
        # Tried for an element in no namespace (an e-invoice's DLHDon); one in a namespace
        # (a SignedInfo) nearly always gets the spurious xmlns="" and is re-parsed at once
        direct: bytes = etree.tostring(
            element, method="c14n", exclusive=exclusive, with_comments=with_comments and comments
        )
        if b'xmlns=""' not in direct:
            return direct
    removal_path = _child_path(element, remove) if remove is not None else None
    # a copy of the subtree as a document of its own; lxml's copy declares the namespaces
    # its subtree uses, which are those in scope when its apex uses every one in scope (a
    # SignedInfo); else the subtree is re-parsed from its own serialisation, which carries
    # every one in scope (see the module docstring)
    copy = deepcopy(element)
    if copy.nsmap != element.nsmap:
        serialised = etree.tostring(element, with_tail=False)  # the text after is not its own
        copy = etree.fromstring(serialised, parser=_parser())
    copy.tail = None
    if not exclusive:
        # xml:* attributes of the ancestors are rendered on the apex (C14N 1.0 2.4; 1.1)
        for ancestor in element.iterancestors():
            for name, value in ancestor.attrib.items():
                if not name.startswith(f"{{{XML_NS}}}"):
                    continue
                local = name.rsplit("}", 1)[-1]
                if inherited is not None and local not in inherited:
                    continue
                if copy.get(name) is None:
                    copy.set(name, value)
    if removal_path is not None:
        node = copy
        for index in removal_path:
            node = node[index]
        remove_keeping_tail(node)
    out: bytes = etree.tostring(
        copy, method="c14n", exclusive=exclusive, with_comments=with_comments and comments
    )
    return out


def _plain_context(element: Any) -> bool:
    """Whether ``element`` has no text after it (which its re-parse would refuse) and
    inherits no ``xml:*`` attribute (which only the re-parsed copy gets on its apex).

    Then its canonical form where it is, if it holds no ``xmlns=""``, is the re-parsed
    copy's: lxml's canonical form of a subtree in place renders the namespaces in scope
    (copied onto its apex) and errs only by an ``xmlns=""`` on a descendant whose default
    namespace the apex redeclares; compared on 600,000 element/algorithm pairs of random
    documents with default, prefixed and undeclared namespaces, comments and PIs (and the
    test and benchmark corpora), with every difference holding an ``xmlns=""``."""
    if element.tail is not None and element.tail.strip():
        return False
    prefix = f"{{{XML_NS}}}"
    return not any(
        name.startswith(prefix) for ancestor in element.iterancestors() for name in ancestor.attrib
    )


# -- the document -----------------------------------------------------------------------


def _id_index(root: Any) -> dict[str, list[Any]]:
    """Every element by the value of any Id-like attribute (Id, id, ID, xml:id, wsu:Id...)."""
    index: dict[str, list[Any]] = {}
    for attribute in _ID_ATTRIBUTES(root):
        el = attribute.getparent()
        bucket = index.setdefault(str(attribute), [])
        if not any(other is el for other in bucket):
            bucket.append(el)
    return index


def _inside_signature(el: Any) -> bool:
    return any(_is_ds(a, "Signature") or _is_ds(a, "Object") for a in el.iterancestors())


def _invoice_of(root: Any) -> Any | None:
    """The document's only HDon (an e-invoice), ``None`` if there is none.

    Several HDon, or one inside a Signature, are refused: an application reading "the"
    invoice would read one of them while the signature covers another.
    """
    found = list(root.iter("{*}HDon"))
    if not found:
        return None
    if len(found) > 1:
        raise XmlSignatureError(
            f"{len(found)} HDon (invoice) elements in one document: which one is signed is "
            "ambiguous (signature wrapping)",
            f"tài liệu có {len(found)} phần tử HDon (hóa đơn): không rõ hóa đơn nào được ký "
            "(tấn công bọc chữ ký)",
        )
    hdon = found[0]
    if _inside_signature(hdon):
        raise XmlSignatureError(
            "the HDon (invoice) element sits inside a Signature (signature wrapping)",
            "phần tử HDon (hóa đơn) nằm bên trong một chữ ký (tấn công bọc chữ ký)",
        )
    for name in sorted(_UNDER_HDON):
        count = sum(1 for _child in hdon.iterchildren("{*}" + name))
        if count > 1:
            raise XmlSignatureError(
                f"HDon holds {count} {name} elements (signature wrapping)",
                f"HDon có {count} phần tử {name} (tấn công bọc chữ ký)",
            )
    return hdon


def _role(signature: Any) -> str | None:
    parent = signature.getparent()
    if parent is None:
        return None
    rule = _ROLES.get(_local(parent))
    if rule is None:
        return None
    grandparent_name, role = rule
    if grandparent_name is not None:
        grandparent = parent.getparent()
        if grandparent is None or _local(grandparent) != grandparent_name:
            return None
    return role


def _problem(code: str, en: str, vi: str) -> XmlProblem:
    return XmlProblem(code, vi, en)


def _placement(target: Any, signature: Any, invoice: Any | None, uri: str) -> XmlProblem | None:
    """A wrapping problem if ``target`` is not where an application reads it."""
    name = _local(target)
    if _is_ds(target, "Signature") or _is_ds(target, "SignedInfo"):
        return _problem(
            "wrapping",
            f"reference {uri} points at a {name} element",
            f"tham chiếu {uri} trỏ tới phần tử {name}",
        )
    ancestors = list(target.iterancestors())
    signatures = [a for a in ancestors if _is_ds(a, "Signature")]
    if signatures:
        if signatures[0] is not signature or len(signatures) > 1:
            return _problem(
                "wrapping",
                f"reference {uri} resolves to a {name} inside another signature "
                "(signature wrapping)",
                f"tham chiếu {uri} trỏ tới {name} nằm trong một chữ ký khác (tấn công bọc chữ ký)",
            )
        chain = [_local(a) for a in reversed(ancestors[: ancestors.index(signature)])]
        chain.append(name)
        first = ancestors[ancestors.index(signature) - 1] if chain[:-1] else target
        if (
            tuple(chain) != _OWN_OBJECT_PATH[: len(chain)]
            or not _is_ds(first, "Object")
            or name in _UNDER_HDON
        ):
            return _problem(
                "wrapping",
                f"reference {uri} resolves to a {name} inside the signature's Object, "
                "not its SigningTime (signature wrapping)",
                f"tham chiếu {uri} trỏ tới {name} trong Object của chữ ký, không phải "
                "SigningTime (tấn công bọc chữ ký)",
            )
        return None
    if any(_is_ds(a, "Object") for a in ancestors) or _is_ds(target, "Object"):
        return _problem(
            "wrapping",
            f"reference {uri} resolves to a {name} inside an Object outside its signature "
            "(signature wrapping)",
            f"tham chiếu {uri} trỏ tới {name} trong một Object ngoài chữ ký (tấn công bọc chữ ký)",
        )
    if name in _UNDER_HDON and (invoice is None or target.getparent() is not invoice):
        return _problem(
            "wrapping",
            f"reference {uri} resolves to a {name} that is not at /HDon/{name}, where the "
            "invoice is read (signature wrapping)",
            f"tham chiếu {uri} trỏ tới {name} không nằm ở /HDon/{name}, nơi hóa đơn được đọc "
            "(tấn công bọc chữ ký)",
        )
    return None


# -- one signature ----------------------------------------------------------------------


@dataclass
class _Reference:
    uri: str
    target: Any
    transforms: list[str]
    digest: str
    expected: bytes
    detached: bytes | None = None
    """A detached reference's octets, transforms applied (``target`` is then None)."""
    name: str | None = None
    """A detached reference's file name."""


_HASH_RANK = {"md5": 0, "sha1": 1, "sha224": 2, "sha256": 3, "sha384": 4, "sha512": 5}


def _b64(text: str | None, what: str, problems: list[XmlProblem]) -> bytes | None:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except ValueError:
        problems.append(_problem("format", f"{what} is not base64", f"{what} không phải base64"))
        return None


def _algorithm_of(el: Any | None) -> str:
    return str(el.get("Algorithm", "")) if el is not None else ""


def _parse_reference(
    ref: Any,
    signature: Any,
    root: Any,
    ids: dict[str, list[Any]],
    invoice: Any | None,
    problems: list[XmlProblem],
    detached: Mapping[str, bytes] | None = None,
) -> _Reference | None:
    uri = ref.get("URI")
    if detached is not None and uri and not uri.startswith("#"):
        return _detached_reference(ref, uri, detached, problems)
    uri = _same_document(uri, problems)
    if uri is None:
        return None
    target = _resolve(ref, uri, signature, root, ids, invoice, problems, detached)
    if target is None:
        return None
    form = _reference_form(ref, uri, problems)
    if form is None:
        return None
    transforms, digest, value = form
    expected = _b64(value.text, "DigestValue", problems)
    if expected is None:
        return None
    return _Reference(uri, target, list(transforms), digest, expected)


def _same_document(uri: str | None, problems: list[XmlProblem]) -> str | None:
    """``uri`` if it is a same-document reference (``""`` or ``#id``); else None, with a
    problem."""
    if uri is None or (uri and not uri.startswith("#")) or uri.startswith("#xpointer("):
        shown = uri if uri is not None else "(no URI)"
        problems.append(
            _problem(
                "reference",
                f"reference {shown!r} is not a same-document reference (never fetched)",
                f"tham chiếu {shown!r} không trỏ trong tài liệu (không bao giờ tải về)",
            )
        )
        return None
    return uri


def _resolve(
    ref: Any,
    uri: str,
    signature: Any,
    root: Any,
    ids: dict[str, list[Any]],
    invoice: Any | None,
    problems: list[XmlProblem],
    detached: Mapping[str, bytes] | None = None,
) -> Any | None:
    """The element a same-document reference resolves to in this document (the root for
    ``URI=""``), where an application reads it; None with a problem otherwise (nothing,
    several elements, signature wrapping)."""
    if uri == "":
        return root
    found = ids.get(uri[1:], [])
    if not found:
        problems.append(
            _problem(
                "reference",
                f"reference {uri} points at nothing",
                f"tham chiếu {uri} không trỏ tới phần tử nào",
            )
        )
        return None
    if len(found) > 1:
        problems.append(
            _problem(
                "duplicate-id",
                f"the Id {uri[1:]!r} is carried by {len(found)} elements (Id/id/ID): "
                "signature wrapping",
                f"mã định danh {uri[1:]!r} xuất hiện ở {len(found)} phần tử (Id/id/ID): "
                "tấn công bọc chữ ký",
            )
        )
        return None
    target = found[0]
    where = _placement(target, signature, invoice, uri)
    if where is not None and not (
        detached is not None and _detached_target_allowed(target, signature, ref)
    ):
        problems.append(where)
        return None
    return target


def _reference_form(
    ref: Any, uri: str, problems: list[XmlProblem]
) -> tuple[tuple[str, ...], str, Any] | None:
    """A same-document reference's transforms, digest (a hashlib name) and its one
    DigestValue element: what the reference's own subtree says, whatever the document;
    None with a problem when refused."""
    transforms: list[str] = []
    transform_parents = ref.findall("ds:Transforms", _NS)
    if len(transform_parents) > 1:
        problems.append(
            _problem(
                "transform",
                f"reference {uri} has several Transforms",
                f"tham chiếu {uri} có nhiều Transforms",
            )
        )
        return None
    for t in ref.findall("ds:Transforms/ds:Transform", _NS):
        algorithm = _algorithm_of(t)
        named = _NAMED_TRANSFORMS.get(algorithm)
        if named is not None or (algorithm != _ENVELOPED and algorithm not in _C14N):
            label = named or algorithm or "(none)"
            problems.append(
                _problem(
                    "transform",
                    f"reference {uri} uses the {label} transform, which is refused",
                    f"tham chiếu {uri} dùng phép biến đổi {label}, không được chấp nhận",
                )
            )
            return None
        transforms.append(algorithm)
    envelopes = transforms.count(_ENVELOPED)
    c14ns = [t for t in transforms if t in _C14N]
    if envelopes > 1 or len(c14ns) > 1 or (c14ns and envelopes and transforms[-1] == _ENVELOPED):
        problems.append(
            _problem(
                "transform",
                f"reference {uri} has an unsupported sequence of transforms",
                f"tham chiếu {uri} có chuỗi phép biến đổi không được hỗ trợ",
            )
        )
        return None
    methods = ref.findall("ds:DigestMethod", _NS)
    algorithm = _algorithm_of(methods[0]) if len(methods) == 1 else ""
    digest = _DIGESTS.get(algorithm)
    if digest is None:
        problems.append(
            _problem(
                "algorithm",
                f"reference {uri} uses an unknown digest method {algorithm!r}",
                f"tham chiếu {uri} dùng thuật toán băm không xác định {algorithm!r}",
            )
        )
        return None
    values = ref.findall("ds:DigestValue", _NS)
    if len(values) != 1:
        problems.append(
            _problem(
                "format",
                f"reference {uri} needs exactly one DigestValue",
                f"tham chiếu {uri} phải có đúng một DigestValue",
            )
        )
        return None
    return tuple(transforms), digest, values[0]


_COUNTERSIGNED = (
    "http://uri.etsi.org/01903#CountersignedSignature",
    "http://uri.etsi.org/01903/v1.1.1#CountersignedSignature",
)


def _detached_target_allowed(target: Any, signature: Any, ref: Any) -> bool:
    """In a detached signature (an ASiC container's ``signatures*.xml``, whose signed
    content is the container's files, not an element an application reads), a reference
    may also point into the signature's own ``ds:Object`` (its XAdES SignedProperties,
    signed data objects) or, typed as a countersignature, at another signature's
    ``SignatureValue``."""
    if _is_ds(target, "SignatureValue"):
        return target.getparent() is not signature and ref.get("Type", "") in _COUNTERSIGNED
    child = target
    while child is not None and child.getparent() is not signature:
        child = child.getparent()
    return child is not None and _is_ds(child, "Object")


def _detached_reference(
    ref: Any, uri: str, files: Mapping[str, bytes], problems: list[XmlProblem]
) -> _Reference | None:
    """A reference to a file next to the signature (``files``, by name: an ASiC
    container's), its octets digested as they are, or canonicalised when its only
    transform is a canonicalisation (an XML file). Nothing is ever fetched."""
    name = unquote(uri.strip())
    while name.startswith("./"):
        name = name[2:]
    content = files.get(name)
    if content is None:
        problems.append(
            _problem(
                "detached-missing",
                f"reference {uri!r} names the file {name!r}, which is missing",
                f"tham chiếu {uri!r} trỏ tới tệp {name!r} không có",
            )
        )
        return None
    algorithms = [_algorithm_of(t) for t in ref.findall("ds:Transforms/ds:Transform", _NS)]
    if algorithms and (len(algorithms) > 1 or algorithms[0] not in _C14N):
        problems.append(
            _problem(
                "transform",
                f"reference {uri!r} to a file uses transforms other than one canonicalisation, "
                "which are refused",
                f"tham chiếu {uri!r} tới một tệp dùng phép biến đổi khác ngoài một phép chuẩn "
                "hóa, không được chấp nhận",
            )
        )
        return None
    methods = ref.findall("ds:DigestMethod", _NS)
    digest = _DIGESTS.get(_algorithm_of(methods[0]) if len(methods) == 1 else "")
    values = ref.findall("ds:DigestValue", _NS)
    if digest is None or len(values) != 1:
        problems.append(
            _problem(
                "algorithm",
                f"reference {uri!r} has no known DigestMethod or not one DigestValue",
                f"tham chiếu {uri!r} không có DigestMethod đã biết hoặc không có đúng một "
                "DigestValue",
            )
        )
        return None
    expected = _b64(values[0].text, "DigestValue", problems)
    if expected is None:
        return None
    if algorithms:
        try:
            content = _canonical(_parse(content), algorithms[0])
        except XmlSignatureError as exc:
            problems.append(
                _problem(
                    "detached-xml",
                    f"the file {name!r} is canonicalised as XML but {exc.en}",
                    f"tệp {name!r} được chuẩn hóa như XML nhưng {exc.vi}",
                )
            )
            return None
    return _Reference(uri, None, algorithms, digest, expected, detached=content, name=name)


def _reference_digest(ref: _Reference, signature: Any, reading: str) -> bytes:
    return hashlib.new(ref.digest, _reference_octets(ref, signature, reading)).digest()


def _reference_octets(
    ref: _Reference, signature: Any, reading: str, node_set_c14n: str = _C14N_10
) -> bytes:
    """The octets a reference's digest is over: after its transforms, a node-set result
    (no canonicalisation among the transforms) canonicalised with ``node_set_c14n``
    (XMLDSig's default for the digest; an archive timestamp's own method for it)."""
    if ref.detached is not None:
        return ref.detached
    c14n = next((t for t in ref.transforms if t in _C14N), node_set_c14n)
    target = ref.target
    remove = None
    if _ENVELOPED in ref.transforms:
        if target is signature or any(a is signature for a in target.iterancestors()):
            if reading == READING_STRICT:
                # the whole enclosing Signature leaves the node-set: nothing remains
                return b""
            # .NET: the Signature is not inside the referenced element, nothing is removed
        elif any(a is target for a in signature.iterancestors()):
            remove = signature
    # a same-document reference (bare name or "") never carries comments (XMLDSig 4.4.3.3)
    return _canonical(target, c14n, comments=False, remove=remove)


_DN_TYPES = {
    "CN": "2.5.4.3",
    "SN": "2.5.4.4",
    "SURNAME": "2.5.4.4",
    "SERIALNUMBER": "2.5.4.5",
    "C": "2.5.4.6",
    "L": "2.5.4.7",
    "S": "2.5.4.8",
    "ST": "2.5.4.8",
    "STREET": "2.5.4.9",
    "O": "2.5.4.10",
    "OU": "2.5.4.11",
    "T": "2.5.4.12",
    "TITLE": "2.5.4.12",
    "G": "2.5.4.42",
    "GIVENNAME": "2.5.4.42",
    "E": "1.2.840.113549.1.9.1",
    "EMAIL": "1.2.840.113549.1.9.1",
    "EMAILADDRESS": "1.2.840.113549.1.9.1",
    "UID": "0.9.2342.19200300.100.1.1",
    "DC": "0.9.2342.19200300.100.1.25",
}
_DOTTED = re.compile(r"^(?:OID\.)?([0-2](?:\.\d+)+)$", re.IGNORECASE)


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def _split_dn(text: str) -> list[tuple[str, str]] | None:
    """(type, value) pairs of an RFC 4514 / .NET distinguished name; None if unreadable."""
    pairs: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n":
            i += 1
        eq = text.find("=", i)
        if eq < 0:
            return None
        kind = text[i:eq].strip()
        i = eq + 1
        while i < n and text[i] == " ":
            i += 1
        value: list[str] = []
        if i < n and text[i] == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                value.append(text[i])
                i += 1
            if i >= n:
                return None
            i += 1
            while i < n and text[i] not in ",;+":
                if not text[i].isspace():
                    return None
                i += 1
        else:
            while i < n and text[i] not in ",;+":
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                value.append(text[i])
                i += 1
        i += 1  # the separator
        if not kind:
            return None
        pairs.append((kind, "".join(value).strip()))
    return pairs


def _subject_attributes(cert: x509.Certificate) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    try:
        for rdn in cert.subject.chosen:
            for atv in rdn:
                value = atv["value"].native
                out.append((atv["type"].dotted, value if isinstance(value, str) else str(value)))
    except (ValueError, TypeError, KeyError, AttributeError):
        return out
    return out


def _names_certificate(name: str, cert: x509.Certificate) -> bool:
    """Whether an X509SubjectName agrees with the certificate's subject."""
    pairs = _split_dn(name)
    if pairs is None:
        return False
    subject = _subject_attributes(cert)
    matched = 0
    for kind, value in pairs:
        dotted = _DN_TYPES.get(kind.upper())
        if dotted is None:
            m = _DOTTED.match(kind)
            dotted = m.group(1) if m else None
        if dotted is None or value.startswith("#"):
            continue  # an attribute type we cannot name: neither agrees nor disagrees
        if not any(oid == dotted and _norm(text) == _norm(value) for oid, text in subject):
            return False
        matched += 1
    return matched > 0 or not pairs


@functools.lru_cache(maxsize=256)
def _public_key(der: bytes) -> Any:
    """A certificate's public key for ``cryptography``, loaded once per process."""
    return load_der_x509_certificate(der).public_key()


_DERS: weakref.WeakKeyDictionary[x509.Certificate, bytes] = weakref.WeakKeyDictionary()


@functools.lru_cache(maxsize=256)
def _certificate(der: bytes) -> x509.Certificate:
    """A KeyInfo certificate, parsed once per process for the same bytes (every invoice of
    a seller carries the same one; what is read of it later is then read once too)."""
    cert = x509.Certificate.load(der)
    _ = cert.subject.native, cert.public_key.algorithm
    _DERS[cert] = der
    return cert


def certificate_der(cert: x509.Certificate) -> bytes:
    """The DER of a certificate read from a KeyInfo, as it was read (asn1crypto's ``dump()``
    first walks the whole structure to see whether anything was changed)."""
    der = _DERS.get(cert)
    return der if der is not None else cert.dump()


@functools.lru_cache(maxsize=1024)
def _names_one_of(name: str, ders: tuple[bytes, ...]) -> bool:
    """Whether an X509SubjectName names one of these certificates (the same name and
    certificates are on every invoice of a seller)."""
    return any(_names_certificate(name, _certificate(der)) for der in ders)


def _key_info(
    signature: Any, problems: list[XmlProblem]
) -> tuple[list[x509.Certificate], list[str]]:
    infos = signature.findall("ds:KeyInfo", _NS)
    if len(infos) != 1:
        problems.append(
            _problem(
                "key",
                "the signature has no KeyInfo" if not infos else "the signature has two KeyInfo",
                "chữ ký không có KeyInfo" if not infos else "chữ ký có hai KeyInfo",
            )
        )
        return [], []
    info = infos[0]
    elements = info.findall("ds:X509Data/ds:X509Certificate", _NS)
    if not elements:
        if info.find("ds:RetrievalMethod", _NS) is not None:
            problems.append(
                _problem(
                    "key",
                    "the key is only named by a RetrievalMethod, which is never followed",
                    "khóa chỉ được chỉ tới bằng RetrievalMethod, không bao giờ được tải về",
                )
            )
        else:
            problems.append(
                _problem(
                    "key",
                    "no X509Certificate in KeyInfo",
                    "KeyInfo không chứa chứng thư số (X509Certificate)",
                )
            )
        return [], []
    if len(elements) > MAX_CERTIFICATES:
        problems.append(
            _problem("key", "too many certificates in KeyInfo", "KeyInfo có quá nhiều chứng thư")
        )
        return [], []
    certs: list[x509.Certificate] = []
    ders: list[bytes] = []
    for el in elements:
        der = _b64(el.text, "X509Certificate", problems)
        if der is None:
            return [], []
        try:
            cert = _certificate(der)
        except (ValueError, TypeError, KeyError) as exc:
            problems.append(
                _problem(
                    "key",
                    f"an X509Certificate that is not a certificate ({type(exc).__name__})",
                    "X509Certificate không phải là chứng thư số",
                )
            )
            return [], []
        certs.append(cert)
        ders.append(der)
    names = [el.text or "" for el in info.findall("ds:X509Data/ds:X509SubjectName", _NS)]
    for name in names:
        if not _names_one_of(name, tuple(ders)):
            problems.append(
                _problem(
                    "subject-name",
                    f"KeyInfo's X509SubjectName {name[:120]!r} does not name its certificate",
                    f"X509SubjectName trong KeyInfo ({name[:120]!r}) không khớp với chứng thư "
                    "số đi kèm",
                )
            )
    return certs, names


def _signing_times(signature: Any) -> list[Any]:
    """Every SigningTime (that local name, in any namespace or none) in the signature's own
    Objects, in document order: the first with a text is the claimed time."""
    return [el for obj in signature.findall("ds:Object", _NS) for el in obj.iter("{*}SigningTime")]


def _claimed_time(signature: Any, places: Sequence[Sequence[int]] | None = None) -> datetime | None:
    """The time the first SigningTime with a text says (:func:`_signing_times`); with
    ``places``, those elements found by their places under the signature (a structure
    read once: :class:`_Shape`)."""
    if places is None:
        found = _signing_times(signature)
    else:
        found = []
        for place in places:
            el = signature
            for index in place:
                el = el[index]
            found.append(el)
    for el in found:
        if el.text:
            text = el.text.strip().replace("Z", "+00:00")
            try:
                when = datetime.fromisoformat(text)
            except ValueError:
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=_VN)  # local time, written without an offset
            return when.astimezone(UTC)
    return None


def _broken(problems: list[XmlProblem], base: dict[str, Any], **more: Any) -> XmlSignatureCheck:
    """A check that cannot pass, with its problems."""
    fields_: dict[str, Any] = {
        "references_ok": False,
        "signature_ok": False,
        "digest_algorithm": "",
        "signature_algorithm": "",
        **base,
        **more,
    }
    return XmlSignatureCheck(problems=tuple(problems), **fields_)


def _check_signature(
    root: Any,
    signature: Any,
    ids: dict[str, list[Any]],
    invoice: Any | None,
    qualifying: Mapping[str, Sequence[Any]] | None = None,
    detached: Mapping[str, bytes] | None = None,
) -> XmlSignatureCheck:
    if detached is None:
        shape = _shape(signature)
        if shape is not None:
            return _check_shaped(root, signature, ids, invoice, qualifying, shape)
    problems: list[XmlProblem] = []
    role = _role(signature)
    signed_infos = signature.findall("ds:SignedInfo", _NS)
    certs, _names = _key_info(signature, problems)
    signer = certs[0] if certs else None
    base: dict[str, Any] = {
        "signature_id": signature.get("Id"),
        "signer_cert": signer,
        "certificates": tuple(certs),
        "claimed_signing_time": _claimed_time(signature),
        "role": role,
        "expected_cover": _EXPECTED_COVER.get(role or "") if invoice is not None else None,
    }
    if len(signed_infos) != 1:
        problems.append(
            _problem(
                "structure",
                "a Signature without SignedInfo"
                if not signed_infos
                else f"a Signature with {len(signed_infos)} SignedInfo",
                "chữ ký không có SignedInfo"
                if not signed_infos
                else f"chữ ký có {len(signed_infos)} SignedInfo",
            )
        )
        return _broken(problems, base)
    signed_info = signed_infos[0]
    c14n_methods = signed_info.findall("ds:CanonicalizationMethod", _NS)
    c14n_algo = _algorithm_of(c14n_methods[0]) if len(c14n_methods) == 1 else ""
    if c14n_algo not in _C14N:
        problems.append(
            _problem(
                "algorithm",
                f"unsupported canonicalisation {c14n_algo!r}",
                f"phương pháp chuẩn hóa không được hỗ trợ {c14n_algo!r}",
            )
        )
    methods = signed_info.findall("ds:SignatureMethod", _NS)
    sig_algo = _algorithm_of(methods[0]) if len(methods) == 1 else ""
    kind_hash = _SIGNATURES.get(sig_algo)
    if kind_hash is None:
        if "hmac" in sig_algo.lower():
            problems.append(
                _problem(
                    "algorithm",
                    "an HMAC signature method proves no signer and is refused",
                    "phương pháp ký HMAC không xác định người ký nên bị từ chối",
                )
            )
        else:
            problems.append(
                _problem(
                    "algorithm",
                    f"unsupported signature method {sig_algo!r}",
                    f"phương pháp ký không được hỗ trợ {sig_algo!r}",
                )
            )
    key_kind, hash_name = kind_hash or ("", "")
    value_elements = signature.findall("ds:SignatureValue", _NS)
    if len(value_elements) != 1:
        problems.append(
            _problem(
                "structure",
                "a Signature needs exactly one SignatureValue",
                "chữ ký phải có đúng một SignatureValue",
            )
        )
    ref_elements = signed_info.findall("ds:Reference", _NS)
    if not ref_elements:
        problems.append(
            _problem(
                "structure",
                "SignedInfo has no Reference: it signs nothing",
                "SignedInfo không có tham chiếu (Reference): chữ ký không ký nội dung nào",
            )
        )
    elif len(ref_elements) > (limit := MAX_REFERENCES if detached is None else MAX_FILES):
        problems.append(
            _problem(
                "structure",
                f"SignedInfo has more than {limit} references",
                f"SignedInfo có hơn {limit} tham chiếu",
            )
        )
        ref_elements = []
    refs: list[_Reference] = []
    all_digests: list[str] = []
    for element in ref_elements:
        method = element.find("ds:DigestMethod", _NS)
        all_digests.append(_DIGESTS.get(_algorithm_of(method), _algorithm_of(method) or "?"))
        parsed = _parse_reference(element, signature, root, ids, invoice, problems, detached)
        if parsed is not None:
            refs.append(parsed)
    return _conclude(
        signature,
        problems,
        base,
        refs,
        tuple(all_digests),
        (key_kind, hash_name, f"{key_kind}-{hash_name}" if kind_hash else sig_algo),
        signed_info,
        c14n_algo,
        value_elements[0] if len(value_elements) == 1 else None,
        qualifying,
    )


def _conclude(
    signature: Any,
    problems: list[XmlProblem],
    base: dict[str, Any],
    refs: list[_Reference],
    all_digests: tuple[str, ...],
    method: tuple[str, str, str],
    signed_info: Any,
    c14n_algo: str,
    value_element: Any | None,
    qualifying: Mapping[str, Sequence[Any]] | None,
) -> XmlSignatureCheck:
    """One signature's per-document checks once its structure is read: each reference's
    digest under both readings, the SignatureValue over the canonical SignedInfo with each
    KeyInfo certificate's key, the XAdES unsigned properties. ``method``: (key kind, hash,
    the signature algorithm as reported)."""
    key_kind, hash_name, signature_algorithm = method
    covers = tuple(r.name or _local(r.target) for r in refs)
    weakest = min(all_digests, key=lambda d: _HASH_RANK.get(d, -1)) if all_digests else ""
    more: dict[str, Any] = {
        "digest_algorithm": weakest,
        "digest_algorithms": all_digests,
        "signature_hash": hash_name or None,
        "signature_algorithm": signature_algorithm,
        "covers": covers,
        "targets": tuple(r.target for r in refs if r.target is not None),
    }
    if problems or value_element is None:
        return _broken(problems, base, **more)
    strict_ok = [
        hmac.compare_digest(_reference_digest(r, signature, READING_STRICT), r.expected)
        for r in refs
    ]
    # the .NET reading is asked only when the strict one does not verify (it is the same
    # digest for every document whose signature has no text the readings treat apart)
    dotnet_ok = (
        strict_ok
        if all(strict_ok)
        else [
            hmac.compare_digest(_reference_digest(r, signature, READING_DOTNET), r.expected)
            for r in refs
        ]
    )
    if all(strict_ok):
        reading: str | None = READING_STRICT
        failed: list[str] = []
    elif all(dotnet_ok):
        reading = READING_DOTNET
        failed = []
    else:
        reading = None
        failed = [r.name or r.uri for r, ok in zip(refs, dotnet_ok, strict=True) if not ok] or [
            r.name or r.uri for r, ok in zip(refs, strict_ok, strict=True) if not ok
        ]
    value = _b64(value_element.text, "SignatureValue", problems)
    if value is None:
        return _broken(problems, base, **more)
    signed_bytes = _canonical(signed_info, c14n_algo)
    certs = list(base["certificates"])
    signer, signature_ok = _find_signer(certs, key_kind, hash_name, value, signed_bytes)
    base["signer_cert"] = signer
    return XmlSignatureCheck(
        references_ok=not failed,
        signature_ok=signature_ok,
        failed_references=tuple(failed),
        reading=reading,
        **base,
        **more,
        **_unsigned_properties(
            signature,
            value_element,
            qualifying or {},
            lambda algorithm: [
                _reference_octets(r, signature, reading or READING_STRICT, algorithm) for r in refs
            ],
        ),
    )


# -- one signature's structure, read once ---------------------------------------------------


@dataclass(frozen=True)
class _ReferenceShape:
    """A same-document Reference as its own subtree says it."""

    uri: str
    index: int
    """Its place among SignedInfo's children (comments and PIs count, as ``[i]`` reads)."""
    value: int
    """Its one DigestValue's place among its children."""
    transforms: tuple[str, ...]
    digest: str


@dataclass(frozen=True)
class _Shape:
    """What a ds:Signature's subtree says but its per-document values (:func:`_shape`):
    KeyInfo's certificates (its X509SubjectName agreeing), the supported canonicalisation
    and signature method, where SignedInfo and the one SignatureValue are, and each
    Reference's same-document URI, accepted transforms, digest and DigestValue."""

    certificates: tuple[x509.Certificate, ...]
    c14n: str
    method: tuple[str, str, str]
    """(key kind, hash, the signature algorithm as reported)."""
    signed_info: int
    value: int
    references: tuple[_ReferenceShape, ...]
    digest_algorithms: tuple[str, ...]
    signing_times: tuple[tuple[int, ...], ...] = ()
    """Where each SigningTime of its Objects is (child indices from the signature), in the
    order :func:`_claimed_time` reads them."""


MAX_SHAPES = 512
"""Signature structures remembered (a bulk run's sellers and tax authorities, each with the
few layouts of its software)."""
_SHAPES: OrderedDict[bytes, _Shape | None] = OrderedDict()
_SHAPES_LOCK = threading.Lock()
_UNREAD = object()
# the texts that differ from one document to the next (DigestValue, SignatureValue,
# SigningTime): left out of a structure's key, read for each document
_PER_DOCUMENT = (f"{{{DS}}}DigestValue", f"{{{DS}}}SignatureValue", "{*}SigningTime")


def _structure_key(signature: Any) -> bytes:
    """``signature`` serialised (its in-scope namespaces declared, without the text after
    it) with the text of each ds:DigestValue, ds:SignatureValue and SigningTime left out:
    everything a structure reading (:func:`_read_shape`) looks at, which reads none of
    those texts. The texts are taken off the tree for the serialisation and put back."""
    blanked = [(el, el.text) for el in signature.iter(*_PER_DOCUMENT) if el.text is not None]
    try:
        for el, _text in blanked:
            el.text = None
        key: bytes = etree.tostring(signature, with_tail=False)
    finally:
        for el, text in blanked:
            el.text = text
    return key


def _shape(signature: Any) -> _Shape | None:
    """The structure of ``signature`` (:class:`_Shape`), read once for every signature
    whose subtree is the same but for the per-document texts (:func:`_structure_key`):
    the next invoice of a seller. None when the structure has a problem (the signature
    is then read in full, with its causes)."""
    key = _structure_key(signature)
    with _SHAPES_LOCK:
        found = _SHAPES.get(key, _UNREAD)
        if found is not _UNREAD:
            _SHAPES.move_to_end(key)
            return found  # type: ignore[return-value]
    shape = _read_shape(signature)
    with _SHAPES_LOCK:
        _SHAPES[key] = shape
        while len(_SHAPES) > MAX_SHAPES:
            _SHAPES.popitem(last=False)
    return shape


def clear_shapes() -> None:
    """Forget every structure read (:func:`_shape`): the next signatures are read cold."""
    with _SHAPES_LOCK:
        _SHAPES.clear()


def _read_shape(signature: Any) -> _Shape | None:
    """The structure reading of :func:`_check_signature` for a same-document signature,
    from its own subtree only; None at the first problem (the full reading names it)."""
    problems: list[XmlProblem] = []
    certs, _names = _key_info(signature, problems)
    signed_infos = signature.findall("ds:SignedInfo", _NS)
    if problems or not certs or len(signed_infos) != 1:
        return None
    signed_info = signed_infos[0]
    c14n_methods = signed_info.findall("ds:CanonicalizationMethod", _NS)
    c14n_algo = _algorithm_of(c14n_methods[0]) if len(c14n_methods) == 1 else ""
    methods = signed_info.findall("ds:SignatureMethod", _NS)
    kind_hash = _SIGNATURES.get(_algorithm_of(methods[0]) if len(methods) == 1 else "")
    value_elements = signature.findall("ds:SignatureValue", _NS)
    ref_elements = signed_info.findall("ds:Reference", _NS)
    if (
        c14n_algo not in _C14N
        or kind_hash is None
        or len(value_elements) != 1
        or not ref_elements
        or len(ref_elements) > MAX_REFERENCES
    ):
        return None
    references: list[_ReferenceShape] = []
    for element in ref_elements:
        uri = _same_document(element.get("URI"), problems)
        if uri is None:
            return None
        form = _reference_form(element, uri, problems)
        if form is None:
            return None
        transforms, digest, value = form
        references.append(
            _ReferenceShape(
                uri, signed_info.index(element), element.index(value), transforms, digest
            )
        )
    key_kind, hash_name = kind_hash
    return _Shape(
        certificates=tuple(certs),
        c14n=c14n_algo,
        method=(key_kind, hash_name, f"{key_kind}-{hash_name}"),
        signed_info=signature.index(signed_info),
        value=signature.index(value_elements[0]),
        references=tuple(references),
        digest_algorithms=tuple(r.digest for r in references),
        signing_times=tuple(
            tuple(_child_path(signature, el) or ()) for el in _signing_times(signature)
        ),
    )


def _check_shaped(
    root: Any,
    signature: Any,
    ids: dict[str, list[Any]],
    invoice: Any | None,
    qualifying: Mapping[str, Sequence[Any]] | None,
    shape: _Shape,
) -> XmlSignatureCheck:
    """:func:`_check_signature` for a signature whose structure is read (``shape``): only
    the per-document part is done here, in the same order, with the same causes: each
    reference resolved and placed in this document, its DigestValue read, its digest, the
    SignatureValue, the claimed signing time, the role by place."""
    problems: list[XmlProblem] = []
    role = _role(signature)
    base: dict[str, Any] = {
        "signature_id": signature.get("Id"),
        "signer_cert": shape.certificates[0],
        "certificates": shape.certificates,
        "claimed_signing_time": _claimed_time(signature, shape.signing_times),
        "role": role,
        "expected_cover": _EXPECTED_COVER.get(role or "") if invoice is not None else None,
    }
    signed_info = signature[shape.signed_info]
    refs: list[_Reference] = []
    for one in shape.references:
        element = signed_info[one.index]
        target = _resolve(element, one.uri, signature, root, ids, invoice, problems)
        if target is None:
            continue
        expected = _b64(element[one.value].text, "DigestValue", problems)
        if expected is None:
            continue
        refs.append(_Reference(one.uri, target, list(one.transforms), one.digest, expected))
    return _conclude(
        signature,
        problems,
        base,
        refs,
        shape.digest_algorithms,
        shape.method,
        signed_info,
        shape.c14n,
        signature[shape.value],
        qualifying,
    )


def _unsigned_properties(
    signature: Any,
    signature_value: Any,
    qualifying: Mapping[str, Sequence[Any]],
    references: Callable[[str], Sequence[bytes]] | None = None,
) -> dict[str, Any]:
    """The XAdES unsigned properties of ``signature`` as :class:`XmlSignatureCheck` fields
    (see :mod:`verify.xades`); nothing when the document holds no QualifyingProperties.
    ``references(algorithm)``: each Reference's octets after its transforms (an archive
    timestamp's input)."""
    if not qualifying:
        return {}
    found = xades.read_unsigned_properties(
        signature,
        signature_value,
        qualifying,
        lambda element, algorithm: _canonical(element, algorithm),
        _C14N,
        references,
    )
    return {
        "signature_timestamps": found.timestamps,
        "archive_timestamps": found.archive_timestamps,
        "carried_certificates": found.certificates,
        "carried_crls": found.crls,
        "carried_ocsps": found.ocsps,
        "xades_warnings": tuple(XmlProblem(w.code, w.vi, w.en) for w in found.warnings),
    }


def inspect_xml(data: bytes, *, detached: Mapping[str, bytes] | None = None) -> XmlInspection:
    """Parse ``data`` (hardened) and check every ds:Signature in it.

    ``detached``: the files a detached signature's references may name (an ASiC
    container's, by name); a reference to one is digested over its bytes, and references
    into the signature's own ``ds:Object`` (XAdES ``SignedProperties``) or, for a
    countersignature, to another signature's ``SignatureValue`` are allowed. Without it,
    only same-document references are followed, with the wrapping checks.

    Raises :class:`XmlSignatureError` when the document as a whole cannot be processed
    (not XML, a DTD, too big or deep, several invoices); problems of one signature are in
    its check's :attr:`~XmlSignatureCheck.problems`.
    """
    root = _parse(data)
    invoice = _invoice_of(root)
    signatures = [el for el in root.iter(f"{{{DS}}}Signature")]
    if len(signatures) > MAX_SIGNATURES:
        raise XmlSignatureError(
            f"more than {MAX_SIGNATURES} signatures in one document",
            f"tài liệu có hơn {MAX_SIGNATURES} chữ ký",
        )
    ids = _id_index(root)
    qualifying = xades.qualifying_properties(root)
    checks = tuple(
        _check_signature(root, sig, ids, invoice, qualifying, detached) for sig in signatures
    )
    return XmlInspection(root=root, invoice=invoice, checks=checks)


def check_xml_signature(data: bytes) -> list[XmlSignatureCheck]:
    """Check every ds:Signature in ``data``; raise :class:`XmlSignatureError` on bad input."""
    return list(inspect_xml(data).checks)


def _find_signer(
    certs: list[x509.Certificate],
    key_kind: str,
    hash_name: str,
    value: bytes,
    signed: bytes,
) -> tuple[x509.Certificate | None, bool]:
    """The certificate whose key verifies the signature (else the first, unverified)."""
    algo = _HASHES.get(hash_name)
    first = certs[0] if certs else None
    if algo is None:
        return first, False
    for cert in certs:
        try:
            key = _public_key(certificate_der(cert))
            if key_kind == "rsa" and isinstance(key, rsa.RSAPublicKey):
                key.verify(value, signed, padding.PKCS1v15(), algo)
                return cert, True
            if key_kind == "ec" and isinstance(key, ec.EllipticCurvePublicKey):
                half = len(value) // 2
                der = encode_dss_signature(
                    int.from_bytes(value[:half], "big"), int.from_bytes(value[half:], "big")
                )
                key.verify(der, signed, ec.ECDSA(algo))
                return cert, True
        except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
            continue  # a key cryptography cannot use (an unknown curve) verifies nothing
    return first, False
