"""The XMLDSig reader: Vietnamese e-invoices, tax messages and declarations.

:mod:`verify.xmldsig` reads each ``ds:Signature`` under the strict and the .NET readings,
with the wrapping checks and the roles by place; :mod:`verify.einvoice` takes the facts
from the signed elements only. Here each signature's signer certificate is checked at the
validation time (a claimed signing time proves nothing) and its evidence goes to
:mod:`verify.process` like any other format's.

A signature carrying XAdES unsigned properties (:mod:`verify.xades`) gives more evidence:
each ``SignatureTimeStamp`` and ``ArchiveTimeStamp`` token is validated with pyHanko by one
rule (its signature, its TSA's path, its imprint over the canonicalised
``ds:SignatureValue`` or over an archive timestamp's input) and becomes a signature or
archive timestamp of the process, archive timestamps newest first (a later accepted one
keeps the proof of an earlier token whose TSA certificate has expired since);
``CertificateValues`` and ``RevocationValues`` (and ``TimeStampValidationData``) go to the
validation context and to the process's revocation values (source ``XAdES``). When the
process accepts a proof of existence, the signer's certificate is checked at that time
(past signature validation), as for CMS. Without them, nothing changes.

In bulk, the judgement of a document's signers (everything after :func:`inspect_xml` and the
facts) comes from :func:`verify.fastpath.xml` when a document of the same signature
structure has been judged in full; the per-document checks are always this reader's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus

from verify import cms_forms, fastpath, process, xades
from verify.engine import (
    CMS_ALGOS,
    FAILED_SUBS,
    CertificateCheck,
    Engine,
    Verdict,
    apply_judgement,
    cert_info,
    indication_for,
    short,
    timestamp_report,
    unchain,
)
from verify.formats.signed_data import token_algorithms
from verify.identity import SignerIdentity
from verify.report import (
    DocumentReport,
    RevocationReport,
    SignatureReport,
    SubIndication,
    TimestampReport,
    sentences,
)
from verify.xmldsig import XmlSignatureCheck, XmlSignatureError, inspect_xml

__all__ = ["XmlReader"]

# Sub-indications certvalidator gives for a certificate outside its validity (it folds
# expiry into the general failure); the process names the real cause.
TIME_FOLDED = frozenset(
    {
        SubIndication.EXPIRED,
        SubIndication.OUT_OF_BOUNDS_NO_POE,
        SubIndication.NOT_YET_VALID,
        SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
        SubIndication.GENERIC,
    }
)


@dataclass(frozen=True)
class _Timestamps:
    """A signature's XAdES timestamps, validated: what the process judges, what the report
    shows, and why a token could not be validated."""

    evidence: tuple[process.TimestampEvidence, ...] = ()
    reports: tuple[TimestampReport, ...] = ()
    warnings: tuple[str, ...] = ()


class XmlReader:
    """Reads XMLDSig signatures (e-invoices, tax messages) for one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def verify(
        self,
        path: str | None,
        data: bytes,
        moment: datetime,
        *,
        proofs: Sequence[process.TimestampEvidence] = (),
    ) -> DocumentReport:
        """Every ds:Signature of the document. ``proofs`` are timestamps found outside it
        that cover the whole file (an ASiC-S container's token over an e-invoice): proof
        of existence for every signature in it, judged like the signature's own."""
        from verify.einvoice import invoice_facts

        try:
            inspection = inspect_xml(data)
        except XmlSignatureError as exc:
            v = Verdict(
                SubIndication.FORMAT_FAILURE,
                f"tệp XML không đọc được ({exc.vi[:200]})",
                f"the XML file cannot be processed ({short(exc)})",
            )
            return self.engine.document(path, data, "xml", moment, (), v, ())
        facts = invoice_facts(inspection)
        if not inspection.checks:
            doc = self.engine.document(
                path, data, "xml", moment, (), Verdict(SubIndication.NO_SIGNATURE_FOUND), ()
            )
            return replace(doc, facts=facts)

        async def full() -> DocumentReport:
            reports = []
            for index, check in enumerate(inspection.checks):
                reports.append(await self.signature_report(index, check, moment, facts, proofs))
            doc = self.engine.document(path, data, "xml", moment, reports, None, ())
            return replace(doc, facts=facts)

        if proofs:
            return await full()
        # the per-document checks are done (inspect_xml); what follows is the same for
        # every document of one signature structure: a template answers (verify.fastpath)
        return await fastpath.xml(self.engine, path, data, moment, inspection, facts, full)

    async def signature_report(
        self,
        index: int,
        check: XmlSignatureCheck,
        moment: datetime,
        facts: dict[str, Any] | None = None,
        proofs: Sequence[process.TimestampEvidence] = (),
    ) -> SignatureReport:
        """The report of one checked ds:Signature (``check``, from
        :func:`verify.xmldsig.inspect_xml`): its signer's path, trust and revocation, the
        process's constraints; ``proofs`` are timestamps from outside the signature that
        prove it existed (an ASiC container's). The ASiC reader uses it for XAdES."""
        from verify.einvoice import seller_mst_mismatch

        verdict: Verdict
        cert_check: CertificateCheck | None = None
        stamps = _Timestamps()
        proven: datetime | None = None
        if check.problems:
            # wrapping, refused transforms/algorithms/keys: never a pass, with the cause
            shown = check.problems[:3]
            verdict = Verdict(
                SubIndication.FORMAT_FAILURE,
                "; ".join(p.vi for p in shown),
                "; ".join(p.en for p in shown),
            )
        elif not check.references_ok:
            verdict = Verdict(
                SubIndication.HASH_FAILURE,
                "phần đã ký bị thay đổi: " + ", ".join(check.failed_references),
                "signed parts were changed: " + ", ".join(check.failed_references),
            )
        elif not check.signature_ok or check.signer_cert is None:
            verdict = Verdict(SubIndication.SIG_CRYPTO_FAILURE)
        else:
            if check.carries_xades or proofs:
                # the proof of existence the process accepts is the time the signer's path
                # is validated at (past signature validation); else the validation time
                stamps = await self._timestamps(check, moment)
                stamps = replace(stamps, evidence=(*stamps.evidence, *proofs))
                proven = process.proof_of_existence(
                    stamps.evidence, self.engine.policy, process.Judgement()
                )
                cert_check = await self._certificate_check(check, proven or moment, proven)
            else:
                cert_check = await self.engine.signer_check(
                    check.signer_cert, check.certificates, moment
                )
            verdict = Verdict(cert_check.sub_indication)
            if cert_check.sub_indication in TIME_FOLDED:
                # a claimed time proves nothing; only an accepted timestamp does
                offered = [
                    check.signer_cert,
                    *check.certificates,
                    *check.carried_certificates,
                    *self.engine.trust.certificates,
                ]
                oob = process.out_of_bounds(
                    unchain(cert_check.chain, offered) or [check.signer_cert], moment, proven
                )
                if oob is not None:
                    verdict = Verdict(oob.sub, oob.reason_vi, oob.reason_en)
            rules = self.engine.policy.algorithms
            algo, bits = process.key_bits(check.signer_cert)
            hashes_used = [*check.digest_algorithms]
            if check.signature_hash:
                hashes_used.append(check.signature_hash)
            verdicts = [rules.digest_verdict(h, proven) for h in hashes_used]
            verdicts.append(rules.key_verdict(algo, bits, proven))
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
                verdict = Verdict(
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
            chain = (cert_info(check.signer_cert),) if check.signer_cert is not None else ()
        mode = self.engine.policy.revocation.value
        checked = cert_check is not None and cert_check.ok and mode != "off"
        warnings = [f"{w.en} ({w.vi})." for w in check.xades_warnings]
        warnings.extend(stamps.warnings)
        if not checked and mode != "off":
            warnings.append(
                "Revocation at the signing time could not be checked "
                "(không kiểm tra được tình trạng thu hồi tại thời điểm ký)."
            )
        carried_revocation = bool(check.carried_crls or check.carried_ocsps)
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
            signing_time_proven=proven,
            timestamps=stamps.reports,
            level="XAdES-B-LTA" if check.archive_timestamps else "XMLDSig",
            coverage="REFERENCED_ELEMENTS",
            revocation=RevocationReport(
                mode, checked, ("embedded",) if checked and carried_revocation else ()
            ),
            integrity=check.intact,
            digest_algorithm=check.digest_algorithm or None,
            signature_algorithm=check.signature_algorithm or None,
            validated_at=proven or moment,
            warnings=tuple(warnings),
            role=check.role,
            covers=check.covers,
            xml_reading=check.reading,
        )
        if check.signer_cert is None or verdict.sub in FAILED_SUBS - {SubIndication.REVOKED}:
            return report
        evidence = process.SignatureEvidence(
            format="xml",
            signer_cert=check.signer_cert,
            path=tuple(
                unchain(
                    chain,
                    [
                        check.signer_cert,
                        *check.certificates,
                        *check.carried_certificates,
                        *self.engine.trust.certificates,
                    ],
                )
            )
            or (check.signer_cert,),
            other_certs=(
                *check.certificates,
                *check.carried_certificates,
                *self.engine.trust.certificates,
            ),
            claimed_time=check.claimed_signing_time,
            timestamps=stamps.evidence,
            revocation=process.Revocation(
                tuple((c, "XAdES") for c in check.carried_crls),
                tuple((o, "XAdES") for o in check.carried_ocsps),
            ),
            xml_reading=check.reading,
            role=check.role,
            covers=tuple(check.covers),
            expected_cover=check.expected_cover,
            tax_code_mismatch=seller_mst_mismatch(check, facts),
            hierarchy=profile,
        )
        return apply_judgement(report, process.judge(evidence, self.engine.policy, moment))

    async def _timestamps(self, check: XmlSignatureCheck, moment: datetime) -> _Timestamps:
        """Each XAdES archive and signature timestamp validated with pyHanko at the
        validation time: its signature, its TSA's path (with the certificates and
        revocation values the signature carries; at the token's own time when only their
        freshness fails, or when a later accepted archive timestamp covers it, see
        :meth:`Engine.timestamp_at_its_time`) and its imprint (over the canonicalised
        SignatureValue, or an archive timestamp's input, :mod:`verify.xades`).

        Archive timestamps are judged newest first: each covers the timestamps before it in
        its UnsignedSignatureProperties, so an older token whose TSA certificate has expired
        since keeps its proof when a later accepted one that covers it was made while that
        certificate was valid (a token after every archive timestamp is covered by none)."""
        evidence: list[process.TimestampEvidence] = []
        reports: list[TimestampReport] = []
        warnings: list[str] = []
        accepted: list[tuple[xades.SignatureTimestamp, datetime]] = []

        def later(stamp: xades.SignatureTimestamp) -> datetime | None:
            """The earliest accepted archive timestamp that covers ``stamp``."""
            times = [at for archive, at in accepted if stamp.covered_by(archive)]
            return min(times) if times else None

        judged: list[tuple[process.TimestampEvidence | None, TimestampReport]] = []
        for stamp in reversed(check.archive_timestamps):
            found, report = await self._token(check, stamp, moment, later(stamp), warnings)
            judged.append((found, report))
            if found is not None and found.time is not None and _accepted(found):
                accepted.append((stamp, found.time))
        judged.reverse()  # shown in document order, after the signature timestamps
        for stamp in check.signature_timestamps:
            found, report = await self._token(check, stamp, moment, later(stamp), warnings)
            if found is not None:
                evidence.append(found)
            reports.append(report)
        for found, report in judged:
            if found is not None:
                evidence.append(found)
            reports.append(report)
        return _Timestamps(tuple(evidence), tuple(reports), tuple(warnings))

    async def _token(
        self,
        check: XmlSignatureCheck,
        stamp: xades.SignatureTimestamp,
        moment: datetime,
        later: datetime | None,
        warnings: list[str],
    ) -> tuple[process.TimestampEvidence | None, TimestampReport]:
        """One XAdES timestamp token validated (the one rule for every kind): its evidence
        for the process (None when it cannot be validated at all) and its report line;
        why it proves nothing goes to ``warnings``, in both languages."""
        signed_data = stamp.token["content"]
        vi_name = _VI_KIND.get(stamp.kind, "dấu thời gian XAdES")
        carried = [*check.certificates, *check.carried_certificates]
        try:
            others = [*carried, *cms_forms.certificates(signed_data)]
            vc = self.engine.context(
                moment, other_certs=others, crls=check.carried_crls, ocsps=check.carried_ocsps
            )
            status = TimestampSignatureStatus(
                **await validate_tst_signed_data(
                    signed_data,
                    vc,
                    stamp.digest,
                    algorithm_policy=CMS_ALGOS,
                )
            )
            # carried revocation data gone stale since, or a later archive timestamp over
            # it: the TSA at the token's own time
            status = await self.engine.timestamp_at_its_time(
                status,
                moment,
                other_certs=others,
                crls=check.carried_crls,
                ocsps=check.carried_ocsps,
                proven_by_later=later,
            )
        except Exception as exc:  # noqa: BLE001 - a hostile token proves nothing
            warnings.append(
                f"The {stamp.label} cannot be validated ({short(exc)}) and proves nothing "
                f"(không kiểm tra được {vi_name}, nó không chứng minh được gì)."
            )
            return None, TimestampReport(
                kind=stamp.kind,
                time=stamp.claimed_time,
                tsa=None,
                indication=indication_for(SubIndication.FORMAT_FAILURE),
                sub_indication=SubIndication.FORMAT_FAILURE,
                message_en=f"{stamp.label} not accepted: {short(exc)}",
            )
        intact = bool(status.intact) and _imprint_matches(stamp)
        if not intact:
            what_en = (
                "this signature's SignatureValue"
                if stamp.kind == "signature"
                else "this signature, its signed data and the properties before it"
            )
            what_vi = (
                "SignatureValue của chữ ký này"
                if stamp.kind == "signature"
                else "chữ ký này, dữ liệu đã ký và các thuộc tính trước nó"
            )
            warnings.append(
                f"The {stamp.label} ({status.timestamp:%Y-%m-%d %H:%M} UTC) is not over "
                f"{what_en} (its message imprint does not match: something it covers was "
                f"changed) and proves nothing ({vi_name} lúc {status.timestamp:%Y-%m-%d %H:%M} "
                f"UTC không khớp với {what_vi} (giá trị băm không khớp: phần nó bảo vệ đã bị "
                "thay đổi), nó không chứng minh được gì)."
            )
        found = process.TimestampEvidence(
            kind=stamp.kind,
            time=status.timestamp,
            intact=intact,
            valid=bool(status.valid),
            trusted=bool(status.trusted),
            tsa_cert=status.signing_cert,
            digest_algorithms=token_algorithms(signed_data),
            label=stamp.label,
        )
        report = timestamp_report(stamp.kind, status, intact=intact)
        if not intact:
            report = replace(report, message_en=f"{stamp.label}: message imprint does not match")
        return found, report

    async def _certificate_check(
        self, check: XmlSignatureCheck, at: datetime, proven: datetime | None
    ) -> CertificateCheck:
        """The signer's certificate checked at ``at`` (the proven time, or the validation
        time) with the certificates and revocation values the signature carries; revocation
        data issued after a proven time speaks of it (past signature validation)."""
        cert = check.signer_cert
        if cert is None:  # pragma: no cover - the caller checked
            raise ValueError("no signer certificate")
        return await self.engine.acheck_certificate(
            cert,
            [*check.certificates, *check.carried_certificates],
            at=at,
            crls=check.carried_crls,
            ocsps=check.carried_ocsps,
            retroactive=proven is not None,
        )


_VI_KIND = {
    "signature": "dấu thời gian chữ ký XAdES",
    "archive": "dấu thời gian lưu trữ XAdES",
}


def _accepted(ts: process.TimestampEvidence) -> bool:
    return ts.intact and ts.valid and ts.trusted


def _imprint_matches(stamp: xades.SignatureTimestamp) -> bool:
    return xades.imprint_matches(stamp)
