"""XML signatures (XMLDSig), as Vietnamese e-invoices and tax messages carry them.

Low level: :func:`check_xml_signature` checks the references and the signature value and
returns what it found; it does not judge trust (the :class:`~verify.Verifier` does).
Parsing is hardened: no DTDs, no entities, no network, bounded size and depth.

Canonicalisation note: serialising a subtree with lxml and canonicalising it in place can
add a spurious ``xmlns=""`` that breaks genuine signatures; every node-set here is
re-parsed from its own serialisation before it is canonicalised.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asn1crypto import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509 import load_der_x509_certificate
from lxml import etree

__all__ = ["XmlSignatureCheck", "XmlSignatureError", "check_xml_signature", "looks_like_xml"]

DS = "http://www.w3.org/2000/09/xmldsig#"
_NS = {"ds": DS}

_C14N = {
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": (False, False),
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": (False, True),
    "http://www.w3.org/2001/10/xml-exc-c14n#": (True, False),
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": (True, True),
    "http://www.w3.org/2006/12/xml-c14n11": (False, False),
}
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_DIGESTS = {
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
    "http://www.w3.org/2001/04/xmldsig-more#md5": "md5",
}
_SIGNATURES = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": ("rsa", "sha1"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": ("rsa", "sha256"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("rsa", "sha384"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("rsa", "sha512"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": ("ec", "sha256"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("ec", "sha384"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": ("ec", "sha512"),
}
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(),  # noqa: S303 - judged later by the dated algorithm rules
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}
MAX_DEPTH = 256


class XmlSignatureError(ValueError):
    """The XML or its signature structure cannot be processed (a FORMAT_FAILURE)."""


@dataclass(frozen=True)
class XmlSignatureCheck:
    """What one XML signature says and whether its bytes verify."""

    signature_id: str | None
    signer_cert: x509.Certificate
    certificates: tuple[x509.Certificate, ...]
    references_ok: bool
    signature_ok: bool
    digest_algorithm: str
    signature_algorithm: str
    claimed_signing_time: datetime | None
    failed_references: tuple[str, ...] = field(default=())


def looks_like_xml(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def _parse(data: bytes) -> etree._Element:
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
        raise XmlSignatureError("XML with a DTD or entities is refused")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise XmlSignatureError(f"not well-formed XML ({exc.msg})") from exc
    depth = 0
    for _action, _el in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if _action == "start" else -1
        if depth > MAX_DEPTH:
            raise XmlSignatureError(f"XML nested deeper than {MAX_DEPTH} levels")
    return root


def _canonical(element: etree._Element, algorithm: str) -> bytes:
    if algorithm not in _C14N:
        raise XmlSignatureError(f"unsupported canonicalisation {algorithm}")
    exclusive, comments = _C14N[algorithm]
    # re-parse the subtree from its own serialisation (see the module docstring)
    reparsed = etree.fromstring(etree.tostring(element), parser=_parser())
    out: bytes = etree.tostring(
        reparsed, method="c14n", exclusive=exclusive, with_comments=comments
    )
    return out


def _by_id(root: etree._Element, ident: str) -> etree._Element | None:
    for attr in ("Id", "ID", "id"):
        found = root.xpath(f"//*[@{attr}=$v]", v=ident)
        if isinstance(found, list) and len(found) == 1 and isinstance(found[0], etree._Element):
            return found[0]
        if isinstance(found, list) and len(found) > 1:
            raise XmlSignatureError(f"the Id {ident!r} is used more than once (wrapping attack)")
    return None


def _digest_reference(
    root: etree._Element, signature: etree._Element, ref: etree._Element
) -> tuple[bool, str]:
    uri = ref.get("URI")
    if uri is None or (uri and not uri.startswith("#")):
        raise XmlSignatureError(f"unsupported reference URI {uri!r} (only same-document)")
    if uri == "":
        target = root
    else:
        target = _by_id(root, uri[1:])
        if target is None:
            raise XmlSignatureError(f"reference {uri} points at nothing")
    transforms = [t.get("Algorithm", "") for t in ref.findall("ds:Transforms/ds:Transform", _NS)]
    node = etree.fromstring(etree.tostring(target), parser=_parser())
    c14n = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    for algorithm in transforms:
        if algorithm == _ENVELOPED:
            sig_id = signature.get("Id")
            for candidate in node.iter(f"{{{DS}}}Signature"):
                if sig_id is None or candidate.get("Id") == sig_id:
                    parent = candidate.getparent()
                    if parent is not None:
                        parent.remove(candidate)
                    elif candidate is node:
                        raise XmlSignatureError("enveloped signature is the whole reference")
                    break
        elif algorithm in _C14N:
            c14n = algorithm
        else:
            raise XmlSignatureError(f"unsupported transform {algorithm}")
    method = ref.find("ds:DigestMethod", _NS)
    value = ref.findtext("ds:DigestValue", default="", namespaces=_NS)
    algo = _DIGESTS.get(method.get("Algorithm", "") if method is not None else "")
    if algo is None:
        raise XmlSignatureError("unsupported digest method")
    digest = hashlib.new(algo, _canonical(node, c14n)).digest()
    try:
        expected = base64.b64decode("".join(value.split()), validate=True)
    except ValueError as exc:
        raise XmlSignatureError("DigestValue is not base64") from exc
    return digest == expected, algo


def _claimed_time(root: etree._Element, signature: etree._Element) -> datetime | None:
    for el in signature.iter():
        if isinstance(el.tag, str) and el.tag.rsplit("}", 1)[-1] == "SigningTime" and el.text:
            try:
                when = datetime.fromisoformat(el.text.strip().replace("Z", "+00:00"))
            except ValueError:
                return None
            if when.tzinfo is None:
                # Vietnamese software writes local time without an offset
                from zoneinfo import ZoneInfo

                when = when.replace(tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
            return when.astimezone(UTC)
    return None


def check_xml_signature(data: bytes) -> list[XmlSignatureCheck]:
    """Check every ds:Signature in ``data``; raise :class:`XmlSignatureError` on bad input."""
    root = _parse(data)
    signatures = root.findall(f".//{{{DS}}}Signature")
    if root.tag == f"{{{DS}}}Signature":
        signatures.insert(0, root)
    results: list[XmlSignatureCheck] = []
    for signature in signatures:
        signed_info = signature.find("ds:SignedInfo", _NS)
        if signed_info is None:
            raise XmlSignatureError("a Signature without SignedInfo")
        c14n = signed_info.find("ds:CanonicalizationMethod", _NS)
        c14n_algo = c14n.get("Algorithm", "") if c14n is not None else ""
        method = signed_info.find("ds:SignatureMethod", _NS)
        sig_algo = method.get("Algorithm", "") if method is not None else ""
        if sig_algo not in _SIGNATURES:
            raise XmlSignatureError(f"unsupported signature method {sig_algo}")
        key_kind, hash_name = _SIGNATURES[sig_algo]
        certs_b64 = signature.findall(".//ds:KeyInfo//ds:X509Certificate", _NS)
        if not certs_b64:
            raise XmlSignatureError("no X509Certificate in KeyInfo")
        certs = []
        for el in certs_b64:
            try:
                der = base64.b64decode("".join((el.text or "").split()), validate=True)
                certs.append(x509.Certificate.load(der))
            except ValueError as exc:
                raise XmlSignatureError("an X509Certificate that is not a certificate") from exc
        refs = signed_info.findall("ds:Reference", _NS)
        if not refs:
            raise XmlSignatureError("SignedInfo has no Reference")
        failed: list[str] = []
        digest_algo = "sha256"
        for ref in refs:
            ok, digest_algo = _digest_reference(root, signature, ref)
            if not ok:
                failed.append(ref.get("URI", ""))
        value_text = signature.findtext("ds:SignatureValue", default="", namespaces=_NS)
        try:
            value = base64.b64decode("".join(value_text.split()), validate=True)
        except ValueError as exc:
            raise XmlSignatureError("SignatureValue is not base64") from exc
        signed_bytes = _canonical(signed_info, c14n_algo)
        signer, signature_ok = _find_signer(certs, key_kind, hash_name, value, signed_bytes)
        results.append(
            XmlSignatureCheck(
                signature_id=signature.get("Id"),
                signer_cert=signer,
                certificates=tuple(certs),
                references_ok=not failed,
                signature_ok=signature_ok,
                digest_algorithm=digest_algo,
                signature_algorithm=f"{key_kind}-{hash_name}",
                claimed_signing_time=_claimed_time(root, signature),
                failed_references=tuple(failed),
            )
        )
    return results


def _find_signer(
    certs: list[x509.Certificate],
    key_kind: str,
    hash_name: str,
    value: bytes,
    signed: bytes,
) -> tuple[x509.Certificate, bool]:
    """The certificate whose key verifies the signature (else the first, unverified)."""
    algo = _HASHES.get(hash_name)
    if algo is None:
        return certs[0], False
    for cert in certs:
        try:
            key = load_der_x509_certificate(cert.dump()).public_key()
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
        except (InvalidSignature, ValueError):
            continue
    return certs[0], False
