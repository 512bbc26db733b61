"""The CMS reader: a detached signature (``.p7s``) over content, or an enveloping one
(``.p7m``) holding its content.

Every SignerInfo is read as its own signature (``openssl cms -resign`` gives several),
validated by pyHanko over the content, and handed to :mod:`verify.process` as evidence;
the worst verdict is the document's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, BinaryIO

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
from verify.formats.signed_data import (
    broken_signature,
    exception_verdict,
    prepare,
    signature_evidence,
    verdict_signature,
)
from verify.report import DocumentReport, SignatureReport, SubIndication

__all__ = ["CmsReader"]


class CmsReader:
    """Reads CMS signatures for one :class:`~verify.engine.Engine`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def verify(
        self,
        path: str | None,
        data: bytes,
        sig: bytes,
        moment: datetime,
        *,
        enveloped: bool,
        proofs: Sequence[process.TimestampEvidence] = (),
    ) -> DocumentReport:
        """Every SignerInfo of a CMS, each over the content: ``data`` (detached) or the
        content the CMS encapsulates (enveloped, ``sig`` is then ``data``). ``proofs`` are
        timestamps found outside the CMS that prove it existed (an ASiC-E container's time
        assertions over a manifest listing it): each signature's evidence gains them, and
        they count as later proof for its own timestamps."""
        return await self._verify(path, data, sig, moment, enveloped=enveloped, proofs=proofs)

    async def verify_file(
        self,
        path: str | None,
        content: BinaryIO,
        sig: bytes,
        moment: datetime,
        *,
        size: int,
        sha256: str,
    ) -> DocumentReport:
        """A detached signature over content read from an open file piece by piece (a big
        file): pyHanko digests it in chunks, so it is never held in memory whole. ``size``
        and ``sha256`` are the content file's. Only a signature with archive timestamps
        (CAdES-B-LTA), whose imprints take the content itself, reads it whole."""
        return await self._verify(
            path, _Content(content, size, sha256), sig, moment, enveloped=False
        )

    async def _verify(
        self,
        path: str | None,
        data: bytes | _Content,
        sig: bytes,
        moment: datetime,
        *,
        enveloped: bool,
        proofs: Sequence[process.TimestampEvidence] = (),
    ) -> DocumentReport:
        def document(reports: Sequence[SignatureReport], verdict: Verdict | None) -> DocumentReport:
            if isinstance(data, _Content):
                return self.engine.document(
                    path, b"", "cms", moment, reports, verdict, (), data.sha256, size=data.size
                )
            return self.engine.document(path, data, "cms", moment, reports, verdict, ())

        try:
            raw = cms_forms.unarmor(sig)
            content_info = cms.ContentInfo.load(raw, strict=True)
            if content_info["content_type"].native != "signed_data":
                raise ValueError("not a CMS SignedData")
            content: bytes | _Content = data
            signed = content_info["content"]
            if enveloped and isinstance(data, bytes):
                content, signed = cms_forms.detach_content(signed)
            signers = self._signers(signed)
        except Exception as exc:  # noqa: BLE001 - hostile input must end in a verdict
            what_vi, what_en = (
                ("chữ ký CMS", "the CMS signature")
                if enveloped
                else ("chữ ký tách rời", "the detached signature")
            )
            v = Verdict(
                SubIndication.FORMAT_FAILURE,
                f"{what_vi} không đọc được ({short(exc)})",
                f"{what_en} cannot be read ({short(exc)})",
            )
            return document((), v)
        kind, coverage = (
            ("enveloped", "ENVELOPED_CONTENT") if enveloped else ("detached", "DETACHED_CONTENT")
        )
        reports = [
            await self._signature(
                index, content, (raw, signed_data), signer_cert, moment, kind, coverage, proofs
            )
            for index, (signed_data, signer_cert) in enumerate(signers)
        ]
        return document(reports, None)

    def _signers(
        self, signed_data: cms.SignedData
    ) -> list[tuple[cms.SignedData, x509.Certificate]]:
        """One SignedData per SignerInfo (see :func:`verify.cms_forms.one_per_signer`), each
        with its signer's certificate; ``ValueError`` past the policy's signature limit."""
        count = len(signed_data["signer_infos"])
        limit = self.engine.policy.max_signatures
        if count > limit:
            raise ValueError(f"{count} signer infos, more than the policy's limit ({limit})")
        return [
            (part, extract_certificate_info(part).signer_cert)
            for part in cms_forms.one_per_signer(signed_data)
        ]

    async def _signature(
        self,
        index: int,
        content: bytes | _Content,
        read: tuple[bytes, cms.SignedData],
        signer_cert: x509.Certificate,
        moment: datetime,
        kind: str,
        coverage: str,
        proofs: Sequence[process.TimestampEvidence] = (),
    ) -> SignatureReport:
        """One SignerInfo of a detached or enveloping CMS over ``content``: ``read`` is the
        CMS as read (its archive timestamps are over those bytes) and this signer's own
        SignedData (:func:`verify.cms_forms.one_per_signer`); ``proofs`` as for
        :meth:`verify`."""
        raw, signed_data = read
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
        vc = self.engine.context(moment, other_certs=ready.certificates, crls=crls, ocsps=ocsps)
        try:
            status = await async_validate_detached_cms(
                content.rewound() if isinstance(content, _Content) else content,
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
        if isinstance(content, _Content):
            # without the content first: only archive timestamps need it whole
            archive = await cades_archive.archive_timestamp_evidence(
                raw, index, None, vc, algorithm_policy=CMS_ALGOS
            )
            if archive:
                content = content.whole()
        if isinstance(content, bytes):
            archive = await cades_archive.archive_timestamp_evidence(
                raw, index, content, vc, algorithm_policy=CMS_ALGOS
            )
        if archive:  # read whole by now, if it was on file
            assert isinstance(content, bytes)
            archive = await self._archive_at_their_time(
                archive, (raw, index, content), moment, ready.certificates, crls, ocsps
            )
        covered_by = [
            ts.time for ts in [*archive, *proofs] if ts.time is not None and _accepted(ts)
        ]
        status = await self.engine.timestamps_at_their_time(
            status,
            moment,
            other_certs=ready.certificates,
            crls=crls,
            ocsps=ocsps,
            proven_by_later=min(covered_by) if covered_by else None,
        )
        evidence = signature_evidence(
            self.engine,
            "cms",
            status,
            signer_cert,
            signed_data["signer_infos"][0],
            others=ready.certificates,
            revocation=carried,
            extra_timestamps=[*archive, *proofs],
        )
        judgement = process.judge(evidence, self.engine.policy, moment)
        verdict, proven, revocation, chain_status = await self.engine.judge_status(
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
            level = "CAdES-B-LT"  # validation data in the SignedData (EN 319 122-1)
        if any(ts.time is not None for ts in archive):
            level = "CAdES-B-LTA"
        if not cms_forms.has_signed_attrs(signed_data):
            level = "CMS"
        report = self.engine.signature_report(
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
        if archive or proofs:
            shown = [r for r in map(evidence_report, [*archive, *proofs]) if r is not None]
            unread = [f"{ts.label} (không đọc được thời điểm)" for ts in archive if ts.time is None]
            report = replace(
                report,
                timestamps=(*report.timestamps, *shown),
                warnings=(*report.warnings, *unread),
            )
        return apply_judgement(report, judgement)

    async def _archive_at_their_time(
        self,
        archive: list[process.TimestampEvidence],
        signature: tuple[bytes, int, bytes],
        moment: datetime,
        certificates: list[x509.Certificate],
        crls: list[Any],
        ocsps: list[Any],
    ) -> list[process.TimestampEvidence]:
        """Archive timestamps whose TSA path fails now, judged newest first at their own
        time as :meth:`verify.engine.Engine.timestamp_at_its_time` judges signature and
        document timestamps: with revocation data issued after the token when the data
        carried has gone stale, or when a later trusted archive timestamp covers the token
        and was made while its TSA certificate was valid."""
        if all(_accepted(ts) or not (ts.intact and ts.valid) for ts in archive):
            return archive
        raw, index, content = signature
        tokens = [ats.token for ats in cades_archive.archive_timestamps(raw, index, content)]
        judged: list[process.TimestampEvidence] = []
        later: datetime | None = None
        for ts, token in reversed(list(zip(archive, tokens, strict=False))):
            cert = ts.tsa_cert
            if not _accepted(ts) and ts.intact and ts.valid and ts.time and cert is not None:
                in_validity = cert.not_valid_before <= moment <= cert.not_valid_after
                covered = later is not None and ts.time <= later <= cert.not_valid_after
                if in_validity or covered:
                    carried = list(cms_forms.certificates(token["content"])) if token else []
                    if await self.engine.tsa_trusted_at(
                        cert,
                        ts.time,
                        other_certs=[*certificates, *carried],
                        crls=crls,
                        ocsps=ocsps,
                    ):
                        ts = replace(ts, trusted=True)
            if _accepted(ts) and ts.time is not None:
                later = ts.time if later is None else min(later, ts.time)
            judged.append(ts)
        judged.reverse()
        return judged + archive[len(judged) :]


class _Content:
    """Detached content in an open file, read piece by piece."""

    def __init__(self, stream: BinaryIO, size: int, sha256: str) -> None:
        self.stream = stream
        self.size = size
        self.sha256 = sha256

    def rewound(self) -> BinaryIO:
        self.stream.seek(0)
        return self.stream

    def whole(self) -> bytes:
        return self.rewound().read()


def _accepted(ts: process.TimestampEvidence) -> bool:
    return ts.intact and ts.valid and ts.trusted
