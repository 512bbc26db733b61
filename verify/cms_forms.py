"""CMS forms that pyHanko validates only once reshaped: the verifier's readers use these.

pyHanko validates one ``SignedData`` with exactly one ``SignerInfo``, over detached
content, with the signature algorithms asn1crypto knows. Documents in the wild also
come as:

- a ``SignedData`` with several ``SignerInfo`` values (two people signing one file,
  ``openssl cms -resign``): :func:`one_per_signer` gives one copy per signer (the
  ``SignerInfo`` set is not signed, so each copy is exactly what that signer signed);
- an enveloping CMS (``.p7m``, the content inside ``encapContentInfo``):
  :func:`detach_content` separates the content from the signature, which is then
  validated as a detached one over that content;
- a PDF ``/adbe.pkcs7.sha1`` signature, whose encapsulated content is the SHA-1 digest of
  the byte range: :func:`encapsulated_sha1` reads that digest;
- BSI TR-03111 plain-ECDSA signature algorithms (``ecdsa-plain-SHA*``, the value is
  ``r || s`` rather than a DER ``ECDSA-Sig-Value``): :func:`plain_ecdsa_as_der` rewrites
  the value to DER and names the same hash with X9.62 ECDSA, which is the same signature
  (same key, same hash, same ``r`` and ``s``) in the form pyHanko verifies.

It also holds the small readers every CMS-based format shares (:func:`certificates`,
:func:`unarmor`, :func:`looks_like_signed_data`, :func:`has_signed_attrs`,
:func:`with_certificates`).

None of these decides a verdict: the verifier validates what they give through the same
process as every other signature.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from asn1crypto import cms, core, x509
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = [
    "PLAIN_ECDSA",
    "certificates",
    "der_length",
    "detach_content",
    "encapsulated_sha1",
    "has_signed_attrs",
    "looks_like_signed_data",
    "one_per_signer",
    "plain_ecdsa_as_der",
    "plain_ecdsa_name",
    "unarmor",
    "with_certificates",
    "with_plain_ecdsa_as_der",
]

# BSI TR-03111 ecdsa-plain-signatures (0.4.0.127.0.7.1.1.4.1): OID -> (name, X9.62 ECDSA
# with the same hash, as asn1crypto names it).
PLAIN_ECDSA: dict[str, tuple[str, str]] = {
    "0.4.0.127.0.7.1.1.4.1.1": ("ecdsa-plain-SHA1", "sha1_ecdsa"),
    "0.4.0.127.0.7.1.1.4.1.2": ("ecdsa-plain-SHA224", "sha224_ecdsa"),
    "0.4.0.127.0.7.1.1.4.1.3": ("ecdsa-plain-SHA256", "sha256_ecdsa"),
    "0.4.0.127.0.7.1.1.4.1.4": ("ecdsa-plain-SHA384", "sha384_ecdsa"),
    "0.4.0.127.0.7.1.1.4.1.5": ("ecdsa-plain-SHA512", "sha512_ecdsa"),
}
# ecdsa-plain-RIPEMD160 (.6) is left out: neither asn1crypto nor OpenSSL 3's default
# provider knows RIPEMD-160, so such a signature stays unverifiable (never a pass).

_SHA1_SIZE = 20


def one_per_signer(signed_data: cms.SignedData) -> list[cms.SignedData]:
    """One copy of ``signed_data`` per ``SignerInfo``, each holding only that one.

    Raises ``ValueError`` when there is none.
    """
    infos = list(signed_data["signer_infos"])
    if not infos:
        raise ValueError("the CMS holds no SignerInfo")
    if len(infos) == 1:
        return [signed_data]
    copies = []
    for si in infos:
        copy = signed_data.copy()
        copy["signer_infos"] = cms.SignerInfos([cms.SignerInfo.load(si.dump())])
        copies.append(copy)
    return copies


def detach_content(signed_data: cms.SignedData) -> tuple[bytes, cms.SignedData]:
    """The encapsulated content and a copy of ``signed_data`` without it (same type).

    Raises ``ValueError`` when the CMS encapsulates nothing (a detached signature).
    """
    eci = signed_data["encap_content_info"]
    content = eci["content"]
    if isinstance(content, core.Void) or content.native is None:
        raise ValueError("the CMS encapsulates no content (a detached signature needs its file)")
    data = _octets(content)
    copy = signed_data.copy()
    # the same type as read: ContentInfo in a v1 SignedData, EncapsulatedContentInfo after
    copy["encap_content_info"] = type(eci)({"content_type": eci["content_type"].dotted})
    return data, copy


def encapsulated_sha1(content: bytes) -> bytes:
    """The SHA-1 digest an ``/adbe.pkcs7.sha1`` signature encapsulates.

    The specification puts the 20 octets as the ``data`` content; some producers wrap
    them in one more DER OCTET STRING, which is unwrapped. Anything else is refused.
    """
    if len(content) == _SHA1_SIZE:
        return content
    if len(content) == _SHA1_SIZE + 2 and content[:2] == b"\x04\x14":
        return content[2:]
    raise ValueError(
        f"the encapsulated content is {len(content)} bytes, not a SHA-1 digest (20 bytes)"
    )


def plain_ecdsa_name(signer_info: cms.SignerInfo) -> str | None:
    """``ecdsa-plain-SHA256`` and the like when the SignerInfo uses a plain-ECDSA OID."""
    found = PLAIN_ECDSA.get(signer_info["signature_algorithm"]["algorithm"].dotted)
    return found[0] if found is not None else None


def plain_ecdsa_as_der(signer_info: cms.SignerInfo) -> cms.SignerInfo:
    """A copy of a plain-ECDSA ``SignerInfo`` with a DER signature value and the X9.62
    algorithm of the same hash (unchanged if it is not plain ECDSA).

    A value of odd length has no ``r || s`` reading: it is kept as it is, so that the
    signature check fails (SIG_CRYPTO_FAILURE), never guessed at.
    """
    found = PLAIN_ECDSA.get(signer_info["signature_algorithm"]["algorithm"].dotted)
    if found is None:
        return signer_info
    copy = cms.SignerInfo.load(signer_info.dump())
    raw = bytes(signer_info["signature"].native)
    copy["signature_algorithm"] = cms.SignedDigestAlgorithm({"algorithm": found[1]})
    if raw and len(raw) % 2 == 0:
        half = len(raw) // 2
        r, s = int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
        copy["signature"] = encode_dss_signature(r, s)
    return copy


def with_plain_ecdsa_as_der(signed_data: cms.SignedData) -> tuple[cms.SignedData, str | None]:
    """``signed_data`` (one SignerInfo) with a plain-ECDSA signature made DER (see
    :func:`plain_ecdsa_as_der`), and the plain algorithm's name (None: unchanged)."""
    infos = list(signed_data["signer_infos"])
    if len(infos) != 1:
        return signed_data, None
    name = plain_ecdsa_name(infos[0])
    if name is None:
        return signed_data, None
    copy = signed_data.copy()
    copy["signer_infos"] = cms.SignerInfos([plain_ecdsa_as_der(infos[0])])
    return copy, name


def _octets(content: core.Asn1Value) -> bytes:
    """The octets of the encapsulated content (a constructed BER OCTET STRING joined)."""
    if isinstance(content, core.OctetString | core.ParsableOctetString):
        return bytes(content)
    raise ValueError(f"the encapsulated content is a {type(content).__name__}, not octets")


def verifies_over(signer_info: cms.SignerInfo, cert: x509.Certificate, payload: bytes) -> bool:
    """Whether ``signer_info``'s signature value verifies over ``payload`` with ``cert``'s
    key (RSA PKCS#1 v1.5 or PSS, ECDSA), for the digest algorithm it names."""
    from cryptography import x509 as cx509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    try:
        name = signer_info["digest_algorithm"]["algorithm"].native
        digest: hashes.HashAlgorithm = getattr(hashes, str(name).upper())()
        key = cx509.load_der_x509_certificate(cert.dump()).public_key()
        mechanism = signer_info["signature_algorithm"].signature_algo
        value = signer_info["signature"].native
        if isinstance(key, rsa.RSAPublicKey):
            pad: padding.AsymmetricPadding = (
                padding.PSS(mgf=padding.MGF1(digest), salt_length=padding.PSS.AUTO)
                if mechanism == "rsassa_pss"
                else padding.PKCS1v15()
            )
            key.verify(value, payload, pad, digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(value, payload, ec.ECDSA(digest))
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError, AttributeError):
        return False
    return True


def der_length(n: int) -> bytes:
    """The DER length octets for ``n`` content octets."""
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def read_structure(signed_data: cms.SignedData) -> None:
    """Read the fields of ``signed_data`` no later step looks at, its version and its
    ``digestAlgorithms`` set; ValueError when either is malformed. asn1crypto parses
    lazily, so a token whose structure is broken there (a length changed: the version
    swallowing the set's header) would otherwise be read, its signature over the signed
    attributes still verifying. (Certificates and CRLs are read where they are used: a
    CRL extension asn1crypto does not know, as in EU DSS's files, must not make a token
    unreadable.)"""
    signed_data["version"].native  # noqa: B018 - parsing them is the point
    signed_data["digest_algorithms"].native  # noqa: B018


def certificates(signed_data: cms.SignedData) -> Iterator[x509.Certificate]:
    """The X.509 certificates a SignedData carries (other certificate forms are skipped;
    an unreadable set yields what was read before it)."""
    try:
        for choice in signed_data["certificates"] or ():
            if choice.name == "certificate":
                yield choice.chosen
    except Exception:  # noqa: BLE001
        return


def unarmor(data: bytes) -> bytes:
    """DER from PEM armour, or ``data`` unchanged when it is not armoured."""
    stripped = data.strip()
    if stripped.startswith(b"-----BEGIN"):
        from asn1crypto import pem

        try:
            _, _, der = pem.unarmor(stripped)
            return bytes(der)
        except Exception:  # noqa: BLE001
            return data
    return data


def looks_like_signed_data(data: bytes) -> bool:
    """A CMS SignedData (DER/BER, or PEM) given as the document: an enveloping ``.p7m``."""
    head = data.lstrip()[:64]
    if head.startswith((b"-----BEGIN PKCS7", b"-----BEGIN CMS")):
        return True
    # SEQUENCE { OID 1.2.840.113549.1.7.2 (signedData), ... } within the first bytes
    return head[:1] == b"\x30" and b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02" in head[:16]


def has_signed_attrs(signed_data: cms.SignedData) -> bool:
    """Whether the first SignerInfo has signed attributes."""
    try:
        return bool(len(signed_data["signer_infos"][0]["signed_attrs"]))
    except Exception:  # noqa: BLE001
        return False


def with_certificates(
    signed_data: cms.SignedData, certs: Sequence[x509.Certificate]
) -> cms.SignedData:
    """A copy of ``signed_data`` carrying only ``certs`` (certificates are not signed)."""
    copy = signed_data.copy()
    copy["certificates"] = cms.CertificateSet(
        [cms.CertificateChoices({"certificate": c}) for c in certs]
    )
    return copy
