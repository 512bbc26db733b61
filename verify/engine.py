"""The validation engine the format readers share: contexts, path validation, verdicts.

An :class:`Engine` holds one trust profile, one policy and one revocation cache. It makes
every ``ValidationContext`` (``esign`` gets its contexts here too, through
:meth:`verify.Verifier.validation_context`), checks a certificate at a time
(:meth:`Engine.acheck_certificate`), and turns pyHanko's status for a CMS-based signature
into one ETSI verdict (:meth:`Engine.judge_status`): the X.509 validation block run again
at the time the process accepted as proven (past signature validation), with the real
cause named where pyhanko-certvalidator folds several into one.

The readers in :mod:`verify.formats` read; :mod:`verify.process` judges their evidence
under the policy's constraints; this module validates what needs a live context.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import x509
from pyhanko.sign.ades.report import AdESSubIndic
from pyhanko.sign.validation.generic_cms import validate_cert_usage
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import (
    StandardCMSSignatureStatus,
    TimestampSignatureStatus,
)
from pyhanko.sign.validation.utils import CMSAlgorithmUsagePolicy
from pyhanko_certvalidator import ValidationContext, find_valid_path
from pyhanko_certvalidator.errors import (
    InsufficientRevinfoError,
    PathValidationError,
    StaleRevinfoError,
    ValidationError,
)
from pyhanko_certvalidator.policy_decl import DisallowWeakAlgorithmsPolicy
from pyhanko_certvalidator.registry import CertificateRegistry
from pyhanko_certvalidator.validate import async_validate_path

from verify import process
from verify.cache import CachingFetcherBackend, IssuerFetcher, RevocationCache
from verify.evidence import COLLECTING, Evidence
from verify.identity import SignerIdentity
from verify.policy import TIME_TOLERANCE, RevocationMode, ValidationPolicy
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

__all__ = [
    "ANY_USAGE",
    "CMS_ALGOS",
    "FAILED_SUBS",
    "KEY_USAGE",
    "SUPPLIED",
    "CertificateCheck",
    "Engine",
    "Verdict",
    "apply_judgement",
    "cert_info",
    "certificate_check",
    "common_name",
    "evidence_report",
    "failed_report",
    "indication_for",
    "path_certs",
    "short",
    "sub_of",
    "timestamp_report",
    "unchain",
]

_SIGNER_CHECKS_KEPT = 1024
"""XML signers' certificate checks an engine keeps (see :meth:`Engine.signer_check`)."""

FAILED_SUBS = frozenset(
    {
        SubIndication.FORMAT_FAILURE,
        SubIndication.HASH_FAILURE,
        SubIndication.SIG_CRYPTO_FAILURE,
        SubIndication.REVOKED,
        SubIndication.EXPIRED,
        SubIndication.NOT_YET_VALID,
    }
)
"""Sub-indications that make a signature TOTAL_FAILED; the rest are INDETERMINATE."""

_Timestamp = TypeVar("_Timestamp", bound=TimestampSignatureStatus)
_Status = TypeVar("_Status", bound=StandardCMSSignatureStatus)

# What pyhanko-certvalidator says of a path whose revocation data is missing or not
# current (it folds that into the general failure when revocation is required).
_STALE_REVOCATION = frozenset(
    {
        SubIndication.TRY_LATER,
        SubIndication.REVOCATION_OUT_OF_BOUNDS_NO_POE,
        SubIndication.OUT_OF_BOUNDS_NOT_REVOKED,
        SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
    }
)

# ... and of a certificate outside its validity at the validation time.
_OUT_OF_VALIDITY = frozenset(
    {SubIndication.OUT_OF_BOUNDS_NO_POE, SubIndication.EXPIRED, SubIndication.GENERIC}
)

# What pyHanko/certvalidator say, in our vocabulary.
_ADES_MAP: dict[str, SubIndication] = {s.name: s for s in SubIndication}

KEY_USAGE = KeyUsageConstraints(
    key_usage=frozenset({"digital_signature", "non_repudiation"}),
    match_all_key_usages=False,
)
"""The signer's certificate must allow signing: either usage is enough. Used where a
certificate is checked before signing (esign); when a signature is validated, the
policy's constraints judge key usage (:mod:`verify.process`), so pyHanko is asked for
none (:data:`ANY_USAGE`)."""
ANY_USAGE = KeyUsageConstraints()

# Let certvalidator accept SHA-1 and RSA >= 1024 at the primitive level: our own dated
# algorithm rules (verify.policy.AlgorithmRules) decide, with the proven signing time.
PERMISSIVE_ALGOS = DisallowWeakAlgorithmsPolicy(  # type: ignore[no-untyped-call]
    weak_hash_algos=frozenset({"md2", "md5"}),
    rsa_key_size_threshold=1024,
)
CMS_ALGOS = CMSAlgorithmUsagePolicy.lift_policy(PERMISSIVE_ALGOS)

SUPPLIED: contextvars.ContextVar[Evidence | None] = contextvars.ContextVar(
    "hoso_supplied", default=None
)
"""The stored evidence supplied for replaying the document being verified offline."""


def sub_of(indic: AdESSubIndic | None) -> SubIndication:
    if indic is None:
        return SubIndication.GENERIC
    name = getattr(indic, "name", str(indic))
    return _ADES_MAP.get(name, SubIndication.GENERIC)


def indication_for(sub: SubIndication | None) -> Indication:
    if sub is None:
        return Indication.TOTAL_PASSED
    return Indication.TOTAL_FAILED if sub in FAILED_SUBS else Indication.INDETERMINATE


def cert_info(cert: x509.Certificate) -> CertificateInfo:
    return CertificateInfo(
        subject=cert.subject.human_friendly,
        issuer=cert.issuer.human_friendly,
        serial_number=format(cert.serial_number, "X"),
        sha256=fingerprint(cert),
        not_before=cert.not_valid_before,
        not_after=cert.not_valid_after,
    )


@dataclass
class Verdict:
    """A verdict so far: a sub-indication (None: passed) and its cause in both languages."""

    sub: SubIndication | None
    reason_vi: str = ""
    reason_en: str = ""

    @property
    def indication(self) -> Indication:
        return indication_for(self.sub)


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


def certificate_check(
    verdict: Verdict, cert: x509.Certificate, path: Any, profile: Hierarchy | None
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
        chain=tuple(cert_info(c) for c in certs),
        profile=profile,
    )


def _clause(text: str, limit: int = 300) -> str:
    """``text`` on one line, cut after its last whole clause (``;``) within ``limit``."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind("; ", 0, limit)
    return (text[:cut] if cut > 0 else text[:limit].rstrip()) + " …"


def short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def apply_judgement(report: SignatureReport, judgement: process.Judgement) -> SignatureReport:
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
        decisive = indication_for(finding.sub)
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


def unchain(
    chain: Sequence[CertificateInfo], offered: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    """The certificates of a reported chain (signer first), found among those offered
    (the signature's and the trust profile's), matched by SHA-256 (only the certificates
    whose serial number is in the chain are hashed)."""
    serials = {info.serial_number for info in chain}
    known: dict[str, x509.Certificate] = {}
    for cert in offered:
        if format(cert.serial_number, "X") in serials:
            known.setdefault(hashlib.sha256(cert.dump()).hexdigest(), cert)
    return [known[c.sha256] for c in chain if c.sha256 in known]


def path_certs(status: Any) -> list[x509.Certificate]:
    path = getattr(status, "validation_path", None)
    if path is None:
        cert = getattr(status, "signing_cert", None)
        return [cert] if cert is not None else []
    try:
        certs = list(path.iter_certs(include_root=True))
        return list(reversed(certs))
    except Exception:  # noqa: BLE001
        return []


def common_name(cert: x509.Certificate | None) -> str | None:
    if cert is None:
        return None
    try:
        return str(cert.subject.native.get("common_name") or cert.subject.human_friendly)
    except Exception:  # noqa: BLE001
        return None


def failed_report(report: SignatureReport, reason_vi: str, reason_en: str) -> SignatureReport:
    """``report`` turned into TOTAL_FAILED / FORMAT_FAILURE for the reason given."""
    vi, en = sentences(SubIndication.FORMAT_FAILURE, reason_vi, reason_en)
    return replace(
        report,
        indication=Indication.TOTAL_FAILED,
        sub_indication=SubIndication.FORMAT_FAILURE,
        message_vi=vi,
        message_en=en,
    )


def _time_dependent(status: StandardCMSSignatureStatus) -> bool:
    sub = sub_of(status.trust_problem_indic) if status.trust_problem_indic else None
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


REVOKED_AFTER_PROOF = "revoked after the time the signature timestamp proves: the signature stands"
"""The revocation note of a signature whose certificate was revoked after its proven
signing time (past signature validation: it passes)."""


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


def timestamp_report(
    kind: str, ts: TimestampSignatureStatus, *, intact: bool | None = None
) -> TimestampReport:
    """The report line of a timestamp pyHanko validated; ``intact`` overrides pyHanko's
    imprint check when the reader checked the imprint itself (XAdES)."""
    if not (ts.intact if intact is None else intact):
        sub: SubIndication | None = SubIndication.HASH_FAILURE
    elif not ts.valid:
        sub = SubIndication.SIG_CRYPTO_FAILURE
    elif not ts.trusted:
        sub = (
            sub_of(ts.trust_problem_indic)
            if ts.trust_problem_indic
            else (SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
        )
    else:
        sub = None
    return TimestampReport(
        kind=kind,
        time=ts.timestamp,
        tsa=common_name(ts.signing_cert),
        indication=indication_for(sub),
        sub_indication=sub,
        message_en="trusted timestamp" if sub is None else f"timestamp not accepted: {sub}",
    )


def evidence_report(ts: process.TimestampEvidence) -> TimestampReport | None:
    """The report line of a timestamp a reader found itself (archive timestamps), or None
    when it has no time to show (its label then says why, in a warning)."""
    if ts.time is None:
        return None
    sub: SubIndication | None = None
    if not ts.intact:
        sub = SubIndication.HASH_FAILURE
    elif not ts.valid:
        sub = SubIndication.SIG_CRYPTO_FAILURE
    elif not ts.trusted:
        sub = SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    return TimestampReport(
        kind=ts.kind,
        time=ts.time,
        tsa=common_name(ts.tsa_cert),
        indication=indication_for(sub),
        sub_indication=sub,
        message_en="trusted timestamp" if sub is None else f"timestamp not accepted: {ts.label}",
    )


class Engine:
    """What every format reader validates with: one trust profile, one policy, one
    revocation cache, and the validation contexts made from them.

    Readers hand it pyHanko's status for a CMS-based signature (:meth:`judge_status`) or a
    certificate to check (:meth:`acheck_certificate`); it validates the path at the time
    the process accepted as proven and names the cause of every failure.
    """

    def __init__(
        self,
        trust: TrustProfile,
        policy: ValidationPolicy,
        cache: RevocationCache,
        *,
        evidence_in: Path | None = None,
    ) -> None:
        self.trust = trust
        self.policy = policy
        self.cache = cache
        self.evidence_in = evidence_in
        self._fetcher_backend = CachingFetcherBackend(
            self.cache, per_request_timeout=self.policy.fetch_timeout
        )
        self._signer_checks: OrderedDict[tuple[Any, ...], CertificateCheck] = OrderedDict()
        self._signer_checks_lock = threading.Lock()  # threads share a verifier's engine

    def forked(self) -> None:
        """In a process forked from the one that made this engine: keep the cached
        answers, but open connections of its own."""
        self._fetcher_backend = CachingFetcherBackend(
            self.cache, per_request_timeout=self.policy.fetch_timeout
        )

    def context(
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
        supplied = SUPPLIED.get()
        if supplied is not None:
            other_certs = [*other_certs, *supplied.certificates]
            crls = [*crls, *supplied.crls]
            ocsps = [*ocsps, *supplied.ocsps]
        # A missing issuer comes from the cache (offline too), or from its AIA address when
        # the policy allows the network, checked before it is kept (verify.cache).
        issuers = IssuerFetcher(
            self.cache, network=self.policy.network, timeout=self.policy.fetch_timeout
        )
        registry = CertificateRegistry.build(
            [*kwargs["other_certs"], *other_certs], cert_fetcher=issuers
        )
        vc = ValidationContext(
            trust_roots=kwargs["trust_roots"],
            certificate_registry=registry,
            moment=moment,
            allow_fetching=fetch,
            fetchers=self._fetcher_backend.get_fetchers(moment) if fetch else None,
            crls=list(crls),
            ocsps=list(ocsps),
            revocation_mode=mode,
            retroactive_revinfo=retroactive,
            algorithm_usage_policy=PERMISSIVE_ALGOS,
            time_tolerance=TIME_TOLERANCE,
        )
        gathered = COLLECTING.get()
        if gathered is not None:
            gathered.append(vc)
        return vc

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
        return self.context(
            moment or self.policy.moment(), other_certs=other_certs, crls=crls, ocsps=ocsps
        )

    @contextlib.contextmanager
    def supplying(self, data: bytes, *, sha256: str | None = None) -> Iterator[None]:
        """Make the stored evidence for this document available to its validation
        (``sha256``: the document's hex SHA-256, when it is read from a file in pieces)."""
        if self.evidence_in is None:
            yield
            return
        digest = sha256 or hashlib.sha256(data).hexdigest()
        token = SUPPLIED.set(Evidence.read(self.evidence_in, digest))
        try:
            yield
        finally:
            SUPPLIED.reset(token)

    async def acheck_certificate(
        self,
        cert: x509.Certificate,
        intermediates: Sequence[x509.Certificate] = (),
        *,
        at: datetime | None = None,
        crls: Sequence[Any] = (),
        ocsps: Sequence[Any] = (),
        retroactive: bool = False,
    ) -> CertificateCheck:
        """Would a signature by ``cert`` made at ``at`` (default: now) verify?

        Checks the path to this verifier's trust profile, validity at that time, key usage
        (digitalSignature or nonRepudiation), revocation per the policy, and the algorithm
        rules. Used by ``esign`` before it produces anything, by sign-in by certificate,
        and for XML signers (with the revocation values they carry; ``retroactive``: data
        issued after ``at``, a proven time, speaks of it).
        """
        moment = at or self.policy.moment()
        vc = self.context(
            moment, other_certs=intermediates, crls=crls, ocsps=ocsps, retroactive=retroactive
        )
        try:
            result = await validate_cert_usage(
                cert,
                vc,
                key_usage_settings=KEY_USAGE,
                paths=vc.path_builder.async_build_paths_lazy(cert),
            )
        except Exception as exc:  # noqa: BLE001 - hostile certificates end in a verdict
            return certificate_check(
                Verdict(SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE, short(exc), short(exc)),
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
        verdict: Verdict
        if result.error_subindic is None:
            verdict = Verdict(None)
            algo_problems = []
            rules = self.policy.algorithms
            for c in list(path.iter_certs(include_root=False)) if path else [cert]:
                algo, bits = process.key_bits(c)
                if rules.key_verdict(algo, bits, moment) or rules.digest_verdict(
                    c.hash_algo, moment
                ):
                    algo_problems.append(f"{algo.upper()} {bits}-bit / {c.hash_algo.upper()}")
            if algo_problems:
                verdict = Verdict(
                    SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
                    "thuật toán yếu: " + ", ".join(algo_problems),
                    "weak algorithm: " + ", ".join(algo_problems),
                )
        else:
            sub = sub_of(result.error_subindic)
            if result.revo_details is not None:
                sub = SubIndication.REVOKED
            elif sub is SubIndication.OUT_OF_BOUNDS_NO_POE:
                sub = (
                    SubIndication.NOT_YET_VALID
                    if moment < cert.not_valid_before
                    else SubIndication.EXPIRED
                )
            verdict = Verdict(sub)
            if sub in (SubIndication.NO_CERTIFICATE_CHAIN_FOUND, SubIndication.GENERIC):
                vi, en = self.no_chain(cert, intermediates)
                verdict = Verdict(SubIndication.NO_CERTIFICATE_CHAIN_FOUND, vi, en)
            elif sub is SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE:
                named = await self._chain_problem(
                    cert, moment, intermediates, crls, ocsps, retroactive=retroactive
                )
                verdict = named or verdict
        return certificate_check(verdict, cert, path, anchor_profile)

    async def signer_check(
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
            or SUPPLIED.get() is not None
        ):
            return await self.acheck_certificate(cert, carried, at=moment)
        key = (cert.dump(), tuple(c.dump() for c in carried), moment)
        with self._signer_checks_lock:
            found = self._signer_checks.get(key)
            if found is not None:
                self._signer_checks.move_to_end(key)
                return found
        found = await self.acheck_certificate(cert, carried, at=moment)
        if found.ok:
            with self._signer_checks_lock:
                self._signer_checks[key] = found
                self._signer_checks.move_to_end(key)
                while len(self._signer_checks) > _SIGNER_CHECKS_KEPT:
                    self._signer_checks.popitem(last=False)
        return found

    def no_chain(
        self, cert: x509.Certificate, carried: Sequence[x509.Certificate]
    ) -> tuple[str, str]:
        """Why no path leads from ``cert`` to an anchor; when the missing issuer's address
        was tried and failed, what the address answered (refused, timed out, HTTP 404,
        not a certificate, not the issuer)."""

        def failed(url: str) -> tuple[str, str] | None:
            found = self.cache.failure(url)
            return None if found is None else (found.reason_vi, found.reason_en)

        return process.no_chain_reason(
            cert,
            carried,
            self.trust.anchors,
            self.trust.intermediates,
            profile=self.trust.name,
            network=self.policy.network,
            fetched=self.cache.certificates_from,
            failed=failed,
        )

    def document(
        self,
        path: str | None,
        data: bytes,
        fmt: str,
        moment: datetime,
        signatures: Sequence[SignatureReport],
        verdict: Verdict | None,
        warnings: Sequence[str],
        sha256: str | None = None,
        *,
        size: int | None = None,
    ) -> DocumentReport:
        """The document's report; ``sha256`` is the hex SHA-256 of ``data`` if known.
        A document read from a file piece by piece gives ``size`` and ``sha256`` (its
        ``data`` is then empty: never held in memory whole)."""
        if verdict is None:
            report = DocumentReport.from_signatures(
                path, data, fmt, moment, signatures, warnings, sha256
            )
            return report if size is None else replace(report, size=size)
        digest = sha256 or hashlib.sha256(data).hexdigest()
        vi, en = sentences(verdict.sub, verdict.reason_vi, verdict.reason_en)
        return DocumentReport(
            path=path,
            size=len(data) if size is None else size,
            sha256=digest if data or size else None,
            format=fmt,
            indication=verdict.indication,
            sub_indication=verdict.sub,
            message_vi=vi,
            message_en=en,
            signatures=tuple(signatures),
            validation_time=moment,
            warnings=tuple(warnings),
        )

    async def timestamp_at_its_time(
        self,
        ts: _Timestamp,
        moment: datetime,
        *,
        other_certs: Sequence[x509.Certificate] = (),
        crls: Sequence[Any] = (),
        ocsps: Sequence[Any] = (),
        proven_by_later: datetime | None = None,
    ) -> _Timestamp:
        """A timestamp whose TSA path failed at the validation time, validated again at the
        token's own time when the long-term validation of ETSI EN 319 102-1 (and EU DSS)
        allows it; else ``ts`` unchanged.

        - **Revocation data gone stale.** An archived B-LT or LTA document carries the TSA's
          OCSP responses and CRLs, issued after the token was made; years later they are
          past their nextUpdate, so a path validated now finds no current revocation data.
          Revocation data issued after the token's time is fresh enough for it. Only a TSA
          certificate still within its validity at the validation time and not known
          revoked is reconsidered this way.
        - **A later timestamp over it** (``proven_by_later``: the time of a later, trusted
          document or archive timestamp that covers this token) proves the token existed
          then. If the TSA certificate was still valid and not known revoked at that time,
          an expired (or since revoked) TSA no longer takes the token's proof away: this
          is what renewing an archive timestamp chain is for.

        The token's imprint and signature must hold either way; the path is validated at
        the token's genTime with the revocation data the document carries.
        """
        if (
            ts.trusted
            or not (ts.intact and ts.valid)
            or ts.timestamp is None
            or ts.trust_problem_indic is None
        ):
            return ts
        sub = sub_of(ts.trust_problem_indic)
        cert = ts.signing_cert
        revoked = ts.revocation_details
        revoked_at = getattr(revoked, "revocation_date", None) if revoked is not None else None
        if (
            proven_by_later is not None
            and ts.timestamp <= proven_by_later <= cert.not_valid_after
            and sub in _STALE_REVOCATION | _OUT_OF_VALIDITY | {SubIndication.REVOKED_NO_POE}
            and (revoked is None or (revoked_at is not None and revoked_at > proven_by_later))
        ):
            pass
        elif not (
            sub in _STALE_REVOCATION
            and revoked is None
            and cert.not_valid_before <= moment <= cert.not_valid_after
        ):
            return ts
        path = await self._path_at(cert, ts.timestamp, other_certs, crls, ocsps)
        if path is None:
            return ts
        return replace(
            ts,
            trust_problem_indic=None,
            validation_path=path,
            revocation_details=None,
            validation_time=ts.timestamp,
        )

    async def tsa_trusted_at(
        self,
        cert: x509.Certificate,
        at: datetime,
        *,
        other_certs: Sequence[x509.Certificate] = (),
        crls: Sequence[Any] = (),
        ocsps: Sequence[Any] = (),
    ) -> bool:
        """Whether a TSA's path validates at ``at`` (a token's genTime) with revocation data
        issued after it (see :meth:`timestamp_at_its_time`), for readers that judge a
        token themselves (archive timestamps)."""
        return await self._path_at(cert, at, other_certs, crls, ocsps) is not None

    async def _path_at(
        self,
        cert: x509.Certificate,
        at: datetime,
        other_certs: Sequence[x509.Certificate],
        crls: Sequence[Any],
        ocsps: Sequence[Any],
    ) -> Any:
        """A TSA certificate's validation path at ``at`` with revocation data issued after
        it allowed (retroactive), or None when it does not validate."""
        vc = self.context(at, other_certs=other_certs, crls=crls, ocsps=ocsps, retroactive=True)
        try:
            result = await validate_cert_usage(
                cert,
                vc,
                key_usage_settings=ANY_USAGE,
                paths=vc.path_builder.async_build_paths_lazy(cert),
            )
        except Exception:  # noqa: BLE001 - it does not validate
            return None
        return result.success_result if result.error_subindic is None else None

    async def timestamps_at_their_time(
        self,
        status: _Status,
        moment: datetime,
        *,
        other_certs: Sequence[x509.Certificate] = (),
        crls: Sequence[Any] = (),
        ocsps: Sequence[Any] = (),
        proven_by_later: datetime | None = None,
    ) -> _Status:
        """``status`` with its signature and content timestamps passed through
        :meth:`timestamp_at_its_time`."""
        changes: dict[str, Any] = {}
        for name in ("timestamp_validity", "content_timestamp_validity"):
            ts = getattr(status, name, None)
            if ts is None:
                continue
            again = await self.timestamp_at_its_time(
                ts,
                moment,
                other_certs=other_certs,
                crls=crls,
                ocsps=ocsps,
                proven_by_later=proven_by_later,
            )
            if again is not ts:
                changes[name] = again
        return replace(status, **changes) if changes else status

    async def judge_status(
        self,
        status: StandardCMSSignatureStatus,
        signer_cert: x509.Certificate,
        moment: datetime,
        *,
        proven: datetime | None,
        other_certs: Sequence[x509.Certificate] = (),
        crls: Sequence[Any] = (),
        ocsps: Sequence[Any] = (),
    ) -> tuple[Verdict, datetime | None, RevocationReport, StandardCMSSignatureStatus]:
        """Turn pyHanko's status into one ETSI verdict, validating at the proven time
        (``proven``: the best proof of existence the process accepted; see
        :func:`verify.process.proof_of_existence`)."""
        mode = self.policy.revocation.value
        if not status.intact:
            return (
                Verdict(SubIndication.HASH_FAILURE),
                proven,
                RevocationReport(mode, False),
                status,
            )
        if not status.valid:
            return (
                Verdict(SubIndication.SIG_CRYPTO_FAILURE),
                proven,
                RevocationReport(mode, False),
                status,
            )
        # A timestamp that fails proves nothing (the process set it aside and said why);
        # the signature itself is judged on what remains proven.
        algo = self._algorithm_verdict(status, signer_cert, proven)
        if proven is not None and proven < signer_cert.not_valid_before:
            return (
                Verdict(SubIndication.NOT_YET_VALID),
                proven,
                RevocationReport(mode, False),
                status,
            )
        late = process.out_of_bounds([signer_cert], moment, proven)
        if proven is not None and late is not None and proven > signer_cert.not_valid_after:
            verdict = Verdict(late.sub, late.reason_vi, late.reason_en)
            return verdict, proven, RevocationReport(mode, False), status

        chain_status = status
        if not status.trusted and proven is not None and _time_dependent(status):
            # Validate the chain again at the time the timestamp proves (past validation):
            # revocation information issued after that time may speak of it.
            vc = self.context(
                proven,
                other_certs=other_certs,
                crls=crls,
                ocsps=ocsps,
                retroactive=True,
            )
            try:
                result = await validate_cert_usage(
                    signer_cert,
                    vc,
                    key_usage_settings=ANY_USAGE,
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
            verdict = algo or Verdict(None)
            if revocation.checked is False and self.policy.revocation is RevocationMode.SOFT:
                revocation = RevocationReport(
                    mode, False, note="no revocation information could be obtained"
                )
            later = status.revocation_details.revocation_date if status.revocation_details else None
            if chain_status is not status and proven is not None and later and later > proven:
                # valid at the proven time; the revocation found at the validation time
                # came after it: the signature stands, and the report says so
                revocation = replace(revocation, revoked_at=later, note=REVOKED_AFTER_PROOF)
            return verdict, proven, revocation, chain_status
        return (
            await self._trust_verdict(
                chain_status,
                proven,
                moment=chain_status.validation_time or moment,
                other_certs=other_certs,
                crls=crls,
                ocsps=ocsps,
                retroactive=chain_status is not status,
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
        retroactive: bool = False,
    ) -> Verdict:
        indic = st.trust_problem_indic
        sub = sub_of(indic)
        details = st.revocation_details
        if sub in (SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE, SubIndication.GENERIC):
            # certvalidator folds several causes into this one; name the real one.
            certs = path_certs(st) or [st.signing_cert]
            oob = process.out_of_bounds(certs, moment, proven)
            if oob is not None:
                return Verdict(oob.sub, oob.reason_vi, oob.reason_en)
            constraint = await self._constraint_problem(st, moment)
            if constraint is not None:
                return Verdict(
                    SubIndication.CHAIN_CONSTRAINTS_FAILURE,
                    f"chuỗi chứng thư số vi phạm ràng buộc ({constraint})",
                    f"the certificate path breaks a constraint ({constraint})",
                )
            if self.policy.revocation is RevocationMode.HARD and await self._passes_without_revinfo(
                st.signing_cert, moment, other_certs, crls, ocsps
            ):
                return Verdict(
                    SubIndication.TRY_LATER,
                    "không có thông tin thu hồi (OCSP/CRL) cho chuỗi chứng thư số",
                    "no revocation information (OCSP/CRL) for the certificate chain",
                )
            if sub is SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE:
                reason = await self._chain_problem(
                    st.signing_cert, moment, other_certs, crls, ocsps, retroactive=retroactive
                )
                if reason is not None:
                    return reason
        if st.revoked or sub in (SubIndication.REVOKED, SubIndication.REVOKED_NO_POE):
            revoked_at = details.revocation_date if details is not None else None
            signed_at = proven or st.signer_reported_dt
            if details is not None and details.ca_revoked:
                return Verdict(SubIndication.REVOKED_CA_NO_POE)
            if revoked_at is not None and signed_at is not None and signed_at < revoked_at:
                return Verdict(SubIndication.REVOKED_NO_POE)
            return Verdict(SubIndication.REVOKED)
        if sub in (SubIndication.OUT_OF_BOUNDS_NO_POE, SubIndication.EXPIRED):
            cert = st.signing_cert
            if proven is not None and proven < cert.not_valid_before:
                return Verdict(SubIndication.NOT_YET_VALID)
            late = process.out_of_bounds([cert], moment, proven)
            if late is not None:
                return Verdict(late.sub, late.reason_vi, late.reason_en)
            return Verdict(SubIndication.OUT_OF_BOUNDS_NO_POE)
        if sub is SubIndication.NOT_YET_VALID:
            return Verdict(SubIndication.NOT_YET_VALID)
        if sub is SubIndication.NO_CERTIFICATE_CHAIN_FOUND or sub is SubIndication.GENERIC:
            vi, en = self.no_chain(st.signing_cert, other_certs)
            return Verdict(SubIndication.NO_CERTIFICATE_CHAIN_FOUND, vi, en)
        if sub is SubIndication.TRY_LATER:
            return Verdict(
                SubIndication.TRY_LATER,
                "không có thông tin thu hồi (OCSP/CRL)",
                "no revocation information (OCSP/CRL) was available",
            )
        if sub is SubIndication.CHAIN_CONSTRAINTS_FAILURE:
            return Verdict(
                sub,
                "chứng thư số không được phép dùng để ký (key usage) hoặc vi phạm ràng buộc",
                "the certificate may not be used for signing (key usage) or breaks a "
                "path constraint",
            )
        if sub is SubIndication.SIG_CONSTRAINTS_FAILURE:
            return Verdict(
                sub,
                "chứng thư số không có mục đích sử dụng ký số",
                "the certificate's key usage does not allow signing",
            )
        name = getattr(indic, "name", str(indic))
        return Verdict(sub, name, name)

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
        soft = Engine(
            self.trust,
            self.policy.replace(revocation=RevocationMode.SOFT, network=False),
            self.cache,
        )
        vc = soft.context(moment)
        try:
            await async_validate_path(vc, path)
        except PathValidationError as exc:
            return short(exc) if type(exc) is PathValidationError else None
        except Exception:  # noqa: BLE001 - anything else is not a structural verdict
            return None
        return None

    async def _chain_problem(
        self,
        cert: x509.Certificate,
        moment: datetime,
        other_certs: Sequence[x509.Certificate],
        crls: Sequence[Any],
        ocsps: Sequence[Any],
        *,
        retroactive: bool,
    ) -> Verdict | None:
        """The verdict, and why in both languages, on a path that pyHanko folds into
        CERTIFICATE_CHAIN_GENERAL_FAILURE and no check above explains: the same path search
        again, under the same policy and with the same certificates and revocation data,
        with certvalidator's own words kept (revocation data that is there but cannot be
        used, its signer not validated or issued too late, named as such). The
        sub-indication stays CERTIFICATE_CHAIN_GENERAL_FAILURE: the process judges it
        further (an expired signer without proof of existence, say). None when it does
        not fail again."""
        vc = self.context(
            moment, other_certs=other_certs, crls=crls, ocsps=ocsps, retroactive=retroactive
        )
        try:
            await find_valid_path(
                cert, vc.path_builder.async_build_paths_lazy(cert), validation_context=vc
            )
        except ValidationError as exc:
            words = _clause(exc.failure_msg or str(exc))
            if isinstance(exc, InsufficientRevinfoError | StaleRevinfoError):
                return Verdict(
                    SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
                    "không có thông tin thu hồi (OCSP/CRL) dùng được cho thời điểm kiểm tra: "
                    + words,
                    "no usable revocation information (OCSP/CRL) for the validation time: " + words,
                )
            return Verdict(
                SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
                f"đường dẫn chứng thư số không hợp lệ: {words}",
                words,
            )
        except Exception:  # noqa: BLE001 - no reason to give: the verdict stands as it is
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
        soft = Engine(
            self.trust,
            self.policy.replace(revocation=RevocationMode.SOFT, network=False),
            self.cache,
        )
        vc = soft.context(moment, other_certs=other_certs, crls=crls, ocsps=ocsps)
        try:
            result = await validate_cert_usage(
                cert,
                vc,
                key_usage_settings=KEY_USAGE,
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
    ) -> Verdict | None:
        rules = self.policy.algorithms
        worst_verdict: Verdict | None = None
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
            algo, bits = process.key_bits(cert)
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
                worst_verdict = Verdict(sub, vi, en)
        return worst_verdict

    def signature_report(
        self,
        *,
        index: int,
        kind: str,
        field_name: str | None,
        sub_filter: str | None,
        status: StandardCMSSignatureStatus,
        verdict: Verdict,
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
        chain_certs = path_certs(chain_status)
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
            timestamps.append(timestamp_report("signature", ts))
        cts = getattr(status, "content_timestamp_validity", None)
        if cts is not None:
            timestamps.append(timestamp_report("content", cts))
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
            chain=tuple(cert_info(c) for c in chain_certs) or (cert_info(status.signing_cert),),
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
