"""The XMLDSig reader: Vietnamese e-invoices, tax messages and declarations.

:mod:`verify.xmldsig` reads each ``ds:Signature`` under the strict and the .NET readings,
with the wrapping checks and the roles by place; :mod:`verify.einvoice` takes the facts
from the signed elements only. Here each signature's signer certificate is checked at the
validation time (an XML signature carries no timestamp, so a claimed time proves nothing)
and its evidence goes to :mod:`verify.process` like any other format's.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from verify import process
from verify.engine import (
    FAILED_SUBS,
    CertificateCheck,
    Engine,
    Verdict,
    apply_judgement,
    cert_info,
    short,
    unchain,
)
from verify.identity import SignerIdentity
from verify.report import (
    DocumentReport,
    RevocationReport,
    SignatureReport,
    SubIndication,
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


class XmlReader:
    """Reads XMLDSig signatures (e-invoices, tax messages) for one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def verify(self, path: str | None, data: bytes, moment: datetime) -> DocumentReport:
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
        reports = []
        for index, check in enumerate(inspection.checks):
            reports.append(await self._signature_report(index, check, moment, facts))
        doc = self.engine.document(path, data, "xml", moment, reports, None, ())
        return replace(doc, facts=facts)

    async def _signature_report(
        self,
        index: int,
        check: XmlSignatureCheck,
        moment: datetime,
        facts: dict[str, Any] | None = None,
    ) -> SignatureReport:
        from verify.einvoice import seller_mst_mismatch

        verdict: Verdict
        cert_check: CertificateCheck | None = None
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
            cert_check = await self.engine.signer_check(
                check.signer_cert, check.certificates, moment
            )
            verdict = Verdict(cert_check.sub_indication)
            if cert_check.sub_indication in TIME_FOLDED:
                # an XML signature carries no timestamp: a claimed time proves nothing
                offered = [check.signer_cert, *check.certificates, *self.engine.trust.certificates]
                oob = process.out_of_bounds(
                    unchain(cert_check.chain, offered) or [check.signer_cert], moment, None
                )
                if oob is not None:
                    verdict = Verdict(oob.sub, oob.reason_vi, oob.reason_en)
            rules = self.engine.policy.algorithms
            algo, bits = process.key_bits(check.signer_cert)
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
        if check.signer_cert is None or verdict.sub in FAILED_SUBS - {SubIndication.REVOKED}:
            return report
        evidence = process.SignatureEvidence(
            format="xml",
            signer_cert=check.signer_cert,
            path=tuple(
                unchain(
                    chain, [check.signer_cert, *check.certificates, *self.engine.trust.certificates]
                )
            )
            or (check.signer_cert,),
            other_certs=(*check.certificates, *self.engine.trust.certificates),
            claimed_time=check.claimed_signing_time,
            xml_reading=check.reading,
            role=check.role,
            covers=tuple(check.covers),
            expected_cover=check.expected_cover,
            tax_code_mismatch=seller_mst_mismatch(check, facts),
            hierarchy=profile,
        )
        return apply_judgement(report, process.judge(evidence, self.engine.policy, moment))
