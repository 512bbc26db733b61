"""The validation process: the constraints every signature passes, whatever its format.

Format readers (PDF, detached CMS, XMLDSig) collect what a signature carries into one
neutral :class:`SignatureEvidence`: the signer's certificate and path, the claimed time,
every timestamp with what it proves, every revocation value wherever the format keeps it,
the signed attributes that identify the signer. This module judges that evidence under the
policy's constraints (:data:`verify.policy.CONSTRAINTS`), the same way for every format,
and records each check with its level and result, so that a report can show an auditor
why. A new format adds a reader; it never adds a rule here.

The building blocks are those of ETSI EN 319 102-1 (the names EU DSS uses): ISC
(identification of the signing certificate), XCV (X.509 certificate validation), CV
(cryptographic verification), SAV (signature acceptance validation) and POE (proof of
existence collected from timestamps). Path building and the signature's cryptography are
pyhanko-certvalidator's and pyHanko's; their outcome comes in as the verdict so far.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asn1crypto import cms, core, crl, ocsp, x509
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp as cocsp

from verify.policy import CONSTRAINTS, Level, ValidationPolicy
from verify.report import ConstraintResult, SubIndication

__all__ = [
    "DOCUMENT_SIGNING_PURPOSES",
    "Finding",
    "Judgement",
    "Revocation",
    "SignatureEvidence",
    "TimestampEvidence",
    "find_revocation",
    "judge",
    "no_chain_reason",
    "out_of_bounds",
    "proof_of_existence",
    "revocation_values",
]

# extendedKeyUsage purposes accepted for signing documents, when a certificate lists any.
# clientAuth is there because Vietnamese CAs issue signing certificates (USB tokens,
# signing SIMs) with clientAuth + emailProtection; serverAuth alone (a TLS server's
# certificate), codeSigning, timeStamping or OCSPSigning is not a document signer.
DOCUMENT_SIGNING_PURPOSES: dict[str, str] = {
    "2.5.29.37.0": "anyExtendedKeyUsage",
    "1.3.6.1.5.5.7.3.2": "clientAuth",
    "1.3.6.1.5.5.7.3.4": "emailProtection",
    "1.3.6.1.5.5.7.3.36": "documentSigning",
    "1.2.840.113583.1.1.5": "Adobe authenticDocumentsTrust",
    "1.3.6.1.4.1.311.10.3.12": "Microsoft documentSigning",
    "1.3.6.1.4.1.311.10.3.1": "Microsoft trustListSigning",
}
_TIME_STAMPING = "1.3.6.1.5.5.7.3.8"
_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9"


@dataclass(frozen=True)
class TimestampEvidence:
    """One timestamp token and what the reader found about it."""

    kind: str
    """``signature``, ``content``, ``document`` or ``archive``."""
    time: datetime | None
    intact: bool
    """Its message imprint matches the data it claims to be over."""
    valid: bool
    """Its own signature verifies."""
    trusted: bool
    """Its TSA's certificate path validates under the trust profile."""
    tsa_cert: x509.Certificate | None = None
    digest_algorithms: tuple[str, ...] = ()
    """The message imprint's and the token signature's digest algorithms."""
    label: str = ""
    """How a report names it (a field name, "signature timestamp")."""


@dataclass(frozen=True)
class Revocation:
    """Revocation values carried by a signature or document, wherever the format keeps
    them (CMS ``crls`` and ``otherRevInfo``, ``adbe-revocationInfoArchival``, the PDF DSS),
    and fetched or cached ones, each with where it came from."""

    crls: tuple[tuple[crl.CertificateList, str], ...] = ()
    ocsps: tuple[tuple[ocsp.OCSPResponse, str], ...] = ()

    def __add__(self, other: Revocation) -> Revocation:
        return Revocation(self.crls + other.crls, self.ocsps + other.ocsps)


@dataclass(frozen=True)
class SignatureEvidence:
    """What one signature carries, in one shape for every format."""

    format: str
    """``pdf``, ``cms`` or ``xml``."""
    signer_cert: x509.Certificate
    path: tuple[x509.Certificate, ...] = ()
    """The signer's path as far as it was built: signer first, then its issuers."""
    other_certs: tuple[x509.Certificate, ...] = ()
    """Every other certificate the signature, document or trust profile offers."""
    claimed_time: datetime | None = None
    timestamps: tuple[TimestampEvidence, ...] = ()
    """Signature and content timestamps, and document timestamps that cover it."""
    revocation: Revocation = field(default_factory=Revocation)
    signing_certificate_attribute: bool | None = None
    """The ESS signing-certificate(-v2) attribute is present (None: the format has none)."""
    message_digest_attribute: bool | None = None
    """The message-digest signed attribute is present (None: the format has none)."""
    changes_not_analysed: str | None = None
    """PDF: why the changes after this signature could not be analysed (None: they were,
    or there are none)."""
    xml_reading: str | None = None
    """XML: ``strict`` or ``dotnet``, the reading of the enveloped transform that verified."""
    role: str | None = None
    """XML: the signer's role by its place (seller, tax_authority, ...)."""
    covers: tuple[str, ...] = ()
    expected_cover: str | None = None
    """XML: the element the signature's place calls for (DLHDon, MCCQT), if any."""
    hierarchy: str | None = None
    """The Vietnamese hierarchy (``public``, ``specialized``) of the anchor the signer's
    path reached, when the trust profile knows it."""
    tax_code_mismatch: tuple[str, str] | None = None
    """E-invoice: (the seller MST in DLHDon, the MST in the seller's certificate) when they
    differ."""


@dataclass(frozen=True)
class Finding:
    """A constraint that failed at level FAIL: the verdict it gives."""

    sub: SubIndication
    reason_vi: str
    reason_en: str


@dataclass
class Judgement:
    """What :func:`judge` concluded: the checks made, the warnings, and the first failure
    at level FAIL (if any)."""

    results: list[ConstraintResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failure: Finding | None = None
    proven: datetime | None = None
    """The best proof of existence of the signature (earliest acceptable timestamp)."""
    proven_by: str | None = None

    def check(
        self,
        policy: ValidationPolicy,
        cid: str,
        problem: tuple[str, str] | None,
        *,
        sub: SubIndication = SubIndication.SIG_CONSTRAINTS_FAILURE,
        applicable: bool = True,
    ) -> bool:
        """Record constraint ``cid``; ``problem`` is (vi, en) when it failed. Returns
        whether the failure counts as a failure (level FAIL)."""
        level = policy.level(cid)
        constraint = CONSTRAINTS[cid]
        if not applicable:
            self.results.append(
                ConstraintResult(cid, constraint.block, level.value, "not_applicable")
            )
            return False
        if level is Level.IGNORE:
            self.results.append(ConstraintResult(cid, constraint.block, level.value, "ignored"))
            return False
        if problem is None:
            self.results.append(
                ConstraintResult(
                    cid, constraint.block, level.value, "passed", constraint.en, constraint.vi
                )
            )
            return False
        vi, en = problem
        self.results.append(ConstraintResult(cid, constraint.block, level.value, "failed", en, vi))
        if level is Level.FAIL:
            if self.failure is None:
                self.failure = Finding(sub, vi, en)
            return True
        if level is Level.WARN:
            self.warnings.append(f"{en} ({vi}) [{cid}: WARN]")
        return False


# -- proof of existence ------------------------------------------------------------------------


def proof_of_existence(
    timestamps: Sequence[TimestampEvidence], policy: ValidationPolicy, judgement: Judgement
) -> datetime | None:
    """The earliest time an acceptable signature or document timestamp proves (POE).

    A token proves nothing when it is not intact, not valid or not trusted, when its TSA's
    certificate lacks the critical timeStamping purpose, or when its algorithms were not
    acceptable at its own time (a SHA-1 token made in 2026); each such token is named in a
    warning. Content timestamps prove when the content existed, not the signature.
    """
    best: tuple[datetime, str] | None = None
    purpose_problems: list[str] = []
    algorithm_problems: list[str] = []
    for ts in timestamps:
        if ts.kind == "content" or ts.time is None:
            continue
        name = ts.label or f"{ts.kind} timestamp"
        if not (ts.intact and ts.valid and ts.trusted):
            why = (
                "its imprint does not match"
                if not ts.intact
                else "its signature does not verify"
                if not ts.valid
                else "its TSA is not trusted"
            )
            judgement.warnings.append(f"The {name} proves nothing: {why}.")
            continue
        purpose = _tsa_purpose_problem(ts.tsa_cert)
        if purpose is not None:
            purpose_problems.append(f"{name}: {purpose}")
            if policy.level("timestamp_tsa_purpose") is Level.FAIL:
                continue
        weak = [
            a
            for a in ts.digest_algorithms
            if policy.algorithms.digest_verdict(a, ts.time) is not None
        ]
        if ts.tsa_cert is not None:
            algo, bits = key_bits(ts.tsa_cert)
            if policy.algorithms.key_verdict(algo, bits, ts.time) is not None:
                weak.append(f"{algo.upper()} {bits}-bit")
        if weak:
            algorithm_problems.append(
                f"{name} made {ts.time:%Y-%m-%d} uses {', '.join(a.upper() for a in weak)}"
            )
            if policy.level("timestamp_algorithms") is Level.FAIL:
                continue
        if best is None or ts.time < best[0]:
            best = (ts.time, name)
    judgement.check(
        policy,
        "timestamp_tsa_purpose",
        None
        if not purpose_problems
        else (
            "dấu thời gian không chứng minh được gì: " + "; ".join(purpose_problems),
            "a timestamp proves nothing: " + "; ".join(purpose_problems),
        ),
        sub=SubIndication.NO_POE,
        applicable=any(t.kind != "content" for t in timestamps),
    )
    # not a failure of the signature itself: the token is set aside, and the verdict then
    # follows from what is proven without it
    if judgement.failure is not None and judgement.failure.sub is SubIndication.NO_POE:
        judgement.failure = None
    judgement.check(
        policy,
        "timestamp_algorithms",
        None
        if not algorithm_problems
        else (
            "dấu thời gian dùng thuật toán không còn được chấp nhận tại thời điểm của nó, "
            "không chứng minh được gì: " + "; ".join(algorithm_problems),
            "a timestamp used algorithms no longer acceptable at its own time and proves "
            "nothing: " + "; ".join(algorithm_problems),
        ),
        sub=SubIndication.NO_POE,
        applicable=any(t.kind != "content" for t in timestamps),
    )
    if judgement.failure is not None and judgement.failure.sub is SubIndication.NO_POE:
        judgement.failure = None
    if best is not None:
        judgement.proven, judgement.proven_by = best
    return judgement.proven


def _tsa_purpose_problem(cert: x509.Certificate | None) -> str | None:
    if cert is None:
        return "its TSA certificate is missing"
    try:
        ext = _extension(cert, "extended_key_usage")
    except ValueError as exc:
        return f"its TSA certificate's extensions cannot be read ({exc})"
    if ext is None:
        return "its TSA certificate has no extendedKeyUsage (timeStamping is required)"
    purposes = [p.dotted for p in ext["extn_value"].parsed]
    if _TIME_STAMPING not in purposes:
        return "its TSA certificate lacks the timeStamping purpose"
    if not ext["critical"].native:
        return "its TSA certificate's extendedKeyUsage is not critical"
    return None


# -- the process -------------------------------------------------------------------------------


def judge(
    evidence: SignatureEvidence,
    policy: ValidationPolicy,
    moment: datetime,
    *,
    judgement: Judgement | None = None,
) -> Judgement:
    """Check ``evidence`` against every constraint of ``policy``; the first failure at
    level FAIL, in the order of the building blocks, is the verdict the signature gets
    unless pyHanko's checks already gave a worse one (the caller decides that order)."""
    j = judgement or Judgement()
    signer = evidence.signer_cert
    # ISC: identification of the signing certificate
    j.check(
        policy,
        "signing_certificate_present",
        None
        if evidence.signing_certificate_attribute
        else (
            "không có thuộc tính signing-certificate: chứng thư số ký chỉ được nhận diện "
            "bằng tổ chức cấp và số hiệu",
            "no signing-certificate attribute: the signer's certificate is identified by "
            "issuer and serial number only",
        ),
        sub=SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
        applicable=evidence.signing_certificate_attribute is not None,
    )
    j.check(
        policy,
        "message_digest_present",
        None
        if evidence.message_digest_attribute
        else (
            "chữ ký không có thuộc tính message-digest được ký (không phải CAdES/PAdES)",
            "the signature has no signed message-digest attribute (not CAdES/PAdES)",
        ),
        applicable=evidence.message_digest_attribute is not None,
    )
    # XCV: the signer's certificate may sign documents
    j.check(
        policy,
        "signer_key_usage",
        _key_usage_problem(signer),
        sub=SubIndication.CHAIN_CONSTRAINTS_FAILURE,
    )
    j.check(
        policy,
        "signer_extended_key_usage",
        _eku_problem(signer),
        sub=SubIndication.CHAIN_CONSTRAINTS_FAILURE,
    )
    # POE: what the timestamps prove (sets j.proven)
    proof_of_existence(evidence.timestamps, policy, j)
    # XCV: revocation, from every source, at the signing time
    signed_at = j.proven or evidence.claimed_time
    state = _revocation_state(evidence, signed_at, proven=j.proven is not None, moment=moment)
    j.check(
        policy,
        "revocation_at_signing_time",
        _revocation_problem(state, signed_at),
        sub=state[1] if state is not None else SubIndication.REVOKED,
    )
    # SAV: signature acceptance
    claimed = evidence.claimed_time
    j.check(
        policy,
        "signing_time_present",
        None
        if claimed is not None
        else ("chữ ký không khai báo thời điểm ký", "the signature claims no signing time"),
    )
    j.check(
        policy,
        "signing_time_in_certificate_validity",
        _claimed_time_problem(signer, claimed),
        applicable=claimed is not None,
    )
    j.check(
        policy,
        "pdf_changes_analysed",
        None
        if evidence.changes_not_analysed is None
        else (
            "không phân tích được những thay đổi sau chữ ký "
            f"({evidence.changes_not_analysed}); tính toàn vẹn của chữ ký vẫn được kiểm tra",
            "the changes made after this signature could not be analysed "
            f"({evidence.changes_not_analysed}); the signature's own integrity was checked",
        ),
        applicable=evidence.format == "pdf",
    )
    _xml_checks(evidence, policy, j)
    contents = [t for t in evidence.timestamps if t.kind == "content"]
    bad = [t for t in contents if not (t.intact and t.valid and t.trusted)]
    j.check(
        policy,
        "content_timestamp_valid",
        None
        if not bad
        else (
            "dấu thời gian nội dung không hợp lệ: " + "; ".join(_ts_problem_vi(t) for t in bad),
            "the content timestamp is not valid: " + "; ".join(_ts_problem_en(t) for t in bad),
        ),
        applicable=bool(contents),
    )
    return j


# Who signs an e-invoice with which hierarchy: sellers hold public certificates (licensed
# CAs under the national root); the tax authority signs under the specialized one (Ban Cơ
# yếu Chính phủ).
_ROLE_HIERARCHY = {"seller": "public", "tax_authority": "specialized"}
_ROLE_VI = {"seller": "người bán", "tax_authority": "cơ quan thuế"}
_HIERARCHY_VI = {"public": "công cộng", "specialized": "chuyên dùng"}


def _xml_checks(evidence: SignatureEvidence, policy: ValidationPolicy, j: Judgement) -> None:
    xml = evidence.format == "xml"
    j.check(
        policy,
        "xml_strict_reading",
        None
        if evidence.xml_reading != "dotnet"
        else (
            "chữ ký chỉ hợp lệ theo cách .NET áp dụng phép biến đổi enveloped, không theo đặc "
            "tả XMLDSig",
            "the signature verifies only under the .NET reading of the enveloped transform, "
            "not under the XMLDSig specification",
        ),
        applicable=xml and evidence.xml_reading is not None,
    )
    cover = evidence.expected_cover
    j.check(
        policy,
        "xml_covers_its_part",
        None
        if cover is None or cover in evidence.covers
        else (
            f"chữ ký ({evidence.role}) không ký phần {cover} của hóa đơn, chỉ ký "
            + (", ".join(evidence.covers) or "không phần nào"),
            f"the {evidence.role} signature does not cover the invoice's {cover}, only "
            + (", ".join(evidence.covers) or "nothing"),
        ),
        applicable=xml and cover is not None,
    )
    wanted = _ROLE_HIERARCHY.get(evidence.role or "")
    j.check(
        policy,
        "einvoice_signer_hierarchy",
        None
        if wanted is None or evidence.hierarchy == wanted
        else (
            f"chữ ký của {_ROLE_VI.get(evidence.role or '', evidence.role)} phải thuộc hệ thống "
            f"chứng thực {_HIERARCHY_VI[wanted]}, nhưng chuỗi chứng thư số dẫn tới hệ thống "
            f"{_HIERARCHY_VI.get(evidence.hierarchy or '', evidence.hierarchy)}",
            f"the {evidence.role} signature must chain to the {wanted} hierarchy, but its path "
            f"reaches the {evidence.hierarchy} one",
        ),
        sub=SubIndication.CHAIN_CONSTRAINTS_FAILURE,
        applicable=xml and wanted is not None and evidence.hierarchy is not None,
    )
    mismatch = evidence.tax_code_mismatch
    j.check(
        policy,
        "einvoice_seller_tax_code",
        None
        if mismatch is None
        else (
            f"mã số thuế người bán trên hóa đơn là {mismatch[0]} nhưng chứng thư số của người "
            f"ký mang mã số thuế {mismatch[1]}",
            f"the invoice's seller tax code (MST) is {mismatch[0]} but the signer's "
            f"certificate carries MST {mismatch[1]}",
        ),
        applicable=xml and evidence.role == "seller",
    )


def _ts_problem_en(ts: TimestampEvidence) -> str:
    if not ts.intact:
        return "it is not over the signed content (message imprint mismatch)"
    if not ts.valid:
        return "its own signature does not verify"
    return "its timestamp authority is not trusted"


def _ts_problem_vi(ts: TimestampEvidence) -> str:
    if not ts.intact:
        return "không đúng với nội dung đã ký (giá trị băm không khớp)"
    if not ts.valid:
        return "chữ ký của chính dấu thời gian không đúng"
    return "đơn vị cấp dấu thời gian không được tin cậy"


def _claimed_time_problem(
    cert: x509.Certificate, claimed: datetime | None
) -> tuple[str, str] | None:
    if claimed is None:
        return None
    start, end = cert.not_valid_before, cert.not_valid_after
    if start <= claimed <= end:
        return None
    where_en = "before the certificate became valid" if claimed < start else "after it expired"
    where_vi = (
        "trước khi chứng thư số có hiệu lực" if claimed < start else "sau khi chứng thư số hết hạn"
    )
    return (
        f"thời điểm ký khai báo {claimed:%Y-%m-%d %H:%M} UTC nằm {where_vi} "
        f"(hiệu lực {start:%Y-%m-%d} đến {end:%Y-%m-%d})",
        f"the claimed signing time {claimed:%Y-%m-%d %H:%M} UTC lies {where_en} "
        f"(valid {start:%Y-%m-%d} to {end:%Y-%m-%d})",
    )


# -- key usage -----------------------------------------------------------------------------


def _extension(cert: x509.Certificate, name: str) -> Any:
    for ext in cert["tbs_certificate"]["extensions"]:
        if ext["extn_id"].native == name:
            return ext
    return None


def _key_usage_problem(cert: x509.Certificate) -> tuple[str, str] | None:
    try:
        usage = cert.key_usage_value
    except ValueError as exc:
        return (f"không đọc được key usage ({exc})", f"the key usage cannot be read ({exc})")
    if usage is None:
        return None  # no restriction (RFC 5280)
    if {"digital_signature", "non_repudiation"} & set(usage.native):
        return None
    have = ", ".join(usage.native) or "none"
    return (
        f"chứng thư số của người ký không cho phép ký (key usage: {have})",
        f"the signer's certificate does not allow signing (key usage: {have}; "
        "digitalSignature or nonRepudiation is needed)",
    )


def _eku_problem(cert: x509.Certificate) -> tuple[str, str] | None:
    try:
        ext = _extension(cert, "extended_key_usage")
        if ext is None:
            return None
        purposes = [p.dotted for p in ext["extn_value"].parsed]
        names = [p.native for p in ext["extn_value"].parsed]
    except ValueError as exc:
        return (
            f"không đọc được extendedKeyUsage ({exc})",
            f"the extendedKeyUsage cannot be read ({exc})",
        )
    if any(p in DOCUMENT_SIGNING_PURPOSES for p in purposes):
        return None
    have = ", ".join(str(n) for n in names)
    return (
        f"chứng thư số của người ký chỉ dành cho mục đích khác, không phải ký tài liệu "
        f"(extendedKeyUsage: {have})",
        f"the signer's certificate is restricted to other purposes than signing documents "
        f"(extendedKeyUsage: {have})",
    )


# -- revocation ----------------------------------------------------------------------------


def revocation_values(signed_data: cms.SignedData, source: str = "cms") -> Revocation:
    """Every CRL and OCSP response a CMS SignedData carries: its ``crls`` field (CRLs and
    ``otherRevInfo`` OCSP responses, RFC 5940) and the ``adbe-revocationInfoArchival``
    signed attribute of each SignerInfo (Adobe's PDF signatures)."""
    crls: list[tuple[crl.CertificateList, str]] = []
    ocsps: list[tuple[ocsp.OCSPResponse, str]] = []
    with contextlib.suppress(ValueError, TypeError, KeyError):
        for choice in signed_data["crls"] or ():
            if choice.name == "crl":
                crls.append((choice.chosen, f"{source} crls"))
            elif choice.name == "other":
                other = choice.chosen
                if other["other_rev_info_format"].dotted == "1.3.6.1.5.5.7.16.2":
                    # asn1crypto reads this format's value as an OCSPResponse already
                    value = other["other_rev_info"]
                    if not isinstance(value, ocsp.OCSPResponse):
                        value = ocsp.OCSPResponse.load(value.dump())
                    ocsps.append((value, f"{source} otherRevInfo"))
    with contextlib.suppress(ValueError, TypeError, KeyError):
        for si in signed_data["signer_infos"]:
            for attr in si["signed_attrs"] or ():
                if attr["type"].native != "adobe_revocation_info_archival":
                    continue
                for archival in attr["values"]:
                    if not isinstance(archival["crl"], core.Void):
                        for item in archival["crl"]:
                            crls.append((item, "adbe-revocationInfoArchival"))
                    if not isinstance(archival["ocsp"], core.Void):
                        for item in archival["ocsp"]:
                            ocsps.append((item, "adbe-revocationInfoArchival"))
    return Revocation(tuple(crls), tuple(ocsps))


@dataclass(frozen=True)
class _Revoked:
    cert: x509.Certificate
    at: datetime
    source: str
    is_signer: bool


def find_revocation(
    path: Sequence[x509.Certificate],
    others: Iterable[x509.Certificate],
    revocation: Revocation,
) -> _Revoked | None:
    """The earliest revocation that revocation data properly signed by the certificate's
    issuer (a complete CRL, or an OCSP response from the issuer or its delegated
    responder) states for a certificate of ``path``. Data not signed by the issuer is
    never believed."""
    if not (revocation.crls or revocation.ocsps):
        return None
    pool = [*path, *others]
    found: _Revoked | None = None
    for i, cert in enumerate(path):
        issuer = _issuer_of(cert, pool)
        if issuer is None or issuer.dump() == cert.dump():
            continue
        for revoked_at, source in _revoked_by(cert, issuer, revocation):
            if found is None or revoked_at < found.at:
                found = _Revoked(cert, revoked_at, source, is_signer=i == 0)
    return found


def _issuer_of(cert: x509.Certificate, pool: Sequence[x509.Certificate]) -> x509.Certificate | None:
    # the same encoding first (cheap), then names equal under RFC 5280's comparison
    issuer = cert.issuer.dump()
    for candidate in pool:
        if candidate.subject.dump() == issuer and _signed_by(cert, candidate):
            return candidate
    for candidate in pool:
        if candidate.subject.dump() == issuer or candidate.subject != cert.issuer:
            continue
        if _signed_by(cert, candidate):
            return candidate
    return None


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child = cx509.load_der_x509_certificate(cert.dump())
        parent = cx509.load_der_x509_certificate(issuer.dump())
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _revoked_by(
    cert: x509.Certificate, issuer: x509.Certificate, revocation: Revocation
) -> Iterable[tuple[datetime, str]]:
    serial = cert.serial_number
    try:
        issuer_key = cx509.load_der_x509_certificate(issuer.dump()).public_key()
    except ValueError:
        return
    for item, source in revocation.crls:
        try:
            parsed = cx509.load_der_x509_crl(item.dump())
            if parsed.issuer.public_bytes() != issuer.subject.dump():
                continue
            if not parsed.is_signature_valid(issuer_key):  # type: ignore[arg-type]
                continue
            if _partial_crl(parsed):
                continue
            entry = parsed.get_revoked_certificate_by_serial_number(serial)
        except (ValueError, TypeError):
            continue
        if entry is not None:
            yield entry.revocation_date_utc, f"CRL ({source})"
    for response, source in revocation.ocsps:
        found = _ocsp_revoked(response, cert, issuer, issuer_key)
        if found is not None:
            yield found, f"OCSP ({source})"


def _partial_crl(parsed: cx509.CertificateRevocationList) -> bool:
    """A delta CRL, or one scoped to some reasons or to other issuers, is not complete."""
    for ext in parsed.extensions:
        if isinstance(ext.value, cx509.DeltaCRLIndicator):
            return True
        if isinstance(ext.value, cx509.IssuingDistributionPoint) and (
            ext.value.only_some_reasons or ext.value.indirect_crl
        ):
            return True
    return False


def _ocsp_revoked(
    response: ocsp.OCSPResponse, cert: x509.Certificate, issuer: x509.Certificate, issuer_key: Any
) -> datetime | None:
    try:
        parsed = cocsp.load_der_ocsp_response(response.dump())
        if parsed.response_status is not cocsp.OCSPResponseStatus.SUCCESSFUL:
            return None
        issuer_cx = cx509.load_der_x509_certificate(issuer.dump())
        signer_key = _ocsp_signer_key(parsed, issuer_cx, issuer_key)
        if signer_key is None or not _verify(signer_key, parsed):
            return None
        key_hash = issuer.public_key.sha1
        for single in parsed.responses:
            if single.serial_number != cert.serial_number:
                continue
            if single.issuer_key_hash != key_hash and single.issuer_key_hash != _key_hash(
                issuer, single.hash_algorithm.name
            ):
                continue
            if single.certificate_status is cocsp.OCSPCertStatus.REVOKED:
                return single.revocation_time_utc
    except (ValueError, TypeError):
        return None
    return None


def _key_hash(issuer: x509.Certificate, algorithm: str) -> bytes:
    import hashlib

    # the BIT STRING's value without its unused-bits octet (RFC 6960 4.1.1)
    return hashlib.new(algorithm, bytes(issuer.public_key["public_key"])).digest()


def _ocsp_signer_key(parsed: cocsp.OCSPResponse, issuer: cx509.Certificate, issuer_key: Any) -> Any:
    """The issuer's key, or a delegated responder's: a certificate in the response issued
    by the issuer with the OCSPSigning purpose (RFC 6960 4.2.2.2)."""
    if parsed.responder_name == issuer.subject or parsed.responder_key_hash == _sha1_key(issuer):
        return issuer_key
    for responder in parsed.certificates:
        try:
            responder.verify_directly_issued_by(issuer)
            eku = responder.extensions.get_extension_for_class(cx509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, cx509.ExtensionNotFound):
            continue
        if cx509.oid.ExtendedKeyUsageOID.OCSP_SIGNING in eku:
            return responder.public_key()
    return None


def _sha1_key(cert: cx509.Certificate) -> bytes:
    import hashlib

    from cryptography.hazmat.primitives import serialization

    spki = x509.PublicKeyInfo.load(
        cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    # the BIT STRING's value without its unused-bits octet (RFC 6960 4.1.1)
    return hashlib.sha1(bytes(spki["public_key"])).digest()  # noqa: S324 - RFC 6960 key hash


def _verify(key: Any, parsed: cocsp.OCSPResponse) -> bool:
    algorithm = parsed.signature_hash_algorithm
    if algorithm is None:
        return False
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(parsed.signature, parsed.tbs_response_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(parsed.signature, parsed.tbs_response_bytes, ec.ECDSA(algorithm))
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _revocation_state(
    evidence: SignatureEvidence, signed_at: datetime | None, *, proven: bool, moment: datetime
) -> tuple[_Revoked, SubIndication] | None:
    found = find_revocation(
        evidence.path or (evidence.signer_cert,), evidence.other_certs, evidence.revocation
    )
    if found is None:
        return None
    when = signed_at or moment
    if found.at > when:
        if proven:
            return None  # revoked after the proven signing time: the signature stands
        # revoked after the claimed time only: nothing proves the signature came first
        return found, SubIndication.REVOKED_NO_POE
    if not found.is_signer:
        return found, SubIndication.REVOKED_CA_NO_POE
    return found, SubIndication.REVOKED


def _revocation_problem(
    state: tuple[_Revoked, SubIndication] | None, signed_at: datetime | None
) -> tuple[str, str] | None:
    if state is None:
        return None
    found, _sub = state
    who = _common_name(found.cert)
    role_en = "the signer's certificate" if found.is_signer else f"the CA certificate {who}"
    role_vi = "chứng thư số của người ký" if found.is_signer else f"chứng thư số CA {who}"
    when_en = f"at {found.at:%Y-%m-%d %H:%M} UTC" + (
        f", before the signing time {signed_at:%Y-%m-%d %H:%M} UTC"
        if signed_at is not None and found.at <= signed_at
        else ", and nothing proves the signature was made before that"
    )
    when_vi = f"lúc {found.at:%Y-%m-%d %H:%M} UTC" + (
        f", trước thời điểm ký {signed_at:%Y-%m-%d %H:%M} UTC"
        if signed_at is not None and found.at <= signed_at
        else ", và không có gì chứng minh chữ ký được tạo trước đó"
    )
    return (
        f"{role_vi} đã bị thu hồi {when_vi} (theo {found.source})",
        f"{role_en} was revoked {when_en} (per {found.source})",
    )


def _common_name(cert: x509.Certificate) -> str:
    try:
        return str(cert.subject.native.get("common_name") or cert.subject.human_friendly)
    except (ValueError, TypeError):
        return "?"


def out_of_bounds(
    certs: Sequence[x509.Certificate], moment: datetime, proven: datetime | None
) -> Finding | None:
    """The verdict when a certificate of the path is outside its validity at the
    validation time: NOT_YET_VALID when a proof of existence predates the signer's
    certificate (the signature existed before it), else OUT_OF_BOUNDS_NO_POE naming the
    certificates when nothing proves the signature existed while they were valid. A proof
    of existence after the expiry is no proof of when the signature was made (a timestamp
    only bounds it from above: an archive timestamp years later is the normal case), so it
    is OUT_OF_BOUNDS_NO_POE too, as in ETSI EN 319 102-1's past signature validation,
    never EXPIRED. The one rule for every format; None when all are in bounds."""
    if not certs:
        return None
    signer = certs[0]
    if proven is not None and proven > signer.not_valid_after:
        return Finding(
            SubIndication.OUT_OF_BOUNDS_NO_POE,
            f"bằng chứng sớm nhất về sự tồn tại của chữ ký ({proven:%Y-%m-%d %H:%M} UTC) có "
            f"sau khi chứng thư số của người ký hết hạn ({signer.not_valid_after:%Y-%m-%d}): "
            "không gì chứng minh chữ ký được tạo khi chứng thư số còn hiệu lực",
            f"the earliest proof that the signature existed ({proven:%Y-%m-%d %H:%M} UTC) is "
            f"after the signer's certificate expired ({signer.not_valid_after:%Y-%m-%d}): "
            "nothing proves it was made while the certificate was valid",
        )
    if proven is not None and proven < signer.not_valid_before:
        return Finding(SubIndication.NOT_YET_VALID, "", "")
    outside = [c for c in certs if not (c.not_valid_before <= moment <= c.not_valid_after)]
    if not outside or (
        proven is not None
        and all(c.not_valid_before <= proven <= c.not_valid_after for c in outside)
    ):
        return None
    names_en = ", ".join(
        f"{_common_name(c)} (valid {c.not_valid_before:%Y-%m-%d} to {c.not_valid_after:%Y-%m-%d})"
        for c in outside
    )
    names_vi = ", ".join(
        f"{_common_name(c)} (hiệu lực {c.not_valid_before:%Y-%m-%d} đến "
        f"{c.not_valid_after:%Y-%m-%d})"
        for c in outside
    )
    return Finding(
        SubIndication.OUT_OF_BOUNDS_NO_POE,
        f"chứng thư số ngoài thời hạn tại thời điểm kiểm tra: {names_vi}; không có dấu thời "
        "gian nào chứng minh chữ ký đã tồn tại khi chúng còn hiệu lực (thời điểm ký khai báo "
        "không phải là bằng chứng)",
        f"certificate(s) outside their validity at the validation time: {names_en}; no "
        "timestamp proves the signature existed while they were valid (a claimed signing "
        "time is no proof)",
    )


def no_chain_reason(
    signer: x509.Certificate,
    carried: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    others: Sequence[x509.Certificate],
    *,
    profile: str,
    network: bool,
    fetched: Callable[[str], Sequence[x509.Certificate]] = lambda _url: (),
    failed: Callable[[str], tuple[str, str] | None] = lambda _url: None,
) -> tuple[str, str]:
    """Why no path leads from ``signer`` to an anchor, said so an auditor can act: the
    certificate whose issuer is missing, that issuer's name, whether the signature carried
    it, and the address the certificate gives for it (AIA caIssuers), whether it was tried
    and what it answered (``failed``: (vi, en) of a fetch from that address that failed,
    e.g. connection refused, HTTP 404, not the issuer); or the root the path ends at, which
    the trust profile does not hold."""
    pool = [*carried, *others, *anchors]
    anchor_ders = {a.dump() for a in anchors}
    cert = signer
    seen: set[bytes] = set()
    while cert.dump() not in seen:
        seen.add(cert.dump())
        if cert.dump() in anchor_ders or (cert.subject == cert.issuer and _signed_by(cert, cert)):
            break  # an anchor, or a self-signed root that is none
        urls = _ca_issuer_urls(cert)
        issuer = _issuer_of(cert, pool)
        if issuer is None and network:
            got = [c for url in urls for c in fetched(url)]
            issuer = _issuer_of(cert, got)
        if issuer is None:
            name = cert.issuer.human_friendly
            carried_names = {c.subject.dump() for c in carried}
            by_name = cert.issuer.dump() in carried_names
            where_en = (
                "a certificate with that name travels with the signature but did not issue it"
                if by_name
                else "the signature does not carry it"
            )
            where_vi = (
                "chữ ký có kèm một chứng thư số mang tên đó nhưng không phải chứng thư số đã cấp"
                if by_name
                else "chữ ký không kèm chứng thư số này"
            )
            answers = [(url, found) for url in urls if (found := failed(url)) is not None]
            if urls and network and answers:
                if len(answers) == 1 == len(urls):  # the address is named already
                    said_vi, said_en = answers[0][1]
                else:
                    said_vi = "; ".join(f"{url}: {vi}" for url, (vi, _en) in answers)
                    said_en = "; ".join(f"{url}: {en}" for url, (_vi, en) in answers)
                fetch_en = f"its address {', '.join(urls)} was tried and failed ({said_en})"
                fetch_vi = f"đã thử tải từ {', '.join(urls)} nhưng thất bại ({said_vi})"
            elif urls and network:
                fetch_en = f"its address {', '.join(urls)} was tried and gave no usable certificate"
                fetch_vi = (
                    f"đã thử tải từ {', '.join(urls)} nhưng không được chứng thư số dùng được"
                )
            elif urls:
                fetch_en = f"its address {', '.join(urls)} was not tried (offline)"
                fetch_vi = f"không tải từ {', '.join(urls)} (chế độ ngoại tuyến)"
            else:
                fetch_en = "the certificate gives no address (AIA) to fetch it from"
                fetch_vi = "chứng thư số không ghi địa chỉ (AIA) để tải về"
            who = _common_name(cert)
            return (
                f"thiếu chứng thư số của đơn vị cấp cho «{who}»: {name}; {where_vi}; "
                f"{fetch_vi}; bộ chứng thư tin cậy «{profile}» cũng không có",
                f"the issuer of «{who}» is missing: {name}; {where_en}; {fetch_en}; the "
                f"trust profile «{profile}» does not hold it either",
            )
        if issuer.dump() == cert.dump():  # a self-signed root that is no anchor
            break
        cert = issuer
    root = _common_name(cert)
    return (
        f"chuỗi chứng thư số dừng ở «{root}», không phải gốc tin cậy của hồ sơ «{profile}»",
        f"the certificate path ends at «{root}», which is not a trust anchor of the profile "
        f"«{profile}»",
    )


def _ca_issuer_urls(cert: x509.Certificate) -> list[str]:
    try:
        aia = cert.authority_information_access_value
    except ValueError:
        return []
    if aia is None:
        return []
    return [
        str(d["access_location"].native)
        for d in aia
        if d["access_method"].native == "ca_issuers"
        and d["access_location"].name == "uniform_resource_identifier"
    ]


def key_bits(cert: x509.Certificate) -> tuple[str, int]:
    """The public key's algorithm (``rsa``, ``ec``, ...) and size in bits."""
    algo = cert.public_key.algorithm
    try:
        bits = int(cert.public_key.bit_size)
    except Exception:  # noqa: BLE001 - an odd key is judged as 0 bits, i.e. refused
        bits = 0
    return algo, bits
