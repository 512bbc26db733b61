"""The :class:`Verifier`: trust profile + policy + caches, used for many documents.

It builds on pyHanko's validation (integrity, CMS, difference analysis, DocMDP/FieldMDP) and
pyhanko-certvalidator (path building by key identifiers and signatures, revocation), and
adds what an auditor needs on top: Vietnamese trust profiles, validation of the signer at
the time a timestamp proves, algorithm rules with dates, ETSI-style indications with a
reason in Vietnamese and English, and a report for every input, hostile or not.

Validation never raises on bad input: every failure becomes a report.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import io
import os
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from asn1crypto import cms, x509
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESSubIndic
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.general import extract_certificate_info
from pyhanko.sign.validation import (
    async_validate_detached_cms,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.generic_cms import validate_cert_usage
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import (
    PdfSignatureStatus,
    StandardCMSSignatureStatus,
    TimestampSignatureStatus,
)
from pyhanko.sign.validation.utils import CMSAlgorithmUsagePolicy
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathValidationError
from pyhanko_certvalidator.policy_decl import DisallowWeakAlgorithmsPolicy
from pyhanko_certvalidator.validate import async_validate_path

from verify import cms_forms, fastpath, process
from verify.cache import CachingFetcherBackend, RevocationCache
from verify.evidence import COLLECTING, Evidence, collecting, harvest
from verify.identity import SignerIdentity
from verify.policy import RevocationMode, ValidationPolicy
from verify.report import (
    CertificateInfo,
    DocumentReport,
    Indication,
    RevocationReport,
    SignatureReport,
    SubIndication,
    TimestampReport,
    sentences,
)
from verify.trust import Hierarchy, TrustProfile, fingerprint
from verify.visual import field_changes, oversized_update, visual_check
from verify.xmldsig import (
    XmlSignatureCheck,
    XmlSignatureError,
    inspect_xml,
    looks_like_xml,
)

__all__ = ["CertificateCheck", "Source", "Verifier"]

Source = str | os.PathLike[str] | bytes

_SIGNER_CHECKS_KEPT = 1024
"""XML signers' certificate checks a verifier keeps (see ``Verifier._signer_check``)."""

# Sub-indications certvalidator gives for a certificate outside its validity (it folds
# expiry into the general failure); the process names the real cause.
_TIME_FOLDED = frozenset(
    {
        SubIndication.EXPIRED,
        SubIndication.OUT_OF_BOUNDS_NO_POE,
        SubIndication.NOT_YET_VALID,
        SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
        SubIndication.GENERIC,
    }
)

_FAILED_SUBS = {
    SubIndication.FORMAT_FAILURE,
    SubIndication.HASH_FAILURE,
    SubIndication.SIG_CRYPTO_FAILURE,
    SubIndication.REVOKED,
    SubIndication.EXPIRED,
    SubIndication.NOT_YET_VALID,
}

# What pyHanko/certvalidator say, in our vocabulary.
_ADES_MAP: dict[str, SubIndication] = {s.name: s for s in SubIndication}

_STARTXREF = re.compile(rb"startxref\s+(\d+)")

_SUPPORTED_SUBFILTERS = frozenset(
    {"/adbe.pkcs7.detached", "/adbe.pkcs7.sha1", "/ETSI.CAdES.detached", "/ETSI.RFC3161"}
)

# The signer's certificate must allow signing: either usage is enough. Used where a
# certificate is checked before signing (esign); when a signature is validated, the policy's
# constraints judge key usage (verify.process), so pyHanko is asked for none.
_KEY_USAGE = KeyUsageConstraints(
    key_usage=frozenset({"digital_signature", "non_repudiation"}),
    match_all_key_usages=False,
)
_ANY_USAGE = KeyUsageConstraints()

# Let certvalidator accept SHA-1 and RSA >= 1024 at the primitive level: our own dated
# algorithm rules (verify.policy.AlgorithmRules) decide, with the proven signing time.
_PERMISSIVE_ALGOS = DisallowWeakAlgorithmsPolicy(  # type: ignore[no-untyped-call]
    weak_hash_algos=frozenset({"md2", "md5"}),
    rsa_key_size_threshold=1024,
)
_CMS_ALGOS = CMSAlgorithmUsagePolicy.lift_policy(_PERMISSIVE_ALGOS)


# Per-document evidence: the validation contexts made while verifying one document (to
# harvest what was used) and the evidence supplied for replaying it offline.
_SUPPLIED: contextvars.ContextVar[Evidence | None] = contextvars.ContextVar(
    "hoso_supplied", default=None
)


def _sub(indic: AdESSubIndic | None) -> SubIndication:
    if indic is None:
        return SubIndication.GENERIC
    name = getattr(indic, "name", str(indic))
    return _ADES_MAP.get(name, SubIndication.GENERIC)


def _indication_for(sub: SubIndication | None) -> Indication:
    if sub is None:
        return Indication.TOTAL_PASSED
    return Indication.TOTAL_FAILED if sub in _FAILED_SUBS else Indication.INDETERMINATE


def _cert_info(cert: x509.Certificate) -> CertificateInfo:
    return CertificateInfo(
        subject=cert.subject.human_friendly,
        issuer=cert.issuer.human_friendly,
        serial_number=format(cert.serial_number, "X"),
        sha256=fingerprint(cert),
        not_before=cert.not_valid_before,
        not_after=cert.not_valid_after,
    )


def _key_bits(cert: x509.Certificate) -> tuple[str, int]:
    pk = cert.public_key
    algo = pk.algorithm
    try:
        bits = int(pk.bit_size)
    except Exception:  # noqa: BLE001 - an odd key is judged as 0 bits, i.e. refused
        bits = 0
    return algo, bits


@dataclass
class _Verdict:
    sub: SubIndication | None
    reason_vi: str = ""
    reason_en: str = ""

    @property
    def indication(self) -> Indication:
        return _indication_for(self.sub)


class Verifier:
    """Verifies PDF and detached signatures under one trust profile and policy.

    Make it once and use it for many documents: fetched OCSP responses, CRLs and CA
    certificates are cached across documents (the fetchers respect nextUpdate), and the
    bundled trust store is parsed once per process.
    """

    def __init__(
        self,
        trust: TrustProfile | str = "any",
        policy: ValidationPolicy | None = None,
        *,
        evidence_in: str | os.PathLike[str] | None = None,
        cache: RevocationCache | None = None,
    ) -> None:
        self.trust = TrustProfile.named(trust) if isinstance(trust, str) else trust
        self.policy = policy or ValidationPolicy()
        self.evidence_in = Path(evidence_in) if evidence_in is not None else None
        self.cache = cache if cache is not None else RevocationCache()
        self._fetcher_backend = CachingFetcherBackend(
            self.cache, per_request_timeout=self.policy.fetch_timeout
        )
        self._embedded_only: Verifier | None = None  # see _embedded_fallback
        self._signer_checks: OrderedDict[tuple[Any, ...], CertificateCheck] = OrderedDict()

    def _forked(self) -> None:
        """In a process forked from the one that made this verifier: keep the templates and
        cached answers, but open connections of its own."""
        self._fetcher_backend = CachingFetcherBackend(
            self.cache, per_request_timeout=self.policy.fetch_timeout
        )
        if self._embedded_only is not None:
            self._embedded_only._forked()

    def __getstate__(self) -> dict[str, Any]:
        # Fetchers hold sockets and caches: a copy in another process starts cold.
        return {
            "trust": self.trust,
            "policy": self.policy,
            "evidence_in": self.evidence_in,
            "cache": self.cache if self.cache.path is not None else None,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["trust"],
            state["policy"],
            evidence_in=state.get("evidence_in"),
            cache=state.get("cache"),
        )

    # -- validation contexts ------------------------------------------------------------

    def _context(
        self,
        moment: datetime,
        *,
        other_certs: Iterable[x509.Certificate] = (),
        crls: Iterable[Any] = (),
        ocsps: Iterable[Any] = (),
        retroactive: bool = False,
    ) -> ValidationContext:
        kwargs = self.trust.certvalidator_kwargs()
        mode = {
            RevocationMode.HARD: "require",
            RevocationMode.SOFT: "soft-fail",
            RevocationMode.OFF: "soft-fail",
        }[self.policy.revocation]
        fetch = self.policy.network and self.policy.revocation is not RevocationMode.OFF
        supplied = _SUPPLIED.get()
        if supplied is not None:
            other_certs = [*other_certs, *supplied.certificates]
            crls = [*crls, *supplied.crls]
            ocsps = [*ocsps, *supplied.ocsps]
        vc = ValidationContext(
            trust_roots=kwargs["trust_roots"],
            other_certs=[*kwargs["other_certs"], *other_certs],
            moment=moment,
            allow_fetching=fetch,
            fetchers=self._fetcher_backend.get_fetchers(moment) if fetch else None,
            crls=list(crls),
            ocsps=list(ocsps),
            revocation_mode=mode,
            retroactive_revinfo=retroactive,
            algorithm_usage_policy=_PERMISSIVE_ALGOS,
        )
        gathered = COLLECTING.get()
        if gathered is not None:
            gathered.append(vc)
        return vc

    def _full_pdf(
        self, path: str | None, data: bytes, moment: datetime
    ) -> Callable[[], Awaitable[DocumentReport]]:
        """Full validation of a PDF, for the fast path to run when no template answers."""
        return lambda: self._verify_pdf_bytes(path, data, moment)

    def validation_context(
        self,
        moment: datetime | None = None,
        *,
        other_certs: Iterable[x509.Certificate] = (),
        crls: Iterable[Any] = (),
        ocsps: Iterable[Any] = (),
    ) -> ValidationContext:
        """The ``ValidationContext`` this verifier validates with: its trust profile, its
        policy's revocation mode and network use, and its revocation cache. The one place
        contexts are made; ``esign`` uses it too (for B-LT/B-LTA validation data), so
        signing and verifying share fetched answers."""
        return self._context(
            moment or self.policy.moment(), other_certs=other_certs, crls=crls, ocsps=ocsps
        )

    # -- public API --------------------------------------------------------------------

    def verify(self, source: Source, *, detached: Source | None = None) -> DocumentReport:
        """Verify a PDF, or content with its detached CMS signature. Never raises."""
        return asyncio.run(self.averify(source, detached=detached))

    def verify_pdf(self, source: Source) -> DocumentReport:
        return asyncio.run(self.averify_pdf(source))

    def verify_detached(self, content: Source, signature: Source) -> DocumentReport:
        return asyncio.run(self.averify_detached(content, signature))

    async def averify(self, source: Source, *, detached: Source | None = None) -> DocumentReport:
        """Verify any supported document: PDF, XML (XMLDSig), or content + detached CMS."""
        if detached is not None:
            return await self.averify_detached(source, detached)
        started = time.perf_counter()
        moment = self.policy.moment()
        path, data, early = self._read(source, moment)
        if early is not None:
            return early
        assert data is not None
        try:
            with self._supplying(data):
                if looks_like_xml(data):
                    report = await self._verify_xml_bytes(path, data, moment)
                elif _looks_like_signed_data(data):
                    report = await self._verify_enveloped_bytes(path, data, moment)
                else:
                    report = await fastpath.pdf(
                        self, path, data, moment, self._full_pdf(path, data, moment)
                    )
                    report = await self._embedded_fallback(path, data, moment, report)
        except Exception as exc:  # noqa: BLE001 - hostile input must end in a verdict
            report = self._document(path, data, "unknown", moment, (), _format_failure_doc(exc), ())
        return _with_elapsed(report, started)

    async def _embedded_fallback(
        self, path: str | None, data: bytes, moment: datetime, report: DocumentReport
    ) -> DocumentReport:
        """Online, revocation could not be settled: try what the document itself embeds.

        pyhanko-certvalidator, allowed to fetch, may give up on a chain when the OCSP/CRL
        services cannot be reached even though the document's DSS holds revocation data
        that covers the signing time (an archived PAdES B-LT dossier whose CA has moved).
        Then the same document is checked again with the network off; if that passes, its
        verdict stands, with a warning on every signature that the embedded data was used.
        Only an INDETERMINATE / TRY_LATER verdict is ever reconsidered.
        """
        if not (
            self.policy.network
            and report.indication is Indication.INDETERMINATE
            and report.sub_indication is SubIndication.TRY_LATER
        ):
            return report
        if self._embedded_only is None:
            self._embedded_only = Verifier(
                self.trust, self.policy.replace(network=False), cache=self.cache
            )
        retry = await fastpath.pdf(
            self._embedded_only,
            path,
            data,
            moment,
            self._embedded_only._full_pdf(path, data, moment),
        )
        if retry.indication is not Indication.TOTAL_PASSED:
            return report
        note = (
            "revocation sources could not be reached online; the revocation data embedded "
            "in the document (LTV) covers the signing time and was used"
        )
        sigs = tuple(replace(s, warnings=(*s.warnings, note)) for s in retry.signatures)
        return _replace_doc(retry, signatures=sigs)

    async def averify_with_evidence(
        self, source: Source, *, detached: Source | None = None
    ) -> tuple[DocumentReport, Evidence]:
        """Verify, and return what the verdict rested on (see :mod:`verify.evidence`)."""
        with collecting() as contexts:
            report = await self.averify(source, detached=detached)
        return report, harvest(report, contexts)

    def verify_with_evidence(
        self, source: Source, *, detached: Source | None = None
    ) -> tuple[DocumentReport, Evidence]:
        return asyncio.run(self.averify_with_evidence(source, detached=detached))

    def verify_xml(self, source: Source) -> DocumentReport:
        return asyncio.run(self.averify(source))

    async def averify_pdf(self, source: Source) -> DocumentReport:
        started = time.perf_counter()
        moment = self.policy.moment()
        path, data, early = self._read(source, moment)
        if early is not None:
            return early
        assert data is not None
        try:
            with self._supplying(data):
                report = await fastpath.pdf(
                    self, path, data, moment, self._full_pdf(path, data, moment)
                )
        except Exception as exc:  # noqa: BLE001 - hostile input must end in a verdict
            report = self._document(path, data, "pdf", moment, (), _format_failure_doc(exc), ())
        return _with_elapsed(report, started)

    async def averify_detached(self, content: Source, signature: Source) -> DocumentReport:
        started = time.perf_counter()
        moment = self.policy.moment()
        path, data, early = self._read(content, moment)
        if early is not None:
            return early
        assert data is not None
        _sig_path, sig_data, sig_early = self._read(signature, moment)
        if sig_early is not None:
            return _replace_doc(sig_early, path=path, format="cms")
        assert sig_data is not None
        try:
            with self._supplying(data):
                report = await fastpath.detached(
                    self,
                    path,
                    data,
                    sig_data,
                    moment,
                    lambda: self._verify_detached_bytes(path, data, sig_data, moment),
                )
        except Exception as exc:  # noqa: BLE001 - hostile input must end in a verdict
            report = self._document(path, data, "cms", moment, (), _format_failure_doc(exc), ())
        return _with_elapsed(report, started)

    async def acheck_certificate(
        self,
        cert: x509.Certificate,
        intermediates: Sequence[x509.Certificate] = (),
        *,
        at: datetime | None = None,
    ) -> CertificateCheck:
        """Would a signature by ``cert`` made at ``at`` (default: now) verify?

        Checks the path to this verifier's trust profile, validity at that time, key usage
        (digitalSignature or nonRepudiation), revocation per the policy, and the algorithm
        rules. Used by ``esign`` before it produces anything, and by sign-in by certificate.
        """
        moment = at or self.policy.moment()
        vc = self._context(moment, other_certs=intermediates)
        vc.certificate_registry.register_multiple(intermediates)
        try:
            result = await validate_cert_usage(
                cert,
                vc,
                key_usage_settings=_KEY_USAGE,
                paths=vc.path_builder.async_build_paths_lazy(cert),
            )
        except Exception as exc:  # noqa: BLE001 - hostile certificates end in a verdict
            return _certificate_check(
                _Verdict(SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE, _short(exc), _short(exc)),
                cert,
                None,
                None,
            )
        path = result.success_result or result.error_path
        anchor_profile = None
        if path is not None:
            anchor_cert = getattr(path.trust_anchor, "certificate", None)
            if anchor_cert is not None:
                anchor_profile = self.trust.profile_of(anchor_cert)
        verdict: _Verdict
        if result.error_subindic is None:
            verdict = _Verdict(None)
            algo_problems = []
            rules = self.policy.algorithms
            for c in list(path.iter_certs(include_root=False)) if path else [cert]:
                algo, bits = _key_bits(c)
                if rules.key_verdict(algo, bits, moment) or rules.digest_verdict(
                    c.hash_algo, moment
                ):
                    algo_problems.append(f"{algo.upper()} {bits}-bit / {c.hash_algo.upper()}")
            if algo_problems:
                verdict = _Verdict(
                    SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
                    "thuật toán yếu: " + ", ".join(algo_problems),
                    "weak algorithm: " + ", ".join(algo_problems),
                )
        else:
            sub = _sub(result.error_subindic)
            if result.revo_details is not None:
                sub = SubIndication.REVOKED
            elif sub is SubIndication.OUT_OF_BOUNDS_NO_POE:
                sub = (
                    SubIndication.NOT_YET_VALID
                    if moment < cert.not_valid_before
                    else SubIndication.EXPIRED
                )
            verdict = _Verdict(sub)
            if sub in (SubIndication.NO_CERTIFICATE_CHAIN_FOUND, SubIndication.GENERIC):
                vi, en = self._no_chain(cert, intermediates)
                verdict = _Verdict(SubIndication.NO_CERTIFICATE_CHAIN_FOUND, vi, en)
        return _certificate_check(verdict, cert, path, anchor_profile)

    async def _signer_check(
        self,
        cert: x509.Certificate,
        carried: Sequence[x509.Certificate],
        moment: datetime,
    ) -> CertificateCheck:
        """:meth:`acheck_certificate` for an XML signer, answered again from memory for the
        same certificate, the same carried certificates and the same fixed validation time
        (an auditor's run over thousands of invoices by a few sellers). Only a passing
        answer is kept (a failed fetch is asked again), never while the evidence of a
        document is being collected or replayed, and never when the time is "now"."""
        if (
            self.policy.validation_time is None
            or COLLECTING.get() is not None
            or _SUPPLIED.get() is not None
        ):
            return await self.acheck_certificate(cert, carried, at=moment)
        key = (cert.dump(), tuple(c.dump() for c in carried), moment)
        found = self._signer_checks.get(key)
        if found is not None:
            self._signer_checks.move_to_end(key)
            return found
        found = await self.acheck_certificate(cert, carried, at=moment)
        if found.ok:
            self._signer_checks[key] = found
            while len(self._signer_checks) > _SIGNER_CHECKS_KEPT:
                self._signer_checks.popitem(last=False)
        return found

    def _no_chain(
        self, cert: x509.Certificate, carried: Sequence[x509.Certificate]
    ) -> tuple[str, str]:
        return process.no_chain_reason(
            cert,
            carried,
            self.trust.anchors,
            self.trust.intermediates,
            profile=self.trust.name,
            network=self.policy.network,
            fetched=self._fetched_certificates,
        )

    def _fetched_certificates(self, url: str) -> list[x509.Certificate]:
        """The certificates fetched from ``url`` and kept in the cache (AIA caIssuers)."""
        entry = self.cache.get(RevocationCache.key("GET", url), self.policy.moment())
        if entry is None:
            return []
        try:
            return list(_parse_certificates(entry.body))
        except Exception:  # noqa: BLE001 - an unreadable answer fetched nothing usable
            return []

    def check_certificate(
        self,
        cert: x509.Certificate,
        intermediates: Sequence[x509.Certificate] = (),
        *,
        at: datetime | None = None,
    ) -> CertificateCheck:
        return asyncio.run(self.acheck_certificate(cert, intermediates, at=at))

    # -- input -------------------------------------------------------------------------

    def _read(
        self, source: Source, moment: datetime
    ) -> tuple[str | None, bytes | None, DocumentReport | None]:
        limit = self.policy.max_file_size
        if isinstance(source, bytes | bytearray | memoryview):
            data = bytes(source)
            path = None
        else:
            path = os.fspath(source)
            try:
                size = Path(path).stat().st_size
                if size > limit:
                    return path, None, self._oversize(path, size, moment)
                data = _read_file(path, size, limit)
            except OSError as exc:
                v = _Verdict(
                    SubIndication.FORMAT_FAILURE,
                    f"không đọc được tệp ({exc.strerror})",
                    f"the file cannot be read ({exc.strerror})",
                )
                return path, None, self._document(path, b"", "unknown", moment, (), v, ())
        if len(data) > limit:
            return path, None, self._oversize(path, len(data), moment)
        return path, data, None

    @contextlib.contextmanager
    def _supplying(self, data: bytes) -> Iterator[None]:
        """Make the stored evidence for this document available to its validation."""
        if self.evidence_in is None:
            yield
            return
        token = _SUPPLIED.set(Evidence.read(self.evidence_in, hashlib.sha256(data).hexdigest()))
        try:
            yield
        finally:
            _SUPPLIED.reset(token)

    def _oversize(self, path: str | None, size: int, moment: datetime) -> DocumentReport:
        limit = self.policy.max_file_size
        vi, en = sentences(
            SubIndication.SIZE_LIMIT_EXCEEDED,
            f"{size:,} byte, giới hạn {limit:,} byte",
            f"{size:,} bytes, limit {limit:,} bytes",
        )
        return DocumentReport(
            path=path,
            size=size,
            sha256=None,
            format="unknown",
            indication=Indication.INDETERMINATE,
            sub_indication=SubIndication.SIZE_LIMIT_EXCEEDED,
            message_vi=vi,
            message_en=en,
            validation_time=moment,
        )

    def _document(
        self,
        path: str | None,
        data: bytes,
        fmt: str,
        moment: datetime,
        signatures: Sequence[SignatureReport],
        verdict: _Verdict | None,
        warnings: Sequence[str],
        sha256: str | None = None,
    ) -> DocumentReport:
        """The document's report; ``sha256`` is the hex SHA-256 of ``data`` if known."""
        if verdict is None:
            return DocumentReport.from_signatures(
                path, data, fmt, moment, signatures, warnings, sha256
            )
        digest = sha256 or hashlib.sha256(data).hexdigest()
        vi, en = sentences(verdict.sub, verdict.reason_vi, verdict.reason_en)
        return DocumentReport(
            path=path,
            size=len(data),
            sha256=digest if data else None,
            format=fmt,
            indication=verdict.indication,
            sub_indication=verdict.sub,
            message_vi=vi,
            message_en=en,
            signatures=tuple(signatures),
            validation_time=moment,
            warnings=tuple(warnings),
        )

    # -- PDF ---------------------------------------------------------------------------

    async def _verify_pdf_bytes(
        self, path: str | None, data: bytes, moment: datetime
    ) -> DocumentReport:
        if not data.lstrip()[:5].startswith(b"%PDF-") and b"%PDF-" not in data[:1024]:
            v = _Verdict(
                SubIndication.FORMAT_FAILURE,
                "tệp không phải là PDF hay chữ ký CMS",
                "the file is neither a PDF nor a CMS signature",
            )
            return self._document(path, data, "unknown", moment, (), v, ())
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        doc_warnings: list[str] = []
        if reader.encrypted:
            opened, doc_warnings = _opens_without_password(reader)
            if not opened:
                return self._document(
                    path, data, "pdf", moment, (), _Verdict(SubIndication.ENCRYPTED), ()
                )
        # Our own walk over the signature fields: pyHanko skips (with a log line) any
        # signature whose SubFilter it does not know, and a careless verifier would then
        # call the rest "all valid". Every filled signature field gets a report here.
        embedded: list[EmbeddedPdfSignature] = []
        odd: list[SignatureReport] = []
        plain_ecdsa: dict[int, str] = {}  # id(emb) -> the plain-ECDSA algorithm's name
        for count, (fq_name, sig_obj, sig_field) in enumerate(
            enumerate_sig_fields(reader, filled_status=True), start=1
        ):
            if count > self.policy.max_signatures:
                v = _Verdict(
                    SubIndication.FORMAT_FAILURE,
                    f"tài liệu có hơn {self.policy.max_signatures} chữ ký "
                    "(giới hạn của chính sách)",
                    f"the document has more than {self.policy.max_signatures} signatures "
                    "(the policy's limit)",
                )
                return self._document(path, data, "pdf", moment, (), v, ())
            sub_filter: str | None = None
            try:
                sub_filter = str(sig_obj.get_object().get("/SubFilter", "")) or None
                if sub_filter not in _SUPPORTED_SUBFILTERS:
                    odd.append(_unsupported_subfilter(-1, fq_name, sub_filter))
                    continue
                emb = EmbeddedPdfSignature(reader, sig_field, fq_name)
                problem = _byte_range_problem(emb, len(data))
                if problem is not None:
                    raise ValueError(problem)
                _ = emb.signed_revision  # reads /ByteRange: broken ones fail here
                plain = _plain_ecdsa_as_der(emb)
                if plain is not None:
                    plain_ecdsa[id(emb)] = plain
                embedded.append(emb)
            except Exception as exc:  # noqa: BLE001 - a broken signature still gets a report
                odd.append(_broken_signature(-1, fq_name, sub_filter, exc))
        if not embedded and not odd:
            return self._document(
                path, data, "pdf", moment, (), _Verdict(SubIndication.NO_SIGNATURE_FOUND), ()
            )
        embedded.sort(key=lambda e: e.signed_revision)
        warnings: list[str] = doc_warnings

        dss_certs: list[x509.Certificate] = []
        dss_ocsps: list[Any] = []
        dss_crls: list[Any] = []
        try:
            dss = DocumentSecurityStore.read_dss(reader)
            vc_tmp = dss.as_validation_context({"trust_roots": []})
            dss_certs = list(vc_tmp.certificate_registry)
            dss_ocsps = list(vc_tmp.ocsps)
            dss_crls = list(vc_tmp.crls)
        except Exception:  # noqa: BLE001, S110 - no DSS (or an unreadable one) means no LTV data
            pass

        doc_ts, doc_ts_evidence = await self._document_timestamps(
            embedded, moment, dss_certs, dss_crls, dss_ocsps
        )
        reports: list[SignatureReport] = []
        for index, emb in enumerate(embedded):
            pdf_signature = (
                self._pdf_sha1_signature
                if str(emb.sig_object.get("/SubFilter", "")) == "/adbe.pkcs7.sha1"
                else self._pdf_signature
            )
            report = await pdf_signature(
                index,
                emb,
                moment,
                dss_certs,
                dss_ocsps,
                dss_crls,
                embedded,
                doc_ts,
                doc_ts_evidence,
            )
            if id(emb) in plain_ecdsa:
                report = replace(report, signature_algorithm=plain_ecdsa[id(emb)])
            report = self._form_filling_check(report, emb, data)
            hidden = _hidden_update(reader, data, _signed_end(emb))
            if hidden is not None and report.indication is not Indication.TOTAL_FAILED:
                report = _failed_report(
                    report,
                    "sau phần đã ký có nội dung mà bảng tham chiếu chéo không tính đến "
                    f"(một bản cập nhật bị che giấu): {hidden}",
                    "after the signed part there are bytes the cross-reference chain does not "
                    f"account for (a hidden update): {hidden}",
                )
            reports.append(report)
        for extra in odd:
            reports.append(replace(extra, index=len(reports)))
        return self._document(path, data, "pdf", moment, reports, None, warnings)

    async def _judge_embedded(
        self,
        emb: EmbeddedPdfSignature,
        status: StandardCMSSignatureStatus,
        signer_cert: x509.Certificate,
        signer_info: cms.SignerInfo,
        moment: datetime,
        *,
        others: Sequence[x509.Certificate],
        revocation: process.Revocation,
        dss: tuple[Sequence[Any], Sequence[Any]],
        doc_ts_evidence: Sequence[tuple[EmbeddedPdfSignature, process.TimestampEvidence]],
        not_analysed: str | None,
    ) -> tuple[
        process.Judgement,
        tuple[_Verdict, datetime | None, RevocationReport, StandardCMSSignatureStatus],
    ]:
        """A PDF signature's evidence judged by the process, then its path validated at the
        proof of existence the process accepted (the document timestamps after it count)."""
        dss_crls, dss_ocsps = dss
        dss_revocation = process.Revocation(
            tuple((c, "DSS") for c in dss_crls), tuple((o, "DSS") for o in dss_ocsps)
        )
        later_doc_ts = [
            ts
            for other, ts in doc_ts_evidence
            if other.signed_revision > emb.signed_revision and other is not emb
        ]
        evidence = self._evidence(
            "pdf",
            status,
            signer_cert,
            signer_info,
            others=others,
            revocation=revocation + dss_revocation,
            extra_timestamps=later_doc_ts,
        )
        evidence = replace(evidence, changes_not_analysed=not_analysed)
        judgement = process.judge(evidence, self.policy, moment)
        judged = await self._judge(
            status,
            signer_cert,
            moment,
            proven=judgement.proven,
            other_certs=others,
            crls=[*dss_crls, *(c for c, _src in revocation.crls)],
            ocsps=[*dss_ocsps, *(o for o, _src in revocation.ocsps)],
        )
        return judgement, judged

    async def _document_timestamps(
        self,
        embedded: Sequence[EmbeddedPdfSignature],
        moment: datetime,
        dss_certs: list[x509.Certificate],
        dss_crls: list[Any],
        dss_ocsps: list[Any],
    ) -> tuple[dict[int, Any], list[tuple[EmbeddedPdfSignature, process.TimestampEvidence]]]:
        """Every document timestamp validated once: its status (for its own report) and
        what it proves of the revisions before it (proof of existence for the signatures
        they hold)."""
        statuses: dict[int, Any] = {}
        evidence: list[tuple[EmbeddedPdfSignature, process.TimestampEvidence]] = []
        for emb in embedded:
            try:
                if emb.sig_object_type != "/DocTimeStamp":
                    continue
                certs = list(_cms_certs(emb.signed_data))
                vc = self._context(
                    moment, other_certs=[*dss_certs, *certs], crls=dss_crls, ocsps=dss_ocsps
                )
                st = await async_validate_pdf_timestamp(emb, validation_context=vc)
            except Exception:  # noqa: BLE001, S112 - its own report will say what is wrong
                continue
            statuses[id(emb)] = st
            evidence.append(
                (
                    emb,
                    process.TimestampEvidence(
                        kind="document",
                        time=st.timestamp,
                        intact=bool(st.intact),
                        valid=bool(st.valid),
                        trusted=bool(st.trusted),
                        tsa_cert=st.signing_cert,
                        digest_algorithms=_token_algorithms(emb.signed_data),
                        label=f"document timestamp {emb.field_name}",
                    ),
                )
            )
        return statuses, evidence

    def _evidence(
        self,
        fmt: str,
        status: StandardCMSSignatureStatus,
        signer_cert: x509.Certificate,
        signer_info: cms.SignerInfo,
        *,
        others: Sequence[x509.Certificate],
        revocation: process.Revocation,
        extra_timestamps: Sequence[process.TimestampEvidence] = (),
    ) -> process.SignatureEvidence:
        """What a CMS-based signature (PDF or detached) carries, for the process."""
        timestamps: list[process.TimestampEvidence] = []
        ts = status.timestamp_validity
        if ts is not None:
            timestamps.append(
                _ts_evidence("signature", ts, _unsigned_token(signer_info), "signature timestamp")
            )
        cts = getattr(status, "content_timestamp_validity", None)
        if cts is not None:
            timestamps.append(
                _ts_evidence("content", cts, _signed_token(signer_info), "content timestamp")
            )
        timestamps.extend(extra_timestamps)
        try:
            types = set(_signed_attr_types(signer_info))
        except Exception:  # noqa: BLE001 - unreadable attributes: judged as absent
            types = set()
        return process.SignatureEvidence(
            format=fmt,
            signer_cert=signer_cert,
            path=tuple(_path_certs(status)) or (signer_cert,),
            other_certs=(*others, *self.trust.certificates),
            claimed_time=status.signer_reported_dt,
            timestamps=tuple(timestamps),
            revocation=revocation,
            signing_certificate_attribute=bool(
                types & {"signing_certificate", "signing_certificate_v2"}
            ),
            message_digest_attribute="message_digest" in types,
        )

    def _form_filling_check(
        self, report: SignatureReport, emb: EmbeddedPdfSignature, data: bytes
    ) -> SignatureReport:
        """After allowed form filling: name the changed fields and compare what is shown.

        A field whose new appearance paints over signed page content, or any visible
        change outside the changed fields' widgets (and the annotations the signature
        permits), fails the signature (see :mod:`verify.visual`). The pages are compared
        whenever a later revision changed anything, not only a field's value.
        """
        if report.modifications not in ("FORM_FILLING_AND_SIGNATURES", "ANNOTATIONS"):
            return report
        try:
            changes = field_changes(emb.reader, emb.signed_revision)
        except Exception as exc:  # noqa: BLE001 - said in the report, the verdict stands
            warning = f"The changed form fields could not be listed ({_short(exc)})."
            return replace(report, warnings=(*report.warnings, warning))
        filled = [c for c in changes if not c.is_signature]
        warnings = list(report.warnings)
        if filled:
            warnings.append(
                "Form fields changed after this signature (old -> new): "
                + "; ".join(c.describe() for c in filled)
            )
        report = replace(report, warnings=tuple(warnings))
        if report.indication is Indication.TOTAL_FAILED:
            return report
        try:
            too_big = oversized_update(emb.reader, emb.signed_revision)
        except Exception as exc:  # noqa: BLE001 - judged as too big: nothing was compared
            too_big = _short(exc)
        if too_big is not None:
            return _failed_report(
                report,
                f"không so sánh được nội dung hiển thị sau khi điền biểu mẫu ({too_big})",
                f"what the filled form shows cannot be compared ({too_big})",
            )
        try:
            from verify.visual import changed_annotations

            permitted = (
                changed_annotations(emb.reader, emb.signed_revision)
                if report.modifications == "ANNOTATIONS"
                else ()
            )
            findings = visual_check(data[: _signed_end(emb)], data, changes, permitted)
        except Exception as exc:  # noqa: BLE001 - a page PDFium cannot draw is not a pass
            findings = []
            warning = f"The signed and final pages could not be compared ({_short(exc)})."
            report = replace(report, warnings=(*report.warnings, warning))
        if not findings:
            return report
        return _failed_report(
            report,
            "thay đổi hiển thị vượt quá việc điền biểu mẫu: "
            + "; ".join(f.describe_vi() for f in findings),
            "the visible change goes beyond form filling: "
            + "; ".join(f.describe_en() for f in findings),
        )

    async def _pdf_signature(
        self,
        index: int,
        emb: EmbeddedPdfSignature,
        moment: datetime,
        dss_certs: list[x509.Certificate],
        dss_ocsps: list[Any],
        dss_crls: list[Any],
        all_sigs: list[EmbeddedPdfSignature],
        doc_ts: dict[int, Any] | None = None,
        doc_ts_evidence: Sequence[tuple[EmbeddedPdfSignature, process.TimestampEvidence]] = (),
    ) -> SignatureReport:
        doc_ts = doc_ts or {}
        field_name = None
        sub_filter = None
        try:
            field_name = emb.field_name
            sub_filter = str(emb.sig_object.get("/SubFilter", "")) or None
            is_doc_ts = emb.sig_object_type == "/DocTimeStamp"
        except Exception as exc:  # noqa: BLE001
            return _broken_signature(index, field_name, sub_filter, exc)

        if sub_filter not in _SUPPORTED_SUBFILTERS or (
            is_doc_ts != (sub_filter == "/ETSI.RFC3161")
        ):
            return _unsupported_subfilter(index, field_name, sub_filter)

        try:
            signer_cert = emb.signer_cert
        except Exception as exc:  # noqa: BLE001
            early = _doubled_attrs(emb.signer_info) or _exception_verdict(exc)
            if early is not None:
                return _verdict_signature(index, field_name, sub_filter, early)
            return _broken_signature(index, field_name, sub_filter, exc)

        cms_warnings: list[str] = []
        embedded_certs = list(_cms_certs(emb.signed_data))
        if not is_doc_ts:
            try:
                problem, cms_warnings = _cms_problem(
                    emb.signed_data, signer_cert, baseline=sub_filter == "/ETSI.CAdES.detached"
                )
                others = [c for c in embedded_certs if c.dump() != signer_cert.dump()]
                pruned = _prune_certificates(signer_cert, others)
            except Exception as exc:  # noqa: BLE001
                return _broken_signature(index, field_name, sub_filter, exc)
            if problem is not None:
                return _verdict_signature(index, field_name, sub_filter, problem)
            if len(pruned) != len(others):
                embedded_certs = [signer_cert, *pruned]
                emb.signed_data = _with_certificates(emb.signed_data, embedded_certs)
                emb._sd_cert_info = None  # re-read from the pruned set
        carried = process.revocation_values(emb.signed_data, "CMS")
        crls = [*dss_crls, *(c for c, _src in carried.crls)]
        ocsps = [*dss_ocsps, *(o for o, _src in carried.ocsps)]
        vc = self._context(
            moment, other_certs=[*dss_certs, *embedded_certs], crls=crls, ocsps=ocsps
        )
        not_analysed: str | None = None
        try:
            if is_doc_ts:
                ts_status = doc_ts.get(id(emb)) or await async_validate_pdf_timestamp(
                    emb, validation_context=vc
                )
                return self._doc_timestamp_report(index, field_name, sub_filter, emb, ts_status)
            status = await async_validate_pdf_signature(
                emb,
                signer_validation_context=vc,
                ts_validation_context=vc,
                key_usage_settings=_ANY_USAGE,
                algorithm_policy=_CMS_ALGOS,
            )
        except Exception as exc:  # noqa: BLE001
            indeterminate = _exception_verdict(exc)
            if indeterminate is not None:
                return _verdict_signature(index, field_name, sub_filter, indeterminate)
            # pyHanko's difference analysis may raise on a later revision it cannot read
            # (an undefined object, a missing endstream): the signature's own integrity
            # is still a fact, and what changed after it is "not analysed", judged by
            # the policy's pdf_changes_analysed constraint, never a format failure
            try:
                status = await async_validate_pdf_signature(
                    emb,
                    signer_validation_context=vc,
                    ts_validation_context=vc,
                    key_usage_settings=_ANY_USAGE,
                    algorithm_policy=_CMS_ALGOS,
                    skip_diff=True,
                )
            except Exception:  # noqa: BLE001 - the first failure is the one to report
                return _broken_signature(index, field_name, sub_filter, exc)
            not_analysed = _short(exc)

        judgement, (verdict, proven, revocation, chain_status) = await self._judge_embedded(
            emb,
            status,
            signer_cert,
            emb.signer_info,
            moment,
            others=[*dss_certs, *embedded_certs],
            revocation=carried,
            dss=(dss_crls, dss_ocsps),
            doc_ts_evidence=doc_ts_evidence,
            not_analysed=not_analysed,
        )
        warnings: list[str] = list(cms_warnings)
        modifications = _modification_label(status) if not_analysed is None else "NOT_ANALYSED"
        if verdict.sub is None or verdict.indication is not Indication.TOTAL_FAILED:
            mod_verdict = _modification_verdict(status)
            if mod_verdict is not None:
                verdict = mod_verdict
        if status.modification_level is ModificationLevel.FORM_FILLING:
            warnings.append(
                "Form fields were filled in after this signature (allowed by the document's "
                "permissions); check the filled values."
            )
        level = _pades_level(emb, status, dss_ocsps or dss_crls, all_sigs)
        report = self._signature_report(
            index=index,
            kind="signature",
            field_name=field_name,
            sub_filter=sub_filter,
            status=status,
            verdict=verdict,
            proven=proven,
            revocation=revocation,
            chain_status=chain_status,
            level=level,
            coverage=status.coverage.name if status.coverage is not None else None,
            modifications=modifications,
            certification=_docmdp_label(emb),
            warnings=warnings,
            moment=moment,
        )
        return _apply(report, judgement)

    async def _pdf_sha1_signature(
        self,
        index: int,
        emb: EmbeddedPdfSignature,
        moment: datetime,
        dss_certs: list[x509.Certificate],
        dss_ocsps: list[Any],
        dss_crls: list[Any],
        all_sigs: list[EmbeddedPdfSignature],
        doc_ts: dict[int, Any] | None = None,
        doc_ts_evidence: Sequence[tuple[EmbeddedPdfSignature, process.TimestampEvidence]] = (),
    ) -> SignatureReport:
        """A ``/adbe.pkcs7.sha1`` signature: the CMS signs, as its encapsulated content, the
        SHA-1 digest of the byte range.

        The CMS is validated over its encapsulated digest (as an enveloping CMS), that
        digest must equal the byte range's SHA-1 (else the signature is not intact), the
        changes after it are analysed as for any PDF signature, and SHA-1, which binds the
        document, is the digest the dated algorithm rules judge.
        """
        import dataclasses

        field_name: str | None = None
        sub_filter = "/adbe.pkcs7.sha1"
        try:
            field_name = emb.field_name
            if emb.sig_object_type == "/DocTimeStamp":
                return _unsupported_subfilter(index, field_name, sub_filter)
            content, signed_data = cms_forms.detach_content(emb.signed_data)
            encapsulated = cms_forms.encapsulated_sha1(content)
            signed_data, plain = cms_forms.with_plain_ecdsa_as_der(signed_data)
            signer_cert = extract_certificate_info(signed_data).signer_cert
            problem, cms_warnings = _cms_problem(signed_data, signer_cert, baseline=False)
            embedded_certs = list(_cms_certs(signed_data))
            others = [c for c in embedded_certs if c.dump() != signer_cert.dump()]
            pruned = _prune_certificates(signer_cert, others)
            byte_range_sha1 = emb.compute_digest("sha1")
        except Exception as exc:  # noqa: BLE001 - a broken signature still gets a report
            return _broken_signature(index, field_name, sub_filter, exc)
        if problem is not None:
            return _verdict_signature(index, field_name, sub_filter, problem)
        if len(pruned) != len(others):
            embedded_certs = [signer_cert, *pruned]
            signed_data = _with_certificates(signed_data, embedded_certs)
        carried = process.revocation_values(signed_data, "CMS")
        crls = [*dss_crls, *(c for c, _src in carried.crls)]
        ocsps = [*dss_ocsps, *(o for o, _src in carried.ocsps)]
        vc = self._context(
            moment, other_certs=[*dss_certs, *embedded_certs], crls=crls, ocsps=ocsps
        )
        not_analysed: str | None = None
        try:
            cms_status = await async_validate_detached_cms(
                content,
                signed_data,
                signer_validation_context=vc,
                ts_validation_context=vc,
                key_usage_settings=_ANY_USAGE,
                algorithm_policy=_CMS_ALGOS,
            )
        except Exception as exc:  # noqa: BLE001
            early = _exception_verdict(exc)
            if early is not None:
                return _verdict_signature(index, field_name, sub_filter, early)
            return _broken_signature(index, field_name, sub_filter, exc)
        try:
            emb.compute_integrity_info()  # type: ignore[no-untyped-call]
        except Exception as exc:  # noqa: BLE001 - judged as "not analysed", as for others
            not_analysed = _short(exc)
            try:
                emb.compute_integrity_info(skip_diff=True)  # type: ignore[no-untyped-call]
            except Exception:  # noqa: BLE001 - the first failure is the one to report
                return _broken_signature(index, field_name, sub_filter, exc)
        kwargs = {f.name: getattr(cms_status, f.name) for f in dataclasses.fields(cms_status)}
        kwargs.update(emb.summarise_integrity_info())
        # the document is bound by the byte range's SHA-1: that is the digest judged
        kwargs.update(
            intact=bool(cms_status.intact) and encapsulated == byte_range_sha1,
            md_algorithm="sha1",
            # no signingTime: the signature dictionary's /M, as pyHanko reads PDF signatures
            signer_reported_dt=cms_status.signer_reported_dt or emb.self_reported_timestamp,
        )
        status = PdfSignatureStatus(**kwargs)

        judgement, (verdict, proven, revocation, chain_status) = await self._judge_embedded(
            emb,
            status,
            signer_cert,
            signed_data["signer_infos"][0],
            moment,
            others=[*dss_certs, *embedded_certs],
            revocation=carried,
            dss=(dss_crls, dss_ocsps),
            doc_ts_evidence=doc_ts_evidence,
            not_analysed=not_analysed,
        )
        if verdict.sub is None or verdict.indication is not Indication.TOTAL_FAILED:
            mod_verdict = _modification_verdict(status)
            if mod_verdict is not None:
                verdict = mod_verdict
        warnings: list[str] = list(cms_warnings)
        if status.modification_level is ModificationLevel.FORM_FILLING:
            warnings.append(
                "Form fields were filled in after this signature (allowed by the document's "
                "permissions); check the filled values."
            )
        report = self._signature_report(
            index=index,
            kind="signature",
            field_name=field_name,
            sub_filter=sub_filter,
            status=status,
            verdict=verdict,
            proven=proven,
            revocation=revocation,
            chain_status=chain_status,
            level=_pades_level(emb, status, dss_ocsps or dss_crls, all_sigs),
            coverage=status.coverage.name if status.coverage is not None else None,
            modifications=_modification_label(status) if not_analysed is None else "NOT_ANALYSED",
            certification=_docmdp_label(emb),
            warnings=warnings,
            moment=moment,
        )
        if plain is not None:
            report = replace(report, signature_algorithm=plain)
        return _apply(report, judgement)

    def _doc_timestamp_report(
        self,
        index: int,
        field_name: str | None,
        sub_filter: str | None,
        emb: EmbeddedPdfSignature,
        st: Any,
    ) -> SignatureReport:
        verdict: _Verdict
        if not st.intact:
            verdict = _Verdict(SubIndication.HASH_FAILURE)
        elif not st.valid:
            verdict = _Verdict(SubIndication.SIG_CRYPTO_FAILURE)
        elif not st.trusted:
            verdict = _Verdict(
                _sub(st.trust_problem_indic)
                if st.trust_problem_indic
                else SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
                "dấu thời gian không do đơn vị cấp dấu thời gian được tin cậy cấp",
                "the timestamp is not from a trusted timestamp authority",
            )
        else:
            verdict = _modification_verdict(st) or _Verdict(None)
        vi, en = sentences(verdict.sub, verdict.reason_vi, verdict.reason_en)
        if verdict.sub is None:
            vi = "Dấu thời gian tài liệu hợp lệ."
            en = "The document timestamp is valid."
        tsa = _cn(st.signing_cert)
        return SignatureReport(
            index=index,
            kind="document_timestamp",
            field_name=field_name,
            indication=verdict.indication,
            sub_indication=verdict.sub,
            message_vi=vi,
            message_en=en,
            signer={"name": tsa, "kind": "timestamp_authority"},
            chain=tuple(_cert_info(c) for c in _path_certs(st)),
            signing_time_proven=st.timestamp,
            coverage=st.coverage.name if st.coverage is not None else None,
            modifications=_modification_label(st),
            integrity=bool(st.intact and st.valid),
            digest_algorithm=st.md_algorithm,
            sub_filter=sub_filter,
            level="DOC-TS",
        )

    # -- XML (XMLDSig) -------------------------------------------------------------------

    async def _verify_xml_bytes(
        self, path: str | None, data: bytes, moment: datetime
    ) -> DocumentReport:
        from verify.einvoice import invoice_facts

        try:
            inspection = inspect_xml(data)
        except XmlSignatureError as exc:
            v = _Verdict(
                SubIndication.FORMAT_FAILURE,
                f"tệp XML không đọc được ({exc.vi[:200]})",
                f"the XML file cannot be processed ({_short(exc)})",
            )
            return self._document(path, data, "xml", moment, (), v, ())
        facts = invoice_facts(inspection)
        if not inspection.checks:
            doc = self._document(
                path, data, "xml", moment, (), _Verdict(SubIndication.NO_SIGNATURE_FOUND), ()
            )
            return replace(doc, facts=facts)
        reports = []
        for index, check in enumerate(inspection.checks):
            reports.append(await self._xml_signature_report(index, check, moment, facts))
        doc = self._document(path, data, "xml", moment, reports, None, ())
        return replace(doc, facts=facts)

    async def _xml_signature_report(
        self,
        index: int,
        check: XmlSignatureCheck,
        moment: datetime,
        facts: dict[str, Any] | None = None,
    ) -> SignatureReport:
        from verify.einvoice import seller_mst_mismatch

        verdict: _Verdict
        cert_check: CertificateCheck | None = None
        if check.problems:
            # wrapping, refused transforms/algorithms/keys: never a pass, with the cause
            shown = check.problems[:3]
            verdict = _Verdict(
                SubIndication.FORMAT_FAILURE,
                "; ".join(p.vi for p in shown),
                "; ".join(p.en for p in shown),
            )
        elif not check.references_ok:
            verdict = _Verdict(
                SubIndication.HASH_FAILURE,
                "phần đã ký bị thay đổi: " + ", ".join(check.failed_references),
                "signed parts were changed: " + ", ".join(check.failed_references),
            )
        elif not check.signature_ok or check.signer_cert is None:
            verdict = _Verdict(SubIndication.SIG_CRYPTO_FAILURE)
        else:
            cert_check = await self._signer_check(check.signer_cert, check.certificates, moment)
            verdict = _Verdict(cert_check.sub_indication)
            if cert_check.sub_indication in _TIME_FOLDED:
                # an XML signature carries no timestamp: a claimed time proves nothing
                offered = [check.signer_cert, *check.certificates, *self.trust.certificates]
                oob = process.out_of_bounds(
                    _unchain(cert_check.chain, offered) or [check.signer_cert], moment, None
                )
                if oob is not None:
                    verdict = _Verdict(oob.sub, oob.reason_vi, oob.reason_en)
            rules = self.policy.algorithms
            algo, bits = _key_bits(check.signer_cert)
            hashes_used = [*check.digest_algorithms]
            if check.signature_hash:
                hashes_used.append(check.signature_hash)
            verdicts = [rules.digest_verdict(h, None) for h in hashes_used]
            verdicts.append(rules.key_verdict(algo, bits, None))
            weak = "never" if "never" in verdicts else ("no_poe" if "no_poe" in verdicts else None)
            if weak and verdict.sub is None:
                judged = ", ".join(
                    dict.fromkeys(
                        h.upper()
                        for h, v in zip(hashes_used, verdicts, strict=False)
                        if v is not None
                    )
                )
                key_text = f"{algo.upper()} {bits}"
                verdict = _Verdict(
                    SubIndication.CRYPTO_CONSTRAINTS_FAILURE
                    if weak == "never"
                    else SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
                    f"{judged or check.digest_algorithm.upper()}, {key_text} bit",
                    f"{judged or check.digest_algorithm.upper()}, {key_text}-bit",
                )
        vi, en = sentences(verdict.sub, verdict.reason_vi, verdict.reason_en)
        if (
            cert_check is not None
            and verdict.sub is cert_check.sub_indication
            and not verdict.reason_en
        ):
            vi, en = cert_check.message_vi, cert_check.message_en  # already names the cause
        profile = cert_check.profile if cert_check is not None else None
        signer: dict[str, Any] | None = None
        if check.signer_cert is not None:
            try:
                signer = SignerIdentity.from_certificate(
                    check.signer_cert, profile=profile
                ).to_dict()
            except Exception:  # noqa: BLE001
                signer = None
        if cert_check is not None:
            chain = cert_check.chain
        else:
            chain = (_cert_info(check.signer_cert),) if check.signer_cert is not None else ()
        mode = self.policy.revocation.value
        checked = cert_check is not None and cert_check.ok and mode != "off"
        warnings = []
        if not checked and mode != "off":
            warnings.append(
                "Revocation at the signing time could not be checked "
                "(không kiểm tra được tình trạng thu hồi tại thời điểm ký)."
            )
        report = SignatureReport(
            index=index,
            kind="xml",
            field_name=check.signature_id,
            indication=verdict.indication,
            sub_indication=verdict.sub,
            message_vi=vi,
            message_en=en,
            signer=signer,
            chain=chain,
            trust_anchor_profile=profile,
            signing_time_claimed=check.claimed_signing_time,
            level="XMLDSig",
            coverage="REFERENCED_ELEMENTS",
            revocation=RevocationReport(mode, checked),
            integrity=check.intact,
            digest_algorithm=check.digest_algorithm or None,
            signature_algorithm=check.signature_algorithm or None,
            validated_at=moment,
            warnings=tuple(warnings),
            role=check.role,
            covers=check.covers,
            xml_reading=check.reading,
        )
        if check.signer_cert is None or verdict.sub in _FAILED_SUBS - {SubIndication.REVOKED}:
            return report
        evidence = process.SignatureEvidence(
            format="xml",
            signer_cert=check.signer_cert,
            path=tuple(
                _unchain(chain, [check.signer_cert, *check.certificates, *self.trust.certificates])
            )
            or (check.signer_cert,),
            other_certs=(*check.certificates, *self.trust.certificates),
            claimed_time=check.claimed_signing_time,
            xml_reading=check.reading,
            role=check.role,
            covers=tuple(check.covers),
            expected_cover=check.expected_cover,
            tax_code_mismatch=seller_mst_mismatch(check, facts),
            hierarchy=profile,
        )
        return _apply(report, process.judge(evidence, self.policy, moment))

    # -- detached CMS -----------------------------------------------------------------

    async def _verify_detached_bytes(
        self, path: str | None, data: bytes, sig: bytes, moment: datetime
    ) -> DocumentReport:
        return await self._cms_document(path, data, sig, moment, enveloped=False)

    async def _verify_enveloped_bytes(
        self, path: str | None, data: bytes, moment: datetime
    ) -> DocumentReport:
        """An enveloping CMS (``.p7m``): its encapsulated content is what was signed, and each
        SignerInfo is validated over it as a detached signature would be."""
        return await self._cms_document(path, data, data, moment, enveloped=True)

    async def _cms_document(
        self, path: str | None, data: bytes, sig: bytes, moment: datetime, *, enveloped: bool
    ) -> DocumentReport:
        """Every SignerInfo of a CMS, each over the content: ``data`` (detached) or the
        content the CMS encapsulates (enveloped); the worst verdict is the document's."""
        try:
            content_info = cms.ContentInfo.load(_maybe_pem(sig), strict=True)
            if content_info["content_type"].native != "signed_data":
                raise ValueError("not a CMS SignedData")
            content, signed = data, content_info["content"]
            if enveloped:
                content, signed = cms_forms.detach_content(signed)
            signers = self._cms_signers(signed)
        except Exception as exc:  # noqa: BLE001
            what_vi, what_en = (
                ("chữ ký CMS", "the CMS signature")
                if enveloped
                else ("chữ ký tách rời", "the detached signature")
            )
            v = _Verdict(
                SubIndication.FORMAT_FAILURE,
                f"{what_vi} không đọc được ({_short(exc)})",
                f"{what_en} cannot be read ({_short(exc)})",
            )
            return self._document(path, data, "cms", moment, (), v, ())
        kind, coverage = (
            ("enveloped", "ENVELOPED_CONTENT") if enveloped else ("detached", "DETACHED_CONTENT")
        )
        reports = [
            await self._cms_signature(
                index, content, signed_data, signer_cert, moment, kind, coverage
            )
            for index, (signed_data, signer_cert) in enumerate(signers)
        ]
        return self._document(path, data, "cms", moment, reports, None, ())

    def _cms_signers(
        self, signed_data: cms.SignedData
    ) -> list[tuple[cms.SignedData, x509.Certificate]]:
        """One SignedData per SignerInfo (see :func:`verify.cms_forms.one_per_signer`), each
        with its signer's certificate; ``ValueError`` past the policy's signature limit."""
        count = len(signed_data["signer_infos"])
        if count > self.policy.max_signatures:
            raise ValueError(
                f"{count} signer infos, more than the policy's limit ({self.policy.max_signatures})"
            )
        return [
            (part, extract_certificate_info(part).signer_cert)
            for part in cms_forms.one_per_signer(signed_data)
        ]

    async def _cms_signature(
        self,
        index: int,
        content: bytes,
        signed_data: cms.SignedData,
        signer_cert: x509.Certificate,
        moment: datetime,
        kind: str,
        coverage: str,
    ) -> SignatureReport:
        """One SignerInfo of a detached or enveloping CMS over ``content``."""
        signed_data, plain = cms_forms.with_plain_ecdsa_as_der(signed_data)
        embedded_certs = list(_cms_certs(signed_data))
        try:
            problem, cms_warnings = _cms_problem(signed_data, signer_cert, baseline=True)
            others = [c for c in embedded_certs if c.dump() != signer_cert.dump()]
            pruned = _prune_certificates(signer_cert, others)
        except Exception as exc:  # noqa: BLE001
            return _broken_signature(index, None, None, exc, kind=kind)
        if problem is not None:
            return _verdict_signature(index, None, None, problem, kind=kind)
        if len(pruned) != len(others):
            embedded_certs = [signer_cert, *pruned]
            signed_data = _with_certificates(signed_data, embedded_certs)
        carried = process.revocation_values(signed_data, "CMS")
        crls = [c for c, _src in carried.crls]
        ocsps = [o for o, _src in carried.ocsps]
        vc = self._context(moment, other_certs=embedded_certs, crls=crls, ocsps=ocsps)
        try:
            status = await async_validate_detached_cms(
                content,
                signed_data,
                signer_validation_context=vc,
                ts_validation_context=vc,
                key_usage_settings=_ANY_USAGE,
                algorithm_policy=_CMS_ALGOS,
            )
        except Exception as exc:  # noqa: BLE001
            indeterminate = _exception_verdict(exc)
            return (
                _verdict_signature(index, None, None, indeterminate, kind=kind)
                if indeterminate is not None
                else _broken_signature(index, None, None, exc, kind=kind)
            )
        evidence = self._evidence(
            "cms",
            status,
            signer_cert,
            signed_data["signer_infos"][0],
            others=embedded_certs,
            revocation=carried,
        )
        judgement = process.judge(evidence, self.policy, moment)
        verdict, proven, revocation, chain_status = await self._judge(
            status,
            signer_cert,
            moment,
            proven=judgement.proven,
            other_certs=embedded_certs,
            crls=crls,
            ocsps=ocsps,
        )
        level = "CAdES-B-T" if status.timestamp_validity is not None else "CAdES-B-B"
        if not _has_signed_attrs(signed_data):
            level = "CMS"
        report = self._signature_report(
            index=index,
            kind=kind,
            field_name=None,
            sub_filter=None,
            status=status,
            verdict=verdict,
            proven=proven,
            revocation=revocation,
            chain_status=chain_status,
            level=level,
            coverage=coverage,
            modifications=None,
            certification=None,
            warnings=list(cms_warnings),
            moment=moment,
        )
        if plain is not None:
            report = replace(report, signature_algorithm=plain)
        return _apply(report, judgement)

    # -- judgement ---------------------------------------------------------------------

    async def _judge(
        self,
        status: StandardCMSSignatureStatus,
        signer_cert: x509.Certificate,
        moment: datetime,
        *,
        proven: datetime | None,
        other_certs: Sequence[x509.Certificate] = (),
        crls: Sequence[Any] = (),
        ocsps: Sequence[Any] = (),
    ) -> tuple[_Verdict, datetime | None, RevocationReport, StandardCMSSignatureStatus]:
        """Turn pyHanko's status into one ETSI verdict, validating at the proven time
        (``proven``: the best proof of existence the process accepted; see
        :func:`verify.process.proof_of_existence`)."""
        mode = self.policy.revocation.value
        if not status.intact:
            return (
                _Verdict(SubIndication.HASH_FAILURE),
                proven,
                RevocationReport(mode, False),
                status,
            )
        if not status.valid:
            return (
                _Verdict(SubIndication.SIG_CRYPTO_FAILURE),
                proven,
                RevocationReport(mode, False),
                status,
            )
        # A timestamp that fails proves nothing (the process set it aside and said why);
        # the signature itself is judged on what remains proven.
        algo = self._algorithm_verdict(status, signer_cert, proven)
        if proven is not None and proven < signer_cert.not_valid_before:
            return (
                _Verdict(SubIndication.NOT_YET_VALID),
                proven,
                RevocationReport(mode, False),
                status,
            )
        if proven is not None and proven > signer_cert.not_valid_after:
            return _Verdict(SubIndication.EXPIRED), proven, RevocationReport(mode, False), status

        chain_status = status
        if not status.trusted and proven is not None and _time_dependent(status):
            # Validate the chain again at the time the timestamp proves (past validation):
            # revocation information issued after that time may speak of it.
            vc = self._context(
                proven,
                other_certs=other_certs,
                crls=crls,
                ocsps=ocsps,
                retroactive=True,
            )
            try:
                vc.certificate_registry.register_multiple(other_certs)
                result = await validate_cert_usage(
                    signer_cert,
                    vc,
                    key_usage_settings=_ANY_USAGE,
                    paths=vc.path_builder.async_build_paths_lazy(signer_cert),
                )
                chain_status = replace(
                    status,
                    trust_problem_indic=result.error_subindic,
                    validation_path=result.success_result or result.error_path,
                    revocation_details=result.revo_details,
                    validation_time=proven,
                )
            except Exception:  # noqa: BLE001, S110 - keep the verdict at the validation time
                pass

        revocation = _revocation_report(self.policy, chain_status)
        if chain_status.trusted:
            verdict = algo or _Verdict(None)
            if revocation.checked is False and self.policy.revocation is RevocationMode.SOFT:
                revocation = RevocationReport(
                    mode, False, note="no revocation information could be obtained"
                )
            return verdict, proven, revocation, chain_status
        return (
            await self._trust_verdict(
                chain_status,
                proven,
                moment=chain_status.validation_time or moment,
                other_certs=other_certs,
                crls=crls,
                ocsps=ocsps,
            )
            if algo is None or algo.sub is None
            else algo,
            proven,
            revocation,
            chain_status,
        )

    async def _trust_verdict(
        self,
        st: StandardCMSSignatureStatus,
        proven: datetime | None,
        *,
        moment: datetime,
        other_certs: Sequence[x509.Certificate],
        crls: Sequence[Any],
        ocsps: Sequence[Any],
    ) -> _Verdict:
        indic = st.trust_problem_indic
        sub = _sub(indic)
        details = st.revocation_details
        if sub in (SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE, SubIndication.GENERIC):
            # certvalidator folds several causes into this one; name the real one.
            certs = _path_certs(st) or [st.signing_cert]
            oob = process.out_of_bounds(certs, moment, proven)
            if oob is not None:
                return _Verdict(oob.sub, oob.reason_vi, oob.reason_en)
            constraint = await self._constraint_problem(st, moment)
            if constraint is not None:
                return _Verdict(
                    SubIndication.CHAIN_CONSTRAINTS_FAILURE,
                    f"chuỗi chứng thư số vi phạm ràng buộc ({constraint})",
                    f"the certificate path breaks a constraint ({constraint})",
                )
            if self.policy.revocation is RevocationMode.HARD and await self._passes_without_revinfo(
                st.signing_cert, moment, other_certs, crls, ocsps
            ):
                return _Verdict(
                    SubIndication.TRY_LATER,
                    "không có thông tin thu hồi (OCSP/CRL) cho chuỗi chứng thư số",
                    "no revocation information (OCSP/CRL) for the certificate chain",
                )
        if st.revoked or sub in (SubIndication.REVOKED, SubIndication.REVOKED_NO_POE):
            revoked_at = details.revocation_date if details is not None else None
            signed_at = proven or st.signer_reported_dt
            if details is not None and details.ca_revoked:
                return _Verdict(SubIndication.REVOKED_CA_NO_POE)
            if revoked_at is not None and signed_at is not None and signed_at < revoked_at:
                return _Verdict(SubIndication.REVOKED_NO_POE)
            return _Verdict(SubIndication.REVOKED)
        if sub in (SubIndication.OUT_OF_BOUNDS_NO_POE, SubIndication.EXPIRED):
            cert = st.signing_cert
            if proven is not None and proven > cert.not_valid_after:
                return _Verdict(SubIndication.EXPIRED)
            if proven is not None and proven < cert.not_valid_before:
                return _Verdict(SubIndication.NOT_YET_VALID)
            return _Verdict(SubIndication.OUT_OF_BOUNDS_NO_POE)
        if sub is SubIndication.NOT_YET_VALID:
            return _Verdict(SubIndication.NOT_YET_VALID)
        if sub is SubIndication.NO_CERTIFICATE_CHAIN_FOUND or sub is SubIndication.GENERIC:
            vi, en = self._no_chain(st.signing_cert, other_certs)
            return _Verdict(SubIndication.NO_CERTIFICATE_CHAIN_FOUND, vi, en)
        if sub is SubIndication.TRY_LATER:
            return _Verdict(
                SubIndication.TRY_LATER,
                "không có thông tin thu hồi (OCSP/CRL)",
                "no revocation information (OCSP/CRL) was available",
            )
        if sub is SubIndication.CHAIN_CONSTRAINTS_FAILURE:
            return _Verdict(
                sub,
                "chứng thư số không được phép dùng để ký (key usage) hoặc vi phạm ràng buộc",
                "the certificate may not be used for signing (key usage) or breaks a "
                "path constraint",
            )
        if sub is SubIndication.SIG_CONSTRAINTS_FAILURE:
            return _Verdict(
                sub,
                "chứng thư số không có mục đích sử dụng ký số",
                "the certificate's key usage does not allow signing",
            )
        name = getattr(indic, "name", str(indic))
        return _Verdict(sub, name, name)

    async def _constraint_problem(
        self, st: StandardCMSSignatureStatus, moment: datetime
    ) -> str | None:
        """certvalidator's reason when the path itself breaks RFC 5280 rules.

        pyHanko folds every plain ``PathValidationError`` (an issuer that is not a CA,
        a name-constraint violation, a path-length overrun) into
        CERTIFICATE_CHAIN_GENERAL_FAILURE. Validating the same path again offline, with
        revocation not required, tells a structural violation from a revocation or time
        problem: only a plain ``PathValidationError`` is one.
        """
        path = st.validation_path
        if path is None:
            return None
        soft = Verifier(
            self.trust, self.policy.replace(revocation=RevocationMode.SOFT, network=False)
        )
        vc = soft._context(moment)
        try:
            await async_validate_path(vc, path)
        except PathValidationError as exc:
            return _short(exc) if type(exc) is PathValidationError else None
        except Exception:  # noqa: BLE001 - anything else is not a structural verdict
            return None
        return None

    async def _passes_without_revinfo(
        self,
        cert: x509.Certificate,
        moment: datetime,
        other_certs: Sequence[x509.Certificate],
        crls: Sequence[Any],
        ocsps: Sequence[Any],
    ) -> bool:
        """Would the chain validate if missing revocation information were tolerated?"""
        soft = Verifier(
            self.trust, self.policy.replace(revocation=RevocationMode.SOFT, network=False)
        )
        vc = soft._context(moment, other_certs=other_certs, crls=crls, ocsps=ocsps)
        vc.certificate_registry.register_multiple(other_certs)
        try:
            result = await validate_cert_usage(
                cert,
                vc,
                key_usage_settings=_KEY_USAGE,
                paths=vc.path_builder.async_build_paths_lazy(cert),
            )
        except Exception:  # noqa: BLE001 - any failure means "no"
            return False
        return result.error_subindic is None

    def _algorithm_verdict(
        self,
        status: StandardCMSSignatureStatus,
        signer_cert: x509.Certificate,
        proven: datetime | None,
    ) -> _Verdict | None:
        rules = self.policy.algorithms
        worst_verdict: _Verdict | None = None
        digest = status.md_algorithm
        problems: list[tuple[str, str, str]] = []
        v = rules.digest_verdict(digest, proven)
        if v:
            problems.append((v, f"hàm băm {digest.upper()}", f"digest {digest.upper()}"))
        certs = [signer_cert]
        if status.validation_path is not None:
            certs = [c for c in status.validation_path.iter_certs(include_root=False)]
            certs = certs or [signer_cert]
        for cert in certs:
            algo, bits = _key_bits(cert)
            v = rules.key_verdict(algo, bits, proven)
            if v:
                problems.append(
                    (v, f"khóa {algo.upper()} {bits} bit", f"{algo.upper()} {bits}-bit key")
                )
            h = cert.hash_algo
            v = rules.digest_verdict(h, proven)
            if v:
                problems.append(
                    (v, f"chứng thư số ký bằng {h.upper()}", f"certificate signed with {h.upper()}")
                )
        for kind, vi, en in problems:
            sub = (
                SubIndication.CRYPTO_CONSTRAINTS_FAILURE
                if kind == "never"
                else SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE
            )
            if worst_verdict is None or (
                sub is SubIndication.CRYPTO_CONSTRAINTS_FAILURE
                and worst_verdict.sub is not SubIndication.CRYPTO_CONSTRAINTS_FAILURE
            ):
                worst_verdict = _Verdict(sub, vi, en)
        return worst_verdict

    def _signature_report(
        self,
        *,
        index: int,
        kind: str,
        field_name: str | None,
        sub_filter: str | None,
        status: StandardCMSSignatureStatus,
        verdict: _Verdict,
        proven: datetime | None,
        revocation: RevocationReport,
        chain_status: StandardCMSSignatureStatus,
        level: str | None,
        coverage: str | None,
        modifications: str | None,
        certification: str | None,
        warnings: list[str],
        moment: datetime,
    ) -> SignatureReport:
        path_certs = _path_certs(chain_status)
        anchor_profile = None
        if chain_status.validation_path is not None:
            try:
                anchor = chain_status.validation_path.trust_anchor
                anchor_cert = getattr(anchor, "certificate", None)
                if anchor_cert is not None:
                    anchor_profile = self.trust.profile_of(anchor_cert)
            except Exception:  # noqa: BLE001
                anchor_profile = None
        signer = None
        try:
            signer = SignerIdentity.from_certificate(
                status.signing_cert, profile=anchor_profile
            ).to_dict()
        except Exception:  # noqa: BLE001 - an unreadable subject still gets a report
            signer = {"name": status.signing_cert.subject.human_friendly}
        if not revocation.checked and revocation.mode != "off":
            warnings.append(
                "Revocation at the signing time could not be checked "
                "(không kiểm tra được tình trạng thu hồi tại thời điểm ký)."
            )
        elif revocation.mode == "off":
            warnings.append("Revocation checking was switched off by the policy.")
        timestamps: list[TimestampReport] = []
        ts = status.timestamp_validity
        if ts is not None:
            timestamps.append(_ts_report("signature", ts))
        cts = getattr(status, "content_timestamp_validity", None)
        if cts is not None:
            timestamps.append(_ts_report("content", cts))
        vi, en = sentences(verdict.sub, verdict.reason_vi, verdict.reason_en)
        return SignatureReport(
            index=index,
            kind=kind,
            field_name=field_name,
            indication=verdict.indication,
            sub_indication=verdict.sub,
            message_vi=vi,
            message_en=en,
            signer=signer,
            chain=tuple(_cert_info(c) for c in path_certs) or (_cert_info(status.signing_cert),),
            trust_anchor_profile=anchor_profile,
            signing_time_claimed=status.signer_reported_dt,
            signing_time_proven=proven,
            timestamps=tuple(timestamps),
            level=level,
            coverage=coverage,
            modifications=modifications,
            certification=certification,
            revocation=revocation,
            integrity=bool(status.intact and status.valid),
            digest_algorithm=status.md_algorithm,
            signature_algorithm=status.pkcs7_signature_mechanism,
            sub_filter=sub_filter,
            validated_at=proven if chain_status is not status else moment,
            warnings=tuple(warnings),
        )


# -- helpers ----------------------------------------------------------------------------


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _parse_certificates(body: bytes) -> Iterator[x509.Certificate]:
    """A DER or PEM certificate, or a degenerate PKCS#7 bundle of them (AIA answers)."""
    body = _maybe_pem(body)
    if body[:1] == b"\x30":
        try:
            info = cms.ContentInfo.load(body, strict=True)
            if info["content_type"].native == "signed_data":
                yield from _cms_certs(info["content"])
                return
        except ValueError:
            pass
    yield x509.Certificate.load(body, strict=True)


def _unchain(
    chain: Sequence[CertificateInfo], offered: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    """The certificates of a reported chain (signer first), found among those offered
    (the signature's and the trust profile's), matched by SHA-256."""
    known = {hashlib.sha256(c.dump()).hexdigest(): c for c in offered}
    return [known[c.sha256] for c in chain if c.sha256 in known]


def _apply(report: SignatureReport, judgement: process.Judgement) -> SignatureReport:
    """The report with the process's constraints: their results, their warnings, and the
    first failure at level FAIL unless pyHanko's checks already gave a worse verdict (a
    broken or revoked signature stays TOTAL_FAILED; a revocation the process found beats
    an INDETERMINATE)."""
    verdict = report.indication, report.sub_indication
    finding = judgement.failure
    changes: dict[str, Any] = {
        "constraints": (*report.constraints, *judgement.results),
        "warnings": (*report.warnings, *judgement.warnings),
    }
    if finding is not None:
        decisive = _indication_for(finding.sub)
        if (
            verdict[0] is Indication.TOTAL_PASSED
            or (verdict[0] is Indication.INDETERMINATE and decisive is Indication.TOTAL_FAILED)
            or verdict[1] is finding.sub  # the same verdict: the constraint names its cause
        ):
            vi, en = sentences(finding.sub, finding.reason_vi, finding.reason_en)
            changes.update(
                indication=decisive, sub_indication=finding.sub, message_vi=vi, message_en=en
            )
    return replace(report, **changes)


def _ts_evidence(
    kind: str, ts: TimestampSignatureStatus, token: cms.ContentInfo | None, label: str
) -> process.TimestampEvidence:
    return process.TimestampEvidence(
        kind=kind,
        time=ts.timestamp,
        intact=bool(ts.intact),
        valid=bool(ts.valid),
        trusted=bool(ts.trusted),
        tsa_cert=ts.signing_cert,
        digest_algorithms=_token_algorithms(token["content"]) if token is not None else (),
        label=label,
    )


def _token_algorithms(signed_data: cms.SignedData) -> tuple[str, ...]:
    """A timestamp token's digest algorithms: its message imprint's and its signature's."""
    found: list[str] = []
    try:
        info = signed_data["encap_content_info"]["content"].parsed
        found.append(info["message_imprint"]["hash_algorithm"]["algorithm"].native)
        for si in signed_data["signer_infos"]:
            found.append(si["digest_algorithm"]["algorithm"].native)
    except Exception:  # noqa: BLE001, S110 - an unreadable token is judged by pyHanko
        pass
    return tuple(dict.fromkeys(found))


def _attr_value(attrs: Any, name: str) -> Any:
    try:
        for attr in attrs or ():
            if attr["type"].native == name:
                return attr["values"][0]
    except Exception:  # noqa: BLE001, S110 - unreadable attributes: none
        pass
    return None


def _unsigned_token(signer_info: cms.SignerInfo) -> cms.ContentInfo | None:
    return _attr_value(signer_info["unsigned_attrs"], "signature_time_stamp_token")


def _signed_token(signer_info: cms.SignerInfo) -> cms.ContentInfo | None:
    return _attr_value(signer_info["signed_attrs"], "content_time_stamp")


@dataclass(frozen=True)
class CertificateCheck:
    """Whether a certificate could make a signature that verifies, and why not."""

    indication: Indication
    sub_indication: SubIndication | None
    message_vi: str
    message_en: str
    signer: SignerIdentity | None
    chain: tuple[CertificateInfo, ...]
    profile: Hierarchy | None

    @property
    def ok(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED


def _certificate_check(
    verdict: _Verdict, cert: x509.Certificate, path: Any, profile: Hierarchy | None
) -> CertificateCheck:
    vi, en = sentences(verdict.sub, verdict.reason_vi, verdict.reason_en)
    if verdict.sub is None:
        vi = "Chứng thư số hợp lệ để ký."
        en = "The certificate is valid for signing."
    try:
        signer: SignerIdentity | None = SignerIdentity.from_certificate(cert, profile=profile)
    except Exception:  # noqa: BLE001
        signer = None
    certs = list(reversed(list(path.iter_certs(include_root=True)))) if path is not None else [cert]
    return CertificateCheck(
        indication=verdict.indication,
        sub_indication=verdict.sub,
        message_vi=vi,
        message_en=en,
        signer=signer,
        chain=tuple(_cert_info(c) for c in certs),
        profile=profile,
    )


def _read_file(path: str, size: int, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of a file: what stat() promised (+1 to notice growth),
    never the whole limit allocated for a small file.

    Plain descriptors, not a file object: a time limit that fires while the file is being
    opened must not leave an unclosed file object behind for the collector to warn about.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks: list[bytes] = []
        total = 0
        want = min(size, limit) + 1
        while total < want:
            more = os.read(fd, want - total)
            if not more:
                break
            chunks.append(more)
            total += len(more)
        while size < total <= limit:  # grew while we looked
            more = os.read(fd, min(1 << 20, limit + 1 - total))
            if not more:
                break
            chunks.append(more)
            total += len(more)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _format_failure_doc(exc: BaseException) -> _Verdict:
    if isinstance(exc, PdfError | ValueError | KeyError | IndexError | TypeError):
        pass
    return _Verdict(
        SubIndication.FORMAT_FAILURE,
        f"tệp hỏng hoặc không đọc được ({_short(exc)})",
        f"the file is damaged or unreadable ({_short(exc)})",
    )


def _broken_signature(
    index: int,
    field_name: str | None,
    sub_filter: str | None,
    exc: BaseException,
    *,
    kind: str = "signature",
) -> SignatureReport:
    vi, en = sentences(
        SubIndication.FORMAT_FAILURE,
        f"cấu trúc chữ ký bị hỏng ({_short(exc)})",
        f"the signature structure is broken ({_short(exc)})",
    )
    return SignatureReport(
        index=index,
        kind=kind,
        field_name=field_name,
        indication=Indication.TOTAL_FAILED,
        sub_indication=SubIndication.FORMAT_FAILURE,
        message_vi=vi,
        message_en=en,
        sub_filter=sub_filter,
        integrity=False,
    )


def _unsupported_subfilter(
    index: int, field_name: str | None, sub_filter: str | None
) -> SignatureReport:
    vi, en = sentences(
        SubIndication.SIG_CONSTRAINTS_FAILURE,
        f"định dạng chữ ký {sub_filter} không được hỗ trợ nên không kiểm tra được",
        f"signature format {sub_filter} is not supported, so it cannot be verified",
    )
    return SignatureReport(
        index=index,
        kind="signature",
        field_name=field_name,
        indication=Indication.INDETERMINATE,
        sub_indication=SubIndication.SIG_CONSTRAINTS_FAILURE,
        message_vi=vi,
        message_en=en,
        sub_filter=sub_filter,
    )


def _cms_certs(signed_data: cms.SignedData) -> Iterable[x509.Certificate]:
    try:
        for choice in signed_data["certificates"] or ():
            if choice.name == "certificate":
                yield choice.chosen
    except Exception:  # noqa: BLE001
        return


def _looks_like_signed_data(data: bytes) -> bool:
    """A CMS SignedData (DER/BER, or PEM) given as the document: an enveloping ``.p7m``."""
    head = data.lstrip()[:64]
    if head.startswith((b"-----BEGIN PKCS7", b"-----BEGIN CMS")):
        return True
    # SEQUENCE { OID 1.2.840.113549.1.7.2 (signedData), ... } within the first bytes
    return head[:1] == b"\x30" and b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02" in head[:16]


def _opens_without_password(reader: PdfFileReader) -> tuple[bool, list[str]]:
    """Decrypt ``reader`` with the empty user password: whether that opened it, and what
    the report should say about it."""
    from pyhanko.pdf_utils.crypt import AuthStatus
    from pyhanko.pdf_utils.crypt.api import PdfMacStatus

    try:
        result = reader.decrypt("")
    except Exception:  # noqa: BLE001 - an unusable security handler: it stays encrypted
        return False, []
    notes = [
        "The PDF is encrypted with an empty user password (it opens without one); it was "
        "decrypted with the empty password to validate its signatures."
    ]
    if result.mac_status is PdfMacStatus.FAILED:
        # the key was found (pyHanko checks the MAC after the password): the file was
        # changed without its MAC; what changed is for the signatures' checks to tell
        notes.append(
            "The PDF's integrity MAC (ISO/TS 32004) does not match the file "
            f"({result.mac_failure_reason or 'no reason given'})."
        )
        return True, notes
    return result.status is not AuthStatus.FAILED, notes


def _plain_ecdsa_as_der(emb: EmbeddedPdfSignature) -> str | None:
    """Give a PDF signature's plain-ECDSA SignerInfo a DER value (see
    :mod:`verify.cms_forms`); the plain algorithm's name, or None when it is not one."""
    signed_data, plain = cms_forms.with_plain_ecdsa_as_der(emb.signed_data)
    if plain is not None:
        emb.signed_data = signed_data
        emb.signer_info = signed_data["signer_infos"][0]
    return plain


def _maybe_pem(data: bytes) -> bytes:
    stripped = data.strip()
    if stripped.startswith(b"-----BEGIN"):
        from asn1crypto import pem

        try:
            _, _, der = pem.unarmor(stripped)
            return bytes(der)
        except Exception:  # noqa: BLE001
            return data
    return data


def _has_signed_attrs(signed_data: cms.SignedData) -> bool:
    try:
        return bool(len(signed_data["signer_infos"][0]["signed_attrs"]))
    except Exception:  # noqa: BLE001
        return False


def _proven_time(status: StandardCMSSignatureStatus) -> datetime | None:
    ts = status.timestamp_validity
    if ts is not None and ts.intact and ts.valid and ts.trusted:
        return ts.timestamp
    return None


def _time_dependent(status: StandardCMSSignatureStatus) -> bool:
    sub = _sub(status.trust_problem_indic) if status.trust_problem_indic else None
    return bool(status.revoked) or sub in (
        SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
        SubIndication.OUT_OF_BOUNDS_NO_POE,
        SubIndication.EXPIRED,
        SubIndication.REVOKED,
        SubIndication.REVOKED_NO_POE,
        SubIndication.TRY_LATER,
        SubIndication.OUT_OF_BOUNDS_NOT_REVOKED,
        SubIndication.REVOCATION_OUT_OF_BOUNDS_NO_POE,
    )


def _path_certs(status: Any) -> list[x509.Certificate]:
    path = getattr(status, "validation_path", None)
    if path is None:
        cert = getattr(status, "signing_cert", None)
        return [cert] if cert is not None else []
    try:
        certs = list(path.iter_certs(include_root=True))
        return list(reversed(certs))
    except Exception:  # noqa: BLE001
        return []


def _cn(cert: x509.Certificate | None) -> str | None:
    if cert is None:
        return None
    try:
        return str(cert.subject.native.get("common_name") or cert.subject.human_friendly)
    except Exception:  # noqa: BLE001
        return None


def _ts_report(kind: str, ts: TimestampSignatureStatus) -> TimestampReport:
    if not ts.intact:
        sub: SubIndication | None = SubIndication.HASH_FAILURE
    elif not ts.valid:
        sub = SubIndication.SIG_CRYPTO_FAILURE
    elif not ts.trusted:
        sub = (
            _sub(ts.trust_problem_indic)
            if ts.trust_problem_indic
            else (SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
        )
    else:
        sub = None
    return TimestampReport(
        kind=kind,
        time=ts.timestamp,
        tsa=_cn(ts.signing_cert),
        indication=_indication_for(sub),
        sub_indication=sub,
        message_en="trusted timestamp" if sub is None else f"timestamp not accepted: {sub}",
    )


def _revocation_report(
    policy: ValidationPolicy, st: StandardCMSSignatureStatus
) -> RevocationReport:
    mode = policy.revocation
    if mode is RevocationMode.OFF:
        return RevocationReport(mode.value, False, note="revocation checking is off")
    revoked_at = st.revocation_details.revocation_date if st.revocation_details else None
    if mode is RevocationMode.HARD:
        # "require" mode: a trusted path means revocation info was found for every cert
        checked = bool(st.trusted) or revoked_at is not None
        return RevocationReport(
            mode.value, checked, ("ocsp/crl",) if checked else (), revoked_at=revoked_at
        )
    # soft: we cannot tell from the status alone; say whether any was seen
    return RevocationReport(
        mode.value,
        revoked_at is not None,
        (),
        revoked_at=revoked_at,
        note="soft mode: missing revocation information was accepted",
    )


def _modification_label(st: Any) -> str | None:
    level = getattr(st, "modification_level", None)
    if level is None:
        return None
    return {
        ModificationLevel.NONE: "NONE",
        ModificationLevel.LTA_UPDATES: "VALIDATION_DATA_AND_TIMESTAMPS",
        ModificationLevel.FORM_FILLING: "FORM_FILLING_AND_SIGNATURES",
        ModificationLevel.ANNOTATIONS: "ANNOTATIONS",
        ModificationLevel.OTHER: "OTHER",
    }.get(level, str(level))


def _modification_verdict(st: Any) -> _Verdict | None:
    docmdp_ok = getattr(st, "docmdp_ok", None)
    level = getattr(st, "modification_level", None)
    if level is ModificationLevel.OTHER or docmdp_ok is False:
        return _Verdict(
            SubIndication.FORMAT_FAILURE,
            "tài liệu đã bị sửa đổi sau khi ký vượt quá những thay đổi mà chữ ký cho phép",
            "the document was modified after signing beyond what the signature permits",
        )
    return None


def _docmdp_label(emb: EmbeddedPdfSignature) -> str | None:
    try:
        perm = emb.docmdp_level
    except Exception:  # noqa: BLE001
        return None
    if perm is None:
        return None
    return {1: "NO_CHANGES", 2: "FILL_FORMS", 3: "ANNOTATE"}.get(int(perm.value), str(perm))


def _pades_level(
    emb: EmbeddedPdfSignature,
    status: PdfSignatureStatus,
    has_dss_revinfo: bool | list[Any],
    all_sigs: list[EmbeddedPdfSignature],
) -> str:
    sub_filter = str(emb.sig_object.get("/SubFilter", ""))
    if sub_filter != "/ETSI.CAdES.detached":
        return "PKCS7-T" if status.timestamp_validity is not None else "PKCS7"
    if status.timestamp_validity is None:
        return "PAdES-B-B"
    if not has_dss_revinfo:
        return "PAdES-B-T"
    later_doc_ts = any(
        s.sig_object_type == "/DocTimeStamp" and s.signed_revision > emb.signed_revision
        for s in all_sigs
    )
    return "PAdES-B-LTA" if later_doc_ts else "PAdES-B-LT"


def _with_elapsed(report: DocumentReport, started: float) -> DocumentReport:
    return _replace_doc(report, elapsed_ms=round((time.perf_counter() - started) * 1000, 3))


def _replace_doc(report: DocumentReport, **changes: Any) -> DocumentReport:
    return replace(report, **changes)


# -- structural checks pyHanko leaves to the caller -----------------------------------------

# Signed attributes that RFC 5652 (11.1-11.3), RFC 5035 and ETSI EN 319 122-1 allow once.
_SINGLE_ATTRS = frozenset(
    {
        "content_type",
        "message_digest",
        "signing_time",
        "signing_certificate",
        "signing_certificate_v2",
        "cms_algorithm_protection",
    }
)

# Which public-key algorithms a signature mechanism can apply to.
_MECHANISM_KEYS = {
    "rsassa_pkcs1v15": {"rsa"},
    "rsassa_pss": {"rsa", "rsassa_pss"},
    "ecdsa": {"ec"},
    "dsa": {"dsa"},
    "ed25519": {"ed25519"},
    "ed448": {"ed448"},
}

# Above this many certificates in one CMS, or when two share a subject, keep only those
# that verifiably certify the signer's path (see _prune_certificates).
_PRUNE_ABOVE = 16
_MAX_PATH_WALK = 64


def _byte_range_problem(emb: EmbeddedPdfSignature, size: int) -> str | None:
    """Why /ByteRange is not two ranges around /Contents from byte 0, or None."""
    try:
        raw = [int(x) for x in emb.byte_range]
    except Exception:  # noqa: BLE001 - not numbers: that is the problem
        return "/ByteRange is not an array of integers"
    if len(raw) != 4:
        return f"/ByteRange has {len(raw)} numbers; a PDF signature has exactly 4"
    o1, l1, o2, l2 = raw
    if min(raw) < 0:
        return "/ByteRange contains a negative number"
    if o1 != 0:
        return f"/ByteRange starts at byte {o1}, not at the start of the file"
    if o2 <= l1:
        return "/ByteRange ranges overlap or touch: no gap for /Contents"
    if o2 + l2 > size:
        return f"/ByteRange runs to byte {o2 + l2}, past the end of the file ({size} bytes)"
    return None


def _hidden_update(reader: PdfFileReader, data: bytes, signed_end: int) -> str | None:
    """Bytes after ``signed_end`` that the cross-reference chain does not account for.

    A reader follows the last ``startxref`` and the ``/Prev`` chain; an update placed
    behind a fake trailer, an xref section skipped by ``/Prev`` or objects appended after
    the last ``%%EOF`` are invisible to it (and to pyHanko's difference analysis) while
    other readers, or object-scanning repairs, show them.
    """
    tail = data[signed_end:]
    if not tail.strip(b" \t\r\n\x00%EOF"):
        return None
    xrefs = reader.xrefs
    known: set[int] = set()
    for rev in range(xrefs.total_revisions):
        meta = xrefs.get_xref_container_info(rev)
        known.update({meta.declared_startxref, meta.start_location})
    for m in _STARTXREF.finditer(tail):
        if int(m.group(1)) not in known:
            return (
                f"an update at byte {signed_end + m.start()} points at a cross-reference "
                f"section ({int(m.group(1))}) that the document's chain skips"
            )
    last_eof = data.rfind(b"%%EOF")
    if last_eof >= 0 and data[last_eof + 5 :].strip(b" \t\r\n\x00"):
        return f"{len(data) - last_eof - 5} bytes follow the last %%EOF"
    return None


def _signed_attr_types(signer_info: cms.SignerInfo) -> list[str]:
    attrs = signer_info["signed_attrs"]
    if not attrs:
        return []
    return [str(a["type"].native) for a in attrs]


def _doubled_attrs(signer_info: cms.SignerInfo) -> _Verdict | None:
    """FORMAT_FAILURE when a signed attribute that may occur once occurs more often."""
    try:
        types = _signed_attr_types(signer_info)
    except Exception:  # noqa: BLE001 - unreadable attributes are judged elsewhere
        return None
    doubled = sorted({t for t in types if t in _SINGLE_ATTRS and types.count(t) > 1})
    if not doubled:
        return None
    return _Verdict(
        SubIndication.FORMAT_FAILURE,
        "thuộc tính được ký xuất hiện nhiều lần: " + ", ".join(doubled),
        "signed attribute(s) present more than once: " + ", ".join(doubled),
    )


def _cms_problem(
    signed_data: cms.SignedData, signer_cert: x509.Certificate, *, baseline: bool
) -> tuple[_Verdict | None, list[str]]:
    """Checks on the CMS structure before pyHanko validates it: (verdict, warnings).

    ``baseline``: the signature claims to be an AdES baseline signature (a PAdES
    ``ETSI.CAdES.detached`` signature, or a detached CAdES one), which must carry the
    signing-certificate(-v2) attribute. Legacy ``adbe.pkcs7.detached`` PDF signatures
    without it get a warning instead.
    """
    warnings: list[str] = []
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        return _Verdict(
            SubIndication.FORMAT_FAILURE,
            f"có {len(signer_infos)} SignerInfo (phải đúng một)",
            f"{len(signer_infos)} signer infos (exactly one expected)",
        ), warnings
    si = signer_infos[0]
    mechanism = si["signature_algorithm"].signature_algo
    key_algo = signer_cert.public_key.algorithm
    if key_algo not in _MECHANISM_KEYS.get(mechanism, {key_algo}):
        return _Verdict(
            SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
            f"thuật toán chữ ký {mechanism} không dùng được với khóa {key_algo.upper()}",
            f"signature algorithm {mechanism} cannot apply to a {key_algo.upper()} key",
        ), warnings
    types = _signed_attr_types(si)
    if not types:
        # verified all the same (integrity is a fact either way); what it lacks is the
        # policy's to judge (message-digest, signing-certificate, signing time)
        warnings.append(
            "The signature has no signed attributes (not CAdES/PAdES): nothing signed binds "
            "the signer's certificate, the content type or the signing time."
        )
        return None, warnings
    encoded = [bytes(a.dump()) for a in si["signed_attrs"]]
    if encoded != sorted(encoded):
        # DER orders a SET OF, and the signature is over the DER encoding (RFC 5652 5.4).
        # As EU DSS does, the attributes are re-encoded in DER order: a signature over
        # that encoding stands (some producers store them unsorted), one over the bytes as
        # stored does not (the ETSI plugtests call it HASH_FAILURE).
        der = b"".join(sorted(encoded))
        if not cms_forms.verifies_over(si, signer_cert, b"\x31" + _der_length(len(der)) + der):
            return _Verdict(
                SubIndication.HASH_FAILURE,
                "các thuộc tính được ký không được mã hóa DER (tập hợp không đúng thứ tự): "
                "chữ ký không phải trên bản mã hóa DER của chúng",
                "the signed attributes are not DER-encoded (their SET OF is out of order): "
                "the signature is not over their DER encoding",
            ), warnings
        si["signed_attrs"] = cms.CMSAttributes.load(b"\x31" + _der_length(len(der)) + der)
        warnings.append(
            "The signed attributes are stored out of DER order; the signature is over their "
            "DER encoding, which was verified (các thuộc tính được ký lưu không theo thứ tự "
            "DER; chữ ký đúng trên bản mã hóa DER của chúng)."
        )
    doubled = _doubled_attrs(si)
    if doubled is not None:
        return doubled, warnings
    # a missing signing-certificate attribute is judged by the policy's
    # "signing_certificate_present" constraint (verify.process)
    return None, warnings


def _exception_verdict(exc: BaseException) -> _Verdict | None:
    """pyHanko's own AdES reading of a validation error, when it says INDETERMINATE."""
    indic = getattr(exc, "ades_subindication", None)
    if indic is None or type(indic).__name__ != "AdESIndeterminate":
        return None
    sub = _sub(indic)
    if sub is SubIndication.GENERIC:
        return None
    return _Verdict(sub, _short(exc), _short(exc))


def _verdict_signature(
    index: int,
    field_name: str | None,
    sub_filter: str | None,
    verdict: _Verdict,
    *,
    kind: str = "signature",
    warnings: Sequence[str] = (),
) -> SignatureReport:
    """A report for a signature refused before (or instead of) pyHanko's validation."""
    vi, en = sentences(verdict.sub, verdict.reason_vi, verdict.reason_en)
    return SignatureReport(
        index=index,
        kind=kind,
        field_name=field_name,
        indication=verdict.indication,
        sub_indication=verdict.sub,
        message_vi=vi,
        message_en=en,
        sub_filter=sub_filter,
        integrity=False,
        warnings=tuple(warnings),
    )


def _verifies(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Does ``issuer``'s key verify ``cert``'s signature? (primitive check, no policy)"""
    from cryptography import x509 as pyca_x509

    try:
        child = pyca_x509.load_der_x509_certificate(cert.dump())
        child.verify_directly_issued_by(pyca_x509.load_der_x509_certificate(issuer.dump()))
    except Exception:  # noqa: BLE001 - any failure (or an unsupported algorithm) means "no"
        return False
    return True


def _prune_certificates(
    signer: x509.Certificate, certs: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    """The certificates that verifiably chain upward from ``signer``, when pruning is due.

    A CMS may carry thousands of unrelated certificates, or many CAs sharing a name
    without key identifiers so that a path builder matching by name tries every
    combination (width ** depth paths). Here each candidate issuer (same name as the
    issuer, same key identifier when both have one) must verify the certificate below it:
    one signature check per candidate, linear in the number of certificates. Small,
    unambiguous sets are returned unchanged.
    """
    subjects = [c.subject.dump() for c in certs]
    if len(certs) <= _PRUNE_ABOVE and len(set(subjects)) == len(subjects):
        return list(certs)
    by_subject: dict[bytes, list[x509.Certificate]] = {}
    for cert, subject in zip(certs, subjects, strict=True):
        by_subject.setdefault(subject, []).append(cert)
    kept: dict[bytes, x509.Certificate] = {}
    frontier = [signer]
    seen = {signer.dump()}
    while frontier and len(kept) < _MAX_PATH_WALK:
        cert = frontier.pop()
        aki = cert.authority_key_identifier
        for cand in by_subject.get(cert.issuer.dump(), []):
            der = cand.dump()
            if der in seen:
                continue
            ski = cand.key_identifier
            if aki is not None and ski is not None and aki != ski:
                continue
            if _verifies(cert, cand):
                seen.add(der)
                kept[der] = cand
                if cand.subject.dump() != cand.issuer.dump():
                    frontier.append(cand)
    return list(kept.values())


def _with_certificates(
    signed_data: cms.SignedData, certs: Sequence[x509.Certificate]
) -> cms.SignedData:
    """A copy of ``signed_data`` carrying only ``certs`` (certificates are not signed)."""
    copy = signed_data.copy()
    copy["certificates"] = cms.CertificateSet(
        [cms.CertificateChoices({"certificate": c}) for c in certs]
    )
    return copy


def _signed_end(emb: EmbeddedPdfSignature) -> int:
    o2, l2 = (int(x) for x in list(emb.byte_range)[2:4])
    return o2 + l2


def _failed_report(report: SignatureReport, reason_vi: str, reason_en: str) -> SignatureReport:
    """``report`` turned into TOTAL_FAILED / FORMAT_FAILURE for the reason given."""
    vi, en = sentences(SubIndication.FORMAT_FAILURE, reason_vi, reason_en)
    return replace(
        report,
        indication=Indication.TOTAL_FAILED,
        sub_indication=SubIndication.FORMAT_FAILURE,
        message_vi=vi,
        message_en=en,
    )
