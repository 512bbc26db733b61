"""Evidence: what a verdict rested on, kept so an auditor can replay it offline.

For each document, :class:`Evidence` holds the certificates of the paths that were
validated, the OCSP responses and CRLs used, and the JSON report. ``Evidence.write``
stores them under ``DIR/<sha256 of the document>/``::

    report.json        the DocumentReport, as ``verify --json`` prints it
    certs/<sha256>.der every certificate on the validated paths (signers, CAs, TSAs)
    ocsp/<sha256>.der  OCSP responses
    crl/<sha256>.der   CRLs

A detached signature is keyed by its content, which several signatures may share; given
the signature's SHA-256, ``Evidence.write`` stores the same files under
``DIR/<sha256 of the content>/signatures/<sha256 of the signature>/``, so that each
signature over that content keeps its own report and evidence.

``Evidence.read(DIR, sha256)`` loads them back (the document's folder and every
signature's folder under it); a :class:`~verify.Verifier` made with
``evidence_in=DIR`` adds them to its validation for that document, so that
``verify --offline --evidence-in DIR`` reaches the same verdict without the network.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509

if TYPE_CHECKING:
    from pyhanko_certvalidator import ValidationContext

    from verify.report import DocumentReport

__all__ = ["Evidence"]


def _sha(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


@dataclass
class Evidence:
    """Certificates and revocation information one document's verdict rested on."""

    certificates: list[x509.Certificate] = field(default_factory=list)
    ocsps: list[asn1_ocsp.OCSPResponse] = field(default_factory=list)
    crls: list[asn1_crl.CertificateList] = field(default_factory=list)

    def add(
        self,
        *,
        certificates: Iterable[x509.Certificate] = (),
        ocsps: Iterable[asn1_ocsp.OCSPResponse] = (),
        crls: Iterable[asn1_crl.CertificateList] = (),
    ) -> None:
        def merge(target: list[Any], items: Iterable[Any]) -> None:
            seen = {_sha(x.dump()) for x in target}
            for item in items:
                digest = _sha(item.dump())
                if digest not in seen:
                    seen.add(digest)
                    target.append(item)

        merge(self.certificates, certificates)
        merge(self.ocsps, ocsps)
        merge(self.crls, crls)

    def write(
        self,
        folder: Path,
        document_sha256: str,
        report_json: str,
        *,
        signature_sha256: str | None = None,
    ) -> Path:
        """Store under ``folder/<document_sha256>/`` (a detached signature, given its
        ``signature_sha256``: under ``folder/<document_sha256>/signatures/<signature_sha256>/``);
        return that directory."""
        out = folder / document_sha256
        if signature_sha256 is not None:
            out = out / "signatures" / signature_sha256
        for sub, items in (("certs", self.certificates), ("ocsp", self.ocsps), ("crl", self.crls)):
            (out / sub).mkdir(parents=True, exist_ok=True)
            for item in items:
                der = item.dump()
                (out / sub / f"{_sha(der)}.der").write_bytes(der)
        (out / "report.json").write_text(report_json, encoding="utf-8")
        return out

    @classmethod
    def read(cls, folder: Path, document_sha256: str) -> Evidence | None:
        """Load what :meth:`write` stored for that document (its own folder and each
        signature's folder under it, together), or ``None``."""
        base = folder / document_sha256
        if not base.is_dir():
            return None
        ev = cls()
        signatures = base / "signatures"
        places = [base]
        if signatures.is_dir():
            places += sorted(p for p in signatures.iterdir() if p.is_dir())
        for place in places:
            ev.add(
                certificates=_load(place / "certs", x509.Certificate),
                ocsps=_load(place / "ocsp", asn1_ocsp.OCSPResponse),
                crls=_load(place / "crl", asn1_crl.CertificateList),
            )
        return ev

    @staticmethod
    def report_of(
        folder: Path, document_sha256: str, signature_sha256: str | None = None
    ) -> dict[str, Any] | None:
        """The stored report of a document (of one detached signature over it, given
        ``signature_sha256``), or ``None``."""
        base = folder / document_sha256
        if signature_sha256 is not None:
            base = base / "signatures" / signature_sha256
        try:
            data: dict[str, Any] = json.loads((base / "report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data


def _load(where: Path, loader: Any) -> list[Any]:
    """The DER files of one evidence folder, parsed; a damaged one is skipped."""
    items = []
    for file in sorted(where.glob("*.der")) if where.is_dir() else []:
        try:
            item = loader.load(file.read_bytes())
            _ = item.native  # parse now: a damaged file is skipped, not fatal later
            items.append(item)
        except Exception:  # noqa: BLE001, S112 - damaged evidence is ignored
            continue
    return items


# -- what one validation used ------------------------------------------------------------------

COLLECTING: contextvars.ContextVar[list[ValidationContext] | None] = contextvars.ContextVar(
    "hoso_collecting", default=None
)
"""While set, every ValidationContext the verifier makes is appended to this list (see
:func:`collecting`)."""


@contextlib.contextmanager
def collecting() -> Iterator[list[ValidationContext]]:
    """Collect the validation contexts made while the block runs (one document's)."""
    contexts: list[ValidationContext] = []
    token = COLLECTING.set(contexts)
    try:
        yield contexts
    finally:
        COLLECTING.reset(token)


def harvest(report: DocumentReport, contexts: list[ValidationContext]) -> Evidence:
    """The certificates, OCSP responses and CRLs about the paths in ``report``."""
    wanted = {c.sha256 for sig in report.signatures for c in sig.chain}
    certs: dict[str, x509.Certificate] = {}
    for vc in contexts:
        for cert in vc.certificate_registry:
            digest = _sha(cert.dump())
            if digest in wanted:
                certs[digest] = cert
    subjects = {c.subject.dump() for c in certs.values()}
    name_hashes = {hashlib.sha1(s).digest() for s in subjects}  # noqa: S324 - OCSP CertID
    evidence = Evidence(certificates=list(certs.values()))
    for vc in contexts:
        try:
            ocsps = [
                r
                for r in vc.ocsps
                if any(
                    resp["cert_id"]["issuer_name_hash"].native in name_hashes
                    for resp in r.basic_ocsp_response["tbs_response_data"]["responses"]
                )
            ]
            crls = [c for c in vc.crls if c.issuer.dump() in subjects]
        except Exception:  # noqa: BLE001, S112 - a damaged response is simply not kept
            continue
        evidence.add(ocsps=ocsps, crls=crls)
    return evidence
