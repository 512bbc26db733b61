"""What PDF and CMS signatures share: the SignedData checks, and their evidence.

A PDF signature (``adbe.pkcs7.detached``, ``ETSI.CAdES.detached``, ``adbe.pkcs7.sha1``) and
a detached or enveloping CMS are the same CMS ``SignedData`` read from different places.
Their structural checks (exactly one SignerInfo, an algorithm that fits the key, signed
attributes in DER order and each at most once, a certificate set small enough to build
paths from) and the evidence handed to :mod:`verify.process` are written once, here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import algos, cms, x509
from pyhanko.sign.validation.status import (
    StandardCMSSignatureStatus,
    TimestampSignatureStatus,
)

from verify import cms_forms, process
from verify.engine import Engine, Verdict, path_certs, short, sub_of
from verify.report import Indication, SignatureReport, SubIndication, sentences

__all__ = [
    "Prepared",
    "broken_signature",
    "cms_problem",
    "doubled_attrs",
    "exception_verdict",
    "prepare",
    "prune_certificates",
    "signature_evidence",
    "signed_attr_types",
    "token_algorithms",
    "verdict_signature",
]

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
# that verifiably certify the signer's path (see prune_certificates).
_PRUNE_ABOVE = 16
_MAX_PATH_WALK = 64


def signature_evidence(
    engine: Engine,
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
        types = set(signed_attr_types(signer_info))
    except Exception:  # noqa: BLE001 - unreadable attributes: judged as absent
        types = set()
    return process.SignatureEvidence(
        format=fmt,
        signer_cert=signer_cert,
        path=tuple(path_certs(status)) or (signer_cert,),
        other_certs=(*others, *engine.trust.certificates),
        claimed_time=status.signer_reported_dt,
        timestamps=tuple(timestamps),
        revocation=revocation,
        signing_certificate_attribute=bool(
            types & {"signing_certificate", "signing_certificate_v2"}
        ),
        message_digest_attribute="message_digest" in types,
    )


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
        digest_algorithms=token_algorithms(token["content"]) if token is not None else (),
        label=label,
    )


def token_algorithms(signed_data: cms.SignedData) -> tuple[str, ...]:
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


def signed_attr_types(signer_info: cms.SignerInfo) -> list[str]:
    attrs = signer_info["signed_attrs"]
    if not attrs:
        return []
    return [str(a["type"].native) for a in attrs]


def doubled_attrs(signer_info: cms.SignerInfo) -> Verdict | None:
    """FORMAT_FAILURE when a signed attribute that may occur once occurs more often."""
    try:
        types = signed_attr_types(signer_info)
    except Exception:  # noqa: BLE001 - unreadable attributes are judged elsewhere
        return None
    doubled = sorted({t for t in types if t in _SINGLE_ATTRS and types.count(t) > 1})
    if not doubled:
        return None
    return Verdict(
        SubIndication.FORMAT_FAILURE,
        "thuộc tính được ký xuất hiện nhiều lần: " + ", ".join(doubled),
        "signed attribute(s) present more than once: " + ", ".join(doubled),
    )


def cms_problem(
    signed_data: cms.SignedData, signer_cert: x509.Certificate, *, baseline: bool
) -> tuple[Verdict | None, list[str]]:
    """Checks on the CMS structure before pyHanko validates it: (verdict, warnings).

    ``baseline``: the signature claims to be an AdES baseline signature (a PAdES
    ``ETSI.CAdES.detached`` signature, or a detached CAdES one), which must carry the
    signing-certificate(-v2) attribute. Legacy ``adbe.pkcs7.detached`` PDF signatures
    without it get a warning instead.
    """
    warnings: list[str] = []
    try:
        cms_forms.read_structure(signed_data)
    except Exception as exc:  # noqa: BLE001 - asn1crypto's errors are ValueError and more
        return Verdict(
            SubIndication.FORMAT_FAILURE,
            f"cấu trúc CMS SignedData hỏng ({short(exc)})",
            f"the CMS SignedData structure is malformed ({short(exc)})",
        ), warnings
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        return Verdict(
            SubIndication.FORMAT_FAILURE,
            f"có {len(signer_infos)} SignerInfo (phải đúng một)",
            f"{len(signer_infos)} signer infos (exactly one expected)",
        ), warnings
    si = signer_infos[0]
    digest = si["digest_algorithm"]["algorithm"]
    if digest.native == digest.dotted:  # no digest algorithm asn1crypto knows by name
        oid = digest.dotted
        named = algos.SignedDigestAlgorithmId(oid).native
        if named != oid:  # a signature algorithm where the digest algorithm belongs
            vi = f"chữ ký ghi thuật toán chữ ký {named} ({oid}) vào chỗ thuật toán băm"
            en = f"the signature names the signature algorithm {named} ({oid}) as its digest"
        else:
            vi = f"chữ ký ghi một thuật toán băm không được biết đến ({oid})"
            en = f"the signature names an unknown digest algorithm ({oid})"
        return Verdict(
            SubIndication.FORMAT_FAILURE,
            f"{vi}: không tính được giá trị băm của nội dung",
            f"{en}: the content's digest cannot be computed",
        ), warnings
    mechanism = si["signature_algorithm"].signature_algo
    key_algo = signer_cert.public_key.algorithm
    if key_algo not in _MECHANISM_KEYS.get(mechanism, {key_algo}):
        return Verdict(
            SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
            f"thuật toán chữ ký {mechanism} không dùng được với khóa {key_algo.upper()}",
            f"signature algorithm {mechanism} cannot apply to a {key_algo.upper()} key",
        ), warnings
    types = signed_attr_types(si)
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
        as_der = b"\x31" + cms_forms.der_length(len(der)) + der
        if not cms_forms.verifies_over(si, signer_cert, as_der):
            return Verdict(
                SubIndication.HASH_FAILURE,
                "các thuộc tính được ký không được mã hóa DER (tập hợp không đúng thứ tự): "
                "chữ ký không phải trên bản mã hóa DER của chúng",
                "the signed attributes are not DER-encoded (their SET OF is out of order): "
                "the signature is not over their DER encoding",
            ), warnings
        si["signed_attrs"] = cms.CMSAttributes.load(as_der)
        warnings.append(
            "The signed attributes are stored out of DER order; the signature is over their "
            "DER encoding, which was verified (các thuộc tính được ký lưu không theo thứ tự "
            "DER; chữ ký đúng trên bản mã hóa DER của chúng)."
        )
    doubled = doubled_attrs(si)
    if doubled is not None:
        return doubled, warnings
    # a missing signing-certificate attribute is judged by the policy's
    # "signing_certificate_present" constraint (verify.process)
    return None, warnings


def exception_verdict(exc: BaseException) -> Verdict | None:
    """pyHanko's own AdES reading of a validation error, when it says INDETERMINATE."""
    indic = getattr(exc, "ades_subindication", None)
    if indic is None or type(indic).__name__ != "AdESIndeterminate":
        return None
    sub = sub_of(indic)
    if sub is SubIndication.GENERIC:
        return None
    return Verdict(sub, short(exc), short(exc))


def verdict_signature(
    index: int,
    field_name: str | None,
    sub_filter: str | None,
    verdict: Verdict,
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


def broken_signature(
    index: int,
    field_name: str | None,
    sub_filter: str | None,
    exc: BaseException,
    *,
    kind: str = "signature",
) -> SignatureReport:
    if isinstance(exc, AssertionError) and not str(exc).strip():
        # a library's own consistency check failed and says nothing: say that much
        vi_why = "thư viện kiểm tra dừng lại ở một phép kiểm tra nội bộ không đạt, không nêu lý do"
        en_why = (
            "the checking library stopped on one of its own consistency checks, no reason given"
        )
    else:
        vi_why = en_why = short(exc)
    vi, en = sentences(
        SubIndication.FORMAT_FAILURE,
        f"cấu trúc chữ ký bị hỏng ({vi_why})",
        f"the signature structure is broken ({en_why})",
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


def _verifies(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Does ``issuer``'s key verify ``cert``'s signature? (primitive check, no policy)"""
    from cryptography import x509 as pyca_x509

    try:
        child = pyca_x509.load_der_x509_certificate(cert.dump())
        child.verify_directly_issued_by(pyca_x509.load_der_x509_certificate(issuer.dump()))
    except Exception:  # noqa: BLE001 - any failure (or an unsupported algorithm) means "no"
        return False
    return True


def prune_certificates(
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


@dataclass(frozen=True)
class Prepared:
    """A SignedData ready for pyHanko: checked, its certificates pruned, its revocation
    values read."""

    signed_data: cms.SignedData
    """The SignedData to validate (a copy with the pruned certificate set, if pruned)."""
    certificates: list[x509.Certificate]
    """The certificates it carries, after pruning (the signer's among them)."""
    problem: Verdict | None
    """A structural verdict that refuses the signature before validation, if any."""
    warnings: list[str]
    revocation: process.Revocation
    """The CRLs and OCSP responses it carries (``crls``, ``otherRevInfo``,
    ``adbe-revocationInfoArchival``)."""


def prepare(
    signed_data: cms.SignedData, signer_cert: x509.Certificate, *, baseline: bool
) -> Prepared:
    """Check ``signed_data`` (:func:`cms_problem`), prune its certificates
    (:func:`prune_certificates`) and read its revocation values. Raises on a structure
    too broken to read (the caller reports it as such)."""
    problem, warnings = cms_problem(signed_data, signer_cert, baseline=baseline)
    carried = list(cms_forms.certificates(signed_data))
    others = [c for c in carried if c.dump() != signer_cert.dump()]
    pruned = prune_certificates(signer_cert, others)
    if problem is None and len(pruned) != len(others):
        carried = [signer_cert, *pruned]
        signed_data = cms_forms.with_certificates(signed_data, carried)
    return Prepared(
        signed_data=signed_data,
        certificates=carried,
        problem=problem,
        warnings=warnings,
        revocation=process.revocation_values(signed_data, "CMS"),
    )
