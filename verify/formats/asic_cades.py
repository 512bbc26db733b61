"""A CAdES signature inside an ASiC-E container, with the container's timestamps as proof.

An ASiC-E ``META-INF/timestamp*.tst`` over an ``ASiCManifest`` (or over an
``ASiCArchiveManifest``) that lists a ``signature*.p7s`` with its digest proves that
signature existed at the token's genTime (ETSI EN 319 162-1). The CMS reader knows only
the timestamps a CMS carries; here each SignerInfo is read as
:class:`~verify.formats.cms.CmsReader` reads it, with those container timestamps added to
its evidence (``proofs``) and counted as later proof for its own timestamps, so the
process (:func:`verify.process.judge`) and the engine judge the signer's certificate at
the proven time, as for an e-invoice in an ASiC-S.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from asn1crypto import cms, x509
from pyhanko.sign.general import extract_certificate_info
from pyhanko.sign.validation import async_validate_detached_cms

from verify import cades_archive, cms_forms, process
from verify.engine import (
    ANY_USAGE,
    CMS_ALGOS,
    Engine,
    Verdict,
    apply_judgement,
    evidence_report,
    short,
)
from verify.formats.cms import CmsReader
from verify.formats.signed_data import (
    broken_signature,
    exception_verdict,
    prepare,
    signature_evidence,
    verdict_signature,
)
from verify.report import DocumentReport, SignatureReport, SubIndication

__all__ = ["cades_with_proofs"]


def _accepted(ts: process.TimestampEvidence) -> bool:
    return ts.intact and ts.valid and ts.trusted


async def cades_with_proofs(
    reader: CmsReader,
    content: bytes,
    sig: bytes,
    moment: datetime,
    proofs: Sequence[process.TimestampEvidence],
    *,
    enveloped: bool,
) -> DocumentReport:
    """Every SignerInfo of the CMS ``sig`` over ``content`` (or the content it
    encapsulates), each with ``proofs`` as proof of existence."""
    engine = reader.engine
    try:
        raw = cms_forms.unarmor(sig)
        info = cms.ContentInfo.load(raw, strict=True)
        if info["content_type"].native != "signed_data":
            raise ValueError("not a CMS SignedData")
        signed = info["content"]
        if enveloped:
            content, signed = cms_forms.detach_content(signed)
        count = len(signed["signer_infos"])
        if count > engine.policy.max_signatures:
            raise ValueError(
                f"{count} signer infos, more than the policy's limit "
                f"({engine.policy.max_signatures})"
            )
        parts = [
            (part, extract_certificate_info(part).signer_cert)
            for part in cms_forms.one_per_signer(signed)
        ]
    except Exception as exc:  # noqa: BLE001 - hostile input must end in a verdict
        v = Verdict(
            SubIndication.FORMAT_FAILURE,
            f"chữ ký CAdES không đọc được ({short(exc)})",
            f"the CAdES signature cannot be read ({short(exc)})",
        )
        return engine.document(None, content, "cms", moment, (), v, ())
    kind, coverage = (
        ("enveloped", "ENVELOPED_CONTENT") if enveloped else ("detached", "DETACHED_CONTENT")
    )
    reports = [
        await _signature(
            reader, engine, n, content, raw, part, cert, moment, proofs, kind, coverage
        )
        for n, (part, cert) in enumerate(parts)
    ]
    return engine.document(None, content, "cms", moment, reports, None, ())


async def _signature(
    reader: CmsReader,
    engine: Engine,
    index: int,
    content: bytes,
    raw: bytes,
    signed_data: cms.SignedData,
    signer_cert: x509.Certificate,
    moment: datetime,
    proofs: Sequence[process.TimestampEvidence],
    kind: str,
    coverage: str,
) -> SignatureReport:
    """One SignerInfo, as :class:`CmsReader` reads it, with the container's proofs."""
    signed_data, plain = cms_forms.with_plain_ecdsa_as_der(signed_data)
    try:
        ready = prepare(signed_data, signer_cert, baseline=True)
    except Exception as exc:  # noqa: BLE001 - a broken signature still gets a report
        return broken_signature(index, None, None, exc, kind=kind)
    if ready.problem is not None:
        return verdict_signature(index, None, None, ready.problem, kind=kind)
    signed_data = ready.signed_data
    carried = ready.revocation
    crls = [c for c, _src in carried.crls]
    ocsps = [o for o, _src in carried.ocsps]
    vc = engine.context(moment, other_certs=ready.certificates, crls=crls, ocsps=ocsps)
    try:
        status = await async_validate_detached_cms(
            content,
            signed_data,
            signer_validation_context=vc,
            ts_validation_context=vc,
            key_usage_settings=ANY_USAGE,
            algorithm_policy=CMS_ALGOS,
        )
    except Exception as exc:  # noqa: BLE001 - hostile input must end in a verdict
        indeterminate = exception_verdict(exc)
        return (
            verdict_signature(index, None, None, indeterminate, kind=kind)
            if indeterminate is not None
            else broken_signature(index, None, None, exc, kind=kind)
        )
    archive = await cades_archive.archive_timestamp_evidence(
        raw, index, content, vc, algorithm_policy=CMS_ALGOS
    )
    archive = await reader._archive_at_their_time(
        archive, (raw, index, content), moment, ready.certificates, crls, ocsps
    )
    covered_by = [ts.time for ts in [*archive, *proofs] if ts.time is not None and _accepted(ts)]
    status = await engine.timestamps_at_their_time(
        status,
        moment,
        other_certs=ready.certificates,
        crls=crls,
        ocsps=ocsps,
        proven_by_later=min(covered_by) if covered_by else None,
    )
    evidence = signature_evidence(
        engine,
        "cms",
        status,
        signer_cert,
        signed_data["signer_infos"][0],
        others=ready.certificates,
        revocation=carried,
        extra_timestamps=[*archive, *proofs],
    )
    judgement = process.judge(evidence, engine.policy, moment)
    verdict, proven, revocation, chain_status = await engine.judge_status(
        status,
        signer_cert,
        moment,
        proven=judgement.proven,
        other_certs=ready.certificates,
        crls=crls,
        ocsps=ocsps,
    )
    level = "CAdES-B-T" if status.timestamp_validity is not None else "CAdES-B-B"
    if level == "CAdES-B-T" and (carried.crls or carried.ocsps):
        level = "CAdES-B-LT"
    if any(ts.time is not None for ts in archive):
        level = "CAdES-B-LTA"
    if not cms_forms.has_signed_attrs(signed_data):
        level = "CMS"
    report = engine.signature_report(
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
        warnings=list(ready.warnings),
        moment=moment,
    )
    if plain is not None:
        report = replace(report, signature_algorithm=plain)
    shown = [r for r in map(evidence_report, [*archive, *proofs]) if r is not None]
    if shown:
        report = replace(report, timestamps=(*report.timestamps, *shown))
    return apply_judgement(report, judgement)
