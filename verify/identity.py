"""Who signed: the signer's identity read from a Vietnamese certificate.

:meth:`SignerIdentity.from_certificate` reads a certificate's subject and issuer into a
frozen :class:`SignerIdentity`: the name (CN), the identifiers, the organisation, title,
address fields, the issuing CA, the hierarchy, the validity. It never raises on odd
subjects: whatever it cannot interpret is kept raw.

Where identifiers are found
---------------------------
Vietnamese CAs put identifiers in the subject, in this order of preference:

1. ``UID`` attributes (OID 0.9.2342.19200300.100.1.1), often several, as ``SCHEME:value``:
   ``UID=MST:0316950978`` (MISA-CA), ``UID=MST:0100686209-199, UID=CCCD:025199009534``
   (an employee's certificate), ``UID=MST:0400260612, UID=MNS:1047665`` (a state body),
   ``UID=CMND:079073009568``, ``UID=HC:E00851967``;
2. ``serialNumber`` (2.5.4.5), same ``SCHEME:value`` text, or the ETSI EN 319 412-1
   semantic form ``IDCVN-…``, ``PASVN-…``, ``PNOVN-…``, ``TINVN-…``;
3. ``organizationIdentifier`` (2.5.4.97): ``VATVN-0101234567``, ``MST:…``;
4. inside the CN, only when written with an explicit scheme and colon
   (``Nguyễn Văn A (CCCD: 001…)``).

Recognised schemes (case-insensitive, spaces around the colon tolerated):

=============  =========================  ============================================
scheme         written as                 well-formed value
=============  =========================  ============================================
``cccd``       CCCD, CC, IDCVN-           12 digits (citizen identity card)
``cmnd``       CMND, CMT, IDCVN-          9 or 12 digits (old identity card)
``pid``        PID, DDCN, PNOVN-          12 digits (personal identification number)
``passport``   HC, PASSPORT, PPID, PASVN- 5-20 letters or digits
``mst``        MST, TIN, TINVN-, VATVN-   10 digits, or 10 digits ``-`` 3 (a branch);
                                          13 digits are rewritten to the dashed form;
                                          12 digits: a person's identification number
                                          used as tax code (individuals since 2025)
``mns``        MNS, MQHNS                 7 digits (budget-relationship unit code)
``bhxh``       BHXH                       10 digits (a person's social insurance code)
``unknown``    anything else              kept verbatim, never dropped
=============  =========================  ============================================

A recognised scheme with a malformed value is kept with ``well_formed=False``. A bare
value without a scheme (``UID=038079004321``) is ``unknown``: a 12-digit number could be a
citizen ID or a personal tax code, and guessing is not our job. Every identifier keeps
``raw`` (the attribute's text exactly as decoded) and ``source`` (the attribute).

Kind rules
----------
- *Personal* identifiers: ``cccd``, ``cmnd``, ``pid``, ``passport``, a well-formed
  ``bhxh``, and a 12-digit ``mst`` (a personal identification number used as tax code).
  *Organisation* identifiers: any other ``mst``, ``mns``.
- A subject with a personal identifier is a person: ``OFFICIAL`` when the certificate
  belongs to the specialized hierarchy (``profile == "specialized"``), else
  ``INDIVIDUAL`` (an employee's certificate with both MST and CCCD is a person).
- Else, with an organisation identifier: ``ORGANISATION``.
- Else (no recognised identifier; common in the specialized hierarchy):
  a subject with a title (``T``, 2.5.4.12) is a person: ``OFFICIAL`` when it also names
  an organisation and the profile is specialized, else ``INDIVIDUAL``; a subject whose CN
  equals its O or OU is ``ORGANISATION``; anything else is ``UNKNOWN``, said honestly.

The hierarchy (``profile``) is the one of the issuing CA, found in the
:class:`~verify.trust.TrustProfile` given to :meth:`SignerIdentity.from_certificate` by
key identifier and signature (never by name), or given directly as ``"public"`` or
``"specialized"``; ``None`` when unknown.

Names and text attributes are normalised to Unicode NFC with surrounding whitespace
removed; several values of one attribute (two OUs, say) are joined with ``", "``.
"""

from __future__ import annotations

import enum
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from asn1crypto import pem, x509

from verify.errors import CertificateParseError
from verify.trust import Hierarchy, TrustProfile

if TYPE_CHECKING:
    from cryptography.x509 import Certificate as CryptographyCertificate

__all__ = [
    "Identifier",
    "IdentifierScheme",
    "SignerIdentity",
    "SignerKind",
]

# What asn1crypto and cryptography raise on malformed input (UnicodeDecodeError is a
# ValueError). Reading an identity catches these, never a blind Exception.
_KEPT: OrderedDict[tuple[bytes, str | None], SignerIdentity] = OrderedDict()
"""Identities already read (see :meth:`SignerIdentity.from_certificate`), newest last."""
_KEPT_SIZE = 512
_KEPT_LOCK = threading.Lock()

_PARSE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError)

_OID_UID = "0.9.2342.19200300.100.1.1"
_OID_SERIAL_NUMBER = "2.5.4.5"
_OID_ORG_IDENTIFIER = "2.5.4.97"
_OID_CN = "2.5.4.3"
_OID_O = "2.5.4.10"
_OID_OU = "2.5.4.11"
_OID_TITLE = "2.5.4.12"
_OID_L = "2.5.4.7"
_OID_ST = "2.5.4.8"
_OID_C = "2.5.4.6"
_OID_EMAIL = "1.2.840.113549.1.9.1"


class SignerKind(enum.StrEnum):
    """What kind of signer a certificate names."""

    INDIVIDUAL = "individual"
    ORGANISATION = "organisation"
    OFFICIAL = "official"
    UNKNOWN = "unknown"


class IdentifierScheme(enum.StrEnum):
    """The kinds of identifier Vietnamese CAs put in a subject (see the module docs)."""

    CCCD = "cccd"
    CMND = "cmnd"
    PID = "pid"
    PASSPORT = "passport"
    MST = "mst"
    MNS = "mns"
    BHXH = "bhxh"
    UNKNOWN = "unknown"


_PREFIXES: dict[str, IdentifierScheme] = {
    "CCCD": IdentifierScheme.CCCD,
    "CC": IdentifierScheme.CCCD,
    "CMND": IdentifierScheme.CMND,
    "CMT": IdentifierScheme.CMND,
    "PID": IdentifierScheme.PID,
    "DDCN": IdentifierScheme.PID,
    "HC": IdentifierScheme.PASSPORT,
    "PASSPORT": IdentifierScheme.PASSPORT,
    "PPID": IdentifierScheme.PASSPORT,
    "MST": IdentifierScheme.MST,
    "TIN": IdentifierScheme.MST,
    "MNS": IdentifierScheme.MNS,
    "MQHNS": IdentifierScheme.MNS,
    "BHXH": IdentifierScheme.BHXH,
}

# ETSI EN 319 412-1 semantics identifiers: three letters, country, hyphen, value.
_ETSI_PREFIXES: dict[str, IdentifierScheme] = {
    "IDC": IdentifierScheme.CCCD,  # refined to CMND for 9 digits
    "PNO": IdentifierScheme.PID,
    "PAS": IdentifierScheme.PASSPORT,
    "TIN": IdentifierScheme.MST,
    "VAT": IdentifierScheme.MST,
}

_SCHEME_TEXT = re.compile(r"^\s*([A-Za-z]{1,12})\s*[:：]\s*(.*?)\s*$", re.DOTALL)
_ETSI_TEXT = re.compile(r"^\s*([A-Z]{3})VN\s*-\s*(.*?)\s*$", re.DOTALL)
_IN_NAME = re.compile(
    r"(?<![A-Za-z])(" + "|".join(sorted(_PREFIXES, key=len, reverse=True)) + r")\s*:\s*"
    r"([A-Za-z0-9][A-Za-z0-9-]*)"
)

_DIGITS = re.compile(r"\d+")
_PASSPORT = re.compile(r"[A-Z0-9]{5,20}")

_PERSONAL = frozenset(
    {
        IdentifierScheme.CCCD,
        IdentifierScheme.CMND,
        IdentifierScheme.PID,
        IdentifierScheme.PASSPORT,
    }
)

_LABELS_VI: dict[IdentifierScheme, str] = {
    IdentifierScheme.CCCD: "CCCD",
    IdentifierScheme.CMND: "CMND",
    IdentifierScheme.PID: "số định danh",
    IdentifierScheme.PASSPORT: "hộ chiếu",
    IdentifierScheme.MST: "MST",
    IdentifierScheme.MNS: "mã QHNS",
    IdentifierScheme.BHXH: "mã BHXH",
}
_LABELS_EN: dict[IdentifierScheme, str] = {
    IdentifierScheme.CCCD: "citizen ID",
    IdentifierScheme.CMND: "ID card",
    IdentifierScheme.PID: "personal ID",
    IdentifierScheme.PASSPORT: "passport",
    IdentifierScheme.MST: "tax code",
    IdentifierScheme.MNS: "budget unit code",
    IdentifierScheme.BHXH: "social insurance code",
}


@dataclass(frozen=True)
class Identifier:
    """One identifier found in a certificate subject.

    ``scheme`` is an :class:`IdentifierScheme` (a ``str``: ``"mst"``, ``"cccd"``, ...,
    ``"unknown"``); ``value`` the normalised value (for ``unknown``, the NFC text);
    ``raw`` the attribute text exactly as decoded; ``source`` the attribute it came from
    (``"uid"``, ``"serial_number"``, ``"organization_identifier"``, ``"common_name"``);
    ``well_formed`` whether the value has the expected shape for its scheme.
    """

    scheme: IdentifierScheme
    value: str
    raw: str
    source: str = "uid"
    well_formed: bool = True

    @property
    def is_personal(self) -> bool:
        """Whether this identifier names a natural person (see the kind rules)."""
        if self.scheme in _PERSONAL:
            return True
        if self.scheme is IdentifierScheme.BHXH:
            return self.well_formed
        if self.scheme is IdentifierScheme.MST:
            return len(self.value) == 12 and self.value.isdigit()
        return False

    @property
    def is_organisational(self) -> bool:
        """Whether this identifier names an organisation (an MST of 10 or 10-3 digits, MNS)."""
        if self.scheme is IdentifierScheme.MNS:
            return True
        return self.scheme is IdentifierScheme.MST and not self.is_personal

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, keys in a stable order."""
        return {
            "scheme": str(self.scheme),
            "value": self.value,
            "raw": self.raw,
            "source": self.source,
            "well_formed": self.well_formed,
        }


@dataclass(frozen=True)
class SignerIdentity:
    """The signer named by a certificate (see the module docs for the rules)."""

    kind: SignerKind
    name: str | None
    identifiers: tuple[Identifier, ...]
    organisation: str | None
    organisational_unit: str | None
    title: str | None
    email: str | None
    locality: str | None
    province: str | None
    country: str | None
    issuer_name: str | None
    issuer_organisation: str | None
    profile: Hierarchy | None
    serial_number: str
    not_before: datetime
    not_after: datetime

    @classmethod
    def from_certificate(
        cls,
        cert: x509.Certificate | CryptographyCertificate | bytes,
        *,
        profile: TrustProfile | Hierarchy | None = None,
    ) -> SignerIdentity:
        """Read the identity from a certificate.

        ``cert`` is an ``asn1crypto.x509.Certificate``, a ``cryptography`` certificate or
        DER (or PEM) bytes. ``profile`` is a :class:`~verify.trust.TrustProfile` in which
        to look for the issuing CA (to learn the hierarchy), or the hierarchy itself.

        Raises :class:`~verify.errors.CertificateParseError` if ``cert`` is not a
        certificate; any subject content, however odd, is read without raising.
        """
        certificate = _as_asn1(cert)
        if profile is not None and not isinstance(profile, str):
            return cls._read(certificate, profile)
        # the same certificate is read again and again in bulk (every invoice of a seller):
        # identities read without a TrustProfile are kept, keyed by the certificate's bytes
        try:
            key = (certificate.dump(), profile)
        except Exception:  # noqa: BLE001 - an unencodable certificate is read and refused
            return cls._read(certificate, profile)
        with _KEPT_LOCK:
            kept = _KEPT.get(key)
            if kept is not None:
                _KEPT.move_to_end(key)
                return kept
        identity = cls._read(certificate, profile)
        with _KEPT_LOCK:
            _KEPT[key] = identity
            while len(_KEPT) > _KEPT_SIZE:
                _KEPT.popitem(last=False)
        return identity

    @classmethod
    def _read(
        cls, certificate: x509.Certificate, profile: TrustProfile | Hierarchy | None
    ) -> SignerIdentity:
        try:
            tbs = certificate["tbs_certificate"]
            subject = tbs["subject"]
            issuer = tbs["issuer"]
            serial = int(tbs["serial_number"].native)
            validity = tbs["validity"]
            not_before = _utc(validity["not_before"].native)
            not_after = _utc(validity["not_after"].native)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise CertificateParseError(f"certificate cannot be read: {exc}") from exc

        attrs = _attributes(subject)
        issuer_attrs = _attributes(issuer)
        identifiers = _identifiers(attrs)
        hierarchy = _hierarchy_of(certificate, profile)

        name = _joined(attrs, _OID_CN)
        organisation = _joined(attrs, _OID_O)
        unit = _joined(attrs, _OID_OU)
        title = _joined(attrs, _OID_TITLE)
        email = _joined(attrs, _OID_EMAIL) or _san_email(certificate)
        kind = _kind(identifiers, name, organisation, unit, title, hierarchy)
        return cls(
            kind=kind,
            name=name,
            identifiers=identifiers,
            organisation=organisation,
            organisational_unit=unit,
            title=title,
            email=email,
            locality=_joined(attrs, _OID_L),
            province=_joined(attrs, _OID_ST),
            country=_joined(attrs, _OID_C),
            issuer_name=_joined(issuer_attrs, _OID_CN),
            issuer_organisation=_joined(issuer_attrs, _OID_O),
            profile=hierarchy,
            serial_number=_hex_serial(serial),
            not_before=not_before,
            not_after=not_after,
        )

    # -- convenience -------------------------------------------------------------------

    def identifier(self, scheme: IdentifierScheme | str) -> str | None:
        """The value of the first identifier of ``scheme``, or ``None``."""
        for ident in self.identifiers:
            if ident.scheme == scheme:
                return ident.value
        return None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, keys in a stable order, times in ISO 8601 UTC."""
        return {
            "kind": str(self.kind),
            "name": self.name,
            "identifiers": [i.to_dict() for i in self.identifiers],
            "organisation": self.organisation,
            "organisational_unit": self.organisational_unit,
            "title": self.title,
            "email": self.email,
            "locality": self.locality,
            "province": self.province,
            "country": self.country,
            "issuer_name": self.issuer_name,
            "issuer_organisation": self.issuer_organisation,
            "profile": self.profile,
            "serial_number": self.serial_number,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
        }

    def describe_vi(self) -> str:
        """One line in Vietnamese, e.g. ``CÔNG TY ... (MST 0316950978), cấp bởi MISA-CA``."""
        return self._describe(_LABELS_VI, "cấp bởi", "(không có tên)")

    def describe_en(self) -> str:
        """One line in English, e.g. ``CÔNG TY ... (tax code 0316950978), issued by MISA-CA``."""
        return self._describe(_LABELS_EN, "issued by", "(no name)")

    def _describe(self, labels: dict[IdentifierScheme, str], issued: str, no_name: str) -> str:
        text = self.name or self.organisation or no_name
        ids = [
            f"{labels[i.scheme]} {i.value}"
            for i in self.identifiers
            if i.scheme is not IdentifierScheme.UNKNOWN
        ]
        if ids:
            text += f" ({', '.join(ids)})"
        if self.issuer_name:
            text += f", {issued} {self.issuer_name}"
        return text


# --------------------------------------------------------------------------------------
# Reading certificates


def _as_asn1(cert: Any) -> Any:
    if isinstance(cert, x509.Certificate):
        return cert
    der: bytes
    if isinstance(cert, bytes | bytearray | memoryview):
        der = bytes(cert)
        if pem.detect(der):
            try:
                _type, _headers, der = pem.unarmor(der)
            except ValueError as exc:
                raise CertificateParseError(f"PEM data cannot be read: {exc}") from exc
    else:
        public_bytes = getattr(cert, "public_bytes", None)
        if public_bytes is None:
            raise CertificateParseError(
                f"expected a certificate (asn1crypto, cryptography or DER bytes), "
                f"got {type(cert).__name__}"
            )
        from cryptography.hazmat.primitives.serialization import Encoding

        der = public_bytes(Encoding.DER)
    try:
        parsed = x509.Certificate.load(der, strict=True)
        parsed["tbs_certificate"]["subject"].chosen  # noqa: B018 - parse now, fail here
    except (ValueError, TypeError) as exc:
        raise CertificateParseError(f"not a DER X.509 certificate: {exc}") from exc
    return parsed


def _utc(value: Any) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"unusable certificate time {value!r}")
    return value.astimezone(UTC)


def _hex_serial(serial: int) -> str:
    sign = "-" if serial < 0 else ""
    digits = f"{abs(serial):X}"
    if len(digits) % 2:
        digits = "0" + digits
    return sign + digits


def _attributes(name: Any) -> list[tuple[str, str]]:
    """(dotted OID, text) for every attribute of a Name, in order; never raises."""
    out: list[tuple[str, str]] = []
    try:
        rdns = name.chosen
    except (ValueError, TypeError, AttributeError):
        return out
    for rdn in rdns:
        for atv in rdn:
            try:
                oid = atv["type"].dotted
            except (ValueError, TypeError, KeyError):
                continue
            out.append((oid, _text(atv["value"])))
    return out


def _text(value: Any) -> str:
    """The text of an attribute value, whatever its string type; never raises."""
    try:
        native = value.native
    except _PARSE_ERRORS:  # a malformed string must not stop identity reading
        native = None
    if isinstance(native, str):
        return native
    contents = b""
    try:
        chosen = getattr(value, "chosen", value)
        contents = chosen.contents or b""
    except _PARSE_ERRORS:  # an unreadable string type: fall back to its bytes
        contents = b""
    if native is not None and not isinstance(native, bytes):
        return str(native)
    return contents.decode("utf-8", errors="replace")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _values(attrs: Iterable[tuple[str, str]], oid: str) -> Iterator[str]:
    for attr_oid, text in attrs:
        if attr_oid == oid:
            cleaned = _nfc(text)
            if cleaned:
                yield cleaned


def _joined(attrs: list[tuple[str, str]], oid: str) -> str | None:
    values = list(dict.fromkeys(_values(attrs, oid)))
    return ", ".join(values) if values else None


def _san_email(cert: Any) -> str | None:
    try:
        san = cert.subject_alt_name_value
        if san is None:
            return None
        for general_name in san:
            if general_name.name == "rfc822_name":
                return _nfc(str(general_name.native)) or None
    except _PARSE_ERRORS:  # an odd extension must not stop identity reading
        return None
    return None


# --------------------------------------------------------------------------------------
# Identifiers


def _identifiers(attrs: list[tuple[str, str]]) -> tuple[Identifier, ...]:
    found: list[Identifier] = []
    for oid, text in attrs:
        if oid == _OID_UID:
            found.append(_parse_identifier(text, "uid"))
    for oid, text in attrs:
        if oid == _OID_SERIAL_NUMBER:
            found.append(_parse_identifier(text, "serial_number"))
    for oid, text in attrs:
        if oid == _OID_ORG_IDENTIFIER:
            found.append(_parse_identifier(text, "organization_identifier"))
    for oid, text in attrs:
        if oid == _OID_CN:
            found.extend(_identifiers_in_name(text))
    # Drop exact repeats, and identifiers seen again outside a UID (the same MST in the
    # CN, say); two UIDs with different texts are both kept, so no raw text is lost.
    kept: list[Identifier] = []
    seen_exact: set[tuple[str, str, str]] = set()
    seen_value: set[tuple[str, str]] = set()
    for ident in found:
        exact = (str(ident.scheme), ident.value, ident.raw)
        value = (str(ident.scheme), ident.value)
        if exact in seen_exact or (ident.source != "uid" and value in seen_value):
            continue
        seen_exact.add(exact)
        seen_value.add(value)
        kept.append(ident)
    return tuple(kept)


def _parse_identifier(raw: str, source: str) -> Identifier:
    text = _nfc(raw)
    match = _SCHEME_TEXT.match(text)
    if match and match.group(1).upper() in _PREFIXES:
        scheme = _PREFIXES[match.group(1).upper()]
        return _normalised(scheme, match.group(2), raw, source)
    etsi = _ETSI_TEXT.match(text.upper())
    if etsi and etsi.group(1) in _ETSI_PREFIXES:
        scheme = _ETSI_PREFIXES[etsi.group(1)]
        value = re.sub(r"\s+", "", etsi.group(2))
        if scheme is IdentifierScheme.CCCD and len(value) == 9 and value.isdigit():
            scheme = IdentifierScheme.CMND
        return _normalised(scheme, value, raw, source)
    return Identifier(IdentifierScheme.UNKNOWN, text, raw, source, well_formed=False)


def _identifiers_in_name(raw: str) -> Iterator[Identifier]:
    for match in _IN_NAME.finditer(_nfc(raw)):
        scheme = _PREFIXES[match.group(1).upper()]
        yield _normalised(scheme, match.group(2), raw, "common_name")


def _normalised(scheme: IdentifierScheme, value: str, raw: str, source: str) -> Identifier:
    compact = re.sub(r"\s+", "", value).upper()
    well_formed = _well_formed(scheme, compact)
    if scheme is IdentifierScheme.MST and len(compact) == 13 and compact.isdigit():
        compact = f"{compact[:10]}-{compact[10:]}"
    return Identifier(scheme, compact, raw, source, well_formed)


def _well_formed(scheme: IdentifierScheme, value: str) -> bool:
    digits = _DIGITS.fullmatch(value) is not None
    if scheme is IdentifierScheme.CCCD or scheme is IdentifierScheme.PID:
        return digits and len(value) == 12
    if scheme is IdentifierScheme.CMND:
        return digits and len(value) in (9, 12)
    if scheme is IdentifierScheme.PASSPORT:
        return _PASSPORT.fullmatch(value) is not None
    if scheme is IdentifierScheme.MST:
        if digits:
            return len(value) in (10, 12, 13)
        return re.fullmatch(r"\d{10}-\d{3}", value) is not None
    if scheme is IdentifierScheme.MNS:
        return digits and len(value) == 7
    if scheme is IdentifierScheme.BHXH:
        return digits and len(value) == 10
    return False


# --------------------------------------------------------------------------------------
# Kind and hierarchy


def _kind(
    identifiers: tuple[Identifier, ...],
    name: str | None,
    organisation: str | None,
    unit: str | None,
    title: str | None,
    hierarchy: Hierarchy | None,
) -> SignerKind:
    if any(i.is_personal for i in identifiers):
        return SignerKind.OFFICIAL if hierarchy == "specialized" else SignerKind.INDIVIDUAL
    if any(i.is_organisational for i in identifiers):
        return SignerKind.ORGANISATION
    if title:
        if organisation and hierarchy == "specialized":
            return SignerKind.OFFICIAL
        return SignerKind.INDIVIDUAL
    if name and name.casefold() in {(organisation or "").casefold(), (unit or "").casefold()}:
        return SignerKind.ORGANISATION
    return SignerKind.UNKNOWN


def _hierarchy_of(cert: Any, profile: TrustProfile | Hierarchy | None) -> Hierarchy | None:
    if profile is None:
        return None
    if isinstance(profile, str):
        if profile == "public":
            return "public"
        if profile == "specialized":
            return "specialized"
        raise ValueError(
            f"profile must be 'public', 'specialized' or a TrustProfile, got {profile!r}"
        )
    own = profile.profile_of(cert)
    if own is not None:
        return own
    issuer = _issuer_in(cert, profile)
    return profile.profile_of(issuer) if issuer is not None else None


def _issuer_in(cert: Any, profile: TrustProfile) -> Any | None:
    """The certificate in ``profile`` whose key signed ``cert`` (never matched by name)."""
    from cryptography import x509 as cx509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

    try:
        child = cx509.load_der_x509_certificate(cert.dump())
        aki = cert.authority_key_identifier
    except _PARSE_ERRORS:  # unreadable by cryptography: no hierarchy
        return None
    candidates = [c for c in profile.certificates if aki is None or c.key_identifier in (None, aki)]
    for candidate in candidates:
        try:
            child.verify_directly_issued_by(cx509.load_der_x509_certificate(candidate.dump()))
        except (*_PARSE_ERRORS, InvalidSignature, UnsupportedAlgorithm):  # not this key: next one
            continue
        return candidate
    return None
