"""The local trust store: certificates an organisation trusts beside the bundled ones.

The bundled trust data (:mod:`verify.trust`) ships with hoso and changes only with a new
release. A CA licensed, renewed or re-keyed in between is added here, in a folder of the
user's own (``verify trust add`` / ``verify trust import``), and every ``verify`` run uses
it too (:meth:`TrustStore.extend`).

The folder holds::

    store.json     the catalogue: for each certificate its hierarchy, kind, subject,
                   validity, SHA-256 and when it was added
    certs/         one PEM file per certificate, named by its SHA-256
    audit.jsonl    one JSON line per change: time (UTC), action, fingerprint, subject,
                   who (the login name) and the hoso version
    .lock          held while a change is made, so two processes never lose one's change

A certificate file whose SHA-256 does not match the catalogue is refused, as a bundled
one is. Changes are written to a temporary file and moved into place, so a reader never
sees half a catalogue.

Kinds are the bundled catalogue's: a ``root`` is an anchor (trusted on its own); a ``ca``
or ``tsa`` certificate only helps build paths to an anchor and adds no trust by itself.
:meth:`TrustStore.import_certificates` takes only CA certificates whose signature chains
to an anchor already trusted, of the hierarchy named; :meth:`TrustStore.add` is the
deliberate act of trusting a certificate and checks only that it can be what it is added
as (a root or sub-CA must be a CA certificate, a TSA certificate must be for
timestamping).

Errors carry their message in Vietnamese and English: :class:`StoreInputError` for what
cannot be used (a file that is no certificate, an unknown fingerprint),
:class:`StoreRefusedError` for a change the store refuses, :class:`StoreWriteError` when
the folder cannot be written.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeAlias

from asn1crypto import pem, x509
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature

from verify.errors import TrustStoreError
from verify.trust import (
    Hierarchy,
    TrustProfile,
    bundled_catalog,
    fingerprint,
    load_certificates,
)

__all__ = [
    "STORE_ENV",
    "AuditRecord",
    "ImportOutcome",
    "Kind",
    "Refusal",
    "StoreInputError",
    "StoreRefusedError",
    "StoreWriteError",
    "TrustEntry",
    "TrustStore",
    "bundled_entries",
    "default_store_dir",
    "find_entry",
    "hoso_version",
    "iter_entries",
]

Kind: TypeAlias = Literal["root", "ca", "tsa"]
"""What a certificate is in a trust store: an anchor, a sub-CA, or a timestamp authority."""

Source: TypeAlias = Literal["bundled", "local"]

STORE_ENV = "HOSO_TRUST_STORE"
"""The environment variable naming the local trust store's folder."""

_FORMAT = 1
_CATALOG = "store.json"
_CERTS = "certs"
_AUDIT = "audit.jsonl"
_LOCK = ".lock"
_TIME_STAMPING = "time_stamping"


# --------------------------------------------------------------------------------------
# Errors


class StoreInputError(TrustStoreError):
    """Something given to the store cannot be used: a file that holds no certificate, a
    fingerprint that names nothing, a damaged store. ``message_vi`` / ``message_en``."""

    def __init__(self, message_vi: str, message_en: str, *, path: Path | None = None) -> None:
        super().__init__(message_en, path=path)
        self.message_vi = message_vi
        self.message_en = message_en


class StoreRefusedError(StoreInputError):
    """The store refuses the change (a bundled certificate cannot be removed, a certificate
    that is not a CA cannot be added as one...)."""


class StoreWriteError(StoreInputError):
    """The store's folder cannot be created or written."""


# --------------------------------------------------------------------------------------
# Entries


@dataclass(frozen=True)
class TrustEntry:
    """One trusted certificate, bundled or in the local store."""

    source: Source
    hierarchy: Hierarchy
    kind: Kind
    subject_cn: str
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    sha256: str
    certificate: x509.Certificate
    added: datetime | None = None
    """When it was added to the local store (``None`` for bundled entries)."""

    def expired(self, at: datetime) -> bool:
        """Whether the certificate's validity ended before ``at``."""
        return self.not_after < at

    def to_dict(self, at: datetime) -> dict[str, Any]:
        """A JSON-ready view; ``expired`` as of ``at``."""
        return {
            "source": self.source,
            "hierarchy": self.hierarchy,
            "kind": self.kind,
            "subject_cn": self.subject_cn,
            "subject": self.subject,
            "issuer": self.issuer,
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "expired": self.expired(at),
            "sha256": self.sha256,
            "added": _iso(self.added) if self.added else None,
        }


def _entry(
    cert: x509.Certificate,
    *,
    source: Source,
    hierarchy: Hierarchy,
    kind: Kind,
    added: datetime | None = None,
) -> TrustEntry:
    validity = cert["tbs_certificate"]["validity"]
    return TrustEntry(
        source=source,
        hierarchy=hierarchy,
        kind=kind,
        subject_cn=_common_name(cert),
        subject=_dn(cert.subject),
        issuer=_dn(cert.issuer),
        not_before=validity["not_before"].native,
        not_after=validity["not_after"].native,
        sha256=fingerprint(cert),
        certificate=cert,
        added=added,
    )


_SHORT_NAMES = {
    "country_name": "C",
    "state_or_province_name": "ST",
    "locality_name": "L",
    "organization_name": "O",
    "organizational_unit_name": "OU",
    "common_name": "CN",
    "email_address": "E",
    "serial_number": "SERIALNUMBER",
    "user_id": "UID",
}


def _dn(name: x509.Name) -> str:
    """A name as the bundled catalogue writes it: ``C=VN, O=..., CN=...`` in DER order."""
    parts: list[str] = []
    for rdn in name.chosen:
        for attribute in rdn:
            kind = attribute["type"].native
            value = attribute["value"].native
            parts.append(f"{_SHORT_NAMES.get(kind, kind)}={value}")
    return ", ".join(parts) or "(empty)"


def _common_name(cert: x509.Certificate) -> str:
    native = cert.subject.native
    cn = native.get("common_name") if isinstance(native, dict) else None
    if isinstance(cn, list):
        cn = ", ".join(str(c) for c in cn)
    return str(cn) if cn else _dn(cert.subject)


@functools.cache
def bundled_entries() -> tuple[TrustEntry, ...]:
    """The bundled certificates (checked against their catalogue), in catalogue order."""
    by_fp = {fingerprint(c): c for c in TrustProfile.any().certificates}
    out: list[TrustEntry] = []
    for item in bundled_catalog():
        cert = by_fp.get(item.sha256)
        if cert is None:  # pragma: no cover - TrustProfile.any() checked every file
            raise TrustStoreError(f"bundled certificate {item.file} is missing")
        out.append(_entry(cert, source="bundled", hierarchy=item.hierarchy, kind=item.kind))
    return tuple(out)


def find_entry(entries: Sequence[TrustEntry], key: str) -> TrustEntry:
    """The one entry whose SHA-256 is ``key`` or starts with it (colons and case ignored).

    Raises :class:`StoreInputError` when none or several match, or the key is too short.
    """
    wanted = key.replace(":", "").strip().lower()
    if len(wanted) < 4 or any(c not in "0123456789abcdef" for c in wanted):
        raise StoreInputError(
            f"{key!r} không phải dấu vân tay SHA-256 (ít nhất 4 chữ số hex)",
            f"{key!r} is not a SHA-256 fingerprint (at least 4 hex digits)",
        )
    found = {e.sha256: e for e in entries if e.sha256.startswith(wanted)}
    if not found:
        raise StoreInputError(
            f"không có chứng thư tin cậy nào có dấu vân tay {wanted}",
            f"no trusted certificate has the fingerprint {wanted}",
        )
    if len(found) > 1:
        raise StoreInputError(
            f"{len(found)} chứng thư có dấu vân tay bắt đầu bằng {wanted}; hãy ghi dài hơn",
            f"{len(found)} certificates have a fingerprint starting {wanted}; give more digits",
        )
    # the same certificate bundled and local: the bundled entry speaks for it
    return next(e for e in entries if e.sha256 in found)


# --------------------------------------------------------------------------------------
# Import results and the audit log


@dataclass(frozen=True)
class Refusal:
    """A certificate the store did not take, and why."""

    sha256: str
    subject_cn: str
    reason_vi: str
    reason_en: str
    already_trusted: bool = False
    """True when it was not added only because it is already trusted (not a refusal of
    the certificate itself)."""


@dataclass(frozen=True)
class ImportOutcome:
    """What :meth:`TrustStore.import_certificates` added and what it did not."""

    added: tuple[TrustEntry, ...]
    refused: tuple[Refusal, ...]

    @property
    def any_refused(self) -> bool:
        """Whether a certificate was refused for itself (already trusted ones aside)."""
        return any(not r.already_trusted for r in self.refused)


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit log."""

    time: datetime
    action: str
    sha256: str
    subject: str
    who: str
    hoso_version: str
    hierarchy: str | None = None
    kind: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": _iso(self.time),
            "action": self.action,
            "fingerprint": self.sha256,
            "subject": self.subject,
            "hierarchy": self.hierarchy,
            "kind": self.kind,
            "who": self.who,
            "hoso_version": self.hoso_version,
        }


def hoso_version() -> str:
    """The installed hoso's version, or ``unknown`` from a source tree."""
    try:
        from importlib.metadata import version

        return version("hoso")
    except Exception:  # noqa: BLE001 - running from a source tree without metadata
        return "unknown"


def _who() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container without one): say so
        return "unknown"


# --------------------------------------------------------------------------------------
# The store


def default_store_dir() -> Path:
    """``$HOSO_TRUST_STORE``, else the platform's user data folder + ``hoso/trust``.

    That is ``$XDG_DATA_HOME/hoso/trust`` (default ``~/.local/share/hoso/trust``),
    ``%APPDATA%\\hoso\\trust`` on Windows, ``~/Library/Application Support/hoso/trust``
    on macOS.
    """
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
        return Path(base) / "hoso" / "trust"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "hoso" / "trust"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hoso" / "trust"


class TrustStore:
    """The local trust store in folder ``path`` (created on the first change)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"TrustStore({str(self.path)!r})"

    # -- reading -----------------------------------------------------------------------

    def exists(self) -> bool:
        """Whether the store has a catalogue (it has had at least one change)."""
        return (self.path / _CATALOG).is_file()

    def entries(self) -> tuple[TrustEntry, ...]:
        """The local certificates, in the order they were added; none when there is no store.

        Raises :class:`StoreInputError` for a damaged store (an unreadable catalogue, a
        missing certificate file, one whose SHA-256 does not match).
        """
        catalog = self.path / _CATALOG
        if not catalog.is_file():
            if self.path.exists() and not self.path.is_dir():
                raise StoreInputError(
                    f"kho tin cậy {self.path}: không phải thư mục",
                    f"trust store {self.path}: not a folder",
                    path=self.path,
                )
            return ()
        try:
            raw = json.loads(catalog.read_text(encoding="utf-8"))
            items = raw["certificates"]
            out = [self._read_item(item) for item in items]
        except StoreInputError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise _damaged(catalog, exc) from exc
        return tuple(out)

    def _read_item(self, item: dict[str, Any]) -> TrustEntry:
        sha256 = str(item["sha256"]).lower()
        file = self.path / _CERTS / f"{sha256}.pem"
        try:
            certs = load_certificates(file)
        except TrustStoreError as exc:
            raise _damaged(file, exc) from exc
        if len(certs) != 1 or fingerprint(certs[0]) != sha256:
            raise StoreInputError(
                f"kho tin cậy: tệp {file} không khớp SHA-256 trong {_CATALOG}",
                f"trust store: {file} does not match its SHA-256 in {_CATALOG}",
                path=file,
            )
        return _entry(
            certs[0],
            source="local",
            hierarchy=_hierarchy(item["hierarchy"]),
            kind=_kind(item["kind"]),
            added=datetime.fromisoformat(item["added"]) if item.get("added") else None,
        )

    def audit(self) -> tuple[AuditRecord, ...]:
        """The audit log, oldest first (a line that cannot be read is skipped)."""
        log = self.path / _AUDIT
        if not log.is_file():
            return ()
        out: list[AuditRecord] = []
        try:
            lines = log.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise _damaged(log, exc) from exc
        for line in lines:
            try:
                data = json.loads(line)
                out.append(
                    AuditRecord(
                        time=datetime.fromisoformat(data["time"]),
                        action=str(data["action"]),
                        sha256=str(data["fingerprint"]),
                        subject=str(data["subject"]),
                        who=str(data["who"]),
                        hoso_version=str(data["hoso_version"]),
                        hierarchy=data.get("hierarchy"),
                        kind=data.get("kind"),
                    )
                )
            except (ValueError, KeyError, TypeError):
                continue
        return tuple(out)

    def last_change(self) -> datetime | None:
        """The time of the last change the audit log records (or the newest addition)."""
        records = self.audit()
        if records:
            return max(r.time for r in records)
        added = [e.added for e in self.entries() if e.added is not None]
        return max(added) if added else None

    def extend(self, profile: TrustProfile, *, hierarchy: Hierarchy | None = None) -> TrustProfile:
        """``profile`` plus this store's certificates: roots as anchors, the others for
        building paths, each tagged with its hierarchy. With ``hierarchy``, only that
        hierarchy's certificates are added (``--profile public`` takes no specialized
        root from the store)."""
        for entry in self.entries():
            if hierarchy is not None and entry.hierarchy != hierarchy:
                continue
            if entry.kind == "root":
                profile = profile.with_extra_anchors(entry.certificate, hierarchy=entry.hierarchy)
            else:
                profile = profile.with_extra_intermediates(
                    [entry.certificate], hierarchy=entry.hierarchy
                )
        return profile

    # -- changing ----------------------------------------------------------------------

    def add(
        self,
        cert: x509.Certificate,
        *,
        hierarchy: Hierarchy,
        kind: Kind | None = None,
        now: datetime,
    ) -> TrustEntry | Refusal:
        """Trust ``cert``: return its new entry, or a :class:`Refusal` with
        ``already_trusted`` when it is already bundled or local (nothing changes).

        ``kind`` defaults to ``root`` for a self-signed certificate, ``ca`` otherwise.
        Raises :class:`StoreRefusedError` when the certificate cannot be what it is added
        as, :class:`StoreWriteError` when the store cannot be written.
        """
        _aware(now)
        hierarchy = _hierarchy(hierarchy)
        with self._lock():
            return self._add(cert, hierarchy, kind, now)

    def _add(
        self, cert: x509.Certificate, hierarchy: Hierarchy, kind: Kind | None, now: datetime
    ) -> TrustEntry | Refusal:
        chosen: Kind = kind or ("root" if _self_signed(cert) else "ca")
        present = self._present()
        sha256 = fingerprint(cert)
        if sha256 in present:
            return _already(cert, present[sha256])
        reason = _unfit(cert, chosen)
        if reason is not None:
            vi, en = reason
            raise StoreRefusedError(
                f"{_common_name(cert)} ({sha256[:16]}): {vi}",
                f"{_common_name(cert)} ({sha256[:16]}): {en}",
            )
        entry = _entry(cert, source="local", hierarchy=hierarchy, kind=chosen, added=now)
        self._write([*self.entries(), entry], [_record("add", entry, now)])
        return entry

    def remove(self, key: str, *, now: datetime) -> TrustEntry:
        """Remove the local certificate whose fingerprint is (or starts with) ``key``.

        Raises :class:`StoreRefusedError` for a bundled certificate (it cannot be removed)
        and :class:`StoreInputError` for a fingerprint that names nothing trusted.
        """
        _aware(now)
        with self._lock():
            return self._remove(key, now)

    def _remove(self, key: str, now: datetime) -> TrustEntry:
        local = self.entries()
        try:
            entry = find_entry(local, key)
        except StoreInputError:
            entry = find_entry([*bundled_entries(), *local], key)
        if entry.source == "bundled":
            raise StoreRefusedError(
                f"{entry.subject_cn} ({entry.sha256[:16]}) thuộc dữ liệu tin cậy đóng gói, "
                "không thể gỡ khỏi kho cục bộ; để không tin nó, hãy dùng --profile khác",
                f"{entry.subject_cn} ({entry.sha256[:16]}) is bundled trust data and cannot "
                "be removed from the local store; to leave it out, choose another --profile",
            )
        kept = [e for e in local if e.sha256 != entry.sha256]
        self._write(kept, [_record("remove", entry, now)], drop=entry.sha256)
        return entry

    def import_certificates(
        self, certs: Iterable[x509.Certificate], *, hierarchy: Hierarchy, now: datetime
    ) -> ImportOutcome:
        """Add the CA certificates of ``certs`` whose signatures chain to an anchor of
        ``hierarchy`` already trusted (bundled or local); intermediates in the batch are
        walked, in any order. Each signature is verified. Everything else is refused with
        its reason; certificates already trusted are reported as such and not added again.
        ``added`` lists issuers before the certificates they issued; ``refused`` follows
        the batch's order.
        """
        _aware(now)
        hierarchy = _hierarchy(hierarchy)
        batch = _unique(certs)
        with self._lock():
            return self._import(batch, hierarchy, now)

    def _import(
        self, batch: list[x509.Certificate], hierarchy: Hierarchy, now: datetime
    ) -> ImportOutcome:
        present = self._present()
        known = [*bundled_entries(), *self.entries()]
        refused: list[Refusal] = []
        candidates: list[x509.Certificate] = []
        for cert in batch:
            sha256 = fingerprint(cert)
            if sha256 in present:
                refused.append(_already(cert, present[sha256]))
            elif not cert.ca:
                refused.append(
                    _refusal(
                        cert,
                        "không phải chứng thư CA (basicConstraints không có cA=TRUE)",
                        "not a CA certificate (basicConstraints does not say cA=TRUE)",
                    )
                )
            elif _self_signed(cert):
                refused.append(
                    _refusal(
                        cert,
                        "chứng thư gốc tự ký không nối về gốc tin cậy nào; muốn tin nó thì "
                        "thêm bằng 'verify trust add'",
                        "a self-signed root chains to no trusted anchor; to trust it, add it "
                        "with 'verify trust add'",
                    )
                )
            else:
                candidates.append(cert)

        # Trusted issuers: the anchors of this hierarchy, then every known or candidate
        # CA certificate whose signature one of them verifies, until nothing more joins.
        anchors = [e for e in known if e.kind == "root" and e.hierarchy == hierarchy]
        chained: dict[str, cx509.Certificate] = {e.sha256: _crypto(e.certificate) for e in anchors}
        pool: dict[str, x509.Certificate] = {
            e.sha256: e.certificate
            for e in known
            if e.kind == "ca" and e.hierarchy == hierarchy and e.sha256 not in chained
        }
        pool.update({fingerprint(c): c for c in candidates})
        grew = True
        while grew:
            grew = False
            for sha256, cert in list(pool.items()):
                issuer = _issued_by(_crypto(cert), chained.values())
                if issuer is not None:
                    chained[sha256] = _crypto(cert)
                    del pool[sha256]
                    grew = True

        added: list[TrustEntry] = []
        rank = {sha256: i for i, sha256 in enumerate(chained)}  # issuers before subjects
        candidates.sort(key=lambda c: rank.get(fingerprint(c), len(rank)))
        for cert in candidates:
            sha256 = fingerprint(cert)
            if sha256 in chained:
                added.append(
                    _entry(cert, source="local", hierarchy=hierarchy, kind="ca", added=now)
                )
            else:
                refused.append(_unchained(cert, hierarchy))
        if added:
            self._write([*self.entries(), *added], [_record("import", e, now) for e in added])
        order = {fingerprint(c): i for i, c in enumerate(batch)}
        refused.sort(key=lambda r: order[r.sha256])
        return ImportOutcome(added=tuple(added), refused=tuple(refused))

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Hold the store's lock file: one change at a time, across processes (POSIX)."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            handle = (self.path / _LOCK).open("a")
        except OSError as exc:
            raise _unwritable(self.path, exc) from exc
        with handle:
            if sys.platform != "win32":
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield

    def _present(self) -> dict[str, TrustEntry]:
        found = {e.sha256: e for e in self.entries()}
        found.update({e.sha256: e for e in bundled_entries()})  # bundled speaks first
        return found

    def _write(
        self, entries: Sequence[TrustEntry], records: Sequence[AuditRecord], *, drop: str = ""
    ) -> None:
        try:
            (self.path / _CERTS).mkdir(parents=True, exist_ok=True)
            for entry in entries:
                file = self.path / _CERTS / f"{entry.sha256}.pem"
                if not file.exists():
                    _atomic_write(file, pem.armor("CERTIFICATE", entry.certificate.dump()))
            catalog = {
                "format": _FORMAT,
                "fingerprint": "SHA-256 of the DER encoding, lowercase hex",
                "certificates": [
                    {
                        "file": f"{_CERTS}/{e.sha256}.pem",
                        "hierarchy": e.hierarchy,
                        "kind": e.kind,
                        "subject": e.subject,
                        "issuer": e.issuer,
                        "not_before": _iso(e.not_before),
                        "not_after": _iso(e.not_after),
                        "sha256": e.sha256,
                        "added": _iso(e.added) if e.added else None,
                    }
                    for e in entries
                ],
            }
            text = json.dumps(catalog, ensure_ascii=False, indent=2) + "\n"
            _atomic_write(self.path / _CATALOG, text.encode("utf-8"))
            with (self.path / _AUDIT).open("a", encoding="utf-8") as log:
                for record in records:
                    log.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
            if drop:
                with contextlib.suppress(FileNotFoundError):
                    (self.path / _CERTS / f"{drop}.pem").unlink()
        except OSError as exc:
            raise _unwritable(self.path, exc) from exc


# --------------------------------------------------------------------------------------
# Helpers


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")


def _hierarchy(value: object) -> Hierarchy:
    if value == "public":
        return "public"
    if value == "specialized":
        return "specialized"
    raise StoreInputError(
        f"hệ thống {value!r} không có; chọn public hoặc specialized",
        f"unknown hierarchy {value!r}; choose public or specialized",
    )


def _kind(value: object) -> Kind:
    if value == "root":
        return "root"
    if value == "ca":
        return "ca"
    if value == "tsa":
        return "tsa"
    raise ValueError(f"unknown certificate kind {value!r}")


def _damaged(path: Path, exc: BaseException) -> StoreInputError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return StoreInputError(
        f"kho tin cậy hỏng: {path}: {reason}",
        f"damaged trust store: {path}: {reason}",
        path=path,
    )


def _unwritable(path: Path, exc: OSError) -> StoreWriteError:
    return StoreWriteError(
        f"không ghi được kho tin cậy {path}: {exc.strerror or exc}",
        f"cannot write the trust store {path}: {exc.strerror or exc}",
        path=path,
    )


def _atomic_write(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _record(action: str, entry: TrustEntry, now: datetime) -> AuditRecord:
    return AuditRecord(
        time=now.astimezone(UTC),
        action=action,
        sha256=entry.sha256,
        subject=entry.subject,
        who=_who(),
        hoso_version=hoso_version(),
        hierarchy=entry.hierarchy,
        kind=entry.kind,
    )


def _unique(certs: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    seen: dict[str, x509.Certificate] = {}
    for cert in certs:
        seen.setdefault(fingerprint(cert), cert)
    return list(seen.values())


def _crypto(cert: x509.Certificate) -> cx509.Certificate:
    return cx509.load_der_x509_certificate(cert.dump())


def _issued_by(
    cert: cx509.Certificate, issuers: Iterable[cx509.Certificate]
) -> cx509.Certificate | None:
    """The first of ``issuers`` whose name and key verify ``cert``'s signature."""
    for issuer in issuers:
        try:
            cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return issuer
    return None


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.subject != cert.issuer:
        return False
    crypto = _crypto(cert)
    return _issued_by(crypto, [crypto]) is not None


def _unfit(cert: x509.Certificate, kind: Kind) -> tuple[str, str] | None:
    """Why ``cert`` cannot be added as ``kind`` (vi, en), or ``None``."""
    if kind in ("root", "ca"):
        constraints = cert.basic_constraints_value
        version = cert["tbs_certificate"]["version"].native
        if constraints is not None and not constraints["ca"].native:
            return (
                "không phải chứng thư CA (basicConstraints cA=FALSE)",
                "not a CA certificate (basicConstraints cA=FALSE)",
            )
        if constraints is None and version == "v3":
            return (
                "không phải chứng thư CA (không có basicConstraints)",
                "not a CA certificate (no basicConstraints)",
            )
        if constraints is None and kind == "ca":
            return (
                "chứng thư X.509 v1 chỉ dùng được làm gốc (--kind root)",
                "an X.509 v1 certificate can only be a root (--kind root)",
            )
        return None
    purposes = cert.extended_key_usage_value
    if purposes is None or _TIME_STAMPING not in purposes.native:
        return (
            "không phải chứng thư dịch vụ cấp dấu thời gian (extendedKeyUsage thiếu timeStamping)",
            "not a timestamping certificate (extendedKeyUsage lacks timeStamping)",
        )
    return None


def _refusal(cert: x509.Certificate, vi: str, en: str) -> Refusal:
    return Refusal(fingerprint(cert), _common_name(cert), vi, en)


def _already(cert: x509.Certificate, entry: TrustEntry) -> Refusal:
    where_vi = "dữ liệu đóng gói" if entry.source == "bundled" else "kho cục bộ"
    where_en = "the bundled data" if entry.source == "bundled" else "the local store"
    return Refusal(
        fingerprint(cert),
        _common_name(cert),
        f"đã được tin cậy ({where_vi}, {entry.hierarchy}, {entry.kind})",
        f"already trusted ({where_en}, {entry.hierarchy}, {entry.kind})",
        already_trusted=True,
    )


def _unchained(cert: x509.Certificate, hierarchy: Hierarchy) -> Refusal:
    return _refusal(
        cert,
        f"chữ ký không nối về gốc tin cậy nào của hệ thống {hierarchy} (kể cả qua các CA "
        "trung gian trong lô)",
        f"its signature does not chain to a trusted anchor of the {hierarchy} hierarchy "
        "(nor through the intermediates in the batch)",
    )


def iter_entries(store: TrustStore) -> Iterator[TrustEntry]:
    """Bundled entries, then the local store's."""
    yield from bundled_entries()
    yield from store.entries()
