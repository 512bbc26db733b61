"""The PDF reader: every signature field, document timestamp, DSS and later revision.

It walks the signature fields itself (pyHanko skips a SubFilter it does not know, and a
careless verifier would then call the rest "all valid"), reads the DSS, validates every
document timestamp once (proof of existence for the revisions before it), and for each
signature hands pyHanko's integrity, CMS and difference-analysis results to
:mod:`verify.process` as evidence. What a later revision changed is compared on the
rendered pages (:mod:`verify.visual`) whenever anything drawn changed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, BinaryIO, Protocol

from asn1crypto import cms, x509
from pyhanko.pdf_utils import misc as pdf_misc
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.general import extract_certificate_info
from pyhanko.sign.validation import (
    async_validate_detached_cms,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, StandardCMSSignatureStatus

from verify import cms_forms, process
from verify.diffrules import DIFF_POLICY
from verify.engine import (
    ANY_USAGE,
    CMS_ALGOS,
    Engine,
    Verdict,
    apply_judgement,
    cert_info,
    common_name,
    failed_report,
    path_certs,
    short,
    sub_of,
)
from verify.formats.signed_data import (
    broken_signature,
    doubled_attrs,
    exception_verdict,
    prepare,
    signature_evidence,
    token_algorithms,
    verdict_signature,
)
from verify.pdfopen import open_pdf
from verify.report import (
    DocumentReport,
    Indication,
    RevocationReport,
    SignatureReport,
    SubIndication,
    sentences,
)
from verify.visual import (
    changed_annotations,
    field_changes,
    filled_note,
    oversized_update,
    visual_check,
)

__all__ = ["SUPPORTED_SUBFILTERS", "PdfReader", "looks_like_pdf"]

_STARTXREF = re.compile(rb"startxref\s+(\d+)")

SUPPORTED_SUBFILTERS = frozenset(
    {"/adbe.pkcs7.detached", "/adbe.pkcs7.sha1", "/ETSI.CAdES.detached", "/ETSI.RFC3161"}
)


def looks_like_pdf(data: bytes) -> bool:
    """A PDF header at the start (or within the first KiB, as readers tolerate)."""
    return data.lstrip()[:5].startswith(b"%PDF-") or b"%PDF-" in data[:1024]


class PdfReader:
    """Reads PDF signatures and document timestamps for one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def verify(self, path: str | None, data: bytes, moment: datetime) -> DocumentReport:
        return await self._verify(path, _InMemory(data), moment)

    async def verify_file(
        self, path: str, stream: BinaryIO, moment: datetime, *, size: int, sha256: str
    ) -> DocumentReport:
        """A PDF read from an open file piece by piece (a big scan): pyHanko reads its
        objects where they lie and hashes each signature's byte ranges in chunks, so the
        file is never held in memory whole. ``size`` and ``sha256`` are the file's, hashed
        by the caller as it was read. The same checks as :meth:`verify`; only comparing
        the pages after form filling reads the whole file (a big form is rare)."""
        return await self._verify(path, _OnFile(stream, size, sha256), moment)

    async def _verify(self, path: str | None, doc: _Document, moment: datetime) -> DocumentReport:
        def document(
            fmt: str,
            reports: Sequence[SignatureReport],
            verdict: Verdict | None,
            warnings: Sequence[str] = (),
        ) -> DocumentReport:
            return doc.report(self.engine, path, fmt, moment, reports, verdict, warnings)

        if not looks_like_pdf(doc.head):
            v = Verdict(
                SubIndication.FORMAT_FAILURE,
                "tệp không phải là PDF hay chữ ký CMS",
                "the file is neither a PDF nor a CMS signature",
            )
            return document("unknown", (), v)
        reader = doc.open()
        doc_warnings: list[str] = []
        if reader.encrypted:
            opened, doc_warnings = _opens_without_password(reader)
            if not opened:
                return document("pdf", (), Verdict(SubIndication.ENCRYPTED))
        # Our own walk over the signature fields: pyHanko skips (with a log line) any
        # signature whose SubFilter it does not know, and a careless verifier would then
        # call the rest "all valid". Every filled signature field gets a report here.
        embedded: list[EmbeddedPdfSignature] = []
        odd: list[SignatureReport] = []
        plain_ecdsa: dict[int, str] = {}  # id(emb) -> the plain-ECDSA algorithm's name
        for count, (fq_name, sig_obj, sig_field) in enumerate(
            enumerate_sig_fields(reader, filled_status=True), start=1
        ):
            if count > self.engine.policy.max_signatures:
                v = Verdict(
                    SubIndication.FORMAT_FAILURE,
                    f"tài liệu có hơn {self.engine.policy.max_signatures} chữ ký "
                    "(giới hạn của chính sách)",
                    f"the document has more than {self.engine.policy.max_signatures} signatures "
                    "(the policy's limit)",
                )
                return document("pdf", (), v)
            sub_filter: str | None = None
            try:
                sub_filter = str(sig_obj.get_object().get("/SubFilter", "")) or None
                if sub_filter not in SUPPORTED_SUBFILTERS:
                    odd.append(_unsupported_subfilter(-1, fq_name, sub_filter))
                    continue
                emb = EmbeddedPdfSignature(reader, sig_field, fq_name)
                problem = _byte_range_problem(emb, doc.size)
                if problem is not None:
                    raise ValueError(problem)
                _ = emb.signed_revision  # reads /ByteRange: broken ones fail here
                plain = _plain_ecdsa_as_der(emb)
                if plain is not None:
                    plain_ecdsa[id(emb)] = plain
                embedded.append(emb)
            except Exception as exc:  # noqa: BLE001 - a broken signature still gets a report
                odd.append(broken_signature(-1, fq_name, sub_filter, exc))
        if not embedded and not odd:
            return document("pdf", (), Verdict(SubIndication.NO_SIGNATURE_FOUND))
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
            report = self._form_filling_check(report, emb, doc)
            hidden = doc.hidden_update(reader, _signed_end(emb))
            if hidden is not None and report.indication is not Indication.TOTAL_FAILED:
                report = failed_report(
                    report,
                    "sau phần đã ký có nội dung mà bảng tham chiếu chéo không tính đến "
                    f"(một bản cập nhật bị che giấu): {hidden}",
                    "after the signed part there are bytes the cross-reference chain does not "
                    f"account for (a hidden update): {hidden}",
                )
            reports.append(report)
        for extra in odd:
            reports.append(replace(extra, index=len(reports)))
        return document("pdf", reports, None, warnings)

    async def _judge_embedded(
        self,
        emb: EmbeddedPdfSignature,
        status: PdfSignatureStatus,
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
        tuple[Verdict, datetime | None, RevocationReport, StandardCMSSignatureStatus],
        PdfSignatureStatus,
    ]:
        """A PDF signature's evidence judged by the process, then its path validated at the
        proof of existence the process accepted (the document timestamps after it count).
        Also gives back ``status`` with its timestamps judged at their own time
        (:meth:`verify.engine.Engine.timestamps_at_their_time`)."""
        dss_crls, dss_ocsps = dss
        crls = [*dss_crls, *(c for c, _src in revocation.crls)]
        ocsps = [*dss_ocsps, *(o for o, _src in revocation.ocsps)]
        later_doc_ts = [
            ts
            for other, ts in doc_ts_evidence
            if other.signed_revision > emb.signed_revision and other is not emb
        ]
        covered_by = [
            ts.time
            for ts in later_doc_ts
            if ts.time is not None and ts.intact and ts.valid and ts.trusted
        ]
        status = await self.engine.timestamps_at_their_time(
            status,
            moment,
            other_certs=others,
            crls=crls,
            ocsps=ocsps,
            proven_by_later=min(covered_by) if covered_by else None,
        )
        dss_revocation = process.Revocation(
            tuple((c, "DSS") for c in dss_crls), tuple((o, "DSS") for o in dss_ocsps)
        )
        evidence = signature_evidence(
            self.engine,
            "pdf",
            status,
            signer_cert,
            signer_info,
            others=others,
            revocation=revocation + dss_revocation,
            extra_timestamps=later_doc_ts,
        )
        evidence = replace(evidence, changes_not_analysed=not_analysed)
        judgement = process.judge(evidence, self.engine.policy, moment)
        judged = await self.engine.judge_status(
            status,
            signer_cert,
            moment,
            proven=judgement.proven,
            other_certs=others,
            crls=crls,
            ocsps=ocsps,
        )
        return judgement, judged, status

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
        they hold). They are judged newest first: a trusted later document timestamp is a
        proof of existence for the earlier tokens (an archive timestamp chain), so an
        earlier TSA certificate that has since expired does not take their proof away
        (see :meth:`verify.engine.Engine.timestamp_at_its_time`)."""
        statuses: dict[int, Any] = {}
        evidence: list[tuple[EmbeddedPdfSignature, process.TimestampEvidence]] = []
        stamps = [e for e in embedded if e.sig_object_type == "/DocTimeStamp"]
        later: datetime | None = None  # the earliest trusted token after this one
        for emb in sorted(stamps, key=lambda e: e.signed_revision, reverse=True):
            try:
                certs = list(cms_forms.certificates(emb.signed_data))
                vc = self.engine.context(
                    moment, other_certs=[*dss_certs, *certs], crls=dss_crls, ocsps=dss_ocsps
                )
                st = await async_validate_pdf_timestamp(emb, validation_context=vc)
                st = await self.engine.timestamp_at_its_time(
                    st,
                    moment,
                    other_certs=[*dss_certs, *certs],
                    crls=dss_crls,
                    ocsps=dss_ocsps,
                    proven_by_later=later,
                )
            except Exception:  # noqa: BLE001, S112 - its own report will say what is wrong
                continue
            statuses[id(emb)] = st
            if st.trusted and st.intact and st.valid and st.timestamp is not None:
                later = st.timestamp if later is None else min(later, st.timestamp)
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
                        digest_algorithms=token_algorithms(emb.signed_data),
                        label=f"document timestamp {emb.field_name}",
                    ),
                )
            )
        evidence.reverse()
        return statuses, evidence

    def _form_filling_check(
        self, report: SignatureReport, emb: EmbeddedPdfSignature, doc: _Document
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
            warning = f"The changed form fields could not be listed ({short(exc)})."
            return replace(report, warnings=(*report.warnings, warning))
        note = filled_note(changes)
        warnings = list(report.warnings) if note is None else [*report.warnings, note]
        report = replace(report, warnings=tuple(warnings))
        if report.indication is Indication.TOTAL_FAILED:
            return report
        try:
            too_big = oversized_update(emb.reader, emb.signed_revision)
        except Exception as exc:  # noqa: BLE001 - judged as too big: nothing was compared
            too_big = short(exc)
        if too_big is not None:
            return failed_report(
                report,
                f"không so sánh được nội dung hiển thị sau khi điền biểu mẫu ({too_big})",
                f"what the filled form shows cannot be compared ({too_big})",
            )
        try:
            permitted = (
                changed_annotations(emb.reader, emb.signed_revision)
                if report.modifications == "ANNOTATIONS"
                else ()
            )
            data = doc.whole()
            findings = visual_check(data[: _signed_end(emb)], data, changes, permitted)
        except Exception as exc:  # noqa: BLE001 - a page PDFium cannot draw is not a pass
            findings = []
            warning = f"The signed and final pages could not be compared ({short(exc)})."
            report = replace(report, warnings=(*report.warnings, warning))
        if not findings:
            return report
        return failed_report(
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
            return broken_signature(index, field_name, sub_filter, exc)

        if sub_filter not in SUPPORTED_SUBFILTERS or (is_doc_ts != (sub_filter == "/ETSI.RFC3161")):
            return _unsupported_subfilter(index, field_name, sub_filter)

        try:
            signer_cert = emb.signer_cert
        except Exception as exc:  # noqa: BLE001
            early = doubled_attrs(emb.signer_info) or exception_verdict(exc)
            if early is not None:
                return verdict_signature(index, field_name, sub_filter, early)
            return broken_signature(index, field_name, sub_filter, exc)

        cms_warnings: list[str] = []
        embedded_certs = list(cms_forms.certificates(emb.signed_data))
        if not is_doc_ts:
            try:
                ready = prepare(
                    emb.signed_data, signer_cert, baseline=sub_filter == "/ETSI.CAdES.detached"
                )
            except Exception as exc:  # noqa: BLE001 - a broken signature still gets a report
                return broken_signature(index, field_name, sub_filter, exc)
            if ready.problem is not None:
                return verdict_signature(index, field_name, sub_filter, ready.problem)
            cms_warnings, embedded_certs = ready.warnings, ready.certificates
            if ready.signed_data is not emb.signed_data:
                emb.signed_data = ready.signed_data
                emb._sd_cert_info = None  # pyHanko re-reads the signer from the pruned set
        carried = process.revocation_values(emb.signed_data, "CMS")
        crls = [*dss_crls, *(c for c, _src in carried.crls)]
        ocsps = [*dss_ocsps, *(o for o, _src in carried.ocsps)]
        vc = self.engine.context(
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
                key_usage_settings=ANY_USAGE,
                algorithm_policy=CMS_ALGOS,
                diff_policy=DIFF_POLICY,
            )
        except Exception as exc:  # noqa: BLE001
            indeterminate = exception_verdict(exc)
            if indeterminate is not None:
                return verdict_signature(index, field_name, sub_filter, indeterminate)
            # pyHanko's difference analysis may raise on a later revision it cannot read
            # (an undefined object, a missing endstream): the signature's own integrity
            # is still a fact, and what changed after it is "not analysed", judged by
            # the policy's pdf_changes_analysed constraint, never a format failure
            try:
                status = await async_validate_pdf_signature(
                    emb,
                    signer_validation_context=vc,
                    ts_validation_context=vc,
                    key_usage_settings=ANY_USAGE,
                    algorithm_policy=CMS_ALGOS,
                    skip_diff=True,
                )
            except Exception:  # noqa: BLE001 - the first failure is the one to report
                return broken_signature(index, field_name, sub_filter, exc)
            not_analysed = short(exc)

        return await self._judged_report(
            index,
            emb,
            status,
            (signer_cert, emb.signer_info),
            moment,
            field_name=field_name,
            sub_filter=sub_filter,
            others=[*dss_certs, *embedded_certs],
            carried=carried,
            dss=(dss_crls, dss_ocsps),
            doc_ts_evidence=doc_ts_evidence,
            not_analysed=not_analysed,
            warnings=cms_warnings,
            all_sigs=all_sigs,
        )

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
            ready = prepare(signed_data, signer_cert, baseline=False)
            byte_range_sha1 = emb.compute_digest("sha1")
        except Exception as exc:  # noqa: BLE001 - a broken signature still gets a report
            return broken_signature(index, field_name, sub_filter, exc)
        if ready.problem is not None:
            return verdict_signature(index, field_name, sub_filter, ready.problem)
        signed_data, embedded_certs = ready.signed_data, ready.certificates
        cms_warnings, carried = ready.warnings, ready.revocation
        crls = [*dss_crls, *(c for c, _src in carried.crls)]
        ocsps = [*dss_ocsps, *(o for o, _src in carried.ocsps)]
        vc = self.engine.context(
            moment, other_certs=[*dss_certs, *embedded_certs], crls=crls, ocsps=ocsps
        )
        not_analysed: str | None = None
        try:
            cms_status = await async_validate_detached_cms(
                content,
                signed_data,
                signer_validation_context=vc,
                ts_validation_context=vc,
                key_usage_settings=ANY_USAGE,
                algorithm_policy=CMS_ALGOS,
            )
        except Exception as exc:  # noqa: BLE001
            early = exception_verdict(exc)
            if early is not None:
                return verdict_signature(index, field_name, sub_filter, early)
            return broken_signature(index, field_name, sub_filter, exc)
        try:
            emb.compute_integrity_info(diff_policy=DIFF_POLICY)  # type: ignore[no-untyped-call]
        except Exception as exc:  # noqa: BLE001 - judged as "not analysed", as for others
            not_analysed = short(exc)
            try:
                emb.compute_integrity_info(skip_diff=True)  # type: ignore[no-untyped-call]
            except Exception:  # noqa: BLE001 - the first failure is the one to report
                return broken_signature(index, field_name, sub_filter, exc)
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

        report = await self._judged_report(
            index,
            emb,
            status,
            (signer_cert, signed_data["signer_infos"][0]),
            moment,
            field_name=field_name,
            sub_filter=sub_filter,
            others=[*dss_certs, *embedded_certs],
            carried=carried,
            dss=(dss_crls, dss_ocsps),
            doc_ts_evidence=doc_ts_evidence,
            not_analysed=not_analysed,
            warnings=cms_warnings,
            all_sigs=all_sigs,
        )
        return replace(report, signature_algorithm=plain) if plain is not None else report

    async def _judged_report(
        self,
        index: int,
        emb: EmbeddedPdfSignature,
        status: PdfSignatureStatus,
        signer: tuple[x509.Certificate, cms.SignerInfo],
        moment: datetime,
        *,
        field_name: str | None,
        sub_filter: str | None,
        others: list[x509.Certificate],
        carried: process.Revocation,
        dss: tuple[list[Any], list[Any]],
        doc_ts_evidence: Sequence[tuple[EmbeddedPdfSignature, process.TimestampEvidence]],
        not_analysed: str | None,
        warnings: list[str],
        all_sigs: list[EmbeddedPdfSignature],
    ) -> SignatureReport:
        """A PDF signature's report once pyHanko has validated it (``adbe.pkcs7.sha1`` and
        the others alike): the process's judgement, the path at the proven time, what
        changed after it, its level."""
        signer_cert, signer_info = signer
        dss_crls, dss_ocsps = dss
        judged = await self._judge_embedded(
            emb,
            status,
            signer_cert,
            signer_info,
            moment,
            others=others,
            revocation=carried,
            dss=dss,
            doc_ts_evidence=doc_ts_evidence,
            not_analysed=not_analysed,
        )
        judgement, (verdict, proven, revocation, chain_status), status = judged
        warnings = list(warnings)
        if verdict.sub is None or verdict.indication is not Indication.TOTAL_FAILED:
            mod_verdict = _modification_verdict(status)
            if mod_verdict is not None:
                verdict = mod_verdict
        if status.modification_level is ModificationLevel.FORM_FILLING:
            warnings.append(
                "Form fields were filled in after this signature (allowed by the document's "
                "permissions); check the filled values."
            )
        report = self.engine.signature_report(
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
        return apply_judgement(report, judgement)

    def _doc_timestamp_report(
        self,
        index: int,
        field_name: str | None,
        sub_filter: str | None,
        emb: EmbeddedPdfSignature,
        st: Any,
    ) -> SignatureReport:
        verdict: Verdict
        if not st.intact:
            verdict = Verdict(SubIndication.HASH_FAILURE)
        elif not st.valid:
            verdict = Verdict(SubIndication.SIG_CRYPTO_FAILURE)
        elif not st.trusted:
            verdict = Verdict(
                sub_of(st.trust_problem_indic)
                if st.trust_problem_indic
                else SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
                "dấu thời gian không do đơn vị cấp dấu thời gian được tin cậy cấp",
                "the timestamp is not from a trusted timestamp authority",
            )
        else:
            verdict = _modification_verdict(st) or Verdict(None)
        vi, en = sentences(verdict.sub, verdict.reason_vi, verdict.reason_en)
        if verdict.sub is None:
            vi = "Dấu thời gian tài liệu hợp lệ."
            en = "The document timestamp is valid."
        tsa = common_name(st.signing_cert)
        return SignatureReport(
            index=index,
            kind="document_timestamp",
            field_name=field_name,
            indication=verdict.indication,
            sub_indication=verdict.sub,
            message_vi=vi,
            message_en=en,
            signer={"name": tsa, "kind": "timestamp_authority"},
            chain=tuple(cert_info(c) for c in path_certs(st)),
            signing_time_proven=st.timestamp,
            coverage=st.coverage.name if st.coverage is not None else None,
            modifications=_modification_label(st),
            integrity=bool(st.intact and st.valid),
            digest_algorithm=st.md_algorithm,
            sub_filter=sub_filter,
            level="DOC-TS",
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


def _modification_verdict(st: Any) -> Verdict | None:
    docmdp_ok = getattr(st, "docmdp_ok", None)
    level = getattr(st, "modification_level", None)
    if level is ModificationLevel.OTHER or docmdp_ok is False:
        return Verdict(
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
    """The PAdES baseline level a signature reached (ETSI EN 319 142-1): B-T by its own
    signature timestamp or, failing that, a later document timestamp; B-LT with validation
    data in the DSS; B-LTA with a document timestamp over that (one more when the first
    document timestamp stood in for the signature timestamp)."""
    sub_filter = str(emb.sig_object.get("/SubFilter", ""))
    if sub_filter != "/ETSI.CAdES.detached":
        return "PKCS7-T" if status.timestamp_validity is not None else "PKCS7"
    later_doc_ts = sum(
        1
        for s in all_sigs
        if s.sig_object_type == "/DocTimeStamp" and s.signed_revision > emb.signed_revision
    )
    own = status.timestamp_validity is not None
    if not own and not later_doc_ts:
        return "PAdES-B-B"
    if not has_dss_revinfo:
        return "PAdES-B-T"
    return "PAdES-B-LTA" if later_doc_ts >= (1 if own else 2) else "PAdES-B-LT"


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
    known = _known_startxrefs(reader)
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


def _signed_end(emb: EmbeddedPdfSignature) -> int:
    o2, l2 = (int(x) for x in list(emb.byte_range)[2:4])
    return o2 + l2


_HEAD = 4096
"""Bytes read from the start of a file to tell what it is."""

_CHUNK = 1 << 20
"""Bytes read at a time from a file read piece by piece."""

_OVERLAP = 4096
"""Bytes each piece repeats of the one before, so a keyword across two is still found."""


class _Document(Protocol):
    """The PDF being read: its bytes in memory, or an open file read piece by piece."""

    @property
    def head(self) -> bytes: ...

    @property
    def size(self) -> int: ...

    def open(self) -> PdfFileReader: ...

    def whole(self) -> bytes: ...

    def hidden_update(self, reader: PdfFileReader, signed_end: int) -> str | None: ...

    def report(
        self,
        engine: Engine,
        path: str | None,
        fmt: str,
        moment: datetime,
        signatures: Sequence[SignatureReport],
        verdict: Verdict | None,
        warnings: Sequence[str],
    ) -> DocumentReport: ...


class _InMemory:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.head = data  # looks_like_pdf reads what it needs
        self.size = len(data)

    def open(self) -> PdfFileReader:
        return open_pdf(self.data)

    def whole(self) -> bytes:
        return self.data

    def hidden_update(self, reader: PdfFileReader, signed_end: int) -> str | None:
        return _hidden_update(reader, self.data, signed_end)

    def report(
        self,
        engine: Engine,
        path: str | None,
        fmt: str,
        moment: datetime,
        signatures: Sequence[SignatureReport],
        verdict: Verdict | None,
        warnings: Sequence[str],
    ) -> DocumentReport:
        return engine.document(path, self.data, fmt, moment, signatures, verdict, warnings)


class _OnFile:
    def __init__(self, stream: BinaryIO, size: int, sha256: str) -> None:
        self.stream = stream
        self.size = size
        self.sha256 = sha256
        stream.seek(0)
        self.head = stream.read(_HEAD)

    def open(self) -> PdfFileReader:
        self.stream.seek(0)
        try:
            return PdfFileReader(self.stream, strict=False)
        except (pdf_misc.PdfReadError, ValueError):
            # a broken cross-reference chain: verify.pdfopen repairs it over the bytes
            return open_pdf(self.whole())

    def whole(self) -> bytes:
        self.stream.seek(0)
        return self.stream.read()

    def _pieces(self, start: int) -> Iterator[tuple[int, bytes]]:
        """(offset, bytes) pieces from ``start`` to the end, each repeating the last
        :data:`_OVERLAP` bytes of the one before."""
        pos = start
        while pos < self.size:
            begin = max(start, pos - _OVERLAP)
            self.stream.seek(begin)
            piece = self.stream.read(pos + _CHUNK - begin)
            if not piece:
                return
            yield begin, piece
            pos = begin + len(piece)

    def hidden_update(self, reader: PdfFileReader, signed_end: int) -> str | None:
        """:func:`_hidden_update` over the file, a piece at a time."""
        if all(
            not piece.translate(None, b" \t\r\n\x00%EOF") for _at, piece in self._pieces(signed_end)
        ):
            return None
        known = _known_startxrefs(reader)
        seen: set[int] = set()
        for at, piece in self._pieces(signed_end):
            for m in _STARTXREF.finditer(piece):
                where = at + m.start()
                if where in seen or (m.end() == len(piece) and at + len(piece) < self.size):
                    continue  # found again in the overlap, or cut at the piece's end
                seen.add(where)
                if int(m.group(1)) not in known:
                    return (
                        f"an update at byte {where} points at a cross-reference "
                        f"section ({int(m.group(1))}) that the document's chain skips"
                    )
        last_eof = self._last_eof()
        if last_eof >= 0 and any(
            piece[max(0, last_eof + 5 - at) :].strip(b" \t\r\n\x00")
            for at, piece in self._pieces(last_eof + 5)
        ):
            return f"{self.size - last_eof - 5} bytes follow the last %%EOF"
        return None

    def _last_eof(self) -> int:
        """Where the last ``%%EOF`` of the file starts, or -1."""
        end = self.size
        while end > 0:
            begin = max(0, end - _CHUNK)
            self.stream.seek(begin)
            piece = self.stream.read(min(self.size, end + 4) - begin)
            found = piece.rfind(b"%%EOF")
            if found >= 0:
                return begin + found
            end = begin
        return -1

    def report(
        self,
        engine: Engine,
        path: str | None,
        fmt: str,
        moment: datetime,
        signatures: Sequence[SignatureReport],
        verdict: Verdict | None,
        warnings: Sequence[str],
    ) -> DocumentReport:
        return engine.document(
            path, b"", fmt, moment, signatures, verdict, warnings, self.sha256, size=self.size
        )


def _known_startxrefs(reader: PdfFileReader) -> set[int]:
    xrefs = reader.xrefs
    known: set[int] = set()
    for rev in range(xrefs.total_revisions):
        meta = xrefs.get_xref_container_info(rev)
        known.update({meta.declared_startxref, meta.start_location})
    return known
