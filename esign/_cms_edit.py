"""Edits of a CMS SignedData that keep every other value's encoding, byte for byte.

Internal to :mod:`esign.augment`. A signature's value and signed attributes, its content
and every value not edited keep the bytes they were read with (BER included: an
``openssl cms -stream`` ``.p7m`` keeps its indefinite-length content); only the values that
contain an edit are written again, in DER lengths. asn1crypto's ``dump()`` of a value read
with an indefinite length would re-encode it and sort every SET OF inside, which would
move unsigned attributes and break the archive timestamps over them.
"""

from __future__ import annotations

from collections.abc import Sequence

from verify import ber
from verify.ber import Tlv as _Tlv
from verify.ber import oid_der as _oid
from verify.ber import read_one as _one
from verify.ber import tlv as _tlv

__all__ = [
    "OCSP_RESPONSE_FORMAT",
    "SIGNATURE_TIMESTAMP",
    "add_validation_data",
    "append_unsigned_attribute",
    "attribute",
    "signed_data_fields",
]

SIGNATURE_TIMESTAMP = "1.2.840.113549.1.9.16.2.14"
"""id-aa-signatureTimeStampToken (RFC 3161 Appendix A, CAdES B-T)."""
OCSP_RESPONSE_FORMAT = "1.3.6.1.5.5.7.16.2"
"""id-ri-ocsp-response (RFC 5940): an OCSPResponse as an otherRevInfo of SignedData.crls."""
_SIGNED_DATA = "1.2.840.113549.1.7.2"


def attribute(oid: str, *values: bytes) -> bytes:
    """A DER ``Attribute``: ``oid`` and a SET of the given encoded values, in that order."""
    return _tlv(0x30, _oid(oid) + _tlv(0x31, b"".join(values)))


def _signed_data(raw: bytes) -> tuple[_Tlv, list[_Tlv]]:
    """The ContentInfo's SignedData and its fields."""
    top = _one(raw)
    kids = top.children()
    if len(kids) != 2 or kids[0].encoded != _oid(_SIGNED_DATA) or kids[1].first != 0xA0:
        raise ValueError("not a CMS SignedData")
    (sd,) = kids[1].children()
    if sd.first != 0x30:
        raise ValueError("not a CMS SignedData")
    fields = sd.children()
    if len(fields) < 4 or fields[-1].first != 0x31:
        raise ValueError("SignedData has too few fields")
    return sd, fields


def _content_info(fields: Sequence[bytes]) -> bytes:
    return _tlv(0x30, _oid(_SIGNED_DATA) + _tlv(0xA0, _tlv(0x30, b"".join(fields))))


def signed_data_fields(raw: bytes) -> list[bytes]:
    """The encoded fields of the SignedData in a ContentInfo (version, digestAlgorithms,
    encapContentInfo, certificates and crls when present, signerInfos)."""
    return [f.encoded for f in _signed_data(raw)[1]]


def append_unsigned_attribute(raw: bytes, signer_index: int, attr: bytes) -> bytes:
    """``raw`` (a ContentInfo holding a SignedData) with ``attr`` (a DER ``Attribute``)
    appended to the unsigned attributes of SignerInfo ``signer_index``."""
    sd, _fields = _signed_data(raw)
    return _tlv(
        0x30, _oid(_SIGNED_DATA) + _tlv(0xA0, ber.append_unsigned_attribute(sd, signer_index, attr))
    )


def add_validation_data(
    raw: bytes,
    certificates: Sequence[bytes] = (),
    crls: Sequence[bytes] = (),
    ocsp_responses: Sequence[bytes] = (),
) -> tuple[bytes, int, int]:
    """``raw`` with the DER ``certificates`` added to ``SignedData.certificates`` and the
    DER ``crls`` and OCSP responses (each an ``OCSPResponse``, as the otherRevInfo
    id-ri-ocsp-response of RFC 5940) to ``SignedData.crls``, each unless already there
    with the same bytes. Returns the new bytes and how many certificates and revocation
    values were added. The SignedData's version becomes 5 when it carries an otherRevInfo
    (RFC 5652 §5.1)."""
    _sd, fields = _signed_data(raw)
    version, algos, encap = fields[0], fields[1], fields[2]
    rest = fields[3:-1]
    infos = fields[-1]
    cert_field = next((f for f in rest if f.first == 0xA0), None)
    crl_field = next((f for f in rest if f.first == 0xA1), None)
    if len(rest) != (cert_field is not None) + (crl_field is not None):
        raise ValueError("SignedData has fields this edit does not know")
    have_certs = [c.encoded for c in cert_field.children()] if cert_field else []
    have_crls = [c.encoded for c in crl_field.children()] if crl_field else []
    new_certs = [c for c in dict.fromkeys(certificates) if c not in have_certs]
    new_revs = [c for c in dict.fromkeys(crls) if c not in have_crls]
    for resp in dict.fromkeys(ocsp_responses):
        other = _tlv(0xA1, _oid(OCSP_RESPONSE_FORMAT) + resp)
        if other not in have_crls and other not in new_revs:
            new_revs.append(other)
    if not new_certs and not new_revs:
        return raw, 0, 0
    out = [version.encoded, algos.encoded, encap.encoded]
    if cert_field is not None or new_certs:
        kept = cert_field.contents if cert_field is not None else b""
        out.append(_tlv(0xA0, kept + b"".join(new_certs)))
    if crl_field is not None or new_revs:
        kept = crl_field.contents if crl_field is not None else b""
        out.append(_tlv(0xA1, kept + b"".join(new_revs)))
    out.append(infos.encoded)
    has_other = any(r[:1] == b"\xa1" for r in [*have_crls, *new_revs])
    if has_other and version.contents != b"\x05":
        out[0] = _tlv(0x02, b"\x05")
    return _content_info(out), len(new_certs), len(new_revs)
