"""Trust profiles: which roots a verifier trusts, and which certificates help build paths.

Vietnam has two signature hierarchies that do not cross-certify:

- ``public``: the national roots run by NEAC and the licensed public CAs under them;
- ``specialized``: the Government Cipher Committee's (Ban Cơ yếu Chính phủ) G1 and G2
  roots, their sub-CAs and timestamp servers.

Both are bundled in ``verify/data/trust`` with a catalogue (``catalog.json``) that says, for
each file, whether it is a ``root`` (an anchor: trusted on its own), a ``ca`` or a ``tsa``
(an intermediate: only used to build paths, never trusted by itself). A bundled file whose
SHA-256 does not match the catalogue is refused.

A :class:`TrustProfile` is a frozen value: its name, its anchors, its intermediates, and an
index from certificate fingerprint (SHA-256 of the DER) to hierarchy, so a caller can ask
which hierarchy a certificate belongs to without ever comparing names. Names are not
identities: several Vietnamese CAs reused a subject name with a new key (SmartSign,
SAFE-CA, CA2), so paths are built by key identifier and signature (pyhanko-certvalidator
does that) and hierarchy membership is decided by fingerprint.

Feed a profile to pyhanko-certvalidator with :meth:`TrustProfile.certvalidator_kwargs` or
:meth:`TrustProfile.validation_context`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, TypeAlias

from asn1crypto import cms, pem, x509
from pyhanko_certvalidator import ValidationContext

from verify.errors import TrustStoreError, UnknownTrustProfileError

__all__ = [
    "CERTIFICATE_SUFFIXES",
    "TRUST_DATA_MAX_AGE_DAYS",
    "CatalogEntry",
    "Hierarchy",
    "TrustDataVersion",
    "TrustProfile",
    "bundled_catalog",
    "bundled_trust_version",
    "fingerprint",
    "load_certificates",
    "trust_data_age_warning",
]

Hierarchy: TypeAlias = Literal["public", "specialized"]
"""One of Vietnam's two signature hierarchies."""

CertSource: TypeAlias = "x509.Certificate | str | os.PathLike[str]"

CERTIFICATE_SUFFIXES: frozenset[str] = frozenset({".pem", ".crt", ".cer", ".der", ".p7b", ".p7c"})
"""File suffixes :func:`load_certificates` takes when it walks a folder (case-insensitive)."""

_DATA_DIR = Path(__file__).resolve().parent / "data" / "trust"
_HIERARCHIES: tuple[Hierarchy, ...] = ("public", "specialized")
_PROFILE_NAMES: tuple[str, ...] = ("public", "specialized", "any")
_PEM_CERT_TYPES = frozenset({"CERTIFICATE", "X509 CERTIFICATE"})
_PEM_PKCS7_TYPES = frozenset({"PKCS7", "CMS"})
_MAX_TRUST_FILE = 16 * 1024 * 1024


def fingerprint(cert: x509.Certificate) -> str:
    """Return the SHA-256 of the certificate's DER encoding, lowercase hex."""
    return hashlib.sha256(cert.dump()).hexdigest()


# --------------------------------------------------------------------------------------
# Loading certificates from files


def load_certificates(path: str | os.PathLike[str]) -> tuple[x509.Certificate, ...]:
    """Load every certificate from a file or a folder.

    Accepts a PEM file with one or many certificates, a DER certificate, a PKCS#7
    certificate bundle (``.p7b``/``.p7c``, DER or PEM), or a folder, which is walked and
    whose files ending in :data:`CERTIFICATE_SUFFIXES` are read (others are ignored).
    Certificates are deduplicated by the SHA-256 of their DER, first occurrence kept,
    folders read in sorted order so the result is deterministic.

    Raises :class:`~verify.errors.TrustStoreError` naming the file for anything unreadable:
    a missing path, an empty file, a file that holds no certificate, a folder with no
    certificate file.
    """
    root = Path(path)
    if root.is_dir():
        files = list(_walk_certificate_files(root))
        if not files:
            raise TrustStoreError(f"{root}: folder holds no certificate files", path=root)
        certs: list[x509.Certificate] = []
        for file in files:
            certs.extend(_load_file(file))
        return _dedupe(certs)
    if not root.exists():
        raise TrustStoreError(f"{root}: no such file or folder", path=root)
    return _dedupe(_load_file(root))


def _walk_certificate_files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in sorted(filenames):
            if Path(filename).suffix.lower() in CERTIFICATE_SUFFIXES:
                yield Path(dirpath) / filename


def _load_file(file: Path) -> list[x509.Certificate]:
    try:
        size = file.stat().st_size
        if size > _MAX_TRUST_FILE:
            raise TrustStoreError(
                f"{file}: {size} bytes is too large for a certificate file", path=file
            )
        data = file.read_bytes()
    except OSError as exc:
        raise TrustStoreError(f"{file}: cannot read: {exc.strerror or exc}", path=file) from exc
    if not data.strip():
        raise TrustStoreError(f"{file}: empty file", path=file)
    try:
        certs = _parse_bytes(data)
    except TrustStoreError:
        raise
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, OverflowError...
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TrustStoreError(
            f"{file}: not a certificate or PKCS#7 bundle: {reason}", path=file
        ) from exc
    if not certs:
        raise TrustStoreError(f"{file}: holds no certificate", path=file)
    return certs


def _parse_bytes(data: bytes) -> list[x509.Certificate]:
    if pem.detect(data):
        certs: list[x509.Certificate] = []
        for type_name, _headers, der in pem.unarmor(data, multiple=True):
            if type_name in _PEM_CERT_TYPES:
                certs.append(_checked_certificate(der))
            elif type_name in _PEM_PKCS7_TYPES:
                certs.extend(_certificates_from_pkcs7(der))
            # other blocks (keys, CRLs, parameters) are not trust material: skipped
        return certs
    # DER: a certificate or a PKCS#7 ContentInfo. Both are SEQUENCEs; tell them apart
    # by the first element (a ContentInfo starts with an OBJECT IDENTIFIER).
    try:
        content_info = cms.ContentInfo.load(data, strict=True)
        content_type = content_info["content_type"].native
    except (ValueError, TypeError):
        content_type = None
    if content_type is not None:
        return _certificates_from_content_info(content_info)
    return [_checked_certificate(data)]


def _certificates_from_pkcs7(der: bytes) -> list[x509.Certificate]:
    return _certificates_from_content_info(cms.ContentInfo.load(der, strict=True))


def _certificates_from_content_info(content_info: cms.ContentInfo) -> list[x509.Certificate]:
    if content_info["content_type"].native != "signed_data":
        raise ValueError(
            f"PKCS#7 content type {content_info['content_type'].native!r} is not signed_data"
        )
    certs: list[x509.Certificate] = []
    for choice in content_info["content"]["certificates"] or ():
        if choice.name == "certificate":
            certs.append(_checked_certificate(choice.chosen.dump()))
    return certs


def _checked_certificate(der: bytes) -> x509.Certificate:
    """Parse a certificate eagerly, so a damaged one fails here and not during validation."""
    cert = x509.Certificate.load(der, strict=True)
    cert.native  # noqa: B018 - forces asn1crypto's lazy parser over every field
    cert.public_key.native  # noqa: B018
    return cert


def _dedupe(certs: Iterable[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    seen: set[str] = set()
    out: list[x509.Certificate] = []
    for cert in certs:
        fp = fingerprint(cert)
        if fp not in seen:
            seen.add(fp)
            out.append(cert)
    return tuple(out)


def _certificates_from_sources(
    sources: CertSource | Iterable[CertSource],
) -> list[x509.Certificate]:
    if isinstance(sources, x509.Certificate | str | os.PathLike):
        items: Iterable[CertSource] = (sources,)
    else:
        items = sources
    certs: list[x509.Certificate] = []
    for item in items:
        if isinstance(item, x509.Certificate):
            certs.append(item)
        elif isinstance(item, str | os.PathLike):
            certs.extend(load_certificates(item))
        else:
            raise TypeError(
                f"expected an asn1crypto certificate or a path, got {type(item).__name__}"
            )
    return certs


# --------------------------------------------------------------------------------------
# The bundled catalogue


@dataclass(frozen=True)
class CatalogEntry:
    """One bundled certificate, as described by ``verify/data/trust/catalog.json``."""

    file: str
    hierarchy: Hierarchy
    kind: Literal["root", "ca", "tsa"]
    subject: str
    issuer: str
    not_before: str
    not_after: str
    key: str
    sha256: str
    source: str

    @property
    def is_anchor(self) -> bool:
        """Whether the certificate is trusted on its own (a root)."""
        return self.kind == "root"


@functools.cache
def bundled_catalog() -> tuple[CatalogEntry, ...]:
    """Return the catalogue of bundled certificates, in file order."""
    catalog_path = _DATA_DIR / "catalog.json"
    try:
        raw = json.loads(catalog_path.read_text(encoding="utf-8"))
        entries = tuple(
            CatalogEntry(
                file=item["file"],
                hierarchy=_hierarchy(item["hierarchy"]),
                kind=_kind(item["kind"]),
                subject=item["subject"],
                issuer=item["issuer"],
                not_before=item["not_before"],
                not_after=item["not_after"],
                key=item["key"],
                sha256=item["sha256"].lower(),
                source=item["source"],
            )
            for item in raw["certificates"]
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TrustStoreError(
            f"{catalog_path}: bundled trust catalogue unreadable: {exc}", path=catalog_path
        ) from exc
    return entries


@dataclass(frozen=True)
class TrustDataVersion:
    """Which bundled trust data a verification used, as a report names it.

    When the catalogue declares a ``version`` and a ``date`` (ISO ``YYYY-MM-DD``), those are
    used (``declared`` is then true). Otherwise both are derived from the catalogue, so that
    the same data always gets the same name: ``date`` is the newest ``not_before`` among its
    certificates (the data cannot be older than that), and ``version`` is that date followed
    by the first 12 hex digits of the catalogue's SHA-256 (which pins every certificate,
    since each file is checked against its fingerprint in the catalogue).
    """

    version: str
    date: date
    sha256: str
    """SHA-256 of ``catalog.json`` as bundled, lowercase hex."""
    certificates: int
    declared: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "date": self.date.isoformat(),
            "sha256": self.sha256,
            "certificates": self.certificates,
            "declared": self.declared,
        }


@functools.cache
def bundled_trust_version() -> TrustDataVersion:
    """The version and date of the bundled trust data (see :class:`TrustDataVersion`)."""
    catalog_path = _DATA_DIR / "catalog.json"
    try:
        raw_bytes = catalog_path.read_bytes()
        raw = json.loads(raw_bytes)
        entries = bundled_catalog()
        newest = max(date.fromisoformat(e.not_before[:10]) for e in entries)
        digest = hashlib.sha256(raw_bytes).hexdigest()
        declared_version, declared_date = raw.get("version"), raw.get("date")
        if isinstance(declared_version, str) and isinstance(declared_date, str):
            return TrustDataVersion(
                version=declared_version,
                date=date.fromisoformat(declared_date),
                sha256=digest,
                certificates=len(entries),
                declared=True,
            )
    except (OSError, ValueError, TypeError) as exc:
        raise TrustStoreError(
            f"{catalog_path}: bundled trust catalogue unreadable: {exc}", path=catalog_path
        ) from exc
    return TrustDataVersion(
        version=f"{newest:%Y.%m.%d}+{digest[:12]}",
        date=newest,
        sha256=digest,
        certificates=len(entries),
        declared=False,
    )


TRUST_DATA_MAX_AGE_DAYS = 365
"""Bundled trust data older than this, at the validation time, gets a warning."""


def trust_data_age_warning(
    moment: datetime, data: TrustDataVersion | None = None
) -> tuple[str, str] | None:
    """A warning (Vietnamese, English) when the bundled trust data is stale at ``moment``.

    ``moment`` is the validation time, or the time of the run (timezone-aware). The data
    (:func:`bundled_trust_version` unless ``data`` is given) is stale when its date is more
    than :data:`TRUST_DATA_MAX_AGE_DAYS` days before ``moment``: CAs licensed, renewed or
    withdrawn since are then missing from it. ``None`` when it is not stale.
    """
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    data = data or bundled_trust_version()
    age = (moment.astimezone(UTC).date() - data.date).days
    if age <= TRUST_DATA_MAX_AGE_DAYS:
        return None
    dated = data.date.isoformat()
    return (
        f"dữ liệu tin cậy đóng gói (phiên bản {data.version}, ngày {dated}) đã cũ {age} ngày "
        "so với thời điểm kiểm tra; hãy cập nhật hoso, hoặc thêm chứng thư CA mới bằng "
        "'verify trust add' / 'verify trust import'",
        f"the bundled trust data (version {data.version}, dated {dated}) is {age} days older "
        "than the validation time; update hoso, or add newer CA certificates with "
        "'verify trust add' / 'verify trust import'",
    )


def _hierarchy(value: object) -> Hierarchy:
    if value == "public":
        return "public"
    if value == "specialized":
        return "specialized"
    raise ValueError(f"unknown hierarchy {value!r}")


def _kind(value: object) -> Literal["root", "ca", "tsa"]:
    if value == "root":
        return "root"
    if value == "ca":
        return "ca"
    if value == "tsa":
        return "tsa"
    raise ValueError(f"unknown certificate kind {value!r}")


@functools.cache
def _bundled(hierarchy: Hierarchy) -> TrustProfile:
    anchors: list[x509.Certificate] = []
    intermediates: list[x509.Certificate] = []
    for entry in bundled_catalog():
        if entry.hierarchy != hierarchy:
            continue
        file = _DATA_DIR / entry.file
        certs = _load_file(file)
        if len(certs) != 1:
            raise TrustStoreError(f"{file}: expected one certificate, found {len(certs)}")
        cert = certs[0]
        actual = fingerprint(cert)
        if actual != entry.sha256:
            raise TrustStoreError(
                f"{file}: SHA-256 {actual} does not match the catalogue ({entry.sha256})",
                path=file,
            )
        (anchors if entry.is_anchor else intermediates).append(cert)
    return TrustProfile._build(
        name=hierarchy,
        anchors=anchors,
        intermediates=intermediates,
        hierarchies={fingerprint(c): hierarchy for c in (*anchors, *intermediates)},
    )


# --------------------------------------------------------------------------------------
# Trust profiles


@dataclass(frozen=True, eq=False)
class TrustProfile:
    """A set of trust anchors plus known certificates for path building.

    ``anchors`` are trusted on their own. ``intermediates`` (sub-CAs, timestamp authority
    certificates) only help build paths to an anchor. ``hierarchies`` maps certificate
    fingerprints (see :func:`fingerprint`) to the hierarchy they belong to; use
    :meth:`profile_of` rather than reading it.

    Build one with :meth:`public`, :meth:`specialized`, :meth:`any`, :meth:`named` or
    :meth:`custom`; add anchors with :meth:`with_extra_anchors`. Two profiles are equal
    when their names, anchors and intermediates are (compared by fingerprint).
    """

    name: str
    anchors: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...]
    hierarchies: Mapping[str, Hierarchy] = field(default_factory=dict, repr=False)

    # -- constructors ------------------------------------------------------------------

    @classmethod
    def public(cls) -> TrustProfile:
        """The public hierarchy: NEAC's national roots; licensed CAs as intermediates."""
        return _bundled("public")

    @classmethod
    def specialized(cls) -> TrustProfile:
        """The specialized hierarchy: Ban Cơ yếu's G1 and G2 roots; sub-CAs and TSAs."""
        return _bundled("specialized")

    @classmethod
    def any(cls) -> TrustProfile:
        """Both hierarchies together (a document may carry signatures from either)."""
        return _any()

    @classmethod
    def named(cls, name: str) -> TrustProfile:
        """Return the bundled profile called ``public``, ``specialized`` or ``any``.

        Raises :class:`~verify.errors.UnknownTrustProfileError` (a ``ValueError``) for any
        other name.
        """
        key = name.strip().lower() if isinstance(name, str) else name
        if key == "public":
            return cls.public()
        if key == "specialized":
            return cls.specialized()
        if key == "any":
            return cls.any()
        raise UnknownTrustProfileError(str(name), _PROFILE_NAMES)

    @classmethod
    def custom(
        cls,
        anchors: CertSource | Iterable[CertSource],
        *,
        name: str = "custom",
        intermediates: CertSource | Iterable[CertSource] = (),
        hierarchy: Hierarchy | None = None,
    ) -> TrustProfile:
        """A profile of your own anchors (certificates, or paths for :func:`load_certificates`).

        ``hierarchy``, when given, records which Vietnamese hierarchy these anchors and
        intermediates stand for (a test PKI standing in for the specialized one, say), so
        :meth:`profile_of` and signer identities can say so; otherwise they belong to none.
        """
        if hierarchy is not None:
            hierarchy = _hierarchy(hierarchy)
        anchor_certs = _certificates_from_sources(anchors)
        other_certs = _certificates_from_sources(intermediates)
        index: dict[str, Hierarchy] = {}
        if hierarchy is not None:
            index = {fingerprint(c): hierarchy for c in (*anchor_certs, *other_certs)}
        return cls._build(
            name=name, anchors=anchor_certs, intermediates=other_certs, hierarchies=index
        )

    def with_extra_anchors(
        self,
        paths_or_certs: CertSource | Iterable[CertSource],
        *,
        hierarchy: Hierarchy | None = None,
    ) -> TrustProfile:
        """Return a copy of this profile that also trusts the given anchors.

        Each item is an asn1crypto certificate or a path given to :func:`load_certificates`.
        A certificate that was an intermediate becomes an anchor. ``hierarchy`` tags the
        new anchors as for :meth:`custom`.
        """
        if hierarchy is not None:
            hierarchy = _hierarchy(hierarchy)
        extra = _certificates_from_sources(paths_or_certs)
        index = dict(self.hierarchies)
        if hierarchy is not None:
            for cert in extra:
                index.setdefault(fingerprint(cert), hierarchy)
        return self._build(
            name=self.name,
            anchors=[*self.anchors, *extra],
            intermediates=self.intermediates,
            hierarchies=index,
        )

    def with_extra_intermediates(
        self,
        certs: Iterable[x509.Certificate],
        *,
        hierarchy: Hierarchy | None = None,
    ) -> TrustProfile:
        """Return a copy of this profile that also uses ``certs`` to build paths.

        They are never trusted on their own (a certificate that is already an anchor stays
        one). ``hierarchy`` tags them as for :meth:`custom`.
        """
        if hierarchy is not None:
            hierarchy = _hierarchy(hierarchy)
        extra = list(certs)
        index = dict(self.hierarchies)
        if hierarchy is not None:
            for cert in extra:
                index.setdefault(fingerprint(cert), hierarchy)
        return self._build(
            name=self.name,
            anchors=self.anchors,
            intermediates=[*self.intermediates, *extra],
            hierarchies=index,
        )

    @classmethod
    def _build(
        cls,
        *,
        name: str,
        anchors: Iterable[x509.Certificate],
        intermediates: Iterable[x509.Certificate],
        hierarchies: Mapping[str, Hierarchy],
    ) -> TrustProfile:
        anchor_tuple = _dedupe(anchors)
        anchor_fps = {fingerprint(c) for c in anchor_tuple}
        inter_tuple = tuple(c for c in _dedupe(intermediates) if fingerprint(c) not in anchor_fps)
        return cls(
            name=name,
            anchors=anchor_tuple,
            intermediates=inter_tuple,
            hierarchies=dict(hierarchies),
        )

    # -- pickling ----------------------------------------------------------------------

    def __reduce__(self) -> tuple[Any, ...]:
        # Certificates travel as DER and are parsed again on arrival. A pickled asn1crypto
        # object skips its class's one-time set-up, so in a fresh process (a Dask worker,
        # a spawned pool worker) its extensions could not be read until some other object
        # of the same classes had been made: "argument of type 'NoneType' is not iterable".
        return (
            _unpickle_profile,
            (
                self.name,
                tuple(c.dump() for c in self.anchors),
                tuple(c.dump() for c in self.intermediates),
                dict(self.hierarchies),
            ),
        )

    # -- queries -----------------------------------------------------------------------

    def profile_of(self, cert: x509.Certificate | bytes) -> Hierarchy | None:
        """Which hierarchy a certificate of this profile belongs to, matched by fingerprint.

        Works for anchors and intermediates; ``None`` for a certificate this profile does
        not hold (or holds without a known hierarchy, as custom anchors do by default).
        Never matches by name.
        """
        der = cert if isinstance(cert, bytes) else cert.dump()
        return self.hierarchies.get(hashlib.sha256(der).hexdigest())

    def is_anchor(self, cert: x509.Certificate) -> bool:
        """Whether ``cert`` (compared by fingerprint) is one of this profile's anchors."""
        fp = fingerprint(cert)
        return any(fingerprint(a) == fp for a in self.anchors)

    @property
    def certificates(self) -> tuple[x509.Certificate, ...]:
        """Anchors then intermediates."""
        return (*self.anchors, *self.intermediates)

    def certvalidator_kwargs(self) -> dict[str, list[x509.Certificate]]:
        """Keyword arguments for ``pyhanko_certvalidator.ValidationContext``.

        ``trust_roots`` holds the anchors, ``other_certs`` the intermediates. Lists are
        fresh on every call.
        """
        return {"trust_roots": list(self.anchors), "other_certs": list(self.intermediates)}

    def validation_context(self, **kwargs: Any) -> ValidationContext:
        """Build a ``pyhanko_certvalidator.ValidationContext`` for this profile.

        ``kwargs`` go to ``ValidationContext`` (``moment``, ``revocation_mode``,
        ``algorithm_usage_policy``, ...); ``allow_fetching`` defaults to ``False`` so
        nothing touches the network unless the caller asks. ``other_certs`` given by the
        caller are added to this profile's intermediates.
        """
        kwargs.setdefault("allow_fetching", False)
        extra_other = list(kwargs.pop("other_certs", None) or ())
        return ValidationContext(
            trust_roots=list(self.anchors),
            other_certs=[*self.intermediates, *extra_other],
            **kwargs,
        )

    # -- value semantics ---------------------------------------------------------------

    def _key(self) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        return (
            self.name,
            tuple(sorted(fingerprint(c) for c in self.anchors)),
            tuple(sorted(fingerprint(c) for c in self.intermediates)),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TrustProfile):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"TrustProfile(name={self.name!r}, anchors={len(self.anchors)}, "
            f"intermediates={len(self.intermediates)})"
        )


@functools.cache
def _any() -> TrustProfile:
    parts = [_bundled(h) for h in _HIERARCHIES]
    index: dict[str, Hierarchy] = {}
    for part in parts:
        index.update(part.hierarchies)
    return TrustProfile._build(
        name="any",
        anchors=[c for p in parts for c in p.anchors],
        intermediates=[c for p in parts for c in p.intermediates],
        hierarchies=index,
    )


def _unpickle_profile(
    name: str,
    anchors: tuple[bytes, ...],
    intermediates: tuple[bytes, ...],
    hierarchies: dict[str, Hierarchy],
) -> TrustProfile:
    return TrustProfile(
        name=name,
        anchors=tuple(x509.Certificate.load(der) for der in anchors),
        intermediates=tuple(x509.Certificate.load(der) for der in intermediates),
        hierarchies=hierarchies,
    )
