"""XML signatures (XMLDSig) for Vietnamese e-invoices and e-tax declarations.

What the receivers (the tax authority's and invoice providers' systems, Circular 78/2021,
Decision 1450/QĐ-TCT) expect, and what :func:`sign_xml` writes:

- an enveloped ``ds:Signature`` in the default namespace
  ``http://www.w3.org/2000/09/xmldsig#`` (no prefix), C14N 1.0, RSA-SHA256
  (ECDSA-SHA256 for an EC key), SHA-256 digests;
- a Reference to ``#Id`` of the signed element, with the enveloped-signature transform;
- a second Reference to an ``Object`` holding
  ``SignatureProperties/SignatureProperty[@Target="#<signature Id>"]/SigningTime``, the
  signing time in Vietnam's local time (UTC+7) as ``YYYY-MM-DDTHH:MM:SS``, no zone;
- ``KeyInfo/X509Data``: ``X509SubjectName`` and the signer's certificate first, then its
  intermediate CA certificates (never the root).

Where the signature goes (``role``):

=============  ======================  ==============  ==============================
role           document element        signed element  the signature goes in
=============  ======================  ==============  ==============================
``seller``     ``HDon`` (also inside   ``DLHDon``      ``HDon/DSCKS/NBan``
               ``TDiep/DLieu``)
``declarant``  ``HSoThueDTu``          ``HSoKhaiThue`` ``HSoThueDTu/CKyDTu``
=============  ======================  ==============  ==============================

``role`` defaults to the one the document element names. Another element is signed with
``element="Name"``; a document of any other layout is signed only when ``element`` names
one element carrying an ``Id`` (the signature then goes last in the document element).
The signed element must carry an ``Id`` (``id`` is accepted for tax declarations, whose
software writes ``id="_NODE_TO_SIGN"``) that no other element uses.

The input is parsed without DTDs, entities or network access; a ``DOCTYPE`` is refused.
Signing goes through the same key sources as PDF and CMS signing (PKCS#12/PEM soft keys,
PKCS#11 tokens, CSC remote services: pyHanko's ``Signer.async_sign_raw``), and before
anything is signed the certificate is checked by :mod:`verify` exactly as for
:func:`esign.sign_pdf`. Browser plugins sign in two phases with
:class:`XmlTwoPhaseSigner`. Many invoices under one key: :func:`sign_xml_many`.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import os
import secrets
import time
import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from asn1crypto import x509
from cryptography import x509 as pyca_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from lxml import etree
from pyhanko.sign import signers
from pyhanko.sign.general import SigningError

from esign import _core
from esign.errors import (
    EsignError,
    InputError,
    KeySourceError,
    SignatureValueRejected,
    TwoPhaseStateError,
    UsageError,
    XmlInputError,
)
from esign.profiles import PUBLIC, SignatureProfile, profile_named
from esign.signers import KeySource, cert_store
from esign.twophase import Prepared
from verify import SignerIdentity, TrustProfile, ValidationPolicy, Verifier
from verify.xmldsig import remove_keeping_tail

__all__ = [
    "VIETNAM_TIME",
    "XmlSigned",
    "XmlTwoPhaseSigner",
    "asign_xml",
    "asign_xml_many",
    "sign_xml",
    "sign_xml_many",
]

DS = "http://www.w3.org/2000/09/xmldsig#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"

VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")
"""Vietnam's local time (UTC+7, no daylight saving), the zone of ``SigningTime``."""

MAX_XML_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 128
_ID_ATTRS = ("Id", "ID", "id")
_XML_ATTR = "{http://www.w3.org/XML/1998/namespace}"
_DIGEST = "sha256"


@dataclass(frozen=True)
class _Layout:
    role: str
    anchor: str  # the element the signature slot lives under
    wrappers: tuple[tuple[str, ...], ...]  # document elements above the anchor, allowed
    element: str  # what is signed by default
    slot: tuple[str, ...]  # containers under the anchor, outermost first
    id_attrs: tuple[str, ...]


_LAYOUTS = (
    _Layout("seller", "HDon", ((), ("TDiep", "DLieu")), "DLHDon", ("DSCKS", "NBan"), ("Id",)),
    _Layout("declarant", "HSoThueDTu", ((),), "HSoKhaiThue", ("CKyDTu",), ("Id", "id")),
)
ROLES = tuple(layout.role for layout in _LAYOUTS)


@dataclass(frozen=True)
class XmlSigned:
    """One document of :func:`sign_xml_many`: the signed XML, or why it was not signed."""

    index: int
    """Position in the input, from 0."""
    source: str
    """The path given, or ``#<index>`` for bytes."""
    data: bytes | None
    error: EsignError | None
    signer: SignerIdentity

    @property
    def ok(self) -> bool:
        return self.error is None


# -- parsing and the layout ------------------------------------------------------------------


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def _read_source(source: bytes | str | os.PathLike[str]) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str) and source.lstrip().startswith("<"):
        raise UsageError("give the XML as bytes (or a path), not as text")
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            if path.stat().st_size > MAX_XML_BYTES:
                raise XmlInputError(f"{path}: larger than {MAX_XML_BYTES // (1 << 20)} MiB")
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    else:
        raise UsageError(f"expected XML bytes or a path, got {type(source).__name__}")
    if len(data) > MAX_XML_BYTES:
        raise XmlInputError(f"the XML is larger than {MAX_XML_BYTES // (1 << 20)} MiB")
    return data


def _parse(data: bytes) -> Any:
    """The document tree; :class:`XmlInputError` for anything but plain, DTD-free XML."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<") and not head.startswith(b"\xff\xfe<") and b"<\x00" not in head:
        raise XmlInputError("not XML (it does not start with '<')")
    try:
        tree = etree.ElementTree(etree.fromstring(data, parser=_parser()))
    except etree.XMLSyntaxError as exc:
        raise XmlInputError(f"not well-formed XML ({exc.msg})") from exc
    except ValueError as exc:  # e.g. a str with an encoding declaration
        raise XmlInputError(f"not XML: {exc}") from exc
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise XmlInputError("XML with a DOCTYPE (DTD, entities) is refused")
    depth = 0
    for action, _el in etree.iterwalk(tree.getroot(), events=("start", "end")):
        depth += 1 if action == "start" else -1
        if depth > MAX_DEPTH:
            raise XmlInputError(f"XML nested deeper than {MAX_DEPTH} levels")
    return tree


def _local(el: Any) -> str:
    tag = el.tag
    return str(tag).rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _ns(el: Any) -> str | None:
    tag = el.tag
    return str(tag)[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else None


def _qname(ns: str | None, local: str) -> str:
    return f"{{{ns}}}{local}" if ns else local


def _children(el: Any, local: str, ns: str | None) -> list[Any]:
    return [c for c in el if isinstance(c.tag, str) and c.tag == _qname(ns, local)]


def _find_anchor(root: Any) -> tuple[_Layout, Any] | None:
    for layout in _LAYOUTS:
        for wrappers in layout.wrappers:
            path = (*wrappers, layout.anchor)
            if _local(root) != path[0]:
                continue
            node = root
            for name in path[1:]:
                found = _children(node, name, _ns(node))
                if len(found) != 1:
                    node = None
                    break
                node = found[0]
            if node is not None:
                return layout, node
    return None


def _element_id(el: Any, attrs: Sequence[str]) -> tuple[str, str] | None:
    for attr in attrs:
        value = el.get(attr)
        if value:
            return attr, value
    return None


def _all_ids(root: Any) -> list[str]:
    """Every value of an ``Id``, ``ID`` or ``id`` attribute in the document."""
    return [str(v) for v in root.xpath("//@Id | //@ID | //@id")]


@dataclass
class _Target:
    tree: Any
    layout: _Layout | None
    element: Any
    element_id: str
    slot_parent: Any  # where the containers start (anchor) or the signature goes (generic)
    slot_ns: str | None
    ids: list[str]  # every Id (ID, id) value in the document


def _locate(tree: Any, role: str | None, element: str | None) -> _Target:
    if role is not None and role not in ROLES:
        raise UsageError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    root = tree.getroot()
    found = _find_anchor(root)
    if found is not None:
        layout, anchor = found
        if role is not None and role != layout.role:
            raise UsageError(
                f"the document is {_describe(layout)} ({_local(root)}), "
                f"which the {role!r} role does not sign"
            )
        name = element or layout.element
        scope, attrs = anchor, layout.id_attrs
    else:
        if element is None:
            wanted = role or "seller"
            known = next(lay for lay in _LAYOUTS if lay.role == wanted)
            raise XmlInputError(
                f"{_local(root) or 'the document'} is not {_describe(known)} "
                f"({'/'.join((*known.wrappers[-1], known.anchor))}); "
                "name the element to sign with element="
            )
        layout, anchor, name, scope, attrs = None, root, element, root, _ID_ATTRS
    matches = [
        el
        for el in scope.xpath("descendant-or-self::*[local-name()=$n]", n=name)
        if el.tag != f"{{{DS}}}{name}"
    ]
    if not matches:
        raise XmlInputError(f"no {name} element to sign in {_local(root)}")
    if len(matches) > 1:
        raise XmlInputError(f"{len(matches)} {name} elements: which one to sign is ambiguous")
    target = matches[0]
    ident = _element_id(target, attrs)
    if ident is None:
        raise XmlInputError(f"{name} has no {' or '.join(attrs)} attribute to refer to")
    ids = _all_ids(root)
    if ids.count(ident[1]) != 1:
        raise XmlInputError(f"the Id {ident[1]!r} of {name} is used by another element too")
    return _Target(tree, layout, target, ident[1], anchor, _ns(anchor), ids)


def _describe(layout: _Layout) -> str:
    return "an e-invoice" if layout.role == "seller" else "a tax declaration"


def _slot(target: _Target) -> Any:
    """The element the Signature goes in (created if missing); refuses a second signature."""
    if target.layout is None:
        return target.slot_parent
    node = target.slot_parent
    for depth, name in enumerate(target.layout.slot):
        found = _children(node, name, target.slot_ns)
        if len(found) > 1:
            raise XmlInputError(f"{len(found)} {name} elements where one is expected")
        if found:
            node = found[0]
            continue
        new = etree.Element(_qname(target.slot_ns, name))
        if depth == 0:
            node.append(new)
        else:
            node.insert(0, new)  # NBan comes first in DSCKS
        node = new
    if node.find(f"{{{DS}}}Signature") is not None:
        where = "/".join(target.layout.slot)
        raise XmlInputError(f"{where} is already signed")
    return node


# -- building the signature ------------------------------------------------------------------


def _canonical(el: Any, drop_signature: str | None = None) -> bytes:
    """Inclusive C14N 1.0 of ``el``'s subtree, its in-scope namespaces included.

    The subtree is re-parsed from its own serialisation (which carries the namespaces
    declared above it) before it is canonicalised: canonicalising a subtree in place can
    add a spurious ``xmlns=""``. The ``xml:*`` attributes of its ancestors are added, as
    C14N 1.0 has the apex inherit them. ``drop_signature`` applies the enveloped-signature
    transform: the ds:Signature with that Id is removed first.
    """
    node = etree.fromstring(etree.tostring(el), parser=_parser())
    for ancestor in el.iterancestors():  # C14N 1.0: the apex inherits xml:lang, xml:space...
        for name, value in ancestor.attrib.items():
            if name.startswith(_XML_ATTR) and name not in node.attrib:
                node.set(name, value)
    if drop_signature is not None:
        for sig in node.iter(f"{{{DS}}}Signature"):
            if sig.get("Id") == drop_signature and sig.getparent() is not None:
                remove_keeping_tail(sig)
                break
    out: bytes = etree.tostring(node, method="c14n", exclusive=False, with_comments=False)
    return out


def _sub(parent: Any, local: str, text: str | None = None, **attrs: str) -> Any:
    el = etree.SubElement(parent, f"{{{DS}}}{local}", attrib=attrs or None)
    if text is not None:
        el.text = text
    return el


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unique_id(wanted: str, taken: set[str]) -> str:
    ident, n = wanted, 1
    while ident in taken:
        n += 1
        ident = f"{wanted}-{n}"
    taken.add(ident)
    return ident


def _vietnam_time(signing_time: datetime | None) -> str:
    when = signing_time or datetime.now(UTC)
    if when.tzinfo is not None:
        when = when.astimezone(VIETNAM_TIME)
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def _key_kind(cert: x509.Certificate) -> str:
    algo = cert.public_key.algorithm
    if algo in ("rsa", "ec"):
        return str(algo)
    raise UsageError(f"XML signatures here take RSA or EC keys, not {algo}")


@functools.lru_cache(maxsize=64)
def _pyca(der: bytes) -> pyca_x509.Certificate:
    return pyca_x509.load_der_x509_certificate(der)


def _subject_name(cert: x509.Certificate) -> str:
    return _pyca(cert.dump()).subject.rfc4514_string()


def _issuer_chain(
    cert: x509.Certificate, others: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    """The intermediate CAs above ``cert`` among ``others``, nearest first, no root."""
    out: list[x509.Certificate] = []
    current = cert
    pool = list(others)
    while True:
        issuer = next(
            (
                c
                for c in pool
                if c.subject == current.issuer
                and c.dump() != current.dump()
                and all(c.dump() != o.dump() for o in out)
            ),
            None,
        )
        if issuer is None or issuer.self_signed in ("maybe", "yes") or len(out) >= 8:
            return out
        out.append(issuer)
        current = issuer


@dataclass
class _Template:
    tree: Any
    signature: Any
    value: Any  # the empty SignatureValue
    signed_info: bytes  # canonical SignedInfo: the bytes the key signs
    signature_id: str
    key_kind: str


def _template(
    target: _Target,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    signing_time: datetime | None,
) -> _Template:
    kind = _key_kind(cert)
    taken = set(target.ids)
    prefix = "/".join(target.layout.slot).rsplit("/", 1)[-1] if target.layout else "Sig"
    sig_id = _unique_id(f"{prefix}-{target.element_id.lstrip('_') or 'sig'}", taken)
    obj_id = _unique_id(f"Obj-{sig_id}", taken)
    slot = _slot(target)

    signature = etree.SubElement(slot, f"{{{DS}}}Signature", nsmap={None: DS})
    signature.set("Id", sig_id)
    info = _sub(signature, "SignedInfo")
    _sub(info, "CanonicalizationMethod", Algorithm=C14N)
    _sub(info, "SignatureMethod", Algorithm=RSA_SHA256 if kind == "rsa" else ECDSA_SHA256)
    ref_doc = _sub(info, "Reference", URI=f"#{target.element_id}")
    _sub(_sub(ref_doc, "Transforms"), "Transform", Algorithm=ENVELOPED)
    _sub(ref_doc, "DigestMethod", Algorithm=SHA256)
    doc_digest = _sub(ref_doc, "DigestValue")
    ref_time = _sub(info, "Reference", URI=f"#{obj_id}")
    _sub(ref_time, "DigestMethod", Algorithm=SHA256)
    time_digest = _sub(ref_time, "DigestValue")
    value = _sub(signature, "SignatureValue")
    data = _sub(_sub(signature, "KeyInfo"), "X509Data")
    _sub(data, "X509SubjectName", _subject_name(cert))
    for c in (cert, *chain):
        _sub(data, "X509Certificate", _b64(c.dump()))
    obj = _sub(signature, "Object", Id=obj_id)
    prop = _sub(_sub(obj, "SignatureProperties"), "SignatureProperty", Target=f"#{sig_id}")
    _sub(prop, "SigningTime", _vietnam_time(signing_time))

    doc_digest.text = _b64(hashlib.sha256(_canonical(target.element, sig_id)).digest())
    time_digest.text = _b64(hashlib.sha256(_canonical(obj)).digest())
    return _Template(target.tree, signature, value, _canonical(info), sig_id, kind)


def _serialise(tree: Any) -> bytes:
    body: bytes = etree.tostring(tree, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def _xml_signature_value(cert: x509.Certificate, kind: str, to_sign: bytes, value: bytes) -> bytes:
    """Check ``value`` over ``to_sign`` with the certificate's key; return XMLDSig's form.

    RSA: PKCS#1 v1.5 as it is. EC: DER (what pyHanko and most clients give) or r||s in,
    r||s out (RFC 4050). Raises ``InvalidSignature`` or ``ValueError``.
    """
    key = _pyca(cert.dump()).public_key()
    if kind == "rsa" and isinstance(key, rsa.RSAPublicKey):
        key.verify(value, to_sign, PKCS1v15(), hashes.SHA256())
        return value
    if kind == "ec" and isinstance(key, ec.EllipticCurvePublicKey):
        size = (key.curve.key_size + 7) // 8
        try:
            r, s = decode_dss_signature(value)
        except ValueError:
            if len(value) != 2 * size:
                raise
            r, s = int.from_bytes(value[:size], "big"), int.from_bytes(value[size:], "big")
        key.verify(encode_dss_signature(r, s), to_sign, ec.ECDSA(hashes.SHA256()))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    raise ValueError(f"a {kind} signature for a {type(key).__name__}")


def _complete(tpl: _Template, xml_value: bytes) -> bytes:
    tpl.value.text = _b64(xml_value)
    return _serialise(tpl.tree)


# -- signing with a key source ---------------------------------------------------------------


async def _plan(
    signer: signers.Signer,
    profile: SignatureProfile,
    trust: TrustProfile | None,
    policy: ValidationPolicy | None,
    verifier: Verifier | None,
) -> _core.Plan:
    return await _core.plan(
        signer,
        profile=profile,
        level="B-B",
        trust=trust,
        policy=policy,
        verifier=verifier,
        tsa_url=None,
        digest=_DIGEST,
    )


def _check_mechanism(signer: signers.Signer) -> None:
    try:
        mechanism = signer.get_signature_mechanism_for_digest(_DIGEST)["algorithm"].native
    except (SigningError, KeyError, ValueError) as exc:
        raise KeySourceError(f"the key source has no signature mechanism: {exc}") from exc
    if mechanism not in ("sha256_rsa", "rsassa_pkcs1v15", "sha256_ecdsa", "ecdsa"):
        raise UsageError(
            f"XML signatures here use RSA PKCS#1 v1.5 or ECDSA with SHA-256, not {mechanism}"
        )


async def _sign_tree(
    tree: Any,
    signer: signers.Signer,
    plan: _core.Plan,
    chain: Sequence[x509.Certificate],
    role: str | None,
    element: str | None,
    signing_time: datetime | None,
) -> bytes:
    target = _locate(tree, role, element)
    tpl = _template(target, plan.cert, chain, signing_time)
    try:
        raw = await signer.async_sign_raw(tpl.signed_info, _DIGEST)
    except EsignError:
        raise
    except SigningError as exc:
        from esign.pdf import _signing_error

        raise _signing_error(exc, None) from exc
    except Exception as exc:  # a token's own errors (python-pkcs11) and the like
        raise KeySourceError(f"the key source could not sign: {exc!s:.200}") from exc
    try:
        value = _xml_signature_value(plan.cert, tpl.key_kind, tpl.signed_info, raw)
    except (InvalidSignature, ValueError) as exc:
        raise KeySourceError(
            "the key source gave a signature that does not verify with its certificate"
        ) from exc
    return _complete(tpl, value)


async def asign_xml(
    data: bytes | str | os.PathLike[str],
    signer: signers.Signer | KeySource,
    *,
    role: str | None = None,
    element: str | None = None,
    signing_time: datetime | None = None,
    profile: SignatureProfile = PUBLIC,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
) -> bytes:
    """Sign an e-invoice or tax declaration; see :func:`sign_xml`."""
    tree = _parse(_read_source(data))
    _locate(tree, role, element)  # refuse a bad layout before the key is touched
    async with _core.opened(signer) as pyhanko_signer:
        _check_mechanism(pyhanko_signer)
        plan = await _plan(pyhanko_signer, profile, trust, policy, verifier)
        chain = _issuer_chain(plan.cert, plan.chain)
        return await _sign_tree(tree, pyhanko_signer, plan, chain, role, element, signing_time)


def sign_xml(
    data: bytes | str | os.PathLike[str],
    signer: signers.Signer | KeySource,
    *,
    role: str | None = None,
    element: str | None = None,
    signing_time: datetime | None = None,
    profile: SignatureProfile = PUBLIC,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
) -> bytes:
    """The signed XML: an enveloped XMLDSig signature as Vietnamese receivers expect it.

    ``data`` is the XML (bytes) or a path to it. ``signer`` is any esign key source:
    :func:`esign.from_pkcs12`, :func:`esign.from_pem`, :func:`esign.from_pkcs11`,
    :func:`esign.from_csc` or a pyHanko ``Signer``. ``role`` is ``"seller"`` (an e-invoice
    ``HDon``: ``DLHDon`` is signed, the signature goes in ``DSCKS/NBan``) or
    ``"declarant"`` (a tax declaration ``HSoThueDTu``: ``HSoKhaiThue`` is signed, the
    signature goes in ``CKyDTu``); by default, the one the document is. ``element`` signs
    another element (it must carry an ``Id``). ``signing_time`` (default: now) is written
    in Vietnam's local time; a naive datetime is taken as Vietnam's local time already.

    The certificate is checked first, as :func:`esign.sign_pdf` does (``profile``,
    ``trust``, ``policy``, ``verifier``): a :class:`~esign.errors.CertificateRefused`
    subclass if the signature would not verify. Bad XML, a DOCTYPE, an unknown layout or
    a missing element raise :class:`~esign.errors.XmlInputError`.
    """
    return asyncio.run(
        asign_xml(
            data,
            signer,
            role=role,
            element=element,
            signing_time=signing_time,
            profile=profile,
            trust=trust,
            policy=policy,
            verifier=verifier,
        )
    )


# -- many documents --------------------------------------------------------------------------


async def asign_xml_many(
    items: Iterable[bytes | str | os.PathLike[str]],
    signer: signers.Signer | KeySource,
    *,
    role: str | None = None,
    element: str | None = None,
    signing_time: datetime | None = None,
    profile: SignatureProfile = PUBLIC,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
) -> AsyncGenerator[XmlSigned, None]:
    """Sign many documents under one key; see :func:`sign_xml_many`."""
    async with _core.opened(signer) as pyhanko_signer:
        _check_mechanism(pyhanko_signer)
        plan = await _plan(pyhanko_signer, profile, trust, policy, verifier)
        chain = _issuer_chain(plan.cert, plan.chain)
        for index, item in enumerate(items):
            name = f"#{index}" if isinstance(item, bytes | bytearray | memoryview) else str(item)
            try:
                tree = _parse(_read_source(item))
                out = await _sign_tree(
                    tree, pyhanko_signer, plan, chain, role, element, signing_time
                )
            except (InputError, UsageError, KeySourceError) as exc:
                yield XmlSigned(index, name, None, exc, plan.identity)
                continue
            yield XmlSigned(index, name, out, None, plan.identity)


def sign_xml_many(
    items: Iterable[bytes | str | os.PathLike[str]],
    signer: signers.Signer | KeySource,
    *,
    role: str | None = None,
    element: str | None = None,
    signing_time: datetime | None = None,
    profile: SignatureProfile = PUBLIC,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
) -> Generator[XmlSigned, None, None]:
    """Sign each document of ``items`` (bytes or paths), yielding an :class:`XmlSigned` each.

    The key source is opened once and the certificate checked once, before the first
    document (a refusal raises, as in :func:`sign_xml`); after that, a document that cannot
    be signed (bad XML, wrong layout, unreadable file, a key source failing on it) gives a
    result with ``error`` set and the others go on. Results come in input order, one at
    a time: the documents are read as they are reached. Options are as for
    :func:`sign_xml`; with ``signing_time=None`` each document gets its own time. To stop
    early, ``close()`` the iterator (``contextlib.closing``): the key source is closed then.
    """
    loop = asyncio.new_event_loop()
    agen = asign_xml_many(
        items,
        signer,
        role=role,
        element=element,
        signing_time=signing_time,
        profile=profile,
        trust=trust,
        policy=policy,
        verifier=verifier,
    )
    try:
        while (result := loop.run_until_complete(_next(agen))) is not None:
            yield result
    finally:
        # Left early (break, an exception, garbage collection): close the key source in
        # its own loop, unless this thread is inside another loop by now (then only close).
        try:
            if not _in_a_running_loop():
                loop.run_until_complete(agen.aclose())
                loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def _in_a_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def _next(agen: AsyncIterator[XmlSigned]) -> XmlSigned | None:
    try:
        return await agen.__anext__()
    except StopAsyncIteration:
        return None


# -- two-phase (browser plugin) signing ------------------------------------------------------

_VERSION = 1
_MAX_STATE = 96 * 1024 * 1024


class XmlTwoPhaseSigner:
    """Two-phase XML signing, for browser plugins and tokens the server cannot reach.

    Phase one (:meth:`prepare`) checks the certificate, builds the complete signature
    but its value, and returns a :class:`~esign.Prepared`: ``to_sign`` is the canonical
    SignedInfo (sign these bytes, hash-then-sign with SHA-256: PKCS#1 v1.5 for RSA, ECDSA
    for EC), ``digest`` its SHA-256 for clients that sign a hash, ``state`` the opaque
    state. Phase two (:meth:`finish`) checks the state and the signature value against the
    certificate's key and returns the signed XML. ECDSA values may be DER or r||s.

    The state carries the prepared document (compressed) and the certificate, with an
    expiry, authenticated with HMAC-SHA256 under ``secret`` (at least 32 bytes; share it
    between the workers that may finish): no server-side storage. A forged, tampered,
    expired or PDF state raises :class:`~esign.errors.TwoPhaseStateError`; a value that
    does not verify raises :class:`~esign.errors.SignatureValueRejected`.
    """

    def __init__(
        self,
        secret: bytes,
        *,
        profile: SignatureProfile = PUBLIC,
        trust: TrustProfile | None = None,
        policy: ValidationPolicy | None = None,
        verifier: Verifier | None = None,
        ttl: float = 600.0,
    ) -> None:
        if len(secret) < 32:
            raise UsageError("the two-phase secret must be at least 32 bytes")
        self._secret = secret
        self.profile = profile
        self.verifier = _core.resolve_verifier(profile, trust, policy, verifier)
        self.ttl = ttl

    async def aprepare(
        self,
        data: bytes | str | os.PathLike[str],
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        *,
        role: str | None = None,
        element: str | None = None,
        signing_time: datetime | None = None,
    ) -> Prepared:
        """Refuse a certificate that would not verify; build the signature; say what to sign."""
        tree = _parse(_read_source(data))
        target = _locate(tree, role, element)
        kind = _key_kind(certificate)
        ext = signers.ExternalSigner(certificate, cert_store(list(chain)), signature_value=512)
        await _plan(ext, self.profile, None, None, self.verifier)  # refuses, or goes on
        tpl = _template(target, certificate, _issuer_chain(certificate, chain), signing_time)
        expires = time.time() + self.ttl
        payload = {
            "v": _VERSION,
            "kind": "xml",
            "id": secrets.token_hex(16),
            "exp": expires,
            "profile": self.profile.name,
            "sig": tpl.signature_id,
            "cert": _b64(certificate.dump()),
            "tbs": _b64(hashlib.sha256(tpl.signed_info).digest()),
            "doc": _b64(zlib.compress(_serialise(tpl.tree), 6)),
        }
        return Prepared(
            to_sign=tpl.signed_info,
            digest=hashlib.sha256(tpl.signed_info).digest(),
            digest_algorithm=_DIGEST,
            signature_algorithm="sha256_rsa" if kind == "rsa" else "sha256_ecdsa",
            state=self._seal(payload),
            expires=datetime.fromtimestamp(expires, UTC),
        )

    def prepare(
        self,
        data: bytes | str | os.PathLike[str],
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        **kwargs: Any,
    ) -> Prepared:
        """Sync twin of :meth:`aprepare`."""
        return asyncio.run(self.aprepare(data, certificate, chain, **kwargs))

    def finish(self, state: str, signature_value: bytes) -> bytes:
        """Check the state and the signature value; return the signed XML."""
        p = self._open(state)
        cert = x509.Certificate.load(base64.b64decode(p["cert"]))
        tree = _parse(zlib.decompress(base64.b64decode(p["doc"])))
        sig_id = str(p["sig"])
        found = [s for s in tree.getroot().iter(f"{{{DS}}}Signature") if s.get("Id") == sig_id]
        if len(found) != 1:  # pragma: no cover - the state is authenticated
            raise TwoPhaseStateError("the two-phase state holds no prepared signature")
        signature = found[0]
        info = signature.find(f"{{{DS}}}SignedInfo")
        value_el = signature.find(f"{{{DS}}}SignatureValue")
        to_sign = _canonical(info)
        if not hmac.compare_digest(
            hashlib.sha256(to_sign).digest(), base64.b64decode(p["tbs"])
        ):  # pragma: no cover - the state is authenticated
            raise TwoPhaseStateError("the prepared document does not match its state")
        kind = _key_kind(cert)
        if not isinstance(signature_value, bytes | bytearray):
            raise UsageError("the signature value must be bytes")
        try:
            value = _xml_signature_value(cert, kind, to_sign, bytes(signature_value))
        except (InvalidSignature, ValueError) as exc:
            raise SignatureValueRejected(
                "the signature value does not verify with the signer's certificate"
            ) from exc
        tpl = _Template(tree, signature, value_el, to_sign, sig_id, kind)
        profile_named(str(p["profile"]))  # a state from a profile this version still knows
        return _complete(tpl, value)

    async def afinish(self, state: str, signature_value: bytes) -> bytes:
        """Async twin of :meth:`finish` (nothing in phase two waits)."""
        return self.finish(state, signature_value)

    # -- the state ------------------------------------------------------------------------

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(
            self._secret, b"hoso.esign.xml-twophase.v1\x00" + body, hashlib.sha256
        ).digest()

    def _seal(self, payload: dict[str, Any]) -> str:
        body = zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 6)
        return _b64url(body) + "." + _b64url(self._mac(body))

    def _open(self, state: str) -> dict[str, Any]:
        if not isinstance(state, str) or len(state) > _MAX_STATE or state.count(".") != 1:
            raise TwoPhaseStateError("the two-phase state is not one we issued")
        body_txt, mac_txt = state.split(".")
        try:
            body = _unb64url(body_txt)
            mac = _unb64url(mac_txt)
        except ValueError as exc:
            raise TwoPhaseStateError("the two-phase state is garbled") from exc
        if not hmac.compare_digest(mac, self._mac(body)):
            raise TwoPhaseStateError("the two-phase state was tampered with or not issued here")
        try:
            payload: dict[str, Any] = json.loads(zlib.decompress(body))
        except (ValueError, zlib.error) as exc:  # pragma: no cover - authenticated already
            raise TwoPhaseStateError("the two-phase state is garbled") from exc
        if payload.get("v") != _VERSION or payload.get("kind") != "xml":
            raise TwoPhaseStateError("the two-phase state is not an XML signing state")
        if time.time() > float(payload["exp"]):
            raise TwoPhaseStateError("the two-phase state has expired; prepare again")
        return payload


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
